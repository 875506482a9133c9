#include "fit/data_constrained_rows.h"

#include <algorithm>
#include <cmath>

namespace scalelab::fit::kernels {

DataConstrainedRows::DataConstrainedRows(const std::vector<Point>& points) {
  const size_t rows = points.size();
  for (auto* v : {&ln_n_, &n_, &u_d_, &ln_u_d_, &r_d_}) v->resize(rows);
  for (auto& v : partial_) v.resize(rows);
  for (size_t i = 0; i < rows; ++i) {
    const Point& p = points[i];
    ln_n_[i] = std::log(p.N);
    n_[i] = p.N;
    u_d_[i] = std::min(p.U, p.D);
    ln_u_d_[i] = std::log(u_d_[i]);
    r_d_[i] = p.D / u_d_[i] - 1.0;
  }
}

void DataConstrainedRows::Evaluate(const double* theta, double* log_predicted) {
  const double ln_e = theta[0], ln_a = theta[1], ln_b = theta[2], alpha = theta[3], beta = theta[4];
  const double r_d_star = std::exp(theta[5]), r_n_star = std::exp(theta[6]);
  const double ln_g = (std::log(alpha) + ln_a - std::log(beta) - ln_b) / (alpha + beta);
  const double q = beta / alpha, sum_ab = alpha + beta;
  // ∂ln U_N/∂(ln A, ln B, α, β) where U_N binds; α and β act through ln U_D too (per row, below).
  const double g_a = (1 + q) / sum_ab, g_b = -g_a;
  const double g_alpha0 = (1 + q) * (1 / alpha - ln_g) / sum_ab, g_beta0 = (1 + q) * (-1 / beta - ln_g) / sum_ab;
  const int n = rows();
  for (int i = 0; i < n; ++i) {
    // As forms::log_predict, operation for operation.
    const double u_d = u_d_[i];
    const double x_d = r_d_[i] / r_d_star, m_d = -std::expm1(-x_d);
    const double d_eff = u_d + u_d * (r_d_star * m_d);
    const double ln_n_opt = ln_g + (beta / alpha) * (ln_u_d_[i] + ln_g);
    const bool binds = ln_n_opt < ln_n_[i];
    const double u_n = std::exp(binds ? ln_n_opt : ln_n_[i]);
    const double x_n = (n_[i] / u_n - 1.0) / r_n_star, m_n = -std::expm1(-x_n);
    const double n_eff = u_n + u_n * (r_n_star * m_n);
    const double ln_n_eff = std::log(n_eff), ln_d_eff = std::log(d_eff);
    const double t1 = ln_a - alpha * ln_n_eff, t2 = ln_b - beta * ln_d_eff, t3 = ln_e;
    double m = t1 > t2 ? t1 : t2;
    if (t3 > m) m = t3;
    const double e1 = std::exp(t1 - m), e2 = std::exp(t2 - m), e3 = std::exp(t3 - m);
    const double sum = e1 + e2 + e3;
    log_predicted[i] = m + std::log(sum);
    // The derivatives.
    const double w1 = e1 / sum, w2 = e2 / sum, w3 = e3 / sum;
    const double k = binds ? alpha * (n_eff - n_[i] * (1 - m_n)) / n_eff : 0.0;  // α·∂ln N′/∂ln U_N, 0 where U_N = N
    const double g_alpha = g_alpha0 - (ln_g + ln_u_d_[i]) * q / alpha;
    const double g_beta = g_beta0 + (ln_g + ln_u_d_[i]) / alpha;
    partial_[0][i] = w3;
    partial_[1][i] = w1 * (1 - k * g_a);
    partial_[2][i] = w2 - w1 * k * g_b;
    partial_[3][i] = -w1 * (ln_n_eff + k * g_alpha);
    partial_[4][i] = -w2 * ln_d_eff - w1 * k * g_beta;
    partial_[5][i] = -w2 * beta * u_d * r_d_star * (m_d - x_d * (1 - m_d)) / d_eff;
    partial_[6][i] = -w1 * alpha * u_n * r_n_star * (m_n - x_n * (1 - m_n)) / n_eff;
  }
}

}  // namespace scalelab::fit::kernels
