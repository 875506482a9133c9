#include "bindings/modules.h"

namespace scalelab::lua {

void open_all(lua_State* L) {
  static const luaL_Reg natives[] = {
      {"scalelab.native.core", open_core},
      {"scalelab.native.model", open_model},
      {"scalelab.native.fit", open_fit},
      {"scalelab.native.plan", open_plan},
      {nullptr, nullptr},
  };
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const luaL_Reg* native = natives; native->name; ++native) {
    lua_pushcfunction(L, native->func);
    lua_setfield(L, -2, native->name);
  }
  lua_pop(L, 1);
}

}  // namespace scalelab::lua
