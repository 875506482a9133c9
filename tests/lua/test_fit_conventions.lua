-- A fitted law carries the counting conventions of its runs: what N counts (all parameters or
-- non-embedding ones) and, for a fit on budgets, how C was counted. Its summary prints them, plan's
-- answers name a non-embedding N, and a fit that would read budgets counted with attention as 6·N·D
-- (fit.isoflop's D_opt = C/(6N)) refuses them.
local t = require "scalelab.test"

local root = t.scratch("fit-conventions")

local TRUTH = fit.published.chinchilla

-- Runs drawn exactly from Chinchilla's law (a small deterministic wobble), on a grid of N and D.
local function grid_columns() return require "law_grid" (TRUTH, 0.005) end

-- IsoFLOP runs: at each budget C, sizes N with D = C/(6N) exactly, losses from Chinchilla's law.
local BUDGETS = { 1e18, 1e19, 1e20 }
local function isoflop_columns()
  local N, D, C, L = {}, {}, {}, {}
  for _, c in ipairs(BUDGETS) do
    local centre = 0.1 * (c / 6) ^ 0.5
    for k = -4, 4 do
      local n = centre * 10 ^ (k / 4)
      N[#N + 1], D[#D + 1], C[#C + 1] = n, c / (6 * n), c
      L[#L + 1] = TRUTH:predict{ N = n, D = c / (6 * n) }
    end
  end
  return N, D, C, L
end

t.test("a law fitted to runs of non-embedding N says so: law.N_counts, its summary and plan's answers", function()
  local N, D, L = grid_columns()
  local law = fit.chinchilla(fit.observations { N = N, D = D, loss = L, params = "non_embedding" }, { bootstrap = 20 })
  t.eq(law.N_counts, "non_embedding")
  t.eq(law.C_counted, nil)  -- a law of N and D reads no budget
  t.ok(tostring(law):find("counts: N non-embedding parameters (Kaplan's count)", 1, true), tostring(law))
  local a = plan.optimal { compute = 1e21, law = law }
  t.ok(a.convention:find("C = 6·N·D, N non-embedding parameters", 1, true), a.convention)
  t.ok(tostring(a):find("N non-embedding parameters", 1, true), tostring(a))
  -- The same law with other values counts N the same way; so does a bootstrap sample.
  t.eq(law:with { E = 1.7 }.N_counts, "non_embedding")
  t.eq(law:sample(1).N_counts, "non_embedding")
  t.ok(plan.table { params = { 1e9 }, law = law:with { E = 1.7 } }.convention:find("non-embedding", 1, true))
  -- All parameters: said in the summary; the answers' convention is the default's.
  local all = fit.chinchilla(fit.observations { N = N, D = D, loss = L, params = "all" })
  t.eq(all.N_counts, "all")
  t.ok(tostring(all):find("counts: N all parameters (Chinchilla's count)", 1, true), tostring(all))
  t.eq(plan.optimal { compute = 1e21, law = all }.convention, "C = 6·N·D")
  -- Not said: nothing claimed.
  local unsaid = fit.chinchilla(fit.observations { N = N, D = D, loss = L })
  t.eq(unsaid.N_counts, nil)
  t.ok(not tostring(unsaid):find("counts:", 1, true), tostring(unsaid))
end)

t.test("a published law says what its paper's N counts: Kaplan et al.'s non-embedding, the others' all parameters", function()
  -- REFERENCE.md: Kaplan et al. 2020 count non-embedding parameters, their C ≈ 6·N·D of that N;
  -- Hoffmann et al. (and Besiroglu et al.'s refit of their runs) and Muennighoff et al. count all.
  for _, name in ipairs { "kaplan", "kaplan_N", "kaplan_curve", "kaplan_C" } do
    t.eq(fit.published[name].N_counts, "non_embedding", name)
  end
  t.eq(fit.published.kaplan_C.C_counted, "C = 6·N·D")
  t.eq(fit.published.kaplan.C_counted, nil)  -- a law of N and D reads no budget
  t.eq(fit.published.kaplan_D.N_counts, nil)  -- a law of tokens alone
  for _, name in ipairs { "chinchilla", "chinchilla_unrounded", "epoch", "datablations" } do
    t.eq(fit.published[name].N_counts, "all", name)
    t.eq(fit.published[name].C_counted, nil, name)
  end
  t.eq(plan.published.datablations_exact.N_counts, "all")
  -- The summaries print them, and plan's answers from Kaplan's law name its N.
  local kaplan = tostring(fit.published.kaplan)
  t.ok(kaplan:find("counts: N non-embedding parameters (Kaplan's count)\n", 1, true), kaplan)
  t.ok(tostring(fit.published.kaplan_C):find("counts: N non-embedding parameters (Kaplan's count); C = 6·N·D", 1, true))
  t.ok(tostring(fit.published.chinchilla):find("counts: N all parameters (Chinchilla's count)", 1, true))
  t.ok(not tostring(fit.published.kaplan_D):find("counts:", 1, true), tostring(fit.published.kaplan_D))
  local a = plan.optimal { compute = 1e21, law = fit.published.kaplan }
  t.ok(a.convention:find("N non-embedding parameters", 1, true), a.convention)
  t.eq(plan.optimal { compute = 1e21, law = fit.published.chinchilla }.convention, "C = 6·N·D")
  -- Other values, the same count: law:with keeps it.
  t.eq(fit.published.kaplan:with { alpha_N = 0.08 }.N_counts, "non_embedding")
end)

t.test("a law of C says how its budgets were counted", function()
  local N, D, L = grid_columns()
  local C = {}
  for i = 1, #N do C[i] = 6 * N[i] * D[i] end
  -- Without C the budgets are 6·N·D; with C = 6·N·D declared, the same; with C not declared, not said.
  local derived = fit.kaplan(fit.observations { N = N, D = D, loss = L }, { form = "C" })
  t.eq(derived.C_counted, "C = 6·N·D")
  t.ok(tostring(derived):find("counts: C = 6·N·D", 1, true), tostring(derived))
  t.eq(fit.kaplan(fit.observations { N = N, C = C, loss = L, flops = "6ND" }, { form = "C" }).C_counted, "C = 6·N·D")
  t.eq(fit.kaplan(fit.observations { N = N, C = C, loss = L }, { form = "C" }).C_counted, nil)
  local kaplan = fit.kaplan(fit.observations { N = N, C = C, loss = L, flops = "kaplan" }, { form = "C" })
  t.ok(kaplan.C_counted:find("Kaplan's count with attention", 1, true), kaplan.C_counted)
end)

t.test("fit.observations refuses a count it does not know, naming the input and the choices", function()
  local N, D, L = grid_columns()
  t.raises(function() fit.observations { N = N, D = D, loss = L, params = "nonembedding" } end,
    'params says what N counts: "all" (every parameter, Chinchilla\'s count) or "non_embedding" (Kaplan\'s) (got "nonembedding")')
  t.raises(function() fit.observations { N = N, D = D, loss = L, params = 1 } end, "(got number)")
  t.raises(function() fit.observations { N = N, D = D, loss = L, flops = "chinchilla" } end,
    'flops says how C was counted: "6ND"')
  t.raises(function() fit.observations { N = N, D = D, loss = L, flops = "kaplan" } end,
    'flops = "kaplan" says how the C column was counted, but no C is given')
end)

t.test("fit.isoflop refuses budgets counted with attention, which D_opt = C/(6N) would mix", function()
  local N, D, C, L = isoflop_columns()
  for _, count in ipairs { "kaplan", "palm" } do
    t.raises(function() fit.isoflop(fit.observations { N = N, C = C, loss = L, flops = count }) end,
      'fit.isoflop: the runs\' C is counted with attention (flops = "' .. count .. '": C = (6N + ')
    t.raises(function() fit.isoflop(fit.observations { N = N, C = C, loss = L, flops = count }) end,
      "give the budgets as 6·N·D")
  end
  -- Budgets of 6·N·D: the analysis's laws say so, and carry what N counts. Closed form: the runs lie
  -- exactly on Chinchilla's law, whose compute-optimal N at C is G·(C/6)^a; the vertices are of
  -- parabolas in ln N, near it (the law is not a parabola in ln N), and D_opt = C/(6·N_opt) exactly.
  local r = fit.isoflop(fit.observations { N = N, C = C, loss = L, flops = "6ND", params = "all" })
  t.eq(r.N_law.C_counted, "C = 6·N·D")
  t.eq(r.D_law.C_counted, "C = 6·N·D")
  t.eq(r.N_law.N_counts, "all")
  local opt = plan.optimal { compute = 1e19, law = TRUTH }
  for i, c in ipairs(r.budgets) do
    t.near(r.D_opt[i], c / (6 * r.N_opt[i]), 1e-12)
    if c == 1e19 then t.near(r.N_opt[i], opt.N, 0.05) end
  end
  -- A rule from an analysis of non-embedding N says so in its answers.
  local ne = fit.isoflop(fit.observations { N = N, D = D, loss = L, params = "non_embedding" })
  t.eq(ne.N_law.N_counts, "non_embedding")
  local a = plan.optimal { compute = 1e20, allocation = plan.allocation { isoflop = ne } }
  t.ok(a.convention:find("N non-embedding parameters", 1, true), a.convention)
  -- Read by a law of all parameters, such a rule needs its models' shape: its own runs' vocabulary and
  -- context, not GPT-2's, which the refusal named (and called its N Kaplan et al.'s) as for Kaplan's rule.
  local message = t.raises(function()
    plan.optimal { compute = 1e20, allocation = plan.allocation { isoflop = ne }, law = TRUTH }
  end, "plan.optimal: the rule 'isoflop' counts non-embedding parameters (as its runs counted them, a study's "
    .. "params = \"non_embedding\"), and law ")
  t.ok(message:find("rule:with{ vocab = ..., ctx = ... } with the vocabulary and context of the models its runs trained",
    1, true), message)
  t.ok(not message:find("50257", 1, true) and not message:find("Kaplan et al.'s N", 1, true), message)
  local shaped = plan.optimal { compute = 1e20, allocation = plan.allocation { isoflop = ne }:with { vocab = 256, ctx = 64 },
    law = TRUTH }
  t.near(shaped.N, a.N, 1e-12)
end)

t.test("fit.isoflop with budget = { ... } refuses the runs' own C counted with attention, and reads other budgets as 6·N·D", function()
  local N, D, C, L = isoflop_columns()
  for _, count in ipairs { "kaplan", "palm" } do
    local obs = fit.observations { N = N, C = C, loss = L, flops = count }
    -- budget = obs.C: the C the observations say counts attention, which D_opt = C/(6N) would mix.
    local message = t.raises(function() fit.isoflop(obs, { budget = obs.C }) end,
      "fit.isoflop: budget = { ... } gives each run's own C, which is counted with attention (flops = \""
      .. count .. '": C = (6N + ')
    t.ok(message:find("give budget = { ... } the 6·N·D budget each run was planned at", 1, true), message)
  end
  -- The budgets each run was planned at, as 6·N·D (here the same numbers, given as such): read and said so.
  local planned = {}
  for i = 1, #N do planned[i] = 6 * N[i] * D[i] end
  local r = fit.isoflop(fit.observations { N = N, D = D, loss = L }, { budget = planned })
  t.eq(r.N_law.C_counted, "C = 6·N·D")
  -- Observations whose C counts attention, with the planned 6·N·D budgets (1% below the runs' C):
  -- the documented way, accepted.
  local counted = {}
  for i = 1, #N do counted[i] = C[i] * 1.01 end
  r = fit.isoflop(fit.observations { N = N, C = counted, loss = L, flops = "palm" }, { budget = C })
  t.eq(r.N_law.C_counted, "C = 6·N·D")
  for i, c in ipairs(r.budgets) do t.near(r.D_opt[i], c / (6 * r.N_opt[i]), 1e-12) end
end)

-- Training curves drawn from Chinchilla's law, 8 sizes, for fit.approach1; each run says what its N
-- counts where N_counts is given (as a study's s:curves() rows do).
local function curve_runs(N_counts)
  local runs = {}
  for _, n in ipairs { 1e7, 2e7, 5e7, 1e8, 2e8, 5e8, 1e9, 2e9 } do
    local curve = {}
    for k = 0, 40 do
      local d = 1e8 * 10 ^ (k / 10)
      curve[#curve + 1] = { tokens = d, train_loss = TRUTH:predict { N = n, D = d } }
    end
    runs[#runs + 1] = { N = n, N_counts = N_counts, curve = curve }
  end
  return runs
end

t.test("fit.approach1's laws count C as 6·N·D and carry what N counts", function()
  local runs = curve_runs()
  local r = fit.approach1(runs, { params = "non_embedding" })
  t.eq(r.N_law.C_counted, "C = 6·N·D")
  t.eq(r.N_law.N_counts, "non_embedding")
  local a = plan.optimal { compute = 1e20, allocation = plan.allocation { approach1 = r } }
  t.ok(a.convention:find("N non-embedding parameters", 1, true), a.convention)
  t.eq(fit.approach1(runs).N_law.N_counts, nil)
  t.raises(function() fit.approach1(runs, { params = "some" }) end, "fit.approach1: params says what the runs' N counts")
end)

-- Declares and runs study `name` in this process (report and printout left out).
local function run_study(name, spec)
  local saved_arg, saved_print = arg, print
  arg = { [-1] = "scalelab", [0] = "s.lua" }
  print = function() end
  spec.store = t.fresh_dir(root) .. "/" .. name .. ".db"
  spec.quiet, spec.report = true, false
  local ok, s = pcall(function() return study(name) (spec) end)
  arg, print = saved_arg, saved_print
  if not ok then error(s, 0) end
  return s
end

t.test("a study's fits carry its params = count, and plan's answers from them name it", function()
  local s = run_study("conventions-ne", {
    params = "non_embedding",
    sweep = sweep.isoflop { budgets = { 1e18, 1e19 }, sizes = sweep.log(1e7, 1e9, 5) },
    backend = { kind = "simulated", law = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 } },
    fits = { "isoflop", "chinchilla" } })
  t.eq(s.fits.chinchilla.N_counts, "non_embedding")
  t.ok(tostring(s.fits.chinchilla):find("counts: N non-embedding parameters", 1, true), tostring(s.fits.chinchilla))
  local a = plan.optimal { compute = 1e21, law = s.fits.chinchilla }
  t.ok(a.convention:find("N non-embedding parameters", 1, true), a.convention)
  local by_rule = plan.optimal { compute = 1e21, allocation = s.fits.isoflop }
  t.ok(by_rule.convention:find("N non-embedding parameters", 1, true), by_rule.convention)
  local all = run_study("conventions-all", {
    sweep = sweep.isoflop { budgets = { 1e18, 1e19 }, sizes = sweep.log(1e7, 1e9, 5) },
    backend = { kind = "simulated", law = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 } },
    fits = { "chinchilla" } })
  t.eq(all.fits.chinchilla.N_counts, "all")
  t.eq(plan.optimal { compute = 1e21, law = all.fits.chinchilla }.convention, "C = 6·N·D")
end)

t.test("a fit of a study's s:observations() records the study's N count, whichever fitter takes them", function()
  local s = run_study("conventions-rows", {
    params = "non_embedding",
    sweep = sweep.isoflop { budgets = { 1e18, 1e19, 1e20 }, sizes = sweep.log(1e7, 1e9, 5) },
    backend = { kind = "simulated", law = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 } },
    fits = { "isoflop" } })
  local obs = s:observations()
  t.eq(obs[1].N_counts, "non_embedding")
  -- The REPL's refits: the rows themselves, or fit.observations of them.
  t.eq(fit.chinchilla(obs).N_counts, "non_embedding")
  t.ok(tostring(fit.chinchilla(obs)):find("counts: N non-embedding parameters", 1, true))
  t.eq(fit.kaplan(obs, { form = "N" }).N_counts, "non_embedding")
  t.eq(fit.kaplan(fit.observations(obs), { form = "N" }).N_counts, "non_embedding")
  t.eq(fit.isoflop(obs).N_law.N_counts, "non_embedding")
  local a = plan.optimal { compute = 1e21, law = fit.chinchilla(obs) }
  t.ok(a.convention:find("N non-embedding parameters", 1, true), a.convention)
  -- fit.approach1 reads it off the runs too; params = saying otherwise is refused.
  local runs = curve_runs("non_embedding")
  t.eq(fit.approach1(runs).N_law.N_counts, "non_embedding")
  t.eq(fit.approach1(runs, { params = "non_embedding" }).N_law.N_counts, "non_embedding")
  t.raises(function() fit.approach1(runs, { params = "all" }) end,
    'fit.approach1: params = "all", but the runs count their N as "non_embedding"')
  -- Rows that disagree, or a row of the user's that says nothing among the study's, are refused
  -- naming both rows: a law fitted to them would mislabel some N.
  local function copy(rows)
    local out = {}
    for i, r in ipairs(rows) do
      out[i] = {}
      for k, v in pairs(r) do out[i][k] = v end
    end
    return out
  end
  local mixed = copy(obs)
  mixed[3].N_counts = "all"
  t.raises(function() fit.chinchilla(mixed) end, 'fit.chinchilla: row 3 counts N as "all" but row 1 as "non_embedding"')
  local added = copy(obs)
  added[#added + 1] = { N = 3e8, D = 1e9, loss = 3.2 }
  t.raises(function() fit.chinchilla(added) end, "fit.chinchilla: row " .. #added .. " does not say what its N counts, "
    .. 'but row 1 counts it as "non_embedding"')
  t.raises(function() fit.observations(added) end, 'give that row N_counts = "non_embedding"')
  local typo = copy(obs)
  typo[2].N_counts = "nonembedding"
  t.raises(function() fit.kaplan(typo, { form = "N" }) end,
    'fit.kaplan: row 2, N_counts says what its N counts: "all" (every parameter, Chinchilla\'s count) or "non_embedding"')
  -- Rows that say nothing: nothing claimed, as before.
  local plain = copy(obs)
  for _, r in ipairs(plain) do r.N_counts = nil end
  t.eq(fit.chinchilla(plain).N_counts, nil)
end)

-- The results export (CSV) of a simulated IsoFLOP study named `name` (params = its count): its path.
local function exported_study(name, params, grid)
  local s = run_study(name, {
    params = params,
    sweep = grid or sweep.isoflop { budgets = { 1e18, 1e19 }, sizes = sweep.log(1e7, 1e9, 5) },
    backend = { kind = "simulated", law = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 } },
    fits = {} })
  local path = t.fresh_dir(root) .. "/runs.csv"
  s.store:export(path)
  return path
end

t.test("fit.read_csv of a results export records what its N column counts, and params = says it otherwise", function()
  -- A study's runs exported as its results file (the columns params and non_embedding_params both):
  -- N = "params" is every parameter, N = "non_embedding_params" Kaplan's count. Before, the laws
  -- fitted to either said nothing (law.N_counts nil), where the study's own fits said it.
  local path = exported_study("conventions-export")
  local function counts(mapping) return fit.kaplan(fit.read_csv(path, mapping), { form = "N" }).N_counts end
  t.eq(counts { N = "params", D = "tokens", loss = "loss" }, "all")
  t.eq(counts { N = "non_embedding_params", D = "tokens", loss = "loss" }, "non_embedding")
  t.ok(tostring(fit.chinchilla(fit.read_csv(path, { N = "non_embedding_params", D = "tokens", loss = "loss" })))
    :find("counts: N non-embedding parameters", 1, true))
  -- params = in the mapping says it, over what the file says.
  t.eq(counts { N = "params", D = "tokens", loss = "loss", params = "non_embedding" }, "non_embedding")
  t.eq(counts { N = "non_embedding_params", D = "tokens", loss = "loss", params = "all" }, "all")
  t.raises(function() fit.read_csv(path, { N = "params", loss = "loss", params = "nonembedding" }) end,
    'fit.read_csv: params says what N counts: "all" (every parameter, Chinchilla\'s count) or "non_embedding"')
  -- Another column, or a file that is no export (one params column, which could count either): no guess.
  t.eq(counts { N = "flops", loss = "loss" }, nil)
  local own = t.fresh_dir(root) .. "/own.csv"
  local lines = { "params,loss" }
  for _, n in ipairs { 1e7, 3e7, 1e8, 3e8, 1e9 } do lines[#lines + 1] = string.format("%g,%.6f", n, 2 + 400 / n ^ 0.34) end
  t.write_file(own, table.concat(lines, "\n") .. "\n")
  t.eq(fit.kaplan(fit.read_csv(own, { N = "params", loss = "loss" }), { form = "N" }).N_counts, nil)
  t.eq(fit.kaplan(fit.read_csv(own, { N = "params", loss = "loss", params = "all" }), { form = "N" }).N_counts, "all")
end)

t.test("fit.read_csv of a results export records how its C column was counted, and flops = says it otherwise", function()
  -- Its flops is 6·N·D with the N its study counts, flops_kaplan (and the trainer's result_flops) D·(6N + 6·L·T·d),
  -- flops_palm D·(6N + 12·L·T·d). Before, a law of C fitted to any of them said nothing of its count (law.C_counted
  -- nil, where fit.observations{ flops = } records it), and fit.isoflop took flops_kaplan's budgets as 6·N·D.
  local path = exported_study("conventions-export-C")
  local function counted(mapping) return fit.kaplan(fit.read_csv(path, mapping), { form = "C" }).C_counted end
  t.eq(counted { C = "flops", loss = "loss" }, "C = 6·N·D")
  t.eq(counted { N = "params", D = "tokens", C = "flops", loss = "loss" }, "C = 6·N·D")
  for _, column in ipairs { "flops_kaplan", "result_flops" } do
    local c = counted { C = column, loss = "loss" }
    t.ok(c and c:find("C = (6N + 6·L·T·d)·D (Kaplan's count with attention)", 1, true), column .. ": " .. tostring(c))
  end
  local palm = counted { C = "flops_palm", loss = "loss" }
  t.ok(palm and palm:find("C = (6N + 12·L·T·d)·D", 1, true), tostring(palm))
  -- The study counts every parameter: its flops is 6·params·tokens, which N mapped to the other count would
  -- read as 6·N·D of that N.
  t.raises(function() fit.read_csv(path, { N = "non_embedding_params", C = "flops", loss = "loss" }) end,
    "column 'flops' (C) is 6·N·D with N = params (every parameter: its study counts all), but N is mapped to "
    .. "'non_embedding_params'")
  t.raises(function() fit.read_csv(path, { N = "non_embedding_params", C = "flops", loss = "loss" }) end,
    'map N = "params", or leave C out (C = 6·N·D of the N mapped)')
  -- An IsoFLOP sweep's export has each run's budget (6·N·D as planned), by which fit.isoflop groups its runs
  -- whatever C is mapped; runs without one (a grid's) are grouped by their C, which fit.isoflop refuses where
  -- it is counted with attention, naming the count and the fix.
  local by_budget = fit.isoflop(fit.read_csv(path, { N = "params", C = "flops_kaplan", loss = "loss" }))
  t.eq(by_budget.a, fit.isoflop(fit.read_csv(path, { N = "params", C = "flops", loss = "loss" })).a)
  local grid = exported_study("conventions-export-C-grid", nil,
    sweep.grid { N = sweep.log(1e7, 1e9, 5), D = { 1e9, 1e10 } })
  local ok, err = pcall(fit.isoflop, fit.read_csv(grid, { N = "params", C = "flops_kaplan", loss = "loss" }))
  t.ok(not ok, "fit.isoflop took flops_kaplan's C as 6·N·D")
  t.ok(tostring(err):find("fit.isoflop: the runs' C is counted with attention (flops = \"kaplan\": "
    .. "C = (6N + 6·L·T·d)·D", 1, true), tostring(err))
  t.ok(tostring(err):find('(fit.read_csv: C left out of the mapping, or a results export\'s C = "flops")', 1, true),
    tostring(err))
  -- flops = in the mapping says it, over what the file says; without C it is refused.
  t.eq(counted { C = "flops_kaplan", loss = "loss", flops = "6ND" }, "C = 6·N·D")
  t.raises(function() fit.read_csv(path, { N = "params", loss = "loss", flops = "kaplan" }) end,
    'fit.read_csv: flops = "kaplan" says how the C column was counted, but no C is given (without it C is 6·N·D); '
    .. 'map C = "<header>" or leave flops out')
  t.raises(function() fit.read_csv(path, { C = "flops", loss = "loss", flops = "chinchilla" }) end,
    'fit.read_csv: flops says how C was counted: "6ND"')
  -- A study of non-embedding N: its flops is 6·non_embedding_params·tokens.
  local ne_path = exported_study("conventions-export-C-ne", "non_embedding")
  t.eq(fit.kaplan(fit.read_csv(ne_path, { N = "non_embedding_params", C = "flops", loss = "loss" }), { form = "C" })
    .C_counted, "C = 6·N·D")
  t.raises(function() fit.read_csv(ne_path, { N = "params", C = "flops", loss = "loss" }) end,
    "column 'flops' (C) is 6·N·D with N = non_embedding_params (Kaplan's non-embedding count: its study says "
    .. 'params = "non_embedding"), but N is mapped to \'params\'')
  -- Another column, or a file that is no export: no guess, unless flops = says it.
  local own = t.fresh_dir(root) .. "/own.csv"
  local lines = { "compute,loss" }
  for _, c in ipairs { 1e16, 1e17, 1e18, 1e19, 1e20 } do lines[#lines + 1] = string.format("%g,%.6f", c, (3.1e8 * 8.64e19 / c) ^ 0.05) end
  t.write_file(own, table.concat(lines, "\n") .. "\n")
  t.eq(fit.kaplan(fit.read_csv(own, { C = "compute", loss = "loss" }), { form = "C" }).C_counted, nil)
  local said = fit.kaplan(fit.read_csv(own, { C = "compute", loss = "loss", flops = "palm" }), { form = "C" }).C_counted
  t.ok(said and said:find("PaLM's", 1, true), tostring(said))
end)

t.done()
