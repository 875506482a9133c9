// Lua module scalelab.native.plot: the gnuplot runner under stdlib/scalelab/plot.lua.
#include <lua.hpp>

#include "bindings/binding.h"
#include "bindings/modules.h"
#include "plot/gnuplot.h"

namespace scalelab::lua {

namespace {

// Reads the optional options table at `index`: { program =, timeout =, arguments = {...} }.
plot::GnuplotOptions options_at(lua_State* L, int index, const char* function) {
  plot::GnuplotOptions options;
  if (lua_isnoneornil(L, index)) return options;
  Args args(L, index, function, {"program", "timeout", "arguments"});
  options.program = args.string("program", "");
  options.timeout_seconds = args.number("timeout", options.timeout_seconds);
  if (args.push("arguments") == LUA_TTABLE) {
    const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, -1, i);
      if (!lua_isstring(L, -1)) args.type_error("arguments", "an array of strings");
      options.arguments.push_back(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, -1)) {
    args.type_error("arguments", "an array of strings");
  }
  lua_pop(L, 1);
  options.Validate();
  return options;
}

int run(lua_State* L) {
  size_t size = 0;
  const char* script = luaL_checklstring(L, 1, &size);
  plot::GnuplotOptions options = options_at(L, 2, "plot.gnuplot");
  plot::GnuplotResult result = plot::RunGnuplot(std::string(script, size), options);
  lua_createtable(L, 0, 4);
  lua_pushlstring(L, result.output.data(), result.output.size());
  lua_setfield(L, -2, "output");
  push_strings(L, result.warnings);
  lua_setfield(L, -2, "warnings");
  lua_pushnumber(L, result.seconds);
  lua_setfield(L, -2, "seconds");
  lua_pushstring(L, result.program.c_str());
  lua_setfield(L, -2, "program");
  return 1;
}

int spawn(lua_State* L) {
  size_t size = 0;
  const char* script = luaL_checklstring(L, 1, &size);
  plot::SpawnGnuplot(std::string(script, size), options_at(L, 2, "plot.spawn"));
  return 0;
}

int find(lua_State* L) {
  lua_pushstring(L, plot::FindGnuplot(options_at(L, 1, "plot.find_gnuplot")).c_str());
  return 1;
}

int terminals(lua_State* L) {
  push_strings(L, plot::GnuplotTerminals(options_at(L, 1, "plot.terminals")));
  return 1;
}

int version(lua_State* L) {
  lua_pushstring(L, plot::GnuplotVersion(options_at(L, 1, "plot.gnuplot_version")).c_str());
  return 1;
}

}  // namespace

int open_plot(lua_State* L) {
  new_module(
      L, "The gnuplot runner under the plot module.",
      {{"gnuplot", &bound<run>,
        "gnuplot(script [, { program =, timeout = 60, arguments = {} }]) -> { output, warnings, "
        "seconds, program }: runs a gnuplot script through a pipe; gnuplot's errors become Lua errors "
        "that quote the script line"},
       {"spawn", &bound<spawn>,
        "spawn(script [, options]): starts gnuplot on the script and returns at once (windows)"},
       {"find_gnuplot", &bound<find>,
        "find_gnuplot([options]) -> the gnuplot path (options.program, else $SCALELAB_GNUPLOT, else "
        "gnuplot on PATH); an error naming gnuplot-nox when there is none"},
       {"terminals", &bound<terminals>, "terminals([options]) -> the names of gnuplot's terminals"},
       {"gnuplot_version", &bound<version>, "gnuplot_version([options]) -> '5.4 patchlevel 4'"}});
  return 1;
}

}  // namespace scalelab::lua
