-- train.run from Lua: a data source written in Lua, the result's fields, the simulated backend,
-- checkpoints and bad input.
local t = require "scalelab.test"

-- A Lua data source: a deterministic cycle (token i is followed by (5·i + 3) mod V) with a random
-- start per row, so a model can learn it almost perfectly.
local function cycle_source(V, T, B, seed)
  local src = { vocab = V, seq_len = T, batch = B, seed = seed }
  function src:next_batch()
    local out = {}
    for _ = 1, self.batch do
      self.seed = (self.seed * 1103515245 + 12345) % 2147483648
      local tok = self.seed % self.vocab
      for _ = 0, self.seq_len do
        out[#out + 1] = tok
        tok = (5 * tok + 3) % self.vocab
      end
    end
    return out
  end
  function src:state() return tostring(self.seed) end
  function src:restore(s) self.seed = tonumber(s) end
  function src:held_out() return cycle_source(V, T, B, seed + 1000) end
  return src
end

local gpt = model.gpt{ vocab = 32, ctx = 16, d_model = 32, n_layer = 1, n_head = 2 }

t.test("train.run learns a deterministic cycle and reports its numbers", function()
  local r = train.run{ model = gpt, data = cycle_source(32, 16, 8, 7), steps = 150, lr = 3e-3, threads = 2 }
  t.eq(r.status, "done")
  t.ok(r.loss < 0.3, "held-out loss " .. tostring(r.loss))
  t.near(r.curve[1].eval_loss, math.log(32), 0.02)
  t.eq(r.curve[1].tokens, 0)
  t.eq(r.tokens, 150 * 8 * 16)
  t.near(r.flops, r.tokens * gpt.flops_per_token, 1e-9)
  t.ok(r.flops_palm > r.flops)
  t.ok(r.tokens_per_second > 0)
  t.eq(r.params, gpt.params)
  t.ok(tostring(r):find("^done: held%-out loss"), tostring(r))
end)

t.test("the simulated backend needs no data", function()
  local r = train.simulate{ model = gpt, tokens = 1e6, batch = 8, seq_len = 16,
                            law = { E = 1.0, A = 10, alpha = 0.3, B = 50, beta = 0.3, noise = 0 } }
  t.eq(r.backend, "simulated")
  t.near(r.loss, 1.0 + 10 / gpt.params ^ 0.3 + 50 / r.tokens ^ 0.3, 1e-6)
end)

t.test("help names the N and T of every FLOP count and the N of the simulated law", function()
  -- REFERENCE: Kaplan counts non-embedding N, Chinchilla all parameters; name the convention.
  -- r.flops, r.flops_palm and r.flops_per_second said "6N" without saying which N, and
  -- train.simulate's L(N, D) did not say that it draws at all parameters (r.loss above).
  local docs = require("scalelab.native.core").docs()
  local r = train.simulate{ model = gpt, tokens = 1e4, batch = 8, seq_len = 16 }
  local props = getmetatable(r).__properties
  for _, key in ipairs { "flops", "flops_palm", "flops_per_second" } do
    t.ok(docs[props[key]]:find("N non-embedding", 1, true), key .. ": " .. docs[props[key]])
  end
  t.ok(docs[props.flops]:find("T the rows' length", 1, true), docs[props.flops])
  t.ok(docs[train.simulate]:find("N all parameters", 1, true), docs[train.simulate])
  local shape = getmetatable(gpt).__properties
  for _, key in ipairs { "flops_per_token", "flops_per_token_palm", "hardware_flops_per_token" } do
    t.ok(docs[shape[key]]:find("N non-embedding", 1, true), key .. ": " .. docs[shape[key]])
  end
end)

t.test("a checkpoint resumes to the same result", function()
  local path = os.tmpname()
  os.remove(path)
  local function config(extra)
    local c = { model = gpt, data = cycle_source(32, 16, 8, 3), steps = 20 }
    for k, v in pairs(extra or {}) do c[k] = v end
    if c.checkpoint then c.checkpoint_interval = 16 * 8 end
    return c
  end
  local full = train.run(config())
  -- A run that fails at step 9 leaves the checkpoint of step 9 (written every step).
  t.raises(function()
    train.run(config{ checkpoint = path, progress = function(p) if p.step == 9 then error("stop here") end end })
  end, "stop here")
  t.ok(io.open(path, "rb"), "checkpoint written")
  local again = train.run(config{ checkpoint = path })
  t.eq(again.steps, 20)
  t.eq(again.loss, full.loss)
  t.eq(#again.curve, #full.curve)
  for i = 1, #full.curve do t.eq(again.curve[i].train_loss, full.curve[i].train_loss) end
  os.remove(path)
end)

t.test("an error in the progress function stops the run with its checkpoint written, and says so", function()
  -- The error unwound the run from inside its loop: without checkpoint_interval (checkpoints only at
  -- the end or on Ctrl-C) the checkpoint was never written, and every step trained was lost.
  local path = os.tmpname()
  os.remove(path)
  local function config(extra)
    local c = { model = gpt, data = cycle_source(32, 16, 8, 3), steps = 20, threads = 1 }
    for k, v in pairs(extra or {}) do c[k] = v end
    return c
  end
  local full = train.run(config())
  local ok, message = pcall(train.run, config{ checkpoint = path,
    progress = function(p) if p.step == 9 then error("stop here") end end })
  t.ok(not ok)
  t.ok(tostring(message):find("stop here (in the progress function: train.run stopped after 9 of 20 steps; the "
    .. "checkpoint " .. path .. " holds it, from which train.run resumes when called again", 1, true), message)
  t.ok(io.open(path, "rb"), "checkpoint written")
  local again = train.run(config{ checkpoint = path })
  t.eq(again.steps, 20)
  t.eq(again.loss, full.loss)
  for i = 1, #full.curve do t.eq(again.curve[i].train_loss, full.curve[i].train_loss) end
  os.remove(path)
  -- Without a checkpoint: what was lost, and how to keep it.
  ok, message = pcall(train.run, config{ progress = function(p) if p.step == 4 then error({ code = 4 }) end end })
  t.eq(type(message), "table", "an error value that is no string comes as it was")
  t.eq(message.code, 4)
  ok, message = pcall(train.run, config{ progress = function(p) if p.step == 4 then error("oops") end end })
  t.ok(tostring(message):find("oops (in the progress function: train.run stopped after 4 of 20 steps without a "
    .. "checkpoint, so its training is lost", 1, true), message)
end)

-- `src` whose method `method` raises `err` at its k-th call (and works at every other).
local function failing_at(src, method, k, err)
  local calls, works = 0, src[method]
  src[method] = function(self, ...)
    calls = calls + 1
    if calls == k then error(err) end
    return works(self, ...)
  end
  return src
end

-- `again`, a resumed run, is `full`, the run uninterrupted, bit for bit.
local function same_run(again, full)
  t.eq(again.steps, full.steps)
  t.eq(again.loss, full.loss)
  t.eq(#again.curve, #full.curve)
  for i = 1, #full.curve do
    t.eq(again.curve[i].train_loss, full.curve[i].train_loss)
    t.eq(again.curve[i].eval_loss, full.curve[i].eval_loss)
  end
end

t.test("a data source's error stops the run with the checkpoint of the step before, and says so", function()
  -- The error unwound the run from inside its step: the checkpoint (at the end or on Ctrl-C only,
  -- without checkpoint_interval) was never written, and every step trained was lost.
  local path = os.tmpname()
  os.remove(path)
  -- batch = 16 rows of the source's 8: two of its batches a step, so the 20th call fails part-way
  -- through step 10, the source already past the step's first batch.
  local function config(extra)
    local c = { model = gpt, data = cycle_source(32, 16, 8, 3), steps = 20, batch = 16, threads = 1 }
    for k, v in pairs(extra or {}) do c[k] = v end
    return c
  end
  local full = train.run(config())
  local ok, message = pcall(train.run, config{ checkpoint = path,
    data = failing_at(cycle_source(32, 16, 8, 3), "next_batch", 20, "the source broke") })
  t.ok(not ok)
  t.ok(tostring(message):find("the source broke (in data:next_batch() for step 10 of 20: train.run stopped after 9 "
    .. "of 20 steps; the checkpoint " .. path .. " holds it, from which train.run resumes when called again", 1, true),
    message)
  t.ok(io.open(path, "rb"), "checkpoint written")
  -- Resumed with a source that works: the uninterrupted run's result, bit for bit (the checkpoint
  -- holds the source's position before step 10, not after the batch it read).
  local again = train.run(config{ checkpoint = path })
  same_run(again, full)
  os.remove(path)
  -- Its state() failing before a step stops it there too (its 1st call is at the run's start).
  ok, message = pcall(train.run, config{ checkpoint = path,
    data = failing_at(cycle_source(32, 16, 8, 3), "state", 4, "no state") })
  t.ok(tostring(message):find("no state (in data:state() for step 3 of 20: train.run stopped after 2 of 20 steps; "
    .. "the checkpoint " .. path .. " holds it", 1, true), message)
  again = train.run(config{ checkpoint = path })
  t.eq(again.loss, full.loss)
  os.remove(path)
  -- Without a checkpoint: what was lost, and how to keep it. An error value that is no string comes as it was.
  ok, message = pcall(train.run, config{ data = failing_at(cycle_source(32, 16, 8, 3), "next_batch", 5, "oops") })
  t.ok(tostring(message):find("oops (in data:next_batch() for step 3 of 20: train.run stopped after 2 of 20 steps "
    .. "without a checkpoint, so its training is lost", 1, true), message)
  -- On the first step nothing was trained, and nothing is lost: it said "so its training is lost".
  ok, message = pcall(train.run, config{ data = failing_at(cycle_source(32, 16, 8, 3), "next_batch", 1, "oops") })
  t.ok(tostring(message):find("oops (in data:next_batch() for step 1 of 20: train.run stopped after 0 of 20 steps "
    .. "without a checkpoint: nothing was trained yet, so nothing is lost", 1, true), message)
  ok, message = pcall(train.run, config{ data = failing_at(cycle_source(32, 16, 8, 3), "next_batch", 5, { code = 5 }) })
  t.eq(type(message), "table", tostring(message))
  t.eq(message.code, 5)
end)

t.test("held-out data of a Lua source with another vocabulary than the training data's is refused", function()
  -- A held-out source of vocab 16 under a model of 32 trained on ids of 32: ids of another vocabulary.
  t.raises(function()
    train.run{ model = gpt, data = cycle_source(32, 16, 8, 3), eval_data = cycle_source(16, 16, 8, 1003), steps = 1,
               threads = 1, progress = false }
  end, "train.run: the held-out data's token ids are not the training data's: data is vocab 32 and eval_data is "
    .. "vocab 16, so the held-out loss would score ids of another vocabulary")
end)

t.test("refusing held-out data of another vocabulary advises data:held_out() only where the data has it", function()
  -- A Lua source with a held_out method: leaving eval_data out evaluates on its own held-out split.
  local message = t.raises(function()
    train.run{ model = gpt, data = cycle_source(32, 16, 8, 3), eval_data = cycle_source(16, 16, 8, 1003), steps = 1,
               threads = 1, progress = false }
  end, "evaluate on held-out data of the training data's tokenizer and vocabulary: leave eval_data out (the training "
    .. "data's own held-out split, data:held_out()), or give a held-out source over a corpus made with the same "
    .. "tokenizer and vocab")
  -- One without: it advised data:held_out() all the same, which it has not.
  local plain = cycle_source(32, 16, 8, 3)
  plain.held_out = nil
  message = t.raises(function()
    train.run{ model = gpt, data = plain, eval_data = cycle_source(16, 16, 8, 1003), steps = 1, threads = 1,
               progress = false }
  end, "evaluate on held-out data of the training data's tokenizer and vocabulary: give eval_data = a held-out "
    .. "source over a corpus made with the same tokenizer and vocab")
  t.ok(not message:find("held_out", 1, true), message)
end)

t.test("a held-out source's error stops the run at that evaluation with its checkpoint written, and says so", function()
  local path = os.tmpname()
  os.remove(path)
  -- One held-out batch per evaluation, every 2 steps: the 5th evaluation is the one after step 8.
  local function config(extra)
    local c = { model = gpt, data = cycle_source(32, 16, 8, 3), eval_data = cycle_source(32, 16, 8, 1003),
                steps = 20, eval_tokens = 8 * 16, eval_interval = 2 * 8 * 16, threads = 1 }
    for k, v in pairs(extra or {}) do c[k] = v end
    return c
  end
  local full = train.run(config())
  local ok, message = pcall(train.run, config{ checkpoint = path,
    eval_data = failing_at(cycle_source(32, 16, 8, 1003), "next_batch", 5, "held-out broke") })
  t.ok(not ok)
  t.ok(tostring(message):find("held-out broke (in eval_data:next_batch(): train.run stopped during the held-out "
    .. "evaluation after 8 of 20 steps (a resumed run evaluates there again); the checkpoint " .. path .. " holds it",
    1, true), message)
  t.ok(io.open(path, "rb"), "checkpoint written")
  local again = train.run(config{ checkpoint = path })
  same_run(again, full)
  os.remove(path)
  -- Its rewind (restore) failing, and the data's own held-out source named as the user knows it.
  ok, message = pcall(train.run, config{ eval_data = failing_at(cycle_source(32, 16, 8, 1003), "restore", 2, "no rewind") })
  t.ok(tostring(message):find("no rewind (in eval_data:restore(): train.run stopped during the held-out evaluation "
    .. "after 2 of 20 steps", 1, true), message)
  local src = cycle_source(32, 16, 8, 3)
  function src:held_out() return failing_at(cycle_source(32, 16, 8, 1003), "next_batch", 1, "none held out") end
  local c = config{ data = src }
  c.eval_data = nil
  ok, message = pcall(train.run, c)
  t.ok(tostring(message):find("none held out (in data:held_out():next_batch(): train.run stopped during the held-out "
    .. "evaluation after 0 of 20 steps", 1, true), message)
end)

t.test("a resume on another thread count goes on and says it is not the bitwise continuation", function()
  local path = os.tmpname()
  os.remove(path)
  local function config(extra)
    local c = { model = gpt, data = cycle_source(32, 16, 8, 3), steps = 12, checkpoint = path,
                checkpoint_interval = 16 * 8 }
    for k, v in pairs(extra) do c[k] = v end
    return c
  end
  t.raises(function()
    train.run(config{ threads = 1, progress = function(p) if p.step == 5 then error("stop here") end end })
  end, "stop here")
  local r = train.run(config{ threads = 2 })
  t.eq(r.status, "done")
  t.eq(r.steps, 12)
  t.eq(r.note, "resumed on 2 threads from a checkpoint made on 1: the continuation is not bitwise the one 1 thread "
    .. "gives; threads = 1 for that")
  t.ok(tostring(r):find("(note: resumed on 2 threads", 1, true), tostring(r))
  -- Its checkpoint is now of a run on 2 threads: on 2 again, nothing to say.
  t.eq(train.run(config{ threads = 2 }).note, "")
  os.remove(path)
end)

t.test("a run whose checkpoint cannot be written returns its result with a note saying so", function()
  local folder = os.tmpname()
  os.remove(folder)
  t.ok(os.execute("mkdir " .. folder))
  local path = folder .. "/run.ckpt"
  local plain = train.run{ model = gpt, data = cycle_source(32, 16, 8, 3), steps = 6, threads = 1 }
  -- The folder replaced by a file before the final checkpoint.
  local r = train.run{ model = gpt, data = cycle_source(32, 16, 8, 3), steps = 6, threads = 1, checkpoint = path,
    progress = function(p)
      if p.step == p.steps then
        os.remove(folder)
        t.write_file(folder, "in the way")
      end
    end }
  os.remove(folder)
  t.eq(r.status, "done")
  t.eq(r.train_loss, plain.train_loss)
  t.eq(r.loss, plain.loss)
  t.ok(r.note:find("the checkpoint " .. path .. " could not be written at step 6 (", 1, true), r.note)
  t.ok(r.note:find("no checkpoint is there now, so a resume starts over", 1, true), r.note)
end)

t.test("backends: cpu and simulated are built in, auto picks one that runs here", function()
  local names = table.concat(train.backends(), " ")
  t.ok(names:find("cpu") and names:find("simulated"), names)
  local r = train.run{ model = gpt, data = cycle_source(32, 16, 8, 7), steps = 2, backend = "auto", threads = 1 }
  t.ok(r.backend == "cpu" or r.backend == "cuda", r.backend)
  t.eq(r.status, "done")
end)

t.test("bad input is named", function()
  t.raises(function() train.run{ model = gpt, data = cycle_source(32, 16, 8, 1), tokens = 100, lr = -1 } end,
    "lr must be a positive number")
  t.raises(function() train.run{ model = gpt, data = cycle_source(32, 16, 8, 1), tokens = 100, bakend = "cpu" } end,
    "did you mean 'backend'")
  t.raises(function() train.run{ model = gpt, data = cycle_source(64, 16, 8, 1), tokens = 1000 } end,
    "vocabulary (64) is larger")
  t.raises(function() train.run{ model = gpt, data = 5, tokens = 1000 } end, "must be a data source")
  t.raises(function() train.run{ model = gpt, data = cycle_source(32, 16, 8, 1), tokens = 1000, backend = "gpu" } end,
    "unknown backend")
end)

t.test("backend_available: a misspelt name is an error naming it, the known backends and the near one", function()
  -- It said false, as for a backend this machine cannot run.
  t.raises(function() train.backend_available("cdua") end,
    'train.backend_available: unknown backend "cdua"; did you mean "cuda"? (known backends: "auto", "cpu", "cuda", "simulated")')
  t.raises(function() train.backend_available("tpu") end, 'unknown backend "tpu"; did you mean "cpu"? (known backends: ')
  t.eq(train.backend_available("cpu"), true)
  t.eq(train.backend_available("simulated"), true)
  t.eq(train.backend_available("auto"), true)
  t.eq(type(train.backend_available("cuda")), "boolean")  -- a known name, built here or not
end)

t.test("zero, negative and out-of-range values are errors naming the key and the range", function()
  local function run(extra)
    local c = { model = gpt, data = cycle_source(32, 16, 8, 1), tokens = 1000, threads = 1 }
    for k, v in pairs(extra) do c[k] = v end
    return train.run(c)
  end
  t.raises(function() run{ tokens = -5 } end, "tokens (training tokens D) must be >= 1 (got -5)")
  t.raises(function() run{ batch = 0 } end, "batch (rows per optimizer step) must be >= 1 (got 0)")
  t.raises(function() run{ seed = -1 } end, "seed (the random seed) must be >= 0 (got -1)")
  t.raises(function() run{ steps = 0, tokens = nil } end, "steps (optimizer steps) must be >= 1 (got 0)")
  t.raises(function() run{ eval_interval = -1 } end, "eval_interval (tokens between evaluations, 0: about 20 per run) must be >= 0 (got -1)")
  t.raises(function() run{ eval_tokens = -1 } end, "eval_tokens (held-out tokens per evaluation, 0: 16 batches) must be >= 0 (got -1)")
  t.raises(function() run{ checkpoint_interval = -128 } end, "checkpoint_interval (tokens between checkpoints, 0: only at the end) must be >= 0 (got -128)")
  t.raises(function() run{ threads = -1 } end, "threads (CPU threads, 0: all cores) must be >= 0 (got -1)")
  t.raises(function() run{ steps = 2.5, tokens = nil } end, "steps (optimizer steps) must be a whole number (got 2.5)")
  t.raises(function() run{ tokens = 100 } end, "tokens = 100 is less than one optimizer step of batch × seq_len = 8 × 16 = 128")
  t.raises(function() run{ model = "m" } end, "train.run: model must be a model shape, model.gpt{")
  t.raises(function() run{ model = "m" } end, "(got string \"m\")")
  t.raises(function() run{ law = { E = 1 } } end, "law applies only to the simulated backend")
  t.raises(function() train.simulate() end, "train.simulate expects a table of named arguments, like train.simulate{ model = ")
  t.raises(function() train.simulate{ N = 1e6, D = 1e8 } end,
    "train.simulate: give the model and its tokens, not N =: model = model.shape_for{ params = N }")
  t.raises(function() data.synthetic() end, "data.synthetic expects a table of named arguments, like data.synthetic{ kind = ")
  t.raises(function() fit.approach1() end, "fit.approach1 expects the runs with their curves")
  t.raises(function() run{ micro_batch = 0 } end, "micro_batch (rows per forward and backward pass) must be >= 1 (got 0)")
  t.raises(function() run{ micro_batch = 3 } end, "micro_batch = 3 rows must divide the sampler's batch of 8 rows")
  -- Passes of 4 rows: the same run as whole batches of 8, to rounding.
  local whole, split = run{}, run{ micro_batch = 4 }
  t.eq(whole.micro_batch, 8)
  t.eq(split.micro_batch, 4)
  t.near(split.loss, whole.loss, 1e-5)
end)

t.test("a Lua source's token ids outside its vocabulary are refused, not wrapped to other tokens", function()
  local function source(id)
    local src = { vocab = 32, seq_len = 16, batch = 8 }
    function src:next_batch() local out = {} for i = 1, 8 * 17 do out[i] = i % 32 end out[5] = id return out end
    function src:state() return "" end
    function src:restore() end
    return src
  end
  local big = model.gpt{ vocab = 64, ctx = 16, d_model = 32, n_layer = 1, n_head = 2 }
  -- 2^40 wrapped to token 0 (its low 32 bits) and trained on that, silently.
  t.raises(function() train.run{ model = gpt, data = source(2 ^ 40), steps = 1, threads = 1, progress = false } end,
    "train.run: data:next_batch(): entry 5 is 1099511627776, outside the source's vocabulary [0, 32)")
  t.raises(function() train.run{ model = gpt, data = source(2 ^ 32 + 3), steps = 1, threads = 1, progress = false } end,
    "entry 5 is 4294967299, outside the source's vocabulary [0, 32)")
  -- Within the model's vocabulary but not the source's: the source and its vocab disagree.
  t.raises(function() train.run{ model = big, data = source(40), steps = 1, threads = 1, progress = false } end,
    "entry 5 is 40, outside the source's vocabulary [0, 32) (its vocab field)")
  t.eq(train.run{ model = gpt, data = source(31), steps = 1, threads = 1, progress = false }.status, "done")
end)

t.test("options that contradict the run are errors naming them, not dropped", function()
  local no_held_out = cycle_source(32, 16, 8, 1)
  no_held_out.held_out = nil
  -- eval_tokens with nothing to evaluate on: the run trained without a held-out loss, unsaid.
  t.raises(function() train.run{ model = gpt, data = no_held_out, steps = 2, threads = 1, eval_tokens = 1024 } end,
    "train.run: eval_tokens = 1024 sets the held-out tokens of each evaluation, but this run has no held-out data")
  t.eq(train.run{ model = gpt, data = no_held_out, steps = 2, threads = 1, eval_tokens = 0 }.status, "done")
  -- train.simulate always simulates: backend = "cpu" was dropped and the losses drawn.
  t.raises(function() train.simulate{ model = gpt, tokens = 1e5, batch = 8, seq_len = 16, backend = "cpu" } end,
    "train.simulate: backend = \"cpu\" contradicts train.simulate")
  t.eq(train.simulate{ model = gpt, tokens = 1e5, batch = 8, seq_len = 16, backend = "simulated" }.backend, "simulated")
  -- checkpoint = "" trained without a checkpoint, unsaid.
  t.raises(function() train.run{ model = gpt, data = cycle_source(32, 16, 8, 1), steps = 2, threads = 1, checkpoint = "" } end,
    "train.run: checkpoint = \"\" names no file; give a path")
end)

t.test("0 means the documented default for eval_interval, eval_tokens, checkpoint_interval and threads", function()
  local function run(extra)
    local c = { model = gpt, data = cycle_source(32, 16, 8, 1), steps = 40, threads = 1 }
    for k, v in pairs(extra) do c[k] = v end
    return train.run(c)
  end
  local plain = run{}
  local zeros = run{ eval_interval = 0, eval_tokens = 0, checkpoint_interval = 0 }
  t.eq(#zeros.curve, 21)  -- the initial point and about 20 evaluations: every 40 / 20 = 2 steps
  t.eq(#zeros.curve, #plain.curve)
  for i = 1, #plain.curve do t.eq(zeros.curve[i].eval_loss, plain.curve[i].eval_loss) end
  t.eq(run{ threads = 0 }.status, "done")  -- all cores
end)

t.test("the default evaluation interval makes at most 20 evaluations after the initial one", function()
  -- steps / 20 rounded down evaluated a run of 39 steps at every step (40 points) and one of 59 at
  -- every second (31 points).
  for _, case in ipairs { { steps = 39, points = 21 }, { steps = 59, points = 21 }, { steps = 21, points = 12 },
                          { steps = 40, points = 21 }, { steps = 7, points = 8 } } do
    local r = train.run{ model = gpt, data = cycle_source(32, 16, 8, 1), steps = case.steps, threads = 1 }
    t.eq(#r.curve, case.points, case.steps .. " steps")
    t.eq(r.curve[#r.curve].tokens, case.steps * 8 * 16, case.steps .. " steps: the last point at the end")
  end
end)

t.test("train.run's help says that eval_tokens is read in whole batches, and at most the held-out split once", function()
  -- eval_tokens = 100 on batches of 8 × 16 reads one batch, 128 tokens: the help said "held-out tokens per evaluation".
  local text = t.help_text(train.run):gsub("%s*\n%s*", " ")
  t.ok(text:find("eval_tokens = held-out tokens per evaluation, rounded up to whole batches of eval_data (0: 16 "
    .. "batches; at most the held-out split, read once, each sequence weighted equally)", 1, true), text)
end)

t.test("a run of more tokens than int64 counts is refused with the limit, not an internal error", function()
  local ok, err = pcall(train.simulate, { model = gpt, steps = 1e17, batch = 64, seq_len = 16 })
  t.ok(not ok)
  t.ok(err:find("steps = 100000000000000000 of batch × seq_len = 64 × 16 = 1024 tokens is 1.02e20 tokens, "
                .. "beyond the largest count scalelab handles (9223372036854775807 tokens); give at most steps = 9007199254740991", 1, true), err)
  t.ok(not err:find("internal", 1, true), err)
  local r = train.simulate{ model = gpt, steps = 9007199254740991, batch = 64, seq_len = 16 }  -- the most: instant
  t.eq(r.status, "done")
  t.eq(r.tokens, 9007199254740991 * 1024)
end)

t.test("tokens are rounded down to whole steps, and the summary says so", function()
  local r = train.run{ model = gpt, data = cycle_source(32, 16, 8, 1), tokens = 3e3, threads = 1 }
  t.eq(r.tokens, 2944)
  t.eq(r.requested_tokens, 3000)
  t.ok(tostring(r):find("tokens = 3000 rounded down to 23 whole steps", 1, true), tostring(r))
end)

t.test("train.simulate validates its law and reports no speed", function()
  local function sim(law) return train.simulate{ model = gpt, tokens = 1e6, batch = 8, seq_len = 16, law = law } end
  t.raises(function() sim{ E = -5, A = 0, B = 0, alpha = 1, beta = 1, noise = 0 } end, "law.E (the irreducible loss) must be in [0, ln(vocab)")
  t.raises(function() sim{ E = 1, A = 10, B = 50, alpha = -1, beta = 0.3 } end, "law.alpha must be > 0 (got -1)")
  t.raises(function() sim{ E = 1, A = 10, B = 50, alpha = 0.3, beta = 0.3, noise = -2 } end, "law.noise must be in [0, 1) (got -2)")
  -- A law with some of its values would be another law, the rest Chinchilla's: refused, naming the gap.
  t.raises(function() sim{ E = 1 } end, "train.simulate: law has no A; give all of E, A, B, alpha and beta")
  t.raises(function() sim{ E = 1, A = 10, B = 50, alpha = 0.3 } end, "law has no beta")
  local r = sim{ E = 1.0, A = 10, alpha = 0.3, B = 50, beta = 0.3 }
  t.ok(not tostring(r):find("tokens/s", 1, true), tostring(r))
  t.eq(r.tokens_per_second, 0)
  -- GPT-2 small for 3e11 tokens at batch 8: 37M steps, drawn in a bounded number of stretches.
  local small = model.gpt{ vocab = 50257, ctx = 1024, d_model = 768, n_layer = 12, n_head = 12 }
  local big = train.simulate{ model = small, tokens = 3e11, batch = 8, seq_len = 1024 }
  t.eq(big.status, "done")
  t.ok(#big.curve <= 22, #big.curve)
  t.ok(big.loss > 1.69 and big.loss < 3.5, big.loss)
end)

t.test("a bad SCALELAB_GEMM is a clear Lua error at train.run", function()
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
local gpt = model.gpt{ n_layer = 1, d_model = 16, n_head = 2, vocab = 32, ctx = 16 }
local src = { vocab = 32, seq_len = 16, batch = 8 }
function src:next_batch() local out = {} for i = 1, 8 * 17 do out[i] = i % 32 end return out end
local ok, err = pcall(train.run, { model = gpt, data = src, steps = 2, lr = 1e-3, threads = 2 })
print(ok, err)
]])
  f:close()
  local exe = require("scalelab.native.study").executable()
  local pipe = assert(io.popen("SCALELAB_GEMM=bogus '" .. exe .. "' " .. script .. " 2>&1"))
  local out = pipe:read("a")
  local status = { pipe:close() }
  os.remove(script)
  t.eq(status[3], 0, out)
  t.ok(out:find("false", 1, true) and out:find("SCALELAB_GEMM=bogus is not a kernel; use avx512, avx2, openblas or portable", 1, true), out)
end)

t.test("a sampler used by an earlier run: a note that this run gets the tokens after, an error when none are left", function()
  local dir = t.script(t.scratch("train-reuse"), [[
local src = data.synthetic{ kind = 'markov', vocab = 64, order = 1, seed = 3, tokens = 1e5 }
local s = data.sampler{ corpus = src, tokens = 2048, unique_tokens = 'all', seq_len = 16, batch = 8 }
local gpt = model.gpt{ vocab = 64, ctx = 16, d_model = 32, n_layer = 1, n_head = 2 }
train.run{ model = gpt, data = s, tokens = 1024, lr = 1e-3, threads = 1, progress = false }
print("first done")
train.run{ model = gpt, data = s, tokens = 1024, lr = 1e-3, threads = 1, progress = false }
print("second done")
train.run{ model = gpt, data = s, tokens = 1024, lr = 1e-3, threads = 1, progress = false }
]])
  local code, out, err = t.run(dir, "s.lua")
  t.eq(code, 1, out)
  t.ok(out:find("second done", 1, true), out)
  local note = "train.run: note: the sampler has already given 1.02k of the 2.05k tokens it plans"
  t.ok(err:find(note, 1, true), err)
  t.ok(err:find("make a new data.sampler{...} with the same arguments", 1, true), err)
  local _, notes = err:gsub("note:", "")
  t.eq(notes, 1, err)  -- none for the first run, none before the error
  t.ok(err:find("s.lua:8: train.run: the sampler has given every batch it planned", 1, true), err)
  t.ok(not err:find("at most 0 rows", 1, true), err)
end)

t.test("train.simulate names every missing required option in one error", function()
  -- One at a time, it said batch was missing, and only once batch was given, seq_len.
  t.raises(function() train.simulate{ model = gpt, tokens = 1e6 } end,
    "train.simulate: batch and seq_len are missing: give batch = B (rows per optimizer step), seq_len = T (tokens per "
    .. "row, at most the model's ctx)")
  t.raises(function() train.simulate{ tokens = 1e6 } end,
    "train.simulate: model, batch and seq_len are missing: give model = model.gpt{...} or model.shape_for{ params = N }, "
    .. "batch = B")
  t.raises(function() train.simulate{ model = gpt } end, "train.simulate: tokens, batch and seq_len are missing")
  t.raises(function() train.simulate{ model = gpt, steps = 2, batch = 2 } end, "train.simulate: seq_len is missing: give seq_len = T")
  t.raises(function() train.run{ tokens = 1e6 } end, "train.run: model and data are missing")
  local r = train.simulate{ model = gpt, tokens = 1024, batch = 2, seq_len = 8, progress = false }
  t.ok(r.loss > 0, tostring(r))
end)

t.test("train.run's and train.simulate's errors name them, and one batch is singular", function()
  t.raises(function() train.run{ model = gpt, data = cycle_source(32, 16, 8, 1), tokens = 1000, backend = "cpux" } end,
    'train.run: unknown backend "cpux"; did you mean "cpu"?')
  t.raises(function() train.run{ model = gpt, steps = 1, batch = 1, seq_len = 8 } end, "train.run: data is missing")
  t.raises(function() train.simulate{ model = gpt, steps = 1, batch = 1, seq_len = 80 } end,
    "train.simulate: without data, give seq_len between 1 and the model's ctx (16)")
  local c = data.synthetic{ kind = "markov", vocab = 16, tokens = 20000 }
  local held_out = data.sampler{ corpus = c, seq_len = 16, batch = 2, tokens = 32 }  -- one batch, no more
  t.raises(function()
    train.run{ model = gpt, data = data.sampler{ corpus = c, seq_len = 16, batch = 2, tokens = 320 }, eval_data = held_out,
               threads = 1 }
  end, "train.run: each evaluation reads 16 batches of 2 × 16 held-out tokens (the default, eval_tokens = 0), but "
    .. "eval_data has only 1 batch (32 tokens) to give")
end)

t.test("impossible AdamW settings are refused naming the key and the fix, extreme ones noted", function()
  local function run(extra)
    local args = { model = gpt, data = cycle_source(32, 16, 8, 1), steps = 2, threads = 1 }
    for k, v in pairs(extra) do args[k] = v end
    return train.run(args)
  end
  -- eps: AdamW divides by √v̂ + eps; 0 or less is no eps (NaN and ∞ are refused as every number is).
  t.raises(function() run{ eps = math.huge } end, "eps must be a finite number (got inf)")
  for _, eps in ipairs { 0, -1e-8 } do
    local message = t.raises(function() run{ eps = eps } end, "train.run: eps must be a positive finite number (got ")
    t.ok(message:find("give eps = 1e-8 (the usual) or leave it out", 1, true), message)
  end
  -- lr: the fix names a usual value.
  t.raises(function() run{ lr = 0 } end, "lr must be a positive number (got 0); give the peak learning rate, e.g. lr = 1e-3")
  -- weight decay that zeroes or flips the weights at each step: lr·wd ≥ 1 (lr = 1e3 with the default 0.1).
  t.raises(function() run{ lr = 1e3 } end,
    "train.run: lr × weight_decay = 1000 × 0.1 = 100 is 1 or more: AdamW's decay multiplies every weight matrix by 1 − lr·weight_decay")
  t.raises(function() run{ lr = 2, weight_decay = 0.5 } end, "lr × weight_decay = 2 × 0.5 = 1 is 1 or more")
  -- Legal but extreme: the run goes on, and its note (and stderr) says why it may fail.
  local r = run{ lr = 1e3, weight_decay = 0 }
  t.ok(r.note:find("lr = 1000 is far above the learning rates AdamW trains transformers at", 1, true), r.note)
  r = run{ eps = 0.01 }
  t.eq(r.status, "done")
  t.ok(r.note:find("eps = 0.01 is far above AdamW's usual 1e-8", 1, true), r.note)
  t.ok(tostring(r):find("eps = 0.01", 1, true), tostring(r))
  -- Usual settings say nothing.
  t.eq(run{ lr = 1e-2, eps = 1e-8 }.note, "")
end)

t.test("Ctrl-C, then the held-out source failing as the run measures its result: the source's error ends the script", function()
  -- It became a note at the end of the interruption's message, and in the REPL the result gave the
  -- evaluation before's loss as the run's; the error is now raised as any source's is, the checkpoint kept.
  local dir = t.script(t.scratch("train-interrupted"), [[
local function source(seed, fail_at)
  local src, calls = { vocab = 32, seq_len = 16, batch = 8, seed = seed }, 0
  function src:next_batch()
    calls = calls + 1
    if calls == fail_at then error("held-out broke", 0) end
    local out = {}
    for _ = 1, self.batch * (self.seq_len + 1) do
      self.seed = (self.seed * 1103515245 + 12345) % 2147483648
      out[#out + 1] = self.seed % self.vocab
    end
    return out
  end
  function src:state() return tostring(self.seed) end
  function src:restore(s) self.seed = tonumber(s) end
  return src
end
local pid = require("scalelab.native.study").getpid()
train.run{ model = model.gpt{ vocab = 32, ctx = 16, d_model = 32, n_layer = 1, n_head = 2 }, data = source(3),
  eval_data = source(1003, 3), steps = 12, eval_tokens = 8 * 16, eval_interval = 4 * 8 * 16, threads = 1,
  checkpoint = "run.ckpt", progress = function(p)
    if p.step == 6 then
      os.execute("(sleep 0.1; kill -INT " .. pid .. ") &")
      require("scalelab.native.study").sleep(3)
    end
  end }
print("went on")
]])
  local code, out, err = t.run(dir, "s.lua")
  t.eq(code, 130, out)
  t.ok(err:find("held-out broke (in eval_data:next_batch() measuring the held-out loss where the run stopped: train.run "
    .. "interrupted by the user after 6 of 12 steps; the checkpoint run.ckpt holds it, from which train.run resumes",
    1, true), err)
  t.ok(not out:find("went on", 1, true), out)
  t.ok(io.open(dir .. "/run.ckpt", "rb"), "checkpoint kept")
end)

t.done()
