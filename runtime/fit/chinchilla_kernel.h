// The Chinchilla residual kernel for the multi-start search, vectorised for AVX2 + FMA (glibc's
// libmvec exp/log). Private to the fit module. Plain loops, no templates: compiled with its own
// flags in its own file, it shares no inline code with the rest of the program.
#pragma once

#include <cstddef>

namespace scalelab::fit::kernels {

// Whether this CPU runs the AVX2 kernel (checked once).
bool chinchilla_avx2_available();

// For i < n: ln L̂_i = LSE(ln A − α ln N_i, ln B − β ln D_i, ln E) (shifted by the largest term),
// r_i = ln L̂_i − ln L_i, the stacked-Huber residual r̃_i (see fit.cpp) into `residuals`; when
// `jacobian` is not null, dr̃_i/d(ln E, ln A, ln B, α, β) into its five columns (column-major, n rows).
// The caller checks that the residuals are finite (this file is compiled with -ffast-math).
void chinchilla_avx2(const double* theta, const double* ln_n, const double* ln_d, const double* ln_loss,
                     const double* sqrt_w, double delta, std::size_t n, double* residuals, double* jacobian);

}  // namespace scalelab::fit::kernels
