-- Repeated data (Muennighoff et al. 2023, "Scaling Data-Constrained Language Models"): with C FLOP and
-- only U unique tokens, what N, how many epochs, what loss? Runs are drawn from a known
-- data-constrained law, fitted back, and the planning question answered with the fit, against the
-- law's own answer and beside what a plain Chinchilla fit (which takes every token as new) says.
-- The "simulated" backend draws every run's final loss from the law with noise, so nothing is
-- trained: a few seconds.
--   scalelab scripts/repetition.lua [-- compute=C unique_tokens=U noise=x]
--   (defaults: compute=1e21 unique_tokens=5e9 noise=0.005)
--
-- The truth: Muennighoff et al.'s published law (fit.published.datablations): L = E + A/N'^alpha +
--   B/D'^beta, where U unique tokens repeated R_D = D/U - 1 extra times are worth
--   D' = U + U·R_D*·(1 - e^(-R_D/R_D*)) fresh ones (R_D* = 15.4), and parameters beyond the
--   compute-optimal size for U decay alike (R_N* = 5.3).
-- 1. The study: sweep.data_constrained over 5 unique-token budgets (1B to 100B), 1 to 64 epochs and 6
--   sizes (10M to 3B): 210 runs, each loss with 0.5% noise. fit.data_constrained by the paper's two
--   steps (the base law on the single-epoch runs without excess parameters, then R_D*, R_N* on every
--   run; a two-stage bootstrap for the intervals), and a plain fit.chinchilla of the same runs.
-- 2. What a repeated token is worth, by epochs, in the law and in the fit.
-- 3. The planning question (plan.optimal{ compute =, unique_tokens = }), each answer's loss as
--   predicted and as the true law scores its plan.
-- 4. The same budget with less and less unique data.
-- The store (repetition.db) is written beside where it runs; a second run reuses it (another noise
-- draws its runs anew; another compute or unique_tokens only asks another question).
-- The script's own arguments follow "--" (before it, the study's options: --jobs, --dry-run, --quiet).
local usage = "usage: scalelab scripts/repetition.lua [--dry-run | -n] [--jobs N | -j N] [--quiet | -q] "
  .. "[-- compute=C unique_tokens=U noise=x]"
-- --help: what the demo is and its own arguments, then the study options it shares with every study.
local own = study.script_arguments("With C FLOP and only U unique tokens, what N, how many epochs, what loss? Runs drawn from Muennighoff\n"
  .. "et al.'s data-constrained law (nothing is trained: a few seconds), the law fitted back with bootstrap\n"
  .. "intervals, and the question answered by the fit, by the true law and by a plain Chinchilla fit.\n"
  .. usage .. "\n"
  .. "  -- compute=C        the question's training compute in FLOP, from 1e18 to 1e26 (default 1e21)\n"
  .. "  -- unique_tokens=U  the question's unique tokens, from 1e8 to 1e14 (default 5e9)\n"
  .. "  -- noise=x          the relative noise on every run's loss, from 0 to 0.05 (default 0.005: 0.5%);\n"
  .. "                      -- noise=0.02 shows how fast the intervals widen\n"
  .. "  --dry-run, -n       print the study's planned runs; fit nothing\n"
  .. "  --jobs N, -j N      runs drawn at once\n"
  .. "  --quiet, -q         accepted, as by every study (the demo's study is quiet already)\n"
  .. "The store repetition.db is written in the current folder; a second run reuses it (another noise draws\n"
  .. "its runs anew; another compute or unique_tokens only asks another question).")

-- The script's own arguments: name=value, each at most once, each a number in its range.
local ranges = { compute = { 1e18, 1e26, "1e18 to 1e26" }, unique_tokens = { 1e8, 1e14, "1e8 to 1e14" },
                 noise = { 0, 0.05, "0 to 0.05" } }  -- at 0.1 the base law's few runs no longer determine it
local given, given_as = {}, {}
for _, word in ipairs(own) do
  local name, value = word:match("^([%a_]+)=(.+)$")
  local range = name and ranges[name]
  local number = value and tonumber(value)
  if not range or given[name] or not number or number < range[1] or number > range[2] then
    -- Bad usage: status 2 and the usage, as the program's own options and a study's get.
    local why
    if not range then
      why = "after -- give compute=C, unique_tokens=U or noise=x (got " .. word .. ")"
    elseif given[name] then
      why = name .. " is given twice (" .. given_as[name] .. " and " .. word .. ")"
    else
      why = string.format("%s must be a number from %s (got %s)", name, range[3], word)
    end
    io.stderr:write("scalelab: repetition.lua: ", why, "\n", usage, "\n")
    os.exit(2)
  end
  given[name], given_as[name] = number, word
end
local C = given.compute or 1e21
local U = given.unique_tokens or 5e9
local noise = given.noise or 0.005

local truth = fit.published.datablations  -- Muennighoff et al.'s law, unrounded
local core = require "scalelab.native.core"
-- The one rule for printed numbers (core/units.h): counts with SI suffixes up to T, then scientific,
-- as FLOPs; epochs plain up to 9999, then scientific (1.49e8, not 1.49e+08).
local count, flops, ratio = core.format_count, core.format_flops, core.format_ratio
local function sig(x, digits) return core.format_significant(x, digits or 3) end
local function pct(x) return sig(100 * x, 3) .. "%" end

local Us, epochs, sizes = sweep.log(1e9, 1e11, 5), { 1, 2, 4, 8, 16, 32, 64 }, sweep.log(1e7, 3e9, 6)
local s = study "repetition" {
  model = { aspect = 32, vocab = 256, ctx = 256 },
  sweep = sweep.data_constrained { unique_tokens = Us, epochs = epochs, sizes = sizes },
  backend = { kind = "simulated", law = truth, noise = noise },
  -- threads = 1: on more threads a multi-start fit's starts merge into the optima others found first,
  -- in whichever order the threads reach them, so its best start, and the last digits of its result
  -- (the eighth), can differ from run to run; on one thread a second run prints exactly what the
  -- first did.
  fits = { data_constrained = { base = "single_epoch", bootstrap = 100, threads = 1 },
           chinchilla = { bootstrap = 100, threads = 1 } },
  questions = { plan.optimal { compute = C, unique_tokens = U } },
  report = false,
  quiet = true,
}
if s.dry_run then return end  -- --dry-run: the plan is printed, nothing is fitted

local dc, chinchilla = s.fits.data_constrained, s.fits.chinchilla
if not dc or not chinchilla then
  -- Why, from the study (report = false writes no report that would say it).
  local why = {}
  for name, message in pairs(s.fit_errors or {}) do why[#why + 1] = name .. " not fitted: " .. message end
  error("repetition.lua: " .. table.concat(why, "; "), 0)
end

-- "value [lo, hi]" with an interval of a law's samples, formatted by fmt.
local function with_interval(value, iv, fmt)
  if not iv then return fmt(value) end
  return string.format("%s [%s, %s]", fmt(value), fmt(iv[1]), fmt(iv[2]))
end
local function inside(x, iv) return iv ~= nil and iv[1] <= x and x <= iv[2] end

local lo_C, hi_C = math.huge, 0
for _, o in ipairs(s:observations()) do
  local c = 6.0 * o.N * o.D  -- floats: 6·N·D of the largest runs overflows an integer
  lo_C, hi_C = math.min(lo_C, c), math.max(hi_C, c)
end
print(string.format("== Repeated data: with %s FLOP and %s unique tokens, what N, how many epochs, what loss? ==",
  flops(C), count(U)))
print(string.format("%d runs drawn from Muennighoff et al.'s data-constrained law with %s noise on each loss: %d "
  .. "unique-token budgets (%s to %s), %s to %s epochs, %d sizes (%s to %s), %s to %s FLOP.", #s.runs, pct(noise), #Us,
  count(Us[1]), count(Us[#Us]), ratio(epochs[1]), ratio(epochs[#epochs]), #sizes, count(sizes[1]), count(sizes[#sizes]),
  flops(lo_C), flops(hi_C)))

print("\n-- 1. The law, fitted back by Muennighoff et al.'s two steps --")
print("| parameter | truth | fitted [95%] | truth inside |")
print("|---|---|---|---|")
for _, name in ipairs { "E", "A", "B", "alpha", "beta", "R_D", "R_N" } do
  local t, iv = truth.params[name], dc.intervals[name]
  local label = (name == "R_D" or name == "R_N") and name .. "*" or name
  print(string.format("| %s | %s | %s | %s |", label, sig(t, 4), with_interval(dc.params[name], iv, function(x) return sig(x, 4) end),
    iv and (inside(t, iv) and "yes" or "no") or "no interval"))
end
print(string.format([[
The base law (E, A, B, alpha, beta) is fitted first, on the runs that saw their data once and have no
more parameters than their unique tokens support; R_D* and R_N* then on all %d runs, with the base
held. The intervals come from %d bootstrap resamples that refit both steps, so R_D*'s interval carries
the base law's uncertainty. The fit's R² is %s; the plain Chinchilla fit of the same runs, which
counts a repeated token as a new one, reaches %s: repetition is what it cannot describe.]], #s.runs,
  dc.samples and #dc.samples or 0, sig(dc.r2, 4), sig(chinchilla.r2, 4)))

-- The worth of D = U·e tokens, relative to D fresh ones (D'/D), and of the last epoch alone: what
-- the e-th pass over the U tokens adds to D', over U (the first pass adds U itself). It was
-- dD'/dD = e^(-R_D/R_D*) at R_D = e - 1, the worth of the last token read, shown as the last
-- epoch's: at 2 epochs 93.7% where the second epoch adds 96.8% of a fresh one.
local function worth(law, e)
  return fit.effective { N = 1e9, D = 1e9 * e, U = 1e9, law = law }.D / (1e9 * e)
end
local function last_epoch(law, e)
  if e <= 1 then return 1 end
  return e * worth(law, e) - (e - 1) * worth(law, e - 1)
end
print("\n-- 2. What a repeated token is worth --")
print("| epochs | all tokens, vs fresh (D'/D): truth | fitted [95%] | the last epoch, vs a fresh one: truth | fitted [95%] |")
print("|---|---|---|---|---|")
for _, e in ipairs { 1, 2, 4, 8, 16, 32, 64 } do
  print(string.format("| %s | %s | %s | %s | %s |", sig(e), pct(worth(truth, e)),
    with_interval(worth(dc, e), dc:interval(function(l) return worth(l, e) end), pct),
    pct(last_epoch(truth, e)), with_interval(last_epoch(dc, e), dc:interval(function(l) return last_epoch(l, e) end), pct)))
end
local R = truth.params.R_D
print(string.format([[
A token read again R repetitions in is worth e^(-R/R_D*) of a fresh one, and an epoch the average
of that over its pass: the law's R_D* = %s, so a repeated token's worth falls to half %s
repetitions in (R_D*·ln 2) and to 1/e at %s. Four epochs are worth %s of as many fresh tokens:
up to about 4 epochs repeated data is nearly as good as new. At %s epochs the whole is worth %s
and the last epoch %s: far beyond R_D*, more repetition buys little, and more unique data is
worth more than any allocation of the compute.]], sig(R, 4), sig(R * math.log(2), 3), sig(R, 3),
  pct(worth(truth, 4)), sig(64), pct(worth(truth, 64)), pct(last_epoch(truth, 64))))

print(string.format("\n-- 3. The question: %s FLOP, %s unique tokens --", flops(C), count(U)))
local exact = plan.optimal { compute = C, unique_tokens = U, law = truth }
local fitted = s.answers[1] and s.answers[1].answer or plan.optimal { compute = C, unique_tokens = U, law = dc }
local plain = plan.optimal { compute = C, law = chinchilla }
local function true_loss(N, D) return plan.loss { N = N, D = D, unique_tokens = U, law = truth }.loss end
local function nats(x) return (string.format("%.4f", x):gsub("^%-(0%.0000)$", "%1")) end  -- no "-0.0000"
local function epochs_of(D) return D / U end
print("| law | N [95%] | D [95%] | epochs [95%] | loss it predicts [95%] | true loss of its plan |")
print("|---|---|---|---|---|---|")
local function row(label, a, predicted_iv)
  local iv = a.intervals or {}
  local e_iv = iv.D and { epochs_of(iv.D[1]), epochs_of(iv.D[2]) }
  print(string.format("| %s | %s | %s | %s | %s | %s |", label, with_interval(a.N, iv.N, count),
    with_interval(a.D, iv.D, count), with_interval(epochs_of(a.D), e_iv, ratio), with_interval(a.loss, iv.loss, nats),
    nats(true_loss(a.N, a.D))))
end
row("the true law", exact)
row("data-constrained fit", fitted)
row("Chinchilla fit (repeats as new)", plain)
-- What the answers say of themselves: the fit's, how far the question lies beyond the runs it was
-- fitted on (epochs past the sweep's 64, D, compute); the laws', a loss at U's floor. The table alone
-- showed 1.4e8 epochs from a law fitted on at most 64 without a word.
for _, labelled in ipairs { { "the true law", exact }, { "the data-constrained fit", fitted } } do
  for _, note in ipairs(labelled[2].notes or {}) do print(string.format("Note (%s): %s", labelled[1], note)) end
end
local cost = exact.loss - exact.loss_unlimited
print(string.format([[
The true optimum trains %s parameters for %s epochs (%s tokens); with unlimited unique data the
same compute would train %s on fresh tokens and reach %s: the %s-token limit costs %s nats
(the data-constrained fit says %s). The data-constrained fit's interval of N, [%s, %s], %s the true %s. The Chinchilla fit has no
U: it answers the same whatever the unique data, and predicts %s where its plan truly scores %s
(its interval, [%s, %s], %s it).]],
  count(exact.N), ratio(exact.epochs), count(exact.D), count(exact.N_unlimited), nats(exact.loss_unlimited), count(U),
  nats(cost), with_interval(fitted.limit_cost, fitted.intervals.limit_cost, nats), count(fitted.intervals.N[1]), count(fitted.intervals.N[2]),
  inside(exact.N, fitted.intervals.N) and "holds" or "misses", count(exact.N), nats(plain.loss),
  nats(true_loss(plain.N, plain.D)), nats(plain.intervals.loss[1]), nats(plain.intervals.loss[2]),
  inside(true_loss(plain.N, plain.D), plain.intervals.loss) and "holds" or "misses"))

print(string.format("\n-- 4. %s FLOP with less and less unique data --", flops(C)))
local fresh = plan.optimal { compute = C, law = truth }
print("| unique tokens | epochs: truth | fitted | N: truth | fitted [95%] | loss above unlimited data: truth | fitted [95%] "
  .. "| Chinchilla fit's plan: true loss minus its prediction |")
print("|---|---|---|---|---|---|---|---|")
local rows = {}
for k = 0, 5 do  -- 1 to about 50 epochs: inside the sweep's 64
  local u = fresh.D / 2 ^ k
  local t = plan.optimal { compute = C, unique_tokens = u, law = truth }
  local f = plan.optimal { compute = C, unique_tokens = u, law = dc }
  local miss = plan.loss { N = plain.N, D = plain.D, unique_tokens = u, law = truth }.loss - plain.loss
  rows[#rows + 1] = { epochs = t.epochs, N = t.N, gap = t.loss - t.loss_unlimited, miss = miss }
  print(string.format("| %s | %s | %s | %s | %s | %s | %s | %s |", count(u), ratio(t.epochs), ratio(f.epochs), count(t.N),
    with_interval(f.N, f.intervals and f.intervals.N, count), nats(t.loss - t.loss_unlimited),
    with_interval(f.limit_cost, f.intervals.limit_cost, nats), nats(miss)))
end
-- The row whose optimum repeats its data about 4 times, and the last.
local near4, last = rows[1], rows[#rows]
for _, r in ipairs(rows) do
  if math.abs(math.log(r.epochs / 4)) < math.abs(math.log(near4.epochs / 4)) then near4 = r end
end
print(string.format([[
The first row has as many unique tokens as the unconstrained optimum trains on; each row below
halves them. At %s epochs the optimum loses %s nats to unlimited data; at %s epochs, %s.
As the unique data shrink the optimal N %s, from %s to %s: excess parameters lose their
worth %s (R_N* = %s) than repeated data (R_D* = %s), so the optimum spends the budget
on %s. The Chinchilla fit plans %s on %s tokens and predicts %s
in every row; its plan truly scores %s with the most unique data and %s with the least%s.]],
  ratio(near4.epochs), nats(near4.gap), ratio(last.epochs), nats(last.gap),
  last.N < rows[1].N and "falls" or "grows", count(rows[1].N), count(last.N),
  truth.params.R_N < truth.params.R_D and "faster" or "slower", sig(truth.params.R_N, 3), sig(truth.params.R_D, 3),
  truth.params.R_N < truth.params.R_D and "more epochs rather than more parameters" or "more parameters rather than more epochs",
  count(plain.N), count(plain.D), nats(plain.loss), nats(plain.loss + rows[1].miss), nats(plain.loss + last.miss),
  (rows[1].miss < 0 and last.miss > 0) and ":\ntoo pessimistic where unique data are plentiful (the repeated runs it fitted "
    .. "taught it that tokens are\nworth less than fresh ones), too optimistic where they are scarce" or ""))
