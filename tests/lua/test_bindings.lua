-- The boundary between Lua and C++ (bindings/binding.h): objects' lifetimes, what a wrong argument
-- is told, callbacks into Lua from C++.
local t = require "scalelab.test"

local dir = t.scratch("bindings")

t.test("an object whose __gc was called is destroyed once and says so when used", function()
  local s = store.open(dir .. "/gc.db")
  local gc = getmetatable(s).__gc
  gc(s)
  t.raises(function() return s:runs() end, "cannot read 'runs': this Store was destroyed (its __gc metamethod was called)")
  t.raises(function() return s.path end, "this Store was destroyed")
  t.eq(tostring(s), "Store (destroyed)")
  gc(s)  -- a second call destroys nothing
  local obs = fit.observations{ N = { 1e6, 2e6, 4e6 }, D = { 1e8, 2e8, 4e8 }, loss = { 4, 3.8, 3.6 } }
  getmetatable(obs).__gc(obs)
  t.raises(function() return fit.chinchilla(obs) end,
           "fit.chinchilla: argument #1: this Observations was destroyed")
  -- Nor does the collector destroy them again.
  s, obs = nil, nil
  collectgarbage()
  collectgarbage()
end)

t.test("an object of another type is named by its type, and a method called with a dot says to use a colon", function()
  local law = fit.published.chinchilla
  local s = store.open(dir .. "/types.db")
  -- "got userdata" said nothing of what was passed.
  t.raises(function() return s.runs(law) end, "store:runs: argument #1 must be a results store, got Law")
  t.raises(function() return fit.law(s, {}) end, "fit.law: argument #1 must be a scaling law, got Store")
  -- law.predict{...} passes the table where the law belongs.
  local message = t.raises(function() return law.predict{ N = 1e9, D = 2e10 } end,
    "law:predict: argument #1 must be a scaling law, got table; call the method with a colon: law:predict(...), "
    .. "not law.predict(...)")
  t.raises(function() return s.runs() end, "got nothing; call the method with a colon: store:runs(...)")
  -- A function that is not a method gives no such advice.
  message = t.raises(function() return fit.law({}, {}) end, "fit.law: argument #1 must be a scaling law, got table")
  t.ok(not message:find("colon", 1, true), message)
  s:close()
end)

t.test("a law called as a function says how to evaluate it, with its inputs and the numbers given", function()
  -- It said "attempt to call a Law value (local 'law')".
  local law = fit.published.chinchilla
  t.raises(function() return law(70e9, 1.4e12) end,
    "law(...): a law is not a function: its loss is law:predict{ N = 7e10, D = 1.4e12 } (and law:optimal(C) the "
    .. "compute-optimal run at C FLOP; help(law) lists the rest)")
  t.raises(function() return fit.published.datablations(1e9) end, "its loss is law:predict{ N = 1e9, D =, U = }")
  t.raises(function() return law() end, "its loss is law:predict{ N =, D = }")
  -- What it suggests works (numbers as the tool writes them, 7e10 rather than printf's 7e+10: still Lua).
  local hint = select(2, pcall(law, 70e9, 1.4e12))
  t.near(load("return law:predict" .. hint:match("law:predict(%b{})"), "hint", "t", { law = law })(),
    1.69 + 406.4 / 70e9 ^ 0.34 + 410.7 / 1.4e12 ^ 0.28, 1e-12)
  t.near(law:predict{ N = 7e10, D = 1.4e12 }, 1.69 + 406.4 / 70e9 ^ 0.34 + 410.7 / 1.4e12 ^ 0.28, 1e-12)
end)

t.test("a Lua data source that train.run refuses is not kept alive", function()
  local gpt = model.gpt{ vocab = 64, ctx = 32, d_model = 32, n_layer = 1, n_head = 2 }
  local seen = setmetatable({}, { __mode = "k" })
  local function refused(source, pattern)
    seen[source] = true
    t.raises(function() train.run{ model = gpt, data = source, steps = 1, progress = false } end, pattern)
  end
  refused({ vocab = 0, seq_len = 32, batch = 8 }, "train.run: data: vocab, seq_len and batch must be positive")
  refused({ vocab = 64, seq_len = 32 }, "train.run: data has no integer field batch")
  refused({ vocab = function() error("no vocab here") end, seq_len = 32, batch = 8 }, "no vocab here")
  collectgarbage()
  collectgarbage()
  -- The refused sources stayed referenced from the registry, with all they held.
  t.eq(next(seen), nil, "a refused data source is still referenced")
end)

t.test("objects where the plots and plan expect something else: a RunResult plots, a law where runs go is named", function()
  local r = train.simulate{ model = model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 },
                            tokens = 1e7, batch = 8, seq_len = 64 }
  -- plot.curves(r) took the RunResult for a list of runs, and found none.
  local one = plot.curves(r)
  t.ok(tostring(one):find("Training curve", 1, true), tostring(one))
  local law = fit.published.chinchilla
  t.raises(function() plot.loss_compute(law) end, "plot.loss_compute: expected the runs to plot (a study, a store, "
           .. "s:observations(), or a list of { N =, D =, loss = }), got Law")
  t.raises(function() plot.curves(model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }) end,
           "got GptConfig")
  t.raises(function() plan.optimal{ law = r, compute = 1e21 } end, "(got RunResult)")
end)

-- The host records the coroutines being resumed (so that Ctrl-C reaches a loop inside one): its
-- coroutine.resume and coroutine.wrap must behave as Lua's own.
t.test("coroutine.resume and coroutine.wrap behave as Lua's own: values, yields, errors and their call sites", function()
  local gen = coroutine.wrap(function(a, b)
    local c = coroutine.yield(a + b)
    return c * 2
  end)
  t.eq(gen(1, 2), 3)
  t.eq(gen(10), 20)
  local co = coroutine.create(function(x) return x, coroutine.yield(x + 1) end)
  t.eq(select("#", coroutine.resume(co, 1)), 2)
  local ok, a, b = coroutine.resume(co, "back")
  t.ok(ok and a == 1 and b == "back", tostring(a) .. " " .. tostring(b))
  t.eq(coroutine.status(co), "dead")
  t.eq(select(2, coroutine.resume(co)), "cannot resume dead coroutine")
  local boom = coroutine.wrap(function() error("boom") end)
  local line = debug.getinfo(1, "l").currentline + 1
  local _, message = pcall(function() boom() end)
  t.ok(message:find(string.format("^.-test_bindings.lua:%d: .-test_bindings.lua:%d: boom$", line, line - 2)), message)
  local _, object = pcall(coroutine.wrap(function() error({ code = 7 }) end))
  t.eq(object.code, 7)
  t.raises(function() coroutine.resume("x") end, "bad argument #1 to 'resume' (coroutine expected, got string)")
  t.raises(function() coroutine.wrap(5) end, "bad argument #1 to 'wrap' (function expected, got number)")
  -- Nested: a wrapped generator resumed from inside another coroutine.
  local outer = coroutine.wrap(function()
    local inner = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
    coroutine.yield(inner() + inner() + inner())
  end)
  t.eq(outer(), 6)
end)

t.test("a value that is not a table of named arguments is told the function's real calling form", function()
  -- Args said function{ key = ... } wherever the table went: s:text("runs_csv", 5) was told to write
  -- store:text{ study = ... }, which then failed on its format.
  local s = store.open(dir .. "/forms.db")
  t.raises(function() return s:text("runs_csv", 5) end,
    "store:text expects a table of named arguments, like store:text(format [, { study =, status = }]); got number")
  t.raises(function() return s:export(dir .. "/x.csv", "runs") end,
    "store:export expects a table of named arguments, like store:export(path [, { what =, study =, status = }]); "
    .. "got string")
  t.raises(function() return s:runs(5) end, "store:runs expects a table of named arguments, like "
    .. "store:runs{ study =, status = }; got number")
  t.raises(function() return s:plan_runs{ 5 } end, "store:plan_runs expects a table of named arguments, like "
    .. "store:plan_runs{ { study =, hash =, ... }, ... }, a table per run; got number")
  t.raises(function() return store.open(dir .. "/forms.db", true) end, "store.open expects a table of named "
    .. "arguments, like store.open(path [, { read_only =, create =, busy_timeout = }]); got boolean")
  s:close()
  -- Made from the table's place where the function gives no form: first, later, or the first after self.
  t.raises(function() return model.gpt(5) end, "model.gpt expects a table of named arguments, like "
    .. "model.gpt{ vocab = ... }; got number")
  t.raises(function() return data.open("x.bin", 5) end, "data.open expects a table of named arguments, like "
    .. "data.open(..., { verify = ... }); got number")
  local law = fit.published.chinchilla
  t.raises(function() return law:predict(5) end, "law:predict expects a table of named arguments, like "
    .. "law:predict{ N = ... }; got number")
end)

t.test("a library object passed where a number, a string or a table belongs is named by its type", function()
  local law = fit.published.chinchilla
  local gpt = model.gpt { vocab = 32, ctx = 16, d_model = 16, n_layer = 1, n_head = 2 }
  -- Each said "got userdata", which did not say what was passed.
  t.raises(function() return model.gpt { vocab = law, ctx = 16, d_model = 16, n_layer = 1, n_head = 2 } end,
    "model.gpt: vocab must be a number (got Law)")
  t.raises(function() return data.synthetic(gpt) end, "data.synthetic expects a table of named arguments, like "
    .. "data.synthetic{ kind = \"markov\", vocab = 256, seed = 1 }; got GptConfig")
  t.raises(function() return train.simulate(law) end, "; got Law")
  t.raises(function() return fit.interval(gpt) end, "fit.interval: values must be an array of numbers (got GptConfig)")
  t.raises(function() return law:with(gpt) end, "law:with must be a table { name = value, ... } (got GptConfig)")
  t.raises(function() return store.open(law) end, "(got Law)")
  t.raises(function() return plot.figure(law) end, "plot.figure: expected a table of named arguments, got Law")
  t.raises(function() return data.files(gpt) end, "data.files expects a path or a table of paths and options, got GptConfig")
  -- nil is still named as Lua names it.
  t.raises(function() return law:with(nil) end, "law:with must be a table { name = value, ... } (got nil)")
end)

t.done()
