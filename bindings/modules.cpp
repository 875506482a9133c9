#include "bindings/modules.h"

#ifdef SCALELAB_HAVE_CUDA
#include "kernels/cuda_backend.h"
#endif

namespace scalelab::lua {

void open_all(lua_State* L) {
#ifdef SCALELAB_HAVE_CUDA
  cuda::register_cuda_backend();  // backend = "cuda" / "auto" (kernels/, built when CUDA is found)
#endif
  static const luaL_Reg natives[] = {
      {"scalelab.native.core", open_core},
      {"scalelab.native.model", open_model},
      {"scalelab.native.data", open_data},
      {"scalelab.native.plot", open_plot},
      {"scalelab.native.plan", open_plan},
      {"scalelab.native.train", open_train},
      {"scalelab.native.store", open_store},
      {"scalelab.native.study", open_study},
      {"scalelab.native.fit", open_fit},
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
