#include "fit/observations.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "core/paths.h"
#include "core/units.h"

namespace scalelab::fit {

const char* input_name(Input input) {
  switch (input) {
    case Input::N: return "N";
    case Input::D: return "D";
    case Input::U: return "U";
    case Input::C: return "C";
    case Input::S: return "S";
  }
  return "?";
}

const std::vector<Input>& all_inputs() {
  static const std::vector<Input> inputs = {Input::N, Input::D, Input::U, Input::C, Input::S};
  return inputs;
}

double Point::get(Input input) const {
  switch (input) {
    case Input::N: return N;
    case Input::D: return D;
    case Input::U: return U;
    case Input::C: return compute();
    case Input::S: return S;
  }
  return kMissing;
}

void Point::set(Input input, double value) {
  switch (input) {
    case Input::N: N = value; break;
    case Input::D: D = value; break;
    case Input::U: U = value; break;
    case Input::C: C = value; break;
    case Input::S: S = value; break;
  }
}

bool Point::has(Input input) const { return !std::isnan(get(input)); }

double Point::compute() const {
  if (!std::isnan(C)) return C;
  return 6.0 * N * D;  // NaN when either is missing
}

const std::vector<std::string>& Observations::ColumnNames() {
  static const std::vector<std::string> names = {"N", "D", "U", "C", "S", "loss", "weight", "run", "budget"};
  return names;
}

std::vector<double>* Observations::mutable_column(const std::string& name) {
  if (name == "N") return &N_;
  if (name == "D") return &D_;
  if (name == "U") return &U_;
  if (name == "C") return &C_;
  if (name == "S") return &S_;
  if (name == "loss") return &loss_;
  if (name == "weight") return &weight_;
  if (name == "budget") return &budget_;
  return nullptr;
}

const std::vector<double>& Observations::column(const std::string& name) const {
  auto* column = const_cast<Observations*>(this)->mutable_column(name);
  if (!column) {
    std::string near = closest_name(name, ColumnNames());
    fail("observations have no column '", name, "'", near.empty() ? "" : "; did you mean '" + near + "'?",
         " (columns: N, D, U, C, S, loss, weight, run, budget)");
  }
  return *column;
}

bool Observations::has_column(const std::string& name) const {
  if (name == "run") return !run_.empty();
  auto* column = const_cast<Observations*>(this)->mutable_column(name);
  return column && !column->empty();
}

bool Observations::has(Input input) const {
  switch (input) {
    case Input::N: return !N_.empty();
    case Input::D: return !D_.empty();
    case Input::U: return !U_.empty();
    case Input::C: return !C_.empty() || (!N_.empty() && !D_.empty());
    case Input::S: return !S_.empty();
  }
  return false;
}

void Observations::Add(const Observation& row) {
  const size_t n = size();
  auto add = [&](std::vector<double>& column, double value, bool optional_default) {
    // A column starts existing at the first row that gives it; earlier rows are NaN (reported by
    // Validate as ragged). A column given earlier and missing now is NaN too.
    if (column.empty() && std::isnan(value)) return;
    if (column.empty() && n > 0) column.assign(n, optional_default ? 1.0 : kMissing);
    column.push_back(value);
  };
  add(N_, row.N, false);
  add(D_, row.D, false);
  add(U_, row.U, false);
  add(C_, row.C, false);
  add(S_, row.S, false);
  if (!weight_.empty() || row.weight != 1.0) add(weight_, row.weight, true);
  if (!run_.empty() || !row.run.empty()) {
    if (run_.empty() && n > 0) run_.assign(n, "");
    run_.push_back(row.run);
  }
  loss_.push_back(row.loss);
}

void Observations::SetColumn(const std::string& name, std::vector<double> values) {
  auto* column = mutable_column(name);
  if (!column) {
    std::string near = closest_name(name, ColumnNames());
    fail("observations: unknown column '", name, "'", near.empty() ? "" : "; did you mean '" + near + "'?",
         " (columns: N, D, U, C, S, loss, weight, run, budget)");
  }
  *column = std::move(values);
}

void Observations::SetRuns(std::vector<std::string> runs) { run_ = std::move(runs); }

const std::string& Observations::run(size_t row) const {
  static const std::string none;
  return run_.empty() ? none : run_[row];
}

std::vector<std::pair<size_t, size_t>> Observations::RepeatedRows() const {
  // Rows in order of their values (NaN, an absent column, compares as equal to NaN), then equal
  // neighbours: each row after the first of a run of equal ones repeats that first one.
  std::vector<std::vector<double>> keys(size());
  for (size_t r = 0; r < size(); ++r)
    for (const auto* c : {&N_, &D_, &U_, &C_, &S_, &loss_, &weight_, &budget_})
      if (!c->empty()) keys[r].push_back(std::isnan((*c)[r]) ? -std::numeric_limits<double>::infinity() : (*c)[r]);
  auto same = [&](size_t a, size_t b) { return keys[a] == keys[b] && run(a) == run(b); };
  std::vector<size_t> order(size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return keys[a] != keys[b] ? keys[a] < keys[b] : run(a) < run(b);
  });
  std::vector<std::pair<size_t, size_t>> out;
  size_t first = 0;
  for (size_t i = 1; i < order.size(); ++i) {
    if (same(order[i], order[first]))
      out.emplace_back(order[i], order[first]);
    else
      first = i;
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Observations::RepeatedRowsWarning() const {
  const auto repeated = RepeatedRows();
  if (repeated.empty()) return "";
  std::string list;
  for (size_t i = 0; i < repeated.size() && i < 3; ++i)
    list += str(i ? ", " : "", "row ", repeated[i].first + 1, " = row ", repeated[i].second + 1);
  if (repeated.size() > 3) list += ", ...";
  return str(repeated.size(), " of the ", size(), repeated.size() == 1 ? " rows repeats" : " rows repeat",
             " an earlier row exactly (", list,
             "): each copy counts as one more run, pulling the fit toward it and narrowing the bootstrap intervals "
             "as if it were a new measurement; drop the copies (a table read or appended twice?): a run repeated with the "
             "very same result adds no information");
}

Point Observations::point(size_t row) const {
  Point p;
  if (!N_.empty()) p.N = N_[row];
  if (!D_.empty()) p.D = D_[row];
  if (!U_.empty()) p.U = U_[row];
  if (!C_.empty()) p.C = C_[row];
  if (!S_.empty()) p.S = S_[row];
  return p;
}

namespace {
std::string row_name(const Observations& obs, size_t row) {
  std::string name = str("row ", row + 1);
  if (obs.has_runs() && !obs.run(row).empty()) name += " (run '" + obs.run(row) + "')";
  return name;
}
}  // namespace

void Observations::Validate() const {
  const size_t n = loss_.size();
  if (n == 0) {
    if (!N_.empty() || !D_.empty()) fail("observations: the loss column is missing");
    fail("observations: no rows");
  }
  const std::pair<const char*, const std::vector<double>*> columns[] = {
      {"N", &N_}, {"D", &D_}, {"U", &U_}, {"C", &C_}, {"S", &S_}, {"loss", &loss_}, {"weight", &weight_}, {"budget", &budget_}};
  for (const auto& [name, column] : columns) {
    if (column->empty()) continue;
    if (column->size() != n)
      fail("observations: column ", name, " has ", column->size(), " values but loss has ", n,
           " (every column needs one value per run)");
    for (size_t i = 0; i < n; ++i) {
      double v = (*column)[i];
      bool is_weight = std::string(name) == "weight";
      // A run without a budget (NaN) is of no IsoFLOP sweep: a grid's, beside a sweep's runs.
      if (std::isnan(v) && std::string(name) == "budget") continue;
      if (std::isnan(v))
        fail("observations: ", row_name(*this, i), " has no ", name,
             " value, but other rows do (give it on every row or on none)");
      if (!std::isfinite(v) || (is_weight ? v < 0 : v <= 0))
        fail("observations: ", row_name(*this, i), ", column ", name, " = ", format_number(v, 6), " must be ",
             is_weight ? "finite and non-negative" : "positive and finite");
    }
  }
  if (!run_.empty() && run_.size() != n)
    fail("observations: column run has ", run_.size(), " values but loss has ", n);
  if (!weight_.empty() && std::all_of(weight_.begin(), weight_.end(), [](double w) { return w == 0; }))
    fail("observations: every weight is zero");
}

void Observations::Require(const std::vector<Input>& inputs, size_t min_rows, const std::string& law) const {
  std::vector<std::string> missing;
  for (Input input : inputs)
    if (!has(input)) missing.push_back(input == Input::C ? "C (or N and D)" : input_name(input));
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    fail(law, " needs observation column", missing.size() > 1 ? "s " : " ", list,
         ", which the observations lack");
  }
  if (size() < min_rows)
    fail(law, " needs at least ", min_rows, " observations for its free parameters; got ", size());
}

std::string Observations::CountedC() const {
  if (C_.empty() || C_counts == "6ND") return "C = 6·N·D";
  if (C_counts == "kaplan") return "C = (6N + 6·L·T·d)·D (Kaplan's count with attention)";
  if (C_counts == "palm") return "C = (6N + 12·L·T·d)·D (PaLM's and DeepSeek's count with attention)";
  return "";
}

Observations Observations::Subset(const std::vector<size_t>& rows) const {
  Observations out;
  out.N_counts = N_counts;
  out.C_counts = C_counts;
  auto pick = [&](const std::vector<double>& from, std::vector<double>& to) {
    if (from.empty()) return;
    to.reserve(rows.size());
    for (size_t r : rows) to.push_back(from.at(r));
  };
  pick(N_, out.N_);
  pick(D_, out.D_);
  pick(U_, out.U_);
  pick(C_, out.C_);
  pick(S_, out.S_);
  pick(loss_, out.loss_);
  pick(weight_, out.weight_);
  pick(budget_, out.budget_);
  if (!run_.empty())
    for (size_t r : rows) out.run_.push_back(run_.at(r));
  return out;
}

std::string Observations::Summary() const {
  std::string text = str(size(), size() == 1 ? " observation" : " observations");
  std::string ranges;
  auto range = [&](const char* name, const std::vector<double>& column, bool count) {
    if (column.empty()) return;
    auto [lo, hi] = std::minmax_element(column.begin(), column.end());
    if (!ranges.empty()) ranges += ", ";
    if (count)
      ranges += str(name, " ", format_count(*lo), "–", format_count(*hi));
    else
      ranges += str(name, " ", format_number(*lo, 4), "–", format_number(*hi, 4));
  };
  range("N", N_, true);
  range("D", D_, true);
  range("U", U_, true);
  if (!C_.empty()) {
    auto [lo, hi] = std::minmax_element(C_.begin(), C_.end());
    ranges += (ranges.empty() ? "" : ", ") + str("C ", format_flops(*lo), "–", format_flops(*hi));
  }
  range("S", S_, true);
  range("loss", loss_, false);
  if (!ranges.empty()) text += " (" + ranges + ")";
  return text;
}

namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(field);
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  fields.push_back(field);
  for (auto& f : fields) {
    size_t a = f.find_first_not_of(" \t"), b = f.find_last_not_of(" \t");
    f = a == std::string::npos ? "" : f.substr(a, b - a + 1);
  }
  return fields;
}

// The next record of a CSV file into `record`: a line, and the lines after it while a quoted field
// is open (RFC 4180 lets a quoted field hold line breaks, as a failed run's error does in a scalelab
// results export). Adds the lines read to `lines_read`; false at the end of the file.
bool read_csv_record(std::istream& in, std::string& record, size_t& lines_read) {
  if (!std::getline(in, record)) return false;
  ++lines_read;
  std::string more;
  while (std::count(record.begin(), record.end(), '"') % 2 == 1 && std::getline(in, more)) {
    ++lines_read;
    record += '\n';
    record += more;
  }
  return true;
}

// A scalelab results export's header: it names its two parameter counts apart (params: every parameter;
// non_embedding_params: Kaplan's), and so what its N and C columns count.
bool export_header(const std::vector<std::string>& header) {
  return std::find(header.begin(), header.end(), "params") != header.end() &&
         std::find(header.begin(), header.end(), "non_embedding_params") != header.end();
}

}  // namespace

Observations read_csv(const std::string& path, const std::map<std::string, std::string>& mapping) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored))
    fail("fit.read_csv: '", path, "' is a folder, not a CSV file: give the path of a file in it");
  std::ifstream in(path);
  if (!in) {
    const int error = errno;
    fail("fit.read_csv: cannot read '", path, "': ", std::strerror(error), missing_path_fix(path, error));
  }
  std::string line;
  size_t lines_read = 0;
  if (!read_csv_record(in, line, lines_read)) fail("fit.read_csv: '", path, "' is empty (expected a header row)");
  std::vector<std::string> header = split_csv_line(line);

  std::map<std::string, std::string> map = mapping;
  if (map.empty())
    for (const auto& name : Observations::ColumnNames())
      if (name != "budget" && std::find(header.begin(), header.end(), name) != header.end()) map[name] = name;
  // A column named budget that the mapping leaves out (a results export's: an IsoFLOP sweep's budget of
  // each run) is read too, where some row has a positive number there (NaN on the others, runs of no
  // sweep): fit.isoflop groups by it, as it groups a study's s:observations().
  const auto budget_header = std::find(header.begin(), header.end(), "budget");
  const bool optional_budget = !map.count("budget") && budget_header != header.end();
  std::vector<double> budgets;
  bool any_budget = false;
  for (const auto& [ours, _] : map) {
    const auto& names = Observations::ColumnNames();
    if (std::find(names.begin(), names.end(), ours) == names.end()) {
      std::string near = closest_name(ours, names);
      fail("fit.read_csv: unknown column '", ours, "' in the mapping",
           near.empty() ? "" : "; did you mean '" + near + "'?", " (columns: N, D, U, C, S, loss, weight, run, budget)");
    }
  }
  // Without a mapping, a file whose loss is all it holds of ours fits no law: a scalelab results export
  // (params, tokens) says which of its columns to map.
  if (mapping.empty() && map.count("loss") && !map.count("N") && !map.count("D") && !map.count("C")) {
    const bool export_file = std::find(header.begin(), header.end(), "params") != header.end() &&
                             std::find(header.begin(), header.end(), "tokens") != header.end();
    std::string headers;
    for (const auto& h : header) headers += (headers.empty() ? "'" : ", '") + h + "'";
    fail("fit.read_csv: '", path, "' has a loss column but none named N, D or C, so no law can be fitted to it; ",
         export_file ? str("it is a scalelab results export: fit.read_csv(\"", path, "\", { N = \"params\", D = "
                           "\"tokens\", U = \"unique_tokens\", loss = \"loss\" }) (N = \"non_embedding_params\" "
                           "for Kaplan's count)")
                     : str("map them: fit.read_csv(\"", path, "\", { N = \"<header>\", D = \"<header>\", loss = \"loss\" }) "
                           "(its headers: ", headers, ")"));
  }
  if (!map.count("loss")) {
    std::string headers;
    for (const auto& h : header) headers += (headers.empty() ? "'" : ", '") + h + "'";
    fail("fit.read_csv: ", mapping.empty() ? str("no column of '", path, "' is named loss") : str("the mapping for '", path,
         "' names no loss column"), "; map one: fit.read_csv(\"", path, "\", { loss = \"<header>\", N = ..., D = ... }) "
         "(its headers: ", headers, ")");
  }

  std::map<std::string, size_t> position;  // ours -> index in the file
  for (const auto& [ours, theirs] : map) {
    auto it = std::find(header.begin(), header.end(), theirs);
    if (it == header.end()) {
      std::string near = closest_name(theirs, header);
      std::string headers;
      for (const auto& h : header) headers += (headers.empty() ? "" : ", ") + h;
      fail("fit.read_csv: '", path, "' has no column '", theirs, "' (mapped from ", ours, ")",
           near.empty() ? "" : "; did you mean '" + near + "'?", " (its columns: ", headers, ")");
    }
    position[ours] = static_cast<size_t>(it - header.begin());
  }

  // The export's columns that say what a C mapped to its flops counts (read too, NaN where not a number).
  std::map<std::string, size_t> said_by;
  if (map.count("C") && export_header(header))
    for (const char* name : {"params", "non_embedding_params", "tokens", "flops_kaplan"})
      if (auto it = std::find(header.begin(), header.end(), name); it != header.end())
        said_by[name] = static_cast<size_t>(it - header.begin());
  std::map<std::string, std::vector<double>> said;
  std::map<std::string, std::vector<double>> columns;
  std::vector<std::string> runs;
  std::vector<size_t> fresh_rows;  // rows whose U is empty: U = D
  // line_number: where the record starts, for the messages.
  for (size_t line_number = lines_read + 1; read_csv_record(in, line, lines_read); line_number = lines_read + 1) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::vector<std::string> fields = split_csv_line(line);
    if (fields.size() != header.size())
      fail("fit.read_csv: ", path, ":", line_number, ": ", fields.size(), " fields but the header has ",
           header.size(), " (a ragged row)");
    if (optional_budget) {
      const std::string& text = fields[static_cast<size_t>(budget_header - header.begin())];
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      const bool valid = !text.empty() && *end == '\0' && std::isfinite(value) && value > 0;
      any_budget = any_budget || valid;
      budgets.push_back(valid ? value : kMissing);
    }
    for (const auto& [name, index] : said_by) {
      const std::string& text = fields[index];
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      said[name].push_back(!text.empty() && *end == '\0' ? value : kMissing);
    }
    for (const auto& [ours, index] : position) {
      const std::string& text = fields[index];
      if (ours == "run") {
        runs.push_back(text);
        continue;
      }
      // An empty U is a run on fresh tokens, U = D (as a row without U is to fit.observations): a
      // results export leaves unique_tokens empty for every run not given U.
      if (ours == "U" && text.find_first_not_of(" \t\r") == std::string::npos) {
        if (!position.count("D"))
          fail("fit.read_csv: ", path, ":", line_number, ": column '", map[ours], "' (U) is empty, which means fresh "
               "tokens (U = D), but no column is mapped to D; map one: { D = \"<header>\", ... }");
        fresh_rows.push_back(columns["U"].size());
        columns["U"].push_back(0);  // D, set below once the row's D is read
        continue;
      }
      char* end = nullptr;
      double value = std::strtod(text.c_str(), &end);
      // An empty cell is a value the row lacks: in a results export, a run that failed or did not finish.
      // An empty budget is a run of no IsoFLOP sweep (a grid's), however it finished.
      if (text.empty() && ours == "budget")
        fail("fit.read_csv: ", path, ":", line_number, ": column '", map[ours], "' (budget) is empty: the row is of no "
             "IsoFLOP sweep (a grid's run, in a scalelab results export); leave budget out of the mapping (a column "
             "named budget is read where some row has one, and fit.isoflop leaves out the rows without one), or "
             "leave such rows out");
      if (text.empty())
        fail("fit.read_csv: ", path, ":", line_number, ": column '", map[ours], "' (", ours, ") is empty: the row has no ",
             ours, " (a run that failed or did not finish, in a scalelab results export); leave such rows out "
             "(scalelab results FILE.db --status done --csv ", path, ")");
      if (*end != '\0')
        fail("fit.read_csv: ", path, ":", line_number, ": column '", map[ours], "' (", ours, ") = '", text,
             "' is not a number");
      if (!std::isfinite(value) || (ours == "weight" ? value < 0 : value <= 0))
        fail("fit.read_csv: ", path, ":", line_number, ": column '", map[ours], "' (", ours, ") = ", text,
             " must be ", ours == "weight" ? "finite and non-negative" : "positive and finite");
      columns[ours].push_back(value);
    }
  }
  for (size_t row : fresh_rows) columns["U"][row] = columns["D"][row];
  Observations obs;
  for (auto& [ours, values] : columns) obs.SetColumn(ours, std::move(values));
  if (!runs.empty()) obs.SetRuns(std::move(runs));
  if (any_budget) obs.SetColumn("budget", std::move(budgets));
  // What N counts, where the file says it: a results export names its two counts apart (params: every
  // parameter; non_embedding_params: Kaplan's). A column of another name, or a file with only one of
  // them (whose params could count either), is no guess.
  if (map.count("N") && export_header(header)) {
    if (map["N"] == "params") obs.N_counts = "all";
    else if (map["N"] == "non_embedding_params") obs.N_counts = "non_embedding";
  }
  // How C was counted, where the file says it: a results export's flops is 6·N·D with the N its study
  // counts (params, or non_embedding_params where it says params = "non_embedding"), flops_kaplan
  // D·(6N + 6·L·T·d) and flops_palm D·(6N + 12·L·T·d) (N non-embedding), result_flops the trainer's,
  // Kaplan's count where it equals flops_kaplan. Another column, or a file that is no export, says
  // nothing (C_counts ""), as for N.
  if (map.count("C") && export_header(header) && !obs.empty()) {
    const std::string& theirs = map["C"];
    const auto read_column = [&](const std::string& name) { return said[name]; };
    if (theirs == "flops") {
      // Which N its 6·N·D counts, row by row: a C whose N is not the N mapped would be read as 6·N·D of
      // the mapped N, each D = C/(6N) off by the share of the embeddings.
      const std::vector<double>& C = obs.column("C");
      const std::vector<double> all = read_column("params"), non_embedding = read_column("non_embedding_params"),
                                tokens = read_column("tokens");
      const auto near = [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::abs(b); };
      std::string counted;  // "params" or "non_embedding_params", where every row agrees
      for (size_t i = 0; i < C.size(); ++i) {
        std::string row;
        if (i < tokens.size() && i < all.size() && near(C[i], 6 * all[i] * tokens[i])) row = "params";
        else if (i < tokens.size() && i < non_embedding.size() && near(C[i], 6 * non_embedding[i] * tokens[i]))
          row = "non_embedding_params";
        if (row.empty() || (!counted.empty() && row != counted)) {
          counted.clear();
          break;
        }
        counted = row;
      }
      if (!counted.empty()) {
        if (map.count("N") && map["N"] != counted)
          fail("fit.read_csv: '", path, "': column 'flops' (C) is 6·N·D with N = ", counted, " (",
               counted == "params" ? "every parameter: its study counts all" : "Kaplan's non-embedding count: its study "
               "says params = \"non_embedding\"", "), but N is mapped to '", map["N"], "', so C and N would count "
               "different parameters (a budget read as 6·N·D, D = C/(6N), off by the embeddings' share); map N = \"",
               counted, "\", or leave C out (C = 6·N·D of the N mapped)");
        obs.C_counts = "6ND";
      }
    } else if (theirs == "flops_kaplan") {
      obs.C_counts = "kaplan";
    } else if (theirs == "flops_palm") {
      obs.C_counts = "palm";
    } else if (theirs == "result_flops" && std::find(header.begin(), header.end(), "flops_kaplan") != header.end() &&
               read_column("flops_kaplan") == obs.column("C")) {
      obs.C_counts = "kaplan";
    }
  }
  if (obs.empty()) fail("fit.read_csv: '", path, "' has a header but no rows");
  obs.Validate();
  return obs;
}

}  // namespace scalelab::fit
