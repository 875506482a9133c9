#include "train/simulated_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "model/rng.h"
#include "train/bytes.h"

namespace scalelab::train {

namespace {

constexpr int64_t kExactSteps = 64;  // steps summed one by one before the integral takes over

// ∫_a^b D^-β dD for 0 < a ≤ b, accurate when b is close to a and when β is close to 1.
double integral_power(double a, double b, double beta) {
  const double r = std::log1p((b - a) / a);
  const double x = (1.0 - beta) * r;
  return std::pow(a, 1.0 - beta) * r * (x == 0 ? 1.0 : std::expm1(x) / x);
}

class SimulatedBackend final : public Backend {
 public:
  explicit SimulatedBackend(const LossLaw& law) : law_(law) {}

  std::string name() const override { return "simulated"; }
  std::string device() const override {
    return str("simulated: L = ", law_.E, " + ", law_.A, "/N^", law_.alpha, " + ", law_.B, "/D^",
               law_.beta, ", noise ", law_.noise);
  }
  bool needs_tokens() const override { return false; }
  bool draws_losses() const override { return true; }

  void init(const model::GptConfig& config, const OptimizerOptions&, int64_t, uint64_t seed) override {
    n_ = static_cast<double>(config.params());
    cap_ = std::log(static_cast<double>(config.vocab));
    // The draws are keyed by the model's shape as well as the seed: the runs of a sweep share a seed,
    // and two sizes trained on as many tokens would otherwise draw the same noise.
    model::Rng key(seed);
    for (int64_t field : {config.vocab, config.ctx, config.d_model, config.n_head, config.n_layer, config.ff()})
      key.state ^= key.next() + static_cast<uint64_t>(field);
    seed_ = key.next();
    tokens_ = 0;
    eval_at_ = -1;
    eval_index_ = 0;
  }

  double accumulate(const int32_t*, int64_t B, int64_t T, float) override { return advance(1, B, T); }
  double update(double) override { return 1.0; }

  double advance(int64_t steps, int64_t B, int64_t T) override {
    const int64_t t0 = tokens_;
    tokens_ += steps * B * T;
    const double mean = mean_law_loss(law_, n_, cap_, t0, B * T, steps);
    const double spread = law_.noise / std::sqrt(static_cast<double>(steps));
    return clamp(mean * (1.0 + spread * normal(1, t0, tokens_)));
  }

  double evaluate(const int32_t*, int64_t, int64_t) override {
    if (eval_at_ != tokens_) {
      eval_at_ = tokens_;
      eval_index_ = 0;
    }
    const double mean = std::min(cap_, law_(n_, static_cast<double>(std::max<int64_t>(tokens_, 1))));
    // One draw per evaluation, whichever batch asks: the held-out loss (their mean) has the spread
    // noise/4 however many batches the trainer evaluates on.
    ++eval_index_;
    return clamp(mean * (1.0 + law_.noise / 4 * normal(2, tokens_, 0)));
  }

  std::string save() const override {
    ByteWriter w;
    w.string("simulated-3");  // 3: draws keyed by the model's shape, one per evaluation
    w.i64(tokens_);
    w.i64(eval_at_);
    w.i64(eval_index_);
    return w.bytes();
  }
  void load(const std::string& state) override {
    ByteReader r(state, "the simulated backend's checkpoint state");
    if (r.string() != "simulated-3")
      fail("the checkpoint was not written by this version's simulated backend; pass resume = false to start over");
    tokens_ = r.i64();
    eval_at_ = r.i64();
    eval_index_ = r.i64();
  }
  std::vector<float> parameters() const override { return {}; }

 private:
  double clamp(double loss) const { return std::min(cap_, std::max(0.0, loss)); }
  // A standard normal keyed by (seed, kind, a, b): the same key always gives the same number.
  double normal(uint64_t kind, int64_t a, int64_t b) const {
    model::Rng rng(seed_ ^ 0x5C41E1AB5EEDull);
    rng.state ^= rng.next() * kind;
    rng.state ^= rng.next() + static_cast<uint64_t>(a);
    rng.state ^= rng.next() + static_cast<uint64_t>(b);
    model::Rng draw(rng.next());
    return draw.normal();
  }

  LossLaw law_;
  double n_ = 1, cap_ = 0;
  uint64_t seed_ = 0;
  int64_t tokens_ = 0;
  // The position of the last evaluation and the batches evaluated there (kept in the checkpoint's
  // format; the draw no longer depends on it).
  int64_t eval_at_ = -1, eval_index_ = 0;
};

}  // namespace

double mean_law_loss(const LossLaw& law, double n, double cap, int64_t t0, int64_t s, int64_t k) {
  SCALELAB_CHECK(k >= 1 && s >= 1 && t0 >= 0);
  auto f = [&](double d) { return std::min(cap, law(n, d)); };
  const int64_t exact = std::min(k, kExactSteps);
  double sum = 0;
  for (int64_t i = 1; i <= exact; ++i) sum += f(static_cast<double>(t0) + static_cast<double>(i) * static_cast<double>(s));
  if (k > exact) {
    // Steps exact+1 … k as the integral over [exact + ½, k + ½] steps (the midpoint rule's error
    // is f''/24 per step, negligible this far along the curve), in tokens divided by s.
    const double a = static_cast<double>(t0) + (static_cast<double>(exact) + 0.5) * static_cast<double>(s);
    const double b = static_cast<double>(t0) + (static_cast<double>(k) + 0.5) * static_cast<double>(s);
    const double floor = law.E + law.A / std::pow(n, law.alpha);  // the law at infinite data
    double integral = 0;
    if (law.B == 0 || floor >= cap) {
      integral = (b - a) * std::min(cap, law.B == 0 ? floor : cap);
    } else {
      // Below D* the law is above the cap: f = cap there.
      const double d_star = std::pow(law.B / (cap - floor), 1.0 / law.beta);
      const double split = std::clamp(d_star, a, b);
      integral = (split - a) * cap;
      if (b > split) integral += floor * (b - split) + law.B * integral_power(split, b, law.beta);
    }
    sum += integral / static_cast<double>(s);
  }
  return sum / static_cast<double>(k);
}

std::unique_ptr<Backend> make_simulated_backend(const LossLaw& law) {
  return std::make_unique<SimulatedBackend>(law);
}

}  // namespace scalelab::train
