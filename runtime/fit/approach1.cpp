#include "fit/approach1.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/units.h"
#include "fit/fit.h"

namespace scalelab::fit {

void Approach1Options::Validate() const {
  if (points_per_decade < 1 || points_per_decade > 10000)
    fail("fit.approach1: points_per_decade must be between 1 and 10000 (got ", points_per_decade,
         "); 100 reads the envelope finely enough");
  check_bootstrap(bootstrap, "fit.approach1");
  if (!(smoothing >= 0 && smoothing <= 10))
    fail("fit.approach1: smoothing must be between 0 and 10 decades (got ", format_number(smoothing, 6), "); 0 reads the curves as they are");
}

namespace {

// A run's curve against ln C, the points that have the loss read.
struct Curve {
  double N = 0;
  std::vector<double> ln_c, loss;
  std::vector<double> leverage;  // after smooth: each point's weight in its own smoothed loss
};

size_t finite_points(const std::vector<double>& v) {
  return static_cast<size_t>(std::count_if(v.begin(), v.end(), [](double x) { return std::isfinite(x); }));
}

// ln(6·N·tokens), finite for any positive N and tokens that are doubles (6·N·tokens itself may not be).
double ln_compute(double N, double tokens) { return std::log(6.0) + std::log(N) + std::log(tokens); }

void check_run(const TrainingCurve& r, size_t i) {
  if (!(std::isfinite(r.N) && r.N > 0))
    fail("fit.approach1: run ", i + 1, " has N = ", format_number(r.N, 6), "; give each run's parameter count, a positive number");
  const std::string run = str("fit.approach1: run ", i + 1, " (N = ", format_count(r.N), ")");
  for (const auto* column : {&r.train_loss, &r.eval_loss})
    if (!column->empty() && column->size() != r.tokens.size())
      fail(run, " has ", r.tokens.size(), " token counts but ", column->size(), " ",
           column == &r.train_loss ? "training" : "eval", " losses; give one per point (missing: NaN)");
  for (size_t j = 0; j < r.tokens.size(); ++j) {
    if (!std::isfinite(r.tokens[j]) || r.tokens[j] < 0)
      fail(run, ", point ", j + 1, " has tokens = ", format_number(r.tokens[j], 6), "; give the tokens seen so far, a non-negative number");
    if (j > 0 && !(r.tokens[j] > r.tokens[j - 1]))
      fail(run, ": its tokens do not increase at point ", j + 1, " (", format_number(r.tokens[j - 1], 6), " then ", format_number(r.tokens[j], 6),
           "); give the curve's points in training order, one per token count");
  }
}

// The curve of one run (the points with tokens > 0 and a finite loss of the kind read).
Curve curve_of(const TrainingCurve& r, bool eval) {
  const std::vector<double>& loss = eval ? r.eval_loss : r.train_loss;
  Curve c;
  c.N = r.N;
  for (size_t j = 0; j < loss.size(); ++j)
    if (r.tokens[j] > 0 && std::isfinite(loss[j])) {
      c.ln_c.push_back(ln_compute(r.N, r.tokens[j]));
      c.loss.push_back(loss[j]);
    }
  return c;
}

// The curve smoothed: each point's loss replaced by the least-squares parabola in ln C through the
// points within `half_width` of it (in ln C), read at the point (through 3 points, the parabola
// through them; through 2, their line; 1 stays as it is). A parabola rather than a line or a mean follows the curve's bend, which matters
// most at its end, where the window is one-sided and the envelope often reads it.
void smooth(Curve& c, double half_width) {
  c.leverage.assign(c.loss.size(), 1.0);
  if (half_width <= 0) return;
  std::vector<double> out(c.loss.size());
  size_t lo = 0, hi = 0;  // the window [lo, hi)
  for (size_t i = 0; i < c.ln_c.size(); ++i) {
    while (c.ln_c[lo] < c.ln_c[i] - half_width) ++lo;
    while (hi < c.ln_c.size() && c.ln_c[hi] <= c.ln_c[i] + half_width) ++hi;
    // Normal equations in u = (ln C − ln C_i) / half_width, which keeps them well scaled.
    Eigen::Matrix3d A = Eigen::Matrix3d::Zero();
    Eigen::Vector3d b = Eigen::Vector3d::Zero();
    for (size_t j = lo; j < hi; ++j) {
      const double u = (c.ln_c[j] - c.ln_c[i]) / half_width;
      const Eigen::Vector3d row(1, u, u * u);
      A += row * row.transpose();
      b += row * c.loss[j];
    }
    const int terms = static_cast<int>(std::min<size_t>(3, hi - lo));
    const auto ldlt = A.topLeftCorner(terms, terms).ldlt();
    const Eigen::VectorXd fit = ldlt.solve(b.head(terms));
    out[i] = std::isfinite(fit(0)) ? fit(0) : c.loss[i];
    // The point's own weight in its smoothed loss: (A⁻¹)₀₀, the point being at u = 0.
    const double own = ldlt.solve(Eigen::VectorXd::Unit(terms, 0))(0);
    if (std::isfinite(fit(0)) && std::isfinite(own)) c.leverage[i] = std::clamp(own, 0.0, 1.0);
  }
  c.loss = std::move(out);
}

struct Envelope {
  std::vector<EnvelopePoint> points;
  std::vector<FrontierSwitch> switches;
  size_t sizes = 0;          // distinct N on it
  double ln_c_lo = 0, ln_c_hi = 0;  // the compute range the curves cover
};

// The bracketed frontier at C = 10^(j / points_per_decade) across the curves' range. `index` maps a
// curve to the run it came from.
Envelope envelope_of(const std::vector<const Curve*>& curves, const std::vector<size_t>& index, int points_per_decade) {
  Envelope e;
  if (curves.empty()) return e;
  e.ln_c_lo = std::numeric_limits<double>::infinity();
  e.ln_c_hi = -e.ln_c_lo;
  for (const Curve* c : curves) {
    e.ln_c_lo = std::min(e.ln_c_lo, c->ln_c.front());
    e.ln_c_hi = std::max(e.ln_c_hi, c->ln_c.back());
  }
  const double step = std::log(10.0) / points_per_decade;
  // ln C is finite (ln_compute), so the grid has at most ~1500 / step points: 6.5 million at 10000
  // per decade, the most Validate allows.
  std::vector<size_t> cursor(curves.size(), 0);  // each curve's segment: x in [ln_c[k], ln_c[k+1]]
  std::set<double> sizes;
  double previous = 0;  // the grid index of the envelope's last point, when it has one
  for (double j = std::ceil(e.ln_c_lo / step); j * step <= e.ln_c_hi; ++j) {
    const double x = j * step;
    size_t best = curves.size();
    double best_loss = 0, smallest = std::numeric_limits<double>::infinity(), largest = 0;
    for (size_t i = 0; i < curves.size(); ++i) {
      const Curve& c = *curves[i];
      if (x < c.ln_c.front() || x > c.ln_c.back()) continue;
      size_t& k = cursor[i];
      while (k + 2 < c.ln_c.size() && c.ln_c[k + 1] < x) ++k;
      const double t = (x - c.ln_c[k]) / (c.ln_c[k + 1] - c.ln_c[k]);
      const double loss = c.loss[k] + std::clamp(t, 0.0, 1.0) * (c.loss[k + 1] - c.loss[k]);
      smallest = std::min(smallest, c.N);
      largest = std::max(largest, c.N);
      if (best == curves.size() || loss < best_loss || (loss == best_loss && c.N < curves[best]->N)) {
        best = i;
        best_loss = loss;
      }
    }
    if (best == curves.size()) continue;
    const double N = curves[best]->N;
    if (!(smallest < N && N < largest)) continue;  // at this compute nothing bounds the winner on one side
    const double C = std::exp(x);
    if (!e.points.empty() && previous == j - 1 && e.points.back().N != N) {
      const double before = e.points.back().N;
      e.switches.push_back({std::exp(x - step / 2), before, N, std::sqrt(before * N)});
    }
    previous = j;
    e.points.push_back({C, N, C / (6 * N), best_loss, index[best]});
    sizes.insert(N);
  }
  e.sizes = sizes.size();
  return e;
}

// A curve's (smoothed) loss at ln C = x, linear in ln C between its points; NaN outside it.
double loss_at(const Curve& c, double x) {
  if (x < c.ln_c.front() || x > c.ln_c.back()) return std::numeric_limits<double>::quiet_NaN();
  const size_t k = std::min<size_t>(
      static_cast<size_t>(std::max<std::ptrdiff_t>(std::upper_bound(c.ln_c.begin(), c.ln_c.end(), x) - c.ln_c.begin(), 1) - 1),
      c.ln_c.size() - 2);
  const double t = std::clamp((x - c.ln_c[k]) / (c.ln_c[k + 1] - c.ln_c[k]), 0.0, 1.0);
  return c.loss[k] + t * (c.loss[k + 1] - c.loss[k]);
}

// Each run's offset from the others (a level it keeps along its whole curve, as a seed or a data
// order gives), read across sizes: at computes 0.1 decade apart, each size's lowest smoothed ln loss
// there against the quadratic in ln N through the two sizes below and the two above that reach the
// same compute (a fourth difference: the law's own bend in ln N, which decides the envelope, is
// nearly quadratic over five neighbouring sizes), averaged over the computes where the run is that
// size's lowest, divided by the spread that an offset of 1 gives it (√(1 + Σ weight²)). Runs of the
// two smallest and two largest sizes have none. Centred.
std::vector<double> offset_pool(const std::vector<Curve>& curves) {
  std::vector<double> sizes;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Curve& c : curves) {
    sizes.push_back(c.N);
    lo = std::min(lo, c.ln_c.front());
    hi = std::max(hi, c.ln_c.back());
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  std::vector<double> sum_d(curves.size(), 0), sum_f(curves.size(), 0);
  std::vector<size_t> count(curves.size(), 0);
  const double step = std::log(10.0) / 10;
  for (double j = std::ceil(lo / step); j * step <= hi; ++j) {
    const double x = j * step;
    std::vector<double> u, v;
    std::vector<size_t> who;
    for (double N : sizes) {
      size_t run = curves.size();
      double best = 0;
      for (size_t i = 0; i < curves.size(); ++i) {
        if (curves[i].N != N) continue;
        const double l = loss_at(curves[i], x);
        if (std::isfinite(l) && l > 0 && (run == curves.size() || l < best)) {
          run = i;
          best = l;
        }
      }
      if (run == curves.size()) continue;
      u.push_back(std::log(N));
      v.push_back(std::log(best));
      who.push_back(run);
    }
    for (size_t m = 2; m + 2 < u.size(); ++m) {
      Eigen::Matrix<double, 4, 3> X;
      Eigen::Vector4d y;
      int row = 0;
      for (size_t k : {m - 2, m - 1, m + 1, m + 2}) {
        const double du = u[k] - u[m];
        X.row(row) << 1, du, du * du;
        y(row++) = v[k];
      }
      const Eigen::Vector4d w = X * (X.transpose() * X).ldlt().solve(Eigen::Vector3d::Unit(0));
      const double d = v[m] - w.dot(y), f = 1 + w.squaredNorm();
      if (!std::isfinite(d) || !std::isfinite(f)) continue;
      sum_d[who[m]] += d;
      sum_f[who[m]] += f;
      ++count[who[m]];
    }
  }
  std::vector<double> pool;
  for (size_t i = 0; i < curves.size(); ++i)
    if (count[i] > 0) pool.push_back(sum_d[i] / std::sqrt(sum_f[i] * static_cast<double>(count[i])));
  centre(pool);
  return pool;
}

// The noise along the curves: each point's loss relative to its smoothed loss, less 1, divided by
// √(1 − its own weight in the smoothing) so that its spread is the noise's; pooled over every curve,
// centred. Empty when the curves are not smoothed.
std::vector<double> point_pool(const std::vector<Curve>& curves, const std::vector<std::vector<double>>& raw) {
  std::vector<double> pool;
  for (size_t i = 0; i < curves.size(); ++i)
    for (size_t j = 0; j < raw[i].size(); ++j) {
      const double free = 1 - curves[i].leverage[j];
      if (free > 1e-9 && curves[i].loss[j] > 0) pool.push_back((raw[i][j] / curves[i].loss[j] - 1) / std::sqrt(free));
    }
  centre(pool);
  return pool;
}

}  // namespace

Approach1Result fit_approach1(const std::vector<TrainingCurve>& runs, const Approach1Options& options) {
  options.Validate();
  if (runs.empty()) fail("fit.approach1: no runs given; give runs with their training curves");
  for (size_t i = 0; i < runs.size(); ++i) check_run(runs[i], i);

  Approach1Result out;
  bool eval = options.loss == CurveLoss::Eval;
  if (options.loss == CurveLoss::Auto) {  // runs with no curve to speak of have no say
    eval = true;
    for (const TrainingCurve& r : runs)
      if (finite_points(r.train_loss) >= 2 || finite_points(r.eval_loss) >= 2)
        eval = eval && finite_points(r.eval_loss) >= 2;
  }
  out.loss = eval ? "eval" : "train";

  std::vector<Curve> curves;
  std::vector<std::vector<double>> raw;  // each curve's losses before smoothing
  std::vector<size_t> index;
  size_t left_out = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    Curve c = curve_of(runs[i], eval);
    if (c.ln_c.size() < 2) {
      ++left_out;
      continue;
    }
    raw.push_back(c.loss);
    smooth(c, options.smoothing * std::log(10.0));
    curves.push_back(std::move(c));
    index.push_back(i);
  }
  if (left_out > 0)
    out.warnings.push_back(str(format_counted(static_cast<double>(left_out), "run"), " of ", runs.size(),
                               " had fewer than two points of ", out.loss, " loss: left out"));
  out.runs = curves.size();
  std::map<double, size_t> per_size;
  for (const Curve& c : curves) ++per_size[c.N];
  out.sizes = per_size.size();
  if (out.sizes >= 2 && std::all_of(per_size.begin(), per_size.end(), [](const auto& s) { return s.second == 1; }))
    out.warnings.push_back(
        "each size has one training curve, so the envelope reads curves before their end, where the learning rate "
        "has not decayed: at each compute it favours the run nearest its own end (Chinchilla trained each size for "
        "4 token counts over a 16x range; give sweep.grid several D per N)");

  std::vector<const Curve*> all;
  for (const Curve& c : curves) all.push_back(&c);
  Envelope e = envelope_of(all, index, options.points_per_decade);
  out.envelope = e.points;
  out.frontier_sizes = e.sizes;
  if (curves.empty()) {
    out.unfitted = str("no run has a curve of two or more points of ", out.loss, " loss");
    return out;
  }
  out.switches = e.switches;
  if (out.envelope.empty()) {
    out.unfitted = str("no compute has a best size bracketed by a smaller and a larger model reaching the same "
                       "compute (the curves span ", format_flops(std::exp(e.ln_c_lo)), " to ",
                       format_flops(std::exp(e.ln_c_hi)), "): give the sweep sizes on both sides of the optimum, and "
                       "tokens enough for the smaller ones to reach the larger ones' compute");
    return out;
  }
  if (out.frontier_sizes < 2) {
    out.unfitted = str("one size (N = ", format_count(out.envelope.front().N),
                       ") is best at every bracketed compute: the sweep needs sizes that take turns on the frontier "
                       "(sizes closer together, or a wider range of tokens)");
    return out;
  }
  std::set<double> switch_computes;
  for (const FrontierSwitch& w : out.switches) switch_computes.insert(w.C);
  if (switch_computes.empty()) {
    out.unfitted = str(out.frontier_sizes, " sizes are on the frontier, but it never passes from one to another at "
                       "neighbouring computes where both are bracketed (a power law needs two such switches): give "
                       "the sweep sizes closer together, or several D per N");
    return out;
  }
  if (switch_computes.size() < 2) {
    out.unfitted = str("the frontier passes from one size to another at one compute only (",
                       format_flops(out.switches.front().C), "), and a power law needs two: give the sweep more "
                       "sizes between the smallest and the largest");
    return out;
  }
  if (out.frontier_sizes < 4)
    out.warnings.push_back(str("only ", out.frontier_sizes, " sizes take turns on the frontier: the exponent rests on ",
                               out.switches.size(), " switches between them; add sizes between and beyond them"));
  std::vector<double> C, N, D;
  for (const FrontierSwitch& w : out.switches) {
    C.push_back(w.C);
    N.push_back(w.N);
    D.push_back(w.C / (6 * w.N));
  }
  out.N_law = fit_power_law(C, N, Input::C, "N_opt");
  out.D_law = fit_power_law(C, D, Input::C, "D_opt");
  // The curves are read against C = 6·N·tokens, and D_opt = C/(6·N_opt) in the same count.
  out.N_law.C_counted = out.D_law.C_counted = "C = 6·N·D";
  out.N_law.N_counts = out.D_law.N_counts = options.N_counts;

  // Bootstrap (residual): every run kept, its curve redrawn as its smoothed curve times (1 + an
  // offset for the whole run + a residual at each point), smoothed again; the same envelope and line.
  out.bootstrap_drawn = options.bootstrap;
  const std::vector<double> offsets = options.bootstrap > 0 ? offset_pool(curves) : std::vector<double>();
  const std::vector<double> points = options.bootstrap > 0 ? point_pool(curves, raw) : std::vector<double>();
  if (options.bootstrap > 0 && offsets.size() < 2)
    out.warnings.push_back(str("the runs' offsets from one another (a level each keeps along its curve) could not be "
                               "estimated, which needs two or more sizes with two sizes below and two above reaching "
                               "the same compute: the intervals cover the noise along each curve only, and are too narrow "
                               "where runs differ by more; add sizes"));
  std::mt19937_64 rng(options.seed);
  std::vector<Curve> redrawn = curves;
  std::vector<const Curve*> drawn;
  for (const Curve& c : redrawn) drawn.push_back(&c);
  for (int b = 0; b < options.bootstrap; ++b) {
    check_interrupt();  // Ctrl-C stops a long bootstrap (100k resamples: tens of seconds) now, not at its end
    // The offsets' scale is estimated from few runs: each resample's drawn from its spread (ν = runs − 1).
    const double scale = offsets.size() >= 2 ? draw_scale(rng, offsets.size() - 1) : 0.0;
    for (size_t k = 0; k < curves.size(); ++k) {
      const double offset = offsets.size() >= 2 ? scale * offsets[draw_below(rng, offsets.size())] : 0.0;
      for (size_t j = 0; j < curves[k].loss.size(); ++j)
        redrawn[k].loss[j] = curves[k].loss[j] * (1 + offset + (points.empty() ? 0.0 : points[draw_below(rng, points.size())]));
      smooth(redrawn[k], options.smoothing * std::log(10.0));
    }
    const Envelope d = envelope_of(drawn, index, options.points_per_decade);
    std::vector<double> bc, bn;
    for (const FrontierSwitch& w : d.switches) {
      bc.push_back(w.C);
      bn.push_back(w.N);
    }
    double a = 0, ln_k = 0;
    if (!fit_log_line(bc, bn, a, ln_k) || !std::isfinite(a) || !std::isfinite(ln_k)) continue;
    out.a_samples.push_back(a);
    out.k_samples.push_back(std::exp(ln_k));
    out.b_samples.push_back(1 - a);  // D_opt = C/(6·N_opt)
  }
  const std::string too_few = drop_too_few_samples(
      out.a_samples, out.k_samples, out.b_samples, options.bootstrap,
      "the others' envelopes had fewer than 2 switches between sizes to fit a line through",
      "add sizes, so that more of them take turns on the envelope, or longer curves (more evaluations per run)");
  if (!too_few.empty()) out.warnings.push_back(too_few);
  set_allocation_samples(out.N_law, out.D_law, out.k_samples, out.a_samples);
  return out;
}

std::string Approach1Result::Summary() const {
  std::string text = str("approach1 fit (Chinchilla approach 1): the lower envelope of ",
                         format_counted(static_cast<double>(runs), loss + "-loss curve"), " of ",
                         format_counted(static_cast<double>(sizes), "size"));
  if (!envelope.empty())
    text += str(", at ", envelope.size(), " compute values from C = ", format_flops(envelope.front().C), " to ",
                format_flops(envelope.back().C), " where a smaller and a larger model bound the best; ",
                format_counted(static_cast<double>(frontier_sizes), "size"), " take", frontier_sizes == 1 ? "s" : "",
                " turns on it, with ", switches.size(), switches.size() == 1 ? " switch" : " switches", " between them");
  text += "\n";
  if (N_law.fitted) {
    text += "  " + allocation_line(N_law, D_law, a_samples, b_samples, bootstrap_drawn) + "\n";
  } else if (!unfitted.empty()) {
    text += "  no fit: " + unfitted + "\n";
  }
  for (const auto& n : notes) text += "  note: " + n + "\n";
  for (const auto& w : warnings) text += "  warning: " + w + "\n";
  text.pop_back();
  return text;
}

}  // namespace scalelab::fit
