-- plan with the fit module's Law objects: published laws and a law fitted with bootstrap.
local t = require "scalelab.test"

t.test("published laws from fit", function()
  local a = plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = fit.published.datablations }
  t.near(a.N, 7.0e9, 0.01)
  t.near(a.epochs, 9.5, 0, 0.05)
  -- fit.published.datablations holds the unrounded constants of the datablations README: 2.2256.
  local published = plan.loss{ N = 6.34e9, D = 242e9, unique_tokens = 25e9, law = fit.published.datablations }.loss
  local exact = plan.loss{ N = 6.34e9, D = 242e9, unique_tokens = 25e9, law = plan.published.datablations_exact }.loss
  t.near(exact, 2.2256, 0, 5e-5)
  t.near(published, 2.2256, 0, 5e-5)
  local closed = plan.optimal{ compute = 5.76e23, law = fit.published.chinchilla }
  local numeric = plan.optimal{ compute = 5.76e23, law = fit.published.chinchilla, method = "numeric" }
  t.near(numeric.N, closed.N, 1e-6)
  t.eq(plan.optimal{ compute = 1e22, law = fit.published.kaplan }.method, "numeric")
  t.raises(function() plan.optimal{ compute = 1e22, unique_tokens = 1e9, law = fit.published.chinchilla } end,
    "needs a law with a term for repeated data")
  t.raises(function() plan.optimal{ compute = 1e22, law = fit.published.kaplan_N } end, "planning needs a loss law of N and D")
end)

t.test("a question declared before the fit, answered with the bootstrapped law", function()
  local q = plan.optimal{ compute = 1e22, gpu = "H100", gpus = 512 }
  local truth = fit.published.chinchilla
  local N, D, L = require "law_grid" (truth, 0.01)
  local law = fit.chinchilla(fit.observations{ N = N, D = D, loss = L }, { bootstrap = 30 })
  local a = q:answer(law)
  local lo, hi = a:interval("N")
  t.ok(lo and lo < a.N and a.N < hi, "an interval around N")
  t.eq(a.samples, 30)
  local n_true = plan.optimal{ compute = 1e22, law = truth }.N
  t.ok(lo < n_true and n_true < hi, "the interval covers the true N_opt")
  t.ok(a.cost.gpu_hours > 0)
end)

-- Runs on IsoFLOP lines of `truth` at 1e18 to 1e21 FLOP, 9 sizes each around the optimum, their
-- losses scaled by exp(noise · a fixed pseudo-random sequence in [-1, 1]).
local function isoflop_runs(truth, noise)
  local N, D, C, L = {}, {}, {}, {}
  for _, c in ipairs { 1e18, 1e19, 1e20, 1e21 } do
    local n_opt = plan.optimal{ compute = c, law = truth }.N
    for i = -4, 4 do
      local n = n_opt * 2 ^ (i / 2)
      N[#N + 1], D[#D + 1], C[#C + 1] = n, c / (6 * n), c
      L[#L + 1] = truth:predict{ N = n, D = c / (6 * n) } * math.exp(noise * math.sin(#N * 12.9898))
    end
  end
  return fit.observations{ N = N, D = D, C = C, loss = L }
end

t.test("approach 2: an allocation rule from fit.isoflop", function()
  local truth = fit.published.chinchilla
  local iso = fit.isoflop(isoflop_runs(truth, 0))
  local rule = plan.allocation{ isoflop = iso }
  t.eq(rule.name, "isoflop")
  t.ok(rule.doc:find("Chinchilla approach 2", 1, true), rule.doc)
  local a = plan.optimal{ compute = 1e22, law = rule }
  t.near(a.N, plan.optimal{ compute = 1e22, law = truth }.N, 0.03)
  local same = plan.optimal{ compute = 1e22, allocation = plan.allocation{ N = iso.N_law, D = iso.D_law } }
  t.near(same.N, a.N, 1e-12)
  t.raises(function() plan.allocation{ isoflop = iso, N = iso.N_law } end, "not both")
end)

-- An IsoFLOP analysis's resamples at budget C, by hand: each one's N = k·C^a, D = C/(6N) and D/N.
local function isoflop_resamples(iso, C)
  local ns, ds, ratios = {}, {}, {}
  for i, s in ipairs(iso.samples) do
    ns[i] = s.k * C ^ s.a
    ds[i] = C / (6 * ns[i])
    ratios[i] = ds[i] / ns[i]
  end
  return { N = ns, D = ds, tokens_per_param = ratios }
end

-- `answer`'s interval of each quantity is the 2.5th and 97.5th percentiles of `values` (linear
-- between order statistics).
local function check_intervals(answer, values)
  local function quantile(v, q)
    table.sort(v)
    local pos = q * (#v - 1)
    local i = math.floor(pos)
    return v[i + 1] + (pos - i) * (v[i + 2] - v[i + 1])
  end
  for _, name in ipairs { "N", "D", "tokens_per_param" } do
    local lo, hi = answer:interval(name)
    t.ok(lo, "an interval for " .. name .. "\n" .. tostring(answer))
    if lo then
      t.near(lo, quantile(values[name], 0.025), 1e-9)
      t.near(hi, quantile(values[name], 0.975), 1e-9)
    end
  end
end

t.test("an allocation rule from a bootstrapped fit.isoflop carries its intervals", function()
  -- The rule's N and D intervals at 1e23 are the 2.5th and 97.5th percentiles of the analysis's own
  -- resamples' k·C^a and C/(6·k·C^a), by hand; tokens per parameter from each resample's own N and D
  -- (it had no interval beside theirs).
  local iso = fit.isoflop(isoflop_runs(fit.published.chinchilla, 0.003), { bootstrap = 200 })
  t.ok(#iso.samples >= 100, #iso.samples .. " resamples kept")
  local a = plan.optimal{ compute = 1e23, allocation = plan.allocation{ isoflop = iso } }
  check_intervals(a, isoflop_resamples(iso, 1e23))
  t.eq(a.samples, #iso.samples)
end)

t.test("a bootstrapped rule compared as a candidate carries its N and D intervals, as plan.optimal gives them", function()
  -- plan.compare's rows for a rule had only the law's bootstrap (the loss): N and D printed as exact.
  -- Their intervals are the percentiles of the analysis's resamples, as plan.optimal's are.
  local iso = fit.isoflop(isoflop_runs(fit.published.chinchilla, 0.003), { bootstrap = 200 })
  local rule = plan.allocation{ isoflop = iso }
  local a = plan.compare{ compute = 1e23, law = fit.published.chinchilla,
                          candidates = { { name = "iso", allocation = rule }, { name = "fixed", N = 1e10 } } }
  local row = a.rows[2]
  t.near(row.N, plan.optimal{ compute = 1e23, allocation = rule }.N, 1e-12)
  check_intervals(row, isoflop_resamples(iso, 1e23))
  -- A candidate given by N has none: its N is an input.
  t.eq(a.rows[3]:interval("N"), nil)
  t.eq(a.samples, #iso.samples)
end)

t.test("an IsoFLOP analysis's own power laws carry its bootstrap into a rule built from them", function()
  -- plan.allocation{ N = iso.N_law, D = iso.D_law } (what help and the errors suggest) answered
  -- without intervals: the resamples lived only in iso.samples, not in the laws.
  local iso = fit.isoflop(isoflop_runs(fit.published.chinchilla, 0.003), { bootstrap = 200 })
  t.eq(#iso.N_law.samples, #iso.samples)
  t.eq(#iso.D_law.samples, #iso.samples)
  local iv = iso.N_law:interval("a")
  t.near(iv[1], iso.intervals.a[1], 1e-12)
  t.near(iv[2], iso.intervals.a[2], 1e-12)
  local whole = plan.optimal{ compute = 1e23, allocation = plan.allocation{ isoflop = iso } }
  local parts = plan.optimal{ compute = 1e23, allocation = plan.allocation{ N = iso.N_law, D = iso.D_law } }
  t.eq(parts.samples, #iso.samples)
  t.eq(whole.samples, #iso.samples)   -- not twice: the rule takes the laws' samples once
  for _, name in ipairs { "N", "D" } do
    local a, b = whole:interval(name)
    local c, d = parts:interval(name)
    t.ok(c, "an interval for " .. name .. "\n" .. tostring(parts))
    t.near(c, a, 1e-12)
    t.near(d, b, 1e-12)
  end
end)

t.test("plan.allocation names a rule after the analysis it is given", function()
  local truth = fit.published.chinchilla
  local runs = {}
  for k = 0, 8 do
    local n = 1e7 * 10 ^ (k / 4)
    local curve = {}
    for j = 0, 100 do
      local tokens = n * 0.5 * 10 ^ (j / 25)
      curve[#curve + 1] = { tokens = tokens, eval_loss = truth:predict{ N = n, D = tokens } }
    end
    runs[#runs + 1] = { N = n, curve = curve }
  end
  local a1 = fit.approach1(runs, { bootstrap = 20 })
  local rule = plan.allocation{ approach1 = a1 }
  t.eq(rule.name, "approach1")
  t.ok(tostring(rule):find("approach 1", 1, true) or rule.doc:find("approach 1", 1, true), rule.doc)
  -- Under isoflop = (the key that takes both tables) it is still approach 1's rule.
  t.eq(plan.allocation{ isoflop = a1 }.name, "approach1")
  t.eq(plan.allocation{ isoflop = fit.isoflop(isoflop_runs(truth, 0)) }.name, "isoflop")
  t.eq(plan.optimal{ compute = 1e20, allocation = rule }.samples, #a1.samples)
  t.raises(function() plan.allocation{ approach1 = a1, isoflop = a1 } end, "not both")
  -- The analysis itself given as allocation = says how to make it a rule.
  t.raises(function() plan.optimal{ compute = 1e20, allocation = a1 } end, "plan.allocation{ approach1 = result }")
end)

-- 15 runs of Chinchilla's law, 5 sizes at 5, 20 and 80 tokens a parameter, with 1% pseudo-random noise.
local function noisy_runs()
  local truth = fit.published.chinchilla
  local N, D, L = {}, {}, {}
  for _, n in ipairs { 1e7, 3e7, 1e8, 3e8, 1e9 } do
    for _, r in ipairs { 5, 20, 80 } do
      N[#N + 1], D[#D + 1] = n, r * n
      L[#L + 1] = truth:predict{ N = n, D = r * n } * math.exp(0.01 * math.sin(#N * 12.9898))
    end
  end
  return fit.observations{ N = N, D = D, loss = L }
end

t.test("a rule of power laws fitted to budgets says when it is read far beyond them", function()
  -- plan.allocation{ N = fit.power_law{...} } knew nothing of the budgets its laws were fitted on: at
  -- 3.3e4 times the largest it answered without a word, where a rule from fit.isoflop says how far.
  local C = { 1e18, 3e18, 1e19, 3e19 }
  local N, D = {}, {}
  for i, c in ipairs(C) do N[i] = 0.1 * c ^ 0.5 * (1 + 0.02 * math.sin(i)); D[i] = c / (6 * N[i]) end
  local rule = plan.allocation{ N = fit.power_law{ x = C, y = N, input = "C", output = "N_opt" },
                                D = fit.power_law{ x = C, y = D, input = "C", output = "D_opt" }, name = "mine" }
  local function note_of(answer)
    for _, n in ipairs(answer.notes) do if n:find("beyond the 4 budgets fitted", 1, true) then return n end end
  end
  local far = plan.optimal{ compute = 1e24, allocation = rule }
  t.eq(note_of(far), "beyond the 4 budgets fitted: compute 3.3e4× the largest (3.00e19)")
  t.eq(note_of(plan.optimal{ compute = 1e19, allocation = rule }), nil)   -- within them: nothing to say
  t.eq(note_of(plan.optimal{ compute = 5e19, allocation = rule }), nil)   -- within twice the largest
  t.ok(note_of(plan.optimal{ compute = 1e17, allocation = rule }):find("compute 1/10 of the smallest (1.00e18)", 1, true))
  t.ok(note_of(plan.table{ params = { 1e11 }, allocation = rule }):find("× the largest (3.00e19) at 100B params", 1, true))
  -- A candidate of plan.compare read there says so too.
  local cmp = plan.compare{ compute = 1e24, law = fit.published.chinchilla, candidates = { mine = rule } }
  local said
  for _, n in ipairs(cmp.notes) do if n:find("'mine' reads the rule 'mine' beyond the 4 budgets fitted: compute 3.3e4× the largest (3.00e19)", 1, true) then said = true end end
  t.ok(said, table.concat(cmp.notes, "\n"))
  -- Power laws given by hand span nothing: no note.
  local by_hand = plan.allocation{ N = { k = 0.1, a = 0.5 } }
  t.eq(note_of(plan.optimal{ compute = 1e24, allocation = by_hand }), nil)
end)

t.test("an answer from a law fitted without a bootstrap says it has no intervals", function()
  -- It printed its numbers bare, as if they were exact; with a bootstrap, or from a published law
  -- (a value, not an estimate here), it says nothing of the kind.
  local truth = fit.published.chinchilla
  local obs = noisy_runs()
  local function said(a)
    for _, note in ipairs(a.notes) do
      if note:find("no intervals: ", 1, true) == 1 then return note end
    end
  end
  local bare = plan.optimal{ compute = 1e20, law = fit.chinchilla(obs) }
  local note = said(bare)
  t.ok(note, tostring(bare))
  t.ok(note:find("law 'chinchilla' was fitted without a bootstrap", 1, true), note)
  t.ok(note:find("bootstrap = 200", 1, true), note)
  t.ok(tostring(bare):find("note: no intervals", 1, true), tostring(bare))
  t.ok(said(plan.loss{ N = 1e8, D = 2e9, law = fit.chinchilla(obs) }))
  t.eq(said(plan.optimal{ compute = 1e20, law = fit.chinchilla(obs, { bootstrap = 20 }) }), nil)
  t.eq(said(plan.optimal{ compute = 1e20, law = truth }), nil)
  -- The same of a rule fitted by an analysis without a bootstrap, in its optimum and its table.
  local rule = plan.allocation{ isoflop = fit.isoflop(isoflop_runs(truth, 0.003)) }
  t.ok(said(plan.optimal{ compute = 1e20, allocation = rule }))
  t.ok(said(plan.table{ params = { 1e9 }, allocation = rule }))
  local booted = plan.allocation{ isoflop = fit.isoflop(isoflop_runs(truth, 0.003), { bootstrap = 50 }) }
  t.eq(said(plan.optimal{ compute = 1e20, allocation = booted }), nil)
  t.eq(said(plan.optimal{ compute = 1e20, allocation = plan.published.chinchilla_approach1 }), nil)
end)

t.test("law:allocation(C) prints its numbers with their units and intervals, not a table address", function()
  local published = tostring(fit.published.epoch:allocation(5.76e23))
  t.eq(published, "compute-optimal allocation under epoch at 5.76e23 FLOP (C = 6ND): N_opt 72.3B params, D_opt 1.33T "
    .. "tokens, 18.4 tokens/param; N_opt ∝ C^0.513, D_opt ∝ C^0.487")
  local obs = noisy_runs()
  t.ok(tostring(fit.chinchilla(obs):allocation(1e22)):find("(no intervals: the law was fitted without a bootstrap", 1, true))
  local law = fit.chinchilla(obs, { bootstrap = 20 })
  local a = law:allocation(1e22)
  local text = tostring(a)
  t.ok(text:find("^compute%-optimal allocation under chinchilla at 1e22 FLOP %(C = 6ND%): N_opt [%d.]+[MB] params %[[%d.]+[MB], [%d.]+[MB]%], "
    .. "D_opt [%d.]+[BT] tokens %[[%d.]+[BT], [%d.]+[BT]%]"), text)
  t.ok(text:find("(95% intervals over 20 bootstrap resamples)", 1, true), text)
  t.near(a.N_opt, plan.optimal{ compute = 1e22, law = law }.N, 1e-12)
  -- The runs go up to 1B parameters (4.8e20 FLOP): 1e22 FLOP wants several times more, and the
  -- allocation says how far, in the words of plan.optimal's answer; 1e20 FLOP, inside, says nothing.
  local answer = plan.optimal{ compute = 1e22, law = law }
  local note
  for _, n in ipairs(answer.notes) do if n:find("^beyond the 15 runs fitted: ") then note = n end end
  t.ok(note and note:find("N [%d.]+× the largest %(1B%)") and note:find("compute 21× the largest %(4%.80e20%)"), note)
  t.eq(a.beyond, note)
  t.ok(text:find("; " .. note, 1, true), text)
  t.eq(law:allocation(1e20).beyond, nil)
  t.ok(not tostring(law:allocation(1e20)):find("beyond", 1, true))
  t.eq(fit.published.chinchilla:allocation(1e30).beyond, nil)
  -- A law given by hand with values the closed form cannot take is refused, naming the value (alpha = 0
  -- printed 'N_opt 0 params, D_opt inf tokens', alpha = -0.3 'N_opt nan params').
  t.raises(function() fit.published.chinchilla:with{ alpha = 0 }:allocation(1e22) end,
    "law:allocation(C): law 'chinchilla, modified' has alpha = 0; the allocation N_opt = G·(C/6)^a, G = "
    .. "(alpha·A/(beta·B))^(1/(alpha+beta)), needs A, B, alpha and beta positive and finite")
  t.raises(function() fit.published.epoch:with{ B = -2085 }:allocation(1e22) end, "has B = -2085")
end)

-- A published law given other values is no longer the published law: answers and summaries say so.
t.test("a modified published law is named as modified", function()
  local epoch = fit.published.epoch
  t.eq(plan.optimal{ compute = 1e21, law = epoch }.law, "epoch")
  local changed = epoch:with{ E = 2.5 }
  t.eq(changed.name, "epoch, modified")
  t.eq(plan.optimal{ compute = 1e21, law = changed }.law, "epoch, modified")
  t.eq(tostring(changed):find("(published)", 1, true), nil)
  t.eq(epoch:with{ E = 1.82 }.name, "epoch")
  local dl = fit.published.datablations:with{ R_D = 5 }
  t.eq(plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = dl }.law, "datablations, modified")
end)

-- The cost of the data limit (loss − the loss with unlimited unique data at the same compute) had no
-- interval, though the loss and the allocation had theirs: limit_cost carries one, from the same
-- bootstrap samples, computed per sample.
t.test("the cost of the data limit has a bootstrap interval: it holds the truth, narrows with more runs, is 0 where U does not bind", function()
  -- Muennighoff et al.'s law written out from REFERENCE.md, independent of the planner.
  local datablations = require "datablations_law"
  local P, loss = datablations.TRUTH, datablations.loss
  local function optimum(C, U) return datablations.optimum(C, U).loss end
  local true_cost = optimum(1e21, 5e9) - optimum(1e21, 1e18)
  t.ok(true_cost > 0.01, "the limit binds: " .. true_cost)
  -- Runs drawn from the law with 0.5% noise, `copies` draws at each point of the sweep.
  local function fitted(copies)
    local rows = {}
    local _, gauss, reseed = require "portable_random"()
    reseed(7)
    for _ = 1, copies do
      for _, U in ipairs { 1e9, 3e9, 1e10, 3e10, 1e11 } do
        for _, epochs in ipairs { 1, 2, 4, 8, 16, 32, 64 } do
          for _, N in ipairs { 1e7, 7e7, 4e8, 3e9 } do
            rows[#rows + 1] = { N = N, D = U * epochs, U = U, loss = loss(N, U * epochs, U) * (1 + 0.005 * gauss()) }
          end
        end
      end
    end
    local start = {}
    for k, v in pairs(P) do start[k] = v end
    return fit.data_constrained(rows, { bootstrap = 40, starts = { start }, covariance = false })
  end
  local widths = {}
  for _, copies in ipairs { 1, 4 } do
    local law = fitted(copies)
    local a = plan.optimal { compute = 1e21, unique_tokens = 5e9, law = law }
    t.near(a.limit_cost, a.loss - a.loss_unlimited, 1e-12)
    local lo, hi = a:interval("limit_cost")
    t.ok(lo and lo < a.limit_cost and a.limit_cost < hi, "an interval around the cost: " .. tostring(a))
    t.ok(lo <= true_cost and true_cost <= hi, string.format("%d runs: [%g, %g] holds the true %g", 140 * copies, lo, hi, true_cost))
    t.ok(tostring(a):find("cost of the data limit", 1, true), tostring(a))
    widths[#widths + 1] = hi - lo
    -- Where the unique tokens do not bind (U far above the optimum's D), the cost is 0, exactly, in every sample.
    local free = plan.optimal { compute = 1e19, unique_tokens = 1e13, law = law }
    t.eq(free.limit_cost, 0)
    local free_lo, free_hi = free:interval("limit_cost")
    t.ok(free_lo == 0 and free_hi == 0, "a zero-width interval: " .. tostring(free))
  end
  t.ok(widths[2] < 0.75 * widths[1], string.format("4x the runs narrow the interval: %g -> %g", widths[1], widths[2]))
  -- plan.returns gives every budget's cost too.
  local r = plan.returns { unique_tokens = 5e9, law = fit.published.datablations }
  t.near(r.rows[1].limit_cost, 0, 0, 1e-9)  -- the budget whose optimum sees the U tokens once
  t.near(r.rows[#r.rows].limit_cost, r.rows[#r.rows].loss - r.rows[#r.rows].loss_unlimited, 1e-12)
end)

t.test("every law answers law:N_opt, law:D_opt and law:optimal as plan.optimal does", function()
  -- Published and modified laws had none ("Law has no field 'N_opt'"): only an IsoFLOP fit's law did.
  local chinchilla = fit.published.chinchilla
  -- The closed form (Hoffmann et al. 2022, appendix: N_opt = G·(C/6)^a, a = beta/(alpha+beta), G =
  -- (alpha·A/(beta·B))^(1/(alpha+beta))), computed here from the law's constants.
  local p = chinchilla.params
  local a = p.beta / (p.alpha + p.beta)
  local G = (p.alpha * p.A / (p.beta * p.B)) ^ (1 / (p.alpha + p.beta))
  for _, C in ipairs { 1e18, 5.76e23 } do
    local N = G * (C / 6) ^ a
    t.near(chinchilla:N_opt(C), N, 1e-9)
    t.near(chinchilla:D_opt(C), C / (6 * N), 1e-9)
    t.near(chinchilla:optimal(C).N, plan.optimal{ compute = C, law = chinchilla }.N, 1e-12)
    t.near(chinchilla:optimal{ compute = C }.tokens_per_param, C / (6 * N * N), 1e-9)
  end
  t.eq(tostring(chinchilla:optimal(1e22)), tostring(plan.optimal{ compute = 1e22, law = chinchilla }))
  -- A data-constrained law with its options: Muennighoff et al.'s 25B unique tokens at 1e22 FLOP
  -- (plan's header: 7.03B parameters on 237B tokens).
  local dc = fit.published.datablations
  local answer = plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = dc }
  t.near(dc:N_opt{ compute = 1e22, unique_tokens = 25e9 }, answer.N, 1e-12)
  t.near(dc:D_opt{ compute = 1e22, unique_tokens = 25e9 }, answer.D, 1e-12)
  t.near(answer.N, 7.03e9, 0.01)
  -- A law given other values, and Kaplan's joint law (no closed form: the planner's numeric optimum).
  local modified = chinchilla:with{ alpha = 0.3 }
  t.near(modified:N_opt(1e21), plan.optimal{ compute = 1e21, law = modified }.N, 1e-12)
  t.near(fit.published.kaplan:D_opt(1e21), plan.optimal{ compute = 1e21, law = fit.published.kaplan }.D, 1e-12)
  -- Errors: the planner's, at the user's line; a law = in the options, a C that is no number.
  t.raises(function() chinchilla:N_opt(-1) end, "compute")
  t.raises(function() chinchilla:optimal{ compute = 1e21, law = dc } end, "leave law = out")
  t.raises(function() chinchilla:D_opt("1e21") end, "law:D_opt(C): C must be the training compute in FLOP")
  local ok, message = pcall(function() return chinchilla:N_opt(-1) end)
  t.ok(not ok and message:find("test_plan_fit.lua:%d+:") ~= nil, message)
end)

t.done()
