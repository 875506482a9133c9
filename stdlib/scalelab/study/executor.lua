-- The executor: trains a study's pending runs and records each in the results store.
--
-- A run is identified by the SHA-256 of its canonical configuration (study.lua). The store knows
-- which runs are done; a rerun of the script trains only the others, and a run that was in flight
-- when its process died resumes from its checkpoint (<store>.checkpoints/<hash>.ckpt).
--
-- The executor interface. An executor is a table with a method execute(batch), where batch is
--   batch.study      the study's name
--   batch.runs       the pending runs, in sweep order (each with .hash, .label, .flops, ...)
--   batch.jobs       how many runs may train at once
--   batch.command(run) -> { argv = {...}, env = {"K=V", ...}, log = path }: a process that trains
--                    the run and records it in the store (the study script in worker mode)
--   batch.run_here(run) -> outcome: trains the run in this process
--   batch.collect(run, exit_code, signal) -> outcome: reads the run's outcome from the store after
--                    its process ended (recording a failure if the process died without one)
--   batch.interrupted(run): records that the run's process was stopped with the sweep (Ctrl-C)
--   batch.failed(run, message): records that the run failed outside its backend (if still running)
--   batch.started(run, worker), batch.finished(run, outcome), batch.tick(): progress
-- and outcome = { status = "done" | "diverged" | "failed" | "interrupted", loss =, wall_seconds =, error = }.
-- executor.local_executor runs batch.command in worker processes on this machine (or batch.run_here
-- when jobs = 1). A distributed executor submits batch.command(run) to its scheduler and calls
-- batch.collect when the job ends; the store must then live on storage that every worker can write.
local native = require "scalelab.native.study"
local native_store = require "scalelab.native.store"
local core = require "scalelab.native.core"
local json = require "scalelab.study.json"
local Progress = require "scalelab.study.progress"
local backends = require "scalelab.study.backends"
local modules = require "scalelab.study.modules"

local executor = {}

-- ---- One run ----------------------------------------------------------------------------------------------

local function tail(path, lines)
  local file = path and io.open(path, "r")
  if not file then return "" end
  local all = {}
  for line in file:lines() do all[#all + 1] = line end
  file:close()
  local from = math.max(1, #all - (lines or 12) + 1)
  return table.concat(all, "\n", from)
end

local function checkpoint_path(s, run)
  return s.checkpoint_dir .. "/" .. run.hash .. ".ckpt"
end

local function exists(path)
  local file = io.open(path, "rb")
  if file then file:close() end
  return file ~= nil
end

-- The checkpoint an attempt at `run` resumes from. Its folder is named after the store (x.db keeps
-- x.checkpoints): a store moved or renamed since its run was stopped (mv x.db y.db) looked in
-- y.checkpoints, found nothing, and trained the run again from the start, the checkpoint its store
-- records left where it was. That one is moved into the store's folder now, its threads note with it,
-- and the study says so; where it cannot be moved (another file system), the run resumes from it
-- where it is. `recorded`: the run as the store has it (nil for a new run).
local function resumable_checkpoint(s, run, recorded)
  local path = checkpoint_path(s, run)
  local old = recorded and recorded.checkpoint
  if type(old) ~= "string" or old == "" or old == path or recorded.status == "done" or exists(path) or not exists(old) then
    return path
  end
  pcall(native.make_dirs, s.checkpoint_dir)
  local moved, why = os.rename(old, path)
  if moved then
    if exists(old .. ".threads") then os.rename(old .. ".threads", path .. ".threads") end
    -- The folder it came from, tidied once the runs' checkpoints have all moved (tidy_moved_folders).
    local folder = old:match("^(.*)/[^/]*$") or "."
    s.moved_from = s.moved_from or {}
    if not s.moved_from[folder] then
      s.moved_from[folder] = true
      s.moved_from[#s.moved_from + 1] = folder
    end
    io.stderr:write(string.format("study %s: run %s: its checkpoint %s, where the store recorded it (the store or its "
      .. "checkpoints folder was moved or renamed since), moves to %s, beside the store, and the run resumes from it\n",
      s.name, run.label, old, path))
    return path
  end
  io.stderr:write(string.format("study %s: run %s resumes from its checkpoint %s, where the store recorded it (the "
    .. "store or its checkpoints folder was moved or renamed since; moving it to %s failed: %s)\n", s.name, run.label,
    old, path, tostring(why)))
  return old
end

-- A store moved or renamed (mv a.db b.db) fetches its runs' checkpoints from the folder its old name
-- kept (resumable_checkpoint), which then held what else the study had written there: the logs of
-- earlier attempts (a failed run's, worth keeping) and, beside it, the old store's lock file, a lock of
-- a store no longer there. Each folder a checkpoint moved from gives up this study's run logs to the
-- store's folder (where the runs' next attempts append to them, as they would had the store not
-- moved); the folder goes when nothing is left in it; the lock file of its store (the folder
-- a.checkpoints: a.db.lock, a.sqlite.lock, ...) goes where that store is not there and no process
-- holds the lock. What was moved, removed and left is said on stderr.
local function tidy_moved_folders(s)
  local order = s.moved_from or {}
  s.moved_from = nil
  local ours = {}  -- the hashes of this study's runs, whose files (<hash>.log, <hash>.ckpt.threads, ...) move
  for _, run in ipairs(s.runs) do ours[run.hash] = true end
  for _, folder in ipairs(order) do
    local names = native.list_dir(folder)
    if names then
      local moved, kept, left, kinds, kind_seen = 0, {}, {}, {}, {}
      for _, name in ipairs(names) do
        if ours[name:match("^(%x+)%.") or ""] and not exists(s.checkpoint_dir .. "/" .. name) then
          pcall(native.make_dirs, s.checkpoint_dir)
          if os.rename(folder .. "/" .. name, s.checkpoint_dir .. "/" .. name) then
            moved = moved + 1
            local kind = name:match("^%x+(%..*)$")
            kind = kind == ".log" and "logs" or kind == ".ckpt.threads" and "thread notes" or kind
            if not kind_seen[kind] then kind_seen[kind], kinds[#kinds + 1] = true, kind end
          else
            kept[#kept + 1] = name
          end
        else
          left[#left + 1] = name
        end
      end
      for _, name in ipairs(kept) do left[#left + 1] = name end
      local said = {}
      if moved > 0 then
        table.sort(kinds)
        said[#said + 1] = string.format("%s of this study's runs (%s) moved to %s", core.format_counted(moved, "file"),
          table.concat(kinds, ", "), s.checkpoint_dir)
      end
      if #left == 0 and os.remove(folder) then
        said[#said + 1] = "the folder, left empty, removed"
      elseif #left > 0 then
        table.sort(left)
        local shown = table.concat(left, ", ", 1, math.min(#left, 4))
        said[#said + 1] = string.format("left there: %s%s", shown, #left > 4 and string.format(" and %d more", #left - 4) or "")
      end
      local base = folder:match("^(.*)%.checkpoints$")
      if base then
        for _, ext in ipairs { ".db", ".sqlite", ".sqlite3", "" } do
          local store_path, lock = base .. ext, base .. ext .. ".lock"
          if exists(lock) and not executor.path_exists(store_path) and not native.lock_held(lock) and os.remove(lock) then
            said[#said + 1] = string.format("the lock file %s, of the store %s no longer there, removed", lock, store_path)
          end
        end
      end
      if #said > 0 then
        io.stderr:write(string.format("study %s: %s, where the store kept its checkpoints before it was moved or "
          .. "renamed: %s\n", s.name, folder, table.concat(said, "; ")))
      end
    end
  end
end

-- Where the next attempt at a run to train starts, for the dry run (which moves nothing): nil where
-- it starts from nothing, else { path = the checkpoint it resumes from (as resumable_checkpoint finds
-- it: beside the store, else where the store recorded it), tokens = the tokens that holds trained,
-- unreadable = true where it cannot be resumed (backends.checkpoint_tokens) }; nil too where the
-- backend's checkpoints are its own (a function's). `record`: the run as the store has it.
function executor.resume_point(s, run, record)
  local path = checkpoint_path(s, run)
  if not exists(path) then
    local old = record and record.checkpoint
    if type(old) ~= "string" or old == "" or not exists(old) then return nil end
    path = old
  end
  local tokens, unreadable = backends.checkpoint_tokens(s.backend_identity, path, run)
  if not tokens and not unreadable then return nil end
  return { path = path, tokens = tokens, unreadable = unreadable }
end

-- Where a run an earlier attempt stopped (interrupted, or left running by a crash) has no checkpoint
-- to resume from, beside the store nor where the store recorded it: the path it was to be at (as the
-- store recorded it, else beside the store), for saying that the run trains again from the start
-- (a checkpoint removed since, or never written); nil where one is there, for another status, or for
-- a backend that does not train (its checkpoints, if any, are its own). `record`: the run as stored.
function executor.missing_checkpoint(s, run, record)
  local status = record and record.status
  if (status ~= "interrupted" and status ~= "running") or not backends.trains(s.backend_kind) then return nil end
  local path, old = checkpoint_path(s, run), record.checkpoint
  if type(old) ~= "string" or old == "" then old = nil end
  if exists(path) or (old and exists(old)) then return nil end
  return old or path
end

-- The threads an attempt at a run trains on: `threads`, except that an attempt resuming from a
-- checkpoint takes the count that checkpoint was made with, noted beside it (<checkpoint>.threads).
-- The CPU trainer's rounding depends on its thread count: resumed on other threads (the study run
-- again with another --jobs), a run would not continue as it would have uninterrupted. A simulated
-- run (backends.simulates) computes nothing on threads, and a note for it was a file written and
-- renamed a run for nothing (84 of scripts/approaches.lua's renames): note_it false writes none.
local function attempt_threads(checkpoint, threads, note_it)
  if threads == nil then return nil end
  local note = checkpoint .. ".threads"
  local resuming = io.open(checkpoint, "rb")
  if resuming then
    resuming:close()
    local file = io.open(note, "r")
    local noted = file and tonumber(file:read("l") or "")
    if file then file:close() end
    if math.type(noted) == "integer" and noted >= 1 then return noted end
  end
  -- Best effort: where the note cannot be written, the trainer says what is wrong with the folder.
  if note_it then pcall(native.write_file, note, string.format("%d\n", threads)) end
  return threads
end

-- The sampler a trainer reads for `run`, from the study's data.
local function sampler_for(s)
  return function(run)
    local spec = s.spec.data
    if type(spec) == "function" then return spec(run) end
    local data = rawget(_G, "data")
    -- U as the run asked for it (its identity; the sampler cuts it into whole sequences itself, and a
    -- checkpoint's sampler state is of that U), in whole tokens: a sweep's U (sweep.log) is often fractional.
    local asked = run.unique_tokens_asked or run.unique_tokens
    local U = asked and math.max(1, math.floor(asked + 0.5)) or run.tokens
    local options = { unique_tokens = U, tokens = run.tokens, seq_len = run.shape.ctx,
                      batch = run.batch, seed = run.seed }
    if spec ~= nil and data and type(data.sampler) == "function" then
      options.corpus = spec
      return data.sampler(options)
    end
    if spec == nil then
      error("study " .. s.name .. ": backend " .. s.backend_kind .. " trains on data: give the study a data = "
        .. "corpus (data.corpus \"gcide\", data.synthetic{...}) or a function(run) returning a sampler", 0)
    end
    error("study " .. s.name .. ": cannot make a sampler from data = " .. tostring(spec)
      .. " (the data module is not available); give data = function(run) returning a sampler", 0)
  end
end

local function number_metrics(t)
  local out = {}
  for k, v in pairs(t or {}) do
    if type(k) == "string" and (type(v) == "number" or type(v) == "string" or type(v) == "boolean") then out[k] = v end
  end
  return out
end

-- The curve of a backend's result as the store records it: each point's optimizer step from its
-- tokens and the run's tokens per step (batch sequences of shape.ctx tokens); seconds and lr where
-- the backend reports them (train.run reports neither). A backend's own step is kept only where
-- the run's step size is unknown; the position of a point in the list is never taken for a step.
-- The store keeps one point a step: points that fall on one step (reported between optimizer steps,
-- or the training and held-out losses reported apart) are merged into one, the later point's values
-- over the earlier's. Second: how many points were merged so.
function executor.curve_points(run, curve)
  if type(curve) ~= "table" then return nil, 0 end
  local per_step = run.batch and run.shape and run.shape.ctx and run.batch * run.shape.ctx
  local out, at, merged = {}, {}, 0
  for _, p in ipairs(curve) do
    local step = p.step
    if per_step and type(p.tokens) == "number" then step = math.floor(p.tokens / per_step + 0.5) end
    local point = { step = step, tokens = p.tokens, train_loss = p.train_loss, eval_loss = p.eval_loss,
                    seconds = p.seconds, lr = p.lr }
    local earlier = type(step) == "number" and at[step]
    if earlier then
      for k, v in pairs(point) do earlier[k] = v end
      merged = merged + 1
    else
      out[#out + 1] = point
      if type(step) == "number" then at[step] = point end
    end
  end
  return out, merged
end

-- Trains `run` here and records it. Returns the outcome. An interruption (Ctrl-C) is recorded and
-- raised again so that the sweep stops.
function executor.train_one(s, store, run, options)
  options = options or {}
  -- The time of the attempts before this one, which it resumes from their checkpoint: a run's wall
  -- time (and the speed the dry run estimates from it) is that of all the attempts that trained it.
  local before = store:run(s.name, run.hash)
  run.checkpoint = resumable_checkpoint(s, run, before)
  local earlier = before and (before.status == "interrupted" or before.status == "failed")
    and tonumber(before.wall_seconds) or 0
  if not store:start_run { study = s.name, hash = run.hash, worker = options.worker or ("pid " .. native.getpid()),
                           checkpoint = run.checkpoint, script_hash = s.script_hash or "" } then
    local stored = store:run(s.name, run.hash)
    return { status = stored.status, loss = stored.loss, wall_seconds = stored.wall_seconds, skipped = true }
  end
  run.threads = attempt_threads(run.checkpoint, options.threads, not backends.simulates(s.backend_kind))
  run.on_progress = options.on_progress
  local start = native.clock()
  local function attempt()
    return xpcall(s.backend_run, function(m)
      m = tostring(m)
      if m:find("interrupted") then return m end
      return debug.traceback(m, 2)
    end, run, { sampler = sampler_for(s), study = s })
  end
  local ok, result = attempt()
  -- A checkpoint that a crash of the machine left short (written, renamed, not yet on disk) cannot
  -- be resumed, and would fail the run at every rerun: it is the study's own file, so the run starts
  -- over, and the file is kept beside, renamed, rather than deleted.
  local discarded
  if not ok and tostring(result):find("checkpoint " .. run.checkpoint .. " is truncated or corrupted", 1, true) then
    discarded = run.checkpoint .. ".corrupt"
    local moved, why = os.rename(run.checkpoint, discarded)
    if moved then
      io.stderr:write(string.format("study %s: run %s: its checkpoint %s could not be read (truncated or corrupted); "
        .. "it is kept as %s, and the run trains again from the start\n", s.name, run.label, run.checkpoint, discarded))
      io.stderr:flush()
      run.threads = attempt_threads(run.checkpoint, options.threads, not backends.simulates(s.backend_kind))
      ok, result = attempt()
    else
      result = tostring(result) .. "\n(moving it aside failed: " .. tostring(why) .. ")"
      discarded = nil
    end
  end
  run.on_progress = nil
  local attempt = native.clock() - start
  -- A trainer's result says the whole run's time over all its sessions; another backend's resumed
  -- run adds the earlier attempts'; an attempt that started over (no checkpoint) is the run's only
  -- time. An attempt that fails or is interrupted records the time so far, for the next to add to.
  local wall = attempt + (ok and 0 or earlier)
  if ok and type(result) == "table" then
    local whole = type(result.metrics) == "table" and tonumber(result.metrics.wall_seconds)
    if whole then
      wall = math.max(attempt, whole)
    elseif result.resumed_from ~= nil then
      wall = attempt + earlier
    end
  end
  if not ok then
    local message = tostring(result)
    local status = message:find("interrupted") and "interrupted" or "failed"
    store:finish_run { study = s.name, hash = run.hash, status = status, error = message, wall_seconds = wall,
                       script_hash = s.script_hash }
    if status == "interrupted" then error(message, 0) end
    return { status = status, error = message:match("^[^\n]*"), wall_seconds = wall }
  end
  if type(result) ~= "table" or type(result.loss) ~= "number" then
    local message = "the backend returned no final loss (got " .. (type(result) == "table" and "a table without .loss" or type(result)) .. ")"
    store:finish_run { study = s.name, hash = run.hash, status = "failed", error = message, wall_seconds = wall,
                       script_hash = s.script_hash }
    return { status = "failed", error = message, wall_seconds = wall }
  end
  local status = result.status or "done"
  if status ~= "done" and status ~= "diverged" and status ~= "failed" and status ~= "interrupted" then status = "done" end
  if result.loss ~= result.loss or result.loss == math.huge then status = "diverged" end
  local metrics = number_metrics(result.metrics)
  metrics.flops_kaplan = run.flops_kaplan
  metrics.checkpoint_discarded = discarded
  if result.resumed_from then metrics.resumed_from = result.resumed_from end
  if backends.simulates(s.backend_kind) then
    -- A drawn loss measures no training speed: the trainer's simulation said 0 tokens/s, and the
    -- tokens over the draw's milliseconds made ~1e11 (s.runs[i].metrics, store:runs(); the exports
    -- left both empty already).
    metrics.tokens_per_second, metrics.flops_per_second = nil, nil
  elseif wall > 0 and not metrics.tokens_per_second then
    metrics.tokens_per_second = run.tokens / wall
  end
  -- A diverged run has no final loss to fit or export (the backend may report its last finite one).
  local loss = result.loss
  if status == "diverged" then loss = nil end
  local curve, merged = executor.curve_points(run, result.curve)
  if merged > 0 then
    -- Said in the run's metrics (a worker's own output goes to its log, removed with the run done) and here.
    metrics.curve_points_merged = merged
    io.stderr:write(string.format("study %s: run %s: its backend reported %d curve points on %d optimizer steps%s; the "
      .. "store keeps one point a step, so the %d points that fell on a step already were merged into it (the later "
      .. "point's values over the earlier's; curve_points_merged in the exports)\n", s.name, tostring(run.label),
      #curve + merged, #curve, run.batch and run.shape and run.shape.ctx
        and string.format(" (%d tokens a step)", run.batch * run.shape.ctx) or "", merged))
    io.stderr:flush()
  end
  store:finish_run { study = s.name, hash = run.hash, status = status, loss = loss, wall_seconds = wall,
                     metrics = metrics, curve = curve, script_hash = s.script_hash,
                     error = status == "diverged" and "the loss diverged (NaN or Inf)" or nil }
  if status == "done" or status == "diverged" then
    os.remove(run.checkpoint)
    os.remove(run.checkpoint .. ".threads")
  end
  if status == "interrupted" then error("interrupted", 0) end
  return { status = status, loss = loss, wall_seconds = wall }
end

-- The study's runs to train (on its corpus) whose evaluations ask for more than the held-out split
-- holds (the default 16 batches, or their eval_tokens) read the whole split once, each sequence
-- weighted equally: train.run says so in each run's note, which only a worker's log (deleted when
-- the run is done) would show. The study says it once, before they train, for all of them: every
-- split size (by ctx) and batch or eval_tokens among them. nil when no run to train does. A run that
-- resumes a checkpoint of an earlier scalelab whose evaluations went round the split goes on measuring
-- so (train.run keeps a run's curve measured alike): the note says which, rather than that it reads
-- the split once.
local function resumes_going_round(s, run, windows)
  local train = rawget(_G, "train")
  if not (train and type(train.checkpoint_held_out) == "function") then return false end
  local ok, measure = pcall(train.checkpoint_held_out, checkpoint_path(s, run))
  if not ok or measure == nil then return false end
  if measure == false then return true end  -- a version that recorded no measure: it went round
  local batches, rows = measure:match("^(%d+) x (%d+) x %d+$")
  return batches ~= nil and tonumber(batches) * tonumber(rows) > windows
end

function executor.held_out_note(s, pending)
  local data = rawget(_G, "data")
  local spec = s.spec.data
  if s.backend_kind ~= "cpu" and s.backend_kind ~= "cuda" and s.backend_kind ~= "auto" then return nil end
  if spec == nil or type(spec) == "function" or not (data and type(data.held_out) == "function") then return nil end
  local windows, splits, count = {}, {}, 0
  local round = {}  -- the runs that resume an earlier version's checkpoint going round the split
  local batches, tokens = {}, {}  -- the ranges of the runs' batches (default evaluation) and eval_tokens
  local function widen(range, v)
    range.low, range.high = math.min(range.low or v, v), math.max(range.high or v, v)
  end
  for _, run in ipairs(pending) do
    local ctx = run.shape.ctx
    if windows[ctx] == nil then
      local ok, held = pcall(data.held_out, { corpus = spec, seq_len = ctx, batch = 1 })
      windows[ctx] = ok and held.windows or false
    end
    local w, asked = windows[ctx], run.eval_tokens or 0
    local small = w and ((asked == 0 and w < 16 * run.batch) or asked > w * ctx)
    if small and resumes_going_round(s, run, w) then
      round[#round + 1] = run
      splits[ctx] = w
    elseif small then
      count, splits[ctx] = count + 1, w
    end
    if small and asked == 0 then widen(batches, run.batch) elseif small then widen(tokens, asked) end
  end
  if count == 0 and #round == 0 then return nil end
  local ctxs = {}
  for ctx in pairs(splits) do ctxs[#ctxs + 1] = ctx end
  table.sort(ctxs)
  local sizes = {}
  for i, ctx in ipairs(ctxs) do
    sizes[i] = string.format(i == 1 and "%d sequences of %d tokens" or "%d of %d", splits[ctx], ctx)
  end
  local held = #sizes == 1 and sizes[1] or table.concat(sizes, ", ", 1, #sizes - 1) .. " and " .. sizes[#sizes]
  local function range(r)
    return r.low == r.high and string.format("%d", r.low) or string.format("%d to %d", r.low, r.high)
  end
  local asked = {}
  if batches.low then
    asked[#asked + 1] = #ctxs == 1 and string.format("the default evaluation's 16 batches of %s × %d", range(batches), ctxs[1])
      or string.format("the default evaluation's 16 batches of %s sequences", range(batches))
  end
  if tokens.low then
    asked[#asked + 1] = (tokens.low == tokens.high and "eval_tokens = " or "eval_tokens of ") .. range(tokens)
  end
  local all = #pending == #s.runs
  local said = {}
  if count > 0 then
    local who
    if count == #pending then
      who = all and (count == 1 and "the run" or "all " .. count .. " runs")
        or (count == 1 and "the run to train" or "the " .. count .. " runs to train")
    else
      who = string.format("%d of the %d runs%s", count, #pending, all and "" or " to train")
    end
    said[#said + 1] = string.format("%s evaluate%s every held-out sequence once, each weighted equally", who,
      count == 1 and "s" or "")
  end
  if #round > 0 then
    local ordinals = {}
    for i, run in ipairs(round) do ordinals[i] = tostring(run.ordinal or "?") end
    local which = #ordinals == 1 and ordinals[1]
      or table.concat(ordinals, ", ", 1, #ordinals - 1) .. " and " .. ordinals[#ordinals]
    said[#said + 1] = string.format("run%s %s resume%s a checkpoint of an earlier scalelab whose evaluations went round "
      .. "the split rather than reading it once, and go%s on measuring so, for a curve measured "
      .. "alike (remove %s in %s to train %s again reading it once)", #round == 1 and "" or "s", which,
      #round == 1 and "s" or "", #round == 1 and "es" or "", #round == 1 and "its checkpoint" or "their checkpoints",
      s.checkpoint_dir, #round == 1 and "it" or "them")
  end
  return string.format("the held-out split holds %s, fewer than %s: %s; give the study a larger corpus for a larger "
    .. "measure", held, table.concat(asked, " or "), table.concat(said, ", but "))
end

-- Worker mode: the study script was started by the local executor to train run `hash`.
function executor.work(s, hash)
  -- A worker whose executor has died (killed, crashed) stops at once, so that a rerun never finds
  -- an orphan still training the run it is about to resume.
  native.watch_lifeline()
  -- Ctrl-C at the terminal reaches the worker and its executor, which then passes it on: the worker
  -- stops at the first, writing its checkpoint, and a second must not kill it while it does.
  native.take_one_interrupt()
  local run
  for _, r in ipairs(s.runs) do
    if r.hash == hash or r.legacy_hash == hash then run, r.hash = r, hash end
  end
  if not run then
    io.stderr:write("scalelab worker: study ", s.name, " has no run ", hash, " (was the script edited?)\n")
    return 2
  end
  local store = native_store.open(s.store_path, { create = false })
  s.script_hash = s.script_text and native_store.sha256(s.script_text) or ""
  local threads = tonumber(os.getenv("SCALELAB_STUDY_THREADS") or "")
  print(string.format("scalelab worker %d: study %s run %d %s", native.getpid(), s.name, run.ordinal, run.label))
  local outcome = executor.train_one(s, store, run, { threads = threads, worker = "pid " .. native.getpid(),
    on_progress = function(fraction, loss)
      print(string.format("progress %.4f loss %.6g", fraction, loss or 0 / 0))
      io.stdout:flush()
    end })
  store:close()
  -- With its error: the log said only "failed", the why in the store alone, where a reader of the log
  -- (the study names it for a worker that died) looked for it.
  print(string.format("scalelab worker %d: %s%s", native.getpid(), outcome.status,
    outcome.error and outcome.status ~= "done" and (": " .. tostring(outcome.error)) or ""))
  return (outcome.status == "done" or outcome.status == "diverged") and 0 or 1
end

-- ---- The local executor --------------------------------------------------------------------------------------

executor.local_executor = { name = "local" }

function executor.local_executor:execute(batch)
  if batch.jobs <= 1 then
    for _, run in ipairs(batch.runs) do
      local ok, message = pcall(function()
        batch.started(run, nil)
        batch.finished(run, batch.run_here(run))
      end)
      if not ok then
        -- Ctrl-C between the run's start and its backend call, or while its progress is drawn: the run
        -- is recorded as interrupted, not left "running"; any other error there, as failed.
        if tostring(message):find("interrupted!?$") then
          if batch.interrupted then batch.interrupted(run) end
        elseif batch.failed then
          batch.failed(run, tostring(message))
        end
        error(message, 0)
      end
    end
    return
  end
  local queue = {}
  for i, run in ipairs(batch.runs) do queue[i] = run end
  local active, count = {}, 0
  local last_tick = 0
  local ok, message = pcall(function()
    while #queue > 0 or count > 0 do
      while count < batch.jobs and #queue > 0 do
        local run = table.remove(queue, 1)
        local command = batch.command(run)
        local pid = native.spawn { argv = command.argv, env = command.env, log = command.log }
        active[pid] = run
        count = count + 1
        batch.started(run, "pid " .. pid)
      end
      local pid, code, signal = native.wait(false)
      if pid and active[pid] then
        local run = active[pid]
        active[pid] = nil
        count = count - 1
        batch.finished(run, batch.collect(run, code, signal))
      else
        native.sleep(0.02)
        if native.clock() - last_tick > 0.25 then
          last_tick = native.clock()
          batch.tick(active)
        end
      end
    end
  end)
  if not ok then
    -- Interrupted (Ctrl-C) or failed: stop the workers with SIGINT, as Ctrl-C stops a run, so that
    -- each writes its checkpoint where it stopped and records its run interrupted (a worker takes
    -- one SIGINT: the terminal's Ctrl-C may have reached it already). One that has not ended after a
    -- minute is killed; its run resumes from its last checkpoint. A second Ctrl-C meanwhile kills
    -- this executor, and the workers with it (their lifeline).
    for pid in pairs(active) do native.kill(pid, 2) end
    local deadline, killed = native.clock() + 60, false
    while next(active) do
      local pid = native.wait(false)
      if pid and active[pid] then
        if batch.interrupted then batch.interrupted(active[pid]) end
        active[pid] = nil
      elseif native.clock() > deadline and not killed then
        for worker in pairs(active) do native.kill(worker, 9) end
        killed = true
      elseif not pid then
        native.sleep(0.02)
      end
    end
    error(message, 0)
  end
end

-- ---- Executing a study -----------------------------------------------------------------------------------------

-- A store written by a scalelab that identified a run on backend "auto" by that name (not by the
-- device that trains it) holds the run under its old hash (run.legacy_hash): each planned run that
-- the store has not under its own hash (or only planned there) but has under its old one, trained
-- on the device this run trains on (backends.legacy_matches), takes that hash, so that it is found
-- (kept, or resumed from its checkpoint, which is named after the hash) instead of trained again.
-- `records`: the study's stored runs, a list or a table by hash.
-- The runs `store` holds of study `name` (those of `status` only, when given); none when the store has
-- not recorded the study yet (a new store, another study's shared one, a read-only one): s:runs refuses
-- a study the store lacks, so that a mistyped name is not read as "no runs".
function executor.stored_runs(store, name, status)
  if not pcall(store.check_study, store, name) then return {} end
  return store:runs { study = name, status = status }
end

function executor.adopt_legacy(s, records)
  local stored = {}
  for key, r in pairs(records) do stored[type(key) == "string" and key or r.hash] = r end
  local device = backends.trains(s.backend_kind) and s.backend_identity.kind
  if not device then return end
  for _, run in ipairs(s.runs) do
    local old = run.legacy_hash and run.hash ~= run.legacy_hash and stored[run.legacy_hash]
    local new = stored[run.hash]
    if old and (new == nil or new.status == "planned") and backends.legacy_matches(old, device) then
      run.hash = run.legacy_hash
    end
  end
end

-- Sets each planned run's status and results as `store` has them; returns the stored runs by hash.
local function merge_stored(s, store)
  local stored = {}
  for _, r in ipairs(executor.stored_runs(store, s.name)) do stored[r.hash] = r end
  executor.adopt_legacy(s, stored)
  for _, run in ipairs(s.runs) do
    local r = stored[run.hash]
    if r then
      run.status, run.loss, run.wall_seconds, run.attempts = r.status, r.loss, r.wall_seconds, r.attempts
      run.metrics, run.error, run.finished_at = r.metrics, r.error, r.finished_at
      run.scalelab_version = r.scalelab_version ~= "" and r.scalelab_version or nil
    end
  end
  return stored
end
executor.merge_stored = merge_stored

-- `path` as one word of a shell command the study suggests (scalelab results x.db, cp x.db DIR/): as it
-- is where a shell reads it so, else in single quotes ("cp my runs.db DIR/" copied two files), and
-- from ./ where it begins with a dash (which a command takes for an option).
local function shell_word(path)
  if path:sub(1, 1) == "-" then path = "./" .. path end
  if path:match("^[%w%%+,./:=@_-]+$") then return path end
  return "'" .. path:gsub("'", "'\\''") .. "'"
end

-- A run's configuration (run.config: its identity) as the store keeps it, one level of values
-- under keys joined by "_" (model_d_model, backend_kind); with the target N (N_target).
function executor.flat_config(run)
  local values = {}
  local function flat(prefix, value)
    if type(value) == "table" then
      for k, v in pairs(value) do flat(prefix == "" and tostring(k) or prefix .. "_" .. tostring(k), v) end
    elseif type(value) == "number" or type(value) == "string" or type(value) == "boolean" then
      values[prefix] = value
    end
  end
  flat("", run.config)
  values.N_target = run.N
  return values
end

-- How the dry run's table says each quantity of a run's configuration (flat, as flat_config keys it):
-- counts as its D and U columns do, ratios as its epochs column, budgets as run labels give C.
local COUNTS = { tokens = true, unique_tokens = true, N_target = true, eval_tokens = true }
local RATIOS = { min_lr_ratio = true }
local FLOPS = { budget = true }

-- A number with the fewest significant digits that read back as exactly it, in the one number form
-- (3e-4, 0.003, 1.00045e6): a value that tells a run from another (lr 0.003 from 0.0030001) in full.
local function exact_number(v)
  if math.type(v) == "integer" then return tostring(v) end
  if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
  for digits = 1, 17 do
    local text = core.format_number(v, digits)
    if tonumber(text) == v then return text end
  end
  return core.format_number(v, 17)
end

-- The parts of the configuration in which the stored runs `records` (the store's, with their flat
-- config) differ from every run the study plans now: "lr (stored 0.01; planned now 0.003)", joined,
-- for each key none of whose stored values a planned run has; nil where none is such (the sweep's
-- points changed, each part alone a value some planned run has). Values compare exactly (a number as
-- the store gives it back, a float, is the planned integer it equals); each is said as the dry run's
-- table says its quantity ("tokens (stored 300k; planned now 100k, 1M)"), or, where two of a key's
-- values would then read alike, with the digits that tell them apart.
local function changed_parts(s, records)
  -- A value's identity, by which the sides compare (nil and NaN, which key no table, as tokens).
  local NONE, NAN = {}, {}
  local function identity(v)
    if v == nil or v == NONE then return NONE end
    if v ~= v then return NAN end
    return v
  end
  local function text(key, v, exact)
    if v == nil or v == NONE then return "none" end
    if v == NAN then return "nan" end
    if type(v) == "number" then
      if exact or v ~= v or v == math.huge or v == -math.huge then return exact_number(v) end
      if COUNTS[key] then return core.format_count(v) end
      if RATIOS[key] then return core.format_ratio(v) end
      if FLOPS[key] then return core.format_flops(v) end
      return exact_number(v)
    end
    v = tostring(v)
    return string.format("%q", #v > 60 and v:sub(1, 57) .. "..." or v)
  end
  -- Each side's values of each key (their identities), in order (list: numbers from the least, then
  -- strings and others by their text, then none and NaN; the stored runs come in no order), and as a
  -- set (has).
  local function rank(id)
    if id == NONE or id == NAN then return 3 end
    return type(id) == "number" and 1 or 2
  end
  local function before(a, b)
    if rank(a) ~= rank(b) then return rank(a) < rank(b) end
    if rank(a) == 1 then return a < b end
    return tostring(a) < tostring(b)
  end
  local function values_of(configs, keys)
    local sets = {}
    for key in pairs(keys) do
      local set = { list = {}, has = {} }
      for _, c in ipairs(configs) do
        local id = identity(c[key])
        if not set.has[id] then set.has[id], set.list[#set.list + 1] = true, id end
      end
      table.sort(set.list, before)
      sets[key] = set
    end
    return sets
  end
  local planned_configs, stored_configs, keys = {}, {}, {}
  for _, run in ipairs(s.runs) do planned_configs[#planned_configs + 1] = executor.flat_config(run) end
  for _, r in ipairs(records) do stored_configs[#stored_configs + 1] = type(r.config) == "table" and r.config or {} end
  for _, configs in ipairs { planned_configs, stored_configs } do
    for _, c in ipairs(configs) do
      for key in pairs(c) do keys[key] = true end
    end
  end
  local planned, stored = values_of(planned_configs, keys), values_of(stored_configs, keys)
  local names = {}
  for key in pairs(keys) do names[#names + 1] = key end
  table.sort(names)
  local parts = {}
  for _, key in ipairs(names) do
    local common = false
    for _, id in ipairs(stored[key].list) do common = common or planned[key].has[id] == true end
    if not common then
      -- Said as the dry run says them, unless two of the values then read alike (tokens 300032 and
      -- 300064, both "300k"): then each with the digits that tell it from the others.
      local exact, seen = false, {}
      for _, set in ipairs { stored[key], planned[key] } do
        for _, id in ipairs(set.list) do
          local t = text(key, id)
          exact = exact or (seen[t] ~= nil and seen[t] ~= id)
          seen[t] = id
        end
      end
      local function some(set)
        local shown = {}
        for i = 1, math.min(3, #set.list) do shown[i] = text(key, set.list[i], exact) end
        return table.concat(shown, ", ") .. (#set.list > 3 and ", ..." or "")
      end
      parts[#parts + 1] = string.format("%s (stored %s; planned now %s)", key, some(stored[key]), some(planned[key]))
    end
  end
  if #parts == 0 then return nil end
  -- A study that plans wholly other runs under the same name differs in most parts: the first four say it.
  local shown = table.concat(parts, "; ", 1, math.min(4, #parts))
  return #parts > 4 and string.format("%s; and %s", shown, core.format_counted(#parts - 4, "more part")) or shown
end

-- A sentence about the study's runs in the store that its sweep no longer plans (an earlier version
-- of the script planned them), or nil when there are none. `stored` holds the stored runs by hash
-- (records with their config; or any value: the parts that changed are then not said). In a dry run
-- (dry_run true) the study has not recorded this plan, which scalelab results marks by.
function executor.unplanned_note(s, stored, dry_run)
  local planned = {}
  for _, run in ipairs(s.runs) do planned[run.hash] = true end
  local others, records = 0, {}
  for hash, r in pairs(stored) do
    if not planned[hash] then
      others = others + 1
      if type(r) == "table" then records[#records + 1] = r end
    end
  end
  if others == 0 then return nil end
  local changed = #records == others and changed_parts(s, records)
  -- Stored by this very script (its text unchanged), they were planned by it run with other
  -- arguments or environment (scripts/repetition.lua -- noise=0.05): "an earlier version of the
  -- script" misled there, the script never having changed.
  local current = type(s.script_text) == "string" and native_store.sha256(s.script_text)
  local same_script = current and #records == others
  for _, r in ipairs(records) do same_script = same_script and r.script_hash == current end
  local who = same_script and "this script, run with other arguments or environment, planned" or
    "an earlier version of the script planned"
  return string.format("%s of this study in %s %s not in this sweep: " .. who .. " %s %s. "
    .. "%s kept there, left out of this study's fits and report (scalelab results %s marks %s with a -%s)",
    core.format_counted(others, "run"), s.store_path, others == 1 and "is" or "are",
    others == 1 and "it" or "them",
    changed and string.format("(%s from every run planned now in %s)", others == 1 and "it differs" or "they differ",
      changed)
      or "(a sweep point, the seed, the model, the data, the backend or a hyperparameter differs)",
    others == 1 and "It is" or "They are", shell_word(s.store_path), others == 1 and "it" or "them",
    dry_run and " once the study has run" or "")
end

-- A sentence about the planned runs that this study has not finished but that its store holds finished
-- under another study's name (the same configuration: the study renamed, or another study that shares
-- the store and these points), or nil when there are none. A store keeps runs by study, so they train
-- again for this one: said before they do, with how to reuse them. `store` is the open store.
function executor.renamed_note(s, store)
  local mine, planned = {}, {}
  for _, run in ipairs(s.runs) do planned[run.hash] = true end
  local others, names, count = {}, {}, 0
  for _, r in ipairs(store:runs {}) do
    if r.study == s.name then
      if r.status == "done" or r.status == "diverged" then mine[r.hash] = true end
    elseif planned[r.hash] and (r.status == "done" or r.status == "diverged") then
      others[r.study] = others[r.study] or {}
      others[r.study][r.hash] = true
    end
  end
  local counted = {}
  for name, hashes in pairs(others) do
    local n = 0
    for hash in pairs(hashes) do
      if not mine[hash] then
        n = n + 1
        if not counted[hash] then counted[hash], count = true, count + 1 end
      end
    end
    if n > 0 then names[#names + 1] = { name = name, n = n } end
  end
  if count == 0 then return nil end
  table.sort(names, function(a, b) if a.n ~= b.n then return a.n > b.n end return a.name < b.name end)
  local listed = {}
  for i, e in ipairs(names) do listed[i] = string.format("%q (%d)", e.name, e.n) end
  local under = #listed == 1 and string.format("study %q", names[1].name)
    or "studies " .. table.concat(listed, ", ")
  return string.format("%d of this study's %s %s stored finished in %s under %s, with the same configuration, but "
    .. "a store keeps runs by study name, so %s again for this study; if it is %s renamed, give it %s again (study "
    .. "%q { ... }) to reuse them", count, core.format_counted(#s.runs, "run"), count == 1 and "is" or "are",
    s.store_path, under, count == 1 and "it trains" or "they train",
    #listed == 1 and string.format("%q", names[1].name) or "one of these", #listed == 1 and "that name" or "its old name",
    names[1].name)
end

-- A study's default store is named after the study (<name>.db): renamed in its script, a study starts
-- a store of its own and finds nothing of what it did under its old name, in the old store beside
-- the new one. A sentence naming the store beside this one (in its folder) that holds the most of
-- this plan's runs finished, under which study, and how to reuse them; nil when none does. Said
-- only of a study on its default store that has no finished run there (it starts from nothing):
-- `mine` holds the hashes of its finished runs in its store. Each store is opened read-only.
function executor.neighbour_store_note(s, mine)
  if s.spec.store ~= nil or next(mine) then return nil end
  local prefix = s.store_path:match("^(.*/)") or ""
  local names = native.list_dir(prefix == "" and "." or prefix)
  if not names then return nil end
  local planned = {}
  for _, run in ipairs(s.runs) do planned[run.hash] = true end
  local own, best = s.store_path:sub(#prefix + 1), nil
  for _, name in ipairs(names) do
    local ok, store = false, nil
    if name ~= own and name:match(".%.db$") then ok, store = pcall(native_store.open, prefix .. name, { read_only = true }) end
    if ok then
      local by_study = {}
      local listed, runs = pcall(store.runs, store, {})
      for _, r in ipairs(listed and runs or {}) do
        if planned[r.hash] and (r.status == "done" or r.status == "diverged") then
          by_study[r.study] = (by_study[r.study] or 0) + 1
        end
      end
      store:close()
      for study, n in pairs(by_study) do
        if not best or n > best.n or (n == best.n and (name .. "\n" .. study) < (best.path .. "\n" .. best.study)) then
          best = { path = prefix .. name, study = study, n = n }
        end
      end
    end
  end
  if not best then return nil end
  local default = best.path == prefix .. best.study:gsub("[^%w%-_.]", "_") .. ".db"
  return string.format("%d of this study's %s %s stored finished in %s, beside its store %s, under study %q, with "
    .. "the same configuration; a study's default store is named after the study, so if this one is %q renamed, %s "
    .. "to reuse them; under this name they %s again in %s", best.n, core.format_counted(#s.runs, "run"),
    best.n == 1 and "is" or "are", best.path, s.store_path, best.study, best.study,
    default and string.format("give it that name again (study %q { ... }, whose store is %s)", best.study, best.path)
      or string.format("give it that name and that store again (study %q { store = %q, ... })", best.study, best.path),
    backends.simulates(s.backend_kind) and "are simulated" or "train", s.store_path)
end

-- A sentence about the finished runs that the study reuses from its store although another scalelab
-- version made them, or nil when there are none. A run's identity leaves the version out, so that an
-- upgrade does not train a whole store again: the runs are kept as they are, and the study says so.
-- (The device is in the identity: backend "auto" names the one it trains on, backends.resolve.)
-- `stored` holds the stored runs by hash.
function executor.provenance_note(s, stored)
  local versions, older, reused = {}, 0, 0
  for _, run in ipairs(s.runs) do
    local r = stored[run.hash]
    if r and (r.status == "done" or r.status == "diverged") then
      reused = reused + 1
      local v = r.scalelab_version
      if type(v) == "string" and v ~= "" and v ~= core.version then
        older, versions[v] = older + 1, (versions[v] or 0) + 1
      end
    end
  end
  if older == 0 then return nil end
  local names = {}
  for name in pairs(versions) do names[#names + 1] = name end
  table.sort(names)
  for i, name in ipairs(names) do names[i] = string.format("%s (%d)", name, versions[name]) end
  local base = s.store_path:gsub("%.db$", "")
  return string.format("of the %s reused from %s, %d %s made by scalelab %s, not by this scalelab %s: their results "
    .. "are kept, though this trainer may give other losses (a run's identity leaves out the version, so that an "
    .. "upgrade does not train a store again); to train them here, give the study a new store (store = \"%s-%s.db\")",
    core.format_counted(reused, "finished run"), s.store_path, older, older == 1 and "was" or "were",
    table.concat(names, ", "), core.version, base, core.version)
end

-- Reads the progress line a worker last wrote to its log.
local function worker_progress(path)
  local file = path and io.open(path, "r")
  if not file then return nil end
  local size = file:seek("end")
  file:seek("set", math.max(0, size - 256))
  local text = file:read("a") or ""
  file:close()
  local fraction, loss
  for f, l in text:gmatch("progress ([%d.]+) loss ([%w.%-+]+)") do fraction, loss = tonumber(f), tonumber(l) end
  return fraction, loss
end

-- How many of the study's runs train at once: `asked` (--jobs, the study's jobs =) or, by default,
-- one per core for training runs and one in all for simulated and custom ones (quick: one process
-- does them fastest); one where there is no script to start workers from (the REPL, -e).
function executor.jobs(s, asked)
  local jobs = asked
  if not jobs then
    jobs = (s.backend_kind == "simulated" or s.backend_kind == "law" or s.backend_kind == "custom") and 1
      or native.cpu_count()
  end
  if not s.script_path then jobs = 1 end
  return jobs
end

-- The files a study writes beside its store for its workers while its sweep runs: the copies of its
-- script (<store>.script-<sha16>.lua) and of the modules it required (<store>.module-<sha16>.lua,
-- scalelab.study.modules), removed when the sweep ends. A study killed (kill -9, a crash
-- of the machine) leaves them there, named after texts that an edit since has changed, so that no
-- later run would write over them: the next study on the store, which holds the store's lock and so
-- knows that no other study's workers read them, removes them before it writes its own.
local function remove_worker_copies(s)
  local prefix = s.store_path:match("^(.*/)") or ""
  local names = native.list_dir(prefix == "" and "." or prefix)
  if not names then return end
  local own = s.store_path:sub(#prefix + 1)
  for _, name in ipairs(names) do
    local rest = name:sub(1, #own) == own and name:sub(#own + 1)
    if rest and (rest:match("^%.script%-%x+%.lua$") or rest:match("^%.module%-%x+%.lua$")) then
      os.remove(prefix .. name)
    end
  end
end

-- The hashes of the runs the study plans now, recorded with the study (its spec's plan) so that
-- scalelab results can mark the stored runs its last run left out (another sweep, other arguments).
local function planned_hashes(s)
  local hashes = json.array()
  for _, run in ipairs(s.runs) do hashes[#hashes + 1] = run.hash end
  return hashes
end

-- What execute does while it holds the store's lock: records the study and its plan, trains the
-- pending runs, and reads them back.
local function execute_locked(s, options, store)
  local version = require("scalelab.native.core").version
  -- Before the plan is recorded: a run found under its old hash is recorded under that one.
  executor.adopt_legacy(s, executor.stored_runs(store, s.name))
  s.script_hash = store:record_study { name = s.name, script_path = s.script_path or "", script_text = s.script_text or "",
                                       scalelab_version = version,
                                       spec = json.encode { description = s.description, sweep = s.sweep.kind,
                                                            backend = s.backend_identity, runs = #s.runs,
                                                            model = s.family_info, plan = planned_hashes(s) } }
  local plans = {}
  for _, run in ipairs(s.runs) do
    local values = executor.flat_config(run)
    plans[#plans + 1] = { study = s.name, hash = run.hash, ordinal = run.ordinal, label = run.label,
                          config_json = run.config_json, config = values, params = run.params,
                          non_embedding_params = run.non_embedding_params, tokens = run.tokens,
                          unique_tokens = run.unique_tokens, epochs = run.epochs, flops = run.flops }
  end
  store:plan_runs(plans)
  local stored, planned, older = merge_stored(s, store), {}, 0
  for _, run in ipairs(s.runs) do planned[run.hash] = true end
  for _, r in pairs(stored) do
    if planned[r.hash] and (r.status == "done" or r.status == "diverged") and r.script_hash ~= s.script_hash then
      older = older + 1
    end
  end
  local unplanned = executor.unplanned_note(s, stored)
  local renamed = executor.renamed_note(s, store)
  s.provenance_note = executor.provenance_note(s, stored)
  if s.provenance_note then io.stderr:write("study " .. s.name .. ": warning: " .. s.provenance_note .. "\n") end
  local mine = {}
  for hash, r in pairs(stored) do
    if r.status == "done" or r.status == "diverged" then mine[hash] = true end
  end
  local neighbour = executor.neighbour_store_note(s, mine)
  if neighbour then io.stderr:write("study " .. s.name .. ": note: " .. neighbour .. "\n") end
  -- A backend or data given as a function enters a run's identity only as "custom" or "function":
  -- finished runs an earlier version of the script made are reused, though the function may since
  -- compute something else. The study cannot tell; it says so.
  local functions = {}
  if s.backend_kind == "custom" then functions[#functions + 1] = "backend" end
  if type(s.spec.data) == "function" then functions[#functions + 1] = "data" end
  if older > 0 and #functions > 0 then
    io.stderr:write(string.format("study %s: warning: %s finished by an earlier version of the script %s reused as "
      .. "%s: the study's %s %s a function, which a run's identity cannot include, so an edit of %s goes unnoticed; "
      .. "if it changes what the runs compute, give the study a new store (store = \"...\") to train them again\n",
      s.name, core.format_counted(older, "run"), older == 1 and "is" or "are", older == 1 and "it is" or "they are",
      table.concat(functions, " and "), #functions == 1 and "is" or "are", #functions == 1 and "it" or "them"))
  end

  local pending, done_runs, done_flops, total_flops, diverged_runs = {}, 0, 0, 0, 0
  local done_work, total_work = 0, 0  -- in hardware FLOPs, what the ETA is reckoned in
  for _, run in ipairs(s.runs) do
    total_flops = total_flops + run.flops
    total_work = total_work + (run.hardware_flops or run.flops)
    if run.status == "done" or run.status == "diverged" then
      -- A diverged run is not trained again (it would diverge again): it counts as finished.
      done_runs, done_flops = done_runs + 1, done_flops + run.flops
      done_work = done_work + (run.hardware_flops or run.flops)
      if run.status == "diverged" then diverged_runs = diverged_runs + 1 end
    else
      pending[#pending + 1] = run
    end
  end
  local held_note = executor.held_out_note(s, pending)
  if held_note then io.stderr:write("study " .. s.name .. ": note: " .. held_note .. "\n") end
  native.make_dirs(s.checkpoint_dir)

  local cores = native.cpu_count()
  local jobs = executor.jobs(s, options.jobs)
  -- The threads each run trains on: the cores shared by the runs of the whole sweep that train at
  -- once, not by those still pending. The CPU trainer's rounding depends on its thread count, so a
  -- rerun that finds one run left trains it (or resumes it) as the uninterrupted sweep did.
  local threads = math.max(1, cores // math.max(1, math.min(jobs, #s.runs)))
  jobs = math.max(1, math.min(jobs, #pending))

  -- The runs that go on from a checkpoint of an earlier attempt (interrupted, killed): said as the
  -- study starts, and on each run's start line, so that a rerun shows it resumes rather than starts over.
  -- A checkpoint the store recorded elsewhere (its store or checkpoints folder moved or renamed since)
  -- is resumed from too (resumable_checkpoint): such a run was said to start, and resumed.
  -- A checkpoint recorded elsewhere is moved beside the store here, before the runs start, where what
  -- resumable_checkpoint says reaches the user: a worker's output goes to its run's log, removed with
  -- the run done, so a study of two runs or more at once trained on without a word of the move.
  local resuming = 0
  for _, run in ipairs(pending) do
    resumable_checkpoint(s, run, stored[run.hash])
    local missing = executor.missing_checkpoint(s, run, stored[run.hash])
    if missing then
      io.stderr:write(string.format("study %s: run %s was %s, but has no checkpoint to resume from (%s is not there: "
        .. "removed since, or never written): it trains again from the start\n", s.name, run.label,
        stored[run.hash].status == "running" and "stopped while running" or "interrupted", missing))
    end
    local recorded = stored[run.hash] and stored[run.hash].checkpoint
    run.resuming = exists(checkpoint_path(s, run))
      or (type(recorded) == "string" and recorded ~= "" and exists(recorded))
    if run.resuming then resuming = resuming + 1 end
  end
  tidy_moved_folders(s)
  local progress = Progress.new { runs = #s.runs, flops = total_flops, done_runs = done_runs, done_flops = done_flops,
                                  work = total_work, done_work = done_work, quiet = s.quiet }
  if not s.quiet then
    print(string.format("study %s: %s, %d done%s, %d to %s%s%s; store %s", s.name, core.format_counted(#s.runs, "run"),
      done_runs - diverged_runs,
      diverged_runs > 0 and string.format(", %d diverged (not trained again: lower their lr)", diverged_runs) or "", #pending, backends.simulates(s.backend_kind) and "simulate" or "train",
      resuming > 0 and string.format(", %d resuming from %s", resuming, resuming == 1 and "its checkpoint" or "their checkpoints") or "",
      -- The backend asked for and the device it resolved to, as the plan and the report say it.
      #pending > 0 and string.format(" (%d at a time, backend %s)", jobs,
        backends.describe_backend(s.backend_kind, s.backend_identity)) or "",
      s.store_path))
    if unplanned then print("study " .. s.name .. ": " .. unplanned) end
    if renamed then print("study " .. s.name .. ": " .. renamed) end
    if #pending > 0 then
      print("N in run labels counts " .. (s.count == "all" and "all parameters" or "non-embedding parameters"))
    end
  end

  local script_args = {}
  local a = rawget(_G, "arg")
  if type(a) == "table" then
    for i = 1, #a do script_args[i] = a[i] end
  end
  -- The workers run the script as it is now, from a copy of its text beside the store (whose folder
  -- the study writes, and which every worker reaches): an edit of the script while the study runs
  -- (the next sweep's points, another lr) would otherwise change the runs that the workers started
  -- after it plan, and fail each run the edit changed. So with the modules it has required, each
  -- from a copy of the text it was loaded from (scalelab.study.modules). The copies go when the
  -- sweep ends.
  remove_worker_copies(s)
  local script_copy
  if s.script_path and s.script_text and #pending > 0 then
    script_copy = string.format("%s.script-%s.lua", s.store_path, native_store.sha256(s.script_text):sub(1, 16))
    local file = io.open(script_copy, "wb")
    local written = file and file:write(s.script_text)
    if not (file and written and file:close()) then
      if file then file:close() end
      os.remove(script_copy)
      script_copy = nil
    end
  end
  local module_copies, module_list = {}, nil
  if script_copy then module_copies, module_list = modules.write_copies(s.store_path, s.script_path) end
  local function remove_copies()
    if script_copy then os.remove(script_copy) end
    for _, copy in ipairs(module_copies) do os.remove(copy) end
  end
  local batch = {
    study = s.name,
    runs = pending,
    jobs = jobs,
    command = function(run)
      local argv = { native.executable(), s.script_path }
      for _, v in ipairs(script_args) do argv[#argv + 1] = v end
      return {
        argv = argv,
        env = { "SCALELAB_STUDY_WORKER=" .. s.name .. "\n" .. run.hash, "SCALELAB_STUDY_THREADS=" .. threads,
                "OMP_NUM_THREADS=" .. threads, "OPENBLAS_NUM_THREADS=" .. threads,
                "SCALELAB_STUDY_SCRIPT=" .. (script_copy and s.script_path .. "\n" .. script_copy or ""),
                "SCALELAB_STUDY_MODULES=" .. (module_list or "") },
        log = s.checkpoint_dir .. "/" .. run.hash .. ".log",
      }
    end,
    run_here = function(run)
      return executor.train_one(s, store, run, { threads = threads, on_progress = function(fraction, loss)
        progress:update(run, fraction, loss)
        progress:draw()
      end })
    end,
    collect = function(run, code, signal)
      local r = store:run(s.name, run.hash)
      -- A worker that ended before it started the run (the script failed in worker mode before it
      -- reached the study, or no longer plans the run) left the run as it was: a failure too, with
      -- what the worker said, or a rerun would meet it again without a word.
      local unstarted = r and r.status ~= "done" and r.status ~= "diverged" and (r.attempts or 0) == (run.attempts or 0)
      if r and (r.status == "running" or unstarted) then
        local log = s.checkpoint_dir .. "/" .. run.hash .. ".log"
        local how = signal ~= 0 and ("killed by signal " .. signal) or ("exit " .. code)
        local message
        if unstarted then
          -- What it said last: its error ("scalelab: file:line: ...", "scalelab worker: ...") or its last line.
          local last
          for line in tail(log, 40):gmatch("[^\n]+") do
            local said = line:find("^scalelab:") or line:find("^scalelab worker:")
            if said or not (last and (last:find("^scalelab:") or last:find("^scalelab worker:"))) then last = line end
          end
          message = string.format("worker %s before it started the run: %s; its log %s ends:\n%s", how,
            last or "(its log is empty)", log, tail(log))
        else
          message = string.format("worker %s without recording the run; its log %s ends:\n%s", how, log, tail(log))
        end
        store:finish_run { study = s.name, hash = run.hash, status = "failed", error = message, script_hash = s.script_hash }
        return { status = "failed", error = message }
      end
      if r.status == "done" then os.remove(s.checkpoint_dir .. "/" .. run.hash .. ".log") end
      return { status = r.status, loss = r.loss, wall_seconds = r.wall_seconds, error = r.error and r.error:match("^[^\n]*") }
    end,
    interrupted = function(run)
      local r = store:run(s.name, run.hash)
      if r and r.status == "running" then
        store:finish_run { study = s.name, hash = run.hash, status = "interrupted", script_hash = s.script_hash,
                           error = "stopped with the sweep; a rerun resumes it from its checkpoint" }
      end
    end,
    failed = function(run, message)
      local r = store:run(s.name, run.hash)
      if r and r.status == "running" then
        store:finish_run { study = s.name, hash = run.hash, status = "failed", script_hash = s.script_hash,
                           error = message }
      end
    end,
    started = function(run, worker) progress:started(run, worker) end,
    finished = function(run, outcome) progress:finished(run, outcome) end,
    tick = function(active)
      for _, run in pairs(active or {}) do
        local fraction, loss = worker_progress(s.checkpoint_dir .. "/" .. run.hash .. ".log")
        if fraction then progress:update(run, fraction, loss) end
      end
      progress:draw()
    end,
  }
  local exec = options.executor
  if exec == nil or exec == "local" then exec = executor.local_executor end
  if type(exec) ~= "table" or type(exec.execute) ~= "function" then
    error("study " .. s.name .. ": executor must be \"local\" or a table with an execute(batch) method", 0)
  end
  local ok, message = pcall(exec.execute, exec, batch)
  remove_copies()
  progress:close()
  merge_stored(s, store)
  if not ok then error(message, 0) end
end

-- The folder of `path` ("." for a bare name).
local function folder_of(path)
  return path:match("^(.*)/[^/]*$") or "."
end

-- Whether the folder can take a new file, asked of the system (access(2)): nothing is made there.
local function folder_writable(folder)
  return (native.writable(folder == "" and "/" or folder))
end

-- Why the existing store at `path` cannot be written (its file or its folder, where SQLite keeps its
-- journal and the study its lock file), or nil when it can be or when it does not exist.
local function store_unwritable(path)
  local reading = io.open(path, "rb")
  if not reading then return nil end
  reading:close()
  local file, why = io.open(path, "r+b")  -- opens for writing, changes nothing
  if not file then return "the file is not writable: " .. tostring(why):gsub("^[^:]*: ", "") end
  file:close()
  local folder = folder_of(path)
  if not folder_writable(folder) then return "its folder '" .. folder .. "' is not writable" end
  return nil
end
executor.store_unwritable = store_unwritable

-- Why a new file at `path` (a store not made yet, a report) cannot be made: its folder, or where that
-- folder is missing the nearest one above it that exists, where the missing ones would be made, is
-- not writable (the system's answer: access(2)); nil when it can be.
local NO_SUCH_FILE = select(2, native.writable(""))  -- ENOENT as this process words it

-- Whether anything is at `path`: a file or a folder, one this process may not read too (which
-- io.open takes for nothing there).
function executor.path_exists(path)
  local ok, why = native.writable(path)
  return ok or why ~= NO_SUCH_FILE
end
function executor.new_file_unwritable(path)
  local folder, missing = folder_of(path), nil
  while true do
    local ok, why = native.writable(folder == "" and "/" or folder)
    if ok then return nil end
    if why ~= NO_SUCH_FILE then
      return missing and string.format("its folder '%s' does not exist, and '%s', where it would be made, is not writable "
        .. "(%s)", missing, folder, why) or string.format("its folder '%s' is not writable (%s)", folder, why)
    end
    if folder == "." or folder == "" then return nil end
    missing = missing or folder
    folder = folder_of(folder)
  end
end

-- A store whose folder does not exist is made with it when the study runs: a folder's name mistyped
-- (store = "resuts/x.db" for "results/x.db") started a new store and trained every run again, the
-- runs done left in the store beside it. The store of the same path under the folder beside the
-- first missing one whose name is closest to it (checks.closest), where that store holds finished
-- runs of this study: { missing = the folder that does not exist, path = that store, n = its runs
-- of this study done }; nil where the folder exists or no such store does.
function executor.misspelt_store(s)
  local parts = {}
  for part in s.store_path:gmatch("[^/]+") do parts[#parts + 1] = part end
  local prefix = s.store_path:sub(1, 1) == "/" and "/" or ""
  for i = 1, #parts - 1 do
    local here = prefix .. parts[i]
    if not executor.path_exists(here) then
      local names = native.list_dir(prefix == "" and "." or prefix)
      local rest = table.concat(parts, "/", i + 1)
      local folders = {}
      for _, name in ipairs(names or {}) do
        if exists(prefix .. name .. "/" .. rest) then folders[#folders + 1] = name end
      end
      local closest = require("scalelab.study.checks").closest(parts[i], folders)
      if not closest then return nil end
      local path = prefix .. closest .. "/" .. rest
      local ok, store = pcall(native_store.open, path, { read_only = true })
      if not ok then return nil end
      local listed, runs = pcall(store.runs, store, { study = s.name })
      store:close()
      local n = 0
      for _, r in ipairs(listed and runs or {}) do
        if r.status == "done" or r.status == "diverged" then n = n + 1 end
      end
      return n > 0 and { missing = here, path = path, n = n } or nil
    end
    prefix = here .. "/"
  end
  return nil
end

-- What the study says of a store found by executor.misspelt_store: the fix, and how to make a new
-- store there all the same.
function executor.misspelt_store_message(s, found)
  return string.format("the store's folder %s does not exist, but %s, beside it, holds %s of this study: did you "
    .. "mean store = %q? (to start a new store in %s all the same, make the folder first: mkdir -p %s)",
    found.missing, found.path, core.format_counted(found.n, "finished run"), found.path, found.missing,
    shell_word(found.missing))
end

-- A study whose store cannot be written: when the store holds every planned run finished, the study
-- reads it as it is (its fits, answers and report come from it, nothing is trained or written to
-- it); else it refuses, saying how many runs are missing and how to get a store it can write.
local function execute_read_only(s, options, why)
  local store = native_store.open(s.store_path, { read_only = true })
  s.script_hash = s.script_text and native_store.sha256(s.script_text) or ""
  local stored = merge_stored(s, store)
  local missing = 0
  for _, run in ipairs(s.runs) do
    if run.status ~= "done" and run.status ~= "diverged" then missing = missing + 1 end
  end
  local folder = folder_of(s.store_path)
  local copy = string.format("copy it to a folder you can write (cp %s DIR/) and give the copy as store =, or make "
    .. "it writable (%s)", shell_word(s.store_path), why:find("folder", 1, true) and ("chmod u+w " ..
    shell_word(folder) .. " for its folder") or ("chmod u+w " .. shell_word(s.store_path)))
  if missing > 0 then
    store:close()
    local done = #s.runs - missing
    local simulates = s.backend_kind == "simulated" or s.backend_kind == "law"
    error(string.format("study %s: the store %s cannot be written (%s), and %d of %s %s still to %s: %s needs a "
      .. "writable store; %s. The %d done %s kept as %s", s.name, s.store_path, why, missing,
      core.format_counted(#s.runs, "run"), missing == 1 and "is" or "are", simulates and "simulate" or "train",
      simulates and "simulating" or "training", copy, done, done == 1 and "is" or "are",
      done == 1 and "it is" or "they are"), 0)
  end
  if options.report ~= false then
    local folder = folder_of(s.report_base)
    if not folder_writable(folder) then
      store:close()
      error(string.format("study %s: the store %s is read-only (%s) and the folder '%s' of its report cannot be "
        .. "written either, so the report (%s.report.md) and its figures have nowhere to go: copy the store to a "
        .. "folder you can write (cp %s DIR/) and give the copy as store =, or give report = \"DIR/%s\"",
        s.name, s.store_path, why, folder, s.report_base, shell_word(s.store_path), s.report_base:match("[^/]*$")), 0)
    end
  end
  local unplanned = executor.unplanned_note(s, stored)
  if unplanned then print("study " .. s.name .. ": " .. unplanned) end
  s.provenance_note = executor.provenance_note(s, stored)
  if s.provenance_note then io.stderr:write("study " .. s.name .. ": warning: " .. s.provenance_note .. "\n") end
  io.stderr:write(string.format("study %s: the store %s is read-only (%s): it holds all %s done, so nothing was "
    .. "trained or written to it; the fits and report are made from it as it is\n", s.name, s.store_path, why,
    core.format_counted(#s.runs, "run")))
  s.store, s.read_only = store, true
  return s
end

-- Why the study's report (<report>.report.md, .report.json and .figures) cannot be written, in a
-- sentence that says what to give instead; nil when it can be, or when the study writes none.
function executor.report_unwritable(s, report)
  if report == false then return nil end
  local why = executor.new_file_unwritable(s.report_base .. ".report.md")
  if not why then return nil end
  return string.format("its report %s.report.md cannot be written: %s, so the report and its figures would have "
    .. "nowhere to go once the runs are done; give report = \"DIR/%s\" in a folder you can write, or report = false "
    .. "(no report files)", s.report_base, why, s.report_base:match("[^/]*$"))
end

-- Why the folder of the study's checkpoints (and its workers' logs), which the study makes before it
-- trains, cannot be made or written, in a sentence that says what to give instead; nil when it can.
function executor.checkpoints_unwritable(s)
  local why = executor.new_file_unwritable(s.checkpoint_dir .. "/run.ckpt")
  if not why then return nil end
  return string.format("its runs' checkpoints cannot be written in %s: %s; give checkpoints = \"DIR\" in a folder you "
    .. "can write", s.checkpoint_dir, why)
end

function executor.execute(s, options)
  -- A store in a folder that does not exist, where one of a name near it holds this study's runs:
  -- stopped before anything is made or trained.
  local misspelt = executor.misspelt_store(s)
  if misspelt then
    error(string.format("study %s: %s; nothing was trained or written", s.name,
      executor.misspelt_store_message(s, misspelt)), 0)
  end
  -- A report that cannot be written is found before anything trains, rather than after every run
  -- (a read-only store says so in its own words, below).
  local writable = not store_unwritable(s.store_path)
  local report_problem = writable and executor.report_unwritable(s, options.report)
  if report_problem then error(string.format("study %s: %s", s.name, report_problem), 0) end
  local checkpoints_problem = writable and executor.checkpoints_unwritable(s)
  if checkpoints_problem then error(string.format("study %s: %s", s.name, checkpoints_problem), 0) end
  local ok_open, store = pcall(native_store.open, s.store_path)
  if not ok_open then
    local why = store_unwritable(s.store_path)
    if why then return execute_read_only(s, options, why) end
    error(store, 0)
  end
  local lock, holder = native.lock(native.store_lock_path(s.store_path))
  if not lock then
    store:close()
    error(string.format("study %s: the store %s is in use by another scalelab (%s); wait for it to finish", s.name,
      s.store_path, holder), 0)
  end
  -- The checkpoints folder is made before the runs, for whichever of them writes one; a study that
  -- wrote none (a simulated one, whose runs never checkpoint) left it empty beside its store. One
  -- this study made and left empty goes at the end; one that holds a checkpoint (a run stopped, to
  -- resume) or was there before stays.
  local made_checkpoint_dir = native.list_dir(s.checkpoint_dir) == nil
  -- Whatever stops it (a checkpoint folder that cannot be made, a full disk, Ctrl-C), the lock and
  -- the store are let go: the study run again in this process (the REPL, a pcall) finds them free.
  local ok, message = pcall(execute_locked, s, options, store)
  if made_checkpoint_dir then
    local left = native.list_dir(s.checkpoint_dir)
    if left and #left == 0 then os.remove(s.checkpoint_dir) end
  end
  lock:release()
  if not ok then
    store:close()
    error(message, 0)
  end
  s.store = store
  local failed = {}
  for _, run in ipairs(s.runs) do
    if run.status ~= "done" then failed[#failed + 1] = run end
  end
  if #failed > 0 then  -- quiet silences progress, not the runs that did not finish
    print(string.format("study %s: %s not done:", s.name, core.format_counted(#failed, "run")))
    for _, run in ipairs(failed) do
      print(string.format("  %s: %s%s", run.label, run.status or "?", run.error and (": " .. run.error:match("^[^\n]*")) or ""))
    end
  end
  return s
end

return executor
