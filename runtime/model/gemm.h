// Single-precision matrix products for the CPU trainer: C = alpha·op(A)·op(B) + beta·C, row-major.
//
// The work goes to OpenBLAS when the system has it (Debian's libopenblas0, loaded at first use with
// dlopen so that we can choose its kernel: on CPUs with AVX-512 we ask for its SkylakeX kernel, which
// OpenBLAS 0.3.21 does not pick by itself on newer AMD and Intel parts, and we ask for one thread,
// because the trainer splits work between its own threads deterministically). Without OpenBLAS a
// portable blocked kernel of our own, compiled for AVX-512, AVX2 and baseline x86-64 and chosen at
// run time, does the same work more slowly. Each call is single-threaded and, for a given machine
// and library, deterministic: the same inputs give the same bits.
#pragma once

#include <cstdint>
#include <string>

namespace scalelab::model {

// op(A) is M×K (A is K×M when trans_a), op(B) is K×N (B is N×K when trans_b), C is M×N.
// lda, ldb, ldc are row strides in elements. beta = 0 overwrites C without reading it.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// "OpenBLAS 0.3.21 (SkylakeX kernel)" or "built-in kernel (avx512f)": what gemm() runs on.
std::string gemm_backend();

// For tests and benchmarks: force the built-in kernel even when OpenBLAS is present.
void gemm_use_builtin(bool builtin);

}  // namespace scalelab::model
