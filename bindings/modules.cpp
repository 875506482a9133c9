#include "bindings/modules.h"

#include "bindings/binding.h"

#ifdef SCALELAB_HAVE_CUDA
#include "kernels/cuda_backend.h"
#endif

namespace scalelab::lua {

void open_all(lua_State* L) {
#ifdef SCALELAB_HAVE_CUDA
  cuda::register_cuda_backend();  // backend = "cuda" / "auto" (kernels/, built when CUDA is found)
#endif
  // The openers build their tables in C++ (a failed allocation throws): bound, as every function Lua calls.
  static const luaL_Reg natives[] = {
      {"scalelab.native.core", bound<open_core>},
      {"scalelab.native.model", bound<open_model>},
      {"scalelab.native.data", bound<open_data>},
      {"scalelab.native.plot", bound<open_plot>},
      {"scalelab.native.plan", bound<open_plan>},
      {"scalelab.native.train", bound<open_train>},
      {"scalelab.native.store", bound<open_store>},
      {"scalelab.native.study", bound<open_study>},
      {"scalelab.native.fit", bound<open_fit>},
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
