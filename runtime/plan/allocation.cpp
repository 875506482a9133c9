// Allocation rules: power laws N_opt(C), D_opt(C) (Chinchilla approaches 1 and 2, Kaplan's rule).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "core/units.h"
#include "plan/plan.h"

namespace scalelab::plan {

double AllocationRule::evaluate(const fit::Law& power_law, double flops) {
  return power_law.param("k") * std::pow(flops, power_law.param("a"));
}

double AllocationRule::N_at(double flops) const { return evaluate(N_law.law, flops); }

double AllocationRule::width(double N) const { return std::cbrt(aspect * N / 12.0); }
double AllocationRule::all_params(double N) const { return N + (vocab + ctx) * width(N); }

double AllocationRule::non_embedding_params(double N_all) const {
  // y³ + k·y − N_all is increasing and convex for y > 0: Newton's method from an upper bound of the
  // root (y³ ≤ N_all and k·y ≤ N_all) decreases to it monotonically.
  const double k = (vocab + ctx) * std::cbrt(aspect / 12.0);
  if (!(N_all > 0)) return N_all;
  double y = std::min(std::cbrt(N_all), N_all / k);
  for (int i = 0; i < 100; ++i) {
    const double step = (y * y * y + k * y - N_all) / (3 * y * y + k);
    y -= step;
    if (!(std::fabs(step) > 1e-15 * y)) break;
  }
  return y * y * y;
}

AllocationRule AllocationRule::with_shape(double vocab_, double ctx_, double aspect_, const std::string& function) const {
  if (!non_embedding && !counts_all())
    fail(function, ": the rule '", name, "' does not say whether its N counts all parameters or non-embedding ones (its "
         "power laws were not fitted to runs that say it, e.g. a study's), so no law converts its N and a model shape "
         "would change nothing");
  // ctx may be 0: models without learned positions (rotary or relative ones, as Chinchilla's) have no
  // position parameters; it was refused, leaving such models no shape to give.
  auto check = [&](double v, double least, const char* what, const char* hint) {
    if (std::isnan(v)) fail(function, ": missing ", what, " (", hint, ")");
    if (!(v >= least) || !std::isfinite(v))
      fail(function, ": ", what, " must be a number of at least ", least, " (got ", format_number(v, 6), "); ", hint);
  };
  check(vocab_, 1, "vocab", "the models' vocabulary, e.g. vocab = 50257");
  check(ctx_, 0, "ctx", "the models' context in tokens, whose learned positions are parameters, e.g. ctx = 1024; 0 "
        "for models without learned positions (rotary or relative ones)");
  if (!(aspect_ > 0) || !std::isfinite(aspect_))
    fail(function, ": aspect must be a positive d_model / n_layer ratio (got ", format_number(aspect_, 6),
         "); Kaplan et al. found 20 to 200 all fine, model.shape_for's default is 64");
  AllocationRule out = *this;
  out.vocab = vocab_;
  out.ctx = ctx_;
  out.aspect = aspect_;
  return out;
}

double AllocationRule::D_at(double flops) const {
  return D_law ? evaluate(D_law->law, flops) : flops / (6.0 * N_at(flops));
}

AllocationRule AllocationRule::FromIsoFlop(const fit::IsoFlopResult& isoflop, std::string name) {
  AllocationRule rule;
  rule.name = std::move(name);
  std::vector<double> used;
  for (const fit::IsoFlopCurve& c : isoflop.curves)
    if (c.used) used.push_back(c.C);
  if (used.size() < 2 || !isoflop.N_law.fitted)
    fail("allocation rule '", rule.name, "': the IsoFLOP analysis has no power laws (they need two budgets or more whose ",
         "parabola has a minimum; ", used.size(), " here)");
  rule.doc = str("Chinchilla approach 2: power laws through the vertices of ", used.size(), " IsoFLOP parabolas (",
                 format_flops(used.front()), " to ", format_flops(used.back()), " FLOP)");
  // The power laws carry the analysis's bootstrap (a, k per resample) as their samples
  // (fit::set_allocation_samples), so that answers from the rule carry its intervals.
  rule.N_law = isoflop.N_law;
  rule.D_law = isoflop.D_law;
  rule.non_embedding = rule.N_law.N_counts == "non_embedding";  // the runs' N, as the analysis says it
  rule.set_span(used, format_counted(static_cast<double>(used.size()), "IsoFLOP budget"));
  rule.Validate();
  return rule;
}

AllocationRule AllocationRule::FromApproach1(const fit::Approach1Result& approach1, std::string name) {
  AllocationRule rule;
  rule.name = std::move(name);
  if (!approach1.N_law.fitted)
    fail("allocation rule '", rule.name, "': the approach-1 analysis has no power laws",
         approach1.unfitted.empty() ? "" : " (" + approach1.unfitted + ")");
  std::vector<double> C;
  for (const fit::FrontierSwitch& w : approach1.switches) C.push_back(w.C);
  const char* plural = C.size() == 1 ? "" : "es";
  rule.doc = str("Chinchilla approach 1: power laws through the ", C.size(), " switch", plural,
                 " of the training curves' lower envelope");
  rule.N_law = approach1.N_law;  // with the bootstrap's samples, as in FromIsoFlop
  rule.D_law = approach1.D_law;
  rule.non_embedding = rule.N_law.N_counts == "non_embedding";  // the runs' N, as the analysis says it
  rule.set_span(C, str(C.size(), " approach-1 frontier switch", plural));
  rule.Validate();
  return rule;
}

void AllocationRule::set_span(const std::vector<double>& compute, std::string what) {
  fit::Interval span;
  span.level = 1;
  for (double c : compute) {
    if (!(c > 0) || !std::isfinite(c)) continue;
    span.lo = std::isnan(span.lo) ? c : std::min(span.lo, c);
    span.hi = std::isnan(span.hi) ? c : std::max(span.hi, c);
  }
  span_C = span;
  span_of = span.valid() ? std::move(what) : std::string();
}

void AllocationRule::span_from_laws() {
  if (span_C.valid()) return;
  std::vector<double> compute;
  size_t budgets = 0;
  for (const fit::FittedLaw* f : {&N_law, D_law ? &*D_law : nullptr}) {
    if (!f || !f->fitted || !f->span_C.valid()) continue;
    compute.push_back(f->span_C.lo);
    compute.push_back(f->span_C.hi);
    budgets = std::max(budgets, f->observations);
  }
  if (!compute.empty()) set_span(compute, format_counted(static_cast<double>(budgets), "budget"));
}

void AllocationRule::add_isoflop_resample(double k, double a) {
  N_law.samples.push_back({k, a});
  if (D_law) D_law->samples.push_back({1.0 / (6.0 * k), 1.0 - a});
}

double AllocationRule::flops_for_params(double N) const {
  return std::pow(N / N_law.law.param("k"), 1.0 / N_law.law.param("a"));
}

void AllocationRule::Validate() const {
  auto check = [&](const fit::FittedLaw& f, const char* which) {
    const fit::Law& law = f.law;
    if (law.kind() != fit::LawKind::PowerLaw)
      fail("allocation rule '", name, "': its ", which, " law must be a power law k·C^a (fit.power_law), got law '",
           law.name(), "'");
    if (law.inputs().size() != 1 || law.inputs()[0] != fit::Input::C)
      fail("allocation rule '", name, "': its ", which, " law must be a power law of compute C (FLOP)");
    if (!(law.param("k") > 0) || !(law.param("a") > 0))
      fail("allocation rule '", name, "': its ", which, " law needs k > 0 and a > 0 (got k = ",
           format_number(law.param("k"), 6), ", a = ", format_number(law.param("a"), 6), ")");
  };
  check(N_law, "N_opt");
  if (D_law) check(*D_law, "D_opt");
}

std::string AllocationRule::Summary() const {
  std::ostringstream out;
  out << "allocation rule " << name << ": N_opt = " << format_number(N_law.law.param("k"), 4) << "·C^"
      << format_number(N_law.law.param("a"), 4);
  if (D_law)
    out << ", D_opt = " << format_number(D_law->law.param("k"), 4) << "·C^"
        << format_number(D_law->law.param("a"), 4);
  else
    out << ", D = C/(6N)";
  if (!N_law.samples.empty()) out << " (" << N_law.samples.size() << " bootstrap samples)";
  if (counts_all() && has_shape())
    out << "; N all parameters, models of vocab " << format_number(vocab, 6) << ", ctx " << format_number(ctx, 6)
        << ", d/L = " << format_number(aspect, 4);
  if (non_embedding)
    out << "; N non-embedding" << (has_shape() ? str(", models of vocab ", format_number(vocab, 6), ", ctx ",
                                                     format_number(ctx, 6), ", d/L = ", format_number(aspect, 4))
                                               : std::string());
  if (!doc.empty()) out << "\n  " << doc;
  return out.str();
}

namespace published {

namespace {
fit::FittedLaw power(double ln_k, double a, const std::string& output) {
  fit::FittedLaw f;
  f.law = fit::Law::PowerLaw(std::exp(ln_k), a, fit::Input::C, output);
  return f;
}
}  // namespace

AllocationRule chinchilla_approach1() {
  // The centre of the region of (k, a) whose power laws round to every approach-1 row of Chinchilla's
  // table 3 except 67B (maximum margin in log space: 3.6e-4 for FLOPs, 2.0e-4 for tokens).
  AllocationRule rule;
  rule.name = "chinchilla_approach1";
  rule.doc =
      "Hoffmann et al. 2022, approach 1 (table 3): N_opt = 0.0990·C^0.4982, D_opt = 1.674·C^0.5019. Reproduces the "
      "table's FLOPs and tokens to their printed precision for 400M, 1B, 10B, 175B, 280B, 520B, 1T and 10T; the 67B "
      "row (the Gopher budget 5.76e23) is inconsistent with its neighbours under any pair of power laws: there these "
      "laws give 67.9B parameters on 1.41T tokens.";
  rule.N_law = power(-2.31284620322395, 0.4981528265604677, "N_opt");
  rule.N_law.N_counts = "all";  // Hoffmann et al. count every parameter, the embeddings included
  rule.D_law = power(0.5150249357405596, 0.5019487746854658, "D_opt");
  return rule;
}

AllocationRule kaplan() {
  AllocationRule rule;
  rule.name = "kaplan";
  rule.doc =
      "Kaplan et al. 2020 (eq. 6.1, fig. 14): N_opt = 1.3e9·(C / PF-day)^0.73 non-embedding parameters, D = C/(6N).";
  // 1.3e9·(C / 8.64e19)^0.73 = k·C^0.73 with k = 1.3e9 / 8.64e19^0.73.
  rule.N_law = power(std::log(1.3e9) - 0.73 * std::log(kPetaflopDay), 0.73, "N_opt");
  rule.non_embedding = true;
  return rule;
}

fit::Law datablations_exact() {
  return fit::published::datablations()
      .with_doc("Muennighoff et al. 2023, data-constrained law: fit.published.datablations (the unrounded fitted "
                "constants of the README of Muennighoff et al.'s datablations repository, github.com/huggingface/datablations) "
                "under the name earlier scripts use.")
      .with_name("datablations_exact")
      .as_published();
}

}  // namespace published

}  // namespace scalelab::plan
