-- The study's own analyses (study/analysis.lua): what their summaries say about the bootstrap.
local t = require "scalelab.test"
local analysis = require "scalelab.study.analysis"

-- Three budgets of three sizes each, with each budget's minimum in the middle.
local function runs()
  local obs = {}
  for _, C in ipairs { 6e14, 6e15, 6e16 } do
    local middle = math.sqrt(C / 6 / 20)  -- 20 tokens per parameter
    for i, f in ipairs { 0.25, 1, 4 } do
      local N = middle * f
      obs[#obs + 1] = { N = N, D = C / (6 * N), budget = C, loss = 2 + 0.1 * math.log(f) ^ 2 - 0.05 * math.log10(C) + 0.01 * i }
    end
  end
  return obs
end

-- Two budgets of five sizes whose losses barely curve (0.001·ln²f) under a wiggle of 0.01 that no
-- parabola follows: redrawn about their parabolas, each budget's has a minimum about half the time,
-- and a resample with fewer than two minima has no line: it is left out.
local function weak_runs()
  local obs, wiggle = {}, { -1, 2, 0, -2, 1 }
  for _, C in ipairs { 6e14, 6e16 } do
    local middle = math.sqrt(C / 6 / 20)
    for i, f in ipairs { 0.25, 0.5, 1, 2, 4 } do
      local N = middle * f
      obs[#obs + 1] = { N = N, D = C / (6 * N), budget = C,
                        loss = 2 + 0.001 * math.log(f) ^ 2 - 0.05 * math.log10(C) + 0.01 * wiggle[i] }
    end
  end
  return obs
end

t.test("the IsoFLOP summary says how many bootstrap resamples were drawn, kept, and why the rest were left out", function()
  local law = analysis.isoflop(weak_runs(), { bootstrap = 200, seed = 1 })
  t.eq(law.bootstrap_drawn, 200)
  t.ok(law.bootstrap >= 20 and law.bootstrap < 200, "some resamples are left out here: " .. law.bootstrap)
  local summary = law:summary()
  t.ok(summary:find(string.format(", %d of 200 bootstrap resamples (95%% intervals; the other %d had fewer than two budgets whose parabolas have a minimum, no line to fit: left out)",
    law.bootstrap, 200 - law.bootstrap), 1, true), summary)
  -- Most left out (140 of 200 here): fit.isoflop's warning that the intervals are then unreliable,
  -- which the summary prints with the other warnings.
  t.ok(law.bootstrap < 100, "most resamples are left out here: " .. law.bootstrap)
  t.ok(summary:find(string.format("warning: only %d of 200 bootstrap resamples were kept (the other %d had too few "
    .. "budgets whose parabolas have a minimum): the intervals rest on the resamples whose parabolas had minima",
    law.bootstrap, 200 - law.bootstrap), 1, true), summary)
  t.ok(summary:find("likely too narrow and unreliable; add sizes around each budget's optimum", 1, true), summary)
  -- All kept: the plain count, no "of".
  law.bootstrap_drawn = law.bootstrap
  t.ok(law:summary():find(string.format(", %d bootstrap resamples (95%% intervals)", law.bootstrap), 1, true), law:summary())
end)

-- The budgets are 6e14 to 6e16 FLOP: an answer at 1000 times the largest says so, as the answers of
-- a fitted loss law say how far they lie beyond its runs; one between the budgets says nothing, nor
-- does a law without the analysis's rule (made by hand).
t.test("the IsoFLOP law's answers far beyond its budgets say how far", function()
  local law = analysis.isoflop(runs(), { bootstrap = 0 })
  local far = law:optimal(6e19)
  t.eq(far.notes and far.notes[1], "beyond the 3 IsoFLOP budgets fitted: compute 1000× the largest (6.00e16)")
  t.eq(law:optimal(6e11).notes and law:optimal(6e11).notes[1],
    "beyond the 3 IsoFLOP budgets fitted: compute 1/1000 of the smallest (6.00e14)")
  -- Between the budgets only that the analysis had no bootstrap, so the answer has no intervals.
  local within = law:optimal(1e16).notes
  t.eq(within and #within, 1)
  t.ok(within[1]:find("no intervals: the rule 'isoflop' was fitted without a bootstrap", 1, true) == 1, within[1])
  t.near(far.N, law:N_opt(6e19))
  local hand = setmetatable({ params = { k = 0.05, a = 0.5 } }, analysis.IsoflopLaw)
  t.eq(hand:optimal(1e25).notes, nil)
  -- As plan.optimal takes it, { compute = C }; anything else names the input (it failed on arithmetic).
  t.eq(law:optimal { compute = 6e19 }.N, far.N)
  t.raises(function() law:optimal {} end, "law:optimal(C): C must be the training compute in FLOP")
  -- A key it has no use for is named, not dropped: a question of limited unique data was answered
  -- as one of fresh data, and a mistyped key as if it were absent.
  t.raises(function() law:optimal { flops = 1e17 } end, "law:optimal{ ... }: unknown key 'flops' (valid keys: compute;")
  t.raises(function() law:optimal { compute = 1e17, comptue = 1e17 } end, "unknown key 'comptue'; did you mean 'compute'?")
  t.raises(function() law:optimal { compute = 1e21, unique_tokens = 1e9 } end,
    "law:optimal{ unique_tokens = ... }: this IsoFLOP allocation answers compute-optimal questions on fresh data only")
  t.raises(function() law:optimal { compute = 1e21, epochs = 4 } end, "a data_constrained fit answers it")
  t.raises(function() law:optimal(-1) end, "(got -1)")
end)

-- Epoch AI's law (a = 0.513) with the same six sizes at every budget. At 1e18 FLOPs the optimum
-- (81M) lies just inside the largest size (100M), the parabola leans on the smaller sizes and puts
-- N_opt near 69M: the summary and the report's JSON say so.
t.test("the IsoFLOP summary warns when a budget's lowest loss is at the edge of its sizes", function()
  local function loss(N, D) return 1.82 + 482 / N ^ 0.348 + 2085 / D ^ 0.366 end
  local function sweep_of(sizes)
    local obs = {}
    for _, C in ipairs { 1e16, 1e17, 1e18 } do
      for _, N in ipairs(sizes(C)) do obs[#obs + 1] = { N = N, D = C / (6 * N), budget = C, loss = loss(N, C / (6 * N)) } end
    end
    return obs
  end
  local law = analysis.isoflop(sweep_of(function() return { 2e6, 5e6, 1e7, 2e7, 5e7, 1e8 } end), { bootstrap = 0 })
  local summary = law:summary()
  t.ok(summary:find("C = 1e18     N_opt = 69.3M    D_opt = 2.4B     L_min = 3.4844  (lowest loss at the largest size tried)", 1, true), summary)
  t.ok(summary:find("warning: at C = 1e18 the lowest loss is at the largest size tried (N = 100M), so no larger model "
    .. "bounds the minimum", 1, true), summary)
  t.ok(not summary:find("C = 1e17 the lowest", 1, true), summary)
  t.ok(law.params.a < 0.49, "the bias the warning is about: a = " .. law.params.a)
  t.eq(law.minima[3].edge, "largest")
  t.eq(law.minima[2].edge, nil)
  t.eq(#law.warnings, 1)  -- fit.isoflop's, which the summary prints
  t.ok(summary:find("(sweep.isoflop's ratio = {lo, hi} gives each budget sizes around its own compute-optimal N)", 1, true), summary)
  -- Sizes that follow each budget (20 tokens per parameter in the middle) bracket every optimum: no warning.
  local centred = analysis.isoflop(sweep_of(function(C)
    local middle = math.sqrt(C / 6 / 20)
    return { middle / 4, middle / 2, middle, middle * 2, middle * 4 }
  end), { bootstrap = 0 })
  t.ok(not centred:summary():find("warning", 1, true), centred:summary())
  t.ok(math.abs(centred.params.a - 0.513) < 0.01, "a = " .. centred.params.a)
end)

-- What the study's law keeps of fit.isoflop: minima only (no downward or flat budget), the "not
-- used" note on an extrapolated vertex, and no failure when a flat budget's resamples are drawn.
t.test("the IsoFLOP law lists the minima, notes the unused ones, and survives a flat budget", function()
  local obs = {}
  for _, C in ipairs { 6e14, 6e15, 6e16 } do
    local centre = math.sqrt(C / 120)
    for _, f in ipairs { 0.25, 0.5, 1, 2, 4 } do obs[#obs + 1] = { N = centre * f, budget = C, loss = 2 + 0.1 * math.log(f) ^ 2 } end
  end
  for _, f in ipairs { 1 / 16, 1 / 8, 1 / 4 } do
    obs[#obs + 1] = { N = math.sqrt(6e17 / 120) * f, budget = 6e17, loss = 2 + 0.1 * math.log(f) ^ 2 }
  end
  for _, f in ipairs { 0.5, 1, 2, 4, 8 } do obs[#obs + 1] = { N = 1.5e6 * f, budget = 6e13, loss = 3.04 } end
  for _, f in ipairs { 1, 2, 4 } do obs[#obs + 1] = { N = 1e5 * f, budget = 6e12, loss = 3 - 0.1 * math.log(f / 2) ^ 2 } end
  obs[#obs + 1] = { N = 1e6, loss = 9 }  -- no budget: not of the sweep, left out
  for seed = 1, 3 do
    local law = analysis.isoflop(obs, { bootstrap = 200, seed = seed })
    t.eq(#law.minima, 4)
    t.eq(law.n_obs, #obs - 1)
    t.near(law.params.a, 0.5, 1e-9)
    t.ok(law.bootstrap >= 20, law:summary())
    for _, sample in ipairs(law.samples) do t.near(sample.a, 0.5, 1e-9) end
    local summary = law:summary()
    t.ok(summary:find("(minimum outside the sizes tried: not used)", 1, true), summary)
    -- The header counts the budgets the power laws go through apart from those they leave out.
    t.ok(summary:find("; 6 budgets (the power laws through the minima of 3), " .. (#obs - 1) .. " runs", 1, true), summary)
    t.ok(summary:find("warning: the parabola at C = 6e12 opens downward", 1, true), summary)
    t.ok(summary:find("warning: the losses at C = 6e13 are flat", 1, true), summary)
    t.ok(law:optimal(1e20).intervals.N[1] > 0)
  end
  -- The analysis's errors name the study's fit, not the binding.
  local ok, message = pcall(analysis.isoflop, { { N = 1e6, budget = 1e15, loss = 3 }, { N = 2e6, budget = 1e15, loss = 2.9 } })
  t.ok(not ok and message:find("^isoflop: needs at least 3 observations"), message)
end)

-- An IsoFLOP law N_opt = k·C^a with 101 bootstrap samples k = 0.01, 0.02, ..., 1.01 (a = 0.5): the
-- allocation spends C = 6·N·D, and each interval is the 2.5th and 97.5th percentiles of the samples'
-- values, linear between order statistics (position q·(n − 1) among the sorted 101).
t.test("the IsoFLOP law's compute-optimal allocation spends C = 6·N·D, with the samples' 95% percentile intervals", function()
  local C = 1e20
  local law = setmetatable({ params = { k = 0.05, a = 0.5 }, samples = {} }, analysis.IsoflopLaw)
  for i = 1, 101 do law.samples[i] = { k = 0.01 * i, a = 0.5 } end
  local o = law:optimal(C)
  t.near(o.N, 5e8)
  t.near(o.D, 1e20 / (6 * 5e8))
  t.near(o.tokens_per_param, 1e20 / (6 * 5e8 * 5e8))
  t.near(law:N_opt(C), o.N)
  t.near(law:D_opt(C), o.D)
  -- N grows with k: its interval is k at positions 2.5 and 97.5, 0.035 and 0.985, times C^a = 1e10.
  t.near(o.intervals.N[1], 0.035e10)
  t.near(o.intervals.N[2], 0.985e10)
  -- D = C/(6·k·1e10) falls with k: position 2.5 of the sorted D lies halfway between k = 0.99 and
  -- 0.98 (the 3rd and 4th largest), position 97.5 halfway between k = 0.04 and 0.03.
  local function D_of(k) return C / (6 * k * 1e10) end
  t.near(o.intervals.D[1], (D_of(0.99) + D_of(0.98)) / 2)
  t.near(o.intervals.D[2], (D_of(0.04) + D_of(0.03)) / 2)
  local function r_of(k) return D_of(k) / (k * 1e10) end
  t.near(o.intervals.tokens_per_param[1], (r_of(0.99) + r_of(0.98)) / 2)
  t.near(o.intervals.tokens_per_param[2], (r_of(0.04) + r_of(0.03)) / 2)
end)

-- Numbers print as the fits' and plan's printouts write them (1.67e3, not printf's 1.67e+03). Three
-- budgets whose minima lie at N = 1e-4·C^0.7 exactly (losses even in ln N about it): k = 1e-4, and
-- D_opt = C/(6·N_opt) = C^0.3/(6·1e-4), so k_D = 1667; tokens per parameter at 1e10 FLOP, D/N =
-- C/(6·N²) = 1e-4/6e-8 = 1667 too. The summary said 'D_opt = C/(6·N_opt) = 1.67e+03·C^b'.
t.test("the IsoFLOP summary and its answers write exponents as the fits' printouts do: 1.67e3, not 1.67e+03", function()
  local obs = {}
  for _, C in ipairs { 6e14, 6e15, 6e16 } do
    local middle = 1e-4 * C ^ 0.7
    for _, f in ipairs { 0.25, 0.5, 1, 2, 4 } do
      local N = middle * f
      obs[#obs + 1] = { N = N, D = C / (6 * N), budget = C, loss = 2 + 0.1 * math.log(f) ^ 2 - 0.05 * math.log10(C) }
    end
  end
  local law = analysis.isoflop(obs, { bootstrap = 0 })
  t.near(law.params.k, 1e-4, 1e-6)
  local summary = law:summary()
  t.ok(summary:find("N_opt = 0.0001·C^a, D_opt = C/(6·N_opt) = 1.67e3·C^b", 1, true), summary)
  local answer = tostring(law:optimal(1e10))
  -- Tokens per parameter as plan's answers print ratios (format_ratio: plainly up to 9999).
  t.ok(answer:find("tokens/param  1670", 1, true), answer)
  t.ok(not (summary .. answer):find("e%+") and not (summary .. answer):find("e%-0"), summary .. "\n" .. answer)
end)

t.test("the IsoFLOP summary counts the budgets fitted, and says through how many minima the power laws go", function()
  -- Three budgets of three sizes with minima in the middle, and a fourth whose losses curve down (no
  -- minimum): it said "3 budgets, 12 runs", as if the 12 runs were of 3 budgets.
  local obs = runs()
  local C = 6e17
  local middle = math.sqrt(C / 6 / 20)
  for i, f in ipairs { 0.25, 1, 4 } do
    local N = middle * f
    obs[#obs + 1] = { N = N, D = C / (6 * N), budget = C, loss = 1.5 - 0.1 * math.log(f) ^ 2 + 0.01 * i }
  end
  local law = analysis.isoflop(obs, { bootstrap = 0 })
  t.eq(#law.minima, 3)
  local first = law:summary():match("^[^\n]*")
  t.ok(first:find("; 4 budgets (the power laws through the minima of 3), 12 runs", 1, true), first)
  -- Every budget's minimum used: the count alone.
  first = analysis.isoflop(runs(), { bootstrap = 0 }):summary():match("^[^\n]*")
  t.ok(first:find("; 3 budgets, 9 runs", 1, true), first)
end)

t.test("an IsoFLOP answer writes the compute asked with plan's three digits: 5.76e23, not 5.8e23", function()
  local law = analysis.isoflop(runs(), { bootstrap = 0 })
  local rule = law.rule
  t.ok(rule, "the fit has an allocation rule")
  for _, C in ipairs { 5.76e23, 1e13, 1.234e17, 9.996e20 } do
    local answer, planned = tostring(law:optimal(C)), tostring(plan.optimal { compute = C, allocation = rule })
    -- The compute as plan.optimal's answer writes it: its first line and its FLOP row.
    local written = planned:match("^compute%-optimal allocation at (%S+) FLOP\n")
    t.ok(written, planned)
    t.eq(planned:match("\n  FLOP%s+(%S+)"), written, planned)
    t.ok(answer:find("^compute%-optimal allocation at " .. written:gsub("%.", "%%.") .. " FLOP\n"), answer)
    t.eq(answer:match("\n  FLOP%s+(%S+)"), written, answer)
  end
  t.ok(tostring(law:optimal(5.76e23)):find("^compute%-optimal allocation at 5%.76e23 FLOP\n"))
  t.ok(tostring(law:optimal(9.996e20)):find("\n  FLOP%s+1%.00e21"))
end)

t.test("an IsoFLOP answer of a fit without an allocation rule still says how far beyond its budgets it reaches", function()
  -- Minima whose N grows as C^1.4 (D_opt falls with C): plan makes no rule of such laws, and the
  -- answer at 100 times the largest budget said nothing of it (the quickstart's "D = 9.5e-05 tokens").
  local obs = {}
  for _, C in ipairs { 6e14, 6e15, 6e16 } do
    local middle = 1e5 * (C / 6e14) ^ 1.4
    for i, f in ipairs { 0.25, 1, 4 } do
      local N = middle * f
      obs[#obs + 1] = { N = N, D = C / (6 * N), budget = C, loss = 2 + 0.1 * math.log(f) ^ 2 - 0.05 * math.log10(C) + 0.001 * i }
    end
  end
  local law = analysis.isoflop(obs, { bootstrap = 0 })
  t.ok(law.params.a > 1, "a = " .. law.params.a)
  t.eq(law.rule, nil)
  t.ok(law.rule_error:find("D_opt law needs k > 0 and a > 0", 1, true), law.rule_error)
  local answer = law:optimal(6e18)
  t.ok(answer.notes, "notes")
  t.eq(answer.notes[1], "beyond the 3 IsoFLOP budgets fitted: compute 100× the largest (6.00e16)")
  t.ok(answer.notes[2]:find("^its D_opt = k_D·C^b falls as the compute grows %(b = %-0%.%d+%), so plan makes no "
    .. "allocation rule of it: read its minima and warnings, not this answer$"), answer.notes[2])
  -- Within the budgets, only why there is no rule.
  t.eq(#law:optimal(6e15).notes, 1)
  -- A fit with a rule says what plan says, as before.
  local notes = analysis.isoflop(runs(), { bootstrap = 0 }):optimal(6e18).notes
  t.eq(notes and notes[1], "beyond the 3 IsoFLOP budgets fitted: compute 100× the largest (6.00e16)")
end)

t.done()
