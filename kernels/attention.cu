// Causal multi-head attention, flash-style: the T×T scores live only as 64×64 tiles in shared
// memory, never in device memory. Tensor cores through WMMA (bf16 in, fp32 accumulate).
//
// Forward (one block of 4 warps per 64 queries of one (batch, head)): for each 64-key tile at or
// below the diagonal, S = Q·Kᵀ, then the online softmax (running max m and sum l per row) turns S
// into P (bf16) and rescales the running output, O += P·V. At the end O /= l and the row's
// log-sum-exp m + log l is saved for the backward pass.
//
// Backward (FlashAttention-2's equations, with D = rowsum(dO ⊙ O)):
//   P = exp(scale·Q·Kᵀ − lse),  dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − D)·scale,
//   dK = dSᵀ·Q,  dQ = dS·K.
// To stay deterministic without atomics, dK and dV come from one kernel (a block per key tile,
// looping over the query tiles below it) and dQ from another (a block per query tile, looping over
// the key tiles): S and dP are computed twice, the price of no atomic dQ accumulation.
//
// Warp w of a block owns rows 16w..16w+15 of every 64-row tile it produces, so the per-row softmax
// work needs only __syncwarp; whole-tile reads of shared data are fenced by __syncthreads.
#include <mma.h>

#include <cmath>

#include "kernels/check.h"
#include "kernels/ops.h"

namespace scalelab::cuda {

namespace {

using namespace nvcuda;

constexpr int kTile = 64;       // rows of a query tile and of a key tile
constexpr int kThreads = 128;   // 4 warps, 16 rows each
constexpr int kLdS = kTile + 4;  // fp32 score tiles: padded row stride (floats)
constexpr int kLdP = kTile + 8;  // bf16 probability tiles: padded row stride (elements)

template <int HD>
struct Dims {
  static constexpr int kLd = HD + 8;   // bf16 Q/K/V/dO tiles: padded row stride (elements)
  static constexpr int kLdO = HD + 4;  // fp32 output tiles: padded row stride (floats)
};

using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major>;
using FragAT = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::col_major>;
using FragBRow = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major>;
using FragBCol = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

__device__ inline float warp_max(float x) {
  for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}
__device__ inline float warp_sum(float x) {
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

// Copies rows row0..row0+63 (HD bf16 each, source row stride `stride`) into a padded tile, 16 bytes
// per access; rows at or beyond T are filled with zeros (never garbage: 0·NaN would poison P·V).
template <int HD>
__device__ void load_tile(bf16* dst, const bf16* src, int64_t stride, int row0, int T) {
  constexpr int kChunks = HD / 8;
  for (int i = threadIdx.x; i < kTile * kChunks; i += kThreads) {
    const int r = i / kChunks, c = (i % kChunks) * 8;
    uint4 value = make_uint4(0, 0, 0, 0);
    if (row0 + r < T) value = *reinterpret_cast<const uint4*>(src + (row0 + r) * stride + c);
    *reinterpret_cast<uint4*>(dst + r * Dims<HD>::kLd + c) = value;
  }
}

// S[16 rows of the warp][64] = A[rows][HD]·Bᵀ where B is a 64×HD tile (row-major), fp32 into sS.
template <int HD>
__device__ void warp_scores(float* sS, const bf16* sA, const bf16* sB, int warp) {
  constexpr int kLd = Dims<HD>::kLd;
  FragC acc[kTile / 16];
#pragma unroll
  for (int j = 0; j < kTile / 16; ++j) wmma::fill_fragment(acc[j], 0.0f);
#pragma unroll
  for (int kk = 0; kk < HD / 16; ++kk) {
    FragA a;
    wmma::load_matrix_sync(a, sA + warp * 16 * kLd + kk * 16, kLd);
#pragma unroll
    for (int j = 0; j < kTile / 16; ++j) {
      FragBCol b;  // Bᵀ as a column-major 16×16 block: element (k, n) at n·kLd + k
      wmma::load_matrix_sync(b, sB + j * 16 * kLd + kk * 16, kLd);
      wmma::mma_sync(acc[j], a, b, acc[j]);
    }
  }
#pragma unroll
  for (int j = 0; j < kTile / 16; ++j)
    wmma::store_matrix_sync(sS + warp * 16 * kLdS + j * 16, acc[j], kLdS, wmma::mem_row_major);
}

template <int HD>
constexpr size_t forward_smem_bytes() {
  return sizeof(bf16) * 3 * kTile * Dims<HD>::kLd       // Q, K, V
         + sizeof(float) * kTile * kLdS                  // S
         + sizeof(bf16) * kTile * kLdP                   // P
         + sizeof(float) * kTile * Dims<HD>::kLdO        // O
         + sizeof(float) * 2 * kTile;                    // m, l
}

template <int HD>
__global__ void __launch_bounds__(kThreads)
attention_forward_kernel(bf16* out, float* lse, const bf16* qkv, int T, int C, int NH, float scale) {
  constexpr int kLd = Dims<HD>::kLd, kLdO = Dims<HD>::kLdO;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* sQ = reinterpret_cast<bf16*>(smem);
  bf16* sK = sQ + kTile * kLd;
  bf16* sV = sK + kTile * kLd;
  float* sS = reinterpret_cast<float*>(sV + kTile * kLd);
  bf16* sP = reinterpret_cast<bf16*>(sS + kTile * kLdS);
  float* sO = reinterpret_cast<float*>(sP + kTile * kLdP);
  float* sM = sO + kTile * kLdO;
  float* sL = sM + kTile;

  const int qt = gridDim.x - 1 - blockIdx.x;  // the longest rows first
  const int bh = blockIdx.y, b = bh / NH, h = bh % NH;
  const int q0 = qt * kTile;
  const int64_t stride = 3 * static_cast<int64_t>(C);
  const bf16* base = qkv + static_cast<int64_t>(b) * T * stride;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  load_tile<HD>(sQ, base + h * HD, stride, q0, T);
  for (int i = threadIdx.x; i < kTile * kLdO; i += kThreads) sO[i] = 0.0f;
  for (int i = threadIdx.x; i < kTile; i += kThreads) {
    sM[i] = -INFINITY;
    sL[i] = 0.0f;
  }

  for (int kt = 0; kt <= qt; ++kt) {
    const int k0 = kt * kTile;
    __syncthreads();  // the previous tile's K, V are no longer read (and Q, O, m, l are ready)
    load_tile<HD>(sK, base + C + h * HD, stride, k0, T);
    load_tile<HD>(sV, base + 2 * C + h * HD, stride, k0, T);
    __syncthreads();

    warp_scores<HD>(sS, sQ, sK, warp);
    __syncwarp();

    // Online softmax over the warp's 16 rows; lanes take columns lane and lane + 32.
    for (int r = 0; r < 16; ++r) {
      const int row = warp * 16 + r, qi = q0 + row;
      const float m_old = sM[row], l_old = sL[row];
      float s0 = sS[row * kLdS + lane] * scale, s1 = sS[row * kLdS + lane + 32] * scale;
      if (k0 + lane > qi) s0 = -INFINITY;
      if (k0 + lane + 32 > qi) s1 = -INFINITY;
      // Key k0 ≤ qi is never masked (kt ≤ qt), so the row max is finite.
      const float m_new = fmaxf(m_old, warp_max(fmaxf(s0, s1)));
      const float p0 = __expf(s0 - m_new), p1 = __expf(s1 - m_new);
      const float sum = warp_sum(p0 + p1);
      const float correction = __expf(m_old - m_new);  // 0 on the first tile (m_old = −∞)
      sP[row * kLdP + lane] = __float2bfloat16_rn(p0);
      sP[row * kLdP + lane + 32] = __float2bfloat16_rn(p1);
      for (int c = lane; c < HD; c += 32) sO[row * kLdO + c] *= correction;
      __syncwarp();  // every lane has read m_old, l_old
      if (lane == 0) {
        sM[row] = m_new;
        sL[row] = l_old * correction + sum;
      }
    }
    __syncwarp();

    // O[warp's rows] += P[warp's rows]·V
    {
      FragC o[HD / 16];
#pragma unroll
      for (int j = 0; j < HD / 16; ++j)
        wmma::load_matrix_sync(o[j], sO + warp * 16 * kLdO + j * 16, kLdO, wmma::mem_row_major);
#pragma unroll
      for (int kk = 0; kk < kTile / 16; ++kk) {
        FragA a;
        wmma::load_matrix_sync(a, sP + warp * 16 * kLdP + kk * 16, kLdP);
#pragma unroll
        for (int j = 0; j < HD / 16; ++j) {
          FragBRow v;
          wmma::load_matrix_sync(v, sV + kk * 16 * kLd + j * 16, kLd);
          wmma::mma_sync(o[j], a, v, o[j]);
        }
      }
#pragma unroll
      for (int j = 0; j < HD / 16; ++j)
        wmma::store_matrix_sync(sO + warp * 16 * kLdO + j * 16, o[j], kLdO, wmma::mem_row_major);
    }
    __syncwarp();
  }

  for (int r = 0; r < 16; ++r) {
    const int row = warp * 16 + r, qi = q0 + row;
    if (qi >= T) break;
    const float l = sL[row];
    const float inv = 1.0f / l;
    bf16* o = out + (static_cast<int64_t>(b) * T + qi) * C + h * HD;
    for (int c = lane; c < HD; c += 32) o[c] = __float2bfloat16_rn(sO[row * kLdO + c] * inv);
    if (lane == 0) lse[static_cast<int64_t>(bh) * T + qi] = sM[row] + logf(l);
  }
}

// delta[bh][t] = Σ_c dout[b,t,h,c]·out[b,t,h,c]: one warp per (b, t, h).
__global__ void attention_delta_kernel(float* delta, const bf16* dout, const bf16* out, int B, int T,
                                       int C, int NH) {
  const int64_t row = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;  // (b, t, h)
  const int lane = threadIdx.x % 32;
  if (row >= static_cast<int64_t>(B) * T * NH) return;
  const int hd = C / NH;
  const int h = static_cast<int>(row % NH);
  const int64_t bt = row / NH;
  const int b = static_cast<int>(bt / T), t = static_cast<int>(bt % T);
  const bf16* d = dout + bt * C + h * hd;
  const bf16* o = out + bt * C + h * hd;
  float sum = 0;
  for (int c = lane; c < hd; c += 32) sum += __bfloat162float(d[c]) * __bfloat162float(o[c]);
  sum = warp_sum(sum);
  if (lane == 0) delta[(static_cast<int64_t>(b) * NH + h) * T + t] = sum;
}

// The warp's 16 rows of P and dS from S and dP (in sS, sdP): P = exp(scale·S − lse), zero where
// the key is after the query or the query is beyond T; dS = P·(dP − D)·scale.
__device__ void warp_probabilities(bf16* sP, bf16* sdS, const float* sS, const float* sdP,
                                   const float* sLse, const float* sD, int q0, int k0, int T,
                                   float scale, int warp, int lane) {
  for (int r = 0; r < 16; ++r) {
    const int row = warp * 16 + r, qi = q0 + row;
    const float lse = sLse[row], D = sD[row];
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int col = lane + 32 * half, kj = k0 + col;
      float p = 0.0f;
      if (qi < T && kj <= qi) p = __expf(sS[row * kLdS + col] * scale - lse);
      const float ds = p * (sdP[row * kLdS + col] - D) * scale;
      sP[row * kLdP + col] = __float2bfloat16_rn(p);
      sdS[row * kLdP + col] = __float2bfloat16_rn(ds);
    }
  }
}

template <int HD>
constexpr size_t backward_smem_bytes() {
  return sizeof(bf16) * 4 * kTile * Dims<HD>::kLd  // Q, dO, K, V
         + sizeof(float) * 2 * kTile * kLdS         // S, dP (reused to stage the output)
         + sizeof(bf16) * 2 * kTile * kLdP          // P, dS
         + sizeof(float) * 2 * kTile;               // lse, D
}

// Writes the warp's 16 rows of a 64×HD fp32 fragment set to dst rows row0.. (bf16), staging
// through shared memory (`stage`, kTile × kLdO floats).
template <int HD>
__device__ void store_rows(bf16* dst, int64_t stride, FragC (&frag)[HD / 16], float* stage,
                           int row0, int T, int warp, int lane) {
  constexpr int kLdO = Dims<HD>::kLdO;
#pragma unroll
  for (int j = 0; j < HD / 16; ++j)
    wmma::store_matrix_sync(stage + warp * 16 * kLdO + j * 16, frag[j], kLdO, wmma::mem_row_major);
  __syncwarp();
  for (int r = 0; r < 16; ++r) {
    const int row = warp * 16 + r;
    if (row0 + row >= T) break;
    for (int c = lane; c < HD; c += 32)
      dst[(row0 + row) * stride + c] = __float2bfloat16_rn(stage[row * kLdO + c]);
  }
  __syncwarp();
}

// dK and dV for one 64-key tile, looping over the query tiles at or after it.
template <int HD>
__global__ void __launch_bounds__(kThreads)
attention_backward_kv_kernel(bf16* dqkv, const bf16* dout, const bf16* qkv, const float* lse,
                             const float* delta, int T, int C, int NH, float scale) {
  constexpr int kLd = Dims<HD>::kLd;
  static_assert(kTile * Dims<HD>::kLdO <= 2 * kTile * kLdS, "staging area too small");
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* sQ = reinterpret_cast<bf16*>(smem);
  bf16* sdO = sQ + kTile * kLd;
  bf16* sK = sdO + kTile * kLd;
  bf16* sV = sK + kTile * kLd;
  float* sS = reinterpret_cast<float*>(sV + kTile * kLd);
  float* sdP = sS + kTile * kLdS;
  bf16* sP = reinterpret_cast<bf16*>(sdP + kTile * kLdS);
  bf16* sdS = sP + kTile * kLdP;
  float* sLse = reinterpret_cast<float*>(sdS + kTile * kLdP);
  float* sD = sLse + kTile;

  const int kt = blockIdx.x;
  const int bh = blockIdx.y, b = bh / NH, h = bh % NH;
  const int k0 = kt * kTile;
  const int64_t stride = 3 * static_cast<int64_t>(C);
  const bf16* base = qkv + static_cast<int64_t>(b) * T * stride;
  const bf16* dbase = dout + static_cast<int64_t>(b) * T * C;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int tiles = (T + kTile - 1) / kTile;

  load_tile<HD>(sK, base + C + h * HD, stride, k0, T);
  load_tile<HD>(sV, base + 2 * C + h * HD, stride, k0, T);

  FragC dk[HD / 16], dv[HD / 16];  // rows 16·warp.. of this key tile
#pragma unroll
  for (int j = 0; j < HD / 16; ++j) {
    wmma::fill_fragment(dk[j], 0.0f);
    wmma::fill_fragment(dv[j], 0.0f);
  }

  for (int qt = kt; qt < tiles; ++qt) {
    const int q0 = qt * kTile;
    __syncthreads();  // the previous query tile is no longer read
    load_tile<HD>(sQ, base + h * HD, stride, q0, T);
    load_tile<HD>(sdO, dbase + h * HD, C, q0, T);
    for (int i = threadIdx.x; i < kTile; i += kThreads) {
      const bool valid = q0 + i < T;
      sLse[i] = valid ? lse[static_cast<int64_t>(bh) * T + q0 + i] : 0.0f;
      sD[i] = valid ? delta[static_cast<int64_t>(bh) * T + q0 + i] : 0.0f;
    }
    __syncthreads();

    warp_scores<HD>(sS, sQ, sK, warp);    // S  = Q·Kᵀ   (the warp's query rows)
    warp_scores<HD>(sdP, sdO, sV, warp);  // dP = dO·Vᵀ
    __syncwarp();
    warp_probabilities(sP, sdS, sS, sdP, sLse, sD, q0, k0, T, scale, warp, lane);
    __syncthreads();  // dV and dK read every query row of P and dS

    // dV[warp's keys] += Pᵀ·dO and dK[warp's keys] += dSᵀ·Q, over the 64 queries.
#pragma unroll
    for (int kk = 0; kk < kTile / 16; ++kk) {
      FragAT pt, dst;  // Pᵀ block: element (key m, query k) at P[k][m], i.e. column-major
      wmma::load_matrix_sync(pt, sP + kk * 16 * kLdP + warp * 16, kLdP);
      wmma::load_matrix_sync(dst, sdS + kk * 16 * kLdP + warp * 16, kLdP);
#pragma unroll
      for (int j = 0; j < HD / 16; ++j) {
        FragBRow o, q;
        wmma::load_matrix_sync(o, sdO + kk * 16 * kLd + j * 16, kLd);
        wmma::mma_sync(dv[j], pt, o, dv[j]);
        wmma::load_matrix_sync(q, sQ + kk * 16 * kLd + j * 16, kLd);
        wmma::mma_sync(dk[j], dst, q, dk[j]);
      }
    }
  }
  __syncthreads();  // S and dP become the staging area
  bf16* dbase_qkv = dqkv + static_cast<int64_t>(b) * T * stride;
  store_rows<HD>(dbase_qkv + C + h * HD, stride, dk, sS, k0, T, warp, lane);
  store_rows<HD>(dbase_qkv + 2 * C + h * HD, stride, dv, sS, k0, T, warp, lane);
}

// dQ for one 64-query tile, looping over the key tiles at or before it.
template <int HD>
__global__ void __launch_bounds__(kThreads)
attention_backward_q_kernel(bf16* dqkv, const bf16* dout, const bf16* qkv, const float* lse,
                            const float* delta, int T, int C, int NH, float scale) {
  constexpr int kLd = Dims<HD>::kLd;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* sQ = reinterpret_cast<bf16*>(smem);
  bf16* sdO = sQ + kTile * kLd;
  bf16* sK = sdO + kTile * kLd;
  bf16* sV = sK + kTile * kLd;
  float* sS = reinterpret_cast<float*>(sV + kTile * kLd);
  float* sdP = sS + kTile * kLdS;
  bf16* sP = reinterpret_cast<bf16*>(sdP + kTile * kLdS);
  bf16* sdS = sP + kTile * kLdP;
  float* sLse = reinterpret_cast<float*>(sdS + kTile * kLdP);
  float* sD = sLse + kTile;

  const int qt = gridDim.x - 1 - blockIdx.x;  // the longest rows first
  const int bh = blockIdx.y, b = bh / NH, h = bh % NH;
  const int q0 = qt * kTile;
  const int64_t stride = 3 * static_cast<int64_t>(C);
  const bf16* base = qkv + static_cast<int64_t>(b) * T * stride;
  const bf16* dbase = dout + static_cast<int64_t>(b) * T * C;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  load_tile<HD>(sQ, base + h * HD, stride, q0, T);
  load_tile<HD>(sdO, dbase + h * HD, C, q0, T);
  for (int i = threadIdx.x; i < kTile; i += kThreads) {
    const bool valid = q0 + i < T;
    sLse[i] = valid ? lse[static_cast<int64_t>(bh) * T + q0 + i] : 0.0f;
    sD[i] = valid ? delta[static_cast<int64_t>(bh) * T + q0 + i] : 0.0f;
  }

  FragC dq[HD / 16];  // the warp's 16 query rows
#pragma unroll
  for (int j = 0; j < HD / 16; ++j) wmma::fill_fragment(dq[j], 0.0f);

  for (int kt = 0; kt <= qt; ++kt) {
    const int k0 = kt * kTile;
    __syncthreads();  // the previous key tile is no longer read
    load_tile<HD>(sK, base + C + h * HD, stride, k0, T);
    load_tile<HD>(sV, base + 2 * C + h * HD, stride, k0, T);
    __syncthreads();

    warp_scores<HD>(sS, sQ, sK, warp);
    warp_scores<HD>(sdP, sdO, sV, warp);
    __syncwarp();
    warp_probabilities(sP, sdS, sS, sdP, sLse, sD, q0, k0, T, scale, warp, lane);
    __syncwarp();  // dQ reads only the warp's own rows of dS

#pragma unroll
    for (int kk = 0; kk < kTile / 16; ++kk) {
      FragA a;
      wmma::load_matrix_sync(a, sdS + warp * 16 * kLdP + kk * 16, kLdP);
#pragma unroll
      for (int j = 0; j < HD / 16; ++j) {
        FragBRow k;
        wmma::load_matrix_sync(k, sK + kk * 16 * kLd + j * 16, kLd);
        wmma::mma_sync(dq[j], a, k, dq[j]);
      }
    }
  }
  __syncthreads();
  bf16* dbase_qkv = dqkv + static_cast<int64_t>(b) * T * stride;
  store_rows<HD>(dbase_qkv + h * HD, stride, dq, sS, q0, T, warp, lane);
}

template <class Kernel>
void allow_smem(Kernel kernel, size_t bytes) {
  // Above 48 KB a kernel needs the opt-in; done at every launch (cheap) so that it also holds
  // for every device the process uses.
  SCALELAB_CUDA(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                     static_cast<int>(bytes)));
}

template <int HD>
void forward(bf16* out, float* lse, const bf16* qkv, int B, int T, int C, int NH,
             cudaStream_t stream) {
  const size_t smem = forward_smem_bytes<HD>();
  allow_smem(attention_forward_kernel<HD>, smem);
  const dim3 grid((T + kTile - 1) / kTile, B * NH);
  const float scale = 1.0f / sqrtf(static_cast<float>(HD));
  attention_forward_kernel<HD><<<grid, kThreads, smem, stream>>>(out, lse, qkv, T, C, NH, scale);
  SCALELAB_CUDA_LAUNCHED();
}

template <int HD>
void backward(bf16* dqkv, const float* delta, const bf16* dout, const bf16* qkv, const float* lse,
              int B, int T, int C, int NH, cudaStream_t stream) {
  const size_t smem = backward_smem_bytes<HD>();
  allow_smem(attention_backward_kv_kernel<HD>, smem);
  allow_smem(attention_backward_q_kernel<HD>, smem);
  const dim3 grid((T + kTile - 1) / kTile, B * NH);
  const float scale = 1.0f / sqrtf(static_cast<float>(HD));
  attention_backward_kv_kernel<HD><<<grid, kThreads, smem, stream>>>(dqkv, dout, qkv, lse, delta, T,
                                                                     C, NH, scale);
  SCALELAB_CUDA_LAUNCHED();
  attention_backward_q_kernel<HD><<<grid, kThreads, smem, stream>>>(dqkv, dout, qkv, lse, delta, T,
                                                                    C, NH, scale);
  SCALELAB_CUDA_LAUNCHED();
}

void check_shape(int64_t B, int64_t T, int64_t C, int64_t NH) {
  if (NH <= 0 || C % NH != 0) fail("attention: n_head (", NH, ") must divide d_model (", C, ")");
  if (!attention_supports(C / NH))
    fail("the CUDA attention kernel supports head sizes 32, 64 and 128, not ", C / NH,
         " (d_model ", C, " / n_head ", NH, "); choose n_head so that d_model / n_head is one of "
         "them, or use backend = \"cpu\"");
  if (B * NH > 65535) fail("attention: batch × heads (", B * NH, ") exceeds 65535");
  if (T > (int64_t{1} << 30)) fail("attention: sequence length ", T, " is too long");
}

}  // namespace

bool attention_supports(int64_t head_dim) {
  return head_dim == 32 || head_dim == 64 || head_dim == 128;
}

void attention_forward(bf16* out, float* lse, const bf16* qkv, int64_t B, int64_t T, int64_t C,
                       int64_t NH, cudaStream_t stream) {
  check_shape(B, T, C, NH);
  const int b = static_cast<int>(B), t = static_cast<int>(T), c = static_cast<int>(C),
            nh = static_cast<int>(NH);
  switch (C / NH) {
    case 32: forward<32>(out, lse, qkv, b, t, c, nh, stream); break;
    case 64: forward<64>(out, lse, qkv, b, t, c, nh, stream); break;
    case 128: forward<128>(out, lse, qkv, b, t, c, nh, stream); break;
  }
}

void attention_backward(bf16* dqkv, float* delta, const bf16* dout, const bf16* qkv,
                        const bf16* out, const float* lse, int64_t B, int64_t T, int64_t C,
                        int64_t NH, cudaStream_t stream) {
  check_shape(B, T, C, NH);
  const int b = static_cast<int>(B), t = static_cast<int>(T), c = static_cast<int>(C),
            nh = static_cast<int>(NH);
  const int64_t rows = B * T * NH;
  constexpr int kWarps = 8;
  attention_delta_kernel<<<static_cast<unsigned>((rows + kWarps - 1) / kWarps), kWarps * 32, 0,
                           stream>>>(delta, dout, out, b, t, c, nh);
  SCALELAB_CUDA_LAUNCHED();
  switch (C / NH) {
    case 32: backward<32>(dqkv, delta, dout, qkv, lse, b, t, c, nh, stream); break;
    case 64: backward<64>(dqkv, delta, dout, qkv, lse, b, t, c, nh, stream); break;
    case 128: backward<128>(dqkv, delta, dout, qkv, lse, b, t, c, nh, stream); break;
  }
}

}  // namespace scalelab::cuda
