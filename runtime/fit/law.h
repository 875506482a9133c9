// Scaling laws: what a law is (its kind, named parameters, formula, predict) and what a fit of one
// returns (the point estimate, bootstrap samples of the parameters, fit statistics).
//
// This header is the contract with the planning module (plan/) and the Lua bindings: a Law is a
// value type, self-describing (kind, parameter names and values, the inputs it needs, formula), and
// predicts the loss at a Point. A FittedLaw adds how well it fits and how uncertain it is: bootstrap
// samples of the parameter vector (one row per resample, same order as Law::names()) from which any
// derived quantity gets a percentile interval, and Ceres covariance standard errors.
//
//   fit::Law chinchilla = fit::published::chinchilla();
//   double loss = chinchilla.predict({.N = 70e9, .D = 1.4e12});        // 1.94
//   fit::Allocation opt = fit::compute_optimal(chinchilla);            // a, b, G under C = 6ND
//   double n = opt.N_opt(5.76e23);
//
//   fit::FittedLaw f = fit::fit_law(fit::Law::Make(fit::LawKind::Chinchilla), obs, options);  // fit.h
//   fit::Interval alpha = f.interval("alpha");                        // 95% percentile interval
//   fit::Interval n_opt = f.interval([](const fit::Law& l) { return fit::compute_optimal(l).N_opt(1e22); });
#pragma once

#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "fit/observations.h"

namespace scalelab::fit {

// The law forms. Inputs are N (parameters), D (tokens), U (unique tokens), C (FLOP), S (steps).
enum class LawKind {
  KaplanN,          // L(N)   = (N_c/N)^alpha_N                         params N_c, alpha_N
  KaplanD,          // L(D)   = (D_c/D)^alpha_D                         params D_c, alpha_D
  KaplanC,          // L(C)   = (C_c/C)^alpha_C  (C and C_c in FLOP)    params C_c, alpha_C
  KaplanND,         // L(N,D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D   params N_c, D_c, alpha_N, alpha_D
  KaplanCurve,      // L(N,S) = (N_c/N)^alpha_N + (S_c/S)^alpha_S       params N_c, S_c, alpha_N, alpha_S
  Chinchilla,       // L(N,D) = E + A/N^alpha + B/D^beta                params E, A, B, alpha, beta
  DataConstrained,  // L(N,D,U) = E + A/N'^alpha + B/D'^beta (Muennighoff et al. 2023)
                    //   params E, A, B, alpha, beta, R_D, R_N
  IsoFlop,          // per compute budget C_i: L = k2_i·(ln N)^2 + k1_i·ln N + k0_i
                    //   params k2_1, k1_1, k0_1, k2_2, ... ; budgets() holds the C_i
  PowerLaw,         // y = k·x^a (an allocation law N_opt = k·C^a, D_opt = k'·C^b)   params k, a
  Custom,           // a user law: named parameters and a predict function (Lua or C++)
};

const char* law_kind_name(LawKind kind);          // "kaplan_N", "chinchilla", "data_constrained", ...
LawKind law_kind_from_name(const std::string& name);  // throws naming the valid names

// How one parameter is treated by the fitter. Scale parameters (E, A, B, N_c, R_D, ...) are fitted
// as their logarithm (the Chinchilla/Epoch LogSumExp parametrisation), which keeps them positive.
struct ParameterSpec {
  std::string name;
  std::string doc;
  bool log_scale = false;          // fitted as ln(value)
  std::vector<double> grid;        // default start grid, in fit coordinates (ln value if log_scale)
  double lower = -std::numeric_limits<double>::infinity();  // default bounds, natural units
  double upper = std::numeric_limits<double>::infinity();
};

// A custom law's prediction: the loss at `x` for parameter values `values` (order of names()).
using CustomPredict = std::function<double(const std::vector<double>& values, const Point& x)>;

class Law {
 public:
  Law() = default;
  // A built-in law with its default parameter values (a reasonable start, not a published fit).
  static Law Make(LawKind kind);
  static Law Make(LawKind kind, std::vector<double> values);
  // A user law. `predict` must return a positive loss; `thread_safe` false (a Lua function) makes
  // the fitter run single-threaded with numeric derivatives (it always uses numeric derivatives
  // for custom laws).
  static Law Custom(std::string name, std::vector<ParameterSpec> parameters, std::vector<Input> inputs,
                    CustomPredict predict, std::string formula, bool thread_safe);
  // An IsoFLOP law over `budgets` (FLOP), 3 parameters per budget.
  static Law IsoFlop(std::vector<double> budgets, std::vector<double> values);
  // A power law y = k·x^a; `input` names x (usually C), `output` names y (e.g. "N_opt").
  static Law PowerLaw(double k, double a, Input input = Input::C, std::string output = "N_opt");

  LawKind kind() const { return kind_; }
  // "chinchilla", a published law's name ("epoch"), "epoch, modified" for a published law given other
  // values (with(), with_values()), or the custom law's name.
  const std::string& name() const { return name_; }
  const std::string& formula() const { return formula_; }   // human-readable formula
  const std::string& doc() const { return doc_; }
  const std::string& output() const { return output_; }     // "loss", or "N_opt" etc. for power laws
  const std::vector<Input>& inputs() const { return inputs_; }
  const std::vector<ParameterSpec>& parameters() const { return *parameters_; }
  std::vector<std::string> names() const;
  const std::vector<double>& values() const { return values_; }
  size_t size() const { return values_.size(); }
  const std::vector<double>& budgets() const { return budgets_; }   // IsoFlop only
  bool thread_safe() const { return thread_safe_; }
  // True for the laws of fit::published (and plan::published) with their published values; false
  // once any value is changed.
  bool published() const { return published_; }

  bool has(const std::string& parameter) const;
  size_t index(const std::string& parameter) const;        // throws suggesting the nearest name
  double param(const std::string& parameter) const { return values_[index(parameter)]; }

  // Same form, other values. A published law given values other than its own is no longer that
  // law: it is named "<name>, modified" (e.g. "epoch, modified"), its doc says what it came from,
  // and published() is false. Other laws keep their name.
  Law with_values(std::vector<double> values) const;
  Law with(const std::string& parameter, double value) const;
  Law with_doc(std::string doc) const;
  // The same law under another name: published laws are named after their source ("epoch",
  // "datablations"), so that answers computed from them say which law was used.
  Law with_name(std::string name) const;
  // The same law marked as published (see published()).
  Law as_published() const;
  // The same form and values named and documented by its kind ("chinchilla"), not published: what a
  // fit started from a published law returns. A custom law is returned unchanged.
  Law of_kind() const;

  // The law's output (the loss, or y for a power law) at `x`. Throws naming a missing input.
  double predict(const Point& x) const;
  // The same at other parameter values (e.g. a bootstrap sample), without copying the law.
  double predict(const std::vector<double>& values, const Point& x) const;

  // "chinchilla: L(N,D) = E + A/N^alpha + B/D^beta\n  E = 1.69  A = 406.4 ..." (one block).
  std::string Summary() const;

 private:
  LawKind kind_ = LawKind::Chinchilla;
  std::string name_, formula_, doc_, output_ = "loss";
  std::vector<Input> inputs_;
  std::shared_ptr<const std::vector<ParameterSpec>> parameters_;
  std::vector<double> values_;
  std::vector<double> budgets_;
  CustomPredict custom_;
  bool thread_safe_ = true;
  bool published_ = false;
  // After values_ changed: a published law becomes "<name>, modified".
  void mark_modified(const std::vector<double>& before);
};

// Compute-optimal allocation for laws with E, A, B, alpha, beta (Chinchilla, data-constrained) under
// C = 6·N·D: N_opt = G·(C/6)^a, D_opt = G⁻¹·(C/6)^b, a = β/(α+β), b = α/(α+β), G = (αA/(βB))^(1/(α+β)).
struct Allocation {
  double a = 0, b = 0, G = 0;
  double N_opt(double flops) const;
  double D_opt(double flops) const;
  double tokens_per_parameter(double flops) const { return D_opt(flops) / N_opt(flops); }
};
// Whether the closed form above is the law's allocation: the chinchilla and data_constrained forms
// (a custom law's parameters named A, B, alpha, beta say nothing about its formula).
bool has_closed_form_allocation(const Law& law);
Allocation compute_optimal(const Law& law);                // throws for laws of other forms
Allocation compute_optimal(double A, double B, double alpha, double beta);

// Muennighoff et al.'s effective data and parameters (exposed for plan/ and tests).
// D' = U_D + U_D·R_D*·(1 − exp(−R_D/R_D*)), U_D = min(U, D), R_D = D/U_D − 1.
double effective_tokens(double D, double U, double R_D_star);
// N' from U_N = min(N, N_opt(U_D)), N_opt(D) = G·(D·G)^(β/α) with the base law's G.
double effective_params(double N, double U_D, double R_N_star, double A, double B, double alpha, double beta);

// A percentile interval at `level` (e.g. 0.95 → 2.5% and 97.5% percentiles).
struct Interval {
  double lo = kMissing, hi = kMissing, level = 0.95;
  bool valid() const;
  bool contains(double x) const { return valid() && x >= lo && x <= hi; }
};

// The result of fitting a law. A published law is a FittedLaw with fitted == false.
struct FittedLaw {
  Law law;                        // the point estimate (best start)
  bool fitted = false;
  std::vector<bool> free;         // per parameter: fitted (true) or held at its given value
  std::vector<std::vector<std::string>> ties;   // groups of parameters fitted as one value

  // Fit statistics (objective = Σ weight·Huber_δ(ln L̂ − ln L), δ = huber_delta; Σ ½r² when huber_delta = inf).
  double objective = kMissing;
  double huber_delta = 1e-3;
  double r2 = kMissing;           // R² of ln L̂ against ln L
  double rmse = kMissing;         // RMSE of ln L̂ − ln L
  double r2_loss = kMissing;      // R² in loss space (as reported by Muennighoff et al.)
  size_t observations = 0;
  // The span of the runs fitted, lo..hi, per input (NaN when not fitted, or the runs had no such
  // input; C is given or 6·N·D): answers far outside it are extrapolations, and plan says how far.
  // span_epochs: D / U of runs with unique tokens U (a data-constrained law's runs), span_U their U.
  Interval span_N, span_D, span_C, span_epochs, span_U;
  std::vector<double> residuals;  // ln L̂ − ln L per observation
  // The runs' counting conventions (REFERENCE.md, "Counting parameters and compute"), which the
  // summary prints and plan's answers name: what N counts, "all" (every parameter, Chinchilla's
  // count), "non_embedding" (Kaplan's) or "" (not said: observations without params =); and, for a
  // fit on budgets (a law of C, an IsoFLOP or approach-1 allocation), how C was counted ("C = 6·N·D";
  // "" where the runs' C was given without saying how it was counted, or the law reads no budget).
  std::string N_counts;
  std::string C_counted;
  // "N: non-embedding parameters (Kaplan's count); C = 6·N·D", or "" when neither is known.
  std::string Conventions() const;
  int starts = 0;                 // starts tried
  int starts_converged = 0;       // Ceres reported convergence
  int starts_at_best = 0;         // converged to within relative 1e-6 of the best objective
  std::string report;             // Ceres BriefReport of the best start
  // What should make the user doubt or act on the result: a parameter on a bound the user set, starts
  // that disagree, failed refits, no minimum, ...
  std::vector<std::string> warnings;
  // What is worth knowing but casts no doubt on the result (as Ceres keeps a Summary's message apart
  // from its errors): a free E the runs put at 0 (no floor above 0), runs left out by design. Printed
  // as "note:", never as "warning:".
  std::vector<std::string> notes;
  double seconds = 0;

  // Uncertainty. samples: one row per bootstrap resample, values in law.names() order.
  std::vector<std::vector<double>> samples;
  std::vector<double> standard_errors;  // covariance standard errors, natural units (NaN where unavailable)
  // Free parameters the data cannot determine at the best point (a term driven to zero, a
  // combination of parameters that only moves together, orders of magnitude of uncertainty):
  // their values are arbitrary; Summary() says so instead of printing them as if exact.
  std::vector<std::string> undetermined;
  bool is_undetermined(const std::string& parameter) const;
  // Free parameters whose best point is on one of their bounds (a bound the fit was given, or a positive
  // parameter's own 0: E at 0 for runs with no floor), the constraint active: they have no standard error
  // (the bound holds them there, not the data's curvature) and Summary() says so on their line; the others'
  // standard errors are those with them held there. Filled where standard errors were asked for.
  std::vector<std::string> on_bound;
  bool is_on_bound(const std::string& parameter) const;
  // Whether a fitted law held `parameter` at its given value (free[j] false): it has no interval.
  bool is_held(const std::string& parameter) const;
  // Whether the parameter has an interval: samples where it varies. A held one has the same value in
  // every resample ([x, x] would read as a measured certainty), unless a bootstrap outside the fitter
  // refitted what this fit held (law:with_samples: the two-stage data-constrained bootstrap).
  bool has_interval(const std::string& parameter) const;

  // Percentile interval of a parameter, or of any derived quantity, over the bootstrap samples.
  // Invalid (NaN) when there are no samples.
  Interval interval(const std::string& parameter, double level = 0.95) const;
  Interval interval(const std::function<double(const Law&)>& derived, double level = 0.95) const;
  Law sample(size_t i) const { return law.with_values(samples.at(i)); }

  // One readable block: formula, parameters with intervals / standard errors, statistics, notes, warnings.
  std::string Summary() const;
};

// Percentile of `values` (level in [0, 1]) by linear interpolation; ignores NaN.
double percentile(std::vector<double> values, double level);

// The central `level` interval of `values` (a bootstrap's draws): the (1 − level)/2 and
// 1 − (1 − level)/2 percentiles; lo and hi are kMissing when there are no values.
Interval percentile_interval(std::vector<double> values, double level = 0.95);

// Published laws, as values (fitted == false). Sources in each law's doc().
namespace published {
Law chinchilla();              // Hoffmann et al. 2022, approach 3: E 1.69, A 406.4, B 410.7, α 0.34, β 0.28
Law chinchilla_unrounded();    // E 1.6934, A 406.4, B 410.7, α 0.3392, β 0.2849
Law epoch();                   // Besiroglu et al. 2024: E 1.82, A 482, B 2085, α 0.348, β 0.366
Law datablations();            // Muennighoff et al. 2023, unrounded (README): A 520.8, B 1487.7, E 1.869, α = β = 0.3527, R_D 15.39, R_N 5.31
Law kaplan();                  // Kaplan et al. 2020 eq. 1.5, table 2: N_c 6.4e13, D_c 1.8e13, α_N 0.076, α_D 0.103
Law kaplan_N();                // eq. 1.1: N_c 8.8e13, α_N 0.076
Law kaplan_D();                // eq. 1.2: D_c 5.4e13, α_D 0.095
Law kaplan_C();                // eq. 1.3: C_c 3.1e8 PF-days (in FLOP), α_C 0.050
Law kaplan_curve();            // eq. 1.6, table 3: N_c 6.5e13, S_c 2.1e3, α_N 0.077, α_S 0.76
// The Epoch bootstrap intervals (for comparison in summaries): α (0.317, 0.373), β (0.331, 0.415).

// A published law as a FittedLaw (fitted == false) that says what its paper counted (REFERENCE.md,
// "Counting parameters and compute"), as a fitted law says what its runs counted: N_counts
// "non_embedding" for Kaplan et al.'s laws of N (kaplan, kaplan_N, kaplan_curve; and kaplan_C, whose
// budgets are C = 6·N·D of that N: C_counted says so), "all" for Hoffmann et al.'s, Besiroglu et al.'s
// and Muennighoff et al.'s (chinchilla, chinchilla_unrounded, epoch, datablations); kaplan_D, a law of
// tokens alone, counts no N. A law that is not published() (its values changed) gets no counts.
FittedLaw counted(const Law& law);
}  // namespace published

}  // namespace scalelab::fit
