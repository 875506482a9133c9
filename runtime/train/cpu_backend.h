// The built-in backends, for code that wants one directly (tests, the CUDA backend's checks).
#pragma once

#include <memory>

#include "train/backend.h"

namespace scalelab::train {

// The reference: model::CpuGpt with AdamW, fp32, `threads` OpenMP threads.
std::unique_ptr<Backend> make_cpu_backend(int threads);

// Draws losses from `law` (see LossLaw) instead of training; never reads the tokens.
std::unique_ptr<Backend> make_simulated_backend(const LossLaw& law);

}  // namespace scalelab::train
