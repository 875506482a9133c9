// Synthetic token sources whose entropy rate is known exactly, so the irreducible loss E of a
// study is known and a fitted E can be checked. Every quantity here is in nats per token.
//
// MarkovSource: a random order-k Markov chain over V tokens. Each of the V^k states (the last k
//   tokens) draws `support` distinct successor tokens in a random order and gives rank r the
//   Zipf weight (r + 1)^(−a_s), with the exponent a_s drawn per state from `profiles` levels evenly
//   spaced over [zipf − spread, zipf + spread]; a floor ε spreads mass ε uniformly over all V tokens,
//   which makes the chain irreducible and aperiodic:
//     p(t | s) = (1 − ε)·z_{a_s}(rank_s(t)) + ε / V.
//   The entropy rate is H = Σ_s π(s)·H(p(· | s)) with π the stationary distribution, computed by
//   power iteration to 1e-13 in L1 norm. Generated text starts in a state drawn from π, so the
//   stream is stationary from its first token.
//
// GrammarSource: a random probabilistic context-free grammar in simple-deterministic (Greibach)
//   form: each nonterminal A has rules A → a_r X_1 … X_m whose leading terminals a_r are distinct
//   among A's rules, body symbols being terminals or nonterminals. A string therefore determines its
//   derivation (a top-down parser reads it deterministically) and the sentence language is
//   prefix-free, so a stream of independent sentences has entropy rate
//     H = Σ_A n_A·H(rules of A) / Σ_A n_A·E[terminals of a rule of A],
//   with n = e_S (I − M)^(-1) the expected number of expansions of each nonterminal (M the expected
//   offspring matrix, spectral radius < 1 enforced). Nesting depth makes long-range, hierarchical
//   structure that small models learn gradually.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/corpus.h"
#include "data/rng.h"

namespace scalelab::data {

struct MarkovOptions {
  int64_t vocab = 256;
  int order = 2;          // k: the state is the last k tokens (V^k states); 0 is i.i.d.
  int64_t support = 32;   // successors per state with Zipf weights (≤ vocab)
  double zipf = 1.2;      // centre of the per-state Zipf exponents
  double spread = 0.5;    // exponents lie in [zipf − spread, zipf + spread]
  int profiles = 32;      // number of distinct exponent levels
  double epsilon = 0.01;  // uniform floor over the whole vocabulary, in (0, 1)
  uint64_t seed = 0;

  // Throws scalelab::Error naming the field: vocab ≥ 2, 0 ≤ order, 1 ≤ support ≤ vocab,
  // V^k·support ≤ 2^25 (the transition table), 0 < ε < 1, ...
  void Validate() const;
};

class MarkovSource {
 public:
  explicit MarkovSource(const MarkovOptions& options);

  const MarkovOptions& options() const { return options_; }
  int64_t vocab() const { return options_.vocab; }
  int64_t states() const { return states_; }
  double entropy_per_token() const { return entropy_; }  // nats per token, exact
  const std::vector<double>& stationary() const { return stationary_; }
  int64_t power_iterations() const { return iterations_; }

  // State after the tokens so far: the last k tokens read as a base-V number.
  int64_t next_state(int64_t state, int32_t token) const;
  double probability(int64_t state, int32_t token) const;

  // A stationary sample of `tokens` tokens from stream seed `seed`.
  std::vector<int32_t> Sample(int64_t tokens, uint64_t seed) const;
  // A corpus of `tokens` tokens cut into documents of `document_tokens` (the last may be shorter),
  // one continuous stationary stream; its metadata carries the entropy rate. In memory, or
  // streamed to the corpus file `out` (memory O(document_tokens)).
  Corpus Generate(int64_t tokens, int64_t document_tokens, uint64_t seed, const std::string& out = "") const;
  // "markov(V=256, k=2, support=32, zipf=1.2±0.5, eps=0.01, seed=0)"
  std::string Describe() const;

 private:
  int32_t Draw(int64_t state, Rng& rng) const;
  template <class Sink>
  void Emit(int64_t tokens, uint64_t seed, Sink&& sink) const;
  MarkovOptions options_;
  int64_t states_ = 1;
  std::vector<int32_t> successors_;     // states × support
  std::vector<uint8_t> profile_;        // per state
  std::vector<double> cdf_;             // profiles × support, cumulative Zipf weights
  std::vector<double> weight_;          // profiles × support, Zipf weights z_r
  std::vector<double> stationary_;
  std::vector<double> state_cdf_;
  double entropy_ = 0;
  int64_t iterations_ = 0;
};

struct GrammarOptions {
  int64_t vocab = 256;
  int nonterminals = 48;
  int min_rules = 2;        // rules per nonterminal, drawn in [min_rules, max_rules]
  int max_rules = 12;
  int max_body = 4;         // body symbols after the leading terminal, drawn in [0, max_body]
  double zipf = 1.0;        // rule probabilities ∝ (rank + 1)^(−zipf), ranks in random order
  double branching = 0.9;   // target mean number of nonterminal children (< 1; larger: deeper trees)
  uint64_t seed = 0;

  void Validate() const;
};

class GrammarSource {
 public:
  explicit GrammarSource(const GrammarOptions& options);

  const GrammarOptions& options() const { return options_; }
  double entropy_per_token() const { return entropy_; }          // nats per token, exact
  double entropy_per_sentence() const { return sentence_entropy_; }
  double mean_sentence_tokens() const { return mean_length_; }
  double spectral_radius() const { return radius_; }

  // Appends one sentence; returns its log-probability (nats).
  double SampleSentence(Rng& rng, std::vector<int32_t>& out) const;
  // Parses a stream of whole sentences from the tokens alone; returns the total log-probability
  // and the number of sentences. Throws scalelab::Error if the tokens are not in the language.
  double LogProbability(const std::vector<int32_t>& tokens, int64_t* sentences = nullptr) const;

  // A corpus of exactly `tokens` tokens: documents of whole sentences of about `document_tokens`
  // (the very last sentence is cut at the end). In memory, or streamed to the corpus file `out`.
  Corpus Generate(int64_t tokens, int64_t document_tokens, uint64_t seed, const std::string& out = "") const;
  std::string Describe() const;

 private:
  struct Rule {
    int32_t lead;
    std::vector<int32_t> body;  // ≥ 0: terminal id; < 0: nonterminal −(A + 1)
    double probability;
  };
  GrammarOptions options_;
  std::vector<std::vector<Rule>> rules_;       // per nonterminal
  std::vector<std::vector<double>> cdf_;       // per nonterminal
  std::vector<std::vector<int32_t>> by_lead_;  // per nonterminal: vocab → rule index or −1
  double entropy_ = 0, sentence_entropy_ = 0, mean_length_ = 0, radius_ = 0;
};

}  // namespace scalelab::data
