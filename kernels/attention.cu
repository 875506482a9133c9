// Causal multi-head attention, flash-style (FlashAttention-2's structure): the T×T scores exist only
// as 16×64 pieces in the registers of one warp, never in shared or device memory. Tensor cores
// through mma.sync m16n8k16 (bf16 in, fp32 accumulate); shared-memory tiles are read with ldmatrix
// and filled with cp.async, the next tile's copy running while the current one is used.
//
// Forward (one block of 4 warps per 64 queries of one (batch, head); warp w owns queries
// 16w..16w+15): for each 64-key tile at or below the diagonal, S = Q·Kᵀ in registers, the online
// softmax (running max m and sum l per row) turns S into P, which the same registers hand to
// O += P·V as bf16 (an m16n8 accumulator pair is exactly an m16k16 A operand). At the end O /= l
// and the row's log-sum-exp m + log l is saved for the backward pass.
//
// Backward (FlashAttention-2's equations, with D = rowsum(dO ⊙ O)):
//   P = exp(scale·Q·Kᵀ − lse),  dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − D)·scale,
//   dK = dSᵀ·Q,  dQ = dS·K.
// To stay deterministic without atomics, dK and dV come from one kernel (a block per key tile,
// looping over the query tiles after it; warp w owns keys 16w..16w+15 and computes Sᵀ = K·Qᵀ so
// that Pᵀ and dSᵀ are its own rows) and dQ from another (a block per query tile, looping over the
// key tiles): S and dP are computed twice, the price of no atomic dQ accumulation.
//
// Fragment layouts (PTX ISA, mma.m16n8k16 .bf16; g = lane / 4, t = lane % 4):
//   A 16×16: a0 (g, 2t..2t+1), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..)
//   B 16×8:  b0 (k 2t..2t+1, n g), b1 (k 2t+8.., n g)
//   C 16×8:  c0 c1 (g, 2t..2t+1), c2 c3 (g+8, 2t..2t+1)
#include <cmath>
#include <cstdint>

#include "kernels/check.h"
#include "kernels/ops.h"

namespace scalelab::cuda {

namespace {

constexpr int kTile = 64;       // rows of a query tile and of a key tile
constexpr int kThreads = 128;   // 4 warps, 16 rows each
constexpr int kNTiles = kTile / 8;  // m16n8 accumulators across a 64-column score tile

// bf16 tile row stride: HD + 8 elements puts the 8 rows an ldmatrix reads in distinct banks
template <int HD>
constexpr int kPadded = HD + 8;

// Reductions over the four lanes that hold one accumulator row (lanes 4g..4g+3).
__device__ inline float quad_max(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
  return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}
__device__ inline float quad_sum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

__device__ inline uint32_t pack_bf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);  // .x (lower address) = lo
  return *reinterpret_cast<const uint32_t*>(&v);
}

__device__ inline uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Four 8×8 bf16 matrices; lanes 8i..8i+7 give the row addresses of matrix i, register i receives it.
__device__ inline void ldmatrix_x4(uint32_t (&r)[4], const bf16* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(p)));
}
__device__ inline void ldmatrix_x4_trans(uint32_t (&r)[4], const bf16* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(p)));
}

// d += a·b for one m16n8k16 tile.
__device__ inline void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// 16 bytes global → shared without passing through registers; zeros where !valid (then nothing is
// read from `src`, which must still be a valid address).
__device__ inline void copy_async16(void* dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(dst)),
               "l"(src), "r"(valid ? 16 : 0));
}
__device__ inline void copy_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ inline void copy_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::); }

// Starts copying rows row0..row0+63 (HD bf16 each, source row stride `stride`) into a padded
// tile; rows at or beyond T become zeros (never garbage: 0·NaN would poison P·V).
template <int HD>
__device__ void load_tile_async(bf16* dst, const bf16* src, int64_t stride, int row0, int T) {
  constexpr int kChunks = HD / 8;
  for (int i = threadIdx.x; i < kTile * kChunks; i += kThreads) {
    const int r = i / kChunks, c = (i % kChunks) * 8;
    const bool valid = row0 + r < T;
    copy_async16(dst + r * kPadded<HD> + c, valid ? src + (row0 + r) * stride + c : src, valid);
  }
}

// The A operand (16 rows × 16 of the reduction) at rows 0..15, columns k0.. of a padded tile.
template <int HD>
__device__ inline void load_a(uint32_t (&a)[4], const bf16* tile, int k0, int lane) {
  ldmatrix_x4(a, tile + (lane % 16) * kPadded<HD> + k0 + (lane / 16) * 8);
}

// acc (the warp's 16 rows × 64 columns) = A·Bᵀ over HD, where A is the 16×HD row block at `a_rows`
// and B the 64×HD tile `b`, both padded bf16 tiles in shared memory (B's rows are acc's columns).
template <int HD>
__device__ inline void scores(float (&acc)[kNTiles][4], const bf16* a_rows, const bf16* b, int lane) {
#pragma unroll
  for (int j = 0; j < kNTiles; ++j) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.0f;
#pragma unroll
  for (int kk = 0; kk < HD / 16; ++kk) {
    uint32_t a[4];
    load_a<HD>(a, a_rows, kk * 16, lane);
#pragma unroll
    for (int np = 0; np < kNTiles / 2; ++np) {
      // Matrices: (cols 16np..+7, k 0..7), (same cols, k 8..15), (cols +8.., k 0..7), (cols +8.., k 8..)
      uint32_t bf[4];
      ldmatrix_x4(bf, b + (np * 16 + lane % 8 + (lane / 16) * 8) * kPadded<HD> + kk * 16 +
                          ((lane / 8) % 2) * 8);
      mma_bf16(acc[2 * np], a, bf[0], bf[1]);
      mma_bf16(acc[2 * np + 1], a, bf[2], bf[3]);
    }
  }
}

// The same with A already in registers (a[kk] covers columns 16kk..16kk+15).
template <int HD>
__device__ inline void scores(float (&acc)[kNTiles][4], const uint32_t (&a)[HD / 16][4], const bf16* b,
                              int lane) {
#pragma unroll
  for (int j = 0; j < kNTiles; ++j) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.0f;
#pragma unroll
  for (int kk = 0; kk < HD / 16; ++kk)
#pragma unroll
    for (int np = 0; np < kNTiles / 2; ++np) {
      uint32_t bf[4];
      ldmatrix_x4(bf, b + (np * 16 + lane % 8 + (lane / 16) * 8) * kPadded<HD> + kk * 16 +
                          ((lane / 8) % 2) * 8);
      mma_bf16(acc[2 * np], a[kk], bf[0], bf[1]);
      mma_bf16(acc[2 * np + 1], a[kk], bf[2], bf[3]);
    }
}

// The 16×64 accumulators as bf16 A operands over the 64 columns: p[kk] covers columns 16kk..+15.
__device__ inline void to_operand(uint32_t (&p)[kTile / 16][4], const float (&s)[kNTiles][4]) {
#pragma unroll
  for (int kk = 0; kk < kTile / 16; ++kk) {
    p[kk][0] = pack_bf16(s[2 * kk][0], s[2 * kk][1]);
    p[kk][1] = pack_bf16(s[2 * kk][2], s[2 * kk][3]);
    p[kk][2] = pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]);
    p[kk][3] = pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3]);
  }
}

// out (16 rows × HD) += P·V, P the warp's 16×64 operand, V a 64×HD padded tile (its rows are P's
// columns).
template <int HD>
__device__ inline void accumulate(float (&out)[HD / 8][4], const uint32_t (&p)[kTile / 16][4],
                                  const bf16* v, int lane) {
#pragma unroll
  for (int kk = 0; kk < kTile / 16; ++kk)
#pragma unroll
    for (int np = 0; np < HD / 16; ++np) {
      // Transposed matrices: (rows 16kk..+7, cols 16np..+7), (rows +8.., same cols),
      // (rows 16kk.., cols +8..), (rows +8.., cols +8..)
      uint32_t bf[4];
      ldmatrix_x4_trans(bf, v + (kk * 16 + lane % 8 + ((lane / 8) % 2) * 8) * kPadded<HD> + np * 16 +
                                (lane / 16) * 8);
      mma_bf16(out[2 * np], p[kk], bf[0], bf[1]);
      mma_bf16(out[2 * np + 1], p[kk], bf[2], bf[3]);
    }
}

// Writes the warp's 16 accumulator rows (row0 and row0 + 8 for this lane), times mul[half], as
// bf16 to dst's rows (stride `stride`), skipping rows at or beyond T.
template <int HD>
__device__ inline void store_rows(bf16* dst, int64_t stride, const float (&acc)[HD / 8][4], int row0,
                                  int T, int lane, const float (&mul)[2]) {
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int row = row0 + 8 * half;
    if (row >= T) continue;
    bf16* d = dst + row * stride + 2 * (lane % 4);
#pragma unroll
    for (int n = 0; n < HD / 8; ++n)
      *reinterpret_cast<uint32_t*>(d + 8 * n) =
          pack_bf16(acc[n][2 * half] * mul[half], acc[n][2 * half + 1] * mul[half]);
  }
}

template <int HD>
constexpr size_t forward_smem_bytes() {
  return sizeof(bf16) * 5 * kTile * kPadded<HD>;  // Q; K and V, twice (the next tile's copy)
}

template <int HD>
__global__ void __launch_bounds__(kThreads)
attention_forward_kernel(bf16* out, float* lse, const bf16* qkv, int T, int C, int NH, float scale) {
  constexpr int kLd = kPadded<HD>;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* sQ = reinterpret_cast<bf16*>(smem);
  bf16* sKV = sQ + kTile * kLd;  // buffer i: K at sKV + 2i·kTile·kLd, V after it

  const int qt = gridDim.x - 1 - blockIdx.x;  // the longest rows first
  const int bh = blockIdx.y, b = bh / NH, h = bh % NH;
  const int q0 = qt * kTile;
  const int64_t stride = 3 * static_cast<int64_t>(C);
  const bf16* base = qkv + static_cast<int64_t>(b) * T * stride;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int row0 = q0 + warp * 16 + lane / 4;  // this lane's rows: row0 and row0 + 8

  load_tile_async<HD>(sQ, base + h * HD, stride, q0, T);
  load_tile_async<HD>(sKV, base + C + h * HD, stride, 0, T);
  load_tile_async<HD>(sKV + kTile * kLd, base + 2 * C + h * HD, stride, 0, T);
  copy_async_commit();

  uint32_t q[HD / 16][4];
  float o[HD / 8][4];
#pragma unroll
  for (int n = 0; n < HD / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};

  for (int kt = 0; kt <= qt; ++kt) {
    copy_async_wait_all();
    __syncthreads();  // tile kt has landed; every warp is done with the buffer written next
    if (kt < qt) {
      bf16* next = sKV + ((kt + 1) % 2) * 2 * kTile * kLd;
      load_tile_async<HD>(next, base + C + h * HD, stride, (kt + 1) * kTile, T);
      load_tile_async<HD>(next + kTile * kLd, base + 2 * C + h * HD, stride, (kt + 1) * kTile, T);
    }
    copy_async_commit();
    if (kt == 0) {
#pragma unroll
      for (int kk = 0; kk < HD / 16; ++kk) load_a<HD>(q[kk], sQ + warp * 16 * kLd, kk * 16, lane);
    }
    const bf16* sK = sKV + (kt % 2) * 2 * kTile * kLd;
    const bf16* sV = sK + kTile * kLd;

    float s[kNTiles][4];
    scores<HD>(s, q, sK, lane);
    const int k0 = kt * kTile;
    float mx[2] = {m[0], m[1]};
#pragma unroll
    for (int j = 0; j < kNTiles; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        float x = s[j][e] * scale;
        if (kt == qt && k0 + 8 * j + 2 * (lane % 4) + (e & 1) > row0 + 8 * (e >> 1)) x = -INFINITY;
        s[j][e] = x;
        mx[e >> 1] = fmaxf(mx[e >> 1], x);
      }
    // Key k0 ≤ query is never masked (kt ≤ qt), so each row's max is finite.
    float correction[2], sum[2] = {0.0f, 0.0f};
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      mx[half] = quad_max(mx[half]);
      correction[half] = __expf(m[half] - mx[half]);  // 0 on the first tile (m = −∞)
      m[half] = mx[half];
    }
#pragma unroll
    for (int j = 0; j < kNTiles; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float p = __expf(s[j][e] - m[e >> 1]);
        s[j][e] = p;
        sum[e >> 1] += p;
      }
#pragma unroll
    for (int half = 0; half < 2; ++half) l[half] = l[half] * correction[half] + quad_sum(sum[half]);
#pragma unroll
    for (int n = 0; n < HD / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) o[n][e] *= correction[e >> 1];
    uint32_t p[kTile / 16][4];
    to_operand(p, s);
    accumulate<HD>(o, p, sV, lane);
  }

  const float inv[2] = {1.0f / l[0], 1.0f / l[1]};
  store_rows<HD>(out + static_cast<int64_t>(b) * T * C + h * HD, C, o, row0, T, lane, inv);
  if (lane % 4 == 0)
    for (int half = 0; half < 2; ++half)
      if (row0 + 8 * half < T) lse[static_cast<int64_t>(bh) * T + row0 + 8 * half] = m[half] + logf(l[half]);
}

template <int HD>
constexpr size_t backward_smem_bytes() {
  return sizeof(bf16) * 6 * kTile * kPadded<HD>  // the loop-invariant pair, the other pair twice
         + sizeof(float) * 4 * kTile;             // lse and D, twice (the key-tile kernel)
}

// dK and dV for one 64-key tile, looping over the query tiles at or after it. Warp w owns keys
// 16w..16w+15: Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ are its rows, and Pᵀ, dSᵀ feed dV += Pᵀ·dO and
// dK += dSᵀ·Q straight from its registers.
template <int HD>
__global__ void __launch_bounds__(kThreads)
attention_backward_kv_kernel(bf16* dqkv, const bf16* dout, const bf16* qkv, const float* lse,
                             const float* delta, int T, int C, int NH, float scale) {
  constexpr int kLd = kPadded<HD>;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* sK = reinterpret_cast<bf16*>(smem);
  bf16* sV = sK + kTile * kLd;
  bf16* sQdO = sV + kTile * kLd;  // buffer i: Q at sQdO + 2i·kTile·kLd, dO after it
  float* sLseD = reinterpret_cast<float*>(sQdO + 4 * kTile * kLd);  // buffer i: lse, D at 2i·kTile

  const int kt = blockIdx.x;
  const int bh = blockIdx.y, b = bh / NH, h = bh % NH;
  const int k0 = kt * kTile;
  const int64_t stride = 3 * static_cast<int64_t>(C);
  const bf16* base = qkv + static_cast<int64_t>(b) * T * stride;
  const bf16* dbase = dout + static_cast<int64_t>(b) * T * C;
  const float* lse_bh = lse + static_cast<int64_t>(bh) * T;
  const float* delta_bh = delta + static_cast<int64_t>(bh) * T;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int tiles = (T + kTile - 1) / kTile;
  const int key0 = k0 + warp * 16 + lane / 4;  // this lane's keys: key0 and key0 + 8

  auto load_queries = [&](int qt, int buffer) {
    bf16* q = sQdO + buffer * 2 * kTile * kLd;
    load_tile_async<HD>(q, base + h * HD, stride, qt * kTile, T);
    load_tile_async<HD>(q + kTile * kLd, dbase + h * HD, C, qt * kTile, T);
    float* ld = sLseD + buffer * 2 * kTile;
    for (int i = threadIdx.x; i < kTile; i += kThreads) {
      const int t = qt * kTile + i;
      ld[i] = t < T ? lse_bh[t] : 0.0f;
      ld[kTile + i] = t < T ? delta_bh[t] : 0.0f;
    }
  };
  load_tile_async<HD>(sK, base + C + h * HD, stride, k0, T);
  load_tile_async<HD>(sV, base + 2 * C + h * HD, stride, k0, T);
  load_queries(kt, 0);
  copy_async_commit();

  float dk[HD / 8][4], dv[HD / 8][4];
#pragma unroll
  for (int n = 0; n < HD / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) dk[n][e] = dv[n][e] = 0.0f;
  // The warp's rows of K and V are the A operand of every query tile: in registers where they fit
  // (HD 128 would need 64 more registers a thread than the 255 there are).
  constexpr bool kKeysInRegisters = HD <= 64;
  uint32_t k_rows[kKeysInRegisters ? HD / 16 : 1][4], v_rows[kKeysInRegisters ? HD / 16 : 1][4];

  for (int qt = kt; qt < tiles; ++qt) {
    const int buffer = (qt - kt) % 2;
    copy_async_wait_all();
    __syncthreads();  // query tile qt has landed; every warp is done with the other buffer
    if (qt + 1 < tiles) load_queries(qt + 1, 1 - buffer);
    copy_async_commit();
    const bf16* sQ = sQdO + buffer * 2 * kTile * kLd;
    const bf16* sdO = sQ + kTile * kLd;
    const float* sLse = sLseD + buffer * 2 * kTile;
    const float* sD = sLse + kTile;
    const int q0 = qt * kTile;

    float pt[kNTiles][4], dst[kNTiles][4];
    if constexpr (kKeysInRegisters) {
      if (qt == kt) {
#pragma unroll
        for (int kk = 0; kk < HD / 16; ++kk) {
          load_a<HD>(k_rows[kk], sK + warp * 16 * kLd, kk * 16, lane);
          load_a<HD>(v_rows[kk], sV + warp * 16 * kLd, kk * 16, lane);
        }
      }
      scores<HD>(pt, k_rows, sQ, lane);    // Sᵀ  = K·Qᵀ   (the warp's keys)
      scores<HD>(dst, v_rows, sdO, lane);  // dPᵀ = V·dOᵀ
    } else {
      scores<HD>(pt, sK + warp * 16 * kLd, sQ, lane);
      scores<HD>(dst, sV + warp * 16 * kLd, sdO, lane);
    }
#pragma unroll
    for (int j = 0; j < kNTiles; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int col = 8 * j + 2 * (lane % 4) + (e & 1), query = q0 + col;
        const int key = key0 + 8 * (e >> 1);
        float p = 0.0f;
        if (query < T && key <= query) p = __expf(pt[j][e] * scale - sLse[col]);
        pt[j][e] = p;
        dst[j][e] = p * (dst[j][e] - sD[col]) * scale;
      }
    uint32_t a[kTile / 16][4];
    to_operand(a, pt);
    accumulate<HD>(dv, a, sdO, lane);  // dV += Pᵀ·dO
    to_operand(a, dst);
    accumulate<HD>(dk, a, sQ, lane);  // dK += dSᵀ·Q
  }
  bf16* dbase_qkv = dqkv + static_cast<int64_t>(b) * T * stride;
  const float one[2] = {1.0f, 1.0f};
  store_rows<HD>(dbase_qkv + C + h * HD, stride, dk, key0, T, lane, one);
  store_rows<HD>(dbase_qkv + 2 * C + h * HD, stride, dv, key0, T, lane, one);
}

// dQ for one 64-query tile, looping over the key tiles at or before it. Warp w owns queries
// 16w..16w+15. It runs first and also writes D = rowsum(dO ⊙ O) of its rows for the dK/dV kernel.
template <int HD>
__global__ void __launch_bounds__(kThreads)
attention_backward_q_kernel(bf16* dqkv, float* delta, const bf16* dout, const bf16* qkv,
                            const bf16* out, const float* lse, int T, int C, int NH, float scale) {
  constexpr int kLd = kPadded<HD>;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* sQ = reinterpret_cast<bf16*>(smem);
  bf16* sdO = sQ + kTile * kLd;
  bf16* sKV = sdO + kTile * kLd;  // buffer i: K at sKV + 2i·kTile·kLd, V after it

  const int qt = gridDim.x - 1 - blockIdx.x;  // the longest rows first
  const int bh = blockIdx.y, b = bh / NH, h = bh % NH;
  const int q0 = qt * kTile;
  const int64_t stride = 3 * static_cast<int64_t>(C);
  const bf16* base = qkv + static_cast<int64_t>(b) * T * stride;
  const bf16* dbase = dout + static_cast<int64_t>(b) * T * C;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int row0 = q0 + warp * 16 + lane / 4;  // this lane's queries: row0 and row0 + 8

  load_tile_async<HD>(sQ, base + h * HD, stride, q0, T);
  load_tile_async<HD>(sdO, dbase + h * HD, C, q0, T);
  load_tile_async<HD>(sKV, base + C + h * HD, stride, 0, T);
  load_tile_async<HD>(sKV + kTile * kLd, base + 2 * C + h * HD, stride, 0, T);
  copy_async_commit();
  float row_lse[2], row_delta[2];
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int t = row0 + 8 * half;
    row_lse[half] = t < T ? lse[static_cast<int64_t>(bh) * T + t] : 0.0f;
  }
  {
    // D of the warp's 16 rows: lanes 2r and 2r + 1 take the two halves of row r, their O half
    // read from device memory (16 bytes at a time, all loads in flight at once), dO from the tile.
    constexpr int kHalf = HD / 2, kLoads = kHalf / 8;
    const int r = lane / 2, t = q0 + warp * 16 + r, c0 = (lane % 2) * kHalf;
    uint4 o[kLoads];
#pragma unroll
    for (int i = 0; i < kLoads; ++i)
      o[i] = t < T ? *reinterpret_cast<const uint4*>(out + (static_cast<int64_t>(b) * T + t) * C +
                                                       h * HD + c0 + 8 * i)
                   : make_uint4(0, 0, 0, 0);
    copy_async_wait_all();
    __syncthreads();  // Q, dO (and key tile 0) have landed
    float sum = 0;
#pragma unroll
    for (int i = 0; i < kLoads; ++i) {
      const uint4 d = *reinterpret_cast<const uint4*>(sdO + (warp * 16 + r) * kLd + c0 + 8 * i);
      const __nv_bfloat162* dh = reinterpret_cast<const __nv_bfloat162*>(&d);
      const __nv_bfloat162* oh = reinterpret_cast<const __nv_bfloat162*>(&o[i]);
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const float2 df = __bfloat1622float2(dh[k]), of = __bfloat1622float2(oh[k]);
        sum += df.x * of.x + df.y * of.y;
      }
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    if (lane % 2 == 0 && t < T) delta[static_cast<int64_t>(bh) * T + t] = sum;
    row_delta[0] = __shfl_sync(0xffffffffu, sum, 2 * (lane / 4));
    row_delta[1] = __shfl_sync(0xffffffffu, sum, 2 * (lane / 4 + 8));
  }

  float dq[HD / 8][4];
#pragma unroll
  for (int n = 0; n < HD / 8; ++n) dq[n][0] = dq[n][1] = dq[n][2] = dq[n][3] = 0.0f;

  for (int kt = 0; kt <= qt; ++kt) {
    copy_async_wait_all();
    __syncthreads();  // key tile kt has landed; every warp is done with the other buffer
    if (kt < qt) {
      bf16* next = sKV + ((kt + 1) % 2) * 2 * kTile * kLd;
      load_tile_async<HD>(next, base + C + h * HD, stride, (kt + 1) * kTile, T);
      load_tile_async<HD>(next + kTile * kLd, base + 2 * C + h * HD, stride, (kt + 1) * kTile, T);
    }
    copy_async_commit();
    const bf16* sK = sKV + (kt % 2) * 2 * kTile * kLd;
    const bf16* sV = sK + kTile * kLd;
    const int k0 = kt * kTile;

    float s[kNTiles][4], ds[kNTiles][4];
    scores<HD>(s, sQ + warp * 16 * kLd, sK, lane);    // S  = Q·Kᵀ
    scores<HD>(ds, sdO + warp * 16 * kLd, sV, lane);  // dP = dO·Vᵀ
#pragma unroll
    for (int j = 0; j < kNTiles; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = k0 + 8 * j + 2 * (lane % 4) + (e & 1), query = row0 + 8 * (e >> 1);
        float p = 0.0f;
        if (query < T && key <= query) p = __expf(s[j][e] * scale - row_lse[e >> 1]);
        ds[j][e] = p * (ds[j][e] - row_delta[e >> 1]) * scale;
      }
    uint32_t a[kTile / 16][4];
    to_operand(a, ds);
    accumulate<HD>(dq, a, sK, lane);  // dQ += dS·K
  }
  bf16* dbase_qkv = dqkv + static_cast<int64_t>(b) * T * stride;
  const float one[2] = {1.0f, 1.0f};
  store_rows<HD>(dbase_qkv + h * HD, stride, dq, row0, T, lane, one);
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
void backward(bf16* dqkv, float* delta, const bf16* dout, const bf16* qkv, const bf16* out,
              const float* lse, int B, int T, int C, int NH, cudaStream_t stream) {
  const size_t smem = backward_smem_bytes<HD>();
  allow_smem(attention_backward_kv_kernel<HD>, smem);
  allow_smem(attention_backward_q_kernel<HD>, smem);
  const dim3 grid((T + kTile - 1) / kTile, B * NH);
  const float scale = 1.0f / sqrtf(static_cast<float>(HD));
  // dQ first: it writes D, which the dK/dV kernel reads.
  attention_backward_q_kernel<HD><<<grid, kThreads, smem, stream>>>(dqkv, delta, dout, qkv, out, lse,
                                                                    T, C, NH, scale);
  SCALELAB_CUDA_LAUNCHED();
  attention_backward_kv_kernel<HD><<<grid, kThreads, smem, stream>>>(dqkv, dout, qkv, lse, delta, T,
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
  if (B * T == 0) return;
  require_aligned("attention_forward", {{qkv, 16, "qkv"}});  // cp.async copies 16 bytes
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
  if (B * T == 0) return;
  require_aligned("attention_backward", {{qkv, 16, "qkv"}, {dout, 16, "dout"}, {out, 16, "out"}});
  const int b = static_cast<int>(B), t = static_cast<int>(T), c = static_cast<int>(C),
            nh = static_cast<int>(NH);
  switch (C / NH) {
    case 32: backward<32>(dqkv, delta, dout, qkv, out, lse, b, t, c, nh, stream); break;
    case 64: backward<64>(dqkv, delta, dout, qkv, out, lse, b, t, c, nh, stream); break;
    case 128: backward<128>(dqkv, delta, dout, qkv, out, lse, b, t, c, nh, stream); break;
  }
}

}  // namespace scalelab::cuda
