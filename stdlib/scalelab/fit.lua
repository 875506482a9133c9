-- fit: scaling laws and their fitting with Ceres (runtime/fit, bindings/fit.cpp).
--
--   local obs = fit.observations{ N = {...}, D = {...}, loss = {...} }
--   local obs = fit.read_csv("runs.csv", { N = "params", D = "tokens", loss = "loss" })
--   fit.chinchilla(s:observations())   -- a list of rows { N =, D =, loss =, ... } serves as obs
--   local law = fit.chinchilla(obs, { bootstrap = 200 })   -- the Chinchilla/Epoch method
--   print(law)                                              -- parameters with 95% intervals
--   law.params.alpha, law.intervals.alpha, law:predict{ N = 70e9, D = 1.4e12 }
--   law:allocation(5.76e23).N_opt                          -- compute-optimal size at Gopher's budget
--   fit.data_constrained(obs, { base = fit.published.datablations, free = { "R_D", "R_N" } })
--     On Muennighoff et al.'s 182 runs the best R_D*, R_N* of their objective is about (95, 1.7):
--     the published (15.39, 5.31) is a local optimum 0.13% above it, the one their notebook's
--     L-BFGS reached from R* in {0, 6.7, 13.3, 20}. To reproduce the paper, search where it did:
--       fit.data_constrained(obs, { base = ..., bounds = { R_D = { 0, 20 }, R_N = { 0, 20 } } })
--     (R_D* 15.37, R_N* 5.315, R² 0.772 in loss space). Either way law.warnings lists the other optima.
--   fit.kaplan(obs, { form = "N" }), fit.isoflop(obs), fit.approach1(runs), fit.power_law{ x = C, y = N }
--   fit.custom{ params = { E = { start = { 1, 2 }, scale = "log" }, a = { 0.3 } },
--               predict = function(p, x) return p.E + 1 / x.N ^ p.a end, inputs = { "N" }, data = obs }
--
-- Options of every fitter (all optional):
--   bootstrap = n         resample the runs n times and refit: law.intervals, law.samples
--   seed = 1              the bootstrap's random seed
--   starts = {...}        a grid { alpha = {0, 0.5}, ... } in fit coordinates (ln of scale
--                         parameters such as E, A, B) or a list of points { {E =, A =, ...}, ... }
--   bounds = { alpha = {0, 3} }   natural units
--   tie = { "alpha", "beta" }     fit parameters as one value
--   free = { "R_D", "R_N" }       fit only these; the others keep their init/base values
--   init = { E = 1.7, ... }       values of held parameters (and the start of explicit fits)
--   huber_delta = 1e-3 | false    δ of the Huber loss on ln residuals; false = least squares
--   threads = 2, max_iterations = 1000, covariance = true, parametrisation = "lse" | "direct"
local native = require "scalelab.native.fit"
local document = require("scalelab.native.core").document

local fit = {}
for name, value in pairs(native) do fit[name] = value end

document(fit, [[
fit: scaling laws and their fitting.
  fit.observations{ N =, D =, loss = [, U =, C =, S =, weight =, run =] }, fit.read_csv(path, mapping)
  fit.observations(rows)           rows { { N =, D =, loss = [, U =, ...] }, ... } (a study's s:observations());
                                   every fitter also takes such rows in place of obs. A column is in every row
                                   or in none, but for U: a row without it trained on fresh tokens (U = D);
                                   N_counts = "all" | "non_embedding" (a study's rows carry its params =) is
                                   what N counts, said alike by every row or by none, and the law records it
  fit.chinchilla(obs, opts)        L = E + A/N^alpha + B/D^beta (LSE parametrisation, sum of Huber(1e-3)
                                   over ln residuals, 4500-point start grid, best start kept)
  fit.data_constrained(obs, opts)  Muennighoff et al.: L = E + A/N'^alpha + B/D'^beta with R_D*, R_N*
                                   ({ base = law } freezes E, A, B, alpha, beta and fits R_D, R_N; the
                                   paper's R_D* 15.4, R_N* 5.3 is the best fit with bounds
                                   { R_D = {0, 20}, R_N = {0, 20} }, the unbounded best is ~(95, 1.7))
  fit.kaplan(obs, { form = "N"|"D"|"C"|"ND"|"curve" })   Kaplan et al. 2020 laws
  fit.isoflop(obs, { budget = { C of each run }, bootstrap = n, seed = })   Chinchilla approach 2:
                                   a parabola in ln N per budget (.curves: coefficients, N_opt, L_min,
                                   inside, used, edge), N_opt = k·C^a and D_opt through the vertices
                                   inside their sizes (.N_law, .D_law, .a, .b, .samples, .warnings,
                                   .notes);
                                   without budget, rows that carry one (a study's s:observations() of
                                   an IsoFLOP sweep, or fit.read_csv of its scalelab results export) are
                                   grouped by it and the runs without one (a grid's) left out, with a
                                   note; runs none of which carries one are grouped by C (or 6ND) to
                                   3 digits; budgets are read as 6·N·D (D_opt = C/(6·N_opt)), so the runs'
                                   C counted with attention (fit.observations{ flops = "palm" }) is refused,
                                   grouped by or given as budget = obs.C: give the 6·N·D budget each run
                                   was planned at;
                                   bootstrap: a residual bootstrap that keeps every run's size and redraws
                                   its loss (parabola x (1 + a pooled relative residual, leverage-corrected,
                                   scaled per resample for the few residual degrees of freedom)); 95%
                                   intervals of a held the truth in 94-98% of simulated studies (3-5 budgets
                                   of 4-9 sizes); budgets of exactly 3 runs leave no residuals, no intervals
  fit.approach1(runs, { loss = "auto"|"eval"|"train", smoothing = 0.5, points_per_decade = 100,
                bootstrap = n, seed = })   Chinchilla approach 1: runs { { N =, curve = { {tokens =,
                                   train_loss =, eval_loss =}, ... } }, ... } (a study's runs, store:curve);
                                   the lower envelope of their smoothed curves against C = 6·N·tokens where
                                   a smaller and a larger size bound the best (.envelope), N_opt = k·C^a
                                   through the computes where it passes from one size to the next
                                   (.switches, .N_law, .D_law, .a, .b, .samples, .warnings, .notes; .unfitted says
                                   why when no law can be drawn); bootstrap: every run kept, its curve redrawn
                                   as smoothed curve x (1 + a run offset + a residual a point), the offsets
                                   read across sizes (each against the quadratic in ln N through two sizes
                                   below and two above at the same compute), the residuals pooled over the
                                   curves; 95% intervals of a held the truth in 92-99% of simulated studies
                                   with 8 sizes, 96-100% with 12-24 (drawing whole runs, before: 36-46% with
                                   8 sizes, keeping 20-22% of resamples)
  fit.power_law{ x =, y = }        y = k·x^a by least squares in log space
  fit.custom{ params =, predict =, inputs =, data = obs }   a law written in Lua
  fit.extrapolate(law, obs, { below = C })   fit below C, report errors predicting the runs above
  fit.published.chinchilla / .chinchilla_unrounded / .epoch / .datablations / .kaplan (and kaplan_N, kaplan_D,
                                   kaplan_C, kaplan_curve): print one for its constants and source
Fitting options (opts of chinchilla, data_constrained, kaplan and law, all optional; fit.custom takes
them too but threads, parametrisation, merge_starts and bootstrap_starts: it fits on one thread):
  bootstrap = 0           resamples of the runs refitted for intervals (e.g. 200, as Epoch did); seed = 1
  free = {"R_D", ...}     parameters to fit; the others are held at init's (or the law's) values
  tie = {"alpha", "beta"} parameters fitted as one value (or a list of such lists)
  init = { E = 1.69 }     starting and held values; bounds = { alpha = {0, 3} } in natural units
  grid = { alpha = {...} } start grid per parameter (ln value for A, B, E); starts = { {...}, ... }
                          whole start vectors instead of the grid
  huber_delta = 1e-3      Huber's delta on ln residuals; false for least squares
  parametrisation = "lse" log-space LogSumExp (the published method) or "direct"
  max_iterations = 1000, function_tolerance = 1e-9, threads = 2, covariance = true (standard
  errors), merge_starts = true (a start stops at an optimum another reached), bootstrap_starts = 4
  (the best optima each bootstrap refit starts from)
A law: law.params, law.intervals, law.objective, law.r2, law:predict{N =, D =}, law:summary(),
law:allocation(C), law:optimal(C), law:N_opt(C), law:D_opt(C) (plan.optimal's answer, N and D at C FLOP;
{ compute = C, unique_tokens = U } for a data-constrained law), law:interval(name or function, level), law.samples, law.warnings
(what to doubt or act on: printed "warning:"), law.notes (what casts no doubt on the fit, such as a free E the runs
put at 0: printed "note:"), law.standard_errors, law.undetermined (parameters the data cannot determine: no standard error), law.on_bound (free
parameters on a bound, E at 0 among them: no standard error, the bound holds them; the others' are those with them
held there), law.span (the span of the runs fitted, { lo, hi } per input they had: { N =, D =, C =, U =, epochs = },
U their unique tokens and epochs = D / U only where they had U, a data-constrained fit's; plan's answers outside it
say how far they extrapolate).]])

document(fit.published, "The published laws, as Laws: chinchilla (Hoffmann et al. 2022, approach 3, as printed), "
  .. "chinchilla_unrounded (the same with E, alpha, beta unrounded), epoch (Besiroglu et al. 2024's refit), "
  .. "datablations (Muennighoff et al. 2023), kaplan (Kaplan et al. 2020, L(N, D)) and kaplan_N, kaplan_D, kaplan_C, "
  .. "kaplan_curve; print one for its constants and source.")
-- A name fit.published lacks is an error, not a nil taken later for "no law given"
-- (plan.optimal{ compute = 1e21, law = fit.published.chinchila }); plan.published's rules are named.
require("scalelab.missing").refuse_misses(fit.published, "fit.published", "law", function(name)
  local has_plan, native_plan = pcall(require, "scalelab.native.plan")
  if has_plan and rawget(native_plan.published, name) ~= nil then
    return "plan.published." .. name .. " is the published rule or law of that name", true
  end
end)

-- The compute-optimal questions an IsoFLOP fit's law answers (s.fits.isoflop:N_opt(C)), asked of any
-- law (fitted, published, law:with{...}) through the planner: law:optimal(C) is plan.optimal{ compute
-- = C, law = law }, and law:optimal{ compute = C, unique_tokens = U, ... } takes plan.optimal's options.
local has_plan, native_plan = pcall(require, "scalelab.native.plan")
if has_plan then
  local checks = require "scalelab.study.checks"
  local methods = getmetatable(native.published.chinchilla).__methods
  local function optimal_of(law, C, method)
    local options = { compute = C }
    if type(C) == "table" and getmetatable(C) == nil then
      if C.law ~= nil then
        checks.error_at_user("law:" .. method .. "{ law = ... }: the law is the one whose method this is; leave law = out")
      end
      options = {}
      for k, v in pairs(C) do options[k] = v end
    elseif type(C) ~= "number" then
      checks.error_at_user(string.format("law:%s(C): C must be the training compute in FLOP, e.g. law:%s(1e21) or "
        .. "law:%s{ compute = 1e21, unique_tokens = 25e9 } (got %s)", method, method, method, type(C)))
    end
    options.law = law
    -- Its errors name the method called: law:N_opt(0) said "plan.optimal: compute must be positive".
    local ok, answer = checks.pcall(native_plan.optimal, options)
    if ok then return answer end
    local prefix, rest = tostring(answer):match("^([^\n]-)plan%.optimal: (.*)$")
    if rest and (prefix == "" or prefix:sub(-2) == ": ") then
      -- An unknown key: plan.optimal's valid keys less law, which is this method's own (refused above);
      -- the list named it, and suggested it for 'lwa'.
      local key, valid = rest:match("^unknown key '(.-)'.- %(valid keys: (.-)%)$")
      if key then
        local keys = {}
        for k in valid:gmatch("[^, ]+") do if k ~= "law" then keys[#keys + 1] = k end end
        local near = checks.closest(key, keys)
        rest = string.format("unknown key '%s'%s (valid keys: %s)", key,
          near and ("; did you mean '" .. near .. "'?") or "", table.concat(keys, ", "))
      end
      checks.error_at_user("law:" .. method .. ": " .. rest)
    end
    error(answer, 0)
  end
  local core = require "scalelab.native.core"
  local added = {
    optimal = { function(law, C) return optimal_of(law, C, "optimal") end,
      "law:optimal(C or { compute = C [, unique_tokens =, epochs =, ...] }) -> the Answer of plan.optimal{ compute = C, "
      .. "law = law, ... }: the compute-optimal N, D, tokens/param and loss at C FLOP under C = 6ND" },
    N_opt = { function(law, C) return optimal_of(law, C, "N_opt").N end,
      "law:N_opt(C or { compute = C, ... }) -> the compute-optimal parameters at C FLOP: plan.optimal's N" },
    D_opt = { function(law, C) return optimal_of(law, C, "D_opt").D end,
      "law:D_opt(C or { compute = C, ... }) -> the compute-optimal tokens at C FLOP: plan.optimal's D" },
  }
  for name, entry in pairs(added) do
    -- Called through a C function, as the modules' functions are: an error names the user's line
    -- even where the call ends a user's function (checks.keep_callers).
    local kept = core.keep_caller(entry[1])
    core.document(kept, entry[2])
    methods[name] = kept
  end
end

-- Convenience: fit.table(law) -> a plain table of the parameters with intervals, for printing or saving.
function fit.table(law)
  -- By its type, not by a field: an Answer has names too, and fit.table(answer) failed inside, with
  -- "Answer has no field 'params'".
  local mt = getmetatable(law)
  local name = type(mt) == "table" and rawget(mt, "__name") or nil
  if type(law) ~= "userdata" or name ~= "Law" then
    require("scalelab.study.checks").error_at_user("fit.table(law): law must be a fitted or published law "
      .. "(fit.chinchilla(obs), fit.published.chinchilla), got " .. (type(name) == "string" and name or type(law)))
  end
  local out = {}
  local intervals = law.intervals
  for _, name in ipairs(law.names) do
    out[name] = { value = law.params[name], interval = intervals and intervals[name] or nil }
  end
  return out
end
document(fit.table, "fit.table(law) -> { name = { value =, interval = {lo, hi} } }")

return fit
