-- The calibration of the two-step data-constrained fit's bootstrap intervals (a study's
-- data_constrained = { base = "single_epoch" }: Muennighoff et al.'s base law on the single-epoch runs
-- without excess parameters, frozen, then R_D*, R_N*; analysis.single_epoch_fit and its
-- analysis.two_stage_bootstrap). Many simulated studies of a known law (Muennighoff et al.'s published
-- one, written out in datablations_law.lua, independent of the code under test) on the sweep of
-- scripts/repetition.lua with 4 epoch counts (5 unique-token budgets 1e9 to 1e11 by 1, 4, 16, 64 epochs
-- by 6 sizes 1e7 to 3e9: 120 runs, 1% log-normal noise on every loss), each fitted with bootstrap = 40.
--
-- What is checked, for R_D* and R_N*, over 40 studies:
--   * the 95% intervals hold the truth in at least 33 (95% of 40 is 38; below 33 has probability
--     under 1% for a calibrated interval): an over-narrow interval fails;
--   * the 50% intervals hold it in 12 to 28 (20 expected; outside has probability about 1%): an
--     interval too narrow or too wide in its middle fails;
--   * the median width of the 95% intervals, in ln, is 0.65 to 1.6 times 3.92 standard deviations of
--     the ln estimates across the studies (their interquartile range / 1.349, robust to a study whose
--     estimate runs off): 1 for a calibrated interval. An over-wide 95% interval fails here and not on
--     its coverage: a calibrated one holds the truth in all 40 studies 13% of the time, so 40 of 40
--     says nothing about width.
local t = require "scalelab.test"
local law = require "datablations_law"
local analysis = require "scalelab.study.analysis"
local runs = law.repetition_runs  -- the same studies everywhere

local function quantile(values, p)
  local sorted = {}
  for i, v in ipairs(values) do sorted[i] = v end
  table.sort(sorted)
  local h = (#sorted - 1) * p + 1
  local lo = math.floor(h)
  local hi = math.min(lo + 1, #sorted)
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo])
end

-- Measured (fit24) on these 40 studies, the 95% and 50% intervals' hits and the width ratio:
--   redrawing each run's loss from the fit's residuals (analysis.two_stage_bootstrap): R_D* 38, 19,
--     0.89; R_N* 38, 20, 1.15 (median ln width 2.68 against sd 0.595), over e^30 wide in 5 studies;
--   resampling whole runs (the bootstrap before it): R_D* 38, 20, 1.18; R_N* 39, 25, 5.9 (median ln
--     width 13.7), over e^30 wide in 15: fails the width;
--   the second step alone, the base law held (fit.data_constrained's own bootstrap with base = it):
--     R_D* 21, 5, 0.39; R_N* 11, 4, 0.21: fails all three.
-- The seven-parameter fit of the same runs (no base: a study's default), its bootstrap the fitter's own
-- (whole runs resampled), measured on 100 such studies: R_D* 95, 49, 0.96; R_N* 97, 61, 1.36 (sd-based
-- 1.12); here (its first 40) R_D* 39, 22, 0.92; R_N* 39, 24, 1.21. (An earlier 7 of 10 for R_D* was too
-- few studies to say it was narrow: it is not.)
-- Both fits on 40 studies: 19 s of CPU in a Release build (160 s of wall time on a loaded 2-core machine);
-- the two-step fit again on 40 studies of noise falling with N (the last test): 17 s more.
local studies = 40
local names = { "R_D", "R_N" }

-- The two-step fit of each study (bootstrap = 40) and the seven-parameter fit of the same runs (from
-- the two-step point, to stay quick: from its default start grid, 7 s of CPU a study, it reached the
-- same optimum, to 1e-15 of the objective, in the studies checked).
local two_step, joint = {}, {}
local function fit_studies()
  for study = 1, studies do
    local obs = runs(1000 + study, 0.01)
    local two = analysis.single_epoch_fit(obs, { bootstrap = 40, seed = study, threads = 1 })
    two_step[study] = two
    local N, D, U, L = {}, {}, {}, {}
    for i, o in ipairs(obs) do N[i], D[i], U[i], L[i] = o.N, o.D, o.U, o.loss end
    joint[study] = fit.data_constrained(fit.observations { N = N, D = D, U = U, loss = L },
      { starts = { two.params }, bootstrap = 40, seed = study, threads = 1, covariance = false })
  end
end

local function check_calibration(label, laws)
  t.eq(#laws, studies)
  for _, name in ipairs(names) do
    local estimates, held95, held50, widths, runaway = {}, 0, 0, {}, 0
    local truth = law.TRUTH[name]
    for _, fitted in ipairs(laws) do
      local i95, i50 = fitted:interval(name, 0.95), fitted:interval(name, 0.5)
      estimates[#estimates + 1] = math.log(fitted.params[name])
      if i95[1] <= truth and truth <= i95[2] then held95 = held95 + 1 end
      if i50[1] <= truth and truth <= i50[2] then held50 = held50 + 1 end
      widths[#widths + 1] = math.log(i95[2] / i95[1])
      if i95[2] > math.exp(30) * i95[1] then runaway = runaway + 1 end
    end
    local sd = (quantile(estimates, 0.75) - quantile(estimates, 0.25)) / 1.349
    local width = quantile(widths, 0.5)
    local ratio = width / (3.92 * sd)
    local what = string.format("%s, %s*: 95%% intervals held the truth in %d of %d studies, 50%% intervals in %d; "
      .. "median ln width %.2f, %.2f times 3.92 sd of the ln estimates (sd %.3f); wider than e^30 in %d", label, name,
      held95, #laws, held50, width, ratio, sd, runaway)
    print(what)
    t.ok(held95 >= 33, what)
    t.ok(held50 >= 12 and held50 <= 28, what)
    t.ok(ratio >= 0.65 and ratio <= 1.6, what)
  end
end

t.test("the two-step fit's 95% bootstrap intervals of R_D* and R_N* hold the truth as often as they say, "
  .. "and are as wide as the estimates spread", function()
  fit_studies()
  check_calibration("two-step", two_step)
end)

t.test("so do the seven-parameter fit's of the same runs", function()
  check_calibration("seven-parameter", joint)
end)

-- Noise that is not alike on every run: small models' losses scatter more across seeds than large ones'.
-- The same 40 studies with each loss's sd in ln falling log-linearly in ln N from 1.5% at N = 1e7 to 0.5% at
-- 3e9. Measured (boot25): the residual bootstrap R_D* 37, 24, 1.08; R_N* 36, 18, 0.94 (95% hits, 50% hits,
-- width ratio); a wild bootstrap (each run's own residual times a random sign, which keeps its scale) R_D* 32,
-- 9, 0.57; R_N* 28, 17, 0.57: too narrow, failing all three checks (and under equal noise too: 28, 10, 0.54;
-- 26, 12, 0.61). analysis.two_stage_bootstrap says why and the other noises measured.
local function falling_noise(N)
  local t = math.log(N / 1e7) / math.log(3e9 / 1e7)
  return 0.015 * (0.005 / 0.015) ^ t
end

t.test("the two-step fit's intervals hold the truth as often as they say under noise that falls with N too",
  function()
  local laws = {}
  for study = 1, studies do
    laws[study] = analysis.single_epoch_fit(runs(1000 + study, falling_noise),
      { bootstrap = 40, seed = study, threads = 1 })
  end
  check_calibration("two-step, noise falling with N", laws)
end)

t.done()
