// The native modules: each binding file defines one open_<name>(lua_State*) that leaves its module
// table on the stack. open_all registers them as package.preload["scalelab.native.<name>"]; the
// Lua library in stdlib/scalelab/<name>.lua requires its native half and adds the Lua-side parts.
#pragma once

#include <lua.hpp>

namespace scalelab::lua {

int open_core(lua_State* L);
int open_model(lua_State* L);
int open_data(lua_State* L);
int open_plot(lua_State* L);
int open_plan(lua_State* L);
int open_train(lua_State* L);
int open_store(lua_State* L);
int open_study(lua_State* L);
int open_fit(lua_State* L);

// Registers every native module in package.preload.
void open_all(lua_State* L);

}  // namespace scalelab::lua
