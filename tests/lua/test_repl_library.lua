-- The Lua half of the REPL: pretty printing and completion.
local t = require "scalelab.test"
local repl = require "scalelab.repl"

t.test("pretty prints scalars, arrays, records, nesting, cycles and limits", function()
  t.eq(pretty(1), "1")
  t.eq(pretty(2.0), "2.0")
  t.eq(pretty("text"), "text")
  t.eq(pretty({ "a", 1 }), '{"a", 1}')
  t.eq(pretty({ b = 2, a = 1, [10] = true }), "{[10] = true, a = 1, b = 2}")
  t.eq(pretty({ x = { y = { z = { w = 1 } } } }), "{x = {y = {z = {...1 item}}}}")
  t.eq(pretty({ x = { y = { z = { w = 1, v = 2 } } } }), "{x = {y = {z = {...2 items}}}}")
  local cyclic = {}
  cyclic.self = cyclic
  t.eq(pretty(cyclic), "{self = <cycle>}")
  local long = {}
  for i = 1, 50 do long[i] = i end
  t.ok(pretty(long):find("...(20 more)", 1, true))
  local wide = {}
  for i = 1, 12 do wide["key" .. i] = string.rep("x", 10) end
  t.ok(pretty(wide):find("\n  key1 = ", 1, true), "long tables break into lines")
  t.ok(pretty(model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }):find("^GPT%("))
  t.raises(function() pretty(1, { colour = true }) end, "unknown option 'colour'")
end)

t.test("completion covers globals, fields, metatables and bound objects", function()
  local function has(list, word)
    for _, w in ipairs(list) do if w == word then return true end end
    return false
  end
  t.ok(has(repl.complete("mod"), "model"))
  t.ok(has(repl.complete("string.fo"), "string.format"))
  t.ok(has(repl.complete("model.sh"), "model.shape_for"))
  t.ok(has(repl.complete("whi"), "while"))
  cfg = model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }
  t.ok(has(repl.complete("cfg.non"), "cfg.non_embedding_params"))
  t.ok(has(repl.complete("cfg:ta"), "cfg:table"))
  t.ok(not has(repl.complete("cfg:"), "cfg:params"), "':' offers only methods")
  local base = { inherited = 1 }
  child = setmetatable({ own = 2 }, { __index = base })
  t.ok(has(repl.complete("child.inh"), "child.inherited"))
  local s = "abc"
  t.ok(#repl.complete("nosuchthing.x") == 0)
  t.ok(#repl.complete("cfg.nosuchfield.") == 0, "a failing index completes to nothing")
end)


t.test("help lists every documented function with its whole signature", function()
  local lines = {}
  local saved = print
  print = function(...) lines[#lines + 1] = table.concat({ ... }, "\t") end
  local ok, message = pcall(help, data)
  print = saved
  assert(ok, message)
  local listing = table.concat(lines, "\n")
  -- data.sampler's signature spans two lines of its documentation; the listing joins them.
  t.ok(listing:find("[, order_seed = seed] [, validation = 0.01] } -> Sampler", 1, true), listing)
  lines = {}
  print = function(...) lines[#lines + 1] = table.concat({ ... }, "\t") end
  ok, message = pcall(help, plot)
  print = saved
  assert(ok, message)
  -- A first sentence broken after "where" is not cut there.
  t.ok(table.concat(lines, "\n"):find("where _x is a subscript", 1, true))
end)

t.done()
