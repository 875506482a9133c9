// The GPT's layers on a CUDA device: the same functions as model/layers.h (the CPU reference),
// with the same arguments and conventions, in bf16 mixed precision. Each launches asynchronously on
// `stream`; none allocates. Every kernel here is deterministic: reductions run in a fixed order
// that depends only on the shapes, never on timing (no floating-point atomics), so the same inputs
// give the same bits on the same GPU.
//
// Precision (what is stored in which type):
//   parameters       fp32 master copy (read by the encoder, LayerNorms and fp32-output biases)
//                    and a bf16 copy of the same flat layout (read by the matrix products)
//   residual stream  fp32; its gradient fp32, with a bf16 copy for the matrix products
//   matmul inputs    bf16 (LayerNorm outputs, qkv, attention output, GELU output, logits)
//   gradients of parameters, AdamW moments: fp32
// Row-major throughout. N = B·T rows, C channels, OC output channels, V vocabulary.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace scalelab::cuda {

using bf16 = __nv_bfloat16;

// ---- Conversions ---------------------------------------------------------------------------------
void to_bf16(bf16* out, const float* in, int64_t n, cudaStream_t stream);
void to_float(float* out, const bf16* in, int64_t n, cudaStream_t stream);

// ---- Encoder -------------------------------------------------------------------------------------
// out[n,:] = wte[inp[n],:] + wpe[n % T,:]   (fp32, from the fp32 master parameters)
void encoder_forward(float* out, const int32_t* inp, const float* wte, const float* wpe, int64_t B,
                     int64_t T, int64_t C, cudaStream_t stream);
// dwte[v,:] += Σ dout[n,:] over the rows n with inp[n] = v;  dwpe[t,:] += Σ_b dout[b,t,:].
// Deterministic without atomics: the host groups the rows by token id (encoder_backward_plan),
// and each token's rows are summed in increasing row order.
//   plan = [unique][tokens: unique][starts: unique + 1][rows: B·T]   (int32, on the device)
void encoder_backward(float* dwte, float* dwpe, const float* dout, const int32_t* plan,
                      int64_t unique, int64_t B, int64_t T, int64_t C, cudaStream_t stream);
// Builds the plan on the host into `plan` (at most 3·n_rows + 1 ints); returns its length and sets
// `unique`.
int64_t encoder_backward_plan(int32_t* plan, int64_t& unique, const int32_t* inp, int64_t n_rows);

// ---- LayerNorm, fused with the residual add --------------------------------------------------------
// x = a + add (add may be null: x = a); if residual_out is not null it receives x (fp32);
// out = (x − mean)·rstd·weight + bias in bf16; mean and rstd (fp32, N each) are saved.
// eps = 1e-5, two-pass variance, as the CPU reference. Where C = 128·k ≤ 1024 (the kernels that
// hold a row in registers) the float rows must be 16-byte aligned and the bf16 ones 8-byte aligned:
// a misaligned pointer is a scalelab::Error that names it. The same holds for layernorm_backward.
void residual_layernorm_forward(float* residual_out, bf16* out, float* mean, float* rstd,
                                const float* a, const float* add, const float* weight,
                                const float* bias, int64_t N, int64_t C, cudaStream_t stream);
// dinp += ..., then dinp_bf16 = bf16(dinp) if not null; dweight += ..., dbias += ... (fp32).
// `scratch` holds layernorm_backward_scratch_floats(N, C) floats.
void layernorm_backward(float* dinp, bf16* dinp_bf16, float* dweight, float* dbias,
                        const float* dout, const float* inp, const float* weight, const float* mean,
                        const float* rstd, float* scratch, int64_t N, int64_t C, cudaStream_t stream);
int64_t layernorm_backward_scratch_floats(int64_t N, int64_t C);

// ---- Bias gradient -------------------------------------------------------------------------------------
// dbias[oc] += Σ_rows dout[n, oc] (fp32 or bf16 dout), in a fixed two-stage order.
// `scratch` holds column_sum_scratch_floats(N, OC) floats.
void bias_backward(float* dbias, const float* dout, float* scratch, int64_t N, int64_t OC,
                   cudaStream_t stream);
void bias_backward(float* dbias, const bf16* dout, float* scratch, int64_t N, int64_t OC,
                   cudaStream_t stream);
int64_t column_sum_scratch_floats(int64_t N, int64_t OC);

// out[n, oc] += bias[oc] (for matrix products whose fused bias epilogue is unavailable).
void add_bias(float* out, const float* bias, int64_t N, int64_t OC, cudaStream_t stream);
void add_bias(bf16* out, const bf16* bias, int64_t N, int64_t OC, cudaStream_t stream);

// ---- GELU (tanh approximation, GPT-2's) -----------------------------------------------------------
void gelu_forward(bf16* out, const bf16* inp, int64_t n, cudaStream_t stream);
// dinp = dout·gelu'(inp); dinp may equal dout.
void gelu_backward(bf16* dinp, const bf16* inp, const bf16* dout, int64_t n, cudaStream_t stream);

// ---- Causal self-attention, flash-style (never stores the T×T matrix) --------------------------------
// qkv[B][T][3C] (q, k, v, heads contiguous as in the CPU reference); out[B][T][C] (bf16);
// lse[B][NH][T] (fp32) receives each row's log Σ exp of the scaled scores, for the backward pass.
// Head size hd = C/NH must be 32, 64 or 128 (attention_supports); qkv, dout and out must be
// 16-byte aligned (the kernels copy 16 bytes at a time): a misaligned one is a scalelab::Error
// that names it.
bool attention_supports(int64_t head_dim);
void attention_forward(bf16* out, float* lse, const bf16* qkv, int64_t B, int64_t T, int64_t C,
                       int64_t NH, cudaStream_t stream);
// dqkv (overwritten, bf16) from dout = ∂loss/∂out (bf16), the forward's qkv, out and lse.
// `delta` holds B·NH·T floats of scratch (rowsum(dout ⊙ out)).
void attention_backward(bf16* dqkv, float* delta, const bf16* dout, const bf16* qkv,
                        const bf16* out, const float* lse, int64_t B, int64_t T, int64_t C,
                        int64_t NH, cudaStream_t stream);

// ---- Softmax cross-entropy over the vocabulary, fused -------------------------------------------------
// losses[n] = −log softmax(logits[n,:])[targets[n]]. If dloss != 0 the logits are replaced, in
// place, by their gradient (softmax − onehot(target))·dloss: probabilities are never stored.
// Where V % 8 = 0 the logits must be 16-byte aligned (rows are read 16 bytes at a time).
void crossentropy_forward_backward(bf16* logits, float* losses, const int32_t* targets, float dloss,
                                   int64_t N, int64_t V, cudaStream_t stream);

// ---- Optimizer -------------------------------------------------------------------------------------
// Σ g² over n floats, accumulated in double in a fixed order; the result is written to *out
// (device). `partial` holds kNormBlocks doubles.
constexpr int kNormBlocks = 1024;
void grad_norm_squared(double* out, double* partial, const float* grads, int64_t n,
                       cudaStream_t stream);
// One AdamW step over n floats: the float operations of train::adamw_update in its order, each
// rounded on its own (bitwise the CPU's where the CPU compiler does not contract a·b + c into an
// FMA; within an ulp or two where it does). Also writes the bf16 copy of the updated parameters.
// decay = 1 − lr·wd for decaying tensors, else 1.
void adamw_update(float* params, bf16* params_bf16, const float* grads, float* m, float* v,
                  int64_t n, float beta1, float beta2, float correction1, float correction2,
                  float eps, float lr, float decay, float grad_scale, cudaStream_t stream);

}  // namespace scalelab::cuda
