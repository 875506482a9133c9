#include "fit/fit.h"

#include <ceres/ceres.h>
#include <ceres/tiny_solver.h>
#include <glog/logging.h>

#include <Eigen/Dense>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/units.h"
#include "fit/chinchilla_kernel.h"
#include "fit/data_constrained_rows.h"
#include "fit/law_forms.h"
#include "fit/numeric_derivative.h"

namespace scalelab::fit {

namespace kernels {
namespace {
struct Choice {
  ChinchillaNormalFn fn;
  const char* name;
};
Choice choose() {
  const char* cap = std::getenv("SCALELAB_FIT_KERNEL");
  const std::string limit = cap ? cap : "";
#if !defined(SCALELAB_NO_X86_KERNELS)
  if (limit != "generic" && limit != "avx2" && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))
    return {chinchilla_normal_avx512, "avx512"};
  if (limit != "generic" && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {chinchilla_normal_avx2, "avx2"};
#endif
  return {chinchilla_normal_generic, "generic"};
}
const Choice& chosen() {
  static const Choice choice = choose();
  return choice;
}
}  // namespace
ChinchillaNormalFn chinchilla_normal() { return chosen().fn; }
const char* chinchilla_normal_name() { return chosen().name; }
}  // namespace kernels

namespace {

// Ceres reports through glog. Left uninitialised, glog prints "Logging before InitGoogleLogging()"
// and Ceres's own warnings ("Residual and Jacobian evaluation failed", ...) on stderr, where a Lua
// user can do nothing with them. The fitter detects every such failure itself and reports it as an
// error or a warning that names the cause and the fix, so glog is initialised once, to stderr only
// (never log files), showing fatal messages alone (a CHECK failure inside Ceres still says why it
// aborts).
void quiet_solver_logging() {
  static std::once_flag once;
  std::call_once(once, [] {
    FLAGS_logtostderr = true;
    FLAGS_minloglevel = google::GLOG_FATAL;
    if (!google::IsGoogleLoggingInitialized()) google::InitGoogleLogging("scalelab");
  });
}

constexpr int kMaxJet = 8;
using Jet = ceres::Jet<double, kMaxJet>;
constexpr double kInf = std::numeric_limits<double>::infinity();

double huber(double r, double delta) {
  if (!std::isfinite(delta)) return 0.5 * r * r;
  double a = std::abs(r);
  return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

// How the law's parameters map to the vector x that Ceres optimises.
struct Setup {
  Law law;
  bool direct = false;             // natural coordinates instead of ln for log-scale parameters
  std::vector<int> slot;           // per parameter: its index in x, or -1 when held
  std::vector<double> theta_held;  // fit coordinates of every parameter (used for held ones)
  std::vector<std::vector<int>> members;  // per slot: the parameters it sets
  std::vector<double> lower, upper;       // per slot, fit coordinates
  int k = 0;

  bool log_coordinate(size_t j) const { return law.parameters()[j].log_scale && !direct; }
  double to_fit(size_t j, double value) const { return log_coordinate(j) ? std::log(value) : value; }
  double to_natural(size_t j, double theta) const { return log_coordinate(j) ? std::exp(theta) : theta; }

  std::vector<double> natural(const double* x) const {
    std::vector<double> v(slot.size());
    for (size_t j = 0; j < slot.size(); ++j)
      v[j] = slot[j] >= 0 ? to_natural(j, x[slot[j]]) : law.values()[j];
    return v;
  }
  std::vector<double> x_from_natural(const std::vector<double>& values) const {
    std::vector<double> x(k);
    for (int s = 0; s < k; ++s) x[s] = to_fit(members[s][0], values[members[s][0]]);
    return x;
  }
  std::string slot_name(int s) const {
    std::string name;
    for (int j : members[s]) name += (name.empty() ? "" : "=") + law.parameters()[j].name;
    return name;
  }

  // ln of the law's output at x (fit coordinates), with or without derivatives.
  template <class T>
  T log_predict(const T* theta, const Point& p) const {
    forms::Coordinates<T> c{theta, law.parameters().data(), direct};
    return forms::log_predict(law.kind(), c, p);
  }
};

// One observation's log residual ln L̂ − ln L as a Ceres cost: derivatives by forward-mode
// automatic differentiation (ceres::Jet) for the built-in forms, central differences for custom laws.
class LogResidual final : public ceres::CostFunction {
 public:
  LogResidual(const Setup* setup, const Point& x, double log_loss)
      : setup_(setup), x_(x), log_loss_(log_loss) {
    set_num_residuals(1);
    mutable_parameter_block_sizes()->push_back(setup->k);
  }

  bool Evaluate(double const* const* parameters, double* residuals, double** jacobians) const override {
    const double* x = parameters[0];
    const Setup& s = *setup_;
    const size_t m = s.slot.size();
    if (s.law.kind() == LawKind::Custom) return EvaluateCustom(x, residuals, jacobians);
    if (!jacobians || !jacobians[0]) {
      double theta[kMaxJet];
      for (size_t j = 0; j < m; ++j) theta[j] = s.slot[j] >= 0 ? x[s.slot[j]] : s.theta_held[j];
      residuals[0] = s.log_predict(theta, x_) - log_loss_;
      return std::isfinite(residuals[0]);
    }
    Jet theta[kMaxJet];
    for (size_t j = 0; j < m; ++j) theta[j] = s.slot[j] >= 0 ? Jet(x[s.slot[j]], s.slot[j]) : Jet(s.theta_held[j]);
    Jet r = s.log_predict(theta, x_);
    residuals[0] = r.a - log_loss_;
    bool ok = std::isfinite(residuals[0]);
    for (int k = 0; k < s.k; ++k) {
      jacobians[0][k] = r.v[k];
      ok = ok && std::isfinite(r.v[k]);
    }
    return ok;
  }

 private:
  double log_custom(const double* x) const {
    std::vector<double> values = setup_->natural(x);
    double y = setup_->law.predict(values, x_);
    return y > 0 && std::isfinite(y) ? std::log(y) : kMissing;
  }

  bool EvaluateCustom(const double* x, double* residuals, double** jacobians) const {
    double f = log_custom(x);
    if (std::isnan(f)) return false;
    residuals[0] = f - log_loss_;
    if (!jacobians || !jacobians[0]) return true;
    // The point to perturb: thread-local scratch, so no allocation once it has grown.
    thread_local std::vector<double> xx;
    xx.assign(x, x + setup_->k);
    auto eval = [&](const double* at, double* out) {
      *out = log_custom(at);
      return !std::isnan(*out);
    };
    double up = 0, down = 0;
    for (int k = 0; k < setup_->k; ++k) {
      if (!numeric_column(eval, xx.data(), k, 1, &f, &jacobians[0][k], 1, &up, &down)) return false;
      if (!std::isfinite(jacobians[0][k])) return false;
    }
    return true;
  }

  const Setup* setup_;
  Point x_;
  double log_loss_;
};

struct Data {
  std::vector<Point> points;
  std::vector<double> log_loss, weight;
  // For the vectorised Chinchilla path: ln N, ln D, ln L and √w as arrays.
  Eigen::ArrayXd ln_n, ln_d, ln_loss, sqrt_w;
  // The same four columns back to back, each padded to a multiple of kernels::kLanes with rows of weight 0.
  std::vector<double> padded;
  size_t padded_rows = 0;

  kernels::ChinchillaColumns columns() const {
    kernels::ChinchillaColumns c;
    c.ln_n = padded.data();
    c.ln_d = c.ln_n + padded_rows;
    c.ln_loss = c.ln_d + padded_rows;
    c.sqrt_w = c.ln_loss + padded_rows;
    c.rows = padded_rows;
    return c;
  }

  void Finish() {
    const Eigen::Index n = static_cast<Eigen::Index>(points.size());
    ln_n.resize(n);
    ln_d.resize(n);
    ln_loss.resize(n);
    sqrt_w.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      ln_n[i] = std::log(points[i].N);
      ln_d[i] = std::log(points[i].D);
      ln_loss[i] = log_loss[i];
      sqrt_w[i] = std::sqrt(weight[i]);
    }
    padded_rows = (points.size() + kernels::kLanes - 1) / kernels::kLanes * kernels::kLanes;
    padded.assign(4 * padded_rows, 0.0);
    for (Eigen::Index i = 0; i < n; ++i) {
      padded[i] = ln_n[i];
      padded[padded_rows + i] = ln_d[i];
      padded[2 * padded_rows + i] = ln_loss[i];
      padded[3 * padded_rows + i] = sqrt_w[i];
    }
  }
};

Data make_data(const Setup& setup, const Observations& obs) {
  Data d;
  for (size_t i = 0; i < obs.size(); ++i) {
    Point p = obs.point(i);
    if (setup.law.kind() == LawKind::PowerLaw) p.C = p.get(setup.law.inputs()[0]);
    d.points.push_back(p);
    d.log_loss.push_back(std::log(obs.loss(i)));
    d.weight.push_back(obs.weight(i));
  }
  d.Finish();
  return d;
}

struct Outcome {
  std::vector<double> x;
  double cost = kInf;
  bool converged = false;
  int iterations = 0;
  bool merged = false;
  std::string report;
};

// A Ceres problem over one data set, reused for every start.
class Solver {
 public:
  Solver(const Setup& setup, const Data& data, const FitOptions& options, bool robust = true)
      : setup_(setup), x_(setup.k, 0.0) {
    quiet_solver_logging();
    const double delta = options.huber_delta;
    ceres::LossFunction* huber = robust && std::isfinite(delta) ? new ceres::HuberLoss(delta) : nullptr;
    bool huber_used = false;
    for (size_t i = 0; i < data.points.size(); ++i) {
      if (data.weight[i] == 0) continue;
      ceres::LossFunction* loss = huber;
      if (data.weight[i] != 1.0) {
        ceres::LossFunction* inner = huber ? new ceres::HuberLoss(delta) : nullptr;
        loss = new ceres::ScaledLoss(inner, data.weight[i], ceres::TAKE_OWNERSHIP);
      } else if (huber) {
        huber_used = true;
      }
      problem_.AddResidualBlock(new LogResidual(&setup_, data.points[i], data.log_loss[i]), loss, x_.data());
    }
    if (huber && !huber_used) delete huber;
    for (int s = 0; s < setup.k; ++s) {
      if (std::isfinite(setup.lower[s])) problem_.SetParameterLowerBound(x_.data(), s, setup.lower[s]);
      if (std::isfinite(setup.upper[s])) problem_.SetParameterUpperBound(x_.data(), s, setup.upper[s]);
    }
    solver_options_.linear_solver_type = ceres::DENSE_QR;
    solver_options_.dense_linear_algebra_library_type = ceres::EIGEN;
    solver_options_.max_num_iterations = options.max_iterations;
    solver_options_.function_tolerance = options.function_tolerance;
    solver_options_.gradient_tolerance = options.gradient_tolerance;
    solver_options_.parameter_tolerance = options.parameter_tolerance;
    solver_options_.logging_type = ceres::SILENT;
    solver_options_.minimizer_progress_to_stdout = false;
    solver_options_.num_threads = 1;
  }

  Outcome Solve(const std::vector<double>& start, bool want_report) {
    for (int s = 0; s < setup_.k; ++s) x_[s] = std::clamp(start[s], setup_.lower[s], setup_.upper[s]);
    ceres::Solver::Summary summary;
    ceres::Solve(solver_options_, &problem_, &summary);
    Outcome out;
    out.x = x_;
    out.cost = std::isfinite(summary.final_cost) && summary.IsSolutionUsable() ? summary.final_cost : kInf;
    out.converged = summary.termination_type == ceres::CONVERGENCE;
    if (want_report) out.report = summary.BriefReport();
    return out;
  }

  ceres::Problem& problem() { return problem_; }
  std::vector<double>& x() { return x_; }

 private:
  const Setup& setup_;
  std::vector<double> x_;
  ceres::Problem problem_;
  ceres::Solver::Options solver_options_;
};

// The objective Σ w·Huber_δ(r) written as a least-squares problem ½Σ r̃² with
// r̃ = sign(r)·sqrt(2·w·Huber_δ(r)) (r̃ = √w·r inside ±δ): the same objective exactly, C¹ in r, so a
// Levenberg-Marquardt solver minimises it directly. All residuals sit in one dense block, solved with
// ceres::TinySolver, which has no per-iteration allocation or program overhead. Used when no parameter
// is bounded, except for the five-parameter Chinchilla fit (the default grid search), which has its own
// solver on the same residuals (ChinchillaStartSolver). K = the number of free parameters (fixed at compile time for 1 to 8), or 0 for any (custom laws).
template <int K>
class StackedHuber {
 public:
  using Scalar = double;
  enum { NUM_RESIDUALS = Eigen::Dynamic, NUM_PARAMETERS = K == 0 ? Eigen::Dynamic : K };

  StackedHuber(const Setup& setup, const Data& data, double delta)
      : setup_(setup), data_(data), delta_(delta),
        vectorised_(setup.law.kind() == LawKind::Chinchilla && !setup.direct),
        data_constrained_(setup.law.kind() == LawKind::DataConstrained && !setup.direct) {
    for (auto& a : scratch_) a.resize(static_cast<Eigen::Index>(data.points.size()));
    if (data_constrained_) dc_ = std::make_unique<kernels::DataConstrainedRows>(data.points);
  }
  int NumResiduals() const { return static_cast<int>(data_.points.size()); }
  int NumParameters() const { return setup_.k; }

  bool operator()(const double* x, double* residuals, double* jacobian) const {
    const Setup& s = setup_;
    const size_t m = s.slot.size();
    const int n = NumResiduals();
    bool ok = true;
    if (s.law.kind() == LawKind::Custom) {
      std::vector<double> values = s.natural(x);
      for (int i = 0; i < n; ++i) {
        double y = s.law.predict(values, data_.points[i]);
        double r = y > 0 ? std::log(y) - data_.log_loss[i] : kMissing;
        residuals[i] = transform(r, data_.weight[i], nullptr);
      }
      for (int i = 0; i < n; ++i) ok = ok && std::isfinite(residuals[i]);
      if (ok && jacobian) {
        // Scratch for the perturbed point and both sides' residuals: allocated once per thread.
        thread_local std::vector<double> xx, up, down;
        xx.assign(x, x + s.k);
        up.resize(static_cast<size_t>(n));
        down.resize(static_cast<size_t>(n));
        auto eval = [&](const double* at, double* out) { return (*this)(at, out, nullptr); };
        for (int k = 0; k < s.k && ok; ++k)
          ok = numeric_column(eval, xx.data(), k, n, residuals, jacobian + k * n, 1, up.data(), down.data());
        for (int i = 0; i < n * s.k && ok; ++i) ok = std::isfinite(jacobian[i]);
      }
      return ok;
    }
    if (vectorised_) return Chinchilla(x, residuals, jacobian);
    if (data_constrained_) return DataConstrained(x, residuals, jacobian);
    if (!jacobian) {
      double theta[kMaxJet];
      for (size_t j = 0; j < m; ++j) theta[j] = s.slot[j] >= 0 ? x[s.slot[j]] : s.theta_held[j];
      for (int i = 0; i < n; ++i) {
        double r = s.log_predict(theta, data_.points[i]) - data_.log_loss[i];
        residuals[i] = transform(r, data_.weight[i], nullptr);
        ok = ok && std::isfinite(residuals[i]);
      }
      return ok;
    }
    using J = ceres::Jet<double, K == 0 ? 1 : K>;
    J theta[kMaxJet];
    for (size_t j = 0; j < m; ++j) theta[j] = s.slot[j] >= 0 ? J(x[s.slot[j]], s.slot[j]) : J(s.theta_held[j]);
    for (int i = 0; i < n; ++i) {
      J r = s.log_predict(theta, data_.points[i]);
      double d = 0;
      residuals[i] = transform(r.a - data_.log_loss[i], data_.weight[i], &d);
      for (int k = 0; k < s.k; ++k) jacobian[k * n + i] = d * r.v[k];  // column-major
      ok = ok && std::isfinite(residuals[i]);
    }
    return ok;
  }

 private:
  // r̃ and dr̃/dr.
  double transform(double r, double w, double* derivative) const {
    const double sw = std::sqrt(w);
    if (!std::isfinite(delta_) || std::abs(r) <= delta_) {
      if (derivative) *derivative = sw;
      return sw * r;
    }
    const double root = std::sqrt(2 * delta_ * std::abs(r) - delta_ * delta_);
    if (derivative) *derivative = sw * delta_ / root;
    return (r < 0 ? -sw : sw) * root;
  }

  // ln L̂ = LSE(ln A − α ln N, ln B − β ln D, ln E) over all rows at once, with its analytic
  // derivatives (softmax weights of the three terms).
  bool Chinchilla(const double* x, double* residuals, double* jacobian) const {
    const Setup& s = setup_;
    double theta[5];
    for (int j = 0; j < 5; ++j) theta[j] = s.slot[j] >= 0 ? x[s.slot[j]] : s.theta_held[j];
    const double ln_e = theta[0], ln_a = theta[1], ln_b = theta[2], alpha = theta[3], beta = theta[4];
    const Eigen::Index n = data_.ln_n.size();
    auto& e1 = scratch_[0];
    auto& e2 = scratch_[1];
    auto& sum = scratch_[2];
    auto& r = scratch_[3];
    auto& d = scratch_[4];
    // Terms relative to ln E: exp(ln A − α ln N − ln E) etc.; the stable max-shifted form when they overflow.
    e1 = ((ln_a - ln_e) - alpha * data_.ln_n).exp();
    e2 = ((ln_b - ln_e) - beta * data_.ln_d).exp();
    sum = 1.0 + e1 + e2;
    r = ln_e + sum.log() - data_.ln_loss;
    auto& e3 = scratch_[5];
    const bool shifted = !r.allFinite() || !(sum.maxCoeff() < 1e300);
    if (shifted) {
      Eigen::ArrayXd t1 = ln_a - alpha * data_.ln_n, t2 = ln_b - beta * data_.ln_d;
      Eigen::ArrayXd m = t1.max(t2).max(ln_e);
      e1 = (t1 - m).exp();
      e2 = (t2 - m).exp();
      e3 = (ln_e - m).exp();
      sum = e1 + e2 + e3;
      r = m + sum.log() - data_.ln_loss;
    }
    Eigen::Map<Eigen::ArrayXd> out(residuals, n);
    if (!std::isfinite(delta_)) {
      out = data_.sqrt_w * r;
      d = data_.sqrt_w;
    } else {
      const double dd = delta_ * delta_;
      for (Eigen::Index i = 0; i < n; ++i) {
        const double ri = r[i], a = std::abs(ri), w = data_.sqrt_w[i];
        if (a <= delta_) {
          out[i] = w * ri;
          d[i] = w;
        } else {
          const double root = std::sqrt(2 * delta_ * a - dd);
          out[i] = ri < 0 ? -w * root : w * root;
          d[i] = w * delta_ / root;
        }
      }
    }
    if (!out.allFinite()) return false;
    if (!jacobian) return true;
    Eigen::Map<Eigen::MatrixXd> J(jacobian, n, s.k);
    if (s.k != 5) J.setZero();
    d /= sum;  // d·∂lnL̂/∂term = d·e_i/sum
    auto col = [&](int j) { return J.col(s.slot[j]).array(); };
    const bool simple = s.k == 5 && s.slot[0] == 0 && s.slot[1] == 1 && s.slot[2] == 2 && s.slot[3] == 3 && s.slot[4] == 4;
    if (shifted) {
      J.setZero();
      if (s.slot[0] >= 0) col(0) += d * e3;
      if (s.slot[1] >= 0) col(1) += d * e1;
      if (s.slot[2] >= 0) col(2) += d * e2;
      if (s.slot[3] >= 0) col(3) -= d * e1 * data_.ln_n;
      if (s.slot[4] >= 0) col(4) -= d * e2 * data_.ln_d;
    } else if (simple) {
      col(0) = d;
      col(1) = d * e1;
      col(2) = d * e2;
      col(3) = -col(1) * data_.ln_n;
      col(4) = -col(2) * data_.ln_d;
    } else {
      if (s.slot[0] >= 0) col(0) += d;
      if (s.slot[1] >= 0) col(1) += d * e1;
      if (s.slot[2] >= 0) col(2) += d * e2;
      if (s.slot[3] >= 0) col(3) -= d * e1 * data_.ln_n;
      if (s.slot[4] >= 0) col(4) -= d * e2 * data_.ln_d;
    }
    return J.allFinite();
  }

  // Muennighoff et al.'s law with its analytic derivatives (data_constrained_rows.h), which are kept
  // with the residuals: TinySolver evaluates a trial point without the Jacobian and, accepting it,
  // asks for the Jacobian at the same point, which then costs no evaluation of the law.
  bool DataConstrained(const double* x, double* residuals, double* jacobian) const {
    const Setup& s = setup_;
    const int n = NumResiduals();
    if (cached_x_.empty() || !std::equal(x, x + s.k, cached_x_.begin())) {
      double theta[7];
      for (int j = 0; j < 7; ++j) theta[j] = s.slot[j] >= 0 ? x[s.slot[j]] : s.theta_held[j];
      cached_residuals_.resize(n);
      derivative_.resize(n);
      dc_->Evaluate(theta, cached_residuals_.data());
      cached_ok_ = true;
      for (int i = 0; i < n; ++i) {
        cached_residuals_[i] = transform(cached_residuals_[i] - data_.log_loss[i], data_.weight[i], &derivative_[i]);
        cached_ok_ = cached_ok_ && std::isfinite(cached_residuals_[i]);
      }
      cached_x_.assign(x, x + s.k);
    }
    std::copy(cached_residuals_.begin(), cached_residuals_.end(), residuals);
    if (!cached_ok_ || !jacobian) return cached_ok_;
    std::fill(jacobian, jacobian + static_cast<size_t>(n) * s.k, 0.0);
    for (int j = 0; j < 7; ++j) {
      if (s.slot[j] < 0) continue;
      double* column = jacobian + static_cast<size_t>(s.slot[j]) * n;  // column-major; tied parameters add up
      const std::vector<double>& partial = dc_->partial(j);
      for (int i = 0; i < n; ++i) column[i] += derivative_[i] * partial[i];
    }
    return true;
  }

  const Setup& setup_;
  const Data& data_;
  double delta_;
  bool vectorised_;
  bool data_constrained_;
  mutable Eigen::ArrayXd scratch_[6];
  // The data-constrained path: the rows, and the point last evaluated with its residuals and dr̃/dr.
  std::unique_ptr<kernels::DataConstrainedRows> dc_;
  mutable std::vector<double> cached_x_, cached_residuals_, derivative_;
  mutable bool cached_ok_ = false;
};

class StartSolver {
 public:
  virtual ~StartSolver() = default;
  virtual Outcome Solve(const std::vector<double>& start) = 0;
};

// The optima found so far by a multi-start fit. A start whose iterate comes within merge tolerance
// of a known optimum (every fit coordinate within 1e-2·(1 + |x*|), objective within 1e-4 relative
// above it) is counted as converging to that optimum and stopped there: the grid's thousands of
// starts mostly fall into a few basins, and the slow end game (the Huber objective at δ = 1e-3 is
// nearly piecewise linear) then runs once per basin, not once per start. The starts run in rounds
// (see run_starts): during a round the threads only read the known optima; the round's converged
// starts join them afterwards, in start order, on one thread.
class Basins {
 public:
  explicit Basins(double tolerance) : tolerance_(tolerance) {}

  bool Near(const double* x, int k, double cost, Outcome* out) const {
    const Outcome* o = Find(x, k, cost);
    if (o) *out = *o;
    return o != nullptr;
  }

  void Add(const Outcome& o) {
    if (!std::isfinite(o.cost)) return;
    if (const Outcome* known = Find(o.x.data(), static_cast<int>(o.x.size()), o.cost)) {
      if (o.cost < known->cost) {  // keep the basin's best point, in cost order
        optima_.erase(optima_.begin() + (known - optima_.data()));
        Insert(o);
      }
      return;
    }
    if (optima_.size() < 1000) Insert(o);
  }

 private:
  // The optima are kept sorted by cost, so that only those whose cost lies within 1e-4 relative of
  // `cost` are compared (the grid leaves hundreds of optima along flat valleys; scanning them all at
  // every check cost more than a tenth of the whole fit).
  const Outcome* Find(const double* x, int k, double cost) const {
    auto first = std::lower_bound(optima_.begin(), optima_.end(), cost / (1 + 1e-4),
                                  [](const Outcome& o, double c) { return o.cost < c; });
    for (auto it = first; it != optima_.end() && it->cost * (1 - 1e-4) <= cost; ++it) {
      if (!(std::abs(cost - it->cost) <= 1e-4 * it->cost)) continue;
      bool close = true;
      for (int i = 0; i < k && close; ++i) close = std::abs(x[i] - it->x[i]) <= tolerance_ * (1 + std::abs(it->x[i]));
      if (close) return &*it;
    }
    return nullptr;
  }

  void Insert(const Outcome& o) {
    auto at = std::upper_bound(optima_.begin(), optima_.end(), o.cost,
                               [](double c, const Outcome& known) { return c < known.cost; });
    optima_.insert(at, o);
  }

  double tolerance_;
  std::vector<Outcome> optima_;
};

// The end of one start's search, shared by the start solvers: a start merged into a known basin
// reports that basin's optimum (already in `out`); any other reports its own point, which joins the
// known basins after its round if it has converged.
Outcome finish_start(Outcome out, const double* x, int k, double cost, int iterations, bool converged, bool merged) {
  out.iterations = iterations;
  out.merged = merged;
  if (merged) return out;
  out.x.assign(x, x + k);
  out.cost = std::isfinite(cost) ? cost : kInf;
  out.converged = converged;
  return out;
}

template <int K>
class TinyStartSolver final : public StartSolver {
 public:
  TinyStartSolver(const Setup& setup, const Data& data, const FitOptions& options, const Basins* basins)
      : function_(setup, data, options.huber_delta), options_(options), basins_(basins) {
    x_.resize(setup.k);
    solver_.options.gradient_tolerance = options.gradient_tolerance;
    solver_.options.parameter_tolerance = options.parameter_tolerance;
  }
  Outcome Solve(const std::vector<double>& start) override {
    Outcome out;
    const int k = static_cast<int>(start.size());
    for (int i = 0; i < k; ++i) x_[i] = start[i];
    // TinySolver does not handle a failing first evaluation: check it here.
    residuals_.resize(function_.NumResiduals());
    if (!function_(x_.data(), residuals_.data(), nullptr)) return out;
    double cost = 0.5 * residuals_.squaredNorm();
    // Run in chunks; between chunks, stop if the iterate has reached a known optimum.
    constexpr int kChunk = 10;
    int used = 0;
    bool converged = false, merged = false;
    while (used < options_.max_iterations) {
      solver_.options.max_num_iterations = std::min(kChunk, options_.max_iterations - used);
      // TinySolver's function tolerance is absolute (on 2·cost): make it relative to the current cost.
      solver_.options.function_tolerance = 2 * options_.function_tolerance * cost;
      const double chunk_start_cost = cost;
      const auto& summary = solver_.Solve(function_, &x_);
      used += std::max(1, summary.iterations);
      cost = summary.final_cost;
      if (!std::isfinite(cost)) break;
      // Converged: by TinySolver's own tests, or the objective moved less than the function
      // tolerance over a whole chunk (a start drifting along a flat valley, e.g. E → 0).
      if (summary.status != decltype(solver_)::HIT_MAX_ITERATIONS ||
          chunk_start_cost - cost <= 10 * options_.function_tolerance * cost) {
        converged = true;
        break;
      }
      if (basins_ && basins_->Near(x_.data(), k, cost, &out)) {
        merged = out.cost <= cost;  // else keep this start's own, better point
        if (!merged) converged = true;
        break;
      }
    }
    return finish_start(std::move(out), x_.data(), k, cost, used, converged, merged);
  }

 private:
  StackedHuber<K> function_;
  const FitOptions& options_;
  const Basins* basins_;
  ceres::TinySolver<StackedHuber<K>> solver_;
  typename ceres::TinySolver<StackedHuber<K>>::Parameters x_;
  Eigen::VectorXd residuals_;
};

// Levenberg-Marquardt for the five-parameter Chinchilla fit (every parameter free, no bounds: the
// default grid search), on the same stacked-Huber residuals as StackedHuber. One kernel pass per
// iteration gives the cost, JᵀJ and Jᵀr̃ at the trial point without storing the Jacobian, so a step
// costs one evaluation whether it is accepted or not. The step, its acceptance and the damping
// update are TinySolver's (Marquardt's diagonal, Nielsen's update, Jacobi scaling of the columns);
// so are the convergence tests, with the function tolerance relative to the objective.
class ChinchillaStartSolver final : public StartSolver {
 public:
  ChinchillaStartSolver(const Data& data, const FitOptions& options, const Basins* basins)
      : columns_(data.columns()), kernel_(kernels::chinchilla_normal()), options_(options), basins_(basins) {}

  Outcome Solve(const std::vector<double>& start) override {
    using Vec5 = Eigen::Matrix<double, 5, 1>;
    using Mat5 = Eigen::Matrix<double, 5, 5>;
    Outcome out;
    Vec5 x = Eigen::Map<const Vec5>(start.data());
    kernels::NormalEquations current, trial;
    if (!Evaluate(x, &current)) return out;
    // Column scaling s_j = 1/(1 + ‖J_j‖), from the start's Jacobian.
    Vec5 scale;
    for (int j = 0; j < 5; ++j) scale[j] = 1.0 / (1.0 + std::sqrt(current.jtj[Diagonal(j)]));
    Mat5 jtj, regularized;
    Vec5 g, step, dx, x_new;
    auto load = [&](const kernels::NormalEquations& e) {
      for (int i = 0, k = 0; i < 5; ++i)
        for (int j = i; j < 5; ++j, ++k) jtj(i, j) = jtj(j, i) = e.jtj[k] * scale[i] * scale[j];
      for (int i = 0; i < 5; ++i) g[i] = -e.jtr[i] * scale[i];
    };
    load(current);
    double cost = current.cost;
    double u = 1e-4, v = 2;  // TinySolver's initial damping (1 / trust region radius 1e4)
    bool converged = g.cwiseAbs().maxCoeff() < options_.gradient_tolerance || cost < kCostThreshold;
    bool merged = false;
    int used = 0;
    double check_cost = cost;
    Eigen::LDLT<Mat5> ldlt;
    while (!converged && used < options_.max_iterations) {
      ++used;
      regularized = jtj;
      for (int i = 0; i < 5; ++i) regularized(i, i) += u * std::clamp(jtj(i, i), 1e-6, 1e32);
      ldlt.compute(regularized);
      step = ldlt.solve(g);
      dx = scale.cwiseProduct(step);
      if (dx.norm() < options_.parameter_tolerance * (x.norm() + options_.parameter_tolerance)) {
        converged = true;
        break;
      }
      x_new = x + dx;
      const bool ok = Evaluate(x_new, &trial);
      const double cost_change = ok ? cost - trial.cost : -kInf;
      const double model_change = 0.5 * step.dot(2 * g - jtj * step);
      const double rho = cost_change / model_change;
      if (rho > 0) {
        x = x_new;
        if (std::abs(cost_change) < options_.function_tolerance * cost) {
          cost = trial.cost;
          converged = true;
          break;
        }
        cost = trial.cost;
        load(trial);
        if (g.cwiseAbs().maxCoeff() < options_.gradient_tolerance || cost < kCostThreshold) {
          converged = true;
          break;
        }
        const double t = 2 * rho - 1;
        u *= std::max(1.0 / 3.0, 1 - t * t * t);
        v = 2;
      } else {
        if (std::abs(cost_change) < options_.function_tolerance * cost) {
          converged = true;
          break;
        }
        u *= v;
        v *= 2;
      }
      if (used % kCheckEvery == 0) {
        // A start drifting along a flat valley (e.g. E → 0): the objective moved less than the
        // function tolerance over the last iterations.
        if (check_cost - cost <= 10 * options_.function_tolerance * cost) {
          converged = true;
          break;
        }
        check_cost = cost;
        if (basins_ && basins_->Near(x.data(), 5, cost, &out)) {
          merged = out.cost <= cost;  // else keep this start's own, better point
          if (!merged) converged = true;
          break;
        }
      }
    }
    return finish_start(std::move(out), x.data(), 5, cost, used, converged, merged);
  }

 private:
  static constexpr double kCostThreshold = std::numeric_limits<double>::epsilon();
  static constexpr int kCheckEvery = 10;
  static constexpr int Diagonal(int j) { return j * 5 - j * (j - 1) / 2; }

  bool Evaluate(const Eigen::Matrix<double, 5, 1>& x, kernels::NormalEquations* out) const {
    kernel_(x.data(), columns_, options_.huber_delta, out);
    bool ok = std::isfinite(out->cost);
    for (double v : out->jtj) ok = ok && std::isfinite(v);
    for (double v : out->jtr) ok = ok && std::isfinite(v);
    return ok;
  }

  kernels::ChinchillaColumns columns_;
  kernels::ChinchillaNormalFn kernel_;
  const FitOptions& options_;
  const Basins* basins_;
};

// The full Ceres solver (per-observation residual blocks with ceres::HuberLoss), for bounded fits.
class CeresStartSolver final : public StartSolver {
 public:
  CeresStartSolver(const Setup& setup, const Data& data, const FitOptions& options) : solver_(setup, data, options) {}
  Outcome Solve(const std::vector<double>& start) override { return solver_.Solve(start, false); }

 private:
  Solver solver_;
};

bool bounded(const Setup& s) {
  for (int k = 0; k < s.k; ++k)
    if (std::isfinite(s.lower[k]) || std::isfinite(s.upper[k])) return true;
  return false;
}

std::unique_ptr<StartSolver> make_start_solver(const Setup& s, const Data& data, const FitOptions& options,
                                               const Basins* basins = nullptr) {
  if (bounded(s)) return std::make_unique<CeresStartSolver>(s, data, options);
  if (s.law.kind() == LawKind::Chinchilla && !s.direct && s.k == 5 && s.slot == std::vector<int>{0, 1, 2, 3, 4})
    return std::make_unique<ChinchillaStartSolver>(data, options, basins);
  switch (s.k) {
    case 1: return std::make_unique<TinyStartSolver<1>>(s, data, options, basins);
    case 2: return std::make_unique<TinyStartSolver<2>>(s, data, options, basins);
    case 3: return std::make_unique<TinyStartSolver<3>>(s, data, options, basins);
    case 4: return std::make_unique<TinyStartSolver<4>>(s, data, options, basins);
    case 5: return std::make_unique<TinyStartSolver<5>>(s, data, options, basins);
    case 6: return std::make_unique<TinyStartSolver<6>>(s, data, options, basins);
    case 7: return std::make_unique<TinyStartSolver<7>>(s, data, options, basins);
    case 8: return std::make_unique<TinyStartSolver<8>>(s, data, options, basins);
    default: return std::make_unique<TinyStartSolver<0>>(s, data, options, basins);
  }
}

size_t find_name(const Law& law, const std::string& name, const char* what) {
  if (!law.has(name)) {
    std::string near = closest_name(name, law.names());
    std::string list;
    for (const auto& n : law.names()) list += (list.empty() ? "" : ", ") + n;
    fail(law.name(), " fit: ", what, " names '", name, "', which is not a parameter",
         near.empty() ? "" : "; did you mean '" + near + "'?", " (parameters: ", list, ")");
  }
  return law.index(name);
}

Setup make_setup(const Law& law, const FitOptions& options, bool direct) {
  Setup s;
  s.law = law;
  s.direct = direct;
  const size_t m = law.size();
  if (law.kind() == LawKind::IsoFlop) fail("isoflop laws are fitted with fit_isoflop, not fit_law");
  if (law.kind() != LawKind::Custom && m > static_cast<size_t>(kMaxJet))
    throw SystemError("fit: a built-in law has more parameters than the derivative width");
  std::vector<bool> is_free(m, options.free.empty());
  for (const auto& name : options.free) is_free[find_name(law, name, "free")] = true;
  std::vector<int> group(m, -1);  // tie group id
  for (size_t g = 0; g < options.ties.size(); ++g) {
    if (options.ties[g].size() < 2) fail(law.name(), " fit: a tie needs at least two parameter names");
    for (const auto& name : options.ties[g]) {
      size_t j = find_name(law, name, "tie");
      if (group[j] >= 0) fail(law.name(), " fit: parameter '", name, "' is in two ties");
      group[j] = static_cast<int>(g);
    }
    bool any_free = false, all_free = true;
    for (const auto& name : options.ties[g]) {
      any_free = any_free || is_free[law.index(name)];
      all_free = all_free && is_free[law.index(name)];
    }
    if (any_free && !all_free) fail(law.name(), " fit: tied parameters must all be free or all held");
    // A tie of held parameters changes nothing: each keeps the value it was given (init, or a base
    // law's), tied or not. Accepting it silently let { base = law, tie = { "alpha", "beta" } } fit
    // R_D*, R_N* on a base whose alpha and beta differ, as if they had been tied.
    if (!any_free) {
      std::string names;
      for (const auto& name : options.ties[g]) names += (names.empty() ? "" : ", ") + name;
      fail(law.name(), " fit: tie { ", names, " } names only parameters that are held at their given values (left out of "
           "free = {...}, or frozen by base =), which a tie does not change: they keep their own values. Leave the tie "
           "out, or fit them (name them in free)");
    }
  }
  s.slot.assign(m, -1);
  std::map<int, int> group_slot;
  for (size_t j = 0; j < m; ++j) {
    if (!is_free[j]) continue;
    if (group[j] >= 0 && group_slot.count(group[j])) {
      s.slot[j] = group_slot[group[j]];
      s.members[s.slot[j]].push_back(static_cast<int>(j));
      continue;
    }
    s.slot[j] = s.k++;
    s.members.push_back({static_cast<int>(j)});
    if (group[j] >= 0) group_slot[group[j]] = s.slot[j];
  }
  if (s.k == 0) fail(law.name(), " fit: no free parameters (free = {...} names none that can be fitted)");
  for (size_t j = 0; j < m; ++j) {
    double v = law.values()[j];
    if (s.log_coordinate(j) && !(v > 0))
      fail(law.name(), " fit: parameter ", law.parameters()[j].name, " = ", format_number(v, 6), " must be positive");
    s.theta_held.push_back(s.log_coordinate(j) ? std::log(v) : v);
  }
  for (const auto& [name, _] : options.bounds) find_name(law, name, "bounds");
  for (int k = 0; k < s.k; ++k) {
    double lo = -kInf, hi = kInf;
    for (int j : s.members[k]) {
      const ParameterSpec& spec = law.parameters()[j];
      double l = spec.lower, h = spec.upper;
      auto it = options.bounds.find(spec.name);
      if (it != options.bounds.end()) std::tie(l, h) = it->second;
      if (!(l < h)) fail(law.name(), " fit: bounds for ", spec.name, " are empty (", format_number(l, 6), " to ", format_number(h, 6), ")");
      if (spec.log_scale && h <= 0)
        fail(law.name(), " fit: ", spec.name, " is positive; its upper bound ", format_number(h, 6), " must be too");
      if (s.log_coordinate(j)) {
        l = l > 0 ? std::log(l) : -kInf;
        h = std::isfinite(h) ? std::log(h) : kInf;
      } else if (spec.log_scale) {
        l = std::max(l, 0.0);  // direct coordinates: a positive parameter must not walk below zero
      }
      lo = std::max(lo, l);
      hi = std::min(hi, h);
    }
    s.lower.push_back(lo);
    s.upper.push_back(hi);
  }
  return s;
}

std::vector<std::vector<double>> make_starts(const Setup& s, const FitOptions& options) {
  std::vector<std::vector<double>> starts;
  if (!options.starts.empty()) {
    for (size_t i = 0; i < options.starts.size(); ++i) {
      const auto& start = options.starts[i];
      if (start.size() != s.law.size())
        fail(s.law.name(), " fit: start ", i + 1, " has ", start.size(), " values; the law has ", s.law.size(),
             " parameters");
      for (int k = 0; k < s.k; ++k) {
        int j = s.members[k][0];
        if (s.log_coordinate(j) && !(start[j] > 0))
          fail(s.law.name(), " fit: start ", i + 1, ": ", s.law.parameters()[j].name, " = ", format_number(start[j], 6),
               " must be positive");
      }
      starts.push_back(s.x_from_natural(start));
    }
    return starts;
  }
  for (const auto& [name, _] : options.grid) find_name(s.law, name, "grid");
  std::vector<std::vector<double>> axes;
  for (int k = 0; k < s.k; ++k) {
    std::vector<double> axis;
    for (int j : s.members[k]) {
      auto it = options.grid.find(s.law.parameters()[j].name);
      if (it != options.grid.end()) {
        axis = it->second;
        break;
      }
    }
    if (axis.empty()) {
      int j = s.members[k][0];
      axis = s.law.parameters()[j].grid;
      if (s.direct && s.law.parameters()[j].log_scale)
        for (double& v : axis) v = std::exp(v);
    }
    if (axis.empty()) axis = {s.to_fit(s.members[k][0], s.law.values()[s.members[k][0]])};
    axes.push_back(axis);
  }
  size_t total = 1;
  for (const auto& a : axes) {
    total *= a.size();
    if (total > 10'000'000) fail(s.law.name(), " fit: the start grid has more than 10 million points");
  }
  starts.reserve(total);
  std::vector<size_t> index(s.k, 0);
  for (size_t n = 0; n < total; ++n) {
    std::vector<double> x(s.k);
    for (int k = 0; k < s.k; ++k) x[k] = axes[k][index[k]];
    starts.push_back(std::move(x));
    for (int k = s.k - 1; k >= 0; --k) {
      if (++index[k] < axes[k].size()) break;
      index[k] = 0;
    }
  }
  return starts;
}

// Runs `solve(worker_solver, i)` for i in [0, n) over `threads` threads, each with its own Solver.
template <class MakeSolver, class Work>
void parallel(int threads, size_t n, MakeSolver make_solver, Work work) {
  threads = std::max(1, std::min<int>(threads, static_cast<int>(n)));
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  std::string error;
  auto run = [&] {
    try {
      auto solver = make_solver();
      for (size_t i; (i = next.fetch_add(1)) < n;) {
        if (interrupt_requested()) break;
        work(solver, i);
      }
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (error.empty()) error = e.what();
      next = n;
    }
  };
  if (threads == 1) {
    auto solver = make_solver();
    for (size_t i = 0; i < n; ++i) {
      if (i % 64 == 0) check_interrupt();
      work(solver, i);
    }
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  check_interrupt();
  if (!error.empty()) fail(error);
}

// Runs every start from `starts` on `threads` threads; outcome i is start i's. With merge_starts,
// a start stops at an optimum that a start before it converged to (Basins), and which optima were
// known when a start checked must not depend on the threads' timing: a start that joined the known
// optima the moment it finished made the same fit on several threads differ from run to run (in
// starts_converged, starts_at_best and, where the best start stopped short of its optimum, the
// eighth digit of the parameters). So the starts run in rounds fixed by start index, of 1, 2, 4,
// ... up to kRound starts: a round's starts see the optima of the rounds before it, and its own
// converged starts join them when the whole round has finished, in start order. The fit is then
// the same, bit for bit, on any number of threads. The rounds start small so that the first
// optima are known early; a round of kRound keeps the threads busy (each waits for the round's
// slowest start) while costing little merging (most starts reach an optimum known from earlier).
std::vector<Outcome> run_starts(const Setup& setup, const Data& data, const FitOptions& options, int threads,
                                const std::vector<std::vector<double>>& starts) {
  constexpr size_t kRound = 256;
  std::vector<Outcome> outcomes(starts.size());
  Basins basins(1e-2);
  // Bounded fits run full Ceres, which does not merge starts: one round of them all.
  const bool merge = options.merge_starts && !bounded(setup);
  std::vector<std::unique_ptr<StartSolver>> solvers(std::max(1, threads));  // one per thread, kept across rounds
  for (size_t begin = 0, size = merge ? 1 : starts.size(); begin < starts.size();
       begin += size, size = std::min(2 * size, kRound)) {
    const size_t end = std::min(starts.size(), begin + size);
    std::atomic<int> next_slot{0};
    parallel(
        threads, end - begin, [&] { return next_slot++; },
        [&](int slot, size_t i) {
          auto& solver = solvers[slot];
          if (!solver) solver = make_start_solver(setup, data, options, merge ? &basins : nullptr);
          outcomes[begin + i] = solver->Solve(starts[begin + i]);
        });
    if (merge)
      for (size_t i = begin; i < end; ++i)
        if (outcomes[i].converged && !outcomes[i].merged) basins.Add(outcomes[i]);
  }
  return outcomes;
}

double objective_of(const Setup& setup, const Data& data, const std::vector<double>& x, double delta,
                    std::vector<double>* residuals) {
  std::vector<double> theta(setup.slot.size());
  for (size_t j = 0; j < theta.size(); ++j) theta[j] = setup.slot[j] >= 0 ? x[setup.slot[j]] : setup.theta_held[j];
  std::vector<double> values = setup.natural(x.data());
  double total = 0;
  for (size_t i = 0; i < data.points.size(); ++i) {
    double lp = setup.law.kind() == LawKind::Custom ? std::log(setup.law.predict(values, data.points[i]))
                                                    : setup.log_predict(theta.data(), data.points[i]);
    double r = lp - data.log_loss[i];
    if (residuals) residuals->push_back(r);
    total += data.weight[i] * huber(r, delta);
  }
  return total;
}

bool same_point(const std::vector<double>& a, const std::vector<double>& b, double tolerance) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::abs(a[i] - b[i]) > tolerance * (1 + std::abs(a[i]))) return false;
  return true;
}

// What the data say about the free parameters at the best point x: standard errors (natural
// units, NaN where unavailable) and the parameters the data cannot determine.
struct Uncertainty {
  std::vector<double> se;
  std::vector<std::string> undetermined;
  std::vector<std::string> warnings;
  std::vector<std::string> notes;
  std::vector<std::string> at_zero;  // free positive parameters fitted in ln that the data put at about 0
};

// Whether a positive parameter the runs put at 0 is the irreducible loss E of a built-in law (chinchilla,
// data_constrained): there E at 0 is the fit's honest answer (runs with no floor above 0), a note, not a
// warning. Any other positive parameter at 0 (A or B: a term the runs do not show; a custom law's, whose
// meaning the fitter does not know) stays a warning.
bool floor_at_zero_is_a_note(const Law& law, const std::string& name) {
  return name == "E" && (law.kind() == LawKind::Chinchilla || law.kind() == LawKind::DataConstrained);
}

// Covariance standard errors from the Jacobian J of the (weighted, non-robust) log residuals at x:
// cov = σ²·(JᵀJ)⁺ with σ² = Σw·r² / (n − k), computed by an SVD of J with its columns scaled to unit
// norm. A free parameter is reported undetermined, with no standard error, when
//   - changing it by 100% (by 1 in ln for a log-scale parameter) moves the predictions by less than
//     1e-6 in ln L (RMS over the observations): the data do not feel it (a term driven to zero; but a
//     positive parameter fitted in ln that a change of 1 in itself would move by 1e-3 or more is said
//     to be at 0, with no standard error, rather than undetermined: LSE's E on runs with no floor);
//   - it lies in the Jacobian's null space (scaled singular value below 1e-8 of the largest): it
//     moves together with others without changing the fit (only a combination is determined);
//   - its standard error exceeds 10 units of its scale (10 in ln, a factor of 2e4, for log-scale
//     parameters): the data leave it anywhere over orders of magnitude.
// Nothing is computed where J cannot be evaluated; no standard error is reported for an exact fit
// (zero residual scatter, where σ² = 0 would make every parameter look exact).
// A free parameter on one of its bounds (`on_bound`, per slot: the constraint is active) has no standard
// error: the bound, not the curvature, holds it there, and a Hessian standard error (and a symmetric
// interval from one) would describe an optimum that is not there. It is treated as held at its bound: the
// others' standard errors are those of the fit with it held there (their columns alone, σ² on n − k + its
// count degrees of freedom), which is what the data say of them given the bound.
Uncertainty standard_errors(const Setup& setup, const Data& data, const FitOptions& options,
                            const std::vector<double>& x, double sum_squares, const std::vector<bool>& on_bound) {
  const size_t m = setup.slot.size();
  const int k = setup.k;
  Uncertainty u;
  u.se.assign(m, kMissing);
  size_t n = 0;
  for (double w : data.weight) n += w > 0;
  auto held_by_bound = [&](int s) { return s < static_cast<int>(on_bound.size()) && on_bound[s]; };
  int bound_held = 0;
  for (int s = 0; s < k; ++s) bound_held += held_by_bound(s);
  auto values_at = [&] {
    std::string text;
    for (int s = 0; s < k; ++s)
      text += str(s ? ", " : "", setup.slot_name(s), " = ", format_number(setup.to_natural(setup.members[s][0], x[s]), 4));
    return text;
  };
  if (n <= static_cast<size_t>(k - bound_held)) {
    u.warnings.push_back(str("no standard errors: ", n, " observations with weight for ", k - bound_held,
                             " free parameters", bound_held ? " off their bounds" : "",
                             " leave no residual degrees of freedom"));
    return u;
  }
  Solver plain(setup, data, options, /*robust=*/false);
  plain.x() = x;
  double cost = 0;
  std::vector<double> residuals;
  ceres::CRSMatrix crs;
  bool ok = plain.problem().Evaluate(ceres::Problem::EvaluateOptions(), &cost, &residuals, nullptr, &crs);
  ok = ok && crs.num_rows > 0 && crs.num_cols == k;
  for (double v : residuals) ok = ok && std::isfinite(v);
  for (double v : crs.values) ok = ok && std::isfinite(v);
  if (!ok) {
    u.warnings.push_back(str("no standard errors: the law's derivatives cannot be evaluated at the best point (",
                             values_at(), "); the law is not finite and positive near it"));
    return u;
  }
  Eigen::MatrixXd J = Eigen::MatrixXd::Zero(crs.num_rows, k);
  for (int r = 0; r < crs.num_rows; ++r)
    for (int i = crs.rows[r]; i < crs.rows[r + 1]; ++i) J(r, crs.cols[i]) = crs.values[i];
  std::vector<bool> undetermined(k, false);
  Eigen::VectorXd norm(k);
  const double rows = static_cast<double>(crs.num_rows);
  for (int s = 0; s < k; ++s) {
    norm[s] = J.col(s).norm();
    const double scale = setup.log_coordinate(setup.members[s][0]) ? 1.0 : std::max(1.0, std::abs(x[s]));
    if (!held_by_bound(s) && !(norm[s] * scale / std::sqrt(rows) >= 1e-6)) undetermined[s] = true;
  }
  // A positive parameter fitted in ln (LSE's E) that the data drove to about 0 is unfelt as ln E (each
  // step down in ln moves it by nothing), but not as E: a change of 1 in E itself would move the
  // predictions clearly (by ∂ln L/∂E = 1/L for E: above 1e-3 RMS, where its ln moves them by under 1e-6,
  // so the value is below 1e-3). It is at 0, as the direct parametrisation's E on its bound 0 is, not
  // undetermined: "its value is arbitrary" was said of it.
  std::vector<bool> at_zero(k, false);
  for (int s = 0; s < k; ++s) {
    const size_t j = setup.members[s][0];
    if (!undetermined[s] || !setup.log_coordinate(j)) continue;
    const double value = setup.to_natural(j, x[s]);
    if (value > 0 && norm[s] / value / std::sqrt(rows) >= 1e-3) at_zero[s] = true;
  }
  // SVD of J over the parameters the data feel, columns scaled to unit norm.
  std::vector<int> felt;
  for (int s = 0; s < k; ++s)
    if (!undetermined[s] && !held_by_bound(s)) felt.push_back(s);
  Eigen::MatrixXd cov_scaled = Eigen::MatrixXd::Zero(k, k);
  if (!felt.empty()) {
    const int f = static_cast<int>(felt.size());
    Eigen::MatrixXd Js(crs.num_rows, f);
    for (int c = 0; c < f; ++c) Js.col(c) = J.col(felt[c]) / norm[felt[c]];
    Eigen::JacobiSVD<Eigen::MatrixXd> svd(Js, Eigen::ComputeThinV);
    const Eigen::VectorXd& sv = svd.singularValues();
    const Eigen::MatrixXd& V = svd.matrixV();
    Eigen::MatrixXd inverse = Eigen::MatrixXd::Zero(f, f);
    for (int i = 0; i < sv.size(); ++i) {
      if (sv[i] > 1e-8 * sv[0]) {
        inverse += V.col(i) * V.col(i).transpose() / (sv[i] * sv[i]);
        continue;
      }
      for (int c = 0; c < f; ++c)  // a null direction: every parameter it moves is undetermined
        if (std::abs(V(c, i)) > 0.1) undetermined[felt[c]] = true;
    }
    for (int a = 0; a < f; ++a)
      for (int b = 0; b < f; ++b) cov_scaled(felt[a], felt[b]) = inverse(a, b) / (norm[felt[a]] * norm[felt[b]]);
  }
  const double sigma2 = sum_squares / static_cast<double>(n - static_cast<size_t>(k - bound_held));
  const bool exact = !(std::sqrt(sigma2) > 1e-10);
  for (int s = 0; s < k && !exact; ++s) {
    if (undetermined[s] || held_by_bound(s)) continue;
    const double se_fit = std::sqrt(std::max(0.0, cov_scaled(s, s) * sigma2));
    const double scale = setup.log_coordinate(setup.members[s][0]) ? 1.0 : std::max(1.0, std::abs(x[s]));
    if (!(se_fit <= 10 * scale)) undetermined[s] = true;
  }
  std::string names;
  for (int s = 0; s < k; ++s) {
    if (at_zero[s]) {
      const size_t j = setup.members[s][0];
      const std::string& name = setup.law.parameters()[j].name;
      for (int member : setup.members[s]) u.at_zero.push_back(setup.law.parameters()[member].name);
      auto& said = floor_at_zero_is_a_note(setup.law, name) ? u.notes : u.warnings;
      said.push_back(str("the best point has ", setup.slot_name(s), " at about 0 (",
                         format_number(setup.to_natural(j, x[s]), 2), "), the least a positive parameter can "
                         "be: the data would put it at or below 0",
                         name == "E" ? " (the runs show no floor above 0: their losses fall as the power laws "
                                       "alone)" : "",
                         ", and it has no standard error; hold it (free = {...}, init = {...}) where it is "
                         "known otherwise, or question the law"));
      continue;
    }
    if (!undetermined[s]) continue;
    for (int j : setup.members[s]) {
      u.undetermined.push_back(setup.law.parameters()[j].name);
      names += (names.empty() ? "" : ", ") + setup.law.parameters()[j].name;
    }
  }
  if (!names.empty())
    u.warnings.push_back(str("the data cannot determine ", names, ": at the best point (", values_at(),
                             ") changing ", u.undetermined.size() == 1 ? "it" : "them",
                             " leaves the fit nearly unchanged, so ", u.undetermined.size() == 1 ? "its value is" : "their values are",
                             " arbitrary and no standard error is reported. Add observations that vary what ",
                             u.undetermined.size() == 1 ? "it governs" : "they govern", ", or hold ",
                             u.undetermined.size() == 1 ? "it" : "them", " fixed (free = {...})"));
  if (exact) {
    u.warnings.push_back(str("the law passes through every observation (RMS ln residual ",
                             format_number(std::sqrt(sum_squares / n), 2),
                             "): with no residual scatter the standard errors cannot be estimated and are not reported"));
    return u;
  }
  for (size_t j = 0; j < m; ++j) {
    int s = setup.slot[j];
    if (s < 0 || undetermined[s] || held_by_bound(s)) continue;
    double se_fit = std::sqrt(std::max(0.0, cov_scaled(s, s) * sigma2));
    u.se[j] = setup.log_coordinate(j) ? std::exp(x[s]) * se_fit : se_fit;  // delta method
  }
  return u;
}

}  // namespace

void FitOptions::Validate() const {
  if (!(huber_delta > 0)) fail("fit: huber_delta must be positive (or infinite for least squares), got ", format_number(huber_delta, 6));
  if (threads < 1) fail("fit: threads must be at least 1, got ", threads);
  if (max_iterations < 1) fail("fit: max_iterations must be at least 1, got ", max_iterations);
  check_bootstrap(bootstrap, "fit");
  if (bootstrap_starts < 1) fail("fit: bootstrap_starts must be at least 1, got ", bootstrap_starts);
  for (const auto& [name, axis] : grid) {
    if (axis.empty()) fail("fit: the grid for ", name, " is empty");
    for (double v : axis)
      if (!std::isfinite(v)) fail("fit: the grid for ", name, " has a non-finite value");
  }
}

std::vector<std::vector<double>> chinchilla_grid() {
  FitOptions options;
  Setup s = make_setup(Law::Make(LawKind::Chinchilla), options, false);
  return make_starts(s, options);
}

double objective(const Law& law, const Observations& obs, double huber_delta) {
  obs.Validate();
  FitOptions options;
  options.huber_delta = huber_delta;
  Setup s = make_setup(law, options, false);
  Data data = make_data(s, obs);
  return objective_of(s, data, s.x_from_natural(law.values()), huber_delta, nullptr);
}

namespace {

// The span of the observations' N, D and C (each row's C given or 6·N·D) and epochs D / U, for FittedLaw::span_*.
void set_spans(const Observations& obs, FittedLaw& out) {
  auto span = [&](const std::function<double(size_t)>& value) {
    Interval s;
    s.level = 1;
    for (size_t i = 0; i < obs.size(); ++i) {
      const double v = value(i);
      if (!(v > 0) || !std::isfinite(v)) continue;
      s.lo = std::isnan(s.lo) ? v : std::min(s.lo, v);
      s.hi = std::isnan(s.hi) ? v : std::max(s.hi, v);
    }
    return s;
  };
  // The runs' conventions: what their N counts, and how the budgets of a law of C were counted.
  out.N_counts = obs.N_counts;
  const auto& inputs = out.law.inputs();
  if (std::find(inputs.begin(), inputs.end(), Input::C) != inputs.end()) out.C_counted = obs.CountedC();
  if (obs.has(Input::N)) out.span_N = span([&](size_t i) { return obs.point(i).N; });
  if (obs.has(Input::D)) out.span_D = span([&](size_t i) { return obs.point(i).D; });
  if (obs.has(Input::C)) out.span_C = span([&](size_t i) { return obs.compute(i); });
  if (obs.has(Input::U) && obs.has(Input::D)) {
    out.span_epochs = span([&](size_t i) { return obs.point(i).D / obs.point(i).U; });
    out.span_U = span([&](size_t i) { return obs.point(i).U; });
  }
}

// Muennighoff et al.'s R_D* shows only in runs that repeat their unique data and R_N* only in runs with
// excess parameters (N above N_opt(U) of the law's base): R_D*·(1 - e^(-R_D/R_D*)) is about R_D while R_D
// is small beside R_D*, so runs of one epoch, or barely more, leave R_D* anywhere (likewise R_N*). Where no
// run has R_D >= 1 (D >= 2·U, two epochs or more), or none R_N >= 1 (N >= 2·N_opt(U)), a free R_D or
// R_N is not identified: its value is arbitrary (a start's, or a bound's), and so is its interval.
// Returns { name, the warning that says so and which runs would pin it } for each such free parameter.
std::vector<std::pair<std::string, std::string>> unidentified_repetition(const FittedLaw& out, const Observations& obs) {
  std::vector<std::pair<std::string, std::string>> found;
  const Law& law = out.law;
  if (law.kind() != LawKind::DataConstrained || obs.empty() || !obs.has(Input::U)) return found;
  auto is_free = [&](const char* name) {
    const auto& params = law.parameters();
    for (size_t j = 0; j < params.size(); ++j)
      if (params[j].name == name) return j < out.free.size() && out.free[j];
    return false;
  };
  const double alpha = law.param("alpha"), beta = law.param("beta");
  const double G = std::pow(alpha * law.param("A") / (beta * law.param("B")), 1 / (alpha + beta));
  auto n_opt = [&](double u) { return G * std::pow(u * G, beta / alpha); };
  double most_epochs = 0, most_excess = 0, excess_N = 0, excess_U = 0, smallest_U = kInf;
  for (size_t i = 0; i < obs.size(); ++i) {
    const Point x = obs.point(i);
    const double u_d = std::min(x.U, x.D);
    most_epochs = std::max(most_epochs, x.D / u_d);
    smallest_U = std::min(smallest_U, u_d);
    const double ratio = x.N / n_opt(u_d);
    if (ratio > most_excess) most_excess = ratio, excess_N = x.N, excess_U = u_d;
  }
  if (is_free("R_D") && !(most_epochs >= 2))
    found.push_back({"R_D", str("R_D* is not identified: no run trains on its unique data twice or more (the most is D = ",
                                format_number(most_epochs, 3), "·U; R_D* shows only in runs of D >= 2·U, and "
                                "clearly from 4 epochs on), so its value and interval say nothing. Add runs that "
                                "repeat their unique tokens, e.g. D = 4, 16 and 64 times U at a few sizes (epochs = "
                                "{ 1, 4, 16, 64 } of sweep.data_constrained), or hold R_D (leave it out of free = {...})")});
  // (A base law without a finite optimum, alpha or beta at 0 in direct coordinates, has no N_opt(U) to judge by.)
  if (is_free("R_N") && std::isfinite(G) && G > 0 && !(most_excess >= 2))
    found.push_back({"R_N", str("R_N* is not identified: no run has twice the compute-optimal parameters for its "
                                "unique data (N >= 2·N_opt(U), N_opt(U) of this fit's base law; the most is ",
                                format_number(most_excess, 3), "·N_opt(U), at N = ", format_count(excess_N), ", U = ",
                                format_count(excess_U), "), and R_N* shows only in such runs, so its value and "
                                "interval say nothing. Add runs with N above 2·N_opt(U): e.g. N from ",
                                format_count(2 * n_opt(smallest_U)), " to ", format_count(30 * n_opt(smallest_U)),
                                " at U = ", format_count(smallest_U), " (N_opt(U) = ", format_count(n_opt(smallest_U)),
                                "), or hold R_N (leave it out of free = {...})")});
  return found;
}

FittedLaw fit_with(const Law& law, const Observations& obs, const FitOptions& options, bool direct) {
  const auto clock_start = std::chrono::steady_clock::now();
  options.Validate();
  obs.Validate();
  Setup setup = make_setup(law, options, direct);
  obs.Require(law.inputs(), 0, law.name() + " fit");
  if (options.min_observations > 0) {
    obs.Require(law.inputs(), options.min_observations, law.name() + " fit");
  } else if (obs.size() < static_cast<size_t>(setup.k) + 1) {
    // One more run than free parameters, so that some scatter is left to judge the fit by.
    fail(law.name(), " fit needs at least ", setup.k + 1, " observations for its ", setup.k, " free parameter",
         setup.k == 1 ? "" : "s", " (one more, so that some scatter is left to judge the fit by); got ", obs.size(),
         ": add runs, or fit fewer parameters (hold some at given values with free = {...} and init = {...}, or fit "
         "some as one value with tie = {...})");
  }
  Data data = make_data(setup, obs);
  std::vector<std::vector<double>> starts = make_starts(setup, options);
  const int threads = law.thread_safe() ? options.threads : 1;

  const std::vector<Outcome> outcomes = run_starts(setup, data, options, threads, starts);

  size_t best = 0;
  for (size_t i = 1; i < outcomes.size(); ++i)
    if (outcomes[i].cost < outcomes[best].cost) best = i;
  if (!std::isfinite(outcomes[best].cost)) {
    // Say what the law returned: the first start's prediction for the first observation.
    const std::vector<double> values = setup.natural(starts.front().data());
    std::string at;
    for (int k = 0; k < setup.k; ++k)
      at += str(k ? ", " : "", setup.slot_name(k), " = ", format_number(values[setup.members[k][0]], 4));
    std::string returned;
    try {
      returned = str("; at ", at, " it predicts ", format_number(law.predict(values, data.points.front()), 4),
                     " for observation 1");
    } catch (const std::exception& e) {
      returned = str("; at ", at, " predicting observation 1 fails: ", e.what());
    }
    fail(law.name(), " fit: no start gave a finite objective (", starts.size(), " starts): the law must predict a "
         "positive, finite ", law.output(), " for every observation", returned,
         ". Check the start values and the observations",
         law.kind() == LawKind::Custom ? ", and predict (a parameter that must stay positive can be given scale = \"log\")" : "");
  }
  // Polish the best start once more, with Ceres's report, to a tolerance far below the starts': they
  // stop once the objective moves less than 1e-9 relative per step, which on the nearly piecewise
  // linear Huber objective leaves a flat parameter (R_D* of a data-constrained fit) 0.1% short of
  // the optimum, and where the best start stopped depends on which starts merged into which basins
  // (on the grid and, before run_starts ran them in rounds, on the threads' timing: the same fit on
  // 2 threads differed from run to run in the fifth digit). Polished to 1e-15, every best start ends
  // at the same optimum.
  FitOptions polish_options = options;
  polish_options.function_tolerance = std::min(options.function_tolerance, 1e-15);
  polish_options.parameter_tolerance = std::min(options.parameter_tolerance, 1e-15);
  Solver polish(setup, data, polish_options);
  Outcome final = polish.Solve(outcomes[best].x, true);
  if (!(final.cost <= outcomes[best].cost)) {
    final.x = outcomes[best].x;
    final.cost = outcomes[best].cost;
  }

  FittedLaw out;
  out.fitted = true;
  out.law = law.with_values(setup.natural(final.x.data()));
  // A fit started from a published law (e.g. init = fit.published.epoch) is a new law of its kind.
  out.law = out.law.of_kind();
  out.free.resize(law.size());
  for (size_t j = 0; j < law.size(); ++j) out.free[j] = setup.slot[j] >= 0;
  for (const auto& group : options.ties) out.ties.push_back(group);
  out.huber_delta = options.huber_delta;
  out.observations = obs.size();
  set_spans(obs, out);
  out.objective = objective_of(setup, data, final.x, options.huber_delta, &out.residuals);
  out.report = final.report;
  out.starts = static_cast<int>(starts.size());

  const double best_cost = outcomes[best].cost;
  const double tolerance = 1e-6 * std::abs(best_cost) + 1e-14;
  std::vector<size_t> at_best;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    out.starts_converged += outcomes[i].converged;
    if (outcomes[i].cost <= best_cost + tolerance) at_best.push_back(i);
  }
  out.starts_at_best = static_cast<int>(at_best.size());

  // Fit statistics in log space, and R² in loss space.
  double mean_log = 0, mean_loss = 0, ss_res = 0, ss_tot = 0, ss_res_loss = 0, ss_tot_loss = 0, wsum = 0;
  for (size_t i = 0; i < data.points.size(); ++i) {
    mean_log += data.log_loss[i];
    mean_loss += obs.loss(i);
  }
  mean_log /= data.points.size();
  mean_loss /= data.points.size();
  for (size_t i = 0; i < data.points.size(); ++i) {
    double r = out.residuals[i];
    ss_res += r * r;
    ss_tot += (data.log_loss[i] - mean_log) * (data.log_loss[i] - mean_log);
    double predicted = std::exp(data.log_loss[i] + r);
    ss_res_loss += (predicted - obs.loss(i)) * (predicted - obs.loss(i));
    ss_tot_loss += (obs.loss(i) - mean_loss) * (obs.loss(i) - mean_loss);
    wsum += data.weight[i] * r * r;
  }
  out.rmse = std::sqrt(ss_res / data.points.size());
  // No variation to explain (every loss the same, up to rounding): R² is undefined, not a number.
  const double n_rows = static_cast<double>(data.points.size());
  const bool flat = !(ss_tot > 1e-24 * n_rows) || !(ss_tot_loss > 1e-24 * n_rows * mean_loss * mean_loss);
  out.r2 = flat ? kMissing : 1 - ss_res / ss_tot;
  out.r2_loss = flat ? kMissing : 1 - ss_res_loss / ss_tot_loss;
  if (flat) {
    std::string inputs;
    for (Input in : law.inputs()) inputs += (inputs.empty() ? "" : ", ") + std::string(input_name(in));
    out.warnings.push_back(str("every observation has the same ", law.output(), " (",
                               format_number(obs.loss(0), 6), "): the data show no trend in ", inputs,
                               ", so they cannot determine how the law scales"));
  }

  // Warnings: the best point on a bound; starts reaching the same objective at different points;
  // a best objective reached by a single start. A parameter on a bound has no standard error (see
  // standard_errors): the summary marks it, and what is said of the bound says why.
  auto at_bound = [&](int k, double bound) {
    return std::isfinite(bound) && std::abs(final.x[k] - bound) <= 1e-6 * (1 + std::abs(bound));
  };
  const bool with_se = options.covariance && (final.converged || outcomes[best].converged);
  std::vector<bool> on_bound(setup.k, false);
  for (int k = 0; k < setup.k; ++k) {
    on_bound[k] = at_bound(k, setup.lower[k]) || at_bound(k, setup.upper[k]);
    if (on_bound[k] && with_se)
      for (int j : setup.members[k]) out.on_bound.push_back(setup.law.parameters()[j].name);
  }
  // What the others' standard errors are (those with it held there) is law.on_bound's documentation: said
  // here, it was said also of a fit with none (one through every run, or with no degrees of freedom left).
  const std::string no_se = with_se ? "; it has no standard error (the bound holds it there, not the data's curvature), "
                                      "and its bootstrap interval, where there is one, is the spread of the refits"
                                    : "";
  for (int k = 0; k < setup.k; ++k) {
    for (double bound : {setup.lower[k], setup.upper[k]}) {
      if (!at_bound(k, bound)) continue;
      // A positive parameter at 0 (direct coordinates, whose bound 0 is the parameter's own): no bound can be
      // widened there. "widen the bound" was said of E driven to 0 by runs whose floor is 0.
      const ParameterSpec& spec = setup.law.parameters()[setup.members[k][0]];
      if (bound == 0 && spec.log_scale)
        (floor_at_zero_is_a_note(setup.law, spec.name) ? out.notes : out.warnings).push_back(str(
                                   "the best point has ", setup.slot_name(k), " on its bound (0), the least a positive "
                                   "parameter can be: the data would put it at or below 0",
                                   spec.name == "E" ? " (the runs show no floor above 0: their losses fall as the "
                                                      "power laws alone)" : "",
                                   no_se, "; hold it (free = {...}, init = {...}) where it is known otherwise, or "
                                   "question the law"));
      else
        out.warnings.push_back(str("the best point has ", setup.slot_name(k), " on its bound (",
                                   format_number(setup.to_natural(setup.members[k][0], bound), 4),
                                   "): widen the bound or question the law", no_se));
    }
  }
  if (at_best.size() > 1) {
    for (int k = 0; k < setup.k; ++k) {
      double lo = kInf, hi = -kInf;
      for (size_t i : at_best) {
        double v = setup.to_natural(setup.members[k][0], outcomes[i].x[k]);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      if (hi - lo > 0.01 * std::max(std::abs(hi), std::abs(lo)) + 1e-4)  // values near 0 agree (E → 0)
        out.warnings.push_back(str("starts reaching the best objective disagree on ", setup.slot_name(k), " (",
                                   format_number(lo, 4), " to ", format_number(hi, 4),
                                   "): the fit is ill-conditioned on these data"));
    }
  }
  if (const std::string repeated = obs.RepeatedRowsWarning(); !repeated.empty()) out.warnings.push_back(repeated);
  if (at_best.size() == 1 && starts.size() >= 20)
    out.warnings.push_back(str("only 1 of ", starts.size(),
                               " starts reached the best objective: the optimum may be fragile (try a finer grid)"));
  // Other optima nearly as good: converged starts within 1% of the best objective at clearly
  // different parameters (some free parameter 5% or more apart, by more than 1e-4: values that all
  // sit at zero, such as E → 0 on data far above the floor, are one optimum). The Huber objective at δ = 1e-3 is
  // nearly piecewise linear, so weakly constrained parameters can have several such optima (R_D*,
  // R_N* on Muennighoff et al.'s runs: the published point is one of them, 0.13% above the best).
  {
    auto differs = [&](const std::vector<double>& a, const std::vector<double>& b) {
      for (int k = 0; k < setup.k; ++k) {
        double va = setup.to_natural(setup.members[k][0], a[k]), vb = setup.to_natural(setup.members[k][0], b[k]);
        if (std::abs(va - vb) > 0.05 * std::max(std::abs(va), std::abs(vb)) + 1e-4) return true;
      }
      return false;
    };
    std::vector<size_t> order;
    for (size_t i = 0; i < outcomes.size(); ++i)
      if (outcomes[i].converged && outcomes[i].cost <= 1.01 * best_cost + 1e-14 && outcomes[i].x.size() == final.x.size())
        order.push_back(i);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return outcomes[a].cost < outcomes[b].cost; });
    std::vector<size_t> rivals;
    for (size_t i : order) {
      if (!differs(outcomes[i].x, final.x)) continue;
      bool fresh = true;
      for (size_t r : rivals) fresh = fresh && differs(outcomes[i].x, outcomes[r].x);
      if (fresh) rivals.push_back(i);
    }
    if (!rivals.empty()) {
      const bool exact = !(best_cost > 1e-14);
      std::string list;
      for (size_t n = 0; n < rivals.size() && n < 3; ++n) {
        const Outcome& o = outcomes[rivals[n]];
        list += n ? "; " : "";
        for (int k = 0; k < setup.k; ++k)
          list += str(k ? ", " : "", setup.slot_name(k), " ", format_number(setup.to_natural(setup.members[k][0], o.x[k]), 4));
        // An objective of about 0 (the law through every run) makes percentages of it meaningless:
        // +18% of 1e-22 is as exact a fit as the best. Such optima are named by their objective.
        list += exact ? str(" (objective ", format_number(o.cost, 2), ")")
                      : str(" (objective +", format_number(100 * (o.cost / best_cost - 1), 2), "%)");
      }
      out.warnings.push_back(str(rivals.size(), rivals.size() == 1 ? " other optimum lies" : " other optima lie",
                                 exact ? " as close to the runs as the best (every objective here is about 0: the law "
                                         "passes through them all)"
                                       : " within 1% of the best objective",
                                 " at different parameters: ", list,
                                 ". The data barely tell them apart: read the bootstrap intervals, not the point"));
    }
  }
  {
    std::vector<double> finite;
    for (const auto& o : outcomes)
      if (std::isfinite(o.cost)) finite.push_back(o.cost);
    if (finite.size() < starts.size() / 2)
      out.warnings.push_back(str(starts.size() - finite.size(), " of ", starts.size(),
                                 " starts failed (non-finite objective)"));
  }

  // Standard errors and undetermined parameters, only at a point the solver converged to: at any
  // other point the curvature says nothing about the uncertainty.
  const bool converged = final.converged || outcomes[best].converged;
  if (!converged) {
    out.warnings.push_back(str("the best start did not converge within max_iterations = ", options.max_iterations,
                               ": the estimates may not be at the optimum and no standard errors are computed; "
                               "raise max_iterations or give starts nearer the optimum"));
    out.standard_errors.assign(law.size(), kMissing);
  } else if (options.covariance) {
    Uncertainty u = standard_errors(setup, data, options, final.x, wsum, on_bound);
    out.standard_errors = std::move(u.se);
    out.undetermined = std::move(u.undetermined);
    for (auto& name : u.at_zero) out.on_bound.push_back(std::move(name));
    for (auto& w : u.warnings) out.warnings.push_back(std::move(w));
    for (auto& n : u.notes) out.notes.push_back(std::move(n));
  }
  // R_D*, R_N* without the runs that show them: said plainly, with the runs that would pin them. Their
  // standard errors go (a curvature at an arbitrary point), and the generic "cannot determine" warning
  // too where it names only these.
  if (const auto unidentified = unidentified_repetition(out, obs); !unidentified.empty()) {
    std::vector<std::string> names;
    for (const auto& [name, warning] : unidentified) {
      names.push_back(name);
      out.warnings.push_back(warning);
      const auto& params = law.parameters();
      for (size_t j = 0; j < params.size(); ++j)
        if (params[j].name == name && j < out.standard_errors.size()) out.standard_errors[j] = kMissing;
      if (std::find(out.undetermined.begin(), out.undetermined.end(), name) == out.undetermined.end())
        out.undetermined.push_back(name);
    }
    const std::string generic = "the data cannot determine ";
    out.warnings.erase(std::remove_if(out.warnings.begin(), out.warnings.end(), [&](const std::string& w) {
      if (w.rfind(generic, 0) != 0) return false;
      const std::string listed = w.substr(generic.size(), w.find(':') - generic.size());
      size_t at = 0;
      while (at < listed.size()) {
        size_t end = listed.find(", ", at);
        if (end == std::string::npos) end = listed.size();
        if (std::find(names.begin(), names.end(), listed.substr(at, end - at)) == names.end()) return false;
        at = end + 2;
      }
      return true;
    }), out.warnings.end());
  }

  // Bootstrap: resample the observations, refit from the best few distinct optima.
  if (options.bootstrap > 0) {
    std::vector<size_t> order(outcomes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return outcomes[a].cost < outcomes[b].cost; });
    std::vector<std::vector<double>> boot_starts = {final.x};
    for (size_t i : order) {
      if (static_cast<int>(boot_starts.size()) >= options.bootstrap_starts) break;
      if (!std::isfinite(outcomes[i].cost)) break;
      bool distinct = true;
      for (const auto& b : boot_starts) distinct = distinct && !same_point(b, outcomes[i].x, 1e-3);
      if (distinct) boot_starts.push_back(outcomes[i].x);
    }
    const size_t n = obs.size();
    std::vector<std::vector<double>> samples(options.bootstrap);
    std::atomic<int> unconverged{0};
    parallel(
        threads, static_cast<size_t>(options.bootstrap), [] { return 0; },
        [&](int&, size_t b) {
          // draw_below, not uniform_int_distribution: a seed gives the same resamples (and intervals)
          // with every standard library, as in approaches 1 and 2.
          std::mt19937_64 rng(options.seed * 1000003ULL + b);
          std::vector<size_t> rows(n);
          for (auto& r : rows) r = draw_below(rng, n);
          Data resample;
          for (size_t r : rows) {
            resample.points.push_back(data.points[r]);
            resample.log_loss.push_back(data.log_loss[r]);
            resample.weight.push_back(data.weight[r]);
          }
          resample.Finish();
          auto solver = make_start_solver(setup, resample, options);
          Outcome best_b;
          for (const auto& start : boot_starts) {
            Outcome o = solver->Solve(start);
            if (o.cost < best_b.cost) best_b = o;
          }
          if (std::isfinite(best_b.cost)) samples[b] = setup.natural(best_b.x.data());
          if (std::isfinite(best_b.cost) && !best_b.converged) ++unconverged;
        });
    size_t failed = 0;
    for (auto& s : samples) {
      if (s.empty()) {
        ++failed;
        continue;
      }
      out.samples.push_back(std::move(s));
    }
    if (failed) out.warnings.push_back(str(failed, " of ", options.bootstrap, " bootstrap refits failed"));
    if (unconverged > 0)
      out.warnings.push_back(str(unconverged.load(), " of ", options.bootstrap, " bootstrap refits stopped at max_iterations = ",
                                 options.max_iterations, " before converging: their samples may widen the intervals; "
                                 "raise max_iterations"));
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
  return out;
}

}  // namespace

FittedLaw fit_law(const Law& law, const Observations& obs, const FitOptions& options) {
  return fit_with(law, obs, options, false);
}

FittedLaw fit_law_direct(const Law& law, const Observations& obs, const FitOptions& options) {
  return fit_with(law, obs, options, true);
}

Extrapolation extrapolate(const Law& law, const Observations& obs, double compute_threshold,
                          const FitOptions& options) {
  obs.Validate();
  if (!obs.has(Input::C)) fail("extrapolate: the observations need C (or N and D) to split by compute");
  if (!(compute_threshold > 0)) fail("extrapolate: the compute threshold must be positive FLOP");
  std::vector<size_t> below, above;
  for (size_t i = 0; i < obs.size(); ++i) (obs.compute(i) < compute_threshold ? below : above).push_back(i);
  if (above.empty())
    fail("extrapolate: no runs at or above C = ", format_flops(compute_threshold), " to test on");
  if (below.empty()) fail("extrapolate: no runs below C = ", format_flops(compute_threshold), " to fit on");
  Extrapolation out;
  out.threshold = compute_threshold;
  out.train_runs = below.size();
  out.test_runs = above.size();
  Observations train = obs.Subset(below), test = obs.Subset(above);
  out.fit = fit_law(law, train, options);
  double ss = 0, sum_rel = 0, max_rel = 0;
  for (size_t i = 0; i < test.size(); ++i) {
    double p = out.fit.law.predict(test.point(i));
    double a = test.loss(i);
    out.predicted.push_back(p);
    out.actual.push_back(a);
    double r = std::log(p) - std::log(a);
    ss += r * r;
    double rel = std::abs(p - a) / a;
    sum_rel += rel;
    max_rel = std::max(max_rel, rel);
  }
  out.rmse_log = std::sqrt(ss / test.size());
  out.mean_abs_relative = sum_rel / test.size();
  out.max_abs_relative = max_rel;
  return out;
}

std::string Extrapolation::Summary() const {
  return str("extrapolation of ", fit.law.name(), ": fitted on ", train_runs, " runs below C = ",
             format_flops(threshold), ", tested on ", test_runs, " runs above: RMSE ",
             format_number(rmse_log, 3), " in ln L, mean |error| ", format_number(100 * mean_abs_relative, 3),
             "%, max ", format_number(100 * max_abs_relative, 3), "%");
}

bool fit_log_line(const std::vector<double>& x, const std::vector<double>& y, double& slope, double& intercept) {
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += std::log(x[i]);
    my += std::log(y[i]);
  }
  mx /= static_cast<double>(x.size());
  my /= static_cast<double>(x.size());
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (std::log(x[i]) - mx) * (std::log(y[i]) - my);
    sxx += (std::log(x[i]) - mx) * (std::log(x[i]) - mx);
  }
  if (!(sxx > 0)) return false;
  slope = sxy / sxx;
  intercept = my - slope * mx;
  return true;
}

size_t draw_below(std::mt19937_64& rng, size_t n) {
  return static_cast<size_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

double draw_normal(std::mt19937_64& rng) {
  const double u1 = (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
  const double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double draw_scale(std::mt19937_64& rng, size_t dof) {
  double q = 0;
  for (size_t i = 0; i < dof; ++i) {
    const double z = draw_normal(rng);
    q += z * z;
  }
  return std::sqrt(static_cast<double>(dof) / q);
}

void centre(std::vector<double>& values) {
  double mean = 0;
  for (double v : values) mean += v / static_cast<double>(values.size());
  for (double& v : values) v -= mean;
}

void check_bootstrap(int bootstrap, const char* who) {
  if (bootstrap < 0) fail(who, ": bootstrap must be a non-negative count of resamples, got ", bootstrap);
  if (bootstrap > 0 && bootstrap < kMinBootstrap)
    fail(who, ": bootstrap = ", bootstrap, bootstrap == 1 ? " resample is" : " resamples are",
         " too few for a 95% interval (below ", kMinBootstrap, ", its 2.5th and 97.5th percentiles are the extreme draws); "
         "give 0 for none, or ", kMinBootstrap, " or more (200 to 1000 for intervals that settle)");
}

std::string drop_too_few_samples(std::vector<double>& a_samples, std::vector<double>& k_samples,
                                 std::vector<double>& b_samples, int drawn, const std::string& left_out,
                                 const std::string& remedy) {
  const size_t kept = a_samples.size();
  if (drawn <= 0 || kept >= static_cast<size_t>(kMinBootstrap)) return "";
  a_samples.clear();
  k_samples.clear();
  b_samples.clear();
  return str(kept == 0 ? "none" : str("only ", kept), " of the ", drawn, " bootstrap resamples ", kept == 1 ? "was" : "were",
             " kept (", left_out, "): there are no intervals (they need ", kMinBootstrap, " kept resamples); ", remedy);
}

std::string allocation_line(const FittedLaw& N_law, const FittedLaw& D_law, const std::vector<double>& a_samples,
                            const std::vector<double>& b_samples, int bootstrap_drawn) {
  std::string text = str("N_opt = ", format_number(N_law.law.param("k"), 4), "·C^",
                         format_number(N_law.law.param("a"), 4), ", D_opt = ",
                         format_number(D_law.law.param("k"), 4), "·C^", format_number(D_law.law.param("a"), 4));
  if (!a_samples.empty()) {
    const Interval a = percentile_interval(a_samples), b = percentile_interval(b_samples);
    text += str("  (a 95% [", format_number(a.lo, 3), ", ", format_number(a.hi, 3), "], b 95% [",
                format_number(b.lo, 3), ", ", format_number(b.hi, 3), "]; ", a_samples.size(), " of ",
                bootstrap_drawn, " resamples)");
  }
  return text;
}

void set_allocation_samples(FittedLaw& N_law, FittedLaw& D_law, const std::vector<double>& k_samples,
                            const std::vector<double>& a_samples) {
  N_law.samples.clear();
  D_law.samples.clear();
  if (!N_law.fitted) return;
  for (size_t i = 0; i < k_samples.size() && i < a_samples.size(); ++i) {
    N_law.samples.push_back({k_samples[i], a_samples[i]});
    D_law.samples.push_back({1.0 / (6.0 * k_samples[i]), 1.0 - a_samples[i]});
  }
}

FittedLaw fit_power_law(const std::vector<double>& x, const std::vector<double>& y, Input input,
                        const std::string& output, int bootstrap, unsigned seed) {
  if (x.size() != y.size())
    fail("fit.power_law: x has ", x.size(), " values but y has ", y.size());
  if (x.size() < 2) fail("fit.power_law: needs at least 2 points, got ", x.size());
  Observations obs;
  obs.SetColumn(input_name(input), x);
  obs.SetColumn("loss", y);
  try {
    obs.Validate();
  } catch (const Error& e) {
    std::string message = e.what();
    auto replace = [&](const std::string& from, const std::string& to) {
      size_t at = message.find(from);
      if (at != std::string::npos) message.replace(at, from.size(), to);
    };
    replace("column loss", "y");
    replace(std::string("column ") + input_name(input), "x");
    fail("fit.power_law: ", message.substr(message.find(':') + 2));
  }
  FitOptions options;
  options.huber_delta = kInf;
  options.bootstrap = bootstrap;
  options.seed = seed;
  options.threads = 1;
  Law law = Law::PowerLaw(1.0, 0.5, input, output);
  // Least squares in log space is linear: start from the closed form.
  double a = 0, lnk = 0;
  if (!fit_log_line(x, y, a, lnk)) fail("fit.power_law: every x is the same; a power law needs at least two distinct x");
  options.starts = {{std::exp(lnk), a}};
  options.covariance = x.size() > 2;
  options.min_observations = 2;  // the minimum checked above: two points determine k and a exactly
  return fit_law(law, obs, options);
}

}  // namespace scalelab::fit
