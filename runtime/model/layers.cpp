#include "model/layers.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/gemm.h"
#include "model/parallel.h"

namespace scalelab::model {

namespace {

// Below this much work (in multiply-adds or element operations) per thread, waking a second thread
// costs more than it saves; on a busy machine a barrier can cost milliseconds.
constexpr double kMinWorkPerThread = 1 << 20;

// Runs body(begin, end) on up to `threads` threads over a static split of [0, n), where each item
// costs about `cost`. The split depends only on n, cost and threads: deterministic.
template <class Body>
void parallel_ranges(int64_t n, int threads, double cost, Body body) {
  const double useful = static_cast<double>(n) * cost / kMinWorkPerThread;
  threads = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>({static_cast<int64_t>(threads), n, static_cast<int64_t>(useful)})));
  if (threads == 1) {
    body(int64_t{0}, n);
    return;
  }
  parallel_run(threads, [&](int index, int count) {
    int64_t begin, end;
    split_range(n, count, index, begin, end);
    if (begin < end) body(begin, end);
  });
}

constexpr float kLayerNormEps = 1e-5f;
constexpr int64_t kAttentionBlock = 64;  // rows per block of the causal attention products

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SCALELAB_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define SCALELAB_CLONES
#endif

// Reductions with 16 independent partial sums: the compiler vectorises them without
// reassociation flags, and the order of additions is fixed, so results stay deterministic.
constexpr int kLanes = 16;

template <class F>
inline float lane_sum(int64_t n, F f) {
  float acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int k = 0; k < kLanes; ++k) acc[k] += f(j + k);
  for (int k = 0; j < n; ++j, ++k) acc[k] += f(j);
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int k = 0; k < width; ++k) acc[k] += acc[k + width];
  return acc[0];
}

template <class F>
inline float lane_max(int64_t n, F f) {
  float acc[kLanes];
  for (int k = 0; k < kLanes; ++k) acc[k] = -3.4e38f;
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const float x = f(j + k);
      acc[k] = acc[k] < x ? x : acc[k];
    }
  for (int k = 0; j < n; ++j, ++k) {
    const float x = f(j);
    acc[k] = acc[k] < x ? x : acc[k];
  }
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int k = 0; k < width; ++k) acc[k] = acc[k] < acc[k + width] ? acc[k + width] : acc[k];
  return acc[0];
}

SCALELAB_CLONES
void layernorm_row(float* o, float& mean, float& rstd, const float* x, const float* w,
                   const float* b, int64_t C) {
  const float m = lane_sum(C, [&](int64_t c) { return x[c]; }) / static_cast<float>(C);
  const float var = lane_sum(C, [&](int64_t c) { return (x[c] - m) * (x[c] - m); }) / static_cast<float>(C);
  const float s = 1.0f / std::sqrt(var + kLayerNormEps);
  for (int64_t c = 0; c < C; ++c) o[c] = (x[c] - m) * s * w[c] + b[c];
  mean = m;
  rstd = s;
}

SCALELAB_CLONES
void layernorm_backward_row(float* di, const float* d, const float* x, const float* w, float m,
                            float s, int64_t C) {
  const float inv = 1.0f / static_cast<float>(C);
  const float dnorm_mean = lane_sum(C, [&](int64_t c) { return d[c] * w[c]; }) * inv;
  const float dnorm_norm_mean =
      lane_sum(C, [&](int64_t c) { return d[c] * w[c] * ((x[c] - m) * s); }) * inv;
  for (int64_t c = 0; c < C; ++c)
    di[c] += s * (d[c] * w[c] - dnorm_mean - (x[c] - m) * s * dnorm_norm_mean);
}

SCALELAB_CLONES
void layernorm_param_rows(float* dw, float* db, const float* dout, const float* inp,
                          const float* mean, const float* rstd, int64_t N, int64_t C, int64_t c0,
                          int64_t c1) {
  for (int64_t n = 0; n < N; ++n) {
    const float* x = inp + n * C;
    const float* d = dout + n * C;
    const float m = mean[n], s = rstd[n];
    for (int64_t c = c0; c < c1; ++c) {
      dw[c] += d[c] * ((x[c] - m) * s);
      db[c] += d[c];
    }
  }
}

SCALELAB_CLONES
float attention_row_dot(const float* p, const float* s, int64_t n) {
  return lane_sum(n, [&](int64_t j) { return p[j] * s[j]; });
}

SCALELAB_CLONES
void attention_row_grad(float* s, const float* p, float dot, float scale, int64_t n) {
  for (int64_t j = 0; j < n; ++j) s[j] = p[j] * (s[j] - dot) * scale;
}

void softmax_row(float* row, int64_t n);
float sum_exp(const float* z, int64_t n, float& max_out);
void softmax_grad_row(float* dz, const float* z, int64_t n, float max, float scale);

}  // namespace

// ---- Encoder ------------------------------------------------------------------------------------

void encoder_forward(float* out, const int32_t* inp, const float* wte, const float* wpe, int64_t B,
                     int64_t T, int64_t C, int threads) {
  parallel_ranges(B * T, threads, static_cast<double>(C), [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      const float* e = wte + static_cast<int64_t>(inp[n]) * C;
      const float* p = wpe + (n % T) * C;
      float* o = out + n * C;
      for (int64_t c = 0; c < C; ++c) o[c] = e[c] + p[c];
    }
  });
}

void encoder_backward(float* dwte, float* dwpe, const float* dout, const int32_t* inp, int64_t B,
                      int64_t T, int64_t C, int threads) {
  parallel_ranges(C, threads, static_cast<double>(2 * B * T), [&](int64_t c0, int64_t c1) {
    for (int64_t n = 0; n < B * T; ++n) {
      const float* d = dout + n * C;
      float* e = dwte + static_cast<int64_t>(inp[n]) * C;
      float* p = dwpe + (n % T) * C;
      for (int64_t c = c0; c < c1; ++c) {
        e[c] += d[c];
        p[c] += d[c];
      }
    }
  });
}

// ---- LayerNorm ----------------------------------------------------------------------------------

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                       const float* bias, int64_t N, int64_t C, int threads) {
  parallel_ranges(N, threads, 8.0 * C, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n)
      layernorm_row(out + n * C, mean[n], rstd[n], inp + n * C, weight, bias, C);
  });
}

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean, const float* rstd,
                        int64_t N, int64_t C, int threads) {
  parallel_ranges(N, threads, 10.0 * C, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n)
      layernorm_backward_row(dinp + n * C, dout + n * C, inp + n * C, weight, mean[n], rstd[n], C);
  });
  parallel_ranges(C, threads, 6.0 * N, [&](int64_t c0, int64_t c1) {
    layernorm_param_rows(dweight, dbias, dout, inp, mean, rstd, N, C, c0, c1);
  });
}

// ---- Linear layers ------------------------------------------------------------------------------

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int64_t N,
                    int64_t C, int64_t OC, int threads) {
  parallel_ranges(N, threads, static_cast<double>(C * OC), [&](int64_t begin, int64_t end) {
    if (bias)
      for (int64_t n = begin; n < end; ++n) std::copy(bias, bias + OC, out + n * OC);
    gemm(false, true, end - begin, OC, C, 1.0f, inp + begin * C, C, weight, C, bias ? 1.0f : 0.0f,
         out + begin * OC, OC);
  });
}

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int64_t N, int64_t C, int64_t OC, int threads) {
  if (dinp)
    parallel_ranges(N, threads, static_cast<double>(C * OC), [&](int64_t begin, int64_t end) {
      gemm(false, false, end - begin, C, OC, 1.0f, dout + begin * OC, OC, weight, C, 0.0f,
           dinp + begin * C, C);
    });
  parallel_ranges(OC, threads, static_cast<double>(N * C), [&](int64_t o0, int64_t o1) {
    gemm(true, false, o1 - o0, C, N, 1.0f, dout + o0, OC, inp, C, 1.0f, dweight + o0 * C, C);
    if (dbias)
      for (int64_t n = 0; n < N; ++n) {
        const float* d = dout + n * OC;
        for (int64_t o = o0; o < o1; ++o) dbias[o] += d[o];
      }
  });
}

// ---- Attention ----------------------------------------------------------------------------------

void attention_forward(float* out, float* att, const float* qkv, int64_t B, int64_t T, int64_t C,
                       int64_t NH, int threads) {
  const int64_t hd = C / NH, C3 = 3 * C;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const double attention_cost = T * T * hd + 4.0 * T * T;
  parallel_ranges(B * NH, threads, attention_cost, [&](int64_t begin, int64_t end) {
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / NH, h = bh % NH;
      const float* q = qkv + b * T * C3 + h * hd;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* p = att + bh * T * T;
      float* o = out + b * T * C + h * hd;
      for (int64_t r0 = 0; r0 < T; r0 += kAttentionBlock) {
        const int64_t r1 = std::min(T, r0 + kAttentionBlock);
        gemm(false, true, r1 - r0, r1, hd, scale, q + r0 * C3, C3, k, C3, 0.0f, p + r0 * T, T);
        for (int64_t t = r0; t < r1; ++t) {
          float* row = p + t * T;
          softmax_row(row, t + 1);
          // Zeros up to the block's end: the products read no further (see attention_backward).
          std::fill(row + t + 1, row + r1, 0.0f);
        }
        gemm(false, false, r1 - r0, hd, r1, 1.0f, p + r0 * T, T, v, C3, 0.0f, o + r0 * C, C);
      }
    }
  });
}

int64_t attention_scratch_floats(int64_t T, int threads) { return T * T * std::max(1, threads); }

void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att,
                        float* scratch, int64_t B, int64_t T, int64_t C, int64_t NH, int threads) {
  const int64_t hd = C / NH, C3 = 3 * C;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const double attention_cost = 2.0 * T * T * hd + 8.0 * T * T;
  const int used = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>({static_cast<int64_t>(threads), B * NH,
                            static_cast<int64_t>(B * NH * attention_cost / kMinWorkPerThread)})));
  parallel_run(used, [&](int thread, int count) {
    int64_t begin, end;
    split_range(B * NH, count, thread, begin, end);
    float* ds = scratch + thread * T * T;
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / NH, h = bh % NH;
      const float* q = qkv + b * T * C3 + h * hd;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* dq = dqkv + b * T * C3 + h * hd;
      float* dk = dq + C;
      float* dv = dq + 2 * C;
      const float* p = att + bh * T * T;
      const float* d = dout + b * T * C + h * hd;
      for (int64_t r0 = 0; r0 < T; r0 += kAttentionBlock) {
        const int64_t r1 = std::min(T, r0 + kAttentionBlock);
        // dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(P ⊙ dP)), with the softmax scale folded in.
        gemm(false, true, r1 - r0, r1, hd, 1.0f, d + r0 * C, C, v, C3, 0.0f, ds + r0 * T, T);
        for (int64_t t = r0; t < r1; ++t) {
          const float* pr = p + t * T;
          float* sr = ds + t * T;
          attention_row_grad(sr, pr, attention_row_dot(pr, sr, t + 1), scale, t + 1);
          for (int64_t j = t + 1; j < r1; ++j) sr[j] = 0.0f;
        }
        // dQ = dS·K
        gemm(false, false, r1 - r0, hd, r1, 1.0f, ds + r0 * T, T, k, C3, 0.0f, dq + r0 * C3, C3);
      }
      for (int64_t c0 = 0; c0 < T; c0 += kAttentionBlock) {
        const int64_t c1 = std::min(T, c0 + kAttentionBlock);
        // dK = dSᵀ·Q and dV = Pᵀ·dO over the rows at or below the diagonal block.
        gemm(true, false, c1 - c0, hd, T - c0, 1.0f, ds + c0 * T + c0, T, q + c0 * C3, C3, 0.0f,
             dk + c0 * C3, C3);
        gemm(true, false, c1 - c0, hd, T - c0, 1.0f, p + c0 * T + c0, T, d + c0 * C, C, 0.0f,
             dv + c0 * C3, C3);
      }
    }
  });
}

// ---- Pointwise ----------------------------------------------------------------------------------

namespace {

constexpr float kGeluScale = 0.7978845608028654f;  // √(2/π)

// e^x for x in about [−87, 88], within 2 ulp, written so that the compiler vectorises loops that
// call it (no library call, no branches): x = n·ln2 + r, e^r by a degree-6 polynomial, 2^n through
// the exponent bits.
inline float exp_approx(float x) {
  x = std::min(88.0f, std::max(-87.0f, x));
  const float shifter = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer
  const float n = (x * 1.44269504088896341f + shifter) - shifter;
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// tanh(u) = 1 − 2/(e^{2u} + 1); |u| ≥ 9 is ±1 to float precision.
inline float tanh_approx(float u) {
  u = std::min(9.0f, std::max(-9.0f, u));
  return 1.0f - 2.0f / (exp_approx(2.0f * u) + 1.0f);
}

SCALELAB_CLONES
void gelu_forward_range(float* out, const float* inp, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = inp[i];
    const float u = kGeluScale * (x + 0.044715f * x * x * x);
    out[i] = 0.5f * x * (1.0f + tanh_approx(u));
  }
}

SCALELAB_CLONES
void gelu_backward_range(float* dinp, const float* inp, const float* dout, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = inp[i];
    const float u = kGeluScale * (x + 0.044715f * x * x * x);
    const float th = tanh_approx(u);
    const float sech2 = 1.0f - th * th;
    const float grad = 0.5f * (1.0f + th) + 0.5f * x * sech2 * kGeluScale * (1.0f + 3.0f * 0.044715f * x * x);
    dinp[i] = grad * dout[i];
  }
}

// Softmax of row[0..n) in place, returning nothing; the exps vectorise.
SCALELAB_CLONES
void softmax_row(float* row, int64_t n) {
  const float max = lane_max(n, [&](int64_t j) { return row[j]; });
  for (int64_t j = 0; j < n; ++j) row[j] = exp_approx(row[j] - max);
  const float sum = lane_sum(n, [&](int64_t j) { return row[j]; });
  const float inv = 1.0f / sum;
  for (int64_t j = 0; j < n; ++j) row[j] *= inv;
}

// Σ exp(z − max) over a row of logits, and the max.
SCALELAB_CLONES
float sum_exp(const float* z, int64_t n, float& max_out) {
  const float max = lane_max(n, [&](int64_t j) { return z[j]; });
  max_out = max;
  return lane_sum(n, [&](int64_t j) { return exp_approx(z[j] - max); });
}

SCALELAB_CLONES
void softmax_grad_row(float* dz, const float* z, int64_t n, float max, float scale) {
  for (int64_t v = 0; v < n; ++v) dz[v] = exp_approx(z[v] - max) * scale;
}

}  // namespace

void gelu_forward(float* out, const float* inp, int64_t n, int threads) {
  parallel_ranges(n, threads, 20.0, [&](int64_t begin, int64_t end) {
    gelu_forward_range(out + begin, inp + begin, end - begin);
  });
}

void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n, int threads) {
  parallel_ranges(n, threads, 20.0, [&](int64_t begin, int64_t end) {
    gelu_backward_range(dinp + begin, inp + begin, dout + begin, end - begin);
  });
}

void residual_forward(float* out, const float* a, const float* b, int64_t n, int threads) {
  parallel_ranges(n, threads, 20.0, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = a[i] + b[i];
  });
}

// ---- Loss ---------------------------------------------------------------------------------------

void crossentropy_forward(float* losses, const float* logits, const int32_t* targets, int64_t N,
                          int64_t V, int threads) {
  parallel_ranges(N, threads, 6.0 * V, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      const float* z = logits + n * V;
      float max;
      const float sum = sum_exp(z, V, max);
      losses[n] = std::log(sum) + max - z[targets[n]];
    }
  });
}

void crossentropy_backward(float* dlogits, const float* logits, const float* losses,
                           const int32_t* targets, float dloss, int64_t N, int64_t V, int threads) {
  parallel_ranges(N, threads, 6.0 * V, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      const float* z = logits + n * V;
      float* dz = dlogits + n * V;
      // log Σ exp(z) = loss + z[target], so softmax(z) = exp(z − loss − z[target]).
      const float log_sum = losses[n] + z[targets[n]];
      softmax_grad_row(dz, z, V, log_sum, dloss);
      dz[targets[n]] -= dloss;
    }
  });
}

}  // namespace scalelab::model
