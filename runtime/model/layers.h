// The layers of the GPT, one forward/backward pair each, on the CPU (llm.c style: plain arrays,
// sizes passed explicitly, no hidden state). These are the reference the CUDA backend (kernels/)
// is checked against op by op: it implements the same functions with the same arguments and the
// same conventions.
//
// Conventions shared by every op:
//   - Row-major. N = B·T rows of activations, C = d_model channels, OC = output channels.
//   - Parameter gradients ACCUMULATE (+=): the caller zeroes them once per optimizer step, so that
//     gradient accumulation over micro-batches is just several backward passes.
//   - Activation gradients are OVERWRITTEN, except layernorm_backward's dinp and the encoder,
//     which accumulate (+=) into the residual stream's gradient.
//   - `threads` is how many threads an op may use (OpenMP, static partition). Work is always split
//     over output elements, never over a reduction, so the result is bitwise the same for any
//     number of threads.
//   - Backward passes may use their inputs' storage only as documented (gelu_backward may run in
//     place: dinp == dout).
#pragma once

#include <cstdint>

namespace scalelab::model {

// out[b,t,:] = wte[inp[b,t],:] + wpe[t,:]
void encoder_forward(float* out, const int32_t* inp, const float* wte, const float* wpe, int64_t B,
                     int64_t T, int64_t C, int threads);
// dwte[inp[b,t],:] += dout[b,t,:]; dwpe[t,:] += dout[b,t,:] (summed in b, t order).
void encoder_backward(float* dwte, float* dwpe, const float* dout, const int32_t* inp, int64_t B,
                      int64_t T, int64_t C, int threads);

// out = (inp − mean)·rstd·weight + bias over each row of C; saves mean and rstd (N each).
// eps = 1e-5 as in GPT-2 and PyTorch.
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                       const float* bias, int64_t N, int64_t C, int threads);
// dinp += ..., dweight += ..., dbias += ...
void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean, const float* rstd,
                        int64_t N, int64_t C, int threads);

// out[N][OC] = inp[N][C]·weight[OC][C]ᵀ + bias[OC] + residual[N][OC] (bias and residual may be
// null; residual must not overlap out). Bias and residual are added as the product is stored.
void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int64_t N,
                    int64_t C, int64_t OC, int threads, const float* residual = nullptr);
// dinp = dout·weight (overwritten; may be null to skip); dweight += doutᵀ·inp (= when not
// accumulate_dweight); dbias += Σ_rows dout (dbias may be null).
void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int64_t N, int64_t C, int64_t OC, int threads,
                     bool accumulate_dweight = true);

// Causal multi-head self-attention. qkv[B][T][3C] holds q, k, v (each C = NH·hd, head h at
// channels h·hd .. h·hd+hd−1). att[B][NH][T][T] receives the softmax probabilities; row t is zero
// from column t+1 to at least the next multiple of 16 (and as far as any product reads it; beyond
// that it is left as it was). out[B][T][C] the heads' outputs side by side. Scale 1/√hd.
// Head sizes that are a multiple of 16 run register-tiled kernels over exactly the causal
// triangle; others run blocks of 64 rows through gemm().
void attention_forward(float* out, float* att, const float* qkv, int64_t B, int64_t T, int64_t C,
                       int64_t NH, int threads);
// dqkv (overwritten) from dout, with the forward's qkv and att. `scratch` holds
// attention_scratch_floats(T, threads) floats.
void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att,
                        float* scratch, int64_t B, int64_t T, int64_t C, int64_t NH, int threads);
int64_t attention_scratch_floats(int64_t T, int threads);

// GELU, tanh approximation (GPT-2's): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
void gelu_forward(float* out, const float* inp, int64_t n, int threads);
// dinp = dout·gelu'(inp); dinp may equal dout.
void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n, int threads);

// out = a + b
void residual_forward(float* out, const float* a, const float* b, int64_t n, int threads);

// Softmax cross-entropy over V logits per row: losses[N] = −log softmax(logits)[target].
// Targets outside [0, V) are an error the caller must rule out.
void crossentropy_forward(float* losses, const float* logits, const int32_t* targets, int64_t N,
                          int64_t V, int threads);
// dlogits = (softmax(logits) − onehot(target))·dloss, row by row, using the forward's losses
// (log Σ exp(logits) = loss + logits[target]); dlogits may equal logits.
void crossentropy_backward(float* dlogits, const float* logits, const float* losses,
                           const int32_t* targets, float dloss, int64_t N, int64_t V, int threads);

}  // namespace scalelab::model
