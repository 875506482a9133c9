-- study: a scaling study as a short, versioned script.
--
--   study "isoflop-demo" {
--     data     = data.synthetic{ kind = "markov", vocab = 256, seed = 1, tokens = 2e7 },  -- what runs train on
--     model    = { aspect = 32, vocab = 256, ctx = 64 },        -- how a target N becomes a shape
--     sweep    = sweep.isoflop{ budgets = { 1e12, 3e12, 1e13 } },
--     backend  = "cpu",                 -- default "auto"; or "simulated", { kind = "simulated", law = ... (a table or Law) }
--     fits     = { "isoflop", "chinchilla" },
--     questions = { plan.optimal{ compute = 1e15 } },
--   }
--
-- Running the script trains every run of the sweep that the store does not hold yet (a rerun skips
-- finished runs and resumes interrupted ones from their checkpoints), fits the laws asked for on the
-- stored results, answers the questions, prints the report and writes it as Markdown and JSON beside
-- the store. `scalelab script.lua --dry-run` prints the planned runs and totals and trains nothing;
-- `--jobs N` sets how many runs train at once. A store that cannot be written (a colleague's copy, a
-- read-only mount) but holds every planned run done is read as it is: the fits, answers and report
-- are made from it, and nothing is trained or written to it.
local checks = require "scalelab.study.checks"
local json = require "scalelab.study.json"
local backends = require "scalelab.study.backends"
local executor = require "scalelab.study.executor"
local analysis = require "scalelab.study.analysis"
local sweep_mod = require "scalelab.sweep"
local native = require "scalelab.native.study"
local native_store = require "scalelab.native.store"
local core = require "scalelab.native.core"
local native_data = require "scalelab.native.data"
local doc = core.document

local M = {}

-- ---- The keys of a study ------------------------------------------------------------------------------

local VALID = {
  description = "string",
  data = "any",
  model = { "table", "string", "function" },
  hyper = "table",
  sweep = "sweep",
  backend = { "string", "table", "function" },
  store = "string",
  fits = "table",
  questions = "table",
  jobs = "integer",
  executor = { "string", "table" },
  seed = "integer",
  eval = "table",
  report = { "string", "boolean" },
  checkpoints = "string",
  quiet = "boolean",
  params = "string",
  models = { "table", "string", "function" },
  point_keys = "table",
  repeat_data = "boolean",
  measured_speed = "positive",
}

local MODEL_VALID = { aspect = { "positive", "string" }, shape = { "string", "function" }, vocab = "integer",
                      ctx = "integer", head_dim = "integer" }

local HYPER_VALID = {}
for _, key in ipairs { "lr", "batch", "warmup", "min_lr", "weight_decay", "beta1", "beta2", "clip" } do
  HYPER_VALID[key] = { "number", "function" }
end

-- What each hyperparameter may be (the trainer's own limits, said in the study's words).
local HYPER_RANGE = {
  lr = { function(v) return v > 0 and v < math.huge end, "a positive learning rate" },
  batch = { function(v) return v >= 1 and v == math.floor(v) and v < math.huge end, "a whole number of sequences >= 1" },
  warmup = { function(v) return v >= 0 and v < math.huge end,
             "a fraction of the steps in [0, 1) or a number of steps >= 1" },
  min_lr = { function(v) return v >= 0 and v <= 1 end, "the final learning rate as a fraction of lr, in [0, 1]" },
  weight_decay = { function(v) return v >= 0 and v < math.huge end, ">= 0" },
  beta1 = { function(v) return v >= 0 and v < 1 end, "in [0, 1)" },
  beta2 = { function(v) return v >= 0 and v < 1 end, "in [0, 1)" },
  clip = { function(v) return v >= 0 and v < math.huge end, "a gradient-norm limit >= 0 (0: no clipping)" },
}

-- nil when `value` is a valid `key`, else why not.
local function hyper_problem(key, value)
  if type(value) ~= "number" or value ~= value then
    return "hyper." .. key .. " must be a number (got " .. checks.type_name(value) .. ")"
  end
  local range = HYPER_RANGE[key]
  if range and not range[1](value) then
    return string.format("hyper.%s must be %s (got %s)", key, range[2], tostring(value))
  end
end

-- The keys a sweep point may carry: the run's size and data, its seed, and any hyperparameter.
local POINT_KEYS = { "N", "D", "U", "epochs", "budget", "seed", "tokens_per_param" }
for key in pairs(HYPER_VALID) do POINT_KEYS[#POINT_KEYS + 1] = key end
table.sort(POINT_KEYS)

local EVAL_VALID = { interval = { "integer", "function" }, tokens = { "integer", "function" } }

-- ---- Hyperparameter rules by size (defaults from REFERENCE.md) -------------------------------------

-- Pythia's learning rates by total parameters: 1e-3 for 14M-70M, 6e-4 at 160M, 3e-4 at 410M;
-- interpolated in log-log between, 1e-3 below 70M, extended with the last slope above 410M.
local function pythia_lr(run)
  local N = run.params
  local table_ = { { 70e6, 1e-3 }, { 160e6, 6e-4 }, { 410e6, 3e-4 } }
  if N <= table_[1][1] then return 1e-3 end
  for i = 2, #table_ do
    local a, b = table_[i - 1], table_[i]
    if N <= b[1] or i == #table_ then
      local slope = math.log(b[2] / a[2]) / math.log(b[1] / a[1])
      return a[2] * (N / a[1]) ^ slope
    end
  end
end

M.default_hyper = {
  lr = pythia_lr,
  -- 16 sequences per step, fewer for short runs so that every run takes at least 50 steps.
  batch = function(run)
    return math.max(1, math.min(16, math.floor(run.tokens / (run.shape.ctx * 50))))
  end,
  warmup = 0.01,       -- fraction of the steps (Pythia: 1%)
  min_lr = 0.1,        -- the cosine ends at 0.1·lr, over exactly the run's length (Chinchilla)
  weight_decay = 0.1,  -- AdamW, Pythia
  beta1 = 0.9,
  beta2 = 0.95,
  clip = 1.0,
}

-- Calls `fn`, a function of the run that the study's script gave (a hyperparameter rule, an eval
-- setting), for planned run `run` of sweep point i; its error, which said only "attempt to perform
-- arithmetic on a nil value (field 'NN')" located at the function, is the study's, located at the key
-- (`path`): which function, for which point, and the fields the run has (the nearest to a missing one).
local function call_rule(s, i, what, fn, run, path)
  local ok, value = pcall(fn, run)
  if ok then return value end
  local message = tostring(value)
  local fields = {}
  for k, v in pairs(run) do
    if type(k) == "string" and type(v) ~= "function" then fields[#fields + 1] = k end
  end
  table.sort(fields)
  local missing = message:match("field '([%w_]+)'")
  local near = missing and #missing >= 3 and run[missing] == nil and checks.closest(missing, fields)
  checks.fail(s.where, string.format("study: %s, a function of the run, failed for sweep point %d (%s): %s; it is given "
    .. "the planned run, whose fields are %s%s", what, i, sweep_mod.describe_point(run.point), message,
    table.concat(fields, ", "), near and string.format(" (did you mean run.%s for run.%s?)", near, missing) or ""), path)
end

local function rule_value(s, key, run, i)
  local rule = run.point[key]
  local from_point = rule ~= nil
  if rule == nil then rule = s.hyper[key] end
  if type(rule) == "function" then
    rule = call_rule(s, i, from_point and ("the sweep point's " .. key) or ("hyper." .. key), rule, run,
      from_point and { "sweep" } or { "hyper", key })
  end
  return rule
end

-- ---- Model families ---------------------------------------------------------------------------------

local function gpt_config_check(value)
  return type(value) == "userdata" and getmetatable(value) and getmetatable(value).__name == "GptConfig"
end

-- "; did you mean \"chinchilla\"?" where `name` is near it, else "".
local function chinchilla_hint(name)
  return checks.closest(name, { "chinchilla" }) and "; did you mean \"chinchilla\"?" or ""
end

-- `key`: the study's key that gave `spec`, "model" or "models" (the same key), for its messages.
local function model_family(spec, where, key)
  key = key or "model"
  if spec == nil then spec = {} end
  if type(spec) == "string" then
    if spec ~= "chinchilla" then
      checks.fail(where, string.format("study: %s must be a table, a function of N, or \"chinchilla\" (got \"%s\"%s)",
        key, spec, chinchilla_hint(spec)), { key })
    end
    spec = { shape = "chinchilla" }
  end
  if type(spec) == "function" then
    return function(N, point)
      local shape = spec(N, point)
      if not gpt_config_check(shape) then
        -- N as parameter counts print (10k, 2.5M): tostring wrote a float's 10000.0.
        error("study: the model function must return a model.gpt{...} shape for N = " .. core.format_count(N) ..
          " (got " .. checks.type_name(shape) .. ")", 0)
      end
      return shape
    end, { family = "function" }
  end
  checks.table(spec, MODEL_VALID, "study: " .. key, where, { key })
  if type(spec.shape) == "function" then
    return model_family(spec.shape, where, key)
  end
  local aspect = spec.aspect
  if spec.shape == "chinchilla" or aspect == "chinchilla" then aspect = "chinchilla"
  elseif spec.shape ~= nil then
    checks.fail(where, string.format("study: %s.shape must be \"chinchilla\" or a function of N (got %s%s)", key,
      type(spec.shape) == "string" and ("\"" .. spec.shape .. "\"") or checks.type_name(spec.shape),
      type(spec.shape) == "string" and chinchilla_hint(spec.shape) or ""), { key, "shape" })
  elseif type(aspect) == "string" then
    checks.fail(where, string.format("study: %s.aspect must be a number (d_model / n_layer) or \"chinchilla\" (got "
      .. "\"%s\"%s)", key, aspect, chinchilla_hint(aspect)), { key, "aspect" })
  end
  local options = { aspect = aspect or 64, vocab = spec.vocab, ctx = spec.ctx, head_dim = spec.head_dim }
  local model = require "scalelab.model"
  local function shape(target)
    return model.shape_for { params = target, aspect = options.aspect, vocab = options.vocab, ctx = options.ctx,
                             head_dim = options.head_dim }
  end
  -- model.shape_for targets non-embedding N. When the study counts all parameters (Chinchilla),
  -- aim the non-embedding target at N minus the embeddings of the shape it lands on, again from
  -- each shape landed on, keeping the closest to N.
  return function(N, _, count)
    if count ~= "all" then return shape(N) end
    local best = shape(N)
    local function consider(target)
      if not (target > 0) then return nil end
      -- A target below the smallest shape of the aspect has none: the shapes found stand (this
      -- failed the study, "params = 301 is below the smallest shape", for sizes it builds).
      local ok, built = pcall(shape, target)
      if not ok then return nil end
      if math.abs(math.log(built.params / N)) < math.abs(math.log(best.params / N)) then best = built end
      return built
    end
    local current = best
    for _ = 1, 4 do
      current = consider(N - current.embedding_params)
      if not current then break end
    end
    -- The shape is a step function of the target, so those aims can go back and forth between two
    -- shapes far from N (16.6k at aspect 32, vocab 256, ctx 128: 25.1k, 51% over) past one within
    -- 1% (16.5k): try targets down to 1/64 of N too, 9% apart.
    for i = 1, 48 do consider(N * 64 ^ (-i / 48)) end
    return best
  end, { family = aspect == "chinchilla" and "chinchilla" or "aspect", aspect = options.aspect,
         vocab = options.vocab, ctx = options.ctx, head_dim = options.head_dim }
end

-- ---- Describing the data for a run's identity -----------------------------------------------------------

local function describe_data(value)
  if value == nil then return nil end
  if type(value) == "string" or type(value) == "number" then return value end
  if type(value) == "table" and getmetatable(value) == nil then return json.encode(value) end
  if type(value) == "function" then return "function" end
  -- An object (a corpus, a synthetic source): its printed summary, without addresses.
  return (tostring(value):gsub("0x%x+", ""))
end

-- The data's part of a run's identity: its description and, for a corpus (or a corpus file's path),
-- its contents' checksum instead of where its file lies. A corpus file prepared again from edited
-- text (data.files with out =, a corpus file overwritten) can print the same summary, and its runs
-- are not the old ones; the same tokens prepared into another file (data.files caches by the texts'
-- modification times: a touched text, a copy on another machine) are the same data, and keep their
-- runs, as do the same BPE tokens with a tokenizer file of another name. A corpus name ("gcide")
-- stays itself.
local data_identity
function data_identity(value)
  local text = describe_data(value)
  local corpus = value
  if type(value) == "string" then
    local ok, opened = pcall(require("scalelab.native.data").open, value, { verify = false })
    corpus = ok and opened or nil
  end
  if type(value) == "function" then
    -- A function(run) returning a sampler: the corpora it holds (its upvalues) are its data.
    for i = 1, 255 do
      local name, upvalue = debug.getupvalue(value, i)
      if name == nil then break end
      local ok, checksum = pcall(function() return upvalue.checksum end)
      if ok and type(checksum) == "string" then text = text .. " of " .. name .. " = " .. data_identity(upvalue) end
    end
    return text
  end
  if corpus == nil or type(corpus) == "number" then return text end
  local ok, checksum = pcall(function() return corpus.checksum end)
  if not ok or type(checksum) ~= "string" then return text end
  local ok_path, path = pcall(function() return corpus.path end)
  local where = ok_path and type(path) == "string" and path ~= "" and "; file " .. path
  if where and text:sub(-#where) == where then text = text:sub(1, -#where - 1) end
  -- A BPE tokenizer's file is named after the corpus file it was made beside: its tokens (the
  -- checksum) and vocab are what a run trains on.
  local ok_tokenizer, tokenizer = pcall(function() return corpus.tokenizer_name end)
  if ok_tokenizer and type(tokenizer) == "string" and tokenizer:sub(1, 4) == "bpe:" then
    local named = " (" .. tokenizer .. ")"
    local at = text:find(named, 1, true)
    if at then text = text:sub(1, at - 1) .. " (bpe)" .. text:sub(at + #named) end
  end
  return text .. "; contents " .. checksum
end

-- ---- Planning ---------------------------------------------------------------------------------------------

local function fmt_count(x) return core.format_count(x) end

local function shape_table(shape)
  return { vocab = shape.vocab, ctx = shape.ctx, d_model = shape.d_model, n_layer = shape.n_layer,
           n_head = shape.n_head, d_ff = shape.d_ff }
end

-- The smallest model the study's family of shapes builds for targets from N upwards (a family of its
-- own, a function of N, is not searched): the shape, or nil when none is found below 1e12.
local function smallest_model(s, point)
  if s.family_info.family == "function" then return nil end
  local function build(target)
    local ok, shape = pcall(s.family, target, point, s.count)
    return ok and shape or nil
  end
  local lo, hi = point.N, nil
  while lo < 1e12 do
    hi = lo * 2
    if build(hi) then break end
    lo, hi = hi, nil
  end
  if not hi then return nil end
  for _ = 1, 40 do  -- to a fraction of a percent of the target
    local mid = math.sqrt(lo * hi)
    if build(mid) then hi = mid else lo = mid end
    if hi / lo < 1.002 then break end
  end
  return build(hi)
end

-- The study's message for a sweep point whose model its family cannot build: the family's reason
-- (without the location it gave, the study's call: the message is located once, at the model key),
-- and for a point below the smallest model the family builds, that model and what to change.
local function model_failure(s, i, p, N, message)
  message = tostring(message)
  local own = s.where and (s.where.short_src .. ":" .. s.where.line .. ": ")
  if own and message:sub(1, #own) == own then message = message:sub(#own + 1) end
  -- The model function's own check (model_family) says "study: ...": it read "study: ... study: ...".
  message = message:gsub("^study: ", "")
  local text = string.format("study: model for sweep point %d (N = %s): %s", i, fmt_count(N), message)
  local smallest = smallest_model(s, p)
  if not smallest then return text end
  local N_min = s.count == "all" and smallest.params or smallest.non_embedding_params
  if N_min <= N then return text end
  -- model.shape_for's own account of its smallest shape is the study's below, in the study's terms.
  text = text:gsub("( is below the smallest shape of aspect [^:]*): .*", "%1")
  local how = string.format("the smallest model the study's models build is N = %s (%d×%d, %d head%s; vocab %d, ctx %d)",
    fmt_count(N_min), smallest.n_layer, smallest.d_model, smallest.n_head, smallest.n_head == 1 and "" or "s",
    smallest.vocab, smallest.ctx)
  local raise
  if type(p.budget) == "number" then
    -- At the point's own tokens per parameter, D = budget / 6N gives N = sqrt(budget / 6r).
    raise = string.format("raise the budget (this point's %s FLOP would need about %s for N = %s at its %s tokens per "
      .. "parameter)", core.format_flops(p.budget), core.format_flops(p.budget * (N_min / N) ^ 2), fmt_count(N_min),
      core.format_number(p.budget / (6 * N * N), 3))
  else
    raise = "raise the sweep's sizes"
  end
  local embedding = s.count == "all" and string.format(", or lower vocab or ctx (models = { vocab = ..., ctx = ... }: "
    .. "their embeddings are %s of its %s parameters)", fmt_count(smallest.params - smallest.non_embedding_params),
    fmt_count(smallest.params)) or ""
  local aspect = s.family_info.family == "aspect" and string.format(", or a smaller aspect (d_model / n_layer, %s now)",
    core.format_number(s.family_info.aspect, 3)) or ""
  return string.format("%s; %s: %s%s%s", text, how, raise, embedding, aspect)
end

-- IsoFLOP runs of one budget whose models are nearly the same size. Tiny models come in coarse
-- shape steps, so two sizes of a budget could land on shapes a few percent apart (16.9k and 17.6k
-- parameters where 13.6k and 20.4k were asked at 1e10 FLOP): only an exact duplicate was merged,
-- and both trained, a run wasted on a point that gives the budget's parabola no spread. Nearly the
-- same: built sizes closer in log than NEAR_FRACTION of the asked sizes' spacing, among runs that
-- differ in nothing else than N (and so D). Of such a pair, a run the study's store holds done, or
-- stopped with a checkpoint to resume from, is kept over one it does not (`progress(run)`: 2 for
-- done, 1 for resumable, 0 else): keeping the other left a finished run out of the fits, said to be
-- "planned by an earlier version" (a sweep given a size near one trained before). Else the run whose
-- model is nearer its asked N is kept (the first on a tie). Returns the runs kept (renumbered) and the
-- merges, each { kept =, dropped =, because = "done" or "resumable" where progress decided }, for
-- the dry run's note.
local NEAR_FRACTION = 0.25
local function merge_near_sizes(runs, progress)
  local groups, order = {}, {}
  for _, r in ipairs(runs) do
    if type(r.budget) == "number" and type(r.point.N) == "number" and r.point.N > 0 then
      local keys = {}
      for k in pairs(r.point) do
        if k ~= "N" and k ~= "D" then keys[#keys + 1] = tostring(k) end
      end
      table.sort(keys)
      local parts = { "seed=" .. tostring(r.seed) }
      for _, k in ipairs(keys) do
        local v = r.point[k]
        parts[#parts + 1] = k .. "=" .. (type(v) == "number" and string.format("%.17g", v) or tostring(v))
      end
      local key = table.concat(parts, " ")
      if not groups[key] then
        groups[key] = {}
        order[#order + 1] = key
      end
      table.insert(groups[key], r)
    end
  end
  local dropped, merges = {}, {}
  local function off(r) return math.abs(math.log(r.N_fit / r.point.N)) end
  for _, key in ipairs(order) do
    local group = groups[key]
    table.sort(group, function(a, b)
      if a.point.N ~= b.point.N then return a.point.N < b.point.N end
      return a.ordinal < b.ordinal
    end)
    local last = group[1]
    for i = 2, #group do
      local r = group[i]
      local asked = math.abs(math.log(r.point.N / last.point.N))
      local built = math.abs(math.log(r.N_fit / last.N_fit))
      if asked > 0 and built < NEAR_FRACTION * asked then
        local keep, drop = last, r
        local p_last, p_r = progress and progress(last) or 0, progress and progress(r) or 0
        if p_r ~= p_last then
          if p_r > p_last then keep, drop = r, last end
        elseif off(r) < off(last) or (off(r) == off(last) and r.ordinal < last.ordinal) then
          keep, drop = r, last
        end
        dropped[drop] = true
        local because = math.max(p_r, p_last) > math.min(p_r, p_last)
          and (math.max(p_r, p_last) == 2 and "done" or "resumable") or nil
        merges[#merges + 1] = { kept = keep, dropped = drop, because = because }
        last = keep
      else
        last = r
      end
    end
  end
  if #merges == 0 then return runs, merges end
  local kept = {}
  for _, r in ipairs(runs) do
    if not dropped[r] then
      kept[#kept + 1] = r
      r.ordinal = #kept
    end
  end
  table.sort(merges, function(a, b) return a.kept.ordinal < b.kept.ordinal end)
  return kept, merges
end

-- The dry run's note on the runs merge_near_sizes merged, or nil.
local function near_sizes_note(merges)
  if not merges or #merges == 0 then return nil end
  local parts = {}
  for _, m in ipairs(merges) do
    local a, b = m.kept, m.dropped
    local lo, hi = a, b
    if b.point.N < a.point.N then lo, hi = b, a end
    parts[#parts + 1] = string.format("at C = %s, the sizes N = %s and %s asked built nearly the same model (N = %s "
      .. "and %s, %s%% apart): the run of N = %s is planned, not both%s", core.format_flops(a.budget),
      fmt_count(lo.point.N), fmt_count(hi.point.N), fmt_count(lo.N_fit), fmt_count(hi.N_fit),
      core.format_number(100 * math.abs(hi.N_fit / lo.N_fit - 1), 2), fmt_count(a.N_fit),
      m.because == "done" and " (the store holds it done)"
        or m.because == "resumable" and " (it resumes from its checkpoint)" or "")
  end
  return string.format("%s. Tiny models come in coarse shape steps, and two runs of about one size at one budget "
    .. "would spend compute without spreading its parabola; for more sizes there, give sizes further apart "
    .. "(sweep.isoflop's sizes, or points and ratio) or other models (the models' aspect or ctx, or your "
    .. "own model = function(N))", table.concat(parts, "; "))
end

-- What the study's store holds of a planned run, for merge_near_sizes: 2 where it is done, 1 where it
-- was stopped with a checkpoint that resumes past its start, 0 else (or without a store to read).
-- The store is read, read-only, at the first call: a plan with no near sizes opens nothing.
local function stored_progress(s)
  local records
  local function load()
    records = {}
    local file = type(s.store_path) == "string" and io.open(s.store_path, "rb")
    if not file then return end
    file:close()
    local ok, store = pcall(native_store.open, s.store_path, { read_only = true })
    if not ok then return end
    local read, list = pcall(executor.stored_runs, store, s.name)
    if read then
      for _, r in ipairs(list) do records[r.hash] = r end
    end
    pcall(store.close, store)
  end
  return function(run)
    if not records then load() end
    local record = records[run.hash]
    -- A run an earlier scalelab stored under its legacy hash (executor.adopt_legacy) is this run.
    if (record == nil or record.status == "planned") and run.legacy_hash and records[run.legacy_hash] then
      local device = backends.trains(s.backend_kind) and s.backend_identity.kind
      if device and backends.legacy_matches(records[run.legacy_hash], device) then record = records[run.legacy_hash] end
    end
    if record and record.status == "done" then return 2 end
    if s.checkpoint_dir then
      local ok, resume = pcall(executor.resume_point, s, run, record)
      if ok and resume and type(resume.tokens) == "number" and resume.tokens > 0 then return 1 end
    end
    return 0
  end
end

-- A run of a study (s.runs[i]): a plain table of its plan and result, which prints as one line
-- (its number, label, status and loss) where it is one of a list, so that s.runs in the REPL shows
-- a line a run rather than every run's every field (a page each); shown alone (s.runs[3]), or
-- with pretty(run), it shows its fields (pretty's __show_fields). Scripts index it as before.
local Run = { __name = "Run", __show_fields = true }
function Run.__tostring(r)
  local status = rawget(r, "status") or "planned"
  local loss = rawget(r, "loss")
  return string.format("run %s (%s): %s%s", tostring(rawget(r, "ordinal") or "?"), tostring(rawget(r, "label") or "?"),
    status, type(loss) == "number" and string.format(", loss %.4f", loss) or "")
end
core.document(Run, "A study's run (s.runs[i]): its plan and result, as fields: ordinal, label, N (asked), N_fit (as the "
  .. "study's fits count it), params, non_embedding_params, tokens, unique_tokens, epochs, budget, flops, shape, lr, batch "
  .. "and the other hyperparameters, hash (its identity), status (\"done\", \"diverged\", \"failed\", \"interrupted\", "
  .. "\"running\"; nil while planned), loss, metrics, checkpoint. In a list (s.runs) it prints as one line; alone "
  .. "(s.runs[i]) with its fields.")

-- Turns the sweep into runs: shape, tokens, hyperparameters, identity.
local function plan_runs(s)
  local runs, by_hash, duplicates = {}, {}, 0
  local valid_keys = {}
  for _, key in ipairs(POINT_KEYS) do valid_keys[key] = true end
  for _, key in ipairs(s.point_keys or {}) do valid_keys[key] = true end
  for i, p in ipairs(s.sweep.points) do
    for key in pairs(p) do
      if not valid_keys[key] then
        local names = {}
        for name in pairs(valid_keys) do names[#names + 1] = name end
        table.sort(names)
        local suggestion = type(key) == "string" and checks.closest(key, names)
        checks.fail(s.where, string.format("study: sweep point %d (%s) has the key '%s', which no part of a run reads%s "
          .. "(valid: %s); a value of your own that your model or hyper functions read goes in point_keys = { \"%s\" }",
          i, sweep_mod.describe_point(p), tostring(key), suggestion and ("; did you mean '" .. suggestion .. "'?") or "",
          table.concat(names, ", "), tostring(key)), { "sweep" })
      end
    end
    local N = p.N
    if type(N) ~= "number" or not (N > 0) then
      checks.fail(s.where, string.format("study: sweep point %d has no positive N (target parameters): %s", i,
        sweep_mod.describe_point(p)), { "sweep" })
    end
    local ok, shape = pcall(s.family, N, p, s.count)
    if not ok then checks.fail(s.where, model_failure(s, i, p, N, shape), { s.spec.models ~= nil and "models" or "model" }) end
    local model_vocab = s.data_vocab and select(2, pcall(function() return shape.vocab end))
    if math.type(model_vocab) == "integer" and model_vocab < s.data_vocab then
      checks.fail(s.where, string.format("study: the data's vocabulary (%d tokens) is larger than the model's (%d) for "
        .. "sweep point %d (N = %s): give the models vocab = %d (models = { vocab = %d, ... }, or in your model "
        .. "function)", s.data_vocab, model_vocab, i, fmt_count(N), s.data_vocab, s.data_vocab), { "model" })
    end
    local run = {
      ordinal = #runs + 1, point = p, shape = shape, N = N,
      params = shape.params, non_embedding_params = shape.non_embedding_params,
      seed = p.seed or s.seed, budget = p.budget,
    }
    -- N in the study's convention: all parameters (Chinchilla) or non-embedding (Kaplan).
    run.N_fit = s.count == "all" and run.params or run.non_embedding_params
    -- A point with a budget trains on D = budget / 6N (its model's N): a D of its own that says
    -- otherwise would be ignored. (sweep.isoflop's points carry D = budget / 6N of their target N.)
    if type(p.budget) == "number" and type(p.D) == "number" and type(p.N) == "number"
        and math.abs(6.0 * p.N * p.D / p.budget - 1) > 0.01 then
      checks.fail(s.where, string.format("study: sweep point %d (%s) gives budget = %s and D = %s, but a budget's runs "
        .. "train on D = budget / 6N (%s here): give the budget or D, not both", i, sweep_mod.describe_point(p),
        core.format_flops(p.budget), fmt_count(p.D), fmt_count(p.budget / (6 * p.N))), { "sweep" })
    end
    -- Likewise a point with tokens_per_param (sweep.grid's) trains on D = ratio·N of its model.
    local ratio = p.tokens_per_param
    if ratio ~= nil and (type(ratio) ~= "number" or not (ratio > 0) or ratio == math.huge) then
      checks.fail(s.where, string.format("study: sweep point %d (%s): tokens_per_param must be a positive number",
        i, sweep_mod.describe_point(p)), { "sweep" })
    end
    if ratio and p.budget ~= nil then
      checks.fail(s.where, string.format("study: sweep point %d (%s) gives a budget and tokens_per_param: a budget's "
        .. "runs train on D = budget / 6N, a ratio's on D = tokens_per_param·N; give one of the two", i,
        sweep_mod.describe_point(p)), { "sweep" })
    end
    if ratio and type(p.D) == "number" and type(p.N) == "number" and math.abs(p.D / (ratio * (p.N + 0.0)) - 1) > 0.01 then
      checks.fail(s.where, string.format("study: sweep point %d (%s) gives tokens_per_param = %s and D = %s, but its "
        .. "runs train on D = tokens_per_param·N (%s here): give one of the two", i, sweep_mod.describe_point(p),
        tostring(ratio), fmt_count(p.D), fmt_count(ratio * (p.N + 0.0))), { "sweep" })
    end
    -- (In doubles: whole numbers near 2^63 would wrap.)
    local D = p.budget and p.budget / (6.0 * run.N_fit) or (ratio and ratio * (run.N_fit + 0.0)) or p.D
    if type(D) ~= "number" or not (D > 0) then
      checks.fail(s.where, string.format("study: sweep point %d has no positive D (training tokens): %s", i,
        sweep_mod.describe_point(p)), { "sweep" })
    end
    -- A run counts its tokens in whole numbers, which the store keeps as doubles: exact below 2^53.
    for _, count in ipairs { { "D", D }, { "U", p.U } } do
      local key, value = count[1], count[2]
      if type(value) == "number" and value >= 2 ^ 53 then
        checks.fail(s.where, string.format("study: sweep point %d (%s) has %s = %s tokens, more than a run can count "
          .. "exactly: token counts must be below 2^53 = 9007199254740992 (the store keeps numbers as doubles); lower "
          .. "the sweep's %s", i, sweep_mod.describe_point(p), key, string.format("%.0f", value),
          key == "U" and "unique tokens" or "token counts, budgets or tokens_per_param"), { "sweep" })
      end
    end
    run.tokens = D
    run.unique_tokens = p.U
    -- Without U a run sees each of its tokens once: a point's epochs other than 1 would be ignored.
    if type(p.epochs) == "number" and p.U == nil and math.abs(p.epochs - 1) > 0.01 then
      checks.fail(s.where, string.format("study: sweep point %d (%s) gives epochs = %s but no U (unique tokens): it "
        .. "would see each of its D = %s tokens once; give U = D / epochs = %s (sweep.data_constrained does), or leave "
        .. "epochs out", i, sweep_mod.describe_point(p), core.format_ratio(p.epochs), fmt_count(D), fmt_count(D / p.epochs)),
        { "sweep" })
    end
    local batch = rule_value(s, "batch", run, i)
    local problem = hyper_problem("batch", batch)
    if problem then
      checks.fail(s.where, string.format("study: %s, for sweep point %d (%s)", problem, i, sweep_mod.describe_point(p)), { "hyper", "batch" })
    end
    run.batch = math.tointeger(batch)
    local per_step = run.batch * shape.ctx
    -- Whole steps: the nearest number for a run of fresh data; for a run that repeats U unique
    -- tokens, rounded down, so that it never sees them more often than asked (59 steps for D = U =
    -- 58.5 steps of tokens trained 1.0085 epochs of a point asked for 1).
    local rounding = type(p.U) == "number" and 0 or 0.5
    run.steps = math.max(1, math.floor(D / per_step + rounding))
    run.tokens = run.steps * per_step
    run.planned_tokens = D
    if s.corpus_tokens then
      -- What the corpus holds decides what the run sees: U unique tokens must fit in its training
      -- split; without U, a run wants fresh tokens, and more than the split holds means repeating it.
      local held = s.corpus_tokens
      if run.unique_tokens and run.unique_tokens > held then
        checks.fail(s.where, string.format("study: sweep point %d (%s) asks for U = %s unique tokens, but the data holds "
          .. "%s training tokens (%s); lower U, or give the study a larger corpus", i, sweep_mod.describe_point(p),
          fmt_count(run.unique_tokens), fmt_count(held), s.corpus_description), { "sweep" })
      end
      -- Fresh tokens the split cannot hold without repeating a sequence (every sequence also needs the
      -- token after it): as many whole sequences as the run has rows (the sampler's rule).
      local T = shape.ctx
      local fresh_fits = run.tokens <= held and
        native_data.unique_windows(run.tokens, held, run.tokens, T, run.batch) * T >= run.tokens
      if not run.unique_tokens and not fresh_fits then
        if not s.repeat_data then
          local how_often = run.tokens > held and "so it would see them " .. core.format_ratio(run.tokens / held) .. " times"
            or string.format("whose sequences of ctx = %d targets (each also needing the token after it) number fewer "
              .. "than the run's rows, so one would be seen twice", T)
          checks.fail(s.where, string.format("study: sweep point %d (%s) trains on D = %s tokens, but the data holds "
            .. "only %s training tokens (%s), %s; give the study repeat_data = true to repeat them, give the sweep U "
            .. "(unique tokens: sweep.data_constrained), lower the budgets or sizes, or use a larger corpus", i,
            sweep_mod.describe_point(p), fmt_count(run.tokens), fmt_count(held), s.corpus_description, how_often),
            { "sweep" })
        end
        run.unique_tokens = held
        run.repeats_corpus = true
      end
      if run.unique_tokens then
        -- The sampler cuts U (whole tokens, at most the split less one) into floor(U / ctx) sequences
        -- of ctx targets, at most as many as the run's rows: those are the unique tokens the run sees
        -- once an epoch, and what its epochs, label and fits count. The asked U stays the run's
        -- identity (its config), which the sampler reads.
        local asked = run.unique_tokens
        local seen = native_data.unique_windows(math.max(1, math.floor(asked + 0.5)), held, run.tokens, T, run.batch) * T
        if seen < T then
          checks.fail(s.where, string.format("study: sweep point %d (%s): U = %s unique tokens hold no whole sequence "
            .. "of ctx = %d targets (and the one token after them); raise U or lower ctx", i, sweep_mod.describe_point(p),
            fmt_count(asked), T), { "sweep" })
        end
        -- The epochs asked are of the U asked; the sampler repeats the whole sequences it cut U
        -- into (seen <= U): the run's tokens are those epochs of them, in whole steps rounded down
        -- (D = 4000 on U = 1000, 960 of them in sequences of 64, is 3840 tokens, 4 epochs: not
        -- 4096, 4.27 epochs). A run of fewer rows than U's sequences sees each of its tokens once.
        -- Epochs of U's whole sequences, not of those the run's rows reach: a run of fewer rows than
        -- U's sequences (epochs below 1) reaches only some, and scaling by those cut it again (U = 4096
        -- at 0.5 epochs, ctx 64: 1024 tokens trained for the 2048 planned).
        local whole = math.min(math.max(1, math.floor(asked + 0.5)), held - 1) // T * T
        if type(p.U) == "number" and whole < asked then
          local steps = math.max(1, math.floor(run.planned_tokens / asked * whole / per_step))
          if steps < run.steps then
            run.steps, run.tokens = steps, steps * per_step
            seen = native_data.unique_windows(math.max(1, math.floor(asked + 0.5)), held, run.tokens, T, run.batch) * T
          end
        end
        run.unique_tokens_asked = asked
        run.unique_tokens = seen
      end
    elseif type(run.unique_tokens) == "number" and run.unique_tokens > run.tokens then
      -- Without a corpus (a simulated run) the same holds: a run of fewer tokens than U sees those
      -- tokens, each once, as the sampler's fresh data; its label, epochs, simulated loss and fits
      -- count them, not U (sweep.data_constrained{ epochs = { 0.5 } } on U = 4M was "U=4M (0.5 ep)",
      -- and the law's R_D = D/U − 1 < 0). The asked U stays the run's identity.
      run.unique_tokens_asked = run.unique_tokens
      run.unique_tokens = run.tokens
    end
    if run.unique_tokens then
      run.epochs = run.tokens / run.unique_tokens
      -- A point's own epochs must agree with its D and U (whole steps move them a little).
      -- (The planned D, before whole steps round it: a run of a few steps moves the ratio more.)
      local planned = type(p.U) == "number" and run.planned_tokens / p.U
      if type(p.epochs) == "number" and planned and math.abs(planned / p.epochs - 1) > 0.01 then
        checks.fail(s.where, string.format("study: sweep point %d (%s) gives epochs = %s, but its D and U make %s "
          .. "(D / U); give D = epochs × U, or leave epochs out", i, sweep_mod.describe_point(p), core.format_ratio(p.epochs),
          core.format_ratio(planned)), { "sweep" })
      end
    end
    run.flops = 6.0 * run.N_fit * run.tokens  -- a float: as an integer product it would overflow past 9.2e18
    run.flops_kaplan = shape.flops_per_token * run.tokens
    -- What the trainer computes, output logits included: what its time goes with (the dry run's estimate).
    run.hardware_flops = shape.hardware_flops_per_token * run.tokens
    for _, key in ipairs { "lr", "warmup", "min_lr", "weight_decay", "beta1", "beta2", "clip" } do
      local v = rule_value(s, key, run, i)
      local why = hyper_problem(key, v)
      if why then
        checks.fail(s.where, string.format("study: %s, for sweep point %d (%s)", why, i, sweep_mod.describe_point(p)),
          p[key] ~= nil and { "sweep" } or { "hyper", key })
      end
      run[key] = v
    end
    if run.warmup >= 1 and run.warmup >= run.steps then
      checks.fail(s.where, string.format("study: hyper.warmup = %s steps is not shorter than run %d's %d steps; give a "
        .. "fraction of the steps (0.01) instead", tostring(run.warmup), i, run.steps), { "hyper", "warmup" })
    end
    run.warmup_steps = run.warmup < 1 and math.floor(run.warmup * run.steps + 0.5) or math.floor(run.warmup)
    run.min_lr_ratio = run.min_lr
    for _, key in ipairs { "interval", "tokens" } do
      local v = s.eval[key]
      if type(v) == "function" then v = call_rule(s, i, "eval." .. key, v, run, { "eval", key }) end
      run["eval_" .. key] = v
    end
    for key, meaning in pairs { interval = "training tokens between evaluations, as train.run's eval_interval (a step "
                                  .. "is batch × ctx tokens); 0 for the trainer's default, about 20 a run",
                                tokens = "held-out tokens per evaluation; 0 for the trainer's default" } do
      local v = run["eval_" .. key]
      if v ~= nil and not checks.is(v, "count") then
        checks.fail(s.where, string.format("study: eval.%s must be %s (%s), for sweep point %d (got %s)",
          key, checks.count_range, meaning, i, tostring(v)), { "eval", key })
      end
      -- 0 is the trainer's default, as leaving it out is: the same runs, with the same identity (a 0
      -- written in made every stored run new, to be trained again).
      if v == 0 then run["eval_" .. key] = nil end
    end
    if run.seed ~= nil and not checks.is(run.seed, "count") then
      checks.fail(s.where, string.format("study: the seed of sweep point %d must be %s (got %s)", i,
        checks.count_range, tostring(run.seed)), p.seed ~= nil and { "sweep" } or { "seed" })
    end
    -- The identity of the run: everything that changes its result, nothing else.
    local extra = {}
    for k, v in pairs(p) do
      if k ~= "N" and k ~= "D" and k ~= "U" and k ~= "epochs" and k ~= "seed" and k ~= "budget" and k ~= "tokens_per_param"
          and (type(v) == "number" or type(v) == "string" or type(v) == "boolean") then
        -- The store keeps a point's numbers as doubles: a larger integer would be stored as another.
        if math.type(v) == "integer" and (v >= 2 ^ 53 or v <= -2 ^ 53) then
          checks.fail(s.where, string.format("study: sweep point %d has %s = %d, which the store cannot hold exactly: a "
            .. "whole number in a sweep point must be from -(2^53 - 1) to 2^53 - 1 = 9007199254740991 (the store keeps "
            .. "numbers as doubles); give it as a string (%s = \"%d\") if your functions only need it to tell runs apart",
            i, tostring(k), v, tostring(k), v), { "sweep" })
        end
        extra[k] = v
      end
    end
    -- A hyperparameter the point gives is in the identity already, as the value the run trains with
    -- (lr = run.lr, ...): a copy of it there too made the same run another one, so that moving lr
    -- from hyper = into the sweep (to add a second rate) trained again the runs of the first. It is
    -- still in the run's label.
    local shown = {}
    for k, v in pairs(extra) do shown[#shown + 1] = k .. "=" .. tostring(v) end
    table.sort(shown)
    for key in pairs(HYPER_VALID) do extra[key] = nil end
    local config = {
      model = shape_table(shape), tokens = run.tokens, unique_tokens = run.unique_tokens_asked or run.unique_tokens, seed = run.seed,
      batch = run.batch, lr = run.lr, warmup_steps = run.warmup_steps, min_lr_ratio = run.min_lr,
      weight_decay = run.weight_decay, beta1 = run.beta1, beta2 = run.beta2, clip = run.clip,
      eval_interval = run.eval_interval, eval_tokens = run.eval_tokens,
      data = s.data_identity, backend = s.backend_identity, point = next(extra) and extra or nil,
      budget = run.budget,
    }
    run.config = config
    run.config_json = json.encode(config)
    run.hash = native_store.sha256(run.config_json)
    -- The hash an earlier scalelab gave the run on backend "auto" (the name, not the device): a
    -- store's run under it is this run where its device trained it (executor.adopt_legacy).
    if s.backend_legacy_identity then
      config.backend = s.backend_legacy_identity
      run.legacy_hash = native_store.sha256(json.encode(config))
      config.backend = s.backend_identity
      if run.legacy_hash == run.hash then run.legacy_hash = nil end
    end
    run.label = string.format("N=%s D=%s", fmt_count(run.N_fit), fmt_count(run.tokens))
    if run.budget then run.label = run.label .. " C=" .. core.format_flops(run.budget) end
    if run.unique_tokens then run.label = run.label .. string.format(" U=%s (%s ep)", fmt_count(run.unique_tokens), core.format_ratio(run.epochs)) end
    if p.seed then run.label = run.label .. " seed=" .. tostring(p.seed) end
    if #shown > 0 then run.label = run.label .. " " .. table.concat(shown, " ") end
    if by_hash[run.hash] then
      duplicates = duplicates + 1
    else
      by_hash[run.hash] = run
      runs[#runs + 1] = run
    end
  end
  local merges
  runs, merges = merge_near_sizes(runs, stored_progress(s))
  for _, run in ipairs(runs) do setmetatable(run, Run) end
  return runs, duplicates, merges
end

-- ---- Arguments of the script ------------------------------------------------------------------------------

M.usage = "usage: scalelab SCRIPT.lua [--dry-run | -n] [--jobs N | -j N] [--quiet | -q] [--help | -h] [-- ARGS for the script itself]"
M.options_help = [[
  --dry-run, -n    print the planned runs (shape, tokens, epochs, lr, FLOPs, estimated time); train nothing
  --jobs N, -j N   train N runs at once (default: one per core; simulated runs one at a time)
  --quiet, -q      no progress lines and no printed report (the report files are still written; errors print)
  --help, -h       this help
  -- ARGS          the script's own arguments: arg[i] after the "--"
Finished runs in the store are kept and not trained again; interrupted ones resume from their checkpoints.
Exit status 3: the script ran to its end, but a study left a question unanswered or a fit named in its
fits not fitted (too few runs, a fit that failed); its runs and reports are written, and the last lines
on stderr say which and why.
]]

-- Bad script options end the program with status 2 and the usage line, before anything trains: a
-- typo (--dryrun) must never start the full study.
-- The usage line of the script being run, where it gave its help to study.script_arguments (its own
-- arguments after --): a bad option showed the generic study usage, which names none of them.
local script_usage
local function usage_error(message)
  io.stderr:write("scalelab: ", message, "\n", script_usage or M.usage, "\n")
  io.stderr:flush()
  os.exit(2)
end

local function parse_jobs(text, option)
  local n = tonumber(text)
  if text == nil then usage_error(option .. " needs a number of runs to train at once") end
  if not n or n ~= math.floor(n) or n < 1 or n == math.huge then
    usage_error(string.format("%s needs a whole number of runs >= 1 (got '%s')", option, tostring(text)))
  end
  return math.tointeger(n)
end

-- The command line that gives a[i] and what follows as the script's own arguments, after "--": for
-- "scalelab approaches.lua 0.02", "scalelab approaches.lua -- 0.02". Shell-quoted where a word needs it.
local function shell_word(w)
  if w:match("^[%w%._/,:=+%-]+$") then return w end
  return "'" .. w:gsub("'", "'\\''") .. "'"
end
local function command_with_own_arguments(a, i)
  local words = { "scalelab", shell_word(a[0]) }
  for k = 1, i - 1 do words[#words + 1] = shell_word(a[k]) end
  words[#words + 1] = "--"
  for k = i, #a do
    if a[k] ~= "--" then words[#words + 1] = shell_word(tostring(a[k])) end
  end
  return table.concat(words, " ")
end

-- The script's options: --dry-run (-n), --jobs N (-j N, --jobs=N), --quiet. Arguments after "--"
-- belong to the script itself and are left alone.
function M.script_options(a)
  local options = { dry_run = false }
  if type(a) ~= "table" then return options end
  local known = { "--dry-run", "--jobs", "--quiet", "--help" }
  local i = 1
  while a[i] do
    local v = a[i]
    -- study.script_options({ 1, 2, 3 }) failed with "study.lua:...: attempt to index a number value".
    if type(v) ~= "string" then
      checks.error_at_user(string.format("study.script_options(arg): arg must be the script's arguments, a list of "
        .. "strings such as the global arg (its item %d is %s)", i, checks.type_name(v)))
    end
    if v == "--" then break
    elseif v == "--dry-run" or v == "-n" then options.dry_run = true
    elseif v == "--jobs" or v == "-j" then
      options.jobs = parse_jobs(a[i + 1], v)
      i = i + 1
    elseif v:match("^%-%-jobs=") then options.jobs = parse_jobs(v:match("=(.*)"), "--jobs")
    elseif v:match("^%-j%d") then options.jobs = parse_jobs(v:sub(3), "-j")
    elseif v == "--quiet" or v == "-q" then options.quiet = true
    elseif v == "--help" or v == "-h" then
      io.stdout:write(M.usage, "\n", M.options_help)
      io.stdout:flush()
      os.exit(0)
    else
      local suggestion = v:sub(1, 1) == "-" and checks.closest(v:match("^[^=]*"), known)
      usage_error(string.format("unknown option '%s'%s", v,
        suggestion and ("; did you mean '" .. suggestion .. "'?") or
        (v:sub(1, 1) ~= "-" and " (a study script takes options only; put the script's own arguments after --"
          .. (type(a[0]) == "string" and ": " .. command_with_own_arguments(a, i) or "") .. ")" or "")))
    end
    i = i + 1
  end
  return options
end

-- The script's own arguments: those after "--" (a list), for a study script that takes some. With
-- `help`, a --help (-h) among the study's options before "--" prints it and exits 0, in place of the
-- study's own help, so that the script can say what its arguments are. Without a script (the REPL,
-- -e) there are none.
function M.script_arguments(help, a)
  a = a or rawget(_G, "arg")
  local own = {}
  if type(a) ~= "table" or a[-1] == nil then return own end
  if help ~= nil then script_usage = tostring(help):match("usage:[^\n]*") or script_usage end
  local i = 1
  while a[i] ~= nil do
    local v = a[i]
    if v == "--" then
      table.move(a, i + 1, #a, 1, own)
      break
    end
    if help ~= nil and (v == "--help" or v == "-h") then
      io.stdout:write(tostring(help), tostring(help):sub(-1) == "\n" and "" or "\n")
      io.stdout:flush()
      os.exit(0)
    end
    if v == "--jobs" or v == "-j" then i = i + 1 end  -- its value, whatever it reads
    i = i + 1
  end
  return own
end

-- The options of the script being run. Without a script (the REPL, -e), arg holds the program's own
-- options from arg[1] on and nothing before arg[0] (lua.c's convention): none are the study's.
local function script_options()
  local a = rawget(_G, "arg")
  if type(a) ~= "table" or a[-1] == nil then return M.script_options(nil) end
  return M.script_options(a)
end

local function read_script(where)
  if where and where.source:sub(1, 1) == "@" then
    local path = where.source:sub(2)
    -- The script the program runs, as the host loaded it (a worker's: from its study's copy): its file
    -- may have been edited since, before the script reached its study.
    local loaded = debug.getregistry()["scalelab.script"]
    if type(loaded) == "table" and loaded.path == path and type(loaded.text) == "string" then
      return path, loaded.text
    end
    -- A study's worker ran the script from the copy of its text that the study started with (the
    -- host loads it under the script's name, where it can read it): that text, not the file, which
    -- may have been edited since.
    local script, copy = (os.getenv("SCALELAB_STUDY_WORKER") and os.getenv("SCALELAB_STUDY_SCRIPT") or "")
      :match("^(.-)\n(.+)$")
    local a = rawget(_G, "arg")
    local file = script == path and type(a) == "table" and a[0] == path and io.open(copy, "rb") or io.open(path, "rb")
    if file then
      local text = file:read("a")
      file:close()
      return path, text
    end
  end
  return nil, nil
end

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

local function strip_db(path)
  return (path:gsub("%.db$", ""):gsub("%.sqlite3?$", ""))
end

-- ---- The Study object ----------------------------------------------------------------------------------------

local Study = { __name = "Study" }
Study.__index = Study
-- A mistyped method (s:reprot()) is an error that names the one meant.
require("scalelab.missing").note_misses(Study, "a Study", "class")

function Study:__tostring()
  local done = 0
  for _, r in ipairs(self.runs) do done = done + (r.status == "done" and 1 or 0) end
  return string.format("Study(%s: %s, %d done; store %s)", self.name, core.format_counted(#self.runs, "run"), done,
    self.store_path)
end

-- A method called with a dot (s.observations()) failed inside the library with "attempt to index a nil
-- value (local 'self')": said, naming the method and the colon.
local function check_self(self, method)
  if getmetatable(self) ~= Study then
    checks.error_at_user(string.format("s:%s(): call it with a colon, s:%s(), on a Study (got %s)", method, method,
      checks.type_name(self)))
  end
end

-- A count as a float (nil stays nil): exact below 2^53, and 6 * N * D of a large run is its compute,
-- where integer counts would wrap past 2^63 (N = 2e9, D = 6e10) in a script's own arithmetic.
local function as_float(count) return count and count + 0.0 end

-- The finished runs as observations: a list of { N, params, D, U, C, loss, budget, epochs, seed },
-- the counts as floats, as every fit takes them; N_counts says what N counts (the study's params =),
-- which a law fitted to them carries (fit.chinchilla(s:observations()).N_counts).
function Study:observations()
  check_self(self, "observations")
  local out = {}
  for _, r in ipairs(self.runs) do
    if r.status == "done" and r.loss then
      out[#out + 1] = { N = as_float(r.N_fit), N_counts = self.count, params = as_float(r.params),
                        non_embedding_params = as_float(r.non_embedding_params), D = as_float(r.tokens),
                        U = as_float(r.unique_tokens),
                        C = r.flops, loss = r.loss, budget = r.budget, epochs = r.epochs, seed = r.seed,
                        hash = r.hash }
    end
  end
  return out
end

-- The finished runs as observations, each with its stored loss curve (.curve: { {step =, tokens =,
-- train_loss =, eval_loss =, ...}, ... }, empty where the store has none): what fit.approach1 and
-- the plots of training curves read, with N counted as the study's fits count it.
function Study:curves()
  check_self(self, "curves")
  local runs, failure = analysis.with_curves(self, self:observations())
  if failure then checks.error_at_user("s:curves: the store could not give a run's loss curve: " .. failure) end
  return runs
end

function Study:report()
  check_self(self, "report")
  if self.report_text then print(self.report_text) end
  return self.report_text
end

core.document(Study, "A study, as study \"name\" { ... } returns it once its runs are done: name, runs (each run's " ..
  "plan and result: N_fit, params, tokens, flops, loss, status, ...), failed (how many runs failed or did not finish), fits " ..
  "(the fitted laws by name: s.fits.chinchilla, ...), fit_errors (why each fit that failed was not fitted, by name: " ..
  "s.fit_errors.data_constrained; a study with report = false that is not quiet also says so on stderr), answers (each question's answer per law: { question, law, " ..
  "answer }), store_path, report_path (nil with report = false). Under --dry-run the study trains and fits " ..
  "nothing: s.dry_run is true, s.runs is the plan, s.fits and s.answers are nil and s:observations() is empty; " ..
  "a script that goes on after study{} can test s.dry_run.")
core.document(Study.observations, "s:observations() -> the finished runs as a list of { N, N_counts, params, D, U, C, loss, " ..
  "budget, epochs, seed, hash }; N, params, D, U and C are floats (6 * o.N * o.D is a run's compute); N_counts is what " ..
  "N counts (the study's params =: \"all\" or \"non_embedding\"), which every fit of them records (law.N_counts)")
core.document(Study.curves, "s:curves() -> s:observations() with each run's stored loss curve as .curve " ..
  "({ {step, tokens, train_loss, eval_loss, ...}, ... }): fit.approach1(s:curves()), plot.curves(s:curves())")
core.document(Study.report, "s:report() -> the report's Markdown (printed), or nil when none was written")

-- What N means in a study (params = "all" or "non_embedding"), in words.
function M.count_words(count)
  if count ~= "all" and count ~= "non_embedding" then  -- anything else read as "non_embedding"
    checks.error_at_user("study.count_words(count): count must be \"all\" or \"non_embedding\" (got "
      .. (type(count) == "string" and ("\"" .. count .. "\"") or checks.type_name(count)) .. ")")
  end
  return count == "all" and "all parameters (params = \"all\", Chinchilla's count)"
    or "non-embedding parameters (params = \"non_embedding\", Kaplan's count)"
end

-- ---- Dry run ------------------------------------------------------------------------------------------------------

-- The speed the dry run times runs by, in hardware FLOP/s (a run's hardware_flops: the trainer's
-- work, output logits included, which 6·N·D leaves out: with a large vocabulary and a small model
-- most of the time goes there), its basis, and whether it is one run's speed (measured on finished
-- runs, each timed by its own wall clock) rather than the machine's (shared by the runs at once).
local function estimate_speed(s, store_path, runs)
  -- Simulated runs take no training time: the store's times of earlier simulated runs say nothing.
  if backends.simulates(s.backend_kind) then return math.huge, "simulated: no training" end
  -- Measured on the store's finished runs that this plan has too (their shapes give their hardware
  -- FLOPs), when there are some; else the speed the script measured and gave (measured_speed);
  -- else the backend's assumption.
  local ok, store = pcall(native_store.open, store_path, { read_only = true })
  if ok then
    local planned = {}
    for _, r in ipairs(runs) do planned[r.hash] = r end
    local flops, seconds = 0, 0
    for _, r in ipairs(executor.stored_runs(store, s.name, "done")) do
      local p = planned[r.hash]
      if p and r.wall_seconds and r.wall_seconds > 0 then
        flops, seconds = flops + p.hardware_flops, seconds + r.wall_seconds
      end
    end
    store:close()
    if seconds > 0 then return flops / seconds, "measured on this machine's finished runs", true end
  end
  if s.measured_speed then
    return s.measured_speed, string.format("measured %s FLOP/s for backend %s, given by the script: measured_speed",
      core.format_flops(s.measured_speed), s.backend_kind)
  end
  local speed = backends.assumed_flops_per_second(s.backend_kind, native.cpu_count())
  if speed == math.huge then return speed, "simulated: no training" end
  return speed, string.format("assumed %s FLOP/s for backend %s", core.format_flops(speed), s.backend_kind)
end

-- The status of each of the study's runs already in its store (by run hash); empty without a store.
-- Second: why the store, which exists, cannot be read (corrupted, of a newer scalelab, not a
-- store), or nil.
-- (It sets s.renamed_note and s.neighbour_note, for a study whose runs are stored finished under
-- another name, in its store or beside it.)
local function stored_statuses(s)
  local status_of, records = {}, {}
  local function neighbours()
    local mine = {}
    for hash, status in pairs(status_of) do
      if status == "done" or status == "diverged" then mine[hash] = true end
    end
    s.neighbour_note = executor.neighbour_store_note(s, mine)
  end
  local ok_open, store = pcall(native_store.open, s.store_path, { read_only = true })
  if ok_open then
    local stored = executor.stored_runs(store, s.name)
    executor.adopt_legacy(s, stored)
    for _, r in ipairs(stored) do status_of[r.hash], records[r.hash] = r.status, r end
    s.renamed_note = executor.renamed_note(s, store)
    store:close()
    neighbours()
    return status_of, nil, records
  end
  local exists = io.open(s.store_path, "rb")
  if not exists then
    -- Something this user cannot read (a folder, another user's store) is not a new store.
    if executor.path_exists(s.store_path) then return status_of, checks.plain(tostring(store)) end
    neighbours()
    return status_of
  end
  -- An empty file (made by touch, or by a study stopped before its first write) is a new database to
  -- SQLite: running the study makes it the store, as it makes a missing one.
  local byte, unreadable = exists:read(1)
  exists:close()
  if byte == nil and unreadable == nil then
    neighbours()
    return status_of
  end
  return status_of, checks.plain(tostring(store))
end

-- Whether a run with this stored status (nil: not in the store) is still to train.
local function to_train(status)
  return status ~= "done" and status ~= "diverged"
end

-- Runs train on whole steps of batch × ctx tokens: where a planned D is a step or less, the tokens
-- trained (and the compute) are far from it. The warning names the run furthest off, or nil.
-- The runs whose ratio_of(run) lies outside [lo, hi]: how many, the one farthest off (in log) and its ratio.
local function outside(runs, ratio_of, lo, hi)
  local off, worst, worst_ratio = 0, nil, 1
  for _, r in ipairs(runs) do
    local ratio = ratio_of(r)
    if ratio > hi or ratio < lo then
      off = off + 1
      if math.abs(math.log(ratio)) > math.abs(math.log(worst_ratio)) then worst, worst_ratio = r, ratio end
    end
  end
  return off, worst, worst_ratio
end

local function rounding_warning(runs)
  local off, worst, worst_ratio = outside(runs, function(r) return r.tokens / r.planned_tokens end, 0.9, 1.1)
  if not worst then return nil end
  return string.format("%s train%s on whole steps of batch × ctx tokens far from the planned D (run %d: D = %s "
    .. "planned, %s trained in %s of %d × %d%s): %s, or raise the budgets or token counts",
    core.format_counted(off, "run"), off == 1 and "s" or "", worst.ordinal,
    fmt_count(worst.planned_tokens), fmt_count(worst.tokens), core.format_counted(worst.steps, "step"), worst.batch,
    worst.shape.ctx, worst.budget and ", " .. core.format_number(worst_ratio, 3) .. "× its budget's compute" or "",
    worst.batch > 1 and "lower the batch (hyper = { batch = ... }) or ctx" or "use a shorter ctx")
end

-- IsoFLOP budgets left with fewer than the 3 distinct model sizes a parabola needs, in a study that
-- fits isoflop: sweep points that gave identical runs (nearby sizes on the same shape) were merged,
-- or the sweep gave fewer. A warning naming each such budget and its sizes, or nil.
local function isoflop_sizes_warning(s, runs)
  local fitted = false
  for _, f in ipairs(analysis.wanted_fits(s)) do fitted = fitted or f.name == "isoflop" end
  if not fitted then return nil end
  local points, sizes, budgets = {}, {}, {}
  for _, p in ipairs(s.sweep.points) do
    if type(p.budget) == "number" then points[p.budget] = (points[p.budget] or 0) + 1 end
  end
  for _, r in ipairs(runs) do
    if type(r.budget) == "number" then
      if not sizes[r.budget] then
        sizes[r.budget] = { count = 0, runs = 0 }
        budgets[#budgets + 1] = r.budget
      end
      local b = sizes[r.budget]
      b.runs = b.runs + 1
      if not b[r.N_fit] then
        b[r.N_fit] = true
        b.count = b.count + 1
      end
    end
  end
  table.sort(budgets)
  local few, left = {}, 0
  for _, C in ipairs(budgets) do
    local b = sizes[C]
    if b.count < 3 then
      local merged = (points[C] or b.runs) - b.runs
      few[#few + 1] = string.format("the IsoFLOP budget C = %s has %s%s", core.format_flops(C),
        core.format_counted(b.count, "distinct model size"),
        merged > 0 and string.format(" (%d of its %d sweep points merged into identical or nearly identical runs: "
          .. "nearby sizes landed on the same shape, or on shapes of about one size)", merged, points[C]) or "")
    else
      left = left + 1
    end
  end
  if #few == 0 then return nil end
  return string.format("%s: the isoflop fit needs 3 or more sizes per budget for its parabola and will leave %s "
    .. "out%s; give %s sizes further apart (sweep.isoflop's sizes, or points and ratio)", table.concat(few, "; "),
    #few == 1 and "it" or "them",
    left < 2 and string.format(", which leaves %s with a parabola (the fit needs two or more)",
      left == 0 and "no budget" or "one budget") or "",
    #few == 1 and "that budget" or "those budgets")
end

-- Runs whose model lands more than 1.5 times off the target N (the family has no shape nearer at that
-- size: a tiny target under a large vocabulary or ctx, or an aspect few depths fit).
local function size_warning(runs)
  local off, worst, worst_ratio = outside(runs, function(r) return r.N_fit / r.N end, 1 / 1.5, 1.5)
  if not worst then return nil end
  return string.format("%s build%s a model more than 1.5 times off the target N (run %d: N = %s asked, %s built, %.2f×): "
    .. "the model family has no shape nearer at that size; labels and fits use the N built (to come nearer, change "
    .. "the sweep's sizes, or the models' aspect, vocab or ctx)", core.format_counted(off, "run"), off == 1 and "s" or "",
    worst.ordinal, fmt_count(worst.N), fmt_count(worst.N_fit), worst_ratio)
end

-- Fits that the plan has too few runs for: a parametric fit needs one observation more than its free
-- parameters, and said so only once every run had trained ("Not fitted: chinchilla fit needs at least
-- 6 observations ..."). Only fits of all their parameters (no free, tie or base given), whose count
-- is known here. A warning naming each, or nil.
local FREE_PARAMETERS = { chinchilla = 5, kaplan = 4, data_constrained = 7 }
local function fit_size_warning(s, runs)
  local few = {}
  for _, f in ipairs(analysis.wanted_fits(s)) do
    local o = f.options or {}
    local n = FREE_PARAMETERS[f.name]
    if n and o.free == nil and o.tie == nil and o.base == nil and (f.name ~= "kaplan" or o.form == nil or o.form == "ND")
        and #runs < n + 1 then
      few[#few + 1] = string.format("%s needs at least %d runs for its %d free parameters (one more, so that some "
        .. "scatter is left to judge the fit by)", f.name, n + 1, n)
    end
  end
  if #few == 0 then return nil end
  return string.format("fits: %s, and the sweep plans %s: %s; add runs, or fit fewer parameters (fits = { %s = { "
    .. "free = {...}, init = {...} } })", table.concat(few, "; "), core.format_counted(#runs, "run"),
    #few == 1 and "it will not be fitted" or "they will not be fitted", few[1]:match("^[%w_]+"))
end

-- Runs that plan fewer tokens than the unique tokens they ask for (sweep.data_constrained{ epochs = { 0.5 } }):
-- each sees its D tokens once, and its U, epochs, label and fits count those D, not the U asked. The dry run
-- showed "epochs 1" and a U of D beside the point's 0.5 without a word of why. A note, or nil.
local function under_one_epoch_note(runs)
  local under, first = 0, nil
  for _, r in ipairs(runs) do
    local asked = r.unique_tokens_asked
    if type(asked) == "number" and r.planned_tokens < asked * (1 - 1e-9) then
      under = under + 1
      first = first or r
    end
  end
  if under == 0 then return nil end
  return string.format("%s plan%s fewer tokens than the unique tokens %s for (run %d: D = %s of U = %s, %s epochs): "
    .. "%s each of %s tokens once, as fresh data, so %s U, epochs, label and fits count those tokens (U = D, 1 epoch), "
    .. "not the U asked; a data-constrained sweep's epochs start at 1 (sweep.data_constrained's epochs)",
    core.format_counted(under, "run"), under == 1 and "s" or "", under == 1 and "it asks" or "they ask", first.ordinal,
    fmt_count(first.planned_tokens), fmt_count(first.unique_tokens_asked),
    core.format_ratio(first.planned_tokens / first.unique_tokens_asked), under == 1 and "it sees" or "they see",
    under == 1 and "its" or "their", under == 1 and "its" or "their")
end

-- The warnings of a plan, for the dry run and for stderr before a real run: a simulated law above
-- ln(vocab), D far from whole steps, models far from their targets, IsoFLOP budgets of few sizes, a
-- corpus's validation split far above its fraction.
local function plan_warnings(s, runs)
  local out = {}
  local _, capped = backends.capped(s.backend_identity, runs)
  for _, w in ipairs { capped or false, backends.repetition_ignored(s.backend_identity, runs) or false,
                       rounding_warning(runs) or false, size_warning(runs) or false, isoflop_sizes_warning(s, runs) or false,
                       fit_size_warning(s, runs) or false,
                       s.split_warning or false } do
    if w then out[#out + 1] = w end
  end
  return out
end

-- The one shape of the study's models, { vocab =, ctx =, aspect = }, with which a law of its reads an
-- allocation rule of its questions that counts N otherwise (Kaplan's rule, non-embedding N, under a
-- law of all parameters): where every planned run's model has the same vocabulary and context. The
-- aspect is the family's d/L (models = { aspect = }), else the geometric mean of the models' d_model /
-- n_layer. Where they differ: nil, and which sweep points differ.
local function models_shape(s, runs)
  local index = {}
  for i, p in ipairs(s.sweep.points) do index[p] = index[p] or i end
  local first, other
  local log_aspect, n = 0, 0
  for _, r in ipairs(runs) do
    local shape = r.shape
    if not first then
      first = r
    elseif not other and (shape.vocab ~= first.shape.vocab or shape.ctx ~= first.shape.ctx) then
      other = r
    end
    log_aspect, n = log_aspect + math.log(shape.d_model / shape.n_layer), n + 1
  end
  if not first then return nil end
  if other then
    local function point(r)
      return string.format("sweep point %s (%s) builds vocab %d, ctx %d", tostring(index[r.point] or "?"),
        sweep_mod.describe_point(r.point), math.tointeger(r.shape.vocab) or r.shape.vocab,
        math.tointeger(r.shape.ctx) or r.shape.ctx)
    end
    return nil, string.format("its models do not share one vocabulary and context (%s; %s)", point(first), point(other))
  end
  local aspect = type(s.family_info.aspect) == "number" and s.family_info.aspect or math.exp(log_aspect / n)
  return { vocab = first.shape.vocab, ctx = first.shape.ctx, aspect = aspect }
end

local function print_plan(s, runs, duplicates, status_of, store_problem, jobs_asked, records)
  local speed, basis, per_run = estimate_speed(s, s.store_path, runs)
  -- The runs train `jobs` at once, each at the machine's speed shared among them (or at one run's
  -- measured speed): the total is their times spread over the jobs, and at least the longest run.
  local todo_count = 0
  for _, r in ipairs(runs) do
    if to_train(status_of and status_of[r.hash] or "new") then todo_count = todo_count + 1 end
  end
  local jobs = math.max(1, math.min(executor.jobs(s, jobs_asked), todo_count))
  local run_speed = per_run and speed or speed / jobs
  local longest = 0
  local lines = {}
  -- Unique tokens U where runs repeat data (a data-constrained sweep, or a corpus repeated), as the
  -- report's runs table gives them: otherwise runs of the same D (U = 1M for 4 epochs, U = 4M for 1)
  -- differ in the epochs column alone.
  local repeats = false
  for _, r in ipairs(runs) do if r.unique_tokens and r.epochs and r.epochs > 1.0001 then repeats = true end end
  local line = "%4s  %-9s %-9s %-28s %-9s " .. (repeats and "%-9s " or "%s") .. "%-9s %-8s %-9s %-9s %s"
  local header = string.format(line, "#", "non-emb.", "params", "shape (L×d, heads)",
    "D", repeats and "U" or "", "epochs", "lr", "FLOPs", "time", "status")
  lines[#lines + 1] = string.format("study %s: %s planned, backend %s, store %s", s.name, core.format_counted(#runs, "run"),
    backends.describe_backend(s.backend_kind, s.backend_identity), s.store_path)
  lines[#lines + 1] = "N in run labels, fits and FLOPs (6·N·D) counts " .. M.count_words(s.count) .. "; the table gives both counts"
  for _, conversion in ipairs(s.rule_conversions or {}) do lines[#lines + 1] = conversion end
  -- A run the store holds finished is timed by its record, not by the estimate.
  local recorded = false
  for _, r in ipairs(runs) do
    if not to_train(status_of and status_of[r.hash] or "new") then recorded = true end
  end
  if recorded and not backends.simulates(s.backend_kind) then
    lines[#lines + 1] = "time: as recorded in the store for runs done or diverged, estimated for the runs to train"
  end
  lines[#lines + 1] = header
  -- Another scalelab running a study on the store holds its lock: this study, run now, would stop.
  local in_use = not store_problem and native.lock_held(native.store_lock_path(s.store_path))
  local total_flops, total_seconds, todo, resuming = 0, 0, 0, 0
  for _, r in ipairs(runs) do
    local status = status_of and status_of[r.hash] or "new"
    -- A run an earlier attempt stopped (interrupted, killed) resumes from its checkpoint: it is timed
    -- by the tokens it has left, and its status says where it resumes.
    local left, shown = 1, status
    local resume = to_train(status) and executor.resume_point(s, r, records and records[r.hash])
    if resume and resume.tokens then
      left = math.max(0, 1 - resume.tokens / r.tokens)
      resuming = resuming + 1
      shown = string.format("%s, resumes at %s of %s tokens", status, fmt_count(resume.tokens), fmt_count(r.tokens))
    elseif resume then
      shown = string.format("%s, its checkpoint %s cannot be resumed (not a checkpoint of this run, or cut short): "
        .. "timed from the start", status, resume.path)
    elseif to_train(status) and not (status == "running" and in_use) then
      -- Said only "interrupted", and timed from the start without a word of why. (A run in flight in
      -- another scalelab, which holds the store, may not have written its first checkpoint yet.)
      local missing = executor.missing_checkpoint(s, r, records and records[r.hash])
      if missing then
        shown = string.format("%s, no checkpoint to resume from (%s is not there): trains from the start", status, missing)
      end
    end
    local seconds = speed == math.huge and 0 or r.hardware_flops * left / run_speed
    r.estimated_seconds = seconds
    if to_train(status) then
      todo = todo + 1
      total_seconds = total_seconds + seconds
      longest = math.max(longest, seconds)
    end
    total_flops = total_flops + r.flops
    local time = speed == math.huge and "-" or core.format_duration(seconds)
    if not to_train(status) then
      local record = records and records[r.hash]
      local took = record and record.wall_seconds
      time = type(took) == "number" and took > 0 and core.format_duration(took) or "-"
    end
    lines[#lines + 1] = string.format(line, r.ordinal,
      fmt_count(r.non_embedding_params), fmt_count(r.params),
      string.format("%d×%d, %d (ctx %d)", r.shape.n_layer, r.shape.d_model, r.shape.n_head, r.shape.ctx),
      fmt_count(r.tokens), repeats and (r.unique_tokens and fmt_count(r.unique_tokens) or "-") or "",
      r.epochs and core.format_ratio(r.epochs) or "1",
      core.format_number(r.lr, 2), core.format_flops(r.flops),
      backends.simulates(s.backend_kind) and "simulated" or time, shown)
  end
  if backends.simulates(s.backend_kind) then
    lines[#lines + 1] = string.format("total: %s (%d to simulate%s), %s FLOP if trained; simulated: %s",
      core.format_counted(#runs, "run"), todo, resuming > 0 and string.format(", %d resuming", resuming) or "",
      core.format_flops(total_flops), backends.describe_simulation(s.backend_identity))
  else
    lines[#lines + 1] = string.format("total: %s (%d to train%s), %s FLOP, estimated %s on %s%s (%s)",
      core.format_counted(#runs, "run"), todo, resuming > 0 and string.format(", %d resuming", resuming) or "",
      core.format_flops(total_flops),
      speed == math.huge and "-" or core.format_duration(math.max(total_seconds / jobs, longest)),
      backends.device(s.backend_kind) == "cuda" and "the GPU" or core.format_counted(native.cpu_count(), "core"),
      jobs > 1 and string.format(", %d runs at once", jobs) or "", basis)
  end
  for _, warning in ipairs(plan_warnings(s, runs)) do lines[#lines + 1] = "warning: " .. warning end
  -- The data a simulated study declares is read by nothing: its epochs column counted passes over
  -- the sweep's U, or 1, and said "1" for runs that would need thousands of passes over the corpus.
  if backends.simulates(s.backend_kind) and s.spec and s.spec.data ~= nil then
    lines[#lines + 1] = string.format("note: the %s backend does not read the study's data (%s): it draws each run's "
      .. "loss from its law, so the epochs column counts passes over the sweep's U where it gives one (1 where not), "
      .. "not over this corpus; to train on the data, give backend = \"auto\" (or \"cpu\", \"cuda\")",
      s.backend_kind, (tostring(describe_data(s.spec.data)):match("^[^\n]*")))
  end
  local under_one_epoch = under_one_epoch_note(runs)
  if under_one_epoch then lines[#lines + 1] = "note: " .. under_one_epoch end
  local repeating = 0
  for _, r in ipairs(runs) do repeating = repeating + (r.repeats_corpus and 1 or 0) end
  if repeating > 0 then
    lines[#lines + 1] = string.format("note: %s %s more tokens than the corpus's %s training tokens and repeat%s it "
      .. "(repeat_data = true; the epochs column says how often)", core.format_counted(repeating, "run"),
      repeating == 1 and "wants" or "want",
      fmt_count(s.corpus_tokens), repeating == 1 and "s" or "")
  end
  -- A store path in a folder that is not there yet: made when the study runs, so a mistyped folder
  -- would go unnoticed; the dry run says so. A new store where this user cannot make it would stop
  -- the study before it trains: said too, rather than promised made.
  local folder = s.store_path:match("^(.*)/[^/]*$")
  local exists = io.open(s.store_path, "rb")
  if exists then exists:close() end
  local blocked = not exists and not store_problem and executor.new_file_unwritable(s.store_path)
  if blocked then
    lines[#lines + 1] = string.format("note: the store %s cannot be made: %s; running the study would stop before "
      .. "training (give store = a path in a folder you can write)", s.store_path, blocked)
  elseif folder and folder ~= "" and not executor.path_exists(folder) then
    local misspelt = executor.misspelt_store(s)
    lines[#lines + 1] = misspelt and string.format("note: %s; running the study would stop before training",
        executor.misspelt_store_message(s, misspelt))
      or string.format("note: the store's folder %s does not exist; running the study makes it", folder)
  end
  if store_problem then
    lines[#lines + 1] = string.format("note: the store cannot be read, so the statuses above take it for empty, and "
      .. "running the study would stop before training: %s", store_problem)
  end
  local unwritable = not store_problem and executor.store_unwritable(s.store_path)
  if unwritable then
    lines[#lines + 1] = string.format("note: the store %s is read-only (%s): %s", s.store_path, unwritable,
      todo_count == 0 and "every run is done, so running the study reads it and writes the report without training"
        or string.format("running the study would stop before training %s (copy the store somewhere writable, "
          .. "or chmod u+w it)", core.format_counted(todo_count, "run")))
  end
  if in_use then
    lines[#lines + 1] = string.format("note: the store %s is in use by another scalelab now (a study runs on it; its "
      .. "runs in flight show as running): running the study now would stop before training; wait for it to finish",
      s.store_path)
  end
  for _, problem in ipairs { not unwritable and executor.report_unwritable(s, s.spec.report) or false,
                             not unwritable and executor.checkpoints_unwritable(s) or false } do
    if problem then
      lines[#lines + 1] = string.format("note: %s; running the study would stop before training", problem)
    end
  end
  if s.backend_missing and todo > 0 then
    lines[#lines + 1] = string.format("note: backend %s cannot train on this machine (%s); running the study here "
      .. "would stop before training", s.backend_kind, s.backend_missing)
  end
  local unplanned = executor.unplanned_note(s, records or status_of or {}, true)
  if unplanned then lines[#lines + 1] = "note: " .. unplanned end
  local provenance = executor.provenance_note(s, records or {})
  if provenance then lines[#lines + 1] = "note: " .. provenance end
  if s.renamed_note then lines[#lines + 1] = "note: " .. s.renamed_note end
  if s.neighbour_note then lines[#lines + 1] = "note: " .. s.neighbour_note end
  if duplicates > 0 then
    lines[#lines + 1] = string.format("note: %s gave a run identical to another (same shape and tokens) and %s merged",
      core.format_counted(duplicates, "sweep point"), duplicates == 1 and "was" or "were")
  end
  if s.near_sizes_note then lines[#lines + 1] = "note: " .. s.near_sizes_note end
  print(table.concat(lines, "\n"))
end

-- ---- Running ---------------------------------------------------------------------------------------------------------

local function worker_target()
  local target = os.getenv("SCALELAB_STUDY_WORKER")
  if not target or target == "" then return nil end
  local name, hash = target:match("^(.*)\n(%x+)$")
  return name and { name = name, hash = hash } or nil
end

-- True when an error raised here would end the script: a script is running (not the REPL's prompt),
-- and no pcall, xpcall or coroutine between it and the study call would catch the error.
local protect = { [pcall] = true, [xpcall] = true }
local function ends_script()
  if not core.interrupt_ends_script() then return false end
  local _, main = coroutine.running()
  if not main then return false end
  local level = 2
  while true do
    local info = debug.getinfo(level, "f")
    if not info then return true end
    if protect[info.func] then return false end
    level = level + 1
  end
end

-- The studies of this program run that left a question unanswered or a fit they count as theirs
-- not fitted (analysis.analyse's s.unanswered and s.unfitted): by name, in the order they ran, each
-- the line the program ends with. A script that runs to its end then exits 3 (M.exit_status, which
-- the host calls), so that CI or a pipeline learns it; the study's runs and reports are written.
local incomplete = { order = {}, lines = {} }

local function record_incomplete(s)
  local name = s.name
  if not incomplete.lines[name] then incomplete.order[#incomplete.order + 1] = name end
  local parts = {}
  for _, u in ipairs(s.unanswered or {}) do
    parts[#parts + 1] = string.format("the question \"%s\" went unanswered (%s)", u.question, u.why)
  end
  for _, f in ipairs(s.unfitted or {}) do
    -- A fit already said as why a question went unanswered is not said twice.
    local said = false
    for _, u in ipairs(s.unanswered or {}) do said = said or u.why:find(f.why, 1, true) ~= nil end
    if not said then parts[#parts + 1] = f.why end
  end
  if #parts == 0 then
    incomplete.lines[name] = false
    return
  end
  local reports = s.report_path and string.format(", its report in %s and %s", s.report_path, s.report_json_path)
    or ""
  incomplete.lines[name] = string.format("study %s: %s; its runs are kept in %s%s", name, table.concat(parts, "; "),
    s.store_path, reports)
end

-- The program's exit status after a script that ran to its end, for the host (runtime/host/main.cpp):
-- 3 where a study of it left a question unanswered or a fit not fitted, each such study said on
-- stderr (the last lines of the run), else 0.
function M.exit_status()
  local status = 0
  for _, name in ipairs(incomplete.order) do
    local line = incomplete.lines[name]
    if line then
      io.stderr:write("scalelab: ", checks.plain(line), " (exit status 3)\n")
      status = 3
    end
  end
  return status
end

local function run_study(name, spec, where)
  if type(spec) ~= "table" then
    checks.fail(where, "study \"" .. name .. "\" expects a table: study \"" .. name .. "\" { sweep = ..., ... }")
  end
  -- A list given as its one item: say how to write the list.
  for key, example in pairs { fits = '{ "isoflop" }', questions = "{ plan.optimal{ compute = 1e21 } }" } do
    local value = spec[key]
    local meta = type(value) == "table" and getmetatable(value)
    if value ~= nil and (type(value) ~= "table" or (type(meta) == "table" and rawget(meta, "__name") ~= nil)) then
      checks.fail(where, string.format("study: %s must be a list (got %s): write it in braces, %s = %s", key,
        checks.type_name(value), key, example), { key })
    end
  end
  checks.table(spec, VALID, "study", where)
  if spec.sweep == nil then
    checks.fail(where, "study \"" .. name .. "\": sweep is required (sweep.isoflop{...}, sweep.grid{...}, ...)")
  end
  if #spec.sweep.points == 0 then
    -- Which sweep function made no points, where, and why (sweep.filter, a product with an empty side).
    local why = spec.sweep.empty_reason
    checks.fail(where, "study \"" .. name .. "\": the sweep is empty (no runs to train)"
      .. (type(why) == "string" and ": " .. why .. "; change that call so that it gives points" or "; check its filters and lists"), { "sweep" })
  end
  if spec.hyper then
    checks.table(spec.hyper, HYPER_VALID, "study: hyper", where, { "hyper" })
    for key, value in pairs(spec.hyper) do
      local problem = type(value) ~= "function" and hyper_problem(key, value)
      if problem then checks.fail(where, "study: " .. problem, { "hyper", key }) end
    end
  end
  if spec.questions then
    for k, q in pairs(spec.questions) do
      if math.type(k) ~= "integer" then
        checks.fail(where, "study: questions is a list: questions = { plan.optimal{ compute = 1e21 }, ... } (found the key '"
          .. tostring(k) .. "')", { "questions" })
      end
      local ok_answer, method = pcall(function() return q.answer end)
      if not (ok_answer and type(method) == "function") then
        -- An answer (a question asked with law = ...) is the commonest slip: the study brings the law.
        local answered = checks.type_name(q) == "an Answer"
        checks.fail(where, string.format("study: questions[%d] is not a question (got %s%s); write a question as "
          .. "plan.optimal{ compute = 1e21 } (help(plan) lists the others)%s", k, checks.type_name(q),
          type(q) == "string" and (" \"" .. q .. "\"") or "",
          answered and ", without law =: the study answers its questions with the laws it fits" or ""), { "questions" })
      end
    end
    -- A nil among them (a variable not set) left out every question after it, as ipairs stopped there.
    local problem = checks.list_problem(spec.questions, "questions")
    if problem then checks.fail(where, "study: " .. problem, { "questions" }) end
  end
  if spec.point_keys then
    for k, v in pairs(spec.point_keys) do
      if math.type(k) ~= "integer" or type(v) ~= "string" then
        checks.fail(where, "study: point_keys is a list of names: point_keys = { \"width\", ... }", { "point_keys" })
      end
    end
  end
  if spec.eval then checks.table(spec.eval, EVAL_VALID, "study: eval", where, { "eval" }) end
  if spec.jobs and spec.jobs < 1 then checks.fail(where, "study: jobs must be at least 1 (got " .. spec.jobs .. ")", { "jobs" }) end
  -- The executor too: refused only once the study had made its store, recorded its plan and written
  -- its script's copy beside it (executor = "slurm"), it left that copy there.
  if spec.executor ~= nil and spec.executor ~= "local" then
    local executor_spec = spec.executor
    local ok_execute, execute = pcall(function() return executor_spec.execute end)
    if type(executor_spec) ~= "table" or not (ok_execute and type(execute) == "function") then
      checks.fail(where, string.format("study: executor must be \"local\" (the default: worker processes on this machine) "
        .. "or a table with an execute(batch) method (got %s)", type(executor_spec) == "string" and
        string.format("%q", executor_spec) or checks.type_name(executor_spec)), { "executor" })
    end
  end

  local options = script_options()
  local s = setmetatable({ name = name, spec = spec, where = where, description = spec.description }, Study)
  if spec.model ~= nil and spec.models ~= nil then
    checks.fail(where, "study: give model or models (the same key), not both", { "models" })
  end
  local model_spec = spec.model or spec.models
  -- The vocabulary comes from the data when the model does not say: a byte corpus is 256, a BPE
  -- corpus its own size.
  local ok_vocab, data_vocab = pcall(function() return spec.data.vocab end)
  if ok_vocab and math.type(data_vocab) == "integer" and type(model_spec) ~= "function" and type(model_spec) ~= "string" then
    local copy = {}
    for k, v in pairs(model_spec or {}) do copy[k] = v end
    if copy.vocab == nil and type(copy.shape) ~= "function" then copy.vocab = data_vocab end
    model_spec = copy
  end
  s.family, s.family_info = model_family(model_spec, where, spec.models ~= nil and "models" or "model")
  s.count = spec.params or "all"
  if s.count ~= "all" and s.count ~= "non_embedding" then
    checks.fail(where, "study: params must be \"all\" (Chinchilla: every parameter) or \"non_embedding\" (Kaplan) (got \"" .. s.count .. "\")", { "params" })
  end
  s.hyper = setmetatable(spec.hyper or {}, { __index = M.default_hyper })
  s.eval = spec.eval or {}
  s.seed = spec.seed or 1
  local ok, kind, identity, run_fn, keeps, legacy_identity = pcall(backends.resolve, spec.backend, s.count)
  if not ok then
    -- One location, the user's line: an error raised inside (by a native function, say) may carry its own.
    -- backends.resolve names the key at fault ("backend.law.B must be a number"): once, and located at
    -- that key's line; any other message is about the backend value as a whole.
    local message = checks.plain(kind)
    local key = message:match("^backend%.([%a_][%w_]*)")
    if key or message:find("^backend[%s:]") then
      checks.fail(where, "study: " .. message, { "backend", key })
    end
    checks.fail(where, "study: backend: " .. message, { "backend" })
  end
  -- The study's own simulation draws a run's loss at the N its fits count: under Kaplan's count the
  -- same shape and tokens give another loss, so the count is part of such a run's identity (the
  -- default, all parameters, adds nothing: runs stored before keep their identity).
  if identity.implementation == "study" and s.count ~= "all" then identity.N_counts = s.count end
  s.backend_kind, s.backend_identity, s.backend_run = kind, identity, run_fn
  s.backend_legacy_identity = legacy_identity
  -- Both are the study's own closures, listed by help(s): say what they are.
  doc(s.family, "s.family(N [, point, count]) -> the model.gpt shape the study trains for a target N (its model key)")
  doc(s.backend_run, "s.backend_run(run, context) -> trains or simulates one planned run on the study's backend "
    .. "(the executor calls it; s.runs holds the plan)")
  s.data_identity = data_identity(spec.data)
  s.point_keys = spec.point_keys
  s.repeat_data = spec.repeat_data
  s.sweep = spec.sweep
  local ok_fits, fits_or_error = pcall(analysis.parse_fits, spec.fits)
  if not ok_fits then
    local message = tostring(fits_or_error)
    checks.fail(where, "study: " .. (message:find("^fits[%[%.: ]") and "" or "fits: ") .. message, { "fits" })
  end
  s.fits_wanted = fits_or_error
  s.questions = spec.questions or {}
  -- A question that none of the fits can answer would be found only after every run: refused now.
  local _, unanswerable = analysis.unanswerable(s.questions, s.fits_wanted, s.sweep.kind)
  if unanswerable then checks.fail(where, "study: " .. unanswerable, { "questions" }) end
  -- An IsoFLOP fit groups the runs by their budgets: on a sweep whose points have none (a grid's)
  -- it was found to fit nothing only after every run had trained.
  for _, f in ipairs(s.fits_wanted or {}) do
    if f.name == "isoflop" then
      local budgeted = false
      for _, p in ipairs(s.sweep.points) do budgeted = budgeted or type(p.budget) == "number" end
      if not budgeted then
        checks.fail(where, string.format("study: fits: %s groups the runs by their IsoFLOP budgets, and no point of this "
          .. "%s sweep has one (budget =): use sweep.isoflop{ budgets = {...}, ... }, or fit the runs another way (%s)",
          f.given or "isoflop", s.sweep.kind, s.sweep.kind == "grid" and "\"chinchilla\", \"approach1\""
            or "\"chinchilla\""), { "fits" })
      end
    end
  end
  s.script_path, s.script_text = read_script(where)
  -- A path written as to a shell: Lua does not expand ~, so "~/runs/x.db" would make a folder named
  -- "~" in the current one (one that `rm -rf ~` then aims at the home folder to remove).
  -- A path holding a control character (a line break) made files that every listing shows broken,
  -- and a report whose figures plot.study_figures then refused: refused now, as those figures are.
  for _, key in ipairs { "store", "checkpoints", "report" } do
    local path = spec[key]
    local control = type(path) == "string" and
      require("scalelab.plot.figure").control_character("study", key .. " =", path, key == "checkpoints" and "folder" or key)
    if control then checks.fail(where, control, { key }) end
    local home = type(path) == "string" and require("scalelab.native.core").unexpanded_home("study:", key, path)
    if home then checks.fail(where, home, { key }) end
  end
  local default_store = name:gsub("[^%w%-_.]", "_") .. ".db"
  -- A folder (store = ".", "runs/"): the store module refused it without naming the study's key.
  -- Refused here, naming store = and the file in that folder named after the study.
  -- store = "" failed in the store module with "results store: the path is empty", naming neither the study nor store =.
  if spec.store == "" then
    checks.fail(where, string.format("study \"%s\": store = \"\" names no file: give the store's path, store = \"%s\" "
      .. "(the default when store is left out)", name, default_store), { "store" })
  end
  if type(spec.store) == "string" then
    local folder = spec.store:sub(-1) == "/" or spec.store:match("^%.%.?$")
    if not folder then
      local f = io.open(spec.store, "rb")
      if f then
        local _, _, code = f:read(0)
        folder = code == 21  -- EISDIR: reading a folder
        f:close()
      end
    end
    if folder then
      checks.fail(where, string.format("study \"%s\": store = \"%s\" is a folder, and a results store is one SQLite "
        .. "file: give a file in it, store = \"%s/%s\"", name, spec.store, (spec.store:gsub("/+$", "")), default_store),
        { "store" })
    end
  end
  s.store_path = spec.store or default_store
  local base = strip_db(s.store_path)
  s.checkpoint_dir = spec.checkpoints or (base .. ".checkpoints")
  s.report_base = base
  if type(spec.report) == "string" then
    -- The report's own file names given (summary.report.md, summary.md, summary.json): the base they
    -- share, not summary.report.report.md and summary.json.report.md.
    s.report_base = strip_db(spec.report):gsub("%.report%.md$", ""):gsub("%.report%.json$", "")
      :gsub("%.md$", ""):gsub("%.json$", "")
  end
  -- A folder (report = "out/", ".", ".."): the report goes in it, named after the store, rather than
  -- as hidden files named only by their suffixes ("out/.report.md", "..report.md").
  if type(spec.report) == "string" and (spec.report:sub(-1) == "/" or spec.report:match("^%.%.?$")) then
    s.report_base = spec.report:gsub("/+$", "") .. "/" .. base:match("[^/]*$")
  end
  s.quiet = spec.quiet or options.quiet
  s.measured_speed = spec.measured_speed
  if backends.trains(kind) then
    if spec.data == nil then
      checks.fail(where, "study: backend \"" .. kind .. "\" trains models on data: give the study data = a corpus "
        .. "(data.synthetic{...}, data.corpus \"gcide\", ...) or a function(run) returning a sampler; or ask for "
        .. "backend = \"simulated\" (losses drawn from a law, no training)", { "backend" })
    end
    -- Anything else than these failed every run, one by one, once the study had started training.
    local data_meta = type(spec.data) == "userdata" and getmetatable(spec.data)
    if not (type(data_meta) == "table" and data_meta.__name == "Corpus") and type(spec.data) ~= "string"
        and type(spec.data) ~= "function" then
      checks.fail(where, "study: data must be a corpus (data.synthetic{...}, data.corpus \"gcide\", data.files{...}), "
        .. "a corpus's name or file, or a function(run) returning a sampler (got " .. checks.type_name(spec.data) .. ")",
        { "data" })
    end
    -- A corpus file that is not there (or a misspelt name) too: opened without reading it through;
    -- "gcide" is prepared by its first run, not by a dry run.
    if type(spec.data) == "string" and spec.data ~= "gcide" and not pcall(native_data.open, spec.data, { verify = false }) then
      local opened, why = pcall(native_data.corpus, spec.data)
      if not opened then checks.fail(where, "study: data = \"" .. spec.data .. "\": " .. checks.plain(why), { "data" }) end
    end
    -- How many training tokens the corpus holds (the sampler's split), to plan epochs with.
    -- The data's vocabulary: a model with a smaller one cannot train on it (checked per run below,
    -- before anything trains, rather than by every run failing).
    local ok_vocab, vocab = pcall(function() return spec.data.vocab end)
    if ok_vocab and math.type(vocab) == "integer" then s.data_vocab = vocab end
    local ok_split, split = pcall(function() return spec.data:split() end)
    if ok_split and type(split) == "table" and type(split.train_tokens) == "number" then
      s.corpus_tokens = split.train_tokens
      -- Held out far more than the validation fraction (a corpus of few documents): one of the plan's
      -- warnings, said once by the study; the samplers of its runs (workers included) leave it unsaid.
      s.split_warning = type(split.warning) == "string" and split.warning or nil
      s.corpus_description = string.format("%s; training split %s, %s more tokens held out for validation",
        (describe_data(spec.data) or "the corpus"):match("^[^\n]*"),
        core.format_counted(split.train_documents or 0, "document"), fmt_count(split.validation_tokens or 0))
    end
  end

  local runs, duplicates, merges = plan_runs(s)
  s.runs = runs
  -- So is an allocation rule the study's laws cannot read as it counts N (Kaplan's, non-embedding,
  -- under a law of all parameters): it was refused after every run. Such a rule without a shape of
  -- its own is read with the study's models' shape where they share one (the user typed it, or was
  -- refused); where they differ, refused, naming them (checked once the models are planned, before
  -- any run trains).
  s.models_shape, s.models_shape_problem = models_shape(s, runs)
  local _, miscounted, converted = analysis.rule_count_problem(s.questions, s.fits_wanted, s.sweep.kind, s.count,
    s.models_shape, s.models_shape_problem)
  if miscounted then checks.fail(where, "study: " .. miscounted, { "questions" }) end
  s.rule_conversions = converted
  s.near_sizes_note = near_sizes_note(merges)
  -- A trainer backend built into this program but with no device here ("cuda" without a GPU):
  -- the dry run says so; a real run refuses before training anything.
  if backends.trains(kind) then
    local available, why = backends.available(kind)
    if not available then s.backend_missing = why end
  end

  local target = worker_target()
  if target then
    if target.name ~= name then
      -- The worker of a study that comes later in this script: the executor's process ran this one
      -- first, and the script between the two may use its results (s:observations(), s.fits). So
      -- the study is here as it was there: its runs as its store holds them, its fits and answers
      -- made again (no report written).
      local ok, store = pcall(native_store.open, s.store_path, { read_only = true })
      if ok then
        executor.merge_stored(s, store)
        s.store = store
        analysis.analyse(s, false)
        s.failed = 0
        for _, r in ipairs(s.runs) do
          if r.status ~= "done" and r.status ~= "diverged" then s.failed = s.failed + 1 end
        end
      end
      return s
    end
    local status = executor.work(s, target.hash)
    os.exit(status)
  end

  if options.dry_run then
    local status_of, store_problem, records = stored_statuses(s)
    print_plan(s, runs, duplicates, status_of, store_problem, options.jobs or spec.jobs, records)
    s.dry_run = true
    return s
  end

  if s.backend_missing then
    local status_of = stored_statuses(s)
    local todo = 0
    for _, r in ipairs(runs) do todo = todo + (to_train(status_of[r.hash]) and 1 or 0) end
    if todo > 0 then
      checks.fail(where, string.format("study %s: backend \"%s\" cannot train on this machine (%s), and %d run%s "
        .. "still to train; use backend = \"auto\" (CUDA where present, else the CPU) or \"cpu\", or run the study "
        .. "where the device is", name, kind, s.backend_missing, todo, todo == 1 and " is" or "s are"), { "backend" })
    end
  end
  -- Before simulating: a law that puts the planned runs above ln(vocab) makes results that show nothing.
  for _, warning in ipairs(plan_warnings(s, runs)) do
    io.stderr:write(string.format("study %s: warning: %s\n", name, warning))
  end
  local under_one_epoch = under_one_epoch_note(runs)
  if under_one_epoch then io.stderr:write(string.format("study %s: note: %s\n", name, under_one_epoch)) end
  -- Progress shows no training times for runs that do not train.
  if backends.simulates(kind) then
    for _, r in ipairs(runs) do r.simulated = true end
  end
  local ok_run, run_error = pcall(executor.execute, s, { jobs = options.jobs or spec.jobs, executor = spec.executor,
                                                         report = spec.report })
  if not ok_run then
    local message = tostring(run_error)
    -- Ctrl-C: what was done is kept, and the study says so at the user's line (the host exits 130).
    if message:find("interrupted!?$") then
      local done = 0
      for _, r in ipairs(s.runs) do
        if r.status == "done" or r.status == "diverged" then done = done + 1 end
      end
      -- With none finished there is nothing to say kept ("0 of 2 runs finished; they are kept in ...").
      checks.fail(where, string.format("study %s: interrupted with %d of %s finished; %s", name, done,
        core.format_counted(#s.runs, "run"), done > 0 and string.format("they are kept in %s, and %s", s.store_path,
        backends.stopped_runs(keeps)) or backends.stopped_runs(keeps)))
    end
    -- The study's own refusals ("study x: the store x.db is in use by another scalelab ..."): at the
    -- user's line, as the declaration's are; anything else as it came.
    local own = "study " .. name .. ": "
    if message:sub(1, #own) == own then checks.fail(where, message) end
    error(run_error, 0)
  end
  -- Ctrl-C (or SIGTERM) while the study fits, answers and draws stops the script there, as it stops
  -- training: the runs are in the store, and the next run of the script fits them and reports.
  local analysed, analysis_error = pcall(analysis.analyse, s, spec.report ~= false)
  if core.interrupt_pending() then
    checks.fail(where, string.format("study %s: interrupted while fitting and reporting; its %s finished are kept "
      .. "in %s: run the script again to fit them and write the report (nothing is trained again)", name,
      core.format_counted(#s:observations(), "run"), s.store_path))
  end
  if not analysed then error(analysis_error, 0) end
  -- A store deleted after the study's last write (while it fitted and reported) would go with this
  -- process: written back, and the study fails saying so, rather than end as if its runs were kept.
  if s.store and not s.read_only then
    local kept, why = pcall(s.store.check_file, s.store)
    if not kept then checks.fail(where, "study " .. name .. ": " .. checks.plain(why)) end
  end
  record_incomplete(s)
  -- After the report: a study with runs that failed or did not finish (a worker stopped alone, with
  -- SIGINT, records its run interrupted while the sweep goes on) is not a success, and says so. A
  -- script that nothing protects ends with an error (exit status 1); a caller that would catch that
  -- error (the REPL, a pcall, a coroutine) gets the Study instead, its fits and answers with it, and
  -- s.failed: the runs that failed or did not finish.
  local failed, unfinished = 0, {}
  for _, r in ipairs(s.runs) do
    if r.status == "failed" then
      failed = failed + 1
    elseif r.status ~= "done" and r.status ~= "diverged" then
      local status = tostring(r.status)
      if not unfinished[status] then unfinished[#unfinished + 1] = status end
      unfinished[status] = (unfinished[status] or 0) + 1
    end
  end
  local stopped = 0
  for _, status in ipairs(unfinished) do stopped = stopped + unfinished[status] end
  s.failed = failed + stopped
  if s.failed > 0 then
    local message
    if stopped == 0 then
      message = string.format("study %s: %d of %s failed (listed above); fix the cause and run the "
        .. "study again: finished runs are kept", name, failed, core.format_counted(#s.runs, "run"))
    else
      local how = {}
      for _, status in ipairs(unfinished) do how[#how + 1] = unfinished[status] .. " " .. status end
      message = string.format("study %s: %s%d of %s did not finish (%s, listed above); %srun the study again: "
        .. "finished runs are kept, and stopped ones resume from their checkpoints", name,
        failed > 0 and string.format("%d failed and ", failed) or "", stopped, core.format_counted(#s.runs, "run"),
        table.concat(how, ", "), failed > 0 and "fix the cause of the failures and " or "")
    end
    if ends_script() then checks.fail(where, message) end
    io.stderr:write(checks.plain(message), "; the Study returned has failed = ", s.failed, "\n")
  end
  return s
end

-- study "name" { ... }
function M.study(name, ...)
  local where = checks.where(2)
  -- study("x", { ... }) returned the function that takes the table and dropped the table: nothing
  -- was planned, trained or reported, and the script ended 0 as if its study had run. (Only a table
  -- is that mistake: study(name:gsub(" ", "-")) passes gsub's count too, and names the study well.)
  if type((...)) == "table" then
    local shown = type(name) == "string" and string.format("%q", name) or "\"my-study\""
    checks.fail(where, string.format("study takes its name, then its table: study %s { ... } (or study(%s)({ ... })); "
      .. "study(%s, { ... }) gave the table as a second argument, which nothing reads: no run would be planned, "
      .. "trained or reported", shown, shown, shown))
  end
  -- A name of nothing but spaces (study "" or "  ") made a store named ".db" or "__.db" and a report
  -- headed by nothing: such a name is the name left out.
  if type(name) ~= "string" or not name:find("%S") then
    checks.fail(where, "study expects a name: study \"my-study\" { ... } (got " .. (type(name) ~= "string"
      and checks.type_name(name) or name == "" and "an empty string" or string.format("%q, only spaces", name)) .. ")")
  end
  -- Spaces at its ends (study " x ") named the store "_x_.db" and a study that differs from "x" by
  -- what no listing shows: refused, with the name trimmed as the fix.
  if name:find("^%s") or name:find("%s$") then
    local trimmed = name:match("^%s*(.-)%s*$")
    if not trimmed:find("%c") then
      checks.fail(where, string.format("study %q: a study's name has no spaces at its ends (they would name its store "
        .. "%s and set it apart from study %q by what no listing shows); write study %q", name,
        (name:gsub("[^%w%-_.]", "_")) .. ".db", trimmed, trimmed))
    end
  end
  -- The name heads the Markdown report and each study's lines in `scalelab results`: one line.
  if name:find("%c") then
    checks.fail(where, "study " .. (string.format("%q", name):gsub("\\\n", "\\n")) .. ": a study's name is one line "
      .. "without control characters (a line break, a tab): it heads the report and the study's runs in scalelab "
      .. "results; give one such as \"my-study\"")
  end
  -- Called through a C function, which keeps the caller's frame in a tail call (`return study "x" {
  -- ... }` ending a function): the checks name the line of the call and of the key at fault.
  return core.keep_caller(function(spec)
    return run_study(name, spec, checks.where(2) or where)
  end)
end

doc(M, [[Scaling studies: study "name" { sweep = sweep.isoflop{...}, backend = "cpu", fits = {...}, questions = {...} }.
A script that declares a study trains the runs its store lacks (resuming interrupted ones), fits the
laws, answers the questions and writes <store>.report.md and .report.json. help(study.study) lists
the keys; scalelab script.lua --dry-run prints the plan; scalelab results FILE.db lists the runs.]])

-- The public forms check their argument: anything but a declared Study, or a run with a positive
-- params, failed inside this file ("attempt to index a number value (local 's')").
M.plan_runs = function(s)
  if getmetatable(s) ~= Study then
    checks.error_at_user("study.plan_runs(s): s must be a declared Study (s = study \"name\" { ... }), got "
      .. checks.type_name(s))
  end
  return plan_runs(s)
end
M.Study = Study
M.pythia_lr = function(run)
  local ok, params = pcall(function() return run.params end)
  if not ok or type(params) ~= "number" or not (params > 0 and params < math.huge) then
    checks.error_at_user("study.pythia_lr(run): run.params must be a positive number of parameters (got "
      .. (ok and type(params) == "number" and tostring(params) or checks.type_name(ok and params or run))
      .. "), as in study.pythia_lr{ params = 124e6 }")
  end
  return pythia_lr(run)
end

doc(M.plan_runs, [[study.plan_runs(s) -> runs, duplicates, merges: turns a study's sweep into runs (shape, tokens rounded
to whole steps, epochs, hyperparameters, identity hash, label), as --dry-run prints them; s is a
declared Study (its runs are s.runs). Sweep points that give identical runs are merged and counted; so are
the runs of one IsoFLOP budget whose models came out nearly the same size (closer than a quarter of the
asked sizes' spacing in log), keeping the one the study's store holds done (else one stopped with a checkpoint
to resume, else the one nearer its asked N): merges lists them as { kept =, dropped =, because = }.]])
doc(M.pythia_lr, [[study.pythia_lr(run) -> lr: Pythia's learning rate for run.params total parameters: 1e-3 up to
70M, 6e-4 at 160M, 3e-4 at 410M, interpolated in log-log (the default hyper.lr rule)]])
doc(M.script_options, "study.script_options(arg) -> { dry_run =, jobs =, quiet = }: a study script's options; "
  .. "a bad one exits with status 2 and the usage (" .. M.usage .. ")")
doc(M.script_arguments, "study.script_arguments([help]) -> the script's own arguments, those after \"--\" "
  .. "(scalelab s.lua --jobs 2 -- 0.02 gives { \"0.02\" }); with help (a string), --help or -h before \"--\" prints "
  .. "it and exits 0 instead of the study's help (as scripts/approaches.lua and scripts/repetition.lua do)")
doc(M.exit_status, "study.exit_status() -> 0, or 3 where a study of this program run left a question unanswered or a "
  .. "fit not fitted, each such study said on stderr: the exit status the program takes after a script that ran to "
  .. "its end (the host calls it)")
doc(M.count_words, "study.count_words(count) -> what N counts in a study with params = count, in words")

doc(M.default_hyper, [[study.default_hyper: the hyperparameters of a study's runs where its hyper = and sweep
points give none (each a number or a function of the run): lr (Pythia's, study.pythia_lr), batch (16
sequences per step, fewer for short runs so that every run takes at least 50 steps), warmup (0.01 of
the steps), min_lr (0.1: the cosine ends at 0.1·lr), weight_decay (0.1), beta1 (0.9), beta2 (0.95),
clip (1.0).]])
doc(M.default_hyper.lr, "lr(run) -> Pythia's learning rate for run.params total parameters (study.pythia_lr)")
doc(M.default_hyper.batch, "batch(run) -> sequences per step: 16, fewer for short runs so that every run takes at least "
  .. "50 steps (run.tokens / (run.shape.ctx·50), at least 1)")
doc(M.study, [[study "name" { sweep = ..., model = ..., hyper = ..., backend = ..., store = ..., fits = ..., questions = ... }
Declares and runs a scaling study: trains the sweep's runs not yet in the store (resuming
interrupted ones), fits the laws asked for, answers the questions and writes the report beside the
store. Keys: description (Markdown text, under the report's title), data (what the runs train on: a Corpus, or
function(run) -> a data.sampler{...} of the run's tokens), model or models ({ aspect =, vocab =, ctx =, head_dim =,
shape = "chinchilla" | function(N) } | "chinchilla" | function(N) -> model.gpt{...}), params ("all",
the default: N counts every parameter, Chinchilla's count | "non_embedding": Kaplan's N), hyper (lr,
batch, warmup, min_lr, weight_decay, beta1, beta2, clip: numbers or functions of the run; help(study.default_hyper):
the defaults), sweep (the runs: sweep.isoflop{...}, sweep.grid{...}, sweep.data_constrained{...}, ...), backend ("simulated" | "cpu" | "cuda" | "auto" |
{ kind = "simulated", law = { E =, A =, B =, alpha =, beta = } or a Law (fit.published.chinchilla, a fitted
fit.chinchilla or fit.data_constrained law), noise = (default 0: the relative spread of each run's held-out loss,
e.g. 0.01) } | { kind = "law", law =, noise =, points = 20 } (each run's whole loss curve drawn from the law,
every point with its own noise) | { kind = "cpu", threads = 4 } (trainer options: threads, micro_batch, eps, checkpoint_interval) | function(run);
a table without kind simulates when it gives law or noise, else trains as "auto"), store (path, default "<name>.db"), fits
({"isoflop", "chinchilla", "approach1", "kaplan", "data_constrained"}, or { name = options }; each draws
bootstrap = 200 resamples for its intervals unless its options say otherwise, 0 for none; runs that differ
only in their trainer settings (a sweep of lr, batch, ...) are fitted by the lowest loss of each model and data,
which the report says, while s:observations() gives them all; e.g.
data_constrained = { base = "single_epoch" } fits the base law on the single-epoch runs without excess
parameters first (refused with fewer than 8), as Muennighoff et al. did, and its bootstrap refits
both steps on every run, each loss redrawn from the fit's residuals (tie = { "alpha", "beta" } ties
them in the base step, as their fit did); base = a law freezes that law; without base all seven
parameters are fitted;
a simulated law with R_D, R_N simulates the data-constrained law), questions ({ plan.optimal{ compute = 1e21 },
... }: plan's questions asked without law =, each answered with every law the study fits that can; or tables of
your own with an answer(question, law) method), jobs (how many runs train at once; --jobs N overrides it; default
one per core, one for simulated runs), executor ("local", the default: worker processes on this machine; or a
table whose execute(batch) method trains batch.runs elsewhere, such as on a cluster's scheduler: the interface is
described at the head of stdlib/scalelab/study/executor.lua), seed (the runs' seed, of their initialisation and
data order, default 1; a sweep point's seed, as sweep.seeds gives, overrides it), eval ({ interval = training tokens between evaluations, tokens = held-out tokens per evaluation: train.run's
eval_interval and eval_tokens, 0 for its defaults }), report (path; a folder, "out/", puts the report there under the store's name; or false: no report files or figures, though
the fits and answers are still made), checkpoints (folder), quiet (true: as --quiet, no progress lines and
no printed report), measured_speed (the training speed
the script measured on this machine, in hardware FLOP/s: trainer FLOPs a token, output logits included,
times tokens a second, over all the runs that train at once; the dry run times its runs by it instead
of the backend's assumed speed, unless the store has finished runs of the plan to time them by),
repeat_data (true: runs wanting more tokens than the corpus holds repeat it; otherwise that is an
error before training), point_keys (names of your own sweep-point values that your model or hyper
functions read; any other unknown key in a point is an error).
The backend defaults to "auto" (the trainer, on CUDA where present, else the CPU; it needs data);
"simulated" must be asked for. A run's identity names the device that trains it: "auto" finds the runs
stored under "cpu" on a machine without a GPU (and under "cuda" on one with it), and the reverse. After the report, runs that failed or did not finish are counted in the Study's failed; a
script that does not catch errors then ends with one (exit status 1), while the REPL or a pcall
gets the Study (its fits and answers) with failed > 0 and a line saying so. A question that no law
answers, or a fit named in fits that was not fitted (a default fit, with fits left out, counts only where
a question then goes unanswered), is in the Study's unanswered ({ question =, why = }) and unfitted
({ fit =, why = }), in the JSON report's unanswered and not_fitted, and a script that runs to its end
then exits with status 3, its last lines on stderr saying which and why (end the script with os.exit(0)
to accept it; a REPL session ends 0).
Script options: --dry-run (-n: print the plan, train nothing), --jobs N (-j N), --quiet, --help (-h);
anything else exits with status 2 and the usage; arguments after -- are the script's own.]])

-- Methods called through a C function, as the module's functions are (init.lua): an error of one
-- that ends a user's function (return s:observations()) names the user's line (checks.keep_callers).
checks.keep_callers(Study)

-- study "name" calls the module: through a C function too, which `return study(name)` ending a
-- user's function tail-calls without replacing the user's frame (checks.keep_callers).
return setmetatable(M, {
  __call = core.keep_caller(function(_, ...) return M.study(...) end),
})
