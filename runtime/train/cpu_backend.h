// The built-in backends, for code that wants one directly (tests, the CUDA backend's checks).
#pragma once

#include <memory>

#include "train/backend.h"
#include "train/simulated_backend.h"  // make_simulated_backend, also built in

namespace scalelab::train {

// The reference: model::CpuGpt with AdamW, fp32, on `threads` threads: one model replica per thread,
// each taking a contiguous share of every batch's rows, gradients summed in a fixed order (or, when
// the replicas would need more than 2 GiB, one model whose ops split their work). Deterministic for
// a given thread count; other thread counts differ by rounding only. SCALELAB_CPU_PARALLEL = "rows"
// or "ops" forces either mode.
std::unique_ptr<Backend> make_cpu_backend(int threads);

}  // namespace scalelab::train
