// The one interface every training backend implements: the CPU backend (train/cpu_backend.cpp),
// the simulated backend (train/simulated_backend.cpp) and the CUDA backend (kernels/). The trainer
// (train/train.h) owns the loop, the schedule, evaluation, checkpoints and the result; a backend
// owns the parameters, their gradients and the optimizer state, and knows how to
//   accumulate  forward + backward of one micro-batch, adding to the gradient,
//   update      clip the accumulated gradient by its global norm and take one AdamW step,
//   evaluate    the mean loss of a batch without touching the gradient,
//   save/load   its whole state (parameters, optimizer moments, step, random state) as bytes.
// Parameters are in the flat layout of model/layout.h in every backend, so checkpoints and the
// op-by-op comparison with the CPU backend work across backends.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/gpt.h"

namespace scalelab::train {

// AdamW as in PyTorch (decoupled weight decay), with clipping by the global gradient norm.
struct OptimizerOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;  // on matrices and embeddings only (model::param_decays)
  double clip = 1.0;          // global-norm clip; 0 disables
};

// What the simulated backend draws: L(N, D) = E + A/N^α + B/D^β (Chinchilla's form, N all
// parameters, D tokens seen), capped at ln(vocab) (a uniform guess), times (1 + noise·ε) with ε
// standard normal for training losses (a held-out loss gets noise/4, one draw per evaluation
// whatever the number of batches); every draw stays in [0, ln(vocab)].
struct LossLaw {
  double E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28;  // Hoffmann et al. 2022
  double noise = 0.02;
  double operator()(double n, double d) const;
  // Throws scalelab::Error naming the first bad coefficient and its valid range: E in
  // [0, ln(vocab)), A, B >= 0, alpha, beta > 0, noise in [0, 1), all finite.
  void Validate(int64_t vocab) const;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;    // "cpu", "simulated", "cuda"
  virtual std::string device() const = 0;  // "2 threads, OpenBLAS 0.3.21 (SkylakeX kernel)"
  // The device's dense peak FLOP/s, for the run's MFU; 0 where unknown (no MFU is reported).
  virtual double peak_flops() const { return 0; }
  // False for backends that never look at the tokens (simulated): the trainer may pass null.
  virtual bool needs_tokens() const { return true; }

  // Builds the model for micro-batches of up to max_batch rows of up to config.ctx tokens and
  // initialises the parameters from `seed` (GPT-2 initialisation), the gradient and moments to 0.
  virtual void init(const model::GptConfig& config, const OptimizerOptions& options,
                    int64_t max_batch, uint64_t seed) = 0;
  // tokens: B rows of T + 1 ids. Adds scale·∇(mean loss) to the gradient; returns the mean loss.
  virtual double accumulate(const int32_t* tokens, int64_t B, int64_t T, float scale) = 0;
  // Global gradient norm before clipping. If it is finite: clips, takes one AdamW step at `lr`
  // and zeroes the gradient; if not, changes nothing (the trainer then stops: diverged).
  virtual double update(double lr) = 0;
  // Mean loss of one batch; leaves the gradient alone.
  virtual double evaluate(const int32_t* tokens, int64_t B, int64_t T) = 0;

  // True for backends that draw losses instead of computing them (simulated). The trainer then
  // never reads the data and calls advance() for whole stretches of steps (from one evaluation or
  // checkpoint to the next), so a run costs the same whatever its number of steps.
  virtual bool draws_losses() const { return false; }
  // Stands for `steps` optimizer steps of B rows of T tokens; returns the mean training loss over
  // them (what accumulate + update step by step would average) at a cost independent of `steps`.
  // Only backends whose draws_losses() is true implement it.
  virtual double advance(int64_t steps, int64_t B, int64_t T);

  // The thread count its arithmetic depends on: a run resumed on another count does not continue
  // bitwise as it would have (the cpu backend's sums are split by thread); 0 for a backend whose
  // numbers are the same on any count (simulated, cuda). Recorded in the checkpoint.
  virtual int rounding_threads() const { return 0; }

  virtual std::string save() const = 0;
  virtual void load(const std::string& state) = 0;  // throws scalelab::Error if it does not fit

  // The parameters in the flat layout of model/layout.h (for tests and cross-backend checks).
  virtual std::vector<float> parameters() const = 0;
};

// Backends by name. "cpu" and "simulated" are built in; the CUDA backend registers "cuda" when it
// is built (call register_backend before the first train(), e.g. from the CUDA module's Lua
// opener or from main; a static initializer in a static library is dropped by the linker unless
// something references its object file). `available` tells "auto" whether a device is present.
// A new backend is checked against make_cpu_backend (train/cpu_backend.h): same init seed, same
// batches, losses and parameters() within fp32 tolerance; its ops against model/layers.h.
// `threads` is how many CPU threads a backend may use (0: all cores).
using BackendFactory = std::function<std::unique_ptr<Backend>(int threads, const LossLaw& law)>;
void register_backend(const std::string& name, BackendFactory factory,
                      std::function<bool()> available = nullptr);
std::vector<std::string> backend_names();
// "auto" picks "cuda" when it is registered and available, else "cpu". Unknown names throw,
// suggesting the nearest.
std::unique_ptr<Backend> make_backend(const std::string& name, int threads, const LossLaw& law);
std::string resolve_backend(const std::string& name);
// Whether `name` can train here: "auto" always can; a registered backend unless its `available`
// says no device is present (CUDA built, no GPU); "cuda" not built cannot. Any other name throws,
// naming the known backends and the nearest.
bool backend_available(const std::string& name);

// 0 → the machine's cores.
int default_threads(int threads);

}  // namespace scalelab::train
