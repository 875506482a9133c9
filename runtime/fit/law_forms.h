// The built-in law forms as templates on the scalar type (double, or ceres::Jet for derivatives),
// evaluated in fit coordinates: a log-scale parameter arrives as its logarithm (the LogSumExp
// parametrisation) unless `direct` is set, in which case every parameter arrives in natural units.
// Private to the fit module (law.cpp, fit.cpp).
#pragma once

#include <cmath>

#include "core/error.h"
#include "fit/law.h"

namespace scalelab::fit::forms {

// Log-sum-exp of two or three terms, stable for any magnitudes.
template <class T>
T lse(const T& x, const T& y) {
  using std::exp;
  using std::log;
  T m = x > y ? x : y;
  return m + log(exp(x - m) + exp(y - m));
}
template <class T>
T lse(const T& x, const T& y, const T& z) {
  using std::exp;
  using std::log;
  T m = x > y ? x : y;
  if (z > m) m = z;
  return m + log(exp(x - m) + exp(y - m) + exp(z - m));
}

// Access to parameter j in either coordinate system.
template <class T>
struct Coordinates {
  const T* theta;
  const ParameterSpec* specs;
  bool direct;
  T log_of(int j) const {
    using std::log;
    return specs[j].log_scale && !direct ? theta[j] : T(log(theta[j]));
  }
  T value(int j) const {
    using std::exp;
    return specs[j].log_scale && !direct ? T(exp(theta[j])) : theta[j];
  }
  const T& operator[](int j) const { return theta[j]; }
};

// ln of the law's output at x. IsoFlop and Custom are not handled here.
template <class T>
T log_predict(LawKind kind, const Coordinates<T>& p, const Point& x) {
  using std::exp;
  using std::expm1;
  using std::log;
  switch (kind) {
    case LawKind::KaplanN:  // N_c, alpha_N
      return p[1] * (p.log_of(0) - std::log(x.N));
    case LawKind::KaplanD:
      return p[1] * (p.log_of(0) - std::log(x.D));
    case LawKind::KaplanC:
      return p[1] * (p.log_of(0) - std::log(x.compute()));
    case LawKind::KaplanND: {  // N_c, D_c, alpha_N, alpha_D
      T n_term = (p[2] / p[3]) * (p.log_of(0) - std::log(x.N));
      T d_term = p.log_of(1) - std::log(x.D);
      return p[3] * lse(n_term, d_term);
    }
    case LawKind::KaplanCurve: {  // N_c, S_c, alpha_N, alpha_S
      T n_term = p[2] * (p.log_of(0) - std::log(x.N));
      T s_term = p[3] * (p.log_of(1) - std::log(x.S));
      return lse(n_term, s_term);
    }
    case LawKind::Chinchilla: {  // E, A, B, alpha, beta
      const double ln_n = std::log(x.N), ln_d = std::log(x.D);
      if (p.direct)
        return log(p[0] + p[1] * exp(-p[3] * ln_n) + p[2] * exp(-p[4] * ln_d));
      return lse(p.log_of(1) - p[3] * ln_n, p.log_of(2) - p[4] * ln_d, p.log_of(0));
    }
    case LawKind::DataConstrained: {  // E, A, B, alpha, beta, R_D, R_N
      const T alpha = p[3], beta = p[4];
      const T r_d_star = p.value(5), r_n_star = p.value(6);
      // Effective data: repeated epochs decay with R_D*.
      const double u_d = std::min(x.U, x.D);
      const double r_d = x.D / u_d - 1.0;
      // 1 − e^(−x) written −expm1(−x): 1 − exp(−x) cancels catastrophically when R* is large
      // (x = R/R* tiny), and R*·(1 − exp(−x)) then comes out far from R (even above it).
      T d_eff = u_d + u_d * (r_d_star * -expm1(-r_d / r_d_star));  // R*·(1 − e^(−R/R*)) ≤ R: no overflow
      // Effective parameters: beyond the compute-optimal size for the unique data, excess
      // parameters decay with R_N*. N_opt(D) = G·(D·G)^(β/α), G = (αA/(βB))^(1/(α+β)).
      T ln_g = (log(alpha) + p.log_of(1) - log(beta) - p.log_of(2)) / (alpha + beta);
      T ln_n_opt = ln_g + (beta / alpha) * (std::log(u_d) + ln_g);
      T ln_u_n = ln_n_opt < T(std::log(x.N)) ? ln_n_opt : T(std::log(x.N));
      T u_n = exp(ln_u_n);
      T r_n = x.N / u_n - 1.0;
      T n_eff = u_n + u_n * (r_n_star * -expm1(-r_n / r_n_star));
      return lse(p.log_of(1) - alpha * log(n_eff), p.log_of(2) - beta * log(d_eff), p.log_of(0));
    }
    case LawKind::PowerLaw:  // k, a; x is read by the caller into x.C
      return p.log_of(0) + p[1] * std::log(x.C);
    case LawKind::IsoFlop:
    case LawKind::Custom:
      break;
  }
  throw SystemError("fit::forms::log_predict: unsupported law kind");
}

}  // namespace scalelab::fit::forms
