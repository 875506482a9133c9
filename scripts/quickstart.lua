-- quickstart: a complete scaling study in a few minutes on a laptop-class CPU.
--
--   build/scalelab scripts/quickstart.lua [--dry-run | -n] [--jobs N | -j N] [--quiet | -q] [--help | -h]
--
-- What it does, in order:
--   1. Data: a synthetic language drawn from a random probabilistic grammar (data.synthetic, kind
--      "grammar"). Why not real text? Its entropy per token is known exactly, so the irreducible
--      loss E that a fit estimates can be checked against the truth, and small models show smooth,
--      power-law-like learning curves on it; a real corpus (data.corpus "gcide") works the same way
--      but takes longer to prepare and has no known floor.
--   2. Calibration: two short training runs measure this machine's training speed, and the sweep's
--      compute budgets are the largest whose sweep, estimated with a margin of 1.5, trains within two
--      and a half minutes on all cores (on 2 cores it takes about one, and the whole script about
--      100 s); on a machine too slow for that (or busy as it calibrates), the smallest sweep whose
--      every budget has three distinct sizes, for longer, saying so. The choice is saved beside the store, so a rerun plans the very same runs. A dry run
--      (--dry-run, -n) saves nothing: it calibrates (or takes the saved choice) and times the plan by
--      the measured speed.
--   3. The study: an IsoFLOP sweep (Chinchilla's approach 2) of real training runs, up to six model
--      sizes at each of four compute budgets (sizes that round to the same shape are trained once),
--      in parallel, each recorded in quickstart.db. The model family and the learning rate are
--      chosen for models this small (see below: both were measured on this grammar).
--   4. Fits with 95% bootstrap intervals: the IsoFLOP analysis (a parabola in log N at each budget,
--      a power law N_opt = k·C^a through the minima) and, where the fit module is present, the
--      parametric law L = E + A/N^α + B/D^β, fitted freely and again with E held at the source's
--      known entropy (at this scale the data alone barely constrain E).
--   5. The planning question: the compute-optimal N and D at 100× the largest budget of the sweep,
--      with intervals, and the report as Markdown and JSON beside the store (plus figures when the
--      plot module and gnuplot are there).
-- Run it again and it trains nothing: every run is in the store. Kill it (Ctrl-C, or kill -9) and
-- run it again: it resumes where it stopped.
--
-- Without the trainer (a scalelab built before the train module landed) it runs the same study on
-- the simulated backend (losses drawn from a known law plus noise) and says so.
local native = require "scalelab.native.study"
local core = require "scalelab.native.core"

-- The study's own options (--dry-run, --jobs, --quiet, --help), parsed before any work: --help says
-- what the script does and how it is run, and exits; a bad option exits 2 with the usage, and so does
-- an argument after "--" (the script takes none), before the data, the calibration or the budget file.
local usage = "usage: scalelab scripts/quickstart.lua [--dry-run | -n] [--jobs N | -j N] [--quiet | -q]"
local own = require("scalelab.study").script_arguments(
  "A complete scaling study on this machine: an IsoFLOP sweep of about 20 real training runs at four compute\n"
  .. "budgets, on a synthetic grammar of known entropy, sized to this machine's measured speed (about 100 s on 2\n"
  .. "cores); the IsoFLOP and parametric fits with bootstrap intervals, the parametric fit again with E held at the\n"
  .. "known entropy, and the compute-optimal N and D at 100x the largest budget.\n"
  .. usage .. "\n"
  .. "  --dry-run, -n   calibrate (or take the saved calibration) and print the planned runs; train and save nothing\n"
  .. "  --jobs N, -j N  train N runs at once (default: one per core, at most 5; one on a GPU)\n"
  .. "  --quiet, -q     no progress lines and no printed report (the report files are still written)\n"
  .. "The store quickstart.db, its budget file quickstart.budget and the report are written in the current\n"
  .. "folder; a second run trains nothing, and a killed one resumes where it stopped. Environment:\n"
  .. "  SCALELAB_QUICKSTART_STORE    the store's path (default quickstart.db; the budget file is named after it)\n"
  .. "  SCALELAB_QUICKSTART_SECONDS  the training time the budgets are sized for, with a margin of 1.5 (default 150)", arg)
local options = require("scalelab.study").script_options(arg)
if #own > 0 then
  -- Bad usage: status 2 and the usage, as a bad option gets.
  io.stderr:write("scalelab: quickstart.lua takes no arguments of its own (got -- ", table.concat(own, " "), ")\n",
    usage, "\n")
  os.exit(2)
end

local cores = native.cpu_count()
local have_trainer = rawget(_G, "train") ~= nil and rawget(_G, "data") ~= nil
local here = (arg and arg[0] and arg[0]:match("^(.*)/[^/]*$")) or "."
local store = os.getenv("SCALELAB_QUICKSTART_STORE") or "quickstart.db"
local seconds_target = tonumber(os.getenv("SCALELAB_QUICKSTART_SECONDS") or "") or 150
local ctx = 64

-- ---- 1. Data -----------------------------------------------------------------------------------------------------
local source, entropy
if have_trainer then
  -- A 64-symbol grammar: with a small vocabulary the embeddings do not dominate these tiny models,
  -- and their losses come within a few tenths of a nat of the entropy, where the floor E shows.
  source = data.synthetic { kind = "grammar", seed = 1, tokens = 2e7, vocab = 64, nonterminals = 16 }
  entropy = source.entropy_per_token
  print(string.format("data: %s", tostring(source)))
end

-- ---- 2. Calibration: how much this machine trains in the time we have ---------------------------------
local budget_file = store:gsub("%.db$", "") .. ".budget"
local function read_budget()
  local f = io.open(budget_file, "r")
  if not f then return nil end
  local value = tonumber(f:read("l") or "")
  f:close()
  return value
end

-- The model family: under a fixed aspect ratio tiny models come in coarse steps of size, so for each
-- target N this takes the nearest of all shapes with 1 to 4 layers, widths in multiples of 8 (heads
-- of 8) and d_model / n_layer between 16 and 64. (Deep, narrow models do much worse than their size
-- predicts here: 2 layers of width 16 lost 0.26 nats to 1 layer of width 24 of the same size.)
local function family(N)
  local best, best_error
  for layers = 1, 4 do
    for width = 16, 256, 8 do
      if width / layers >= 16 and width / layers <= 64 then
        local m = model.gpt { n_layer = layers, d_model = width, n_head = width // 8, vocab = source and source.vocab or 256,
                              ctx = ctx }
        local err = math.abs(math.log(m.non_embedding_params / N))
        if not best or err < best_error then best, best_error = m, err end
      end
    end
  end
  return best
end

local calibrated_backend = "cpu"
local function calibrate()
  -- Training speed (tokens/s on one thread: the sweep trains one model per core) of the family's
  -- shapes, the ones the sweep trains (their heads of 8 train slower per parameter than other
  -- shapes of the same N), at two sizes that bracket the sweep's; between and beyond them,
  -- interpolated in log-log.
  local backends = require "scalelab.study.backends"
  local measured = {}
  for _, target in ipairs { 4e3, 1e5 } do
    local shape = family(target)
    local batch = 16
    local tokens = 24 * batch * ctx
    local sampler = data.sampler { corpus = source, tokens = tokens, seq_len = ctx, batch = batch, seed = 99 }
    local result = train.run { model = shape, data = sampler, tokens = tokens, lr = 1e-3, threads = 1, progress = false,
      backend = "auto",
      eval_data = backends.batch_source(sampler:held_out { seq_len = ctx, batch = batch }, source.vocab, ctx, batch),
      eval_tokens = batch * ctx }
    measured[#measured + 1] = { N = shape.non_embedding_params, rate = result.tokens_per_second }
    calibrated_backend = result.backend or "cpu"
    print(string.format("calibration: N = %s trains %s tokens/s on backend %s (one worker, one thread)",
      core.format_count(shape.non_embedding_params), core.format_count(result.tokens_per_second), calibrated_backend))
  end
  local a, b = measured[1], measured[2]
  local slope = math.log(b.rate / a.rate) / math.log(b.N / a.N)
  return function(N) return a.rate * (N / a.N) ^ slope end
end

-- The IsoFLOP sweep for top budget C: four budgets a factor of 3 apart (C/27 to C: the lower ones
-- cost little, since the top budget's runs dominate the time, and they stretch the power law through
-- the minima over 1.5 decades), six sizes each. The sizes span 16 to 1000 tokens per parameter at
-- the lowest budget, a window that slides down as C grows, as the optimum's tokens per parameter
-- falls (as C^(b−a), about C^−0.4 here): 4.3 to 268 at the top budget. A fixed window brackets the
-- optimum at every budget only on slower machines (smaller top budgets): on 2 Zen 5 cores, with
-- the top budget at 1e12 FLOP, 16 to 1000 left that budget's minimum beyond its largest size
-- (about 23 tokens per parameter there), and 4 to 400 everywhere put the lowest budgets' largest
-- sizes on too few tokens to leave the early plateau (losses ~2 against ~1.4).
local function plan_sweep(C)
  local lowest = C / 27
  return sweep.isoflop { budgets = { lowest, C / 9, C / 3, C }, N = function(budget)
    local slide = (budget / lowest) ^ -0.4
    return sweep.log(math.sqrt(budget / (6 * 1000 * slide)), math.sqrt(budget / (6 * 16 * slide)), 6)
  end }
end

-- The learning rate. Models this small want a much larger rate than the 1e-3 of published tables for
-- 70M+ models: in a probe on the grammar (5 shapes from 7k to 40k parameters × 3 rates, at 1.5e11
-- FLOP), 1.5e-2 was best or within 0.04 nats of the best for every shape, 5e-3 was 0.06-0.29 nats
-- worse, and 4e-2 mostly worse.
local learning_rate = 1.5e-2

-- Whether every budget of the sweep for top budget C trains 3 or more distinct shapes of the family,
-- as an IsoFLOP parabola needs. Below about 4.6e11 FLOP the lowest budgets' sizes fall under the
-- family's smallest model (1 layer of width 16, 3.31k parameters) and land on the same few shapes:
-- the fit leaves those budgets out, and a machine calibrated slow (or busy with other work as it
-- calibrated) answered from two budgets, its exponents extrapolated and E undetermined.
local function every_budget_has_three_sizes(C)
  local shapes = {}
  for p in plan_sweep(C):each() do
    shapes[p.budget] = shapes[p.budget] or {}
    shapes[p.budget][family(p.N).non_embedding_params] = true
  end
  for _, set in pairs(shapes) do
    local count = 0
    for _ in pairs(set) do count = count + 1 end
    if count < 3 then return false end
  end
  return true
end

local top_budget = read_budget()
local chosen_now = not top_budget
-- Calibrated when the budget is still to choose, and in a dry run, whose estimate it times.
local rate
if have_trainer and (chosen_now or options.dry_run) then rate = calibrate() end
-- Workers run side by side on the cores; on a GPU they share the one device. The study runs as many
-- at once as the sizing assumes (or as --jobs says), so that its time and its dry run's agree.
local parallel = options.jobs or (calibrated_backend == "cuda" and 1 or math.min(cores, 5))
if not top_budget then
  if have_trainer then
    -- The largest top budget (on a grid of thirds of a decade) whose runs, spread over the cores,
    -- train within the time target.
    top_budget = 1e9
    local smallest, smallest_seconds  -- the smallest top budget whose every budget has 3 sizes
    for k = 27, 45 do
      local C = 10 ^ (k / 3)
      local seconds = 0
      for p in plan_sweep(C):each() do seconds = seconds + p.D / rate(p.N) end
      -- 1.5 times the measured time: runs side by side train a little slower than one alone, and
      -- short runs pay for evaluation and checkpoints.
      -- Every run trains on fresh tokens: its D must fit in the corpus's training split.
      local fits_corpus = true
      for p in plan_sweep(C):each() do fits_corpus = fits_corpus and p.D <= 0.9 * source.tokens end
      if fits_corpus and 1.5 * seconds / parallel <= seconds_target then top_budget = C end
      if not smallest and every_budget_has_three_sizes(C) then smallest, smallest_seconds = C, seconds / parallel end
    end
    -- A machine too slow for the target trains the smallest sweep that answers, for longer, and
    -- says so, rather than a sweep whose lowest budgets the fit leaves out.
    if smallest and top_budget < smallest then
      print(string.format("quickstart: this machine trains too slowly for a %s sweep (SCALELAB_QUICKSTART_SECONDS): "
        .. "within it the top budget would be %s FLOP, where the lowest budgets' sizes fall below the smallest model "
        .. "(%s parameters) and merge into fewer than 3 distinct sizes, which the IsoFLOP fit leaves out; training the "
        .. "smallest sweep with 3 or more sizes at every budget instead: top budget %s FLOP, about %s of training "
        .. "(cores busy with other work calibrate slow: Ctrl-C stops it, and a rerun resumes where it stopped)",
        core.format_duration(seconds_target), core.format_flops(top_budget),
        core.format_count(family(1).non_embedding_params), core.format_flops(smallest), core.format_duration(smallest_seconds)))
      top_budget = smallest
    end
  else
    top_budget = 1e15
  end
  -- A dry run shows the plan but fixes nothing: the real run chooses (and saves) the budget itself.
  if not options.dry_run then native.write_file(budget_file, string.format("%.17g\n", top_budget)) end
end

-- The speed the calibration measured, as the dry run times runs (hardware FLOP/s: the trainer's
-- FLOPs, output logits included, over all the workers together): the sweep's hardware FLOPs over
-- the time the calibration predicts for it, without the sizing's margin of 1.5. The dry run's
-- estimate then agrees with the sizing above instead of assuming a speed per core.
local measured_speed
if rate then
  local flops, seconds = 0, 0
  for p in plan_sweep(top_budget):each() do
    flops = flops + family(p.N).hardware_flops_per_token * p.D
    seconds = seconds + p.D / rate(p.N)
  end
  measured_speed = flops / (seconds / parallel)
end
if options.dry_run and chosen_now then
  print(string.format("quickstart: dry run: top budget %s FLOP, not saved (the real run calibrates again and saves its choice)",
    core.format_flops(top_budget)))
end
local question_compute = 100 * top_budget

-- ---- 3-5. The study ---------------------------------------------------------------------------------------------------
local backend
if have_trainer then
  backend = "auto"  -- the GPU where this scalelab was built with CUDA and one is present, else the CPU
else
  print("quickstart: this scalelab has no trainer (module train) yet: running the study on the SIMULATED backend "
    .. "(losses drawn from a known law plus 0.3% noise), not real training.")
  backend = { kind = "simulated", law = { E = 0.8, A = 60, B = 90, alpha = 0.34, beta = 0.28 }, noise = 0.003 }
end

local fits = { isoflop = { bootstrap = 400 } }
if rawget(_G, "fit") and fit.chinchilla then fits.chinchilla = { bootstrap = 100 } end

-- What N counts: Kaplan's N, without the embeddings (at this scale they would swamp the trend).
-- Every answer below names it, as the report does.
local params_count = "non_embedding"
local N_counts = params_count == "all" and "parameters" or "non-embedding parameters"
local s = study "quickstart" {
  description = "Chinchilla's approach 2 on a synthetic grammar of known entropy"
    .. (entropy and string.format(" (%.4f nats/token)", entropy) or "")
    .. (have_trainer and ", trained on this machine (backend auto: its GPU if it has one, else its CPU)." or ", on the simulated backend (no trainer in this build)."),
  data = source,
  model = family,
  params = params_count,  -- Kaplan's N (above)
  sweep = plan_sweep(top_budget),
  hyper = { lr = learning_rate, batch = 16 },
  backend = backend,
  store = store,
  fits = fits,
  questions = { plan.optimal { compute = question_compute } },
  measured_speed = measured_speed,
  jobs = parallel,
}

if s.dry_run then return end

-- What an answer's sentence must not be read without: its notes (parameters the fit could not
-- determine, so that the answer is arbitrary; how far beyond the runs it reaches), or where it has
-- none, that its fit warned (a sweep too small for this machine's speed: minima outside the sizes
-- tried, exponents extrapolated). The sentence alone read as a finding whatever the fit was.
local function print_caveats(answer, law)
  local ok, notes = pcall(function() return answer.notes end)
  if ok and type(notes) == "table" and #notes > 0 then
    for _, note in ipairs(notes) do print("  note: " .. tostring(note)) end
    return
  end
  local ok_w, warnings = pcall(function() return law.warnings end)
  if ok_w and type(warnings) == "table" and #warnings > 0 then
    print(string.format("  note: its fit gave %s (in the report above): read this answer with %s",
      core.format_counted(#warnings, "warning"), #warnings == 1 and "it" or "them"))
  end
end

-- The answer, in a sentence.
for _, a in ipairs(s.answers or {}) do
  local ok, N, D = pcall(function() return a.answer.N, a.answer.D end)
  if ok and N and D then
    local ok_iv, iv = pcall(function() return a.answer.intervals end)
    local range = ""
    if ok_iv and type(iv) == "table" and iv.N then
      range = string.format(" (95%%: %s to %s)", core.format_count(iv.N[1]), core.format_count(iv.N[2]))
    end
    print(string.format("\nWith %s FLOP (100x the largest budget), the %s fit says: train N = %s %s%s on D = %s tokens.",
      core.format_flops(question_compute), a.law, core.format_count(N), N_counts, range, core.format_count(D)))
    print_caveats(a.answer, s.fits and s.fits[a.law])
  end
end
if entropy and s.fits and s.fits.chinchilla then
  local law = s.fits.chinchilla
  local ok, E = pcall(function() return law.params.E end)
  if ok and E then
    local ok_iv, iv = pcall(function() return law.intervals.E end)
    -- The entropy rate is the floor of a model with unlimited context. These models see at most ctx
    -- tokens, and a row's first targets fewer (its first none), so their floor lies above the rate:
    -- on this grammar by at least 0.085 nats (the sum over k = 0..3 of (H(X | the k tokens before) -
    -- rate)/64, measured on 4M tokens: H = 3.93, 2.10, 1.27, 1.13 nats). The text called the rate "the
    -- floor" and "the loss of the perfect model", and put a fitted E above it down to the law's form.
    print(string.format("Fitted irreducible loss E = %.3f%s; the grammar's true entropy is %.3f nats/token, the floor of a "
      .. "model with unlimited context. These models see at most %d tokens, and a row's first targets fewer, so "
      .. "their own floor lies above it: the entropy is a lower bound on the E these runs can show.", E,
      ok_iv and iv and string.format(" (95%%: %.3f to %.3f)", iv[1], iv[2]) or "", entropy, ctx))
    if ok_iv and type(iv) == "table" and iv[1] and iv[2] then
      local lowest, runs = math.huge, 0
      for _, o in ipairs(s:observations()) do lowest, runs = math.min(lowest, o.loss), runs + 1 end
      if entropy >= iv[1] and entropy <= iv[2] then
        print("The interval contains the true entropy.")
      else
        -- Say so: a bootstrap interval is about the runs' scatter, and here the miss is the law's,
        -- or above the entropy, partly the models' own floor.
        print(string.format("The interval misses the true entropy by %.3f nats%s. It measures how much the fit "
          .. "moves when these %d runs are resampled, not the error of carrying the law's form from the lowest loss "
          .. "measured (%.3f) down to the floor. The fit with E held, below, takes E from theory instead: the entropy, "
          .. "the floor's lower bound.",
          entropy < iv[1] and iv[1] - entropy or entropy - iv[2],
          entropy < iv[1] and ", above it, where part of the gap is these models' floor lying above the entropy" or
            ", below it, and so below any floor these models can reach",
          runs, lowest))
      end
    end
  end
  -- The lesson of a known-entropy source: at this scale every loss sits well above the floor, so
  -- the data barely constrain E, and E trades off against B and beta. A floor known from theory can
  -- be held fixed instead: the law's reducible part is then fitted alone, and the planning answer
  -- narrows. The source's entropy rate is the loss of a perfect model with unlimited context, a lower
  -- bound on these models' floor (above), the closest to it that theory gives here.
  local fixed = fit.chinchilla(s:observations(),
    { init = { E = entropy }, free = { "A", "B", "alpha", "beta" }, bootstrap = 100, covariance = false })
  print(string.format("\nThe same law with E held at the known entropy (%.3f, a lower bound on these models' floor):", entropy))
  print(fixed)
  local answer = plan.optimal { compute = question_compute, law = fixed }
  local iv = answer.intervals
  print(string.format("With E known, at %s FLOP: train N = %s %s (95%%: %s to %s) on D = %s tokens.",
    core.format_flops(question_compute), core.format_count(answer.N), N_counts, core.format_count(iv.N[1]), core.format_count(iv.N[2]),
    core.format_count(answer.D)))
  print_caveats(answer, fixed)
end
