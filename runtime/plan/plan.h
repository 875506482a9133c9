// Planning questions answered with a scaling law: compute-optimal and data-constrained allocation,
// inference-aware allocation (Sardana et al.), loss predictions and their inversion, comparisons of
// allocations at one budget, tables of compute-optimal runs, and the cost of a run in GPU-hours.
//
// Every answer is an Answer: named quantities (N, D, epochs, loss, flops, ...) with units, each with a
// percentile interval when the law carries bootstrap samples (the answer is recomputed for every
// sample), and optional rows (tables, comparisons, return curves). Answer::Summary() prints a compact
// unit-aware table.
//
//   fit::FittedLaw law;
//   law.law = plan::published::datablations_exact();   // or a fit::fit_law result with bootstrap samples
//   plan::OptimalOptions question;
//   question.compute = 1e22;
//   question.unique_tokens = 25e9;
//   plan::Answer a = plan::optimal(law, question);
//   a.value("N");        // 7.03e9
//   a.value("epochs");   // 9.49
//   std::cout << a.Summary();   // or a.Brief(): "7.03B params, 237B tokens (9.49 epochs), loss 2.2221, 1.00e22 FLOP"
//
// A Question is the same request as a value that exists before any law: build it, answer it later
// with Question::answer(law) (the study DSL declares questions and answers them with its fitted law).
//
// Conventions: training compute C = 6·N·D (Kaplan's 6N per token, attention FLOPs left out), N as the
// law counts it (all parameters for Chinchilla and Muennighoff, non-embedding for Kaplan);
// plan::optimal also plans in the counts with attention (OptimalOptions::flops, FlopsPerToken).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fit/fit.h"
#include "fit/law.h"
#include "plan/cost.h"

namespace scalelab::plan {

// ---- Allocation rules: Chinchilla approaches 1 and 2, Kaplan's C^0.73 ---------------------------
// N_opt(C) = k_N·C^a from a power law (fit::Law kind PowerLaw, input C in FLOP) and, optionally,
// D_opt(C) = k_D·C^b; without a D law the tokens are D = C/(6N). Each law may carry bootstrap
// samples (fit::fit_power_law(..., bootstrap)); intervals of N and D come from them.
struct AllocationRule {
  std::string name;
  std::string doc;
  fit::FittedLaw N_law;
  std::optional<fit::FittedLaw> D_law;
  // Whether N_opt counts non-embedding parameters (Kaplan et al.'s N) rather than all of them: an
  // answer that reads such an N with a law of all parameters says so.
  bool non_embedding = false;
  // Whether N_opt is known to count all parameters (Chinchilla's rule, a study's of params = "all":
  // its N law's N_counts says so); a rule that says neither (hand-made power laws) is read as it is.
  bool counts_all() const { return !non_embedding && N_law.N_counts == "all"; }
  // The shape of the rule's models: its vocabulary, context and d/L. A law of all parameters reads
  // the N of a rule of non-embedding N as all_params(N), and a law of non-embedding N reads the N of
  // a rule of all parameters as non_embedding_params(N): the N of a GPT of that shape (tied output
  // layer, learned positions: model.gpt's count); without it such a law refuses the rule.
  double vocab = fit::kMissing, ctx = fit::kMissing, aspect = 64;
  bool has_shape() const { return !std::isnan(vocab); }
  // N + (vocab + ctx)·d, with d = (aspect·N/12)^(1/3) the width of N = 12·L·d² at d = aspect·L.
  double all_params(double N) const;
  // Its inverse: the non-embedding N whose all_params is N_all (the real root of y³ + k·y = N_all,
  // y = N^(1/3), k = (vocab + ctx)·(aspect/12)^(1/3)).
  double non_embedding_params(double N_all) const;
  double width(double N) const;
  // The same rule with its models' shape (rule:with{ vocab =, ctx = [, aspect =] }); throws naming
  // `function` for a rule that does not say what its N counts (no law converts it, so a shape would
  // change nothing) or a vocabulary, context or aspect that is not a positive finite number.
  AllocationRule with_shape(double vocab, double ctx, double aspect, const std::string& function) const;
  // Whose shape it is when the rule was given one it did not carry (a study reads its questions' rules
  // with its own models' shape: "the study's models' shape"): an answer that converts the rule's N
  // with it says so. Empty for a shape of rule:with.
  std::string shape_source;
  // The compute the rule was fitted on, lo..hi (the budgets of an IsoFLOP analysis whose vertices
  // the power laws go through, the switches of an approach-1 envelope), and what those were ("4
  // IsoFLOP budgets"): an answer far outside it says how far, as answers from a fitted loss law do.
  // Invalid (no note) for rules without one: published rules, hand-made power laws.
  fit::Interval span_C;
  std::string span_of;

  // k·C^a of a power law (its parameters k and a).
  static double evaluate(const fit::Law& power_law, double flops);
  double N_at(double flops) const;
  double D_at(double flops) const;
  // Approach 2: the power laws through the vertices of an IsoFLOP analysis (fit::fit_isoflop).
  static AllocationRule FromIsoFlop(const fit::IsoFlopResult& isoflop, std::string name = "isoflop");
  // Approach 1: the power laws through the switches of the training curves' lower envelope
  // (fit::fit_approach1).
  static AllocationRule FromApproach1(const fit::Approach1Result& approach1, std::string name = "approach1");
  // Sets span_C to the least and greatest of `compute` (positive, finite values) and span_of to
  // `what`; leaves the rule without a span when there are none.
  void set_span(const std::vector<double>& compute, std::string what);
  // A rule made of power laws fitted by fit::fit_power_law (plan.allocation{ N = fit.power_law{...} })
  // spans the compute they were fitted on (their span_C, "4 budgets"): set from them when the rule
  // has no span of its own, so that its answers far outside it say how far.
  void span_from_laws();
  // One bootstrap resample of an IsoFLOP analysis (N_opt = k·C^a) as the power laws' sample:
  // N_opt = k·C^a and, where there is a D law, D_opt = C/(6·N_opt) = (1/(6k))·C^(1−a).
  void add_isoflop_resample(double k, double a);
  // The compute at which the rule picks N parameters (inverts N_opt(C)).
  double flops_for_params(double N) const;
  void Validate() const;  // power laws with output N_opt (and D_opt), positive k
  std::string Summary() const;
};

namespace published {
// Chinchilla approach 1 (Hoffmann et al. 2022, table 3): N_opt = k_N·C^0.49815, D_opt = k_D·C^0.50196,
// the power laws that reproduce the table's approach-1 columns to their printed precision (every row
// but 67B, which no pair of power laws can reproduce together with its neighbours: it is the Gopher
// budget 5.76e23, where these laws give 67.9B parameters on 1.41T tokens). The exponents lie inside
// the paper's intervals a = 0.50 (0.488, 0.502), b = 0.50 (0.501, 0.512).
AllocationRule chinchilla_approach1();
// Kaplan et al. 2020, eq. 6.1 / fig. 14: N_opt = 1.3e9·(C / PF-day)^0.73 (non-embedding N),
// D = C/(6N).
AllocationRule kaplan();
// Muennighoff et al. 2023: fit::published::datablations() (the unrounded constants of the
// datablations README, A = e^6.255414, B = e^7.3049974, E = e^0.6254804, α = β = 0.3526596,
// R_D* = 15.387756, R_N* = 5.309743: the values behind the paper's checks, L(6.34e9, 242e9, 25e9) =
// 2.2256 and 7.0B on 237B tokens at 1e22 with 25B unique) under the name earlier scripts use.
fit::Law datablations_exact();
}  // namespace published

// ---- Answers ------------------------------------------------------------------------------------
enum class Unit {
  Params,          // "7.03B"
  Tokens,          // "237B"
  TokensFine,      // one decimal in its unit, as Chinchilla's table prints tokens: "8.0B", "205.1B"
  Flops,           // "1.0e22"
  Loss,            // "2.2221"
  Epochs,          // "9.49"
  Ratio,           // tokens per parameter, multiples: "33.8"
  Fraction,        // "12.3%"
  Hours,           // GPU-hours, as a count: "7.02k"
  Plain,           // a number with 3 significant digits
};

struct Quantity {
  std::string name;     // "N", "D", "tokens_per_param", "epochs", "loss", "flops", ...
  double value = fit::kMissing;
  Unit unit = Unit::Plain;
  std::string label;    // column label: "params", "tokens", ...
  fit::Interval interval;   // percentile interval over bootstrap samples (invalid without samples)
  // A result that every sample may give alike (the cost of a data limit that does not bind: 0): its
  // interval is kept when it has no width, where an input's (the budget) is dropped.
  bool keeps_flat_interval = false;
};

struct Answer {
  std::string question;     // "compute-optimal allocation at 1.0e22 FLOP with 25B unique tokens"
  std::string law;          // the law's name: "datablations", "epoch, modified", "chinchilla (fitted to 40 runs)"
  std::string method;       // "closed form", "numeric: 2 local optima, best kept", ...
  // The convention its compute is counted in (FlopsPerToken::Describe: "C = 6·N·D"), for answers
  // about a training budget; empty for those about none (a loss at given N and D).
  std::string convention;
  std::vector<Quantity> quantities;
  std::vector<Answer> rows;            // tables, comparisons, return curves
  std::string row_label;               // first column of rows ("allocation", "params")
  std::vector<std::string> row_names;  // one per row
  std::vector<std::string> notes;
  // Of the answer's training compute, when a GPU was given. An answer of rows without one compute of
  // its own (a table of model sizes, a return curve) prices each row instead: each row's cost, and its
  // GPU-hours as the rows' quantity gpu_hours.
  std::optional<Cost> cost;
  int samples = 0;                     // bootstrap samples the intervals come from
  int samples_failed = 0;              // samples for which the question had no answer

  bool has(const std::string& name) const;
  const Quantity& quantity(const std::string& name) const;  // throws listing the names there are
  double value(const std::string& name) const { return quantity(name).value; }
  Answer& set(const std::string& name, double value, Unit unit, const std::string& label = "");
  std::vector<std::string> names() const;

  // One compact block: the question, a table of quantities with intervals, cost, notes, rows.
  std::string Summary() const;
  // One line of the headline numbers: "7.03B params, 237B tokens (9.49 epochs), loss 2.2221,
  // 1.00e22 FLOP, 7.02k H100-hours".
  std::string Brief() const;
  // The same as Markdown (a heading line, a table of quantities, a table of rows, notes), for reports.
  std::string Markdown() const;
};

// Formats a value in a quantity's unit: 7.02B, 237B, 9.49, 2.2256, 1.2e22, 33.8, 12.3%.
std::string format_quantity(double value, Unit unit);

// How far a run of N parameters on D tokens at C FLOP lies beyond the runs `law` was fitted to, as
// answers note it ("beyond the 25 runs fitted: N 380× the largest (100M), D ..., compute ..."): empty
// within twice their span, and for a law fitted to no runs of ours (a published one). For numbers
// computed from a law outside plan's answers (law:allocation(C)).
std::string beyond_runs(const fit::FittedLaw& law, double N, double D, double C);

// ---- Questions ----------------------------------------------------------------------------------

// The convention a compute budget is counted in (REFERENCE.md, "Counting parameters and compute"):
// C = M(N)·D, with M(N) the training FLOPs per token of a model of N parameters (N as the law counts
// it).
//   SixN (the default): M = 6N. C = 6·N·D, Kaplan's and Chinchilla's budgets, the convention in which
//     a study counts its runs' FLOPs and so in which its fits' budgets are.
//   Kaplan: M = 6N + 6·L·T·d, attention's causal half counted (Kaplan et al.'s C_forward, tripled;
//     model.flops_per_token).
//   PaLM: M = 6N + 12·L·T·d, the full T×T products (PaLM, nanoGPT; DeepSeek's M = 72·L·d² + 12·L·d·T
//     is the same with N = 12·L·d² non-embedding; model.flops_per_token_palm).
// L and d are the shape of N parameters at aspect ratio d/L: N = 12·L·d² with d = aspect·L, so
// d = (aspect·N/12)^(1/3) and L·d = d²/aspect; T is the context (ctx).
struct FlopsPerToken {
  enum class Kind { SixN, Kaplan, PaLM } kind = Kind::SixN;
  double ctx = fit::kMissing;  // T, tokens of context (required for Kaplan and PaLM)
  double aspect = 64;          // d_model / n_layer of the shapes (model.shape_for's default)

  bool six_n() const { return kind == Kind::SixN; }
  double width(double N) const;   // d = (aspect·N/12)^(1/3)
  double layers(double N) const;  // L = d/aspect
  double at(double N) const;      // M(N), FLOP per training token
  // "C = 6·N·D"; "C = (6N + 6·L·T·d)·D (Kaplan's count with attention; T = 2048, d/L = 64)".
  std::string Describe() const;
  // Throws naming `function` and the option: a context and aspect positive and finite.
  void Validate(const std::string& function) const;
};

struct OptimalOptions {
  double compute = fit::kMissing;        // training FLOP (C = 6ND, or as `flops` counts it); required
  double unique_tokens = fit::kMissing;  // U: data-constrained allocation (law needs R_D*, R_N*)
  double epochs = fit::kMissing;         // fixed epochs: D = epochs·U with U = D/epochs free
  enum class Method { Auto, ClosedForm, Numeric } method = Method::Auto;
  int grid = 241;                        // numeric: grid points over ln N before refining
  // The convention `compute` is counted in; other than 6N, solved numerically (the closed form is
  // C = 6ND's). An allocation rule's budgets are in the convention it was fitted in: a rule refuses
  // any other.
  FlopsPerToken flops;
  void Validate() const;
};
// The compute-optimal allocation under `law`, or under an allocation rule (the law, if any, then
// gives the loss). Closed form for laws with E, A, B, alpha, beta without a data constraint;
// otherwise numeric: a grid over ln N (tokens per parameter 1e-6 … 1e8), every local minimum of
// the grid refined by Brent's method, the best kept.
Answer optimal(const fit::FittedLaw& law, const OptimalOptions& options);
Answer optimal(const AllocationRule& rule, const OptimalOptions& options, const fit::FittedLaw* law = nullptr);

// The loss at N, D [, U].
struct LossOptions {
  double N = fit::kMissing, D = fit::kMissing, unique_tokens = fit::kMissing;
  void Validate() const;
};
Answer loss(const fit::FittedLaw& law, const LossOptions& options);

// The least compute whose compute-optimal run reaches `loss` (data-constrained with unique_tokens).
struct ComputeForOptions {
  double loss = fit::kMissing;
  double unique_tokens = fit::kMissing;
  FlopsPerToken flops;  // the convention the answer's compute is counted in (as plan::optimal's)
  void Validate() const;
};
Answer compute_for(const fit::FittedLaw& law, const ComputeForOptions& options);

// Inference-aware allocation (Sardana et al. 2023): the N and D_train minimising
// 6·N·D_train + 2·N·D_inference subject to L(N, D_train) = target, where the target is `loss` or the
// loss of the compute-optimal run at `compute`. Also reports the compute-optimal run reaching the
// same loss and what the inference-aware choice saves over it.
struct InferenceOptions {
  double loss = fit::kMissing;            // target loss, or
  double compute = fit::kMissing;         // the target is the loss of the compute-optimal run at this C
  double inference_tokens = fit::kMissing;  // expected tokens processed at inference (≥ 0)
  double unique_tokens = fit::kMissing;
  // The convention training compute is counted in: M(N)·D_train, and inference M(N)/3 per token (the
  // forward pass, 2N + 2·L·T·d in Kaplan's count); the target from `compute` is the optimum in it.
  FlopsPerToken flops;
  void Validate() const;
};
Answer inference(const fit::FittedLaw& law, const InferenceOptions& options);

// Comparison of allocations at one budget: each candidate is {N, D} (D = C/(6N) when missing) or an
// allocation rule; rows give the law's loss, the gap to the law's optimum, and the compute the
// optimum needs to reach the same loss (so "Gopher's run was worth X% of its compute").
struct Candidate {
  std::string name;
  double N = fit::kMissing, D = fit::kMissing;
  std::optional<AllocationRule> rule;
};
struct CompareOptions {
  double compute = fit::kMissing;
  double unique_tokens = fit::kMissing;
  std::vector<Candidate> candidates;
  // The convention the budget (and each candidate's compute, D·M(N)) is counted in; rules refuse
  // any other than 6·N·D.
  FlopsPerToken flops;
  void Validate() const;
};
Answer compare(const fit::FittedLaw& law, const CompareOptions& options);

// Compute-optimal FLOPs and tokens for each model size (Chinchilla's table 3): from the law
// (inverting its N_opt(C)) or from an allocation rule.
struct TableOptions {
  std::vector<double> params;
  // The convention each row's compute is counted in (the law's optimum in it, D = C/M(N)); a rule's
  // rows are 6·N·D and refuse any other.
  FlopsPerToken flops;
  void Validate() const;
};
Answer table(const fit::FittedLaw& law, const TableOptions& options);
Answer table(const AllocationRule& rule, const TableOptions& options, const fit::FittedLaw* law = nullptr);

// The return on compute spent on repeated data (Muennighoff et al. fig. 3): for each budget, the
// data-constrained optimum (N, D, epochs, loss), the loss with unlimited unique data at the same
// compute, and the effective compute (what unlimited data would need for the same loss) as a
// fraction of the compute spent. Default budgets: C₁·2^k, k = 0…10, where C₁ is the compute whose
// unconstrained optimum uses exactly U tokens (one epoch).
struct ReturnsOptions {
  double unique_tokens = fit::kMissing;
  std::vector<double> compute;  // empty: the default budgets
  // The convention the budgets (given or default) and the effective compute are counted in.
  FlopsPerToken flops;
  void Validate() const;
};
Answer returns(const fit::FittedLaw& law, const ReturnsOptions& options);

// A question's inputs in words: its answer's first line (answer.question) and its summary's alike,
// each input printed as the answer prints its quantity of that name (epochs to three digits, a loss to
// four decimals), so that a question and its answer never show one input two ways.
std::string describe(const OptimalOptions& options);
std::string describe(const LossOptions& options);
std::string describe(const ComputeForOptions& options);
std::string describe(const InferenceOptions& options);
std::string describe(const ReturnsOptions& options);

// A question as a value: created without a law, answered with one later.
class Question {
 public:
  enum class Kind { Optimal, Loss, ComputeFor, Inference, Compare, Table, Returns };
  static Question Optimal(OptimalOptions options, std::optional<AllocationRule> rule = std::nullopt);
  static Question Loss(LossOptions options);
  static Question ComputeFor(ComputeForOptions options);
  static Question Inference(InferenceOptions options);
  static Question Compare(CompareOptions options);
  static Question Table(TableOptions options, std::optional<AllocationRule> rule = std::nullopt);
  static Question Returns(ReturnsOptions options);

  Kind kind() const { return kind_; }
  const char* kind_name() const;   // "optimal", "loss", ...
  // The cost of the answer's training compute on these GPUs (added to every answer).
  void set_cost(CostOptions options) { cost_ = std::move(options); }
  const std::optional<CostOptions>& cost() const { return cost_; }

  // The numbers the question was asked with, by name (compute, unique_tokens, epochs, N, D, loss,
  // inference_tokens), for reports and the study store.
  std::vector<std::pair<std::string, double>> inputs() const;
  // The lists it was asked with, by name: a table's model sizes (params), a return curve's budgets
  // (compute, when given).
  std::vector<std::pair<std::string, std::vector<double>>> list_inputs() const;
  // The allocations a comparison was asked to compare, in the order of its rows (empty for other
  // kinds): they are inputs as much as its budget is.
  const std::vector<Candidate>& candidates() const;
  // The convention its budget is counted in: "C = 6·N·D" unless the question counts attention too
  // (its options' flops).
  std::string flops_convention() const;
  // Whether answering needs a law (allocation-rule questions do not).
  bool needs_law() const;
  Answer answer(const fit::FittedLaw& law) const;
  Answer answer() const;  // allocation-rule questions only; throws saying a law is needed otherwise
  std::string Summary() const;  // "question optimal: compute-optimal allocation at 1.00e21 FLOP\n  asked without a law: ..."
  // Throws as answer() would with a law named `law_name` whose N counts `N_counts` ("all" or
  // "non_embedding") where an allocation rule of the question (its allocation =, a candidate)
  // counts N otherwise and has no shape to convert it: for checking a question before its law is
  // fitted (a study checks its questions when it is declared, not after training every run).
  void check_rule_counts(const std::string& law_name, const std::string& N_counts) const;
  // The same question with every allocation rule of it (its allocation =, a candidate) that says what
  // its N counts and carries no models' shape given `vocab`, `ctx` and `aspect`
  // (AllocationRule::with_shape), from `source` ("the study's models' shape", said by the answers that
  // convert the rule's N with it). Rules with a shape of their own keep it.
  Question with_models_shape(double vocab, double ctx, double aspect, const std::string& source) const;

 private:
  Kind kind_ = Kind::Optimal;
  OptimalOptions optimal_;
  LossOptions loss_;
  ComputeForOptions compute_for_;
  InferenceOptions inference_;
  CompareOptions compare_;
  TableOptions table_;
  ReturnsOptions returns_;
  std::optional<AllocationRule> rule_;
  std::optional<CostOptions> cost_;
  const FlopsPerToken& flops() const;  // the kind's options' count (6·N·D for plan.loss)
};

}  // namespace scalelab::plan
