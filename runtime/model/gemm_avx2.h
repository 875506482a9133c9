// The CPU trainer's own AVX2 + FMA single-precision matrix product (internal to gemm.cpp), for CPUs
// without AVX-512 (or where a hypervisor hides it).
//
// The AVX-512 kernel's design (gemm_avx512.h, gemm_blocked.h) with 16 registers of 8 floats: op(B) packed in
// blocks of kKc × kNc (512 × 256 floats, 512 KiB, held in L2) as panels 16 columns wide, op(A) in
// panels of 6 rows (12 KiB at kKc = 512, held in L1), and a 6 × 16 register tile (12 ymm
// accumulators) takes 12 FMAs for 2 vector loads and 6 broadcasts per k. The epilogue (bias,
// residual, row sums of op(A)) is folded in as on AVX-512.
//
// Deterministic: each element of C is summed over k in the same order whatever M, N, the thread or
// the call. Call only where the CPU has AVX2 and FMA (gemm.cpp checks).
#pragma once

#include <cstdint>

#include "model/gemm.h"
#include "model/gemm_blocked.h"  // MicroKernelRate

namespace scalelab::model::detail {

void gemm_avx2(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
               const GemmEpilogue& epilogue);

// For bench/train/bench_gemm: the 6 × 16 micro-kernel alone and an FMA loop of 12 chains of 8
// floats on the same thread, as measure_micro_kernel does for AVX-512.
MicroKernelRate measure_micro_kernel_avx2(double seconds);

}  // namespace scalelab::model::detail
