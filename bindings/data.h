// What other bindings (the trainers') need from scalelab.native.data: the Lua objects that carry
// a corpus or a batch source.
#pragma once

#include <lua.hpp>

#include <memory>

#include "data/batch_source.h"
#include "data/corpus.h"

namespace scalelab::lua {

// The corpus at `index` (a Corpus object), the `corpus` argument of `function` ("data.sampler");
// raises a Lua error naming both otherwise (missing, or not a corpus).
data::Corpus check_corpus(lua_State* L, int index, const std::string& function);
// The batch source behind a Sampler or HeldOut object at `index`; shared, so a trainer may keep
// it after the Lua object is collected.
std::shared_ptr<data::BatchSource> check_batch_source(lua_State* L, int index);

}  // namespace scalelab::lua
