-- The model module from Lua: counts against hand-computed values, validation messages, shape_for.
local t = require "scalelab.test"

t.test("GPT-2 124M counts", function()
  local m = model.gpt{ vocab = 50257, ctx = 1024, d_model = 768, n_layer = 12, n_head = 12 }
  t.eq(m.params, 124439808)
  t.eq(m.non_embedding_params, 85056000)
  t.eq(m.embedding_params, 50257 * 768 + 1024 * 768)
  t.eq(m.d_ff, 3072)
  t.eq(m.head_dim, 64)
  t.near(m.flops_per_token, 6 * 85056000 + 6 * 12 * 1024 * 768)
  t.near(m.flops_per_token_palm, 6 * 85056000 + 12 * 12 * 1024 * 768)
  t.eq(tostring(m), "GPT(L=12, d=768, heads=12, ff=3072, ctx=1024, vocab=50257; 124M params, 85.1M non-embedding)")
end)

t.test("shapes compare by value and convert to tables", function()
  local a = model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }
  local b = model.gpt(a:table())
  t.ok(a == b)
  t.ok(a ~= model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 3, n_head = 2 })
end)

t.test("validation names the key and the fix", function()
  t.raises(function() model.gpt{ vocab = 256, ctx = 64, d_model = 100, n_layer = 2, n_head = 3 } end,
    "d_model (100) must be divisible by n_head (3)")
  t.raises(function() model.gpt{ vocab = 0, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 } end,
    "vocab must be a positive integer (got 0)")
  t.raises(function() model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layers = 2, n_head = 2 } end,
    "unknown key 'n_layers'; did you mean 'n_layer'?")
  t.raises(function() model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2, d_ff = -1 } end,
    "d_ff must be a positive integer")
  -- The error points at the calling line of this script.
  t.raises(function() model.gpt{ vocab = 1 } end, "test_model.lua:")
end)

t.test("shape_for lands within 25% of the target over three decades", function()
  for _, target in ipairs({ 1e6, 1e7, 1e8, 1e9 }) do
    local m = model.shape_for{ params = target }
    t.ok(math.abs(math.log(m.non_embedding_params / target)) < 0.25,
      string.format("target %g got %s", target, tostring(m)))
  end
  local c = model.shape_for{ params = 85e6, aspect = "chinchilla", vocab = 32000, ctx = 2048 }
  t.eq(c.d_model, 768)
  t.eq(c.vocab, 32000)
  t.raises(function() model.shape_for{ params = 1e6, aspect = "square" } end, "aspect must be a number")
end)

t.test("help documents modules, functions and objects", function()
  local docs = require("scalelab.native.core").docs()
  t.ok(docs[model.gpt]:find("vocab", 1, true))
  local meta = getmetatable(model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 })
  t.ok(docs[meta.__properties.params]:find("Chinchilla", 1, true))
end)

t.done()
