// Observations: the table of training runs a scaling law is fitted to.
//
// One row per run: model size N (parameters), training tokens D, optional unique tokens U (for
// data-constrained laws), optional training compute C in FLOP (6·N·D when absent), optional training
// steps S (for training-curve laws), the final loss, an optional weight (default 1) and an optional
// run id. Built column by column (from Lua tables), row by row (from the study results store), or
// from a CSV file with named columns and a mapping from our column names to the file's.
//
//   fit::Observations obs;
//   obs.Add({.N = 1e8, .D = 2e9, .loss = 3.1});            // C++ (studies module)
//   obs.Validate();                                         // every value positive and finite
//   fit::Observations csv = fit::read_csv("runs.csv", {{"N", "params"}, {"D", "tokens"}, {"loss", "loss"}});
#pragma once

#include <cstddef>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace scalelab::fit {

// The inputs a law can take. Loss, weight and run id are not inputs.
enum class Input { N, D, U, C, S };
const char* input_name(Input input);                 // "N", "D", "U", "C", "S"
const std::vector<Input>& all_inputs();

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// The point at which a law is evaluated. NaN = not given. compute() falls back to 6·N·D.
struct Point {
  double N = kMissing;
  double D = kMissing;
  double U = kMissing;
  double C = kMissing;
  double S = kMissing;

  double get(Input input) const;
  void set(Input input, double value);
  bool has(Input input) const;     // given (not NaN)
  double compute() const;          // C if given, else 6·N·D (NaN if neither)
};

// One row of observations.
struct Observation {
  double N = kMissing;
  double D = kMissing;
  double U = kMissing;
  double C = kMissing;
  double S = kMissing;
  double loss = kMissing;
  double weight = 1.0;
  std::string run;
};

class Observations {
 public:
  // The column names accepted by SetColumn, Observations tables in Lua and CSV mappings.
  static const std::vector<std::string>& ColumnNames();  // N D U C S loss weight run budget

  // Row-wise: a column absent in earlier rows (NaN) may not appear later and vice versa; Validate
  // reports such ragged rows by row number.
  void Add(const Observation& row);
  // Column-wise: every column must end up with the same length (checked by Validate).
  void SetColumn(const std::string& name, std::vector<double> values);
  void SetRuns(std::vector<std::string> runs);

  size_t size() const { return loss_.size(); }
  bool empty() const { return size() == 0; }
  // Whether the column is present (some value given). For C: given or derivable from N and D.
  bool has(Input input) const;
  bool has_column(const std::string& name) const;
  bool has_weights() const { return !weight_.empty(); }
  bool has_runs() const { return !run_.empty(); }

  Point point(size_t row) const;
  double loss(size_t row) const { return loss_[row]; }
  double weight(size_t row) const { return weight_.empty() ? 1.0 : weight_[row]; }
  const std::string& run(size_t row) const;   // "" when no run ids
  double compute(size_t row) const { return point(row).compute(); }
  const std::vector<double>& column(const std::string& name) const;  // empty if absent
  const std::vector<double>& losses() const { return loss_; }

  // Every present column has size() entries; every value is finite and positive (weights ≥ 0 and
  // not all zero); a column is either given on every row or on none, but for budget (NaN: no sweep's). Throws scalelab::Error naming
  // the row (1-based, with its run id) and the column.
  void Validate() const;
  // Throws naming the missing columns if a law needing `inputs` cannot be fitted to these
  // observations, or if there are fewer than `min_rows` rows (`law` names the law in the message).
  void Require(const std::vector<Input>& inputs, size_t min_rows, const std::string& law) const;

  // The runs' counting conventions (fit.observations' params = and flops =), carried to the laws
  // fitted to them (FittedLaw::N_counts, C_counted): what N counts, "all" or "non_embedding" ("": not
  // said); how a given C column was counted, "6ND", "kaplan" or "palm" ("": not said; C absent is
  // 6·N·D). A C counted with attention cannot give D = C/(6N): fit.isoflop refuses it.
  std::string N_counts;
  std::string C_counts;
  // "C = 6·N·D" when C is absent (derived as 6·N·D) or given as "6ND", a description of the count
  // with attention where given so, "" where C is given without saying how it was counted.
  std::string CountedC() const;

  // Rows that repeat an earlier row exactly (every column, run id included), as (row, earlier row),
  // 0-based: a table read or appended twice. Each copy would count as one more run.
  std::vector<std::pair<size_t, size_t>> RepeatedRows() const;
  // The warning a fit gives for them ("" when there are none): which rows, and what the copies do.
  std::string RepeatedRowsWarning() const;

  // The rows at `rows` (indices may repeat: a bootstrap resample).
  Observations Subset(const std::vector<size_t>& rows) const;
  // "240 observations (N 1.2M–1.1B, D 10M–30B, loss 2.31–4.87)".
  std::string Summary() const;

 private:
  std::vector<double>* mutable_column(const std::string& name);

  // budget_: each run's compute budget (an IsoFLOP sweep's, which its own FLOPs differ from), by
  // which fit.isoflop groups the runs; NaN on a run of no sweep (it leaves those out); no law reads it.
  std::vector<double> N_, D_, U_, C_, S_, loss_, weight_, budget_;
  std::vector<std::string> run_;
};

// Reads a CSV file with a header row. `mapping` maps our column names (N, D, U, C, S, loss, weight,
// run, budget) to the file's header names; a column mapped to a header that is not in the file is an
// error naming both. Unmapped columns of the file are ignored, but for one named budget (a scalelab
// results export's, of an IsoFLOP sweep's runs), read where some row has a positive number there (NaN
// on the rows without one).
// Values must parse as numbers (except run); errors name the file, line and column. With an empty
// mapping, headers named exactly like our columns are used.
// A scalelab results export (a header with both params and non_embedding_params) says what its N
// columns count: N mapped to params counts every parameter (N_counts "all"), to non_embedding_params
// Kaplan's count ("non_embedding"), which the laws fitted to them record (law.N_counts). Any other N
// column, or a file of other headers, says nothing (N_counts ""). Its C columns say how they were
// counted (C_counts): flops is 6·N·D ("6ND", refused where its N is not the N mapped: C and N would
// count different parameters), flops_kaplan Kaplan's count with attention ("kaplan"), flops_palm
// PaLM's ("palm"), result_flops the trainer's ("kaplan", where it equals flops_kaplan); any other
// column says nothing (C_counts "").
Observations read_csv(const std::string& path, const std::map<std::string, std::string>& mapping);

}  // namespace scalelab::fit
