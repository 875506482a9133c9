-- quickstart: a complete scaling study in a few minutes on a laptop-class CPU.
--
--   build/scalelab scripts/quickstart.lua [--dry-run] [--jobs N]
--
-- What it does, in order:
--   1. Data: a synthetic language drawn from a random probabilistic grammar (data.synthetic, kind
--      "grammar"). Why not real text? Its entropy per token is known exactly, so the irreducible
--      loss E that a fit estimates can be checked against the truth, and small models show smooth,
--      power-law-like learning curves on it; a real corpus (data.corpus "gcide") works the same way
--      but takes longer to prepare and has no known floor.
--   2. Calibration: two short training runs measure this machine's training speed, and the sweep's
--      compute budgets are chosen so that the whole sweep trains in about two and a half minutes on
--      all cores. The choice is saved beside the store, so a rerun plans the very same runs.
--   3. The study: an IsoFLOP sweep (Chinchilla's approach 2) of real training runs, five model sizes
--      at each of three compute budgets, trained in parallel, each recorded in quickstart.db.
--   4. Fits with 95% bootstrap intervals: the IsoFLOP analysis (a parabola in log N at each budget,
--      a power law N_opt = k·C^a through the minima) and, where the fit module is present, the
--      parametric law L = E + A/N^α + B/D^β.
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

local cores = native.cpu_count()
local have_trainer = rawget(_G, "train") ~= nil and rawget(_G, "data") ~= nil
local here = (arg and arg[0] and arg[0]:match("^(.*)/[^/]*$")) or "."
local store = os.getenv("SCALELAB_QUICKSTART_STORE") or "quickstart.db"
local seconds_target = tonumber(os.getenv("SCALELAB_QUICKSTART_SECONDS") or "") or 150
local ctx = 64

-- ---- 1. Data -----------------------------------------------------------------------------------------------------
local source, entropy
if have_trainer then
  source = data.synthetic { kind = "grammar", seed = 1, tokens = 2e7 }
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

local function calibrate()
  -- Training speed (tokens/s on one thread: the sweep trains one model per core) at two sizes that
  -- bracket the sweep's; between and beyond them, interpolated in log-log.
  local backends = require "scalelab.study.backends"
  local measured = {}
  for _, target in ipairs { 4e3, 1e5 } do
    local shape = model.shape_for { params = target, aspect = 16, vocab = source.vocab, ctx = ctx }
    local batch = 16
    local tokens = 24 * batch * ctx
    local sampler = data.sampler { corpus = source, tokens = tokens, seq_len = ctx, batch = batch, seed = 99 }
    local result = train.run { model = shape, data = sampler, tokens = tokens, lr = 1e-3, threads = 1, progress = false,
      eval_data = backends.batch_source(sampler:held_out { seq_len = ctx, batch = batch }, source.vocab, ctx, batch),
      eval_tokens = batch * ctx }
    measured[#measured + 1] = { N = shape.non_embedding_params, rate = result.tokens_per_second }
    print(string.format("calibration: N = %s trains %s tokens/s on one core", core.format_count(shape.non_embedding_params),
      core.format_count(result.tokens_per_second)))
  end
  local a, b = measured[1], measured[2]
  local slope = math.log(b.rate / a.rate) / math.log(b.N / a.N)
  return function(N) return a.rate * (N / a.N) ^ slope end
end

-- The IsoFLOP sweep for top budget C: budgets C/9, C/3, C, five sizes each spanning 16 to 1000 tokens
-- per parameter (the sweep below).
local function plan_sweep(C)
  return sweep.isoflop { budgets = { C / 9, C / 3, C }, points = 5, ratio = { 16, 1000 } }
end

local top_budget = read_budget()
local dry_run = false
for _, a in ipairs(arg or {}) do dry_run = dry_run or a == "--dry-run" end
if not top_budget then
  if have_trainer then
    local rate = calibrate()
    -- The largest top budget (on a grid of thirds of a decade) whose runs, spread over the cores,
    -- train within the time target.
    top_budget = 1e9
    for k = 27, 45 do
      local C = 10 ^ (k / 3)
      local seconds = 0
      for p in plan_sweep(C):each() do seconds = seconds + p.D / rate(p.N) end
      -- 1.5 times the measured time: runs side by side train a little slower than one alone, and
      -- short runs pay for evaluation and checkpoints.
      -- Every run trains on fresh tokens: its D must fit in the corpus's training split.
      local fits_corpus = true
      for p in plan_sweep(C):each() do fits_corpus = fits_corpus and p.D <= 0.9 * source.tokens end
      if fits_corpus and 1.5 * seconds / math.min(cores, 5) <= seconds_target then top_budget = C end
    end
  else
    top_budget = 1e15
  end
  if not dry_run then native.write_file(budget_file, string.format("%.17g\n", top_budget)) end
end
local question_compute = 100 * top_budget

-- ---- 3-5. The study ---------------------------------------------------------------------------------------------------
local backend
if have_trainer then
  backend = "cpu"
else
  print("quickstart: this scalelab has no trainer (module train) yet: running the study on the SIMULATED backend "
    .. "(losses drawn from a known law plus 0.3% noise), not real training.")
  backend = { kind = "simulated", law = { E = 0.8, A = 60, B = 90, alpha = 0.34, beta = 0.28 }, noise = 0.003 }
end

local fits = { isoflop = { bootstrap = 400 } }
if rawget(_G, "fit") and fit.chinchilla then fits.chinchilla = { bootstrap = 100 } end

local s = study "quickstart" {
  description = "Chinchilla's approach 2 on a synthetic grammar of known entropy"
    .. (entropy and string.format(" (%.4f nats/token)", entropy) or "")
    .. (have_trainer and ", trained on this machine's CPU." or ", on the simulated backend (no trainer in this build)."),
  data = source,
  model = { aspect = 16, ctx = ctx, head_dim = 16 },
  params = "non_embedding",  -- Kaplan's N: at this scale embeddings would swamp the trend
  sweep = plan_sweep(top_budget),
  hyper = { lr = 3e-3, batch = 16 },
  backend = backend,
  store = store,
  fits = fits,
  questions = { plan.optimal { compute = question_compute } },
}

if s.dry_run then return end

-- The answer, in a sentence.
for _, a in ipairs(s.answers or {}) do
  local ok, N, D = pcall(function() return a.answer.N, a.answer.D end)
  if ok and N and D then
    local ok_iv, iv = pcall(function() return a.answer.intervals end)
    local range = ""
    if ok_iv and type(iv) == "table" and iv.N then
      range = string.format(" (95%%: %s to %s)", core.format_count(iv.N[1]), core.format_count(iv.N[2]))
    end
    print(string.format("\nWith %s FLOP (100x the largest budget), the %s fit says: train N = %s parameters%s on D = %s tokens.",
      core.format_flops(question_compute), a.law, core.format_count(N), range, core.format_count(D)))
  end
end
if entropy and s.fits and s.fits.chinchilla then
  local ok, E = pcall(function() return s.fits.chinchilla.params.E end)
  if ok and E then print(string.format("Fitted irreducible loss E = %.3f; the grammar's true entropy is %.3f nats/token.", E, entropy)) end
end
