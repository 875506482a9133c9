// Lua module scalelab.native.store: the SQLite results store of studies (runtime/store/store.h).
#include <lua.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "bindings/binding.h"
#include "bindings/modules.h"
#include "core/paths.h"
#include "store/sha256.h"
#include "store/store.h"

namespace scalelab::lua {

template <>
struct TypeName<store::Store> {
  static constexpr const char* value = "scalelab.Store";
};

namespace {

using store::CurvePoint;
using store::RunRecord;
using store::Store;
using store::Value;

// ---- Lua tables <-> values --------------------------------------------------------------------

// A flat table { key = number | string | boolean } as values, sorted by key.
std::vector<Value> to_values(lua_State* L, int index, const std::string& what) {
  index = lua_absindex(L, index);
  std::vector<Value> values;
  if (lua_isnil(L, index)) return values;
  if (!lua_istable(L, index)) fail(what, " must be a table of key = number or string (got ", got_type(L, index), ")");
  lua_pushnil(L);
  while (lua_next(L, index)) {
    if (lua_type(L, -2) != LUA_TSTRING) fail(what, ": keys must be strings");
    std::string key = lua_tostring(L, -2);
    switch (lua_type(L, -1)) {
      case LUA_TNUMBER: values.push_back(Value::Number(key, lua_tonumber(L, -1))); break;
      case LUA_TBOOLEAN: values.push_back(Value::Number(key, lua_toboolean(L, -1) ? 1 : 0)); break;
      case LUA_TSTRING: values.push_back(Value::Text(key, lua_tostring(L, -1))); break;
      default: fail(what, ".", key, " must be a number, a string or a boolean (got ", got_type(L, -1), ")");
    }
    lua_pop(L, 1);
  }
  std::sort(values.begin(), values.end(), [](const Value& a, const Value& b) { return a.key < b.key; });
  return values;
}

void push_values(lua_State* L, const std::vector<Value>& values) {
  lua_createtable(L, 0, static_cast<int>(values.size()));
  for (const Value& v : values) {
    if (v.is_number) {
      if (std::isnan(v.number)) continue;
      lua_pushnumber(L, v.number);
    } else {
      lua_pushlstring(L, v.text.data(), v.text.size());
    }
    lua_setfield(L, -2, v.key.c_str());
  }
}

// Quantities are floats (6·N·D overflows 64-bit integers past ~9e18), set with set_number (a
// missing value, NaN, leaves the field nil); counts are integers (set_integer).

void set_text(lua_State* L, const char* key, const std::string& value) {
  if (value.empty()) return;
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, key);
}

void push_run(lua_State* L, const RunRecord& r) {
  lua_createtable(L, 0, 28);
  set_text(L, "study", r.study);
  set_text(L, "hash", r.hash);
  set_integer(L, "ordinal", r.ordinal);
  set_text(L, "label", r.label);
  set_text(L, "config_json", r.config_json);
  set_text(L, "status", to_string(r.status));
  set_integer(L, "attempts", r.attempts);
  set_text(L, "script_hash", r.script_hash);
  set_text(L, "scalelab_version", r.scalelab_version);
  set_text(L, "checkpoint", r.checkpoint);
  set_text(L, "worker", r.worker);
  set_text(L, "error", r.error);
  set_number(L, "created_at", r.created_at);
  set_number(L, "started_at", r.started_at);
  set_number(L, "finished_at", r.finished_at);
  set_number(L, "wall_seconds", r.wall_seconds);
  set_number(L, "params", r.params);
  set_number(L, "non_embedding_params", r.non_embedding_params);
  set_number(L, "tokens", r.tokens);
  set_number(L, "unique_tokens", r.unique_tokens);
  set_number(L, "epochs", r.epochs);
  set_number(L, "flops", r.flops);
  set_number(L, "loss", r.loss);
  push_values(L, r.config);
  lua_setfield(L, -2, "config");
  push_values(L, r.metrics);
  lua_setfield(L, -2, "metrics");
}

// `form`: the method's calling form, for Args (store:text's filter is its second argument).
store::RunFilter filter_from(lua_State* L, int index, const char* function, const char* form) {
  store::RunFilter filter;
  if (lua_isnoneornil(L, index)) return filter;
  Args args(L, index, function, {"study", "status"}, form);
  filter.study = args.string("study", "");
  filter.status = args.string("status", "");
  return filter;
}

// ---- Functions -------------------------------------------------------------------------------

int open_file(lua_State* L) {
  if (lua_type(L, 1) != LUA_TSTRING)
    fail("store.open(path): path must be the database file's name as a string, such as \"runs.db\" (got ",
         got_type(L, 1), ")");
  const std::string path = lua_tostring(L, 1);
  // It said "results store: the path is empty", naming neither the function nor what to give.
  if (path.empty()) fail("store.open(path): path is empty; give the database file's name, such as \"runs.db\"");
  refuse_unexpanded_home("store.open:", "", path);
  store::StoreOptions options;
  if (!lua_isnoneornil(L, 2)) {
    Args args(L, 2, "store.open", {"read_only", "create", "busy_timeout"},
              "store.open(path [, { read_only =, create =, busy_timeout = }])");
    options.read_only = args.boolean("read_only", false);
    options.create = args.boolean("create", !options.read_only);
    options.busy_timeout_seconds = args.number("busy_timeout", options.busy_timeout_seconds);
  }
  push(L, Store::Open(path, options));
  return 1;
}

int sha256(lua_State* L) {
  size_t length = 0;
  const char* text = luaL_checklstring(L, 1, &length);
  const std::string hex = store::sha256_hex(std::string(text, length));
  lua_pushlstring(L, hex.data(), hex.size());
  return 1;
}

// ---- Methods -----------------------------------------------------------------------------------

// The store of a method that reads or writes its file. A closed one said only "results store '...' is
// closed", naming neither the method nor how to go on.
Store& opened_store(lua_State* L, const char* method) {
  Store& s = check<Store>(L, 1);
  if (!s.is_open())
    fail(method, ": the results store '", s.path(), "' is closed (store:close() was called, or the block of its <close> "
         "variable ended); open it again: store.open(\"", s.path(), "\")");
  return s;
}

int record_study(lua_State* L) {
  Store& s = opened_store(L, "store:record_study");
  Args args(L, 2, "store:record_study", {"name", "script_path", "script_text", "scalelab_version", "spec"});
  // A field not given keeps what the store holds of the study (record_study{ name = } alone gave it
  // the version "?" and the empty script).
  const auto given = [&](const char* key) {
    return args.has(key) ? std::optional<std::string>(args.string(key)) : std::nullopt;
  };
  store::StudyInfo info{args.string("name"), given("script_path"), given("script_text"), given("scalelab_version"),
                        given("spec")};
  const std::string hash = s.RecordStudy(info);
  lua_pushlstring(L, hash.data(), hash.size());
  return 1;
}

void push_study(lua_State* L, const store::StudyRecord& r) {
  lua_createtable(L, 0, 7);
  set_text(L, "name", r.name);
  set_text(L, "script_path", r.script_path);
  set_text(L, "script_hash", r.script_hash);
  set_text(L, "scalelab_version", r.scalelab_version);
  set_text(L, "spec", r.spec_json);
  set_number(L, "created_at", r.created_at);
  set_number(L, "updated_at", r.updated_at);
}

int studies(lua_State* L) {
  auto list = opened_store(L, "store:studies").Studies();
  lua_createtable(L, static_cast<int>(list.size()), 0);
  for (size_t i = 0; i < list.size(); ++i) {
    push_study(L, list[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

int plan_runs(lua_State* L) {
  Store& s = opened_store(L, "store:plan_runs");
  luaL_checktype(L, 2, LUA_TTABLE);
  std::vector<store::RunPlan> plans;
  const lua_Integer n = luaL_len(L, 2);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, 2, i);
    Args args(L, -1, "store:plan_runs",
              {"study", "hash", "ordinal", "label", "config_json", "config", "params", "non_embedding_params",
               "tokens", "unique_tokens", "epochs", "flops"},
              "store:plan_runs{ { study =, hash =, ... }, ... }, a table per run");
    store::RunPlan p;
    p.study = args.string("study");
    p.hash = args.string("hash");
    p.ordinal = args.integer("ordinal", i);
    p.label = args.string("label", "");
    p.config_json = args.string("config_json");
    args.push("config");
    p.config = to_values(L, -1, "store:plan_runs: config");
    lua_pop(L, 1);
    p.params = args.number("params", store::kMissing);
    p.non_embedding_params = args.number("non_embedding_params", store::kMissing);
    p.tokens = args.number("tokens", store::kMissing);
    p.unique_tokens = args.number("unique_tokens", store::kMissing);
    p.epochs = args.number("epochs", store::kMissing);
    p.flops = args.number("flops", store::kMissing);
    plans.push_back(std::move(p));
    lua_pop(L, 1);
  }
  s.PlanRuns(plans);
  return 0;
}

int start_run(lua_State* L) {
  Store& s = opened_store(L, "store:start_run");
  Args args(L, 2, "store:start_run", {"study", "hash", "worker", "checkpoint", "script_hash"});
  lua_pushboolean(L, s.StartRun(args.string("study"), args.string("hash"), args.string("worker", ""),
                                args.string("checkpoint", ""), args.string("script_hash", "")));
  return 1;
}

double optional_number(lua_State* L, int table, const char* key, const std::string& what) {
  const int type = lua_getfield(L, table, key);
  double value = store::kMissing;
  if (type == LUA_TNUMBER) value = lua_tonumber(L, -1);
  else if (type != LUA_TNIL) fail(what, ".", key, " must be a number (got ", lua_typename(L, type), ")");
  lua_pop(L, 1);
  return value;
}

int finish_run(lua_State* L) {
  Store& s = opened_store(L, "store:finish_run");
  Args args(L, 2, "store:finish_run",
            {"study", "hash", "status", "loss", "wall_seconds", "metrics", "curve", "error", "script_hash"});
  store::RunOutcome o;
  o.status = store::parse_status(args.string("status", "done"));
  o.loss = args.number("loss", store::kMissing);
  o.wall_seconds = args.number("wall_seconds", store::kMissing);
  o.error = args.string("error", "");
  o.script_hash = args.string("script_hash", "");
  args.push("metrics");
  o.metrics = to_values(L, -1, "store:finish_run: metrics");
  lua_pop(L, 1);
  if (args.push("curve") == LUA_TTABLE) {
    const int curve = lua_gettop(L);
    const lua_Integer n = luaL_len(L, curve);
    o.curve.reserve(static_cast<size_t>(n));
    for (lua_Integer i = 1; i <= n; ++i) {
      if (lua_geti(L, curve, i) != LUA_TTABLE) fail("store:finish_run: curve[", i, "] must be a table");
      const int point = lua_gettop(L);
      const std::string what = str("store:finish_run: curve[", i, "]");
      CurvePoint p;
      p.tokens = optional_number(L, point, "tokens", what);
      if (std::isnan(p.tokens)) fail(what, ".tokens is required");
      // The optimizer step: never made up (the point's position is not a step).
      const double step = optional_number(L, point, "step", what);
      // At most 2^53: a larger one is not a step count, and past 2^63 it has no int64 to be stored as.
      if (std::isnan(step) || step < 0 || step != std::floor(step) || step > 9007199254740992.0)
        fail(what, ".step must be the optimizer step of the point, a whole number from 0 to 2^53 (got ",
             std::isnan(step) ? std::string("nothing") : str(step), ")");
      p.step = static_cast<int64_t>(step);
      p.train_loss = optional_number(L, point, "train_loss", what);
      p.eval_loss = optional_number(L, point, "eval_loss", what);
      p.seconds = optional_number(L, point, "seconds", what);
      p.lr = optional_number(L, point, "lr", what);
      o.curve.push_back(p);
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, -1)) {
    args.type_error("curve", "an array of points");
  }
  lua_pop(L, 1);
  s.FinishRun(args.string("study"), args.string("hash"), o);
  return 0;
}

int reset_run(lua_State* L) {
  opened_store(L, "store:reset_run").ResetRun(luaL_checkstring(L, 2), luaL_checkstring(L, 3));
  return 0;
}

int run(lua_State* L) {
  auto r = opened_store(L, "store:run").Run(luaL_checkstring(L, 2), luaL_checkstring(L, 3));
  if (!r) {
    lua_pushnil(L);
  } else {
    push_run(L, *r);
  }
  return 1;
}

int runs(lua_State* L) {
  Store& s = opened_store(L, "store:runs");
  auto list = s.Runs(filter_from(L, 2, "store:runs", "store:runs{ study =, status = }"));
  lua_createtable(L, static_cast<int>(list.size()), 0);
  for (size_t i = 0; i < list.size(); ++i) {
    push_run(L, list[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

int curve(lua_State* L) {
  auto points = opened_store(L, "store:curve").Curve(luaL_checkstring(L, 2), luaL_checkstring(L, 3));
  lua_createtable(L, static_cast<int>(points.size()), 0);
  for (size_t i = 0; i < points.size(); ++i) {
    const CurvePoint& p = points[i];
    lua_createtable(L, 0, 6);
    set_integer(L, "step", p.step);
    set_number(L, "tokens", p.tokens);
    set_number(L, "train_loss", p.train_loss);
    set_number(L, "eval_loss", p.eval_loss);
    set_number(L, "seconds", p.seconds);
    set_number(L, "lr", p.lr);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

// store:export(path [, { what = "runs" | "curves", study =, status = }]): CSV or JSON by extension.
int export_(lua_State* L) {
  Store& s = opened_store(L, "store:export");
  // Checked here, not by luaL_checkstring: its "bad argument #2 to 'native_method'" named the Lua
  // wrapper in store.lua, at its line, for s:export() with no path.
  if (lua_type(L, 2) != LUA_TSTRING)
    fail("store:export(path [, { what =, study =, status = }]): path must be the file to write, ending in .csv or "
         ".json, as a string (got ", got_type(L, 2), ")");
  const std::string path = lua_tostring(L, 2);
  refuse_unexpanded_home("store:export:", "", path);
  std::string what = "runs";
  store::RunFilter filter;
  if (!lua_isnoneornil(L, 3)) {
    Args args(L, 3, "store:export", {"what", "study", "status"}, "store:export(path [, { what =, study =, status = }])");
    what = args.string("what", what);
    filter.study = args.string("study", "");
    filter.status = args.string("status", "");
  }
  if (what != "runs" && what != "curves")
    fail("store:export: what must be \"runs\" or \"curves\" (got \"", what, "\")");
  const auto ends_with = [&](const char* suffix) {
    const std::string s(suffix);
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  std::string text;
  if (ends_with(".csv"))
    text = what == "runs" ? s.RunsCsv(filter) : s.CurvesCsv(filter);
  else if (ends_with(".json"))
    text = what == "runs" ? s.RunsJson(filter) : s.CurvesJson(filter);
  else
    fail("store:export: '", path, "' must end in .csv or .json");
  // The export replaces the file at its path: never the store itself (a store named runs.csv, or a
  // link to it), which `scalelab results x.csv --csv x.csv` replaced with its export.
  struct stat target {}, own {};
  if (::stat(path.c_str(), &target) == 0 && ::stat(s.path().c_str(), &own) == 0 && target.st_dev == own.st_dev &&
      target.st_ino == own.st_ino)
    fail("store:export: '", path, "' is the results store '", s.path(), "' itself: the export would replace it. "
         "Give the export another path; the store was left untouched");
  store::write_file_atomically(path, text);
  lua_pushstring(L, path.c_str());
  return 1;
}

int to_text(lua_State* L) {
  Store& s = opened_store(L, "store:text");
  if (lua_type(L, 2) != LUA_TSTRING)
    fail("store:text(format [, { study =, status = }]): format must be runs_csv, runs_json, curves_csv or curves_json, "
         "as a string (got ", got_type(L, 2), ")");
  const std::string format = lua_tostring(L, 2);
  const store::RunFilter filter = filter_from(L, 3, "store:text", "store:text(format [, { study =, status = }])");
  std::string text;
  if (format == "runs_csv") text = s.RunsCsv(filter);
  else if (format == "runs_json") text = s.RunsJson(filter);
  else if (format == "curves_csv") text = s.CurvesCsv(filter);
  else if (format == "curves_json") text = s.CurvesJson(filter);
  else fail("store:text: format must be runs_csv, runs_json, curves_csv or curves_json (got '", format, "')");
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int check_file(lua_State* L) {
  check<Store>(L, 1).CheckFile();
  return 0;
}

int close_store(lua_State* L) {
  check<Store>(L, 1).Close();
  return 0;
}

int path(lua_State* L) {
  lua_pushstring(L, check<Store>(L, 1).path().c_str());
  return 1;
}

int schema_version(lua_State* L) {
  lua_pushinteger(L, opened_store(L, "store.schema_version").schema_version());
  return 1;
}

int read_only(lua_State* L) {
  lua_pushboolean(L, check<Store>(L, 1).read_only());
  return 1;
}

}  // namespace

int open_store(lua_State* L) {
  Class<Store>::define(
      L,
      "A results store: one SQLite file (WAL) holding studies, the script versions that ran them, "
      "runs (configuration, status, timings, final metrics) and loss curves.",
      {{"record_study", &bound<record_study>,
        "store:record_study{ name =, script_path =, script_text =, scalelab_version =, spec = } -> script hash; "
        "a field not given keeps what the store holds of the study"},
       {"studies", &bound<studies>, "store:studies() -> the studies, as tables"},
       {"plan_runs", &bound<plan_runs>,
        "store:plan_runs{ { study =, hash =, ordinal =, label =, config_json =, config = {...}, params =, "
        "tokens =, flops =, ... }, ... }: adds planned runs; known runs keep their results"},
       {"start_run", &bound<start_run>,
        "store:start_run{ study =, hash =, worker =, checkpoint =, script_hash = } -> false when the run is already final"},
       {"finish_run", &bound<finish_run>,
        "store:finish_run{ study =, hash =, status = 'done', loss =, wall_seconds =, metrics = {...}, "
        "curve = { {step =, tokens =, train_loss =, eval_loss =, seconds =, lr =}, ... }, error = }: one "
        "transaction; step is the optimizer step of the point, seconds and lr are optional"},
       {"check_file", &bound<check_file>,
        "store:check_file(): fails when the store's file was deleted or replaced since it was opened for writing, "
        "after writing it back (or saving it beside); every write checks this"},
       {"reset_run", &bound<reset_run>, "store:reset_run(study, hash): back to planned, results dropped"},
       {"run", &bound<run>, "store:run(study, hash) -> the run as a table, or nil"},
       {"runs", &bound<runs>, "store:runs{ study =, status = } -> the runs, as tables with .config and .metrics"},
       {"curve", &bound<curve>, "store:curve(study, hash) -> the loss curve, a list of points"},
       {"export", &bound<export_>,
        "store:export(path [, { what = 'runs' | 'curves', study =, status = }]) -> path; CSV or JSON by "
        "extension, one column per field (pandas.read_csv / read_json read it as it is)"},
       {"text", &bound<to_text>, "store:text('runs_csv' | 'runs_json' | 'curves_csv' | 'curves_json' [, filter]) -> string"},
       {"close", &bound<close_store>, "store:close(): closes the file now (the garbage collector would)"}},
      {{"path", &bound<path>, "the store's file"},
       {"schema_version", &bound<schema_version>, "the schema version of the file"},
       {"read_only", &bound<read_only>, "true when opened read-only"}});
  new_module(L, "The results store of studies (SQLite).",
             {{"open", &bound<open_file>,
               "store.open(path [, { read_only = false, create = true, busy_timeout = 60 }]) -> Store; refuses "
               "(untouched) a file that is not a scalelab store or is corrupted. read_only = true changes nothing, "
               "leaves no file beside the store, and reads a store in a folder you cannot write"},
              {"sha256", &bound<sha256>, "store.sha256(text) -> 64 hex digits"}});
  // local s <close> = store.open(path): the file is closed as the block ends, by an error or not.
  luaL_getmetatable(L, TypeName<Store>::value);
  lua_pushcfunction(L, bound<close_store>);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
  lua_pushinteger(L, store::kSchemaVersion);
  lua_setfield(L, -2, "schema_version");
  return 1;
}

}  // namespace scalelab::lua
