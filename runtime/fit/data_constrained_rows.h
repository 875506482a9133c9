// Muennighoff et al.'s data-constrained law over a fit's observations, with its analytic derivatives,
// for the multi-start search (fit.cpp's StackedHuber). Private to the fit module.
//
// ln L̂ is computed with the same operations in the same order as forms::log_predict (law_forms.h),
// so the predictions are those of the automatic-differentiation path bit for bit; what depends only
// on a row (ln N, U_D, ln U_D, R_D) is computed once, and the derivatives are written out by the
// chain rule instead of carried through every operation as ceres::Jet:
//   ln L̂ = LSE(t1, t2, t3), t1 = ln A − α ln N′, t2 = ln B − β ln D′, t3 = ln E, softmax weights w1..w3;
//   D′ = U_D(1 + R_D*·m_D), m_D = 1 − e^(−x_D), x_D = R_D/R_D*:  ∂D′/∂ln R_D* = U_D·R_D*·(m_D − x_D·e^(−x_D));
//   N′ = U_N(1 + R_N*·m_N), the same in R_N*; where U_N = N_opt(U_D) < N (it binds),
//   ∂ln N′/∂ln U_N = (N′ − N·e^(−x_N))/N′ and ln U_N = ln G·(1 + β/α) + (β/α)·ln U_D,
//   ln G = (ln α + ln A − ln β − ln B)/(α + β).
#pragma once

#include <vector>

#include "fit/observations.h"

namespace scalelab::fit::kernels {

class DataConstrainedRows {
 public:
  explicit DataConstrainedRows(const std::vector<Point>& points);

  // At θ = (ln E, ln A, ln B, α, β, ln R_D*, ln R_N*): ln L̂ at every row into log_predicted, and
  // ∂ln L̂/∂θ_j at every row into partial(j).
  void Evaluate(const double* theta, double* log_predicted);
  const std::vector<double>& partial(int j) const { return partial_[j]; }
  int rows() const { return static_cast<int>(n_.size()); }

 private:
  std::vector<double> ln_n_, n_, u_d_, ln_u_d_, r_d_;
  std::vector<double> partial_[7];
};

}  // namespace scalelab::fit::kernels
