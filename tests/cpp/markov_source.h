// A BatchSource for the trainer's tests: an order-1 Markov chain over `vocab` tokens with peaked
// random transition rows, whose entropy rate H = Σ_i π_i·H(P_i·) is computed exactly here (π the
// stationary distribution, by power iteration). Rows are consecutive stretches of one long chain.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "data/batch_source.h"
#include "model/rng.h"

namespace scalelab::testing {

class MarkovSource : public data::BatchSource {
 public:
  // The chain is fixed by chain_seed; the sample path by sample_seed (train and held-out differ).
  MarkovSource(int64_t vocab, int64_t seq_len, int64_t batch, uint64_t chain_seed, uint64_t sample_seed,
               double sharpness = 3.0)
      : vocab_(vocab), seq_len_(seq_len), batch_(batch), rng_(sample_seed) {
    model::Rng chain(chain_seed);
    transitions_.assign(static_cast<size_t>(vocab * vocab), 0.0);
    for (int64_t i = 0; i < vocab; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < vocab; ++j) {
        const double w = std::exp(sharpness * chain.normal());
        transitions_[i * vocab + j] = w;
        sum += w;
      }
      for (int64_t j = 0; j < vocab; ++j) transitions_[i * vocab + j] /= sum;
    }
    std::vector<double> pi(vocab, 1.0 / static_cast<double>(vocab)), next(vocab);
    for (int it = 0; it < 5000; ++it) {
      std::fill(next.begin(), next.end(), 0.0);
      for (int64_t i = 0; i < vocab; ++i)
        for (int64_t j = 0; j < vocab; ++j) next[j] += pi[i] * transitions_[i * vocab + j];
      pi = next;
    }
    entropy_ = 0;
    for (int64_t i = 0; i < vocab; ++i)
      for (int64_t j = 0; j < vocab; ++j) {
        const double p = transitions_[i * vocab + j];
        if (p > 0) entropy_ -= pi[i] * p * std::log(p);
      }
    current_ = static_cast<int32_t>(rng_.next() % static_cast<uint64_t>(vocab));
  }

  double entropy_per_token() const { return entropy_; }

  int64_t vocab() const override { return vocab_; }
  int64_t seq_len() const override { return seq_len_; }
  int64_t batch() const override { return batch_; }

  void next_batch(std::vector<int32_t>& tokens) override {
    tokens.resize(static_cast<size_t>(batch_ * (seq_len_ + 1)));
    for (int64_t b = 0; b < batch_; ++b)
      for (int64_t t = 0; t <= seq_len_; ++t) {
        tokens[b * (seq_len_ + 1) + t] = current_;
        if (t < seq_len_) current_ = step(current_);  // rows overlap by one token, like a sampler
      }
  }

  std::string state() const override {
    return std::to_string(rng_.state) + " " + std::to_string(current_);
  }
  void restore(const std::string& state) override {
    const size_t space = state.find(' ');
    rng_.state = std::stoull(state.substr(0, space));
    current_ = static_cast<int32_t>(std::stol(state.substr(space + 1)));
  }

 private:
  int32_t step(int32_t from) {
    double u = rng_.uniform();
    const double* row = transitions_.data() + from * vocab_;
    for (int64_t j = 0; j < vocab_ - 1; ++j) {
      if (u < row[j]) return static_cast<int32_t>(j);
      u -= row[j];
    }
    return static_cast<int32_t>(vocab_ - 1);
  }

  int64_t vocab_, seq_len_, batch_;
  std::vector<double> transitions_;
  double entropy_ = 0;
  model::Rng rng_;
  int32_t current_ = 0;
};

}  // namespace scalelab::testing
