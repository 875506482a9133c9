// Questions as values: declared before a law exists (the study DSL), answered with one later.
#include <sstream>

#include "core/error.h"
#include "core/units.h"
#include "plan/plan.h"

namespace scalelab::plan {

Question Question::Optimal(OptimalOptions options, std::optional<AllocationRule> rule) {
  options.Validate();
  if (rule) rule->Validate();
  Question q;
  q.kind_ = Kind::Optimal;
  q.optimal_ = options;
  q.rule_ = std::move(rule);
  return q;
}

Question Question::Loss(LossOptions options) {
  options.Validate();
  Question q;
  q.kind_ = Kind::Loss;
  q.loss_ = options;
  return q;
}

Question Question::ComputeFor(ComputeForOptions options) {
  options.Validate();
  Question q;
  q.kind_ = Kind::ComputeFor;
  q.compute_for_ = options;
  return q;
}

Question Question::Inference(InferenceOptions options) {
  options.Validate();
  Question q;
  q.kind_ = Kind::Inference;
  q.inference_ = options;
  return q;
}

Question Question::Compare(CompareOptions options) {
  options.Validate();
  Question q;
  q.kind_ = Kind::Compare;
  q.compare_ = std::move(options);
  return q;
}

Question Question::Table(TableOptions options, std::optional<AllocationRule> rule) {
  options.Validate();
  if (rule) rule->Validate();
  Question q;
  q.kind_ = Kind::Table;
  q.table_ = std::move(options);
  q.rule_ = std::move(rule);
  return q;
}

Question Question::Returns(ReturnsOptions options) {
  options.Validate();
  Question q;
  q.kind_ = Kind::Returns;
  q.returns_ = std::move(options);
  return q;
}

const char* Question::kind_name() const {
  switch (kind_) {
    case Kind::Optimal: return "optimal";
    case Kind::Loss: return "loss";
    case Kind::ComputeFor: return "compute_for";
    case Kind::Inference: return "inference";
    case Kind::Compare: return "compare";
    case Kind::Table: return "table";
    case Kind::Returns: return "returns";
  }
  return "?";
}

std::vector<std::pair<std::string, double>> Question::inputs() const {
  std::vector<std::pair<std::string, double>> out;
  auto add = [&](const char* name, double v) {
    if (v == v) out.emplace_back(name, v);
  };
  switch (kind_) {
    case Kind::Optimal:
      add("compute", optimal_.compute);
      add("unique_tokens", optimal_.unique_tokens);
      add("epochs", optimal_.epochs);
      break;
    case Kind::Loss:
      add("N", loss_.N);
      add("D", loss_.D);
      add("unique_tokens", loss_.unique_tokens);
      break;
    case Kind::ComputeFor:
      add("loss", compute_for_.loss);
      add("unique_tokens", compute_for_.unique_tokens);
      break;
    case Kind::Inference:
      add("loss", inference_.loss);
      add("compute", inference_.compute);
      add("inference_tokens", inference_.inference_tokens);
      add("unique_tokens", inference_.unique_tokens);
      break;
    case Kind::Compare:
      add("compute", compare_.compute);
      add("unique_tokens", compare_.unique_tokens);
      break;
    case Kind::Table:
      break;
    case Kind::Returns:
      add("unique_tokens", returns_.unique_tokens);
      break;
  }
  // A budget counted with attention: its context and aspect (flops_convention() names the count).
  if (!flops().six_n()) {
    add("ctx", flops().ctx);
    add("aspect", flops().aspect);
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<double>>> Question::list_inputs() const {
  std::vector<std::pair<std::string, std::vector<double>>> out;
  if (kind_ == Kind::Table) out.emplace_back("params", table_.params);
  if (kind_ == Kind::Returns && !returns_.compute.empty()) out.emplace_back("compute", returns_.compute);
  return out;
}

const std::vector<Candidate>& Question::candidates() const {
  static const std::vector<Candidate> none;
  return kind_ == Kind::Compare ? compare_.candidates : none;
}

const FlopsPerToken& Question::flops() const {
  static const FlopsPerToken six_n;
  switch (kind_) {
    case Kind::Optimal: return optimal_.flops;
    case Kind::ComputeFor: return compute_for_.flops;
    case Kind::Inference: return inference_.flops;
    case Kind::Compare: return compare_.flops;
    case Kind::Table: return table_.flops;
    case Kind::Returns: return returns_.flops;
    case Kind::Loss: break;
  }
  return six_n;
}

std::string Question::flops_convention() const { return flops().Describe(); }

bool Question::needs_law() const { return !((kind_ == Kind::Optimal || kind_ == Kind::Table) && rule_); }

namespace {
// The cost's notes (an MFU above any measured) are the answer's too: said where its notes are. An
// answer without one compute of its own (plan.table's model sizes, plan.returns' budgets) prices
// each row: gpu = "H100" on those was taken and priced nothing, without a word.
void add_cost(Answer& a, const std::optional<CostOptions>& options) {
  if (!options) return;
  if (a.has("flops")) {
    a.cost = cost(a.value("flops"), *options);
    a.notes.insert(a.notes.end(), a.cost->notes.begin(), a.cost->notes.end());
    return;
  }
  std::vector<std::string> notes;
  for (Answer& row : a.rows) {
    if (!row.has("flops")) continue;
    row.cost = cost(row.value("flops"), *options);
    row.set("gpu_hours", row.cost->gpu_hours, Unit::Hours, row.cost->gpu + "-hours");
    if (notes.empty()) notes = row.cost->notes;  // the same inputs give the same notes on every row
  }
  a.notes.insert(a.notes.end(), notes.begin(), notes.end());
}
}  // namespace

Answer Question::answer(const fit::FittedLaw& law) const {
  Answer a;
  switch (kind_) {
    case Kind::Optimal: a = rule_ ? optimal(*rule_, optimal_, &law) : optimal(law, optimal_); break;
    case Kind::Loss: a = loss(law, loss_); break;
    case Kind::ComputeFor: a = compute_for(law, compute_for_); break;
    case Kind::Inference: a = inference(law, inference_); break;
    case Kind::Compare: a = compare(law, compare_); break;
    case Kind::Table: a = rule_ ? table(*rule_, table_, &law) : table(law, table_); break;
    case Kind::Returns: a = returns(law, returns_); break;
  }
  add_cost(a, cost_);
  return a;
}

Answer Question::answer() const {
  if (needs_law())
    fail("plan: this question (", kind_name(), ") needs a law to answer it: question:answer(law), e.g. with "
         "fit.published.chinchilla or a fitted law");
  Answer a = kind_ == Kind::Optimal ? optimal(*rule_, optimal_) : table(*rule_, table_);
  add_cost(a, cost_);
  return a;
}

Question Question::with_models_shape(double vocab, double ctx, double aspect, const std::string& source) const {
  Question out = *this;
  auto give = [&](std::optional<AllocationRule>& rule) {
    if (!rule || rule->has_shape() || !(rule->non_embedding || rule->counts_all())) return;
    rule = rule->with_shape(vocab, ctx, aspect, "question:with_models_shape");
    rule->shape_source = source;
  };
  give(out.rule_);
  for (Candidate& c : out.compare_.candidates) give(c.rule);
  return out;
}

std::string Question::Summary() const {
  std::ostringstream out;
  out << "question " << kind_name() << ": ";
  switch (kind_) {
    // As the answer says it (describe, plan.h), its count included.
    case Kind::Optimal: out << describe(optimal_); break;
    case Kind::Loss: out << describe(loss_); break;
    case Kind::ComputeFor: out << describe(compute_for_); break;
    case Kind::Inference: out << describe(inference_); break;
    case Kind::Compare:
      // As the answer says it (plan.cpp), with the candidates counted: "1 allocation compared at ..."
      out << format_counted(static_cast<int64_t>(compare_.candidates.size()), "allocation", "allocations")
          << " compared at " << format_quantity(compare_.compute, Unit::Flops) << " FLOP";
      if (compare_.unique_tokens == compare_.unique_tokens) out << " with " << format_counted(compare_.unique_tokens, "unique token");
      if (!compare_.flops.six_n()) out << ", counted as " << compare_.flops.Describe();
      // What it compares, as question.inputs.candidates gives them: the printed question named none.
      out << "\n  candidates: ";
      for (size_t i = 0; i < compare_.candidates.size(); ++i) {
        const Candidate& c = compare_.candidates[i];
        out << (i ? "; " : "") << c.name << " (";
        if (c.rule) out << "allocation rule " << c.rule->name;
        else if (c.D == c.D) out << format_count(c.N) << " params on " << format_count(c.D) << " tokens";
        else out << format_count(c.N) << " params, D = " << (compare_.flops.six_n() ? "C/(6N)" : "C/M(N)");
        out << ")";
      }
      break;
    case Kind::Table:
      out << "compute-optimal FLOPs and tokens for "
          << format_counted(static_cast<int64_t>(table_.params.size()), "model size", "model sizes");
      break;
    case Kind::Returns: out << describe(returns_); break;
  }
  // The count its budget is in (describe says it, and a comparison before its candidates, above).
  if (kind_ == Kind::Table && !flops().six_n()) out << ", counted as " << flops().Describe();
  if (rule_) out << " (allocation rule " << rule_->name << ")";
  // What it is priced on, and what of that deserves a word now (an mfu above any measured), rather
  // than only once it is answered.
  if (cost_) {
    out << "\n  priced on " << cost_->Describe();
    for (const auto& note : cost_->Notes()) out << "\n  note: " << note;
  }
  // A Question holds no answer (question:answer(law) returns a new Answer), and the same Question may
  // have been answered already (a study's s.answers holds it beside its answer): the text says what it
  // was asked without, not that it is unanswered.
  out << "\n  asked without a law: question:answer(law) answers it with a fitted or published law "
         "(a study's questions are answered in s.answers)";
  return out.str();
}

}  // namespace scalelab::plan
