// Lua module scalelab.native.model: the GPT shape, its parameter counts and FLOPs.
// This file is the example every binding follows: a TypeName, functions taking an Args table,
// a Class<T>::define with documented methods and properties, and a luaopen_ function.
#include <lua.hpp>

#include "bindings/binding.h"
#include "bindings/modules.h"
#include "model/gpt.h"

namespace scalelab::lua {

template <>
struct TypeName<model::GptConfig> {
  static constexpr const char* value = "scalelab.GptConfig";
};

namespace {

using model::GptConfig;

int gpt(lua_State* L) {
  Args args(L, 1, "model.gpt", {"vocab", "ctx", "d_model", "n_layer", "n_head", "d_ff"});
  GptConfig config;
  config.vocab = args.integer("vocab");
  config.ctx = args.integer("ctx");
  config.d_model = args.integer("d_model");
  config.n_layer = args.integer("n_layer");
  config.n_head = args.integer("n_head");
  config.d_ff = args.integer("d_ff", 0);
  if (args.has("d_ff") && config.d_ff <= 0)
    fail("model.gpt: d_ff must be a positive integer (got ", config.d_ff, "), or left out for 4·d_model");
  try {
    config.Validate();
  } catch (const Interrupted&) {
    throw;
  } catch (const Error& e) {
    fail("model.gpt: ", e.what());
  }
  push(L, config);
  return 1;
}

int shape_for(lua_State* L) {
  Args args(L, 1, "model.shape_for", {"params", "aspect", "head_dim", "vocab", "ctx"});
  model::ShapeOptions options;
  options.params = args.number("params");
  if (args.push("aspect") == LUA_TSTRING) {
    std::string aspect = lua_tostring(L, -1);
    if (aspect != "chinchilla")
      fail("model.shape_for: aspect must be a number (d_model / n_layer) or \"chinchilla\" (got \"", aspect, "\")");
    options.chinchilla = true;
  } else {
    options.aspect = args.number("aspect", options.aspect);
  }
  lua_pop(L, 1);
  options.head_dim = args.integer("head_dim", 0);
  options.vocab = args.integer("vocab", options.vocab);
  options.ctx = args.integer("ctx", options.ctx);
  push(L, model::shape_for(options));
  return 1;
}

template <int64_t GptConfig::*Field>
int field(lua_State* L) {
  lua_pushinteger(L, check<GptConfig>(L, 1).*Field);
  return 1;
}

template <int64_t (GptConfig::*Method)() const>
int count(lua_State* L) {
  lua_pushinteger(L, (check<GptConfig>(L, 1).*Method)());
  return 1;
}

int flops_per_token(lua_State* L) {
  lua_pushnumber(L, check<GptConfig>(L, 1).flops_per_token(model::FlopConvention::Kaplan));
  return 1;
}

int flops_per_token_palm(lua_State* L) {
  lua_pushnumber(L, check<GptConfig>(L, 1).flops_per_token(model::FlopConvention::PaLM));
  return 1;
}

int hardware_flops_per_token(lua_State* L) {
  lua_pushnumber(L, check<GptConfig>(L, 1).hardware_flops_per_token());
  return 1;
}

int to_table(lua_State* L) {
  const GptConfig& c = check<GptConfig>(L, 1);
  lua_createtable(L, 0, 6);
  const std::pair<const char*, int64_t> fields[] = {{"vocab", c.vocab},     {"ctx", c.ctx},
                                                    {"d_model", c.d_model}, {"n_layer", c.n_layer},
                                                    {"n_head", c.n_head},   {"d_ff", c.ff()}};
  for (const auto& [name, value] : fields) {
    lua_pushinteger(L, value);
    lua_setfield(L, -2, name);
  }
  return 1;
}

// m.vocab = 5: a shape is a value (train.run and a study's runs hold it), so it is read-only; say so
// and give the model.gpt call that makes the changed one.
int assign(lua_State* L) {
  const GptConfig& c = check<GptConfig>(L, 1);
  const std::string key = luaL_tolstring(L, 2, nullptr);
  const std::string value = luaL_tolstring(L, 3, nullptr);
  lua_pop(L, 2);
  const std::pair<const char*, int64_t> fields[] = {{"vocab", c.vocab},     {"ctx", c.ctx},
                                                    {"d_model", c.d_model}, {"n_layer", c.n_layer},
                                                    {"n_head", c.n_head},   {"d_ff", c.ff()}};
  std::string call;
  bool known = false;
  for (const auto& [name, current] : fields) {
    const bool changed = key == name;
    known = known || changed;
    if (!changed && std::string(name) == "d_ff" && current == 4 * c.d_model) continue;  // the default
    call += str(call.empty() ? "" : ", ", name, " = ", changed ? value : std::to_string(current));
  }
  if (!known)
    fail("a model is read-only and has no field '", key, "' to set; its shape is vocab, ctx, d_model, n_layer, n_head "
         "and d_ff: make another with model.gpt{ ", call, " } with the field changed");
  fail("a model is read-only: ", key, " cannot be set on it; make another with the field changed: model.gpt{ ", call,
       " }");
}

int equal(lua_State* L) {
  const GptConfig& a = check<GptConfig>(L, 1);
  const GptConfig& b = check<GptConfig>(L, 2);
  lua_pushboolean(L, a.vocab == b.vocab && a.ctx == b.ctx && a.d_model == b.d_model &&
                         a.n_layer == b.n_layer && a.n_head == b.n_head && a.ff() == b.ff());
  return 1;
}

}  // namespace

int open_model(lua_State* L) {
  Class<GptConfig>::define(
      L,
      "A GPT-2-style decoder shape: pre-LayerNorm blocks, learned positions, output tied to the "
      "token embedding. Fields vocab, ctx, d_model, n_layer, n_head, d_ff; counts params, "
      "non_embedding_params, embedding_params; FLOPs flops_per_token (Kaplan), flops_per_token_palm.",
      {{"table", &bound<to_table>, "config:table() -> a plain table of the shape's fields"}},
      {{"vocab", &bound<field<&GptConfig::vocab>>, "vocabulary size V"},
       {"ctx", &bound<field<&GptConfig::ctx>>, "context length T"},
       {"d_model", &bound<field<&GptConfig::d_model>>, "width d"},
       {"n_layer", &bound<field<&GptConfig::n_layer>>, "number of blocks L"},
       {"n_head", &bound<field<&GptConfig::n_head>>, "attention heads"},
       {"d_ff", &bound<count<&GptConfig::ff>>, "MLP width (default 4·d_model)"},
       {"head_dim", &bound<count<&GptConfig::head_dim>>, "d_model / n_head"},
       {"params", &bound<count<&GptConfig::params>>,
        "all parameters, embeddings included, output tied to the token embedding (Chinchilla's N)"},
       {"non_embedding_params", &bound<count<&GptConfig::non_embedding_params>>,
        "parameters without token and position embeddings (Kaplan's N): L·(12d² + 13d) + 2d for d_ff = 4d"},
       {"embedding_params", &bound<count<&GptConfig::embedding_params>>, "V·d + T·d"},
       {"flops_per_token", &bound<flops_per_token>,
        "training FLOPs per token, Kaplan convention: 6N + 6·n_layer·ctx·d_model (N non-embedding)"},
       {"flops_per_token_palm", &bound<flops_per_token_palm>,
        "training FLOPs per token, PaLM/nanoGPT convention: 6N + 12·n_layer·ctx·d_model (N non-embedding)"},
       {"hardware_flops_per_token", &bound<hardware_flops_per_token>,
        "FLOPs per token including the output logits, for MFU: 6(N + V·d) + 12·n_layer·ctx·d_model (N non-embedding)"}});
  luaL_getmetatable(L, TypeName<GptConfig>::value);
  lua_pushcfunction(L, &bound<equal>);
  lua_setfield(L, -2, "__eq");
  lua_pushcfunction(L, &bound<assign>);
  lua_setfield(L, -2, "__newindex");
  lua_pop(L, 1);

  new_module(L, "Model shapes: model.gpt{...} and model.shape_for{...}.",
             {{"gpt", &bound<gpt>,
               "model.gpt{ vocab =, ctx =, d_model =, n_layer =, n_head = [, d_ff = 4·d_model] } -> GptConfig"},
              {"shape_for", &bound<shape_for>,
               "model.shape_for{ params = N [, aspect = 64 | \"chinchilla\"] [, head_dim =] [, vocab = 256] "
               "[, ctx = 256] } -> a GptConfig for that non-embedding N: of the shapes (whole heads, "
               "aspect d_model / n_layer within a factor of 2 of the one asked for) whose N is within 5% of "
               "the target, or within 2% of the nearest where none is that near, the one nearest the "
               "aspect (1e12 at aspect 64 gives d_model 17472, n_layer 273); aspect = \"chinchilla\": the shape "
               "of Chinchilla's table (595k to 202M non-embedding) nearest in N, however far (1e6 gives 595k), for "
               "targets from half its smallest to twice its largest; for an exact shape use model.gpt"}});
  return 1;
}

}  // namespace scalelab::lua
