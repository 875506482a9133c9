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
    "model.gpt: d_model (100) must be divisible by n_head (3)")
  t.raises(function() model.gpt{ vocab = 0, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 } end,
    "model.gpt: vocab must be a positive integer (got 0)")
  t.raises(function() model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 0, n_head = 2 } end,
    "model.gpt: n_layer must be a positive integer (got 0)")
  t.raises(function() model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layers = 2, n_head = 2 } end,
    "unknown key 'n_layers'; did you mean 'n_layer'?")
  t.raises(function() model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2, d_ff = -1 } end,
    "d_ff must be a positive integer")
  -- The error points at the calling line of this script.
  t.raises(function() model.gpt{ vocab = 1 } end, "test_model.lua:")
end)

t.test("shape_for's errors name model.shape_for, and a target below its smallest shape gets that shape", function()
  t.raises(function() model.shape_for{ params = -1 } end,
    "model.shape_for: params must be a positive number of non-embedding parameters (got -1)")
  local message = t.raises(function() model.shape_for{ params = 10, vocab = 1000, ctx = 32 } end,
    "model.shape_for: params = 10 is below the smallest shape of aspect 64 (d_model / n_layer): the smallest is "
      .. "GPT(L=1, d=32, heads=2, ff=128, ctx=32, vocab=1000;")
  local smallest = tonumber(message:match("model%.shape_for{ params = (%d+) }"))
  t.ok(message:find("give params >= " .. smallest .. ", a smaller aspect, or an exact shape with model.gpt{...}", 1,
    true), message)
  -- The fix it gives works, with the vocab and ctx asked for.
  local m = model.shape_for{ params = smallest, vocab = 1000, ctx = 32 }
  t.eq(m.non_embedding_params, smallest)
  t.eq(m.vocab, 1000)
  t.ok(model.shape_for{ params = 10, aspect = 1 })
end)

t.test("a model is read-only: assigning a field says so and gives the model.gpt call of the changed one", function()
  local m = model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }
  t.raises(function() m.vocab = 5 end, "a model is read-only: vocab cannot be set on it; make another with the "
    .. "field changed: model.gpt{ vocab = 5, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }")
  t.raises(function() m.d_ff = 128 end, "model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2, d_ff = 128 }")
  t.raises(function() m.layers = 3 end, "a model is read-only and has no field 'layers' to set")
  t.eq(m.vocab, 256)
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
