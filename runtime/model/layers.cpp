#include "model/layers.h"
#include "core/vector_targets.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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

// 2^n for a whole number n, in place (a float, or a GCC vector of floats): the exponent field alone.
inline void pow2_in_place(float& n) {
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  std::memcpy(&n, &bits, sizeof n);
}
template <class V>
inline void pow2_in_place(V& n) {
  typedef int32_t I __attribute__((vector_size(sizeof(V))));
  n = (V)((__builtin_convertvector(n, I) + 127) << 23);  // a vector cast keeps the bits
}

// e^x in place for x in about [−87, 88], within 2 ulp, on a float or a GCC vector of floats (the
// vector form for loops GCC does not vectorise: it keeps the float form's bit copy scalar). No
// library call, no branches: x = n·ln2 + r, e^r by a degree-6 polynomial, 2^n through the
// exponent bits.
template <class T>
inline void exp_in_place(T& x) {
  x = x > -87.0f ? x : -87.0f;  // as std::min(88, std::max(−87, x)): a NaN becomes −87
  x = x < 88.0f ? x : 88.0f;
  const float shifter = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer
  T n = (x * 1.44269504088896341f + shifter) - shifter;
  const T r = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
  T p = r * (1.0f / 720) + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  pow2_in_place(n);
  x = p * n;
}

// e^x (see exp_in_place), written so that the compiler vectorises loops that call it.
inline float exp_approx(float x) {
  exp_in_place(x);
  return x;
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
void add_range(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
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
                    int64_t C, int64_t OC, int threads, const float* residual) {
  parallel_ranges(N, threads, static_cast<double>(C * OC), [&](int64_t begin, int64_t end) {
    GemmEpilogue extra;
    extra.bias = bias;
    extra.residual = residual ? residual + begin * OC : nullptr;
    extra.ld_residual = OC;
    gemm(false, true, end - begin, OC, C, 1.0f, inp + begin * C, C, weight, C, 0.0f,
         out + begin * OC, OC, extra);
  });
}

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int64_t N, int64_t C, int64_t OC, int threads,
                     bool accumulate_dweight) {
  if (dinp)
    parallel_ranges(N, threads, static_cast<double>(C * OC), [&](int64_t begin, int64_t end) {
      gemm(false, false, end - begin, C, OC, 1.0f, dout + begin * OC, OC, weight, C, 0.0f,
           dinp + begin * C, C);
    });
  parallel_ranges(OC, threads, static_cast<double>(N * C), [&](int64_t o0, int64_t o1) {
    GemmEpilogue extra;  // the bias gradient is summed as doutᵀ is packed
    extra.a_row_sums = dbias ? dbias + o0 : nullptr;
    gemm(true, false, o1 - o0, C, N, 1.0f, dout + o0, OC, inp, C, accumulate_dweight ? 1.0f : 0.0f,
         dweight + o0 * C, C, extra);
  });
}

// ---- Attention ----------------------------------------------------------------------------------

namespace {

// Head dimensions that are not a multiple of 16: causal blocks of 64 rows through gemm().
void attention_forward_blocked(float* out, float* att, const float* qkv, int64_t B, int64_t T,
                               int64_t C, int64_t NH, int threads) {
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

void attention_backward_blocked(float* dqkv, const float* dout, const float* qkv, const float* att,
                                float* scratch, int64_t B, int64_t T, int64_t C, int64_t NH,
                                int threads) {
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

}  // namespace

// Head dimensions that are a multiple of 16 (every GPT here: 32, 64, 128): register-tiled kernels
// over exactly the causal triangle (in tiles of 6 rows: 24 accumulators of 16 floats at hd = 64),
// 16 floats per vector, written with GCC's vector extensions so that each target of target_clones
// gets its own code (one zmm per vector on AVX-512, two ymm on AVX2). Per (batch, head), single-threaded; heads are split over threads.
namespace {

typedef float Vec16 __attribute__((vector_size(64)));
typedef float Vec16Unaligned __attribute__((vector_size(64), aligned(4)));
#define SCALELAB_LOAD16(p) (*reinterpret_cast<const Vec16Unaligned*>(p))
#define SCALELAB_STORE16(p, v) (*reinterpret_cast<Vec16Unaligned*>(p) = (v))

constexpr int64_t kTile = 6;  // rows (queries or keys) per kernel call

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Vectors of 8 floats, one ymm: the AVX2 clone's tiles use these, because GCC lowers a 16-float
// vector on AVX2 badly (each broadcast went through the stack).
typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec8Unaligned __attribute__((vector_size(32), aligned(4)));
template <class V> struct Unaligned;
template <> struct Unaligned<Vec16> { using type = Vec16Unaligned; };
template <> struct Unaligned<Vec8> { using type = Vec8Unaligned; };
template <class V> constexpr int kVecLanes = sizeof(V) / sizeof(float);

// out[r][s0 + j] = scale·Σ_d a[r][d]·bt[d][s0 + j] for j < Chunks vectors of V: rows times a
// packed, transposed operand (bt holds hd rows of ld floats).
template <class V, int Chunks>
__attribute__((always_inline)) inline void rows_times_packed(const float* const a[kTile],
                                                              const float* bt, int64_t ld,
                                                              int64_t hd, int64_t s0,
                                                              float* const out[kTile], float scale) {
  constexpr int W = kVecLanes<V>;
  using U = typename Unaligned<V>::type;
  V acc[kTile][Chunks] = {};
  for (int64_t d = 0; d < hd; ++d) {
    V b[Chunks];
#pragma GCC unroll 8
    for (int c = 0; c < Chunks; ++c) b[c] = *reinterpret_cast<const U*>(bt + d * ld + s0 + W * c);
#pragma GCC unroll 8
    for (int r = 0; r < kTile; ++r) {
      const float ard = a[r][d];
#pragma GCC unroll 8
      for (int c = 0; c < Chunks; ++c) acc[r][c] += ard * b[c];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kTile; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Chunks; ++c) *reinterpret_cast<U*>(out[r] + s0 + W * c) = acc[r][c] * scale;
}

// out[r][d0 + j] = Σ_{t < n} coef[r][t·step]·rows[t][d0 + j] for j < Chunks vectors of V: (P·V,
// dS·K when step = 1; Pᵀ·dO, dSᵀ·Q when step is the row length of P or dS).
template <class V, int Chunks>
__attribute__((always_inline)) inline void coefficients_times_rows(const float* const coef[kTile],
                                                                    int64_t step, const float* rows,
                                                                    int64_t ld, int64_t n, int64_t d0,
                                                                    float* const out[kTile]) {
  constexpr int W = kVecLanes<V>;
  using U = typename Unaligned<V>::type;
  V acc[kTile][Chunks] = {};
  for (int64_t t = 0; t < n; ++t) {
    V b[Chunks];
#pragma GCC unroll 8
    for (int c = 0; c < Chunks; ++c) b[c] = *reinterpret_cast<const U*>(rows + t * ld + d0 + W * c);
#pragma GCC unroll 8
    for (int r = 0; r < kTile; ++r) {
      const float crt = coef[r][t * step];
#pragma GCC unroll 8
      for (int c = 0; c < Chunks; ++c) acc[r][c] += crt * b[c];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kTile; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < Chunks; ++c) *reinterpret_cast<U*>(out[r] + d0 + W * c) = acc[r][c];
}

// Whether this machine runs the AVX-512 clone: tiles of up to 4 16-float vectors (24 of its 32
// zmm registers hold accumulators). The others take tiles of 2 8-float vectors (12 of AVX2's 16
// ymm registers; 6 × 4 vectors of 16 would be 96 ymm, and the spills cost most of the speed).
bool wide_tiles() { return core::vector_level() == core::VectorLevel::Avx512; }

// The two kernels over a whole range: s in [0, n16) (a multiple of 16) or d in [0, hd).
SCALELAB_CLONES
void rows_times_packed_range(const float* const a[kTile], const float* bt, int64_t ld, int64_t hd,
                             int64_t n16, float* const out[kTile], float scale) {
  if (!wide_tiles()) {
    for (int64_t s0 = 0; s0 < n16; s0 += 16) rows_times_packed<Vec8, 2>(a, bt, ld, hd, s0, out, scale);
    return;
  }
  for (int64_t s0 = 0; s0 < n16; s0 += 64) {
    switch (std::min<int64_t>(4, (n16 - s0) / 16)) {
      case 4: rows_times_packed<Vec16, 4>(a, bt, ld, hd, s0, out, scale); break;
      case 3: rows_times_packed<Vec16, 3>(a, bt, ld, hd, s0, out, scale); break;
      case 2: rows_times_packed<Vec16, 2>(a, bt, ld, hd, s0, out, scale); break;
      default: rows_times_packed<Vec16, 1>(a, bt, ld, hd, s0, out, scale); break;
    }
  }
}

SCALELAB_CLONES
void coefficients_times_rows_range(const float* const coef[kTile], int64_t step, const float* rows,
                                   int64_t ld, int64_t n, int64_t hd, float* const out[kTile]) {
  if (!wide_tiles()) {
    for (int64_t d0 = 0; d0 < hd; d0 += 16) coefficients_times_rows<Vec8, 2>(coef, step, rows, ld, n, d0, out);
    return;
  }
  for (int64_t d0 = 0; d0 < hd; d0 += 64) {
    switch (std::min<int64_t>(4, (hd - d0) / 16)) {
      case 4: coefficients_times_rows<Vec16, 4>(coef, step, rows, ld, n, d0, out); break;
      case 3: coefficients_times_rows<Vec16, 3>(coef, step, rows, ld, n, d0, out); break;
      case 2: coefficients_times_rows<Vec16, 2>(coef, step, rows, ld, n, d0, out); break;
      default: coefficients_times_rows<Vec16, 1>(coef, step, rows, ld, n, d0, out); break;
    }
  }
}

// out[s][d] = x[s·ld + d]: one head's rows, contiguous (the rows of qkv lie 3·C floats apart, each
// on its own page: read in place, every tile would walk T pages). hd is a multiple of 16.
SCALELAB_CLONES
void pack_rows(float* out, const float* x, int64_t ld, int64_t T, int64_t hd) {
  for (int64_t s = 0; s < T; ++s)
    for (int64_t d = 0; d < hd; d += 16) SCALELAB_STORE16(out + s * hd + d, SCALELAB_LOAD16(x + s * ld + d));
}

// p[0..lanes) = exp_approx(p[i] − shift), a vector at a time (the scalar loop did not vectorise:
// GCC kept exp_approx's bit copy scalar, 19 cycles per score on Zen 4).
template <class V>
__attribute__((always_inline)) inline void exp_shifted(float* p, float shift) {
  using U = typename Unaligned<V>::type;
  V x = *reinterpret_cast<const U*>(p) - shift;
  exp_in_place(x);
  *reinterpret_cast<U*>(p) = x;
}

// The row softmax of the tiled attention over n16 (a multiple of 16) scores, in place.
SCALELAB_CLONES
void softmax_row16(float* row, int64_t n16) {
  Vec16 m0 = SCALELAB_LOAD16(row), m1 = m0;
  int64_t j = 16;
  for (; j + 32 <= n16; j += 32) {
    const Vec16 x0 = SCALELAB_LOAD16(row + j), x1 = SCALELAB_LOAD16(row + j + 16);
    m0 = m0 < x0 ? x0 : m0;
    m1 = m1 < x1 ? x1 : m1;
  }
  if (j < n16) {
    const Vec16 x0 = SCALELAB_LOAD16(row + j);
    m0 = m0 < x0 ? x0 : m0;
  }
  m0 = m0 < m1 ? m1 : m0;
  float max = m0[0];
  for (int k = 1; k < 16; ++k) max = max < m0[k] ? m0[k] : max;
  if (wide_tiles())
    for (j = 0; j < n16; j += 16) exp_shifted<Vec16>(row + j, max);
  else  // 8-float vectors: GCC builds 16-float ones badly on AVX2
    for (j = 0; j < n16; j += 8) exp_shifted<Vec8>(row + j, max);
  Vec16 s0 = Vec16{}, s1 = Vec16{};
  for (j = 0; j + 32 <= n16; j += 32) {
    s0 += SCALELAB_LOAD16(row + j);
    s1 += SCALELAB_LOAD16(row + j + 16);
  }
  if (j < n16) s0 += SCALELAB_LOAD16(row + j);
  s0 += s1;
  float sum = 0;
  for (int k = 0; k < 16; ++k) sum += s0[k];
  const float inv = 1.0f / sum;
  for (j = 0; j < n16; j += 16) SCALELAB_STORE16(row + j, SCALELAB_LOAD16(row + j) * inv);
}

// s = P ⊙ (s − Σ P ⊙ s)·scale over n16 (a multiple of 16) entries, in place.
SCALELAB_CLONES
void softmax_grad_row16(float* s, const float* p, float scale, int64_t n16) {
  Vec16 d0 = Vec16{}, d1 = Vec16{};
  int64_t j = 0;
  for (; j + 32 <= n16; j += 32) {
    d0 += SCALELAB_LOAD16(p + j) * SCALELAB_LOAD16(s + j);
    d1 += SCALELAB_LOAD16(p + j + 16) * SCALELAB_LOAD16(s + j + 16);
  }
  if (j < n16) d0 += SCALELAB_LOAD16(p + j) * SCALELAB_LOAD16(s + j);
  d0 += d1;
  float dot = 0;
  for (int k = 0; k < 16; ++k) dot += d0[k];
  for (j = 0; j < n16; j += 16)
    SCALELAB_STORE16(s + j, SCALELAB_LOAD16(p + j) * (SCALELAB_LOAD16(s + j) - dot) * scale);
}

typedef int Index16 __attribute__((vector_size(64)));

// Rows i and i + K (bit K of i clear) swap the off-diagonal K × K blocks of each 2K × 2K block: the
// lanes of (r[i], r[i + K]) that each row takes are `low` and `high`.
template <int K>
__attribute__((always_inline)) inline void swap_blocks(Vec16 r[16], Index16 low, Index16 high) {
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i)
    if (!(i & K)) {
      const Vec16 a = r[i], b = r[i + K];
      r[i] = __builtin_shuffle(a, b, low);
      r[i + K] = __builtin_shuffle(a, b, high);
    }
}

// r[0..16) ← its transpose: each round of swap_blocks swaps one bit of the row index with the same
// bit of the column index, and the four rounds turn rows into columns. 64 two-vector shuffles.
__attribute__((always_inline)) inline void transpose16x16(Vec16 r[16]) {
  swap_blocks<8>(r, Index16{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23},
                 Index16{8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31});
  swap_blocks<4>(r, Index16{0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27},
                 Index16{4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31});
  swap_blocks<2>(r, Index16{0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29},
                 Index16{2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31});
  swap_blocks<1>(r, Index16{0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30},
                 Index16{1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31});
}

// bt[d][s] = x[s·ld + d] for s < T, zero for T ≤ s < Tp: one head's rows (ld floats apart in qkv),
// transposed; hd and Tp are multiples of 16. 16 × 16 blocks at a time.
SCALELAB_CLONES
void pack_transposed(float* bt, const float* x, int64_t ld, int64_t T, int64_t Tp, int64_t hd) {
  for (int64_t s0 = 0; s0 < Tp; s0 += 16)
    for (int64_t d0 = 0; d0 < hd; d0 += 16) {
      Vec16 r[16];
      for (int i = 0; i < 16; ++i) r[i] = s0 + i < T ? SCALELAB_LOAD16(x + (s0 + i) * ld + d0) : Vec16{};
      transpose16x16(r);
      for (int j = 0; j < 16; ++j) SCALELAB_STORE16(bt + (d0 + j) * Tp + s0, r[j]);
    }
}

// Per-thread scratch of the tiled attention (grown on first use, kept for the thread's life).
std::vector<float>& attention_workspace(size_t floats) {
  thread_local std::vector<float> workspace;
  if (workspace.size() < floats) workspace.resize(floats);
  return workspace;
}

void attention_forward_tiled(float* out, float* att, const float* qkv, int64_t B, int64_t T,
                             int64_t C, int64_t NH, int threads) {
  const int64_t hd = C / NH, C3 = 3 * C, Tp = round_up(T, 16);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const double attention_cost = T * (T + 1.0) * hd + 4.0 * T * T;
  parallel_ranges(B * NH, threads, attention_cost, [&](int64_t begin, int64_t end) {
    std::vector<float>& ws =
        attention_workspace(static_cast<size_t>(hd * Tp + T * hd + kTile * Tp + kTile * hd));
    float* kt = ws.data();                 // Kᵀ of the head, hd × Tp
    float* vc = kt + hd * Tp;              // V of the head, T × hd
    float* rows_s = vc + T * hd;           // scores of one tile of rows, kTile × Tp
    float* discard = rows_s + kTile * Tp;  // outputs of rows past T
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / NH, h = bh % NH;
      const float* q = qkv + b * T * C3 + h * hd;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* p = att + bh * T * T;
      float* o = out + b * T * C + h * hd;
      pack_transposed(kt, k, C3, T, Tp, hd);
      pack_rows(vc, v, C3, T, hd);
      for (int64_t t0 = 0; t0 < T; t0 += kTile) {
        const int64_t rows = std::min(kTile, T - t0), keys = t0 + rows;  // keys 0 .. t0+rows−1
        const float* a[kTile];
        float* s_out[kTile];
        const float* coef[kTile];
        float* o_out[kTile];
        for (int64_t r = 0; r < kTile; ++r) {
          const int64_t t = t0 + std::min(r, rows - 1);  // rows past T repeat the last one
          a[r] = q + t * C3;
          s_out[r] = rows_s + r * Tp;
          coef[r] = p + t * T;
          o_out[r] = r < rows ? o + (t0 + r) * C : discard + r * hd;
        }
        const int64_t width = round_up(keys, 16);  // the columns this tile's products use
        rows_times_packed_range(a, kt, Tp, hd, width, s_out, scale);
        for (int64_t r = 0; r < rows; ++r) {
          // Softmax over the whole vectors of the row (masked scores give e^−87·… ≈ 1e-38, below
          // the rounding of a sum ≥ 1, and are set to exactly zero afterwards). The row of P is
          // written, zeros past t, out to the tile's width: a tile of 6 rows can straddle a multiple
          // of 16, and this P·V and the backward's Pᵀ·dO read that far (whatever att held before,
          // e.g. a forward of another length, must not leak in).
          const int64_t t = t0 + r, n16 = round_up(t + 1, 16);
          float* srow = rows_s + r * Tp;
          std::fill(srow + t + 1, srow + n16, -3.0e38f);
          softmax_row16(srow, n16);
          std::fill(srow + t + 1, srow + width, 0.0f);
          std::copy(srow, srow + std::min(T, width), p + t * T);
        }
        coefficients_times_rows_range(coef, 1, vc, hd, keys, hd, o_out);
      }
    }
  });
}

void attention_backward_tiled(float* dqkv, const float* dout, const float* qkv, const float* att,
                              int64_t B, int64_t T, int64_t C, int64_t NH, int threads) {
  const int64_t hd = C / NH, C3 = 3 * C, Tp = round_up(T, 16);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const double attention_cost = 2.0 * T * (T + 1.0) * hd + 8.0 * T * T;
  parallel_ranges(B * NH, threads, attention_cost, [&](int64_t begin, int64_t end) {
    std::vector<float>& ws =
        attention_workspace(static_cast<size_t>(hd * Tp + 3 * T * hd + T * Tp + kTile * Tp + kTile * hd));
    float* vt = ws.data();                 // Vᵀ of the head, hd × Tp
    float* qc = vt + hd * Tp;              // Q, K and dO of the head, T × hd each
    float* kc = qc + T * hd;
    float* dc = kc + T * hd;
    float* ds = dc + T * hd;               // dP, then dS, T × Tp
    float* tail = ds + T * Tp;             // dP of rows past T, kTile × Tp
    float* discard = tail + kTile * Tp;    // outputs of rows past T
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
      pack_rows(qc, q, C3, T, hd);
      pack_rows(kc, k, C3, T, hd);
      pack_rows(dc, d, C, T, hd);
      pack_transposed(vt, v, C3, T, Tp, hd);
      const float* a[kTile];
      float* rows_out[kTile];
      const float* coef[kTile];
      float* o_out[kTile];
      for (int64_t t0 = 0; t0 < T; t0 += kTile) {
        const int64_t rows = std::min(kTile, T - t0), keys = t0 + rows;
        for (int64_t r = 0; r < kTile; ++r) {
          const int64_t t = t0 + std::min(r, rows - 1);
          a[r] = dc + t * hd;
          rows_out[r] = r < rows ? ds + t * Tp : tail + r * Tp;
          coef[r] = ds + t * Tp;
          o_out[r] = r < rows ? dq + (t0 + r) * C3 : discard + r * hd;
        }
        // dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(P ⊙ dP)), with the softmax scale folded in.
        rows_times_packed_range(a, vt, Tp, hd, round_up(keys, 16), rows_out, 1.0f);
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t t = t0 + r;
          const float* pr = p + t * T;
          float* sr = ds + t * Tp;
          // Whole vectors where the row of P has them (its zeros past t make them exact).
          const int64_t n = round_up(t + 1, 16);
          if (n <= T) {
            softmax_grad_row16(sr, pr, scale, n);
          } else {
            attention_row_grad(sr, pr, attention_row_dot(pr, sr, t + 1), scale, t + 1);
            std::fill(sr + t + 1, sr + n, 0.0f);
          }
          std::fill(sr + n, sr + Tp, 0.0f);
        }
        // dQ = dS·K over the keys 0 .. t0+rows−1.
        coefficients_times_rows_range(coef, 1, kc, hd, keys, hd, o_out);
      }
      // dK = dSᵀ·Q and dV = Pᵀ·dO for keys s0 .. s0+kTile−1, over the queries s0 .. T−1.
      for (int64_t s0 = 0; s0 < T; s0 += kTile) {
        const int64_t keys = std::min(kTile, T - s0);
        const float* dcoef[kTile];
        float* dk_out[kTile];
        float* dv_out[kTile];
        for (int64_t r = 0; r < kTile; ++r) {
          const int64_t s = s0 + std::min(r, keys - 1);  // keys past T repeat the last one
          coef[r] = ds + s0 * Tp + s;
          dcoef[r] = p + s0 * T + s;
          dk_out[r] = r < keys ? dk + (s0 + r) * C3 : discard + r * hd;
          dv_out[r] = r < keys ? dv + (s0 + r) * C3 : discard + r * hd;
        }
        coefficients_times_rows_range(coef, Tp, qc + s0 * hd, hd, T - s0, hd, dk_out);
        coefficients_times_rows_range(dcoef, T, dc + s0 * hd, hd, T - s0, hd, dv_out);
      }
    }
  });
}

}  // namespace

void attention_forward(float* out, float* att, const float* qkv, int64_t B, int64_t T, int64_t C,
                       int64_t NH, int threads) {
  if ((C / NH) % 16 == 0) attention_forward_tiled(out, att, qkv, B, T, C, NH, threads);
  else attention_forward_blocked(out, att, qkv, B, T, C, NH, threads);
}

int64_t attention_scratch_floats(int64_t T, int threads) { return T * T * std::max(1, threads); }

void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att,
                        float* scratch, int64_t B, int64_t T, int64_t C, int64_t NH, int threads) {
  if ((C / NH) % 16 == 0) attention_backward_tiled(dqkv, dout, qkv, att, B, T, C, NH, threads);
  else attention_backward_blocked(dqkv, dout, qkv, att, scratch, B, T, C, NH, threads);
}

// ---- Pointwise ----------------------------------------------------------------------------------

namespace {

constexpr float kGeluScale = 0.7978845608028654f;  // √(2/π)

// tanh(u) = 1 − 2/(e^{2u} + 1); |u| ≥ 10 is ±1 in float (at 9 it is still 1 − 2^-24, and the
// GELU's gradient at large x came out off by ~1e-8·x³).
inline float tanh_approx(float u) {
  u = std::min(10.0f, std::max(-10.0f, u));
  return 1.0f - 2.0f / (exp_approx(2.0f * u) + 1.0f);
}

#if defined(__x86_64__) && defined(__GNUC__)
// The GELU on AVX-512, 16 floats at a time, as the portable loops below compute it but with
// 1/(e^{2u} + 1) from vrcp14ps and one Newton step (relative error ~1e-8) instead of a division:
// the division made the GELU passes twice as slow (0.51 against 1.07 ms per 2M floats here).
#define SCALELAB_AVX512_FN __attribute__((target("avx512f")))
#pragma GCC diagnostic push  // GCC 12 warns, wrongly, that its intrinsics read uninitialised values
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// tanh(u) for u clamped to [−10, 10], as tanh_approx: 1 − 2/(e^{2u} + 1), e^t = 2^n·e^r.
SCALELAB_AVX512_FN __attribute__((always_inline)) inline __m512 tanh16(__m512 u) {
  u = _mm512_min_ps(_mm512_set1_ps(10.0f), _mm512_max_ps(_mm512_set1_ps(-10.0f), u));
  const __m512 t = _mm512_add_ps(u, u);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f),
                                    _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), t));
  __m512 p = _mm512_set1_ps(1.0f / 720);
  for (float c : {1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
  const __m512 d = _mm512_add_ps(_mm512_scalef_ps(p, n), _mm512_set1_ps(1.0f));  // e^{2u} + 1
  __m512 inv = _mm512_rcp14_ps(d);
  inv = _mm512_mul_ps(inv, _mm512_fnmadd_ps(d, inv, _mm512_set1_ps(2.0f)));
  return _mm512_fnmadd_ps(_mm512_set1_ps(2.0f), inv, _mm512_set1_ps(1.0f));
}

// u = √(2/π)·(x + 0.044715·x³)
SCALELAB_AVX512_FN __attribute__((always_inline)) inline __m512 gelu_u16(__m512 x) {
  const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  return _mm512_mul_ps(_mm512_set1_ps(kGeluScale), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
}

SCALELAB_AVX512_FN void gelu_forward_avx512(float* out, const float* inp, int64_t n) {
  for (int64_t i = 0; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(inp + i);
    const __m512 th = tanh16(gelu_u16(x));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x),
                                            _mm512_add_ps(_mm512_set1_ps(1.0f), th)));
  }
}

SCALELAB_AVX512_FN void gelu_backward_avx512(float* dinp, const float* inp, const float* dout, int64_t n) {
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(inp + i);
    const __m512 th = tanh16(gelu_u16(x));
    const __m512 sech2 = _mm512_fnmadd_ps(th, th, one);
    // 0.5·(1 + th) + 0.5·x·sech²·√(2/π)·(1 + 3·0.044715·x²)
    const __m512 du = _mm512_mul_ps(
        _mm512_set1_ps(kGeluScale), _mm512_fmadd_ps(_mm512_set1_ps(3.0f * 0.044715f), _mm512_mul_ps(x, x), one));
    const __m512 grad = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_mul_ps(half, x), sech2), du,
                                        _mm512_mul_ps(half, _mm512_add_ps(one, th)));
    _mm512_storeu_ps(dinp + i, _mm512_mul_ps(grad, _mm512_loadu_ps(dout + i)));
  }
}

// The same on AVX2 with FMA, 8 floats at a time: 2^n built in the exponent bits (no vscalefps),
// and vrcpps (12 bits) with two Newton steps for the division (with one, the gradient near x = −4,
// where 1 + tanh cancels, was off by 4e-6 on Zen 4, where test_train allows 2e-6).
#define SCALELAB_AVX2_FN __attribute__((target("avx2,fma")))

SCALELAB_AVX2_FN __attribute__((always_inline)) inline __m256 tanh8(__m256 u) {
  u = _mm256_min_ps(_mm256_set1_ps(10.0f), _mm256_max_ps(_mm256_set1_ps(-10.0f), u));
  const __m256 t = _mm256_add_ps(u, u);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f),
                                    _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), t));
  __m256 p = _mm256_set1_ps(1.0f / 720);
  for (float c : {1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
  // 2^n for n in [−29, 29] (|t| ≤ 20): the exponent field alone.
  const __m256 scale = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  const __m256 d = _mm256_add_ps(_mm256_mul_ps(p, scale), _mm256_set1_ps(1.0f));  // e^{2u} + 1
  // Newton's step as inv + inv·(1 − d·inv): written inv·(2 − d·inv), it stalls at 1 − 2^-24 for
  // d = 1 (2 − d·inv rounds to 1), and the gradient far below zero came out nonzero.
  __m256 inv = _mm256_rcp_ps(d);
  inv = _mm256_fmadd_ps(inv, _mm256_fnmadd_ps(d, inv, _mm256_set1_ps(1.0f)), inv);
  inv = _mm256_fmadd_ps(inv, _mm256_fnmadd_ps(d, inv, _mm256_set1_ps(1.0f)), inv);
  return _mm256_fnmadd_ps(_mm256_set1_ps(2.0f), inv, _mm256_set1_ps(1.0f));
}

SCALELAB_AVX2_FN __attribute__((always_inline)) inline __m256 gelu_u8(__m256 x) {
  const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  return _mm256_mul_ps(_mm256_set1_ps(kGeluScale), _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
}

SCALELAB_AVX2_FN void gelu_forward_avx2(float* out, const float* inp, int64_t n) {
  for (int64_t i = 0; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(inp + i);
    const __m256 th = tanh8(gelu_u8(x));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x),
                                            _mm256_add_ps(_mm256_set1_ps(1.0f), th)));
  }
}

SCALELAB_AVX2_FN void gelu_backward_avx2(float* dinp, const float* inp, const float* dout, int64_t n) {
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(inp + i);
    const __m256 th = tanh8(gelu_u8(x));
    const __m256 sech2 = _mm256_fnmadd_ps(th, th, one);
    const __m256 du = _mm256_mul_ps(
        _mm256_set1_ps(kGeluScale), _mm256_fmadd_ps(_mm256_set1_ps(3.0f * 0.044715f), _mm256_mul_ps(x, x), one));
    const __m256 grad = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(half, x), sech2), du,
                                        _mm256_mul_ps(half, _mm256_add_ps(one, th)));
    _mm256_storeu_ps(dinp + i, _mm256_mul_ps(grad, _mm256_loadu_ps(dout + i)));
  }
}

#pragma GCC diagnostic pop
#endif

// The GELU's vector loops for this machine: `width` floats at a time over the body of a range (the
// rest goes to the portable loops below).
struct GeluKernels {
  int64_t width = 0;
  void (*forward)(float*, const float*, int64_t) = nullptr;
  void (*backward)(float*, const float*, const float*, int64_t) = nullptr;
};

GeluKernels gelu_kernels() {
#if defined(__x86_64__) && defined(__GNUC__)
  switch (core::vector_level()) {
    case core::VectorLevel::Avx512: return {16, gelu_forward_avx512, gelu_backward_avx512};
    case core::VectorLevel::Avx2: return {8, gelu_forward_avx2, gelu_backward_avx2};
    case core::VectorLevel::Baseline: break;
  }
#endif
  return {};
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
    const GeluKernels vector = gelu_kernels();
    const int64_t body = vector.width ? (end - begin) / vector.width * vector.width : 0;
    if (body) vector.forward(out + begin, inp + begin, body);
    gelu_forward_range(out + begin + body, inp + begin + body, end - begin - body);
  });
}

void gelu_backward(float* dinp, const float* inp, const float* dout, int64_t n, int threads) {
  parallel_ranges(n, threads, 20.0, [&](int64_t begin, int64_t end) {
    const GeluKernels vector = gelu_kernels();
    const int64_t body = vector.width ? (end - begin) / vector.width * vector.width : 0;
    if (body) vector.backward(dinp + begin, inp + begin, dout + begin, body);
    gelu_backward_range(dinp + begin + body, inp + begin + body, dout + begin + body,
                        end - begin - body);
  });
}

void residual_forward(float* out, const float* a, const float* b, int64_t n, int threads) {
  parallel_ranges(n, threads, 20.0, [&](int64_t begin, int64_t end) {
    add_range(out + begin, a + begin, b + begin, end - begin);
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
