// Single-precision matrix products for the CPU trainer: C = alpha·op(A)·op(B) + beta·C, row-major.
//
// Four kernels, chosen once at run time (gemm_backend() says which):
//   avx512    our own (gemm_avx512.cpp), on CPUs with AVX-512F: 14 × 32 register tiles over packed
//             panels, as fast as OpenBLAS 0.3.21's SkylakeX kernel on the trainer's products, and
//             it folds the bias, the residual and the bias gradient into them (bench/RESULTS.md);
//   avx2      our own (gemm_avx2.cpp), on CPUs with AVX2 and FMA but no AVX-512 (or where a
//             hypervisor hides it): the same design with 6 × 16 tiles, as fast as OpenBLAS's Zen
//             kernel on the products and faster on whole steps (the epilogue is folded in);
//   openblas  Debian's libopenblas0, loaded at first use with dlopen and asked for one thread (the
//             trainer splits work between its own threads) and, on AVX-512 CPUs, for its SkylakeX
//             kernel, which 0.3.21 does not pick by itself on newer AMD and Intel parts;
//   portable  a blocked loop compiled for AVX-512, AVX2 and baseline x86-64 (target_clones).
// The default is avx512 where the CPU has it, else avx2, else openblas where the system has it,
// else portable; SCALELAB_GEMM=avx512|avx2|openblas|portable overrides it (for measuring). Each
// call is single-threaded and, for a given machine and kernel, deterministic: the same inputs give
// the same bits.
#pragma once

#include <cstdint>
#include <string>

namespace scalelab::model {

// op(A) is M×K (A is K×M when trans_a), op(B) is K×N (B is N×K when trans_b), C is M×N.
// lda, ldb, ldc are row strides in elements. beta = 0 overwrites C without reading it.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// Work done with the product: the AVX-512 kernel does it while C's tile is in registers and op(A)'s
// panel is being packed (no extra pass over memory); the other kernels in passes after the product,
// with the same arithmetic order: C = (alpha·op(A)·op(B) + beta·C) + bias, then + residual.
struct GemmEpilogue {
  const float* bias = nullptr;      // C[i][j] += bias[j]
  const float* residual = nullptr;  // C[i][j] += residual[i·ld_residual + j], after the bias
  int64_t ld_residual = 0;
  float* a_row_sums = nullptr;      // a_row_sums[i] += Σ_p op(A)[i][p] (a linear layer's bias
                                    // gradient, when op(A) = doutᵀ)
};
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
          const GemmEpilogue& epilogue);

enum class GemmKernel { Avx512, Avx2, OpenBlas, Portable };

// Whether this machine can run the kernel (the CPU's instructions, the library's presence).
bool gemm_available(GemmKernel kernel);

// For tests and benchmarks: run every later gemm() on `kernel` (fails if it is not available).
void gemm_select(GemmKernel kernel);
// The kernel gemm() runs on now (to restore after gemm_select).
GemmKernel gemm_selected();

// What gemm() runs on: "built-in AVX-512 kernel (14x32 tiles)", "OpenBLAS 0.3.21 (SkylakeX
// kernel)", "portable kernel (x86-64-v3)".
std::string gemm_backend();

}  // namespace scalelab::model
