-- help(f) says what f takes: the keys a library function accepts (its unknown-key error lists them)
-- are each named and explained in its help.
local t = require "scalelab.test"

local docs = require("scalelab.native.core").docs()

local obs = "fit.observations{ N = { 1e6, 2e6, 4e6 }, D = { 1e8, 2e8, 3e8 }, loss = { 3, 2.9, 2.8 } }"

-- Each function, and a call that gives it an unknown key (with what it checks before its keys).
local calls = {
  { "model.gpt", "model.gpt{ zzz = 1 }" },
  { "model.shape_for", "model.shape_for{ zzz = 1 }" },
  { "data.sampler", "data.sampler{ corpus = 1, zzz = 1 }" },
  { "data.held_out", "data.held_out{ zzz = 1 }" },
  { "data.bpe", "data.bpe{ zzz = 1 }" },
  { "data.files", "data.files{ 'x', zzz = 1 }" },
  { "data.synthetic", "data.synthetic{ kind = 'markov', zzz = 1 }" },
  { "data.synthetic", "data.synthetic{ kind = 'grammar', zzz = 1 }" },
  { "data.corpus", "data.corpus('gcide', { zzz = 1 })" },
  { "data.tokens_bin", "data.tokens_bin('x', { zzz = 1 })" },
  { "data.open", "data.open('x', { zzz = 1 })" },
  { "train.run", "train.run{ zzz = 1 }" },
  { "train.simulate", "train.simulate{ zzz = 1 }" },
  { "fit.chinchilla", "fit.chinchilla(" .. obs .. ", { zzz = 1 })" },
  { "fit.kaplan", "fit.kaplan(" .. obs .. ", { zzz = 1 })" },
  { "fit.data_constrained", "fit.data_constrained(" .. obs .. ", { zzz = 1 })" },
  { "fit.law", "fit.law(fit.published.chinchilla, " .. obs .. ", { zzz = 1 })" },
  { "fit.extrapolate", "fit.extrapolate(fit.published.chinchilla, " .. obs .. ", { below = 1e15, zzz = 1 })" },
  { "fit.isoflop", "fit.isoflop(" .. obs .. ", { zzz = 1 })" },
  { "fit.approach1", "fit.approach1({}, { zzz = 1 })" },
  { "fit.custom", "fit.custom{ zzz = 1 }" },
  { "fit.observations", "fit.observations{ zzz = 1 }" },
  { "fit.effective", "fit.effective{ zzz = 1 }" },
  { "fit.power_law", "fit.power_law{ zzz = 1 }" },
  { "plan.optimal", "plan.optimal{ zzz = 1 }" },
  { "plan.cost", "plan.cost{ zzz = 1 }" },
  { "plan.table", "plan.table{ zzz = 1 }" },
  { "plan.returns", "plan.returns{ zzz = 1 }" },
  { "plan.compare", "plan.compare{ zzz = 1 }" },
  { "plan.inference", "plan.inference{ zzz = 1 }" },
  { "plan.loss", "plan.loss{ zzz = 1 }" },
  { "plan.compute_for", "plan.compute_for{ zzz = 1 }" },
  { "plan.allocation", "plan.allocation{ zzz = 1 }" },
  { "sweep.grid", "sweep.grid{ zzz = 1 }" },
  { "sweep.isoflop", "sweep.isoflop{ zzz = 1 }" },
  { "sweep.data_constrained", "sweep.data_constrained{ zzz = 1 }" },
  { "store.open", "store.open('/nonexistent-folder/x.db', { zzz = 1 })" },
  { "study.study", "study 'x' { zzz = 1 }" },
  { "plot.figure", "plot.figure{ zzz = 1 }" },
  { "plot.curves", "plot.curves({}, { zzz = 1 })" },
  { "plot.loss_compute", "plot.loss_compute({}, nil, { zzz = 1 })" },
  { "plot.allocation", "plot.allocation{ zzz = 1 }" },
  { "plot.study_figures", "plot.study_figures{ zzz = 1 }" },
  { "plot.panels", "plot.panels{ zzz = 1 }" },
  { "plot.isoflop", "plot.isoflop({}, nil, { zzz = 1 })" },
  { "plot.residuals", "plot.residuals({}, fit.published.chinchilla, { zzz = 1 })" },
  { "plot.data_constrained", "plot.data_constrained({}, nil, { zzz = 1 })" },
}

-- The keys a call's unknown-key error lists: "(valid keys: a, b)" or plot's "(valid: a, b)".
local function accepted(code)
  local ok, err = pcall(assert(load(code)))
  t.ok(not ok, code .. " raised no error")
  local list = tostring(err):match("unknown key 'zzz' %(valid keys: ([^)]*)%)")
    or tostring(err):match("unknown argument 'zzz' %(valid: ([^)]*)%)")
  t.ok(list, code .. ": the error lists the valid keys: " .. tostring(err))
  local keys = {}
  for key in list:gmatch("[%w_]+") do keys[#keys + 1] = key end
  return keys
end

-- Each function, its keys named in its help (or in its module's, where options several functions share are
-- described once).
t.test("help names every option each library function takes", function()
  local undocumented = {}
  for _, call in ipairs(calls) do
    local module, name = call[1]:match("^([%w_]+)%.([%w_]+)$")
    local text = docs[_G[module][name]]
    t.ok(text, call[1] .. " is documented")
    text = text .. "\n" .. (docs[_G[module]] or "")
    for _, key in ipairs(accepted(call[2])) do
      if not text:find("%f[%w_]" .. key .. "%f[^%w_]") then undocumented[#undocumented + 1] = call[1] .. ": " .. key end
    end
  end
  t.eq(table.concat(undocumented, "\n"), "", "options their help does not name")
end)

-- A study's keys are listed in one sentence, each with what it is in parentheses: "seed (the runs'
-- seed, ...)". A key named bare (", jobs, executor, seed,") left the user to guess what it takes.
t.test("help(study.study) says what each key of a study is", function()
  local text = docs[study.study]
  local unexplained = {}
  for _, key in ipairs(accepted("study 'x' { zzz = 1 }")) do
    if not (text:find("%f[%w_]" .. key .. "%s+%(") or text:find("%f[%w_]" .. key .. " or [%w_]+%s+%(")) then
      unexplained[#unexplained + 1] = key
    end
  end
  t.eq(table.concat(unexplained, ", "), "", "keys named without what they are")
end)

-- help(plan) said every plan function takes law = and gpu =; plan.allocation, plan.answer and
-- plan.cost take no law = (plan.allocation no gpu = either). It now names the questions that take
-- both: exactly those whose unknown-key error lists law and gpu.
t.test("help(plan) names the functions that take law = and gpu =, and those are the ones that do", function()
  local plan_module = require "scalelab.plan"
  local text = docs[plan_module]
  local listed = text:match("Each question %(([^)]*)%) takes law =")
  t.ok(listed, "help(plan) names the functions that take law =: " .. text)
  local named = {}
  for name in (listed or ""):gmatch("plan%.([%w_]+)") do named[name] = true end
  local functions = {}
  for name, fn in pairs(plan_module) do
    if type(fn) == "function" then functions[#functions + 1] = name end
  end
  table.sort(functions)
  t.ok(#functions >= 10, table.concat(functions, " "))
  for _, name in ipairs(functions) do
    local takes = false
    if name ~= "answer" then  -- plan.answer(questions, law): the law is an argument, not a key
      local keys = {}
      for _, key in ipairs(accepted("plan." .. name .. "{ zzz = 1 }")) do keys[key] = true end
      takes = keys.law == true and keys.gpu == true
    end
    t.eq(named[name] == true, takes, "plan." .. name .. (takes and " takes" or " does not take") .. " law = and gpu =")
  end
  -- What it says of the others.
  t.ok(text:find("The other functions take no law =", 1, true), text)
  for _, said in ipairs { "plan.cost{ flops = C, gpu =", "plan.allocation{ ... }", "plan.answer(questions, law)" } do
    t.ok(text:find(said, 1, true), said .. ": " .. text)
  end
end)

t.done()
