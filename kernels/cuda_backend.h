// The CUDA backend of the trainer (train/backend.h): model::CpuGpt's model and train::adamw_update's
// optimizer on a GPU (kernels/gpt_cuda.h), registered as "cuda".
#pragma once

#include <memory>

#include "kernels/gpt_cuda.h"
#include "train/backend.h"

namespace scalelab::cuda {

// Throws scalelab::Error (with the reason and the fix) when there is no usable GPU.
std::unique_ptr<train::Backend> make_cuda_backend(const CudaGptOptions& options = {});

// Registers "cuda" with train::register_backend, available when a usable GPU is present, so that
// backend = "auto" picks it and falls back to "cpu" without one. Idempotent.
void register_cuda_backend();

}  // namespace scalelab::cuda
