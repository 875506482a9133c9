-- Sweeps: the points each constructor makes, the combinators, and the errors.
local t = require "scalelab.test"

t.test("log and linear spacing include both ends", function()
  local v = sweep.log(1e5, 1e7, 3)
  t.eq(#v, 3)
  t.near(v[1], 1e5)
  t.near(v[2], 1e6, 1e-12)
  t.eq(v[3], 1e7)
  t.eq(#sweep.log(5, 5, 1), 1)
  local l = sweep.linear(0, 1, 5)
  t.near(l[3], 0.5)
  -- One value is the low end, as for sweep.log.
  t.eq(#sweep.linear(3, 7, 1), 1)
  t.eq(sweep.linear(3, 7, 1)[1], 3)
  t.eq(sweep.log(3, 7, 1)[1], 3)
  t.raises(function() sweep.log(0, 10, 3) end, "lo and hi must be positive")
  t.raises(function() sweep.log(1, 10, 0) end, "n must be a whole number >= 1")
end)

t.test("counts run up to sweep.max_values = 10000 values, and one more is an error; an IsoFLOP curve needs 2 sizes", function()
  t.eq(sweep.max_values, 10000)
  t.eq(#sweep.log(1, 2, 10000), 10000)
  t.eq(#sweep.linear(0, 1, 10000), 10000)
  t.raises(function() sweep.log(1, 2, 10001) end, "more than a sweep can train (at most 10000)")
  t.raises(function() sweep.linear(0, 1, 10001) end, "more than a sweep can train (at most 10000)")
  t.eq(#sweep.isoflop { budgets = 1e15, points = 10000 }, 10000)
  t.raises(function() sweep.isoflop { budgets = 1e15, points = 10001 } end, "points must be a whole number of sizes per budget from 2 to 10000")
  t.eq(#sweep.isoflop { budgets = 1e15, points = 2 }, 2)
  t.raises(function() sweep.isoflop { budgets = 1e15, points = 1 } end, "points must be a whole number of sizes per budget from 2 to 10000")
  local one = sweep.list { { N = 1e6, D = 2e7 } }
  t.eq(#sweep.seeds(one, 10000), 10000)
  t.raises(function() sweep.seeds(one, 10001) end, "n must be a whole number from 1 to 10000")
end)

t.test("grid is every N with every D", function()
  local s = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7, 1e8, 1e9 } }
  t.eq(#s, 6)
  t.eq(s.kind, "grid")
  t.eq(s.points[4].N, 1e6)
  t.eq(s.points[4].D, 1e7)
  local r = sweep.grid { N = { 1e5, 1e6 }, tokens_per_param = 20 }
  t.eq(r.points[2].D, 2e7)
  t.raises(function() sweep.grid { N = { 1e5 } } end, "give D (token counts) or tokens_per_param")
  t.raises(function() sweep.grid { N = { 1e5 }, D = {} } end, "sweep.grid: D is empty")
  t.raises(function() sweep.grid { N = { -1 }, D = { 1 } } end, "N[1] must be positive")
end)

t.test("isoflop points sit on their budget: 6·N·D = C", function()
  local s = sweep.isoflop { budgets = { 1e15, 1e17 }, points = 5 }
  t.eq(#s, 10)
  t.eq(#sweep.isoflop { budgets = { 1e15, 1e17 } }, 10)  -- 5 sizes a budget by default
  for p in s:each() do t.near(6 * p.N * p.D, p.budget, 1e-12) end
  -- The default ratio {4, 100} tokens per parameter bounds the sizes.
  t.near(s.points[1].D / s.points[1].N, 100, 1e-9)
  t.near(s.points[5].D / s.points[5].N, 4, 1e-9)
  local fixed = sweep.isoflop { budgets = 1e15, sizes = { 1e6, 2e6, 4e6 } }
  t.eq(#sweep.isoflop { budgets = 1e15, N = { 1e6, 2e6 } }, 2)
  t.raises(function() sweep.isoflop { budgets = 1e15, N = { 1e6 }, sizes = { 1e6 } } end, "sizes and N are the same key")
  t.eq(#fixed, 3)
  t.near(fixed.points[2].D, 1e15 / 12e6)
  local by_c = sweep.isoflop { budgets = { 1e15, 1e16 }, N = function(C) return { C ^ 0.5 / 10, C ^ 0.5 } end }
  t.near(by_c.points[3].N, 1e7)
  t.raises(function() sweep.isoflop { budgets = { 1e15 }, N = { 1e6 }, points = 3 } end, "not both")
  t.raises(function() sweep.isoflop { budget = { 1e15 } } end, "unknown key 'budget'; did you mean 'budgets'?")
end)

t.test("data-constrained points: D = U·epochs over every size", function()
  local s = sweep.data_constrained { unique_tokens = { 1e6, 4e6 }, epochs = { 1, 4, 16 }, N = { 1e5, 1e6 } }
  t.eq(#s, 12)
  for p in s:each() do t.eq(p.D, p.U * p.epochs) end
  t.raises(function() sweep.data_constrained { unique_tokens = { 1e6 }, N = { 1e5 } } end, "epochs is required")
end)

t.test("product, zip, filter, seeds, values, list", function()
  local base = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7 } }
  local lrs = sweep.values { lr = { 1e-3, 3e-3, 1e-2 } }
  local p = sweep.product(base, lrs)
  t.eq(#p, 6)
  t.eq(p.points[2].lr, 3e-3)
  t.eq(p.kind, "grid")
  -- Hyperparameters first: still an IsoFLOP sweep, with its budgets (its default fits follow).
  local iso = sweep.product(lrs, sweep.isoflop { budgets = { 1e18, 1e19 }, points = 3 })
  t.eq(iso.kind, "isoflop")
  t.eq(#iso.budgets, 2)
  local z = sweep.zip(base, sweep.list { { seed = 7 }, { seed = 8 } })
  t.eq(z.kind, "grid")  -- the first sweep's kind, as for its budgets
  t.eq(z.points[2].seed, 8)
  local seeded = sweep.zip(sweep.isoflop { budgets = { 1e18, 1e19 }, points = 2 }, sweep.list { {}, {}, {}, { seed = 2 } })
  t.eq(seeded.kind, "isoflop")
  t.eq(seeded.budgets[2], 1e19)
  t.eq(z.points[2].N, 1e6)
  t.raises(function() sweep.zip(base, lrs) end, "zip needs equal lengths")
  t.raises(function() sweep.product(base, base) end, "both sweeps set 'N'")
  local f = sweep.filter(p, function(q) return q.lr < 5e-3 end)
  t.eq(#f, 4)
  -- A filtered IsoFLOP sweep keeps its kind and budgets (its default fits follow them).
  local small = sweep.filter(sweep.isoflop { budgets = { 1e18, 1e19 }, points = 3 }, function(q) return q.N < 1e8 end)
  t.eq(small.kind, "isoflop")
  t.eq(#small.budgets, 2)
  t.eq(small.budgets[1], 1e18)
  local s = sweep.seeds(base, 3)
  t.eq(#s, 6)
  t.eq(s.points[3].seed, 3)
  t.eq(s.points[4].seed, 1)
  t.eq(#base:seeds { 11, 12 }, 4)
  -- Seeds are whole numbers a double holds exactly: up to 2^53 - 1.
  t.eq(base:seeds { 2 ^ 53 - 1 }.points[1].seed, 2 ^ 53 - 1)
  t.raises(function() base:seeds { 2 ^ 53 } end, "seeds[1] must be a whole number from 0 to 2^53 - 1 = 9007199254740991 "
    .. "(the store keeps numbers as doubles")
  t.eq(#sweep.filter(base, function() return false end), 0)
  t.ok(tostring(p):find("Sweep%(grid: 6 points%)"))
  t.raises(function() sweep.list { 5 } end, "point 1 must be a table")
end)

t.test("an empty sweep says which sweep function made no points, where, and why", function()
  local here = debug.getinfo(1, "S").short_src
  local function line() return debug.getinfo(2, "l").currentline end
  local base = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7 } }
  local none, at_filter = sweep.filter(base, function(p) return p.N > 1e9 end), line()
  t.eq(#none, 0)
  local filtered = string.format("sweep.filter at %s:%d kept no point of its grid sweep (2 points; its function "
    .. "returned false or nil for every one)", here, at_filter)
  t.eq(none.empty_reason, filtered)
  t.ok(tostring(none):find(filtered, 1, true), tostring(none))
  -- A product with an empty side names that side and its own reason.
  local product, at_product = sweep.product(sweep.values { lr = { 1e-3 } }, none), line()
  t.eq(product.empty_reason, string.format("sweep.product at %s:%d: its argument 2 (kind grid) has no points: %s", here,
    at_product, filtered))
  local listed, at_list = sweep.list {}, line()
  t.eq(listed.empty_reason, string.format("sweep.list at %s:%d was given no points", here, at_list))
  local seeded, at_seeds = sweep.seeds(none, 2), line()
  t.eq(seeded.empty_reason, string.format("sweep.seeds at %s:%d: its sweep has no points: %s", here, at_seeds, filtered))
  t.ok(sweep.zip(listed, listed).empty_reason:find("sweep.zip at " .. here, 1, true))
  -- A sweep with points has no such reason.
  t.eq(base.empty_reason, nil)
  t.eq(sweep.filter(base, function() return true end).empty_reason, nil)
end)

t.test("a nil among sweep.product's or sweep.zip's sweeps is an error, not the end of the list", function()
  local g = sweep.grid { N = { 1e6, 2e6 }, D = { 1e7 } }
  local v = sweep.values { lr = { 1e-3, 2e-3 } }
  local missing  -- a misspelled variable: ipairs stopped at it and left v out, silently
  t.raises(function() sweep.product(g, missing, v) end, "sweep.product: argument 2 must be a sweep (got nil)")
  t.raises(function() sweep.zip(g, missing, v) end, "sweep.zip: argument 2 must be a sweep (got nil)")
  t.raises(function() sweep.zip(missing, v) end, "sweep.zip: argument 1 must be a sweep (got nil)")
  t.eq(#sweep.product(g, v), 4)
  t.eq(#sweep.zip(sweep.values { seed = { 1, 2 } }, v), 2)
end)

t.test("sweep.describe_point of no table and s.each() with a dot name the mistake", function()
  local g = sweep.grid { N = { 1e6 }, D = { 1e7 } }
  t.raises(function() sweep.describe_point(5) end,
    "sweep.describe_point(point): point must be a table such as { N = 1e6, D = 2e7 } (got an integer)")
  t.raises(function() for _ in g.each() do end end, "sweep:each(): call it with a colon, s:each(), on a sweep (got nil)")
  local n = 0
  for _ in g:each() do n = n + 1 end
  t.eq(n, 1)
  -- A function given to each, as to a foreach, was never called: the mistake is named.
  t.raises(function() g:each(function(p) n = n + 1 end) end,
    "sweep:each() takes no arguments (got a function): it returns an iterator, for point in s:each() do ... end")
  t.eq(n, 1)
end)

t.test("whole-number values near 2^63 do not wrap in a sweep's products", function()
  local big = math.maxinteger // 2 + 1  -- 2^62
  t.eq(sweep.data_constrained { unique_tokens = big, epochs = 4, sizes = 1e7 }.points[1].D, 2.0 ^ 64)
  t.eq(sweep.grid { N = 3037000500, tokens_per_param = 3037000500 }.points[1].D, 3037000500.0 ^ 2)
  t.ok(sweep.isoflop { budgets = 1e20, sizes = { big } }.points[1].D > 0)
  local line = sweep.linear(1, math.maxinteger, 3)
  t.ok(line[2] > 4e18 and line[3] > 9e18, table.concat(line, " "))
  -- Below 2^53 the values are as before.
  t.eq(sweep.data_constrained { unique_tokens = 1000, epochs = 4, sizes = 1e7 }.points[1].D, 4000)
  t.eq(math.type(sweep.data_constrained { unique_tokens = 1000, epochs = 4, sizes = 1e7 }.points[1].D), "integer")
  t.eq(sweep.linear(0, 10, 3)[2], 5.0)
end)

t.test("a nil among a sweep's values is an error naming its place, not the end of the list", function()
  -- { small, medium, large } with medium misspelt: ipairs stopped at the nil and the sweep left out
  -- every value after it, without a word (sweep.grid{ N = { 1e6, nil, 3e6 } } made one point).
  local unset
  local where = "a variable not set?"
  t.eq(#sweep.grid { N = { 1e6, 3e6 }, D = 1e7 }, 2)
  t.eq(t.raises(function() sweep.grid { N = { 1e6, unset, 3e6 }, D = 1e7 } end, "sweep.grid: N[2] is nil"):find(where, 1, true) ~= nil, true)
  t.raises(function() sweep.grid { N = 1e6, D = { 1e7, unset, 3e7 } } end, "sweep.grid: D[2] is nil")
  t.raises(function() sweep.grid { N = 1e6, tokens_per_param = { unset, 20 } } end, "tokens_per_param[1] is nil")
  t.raises(function() sweep.isoflop { budgets = { 1e12, unset, 1e13 } } end, "sweep.isoflop: budgets[2] is nil")
  t.raises(function() sweep.isoflop { budgets = 1e12, sizes = { 1e5, 2e5, unset, 4e5 } } end, "sizes[3] is nil")
  -- A function's list is named by its budget as the sweep prints budgets.
  t.raises(function() sweep.isoflop { budgets = 1e12, sizes = function() return { 1e5, unset, 4e5 } end } end,
    "sweep.isoflop: sizes(1e12)[2] is nil")
  t.raises(function() sweep.isoflop { budgets = 3e13, N = function() return "1e5" end } end,
    "sweep.isoflop: N(3e13) must be a number or a list of numbers (got a string)")
  t.raises(function() sweep.data_constrained { unique_tokens = 1e6, epochs = { 1, unset, 4 }, N = 1e5 } end,
    "sweep.data_constrained: epochs[2] is nil")
  t.raises(function() sweep.list { { N = 1e6, D = 1e7 }, unset, { N = 2e6, D = 1e7 } } end, "sweep.list: points[2] is nil")
  t.raises(function() sweep.values { lr = { 1e-3, unset, 3e-3 } } end, "sweep.values: lr[2] is nil")
  t.raises(function() sweep.seeds(sweep.list { { N = 1e6, D = 1e7 } }, { 1, unset, 3 }) end, "seeds[2] is nil")
  -- A table of names is no list of numbers (it said "N is empty").
  t.raises(function() sweep.grid { N = { small = 1e6 }, D = 1e7 } end, "sweep.grid: N is a list, found the key 'small'")
end)

t.done()
