#include "plan/search.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/interrupt.h"

namespace scalelab::plan::search {

namespace {
double finite_or_inf(double v) { return std::isfinite(v) ? v : std::numeric_limits<double>::infinity(); }
}  // namespace

double brent(const std::function<double(double)>& f, double a, double b, double tolerance, double* fmin) {
  // Brent (1973): golden-section steps, parabolic steps where they are safe.
  const double golden = 0.3819660112501051;  // (3 - sqrt 5) / 2
  double x = a + golden * (b - a), w = x, v = x;
  double fx = finite_or_inf(f(x)), fw = fx, fv = fx;
  double d = 0, e = 0;
  for (int iteration = 0; iteration < 200; ++iteration) {
    const double m = 0.5 * (a + b);
    const double tol1 = tolerance * std::fabs(x) + 1e-14, tol2 = 2 * tol1;
    if (std::fabs(x - m) <= tol2 - 0.5 * (b - a)) break;
    bool parabolic = false;
    if (std::fabs(e) > tol1 && std::isfinite(fx) && std::isfinite(fw) && std::isfinite(fv)) {
      double r = (x - w) * (fx - fv), q = (x - v) * (fx - fw), p = (x - v) * q - (x - w) * r;
      q = 2 * (q - r);
      if (q > 0) p = -p;
      q = std::fabs(q);
      const double e_prev = e;
      if (std::fabs(p) < std::fabs(0.5 * q * e_prev) && p > q * (a - x) && p < q * (b - x)) {
        e = d;
        d = p / q;
        const double u = x + d;
        if (u - a < tol2 || b - u < tol2) d = x < m ? tol1 : -tol1;
        parabolic = true;
      }
    }
    if (!parabolic) {
      e = (x < m ? b : a) - x;
      d = golden * e;
    }
    const double u = std::fabs(d) >= tol1 ? x + d : x + (d > 0 ? tol1 : -tol1);
    const double fu = finite_or_inf(f(u));
    if (fu <= fx) {
      (u < x ? b : a) = x;
      v = w, fv = fw;
      w = x, fw = fx;
      x = u, fx = fu;
    } else {
      (u < x ? a : b) = u;
      if (fu <= fw || w == x) {
        v = w, fv = fw;
        w = u, fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u, fv = fu;
      }
    }
  }
  if (fmin) *fmin = fx;
  return x;
}

Minimum minimize(const std::function<double(double)>& f, double lo, double hi, int grid, double tolerance) {
  SCALELAB_CHECK(grid >= 3 && hi > lo);
  std::vector<double> xs(grid), fs(grid);
  for (int i = 0; i < grid; ++i) {
    xs[i] = lo + (hi - lo) * i / (grid - 1);
    fs[i] = finite_or_inf(f(xs[i]));
  }
  check_interrupt();
  Minimum best;
  best.f = std::numeric_limits<double>::infinity();
  best.x = xs[0];
  std::vector<std::pair<double, double>> minima;  // (x, f)
  for (int i = 0; i < grid; ++i) {
    const bool left_ok = i == 0 || fs[i] <= fs[i - 1];
    const bool right_ok = i == grid - 1 || fs[i] <= fs[i + 1];
    // A plateau yields one minimum: take its first point only.
    if (!left_ok || !right_ok || !std::isfinite(fs[i])) continue;
    if (i > 0 && fs[i] == fs[i - 1]) continue;
    double x = xs[i], fx = fs[i];
    if (i > 0 && i < grid - 1) {
      double fr = 0;
      double xr = brent(f, xs[i - 1], xs[i + 1], tolerance, &fr);
      if (fr <= fx) x = xr, fx = fr;
    }
    minima.emplace_back(x, fx);
  }
  best.local_minima = static_cast<int>(minima.size());
  for (const auto& [x, fx] : minima)
    if (fx < best.f) best.x = x, best.f = fx;
  for (const auto& [x, fx] : minima)
    if (x != best.x) best.others.push_back(x);
  const double step = (hi - lo) / (grid - 1);
  best.at_edge = std::fabs(best.x - lo) < 0.5 * step || std::fabs(best.x - hi) < 0.5 * step;
  return best;
}

double bisect(const std::function<double(double)>& g, double lo, double hi, double tolerance) {
  double g_lo = g(lo);
  for (int iteration = 0; iteration < 300 && hi - lo > tolerance; ++iteration) {
    const double mid = 0.5 * (lo + hi);
    const double g_mid = g(mid);
    if ((g_mid < 0) == (g_lo < 0)) {
      lo = mid;
      g_lo = g_mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

}  // namespace scalelab::plan::search
