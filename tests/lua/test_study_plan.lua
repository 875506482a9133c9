-- Planning a study without running it (--dry-run): model families, hyperparameter rules by size,
-- run identities, the N convention, and what the plan prints.
local t = require "scalelab.test"
local core = require "scalelab.native.core"

local store_dir = t.scratch("study-plan")

-- Plans `spec` as `scalelab script.lua --dry-run` would, with the plan's printout captured; with
-- options = {} (no --dry-run), runs it.
local function plan(name, spec, options)
  local saved_arg, saved_print = arg, print
  local printed = {}
  arg = { [-1] = "scalelab", [0] = "plan.lua", table.unpack(options or { "--dry-run" }) }  -- as the host sets it for a script
  print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring(select(i, ...)) end
    printed[#printed + 1] = table.concat(parts, "\t")
  end
  -- These plans are about planning, not data: the simulated backend unless a test names another.
  if spec.backend == nil then spec.backend = "simulated" end
  -- A store path no other run shares: a store left in the working folder would mark runs done.
  if spec.store == nil then spec.store = store_dir .. "/" .. name .. ".db" end
  local ok, s = pcall(function() return study(name) (spec) end)
  arg, print = saved_arg, saved_print
  if not ok then error(s, 0) end
  return s, table.concat(printed, "\n")
end

t.test("the fixed-aspect family lands near each target N; IsoFLOP runs sit on their budget", function()
  local s, text = plan("aspect", {
    model = { aspect = 32, vocab = 256, ctx = 64 },
    params = "non_embedding",
    sweep = sweep.isoflop { budgets = { 1e15, 1e16 }, points = 4 },
  })
  t.ok(s.dry_run)
  t.eq(#s.runs, 8)
  for _, r in ipairs(s.runs) do
    t.eq(r.shape.d_model // r.shape.n_layer >= 8, true)
    t.ok(math.abs(math.log(r.non_embedding_params / r.N)) < 0.6, "N " .. r.non_embedding_params .. " for target " .. r.N)
    -- D = C/(6N) with the shape's actual N, rounded to whole steps of batch·ctx tokens.
    t.near(6 * r.non_embedding_params * r.tokens, r.budget, 0.02)
    t.eq(r.tokens % (r.batch * r.shape.ctx), 0)
    t.near(r.flops, 6 * r.non_embedding_params * r.tokens, 1e-12)
  end
  t.ok(text:find("study aspect: 8 runs planned", 1, true), text)
  t.ok(text:find("total: 8 runs (8 to simulate), 4.4e16 FLOP if trained; simulated", 1, true), text)
  -- The FLOPs column (6·N·D) says which of the table's two N it counts.
  t.ok(text:find("N in run labels, fits and FLOPs (6·N·D) counts non-embedding parameters", 1, true), text)
end)

t.test("a grid by tokens_per_param trains each run on that ratio of its model's N, not of the target N", function()
  local s = plan("ratio", {
    model = { aspect = 32, vocab = 256, ctx = 64 },
    params = "non_embedding",
    sweep = sweep.grid { N = { 1e5, 3e5, 1e6 }, tokens_per_param = 20 },
  })
  local off = 0
  for _, r in ipairs(s.runs) do
    -- D = 20·N_fit, rounded to whole steps of batch·ctx tokens (at most half of 16·64 = 1024).
    t.ok(math.abs(r.tokens - 20 * r.N_fit) <= 512, string.format("D %d for N_fit %d", r.tokens, r.N_fit))
    off = math.max(off, math.abs(r.N_fit / r.N - 1))
  end
  t.ok(off > 0.01, "the shapes land off their target N here, which is what this checks")
  -- A point's own D that disagrees with its ratio is refused rather than silently replaced.
  t.raises(function()
    plan("ratio-D", { model = { aspect = 32, vocab = 256, ctx = 64 },
                      sweep = sweep.list { { N = 1e5, D = 5e6, tokens_per_param = 20 } } })
  end, "gives tokens_per_param = 20 and D = 5M, but its runs train on D = tokens_per_param·N (2M here)")
  t.raises(function()
    plan("ratio-budget", { model = { aspect = 32, vocab = 256, ctx = 64 },
                           sweep = sweep.list { { N = 1e5, budget = 1e13, tokens_per_param = 20 } } })
  end, "gives a budget and tokens_per_param")
end)

t.test("hyperparameter defaults follow REFERENCE.md, and rules may be functions of the run", function()
  local s = plan("hyper", {
    model = "chinchilla",
    params = "non_embedding",  -- the shapes' names count a 32k vocabulary's embeddings; their non-embedding N:
    sweep = sweep.list { { N = 5.9e5, D = 1e8 }, { N = 85e6, D = 2e9 }, { N = 201e6, D = 5e9 } },
  })
  -- Chinchilla shapes (d, heads, layers): 7M (128, 4, 3), 117M (768, 12, 12).
  t.eq(s.runs[1].shape.d_model, 128)
  t.eq(s.runs[1].shape.n_layer, 3)
  t.eq(s.runs[2].shape.d_model, 768)
  t.eq(s.runs[2].shape.n_head, 12)
  -- Pythia's learning rates by size: 1e-3 up to 70M, 6e-4 at 160M, 3e-4 at 410M (total parameters).
  t.eq(s.runs[1].lr, 1e-3)
  t.ok(s.runs[2].lr < 1e-3 and s.runs[2].lr > 6e-4, "lr " .. s.runs[2].lr)
  t.near(require("scalelab.study").pythia_lr { params = 160e6 }, 6e-4, 1e-12)
  t.near(require("scalelab.study").pythia_lr { params = 410e6 }, 3e-4, 1e-12)
  for _, r in ipairs(s.runs) do
    t.eq(r.weight_decay, 0.1)
    t.eq(r.beta2, 0.95)
    t.eq(r.min_lr, 0.1)
    t.eq(r.warmup_steps, math.floor(0.01 * r.steps + 0.5))  -- 1% warmup
  end
  local custom = plan("rules", {
    sweep = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7 } },
    hyper = { lr = function(run) return 0.01 / run.shape.d_model ^ 0.5 end, batch = 8, warmup = 10 },
  })
  t.near(custom.runs[1].lr, 0.01 / custom.runs[1].shape.d_model ^ 0.5)
  t.eq(custom.runs[2].batch, 8)
  t.eq(custom.runs[2].warmup_steps, 10)
  -- A swept value overrides the rule.
  local swept = plan("swept", { sweep = sweep.product(sweep.grid { N = { 1e5 }, D = { 1e7 } }, sweep.values { lr = { 1e-3, 3e-3 } }) })
  t.eq(swept.runs[2].lr, 3e-3)
  t.ok(swept.runs[1].hash ~= swept.runs[2].hash, "the learning rate is part of the run's identity")
end)

t.test("the default batch is 16 sequences, fewer where that leaves a run under 50 steps", function()
  -- ctx 64: 50 steps of 16 sequences are 51,200 tokens.
  local s = plan("batch", { model = { aspect = 32, vocab = 256, ctx = 64 },
    sweep = sweep.list { { N = 1e5, D = 153600 }, { N = 1e5, D = 12800 }, { N = 1e5, D = 1600 } } })
  t.eq(s.runs[1].batch, 16)   -- 153,600 / 1,024 tokens a step
  t.eq(s.runs[1].steps, 150)
  t.eq(s.runs[2].batch, 4)    -- 12,800 / (50 × 64)
  t.eq(s.runs[2].steps, 50)
  t.eq(s.runs[3].batch, 1)    -- 1,600 / (50 × 64) = 0.5: one sequence, 25 steps
  t.eq(s.runs[3].steps, 25)
end)

t.test("whole steps: warmup shorter than the run, a point's budget and D within 1%, a run far below its D named", function()
  local model_ = { aspect = 32, vocab = 256, ctx = 64 }
  -- 6,400 tokens in steps of 1 × 64: 100 steps, so a warmup of 99 steps and not of 100.
  local s = plan("warmup99", { model = model_, hyper = { batch = 1, warmup = 99 }, sweep = sweep.list { { N = 1e5, D = 6400 } } })
  t.eq(s.runs[1].steps, 100)
  t.eq(s.runs[1].warmup_steps, 99)
  t.raises(function()
    plan("warmup100", { model = model_, hyper = { batch = 1, warmup = 100 }, sweep = sweep.list { { N = 1e5, D = 6400 } } })
  end, "hyper.warmup = 100 steps is not shorter than run 1's 100 steps")
  -- C = 6e12 at N = 1e5 is D = 1e7: a point's D 0.5% off is its budget's, 2% off contradicts it.
  plan("budget-near", { model = model_, sweep = sweep.list { { N = 1e5, budget = 6e12, D = 1.005e7 } } })
  t.raises(function() plan("budget-far", { model = model_, sweep = sweep.list { { N = 1e5, budget = 6e12, D = 1.02e7 } } }) end,
    "give the budget or D, not both")
  -- 89 tokens in steps of 1 × 64: one step, 64 tokens, 0.72 of the plan.
  local _, text = plan("short", { model = model_, hyper = { batch = 1 }, sweep = sweep.list { { N = 1e5, D = 89 } } })
  t.ok(text:find("warning: 1 run trains on whole steps of batch × ctx tokens far from the planned D (run 1: D = 89 "
    .. "planned, 64 trained in 1 step of 1 × 64): use a shorter ctx", 1, true), text)
  -- A seeded run's label names its seed once.
  local seeded = plan("seeded", { model = model_, sweep = sweep.seeds(sweep.grid { N = { 1e5 }, D = { 1e7 } }, 2) })
  local _, seeds = seeded.runs[2].label:gsub("seed=", "")
  t.eq(seeds, 1, seeded.runs[2].label)
  t.ok(seeded.runs[2].label:find(" seed=2$"), seeded.runs[2].label)
end)

t.test("U may be the whole training split of the study's corpus, and no more", function()
  local corpus = data.synthetic { kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 3e5 }
  local held = corpus:split().train_tokens
  local function declare(name, U)
    return plan(name, { data = corpus, backend = "cpu", model = { aspect = 16, ctx = 32 },
      sweep = sweep.data_constrained { unique_tokens = { U }, epochs = { 1 }, N = { 2e4 } } })
  end
  -- The run asks for all of it; the sampler cuts the split less its last token into sequences of 32.
  local whole = declare("whole-split", held).runs[1]
  t.eq(whole.config.unique_tokens, held)
  -- One epoch of it in whole steps, rounded down: fewer rows than its sequences, each seen once.
  t.ok(whole.tokens <= (held - 1) // 32 * 32 and whole.tokens > (held - 1) // 32 * 32 - whole.batch * 32, whole.tokens)
  t.eq(whole.unique_tokens, whole.tokens)
  t.eq(whole.epochs, 1)
  t.raises(function() declare("past-split", held + 1) end, "unique tokens, but the data holds")
end)

t.test("the dry run times new runs by the store's finished ones, and does not count diverged runs to train", function()
  local model_ = { aspect = 32, vocab = 256, ctx = 64 }
  -- Run 1 finishes in 10 s (as the backend reports it); run 2 diverges.
  local function backend(run)
    if run.point.D == 2e6 then return { loss = 0 / 0 } end
    return { loss = 3, metrics = { wall_seconds = 10 } }
  end
  local ran = plan("speed", { model = model_, backend = backend, quiet = true, report = false,
    sweep = sweep.grid { N = { 1e5 }, D = { 1e6, 2e6 } } }, {})
  t.eq(ran.runs[1].status, "done")
  t.eq(ran.runs[2].status, "diverged")
  local s, text = plan("speed", { model = model_, backend = backend, sweep = sweep.grid { N = { 1e5 }, D = { 1e6, 2e6, 4e6 } } })
  t.ok(text:find("total: 3 runs (1 to train)", 1, true), text)
  t.ok(text:find("measured on this machine's finished runs", 1, true), text)
  -- Run 1's speed, FLOPs / 10 s, over run 3's FLOPs.
  t.near(s.runs[3].estimated_seconds, 10 * s.runs[3].flops / ran.runs[1].flops, 1e-9)
  -- That is one run's speed (timed by its own clock): runs that train at once each keep it, and the
  -- total is their times spread over the jobs (it summed them, as if they trained one after another).
  local s4, text4 = plan("speed", { model = model_, backend = backend, jobs = 2,
    sweep = sweep.grid { N = { 1e5 }, D = { 1e6, 2e6, 4e6, 8e6 } } })
  t.near(s4.runs[4].estimated_seconds, 10 * s4.runs[4].flops / ran.runs[1].flops, 1e-9)
  local spread = math.max((s4.runs[3].estimated_seconds + s4.runs[4].estimated_seconds) / 2, s4.runs[4].estimated_seconds)
  local total = 0
  for _, r in ipairs(s4.runs) do total = total + r.flops end
  t.ok(text4:find("(2 to train), " .. core.format_flops(total) .. " FLOP, estimated " .. core.format_duration(spread) .. " on ", 1, true), text4)
end)

t.test("the dry run gives runs done their recorded time, and estimates only the runs to train", function()
  local model_ = { aspect = 32, vocab = 256, ctx = 64 }
  -- Run 1 took 10 s, run 2 (twice the tokens) 50 s: the speed over both times run 1 at about 20 s.
  local function backend(run) return { loss = 3, metrics = { wall_seconds = run.point.D == 1e6 and 10 or 50 } } end
  plan("recorded", { model = model_, backend = backend, quiet = true, report = false,
    sweep = sweep.grid { N = { 1e5 }, D = { 1e6, 2e6 } } }, {})
  local s, text = plan("recorded", { model = model_, backend = backend, sweep = sweep.grid { N = { 1e5 }, D = { 1e6, 2e6, 4e6 } } })
  t.ok(text:find("time: as recorded in the store for runs done or diverged, estimated for the runs to train", 1, true), text)
  local rows = {}
  for row in text:gmatch("\n   (%d[^\n]*)") do rows[#rows + 1] = row end
  t.eq(#rows, 3, text)
  t.ok(rows[1]:find(" " .. core.format_duration(10) .. "%s+done$"), rows[1])
  t.ok(rows[2]:find(" " .. core.format_duration(50) .. "%s+done$"), rows[2])
  t.ok(math.abs(s.runs[1].estimated_seconds - 10) > 5, "the estimate differs from the record: " .. s.runs[1].estimated_seconds)
  t.ok(rows[3]:find(" " .. core.format_duration(s.runs[3].estimated_seconds) .. "%s+new$"), rows[3])
end)

t.test("measured_speed: the dry run times runs by the speed the script measured, and says so", function()
  local corpus = data.synthetic { kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 3e5 }
  local spec = function(speed)
    return { data = corpus, backend = "cpu", model = { aspect = 16, ctx = 32 }, measured_speed = speed,
             sweep = sweep.grid { N = { 1e4, 3e4 }, D = { 1e5, 2e5 } } }
  end
  local s, text = plan("measured-speed", spec(2.5e9))
  t.ok(text:find("(measured 2.5e9 FLOP/s for backend cpu, given by the script: measured_speed)", 1, true), text)
  t.ok(not text:find("assumed", 1, true), text)
  -- The machine's speed is shared by the runs that train at once (one per core, at most the 4 runs):
  -- each run at 2.5e9 / jobs, the total their times spread over the jobs (at least the longest).
  local jobs = math.min(require("scalelab.native.study").cpu_count(), 4)
  local total, longest = 0, 0
  for _, r in ipairs(s.runs) do
    t.near(r.estimated_seconds, r.hardware_flops / (2.5e9 / jobs), 1e-12)
    total, longest = total + r.estimated_seconds, math.max(longest, r.estimated_seconds)
  end
  t.ok(text:find("estimated " .. core.format_duration(math.max(total / jobs, longest)) .. " on ", 1, true), text)
  t.ok((jobs > 1) == (text:find(string.format(", %d runs at once (measured", jobs), 1, true) ~= nil), text)
  -- Without it, the backend's assumption, as before.
  local _, assumed = plan("measured-speed-none", spec(nil))
  t.ok(assumed:find("(assumed ", 1, true), assumed)
  for _, bad in ipairs { 0, -1, 0 / 0, math.huge, "fast" } do
    t.raises(function() plan("measured-speed-bad", spec(bad)) end, "measured_speed must be")
  end
end)

t.test("the store's finished runs time the dry run before measured_speed does", function()
  local model_ = { aspect = 32, vocab = 256, ctx = 64 }
  local function backend() return { loss = 3, metrics = { wall_seconds = 10 } } end
  local ran = plan("speed-first", { model = model_, backend = backend, quiet = true, report = false,
    sweep = sweep.grid { N = { 1e5 }, D = { 1e6 } } }, {})
  local s, text = plan("speed-first", { model = model_, backend = backend, measured_speed = 1e6,
    sweep = sweep.grid { N = { 1e5 }, D = { 1e6, 4e6 } } })
  t.ok(text:find("measured on this machine's finished runs", 1, true), text)
  t.near(s.runs[2].estimated_seconds, 10 * s.runs[2].flops / ran.runs[1].flops, 1e-9)
end)

t.test("the dry run times runs by the trainer's FLOPs, output logits included, not by 6·N·D", function()
  -- GPT-2's vocabulary on small models under Kaplan's count: 6·N·D leaves out the logits, 6·V·d a
  -- token, most of the work here, so a run ten times larger in N is far less than ten times slower.
  -- Run 1 took 10 s; run 2's estimate is 10 s times the ratio of their hardware FLOPs,
  -- 6(N + V·d) + 12·L·ctx·d a token, by hand.
  local model_ = { aspect = 32, vocab = 50257, ctx = 64 }
  local function backend() return { loss = 3, metrics = { wall_seconds = 10 } } end
  plan("logits", { model = model_, backend = backend, quiet = true, report = false, params = "non_embedding",
    sweep = sweep.grid { N = { 1e5 }, D = { 1e6 } } }, {})
  local s = plan("logits", { model = model_, backend = backend, params = "non_embedding",
    sweep = sweep.grid { N = { 1e5, 1e6 }, D = { 1e6 } } })
  local function hardware(r)
    local m = r.shape
    return (6 * (r.non_embedding_params + m.vocab * m.d_model) + 12 * m.n_layer * m.ctx * m.d_model) * r.tokens
  end
  t.near(s.runs[2].estimated_seconds, 10 * hardware(s.runs[2]) / hardware(s.runs[1]), 1e-9)
  local by_6ND = 10 * s.runs[2].flops / s.runs[1].flops
  t.ok(s.runs[2].estimated_seconds < by_6ND / 2, "the logits' share: " .. s.runs[2].estimated_seconds .. " against " .. by_6ND)
end)

t.test("a user function is the model family; identities are stable and exclude nothing that matters", function()
  local family = function(N)
    local d = 16 * math.max(1, math.floor((N / 12 / 2) ^ 0.5 / 16 + 0.5))
    return model.gpt { vocab = 256, ctx = 32, d_model = d, n_layer = 2, n_head = d // 16 }
  end
  local a = plan("fn", { model = family, sweep = sweep.grid { N = { 1e4, 1e5 }, D = { 1e6 } } })
  local b = plan("fn", { model = family, sweep = sweep.grid { N = { 1e4, 1e5 }, D = { 1e6 } } })
  t.eq(a.runs[1].shape.n_layer, 2)
  t.eq(a.runs[1].hash, b.runs[1].hash)
  local c = plan("fn", { model = family, seed = 2, sweep = sweep.grid { N = { 1e4, 1e5 }, D = { 1e6 } } })
  t.ok(c.runs[1].hash ~= a.runs[1].hash, "the seed is part of the identity")
  t.raises(function() plan("bad", { model = function() return 5 end, sweep = sweep.grid { N = { 1e4 }, D = { 1e6 } } }) end,
    "the model function must return a model.gpt{...} shape")
end)

t.test("eval = { interval = 0, tokens = 0 }, the trainer's defaults, keeps the identities of runs planned without eval", function()
  local grid = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7 } }
  local a = plan("eval-default", { sweep = grid })
  for _, eval in ipairs { { interval = 0 }, { tokens = 0 }, { interval = 0, tokens = 0 },
                          { interval = function() return 0 end } } do
    local b = plan("eval-default", { sweep = grid, eval = eval })
    for i = 1, 2 do t.eq(b.runs[i].hash, a.runs[i].hash) end
    t.eq(b.runs[1].eval_interval, nil)
    t.eq(b.runs[1].eval_tokens, nil)
  end
  -- Other values are other runs.
  local c = plan("eval-default", { sweep = grid, eval = { interval = 4096 } })
  t.ok(c.runs[1].hash ~= a.runs[1].hash, "an evaluation interval is part of the identity")
  t.eq(c.runs[1].eval_interval, 4096)
end)

t.test("backend = { kind = \"cpu\" } without options keeps the identities of runs planned with backend = \"cpu\"", function()
  local corpus = data.synthetic { kind = "markov", vocab = 256, seed = 1, tokens = 1e8 }
  local grid = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7 } }
  for _, kind in ipairs { "cpu", "auto" } do
    local a = plan("backend-table", { sweep = grid, data = corpus, backend = kind })
    local b = plan("backend-table", { sweep = grid, data = corpus, backend = { kind = kind } })
    for i = 1, 2 do t.eq(b.runs[i].hash, a.runs[i].hash) end
    -- Trainer options are other runs (threads: another floating-point order).
    local c = plan("backend-table", { sweep = grid, data = corpus, backend = { kind = kind, threads = 1 } })
    t.ok(c.runs[1].hash ~= a.runs[1].hash, "trainer options are part of the identity")
  end
  -- No kind is "auto" ({ threads = 1 } trains as "auto" with those options).
  t.eq(plan("backend-table", { sweep = grid, data = corpus, backend = {} }).runs[1].hash,
    plan("backend-table", { sweep = grid, data = corpus, backend = "auto" }).runs[1].hash)
end)

t.test("a run's identity names the device that trains it: \"auto\" is the runs of the device it picks here", function()
  -- It named the backend as written: "auto" and "cpu" were other runs on a machine where both train
  -- on the CPU, and a store trained under one was trained again under the other.
  local backends = require "scalelab.study.backends"
  local corpus = data.synthetic { kind = "markov", vocab = 256, seed = 1, tokens = 1e8 }
  local grid = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7 } }
  local here = backends.device("auto")
  local there = here == "cpu" and "cuda" or "cpu"
  local auto = plan("device", { sweep = grid, data = corpus, backend = "auto" })
  for _, backend in ipairs { here, { kind = "auto" }, { kind = here } } do
    local same = plan("device", { sweep = grid, data = corpus, backend = backend })
    for i = 1, 2 do t.eq(same.runs[i].hash, auto.runs[i].hash) end
  end
  t.eq(auto.backend_identity.kind, here)
  -- The other device's runs are other runs (their losses differ by rounding).
  local other = plan("device", { sweep = grid, data = corpus, backend = there })
  t.ok(other.runs[1].hash ~= auto.runs[1].hash, "a run on " .. there .. " is another run than on " .. here)
  -- Trainer options still make other runs, on either name.
  local threads = plan("device", { sweep = grid, data = corpus, backend = { kind = "auto", threads = 1 } })
  t.eq(plan("device", { sweep = grid, data = corpus, backend = { kind = here, threads = 1 } }).runs[1].hash,
    threads.runs[1].hash)
  t.ok(threads.runs[1].hash ~= auto.runs[1].hash)
end)

t.test("an IsoFLOP fit of a sweep without budgets is refused as the study is declared, not after training", function()
  -- It was found to fit nothing once every run had trained ("isoflop: the runs have no budget").
  local grid = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7, 1e8 } }
  t.raises(function() plan("isoflop-grid", { sweep = grid, fits = { "isoflop" } }) end,
    "study: fits: isoflop groups the runs by their IsoFLOP budgets, and no point of this grid sweep has one (budget =): "
    .. "use sweep.isoflop{ budgets = {...}, ... }, or fit the runs another way (\"chinchilla\", \"approach1\")")
  t.raises(function()
    plan("isoflop-dc", { sweep = sweep.data_constrained { unique_tokens = 1e7, epochs = { 1, 4 }, N = { 1e5, 1e6 } },
                         fits = { "approach2" } })
  end, "no point of this data_constrained sweep has one")
  -- Points with a budget among others are fitted (those without are left out).
  local mixed = sweep.list { { N = 1e5, budget = 1e13 }, { N = 2e5, budget = 1e13 }, { N = 4e5, budget = 1e13 },
                             { N = 1e6, D = 1e8 } }
  t.eq(#plan("isoflop-mixed", { sweep = mixed, fits = { "isoflop" } }).runs, 4)
end)

t.test("a hyperparameter moved from hyper = into the sweep keeps the identities of the runs it had", function()
  -- lr = 1e-2 in hyper, then sweep.values{ lr = { 1e-2, 3e-2 } } to try a second rate: the runs at 1e-2
  -- were the same runs, and were trained again (the point's copy of lr was part of their identity).
  local grid = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7 } }
  local before = plan("hyper-moved", { sweep = grid, hyper = { lr = 1e-2 } })
  local after = plan("hyper-moved", { sweep = sweep.product(grid, sweep.values { lr = { 1e-2, 3e-2 } }) })
  t.eq(#after.runs, 4)
  t.eq(after.runs[1].hash, before.runs[1].hash)
  t.eq(after.runs[3].hash, before.runs[2].hash)
  t.ok(after.runs[2].hash ~= before.runs[1].hash, "another rate is another run")
  -- The label still tells them apart.
  t.ok(after.runs[1].label:find(" lr=0.01$"), after.runs[1].label)
  t.ok(after.runs[2].label:find(" lr=0.03$"), after.runs[2].label)
  -- A point's batch that is the default's (16 here) is the default's run.
  local default = plan("hyper-moved", { sweep = grid })
  local batch = plan("hyper-moved", { sweep = sweep.product(grid, sweep.values { batch = { 16 } }) })
  t.eq(batch.runs[1].batch, 16)
  t.eq(batch.runs[1].hash, default.runs[1].hash)
  -- A value of the user's own stays in the identity (their functions read it).
  local own = plan("hyper-moved", { sweep = sweep.product(grid, sweep.values { width = { 1 } }), point_keys = { "width" } })
  t.ok(own.runs[1].hash ~= default.runs[1].hash, "a point key of the user's own is part of the identity")
end)

t.test("a parametric fit with fewer planned runs than it needs is a warning of the plan, not news after training", function()
  local _, text = plan("too-few", { sweep = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7, 1e8 } }, fits = { "chinchilla" } })
  t.ok(text:find("warning: fits: chinchilla needs at least 6 runs for its 5 free parameters (one more, so that some "
    .. "scatter is left to judge the fit by), and the sweep plans 4 runs: it will not be fitted; add runs, or fit fewer "
    .. "parameters (fits = { chinchilla = { free = {...}, init = {...} } })", 1, true), text)
  _, text = plan("too-few", { sweep = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7, 1e8 } },
                              fits = { "kaplan", "data_constrained" } })
  t.ok(text:find("warning: fits: kaplan needs at least 5 runs for its 4 free parameters (one more, so that some scatter "
    .. "is left to judge the fit by); data_constrained needs at least 8 runs for its 7 free parameters", 1, true), text)
  t.ok(text:find("they will not be fitted", 1, true), text)
  -- Enough runs, or fewer parameters fitted: no warning.
  _, text = plan("too-few", { sweep = sweep.grid { N = { 1e5, 1e6, 1e7 }, D = { 1e7, 1e8 } }, fits = { "chinchilla" } })
  t.ok(not text:find("warning: fits:", 1, true), text)
  _, text = plan("too-few", { sweep = sweep.grid { N = { 1e5, 1e6 }, D = { 1e7, 1e8 } },
                              fits = { chinchilla = { free = { "A", "alpha" }, init = { E = 1.7, B = 400, beta = 0.3 } } } })
  t.ok(not text:find("warning: fits:", 1, true), text)
end)

t.test("a corpus file prepared again from edited text is new data: its runs' identities change", function()
  -- data.files with out = rewrites one file: the same name, size and counts, so the same summary.
  local text, out = store_dir .. "/edited.txt", store_dir .. "/edited.tok"
  local words = {}
  for i = 1, 4000 do words[i] = ({ "cat", "dog", "owl", "elk" })[i % 4 + 1] end
  t.write_file(text, table.concat(words, " ") .. "\n")
  local function declare()
    local corpus = data.files { text, out = out, name = "edited" }
    return plan("edited", { data = corpus, backend = "cpu", model = { aspect = 16, ctx = 32 },
      sweep = sweep.grid { N = { 2e4 }, D = { 4e3 } } }), corpus
  end
  local before, old = declare()
  t.eq(declare().runs[1].hash, before.runs[1].hash, "the same text is the same data")
  t.write_file(text, (table.concat(words, " "):gsub("owl", "emu")) .. "\n")
  local after, new = declare()
  t.eq(tostring(new):gsub("0x%x+", ""), tostring(old):gsub("0x%x+", ""))
  t.ok(new.checksum ~= old.checksum, new.checksum)
  t.ok(after.runs[1].hash ~= before.runs[1].hash, "the edited text is new data")
  -- data = the corpus file's path: the file's contents, not its name, are the data.
  local function by_path()
    return plan("edited-path", { data = out, backend = "cpu", model = { aspect = 16, vocab = 256, ctx = 32 },
      sweep = sweep.grid { N = { 2e4 }, D = { 4e3 } } }).runs[1].hash
  end
  local path_after = by_path()
  t.eq(by_path(), path_after, "the same file is the same data")
  t.write_file(text, table.concat(words, " ") .. "\n")
  data.files { text, out = out, name = "edited" }
  t.ok(by_path() ~= path_after, "the file prepared again from other text is new data")
  -- data = function(run) returning a sampler: the corpus it holds is its data.
  local function by_function()
    local corpus = data.files { text, out = out, name = "edited" }
    return plan("edited-function", { data = function(run)
        return data.sampler { corpus = corpus, tokens = run.tokens, seq_len = run.shape.ctx, batch = run.batch }
      end, backend = "cpu", model = { aspect = 16, vocab = 256, ctx = 32 },
      sweep = sweep.grid { N = { 2e4 }, D = { 4e3 } } }).runs[1].hash
  end
  local function_before = by_function()
  t.eq(by_function(), function_before, "the same corpus is the same data")
  t.write_file(text, (table.concat(words, " "):gsub("owl", "emu")) .. "\n")
  t.ok(by_function() ~= function_before, "the function's corpus prepared again from other text is new data")
end)

t.test("the same text is the same data wherever its corpus file lies: a touched text keeps its runs", function()
  -- data.files caches by the texts' names, sizes and modification times: a text touched (a git
  -- checkout, a copy to another machine) is prepared again into another cache file, with the same tokens.
  local text = store_dir .. "/touched.txt"
  t.write_file(text, string.rep("the same words again and again\n", 200))
  local function declare()
    local corpus = data.files { text, name = "touched" }
    return plan("touched", { data = corpus, backend = "cpu", model = { aspect = 16, ctx = 32 },
      sweep = sweep.grid { N = { 2e4 }, D = { 4e3 } } }).runs[1].hash, corpus.path
  end
  local function declare_bpe()
    local corpus = data.bpe { corpus = data.files { text, name = "touched", documents = "line" }, vocab = 300 }
    return plan("touched-bpe", { data = corpus, backend = "cpu", model = { aspect = 16, ctx = 32 }, repeat_data = true,
      sweep = sweep.grid { N = { 2e4 }, D = { 4e3 } } }).runs[1].hash, corpus.tokenizer_name
  end
  local hash, path = declare()
  local bpe_hash, bpe_tokenizer = declare_bpe()
  assert(os.execute("touch -d '2001-02-03 04:05:06' '" .. text .. "'"))
  local touched_hash, touched_path = declare()
  t.ok(touched_path ~= path, touched_path)
  t.eq(touched_hash, hash, "the same tokens are the same data")
  -- Its BPE corpus: a tokenizer file named after the new cache file, the same tokens.
  local touched_bpe_hash, touched_tokenizer = declare_bpe()
  t.ok(touched_tokenizer ~= bpe_tokenizer, touched_tokenizer)
  t.eq(touched_bpe_hash, bpe_hash, "the same BPE tokens are the same data")
end)

t.test("data-constrained runs carry their unique tokens and epochs; identical points merge", function()
  local s, text = plan("dc", {
    model = { aspect = 32, vocab = 256, ctx = 64 },
    sweep = sweep.data_constrained { unique_tokens = { 1e6, 4e6 }, epochs = { 1, 4 }, sizes = { 1e5 } },
  })
  t.eq(#s.runs, 4)
  for _, r in ipairs(s.runs) do
    t.near(r.epochs, r.tokens / r.unique_tokens, 1e-12)
    t.ok(math.abs(r.epochs - r.point.epochs) / r.point.epochs < 0.01, "epochs " .. r.epochs)
  end
  local dup, dup_text = plan("dup", { sweep = sweep.list { { N = 1e5, D = 1e7 }, { N = 1e5, D = 1e7 } } })
  t.eq(#dup.runs, 1)
  t.ok(dup_text:find("merged", 1, true), dup_text)
  local _ = text
end)

t.test("IsoFLOP sizes of one budget that build nearly the same model are merged, and the dry run says so", function()
  -- At 1e10 FLOP the asked 13.7k and 20.4k (1.5x apart) built 16.9k and 17.6k (4% apart), both
  -- trained: a run wasted on a point that gives the parabola no spread.
  local s, text = plan("near-sizes", { models = { aspect = 16, ctx = 64, vocab = 64 },
    sweep = sweep.isoflop { budgets = { 1e10, 2e10, 4e10 }, points = 5 } })
  local by_budget = {}
  for i, r in ipairs(s.runs) do
    t.eq(r.ordinal, i, "runs are numbered in order after a merge")
    by_budget[r.budget] = by_budget[r.budget] or {}
    table.insert(by_budget[r.budget], r)
  end
  for C, runs in pairs(by_budget) do
    for i = 1, #runs do
      for j = i + 1, #runs do
        local ratio = math.max(runs[i].N_fit, runs[j].N_fit) / math.min(runs[i].N_fit, runs[j].N_fit)
        t.ok(ratio > 1.1, string.format("C = %g: N = %g and %g are nearly the same model", C, runs[i].N_fit, runs[j].N_fit))
      end
    end
  end
  -- Of the pair the one nearer its asked N is kept: 17.6k for 20.4k (16.9k was asked as 13.7k).
  local at_1e10 = {}
  for _, r in ipairs(by_budget[1e10]) do at_1e10[#at_1e10 + 1] = r.N_fit end
  table.sort(at_1e10)
  t.eq(#at_1e10, 3, table.concat(at_1e10, " "))
  t.ok(at_1e10[3] > 17e3 and at_1e10[3] < 18e3, tostring(at_1e10[3]))
  -- Sizes 19% apart where 50% were asked are a spread the parabola uses: kept (2e10: 8.64k and 10.3k).
  t.eq(#by_budget[2e10], 5)
  t.ok(text:find("at C = 1e10, the sizes N = 13.7k and 20.4k asked built nearly the same model (N = 16.9k and 17.6k",
    1, true), text)
  t.ok(text:find("the run of N = 17.6k is planned, not both", 1, true), text)
  -- Sizes a user asks for far apart on shapes far apart: nothing merged, nothing said.
  local wide, wide_text = plan("wide-sizes", { models = { aspect = 16, ctx = 64, vocab = 64 },
    sweep = sweep.isoflop { budgets = { 1e12 }, sizes = { 2e4, 6e4, 2e5 } } })
  t.eq(#wide.runs, 3)
  t.ok(not wide_text:find("nearly the same model", 1, true), wide_text)
  -- A sweep of seeds keeps each seed's runs apart: the merge is within one seed.
  local seeded = plan("near-seeds", { models = { aspect = 16, ctx = 64, vocab = 64 },
    sweep = sweep.seeds(sweep.isoflop { budgets = { 1e10 }, points = 5 }, 2) })
  t.eq(#seeded.runs, 6)
end)

t.test("of IsoFLOP sizes that build nearly the same model, the merge keeps the run the store holds done or resumable", function()
  -- At 1e10 FLOP the asked 13.7k and 20.4k build 16.9k and 17.6k: the merge kept 17.6k (nearer its
  -- asked N) even where 16.9k was done in the store (a sweep given the size 20.4k after the study
  -- trained 13.7k), which was then left out of the fits, "planned by an earlier version".
  local function spec(sizes)
    return { models = { aspect = 16, ctx = 64, vocab = 64 }, fits = {},
             sweep = sizes and sweep.isoflop { budgets = { 1e10 }, sizes = sizes } or sweep.isoflop { budgets = { 1e10 }, points = 5 } }
  end
  local fresh = plan("near-done", spec())
  local _, _, merges = study.plan_runs(fresh)
  t.eq(#merges, 1)
  local kept, dropped = merges[1].kept, merges[1].dropped
  t.ok(kept.N_fit > 17e3 and kept.N_fit < 18e3 and dropped.N_fit > 16e3 and dropped.N_fit < 17e3,
    kept.N_fit .. " kept, " .. dropped.N_fit .. " dropped")
  t.eq(merges[1].because, nil)
  -- The study first trained the size that builds 16.9k alone.
  local first = plan("near-done", spec { dropped.point.N }, {})
  t.eq(#first.runs, 1)
  t.eq(first.runs[1].hash, dropped.hash)
  t.eq(first.runs[1].status, "done")
  -- Planned again with the five sizes, it keeps the run done, and says why.
  local again, text = plan("near-done", spec())
  t.eq(#again.runs, #fresh.runs)
  local planned = {}
  for _, r in ipairs(again.runs) do planned[r.hash] = true end
  t.ok(planned[dropped.hash], "the run done is planned")
  t.ok(not planned[kept.hash], "the run not done is merged into it")
  t.ok(text:find("the run of N = 16.9k is planned, not both (the store holds it done)", 1, true), text)
  t.ok(not text:find("not in this sweep", 1, true), text)
  -- Run, it trains none again, and the run done is among the fitted observations.
  local ran = plan("near-done", spec(), {})
  local in_fits = false
  for _, r in ipairs(ran.runs) do
    if r.hash == dropped.hash then in_fits = r.status == "done" and r.attempts == 1 end
  end
  t.ok(in_fits, "the run done is reused")
  t.eq(#ran:observations(), #fresh.runs)
  -- A run stopped midway with a checkpoint to resume is kept so too (the law backend's checkpoint
  -- holds the curve points drawn).
  local function law(sizes)
    local s = spec(sizes)
    s.backend = { kind = "law", points = 10 }
    return s
  end
  local law_fresh = plan("near-resume", law())
  local _, _, law_merges = study.plan_runs(law_fresh)
  local law_dropped = law_merges[1].dropped
  t.ok(law_dropped.N_fit > 16e3 and law_dropped.N_fit < 17e3, tostring(law_dropped.N_fit))
  local folder = store_dir .. "/near-resume.checkpoints"
  t.ok(os.execute("mkdir -p '" .. folder .. "'"))
  t.write_file(folder .. "/" .. law_dropped.hash .. ".ckpt", "4\n")
  local resumed, resumed_text = plan("near-resume", law())
  local kept_hashes = {}
  for _, r in ipairs(resumed.runs) do kept_hashes[r.hash] = true end
  t.ok(kept_hashes[law_dropped.hash], "the run with a checkpoint is planned")
  t.ok(resumed_text:find("the run of N = 16.9k is planned, not both (it resumes from its checkpoint)", 1, true),
    resumed_text)
  t.ok(resumed_text:find("resumes at ", 1, true), resumed_text)
end)

t.test("the N convention: all parameters (Chinchilla, the default) or non-embedding (Kaplan)", function()
  local all = plan("all", { model = { aspect = 32, vocab = 256, ctx = 64 }, sweep = sweep.isoflop { budgets = 1e15, points = 3 } })
  for _, r in ipairs(all.runs) do
    t.eq(r.N_fit, r.params)
    t.near(6 * r.params * r.tokens, r.budget, 0.02)
  end
  -- With GPT-2's vocabulary the embeddings are half of these models, and the shapes still land
  -- within 3% of each N.
  local gpt2 = plan("gpt2", { model = { aspect = 64, vocab = 50257, ctx = 1024 },
    sweep = sweep.list { { N = 5.6e7, D = 1e9 }, { N = 7.5e7, D = 1e9 }, { N = 1e8, D = 1e9 } } })
  for _, r in ipairs(gpt2.runs) do
    t.ok(r.shape.embedding_params > 0.3 * r.N, "embeddings " .. r.shape.embedding_params)
    t.near(r.params, r.N, 0.03)
  end
  -- The aim goes on from each shape landed on, keeping the closest: at 316k and 422k with a
  -- 4,096-token vocabulary the first aim lands on a shape of about twice N, and a later one within
  -- 3%; at 11.5M the last aim is 5% off and an earlier one within 3%.
  local small = plan("bpe4k", { model = { aspect = 16, vocab = 4096, ctx = 128 },
    sweep = sweep.list { { N = 3.162e5, D = 1e8 }, { N = 4.217e5, D = 1e8 }, { N = 1.155e7, D = 1e9 } } })
  for _, r in ipairs(small.runs) do t.near(r.params, r.N, 0.03) end
  t.raises(function() plan("x", { params = "some", sweep = sweep.grid { N = { 1e5 }, D = { 1e7 } } }) end,
    "params must be \"all\"")
  t.raises(function() plan("x", { model = { aspect = 0 }, sweep = sweep.grid { N = { 1e5 }, D = { 1e7 } } }) end,
    "study: model: aspect must be a positive number or a string (got 0)")
  -- A whole number out of range is named by its value, not only its type.
  t.raises(function() plan("x", { measured_speed = 0, sweep = sweep.grid { N = { 1e5 }, D = { 1e7 } } }) end,
    "study: measured_speed must be a positive number (got 0)")
  t.raises(function() plan("x", { model = { aspect = -16 }, sweep = sweep.grid { N = { 1e5 }, D = { 1e7 } } }) end,
    "study: model: aspect must be a positive number or a string (got -16)")
end)

t.test("a run on a corpus counts the unique tokens its sampler gives: whole sequences of ctx targets", function()
  -- The sampler cuts U into floor(U / ctx) sequences of ctx targets; an epoch is those, no more.
  -- By hand, ctx 64: U = 1000 is 15 sequences, 960 tokens; U = 4096 is 64, all of it.
  local corpus = data.synthetic { kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 100000 }
  local s = plan("dc-corpus", { data = corpus, backend = "cpu", models = { aspect = 16, ctx = 64 },
    hyper = { batch = 4 }, sweep = sweep.data_constrained { unique_tokens = { 1000, 4096 }, epochs = { 4 }, N = { 2e4 } } })
  t.eq(#s.runs, 2)
  local by_u = {}
  for _, r in ipairs(s.runs) do by_u[r.config.unique_tokens] = r end
  local r = by_u[1000]
  t.eq(r.unique_tokens, 960)
  -- 4000 planned: 4 epochs of the 960 in whole steps of 4 × 64, rounded down (not 4096: 4.27 epochs).
  t.eq(r.tokens, 3840)
  t.near(r.epochs, 4, 1e-12)
  t.ok(r.label:find("U=960 (4 ep)", 1, true), r.label)
  t.eq(by_u[4096].unique_tokens, 4096)
  t.near(by_u[4096].epochs, 4, 1e-12)
  -- The sampler the run trains on agrees.
  for _, run in ipairs(s.runs) do
    local stats = data.sampler { corpus = corpus, unique_tokens = run.config.unique_tokens, tokens = run.tokens,
                                 seq_len = 64, batch = run.batch, seed = run.seed }:stats()
    t.eq(stats.epoch_tokens, run.unique_tokens)
    t.near(stats.planned_epochs, run.epochs, 1e-12)
  end
  -- A U of less than one sequence is refused at planning, not at the run's start.
  t.raises(function()
    plan("dc-short", { data = corpus, backend = "cpu", models = { aspect = 16, ctx = 64 },
      sweep = sweep.data_constrained { unique_tokens = { 50 }, epochs = { 4 }, N = { 2e4 } } })
  end, "U = 50 unique tokens hold no whole sequence of ctx = 64 targets")
end)

t.test("a run asked for fewer than 1 epoch of U trains its planned tokens, each once", function()
  -- U = 4096 at 0.5 epochs, ctx 64, batch 4: D = 2048, 8 steps of 256. The run's rows reach 32 of U's
  -- 64 sequences; its tokens were scaled by those 32 of 64 again: 1024 tokens, 4 steps.
  local corpus = data.synthetic { kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 100000 }
  local s = plan("dc-half", { data = corpus, backend = "cpu", models = { aspect = 16, ctx = 64 },
    hyper = { batch = 4 }, sweep = sweep.data_constrained { unique_tokens = { 4096, 1000 }, epochs = { 0.5 }, N = { 2e4 } } })
  local by_u = {}
  for _, r in ipairs(s.runs) do by_u[r.config.unique_tokens] = r end
  local half = by_u[4096]
  t.eq(half.tokens, 2048)
  t.eq(half.unique_tokens, 2048)  -- what it sees, each once
  t.eq(half.epochs, 1)
  -- U = 1000 is 960 in whole sequences: 0.5 epochs of them is 480 tokens, one whole step of 256.
  t.eq(by_u[1000].tokens, 256)
  for _, run in ipairs(s.runs) do
    local stats = data.sampler { corpus = corpus, unique_tokens = run.config.unique_tokens, tokens = run.tokens,
                                 seq_len = 64, batch = run.batch, seed = run.seed }:stats()
    t.eq(stats.planned_tokens, run.tokens)
    t.eq(stats.epoch_tokens, run.unique_tokens)
  end
end)

t.test("a simulated run asked for fewer than 1 epoch of U is labelled and drawn with the tokens it sees", function()
  -- No corpus: U = 4M at 0.5 epochs was labelled U=4M (0.5 ep), and the law drew its loss with
  -- R_D = D/U - 1 = -0.5. It sees its 2M tokens once, as a run on a corpus does.
  local law = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28, R_D = 15.39, R_N = 5.31 }
  local s = plan("dc-half-simulated", { models = { aspect = 16, ctx = 64 }, hyper = { batch = 8 },
    backend = { kind = "simulated", law = law },
    sweep = sweep.data_constrained { unique_tokens = { 4194304 }, epochs = { 0.5, 2 }, N = { 1e5 } } })
  local by_epochs = {}
  for _, r in ipairs(s.runs) do by_epochs[r.point.epochs] = r end
  local half = by_epochs[0.5]
  t.eq(half.tokens, 2097152)
  t.eq(half.unique_tokens, 2097152)
  t.eq(half.epochs, 1)
  t.eq(half.config.unique_tokens, 4194304)  -- its identity: the U asked
  t.ok(half.label:find("U=2.1M (1 ep)", 1, true), half.label)
  t.eq(by_epochs[2].unique_tokens, 4194304)
  t.ok(by_epochs[2].label:find("U=4.19M (2 ep)", 1, true), by_epochs[2].label)
end)

t.test("a run asked for 1 epoch of U trains 1 epoch, not the extra rows of whole steps rounded up", function()
  -- U = D = 59904 tokens is 58.5 steps of 16 × 64: 59 steps (60416 tokens) saw 512 of them twice,
  -- 1.0085 epochs. Rounded down: 58 steps, 59392 tokens, the sampler's 928 sequences each once.
  local corpus = data.synthetic { kind = "markov", vocab = 64, order = 1, seed = 1, tokens = 2e5 }
  local s, text = plan("one-epoch", { data = corpus, backend = "cpu", models = { aspect = 16, ctx = 64 },
    hyper = { batch = 16 }, sweep = sweep.data_constrained { unique_tokens = { 59904 }, epochs = { 1, 4 }, N = { 2e4 } } })
  local by_epochs = {}
  for _, r in ipairs(s.runs) do by_epochs[r.point.epochs] = r end
  local one = by_epochs[1]
  t.eq(one.tokens, 58 * 16 * 64)
  t.eq(one.unique_tokens, 58 * 16 * 64)
  t.eq(one.epochs, 1)
  t.ok(one.label:find("(1 ep)", 1, true), one.label)
  t.eq(by_epochs[4].tokens, 4 * 59904)   -- 234 whole steps
  t.eq(by_epochs[4].epochs, 4)
  -- What the run trains on agrees: the sampler plans the same tokens, each once.
  local stats = data.sampler { corpus = corpus, unique_tokens = one.config.unique_tokens, tokens = one.tokens,
                               seq_len = 64, batch = 16, seed = one.seed }:stats()
  t.eq(stats.planned_tokens, one.tokens)
  t.eq(stats.planned_epochs, 1)
  -- A run without U keeps the nearest whole step (its FLOPs closest to the plan).
  local fresh = plan("one-epoch-fresh", { data = corpus, backend = "cpu", models = { aspect = 16, ctx = 64 },
    hyper = { batch = 16 }, sweep = sweep.list { { N = 2e4, D = 59904 } } })
  t.eq(fresh.runs[1].tokens, 59 * 16 * 64)
  local _ = text
end)

-- The plan's columns write numbers as its FLOPs column and the fits do (3e-5), not with printf's
-- exponent (3e-05, 2e+03): a learning rate of 3e-5; and 2000 epochs of 1024 unique tokens as answers write
-- epochs (format_ratio: plainly up to 9999), 2000, where it wrote 2e3.
t.test("the plan's lr and epochs columns write 3e-5 and 2000 epochs, not 3e-05, 2e+03 or 2e3", function()
  local s, text = plan("exponents", {
    model = { aspect = 16, vocab = 256, ctx = 64 },
    sweep = sweep.data_constrained { unique_tokens = { 1024 }, epochs = { 2000 }, sizes = { 1e5 } },
    hyper = { lr = 3e-5, batch = 16 },
    backend = { kind = "simulated", law = { E = 1, A = 20, B = 30, alpha = 0.34, beta = 0.28 } },
  })
  t.eq(#s.runs, 1)
  t.near(s.runs[1].epochs, 2000, 1e-9)
  local row = text:match("\n +1 [^\n]*")
  t.ok(row and row:find(" 2000 ", 1, true) and row:find(" 3e-5 ", 1, true), text)
  -- The warning that the law ignores the repetition counts the epochs so too.
  t.ok(text:find("(run 1: 2000 epochs of 1.02k)", 1, true), text)
  t.ok(not text:find("2e3", 1, true), text)
  t.ok(not text:find("%de[+-]?0") and not text:find("%de%+"), text)
end)

t.test("the dry run of a paced law simulation counts a stopped run's points drawn and says where it resumes", function()
  -- A stopped run was shown as if it started from nothing. The law backend's checkpoint holds the
  -- curve points drawn: 4 of 10 is 4/10 of the run's tokens.
  local function spec()
    return { sweep = sweep.grid { N = { 1e5, 2e5 }, D = { 1e7 } }, fits = {},
             backend = { kind = "law", points = 10, seconds_per_point = 0.01 } }
  end
  local s, text = plan("law-resume", spec())
  t.ok(text:find("total: 2 runs (2 to simulate), ", 1, true), text)
  local run = s.runs[1]
  local folder = store_dir .. "/law-resume.checkpoints"
  t.ok(os.execute("mkdir -p '" .. folder .. "'"))
  t.write_file(folder .. "/" .. run.hash .. ".ckpt", "4\n")
  s, text = plan("law-resume", spec())
  local done = math.floor(run.tokens * 4 / 10 + 0.5)
  t.ok(text:find(string.format("new, resumes at %s of %s tokens", core.format_count(done), core.format_count(run.tokens)),
    1, true), text)
  t.ok(text:find("total: 2 runs (2 to simulate, 1 resuming), ", 1, true), text)
  -- Run, it draws the 6 points left: the checkpoint said where it was.
  local ran = plan("law-resume", spec(), {})
  t.eq(ran.runs[1].status, "done")
  t.near(ran.runs[1].metrics.resumed_from, 0.4, 1e-12)
end)

t.done()
