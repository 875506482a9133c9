// The GPT on a CUDA device: the same model as model::CpuGpt (model/gpt_cpu.h), op by op, in bf16
// mixed precision (see kernels/ops.h for what is stored in which type). Parameters (fp32 master
// and its bf16 copy), gradients, optimizer moments and activations are one device allocation each,
// in the flat layout of model/layout.h, so parameters move between the CPU and this model as one
// copy.
//
//   x  = wte[tokens] + wpe                       encoder_forward
//   for each layer:  h = ln1(x)                  residual_layernorm_forward (fused with the add)
//                    x += attproj(attention(qkv(h)))    cuBLASLt (bias epilogue), flash attention
//                    h = ln2(x);  x += fcproj(gelu(fc(h)))   (GELU and bias epilogues)
//   logits = lnf(x)·wteᵀ;  loss = mean cross-entropy     fused softmax-cross-entropy
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "kernels/ops.h"
#include "model/gpt.h"
#include "model/layout.h"
#include "train/backend.h"

namespace scalelab::cuda {

class Matmul;

struct CudaGptOptions {
  int device = 0;
  bool fuse_epilogues = true;  // bias/GELU in cuBLASLt's epilogues (false: separate kernels)
};

// GPT-2 initialisation from `seed`, bitwise the same as model::CpuGpt::init (same generator, same
// order), into `params` (layout.total floats).
void init_parameters(const model::GptConfig& config, const model::ParameterLayout& layout,
                     uint64_t seed, float* params);

class CudaGpt {
 public:
  // Throws scalelab::Error when there is no usable device, or the shape is one the kernels do not
  // support (head size not 32, 64 or 128), or the device lacks the memory (saying how much).
  CudaGpt(const model::GptConfig& config, int64_t max_batch, const CudaGptOptions& options = {});
  ~CudaGpt();
  CudaGpt(const CudaGpt&) = delete;
  CudaGpt& operator=(const CudaGpt&) = delete;

  const model::GptConfig& config() const { return config_; }
  const model::ParameterLayout& layout() const { return layout_; }
  int64_t num_params() const { return layout_.total; }
  const DeviceInfo& device() const { return device_; }
  int64_t device_bytes() const { return device_bytes_; }  // what this model allocated
  int matmul_fallbacks() const;  // products whose fused epilogue cuBLASLt did not offer

  void init(uint64_t seed);
  void zero_grad();

  // tokens: B rows of T + 1 ids, as CpuGpt::forward. Returns the mean loss. With for_backward the
  // logits are replaced by ∂(mean loss)/∂logits (the fused cross-entropy), ready for backward();
  // without, they are kept (logits()) and backward() must not be called.
  double forward(const int32_t* tokens, int64_t B, int64_t T, bool for_backward = true);
  // The same, without waiting for the device: the work is queued (backward() may be queued right
  // after it) and loss() waits for the mean loss. Keeps the GPU busy while the host prepares.
  void forward_async(const int32_t* tokens, int64_t B, int64_t T, bool for_backward = true);
  double loss();
  // Adds scale·∂(mean loss)/∂θ of the last forward(for_backward = true) to the gradient.
  void backward(float scale = 1.0f);

  // Global gradient norm (√Σg², accumulated in double on the device).
  double grad_norm();
  // One AdamW step, the float operations of train::adamw_update; `step` counts from 1.
  void adamw(const train::OptimizerOptions& options, double lr, int64_t step, float grad_scale);

  // Host copies, all in the flat layout (layout.total floats each).
  std::vector<float> parameters() const;
  void set_parameters(const float* host);  // also refreshes the bf16 copy
  std::vector<float> gradients() const;
  void set_gradients(const float* host);
  void moments(float* m, float* v) const;
  void set_moments(const float* m, const float* v);
  // The logits of the last forward(for_backward = false): B·T rows of vocab, as floats.
  std::vector<float> logits() const;

  // For op-level inspection: the device stream all work runs on.
  cudaStream_t stream() const { return stream_; }

 private:
  void sync() const;
  void allocate();  // the constructor's device work
  void release();   // frees everything allocated so far (destructor, failed constructor)

  model::GptConfig config_;
  model::ParameterLayout layout_;
  int64_t max_batch_;
  CudaGptOptions options_;
  DeviceInfo device_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<Matmul> matmul_;
  int64_t device_bytes_ = 0;

  // One allocation each.
  float* params_ = nullptr;       // fp32 master
  bf16* params_bf16_ = nullptr;   // bf16 copy for the matrix products
  float* grads_ = nullptr;
  float* moments_ = nullptr;      // m then v, layout.total floats each
  void* acts_ = nullptr;          // activations, scratch, tokens
  void* host_pinned_ = nullptr;   // staging for tokens and losses

  // Views into acts_ (sized for max_batch × ctx rows).
  float *encoded_, *ln1_mean_, *ln1_rstd_, *lse_, *residual2_, *ln2_mean_, *ln2_rstd_,
      *residual3_, *lnf_mean_, *lnf_rstd_, *losses_, *proj_;
  bf16 *ln1_, *qkv_, *atty_, *ln2_, *fch_, *fch_gelu_, *lnf_, *logits_;
  float *dres_, *dbt_, *delta_, *scratch_;
  bf16 *dres_bf16_, *dqkv_, *datty_, *dfch_;
  double *norm_, *norm_partial_;
  int32_t *inputs_, *targets_, *plan_;
  int32_t* host_ints_ = nullptr;  // pinned: inputs, targets, plan
  float* host_losses_ = nullptr;  // pinned

  int64_t B_ = 0, T_ = 0, unique_ = 0;
  bool loss_pending_ = false;
  cudaEvent_t loss_ready_ = nullptr;
  cudaEvent_t plan_copied_ = nullptr;  // the pinned plan buffer may be rewritten after this
  bool have_gradient_forward_ = false;
  bool have_logits_ = false;
};

}  // namespace scalelab::cuda
