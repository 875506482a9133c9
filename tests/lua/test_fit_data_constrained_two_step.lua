-- The two-step data-constrained fit (a study's data_constrained = { base = "single_epoch" }:
-- Muennighoff et al.'s base law on the single-epoch runs without excess parameters, frozen, then R_D*,
-- R_N*; analysis.single_epoch_fit) on runs drawn from a known law: Muennighoff et al.'s published one,
-- written out in datablations_law.lua, on the sweep of scripts/repetition.lua with 4 epoch counts
-- (5 unique-token budgets 1e9 to 1e11 by 1, 4, 16, 64 epochs by 6 sizes 1e7 to 3e9: 120 runs, 1% or
-- 0.1% log-normal noise), which has runs with up to 60 times N_opt(U) parameters: R_N* is identified.
local t = require "scalelab.test"
local law = require "datablations_law"
local analysis = require "scalelab.study.analysis"
local runs = law.repetition_runs  -- the same runs everywhere

-- Measured (fit23) over 40 such studies: the two-step estimates of ln R_N* spread with sd 0.46 (the
-- seven-parameter fit's 0.18); its 95% intervals held the truth in 40 of 40, but in over a quarter
-- of the studies R_N*'s spanned more than a factor e^30, as resamples whose base law (19 runs) put
-- N_opt(U) elsewhere drove R_N* to 0 or to infinity, along a profile that falls all the way there.
-- The intervals are honest for the procedure; the report handed them over without a word. (That
-- bootstrap resampled whole runs. Since fit24 it keeps every run and redraws its loss from the fit's
-- residuals, and its intervals are as wide as the estimates spread (test_fit_data_constrained_bootstrap):
-- R_N*'s still span more than e^30 in 5 of 40 studies, where the runs leave its profile open above,
-- this one among them: [3.35, 1.7e21].)
t.test("a two-step R_N* interval over orders of magnitude is said to be one, with the fit that pins it better", function()
  local obs = runs(3, 0.01)  -- a study whose R_N* interval runs off, R_D*'s not
  local two, description, used = analysis.single_epoch_fit(obs, { bootstrap = 40, seed = 1, threads = 1 })
  local iv = two.intervals.R_N
  t.ok(iv[1] <= law.TRUTH.R_N and law.TRUTH.R_N <= iv[2], string.format("[%g, %g]", iv[1], iv[2]))
  t.ok(iv[2] > 100 * iv[1], string.format("R_N* [%g, %g]", iv[1], iv[2]))
  t.ok(description:find("Note: R_N*'s interval [", 1, true), description)
  t.ok(description:find("more than a factor of 100: in this procedure R_D* and R_N* rest on N_opt(U) of a base law "
    .. "fitted to only " .. #used .. " runs", 1, true), description)
  t.ok(description:find("the default fit of all seven parameters on all 120 runs (leave base out) pins them better",
    1, true), description)
  -- R_D*'s interval is within a factor of 100 here: not named.
  t.ok(not description:find("R_D*'s interval", 1, true), description)
  -- And it does: the seven-parameter fit of the same runs (from the two-step point, to stay quick)
  -- has an interval of R_N* that holds the truth and is a fraction as wide.
  local N, D, U, L = {}, {}, {}, {}
  for i, o in ipairs(obs) do N[i], D[i], U[i], L[i] = o.N, o.D, o.U, o.loss end
  local joint = fit.data_constrained(fit.observations { N = N, D = D, U = U, loss = L },
    { starts = { two.params }, bootstrap = 40, threads = 1, covariance = false })
  local jv = joint.intervals.R_N
  t.ok(jv[1] <= law.TRUTH.R_N and law.TRUTH.R_N <= jv[2], string.format("[%g, %g]", jv[1], jv[2]))
  t.ok(math.log(jv[2] / jv[1]) < 0.5 * math.log(iv[2] / iv[1]),
    string.format("joint [%g, %g], two-step [%g, %g]", jv[1], jv[2], iv[1], iv[2]))
end)

t.test("a two-step fit whose intervals stay within a factor of 100 says nothing more", function()
  local obs = runs(7, 0.001)  -- a tenth of the noise: both intervals narrow
  local two, description = analysis.single_epoch_fit(obs, { bootstrap = 40, seed = 1, threads = 1 })
  t.ok(two.intervals.R_N[2] <= 100 * two.intervals.R_N[1], string.format("[%g, %g]", two.intervals.R_N[1], two.intervals.R_N[2]))
  t.ok(not description:find("Note:", 1, true), description)
end)

-- tie = { "R_D", "R_N" } tied them in the point fit but not in the bootstrap's refits, whose samples
-- and intervals were then of two different parameters (R_D* [8.0, 14.8], R_N* [4.0, 29.2] about a
-- tied 11.5 on these runs).
t.test("a two-step fit with R_D and R_N tied ties them in every bootstrap refit too", function()
  local two = analysis.single_epoch_fit(runs(7, 0.01), { bootstrap = 20, seed = 1, threads = 1, tie = { "R_D", "R_N" } })
  t.eq(two.params.R_D, two.params.R_N)
  t.eq(#two.samples, 20)
  for i, sample in ipairs(two.samples) do t.eq(sample.R_D, sample.R_N, "sample " .. i) end
  t.eq(two.intervals.R_D[1], two.intervals.R_N[1])
  t.eq(two.intervals.R_D[2], two.intervals.R_N[2])
  t.ok(two.intervals.R_D[1] < two.params.R_D and two.params.R_D < two.intervals.R_D[2],
    string.format("%g in [%g, %g]", two.params.R_D, two.intervals.R_D[1], two.intervals.R_D[2]))
end)

t.done()
