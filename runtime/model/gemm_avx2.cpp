#include "model/gemm_avx2.h"
#include "model/gemm_blocked.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#include <algorithm>

// Compiled for AVX2 and FMA by attribute, not by a file-wide flag (see gemm_avx512.cpp).
#define SCALELAB_AVX2 __attribute__((target("avx2,fma")))
#define SCALELAB_AVX2_INLINE SCALELAB_AVX2 __attribute__((always_inline)) inline

namespace scalelab::model::detail {

namespace {

constexpr int kMr = 6;          // rows of C per register tile (12 accumulators)
constexpr int kNr = 16;         // columns of C per register tile: two 8-float vectors
constexpr int64_t kKc = 512;    // depth of a packed block: an A panel is kMr·kKc floats (12 KiB, L1)
constexpr int64_t kNc = 256;    // columns of a packed B block: kKc·kNc floats (512 KiB, L2)
constexpr int64_t kMc = 4096;   // rows of a packed A block (8 MiB at kKc, L3)
constexpr int kPrefetchB = 8;   // k steps ahead that the micro-kernel prefetches its B panel
constexpr int kPrefetchA = 64;  // floats ahead that the transposing packers prefetch each row
constexpr int kPrefetchRows = 32;  // rows ahead that the copying packers prefetch (from memory)
constexpr int kSlack = 8;       // floats past a packed A block that its 8-wide stores may write

// Transposes the 8 × 8 block held in r[0..7] (r[i] = row i) so that r[j] holds column j.
SCALELAB_AVX2_INLINE void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
#pragma GCC unroll 8
  for (int i = 0; i < 4; ++i) {  // rows 2i and 2i+1 interleaved, per 128-bit lane
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 8
  for (int i = 0; i < 2; ++i) {  // u[4i+c]: rows 4i..4i+3 of column c (low lane) and c+4 (high)
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
#pragma GCC unroll 8
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

// Lanes [0, n) set, for the masked loads and stores of tile and panel edges.
SCALELAB_AVX2_INLINE __m256i first_lanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// A whole vector, or its masked lanes (the others zero) at a tile's edge.
SCALELAB_AVX2_INLINE __m256 load_lanes(const float* p, __m256i mask, bool whole) {
  return whole ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

// C[0..MR)[0..nr) = alpha·(A panel · B panel) + beta·C (first block of k) or + C (later blocks).
// ap: kc × MR floats (k-major), bp: kc × kNr floats.
template <int MR>
SCALELAB_AVX2 void micro_kernel(int64_t kc, const float* __restrict ap, const float* __restrict bp,
                                float* c, int64_t ldc, int nr, float alpha, float beta, bool first,
                                const TileEpilogue& extra) {
  const int64_t hi = nr > 8 ? 8 : 0;  // the second vector's columns (none: masked off, in bounds)
  for (int r = 0; r < MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + hi), _MM_HINT_T0);
    if (extra.residual)
      _mm_prefetch(reinterpret_cast<const char*>(extra.residual + r * extra.ld_residual), _MM_HINT_T0);
  }
  // The first step multiplies (fma(a, b, 0) is a·b to the bit): zeroed accumulators made GCC keep
  // a 16th register live and spill one accumulator at every step.
  __m256 c0[MR], c1[MR];
  {
    const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(ap + r);
      c0[r] = _mm256_mul_ps(a, b0);
      c1[r] = _mm256_mul_ps(a, b1);
    }
    ap += MR;
    bp += kNr;
  }
#pragma GCC unroll 4
  for (int64_t p = 1; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
    _mm_prefetch(reinterpret_cast<const char*>(bp + kPrefetchB * kNr), _MM_HINT_T0);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(ap + r);
      c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
    }
    ap += MR;
    bp += kNr;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  const bool read_c = !first || beta != 0;
  const __m256 vb = _mm256_set1_ps(first ? beta : 1.0f);
  const bool whole = nr == kNr;
  const __m256i m0 = first_lanes(nr), m1 = first_lanes(nr - 8);
  const __m256 bias0 = extra.bias ? load_lanes(extra.bias, m0, whole) : _mm256_setzero_ps();
  const __m256 bias1 = extra.bias ? load_lanes(extra.bias + hi, m1, whole) : _mm256_setzero_ps();
#pragma GCC unroll 8  // rolled, the accumulators would be arrays in memory, stored at every k
  for (int r = 0; r < MR; ++r) {
    float* row = c + r * ldc;
    __m256 x0 = _mm256_mul_ps(va, c0[r]), x1 = _mm256_mul_ps(va, c1[r]);
    if (read_c) {
      x0 = _mm256_fmadd_ps(vb, load_lanes(row, m0, whole), x0);
      x1 = _mm256_fmadd_ps(vb, load_lanes(row + hi, m1, whole), x1);
    }
    if (extra.bias) {
      x0 = _mm256_add_ps(x0, bias0);
      x1 = _mm256_add_ps(x1, bias1);
    }
    if (extra.residual) {
      const float* res = extra.residual + r * extra.ld_residual;
      x0 = _mm256_add_ps(x0, load_lanes(res, m0, whole));
      x1 = _mm256_add_ps(x1, load_lanes(res + hi, m1, whole));
    }
    if (whole) {
      _mm256_storeu_ps(row, x0);
      _mm256_storeu_ps(row + 8, x1);
    } else {
      _mm256_maskstore_ps(row, m0, x0);
      _mm256_maskstore_ps(row + hi, m1, x1);
    }
  }
}

constexpr MicroKernel kMicroKernels[kMr + 1] = {nullptr,         micro_kernel<1>, micro_kernel<2>, micro_kernel<3>,
                                                micro_kernel<4>, micro_kernel<5>, micro_kernel<6>};

// Packs rows [i0, i0 + mc) × depth [p0, p0 + kc) of op(A) as panels of kMr rows, each k-major; the
// last panel holds mc mod kMr rows, if any, with that stride. Stores are 8 floats wide and may
// write up to kSlack floats past the block (the buffer has room). With row_sums (offset to row
// i0), adds each row's sum over the block's depth to it.
template <bool kSums>
SCALELAB_AVX2 void pack_a(bool trans, const float* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0,
                          int64_t kc, float* out, float* row_sums) {
  if (trans) {
    // op(A)[i][p] = a[p][i]: a panel's k-th step is contiguous in a; steps kChunk at a time across
    // the panels, as in gemm_avx512.cpp, to stay within a few dozen pages.
    constexpr int64_t kChunk = 16;
    for (int64_t q0 = 0; q0 < kc; q0 += kChunk) {
      const int64_t q1 = std::min(kc, q0 + kChunk);
      for (int64_t ir = 0; ir < mc; ir += kMr) {
        const int mr = static_cast<int>(std::min<int64_t>(kMr, mc - ir));
        const __m256i mask = first_lanes(mr);
        float* o = out + ir * kc;
        const float* src = a + p0 * lda + i0 + ir;
        __m256 sum = _mm256_setzero_ps();
        for (int64_t p = q0; p < q1; ++p) {
          if (p + kPrefetchRows < kc) {  // the piece may straddle two lines
            _mm_prefetch(reinterpret_cast<const char*>(src + (p + kPrefetchRows) * lda), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(src + (p + kPrefetchRows) * lda + mr - 1), _MM_HINT_T0);
          }
          const __m256 v = _mm256_maskload_ps(src + p * lda, mask);
          // 8 floats: those past the step belong to the panel's next steps, stored after this one
          // (or to the slack, for a last panel of fewer rows); a panel's last step is masked, as
          // the next panel's first steps are already packed.
          if (p + 1 < kc)
            _mm256_storeu_ps(o + p * mr, v);
          else
            _mm256_maskstore_ps(o + p * mr, mask, v);
          if (kSums) sum = _mm256_add_ps(sum, v);
        }
        if (kSums)
          _mm256_maskstore_ps(row_sums + ir, mask, _mm256_add_ps(_mm256_maskload_ps(row_sums + ir, mask), sum));
      }
    }
    return;
  }
  for (int64_t ir = 0; ir < mc; ir += kMr) {
    const int mr = static_cast<int>(std::min<int64_t>(kMr, mc - ir));
    float* o = out + ir * kc;
    const float* rows[kMr];
    for (int r = 0; r < mr; ++r) rows[r] = a + (i0 + ir + r) * lda + p0;
    int64_t p = 0;
    __m256 sum = _mm256_setzero_ps();
    if (mr == kMr) {  // 8 steps at a time through an 8 × 8 transpose (rows past kMr zero)
      for (; p + 8 <= kc; p += 8) {
        __m256 v[8];
#pragma GCC unroll 8
        for (int r = 0; r < kMr; ++r) {
          _mm_prefetch(reinterpret_cast<const char*>(rows[r] + p + kPrefetchA), _MM_HINT_T0);
          v[r] = _mm256_loadu_ps(rows[r] + p);
        }
        v[6] = v[7] = _mm256_setzero_ps();
        transpose8(v);
#pragma GCC unroll 8
        for (int q = 0; q < 8; ++q) {  // each store's last 2 floats are the next step's, stored next
          _mm256_storeu_ps(o + (p + q) * kMr, v[q]);
          if (kSums) sum = _mm256_add_ps(sum, v[q]);
        }
      }
    }
    alignas(32) float sums[8];
    _mm256_store_ps(sums, sum);
    for (; p < kc; ++p)
      for (int r = 0; r < mr; ++r) {
        o[p * mr + r] = rows[r][p];
        if (kSums) sums[r] += rows[r][p];
      }
    if (kSums)
      for (int r = 0; r < mr; ++r) row_sums[ir + r] += sums[r];
  }
}

// Packs depth [p0, p0 + kc) × columns [j0, j0 + nc) of op(B) as panels of kNr columns, each
// k-major; a last narrower panel is padded with zeros to kNr columns.
SCALELAB_AVX2 void pack_b(bool trans, const float* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
                          int64_t nc, float* out) {
  if (!trans) {  // op(B)[p][j] = b[p][j]: a panel's k-th step is contiguous in b
    constexpr int64_t kChunk = 16;
    for (int64_t q0 = 0; q0 < kc; q0 += kChunk) {
      const int64_t q1 = std::min(kc, q0 + kChunk);
      for (int64_t jr = 0; jr < nc; jr += kNr) {
        const int nr = static_cast<int>(std::min<int64_t>(kNr, nc - jr));
        const __m256i m0 = first_lanes(nr), m1 = first_lanes(nr - 8);
        const int64_t hi = nr > 8 ? 8 : 0;
        float* o = out + jr * kc;
        const float* src = b + p0 * ldb + j0 + jr;
        for (int64_t p = q0; p < q1; ++p) {
          if (p + kPrefetchRows < kc) {
            _mm_prefetch(reinterpret_cast<const char*>(src + (p + kPrefetchRows) * ldb), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(src + (p + kPrefetchRows) * ldb + nr - 1), _MM_HINT_T0);
          }
          if (nr == kNr) {
            _mm256_store_ps(o + p * kNr, _mm256_loadu_ps(src + p * ldb));
            _mm256_store_ps(o + p * kNr + 8, _mm256_loadu_ps(src + p * ldb + 8));
          } else {
            _mm256_store_ps(o + p * kNr, _mm256_maskload_ps(src + p * ldb, m0));
            _mm256_store_ps(o + p * kNr + 8, _mm256_maskload_ps(src + p * ldb + hi, m1));
          }
        }
      }
    }
    return;
  }
  for (int64_t jr = 0; jr < nc; jr += kNr) {
    const int nr = static_cast<int>(std::min<int64_t>(kNr, nc - jr));
    float* o = out + jr * kc;
    // op(B)[p][j] = b[j][p]: 8 steps of 8 columns at a time through an 8 × 8 transpose
    const float* cols[kNr];
    for (int j = 0; j < nr; ++j) cols[j] = b + (j0 + jr + j) * ldb + p0;
    int64_t p = 0;
    if (nr == kNr) {
      for (; p + 8 <= kc; p += 8)
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          __m256 v[8];
#pragma GCC unroll 8
          for (int j = 0; j < 8; ++j) {
            _mm_prefetch(reinterpret_cast<const char*>(cols[8 * h + j] + p + kPrefetchA), _MM_HINT_T0);
            v[j] = _mm256_loadu_ps(cols[8 * h + j] + p);
          }
          transpose8(v);
#pragma GCC unroll 8
          for (int q = 0; q < 8; ++q) _mm256_store_ps(o + (p + q) * kNr + 8 * h, v[q]);
        }
    }
    for (; p < kc; ++p)
      for (int j = 0; j < kNr; ++j) o[p * kNr + j] = j < nr ? cols[j][p] : 0.0f;
  }
}

constexpr Blocking kBlocking = {kMr, kNr, kKc, kNc, kMc, kSlack, kMicroKernels, pack_a<false>, pack_a<true>, pack_b};

}  // namespace

void gemm_avx2(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
               const GemmEpilogue& epilogue) {
  gemm_blocked(kBlocking, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
}

namespace {

SCALELAB_AVX2 __attribute__((noinline)) double fma_loop(int64_t n) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 x = _mm256_set1_ps(1.0001f), y = _mm256_set1_ps(0.9999f);
  for (int64_t i = 0; i < n; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) acc[j] = _mm256_fmadd_ps(acc[j], x, y);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  return lanes[0];  // returned, so that the loop is not optimised away
}

}  // namespace

MicroKernelRate measure_micro_kernel_avx2(double seconds) {
  // 12 FMAs of 8 lanes per step of the FMA loop.
  return measure_blocking(kBlocking, fma_loop, 12.0 * 16, seconds);
}

}  // namespace scalelab::model::detail

#else  // not x86-64 with GCC or Clang: gemm.cpp never calls this

#include <cstdlib>

namespace scalelab::model::detail {
void gemm_avx2(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
               float, float*, int64_t, const GemmEpilogue&) {
  std::abort();
}
MicroKernelRate measure_micro_kernel_avx2(double) { return {}; }
}  // namespace scalelab::model::detail

#endif
