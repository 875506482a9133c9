#include "fit/chinchilla_kernel.h"

#include <cmath>

namespace scalelab::fit::kernels {

void chinchilla_avx2(const double* theta, const double* ln_n, const double* ln_d, const double* ln_loss,
                     const double* sqrt_w, double delta, std::size_t n, double* residuals, double* jacobian) {
  const double ln_e = theta[0], ln_a = theta[1], ln_b = theta[2], alpha = theta[3], beta = theta[4];
  const bool huber = delta < 1e300;
  const double dd = delta * delta;
  double* j_e = jacobian;
  double* j_a = jacobian ? jacobian + n : nullptr;
  double* j_b = jacobian ? jacobian + 2 * n : nullptr;
  double* j_alpha = jacobian ? jacobian + 3 * n : nullptr;
  double* j_beta = jacobian ? jacobian + 4 * n : nullptr;
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) {
    // LogSumExp of the three terms, shifted by their maximum.
    const double t1 = ln_a - alpha * ln_n[i], t2 = ln_b - beta * ln_d[i];
    const double m = std::fmax(std::fmax(t1, t2), ln_e);
    // Arguments clamped at −300: exp(−300) ≈ 5e−131 is zero beside the largest term (1), and libmvec
    // then never falls back to its scalar path for underflowing lanes; no products go subnormal.
    const double e1 = std::exp(std::fmax(t1 - m, -300.0)), e2 = std::exp(std::fmax(t2 - m, -300.0)),
                 e3 = std::exp(std::fmax(ln_e - m, -300.0));
    const double sum = e1 + e2 + e3;
    const double r = m + std::log(sum) - ln_loss[i];
    const double a = std::fabs(r);
    const double root = std::sqrt(std::fmax(2 * delta * a - dd, dd));
    const double outside = (huber && a > delta) ? 1.0 : 0.0;
    const double signed_root = r < 0 ? -root : root;
    residuals[i] = sqrt_w[i] * (outside * signed_root + (1 - outside) * r);
    if (jacobian) {
      // dr̃/dr: √w inside ±δ, √w·δ/root outside; times the softmax weights of the terms.
      const double d = sqrt_w[i] * (outside * delta / root + (1 - outside)) / sum;
      j_e[i] = d * e3;
      j_a[i] = d * e1;
      j_b[i] = d * e2;
      j_alpha[i] = -d * e1 * ln_n[i];
      j_beta[i] = -d * e2 * ln_d[i];
    }
  }
}

}  // namespace scalelab::fit::kernels
