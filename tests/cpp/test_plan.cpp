// The planner against closed forms, published numbers (REFERENCE.md) and monotonicity.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <cstdio>
#include <functional>
#include <random>
#include <string>

#include "core/error.h"
#include "core/units.h"
#include "fit/law.h"
#include "plan/cost.h"
#include "plan/plan.h"
#include "plan/search.h"

using namespace scalelab;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

fit::FittedLaw wrap(const fit::Law& law) {
  fit::FittedLaw f;
  f.law = law;
  return f;
}

plan::OptimalOptions at(double compute, double unique_tokens = fit::kMissing) {
  plan::OptimalOptions o;
  o.compute = compute;
  o.unique_tokens = unique_tokens;
  return o;
}

// Muennighoff et al.'s law by hand (REFERENCE.md), in plain doubles: G = (αA/(βB))^(1/(α+β)),
// N_opt(D) = (D·G)^(β/α)·G, U_D = min(U, D), D' = U_D + U_D·R_D*·(1 − e^(−R_D/R_D*)) with
// R_D = D/U_D − 1, U_N = min(N, N_opt(U_D)), N' likewise with R_N = N/U_N − 1.
struct DataConstrainedByHand {
  double E, A, B, alpha, beta, R_D, R_N;
  double G() const { return std::pow(alpha * A / (beta * B), 1 / (alpha + beta)); }
  double N_opt(double D) const { return std::pow(D * G(), beta / alpha) * G(); }
  double D_eff(double D, double U) const {
    const double u = std::min(U, D), r = D / u - 1;
    return u + u * R_D * (1 - std::exp(-r / R_D));
  }
  double N_eff(double N, double D, double U) const {
    const double u = std::min(N, N_opt(std::min(U, D))), r = N / u - 1;
    return u + u * R_N * (1 - std::exp(-r / R_N));
  }
  double loss(double N, double D, double U) const {
    return E + A / std::pow(N_eff(N, D, U), alpha) + B / std::pow(D_eff(D, U), beta);
  }
  // The lowest loss U unique tokens allow: D' → U(1 + R_D*), N' → N_opt(U)(1 + R_N*).
  double floor(double U) const {
    return E + A / std::pow(N_opt(U) * (1 + R_N), alpha) + B / std::pow(U * (1 + R_D), beta);
  }
  fit::Law law() const { return fit::Law::Make(fit::LawKind::DataConstrained, {E, A, B, alpha, beta, R_D, R_N}); }
};

// Rounds like the printed table: FLOPs to 3 significant digits, tokens to one decimal in B or T.
std::string flops3(double c) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2e", c);
  return buffer;
}

// The q-th quantile of v as numpy's default: linear between order statistics at q·(n − 1).
double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t i = size_t(pos);
  return v[i] + (pos - double(i)) * (v[i + 1] - v[i]);
}

// A 95% interval is the 2.5th to the 97.5th percentile of the values, by hand.
void check_95(const fit::Interval& interval, const std::vector<double>& values) {
  REQUIRE(interval.valid());
  CHECK(interval.lo == Approx(quantile(values, 0.025)).epsilon(1e-9));
  CHECK(interval.hi == Approx(quantile(values, 0.975)).epsilon(1e-9));
}

// Runs of `law` on IsoFLOP lines: at each budget 9 sizes, half an octave apart around its
// compute-optimal N; each loss exact, or times factor() (noise) when given.
fit::Observations isoflop_runs(const fit::Law& law, const std::vector<double>& budgets,
                               const std::function<double()>& factor = {}) {
  const fit::Allocation truth = fit::compute_optimal(law);
  fit::Observations obs;
  for (double C : budgets)
    for (int i = -4; i <= 4; ++i) {
      fit::Observation o;
      o.N = truth.N_opt(C) * std::pow(2.0, i * 0.5);
      o.D = C / (6 * o.N);
      o.C = C;
      fit::Point p;
      p.N = o.N;
      p.D = o.D;
      o.loss = law.predict(p) * (factor ? factor() : 1.0);
      obs.Add(o);
    }
  return obs;
}

// The answer's note that starts with `prefix`, or "" when there is none.
std::string note_starting(const plan::Answer& a, const std::string& prefix) {
  for (const auto& n : a.notes)
    if (n.rfind(prefix, 0) == 0) return n;
  return std::string();
}

// Chinchilla's law with 100 samples of its parameters, alpha and beta each times 1 + N(0, 0.01):
// stand-ins for bootstrap samples.
fit::FittedLaw chinchilla_with_samples(unsigned seed) {
  fit::FittedLaw law = wrap(fit::published::chinchilla());
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 0.01);
  for (int i = 0; i < 100; ++i) {
    std::vector<double> v = law.law.values();
    v[3] *= 1 + noise(rng);  // alpha
    v[4] *= 1 + noise(rng);  // beta
    law.samples.push_back(v);
  }
  return law;
}

// Nine runs of Chinchilla's law (exact losses), N 10M..100M, D 100M..10B (C = 6·N·D spans
// 6e15..6e18), and the chinchilla form fitted to them.
fit::FittedLaw fitted_to_nine_runs() {
  fit::Law truth = fit::published::chinchilla();
  fit::Observations obs;
  for (double n : {1e7, 3e7, 1e8})
    for (double d : {1e8, 1e9, 1e10}) {
      fit::Observation o;
      o.N = n;
      o.D = d;
      fit::Point p;
      p.N = n;
      p.D = d;
      o.loss = truth.predict(p);
      obs.Add(o);
    }
  return fit::fit_law(fit::Law::Make(fit::LawKind::Chinchilla), obs);
}

// Runs of REFERENCE.md's published data-constrained law (by hand), 100M..1B parameters on 1B and 10B
// unique tokens repeated 1 to 16 times (18 runs), and R_D*, R_N* fitted to them with the base law held.
fit::FittedLaw fitted_to_repeated_runs() {
  const DataConstrainedByHand hand{std::exp(0.6254804), std::exp(6.255414), std::exp(7.3049974), 0.3526596, 0.3526596,
                                   15.387756, 5.309743};
  fit::Observations obs;
  for (double n : {1e8, 3e8, 1e9})
    for (double u : {1e9, 1e10})
      for (double e : {1.0, 4.0, 16.0}) {
        fit::Observation o;
        o.N = n;
        o.D = e * u;
        o.U = u;
        o.loss = hand.loss(n, e * u, u);
        obs.Add(o);
      }
  fit::FitOptions options;
  options.free = {"R_D", "R_N"};
  options.covariance = false;
  return fit::fit_law(hand.law(), obs, options);
}

}  // namespace

TEST_CASE("closed form and numeric optimum agree for Chinchilla laws") {
  for (const fit::Law& law : {fit::published::chinchilla(), fit::published::epoch(), fit::published::chinchilla_unrounded()}) {
    for (double c : {1e18, 1e21, 5.76e23, 1e26}) {
      plan::OptimalOptions o = at(c);
      plan::Answer closed = plan::optimal(wrap(law), o);
      o.method = plan::OptimalOptions::Method::Numeric;
      plan::Answer numeric = plan::optimal(wrap(law), o);
      CHECK(closed.method == "closed form");
      CHECK(numeric.method == "numeric");
      CHECK(numeric.value("N") == Approx(closed.value("N")).epsilon(1e-6));
      CHECK(numeric.value("D") == Approx(closed.value("D")).epsilon(1e-6));
      CHECK(numeric.value("loss") == Approx(closed.value("loss")).epsilon(1e-12));
      CHECK(6 * closed.value("N") * closed.value("D") == Approx(c).epsilon(1e-12));
    }
  }
}

TEST_CASE("the closed form is REFERENCE.md's formula") {
  // N_opt = G (C/6)^a, a = beta/(alpha+beta), G = (alpha A / (beta B))^(1/(alpha+beta)).
  const double A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28, C = 5.76e23;
  const double G = std::pow(alpha * A / (beta * B), 1 / (alpha + beta));
  const double N = G * std::pow(C / 6, beta / (alpha + beta));
  plan::Answer a = plan::optimal(wrap(fit::published::chinchilla()), at(C));
  CHECK(a.value("N") == Approx(N).epsilon(1e-12));
  CHECK(a.value("N") == Approx(32.19e9).epsilon(1e-3));  // approach 3 picks ~32B at Gopher's budget
  CHECK(a.value("tokens_per_param") == Approx(a.value("D") / a.value("N")));
}

TEST_CASE("numeric allocation for Kaplan's joint law matches its stationarity condition") {
  // L = [(Nc/N)^(aN/aD) + Dc/D]^aD with D = C/(6N): minimum where (aN/aD)(Nc/N)^(aN/aD) = 6 Dc N / C.
  fit::Law law = fit::published::kaplan();
  const double Nc = law.param("N_c"), Dc = law.param("D_c"), aN = law.param("alpha_N"), aD = law.param("alpha_D");
  for (double C : {1e19, 1e22, 1e25}) {
    plan::Answer a = plan::optimal(wrap(law), at(C));
    const double N = a.value("N");
    const double lhs = (aN / aD) * std::pow(Nc / N, aN / aD), rhs = 6 * Dc * N / C;
    CHECK(lhs == Approx(rhs).epsilon(1e-6));
    CHECK(a.method == "numeric");
  }
}

TEST_CASE("data-constrained checks of Muennighoff et al.") {
  fit::FittedLaw exact = wrap(plan::published::datablations_exact());
  plan::LossOptions l;
  l.N = 6.34e9;
  l.D = 242e9;
  l.unique_tokens = 25e9;
  CHECK(plan::loss(exact, l).value("loss") == Approx(2.2256440889984477).epsilon(1e-9));
  // fit.published.datablations is the same law (the datablations README's unrounded constants).
  CHECK(plan::loss(wrap(fit::published::datablations()), l).value("loss") == Approx(2.2256440889984477).epsilon(1e-12));
  // The constants as the paper prints them (A 520.8, B 1487.7, E 1.869, alpha = beta = 0.3527, R_D* 15.39,
  // R_N* 5.31) move it by 5e-4, to 2.22514 (by hand, REFERENCE.md's formulas in double precision).
  const fit::FittedLaw rounded =
      wrap(fit::Law::Make(fit::LawKind::DataConstrained, {1.869, 520.8, 1487.7, 0.3527, 0.3527, 15.39, 5.31}));
  CHECK(plan::loss(rounded, l).value("loss") == Approx(2.225135978).epsilon(1e-9));

  plan::Answer a = plan::optimal(exact, at(1e22, 25e9));
  CHECK(a.value("N") == Approx(7.03e9).epsilon(0.005));
  CHECK(a.value("D") == Approx(237e9).epsilon(0.005));
  CHECK(a.value("epochs") == Approx(9.5).margin(0.05));
  CHECK(a.Brief() == "7.03B params, 237B tokens (9.49 epochs), loss 2.2221, 1.00e22 FLOP");
  CHECK(a.value("loss") < a.value("loss_unlimited") + 0.05);
  CHECK(a.value("loss") > a.value("loss_unlimited"));
  // Against a dense scan of ln N: the optimum is global.
  double best = 1e9;
  for (int i = 0; i <= 20000; ++i) {
    const double n = std::exp(std::log(1e8) + (std::log(1e12) - std::log(1e8)) * i / 20000.0);
    l.N = n;
    l.D = 1e22 / (6 * n);
    best = std::min(best, plan::loss(exact, l).value("loss"));
  }
  CHECK(a.value("loss") <= best + 1e-9);
  // The rounded law agrees with the published optimum to its precision (by a dense scan of ln N:
  // 7.027B parameters on 237.17B tokens, 9.487 epochs, loss 2.22162).
  plan::Answer r = plan::optimal(rounded, at(1e22, 25e9));
  CHECK(r.value("N") == Approx(7.027e9).epsilon(1e-3));
  CHECK(r.value("epochs") == Approx(9.487).epsilon(1e-3));
  CHECK(r.value("loss") == Approx(2.221623).epsilon(1e-6));
}

TEST_CASE("plan.loss's effective N and D are REFERENCE.md's, with U_D = min(U, D) for a run that sees fewer tokens than U") {
  // alpha != beta: the published law ties them, which hides N_opt's exponent beta/alpha.
  const DataConstrainedByHand hand{1.5, 400, 1200, 0.3, 0.4, 10, 3};
  // N = 5e9 is an excess of parameters for 1e8 unique tokens, not for 1e9.
  REQUIRE(hand.N_opt(1e8) < 1e9);
  REQUIRE(hand.N_opt(1e9) > 5e9);
  struct {
    double N, D, U;
  } runs[] = {{5e9, 4e9, 1e8}, {2e8, 4e9, 1e8}, {5e9, 1e8, 1e9}};
  for (auto run : runs) {
    INFO("N " << run.N << ", D " << run.D << ", U " << run.U);
    plan::LossOptions l;
    l.N = run.N;
    l.D = run.D;
    l.unique_tokens = run.U;
    plan::Answer a = plan::loss(wrap(hand.law()), l);
    CHECK(a.value("effective_D") == Approx(hand.D_eff(run.D, run.U)).epsilon(1e-12));
    CHECK(a.value("effective_N") == Approx(hand.N_eff(run.N, run.D, run.U)).epsilon(1e-12));
    CHECK(a.value("epochs") == Approx(run.D / run.U).epsilon(1e-12));
    CHECK(a.value("loss") == Approx(hand.loss(run.N, run.D, run.U)).epsilon(1e-12));
  }
  // Without unique_tokens (fresh data, U = D) the law still discounts parameters beyond N_opt(D):
  // the answer shows N' and says why its loss is above the base law's. Within N_opt(D), nothing.
  plan::LossOptions fresh;
  fresh.N = 5e9;
  fresh.D = 1e8;
  REQUIRE(hand.N_opt(fresh.D) < fresh.N);
  plan::Answer a = plan::loss(wrap(hand.law()), fresh);
  CHECK(a.value("effective_N") == Approx(hand.N_eff(fresh.N, fresh.D, fresh.D)).epsilon(1e-12));
  CHECK(a.value("loss") == Approx(hand.loss(fresh.N, fresh.D, fresh.D)).epsilon(1e-12));
  CHECK(std::count_if(a.notes.begin(), a.notes.end(), [](const std::string& n) {
          return n.find("on fresh data (no unique_tokens given, U = D) the law counts the parameters beyond N_opt(D)") == 0;
        }) == 1);
  fresh.N = 0.5 * hand.N_opt(fresh.D);
  const plan::Answer within = plan::loss(wrap(hand.law()), fresh);
  CHECK(within.value("effective_N") == Approx(fresh.N).epsilon(1e-12));  // there in every answer: a.effective_N works
  CHECK(within.notes.empty());
}

TEST_CASE("the loss floor of limited unique data is the law's limit, and compute_for and inference name it") {
  // REFERENCE.md's published law (alpha = beta) and one with alpha != beta, at U = 25B tokens.
  const DataConstrainedByHand laws[] = {
      {std::exp(0.6254804), std::exp(6.255414), std::exp(7.3049974), 0.3526596, 0.3526596, 15.387756, 5.309743},
      {1.5, 400, 1200, 0.3, 0.4, 10, 3}};
  const double U = 25e9;
  for (const auto& hand : laws) {
    const double floor = hand.floor(U);
    INFO("alpha " << hand.alpha << ", beta " << hand.beta << ": floor " << floor);
    // The law itself, repeating U a million times with a million times N_opt(U) parameters.
    plan::LossOptions far;
    far.N = 1e6 * hand.N_opt(U);
    far.D = 1e6 * U;
    far.unique_tokens = U;
    CHECK(plan::loss(wrap(hand.law()), far).value("loss") == Approx(floor).epsilon(1e-9));
    plan::ComputeForOptions below;
    below.loss = floor - 1e-3;
    below.unique_tokens = U;
    CHECK_THROWS_WITH(plan::compute_for(wrap(hand.law()), below),
                      Contains("the law cannot go below loss " + format_significant(floor, 5)));
    // The inference-aware allocation of the same target names the same floor and the same fix.
    plan::InferenceOptions inference;
    inference.loss = below.loss;
    inference.unique_tokens = U;
    inference.inference_tokens = 1e12;
    CHECK_THROWS_WITH(plan::inference(wrap(hand.law()), inference),
                      Contains("the law cannot go below loss " + format_significant(floor, 5)) &&
                          Contains("needs more unique data"));
  }
  // A target just above E that no model within the search reaches: said with how far it looked and
  // what the law gives there. Chinchilla's law needs (A/1e-4)^(1/alpha), about 2.7e19 parameters, for 1.6901.
  plan::InferenceOptions near_e;
  near_e.loss = 1.6901;
  near_e.inference_tokens = 1e12;
  CHECK_THROWS_WITH(plan::inference(wrap(fit::published::chinchilla()), near_e),
                    Contains("loss target 1.6901 is not reached by any model of up to 1e18 parameters on up to 1e32 tokens "
                             "(the law predicts 1.69") &&
                        Contains("choose a target further above the law's irreducible loss E = 1.69"));
}

TEST_CASE("data-constrained: an optimum at the loss floor of the unique tokens says N is not determined there") {
  // REFERENCE.md's published law by hand. With 1e22 FLOP on 100M (or 1B) unique tokens, D' and N'
  // have both saturated (D' → U(1 + R_D*), N' → N_opt(U)(1 + R_N*)): the loss is the floor for a
  // wide range of N, so the N given is arbitrary and most of the budget buys nothing.
  const DataConstrainedByHand hand{std::exp(0.6254804), std::exp(6.255414), std::exp(7.3049974), 0.3526596, 0.3526596,
                                   15.387756, 5.309743};
  auto has = [](const plan::Answer& a, const std::string& text) {
    return std::any_of(a.notes.begin(), a.notes.end(), [&](const std::string& n) { return n.find(text) != std::string::npos; });
  };
  struct {
    double U, N_lo, N_hi;  // N from N_lo to N_hi all within 1e-6 of the floor (by hand)
  } flat[] = {{1e8, 1e9, 3e10}, {1e9, 4e9, 8e9}};
  for (auto f : flat) {
    const double U = f.U;
    INFO("U " << U << ", floor " << hand.floor(U));
    CHECK(hand.loss(f.N_lo, 1e22 / 6 / f.N_lo, U) - hand.floor(U) < 1e-6 * hand.floor(U));
    CHECK(hand.loss(f.N_hi, 1e22 / 6 / f.N_hi, U) - hand.floor(U) < 1e-6 * hand.floor(U));
    const plan::Answer a = plan::optimal(wrap(hand.law()), at(1e22, U));
    CHECK(a.value("loss") == Approx(hand.floor(U)).epsilon(1e-9));
    CHECK(has(a, "is the floor of " + format_count(U) + " unique tokens"));
    CHECK(has(a, format_significant(hand.floor(U), 5)));
    CHECK(!has(a, "local optima"));  // a flat loss, not several optima
  }
  // The floor in the note as the answer's loss row prints it: "the loss 12.0666 is the floor of 1M
  // unique tokens" under Muennighoff et al.'s law (loss row 12.0666), where it said 12.067.
  const plan::Answer million = plan::optimal(wrap(plan::published::datablations_exact()), at(1e22, 1e6));
  const std::string row = plan::format_quantity(million.value("loss"), plan::Unit::Loss);
  CHECK(row == "12.0666");
  CHECK(has(million, "the loss " + row + " is the floor of 1M unique tokens"));
  CHECK(format_significant(hand.floor(1e8), 5) == "3.879");
  // 25B unique tokens at 1e22 FLOP: a determined optimum (7.0B parameters), well above the floor.
  const plan::Answer determined = plan::optimal(wrap(hand.law()), at(1e22, 25e9));
  CHECK(determined.value("loss") > hand.floor(25e9) + 0.05);
  CHECK(!has(determined, "floor"));
}

TEST_CASE("a data-constrained answer at more epochs than its law's runs repeated says how far") {
  // Runs of REFERENCE.md's published law (by hand), 100M..1B parameters on 1B and 10B unique tokens
  // repeated 1 to 16 times; R_D*, R_N* fitted with the base law held. 1e22 FLOP on 1B unique tokens
  // wants 305 epochs (by hand), 19× the most the runs saw; 25B unique tokens 9.49 epochs, inside.
  fit::FittedLaw fitted = fitted_to_repeated_runs();
  REQUIRE(fitted.span_epochs.valid());
  CHECK(fitted.span_epochs.lo == 1);
  CHECK(fitted.span_epochs.hi == 16);
  const plan::Answer far = plan::optimal(fitted, at(1e22, 1e9));
  CHECK(far.value("epochs") == Approx(305).epsilon(0.01));
  CHECK_THAT(note_starting(far, "beyond the 18 runs fitted: "), Contains("epochs 19× the largest (16)"));
  const plan::Answer inside = plan::optimal(fitted, at(1e22, 25e9));
  CHECK(inside.value("epochs") == Approx(9.49).epsilon(0.01));
  CHECK_THAT(note_starting(inside, "beyond the 18 runs fitted: "), !Contains("epochs"));
  // Fewer epochs than the runs (one epoch of more unique tokens than needed) is no extrapolation.
  CHECK_THAT(note_starting(plan::optimal(fitted, at(1e19, 1e15)), "beyond"), !Contains("epochs"));
  // Nor of U: the answer sees its 1e15 unique tokens at most once, and they do not constrain it.
  CHECK_THAT(note_starting(plan::optimal(fitted, at(1e19, 1e15)), "beyond"), !Contains("unique tokens"));
  // Unique tokens far below the runs' (1B and 10B), repeated: the law's repetition terms read at a U no
  // run had, which the note left out (1e7 unique tokens, 1/100 of the smallest, said nothing of U).
  REQUIRE(fitted.span_U.valid());
  CHECK(fitted.span_U.lo == 1e9);
  CHECK(fitted.span_U.hi == 1e10);
  const plan::Answer few = plan::optimal(fitted, at(1e20, 1e7));
  REQUIRE(few.value("epochs") > 1);
  CHECK_THAT(note_starting(few, "beyond the 18 runs fitted: "), Contains("unique tokens 1/100 of the smallest (1B)"));
  CHECK_THAT(note_starting(far, "beyond the 18 runs fitted: "), !Contains("unique tokens"));  // 1B: a run's U
  CHECK_THAT(note_starting(inside, "beyond the 18 runs fitted: "), Contains("unique tokens 2.5× the largest (10B)"));
}

TEST_CASE("data-constrained: robust to several local optima") {
  // A custom law with two basins along the iso-FLOP line: the grid + Brent search finds the deeper one.
  fit::Law law = fit::Law::Custom(
      "two_basins", {{"E", "floor", false, {}}}, {fit::Input::N, fit::Input::D, fit::Input::U},
      [](const std::vector<double>& v, const fit::Point& x) {
        const double t = std::log(x.N);
        return v[0] + 0.3 * std::pow(std::sin(t), 2) + 0.01 * std::pow(t - 22.0, 2) + 0 * x.U;
      },
      "E + 0.3 sin²(ln N) + 0.01 (ln N - 22)²", true);
  plan::Answer a = plan::optimal(wrap(law), at(1e21, 1e9));
  const double t = std::log(a.value("N"));
  CHECK(std::fabs(std::sin(t)) < 0.05);  // at a zero of the sine, the basin nearest ln N = 22
  CHECK(std::fabs(t - 22.0) < 2.0);
  CHECK(!a.notes.empty());
  CHECK_THAT(a.notes[0], Contains("local optima"));
}

TEST_CASE("fixed epochs and the return curve") {
  fit::FittedLaw exact = wrap(plan::published::datablations_exact());
  plan::OptimalOptions o = at(1e22);
  o.epochs = 4;
  plan::Answer four = plan::optimal(exact, o);
  CHECK(four.value("epochs") == Approx(4));
  CHECK(four.value("unique_tokens") == Approx(four.value("D") / 4));
  o.epochs = 1;
  plan::Answer one = plan::optimal(exact, o);
  // One epoch is the unconstrained optimum.
  CHECK(one.value("loss") == Approx(one.value("loss_unlimited")).epsilon(1e-6));
  CHECK(four.value("loss") >= one.value("loss") - 1e-9);

  plan::ReturnsOptions r;
  r.unique_tokens = 25e9;
  plan::Answer curve = plan::returns(exact, r);
  REQUIRE(curve.rows.size() == 11);
  CHECK(curve.rows[0].value("epochs") == Approx(1).epsilon(0.02));
  CHECK(curve.rows[0].value("return") == Approx(1).epsilon(1e-3));
  for (size_t i = 1; i < curve.rows.size(); ++i) {
    CHECK(curve.rows[i].value("loss") < curve.rows[i - 1].value("loss"));          // more compute still helps
    CHECK(curve.rows[i].value("return") <= curve.rows[i - 1].value("return") + 1e-9);  // ... less and less
    CHECK(curve.rows[i].value("epochs") > curve.rows[i - 1].value("epochs"));
  }
  // Up to ~4 epochs repeated data is almost as good as new; past ~16 it is worth little.
  for (const auto& row : curve.rows) {
    if (row.value("epochs") <= 4) CHECK(row.value("return") > 0.85);
    if (row.value("epochs") >= 15) CHECK(row.value("marginal_return") < 0.3);
  }
  plan::LossOptions l;
  l.N = 1e9;
  l.unique_tokens = 10e9;
  l.D = 4 * l.unique_tokens;
  CHECK(plan::loss(exact, l).value("effective_D") / l.D > 0.9);
  l.D = 40 * l.unique_tokens;
  CHECK(plan::loss(exact, l).value("effective_D") / l.D < 0.4);
}

TEST_CASE("monotonicity") {
  fit::FittedLaw chin = wrap(fit::published::chinchilla());
  fit::FittedLaw data = wrap(plan::published::datablations_exact());
  double prev_n = 0, prev_d = 0;
  for (double c : {1e19, 1e20, 1e21, 1e22, 1e23, 1e24}) {
    plan::Answer a = plan::optimal(chin, at(c));
    CHECK(a.value("N") > prev_n);
    CHECK(a.value("D") > prev_d);
    prev_n = a.value("N"), prev_d = a.value("D");
  }
  prev_n = 0, prev_d = 0;
  for (double c : {1e20, 1e21, 1e22, 1e23}) {
    plan::Answer a = plan::optimal(data, at(c, 25e9));
    CHECK(a.value("N") > prev_n);
    CHECK(a.value("D") > prev_d);
    prev_n = a.value("N"), prev_d = a.value("D");
  }
  // Fewer unique tokens: more epochs.
  double prev_epochs = 0;
  for (double u : {400e9, 100e9, 25e9, 5e9, 1e9}) {
    plan::Answer a = plan::optimal(data, at(1e22, u));
    CHECK(a.value("epochs") > prev_epochs);
    prev_epochs = a.value("epochs");
  }
  // More inference demand: a smaller model trained longer.
  double prev = 1e30;
  for (double t : {0.0, 1e11, 1e12, 1e13, 1e14}) {
    plan::InferenceOptions o;
    o.compute = 1e23;
    o.inference_tokens = t;
    plan::Answer a = plan::inference(chin, o);
    CHECK(a.value("N") < prev);
    prev = a.value("N");
  }
}

TEST_CASE("inference-aware allocation") {
  fit::FittedLaw chin = wrap(fit::published::chinchilla());
  plan::InferenceOptions o;
  o.compute = 1e23;
  o.inference_tokens = 0;
  plan::Answer none = plan::inference(chin, o);
  plan::Answer opt = plan::optimal(chin, at(1e23));
  // Without inference the answer is the compute-optimal run.
  CHECK(none.value("N") == Approx(opt.value("N")).epsilon(1e-4));
  CHECK(none.value("saving") == Approx(0).margin(1e-8));
  o.inference_tokens = 5e12;
  plan::Answer heavy = plan::inference(chin, o);
  CHECK(heavy.value("loss") == Approx(opt.value("loss")).epsilon(1e-9));
  CHECK(heavy.value("saving") > 0.05);
  CHECK(heavy.value("total_flops") < heavy.value("total_flops_compute_optimal"));
  // The loss constraint holds.
  plan::LossOptions l;
  l.N = heavy.value("N");
  l.D = heavy.value("D");
  CHECK(plan::loss(chin, l).value("loss") == Approx(heavy.value("loss")).epsilon(1e-9));
  // Independent check: along the constraint D(N) = (B / (l − E − A/N^α))^(1/β) (closed form), the
  // total 6·N·D(N) + 2·N·T is larger on either side of the planner's N.
  const double E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28, target = heavy.value("loss"), T = 5e12;
  auto total = [&](double n) {
    const double d = std::pow(B / (target - E - A / std::pow(n, alpha)), 1 / beta);
    return 6 * n * d + 2 * n * T;
  };
  const double n_star = heavy.value("N");
  CHECK(total(n_star) == Approx(heavy.value("total_flops")).epsilon(1e-6));
  for (double f : {1.01, 1.1, 1.5}) {
    CHECK(total(n_star * f) > total(n_star));
    CHECK(total(n_star / f) > total(n_star));
  }
  // Inference costs 2·N FLOP per token, and the saving is against the compute-optimal run at 1e23
  // (the closed form's N_opt = G·(C/6)^a, REFERENCE.md), whose total is 1e23 + 2·N_opt·T.
  CHECK(heavy.value("inference_flops") == Approx(2 * n_star * T).epsilon(1e-12));
  const double G = std::pow(alpha * A / (beta * B), 1 / (alpha + beta));
  const double n_ref = G * std::pow(1e23 / 6, beta / (alpha + beta)), total_ref = 1e23 + 2 * n_ref * T;
  CHECK(heavy.value("N_compute_optimal") == Approx(n_ref).epsilon(1e-6));
  CHECK(heavy.value("total_flops_compute_optimal") == Approx(total_ref).epsilon(1e-6));
  CHECK(heavy.value("saving") == Approx(1 - total(n_star) / total_ref).epsilon(1e-6));
  o.loss = heavy.value("loss");
  o.compute = fit::kMissing;
  plan::Answer by_loss = plan::inference(chin, o);
  CHECK(by_loss.value("N") == Approx(heavy.value("N")).epsilon(1e-4));
}

TEST_CASE("with no inference demand the inference-aware answer is the compute-optimal run under every kind of law") {
  // Kaplan's joint law (numeric) and the data-constrained law with 25B unique tokens at 1e22 FLOP
  // (REFERENCE.md's 7.0B on 237B tokens), beside Chinchilla's of the test above.
  struct Case {
    fit::Law law;
    double compute, unique_tokens;
  } cases[] = {{fit::published::kaplan(), 1e22, fit::kMissing},
               {plan::published::datablations_exact(), 1e22, 25e9},
               {fit::published::epoch(), 5.76e23, fit::kMissing}};
  for (const auto& c : cases) {
    INFO(c.law.name());
    plan::InferenceOptions o;
    o.compute = c.compute;
    o.unique_tokens = c.unique_tokens;
    o.inference_tokens = 0;
    const plan::Answer none = plan::inference(wrap(c.law), o);
    const plan::Answer opt = plan::optimal(wrap(c.law), at(c.compute, c.unique_tokens));
    CHECK(none.value("N") == Approx(opt.value("N")).epsilon(1e-4));
    CHECK(none.value("D") == Approx(opt.value("D")).epsilon(1e-4));
    CHECK(none.value("flops") == Approx(c.compute).epsilon(1e-6));
    CHECK(none.value("saving") == Approx(0).margin(1e-8));
    CHECK(none.value("N_compute_optimal") == Approx(opt.value("N")).epsilon(1e-6));
  }
}

TEST_CASE("inference-aware allocation under heavy inference demand: the optimum close above the least model that reaches the target") {
  // Chinchilla's law, the target the loss of the compute-optimal run at 1e18 FLOP (81M parameters on
  // 2B tokens). The least model that reaches it with unlimited tokens is N_min = (A/(l − E))^(1/α),
  // 7.78M; the more inference tokens T, the closer above it the optimum (by hand, along the
  // constraint D(N) = (B/(l − E − A/N^α))^(1/β): 1.15·N_min at T = 1e15, 1.088 at 1e16, 1.052 at 1e17).
  const double E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28;
  fit::FittedLaw chin = wrap(fit::published::chinchilla());
  plan::InferenceOptions o;
  o.compute = 1e18;
  for (const auto& [T, ratio] : {std::pair{1e15, 1.1502}, std::pair{1e16, 1.0881}, std::pair{1e17, 1.0523}}) {
    o.inference_tokens = T;
    const plan::Answer a = plan::inference(chin, o);
    const double target = a.value("loss"), n_min = std::pow(A / (target - E), 1 / alpha);
    CHECK(n_min == Approx(7.7776e6).epsilon(1e-4));
    CHECK(a.value("N") / n_min == Approx(ratio).epsilon(2e-4));
    auto total = [&](double n) { return 6 * n * std::pow(B / (target - E - A / std::pow(n, alpha)), 1 / beta) + 2 * n * T; };
    CHECK(a.value("total_flops") == Approx(total(a.value("N"))).epsilon(1e-6));
    for (double f : {1.001, 1.01}) {
      CHECK(total(a.value("N") * f) > a.value("total_flops"));
      CHECK(total(a.value("N") / f) > a.value("total_flops"));
    }
  }
}

TEST_CASE("compute_for inverts the optimal loss") {
  fit::FittedLaw chin = wrap(fit::published::chinchilla());
  plan::Answer opt = plan::optimal(chin, at(3e22));
  plan::ComputeForOptions o;
  o.loss = opt.value("loss");
  plan::Answer back = plan::compute_for(chin, o);
  CHECK(back.value("flops") == Approx(3e22).epsilon(1e-6));
  CHECK(back.value("N") == Approx(opt.value("N")).epsilon(1e-5));

  fit::FittedLaw data = wrap(plan::published::datablations_exact());
  plan::Answer dc = plan::optimal(data, at(1e22, 25e9));
  o.loss = dc.value("loss");
  o.unique_tokens = 25e9;
  CHECK(plan::compute_for(data, o).value("flops") == Approx(1e22).epsilon(1e-5));
}

TEST_CASE("Chinchilla's approach-1 table to its printed precision") {
  plan::AllocationRule rule = plan::published::chinchilla_approach1();
  struct Row {
    double params;
    const char* flops;
    const char* tokens;
  };
  const Row rows[] = {{400e6, "1.92e19", "8.0B"},   {1e9, "1.21e20", "20.2B"},   {10e9, "1.23e22", "205.1B"},
                      {175e9, "3.85e24", "3.7T"},  {280e9, "9.90e24", "5.9T"},  {520e9, "3.43e25", "11.0T"},
                      {1e12, "1.27e26", "21.2T"},  {10e12, "1.30e28", "216.2T"}};
  plan::TableOptions o;
  for (const Row& r : rows) o.params.push_back(r.params);
  plan::Answer t = plan::table(rule, o);
  REQUIRE(t.rows.size() == std::size(rows));
  for (size_t i = 0; i < std::size(rows); ++i) {
    CHECK(plan::format_quantity(t.rows[i].value("flops"), plan::Unit::Flops) == rows[i].flops);
    CHECK(flops3(t.rows[i].value("flops")).substr(0, 4) == std::string(rows[i].flops).substr(0, 4));
    CHECK(plan::format_quantity(t.rows[i].value("D"), plan::Unit::TokensFine) == rows[i].tokens);
  }
  // Gopher's budget: the rule picks ~68B on 1.4T (REFERENCE: "70B on 1.4T").
  plan::Answer g = plan::optimal(rule, at(5.76e23));
  CHECK(g.value("N") == Approx(67.9e9).epsilon(0.005));
  CHECK(g.value("D") == Approx(1.41e12).epsilon(0.005));
  CHECK_THAT(t.Summary(), Contains("205.1B"));
  CHECK_THAT(t.Summary(), Contains("1.92e19"));
}

TEST_CASE("comparison at Gopher's budget") {
  plan::CompareOptions o;
  o.compute = 5.76e23;
  o.candidates.push_back({"Gopher", 280e9, 300e9, std::nullopt});
  o.candidates.push_back({"Chinchilla approach 1", fit::kMissing, fit::kMissing, plan::published::chinchilla_approach1()});
  o.candidates.push_back({"Kaplan C^0.73", fit::kMissing, fit::kMissing, plan::published::kaplan().with_shape(50257, 1024, 64, "test")});
  plan::Answer a = plan::compare(wrap(fit::published::chinchilla()), o);
  REQUIRE(a.rows.size() == 4);
  CHECK(a.rows[0].value("loss_gap") == Approx(0).margin(1e-12));
  CHECK(a.rows[0].value("efficiency") == Approx(1));
  const plan::Answer& gopher = a.rows[1];
  CHECK(gopher.value("loss") == Approx(1.9933).epsilon(1e-4));
  CHECK(gopher.value("loss_gap") > 0.05);
  CHECK(gopher.value("efficiency") < 0.5);  // the law's optimum reaches Gopher's loss with under half the compute
  // Under E + A/N^α + B/D^β the optimal loss is L*(C) = E + K·(C/6)^(−γ), γ = αβ/(α+β),
  // K = A·G^(−α) + B·G^β (N_opt = G·(C/6)^a, D_opt = (C/6)^b/G, REFERENCE.md): the optimum reaches a
  // loss L with C*(L) = 6·((L − E)/K)^(−1/γ), and a run's efficiency is C* of its loss over its own
  // compute 6·N·D (Gopher's 280B on 300B tokens: 5.04e23, not the budget).
  const double E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28;
  const double G = std::pow(alpha * A / (beta * B), 1 / (alpha + beta)), gamma = alpha * beta / (alpha + beta);
  const double K = A * std::pow(G, -alpha) + B * std::pow(G, beta);
  const double gopher_loss = E + A / std::pow(280e9, alpha) + B / std::pow(300e9, beta);
  const double equivalent = 6 * std::pow((gopher_loss - E) / K, -1 / gamma);
  CHECK(a.rows[0].value("loss") == Approx(E + K * std::pow(5.76e23 / 6, -gamma)).epsilon(1e-9));
  CHECK(gopher.value("loss") == Approx(gopher_loss).epsilon(1e-12));
  CHECK(gopher.value("compute_equivalent") == Approx(equivalent).epsilon(1e-6));
  CHECK(gopher.value("efficiency") == Approx(equivalent / (6 * 280e9 * 300e9)).epsilon(1e-6));
  CHECK(a.rows[2].value("N") == Approx(67.9e9).epsilon(0.005));
  CHECK(a.rows[2].value("loss") < gopher.value("loss"));
  const plan::Answer& kaplan = a.rows[3];
  CHECK(kaplan.value("N") > gopher.value("N"));  // Kaplan's rule: even larger at this budget
  CHECK(kaplan.value("loss_gap") > gopher.value("loss_gap"));
  CHECK_THAT(a.Summary(), Contains("Gopher"));
  // Gopher's 6·N·D (5.04e23) is 12.5% off the budget: said. A rule whose N and D laws were fitted
  // apart can spend other than the budget too: N = 0.1·C^0.5 and D = 2.5·C^0.5 spend 1.5·C.
  CHECK(std::count(a.notes.begin(), a.notes.end(), "'Gopher' uses 5.04e23 FLOP (6·N·D), not the budget 5.76e23 FLOP") == 1);
  plan::AllocationRule apart;
  apart.name = "apart";
  apart.N_law = wrap(fit::Law::PowerLaw(0.1, 0.5, fit::Input::C, "N_opt"));
  apart.D_law = wrap(fit::Law::PowerLaw(2.5, 0.5, fit::Input::C, "D_opt"));
  o.candidates = {{"apart", fit::kMissing, fit::kMissing, apart}};
  const plan::Answer b = plan::compare(wrap(fit::published::chinchilla()), o);
  CHECK(b.rows[1].value("flops") == Approx(1.5 * 5.76e23));
  CHECK(std::count(b.notes.begin(), b.notes.end(), "'apart' uses 8.64e23 FLOP (6·N·D), not the budget 5.76e23 FLOP") == 1);
}

// A candidate that spends more than the budget can reach a lower loss than the law's optimum at the
// budget; the compute the optimum needs for that loss is then more than the budget. The optimum of
// twice the budget (closed form, N = G·(2C/6)^a, D = (2C/6)^b/G) needs exactly its own 2C: it was
// credited the budget C, and so an efficiency of 0.5.
TEST_CASE("a candidate beyond the budget is credited the compute the optimum needs for its loss, not the budget") {
  const double A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28, C = 1e22;
  const double G = std::pow(alpha * A / (beta * B), 1 / (alpha + beta));
  plan::CompareOptions o;
  o.compute = C;
  o.candidates.push_back({"twice the budget", G * std::pow(2 * C / 6, beta / (alpha + beta)),
                          std::pow(2 * C / 6, alpha / (alpha + beta)) / G, std::nullopt});
  plan::Answer a = plan::compare(wrap(fit::published::chinchilla()), o);
  REQUIRE(a.rows.size() == 2);
  CHECK(a.rows[1].value("loss_gap") < 0);
  CHECK(a.rows[1].value("compute_equivalent") == Approx(2 * C).epsilon(1e-6));
  CHECK(a.rows[1].value("efficiency") == Approx(1).epsilon(1e-6));
  CHECK(a.rows[0].value("compute_equivalent") == C);
}

// A run so far off the optimum that the optimum reaches its loss with less than the search's least
// compute (1e4 FLOP) has efficiency 0; its compute equivalent was missing, and its bootstrap samples
// were left out of the intervals.
TEST_CASE("a candidate whose loss the optimum reaches with almost no compute has efficiency 0") {
  plan::CompareOptions o;
  o.compute = 1e22;
  o.candidates.push_back({"one parameter", 1, 1e22 / 6, std::nullopt});
  fit::FittedLaw law = wrap(fit::published::chinchilla());
  for (int i = 0; i < 20; ++i) {  // samples around the published law
    std::vector<double> v = law.law.values();
    v[1] *= 1 + 0.01 * (i - 10);  // A
    law.samples.push_back(v);
  }
  plan::Answer a = plan::compare(law, o);
  REQUIRE(a.rows.size() == 2);
  const plan::Answer& one = a.rows[1];
  CHECK(one.value("loss") > 400);
  CHECK(one.value("compute_equivalent") == 0);
  CHECK(one.value("efficiency") == 0);
  CHECK(a.rows[0].value("efficiency") == Approx(1));
  CHECK_THAT(a.Summary(), Contains("one parameter"));
  // The law's optimum, with its intervals, is printed once: as the table's first row, not also as a
  // block of quantities above it (the answer's own quantities stay, for a.value("N")).
  CHECK(a.quantity("N").interval.valid());
  CHECK(a.value("N") == a.rows[0].value("N"));
  CHECK_THAT(a.Summary(), !Contains("\n  params ") && Contains("\n  law's optimum "));
  CHECK_THAT(a.Markdown(), !Contains("| quantity |") && Contains("| law's optimum |"));
  // Where the block differs from the first row it stays (an optimal answer has no rows at all).
  CHECK_THAT(plan::optimal(law, at(1e22)).Summary(), Contains("\n  params "));
}

// A bootstrapped rule compared under a bootstrapped law: the rule's row is a run whose N and D vary
// over the rule's samples as well as the law's, and its loss, Δloss and efficiency intervals must
// cover both. They came from the law's samples at the rule's point N and D alone. Expected by hand:
// draw i pairs the law's sample i mod 100 with the rule's sample i (200 draws); the law's optimum at
// C in closed form, L*(C) = E + K·(C/6)^−γ with K = A·G^−α + B·G^β, γ = αβ/(α+β), so the compute the
// optimum needs for loss l is 6·((l − E)/K)^(−1/γ).
TEST_CASE("a bootstrapped allocation rule's samples widen the loss intervals of a comparison\, an optimum and a table with a law") {
  const fit::FittedLaw law = chinchilla_with_samples(5);  // 100 samples
  plan::AllocationRule rule = plan::published::chinchilla_approach1();
  const double C = 5.76e23;
  const double k = rule.N_law.law.values()[0], a = rule.N_law.law.values()[1];
  const double k_d = rule.D_law->law.values()[0], b = rule.D_law->law.values()[1];
  std::mt19937 rng(13);
  std::normal_distribution<double> noise(0, 0.2);  // the rule's N and D each uncertain by about 20%
  std::vector<double> losses, gaps, efficiencies, params, optimum_losses;
  for (int i = 0; i < 200; ++i) {
    const double ki = k * std::exp(noise(rng)), kdi = k_d * std::exp(noise(rng));
    rule.N_law.samples.push_back({ki, a});
    rule.D_law->samples.push_back({kdi, b});
    const double N = ki * std::pow(C, a), D = kdi * std::pow(C, b);
    const std::vector<double>& v = law.samples[i % 100];
    const double E = v[0], A = v[1], B = v[2], alpha = v[3], beta = v[4];
    const double G = std::pow(alpha * A / (beta * B), 1 / (alpha + beta)), gamma = alpha * beta / (alpha + beta);
    const double K = A * std::pow(G, -alpha) + B * std::pow(G, beta);
    const double best = E + K * std::pow(C / 6, -gamma), loss = E + A / std::pow(N, alpha) + B / std::pow(D, beta);
    losses.push_back(loss);
    gaps.push_back(loss - best);
    efficiencies.push_back(6 * std::pow((loss - E) / K, -1 / gamma) / (6 * N * D));
    params.push_back(N);
    if (i < 100) optimum_losses.push_back(best);
  }
  plan::CompareOptions o;
  o.compute = C;
  o.candidates.push_back({"Gopher", 280e9, 300e9, std::nullopt});
  o.candidates.push_back({"approach 1, bootstrapped", fit::kMissing, fit::kMissing, rule});
  const plan::Answer cmp = plan::compare(law, o);
  REQUIRE(cmp.rows.size() == 3);
  CHECK(cmp.samples == 200);
  const plan::Answer& row = cmp.rows[2];
  check_95(row.quantity("loss").interval, losses);
  check_95(row.quantity("loss_gap").interval, gaps);
  const fit::Interval eff = row.quantity("efficiency").interval;
  REQUIRE(eff.valid());
  CHECK(eff.lo == Approx(quantile(efficiencies, 0.025)).epsilon(1e-6));
  CHECK(eff.hi == Approx(quantile(efficiencies, 0.975)).epsilon(1e-6));
  check_95(row.quantity("N").interval, params);  // the rule's own, as before
  // The point row is the rule's own N and D under the point law; the law's optimum and the fixed
  // candidate keep the law's 100 samples.
  CHECK(row.value("N") == Approx(k * std::pow(C, a)).epsilon(1e-12));
  check_95(cmp.rows[0].quantity("loss").interval, optimum_losses);
  std::vector<double> gopher;
  for (const auto& v : law.samples) gopher.push_back(v[0] + v[1] / std::pow(280e9, v[3]) + v[2] / std::pow(300e9, v[4]));
  check_95(cmp.rows[1].quantity("loss").interval, gopher);
  // A rule without samples under a bootstrapped law: its row's loss interval is the law's at its N and D.
  o.candidates.back().rule = plan::published::chinchilla_approach1();
  const plan::Answer fixed = plan::compare(law, o);
  CHECK(fixed.samples == 100);
  std::vector<double> at_point;
  const double N0 = fixed.rows[2].value("N"), D0 = fixed.rows[2].value("D");
  for (const auto& v : law.samples) at_point.push_back(v[0] + v[1] / std::pow(N0, v[3]) + v[2] / std::pow(D0, v[4]));
  check_95(fixed.rows[2].quantity("loss").interval, at_point);
  // A bootstrapped rule under a law without samples: its row's loss interval is the rule's alone.
  o.candidates.back().rule = rule;
  const plan::Answer point_law = plan::compare(wrap(fit::published::chinchilla()), o);
  CHECK(point_law.samples == 200);
  CHECK_FALSE(point_law.rows[0].quantity("loss").interval.valid());
  CHECK_FALSE(point_law.rows[1].quantity("loss").interval.valid());
  std::vector<double> by_rule;
  for (const auto& n_sample : rule.N_law.samples) {
    const size_t i = &n_sample - rule.N_law.samples.data();
    const double N = n_sample[0] * std::pow(C, n_sample[1]), D = rule.D_law->samples[i][0] * std::pow(C, rule.D_law->samples[i][1]);
    by_rule.push_back(1.69 + 406.4 / std::pow(N, 0.34) + 410.7 / std::pow(D, 0.28));
  }
  check_95(point_law.rows[2].quantity("loss").interval, by_rule);
  // plan.optimal with the rule and the law draws the same pairs: the same loss interval as the row's.
  const plan::Answer opt = plan::optimal(rule, at(C), &law);
  check_95(opt.quantity("loss").interval, losses);
  CHECK(opt.samples == 200);
  // plan.table with the rule and the law: for 10B parameters draw i is the law's sample i mod 100 at
  // D_i = k'_i·C_i^b, C_i = (N/k_i)^(1/a) the compute at which the rule's sample i picks N.
  plan::TableOptions sizes;
  sizes.params = {10e9};
  const plan::Answer tab = plan::table(rule, sizes, &law);
  std::vector<double> table_losses;
  for (int i = 0; i < 200; ++i) {
    const double Ci = std::pow(10e9 / rule.N_law.samples[i][0], 1 / a), Di = rule.D_law->samples[i][0] * std::pow(Ci, b);
    const std::vector<double>& v = law.samples[i % 100];
    table_losses.push_back(v[0] + v[1] / std::pow(10e9, v[3]) + v[2] / std::pow(Di, v[4]));
  }
  check_95(tab.rows[0].quantity("loss").interval, table_losses);
  CHECK(tab.samples == 200);
}

// Kaplan's C^0.73 gives non-embedding parameters; Chinchilla's law reads N as all of them. Read as
// they are, the law's loss was that of a smaller model than the rule means, with only a note: now a
// law of all parameters refuses the rule without its models' shape, naming the fix, and with it
// reads N + (vocab + ctx)·d, d = (aspect·N/12)^(1/3). A law of Kaplan's own form, or a rule of all
// parameters, reads N as it is.
TEST_CASE("a rule of non-embedding parameters is read by a law of all parameters with its models' embeddings\, or refused") {
  const fit::FittedLaw chinchilla = wrap(fit::published::chinchilla());
  CHECK(plan::published::kaplan().non_embedding);
  CHECK_FALSE(plan::published::chinchilla_approach1().non_embedding);
  plan::CompareOptions o;
  o.compute = 1e22;
  o.candidates.push_back({"Kaplan", fit::kMissing, fit::kMissing, plan::published::kaplan()});
  o.candidates.push_back({"approach 1", fit::kMissing, fit::kMissing, plan::published::chinchilla_approach1()});
  const std::string fix = "Give the rule its models' shape, plan.published.kaplan:with{ vocab = 50257, ctx = 1024 }";
  CHECK_THROWS_WITH(plan::compare(chinchilla, o),
                    StartsWith("plan.compare: candidate 'Kaplan' is the rule 'kaplan', which counts non-embedding "
                               "parameters (Kaplan et al.'s N), and law 'chinchilla' all of them") && Contains(fix) &&
                        Contains("or ask with a law of non-embedding N (fit.published.kaplan"));
  CHECK_THROWS_WITH(plan::optimal(plan::published::kaplan(), at(1e22), &chinchilla),
                    StartsWith("plan.optimal: the rule 'kaplan' counts non-embedding parameters") && Contains(fix));
  plan::TableOptions t;
  t.params = {1e9};
  CHECK_THROWS_WITH(plan::table(plan::published::kaplan(), t, &chinchilla),
                    StartsWith("plan.table: the rule 'kaplan' counts non-embedding parameters") && Contains(fix));
  // Without a law, or with Kaplan's joint law, or a law fitted to non-embedding N, nothing is converted.
  CHECK_NOTHROW(plan::optimal(plan::published::kaplan(), at(1e22)));
  const fit::FittedLaw kaplan_nd = wrap(fit::published::kaplan());
  o.candidates.pop_back();
  const plan::Answer joint = plan::compare(kaplan_nd, o);
  CHECK(joint.rows[1].value("N") == Approx(plan::published::kaplan().N_at(1e22)).epsilon(1e-12));
  fit::FittedLaw counted = chinchilla;
  counted.N_counts = "non_embedding";
  CHECK(plan::compare(counted, o).rows[1].value("N") == Approx(plan::published::kaplan().N_at(1e22)).epsilon(1e-12));
  // With the shape: Kaplan's N_opt at 1e22 FLOP (1.3e9·(1e22/8.64e19)^0.73, non-embedding), its D =
  // C/(6N), and the law's loss at N + (V + T)·d. By hand (and with Python): N = 4.1715e10 non-embedding,
  // d = (64·N/12)^(1/3) = 6059.4, N_all = N + (50257 + 1024)·d = 4.2025e10.
  const plan::AllocationRule shaped = plan::published::kaplan().with_shape(50257, 1024, 64, "test");
  const double C = 1e22, N = 1.3e9 * std::pow(C / 8.64e19, 0.73), D = C / (6 * N);
  const double d = std::cbrt(64 * N / 12), N_all = N + (50257 + 1024) * d;
  REQUIRE(N == Approx(4.1715e10).epsilon(1e-4));
  REQUIRE(N_all == Approx(4.2025e10).epsilon(1e-4));
  REQUIRE(d == Approx(6059.4).epsilon(1e-4));
  auto chin = [](double n, double dd) { return 1.69 + 406.4 / std::pow(n, 0.34) + 410.7 / std::pow(dd, 0.28); };
  CHECK(chin(N_all, D) != Approx(chin(N, D)).epsilon(1e-9));  // the conversion moves the loss
  // plan.compare compares runs that spend the budget as the law counts it: the rule's run is the one
  // it picks at the budget C_R, counted with its own N, whose 6·N_all·D is C (C_R·N_all/N = C). It was
  // the run at C itself, which spends 6·N_all·D = 1.0074e22 here. Python (mpmath, bisection in log C_R):
  // C_R = 9.92579439861e21, N = 4.14884271778e10 non-embedding, 4.17985961745e10 with the embeddings
  // (d = 6048.42), D = C_R/(6N) = 3.98737474271e10.
  o.candidates = {{"Kaplan", fit::kMissing, fit::kMissing, shaped}};
  const plan::Answer cmp = plan::compare(chinchilla, o);
  CHECK(cmp.rows[1].value("N") == Approx(4.17985961745e10).epsilon(1e-10));
  CHECK(cmp.rows[1].value("D") == Approx(3.98737474271e10).epsilon(1e-10));
  CHECK(cmp.rows[1].value("loss") == Approx(chin(4.17985961745e10, 3.98737474271e10)).epsilon(1e-12));
  CHECK(cmp.rows[1].value("flops") == Approx(C).epsilon(1e-12));
  CHECK_THAT(note_starting(cmp, "'Kaplan': law 'chinchilla' counts all parameters"),
             Contains("the 41.5B non-embedding parameters of rule 'kaplan' are read as 41.8B, with the embeddings "
                      "(50257 + 1024)·d = 310M of its models (d = 6048 at d/L = 64)"));
  CHECK_THAT(note_starting(cmp, "'Kaplan': the rule's run at the budget"),
             Contains("the rule 'kaplan' picks it at 9.93e21 FLOP counted with its own N (6·N·D, N non-embedding), "
                      "which is 1.00e22 FLOP as law 'chinchilla' counts N (with its models' embeddings)"));
  // Below Kaplan et al.'s overfitting bound, as plan.optimal with the rule says, compare says so of
  // the candidate (it said nothing): at 1e21 FLOP the rule's run (at C_R = 9.77422657856e20) has
  // N = 7.6392e9 non-embedding on D = 2.1325e10 tokens, 0.21 of 5e3·N^0.74 = 1.0290e11 (Python).
  o.compute = 1e21;
  const plan::Answer low = plan::compare(chinchilla, o);
  CHECK_THAT(note_starting(low, "'Kaplan': below Kaplan et al.'s overfitting bound"),
             Contains("D = 21.3B tokens for N = 7.64B non-embedding parameters is 0.21× the bound (103B)"));
  CHECK(plan::optimal(shaped, at(1e21), &chinchilla).notes.size() >= 1);
  o.candidates.push_back({"approach 1", fit::kMissing, fit::kMissing, plan::published::chinchilla_approach1()});
  CHECK(note_starting(plan::compare(chinchilla, o), "'approach 1': below").empty());
  o.candidates.pop_back();
  o.compute = C;
  // plan.optimal with the rule and the law: the rule's own N (non-embedding, as its convention says),
  // the law's loss of its model.
  const plan::Answer opt = plan::optimal(shaped, at(C), &chinchilla);
  CHECK(opt.value("N") == Approx(N).epsilon(1e-12));
  CHECK(opt.value("loss") == Approx(chin(N_all, D)).epsilon(1e-12));
  CHECK_THAT(opt.convention, Contains("N non-embedding parameters"));
  CHECK_FALSE(note_starting(opt, "law 'chinchilla' counts all parameters: the 41.7B non-embedding parameters").empty());
  // plan.table: each size asked is non-embedding; its loss is the law's at its model's N.
  t.params = {1e6, 1e9};
  const plan::Answer tab = plan::table(shaped, t, &chinchilla);
  for (size_t i = 0; i < 2; ++i) {
    const double n = t.params[i], n_all = n + (50257 + 1024) * std::cbrt(64 * n / 12);
    CHECK(tab.rows[i].value("N") == n);
    CHECK(tab.rows[i].value("loss") == Approx(chin(n_all, tab.rows[i].value("D"))).epsilon(1e-12));
  }
  CHECK_THAT(note_starting(tab, "law 'chinchilla' counts all parameters: the non-embedding sizes of rule 'kaplan'"),
             Contains("1M as 9.96M, 1B as 1.09B"));
  // A smaller vocabulary and another aspect: 1M non-embedding parameters at vocab 256, ctx 256, d/L = 16
  // are 1M + 512·(16e6/12)^(1/3) = 1.0564M.
  const plan::AllocationRule small = plan::published::kaplan().with_shape(256, 256, 16, "test");
  CHECK(small.all_params(1e6) == Approx(1e6 + 512 * std::cbrt(16e6 / 12)).epsilon(1e-12));
  // The shape is checked, and only a rule of non-embedding N takes one.
  // A rule that does not say what its N counts takes none: no law converts its N.
  plan::AllocationRule own = plan::published::chinchilla_approach1();
  own.name = "own";
  own.N_law.N_counts = "";
  CHECK_THROWS_WITH(own.with_shape(50257, 1024, 64, "rule:with"),
                    StartsWith("rule:with: the rule 'own' does not say whether its N counts all parameters or "
                               "non-embedding ones"));
  CHECK_THROWS_WITH(plan::published::kaplan().with_shape(fit::kMissing, 1024, 64, "rule:with"),
                    StartsWith("rule:with: missing vocab (the models' vocabulary, e.g. vocab = 50257)"));
  CHECK_THROWS_WITH(plan::published::kaplan().with_shape(50257, -1, 64, "rule:with"),
                    StartsWith("rule:with: ctx must be a number of at least 0 (got -1)"));
  CHECK_THROWS_WITH(plan::published::kaplan().with_shape(0, 1024, 64, "rule:with"),
                    StartsWith("rule:with: vocab must be a number of at least 1 (got 0)"));
  // ctx = 0: models without learned positions (rotary or relative ones, as Chinchilla's) have no
  // position parameters, and were refused a shape: 1M + 256·(16e6/12)^(1/3) = 1.0282M.
  CHECK(plan::published::kaplan().with_shape(256, 0, 16, "test").all_params(1e6) ==
        Approx(1e6 + 256 * std::cbrt(16e6 / 12)).epsilon(1e-12));
  CHECK_THROWS_WITH(plan::published::kaplan().with_shape(50257, 1024, -1, "rule:with"),
                    StartsWith("rule:with: aspect must be a positive d_model / n_layer ratio (got -1)"));
}

// plan.compare's note on a converted rule's run says at which budget C_R the rule picks it, its N counted
// its own way, and that the run spends the budget C as the law counts N. Where the embeddings are a
// small share of N the two print alike, and the note read "picks it at 1.00e25 FLOP ..., which is
// 1.00e25 FLOP as law 'chinchilla' counts N": it now says how far apart they are. Python (mpmath,
// bisection in log C_R, as the tests above): Kaplan's rule with GPT-2's shape under Chinchilla's law at
// 1e25, C_R = 9.99741750434e24, 0.0258250% below C; Chinchilla's approach-1 rule (vocab 32000, ctx 2048,
// d/L = 64) under Kaplan's law at 1e25, C_R = 1.00138584989e25, 0.138585% above it. Where they print
// apart (1e22: 9.93e21 and 1.01e22) the note still names both.
TEST_CASE("compare's note on a converted rule's budget says how far it is from the budget where the two print alike") {
  const fit::FittedLaw chinchilla = wrap(fit::published::chinchilla());
  const fit::FittedLaw kaplan_nd = wrap(fit::published::kaplan());
  const plan::AllocationRule kaplan = plan::published::kaplan().with_shape(50257, 1024, 64, "test");
  const plan::AllocationRule approach1 = plan::published::chinchilla_approach1().with_shape(32000, 2048, 64, "test");
  plan::CompareOptions o;
  o.compute = 1e25;
  o.candidates = {{"Kaplan", fit::kMissing, fit::kMissing, kaplan}};
  const std::string kaplan_note = note_starting(plan::compare(chinchilla, o), "'Kaplan': the rule's run at the budget");
  CHECK(kaplan_note ==
        "'Kaplan': the rule's run at the budget: the rule 'kaplan' picks it at 1.00e25 FLOP counted with its own N "
        "(6·N·D, N non-embedding): 0.0258% less than the budget, which the run spends as law 'chinchilla' counts N (with "
        "its models' embeddings)");
  CHECK_THAT(kaplan_note, !Contains("which is 1.00e25"));
  o.candidates = {{"approach 1", fit::kMissing, fit::kMissing, approach1}};
  CHECK(note_starting(plan::compare(kaplan_nd, o), "'approach 1': the rule's run at the budget") ==
        "'approach 1': the rule's run at the budget: the rule 'chinchilla_approach1' picks it at 1.00e25 FLOP counted "
        "with its own N (6·N·D, N all parameters): 0.139% more than the budget, which the run spends as law 'kaplan' "
        "counts N (without its models' embeddings)");
  // Apart in print: both named, as before.
  o.compute = 1e22;
  CHECK_THAT(note_starting(plan::compare(kaplan_nd, o), "'approach 1': the rule's run at the budget"),
             Contains("picks it at 1.01e22 FLOP counted with its own N (6·N·D, N all parameters), which is 1.00e22 FLOP "
                      "as law 'kaplan' counts N (without its models' embeddings)"));
  o.candidates = {{"Kaplan", fit::kMissing, fit::kMissing, kaplan}};
  CHECK_THAT(note_starting(plan::compare(chinchilla, o), "'Kaplan': the rule's run at the budget"),
             Contains("picks it at 9.93e21 FLOP counted with its own N (6·N·D, N non-embedding), which is 1.00e22 FLOP"));
}

// The note on how the law reads a rule's N in its own count read "the 6.46T non-embedding parameters of
// rule 'kaplan' are read as 6.46T, with the embeddings ... = 1.67B" where the embeddings are a small
// share of N: it now says by how much the N differs there. Python (mpmath): Kaplan's rule with GPT-2's
// shape at C_R = 9.99741750434e24 (1e25 as Chinchilla's law counts N) has N = 6.459612e12 non-embedding,
// d = 32538.8, embeddings 51281·d = 1.66862e9, 0.0258316% of N. At 1e22 (41.5B read as 41.8B) both are
// named, as before; so are approach 1's 282B read as 281B under Kaplan's law at 1e25.
TEST_CASE("a rule's N read in the law's count says by how much it differs where the two print alike") {
  const fit::FittedLaw chinchilla = wrap(fit::published::chinchilla());
  const fit::FittedLaw kaplan_nd = wrap(fit::published::kaplan());
  plan::CompareOptions o;
  o.compute = 1e25;
  o.candidates = {{"Kaplan", fit::kMissing, fit::kMissing, plan::published::kaplan().with_shape(50257, 1024, 64, "test")}};
  CHECK(note_starting(plan::compare(chinchilla, o), "'Kaplan': law 'chinchilla' counts all parameters") ==
        "'Kaplan': law 'chinchilla' counts all parameters: the 6.46T non-embedding parameters of rule 'kaplan' are read "
        "with the embeddings (50257 + 1024)·d = 1.67B of its models (d = 32539 at d/L = 64): 0.0258% more");
  o.compute = 1e22;
  CHECK_THAT(note_starting(plan::compare(chinchilla, o), "'Kaplan': law 'chinchilla' counts all parameters"),
             Contains("the 41.5B non-embedding parameters of rule 'kaplan' are read as 41.8B, with the embeddings "
                      "(50257 + 1024)·d = 310M"));
  o.compute = 1e25;
  o.candidates = {{"approach 1", fit::kMissing, fit::kMissing,
                   plan::published::chinchilla_approach1().with_shape(32000, 2048, 64, "test")}};
  CHECK_THAT(note_starting(plan::compare(kaplan_nd, o), "'approach 1': law 'kaplan' counts non-embedding parameters"),
             Contains("the 282B parameters of rule 'chinchilla_approach1' (all of them) are read as 281B, without the "
                      "embeddings (32000 + 2048)·d = 390M of its models (d = 11447 at d/L = 64)"));
}

// The opposite mismatch: Chinchilla's approach-1 rule counts all parameters, Kaplan's joint law reads N
// as non-embedding ones. It was neither refused nor converted: the law's loss was that of a larger
// model than the rule means. Now refused without the rule's models' shape, naming the fix, and with it
// read as the N whose N + (vocab + ctx)·d is the rule's. Expected values from Python (mpmath, 30
// digits, the root found by bisection): at 1e22 FLOP the rule's N = 9.013757e9 (all) and D = 1.847334e11;
// at vocab 32000, ctx 2048, d/L = 64 that is N = 8.890522e9 non-embedding (d = 3619.45, embeddings
// 123.2M), and the law's loss there 1.990526 (1.988700 at the rule's N read as it was).
TEST_CASE("a rule of all parameters is read by a law of non-embedding parameters without its models' embeddings\, or refused") {
  const fit::FittedLaw kaplan_nd = wrap(fit::published::kaplan());
  const plan::AllocationRule approach1 = plan::published::chinchilla_approach1();
  CHECK(approach1.counts_all());
  CHECK_FALSE(plan::published::kaplan().counts_all());
  plan::CompareOptions o;
  o.compute = 1e22;
  o.candidates.push_back({"approach 1", fit::kMissing, fit::kMissing, approach1});
  const std::string fix = "Give the rule its models' shape, plan.published.chinchilla_approach1:with{ vocab = 32000, ctx = 0 }";
  CHECK_THROWS_WITH(plan::compare(kaplan_nd, o),
                    StartsWith("plan.compare: candidate 'approach 1' is the rule 'chinchilla_approach1', which counts all "
                               "parameters (the embeddings included, Chinchilla's N), and law 'kaplan' non-embedding ones") &&
                        Contains(fix) && Contains("or ask with a law of all parameters (fit.published.chinchilla"));
  CHECK_THROWS_WITH(plan::optimal(approach1, at(1e22), &kaplan_nd),
                    StartsWith("plan.optimal: the rule 'chinchilla_approach1' counts all parameters") && Contains(fix));
  plan::TableOptions t;
  t.params = {1e9};
  CHECK_THROWS_WITH(plan::table(approach1, t, &kaplan_nd),
                    StartsWith("plan.table: the rule 'chinchilla_approach1' counts all parameters") && Contains(fix));
  // A law fitted to runs of non-embedding N refuses it as well; one of all parameters reads it as it is.
  fit::FittedLaw counted = wrap(fit::published::chinchilla());
  counted.N_counts = "non_embedding";
  CHECK_THROWS_WITH(plan::compare(counted, o), Contains("and law 'chinchilla' non-embedding ones"));
  counted.N_counts = "all";
  CHECK(plan::compare(counted, o).rows[1].value("N") == Approx(approach1.N_at(1e22)).epsilon(1e-12));
  // A law of Kaplan's form fitted to runs of all parameters (a study's fits = { "kaplan" }) counts all.
  fit::FittedLaw kaplan_all = kaplan_nd;
  kaplan_all.N_counts = "all";
  CHECK(plan::compare(kaplan_all, o).rows[1].value("N") == Approx(approach1.N_at(1e22)).epsilon(1e-12));
  // With the shape.
  const plan::AllocationRule shaped = approach1.with_shape(32000, 2048, 64, "test");
  REQUIRE(approach1.N_at(1e22) == Approx(9.013757e9).epsilon(1e-6));
  REQUIRE(approach1.D_at(1e22) == Approx(1.847334e11).epsilon(1e-6));
  CHECK(shaped.non_embedding_params(approach1.N_at(1e22)) == Approx(8.890522027e9).epsilon(1e-9));
  CHECK(shaped.all_params(shaped.non_embedding_params(3e9)) == Approx(3e9).epsilon(1e-13));
  CHECK(shaped.non_embedding_params(1e6) == Approx(4683.920486).epsilon(1e-9));  // most of 1M is embeddings
  // plan.compare: the rule's run that spends the budget as the law counts it, 6·N_ne·D = C (up to the
  // rule's own 6·N·D/C_R = 0.99909, its N and D laws being separate fits): at C_R with
  // C_R·N_ne(N(C_R))/N(C_R) = C. Python (mpmath, bisection): C_R = 1.01379786021e22, N = 9.07549940579e9
  // (all), N_ne = 8.95198122032e9, D = 1.86008509918e11, the law's loss there 1.98943957818.
  o.candidates = {{"approach 1", fit::kMissing, fit::kMissing, shaped}};
  const plan::Answer cmp = plan::compare(kaplan_nd, o);
  CHECK(cmp.rows[1].value("N") == Approx(8.95198122032e9).epsilon(1e-9));
  CHECK(cmp.rows[1].value("D") == Approx(1.86008509918e11).epsilon(1e-9));
  CHECK(cmp.rows[1].value("loss") == Approx(1.98943957818).epsilon(1e-9));
  CHECK(cmp.rows[1].value("flops") == Approx(9.99086812566e21).epsilon(1e-9));
  CHECK_THAT(note_starting(cmp, "'approach 1': law 'kaplan' counts non-embedding parameters"),
             Contains("the 9.08B parameters of rule 'chinchilla_approach1' (all of them) are read as 8.95B, without the "
                      "embeddings (32000 + 2048)·d = 124M of its models (d = 3628 at d/L = 64)"));
  const plan::Answer opt = plan::optimal(shaped, at(1e22), &kaplan_nd);
  CHECK(opt.value("N") == Approx(9.013757e9).epsilon(1e-6));  // the rule's own N, all parameters
  CHECK(opt.value("loss") == Approx(1.99052631).epsilon(1e-8));
  t.params = {1e9};
  const plan::Answer tab = plan::table(shaped, t, &kaplan_nd);
  CHECK(tab.rows[0].value("N") == 1e9);
  CHECK_THAT(note_starting(tab, "law 'kaplan' counts non-embedding parameters: the sizes of rule 'chinchilla_approach1' "
                                "(all parameters) are read without the embeddings (32000 + 2048)·d"),
             Contains("1B as 942M"));
  // A study checks its questions before a law is fitted, with the same errors.
  const plan::Question q = plan::Question::Compare([&] {
    plan::CompareOptions c = o;
    c.candidates = {{"approach 1", fit::kMissing, fit::kMissing, approach1}};
    return c;
  }());
  CHECK_THROWS_WITH(q.check_rule_counts("chinchilla", "non_embedding"),
                    StartsWith("plan.compare: candidate 'approach 1' is the rule 'chinchilla_approach1', which counts all "
                               "parameters") && Contains(fix));
  CHECK_NOTHROW(q.check_rule_counts("chinchilla", "all"));
  const plan::Question k = plan::Question::Optimal(at(1e22), plan::published::kaplan());
  CHECK_THROWS_WITH(k.check_rule_counts("chinchilla", "all"),
                    StartsWith("plan.optimal: the rule 'kaplan' counts non-embedding parameters (Kaplan et al.'s N), and "
                               "law 'chinchilla' all of them"));
  CHECK_NOTHROW(k.check_rule_counts("chinchilla", "non_embedding"));
  CHECK_NOTHROW(plan::Question::Optimal(at(1e22), plan::published::kaplan().with_shape(256, 64, 64, "test"))
                    .check_rule_counts("chinchilla", "all"));
}

// plan.compare at a small budget: Kaplan's rule read at the budget itself picked 50.2M non-embedding
// parameters, 83.2M with GPT-2's embeddings, on D = C/(6·50.2M) tokens: a run of 1.66e18 FLOP as the
// law counts it, compared with the law's optimum at 1e18. The row is now the rule's run that spends
// the budget as the law counts it. Python (mpmath, bisection in log C_R of C_R·N_all(N(C_R))/N(C_R) =
// 1e18): C_R = 5.26180433478e17, N = 3.13846035635e7 non-embedding, N_all = 5.9646086336e7 (d =
// 551.11), D = 2.79425989038e9.
TEST_CASE("plan.compare reads a rule of the other count as the run that spends the budget as the law counts it") {
  const fit::FittedLaw chinchilla = wrap(fit::published::chinchilla());
  plan::CompareOptions o;
  o.compute = 1e18;
  plan::AllocationRule shaped = plan::published::kaplan().with_shape(50257, 1024, 64, "test");
  o.candidates = {{"Kaplan", fit::kMissing, fit::kMissing, shaped}};
  const plan::Answer cmp = plan::compare(chinchilla, o);
  const double N_all = 5.9646086336e7, D = 2.79425989038e9;
  CHECK(cmp.rows[1].value("N") == Approx(N_all).epsilon(1e-9));
  CHECK(cmp.rows[1].value("D") == Approx(D).epsilon(1e-9));
  CHECK(cmp.rows[1].value("flops") == Approx(1e18).epsilon(1e-12));
  CHECK(cmp.rows[1].value("loss") == Approx(1.69 + 406.4 / std::pow(N_all, 0.34) + 410.7 / std::pow(D, 0.28)).epsilon(1e-9));
  CHECK(note_starting(cmp, "'Kaplan' uses").empty());  // it said: "'Kaplan' uses 1.66e18 FLOP (6·N·D), not the budget"
  CHECK_THAT(note_starting(cmp, "'Kaplan': the rule's run at the budget"), Contains("picks it at 5.26e17 FLOP"));
  // A bootstrapped rule: each sample's run spends the budget too (so the FLOP has no interval), and
  // the N interval is that of the samples' runs: sample i's N_opt = k_i·C^0.73 read at its own C_R.
  std::vector<double> Ns;
  const double k = shaped.N_law.law.param("k");
  for (int i = 0; i < 40; ++i) {
    const double ki = k * std::exp(0.2 * (i - 19.5) / 19.5);
    shaped.N_law.samples.push_back({ki, 0.73});
    // C_R for this sample by bisection, by hand: C_R·N_all(N)/N = C with N = k_i·C_R^0.73.
    double lo = 1e16, hi = 1e18;
    for (int j = 0; j < 200; ++j) {
      const double mid = std::sqrt(lo * hi), n = ki * std::pow(mid, 0.73);
      (mid * (n + 51281 * std::cbrt(64 * n / 12)) / n < 1e18 ? lo : hi) = mid;
    }
    const double n = ki * std::pow(lo, 0.73);
    Ns.push_back(n + 51281 * std::cbrt(64 * n / 12));
  }
  o.candidates = {{"Kaplan", fit::kMissing, fit::kMissing, shaped}};
  const plan::Answer boot = plan::compare(chinchilla, o);
  CHECK_FALSE(boot.rows[1].quantity("flops").interval.valid());
  check_95(boot.rows[1].quantity("N").interval, Ns);
}

// plan.compare's bootstrap pairs draw i with the law's sample i (cycled) and the rule's sample i: a
// draw that failed past the law's sample count was not counted in samples_failed. Kaplan's joint law
// with two samples, the second with no finite loss (N_c < 0: the numeric allocation fails), and
// Kaplan's rule with four: draws 1 and 3 pair the failing sample (3 with the rule's sample 3), so 2 of
// the 4 draws have no answer; it said 1.
TEST_CASE("plan.compare counts every failed draw of a law and a rule in samples_failed") {
  fit::FittedLaw law = wrap(fit::published::kaplan());
  std::vector<double> bad = law.law.values();
  bad[0] = -1;  // N_c
  law.samples = {law.law.values(), bad};
  plan::AllocationRule rule = plan::published::kaplan();
  const double k = rule.N_law.law.param("k");
  for (int i = 0; i < 4; ++i) rule.N_law.samples.push_back({k * (1 + 0.01 * i), 0.73});
  plan::CompareOptions o;
  o.compute = 1e21;
  o.candidates = {{"K", fit::kMissing, fit::kMissing, rule}};
  const plan::Answer a = plan::compare(law, o);
  CHECK(a.samples == 4);
  CHECK(a.samples_failed == 2);
  CHECK_THAT(a.Markdown(), Contains("95% intervals over 4 bootstrap samples (2 without an answer, left out: the "
                                    "intervals are over the other 2)."));
  // The rule's row's loss interval is over the two draws that have one: the rule's samples 0 and 2
  // under the law's sample 0 (Kaplan's L(N, D) = ((N_c/N)^(α_N/α_D) + D_c/D)^α_D, by hand).
  std::vector<double> losses;
  for (int i : {0, 2}) {
    const double N = k * (1 + 0.01 * i) * std::pow(1e21, 0.73);
    losses.push_back(std::pow(std::pow(6.4e13 / N, 0.076 / 0.103) + 1.8e13 / (1e21 / (6 * N)), 0.103));
  }
  check_95(a.rows[1].quantity("loss").interval, losses);
  // With no samples of the law, the rule's draws alone: a failing draw is counted too. (None fails
  // here: every draw is the published law.)
  law.samples.clear();
  CHECK(plan::compare(law, o).samples_failed == 0);
}

// question:with_models_shape (a study's questions read with its models' shape): each rule that says what
// its N counts and carries no shape gets the one given, with its source, which the answer names; a rule
// with a shape of its own keeps it; a rule that says nothing of its N takes none (no law converts it).
TEST_CASE("a question's rules without a shape take the models' shape given to the question\, and say so") {
  const fit::FittedLaw chinchilla = wrap(fit::published::chinchilla());
  plan::AllocationRule own = plan::published::chinchilla_approach1();
  own.name = "own";
  own.N_law.N_counts = "";
  plan::CompareOptions o;
  o.compute = 1e22;
  o.candidates = {{"K", fit::kMissing, fit::kMissing, plan::published::kaplan()},
                  {"K256", fit::kMissing, fit::kMissing, plan::published::kaplan().with_shape(256, 64, 16, "test")},
                  {"own", fit::kMissing, fit::kMissing, own}};
  const plan::Question q = plan::Question::Compare(o);
  CHECK_THROWS_WITH(q.answer(chinchilla), Contains("candidate 'K' is the rule 'kaplan'"));
  const plan::Question shaped = q.with_models_shape(50257, 1024, 64, "the study's models' shape");
  CHECK_NOTHROW(shaped.check_rule_counts("chinchilla", "all"));
  const plan::Answer a = shaped.answer(chinchilla);
  // K as with rule:with{ vocab = 50257, ctx = 1024 } (the cases above), and the note names the source.
  o.candidates = {{"K", fit::kMissing, fit::kMissing, plan::published::kaplan().with_shape(50257, 1024, 64, "test")}};
  CHECK(a.rows[1].value("N") == Approx(plan::compare(chinchilla, o).rows[1].value("N")).epsilon(1e-15));
  CHECK(note_starting(a, "'K': converted with the study's models' shape: vocab 50257, ctx 1024, d/L = 64 (the rule "
                         "'kaplan' carried no shape") != "");
  // K256 keeps its own: its note reads (256 + 64)·d, and says no source.
  CHECK_THAT(note_starting(a, "'K256': law 'chinchilla' counts all parameters"), Contains("(256 + 64)·d"));
  CHECK(note_starting(a, "'K256': converted with").empty());
  // own is read as it is: N_opt(C) of its power law.
  CHECK(a.rows[3].value("N") == Approx(own.N_at(1e22)).epsilon(1e-12));
  CHECK(note_starting(a, "'own'").empty());
  // The question itself is unchanged.
  CHECK_THROWS(q.check_rule_counts("chinchilla", "all"));
}

TEST_CASE("allocation rules: Kaplan's C^0.73") {
  plan::AllocationRule k = plan::published::kaplan();
  // N = 1.3e9 at one PF-day.
  CHECK(k.N_at(plan::kPetaflopDay) == Approx(1.3e9).epsilon(1e-12));
  CHECK(k.N_at(10 * plan::kPetaflopDay) / k.N_at(plan::kPetaflopDay) == Approx(std::pow(10.0, 0.73)));
  CHECK(k.D_at(1e22) == Approx(1e22 / (6 * k.N_at(1e22))));
  CHECK(k.flops_for_params(k.N_at(3e21)) == Approx(3e21).epsilon(1e-12));
  // A rule's N_opt must grow with compute: k > 0 and a > 0.
  for (double a : {0.0, -0.2}) {
    plan::AllocationRule flat;
    flat.name = "flat";
    flat.N_law = wrap(fit::Law::PowerLaw(1e3, a, fit::Input::C, "N_opt"));
    CHECK_THROWS_WITH(flat.Validate(), Contains("allocation rule 'flat': its N_opt law needs k > 0 and a > 0"));
  }
}

TEST_CASE("Kaplan's joint L(N, D) allocates N ∝ C^(alpha_D/(alpha_N + alpha_D)), and its answers point to the C^0.73 rule") {
  // Minimising [(N_c/N)^(α_N/α_D) + D_c/D]^α_D with D = C/(6N): (α_N/α_D)·(N_c/N)^(α_N/α_D) = 6·D_c·N/C,
  // so N ∝ C^(α_D/(α_N + α_D)) = 0.103/0.179 with the joint fit's exponents (REFERENCE.md's 0.73
  // is from L(N, S) and the critical batch size).
  const fit::FittedLaw joint = wrap(fit::published::kaplan());
  const double exponent = 0.103 / (0.076 + 0.103);
  plan::OptimalOptions o;
  o.compute = 1e21;
  const plan::Answer low = plan::optimal(joint, o);
  o.compute = 1e23;
  const plan::Answer high = plan::optimal(joint, o);
  CHECK(std::log(high.value("N") / low.value("N")) / std::log(100.0) == Approx(exponent).epsilon(1e-3));
  // And that its D lies below their overfitting bound, as every optimum of this law does at the same
  // ratio, (1.02^(1/α_D) − 1)/(α_N/α_D) = 0.29 of eq. 4.3's bound: said once, in the same note, rather
  // than as a second note on every answer (which would be there every time).
  REQUIRE(low.notes.size() == 1);
  CHECK_THAT(low.notes[0], Contains("N_opt ∝ C^0.575, not their compute-efficient N ∝ C^0.73") &&
                               Contains("use the rule plan.published.kaplan") &&
                               Contains("Every compute-optimal run of this law, at any budget, has D at 0.29× Kaplan "
                                        "et al.'s overfitting bound"));
  CHECK((std::pow(1.02, 1 / 0.103) - 1) / (0.076 / 0.103) == Approx(0.287).margin(0.001));
  const double bound = 5e3 * std::pow(low.value("N"), 0.74);
  CHECK(low.value("D") / bound == Approx(0.3).margin(0.02));
  // Chinchilla's law allocates as its closed form says, with no such note.
  CHECK(plan::optimal(wrap(fit::published::chinchilla()), o).notes.empty());
}

TEST_CASE("answers print budgets from 1e-3 up to 1000 FLOP without the exponent: 3.11 and 311\, not 3.11e0 and 3.11e2") {
  using plan::Unit;
  // Three significant digits as from 1000 FLOP up (1.00e21), written plainly below it, as three_digits
  // writes every other unit's numbers below 1000 (Chinchilla's law puts a 10-parameter model's
  // compute-optimal run at 510 FLOP: it printed as 5.10e2 beside its 8.5 tokens per parameter).
  CHECK(plan::format_quantity(3.11, Unit::Flops) == "3.11");
  CHECK(plan::format_quantity(1, Unit::Flops) == "1.00");
  CHECK(plan::format_quantity(0.306, Unit::Flops) == "0.306");
  CHECK(plan::format_quantity(0.0306, Unit::Flops) == "0.0306");
  CHECK(plan::format_quantity(0.00306, Unit::Flops) == "0.00306");
  CHECK(plan::format_quantity(0.9996, Unit::Flops) == "1.00");
  CHECK(plan::format_quantity(9.996, Unit::Flops) == "10.0");
  CHECK(plan::format_quantity(10, Unit::Flops) == "10.0");
  CHECK(plan::format_quantity(31.1, Unit::Flops) == "31.1");
  CHECK(plan::format_quantity(99.96, Unit::Flops) == "100");
  CHECK(plan::format_quantity(311, Unit::Flops) == "311");
  CHECK(plan::format_quantity(999.4, Unit::Flops) == "999");
  CHECK(plan::format_quantity(999.6, Unit::Flops) == "1.00e3");
  CHECK(plan::format_quantity(1234, Unit::Flops) == "1.23e3");
  CHECK(plan::format_quantity(3.06e-4, Unit::Flops) == "3.06e-4");
}

TEST_CASE("answers print values in their units: never 1000 of a unit, fractions in percent, labels aligned by characters") {
  using plan::Unit;
  // A value that would print as 1000.0 of a unit, or 10.00 of a power of ten, is 1.0 of the next.
  CHECK(plan::format_quantity(999960, Unit::TokensFine) == "1.0M");
  CHECK(plan::format_quantity(999400, Unit::TokensFine) == "999.4k");
  // Past T, tokens print as every count does (format_count), scientific: not "14.9P".
  CHECK(plan::format_quantity(216.2e12, Unit::TokensFine) == "216.2T");
  CHECK(plan::format_quantity(1.49e16, Unit::TokensFine) == "1.49e16");
  CHECK(plan::format_quantity(1.49e16, Unit::Tokens) == "1.49e16");
  CHECK(plan::format_quantity(1.19e16, Unit::Params) == "1.19e16");
  CHECK(plan::format_quantity(9.9996e19, Unit::Flops) == "1.00e20");
  CHECK(plan::format_quantity(9.994e19, Unit::Flops) == "9.99e19");
  CHECK(plan::format_quantity(0.123, Unit::Fraction) == "12.3%");
  // Plain numbers to three digits without printf's exponent form ("1.67e+03 tokens/param" beside
  // "1.00e22 FLOP"): whole from 1000 to 9990, then 1.23e5; very small ones the same way.
  CHECK(plan::format_quantity(1666.7, Unit::Ratio) == "1670");
  CHECK(plan::format_quantity(9994, Unit::Ratio) == "9990");
  CHECK(plan::format_quantity(9996, Unit::Ratio) == "1e4");
  CHECK(plan::format_quantity(123456, Unit::Epochs) == "1.23e5");
  CHECK(plan::format_quantity(999.6, Unit::Ratio) == "1000");
  CHECK(plan::format_quantity(33.8, Unit::Ratio) == "33.8");
  CHECK(plan::format_quantity(0.0123, Unit::Plain) == "0.0123");
  CHECK(plan::format_quantity(1.81e-6, Unit::Epochs) == "1.81e-6");
  CHECK(plan::format_quantity(-2.5e-5, Unit::Plain) == "-2.5e-5");
  CHECK(plan::format_quantity(250, Unit::Fraction) == "2.5e4%");
  plan::Answer a;
  a.question = "q";
  a.set("b", 0.5, Unit::Fraction, "β");
  a.set("x", 2.25, Unit::Loss, "xy");
  a.set("b", 0.25, Unit::Fraction);  // a new value keeps the label
  CHECK(a.quantity("b").label == "β");
  // Labels padded to the widest in characters: "β" is one, though two bytes.
  CHECK(a.Summary() == "q\n  β   25%\n  xy  2.2500");
  // In Markdown, a table of rows: the names' column left-aligned, the values' right-aligned.
  plan::Answer table;
  table.question = "sizes";
  table.row_label = "model";
  table.row_names = {"Gopher"};
  plan::Answer row;
  row.set("N", 280e9, Unit::Params, "params").set("loss", 1.9931, Unit::Loss);
  table.rows = {row};
  CHECK_THAT(table.Markdown(), Contains("\n| model | params | loss |\n|---|---:|---:|\n| Gopher | 280B | 1.9931 |\n"));
}

TEST_CASE("the grid search counts a plateau as one minimum, lists the others apart from the best, and flags an edge within half a step") {
  // A plateau at 0 over [3, 7] on a grid of step 1: one local minimum.
  plan::search::Minimum plateau = plan::search::minimize([](double x) { return std::max(0.0, std::fabs(x - 5) - 2); }, 0, 10, 11);
  CHECK(plateau.local_minima == 1);
  CHECK(plateau.others.empty());
  CHECK(plateau.f == 0);
  // Two wells, at 2 (depth 1) and 8 (depth 2): the best is 8, the other 2.
  auto wells = [](double x) { return std::min((x - 2) * (x - 2) - 1, (x - 8) * (x - 8) - 2); };
  plan::search::Minimum two = plan::search::minimize(wells, 0, 10, 11);
  CHECK(two.local_minima == 2);
  CHECK(two.x == Approx(8).margin(1e-6));
  REQUIRE(two.others.size() == 1);
  CHECK(two.others[0] == Approx(2).margin(1e-6));
  // The edge: the best within half a grid step of an end, not a step and a bit.
  CHECK(plan::search::minimize([](double x) { return (x - 9.2) * (x - 9.2); }, 0, 10, 11).at_edge == false);
  CHECK(plan::search::minimize([](double x) { return (x - 9.7) * (x - 9.7); }, 0, 10, 11).at_edge == true);
  CHECK(plan::search::minimize([](double x) { return x; }, 0, 10, 11).at_edge == true);
}

TEST_CASE("bootstrap samples give percentile intervals") {
  fit::FittedLaw law = chinchilla_with_samples(7);
  plan::Answer a = plan::optimal(law, at(1e22));
  const auto& n = a.quantity("N");
  REQUIRE(n.interval.valid());
  CHECK(n.interval.lo < n.value);
  CHECK(n.interval.hi > n.value);
  CHECK(a.samples == 100);
  // The interval is the 2.5th to 97.5th percentile of the samples' N_opt (the closed form at each
  // sample), by linear interpolation between order statistics at position q·(n − 1), as numpy's default.
  std::vector<double> n_opt;
  for (const auto& v : law.samples) {
    const double G = std::pow(v[3] * v[1] / (v[4] * v[2]), 1 / (v[3] + v[4]));
    n_opt.push_back(G * std::pow(1e22 / 6, v[4] / (v[3] + v[4])));
  }
  std::sort(n_opt.begin(), n_opt.end());
  auto quantile = [&](double q) {
    const double pos = q * (n_opt.size() - 1);
    const size_t i = size_t(pos);
    return n_opt[i] + (pos - double(i)) * (n_opt[i + 1] - n_opt[i]);
  };
  CHECK(n.interval.level == 0.95);
  CHECK(n.interval.lo == Approx(quantile(0.025)).epsilon(1e-9));
  CHECK(n.interval.hi == Approx(quantile(0.975)).epsilon(1e-9));
  CHECK_THAT(a.Summary(), Contains("["));
  plan::ComputeForOptions c;
  c.loss = 2.0;
  plan::Answer cf = plan::compute_for(law, c);
  CHECK(cf.quantity("flops").interval.valid());
}

TEST_CASE("cost: GPU-hours, days and PF-days") {
  plan::CostOptions o;
  o.gpu = "H100";
  o.mfu = 0.5;
  o.gpus = 1000;
  plan::Cost c = plan::cost(1e22, o);
  CHECK(c.gpu_hours == Approx(1e22 / (989e12 * 0.5) / 3600));
  CHECK(c.hours == Approx(c.gpu_hours / 1000));
  CHECK(c.days == Approx(c.hours / 24));
  CHECK(c.pf_days == Approx(1e22 / 8.64e19));
  // The lecture's rule of thumb: 1e24 FLOP ≈ 1M A100-hours (at full peak, 0.89M).
  o.gpu = "a100";
  o.mfu = 1;
  CHECK(plan::cost(1e24, o).gpu_hours == Approx(0.89e6).epsilon(0.01));
  o.gpu = "H200";
  CHECK(plan::cost(1e24, o).peak == 989e12);
  o.peak = 2e15;
  o.gpu = "B200";
  CHECK(plan::cost(1e24, o).gpu_hours == Approx(1e24 / 2e15 / 3600));
  CHECK_THAT(plan::cost(1e22).Summary(), Contains("H100-hours"));
  // The FLOPs are given to three digits, as the PF-days and GPU-hours computed from them: at two,
  // Gopher's budget read "5.8e23 FLOP = 6.67k PF-days: 404k H100-hours", and 5.8e23 is 6.71k PF-days.
  CHECK_THAT(plan::cost(5.76e23).Summary(), StartsWith("5.76e23 FLOP = 6.67k PF-days: 404k H100-hours"));
  CHECK_THAT(plan::cost(1e22).Summary(), StartsWith("1.00e22 FLOP = 116 PF-days"));
  {
    // cost.h's example of Cost::Line, which showed "1.2e22 FLOP", "(989 TFLOP/s)" and "8.2 h" long after
    // the line said them otherwise. By hand: 1.2e22 / 8.64e19 = 139 PF-days; 1.2e22 / (989e12 · 0.4) /
    // 3600 = 8426 H100-hours, 8.23 h on 1024 GPUs.
    plan::CostOptions h100;
    h100.gpu = "H100";
    h100.mfu = 0.4;
    h100.gpus = 1024;
    CHECK(plan::cost(1.2e22, h100).Line() ==
          "1.20e22 FLOP = 139 PF-days: 8.43k H100-hours at 40% MFU (989 TFLOP/s peak), 8.23 h on 1024 GPUs");
  }
  o.peak = 0;
  o.gpu = "H10";
  CHECK_THROWS_WITH(plan::cost(1e22, o), StartsWith("plan.cost: unknown GPU 'H10'") && Contains("did you mean 'H100'"));
  CHECK_THROWS_WITH(o.Validate("plan.optimal"), StartsWith("plan.optimal: unknown GPU 'H10'"));
  o.gpu = "H100";
  o.mfu = 1.5;
  CHECK_THROWS_WITH(plan::cost(1e22, o), StartsWith("plan.cost: mfu (model FLOP utilisation) must be in (0, 1]"));
  o.mfu = 0.4;
  o.gpus = 0;
  CHECK_THROWS_WITH(o.Validate("plan.loss"), StartsWith("plan.loss: gpus must be at least 1"));
  CHECK_THROWS_WITH(plan::cost(0, {}), StartsWith("plan.cost: flops must be positive"));
}

TEST_CASE("cost: a peak or a GPU count no hardware has is refused\, naming it and the range") {
  plan::CostOptions o;
  o.peak = 1e-300;  // was inf GPU-hours
  CHECK_THROWS_WITH(plan::cost(1e22, o), StartsWith("plan.cost: peak = 1e-300 FLOP/s is no accelerator's peak") &&
                                             Contains("from 1e9 to 1e18 FLOP/s"));
  o.peak = 1e30;
  CHECK_THROWS_WITH(o.Validate("plan.optimal"), StartsWith("plan.optimal: peak = 1e30 FLOP/s"));
  o.peak = 0;
  o.gpus = 1e300;  // was "2.53e-291 ms"
  CHECK_THROWS_WITH(plan::cost(1e22, o), StartsWith("plan.cost: gpus = 1e300 is more GPUs than any cluster has") &&
                                             Contains("from 1 to 1e7"));
  // The edges are accepted, and priced finitely.
  o.gpus = plan::kMaxGpus;
  o.peak = plan::kMinPeak;
  CHECK(std::isfinite(plan::cost(1e30, o).hours));
  o.peak = plan::kMaxPeak;
  CHECK(plan::cost(1e22, o).hours > 0);
}

TEST_CASE("questions are values answered later") {
  plan::Question q = plan::Question::Optimal(at(1e21));
  CHECK(q.needs_law());
  CHECK_THAT(q.Summary(), Contains("asked without a law: question:answer(law) answers it"));
  CHECK_THAT(q.Summary(), !Contains("unanswered"));
  CHECK_THROWS_WITH(q.answer(), Contains("needs a law"));
  plan::CostOptions cost;
  cost.gpus = 64;
  q.set_cost(cost);
  plan::Answer a = q.answer(wrap(fit::published::chinchilla()));
  CHECK(a.value("N") == Approx(plan::optimal(wrap(fit::published::chinchilla()), at(1e21)).value("N")));
  REQUIRE(a.cost);
  CHECK(a.cost->gpus == 64);
  CHECK_THAT(a.Summary(), Contains("H100-hours"));
  CHECK_THAT(a.Brief(), Contains("1.82B params, 91.4B tokens, loss 2.3289, 1.00e21 FLOP, "));
  CHECK_THAT(a.Brief(), Contains("H100-hours"));
  plan::Question r = plan::Question::Optimal(at(1e21), plan::published::chinchilla_approach1());
  CHECK(!r.needs_law());
  CHECK(r.answer().value("N") > 0);
}

TEST_CASE("bad inputs give clear errors") {
  fit::FittedLaw chin = wrap(fit::published::chinchilla());
  CHECK_THROWS_WITH(plan::optimal(chin, at(0)), Contains("compute must be positive"));
  CHECK_THROWS_WITH(plan::optimal(chin, at(-1e21)), Contains("compute must be positive"));
  CHECK_THROWS_WITH(plan::optimal(chin, at(fit::kMissing)), Contains("missing compute"));
  CHECK_THROWS_WITH(plan::optimal(chin, at(1e22, 25e9)), Contains("needs a law with a term for repeated data"));
  CHECK_THROWS_WITH(plan::optimal(chin, at(1e22, 25e9)), Contains("R_D*"));
  plan::ComputeForOptions c;
  c.loss = 1.5;
  CHECK_THROWS_WITH(plan::compute_for(chin, c), Contains("irreducible loss E = 1.69"));
  fit::FittedLaw data = wrap(plan::published::datablations_exact());
  c.loss = 1.95;
  c.unique_tokens = 1e9;
  CHECK_THROWS_WITH(plan::compute_for(data, c), Contains("unique tokens the law cannot go below"));
  CHECK_THROWS_WITH(plan::optimal(wrap(fit::published::kaplan_N()), at(1e22)), Contains("planning needs a loss law of N and D"));
  CHECK_THROWS_WITH(plan::optimal(wrap(fit::Law::PowerLaw(1, 0.5)), at(1e22)), Contains("allocation rule"));
  plan::OptimalOptions both = at(1e22, 25e9);
  both.epochs = 4;
  CHECK_THROWS_WITH(plan::optimal(data, both), Contains("not both"));
  plan::InferenceOptions inf;
  inf.compute = 1e22;
  CHECK_THROWS_WITH(plan::inference(chin, inf), Contains("inference_tokens"));
  plan::Answer a = plan::optimal(chin, at(1e22));
  CHECK_THROWS_WITH(a.value("epochs"), Contains("has no 'epochs'"));
}

TEST_CASE("print the return curve", "[.print]") {
  plan::ReturnsOptions r;
  r.unique_tokens = 25e9;
  std::printf("%s\n", plan::returns(wrap(plan::published::datablations_exact()), r).Summary().c_str());
}

TEST_CASE("approach 2: an IsoFLOP analysis of synthetic runs recovers the law's allocation") {
  // Runs drawn exactly from the published Chinchilla law on IsoFLOP lines; fit's IsoFLOP analysis
  // gives the approach-2 power laws; the planner's allocation from them matches the closed form.
  fit::Law law = fit::published::chinchilla();
  fit::Allocation truth = fit::compute_optimal(law);
  fit::Observations obs = isoflop_runs(law, {1e18, 1e19, 1e20, 1e21});
  plan::AllocationRule rule = plan::AllocationRule::FromIsoFlop(fit::fit_isoflop(obs));
  CHECK(rule.N_law.law.param("a") == Approx(truth.a).margin(0.01));
  CHECK_THAT(rule.doc, Catch::Contains("the vertices of 4 IsoFLOP parabolas (1e18 to 1e21 FLOP)"));
  // One budget's runs only: no power laws to plan with, and an error that says why.
  CHECK_THROWS_WITH(plan::AllocationRule::FromIsoFlop(fit::fit_isoflop(obs.Subset({0, 1, 2, 3, 4, 5, 6, 7, 8}))),
                    Catch::Contains("allocation rule 'isoflop': the IsoFLOP analysis has no power laws") &&
                        Catch::Contains("1 here"));
  plan::Answer a = plan::optimal(rule, at(1e22), nullptr);
  CHECK(a.value("N") == Approx(truth.N_opt(1e22)).epsilon(0.03));
  CHECK(a.value("D") == Approx(truth.D_opt(1e22)).epsilon(0.03));
  // With the law for the loss, the rule's choice is within a hair of the optimum.
  fit::FittedLaw fl = wrap(law);
  plan::Answer with_loss = plan::optimal(rule, at(1e22), &fl);
  CHECK(with_loss.value("loss") == Approx(plan::optimal(fl, at(1e22)).value("loss")).epsilon(1e-4));
}

TEST_CASE("answers from an IsoFLOP or approach-1 rule far beyond the compute it was fitted on say how far") {
  // Exact runs of Chinchilla's law on four IsoFLOP lines, 1e17 to 1e20 FLOP.
  fit::Law law = fit::published::chinchilla();
  fit::Allocation truth = fit::compute_optimal(law);
  plan::AllocationRule rule = plan::AllocationRule::FromIsoFlop(fit::fit_isoflop(isoflop_runs(law, {1e17, 1e18, 1e19, 1e20})));
  REQUIRE(rule.span_C.valid());
  CHECK(rule.span_C.lo == Approx(1e17));
  CHECK(rule.span_C.hi == Approx(1e20));
  auto beyond = [](const plan::Answer& a) { return note_starting(a, "beyond the "); };
  // 1e23 FLOP, 1000 times the largest budget: said, in the words of a fitted law's answers.
  const plan::Answer far = plan::optimal(rule, at(1e23));
  CHECK(beyond(far) == "beyond the 4 IsoFLOP budgets fitted: compute 1000× the largest (1.00e20)");
  CHECK_THAT(far.Summary(), Contains("note: beyond the 4 IsoFLOP budgets fitted: compute 1000× the largest"));
  // Below the smallest budget too; inside, or less than twice beyond: nothing.
  CHECK(beyond(plan::optimal(rule, at(1e15))) == "beyond the 4 IsoFLOP budgets fitted: compute 1/100 of the smallest (1.00e17)");
  CHECK(beyond(plan::optimal(rule, at(1e19))).empty());
  CHECK(beyond(plan::optimal(rule, at(1.9e20))).empty());
  // With a law for the loss, both the law's runs and the rule's budgets are checked.
  fit::FittedLaw published = wrap(law);
  CHECK(beyond(plan::optimal(rule, at(1e23), &published)) == beyond(far));
  // A table names the rows beyond the budgets.
  plan::TableOptions sizes;
  sizes.params = {rule.N_at(1e18), rule.N_at(1e22)};
  const plan::Answer t = plan::table(rule, sizes);
  CHECK_THAT(beyond(t), StartsWith("beyond the 4 IsoFLOP budgets fitted: compute 100× the largest (1.00e20) at ") &&
                            !Contains(";"));
  sizes.params = {rule.N_at(1e18)};
  CHECK(beyond(plan::table(rule, sizes)).empty());
  // Approach 1: the compute of the envelope's switches.
  fit::Approach1Result a1;
  for (double C : {1e18, 3e18, 1e19}) a1.switches.push_back({C, 0, 0, truth.N_opt(C)});
  std::vector<double> c, n, d;
  for (const auto& w : a1.switches) {
    c.push_back(w.C);
    n.push_back(w.N);
    d.push_back(w.C / (6 * w.N));
  }
  a1.N_law = fit::fit_power_law(c, n, fit::Input::C, "N_opt");
  a1.D_law = fit::fit_power_law(c, d, fit::Input::C, "D_opt");
  plan::AllocationRule from_a1 = plan::AllocationRule::FromApproach1(a1);
  CHECK(beyond(plan::optimal(from_a1, at(1e22))) == "beyond the 3 approach-1 frontier switches fitted: compute 1000× the largest (1.00e19)");
  CHECK(beyond(plan::optimal(from_a1, at(5e18))).empty());
  // Rules fitted on no compute the planner knows of say nothing new: published ones, hand-made ones.
  CHECK(beyond(plan::optimal(plan::published::kaplan(), at(1e25))).empty());
  CHECK(beyond(plan::optimal(plan::published::chinchilla_approach1(), at(1e25))).empty());
  plan::AllocationRule hand;
  hand.name = "hand";
  hand.N_law = a1.N_law;
  CHECK_FALSE(hand.span_C.valid());
  CHECK(beyond(plan::optimal(hand, at(1e25))).empty());
}

TEST_CASE("allocation rules carry bootstrap intervals") {
  std::vector<double> c, n;
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 0.05);
  for (double x = 1e18; x <= 1e22; x *= 3) {
    c.push_back(x);
    n.push_back(0.1 * std::pow(x, 0.5) * std::exp(noise(rng)));
  }
  plan::AllocationRule rule;
  rule.name = "noisy";
  rule.N_law = fit::fit_power_law(c, n, fit::Input::C, "N_opt", 200, 1);
  REQUIRE(rule.N_law.samples.size() == 200);
  plan::Answer a = plan::optimal(rule, at(1e23));
  REQUIRE(a.quantity("N").interval.valid());
  CHECK(a.quantity("N").interval.lo < a.value("N"));
  CHECK(a.quantity("N").interval.hi > a.value("N"));
  CHECK(a.quantity("D").interval.valid());
}

TEST_CASE("an allocation rule from a bootstrapped IsoFLOP analysis carries its intervals") {
  // Noisy runs on IsoFLOP lines of the published Chinchilla law, analysed with 200 resamples: the
  // rule's answer at 1e23 FLOP (two decades beyond the budgets) has the 2.5th to 97.5th percentiles
  // of the resamples' k·C^a and C/(6·k·C^a) as its N and D intervals, by hand.
  fit::Law law = fit::published::chinchilla();
  fit::Allocation truth = fit::compute_optimal(law);
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 0.002);
  fit::Observations obs = isoflop_runs(law, {1e18, 1e19, 1e20, 1e21}, [&] { return std::exp(noise(rng)); });
  fit::IsoFlopResult iso = fit::fit_isoflop(obs, 200, 1);
  REQUIRE(iso.a_samples.size() >= 100);
  plan::AllocationRule rule = plan::AllocationRule::FromIsoFlop(iso);
  const double C = 1e23;
  plan::Answer a = plan::optimal(rule, at(C));
  std::vector<double> n, d;
  for (size_t i = 0; i < iso.a_samples.size(); ++i) {
    n.push_back(iso.k_samples[i] * std::pow(C, iso.a_samples[i]));
    d.push_back(C / (6 * n.back()));
  }
  const auto& N = a.quantity("N");
  const auto& D = a.quantity("D");
  check_95(N.interval, n);
  check_95(D.interval, d);
  CHECK(N.interval.contains(N.value));
  CHECK(N.interval.contains(truth.N_opt(C)));
  CHECK(a.samples == static_cast<int>(iso.a_samples.size()));
}

TEST_CASE("a table from a bootstrapped allocation rule carries intervals of its FLOPs and tokens") {
  // A rule whose resamples are power laws N_opt = k_i·C^a_i, D_opt = k'_i·C^b_i: for 10B parameters
  // the FLOPs interval is the 2.5th to 97.5th percentile of C_i = (N/k_i)^(1/a_i), the tokens' that of
  // k'_i·C_i^b_i (the same resample), by hand.
  plan::AllocationRule rule = plan::published::chinchilla_approach1();
  std::mt19937 rng(9);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<double> flops, tokens;
  const double N = 10e9;
  for (int i = 0; i < 200; ++i) {
    const double a = 0.4982 * (1 + noise(rng)), k = 0.099 * std::exp(noise(rng));
    const double b = 1 - a, k_d = 1 / (6 * k);
    rule.N_law.samples.push_back({k, a});
    rule.D_law->samples.push_back({k_d, b});
    const double C = std::pow(N / k, 1 / a);
    flops.push_back(C);
    tokens.push_back(k_d * std::pow(C, b));
  }
  plan::TableOptions options;
  options.params = {N};
  plan::Answer t = plan::table(rule, options);
  REQUIRE(t.rows.size() == 1);
  const auto& c = t.rows[0].quantity("flops");
  const auto& d = t.rows[0].quantity("D");
  check_95(c.interval, flops);
  check_95(d.interval, tokens);
  CHECK(t.samples == 200);
  // The point row is the rule's own, unchanged by the samples.
  CHECK(c.value == Approx(plan::published::chinchilla_approach1().flops_for_params(N)).epsilon(1e-12));
}

TEST_CASE("the compute for a loss some samples never reach is unbounded above, samples with no answer are left out, and the Markdown says so") {
  // 100 samples of Chinchilla's law asked for loss 2: 51 with E = 2.005, 2.015, ..., 2.505 never
  // reach it (unbounded compute: they enter the intervals as ∞), 10 with A and B shrunk a
  // millionfold are below 2 at any compute there is (no answer: left out), 39 as published.
  fit::FittedLaw law = wrap(fit::published::chinchilla());
  for (int i = 1; i <= 100; ++i) {
    std::vector<double> v = law.law.values();
    if (i <= 51) v[0] = 1.995 + 0.01 * i;
    if (i > 90) v[1] *= 1e-6, v[2] *= 1e-6;
    law.samples.push_back(v);
  }
  plan::ComputeForOptions c;
  c.loss = 2.0;
  plan::Answer a = plan::compute_for(law, c);
  CHECK(a.samples == 100);
  CHECK(a.samples_failed == 10);
  // Over the 90 that count, 51 are ∞: the 97.5th percentile is ∞, the 2.5th one of the 39 finite
  // ones (all 39 the same law: the point's compute).
  const auto& flops = a.quantity("flops");
  CHECK(std::isinf(flops.interval.hi));
  CHECK(flops.interval.lo == Approx(flops.value).epsilon(1e-9));
  CHECK(std::isinf(a.quantity("N").interval.hi));
  CHECK_THAT(a.Summary(), Contains("∞]"));
  REQUIRE(!a.notes.empty());
  CHECK_THAT(a.notes.back(), Contains("51 of 100 bootstrap samples never reach loss 2.0000 (") &&
                                 Contains("the 95% intervals are open above"));
  CHECK_THAT(a.Summary(), Contains("(10 without an answer)"));
  CHECK_THAT(a.Markdown(), Contains("95% intervals over 100 bootstrap samples (10 without an answer, left out: the "
                                    "intervals are over the other 90)."));
  // 99 of 100 unbounded: both ends ∞, still an interval (it was dropped, and the answer looked bounded).
  for (int i = 1; i <= 99; ++i) law.samples[i][0] = 2.1, law.samples[i][1] = 406.4, law.samples[i][2] = 410.7;
  law.samples[0] = law.law.values();
  const plan::Answer nearly_all = plan::compute_for(law, c);
  CHECK(std::isinf(nearly_all.quantity("flops").interval.lo));
  CHECK(std::isinf(nearly_all.quantity("flops").interval.hi));
  CHECK_THAT(nearly_all.Summary(), Contains("[∞, ∞]"));
  REQUIRE(!nearly_all.notes.empty());
  CHECK_THAT(nearly_all.notes.back(), Contains("99 of 100 bootstrap samples never reach loss 2.0000 (") &&
                                          Contains("the 95% intervals are open above"));
}

TEST_CASE("an answer beyond the runs its law was fitted to says how far, in N, D and compute") {
  // Nine runs of Chinchilla's law, N 10M..100M, D 100M..10B: C = 6·N·D spans 6e15..6e18.
  fit::FittedLaw fitted = fitted_to_nine_runs();
  CHECK(fitted.span_N.lo == 1e7);
  CHECK(fitted.span_N.hi == 1e8);
  CHECK(fitted.span_D.lo == 1e8);
  CHECK(fitted.span_D.hi == 1e10);
  CHECK(fitted.span_C.lo == Approx(6e15));
  CHECK(fitted.span_C.hi == Approx(6e18));
  auto beyond = [](const plan::Answer& a) { return note_starting(a, "beyond the 9 runs fitted: "); };
  // Inside the runs, or less than twice beyond them: nothing to say.
  plan::LossOptions inside;
  inside.N = 5e7;
  inside.D = 1.5e10;
  CHECK(beyond(plan::loss(fitted, inside)).empty());
  // Below them: N a tenth of the smallest; compute 6·1e6·1e9 = 6e15, inside.
  plan::LossOptions small;
  small.N = 1e6;
  small.D = 1e9;
  CHECK(beyond(plan::loss(fitted, small)) == "beyond the 9 runs fitted: N 1/10 of the smallest (10M)");
  // 1e22 FLOP is 1.7e3 times the largest run's compute.
  const plan::Answer far = plan::optimal(fitted, at(1e22));
  const double n = far.value("N"), d = far.value("D");
  CHECK_THAT(beyond(far), Contains(str("N ", format_significant(n / 1e8, 2), "× the largest (100M)")) &&
                              Contains(str("D ", format_significant(d / 1e10, 2), "× the largest (10B)")) &&
                              Contains("compute 1700× the largest (6.00e18)"));
  // Past 1e4 times, the factor in powers of ten: 1e24 FLOP is 1.7e5 times 6e18.
  CHECK_THAT(beyond(plan::optimal(fitted, at(1e24))), Contains("compute 1.7e5× the largest (6.00e18)"));
  // Rounded to two digits, 9960 and 99600 times are 1e4 and 1e5 times (not "10e3").
  CHECK_THAT(beyond(plan::optimal(fitted, at(9960 * 6e18))), Contains("compute 1e4× the largest"));
  CHECK_THAT(beyond(plan::optimal(fitted, at(99600 * 6e18))), Contains("compute 1e5× the largest"));
  // A published law was fitted to no runs of ours: no such note.
  CHECK(beyond(plan::optimal(wrap(fit::published::chinchilla()), at(1e22))).empty());
}

TEST_CASE("answers from a fit that could not determine some parameters say so") {
  // Runs at one model size cannot separate E from A/N^alpha: the fit reports A and alpha (and E)
  // undetermined and its summary declines to state the allocation; every answer computed from those
  // arbitrary values must carry a note naming them, and answers from a determined law none.
  fit::Law truth = fit::published::chinchilla();
  fit::Observations obs;
  for (double d : {1e9, 2e9, 5e9, 1e10, 2e10, 5e10, 1e11}) {
    fit::Observation o;
    o.N = 1e8;
    o.D = d;
    fit::Point p;
    p.N = o.N;
    p.D = o.D;
    o.loss = truth.predict(p) * std::exp(0.002 * std::sin(7.1 * obs.size()));
    obs.Add(o);
  }
  fit::FittedLaw fitted = fit::fit_law(fit::Law::Make(fit::LawKind::Chinchilla), obs);
  REQUIRE(fitted.is_undetermined("A"));
  REQUIRE(fitted.is_undetermined("alpha"));
  REQUIRE_THAT(fitted.Summary(), Contains("compute-optimal: not determined"));
  std::string names;
  for (const auto& n : fitted.undetermined) names += (names.empty() ? "" : ", ") + n;
  const std::string note = "the fit could not determine " + names + " from its runs";
  auto noted = [&](const plan::Answer& a) {
    return std::any_of(a.notes.begin(), a.notes.end(), [&](const std::string& n) { return n.find(note) == 0; });
  };
  plan::LossOptions l;
  l.N = 1e8;
  l.D = 1e10;
  plan::CompareOptions c;
  c.compute = 1e22;
  c.candidates = {{"small", 1e9, fit::kMissing, std::nullopt}};
  plan::TableOptions t;
  t.params = {1e9};
  CHECK(noted(plan::optimal(fitted, at(1e22))));
  CHECK(noted(plan::loss(fitted, l)));
  CHECK(noted(plan::compare(fitted, c)));
  CHECK(noted(plan::table(fitted, t)));
  CHECK(noted(plan::optimal(plan::published::chinchilla_approach1(), at(1e22), &fitted)));
  CHECK_FALSE(noted(plan::optimal(wrap(truth), at(1e22))));
  for (const auto& n : plan::optimal(wrap(truth), at(1e22)).notes) CHECK(n.find("could not determine") == std::string::npos);
}

TEST_CASE("a table\, return curve or comparison from a fitted law names its rows beyond the runs") {
  // Nine runs of Chinchilla's law, N 10M..100M, D 100M..10B (C 6e15..6e18).
  const fit::FittedLaw fitted = fitted_to_nine_runs();
  auto beyond = [](const plan::Answer& a) { return note_starting(a, "beyond the 9 runs fitted: "); };
  // A table: the 30M row lies inside the runs (its compute, by hand, 6·30M·(C/(6·30M)) inside 6e15..6e18);
  // the 1T row is 1e4 times the largest N, and says so by its size.
  plan::TableOptions sizes;
  sizes.params = {3e7, 1e12};
  const plan::Answer t = plan::table(fitted, sizes);
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0].value("flops") < 6e18);
  CHECK_THAT(beyond(t), StartsWith("beyond the 9 runs fitted: at 1T params: N 1e4× the largest (100M), D ") &&
                            Contains("compute ") && !Contains("at 30M params") && !Contains(";"));
  sizes.params = {3e7};
  CHECK(beyond(plan::table(fitted, sizes)).empty());
  // A comparison: the optimum's numbers once, then the candidate far beyond them by its size.
  plan::CompareOptions c;
  c.compute = 1e18;
  c.candidates.push_back({"huge", 1e12, fit::kMissing, std::nullopt});
  const plan::Answer cmp = plan::compare(fitted, c);
  CHECK_THAT(beyond(cmp), StartsWith("beyond the 9 runs fitted: at 1T params: N 1e4× the largest (100M)"));
  c.candidates[0].N = 5e7;
  CHECK(beyond(plan::compare(fitted, c)).empty());
}

TEST_CASE("a rule's table with a fitted law for its loss says what plan.optimal says of that law") {
  // Chinchilla's approach-1 rule, the loss from a law fitted (without a bootstrap) to nine runs of
  // 10M..100M parameters. Its 30M row lies inside them (1.06e17 FLOP on 589M tokens); its 100B row
  // 1000 times beyond, with a loss the law extrapolates, as plan.optimal at that compute says.
  const fit::FittedLaw fitted = fitted_to_nine_runs();
  const plan::AllocationRule rule = plan::published::chinchilla_approach1();
  plan::TableOptions sizes;
  sizes.params = {3e7, 1e11};
  const plan::Answer t = plan::table(rule, sizes, &fitted);
  CHECK_THAT(note_starting(t, "beyond the 9 runs fitted: "),
             StartsWith("beyond the 9 runs fitted: at 100B params: N 1000× the largest (100M), D ") && !Contains("30M"));
  CHECK_THAT(note_starting(t, "no intervals: "), StartsWith("no intervals: law 'chinchilla' was fitted without a bootstrap"));
  const plan::Answer o = plan::optimal(rule, at(t.rows[1].value("flops")), &fitted);
  CHECK_THAT(note_starting(o, "beyond the 9 runs fitted: "), StartsWith("beyond the 9 runs fitted: N 1000× the largest (100M), D "));
  sizes.params = {3e7};
  CHECK(note_starting(plan::table(rule, sizes, &fitted), "beyond").empty());
}

TEST_CASE("a rule's table with a bootstrapped law for its loss gives the loss its interval") {
  // Chinchilla's law with 100 samples of alpha and beta; the loss of each row of the approach-1 rule's table is the law's at the row's N and
  // D, its interval the 2.5th to 97.5th percentile of the samples' losses there, as plan.optimal's.
  const fit::FittedLaw law = chinchilla_with_samples(11);
  const plan::AllocationRule rule = plan::published::chinchilla_approach1();
  plan::TableOptions sizes;
  sizes.params = {1e9, 70e9};
  const plan::Answer t = plan::table(rule, sizes, &law);
  CHECK(t.samples == 100);
  for (const plan::Answer& row : t.rows) {
    const double N = row.value("N"), D = row.value("D");
    std::vector<double> losses;
    for (const auto& v : law.samples) losses.push_back(v[0] + v[1] / std::pow(N, v[3]) + v[2] / std::pow(D, v[4]));
    check_95(row.quantity("loss").interval, losses);
    const plan::Answer o = plan::optimal(rule, at(row.value("flops")), &law);
    CHECK(o.quantity("loss").interval.lo == Approx(row.quantity("loss").interval.lo).epsilon(1e-9));
    CHECK(o.quantity("loss").interval.hi == Approx(row.quantity("loss").interval.hi).epsilon(1e-9));
  }
}

TEST_CASE("a return curve from a fitted data-constrained law names its budgets beyond the runs' epochs") {
  // Runs of the published law (by hand), 100M..1B parameters on 1B and 10B unique tokens repeated 1 to
  // 16 times, R_D*, R_N* fitted with the base held. The return curve of 1B unique tokens doubles the
  // one-epoch budget ten times: its last rows repeat them far more than 16 times.
  const fit::FittedLaw fitted = fitted_to_repeated_runs();
  plan::ReturnsOptions r;
  r.unique_tokens = 1e9;
  const plan::Answer curve = plan::returns(fitted, r);
  REQUIRE(curve.rows.size() == 11);
  REQUIRE(curve.rows.back().value("epochs") > 32);
  const std::string note = note_starting(curve, "beyond the 18 runs fitted: ");
  CHECK_THAT(note, StartsWith("beyond the 18 runs fitted: ") && Contains("epochs "));
  // The first row (one epoch at the optimum) is inside the runs: it is not named.
  CHECK_THAT(note, !Contains("at " + plan::format_quantity(curve.rows.front().value("N"), plan::Unit::Params) + " params"));
  CHECK_THAT(note, Contains("at " + plan::format_quantity(curve.rows.back().value("N"), plan::Unit::Params) + " params: "));
}

TEST_CASE("tables from a law: closed form and numeric inversion of N_opt(C)") {
  plan::TableOptions o;
  o.params = {1e8, 1e9, 1e10};
  fit::FittedLaw chin = wrap(fit::published::chinchilla());
  plan::Answer t = plan::table(chin, o);
  fit::FittedLaw kaplan = wrap(fit::published::kaplan());
  plan::Answer k = plan::table(kaplan, o);
  for (size_t i = 0; i < o.params.size(); ++i) {
    CHECK(plan::optimal(chin, at(t.rows[i].value("flops"))).value("N") == Approx(o.params[i]).epsilon(1e-9));
    CHECK(plan::optimal(kaplan, at(k.rows[i].value("flops"))).value("N") == Approx(o.params[i]).epsilon(1e-6));
    CHECK(t.rows[i].value("D") == Approx(t.rows[i].value("flops") / (6 * o.params[i])));
  }
  plan::OptimalOptions e = at(1e22);
  e.epochs = 4;
  CHECK_THROWS_WITH(plan::optimal(chin, e), Contains("(epochs = 4) needs a law"));
}

TEST_CASE("a table or return curve that needs a budget beyond the searched 1e4 to 1e40 FLOP says so instead of stopping there") {
  // Kaplan's joint law (numeric): N_opt(C) = (p·N_c^p·C/(6·D_c))^(1/(p+1)), p = alpha_N/alpha_D, by hand
  // (the stationarity condition of the earlier test), so C(N) = 6·D_c·N^(p+1)/(p·N_c^p): 1e22
  // parameters need 1.6e42 FLOP. The table had given 1e40 FLOP on 1.7e17 tokens, no optimum.
  const double Nc = 6.4e13, Dc = 1.8e13, p = 0.076 / 0.103;
  auto flops_for = [&](double n) { return 6 * Dc * std::pow(n, p + 1) / (p * std::pow(Nc, p)); };
  REQUIRE(flops_for(1e22) == Approx(1.63e42).epsilon(1e-2));
  fit::FittedLaw kaplan = wrap(fit::published::kaplan());
  plan::TableOptions sizes;
  sizes.params = {1e9, 1e22};
  CHECK_THROWS_WITH(plan::table(kaplan, sizes),
                    Contains("plan.table: under law 'kaplan' a compute-optimal run of ") &&
                        Contains(" parameters needs more than 1.00e40 FLOP, beyond the budgets searched (1.00e4 FLOP to "
                                 "1.00e40 FLOP; the optimum at 1.00e40 FLOP has "));
  // Inside the range the inversion stands (by hand, to the bisection's 1e-9 in ln C).
  sizes.params = {1e9, 1e20};
  const plan::Answer t = plan::table(kaplan, sizes);
  CHECK(t.rows[0].value("flops") == Approx(flops_for(1e9)).epsilon(1e-6));
  CHECK(t.rows[1].value("flops") == Approx(flops_for(1e20)).epsilon(1e-6));
  // A return curve's first budget (one epoch of U at the optimum) the same way: a law of N, D and U
  // without the closed form (Chinchilla's, written as a custom law), 1e25 unique tokens, whose
  // one-epoch optimum needs about 4e46 FLOP (D_opt(C) = (C/6)^b / G).
  fit::Law custom = fit::Law::Custom(
      "chinchilla_of_U", {{"E", "irreducible loss", false, {}}}, {fit::Input::N, fit::Input::D, fit::Input::U},
      [](const std::vector<double>& v, const fit::Point& x) {
        return v[0] + 406.4 / std::pow(x.N, 0.34) + 410.7 / std::pow(x.D, 0.28) + 0 * x.U;
      },
      "E + 406.4/N^0.34 + 410.7/D^0.28", true);
  plan::ReturnsOptions r;
  r.unique_tokens = 1e25;
  CHECK_THROWS_WITH(plan::returns(wrap(custom.with("E", 1.69)), r),
                    Contains("plan.returns: under law 'chinchilla_of_U' a compute-optimal run of ") &&
                        Contains(" tokens needs more than 1.00e40 FLOP"));
  r.unique_tokens = 25e9;
  const fit::Allocation truth = fit::compute_optimal(fit::published::chinchilla());
  CHECK(plan::returns(wrap(custom.with("E", 1.69)), r).value("one_epoch_flops") ==
        Approx(6 * std::pow(25e9 * truth.G, 1 / truth.b)).epsilon(1e-6));
}

TEST_CASE("answers from a bootstrapped fit carry intervals that cover the truth") {
  // Synthetic runs from the published Chinchilla law with 1% noise; fit with bootstrap; the
  // planner's interval for N_opt(1e22) covers the true value and is narrower than the point ±50%.
  fit::Law truth = fit::published::chinchilla();
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 0.01);
  fit::Observations obs;
  for (double n : {1e7, 3e7, 1e8, 3e8, 1e9}) {
    for (double tpp : {2.0, 5.0, 10.0, 20.0, 50.0, 100.0}) {
      fit::Observation o;
      o.N = n;
      o.D = tpp * n;
      fit::Point p;
      p.N = o.N;
      p.D = o.D;
      o.loss = truth.predict(p) * std::exp(noise(rng));
      obs.Add(o);
    }
  }
  fit::FitOptions options;
  options.starts = {truth.values()};
  options.covariance = false;
  fit::FittedLaw fitted = fit::fit_law(fit::Law::Make(fit::LawKind::Chinchilla), obs, options);
  // Bootstrap by hand (resample runs with replacement, refit from the point estimate), so that this
  // test checks the planner's use of samples whatever the fitter's own bootstrap options do.
  options.starts = {fitted.law.values()};
  std::uniform_int_distribution<size_t> pick(0, obs.size() - 1);
  for (int b = 0; b < 40; ++b) {
    std::vector<size_t> rows(obs.size());
    for (auto& r : rows) r = pick(rng);
    fitted.samples.push_back(fit::fit_law(fit::Law::Make(fit::LawKind::Chinchilla), obs.Subset(rows), options).law.values());
  }
  plan::Answer a = plan::optimal(fitted, at(1e22));
  const double n_true = fit::compute_optimal(truth).N_opt(1e22);
  const auto& n = a.quantity("N");
  REQUIRE(n.interval.valid());
  CHECK(n.interval.contains(n_true));
  CHECK(n.interval.hi / n.interval.lo < 10.0);  // a wide but finite interval: 1e9 → 1e22 is far to extrapolate
  CHECK(n.interval.contains(n.value));
  CHECK(a.samples == 40);
}

// ---- Review findings ---------------------------------------------------------------------------

TEST_CASE("a budget too small for any model is an error, a tiny model is flagged") {
  CHECK_THROWS_WITH(plan::optimal(wrap(fit::published::chinchilla()), at(1)),
                    Contains("less than one parameter") && Contains("far too small"));
  plan::Answer small = plan::optimal(wrap(fit::published::chinchilla()), at(1e6));
  REQUIRE(small.value("N") < 1000);
  bool flagged = false;
  for (const auto& n : small.notes) flagged = flagged || n.find("extrapolated") != std::string::npos;
  CHECK(flagged);
  plan::Answer fine = plan::optimal(wrap(fit::published::chinchilla()), at(1e21));
  CHECK(fine.notes.empty());
}

TEST_CASE("answers name the law they used") {
  CHECK(plan::optimal(wrap(fit::published::epoch()), at(1e21)).law == "epoch");
  CHECK(plan::optimal(wrap(plan::published::datablations_exact()), at(1e22, 25e9)).law == "datablations_exact");
  // A published law given other values is no longer that law (it answered "epoch" and "datablations").
  CHECK(plan::optimal(wrap(fit::published::epoch().with("E", 2.5)), at(1e21)).law == "epoch, modified");
  CHECK(plan::optimal(wrap(fit::published::datablations().with("R_D", 5.0)), at(1e22, 25e9)).law ==
        "datablations, modified");
  CHECK(plan::optimal(wrap(fit::published::epoch().with("E", 1.82)), at(1e21)).law == "epoch");
}

// The "less than one parameter" check ran after every bootstrap sample had been solved, throwing that
// work away: the point answer is checked first, so the samples' laws are never evaluated.
TEST_CASE("a budget too small for any model fails before the bootstrap samples are solved") {
  auto calls = std::make_shared<long>(0);
  fit::Law law = fit::Law::Custom(
      "counted_chinchilla",
      {{"E", "", false, {}}, {"A", "", false, {}}, {"B", "", false, {}}, {"alpha", "", false, {}}, {"beta", "", false, {}}},
      {fit::Input::N, fit::Input::D},
      [calls](const std::vector<double>& v, const fit::Point& x) {
        ++*calls;
        return v[0] + v[1] / std::pow(x.N, v[3]) + v[2] / std::pow(x.D, v[4]);
      },
      "E + A/N^alpha + B/D^beta", true);
  law = law.with_values(fit::published::chinchilla().values());
  // The point answer alone: how many evaluations it takes to find (and reject) the optimum.
  CHECK_THROWS_WITH(plan::optimal(wrap(law), at(1)), Contains("less than one parameter"));
  const long point_only = *calls;
  REQUIRE(point_only > 0);
  fit::FittedLaw with_samples = wrap(law);
  for (int i = 0; i < 50; ++i) {
    std::vector<double> v = law.values();
    v[0] *= 1 + 1e-3 * i;
    with_samples.samples.push_back(v);
  }
  *calls = 0;
  CHECK_THROWS_WITH(plan::optimal(with_samples, at(1)), Contains("less than one parameter"));
  CHECK(*calls == point_only);
  // A budget that builds a model still gets its intervals from every sample.
  plan::Answer fine = plan::optimal(with_samples, at(1e21));
  CHECK(fine.samples == 50);
}

TEST_CASE("too little unique data is blamed on the data, not the law's form") {
  // One unique token at 1e22 FLOP: the answer is the floor of that data (as for 1M), and says so.
  const plan::Answer a = plan::optimal(wrap(plan::published::datablations_exact()), at(1e22, 1));
  std::string notes;
  for (const auto& n : a.notes) notes += n + "\n";
  INFO(notes);
  CHECK(notes.find("does it depend on both N and D") == std::string::npos);
  CHECK(notes.find("is the floor of 1 unique token (") != std::string::npos);
}
