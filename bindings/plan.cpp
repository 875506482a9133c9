// Lua module scalelab.native.plan: planning questions answered with scaling laws (runtime/plan/plan.h).
// A question asked with law = L (or an allocation rule) returns an Answer; asked without one it
// returns a Question, answered later with question:answer(law).
#include <lua.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bindings/binding.h"
#include "bindings/fit.h"
#include "bindings/modules.h"
#include "core/units.h"
#include "plan/cost.h"
#include "plan/plan.h"

namespace scalelab::lua {

template <>
struct TypeName<plan::Answer> {
  static constexpr const char* value = "scalelab.Answer";
};
template <>
struct TypeName<plan::Question> {
  static constexpr const char* value = "scalelab.Question";
};
template <>
struct TypeName<plan::AllocationRule> {
  static constexpr const char* value = "scalelab.Allocation";
};
template <>
struct TypeName<plan::Cost> {
  static constexpr const char* value = "scalelab.Cost";
};

namespace {

constexpr double kMissing = fit::kMissing;

// ---- reading laws -------------------------------------------------------------------------------

// law = an analysis of compute-optimal allocation rather than a loss law: fit.isoflop's and
// fit.approach1's results, and a study's IsoFLOP and approach-1 fits (s.fits.isoflop, s.fits.approach1,
// tables of kind "isoflop" or "approach1"), give N_opt(C), not a loss.
[[noreturn]] void fail_not_a_loss_law(const std::string& function) {
  fail(function, ": law = an IsoFLOP or approach-1 analysis (fit.isoflop, fit.approach1, a study's s.fits.isoflop "
       "or s.fits.approach1) gives N_opt(C) and D_opt(C), not a loss law; ask with allocation = "
       "plan.allocation{ isoflop = analysis } instead (plan.optimal{ compute = ..., allocation = "
       "plan.allocation{ isoflop = f } }; a study's fit: allocation = s.fits.isoflop, or "
       "s.fits.isoflop:optimal(C)), or fit a loss law (fit.chinchilla(obs))");
}

// The names of fit.published's laws (package.loaded["scalelab.native.fit"].published, read raw: its
// misses raise), sorted; empty without the fit module.
std::vector<std::string> fit_published_names(lua_State* L) {
  std::vector<std::string> names;
  const int top = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushstring(L, "scalelab.native.fit");
  if (lua_rawget(L, -2) == LUA_TTABLE) {
    lua_pushstring(L, "published");
    if (lua_rawget(L, -2) == LUA_TTABLE) {
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING) names.emplace_back(lua_tostring(L, -2));
        lua_pop(L, 1);
      }
    }
  }
  lua_settop(L, top);
  std::sort(names.begin(), names.end());
  return names;
}

// law = "chinchilla": a name where the law itself belongs. Said with the expression that gives it
// (law = fit.published.chinchilla, plan.published.datablations_exact, a rule's allocation =), a
// kind's table, or the closest name; it was 'law must be a Law (...) (got string)'.
[[noreturn]] void fail_law_name(lua_State* L, int index, const std::string& function) {
  const std::string name = lua_tostring(L, index);
  const std::string given = "law = \"" + name + "\"";
  const std::vector<std::string> published = fit_published_names(L);
  const bool is_published = std::find(published.begin(), published.end(), name) != published.end();
  if (name == "kaplan" && is_published)
    fail(function, ": ", given, " is a name, not a law: give the law itself, law = fit.published.kaplan (Kaplan et al.'s "
         "joint L(N, D)); for their compute-efficient N ∝ C^0.73, allocation = plan.published.kaplan");
  if (is_published)
    fail(function, ": ", given, " is a name, not a law: give the law itself, law = fit.published.", name);
  if (name == "datablations_exact")
    fail(function, ": ", given, " is a name, not a law: give the law itself, law = plan.published.datablations_exact");
  if (name == "chinchilla_approach1")
    fail(function, ": ", given, " names an allocation rule, not a law: give allocation = plan.published.chinchilla_approach1");
  // The kinds of loss law planning takes, with a published law of each.
  const std::pair<const char*, const char*> kinds[] = {
      {"chinchilla", "chinchilla"}, {"data_constrained", "datablations"}, {"kaplan_ND", "kaplan"}};
  for (const auto& [kind, example] : kinds)
    if (name == kind)
      fail(function, ": ", given, " is a kind of law, not a law: give its parameters, law = { kind = \"", kind,
           "\", ... }, or a published law of that kind, law = fit.published.", example);
  std::vector<std::string> candidates = published;
  candidates.push_back("datablations_exact");
  candidates.push_back("chinchilla_approach1");
  const std::string suggestion = closest_name(name, candidates);
  std::string list;
  for (const auto& n : published) list += (list.empty() ? "" : ", ") + n;
  const std::string where = suggestion == "datablations_exact" || suggestion == "chinchilla_approach1" ? "plan.published."
                                                                                                       : "fit.published.";
  fail(function, ": ", given, " is a name, not a law",
       suggestion.empty() ? std::string(".") : "; did you mean " + where + suggestion + "?",
       " Give the law itself: a published one (fit.published.NAME", list.empty() ? "" : " with NAME one of " + list,
       "; plan.published.datablations_exact), a fitted law, or a table { kind = \"chinchilla\", E = ..., ... }");
}

// A law at `index`: a Law object (fit.published.*, a fitted law), or a table naming a built-in kind
// and its parameters, e.g. { kind = "chinchilla", E = 1.69, A = 406.4, B = 410.7, alpha = 0.34,
// beta = 0.28 [, samples = { {E =, A =, ...}, ... }] }.
fit::FittedLaw to_law(lua_State* L, int index, const std::string& function) {
  index = lua_absindex(L, index);
  unwrap_read_only_view(L, index);  // law = some_law.params, read with lua_next below
  if (auto* law = test<fit::FittedLaw>(L, index)) return *law;
  if (lua_type(L, index) == LUA_TSTRING) fail_law_name(L, index, function);
  auto not_a_law = [&]() {
    fail(function, ": law must be a Law (fit.published.chinchilla, a fitted law) or a table { kind = \"chinchilla\", "
         "E = ..., ... } (got ", type_name(L, index), ")");
  };
  if (!lua_istable(L, index)) not_a_law();
  // A library object that is a table (a Sweep, a Study, a figure) is no law's table: its kind = "grid" was
  // read as a law's kind ("unknown law kind 'grid'", naming neither the function nor law =). An analysis
  // (an IsoFLOP or approach-1 fit, a table too) is told apart below, as before.
  const bool library_object = luaL_getmetafield(L, index, "__name") != LUA_TNIL && (lua_pop(L, 1), true);
  auto has = [&](const char* key) {
    const bool present = lua_getfield(L, index, key) != LUA_TNIL;
    lua_pop(L, 1);
    return present;
  };
  fit::LawKind kind;
  if (lua_getfield(L, index, "kind") == LUA_TSTRING) {
    const std::string name = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (name == "isoflop" || name == "approach1") fail_not_a_loss_law(function);
    if (library_object) not_a_law();
    try {
      kind = fit::law_kind_from_name(name);
    } catch (const std::exception& e) {  // which names neither the function nor the key
      fail(function, ": law.kind: ", e.what());
    }
  } else if (has("N_law") || has("minima") || has("parabolas")) {
    lua_pop(L, 1);
    fail_not_a_loss_law(function);
  } else if (has("E") && has("A") && has("B") && has("alpha") && has("beta")) {
    lua_pop(L, 1);
    // Chinchilla's parameters (with R_D and R_N, Muennighoff's): the form says which law it is.
    kind = has("R_D") || has("R_N") ? fit::LawKind::DataConstrained : fit::LawKind::Chinchilla;
  } else {
    lua_pop(L, 1);
    if (library_object) not_a_law();
    fail(function, ": a law given as a table needs kind = \"chinchilla\" | \"data_constrained\" | \"kaplan_ND\" | ... "
         "(or Chinchilla's parameters E, A, B, alpha, beta, which need no kind)");
  }
  fit::Law law = fit::Law::Make(kind);
  const std::vector<std::string> names = law.names();
  auto read_values = [&](int table, const std::string& where) {
    std::vector<double> values;
    lua_pushnil(L);
    while (lua_next(L, table)) {
      if (lua_type(L, -2) == LUA_TSTRING) {
        std::string key = lua_tostring(L, -2);
        if (key != "kind" && key != "samples" && std::find(names.begin(), names.end(), key) == names.end()) {
          std::string all;
          for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
          std::string suggestion = closest_name(key, names);
          lua_pop(L, 2);
          fail(function, ": ", where, ": unknown parameter '", key, "'",
               suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?", " (law ", law.name(), " has ", all, ")");
        }
      }
      lua_pop(L, 1);
    }
    for (const auto& n : names) {
      int type = lua_getfield(L, table, n.c_str());
      if (type != LUA_TNUMBER) {
        const std::string quoted = quoted_number(L, -1);
        lua_pop(L, 1);
        if (!quoted.empty())
          fail(function, ": ", where, ": parameter ", n, " must be a number (got string); write it without quotes: ", n,
               " = ", quoted);
        fail(function, ": ", where, ": parameter ", n, " must be a number (law ", law.name(), " needs every one of its parameters)");
      }
      values.push_back(lua_tonumber(L, -1));
      lua_pop(L, 1);
    }
    return values;
  };
  fit::FittedLaw out;
  out.law = law.with_values(read_values(index, "law"));
  if (lua_getfield(L, index, "samples") == LUA_TTABLE) {
    const int samples = lua_gettop(L);
    const lua_Integer n = luaL_len(L, samples);
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_geti(L, samples, i);
      if (!lua_istable(L, -1)) fail(function, ": law.samples[", i, "] must be a table of parameter values");
      out.samples.push_back(read_values(lua_gettop(L), str("law.samples[", i, "]")));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return out;
}

// A power law at `index`: a Law of kind power_law, or a table { k =, a = }.
fit::FittedLaw to_power_law(lua_State* L, int index, const std::string& what, const std::string& output) {
  index = lua_absindex(L, index);
  if (auto* law = test<fit::FittedLaw>(L, index)) return *law;
  if (lua_istable(L, index)) {
    lua_getfield(L, index, "k");
    lua_getfield(L, index, "a");
    if (lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TNUMBER) {
      fit::FittedLaw f;
      f.law = fit::Law::PowerLaw(lua_tonumber(L, -2), lua_tonumber(L, -1), fit::Input::C, output);
      lua_pop(L, 2);
      return f;
    }
    // { k = ..., a = ... } with one of them missing or not a number: named, rather than "got table"
    // as if the table were no power law at all ({ k = "0.1", a = 0.5 } was).
    const bool has_k = !lua_isnil(L, -2), has_a = !lua_isnil(L, -1);
    if (has_k || has_a) {
      for (int slot : {-2, -1}) {
        const char* key = slot == -2 ? "k" : "a";
        if (lua_type(L, slot) == LUA_TNUMBER) continue;
        if (lua_isnil(L, slot)) fail(what, ": a power law { k = ..., a = ... } (k·C^a) needs ", key, " too");
        const std::string quoted = quoted_number(L, slot);
        if (!quoted.empty())
          fail(what, ".", key, " must be a number (got string); write it without quotes: ", key, " = ", quoted);
        fail(what, ".", key, " must be a number (got ", got_type(L, slot), ")");
      }
    }
    lua_pop(L, 2);
  }
  fail(what, " must be a power law of compute (fit.power_law(...), or { k = ..., a = ... } for k·C^a); got ",
       type_name(L, index));
}

// ---- common arguments ---------------------------------------------------------------------------

const std::vector<std::string> kCostKeys = {"gpu", "gpus", "mfu", "peak"};

std::vector<std::string> keys(std::vector<std::string> own) {
  own.insert(own.end(), kCostKeys.begin(), kCostKeys.end());
  return own;
}

std::optional<plan::CostOptions> cost_options(const Args& args) {
  bool any = false;
  for (const auto& k : kCostKeys) any = any || args.has(k.c_str());
  if (!any) return std::nullopt;
  plan::CostOptions o;
  o.gpu = args.string("gpu", args.has("peak") ? "custom" : "H100");
  o.gpus = args.number("gpus", 1);
  o.mfu = args.number("mfu", 0.4);
  o.peak = args.number("peak", 0);
  // 0 is CostOptions' "no peak given": peak = 0 was read as that, pricing at the named GPU's peak
  // (or, without gpu =, refused as "unknown GPU 'custom'", a name the user never gave).
  if (args.has("peak") && !(o.peak > 0))
    fail(args.function(), ": peak must be a positive FLOP/s (got ", format_number(o.peak, 6), "); leave it out for the GPU's own peak");
  o.Validate(args.function());
  return o;
}

// Answers now when a law (or a rule) is there, else returns the question.
int ask(lua_State* L, const Args& args, plan::Question question, bool has_law) {
  if (auto c = cost_options(args)) question.set_cost(*c);
  if (has_law) {
    args.push("law");
    fit::FittedLaw law = to_law(L, -1, args.function());
    lua_pop(L, 1);
    push(L, question.answer(law));
  } else if (!question.needs_law()) {
    push(L, question.answer());
  } else {
    push(L, std::move(question));
  }
  return 1;
}

// The allocation rule at `index`: a rule itself, or a study's IsoFLOP or approach-1 fit (s.fits.isoflop,
// s.fits.approach1: a table of kind "isoflop" or "approach1" holding its rule in .rule), whose rule is
// meant. A study's fit that made no rule (its power laws could not be fitted) fails with the reason;
// anything else is nullptr.
const plan::AllocationRule* rule_at(lua_State* L, int index, const std::string& where) {
  index = lua_absindex(L, index);
  if (auto* rule = test<plan::AllocationRule>(L, index)) return rule;
  if (!lua_istable(L, index)) return nullptr;
  std::string kind;
  if (lua_getfield(L, index, "kind") == LUA_TSTRING) kind = lua_tostring(L, -1);
  lua_pop(L, 1);
  if (kind != "isoflop" && kind != "approach1") return nullptr;
  lua_getfield(L, index, "rule");
  auto* rule = test<plan::AllocationRule>(L, -1);
  lua_pop(L, 1);  // the fit's table, still on the stack below, keeps its rule alive
  if (!rule)
    fail(where, ": the study's ", kind == "isoflop" ? "IsoFLOP" : "approach-1", " fit has no allocation rule (its power "
         "laws N_opt(C), D_opt(C) could not be made: see its warnings, print s.fits.", kind, "); give another rule, e.g. "
         "plan.published.chinchilla_approach1");
  return rule;
}

// law = may also be an allocation rule (plan.table{ law = plan.published.chinchilla_approach1 }).
bool law_is_rule(lua_State* L, const Args& args) {
  args.push("law");
  const bool rule = test<plan::AllocationRule>(L, -1) != nullptr;
  lua_pop(L, 1);
  return rule;
}

std::optional<plan::AllocationRule> allocation_arg(lua_State* L, const Args& args) {
  if (law_is_rule(L, args)) {
    if (args.has("allocation")) fail(args.function(), ": law = is an allocation rule; give either law = or allocation =");
    args.push("law");
    plan::AllocationRule out = check<plan::AllocationRule>(L, -1);
    lua_pop(L, 1);
    return out;
  }
  if (args.push("allocation") == LUA_TNIL) {
    lua_pop(L, 1);
    return std::nullopt;
  }
  auto* rule = rule_at(L, -1, args.function() + ": allocation");
  if (!rule && lua_istable(L, -1) && lua_getfield(L, -1, "N_law") != LUA_TNIL) {
    const bool approach1 = lua_getfield(L, -2, "switches") == LUA_TTABLE;
    fail(args.function(), ": allocation = the table fit.", approach1 ? "approach1" : "isoflop",
         " returns is an analysis, not yet a rule; make it one with allocation = plan.allocation{ ",
         approach1 ? "approach1" : "isoflop", " = result }");
  }
  if (!rule)
    args.type_error("allocation", "an allocation rule (plan.allocation{...}, plan.published.chinchilla_approach1, plan.published.kaplan, "
                    "a study's s.fits.isoflop or s.fits.approach1)");
  plan::AllocationRule out = *rule;
  lua_pop(L, 1);
  return out;
}

// ---- plan.* functions ---------------------------------------------------------------------------

// flops = "6ND" (the default), or { "kaplan" | "palm" | "deepseek", ctx = T [, aspect = d/L] } (or convention =
// in place of the first entry): the convention the budget is counted in (plan::FlopsPerToken).
plan::FlopsPerToken flops_arg(lua_State* L, const Args& args) {
  plan::FlopsPerToken out;
  const int type = args.push("flops");
  const std::string function = args.function();
  auto kind_of = [&](const std::string& name) {
    if (name == "6ND" || name == "6N") return plan::FlopsPerToken::Kind::SixN;
    if (name == "kaplan") return plan::FlopsPerToken::Kind::Kaplan;
    if (name == "palm" || name == "deepseek") return plan::FlopsPerToken::Kind::PaLM;
    fail(function, ": flops = \"", name, "\" is no FLOP convention; give \"6ND\" (C = 6·N·D, the default), or count "
         "attention too: flops = { \"kaplan\", ctx = 2048 } (6N + 6·L·T·d per token) or { \"palm\", ctx = 2048 } (6N + "
         "12·L·T·d, also \"deepseek\": DeepSeek's M)");
  };
  if (type == LUA_TNIL) {
    lua_pop(L, 1);
    return out;
  }
  if (type == LUA_TSTRING) {
    out.kind = kind_of(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (!out.six_n())
      fail(function, ": flops = \"", out.kind == plan::FlopsPerToken::Kind::Kaplan ? "kaplan" : "palm",
           "\" counts attention over the context: give its length, flops = { \"",
           out.kind == plan::FlopsPerToken::Kind::Kaplan ? "kaplan" : "palm", "\", ctx = 2048 }");
    return out;
  }
  if (type != LUA_TTABLE) args.type_error("flops", "\"6ND\" or a table { \"kaplan\" | \"palm\", ctx = T [, aspect = d/L] }");
  // Read by hand, not with Args (which refuses the positional entry that names the convention).
  const int table = lua_gettop(L);
  const std::vector<std::string> valid = {"convention", "ctx", "aspect"};
  lua_pushnil(L);
  while (lua_next(L, table)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      const std::string key = lua_tostring(L, -1);
      if (std::find(valid.begin(), valid.end(), key) == valid.end()) {
        const std::string suggestion = closest_name(key, valid);
        fail(function, ": flops: unknown key '", key, "'", suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?",
             " (valid keys: convention, ctx, aspect; or the convention first: flops = { \"kaplan\", ctx = 2048 })");
      }
    } else if (!(lua_isinteger(L, -1) && lua_tointeger(L, -1) == 1)) {
      fail(function, ": flops = { ... } takes one positional entry, the convention's name (flops = { \"kaplan\", ctx = 2048 })");
    }
  }
  auto number_at = [&](const char* key, double fallback) {
    const int t = lua_getfield(L, table, key);
    double v = fallback;
    if (t == LUA_TNUMBER) v = lua_tonumber(L, -1);
    else if (t != LUA_TNIL) fail(function, ": flops.", key, " must be a number (got ", got_type(L, -1), ")");
    lua_pop(L, 1);
    return v;
  };
  std::string name;
  const bool positional = lua_geti(L, table, 1) != LUA_TNIL;
  const bool named = lua_getfield(L, table, "convention") != LUA_TNIL;
  if (positional && named) fail(function, ": flops names its convention twice (flops[1] and flops.convention): give one");
  if (!positional && !named)
    fail(function, ": flops = { ... } needs its convention: flops = { \"kaplan\", ctx = 2048 } or { \"palm\", ctx = 2048 }");
  const int slot = positional ? -2 : -1;
  if (lua_type(L, slot) != LUA_TSTRING)
    fail(function, ": flops", positional ? "[1]" : ".convention", " must name the convention, \"6ND\", \"kaplan\" or \"palm\" (got ",
         got_type(L, slot), ")");
  name = lua_tostring(L, slot);
  lua_pop(L, 2);
  const bool has_ctx = lua_getfield(L, table, "ctx") != LUA_TNIL, has_aspect = lua_getfield(L, table, "aspect") != LUA_TNIL;
  lua_pop(L, 2);
  out.kind = kind_of(name);
  out.ctx = number_at("ctx", kMissing);
  out.aspect = number_at("aspect", out.aspect);
  if (out.six_n() && (has_ctx || has_aspect))
    fail(function, ": flops = \"", name, "\" (C = 6·N·D) counts no attention: ctx and aspect are for \"kaplan\" or \"palm\"");
  lua_pop(L, 1);
  return out;
}

int optimal(lua_State* L) {
  Args args(L, 1, "plan.optimal", keys({"compute", "unique_tokens", "epochs", "law", "allocation", "method", "grid", "flops"}));
  plan::OptimalOptions o;
  o.compute = args.number("compute", kMissing);
  o.unique_tokens = args.number("unique_tokens", kMissing);
  o.epochs = args.number("epochs", kMissing);
  o.grid = args.int_value("grid", o.grid);
  std::string method = args.string("method", "auto");
  if (method == "auto") o.method = plan::OptimalOptions::Method::Auto;
  else if (method == "closed_form") o.method = plan::OptimalOptions::Method::ClosedForm;
  else if (method == "numeric") o.method = plan::OptimalOptions::Method::Numeric;
  else fail("plan.optimal: method must be \"auto\", \"closed_form\" or \"numeric\" (got \"", method, "\")");
  o.flops = flops_arg(L, args);
  auto rule = allocation_arg(L, args);
  return ask(L, args, plan::Question::Optimal(o, rule), args.has("law") && !law_is_rule(L, args));
}

int loss(lua_State* L) {
  Args args(L, 1, "plan.loss", keys({"N", "D", "unique_tokens", "law"}));
  plan::LossOptions o;
  o.N = args.number("N", kMissing);
  o.D = args.number("D", kMissing);
  o.unique_tokens = args.number("unique_tokens", kMissing);
  return ask(L, args, plan::Question::Loss(o), args.has("law"));
}

int compute_for(lua_State* L) {
  Args args(L, 1, "plan.compute_for", keys({"loss", "unique_tokens", "law", "flops"}));
  plan::ComputeForOptions o;
  o.loss = args.number("loss", kMissing);
  o.unique_tokens = args.number("unique_tokens", kMissing);
  o.flops = flops_arg(L, args);
  return ask(L, args, plan::Question::ComputeFor(o), args.has("law"));
}

int inference(lua_State* L) {
  Args args(L, 1, "plan.inference", keys({"loss", "compute", "inference_tokens", "unique_tokens", "law", "flops"}));
  plan::InferenceOptions o;
  o.flops = flops_arg(L, args);
  o.loss = args.number("loss", kMissing);
  o.compute = args.number("compute", kMissing);
  o.inference_tokens = args.number("inference_tokens", kMissing);
  o.unique_tokens = args.number("unique_tokens", kMissing);
  return ask(L, args, plan::Question::Inference(o), args.has("law"));
}

plan::Candidate to_candidate(lua_State* L, int index, std::string name, const std::string& where) {
  index = lua_absindex(L, index);
  plan::Candidate c;
  c.name = std::move(name);
  if (auto* rule = rule_at(L, index, where)) {
    c.rule = *rule;
    if (c.name.empty()) c.name = rule->name;
    return c;
  }
  if (!lua_istable(L, index))
    fail(where, " must be { N = ..., D = ... } or an allocation rule (got ", got_type(L, index), ")");
  Args entry(L, index, where, {"name", "N", "D", "allocation"});
  if (entry.has("name")) c.name = entry.string("name");
  if (entry.push("allocation") != LUA_TNIL) {
    auto* rule = rule_at(L, -1, where + ": allocation");
    if (!rule) entry.type_error("allocation", "an allocation rule");
    c.rule = *rule;
    if (c.name.empty()) c.name = rule->name;
  }
  lua_pop(L, 1);
  c.N = entry.number("N", kMissing);
  c.D = entry.number("D", kMissing);
  if (c.name.empty()) c.name = format_count(c.N) + " params";
  return c;
}

int compare(lua_State* L) {
  Args args(L, 1, "plan.compare", keys({"compute", "unique_tokens", "law", "candidates", "flops"}));
  plan::CompareOptions o;
  o.compute = args.number("compute", kMissing);
  o.unique_tokens = args.number("unique_tokens", kMissing);
  o.flops = flops_arg(L, args);
  if (args.push("candidates") != LUA_TTABLE) args.type_error("candidates", "a table of allocations");
  const int table = lua_gettop(L);
  const lua_Integer n = luaL_len(L, table);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, table, i);
    o.candidates.push_back(to_candidate(L, -1, "", str("plan.compare: candidates[", i, "]")));
    lua_pop(L, 1);
  }
  // Named entries (candidates = { Gopher = { N =, D = } }), in name order.
  std::vector<std::string> names;
  lua_pushnil(L);
  while (lua_next(L, table)) {
    if (lua_type(L, -2) == LUA_TSTRING) names.emplace_back(lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    lua_getfield(L, table, name.c_str());
    o.candidates.push_back(to_candidate(L, -1, name, "plan.compare: candidates." + name));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return ask(L, args, plan::Question::Compare(o), args.has("law"));
}

// A question's list of numbers (plan.table's params, plan.returns' compute). One number given for it
// was refused as "must be an array of numbers (got number)", without the fix: the list of it.
std::vector<double> list_arg(lua_State* L, const Args& args, const char* key) {
  args.push(key);
  if (lua_type(L, -1) == LUA_TNUMBER)
    fail(args.function(), ": ", key, " must be an array of numbers (got a number); write it as a list: ", key, " = { ",
         format_number(lua_tonumber(L, -1), 6), " }");
  lua_pop(L, 1);
  return args.numbers(key);
}

int table(lua_State* L) {
  Args args(L, 1, "plan.table", keys({"params", "law", "allocation", "flops"}));
  plan::TableOptions o;
  o.flops = flops_arg(L, args);
  if (args.has("params")) o.params = list_arg(L, args, "params");
  auto rule = allocation_arg(L, args);
  return ask(L, args, plan::Question::Table(o, rule), args.has("law") && !law_is_rule(L, args));
}

int returns(lua_State* L) {
  Args args(L, 1, "plan.returns", keys({"unique_tokens", "compute", "law", "flops"}));
  plan::ReturnsOptions o;
  o.flops = flops_arg(L, args);
  o.unique_tokens = args.number("unique_tokens", kMissing);
  if (args.has("compute")) o.compute = list_arg(L, args, "compute");
  return ask(L, args, plan::Question::Returns(o), args.has("law"));
}

int cost(lua_State* L) {
  Args args(L, 1, "plan.cost", keys({"flops"}));
  const double flops = args.number("flops");
  plan::CostOptions o = cost_options(args).value_or(plan::CostOptions{});
  push(L, plan::cost(flops, o));
  return 1;
}

int allocation(lua_State* L) {
  Args args(L, 1, "plan.allocation", {"N", "D", "isoflop", "approach1", "name", "doc"});
  plan::AllocationRule rule;
  // isoflop = and approach1 = take either analysis (the two tables have the same fields): the rule is
  // named and documented after the analysis it is given, whichever key holds it.
  if (args.has("isoflop") && args.has("approach1")) fail("plan.allocation: give isoflop = or approach1 =, not both");
  const char* key = args.has("approach1") ? "approach1" : "isoflop";
  rule.doc = args.string("doc", "");
  if (args.push(key) != LUA_TNIL) {
    // The table fit.isoflop returns: its power laws through the parabolas' vertices (approach 2), or
    // fit.approach1's: through the switches of the training curves' lower envelope (approach 1).
    if (args.has("N") || args.has("D")) fail("plan.allocation: give ", key, " = or N = (and D =), not both");
    if (!lua_istable(L, -1)) args.type_error(key, "the table fit.isoflop(obs) or fit.approach1(runs) returns");
    const bool is_approach1 = lua_getfield(L, -1, "switches") == LUA_TTABLE;
    lua_pop(L, 1);
    const char* analysis = is_approach1 ? "approach1" : "isoflop";
    rule.name = args.string("name", analysis);
    if (lua_getfield(L, -1, "N_law") == LUA_TNIL)
      fail("plan.allocation: the ", analysis, " result has no N_law (",
           is_approach1 ? "its power laws need two switches or more between sizes on the envelope"
                        : "its power laws need two budgets or more whose parabola has a minimum",
           ")");
    rule.N_law = to_power_law(L, -1, str("plan.allocation: ", analysis, ".N_law"), "N_opt");
    rule.non_embedding = rule.N_law.N_counts == "non_embedding";  // the runs' N, as the analysis says it
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "D_law") != LUA_TNIL) rule.D_law = to_power_law(L, -1, str("plan.allocation: ", analysis, ".D_law"), "D_opt");
    lua_pop(L, 1);
    // The analysis's bootstrap resamples ({ a =, k = } each, as fit.isoflop and fit.approach1 give
    // them) become the power laws' samples, so that answers from the rule carry its intervals.
    if (lua_getfield(L, -1, "samples") == LUA_TTABLE && rule.N_law.samples.empty()) {
      const int samples = lua_gettop(L);
      const lua_Integer n = luaL_len(L, samples);
      for (lua_Integer i = 1; i <= n; ++i) {
        lua_geti(L, samples, i);
        lua_getfield(L, -1, "k");
        lua_getfield(L, -2, "a");
        if (lua_type(L, -2) != LUA_TNUMBER || lua_type(L, -1) != LUA_TNUMBER)
          fail("plan.allocation: isoflop.samples[", i, "] must be { k = ..., a = ... } (a bootstrap resample's power law)");
        const double k = lua_tonumber(L, -2), a = lua_tonumber(L, -1);
        lua_pop(L, 3);
        rule.add_isoflop_resample(k, a);
      }
    }
    lua_pop(L, 1);
    // The compute the power laws were fitted on: fit.isoflop's budgets whose vertices they go
    // through (curves, each { C =, used = }), or fit.approach1's switches (each { C = }). Answers
    // far outside it say so.
    const bool approach1 = lua_getfield(L, -1, "switches") == LUA_TTABLE;
    if (!approach1) {
      lua_pop(L, 1);
      lua_getfield(L, -1, "curves");
    }
    if (lua_istable(L, -1)) {
      std::vector<double> compute;
      const lua_Integer n = luaL_len(L, -1);
      for (lua_Integer i = 1; i <= n; ++i) {
        lua_geti(L, -1, i);
        if (lua_istable(L, -1)) {
          const bool number = lua_getfield(L, -1, "C") == LUA_TNUMBER;
          const bool used = approach1 || lua_getfield(L, -2, "used") == LUA_TNIL || lua_toboolean(L, -1);
          if (!approach1) lua_pop(L, 1);
          if (number && used) compute.push_back(lua_tonumber(L, -1));
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
      const size_t count = compute.size();
      rule.set_span(compute, approach1 ? str(count, " approach-1 frontier switch", count == 1 ? "" : "es")
                                       : format_counted(static_cast<double>(count), "IsoFLOP budget"));
    }
    lua_pop(L, 1);
    if (rule.doc.empty())
      rule.doc = is_approach1 ? "Chinchilla approach 1: power laws through the switches of the training curves' lower envelope"
                              : "Chinchilla approach 2: power laws through the vertices of IsoFLOP parabolas";
  } else {
    rule.name = args.string("name", "custom");
    if (args.push("N") == LUA_TNIL) fail("plan.allocation: missing N (the power law N_opt = k·C^a), or isoflop = / approach1 = (an analysis)");
    rule.N_law = to_power_law(L, -1, "plan.allocation: N", "N_opt");
    lua_pop(L, 1);
    if (args.push("D") != LUA_TNIL) rule.D_law = to_power_law(L, -1, "plan.allocation: D", "D_opt");
    // Power laws fitted to budgets (fit.power_law{ x = C, ... }): the rule spans them.
    rule.span_from_laws();
  }
  lua_pop(L, 1);
  rule.Validate();
  push(L, std::move(rule));
  return 1;
}

// ---- Answer -------------------------------------------------------------------------------------

// Every quantity an answer can carry is a property; reading one the answer lacks is an error that
// lists those it has (use answer:has(name) to test).
struct QuantityDoc {
  const char* name;
  const char* doc;
};
const QuantityDoc kQuantities[] = {
    {"N", "parameters (as the law counts them)"},
    {"D", "training tokens"},
    {"tokens_per_param", "D / N"},
    {"loss", "the law's loss for the allocation (the target for compute_for and inference)"},
    {"flops", "training compute: 6·N·D, or as the question's flops = counts it (answer.convention says which)"},
    {"unique_tokens", "unique tokens U (data-constrained questions)"},
    {"epochs", "D / U"},
    {"effective_D", "D': the worth of D tokens of which U are unique (Muennighoff et al.)"},
    {"effective_N", "N': the worth of N parameters given the unique data (Muennighoff et al.)"},
    {"loss_unlimited", "the optimal loss at the same compute with every token unique"},
    {"N_unlimited", "the optimal N at the same compute with every token unique"},
    {"limit_cost", "the cost of the data limit: loss - loss_unlimited (0 where the unique tokens do not bind), "
                   "with its own bootstrap interval"},
    {"inference_tokens", "tokens processed at inference"},
    {"inference_flops", "2·N·inference_tokens, or the forward third of flops_per_token times them where flops = counts attention"},
    {"total_flops", "training + inference FLOP"},
    {"N_compute_optimal", "inference: N of the compute-optimal run reaching the same loss"},
    {"D_compute_optimal", "inference: D of the compute-optimal run reaching the same loss"},
    {"total_flops_compute_optimal", "inference: training + inference FLOP of that compute-optimal run"},
    {"saving", "inference: fraction of total FLOP saved over the compute-optimal run"},
    {"loss_gap", "compare: loss minus the law's optimal loss at the budget"},
    {"compute_equivalent", "compare: the compute the law's optimum needs for the same loss"},
    {"efficiency", "compare: compute_equivalent / the run's compute (6·N·D, or D·M(N) where flops = counts attention)"},
    {"flops_6ND", "6·N·D when it differs from the budget (an allocation rule's separate N and D laws, a budget counted with attention)"},
    {"flops_per_token", "a budget counted with attention (flops = { \"kaplan\" | \"palm\", ctx = }): FLOP per training token at N"},
    {"n_layer", "a budget counted with attention: the layers L of the shape N is counted at (continuous: N = 12·L·d², d = aspect·L)"},
    {"d_model", "a budget counted with attention: the width d of that shape"},
    {"one_epoch_flops", "returns: the compute whose unconstrained optimum sees every unique token once"},
    {"effective_flops", "returns: the compute unlimited data would need for the same loss"},
    {"return", "returns: effective_flops / flops"},
    {"marginal_return", "returns: effective FLOP gained per FLOP since the previous budget"},
    {"gpu_hours", "rows of a table or return curve asked with gpu =: GPU-hours of the row's training compute (row.cost has the rest)"}};

template <int I>
int quantity(lua_State* L) {
  lua_pushnumber(L, check<plan::Answer>(L, 1).value(kQuantities[I].name));
  return 1;
}

template <int... I>
std::vector<Function> quantity_properties(std::integer_sequence<int, I...>) {
  return {Function{kQuantities[I].name, &bound<quantity<I>>, kQuantities[I].doc}...};
}

void push_string(lua_State* L, const std::string& s) { lua_pushlstring(L, s.data(), s.size()); }

int answer_question(lua_State* L) {
  push_string(L, check<plan::Answer>(L, 1).question);
  return 1;
}
int answer_law(lua_State* L) {
  push_string(L, check<plan::Answer>(L, 1).law);
  return 1;
}
int answer_method(lua_State* L) {
  push_string(L, check<plan::Answer>(L, 1).method);
  return 1;
}
int answer_convention(lua_State* L) {
  push_string(L, check<plan::Answer>(L, 1).convention);
  return 1;
}
int answer_samples(lua_State* L) {
  lua_pushinteger(L, check<plan::Answer>(L, 1).samples);
  return 1;
}
int answer_samples_failed(lua_State* L) {
  lua_pushinteger(L, check<plan::Answer>(L, 1).samples_failed);
  return 1;
}
int answer_notes(lua_State* L) {
  const auto& notes = check<plan::Answer>(L, 1).notes;
  lua_createtable(L, static_cast<int>(notes.size()), 0);
  for (size_t i = 0; i < notes.size(); ++i) {
    push_string(L, notes[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}
int answer_names(lua_State* L) {
  std::vector<std::string> names = check<plan::Answer>(L, 1).names();
  lua_createtable(L, static_cast<int>(names.size()), 0);
  for (size_t i = 0; i < names.size(); ++i) {
    push_string(L, names[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}
// Row i of an answer as an answer of its own (answer.rows[i], and the rows of answer:record()): a row
// of a comparison is named by its allocation; one of a table or return curve had no name at all, and
// printed as an empty line above its quantities (and was recorded with question = "").
plan::Answer row_answer(const plan::Answer& a, size_t i) {
  plan::Answer row = a.rows[i];
  row.question = i < a.row_names.size() ? a.row_names[i] : str("row ", i + 1, " of ", a.question);
  row.law = a.law;
  return row;
}

int answer_rows(lua_State* L) {
  const plan::Answer& a = check<plan::Answer>(L, 1);
  lua_createtable(L, static_cast<int>(a.rows.size()), 0);
  for (size_t i = 0; i < a.rows.size(); ++i) {
    push(L, row_answer(a, i));
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}
int answer_intervals(lua_State* L) {
  const plan::Answer& a = check<plan::Answer>(L, 1);
  lua_newtable(L);
  for (const auto& q : a.quantities) {
    if (!q.interval.valid()) continue;
    lua_createtable(L, 2, 0);
    lua_pushnumber(L, q.interval.lo);
    lua_rawseti(L, -2, 1);
    lua_pushnumber(L, q.interval.hi);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, q.name.c_str());
  }
  return 1;
}
int answer_cost(lua_State* L) {
  const plan::Answer& a = check<plan::Answer>(L, 1);
  if (a.cost) push(L, *a.cost);
  else lua_pushnil(L);
  return 1;
}
int answer_has(lua_State* L) {
  lua_pushboolean(L, check<plan::Answer>(L, 1).has(luaL_checkstring(L, 2)));
  return 1;
}
int answer_interval(lua_State* L) {
  const plan::Quantity& q = check<plan::Answer>(L, 1).quantity(luaL_checkstring(L, 2));
  if (!q.interval.valid()) {
    lua_pushnil(L);
    lua_pushnil(L);
  } else {
    lua_pushnumber(L, q.interval.lo);
    lua_pushnumber(L, q.interval.hi);
  }
  return 2;
}
int answer_table(lua_State* L) {
  const plan::Answer& a = check<plan::Answer>(L, 1);
  lua_newtable(L);
  for (const auto& q : a.quantities) {
    lua_pushnumber(L, q.value);
    lua_setfield(L, -2, q.name.c_str());
  }
  return 1;
}
int answer_brief(lua_State* L) {
  push_string(L, check<plan::Answer>(L, 1).Brief());
  return 1;
}

int answer_markdown(lua_State* L) {
  push_string(L, check<plan::Answer>(L, 1).Markdown());
  return 1;
}

const char* unit_name(plan::Unit unit) {
  switch (unit) {
    case plan::Unit::Params: return "params";
    case plan::Unit::Tokens:
    case plan::Unit::TokensFine: return "tokens";
    case plan::Unit::Flops: return "FLOP";
    case plan::Unit::Loss: return "loss";
    case plan::Unit::Epochs: return "epochs";
    case plan::Unit::Ratio: return "ratio";
    case plan::Unit::Fraction: return "fraction";
    case plan::Unit::Hours: return "hours";
    case plan::Unit::Plain: return "";
  }
  return "";
}

// A plain nested table for JSON reports: { question, law, method, samples, notes = {...},
// quantities = { { name, value, unit, label, lo, hi }, ... }, rows = { record, ... } }.
void push_record(lua_State* L, const plan::Answer& a) {
  lua_newtable(L);
  push_string(L, a.question);
  lua_setfield(L, -2, "question");
  push_string(L, a.law);
  lua_setfield(L, -2, "law");
  push_string(L, a.method);
  lua_setfield(L, -2, "method");
  push_string(L, a.convention);
  lua_setfield(L, -2, "convention");
  lua_pushinteger(L, a.samples);
  lua_setfield(L, -2, "samples");
  lua_pushinteger(L, a.samples_failed);
  lua_setfield(L, -2, "samples_failed");
  lua_createtable(L, static_cast<int>(a.notes.size()), 0);
  for (size_t i = 0; i < a.notes.size(); ++i) {
    push_string(L, a.notes[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "notes");
  lua_createtable(L, static_cast<int>(a.quantities.size()), 0);
  for (size_t i = 0; i < a.quantities.size(); ++i) {
    const plan::Quantity& q = a.quantities[i];
    lua_newtable(L);
    push_string(L, q.name);
    lua_setfield(L, -2, "name");
    lua_pushnumber(L, q.value);
    lua_setfield(L, -2, "value");
    lua_pushstring(L, unit_name(q.unit));
    lua_setfield(L, -2, "unit");
    push_string(L, q.label);
    lua_setfield(L, -2, "label");
    if (q.interval.valid()) {
      lua_pushnumber(L, q.interval.lo);
      lua_setfield(L, -2, "lo");
      lua_pushnumber(L, q.interval.hi);
      lua_setfield(L, -2, "hi");
    }
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "quantities");
  lua_createtable(L, static_cast<int>(a.rows.size()), 0);
  for (size_t i = 0; i < a.rows.size(); ++i) {
    push_record(L, row_answer(a, i));
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "rows");
  if (a.cost) {
    lua_newtable(L);
    const std::pair<const char*, double> fields[] = {{"flops", a.cost->flops}, {"peak", a.cost->peak},
                                                     {"mfu", a.cost->mfu},     {"gpus", a.cost->gpus},
                                                     {"gpu_hours", a.cost->gpu_hours}, {"hours", a.cost->hours},
                                                     {"days", a.cost->days},   {"pf_days", a.cost->pf_days}};
    for (const auto& [name, value] : fields) {
      lua_pushnumber(L, value);
      lua_setfield(L, -2, name);
    }
    push_string(L, a.cost->gpu);
    lua_setfield(L, -2, "gpu");
    lua_setfield(L, -2, "cost");
  }
}

int answer_record(lua_State* L) {
  push_record(L, check<plan::Answer>(L, 1));
  return 1;
}

int answer_cost_on(lua_State* L) {
  const plan::Answer& a = check<plan::Answer>(L, 1);
  Args args(L, 2, "answer:cost_on", kCostKeys);
  // A table of model sizes or a return curve has a compute per row, none of its own: it was refused
  // as "this answer (...) has no 'flops' (it has )".
  if (!a.has("flops"))
    fail("answer:cost_on: this answer (", a.question, ") has no training compute of its own",
         a.rows.empty() ? "" : ", only its rows have one each",
         a.rows.empty() ? "" : ": price a row, answer.rows[i]:cost_on{ ... }, or ask the question with gpu = (gpus =, "
                               "mfu =) to price every row");
  push(L, plan::cost(a.value("flops"), cost_options(args).value_or(plan::CostOptions{})));
  return 1;
}

// ---- Question, Allocation, Cost -------------------------------------------------------------------

int question_answer(lua_State* L) {
  const plan::Question& q = check<plan::Question>(L, 1);
  if (lua_isnoneornil(L, 2)) {
    push(L, q.answer());
  } else {
    fit::FittedLaw law = to_law(L, 2, "question:answer");
    push(L, q.answer(law));
  }
  return 1;
}
// question:cost_of(flops): the Cost of `flops` on the GPUs the question named (gpu =, gpus =, mfu =,
// peak =), or nil when it named none: for answers made without question:answer (a study's IsoFLOP
// and approach-1 allocations), which price their compute as the question asked.
int question_cost_of(lua_State* L) {
  const plan::Question& q = check<plan::Question>(L, 1);
  const double flops = luaL_checknumber(L, 2);
  if (q.cost()) push(L, plan::cost(flops, *q.cost()));
  else lua_pushnil(L);
  return 1;
}
// question:check_rule_counts(law_name, N_counts) -> the question; raises as answering it with a law
// of that name and count would, where its allocation rule counts N otherwise and has no shape.
int question_check_rule_counts(lua_State* L) {
  const plan::Question& q = check<plan::Question>(L, 1);
  q.check_rule_counts(luaL_checkstring(L, 2), luaL_checkstring(L, 3));
  lua_settop(L, 1);
  return 1;
}
// question:with_models_shape{ vocab =, ctx = [, aspect = 64] [, source =] } -> the question with its
// allocation rules that carry no models' shape given this one (a study gives its own models').
int question_with_models_shape(lua_State* L) {
  const plan::Question& q = check<plan::Question>(L, 1);
  Args args(L, 2, "question:with_models_shape", {"vocab", "ctx", "aspect", "source"});
  push(L, q.with_models_shape(args.number("vocab", kMissing), args.number("ctx", kMissing), args.number("aspect", 64),
                              args.string("source", "the models' shape given to the question")));
  return 1;
}
int question_kind(lua_State* L) {
  lua_pushstring(L, check<plan::Question>(L, 1).kind_name());
  return 1;
}
int question_inputs(lua_State* L) {
  const plan::Question& q = check<plan::Question>(L, 1);
  lua_newtable(L);
  for (const auto& [name, value] : q.inputs()) {
    lua_pushnumber(L, value);
    lua_setfield(L, -2, name.c_str());
  }
  // A table's model sizes and a return curve's budgets, as lists: a table question's inputs were {}.
  for (const auto& [name, values] : q.list_inputs()) {
    lua_createtable(L, static_cast<int>(values.size()), 0);
    for (size_t i = 0; i < values.size(); ++i) {
      lua_pushnumber(L, values[i]);
      lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
    lua_setfield(L, -2, name.c_str());
  }
  // A comparison's candidates, in the order of its rows: { name =, N =, D = } (D only where given),
  // or { name =, allocation = rule }. They were missing: inputs held the budget alone.
  const auto& candidates = q.candidates();
  if (!candidates.empty()) {
    lua_createtable(L, static_cast<int>(candidates.size()), 0);
    for (size_t i = 0; i < candidates.size(); ++i) {
      const plan::Candidate& c = candidates[i];
      lua_createtable(L, 0, 3);
      push_string(L, c.name);
      lua_setfield(L, -2, "name");
      if (c.rule) {
        push(L, *c.rule);
        lua_setfield(L, -2, "allocation");
      } else {
        lua_pushnumber(L, c.N);
        lua_setfield(L, -2, "N");
        if (!std::isnan(c.D)) {
          lua_pushnumber(L, c.D);
          lua_setfield(L, -2, "D");
        }
      }
      lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
    lua_setfield(L, -2, "candidates");
  }
  return 1;
}
int question_convention(lua_State* L) {
  push_string(L, check<plan::Question>(L, 1).flops_convention());
  return 1;
}
int question_needs_law(lua_State* L) {
  lua_pushboolean(L, check<plan::Question>(L, 1).needs_law());
  return 1;
}

// The argument of rule:N_at(C), rule:D_at(C) and rule:flops_for_params(N): a positive finite number. A power
// law k·x^a of 0, a negative or a non-finite x gave NaN, 0 or inf, returned as if it were an answer.
double rule_argument(lua_State* L, const char* form, const char* what) {
  const double x = luaL_checknumber(L, 2);
  if (!(x > 0) || !std::isfinite(x))
    fail("rule:", form, ": ", what, " must be a positive finite number (got ", format_number(x, 6), ")");
  return x;
}
int rule_N_at(lua_State* L) {
  const plan::AllocationRule& rule = check<plan::AllocationRule>(L, 1);
  lua_pushnumber(L, rule.N_at(rule_argument(L, "N_at(C)", "C, the compute in FLOP (e.g. 1e21),")));
  return 1;
}
int rule_D_at(lua_State* L) {
  const plan::AllocationRule& rule = check<plan::AllocationRule>(L, 1);
  lua_pushnumber(L, rule.D_at(rule_argument(L, "D_at(C)", "C, the compute in FLOP (e.g. 1e21),")));
  return 1;
}
int rule_flops_for_params(lua_State* L) {
  const plan::AllocationRule& rule = check<plan::AllocationRule>(L, 1);
  lua_pushnumber(L, rule.flops_for_params(rule_argument(L, "flops_for_params(N)", "N, the parameters (e.g. 1e9),")));
  return 1;
}
int rule_name(lua_State* L) {
  push_string(L, check<plan::AllocationRule>(L, 1).name);
  return 1;
}
int rule_doc(lua_State* L) {
  push_string(L, check<plan::AllocationRule>(L, 1).doc);
  return 1;
}
// rule:with{ vocab =, ctx = [, aspect =] } -> the rule with its models' shape, which a law of all
// parameters needs to read a rule of non-embedding N (Kaplan's).
int rule_with(lua_State* L) {
  const plan::AllocationRule& r = check<plan::AllocationRule>(L, 1);
  Args args(L, 2, "rule:with", {"vocab", "ctx", "aspect"});
  push(L, r.with_shape(args.number("vocab", kMissing), args.number("ctx", kMissing), args.number("aspect", 64), "rule:with"));
  return 1;
}
int rule_non_embedding(lua_State* L) {
  lua_pushboolean(L, check<plan::AllocationRule>(L, 1).non_embedding);
  return 1;
}
// What N_opt counts: "all", "non_embedding", or nil where the rule does not say (hand-made power laws).
int rule_N_counts(lua_State* L) {
  const plan::AllocationRule& r = check<plan::AllocationRule>(L, 1);
  if (r.non_embedding) lua_pushstring(L, "non_embedding");
  else if (r.counts_all()) lua_pushstring(L, "all");
  else lua_pushnil(L);
  return 1;
}
// The models' shape given by rule:with, or nil.
int rule_shape(lua_State* L) {
  const plan::AllocationRule& r = check<plan::AllocationRule>(L, 1);
  if (!r.has_shape()) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 3);
  set_number(L, "vocab", r.vocab);
  set_number(L, "ctx", r.ctx);
  set_number(L, "aspect", r.aspect);
  return 1;
}
template <bool N>
int rule_exponent(lua_State* L) {
  const plan::AllocationRule& r = check<plan::AllocationRule>(L, 1);
  if (N) lua_pushnumber(L, r.N_law.law.param("a"));
  else if (r.D_law) lua_pushnumber(L, r.D_law->law.param("a"));
  else lua_pushnumber(L, 1.0 - r.N_law.law.param("a"));
  return 1;
}

template <double plan::Cost::*Field>
int cost_field(lua_State* L) {
  lua_pushnumber(L, check<plan::Cost>(L, 1).*Field);
  return 1;
}
int cost_gpu(lua_State* L) {
  push_string(L, check<plan::Cost>(L, 1).gpu);
  return 1;
}
int cost_notes(lua_State* L) {
  push_strings(L, check<plan::Cost>(L, 1).notes);
  return 1;
}

void push_published(lua_State* L) {
  lua_newtable(L);
  push(L, plan::published::chinchilla_approach1());
  lua_setfield(L, -2, "chinchilla_approach1");
  push(L, plan::published::kaplan());
  lua_setfield(L, -2, "kaplan");
  // The unrounded datablations law, as a Law object when the fit module's Law type is registered.
  luaL_getmetatable(L, TypeName<fit::FittedLaw>::value);
  const bool has_law_type = !lua_isnil(L, -1);
  lua_pop(L, 1);
  const fit::FittedLaw exact = fit::published::counted(plan::published::datablations_exact());
  if (has_law_type) {
    push(L, exact);
  } else {
    lua_newtable(L);
    lua_pushstring(L, fit::law_kind_name(exact.law.kind()));
    lua_setfield(L, -2, "kind");
    const auto names = exact.law.names();
    for (size_t i = 0; i < names.size(); ++i) {
      lua_pushnumber(L, exact.law.values()[i]);
      lua_setfield(L, -2, names[i].c_str());
    }
  }
  lua_setfield(L, -2, "datablations_exact");
}

}  // namespace

int open_plan(lua_State* L) {
  std::vector<Function> answer_properties = quantity_properties(std::make_integer_sequence<int, std::size(kQuantities)>());
  const std::vector<Function> more = {
      {"question", &bound<answer_question>, "the question answered, in words"},
      {"brief", &bound<answer_brief>, "one line: \"7.03B params, 237B tokens (9.49 epochs), loss 2.2221, 1.00e22 FLOP, 7.02k H100-hours\""},
      {"law", &bound<answer_law>, "the law (or allocation rule) that answered it"},
      {"method", &bound<answer_method>, "how: \"closed form\", \"numeric\", ..."},
      {"convention", &bound<answer_convention>,
       "the convention its compute is counted in: \"C = 6·N·D\" (N as the law counts it), or with attention where the "
       "question's flops = asked for it; \"\" for answers about no budget (plan.loss)"},
      {"samples", &bound<answer_samples>, "bootstrap samples behind the intervals (0: none)"},
      {"samples_failed", &bound<answer_samples_failed>,
       "of those, the samples whose law had no answer (e.g. its E above a target loss): left out of the intervals"},
      {"notes", &bound<answer_notes>, "remarks: several local optima, a rule whose 6ND differs from the budget, ..."},
      {"names", &bound<answer_names>, "the quantities this answer has, in order"},
      {"rows", &bound<answer_rows>, "the rows of a table, comparison or return curve (Answers)"},
      {"intervals", &bound<answer_intervals>, "{ name = { lo, hi } }: 95% percentile intervals over the law's bootstrap samples"},
      {"cost", &bound<answer_cost>, "the Cost of the training compute when the question named a GPU (gpu =, gpus =, mfu =), else nil"},
  };
  answer_properties.insert(answer_properties.end(), more.begin(), more.end());
  Class<plan::Answer>::define(
      L,
      "The answer to a planning question: quantities N (params), D (tokens), tokens_per_param, loss, flops, epochs, "
      "... with units and, when the law was bootstrapped, 95% intervals (answer.intervals, answer:interval(name)). "
      "Reading a quantity the answer lacks is an error naming those it has; answer:has(name) tests.",
      {{"has", &bound<answer_has>, "answer:has(name) -> whether the answer carries that quantity"},
       {"interval", &bound<answer_interval>, "answer:interval(name) -> lo, hi (nil, nil without bootstrap samples)"},
       {"table", &bound<answer_table>, "answer:table() -> { name = value } of every quantity"},
       {"record", &bound<answer_record>,
        "answer:record() -> a plain nested table (question, law, method, quantities with unit and interval, rows, "
        "notes, cost) for JSON reports"},
       {"markdown", &bound<answer_markdown>, "answer:markdown() -> the answer as Markdown tables, for reports"},
       {"cost_on", &bound<answer_cost_on>,
        "answer:cost_on{ gpu = \"H100\", gpus = 1024, mfu = 0.4 [, peak = FLOP/s] } -> Cost of the answer's training compute"}},
      answer_properties);
  Class<plan::Question>::define(
      L,
      "A planning question not yet answered: made by plan.optimal{ compute = 1e21 } (or any plan question) without "
      "law =. question:answer(law) answers it with a fitted or published law; the study DSL does this with the "
      "study's fitted law.",
      {{"answer", &bound<question_answer>, "question:answer(law) -> Answer (law may be omitted for allocation-rule questions)"},
       {"cost_of", &bound<question_cost_of>,
        "question:cost_of(flops) -> the Cost of that compute on the GPUs the question named (gpu =, gpus =, mfu =, "
        "peak =), or nil when it named none"},
       {"check_rule_counts", &bound<question_check_rule_counts>,
        "question:check_rule_counts(law_name, N_counts) -> question; raises the error question:answer(law) would raise "
        "with a law of that name whose N counts N_counts (\"all\" or \"non_embedding\") where an allocation rule of "
        "the question counts N otherwise and has no models' shape to convert it (a study checks its questions so "
        "before training)"},
       {"with_models_shape", &bound<question_with_models_shape>,
        "question:with_models_shape{ vocab =, ctx = [, aspect = 64] [, source = \"...\"] } -> the same question with "
        "each allocation rule of it that counts N one way or the other and carries no models' shape given this one "
        "(rule:with): a law that counts N otherwise then reads the rule's N with it, and its answer says so, naming "
        "source (a study gives its questions its own models' shape)"}},
      {{"kind", &bound<question_kind>, "\"optimal\", \"loss\", \"compute_for\", \"inference\", \"compare\", \"table\", \"returns\""},
       {"needs_law", &bound<question_needs_law>, "whether answering needs a law"},
       {"convention", &bound<question_convention>,
        "the convention its budget is counted in: \"C = 6·N·D\", or with attention (the question's flops =)"},
       {"inputs", &bound<question_inputs>,
        "{ compute =, unique_tokens =, ... }: the numbers the question was asked with (a table's params and a return "
        "curve's compute as lists; a comparison's candidates as a list of { name =, N = [, D =] } or { name =, "
        "allocation = rule }, in the order of its rows)"}});
  Class<plan::AllocationRule>::define(
      L,
      "An allocation rule: power laws N_opt = k·C^a and D_opt = k'·C^b (Chinchilla approaches 1 and 2, Kaplan's "
      "C^0.73). Use it as allocation = rule in plan.optimal, plan.table, or as a candidate in plan.compare; "
      "a study's IsoFLOP or approach-1 fit (s.fits.isoflop, s.fits.approach1) is taken there as its rule.",
      {{"N_at", &bound<rule_N_at>, "rule:N_at(C) -> parameters at compute C (FLOP)"},
       {"D_at", &bound<rule_D_at>, "rule:D_at(C) -> tokens at compute C (C/(6N) without a D law)"},
       {"flops_for_params", &bound<rule_flops_for_params>, "rule:flops_for_params(N) -> the compute at which the rule picks N"},
       {"with", &bound<rule_with>,
        "rule:with{ vocab =, ctx = [, aspect = 64] } -> the same rule with its models' shape: a law of all parameters "
        "(Chinchilla's, a study's) then reads the N of a rule of non-embedding N (Kaplan's) as N + (vocab + ctx)·d, d "
        "the width of N = 12·L·d² at d/L = aspect (tied output, learned positions, as model.gpt counts them), and a "
        "law of non-embedding N (Kaplan's) the N of a rule of all parameters (Chinchilla's) as the N whose "
        "N + (vocab + ctx)·d it is; each refuses a rule of the other count without it"}},
      {{"name", &bound<rule_name>, "the rule's name"},
       {"non_embedding", &bound<rule_non_embedding>, "whether N_opt counts non-embedding parameters (Kaplan et al.'s N)"},
       {"N_counts", &bound<rule_N_counts>,
        "what N_opt counts: \"all\" (Chinchilla's rule, a study's by default), \"non_embedding\" (Kaplan's), or nil "
        "where the rule does not say (power laws of your own): a law of the other count reads its N through rule:with's "
        "models' shape"},
       {"shape", &bound<rule_shape>, "{ vocab =, ctx =, aspect = } of the rule's models (rule:with), or nil"},
       {"doc", &bound<rule_doc>, "where the rule comes from"},
       {"a", &bound<rule_exponent<true>>, "exponent of N_opt ∝ C^a"},
       {"b", &bound<rule_exponent<false>>, "exponent of D_opt ∝ C^b"}});
  Class<plan::Cost>::define(
      L, "The cost of a run: GPU-hours, wall-clock hours and days on k GPUs at an MFU, PF-days.", {},
      {{"flops", &bound<cost_field<&plan::Cost::flops>>, "training FLOP"},
       {"gpu", &bound<cost_gpu>, "the GPU's name"},
       {"peak", &bound<cost_field<&plan::Cost::peak>>, "peak FLOP/s per GPU (dense bf16)"},
       {"mfu", &bound<cost_field<&plan::Cost::mfu>>, "model FLOP utilisation"},
       {"gpus", &bound<cost_field<&plan::Cost::gpus>>, "GPUs in parallel"},
       {"gpu_hours", &bound<cost_field<&plan::Cost::gpu_hours>>, "GPU-hours: flops / (peak · mfu) / 3600"},
       {"hours", &bound<cost_field<&plan::Cost::hours>>, "wall-clock hours on `gpus` GPUs"},
       {"days", &bound<cost_field<&plan::Cost::days>>, "wall-clock days on `gpus` GPUs"},
       {"pf_days", &bound<cost_field<&plan::Cost::pf_days>>, "PF-days: flops / 8.64e19"},
       {"notes", &bound<cost_notes>, "remarks on the inputs: an mfu above the 80% that the best measured runs reach"}});

  new_module(
      L,
      "Planning questions answered with a scaling law. Each question (plan.optimal, plan.loss, plan.compute_for, "
      "plan.inference, plan.compare, plan.table, plan.returns) takes law = (a Law, or for plan.optimal and plan.table "
      "an allocation rule, as allocation =; without one the call returns a Question answered later by "
      "question:answer(law) or plan.answer(question, law)), and gpu =, gpus =, mfu =, peak = (as plan.cost) to price "
      "the training compute (answer.cost; a table's or return curve's row by row: row.cost and the column gpu_hours). "
      "The other functions take no law =: plan.cost{ flops = C, gpu =, ... } prices a compute, plan.allocation{ ... } "
      "makes an allocation rule (it takes no gpu = either), and plan.answer(questions, law) answers questions asked "
      "without a law.",
      {{"optimal", &bound<optimal>,
        "plan.optimal{ compute = C [, unique_tokens = U | epochs = e] [, law = L] [, allocation = rule] [, method = "
        "\"auto\"|\"closed_form\"|\"numeric\"] [, grid = 241 (numeric: points over ln N before refining)] [, flops = "
        "\"6ND\" (C = 6·N·D, the default) | { \"kaplan\" (6N + 6·L·T·d per token) | \"palm\" (6N + 12·L·T·d; also "
        "\"deepseek\"), ctx = T [, aspect = 64 (d/L)] }: the convention C is counted in, N as the law counts it; a "
        "rule's budgets are 6·N·D] } -> Answer (.N, .D, .tokens_per_param, .loss, .epochs, .convention) or a Question"},
       {"loss", &bound<loss>, "plan.loss{ N =, D = [, unique_tokens =], law = } -> Answer with .loss"},
       {"compute_for", &bound<compute_for>,
        "plan.compute_for{ loss = [, unique_tokens =] [, flops = as plan.optimal's], law = } -> the least compute whose "
        "optimal run reaches the loss, counted as flops = says (C = 6·N·D by default)"},
       {"inference", &bound<inference>,
        "plan.inference{ loss = | compute =, inference_tokens = T [, unique_tokens = U] [, flops = as plan.optimal's], law = } "
        "-> N, D minimising 6·N·D + 2·N·T at the target loss (Sardana et al.; with flops = counting attention, "
        "M(N)·D + M(N)/3·T), with the saving over the compute-optimal run"},
       {"compare", &bound<compare>,
        "plan.compare{ compute = C [, unique_tokens = U] [, flops = as plan.optimal's], law =, candidates = { Gopher = "
        "{ N = 280e9, D = 300e9 }, kaplan = plan.published.kaplan } } -> rows: loss, gap to the optimum, efficiency"},
       {"table", &bound<table>,
        "plan.table{ params = { 400e6, 1e9, ... }, law = | allocation = [, flops = as plan.optimal's (with a law)] } -> "
        "compute-optimal FLOPs and tokens per size"},
       {"returns", &bound<returns>,
        "plan.returns{ unique_tokens = U, law = [, compute = { ... }] [, flops = as plan.optimal's] } -> the return on "
        "compute spent on repeated data"},
       {"cost", &bound<cost>,
        "plan.cost{ flops = C [, gpu = \"A100\"|\"H100\"|\"H200\"] [, peak = FLOP/s] [, gpus = 1] [, mfu = 0.4] } -> Cost"},
       {"allocation", &bound<allocation>,
        "plan.allocation{ N = power_law [, D = power_law] [, name =] [, doc = text] } or plan.allocation{ isoflop = fit.isoflop(obs) } "
        "or plan.allocation{ approach1 = fit.approach1(runs) } -> an allocation rule from power laws of C "
        "(fit.power_law results, an analysis's N_law and D_law, or { k =, a = }); the laws' bootstrap samples give "
        "its answers intervals; one from fit.isoflop or fit.approach1 knows the compute it was fitted on, and its "
        "answers far outside it say how far"}});
  push_published(L);
  document(L, -1,
           "Published allocation rules and laws: chinchilla_approach1 (Chinchilla table 3), kaplan (N = 1.3e9·C_PFday^0.73), "
           "datablations_exact (Muennighoff et al. 2023's data-constrained law with the unrounded constants of the README of "
           "their datablations repository, github.com/huggingface/datablations, not scalelab's README).");
  lua_setfield(L, -2, "published");
  lua_newtable(L);
  for (const auto& g : plan::gpus()) {
    lua_pushnumber(L, g.peak);
    lua_setfield(L, -2, g.name.c_str());
  }
  document(L, -1,
           "plan.gpus: the peak dense bf16 FLOP/s of each GPU that gpu = names (plan.cost and every planning question): "
           "A100 312e12, H100 989e12, H200 989e12 (the H100's compute); give peak = FLOP/s for another.");
  lua_setfield(L, -2, "gpus");
  lua_pushnumber(L, plan::kPetaflopDay);
  lua_setfield(L, -2, "PF_DAY");
  return 1;
}

}  // namespace scalelab::lua
