// Lua module scalelab.native.core: version, unit formatting, the documentation table, interrupts,
// the "did you mean" rule.
#include <lua.hpp>

#include <string>
#include <vector>

#include "bindings/binding.h"
#include "bindings/modules.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/paths.h"
#include "core/units.h"
#include "core/version.h"

namespace scalelab::lua {

namespace {

template <std::string (*Format)(double)>
int format(lua_State* L) {
  std::string text = Format(luaL_checknumber(L, 1));
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int format_counted(lua_State* L) {
  std::string text = scalelab::format_counted(luaL_checknumber(L, 1), luaL_checkstring(L, 2));
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int format_significant(lua_State* L) {
  std::string text = scalelab::format_significant(luaL_checknumber(L, 1),
                                                  static_cast<int>(luaL_optinteger(L, 2, 3)));
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int format_number(lua_State* L) {
  std::string text = scalelab::format_number(luaL_checknumber(L, 1), static_cast<int>(luaL_optinteger(L, 2, 3)));
  lua_pushlstring(L, text.data(), text.size());
  return 1;
}

int docs(lua_State* L) {
  push_docs(L);
  return 1;
}

int document(lua_State* L) {
  luaL_checkany(L, 1);
  lua::document(L, 1, luaL_checkstring(L, 2));
  lua_settop(L, 1);
  return 1;
}

int check_interrupt(lua_State*) {
  scalelab::check_interrupt();
  return 0;
}

int library_source(lua_State* L) {
  lua_pushboolean(L, lua::library_source(luaL_checkstring(L, 1)));
  return 1;
}

// The function keep_caller made: calls its upvalue with its arguments and returns all it returns. A
// yield inside goes through (lua_callk's continuation returns the results after the resume).
int returned(lua_State* L, int, lua_KContext) { return lua_gettop(L); }
int call_keeping_caller(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, returned);
  return returned(L, LUA_OK, 0);
}

// keep_caller(fn) -> a C function that calls fn. `return f{...}` at the end of a user's function is a
// tail call: f's frame replaces the user's, and an error about f's arguments, located at the first
// frame outside the library, named the line that called the user's function instead (or the line
// of the call further up). A C function called so runs above the frame that called it, which stays
// on the stack with its line: the library's Lua functions that users call go through one.
int keep_caller(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_pushcclosure(L, call_keeping_caller, 1);
  return 1;
}

// closest_name(name, candidates): core's "did you mean" rule (core/error.h), so that Lua and C++
// suggest the same names.
int closest_name(lua_State* L) {
  if (lua_type(L, 1) != LUA_TSTRING) {
    fail("closest_name(name, candidates): name must be a string (got ", got_type(L, 1), ")");
  }
  if (!lua_istable(L, 2)) {
    fail("closest_name(name, candidates): candidates must be a list of strings (got ", got_type(L, 2), ")");
  }
  std::vector<std::string> candidates;
  const lua_Integer n = luaL_len(L, 2);
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_geti(L, 2, i) != LUA_TSTRING) {
      fail("closest_name(name, candidates): candidates must be a list of strings; candidates[", i, "] is a ",
           got_type(L, -1));
    }
    candidates.push_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  std::string suggestion = scalelab::closest_name(lua_tostring(L, 1), candidates);
  if (suggestion.empty()) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, suggestion.data(), suggestion.size());
  }
  return 1;
}

// unexpanded_home(what, key, path): core's rule for a path under ~ (core/paths.h), so that a study's
// options and the store's functions refuse it alike.
int unexpanded_home(lua_State* L) {
  const std::string message =
      scalelab::unexpanded_home(luaL_checkstring(L, 1), luaL_optstring(L, 2, ""), luaL_checkstring(L, 3));
  if (message.empty()) lua_pushnil(L);
  else lua_pushlstring(L, message.data(), message.size());
  return 1;
}

// Whether Ctrl-C or SIGTERM came during the current call and is not settled: true from the signal
// until the call ends (or a computation that stopped on it returned its result, train.run in the REPL).
// The host raises the interruption once, as a Lua error that a pcall can catch; library code whose
// pcall caught an error while this is true raises it again, so that the user's Ctrl-C stops the script.
int interrupt_pending(lua_State* L) {
  lua_pushboolean(L, scalelab::interrupt_pending());
  return 1;
}

int interrupt_ends_script(lua_State* L) {
  lua_pushboolean(L, scalelab::interrupt_ends_script());
  return 1;
}

// Throws a C++ exception from inside a binding, holding heap memory at the time: the test suite
// checks that it arrives as a clean Lua error and leaks nothing.
int throw_for_test(lua_State* L) {
  std::string held(1000, 'x');
  std::vector<double> more(1000, 1.0);
  fail("test exception: ", luaL_checkstring(L, 1), " (", held.size() + more.size(), " bytes held)");
}

}  // namespace

bool keeps_caller(lua_State* L, int index) { return lua_tocfunction(L, index) == call_keeping_caller; }

int open_core(lua_State* L) {
  new_module(L, "scalelab's native core: version, unit formatting, documentation, name suggestions.",
             {{"format_count", &bound<format<scalelab::format_count>>,
               "format_count(x) -> '7.02B', '124M', '1.23k', '2.1T', then '1.49e16' (parameters, tokens: SI "
               "suffixes up to T, scientific beyond, as FLOP counts)"},
              {"format_ratio", &bound<format<scalelab::format_ratio>>,
               "format_ratio(x) -> '9.49', '1670', '1.49e8' (epochs, tokens per parameter: plain up to 9999, "
               "then scientific; as answers print them)"},
              {"format_counted", &bound<format_counted>,
               "format_counted(n, noun) -> '1 run', '12 runs', '1.2k documents' (plural unless n is 1)"},
              {"format_flops", &bound<format<scalelab::format_flops>>, "format_flops(x) -> '1.2e22'"},
              {"format_duration", &bound<format<scalelab::format_duration>>,
               "format_duration(seconds) -> '850 ms', '4.2 min', '3.1 h'"},
              {"format_significant", &bound<format_significant>,
               "format_significant(x, digits = 3) -> x with that many significant digits"},
              {"format_number", &bound<format_number>,
               "format_number(x, digits = 3) -> x with that many significant digits, as the fits' and plan's "
               "printouts write numbers: plainly where printf's %g is plain (0.0123, 406), else with a plain "
               "exponent (1.67e3, 5e-6; not 1.67e+03, 5e-06)"},
              {"docs", &bound<docs>, "the weak table of documentation strings, keyed by value"},
              {"document", &bound<document>, "document(value, text) -> value; help(value) prints text"},
              {"check_interrupt", &bound<check_interrupt>, "raises 'interrupted' if Ctrl-C was pressed"},
              {"interrupt_pending", &bound<interrupt_pending>,
               "true from Ctrl-C (or SIGTERM) until the current call ends: an error a pcall caught then is "
               "(or follows) the interruption, and is raised again"},
              {"interrupt_ends_script", &bound<interrupt_ends_script>,
               "true while a script runs (Ctrl-C ends it; so does an error nothing catches), false at the REPL's prompt"},
              {"library_source", &bound<library_source>,
               "library_source(source) -> true when a chunk of that debug.getinfo source is scalelab's own library"},
              {"keep_caller", &bound<keep_caller>,
               "keep_caller(fn) -> a function that calls fn and returns its results: a C function, whose caller's "
               "frame (and line, for errors) a tail call keeps"},
              {"closest_name", &bound<closest_name>,
               "closest_name(name, candidates) -> the candidate nearest to name (edit distance at most "
               "max(2, #name // 3), case counts; the first of equals), or nil when none is that near: "
               "the rule of every 'did you mean ...?'"},
              {"unexpanded_home", &bound<unexpanded_home>,
               "unexpanded_home(what, key, path) -> why a path written as to a shell (\"~/runs/x.db\": only a shell "
               "expands ~) is refused, naming the fix, or nil for any other path"},
              {"throw_for_test", &bound<throw_for_test>, "throws a C++ exception (for tests)"}});
  lua_pushliteral(L, SCALELAB_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}

}  // namespace scalelab::lua
