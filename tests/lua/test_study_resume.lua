-- A study stopped by a crash and run again, as a user whose machine went down would: what the rerun
-- keeps, redoes and resumes, and that its results are those of the study run without a stop.
local t = require "scalelab.test"
local native = require "scalelab.native.study"
local native_store = require "scalelab.native.store"
local backends = require "scalelab.study.backends"

local exe = native.executable()
local root = t.scratch("study-resume")
local read, write = t.read_file, t.write_file

local snapshot = t.stored_runs

local function alive(pid)
  local stat = read("/proc/" .. pid .. "/stat")
  return stat ~= nil and stat:match("^%d+ %b() (%a)") ~= "Z"
end

-- Starts `scalelab <args>` in `dir` in a process group of its own; returns its pid.
local function start(dir, args)
  return native.spawn { argv = { "/bin/sh", "-c", string.format("cd '%s' && exec setsid '%s' %s", dir, exe, args) },
                        log = dir .. "/killed.log" }
end

-- Waits (at most `seconds`) until ready() holds; returns whether it did.
local function wait_for(ready, seconds)
  local deadline = native.clock() + seconds
  while native.clock() < deadline do
    if ready() then return true end
    native.sleep(0.01)
  end
  return false
end

-- Waits (at most 30 s) until the store at `path` has a run in flight; returns whether it had.
local function run_in_flight(path)
  return wait_for(function()
    for _, r in pairs(snapshot(path)) do
      if r.status == "running" then return true end
    end
    return false
  end, 30)
end

-- SIGKILLs the process group of `pid` (the study and its workers at once, as a crash would) and
-- reaps it.
local function crash(pid)
  os.execute("kill -9 -" .. pid)
  native.wait(true)
  t.ok(wait_for(function() return not alive(pid) end, 5), "the killed study is gone")
end

-- Two CPU runs, a small one and one four times its size, trained two at a time.
local TRAINED = [[
study "trained" {
  data = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 2e6 },
  model = { aspect = 16, ctx = 32 },
  sweep = sweep.grid{ N = { 2e4, 8e4 }, D = { 4e5 } },
  hyper = { lr = 1e-2, batch = 8 },
  backend = "cpu",
  store = "trained.db",
  fits = {},
  quiet = true,
}
]]

-- One small CPU run of a study whose backend is the environment's BACKEND (left out where it is
-- empty); the script prints each run's hash and the hash scalelab gave it on "auto" before.
local DEVICE = [[
local backend = os.getenv("BACKEND")
local s = study "device" {
  data = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 2e6 },
  model = { aspect = 16, ctx = 32 },
  sweep = sweep.grid{ N = { 2e4 }, D = { 1e5 } },
  hyper = { lr = 1e-2, batch = 8 },
  backend = backend ~= "" and backend or nil,
  store = "device.db",
  fits = {},
  report = false,
}
for _, r in ipairs(s.runs) do print("run " .. r.hash .. " legacy " .. tostring(r.legacy_hash)) end
]]

-- The folder of DEVICE trained once on the device "auto" picks here, and its one run (once, for
-- every test that starts from it).
local device_dir, device_run
local function device_trained()
  if not device_dir then
    device_dir = t.script(root, DEVICE, "device.lua")
    local code, out = t.run(device_dir, "device.lua", { BACKEND = backends.device("auto") })
    t.eq(code, 0, out)
    t.ok(out:find("study device: 1 run, 0 done, 1 to train", 1, true), out)
    local _, r = next(snapshot(device_dir .. "/device.db"))
    device_run = r
  end
  return device_dir, device_run
end

-- The only run in the store at `path`, after checking that it holds one.
local function only_run(path)
  local runs = snapshot(path)
  local hash, r = next(runs)
  t.eq(next(runs, hash), nil, "the store holds one run")
  return r
end

t.test("a study trained on \"cpu\" and run again on \"auto\" or with no backend trains nothing again where \"auto\" "
    .. "trains on the CPU", function()
  -- A run's identity held the backend's name: switching between "cpu" and "auto" (or leaving the
  -- backend out) trained every stored run again, though "auto" trains on the CPU here. It now holds
  -- the device that trains the run ("cuda" where "auto" trains on a GPU: the same holds of "cuda").
  local here = backends.device("auto")
  local dir, trained = device_trained()
  t.eq(trained.metrics.backend, here)
  t.eq(trained.attempts, 1)
  for _, backend in ipairs { "auto", "", here } do
    local code, out = t.run(dir, "device.lua --dry-run", { BACKEND = backend })
    t.eq(code, 0, out)
    t.ok(out:find("total: 1 run (0 to train)", 1, true), backend .. ": " .. out)
    code, out = t.run(dir, "device.lua", { BACKEND = backend })
    t.eq(code, 0, out)
    t.ok(out:find("study device: 1 run, 1 done, 0 to train; store device.db", 1, true), backend .. ": " .. out)
    t.ok(out:find("run " .. trained.hash, 1, true), out)
    local after = only_run(dir .. "/device.db")
    t.eq(after.hash, trained.hash)
    t.eq(after.attempts, 1, backend)
    t.eq(after.loss, trained.loss)
  end
end)

t.test("runs an earlier scalelab stored on \"auto\" are found by \"auto\" and by \"cpu\" where the CPU trained them, "
    .. "and not where another device did", function()
  -- Before the identity named the device, "auto" was "auto" whatever trained it: such a store keeps
  -- its runs under that identity. A run there is found by the device that its metrics say trained it.
  local here = backends.device("auto")
  local there = here == "cpu" and "cuda" or "cpu"
  local from, trained = device_trained()
  local code, out = t.run(from, "device.lua --dry-run", { BACKEND = "" })
  t.eq(code, 0, out)
  local legacy = out:match("run " .. trained.hash .. " legacy (%x+)")
  t.ok(legacy and legacy ~= trained.hash, out)
  -- The store of an earlier scalelab: the run trained, under its old hash, on `device`.
  local function earlier_store(device)
    local dir = t.script(root, DEVICE, "device.lua")
    local source = native_store.open(from .. "/device.db", { read_only = true })
    local curve = source:curve("device", trained.hash)
    source:close()
    local db = native_store.open(dir .. "/device.db")
    db:record_study { name = "device", script_text = "earlier" }
    db:plan_runs { { study = "device", hash = legacy, ordinal = 1, label = trained.label,
                     config_json = trained.config_json, config = trained.config, params = trained.params,
                     non_embedding_params = trained.non_embedding_params, tokens = trained.tokens,
                     flops = trained.flops } }
    local metrics = {}
    for k, v in pairs(trained.metrics) do metrics[k] = v end
    metrics.backend = device
    db:finish_run { study = "device", hash = legacy, status = "done", loss = trained.loss, wall_seconds = 1,
                    metrics = metrics, curve = curve }
    db:close()
    return dir
  end
  local dir = earlier_store(here)
  for _, backend in ipairs { "auto", "", here } do
    code, out = t.run(dir, "device.lua", { BACKEND = backend })
    t.eq(code, 0, out)
    t.ok(out:find("study device: 1 run, 1 done, 0 to train; store device.db", 1, true), backend .. ": " .. out)
    local after = only_run(dir .. "/device.db")
    t.eq(after.hash, legacy, "the run keeps the hash it is stored under")
    t.eq(after.loss, trained.loss)
  end
  -- Trained on the other device, it is another computation: here it is still to train.
  dir = earlier_store(there)
  code, out = t.run(dir, "device.lua --dry-run", { BACKEND = "auto" })
  t.eq(code, 0, out)
  t.ok(out:find("total: 1 run (1 to train)", 1, true), out)
end)

-- The sweep run without a stop, two at a time (once, for every test that compares with it): its
-- folder and its runs.
local reference_dir, reference
local function trained_reference()
  if not reference then
    reference_dir = t.script(root, TRAINED, "trained.lua")
    local code, out = t.run(reference_dir, "trained.lua --jobs 2")
    t.eq(code, 0, out)
    reference = snapshot(reference_dir .. "/trained.db")
  end
  return reference_dir, reference
end

local function same_losses(dir, reference, what)
  local after = snapshot(dir .. "/trained.db")
  for hash, r in pairs(reference) do
    t.eq(after[hash].status, "done", what)
    t.eq(string.format("%.17g", after[hash].loss), string.format("%.17g", r.loss),
      "run " .. after[hash].label .. " " .. what .. " (attempts " .. after[hash].attempts .. ")")
  end
  return after
end

t.test("a CPU run retrained alone, the others done, trains on the threads it had in the whole sweep", function()
  -- The trainer's rounding depends on its thread count. The sweep shares the cores among the runs
  -- that train at once; a rerun that finds one run left (its first attempt crashed before a
  -- checkpoint, or it was reset) must not give it all the cores, or its result would differ
  -- from the uninterrupted sweep's.
  if native.cpu_count() < 2 then t.skip("one core: every run trains on one thread whatever the sweep") end
  local from, reference = trained_reference()
  local dir = t.fresh_dir(root)
  t.ok(os.execute(string.format("cp '%s/trained.lua' '%s/trained.db' '%s'", from, from, dir)), "copy the study")
  local store = native_store.open(dir .. "/trained.db")
  local largest
  for _, r in ipairs(store:runs()) do
    if not largest or r.params > largest.params then largest = r end
  end
  store:reset_run("trained", largest.hash)
  store:close()
  local code, out = t.run(dir, "trained.lua --jobs 2")
  t.eq(code, 0, out)
  local after = same_losses(dir, reference, "retrained alone")
  t.eq(after[largest.hash].attempts, 2)
end)

-- The sweep, two at a time, SIGKILLed with its workers once the small run is done and the large one
-- has written a checkpoint. Returns its folder and the hash of the large run.
local function crashed_mid_run()
  local dir = t.script(root, TRAINED, "trained.lua")
  local pid = start(dir, "trained.lua --jobs 2")
  local large
  local ready = wait_for(function()
    local runs, done = snapshot(dir .. "/trained.db"), 0
    large = nil
    for hash, r in pairs(runs) do
      if r.status == "done" then done = done + 1 end
      if r.status == "running" and read(dir .. "/trained.checkpoints/" .. hash .. ".ckpt") then large = hash end
    end
    return done == 1 and large ~= nil
  end, 60)
  crash(pid)
  t.ok(ready, "the small run finished and the large one checkpointed:\n" .. (read(dir .. "/killed.log") or ""))
  t.eq(snapshot(dir .. "/trained.db")[large].status, "running")
  return dir, large
end

t.test("a CPU run resumed after a crash ends bitwise as in the sweep never stopped, whatever --jobs the rerun has", function()
  -- A run resumed from its checkpoint continues on the threads it was checkpointed with: neither
  -- the one run left pending nor another --jobs may change them.
  if native.cpu_count() < 2 then t.skip("one core: every run trains on one thread whatever the sweep") end
  local _, reference = trained_reference()
  local dir, large = crashed_mid_run()
  -- The same crashed state, rerun once with the sweep's --jobs (one run is left: it resumes alone)
  -- and once with another.
  local other = t.fresh_dir(root)
  t.ok(os.execute(string.format("cp -R '%s/.' '%s'", dir, other)), "copy the crashed study")
  for _, case in ipairs { { dir, "--jobs 2" }, { other, "--jobs 1" } } do
    local rerun_code, rerun_out = t.run(case[1], "trained.lua " .. case[2])
    t.eq(rerun_code, 0, rerun_out)
    local after = same_losses(case[1], reference, "rerun with " .. case[2])
    t.eq(after[large].attempts, 2)
    -- Nothing of the finished run is left in the checkpoint folder.
    t.eq(read(case[1] .. "/trained.checkpoints/" .. large .. ".ckpt"), nil)
    t.eq(read(case[1] .. "/trained.checkpoints/" .. large .. ".ckpt.threads"), nil)
  end
end)

t.test("a checkpoint a crash left truncated or empty is set aside, and its run trains again from the start", function()
  -- A crash of the machine (not of the process) can leave the last checkpoint written short. The
  -- study's own checkpoint must not fail the run at every rerun: the run starts over, and the
  -- unreadable file is kept beside, renamed.
  local _, reference = trained_reference()
  local dir, large = crashed_mid_run()
  local empty = t.fresh_dir(root)
  t.ok(os.execute(string.format("cp -R '%s/.' '%s'", dir, empty)), "copy the crashed study")
  local path = "/trained.checkpoints/" .. large .. ".ckpt"
  local bytes = read(dir .. path)
  local cases = { { dir, bytes:sub(1, #bytes // 2) }, { empty, "" } }
  for _, case in ipairs(cases) do
    write(case[1] .. path, case[2])
    local code, out = t.run(case[1], "trained.lua --jobs 2")
    t.eq(code, 0, out)
    t.ok(out:find("trained.checkpoints/" .. large .. ".ckpt could not be read (truncated or corrupted)", 1, true), out)
    t.ok(out:find("kept as trained.checkpoints/" .. large .. ".ckpt.corrupt", 1, true), out)
    local after = same_losses(case[1], reference, "trained again from the start")
    t.eq(after[large].metrics.checkpoint_discarded, "trained.checkpoints/" .. large .. ".ckpt.corrupt")
    t.eq(read(case[1] .. path .. ".corrupt"), case[2])
    t.eq(read(case[1] .. path), nil)
  end
end)

-- The dry run of the TRAINED study whose store is in `dir`, in this process: the study (its runs with
-- their estimated_seconds) and what it printed.
local function dry_run_trained(dir)
  local saved_arg, saved_print = arg, print
  local printed = {}
  arg = { [-1] = "scalelab", [0] = "trained.lua", "--dry-run", "--jobs", "2" }
  print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring(select(i, ...)) end
    printed[#printed + 1] = table.concat(parts, "\t")
  end
  local ok, s = pcall(function()
    return study "trained" {
      data = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 2e6 },
      model = { aspect = 16, ctx = 32 },
      sweep = sweep.grid{ N = { 2e4, 8e4 }, D = { 4e5 } },
      hyper = { lr = 1e-2, batch = 8 },
      backend = "cpu",
      store = dir .. "/trained.db",
      fits = {},
      quiet = true,
    }
  end)
  arg, print = saved_arg, saved_print
  if not ok then error(s, 0) end
  return s, table.concat(printed, "\n")
end

t.test("the dry run times a run that a crash stopped by the tokens it has left, and says where it resumes", function()
  -- It timed the run as if it started from nothing, and said only that it was running.
  local core = require "scalelab.native.core"
  local dir, large = crashed_mid_run()
  local path = dir .. "/trained.checkpoints/" .. large .. ".ckpt"
  -- The checkpoint read here, as train.cpp writes it: its format's name, the run's fingerprint, then
  -- the optimizer steps done; a step is batch 8 × ctx 32 tokens.
  local bytes = read(path)
  local magic, _, step = string.unpack("=s8s8i8", bytes)
  t.ok(magic:find("^scalelab%-checkpoint%-"), magic)
  local done = step * 8 * 32
  local total = snapshot(dir .. "/trained.db")[large].tokens
  t.ok(done > 0 and done < total, done .. " of " .. total)
  local s, text = dry_run_trained(dir)
  local run
  for _, r in ipairs(s.runs) do if r.hash == large then run = r end end
  t.ok(text:find(string.format("running, resumes at %s of %s tokens", core.format_count(done), core.format_count(total)),
    1, true), text)
  t.ok(text:find("total: 2 runs (1 to train, 1 resuming)", 1, true), text)
  -- Against the same plan with the checkpoint gone (the run starts from nothing): the time left is
  -- the share of the tokens left.
  local whole = t.fresh_dir(root)
  t.ok(os.execute(string.format("cp -R '%s/.' '%s'", dir, whole)), "copy the crashed study")
  os.remove(whole .. "/trained.checkpoints/" .. large .. ".ckpt")
  local from_start, start_text = dry_run_trained(whole)
  local full
  for _, r in ipairs(from_start.runs) do if r.hash == large then full = r.estimated_seconds end end
  t.ok(full > 0, start_text)
  t.near(run.estimated_seconds, full * (1 - done / total), 1e-12)
  t.ok(start_text:find("total: 2 runs (1 to train), ", 1, true), start_text)
  t.ok(not start_text:find("resumes", 1, true), start_text)
  -- And says why: it said only "running", and timed the run from the start without a word.
  t.ok(start_text:find("running, no checkpoint to resume from (", 1, true)
    and start_text:find(large .. ".ckpt is not there): trains from the start", 1, true), start_text)
  -- Where another scalelab holds the store, a running run is one in flight, which may not have written
  -- its first checkpoint yet: nothing said of it.
  local lock = assert(native.lock(whole .. "/trained.db.lock"))
  local busy_code, busy_out = t.run(whole, "trained.lua --dry-run --jobs 2")
  lock:release()
  t.eq(busy_code, 0, busy_out)
  t.ok(busy_out:find("is in use by another scalelab now", 1, true) and not busy_out:find("no checkpoint", 1, true),
    busy_out)
  -- Run, the study says so before the run starts over (from scratch, as the sweep that never stopped).
  local gone = t.fresh_dir(root)
  t.ok(os.execute(string.format("cp -R '%s/.' '%s'", whole, gone)), "copy the crashed study, its checkpoint gone")
  local gone_code, gone_out = t.run(gone, "trained.lua --jobs 2")
  t.eq(gone_code, 0, gone_out)
  t.ok(gone_out:find("study trained: run " .. run.label .. " was stopped while running, but has no checkpoint to resume "
    .. "from (", 1, true) and gone_out:find(large .. ".ckpt is not there: removed since, or never written): it trains "
    .. "again from the start", 1, true), gone_out)
  local _, from_scratch = trained_reference()
  same_losses(gone, from_scratch, "trained again from the start")
  -- A checkpoint that cannot be read is said so, and the run timed from the start (it trains again).
  write(whole .. "/trained.checkpoints/" .. large .. ".ckpt", "not a checkpoint")
  local unreadable, unreadable_text = dry_run_trained(whole)
  for _, r in ipairs(unreadable.runs) do
    if r.hash == large then t.near(r.estimated_seconds, full, 1e-12) end
  end
  t.ok(unreadable_text:find("running, its checkpoint " .. whole .. "/trained.checkpoints/" .. large .. ".ckpt cannot "
    .. "be resumed (not a checkpoint of this run, or cut short): timed from the start", 1, true), unreadable_text)
  -- The run resumes where the dry run said: it ends as the sweep that never stopped.
  local _, reference = trained_reference()
  local code, out = t.run(dir, "trained.lua --jobs 2")
  t.eq(code, 0, out)
  same_losses(dir, reference, "resumed")
end)

-- ---- Ctrl-C of a parallel sweep ------------------------------------------------------------------------

-- Two CPU runs long enough to be stopped in the middle, two at a time.
local LONG = [[
study "long" {
  data = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 4e6 },
  model = { aspect = 16, ctx = 32 },
  sweep = sweep.grid{ N = { 2e4, 4e4 }, D = { 3e6 } },
  hyper = { lr = 1e-2, batch = 8 },
  backend = "cpu",
  store = "long.db",
  fits = {},
  jobs = 2,
}
]]

-- Starts the long sweep, waits until both its workers train, and sends `signal` (SIGINT or SIGTERM)
-- to the executor's whole process group (a Ctrl-C at the terminal, a batch scheduler ending the job)
-- or to the executor alone. Returns the folder, the exit status, and for each run its checkpoint's
-- bytes just before the signal (false: none yet).
local function interrupt_long_sweep(whole_group, signal)
  local dir = t.script(root, LONG, "long.lua")
  local pid = start(dir, "long.lua")
  local before
  local training = wait_for(function()
    local runs, count = snapshot(dir .. "/long.db"), 0
    for hash in pairs(runs) do
      if (read(dir .. "/long.checkpoints/" .. hash .. ".log") or ""):find("progress", 1, true) then count = count + 1 end
    end
    if count < 2 then return false end
    before = {}
    for hash in pairs(runs) do before[hash] = read(dir .. "/long.checkpoints/" .. hash .. ".ckpt") or false end
    return true
  end, 60)
  if whole_group then os.execute(string.format("kill -%d -%d", signal, pid)) else native.kill(pid, signal) end
  local _, code = native.wait(true)
  t.ok(training, "both runs training:\n" .. (read(dir .. "/killed.log") or ""))
  return dir, code, before
end

for _, case in ipairs { { true, 2, "SIGINT" }, { false, 2, "SIGINT" }, { true, 15, "SIGTERM" } } do
  local whole_group, signal, name = case[1], case[2], case[3]
  t.test(string.format("%s to %s of a parallel CPU sweep: each worker stops cleanly, writing its checkpoint "
    .. "where it stopped", name, whole_group and "the process group" or "the executor alone"), function()
    -- train.run stops cleanly on Ctrl-C and checkpoints where it stopped; the workers of a sweep must
    -- too, rather than be killed by their executor and lose what they trained since their last
    -- periodic checkpoint. SIGTERM (kill, timeout, a scheduler's end of job) stops them alike.
    local dir, code, before = interrupt_long_sweep(whole_group, signal)
    local log = read(dir .. "/killed.log") or ""
    t.eq(code, 128 + signal, log)
    t.ok(log:find("study long: interrupted with 0 of 2 runs finished", 1, true), log)
    for hash, r in pairs(snapshot(dir .. "/long.db")) do
      t.eq(r.status, "interrupted", log)
      local after = read(dir .. "/long.checkpoints/" .. hash .. ".ckpt")
      t.ok(after and after ~= before[hash], "run " .. r.label .. " wrote a checkpoint when it was stopped:\n" .. log
        .. "\n" .. (read(dir .. "/long.checkpoints/" .. hash .. ".log") or ""))
    end
  end)
end

t.test("a worker of a custom executor trains its run where the checkpoint folder does not exist yet", function()
  -- A cluster's worker may find the study's checkpoint folder missing on its machine; the trainer
  -- makes it, and nothing the study writes beside a checkpoint may fail the run first.
  local dir = t.script(root, [[
local native = require "scalelab.native.study"
local remote = {
  execute = function(self, batch)
    for _, run in ipairs(batch.runs) do
      local command = batch.command(run)
      os.remove("far.checkpoints")   -- the folder, empty, is not there on the worker's machine
      batch.started(run, "remote")
      native.spawn { argv = command.argv, env = command.env }
      local _, code, signal = native.wait(true)
      batch.finished(run, batch.collect(run, code, signal))
    end
  end,
}
study "far" {
  data = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 2e6 },
  model = { aspect = 16, ctx = 32 },
  sweep = sweep.grid{ N = { 2e4 }, D = { 5e4 } },
  hyper = { lr = 1e-2, batch = 8 },
  backend = "cpu",
  executor = remote,
  fits = {},
  quiet = true,
}
]], "far.lua")
  local code, out = t.run(dir, "far.lua")
  t.eq(code, 0, out)
  for _, r in pairs(snapshot(dir .. "/far.db")) do t.eq(r.status, "done", out) end
end)

-- ---- A worker stopped alone -------------------------------------------------------------------------------

t.test("a study whose worker alone was stopped with SIGINT ends with an error, not as a finished study", function()
  -- The worker records its run interrupted and exits; the sweep goes on with the other runs. The
  -- study must not then end with status 0 and run the rest of the script as if every run were done.
  local dir = t.script(root, [[
study "stopped" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5, 8e5 }, D = { 1e7 } },
  backend = { kind = "law", points = 20, seconds_per_point = 0.05 },
  jobs = 2,
  fits = {},
}
print("AFTER THE STUDY")
]], "stopped.lua")
  local pid = start(dir, "stopped.lua")
  -- A worker whose run has checkpointed a few points: SIGINT to it alone.
  local worker
  t.ok(wait_for(function()
    for hash, r in pairs(snapshot(dir .. "/stopped.db")) do
      local points = r.status == "running" and tonumber((read(dir .. "/stopped.checkpoints/" .. hash .. ".ckpt") or ""):match("%d+"))
      if points and points >= 2 and points <= 10 then worker = tonumber(r.worker:match("%d+")) end
    end
    return worker ~= nil
  end, 30), "a run in flight in a worker")
  native.kill(worker, 2)
  local _, code = native.wait(true)
  local log = read(dir .. "/killed.log") or ""
  local runs, interrupted, done = snapshot(dir .. "/stopped.db"), 0, 0
  for _, r in pairs(runs) do
    interrupted = interrupted + (r.status == "interrupted" and 1 or 0)
    done = done + (r.status == "done" and 1 or 0)
  end
  t.eq(interrupted, 1, log)
  t.eq(done, 3, log)
  t.eq(code, 1, log)
  t.ok(not log:find("AFTER THE STUDY", 1, true), log)
  t.ok(log:find("stopped.lua:1: study stopped: 1 of 4 runs did not finish (1 interrupted, listed above); run the "
    .. "study again: finished runs are kept, and stopped ones resume from their checkpoints", 1, true), log)
  -- The rerun resumes it and ends well.
  local rerun_code, rerun_out = t.run(dir, "stopped.lua")
  t.eq(rerun_code, 0, rerun_out)
  t.ok(rerun_out:find("AFTER THE STUDY", 1, true), rerun_out)
end)

t.test("a worker that fails before it starts its run fails the run, saying what the worker said", function()
  -- The script fails in worker mode only, before it reaches the study: the runs were left planned,
  -- the study said only "2 planned", and a rerun met the same without a word.
  local dir = t.script(root, [[
if os.getenv("SCALELAB_STUDY_WORKER") then error("no licence server in the worker") end
study "early" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = { kind = "law", points = 4 },
  jobs = 2,
  fits = {},
}
]], "early.lua")
  local code, out = t.run(dir, "early.lua")
  t.eq(code, 1, out)
  local runs = snapshot(dir .. "/early.db")
  for _, r in pairs(runs) do
    t.eq(r.status, "failed", out)
    t.eq(r.attempts, 0, out)
  end
  t.ok(out:find("failed: worker exit 1 before it started the run: scalelab: early.lua:1: no licence server in the "
    .. "worker; its log early.checkpoints/", 1, true), out)
  t.ok(out:find("study early: 2 of 2 runs failed (listed above)", 1, true), out)
end)

t.test("the workers of a script's second study find its first study as the script had it: runs, fits", function()
  -- Each worker runs the script again up to its study; the first study, done, came back with no
  -- results there, and the line that used them failed every run of the second. (A law of
  -- Chinchilla's exponents whose losses fit under ln(256) at these sizes: the simulation caps them there.)
  local dir = t.script(root, [[
local law = { E = 1.69, A = 101.6, B = 102.7, alpha = 0.34, beta = 0.28 }
local first = study "first" {
  sweep = sweep.isoflop{ budgets = { 1e15, 1e16 }, sizes = sweep.log(1e6, 1e7, 4) },
  backend = { kind = "law", points = 4, law = law },
  fits = { "isoflop" },
  quiet = true,
}
local best = first:observations()[1].loss
local N_opt = first.fits.isoflop:N_opt(1e17)
print(string.format("first: %d runs, N_opt %.6g, failed %d", #first:observations(), N_opt, first.failed))
study "second" {
  sweep = sweep.grid{ N = { N_opt / 2, N_opt }, D = { 1e8 } },
  backend = { kind = "law", points = 4, law = law },
  jobs = 2,
  fits = {},
  quiet = true,
}
]], "two.lua")
  local code, out = t.run(dir, "two.lua")
  t.eq(code, 0, out)
  local runs = snapshot(dir .. "/second.db")
  local count = 0
  for _, r in pairs(runs) do
    count = count + 1
    t.eq(r.status, "done", out .. (r.error or ""))
  end
  t.eq(count, 2, out)
end)

-- ---- A damaged store -------------------------------------------------------------------------------------

t.test("the dry run of a study whose store cannot be read says so, rather than plan every run as new", function()
  local dir = t.script(root, [[
study "damaged" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = { kind = "law" },
  fits = {},
}
]], "damaged.lua")
  local code, out = t.run(dir, "damaged.lua")
  t.eq(code, 0, out)
  local bytes = read(dir .. "/damaged.db")
  for _, damage in ipairs { { bytes:sub(1, 4096), "is corrupted" }, { "# notes\n" .. bytes, "is not an SQLite database" } } do
    write(dir .. "/damaged.db", damage[1])
    code, out = t.run(dir, "damaged.lua --dry-run")
    t.eq(code, 0, out)
    t.ok(out:find("note: the store cannot be read, so the statuses above take it for empty, and running the study "
      .. "would stop before training: ", 1, true), out)
    t.ok(out:find(damage[2], 1, true), out)
    -- And the run itself refuses it, untouched.
    code, out = t.run(dir, "damaged.lua")
    t.eq(code, 1, out)
    t.ok(out:find(damage[2], 1, true), out)
    t.eq(read(dir .. "/damaged.db"), damage[1])
  end
end)

t.test("the dry run of a study whose store is an empty file plans it as new, as running the study makes it", function()
  -- An empty file (touch, a study stopped before its first write) is a new database to SQLite, and
  -- the study makes it its store; the dry run said that the store could not be read and that the
  -- study would stop before training.
  local dir = t.script(root, [[
study "touched" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = { kind = "law" },
  fits = {},
}
]], "touched.lua")
  write(dir .. "/touched.db", "")
  local code, out = t.run(dir, "touched.lua --dry-run")
  t.eq(code, 0, out)
  t.ok(not out:find("cannot be read", 1, true) and not out:find("would stop", 1, true), out)
  t.eq(select(2, out:gsub("simulated new", "")), 2, out)
  code, out = t.run(dir, "touched.lua")
  t.eq(code, 0, out)
  local done = 0
  for _, r in pairs(snapshot(dir .. "/touched.db")) do done = done + (r.status == "done" and 1 or 0) end
  t.eq(done, 2, out)
end)

-- ---- The script edited between runs -------------------------------------------------------------------

t.test("a law-simulated study switched to Kaplan's N draws its runs again rather than reusing the other N's losses", function()
  -- The law backend draws a run's loss at the N its fits count (all or non-embedding parameters):
  -- the same shape and tokens under params = "non_embedding" are another result, and a rerun of the
  -- edited script must not take the stored losses drawn at all parameters for them.
  local body = [[
local s = study "count" {
  model = function(N) return model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 } end,
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = { kind = "law", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 } },
  params = os.getenv("COUNT"),
  store = os.getenv("STORE"),
  fits = {},
  quiet = true,
}
print(string.format("LOSS %.17g", s.runs[1].loss))
]]
  local dir = t.script(root, body, "count.lua")
  local function loss(count, store)
    local code, out = t.run(dir, "count.lua", { COUNT = count, STORE = store })
    t.eq(code, 0, out)
    return out:match("LOSS (%S+)")
  end
  local fresh = loss("non_embedding", "fresh.db")
  t.ok(loss("all", "edited.db") ~= fresh, "the two counts draw different losses")
  t.eq(loss("non_embedding", "edited.db"), fresh)
  -- Switched back, the study finds its first run again: one run per count, each drawn once.
  loss("all", "edited.db")
  local store = native_store.open(dir .. "/edited.db", { read_only = true })
  local runs = store:runs()
  store:close()
  t.eq(#runs, 2)
  for _, r in ipairs(runs) do t.eq(r.attempts, 1) end
end)

t.test("a rerun of an edited script says which stored runs its sweep no longer plans, and leaves them out", function()
  local body = [[
study "edited" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5 }, D = { 1e7 } },
  backend = { kind = "law", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = os.getenv("BETA") + 0 } },
  fits = {},
}
]]
  local dir = t.script(root, body, "edited.lua")
  local code, out = t.run(dir, "edited.lua", { BETA = "0.28" })
  t.eq(code, 0, out)
  t.ok(not out:find("not in this sweep", 1, true), out)
  -- The law edited: every run is another, and the three stored ones are named, in the plan and in the run.
  -- It names what changed: the part of the configuration in which no stored run is one planned now
  -- (it said only "a sweep point, the seed, the model, the data, the backend or a hyperparameter differs").
  -- The script unchanged, run with another environment: said so (it said "an earlier version of the script").
  local note = "3 runs of this study in edited.db are not in this sweep: this script, run with other arguments or "
    .. "environment, planned them (they differ from every run planned now in backend_law_beta (stored 0.28; planned "
    .. "now 0.3)). They are kept there"
  code, out = t.run(dir, "edited.lua --dry-run", { BETA = "0.3" })
  t.eq(code, 0, out)
  t.ok(out:find("note: " .. note, 1, true), out)
  code, out = t.run(dir, "edited.lua", { BETA = "0.3" })
  t.eq(code, 0, out)
  t.ok(out:find("study edited: 3 runs, 0 done, 3 to simulate", 1, true), out)
  t.ok(out:find("study edited: " .. note, 1, true), out)
  -- The listing the note points at marks just those three (it pointed at the "*" of runs of an earlier
  -- script, which marks none of them here, the script being unchanged).
  t.ok(out:find("(scalelab results edited.db marks them with a -)", 1, true), out)
  local listing
  code, listing = t.run(dir, "results edited.db")
  t.eq(code, 0, listing)
  local marked = 0
  for _ in listing:gmatch("\n%s+%d+%-%s") do marked = marked + 1 end
  t.eq(marked, 3, listing)
  t.ok(listing:find("-: 3 runs that the study's last run did not plan", 1, true), listing)
  t.ok(not listing:find("%d%*"), listing)
  local report = read(dir .. "/edited.report.md")
  t.ok(report:find("runs: 3 done of 3", 1, true), report)
  -- Where each part of the stored runs is one that some planned run has (the sweep's points moved), the
  -- note says what may differ.
  write(dir .. "/moved.lua", (body:gsub("N = { 1e5, 2e5, 4e5 }", "N = { 1e5, 2e5, 8e5 }")))
  code, out = t.run(dir, "moved.lua --dry-run", { BETA = "0.3" })
  t.eq(code, 0, out)
  t.ok(out:find("note: 4 runs of this study in edited.db are not in this sweep: an earlier version of the script "
    .. "planned them (a sweep point, the seed, the model, the data, the backend or a hyperparameter differs)", 1, true), out)
  -- Where many parts differ (another law altogether), the first four are named and the others counted.
  write(dir .. "/law.lua", (body:gsub("E = 1.8, A = 80, B = 150, alpha = 0.34", "E = 2, A = 90, B = 160, alpha = 0.3")))
  code, out = t.run(dir, "law.lua --dry-run", { BETA = "0.25" })
  t.eq(code, 0, out)
  t.ok(out:find("(they differ from every run planned now in backend_law_A (stored 80; planned now 90); backend_law_B "
    .. "(stored 150; planned now 160); backend_law_E (stored 1.8; planned now 2); backend_law_alpha (stored 0.34; "
    .. "planned now 0.3); and 1 more part)", 1, true), out)
end)

t.test("the note on stored runs the sweep no longer plans says each value as the dry run's table does", function()
  -- It said "tokens (stored 300032; planned now 100352, 1.00045e6)": two styles beside the table's
  -- 300k, 100k and 1M; and an lr of 0.001 and one of 0.0010000001, both "0.001" at six digits, as
  -- the same, so that the part that changed went unsaid.
  local body = [[
study "restyled" {
  sweep = sweep.grid{ N = { 1e5 }, D = { D } },
  hyper = { lr = LR },
  backend = { kind = "law", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 } },
  fits = {},
}
]]
  local dir = t.script(root, body, "restyled.lua")
  local function script(d, lr)
    write(dir .. "/restyled.lua", (body:gsub("{ D }", d):gsub("LR", lr)))
  end
  -- In whole steps: 3e5 plans 299008 tokens (the table's 299k), 3e6 plans 2998272 (3M).
  script("{ 3e5, 3e6 }", "1e-3")
  local code, out = t.run(dir, "restyled.lua")
  t.eq(code, 0, out)
  local function dry(d, lr)
    script(d, lr)
    local status, text = t.run(dir, "restyled.lua --dry-run")
    t.eq(status, 0, text)
    return text
  end
  -- Counts as the table's D column says them (1e6 plans 999424: 999k).
  out = dry("{ 1e5, 1e6 }", "1e-3")
  t.ok(out:find("differ from every run planned now in tokens (stored 299k, 3M; planned now 100k, 999k)", 1, true), out)
  t.ok(out:find("%s999k%s"), out)
  -- Two counts that read alike at three digits (2998272 and 3002368: both "3M"), in full.
  out = dry("{ 3.004e6 }", "1e-3")
  t.ok(out:find("in tokens (stored 299008, 2998272; planned now 3002368)", 1, true), out)
  -- An lr that tells the runs apart, with the digits that do.
  out = dry("{ 3e5, 3e6 }", "1.0000001e-3")
  t.ok(out:find("in lr (stored 0.001; planned now 0.0010000001)", 1, true), out)
end)

t.test("the commands a study suggests quote a store path that a shell would split or take for an option", function()
  -- 'scalelab results my runs.db marks them with a -' named two files to a shell.
  local body = [[
study "quoted" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = { kind = "law", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = os.getenv("BETA") + 0 } },
  store = os.getenv("STORE"),
  fits = {},
}
]]
  local dir = t.script(root, body, "quoted.lua")
  for _, case in ipairs { { "my runs.db", "'my runs.db'" }, { "a&b.db", "'a&b.db'" }, { "-x.db", "./-x.db" },
                          { "sub/plain.db", "sub/plain.db" } } do
    local code, out = t.run(dir, "quoted.lua", { BETA = "0.28", STORE = case[1] })
    t.eq(code, 0, out)
    code, out = t.run(dir, "quoted.lua --dry-run", { BETA = "0.3", STORE = case[1] })
    t.eq(code, 0, out)
    t.ok(out:find("(scalelab results " .. case[2] .. " marks them with a - once the study has run)", 1, true), out)
  end
  -- The command as suggested lists the runs.
  local code, out = t.run(dir, "results 'my runs.db' --status done")
  t.eq(code, 0, out)
  t.ok(out:find("quoted", 1, true), out)
end)

-- The runs of the store at `path` (tests of a sweep whose D = 1e7 an edit turns into 2e7), each
-- checked done on D = 1e7, the D before the edit, and with `script` (when given) as its recorded
-- script; returns how many there are.
local function done_on_first_D(path, script)
  local count = 0
  for _, r in pairs(snapshot(path)) do
    count = count + 1
    t.eq(r.status, "done", r.label .. ": " .. tostring(r.error))
    t.ok(r.tokens < 1.5e7, r.label .. ": trained on the D before the edit (1e7), not the edited one (2e7)")
    if script then t.eq(r.script_hash, native_store.sha256(script), r.label) end
  end
  return count
end

t.test("a script edited while its study runs: the workers started after the edit train the study as it began", function()
  -- The first run edits the script, as a user would while a long study runs (the next sweep's token
  -- count): every run of the study as it began changes. Workers read the script anew; without the
  -- copy of its text that the study started with, each one started after the edit failed its run
  -- ('study live has no run ... (was the script edited?)').
  local body = [[
study "live" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5, 8e5 }, D = { 1e7 } },
  backend = function(run)
    if run.N < 1.5e5 then
      local file = assert(io.open(arg[0], "rb"))
      local text = file:read("a")
      file:close()
      file = assert(io.open(arg[0], "wb"))
      file:write((text:gsub("D = { 1" .. "e7 }", "D = { 2e7 }")))
      file:close()
    end
    return { loss = 3 + run.N / 1e6 }
  end,
  fits = {},
  quiet = true,
}
]]
  local dir = t.script(root, body, "live.lua")
  local code, out = t.run(dir, "live.lua --jobs 2")
  t.eq(code, 0, out)
  t.ok(read(dir .. "/live.lua"):find("D = { 2e7 }", 1, true), "the first run edited the script")
  -- Recorded with the script as the study began.
  t.eq(done_on_first_D(dir .. "/live.db", body), 4, out)
  -- The copy beside the store is gone once the study ends.
  local listing = io.popen("ls '" .. dir .. "'"):read("a")
  t.ok(not listing:find("script-", 1, true), listing)
  -- The edited script, run again, is another study's sweep: its runs are new, and the old ones noted.
  code, out = t.run(dir, "live.lua --dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("4 runs of this study in live.db are not in this sweep", 1, true), out)
end)

t.test("a script edited before it reaches its study: the study and its workers run it as it was loaded", function()
  -- The study read its script's text from the file when it began, not as the program had loaded it:
  -- an edit in between (a long preparation before the study, an editor saving) went into the copy
  -- its workers run and into the store's record, and the workers planned another sweep than the
  -- study's, failing their runs ('study early has no run ... (was the script edited?)').
  local body = [[
local file = assert(io.open(arg[0], "rb"))
local text = file:read("a")
file:close()
if not text:find("-- EDIT" .. "ED", 1, true) then
  file = assert(io.open(arg[0], "wb"))
  file:write((text:gsub("D = { 1" .. "e7 }", "D = { 2e7 } -- EDIT" .. "ED")))
  file:close()
end
study "early" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5 }, D = { 1e7 } },
  backend = function(run) return { loss = 3 + run.N / 1e6 } end,
  jobs = 2,
  fits = {},
  quiet = true,
}
]]
  local dir = t.script(root, body, "early.lua")
  local code, out = t.run(dir, "early.lua")
  t.eq(code, 0, out)
  t.ok(read(dir .. "/early.lua"):find("D = { 2e7 } -- EDITED", 1, true), "the script edited itself before its study")
  t.eq(done_on_first_D(dir .. "/early.db", body), 3, out)
end)

t.test("a module the script requires, edited while its study runs: the workers use it as the study began", function()
  -- The sweep's D comes from a module beside the script, which the first run edits. Each worker
  -- required the module anew from its file: those started after the edit planned another sweep and
  -- failed their runs ('study modular has no run ... (was the script edited?)').
  local dir = t.fresh_dir(root)
  local module = "-- the sweep's token counts\nreturn { D = 1e7 }\n"
  write(dir .. "/sizes.lua", module)
  write(dir .. "/modular.lua", [[
local sizes = require "sizes"
study "modular" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5, 8e5 }, D = { sizes.D } },
  backend = function(run)
    if run.N < 1.5e5 then
      local file = assert(io.open("sizes.lua", "wb"))
      file:write("return { D = 2e7 }\n")
      file:close()
    end
    return { loss = 3 + run.N / 1e6 }
  end,
  fits = {},
  quiet = true,
}
]])
  local code, out = t.run(dir, "modular.lua --jobs 2")
  t.eq(code, 0, out)
  t.eq(read(dir .. "/sizes.lua"), "return { D = 2e7 }\n", "the first run edited the module")
  t.eq(done_on_first_D(dir .. "/modular.db"), 4, out)
  -- The copies beside the store are gone once the study ends.
  local listing = io.popen("ls '" .. dir .. "'"):read("a")
  t.ok(not listing:find("module-", 1, true) and not listing:find("script-", 1, true), listing)
  -- A module with an error still says where, under its file's name.
  write(dir .. "/sizes.lua", "return { D = }\n")
  code, out = t.run(dir, "modular.lua --dry-run")
  t.eq(code, 1, out)
  t.ok(out:find("error loading module 'sizes' from file './sizes.lua':\n\t./sizes.lua:1: unexpected symbol near '}'", 1,
    true), out)
end)

t.test("a parallel study killed with its workers leaves its script's copy: the next run of the edited script removes it", function()
  -- kill -9 of a parallel study leaves the copy of its script beside the store, which the study
  -- removes only when its sweep ends. Named after the text it holds, it was never written over once
  -- the script was edited: it stayed there for good, one more file for each edit and crash.
  local body = [[
study "crashed" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5, 8e5 }, D = { 1e7 } },
  backend = { kind = "law", points = 20, seconds_per_point = 0.05 },
  jobs = 2,
  fits = {},
}
]]
  local dir = t.script(root, body, "crashed.lua")
  local pid = start(dir, "crashed.lua")
  t.ok(run_in_flight(dir .. "/crashed.db"), "a run in flight:\n" .. (read(dir .. "/killed.log") or ""))
  crash(pid)
  local copy = dir .. "/crashed.db.script-" .. native_store.sha256(body):sub(1, 16) .. ".lua"
  t.eq(read(copy), body, "the killed study left the copy of its script")
  -- The script edited (every run's D): the rerun trains the edited sweep, and nothing is left beside
  -- the store but the store, its lock and what the study keeps (checkpoints, report).
  write(dir .. "/crashed.lua", (body:gsub("D = { 1e7 }", "D = { 2e7 }")))
  local code, out = t.run(dir, "crashed.lua")
  t.eq(code, 0, out)
  local edited = 0
  for _, r in pairs(snapshot(dir .. "/crashed.db")) do
    if r.tokens > 1.5e7 then
      edited = edited + 1
      t.eq(r.status, "done", r.label)
    end
  end
  t.eq(edited, 4, out)
  t.eq(read(copy), nil, "the killed study's copy is removed")
  local listing = io.popen("ls '" .. dir .. "'"):read("a")
  t.ok(not listing:find("script-", 1, true), listing)
end)

t.test("the dry run of a study whose store another scalelab is running a study on says so", function()
  -- It listed the runs in flight as running and said nothing more, while running the study then
  -- stopped at once ('the store busy.db is in use by another scalelab (pid ...); wait for it to finish').
  local dir = t.script(root, [[
study "busy" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5, 8e5 }, D = { 1e7 } },
  backend = { kind = "law", points = 40, seconds_per_point = 0.1 },
  jobs = 2,
  fits = {},
}
]], "busy.lua")
  local note = "note: the store busy.db is in use by another scalelab now (a study runs on it; its runs in flight show "
    .. "as running): running the study now would stop before training; wait for it to finish"
  local code, out = t.run(dir, "busy.lua --dry-run")
  t.eq(code, 0, out)
  t.ok(not out:find("in use", 1, true), out)
  local pid = start(dir, "busy.lua")
  local running = run_in_flight(dir .. "/busy.db")
  code, out = t.run(dir, "busy.lua --dry-run")
  crash(pid)
  t.ok(running, "a run in flight:\n" .. (read(dir .. "/killed.log") or ""))
  t.eq(code, 0, out)
  t.ok(out:find(note, 1, true), out)
  -- Once that study is gone, nothing to say.
  code, out = t.run(dir, "busy.lua --dry-run")
  t.eq(code, 0, out)
  t.ok(not out:find("in use", 1, true), out)
end)

t.test("a store deleted after the study's last write is written back, and the study fails saying so", function()
  -- The executor removes the store once its runs are recorded, as a clean-up script might while the
  -- study fits and reports: without the check at the end the study ended with status 0, its runs
  -- gone with the open file.
  local dir = t.script(root, [[
study "vanish" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = "simulated",
  executor = { execute = function(self, batch)
    for _, run in ipairs(batch.runs) do batch.finished(run, batch.run_here(run)) end
    for _, suffix in ipairs { "", "-wal", "-shm" } do os.remove("vanish.db" .. suffix) end
  end },
  fits = {},
  quiet = true,
}
]], "vanish.lua")
  local code, out = t.run(dir, "vanish.lua")
  t.eq(code, 1, out)
  t.ok(out:find("scalelab: vanish.lua:1: study vanish: results store 'vanish.db' was deleted while scalelab had it "
    .. "open; scalelab wrote it back there, with everything recorded up to the last write, included", 1, true), out)
  local done = 0
  for _, r in pairs(t.stored_runs(dir .. "/vanish.db")) do done = done + (r.status == "done" and 1 or 0) end
  t.eq(done, 2)
end)

t.test("a study renamed in a shared store says that its runs are stored finished under its old name", function()
  local body = [[
study (os.getenv("NAME")) {
  store = "shared.db",
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5 }, D = { 1e7 } },
  backend = "simulated",
  fits = {},
}
]]
  local dir = t.script(root, body, "renamed.lua")
  local code, out = t.run(dir, "renamed.lua", { NAME = "first" })
  t.eq(code, 0, out)
  t.ok(not out:find("stored finished", 1, true), out)
  -- Renamed: the store keeps runs by study, so all three train again; the plan and the run say why
  -- and how to reuse them, before anything trains.
  local note = "3 of this study's 3 runs are stored finished in shared.db under study \"first\", with the same "
    .. "configuration, but a store keeps runs by study name, so they train again for this study; if it is \"first\" "
    .. "renamed, give it that name again (study \"first\" { ... }) to reuse them"
  code, out = t.run(dir, "renamed.lua --dry-run", { NAME = "second" })
  t.eq(code, 0, out)
  t.ok(out:find("note: " .. note, 1, true), out)
  code, out = t.run(dir, "renamed.lua", { NAME = "second" })
  t.eq(code, 0, out)
  local said = out:find("study second: " .. note, 1, true)
  t.ok(said, out)
  t.ok(said and said < out:find("start N=", 1, true), "said before the first run starts: " .. out)
  -- Finished under its new name too: nothing to say any more; the old name's runs are still there.
  code, out = t.run(dir, "renamed.lua", { NAME = "second" })
  t.eq(code, 0, out)
  t.ok(not out:find("stored finished", 1, true), out)
  local shared <close> = native_store.open(dir .. "/shared.db", { read_only = true })
  t.eq(#shared:runs { study = "first", status = "done" }, 3)
  t.eq(#shared:runs { study = "second", status = "done" }, 3)
  -- A third name: both old ones are named, with their counts.
  code, out = t.run(dir, "renamed.lua --dry-run", { NAME = "third" })
  t.eq(code, 0, out)
  t.ok(out:find("note: 3 of this study's 3 runs are stored finished in shared.db under studies \"first\" (3), "
    .. "\"second\" (3)", 1, true), out)
end)

t.test("a study renamed on its default store names the old study's store beside it and how to reuse its runs", function()
  -- The default store is named after the study: renamed, the study started a new store and trained
  -- everything again without a word about the old store beside it and its finished runs.
  local body = [[
study (os.getenv("NAME")) {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5 }, D = { 1e7 } },
  backend = "simulated",
  store = os.getenv("STORE"),
  fits = {},
}
]]
  local dir = t.script(root, body, "moved.lua")
  local code, out = t.run(dir, "moved.lua", { NAME = "first" })
  t.eq(code, 0, out)
  t.ok(not out:find("beside its store", 1, true), out)
  local note = "3 of this study's 3 runs are stored finished in first.db, beside its store second.db, under study "
    .. "\"first\", with the same configuration; a study's default store is named after the study, so if this one is "
    .. "\"first\" renamed, give it that name again (study \"first\" { ... }, whose store is first.db) to reuse them; under "
    .. "this name they are simulated again in second.db"
  code, out = t.run(dir, "moved.lua --dry-run", { NAME = "second" })
  t.eq(code, 0, out)
  t.ok(out:find("note: " .. note, 1, true), out)
  -- Said, not refused: the runs are simulated again under the new name.
  code, out = t.run(dir, "moved.lua", { NAME = "second" })
  t.eq(code, 0, out)
  t.ok(out:find("study second: note: " .. note, 1, true), out)
  local done = 0
  for _, r in pairs(t.stored_runs(dir .. "/second.db")) do done = done + (r.status == "done" and 1 or 0) end
  t.eq(done, 3, out)
  -- Once the study has finished runs of its own, nothing more to say.
  code, out = t.run(dir, "moved.lua", { NAME = "second" })
  t.eq(code, 0, out)
  t.ok(not out:find("beside its store", 1, true), out)
  -- A store the study names is its own choice: nothing said of the others beside it.
  code, out = t.run(dir, "moved.lua --dry-run", { NAME = "third", STORE = "third.db" })
  t.eq(code, 0, out)
  t.ok(not out:find("beside its store", 1, true), out)
end)

-- A study whose backend stops each run halfway, its checkpoint written, and resumes it from there
-- (resumed_from: what the checkpoint held), its store named by $STORE; with fail_above, the runs
-- of more parameters fail at each attempt ("boom").
local function moved_study(name, sizes, fail_above)
  return [[
study "]] .. name .. [[" {
  sweep = sweep.grid{ N = { ]] .. sizes .. [[ }, D = { 1e7 } },
  backend = function(run)
    ]] .. (fail_above and ("if run.N > " .. fail_above .. " then error(\"boom\") end") or "") .. [[

    local file = io.open(run.checkpoint, "rb")
    if file then
      local at = tonumber(file:read("a"))
      file:close()
      return { loss = 3, resumed_from = at }
    end
    file = assert(io.open(run.checkpoint, "wb"))
    file:write("0.5")
    file:close()
    error("interrupted: stopped halfway, its checkpoint written")
  end,
  store = os.getenv("STORE"),
  fits = {},
  report = false,
}
]]
end

t.test("a store moved (mv x.db y.db) resumes its interrupted run from the checkpoint its old name kept", function()
  -- The checkpoints' folder is named after the store (x.checkpoints): a study whose store was moved
  -- looked in y.checkpoints, found nothing and trained its interrupted run again from the start.
  local dir = t.script(root, moved_study("moved", "1e5"), "moved.lua")
  local code, out = t.run(dir, "moved.lua", { STORE = "x.db" })
  t.ok(code ~= 0, out)
  local hash = next(t.stored_runs(dir .. "/x.db"))
  t.eq(t.stored_runs(dir .. "/x.db")[hash].status, "interrupted", out)
  t.eq(read(dir .. "/x.checkpoints/" .. hash .. ".ckpt"), "0.5")
  t.ok(os.rename(dir .. "/x.db", dir .. "/y.db"))
  code, out = t.run(dir, "moved.lua", { STORE = "y.db" })
  t.eq(code, 0, out)
  local run = t.stored_runs(dir .. "/y.db")[hash]
  t.eq(run.status, "done", out)
  t.eq(run.metrics.resumed_from, 0.5, "resumed from the checkpoint: " .. out)
  t.eq(run.attempts, 2)
  -- Said, with where the checkpoint was and where it is now: beside the store, whose folder it joins.
  t.ok(out:find(": its checkpoint x.checkpoints/" .. hash .. ".ckpt, where the store "
    .. "recorded it (the store or its checkpoints folder was moved or renamed since), moves to y.checkpoints/" .. hash
    .. ".ckpt, beside the store, and the run resumes from it", 1, true), out)
  -- And the study's first line and the run's say it resumes (they said 0 resuming, and "start").
  t.ok(out:find("study moved: 1 run, 0 done, 1 to train, 1 resuming from its checkpoint", 1, true), out)
  t.ok(out:find("run 1 resume N=", 1, true), out)
  t.eq(read(dir .. "/x.checkpoints/" .. hash .. ".ckpt"), nil)
  t.eq(read(dir .. "/y.checkpoints/" .. hash .. ".ckpt"), nil, "removed with the run done")
end)

t.test("a moved store's checkpoints are moved and said so also where workers train the runs, two at a time", function()
  -- The move was made, and said, by the process that trains the run: with two runs or more at once
  -- a worker, whose output goes to its run's log, removed with the run done. The user was told nothing.
  local dir = t.script(root, moved_study("moved2", "1e5, 2e5"), "moved2.lua")
  local code, out = t.run(dir, "moved2.lua --jobs 2", { STORE = "x.db" })
  t.ok(code ~= 0, out)
  local hashes = {}
  for hash, run in pairs(t.stored_runs(dir .. "/x.db")) do
    hashes[#hashes + 1] = hash
    t.eq(run.status, "interrupted", out)
  end
  t.eq(#hashes, 2, out)
  t.ok(os.rename(dir .. "/x.db", dir .. "/y.db"))
  code, out = t.run(dir, "moved2.lua --jobs 2", { STORE = "y.db" })
  t.eq(code, 0, out)
  t.ok(out:find("(2 at a time", 1, true), "trained by workers: " .. out)
  for _, hash in ipairs(hashes) do
    local run = t.stored_runs(dir .. "/y.db")[hash]
    t.eq(run.status, "done", out)
    t.eq(run.metrics.resumed_from, 0.5, "resumed from the checkpoint: " .. out)
    t.ok(out:find(": its checkpoint x.checkpoints/" .. hash .. ".ckpt, where the store recorded it (the store or its "
      .. "checkpoints folder was moved or renamed since), moves to y.checkpoints/" .. hash .. ".ckpt, beside the store, "
      .. "and the run resumes from it", 1, true), out)
    t.eq(read(dir .. "/x.checkpoints/" .. hash .. ".ckpt"), nil)
  end
  t.ok(out:find("study moved2: 2 runs, 0 done, 2 to train, 2 resuming from their checkpoints", 1, true), out)
end)

-- After a store was moved (mv x.db y.db) and its study rerun, which fetched its checkpoints from
-- x.checkpoints, that folder kept the earlier attempts' logs (a failed run's among them, where the
-- next attempt now writes its own beside the store), and x.db.lock stayed, a lock of a store no
-- longer there. The logs go to the store's folder, the lock and the emptied folder go, and it is said;
-- a file of the user's in the old folder stays there, said too.
t.test("a moved store's old checkpoints folder gives its run logs to the new one, and its stale lock goes", function()
  local body = moved_study("tidy", "1e5, 2e5", "1.5e5")
  for _, keep in ipairs { false, true } do
    local dir = t.script(root, body, "tidy.lua")
    local code, out = t.run(dir, "tidy.lua --jobs 2", { STORE = "x.db" })
    t.ok(code ~= 0, out)
    local interrupted, failed
    for hash, run in pairs(t.stored_runs(dir .. "/x.db")) do
      if run.status == "interrupted" then interrupted = hash else failed = hash end
    end
    t.ok(interrupted and failed, out)
    local function attempts(log)
      local n = 0
      for _ in (log or ""):gmatch("scalelab worker %d+: study tidy run 2 ") do n = n + 1 end
      return n
    end
    t.eq(attempts(read(dir .. "/x.checkpoints/" .. failed .. ".log")), 1, "the failed run's log")
    -- The log says why the run failed (it said only "failed", the error in the store alone).
    t.ok(read(dir .. "/x.checkpoints/" .. failed .. ".log"):find("scalelab worker %d+: failed: [^\n]*boom"),
      read(dir .. "/x.checkpoints/" .. failed .. ".log"))
    t.ok(read(dir .. "/x.db.lock"), "the store's lock file")
    if keep then write(dir .. "/x.checkpoints/notes.txt", "mine") end
    t.ok(os.rename(dir .. "/x.db", dir .. "/y.db"))
    code, out = t.run(dir, "tidy.lua --jobs 2", { STORE = "y.db" })
    t.ok(code ~= 0, out)
    t.eq(t.stored_runs(dir .. "/y.db")[interrupted].status, "done", out)
    -- The failed run's log, both attempts in it, beside the store; nothing of it left behind.
    t.eq(attempts(read(dir .. "/y.checkpoints/" .. failed .. ".log")), 2, "the failed run's log")
    t.eq(read(dir .. "/x.checkpoints/" .. failed .. ".log"), nil)
    t.eq(read(dir .. "/x.db.lock"), nil, "the lock of a store no longer there")
    local said = "study tidy: x.checkpoints, where the store kept its checkpoints before it was moved or renamed: 3 files "
      .. "of this study's runs (logs, thread notes) moved to y.checkpoints; "
      .. (keep and "left there: notes.txt; " or "the folder, left empty, removed; ")
      .. "the lock file x.db.lock, of the store x.db no longer there, removed\n"
    t.ok(out:find(said, 1, true), said .. "\n" .. out)
    if keep then
      t.eq(read(dir .. "/x.checkpoints/notes.txt"), "mine")
    else
      t.eq(require("scalelab.native.study").list_dir(dir .. "/x.checkpoints"), nil, "the emptied folder")
    end
  end
end)

t.test("a rerun of a script whose backend function was edited warns that it reuses the runs the old one made", function()
  -- A function enters a run's identity only as "custom": the study cannot see an edit of it, and
  -- must say that it reuses the runs as they are rather than mix them silently with new ones.
  local function body(loss)
    return string.format([[
local s = study "custom" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = function(run) return { loss = run.N > 1.5e5 and 0 / 0 or %s } end,
  fits = {},
  quiet = true,
}
print("LOSS " .. s.runs[1].loss)
]], loss)
  end
  local dir = t.script(root, body("3"), "custom.lua")
  local code, out = t.run(dir, "custom.lua")
  t.eq(code, 0, out)
  t.ok(not out:find("warning", 1, true), out)
  code, out = t.run(dir, "custom.lua")   -- the same script: nothing to say
  t.eq(code, 0, out)
  t.ok(not out:find("warning", 1, true), out)
  write(dir .. "/custom.lua", body("4"))
  code, out = t.run(dir, "custom.lua")
  t.eq(code, 0, out)
  t.ok(out:find("LOSS 3", 1, true), out)
  -- Both: the done run and the diverged one, which is not trained again either.
  t.ok(out:find("study custom: warning: 2 runs finished by an earlier version of the script are reused as they are: "
    .. "the study's backend is a function, which a run's identity cannot include, so an edit of it goes unnoticed; if "
    .. "it changes what the runs compute, give the study a new store", 1, true), out)
end)

-- ---- A store that cannot be written ---------------------------------------------------------------------

-- Runs `scalelab <args>` in `dir` as a user whom file modes stop: this user when not root; as root
-- (whom chmod does not stop), as nobody through setpriv. Skips the test where neither can be had,
-- or where chmod a-w does not stop that user from writing `probe` (a file system that ignores modes).
local function run_unprivileged(dir, args, env, probe)
  local prefix = ""
  for k, v in pairs(env or {}) do prefix = prefix .. k .. "='" .. v .. "' " end
  local id = io.popen("id -u")
  local uid = id:read("l")
  id:close()
  local as = ""
  if uid == "0" then
    as = "setpriv --reuid=65534 --regid=65534 --clear-groups "
    if not os.execute(as .. "true 2>/dev/null") then
      t.skip("running as root, whom chmod does not stop, and setpriv cannot run the study as user nobody here")
    end
    -- A build under a folder closed to other users (a clone in /root) cannot be run by nobody.
    if not os.execute(string.format("%s'%s' -e '' >/dev/null 2>&1", as, exe)) then
      t.skip("running as root, whom chmod does not stop, and user nobody cannot run " .. exe
        .. " (a folder on its path is closed to other users)")
    end
  end
  if probe and os.execute(string.format("%s/bin/sh -c 'test -w \"%s\"'", as, probe)) then
    t.skip("chmod a-w did not stop " .. (as == "" and "this user" or "nobody") .. " from writing " .. probe)
  end
  local err_path = os.tmpname()
  local code = os.execute(string.format("cd '%s' && %s%s'%s' %s >'%s.out' 2>'%s'", dir, prefix, as, exe, args,
                                        err_path, err_path))
  local out, err = read(err_path .. ".out") or "", read(err_path) or ""
  os.remove(err_path)
  os.remove(err_path .. ".out")
  return code and 0 or 1, out .. err, err
end

-- A folder (for user nobody to write) holding `name`.lua, a two-run study simulated by the law backend
-- whose declaration ends with `key` = os.getenv(`env`), and a read-only folder ro.
local function study_beside_read_only_folder(name, key, env)
  local dir = t.script(root, string.format([[
study "%s" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = { kind = "law" },
  fits = {},
  %s = os.getenv("%s"),
}
]], name, key, env), name .. ".lua")
  os.execute("mkdir '" .. dir .. "/ro' && chmod 555 '" .. dir .. "/ro' && chmod 777 '" .. dir .. "'")
  return dir
end

t.test("the dry run of a new store in a folder that cannot be written says that running would stop", function()
  -- It said nothing (a store in a read-only folder), or that running the study would make the
  -- store's folder (a missing folder under a read-only one); the run then stopped at once.
  local dir = study_beside_read_only_folder("blocked", "store", "STORE")
  for _, case in ipairs {
      { "ro/x.db", "its folder 'ro' is not writable (Permission denied)" },
      { "ro/sub/x.db", "its folder 'ro/sub' does not exist, and 'ro', where it would be made, is not writable "
        .. "(Permission denied)" } } do
    local code, out = run_unprivileged(dir, "blocked.lua --dry-run", { STORE = case[1] }, dir .. "/ro")
    t.eq(code, 0, out)
    t.ok(out:find("note: the store " .. case[1] .. " cannot be made: " .. case[2] .. "; running the study would stop "
      .. "before training (give store = a path in a folder you can write)", 1, true), out)
    t.ok(not out:find("running the study makes it", 1, true), out)
    code, out = run_unprivileged(dir, "blocked.lua", { STORE = case[1] })
    t.eq(code, 1, out)
  end
  -- A missing folder that can be made is still said to be made.
  local code, out = run_unprivileged(dir, "blocked.lua --dry-run", { STORE = "new/x.db" })
  t.eq(code, 0, out)
  t.ok(out:find("note: the store's folder new does not exist; running the study makes it", 1, true), out)
  os.execute("chmod 755 '" .. dir .. "/ro'")
end)

t.test("the dry run of a store this user cannot read says so, rather than plan every run as new", function()
  -- A folder or a store that this user may not read (another user's, mode 700 or 600) was taken
  -- for no store at all: every run planned new and nothing said, or the store's folder said not to
  -- exist, while running the study stopped at once.
  local dir = study_beside_read_only_folder("closed", "store", "STORE")
  local code, out = t.run(dir, "closed.lua", { STORE = "theirs.db" })
  t.eq(code, 0, out)
  os.execute(string.format("cd '%s' && mkdir private && chmod 700 private theirs.db && chmod 600 theirs.db", dir))
  for _, case in ipairs {
      { "private", "results store 'private' is a folder, not a file" },
      { "theirs.db", "cannot read results store 'theirs.db': Permission denied" },
      { "private/x.db", "cannot open results store 'private/x.db': Permission denied" } } do
    code, out = run_unprivileged(dir, "closed.lua --dry-run", { STORE = case[1] }, dir .. "/private")
    t.eq(code, 0, out)
    t.ok(out:find("note: the store cannot be read, so the statuses above take it for empty, and running the study "
      .. "would stop before training: " .. case[2], 1, true), out)
    t.ok(not out:find("does not exist", 1, true), out)
  end
  os.execute("chmod 755 '" .. dir .. "/ro' '" .. dir .. "/private'")
end)

-- A study whose `key` names a folder under the read-only folder ro (`value`): its dry run says `said`
-- and that running would stop, the run refuses with `said` before it makes its store, and with
-- `writable` instead the study runs.
local function refused_before_the_store(name, key, env, value, said, writable)
  local dir = study_beside_read_only_folder(name, key, env)
  local code, out = run_unprivileged(dir, name .. ".lua --dry-run", { [env] = value }, dir .. "/ro")
  t.eq(code, 0, out)
  t.ok(out:find("note: " .. said .. "; running the study would stop before training", 1, true), out)
  code, out = run_unprivileged(dir, name .. ".lua", { [env] = value })
  t.eq(code, 1, out)
  t.ok(out:find(name .. ".lua:1: study " .. name .. ": " .. said, 1, true), out)
  t.eq(read(dir .. "/" .. name .. ".db"), nil, "nothing trained, no store made")
  code, out = run_unprivileged(dir, name .. ".lua", { [env] = writable })
  t.eq(code, 0, out)
  os.execute("chmod 755 '" .. dir .. "/ro'")
  return dir
end

t.test("a study whose report cannot be written refuses before it trains, and its dry run says so", function()
  -- The report in a folder this user cannot write: every run was trained, and only then did the
  -- study fail, with 'cannot write 'ro/rep.report.md': Permission denied', naming neither the study
  -- nor the fix; the dry run said nothing.
  local dir = refused_before_the_store("unreported", "report", "REPORT", "ro/rep", "its report ro/rep.report.md cannot "
    .. "be written: its folder 'ro' is not writable (Permission denied), so the report and its figures would have "
    .. "nowhere to go once the runs are done; give report = \"DIR/rep\" in a folder you can write, or report = false "
    .. "(no report files)", "rep")
  t.ok(read(dir .. "/rep.report.md"), "given a folder it can write, the study reports")
end)

t.test("a study whose checkpoints cannot be written refuses before it makes its store, and its dry run says so", function()
  -- checkpoints = "ro/ck" under a read-only folder: the study made its store and recorded its plan,
  -- then stopped with 'cannot create folder 'ro/ck': Permission denied', naming neither the study nor
  -- the fix; the dry run said nothing.
  refused_before_the_store("unsaved", "checkpoints", "CK", "ro/ck", "its runs' checkpoints cannot be written in ro/ck: "
    .. "its folder 'ro/ck' does not exist, and 'ro', where it would be made, is not writable (Permission denied); give "
    .. "checkpoints = \"DIR\" in a folder you can write", "ck")
end)

-- An IsoFLOP study simulated from a law, with a question; BUDGETS=3 adds a third budget (five more runs).
local READ_ONLY = [[
study "shared" {
  sweep = sweep.isoflop{ budgets = os.getenv("BUDGETS") == "3" and { 1e15, 1e16, 3e16 } or { 1e15, 1e16 }, points = 5 },
  backend = { kind = "law", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 } },
  fits = { "isoflop" },
  questions = { plan.optimal{ compute = 1e21 } },
  store = "shared.db",
  quiet = true,
}
]]

-- A folder whose store holds every run of READ_ONLY done, made by this user, then its store made
-- read-only (and the folder writable by all, so that nobody can write the report beside it).
local function read_only_store()
  local dir = t.script(root, READ_ONLY, "shared.lua")
  local code, out = t.run(dir, "shared.lua")
  t.eq(code, 0, out)
  os.execute(string.format("cd '%s' && rm -rf shared.report.md shared.report.json shared.figures shared.db.lock "
    .. "&& chmod 444 shared.db && chmod 777 .", dir))
  return dir
end

-- The dry run of READ_ONLY on the read-only store in `dir`: it lists `done` runs done and `new` new,
-- and its note on the store ends with `note`.
local function dry_run_on_read_only(dir, env, done, new, note)
  local code, out = run_unprivileged(dir, "shared.lua --dry-run", env)
  t.eq(code, 0, out)
  t.eq(select(2, out:gsub("simulated done", "")), done, out)
  t.eq(select(2, out:gsub("simulated new", "")), new, out)
  t.ok(out:find("note: the store shared.db is read-only (the file is not writable: Permission denied): " .. note, 1,
                true), out)
end

t.test("a study whose store is read-only but holds every planned run done fits, answers and reports from it", function()
  local dir = read_only_store()
  local before = read(dir .. "/shared.db")
  local code, out, err = run_unprivileged(dir, "shared.lua", nil, dir .. "/shared.db")
  t.eq(code, 0, out)
  local said = "study shared: the store shared.db is read-only (the file is not writable: Permission denied): it "
    .. "holds all 10 runs done, so nothing was trained or written to it; the fits and report are made from it as it is"
  t.ok(err:find(said, 1, true), err)
  t.eq(select(2, err:gsub("is read%-only", "")), 1, err)   -- said once
  local report = read(dir .. "/shared.report.md")
  t.ok(report and report:find("IsoFLOP", 1, true) and report:find("runs: 10 done of 10", 1, true), report or out)
  t.ok(read(dir .. "/shared.report.json"), "the JSON report is written beside the store")
  t.eq(read(dir .. "/shared.db"), before, "the store is untouched")
  t.ok(not read(dir .. "/shared.db-wal"), "no journal was made beside the store")
  -- The dry run shows the statuses and says what a run would do.
  dry_run_on_read_only(dir, nil, 10, 0, "every run is done, so running the study reads it and writes the report "
    .. "without training")
  os.execute("chmod 644 '" .. dir .. "/shared.db'")
end)

t.test("a study whose read-only store lacks runs refuses, counting them and saying how to get a writable store", function()
  local dir = read_only_store()
  local before = read(dir .. "/shared.db")
  local code, out = run_unprivileged(dir, "shared.lua", { BUDGETS = "3" }, dir .. "/shared.db")
  t.eq(code, 1, out)
  t.ok(out:find("study shared: the store shared.db cannot be written (the file is not writable: Permission denied), "
    .. "and 5 of 15 runs are still to simulate: simulating needs a writable store; copy it to a folder you can write "
    .. "(cp shared.db DIR/) and give the copy as store =, or make it writable (chmod u+w shared.db). The 10 done are "
    .. "kept as they are", 1, true), out)
  t.eq(read(dir .. "/shared.db"), before, "the store is untouched")
  t.ok(not read(dir .. "/shared.report.md"), "no report is written")
  -- The dry run shows which runs are done and which are not, and that a run would stop.
  dry_run_on_read_only(dir, { BUDGETS = "3" }, 10, 5, "running the study would stop before training 5 runs (copy "
    .. "the store somewhere writable, or chmod u+w it)")
  os.execute("chmod 644 '" .. dir .. "/shared.db'")
end)

t.test("a read-only store in a folder that cannot be written either: the study names the folder and the fix", function()
  local dir = read_only_store()
  os.execute("chmod 555 '" .. dir .. "'")
  local code, out = run_unprivileged(dir, "shared.lua", nil, dir)
  os.execute("chmod 755 '" .. dir .. "' && chmod 644 '" .. dir .. "/shared.db'")
  t.eq(code, 1, out)
  t.ok(out:find("study shared: the store shared.db is read-only (the file is not writable: Permission denied) and "
    .. "the folder '.' of its report cannot be written either, so the report (shared.report.md) and its figures have "
    .. "nowhere to go: copy the store to a folder you can write (cp shared.db DIR/) and give the copy as store =, or "
    .. "give report = \"DIR/shared\"", 1, true), out)
  t.ok(not read(dir .. "/shared.report.md"), "no report is written")
end)

t.done()
