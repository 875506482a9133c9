#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "kernels/check.h"
#include "kernels/ops.h"

namespace scalelab::cuda {

namespace {

constexpr float kLayerNormEps = 1e-5f;
constexpr float kGeluScale = 0.7978845608028654f;  // √(2/π)

inline unsigned blocks_for(int64_t n, int threads) {
  return static_cast<unsigned>(std::max<int64_t>(1, (n + threads - 1) / threads));
}

__device__ inline float warp_sum(float x) {
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

__device__ inline float to_f(float x) { return x; }
__device__ inline float to_f(bf16 x) { return __bfloat162float(x); }

// ---- Conversions ---------------------------------------------------------------------------------

__global__ void to_bf16_kernel(bf16* out, const float* in, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x)
    out[i] = __float2bfloat16_rn(in[i]);
}

__global__ void to_float_kernel(float* out, const bf16* in, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x)
    out[i] = __bfloat162float(in[i]);
}

unsigned grid_stride_blocks(int64_t n) {
  return static_cast<unsigned>(std::min<int64_t>(65535, std::max<int64_t>(1, (n + 255) / 256)));
}

// ---- Encoder -------------------------------------------------------------------------------------

__global__ void encoder_forward_kernel(float* out, const int32_t* inp, const float* wte,
                                       const float* wpe, int64_t NC, int64_t T, int64_t C) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < NC;
       i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t n = i / C, c = i % C, t = n % T;
    out[i] = wte[static_cast<int64_t>(inp[n]) * C + c] + wpe[t * C + c];
  }
}

// One block column per distinct token (blockIdx.x: up to 2³¹ − 1 of them); thread c sums that
// token's rows in increasing row order.
__global__ void encoder_backward_wte_kernel(float* dwte, const float* dout, const int32_t* tokens,
                                            const int32_t* starts, const int32_t* rows, int64_t C) {
  const int64_t u = blockIdx.x;
  const int64_t c = blockIdx.y * (int64_t)blockDim.x + threadIdx.x;
  if (c >= C) return;
  float sum = 0;
  for (int i = starts[u]; i < starts[u + 1]; ++i) sum += dout[static_cast<int64_t>(rows[i]) * C + c];
  dwte[static_cast<int64_t>(tokens[u]) * C + c] += sum;
}

__global__ void encoder_backward_wpe_kernel(float* dwpe, const float* dout, int64_t B, int64_t T,
                                            int64_t C) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;  // over T·C
  if (i >= T * C) return;
  float sum = 0;
  for (int64_t b = 0; b < B; ++b) sum += dout[b * T * C + i];
  dwpe[i] += sum;
}

// ---- LayerNorm -------------------------------------------------------------------------------------
// One warp per row; lanes stride the channels (coalesced). The row is re-read from global memory
// (L1-resident) for the second and third passes, as the CPU does.

__global__ void residual_layernorm_forward_kernel(float* residual_out, bf16* out, float* mean,
                                                  float* rstd, const float* a, const float* add,
                                                  const float* weight, const float* bias, int64_t N,
                                                  int64_t C) {
  const int lane = threadIdx.x % 32;
  const int64_t n = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;
  if (n >= N) return;
  const float* xa = a + n * C;
  const float* xb = add ? add + n * C : nullptr;
  float* xr = residual_out ? residual_out + n * C : nullptr;
  // The row x is a + add; it is read back from residual_out when there is one (each lane reads
  // back only what it wrote), else recomputed.
  float sum = 0;
  for (int64_t c = lane; c < C; c += 32) {
    const float x = xb ? xa[c] + xb[c] : xa[c];
    if (xr) xr[c] = x;
    sum += x;
  }
  sum = warp_sum(sum);
  const float m = sum / static_cast<float>(C);
  const float* x_row = xr ? xr : xa;
  float var = 0;
  for (int64_t c = lane; c < C; c += 32) {
    const float x = xr ? x_row[c] : (xb ? xa[c] + xb[c] : xa[c]);
    var += (x - m) * (x - m);
  }
  var = warp_sum(var);
  const float s = 1.0f / sqrtf(var / static_cast<float>(C) + kLayerNormEps);
  bf16* o = out + n * C;
  for (int64_t c = lane; c < C; c += 32) {
    const float x = xr ? x_row[c] : (xb ? xa[c] + xb[c] : xa[c]);
    o[c] = __float2bfloat16_rn((x - m) * s * weight[c] + bias[c]);
  }
  if (lane == 0) {
    mean[n] = m;
    rstd[n] = s;
  }
}

__global__ void layernorm_backward_rows_kernel(float* dinp, bf16* dinp_bf16, const float* dout,
                                               const float* inp, const float* weight,
                                               const float* mean, const float* rstd, int64_t N,
                                               int64_t C) {
  const int lane = threadIdx.x % 32;
  const int64_t n = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;
  if (n >= N) return;
  const float* x = inp + n * C;
  const float* d = dout + n * C;
  const float m = mean[n], s = rstd[n];
  float dnorm_mean = 0, dnorm_norm_mean = 0;
  for (int64_t c = lane; c < C; c += 32) {
    const float dnorm = d[c] * weight[c];
    dnorm_mean += dnorm;
    dnorm_norm_mean += dnorm * (x[c] - m) * s;
  }
  dnorm_mean = warp_sum(dnorm_mean) / static_cast<float>(C);
  dnorm_norm_mean = warp_sum(dnorm_norm_mean) / static_cast<float>(C);
  float* di = dinp + n * C;
  bf16* db = dinp_bf16 ? dinp_bf16 + n * C : nullptr;
  for (int64_t c = lane; c < C; c += 32) {
    const float norm = (x[c] - m) * s;
    const float value = di[c] + s * (d[c] * weight[c] - dnorm_mean - norm * dnorm_norm_mean);
    di[c] = value;
    if (db) db[c] = __float2bfloat16_rn(value);
  }
}

// The same two kernels for C = 128·kChunks (C ≤ 1024): each lane holds its 4·kChunks channels of the
// row in registers (16-byte loads and stores), so the row is read from memory once.
template <int kChunks>
__global__ void residual_layernorm_forward_vec_kernel(float* residual_out, bf16* out, float* mean,
                                                      float* rstd, const float* a, const float* add,
                                                      const float* weight, const float* bias,
                                                      int64_t N) {
  constexpr int C = 128 * kChunks;
  const int lane = threadIdx.x % 32;
  const int64_t n = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;
  if (n >= N) return;
  const float4* xa = reinterpret_cast<const float4*>(a + n * C);
  const float4* xb = add ? reinterpret_cast<const float4*>(add + n * C) : nullptr;
  float4* xr = residual_out ? reinterpret_cast<float4*>(residual_out + n * C) : nullptr;
  float4 x[kChunks];
  float sum = 0;
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    x[k] = xa[32 * k + lane];
    if (xb) {
      const float4 b = xb[32 * k + lane];
      x[k] = make_float4(x[k].x + b.x, x[k].y + b.y, x[k].z + b.z, x[k].w + b.w);
    }
    if (xr) xr[32 * k + lane] = x[k];
    sum += (x[k].x + x[k].y) + (x[k].z + x[k].w);
  }
  const float m = warp_sum(sum) / static_cast<float>(C);
  float var = 0;
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const float dx = x[k].x - m, dy = x[k].y - m, dz = x[k].z - m, dw = x[k].w - m;
    var += (dx * dx + dy * dy) + (dz * dz + dw * dw);
  }
  const float s = 1.0f / sqrtf(warp_sum(var) / static_cast<float>(C) + kLayerNormEps);
  const float4* w4 = reinterpret_cast<const float4*>(weight);
  const float4* b4 = reinterpret_cast<const float4*>(bias);
  uint2* o = reinterpret_cast<uint2*>(out + n * C);
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const float4 w = w4[32 * k + lane], b = b4[32 * k + lane];
    const __nv_bfloat162 lo = __floats2bfloat162_rn((x[k].x - m) * s * w.x + b.x, (x[k].y - m) * s * w.y + b.y);
    const __nv_bfloat162 hi = __floats2bfloat162_rn((x[k].z - m) * s * w.z + b.z, (x[k].w - m) * s * w.w + b.w);
    o[32 * k + lane] = make_uint2(*reinterpret_cast<const uint32_t*>(&lo), *reinterpret_cast<const uint32_t*>(&hi));
  }
  if (lane == 0) {
    mean[n] = m;
    rstd[n] = s;
  }
}

// LayerNorm's backward for C = 128·kChunks in one pass over the rows: block `chunk` (8 warps) takes
// rows [chunk·32, chunk·32 + 32), warp w the rows chunk·32 + w, + 8, ...; each lane keeps its
// channels' dweight and dbias partial sums in registers, the warps' sums are added in order 0..7
// through shared memory, and partial[k][chunk][c] receives them (column_finish_kernel adds the
// chunks in its fixed order). The row is read once: dout and inp serve both dinp and the parameters.
constexpr int kLayerNormWarps = 8, kLayerNormChunkRows = 32;

template <int kChunks>
__global__ void __launch_bounds__(kLayerNormWarps * 32)
layernorm_backward_vec_kernel(float* dinp, bf16* dinp_bf16, float* partial, const float* dout,
                              const float* inp, const float* weight, const float* mean,
                              const float* rstd, int64_t N) {
  constexpr int C = 128 * kChunks;
  __shared__ float4 shared[kLayerNormWarps][32 * kChunks];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int64_t chunk = blockIdx.x, chunks = gridDim.x;
  const int64_t r0 = chunk * kLayerNormChunkRows, r1 = min(N, r0 + kLayerNormChunkRows);
  const float4* w4 = reinterpret_cast<const float4*>(weight);
  float4 dweight[kChunks], dbias[kChunks];
#pragma unroll
  for (int k = 0; k < kChunks; ++k) dweight[k] = dbias[k] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  for (int64_t n = r0 + warp; n < r1; n += kLayerNormWarps) {
    const float4* x4 = reinterpret_cast<const float4*>(inp + n * C);
    const float4* d4 = reinterpret_cast<const float4*>(dout + n * C);
    const float m = mean[n], s = rstd[n];
    float4 d[kChunks], dnorm[kChunks], norm[kChunks];
    float dnorm_mean = 0, dnorm_norm_mean = 0;
#pragma unroll
    for (int k = 0; k < kChunks; ++k) {
      const float4 x = x4[32 * k + lane], w = w4[32 * k + lane];
      d[k] = d4[32 * k + lane];
      dnorm[k] = make_float4(d[k].x * w.x, d[k].y * w.y, d[k].z * w.z, d[k].w * w.w);
      norm[k] = make_float4((x.x - m) * s, (x.y - m) * s, (x.z - m) * s, (x.w - m) * s);
      dnorm_mean += (dnorm[k].x + dnorm[k].y) + (dnorm[k].z + dnorm[k].w);
      dnorm_norm_mean += (dnorm[k].x * norm[k].x + dnorm[k].y * norm[k].y) +
                         (dnorm[k].z * norm[k].z + dnorm[k].w * norm[k].w);
      dweight[k].x += d[k].x * norm[k].x;
      dweight[k].y += d[k].y * norm[k].y;
      dweight[k].z += d[k].z * norm[k].z;
      dweight[k].w += d[k].w * norm[k].w;
      dbias[k].x += d[k].x;
      dbias[k].y += d[k].y;
      dbias[k].z += d[k].z;
      dbias[k].w += d[k].w;
    }
    dnorm_mean = warp_sum(dnorm_mean) / static_cast<float>(C);
    dnorm_norm_mean = warp_sum(dnorm_norm_mean) / static_cast<float>(C);
    float4* di = reinterpret_cast<float4*>(dinp + n * C);
    uint2* db = dinp_bf16 ? reinterpret_cast<uint2*>(dinp_bf16 + n * C) : nullptr;
#pragma unroll
    for (int k = 0; k < kChunks; ++k) {
      float4 v = di[32 * k + lane];
      v.x += s * (dnorm[k].x - dnorm_mean - norm[k].x * dnorm_norm_mean);
      v.y += s * (dnorm[k].y - dnorm_mean - norm[k].y * dnorm_norm_mean);
      v.z += s * (dnorm[k].z - dnorm_mean - norm[k].z * dnorm_norm_mean);
      v.w += s * (dnorm[k].w - dnorm_mean - norm[k].w * dnorm_norm_mean);
      di[32 * k + lane] = v;
      if (db) {
        const __nv_bfloat162 lo = __floats2bfloat162_rn(v.x, v.y), hi = __floats2bfloat162_rn(v.z, v.w);
        db[32 * k + lane] = make_uint2(*reinterpret_cast<const uint32_t*>(&lo), *reinterpret_cast<const uint32_t*>(&hi));
      }
    }
  }
  // The warps' partial sums, added in warp order; dweight first, then dbias through the same buffer.
  float4* out4 = reinterpret_cast<float4*>(partial);
  for (int which = 0; which < 2; ++which) {
#pragma unroll
    for (int k = 0; k < kChunks; ++k) shared[warp][32 * k + lane] = which == 0 ? dweight[k] : dbias[k];
    __syncthreads();
    for (int i = threadIdx.x; i < 32 * kChunks; i += kLayerNormWarps * 32) {
      float4 total = shared[0][i];
      for (int w = 1; w < kLayerNormWarps; ++w) {
        const float4 v = shared[w][i];
        total = make_float4(total.x + v.x, total.y + v.y, total.z + v.z, total.w + v.w);
      }
      out4[((which * chunks + chunk) * C) / 4 + i] = total;
    }
    __syncthreads();
  }
}

// The register kernels serve C = 128·kChunks, kChunks in 1..8; 0 means the general kernels. The
// choice depends on C alone, so the summation order depends only on the shapes; those kernels
// read and write 16 bytes at a time, and a pointer they cannot use that way is the caller's error
// (every buffer CudaGpt carves is 256-byte aligned, as cudaMalloc's are).
int layernorm_chunks(int64_t C) { return C % 128 == 0 && C <= 1024 ? static_cast<int>(C / 128) : 0; }

// ---- Column sums in a fixed order --------------------------------------------------------------------
// Stage 1: block (32 columns × 8 row-lanes) sums rows [chunk·kChunkRows, ...) of its 32 columns;
// each thread strides the rows by 8, the 8 partial sums are then added in order 0..7, and the
// result goes to partial[chunk][column]. Stage 2: a warp per column adds the chunks in a fixed
// order (lane j the chunks j, j + 32, ..., then a fixed shuffle tree over the lanes).
// `Value` gives the K values summed per element (K = 1 for a bias, 2 for LayerNorm's weight and
// bias).
constexpr int kChunkRows = 256;

struct BiasValue {
  static constexpr int K = 1;
  template <class T>
  __device__ static void get(float* out, const T* dout, int64_t n, int64_t c, int64_t C,
                             const float*, const float*, const float*) {
    out[0] = to_f(dout[n * C + c]);
  }
};

struct LayerNormParamValue {
  static constexpr int K = 2;
  __device__ static void get(float* out, const float* dout, int64_t n, int64_t c, int64_t C,
                             const float* inp, const float* mean, const float* rstd) {
    const float d = dout[n * C + c];
    out[0] = d * ((inp[n * C + c] - mean[n]) * rstd[n]);  // dweight
    out[1] = d;                                           // dbias
  }
};

template <class Value, class T>
__global__ void column_partial_kernel(float* partial, const T* dout, const float* inp,
                                      const float* mean, const float* rstd, int64_t N, int64_t C) {
  constexpr int K = Value::K;
  __shared__ float acc[K][8][32];
  const int x = threadIdx.x, y = threadIdx.y;
  const int64_t c = blockIdx.x * 32 + x;
  const int64_t chunk = blockIdx.y;
  const int64_t r0 = chunk * kChunkRows, r1 = min(N, r0 + kChunkRows);
  float sum[K];
  for (int k = 0; k < K; ++k) sum[k] = 0;
  if (c < C)
    for (int64_t n = r0 + y; n < r1; n += 8) {
      float v[K];
      Value::get(v, dout, n, c, C, inp, mean, rstd);
      for (int k = 0; k < K; ++k) sum[k] += v[k];
    }
  for (int k = 0; k < K; ++k) acc[k][y][x] = sum[k];
  __syncthreads();
  if (y == 0 && c < C) {
    for (int k = 0; k < K; ++k) {
      float total = acc[k][0][x];
      for (int j = 1; j < 8; ++j) total += acc[k][j][x];
      partial[(k * gridDim.y + chunk) * C + c] = total;
    }
  }
}

// One warp per column: lane j adds chunks j, j + 32, ..., then a fixed shuffle tree adds the lanes
// (the same order every run). A thread per column adding 64 chunks one after another waited on
// each load in turn: 13 µs a call, 73 calls in a GPT-2 124M step.
__global__ void column_finish_kernel(float* out0, float* out1, const float* partial, int64_t chunks,
                                     int64_t C) {
  const int64_t c = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (c >= C) return;
  for (int k = 0; k < (out1 ? 2 : 1); ++k) {
    float total = 0;
    for (int64_t j = lane; j < chunks; j += 32) total += partial[(k * chunks + j) * C + c];
    total = warp_sum(total);
    if (lane == 0) (k == 0 ? out0 : out1)[c] += total;
  }
}

int64_t chunks_for(int64_t N) { return (N + kChunkRows - 1) / kChunkRows; }

template <class Value, class T>
void column_sums(float* out0, float* out1, const T* dout, const float* inp, const float* mean,
                 const float* rstd, float* scratch, int64_t N, int64_t C, cudaStream_t stream) {
  const int64_t chunks = chunks_for(N);
  const dim3 grid(static_cast<unsigned>((C + 31) / 32), static_cast<unsigned>(chunks));
  column_partial_kernel<Value, T><<<grid, dim3(32, 8), 0, stream>>>(scratch, dout, inp, mean, rstd, N, C);
  SCALELAB_CUDA_LAUNCHED();
  column_finish_kernel<<<blocks_for(C, 8), 256, 0, stream>>>(out0, out1, scratch, chunks, C);
  SCALELAB_CUDA_LAUNCHED();
}

template <class T>
__global__ void add_bias_kernel(T* out, const T* bias, int64_t N, int64_t OC) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N * OC;
       i += (int64_t)gridDim.x * blockDim.x) {
    if constexpr (std::is_same<T, float>::value)
      out[i] += bias[i % OC];
    else
      out[i] = __float2bfloat16_rn(__bfloat162float(out[i]) + __bfloat162float(bias[i % OC]));
  }
}

// ---- GELU ------------------------------------------------------------------------------------------

__global__ void gelu_forward_kernel(bf16* out, const bf16* inp, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    const float x = __bfloat162float(inp[i]);
    const float u = kGeluScale * (x + 0.044715f * x * x * x);
    out[i] = __float2bfloat16_rn(0.5f * x * (1.0f + tanhf(u)));
  }
}

__global__ void gelu_backward_kernel(bf16* dinp, const bf16* inp, const bf16* dout, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    const float x = __bfloat162float(inp[i]);
    const float u = kGeluScale * (x + 0.044715f * x * x * x);
    const float th = tanhf(u);
    const float sech2 = 1.0f - th * th;
    const float grad =
        0.5f * (1.0f + th) + 0.5f * x * sech2 * kGeluScale * (1.0f + 3.0f * 0.044715f * x * x);
    dinp[i] = __float2bfloat16_rn(grad * __bfloat162float(dout[i]));
  }
}

// ---- Cross-entropy ---------------------------------------------------------------------------------
// One block per row. Pass 1: each thread keeps a running (max, Σ exp(z − max)) over its columns;
// the warps, then the block, combine the pairs in a fixed tree. Pass 2 (training): the gradient
// replaces the logits in place. The row is read twice (the second time mostly from L2). Where V is
// a multiple of 8 each thread takes 8 logits (16 bytes) at a time and rescales its sum once per 8.
constexpr int kCrossEntropyThreads = 512;

__device__ inline void combine(float& m, float& s, float m2, float s2) {
  const float mx = fmaxf(m, m2);
  s = (m == -INFINITY ? 0.0f : s * __expf(m - mx)) + (m2 == -INFINITY ? 0.0f : s2 * __expf(m2 - mx));
  m = mx;
}

__device__ inline void unpack8(float (&x)[8], const uint4& raw) {
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const float2 f = __bfloat1622float2(h[k]);
    x[2 * k] = f.x;
    x[2 * k + 1] = f.y;
  }
}

template <bool kVector>
__global__ void __launch_bounds__(kCrossEntropyThreads)
crossentropy_kernel(bf16* logits, float* losses, const int32_t* targets, float dloss, int64_t V) {
  constexpr int kWarps = kCrossEntropyThreads / 32;
  __shared__ float shm[kWarps], shs[kWarps];
  __shared__ float target_logit;
  const int64_t n = blockIdx.x;
  bf16* z = logits + n * V;
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int32_t target = targets[n];
  if (tid == 0) target_logit = __bfloat162float(z[target]);
  float m = -INFINITY, s = 0;
  if constexpr (kVector) {
    const uint4* z8 = reinterpret_cast<const uint4*>(z);
    for (int64_t i = tid; i < V / 8; i += kCrossEntropyThreads) {
      float x[8];
      unpack8(x, z8[i]);
      float mx = x[0];
#pragma unroll
      for (int k = 1; k < 8; ++k) mx = fmaxf(mx, x[k]);
      if (mx > m) {
        s *= __expf(m - mx);  // 0 while m = −∞ (s is 0 then too)
        m = mx;
      }
#pragma unroll
      for (int k = 0; k < 8; ++k) s += __expf(x[k] - m);
    }
  } else {
    for (int64_t v = tid; v < V; v += kCrossEntropyThreads) {
      const float x = __bfloat162float(z[v]);
      if (x > m) {
        s = (m == -INFINITY ? 0.0f : s * __expf(m - x)) + 1.0f;
        m = x;
      } else {
        s += __expf(x - m);
      }
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, o), s2 = __shfl_xor_sync(0xffffffffu, s, o);
    combine(m, s, m2, s2);
  }
  if (lane == 0) {
    shm[warp] = m;
    shs[warp] = s;
  }
  __syncthreads();
  if (warp == 0) {
    m = lane < kWarps ? shm[lane] : -INFINITY;
    s = lane < kWarps ? shs[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) {
      const float m2 = __shfl_xor_sync(0xffffffffu, m, o), s2 = __shfl_xor_sync(0xffffffffu, s, o);
      combine(m, s, m2, s2);
    }
    if (lane == 0) {
      shm[0] = m;
      shs[0] = s;
    }
  }
  __syncthreads();
  const float max = shm[0], sum = shs[0];
  if (tid == 0) losses[n] = logf(sum) + max - target_logit;
  if (dloss == 0.0f) return;
  const float inv = 1.0f / sum;
  if constexpr (kVector) {
    uint4* z8 = reinterpret_cast<uint4*>(z);
    for (int64_t i = tid; i < V / 8; i += kCrossEntropyThreads) {
      float x[8];
      unpack8(x, z8[i]);
      uint4 raw;
      uint32_t* w = reinterpret_cast<uint32_t*>(&raw);
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const int64_t v = 8 * i + 2 * k;
        const float g0 = __expf(x[2 * k] - max) * inv * dloss - (v == target ? dloss : 0.0f);
        const float g1 = __expf(x[2 * k + 1] - max) * inv * dloss - (v + 1 == target ? dloss : 0.0f);
        const __nv_bfloat162 g = __floats2bfloat162_rn(g0, g1);
        w[k] = *reinterpret_cast<const uint32_t*>(&g);
      }
      z8[i] = raw;
    }
  } else {
    for (int64_t v = tid; v < V; v += kCrossEntropyThreads) {
      const float p = __expf(__bfloat162float(z[v]) - max) * inv;
      z[v] = __float2bfloat16_rn(p * dloss - (v == target ? dloss : 0.0f));
    }
  }
}

// ---- Optimizer -------------------------------------------------------------------------------------

constexpr int kNormThreads = 256;

__global__ void __launch_bounds__(kNormThreads)
norm_partial_kernel(double* partial, const float* g, int64_t n) {
  __shared__ double acc[kNormThreads];
  double sum = 0;
  for (int64_t i = blockIdx.x * (int64_t)kNormThreads + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * kNormThreads) {
    const double x = g[i];
    sum += x * x;
  }
  acc[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = kNormThreads / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) acc[threadIdx.x] += acc[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = acc[0];
}

__global__ void __launch_bounds__(kNormThreads)
norm_finish_kernel(double* out, const double* partial, int parts) {
  __shared__ double acc[kNormThreads];
  double sum = 0;
  for (int i = threadIdx.x; i < parts; i += kNormThreads) sum += partial[i];
  acc[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = kNormThreads / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) acc[threadIdx.x] += acc[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = acc[0];
}

// The explicitly rounded intrinsics keep nvcc from contracting a·b + c into one fused
// multiply-add, so each operation rounds exactly as the CPU's does.
__global__ void adamw_kernel(float* params, bf16* params_bf16, const float* grads, float* m,
                             float* v, int64_t n, float beta1, float beta2, float correction1,
                             float correction2, float eps, float lr, float decay, float grad_scale) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    const float gi = __fmul_rn(grads[i], grad_scale);
    const float mi = __fadd_rn(__fmul_rn(beta1, m[i]), __fmul_rn(__fsub_rn(1.0f, beta1), gi));
    const float vi =
        __fadd_rn(__fmul_rn(beta2, v[i]), __fmul_rn(__fmul_rn(__fsub_rn(1.0f, beta2), gi), gi));
    m[i] = mi;
    v[i] = vi;
    const float mhat = __fdiv_rn(mi, correction1), vhat = __fdiv_rn(vi, correction2);
    const float w = __fsub_rn(__fmul_rn(params[i], decay),
                              __fdiv_rn(__fmul_rn(lr, mhat), __fadd_rn(__fsqrt_rn(vhat), eps)));
    params[i] = w;
    params_bf16[i] = __float2bfloat16_rn(w);
  }
}

}  // namespace

// ---- Launchers -------------------------------------------------------------------------------------

void to_bf16(bf16* out, const float* in, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  to_bf16_kernel<<<grid_stride_blocks(n), 256, 0, stream>>>(out, in, n);
  SCALELAB_CUDA_LAUNCHED();
}

void to_float(float* out, const bf16* in, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  to_float_kernel<<<grid_stride_blocks(n), 256, 0, stream>>>(out, in, n);
  SCALELAB_CUDA_LAUNCHED();
}

void encoder_forward(float* out, const int32_t* inp, const float* wte, const float* wpe, int64_t B,
                     int64_t T, int64_t C, cudaStream_t stream) {
  const int64_t NC = B * T * C;
  encoder_forward_kernel<<<grid_stride_blocks(NC), 256, 0, stream>>>(out, inp, wte, wpe, NC, T, C);
  SCALELAB_CUDA_LAUNCHED();
}

int64_t encoder_backward_plan(int32_t* plan, int64_t& unique, const int32_t* inp, int64_t n_rows) {
  std::vector<int32_t> order(static_cast<size_t>(n_rows));
  std::iota(order.begin(), order.end(), 0);
  // Stable: rows of one token stay in increasing order.
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return inp[a] < inp[b]; });
  std::vector<int32_t> tokens, starts;
  for (int64_t i = 0; i < n_rows; ++i)
    if (i == 0 || inp[order[i]] != inp[order[i - 1]]) {
      tokens.push_back(inp[order[i]]);
      starts.push_back(static_cast<int32_t>(i));
    }
  starts.push_back(static_cast<int32_t>(n_rows));
  unique = static_cast<int64_t>(tokens.size());
  int32_t* at = plan;
  at = std::copy(tokens.begin(), tokens.end(), at);
  at = std::copy(starts.begin(), starts.end(), at);
  at = std::copy(order.begin(), order.end(), at);
  return at - plan;
}

void encoder_backward(float* dwte, float* dwpe, const float* dout, const int32_t* plan,
                      int64_t unique, int64_t B, int64_t T, int64_t C, cudaStream_t stream) {
  const int32_t* tokens = plan;
  const int32_t* starts = plan + unique;
  const int32_t* rows = starts + unique + 1;
  if (unique > 0) {
    const dim3 grid(static_cast<unsigned>(unique), blocks_for(C, 128));
    encoder_backward_wte_kernel<<<grid, 128, 0, stream>>>(dwte, dout, tokens, starts, rows, C);
    SCALELAB_CUDA_LAUNCHED();
  }
  encoder_backward_wpe_kernel<<<blocks_for(T * C, 256), 256, 0, stream>>>(dwpe, dout, B, T, C);
  SCALELAB_CUDA_LAUNCHED();
}

void residual_layernorm_forward(float* residual_out, bf16* out, float* mean, float* rstd,
                                const float* a, const float* add, const float* weight,
                                const float* bias, int64_t N, int64_t C, cudaStream_t stream) {
  constexpr int kWarps = 8;
  const unsigned blocks = blocks_for(N, kWarps);
  const int chunks = layernorm_chunks(C);
  if (chunks > 0)
    require_aligned("residual_layernorm_forward",
                    {{a, 16, "a"}, {add, 16, "add"}, {residual_out, 16, "residual_out"}, {out, 8, "out"},
                     {weight, 16, "weight"}, {bias, 16, "bias"}});
  switch (chunks) {
#define SCALELAB_LN_FORWARD(K)                                                                   \
  case K:                                                                                        \
    residual_layernorm_forward_vec_kernel<K><<<blocks, kWarps * 32, 0, stream>>>(               \
        residual_out, out, mean, rstd, a, add, weight, bias, N);                                 \
    break;
    SCALELAB_LN_FORWARD(1) SCALELAB_LN_FORWARD(2) SCALELAB_LN_FORWARD(3) SCALELAB_LN_FORWARD(4)
    SCALELAB_LN_FORWARD(5) SCALELAB_LN_FORWARD(6) SCALELAB_LN_FORWARD(7) SCALELAB_LN_FORWARD(8)
#undef SCALELAB_LN_FORWARD
    default:
      residual_layernorm_forward_kernel<<<blocks, kWarps * 32, 0, stream>>>(
          residual_out, out, mean, rstd, a, add, weight, bias, N, C);
  }
  SCALELAB_CUDA_LAUNCHED();
}

int64_t column_sum_scratch_floats(int64_t N, int64_t OC) { return 2 * chunks_for(N) * OC; }
int64_t layernorm_backward_scratch_floats(int64_t N, int64_t C) {
  // The one-pass kernel's 32-row chunks, or the two-pass column sums' 256-row ones.
  return std::max(2 * ((N + kLayerNormChunkRows - 1) / kLayerNormChunkRows) * C,
                  column_sum_scratch_floats(N, C));
}

void layernorm_backward(float* dinp, bf16* dinp_bf16, float* dweight, float* dbias,
                        const float* dout, const float* inp, const float* weight, const float* mean,
                        const float* rstd, float* scratch, int64_t N, int64_t C, cudaStream_t stream) {
  const int register_chunks = N > 0 ? layernorm_chunks(C) : 0;
  if (register_chunks > 0)
    require_aligned("layernorm_backward",
                    {{dinp, 16, "dinp"}, {dinp_bf16, 8, "dinp_bf16"}, {dout, 16, "dout"}, {inp, 16, "inp"},
                     {weight, 16, "weight"}, {scratch, 16, "scratch"}});
  const int64_t chunks = (N + kLayerNormChunkRows - 1) / kLayerNormChunkRows;
  switch (register_chunks) {
#define SCALELAB_LN_BACKWARD(K)                                                                  \
  case K:                                                                                        \
    layernorm_backward_vec_kernel<K><<<static_cast<unsigned>(chunks), kLayerNormWarps * 32, 0,  \
                                       stream>>>(dinp, dinp_bf16, scratch, dout, inp, weight,    \
                                                 mean, rstd, N);                                  \
    SCALELAB_CUDA_LAUNCHED();                                                                    \
    column_finish_kernel<<<blocks_for(C, 8), 256, 0, stream>>>(dweight, dbias, scratch, chunks, C); \
    SCALELAB_CUDA_LAUNCHED();                                                                    \
    return;
    SCALELAB_LN_BACKWARD(1) SCALELAB_LN_BACKWARD(2) SCALELAB_LN_BACKWARD(3) SCALELAB_LN_BACKWARD(4)
    SCALELAB_LN_BACKWARD(5) SCALELAB_LN_BACKWARD(6) SCALELAB_LN_BACKWARD(7) SCALELAB_LN_BACKWARD(8)
#undef SCALELAB_LN_BACKWARD
    default: break;
  }
  constexpr int kWarps = 8;
  layernorm_backward_rows_kernel<<<blocks_for(N, kWarps), kWarps * 32, 0, stream>>>(
      dinp, dinp_bf16, dout, inp, weight, mean, rstd, N, C);
  SCALELAB_CUDA_LAUNCHED();
  column_sums<LayerNormParamValue, float>(dweight, dbias, dout, inp, mean, rstd, scratch, N, C, stream);
}

void bias_backward(float* dbias, const float* dout, float* scratch, int64_t N, int64_t OC,
                   cudaStream_t stream) {
  column_sums<BiasValue, float>(dbias, nullptr, dout, nullptr, nullptr, nullptr, scratch, N, OC, stream);
}

void bias_backward(float* dbias, const bf16* dout, float* scratch, int64_t N, int64_t OC,
                   cudaStream_t stream) {
  column_sums<BiasValue, bf16>(dbias, nullptr, dout, nullptr, nullptr, nullptr, scratch, N, OC, stream);
}

void add_bias(float* out, const float* bias, int64_t N, int64_t OC, cudaStream_t stream) {
  add_bias_kernel<float><<<grid_stride_blocks(N * OC), 256, 0, stream>>>(out, bias, N, OC);
  SCALELAB_CUDA_LAUNCHED();
}

void add_bias(bf16* out, const bf16* bias, int64_t N, int64_t OC, cudaStream_t stream) {
  add_bias_kernel<bf16><<<grid_stride_blocks(N * OC), 256, 0, stream>>>(out, bias, N, OC);
  SCALELAB_CUDA_LAUNCHED();
}

void gelu_forward(bf16* out, const bf16* inp, int64_t n, cudaStream_t stream) {
  gelu_forward_kernel<<<grid_stride_blocks(n), 256, 0, stream>>>(out, inp, n);
  SCALELAB_CUDA_LAUNCHED();
}

void gelu_backward(bf16* dinp, const bf16* inp, const bf16* dout, int64_t n, cudaStream_t stream) {
  gelu_backward_kernel<<<grid_stride_blocks(n), 256, 0, stream>>>(dinp, inp, dout, n);
  SCALELAB_CUDA_LAUNCHED();
}

void crossentropy_forward_backward(bf16* logits, float* losses, const int32_t* targets, float dloss,
                                   int64_t N, int64_t V, cudaStream_t stream) {
  if (N <= 0) return;
  // 16-byte rows where V is a multiple of 8 (the shape alone decides, so the summation order
  // depends only on the shapes); each row then starts at a multiple of 16 bytes.
  const bool vector = V % 8 == 0;
  if (vector) require_aligned("crossentropy_forward_backward", {{logits, 16, "logits"}});
  if (vector)
    crossentropy_kernel<true><<<static_cast<unsigned>(N), kCrossEntropyThreads, 0, stream>>>(
        logits, losses, targets, dloss, V);
  else
    crossentropy_kernel<false><<<static_cast<unsigned>(N), kCrossEntropyThreads, 0, stream>>>(
        logits, losses, targets, dloss, V);
  SCALELAB_CUDA_LAUNCHED();
}

void grad_norm_squared(double* out, double* partial, const float* grads, int64_t n,
                       cudaStream_t stream) {
  norm_partial_kernel<<<kNormBlocks, kNormThreads, 0, stream>>>(partial, grads, n);
  SCALELAB_CUDA_LAUNCHED();
  norm_finish_kernel<<<1, kNormThreads, 0, stream>>>(out, partial, kNormBlocks);
  SCALELAB_CUDA_LAUNCHED();
}

void adamw_update(float* params, bf16* params_bf16, const float* grads, float* m, float* v,
                  int64_t n, float beta1, float beta2, float correction1, float correction2,
                  float eps, float lr, float decay, float grad_scale, cudaStream_t stream) {
  if (n <= 0) return;
  adamw_kernel<<<grid_stride_blocks(n), 256, 0, stream>>>(params, params_bf16, grads, m, v, n, beta1,
                                                          beta2, correction1, correction2, eps, lr,
                                                          decay, grad_scale);
  SCALELAB_CUDA_LAUNCHED();
}

}  // namespace scalelab::cuda
