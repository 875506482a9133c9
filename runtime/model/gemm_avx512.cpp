#include "model/gemm_avx512.h"
#include "model/gemm_blocked.h"

#if defined(__x86_64__) && defined(__GNUC__)

// GCC 12 warns that its own AVX-512 intrinsics (the masked loads' _mm512_undefined_ps) may use an
// uninitialised value; they do not.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

// Every function here is compiled for AVX-512 by attribute, not by a file-wide -mavx512f, so that no
// inline function shared with other files (a std:: template, say) is emitted as AVX-512 code that the
// linker could pick for callers on CPUs without it.
#define SCALELAB_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")))
#define SCALELAB_AVX512_INLINE SCALELAB_AVX512 __attribute__((always_inline)) inline

namespace scalelab::model::detail {

namespace {

constexpr int kMr = 14;         // rows of C per register tile (28 accumulators)
constexpr int kNr = 32;         // columns of C per register tile: two 16-float vectors
constexpr int64_t kKc = 512;    // depth of a packed block: an A panel is kMr·kKc floats (28 KiB, L1)
constexpr int64_t kNc = 256;    // columns of a packed B block: kKc·kNc floats (512 KiB, L2)
constexpr int64_t kMc = 4096;   // rows of a packed A block (8 MiB at kKc, L3)
constexpr int kPrefetchB = 8;   // k steps ahead that the micro-kernel prefetches its B panel
constexpr int kPrefetchA = 64;  // floats ahead that the transposing packers prefetch each row
constexpr int kPrefetchRows = 32;  // rows ahead that the copying packers prefetch (from memory)

// Transposes the 16 × 16 block held in r[0..15] (r[i] = row i) so that r[j] holds column j.
SCALELAB_AVX512_INLINE void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i) {  // t[2i], t[2i+1]: rows 2i and 2i+1 interleaved, per 128-bit lane
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 4; ++i) {  // u[4i+c], lane l: rows 4i..4i+3 of column 4l+c
    u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
#pragma GCC unroll 16
  for (int c = 0; c < 4; ++c) {  // gather the lanes: rows 0-7 and 8-15 of columns c, 4+c, 8+c, 12+c
    t[c] = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
    t[4 + c] = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    t[8 + c] = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    t[12 + c] = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
  }
#pragma GCC unroll 16
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xDD);
  }
}

SCALELAB_AVX512_INLINE __mmask16 first_lanes(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << std::max(n, 0)) - 1);
}

// C[0..mr)[0..nr) = alpha·(A panel · B panel) + beta·C (first block of k) or + C (later blocks).
// ap: kc × MR floats (k-major), bp: kc × kNr floats. MR is the panel's row count (kMr, or fewer
// for the last panel of A).
template <int MR>
SCALELAB_AVX512 void micro_kernel(int64_t kc, const float* __restrict ap, const float* __restrict bp,
                                  float* c, int64_t ldc, int nr, float alpha, float beta, bool first,
                                  const TileEpilogue& extra) {
  // The tile's second 16 columns, where it has any (else its masked accesses stay at the first,
  // so that no pointer goes past the row's end).
  const int64_t hi = nr > 16 ? 16 : 0;
  for (int r = 0; r < MR; ++r) {  // the lines the epilogue reads arrive while the products run
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + hi), _MM_HINT_T0);
    if (extra.residual) {
      _mm_prefetch(reinterpret_cast<const char*>(extra.residual + r * extra.ld_residual), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(extra.residual + r * extra.ld_residual + hi), _MM_HINT_T0);
    }
  }
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16  // unrolled, the accumulators live in registers (rolled, GCC zeroes a stack copy)
  for (int r = 0; r < MR; ++r) {
    c0[r] = _mm512_setzero_ps();
    c1[r] = _mm512_setzero_ps();
  }
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
    _mm_prefetch(reinterpret_cast<const char*>(bp + kPrefetchB * kNr), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(bp + kPrefetchB * kNr + 16), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(ap + kPrefetchB * MR), _MM_HINT_T0);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(ap[r]);
      c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
    }
    ap += MR;
    bp += kNr;
  }
  const __m512 va = _mm512_set1_ps(alpha);
  const bool read_c = !first || beta != 0;
  const __m512 vb = _mm512_set1_ps(first ? beta : 1.0f);
  const __mmask16 m0 = first_lanes(nr), m1 = first_lanes(nr - 16);
  const __m512 bias0 = extra.bias ? _mm512_maskz_loadu_ps(m0, extra.bias) : _mm512_setzero_ps();
  const __m512 bias1 = extra.bias ? _mm512_maskz_loadu_ps(m1, extra.bias + hi) : _mm512_setzero_ps();
  for (int r = 0; r < MR; ++r) {
    float* row = c + r * ldc;
    __m512 x0 = _mm512_mul_ps(va, c0[r]), x1 = _mm512_mul_ps(va, c1[r]);
    if (read_c) {
      x0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, row), x0);
      x1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, row + hi), x1);
    }
    if (extra.bias) {
      x0 = _mm512_add_ps(x0, bias0);
      x1 = _mm512_add_ps(x1, bias1);
    }
    if (extra.residual) {
      const float* res = extra.residual + r * extra.ld_residual;
      x0 = _mm512_add_ps(x0, _mm512_maskz_loadu_ps(m0, res));
      x1 = _mm512_add_ps(x1, _mm512_maskz_loadu_ps(m1, res + hi));
    }
    _mm512_mask_storeu_ps(row, m0, x0);
    _mm512_mask_storeu_ps(row + hi, m1, x1);
  }
}

constexpr MicroKernel kMicroKernels[kMr + 1] = {
    nullptr,          micro_kernel<1>, micro_kernel<2>, micro_kernel<3>,  micro_kernel<4>,
    micro_kernel<5>,  micro_kernel<6>, micro_kernel<7>, micro_kernel<8>,  micro_kernel<9>,
    micro_kernel<10>, micro_kernel<11>, micro_kernel<12>, micro_kernel<13>, micro_kernel<14>};

// Packs rows [i0, i0 + mc) × depth [p0, p0 + kc) of op(A) as panels of kMr rows, each k-major
// (the panel's rows for k, then for k + 1, ...); the last panel holds mc mod kMr rows, if any, with
// that stride. With row_sums (offset to row i0), adds each row's sum over the block's depth to it.
// kSums says whether row_sums is given (only the weight-gradient products ask for them).
template <bool kSums>
SCALELAB_AVX512 void pack_a(bool trans, const float* a, int64_t lda, int64_t i0, int64_t mc,
                            int64_t p0, int64_t kc, float* out, float* row_sums) {
  if (trans) {
    // op(A)[i][p] = a[p][i]: a panel's k-th step is contiguous in a. Steps go kChunk at a time
    // across all the panels, so that the rows read (a page apart when a is wide) and the panel
    // pieces written stay within a few dozen pages: one panel after another would touch a new
    // page at every step.
    constexpr int64_t kChunk = 16;
    for (int64_t q0 = 0; q0 < kc; q0 += kChunk) {
      const int64_t q1 = std::min(kc, q0 + kChunk);
      for (int64_t ir = 0; ir < mc; ir += kMr) {
        const int mr = static_cast<int>(std::min<int64_t>(kMr, mc - ir));
        const __mmask16 mask = first_lanes(mr);
        float* o = out + ir * kc;
        const float* src = a + p0 * lda + i0 + ir;
        __m512 sum = _mm512_setzero_ps();
        for (int64_t p = q0; p < q1; ++p) {
          if (p + kPrefetchRows < kc) {  // the piece may straddle two lines
            _mm_prefetch(reinterpret_cast<const char*>(src + (p + kPrefetchRows) * lda), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(src + (p + kPrefetchRows) * lda + mr - 1),
                         _MM_HINT_T0);
          }
          const __m512 v = _mm512_maskz_loadu_ps(mask, src + p * lda);
          _mm512_mask_storeu_ps(o + p * mr, mask, v);
          if (kSums) sum = _mm512_add_ps(sum, v);
        }
        if (kSums)
          _mm512_mask_storeu_ps(row_sums + ir, mask,
                                _mm512_add_ps(_mm512_maskz_loadu_ps(mask, row_sums + ir), sum));
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
    __m512 sum = _mm512_setzero_ps();
    if (mr == kMr) {  // 16 steps at a time through a 16 × 16 transpose (rows past kMr unused)
      const __mmask16 mask = first_lanes(kMr);
      for (; p + 16 <= kc; p += 16) {
        __m512 v[16];
#pragma GCC unroll 16
        for (int r = 0; r < kMr; ++r) {
          _mm_prefetch(reinterpret_cast<const char*>(rows[r] + p + kPrefetchA), _MM_HINT_T0);
          v[r] = _mm512_loadu_ps(rows[r] + p);
        }
#pragma GCC unroll 16
        for (int r = kMr; r < 16; ++r) v[r] = _mm512_setzero_ps();
        transpose16(v);
#pragma GCC unroll 16
        for (int q = 0; q < 16; ++q) {
          _mm512_mask_storeu_ps(o + (p + q) * kMr, mask, v[q]);
          if (kSums) sum = _mm512_add_ps(sum, v[q]);
        }
      }
    }
    alignas(64) float sums[16];
    _mm512_store_ps(sums, sum);
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
SCALELAB_AVX512 void pack_b(bool trans, const float* b, int64_t ldb, int64_t p0, int64_t kc,
                            int64_t j0, int64_t nc, float* out) {
  if (!trans) {  // op(B)[p][j] = b[p][j]: a panel's k-th step is contiguous in b; steps in chunks
    constexpr int64_t kChunk = 16;  // as in pack_a
    for (int64_t q0 = 0; q0 < kc; q0 += kChunk) {
      const int64_t q1 = std::min(kc, q0 + kChunk);
      for (int64_t jr = 0; jr < nc; jr += kNr) {
        const int nr = static_cast<int>(std::min<int64_t>(kNr, nc - jr));
        const __mmask16 m0 = first_lanes(nr), m1 = first_lanes(nr - 16);
        const int64_t hi = nr > 16 ? 16 : 0;  // the second vector's columns (none: masked off)
        float* o = out + jr * kc;
        const float* src = b + p0 * ldb + j0 + jr;
        for (int64_t p = q0; p < q1; ++p) {
          if (p + kPrefetchRows < kc) {
            _mm_prefetch(reinterpret_cast<const char*>(src + (p + kPrefetchRows) * ldb), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(src + (p + kPrefetchRows) * ldb + nr - 1),
                         _MM_HINT_T0);
          }
          _mm512_store_ps(o + p * kNr, _mm512_maskz_loadu_ps(m0, src + p * ldb));
          _mm512_store_ps(o + p * kNr + 16, _mm512_maskz_loadu_ps(m1, src + p * ldb + hi));
        }
      }
    }
    return;
  }
  for (int64_t jr = 0; jr < nc; jr += kNr) {
    const int nr = static_cast<int>(std::min<int64_t>(kNr, nc - jr));
    float* o = out + jr * kc;
    // op(B)[p][j] = b[j][p]: 16 steps of 16 columns at a time through a 16 × 16 transpose
    const float* cols[kNr];
    for (int j = 0; j < nr; ++j) cols[j] = b + (j0 + jr + j) * ldb + p0;
    int64_t p = 0;
    if (nr == kNr) {
      for (; p + 16 <= kc; p += 16)
#pragma GCC unroll 16
        for (int h = 0; h < 2; ++h) {
          __m512 v[16];
#pragma GCC unroll 16
          for (int j = 0; j < 16; ++j) {
            _mm_prefetch(reinterpret_cast<const char*>(cols[16 * h + j] + p + kPrefetchA), _MM_HINT_T0);
            v[j] = _mm512_loadu_ps(cols[16 * h + j] + p);
          }
          transpose16(v);
#pragma GCC unroll 16
          for (int q = 0; q < 16; ++q) _mm512_store_ps(o + (p + q) * kNr + 16 * h, v[q]);
        }
    }
    for (; p < kc; ++p)
      for (int j = 0; j < kNr; ++j) o[p * kNr + j] = j < nr ? cols[j][p] : 0.0f;
  }
}

constexpr Blocking kBlocking = {kMr, kNr, kKc, kNc, kMc, 0, kMicroKernels, pack_a<false>, pack_a<true>, pack_b};

}  // namespace

void gemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                 const GemmEpilogue& epilogue) {
  gemm_blocked(kBlocking, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
}

namespace {

SCALELAB_AVX512 __attribute__((noinline)) double fma_loop(int64_t n) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(1.0001f), y = _mm512_set1_ps(0.9999f);
  for (int64_t i = 0; i < n; ++i) {
#pragma GCC unroll 24
    for (int j = 0; j < 24; ++j) acc[j] = _mm512_fmadd_ps(acc[j], x, y);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < 24; ++i) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  return lanes[0];  // returned, so that the loop is not optimised away
}

}  // namespace

MicroKernelRate measure_micro_kernel(double seconds) {
  // 24 FMAs of 16 lanes per step of the FMA loop.
  return measure_blocking(kBlocking, fma_loop, 24.0 * 32, seconds);
}

}  // namespace scalelab::model::detail

#else  // not x86-64 with GCC or Clang: gemm.cpp never calls this

#include <cstdlib>

namespace scalelab::model::detail {
void gemm_avx512(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                 int64_t, float, float*, int64_t, const GemmEpilogue&) {
  std::abort();
}
MicroKernelRate measure_micro_kernel(double) { return {}; }
}  // namespace scalelab::model::detail

#endif
