-- Chinchilla's three approaches to the compute-optimal allocation, side by side, on runs drawn from
-- a known law, each against the truth that law implies. The "law" backend draws every run's loss
-- curve from the law with noise, so nothing is trained: about a second.
--   scalelab scripts/approaches.lua [-- noise]        (noise: per-point, relative; default 0.005)
--
-- Approach 1: a grid of sizes, each trained for four token counts over a 16x range (as Hoffmann et
--   al. did); the lower envelope of the training curves against compute (fit.approach1). The law
--   backend's curves are the law itself at every point, with no learning-rate schedule to decay, so
--   here one token count per size would do as well; with real training it would not.
-- Approach 2: IsoFLOP profiles: at each budget, sizes around its optimum; a parabola in ln N per
--   budget, a power law through the minima (fit.isoflop).
-- Approach 3: the parametric law L = E + A/N^alpha + B/D^beta fitted to the final losses of the
--   grid's runs (fit.chinchilla).
-- The stores (approaches-*.db) are written beside where it runs; a second run reuses them.
-- The script's own arguments follow "--" (before it, the study's options: --jobs, --dry-run, --quiet).
local usage = "usage: scalelab scripts/approaches.lua [--dry-run | -n] [--jobs N | -j N] [--quiet | -q] [-- noise]"
-- --help: what the demo is and its own argument, then the study options it shares with every study.
local own = study.script_arguments("Chinchilla's three approaches to N_opt(C), side by side, on runs drawn from Chinchilla's published law\n"
  .. "(nothing is trained: about a second), each against the allocation that law implies.\n"
  .. usage .. "\n"
  .. "  -- noise        the relative noise on every point of every run's loss curve, from 0 to 0.2\n"
  .. "                  (default 0.005: 0.5%); -- 0.02 shows which approach's intervals widen first\n"
  .. "  --dry-run, -n   print the two studies' planned runs; fit nothing\n"
  .. "  --jobs N, -j N  runs drawn at once\n"
  .. "  --quiet, -q     accepted, as by every study (the demo's studies are quiet already)\n"
  .. "The stores approaches-grid.db and approaches-isoflop.db are written in the current folder; a second\n"
  .. "run with the same noise reuses them.")
local noise = own[1] == nil and 0.005 or tonumber(own[1])
if #own > 1 or not (noise and noise >= 0 and noise <= 0.2) then
  -- Bad usage: status 2 and the usage, as the program's own options and a study's get.
  io.stderr:write("scalelab: approaches.lua: after -- give one number, the noise, from 0 to 0.2, e.g. -- 0.02 (got ",
    table.concat(own, " "), ")\n", usage, "\n")
  os.exit(2)
end
local truth = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 }  -- Hoffmann et al.'s approach-3 law
local C = 1e23                                                                 -- the planning question
local a_true = truth.beta / (truth.alpha + truth.beta)
local G = (truth.alpha * truth.A / (truth.beta * truth.B)) ^ (1 / (truth.alpha + truth.beta))
local N_true = G * (C / 6) ^ a_true
local core = require "scalelab.native.core"
local count, flops = core.format_count, core.format_flops

local function run(name, sweep_, fits)
  return study(name) {
    model = { aspect = 32, vocab = 256, ctx = 256 },
    sweep = sweep_,
    backend = { kind = "law", law = truth, noise = noise, points = 40 },
    fits = fits,
    questions = { plan.optimal { compute = C } },
    report = false,
    quiet = true,
  }
end

-- 12 sizes from 10M to 1B, each for 4 token counts over 16x: 48 runs, 1.5e17 to 2.4e20 FLOP.
local grid = run("approaches-grid", sweep.grid { N = sweep.log(1e7, 1e9, 12), D = { 2.5e9, 6.3e9, 1.6e10, 4e10 } },
  { "approach1", "chinchilla" })
-- 4 budgets from 1e17 to 1e20 FLOP, 9 sizes each from 4 to 250 tokens per parameter: 36 runs.
local iso = run("approaches-isoflop", sweep.isoflop { budgets = { 1e17, 1e18, 1e19, 1e20 }, points = 9, ratio = { 4, 250 } },
  { "isoflop" })
if grid.dry_run then return end  -- --dry-run: the plans are printed, nothing is fitted

local function answer(s, law)
  for _, a in ipairs(s.answers) do
    if a.law == law and a.answer then return a.answer end
  end
end

local rows = {
  { "1: envelope of the training curves", grid, "approach1", #grid.runs },
  { "2: IsoFLOP profiles", iso, "isoflop", #iso.runs },
  { "3: parametric fit of L(N, D)", grid, "chinchilla", #grid.runs },
}
print(string.format("== Three approaches to N_opt(C), on runs drawn from Chinchilla's law with %g%% noise ==", 100 * noise))
print(string.format("The law's own allocation: N_opt ∝ C^%.3f; at %s FLOP, N_opt = %s.", a_true, flops(C), count(N_true)))
print()
print("| approach | runs | a (N_opt ∝ C^a) [95%] | N_opt at " .. flops(C) .. " FLOP [95%] | N_opt / truth |")
print("|---|---|---|---|---|")
for _, r in ipairs(rows) do
  local label, s, law_name, runs = r[1], r[2], r[3], r[4]
  local law = s.fits[law_name]
  local a_text, n_text, ratio = "not fitted", "", ""
  if law then
    local a = law.params.a or (law.params.beta / (law.params.alpha + law.params.beta))
    local iv = law.intervals and law.intervals.a
    a_text = string.format("%.3f", a) .. (iv and string.format(" [%.3f, %.3f]", iv[1], iv[2]) or "")
    local ans = answer(s, law_name)
    if ans then
      local niv = ans.intervals and ans.intervals.N
      n_text = count(ans.N) .. (niv and string.format(" [%s, %s]", count(niv[1]), count(niv[2])) or "")
      ratio = string.format("%.2f", ans.N / N_true)
    end
  end
  print(string.format("| %s | %d | %s | %s | %s |", label, runs, a_text, n_text, ratio))
end
print([[

All three see the same law, so all three should find its exponent; what differs is what each needs.
Approach 1 reads only where a run's curve beats the others at equal compute, so it needs sizes close
together (the frontier must pass from one size to the next); with real training, where a curve's
points before its end come from an undecayed learning rate, it also needs several token counts per
size. Approach 2 needs each budget's sizes to straddle that budget's optimum. Approach 3 uses every
run's final loss, and its answer is only as good as the law's form (here the form is exact). Run with
more noise (scalelab scripts/approaches.lua -- 0.02) to see which approach's intervals widen first.]])
