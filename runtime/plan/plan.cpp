// The planning questions: allocation (closed form, numeric, data-constrained, from allocation rules),
// predictions and inversions, inference-aware allocation, comparisons, tables, return curves.
#include "plan/plan.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/units.h"
#include "plan/search.h"

namespace scalelab::plan {

namespace {

using fit::Input;
using fit::Law;
using fit::LawKind;
using Method = OptimalOptions::Method;

constexpr double kMinTokensPerParam = 1e-6;   // numeric allocation searches this range of D/N
constexpr double kMaxTokensPerParam = 1e8;
constexpr double kMinCompute = 1e4;           // compute_for brackets its answer in this range
constexpr double kMaxCompute = 1e40;
constexpr double kSmallestRun = 6;            // C = 6·N·D of one parameter on one token

bool given(double x) { return !std::isnan(x); }

bool takes(const Law& law, Input input) {
  const auto& inputs = law.inputs();
  return std::find(inputs.begin(), inputs.end(), input) != inputs.end();
}

bool has_base(const Law& law) {
  return law.has("E") && law.has("A") && law.has("B") && law.has("alpha") && law.has("beta");
}

// Closed-form allocation applies to E + A/N^α + B/D^β with every token unique.
bool closed_form_applies(const Law& law) {
  return (law.kind() == LawKind::Chinchilla || law.kind() == LawKind::DataConstrained) && has_base(law);
}

std::string inputs_text(const Law& law) {
  std::string out;
  for (Input in : law.inputs()) out += (out.empty() ? "" : ", ") + std::string(fit::input_name(in));
  return out;
}

// A loss law of N and D (and possibly U, C) that planning can use.
void require_loss_law(const Law& law, const std::string& function) {
  if (law.kind() == LawKind::PowerLaw)
    fail(function, ": law '", law.name(), "' is a power law (", law.output(),
         " = k·C^a), not a loss law; pass power laws as an allocation rule: allocation = plan.allocation{ N = ..., D = ... }");
  if (law.kind() == LawKind::IsoFlop)
    fail(function, ": an IsoFLOP fit is not a law of N and D; use its power laws N_law and D_law as an allocation rule "
         "(allocation = plan.allocation{ N = iso.N_law, D = iso.D_law })");
  bool ok = takes(law, Input::N) && takes(law, Input::D);
  for (Input in : law.inputs()) ok = ok && in != Input::S;
  if (!ok)
    fail(function, ": law '", law.name(), "' is a law of ", inputs_text(law),
         "; planning needs a loss law of N and D (chinchilla, data_constrained, kaplan (joint L(N,D)), or a custom law of N and D)");
}

// The same, and a built-in law given by hand (a table { kind =, ... }, law:with{ ... }: not fitted)
// must have values its form allows: every parameter a positive finite number (E may be 0). Otherwise
// alpha = 0 made G = 0 and the answer 'predict needs a positive finite N (got 0)', a negative A or a
// NaN 'predict needs N', and E = -1 an allocation with no loss at all.
void require_loss_law(const fit::FittedLaw& fitted, const std::string& function) {
  const Law& law = fitted.law;
  require_loss_law(law, function);
  if (fitted.fitted || law.kind() == LawKind::Custom) return;
  const auto& specs = law.parameters();
  for (size_t j = 0; j < specs.size(); ++j) {
    const double v = law.values()[j];
    const bool zero_ok = specs[j].name == "E";
    if (std::isfinite(v) && (v > 0 || (zero_ok && v == 0))) continue;
    std::string names;
    for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
    fail(function, ": law '", law.name(), "' has ", specs[j].name, " = ", format_number(v, 6), " (", specs[j].doc,
         "); the parameters of a ", fit::law_kind_name(law.kind()), " law (", names, ") must be positive finite numbers",
         zero_ok ? " (E may be 0)" : "", ": give ", specs[j].name, " a ", zero_ok ? "non-negative" : "positive",
         " value");
  }
}

void require_data_law(const Law& law, const std::string& function, const std::string& what) {
  if (!takes(law, Input::U))
    fail(function, ": a data-constrained question (", what,
         ") needs a law with a term for repeated data (R_D*, R_N*: data_constrained, e.g. fit.published.datablations, "
         "or a custom law of N, D and U); law '", law.name(), "' (", inputs_text(law), ") treats every token as unique");
}

double predict(const Law& law, double N, double D, double U) {
  fit::Point p;
  p.N = N;
  p.D = D;
  p.C = 6.0 * N * D;
  if (takes(law, Input::U)) p.U = given(U) ? U : D;  // no unique_tokens: every token unique
  return law.predict(p);
}

std::string law_label(const fit::FittedLaw& law) {
  std::string label = law.law.name();
  if (law.fitted) label += str(" (fitted to ", law.observations, " runs)");
  return label;
}

std::string flops_text(double c) { return format_quantity(c, Unit::Flops) + " FLOP"; }
// "25B unique tokens", "1 unique token": U as answers print it (format_quantity, Unit::Tokens).
std::string unique_text(double U) { return format_quantity(U, Unit::Tokens) + (U == 1 ? " unique token" : " unique tokens"); }

// ---- allocation under one law (a point estimate or one bootstrap sample) ----------------------

struct Allocation {
  double N = 0, D = 0, loss = 0;
  bool closed_form = false;
  int local_minima = 1;
  std::vector<double> other_N;
};

double data_floor(const Law& law, double U);

// `flops` is the convention C is counted in: D = C/M(N), M = 6N unless it counts attention too.
Allocation allocate(const Law& law, double C, double U, double epochs, Method method, int grid,
                    const std::string& function, bool allow_edge = false, const FlopsPerToken& flops = {}) {
  const bool constrained = given(U) || given(epochs);
  Allocation a;
  if (!constrained && method != Method::Numeric && closed_form_applies(law) && flops.six_n()) {
    fit::Allocation opt = fit::compute_optimal(law);
    a.N = opt.N_opt(C);
    a.D = opt.D_opt(C);
    a.loss = predict(law, a.N, a.D, fit::kMissing);
    a.closed_form = true;
    return a;
  }
  if (method == Method::ClosedForm && !flops.six_n())
    fail(function, ": method = \"closed_form\" is the allocation under C = 6·N·D; a budget counted as ", flops.Describe(),
         " is solved numerically (method = \"numeric\", or leave method out)");
  if (method == Method::ClosedForm)
    fail(function, ": method = \"closed_form\" needs a law E + A/N^alpha + B/D^beta with every token unique; ",
         constrained ? "a data-constrained question" : "law '" + law.name() + "'", " is solved numerically (method = \"numeric\")");
  auto f = [&](double ln_n) {
    const double n = std::exp(ln_n), d = C / flops.at(n);
    const double u = given(U) ? U : (given(epochs) ? d / epochs : fit::kMissing);
    return predict(law, n, d, u);
  };
  const double lo = 0.5 * std::log(C / 6.0 / kMaxTokensPerParam);
  const double hi = 0.5 * std::log(C / 6.0 / kMinTokensPerParam);
  search::Minimum m = search::minimize(f, lo, hi, grid);
  if (!std::isfinite(m.f))
    fail(function, ": law '", law.name(), "' gives no finite loss at ", flops_text(C), " for any model size");
  // At the floor of U unique tokens (data_floor: D' and N' both saturated) the loss is flat in N to
  // rounding, and which N of that flat stretch the grid keeps is arbitrary: an edge of the searched
  // range as well as an interior point. Either is the answer at the floor (plan.optimal notes that N
  // is not determined there), so that 10k unique tokens answer as 1M do, not with an error.
  const bool at_floor = given(U) && law.kind() == LawKind::DataConstrained &&
                        m.f - data_floor(law, U) <= 1e-6 * data_floor(law, U);
  if (m.at_edge && !allow_edge && !at_floor) {
    const double n = std::exp(m.x);
    const std::string toward = str(" keeps falling toward ", format_quantity(C / flops.at(n) / n, Unit::Ratio),
                                   " tokens per parameter, the end of the searched range (1e-6 to 1e8)");
    // With a data constraint the usual cause is the data, not the law: so few unique tokens that
    // repeating them and adding parameters have both stopped helping, and the loss is flat.
    if (given(U) && law.kind() == LawKind::DataConstrained) {
      const double floor = data_floor(law, U);
      fail(function, ": with only ", unique_text(U), " at ", flops_text(C), " the loss under law '",
           law.name(), "'", toward, ". The data constraint, not the law's form, leaves no optimum inside it: ",
           unique_text(U), " are too few for this budget (repeating them and adding parameters have "
           "stopped helping; no allocation gets below loss ", format_number(floor, 5),
           " on these data). Give more unique tokens (unique_tokens) or a smaller compute budget");
    }
    if (given(U) || given(epochs))
      fail(function, ": with ", given(U) ? unique_text(U)
                          : format_counted(format_quantity(epochs, Unit::Epochs), "epoch", "epochs"),
           " at ", flops_text(C), " the loss under law '", law.name(), "'", toward,
           "; the data constraint leaves no compute-optimal allocation inside it: give more unique tokens (or fewer epochs) "
           "or a smaller budget");
    fail(function, ": under law '", law.name(), "' the loss at ", flops_text(C), toward,
         "; the law has no compute-optimal allocation (does it depend on both N and D?)");
  }
  a.N = std::exp(m.x);
  a.D = C / flops.at(a.N);
  a.loss = m.f;
  a.local_minima = m.local_minima;
  for (double x : m.others) a.other_N.push_back(std::exp(x));
  return a;
}

// The loss of the compute-optimal run at C (data-constrained when U is given).
double optimal_loss(const Law& law, double C, double U, const std::string& function, const FlopsPerToken& flops = {}) {
  // At extreme budgets the optimum may leave the searched range; the best loss in it still bounds
  // what the budget reaches, which is all the inversion needs.
  return allocate(law, C, U, fit::kMissing, Method::Auto, 121, function, true, flops).loss;
}

// The lowest loss reachable with U unique tokens however much compute is spent (data-constrained
// law): N and D → ∞ give D' → U(1 + R_D*), N' → U_N(1 + R_N*) with U_N = N_opt(U).
double data_floor(const Law& law, double U) {
  if (law.kind() != LawKind::DataConstrained) return fit::kMissing;
  const double A = law.param("A"), B = law.param("B"), alpha = law.param("alpha"), beta = law.param("beta");
  const double d_max = U * (1.0 + law.param("R_D"));
  const double g = fit::compute_optimal(A, B, alpha, beta).G;
  const double u_n = g * std::pow(U * g, beta / alpha);
  const double n_max = u_n * (1.0 + law.param("R_N"));
  return law.param("E") + A / std::pow(n_max, alpha) + B / std::pow(d_max, beta);
}

// A loss target no run reaches under the law: at or below its E, or (with U unique tokens) at or
// below the floor of those tokens. The error names the bound and what to change.
void check_target(const Law& law, double target, double U, const std::string& function) {
  if (law.has("E") && target <= law.param("E"))
    fail(function, ": loss target ", format_number(target, 5), " is at or below the law's irreducible loss E = ",
         format_number(law.param("E"), 5), "; no amount of compute reaches it (choose a target above E)");
  if (given(U)) {
    const double floor = data_floor(law, U);
    if (given(floor) && target <= floor)
      fail(function, ": with ", unique_text(U), " the law cannot go below loss ", format_number(floor, 5),
           " (repeated data and excess parameters stop helping); loss target ", format_number(target, 5),
           " needs more unique data");
  }
}

// The least compute whose optimal run reaches `target`, searched from `lowest` up to kMaxCompute.
double invert_optimal_loss(const Law& law, double target, double U, const std::string& function,
                           double lowest = kMinCompute, const FlopsPerToken& flops = {}) {
  check_target(law, target, U, function);
  const double at_max = optimal_loss(law, kMaxCompute, U, function, flops);
  if (!(at_max < target))
    fail(function, ": loss target ", format_number(target, 5), " is not reached below ", flops_text(kMaxCompute),
         " (the law predicts ", format_number(at_max, 5), " there)");
  const double at_min = optimal_loss(law, lowest, U, function, flops);
  if (!(at_min > target))
    fail(function, ": loss target ", format_number(target, 5), " is already reached at ", flops_text(lowest),
         " (the law predicts ", format_number(at_min, 5), " there); is the target a loss in the law's units?");
  const double ln_c = search::bisect(
      [&](double x) { return optimal_loss(law, std::exp(x), U, function, flops) - target; }, std::log(lowest),
      std::log(kMaxCompute), 1e-9);
  return std::exp(ln_c);
}

// The compute whose compute-optimal run (every token unique) has `target` parameters, or tokens
// when `of_tokens`, for laws without the closed form: N_opt(C) and D_opt(C) increase with C, bisected
// on ln C between kMinCompute and kMaxCompute. A target whose budget lies outside them is an error:
// the bisection would stop at the end, and a table row of that budget's C and D = C/(6N) would be
// no optimum (Kaplan's joint law gave 1e22 parameters 1e40 FLOP on 1.7e17 tokens, 1.7e-5 per
// parameter, where its optimum needs 1.6e42 FLOP on 2.7e19 tokens).
// `flops`: the count the compute is in (D = C/M(N)).
double compute_of_optimum(const Law& law, double target, bool of_tokens, const std::string& function,
                          const FlopsPerToken& flops = {}) {
  auto at = [&](double ln_c) {
    const Allocation a = allocate(law, std::exp(ln_c), fit::kMissing, fit::kMissing, Method::Auto, 121, function, false,
                                  flops);
    return of_tokens ? a.D : a.N;
  };
  const double ln_c = search::bisect([&](double x) { return std::log(at(x)) - std::log(target); }, std::log(kMinCompute),
                                     std::log(kMaxCompute), 1e-9);
  const double reached = at(ln_c);
  if (std::fabs(std::log(reached / target)) > 1e-6) {
    const bool above = target > reached;
    const char* what = of_tokens ? "tokens" : "parameters";
    fail(function, ": under law '", law.name(), "' a compute-optimal run of ", format_count(target), " ", what, " needs ",
         above ? "more than " : "less than ", flops_text(above ? kMaxCompute : kMinCompute), ", beyond the budgets searched (",
         flops_text(kMinCompute), " to ", flops_text(kMaxCompute), "; the optimum at ",
         flops_text(above ? kMaxCompute : kMinCompute), " has ", format_count(reached), " ", what, ")");
  }
  return std::exp(ln_c);
}

// ---- bootstrap intervals ---------------------------------------------------------------------

void collect(const Answer& point, const std::vector<Answer>& samples, Answer& out) {
  for (auto& q : out.quantities) {
    std::vector<double> values;
    for (const Answer& s : samples)
      if (s.has(q.name)) values.push_back(s.value(q.name));
    if (values.size() < 2) continue;
    const fit::Interval interval = fit::percentile_interval(std::move(values));
    // Inputs (the budget, the unique tokens, a target) do not vary across samples: no interval. An
    // unbounded one ([x, ∞], or [∞, ∞] when nearly every sample is unbounded) is kept.
    if (std::isinf(interval.hi) || interval.hi - interval.lo > 1e-8 * std::fabs(q.value) || q.keeps_flat_interval)
      q.interval = interval;
  }
  for (size_t r = 0; r < out.rows.size(); ++r) {
    std::vector<Answer> row_samples;
    for (const Answer& s : samples)
      if (r < s.rows.size()) row_samples.push_back(s.rows[r]);
    collect(point.rows[r], row_samples, out.rows[r]);
  }
}

// A fit that could not determine some parameters (fit::FittedLaw::undetermined: a term driven to
// zero, parameters that only move together) holds arbitrary values for them; the fit's own summary
// then declines to state the allocation, and an answer computed from those values must say so.
void note_undetermined(const fit::FittedLaw& law, Answer& a) {
  if (law.undetermined.empty()) return;
  std::string names;
  for (const auto& n : law.undetermined) names += (names.empty() ? "" : ", ") + n;
  a.notes.push_back(str("the fit could not determine ", names, " from its runs (see the law's warnings): ",
                        law.undetermined.size() == 1 ? "its value is" : "their values are",
                        " arbitrary, and so is this answer wherever it depends on ",
                        law.undetermined.size() == 1 ? "it" : "them",
                        " (away from the runs fitted); add runs that vary what they govern, or hold them fixed"));
}

// How far an answer lies outside the runs its law was fitted to (fit::FittedLaw::span_*), when more
// than twice beyond them: extrapolating is what a scaling law is fitted for, but how far it goes is
// what its answer rests on.
std::string factor_text(double f) {
  // Two significant digits: 2.5, 52, 1700, 3.4e5.
  const int exponent = static_cast<int>(std::floor(std::log10(f)));
  const double step = std::pow(10.0, exponent - 1), rounded = std::round(f / step) * step;
  if (rounded < 10) return format_significant(rounded, 2);
  if (rounded < 1e4) return std::to_string(std::llround(rounded));
  const int shown = rounded >= std::pow(10.0, exponent + 1) ? exponent + 1 : exponent;  // 9960 rounds to 1e4
  return str(format_significant(rounded / std::pow(10.0, shown), 2), "e", shown);
}

// "compute 160× the largest (1.0e20)" or "N 1/52 of the smallest (10M)" where `v` lies more than
// twice beyond `span`; empty inside it, or without a span.
std::string beyond_span(const char* what, double v, const fit::Interval& span, Unit unit) {
  if (!span.valid() || !(v > 0) || !std::isfinite(v)) return "";
  if (v > 2 * span.hi) return str(what, " ", factor_text(v / span.hi), "× the largest (", format_quantity(span.hi, unit), ")");
  if (v < span.lo / 2) return str(what, " 1/", factor_text(span.lo / v), " of the smallest (", format_quantity(span.lo, unit), ")");
  return "";
}

// "N 380× the largest (100M), compute 2.1e5× the largest (4.80e18)" for the quantities of `a` (an
// answer, or one of its rows) beyond the law's runs; empty when none is.
std::string extrapolation_parts(const fit::FittedLaw& law, const Answer& a) {
  std::string parts;
  auto check = [&](const char* name, const char* what, const fit::Interval& span, Unit unit) {
    if (!a.has(name)) return;
    const std::string part = beyond_span(what, a.value(name), span, unit);
    if (!part.empty()) parts += (parts.empty() ? "" : ", ") + part;
  };
  check("N", "N", law.span_N, Unit::Params);
  check("D", "D", law.span_D, Unit::Tokens);
  // The runs' compute is 6·N·D (or as their C column counts it): an answer whose budget is counted
  // otherwise (with attention, or a rule's separately fitted N and D) is compared by its 6·N·D.
  if (a.has("flops_6ND")) check("flops_6ND", "compute (6·N·D)", law.span_C, Unit::Flops);
  else check("flops", "compute", law.span_C, Unit::Flops);
  // More repetition than the runs saw (fewer epochs than theirs, fresh data, is no extrapolation).
  if (a.has("epochs") && a.value("epochs") > law.span_epochs.hi) check("epochs", "epochs", law.span_epochs, Unit::Epochs);
  // Unique tokens far from the runs' U, where the answer repeats them: the law's repetition terms read at
  // a U no run had (1M unique tokens under a law of runs on 100M and 1B said nothing of U). An answer
  // that sees its U at most once is not constrained by it (its note says so): no extrapolation in U.
  if (a.has("epochs") && a.value("epochs") > 1) check("unique_tokens", "unique tokens", law.span_U, Unit::Tokens);
  return parts;
}

// The answer's own numbers, then its rows' (a table's model sizes, a return curve's budgets, the
// allocations compared), each row beyond the runs named by its size; a row that repeats the
// answer's numbers (compare's optimum) is not said twice.
void note_extrapolation(const fit::FittedLaw& law, Answer& a) {
  const std::string own = extrapolation_parts(law, a);
  std::string parts = own;
  for (const Answer& row : a.rows) {
    const std::string part = extrapolation_parts(law, row);
    if (part.empty() || part == own) continue;
    parts += (parts.empty() ? "" : "; ") +
             (row.has("N") ? "at " + format_quantity(row.value("N"), Unit::Params) + " params: " : std::string()) + part;
  }
  if (!parts.empty()) a.notes.push_back("beyond the " + std::to_string(law.observations) + " runs fitted: " + parts);
}

// The same for an allocation rule fitted on a range of compute (AllocationRule::span_C: an IsoFLOP
// or approach-1 analysis): an answer at compute far outside it, or a table's rows there, says how
// far ("beyond the 4 IsoFLOP budgets fitted: compute 1000× the largest (1.0e20)"). Rules without a
// span (published, hand-made) say nothing.
void note_rule_extrapolation(const AllocationRule& rule, Answer& a) {
  if (!rule.span_C.valid()) return;
  std::string parts;
  if (a.has("flops")) parts = beyond_span("compute", a.value("flops"), rule.span_C, Unit::Flops);
  for (const Answer& row : a.rows) {
    if (!row.has("flops")) continue;
    const std::string part = beyond_span("compute", row.value("flops"), rule.span_C, Unit::Flops);
    if (part.empty()) continue;
    parts += (parts.empty() ? "" : "; ") + part + (row.has("N") ? " at " + format_quantity(row.value("N"), Unit::Params) + " params" : "");
  }
  if (!parts.empty()) a.notes.push_back("beyond the " + rule.span_of + " fitted: " + parts);
}

// Kaplan et al.'s overfitting bound (their eq. 4.4, REFERENCE.md): D ≳ 5e3·N^0.74 tokens for N
// non-embedding parameters. It is where the joint law's data term puts the loss 2% above what N
// parameters reach on unlimited data (eq. 4.3: δL = (1 + (N/N_c)^(α_N/α_D)·D_c/D)^α_D − 1 = 0.02),
// which with the joint fit's constants is 5.5e3·N^0.738, printed rounded as 5e3·N^0.74. Below it
// Kaplan et al.'s runs overfit, and their laws of N, of C and the compute-efficient rule (which
// assume data enough not to) no longer describe the run (their §6.3: compute-efficient training,
// D ∝ C^0.27, runs into the bound, D ∝ C^0.54). A law of the joint form with other constants (a
// study's fit) has its own bound from eq. 4.3; the published law and Kaplan's rule use eq. 4.4.
struct OverfittingBound {
  const Law* law = nullptr;  // a joint law with other constants than Kaplan et al.'s, or none
  double at(double N) const {
    if (!law) return 5e3 * std::pow(N, 0.74);
    const double alpha_N = law->param("alpha_N"), alpha_D = law->param("alpha_D");
    return law->param("D_c") * std::pow(N / law->param("N_c"), alpha_N / alpha_D) / (std::pow(1.02, 1 / alpha_D) - 1);
  }
  std::string formula() const {
    if (!law) return "Kaplan et al.'s overfitting bound D ≳ 5e3·N^0.74 (their eq. 4.4)";
    return str("law '", law->name(), "''s overfitting bound (Kaplan et al.'s eq. 4.3 with its constants: D ≳ ",
               format_number(at(1.0), 3), "·N^", format_number(law->param("alpha_N") / law->param("alpha_D"), 3),
               ", where its data term puts the loss 2% above L(N))");
  }
};

// The D of every compute-optimal run of a joint law [(N_c/N)^r + D_c/D]^α_D (r = α_N/α_D) over the
// D of its overfitting bound at the same N (eq. 4.3 with the law's constants): the optimum under
// C = 6·N·D has D_c/D = r·(N_c/N)^r, the bound (N/N_c)^r·D_c/D = 1.02^(1/α_D) − 1, so the ratio is
// (1.02^(1/α_D) − 1)/r at every budget, a property of the law (Kaplan et al.'s §6.3 draws the same
// conclusion): 0.29 for the published constants, about 0.3 against eq. 4.4's rounded 5e3·N^0.74.
double optimum_over_bound(const Law& law) {
  const double alpha_N = law.param("alpha_N"), alpha_D = law.param("alpha_D");
  return (std::pow(1.02, 1 / alpha_D) - 1) / (alpha_N / alpha_D);
}

// Kaplan et al.'s joint L(N, D) minimised under C = 6·N·D puts N ∝ C^(α_D/(α_N + α_D)) (0.575
// with the joint fit's α_N = 0.076, α_D = 0.103); their compute-efficient N ∝ C^0.73 comes from L(N, S) and the
// critical batch size instead (REFERENCE.md), and is the rule plan.published.kaplan. An allocation
// answered with the joint law says so, and, once, where the law's optima lie against the overfitting
// bound (optimum_over_bound: the same at every budget, so said of the law, not of each answer or row).
void note_kaplan_joint(const Law& law, Answer& a) {
  if (law.kind() != fit::LawKind::KaplanND) return;
  const double exponent = law.param("alpha_D") / (law.param("alpha_N") + law.param("alpha_D"));
  std::string note = str("Kaplan et al.'s joint L(N, D) under C = 6ND puts N_opt ∝ C^", format_number(exponent, 3),
                         ", not their compute-efficient N ∝ C^0.73, which comes from L(N, S) and the critical batch "
                         "size: for that allocation use the rule plan.published.kaplan");
  const double ratio = optimum_over_bound(law);
  if (ratio < 1) {
    note += str(". Every compute-optimal run of this law, at any budget, has D at ", format_number(ratio, 2), "× ",
                law.published() ? "Kaplan et al.'s overfitting bound (their eq. 4.3 with the joint fit's constants; about "
                                  "0.3× the rounded D ≳ 5e3·N^0.74 of eq. 4.4)"
                                : "its overfitting bound (Kaplan et al.'s eq. 4.3 with its constants)",
                ", where Kaplan et al.'s runs overfit: outside the data-rich regime their laws of N and C and their "
                "compute-efficient allocation describe (their §6.3)");
  }
  a.notes.push_back(note);
}

// Which of an answer's allocations are the law's own compute-optimal runs, of which note_kaplan_joint
// already says where they lie against the bound: none (a loss at a given N and D, an inference-aware
// model), all (plan.optimal, compute_for, a table of the law's optima), or the answer itself and its
// first row (plan.compare: the law's optimum, then the candidates).
enum class Optima { None, All, FirstRow };

// An answer from Kaplan et al.'s joint law, or from an allocation rule of Kaplan's non-embedding N
// (plan.published.kaplan), whose D (or a row's) lies below the overfitting bound says so: how far,
// and that the answer is outside the data-rich regime the laws describe. The joint law's own optima
// (`optima`) are left to note_kaplan_joint, which says it of them all at once.
void note_kaplan_overfitting(const Law* law, const AllocationRule* rule, Answer& a, Optima optima = Optima::None) {
  OverfittingBound bound;
  const bool joint = law && law->kind() == fit::LawKind::KaplanND;
  if (joint) {
    if (!law->published()) bound.law = law;
  } else if (!(rule && rule->non_embedding)) {
    return;
  }
  // Only a joint law (not a rule) makes its optima; optimum_over_bound < 1 is the case the joint note says.
  const bool skip_own = joint && !rule && optima != Optima::None;
  // The bound of a rule of Kaplan's N is of its non-embedding N, which the note names as such: beside a
  // comparison's row of 42B parameters (the rule's 41.7B read by a law of all of them) it said "N = 41.7B".
  const char* count = !joint ? " non-embedding parameters" : "";
  auto part = [&](const Answer& x) -> std::string {
    if (!x.has("N") || !x.has("D")) return "";
    const double N = x.value("N"), D = x.value("D"), need = bound.at(N);
    if (!(N > 0) || !(D > 0) || !std::isfinite(N) || !std::isfinite(D) || !(D < need)) return "";
    return str("D = ", format_quantity(D, Unit::Tokens), " tokens for N = ", format_quantity(N, Unit::Params), count, " is ",
               format_number(D / need, 2), "× the bound (", format_quantity(need, Unit::Tokens), ")");
  };
  const std::string own = skip_own ? "" : part(a);
  std::string parts = own;
  for (size_t r = 0; r < a.rows.size(); ++r) {
    if (skip_own && (optima == Optima::All || r == 0)) continue;
    const std::string p = part(a.rows[r]);
    if (p.empty() || p == own) continue;
    const std::string name = r < a.row_names.size() ? a.row_names[r] : format_quantity(a.rows[r].value("N"), Unit::Params) + " params";
    parts += (parts.empty() ? "" : "; ") + ("at " + name + ": ") + p;
  }
  if (parts.empty()) return;
  a.notes.push_back(str("below ", bound.formula(), ": ", parts,
                        ". With less data than the bound Kaplan et al.'s runs overfit (the loss more than 2% above what N "
                        "parameters reach on unlimited data): the answer lies outside the data-rich regime their laws "
                        "of N and C and their compute-efficient allocation describe (their §6.3: that allocation, "
                        "D ∝ C^0.27, runs into the bound, D ∝ C^0.54)"));
}

// Whether `fitted` reads N as non-embedding parameters: Kaplan et al.'s laws, or a law fitted to runs
// counted so (a study's params = "non_embedding"). Chinchilla's, Muennighoff's and Besiroglu et al.'s
// laws, and a study's by default, count all parameters. What its runs counted comes first: a law of
// Kaplan's form fitted to runs of all parameters (a study's fits = { "kaplan" }) reads all of them.
bool law_counts_non_embedding(const fit::FittedLaw& fitted) {
  if (fitted.N_counts == "non_embedding") return true;
  if (fitted.N_counts == "all") return false;
  switch (fitted.law.kind()) {
    case fit::LawKind::KaplanN: case fit::LawKind::KaplanND: case fit::LawKind::KaplanCurve: return true;
    default: return false;
  }
}

// How a law reads an allocation rule's N: as it is, or, where the two count N differently, as the N
// of the rule's models in the law's count (AllocationRule::all_params for a rule of non-embedding N,
// Kaplan's, read by a law of all parameters; non_embedding_params for a rule of all parameters,
// Chinchilla's or a study's, read by a law of non-embedding N, Kaplan's). Read as it was, the law's
// loss was that of a smaller model than the rule means (by 9% of its parameters for 1M non-embedding
// ones at vocab 256, context 256 and d/L = 64), or of a larger one; a rule without its models' shape
// is refused, naming the fix. A rule that does not say what its N counts is read as it is.
struct RuleParams {
  enum class Convert { None, ToAll, ToNonEmbedding };
  const AllocationRule* rule = nullptr;
  Convert convert = Convert::None;
  bool converts() const { return convert != Convert::None; }
  double operator()(double N) const {
    return convert == Convert::ToAll ? rule->all_params(N)
         : convert == Convert::ToNonEmbedding ? rule->non_embedding_params(N) : N;
  }
};

// One way a rule and the law that reads it count N differently, for the refusal of a rule without its
// models' shape: a rule of non-embedding N (Kaplan's: GPT-2's shape, as Kaplan et al.'s models had) read
// by a law of all parameters, or a rule of all parameters (Chinchilla's: no learned positions) read by a
// law of non-embedding N. A study's own rule is asked for the shape of its own models (vocab 256, ctx 64
// or so), not the published one's.
struct CountMismatch {
  const char* published;      // the published rule of the rule's count
  const char* counts;         // what the rule's N counts
  const char* published_N;    // whose N that is, for the published rule
  const char* study_params;   // a study's params = that counts it
  const char* law_counts;     // what the law's N counts
  const char* model;          // the model the law's loss is of, read as it is
  const char* published_fix;  // the published rule with its models' shape
  const char* reads;          // how the law then reads the rule's N
  const char* other_law;      // a law of the rule's count, to ask with instead
};

constexpr CountMismatch kNonEmbeddingRule{
    "kaplan", "non-embedding parameters (", "Kaplan et al.'s N", "non_embedding", "all of them", "smaller",
    "plan.published.kaplan:with{ vocab = 50257, ctx = 1024 } (Kaplan et al.'s: GPT-2's vocabulary, 1024 tokens of "
    "context; ",
    "the law then reads N + (vocab + ctx)·d parameters",
    "non-embedding N (fit.published.kaplan, or a study's with params = \"non_embedding\")"};
constexpr CountMismatch kAllParamsRule{
    "chinchilla_approach1", "all parameters (the embeddings included, ", "Chinchilla's N", "all",
    "non-embedding ones (Kaplan et al.'s N)", "larger",
    "plan.published.chinchilla_approach1:with{ vocab = 32000, ctx = 0 } (Hoffmann et al.'s models: a 32,000-token "
    "vocabulary, relative positions, so no learned ones; ",
    "the law then reads the N whose N + (vocab + ctx)·d is the rule's",
    "all parameters (fit.published.chinchilla, or a study's with params = \"all\")"};

void refuse_without_shape(const CountMismatch& m, const AllocationRule& rule, const std::string& law_name,
                          const std::string& function, const std::string& subject) {
  const bool published = rule.name == m.published;
  fail(function, ": ", subject, " counts ", m.counts,
       published ? std::string(m.published_N)
                 : std::string("as its runs counted them, a study's params = \"") + m.study_params + "\"",
       "), and law '", law_name, "' ", m.law_counts, ": read as they are, its loss is that of a ", m.model,
       " model than the rule means. Give the rule its models' shape, ",
       published ? m.published_fix
                 : "rule:with{ vocab = ..., ctx = ... } with the vocabulary and context of the models its runs trained "
                   "(their study's models = { vocab =, ctx = }; ",
       m.reads, ", d the width of N at d/L = 64, or aspect = ), or ask with a law of ", m.other_law);
}

// `subject` names the rule in the question ("the rule 'kaplan'", "candidate 'K' is the rule 'kaplan', which");
// `law_name` and `law_non_embedding` the law that reads it (law_counts_non_embedding).
RuleParams rule_params(const AllocationRule& rule, const std::string& law_name, bool law_non_embedding,
                       const std::string& function, const std::string& subject) {
  RuleParams out;
  out.rule = &rule;
  if (rule.non_embedding && !law_non_embedding) {
    if (!rule.has_shape()) refuse_without_shape(kNonEmbeddingRule, rule, law_name, function, subject);
    out.convert = RuleParams::Convert::ToAll;
  } else if (rule.counts_all() && law_non_embedding) {
    if (!rule.has_shape()) refuse_without_shape(kAllParamsRule, rule, law_name, function, subject);
    out.convert = RuleParams::Convert::ToNonEmbedding;
  }
  return out;
}

RuleParams rule_params(const AllocationRule& rule, const fit::FittedLaw& law, const std::string& function,
                       const std::string& subject) {
  return rule_params(rule, law.law.name(), law_counts_non_embedding(law), function, subject);
}

// What the law read for the rule's N (`N`, in the rule's count) at the answer's budget: "law 'epoch'
// counts all parameters: the 805B non-embedding parameters of rule 'kaplan' are read as 806B, with
// the embeddings (50257 + 1024)·d = 830M of its models (d = 16250 at d/L = 64)", or "law 'kaplan'
// counts non-embedding parameters: the 1.0B parameters of rule 'chinchilla_approach1' (all of them)
// are read as 0.87B, without the embeddings ...".
// Where the embeddings are a small share of N, the two counts print alike ("804B ... are read as 804B"):
// then the note says by how much the law's N differs instead.
std::string rule_params_text(const RuleParams& params, const std::string& law_name, double N) {
  const AllocationRule& rule = *params.rule;
  const bool to_all = params.convert == RuleParams::Convert::ToAll;
  const double non_embedding = to_all ? N : params(N);
  const bool alike = format_quantity(N, Unit::Params) == format_quantity(params(N), Unit::Params);
  const std::string embeddings =
      str(to_all ? "with" : "without", " the embeddings (", format_number(rule.vocab, 6), " + ", format_number(rule.ctx, 6),
          ")·d = ", format_quantity(std::fabs(params(N) - N), Unit::Params), " of its models (d = ",
          std::llround(rule.width(non_embedding)), " at d/L = ", format_number(rule.aspect, 4), ")");
  return str("law '", law_name, "' counts ", to_all ? "all" : "non-embedding", " parameters: the ",
             format_quantity(N, Unit::Params), to_all ? " non-embedding parameters of rule '" : " parameters of rule '",
             rule.name, to_all ? "' are read" : "' (all of them) are read",
             alike ? str(" ", embeddings, ": ", format_quantity(std::fabs(params(N) / N - 1), Unit::Fraction),
                         to_all ? " more" : " fewer")
                   : str(" as ", format_quantity(params(N), Unit::Params), ", ", embeddings));
}

// Where the rule's shape came from, when it did not carry one (a study's models): "converted with
// the study's models' shape: vocab 256, ctx 64, d/L = 16 (...)"; empty for a shape of rule:with.
std::string shape_source_text(const AllocationRule& rule) {
  if (rule.shape_source.empty()) return "";
  return str("converted with ", rule.shape_source, ": vocab ", format_number(rule.vocab, 6), ", ctx ",
             format_number(rule.ctx, 6), ", d/L = ", format_number(rule.aspect, 4), " (the rule '", rule.name,
             "' carried no shape; rule:with{ vocab =, ctx = [, aspect =] } gives it another)");
}

void note_rule_params(const RuleParams& params, const fit::FittedLaw& law, double N, Answer& a,
                      const std::string& who = "") {
  if (!params.converts()) return;
  const std::string prefix = who.empty() ? "" : "'" + who + "': ";
  a.notes.push_back(prefix + rule_params_text(params, law.law.name(), N));
  const std::string source = shape_source_text(*params.rule);
  if (!source.empty()) a.notes.push_back(prefix + source);
}

// An answer from a fitted law (or rule) that has no bootstrap samples has no intervals: it says so,
// rather than printing its numbers as if they were exact (REFERENCE: uncertainty on every fitted and
// derived number is not optional).
void note_no_bootstrap(const fit::FittedLaw& law, const std::string& what, Answer& a) {
  if (!law.fitted || !law.samples.empty()) return;
  a.notes.push_back(str("no intervals: ", what, " was fitted without a bootstrap, so the uncertainty of this answer is "
                        "not known; refit it with bootstrap = 200 for 95% intervals"));
}

// What an answer from a fitted law must say of the fit: the parameters it could not determine, how
// far the answer lies beyond its runs, and that it has no intervals when the fit has no bootstrap.
void note_fit_limits(const fit::FittedLaw& law, Answer& a) {
  note_undetermined(law, a);
  note_extrapolation(law, a);
  note_no_bootstrap(law, "law '" + law.law.name() + "'", a);
}

// Answers with the point law, then with every bootstrap sample; percentile intervals per quantity.
// `check` (when given) judges the point answer before any sample is solved: an answer it rejects
// costs no bootstrap work.
Answer with_intervals(const fit::FittedLaw& law, const std::function<Answer(const Law&)>& solve,
                      const std::function<void(Answer&)>& check = {}) {
  Answer point = solve(law.law);
  if (check) check(point);
  note_fit_limits(law, point);
  if (law.samples.empty()) return point;
  std::vector<Answer> answers;
  int failed = 0;
  for (size_t i = 0; i < law.samples.size(); ++i) {
    check_interrupt();
    try {
      answers.push_back(solve(law.sample(i)));
    } catch (const Error&) {
      ++failed;  // this resample's law has no answer (e.g. its E lies above the target)
    }
  }
  Answer out = point;
  collect(point, answers, out);
  out.samples = static_cast<int>(law.samples.size());
  out.samples_failed = failed;
  return out;
}

void set_allocation(Answer& a, double C, double N, double D, double loss) {
  a.set("N", N, Unit::Params, "params");
  a.set("D", D, Unit::Tokens, "tokens");
  a.set("tokens_per_param", D / N, Unit::Ratio, "tokens/param");
  if (given(loss)) a.set("loss", loss, Unit::Loss, "loss");
  a.set("flops", C, Unit::Flops, "FLOP");
}

void set_data(Answer& a, const Law& law, double N, double D, double U) {
  a.set("unique_tokens", U, Unit::Tokens, "unique tokens");
  a.set("epochs", D / U, Unit::Epochs, "epochs");
  if (D < U)
    a.notes.push_back(str("the run sees ", format_count(D), " of the ", format_count(U), " unique tokens, each at most once "
                          "(epochs ", format_ratio(D / U), " < 1): the unique tokens do not constrain it"));
  if (law.kind() == LawKind::DataConstrained) {
    a.set("effective_D", fit::effective_tokens(D, U, law.param("R_D")), Unit::Tokens, "effective tokens D'");
    a.set("effective_N",
          fit::effective_params(N, std::min(U, D), law.param("R_N"), law.param("A"), law.param("B"),
                                law.param("alpha"), law.param("beta")),
          Unit::Params, "effective params N'");
  }
}

// The cost of the data limit: the loss of the data-constrained optimum minus that of the optimum with
// every token unique at the same compute, computed per law (so per bootstrap sample: its interval is
// the percentile interval of the differences, not a difference of the two losses' intervals). Exactly
// 0 where the unlimited optimum's tokens fit in the U unique ones (the limit does not bind: both
// optima are the same run, found once in closed form and once numerically), and never below 0
// (the constrained optimum cannot beat the unconstrained one; the searches' rounding can).
void set_limit_cost(Answer& a, double loss, const Allocation& unlimited, double U) {
  const double cost = unlimited.D <= U ? 0.0 : std::max(0.0, loss - unlimited.loss);
  a.set("limit_cost", cost, Unit::Loss, "cost of the data limit");
  for (auto& q : a.quantities)
    if (q.name == "limit_cost") q.keeps_flat_interval = true;  // [0, 0] where the limit binds in no sample
}

// An allocation rule's N_opt(C) holds for budgets counted as the runs it was fitted on were (6·N·D: a
// study's, Chinchilla's table, Kaplan's C_min): read in a count with attention it answers for another
// budget, silently. Refused in every question that reads a rule: `subject` is what gives N_opt(C)
// ("the allocation rule 'x'", "candidate 'a' is the allocation rule 'x', which"), `rest` what follows
// from it and how to ask instead.
void refuse_rule_count(const FlopsPerToken& flops, const std::string& function, const std::string& subject,
                       const std::string& rest) {
  if (flops.six_n()) return;
  fail(function, ": ", subject, " gives N_opt(C) for budgets counted as 6·N·D, as its runs were; a budget counted as ",
       flops.Describe(), rest);
}

// The budget, counted as the rule counts its runs (6·N·D with its own N), of the run the rule picks
// that spends C as the law counts it (6·N·D with the N the law reads, `read`): the same run counted
// two ways, C_R·read(N(C_R))/N(C_R) = C. C itself where the law reads the rule's N as it is. `N_of` is
// the rule's N_opt (or one of its bootstrap samples'). The rule was read at C itself: Kaplan's rule
// under a law of all parameters picked a run that spends more than the budget as the law counts it
// (1.66e18 FLOP at 1e18 with GPT-2's vocabulary: its models' embeddings), a rule of all parameters
// under a law of non-embedding N one that spends less.
double rule_budget(const RuleParams& read, double C, const std::function<double(double)>& N_of,
                   const std::string& function) {
  if (!read.converts()) return C;
  // C_R·read(N)/N increases with C_R for N_opt ∝ C^a, a < 3/2 (read(N)/N moves as N^(-2/3) at most).
  auto spent = [&](double c) {
    const double N = N_of(c);
    return c * (read(N) / N);
  };
  double lo = C, hi = C;
  for (int i = 0; i < 400 && !(spent(lo) <= C); ++i) lo /= 2;
  for (int i = 0; i < 400 && !(spent(hi) >= C); ++i) hi *= 2;
  if (!(spent(lo) <= C) || !(spent(hi) >= C))
    fail(function, ": no budget of the rule '", read.rule->name, "' gives a run that spends ", flops_text(C),
         " as the law counts its N (its N_opt(C) grows too fast for its models' embeddings to be counted)");
  for (int i = 0; i < 200 && hi > lo * (1 + 1e-15); ++i) {
    const double mid = std::sqrt(lo * hi);
    (spent(mid) < C ? lo : hi) = mid;
  }
  return std::sqrt(lo * hi);
}

// The rule's N_opt(C), or that of its bootstrap sample `draw` (cycled over its samples, as
// rule_sample_at draws them; the rule's own where it has none or `draw` is -1).
std::function<double(double)> rule_N_of(const AllocationRule& rule, long draw) {
  const auto& samples = rule.N_law.samples;
  if (draw < 0 || samples.empty()) return [&rule](double c) { return rule.N_at(c); };
  const fit::Law law = rule.N_law.sample(static_cast<size_t>(draw) % samples.size());
  return [law](double c) { return AllocationRule::evaluate(law, c); };
}

// Intervals of an answer's (or a row's) N, D, tokens per parameter and 6·N·D (held by the quantity
// `product`) at budget C from an allocation rule's bootstrap samples: N from the N law's, D from the
// D law's (or C/(6N) from N's); the ratio and product from each resample's N and D together, where
// the D law's samples are the N law's (a bootstrapped IsoFLOP analysis or fit). An interval of no
// width (6·N·D = C for every resample of D = C/(6N)) is none. Returns the samples it drew on.
// `params` (where given) is how a law reads the rule's N (rule_params), and C the budget as the law
// counts it: each sample's run is the one that spends C so (rule_budget), D = C_R/(6N) from the rule's
// own N.
int set_rule_intervals(const AllocationRule& rule, double C, Answer& a, const char* product,
                       const RuleParams* params = nullptr) {
  std::vector<double> ns, ds, budgets;
  const double point_budget = params ? rule_budget(*params, C, rule_N_of(rule, -1), "plan.compare") : C;
  for (size_t i = 0; i < rule.N_law.samples.size(); ++i) {
    const auto N_of = rule_N_of(rule, static_cast<long>(i));
    budgets.push_back(params ? rule_budget(*params, C, N_of, "plan.compare") : C);
    ns.push_back(N_of(budgets.back()));
  }
  if (rule.D_law)
    for (size_t i = 0; i < rule.D_law->samples.size(); ++i)
      ds.push_back(AllocationRule::evaluate(rule.D_law->sample(i), budgets.empty() ? point_budget : budgets[i % budgets.size()]));
  else
    for (size_t i = 0; i < ns.size(); ++i) ds.push_back(budgets[i] / (6 * ns[i]));
  if (params)
    for (double& n : ns) n = (*params)(n);
  std::vector<double> ratios, products;
  if (ns.size() == ds.size())
    for (size_t i = 0; i < ns.size(); ++i) {
      ratios.push_back(ds[i] / ns[i]);
      products.push_back(6 * ns[i] * ds[i]);
    }
  for (auto& q : a.quantities) {
    const std::vector<double>* values = q.name == "N" ? &ns : q.name == "D" ? &ds
                                      : q.name == "tokens_per_param" ? &ratios : q.name == product ? &products : nullptr;
    if (!values || values->size() < 2) continue;
    const fit::Interval interval = fit::percentile_interval(*values);
    if (interval.hi - interval.lo > 1e-8 * std::fabs(q.value)) q.interval = interval;
  }
  return static_cast<int>(std::max(ns.size(), ds.size()));
}

// The bootstrap samples of a rule (of its N law, or of its D law where that has more).
size_t rule_sample_count(const AllocationRule& rule) {
  return std::max(rule.N_law.samples.size(), rule.D_law ? rule.D_law->samples.size() : size_t{0});
}

// The rule's N and D at budget C in its bootstrap sample `draw` (cycled over its samples), drawn as
// set_rule_intervals draws them: N from the N law's sample, D from the D law's (its point law where
// it has no samples), or C/(6N) from that N.
std::pair<double, double> rule_sample_at(const AllocationRule& rule, size_t draw, double C) {
  const auto& n_samples = rule.N_law.samples;
  const double N = n_samples.empty() ? rule.N_at(C) : AllocationRule::evaluate(rule.N_law.sample(draw % n_samples.size()), C);
  if (!rule.D_law) return {N, C / (6 * N)};
  const auto& d_samples = rule.D_law->samples;
  return {N, d_samples.empty() ? rule.D_at(C) : AllocationRule::evaluate(rule.D_law->sample(draw % d_samples.size()), C)};
}

// The convention of a rule's budgets and N: 6·N·D, with N non-embedding for Kaplan's rule, whose
// answers printed '41.7B params' with no word that they leave out the embeddings (the note on it came
// only with a law of all parameters).
// A rule of all parameters read by a law of non-embedding N says so too: its N printed as '9.01B
// params' with no word of which count, beside a loss the law gave for 8.89B non-embedding ones.
std::string rule_convention(const AllocationRule& rule, const RuleParams& read = {}) {
  return FlopsPerToken{}.Describe() +
         (rule.non_embedding ? ", N non-embedding parameters (Kaplan et al.'s count: the model is larger by its embeddings)"
          : read.convert == RuleParams::Convert::ToNonEmbedding
              ? ", N all parameters (the rule's count, the embeddings included: the law reads its models' non-embedding N)"
              : "");
}

// An answer whose rows hold rules' N read into the law's count (plan.compare): the count, where
// law_convention does not say it already.
std::string read_convention(const fit::FittedLaw& fitted, const std::vector<RuleParams>& reads) {
  bool to_all = false, to_non_embedding = false;
  for (const RuleParams& r : reads) {
    to_all = to_all || r.convert == RuleParams::Convert::ToAll;
    to_non_embedding = to_non_embedding || r.convert == RuleParams::Convert::ToNonEmbedding;
  }
  if (to_all)
    return str(", N all parameters (as law '", fitted.law.name(), "' counts them: a rule's non-embedding N is read with ",
               "its models' embeddings)");
  if (to_non_embedding && fitted.N_counts != "non_embedding")
    return str(", N non-embedding parameters (as law '", fitted.law.name(), "' counts them: a rule's N of all parameters ",
               "is read without its models' embeddings)");
  return "";
}

// An answer whose budget counts attention (FlopsPerToken other than 6N): what the budget buys per
// token, its 6·N·D, and the shape it is counted at.
void set_counted(Answer& a, const FlopsPerToken& flops, double N, double D) {
  if (flops.six_n()) return;
  a.set("flops_per_token", flops.at(N), Unit::Plain, "FLOP/token");
  a.set("flops_6ND", 6 * N * D, Unit::Flops, "6·N·D");
  a.set("n_layer", flops.layers(N), Unit::Plain, "layers L");
  a.set("d_model", flops.width(N), Unit::Plain, "width d");
}

// The convention of an answer from `fitted`: how its compute is counted, and that its N leaves out
// the embeddings where the law's runs counted them so (a study of params = "non_embedding").
std::string law_convention(const FlopsPerToken& flops, const fit::FittedLaw& fitted) {
  return flops.Describe() + (fitted.N_counts == "non_embedding"
                                 ? ", N non-embedding parameters (as the law's runs counted them: the model is larger by its embeddings)"
                                 : "");
}

// Its convention, and for a budget that counts attention, the share of it 6·N·D takes.
void note_counted(Answer& a, const FlopsPerToken& flops, const fit::FittedLaw& fitted) {
  const Law& law = fitted.law;
  a.convention = law_convention(flops, fitted);
  if (flops.six_n() || !a.has("flops") || !std::isfinite(a.value("flops"))) return;
  const double C = a.value("flops");
  a.notes.push_back(str("the budget counts attention too, with N as law '", law.name(), "' counts it: 6·N·D is ",
                        format_quantity(6 * a.value("N") * a.value("D") / C, Unit::Fraction), " of ", flops_text(C),
                        "; L and d are the continuous shape of N, N = 12·L·d² with d = ",
                        format_number(flops.aspect, 4), "·L"));
}

// A compute-optimal answer must be a model one could build: an error below one parameter or one
// token (the budget is too small for any model), a note below 1000 parameters (smaller than any
// language model scaling laws were measured on: Kaplan et al. 2020 go down to about 1e3
// non-embedding parameters), where the law is extrapolated far beyond its data.
// A row (a table's model size, a return curve's budget) is refused the same way; `row` names the
// input that asked for it ("params[1] = 1") and `remedy` what to ask instead.
// `why` says what is too small: the budget (the default), or for a table's rows the model size given.
const char kBudgetTooSmall[] =
    "the budget is far too small for any model (C = 6·N·D: even 1000 parameters on 20k tokens need 1.2e8 FLOP)";
const char kModelTooSmall[] =
    "the model is far too small for any compute-optimal run (scaling laws were measured on models of about 1e3 "
    "parameters and up)";
void check_model_size(Answer& a, const std::string& function, bool note = true, const std::string& row = "",
                      const std::string& remedy = "", const char* why = kBudgetTooSmall) {
  if (!a.has("N") || !a.has("D")) return;
  const double N = a.value("N"), D = a.value("D"), C = a.value("flops");
  if (!(N >= 1) || !(D >= 1))
    fail(function, ": at ", flops_text(C), " the compute-optimal run", row.empty() ? "" : " of " + row, " would have ",
         format_counted(format_number(N, 3), "parameter", "parameters"), " and ",
         format_counted(format_number(D, 3), "token", "tokens"), ": ",
         !(N >= 1) ? "less than one parameter" : "less than one token", "; ", why, remedy.empty() ? "" : "; " + remedy);
  if (note && N < 1000)
    a.notes.push_back(str("N = ", format_number(N, 3), " parameters is smaller than any language model scaling laws "
                          "were measured on (about 1e3 and up): the law is extrapolated far below its data"));
}

// The same note for rows (a table's model sizes, the allocations compared) and for answers that are
// not a compute-optimal allocation (a loss at given N, an inference-aware model): one note naming
// every model below 1000 parameters.
void note_small_models(Answer& a) {
  std::vector<std::string> sizes;
  auto look = [&](const Answer& x) {
    if (!x.has("N") || !(x.value("N") < 1000)) return;
    const std::string size = format_number(x.value("N"), 3);
    if (std::find(sizes.begin(), sizes.end(), size) == sizes.end()) sizes.push_back(size);
  };
  look(a);
  for (const Answer& row : a.rows) look(row);
  if (sizes.empty()) return;
  std::string list;
  for (const auto& size : sizes) list += (list.empty() ? "" : ", ") + size;
  a.notes.push_back(str("N = ", list, " parameters ", sizes.size() == 1 ? "is" : "are", " smaller than any language model "
                        "scaling laws were measured on (about 1e3 and up): the law is extrapolated far below its data"));
}

void positive(double x, const std::string& function, const char* name, const char* hint) {
  if (!given(x)) fail(function, ": missing ", name, " (", hint, ")");
  if (!(x > 0) || !std::isfinite(x))
    fail(function, ": ", name, " must be positive and finite (got ", format_number(x, 6), "); ", hint);
}

// A count of parameters or tokens: at least one (a model of 0.5 parameters on 0.1 tokens is none).
void at_least_one(double x, const std::string& function, const char* name, const char* hint) {
  positive(x, function, name, hint);
  if (x < 1) fail(function, ": ", name, " must be at least 1 (got ", format_number(x, 6), "); ", hint);
}

// A training budget a question searches at: positive, and at most kMaxCompute, the end of the budgets
// planning searches (compute_for and table say so of budgets they would need beyond it). Beyond it
// the searches' own bounds overflow: compute = 1e305 failed with 'datablations law: predict needs N'.
void budget(double x, const std::string& function, const char* name, const char* hint) {
  positive(x, function, name, hint);
  if (x > kMaxCompute)
    fail(function, ": ", name, " = ", flops_text(x), " is beyond the budgets planning covers (up to ", flops_text(kMaxCompute),
         ", 1e14 times the largest training runs); give a budget of at most 1e40 FLOP");
}

// The compute of a question's answer (a table row's budget, a return curve's default budgets) beyond
// kMaxCompute, or beyond any double: the same refusal, naming the input that asks for it.
void check_budget_of(double C, const std::string& function, const std::string& what) {
  if (!(C <= kMaxCompute))
    fail(function, ": ", what, " needs ", std::isfinite(C) ? flops_text(C) : std::string("more FLOP than a double holds"),
         ", beyond the budgets planning covers (up to ", flops_text(kMaxCompute), ")");
}

}  // namespace

// A question's inputs in words (plan.h): each printed as its answer's quantity of the same name is,
// format_quantity in that quantity's unit. The question echoed epochs to four digits ("at 12.35 epochs")
// over an answer whose epochs row said 12.3, and a loss target to five ("compute to reach loss 12.123")
// over a loss of 12.1235; the question's summary (question.cpp) said it apart, and left out of some
// questions inputs their answers named (the unique tokens of plan.loss and compute_for, the target of
// plan.inference).
namespace {
std::string count_clause(const FlopsPerToken& flops) { return flops.six_n() ? "" : ", counted as " + flops.Describe(); }
std::string with_unique(double U) { return given(U) ? " with " + unique_text(U) : ""; }
}  // namespace

std::string describe(const OptimalOptions& o) {
  std::string q = "compute-optimal allocation at " + flops_text(o.compute) + with_unique(o.unique_tokens);
  if (given(o.epochs)) q += " at " + format_counted(format_quantity(o.epochs, Unit::Epochs), "epoch", "epochs");
  return q + count_clause(o.flops);
}

std::string describe(const LossOptions& o) {
  return "loss of " + format_quantity(o.N, Unit::Params) + " parameters on " + format_quantity(o.D, Unit::Tokens) +
         " tokens" + (given(o.unique_tokens) ? " (" + format_quantity(o.unique_tokens, Unit::Tokens) + " unique)" : "");
}

std::string describe(const ComputeForOptions& o) {
  return "compute to reach loss " + format_quantity(o.loss, Unit::Loss) + with_unique(o.unique_tokens) + count_clause(o.flops);
}

std::string describe(const InferenceOptions& o) {
  return "inference-aware allocation for " + format_quantity(o.inference_tokens, Unit::Tokens) + " inference tokens, target " +
         (given(o.loss) ? "loss " + format_quantity(o.loss, Unit::Loss)
                        : "the loss of the compute-optimal run at " + flops_text(o.compute)) +
         with_unique(o.unique_tokens) + count_clause(o.flops);
}

std::string describe(const ReturnsOptions& o) {
  return "return on compute spent repeating " + unique_text(o.unique_tokens) + count_clause(o.flops);
}

std::string beyond_runs(const fit::FittedLaw& law, double N, double D, double C) {
  Answer a;
  set_allocation(a, C, N, D, fit::kMissing);
  note_extrapolation(law, a);
  return a.notes.empty() ? std::string() : a.notes.front();
}

// ---- FLOP conventions ----------------------------------------------------------------------------

double FlopsPerToken::width(double N) const { return std::cbrt(aspect * N / 12.0); }
double FlopsPerToken::layers(double N) const { return width(N) / aspect; }

double FlopsPerToken::at(double N) const {
  if (kind == Kind::SixN) return 6.0 * N;
  const double d = width(N);
  return 6.0 * N + (kind == Kind::Kaplan ? 6.0 : 12.0) * (d * d / aspect) * ctx;
}

// "(PaLM's and DeepSeek's count with attention; T = 2048, shapes at d/L = 64)": the part of Describe()
// after its formula, for messages that write the formula out themselves.
namespace {
std::string counted_as(const FlopsPerToken& flops) {
  const std::string text = flops.Describe(), formula_end = ")·D (";
  const size_t at = text.find(formula_end);
  return at == std::string::npos ? "(" + text + ")" : text.substr(at + formula_end.size() - 1);
}
}  // namespace

std::string FlopsPerToken::Describe() const {
  if (kind == Kind::SixN) return "C = 6·N·D";
  return str("C = (6N + ", kind == Kind::Kaplan ? "6" : "12", "·L·T·d)·D (",
             kind == Kind::Kaplan ? "Kaplan's count with attention" : "PaLM's and DeepSeek's count with attention",
             "; T = ", format_number(ctx, 6), ", shapes at d/L = ", format_number(aspect, 4), ")");
}

void FlopsPerToken::Validate(const std::string& function) const {
  if (kind == Kind::SixN) return;
  if (!given(ctx))
    fail(function, ": flops = ", kind == Kind::Kaplan ? "\"kaplan\"" : "\"palm\"",
         " counts attention over the context: give its length, flops = { ", kind == Kind::Kaplan ? "\"kaplan\"" : "\"palm\"",
         ", ctx = 2048 }");
  if (!(ctx >= 1) || !std::isfinite(ctx))
    fail(function, ": flops.ctx must be a context length of at least 1 token (got ", format_number(ctx, 6), ")");
  if (!(aspect > 0) || !std::isfinite(aspect))
    fail(function, ": flops.aspect must be a positive d_model / n_layer ratio (got ", format_number(aspect, 6),
         "); Kaplan et al. found 20 to 200 all fine, model.shape_for's default is 64");
}

// ---- options -----------------------------------------------------------------------------------

void OptimalOptions::Validate() const {
  budget(compute, "plan.optimal", "compute", "training FLOP, e.g. compute = 1e21");
  if (given(unique_tokens)) at_least_one(unique_tokens, "plan.optimal", "unique_tokens", "unique tokens available, e.g. 25e9");
  if (given(epochs)) {
    if (!(epochs >= 1) || !std::isfinite(epochs))
      fail("plan.optimal: epochs must be at least 1 (got ", format_number(epochs, 6), ")");
    if (given(unique_tokens))
      fail("plan.optimal: give unique_tokens or epochs, not both: with both and compute, N and D are fixed (D = epochs·U, "
           "N = C/(6D)); ask plan.loss for that run");
  }
  if (grid < 3) fail("plan.optimal: grid must be at least 3 (got ", grid, ")");
  flops.Validate("plan.optimal");
}

void LossOptions::Validate() const {
  at_least_one(N, "plan.loss", "N", "parameters, e.g. N = 7e9");
  at_least_one(D, "plan.loss", "D", "training tokens, e.g. D = 1.4e12");
  if (given(unique_tokens)) at_least_one(unique_tokens, "plan.loss", "unique_tokens", "unique tokens, e.g. 25e9");
}

void ComputeForOptions::Validate() const {
  positive(loss, "plan.compute_for", "loss", "the target loss, e.g. loss = 2.0");
  if (given(unique_tokens)) at_least_one(unique_tokens, "plan.compute_for", "unique_tokens", "unique tokens, e.g. 25e9");
  flops.Validate("plan.compute_for");
}

void InferenceOptions::Validate() const {
  if (given(loss) == given(compute))
    fail("plan.inference: give exactly one target: loss = (the loss to reach) or compute = (reach the loss of the "
         "compute-optimal run at this budget)");
  if (given(loss)) positive(loss, "plan.inference", "loss", "the target loss, e.g. loss = 2.0");
  if (given(compute)) budget(compute, "plan.inference", "compute", "training FLOP, e.g. compute = 1e23");
  if (!given(inference_tokens))
    fail("plan.inference: missing inference_tokens (tokens the model will process over its lifetime, e.g. 2e12)");
  if (!(inference_tokens >= 0) || !std::isfinite(inference_tokens))
    fail("plan.inference: inference_tokens must be zero or positive (got ", format_number(inference_tokens, 6), ")");
  if (given(unique_tokens)) at_least_one(unique_tokens, "plan.inference", "unique_tokens", "unique tokens, e.g. 25e9");
  flops.Validate("plan.inference");
}

void CompareOptions::Validate() const {
  budget(compute, "plan.compare", "compute", "the budget in FLOP, e.g. compute = 5.76e23");
  flops.Validate("plan.compare");
  if (given(unique_tokens)) at_least_one(unique_tokens, "plan.compare", "unique_tokens", "unique tokens, e.g. 25e9");
  if (candidates.empty())
    fail("plan.compare: no candidates; give allocations to compare, e.g. candidates = { { name = \"Gopher\", N = 280e9, D = 300e9 } }");
  for (const auto& c : candidates) {
    if (c.rule) continue;
    at_least_one(c.N, "plan.compare", ("N of candidate '" + c.name + "'").c_str(), "parameters");
    if (given(c.D)) at_least_one(c.D, "plan.compare", ("D of candidate '" + c.name + "'").c_str(), "tokens");
    else if (compute / flops.at(c.N) < 1)
      fail("plan.compare: candidate '", c.name, "' of ", format_count(c.N), " parameters would train on D = ",
           flops.six_n() ? "C/(6N)" : "C/M(N)", " = ", format_number(compute / flops.at(c.N), 3), " tokens at ", flops_text(compute),
           ", less than one; give it D = (its tokens) or fewer parameters");
  }
}

void TableOptions::Validate() const {
  if (params.empty()) fail("plan.table: params is empty; give model sizes, e.g. params = { 400e6, 1e9, 10e9 }");
  for (double n : params) at_least_one(n, "plan.table", "every entry of params", "model sizes in parameters");
  flops.Validate("plan.table");
}

void ReturnsOptions::Validate() const {
  at_least_one(unique_tokens, "plan.returns", "unique_tokens", "unique tokens available, e.g. 25e9");
  for (double c : compute) budget(c, "plan.returns", "every entry of compute", "budgets in FLOP");
  flops.Validate("plan.returns");
}

// ---- questions -----------------------------------------------------------------------------------

Answer optimal(const fit::FittedLaw& fitted, const OptimalOptions& options) {
  options.Validate();
  const std::string function = "plan.optimal";
  require_loss_law(fitted, function);
  const bool constrained = given(options.unique_tokens) || given(options.epochs);
  if (constrained) require_data_law(fitted.law, function,
                                    given(options.unique_tokens) ? "unique_tokens = " + format_count(options.unique_tokens)
                                                                 : "epochs = " + format_quantity(options.epochs, Unit::Epochs));
  const double C = options.compute;
  const FlopsPerToken& per_token = options.flops;
  Answer out = with_intervals(fitted, [&](const Law& law) {
    Allocation a = allocate(law, C, options.unique_tokens, options.epochs, options.method, options.grid, function, false,
                            per_token);
    Answer ans;
    set_allocation(ans, C, a.N, a.D, a.loss);
    set_counted(ans, per_token, a.N, a.D);
    if (constrained) {
      const double U = given(options.unique_tokens) ? options.unique_tokens : a.D / options.epochs;
      set_data(ans, law, a.N, a.D, U);
      Allocation free = allocate(law, C, fit::kMissing, fit::kMissing, Method::Auto, options.grid, function, false,
                                 per_token);
      ans.set("loss_unlimited", free.loss, Unit::Loss, "loss, unlimited data");
      ans.set("N_unlimited", free.N, Unit::Params, "params, unlimited data");
      set_limit_cost(ans, a.loss, free, U);
    }
    ans.method = a.closed_form ? "closed form" : "numeric";
    // At the floor of U unique tokens (D' and N' both saturated) the loss is flat in N: the N found
    // is one of many of that loss, not an optimum, and the grid's "local optima" are rounding.
    const double floor = given(options.unique_tokens) ? data_floor(law, options.unique_tokens) : fit::kMissing;
    const bool at_floor = given(floor) && a.loss - floor <= 1e-6 * floor;
    if (at_floor)
      ans.notes.push_back(str("the loss ", format_quantity(a.loss, Unit::Loss), " is the floor of ", unique_text(options.unique_tokens),
                              " (the lowest loss the law allows them at any compute, "
                              "to 1 part in 10^6): repeating them more and adding parameters have stopped helping, so the loss does not "
                              "determine N here (many N give it; this one is arbitrary) and a smaller budget reaches about the "
                              "same loss (plan.returns shows where the returns run out)"));
    if (!a.closed_form && a.local_minima > 1 && !at_floor) {
      std::string others;
      for (double n : a.other_N) others += (others.empty() ? "" : ", ") + format_count(n);
      ans.notes.push_back(str(a.local_minima, " local optima in N; the best kept (the others at ", others, ")"));
    }
    return ans;
  }, [&](Answer& point) { check_model_size(point, function); });
  out.question = describe(options);
  out.law = law_label(fitted);
  note_counted(out, per_token, fitted);
  note_kaplan_joint(fitted.law, out);
  note_kaplan_overfitting(&fitted.law, nullptr, out, Optima::All);
  return out;
}

Answer optimal(const AllocationRule& rule, const OptimalOptions& options, const fit::FittedLaw* law) {
  options.Validate();
  rule.Validate();
  if (given(options.unique_tokens) || given(options.epochs))
    fail("plan.optimal: an allocation rule (power laws of C) knows nothing of unique tokens or epochs; ask a "
         "data-constrained law instead (law = fit.published.datablations)");
  refuse_rule_count(options.flops, "plan.optimal", "the allocation rule '" + rule.name + "'",
                    " would be read as a larger one. Ask a loss law instead (plan.optimal{ compute = ..., law = ..., "
                    "flops = ... }), or give the rule the budget as 6·N·D");
  if (law) require_loss_law(*law, "plan.optimal");
  // The law's N for the rule's (its models with their embeddings, for Kaplan's rule and a law of all
  // parameters); the answer's N stays the rule's, in its count (answer.convention).
  const RuleParams read = law ? rule_params(rule, *law, "plan.optimal", "the rule '" + rule.name + "'")
                              : RuleParams{&rule};
  const double C = options.compute;
  const double N = rule.N_at(C), D = rule.D_at(C);
  Answer out;
  set_allocation(out, C, N, D, law ? predict(law->law, read(N), D, fit::kMissing) : fit::kMissing);
  if (law) note_fit_limits(*law, out);
  if (law) note_rule_params(read, *law, N, out);
  if (std::fabs(6 * N * D / C - 1) > 1e-3) {
    out.set("flops_6ND", 6 * N * D, Unit::Flops, "6·N·D");
    // By how much: 6·N·D within half a percent of C prints as C ("6·N·D 1.00e35" under "FLOP 1.00e35"),
    // and the note said only that it differs.
    const double apart = 6 * N * D / C - 1;
    out.notes.push_back(str("the rule's N_opt and D_opt are separate fits: 6·N·D is ",
                            format_quantity(std::fabs(apart), Unit::Fraction), apart < 0 ? " below" : " above",
                            " the budget"));
  }
  // Intervals: N, D, tokens per parameter and 6·N·D from the rule's samples; the loss from the law's
  // and the rule's together: draw i is the law's sample i at the rule's sample i's N and D (each
  // cycled where it has fewer; the law itself where it has none). It was the law's samples at the
  // rule's point N and D, as if the rule's N and D were known exactly.
  const int rule_samples = set_rule_intervals(rule, C, out, "flops_6ND");
  std::vector<double> losses;
  if (law) {
    const size_t law_draws = law->samples.size(), rule_draws = rule_sample_count(rule) >= 2 ? rule_sample_count(rule) : 0;
    for (size_t i = 0; i < std::max(law_draws, rule_draws); ++i) {
      const auto [n, d] = rule_draws > 0 ? rule_sample_at(rule, i, C) : std::make_pair(N, D);
      losses.push_back(predict(law_draws > 0 ? law->sample(i % law_draws) : law->law, read(n), d, fit::kMissing));
    }
  }
  for (auto& q : out.quantities)
    if (q.name == "loss" && losses.size() >= 2) q.interval = fit::percentile_interval(losses);
  out.samples = std::max(rule_samples, static_cast<int>(losses.size()));
  out.question = describe(options);
  out.law = "allocation rule " + rule.name + (law ? "; loss from " + law_label(*law) : "");
  out.method = "power laws N_opt(C)" + std::string(rule.D_law ? ", D_opt(C)" : ", D = C/(6N)");
  out.convention = rule_convention(rule, read);
  note_rule_extrapolation(rule, out);
  note_no_bootstrap(rule.N_law, "the rule '" + rule.name + "'", out);
  check_model_size(out, "plan.optimal");
  note_kaplan_overfitting(law ? &law->law : nullptr, &rule, out);
  return out;
}

Answer loss(const fit::FittedLaw& fitted, const LossOptions& options) {
  options.Validate();
  require_loss_law(fitted, "plan.loss");
  if (given(options.unique_tokens)) require_data_law(fitted.law, "plan.loss", "unique_tokens = " + format_count(options.unique_tokens));
  // A law that predicts no loss here (a custom law's NaN or a value <= 0) is an error, not an answer
  // without its loss.
  const double point = predict(fitted.law, options.N, options.D, options.unique_tokens);
  if (!(point > 0) || !std::isfinite(point))
    fail("plan.loss: law '", fitted.law.name(), "' predicts ", format_number(point, 6), " at N = ",
         format_count(options.N), ", D = ", format_count(options.D),
         ", not a loss (a positive, finite number); check the law's predict at these values");
  Answer out = with_intervals(fitted, [&](const Law& law) {
    Answer ans;
    set_allocation(ans, 6 * options.N * options.D, options.N, options.D,
                   predict(law, options.N, options.D, options.unique_tokens));
    if (given(options.unique_tokens)) {
      set_data(ans, law, options.N, options.D, options.unique_tokens);
    } else if (law.kind() == LawKind::DataConstrained) {
      // On fresh data (U = D) Muennighoff's law still counts parameters beyond N_opt(D) as worth
      // less: the answer shows the N' its loss comes from (N itself within N_opt(D)), in every
      // sample, so that its interval is over them all.
      ans.set("effective_N",
              fit::effective_params(options.N, options.D, law.param("R_N"), law.param("A"), law.param("B"),
                                    law.param("alpha"), law.param("beta")),
              Unit::Params, "effective params N'");
    }
    return ans;
  });
  if (!given(options.unique_tokens) && out.has("effective_N") && out.value("effective_N") < options.N * (1 - 1e-9))
    out.notes.push_back(str("on fresh data (no unique_tokens given, U = D) the law counts the parameters beyond N_opt(D) "
                            "as worth less (excess parameters): its loss is that of N' = ",
                            format_count(out.value("effective_N")), " effective parameters"));
  out.question = describe(options);
  out.law = law_label(fitted);
  out.method = "prediction";
  note_small_models(out);
  note_kaplan_overfitting(&fitted.law, nullptr, out);
  return out;
}

Answer compute_for(const fit::FittedLaw& fitted, const ComputeForOptions& options) {
  options.Validate();
  const std::string function = "plan.compute_for";
  require_loss_law(fitted, function);
  if (given(options.unique_tokens)) require_data_law(fitted.law, function, "unique_tokens = " + format_count(options.unique_tokens));
  // The point law must reach the target (its error says why). A bootstrap sample whose law never
  // does (its E, or its floor on this data, at or above the target) needs unbounded compute: it
  // enters the intervals as ∞ rather than being left out, so that when more than 2.5% of the samples
  // are such, the upper ends say the compute needed is unbounded at 95%.
  int unreachable = 0;
  Answer out = with_intervals(fitted, [&](const Law& law) {
    if (&law != &fitted.law && !(optimal_loss(law, kMaxCompute, options.unique_tokens, function, options.flops) < options.loss)) {
      ++unreachable;
      constexpr double kUnbounded = std::numeric_limits<double>::infinity();
      Answer ans;
      ans.set("N", kUnbounded, Unit::Params, "params");
      ans.set("D", kUnbounded, Unit::Tokens, "tokens");
      ans.set("flops", kUnbounded, Unit::Flops, "FLOP");
      return ans;
    }
    const double C = invert_optimal_loss(law, options.loss, options.unique_tokens, function, kMinCompute, options.flops);
    Allocation a = allocate(law, C, options.unique_tokens, fit::kMissing, Method::Auto, 241, function, false, options.flops);
    Answer ans;
    set_allocation(ans, C, a.N, a.D, a.loss);
    set_counted(ans, options.flops, a.N, a.D);
    if (given(options.unique_tokens)) set_data(ans, law, a.N, a.D, options.unique_tokens);
    return ans;
  });
  if (unreachable > 0)
    out.notes.push_back(str(unreachable, " of ", out.samples, " bootstrap samples never reach loss ",
                            format_quantity(options.loss, Unit::Loss), " (their law's floor is at or above it): they count as "
                            "unbounded compute, N and D",
                            std::isinf(out.quantity("flops").interval.hi) ? ", and the 95% intervals are open above" : ""));
  out.question = describe(options);
  out.law = law_label(fitted);
  note_kaplan_joint(fitted.law, out);
  note_kaplan_overfitting(&fitted.law, nullptr, out, Optima::All);
  out.method = "inverse of the optimal loss L*(C) by bisection";
  note_counted(out, options.flops, fitted);
  note_small_models(out);
  return out;
}

Answer inference(const fit::FittedLaw& fitted, const InferenceOptions& options) {
  options.Validate();
  const std::string function = "plan.inference";
  require_loss_law(fitted, function);
  const double U = options.unique_tokens;
  if (given(U)) require_data_law(fitted.law, function, "unique_tokens = " + format_count(U));
  const double T = options.inference_tokens;
  // Training M(N) per token, inference its forward third (2N, plus 2·L·T·d or 4·L·T·d with attention).
  const FlopsPerToken& per_token = options.flops;
  auto training = [&](double n, double d) { return per_token.at(n) * d; };
  auto serving = [&](double n) { return per_token.at(n) / 3 * T; };
  Answer out = with_intervals(fitted, [&](const Law& law) {
    const double target = given(options.loss) ? options.loss : optimal_loss(law, options.compute, U, function, per_token);
    // A target taken from a budget whose optimum is already at the floor of U (few unique tokens, or
    // a large budget) is no loss the user gave: say what the budget and the data did.
    if (!given(options.loss) && given(U)) {
      const double floor = data_floor(law, U);
      if (given(floor) && target - floor <= 1e-6 * floor)
        fail(function, ": at ", flops_text(options.compute), " with ", unique_text(U), " the compute-optimal "
             "run is already at the floor of those tokens (loss ", format_number(target, 5), ", the lowest the law "
             "allows them at any compute): no model reaches it on finite training tokens, so there is no inference-aware "
             "allocation for that target; give more unique tokens, a smaller compute, or a loss = target above the floor");
    }
    check_target(law, target, U, function);
    // Training tokens for N parameters to reach the target (infinite when N is too small).
    const double ln_d_max = std::log(1e32);
    auto tokens_for = [&](double n) {
      if (!(predict(law, n, std::exp(ln_d_max), U) < target)) return std::numeric_limits<double>::infinity();
      return std::exp(search::bisect([&](double ln_d) { return predict(law, n, std::exp(ln_d), U) - target; }, 0.0,
                                     ln_d_max, 1e-11));
    };
    // The smallest model that can reach the target with unlimited training tokens.
    const double ln_n_max = std::log(1e18);
    const double at_max = predict(law, std::exp(ln_n_max), std::exp(ln_d_max), U);
    if (!(at_max < target))
      fail(function, ": loss target ", format_number(target, 5), " is not reached by any model of up to 1e18 parameters "
           "on up to 1e32 tokens (the law predicts ", format_number(at_max, 5), " there); choose a target further above ",
           law.has("E") ? "the law's irreducible loss E = " + format_number(law.param("E"), 5) : std::string("the law's limit"));
    const double ln_n_min = search::bisect(
        [&](double ln_n) { return predict(law, std::exp(ln_n), std::exp(ln_d_max), U) < target ? 1.0 : -1.0; }, 0.0,
        ln_n_max, 1e-9);
    // The search variable is s = ln(ln N − ln N_min): the total cost is infinite at N_min (the target
    // needs unbounded tokens there) and grows like N far above it, and the heavier the inference
    // demand the closer above N_min the optimum lies (N/N_min − 1 falls about as T^(−β/(1+β)) under
    // E + A/N^α + B/D^β: 1.05 at 1e17 inference tokens for an 81M-parameter target). A grid even in
    // ln N (121 points over 12 decades: its first point 1.26·N_min) put such optima at its edge.
    // ln N − ln N_min from 1e-9 to 12 decades.
    auto ln_n_at = [&](double s) { return ln_n_min + std::exp(s); };
    auto total = [&](double s) {
      const double n = std::exp(ln_n_at(s));
      return training(n, tokens_for(n)) + serving(n);
    };
    search::Minimum m = search::minimize(total, std::log(1e-9), std::log(std::log(1e12)), 241);
    // The total in the count the question uses: it said 6·N·D + 2·N·inference_tokens also where the
    // budget counts attention (flops = { "palm", ctx = T }), which is not what overflowed.
    const std::string total_text =
        per_token.six_n() ? std::string("6·N·D + 2·N·inference_tokens")
                          : str("(6N + ", per_token.kind == FlopsPerToken::Kind::Kaplan ? "6" : "12", "·L·T·d)·D + (2N + ",
                                per_token.kind == FlopsPerToken::Kind::Kaplan ? "2" : "4",
                                "·L·T·d)·inference_tokens ", counted_as(per_token));
    // Named by its input: inference_tokens = 1e300 ended here as "found no interior optimum ...", no
    // word of which input took the search off its range.
    if (!std::isfinite(m.f) || m.at_edge) {
      const bool small_edge = std::isfinite(m.f) && m.x < 0.5 * (std::log(1e-9) + std::log(std::log(1e12)));
      fail(function, ": found no interior optimum of training + inference compute for loss ", format_number(target, 5),
           " at inference_tokens = ", format_count(T), ": ",
           !std::isfinite(m.f) ? "the total " + total_text + " overflows at every model size"
           : small_edge ? "inference outweighs training so far that the optimum is the smallest model that reaches the loss at all"
                        : "the optimum lies beyond 1e12 times the smallest model that reaches the loss",
           "; give fewer inference_tokens (a model's lifetime is rarely above 1e16 tokens), or a target loss further "
           "above the law's floor");
    }
    const double N = std::exp(ln_n_at(m.x)), D = tokens_for(N);
    Answer ans;
    set_allocation(ans, training(N, D), N, D, target);
    // Beside "inference FLOP" and "total FLOP", the training compute is named so: it printed as "FLOP".
    ans.set("flops", training(N, D), Unit::Flops, "training FLOP");
    set_counted(ans, per_token, N, D);
    ans.set("inference_tokens", T, Unit::Tokens, "inference tokens");
    ans.set("inference_flops", serving(N), Unit::Flops, "inference FLOP");
    ans.set("total_flops", training(N, D) + serving(N), Unit::Flops, "total FLOP");
    if (given(U)) set_data(ans, law, N, D, U);
    // The compute-optimal run reaching the same loss, in the same count.
    const double c_ref = given(options.compute) && given(options.loss) == false
                             ? options.compute
                             : invert_optimal_loss(law, target, U, function, kMinCompute, per_token);
    Allocation ref = allocate(law, c_ref, U, fit::kMissing, Method::Auto, 241, function, false, per_token);
    const double total_ref = training(ref.N, ref.D) + serving(ref.N);
    ans.set("N_compute_optimal", ref.N, Unit::Params, "params, compute-optimal");
    ans.set("D_compute_optimal", ref.D, Unit::Tokens, "tokens, compute-optimal");
    ans.set("total_flops_compute_optimal", total_ref, Unit::Flops, "total FLOP, compute-optimal");
    // A saving within the searches' tolerance is none (with no inference the two allocations are one).
    const double saving = 1.0 - (training(N, D) + serving(N)) / total_ref;
    ans.set("saving", std::fabs(saving) < 1e-8 ? 0.0 : saving, Unit::Fraction, "saving");
    return ans;
  });
  out.question = describe(options);
  out.law = law_label(fitted);
  note_kaplan_joint(fitted.law, out);
  note_kaplan_overfitting(&fitted.law, nullptr, out);
  out.method = per_token.six_n()
                   ? "min 6·N·D_train + 2·N·D_inference s.t. L(N, D_train) = target (Sardana et al. 2023)"
                   : "min M(N)·D_train + M(N)/3·D_inference s.t. L(N, D_train) = target (Sardana et al. 2023, "
                     "FLOP per token M(N) with attention, the forward pass a third of it)";
  note_counted(out, per_token, fitted);  // its training compute, as every answer about a budget says
  note_small_models(out);
  return out;
}

Answer compare(const fit::FittedLaw& fitted, const CompareOptions& options) {
  options.Validate();
  const std::string function = "plan.compare";
  require_loss_law(fitted, function);
  const double C = options.compute, U = options.unique_tokens;
  if (given(U)) require_data_law(fitted.law, function, "unique_tokens = " + format_count(U));
  const FlopsPerToken& per_token = options.flops;
  for (const auto& c : options.candidates) {
    if (c.rule) c.rule->Validate();
    // A rule's N_opt(C) is for budgets of 6·N·D, as plan.optimal refuses it in another count.
    if (c.rule)
      refuse_rule_count(per_token, function, "candidate '" + c.name + "' is the allocation rule '" + c.rule->name +
                        "', which", " would be read as a larger one: give the candidate as { N = ..., D = ... } instead");
  }
  // How the law reads each rule's N (refused before any work where it cannot: Kaplan's rule without
  // its models' shape under a law of all parameters).
  std::vector<RuleParams> reads;
  for (const auto& c : options.candidates)
    reads.push_back(c.rule ? rule_params(*c.rule, fitted, function,
                                         "candidate '" + c.name + "' is the rule '" + c.rule->name + "', which")
                           : RuleParams{});
  // A candidate's N and D at the budget: a rule's (whose separately fitted N and D laws may spend
  // other than C; N as the law counts it, the run the rule picks at the budget that spends C so:
  // rule_budget), or N with its D, or with D = C/M(N) (C/(6N) unless the budget counts attention).
  // `draw` (from 0) picks a bootstrap sample of each rule that has them (rule_sample_at); -1, the rule itself.
  auto budget_of = [&](size_t k, long draw = -1) {
    const AllocationRule& rule = *options.candidates[k].rule;
    return rule_budget(reads[k], C, rule_N_of(rule, draw), function);
  };
  auto allocation_of = [&](size_t k, long draw = -1) -> std::pair<double, double> {
    const Candidate& c = options.candidates[k];
    if (c.rule) {
      const double budget = budget_of(k, draw);
      const auto [N, D] = draw < 0 ? std::make_pair(c.rule->N_at(budget), c.rule->D_at(budget))
                                   : rule_sample_at(*c.rule, draw, budget);
      return {reads[k](N), D};
    }
    return {c.N, given(c.D) ? c.D : C / per_token.at(c.N)};
  };
  auto solve = [&](const Law& law, long draw) {
    Allocation best = allocate(law, C, U, fit::kMissing, Method::Auto, 241, function, false, per_token);
    Answer ans;
    set_allocation(ans, C, best.N, best.D, best.loss);
    set_counted(ans, per_token, best.N, best.D);
    auto row = [&](double N, double D) {
      Answer r;
      const double l = predict(law, N, D, U);
      const double spent = D * per_token.at(N);  // the run's compute, counted as the budget is
      set_allocation(r, spent, N, D, l);
      set_counted(r, per_token, N, D);
      r.set("loss_gap", l - best.loss, Unit::Plain, "Δloss");
      // The compute the law's optimum needs to reach this loss, as a fraction of this run's compute:
      // the budget for the optimum itself, more than the budget for a run below its loss (one that
      // spends more than the budget can get there).
      // A loss the optimum already reaches below the search's least compute counts as 0 compute (a
      // run so far off the optimum that its efficiency is nil); one it never reaches, as ∞. Neither
      // is left out of the intervals, as compute_for's unreachable samples are not.
      double equivalent = C;
      if (l != best.loss) {
        if (!(optimal_loss(law, kMinCompute, U, function, per_token) > l))
          equivalent = 0;
        else if (!(optimal_loss(law, kMaxCompute, U, function, per_token) < l))
          equivalent = std::numeric_limits<double>::infinity();
        else
          equivalent = invert_optimal_loss(law, l, U, function, kMinCompute, per_token);
      }
      r.set("compute_equivalent", equivalent, Unit::Flops, "optimum needs");
      r.set("efficiency", equivalent / spent, Unit::Fraction, "efficiency");
      return r;
    };
    ans.rows.push_back(row(best.N, best.D));
    for (size_t k = 0; k < options.candidates.size(); ++k) {
      const auto [N, D] = allocation_of(k, draw);
      ans.rows.push_back(row(N, D));
    }
    return ans;
  };
  // The law's samples give the intervals of its optimum and of the candidates of fixed N and D. A
  // rule's row is a run whose N and D vary over the rule's own samples too: its loss, Δloss,
  // equivalent compute and efficiency come from draws that pair the law's sample i with the rule's
  // sample i (each cycled where they have fewer: the two bootstraps are independent), as many as
  // the larger of the two has. They came from the law's samples alone, at the rule's point N and D:
  // a bootstrapped IsoFLOP rule's loss interval left out the rule's own uncertainty.
  Answer point = solve(fitted.law, -1);
  check_model_size(point, function, false);
  note_fit_limits(fitted, point);
  Answer out = point;
  const size_t law_draws = fitted.samples.size();
  size_t rule_draws = 0;
  for (const auto& c : options.candidates)
    if (c.rule) rule_draws = std::max(rule_draws, rule_sample_count(*c.rule));
  if (rule_draws < 2) rule_draws = 0;  // no interval from fewer than two samples
  const size_t draws = std::max(law_draws, rule_draws);
  if (draws > 0) {
    std::vector<Answer> by_law, joint;
    int failed = 0;
    for (size_t i = 0; i < draws; ++i) {
      check_interrupt();
      try {
        Answer a = solve(law_draws > 0 ? fitted.sample(i % law_draws) : fitted.law, rule_draws > 0 ? static_cast<long>(i) : -1);
        if (i < law_draws) by_law.push_back(a);
        joint.push_back(std::move(a));
      } catch (const Error&) {
        // This draw (the law's sample, or the rule's run) has no answer: left out of the intervals it
        // entered, the law's optimum's and the rule rows' (joint), and counted whichever part of the
        // draws it is. A failed draw past the law's samples (the rule has more) was not counted, while
        // the rule rows' intervals were over fewer draws than the answer said.
        ++failed;
      }
    }
    if (law_draws > 0) {
      collect(point, by_law, out);
      out.samples = static_cast<int>(law_draws);
    }
    out.samples_failed = failed;
    for (size_t k = 0; k < options.candidates.size(); ++k) {
      if (!options.candidates[k].rule || rule_sample_count(*options.candidates[k].rule) < 2) continue;
      std::vector<Answer> rows;
      for (const Answer& a : joint) rows.push_back(a.rows[k + 1]);
      for (auto& q : out.rows[k + 1].quantities) q.interval = fit::Interval{};
      collect(point.rows[k + 1], rows, out.rows[k + 1]);
    }
  }
  // A rule's N and D (and so its tokens per parameter) vary over its own bootstrap samples, not the
  // law's: their intervals come from the rule's, as plan.optimal with the rule gives them.
  for (size_t k = 0; k < options.candidates.size(); ++k)
    if (options.candidates[k].rule)
      out.samples = std::max(out.samples, set_rule_intervals(*options.candidates[k].rule, C, out.rows[k + 1], "flops", &reads[k]));
  out.row_label = "allocation";
  out.row_names.push_back("law's optimum");
  for (const auto& c : options.candidates) out.row_names.push_back(c.name);
  for (size_t k = 0; k < options.candidates.size(); ++k) {
    const Candidate& c = options.candidates[k];
    const auto [N, D] = allocation_of(k);
    const double spent = D * per_token.at(N);
    if (std::fabs(spent / C - 1) > 0.02)
      out.notes.push_back(str("'", c.name, "' uses ", flops_text(spent), per_token.six_n() ? " (6·N·D)" : " (D·M(N), counted as the budget is)",
                              ", not the budget ", flops_text(C)));
    if (c.rule) {
      const double budget = budget_of(k);
      note_rule_params(reads[k], fitted, c.rule->N_at(budget), out, c.name);
      if (reads[k].converts()) {
        // The budget C_R at which the rule picks the run, its N counted its own way, and C, what the run
        // spends as the law counts N. Where the embeddings are a small share of N the two print alike,
        // and "picks it at 1.00e21 FLOP ..., which is 1.00e21 FLOP as law ... counts N" said nothing:
        // then how far apart they are.
        const bool to_all = reads[k].convert == RuleParams::Convert::ToAll;
        const std::string as_law = str("law '", fitted.law.name(), "' counts N (", to_all ? "with" : "without",
                                       " its models' embeddings)");
        const double apart = budget / C - 1;
        out.notes.push_back(str("'", c.name, "': the rule's run at the budget: the rule '", c.rule->name, "' picks it at ",
                                flops_text(budget), " counted with its own N (6·N·D, N ",
                                to_all ? "non-embedding" : "all parameters", ")",
                                flops_text(budget) != flops_text(C)
                                    ? str(", which is ", flops_text(C), " as ", as_law)
                                : apart == 0 ? str(", the budget itself, as ", as_law)
                                             : str(": ", format_quantity(std::fabs(apart), Unit::Fraction),
                                                   apart < 0 ? " less" : " more", " than the budget, which the run spends as ",
                                                   as_law)));
      }
    }
    // A rule read far outside the compute it was fitted on, as plan.optimal with the rule says.
    if (c.rule && c.rule->span_C.valid()) {
      const std::string part = beyond_span("compute", C, c.rule->span_C, Unit::Flops);
      if (!part.empty())
        out.notes.push_back(str("'", c.name, "' reads the rule '", c.rule->name, "' beyond the ", c.rule->span_of,
                                " fitted: ", part));
    }
  }
  out.notes.push_back("efficiency: the compute the law's optimum needs for the same loss, over the run's compute");
  note_small_models(out);
  out.method = "each candidate's loss under the law, against the law's optimum";
  out.question = "allocations compared at " + flops_text(C) + (given(U) ? " with " + unique_text(U) : "") +
                 (per_token.six_n() ? "" : ", counted as " + per_token.Describe());
  note_counted(out, per_token, fitted);
  out.convention += read_convention(fitted, reads);
  out.law = law_label(fitted);
  note_kaplan_joint(fitted.law, out);
  note_kaplan_overfitting(&fitted.law, nullptr, out, Optima::FirstRow);
  // A candidate that is a rule of non-embedding N (Kaplan's) below Kaplan et al.'s overfitting bound
  // says so, as plan.optimal and plan.table with the rule do (compare said nothing of it): the bound
  // is of the rule's own N, not of the N its models have with their embeddings.
  for (size_t k = 0; k < options.candidates.size(); ++k) {
    const Candidate& c = options.candidates[k];
    if (!c.rule || !c.rule->non_embedding || fitted.law.kind() == LawKind::KaplanND) continue;
    Answer own;
    const double budget = budget_of(k);
    set_allocation(own, budget, c.rule->N_at(budget), c.rule->D_at(budget), fit::kMissing);
    note_kaplan_overfitting(nullptr, &*c.rule, own);
    for (const auto& n : own.notes) out.notes.push_back("'" + c.name + "': " + n);
  }
  return out;
}

namespace {
// A table's rows are compute-optimal runs, refused as plan.optimal refuses one below one parameter or
// one token (params = { 1 } under Chinchilla's law: 0.519 tokens), naming the entry.
void check_table_rows(Answer& table, const std::vector<double>& params, const std::string& function) {
  for (size_t i = 0; i < table.rows.size() && i < params.size(); ++i)
    check_model_size(table.rows[i], function, false,
                     str("params[", i + 1, "] = ", format_number(params[i], 6)),
                     "give larger model sizes (plan.optimal refuses such a run too)", kModelTooSmall);
}
}  // namespace

Answer table(const fit::FittedLaw& fitted, const TableOptions& options) {
  options.Validate();
  const std::string function = "plan.table";
  require_loss_law(fitted, function);
  const FlopsPerToken& per_token = options.flops;
  // The closed form is C = 6·N·D's; in a count with attention each row's budget is searched.
  const bool closed = closed_form_applies(fitted.law) && per_token.six_n();
  Answer out = with_intervals(fitted, [&](const Law& law) {
    Answer ans;
    for (double N : options.params) {
      double C;
      if (closed) {
        fit::Allocation a = fit::compute_optimal(law);
        C = 6.0 * std::pow(N / a.G, 1.0 / a.a);
        check_budget_of(C, function, "a compute-optimal run of " + format_count(N) + " parameters under law '" + law.name() + "'");
      } else {
        C = compute_of_optimum(law, N, false, function, per_token);
      }
      const double D = C / per_token.at(N);
      Answer r;
      r.set("N", N, Unit::Params, "params");
      r.set("flops", C, Unit::Flops, "FLOPs");
      r.set("D", D, Unit::TokensFine, "tokens");
      r.set("tokens_per_param", D / N, Unit::Ratio, "tokens/param");
      r.set("loss", predict(law, N, D, fit::kMissing), Unit::Loss, "loss");
      set_counted(r, per_token, N, D);
      ans.rows.push_back(r);
    }
    return ans;
  }, [&](Answer& point) { check_table_rows(point, options.params, function); });
  out.question = "compute-optimal FLOPs and tokens per model size" +
                 (per_token.six_n() ? "" : ", counted as " + per_token.Describe());
  out.law = law_label(fitted);
  note_kaplan_joint(fitted.law, out);
  note_kaplan_overfitting(&fitted.law, nullptr, out, Optima::All);
  out.method = closed ? "closed form" : "numeric";
  note_counted(out, per_token, fitted);
  note_small_models(out);
  return out;
}

Answer table(const AllocationRule& rule, const TableOptions& options, const fit::FittedLaw* law) {
  options.Validate();
  rule.Validate();
  refuse_rule_count(options.flops, "plan.table", "the allocation rule '" + rule.name + "'",
                    " needs more than the rule's budget for the same model. Ask a loss law instead (plan.table{ params = "
                    "..., law = ..., flops = ... }), or leave flops out for the rule's budgets as 6·N·D");
  if (law) require_loss_law(*law, "plan.table");
  // The law's N for each row's (the rule's models with their embeddings, for Kaplan's rule and a law
  // of all parameters); the rows' N stay the sizes asked, in the rule's count.
  const RuleParams read = law ? rule_params(rule, *law, "plan.table", "the rule '" + rule.name + "'")
                              : RuleParams{&rule};
  auto rows_of = [&](const AllocationRule& r, bool with_loss) {
    Answer ans;
    for (double N : options.params) {
      const double C = r.flops_for_params(N), D = r.D_at(C);
      Answer row;
      row.set("N", N, Unit::Params, "params");
      row.set("flops", C, Unit::Flops, "FLOPs");
      row.set("D", D, Unit::TokensFine, "tokens");
      row.set("tokens_per_param", D / N, Unit::Ratio, "tokens/param");
      if (law && with_loss) row.set("loss", predict(law->law, read(N), D, fit::kMissing), Unit::Loss, "loss");
      ans.rows.push_back(row);
    }
    return ans;
  };
  Answer out = rows_of(rule, true);
  check_table_rows(out, options.params, "plan.table");
  if (law) note_fit_limits(*law, out);  // as plan.optimal with a rule and a law: its loss column is the law's
  if (law && read.converts()) {
    // Said once, of the table's sizes: each row's N is read as N + (vocab + ctx)·d (or as the N whose
    // N + (vocab + ctx)·d it is, for a rule of all parameters and a law of non-embedding N).
    const bool to_all = read.convert == RuleParams::Convert::ToAll;
    std::string parts;
    for (double N : options.params)
      parts += (parts.empty() ? "" : ", ") + format_quantity(N, Unit::Params) + " as " + format_quantity(read(N), Unit::Params);
    out.notes.push_back(str("law '", law->law.name(), "' counts ", to_all ? "all" : "non-embedding", " parameters: the ",
                            to_all ? "non-embedding " : "", "sizes of rule '", rule.name, to_all ? "' are read with" :
                            "' (all parameters) are read without", " the embeddings (", format_number(rule.vocab, 6),
                            " + ", format_number(rule.ctx, 6), ")·d of its models (d the width at d/L = ",
                            format_number(rule.aspect, 4), "): ", parts));
    const std::string source = shape_source_text(rule);
    if (!source.empty()) out.notes.push_back(source);
  }
  // Intervals of the FLOPs and tokens from the rule's bootstrap samples: each resample's N law
  // inverted at N, its D law (paired by index when the D law has as many samples, else the point D
  // law, else D = C/(6N)) read at that compute.
  const auto& n_samples = rule.N_law.samples;
  std::vector<Answer> samples;  // the rows of each of the rule's samples
  if (!n_samples.empty()) {
    const bool paired = rule.D_law && rule.D_law->samples.size() == n_samples.size();
    for (size_t i = 0; i < n_samples.size(); ++i) {
      AllocationRule s;
      s.N_law.law = rule.N_law.sample(i);
      if (rule.D_law) {
        s.D_law = fit::FittedLaw{};
        s.D_law->law = paired ? rule.D_law->sample(i) : rule.D_law->law;
      }
      samples.push_back(rows_of(s, false));
    }
    const Answer point = out;
    collect(point, samples, out);
    out.samples = static_cast<int>(n_samples.size());
  }
  // Intervals of the loss from the law's and the rule's bootstrap samples together, as plan.optimal
  // with a rule and a law gives its loss's: draw i is the law's sample i (the law itself where it has
  // none) at the row's N and the D of the rule's sample i (each cycled where it has fewer). It was the
  // law's samples at the rule's point D alone.
  const size_t law_draws = law ? law->samples.size() : 0, rule_draws = samples.size() >= 2 ? samples.size() : 0;
  if (law && std::max(law_draws, rule_draws) >= 2) {
    for (size_t r = 0; r < out.rows.size(); ++r) {
      Answer& row = out.rows[r];
      std::vector<double> losses;
      for (size_t i = 0; i < std::max(law_draws, rule_draws); ++i) {
        const double D = rule_draws > 0 ? samples[i % rule_draws].rows[r].value("D") : row.value("D");
        losses.push_back(predict(law_draws > 0 ? law->sample(i % law_draws) : law->law, read(row.value("N")), D, fit::kMissing));
      }
      for (auto& q : row.quantities)
        if (q.name == "loss") q.interval = fit::percentile_interval(losses);
    }
    out.samples = std::max(out.samples, static_cast<int>(law_draws));
  }
  out.question = "compute-optimal FLOPs and tokens per model size";
  out.law = "allocation rule " + rule.name + (law ? "; loss from " + law_label(*law) : "");
  out.method = "power laws";
  out.convention = rule_convention(rule, read);
  note_small_models(out);
  note_rule_extrapolation(rule, out);
  note_no_bootstrap(rule.N_law, "the rule '" + rule.name + "'", out);
  note_kaplan_overfitting(law ? &law->law : nullptr, &rule, out);
  return out;
}

Answer returns(const fit::FittedLaw& fitted, const ReturnsOptions& options) {
  options.Validate();
  const std::string function = "plan.returns";
  require_loss_law(fitted, function);
  const double U = options.unique_tokens;
  require_data_law(fitted.law, function, "unique_tokens = " + format_count(U));
  const FlopsPerToken& per_token = options.flops;
  // The budgets come from the point law so that every sample answers the same rows.
  std::vector<double> budgets = options.compute;
  double one_epoch = fit::kMissing;
  {
    const Law& law = fitted.law;
    if (closed_form_applies(law) && per_token.six_n()) {
      fit::Allocation a = fit::compute_optimal(law);
      one_epoch = 6.0 * std::pow(U * a.G, 1.0 / a.b);
    } else {
      one_epoch = compute_of_optimum(law, U, true, function, per_token);
    }
    if (budgets.empty()) {
      check_budget_of(one_epoch * 1024, function, "the default return curve for unique_tokens = " + format_count(U) +
                      " (from the compute whose optimum sees them once to 1024 times it; give compute = { ... } instead)");
      for (int k = 0; k <= 10; ++k) budgets.push_back(one_epoch * std::pow(2.0, k));
    }
    std::sort(budgets.begin(), budgets.end());
  }
  Answer out = with_intervals(fitted, [&](const Law& law) {
    Answer ans;
    ans.set("unique_tokens", U, Unit::Tokens, "unique tokens");
    // "one epoch at the optimum  1.91e20" named no unit: FLOP, as the other labels name theirs.
    ans.set("one_epoch_flops", one_epoch, Unit::Flops, "FLOP, one epoch at the optimum");
    double prev_c = 0, prev_eff = 0;
    for (double C : budgets) {
      Allocation a = allocate(law, C, U, fit::kMissing, Method::Auto, 241, function, false, per_token);
      Allocation free = allocate(law, C, fit::kMissing, fit::kMissing, Method::Auto, 241, function, false, per_token);
      Answer r;
      r.set("flops", C, Unit::Flops, "FLOP");
      r.set("N", a.N, Unit::Params, "params");
      r.set("D", a.D, Unit::Tokens, "tokens");
      r.set("epochs", a.D / U, Unit::Epochs, "epochs");
      r.set("loss", a.loss, Unit::Loss, "loss");
      r.set("loss_unlimited", free.loss, Unit::Loss, "loss, unlimited data");
      set_limit_cost(r, a.loss, free, U);
      double effective = C;
      if (a.loss > free.loss * (1 + 1e-12)) {
        try {
          // Searched down to the smallest run there is, as the rows' own budgets may be (100 unique
          // tokens are seen once at 3.06e3 FLOP under datablations' law): from compute_for's 1e4 FLOP,
          // a loss reached below it had no effective FLOP.
          effective = invert_optimal_loss(law, a.loss, fit::kMissing, function, kSmallestRun, per_token);
        } catch (const Error&) {
          effective = fit::kMissing;
        }
      }
      r.set("effective_flops", effective, Unit::Flops, "effective FLOP");
      r.set("return", effective / C, Unit::Fraction, "return");
      if (prev_c > 0 && given(effective))
        r.set("marginal_return", (effective - prev_eff) / (C - prev_c), Unit::Fraction, "marginal return");
      set_counted(r, per_token, a.N, a.D);
      prev_c = C;
      prev_eff = effective;
      ans.rows.push_back(r);
    }
    return ans;
  }, [&](Answer& point) {
    // Each row is a compute-optimal run, refused as plan.optimal refuses one below one parameter or token.
    for (Answer& row : point.rows)
      check_model_size(row, function, false, "",
                       options.compute.empty() ? "give more unique_tokens (the default budgets start where the optimum "
                                                 "sees them once), or budgets as compute = { ... }"
                                               : "give larger budgets in compute");
  });
  out.question = describe(options);
  out.law = law_label(fitted);
  note_kaplan_joint(fitted.law, out);
  note_kaplan_overfitting(&fitted.law, nullptr, out, Optima::All);
  out.method = "numeric data-constrained optimum per budget";
  note_counted(out, per_token, fitted);
  note_small_models(out);
  out.notes.push_back("return: the compute that unlimited unique data would need for the same loss, over the compute spent");
  // Said of the column where there is one: a single budget (compute = { 1e22 }) has no row above it.
  if (std::any_of(out.rows.begin(), out.rows.end(), [](const Answer& r) { return r.has("marginal_return"); }))
    out.notes.push_back("marginal return: the effective FLOP gained since the row above, over the FLOP spent since it");
  return out;
}

void Question::check_rule_counts(const std::string& law_name, const std::string& N_counts) const {
  if (N_counts != "all" && N_counts != "non_embedding")
    fail("question:check_rule_counts: the law's N counts \"all\" or \"non_embedding\" (got \"", N_counts, "\")");
  const bool non_embedding = N_counts == "non_embedding";
  // The function and subject each answer names (plan::optimal, plan::table, plan::compare).
  if (rule_ && (kind_ == Kind::Optimal || kind_ == Kind::Table)) {
    const std::string function = kind_ == Kind::Optimal ? "plan.optimal" : "plan.table";
    rule_params(*rule_, law_name, non_embedding, function, "the rule '" + rule_->name + "'");
  }
  if (kind_ == Kind::Compare)
    for (const Candidate& c : compare_.candidates)
      if (c.rule)
        rule_params(*c.rule, law_name, non_embedding, "plan.compare",
                    "candidate '" + c.name + "' is the rule '" + c.rule->name + "', which");
}

}  // namespace scalelab::plan
