-- The trainer backends a study can run its runs on.
--   "cpu", "cuda", "auto": the trainer (train.run{ backend = ... }) on the study's data
--   "simulated" or { kind = "simulated", law = { E =, A =, B =, alpha =, beta = } | a Law, noise = 0.01 }:
--       a loss curve drawn from a known law, with noise (default 0) the relative spread of each run's
--       held-out loss; for fast pipeline tests and teaching (a fit must recover the law it was
--       given). The trainer's simulated backend when present.
--   { kind = "law", law =, noise =, points =, seconds_per_point = }: the same idea computed here,
--       paced and (when paced) checkpointed point by point (tests of the executor, of progress, of
--       resumption)
--   function(run, context) -> result: your own backend; result = { loss =, curve = {...}, ... }
local json = require "scalelab.study.json"
local native_store = require "scalelab.native.store"
local native = require "scalelab.native.study"
local core_format_count = require("scalelab.native.core").format_count

local backends = {}

-- The law the simulated backend draws from when none is given: the Chinchilla fit (REFERENCE.md).
backends.default_law = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 }

-- ---- A deterministic random stream (splitmix64), seeded from a run's identity -----------------------

local function splitmix(state)
  state = state + 0x9E3779B97F4A7C15
  local z = state
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return state, z ~ (z >> 31)
end

local function uniform(state)
  local z
  state, z = splitmix(state)
  return state, ((z >> 11) + 0.5) / 9007199254740992.0  -- (0, 1)
end

-- The standard normal draw number k of the stream seeded by `seed` (independent of other k, so a
-- resumed run draws the same noise as an uninterrupted one).
local function normal(seed, k)
  local state = seed ~ (k * 0x632BE59BD9B4E019)
  local u1, u2
  state, u1 = uniform(state)
  state, u2 = uniform(state)
  return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
end

local function seed_of(text)
  return tonumber(native_store.sha256(text):sub(1, 15), 16)
end

-- ---- The simulated backend ----------------------------------------------------------------------------

-- A law with R_D (and R_N) is the data-constrained law of Muennighoff et al.: repeated tokens and
-- parameters in excess of the unique data's optimum are worth less. It is the fit module's own law
-- (the one fit.data_constrained fits), so a study's fit can recover exactly the law it simulated.
local function is_data_constrained(law)
  return law.R_D ~= nil or law.R_N ~= nil
end

local data_constrained_laws = setmetatable({}, { __mode = "k" })
local function data_constrained_law(law)
  local made = data_constrained_laws[law]
  if not made then
    local fit = require "scalelab.fit"
    made = fit.published.datablations:with { E = law.E, A = law.A, B = law.B, alpha = law.alpha, beta = law.beta,
                                              R_D = law.R_D, R_N = law.R_N }
    data_constrained_laws[law] = made
  end
  return made
end

function backends.law_loss(law, N, D, U)
  if is_data_constrained(law) then return data_constrained_law(law):predict { N = N, D = D, U = U or D } end
  return law.E + law.A / N ^ law.alpha + law.B / D ^ law.beta
end

local function read_checkpoint(path)
  local file = path and io.open(path, "r")
  if not file then return 0 end
  local k = tonumber(file:read("l") or "")
  file:close()
  return k or 0
end

-- run: the planned run (see study.lua); options: { law =, noise =, points =, seconds_per_point = }.
function backends.simulate(run, options)
  local law = options.law or backends.default_law
  local noise = options.noise or 0.0
  local points = options.points or 20
  local delay = options.seconds_per_point or 0
  local N = run.N_fit or run.params
  local D = run.tokens
  local seed = seed_of(run.config_json)
  local start = native.clock()
  local done = read_checkpoint(run.checkpoint)
  -- A checkpoint after every point only where the run is paced (seconds_per_point > 0: the runs that
  -- tests interrupt and resume). Unpaced, a run draws its whole curve in well under a millisecond and
  -- one killed is drawn again to the same losses (the noise is seeded by the run and the point), so a
  -- checkpoint buys nothing: writing one a point (a file written and renamed) was 3360 of the 3444
  -- renames of scripts/approaches.lua's 84 runs of 40 points.
  local checkpoint = delay > 0 and run.checkpoint or nil
  -- Every loss at most ln(vocab), a uniform guess, which no model starts above, as the trainer's
  -- simulation caps its own: a small model on few tokens under a data-constrained law, or N counted
  -- without embeddings, was drawn above it.
  local vocab = run.shape and run.shape.vocab
  local cap = vocab and vocab > 1 and math.log(vocab) or math.huge
  local curve = {}
  for k = 1, points do
    local tokens = math.floor(D * k / points + 0.5)  -- a count of tokens (the last point: all D)
    -- Within a run the loss follows the law at the tokens seen so far (a cosine schedule makes the
    -- middle of a run a little worse; the simulation ignores that).
    local clean = math.min(cap, backends.law_loss(law, N, tokens, run.unique_tokens))
    local eval_loss = math.min(cap, clean * math.exp(noise * normal(seed, k)))
    local train_loss = math.min(cap, clean * math.exp(noise * normal(seed, k + 100003)))
    curve[k] = { step = math.max(1, math.floor(run.steps * k / points + 0.5)), tokens = tokens,
                 train_loss = train_loss, eval_loss = eval_loss }
    if k > done then
      if delay > 0 then native.sleep(delay) end
      if checkpoint then native.write_file(checkpoint, tostring(k) .. "\n") end
      if run.on_progress then run.on_progress(k / points, eval_loss) end
    end
  end
  local wall = native.clock() - start
  return {
    status = "done",
    loss = curve[#curve].eval_loss,
    curve = curve,
    wall_seconds = wall,
    resumed_from = done > 0 and done / points or nil,
  }
end

-- ---- The real trainer ----------------------------------------------------------------------------------

local function trainer()
  local train = rawget(_G, "train")
  if (type(train) == "table" or type(train) == "userdata") and type(train.run) == "function" then return train end
end
backends.have_trainer = function() return trainer() ~= nil end

local function field(object, key)
  local ok, value = pcall(function() return object[key] end)
  if ok then return value end
end

-- A result of train.run as a plain table: { status, loss, curve = {points}, metrics = {...} }.
local function normalize_trainer_result(result)
  if type(result) == "table" and getmetatable(result) == nil then return result end  -- already plain
  local out = { metrics = {} }
  out.status = field(result, "status") or "done"
  out.loss = field(result, "loss")
  if type(out.loss) ~= "number" then
    -- No held-out data: the final training loss stands in, and the store says so.
    out.loss = field(result, "train_loss")
    out.metrics.loss_is_train_loss = 1
  end
  out.curve = {}
  local curve = field(result, "curve")
  if type(curve) == "table" then
    for _, p in ipairs(curve) do
      out.curve[#out.curve + 1] = { step = p.step, tokens = p.tokens, train_loss = p.train_loss,
                                    eval_loss = p.eval_loss, seconds = p.seconds, lr = p.lr }
    end
  end
  for _, key in ipairs { "best_loss", "train_loss", "tokens_per_second", "flops", "flops_palm", "flops_per_second",
                         "wall_seconds", "train_seconds", "params", "non_embedding_params", "tokens", "steps",
                         "backend", "device", "message" } do
    local v = field(result, key)
    if type(v) == "number" or type(v) == "string" then out.metrics[key] = v end
  end
  if out.status ~= "done" and type(out.metrics.message) == "string" then out.error = out.metrics.message end
  return out
end

-- Trains `run` with train.run on backend `name` ("cpu", "cuda", "auto", "simulated").
function backends.train(run, name, context)
  local train = trainer()
  if not train then
    error("backend '" .. name .. "' needs the trainer (module train), which this scalelab does not have yet; "
      .. "use backend = \"simulated\" for now", 0)
  end
  local options = {
    model = run.shape, tokens = run.tokens, batch = run.batch, seq_len = run.shape.ctx, lr = run.lr,
    warmup = run.warmup < 1 and run.warmup or run.warmup / run.steps, min_lr_ratio = run.min_lr_ratio,
    beta1 = run.beta1, beta2 = run.beta2, weight_decay = run.weight_decay, clip = run.clip, seed = run.seed,
    eval_interval = run.eval_interval, eval_tokens = run.eval_tokens, backend = name, threads = run.threads,
  }
  -- A checkpoint every tenth of a trained run: a killed sweep loses at most that much of a run. A
  -- simulated run draws its whole curve in well under a millisecond, far less than writing ten
  -- checkpoints durably (which took 95% of a 3000-run simulated sweep's time): it has none, and an
  -- interrupted one is drawn again, to the same losses.
  if name ~= "simulated" then
    options.checkpoint = run.checkpoint
    options.checkpoint_interval = math.max(run.batch * run.shape.ctx,
      (run.tokens // 10) // (run.batch * run.shape.ctx) * run.batch * run.shape.ctx)
  end
  if name ~= "simulated" then
    local sampler = context.sampler(run)
    options.data = sampler
    -- The held-out batches the trainer evaluates on: the sampler's held-out split, in this run's shape.
    local ok, held = pcall(function() return sampler:held_out { seq_len = run.shape.ctx, batch = run.batch } end)
    if ok and held ~= nil then options.eval_data = backends.batch_source(held, run.shape.vocab, run.shape.ctx, run.batch) end
  end
  for k, v in pairs(context.trainer_options or {}) do options[k] = v end
  if run.on_progress then
    local last = -math.huge
    options.progress = function(p)
      local now = native.clock()
      if now - last >= 0.5 or p.tokens >= p.total_tokens then
        last = now
        local loss = p.eval_loss
        if type(loss) ~= "number" or loss ~= loss then loss = p.loss end
        run.on_progress(p.tokens / math.max(1, p.total_tokens), loss)
      end
    end
  else
    options.progress = false
  end
  return normalize_trainer_result(train.run(options))
end

-- `source` as the trainer reads a data source (next_batch, state, restore, vocab, seq_len, batch):
-- itself when it has those fields, else a view that adds them.
function backends.batch_source(source, vocab, seq_len, batch)
  local ok = pcall(function() return source.vocab + source.seq_len + source.batch end)
  if ok then return source end
  return setmetatable({ vocab = vocab, seq_len = seq_len, batch = batch }, {
    __index = function(_, key)
      local method = source[key]
      if type(method) ~= "function" then return method end
      return function(_, ...) return method(source, ...) end
    end,
  })
end

-- ---- Dispatch -------------------------------------------------------------------------------------------

-- The law forms the simulation draws from, for errors.
local accepted_laws = "a table { E =, A =, B =, alpha =, beta = } (and R_D =, R_N = for a data-constrained law), "
  .. "or a Law of the Chinchilla form E + A/N^alpha + B/D^beta (fit.published.chinchilla, fit.chinchilla(observations)) "
  .. "or of the data-constrained form (fit.published.datablations, fit.data_constrained(observations))"

-- A law as the simulation reads it, a plain table: `law` itself when it is a table; the values of a
-- Law object (published or fitted) of the Chinchilla or data-constrained form; else an error naming
-- the form it has and the forms the simulation accepts.
function backends.law_table(law, what)
  if type(law) == "table" then
    -- An IsoFLOP result (fit.isoflop's, or a study's s.fits.isoflop) is not a law of N and D.
    local kind, parabolas = rawget(law, "kind"), rawget(law, "parabolas")
    if parabolas ~= nil or (type(kind) == "string" and kind ~= "chinchilla" and kind ~= "data_constrained") then
      error(string.format("%s is %s, which the simulated backend does not draw from; give %s", what,
        parabolas ~= nil and "an IsoFLOP result (fit.isoflop: a parabola per budget, N_opt and D_opt power laws)"
          or ("a law of the " .. kind .. " form"), accepted_laws), 0)
    end
    return law
  end
  local ok, kind = pcall(function() return law.kind end)
  if type(law) ~= "userdata" or not ok or type(kind) ~= "string" then
    local checks = require "scalelab.study.checks"
    error(string.format("%s must be %s (got %s)", what, accepted_laws, checks.type_name(law)), 0)
  end
  if kind ~= "chinchilla" and kind ~= "data_constrained" then
    error(string.format("%s: law '%s' has the %s form (%s), which the simulated backend does not draw from; give %s",
      what, law.name, kind, law.formula, accepted_laws), 0)
  end
  local params = law.params
  local out = { E = params.E, A = params.A, B = params.B, alpha = params.alpha, beta = params.beta }
  if kind == "data_constrained" then out.R_D, out.R_N = params.R_D, params.R_N end
  return out
end

local function check_law(law, what)
  for _, key in ipairs { "E", "A", "B", "alpha", "beta" } do
    local v = law[key]
    if type(v) ~= "number" then
      error(what .. "." .. key .. " must be a number (the simulated law is E + A/N^alpha + B/D^beta)", 0)
    end
    if v ~= v or v == math.huge or v == -math.huge then
      error(what .. "." .. key .. " must be a finite number (the simulated law is E + A/N^alpha + B/D^beta; got "
        .. tostring(v) .. ")", 0)
    end
  end
  if is_data_constrained(law) then
    for _, key in ipairs { "R_D", "R_N" } do
      if type(law[key]) ~= "number" or not (law[key] > 0) then
        error(what .. "." .. key .. " must be a positive number: a data-constrained law (Muennighoff et al.) needs "
          .. "both R_D and R_N (the e-folding repetitions of data and of excess parameters; published 15.39 and 5.31)", 0)
      end
    end
  end
end

-- backend: the study's backend value (default "auto": a study about training trains). Returns kind
-- ("simulated" | "law" | trainer name | "custom"),
-- the part of it that belongs in each run's identity, the function that runs one run, and what a run
-- stopped midway keeps (backends.stopped_runs): "checkpoints" (the trainer's runs, a paced law's),
-- "nothing" (a simulation that writes none: it is drawn again) or "custom" (the backend's own affair).
--   "simulated": the trainer's simulated backend (a law plus noise, instantly) when this scalelab has
--       the trainer, else the law simulation below; { kind = "simulated", law =, noise = }
--   { kind = "law", law =, noise =, points = 20, seconds_per_point = 0 }: a loss curve drawn here
--       from the law, deterministic per run, paced by seconds_per_point (for exercising executors,
--       progress and resumption: paced, it checkpoints after every point; unpaced, never)
--   { kind = "cpu" | "cuda" | "auto", <trainer options> }: the trainer with those options (threads, ...)
--   a table without kind: "simulated" when it gives law or noise, else the default ("auto"), as for
--       nil and strings: backend = { threads = 4 } trains
-- The backends a study may name: the trainer's ("auto": CUDA where present, else the CPU) and the
-- two simulations.
backends.names = { "auto", "cpu", "cuda", "simulated", "law" }
-- The largest noise a simulation takes (a relative spread of the held-out loss; the trainer's training
-- losses get four times it, below its limit of 1).
backends.max_noise = 0.25
backends.default = "auto"

local function check_name(name, what)
  for _, valid in ipairs(backends.names) do
    if name == valid then return end
  end
  local checks = require "scalelab.study.checks"
  local suggestion = type(name) == "string" and checks.closest(name, backends.names)
  error(string.format("%s%s is not a backend%s; valid: %s (\"auto\" trains on CUDA where present, else the CPU; "
    .. "\"simulated\" draws losses from a law without training)", what,
    type(name) == "string" and ("\"" .. name .. "\"") or checks.type_name(name),
    suggestion and ("; did you mean \"" .. suggestion .. "\"?") or "",
    "\"" .. table.concat(backends.names, "\", \"") .. "\""), 0)
end

-- Whether trainer backend `kind` can train on this machine ("auto" always can; "cuda" needs a CUDA
-- build and a device), and if not, why.
function backends.available(kind)
  local ok, train = pcall(require, "scalelab.native.train")
  if not ok or type(train) ~= "table" or not train.backend_available then
    return kind == "auto" or kind == "cpu", "this scalelab has no trainer"
  end
  if train.backend_available(kind) then return true end
  for _, built in ipairs(train.backends()) do
    if built == kind then return false, "no " .. (kind == "cuda" and "CUDA " or "") .. "device is visible" end
  end
  return false, "this scalelab was built without it"
end

-- True when runs on this backend train a model on the study's data.
function backends.trains(kind)
  return kind == "auto" or kind == "cpu" or kind == "cuda"
end

-- The trainer options a study's backend table may give (backend = { kind = "cpu", threads = 4 }),
-- each with the whole numbers or numbers it takes; the study sets the others for each run.
local TRAINER_OPTIONS = {
  threads = { 0, 4096, "CPU threads a run trains on, 0 for all cores" },
  micro_batch = { 1, math.huge, "rows per forward and backward pass" },
  checkpoint_interval = { 0, math.huge, "training tokens between checkpoints" },
  eps = { 0, math.huge, "AdamW's epsilon", real = true },
}
-- train.run's options that the study gives each run itself, and where a study says them instead.
local STUDY_SETS = {
  lr = "hyper = { lr = ... }", batch = "hyper = { batch = ... }", warmup = "hyper = { warmup = ... }",
  min_lr_ratio = "hyper = { min_lr = ... }", beta1 = "hyper = { beta1 = ... }", beta2 = "hyper = { beta2 = ... }",
  weight_decay = "hyper = { weight_decay = ... }", clip = "hyper = { clip = ... }",
  seed = "the study's seed = (or sweep.seeds)", eval_interval = "eval = { interval = ... }",
  eval_tokens = "eval = { tokens = ... }", model = "models = { ... } (the study builds each run's shape)",
  tokens = "the sweep (each run's D)", steps = "the sweep (each run's D)", seq_len = "models = { ctx = ... }",
  data = "the study's data =", eval_data = "the study's data = (its held-out split)",
  checkpoint = "checkpoints = \"DIR\" (the folder of the study's checkpoints)",
  resume = "nothing: a study always resumes its stopped runs", progress = "nothing: the study shows each run's progress",
  backend = "kind = (backend = { kind = \"cpu\", ... })",
}

-- Checks option `key` = `value` of a trainer backend's table: one train.run takes and the study leaves
-- to it, of the right kind. Before this, a misspelt or misplaced option (thread = 2, lr = 1e-3) passed
-- the study's checks and the dry run, and failed every run as it started, in train.run's words.
local function check_trainer_option(kind, key, value)
  if type(key) ~= "string" then
    error(string.format("backend: the options of a trainer backend are named (backend = { kind = \"%s\", threads = 4 "
      .. "}); found a positional value %s", kind, tostring(value)), 0)
  end
  if key == "law" or key == "noise" or key == "points" or key == "seconds_per_point" then
    error(string.format("backend.%s: backend \"%s\" trains models and draws nothing from a law; for losses drawn from "
      .. "a law give backend = { kind = \"%s\", %s = ... }", key, kind,
      (key == "law" or key == "noise") and "simulated" or "law", key), 0)
  end
  local option = TRAINER_OPTIONS[key]
  if option then
    local lo, hi, meaning = option[1], option[2], option[3]
    local ok = type(value) == "number" and value == value and value >= lo and value <= hi
      and (option.real and value > lo and value < math.huge or (not option.real and value == math.floor(value)))
    if not ok then
      error(string.format("backend.%s must be %s (%s; got %s)", key, option.real and "a number above 0" or
        (hi == math.huge and string.format("a whole number of at least %d", lo) or string.format("a whole number from %d to %d",
        lo, hi)), meaning, type(value) == "string" and string.format("%q", value) or tostring(value)), 0)
    end
    return
  end
  local where = STUDY_SETS[key]
  if where then
    error(string.format("backend.%s: the study sets %s for each run; give it in %s", key, key, where), 0)
  end
  local names = {}
  for name in pairs(TRAINER_OPTIONS) do names[#names + 1] = name end
  table.sort(names)
  local suggestion = require("scalelab.study.checks").closest(key, names)
  error(string.format("backend.%s is not an option of the trainer%s (a trainer backend takes kind and %s)", key,
    suggestion and string.format("; did you mean '%s'?", suggestion) or "", table.concat(names, ", ")), 0)
end

-- The backend of a study's spec: its kind, its identity (part of every run's) and the function that
-- runs a planned run. count: the study's N ("all" or "non_embedding"), at which a law is simulated.
function backends.resolve(backend, count)
  if backend == nil then backend = backends.default end
  if backend == "simulated" then backend = { kind = "simulated" } end
  if backend == "law" then backend = { kind = "law" } end
  if type(backend) == "function" then
    return "custom", { kind = "custom" }, function(run, context) return backend(run, context) end, "custom"
  end
  if type(backend) == "string" then
    check_name(backend, "")
    if backends.trains(backend) then backend = { kind = backend } end
  end
  if type(backend) == "string" then
    return backend, { kind = backend }, function(run, context) return backends.train(run, backend, context) end,
      "checkpoints"
  end
  -- A table without kind is the default backend with options (backend = { threads = 4 } trains, as
  -- backend = nil and "auto" do), unless it gives a law to simulate.
  local kind = backend.kind
  if kind == nil then kind = (backend.law ~= nil or backend.noise ~= nil) and "simulated" or backends.default end
  check_name(kind, "backend.kind = ")
  if kind == "simulated" or kind == "law" then
    local law = backend.law ~= nil and backends.law_table(backend.law, "backend.law") or backends.default_law
    check_law(law, "backend.law")
    local noise = backend.noise or 0
    if type(noise) ~= "number" or not (noise >= 0 and noise < backends.max_noise) then
      error(string.format("backend.noise must be a number in [0, %g): the relative spread of each run's held-out loss "
        .. "around the law, e.g. 0.01 for 1%% (got %s)", backends.max_noise, tostring(noise)), 0)
    end
    -- The trainer's simulated backend draws from E + A/N^alpha + B/D^beta; a data-constrained law is
    -- simulated here. Both give each run's held-out loss a relative spread of `noise`: the trainer's
    -- noise is that of its training losses, and its held-out losses get a quarter of it.
    -- The trainer's simulator draws at all parameters: under Kaplan's count (count = "non_embedding")
    -- the study's own simulation draws at the N its fits count, so that they can recover the law.
    if kind == "simulated" and trainer() and not is_data_constrained(law) and (count == nil or count == "all") then
      local trainer_law = { E = law.E, A = law.A, B = law.B, alpha = law.alpha, beta = law.beta, noise = 4 * noise }
      local identity = { kind = "simulated", law = law, noise = noise, implementation = "train" }
      -- Runs drawn before the noise meant the held-out spread (the trainer's noise was passed as it was) are
      -- drawn again; noiseless runs are the same draws as before and keep their identity.
      if noise > 0 then identity.training_noise = 4 * noise end
      return "simulated", identity, function(run, context)
        context.trainer_options = { law = trainer_law }
        return backends.train(run, "simulated", context)
      end, "nothing"
    end
    local points = backend.points
    if points ~= nil and (type(points) ~= "number" or points ~= math.floor(points) or points < 1 or points > 100000) then
      error("backend.points must be a whole number of curve points from 1 to 100000 (got " .. tostring(points) .. ")", 0)
    end
    local pace = backend.seconds_per_point
    if pace ~= nil and (type(pace) ~= "number" or not (pace >= 0) or pace == math.huge) then
      error("backend.seconds_per_point must be a finite number >= 0 (got " .. tostring(pace) .. ")", 0)
    end
    local identity = { kind = kind, law = law, noise = noise, points = backend.points, implementation = "study" }
    return kind, identity, function(run)
      return backends.simulate(run, { law = law, noise = noise, points = backend.points,
                                      seconds_per_point = backend.seconds_per_point })
    end, (pace or 0) > 0 and "checkpoints" or "nothing"
  end
  local trainer_options = {}
  for k, v in pairs(backend) do
    if k ~= "kind" then
      check_trainer_option(kind, k, v)
      trainer_options[k] = v
    end
  end
  -- { kind = "cpu" } without options trains as "cpu" does: the same runs, with the same identity
  -- (an empty trainer = {} in it made every run stored under "cpu" new, to be trained again).
  -- The identity names the device that computes the runs, not the name the study gave it: "auto"
  -- is "cpu" on a machine without a GPU and "cuda" on one with it, so that switching between "auto"
  -- and the device it picks finds the same stored runs, and a run trained on CUDA (other rounding)
  -- stays another run than the CPU's. The runs train on that device, so that identity and
  -- computation agree. The fifth result is the identity that scalelab gave "auto" before (its name,
  -- whatever the device): a store's runs under it are found by their device (backends.adopt_legacy).
  local trainer = next(trainer_options) ~= nil and trainer_options or nil
  local device = backends.device(kind)
  local identity = { kind = device, trainer = trainer }
  return kind, identity, function(run, context)
    context.trainer_options = trainer_options
    return backends.train(run, device, context)
  end, "checkpoints", { kind = "auto", trainer = trainer }
end

-- The stored run `record` that a planned run finds under the identity scalelab gave backend "auto"
-- before it named the device (backends.resolve's fifth result) is the same computation as one
-- planned on `device` when that device trained it (its metrics' backend; a record without one, as
-- an earlier scalelab left unfinished runs, is taken to be: resuming its checkpoint on another
-- device is refused by the trainer, whose checkpoint names its backend).
function backends.legacy_matches(record, device)
  local trained_on = type(record) == "table" and type(record.metrics) == "table" and record.metrics.backend
  return type(trained_on) ~= "string" or trained_on == "" or trained_on == device
end

-- The tokens that the checkpoint at `path`, of planned run `run` on a backend of identity `identity`
-- (backends.resolve's second result), holds trained: the trainer's (train.checkpoint_position) or
-- the law simulation's (the curve points drawn). Else nil, and true where the checkpoint cannot be
-- resumed (it cannot be read, or is of another run's shape or length, which the trainer refuses),
-- false where the backend's checkpoints are its own affair (a function's).
function backends.checkpoint_tokens(identity, path, run)
  local kind = type(identity) == "table" and identity.kind
  if kind == "law" then
    local file = io.open(path, "r")
    local k = file and tonumber(file:read("l") or "")
    if file then file:close() end
    local points = identity.points or 20
    if not k or k < 0 or k > points or k ~= math.floor(k) then return nil, true end
    return math.floor(run.tokens * k / points + 0.5)
  end
  local train = trainer()
  if not (backends.trains(kind) and train and type(train.checkpoint_position) == "function") then return nil, false end
  local ok, at = pcall(train.checkpoint_position, path)
  if not ok or type(at) ~= "table" or at.steps ~= run.steps or at.batch ~= run.batch or at.seq_len ~= run.shape.ctx then
    return nil, true
  end
  return at.tokens
end

-- What a study interrupted by Ctrl-C says of its runs that were stopped midway, by what they keep
-- (backends.resolve's fourth result): a simulated run that writes no checkpoint is drawn again.
function backends.stopped_runs(keeps)
  if keeps == "checkpoints" then
    return "the runs stopped keep their checkpoints: run the study again to resume"
  elseif keeps == "nothing" then
    return "the runs stopped keep no checkpoints (their losses are drawn from a law in well under a second): "
      .. "run the study again to draw them again, to the same losses"
  end
  return "the runs stopped resume only where your backend function keeps checkpoints of its own: run the study "
    .. "again to finish them"
end

-- Assumed training speed (FLOP/s) per backend for dry-run estimates, when the store has no
-- measurement yet.
-- What trains a trainer backend's runs here: "cuda" for backend "cuda", and for "auto" where a
-- GPU can train; else "cpu".
function backends.device(kind)
  if kind == "cuda" or (kind == "auto" and backends.available("cuda")) then return "cuda" end
  return "cpu"
end

-- The device that computes a study's runs, from its backend's name (backends.resolve's first result)
-- and identity (its second): "cpu" or "cuda" for the trainer's backends ("auto" resolved), nil for
-- those that train nothing (simulated, law) or train as a function of the user's does (custom).
function backends.resolved_device(kind, identity)
  if not backends.trains(kind) then return nil end
  return type(identity) == "table" and identity.kind or backends.device(kind)
end

-- The backend as a report and a plan name it: the name asked for and, where it is another, the device
-- it resolved to ("auto (resolved to cpu)"); `code` wraps each name (Markdown's backquotes).
function backends.describe_backend(kind, identity, code)
  code = code or function(text) return text end
  local device = backends.resolved_device(kind, identity)
  if device and device ~= kind then
    return string.format("%s (resolved to %s on this machine)", code(kind), code(device))
  end
  return code(kind)
end

function backends.assumed_flops_per_second(kind, cores)
  if kind == "simulated" or kind == "law" or kind == "custom" then return math.huge end
  if backends.device(kind) == "cuda" then return 100e12 end
  return 20e9 * (cores or 1)
end

-- True for the backends that draw losses from a law instead of training.
function backends.simulates(kind)
  return kind == "simulated" or kind == "law"
end

-- What a simulated study's runs are, for its plan and report: "losses drawn from a law without noise,
-- no training (...)" or "losses drawn from a law with 1% noise on each run's held-out loss, no training".
-- The "law" backend draws the noise at every point of a run's curve, each point its own.
function backends.describe_simulation(identity)
  local noise = type(identity) == "table" and identity.noise or 0
  local where = type(identity) == "table" and identity.kind == "law" and "every point of each run's loss curve"
    or "each run's held-out loss"
  if noise > 0 then
    return string.format("losses drawn from a law with %.3g%% noise on %s, no training", 100 * noise, where)
  end
  return "losses drawn from a law without noise, no training (backend.noise = 0.01 would give " .. where
    .. " a 1% spread)"
end

-- Three significant digits as the plan's other numbers print (6.4e13, not printf's 6.4e+13).
local function g3(x) return require("scalelab.native.core").format_number(x, 3) end

-- The planned runs whose simulated loss the law puts at or above ln(vocab) (a uniform guess over the
-- vocabulary), for a simulated backend of identity `identity` (backends.resolve's second result):
-- returns nil when no run is, else { count =, runs = #runs, capped = true (every simulation caps
-- those losses at ln(vocab), and every such run then has that loss), vocab =, cap =, lowest = the one
-- of them with the lowest law loss, loss = that loss } and a message saying so and the fix.
function backends.capped(identity, runs)
  if type(identity) ~= "table" or not backends.simulates(identity.kind) or type(identity.law) ~= "table" then return nil end
  local law = identity.law
  local out = { count = 0, runs = #runs, capped = true }
  for _, r in ipairs(runs) do
    local vocab = r.shape and r.shape.vocab
    if vocab and vocab > 1 then
      -- The trainer's simulation takes N as all parameters; the study's own takes the fit's N.
      local N = identity.implementation == "train" and r.params or (r.N_fit or r.params)
      local ok, loss = pcall(backends.law_loss, law, N, r.tokens, r.unique_tokens)
      local cap = math.log(vocab)
      if ok and loss >= cap then
        out.count = out.count + 1
        out.vocab, out.cap = vocab, cap
        if not out.lowest or loss < out.loss then out.lowest, out.loss = r, loss end
      end
    end
  end
  if out.count == 0 then return nil end
  local r = out.lowest
  -- Where the law comes below ln(vocab): each of A/N^alpha and B/D^beta at half the room above E.
  local room = out.cap - law.E
  local scale
  if room > 0 then
    scale = string.format("plan larger models on more tokens (this law is below ln(vocab) from about %s params on %s tokens)",
      core_format_count((2 * law.A / room) ^ (1 / law.alpha)), core_format_count((2 * law.B / room) ^ (1 / law.beta)))
  else
    scale = "no model size helps: the law's E is itself at or above ln(vocab)"
  end
  local message = string.format("the simulated backend's law (E = %s, A = %s, B = %s, alpha = %s, beta = %s) predicts "
    .. "a loss above ln(vocab) = ln(%d) = %.4f for %d of %d runs (%srun %d, %s params on %s tokens: %.3g)%s; "
    .. "give the backend a law whose values fit this scale (backend = { kind = %q, law = { E =, A =, B =, "
    .. "alpha =, beta =%s } }), or %s",
    g3(law.E), g3(law.A), g3(law.B), g3(law.alpha), g3(law.beta), out.vocab, out.cap, out.count, out.runs,
    -- "even" the lowest of them: of a single run, there is no other ("for 1 of 21 runs (even run 7").
    out.count > 1 and "even " or "", r.ordinal or 0, core_format_count(r.params), core_format_count(r.tokens), out.loss,
    ", and the backend caps those losses there, so they carry no information about N or D", identity.kind,
    is_data_constrained(law) and ", R_D =, R_N =" or "", scale)
  return out, message
end

-- For a simulated backend whose law ignores repetition (no R_D, R_N: Chinchilla's form) and planned
-- runs of which some repeat their unique tokens: a message saying that those runs get the loss of fresh
-- data, and how to simulate repetition; nil otherwise.
function backends.repetition_ignored(identity, runs)
  if type(identity) ~= "table" or not backends.simulates(identity.kind) or type(identity.law) ~= "table"
      or is_data_constrained(identity.law) then
    return nil
  end
  local repeating, first = 0, nil
  for _, r in ipairs(runs) do
    -- (Beyond whole steps' rounding, which puts a one-epoch run a few sequences past its U.)
    if r.unique_tokens and r.tokens > 1.05 * r.unique_tokens then
      repeating = repeating + 1
      first = first or r
    end
  end
  if repeating == 0 then return nil end
  return string.format("%d of %d runs repeat their unique tokens (run %d: %s epochs of %s), but the simulated "
    .. "backend's law has no R_D, R_N (%s): it gives them the loss of fresh data, so repeating costs nothing and "
    .. "runs of one N and D get one loss whatever their U; to simulate repetition give backend.law a "
    .. "data-constrained law (law = fit.published.datablations, or R_D = and R_N = beside E, A, B, alpha, beta)",
    repeating, #runs, first.ordinal or 0, require("scalelab.native.core").format_ratio(first.tokens / first.unique_tokens), core_format_count(first.unique_tokens),
    identity.law == backends.default_law and "the default, Chinchilla's fit" or "Chinchilla's form")
end

backends.encode = json.encode
return backends
