-- What a study user meets before and after the runs, each in its own scalelab process: the default
-- backend trains (and so needs data); declarations are checked before anything trains (backend,
-- questions, hyperparameters, sweep-point keys, the corpus's size); script options are strict (exit
-- status 2 with the usage); a study with failed runs exits 1 after its report, and a caller that
-- catches errors gets the Study with the failures counted; a report section that cannot be
-- produced says why in plain words; errors point at the user's line; `scalelab results` says what
-- is wrong with its arguments.
local t = require "scalelab.test"
local native = require "scalelab.native.study"

local root = t.scratch("study-checks")

local read, write = t.read_file, t.write_file

local function exists(path) return read(path) ~= nil end

-- Runs `scalelab script args` in `dir`; returns the exit code, stdout and stderr together, and stderr.
local function scalelab(dir, script, args) return t.run(dir, script .. " " .. (args or "")) end

local function script(body) return t.script(root, body) end

-- No library location (stdlib/scalelab/...) in what the user reads.
local function no_internal(text)
  t.ok(not text:find("scalelab/study/", 1, true) and not text:find("scalelab/plot", 1, true)
    and not text:find("results.lua", 1, true) and not text:find("analysis.lua", 1, true), "internal location in:\n" .. text)
end

t.test("help(study.study) names every key a study and its model spec accept", function()
  local dir = t.fresh_dir(root)
  local _, help_text = scalelab(dir, [[-e 'help(study.study)']])
  -- The keys the study accepts, as its unknown-key error lists them.
  for _, declaration in ipairs { [[study "x" { bogus = 1 }]],
      [[study "x" { model = { bogus = 1 }, sweep = sweep.list{ { N = 1e5, D = 1e6 } }, backend = "simulated" }]] } do
    local code, out = scalelab(dir, "-e '" .. declaration .. "'")
    t.eq(code, 1, out)
    local valid = out:match("unknown key 'bogus' %(valid keys: ([^)]+)%)")
    t.ok(valid, out)
    for key in (valid or ""):gmatch("[%w_]+") do
      t.ok(help_text:find("%f[%w_]" .. key .. "%f[^%w_]"), "help(study.study) names the key " .. key .. ":\n" .. help_text)
    end
  end
  -- The backend kinds a study accepts, "law" among them (scripts/approaches.lua uses it).
  t.ok(help_text:find('kind = "law"', 1, true), help_text)
end)

t.test("the default backend trains: without data the study says to give data or ask for simulated", function()
  local dir = script([[
study "x" {
  sweep = sweep.isoflop{ budgets = { 1e13 }, sizes = { 1e5, 2e5, 4e5 } },
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:1: study: backend \"auto\" trains models on data", 1, true), out)
  t.ok(out:find("backend = \"simulated\"", 1, true), out)
  no_internal(out:match("scalelab: [^\n]*"))  -- the message; the traceback below it is for debugging
end)

t.test("an executor that is not one is refused at declaration: no store is made and nothing is left beside it", function()
  -- executor = "slurm" was refused only once the study had made its store, recorded its plan and
  -- written its script's copy beside it, which it left there.
  for _, case in ipairs { { '"slurm"', 'got "slurm"' }, { "{ run = print }", "got a table" } } do
    local dir = script(string.format([[
study "x" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = { kind = "law" },
  jobs = 2,
  executor = %s,
  fits = {},
}
]], case[1]))
    for _, args in ipairs { "--dry-run", "" } do
      local code, out = scalelab(dir, "s.lua", args)
      t.eq(code, 1, out)
      t.ok(out:find("s.lua:5: study: executor must be \"local\" (the default: worker processes on this machine) or a "
        .. "table with an execute(batch) method (" .. case[2] .. ")", 1, true), out)
    end
    local listing = io.popen("ls '" .. dir .. "'"):read("a")
    t.eq(listing, "s.lua\n", "nothing made beside the script")
  end
end)

t.test("a store, checkpoints or report path with a line break is refused at declaration, as its figures are", function()
  -- store = "a\nb.db" made a store, its lock, checkpoints and report under names with a line break,
  -- and the report's figures were refused by plot.study_figures after every run.
  for _, case in ipairs { { "store", "store" }, { "checkpoints", "folder" }, { "report", "report" } } do
    local dir = script(string.format([[
study "x" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = { kind = "law" },
  %s = "runs\nx",
  fits = {},
}
]], case[1]))
    for _, args in ipairs { "--dry-run", "" } do
      local code, out = scalelab(dir, "s.lua", args)
      t.eq(code, 1, out)
      t.ok(out:find(string.format("s.lua:4: study: %s = 'runs\\nx' holds a control character (\\n); name the %s without "
        .. "line breaks, tabs or other control characters", case[1], case[2]), 1, true), out)
    end
    local listing = io.popen("ls '" .. dir .. "'"):read("a")
    t.eq(listing, "s.lua\n", "nothing made beside the script")
  end
end)

t.test("a store, checkpoints or report path under ~ is refused at declaration: Lua does not expand it", function()
  -- store = "~/runs/x.db" made a folder named '~' in the current folder and the store in it.
  for _, key in ipairs { "store", "checkpoints", "report" } do
    local dir = script(string.format([[
study "x" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = { kind = "law" },
  %s = "~/runs/x",
  fits = {},
}
]], key))
    for _, args in ipairs { "--dry-run", "" } do
      local code, out = scalelab(dir, "s.lua", args)
      t.eq(code, 1, out)
      t.ok(out:find(string.format("s.lua:4: study: %s = \"~/runs/x\": ~ is not the home folder in a Lua string (only a "
        .. "shell expands it), and this would make a folder named '~' in the current one; write %s = "
        .. "os.getenv(\"HOME\") .. \"/runs/x\", or \"./~/runs/x\" for a folder that is named ~", key, key), 1, true), out)
    end
    local listing = io.popen("ls '" .. dir .. "'"):read("a")
    t.eq(listing, "s.lua\n", "nothing made beside the script")
  end
end)

t.test("an unknown backend is refused at declaration, even in a dry run, with the nearest name", function()
  local dir = script([[
study "x" {
  sweep = sweep.isoflop{ budgets = { 1e13 }, sizes = { 1e5, 2e5, 4e5 } },
  backend = "tpu",
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:3: study: backend: \"tpu\" is not a backend; did you mean \"cpu\"?", 1, true), out)
  t.ok(not exists(dir .. "/x.db"))
  dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = { kind = "simulatd" },
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:3: study: backend.kind = \"simulatd\" is not a backend; did you mean \"simulated\"?", 1, true), out)
end)

-- The traceback below an error message: its frames, one a line.
local function frames(out)
  local list = {}
  for line in (out:match("stack traceback:\n(.*)") or ""):gmatch("[^\n]+") do list[#list + 1] = line:gsub("^%s+", "") end
  return list
end

t.test("a bad declaration: a script error at the key's line, one prefix, a traceback from the user's call", function()
  -- backend.law lacks B: the message names the key path once, at the line of law =.
  local dir = script([[
local x = 1
study "bad" {
  sweep = sweep.grid{ N = { 1e8 }, D = { 1e9 } },
  backend = {
    kind = "simulated",
    law = { E = 1.7, A = 400, alpha = 0.34, beta = 0.28 },
  },
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.eq(out:match("^[^\n]*"), "scalelab: s.lua:6: study: backend.law.B must be a number "
    .. "(the simulated law is E + A/N^alpha + B/D^beta)")
  -- Declarations of a line each: the key at fault is on the study's own line, not a later one.
  local lines = script([[
study "a" { sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } }, backend = "simulated", jobs = 0 }
study "b" { sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } }, backend = "simulated", jobs = 2 }
]])
  local lines_code, lines_out = scalelab(lines, "s.lua", "--dry-run")
  t.eq(lines_code, 1, lines_out)
  t.eq(lines_out:match("^[^\n]*"), "scalelab: s.lua:1: study: jobs must be at least 1 (got 0)")
  -- The traceback starts at the user's call: no frame of the library's checks, no C error, no tail calls.
  t.eq(table.concat(frames(out), "\n"), "s.lua:2: in main chunk")
  -- Inside the user's own function, the user's frames are all kept (and still none of the library's).
  dir = script([[
local function declare(points)
  local s = study "bad" {
    sweep = sweep.grid{ N = points, D = { 1e9 } },
    backend = "simulated",
    fits = { "chinchila" },
  }
  return s
end
declare({ 1e8 })
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("^scalelab: s.lua:5: study: fits: unknown fit 'chinchila'; did you mean 'chinchilla'%?"), out)
  local list = frames(out)
  t.eq(list[1], "s.lua:2: in local 'declare'", out)
  t.eq(list[2], "s.lua:9: in main chunk", out)
  t.eq(#list, 2, out)
  -- A key of the study table itself: the same rule.
  dir = script([[
study "bad" {
  sweep = sweep.grid{ N = { 1e8 }, D = { 1e9 } },
  backend = "simulated",
  jbos = 2,
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("^scalelab: s.lua:4: study: unknown key 'jbos'; did you mean 'jobs'%?"), out)
  t.eq(table.concat(frames(out), "\n"), "s.lua:1: in main chunk")
  -- A helper of the declaration (sweep.grid, written in Lua) shows by its name, as a C function does.
  dir = script([[
study "bad" {
  sweep = sweep.grid{ N = { 1e8 }, D = "many" },
  backend = "simulated",
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("^scalelab: s.lua:2: sweep.grid: D must be a number or a list of numbers %(got a string%)"), out)
  t.eq(table.concat(frames(out), "\n"), "[scalelab]: in function 'sweep.grid'\ns.lua:2: in main chunk")
  -- A number in quotes: the error says how to write it.
  dir = script([[
study "bad" {
  sweep = sweep.grid{ N = { 1e8 }, D = "1e9" },
  backend = "simulated",
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("sweep.grid: D must be a number or a list of numbers (got a string); write it without quotes: D = 1e9",
    1, true), out)
  -- And inside a list (a list of budgets): the element named by its index.
  t.raises(function() sweep.isoflop{ budgets = { 1e10, "3e10" }, sizes = { 1e4, 2e4 } } end,
    "sweep.isoflop: budgets[2] must be a number (got a string); write it without quotes: budgets[2] = 3e10")
  t.raises(function() sweep.isoflop{ budgets = { 1e10 }, sizes = { 1e4, " 2e4" } } end,
    "sweep.isoflop: sizes[2] must be a number (got a string); write it without quotes: sizes[2] = 2e4")
  t.raises(function() sweep.grid{ N = { 1e8 }, D = { "lots" } } end, "sweep.grid: D[1] must be a number (got a string)")
  t.ok(not select(2, pcall(sweep.grid, { N = { 1e8 }, D = { "lots" } })):find("quotes", 1, true))
end)

t.test("a bad call that ends the user's function (a tail call) is an error at its own line, not its caller's", function()
  -- `return f{...}` replaced the user's frame by f's when f was written in Lua: its errors, located at
  -- the first frame outside the library, named the line that called the user's function.
  for _, case in ipairs {
    { [[return sweep.grid{ N = { 1e8 }, D = "many" }]], "sweep.grid: D must be a number or a list of numbers (got a string)" },
    { [[return data.sampler{ corpus = 3, tokens = 100 }]], "data.sampler: corpus: expected a corpus" },
    { [[return plan.answer(3)]], "plan.answer(questions, law): questions must be a Question or a table of Questions" },
    { [[return fit.table(3)]], "fit.table(law): law must be a fitted or published law" },
    { [[return plot.gnuplot(3)]], "plot.gnuplot(script): script must be a string of gnuplot commands" },
    -- A method of the library's Lua objects too.
    { [[return sweep.grid{ N = { 1e8 }, D = { 1e9 } }:each(1)]], "sweep:each() takes no arguments (got an integer)" },
    { [[return train.run{ model = 3 }]], "train.run: model must be a model shape" },  -- C: it always kept the line
    -- The study's name, given to the module itself (its __call).
    { [[return study(3)]], "study expects a name: study \"my-study\" { ... } (got an integer)" },
    -- A name of spaces only is none (it made a store named "__.db"); an empty one is said so.
    { [[return study("  ") { sweep = sweep.grid{ N = { 1e8 }, D = { 1e9 } } }]],
      "study expects a name: study \"my-study\" { ... } (got \"  \", only spaces)" },
    { [[return study("")]], "study expects a name: study \"my-study\" { ... } (got an empty string)" },
    -- The study's checks find the key at fault in the table written at the call: at its own line.
    { "return study \"bad\" {\n    sweep = sweep.grid{ N = { 1e8 }, D = { 1e9 } },\n    jbos = 2,\n  }",
      "study: unknown key 'jbos'; did you mean 'jobs'?", line = 4 },
  } do
    local dir = script("local function declare()\n  " .. case[1] .. "\nend\n\ndeclare()\n")
    local code, out = scalelab(dir, "s.lua", "--dry-run")
    t.eq(code, 1, out)
    local expected = "scalelab: s.lua:" .. (case.line or 2) .. ": " .. case[2]
    t.eq(out:sub(1, #expected), expected, case[1])
    -- The traceback has the user's function and its caller, and nothing of the library.
    local list = frames(out)
    t.eq(list[#list - 1], "s.lua:2: in local 'declare'", out)
    t.eq(list[#list], "s.lua:" .. (5 + select(2, case[1]:gsub("\n", ""))) .. ": in main chunk", out)
    no_internal(out)
  end
end)

t.test("a backend that cannot train here: the dry run says so, a run stops before training", function()
  if train.backend_available("cuda") then t.skip("this machine has a CUDA device") end
  t.eq(train.backend_available("cpu"), true)
  t.eq(train.backend_available("auto"), true)
  t.raises(function() train.backend_available("tpu") end, 'unknown backend "tpu"')
  local dir = script([[
study "x" {
  data = data.synthetic{ kind = "markov", vocab = 16, seed = 1, tokens = 1e6 },
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e5 } },
  backend = "cuda",
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("note: backend cuda cannot train on this machine (", 1, true), out)
  t.ok(out:find("on the GPU (assumed 1e14 FLOP/s for backend cuda)", 1, true), out)
  code, out = scalelab(dir, "s.lua")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:4: study x: backend \"cuda\" cannot train on this machine (", 1, true), out)
  t.ok(out:find("1 run is still to train", 1, true), out)
  t.ok(not out:find("run 1", 1, true), "nothing was started: " .. out)
end)

t.test("a corpus of few documents: the study warns once that its split holds out far more than asked, workers never", function()
  -- 3 files of 1000 bytes: validation = 0.01 holds out a whole file, a third of the tokens. The dry run
  -- lists it among the plan's warnings; a run says it once, before training, and its workers (each a
  -- process that makes the runs' samplers) say nothing of it.
  local dir = script([[
for i = 1, 3 do
  local f = assert(io.open("doc" .. i .. ".txt", "wb"))
  f:write(string.rep(string.char(96 + i) .. "bcdefghi\n", 100))
  f:close()
end
local native = require "scalelab.native.study"
-- The local executor's workers, one by one, each with a log kept (a finished run's log is removed).
local kept = {
  execute = function(self, batch)
    for i, run in ipairs(batch.runs) do
      local command = batch.command(run)
      batch.started(run, "kept")
      native.spawn { argv = command.argv, env = command.env, log = "worker" .. i .. ".log" }
      local _, code, signal = native.wait(true)
      batch.finished(run, batch.collect(run, code, signal))
    end
  end,
}
study "few" {
  data = data.files{ "doc1.txt", "doc2.txt", "doc3.txt", name = "three", out = "three.tok" },
  models = { aspect = 16, vocab = 256, ctx = 16 },
  sweep = sweep.grid{ N = { 2e4, 4e4 }, D = { 1024 } },
  hyper = { batch = 4 },
  backend = "cpu",
  executor = kept,
  fits = {},
}
]])
  local warning = "warning: corpus three: validation = 0.01 holds out 1 of 3 documents, 33.3% of its tokens"
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("\n" .. warning, 1, true), out)
  local _, count = out:gsub("holds out 1 of 3", "")
  t.eq(count, 1, out)
  code, out = scalelab(dir, "s.lua")
  t.eq(code, 0, out)
  t.ok(out:find("study few: " .. warning, 1, true), out)
  _, count = out:gsub("holds out 1 of 3", "")
  t.eq(count, 1, out)
  for i = 1, 2 do
    local log = read(dir .. "/worker" .. i .. ".log") or ""
    t.ok(log:find("scalelab worker", 1, true), log)
    t.ok(not log:find("holds out", 1, true), log)
  end
end)

t.test("questions, hyperparameters and sweep-point keys are checked at declaration", function()
  local dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = "simulated",
  questions = { "how big?", 42 },
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:4: study: questions[1] is not a question (got a string \"how big?\")", 1, true), out)
  t.ok(out:find("plan.optimal{ compute = 1e21 }", 1, true), out)
  -- A question asked with law = is an answer: the study brings the law.
  dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = "simulated",
  questions = { plan.optimal{ compute = 1e21, law = fit.published.chinchilla } },
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("questions[1] is not a question (got an Answer); write a question as plan.optimal{ compute = 1e21 } "
    .. "(help(plan) lists the others), without law =: the study answers its questions with the laws it fits", 1, true), out)
  -- A nil among the questions or the fits (a variable not set) left out every one after it, as
  -- ipairs stopped there: the study answered one question of two, fitted one law of two, silently.
  dir = script([[
local later
study "x" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5 }, D = { 1e7, 2e7 } },
  backend = "simulated",
  questions = { plan.optimal{ compute = 1e21 }, later, plan.optimal{ compute = 1e22 } },
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:5: study: questions[2] is nil (a variable not set?), with values after it", 1, true), out)
  dir = script([[
local later
study "x" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5 }, D = { 1e7, 2e7 } },
  backend = "simulated",
  fits = { "approach1", later, "chinchilla" },
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:5: study: fits[2] is nil (a variable not set?), with names after it: give a fit's name there "
    .. "(valid: approach1,", 1, true), out)
  -- A fit's options are checked as the study is declared, as the fit would check them once every run
  -- is done: the IsoFLOP analysis ignored an unknown key (bootstrapp = 10: 200 resamples), and a bad
  -- value left the fit unfitted after all the training, the study exiting 0.
  for _, case in ipairs {
    { fits = "{ isoflop = { bootstrapp = 10 } }",
      says = "study: fits.isoflop: unknown key 'bootstrapp'; did you mean 'bootstrap'? (valid keys: bootstrap, seed)" },
    { fits = "{ approach2 = { budget = { 1e15 } } }", says = "study: fits.approach2: budget is the study's own" },
    { fits = "{ isoflop = { bootstrap = 10 } }", says = "study: fits.isoflop: bootstrap = 10 resamples are too few" },
    { fits = "{ chinchilla = { bootstrap = -1 } }", says = "study: fits.chinchilla: bootstrap" },
    { fits = "{ approach3 = { startz = 10 } }", says = "study: fits.approach3: unknown key 'startz'; did you mean 'starts'?" },
    { fits = "{ approach1 = { loss = \"held_out\" } }", says = "study: fits.approach1: loss must be \"auto\", \"eval\" or \"train\"" },
    { fits = "{ kaplan = { form = \"NDC\" } }", says = "study: fits.kaplan: form must be" },
    { fits = "{ data_constrained = { huber_delta = 0 } }", says = "study: fits.data_constrained: huber_delta must be positive" },
    -- The same fit twice (by name and alias, or listed and given options) was fitted twice: the
    -- report showed it twice, one perhaps "Not fitted", and the questions took the first.
    { fits = "{ \"isoflop\", \"chinchilla\", \"isoflop\" }", says = "study: fits lists 'isoflop' twice: give it once" },
    { fits = "{ \"approach2\", isoflop = { bootstrap = 20 } }",
      says = "study: fits lists 'approach2' and 'isoflop', which are the same fit (isoflop): give it once, with its "
        .. "options: fits = { isoflop = { ... } }" },
    { fits = "{ \"chinchilla\", \"approach3\" }", says = "study: fits lists 'chinchilla' and 'approach3', which are the same fit (chinchilla)" },
  } do
    dir = script(string.format([[
study "x" {
  sweep = sweep.isoflop{ budgets = { 1e15, 1e16 }, sizes = { 1e5, 2e5, 4e5 } },
  backend = "simulated",
  fits = %s,
}
]], case.fits))
    code, out = scalelab(dir, "s.lua", "--dry-run")
    t.eq(code, 1, out)
    t.ok(out:find("s.lua:4: " .. case.says, 1, true), out)
  end
  -- Options a fit takes pass (the study's own base = "single_epoch" too).
  dir = script([[
study "x" {
  sweep = sweep.isoflop{ budgets = { 1e15, 1e16 }, sizes = { 1e5, 2e5, 4e5 } },
  backend = "simulated",
  fits = { isoflop = { bootstrap = 20, seed = 2 }, chinchilla = { bootstrap = 0, free = { "A", "B" } },
           data_constrained = { base = "single_epoch", tie = { "alpha", "beta" } }, approach1 = { loss = "eval" },
           kaplan = { form = "ND" } },
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)

  dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = "simulated",
  hyper = {
    lr = -1,
  },
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:5: study: hyper.lr must be a positive learning rate (got -1)", 1, true), out)

  dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = "simulated",
  hyper = { lr = function(run) return 0 end },
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("study: hyper.lr must be a positive learning rate (got 0), for sweep point 1", 1, true), out)

  dir = script([[
study "x" {
  sweep = sweep.product(sweep.grid{ N = { 1e5 }, D = { 1e7 } }, sweep.values{ lrr = { 1e-3 }, foo = { 3 } }),
  backend = "simulated",
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:2: study: sweep point 1 (", 1, true), out)
  t.ok(out:find("has the key 'foo', which no part of a run reads (valid: ", 1, true)
    or out:find("has the key 'lrr', which no part of a run reads; did you mean 'lr'?", 1, true), out)
  t.ok(out:find("point_keys = {", 1, true), out)

  -- A value of one's own, declared, is a point key the model or hyper functions may read.
  dir = script([[
study "x" {
  sweep = sweep.product(sweep.grid{ N = { 1e5 }, D = { 1e7 } }, sweep.values{ width = { 1, 2 } }),
  point_keys = { "width" },
  backend = "simulated",
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("2 runs planned", 1, true), out)
end)

t.test("a models = key is named as written, at its line, and a name near \"chinchilla\" is suggested", function()
  -- models = "chinchila" said 'study: model must be ... (got "chinchila")' at the study's first line:
  -- another key than the one written, and no suggestion, as unknown keys and backends have.
  for _, case in ipairs {
    { 'models = "chinchila"', 's.lua:4: study: models must be a table, a function of N, or "chinchilla" (got '
      .. '"chinchila"; did you mean "chinchilla"?)' },
    { 'model = "gpt2"', 's.lua:4: study: model must be a table, a function of N, or "chinchilla" (got "gpt2")' },
    { 'models = { shape = "chinchila" }', 's.lua:4: study: models.shape must be "chinchilla" or a function of N (got '
      .. '"chinchila"; did you mean "chinchilla"?)' },
    { 'models = { aspect = "chinchila" }', 's.lua:4: study: models.aspect must be a number (d_model / n_layer) or '
      .. '"chinchilla" (got "chinchila"; did you mean "chinchilla"?)' },
    { 'models = { aspct = 16 }', "s.lua:4: study: models: unknown key 'aspct'; did you mean 'aspect'?" },
  } do
    local dir = script(string.format([[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = "simulated",
  %s,
}
]], case[1]))
    local code, out = scalelab(dir, "s.lua", "--dry-run")
    t.eq(code, 1, out)
    t.ok(out:find(case[2], 1, true), case[1] .. ": " .. out)
  end
end)

t.test("an error in a hyper or eval function of the run names the function, the sweep point and the run's fields", function()
  -- It said only "s.lua:6: attempt to perform arithmetic on a nil value (field 'NN')", located at the
  -- function: not which rule, for which run, nor what the run it is given holds.
  local dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e5, 1e6 }, D = { 1e7 } },
  backend = "simulated",
  fits = {},
  hyper = {
    lr = function(run) return 1e-3 * (run.parms / 1e6) ^ -0.2 end,
  },
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:6: study: hyper.lr, a function of the run, failed for sweep point 1 (N=100k D=10M): s.lua:6: "
    .. "attempt to perform arithmetic on a nil value (field 'parms'); it is given the planned run, whose fields are N, "
    .. "N_fit, batch, ", 1, true), out)
  t.ok(out:find(", params, ", 1, true) and out:find("(did you mean run.params for run.parms?)", 1, true), out)
  t.ok(not exists(dir .. "/x.db"), "nothing is made")
  -- An eval setting, and a rule a sweep point carries, alike; an error of the user's own is kept as it is.
  dir = script([[
study "x" {
  sweep = sweep.list{ { N = 1e5, D = 1e7, lr = function(run) error("no rate for " .. run.N) end } },
  backend = "simulated",
  fits = {},
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:2: study: the sweep point's lr, a function of the run, failed for sweep point 1 (N=100k D=10M): "
    .. "s.lua:2: no rate for 100000.0; it is given the planned run, whose fields are ", 1, true), out)
  t.ok(not out:find("did you mean", 1, true), out)
  dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = "simulated",
  fits = {},
  eval = { interval = function(run) return run.tokns // 20 end },
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:5: study: eval.interval, a function of the run, failed for sweep point 1 (N=100k D=10M): ", 1, true), out)
  t.ok(out:find("(did you mean run.tokens for run.tokns?)", 1, true), out)
end)

t.test("bad script options exit 2 with the usage, and nothing trains", function()
  local dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = "simulated",
}
print("RAN")
]])
  for _, args in ipairs { "--dryrun", "--bogus", "--jobs abc", "--jobs 0", "--jobs=-1", "-j", "extra" } do
    local code, out, err = scalelab(dir, "s.lua", args)
    t.eq(code, 2, args .. ": " .. out)
    t.ok(err:find("usage: scalelab SCRIPT.lua", 1, true), args .. ": " .. err)
    t.ok(not out:find("RAN", 1, true), args .. ": the script went on")
    t.ok(not exists(dir .. "/x.db"), args .. ": a store was made")
  end
  local _, _, err = scalelab(dir, "s.lua", "--dryrun")
  t.ok(err:find("unknown option '--dryrun'; did you mean '--dry-run'?", 1, true), err)
  local code, out = scalelab(dir, "s.lua", "--jobs 2 --dry-run -- --the-scripts-own")
  t.eq(code, 0, out)
  t.ok(out:find("1 run planned", 1, true), out)
  -- --help (-h): the usage and what each option does, status 0, nothing run.
  for _, args in ipairs { "--help", "-h" } do
    code, out = scalelab(dir, "s.lua", args)
    t.eq(code, 0, args .. ": " .. out)
    t.ok(out:find("usage: scalelab SCRIPT.lua", 1, true) and out:find("--dry-run, -n", 1, true), out)
    t.ok(not out:find("RAN", 1, true), args .. ": the script went on")
    t.ok(not exists(dir .. "/x.db"), args .. ": a store was made")
  end
end)

t.test("study.script_arguments: the script's own arguments after --, and its own --help in place of the study's", function()
  local dir = script([[
local own = study.script_arguments("HELP of the script\nusage: scalelab s.lua [-- x]")
print("OWN " .. #own .. " " .. table.concat(own, ","))
local plain = study.script_arguments()
print("PLAIN " .. #plain .. " " .. table.concat(plain, ","))
study "x" { sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } }, backend = "simulated", report = false, quiet = true }
]])
  for _, case in ipairs {
    { "", "OWN 0 " },
    { "--jobs 2 -- 0.02 b=3", "OWN 2 0.02,b=3" },
    { "--dry-run -- --help -h", "OWN 2 --help,-h" },     -- after --, the script's own
    { "-j -h -- 1", "OWN 1 1" },                          -- the value of -j is not the script's help
  } do
    local code, out = scalelab(dir, "s.lua", case[1])
    t.eq(code, case[1] == "-j -h -- 1" and 2 or 0, case[1] .. ": " .. out)
    if code == 0 then
      t.ok(out:find(case[2], 1, true) and out:find("PLAIN " .. case[2]:sub(5), 1, true), case[1] .. ": " .. out)
    end
  end
  -- --help or -h before --: the script's help, status 0, nothing else run; without a help text, the study's.
  for _, args in ipairs { "--help", "-h", "--jobs 2 --help -- 1" } do
    local code, out = scalelab(dir, "s.lua", args)
    t.eq(code, 0, args .. ": " .. out)
    t.ok(out:find("^HELP of the script\nusage: scalelab s.lua %[%-%- x%]\n$"), args .. ": " .. out)
  end
  local code, out = scalelab(script([[
local own = study.script_arguments()
print("RAN")
]]), "s.lua", "--help")
  t.eq(code, 0, out)
  t.ok(out:find("RAN", 1, true), out)  -- no help text: --help is left to the study, which this script has not
  -- Without a script (scalelab -e), there are none.
  code, out = scalelab(t.fresh_dir(root), "-e", [['print(#study.script_arguments("H"))']])
  t.eq(code, 0, out)
  t.ok(out:find("^0\n"), out)
end)

t.test("a study whose runs fail exits 1 after writing its report, which says why in plain words", function()
  local dir = script([[
study "x" {
  sweep = sweep.isoflop{ budgets = { 1e13 }, sizes = { 1e5, 2e5, 4e5 } },
  backend = function(run) if run.N > 3e5 then error("no accelerator here") end return { loss = 3 + 1e-6 * run.N } end,
  questions = { plan.optimal{ compute = 1e15 } },
}
print("AFTER")
]])
  local code, out = scalelab(dir, "s.lua")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:1: study x: 1 of 3 runs failed", 1, true), out)
  t.ok(not out:find("AFTER", 1, true), out)
  t.ok(exists(dir .. "/x.report.md"), "the report is written before the error")
end)

t.test("a diverged run is stored without a loss, and a rerun counts it apart from the done ones", function()
  local dir = script([[
study "x" {
  sweep = sweep.isoflop{ budgets = { 1e13 }, sizes = { 1e5, 2e5, 4e5 } },
  backend = function(run)
    if run.N > 3e5 then return { loss = 4.1551, status = "diverged" } end
    return { loss = 3 + 1e-6 * run.N }
  end,
}
]])
  local code, out = scalelab(dir, "s.lua")
  t.eq(code, 0, out)  -- a run that diverged is a result (the report names it), not a failure
  t.ok(out:find("N=385k D=4.33M C=1e13: diverged: the loss diverged", 1, true), out)
  -- The report's runs table says why a run did not finish.
  t.ok(read(dir .. "/x.report.md"):find("| diverged: the loss diverged (NaN or Inf) |", 1, true), read(dir .. "/x.report.md"))
  local store = require("scalelab.native.store").open(dir .. "/x.db", { read_only = true })
  local losses, statuses = {}, {}
  for _, r in ipairs(store:runs { study = "x" }) do
    statuses[#statuses + 1] = r.status
    if r.status == "diverged" then t.eq(r.loss, nil, "a diverged run's stored loss") end
    if r.status == "done" then losses[#losses + 1] = r.loss end
  end
  table.sort(statuses)
  t.eq(table.concat(statuses, ","), "diverged,done,done")
  t.eq(#losses, 2)
  store:close()
  t.ok(out:find("diverged N=385k D=4.33M C=1e13  ", 1, true) and not out:find("diverged N=385k D=4.33M C=1e13  loss", 1, true),
    "a diverged run's progress line shows no loss:\n" .. out)
  -- Finished, diverged or not: no run leaves its checkpoint or the thread-count note beside it.
  local listing = assert(io.popen("ls -A '" .. dir .. "/x.checkpoints'"))
  t.eq(listing:read("a"), "")
  listing:close()
  code, out = scalelab(dir, "s.lua")
  t.ok(out:find("study x: 3 runs, 2 done, 1 diverged (not trained again: lower their lr), 0 to", 1, true), out)
end)

t.test("a run's time: a resumed run's is both attempts', one that starts over its own, never less than the attempt took; its speed is the tokens trained over it", function()
  local dir = script([[
local clock = require("scalelab.native.study").clock
local function busy(seconds) local t0 = clock() while clock() - t0 < seconds do end end
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = function(run)
    busy(0.3)
    local seen = io.open("attempted")
    if not seen then io.open("attempted", "w"):close() error("the first attempt fails") end
    seen:close()
    return { loss = 3, resumed_from = 0.5 }
  end,
}
]])
  local code, out = scalelab(dir, "s.lua")
  t.eq(code, 1, out)
  code, out = scalelab(dir, "s.lua")
  t.eq(code, 0, out)
  local store = require("scalelab.native.store").open(dir .. "/x.db", { read_only = true })
  local runs = store:runs { study = "x" }
  store:close()
  t.eq(runs[1].status, "done")
  t.ok(runs[1].wall_seconds >= 0.55, "both attempts' time: " .. runs[1].wall_seconds)
  -- An attempt that starts over (no checkpoint to resume from) is the run's only time: the 0.3 s of
  -- the failed one are not the run's.
  dir = script([[
local clock = require("scalelab.native.study").clock
local function busy(seconds) local t0 = clock() while clock() - t0 < seconds do end end
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = function(run)
    local seen = io.open("attempted")
    if not seen then busy(0.3) io.open("attempted", "w"):close() error("the first attempt fails") end
    seen:close()
    return { loss = 3 }
  end,
}
]])
  code, out = scalelab(dir, "s.lua")
  t.eq(code, 1, out)
  code, out = scalelab(dir, "s.lua")
  t.eq(code, 0, out)
  local _, run = next(t.stored_runs(dir .. "/x.db"))
  t.eq(run.status, "done")
  t.ok(run.wall_seconds < 0.2, "the second attempt's time alone: " .. run.wall_seconds)
  -- A result whose own wall_seconds is less than its attempt took here: the attempt's time.
  dir = script([[
local clock = require("scalelab.native.study").clock
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = function(run)
    local t0 = clock() while clock() - t0 < 0.3 do end
    return { loss = 3, metrics = { wall_seconds = 0.01 } }
  end,
}
]])
  code, out = scalelab(dir, "s.lua")
  t.eq(code, 0, out)
  _, run = next(t.stored_runs(dir .. "/x.db"))
  t.ok(run.wall_seconds >= 0.3, "at least the attempt's 0.3 s: " .. run.wall_seconds)
  -- Its speed, which the backend did not give: the tokens trained (whole steps, not the planned
  -- 1e7) over that time.
  t.ok(run.tokens ~= 1e7, run.tokens)
  t.near(run.metrics.tokens_per_second, run.tokens / run.wall_seconds, 1e-9)
end)

t.test("a model vocabulary smaller than the data's is refused at declaration, not by every run failing", function()
  local dir = script([[
study "v" {
  data    = data.synthetic{ kind = "markov", order = 1, vocab = 64, seed = 1, tokens = 1e5 },
  models  = { aspect = 16, ctx = 64, vocab = 32 },
  sweep   = sweep.isoflop{ budgets = { 1e10 }, sizes = sweep.log(4e3, 4e4, 3) },
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:1: study: the data's vocabulary (64 tokens) is larger than the model's (32) for sweep point 1", 1, true), out)
  t.ok(out:find("give the models vocab = 64", 1, true), out)
  t.ok(not exists(dir .. "/v.db"), "nothing planned in a store")
end)

t.test("runs whose planned tokens are a step or less are named before training: their compute is not their budget's", function()
  local dir = script([[
study "e1" {
  models  = { aspect = 16, ctx = 64 },
  sweep   = sweep.isoflop{ budgets = { 1e6 }, sizes = sweep.log(4e3, 4e4, 3) },
  backend = "simulated",
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("warning: 3 runs train on whole steps of batch × ctx tokens far from the planned D (run 3: D = 4.67 "
    .. "planned, 64 trained in 1 step of 1 × 64, 13.7× its budget's compute): use a shorter ctx", 1, true), out)
  -- Runs of several steps each round by a few percent at most: no warning.
  dir = script([[
study "e2" {
  models  = { aspect = 16, ctx = 64 },
  sweep   = sweep.isoflop{ budgets = { 1e12 }, sizes = sweep.log(4e3, 4e4, 3) },
  backend = "simulated",
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(not out:find("whole steps", 1, true), out)
end)

t.test("a store another scalelab holds is refused at the user's line, naming the holder", function()
  local dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = "simulated",
}
]])
  local lock = assert(native.lock(dir .. "/x.db.lock"))  -- this process holds the study's store
  local code, out = scalelab(dir, "s.lua")
  lock:release()
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:1: study x: the store x.db is in use by another scalelab (pid " .. native.getpid(), 1, true), out)
  no_internal(out)
  code, out = scalelab(dir, "s.lua")
  t.eq(code, 0, out)
  -- Another path to the same store, a symlink to it, finds the same lock.
  t.eq(os.execute("ln -s x.db '" .. dir .. "/link.db'"), true)
  local file = assert(io.open(dir .. "/link.lua", "w"))
  file:write('study "x" {\n  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },\n  backend = "simulated",\n  store = "link.db",\n}\n')
  file:close()
  lock = assert(native.lock(dir .. "/x.db.lock"))
  code, out = scalelab(dir, "link.lua")
  lock:release()
  t.eq(code, 1, out)
  t.ok(out:find("link.lua:1: study x: the store link.db is in use by another scalelab (pid " .. native.getpid(), 1, true), out)
end)

t.test("a study stopped by an error after it took its store's lock lets it go: run again in the same process, it runs", function()
  -- The checkpoint folder cannot be made: the study fails after it took the lock, which stayed held
  -- by the process, so the same study run again there (the REPL, a pcall) found its store "in use by
  -- another scalelab" (itself).
  local dir = script([[
local function declare(checkpoints)
  return study "x" { sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } }, backend = "simulated", fits = {},
                     quiet = true, report = false, checkpoints = checkpoints }
end
print("first:", pcall(declare, "/proc/no/such/folder"))
local s = declare("x.checkpoints")
print("second:", s.runs[1].status)
]])
  local code, out = scalelab(dir, "s.lua")
  t.eq(code, 0, out)
  t.ok(out:find("first:\tfalse\t", 1, true), out)
  t.ok(out:find("cannot create folder '/proc/no'", 1, true), out)
  t.ok(out:find("second:\tdone", 1, true), out)
end)

t.test("the dry run notes a store folder that does not exist yet (a mistyped path would otherwise be made)", function()
  local dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = "simulated",
  store = "not-yet/there/x.db",
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("note: the store's folder not-yet/there does not exist; running the study makes it", 1, true), out)
  t.ok(not exists(dir .. "/not-yet"), "the dry run makes nothing")
  code, out = scalelab(dir, "s.lua")
  t.eq(code, 0, out)
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.ok(not out:find("does not exist", 1, true), out)
end)

t.test("a store in a mistyped folder, where the folder of the nearest name holds the study's runs, is refused "
    .. "with the fix, nothing made", function()
  -- store = "resuts/x.db" for "results/x.db" made the folder resuts and a new store in it, and
  -- trained every run again; the runs done stayed in results/x.db, unsaid.
  local dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e7, 1e8 }, D = { 1e9 } },
  backend = "simulated",
  fits = {},
  store = os.getenv("STORE"),
}
]])
  local code, out = t.run(dir, "s.lua", { STORE = "results/x.db" })
  t.eq(code, 0, out)
  local before = read(dir .. "/results/x.db")
  local says = "the store's folder resuts does not exist, but results/x.db, beside it, holds 2 finished runs of this "
    .. "study: did you mean store = \"results/x.db\"? (to start a new store in resuts all the same, make the folder "
    .. "first: mkdir -p resuts)"
  code, out = t.run(dir, "s.lua --dry-run", { STORE = "resuts/x.db" })
  t.eq(code, 0, out)
  t.ok(out:find("note: " .. says .. "; running the study would stop before training", 1, true), out)
  code, out = t.run(dir, "s.lua", { STORE = "resuts/x.db" })
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:1: study x: " .. says .. "; nothing was trained or written", 1, true), out)
  t.ok(not exists(dir .. "/resuts"), "nothing is made")
  t.eq(read(dir .. "/results/x.db"), before, "the store of the runs is untouched")
  -- A folder deeper in the path, and a path from the root, alike.
  t.ok(os.execute("mkdir -p '" .. dir .. "/runs/results' && cp '" .. dir .. "/results/x.db' '" .. dir .. "/runs/results/'"))
  code, out = t.run(dir, "s.lua", { STORE = dir .. "/rusn/results/x.db" })
  t.eq(code, 1, out)
  t.ok(out:find("the store's folder " .. dir .. "/rusn does not exist, but " .. dir .. "/runs/results/x.db, beside it, "
    .. "holds 2 finished runs", 1, true), out)
  -- Made as the message says, the folder takes a new store; a folder of no near name is made as before.
  t.ok(os.execute("mkdir -p '" .. dir .. "/resuts'"))
  code, out = t.run(dir, "s.lua", { STORE = "resuts/x.db" })
  t.eq(code, 0, out)
  code, out = t.run(dir, "s.lua", { STORE = "elsewhere/x.db" })
  t.eq(code, 0, out)
  t.ok(exists(dir .. "/elsewhere/x.db"), out)
end)

t.test("the report says whether its answers carry intervals", function()
  for _, case in ipairs { { fits = "{ chinchilla = { bootstrap = 0 } }", says = "No intervals: no fit behind these answers was bootstrapped" },
                          { fits = "{ chinchilla = { bootstrap = 20 } }", says = "Intervals are 95% bootstrap percentile intervals" } } do
    local dir = script(string.format([[
study "x" {
  sweep = sweep.grid{ N = { 1e7, 3e7, 1e8, 3e8 }, D = { 1e9, 3e9, 1e10 } },
  backend = { kind = "simulated", noise = 0.01 },
  fits = %s,
  questions = { plan.optimal{ compute = 1e21 } },
}
]], case.fits))
    local code, out = scalelab(dir, "s.lua")
    t.eq(code, 0, out)
    t.ok(read(dir .. "/x.report.md"):find(case.says, 1, true), read(dir .. "/x.report.md"))
  end
end)

t.test("an IsoFLOP fit over one budget says it needs more budgets, not more sizes", function()
  local dir = script([[
study "one" {
  backend = "simulated", models = { aspect = 16, ctx = 64 },
  sweep = sweep.isoflop{ budgets = { 1e18 }, sizes = sweep.log(1e6, 1e9, 7) },
  fits = { "isoflop" },
}
]])
  -- The fit asked for is not fitted: after its report the program ends with status 3, saying why.
  local code, out = scalelab(dir, "s.lua")
  t.eq(code, 3, out)
  t.ok(out:find("isoflop: the power law N_opt ∝ C^a goes through the minima of two budgets or more; the runs have one "
    .. "budget (1e18): give the sweep more budgets", 1, true), out)
  t.ok(out:find("scalelab: study one: isoflop was not fitted: the power law N_opt ∝ C^a goes through the minima of "
    .. "two budgets or more", 1, true), out)
end)

t.test("eval settings, seeds and simulation settings are checked at declaration, not by every run failing", function()
  local cases = {
    { "eval = { interval = -5 },", "study: eval.interval must be a whole number from 0 to 2^53 - 1" },
    -- In the trainer's unit, tokens (it said optimizer steps: eval.interval = 10 then evaluated every step).
    { "eval = { interval = -5 },", "(training tokens between evaluations, as train.run's eval_interval (a step is "
      .. "batch × ctx tokens); 0 for the trainer's default, about 20 a run" },
    { "eval = { tokens = function() return 1.5 end },", "study: eval.tokens must be a whole number from 0 to 2^53 - 1" },
    { "seed = -3,", "study: the seed of sweep point 1 must be a whole number from 0 to 2^53 - 1 = 9007199254740991 "
      .. "(the store keeps numbers as doubles, which hold whole numbers exactly only below 2^53) (got -3)" },
    -- A whole number >= 0 all the same, but one the store would keep as another: the message says why.
    { "seed = 9007199254740993,", "study: the seed of sweep point 1 must be a whole number from 0 to 2^53 - 1 = "
      .. "9007199254740991 (the store keeps numbers as doubles, which hold whole numbers exactly only below 2^53) (got "
      .. "9007199254740993)" },
    -- A sweep point's own value: stored as a double, 2^53 + 1 would be kept as 2^53.
    { "point_keys = { \"width\" }, sweep = sweep.product(sweep.grid{ N = { 1e5 }, D = { 1e7 } }, "
      .. "sweep.values{ width = { 9007199254740993 } }),",
      "study: sweep point 1 has width = 9007199254740993, which the store cannot hold exactly: a whole number in a "
      .. "sweep point must be from -(2^53 - 1) to 2^53 - 1 = 9007199254740991 (the store keeps numbers as doubles); "
      .. "give it as a string (width = \"9007199254740993\")" },
    { "backend = { kind = \"simulated\", law = { E = 0/0, A = 1, B = 1, alpha = 0.3, beta = 0.3 } },",
      "backend.law.E must be a finite number" },
    { "backend = { kind = \"law\", points = 0 },", "backend.points must be a whole number of curve points from 1" },
  }
  for _, case in ipairs(cases) do
    local body = [[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  ]] .. (case[1]:find("backend") and "" or "backend = \"simulated\",\n  ") .. case[1] .. [[

}
]]
    local dir = script(body)
    local code, out = scalelab(dir, "s.lua", "--dry-run")
    t.eq(code, 1, case[1] .. "\n" .. out)
    t.ok(out:find(case[2], 1, true), case[1] .. "\n" .. out)
  end
  t.raises(function() sweep.seeds(sweep.grid { N = 1e5, D = 1e6 }, math.huge) end, "n must be a whole number from 1 to 10000")
  t.raises(function() sweep.seeds(sweep.grid { N = 1e5, D = 1e6 }, { "a" }) end, "seeds[1] must be a whole number from 0 to 2^53 - 1")
end)

t.test("a question none of the study's fits can answer is refused at declaration, not after every run", function()
  -- The dry run of an IsoFLOP study with these fits (a line of the script, or "") and questions.
  local function dry_run(fits, questions)
    local dir = script(string.format([[
study "x" {
  backend = { kind = "simulated", noise = 0.01 }, models = { aspect = 16, ctx = 64 },
  sweep = sweep.isoflop{ budgets = { 1e17, 1e18, 1e19 }, sizes = sweep.log(1e6, 1e9, 7) },
  %s
  questions = { %s },
}
]], fits ~= "" and (fits .. ",") or "", questions))
    local code, out = scalelab(dir, "s.lua", "--dry-run")
    return code, out, dir
  end
  for _, case in ipairs {
    -- No fit: nothing answers even a compute-optimal allocation.
    { 'fits = {}', 'plan.optimal{ compute = 1e21 }',
      'questions[1] (compute-optimal allocation at 1.00e21 FLOP) cannot be answered', 'the study fits no law (fits = {})',
      'add a fit: fits = { "chinchilla" }' },
    -- The IsoFLOP allocation is no law of the loss.
    { 'fits = { "isoflop" }', 'plan.optimal{ compute = 1e21 }, plan.compute_for{ loss = 2.5 }',
      'questions[2] (compute to reach loss 2.5000) cannot be answered: it needs a law of the loss in N and D',
      'none of the study\'s fits (isoflop) does', 'add a parametric fit: fits = { "isoflop", "chinchilla" }' },
    -- Nor does it (or chinchilla) know repeated data: it would answer as if every token were new.
    { 'fits = { "isoflop", "chinchilla" }', 'plan.optimal{ compute = 1e21, unique_tokens = 1e9 }',
      'questions[1] (compute-optimal allocation at 1.00e21 FLOP with 1B unique tokens) cannot be answered: it is about '
        .. 'repeated data (unique_tokens = 1B)', 'chinchilla takes every token as new',
      'add a data-constrained fit: fits = { "isoflop", "chinchilla", "data_constrained" }' },
    { 'fits = { "isoflop" }', 'plan.optimal{ compute = 1e21, epochs = 4 }', 'repeated data (epochs = 4)',
      'isoflop fits N_opt and D_opt against C and answers plan.optimal{ compute = ... } on fresh data only', '"data_constrained" }' },
    -- Nor a budget counted with attention: the IsoFLOP budgets are 6·N·D.
    { 'fits = { "isoflop" }', 'plan.optimal{ compute = 1e21, flops = { "kaplan", ctx = 64 } }',
      'it needs a law of the loss in N and D', 'answers plan.optimal{ compute = ... } on fresh data only, its budget counted as 6·N·D',
      'fits = { "isoflop", "chinchilla" }' },
    -- Without fits =, the sweep's default fits are the study's.
    { '', 'plan.returns{ unique_tokens = 1e9 }', 'return on compute spent repeating 1B unique tokens',
      '(isoflop, chinchilla, the default for a sweep.isoflop sweep without fits =)', '"data_constrained" }' },
    { 'fits = { kaplan = { form = "N" } }', 'plan.optimal{ compute = 1e21 }', 'kaplan with form = "N" is not a law of the loss', 'fits = { "kaplan", "chinchilla" }' },
  } do
    local code, out, dir = dry_run(case[1], case[2])
    t.eq(code, 1, out)
    local message = out:match("scalelab: [^\n]*")
    t.ok(message and message:find("scalelab: s.lua:5: study: questions[", 1, true), out)  -- the questions key's line
    for k = 3, #case do t.ok(message:find(case[k], 1, true), case[k] .. "\n" .. out) end
    no_internal(message)
    t.ok(not exists(dir .. "/x.db"), "nothing ran")
  end
  -- What some fit answers is not refused: every fit answers a compute-optimal allocation, kaplan's joint
  -- law and chinchilla questions of the loss, data_constrained those about repeated data.
  for _, case in ipairs {
    { 'fits = { "isoflop" }', 'plan.optimal{ compute = 1e21 }' },
    { 'fits = { "approach1" }', 'plan.optimal{ compute = 1e21 }' },
    { 'fits = { "kaplan" }', 'plan.loss{ N = 1e9, D = 1e10 }, plan.table{ params = { 1e9 } }, plan.optimal{ compute = 1e21 }' },
    { 'fits = { kaplan = { form = "ND" } }', 'plan.compute_for{ loss = 2.5 }' },
    { 'fits = { "isoflop", "chinchilla" }', 'plan.optimal{ compute = 1e21, flops = { "kaplan", ctx = 64 } }' },
    { '', 'plan.compute_for{ loss = 2.5 }, plan.inference{ compute = 1e21, inference_tokens = 1e12 }' },
    { 'fits = { "isoflop", "data_constrained" }', 'plan.optimal{ compute = 1e21, epochs = 4 }, plan.returns{ unique_tokens = 1e9 }, '
      .. 'plan.compare{ compute = 1e21, unique_tokens = 1e9, candidates = { { N = 1e9, D = 1e10 } } }' },
  } do
    local code, out = dry_run(case[1], case[2])
    t.eq(code, 0, case[1] .. " " .. case[2] .. "\n" .. out)
  end
  -- The IsoFLOP law still refuses, in the report, what another fit answers: the question about
  -- repeated data is the data-constrained law's, not answered by the IsoFLOP law as fresh data.
  local dir = script([[
study "x" {
  backend = { kind = "simulated", noise = 0.01 }, models = { aspect = 16, ctx = 64 },
  sweep = sweep.isoflop{ budgets = { 1e17, 1e18, 1e19 }, sizes = sweep.log(1e6, 1e9, 7) },
  fits = { "isoflop", data_constrained = { bootstrap = 0 } },
  questions = { plan.optimal{ compute = 1e21, epochs = 4 }, plan.optimal{ compute = 1e21 } },
}
]])
  local code, out = scalelab(dir, "s.lua", "-q")
  t.eq(code, 0, out)
  local report = read(dir .. "/x.report.md")
  t.ok(report:find("the IsoFLOP allocation answers compute-optimal questions on fresh data only", 1, true), report)
end)

-- A study whose question compares Kaplan's rule (non-embedding N, no models' shape) under the study's
-- own fitted law (all parameters, the default params =) was refused only when the questions were
-- answered, after every run had trained (the report said "not answered"). A study knows its models:
-- where they share one vocabulary and context, it reads the rule with their shape (below); where they
-- differ, it is refused before any run trains, the dry run too, with plan's message and its fix,
-- naming two sweep points that differ; so is the opposite mismatch (Chinchilla's rule, all
-- parameters, under a study of params = "non_embedding"). (A question with a rule of plan.optimal or
-- plan.table is answered when asked, without a law: the comparison reads one.)
-- The models here differ in their context: 64 tokens below 3e7 parameters, 128 from there.
local DIFFERING_MODELS = "model = function(N) return model.shape_for{ params = N, aspect = 16, ctx = N < 3e7 and 64 or 128 } end,"
t.test("an allocation rule the study's laws cannot read as it counts N is refused before any run trains", function()
  local function declare(params, fits, questions, args, models)
    local dir = script(string.format([[
study "x" {
  backend = { kind = "simulated", noise = 0.01 }, %s%s
  sweep = sweep.isoflop{ budgets = { 1e17, 1e18, 1e19 }, sizes = sweep.log(1e6, 1e9, 7) },
  fits = %s,
  questions = { %s },
}
]], models or DIFFERING_MODELS, params and string.format(' params = "%s",', params) or "", fits, questions))
    local code, out = scalelab(dir, "s.lua", args or "--dry-run")
    return code, out, dir
  end
  local differ = "; the study does not read it with its own models' shape, as its models do not share one vocabulary "
    .. "and context (sweep point 1 (N=1M D=16.7B C=1e17) builds vocab 256, ctx 64; sweep point 4 (N=31.6M D=527M C=1e17) "
    .. "builds vocab 256, ctx 128): give the rule the shape to read it with"
  for _, case in ipairs {
    { nil, '{ "chinchilla" }', 'plan.compare{ compute = 1e21, candidates = { K = plan.published.kaplan } }',
      'questions[1] (1 allocation compared at 1.00e21 FLOP', "cannot be answered with the study's fit chinchilla, whose N "
        .. 'counts all parameters (params = "all"): plan.compare: candidate \'K\' is the rule \'kaplan\', which counts '
        .. "non-embedding parameters (Kaplan et al.'s N), and law 'chinchilla' all of them",
      'plan.published.kaplan:with{ vocab = 50257, ctx = 1024 }', 'or a study\'s with params = "non_embedding")' .. differ },
    { nil, '{ "isoflop", "kaplan" }', 'plan.optimal{ compute = 1e21 }, plan.compare{ compute = 1e21, candidates = { K = plan.published.kaplan } }',
      'questions[2]', "fit kaplan, whose N counts all parameters", "plan.compare: candidate 'K' is the rule 'kaplan'", differ },
    { "non_embedding", '{ "chinchilla" }', 'plan.compare{ compute = 1e21, candidates = { A = plan.published.chinchilla_approach1 } }',
      "fit chinchilla, whose N counts non-embedding parameters (params = \"non_embedding\"): plan.compare: candidate 'A' "
        .. "is the rule 'chinchilla_approach1', which counts all parameters",
      "plan.published.chinchilla_approach1:with{ vocab = 32000, ctx = 0 }", 'or a study\'s with params = "all")' .. differ },
  } do
    for _, args in ipairs { "--dry-run", "-q" } do
      local code, out, dir = declare(case[1], case[2], case[3], args)
      t.eq(code, 1, out)
      local message = out:match("scalelab: [^\n]*")
      t.ok(message and message:find("scalelab: s.lua:5: study: questions[", 1, true), out)  -- the questions key's line
      for k = 4, #case do t.ok(message and message:find(case[k], 1, true), case[k] .. "\n" .. out) end
      no_internal(out)
      t.ok(not exists(dir .. "/x.db"), "nothing ran")
    end
  end
  -- A rule that carries its models' shape, or one the laws count alike, is not refused; nor is one the
  -- study's models, of one shape, convert.
  for _, case in ipairs {
    { nil, '{ "chinchilla" }', 'plan.compare{ compute = 1e21, candidates = { K = plan.published.kaplan:with{ vocab = 256, ctx = 64 } } }' },
    { "non_embedding", '{ "chinchilla" }', 'plan.compare{ compute = 1e21, candidates = { K = plan.published.kaplan } }' },
    { nil, '{ "chinchilla" }', 'plan.compare{ compute = 1e21, candidates = { A = plan.published.chinchilla_approach1 } }' },
    { "non_embedding", '{ "chinchilla" }',
      'plan.compare{ compute = 1e21, candidates = { A = plan.published.chinchilla_approach1:with{ vocab = 256, ctx = 64 } } }' },
    { nil, '{ "chinchilla" }', 'plan.compare{ compute = 1e21, candidates = { K = plan.published.kaplan } }',
      "models = { aspect = 16, ctx = 64 }," },
    { "non_embedding", '{ "chinchilla" }', 'plan.compare{ compute = 1e21, candidates = { A = plan.published.chinchilla_approach1 } }',
      "models = { aspect = 16, ctx = 64 }," },
  } do
    local code, out = declare(case[1], case[2], case[3], nil, case[4])
    t.eq(code, 0, case[3] .. "\n" .. out)
  end
end)

-- Kaplan's rule (non-embedding N) compared under a study's law of all parameters: the user had to type
-- the shape of the study's own models (rule:with{ vocab =, ctx = }) or was refused. The study knows
-- them: where they share one vocabulary and context it reads the rule with their shape, and says so in
-- the dry run and the answer. Its models here are GPT-2's shape (vocab 50257, ctx 1024, d/L = 64), at
-- which Kaplan's N_opt(1e22) = 1.3e9·(1e22/8.64e19)^0.73 = 41.71B non-embedding parameters are
-- 42.03B with their embeddings (50257 + 1024)·d, d = (64·N/12)^(1/3); the comparison's row is the
-- rule's run that spends 1e22 as the law counts it, 41.49B non-embedding parameters (picked at
-- C_R = 9.926e21, C_R·N_all/N = 1e22), 41.80B with the embeddings (python3, below).
t.test("a study reads an allocation rule of the other count with its own models' shape", function()
  local dir = script([[
local s = study "x" {
  backend = { kind = "simulated", noise = 0.01 }, models = { vocab = 50257, ctx = 1024, aspect = 64 },
  sweep = sweep.isoflop{ budgets = { 1e19, 1e20, 1e21 }, sizes = sweep.log(1e8, 1e10, 7) },
  fits = { chinchilla = { bootstrap = 0 } },
  questions = { plan.compare{ compute = 1e22, candidates = { K = plan.published.kaplan } } },
}
if s.dry_run then return end
local a = s.answers[1].answer
print(string.format("row N=%.12g D=%.12g flops=%.12g", a.rows[2].N, a.rows[2].D, a.rows[2].flops))
for _, note in ipairs(a.notes) do print("note: " .. note) end
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("questions[1] (1 allocation compared at 1.00e22 FLOP", 1, true), out)
  t.ok(out:find("its allocation rule counts N otherwise than the study's fit (chinchilla), which reads it with the "
    .. "study's models' shape: vocab 50257, ctx 1024, d/L = 64", 1, true), out)
  t.ok(not exists(dir .. "/x.db"), "nothing ran")
  code, out = scalelab(dir, "s.lua", "-q")
  t.eq(code, 0, out)
  local reference = io.popen([[python3 -c '
import math
C = 1e22; V = 50257; T = 1024; A = 64
rule = lambda c: 1.3e9 * (c / 8.64e19) ** 0.73
with_embeddings = lambda n: n + (V + T) * (A * n / 12) ** (1 / 3)
print("%.12g" % with_embeddings(rule(C)))
lo, hi = math.log(C) - 5, math.log(C)
for _ in range(200):
    mid = (lo + hi) / 2
    c = math.exp(mid)
    if c * with_embeddings(rule(c)) / rule(c) < C: lo = mid
    else: hi = mid
c = math.exp(lo); N = rule(c); Na = with_embeddings(N); D = c / (6 * N)
print("%.12g %.12g %.12g" % (Na, D, 6 * Na * D))
']]):read("a")
  local at_C, ref_N, ref_D, ref_flops = reference:match("(%S+)\n(%S+) (%S+) (%S+)")
  t.ok(ref_N, "python3 ran: " .. tostring(reference))
  t.near(tonumber(at_C), 42.03e9, 1e-3)
  t.near(tonumber(ref_N), 41.80e9, 1e-3)
  t.near(tonumber(ref_flops), 1e22, 1e-9)
  local N, D, flops = out:match("row N=(%S+) D=(%S+) flops=(%S+)")
  t.ok(N, out)
  t.near(tonumber(N), tonumber(ref_N), 1e-9)
  t.near(tonumber(D), tonumber(ref_D), 1e-9)
  t.near(tonumber(flops), tonumber(ref_flops), 1e-9)
  t.ok(out:find("note: 'K': law 'chinchilla' counts all parameters: the 41.5B non-embedding parameters of rule 'kaplan' "
    .. "are read as 41.8B", 1, true), out)
  t.ok(out:find("note: 'K': converted with the study's models' shape: vocab 50257, ctx 1024, d/L = 64 (the rule "
    .. "'kaplan' carried no shape; rule:with{ vocab =, ctx = [, aspect =] } gives it another)", 1, true), out)
  -- The report says it too, under the answer.
  local report = read(dir .. "/x.report.md")
  t.ok(report and report:find("converted with the study's models' shape: vocab 50257, ctx 1024", 1, true), report)
end)

t.test("the report gives every answer: the FLOP column, and whole answers that are more than an allocation", function()
  local dir = script([[
study "x" {
  backend = { kind = "simulated", noise = 0.01 }, models = { aspect = 16, ctx = 64 },
  sweep = sweep.isoflop{ budgets = { 1e17, 1e18, 1e19 }, sizes = sweep.log(1e6, 1e9, 7) },
  fits = { "isoflop", chinchilla = { bootstrap = 0 } },
  questions = { plan.compute_for{ loss = 2.5 }, plan.inference{ compute = 1e21, inference_tokens = 1e12 },
                plan.optimal{ compute = 1e21 } },
}
]])
  local code, out = scalelab(dir, "s.lua", "-q")
  t.eq(code, 0, out)
  local report = read(dir .. "/x.report.md")
  t.ok(report:find("| question | law | FLOP | N | D | tokens/param | loss |", 1, true), report)
  t.ok(report:find("| compute to reach loss 2.5000 | chinchilla | 2.", 1, true), report)  -- the FLOP it needs
  t.ok(report:find("inference-aware allocation for 1T inference tokens, target the loss of the compute-optimal run at 1.00e21 FLOP (chinchilla):\n\n```", 1, true), report)
  t.ok(report:find("  saving ", 1, true), report)
  t.ok(report:find("| compute to reach loss 2.5000 | isoflop | not answered: the IsoFLOP allocation answers compute-optimal "
    .. "questions only: this one needs a law of the loss", 1, true), report)
  -- The notes of an answer in the table, under it: 1e21 is 100 times the largest budget fitted.
  t.ok(report:find("\n- compute-optimal allocation at 1.00e21 FLOP (chinchilla): beyond the 21 runs fitted: ", 1, true), report)
  t.ok(report:find("compute 100× the largest (1.00e19)", 1, true), report)
end)

t.test("a sweep point's own D or epochs that its budget or U would override is refused; sweep helpers refuse non-finite ends", function()
  for _, case in ipairs {
    { "sweep.list{ { N = 1e5, D = 1e6, budget = 1e12 } }", "gives budget = 1e12 and D = 1M, but a budget's runs train on D = budget / 6N" },
    { "sweep.list{ { N = 1e5, D = 1e6, U = 1e5, epochs = 3 } }", "gives epochs = 3, but its D and U make" },
    -- Without U the run sees each token once: its epochs = 4 was ignored, the run trained 1 epoch.
    { "sweep.list{ { N = 1e5, D = 1e6, epochs = 4 } }", "gives epochs = 4 but no U (unique tokens): it would see each of its D = 1M tokens once; give U = D / epochs = 250k" },
    -- The epochs echoed as epochs print elsewhere (format_ratio), not as tostring writes a float.
    { "sweep.list{ { N = 1e5, D = 1e6, epochs = 4.0 } }", "gives epochs = 4 but no U" },
    { "sweep.list{ { N = 1e5, D = 1e6, U = 1e5, epochs = 3.0 } }", "gives epochs = 3, but its D and U make 10 (D / U)" },
  } do
    local dir = script(string.format([[
study "x" {
  models = { aspect = 16, ctx = 64 },
  sweep = %s,
  backend = "simulated",
}
]], case[1]))
    local code, out = scalelab(dir, "s.lua", "--dry-run")
    t.eq(code, 1, out)
    t.ok(out:find(case[2], 1, true), out)
  end
  -- A data-constrained sweep of runs a few steps long is its own points, whole steps or not.
  local dir = script([[
study "dc" { models = { aspect = 16, ctx = 64 }, hyper = { batch = 8 },
  sweep = sweep.data_constrained{ unique_tokens = { 1000 }, epochs = { 0.7, 1.4, 2.5 }, N = { 1e5 } },
  backend = "simulated" }
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  t.raises(function() sweep.log(1e5, math.huge, 3) end, "lo and hi must be positive finite numbers")
  t.raises(function() sweep.linear(0 / 0, 1, 3) end, "lo and hi must be finite numbers")
  t.raises(function() sweep.isoflop { budgets = { 1e18 }, points = 100000 } end, "sweep.isoflop: points must be a whole number of sizes per budget from 2")
  t.raises(function() sweep.isoflop { budgets = { 1e18 }, ratio = { 4, math.huge } } end, "both finite")
end)

t.test("a budget too small for any model: one location, the smallest model the family builds and the fix", function()
  local dir = script([[
study "x" {
  backend = "simulated",
  models = { vocab = 256, ctx = 64 },
  sweep = sweep.isoflop{ budgets = { 1e9 } },
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  local message = out:match("scalelab: [^\n]*")
  t.ok(message:find("scalelab: s.lua:3: study: model for sweep point 1 (N = 1.29k): model.shape_for: params = 1.29k is below "
    .. "the smallest shape of aspect 64 (d_model / n_layer); ", 1, true), message)
  t.eq(select(2, message:gsub("s%.lua:%d+: ", "")), 1, message)  -- located once, at the models key
  t.ok(message:find("the smallest model the study's models build is N = 23k (1×32, 2 heads; vocab 256, ctx 64)", 1, true), message)
  t.ok(message:find("raise the budget (this point's 1e9 FLOP would need about 3.2e11 for N = 23k", 1, true), message)
  t.ok(message:find("or lower vocab or ctx (models = { vocab = ..., ctx = ... }", 1, true), message)
  no_internal(message)
end)

t.test("the plan warns of an IsoFLOP budget that merging identical runs leaves with fewer than 3 sizes", function()
  local body = [[
study "x" {
  backend = { kind = "simulated", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 } },
  models = { aspect = 16, ctx = 64 },
  -- At 1e14 the three sizes near 1e5 land on one shape: two of the budget's four points merge.
  sweep = sweep.isoflop{ budgets = { 1e14, 1e15, 1e16 }, sizes = function(C)
    if C < 1e15 then return { 1e5, 1.005e5, 1.01e5, 4e5 } end
    return { 1e5, 4e5, 1.6e6 }
  end },
  %s
}
]]
  local warning = "warning: the IsoFLOP budget C = 1e14 has 2 distinct model sizes (2 of its 4 sweep points merged into "
    .. "identical or nearly identical runs: nearby sizes landed on the same shape, or on shapes of about one size): the isoflop fit needs 3 or more sizes per budget for its "
    .. "parabola and will leave it out; give that budget sizes further apart"
  local dir = script(string.format(body, 'fits = { "isoflop" },'))
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find(warning, 1, true), out)
  t.ok(not out:find("C = 1e15 has", 1, true), out)
  -- A real run says it on standard error before the runs, as the plan's other warnings.
  local _, err
  code, out, err = scalelab(dir, "s.lua", "-q")
  t.eq(code, 0, out)
  t.ok(err:find("study x: " .. warning, 1, true), err)
  -- Without the isoflop fit (neither asked for nor a default) the sizes per budget matter to no fit.
  dir = script(string.format(body, 'fits = { "chinchilla" },'))
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(not out:find("distinct model size", 1, true), out)
  -- The default fits of an IsoFLOP sweep include it.
  dir = script(string.format(body, ""))
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.ok(out:find(warning, 1, true), out)
end)

t.test("a report over runs that learned nothing says so instead of fitting noise", function()
  local dir = script([[
study "x" {
  sweep = sweep.isoflop{ budgets = { 1e13, 1e14 }, sizes = { 1e5, 2e5, 4e5 } },
  backend = function(run) return { loss = math.log(256) } end,
  questions = { plan.optimal{ compute = 1e16 } },
}
]])
  -- Its question unanswered, the program ends with status 3 after the report.
  local code, out = scalelab(dir, "s.lua")
  t.eq(code, 3, out)
  t.ok(out:find("scalelab: study x: the question \"compute-optimal allocation at 1.00e16 FLOP\" went unanswered", 1,
    true), out)
  local report = read(dir .. "/x.report.md")
  t.ok(report:find("every finished run has the same loss (5.5452)", 1, true), report)
  t.ok(report:find("not answered: no law was fitted", 1, true), report)
  -- Nothing was answered: the report says nothing of intervals.
  t.ok(not report:find("intervals", 1, true) and not report:find("bootstrap", 1, true), report)
  t.ok(report:find("N in the fits and questions counts all parameters", 1, true), report)
  t.ok(not report:find("Can't plot", 1, true) and not report:find("predict needs", 1, true), report)
  no_internal(report)
end)

t.test("report errors lose the library's file:line", function()
  local checks = require "scalelab.study.checks"
  t.eq(checks.plain("stdlib/scalelab/study/analysis.lua:528: chinchilla law: predict needs N\nstack traceback:"),
    "chinchilla law: predict needs N")
  t.eq(checks.plain("/w/s.lua:3: plot: x"), "plot: x")
  -- Every prefix goes, as `scalelab results` and the report both need (results once stripped one).
  t.eq(checks.plain("stdlib/scalelab/results.lua:90: [string \"x\"]:2: s.lua:1: no such run\nmore"), "no such run")
end)

t.test("a corpus too small for the planned tokens is an error in study terms before training", function()
  local dir = script([[
local src = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 3e5 }
study "x" {
  data = src,
  model = { aspect = 16, ctx = 32 },
  sweep = sweep.grid{ N = { 2e4 }, D = { 1e5, 6e5 } },
  backend = "cpu",
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:5: study: sweep point 2 (N=20k D=600k) trains on D = ", 1, true), out)
  t.ok(out:find("; license: generated; training split 73 documents, 4.1k more tokens held out for validation)", 1, true), out)
  t.ok(out:find("repeat_data = true", 1, true), out)
  t.ok(not out:find("−1 from C++", 1, true), out)

  -- repeat_data = true: the run repeats the training split, and the dry run says how often.
  write(dir .. "/r.lua", (read(dir .. "/s.lua"):gsub('backend = "cpu",', 'backend = "cpu", repeat_data = true,')))
  code, out = scalelab(dir, "r.lua", "--dry-run")
  t.eq(code, 0, out)
  local epochs = out:match("\n%s+2%s+%S+%s+%S+%s+[^\n]-%)%s+%S+%s+%S+%s+(%S+)")  -- after D and U
  t.ok(out:find("note: 1 run wants more tokens than the corpus's", 1, true), out)
  t.ok(tonumber(epochs) and tonumber(epochs) > 1.9 and tonumber(epochs) < 2.2, "epochs of run 2: " .. tostring(epochs) .. "\n" .. out)

  -- U larger than the corpus is refused, naming U.
  dir = script([[
study "x" {
  data = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 3e5 },
  model = { aspect = 16, ctx = 32 },
  sweep = sweep.data_constrained{ unique_tokens = { 1e6 }, epochs = { 1 }, N = { 2e4 } },
  backend = "cpu",
}
]])
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("asks for U = 1M unique tokens, but the data holds", 1, true), out)
end)

t.test("errors from a library function's arguments point at the user's line", function()
  local dir = script([[
local f = plot.figure{}

f:line{ x = { 1, 2, 3 }, y = { 1, 2 } }
]])
  local code, out = scalelab(dir, "s.lua")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:3: figure:line: x has 3 values but y has 2", 1, true), out)

  -- A store that cannot be opened: its path runs through a plain file (os.tmpname makes one).
  local blocker = os.tmpname()
  dir = script(([[

study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = "simulated",
  store = "%s/x.db",
}
]]):format(blocker))
  code, out = scalelab(dir, "s.lua")
  os.remove(blocker)
  t.eq(code, 1, out)
  t.ok(out:find("scalelab: s.lua:%d+: "), out)
  no_internal(out:match("^[^\n]*"))
end)

t.test("sweep sizes that cannot be meant are refused with the limit", function()
  local ok, message = pcall(sweep.log, 1, 10, 1e9)
  t.ok(not ok)
  t.ok(tostring(message):find("at most 10000", 1, true), message)
  t.ok(tostring(message):find("test_study_checks.lua:", 1, true), message)
  t.eq(#sweep.log(1, 10, 3), 3)
end)

t.test("scalelab results: bad usage exits 2 with the usage; an unknown study lists the ones there", function()
  local dir = script([[
study "r" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = "simulated",
  fits = {},
}
]])
  local code, out = scalelab(dir, "s.lua")
  t.eq(code, 0, out)
  local err
  code, out, err = scalelab(dir, "results", "/nonexistent.db")
  t.eq(code, 2, out)
  t.ok(err:find("no results store at '/nonexistent.db'", 1, true), err)
  t.ok(err:find("usage: scalelab results", 1, true), err)
  no_internal(err)
  code, out, err = scalelab(dir, "results", "r.db --stduy r")
  t.eq(code, 2, out)
  t.ok(err:find("unknown option '--stduy'; did you mean '--study'?", 1, true), err)
  code, out, err = scalelab(dir, "results", "r.db --status finished")
  t.eq(code, 2, out)
  code, out, err = scalelab(dir, "results", "r.db --study nope")
  t.eq(code, 1, out)
  t.ok(err:find("no study 'nope' in r.db; its studies: r", 1, true), err)
  code, out = scalelab(dir, "results", "r.db --study r")
  t.eq(code, 0, out)
  t.ok(out:find("2 runs", 1, true), out)
end)

t.test("counts agree with their nouns", function()
  t.eq(tostring(sweep.list { { N = 1e5, D = 1e7 } }):match("^[^\n]*"), "Sweep(list: 1 point)")
  t.eq(tostring(sweep.list { { N = 1e5, D = 1e7 }, { N = 2e5, D = 1e7 } }):match("^[^\n]*"), "Sweep(list: 2 points)")
  -- The stdlib writes a count with its noun by the C++ rule (core/units.h's format_counted).
  local core = require "scalelab.native.core"
  t.eq(core.format_counted(1, "run"), "1 run")
  t.eq(core.format_counted(0, "run"), "0 runs")
  t.eq(core.format_counted(12, "document"), "12 documents")
  t.eq(core.format_counted(1234, "file"), "1.23k files")
  t.eq(core.format_counted(2, "sweep point"), "2 sweep points")
  t.raises(function() core.format_counted(2) end, "string expected")
end)

t.test("the Lua side suggests names by core's closest_name rule", function()
  local core = require "scalelab.native.core"
  local checks = require "scalelab.study.checks"
  t.eq(checks.closest, core.closest_name)
  local names = { "budgets", "sizes", "tokens", "seed" }
  t.eq(core.closest_name("tokns", names), "tokens")
  t.eq(core.closest_name("sizez", names), "sizes")
  t.eq(core.closest_name("learning_rate", names), nil)
  t.eq(core.closest_name("tokens", {}), nil)
  -- Within max(2, #name // 3) edits; letter case is free but breaks ties; then the first of
  -- equally near ones wins.
  t.eq(core.closest_name("TOKENS", names), "tokens")
  t.eq(core.closest_name("Tokens", names), "tokens")
  t.eq(core.closest_name("a", { "A", "b" }), "A")
  t.eq(core.closest_name("Alfa", { "alpha", "Alpha" }), "Alpha")
  t.eq(core.closest_name("sed", { "seed", "set" }), "seed")
  local message = t.raises(function() core.closest_name(42, names) end, "closest_name(name, candidates): name must be a string (got number)")
  t.ok(message:find("test_study_checks.lua:%d+:"), message)
  t.raises(function() core.closest_name("tokns") end, "candidates must be a list of strings (got no value)")
  t.raises(function() core.closest_name("tokns", { "tokens", true }) end,
    "candidates must be a list of strings; candidates[2] is a boolean")
end)

-- A failing backend for three runs: the largest fails.
local failing_study = [[
  sweep = sweep.isoflop{ budgets = { 1e13 }, sizes = { 1e5, 2e5, 4e5 } },
  backend = function(run) if run.N > 3e5 then error("no accelerator here") end return { loss = 3 + 1e-6 * run.N } end,
  questions = { plan.optimal{ compute = 1e15 } },
  quiet = true,
]]

t.test("a study with failed runs gives a caller that would catch the error the Study, with failed counted", function()
  -- Under pcall in a script: the Study, with the count; the script goes on to its end, where the
  -- program's status is 3: the question, over the two runs of the budget left, went unanswered.
  local dir = script([[
local ok, s = pcall(study "x", {
]] .. failing_study .. [[
})
print("OK", ok, getmetatable(s).__name, s.failed, #s.runs)
]])
  local code, out, err = scalelab(dir, "s.lua")
  t.eq(code, 3, out)
  t.ok(err:find("scalelab: study x: the question \"compute-optimal allocation at 1.00e15 FLOP\" went unanswered", 1,
    true), err)
  t.ok(out:find("OK\ttrue\tStudy\t1\t3", 1, true), out)
  t.ok(err:find("study x: 1 of 3 runs failed", 1, true) and err:find("failed = 1", 1, true), err)
  no_internal(err)
  t.ok(exists(dir .. "/x.report.md"), "the report is written")

  -- In a function the script calls unprotected: the script still ends with status 1.
  dir = script([[
local function main()
  local s = study "x" {
]] .. failing_study .. [[
  }
  return s
end
main()
print("AFTER")
]])
  code, out = scalelab(dir, "s.lua")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:2: study x: 1 of 3 runs failed", 1, true), out)
  t.ok(not out:find("AFTER", 1, true), out)

  -- At the REPL: the Study, its fits and answers reachable.
  dir = script("")
  write(dir .. "/input.lua", "s = study \"x\" {\n" .. failing_study:gsub("\n", " ") .. "}\n"
    .. "print(\"FAILED\", s.failed, #s.runs)\n")
  local repl_code
  repl_code, out = t.run(dir, "-i < input.lua")
  t.eq(repl_code, 0, out)
  t.ok(out:find("FAILED\t1\t3", 1, true), out)
  t.ok(out:find("study x: 1 of 3 runs failed", 1, true), out)

  -- In-process, inside t.test (which catches errors): the same.
  local here = t.fresh_dir(root)
  local s = study "inproc" {
    sweep = sweep.isoflop{ budgets = { 1e13 }, sizes = { 1e5, 2e5, 4e5 } },
    backend = function(run) if run.N > 3e5 then error("no accelerator here") end return { loss = 3 + 1e-6 * run.N } end,
    store = here .. "/inproc.db",
    quiet = true,
  }
  t.eq(s.failed, 1)
  t.eq(#s.runs, 3)
end)

t.test("a backend table without kind trains as the default backend does; with a law it simulates", function()
  local backends = require "scalelab.study.backends"
  local kind, identity = backends.resolve { threads = 4 }
  t.eq(kind, "auto")
  t.eq(identity.trainer.threads, 4)
  t.eq((backends.resolve { law = { E = 1.7, A = 400, B = 400, alpha = 0.34, beta = 0.28 } }), "simulated")
  t.eq((backends.resolve { noise = 0.01 }), "simulated")
  t.eq((backends.resolve { kind = "law" }), "law")
  -- So it needs data, as backend = nil and "auto" do, instead of silently simulating.
  local dir = script([[
study "x" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = { threads = 1 },
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("s.lua:3: study: backend \"auto\" trains models on data", 1, true), out)
end)

t.test("a trainer backend's options are checked as the study is declared: a misspelt or misplaced one is named with "
    .. "where it goes", function()
  -- backend = { kind = "cpu", thread = 2 } passed the checks and the dry run, and every run failed as it
  -- started, in train.run's words (its keys include model, data and tokens, which the study sets).
  for _, case in ipairs {
    { '{ kind = "cpu", thread = 2 }', "s.lua:5: study: backend.thread is not an option of the trainer; did you mean "
      .. "'threads'? (a trainer backend takes kind and checkpoint_interval, eps, micro_batch, threads)" },
    { '{ kind = "cpu", threads = "two" }', 's.lua:5: study: backend.threads must be a whole number from 0 to 4096 (CPU '
      .. 'threads a run trains on, 0 for all cores; got "two")' },
    { '{ micro_batch = 0 }', "s.lua:5: study: backend.micro_batch must be a whole number of at least 1 (rows per "
      .. "forward and backward pass; got 0)" },
    { '{ kind = "auto", eps = 0 }', "s.lua:5: study: backend.eps must be a number above 0 (AdamW's epsilon; got 0)" },
    { '{ kind = "cpu", lr = 1e-3 }', "s.lua:5: study: backend.lr: the study sets lr for each run; give it in hyper = "
      .. "{ lr = ... }" },
    { '{ kind = "cpu", law = fit.published.chinchilla }', 's.lua:5: study: backend.law: backend "cpu" trains models and '
      .. 'draws nothing from a law; for losses drawn from a law give backend = { kind = "simulated", law = ... }' },
  } do
    local dir = script(string.format([[
study "x" {
  data = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 1e6 },
  sweep = sweep.grid{ N = { 2e4 }, D = { 1e5 } },
  fits = {},
  backend = %s,
}
]], case[1]))
    local code, out = scalelab(dir, "s.lua", "--dry-run")
    t.eq(code, 1, out)
    t.ok(out:find(case[2], 1, true), case[1] .. ": " .. out)
  end
  -- The options a trainer takes pass, and stay in the runs' identity.
  local backends = require "scalelab.study.backends"
  local _, identity = backends.resolve { kind = "cpu", threads = 2, micro_batch = 4, eps = 1e-8, checkpoint_interval = 0 }
  t.eq(identity.trainer.threads, 2)
  t.eq(identity.trainer.eps, 1e-8)
end)

t.test("one rule for the library's frames: errors point at the user's line with the library read from any folder", function()
  local source = os.getenv("SCALELAB_SOURCE_DIR")
  if not source then return t.skip("SCALELAB_SOURCE_DIR is not set (run through ctest)") end
  local dir = t.fresh_dir(root)
  local lib = dir .. "/lib-copy"
  t.ok(os.execute(string.format("cp -r '%s/stdlib' '%s'", source, lib)), "copy the stdlib")
  write(dir .. "/s.lua", [[
study "x" {
  sweeep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = "simulated",
}
]])
  write(dir .. "/p.lua", [[
local f = plot.figure{}

f:line{ x = { 1, 2, 3 }, y = { 1, 2 } }
]])
  local function run(name)
    local code, text = t.run(dir, name, { SCALELAB_STDLIB = lib })
    return code, text
  end
  local code, out = run("s.lua")
  t.eq(code, 1, out)
  t.ok(out:find("scalelab: s.lua:2: study: unknown key 'sweeep'; did you mean 'sweep'?", 1, true), out)
  code, out = run("p.lua")
  t.eq(code, 1, out)
  t.ok(out:find("scalelab: p.lua:3: figure:line: x has 3 values but y has 2", 1, true), out)
  t.ok(not out:match("^[^\n]*"):find("lib-copy", 1, true), out)

  local checks = require "scalelab.study.checks"
  t.ok(checks.in_library { what = "C", source = "=[C]" })
  t.ok(checks.in_library { what = "Lua", source = "@stdlib/scalelab/study.lua" })
  t.ok(not checks.in_library { what = "main", source = "@/home/me/stdlib/scalelab/mine.lua" })
  t.ok(not checks.in_library { what = "main", source = "@s.lua" })
end)

t.test("an error about the caller's arguments is located at the user's line", function()
  local checks = require "scalelab.study.checks"
  local function library_like() checks.error_at_user("bad argument") end
  local ok, message = pcall(library_like)
  t.ok(not ok)
  t.ok(tostring(message):find("^[^\n]*test_study_checks%.lua:%d+: bad argument$"), message)
end)

t.test("help documents the sweep and study helpers and itself", function()
  local docs = require("scalelab.native.core").docs()
  local study_module = require "scalelab.study"
  for name, value in pairs { describe_point = sweep.describe_point, is_sweep = sweep.is_sweep,
                             plan_runs = study_module.plan_runs, pythia_lr = study_module.pythia_lr, help = help } do
    t.ok(type(docs[value]) == "string" and #docs[value] > 20, name .. " has no documentation")
  end
end)

t.test("a data-constrained run whose U is not a whole number of tokens trains on U rounded to one", function()
  -- sweep.log gives U = 10^4.5 = 31622.78 tokens; the sampler takes whole tokens only, and every such
  -- run failed at its start ("unique_tokens must be a whole number"). By hand: U = 31623, and the
  -- sampler's epoch is floor(31623 / 64) = 494 sequences of 64 targets = 31616 tokens.
  local dir = script([[
local corpus = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 200000 }
study "x" {
  data = corpus, model = { aspect = 16, ctx = 64 },
  sweep = sweep.data_constrained{ unique_tokens = sweep.log(1e4, 1e5, 3), epochs = { 2 }, N = { 2e4 } },
  backend = function(run, context)
    if run.unique_tokens > 2e4 and run.unique_tokens < 4e4 then
      local stats = context.sampler(run):stats()
      print(string.format("SAMPLER U=%d asked=%d epoch=%d", stats.unique_tokens, stats.unique_tokens_asked,
        stats.epoch_tokens))
    end
    return { loss = 3 }
  end,
  report = false, fits = {},
}
]])
  local code, out = scalelab(dir, "s.lua")
  t.eq(code, 0, out)
  t.ok(out:find("SAMPLER U=31616 asked=31623 epoch=31616", 1, true), out)
end)

t.test("a fresh-data point that the corpus holds only by repeating a sequence is refused at planning", function()
  -- 4096 training tokens hold 63 sequences of 64 targets: D = 4096 (64 rows) would repeat one; the
  -- sampler refused it at the run's start, after planning. Both points of more than the split are refused too.
  local dir = script([[
local corpus = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 1, tokens = 8192 }
assert(corpus:split().train_tokens == 4096, corpus:split().train_tokens)
study "x" {
  data = corpus, model = { aspect = 16, ctx = 64 }, hyper = { batch = 4 },
  sweep = sweep.grid{ N = { 2e4 }, D = { 4096 } },
  backend = "cpu", report = false, fits = {},
}
]])
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("trains on D = 4.1k tokens, but the data holds only 4.1k training tokens", 1, true), out)
  t.ok(out:find("number fewer than the run's rows, so one would be seen twice; give the study repeat_data = true", 1, true), out)
end)

-- The dry run of a study of models of aspect 32 (vocab 256, ctx 128) at sizes `sizes`, with `more`.
local function dry_run_aspect32(sizes, more)
  local dir = script(string.format([[
study "x" {
  model = { aspect = 32, vocab = 256, ctx = 128 },
  sweep = sweep.grid{ N = { %s }, D = { 1e9 } }, %s
}
]], sizes, more))
  local code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  return out
end

t.test("runs whose model lands far off the target N are named in a warning, and one shape is one run", function()
  -- At aspect 32 the smallest shape is 1 layer 16 wide (9.46k parameters): targets 5k and 6k both
  -- build it, with the same heads, so they are one run (they were two, with 4 heads and 2).
  local out = dry_run_aspect32("5e3, 6e3, 1e5, 1e6, 1e7",
    "backend = { kind = \"simulated\", law = { E = 1.0, A = 20, B = 200, alpha = 0.3, beta = 0.3 } },")
  t.ok(out:find("warning: 1 run builds a model more than 1.5 times off the target N (run 1: N = 5k asked, 9.46k built, 1.89×)",
    1, true), out)
  t.ok(out:find("4 runs planned", 1, true), out)
end)

t.test("a study counting all parameters builds the shape nearest each N, and every N that has one", function()
  -- model.shape_for aims at non-embedding N: aiming it at N less the embeddings of the shape landed
  -- on went back and forth between 1×32 (25.1k) and 1×16 for 16.6k, past 1×24 (16.5k), and a
  -- target under the smallest shape on the way failed the study at 12.6k ("params = 301 is below
  -- the smallest shape"), a size it builds. The shapes of this family: 9456, 16488, 25056, 37760.
  local out = dry_run_aspect32("1.26e4, 1.66e4, 2.5e4, 3.8e4", "backend = \"simulated\", report = false,")
  local built = {}
  for params in out:gmatch("\n%s+%d+%s+[%d.]+k%s+([%d.]+k)%s") do built[#built + 1] = params end
  t.eq(table.concat(built, " "), "16.5k 25.1k 37.8k", out)  -- 12.6k and 16.6k: one run, merged
  t.ok(out:find("3 runs planned", 1, true), out)
end)

t.test("a list given as its one item, and longer names of keys, say what to write", function()
  local function dry(body)
    local dir = script("study \"x\" { sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } }, backend = \"simulated\", " .. body .. " }\n")
    local code, out = scalelab(dir, "s.lua", "--dry-run")
    t.eq(code, 1, out)
    return out
  end
  local out = dry("questions = plan.optimal{ compute = 1e21 }")
  t.ok(out:find("s.lua:1: study: questions must be a list (got a Question): write it in braces, questions = "
    .. "{ plan.optimal{ compute = 1e21 } }", 1, true), out)
  out = dry('fits = "isoflop"')
  t.ok(out:find('study: fits must be a list (got a string): write it in braces, fits = { "isoflop" }', 1, true), out)
  out = dry("hyper = { learning_rate = 1e-3 }")
  t.ok(out:find("unknown key 'learning_rate'; did you mean 'lr'?", 1, true), out)
  out = dry("models = { aspect_ratio = 32 }")
  t.ok(out:find("unknown key 'aspect_ratio'; did you mean 'aspect'?", 1, true), out)
  -- A list with a metatable is a list, and a question object of the user's own (its kind a plan
  -- kind) answers as it answers: neither is refused.
  local dir = script([[
local mine = { kind = "loss", answer = function(q, law) return { loss = 3 } end }
study "x" { sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } }, backend = "simulated", fits = { "chinchilla" },
  questions = setmetatable({ plan.optimal{ compute = 1e21 }, mine }, { __index = table }) }
]])
  local code, text = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, text)
end)

t.test("a study name with a line break or another control character is refused, naming it", function()
  -- It would split the report's heading and the study's line in scalelab results.
  local dir = t.fresh_dir(root)
  local code, out = scalelab(dir, [[-e 'study "two\nlines" { sweep = sweep.list{ { N = 1e5, D = 1e6 } }, backend = "simulated" }']])
  t.eq(code, 1, out)
  t.ok(out:find('study "two\\nlines": a study\'s name is one line without control characters', 1, true), out)
  t.ok(not exists(dir .. "/two_lines.db"), "nothing is written")
  no_internal(out)
end)

t.test("a sweep whose token counts reach 2^53 or wrap near 2^63 is refused, naming the value", function()
  local cases = {
    { "sweep.grid{ N = { 1e7 }, D = { math.maxinteger } }", "study: sweep point 1 (N=10M D=9.22e18) has D = "
      .. "9223372036854775808 tokens, more than a run can count exactly: token counts must be below 2^53 = "
      .. "9007199254740992 (the store keeps numbers as doubles); lower the sweep's token counts" },
    { "sweep.data_constrained{ unique_tokens = { 2^62 // 1 }, epochs = { 4 }, sizes = { 1e7 } }",
      "study: sweep point 1 (N=10M D=1.84e19 U=4.61e18 epochs=4) has D = 18446744073709551616 tokens" },
    { "sweep.grid{ N = { 3037000500 }, tokens_per_param = { 3037000500 } }", "more than a run can count exactly" },
    { "sweep.list{ { N = 1e7, U = 2^53, D = 1e9 } }", "has U = 9007199254740992 tokens, more than a run can count "
      .. "exactly: token counts must be below 2^53 = 9007199254740992 (the store keeps numbers as doubles); lower the "
      .. "sweep's unique tokens" },
  }
  for _, case in ipairs(cases) do
    local dir = script('study "x" { backend = "simulated", repeat_data = true, fits = {}, sweep = ' .. case[1] .. " }\n")
    local code, out = scalelab(dir, "s.lua", "--dry-run")
    t.eq(code, 1, case[1] .. "\n" .. out)
    t.ok(out:find(case[2], 1, true), case[1] .. "\n" .. out)
  end
end)

t.test("store = a folder is refused naming the study's store = key and the file to give", function()
  -- The store module refused it ("results store '.' is a folder ... e.g. './results.db'") without
  -- naming the key, and with a file named after no study.
  local folder = root .. "/store-folder"
  os.execute("mkdir -p '" .. folder .. "'")
  local grid = function() return sweep.grid { N = { 1e5 }, D = { 1e7 } } end
  for _, case in ipairs {
    { ".", "./my_study.db" }, { folder, folder .. "/my_study.db" }, { folder .. "/", folder .. "/my_study.db" },
  } do
    local message = t.raises(function() study "my study" { backend = "simulated", store = case[1], sweep = grid() } end,
      string.format("study \"my study\": store = \"%s\" is a folder, and a results store is one SQLite file: give a "
        .. "file in it, store = \"%s\"", case[1], case[2]))
    t.ok(not message:find("results.db", 1, true), message)
  end
  t.ok(not exists(folder .. "/my_study.db"))
end)

t.test("a study name with spaces at its ends is refused with the trimmed name as the fix", function()
  -- study " x " made the store _x_.db and a study apart from "x" by what no listing shows.
  local grid = sweep.grid { N = { 1e5 }, D = { 1e7 } }
  t.raises(function() study " x " { backend = "simulated", sweep = grid } end,
    'study " x ": a study\'s name has no spaces at its ends (they would name its store _x_.db and set it apart from '
    .. 'study "x" by what no listing shows); write study "x"')
  t.raises(function() study "my study " end, 'write study "my study"')
  t.ok(not exists("_x_.db"))
  -- Spaces inside a name are as before: no error until the spec (which here has no sweep).
  t.raises(function() study "my study" {} end, 'study "my study": sweep is required')
end)

t.test("study(name, { ... }) is refused with the call to write: it passed the table to nothing, and ended 0", function()
  -- study("x", spec) returned the function that takes the spec and dropped the spec: the script
  -- planned, trained and reported nothing, and exited 0 as if its study had run.
  local dir = script('study("calls", { sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } }, backend = "simulated" })\n')
  local code, out = scalelab(dir, "s.lua")
  t.eq(code, 1, out)
  t.ok(out:find('s.lua:1: study takes its name, then its table: study "calls" { ... } (or study("calls")({ ... })); '
    .. 'study("calls", { ... }) gave the table as a second argument, which nothing reads', 1, true), out)
  t.ok(not exists(dir .. "/calls.db"), "nothing is written")
  no_internal(out)
  -- A name made with gsub passes its count too: that is no table, and the study runs under the name.
  dir = script('local s = study(("my calls"):gsub(" ", "-")) { sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } }, '
    .. 'backend = "simulated", fits = {}, report = false }\nprint(s.name)\n')
  code, out = scalelab(dir, "s.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("study my-calls: 1 run planned", 1, true), out)
end)

t.test("sweep = a plain table says what sweep to write: values of one key, a list of points, or N and D", function()
  -- Each said only "sweep must be a sweep (...) (got a table)", whatever the table held.
  for _, case in ipairs {
    { "sweep.log(1e5, 1e7, 3)", "(got a table): a list of 3 numbers, such as sweep.log and sweep.linear give, holds "
      .. "the values of one key, not runs; make the runs of them, sweep.grid{ N = sweep.log(...), D = { ... } } or "
      .. "sweep.isoflop{ budgets = { ... }, sizes = sweep.log(...) }" },
    { "{ { N = 1e5, D = 1e7 } }", "(got a table): a list of points is a sweep once written sweep.list{ { N = ..., D = ... }, ... }" },
    { "{ N = { 1e5 }, D = { 1e7 } }", "(got a table): every N with every D is sweep.grid{ N = { ... }, D = { ... } }" },
  } do
    local dir = script('study "x" { backend = "simulated",\n  sweep = ' .. case[1] .. " }\n")
    local code, out = scalelab(dir, "s.lua", "--dry-run")
    t.eq(code, 1, case[1] .. "\n" .. out)
    t.ok(out:find("s.lua:2: study: sweep must be a sweep (sweep.grid{...}, sweep.isoflop{...}, ...) " .. case[2], 1, true),
      case[1] .. "\n" .. out)
  end
end)

t.done()
