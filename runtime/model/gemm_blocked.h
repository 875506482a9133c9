// The loop nest that our own matrix products share (internal to gemm_avx512.cpp and
// gemm_avx2.cpp): BLIS's blocking for row-major C. op(B) is packed in blocks of kc × nc held in L2
// as panels nr columns wide, op(A) in panels of mr rows held in L1 while a row of B panels streams
// past, and a micro-kernel computes an mr × nr tile of C from one A and one B panel. Each
// instruction set brings its tile sizes, packers and micro-kernels (a Blocking); the loop nest and
// the packing space are here.
//
// Deterministic: each element of C is summed over k in the same order whatever M, N, the thread or
// the call (blocks of k in order, then k in order within the micro-kernel).
#pragma once

#include <cstdint>

#include "model/gemm.h"

namespace scalelab::model::detail {

// Extras for the last block of k, offset to the tile (see GemmEpilogue): the bias at the tile's
// first column, the residual at its first row and column.
struct TileEpilogue {
  const float* bias = nullptr;
  const float* residual = nullptr;
  int64_t ld_residual = 0;
};

// C[0..mr)[0..nr) = alpha·(A panel · B panel) + beta·C (first block of k) or + C (later blocks);
// the A panel is kc × mr floats (k-major), the B panel kc × Blocking::nr.
using MicroKernel = void (*)(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int nr,
                             float alpha, float beta, bool first, const TileEpilogue& extra);

// Packs rows [i0, i0 + mc) × depth [p0, p0 + kc) of op(A) as panels of mr rows, each k-major (the
// last panel holds mc mod mr rows with that stride); with row_sums (offset to row i0), adds each
// row's sum over the block's depth to it.
using PackA = void (*)(bool trans, const float* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0,
                       int64_t kc, float* out, float* row_sums);
// Packs depth [p0, p0 + kc) × columns [j0, j0 + nc) of op(B) as panels of nr columns, each k-major;
// a last narrower panel is padded with zeros to nr columns.
using PackB = void (*)(bool trans, const float* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
                       int64_t nc, float* out);

struct Blocking {
  int mr = 0, nr = 0;               // the register tile
  int64_t kc = 0, nc = 0, mc = 0;   // the packed blocks' depth, columns of B and rows of A
  int64_t a_slack = 0;              // floats past a packed A block that pack_a may write
  const MicroKernel* micro_kernels = nullptr;  // [r] computes r rows, for r in [1, mr]
  PackA pack_a = nullptr;           // without row sums (row_sums is null)
  PackA pack_a_sums = nullptr;      // with them
  PackB pack_b = nullptr;
};

// C = alpha·op(A)·op(B) + beta·C with the epilogue, on one thread; k > 0.
void gemm_blocked(const Blocking& blocking, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc, const GemmEpilogue& epilogue);

// For tests: with guards on, each call's packing spaces are followed by kPackGuardFloats floats of a
// known bit pattern, checked as the call returns; pack_guard_breaches() counts the calls that found
// it changed (a packer or micro-kernel writing past the space the loop nest sized for it, which the
// spaces' rounding up and growing would otherwise hide). Off by default.
constexpr int64_t kPackGuardFloats = 64;
void set_pack_guards(bool on);
int64_t pack_guard_breaches();

// A micro-kernel's speed against the core's peak (bench/train/bench_gemm): the full-tile micro-kernel
// over packed panels of depth kc that stay in cache (1024 / mr A panels against 256 / nr B panels,
// the trainer's blocks), then `fma_loop(n)`, n steps of independent FMA chains (`fma_step_flops`
// each). One thread, about `seconds` each; GFLOP/s.
struct MicroKernelRate {
  double kernel_gflops = 0, fma_gflops = 0;
};
MicroKernelRate measure_blocking(const Blocking& blocking, double (*fma_loop)(int64_t), double fma_step_flops,
                                 double seconds);

}  // namespace scalelab::model::detail
