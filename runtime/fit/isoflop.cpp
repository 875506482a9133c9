#include "fit/isoflop.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/units.h"
#include "fit/fit.h"

namespace scalelab::fit {

void IsoFlopOptions::Validate(size_t observations) const {
  check_bootstrap(bootstrap, "fit.isoflop");
  if (!budgets.empty() && budgets.size() != observations)
    fail("fit.isoflop: budget has ", budgets.size(), " values but there are ", observations,
         " observations; give one budget per run");
  for (size_t i = 0; i < budgets.size(); ++i)
    if (!(std::isfinite(budgets[i]) && budgets[i] > 0))
      fail("fit.isoflop: budget[", i + 1, "] = ", format_number(budgets[i], 6), " is not a positive number of FLOPs");
}

namespace {

// A run of one budget's curve.
struct Run {
  double ln_n, loss;
};

// The curves' runs by budget (ascending).
using Groups = std::map<double, std::vector<Run>>;

double round_significant(double x, int digits) {
  const double scale = std::pow(10.0, std::floor(std::log10(x)) - (digits - 1));
  return std::round(x / scale) * scale;
}

size_t distinct_sizes(const std::vector<Run>& runs) {
  std::vector<double> x;
  for (const Run& r : runs) x.push_back(r.ln_n);
  std::sort(x.begin(), x.end());
  return static_cast<size_t>(std::unique(x.begin(), x.end()) - x.begin());
}

// Least squares loss = k2·x² + k1·x + k0 over the runs (x = ln N), with its vertex and edges.
IsoFlopCurve curve_of(double budget, const std::vector<Run>& runs) {
  Eigen::MatrixXd X(runs.size(), 3);
  Eigen::VectorXd y(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    X(i, 0) = runs[i].ln_n * runs[i].ln_n;
    X(i, 1) = runs[i].ln_n;
    X(i, 2) = 1;
    y(i) = runs[i].loss;
  }
  const Eigen::Vector3d c = X.colPivHouseholderQr().solve(y);
  IsoFlopCurve curve;
  curve.C = budget;
  curve.runs = runs.size();
  curve.k2 = c(0);
  curve.k1 = c(1);
  curve.k0 = c(2);
  double lo = runs[0].ln_n, hi = lo;
  size_t best = 0;
  for (size_t i = 1; i < runs.size(); ++i) {
    lo = std::min(lo, runs[i].ln_n);
    hi = std::max(hi, runs[i].ln_n);
    if (runs[i].loss < runs[best].loss) best = i;
  }
  curve.N_smallest = std::exp(lo);
  curve.N_largest = std::exp(hi);
  // Curvature that moves the loss by no more than rounding across the sizes tried is none: flat or
  // collinear losses fit k2 ≈ ±1e-16, whose "vertex" lands anywhere (or overflows).
  double scale = 0;
  for (const Run& r : runs) scale = std::max(scale, std::fabs(r.loss));
  const double rise = curve.k2 * (hi - lo) * (hi - lo);
  curve.flat = std::fabs(rise) <= 1e-9 * scale;
  const double vertex = -curve.k1 / (2 * curve.k2);
  curve.has_minimum = !curve.flat && curve.k2 > 0 && std::isfinite(std::exp(vertex)) && std::exp(vertex) > 0;
  if (!curve.has_minimum) return curve;
  curve.N_opt = std::exp(vertex);
  curve.D_opt = budget / (6 * curve.N_opt);
  curve.L_min = curve.k0 - curve.k1 * curve.k1 / (4 * curve.k2);
  curve.inside = vertex >= lo && vertex <= hi;
  if (runs[best].ln_n == hi || runs[best].ln_n == lo) {
    curve.edge = runs[best].ln_n == hi ? "largest" : "smallest";
    curve.edge_N = std::exp(runs[best].ln_n);
  }
  return curve;
}

// Marks the vertices the power laws go through (those inside their sizes when two or more are,
// else every minimum) and returns them as (C, N_opt); `inside` counts the minima inside.
void choose_vertices(std::vector<IsoFlopCurve>& curves, std::vector<double>& C, std::vector<double>& N,
                     size_t& minima, size_t& inside) {
  minima = inside = 0;
  for (const IsoFlopCurve& c : curves) {
    minima += c.has_minimum;
    inside += c.has_minimum && c.inside;
  }
  C.clear();
  N.clear();
  for (IsoFlopCurve& c : curves) {
    c.used = c.has_minimum && (inside < 2 || c.inside);
    if (!c.used) continue;
    C.push_back(c.C);
    N.push_back(c.N_opt);
  }
}

// A budget's runs for the residual bootstrap: the parabola's loss at each run, and the pool of its
// relative residuals (loss/fitted − 1), each divided by √(1 − leverage) so that its spread is the
// noise's rather than the smaller spread of least-squares residuals; a run the parabola must pass
// through (leverage 1: one of exactly 3 sizes) leaves none.
void add_residuals(const IsoFlopCurve& c, const std::vector<Run>& runs, std::vector<double>& fitted,
                   std::vector<double>& pool) {
  double mean_x = 0;
  for (const Run& r : runs) mean_x += r.ln_n / static_cast<double>(runs.size());
  Eigen::MatrixXd X(runs.size(), 3);  // centred in ln N: the leverages are the same, the QR better conditioned
  for (size_t i = 0; i < runs.size(); ++i) {
    const double u = runs[i].ln_n - mean_x;
    X.row(i) << u * u, u, 1;
  }
  const Eigen::MatrixXd Q = Eigen::HouseholderQR<Eigen::MatrixXd>(X).householderQ() *
                            Eigen::MatrixXd::Identity(static_cast<Eigen::Index>(runs.size()), 3);
  for (size_t i = 0; i < runs.size(); ++i) {
    const double x = runs[i].ln_n, at = c.k2 * x * x + c.k1 * x + c.k0;
    fitted.push_back(at);
    const double free = 1 - Q.row(static_cast<Eigen::Index>(i)).squaredNorm();
    if (free > 1e-9 && at > 0) pool.push_back((runs[i].loss / at - 1) / std::sqrt(free));
  }
}

}  // namespace

IsoFlopResult fit_isoflop(const Observations& obs, const IsoFlopOptions& options) {
  obs.Validate();
  options.Validate(obs.size());
  if (options.budgets.empty()) obs.Require({Input::N, Input::C}, 3, "fit.isoflop");
  else obs.Require({Input::N}, 3, "fit.isoflop");
  // The vertices' tokens are D_opt = C/(6·N_opt): budgets counted with attention would be read as
  // 6·N·D ones, each D_opt too large by attention's share of its budget, silently.
  if (options.budgets.empty() && (obs.C_counts == "kaplan" || obs.C_counts == "palm"))
    fail("fit.isoflop: the runs' C is counted with attention (flops = \"", obs.C_counts, "\": ",
         obs.CountedC(), "), and the analysis reads each budget's tokens as D_opt = C/(6·N_opt), which would mix the "
         "two counts (D_opt too large by attention's share of C); give the budgets as 6·N·D: fit.observations without "
         "C (C = 6·N·D from N and D), or with C = 6·N·D and flops = \"6ND\" (fit.read_csv: C left out of the mapping, "
         "or a results export's C = \"flops\"), or fit.isoflop(obs, { budget = { ... } }) with the 6·N·D budget each "
         "run was planned at");
  // Budgets given are read as 6·N·D (the budget each run was planned at, as a sweep plans them); the
  // runs' own C given as them (budget = obs.C), counted with attention as the observations say, would
  // be read so, silently: refused as the same C is refused above.
  if (!options.budgets.empty() && (obs.C_counts == "kaplan" || obs.C_counts == "palm") && obs.has_column("C")) {
    bool runs_C = true;
    for (size_t i = 0; i < obs.size() && runs_C; ++i)
      runs_C = round_significant(options.budgets[i], 6) == round_significant(obs.compute(i), 6);
    if (runs_C)
      fail("fit.isoflop: budget = { ... } gives each run's own C, which is counted with attention (flops = \"",
           obs.C_counts, "\": ", obs.CountedC(), "), and the analysis reads each budget as 6·N·D "
           "(D_opt = C/(6·N_opt)), which would mix the two counts (D_opt too large by attention's share of C); give "
           "budget = { ... } the 6·N·D budget each run was planned at, or the runs without C (C = 6·N·D from N and D)");
  }

  // The curves: explicit budgets to 6 significant digits (a sweep's budgets are exact), else the
  // runs' compute to 3.
  Groups groups;
  for (size_t i = 0; i < obs.size(); ++i) {
    const double budget = options.budgets.empty() ? round_significant(obs.compute(i), 3)
                                                  : round_significant(options.budgets[i], 6);
    groups[budget].push_back({std::log(obs.point(i).N), obs.loss(i)});
  }

  IsoFlopResult out;
  if (const std::string repeated = obs.RepeatedRowsWarning(); !repeated.empty()) out.warnings.push_back(repeated);
  std::vector<double> values;
  for (const auto& [budget, runs] : groups) {
    const size_t sizes = distinct_sizes(runs);
    if (sizes < 3) {
      out.warnings.push_back(str("the budget C = ", format_flops(budget), " has ", format_counted(sizes, "distinct size"),
                                 "; a parabola needs 3 or more, so it is left out"));
      continue;
    }
    IsoFlopCurve curve = curve_of(budget, runs);
    values.insert(values.end(), {curve.k2, curve.k1, curve.k0});
    out.budgets.push_back(budget);
    out.N_opt.push_back(curve.N_opt);
    out.D_opt.push_back(curve.D_opt);
    out.L_min.push_back(curve.L_min);
    out.curves.push_back(std::move(curve));
  }
  if (out.curves.empty())
    fail("fit.isoflop: no budget has runs of 3 or more distinct sizes, which a parabola needs (",
         format_counted(static_cast<double>(groups.size()), "budget"), ", ", obs.size(), " runs)",
         options.budgets.empty() && groups.size() * 2 > obs.size()
             ? "; the runs were grouped by their C to 3 digits: where their FLOPs differ from the budget they "
               "were planned for (a trainer counts attention and rounds D to whole steps), give budget = { ... } per run"
             : "");
  out.parabolas = Law::IsoFlop(out.budgets, values);

  std::vector<double> C, N;
  choose_vertices(out.curves, C, N, out.minima, out.inside);
  for (const IsoFlopCurve& c : out.curves) {
    if (c.flat)
      out.warnings.push_back(str("the losses at C = ", format_flops(c.C),
                                 " are flat or linear in ln N: no minimum (widen the range of N, or check these runs)"));
    else if (!c.has_minimum)
      out.warnings.push_back(str("the parabola at C = ", format_flops(c.C),
                                 " opens downward: no minimum (widen the range of N)"));
    else if (!c.inside)
      out.warnings.push_back(str("the minimum at C = ", format_flops(c.C), " (N = ", format_count(c.N_opt),
                                 ") lies outside the sizes tried: it is extrapolated",
                                 c.used ? "" : ", and the power laws leave it out"));
    else if (!c.edge.empty()) {
      const bool largest = c.edge == "largest";
      out.warnings.push_back(str("at C = ", format_flops(c.C), " the lowest loss is at the ", c.edge,
                                 " size tried (N = ", format_count(c.edge_N), "), so no ", largest ? "larger" : "smaller",
                                 " model bounds the minimum and N_opt leans toward the middle of the sizes; add ",
                                 largest ? "larger" : "smaller", " sizes at this budget"));
    }
  }
  if (C.size() < 2) {  // then fewer than two minima: every minimum is used when fewer than two are inside
    out.warnings.push_back("fewer than two budgets have a minimum: no allocation power law can be fitted");
    return out;
  }
  if (out.inside < 2)
    out.warnings.push_back("fewer than two budgets bracket their optimum: the exponents are extrapolations, not measurements");
  std::vector<double> D;
  for (size_t i = 0; i < C.size(); ++i) D.push_back(C[i] / (6 * N[i]));
  out.N_law = fit_power_law(C, N, Input::C, "N_opt");
  out.D_law = fit_power_law(C, D, Input::C, "D_opt");
  for (FittedLaw* law : {&out.N_law, &out.D_law}) {
    law->N_counts = obs.N_counts;
    law->C_counted = "C = 6·N·D";
  }

  // Bootstrap (residual): each budget keeps its sizes; its losses are redrawn as its parabola's
  // times (1 + a residual drawn from every budget's pool), the residuals scaled in each resample by a
  // draw of the noise's scale given the pool's degrees of freedom; the same analysis on the draw.
  std::vector<std::vector<double>> fitted;
  std::vector<double> pool;
  size_t dof = 0;
  {
    size_t ci = 0;
    for (const auto& [budget, runs] : groups) {
      if (distinct_sizes(runs) < 3) continue;
      fitted.emplace_back();
      add_residuals(out.curves[ci++], runs, fitted.back(), pool);
      dof += runs.size() - 3;
    }
    centre(pool);
  }
  out.bootstrap_drawn = options.bootstrap;
  if (options.bootstrap > 0 && (dof == 0 || pool.empty())) {
    out.warnings.push_back(str("every budget's parabola passes through its runs (3 sizes each, no more runs): no "
                               "residuals are left to tell the noise from, so the bootstrap has no intervals; add sizes "
                               "around each budget's optimum (5 or more a budget)"));
    set_allocation_samples(out.N_law, out.D_law, out.k_samples, out.a_samples);
    return out;
  }
  std::mt19937_64 rng(options.seed);
  for (int b = 0; b < options.bootstrap; ++b) {
    check_interrupt();  // Ctrl-C stops a long bootstrap (a million resamples: seconds) now, not at its end
    const double scale = draw_scale(rng, dof);
    std::vector<IsoFlopCurve> curves;
    size_t ci = 0;
    for (const auto& [budget, runs] : groups) {
      if (distinct_sizes(runs) < 3) continue;
      std::vector<Run> drawn;
      for (size_t k = 0; k < runs.size(); ++k)
        drawn.push_back({runs[k].ln_n, fitted[ci][k] * (1 + scale * pool[draw_below(rng, pool.size())])});
      ++ci;
      curves.push_back(curve_of(budget, drawn));
    }
    std::vector<double> bc, bn;
    size_t minima = 0, inside = 0;
    choose_vertices(curves, bc, bn, minima, inside);
    double a = 0, ln_k = 0;
    if (bc.size() < 2 || !fit_log_line(bc, bn, a, ln_k)) continue;
    if (!std::isfinite(a) || !std::isfinite(ln_k)) continue;
    out.a_samples.push_back(a);
    out.k_samples.push_back(std::exp(ln_k));
    out.b_samples.push_back(1 - a);  // D_opt = C/(6·N_opt)
  }
  // Resamples are left out where fewer than two of their budgets' parabolas have a minimum (no line
  // to fit): those kept are the ones the noise disturbed least, so when most are left out the
  // intervals are narrower than the uncertainty they stand for.
  const size_t drawn = static_cast<size_t>(options.bootstrap);
  const std::string remedy = "add sizes around each budget's optimum (5 or more a budget), or reduce the noise in "
                             "the losses (more evaluation tokens, several seeds)";
  const std::string too_few = drop_too_few_samples(
      out.a_samples, out.k_samples, out.b_samples, options.bootstrap,
      "the others had too few budgets whose parabolas have a minimum", remedy);
  if (!too_few.empty()) {
    out.warnings.push_back(too_few);
  } else if (2 * out.a_samples.size() < drawn) {
    const size_t kept = out.a_samples.size();
    out.warnings.push_back(str("only ", kept, " of ", drawn, " bootstrap resamples were kept (the other ", drawn - kept,
                               " had too few budgets whose parabolas have a minimum): the intervals rest on the resamples "
                               "whose parabolas had minima, the ones the noise disturbed least, so they are likely too "
                               "narrow and unreliable; ", remedy));
  }
  set_allocation_samples(out.N_law, out.D_law, out.k_samples, out.a_samples);
  return out;
}

IsoFlopResult fit_isoflop(const Observations& obs, int bootstrap, uint64_t seed) {
  IsoFlopOptions options;
  options.bootstrap = bootstrap;
  options.seed = seed;
  return fit_isoflop(obs, options);
}

std::string IsoFlopResult::Summary() const {
  std::string text = str("isoflop fit (Chinchilla approach 2): ", format_counted(static_cast<double>(curves.size()), "budget"),
                         "\n");
  for (const IsoFlopCurve& c : curves) {
    if (!c.has_minimum) {
      text += str("  C = ", format_flops(c.C), ": no minimum (", c.flat ? "flat or linear in ln N" : "the parabola opens downward",
                  ")\n");
      continue;
    }
    text += str("  C = ", format_flops(c.C), ": N_opt ", format_count(c.N_opt), ", D_opt ", format_count(c.D_opt),
                ", L_min ", format_number(c.L_min, 4), c.used ? "" : " (not used)", "\n");
  }
  if (N_law.fitted) text += "  " + allocation_line(N_law, D_law, a_samples, b_samples, bootstrap_drawn) + "\n";
  for (const auto& n : notes) text += "  note: " + n + "\n";
  for (const auto& w : warnings) text += "  warning: " + w + "\n";
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace scalelab::fit
