#include "train/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.h"
#include "model/gemm.h"
#include "model/gpt_cpu.h"
#include "model/rng.h"
#include "train/adamw.h"
#include "train/bytes.h"

namespace scalelab::train {

namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : threads_(std::max(1, threads)) {}

  std::string name() const override { return "cpu"; }
  std::string device() const override {
    return str(threads_, threads_ == 1 ? " thread, " : " threads, ", model::gemm_backend());
  }

  void init(const model::GptConfig& config, const OptimizerOptions& options, int64_t max_batch,
            uint64_t seed) override {
    model_.emplace(config, max_batch, threads_);
    model_->init(seed);
    options_ = options;
    m_.assign(static_cast<size_t>(model_->num_params()), 0.0f);
    v_.assign(static_cast<size_t>(model_->num_params()), 0.0f);
    step_ = 0;
  }

  double accumulate(const int32_t* tokens, int64_t B, int64_t T, float scale) override {
    const double loss = model().forward(tokens, B, T);
    if (!std::isfinite(loss)) return loss;  // the trainer stops; no backward through NaN
    model_->backward(scale);
    return loss;
  }

  double update(double lr) override {
    model::CpuGpt& m = model();
    const double norm = std::sqrt(grad_norm_squared(m.grads(), m.num_params(), threads_));
    if (!std::isfinite(norm)) return norm;
    const float scale =
        options_.clip > 0 && norm > options_.clip ? static_cast<float>(options_.clip / norm) : 1.0f;
    ++step_;
    adamw_update(m.layout(), m.params(), m.grads(), m_.data(), v_.data(), options_, lr, step_, scale,
                 threads_);
    m.zero_grad();
    return norm;
  }

  double evaluate(const int32_t* tokens, int64_t B, int64_t T) override {
    return model().forward(tokens, B, T);
  }

  std::string save() const override {
    const model::CpuGpt& m = model();
    ByteWriter w;
    w.string("cpu-adamw-1");
    w.i64(step_);
    w.floats(m.params(), m.num_params());
    w.floats(m_.data(), m.num_params());
    w.floats(v_.data(), m.num_params());
    return w.bytes();
  }

  void load(const std::string& state) override {
    model::CpuGpt& m = model();
    ByteReader r(state, "the cpu backend's checkpoint state");
    if (r.string() != "cpu-adamw-1") fail("the checkpoint was not written by the cpu backend");
    step_ = r.i64();
    r.floats(m.params(), m.num_params());
    r.floats(m_.data(), m.num_params());
    r.floats(v_.data(), m.num_params());
    m.zero_grad();
  }

  std::vector<float> parameters() const override {
    const model::CpuGpt& m = model();
    return std::vector<float>(m.params(), m.params() + m.num_params());
  }

 private:
  model::CpuGpt& model() {
    SCALELAB_CHECK(model_.has_value());
    return *model_;
  }
  const model::CpuGpt& model() const {
    SCALELAB_CHECK(model_.has_value());
    return *model_;
  }

  int threads_;
  std::optional<model::CpuGpt> model_;
  OptimizerOptions options_;
  std::vector<float> m_, v_;  // AdamW moments: the optimizer state
  int64_t step_ = 0;
};

class SimulatedBackend final : public Backend {
 public:
  explicit SimulatedBackend(const LossLaw& law) : law_(law) {}

  std::string name() const override { return "simulated"; }
  std::string device() const override {
    return str("simulated: L = ", law_.E, " + ", law_.A, "/N^", law_.alpha, " + ", law_.B, "/D^",
               law_.beta, ", noise ", law_.noise);
  }
  bool needs_tokens() const override { return false; }

  void init(const model::GptConfig& config, const OptimizerOptions&, int64_t, uint64_t seed) override {
    n_ = static_cast<double>(config.params());
    cap_ = std::log(static_cast<double>(config.vocab));
    rng_ = model::Rng(seed ^ 0x5C41E1AB5EEDull);
    tokens_ = 0;
  }

  double accumulate(const int32_t*, int64_t B, int64_t T, float) override {
    tokens_ += B * T;
    return draw(law_.noise);
  }
  double update(double) override { return 1.0; }
  double evaluate(const int32_t*, int64_t, int64_t) override { return draw(law_.noise / 4); }

  std::string save() const override {
    ByteWriter w;
    w.string("simulated-1");
    w.i64(tokens_);
    w.u64(rng_.state);
    return w.bytes();
  }
  void load(const std::string& state) override {
    ByteReader r(state, "the simulated backend's checkpoint state");
    if (r.string() != "simulated-1") fail("the checkpoint was not written by the simulated backend");
    tokens_ = r.i64();
    rng_.state = r.u64();
  }
  std::vector<float> parameters() const override { return {}; }

 private:
  double draw(double noise) {
    const double mean = std::min(cap_, law_(n_, static_cast<double>(std::max<int64_t>(tokens_, 1))));
    return mean * (1.0 + noise * rng_.normal());
  }

  LossLaw law_;
  double n_ = 1, cap_ = 0;
  int64_t tokens_ = 0;
  model::Rng rng_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads); }

std::unique_ptr<Backend> make_simulated_backend(const LossLaw& law) {
  return std::make_unique<SimulatedBackend>(law);
}

}  // namespace scalelab::train
