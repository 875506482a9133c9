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

-- A weak base design: the single-epoch runs over one decade of U (3e9 to 3e10, the same epochs and sizes).
-- The base law's E went to its bound 0 (in 8 of 40 such studies), or stayed off it with the power laws
-- misjudged, and R_D*, R_N* missed the truth by more than a factor of 2 in over half of 40 studies, without
-- a word: the law's warnings said nothing, its R_D* 8.4 and R_N* 6.1 (truth 15.4, 5.3) read as a fit.
local function narrow_runs(seed) return runs(seed, 0.01, { unique_tokens = sweep.log(3e9, 3e10, 5) }) end

local function weak_warning(fitted)
  for _, w in ipairs(fitted.warnings) do
    if w:find('base = "single_epoch": ', 1, true) then return w end
  end
end

-- The same, said as a note (a base law's E at 0 over base runs that span enough: what the runs show).
local function weak_note(fitted)
  for _, w in ipairs(fitted.notes) do
    if w:find('base = "single_epoch": ', 1, true) then return w end
  end
end

t.test("a two-step fit on base runs over one decade of U says its base law cannot pin R_D* and R_N*", function()
  -- E at its bound 0: said, with the base runs' span, the runs that would pin it, and the joint fit.
  local two, _, used = analysis.single_epoch_fit(narrow_runs(1006), { threads = 1 })
  local w = weak_warning(two)
  t.ok(w, table.concat(two.warnings, "\n"))
  t.ok(w:find("the base law's E (the irreducible loss) is at its bound 0 (E = ", 1, true), w)
  t.ok(w:find("the " .. #used .. " single-epoch runs it was fitted to span N 10M to 306M (1.5 decades) and U 3B to "
    .. "30B (1.0 decades)", 1, true), w)
  t.ok(w:find("add unique-token counts from 949M to 94.9B at epochs = 1", 1, true), w)
  t.ok(w:find("or leave base out to fit all seven parameters on all 120 runs at once", 1, true), w)
  t.ok(tostring(two):find("warning: base = \"single_epoch\"", 1, true), tostring(two))
  t.eq(weak_note(two), nil)  -- a base too narrow to pin R_D*, R_N*: a warning, not a note
  t.raises(function() two:with_warnings { 1 } end, "law:with_warnings: warnings[1] must be a string (got number)")
  -- E off its bound, the same narrow U: the span is said (R_D* here 3.4e12, truth 15.4).
  local off = analysis.single_epoch_fit(narrow_runs(1002), { threads = 1 })
  local v = weak_warning(off)
  t.ok(v, table.concat(off.warnings, "\n"))
  t.ok(not v:find("at its bound", 1, true), v)
  t.ok(v:find("span N 10M to 959M (2.0 decades) and U 3B to 30B (1.0 decades), too narrow in U", 1, true), v)
  -- With bootstrap = n the warning stays on the law with samples.
  local boot = analysis.single_epoch_fit(narrow_runs(1006), { threads = 1, bootstrap = 4, seed = 1 })
  t.ok(weak_warning(boot), table.concat(boot.warnings, "\n"))
  t.ok(#boot.samples >= 1, #boot.samples)
end)

t.test("a two-step fit on the published design's base runs (two decades of U and of N) warns of no weak base", function()
  -- The 40 studies of the calibration (test_fit_data_constrained_bootstrap), and scripts/repetition.lua's
  -- sweep (1 to 64 epochs by powers of 2, 0.5% noise).
  for study = 1, 40 do
    local two = analysis.single_epoch_fit(runs(1000 + study, 0.01), { threads = 1 })
    t.eq(weak_warning(two), nil, "study " .. study)
  end
  for seed = 1, 3 do
    local obs = runs(seed, 0.005, { epochs = { 1, 2, 4, 8, 16, 32, 64 } })
    local two = analysis.single_epoch_fit(obs, { threads = 1 })
    t.eq(weak_warning(two), nil, "repetition.lua's sweep, seed " .. seed)
  end
end)

-- Base runs that span enough (the published design) and a base law whose E sits at its bound 0: runs drawn from
-- Muennighoff et al.'s law with E = 0, a floor far below every loss. The warning said their 2.5 decades of N and
-- 2.0 of U "was too little to tell E from the power laws ... unreliable" (and to add runs over about two decades,
-- which they span), where E at 0 is what the runs show and R_D*, R_N* came within 13% and 35% of the truth.
t.test("a two-step fit whose base law's E sits at 0 over the published design says so, not that its runs span too "
  .. "little", function()
  local p = {}
  for k, v in pairs(law.TRUTH) do p[k] = v end
  p.E = 0
  local at_zero = 0
  for study = 1, 10 do
    local two = analysis.single_epoch_fit(runs(2000 + study, 0.01, { params = p }), { threads = 1 })
    -- E at 0 over base runs that span enough is what they show, and R_D*, R_N* stand: a note (law.notes, printed
    -- "note:"), not a warning.
    t.eq(weak_warning(two), nil, "study " .. study .. ": " .. tostring((weak_warning(two))))
    local w = weak_note(two)
    local what = string.format("study %d: E %g, %s", study, two.params.E, tostring(w))
    if two.params.E < 1e-3 then
      t.ok(tostring(two):find("\n  note: base = \"single_epoch\": the base law's E", 1, true), tostring(two))
      at_zero = at_zero + 1
      t.ok(w and w:find("the base law's E (the irreducible loss) is at its bound 0 (E = ", 1, true), what)
      t.ok(w and w:find("enough to tell E from the power laws in N and D, show no floor above 0", 1, true), what)
      t.ok(w and not w:find("too little", 1, true) and not w:find("unreliable", 1, true), what)
      -- It says what to beware of (losses far out with no floor) and how to hold E.
      t.ok(w and w:find("the law's loss far beyond these runs falls with no floor; where E is known, hold it: base = "
        .. "fit.chinchilla(the single-epoch runs, { init = { E = ... }, free = {", 1, true), what)
    else
      t.eq(w, nil, what)
    end
    t.ok(math.abs(math.log(two.params.R_D / p.R_D)) < math.log(1.2), what .. ", R_D* " .. two.params.R_D)
    t.ok(math.abs(math.log(two.params.R_N / p.R_N)) < math.log(1.5), what .. ", R_N* " .. two.params.R_N)
  end
  t.ok(at_zero >= 5, at_zero)
end)

t.done()
