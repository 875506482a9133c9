-- The fit module's Lua API: observations, laws, fitting options, printing, errors.
local t = require "scalelab.test"

-- Synthetic runs from a known Chinchilla law with 1% multiplicative noise (deterministic LCG).
local seed = 777
local function uniform()
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
end
local function gauss()
  return math.sqrt(-2 * math.log(uniform() + 1e-12)) * math.cos(2 * math.pi * uniform())
end
local truth = fit.published.epoch
local N, D, L = {}, {}, {}
for i = 1, 100 do
  N[i] = math.exp(math.log(2e7) + uniform() * math.log(500))
  D[i] = math.exp(math.log(4e8) + uniform() * math.log(500))
  L[i] = truth:predict{ N = N[i], D = D[i] } * math.exp(0.01 * gauss())
end
local obs = fit.observations{ N = N, D = D, loss = L }
local quick = { E = { -0.5, 0.5 }, A = { 5, 10 }, B = { 5, 10 }, alpha = { 0.2, 0.5 }, beta = { 0.2, 0.5 } }

t.test("observations from Lua tables", function()
  t.eq(obs.size, 100)
  t.eq(#obs, 100)
  t.near(obs.C[1], 6 * N[1] * D[1], 1e-12)
  t.ok(tostring(obs):find("100 observations"))
end)

t.test("bad observations name the row and column", function()
  t.raises(function() fit.observations{ N = { 1e8, -2e8 }, D = { 1e9, 2e9 }, loss = { 3, 2.9 } } end, "row 2, column N")
  t.raises(function() fit.observations{ N = { 1e8, 2e8 }, D = { 1e9 }, loss = { 3, 2.9 } } end, "column D has 1 values")
  t.raises(function() fit.observations{ N = { 1e8, "x" }, loss = { 3, 2.9 } } end, "row 2, column N must be a number")
  t.raises(function() fit.observations{ N = { 1e8, 2e8 }, loss = { 3, 0 / 0 } } end,
    "row 2, column loss is NaN; give a finite number, or leave the run out")
  t.raises(function() fit.observations{ N = { 1e8 } } end, "loss column is required")
  t.raises(function() fit.observations{ N = { 1e8 }, los = { 3 } } end, "did you mean 'loss'")
end)

t.test("observations from a list of rows, as a study's s:observations() gives them", function()
  local rows = {}
  for i = 1, 100 do rows[i] = { N = N[i], D = D[i], loss = L[i], seed = i, hash = "h" .. i } end
  local from_rows = fit.observations(rows)
  t.eq(#from_rows, 100)
  t.eq(from_rows.N[7], N[7])
  t.eq(from_rows.D[100], D[100])
  t.eq(from_rows.loss[42], L[42])
  t.eq(from_rows.U, nil)
  t.eq(from_rows.run, nil)  -- the rows' own fields (seed, hash) are not read
  -- Every fitter takes the rows in place of Observations, and fits them as the columns.
  local a = fit.kaplan(rows, { form = "ND" })
  local b = fit.kaplan(obs, { form = "ND" })
  for name, value in pairs(b.params) do t.eq(a.params[name], value) end
  t.eq(fit.objective(b, rows), fit.objective(b, obs))
  -- U only where the run repeated its data: a row without it trained on fresh tokens, U = D.
  local mixed = fit.observations { { N = 1e8, D = 4e9, U = 1e9, loss = 3 }, { N = 2e8, D = 3e9, loss = 2.9, run = nil } }
  t.eq(mixed.U[1], 1e9)
  t.eq(mixed.U[2], 3e9)
  local named = fit.observations { { N = 1e8, D = 1e9, loss = 3, run = "a" }, { N = 2e8, D = 2e9, loss = 2.9, run = 7 } }
  t.eq(named.run[1], "a")
  t.eq(named.run[2], "7")
end)

t.test("bad rows name the row and what to give", function()
  t.raises(function() fit.observations { { N = 1e8, D = 1e9, loss = 3 }, { N = 2e8, loss = 2.9 } } end,
    "row 2 has no D value, but other rows do")
  t.raises(function() fit.observations { { N = 1e8, D = 1e9, loss = 3, run = "a" }, { N = 2e8, D = 1e9, loss = 2.9 } } end,
    "row 2 has no run, but other rows do")
  t.raises(function() fit.observations { { N = 1e8, D = 1e9, loss = "3" } } end, "row 1, loss must be a number (got string)")
  -- A number in quotes (text read from a file) is named by its row and field, with how to write it.
  t.raises(function() fit.chinchilla { { N = 1e8, D = 1e9, loss = 3 }, { N = "2e8", D = 1e9, loss = 2.9 } } end,
    "fit.chinchilla: row 2, N must be a number (got string); write it without quotes: N = 2e8")
  t.raises(function() fit.observations { { N = 1e8, D = 1e9, loss = "x" } } end, "row 1, loss must be a number (got string)")
  t.ok(not select(2, pcall(fit.observations, { { N = 1e8, D = 1e9, loss = "x" } })):find("quotes", 1, true))
  -- A row's IsoFLOP budget in quotes was taken for no budget, without a word.
  t.raises(function() fit.observations { { N = 1e8, D = 1e9, loss = 3, budget = "6e17" } } end,
    "fit.observations: row 1, budget must be a number (got string); write it without quotes: budget = 6e17")
  t.raises(function() fit.isoflop { { N = 1e8, D = 1e9, loss = 3, budget = true } } end,
    "fit.isoflop: row 1, budget must be a number, the run's IsoFLOP budget in FLOP (got boolean)")
  t.raises(function() fit.observations{ N = { 1e8, "2e8" }, loss = { 3, 2.9 } } end,
    "fit.observations: row 2, column N must be a number (got string); write it without quotes: N[2] = 2e8")
  t.raises(function() fit.observations { { N = 1e8, D = 1e9, loss = 0 / 0 } } end, "row 1, loss is NaN")
  t.raises(function() fit.observations { { N = 1e8, D = 1e9, loss = 3 }, "x" } end, "row 2 must be a table")
  t.raises(function() fit.observations { { N = 1e8, D = 1e9 } } end, "the loss column is missing")
  -- A study's plan (s.runs) carries the size it asked for and no D: the error says what to give.
  t.raises(function() fit.chinchilla { { N = 1e8, N_fit = 1.04e8, tokens = 1e9, loss = 3 } } end,
    "fit.chinchilla: row 1 is a study's planned run (s.runs: N is the size it asked for, and it has no D); give s:observations()")
  -- A store's run (store:runs{...}) has params and tokens, not N and D: the error says how to map them.
  t.raises(function() fit.chinchilla { { params = 1e8, non_embedding_params = 8e7, tokens = 1e9, loss = 3 } } end,
    "fit.chinchilla: row 1 is a stored run (params =, tokens =; no N or D); give a study's s:observations(), which "
    .. "counts N as its fits do, or rows { N = r.params (or r.non_embedding_params for Kaplan's count), D = r.tokens")
  -- Rows of Kaplan's L(N, S) (or of C) that carry tokens as well are not stored runs.
  local curve_rows = {}
  for i, N in ipairs { 1e6, 3e6, 1e7, 3e7, 1e8 } do
    local S = 1e4 * i
    curve_rows[i] = { N = N, S = S, tokens = S * 512, loss = (8.8e13 / N) ^ 0.076 + (2.1e3 / S) ^ 0.76 }
  end
  t.eq(#fit.observations(curve_rows), 5)
  t.raises(function() fit.chinchilla { 3 } end, "must be Observations")
  t.raises(function() fit.chinchilla {} end, "fit.chinchilla: no observations (an empty list)")
  t.raises(function() fit.observations {} end, "fit.observations: no observations (an empty table)")
  -- A gap is named in the words of the function the rows went to.
  t.raises(function() fit.chinchilla { { N = 1e8, D = 1e9, C = 6e17, loss = 3 }, { N = 2e8, D = 2e9, loss = 2.9 } } end,
    "fit.chinchilla: row 2 has no C value, but other rows do")
  -- An empty run id is an id.
  local named = fit.observations { { N = 1e8, D = 1e9, loss = 3, run = "" }, { N = 2e8, D = 2e9, loss = 2.9, run = "b" } }
  t.eq(named.run[1], "")
end)

t.test("published laws", function()
  local c = fit.published.chinchilla
  t.eq(c.kind, "chinchilla")
  t.eq(c.params.E, 1.69)
  t.near(c:predict{ N = 70e9, D = 1.4e12 }, 1.69 + 406.4 / (70e9) ^ 0.34 + 410.7 / (1.4e12) ^ 0.28, 1e-12)
  t.near(fit.published.datablations:predict{ N = 6.34e9, D = 242e9, U = 25e9 }, 2.2256, 5e-4)
  t.eq(fit.published.kaplan.kind, "kaplan_ND")
  t.eq(fit.published.epoch.fitted, false)
  t.near(c:allocation(5.76e23).a, 0.28 / 0.62, 1e-12)
  t.ok(tostring(c):find("alpha"))
  t.raises(function() return c:predict{ N = 1e9 } end, "needs D")
  t.raises(function() return c:predict{ N = 1e9, DD = 1 } end, "unknown key 'DD'")
end)

t.test("chinchilla fit with bootstrap: params, intervals, printing", function()
  local law = fit.chinchilla(obs, { starts = quick, bootstrap = 40, seed = 3 })
  t.eq(law.fitted, true)
  t.near(law.params.alpha, 0.348, 0.1)
  t.near(law.params.beta, 0.366, 0.1)
  t.ok(law.objective > 0)
  t.ok(law.r2 > 0.9)
  t.eq(law.starts, 32)
  t.eq(#law.samples, 40)
  t.eq(#law.residuals, 100)
  -- The span of the runs fitted: the least and greatest N, D and C = 6·N·D over the 100 rows.
  local lo, hi = { N = math.huge, D = math.huge, C = math.huge }, { N = 0, D = 0, C = 0 }
  for i = 1, 100 do
    for name, v in pairs { N = N[i], D = D[i], C = 6 * N[i] * D[i] } do
      lo[name], hi[name] = math.min(lo[name], v), math.max(hi[name], v)
    end
  end
  for _, name in ipairs { "N", "D", "C" } do
    t.near(law.span[name][1], lo[name], 1e-12)
    t.near(law.span[name][2], hi[name], 1e-12)
  end
  t.eq(fit.published.epoch.span, nil)
  -- Runs without unique tokens: no U or epochs in the span (test_fit_datablations has them).
  t.eq(law.span.U, nil)
  t.eq(law.span.epochs, nil)
  for _, name in ipairs(law.names) do
    local i = law.intervals[name]
    t.ok(i[1] <= law.params[name] * 1.5 and i[2] >= law.params[name] / 1.5, name)
  end
  local ia = law.intervals.alpha
  t.ok(ia[1] <= 0.348 and 0.348 <= ia[2], string.format("truth inside the alpha interval [%g, %g] (fit %g)", ia[1], ia[2], law.params.alpha))
  t.ok(law.intervals.a ~= nil)
  local n_opt = law:interval(function(l) return l:allocation(1e22).N_opt end)
  t.ok(n_opt[1] < n_opt[2])
  t.ok(law.standard_errors.alpha > 0)
  local text = tostring(law)
  t.ok(text:find("95%% %["), text)
  t.ok(text:find("objective"))
  t.eq(law:summary(), text)
  t.ok(law.report:find("Ceres Solver Report"))
  t.near(law:predict{ N = 1e9, D = 2e10 }, truth:predict{ N = 1e9, D = 2e10 }, 0.02)
end)

t.test("options: tie, free, init, bounds, explicit starts, errors", function()
  local tied = fit.chinchilla(obs, { starts = quick, tie = { "alpha", "beta" } })
  t.eq(tied.params.alpha, tied.params.beta)
  local held = fit.chinchilla(obs, { starts = quick, free = { "A", "B", "alpha", "beta" }, init = { E = 1.8 } })
  t.eq(held.params.E, 1.8)
  local bounded = fit.chinchilla(obs, { starts = quick, bounds = { alpha = { 0.1, 0.3 } } })
  t.near(bounded.params.alpha, 0.3, 1e-6)
  t.ok(table.concat(bounded.warnings, "\n"):find("bound"))
  local explicit = fit.chinchilla(obs, { starts = { { E = 1.8, A = 400, B = 2000, alpha = 0.3, beta = 0.3 } } })
  t.eq(explicit.starts, 1)
  t.raises(function() fit.chinchilla(obs, { tie = { "alpha", "betta" } }) end, "did you mean 'beta'")
  -- A tie of held parameters was accepted and did nothing: base = a law with alpha != beta and
  -- tie = { "alpha", "beta" } fitted R_D*, R_N* on that base untied, saying nothing.
  t.raises(function() fit.chinchilla(obs, { free = { "E", "A", "B" }, tie = { "alpha", "beta" } }) end,
    "chinchilla fit: tie { alpha, beta } names only parameters that are held at their given values")
  local dc_rows = {}
  for i, o in ipairs { { 1e8, 1e9, 1e9 }, { 1e8, 4e9, 1e9 }, { 1e9, 1e10, 1e9 }, { 3e8, 3e10, 1e9 } } do
    dc_rows[i] = { N = o[1], D = o[2], U = o[3], loss = fit.published.datablations:predict { N = o[1], D = o[2], U = o[3] } }
  end
  t.raises(function() fit.data_constrained(dc_rows, { base = fit.published.epoch, tie = { "alpha", "beta" } }) end,
    "frozen by base =")
  t.raises(function() fit.chinchilla(obs, { bootstrapp = 3 }) end, "did you mean 'bootstrap'")
  t.raises(function() fit.chinchilla(obs, { bounds = { alpha = { 1 } } }) end, "{lower, upper}")
  t.raises(function() fit.chinchilla(fit.observations{ N = { 1e8, 2e8 }, D = { 1e9, 2e9 }, loss = { 3, 2.9 } }) end,
    "at least 6 observations")
end)

t.test("direct parametrisation agrees with LSE at the optimum", function()
  local lse = fit.chinchilla(obs, { starts = quick })
  local p = lse.params
  local direct = fit.chinchilla(obs, { parametrisation = "direct", merge_starts = false,
    starts = { { E = p.E * 1.1, A = p.A * 1.1, B = p.B * 1.1, alpha = p.alpha * 1.1, beta = p.beta * 1.1 } } })
  t.near(direct.objective, lse.objective, 1e-6)
  t.near(direct.params.alpha, lse.params.alpha, 1e-3)
end)

t.test("kaplan, power law, isoflop", function()
  local kn = fit.published.kaplan_N
  local n, l = {}, {}
  for i = 1, 30 do
    n[i] = 1e6 * 1.3 ^ i
    l[i] = kn:predict{ N = n[i] } * math.exp(0.002 * gauss())
  end
  local k = fit.kaplan(fit.observations{ N = n, loss = l }, { bootstrap = 20 })
  t.eq(k.kind, "kaplan_N")
  t.near(k.params.alpha_N, 0.076, 0.05)
  local pl = fit.power_law{ x = { 1e18, 1e19, 1e20 }, y = { 1e8, 10 ^ 8.5, 1e9 }, output = "N_opt" }
  t.near(pl.params.a, 0.5, 1e-9)
  t.near(pl:predict{ C = 1e22 }, 1e10, 1e-6)
  -- Its fit quality is in ln N_opt, the output it was given, not in the ln L of a loss law.
  t.ok(tostring(pl):find(" in ln N_opt\n", 1, true) and not tostring(pl):find("in ln L", 1, true), tostring(pl))
  -- IsoFLOP runs from the Chinchilla law at three budgets.
  local c = fit.published.chinchilla
  local IN, ID, IC, IL = {}, {}, {}, {}
  for _, budget in ipairs{ 1e18, 1e19, 1e20 } do
    local n0 = c:allocation(budget).N_opt
    for f = -4, 4 do
      local NN = n0 * 1.4 ^ f
      IN[#IN + 1], ID[#ID + 1], IC[#IC + 1] = NN, budget / (6 * NN), budget
      IL[#IL + 1] = c:predict{ N = NN, D = budget / (6 * NN) }
    end
  end
  local iso = fit.isoflop(fit.observations{ N = IN, D = ID, C = IC, loss = IL })
  t.eq(#iso.budgets, 3)
  t.near(iso.a, c:allocation(1e20).a, 0.03)
  t.ok(tostring(iso):find("isoflop"))
  t.raises(function() fit.kaplan(obs, { form = "X" }) end, "form must be")
end)

t.test("fit.isoflop groups runs by the budgets given and describes each curve", function()
  -- Runs whose own FLOPs (C) lie 2-6% above their budget, as a trainer's do: grouping by C would
  -- split each budget's curve; budget = {...} keeps them together.
  local truth = fit.published.chinchilla
  local N, D, C, L, budget = {}, {}, {}, {}, {}
  for _, b in ipairs { 1e18, 1e19, 1e20 } do
    local n_opt = plan.optimal{ compute = b, law = truth }.N
    for i, f in ipairs { 0.25, 0.5, 1, 2, 4 } do
      local n = n_opt * f
      N[#N + 1], D[#D + 1], C[#C + 1], budget[#budget + 1] = n, b / (6 * n), b * (1 + 0.01 * (i + 1)), b
      L[#L + 1] = truth:predict{ N = n, D = b / (6 * n) }
    end
  end
  local obs = fit.observations{ N = N, D = D, C = C, loss = L }
  local iso = fit.isoflop(obs, { budget = budget, bootstrap = 50, seed = 3 })
  t.eq(#iso.curves, 3)
  t.eq(iso.minima, 3)
  t.eq(iso.inside, 3)
  for i, curve in ipairs(iso.curves) do
    t.eq(curve.runs, 5)
    t.ok(curve.has_minimum and curve.inside and curve.used and curve.edge == nil, "curve " .. i)
    t.near(curve.N_opt, plan.optimal{ compute = curve.C, law = truth }.N, 0.05)
    t.near(curve.sizes[2] / curve.sizes[1], 16, 1e-9)
    local c0, c1, c2 = curve.coefficients[1], curve.coefficients[2], curve.coefficients[3]
    t.near(c0 + c1 * math.log(curve.N_opt) + c2 * math.log(curve.N_opt) ^ 2, curve.L_min, 1e-9)
  end
  t.near(iso.a, truth:allocation(1e20).a, 0.03)
  t.near(iso.b, 1 - iso.a, 1e-9)
  t.near(iso.k_D, 1 / (6 * iso.k), 1e-6)
  t.eq(iso.bootstrap_drawn, 50)
  t.ok(#iso.samples > 0 and #iso.samples <= 50, #iso.samples)
  t.near(iso.samples[1].b, 1 - iso.samples[1].a, 1e-12)
  t.ok(iso.intervals.a[1] <= iso.a and iso.a <= iso.intervals.a[2], tostring(iso))
  -- Without the budgets, each run's C makes its own curve: none has the 3 sizes a parabola needs.
  t.raises(function() fit.isoflop(obs) end, "no budget has runs of 3 or more distinct sizes")
  t.raises(function() fit.isoflop(obs) end, "give budget = { ... } per run")
  t.raises(function() fit.isoflop(obs, { budget = { 1e18 } }) end, "budget has 1 values but there are 15 observations")
  t.raises(function() fit.isoflop(obs, { bootstrap = -1 }) end, "bootstrap (resamples) must be >= 0")
  t.raises(function() fit.isoflop(obs, { budgets = budget }) end, "budgets")
  t.raises(function() fit.isoflop(obs, { budget = {} }) end, "budget is empty")
  -- Another seed draws other resamples.
  local again = fit.isoflop(obs, { budget = budget, bootstrap = 50, seed = 3 })
  local other = fit.isoflop(obs, { budget = budget, bootstrap = 50, seed = 4 })
  t.eq(again.samples[1].a, iso.samples[1].a)
  t.ok(other.samples[1].a ~= iso.samples[1].a or other.samples[2].a ~= iso.samples[2].a, "seed 4 drew as seed 3 did")
end)

t.test("fit.isoflop groups a study's rows by the budget each carries, as the study's own fit does", function()
  -- s:observations() of an IsoFLOP sweep: rows { N, D, C, loss, budget } whose C (6ND of the shape
  -- and whole steps the run got) lies off its budget. Grouped by C, each run was its own budget.
  local truth = fit.published.chinchilla
  local rows = {}
  for _, b in ipairs { 1e18, 1e19, 1e20 } do
    local n_opt = plan.optimal{ compute = b, law = truth }.N
    for i, f in ipairs { 0.25, 0.5, 1, 2, 4 } do
      local n, d = n_opt * f, b / (6 * n_opt * f)
      rows[#rows + 1] = { N = n, D = d, C = b * (1 + 0.01 * (i + 1)), loss = truth:predict{ N = n, D = d }, budget = b }
    end
  end
  local iso = fit.isoflop(rows)
  t.eq(#iso.curves, 3)
  t.eq(iso.minima, 3)
  t.near(iso.a, truth:allocation(1e20).a, 0.03)
  -- The rows made Observations first keep their budgets: the same curves.
  local via = fit.isoflop(fit.observations(rows))
  t.eq(#via.curves, 3)
  t.eq(via.a, iso.a)
  -- They are a column of the Observations, as help says, read as the others are.
  local budgets = fit.observations(rows).budget
  t.eq(#budgets, 15)
  t.eq(budgets[1], 1e18)
  t.eq(budgets[15], 1e20)
  t.eq(fit.observations { N = { 1, 2 }, D = { 1, 2 }, loss = { 1, 2 } }.budget, nil)
  -- budget = {...} still decides; rows without a budget (a grid's) are grouped by C as before.
  t.raises(function() fit.isoflop(rows, { budget = { 1e18 } }) end, "budget has 1 values but there are 15 observations")
  for _, r in ipairs(rows) do r.budget = nil end
  t.raises(function() fit.isoflop(rows) end, "give budget = { ... } per run")
end)

t.test("fit.isoflop on fit.read_csv of a results export groups by each run's budget, as on s:observations()", function()
  -- The README's IsoFLOP study, simulated: its runs' own 6ND lie off their budgets, so grouped by C
  -- they fall into other groups (1e10, 9.9e9, ...) than the study's budgets.
  local dir = t.script(t.scratch("fit-export"), [==[
local s = study "iso" {
  models = { aspect = 16, ctx = 64, vocab = 64 },
  sweep = sweep.isoflop{ budgets = { 1e10, 3e10, 1e11 }, sizes = sweep.log(4e3, 4e4, 5) },
  backend = { kind = "simulated", law = { E = 1.5, A = 8, B = 15, alpha = 0.34, beta = 0.28 } },
  fits = {}, report = false, quiet = true,
}
local native = require "scalelab.native.study"
assert(os.execute(string.format("'%s' results iso.db --csv runs.csv", native.executable())))
local function budgets(obs)
  local ok, r = pcall(fit.isoflop, obs)
  if not ok then return tostring(r) end
  local out = {}
  for i, b in ipairs(r.budgets) do out[i] = string.format("%.6g", b) end
  return table.concat(out, " ")
end
print("study: " .. budgets(s:observations()))
print("export: " .. budgets(fit.read_csv("runs.csv", { N = "params", D = "tokens", loss = "loss" })))
]==])
  local code, out = t.run(dir, "s.lua")
  t.eq(code, 0, out)
  t.ok(out:find("study: 1e+10 3e+10 1e+11\n", 1, true), out)
  t.ok(out:find("export: 1e+10 3e+10 1e+11\n", 1, true), out)
  -- A budget column some rows leave empty (a grid's runs beside an IsoFLOP sweep's) is read, NaN on
  -- those rows, and does not stop the file being read.
  t.write_file(dir .. "/mixed.csv", "N,D,loss,budget\n1e6,2e7,3.1,1e14\n2e6,2e7,3.0,\n4e6,2e7,2.9,1e14\n")
  local mixed = fit.read_csv(dir .. "/mixed.csv")
  t.eq(mixed.size, 3)
  t.eq(mixed.budget[1], 1e14)
  t.ok(mixed.budget[2] ~= mixed.budget[2], "NaN where the row has no budget")
  -- Mapped, an empty budget is refused as the grid's run it is, not as a run that did not finish.
  local ok, err = pcall(fit.read_csv, dir .. "/mixed.csv", { N = "N", D = "D", loss = "loss", budget = "budget" })
  t.ok(not ok)
  t.ok(tostring(err):find("mixed.csv:3: column 'budget' (budget) is empty: the row is of no IsoFLOP sweep", 1, true), err)
  t.ok(not tostring(err):find("did not finish", 1, true), err)
end)

t.test("fit.isoflop leaves out the runs without a budget where others carry one, as the study's fit does", function()
  -- An IsoFLOP sweep's runs (budget, C off it) beside a grid's (no budget): grouped all by C, no
  -- curve had 3 sizes ('give budget = {...} per run'); the study's fit leaves the grid's runs out.
  local truth = fit.published.chinchilla
  local rows, lines = {}, { "N,D,C,loss,budget" }
  local function add(n, d, c, b)
    local loss = truth:predict{ N = n, D = d }
    rows[#rows + 1] = { N = n, D = d, C = c, loss = loss, budget = b }
    lines[#lines + 1] = string.format("%.17g,%.17g,%.17g,%.17g,%s", n, d, c, loss, b and string.format("%.17g", b) or "")
  end
  for _, b in ipairs { 1e18, 1e19, 1e20 } do
    local n_opt = plan.optimal{ compute = b, law = truth }.N
    for i, f in ipairs { 0.25, 0.5, 1, 2, 4 } do add(n_opt * f, b / (6 * n_opt * f), b * (1 + 0.01 * (i + 1)), b) end
  end
  for _, n in ipairs { 1e8, 2e8, 4e8, 8e8 } do add(n, 2e10, 6 * n * 2e10, nil) end
  local dir = t.scratch("fit-mixed")
  t.write_file(dir .. "/runs.csv", table.concat(lines, "\n") .. "\n")
  for name, obs in pairs { rows = rows, observations = fit.observations(rows), read_csv = fit.read_csv(dir .. "/runs.csv") } do
    local ok, iso = pcall(fit.isoflop, obs)
    t.ok(ok, name .. ": " .. tostring(iso))
    t.eq(#iso.budgets, 3, name)
    t.eq(iso.budgets[1], 1e18, name)
    t.near(iso.a, truth:allocation(1e20).a, 0.03)
    -- Runs of no sweep, left out by design (as the study's fit leaves them out): a note, not a warning.
    t.ok(iso.notes[1]:find("left out 4 of the 19 runs: they have no budget, so belong to no IsoFLOP sweep", 1, true),
      name .. ": " .. tostring(iso.notes[1]))
    t.ok(iso.notes[1]:find("give budget = { ... } per run", 1, true), name)
    for _, w in ipairs(iso.warnings) do t.ok(not w:find("left out 4", 1, true), name .. ": " .. w) end
    t.ok(tostring(iso):find("\n  note: left out 4 of the 19 runs", 1, true), name .. ": " .. tostring(iso))
    t.ok(not tostring(iso):find("warning: left out", 1, true), name .. ": " .. tostring(iso))
  end
  t.ok(fit.observations(rows).budget[16] ~= fit.observations(rows).budget[16], "NaN where a row has no budget")
  -- budget = {...} still decides: every run, grouped as given.
  local budget = {}
  for i, r in ipairs(rows) do budget[i] = r.budget or 2.4e20 end
  local all = fit.isoflop(rows, { budget = budget })
  t.eq(#all.budgets, 4)
  for _, w in ipairs(all.warnings) do t.ok(not w:find("left out", 1, true), w) end
  t.eq(#all.notes, 0, table.concat(all.notes, "\n"))
  -- Too few runs with a budget: the error says which were left out.
  t.raises(function() fit.isoflop { rows[1], rows[2], rows[16], rows[17], rows[18] } end, "left out 3 of the 5 runs")
end)

t.test("fit.isoflop describes curves with no minimum, unused vertices and edges", function()
  -- y = 0.1·(ln N − ln centre)² per budget: 1e18 and 1e19 bracket their optimum, 1e20's sizes all
  -- lie below it (an extrapolated vertex, at its largest size's edge, not used), 1e17's losses are
  -- flat, and 1e16's parabola opens downward.
  local N, L, budget = {}, {}, {}
  local function add(n, loss, C) N[#N + 1], L[#L + 1], budget[#budget + 1] = n, loss, C end
  for _, C in ipairs { 1e18, 1e19, 1e20 } do
    local centre = math.sqrt(C / 120)
    local sizes = C == 1e20 and { 1 / 16, 1 / 8, 1 / 4 } or { 0.25, 0.5, 1, 2, 4 }
    for _, f in ipairs(sizes) do add(centre * f, 2 + 0.1 * math.log(f) ^ 2, C) end
  end
  for _, f in ipairs { 1, 2, 4 } do add(1e7 * f, 3, 1e17) end
  for _, f in ipairs { 1, 2, 4 } do add(1e6 * f, 3 - 0.1 * math.log(f / 2) ^ 2, 1e16) end
  local iso = fit.isoflop(fit.observations { N = N, loss = L }, { budget = budget })
  t.eq(#iso.curves, 5)
  local down, flat, low, high, far = table.unpack(iso.curves)
  t.eq(down.has_minimum, false); t.eq(down.flat, false); t.eq(down.N_opt, nil); t.eq(down.used, false)
  t.eq(flat.has_minimum, false); t.eq(flat.flat, true); t.eq(flat.used, false)
  t.ok(low.used and high.used and low.inside and high.inside)
  t.near(low.curvature, 0.1, 1e-9)
  t.near(low.N_opt, math.sqrt(1e18 / 120), 1e-9)
  t.eq(far.inside, false); t.eq(far.used, false); t.eq(far.edge, "largest")
  t.near(far.edge_N, math.sqrt(1e20 / 120) / 4, 1e-9)
  t.near(iso.a, 0.5, 1e-9)
  t.ok(iso.N_opt[1] ~= iso.N_opt[1], "NaN where a budget has no minimum")
  local text = table.concat(iso.warnings, "\n")
  t.ok(text:find("the parabola at C = 1e16 opens downward", 1, true), text)
  t.ok(text:find("the losses at C = 1e17 are flat or linear in ln N", 1, true), text)
  t.ok(text:find("the minimum at C = 1e20 (N = ", 1, true) and text:find("the power laws leave it out", 1, true), text)
  -- plot.allocation reads the arrays: the budgets without a minimum are no points.
  local minima
  for _, s in ipairs(plot.allocation{ isoflop = iso }.panels[1].series) do
    if s.kind == "points" and s.marker == "diamond" then minima = s end
  end
  t.eq(minima.label, "IsoFLOP minima")
  t.eq(#minima.x, 3)
  t.eq(minima.x[1], 1e18)
end)

t.test("fit.approach1 reads the envelope of the runs' curves, as a study's runs give them", function()
  -- Chinchilla's law (a = 0.4516) read by 16 sizes, 50 points each from 1e8 to 1e12 tokens; eval loss
  -- at every other point, and one run whose eval points are missing.
  local c = fit.published.chinchilla
  local runs = {}
  for i = 0, 15 do
    local n = 1e7 * 1000 ^ (i / 15)
    local curve = {}
    for j = 0, 49 do
      local d = 1e8 * 1e4 ^ (j / 49)
      local loss = c:predict { N = n, D = d }
      curve[#curve + 1] = { tokens = d, train_loss = loss, eval_loss = (j % 2 == 0 and i ~= 4) and loss or nil }
    end
    runs[#runs + 1] = { N = n, curve = curve }
  end
  local truth = c:allocation(1e20).a
  local r = fit.approach1(runs, { bootstrap = 50, seed = 2 })
  t.eq(r.loss, "train")  -- not every run has eval points
  t.eq(r.runs, 16)
  t.near(r.a, truth, 0.005)
  t.ok(#r.envelope > 100 and #r.switches >= 10, #r.envelope .. " points, " .. #r.switches .. " switches")
  local w = r.switches[1]
  t.near(w.N, math.sqrt(w.N_before * w.N_after), 1e-9)
  t.ok(r.envelope[1].run >= 1 and runs[r.envelope[1].run].N == r.envelope[1].N)
  -- Noise-free curves: the bootstrap redraws each curve about its smoothed curve, and only the
  -- smoothing's small misfit is left to redraw, so the interval is narrow about a, within the
  -- envelope's own discretisation (0.0006 here) of the truth.
  local iv = r.intervals.a
  t.ok(#r.samples >= 45 and iv[1] <= r.a and r.a <= iv[2] and iv[2] - iv[1] < 0.005, iv[1] .. " " .. iv[2])
  t.ok(iv[1] < truth + 0.002 and truth - 0.002 < iv[2], iv[1] .. " " .. iv[2])
  t.ok(tostring(r):find("approach1 fit (Chinchilla approach 1)", 1, true), tostring(r))
  -- As an allocation rule it knows the compute of the switches it was fitted through: an answer
  -- 1000 times beyond the last says so; one among them says nothing.
  local rule = plan.allocation { isoflop = r }
  t.eq(rule.name, "approach1")  -- not "isoflop": answers name the rule they came from
  t.ok(rule.doc:find("Chinchilla approach 1", 1, true), rule.doc)
  t.eq(plan.optimal { compute = 1e22, allocation = rule }.law, "allocation rule approach1")
  t.eq(plan.allocation { isoflop = r, name = "mine" }.name, "mine")
  local last = r.switches[#r.switches].C
  local far = plan.optimal { compute = 1000 * last, allocation = rule }
  local note = far.notes[1] or ""
  t.ok(note:find(string.format("beyond the %d approach-1 frontier switches fitted: compute 1000× the largest (",
    #r.switches), 1, true) == 1, note)
  t.eq(#plan.optimal { compute = math.sqrt(r.switches[1].C * last), allocation = rule }.notes, 0)
  t.eq(fit.approach1(runs, { loss = "eval" }).runs, 15)
  t.near(fit.approach1(runs, { smoothing = 0 }).a, truth, 0.005)
  -- The study's one-line reason when no law can be drawn through the envelope.
  local two = fit.approach1 { runs[1], runs[16] }
  t.eq(two.N_law, nil)
  t.ok(two.unfitted:find("no compute has a best size bracketed", 1, true), two.unfitted)
  -- Bad input names the run, the point or the option.
  t.raises(function() fit.approach1 { { N = 1e8 } } end, "runs[1].curve must be its loss curve")
  t.raises(function() fit.approach1 { { N = 1e8, curve = { { tokens = 1, train_loss = "x" } } } } end,
    "runs[1].curve[1].train_loss must be a number")
  t.raises(function() fit.approach1(runs, { bins_per_decade = 8 }) end, "points_per_decade")
  t.raises(function() fit.approach1(runs, { loss = "heldout" }) end, 'loss must be "auto", "eval" or "train"')
  t.raises(function() fit.approach1(runs, { points_per_decade = 2 ^ 32 + 50 }) end, "is more than 10000")
  t.raises(function() fit.approach1 { { N = "big", curve = {} } } end, "runs[1].N must be the run's parameter count, a number (got string)")
end)

t.test("custom Lua law", function()
  local law = fit.custom{
    name = "simple",
    params = { E = { start = { 1, 2 }, scale = "log" }, K = { start = { 100, 1000 }, scale = "log" }, a = { 0.2, 0.4 } },
    inputs = { "N", "D" },
    predict = function(p, x) return p.E + p.K / x.N ^ p.a + p.K / x.D ^ p.a end,
    formula = "E + K/N^a + K/D^a",
  }
  t.eq(law.kind, "custom")
  t.eq(law.fitted, false)
  local cn, cd, cl = {}, {}, {}
  local gen = fit.published.chinchilla:with{ A = 400, B = 400, alpha = 0.3, beta = 0.3 }
  for i = 1, 40 do
    cn[i], cd[i] = 1e7 * 1.2 ^ i, 1e9 * 1.15 ^ i
    cl[i] = gen:predict{ N = cn[i], D = cd[i] }
  end
  local fitted = fit.custom{
    params = { E = { start = { 1, 2 }, scale = "log" }, K = { start = { 100, 1000 }, scale = "log" }, a = { 0.2, 0.4 } },
    predict = function(p, x) return p.E + p.K / x.N ^ p.a + p.K / x.D ^ p.a end,
    data = fit.observations{ N = cn, D = cd, loss = cl },
  }
  t.near(fitted.params.a, 0.3, 1e-3)
  t.near(fitted.params.E, 1.69, 1e-3)
  t.raises(function()
    fit.custom{ params = { a = { 1 } }, predict = function() return "x" end, data = obs }
  end, "predict must return a number")
end)

t.test("fit.custom's per-parameter doc ends that parameter's line of the law's summary, fitted or not", function()
  -- params.x.doc was taken and never shown anywhere.
  local spec = {
    name = "documented",
    params = { E = { start = { 1.5 }, scale = "log", doc = "the irreducible loss" }, K = { start = { 400 }, scale = "log" },
               a = { start = { 0.3 }, doc = "the size\nexponent" } },
    predict = function(p, x) return p.E + p.K / x.N ^ p.a end,
    inputs = { "N" },
  }
  local function lines(law)
    local out = {}
    for line in tostring(law):gmatch("[^\n]+") do
      local name = line:match("^%s+([%w_]+) = ")
      if name then out[name] = line end
    end
    return out
  end
  local unfitted = lines(fit.custom(spec))
  t.ok(unfitted.E and unfitted.E:find("  %-%- the irreducible loss$"), tostring(unfitted.E))
  t.ok(unfitted.a and unfitted.a:find("  %-%- the size exponent$"), tostring(unfitted.a))
  t.ok(unfitted.K and not unfitted.K:find("--", 1, true), tostring(unfitted.K))
  local N, loss = {}, {}
  for i = 1, 12 do N[i], loss[i] = 1e6 * 2 ^ i, 1.7 + 300 / (1e6 * 2 ^ i) ^ 0.3 end
  spec.data = fit.observations { N = N, D = N, loss = loss }
  local fitted = lines(fit.custom(spec))
  t.ok(fitted.E and fitted.E:find("  %-%- the irreducible loss$"), tostring(fitted.E))
  -- A built-in law's summary is as it was.
  t.ok(not tostring(fit.published.chinchilla):find("--", 1, true), tostring(fit.published.chinchilla))
end)

t.test("a custom law with parameters named A, B, alpha, beta is not given Chinchilla's closed-form allocation", function()
  local l = fit.custom { params = { E = { 1.7 }, A = { 400 }, B = { 400 }, alpha = { 0.3 }, beta = { 0.3 } },
    predict = function(p, x) return p.E + p.A / x.N ^ p.alpha + p.B / x.D ^ (1.3 * p.beta) end, inputs = { "N", "D" } }
  t.ok(not tostring(l):find("compute-optimal: N_opt", 1, true), tostring(l))
  t.raises(function() l:allocation(1e22) end, "the closed-form compute-optimal allocation is that of the chinchilla and data_constrained forms")
  -- The planner finds its optimum numerically, under its own formula.
  local answer = plan.optimal { compute = 1e22, law = l }
  local N = answer.N
  local function loss(n) local d = 1e22 / (6 * n); return 1.7 + 400 / n ^ 0.3 + 400 / d ^ (1.3 * 0.3) end
  t.ok(loss(N) <= loss(N * 1.05) and loss(N) <= loss(N / 1.05), "the numeric optimum is a minimum of the law's own loss")
end)

t.test("the API's smaller checks: bootstrap = 1, fit.objective's delta, law:interval(\"a\"), fit.table, plan.loss of a law without a loss", function()
  t.raises(function() fit.chinchilla(obs, { bootstrap = 1, starts = { { E = 1.8, A = 482, B = 2085, alpha = 0.348, beta = 0.366 } } }) end,
    "bootstrap = 1 resample is too few for a 95% interval")
  local law = fit.chinchilla(obs, { bootstrap = 20, starts = { { E = 1.8, A = 482, B = 2085, alpha = 0.348, beta = 0.366 } } })
  t.raises(function() fit.objective(law, obs, -1) end, "delta (the Huber loss's) must be positive, or false for least squares")
  t.raises(function() fit.objective(law, obs, 0) end, "must be positive")
  t.ok(fit.objective(law, obs, false) > 0, "false: least squares")
  local a = law:interval("a")
  t.near(a[1], law.intervals.a[1], 1e-12)
  t.near(a[2], law.intervals.a[2], 1e-12)
  t.raises(function() fit.table(5) end, "fit.table(law): law must be a fitted or published law")
  local nan_law = fit.custom { params = { E = { 1 } }, predict = function() return 0 / 0 end, inputs = { "N", "D" } }
  t.raises(function() plan.loss { N = 1e9, D = 1e10, law = nan_law } end, "plan.loss: law 'custom' predicts")
  -- help's long entry names print alone on their line (gsub's count came out beside them).
  local printed, saved = {}, print
  print = function(...) printed[#printed + 1] = table.concat({ ... }, "\t") end
  help(plan.loss { N = 1e9, D = 1e10, law = fit.published.chinchilla })
  print = saved
  for _, line in ipairs(printed) do t.ok(not line:find("\t%d+$"), "a stray count: " .. line) end
end)

-- The percentile interval of plain draws (numpy's "linear": the q-quantile of n sorted values at
-- position q·(n − 1)), as a law's own intervals are computed; NaN draws are left out.
t.test("fit.interval gives the percentile interval of draws, linear between order statistics", function()
  local i = fit.interval { 4, 1, 3, 2 }
  t.near(i[1], 1.075)  -- position 0.075 between 1 and 2
  t.near(i[2], 3.925)
  t.eq(i.level, 0.95)
  local half = fit.interval({ 1, 2, 3, 4, 0 / 0 }, 0.5)
  t.near(half[1], 1.75)
  t.near(half[2], 3.25)
  local law = fit.chinchilla(obs, { bootstrap = 20, starts = { { E = 1.8, A = 482, B = 2085, alpha = 0.348, beta = 0.366 } } })
  local draws = {}
  for j, sample in ipairs(law.samples) do draws[j] = sample.alpha end
  t.near(fit.interval(draws)[1], law.intervals.alpha[1], 1e-12)
  t.near(fit.interval(draws, 0.8)[2], law:interval("alpha", 0.8)[2], 1e-12)
  t.raises(function() fit.interval {} end, "fit.interval: values is empty")
  t.raises(function() fit.interval({ 1, 2 }, 1) end, "level must be in (0, 1)")
  t.raises(function() fit.interval { 1, "x" } end, "fit.interval: values[2] must be a number (got string)")
end)

t.test("a custom law's predict runs on the coroutine that asks, so its errors unwind that coroutine", function()
  local failing = fit.custom { params = { E = { 1 } }, predict = function() error("mine") end, inputs = { "N" } }
  local ok, message = pcall(coroutine.wrap(function() return failing:predict { N = 1 } end))
  t.eq(ok, false)
  t.ok(type(message) == "string" and message:find("mine", 1, true), tostring(message))
  -- A pcall inside the coroutine catches it there.
  local inner_ok, inner = coroutine.wrap(function() return pcall(function() return failing:predict { N = 1 } end) end)()
  t.eq(inner_ok, false)
  t.ok(type(inner) == "string" and inner:find("mine", 1, true), tostring(inner))
  local law = fit.custom { params = { E = { 1 } }, predict = function(p, x) return p.E + 1 / x.N end, inputs = { "N" } }
  t.eq(coroutine.wrap(function() return law:predict { N = 2 } end)(), 1.5)
end)

t.test("fit.law refits a law from its own values, one start, unless starts or grid give others", function()
  local from = truth:with { alpha = 0.3 }
  local refit = fit.law(from, obs)
  t.eq(refit.starts, 1)
  t.near(refit.params.alpha, truth.params.alpha, 0.05)
  local gridded = fit.law(from, obs, { grid = { alpha = { 0.2, 0.4 } } })
  t.ok(gridded.starts > 1, "a grid given: its starts")
end)

t.test("extrapolation scoring", function()
  local e = fit.extrapolate(fit.law_of("chinchilla"), obs, { below = 1e19, starts = quick })
  t.ok(e.test_runs > 0 and e.train_runs > 0)
  t.ok(e.mean_abs_relative < 0.05)
  t.ok(tostring(e):find("extrapolation"))
end)

t.test("a fit that drives E to zero does not warn of disagreeing starts or rival optima over values that are all zero", function()
  -- Noise-free data from a law with no floor (E = 0): every start ends with E somewhere in 0..1e-6,
  -- which is one optimum, not several.
  local N, D, loss = {}, {}, {}
  for _, n in ipairs { 3e3, 1e4, 3e4, 1e5, 3e5 } do
    for _, d in ipairs { 1e6, 3e6, 1e7, 3e7 } do
      N[#N + 1], D[#D + 1] = n, d
      loss[#loss + 1] = 30 / n ^ 0.4 + 200 / d ^ 0.3
    end
  end
  local law = fit.chinchilla(fit.observations { N = N, D = D, loss = loss }, { covariance = false })
  t.ok(law.params.E < 1e-4, "E = " .. law.params.E)
  t.near(law.params.alpha, 0.4, 1e-3)
  t.eq(#law.warnings, 0, table.concat(law.warnings, "\n"))
end)

t.test("law:with_samples gives a law bootstrap samples made outside the fitter", function()
  local law = fit.published.chinchilla
  local samples = {}
  for i = 1, 41 do
    samples[i] = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34 + (i - 21) * 0.001, beta = 0.28 }
  end
  local with = law:with_samples(samples)
  t.eq(#with.samples, 41)
  t.near(with:interval("alpha")[1], 0.34 - 0.019, 1e-9)  -- numpy's 2.5th percentile of 0.320 .. 0.360: at 0.025·40 = 1
  t.near(with:interval("alpha")[2], 0.34 + 0.019, 1e-9)
  t.eq(with.params.alpha, 0.34)  -- the point law stays
  t.raises(function() law:with_samples { { E = 1.69, A = 406.4 } } end,
    "law:with_samples: samples[1].B is missing or not finite (a sample gives every parameter)")
  t.raises(function() law:with_samples { { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28, gamma = 1 } } end,
    "gamma")
end)

t.test("help documents the results of fit.isoflop and fit.approach1, naming each of their fields", function()
  local c = fit.published.chinchilla
  local rows, runs = {}, {}
  for _, C in ipairs { 1e18, 1e19, 1e20 } do
    for _, N in ipairs { 3e7, 1e8, 3e8, 1e9, 3e9 } do
      rows[#rows + 1] = { N = N, D = C / (6 * N), loss = c:predict { N = N, D = C / (6 * N) }, budget = C }
    end
  end
  for i = 0, 7 do
    local n = 1e7 * 1000 ^ (i / 7)
    local curve = {}
    for j = 0, 19 do
      local d = 1e8 * 1e4 ^ (j / 19)
      curve[#curve + 1] = { tokens = d, train_loss = c:predict { N = n, D = d } }
    end
    runs[#runs + 1] = { N = n, curve = curve }
  end
  for name, r in pairs { isoflop = fit.isoflop(rows, { bootstrap = 20 }), approach1 = fit.approach1(runs, { bootstrap = 20 }) } do
    local text = t.help_text(r)
    t.ok(not text:find("no documentation", 1, true), name .. ": " .. text)
    t.ok(text:find("fit." .. name, 1, true), name .. ": " .. text)
    for key in pairs(r) do t.ok(text:find(key, 1, true), name .. ": help does not name the field " .. key .. "\n" .. text) end
  end
end)

t.test("help(fit) documents every fitting option", function()
  local text = require("scalelab.native.core").docs()[fit]
  for _, key in ipairs { "bootstrap", "seed", "starts", "grid", "bounds", "tie", "free", "threads", "huber_delta",
                         "max_iterations", "covariance", "init", "parametrisation", "merge_starts", "bootstrap_starts",
                         "function_tolerance" } do
    t.ok(text:find(key .. " =", 1, true), "help(fit) does not document " .. key)
  end
  -- An option not among them is refused, naming them (so the list above is the whole of them).
  t.raises(function() fit.chinchilla({ { N = 1e8, D = 1e9, loss = 3 } }, { bootsrap = 10 }) end, "did you mean 'bootstrap'")
end)


t.test("a law's summary and allocation print numbers as plan's answers do: 6.4e13 and 1420, not 6.4e+13 and 1.42e+03", function()
  local kaplan = tostring(fit.published.kaplan)
  t.ok(kaplan:find("N_c     = 6.4e13", 1, true) and not kaplan:find("e+", 1, true), kaplan)
  -- Chinchilla's tokens per parameter D_opt/N_opt = (C/6)^(b-a)/G^2 pass 1000 near 1e35 FLOP.
  local c = fit.published.chinchilla
  local p = c.params
  local a, b = p.beta / (p.alpha + p.beta), p.alpha / (p.alpha + p.beta)
  local G = (p.alpha * p.A / (p.beta * p.B)) ^ (1 / (p.alpha + p.beta))
  local ratio = (1e36 / 6) ^ (b - a) / G ^ 2
  t.ok(ratio > 1000 and ratio < 9990, ratio)
  local text = tostring(c:allocation(1e36))
  t.ok(text:find(string.format(", %d tokens/param;", math.floor(tonumber(string.format("%.3g", ratio)) + 0.5)), 1, true), text)
  t.ok(not text:find("e+", 1, true), text)
end)


t.test("a fit's warnings print parameter values as its summary does: 1e12, not 1e+12", function()
  -- Kaplan's L(N) (N_c 8.8e13) fitted with N_c held below 1e12: the best point is on that bound.
  local truth = fit.published.kaplan_N
  local N, L = {}, {}
  for i, n in ipairs { 1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9 } do N[i], L[i] = n, truth:predict{ N = n } end
  local law = fit.kaplan(fit.observations{ N = N, loss = L }, { form = "N", bounds = { N_c = { 1e10, 1e12 } } })
  t.near(law.params.N_c, 1e12, 1e-6)
  local text = table.concat(law.warnings, "\n")
  t.ok(text:find("the best point has N_c on its bound (1e12)", 1, true), text)
  t.ok(not tostring(law):find("e+", 1, true), tostring(law))
end)

t.test("a fitted law's summary counts the starts at the best objective as starts, not as an objective", function()
  -- It said "starts 4500, converged 4500, at the best objective 2215", which read as an objective of 2215.
  local rows = {}
  for _, N in ipairs { 1e7, 3e7, 1e8, 3e8 } do
    for _, D in ipairs { 1e9, 3e9, 1e10 } do
      rows[#rows + 1] = { N = N, D = D, loss = fit.published.chinchilla:predict { N = N, D = D } }
    end
  end
  local law = fit.chinchilla(rows, { threads = 1 })
  local summary = law:summary()
  t.ok(summary:find(string.format("\n  starts %d, converged %d, %d of them at the best objective; ", law.starts,
    law.starts_converged, law.starts_at_best), 1, true), summary)
  t.ok(law.starts_at_best >= 1 and law.starts_at_best <= law.starts_converged, summary)
end)

-- "E on its bound" is said of a free E that sits at its bound, and of nothing else: a law whose form has no E
-- (Kaplan's L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D) and a fit with E held at a value near 0 have
-- none to say it of, however near 0 the runs' floor; a free E at 0 (direct parametrisation, whose bound 0 is
-- E's own) is said to be there. (Checked, not changed: the note was never said of the first two.)
t.test("a fit says E is on its bound only where a free E sits there", function()
  -- What is said of a bound, as warnings and as notes (a free E at its own bound 0 is a note: the runs show no
  -- floor above 0, which casts no doubt on the fit; a bound the user set stays a warning).
  local function bound_said(list)
    local out = {}
    for _, w in ipairs(list or {}) do
      if w:find("bound", 1, true) then out[#out + 1] = w end
    end
    return table.concat(out, " | ")
  end
  local function bound_warnings(law) return bound_said(law.warnings) end
  local function bound_notes(law) return bound_said(law.notes) end
  local N, D, L = require "law_grid" (fit.published.kaplan, 0.01)
  local kaplan = fit.kaplan(fit.observations { N = N, D = D, loss = L, params = "non_embedding" }, { form = "ND" })
  t.eq(bound_warnings(kaplan), "")
  local direct = fit.kaplan(fit.observations { N = N, D = D, loss = L }, { form = "ND", parametrisation = "direct" })
  t.eq(bound_warnings(direct), "")
  -- Runs whose floor is 0: E + 400/N^0.34 + 400/D^0.28 with E = 0.
  local floorless = fit.published.chinchilla:with { E = 1e-300, A = 400, B = 400, alpha = 0.34, beta = 0.28 }
  local N0, D0, L0 = require "law_grid" (floorless, 0.01)
  local obs0 = fit.observations { N = N0, D = D0, loss = L0 }
  for _, parametrisation in ipairs { "lse", "direct" } do
    local held = fit.chinchilla(obs0, { free = { "A", "B", "alpha", "beta" }, init = { E = 1e-6 },
      parametrisation = parametrisation })
    t.eq(held.params.E, 1e-6)
    t.eq(bound_warnings(held), "", parametrisation)
    t.eq(bound_notes(held), "", parametrisation)
  end
  local free = fit.chinchilla(obs0, { parametrisation = "direct" })
  t.ok(free.params.E < 1e-6, free.params.E)
  -- Said as a note (law.notes, printed "note:"), not a warning: E at 0 is what these runs show.
  t.ok(bound_notes(free):find("the best point has E on its bound (0)", 1, true), bound_notes(free))
  t.eq(bound_warnings(free), "")
  t.ok(tostring(free):find("\n  note: the best point has E on its bound (0)", 1, true), tostring(free))
  t.ok(not tostring(free):find("warning: the best point has E", 1, true), tostring(free))
  -- That bound is E's own (a positive parameter in direct coordinates): no bound can be widened. It said
  -- "widen the bound or question the law".
  t.ok(bound_notes(free):find("the least a positive parameter can be: the data would put it at or below 0 (the "
    .. "runs show no floor above 0: their losses fall as the power laws alone)", 1, true), bound_notes(free))
  t.ok(bound_notes(free):find("hold it (free = {...}, init = {...}) where it is known otherwise", 1, true),
    bound_notes(free))
  t.ok(not bound_notes(free):find("widen the bound", 1, true), bound_notes(free))
  -- On its bound, E has no standard error (the bound holds it, not the data's curvature): law.standard_errors
  -- leaves it out, law.on_bound names it, and its summary line says why.
  t.eq(free.standard_errors.E, nil)
  t.ok(free.standard_errors.alpha > 0, tostring(free.standard_errors.alpha))
  t.eq(table.concat(free.on_bound, ","), "E")
  t.ok(tostring(free):find("\n  E     = [^\n]*%(on its bound: no se%)"), tostring(free))
  t.ok(bound_notes(free):find("; it has no standard error (the bound holds it there, not the data's curvature)", 1,
    true), bound_notes(free))
  -- Through every run (no scatter) there are no standard errors at all: the note says nothing of the others'.
  local exact_loss = {}
  for i = 1, #N0 do exact_loss[i] = 400 / N0[i] ^ 0.34 + 400 / D0[i] ^ 0.28 end
  local exact = fit.chinchilla(fit.observations { N = N0, D = D0, loss = exact_loss }, { parametrisation = "direct" })
  t.ok(bound_notes(exact):find("the best point has E on its bound (0)", 1, true), bound_notes(exact))
  t.ok(table.concat(exact.warnings, " | "):find("the law passes through every observation", 1, true),
    table.concat(exact.warnings, " | "))
  t.ok(not bound_notes(exact):find("the others'", 1, true), bound_notes(exact))
  -- A bound the user gave is one to widen: a warning, and not a note.
  local bounded = fit.chinchilla(obs0, { parametrisation = "direct", bounds = { E = { 0.5, 5 } } })
  t.ok(bound_warnings(bounded):find("the best point has E on its bound (0.5): widen the bound or question the law", 1,
    true), bound_warnings(bounded))
  t.eq(bound_notes(bounded), "")
  t.ok(tostring(bounded):find("\n  warning: the best point has E on its bound (0.5)", 1, true), tostring(bounded))
  -- law.notes is a view, as law.warnings is: it cannot be assigned.
  t.raises(function() free.notes = {} end, "notes cannot be set")
end)

-- In the LSE parametrisation (fit.chinchilla's default) E is fitted as ln E, which runs whose floor is 0
-- drive towards -inf: there each change of ln E leaves the fit unchanged, and E was said to be
-- undetermined ("the data cannot determine E: ... its value is arbitrary"). It is at 0, as the direct
-- parametrisation says, and the data say so clearly: a change of E itself would move the predictions.
-- An E the data cannot tell from another term (every run of one D: E + B/D^beta is one constant) is still
-- said to be undetermined.
t.test("a free E the runs drive to 0 is said to be at 0 in LSE too, and an E they cannot fix undetermined", function()
  local floorless = fit.published.chinchilla:with { E = 1e-300, A = 400, B = 400, alpha = 0.34, beta = 0.28 }
  local N0, D0, L0 = require "law_grid" (floorless, 0.01)
  local lse = fit.chinchilla(fit.observations { N = N0, D = D0, loss = L0 })
  -- E at 0 is the fit's honest answer here (no floor above 0 in the runs): said as a note, not a warning.
  local said = table.concat(lse.notes, " | ")
  t.ok(not table.concat(lse.warnings, " | "):find("at about 0", 1, true), table.concat(lse.warnings, " | "))
  t.ok(tostring(lse):find("\n  note: the best point has E at about 0 (", 1, true), tostring(lse))
  t.ok(not tostring(lse):find("warning: the best point has E", 1, true), tostring(lse))
  t.ok(lse.params.E < 1e-6, lse.params.E)
  t.ok(said:find("the best point has E at about 0 (", 1, true), said)
  t.ok(said:find("), the least a positive parameter can be: the data would put it at or below 0 (the runs show no floor "
    .. "above 0: their losses fall as the power laws alone), and it has no standard error; hold it (free = {...}, "
    .. "init = {...}) where it is known otherwise, or question the law", 1, true), said)
  t.ok(not said:find("cannot determine", 1, true), said)
  t.ok(not said:find("arbitrary", 1, true), said)
  t.eq(#lse.undetermined, 0)
  t.ok(not tostring(lse):find("undetermined", 1, true), tostring(lse))
  -- The others keep their standard errors.
  for _, name in ipairs { "A", "B", "alpha", "beta" } do t.ok(lse.standard_errors[name] > 0, name) end
  -- One D for every run: E, B and beta only as E + B/D^beta.
  local N, D, L = {}, {}, {}
  for i, n in ipairs { 1e7, 2e7, 5e7, 1e8, 2e8, 5e8, 1e9, 2e9 } do
    N[i], D[i] = n, 1e10
    L[i] = fit.published.chinchilla:predict { N = n, D = 1e10 } * math.exp(0.01 * math.sin(i * 12.9898))
  end
  local one_D = fit.chinchilla(fit.observations { N = N, D = D, loss = L })
  local told = table.concat(one_D.warnings, " | ")
  t.ok(told:find("the data cannot determine E, B, beta: at the best point (E = ", 1, true), told)
  t.ok(tostring(one_D):find("\n  warning: the data cannot determine E, B, beta", 1, true), tostring(one_D))
  t.eq(#one_D.notes, 0, table.concat(one_D.notes, " | "))
  t.ok(told:find("their values are arbitrary", 1, true), told)
  t.ok(not told:find("at about 0", 1, true), told)
  t.eq(table.concat(one_D.undetermined, ","), "E,B,beta")
end)

t.done()
