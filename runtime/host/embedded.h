// The Lua standard library (stdlib/), compiled into the program by cmake/EmbedLuaScript.cmake.
#pragma once

#include <cstddef>
#include <vector>

namespace scalelab::host {

struct EmbeddedModule {
  const char* name;       // "scalelab.pretty"
  const char* chunkname;  // "@stdlib/scalelab/pretty.lua", as tracebacks show it
  const char* source;
  size_t size;
};

const std::vector<EmbeddedModule>& embedded_modules();

}  // namespace scalelab::host
