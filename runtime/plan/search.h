// One-dimensional searches used by the planner (private to plan/): a global minimum over an
// interval by a grid scan whose every local minimum is refined with Brent's method, and a root of
// a monotone function by bisection.
#pragma once

#include <functional>
#include <vector>

namespace scalelab::plan::search {

struct Minimum {
  double x = 0;
  double f = 0;
  int local_minima = 0;          // distinct local minima found on the grid
  std::vector<double> others;    // x of the other local minima (worse than the best)
  bool at_edge = false;          // the best point is an end of the interval
};

// Minimises f over [lo, hi]. Non-finite values of f count as +infinity. `grid` ≥ 3 points.
Minimum minimize(const std::function<double(double)>& f, double lo, double hi, int grid = 241,
                 double tolerance = 1e-10);

// Brent's method on [a, b] (f unimodal there); returns the minimiser.
double brent(const std::function<double(double)>& f, double a, double b, double tolerance, double* fmin);

// x in [lo, hi] where the monotone function g crosses zero (g(lo) and g(hi) of opposite sign),
// by bisection to an interval of width `tolerance`.
double bisect(const std::function<double(double)>& g, double lo, double hi, double tolerance = 1e-12);

}  // namespace scalelab::plan::search
