-- The data-constrained law of Muennighoff et al. 2023 on their 182 fitted runs (tests/data/README.md).
local t = require "scalelab.test"

local obs = fit.read_csv(os.getenv("SCALELAB_TEST_DATA") .. "/datablations_parametric_fit_182pts.csv",
  { N = "params_N", D = "tokens_D", U = "unique_tokens_U", loss = "c4_val_loss", run = "run_name" })

t.test("the published law reproduces the paper's R² on its runs", function()
  local law = fit.published.datablations
  local L, mean = obs.loss, 0
  for i = 1, #L do mean = mean + L[i] / #L end
  local ss_res, ss_tot = 0, 0
  local N, D, U = obs.N, obs.D, obs.U
  for i = 1, #L do
    local p = law:predict{ N = N[i], D = D[i], U = U[i] }
    ss_res = ss_res + (p - L[i]) ^ 2
    ss_tot = ss_tot + (L[i] - mean) ^ 2
  end
  t.near(1 - ss_res / ss_tot, 0.772, 0.003)
end)

-- utils/parametric_fit.ipynb ("Fit default") printed "Min Loss: 0.015825936570763588" at its
-- R_D* 15.387756, R_N* 5.309743 (float32 torch; see runtime/fit/law.cpp, published::datablations).
local notebook_min = 0.015825936570763588

t.test("our objective at the published point is the notebook's printed minimum", function()
  -- Same runs, same U_N = min(N, N_opt(U)), same LSE form, same sum of Huber(1e-3): to 1e-7.
  t.near(fit.objective(fit.published.datablations, obs), notebook_min, 3e-7)
end)

t.test("searching where the notebook searched reproduces R_D* 15.4, R_N* 5.3, R² 0.77", function()
  -- The notebook's own starts (its 4x4 grid over [0, 20] less the starts with a 0, which give NaN),
  -- kept inside the region its L-BFGS explored.
  local starts = {}
  for _, rd in ipairs { 20 / 3, 40 / 3, 20 } do
    for _, rn in ipairs { 20 / 3, 40 / 3, 20 } do starts[#starts + 1] = { R_D = rd, R_N = rn } end
  end
  local bounds = { R_D = { 0, 20 }, R_N = { 0, 20 } }
  for _, law in ipairs {
    fit.data_constrained(obs, { base = fit.published.datablations, bounds = bounds }),   -- the documented recipe
    fit.data_constrained(obs, { base = fit.published.datablations, bounds = bounds, starts = starts }),
  } do
    t.near(law.params.R_D, 15.39, 0.05)          -- within 5% of the paper
    t.near(law.params.R_N, 5.31, 0.05)
    t.near(law.params.R_D, 15.372, 1e-3)       -- the optimum in float64 (the notebook's float32 stopped at 15.39)
    t.near(law.params.R_N, 5.3151, 1e-3)
    t.near(law.r2_loss, 0.772, 0.003)
    t.near(law.objective, notebook_min, 1e-6)
    t.eq(law.params.E, fit.published.datablations.params.E)   -- the base law stays frozen
  end
end)

t.test("unbounded, the same objective has lower optima, and the fit says so", function()
  local law = fit.data_constrained(obs, { base = fit.published.datablations, free = { "R_D", "R_N" }, bootstrap = 30 })
  t.eq(law.params.E, fit.published.datablations.params.E)   -- the base law stays frozen
  t.eq(law.params.alpha, 0.3526596)
  -- The global optimum: R_D* ≈ 95, R_N* ≈ 1.7, 0.13% below the published point's objective.
  t.ok(law.objective < notebook_min * (1 - 1e-3), "objective " .. law.objective)
  t.ok(law.params.R_D > 40 and law.params.R_N < 2.5, "R_D " .. law.params.R_D .. " R_N " .. law.params.R_N)
  t.ok(law.r2_loss > 0.78 and law.r2_loss < 0.80, "R² " .. law.r2_loss)
  -- The warning names the other optima, the published one among them.
  local warnings = table.concat(law.warnings, "\n")
  t.ok(warnings:find("other optima lie within 1%% of the best objective"), warnings)
  t.ok(warnings:find("R_D 15%.37, R_N 5%.31"), warnings)
  -- The data leave R_D* nearly unconstrained above ~6; the published values lie inside the intervals.
  t.ok(law.intervals.R_D[1] <= 15.39 and 15.39 <= law.intervals.R_D[2])
  t.ok(law.intervals.R_N[1] <= 5.31 and 5.31 <= law.intervals.R_N[2])
  t.ok(tostring(law):find("R_N"))
  -- law:interval of a fitted parameter is law.intervals'; a held one has none (it gave [E, E]).
  t.eq(law:interval("R_N")[1], law.intervals.R_N[1])
  t.eq(law.intervals.E, nil)
  t.raises(function() law:interval("E") end,
    "law:interval: E was held at 1.86914 in this fit and in its resamples, so it has no interval; name it in free")
end)

t.test("on a frozen base, R_D and R_N's standard errors are labelled conditional on it, beside the intervals", function()
  local note = "note: the standard errors (se) of R_D, R_N are conditional on the base law held fixed"
  local bounds = { R_D = { 0, 20 }, R_N = { 0, 20 } }
  local law = fit.data_constrained(obs, { base = fit.published.datablations, bounds = bounds })
  t.ok(tostring(law):find("se ", 1, true), tostring(law))
  t.ok(tostring(law):find(note, 1, true), tostring(law))
  -- No bootstrap: nothing said of intervals.
  t.ok(not tostring(law):find(note .. ",", 1, true) and not tostring(law):find(note .. ";", 1, true), tostring(law))
  t.ok(law:summary():find(note, 1, true), law:summary())
  -- The fitter's bootstrap holds the base too: its intervals are as conditional.
  local boot = fit.data_constrained(obs, { base = fit.published.datablations, bounds = bounds, bootstrap = 20 })
  t.ok(tostring(boot):find(note .. ", as are the bootstrap intervals (the base held in each resample)", 1, true),
    tostring(boot))
  -- A two-stage bootstrap (the study's base = "single_epoch") refits the base in each resample.
  local samples = {}
  for i = 1, 20 do
    local p = {}
    for k, v in pairs(law.params) do p[k] = v end
    p.E, p.R_D, p.R_N = p.E * (1 + 0.01 * (i - 10) / 10), p.R_D * (1 + (i - 10) / 10), p.R_N * (1 + (i - 10) / 20)
    samples[i] = p
  end
  local two_stage = law:with_samples(samples)
  t.ok(tostring(two_stage):find(note .. "; the bootstrap intervals include the base's uncertainty (refitted in each "
    .. "resample)", 1, true), tostring(two_stage))
  -- R_N held too: R_D's alone.
  local one = fit.data_constrained(obs, { base = fit.published.datablations, free = { "R_D" }, bounds = bounds })
  t.ok(tostring(one):find("note: the standard error (se) of R_D is conditional on the base law held fixed", 1, true),
    tostring(one))
  -- The published law (nothing fitted) says nothing of it.
  t.ok(not tostring(fit.published.datablations):find("conditional", 1, true))
end)

t.test("law.span gives the runs' unique tokens U and epochs D / U beside N, D and C", function()
  -- It gave N, D and C only, while plan reads U's and the epochs' spans to say how far an answer extrapolates.
  local law = fit.data_constrained(obs, { base = fit.published.datablations, free = { "R_D" }, covariance = false })
  local lo, hi = {}, {}
  for i = 1, #obs.loss do
    for name, v in pairs { N = obs.N[i], D = obs.D[i], U = obs.U[i], epochs = obs.D[i] / obs.U[i],
                           C = 6 * obs.N[i] * obs.D[i] } do
      lo[name], hi[name] = math.min(lo[name] or math.huge, v), math.max(hi[name] or 0, v)
    end
  end
  for _, name in ipairs { "N", "D", "C", "U", "epochs" } do
    t.ok(law.span[name], name)
    t.near(law.span[name][1], lo[name], 1e-12)
    t.near(law.span[name][2], hi[name], 1e-12)
  end
  t.ok(hi.epochs > 1, "the runs repeat their data")
  -- Read-only as the others: a changed copy leaves the law's span as it was.
  law.span.U[1] = 0
  t.near(law.span.U[1], lo.U, 1e-12)
  -- help(fit) and help(law) say what the span holds.
  local help = t.help_text(fit):gsub("%s+", " ")
  t.ok(help:find("law.span (the span of the runs fitted, { lo, hi } per input they had: { N =, D =, C =, U =, epochs = }",
    1, true), help)
  help = t.help_text(law):gsub("%s+", " ")
  t.ok(help:find("U = ..., epochs = ... }", 1, true), help)
end)

t.test("reading the CSV with a wrong mapping names the file's columns", function()
  t.raises(function()
    fit.read_csv(os.getenv("SCALELAB_TEST_DATA") .. "/datablations_parametric_fit_182pts.csv", { N = "params", loss = "c4_val_loss" })
  end, "no column 'params'")
end)

t.test("in direct coordinates a positive parameter stays positive", function()
  -- Natural coordinates have no logarithm to keep R_D*, R_N* above zero: the fit bounds them at 0
  -- (without that bound, the start (20, 20) walked to R_N* = -2.5e4).
  local law = fit.data_constrained(obs, { base = fit.published.datablations, parametrisation = "direct",
                                          starts = { { R_D = 20, R_N = 20 } }, covariance = false })
  t.ok(law.params.R_D > 0 and law.params.R_N > 0, string.format("R_D* %g, R_N* %g", law.params.R_D, law.params.R_N))
  t.ok(law.objective <= fit.objective(fit.published.datablations, obs) * 1.01, "objective " .. law.objective)
end)

t.test("a data-constrained fit ends at its objective's optimum, on any threads, run after run", function()
  -- Runs drawn from the law with R_D* = 12 and 1% noise (a fixed generator), fitted on 2 threads
  -- eight times. The starts stop at a relative objective change of 1e-9, and the polish of the best
  -- did too: R_D* along its flat valley ended up to 1e-5 from the optimum, and where depended on
  -- which starts the threads merged first (two results in eight fits, 1.7e-5 apart).
  local truth = fit.published.datablations:with { R_D = 12 }
  local state = 12345
  local function noise()  -- uniform in [-1, 1]
    state = state * 6364136223846793005 + 1442695040888963407
    return ((state >> 11) % 2 ^ 40) / 2 ^ 39 - 1
  end
  local N, D, U, L = {}, {}, {}, {}
  for _, u in ipairs { 1e9, 3.16e9, 1e10, 3.16e10, 1e11 } do
    for _, e in ipairs { 1, 2, 4, 8, 16, 32, 64 } do
      for _, n in ipairs { 1e7, 3.16e7, 1e8, 3.16e8, 1e9, 3.16e9 } do
        N[#N + 1], D[#D + 1], U[#U + 1] = n, u * e, u
        L[#L + 1] = truth:predict { N = n, D = u * e, U = u } * (1 + 0.01 * noise())
      end
    end
  end
  local runs = fit.observations { N = N, D = D, U = U, loss = L }
  local base = fit.published.datablations
  -- The optimum: one thread (no merging races), every step to a relative change of 1e-15.
  local optimum = fit.data_constrained(runs, { base = base, covariance = false, threads = 1, function_tolerance = 1e-15 })
  for _ = 1, 8 do
    local law = fit.data_constrained(runs, { base = base, covariance = false, threads = 2 })
    t.near(law.params.R_D, optimum.params.R_D, 1e-6)
    t.near(law.params.R_N, optimum.params.R_N, 1e-6)
  end
end)

t.test("help(fit.data_constrained) says what it fits, what the runs need and what base does, and it does so", function()
  -- It printed only its signature: "fit.data_constrained(obs [, { base = law, ... }]) -> law".
  local text = t.help_text(fit.data_constrained):gsub("%s+", " ")
  for _, said in ipairs {
    "Muennighoff et al.'s L = E + A/N'^alpha + B/D'^beta",
    "a row without U trained on fresh tokens: U = D",
    "Without base all seven parameters are fitted at once",
    "holds those five and fits R_D and R_N",
    "fits = { data_constrained = { base = \"single_epoch\" } }",
    "base = fit.published.datablations with bounds = { R_D = {0, 20}, R_N = {0, 20} } gives about its R_D* 15.4, R_N* 5.3",
  } do
    t.ok(text:find(said, 1, true), "help says '" .. said .. "':\n" .. text)
  end
  -- A row without U is a run on fresh tokens: the law predicts for it as for U = D.
  local law = fit.published.datablations
  t.near(law:predict { N = 1e8, D = 2e10, U = 2e10 }, fit.published.chinchilla:with {
    E = law.params.E, A = law.params.A, B = law.params.B, alpha = law.params.alpha, beta = law.params.beta }:predict { N = 1e8, D = 2e10 }, 1e-12)
  -- With base, the five are held at its values and R_D, R_N fitted; the recipe's R_D*, R_N* are the paper's.
  local fitted = fit.data_constrained(obs, { base = law, bounds = { R_D = { 0, 20 }, R_N = { 0, 20 } } })
  for _, name in ipairs { "E", "A", "B", "alpha", "beta" } do t.eq(fitted.params[name], law.params[name]) end
  t.ok(fitted:summary():find("E     = [%d.]+%s+%(held%)"), fitted:summary())
  t.near(fitted.params.R_D, 15.39, 0.05)
  t.near(fitted.params.R_N, 5.31, 0.05)
end)

t.test("R_D* and R_N* without the runs that show them are said to be unidentified, with the runs that would pin them", function()
  -- Runs drawn from the published law (datablations_law.lua, written out from the paper) with 1% noise.
  -- With no run above twice N_opt(U), R_N* changes almost no prediction: the fit handed back a value
  -- and an interval (and in the seven-parameter fit a standard error of 6e-19 at R_N* = 1e-17) with
  -- nothing but a generic "cannot determine", or nothing at all.
  local truth = require "datablations_law"
  local state = 4242
  local function noise()  -- uniform in [-1, 1]
    state = state * 6364136223846793005 + 1442695040888963407
    return ((state >> 11) % 2 ^ 40) / 2 ^ 39 - 1
  end
  local function runs(keep)
    local N, D, U, L = {}, {}, {}, {}
    for _, u in ipairs { 1e9, 3.16e9, 1e10, 3.16e10, 1e11 } do
      for _, e in ipairs { 1, 4, 16, 64 } do
        for _, n in ipairs { 1e7, 3.16e7, 1e8, 3.16e8, 1e9, 3.16e9 } do
          if keep(n, u, e) then
            N[#N + 1], D[#D + 1], U[#U + 1] = n, u * e, u
            L[#L + 1] = truth.loss(n, u * e, u) * (1 + 0.01 * noise())
          end
        end
      end
    end
    return fit.observations { N = N, D = D, U = U, loss = L }
  end
  local base = fit.published.datablations
  local R_N_said = "R_N* is not identified: no run has twice the compute-optimal parameters for its unique data"
  local R_D_said = "R_D* is not identified: no run trains on its unique data twice or more"
  -- Every run at or below N_opt(U) (0.051·U under the law): R_N* is not identified, R_D* is.
  local under = runs(function(n, u) return n <= 0.045 * u end)
  for _, law in ipairs {
    fit.data_constrained(under, { base = base, bootstrap = 20 }),
    fit.data_constrained(under, { starts = { base.params }, bootstrap = 20 }),  -- all seven, from the truth
  } do
    local warnings = table.concat(law.warnings, "\n")
    t.ok(warnings:find(R_N_said, 1, true), warnings)
    -- It names the most excess there is, and the runs to add at the smallest U (N_opt(1e9) = 5.1e7).
    t.ok(warnings:find("Add runs with N above 2·N_opt(U): e.g. N from ", 1, true), warnings)
    t.ok(warnings:find("at U = 1B (N_opt(U) = ", 1, true), warnings)
    t.ok(not warnings:find(R_D_said, 1, true), warnings)
    t.ok(not warnings:find("the data cannot determine R_N:", 1, true), warnings)  -- said once, plainly
    local undetermined = table.concat(law.undetermined, ",")
    t.ok(undetermined:find("R_N", 1, true) and not undetermined:find("R_D", 1, true), undetermined)
    t.eq((law.standard_errors or {}).R_N, nil)
    t.ok(tostring(law):find(R_N_said, 1, true), tostring(law))
  end
  -- One epoch each: R_D* is not identified (R_N* is: sizes reach 60 times N_opt(U)).
  local once = runs(function(_, _, e) return e == 1 end)
  local law = fit.data_constrained(once, { base = base })
  local warnings = table.concat(law.warnings, "\n")
  t.ok(warnings:find(R_D_said .. " (the most is D = 1·U;", 1, true), warnings)
  t.ok(warnings:find("e.g. D = 4, 16 and 64 times U", 1, true), warnings)
  t.ok(not warnings:find(R_N_said, 1, true), warnings)
  t.eq(table.concat(law.undetermined, ","), "R_D")
  -- The whole sweep: both identified, nothing said.
  local all = fit.data_constrained(runs(function() return true end), { base = base })
  warnings = table.concat(all.warnings, "\n")
  t.ok(not warnings:find("not identified", 1, true), warnings)
  -- R_N held (not fitted): nothing said of it.
  local held = fit.data_constrained(under, { base = base, free = { "R_D" } })
  t.ok(not table.concat(held.warnings, "\n"):find("R_N*", 1, true), table.concat(held.warnings, "\n"))
end)

t.done()
