// The Chinchilla normal-equation kernel for the multi-start search: one pass over the observations
// gives the stacked-Huber cost, JᵀJ and Jᵀr̃ at a parameter vector, without storing the Jacobian.
// Compiled three times with their own flags (AVX-512, AVX2 + FMA, and the baseline of the target)
// from one body, chinchilla_kernel_body.inc, and chosen at run time by what the CPU has; vectorised
// with inline exp/log series (AVX-512) or glibc's vector math (libmvec). Each object defines only its
// one function (plain loops, nothing inline shared with the rest of the program), so no copy of an
// inline function built for a wider instruction set can be picked by the linker for other callers.
// Private to the fit module.
#pragma once

#include <cstddef>

namespace scalelab::fit::kernels {

// The observations as columns, padded to a multiple of kLanes rows with rows of weight 0 (which add
// nothing to the sums).
constexpr std::size_t kLanes = 8;
struct ChinchillaColumns {
  const double* ln_n = nullptr;
  const double* ln_d = nullptr;
  const double* ln_loss = nullptr;
  const double* sqrt_w = nullptr;
  std::size_t rows = 0;  // a multiple of kLanes
};

// At θ = (ln E, ln A, ln B, α, β): ln L̂_i = LSE(ln A − α ln N_i, ln B − β ln D_i, ln E),
// r_i = ln L̂_i − ln L_i, r̃_i = √w_i·sign(r_i)·sqrt(2·Huber_δ(r_i)) (√w_i·r_i when δ is infinite), and
//   cost = ½ Σ r̃_i²,   jtj = JᵀJ (upper triangle, row by row: 00 01 02 03 04 11 12 ... 44),
//   jtr = Jᵀr̃,          J_ij = ∂r̃_i/∂θ_j.
// The caller checks that the results are finite (the kernels are compiled with -ffast-math).
struct NormalEquations {
  double cost = 0;
  double jtj[15] = {};
  double jtr[5] = {};
};
using ChinchillaNormalFn = void (*)(const double* theta, const ChinchillaColumns& data, double delta,
                                    NormalEquations* out);

void chinchilla_normal_generic(const double* theta, const ChinchillaColumns& data, double delta, NormalEquations* out);
void chinchilla_normal_avx2(const double* theta, const ChinchillaColumns& data, double delta, NormalEquations* out);
void chinchilla_normal_avx512(const double* theta, const ChinchillaColumns& data, double delta, NormalEquations* out);

// The best kernel this CPU runs (checked once; SCALELAB_FIT_KERNEL=generic|avx2|avx512 caps it), and its name.
ChinchillaNormalFn chinchilla_normal();
const char* chinchilla_normal_name();

}  // namespace scalelab::fit::kernels
