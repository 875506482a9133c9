// Lua module scalelab.native.fit: observations, laws, fitting (runtime/fit).
#include "bindings/fit.h"

#include <lua.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <tuple>

#include "bindings/modules.h"
#include "core/units.h"
#include "plan/plan.h"

namespace scalelab::lua {

namespace {

using fit::FittedLaw;
using fit::Input;
using fit::Law;
using fit::LawKind;
using fit::Observations;

// ---- Observations -------------------------------------------------------------------------------

// A list of rows, one per run: { { N =, D =, loss = [, U =, C =, S =, weight =, run =] }, ... }, as a
// study's s:observations() gives them. A column is in every row or in none; U alone may be missing
// from some rows: those runs trained on fresh tokens, U = D. budget (an IsoFLOP sweep's, by which
// fit.isoflop groups) is kept where some row has a positive number there, NaN on the others (runs of
// no sweep, which fit.isoflop leaves out), as fit.read_csv keeps it; N_counts (what N counts, a study's params =)
// becomes the observations' (rows_N_counts); other fields (a run's seed, hash) are the rows' own business and not read.
bool is_row_list(lua_State* L, int index) {
  if (!lua_istable(L, index) || lua_getmetatable(L, index)) {
    if (lua_istable(L, index)) lua_pop(L, 1);
    return false;
  }
  const bool rows = lua_rawgeti(L, index, 1) == LUA_TTABLE;
  lua_pop(L, 1);
  return rows;
}

// What the rows of the list at `index` say their N counts (N_counts = "all" or "non_embedding": a study's
// s:observations() and s:curves() rows carry its params =), which the laws fitted to them carry
// (law.N_counts); "" where no row says it. Rows that say it say it alike: a row of another count, or
// one that says nothing among rows that do (a run of the user's added to a study's), is refused, naming
// both rows, as a law fitted to them would mislabel some of its N.
std::string rows_N_counts(lua_State* L, int index, const std::string& function) {
  index = lua_absindex(L, index);
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, index));
  std::string counts;
  lua_Integer first = 0, silent = 0;
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_rawgeti(L, index, i) != LUA_TTABLE) {  // the caller names a row that is not a table
      lua_pop(L, 1);
      continue;
    }
    const int type = lua_getfield(L, -1, "N_counts");
    if (type == LUA_TNIL) {
      if (silent == 0) silent = i;
    } else {
      const std::string value = type == LUA_TSTRING ? lua_tostring(L, -1) : "";
      if (value != "all" && value != "non_embedding")
        fail(function, ": row ", i, ", N_counts says what its N counts: \"all\" (every parameter, Chinchilla's count) "
             "or \"non_embedding\" (Kaplan's) (got ", type == LUA_TSTRING ? "\"" + value + "\"" : luaL_typename(L, -1), ")");
      if (counts.empty()) {
        counts = value;
        first = i;
      } else if (value != counts) {
        fail(function, ": row ", i, " counts N as \"", value, "\" but row ", first, " as \"", counts,
             "\" (N_counts: the runs of studies of other params =); a law fitted to both would count neither: fit them "
             "apart, or give every row's N in one count");
      }
    }
    lua_pop(L, 2);
  }
  if (!counts.empty() && silent != 0)
    fail(function, ": row ", silent, " does not say what its N counts, but row ", first, " counts it as \"", counts,
         "\" (N_counts, as a study's s:observations() gives it); give that row N_counts = \"", counts,
         "\" where its N is counted so, or fit the rows apart");
  return counts;
}

Observations observations_from_rows(lua_State* L, int index, const std::string& function) {
  index = lua_absindex(L, index);
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, index));
  const char* const columns[] = {"N", "D", "U", "C", "S", "loss", "weight"};
  std::map<std::string, std::vector<double>> values;  // NaN where a row lacks the column
  std::vector<std::string> runs;
  std::vector<char> has_run;  // per row: run given (an empty string counts)
  bool any_run = false;
  std::vector<double> budgets;  // NaN where a row has no positive budget
  bool any_budget = false;
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_rawgeti(L, index, i) != LUA_TTABLE)
      fail(function, ": row ", i, " must be a table { N =, D =, loss =, ... } (got ", got_type(L, -1), ")");
    const int row = lua_gettop(L);
    if (lua_getfield(L, row, "N_fit") != LUA_TNIL)
      fail(function, ": row ", i, " is a study's planned run (s.runs: N is the size it asked for, and it has no D); "
           "give s:observations(), the finished runs with N as the study's fits count it");
    lua_pop(L, 1);
    // A run as a store gives it (store:runs{...}): params and tokens, no N or D. Which N its study fits
    // (all parameters or non-embedding) the row cannot say.
    // Rows of other laws' inputs (N and S, or C) may carry tokens too: only a row with none of N, D
    // and C is a stored run.
    const bool has_N = lua_getfield(L, row, "N") != LUA_TNIL;
    const bool has_D = lua_getfield(L, row, "D") != LUA_TNIL;
    const bool has_C = lua_getfield(L, row, "C") != LUA_TNIL;
    const bool has_params = lua_getfield(L, row, "params") != LUA_TNIL;
    const bool has_tokens = lua_getfield(L, row, "tokens") != LUA_TNIL;
    lua_pop(L, 5);
    if (!has_N && !has_D && !has_C && (has_params || has_tokens))
      fail(function, ": row ", i, " is a stored run (params =, tokens =; no N or D); give a study's s:observations(), "
           "which counts N as its fits do, or rows { N = r.params (or r.non_embedding_params for Kaplan's count), "
           "D = r.tokens, U = r.unique_tokens, loss = r.loss }");
    for (const char* column : columns) {
      const int type = lua_getfield(L, row, column);
      if (type != LUA_TNIL && type != LUA_TNUMBER) {
        // A number in quotes (N = "1e9", as read from a CSV file's text): say how to write it.
        const std::string quoted = quoted_number(L, -1);
        if (!quoted.empty())
          fail(function, ": row ", i, ", ", column, " must be a number (got string); write it without quotes: ", column,
               " = ", quoted, " (tonumber(x) converts text read from a file)");
        fail(function, ": row ", i, ", ", column, " must be a number (got ", lua_typename(L, type), ")");
      }
      if (type == LUA_TNUMBER) {
        const double value = lua_tonumber(L, -1);
        if (std::isnan(value))
          fail(function, ": row ", i, ", ", column, " is NaN; give a finite number, or leave the run out");
        auto& column_values = values[column];
        column_values.resize(static_cast<size_t>(n), std::numeric_limits<double>::quiet_NaN());
        column_values[static_cast<size_t>(i - 1)] = value;
      }
      lua_pop(L, 1);
    }
    {
      // A budget that is not a number was taken for none, and the run grouped by its C without a
      // word (budget = "1e20", as text read from a file): refused as the columns are.
      const int type = lua_getfield(L, row, "budget");
      if (type != LUA_TNIL && type != LUA_TNUMBER) {
        const std::string quoted = quoted_number(L, -1);
        if (!quoted.empty())
          fail(function, ": row ", i, ", budget must be a number (got string); write it without quotes: budget = ", quoted,
               " (tonumber(x) converts text read from a file)");
        fail(function, ": row ", i, ", budget must be a number, the run's IsoFLOP budget in FLOP (got ",
             lua_typename(L, type), "); leave it out for a run of no IsoFLOP budget");
      }
      const double budget = type == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
      const bool budgeted = std::isfinite(budget) && budget > 0;
      any_budget = any_budget || budgeted;
      budgets.push_back(budgeted ? budget : fit::kMissing);
      lua_pop(L, 1);
    }
    if (lua_getfield(L, row, "run") != LUA_TNIL) {
      any_run = true;
      runs.resize(static_cast<size_t>(n));
      has_run.resize(static_cast<size_t>(n), 0);
      has_run[static_cast<size_t>(i - 1)] = 1;
      size_t length = 0;
      const char* text = luaL_tolstring(L, -1, &length);
      runs[static_cast<size_t>(i - 1)].assign(text, length);
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  // A row without U (where others have it) trained on fresh tokens: U = D. Any other gap is
  // reported by Validate, naming the row.
  if (values.count("U") && values.count("D")) {
    auto& U = values["U"];
    const auto& D = values["D"];
    for (size_t i = 0; i < U.size(); ++i)
      if (std::isnan(U[i])) U[i] = D[i];
  }
  Observations obs;
  for (auto& [column, column_values] : values) obs.SetColumn(column, std::move(column_values));
  if (any_budget) obs.SetColumn("budget", std::move(budgets));
  obs.N_counts = rows_N_counts(L, index, function);
  if (any_run) {
    has_run.resize(static_cast<size_t>(n), 0);
    for (size_t i = 0; i < has_run.size(); ++i)
      if (!has_run[i]) fail(function, ": row ", i + 1, " has no run, but other rows do (give it on every row or on none)");
    obs.SetRuns(std::move(runs));
  }
  try {
    obs.Validate();
  } catch (const Error& e) {
    // "observations: row 3 has no C value, ..." in the words of the function the rows were given to.
    std::string message = e.what();
    const std::string prefix = "observations: ";
    if (message.compare(0, prefix.size(), prefix) == 0) message.erase(0, prefix.size());
    fail(function, ": ", message);
  }
  return obs;
}

// A fit's params = option, what the runs' N counts: "all" or "non_embedding"; "" where not given.
// `what` names the N in the refusal ("N", "the runs' N"); `hint` ends it.
std::string params_option(lua_State* L, Args& args, const std::string& function, const char* what,
                          const char* hint = "") {
  if (!args.has("params")) return "";
  args.push("params");
  const char* given = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : nullptr;
  std::string counts = given ? given : "";
  if (counts != "all" && counts != "non_embedding")
    fail(function, ": params says what ", what, " counts: \"all\" (every parameter, Chinchilla's count) or "
         "\"non_embedding\" (Kaplan's) (got ", given ? "\"" + counts + "\"" : got_type(L, -1), ")", hint);
  lua_pop(L, 1);
  return counts;
}

// A fit's flops = option, how the runs' C column was counted: "6ND", "kaplan" or "palm"; "" where not
// given. Refused without a C column (`fix` ends that refusal).
std::string flops_option(lua_State* L, Args& args, const std::string& function, const char* fix) {
  if (!args.has("flops")) return "";
  args.push("flops");
  const char* given = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : nullptr;
  std::string counts = given ? given : "";
  if (counts == "6nd" || counts == "6·N·D") counts = "6ND";
  if (counts != "6ND" && counts != "kaplan" && counts != "palm")
    fail(function, ": flops says how C was counted: \"6ND\" (C = 6·N·D), \"kaplan\" (6N + 6·L·T·d per token, "
         "attention's causal half) or \"palm\" (6N + 12·L·T·d) (got ",
         given ? "\"" + std::string(given) + "\"" : std::string(got_type(L, -1)), ")");
  if (!args.has("C"))
    fail(function, ": flops = \"", counts, "\" says how the C column was counted, but no C is given "
         "(without it C is 6·N·D); ", fix);
  lua_pop(L, 1);
  return counts;
}

int observations(lua_State* L) {
  if (lua_istable(L, 1)) {
    lua_pushnil(L);
    if (lua_next(L, 1) == 0) fail("fit.observations: no observations (an empty table); give columns { N = {...}, "
                                  "D = {...}, loss = {...} } or a list of rows such as a study's s:observations()");
    lua_pop(L, 2);
  }
  if (is_row_list(L, 1)) {
    push(L, observations_from_rows(L, 1, "fit.observations"));
    return 1;
  }
  Args args(L, 1, "fit.observations", {"N", "D", "U", "C", "S", "loss", "weight", "run", "params", "flops"});
  Observations obs;
  // The runs' counting conventions, which the laws fitted to them carry (law.N_counts, law.C_counted).
  obs.N_counts = params_option(L, args, "fit.observations", "N");
  obs.C_counts = flops_option(L, args, "fit.observations", "give C = { ... } or leave flops out");
  for (const char* column : {"N", "D", "U", "C", "S", "loss", "weight"}) {
    if (!args.has(column)) continue;
    args.push(column);
    if (!lua_istable(L, -1)) fail("fit.observations: ", column, " must be an array of numbers (got ", got_type(L, -1), ")");
    const lua_Integer n = luaL_len(L, -1);
    // A column of no values (N = {}, or N = { n1 = 1e6 } of named entries) was taken as no column at all:
    // the observations were made without it, and a fit then said that they lack N.
    if (n == 0) {
      lua_pushnil(L);
      if (lua_next(L, -2)) {
        const std::string key = lua_type(L, -2) == LUA_TSTRING ? "'" + std::string(lua_tostring(L, -2)) + "'"
                                                                : luaL_tolstring(L, -2, nullptr);
        fail("fit.observations: ", column, " must be an array of numbers, one per run, found the key ", key,
             ": write the values in braces without names, ", column, " = { 1e6, 2e6 }");
      }
      fail("fit.observations: ", column, " = {} has no values: give one per run, or leave ", column, " out");
    }
    std::vector<double> values;
    for (lua_Integer i = 1; i <= n; ++i) {
      int type = lua_geti(L, -1, i);
      if (type != LUA_TNUMBER) {
        const std::string quoted = quoted_number(L, -1);
        if (!quoted.empty())
          fail("fit.observations: row ", i, ", column ", column, " must be a number (got string); write it without "
               "quotes: ", column, "[", i, "] = ", quoted, " (tonumber(x) converts text read from a file)");
        fail("fit.observations: row ", i, ", column ", column, " must be a number (got ", lua_typename(L, type), ")");
      }
      const double value = lua_tonumber(L, -1);
      if (std::isnan(value))  // inside, NaN marks a value missing from a file's row: not what a NaN here means
        fail("fit.observations: row ", i, ", column ", column, " is NaN; give a finite number, or leave the run out");
      values.push_back(value);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    obs.SetColumn(column, std::move(values));
  }
  if (!args.has("loss")) fail("fit.observations: the loss column is required (loss = {...})");
  if (args.has("run")) {
    args.push("run");
    if (!lua_istable(L, -1)) fail("fit.observations: run must be an array of run ids");
    std::vector<std::string> runs;
    const lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_geti(L, -1, i);
      size_t length = 0;
      const char* text = luaL_tolstring(L, -1, &length);
      runs.emplace_back(text, length);
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
    obs.SetRuns(std::move(runs));
  }
  obs.Validate();
  push(L, std::move(obs));
  return 1;
}

// A fit's observations argument: Observations, or a list of rows (converted here; the object takes
// the list's place on the stack, which keeps it alive through the call).
const Observations& observations_arg(lua_State* L, int index, const char* function) {
  if (lua_istable(L, index) && !lua_getmetatable(L, index)) {
    lua_pushnil(L);
    const bool empty = lua_next(L, index < 0 ? index - 1 : index) == 0;
    if (!empty) lua_pop(L, 2);
    if (empty) fail(function, ": no observations (an empty list); give the finished runs, such as a study's s:observations()");
  } else if (lua_istable(L, index)) {
    lua_pop(L, 1);  // the metatable
  }
  if (is_row_list(L, index)) {
    index = lua_absindex(L, index);
    push(L, observations_from_rows(L, index, function));
    lua_replace(L, index);
  }
  return check<Observations>(L, index);
}

int read_csv(lua_State* L) {
  std::string path = luaL_checkstring(L, 1);
  std::map<std::string, std::string> mapping;
  std::string N_counts;  // params = "all" | "non_embedding": what N counts, over what the file says
  std::string C_counts;  // flops = "6ND" | "kaplan" | "palm": how C was counted, likewise
  if (!lua_isnoneornil(L, 2)) {
    std::vector<std::string> keys = Observations::ColumnNames();
    keys.push_back("params");
    keys.push_back("flops");
    Args args(L, 2, "fit.read_csv", keys);
    for (const auto& column : Observations::ColumnNames())
      if (args.has(column.c_str())) mapping[column] = args.string(column.c_str());
    N_counts = params_option(L, args, "fit.read_csv", "N",
                             "; a results export's N = \"params\" counts all, N = \"non_embedding_params\" non-embedding");
    C_counts = flops_option(L, args, "fit.read_csv", "map C = \"<header>\" or leave flops out");
  }
  Observations obs = fit::read_csv(path, mapping);
  if (!N_counts.empty()) obs.N_counts = N_counts;
  if (!C_counts.empty()) obs.C_counts = C_counts;
  push(L, std::move(obs));
  return 1;
}

int obs_size(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check<Observations>(L, 1).size()));
  return 1;
}

template <const char* Column>
int obs_column(lua_State* L) {
  const Observations& obs = check<Observations>(L, 1);
  if (std::string(Column) == "C" && obs.has(Input::C)) {
    std::vector<double> c;
    for (size_t i = 0; i < obs.size(); ++i) c.push_back(obs.compute(i));
    push_numbers(L, c);
    return 1;
  }
  const auto& column = obs.column(Column);
  if (column.empty()) {
    lua_pushnil(L);
    return 1;
  }
  push_numbers(L, column);
  return 1;
}
constexpr char kN[] = "N", kD[] = "D", kU[] = "U", kC[] = "C", kS[] = "S", kLoss[] = "loss", kWeight[] = "weight",
               kBudget[] = "budget";

int obs_runs(lua_State* L) {
  const Observations& obs = check<Observations>(L, 1);
  if (!obs.has_runs()) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, static_cast<int>(obs.size()), 0);
  for (size_t i = 0; i < obs.size(); ++i) {
    lua_pushstring(L, obs.run(i).c_str());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

int obs_len(lua_State* L) { return obs_size(L); }

// ---- Points and options --------------------------------------------------------------------------

}  // namespace

fit::Point check_point(lua_State* L, int index, const char* function) {
  Args args(L, index, function, {"N", "D", "U", "C", "S", "x"});
  fit::Point p;
  p.N = args.number("N", fit::kMissing);
  p.D = args.number("D", fit::kMissing);
  p.U = args.number("U", fit::kMissing);
  p.C = args.number("C", args.number("x", fit::kMissing));
  p.S = args.number("S", fit::kMissing);
  return p;
}

namespace {

void push_point(lua_State* L, const fit::Point& p) {
  lua_createtable(L, 0, 5);
  for (Input input : fit::all_inputs()) {
    double v = input == Input::C ? p.C : p.get(input);
    if (std::isnan(v)) continue;
    lua_pushnumber(L, v);
    lua_setfield(L, -2, fit::input_name(input));
  }
}

void push_params(lua_State* L, const Law& law, const std::vector<double>& values) {
  lua_createtable(L, 0, static_cast<int>(values.size()));
  const auto& specs = law.parameters();
  for (size_t j = 0; j < values.size(); ++j) {
    lua_pushnumber(L, values[j]);
    lua_setfield(L, -2, specs[j].name.c_str());
  }
}

// Reads { name = value, ... } into the law's parameter order, starting from `values`.
std::vector<double> read_named(lua_State* L, int index, const Law& law, std::vector<double> values, const std::string& what) {
  index = lua_absindex(L, index);
  unwrap_read_only_view(L, index);  // law:with(other.params)
  if (!lua_istable(L, index)) fail(what, " must be a table { name = value, ... } (got ", got_type(L, index), ")");
  lua_pushnil(L);
  while (lua_next(L, index)) {
    if (lua_type(L, -2) != LUA_TSTRING) fail(what, ": keys must be parameter names");
    std::string name = lua_tostring(L, -2);
    // law.index throws suggesting the nearest name; said after what was called, which it did not name.
    if (!law.has(name)) {
      try {
        law.index(name);
      } catch (const std::exception& e) {
        fail(what, ": ", e.what());
      }
    }
    const size_t j = law.index(name);
    if (lua_type(L, -1) != LUA_TNUMBER) fail(what, ".", name, " must be a number (got ", got_type(L, -1), ")");
    values[j] = lua_tonumber(L, -1);
    // law:with{ E = 0/0 } made a law whose every prediction was NaN (and E = math.huge one of inf losses).
    if (!std::isfinite(values[j])) fail(what, ".", name, " must be a finite number (got ", format_number(values[j], 6), ")");
    lua_pop(L, 1);
  }
  return values;
}

std::vector<std::string> read_strings(lua_State* L, int index, const std::string& what) {
  index = lua_absindex(L, index);
  if (lua_type(L, index) == LUA_TSTRING) return {lua_tostring(L, index)};
  if (!lua_istable(L, index)) fail(what, " must be a list of names (got ", got_type(L, index), ")");
  std::vector<std::string> out;
  const lua_Integer n = luaL_len(L, index);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, index, i);
    if (lua_type(L, -1) != LUA_TSTRING) fail(what, "[", i, "] must be a parameter name");
    out.push_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return out;
}

const std::vector<std::string> kFitKeys = {"bootstrap", "seed", "starts", "grid", "bounds", "tie", "free", "threads",
                                           "huber_delta", "max_iterations", "covariance", "init", "parametrisation",
                                           "merge_starts", "bootstrap_starts", "function_tolerance"};

struct ParsedOptions {
  fit::FitOptions options;
  Law law;
  bool direct = false;
};

// Reads the fitting options at `index` (nil = defaults) for `law`, whose values are the starting
// point and the held values; `extra` keys are accepted and left to the caller.
ParsedOptions read_options(lua_State* L, int index, const std::string& function, Law law,
                           const std::vector<std::string>& extra = {}) {
  ParsedOptions out;
  out.law = std::move(law);
  if (lua_isnoneornil(L, index)) return out;
  std::vector<std::string> keys = kFitKeys;
  keys.insert(keys.end(), extra.begin(), extra.end());
  Args args(L, index, function, keys);
  fit::FitOptions& o = out.options;
  o.bootstrap = args.int_value("bootstrap", 0);
  o.seed = args.unsigned_value("seed", 1);
  o.threads = args.int_value("threads", o.threads);
  o.max_iterations = args.int_value("max_iterations", o.max_iterations);
  o.bootstrap_starts = args.int_value("bootstrap_starts", o.bootstrap_starts);
  o.function_tolerance = args.number("function_tolerance", o.function_tolerance);
  o.covariance = args.boolean("covariance", o.covariance);
  o.merge_starts = args.boolean("merge_starts", o.merge_starts);
  if (args.has("huber_delta")) {
    args.push("huber_delta");
    if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1))
      o.huber_delta = std::numeric_limits<double>::infinity();
    else
      o.huber_delta = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(o.huber_delta > 0)) fail(function, ": huber_delta must be positive, or false for least squares");
  }
  std::string parametrisation = args.string("parametrisation", "lse");
  if (parametrisation != "lse" && parametrisation != "direct")
    fail(function, ": parametrisation must be \"lse\" (log-space LogSumExp, the default) or \"direct\"");
  out.direct = parametrisation == "direct";
  if (args.has("init")) {
    args.push("init");
    out.law = out.law.with_values(read_named(L, -1, out.law, out.law.values(), function + ": init"));
    lua_pop(L, 1);
  }
  if (args.has("free")) {
    args.push("free");
    o.free = read_strings(L, -1, function + ": free");
    lua_pop(L, 1);
  }
  if (args.has("tie")) {
    args.push("tie");
    int t = lua_gettop(L);
    if (!lua_istable(L, t)) fail(function, ": tie must be a list of names, or a list of such lists");
    lua_geti(L, t, 1);
    bool nested = lua_istable(L, -1);
    lua_pop(L, 1);
    if (nested) {
      const lua_Integer n = luaL_len(L, t);
      for (lua_Integer i = 1; i <= n; ++i) {
        lua_geti(L, t, i);
        o.ties.push_back(read_strings(L, -1, str(function, ": tie[", i, "]")));
        lua_pop(L, 1);
      }
    } else {
      o.ties.push_back(read_strings(L, t, function + ": tie"));
    }
    lua_pop(L, 1);
  }
  if (args.has("bounds")) {
    args.push("bounds");
    int t = lua_gettop(L);
    if (!lua_istable(L, t)) fail(function, ": bounds must be a table { name = {lower, upper} }");
    lua_pushnil(L);
    while (lua_next(L, t)) {
      if (lua_type(L, -2) != LUA_TSTRING) fail(function, ": bounds keys must be parameter names");
      std::string name = lua_tostring(L, -2);
      std::vector<double> b = to_numbers(L, -1, function + ": bounds." + name);
      if (b.size() != 2) fail(function, ": bounds.", name, " must be {lower, upper} (use -math.huge/math.huge for none)");
      o.bounds[name] = {b[0], b[1]};
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  auto read_grid = [&](int t, const std::string& what) {
    lua_pushnil(L);
    while (lua_next(L, t)) {
      if (lua_type(L, -2) != LUA_TSTRING) fail(what, ": keys must be parameter names");
      std::string name = lua_tostring(L, -2);
      o.grid[name] = to_numbers(L, -1, what + "." + name);
      lua_pop(L, 1);
    }
  };
  if (args.has("grid")) {
    args.push("grid");
    if (!lua_istable(L, -1)) fail(function, ": grid must be a table { name = {values...} } in fit coordinates");
    read_grid(lua_gettop(L), function + ": grid");
    lua_pop(L, 1);
  }
  if (args.has("starts")) {
    args.push("starts");
    int t = lua_gettop(L);
    if (!lua_istable(L, t)) fail(function, ": starts must be a list of { name = value } points, or a grid { name = {values} }");
    if (luaL_len(L, t) > 0) {
      const lua_Integer n = luaL_len(L, t);
      for (lua_Integer i = 1; i <= n; ++i) {
        lua_geti(L, t, i);
        o.starts.push_back(read_named(L, -1, out.law, out.law.values(), str(function, ": starts[", i, "]")));
        lua_pop(L, 1);
      }
    } else {
      read_grid(t, function + ": starts");
    }
    lua_pop(L, 1);
  }
  o.Validate();
  return out;
}

FittedLaw run_fit(const ParsedOptions& p, const Observations& obs) {
  return p.direct ? fit::fit_law_direct(p.law, obs, p.options) : fit::fit_law(p.law, obs, p.options);
}

// ---- Fitting functions -----------------------------------------------------------------------------

int chinchilla(lua_State* L) {
  const Observations& obs = observations_arg(L, 1, "fit.chinchilla");
  ParsedOptions p = read_options(L, 2, "fit.chinchilla", Law::Make(LawKind::Chinchilla));
  push(L, run_fit(p, obs));
  return 1;
}

int data_constrained(lua_State* L) {
  const Observations& obs = observations_arg(L, 1, "fit.data_constrained");
  Law law = Law::Make(LawKind::DataConstrained);
  bool has_base = false;
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "base");
    if (!lua_isnil(L, -1)) {
      // check<FittedLaw> said "argument #3 must be a scaling law", naming neither base nor a fix; and
      // a study's base = "single_epoch" is not a law here.
      if (!test<FittedLaw>(L, lua_gettop(L))) {
        const bool single_epoch = lua_type(L, -1) == LUA_TSTRING && std::string(lua_tostring(L, -1)) == "single_epoch";
        fail("fit.data_constrained: base must be a law with E, A, B, alpha, beta (got ", type_name(L, -1),
             single_epoch ? " \"single_epoch\", a study's option: fits = { data_constrained = { base = \"single_epoch\" } })"
                          : ")",
             "; give a published one (base = fit.published.datablations) or fit.chinchilla of the runs that saw their "
             "data once (base = fit.chinchilla(single_epoch_runs)), or leave base out to fit all seven parameters");
      }
      const FittedLaw& base = check<FittedLaw>(L, lua_gettop(L));
      for (const char* name : {"E", "A", "B", "alpha", "beta"}) {
        if (!base.law.has(name))
          fail("fit.data_constrained: base must be a law with E, A, B, alpha, beta (got a ", base.law.name(), " law)");
        law = law.with(name, base.law.param(name));
      }
      has_base = true;
    }
    lua_pop(L, 1);
  }
  ParsedOptions p = read_options(L, 2, "fit.data_constrained", law, {"base"});
  if (has_base && p.options.free.empty()) p.options.free = {"R_D", "R_N"};
  push(L, run_fit(p, obs));
  return 1;
}

// The Kaplan law of a fit.kaplan form ("N", "D", "C", "ND", "curve").
// The form = of fit.kaplan's options at `index` (a table or nil), nullopt where it is not given.
std::optional<std::string> kaplan_form_option(lua_State* L, int index) {
  std::optional<std::string> form;
  if (!lua_istable(L, index)) return form;
  lua_getfield(L, index, "form");
  // luaL_checkstring on a stack slot said "bad argument #-1 to 'f'", naming neither form nor kaplan.
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
    fail("fit.kaplan: form must be \"N\", \"D\", \"C\", \"ND\" or \"curve\" (got ", type_name(L, -1),
         "); leave it out to choose from the observations' columns");
  if (!lua_isnil(L, -1)) form = lua_tostring(L, -1);
  lua_pop(L, 1);
  return form;
}

LawKind kaplan_kind(const std::string& form) {
  if (form == "N") return LawKind::KaplanN;
  if (form == "D") return LawKind::KaplanD;
  if (form == "C") return LawKind::KaplanC;
  if (form == "ND") return LawKind::KaplanND;
  if (form == "curve") return LawKind::KaplanCurve;
  fail("fit.kaplan: form must be \"N\", \"D\", \"C\", \"ND\" or \"curve\" (got \"", form, "\")");
}

int kaplan(lua_State* L) {
  const Observations& obs = observations_arg(L, 1, "fit.kaplan");
  const std::optional<std::string> given = kaplan_form_option(L, 2);
  std::string form = given.value_or("");
  if (!given) {
    if (obs.has(Input::S) && obs.has(Input::N)) form = "curve";
    else if (obs.has(Input::N) && obs.has(Input::D)) form = "ND";
    else if (obs.has(Input::N)) form = "N";
    else if (obs.has(Input::D)) form = "D";
    else form = "C";
  }
  ParsedOptions p = read_options(L, 2, "fit.kaplan", Law::Make(kaplan_kind(form)), {"form"});
  push(L, run_fit(p, obs));
  return 1;
}

// fit.law(law, obs, opts): refits any law (its kind; its values are starts and held values).
int fit_any(lua_State* L) {
  const FittedLaw& law = check<FittedLaw>(L, 1);
  const Observations& obs = observations_arg(L, 2, "fit.law");
  ParsedOptions p = read_options(L, 3, "fit.law", law.law);
  // The law's values are the start (a refit from where it is), unless starts = or grid = give others.
  if (p.options.starts.empty() && p.options.grid.empty()) p.options.starts = {law.law.values()};
  push(L, run_fit(p, obs));
  return 1;
}

// ---- Custom laws ---------------------------------------------------------------------------------

// A Lua function kept in the registry while any copy of the law lives.
struct LuaFunctionRef {
  LuaFunctionRef(lua_State* state, int reference) : L(state), ref(reference) {}
  LuaFunctionRef(const LuaFunctionRef&) = delete;
  LuaFunctionRef& operator=(const LuaFunctionRef&) = delete;
  ~LuaFunctionRef() { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
  lua_State* L;
  int ref;
};

int custom(lua_State* L) {
  Args args(L, 1, "fit.custom",
            {"name", "params", "predict", "inputs", "formula", "data", "bootstrap", "seed", "starts", "grid", "bounds",
             "tie", "free", "huber_delta", "max_iterations", "covariance", "init", "function_tolerance"});
  std::string name = args.string("name", "custom");
  if (args.push("predict") != LUA_TFUNCTION) fail("fit.custom: predict must be a function(params, x) returning the loss");
  lua_State* main = L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  main = lua_tothread(L, -1);
  lua_pop(L, 1);
  auto fn = std::make_shared<LuaFunctionRef>(main, luaL_ref(L, LUA_REGISTRYINDEX));

  std::vector<fit::ParameterSpec> specs;
  if (args.push("params") != LUA_TTABLE)
    fail("fit.custom: params must be a table { name = {start values...} | { start = {...}, scale = \"log\", "
         "lower =, upper = } }");
  int t = lua_gettop(L);
  std::vector<std::string> names;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) fail("fit.custom: params keys must be parameter names");
    names.push_back(lua_tostring(L, -1));
  }
  std::sort(names.begin(), names.end());
  for (const auto& pname : names) {
    lua_getfield(L, t, pname.c_str());
    fit::ParameterSpec spec;
    spec.name = pname;
    std::string what = "fit.custom: params." + pname;
    if (lua_type(L, -1) == LUA_TNUMBER) {
      spec.grid = {lua_tonumber(L, -1)};
    } else if (lua_istable(L, -1) && luaL_len(L, -1) > 0) {
      spec.grid = to_numbers(L, -1, what);
    } else if (lua_istable(L, -1)) {
      Args p(L, -1, what, {"start", "scale", "lower", "upper", "doc"});
      std::string scale = p.string("scale", "linear");
      if (scale != "linear" && scale != "log") fail(what, ".scale must be \"linear\" or \"log\"");
      spec.log_scale = scale == "log";
      if (p.has("start")) {
        p.push("start");
        if (lua_type(L, -1) == LUA_TNUMBER) spec.grid = {lua_tonumber(L, -1)};
        else spec.grid = to_numbers(L, -1, what + ".start");
        lua_pop(L, 1);
      }
      spec.lower = p.number("lower", -std::numeric_limits<double>::infinity());
      spec.upper = p.number("upper", std::numeric_limits<double>::infinity());
      spec.doc = p.string("doc", "");
    } else {
      fail(what, " must be a start value, a list of start values, or { start =, scale =, lower =, upper =, doc = }");
    }
    if (spec.grid.empty()) fail(what, ": give at least one start value");
    for (double& v : spec.grid) {
      if (spec.log_scale) {
        if (!(v > 0)) fail(what, ": a log-scale parameter's start values must be positive (got ", format_number(v, 6), ")");
        v = std::log(v);  // grids are in fit coordinates
      }
    }
    specs.push_back(spec);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  std::vector<Input> inputs;
  if (args.has("inputs")) {
    args.push("inputs");
    for (const auto& in : read_strings(L, -1, "fit.custom: inputs")) {
      bool found = false;
      for (Input i : fit::all_inputs())
        if (in == fit::input_name(i)) {
          inputs.push_back(i);
          found = true;
        }
      if (!found) fail("fit.custom: inputs: unknown input '", in, "' (inputs are N, D, U, C, S)");
    }
    lua_pop(L, 1);
  } else {
    inputs = {Input::N, Input::D};
  }
  std::string formula = args.string("formula", "L = predict(params, x)");
  std::vector<std::string> spec_names;
  for (const auto& s : specs) spec_names.push_back(s.name);
  auto predict = [fn, spec_names](const std::vector<double>& values, const fit::Point& x) -> double {
    // On the thread that called into the binding (a coroutine's, where it was one), else the main.
    lua_State* L = calling_thread() ? calling_thread() : fn->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, fn->ref);
    lua_createtable(L, 0, static_cast<int>(values.size()));
    for (size_t j = 0; j < values.size(); ++j) {
      lua_pushnumber(L, values[j]);
      lua_setfield(L, -2, spec_names[j].c_str());
    }
    push_point(L, x);
    lua_call(L, 2, 1);
    int isnum = 0;
    double y = lua_tonumberx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum) fail("fit.custom: predict must return a number");
    return y;
  };
  Law law = Law::Custom(name, specs, inputs, predict, formula, /*thread_safe=*/false);
  if (!args.has("data")) {
    FittedLaw unfitted;
    unfitted.law = law;
    push(L, std::move(unfitted));
    return 1;
  }
  args.push("data");
  const Observations& obs = observations_arg(L, lua_gettop(L), "fit.custom");
  // The fitting options are the other keys of the same table.
  lua_newtable(L);
  int opts = lua_gettop(L);
  for (const auto& key : kFitKeys) {
    lua_getfield(L, 1, key.c_str());
    lua_setfield(L, opts, key.c_str());
  }
  ParsedOptions p = read_options(L, opts, "fit.custom", law);
  p.options.threads = 1;
  push(L, run_fit(p, obs));
  return 1;
}

// ---- Law objects -----------------------------------------------------------------------------------

int law_predict(lua_State* L) {
  const FittedLaw& law = check<FittedLaw>(L, 1);
  fit::Point p = check_point(L, 2, "law:predict");
  lua_pushnumber(L, law.law.predict(p));
  return 1;
}

// law(70e9, 1.4e12) said "attempt to call a Law value": a law is evaluated with law:predict{...},
// which the error now writes out with the law's inputs (and the numbers given, in their order).
int law_call(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  const int given = lua_gettop(L) - 1;
  std::string named;
  for (size_t j = 0; j < f.law.inputs().size(); ++j) {
    named += (j ? ", " : "") + std::string(fit::input_name(f.law.inputs()[j])) + " =";
    const int index = static_cast<int>(j) + 2;
    // Written as the tool writes numbers (N = 2.01455e7, not printf's 2.01455e+07): still Lua to copy.
    if (static_cast<int>(j) < given && lua_type(L, index) == LUA_TNUMBER)
      named += " " + format_number(lua_tonumber(L, index), 6);
  }
  fail("law(...): a law is not a function: its loss is law:predict{ ", named,
       " } (and law:optimal(C) the compute-optimal run at C FLOP; help(law) lists the rest)");
}

int law_summary(lua_State* L) {
  std::string text = check<FittedLaw>(L, 1).Summary();
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int law_kind(lua_State* L) {
  lua_pushstring(L, fit::law_kind_name(check<FittedLaw>(L, 1).law.kind()));
  return 1;
}
int law_name(lua_State* L) {
  lua_pushstring(L, check<FittedLaw>(L, 1).law.name().c_str());
  return 1;
}
int law_formula(lua_State* L) {
  lua_pushstring(L, check<FittedLaw>(L, 1).law.formula().c_str());
  return 1;
}
int law_doc(lua_State* L) {
  lua_pushstring(L, check<FittedLaw>(L, 1).law.doc().c_str());
  return 1;
}
int law_N_counts(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  if (f.N_counts.empty()) lua_pushnil(L);
  else lua_pushlstring(L, f.N_counts.data(), f.N_counts.size());
  return 1;
}
int law_C_counted(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  if (f.C_counted.empty()) lua_pushnil(L);
  else lua_pushlstring(L, f.C_counted.data(), f.C_counted.size());
  return 1;
}
// law.params.E = 2 (the view's __newindex): a law is a value, and its params show its values; the
// assignment changed nothing, silently. Refused, saying how to get the changed law.
int params_refusal(lua_State* L) {
  const std::string key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "name";
  const std::string value = assigned_value(L, 3);
  fail("law.params", lua_type(L, 2) == LUA_TSTRING ? "." + key : assigned_key(L, 2), " = ", value,
       ": law.params is read-only (it shows the law's values, and changing it would change no law); for a law with "
       "another value write law:with{ ", key, " = ", value, " }, which returns that law");
}

// The other views of a law (law.samples, law.intervals and their entries), refused alike: upvalue 1 is
// the view's path as the user reaches it ("law.samples[3]"), upvalue 2 what is read-only and the way to
// the law wanted.
int view_refusal(lua_State* L) {
  fail(lua_tostring(L, lua_upvalueindex(1)), assigned_key(L, 2), " = ", assigned_value(L, 3), ": ",
       lua_tostring(L, lua_upvalueindex(2)));
}

// Replaces the table on top of the stack by a read-only view of it, refused by view_refusal.
void make_law_view(lua_State* L, const std::string& path, const char* refused) {
  lua_pushlstring(L, path.data(), path.size());
  lua_pushstring(L, refused);
  push_read_only_view(L, -3, &bound<view_refusal>, 2);
  lua_remove(L, -2);
}

constexpr char kSamplesReadOnly[] =
    "law.samples is read-only (the law's bootstrap draws, as its fit made them: changing them would change no law, "
    "nor its intervals); for a law with other samples write law:with_samples(samples), samples a list of "
    "{ name = value } with every parameter, which returns that law";
constexpr char kIntervalsReadOnly[] =
    "law.intervals is read-only (the 95% percentile intervals of the law's bootstrap samples: changing them would "
    "change no law); law:interval(name, level) gives another level, law:with_samples(samples) a law with other samples";

// law.params: a read-only view of the point estimate's values (reading, pairs, printing and json as a table's).
int law_params(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  push_params(L, f.law, f.law.values());
  push_read_only_view(L, -1, &bound<params_refusal>);
  return 1;
}
int law_names(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  auto names = f.law.names();
  lua_createtable(L, static_cast<int>(names.size()), 0);
  for (size_t j = 0; j < names.size(); ++j) {
    lua_pushstring(L, names[j].c_str());
    lua_rawseti(L, -2, static_cast<lua_Integer>(j + 1));
  }
  return 1;
}
int law_inputs(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  lua_createtable(L, static_cast<int>(f.law.inputs().size()), 0);
  for (size_t j = 0; j < f.law.inputs().size(); ++j) {
    lua_pushstring(L, fit::input_name(f.law.inputs()[j]));
    lua_rawseti(L, -2, static_cast<lua_Integer>(j + 1));
  }
  return 1;
}

void push_or_nil(lua_State* L, double v) {
  if (std::isnan(v)) lua_pushnil(L);
  else lua_pushnumber(L, v);
}

template <double FittedLaw::*Field>
int law_number(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  if (!f.fitted) {
    lua_pushnil(L);
    return 1;
  }
  push_or_nil(L, f.*Field);
  return 1;
}

template <int FittedLaw::*Field>
int law_int(lua_State* L) {
  lua_pushinteger(L, check<FittedLaw>(L, 1).*Field);
  return 1;
}

int law_fitted(lua_State* L) {
  lua_pushboolean(L, check<FittedLaw>(L, 1).fitted);
  return 1;
}
int law_residuals(lua_State* L) {
  push_numbers(L, check<FittedLaw>(L, 1).residuals);
  return 1;
}
int law_report(lua_State* L) {
  lua_pushstring(L, check<FittedLaw>(L, 1).report.c_str());
  return 1;
}
int law_warnings(lua_State* L) {
  push_strings(L, check<FittedLaw>(L, 1).warnings);
  return 1;
}
int law_notes(lua_State* L) {
  push_strings(L, check<FittedLaw>(L, 1).notes);
  return 1;
}
int law_on_bound(lua_State* L) {
  push_strings(L, check<FittedLaw>(L, 1).on_bound);
  return 1;
}
int law_undetermined(lua_State* L) {
  push_strings(L, check<FittedLaw>(L, 1).undetermined);
  return 1;
}
int law_observations(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check<FittedLaw>(L, 1).observations));
  return 1;
}

void push_interval(lua_State* L, const fit::Interval& i) {
  lua_createtable(L, 2, 1);
  lua_pushnumber(L, i.lo);
  lua_rawseti(L, -2, 1);
  lua_pushnumber(L, i.hi);
  lua_rawseti(L, -2, 2);
  lua_pushnumber(L, i.level);
  lua_setfield(L, -2, "level");
}

// law.span: { N = {lo, hi}, D = ..., C = ..., U = ..., epochs = ... } of the runs fitted (the inputs
// they had; U and epochs = D / U where the runs had unique tokens), or nil.
int law_span(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  const std::pair<const char*, const fit::Interval*> spans[] = {
      {"N", &f.span_N}, {"D", &f.span_D}, {"C", &f.span_C}, {"U", &f.span_U}, {"epochs", &f.span_epochs}};
  bool any = false;
  for (const auto& [name, span] : spans) {
    if (!span->valid()) continue;
    if (!any) lua_newtable(L);
    any = true;
    lua_createtable(L, 2, 0);
    lua_pushnumber(L, span->lo);
    lua_rawseti(L, -2, 1);
    lua_pushnumber(L, span->hi);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, name);
  }
  if (!any) lua_pushnil(L);
  return 1;
}

bool has_allocation(const Law& law) { return fit::has_closed_form_allocation(law); }

// A law's views that are made once and kept (a law is a value: its samples and intervals never
// change; law:with_samples makes a new law, with views of its own), each kind in a registry table weak
// in its keys, the laws. cached_view pushes the kept view of the law at index 1 and returns true, or
// pushes nothing and returns false; keep_view keeps the view on top of the stack (left there).
bool cached_view(lua_State* L, const char* key) {
  push_weak_keyed(L, key);
  lua_pushvalue(L, 1);
  if (lua_rawget(L, -2) == LUA_TTABLE) {
    lua_remove(L, -2);
    return true;
  }
  lua_pop(L, 2);
  return false;
}

void keep_view(lua_State* L, const char* key) {
  push_weak_keyed(L, key);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

// law.intervals: { name = {lo, hi} } for every parameter the fit did not hold (a held one has no
// interval: it is absent), plus a, b (allocation exponents) where defined; nil without bootstrap
// samples. Made once per law and kept, as law.samples is: it was made again at every read, a
// percentile sort of every sample for each parameter and a closed-form allocation of every sample
// for a and b, so that a loop reading law.intervals.alpha redid the whole bootstrap summary each time.
int law_intervals(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  if (f.samples.empty()) {
    lua_pushnil(L);
    return 1;
  }
  if (cached_view(L, "scalelab.law_intervals")) return 1;
  lua_newtable(L);
  // Each a read-only view too, as the table of them (law.intervals.alpha[1] = 0.3 changed nothing either).
  auto set = [&](const std::string& name, const fit::Interval& interval) {
    push_interval(L, interval);
    make_law_view(L, "law.intervals." + name, kIntervalsReadOnly);
    lua_setfield(L, -2, name.c_str());
  };
  for (const auto& name : f.law.names())
    if (f.has_interval(name)) set(name, f.interval(name));
  if (has_allocation(f.law)) {
    set("a", f.interval([](const Law& l) { return fit::compute_optimal(l).a; }));
    set("b", f.interval([](const Law& l) { return fit::compute_optimal(l).b; }));
  }
  make_law_view(L, "law.intervals", kIntervalsReadOnly);
  keep_view(L, "scalelab.law_intervals");
  return 1;
}

int law_standard_errors(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  if (f.standard_errors.empty()) {
    lua_pushnil(L);
    return 1;
  }
  lua_newtable(L);
  auto names = f.law.names();
  for (size_t j = 0; j < names.size() && j < f.standard_errors.size(); ++j) {
    if (std::isnan(f.standard_errors[j])) continue;
    lua_pushnumber(L, f.standard_errors[j]);
    lua_setfield(L, -2, names[j].c_str());
  }
  return 1;
}

// law.samples: the view is made once per law and kept (cached_view). It was made again at every read
// of law.samples, a view of every sample each time: a loop reading law.samples[i] took O(n) a read,
// O(n²) in all (2000 samples: 4 million views made).
int law_samples(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  if (cached_view(L, "scalelab.law_samples")) return 1;
  lua_createtable(L, static_cast<int>(f.samples.size()), 0);
  for (size_t i = 0; i < f.samples.size(); ++i) {
    push_params(L, f.law, f.samples[i]);
    make_law_view(L, str("law.samples[", i + 1, "]"), kSamplesReadOnly);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  make_law_view(L, "law.samples", kSamplesReadOnly);
  keep_view(L, "scalelab.law_samples");
  return 1;
}

int law_sample(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 1 || static_cast<size_t>(i) > f.samples.size())
    fail("law:sample(i): i must be in 1..", f.samples.size(), " (got ", i, ")");
  FittedLaw out;
  out.law = f.sample(static_cast<size_t>(i - 1));
  out.N_counts = f.N_counts;  // the same runs' conventions
  out.C_counted = f.C_counted;
  push(L, std::move(out));
  return 1;
}

int law_with(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  FittedLaw out;
  out.law = f.law.with_values(read_named(L, 2, f.law, f.law.values(), "law:with"));
  out.N_counts = f.N_counts;  // other values, the same counts of N and C
  out.C_counted = f.C_counted;
  push(L, std::move(out));
  return 1;
}

// law:with_samples(samples) -> the same fitted law with these bootstrap samples, each { name =
// value } with every parameter: intervals from a bootstrap run outside the fitter (a two-stage
// procedure that refits a frozen part on every resample too).
int law_with_samples(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  if (!lua_istable(L, 2)) fail("law:with_samples: samples must be a list of { name = value } (got ", got_type(L, 2), ")");
  FittedLaw out = f;
  out.samples.clear();
  const lua_Integer n = luaL_len(L, 2);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, 2, i);
    const std::string what = str("law:with_samples: samples[", i, "]");
    std::vector<double> values =
        read_named(L, -1, f.law, std::vector<double>(f.law.size(), std::numeric_limits<double>::quiet_NaN()), what);
    lua_pop(L, 1);
    const std::vector<std::string> names = f.law.names();
    for (size_t j = 0; j < values.size(); ++j)
      if (!std::isfinite(values[j])) fail(what, ".", names[j], " is missing or not finite (a sample gives every parameter)");
    out.samples.push_back(std::move(values));
  }
  push(L, std::move(out));
  return 1;
}

// law:with_warnings{ "...", ... } and law:with_notes{ "...", ... } -> the same fitted law with these warnings (or
// notes) after its own: what a procedure built on the fitter (the two-step data-constrained fit) found of the law
// it returns.
template <std::vector<std::string> FittedLaw::*kList>
int law_with_said(lua_State* L) {
  const char* what = kList == &FittedLaw::warnings ? "warnings" : "notes";
  const FittedLaw& f = check<FittedLaw>(L, 1);
  if (!lua_istable(L, 2)) fail("law:with_", what, ": ", what, " must be a list of strings (got ", luaL_typename(L, 2), ")");
  FittedLaw out = f;
  const lua_Integer n = luaL_len(L, 2);
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_geti(L, 2, i) != LUA_TSTRING)
      fail("law:with_", what, ": ", what, "[", i, "] must be a string (got ", luaL_typename(L, -1), ")");
    (out.*kList).emplace_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  push(L, std::move(out));
  return 1;
}

// law:interval(name | function(law) -> number [, level = 0.95]) -> {lo, hi}
int law_interval(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  double level = luaL_optnumber(L, 3, 0.95);
  if (!(level > 0 && level < 1)) fail("law:interval: level must be in (0, 1), got ", format_number(level, 6));
  if (f.samples.empty()) fail("law:interval: the law has no bootstrap samples (fit it with bootstrap = n)");
  if (lua_type(L, 2) == LUA_TSTRING) {
    const std::string name = lua_tostring(L, 2);
    // The allocation exponents, as law.intervals gives them beside the parameters.
    if ((name == "a" || name == "b") && !f.law.has(name) && has_allocation(f.law)) {
      const bool a = name == "a";
      push_interval(L, f.interval([a](const Law& l) { return a ? fit::compute_optimal(l).a : fit::compute_optimal(l).b; },
                                  level));
      return 1;
    }
    if (f.law.has(name) && !f.has_interval(name))
      fail("law:interval: ", name, " was held at ", format_number(f.law.param(name), 6),
           " in this fit and in its resamples, so it has no interval; name it in free (fit it) to get one");
    push_interval(L, f.interval(name, level));
    return 1;
  }
  luaL_checktype(L, 2, LUA_TFUNCTION);
  std::vector<double> values;
  for (size_t i = 0; i < f.samples.size(); ++i) {
    lua_pushvalue(L, 2);
    FittedLaw s;
    s.law = f.sample(i);
    push(L, std::move(s));
    lua_call(L, 1, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) fail("law:interval: the function must return a number");
    values.push_back(lua_tonumber(L, -1));
    lua_pop(L, 1);
  }
  push_interval(L, fit::percentile_interval(std::move(values), level));
  return 1;
}

void set_tostring(lua_State* L, const std::string& summary, const char* doc = nullptr);

const char* const kAllocationDoc =
    "A compute-optimal allocation under a law of Chinchilla's form (law:allocation(C)), with C = 6·N·D; printing "
    "shows N_opt and D_opt with their units and intervals, or why it has none (its summary field).\n"
    "Fields: N_opt, D_opt (parameters and tokens at C), tokens_per_parameter (D_opt / N_opt); a, b, G (N_opt = "
    "G·(C/6)^a, D_opt = (C/6)^b / G, a = beta/(alpha+beta), b = alpha/(alpha+beta), G = "
    "(alpha·A/(beta·B))^(1/(alpha+beta))); intervals (a law with bootstrap samples only: { lo, hi } at 95% of a, b, "
    "N_opt, D_opt and tokens_per_parameter); beyond (a fitted law only, where N_opt, D_opt or C lie more than twice "
    "beyond its runs: how far, as plan's answers note it, e.g. \"beyond the 25 runs fitted: N 380× the largest (100M), "
    "...\"); summary.";

// law:allocation(C) -> { a, b, G, N_opt, D_opt, tokens_per_parameter [, intervals] }, printed with
// its units and intervals (or why it has none).
int law_allocation(lua_State* L) {
  const FittedLaw& f = check<FittedLaw>(L, 1);
  double c = luaL_checknumber(L, 2);
  if (!(c > 0) || !std::isfinite(c)) fail("law:allocation(C): C must be positive finite FLOP (got ", format_number(c, 6), ")");
  // A law given by hand (law:with{ ... }, not fitted) with values the closed form cannot take: said,
  // naming the value, rather than printed as N_opt 0 or nan (alpha = 0 makes G = 0).
  if (!f.fitted && fit::has_closed_form_allocation(f.law))
    for (const char* p : {"A", "B", "alpha", "beta"}) {
      const double v = f.law.param(p);
      if (!(v > 0) || !std::isfinite(v))
        fail("law:allocation(C): law '", f.law.name(), "' has ", p, " = ", format_number(v, 6), "; the allocation N_opt = G·(C/6)^a, "
             "G = (alpha·A/(beta·B))^(1/(alpha+beta)), needs A, B, alpha and beta positive and finite");
    }
  fit::Allocation a = fit::compute_optimal(f.law);
  lua_newtable(L);
  const std::pair<const char*, double> fields[] = {{"a", a.a}, {"b", a.b}, {"G", a.G}, {"N_opt", a.N_opt(c)},
                                                   {"D_opt", a.D_opt(c)}, {"tokens_per_parameter", a.tokens_per_parameter(c)}};
  for (const auto& [name, value] : fields) {
    lua_pushnumber(L, value);
    lua_setfield(L, -2, name);
  }
  if (!f.samples.empty()) {
    lua_newtable(L);
    push_interval(L, f.interval([](const Law& l) { return fit::compute_optimal(l).a; }));
    lua_setfield(L, -2, "a");
    push_interval(L, f.interval([](const Law& l) { return fit::compute_optimal(l).b; }));
    lua_setfield(L, -2, "b");
    push_interval(L, f.interval([c](const Law& l) { return fit::compute_optimal(l).N_opt(c); }));
    lua_setfield(L, -2, "N_opt");
    push_interval(L, f.interval([c](const Law& l) { return fit::compute_optimal(l).D_opt(c); }));
    lua_setfield(L, -2, "D_opt");
    push_interval(L, f.interval([c](const Law& l) { return fit::compute_optimal(l).tokens_per_parameter(c); }));
    lua_setfield(L, -2, "tokens_per_parameter");
    lua_setfield(L, -2, "intervals");
  }
  // "N_opt 5.16B params [4.1B, 6.3B], D_opt 323B tokens [...], 62.6 tokens/param at 1.00e22 FLOP ...".
  auto with_interval = [&](double value, const std::function<double(const Law&)>& derived, const char* unit) {
    std::string text = format_count(value) + unit;
    if (!f.samples.empty()) {
      const fit::Interval i = f.interval(derived);
      text += " [" + format_count(i.lo) + ", " + format_count(i.hi) + "]";
    }
    return text;
  };
  std::string text = str(
      "compute-optimal allocation under ", f.law.name(), " at ", format_count(c), " FLOP (C = 6ND): N_opt ",
      with_interval(a.N_opt(c), [c](const Law& l) { return fit::compute_optimal(l).N_opt(c); }, " params"), ", D_opt ",
      with_interval(a.D_opt(c), [c](const Law& l) { return fit::compute_optimal(l).D_opt(c); }, " tokens"), ", ",
      plan::format_quantity(a.tokens_per_parameter(c), plan::Unit::Ratio), " tokens/param; N_opt ∝ C^", format_number(a.a, 3),
      ", D_opt ∝ C^", format_number(a.b, 3));
  if (!f.samples.empty())
    text += str(" (95% intervals over ", f.samples.size(), " bootstrap resamples)");
  else if (f.fitted)
    text += " (no intervals: the law was fitted without a bootstrap; refit with bootstrap = 200)";
  std::string blockers;
  for (const char* p : {"A", "B", "alpha", "beta"})
    if (f.is_undetermined(p)) blockers += (blockers.empty() ? "" : ", ") + std::string(p);
  if (!blockers.empty()) text += "; the fit could not determine " + blockers + ": these numbers are arbitrary";
  // Far beyond the runs fitted, said as plan.optimal's answer says it (nil field, nothing printed, within them).
  const std::string beyond = plan::beyond_runs(f, a.N_opt(c), a.D_opt(c), c);
  if (!beyond.empty()) {
    text += "; " + beyond;
    lua_pushstring(L, beyond.c_str());
    lua_setfield(L, -2, "beyond");
  }
  set_tostring(L, text, kAllocationDoc);
  return 1;
}

// ---- IsoFLOP, power laws, extrapolation ------------------------------------------------------------

void set_numbers(lua_State* L, const char* name, const std::vector<double>& v) {
  push_numbers(L, v);
  lua_setfield(L, -2, name);
}

// The table on top of the stack prints as `summary`. With `doc`, its metatable is the one of every
// result documented by it, which help(result) prints.
void set_tostring(lua_State* L, const std::string& summary, const char* doc) {
  lua_pushlstring(L, summary.data(), summary.size());
  lua_setfield(L, -2, "summary");
  if (doc == nullptr || lua_rawgetp(L, LUA_REGISTRYINDEX, doc) != LUA_TTABLE) {
    if (doc != nullptr) lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, [](lua_State* S) -> int {
      lua_getfield(S, 1, "summary");
      return 1;
    });
    lua_setfield(L, -2, "__tostring");
    if (doc != nullptr) {
      document(L, -1, doc);
      lua_pushvalue(L, -1);
      lua_rawsetp(L, LUA_REGISTRYINDEX, doc);
    }
  }
  lua_setmetatable(L, -2);
}

const char* const kIsoflopDoc =
    "An IsoFLOP analysis (Chinchilla's approach 2, fit.isoflop); printing shows the vertices, laws, notes and warnings "
    "(its summary field).\n"
    "Fields: budgets, N_opt, D_opt, L_min (one per budget with a parabola, NaN where it has no minimum); curves "
    "(per budget: C, runs, sizes = { smallest, largest }, coefficients = { c0, c1, c2 } of loss = c0 + c1·ln N + "
    "c2·ln^2 N, has_minimum, flat, inside (the vertex within the sizes), used (the power laws go through it), and "
    "where it has a minimum N_opt, D_opt, L_min, curvature; edge and edge_N when the lowest loss is at the smallest "
    "or largest size); minima, inside (how many curves have a minimum, and of those inside their sizes); "
    "parabolas (a Law holding every curve's coefficients); N_law, D_law, a, k, b, k_D (N_opt = k·C^a, D_opt = "
    "k_D·C^b through the vertices used: present when two or more are); bootstrap_drawn, samples ({ a =, k =, b = } "
    "of the resamples kept), intervals (95% of a and b, with a bootstrap); warnings (what to doubt or act on); notes "
    "(what casts no doubt: runs left out by design); summary.";

const char* const kApproach1Doc =
    "An approach-1 analysis (Chinchilla's approach 1, fit.approach1): the lower envelope of the runs' loss curves "
    "against C = 6·N·tokens; printing shows the envelope, laws, notes and warnings (its summary field).\n"
    "Fields: loss (\"eval\" or \"train\": the loss read off the curves); runs, sizes (curves with two or more "
    "points of it, and their distinct N); envelope (the bracketed frontier by C ascending: { C =, N =, D = C/(6N), "
    "loss =, run = its index in the runs given }); frontier_sizes (distinct N on it); switches (the computes where "
    "the frontier passes from one size to the next: { C =, N_before =, N_after =, N = their geometric mean }); "
    "N_law, D_law, a, k, b, k_D (N_opt = k·C^a, D_opt = k_D·C^b through the switches: present when two or more), "
    "else unfitted (why not, and what to change); bootstrap_drawn, samples ({ a =, k =, b = } of the resamples "
    "kept), intervals (95% of a and b, with a bootstrap); warnings (what to doubt or act on); notes (what casts no "
    "doubt); summary.";

// Fields of the table on top of the stack for approaches 1 and 2: N_law, D_law, a, k, b, k_D (when
// fitted), bootstrap_drawn, samples (the kept resamples' { a =, k =, b = }) and intervals (95% of a
// and b from them).
void push_allocation(lua_State* L, const FittedLaw& N_law, const FittedLaw& D_law, int drawn,
                     const std::vector<double>& a, const std::vector<double>& k, const std::vector<double>& b) {
  if (N_law.fitted) {
    push(L, N_law);
    lua_setfield(L, -2, "N_law");
    push(L, D_law);
    lua_setfield(L, -2, "D_law");
    set_number(L, "a", N_law.law.param("a"));
    set_number(L, "k", N_law.law.param("k"));
    set_number(L, "b", D_law.law.param("a"));
    set_number(L, "k_D", D_law.law.param("k"));
  }
  set_integer(L, "bootstrap_drawn", drawn);
  lua_createtable(L, static_cast<int>(a.size()), 0);
  for (size_t i = 0; i < a.size(); ++i) {
    lua_createtable(L, 0, 3);
    set_number(L, "a", a[i]);
    set_number(L, "k", k[i]);
    set_number(L, "b", b[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "samples");
  if (a.empty()) return;
  lua_newtable(L);
  push_interval(L, fit::percentile_interval(a));
  lua_setfield(L, -2, "a");
  push_interval(L, fit::percentile_interval(b));
  lua_setfield(L, -2, "b");
  lua_setfield(L, -2, "intervals");
}

// fit.isoflop(obs [, { bootstrap =, seed =, budget = { per run } }]): fit/isoflop.h's analysis.
// Without budget =, observations that carry each run's budget are grouped by it, as the study's fit groups them,
// and the runs without one (of no IsoFLOP sweep: a grid's) are left out, as the study's fit leaves them out.
fit::IsoFlopOptions isoflop_options(lua_State* L, int index) {
  fit::IsoFlopOptions options;
  if (!lua_isnoneornil(L, index)) {
    Args args(L, index, "fit.isoflop", {"bootstrap", "seed", "budget"});
    const int64_t bootstrap = args.count("bootstrap", 0, 0, "resamples");
    if (bootstrap > 1000000) fail("fit.isoflop: bootstrap = ", bootstrap, " resamples is more than 1000000; 200 to 1000 suffice");
    options.bootstrap = static_cast<int>(bootstrap);
    options.seed = static_cast<uint64_t>(args.count("seed", 1, 0, "seed"));
    if (args.has("budget")) {
      options.budgets = args.numbers("budget");
      if (options.budgets.empty())
        fail("fit.isoflop: budget is empty; give each run's compute budget, or leave budget out to group the runs by C");
    }
  }
  return options;
}

int isoflop(lua_State* L) {
  const Observations& given = observations_arg(L, 1, "fit.isoflop");
  fit::IsoFlopOptions options = isoflop_options(L, 2);
  // Observations that carry each run's budget (a study's rows, fit.read_csv of a results export).
  const Observations* obs = &given;
  Observations budgeted;
  std::string left_out;
  if (options.budgets.empty() && given.has_column("budget")) {
    const std::vector<double>& budgets = given.column("budget");
    std::vector<size_t> rows;
    for (size_t i = 0; i < budgets.size(); ++i)
      if (!std::isnan(budgets[i])) rows.push_back(i);
    if (rows.size() < given.size()) {
      const size_t others = given.size() - rows.size();
      left_out = str("left out ", others, " of the ", given.size(), " runs: ", others == 1 ? "it has" : "they have",
                     " no budget, so belong", others == 1 ? "s" : "", " to no IsoFLOP sweep (a grid's runs, beside the "
                     "sweep's); to include them, give budget = { ... } per run");
      budgeted = given.Subset(rows);
      obs = &budgeted;
    }
    options.budgets = obs->column("budget");
  }
  fit::IsoFlopResult r;
  try {
    r = fit::fit_isoflop(*obs, options);
  } catch (const Error& e) {
    if (left_out.empty()) throw;
    fail(e.what(), " (", left_out, ")");
  }
  // Runs of no IsoFLOP sweep are left out by design (the study's fit leaves them out too): a note.
  if (!left_out.empty()) r.notes.insert(r.notes.begin(), left_out);
  lua_newtable(L);
  set_numbers(L, "budgets", r.budgets);
  set_numbers(L, "N_opt", r.N_opt);
  set_numbers(L, "D_opt", r.D_opt);
  set_numbers(L, "L_min", r.L_min);
  // Each budget's curve: loss = c0 + c1·ln N + c2·ln²N (coefficients = { c0, c1, c2 }).
  lua_createtable(L, static_cast<int>(r.curves.size()), 0);
  for (size_t i = 0; i < r.curves.size(); ++i) {
    const fit::IsoFlopCurve& c = r.curves[i];
    lua_newtable(L);
    set_number(L, "C", c.C);
    set_integer(L, "runs", static_cast<int64_t>(c.runs));
    set_numbers(L, "sizes", {c.N_smallest, c.N_largest});
    set_numbers(L, "coefficients", {c.k0, c.k1, c.k2});
    set_boolean(L, "has_minimum", c.has_minimum);
    set_boolean(L, "flat", c.flat);
    if (c.has_minimum) {
      set_number(L, "N_opt", c.N_opt);
      set_number(L, "D_opt", c.D_opt);
      set_number(L, "L_min", c.L_min);
      set_number(L, "curvature", c.k2);
    }
    set_boolean(L, "inside", c.inside);
    set_boolean(L, "used", c.used);
    if (!c.edge.empty()) {
      lua_pushstring(L, c.edge.c_str());
      lua_setfield(L, -2, "edge");
      set_number(L, "edge_N", c.edge_N);
    }
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "curves");
  set_integer(L, "minima", static_cast<int64_t>(r.minima));
  set_integer(L, "inside", static_cast<int64_t>(r.inside));
  FittedLaw parabolas;
  parabolas.law = r.parabolas;
  push(L, std::move(parabolas));
  lua_setfield(L, -2, "parabolas");
  push_allocation(L, r.N_law, r.D_law, r.bootstrap_drawn, r.a_samples, r.k_samples, r.b_samples);
  push_strings(L, r.warnings);
  lua_setfield(L, -2, "warnings");
  push_strings(L, r.notes);
  lua_setfield(L, -2, "notes");
  set_tostring(L, r.Summary(), kIsoflopDoc);
  return 1;
}

// fit.check_options(name, options): raises the error that fit.<name>(obs, options) would raise for
// its options (an unknown key, a value out of range), without observations and without fitting; a
// study checks its fits' options so as it is declared, before anything trains. Kaplan's form is
// options.form, else "ND" (a study's runs have N and D).
fit::Approach1Options approach1_options(lua_State* L, int index);

int check_options(lua_State* L) {
  const std::string name = luaL_checkstring(L, 1);
  lua_settop(L, 2);
  if (!lua_isnil(L, 2) && !lua_istable(L, 2))
    fail("fit.", name, ": the options must be a table (got ", got_type(L, 2), ")");
  if (name == "chinchilla") {
    read_options(L, 2, "fit.chinchilla", Law::Make(LawKind::Chinchilla));
  } else if (name == "data_constrained") {
    read_options(L, 2, "fit.data_constrained", Law::Make(LawKind::DataConstrained), {"base"});
  } else if (name == "kaplan") {
    const std::string form = kaplan_form_option(L, 2).value_or("ND");
    read_options(L, 2, "fit.kaplan", Law::Make(kaplan_kind(form)), {"form"});
  } else if (name == "isoflop") {
    const fit::IsoFlopOptions options = isoflop_options(L, 2);
    options.Validate(options.budgets.size());
  } else if (name == "approach1") {
    approach1_options(L, 2).Validate();
  } else {
    fail("fit.check_options(name, options): name must be \"chinchilla\", \"kaplan\", \"data_constrained\", "
         "\"isoflop\" or \"approach1\" (got \"", name, "\")");
  }
  lua_pushboolean(L, 1);
  return 1;
}

// A point's number field, NaN where it is absent (a missing loss).
double optional_number(lua_State* L, int table, const char* key, const std::string& what) {
  const int type = lua_getfield(L, table, key);
  double value = fit::kMissing;
  if (type == LUA_TNUMBER) value = lua_tonumber(L, -1);
  else if (type != LUA_TNIL) fail(what, ".", key, " must be a number (got ", lua_typename(L, type), ")");
  lua_pop(L, 1);
  return value;
}

// fit.approach1(runs [, { loss =, points_per_decade =, smoothing =, bootstrap =, seed = }]): fit/approach1.h's
// analysis. runs: { { N =, curve = { { tokens =, train_loss =, eval_loss = }, ... } }, ... }, the
// shape a study's runs and store:curve give (a point's `loss` counts as its training loss).
fit::Approach1Options approach1_options(lua_State* L, int index) {
  fit::Approach1Options options;
  if (!lua_isnoneornil(L, index)) {
    Args args(L, index, "fit.approach1", {"loss", "points_per_decade", "smoothing", "bootstrap", "seed", "params"});
    options.N_counts = params_option(L, args, "fit.approach1", "the runs' N");
    const std::string loss = args.string("loss", "auto");
    if (loss == "eval") options.loss = fit::CurveLoss::Eval;
    else if (loss == "train") options.loss = fit::CurveLoss::Train;
    else if (loss != "auto")
      fail("fit.approach1: loss must be \"auto\", \"eval\" or \"train\" (got \"", loss, "\")");
    const int64_t per_decade = args.count("points_per_decade", 100, 1, "compute values per decade");
    if (per_decade > 10000)
      fail("fit.approach1: points_per_decade = ", per_decade, " is more than 10000; 100 reads the envelope finely enough");
    options.points_per_decade = static_cast<int>(per_decade);
    options.smoothing = args.number("smoothing", options.smoothing);
    const int64_t bootstrap = args.count("bootstrap", 0, 0, "resamples");
    if (bootstrap > 1000000) fail("fit.approach1: bootstrap = ", bootstrap, " resamples is more than 1000000; 200 to 1000 suffice");
    options.bootstrap = static_cast<int>(bootstrap);
    options.seed = static_cast<uint64_t>(args.count("seed", 1, 0, "seed"));
  }
  return options;
}

int approach1(lua_State* L) {
  if (!lua_istable(L, 1))
    fail("fit.approach1 expects the runs with their curves, a list of { N =, curve = { { tokens =, train_loss = }, "
         "... } } as a study's s.runs gives them; got ", got_type(L, 1));
  fit::Approach1Options options = approach1_options(L, 2);
  // What the runs' N counts, where they say it (a study's s:curves()), unless params = says it too.
  if (const std::string said = rows_N_counts(L, 1, "fit.approach1"); !said.empty()) {
    if (options.N_counts.empty()) options.N_counts = said;
    else if (options.N_counts != said)
      fail("fit.approach1: params = \"", options.N_counts, "\", but the runs count their N as \"", said,
           "\" (their N_counts, their study's params =); leave params out, or give runs whose N counts what params says");
  }
  std::vector<fit::TrainingCurve> runs;
  const lua_Integer n = luaL_len(L, 1);
  for (lua_Integer i = 1; i <= n; ++i) {
    const std::string what = str("fit.approach1: runs[", i, "]");
    if (lua_geti(L, 1, i) != LUA_TTABLE) fail(what, " must be a run, a table with N and curve");
    const int run = lua_gettop(L);
    fit::TrainingCurve curve;
    if (lua_getfield(L, run, "N") != LUA_TNUMBER)
      fail(what, ".N must be the run's parameter count, a number (got ", got_type(L, -1), ")");
    curve.N = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, run, "curve") != LUA_TTABLE)
      fail(what, ".curve must be its loss curve, a list of { tokens =, train_loss =, eval_loss = } (got ",
           got_type(L, -1), "). A study's runs and a store's s:runs{...} carry no curves: give a study's ",
           "s:curves() (its finished runs with their curves, N as its fits count it), or set each run's curve from ",
           "its store: r.curve = store:curve(r.study, r.hash)");
    const int points = lua_gettop(L);
    const lua_Integer m = luaL_len(L, points);
    for (lua_Integer j = 1; j <= m; ++j) {
      const std::string at = str(what, ".curve[", j, "]");
      if (lua_geti(L, points, j) != LUA_TTABLE) fail(at, " must be a point, a table with tokens and a loss");
      const int point = lua_gettop(L);
      const double tokens = optional_number(L, point, "tokens", at);
      if (std::isnan(tokens)) fail(at, ".tokens must be the tokens seen at that point");
      double train = optional_number(L, point, "train_loss", at);
      if (std::isnan(train)) train = optional_number(L, point, "loss", at);
      curve.tokens.push_back(tokens);
      curve.train_loss.push_back(train);
      curve.eval_loss.push_back(optional_number(L, point, "eval_loss", at));
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
    runs.push_back(std::move(curve));
  }
  const fit::Approach1Result r = fit::fit_approach1(runs, options);
  lua_newtable(L);
  lua_pushstring(L, r.loss.c_str());
  lua_setfield(L, -2, "loss");
  set_integer(L, "runs", static_cast<int64_t>(r.runs));
  set_integer(L, "sizes", static_cast<int64_t>(r.sizes));
  set_integer(L, "frontier_sizes", static_cast<int64_t>(r.frontier_sizes));
  lua_createtable(L, static_cast<int>(r.envelope.size()), 0);
  for (size_t i = 0; i < r.envelope.size(); ++i) {
    const fit::EnvelopePoint& p = r.envelope[i];
    lua_createtable(L, 0, 5);
    set_number(L, "C", p.C);
    set_number(L, "N", p.N);
    set_number(L, "D", p.D);
    set_number(L, "loss", p.loss);
    set_integer(L, "run", static_cast<int64_t>(p.run + 1));
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "envelope");
  lua_createtable(L, static_cast<int>(r.switches.size()), 0);
  for (size_t i = 0; i < r.switches.size(); ++i) {
    const fit::FrontierSwitch& w = r.switches[i];
    lua_createtable(L, 0, 4);
    set_number(L, "C", w.C);
    set_number(L, "N_before", w.N_before);
    set_number(L, "N_after", w.N_after);
    set_number(L, "N", w.N);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "switches");
  push_allocation(L, r.N_law, r.D_law, r.bootstrap_drawn, r.a_samples, r.k_samples, r.b_samples);
  if (!r.N_law.fitted) {
    lua_pushstring(L, r.unfitted.c_str());
    lua_setfield(L, -2, "unfitted");
  }
  push_strings(L, r.warnings);
  lua_setfield(L, -2, "warnings");
  push_strings(L, r.notes);
  lua_setfield(L, -2, "notes");
  set_tostring(L, r.Summary(), kApproach1Doc);
  return 1;
}

int power_law(lua_State* L) {
  Args args(L, 1, "fit.power_law", {"x", "y", "input", "output", "bootstrap", "seed"});
  std::vector<double> x = args.numbers("x"), y = args.numbers("y");
  std::string input = args.string("input", "C");
  Input in = Input::C;
  bool found = false;
  for (Input i : fit::all_inputs())
    if (input == fit::input_name(i)) {
      in = i;
      found = true;
    }
  if (!found) fail("fit.power_law: input must be one of N, D, U, C, S (got \"", input, "\")");
  push(L, fit::fit_power_law(x, y, in, args.string("output", "y"), args.int_value("bootstrap", 0),
                             args.unsigned_value("seed", 1)));
  return 1;
}

const char* const kExtrapolationDoc =
    "An extrapolation check (fit.extrapolate): the law fitted on the runs below a compute threshold, and its "
    "errors predicting the runs at or above it; printing shows the errors (its summary field).\n"
    "Fields: fit (the law fitted on the runs below), train_runs, test_runs (how many runs below and at or above "
    "the threshold); predicted, actual (the law's loss and the observed loss of each run at or above it); rmse (the "
    "RMSE of ln predicted - ln actual), mean_abs_relative, max_abs_relative (of |predicted - actual| / actual); "
    "summary.";

int extrapolate(lua_State* L) {
  const FittedLaw& law = check<FittedLaw>(L, 1);
  const Observations& obs = observations_arg(L, 2, "fit.extrapolate");
  if (!lua_istable(L, 3)) fail("fit.extrapolate(law, obs, { below = C, ... }): the options table with below = is required");
  lua_getfield(L, 3, "below");
  if (lua_type(L, -1) != LUA_TNUMBER) fail("fit.extrapolate: below must be the compute threshold in FLOP");
  double below = lua_tonumber(L, -1);
  lua_pop(L, 1);
  ParsedOptions p = read_options(L, 3, "fit.extrapolate", law.law, {"below"});
  fit::Extrapolation e = fit::extrapolate(p.law, obs, below, p.options);
  lua_newtable(L);
  push(L, e.fit);
  lua_setfield(L, -2, "fit");
  set_numbers(L, "predicted", e.predicted);
  set_numbers(L, "actual", e.actual);
  lua_pushnumber(L, e.rmse_log);
  lua_setfield(L, -2, "rmse");
  lua_pushnumber(L, e.mean_abs_relative);
  lua_setfield(L, -2, "mean_abs_relative");
  lua_pushnumber(L, e.max_abs_relative);
  lua_setfield(L, -2, "max_abs_relative");
  lua_pushinteger(L, static_cast<lua_Integer>(e.train_runs));
  lua_setfield(L, -2, "train_runs");
  lua_pushinteger(L, static_cast<lua_Integer>(e.test_runs));
  lua_setfield(L, -2, "test_runs");
  set_tostring(L, e.Summary(), kExtrapolationDoc);
  return 1;
}

// fit.interval(values [, level = 0.95]) -> {lo, hi, level = level}: the percentile interval of a
// bootstrap's draws, as the fits give theirs (fit::percentile_interval).
int interval(lua_State* L) {
  std::vector<double> values = to_numbers(L, 1, "fit.interval: values");
  const double level = luaL_optnumber(L, 2, 0.95);
  if (!(level > 0 && level < 1)) fail("fit.interval: level must be in (0, 1), got ", format_number(level, 6));
  if (values.empty()) fail("fit.interval: values is empty; give the draws, e.g. one number per bootstrap resample");
  push_interval(L, fit::percentile_interval(std::move(values), level));
  return 1;
}

int objective(lua_State* L) {
  const FittedLaw& law = check<FittedLaw>(L, 1);
  const Observations& obs = observations_arg(L, 2, "fit.objective");
  // delta as the fitters' huber_delta: positive, or false for least squares.
  double delta = 1e-3;
  if (lua_type(L, 3) == LUA_TBOOLEAN && !lua_toboolean(L, 3))
    delta = std::numeric_limits<double>::infinity();
  else if (!lua_isnoneornil(L, 3))
    delta = luaL_checknumber(L, 3);
  if (!(delta > 0))
    fail("fit.objective(law, obs, delta): delta (the Huber loss's) must be positive, or false for least squares (got ",
         format_number(delta, 6), ")");
  lua_pushnumber(L, fit::objective(law.law, obs, delta));
  return 1;
}

int effective(lua_State* L) {
  Args args(L, 1, "fit.effective", {"N", "D", "U", "law"});
  args.push("law");
  const FittedLaw& law = check<FittedLaw>(L, lua_gettop(L));
  lua_pop(L, 1);
  if (law.law.kind() != LawKind::DataConstrained) fail("fit.effective: law must be a data_constrained law");
  double N = args.number("N"), D = args.number("D"), U = args.number("U");
  // The law's D' and N' of 0 or negative counts were returned as numbers (N = -1 gave N' = -1; U = 0 gave D' = 0;
  // N = 2.5 with U = -1 gave D' = inf).
  for (const auto& [key, value, what] : {std::tuple{"N", N, "parameters"}, std::tuple{"D", D, "training tokens"},
                                         std::tuple{"U", U, "unique tokens"}})
    if (!(value > 0)) fail("fit.effective: ", key, " (", what, ") must be positive (got ", format_number(value, 6), ")");
  const Law& l = law.law;
  lua_newtable(L);
  lua_pushnumber(L, fit::effective_tokens(D, U, l.param("R_D")));
  lua_setfield(L, -2, "D");
  lua_pushnumber(L, fit::effective_params(N, std::min(U, D), l.param("R_N"), l.param("A"), l.param("B"), l.param("alpha"), l.param("beta")));
  lua_setfield(L, -2, "N");
  return 1;
}

int make_law(lua_State* L) {
  std::string kind = luaL_checkstring(L, 1);
  LawKind k;
  try {
    k = fit::law_kind_from_name(kind);
  } catch (const std::exception& e) {  // which did not name the function
    fail("fit.law_of: ", e.what());
  }
  Law law = Law::Make(k);
  if (!lua_isnoneornil(L, 2)) law = law.with_values(read_named(L, 2, law, law.values(), "fit.law_of"));
  FittedLaw out;
  out.law = law;
  push(L, std::move(out));
  return 1;
}

void push_published(lua_State* L, const Law& law, const char* name) {
  push(L, fit::published::counted(law));  // with what its paper's N counts (law.N_counts)
  lua_setfield(L, -2, name);
}

}  // namespace

int open_fit(lua_State* L) {
  Class<Observations>::define(
      L, "Observations (made by fit.observations{ N =, D =, loss = } or fit.read_csv(path), or a list of rows such as "
      "a study's s:observations()): a table of training runs (N, D, U, C, S, loss, weight, run; budget, each run's "
      "IsoFLOP budget, from fit.read_csv or rows that carry one, NaN on a run without one), validated.",
      {},
      {{"size", &bound<obs_size>, "number of runs"},
       {"N", &bound<obs_column<kN>>, "parameters per run (array), or nil"},
       {"D", &bound<obs_column<kD>>, "training tokens per run, or nil"},
       {"U", &bound<obs_column<kU>>, "unique tokens per run, or nil"},
       {"C", &bound<obs_column<kC>>, "compute per run in FLOP (given, or 6·N·D), or nil"},
       {"S", &bound<obs_column<kS>>, "optimiser steps per run, or nil"},
       {"loss", &bound<obs_column<kLoss>>, "final loss per run"},
       {"weight", &bound<obs_column<kWeight>>, "weights, or nil"},
       {"budget", &bound<obs_column<kBudget>>, "each run's IsoFLOP budget in FLOP (fit.isoflop groups by it; NaN: no sweep's run, left out), or nil"},
       {"run", &bound<obs_runs>, "run ids, or nil"}});
  luaL_getmetatable(L, TypeName<Observations>::value);
  lua_pushcfunction(L, &bound<obs_len>);
  lua_setfield(L, -2, "__len");
  lua_pop(L, 1);

  Class<FittedLaw>::define(
      L,
      "A scaling law: its kind, parameters, formula and predict; when fitted, its objective, R², residuals, "
      "warnings, bootstrap samples and intervals. Printing shows one readable block.",
      {{"predict", &bound<law_predict>, "law:predict{ N =, D = [, U =, C =, S =] } -> the predicted loss (or y)"},
       {"summary", &bound<law_summary>, "law:summary() -> the readable block as a string"},
       {"interval", &bound<law_interval>,
        "law:interval(name | function(law) -> number [, level = 0.95]) -> {lo, hi}: percentile interval over "
        "the bootstrap samples (a parameter held in the fit and its resamples has none)"},
       {"sample", &bound<law_sample>, "law:sample(i) -> the law at bootstrap sample i"},
       {"with", &bound<law_with>, "law:with{ name = value, ... } -> the same form with other values (a published law becomes \"<name>, modified\")"},
       {"with_samples", &bound<law_with_samples>,
        "law:with_samples{ { name = value, ... }, ... } -> the same fitted law with these bootstrap samples (every "
        "parameter in each): intervals from a bootstrap run outside the fitter"},
       {"with_warnings", &bound<law_with_said<&FittedLaw::warnings>>,
        "law:with_warnings{ \"...\", ... } -> the same fitted law with these warnings after its own (law.warnings, "
        "its summary): what a procedure built on the fitter found of it"},
       {"with_notes", &bound<law_with_said<&FittedLaw::notes>>,
        "law:with_notes{ \"...\", ... } -> the same fitted law with these notes after its own (law.notes, its "
        "summary's \"note:\" lines): what a procedure built on the fitter found of it that casts no doubt on it"},
       {"allocation", &bound<law_allocation>,
        "law:allocation(C) -> { a, b, G, N_opt, D_opt, tokens_per_parameter [, intervals] } under C = 6ND"}},
      {{"kind", &bound<law_kind>, "the law's kind: chinchilla, data_constrained, kaplan_ND, ..."},
       {"name", &bound<law_name>, "the law's name"},
       {"formula", &bound<law_formula>, "the formula, as text"},
       {"doc", &bound<law_doc>, "what the law is and where its values come from"},
       {"params", &bound<law_params>,
        "{ name = value } of the point estimate, read-only (law:with{ name = value } returns a law with other values)"},
       {"N_counts", &bound<law_N_counts>,
        "what N counts in the runs fitted: \"all\" (every parameter) or \"non_embedding\" (Kaplan's); nil where "
        "not said (fit.observations{ ..., params = \"non_embedding\" } says it; a study says its own); a published "
        "law's is its paper's (fit.published.kaplan: \"non_embedding\"; chinchilla, epoch, datablations: \"all\")"},
       {"C_counted", &bound<law_C_counted>,
        "how the budgets C of a fit on budgets (or of fit.published.kaplan_C) were counted (\"C = 6·N·D\"); nil where "
        "not said or the law reads none"},
       {"names", &bound<law_names>, "parameter names in order"},
       {"inputs", &bound<law_inputs>, "the inputs predict needs (N, D, U, C, S)"},
       {"fitted", &bound<law_fitted>, "true for a fitted law, false for a published or constructed one"},
       {"objective", &bound<law_number<&FittedLaw::objective>>, "sum of Huber(δ) over log residuals at the optimum"},
       {"huber_delta", &bound<law_number<&FittedLaw::huber_delta>>, "δ of the Huber loss"},
       {"r2", &bound<law_number<&FittedLaw::r2>>, "R² of ln L"},
       {"rmse", &bound<law_number<&FittedLaw::rmse>>, "RMSE of ln L̂ − ln L"},
       {"r2_loss", &bound<law_number<&FittedLaw::r2_loss>>, "R² in loss space"},
       {"seconds", &bound<law_number<&FittedLaw::seconds>>, "wall time of the fit"},
       {"observations", &bound<law_observations>, "number of observations fitted"},
       {"span", &bound<law_span>,
        "{ N = {lo, hi}, D = ..., C = ..., U = ..., epochs = ... }: the span of the runs fitted, per input they had "
        "(U, their unique tokens, and epochs = D / U only where they had U: a data-constrained fit's); nil unless "
        "fitted. plan's answers outside it say how far they extrapolate"},
       {"residuals", &bound<law_residuals>, "ln L̂ − ln L per observation"},
       {"starts", &bound<law_int<&FittedLaw::starts>>, "starts tried"},
       {"starts_converged", &bound<law_int<&FittedLaw::starts_converged>>, "starts that converged"},
       {"starts_at_best", &bound<law_int<&FittedLaw::starts_at_best>>, "starts reaching the best objective"},
       {"report", &bound<law_report>, "Ceres's brief report of the final solve"},
       {"warnings", &bound<law_warnings>,
        "warnings, read-only: what should make you doubt or act on the fit (best point on a bound you set, "
        "disagreeing starts, failed refits, ...); printed as \"warning:\""},
       {"notes", &bound<law_notes>,
        "notes, read-only: what is worth knowing but casts no doubt on the fit (a free E the runs put at 0: no "
        "floor above 0); printed as \"note:\""},
       {"intervals", &bound<law_intervals>, "{ name = {lo, hi} } 95% bootstrap intervals of the parameters fitted (a held one has none), and a, b; or nil; read-only (law:interval(name, level) for another level)"},
       {"standard_errors", &bound<law_standard_errors>,
        "{ name = se } covariance standard errors, or nil; none for a parameter held, undetermined or on its bound"},
       {"on_bound", &bound<law_on_bound>,
        "free parameters whose best point is on a bound (one given, or a positive parameter's own 0: E at 0 for runs "
        "with no floor), read-only: they have no standard error (the bound holds them, not the data's curvature), "
        "the others' are those with them held there; their bootstrap intervals, if any, stand"},
       {"undetermined", &bound<law_undetermined>,
        "names of the parameters the data cannot determine (their values are arbitrary; no standard error)"},
       {"samples", &bound<law_samples>, "bootstrap samples: an array of { name = value }, read-only (law:with_samples(samples) returns a law with others)"}});
  luaL_getmetatable(L, TypeName<FittedLaw>::value);
  lua_pushcfunction(L, &bound<law_call>);
  lua_setfield(L, -2, "__call");
  lua_pop(L, 1);

  new_module(
      L, "Scaling-law fitting (native half).",
      {{"observations", &bound<observations>,
        "fit.observations{ N = {...}, D = {...}, loss = {...} [, U =, C =, S =, weight =, run =, params = \"all\" | "
        "\"non_embedding\" (what N counts), flops = \"6ND\" | \"kaplan\" | \"palm\" (how C was counted)] } -> Observations; "
        "fit.observations(rows): a list of rows { N =, D =, loss =, ... } such as a study's s:observations()"},
       {"read_csv", &bound<read_csv>,
        "fit.read_csv(path [, mapping]) -> Observations: the file's columns named N, D, loss (and U, C, S, weight, "
        "run where present); a mapping names the columns to read instead, and only those: { N = \"params\", "
        "D = \"tokens\", U = \"unique_tokens\", loss = \"loss\" } reads a scalelab results export (an empty U is a "
        "run on fresh tokens, U = D). A column named budget (an IsoFLOP sweep's, in an export) is read too where some "
        "row has one (NaN on the rows without; mapped, every row needs one): fit.isoflop groups the runs by it and "
        "leaves out those without one, as it does a study's s:observations(). What N counts (law.N_counts of the laws "
        "fitted to it): a results export's N = \"params\" counts every parameter, N = \"non_embedding_params\" "
        "Kaplan's non-embedding count; another column says nothing unless params = \"all\" | \"non_embedding\" "
        "in the mapping says it (and overrides the file). How C was counted (law.C_counted, and fit.isoflop's "
        "refusal of a C with attention): an export's C = \"flops\" is 6·N·D with the N its study counts (refused "
        "where N is mapped to the other count), \"flops_kaplan\" and the trainer's \"result_flops\" D·(6N + 6·L·T·d), "
        "\"flops_palm\" D·(6N + 12·L·T·d); another column says nothing unless flops = \"6ND\" | \"kaplan\" | "
        "\"palm\" in the mapping says it (and overrides the file)"},
       {"chinchilla", &bound<chinchilla>,
        "fit.chinchilla(obs [, { bootstrap = 0, free =, tie =, init =, bounds =, grid =, starts =, huber_delta = 1e-3, "
        "... }]) -> law: E + A/N^alpha + B/D^beta, fitted as Hoffmann et al. did (help(fit): the options)"},
       {"data_constrained", &bound<data_constrained>,
        "fit.data_constrained(obs [, { base = law, free = {\"R_D\", \"R_N\"}, ... }]) -> law: Muennighoff et al.'s "
        "L = E + A/N'^alpha + B/D'^beta, where D' counts the tokens repeated beyond the U unique ones as worth less "
        "the more they repeat (R_D*) and N' so the parameters beyond what U can feed (R_N*); the observations give U "
        "for the runs that repeat data (a row without U trained on fresh tokens: U = D). Without base all seven parameters are fitted at once; "
        "base = a law with E, A, B, alpha, beta (fit.published.datablations, or fit.chinchilla of the runs that saw "
        "their data once, as the paper's two steps did; a study's fits = { data_constrained = { base = "
        "\"single_epoch\" } } makes that fit itself) holds those five and fits R_D and R_N (free = says which). "
        "The other options are help(fit)'s: on the paper's runs, base = fit.published.datablations with bounds = "
        "{ R_D = {0, 20}, R_N = {0, 20} } gives about its R_D* 15.4, R_N* 5.3"},
       {"kaplan", &bound<kaplan>, "fit.kaplan(obs [, { form = \"N\"|\"D\"|\"C\"|\"ND\"|\"curve\", ... }]) -> law"},
       {"law", &bound<fit_any>, "fit.law(law, obs [, options]) -> the law refitted from its values (the one start, unless "
                                "starts = or grid = give others)"},
       {"custom", &bound<custom>,
        "fit.custom{ params = { name = {starts} | { start =, scale = \"log\", lower =, upper =, doc = text } }, "
        "predict = function(p, x) ... end [, inputs = {\"N\", \"D\"}] [, name = \"custom\"] [, formula = text] "
        "[, data = obs, options...] } -> law: predict(p, x) returns the loss at x (x.N, x.D, ... as inputs names) "
        "for the parameter values p (p.E, ...); formula is the law's formula as its summary and law.formula show it "
        "(default \"L = predict(params, x)\"); a parameter's doc (what it is) ends its line of the law's summary; "
        "without data the law is unfitted (fit.law(law, obs) fits it), with data it is fitted with the fitting "
        "options (help(fit); all but threads, parametrisation, merge_starts and bootstrap_starts), on one thread"},
       {"isoflop", &bound<isoflop>, "fit.isoflop(obs [, { bootstrap = n, seed =, budget = { C of each run } }]) -> IsoFLOP analysis (approach 2); "
        "without budget, rows that carry a budget (a study's s:observations() of an IsoFLOP sweep) or observations "
        "with a budget column (fit.read_csv of its scalelab results export) are grouped by it, and the runs without "
        "one (a grid's, beside the sweep's) are left out with a warning; runs none of which carries a budget are "
        "grouped by C (or 6ND) to 3 digits"},
       {"approach1", &bound<approach1>,
        "fit.approach1(runs [, { loss = 'auto'|'eval'|'train', points_per_decade = 100, smoothing = 0.5, bootstrap = n, "
        "seed =, params = 'all'|'non_embedding' (what N counts) }]) -> the lower envelope of the runs' loss curves (each smoothed over +-smoothing decades) against "
        "C = 6·N·tokens, and N_opt = k·C^a through the computes where it passes from one size to the next "
        "(Chinchilla approach 1). runs: { { N =, curve = { { tokens =, train_loss =, eval_loss = }, ... } }, ... }, "
        "as a study's runs or store:curve give them; loss 'auto' reads held-out loss where every run has two or "
        "more eval points"},
       {"check_options", &bound<check_options>,
        "fit.check_options(name, options) -> true, or the error fit.<name>(obs, options) would raise for those options "
        "(name: \"chinchilla\", \"kaplan\", \"data_constrained\", \"isoflop\", \"approach1\"), without "
        "fitting: a study checks its fits' options so before it trains"},
       {"power_law", &bound<power_law>,
        "fit.power_law{ x = {...}, y = {...} [, input = \"C\" (what x is: N, D, U, C or S), output = \"y\" (what y is "
        "called, e.g. \"N_opt\"), bootstrap = 0, seed = 1] } -> law y = k·x^a, fitted by least squares in ln y"},
       {"extrapolate", &bound<extrapolate>,
        "fit.extrapolate(law, obs, { below = C, ...options }) -> fit below C, errors on the runs above"},
       {"interval", &bound<interval>,
        "fit.interval(values [, level = 0.95]) -> {lo, hi}: the percentile interval of the values (linear between "
        "order statistics, NaN ignored), as fits give their bootstrap intervals"},
       {"objective", &bound<objective>, "fit.objective(law, obs [, delta = 1e-3]) -> sum of Huber over log residuals"},
       {"effective", &bound<effective>, "fit.effective{ N =, D =, U =, law = } -> { N = N', D = D' } (data-constrained)"},
       {"law_of", &bound<make_law>, "fit.law_of(kind [, { name = value }]) -> an unfitted law of that kind"}});
  lua_newtable(L);
  push_published(L, fit::published::chinchilla(), "chinchilla");
  push_published(L, fit::published::chinchilla_unrounded(), "chinchilla_unrounded");
  push_published(L, fit::published::epoch(), "epoch");
  push_published(L, fit::published::datablations(), "datablations");
  push_published(L, fit::published::kaplan(), "kaplan");
  push_published(L, fit::published::kaplan_N(), "kaplan_N");
  push_published(L, fit::published::kaplan_D(), "kaplan_D");
  push_published(L, fit::published::kaplan_C(), "kaplan_C");
  push_published(L, fit::published::kaplan_curve(), "kaplan_curve");
  lua_setfield(L, -2, "published");
  return 1;
}

}  // namespace scalelab::lua
