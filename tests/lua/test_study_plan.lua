-- Planning a study without running it (--dry-run): model families, hyperparameter rules by size,
-- run identities, the N convention, and what the plan prints.
local t = require "scalelab.test"

local store_dir = t.scratch("study-plan")

-- Plans `spec` as `scalelab script.lua --dry-run` would, with the plan's printout captured.
local function plan(name, spec)
  local saved_arg, saved_print = arg, print
  local printed = {}
  arg = { [-1] = "scalelab", [0] = "plan.lua", "--dry-run" }  -- as the host sets it for a script
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

t.test("the N convention: all parameters (Chinchilla, the default) or non-embedding (Kaplan)", function()
  local all = plan("all", { model = { aspect = 32, vocab = 256, ctx = 64 }, sweep = sweep.isoflop { budgets = 1e15, points = 3 } })
  for _, r in ipairs(all.runs) do
    t.eq(r.N_fit, r.params)
    t.near(6 * r.params * r.tokens, r.budget, 0.02)
  end
  t.raises(function() plan("x", { params = "some", sweep = sweep.grid { N = { 1e5 }, D = { 1e7 } } }) end,
    "params must be \"all\"")
end)

t.done()
