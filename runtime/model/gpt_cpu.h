// The GPT on the CPU: parameters, gradients and activations in one allocation each, forward and
// backward written top-down from the layers of model/layers.h. This is the reference model: the
// CUDA backend mirrors it op by op.
//
//   x  = wte[tokens] + wpe                                    encoder
//   for each layer:  x += attproj(attention(qkv(ln1(x))))
//                    x += fcproj(gelu(fc(ln2(x))))
//   logits = lnf(x)·wteᵀ                                      output tied to the token embedding
//   loss   = mean cross-entropy of logits against the next tokens
#pragma once

#include <cstdint>
#include <vector>

#include "model/gpt.h"
#include "model/huge_pages.h"
#include "model/layout.h"

namespace scalelab::model {

class CpuGpt {
 public:
  // Room for batches of up to max_batch rows of up to config.ctx tokens. `threads` ≥ 1.
  CpuGpt(const GptConfig& config, int64_t max_batch, int threads);
  CpuGpt(const CpuGpt&) = delete;  // params_ may point into another model
  CpuGpt& operator=(const CpuGpt&) = delete;

  const GptConfig& config() const { return config_; }
  const ParameterLayout& layout() const { return layout_; }
  int threads() const { return threads_; }

  // GPT-2 initialisation from `seed`: N(0, 0.02) for matrices and embeddings, residual projections
  // N(0, 0.02/√(2·n_layer)), LayerNorm gains 1, biases 0. Deterministic on every machine.
  void init(uint64_t seed);

  // tokens: B rows of T + 1 ids (inputs are the first T, targets the last T), T ≤ ctx, B ≤ max_batch.
  // Returns the mean cross-entropy (nats per token). Ids outside [0, vocab) throw scalelab::Error.
  double forward(const int32_t* tokens, int64_t B, int64_t T);
  // Adds scale·∂(mean loss)/∂θ of the last forward to grads(), or with `overwrite` stores it there
  // whatever grads() held (the first micro-batch of a step: the weight matrices' gradients are then
  // written by their products instead of read, added to and written back).
  void backward(float scale = 1.0f, bool overwrite = false);
  void zero_grad();

  // From now on read (and write) `owner`'s parameters instead of a copy of our own: replicas of
  // one model over a batch's rows then share one set of weights, with no copies after an update.
  // `owner` must have the same config and outlive this model.
  void share_parameters(CpuGpt& owner);

  float* params() { return params_; }
  const float* params() const { return params_; }
  float* grads() { return grads_.data(); }
  const float* grads() const { return grads_.data(); }
  int64_t num_params() const { return layout_.total; }

  float* param(Param p) { return params_ + layout_.offset_of(p); }
  float* grad(Param p) { return grads_.data() + layout_.offset_of(p); }

  // The logits of the last forward: B·T rows of vocab (overwritten by backward()).
  const float* logits() const { return logits_; }

 private:
  GptConfig config_;
  ParameterLayout layout_;
  int64_t max_batch_;
  int threads_;
  FloatBuffer own_params_, grads_;
  float* params_ = nullptr;  // own_params_ or the owner's (share_parameters)
  FloatBuffer acts_;   // every activation the backward pass needs, one allocation
  FloatBuffer dacts_;  // activation gradients and scratch, one allocation
  std::vector<int32_t> inputs_, targets_;
  int64_t B_ = 0, T_ = 0;
  bool have_forward_ = false;

  // Views into acts_ (sized for max_batch × ctx).
  float *encoded_, *ln1_, *ln1_mean_, *ln1_rstd_, *qkv_, *atty_, *att_, *residual2_, *ln2_,
      *ln2_mean_, *ln2_rstd_, *fch_, *fch_gelu_, *residual3_, *lnf_, *lnf_mean_, *lnf_rstd_,
      *logits_, *losses_;
  // Views into dacts_.
  float *dres_, *dbt_c_, *dqkv_, *dfch_, *scratch_;
};

}  // namespace scalelab::model
