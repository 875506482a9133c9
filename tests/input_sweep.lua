-- An adversarial sweep over every function and method the Lua library exposes (session 24): each is
-- called with no arguments, with each value of a battery (nil, booleans, 0, -1, 2.5, NaN, ±inf, 1e300,
-- the integer limits, empty / odd / numeric strings, empty tables, lists, tables of unknown keys,
-- functions, coroutines, and every kind of library object) in each argument place and as self (a
-- method called with a dot); option tables are mutated one key at a time (left out, misspelt, each
-- battery value, an unknown key, a positional value), and a closed store's methods are called. Each
-- call's outcome is logged: OK, ERR (a Lua error naming the function), or FLAG (a Lua-internal error
-- such as "attempt to index", a C++ name, a message that names no function, an os.exit).
-- Not run by ctest (it is a survey: what it found is tested in tests/lua/test_input_errors.lua).
-- Run it in an empty folder (it makes files named after the battery's strings, "x", "12", ...):
--   mkdir /tmp/sweep && cd /tmp/sweep && SW_LOG=/tmp/sweep/log SW_DIR=/tmp/sweep $REPO/build/scalelab $REPO/tests/input_sweep.lua
--   grep -a FLAG /tmp/sweep/log
-- A crash leaves a START line without its END: run it again and it goes on after that call.
local LOGPATH, DIR, FILTER = os.getenv("SW_LOG"), os.getenv("SW_DIR"), os.getenv("SW_FILTER")
os.execute("mkdir -p " .. DIR)
local done = {}
do
  local f = io.open(LOGPATH)
  if f then
    for line in f:lines() do
      local id = line:match("^START (.*)$")
      if id then done[id] = true end
    end
    f:close()
  end
end
local LOG = io.open(LOGPATH, "a")
local real_exit = os.exit
os.exit = function(...) error("SWEEP: os.exit called with " .. tostring((...)), 0) end

-- Objects -----------------------------------------------------------------------------------
local corpus = data.synthetic{ kind = "markov", vocab = 32, order = 1, seed = 3, tokens = 20000, document_tokens = 512 }
local gpt = model.gpt{ vocab = 32, ctx = 16, d_model = 16, n_layer = 1, n_head = 2 }
local function new_sampler() return data.sampler{ corpus = corpus, tokens = 4096, seq_len = 16, batch = 4 } end
local sampler = new_sampler()
local held = sampler:held_out()
local txt = DIR .. "/a.txt"
do local f = io.open(txt, "w"); for i = 1, 200 do f:write("the quick brown fox jumps over the lazy dog ", i, "\n\n") end; f:close() end
local textcorpus = data.files{ txt, documents = "paragraph", out = DIR .. "/a.tok" }
local bpecorpus = data.bpe{ corpus = textcorpus, vocab = 280, out = DIR .. "/a.bpe.tok" }
local tok = bpecorpus.tokenizer
local st = store.open(DIR .. "/obj.db")
local law = fit.published.chinchilla
local dlaw = fit.published.datablations
local obs = fit.observations{ N = { 1e6, 2e6, 4e6, 8e6, 1e6, 2e6, 4e6, 8e6 }, D = { 1e8, 1e8, 1e8, 1e8, 4e8, 4e8, 4e8, 4e8 },
                              loss = { 4, 3.8, 3.7, 3.65, 3.7, 3.5, 3.4, 3.35 } }
local rr = train.simulate{ model = gpt, steps = 10, batch = 4, seq_len = 16 }
local answer = plan.optimal{ compute = 1e21, law = law }
local question = plan.optimal{ compute = 1e21 }
local cost = plan.cost{ flops = 1e21 }
local alloc = plan.allocation{ N = { k = 0.1, a = 0.5 } }
local sw = sweep.grid{ N = { 1e6, 2e6 }, D = { 1e8 } }
local fig = plot.figure{ title = "x" }
local objects = {
  GptConfig = gpt, Corpus = corpus, Sampler = sampler, HeldOut = held, Tokenizer = tok, Store = st, Law = law,
  Observations = obs, RunResult = rr, Answer = answer, Question = question, Cost = cost, Allocation = alloc,
  Sweep = sw, Figure = fig,
}

-- The battery -----------------------------------------------------------------------------
local function battery()
  local b = {
    { "nil", nil }, { "true", true }, { "0", 0 }, { "-1", -1 }, { "2.5", 2.5 }, { "nan", 0 / 0 }, { "inf", math.huge },
    { "-inf", -math.huge }, { "1e300", 1e300 }, { "maxint", math.maxinteger }, { "minint", math.mininteger },
    { "1e-300", 1e-300 },
    { "str", "x" }, { "emptystr", "" }, { "oddstr", "a\0b\n'\"%s%d\\" }, { "numstr", "12" },
    { "emptytable", {} }, { "array", { 1, 2, 3 } }, { "unknownkey", { zzbogus = 1 } }, { "func", function() end },
    { "co", coroutine.create(function() end) },
  }
  local names = {}
  for k in pairs(objects) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do b[#b + 1] = { "obj:" .. k, objects[k] } end
  return b
end
local BAT = battery()

-- Running one case --------------------------------------------------------------------------
local counts = { ok = 0, err = 0, flag = 0 }
local function classify(name, ok, msg)
  if ok then return "OK" end
  if type(msg) ~= "string" then return "FLAG nonstring:" .. type(msg) end
  local short = name:match("[.:]([%w_]+)$") or name
  local bad = {}
  if msg:find("SWEEP:", 1, true) then bad[#bad + 1] = "exit" end
  if msg:find("attempt to ", 1, true) then bad[#bad + 1] = "luaerror" end
  if msg:find("bad argument #", 1, true) then bad[#bad + 1] = "badarg" end
  if msg:find("std::", 1, true) or msg:find("basic_string", 1, true) or msg:find("stoi", 1, true)
     or msg:find("vector::", 1, true) or msg:find("out_of_range", 1, true) then bad[#bad + 1] = "cpp" end
  if msg:find("C stack overflow", 1, true) or msg:find("stack overflow", 1, true) then bad[#bad + 1] = "stack" end
  if not msg:find(short, 1, true) then bad[#bad + 1] = "noname" end
  if msg:find("stdlib/scalelab", 1, true) then bad[#bad + 1] = "libline" end
  if #bad > 0 then return "FLAG " .. table.concat(bad, ",") end
  return "ERR"
end

local function run(id, name, f)
  if FILTER and not id:find(FILTER, 1, true) then return end
  if done[id] then return end
  LOG:write("START ", id, "\n"); LOG:flush()
  local t0 = os.clock()
  local ok, msg = pcall(f)
  local c = classify(name, ok, msg)
  local dt = os.clock() - t0
  LOG:write("END ", id, " => ", c, dt > 5 and (" SLOW " .. string.format("%.1f", dt)) or "", " :: ",
            (tostring(msg):gsub("\n", "\\n"):gsub("%z", "<NUL>")):sub(1, 400), "\n")
  LOG:flush()
end

-- Generic battery on positional arguments ---------------------------------------------------
local function positional(name, f, template, opts)
  template = template or {}
  local n = math.max(#template, 1)
  if opts and opts.n then n = opts.n end
  run(name .. "()", name, function() return f() end)
  for pos = 1, n do
    for _, v in ipairs(BAT) do
      local args = {}
      for i = 1, n do args[i] = template[i] end
      if type(args[1]) == "function" and opts and opts.fresh then args[1] = args[1]() end
      args[pos] = v[2]
      run(name .. " #" .. pos .. "=" .. v[1], name, function() return f(table.unpack(args, 1, n)) end)
    end
  end
end

-- Mutations of an option table ---------------------------------------------------------------
local function deepcopy(t) local c = {}; for k, v in pairs(t) do c[k] = v end; return c end
local function options(name, f, make, pos_before)
  -- make() -> a valid option table; f(opts) calls the function
  local keys = {}
  for k in pairs(make()) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  run(name .. "{valid}", name, function() return f(make()) end)
  for _, k in ipairs(keys) do
    run(name .. "{-" .. tostring(k) .. "}", name, function() local o = make(); o[k] = nil; return f(o) end)
    if type(k) == "string" and #k > 2 then
      local miss = k:sub(1, -3) .. k:sub(-1) .. k:sub(-2, -2)
      if miss == k then miss = k .. "s" end
      run(name .. "{typo " .. k .. "->" .. miss .. "}", name, function()
        local o = make(); o[miss] = o[k]; o[k] = nil
        local ok, msg = pcall(f, o)
        if ok then error("SWEEP: typo accepted", 0) end
        if not tostring(msg):find("did you mean", 1, true) and not tostring(msg):find(k, 1, true) then
          error("SWEEP: no suggestion: " .. tostring(msg), 0)
        end
        error(msg, 0)
      end)
    end
    for _, v in ipairs(BAT) do
      run(name .. "{" .. tostring(k) .. "=" .. v[1] .. "}", name, function() local o = make(); o[k] = v[2]; return f(o) end)
    end
  end
  run(name .. "{+zzbogus}", name, function() local o = make(); o.zzbogus = 1; return f(o) end)
  run(name .. "{+[1]}", name, function() local o = make(); o[#o + 1] = 1; o[#o+1]=nil; o[99] = 1; return f(o) end)
end

-- Module functions: plain battery on every argument position ----------------------------------
local modules = { "model", "data", "train", "fit", "plan", "plot", "store", "sweep", "study" }
local skip = { ["study.script_options"] = false }
for _, m in ipairs(modules) do
  local fns = {}
  for k, v in pairs(_G[m]) do if type(v) == "function" then fns[#fns + 1] = k end end
  table.sort(fns)
  for _, k in ipairs(fns) do
    positional(m .. "." .. k, _G[m][k], nil, { n = 3 })
  end
end

-- Methods: battery on self and first argument -------------------------------------------------
local tnames = {}
for k in pairs(objects) do tnames[#tnames + 1] = k end
table.sort(tnames)
for _, tn in ipairs(tnames) do
  local o = objects[tn]
  local mt = getmetatable(o)
  local methods = {}
  if mt and mt.__methods then for k in pairs(mt.__methods) do methods[#methods + 1] = k end
  elseif type(o) == "table" then for k, v in pairs(o) do if type(v) == "function" then methods[#methods + 1] = k end end
    local idx = mt and mt.__index
    if type(idx) == "table" then for k, v in pairs(idx) do if type(v) == "function" then methods[#methods + 1] = k end end end
  end
  table.sort(methods)
  for _, meth in ipairs(methods) do
    if not (tn == "Store" and meth == "close") and not (tn == "Figure" and meth == "show") then
      local name = tn .. ":" .. meth
      run(name .. " dot()", name, function() return o[meth]() end)
      for _, v in ipairs(BAT) do
        run(name .. " self=" .. v[1], name, function() return o[meth](v[2]) end)
        run(name .. " #1=" .. v[1], name, function() return o[meth](o, v[2]) end)
        run(name .. " #2=" .. v[1], name, function() return o[meth](o, nil, v[2]) end)
      end
    end
  end
  -- properties: read an unknown one, write one
  run(tn .. ".zzbogus", tn .. ".zzbogus", function() return o.zzbogus end)
  run(tn .. ".set", tn .. ".zzbogus", function() o.zzbogus = 1 end)
end

-- Option tables ---------------------------------------------------------------------------
options("model.gpt", model.gpt, function() return { vocab = 32, ctx = 16, d_model = 16, n_layer = 1, n_head = 2 } end)
options("model.shape_for", model.shape_for, function() return { params = 1e6 } end)
options("data.synthetic", data.synthetic, function() return { kind = "markov", vocab = 32, order = 1, seed = 3, tokens = 20000 } end)
options("data.synthetic", data.synthetic, function() return { kind = "grammar", vocab = 32, seed = 3, tokens = 20000 } end)
options("data.sampler", data.sampler, function() return { corpus = corpus, tokens = 4096, seq_len = 16, batch = 4, unique_tokens = 2048, seed = 1, validation = 0.05 } end)
options("data.held_out", data.held_out, function() return { corpus = corpus, seq_len = 16, batch = 4, validation = 0.01 } end)
options("data.files", data.files, function() return { txt, documents = "line", out = DIR .. "/f.tok", name = "n" } end)
options("data.bpe", data.bpe, function() return { corpus = textcorpus, vocab = 270, out = DIR .. "/b2.tok", validation = 0.01 } end)
options("train.simulate", train.simulate, function() return { model = gpt, steps = 10, batch = 4, seq_len = 16, noise = 0.01, seed = 2, eval_interval = 64 } end)
options("train.run", train.run, function() return { model = gpt, data = new_sampler(), steps = 2, progress = false, threads = 1, eval_tokens = 64, lr = 1e-3 } end)
options("fit.observations", fit.observations, function() return { N = { 1e6, 2e6, 4e6 }, D = { 1e8, 2e8, 4e8 }, loss = { 4, 3.8, 3.6 }, U = { 1e8, 1e8, 1e8 } } end)
options("fit.chinchilla opts", function(o) return fit.chinchilla(obs, o) end, function() return { bootstrap = 2, seed = 1, huber_delta = 1e-3, starts = 2 } end)
options("fit.kaplan opts", function(o) return fit.kaplan(obs, o) end, function() return { form = "ND" } end)
options("fit.power_law", fit.power_law, function() return { x = { 1, 2, 4, 8 }, y = { 1, 1.5, 2.1, 2.9 }, input = "C", output = "N_opt" } end)
options("fit.effective", fit.effective, function() return { N = 1e9, D = 1e10, U = 1e9, law = dlaw } end)
options("fit.custom", fit.custom, function() return { params = { E = { 1, 2 }, a = { 0.3 } }, predict = function(p, x) return p.E + 1 / x.N ^ p.a end, inputs = { "N" } } end)
options("plan.optimal", plan.optimal, function() return { compute = 1e21, law = law, method = "auto" } end)
options("plan.optimal U", plan.optimal, function() return { compute = 1e21, law = dlaw, unique_tokens = 1e10 } end)
options("plan.optimal flops", plan.optimal, function() return { compute = 1e21, law = law, flops = { "kaplan", ctx = 2048, aspect = 64 } } end)
options("plan.loss", plan.loss, function() return { N = 1e9, D = 2e10, law = law } end)
options("plan.cost", plan.cost, function() return { flops = 1e21, gpu = "A100", gpus = 8, mfu = 0.4 } end)
options("plan.inference", plan.inference, function() return { loss = 2.2, inference_tokens = 1e12, law = law } end)
options("plan.compute_for", plan.compute_for, function() return { loss = 2.2, law = law } end)
options("plan.returns", plan.returns, function() return { unique_tokens = 1e10, law = dlaw } end)
options("plan.table", plan.table, function() return { params = { 1e9, 1e10 }, law = law } end)
options("plan.compare", plan.compare, function() return { compute = 1e21, law = law, candidates = { G = { N = 280e9, D = 300e9 } } } end)
options("plan.allocation", plan.allocation, function() return { N = { k = 0.1, a = 0.5 }, name = "x" } end)
options("sweep.grid", sweep.grid, function() return { N = { 1e6, 2e6 }, D = { 1e8 } } end)
options("sweep.isoflop", sweep.isoflop, function() return { budgets = { 1e15 }, sizes = { 1e6, 2e6 } } end)
options("sweep.isoflop2", sweep.isoflop, function() return { budgets = { 1e15 }, points = 3, ratio = { 4, 100 } } end)
options("sweep.data_constrained", sweep.data_constrained, function() return { unique_tokens = { 1e6 }, epochs = { 1, 2 }, sizes = { 1e6 } } end)
options("sweep.values", sweep.values, function() return { lr = { 1e-3, 2e-3 } } end)
options("plot.figure", plot.figure, function() return { title = "x", xlog = true, xrange = { 1, 10 }, legend = "top left", width = 640 } end)
options("store.open opts", function(o) return store.open(DIR .. "/opt.db", o) end, function() return { read_only = false, create = true, busy_timeout = 1 } end)
options("data.open opts", function(o) return data.open(DIR .. "/a.tok", o) end, function() return { verify = true } end)
options("law:predict", function(o) return law:predict(o) end, function() return { N = 1e9, D = 2e10 } end)
options("dlaw:predict", function(o) return dlaw:predict(o) end, function() return { N = 1e9, D = 2e10, U = 1e9 } end)
options("law:with", function(o) return law:with(o) end, function() return { E = 1.5 } end)
options("store:runs", function(o) return st:runs(o) end, function() return { study = "x", status = "done" } end)
options("plot.curves opts", function(o) return plot.curves(rr, o) end, function() return { x = "tokens", eval = true, title = "t" } end)
options("study", function(o) return study.study("sw_" .. tostring(os.clock()):gsub("%.", "_"))(o) end, function()
  return { sweep = sweep.grid{ N = { 1e6, 2e6 }, D = { 1e7 } }, backend = "simulated", store = DIR .. "/study.db",
           report = false, quiet = true, fits = {}, model = { vocab = 64, ctx = 64 } } end)

-- Positional with templates ------------------------------------------------------------------
positional("sweep.log", sweep.log, { 1, 10, 3 })
positional("sweep.linear", sweep.linear, { 1, 10, 3 })
positional("sweep.seeds", sweep.seeds, { sw, 2 })
positional("sweep.filter", sweep.filter, { sw, function() return true end })
positional("sweep.product", sweep.product, { sw, sweep.values{ lr = { 1 } } })
positional("sweep.zip", sweep.zip, { sw, sweep.values{ lr = { 1, 2 } } })
positional("plot.ticks", plot.ticks, { 1, 1000, true, "number" })
positional("fit.interval", fit.interval, { { 1, 2, 3 }, 0.9 })
positional("fit.objective", fit.objective, { law, obs, 1e-3 })
positional("fit.law", fit.law, { law, obs, {} })
positional("fit.law_of", fit.law_of, { "chinchilla", { E = 1 } })
positional("fit.extrapolate", fit.extrapolate, { law, obs, { below = 1e16 } })
positional("fit.check_options", fit.check_options, { "chinchilla", {} })
positional("data.unique_windows", data.unique_windows, { 2048, 20000, 4096, 16, 4 })
positional("plan.answer", plan.answer, { question, law })
positional("store.sha256", store.sha256, { "x" })
positional("store.open", store.open, { DIR .. "/p.db", {} })
positional("data.open", data.open, { DIR .. "/a.tok", {} })
positional("data.tokens_bin", data.tokens_bin, { DIR .. "/none.bin", {} })
positional("data.corpus", data.corpus, { DIR .. "/a.tok", {} })
positional("Law:optimal", function(...) return law:optimal(...) end, { 1e21 })
positional("Law:N_opt", function(...) return law:N_opt(...) end, { 1e21 })
positional("Corpus:document", function(...) return corpus:document(...) end, { 1 })
positional("Corpus:text", function(...) return textcorpus:text(...) end, { 1, 10 })
positional("Corpus:decode", function(...) return textcorpus:decode(...) end, { { 65, 66 } })
positional("Tokenizer:decode", function(...) return tok:decode(...) end, { { 65, 66 } })
positional("Tokenizer:token", function(...) return tok:token(...) end, { 65 })
positional("Store:curve", function(...) return st:curve(...) end, { 1 })
positional("Answer:interval", function(...) return answer:interval(...) end, { "N" })
positional("Answer:cost_on", function(...) return answer:cost_on(...) end, { "A100" })
positional("Allocation:N_at", function(...) return alloc:N_at(...) end, { 1e21 })
positional("Sampler:times_seen", function(...) return sampler:times_seen(...) end, { 1 })

-- After close --------------------------------------------------------------------------------
local closed = store.open(DIR .. "/closed.db")
closed:close()
for _, meth in ipairs{ "runs", "studies", "curve", "run", "text", "export", "close", "check_file", "start_run", "finish_run", "plan_runs", "record_study", "reset_run", "check_study" } do
  run("closed Store:" .. meth, "Store:" .. meth, function() return closed[meth](closed, 1) end)
end
run("closed Store.path", "Store.path", function() return closed.path end)

LOG:write("FINISHED\n")
LOG:close()
print("finished")
real_exit(0)
