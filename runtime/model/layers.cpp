#include "model/layers.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "model/gemm.h"

namespace scalelab::model {

namespace {

// [begin, end) of part `index` when `n` items are split into `parts` contiguous ranges.
inline void split(int64_t n, int parts, int index, int64_t& begin, int64_t& end) {
  const int64_t base = n / parts, extra = n % parts;
  begin = index * base + std::min<int64_t>(index, extra);
  end = begin + base + (index < extra ? 1 : 0);
}

// Runs body(begin, end) on `threads` threads over a static split of [0, n).
template <class Body>
void parallel_ranges(int64_t n, int threads, Body body) {
  threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n)));
  if (threads == 1) {
    body(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    int64_t begin, end;
    split(n, omp_get_num_threads(), omp_get_thread_num(), begin, end);
    if (begin < end) body(begin, end);
  }
}

constexpr float kLayerNormEps = 1e-5f;
constexpr int64_t kAttentionBlock = 64;  // rows per block of the causal attention products

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SCALELAB_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define SCALELAB_CLONES
#endif

}  // namespace

// ---- Encoder ------------------------------------------------------------------------------------

void encoder_forward(float* out, const int32_t* inp, const float* wte, const float* wpe, int64_t B,
                     int64_t T, int64_t C, int threads) {
  parallel_ranges(B * T, threads, [&](int64_t begin, int64_t end) {
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
  parallel_ranges(C, threads, [&](int64_t c0, int64_t c1) {
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
  parallel_ranges(N, threads, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      const float* x = inp + n * C;
      float sum = 0;
      for (int64_t c = 0; c < C; ++c) sum += x[c];
      const float m = sum / static_cast<float>(C);
      float var = 0;
      for (int64_t c = 0; c < C; ++c) var += (x[c] - m) * (x[c] - m);
      const float s = 1.0f / std::sqrt(var / static_cast<float>(C) + kLayerNormEps);
      float* o = out + n * C;
      for (int64_t c = 0; c < C; ++c) o[c] = (x[c] - m) * s * weight[c] + bias[c];
      mean[n] = m;
      rstd[n] = s;
    }
  });
}

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean, const float* rstd,
                        int64_t N, int64_t C, int threads) {
  parallel_ranges(N, threads, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      const float* x = inp + n * C;
      const float* d = dout + n * C;
      const float m = mean[n], s = rstd[n];
      float dnorm_mean = 0, dnorm_norm_mean = 0;
      for (int64_t c = 0; c < C; ++c) {
        const float dnorm = d[c] * weight[c];
        dnorm_mean += dnorm;
        dnorm_norm_mean += dnorm * (x[c] - m) * s;
      }
      dnorm_mean /= static_cast<float>(C);
      dnorm_norm_mean /= static_cast<float>(C);
      float* di = dinp + n * C;
      for (int64_t c = 0; c < C; ++c) {
        const float norm = (x[c] - m) * s;
        di[c] += s * (d[c] * weight[c] - dnorm_mean - norm * dnorm_norm_mean);
      }
    }
  });
  parallel_ranges(C, threads, [&](int64_t c0, int64_t c1) {
    for (int64_t n = 0; n < N; ++n) {
      const float* x = inp + n * C;
      const float* d = dout + n * C;
      const float m = mean[n], s = rstd[n];
      for (int64_t c = c0; c < c1; ++c) {
        dweight[c] += d[c] * ((x[c] - m) * s);
        dbias[c] += d[c];
      }
    }
  });
}

// ---- Linear layers ------------------------------------------------------------------------------

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int64_t N,
                    int64_t C, int64_t OC, int threads) {
  parallel_ranges(N, threads, [&](int64_t begin, int64_t end) {
    if (bias)
      for (int64_t n = begin; n < end; ++n) std::copy(bias, bias + OC, out + n * OC);
    gemm(false, true, end - begin, OC, C, 1.0f, inp + begin * C, C, weight, C, bias ? 1.0f : 0.0f,
         out + begin * OC, OC);
  });
}

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int64_t N, int64_t C, int64_t OC, int threads) {
  if (dinp)
    parallel_ranges(N, threads, [&](int64_t begin, int64_t end) {
      gemm(false, false, end - begin, C, OC, 1.0f, dout + begin * OC, OC, weight, C, 0.0f,
           dinp + begin * C, C);
    });
  parallel_ranges(OC, threads, [&](int64_t o0, int64_t o1) {
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
  parallel_ranges(B * NH, threads, [&](int64_t begin, int64_t end) {
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
          float max = row[0];
          for (int64_t j = 1; j <= t; ++j) max = std::max(max, row[j]);
          float sum = 0;
          for (int64_t j = 0; j <= t; ++j) {
            row[j] = std::exp(row[j] - max);
            sum += row[j];
          }
          const float inv = 1.0f / sum;
          for (int64_t j = 0; j <= t; ++j) row[j] *= inv;
          for (int64_t j = t + 1; j < T; ++j) row[j] = 0.0f;
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
  const int used = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, B * NH)));
  parallel_ranges(B * NH, used, [&](int64_t begin, int64_t end) {
    const int thread = used == 1 ? 0 : omp_get_thread_num();
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
          float dot = 0;
          for (int64_t j = 0; j <= t; ++j) dot += pr[j] * sr[j];
          for (int64_t j = 0; j <= t; ++j) sr[j] = pr[j] * (sr[j] - dot) * scale;
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

SCALELAB_CLONES
void gelu_forward_range(float* out, const float* inp, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = inp[i];
    const float u = kGeluScale * (x + 0.044715f * x * x * x);
    out[i] = 0.5f * x * (1.0f + std::tanh(u));
  }
}

SCALELAB_CLONES
void gelu_backward_range(float* dinp, const float* inp, const float* dout, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = inp[i];
    const float u = kGeluScale * (x + 0.044715f * x * x * x);
    const float th = std::tanh(u);
    const float sech2 = 1.0f - th * th;
    const float grad = 0.5f * (1.0f + th) + 0.5f * x * sech2 * kGeluScale * (1.0f + 3.0f * 0.044715f * x * x);
    dinp[i] = grad * dout[i];
  }
}

}  // namespace

void gelu_forward(float* out, const float* inp, int64_t n, int threads) {
  parallel_ranges(n, threads, [&](int64_t begin, int64_t end) {
    gelu_forward_range(out + begin, inp + begin, end - begin);
  });
}

void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n, int threads) {
  parallel_ranges(n, threads, [&](int64_t begin, int64_t end) {
    gelu_backward_range(dinp + begin, inp + begin, dout + begin, end - begin);
  });
}

void residual_forward(float* out, const float* a, const float* b, int64_t n, int threads) {
  parallel_ranges(n, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = a[i] + b[i];
  });
}

// ---- Loss ---------------------------------------------------------------------------------------

void crossentropy_forward(float* losses, const float* logits, const int32_t* targets, int64_t N,
                          int64_t V, int threads) {
  parallel_ranges(N, threads, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      const float* z = logits + n * V;
      float max = z[0];
      for (int64_t v = 1; v < V; ++v) max = std::max(max, z[v]);
      float sum = 0;
      for (int64_t v = 0; v < V; ++v) sum += std::exp(z[v] - max);
      losses[n] = std::log(sum) + max - z[targets[n]];
    }
  });
}

void crossentropy_backward(float* dlogits, const float* logits, const int32_t* targets, float dloss,
                           int64_t N, int64_t V, int threads) {
  parallel_ranges(N, threads, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      const float* z = logits + n * V;
      float* dz = dlogits + n * V;
      float max = z[0];
      for (int64_t v = 1; v < V; ++v) max = std::max(max, z[v]);
      float sum = 0;
      for (int64_t v = 0; v < V; ++v) sum += std::exp(z[v] - max);
      const float inv = 1.0f / sum;
      for (int64_t v = 0; v < V; ++v) dz[v] = std::exp(z[v] - max) * inv * dloss;
      dz[targets[n]] -= dloss;
    }
  });
}

}  // namespace scalelab::model
