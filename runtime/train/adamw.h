// AdamW and the global gradient norm as plain array ops (the CUDA backend mirrors them).
#pragma once

#include <cstdint>

#include "model/layout.h"
#include "train/backend.h"

namespace scalelab::train {

// Σ g² over n floats, in double, summed in fixed chunks so the result is bitwise independent of
// the number of threads.
double grad_norm_squared(const float* grads, int64_t n, int threads);

// Adds others[0..count) into total in that order (the gradients of model replicas that each took
// some rows of a batch), returning Σ total² as grad_norm_squared(total) would: one pass over memory
// instead of two. The others are left as they were.
double reduce_gradients_norm_squared(float* total, const float* const* others, int count, int64_t n,
                                     int threads);

// One AdamW step (PyTorch's torch.optim.AdamW) over every parameter tensor of `layout`:
//   θ ← θ − lr·wd·θ (decaying tensors only)
//   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,  g = grad_scale·grad
//   θ ← θ − lr·(m / (1 − β1^t)) / (√(v / (1 − β2^t)) + eps)
// `step` t counts from 1. m and v hold layout.total floats each.
void adamw_update(const model::ParameterLayout& layout, float* params, const float* grads, float* m,
                  float* v, const OptimizerOptions& options, double lr, int64_t step,
                  float grad_scale, int threads);

}  // namespace scalelab::train
