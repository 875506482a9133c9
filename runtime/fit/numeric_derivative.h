#pragma once
// Numeric derivatives for the fitter's custom laws (the built-in forms use automatic differentiation).

#include <algorithm>
#include <cmath>
#include <limits>

namespace scalelab::fit {

// Column k of the Jacobian of `eval` (n outputs; eval(x, out) is true when every output is finite)
// at x, whose outputs there are f0, written to column[0], column[stride], ...: central differences
// with the step h = 1e-6·max(1, |x_k|). The differences divide by the steps actually taken,
// (x_k + h) − x_k and x_k − (x_k − h), not by h. Where the law cannot be evaluated on one side (a
// domain edge, e.g. a linear parameter near 0 whose law turns negative below it), the one-sided
// difference on the other; where neither side evaluates, the step is shrunk by 4. False (the column
// unknown) once the step falls to 4·eps·max(1, |x_k|), where a difference measures rounding, not the
// law: never a silent zero from evaluating both sides at x_k itself.
// `up` and `down` are the caller's scratch of n values each (no allocation here); x[k] is restored.
template <class Eval>
bool numeric_column(Eval&& eval, double* x, int k, int n, const double* f0, double* column, int stride,
                    double* up, double* down) {
  const double saved = x[k];
  const double scale = std::max(1.0, std::abs(saved));
  const double smallest = 4 * std::numeric_limits<double>::epsilon() * scale;
  for (double h = 1e-6 * scale; h > smallest; h /= 4) {
    x[k] = saved + h;
    const double h_up = x[k] - saved;
    const bool ok_up = h_up > smallest && eval(x, up);
    x[k] = saved - h;
    const double h_down = saved - x[k];
    const bool ok_down = h_down > smallest && eval(x, down);
    x[k] = saved;
    if (!ok_up && !ok_down) continue;
    for (int i = 0; i < n; ++i)
      column[i * stride] = ok_up && ok_down ? (up[i] - down[i]) / (h_up + h_down)
                           : ok_up          ? (up[i] - f0[i]) / h_up
                                            : (f0[i] - down[i]) / h_down;
    return true;
  }
  x[k] = saved;
  return false;
}

}  // namespace scalelab::fit
