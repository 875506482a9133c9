// The CPU trainer's own AVX-512 single-precision matrix product (internal to gemm.cpp).
//
// BLIS's design (the loop nest is gemm_blocked.h's), for row-major C with the vector lanes along C's columns: op(B) is packed
// in blocks of kKc × kNc (512 × 256 floats, 512 KiB, held in L2) as panels 32 columns wide, op(A) in
// panels of 14 rows (28 KiB at kKc = 512, held in L1 while a row of B panels streams past), and a
// 14 × 32 register tile (28 accumulators) takes 28 FMAs for 2 vector loads and 14 broadcasts per k.
// The micro-kernel alone runs at 95-97% of the FMA peak (bench/train/gemm.sh) of a core that issues two
// 512-bit FMAs per cycle (AMD Zen 5); packing, tile edges and C traffic are the rest
// (bench/RESULTS.md). Packing also does the epilogue's row sums of op(A), and the last block of k
// adds the bias and residual as the tile is stored.
//
// Deterministic: each element of C is summed over k in the same order whatever M, N, the thread or
// the call, so the trainer's threads get the same bits however they split the rows. Call only where
// the CPU has AVX-512F (gemm.cpp checks).
#pragma once

#include <cstdint>

#include "model/gemm.h"
#include "model/gemm_blocked.h"  // MicroKernelRate

namespace scalelab::model::detail {

void gemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                 int64_t ldc, const GemmEpilogue& epilogue);

// For bench/train/bench_gemm: the 14 × 32 micro-kernel alone (C = A·B over packed panels of depth
// 512 that stay in cache, one thread, about `seconds`) and, on the same thread just after, a loop of
// 24 independent FMA chains: the peak the kernel is measured against. GFLOP/s of each.
MicroKernelRate measure_micro_kernel(double seconds);

}  // namespace scalelab::model::detail
