-- plan: the Lua API over the planner (questions, answers, laws as tables or Law objects, errors).
local t = require "scalelab.test"

local chinchilla = { kind = "chinchilla", E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 }
local datablations = plan.published.datablations_exact

-- fit.published laws when the fit module is there; the same values as tables otherwise.
local function published(name, as_table)
  if fit and fit.published and fit.published[name] then
    local law = fit.published[name]
    if type(law) == "function" then law = law() end
    return law
  end
  return as_table
end

t.test("compute-optimal allocation: closed form and numeric agree", function()
  local law = published("chinchilla", chinchilla)
  for _, c in ipairs { 1e19, 1e22, 1e25 } do
    local closed = plan.optimal{ compute = c, law = law }
    local numeric = plan.optimal{ compute = c, law = law, method = "numeric" }
    t.eq(closed.method, "closed form")
    t.eq(numeric.method, "numeric")
    t.near(numeric.N, closed.N, 1e-6)
    t.near(numeric.D, closed.D, 1e-6)
    t.near(closed.tokens_per_param, closed.D / closed.N, 1e-12)
    t.near(6 * closed.N * closed.D, c, 1e-12)
  end
end)

t.test("data-constrained checks of Muennighoff et al.", function()
  local l = plan.loss{ N = 6.34e9, D = 242e9, unique_tokens = 25e9, law = datablations }
  t.near(l.loss, 2.2256, 0, 5e-5)
  local a = plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = datablations }
  t.near(a.N, 7.0e9, 0.01)
  t.near(a.D, 237e9, 0.005)
  t.near(a.epochs, 9.5, 0, 0.05)
  t.ok(a.loss > a.loss_unlimited, "repeating data costs some loss")
  local text = tostring(a)
  for _, s in ipairs { "7.03B", "237B", "9.49", "2.2221" } do t.ok(text:find(s, 1, true), "prints " .. s .. "\n" .. text) end
end)

t.test("fixed epochs and fewer unique tokens", function()
  local four = plan.optimal{ compute = 1e22, epochs = 4, law = datablations }
  t.near(four.epochs, 4, 1e-9)
  local one = tostring(plan.optimal{ compute = 1e22, epochs = 1, law = datablations })
  t.ok(one:find("^compute%-optimal allocation at 1%.00e22 FLOP at 1 epoch\n"), one)
  local prev = 0
  for _, u in ipairs { 200e9, 50e9, 10e9 } do
    local a = plan.optimal{ compute = 1e22, unique_tokens = u, law = datablations }
    t.ok(a.epochs > prev, "fewer unique tokens, more epochs")
    prev = a.epochs
  end
  -- More unique tokens than the run sees: the answer is the unconstrained one, and a note says why.
  local plenty = plan.optimal{ compute = 1e20, unique_tokens = 1e16, law = datablations }
  local free = plan.optimal{ compute = 1e20, law = datablations }
  t.near(plenty.N, free.N, 1e-6)
  t.ok(tostring(plenty):find("note: the run sees 18.1B of the 1e16 unique tokens, each at most once (epochs 1.81e-6 < 1)", 1, true),
    tostring(plenty))
  t.ok(not tostring(four):find("each at most once", 1, true), tostring(four))
  local curve = plan.returns{ unique_tokens = 25e9, law = datablations }
  t.eq(#curve.rows, 11)
  t.near(curve.rows[1]["return"], 1, 1e-3)
  t.ok(curve.rows[11]["return"] < 0.2)
  -- The compute whose optimum sees the U tokens once, with its unit (it printed as "one epoch at the
  -- optimum  1.91e20"), and the table's first row at that compute.
  t.ok(tostring(curve):find("\n  FLOP, one epoch at the optimum  1.91e20\n", 1, true), tostring(curve))
  t.near(curve.rows[1].flops, curve.one_epoch_flops, 1e-12)
  -- Both fraction columns are explained beneath the table.
  t.ok(tostring(curve):find("note: return: the compute that unlimited unique data would need", 1, true), tostring(curve))
  t.ok(tostring(curve):find("note: marginal return: the effective FLOP gained since the row above, over the FLOP spent since it", 1, true),
    tostring(curve))
  -- A single budget has no row above it: no marginal return column, and no note explaining one.
  local single = plan.returns{ unique_tokens = 25e9, compute = { 1e22 }, law = datablations }
  t.ok(not single.rows[1]:has("marginal_return"))
  t.ok(tostring(single):find("note: return: the compute", 1, true), tostring(single))
  t.ok(not tostring(single):find("marginal", 1, true), tostring(single))
end)

t.test("approach-1 table and Gopher comparison", function()
  local tab = plan.table{ params = { 400e6, 10e9, 10e12 }, allocation = plan.published.chinchilla_approach1 }
  local text = tostring(tab)
  t.eq(tostring(plan.table{ params = { 400e6, 10e9, 10e12 }, law = plan.published.chinchilla_approach1 }), text)
  for _, s in ipairs { "1.92e19", "8.0B", "1.23e22", "205.1B", "1.30e28", "216.2T" } do
    t.ok(text:find(s, 1, true), "table prints " .. s .. "\n" .. text)
  end
  local cmp = plan.compare{ compute = 5.76e23, law = published("chinchilla", chinchilla),
    candidates = { Gopher = { N = 280e9, D = 300e9 }, kaplan = plan.published.kaplan:with{ vocab = 50257, ctx = 1024 },
                   approach1 = plan.published.chinchilla_approach1 } }
  t.eq(#cmp.rows, 4)
  t.eq(cmp.rows[2].question, "Gopher")
  t.near(cmp.rows[2].loss, 1.9933, 1e-4)
  t.ok(cmp.rows[2].efficiency < 0.5)
  t.near(cmp.rows[3].N, 67.9e9, 0.005)   -- approach 1: ~70B on 1.4T
  t.near(cmp.rows[3].D, 1.41e12, 0.005)
  t.ok(cmp.rows[4].N > 500e9)           -- Kaplan's rule: a far larger model
end)

-- Kaplan's rule counts non-embedding parameters: a law of all of them refuses it without its models'
-- shape (it only noted the mismatch, and read N as it was), and with rule:with{ vocab =, ctx = } reads
-- N + (vocab + ctx)·d, d = (aspect·N/12)^(1/3). By hand (Python): at 1e22 FLOP the rule's N is
-- 1.3e9·(1e22/8.64e19)^0.73 = 4.171462e10, d = 6059.39, and with GPT-2's shape N_all = 4.202535e10.
t.test("Kaplan's rule under a law of all parameters needs its models' shape, given by rule:with", function()
  local law = published("chinchilla", chinchilla)
  local kaplan = plan.published.kaplan
  t.eq(kaplan.non_embedding, true)
  t.eq(kaplan.shape, nil)
  t.eq(plan.published.chinchilla_approach1.non_embedding, false)
  t.raises(function() plan.compare{ compute = 1e22, law = law, candidates = { K = kaplan } } end,
    "plan.compare: candidate 'K' is the rule 'kaplan', which counts non-embedding parameters (Kaplan et al.'s N), and "
      .. "law 'chinchilla' all of them")
  t.raises(function() plan.optimal{ compute = 1e22, law = law, allocation = kaplan } end,
    "Give the rule its models' shape, plan.published.kaplan:with{ vocab = 50257, ctx = 1024 }")
  local shaped = kaplan:with{ vocab = 50257, ctx = 1024 }
  t.eq(shaped.shape.vocab, 50257)
  t.eq(shaped.shape.ctx, 1024)
  t.eq(shaped.shape.aspect, 64)
  t.eq(kaplan.shape, nil, "the published rule is unchanged")
  t.ok(tostring(shaped):find("N non-embedding, models of vocab 50257, ctx 1024, d/L = 64", 1, true), tostring(shaped))
  -- plan.compare's row is the rule's run that spends the budget as the law counts it, 6·N_all·D = 1e22:
  -- the rule's at C_R = 9.925794e21 counted with its own N (Python, bisection: C_R·N_all(N)/N = C), N =
  -- 4.148843e10 non-embedding, 4.179860e10 with the embeddings, D = C_R/(6N) = 3.987375e10.
  local cmp = plan.compare{ compute = 1e22, law = law, candidates = { K = shaped } }
  t.near(cmp.rows[2].N, 4.1798596e10, 1e-7)
  t.near(cmp.rows[2].D, 3.9873747e10, 1e-7)
  t.near(cmp.rows[2].flops, 1e22, 1e-12)
  t.near(cmp.rows[2].loss, 1.69 + 406.4 / 4.1798596e10 ^ 0.34 + 410.7 / 3.9873747e10 ^ 0.28, 1e-7)
  -- plan.optimal keeps the rule's own budget and N: its loss is the law's at 4.202535e10 parameters
  -- (the rule's 41.7B at 1e22, with the embeddings) on D = 1e22/(6·4.171462e10).
  local opt = plan.optimal{ compute = 1e22, law = law, allocation = shaped }
  t.near(opt.N, 4.171462e10, 1e-6)
  t.near(opt.loss, 1.69 + 406.4 / 4.202535e10 ^ 0.34 + 410.7 / (1e22 / (6 * 4.171462e10)) ^ 0.28, 1e-7)
  -- (the loss of the 41.7B non-embedding parameters read as they were: 2.2312, 2.5e-4 higher)
  t.ok(1.69 + 406.4 / 4.171462e10 ^ 0.34 + 410.7 / (1e22 / (6 * 4.171462e10)) ^ 0.28 - opt.loss > 1e-4)
  -- The shape is checked where it is given.
  t.raises(function() kaplan:with{ vocab = 50257 } end, "rule:with: missing ctx")
  t.raises(function() kaplan:with{ vocab = 50257, ctx = 1024, layers = 12 } end, "layers")
  -- A rule of all parameters takes a shape too, for a law of non-embedding N (below); one that does
  -- not say what its N counts takes none.
  t.eq(plan.published.chinchilla_approach1:with{ vocab = 32000, ctx = 2048 }.shape.vocab, 32000)
  t.raises(function() plan.allocation{ N = { k = 0.1, a = 0.5 }, name = "own" }:with{ vocab = 50257, ctx = 1024 } end,
    "rule:with: the rule 'own' does not say whether its N counts all parameters or non-embedding ones")
end)

-- The opposite mismatch: Chinchilla's rule (all parameters) under Kaplan's joint law (non-embedding N)
-- was read as it was, the loss that of a larger model than the rule means. Refused now without the
-- rule's models' shape; with it, read as the N whose N + (vocab + ctx)·d is the rule's. Python (mpmath,
-- bisection): at 1e22 FLOP the rule's 9.013757e9 parameters at vocab 32000, ctx 2048, d/L = 64 are
-- 8.890522e9 non-embedding ones, where the law's loss is 1.990526 (its D 1.847334e11).
t.test("a rule of all parameters under a law of non-embedding N needs its models' shape", function()
  local law = fit.published.kaplan
  local approach1 = plan.published.chinchilla_approach1
  t.eq(approach1.N_counts, "all")
  t.eq(plan.published.kaplan.N_counts, "non_embedding")
  t.eq(plan.allocation{ N = { k = 0.1, a = 0.5 } }.N_counts, nil)
  t.raises(function() plan.compare{ compute = 1e22, law = law, candidates = { A = approach1 } } end,
    "plan.compare: candidate 'A' is the rule 'chinchilla_approach1', which counts all parameters (the embeddings "
      .. "included, Chinchilla's N), and law 'kaplan' non-embedding ones (Kaplan et al.'s N)")
  t.raises(function() plan.optimal{ compute = 1e22, law = law, allocation = approach1 } end,
    "Give the rule its models' shape, plan.published.chinchilla_approach1:with{ vocab = 32000, ctx = 0 }")
  local shaped = approach1:with{ vocab = 32000, ctx = 2048 }
  t.ok(tostring(shaped):find("N all parameters, models of vocab 32000, ctx 2048, d/L = 64", 1, true), tostring(shaped))
  -- plan.compare: the rule's run that spends the budget as the law counts it (Python, bisection: at
  -- C_R = 1.013798e22, N_ne = 8.951981e9, D = 1.860085e11, loss 1.989440).
  local cmp = plan.compare{ compute = 1e22, law = law, candidates = { A = shaped } }
  t.near(cmp.rows[2].N, 8.95198122e9, 1e-8)
  t.near(cmp.rows[2].D, 1.86008510e11, 1e-8)
  t.near(cmp.rows[2].loss, 1.98943958, 1e-8)
  local opt = plan.optimal{ compute = 1e22, law = law, allocation = shaped }
  t.near(opt.N, 9.013757e9, 1e-6)
  t.near(opt.loss, 1.99052631, 1e-8)
  -- Without a law, or with one of all parameters, nothing is converted.
  t.near(plan.optimal{ compute = 1e22, law = fit.published.chinchilla, allocation = approach1 }.N, 9.013757e9, 1e-6)
end)

-- plan.compare's rows read Kaplan's rule into the law's count (all parameters: 42B for the rule's 41.7B
-- non-embedding ones), yet nothing printed beside them said which count its N was: its convention was
-- "C = 6·N·D" alone, and only a note said what the rule's N was read as. Every answer from a law and a
-- rule of different counts now says in its convention which count its N is.
t.test("an answer from a law and a rule that count N differently says which count its N is", function()
  local chinchilla_law, kaplan_law = fit.published.chinchilla, fit.published.kaplan
  local kaplan = plan.published.kaplan:with{ vocab = 50257, ctx = 1024 }
  local cmp = plan.compare{ compute = 1e22, law = chinchilla_law, candidates = { K = kaplan } }
  t.ok(cmp.convention:find("C = 6·N·D, N all parameters (as law 'chinchilla' counts them: a rule's non-embedding N is "
    .. "read with its models' embeddings)", 1, true), cmp.convention)
  t.ok(tostring(cmp):find("N all parameters (as law 'chinchilla' counts them", 1, true), tostring(cmp))
  -- plan.optimal and plan.table keep the rule's N, which their convention names.
  for _, a in ipairs { plan.optimal{ compute = 1e22, law = chinchilla_law, allocation = kaplan },
                       plan.table{ params = { 1e9 }, law = chinchilla_law, allocation = kaplan } } do
    t.ok(a.convention:find("N non-embedding parameters (Kaplan et al.'s count", 1, true), a.convention)
  end
  local approach1 = plan.published.chinchilla_approach1:with{ vocab = 32000, ctx = 2048 }
  for _, a in ipairs { plan.optimal{ compute = 1e22, law = kaplan_law, allocation = approach1 },
                       plan.table{ params = { 1e9 }, law = kaplan_law, allocation = approach1 } } do
    t.ok(a.convention:find("N all parameters (the rule's count, the embeddings included", 1, true), a.convention)
    t.ok(tostring(a):find("N all parameters (the rule's count", 1, true), tostring(a))
  end
  local cmp2 = plan.compare{ compute = 1e22, law = kaplan_law, candidates = { A = approach1 } }
  t.ok(cmp2.convention:find("N non-embedding parameters", 1, true), cmp2.convention)
  -- Alike counts add nothing.
  t.eq(plan.compare{ compute = 1e22, law = chinchilla_law, candidates = { A = plan.published.chinchilla_approach1 } }.convention,
    "C = 6·N·D")
end)
-- What a law says its N counts decides how it reads Kaplan's rule, before its form: a law of Kaplan's
-- form fitted to runs of all parameters (fit.kaplan of a study's runs by default: N_counts "all") read
-- the rule's non-embedding N as it was, silently, as if it were Kaplan et al.'s own law.
t.test("a law of Kaplan's form fitted to runs of all parameters reads Kaplan's rule with its embeddings", function()
  local kaplan_law = fit.published.kaplan
  local N, D, L = {}, {}, {}
  for _, n in ipairs { 1e7, 3e7, 1e8, 3e8, 1e9, 3e9 } do
    for _, d in ipairs { 1e9, 3e9, 1e10, 3e10, 1e11 } do
      N[#N + 1], D[#D + 1], L[#L + 1] = n, d, kaplan_law:predict { N = n, D = d }
    end
  end
  local all = fit.kaplan(fit.observations { N = N, D = D, loss = L, params = "all" }, { form = "ND" })
  t.eq(all.N_counts, "all")
  t.raises(function() plan.compare{ compute = 1e22, law = all, candidates = { K = plan.published.kaplan } } end,
    "plan.compare: candidate 'K' is the rule 'kaplan', which counts non-embedding parameters (Kaplan et al.'s N), "
      .. "and law 'kaplan_ND' all of them")
  t.raises(function() plan.optimal{ compute = 1e22, law = all, allocation = plan.published.kaplan } end,
    "Give the rule its models' shape")
  -- With the shape, the law reads N + (vocab + ctx)·d: in a comparison, 4.1798596e10 for the rule's
  -- 4.1488427e10 of its run that spends 1e22 so, on D = 3.9873747e10 tokens (Python, above).
  local shaped = plan.published.kaplan:with{ vocab = 50257, ctx = 1024 }
  local cmp = plan.compare{ compute = 1e22, law = all, candidates = { K = shaped } }
  t.near(cmp.rows[2].N, 4.1798596e10, 1e-7)
  t.near(cmp.rows[2].loss, all:predict { N = 4.1798596e10, D = 3.9873747e10 }, 1e-6)
  -- Kaplan et al.'s own law (non-embedding N) and the same fit to runs of non-embedding N read it as it is.
  t.near(plan.compare{ compute = 1e22, law = kaplan_law, candidates = { K = plan.published.kaplan } }.rows[2].N,
    4.171462e10, 1e-6)
  local ne = fit.kaplan(fit.observations { N = N, D = D, loss = L, params = "non_embedding" }, { form = "ND" })
  t.near(plan.compare{ compute = 1e22, law = ne, candidates = { K = plan.published.kaplan } }.rows[2].N, 4.171462e10, 1e-6)
end)

-- Chinchilla's approach 1 under Kaplan's law, shaped: plan.optimal keeps the rule's own N and reads the
-- law at the models' non-embedding N (8.890522e9 at vocab 32000, ctx 2048, d/L = 64; Python bisection),
-- plan.table too; a law of all parameters reads the same rule as it is, shape or not.
t.test("a shaped rule of all parameters under a law of non-embedding N: optimal and table read it without the embeddings", function()
  local kaplan_law, approach1 = fit.published.kaplan, plan.published.chinchilla_approach1
  t.raises(function() plan.table{ params = { 1e9 }, law = kaplan_law, allocation = approach1 } end,
    "plan.table: the rule 'chinchilla_approach1' counts all parameters")
  local shaped = approach1:with{ vocab = 32000, ctx = 2048 }
  local opt = plan.optimal{ compute = 1e22, law = kaplan_law, allocation = shaped }
  t.near(opt.N, 9.013757e9, 1e-6)
  t.near(opt.loss, 1.9905263, 1e-7)
  local tab = plan.table{ params = { 9.013757e9 }, law = kaplan_law, allocation = shaped }
  t.near(tab.rows[1].loss, kaplan_law:predict{ N = 8.890522e9, D = tab.rows[1].D }, 1e-6)
  local chinchilla = fit.published.chinchilla
  t.eq(plan.optimal{ compute = 1e22, law = chinchilla, allocation = shaped }.loss,
    plan.optimal{ compute = 1e22, law = chinchilla, allocation = approach1 }.loss)
end)


-- The inference-aware answer's training compute printed as "FLOP", beside "inference FLOP" and
-- "total FLOP": which compute it was took knowing the answer.
t.test("the inference-aware answer names its training compute", function()
  local a = plan.inference{ compute = 1e23, inference_tokens = 2e12, law = published("chinchilla", chinchilla) }
  local text = tostring(a)
  t.ok(text:find("\n  training FLOP +1%.07e23\n"), text)
  t.ok(text:find("\n  inference FLOP +3%.73e22\n") and text:find("\n  total FLOP +1%.45e23\n"), text)
  t.ok(not text:find("\n  FLOP ", 1, true), text)
  t.ok(a:markdown():find("| training FLOP |", 1, true), a:markdown())
  t.near(a.flops + a.inference_flops, a.total_flops, 1e-12)
end)

t.test("inference demand shrinks the model", function()
  local prev = math.huge
  for _, tokens in ipairs { 0, 1e12, 1e13 } do
    local a = plan.inference{ compute = 1e23, inference_tokens = tokens, law = chinchilla }
    t.ok(a.N < prev)
    prev = a.N
  end
end)

t.test("compute_for and cost", function()
  local opt = plan.optimal{ compute = 2e22, law = chinchilla }
  local back = plan.compute_for{ loss = opt.loss, law = chinchilla, gpu = "A100", gpus = 256, mfu = 0.5 }
  t.near(back.flops, 2e22, 1e-6)
  t.near(back.cost.gpu_hours, 2e22 / (312e12 * 0.5) / 3600, 1e-6)
  local c = plan.cost{ flops = 8.64e19 * 10, gpu = "H200", gpus = 8 }
  t.near(c.pf_days, 10, 1e-12)
  t.eq(c.gpu, "H200")
  t.near(c.days, c.gpu_hours / 8 / 24, 1e-12)
  t.near(plan.cost{ flops = 1e21, peak = 2e15, mfu = 1 }.gpu_hours, 1e21 / 2e15 / 3600, 1e-12)
  -- A tiny cost in the one number form: 1e10 / (989e12 · 0.4) / 3600 = 7.02e-9 (it said "7.02e-09 H100-hours").
  local tiny = tostring(plan.cost{ flops = 1e10, gpu = "H100" })
  t.ok(tiny:find(": 7.02e-9 H100-hours", 1, true), tiny)
  t.near(opt:cost_on{ gpu = "H100", mfu = 0.4 }.gpu_hours, 2e22 / (989e12 * 0.4) / 3600, 1e-12)
  -- A table of model sizes and a return curve have no one compute: each row is priced (gpu = was
  -- taken and priced nothing, without a word). By hand: a row's FLOPs / (peak · mfu) / 3600.
  local tab = plan.table{ params = { 1e9, 1e10 }, law = chinchilla, gpu = "A100", gpus = 64, mfu = 0.5 }
  for _, row in ipairs(tab.rows) do
    t.near(row.gpu_hours, row.flops / (312e12 * 0.5) / 3600, 1e-12)
    t.near(row.cost.days, row.flops / (312e12 * 0.5) / 3600 / 64 / 24, 1e-12)
  end
  t.eq(tab.cost, nil)
  -- A row printed alone says what it is a row of (its first line was empty).
  t.eq(tostring(tab.rows[2]):match("^[^\n]*"), "row 2 of compute-optimal FLOPs and tokens per model size")
  t.eq(tab.rows[2].question, "row 2 of compute-optimal FLOPs and tokens per model size")
  t.ok(tostring(tab):find("A100-hours", 1, true), tostring(tab))
  t.eq(tab:record().rows[2].cost.gpus, 64)
  local rule_tab = plan.table{ params = { 400e6 }, allocation = plan.published.chinchilla_approach1, gpu = "H100", mfu = 0.9 }
  t.near(rule_tab.rows[1].gpu_hours, 1.92e19 / (989e12 * 0.9) / 3600, 0.005)
  local _, mfu_notes = tostring(rule_tab):gsub("mfu = 0.9 %(90%% of peak%)", "")
  t.eq(mfu_notes, 1, tostring(rule_tab))
  -- Priced after the fact, a table has no compute of its own: the error says where it is (it was
  -- "this answer (...) has no 'flops' (it has )").
  local plain_tab = plan.table{ params = { 1e9 }, law = chinchilla }
  t.raises(function() plain_tab:cost_on{ gpu = "H100" } end,
    "answer:cost_on: this answer (compute-optimal FLOPs and tokens per model size) has no training compute of its own, "
    .. "only its rows have one each: price a row, answer.rows[i]:cost_on{ ... }")
  t.near(plain_tab.rows[1]:cost_on{ gpu = "H100" }.gpu_hours, plain_tab.rows[1].flops / (989e12 * 0.4) / 3600, 1e-12)
  t.raises(function() local _ = plain_tab.flops end, "has no 'flops' (it has no quantities of its own, only rows: answer.rows[i].flops)")
  local ret = plan.returns{ unique_tokens = 25e9, compute = { 1e21, 1e22 }, law = datablations, gpu = "H100" }
  t.near(ret.rows[2].gpu_hours, 1e22 / (989e12 * 0.4) / 3600, 1e-12)
end)

t.test("questions declared before the law", function()
  local q = plan.optimal{ compute = 1e21, gpu = "H100", gpus = 64 }
  t.eq(q.kind, "optimal")
  t.ok(q.needs_law)
  t.eq(q.inputs.compute, 1e21)
  t.eq(q.inputs.unique_tokens, nil)
  t.ok(tostring(q):find("asked without a law: question:answer(law) answers it", 1, true), tostring(q))
  -- What it is priced on is part of what was asked (it printed only the compute); an mfu no run has
  -- reached is said as the question is declared, not only in its answers.
  t.ok(tostring(q):find("\n  priced on 64 H100s at 40% MFU (989 TFLOP/s peak)\n", 1, true), tostring(q))
  t.ok(not tostring(q):find("note:", 1, true), tostring(q))
  local eager = plan.compute_for{ loss = 2.0, gpu = "TPU v5p", peak = 459e12, mfu = 0.9 }
  t.ok(tostring(eager):find("\n  priced on 1 TPU v5p at 90% MFU (459 TFLOP/s peak)\n  note: mfu = 0.9 (90% of peak) is above", 1, true),
    tostring(eager))
  t.ok(not tostring(plan.optimal{ compute = 1e21 }):find("priced", 1, true))
  local a = q:answer(chinchilla)
  t.near(a.N, plan.optimal{ compute = 1e21, law = chinchilla }.N, 1e-12)
  t.eq(a.cost.gpus, 64)
  local answers = plan.answer({ small = plan.optimal{ compute = 1e20 }, big = plan.optimal{ compute = 1e22 } }, chinchilla)
  t.ok(answers.big.N > answers.small.N)
  t.raises(function() q:answer() end, "needs a law")
end)

t.test("bootstrap samples give intervals", function()
  local law = { kind = "chinchilla", E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28, samples = {} }
  for i = 1, 40 do
    local d = (i - 20.5) / 1000
    law.samples[i] = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34 + d, beta = 0.28 - d / 2 }
  end
  local a = plan.optimal{ compute = 1e22, law = law }
  local lo, hi = a:interval("N")
  t.ok(lo < a.N and a.N < hi, "interval brackets the point")
  t.eq(a.intervals.N[1], lo)
  t.eq(a.samples, 40)
  t.ok(tostring(a):find(" · 95% intervals over 40 bootstrap samples\n", 1, true), tostring(a))
  -- Samples that all give the same numbers (a law fitted to noise-free runs) leave no interval: the
  -- answer said "95% intervals over 20 bootstrap samples" above numbers without one.
  local same = { kind = "chinchilla", E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28, samples = {} }
  for i = 1, 20 do same.samples[i] = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 } end
  for _, b in ipairs { plan.optimal{ compute = 1e22, law = same }, plan.table{ params = { 1e9, 1e10 }, law = same } } do
    t.eq(b.samples, 20)
    t.eq(next(b.intervals), nil)
    t.ok(tostring(b):find(" · no intervals: its 20 bootstrap samples all give these numbers\n", 1, true), tostring(b))
    t.ok(not tostring(b):find("95%", 1, true), tostring(b))
    t.ok(b:markdown():find("\nNo intervals: the 20 bootstrap samples all give these numbers.\n", 1, true), b:markdown())
  end
end)

t.test("bad inputs say why", function()
  t.raises(function() plan.optimal{ compute = 0, law = chinchilla } end, "compute must be positive")
  t.raises(function() plan.optimal{ compute = -5, law = chinchilla } end, "compute must be positive")
  -- A number in quotes: the error says how to write it.
  t.raises(function() plan.optimal{ compute = "1e21", law = chinchilla } end,
    "plan.optimal: compute must be a number (got string); write it without quotes: compute = 1e21")
  -- The same inside a list of numbers (budgets, model sizes) and a law given as a table: the element
  -- named by its index or parameter (they said only "[2] must be a number (got string)").
  t.raises(function() plan.returns{ unique_tokens = 25e9, compute = { 1e21, "2e22" }, law = datablations } end,
    "plan.returns: compute[2] must be a number (got string); write it without quotes: compute[2] = 2e22")
  t.raises(function() plan.table{ params = { " 1e9 " }, law = chinchilla } end,
    "plan.table: params[1] must be a number (got string); write it without quotes: params[1] = 1e9")
  t.raises(function() plan.table{ params = { 1e9, "many" }, law = chinchilla } end,
    "plan.table: params[2] must be a number (got string)")
  t.ok(not select(2, pcall(plan.table, { params = { 1e9, "many" }, law = chinchilla })):find("quotes", 1, true))
  t.raises(function() plan.optimal{ compute = 1e22, law = { E = "1.69", A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 } } end,
    "plan.optimal: law: parameter E must be a number (got string); write it without quotes: E = 1.69")
  -- A power law { k =, a = } with one of them quoted or missing was refused as "got table".
  t.raises(function() plan.allocation{ N = { k = "0.1", a = 0.5 } } end,
    "plan.allocation: N.k must be a number (got string); write it without quotes: k = 0.1")
  t.raises(function() plan.allocation{ N = { k = 0.1 } } end, "plan.allocation: N: a power law { k = ..., a = ... } (k·C^a) needs a too")
  t.raises(function() plan.allocation{ N = { k = 0.1, a = 0.5 }, D = { k = 1.7, a = true } } end,
    "plan.allocation: D.a must be a number (got boolean)")
  t.raises(function() plan.allocation{ N = { kk = 0.1 } } end, "plan.allocation: N must be a power law of compute")
  t.raises(function() plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = chinchilla } end,
    "needs a law with a term for repeated data")
  t.raises(function() plan.compute_for{ loss = 1.2, law = chinchilla } end, "irreducible loss E = 1.69")
  t.raises(function() local _ = plan.optimal{ compute = 1e22, law = chinchilla }.epochs end, "has no 'epochs'")
  t.raises(function() plan.optimal{ compute = 1e22, lwa = chinchilla } end, "did you mean 'law'")
  t.raises(function() plan.optimal{ compute = 1e22, law = { kind = "chinchilla", E = 1 } } end, "must be a number")
  t.raises(function() plan.cost{ flops = 1e22, gpu = "H10" } end, "plan.cost: unknown GPU 'H10'; did you mean 'H100'")
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, gpus = 0 } end,
    "plan.optimal: gpus must be at least 1 (got 0)")
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, gpu = "V100" } end, "plan.optimal: unknown GPU 'V100'")
  t.eq(plan.cost{ flops = 1e22, gpu = "TPU v5p", peak = 459e12 }.gpu, "TPU v5p")  -- with peak, any name
  -- peak = 0 is no peak: it was refused as "unknown GPU 'custom'" or, with gpu =, silently ignored.
  t.raises(function() plan.cost{ flops = 1e22, peak = 0 } end,
    "plan.cost: peak must be a positive FLOP/s (got 0); leave it out for the GPU's own peak")
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla }:cost_on{ gpu = "H100", peak = 0 } end,
    "answer:cost_on: peak must be a positive FLOP/s (got 0)")
  -- A GPU of the table at another peak keeps its name, and the summary says whose peak it is.
  local h100 = plan.cost{ flops = 1e23, gpu = "H100", peak = 1e15 }
  t.eq(h100.gpu, "H100")
  t.ok(tostring(h100):find("(1000 TFLOP/s peak, as given, not the H100's own)", 1, true), tostring(h100))
  t.ok(tostring(h100):find("7.92 years on 1 GPU", 1, true), tostring(h100))
  t.ok(not tostring(plan.cost{ flops = 1e23, gpu = "H100" }):find("as given", 1, true))
  t.eq(plan.cost{ flops = 1e23, peak = 1e15 }.gpu, "custom GPU")
  t.raises(function() plan.cost{ flops = 1e23, gpus = 1.5 } end, "plan.cost: gpus must be a whole number of GPUs (got 1.5)")
  -- Values no hardware has were priced: peak = 1e-300 at inf GPU-hours, gpus = 1e300 at "2.53e-291 ms".
  t.raises(function() plan.cost{ flops = 1e23, peak = 1e-300 } end,
    "plan.cost: peak = 1e-300 FLOP/s is no accelerator's peak; give one from 1e9 to 1e18 FLOP/s")
  t.raises(function() plan.cost{ flops = 1e23, gpus = 1e300 } end,
    "plan.cost: gpus = 1e300 is more GPUs than any cluster has; give from 1 to 1e7")
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, method = "fast" } end, "method must be")
  t.raises(function() plan.optimal{ compute = 0 / 0, law = chinchilla } end, "compute must be a finite number (got nan)")
  -- Without inference the inference-aware allocation is the compute-optimal one: no saving at all.
  t.eq(plan.inference{ compute = 1e23, inference_tokens = 0, law = chinchilla }.saving, 0)
  -- An inference demand past the search's range names inference_tokens and the fix; it said only
  -- "found no interior optimum ... for loss 2.1".
  t.raises(function() plan.inference{ compute = 1e23, inference_tokens = 1e300, law = chinchilla } end,
    "at inference_tokens = 1e300: ")
  t.raises(function() plan.inference{ compute = 1e23, inference_tokens = 1e300, law = chinchilla } end,
    "give fewer inference_tokens")
  t.raises(function() plan.inference{ compute = 1e23, inference_tokens = 1e300, law = chinchilla } end,
    "the total 6·N·D + 2·N·inference_tokens overflows at every model size")
  -- Counted with attention, the overflow names that count, not 6·N·D + 2·N·inference_tokens.
  for _, c in ipairs {
    { { "palm", ctx = 2048 }, "the total (6N + 12·L·T·d)·D + (2N + 4·L·T·d)·inference_tokens (PaLM's and DeepSeek's "
      .. "count with attention; T = 2048, shapes at d/L = 64) overflows at every model size" },
    { { "deepseek", ctx = 4096, aspect = 100 }, "(6N + 12·L·T·d)·D + (2N + 4·L·T·d)·inference_tokens (PaLM's and "
      .. "DeepSeek's count with attention; T = 4096, shapes at d/L = 100) overflows" },
    { { "kaplan", ctx = 1024 }, "the total (6N + 6·L·T·d)·D + (2N + 2·L·T·d)·inference_tokens (Kaplan's count with "
      .. "attention; T = 1024, shapes at d/L = 64) overflows" },
  } do
    local message = t.raises(function()
      plan.inference{ compute = 1e23, inference_tokens = 1e300, law = chinchilla, flops = c[1] }
    end, c[2])
    t.ok(not message:find("6·N·D + 2·N", 1, true), message)
  end
  -- A table of Chinchilla's parameters needs no kind (the form the simulated backend takes); with R_D
  -- and R_N it is Muennighoff's law. One with neither kind nor that form is refused, naming both.
  local plain = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 }
  t.near(plan.optimal{ compute = 1e22, law = plain }.N, plan.optimal{ compute = 1e22, law = chinchilla }.N, 1e-12)
  local dc = { E = 1.869, A = 520.8, B = 1487.7, alpha = 0.3527, beta = 0.3527, R_D = 15.39, R_N = 5.31 }
  t.near(plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = dc }.N, 7.0e9, 0.02)
  -- A law given by hand must have values its form allows: a zero or negative exponent or coefficient,
  -- a NaN, a negative E are named (they gave 'predict needs a positive finite N (got 0)', 'predict
  -- needs N', or, for E = -1, an allocation with no loss). E = 0 is a law without irreducible loss.
  local function with(changes)
    local law = {}
    for k, v in pairs(plain) do law[k] = v end
    for k, v in pairs(changes) do law[k] = v end
    return law
  end
  t.raises(function() plan.optimal{ compute = 1e22, law = with{ alpha = 0 } } end,
    "plan.optimal: law 'chinchilla' has alpha = 0 (exponent in N); the parameters of a chinchilla law (E, A, B, alpha, "
    .. "beta) must be positive finite numbers: give alpha a positive value")
  t.raises(function() plan.loss{ N = 1e9, D = 1e10, law = with{ A = -406.4 } } end, "plan.loss: law 'chinchilla' has A = -406.4")
  t.raises(function() plan.optimal{ compute = 1e22, law = with{ beta = 0 / 0 } } end, "has beta = nan (exponent in D)")
  t.raises(function() plan.optimal{ compute = 1e22, law = with{ E = -1 } } end,
    "has E = -1 (irreducible loss); the parameters of a chinchilla law (E, A, B, alpha, beta) must be positive finite "
    .. "numbers (E may be 0): give E a non-negative value")
  t.raises(function() plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = with{ R_D = -1, R_N = 5.31 } } end,
    "law 'data_constrained' has R_D = -1")
  t.raises(function() plan.inference{ compute = 1e22, inference_tokens = 0, law = fit.published.chinchilla:with{ alpha = -0.34 } } end,
    "plan.inference: law 'chinchilla, modified' has alpha = -0.34")
  t.near(plan.optimal{ compute = 1e22, law = with{ E = 0 } }.loss, plan.optimal{ compute = 1e22, law = plain }.loss - 1.69, 1e-9)
  t.raises(function() plan.optimal{ compute = 1e22, law = { E = 1.69, A = 406.4 } } end,
    "a law given as a table needs kind = \"chinchilla\" | \"data_constrained\" | \"kaplan_ND\" | ... (or Chinchilla's "
    .. "parameters E, A, B, alpha, beta, which need no kind)")
  -- An IsoFLOP analysis is an allocation, not a loss law: the error says how to ask with it.
  local iso = { N_law = fit.published.chinchilla, minima = {} }
  local not_a_loss_law = "law = an IsoFLOP or approach-1 analysis (fit.isoflop, fit.approach1, a study's "
    .. "s.fits.isoflop or s.fits.approach1) gives N_opt(C) and D_opt(C), not a loss law; ask with allocation = "
    .. "plan.allocation{ isoflop = analysis } instead"
  t.raises(function() plan.optimal{ compute = 1e22, law = iso } end, not_a_loss_law)
  -- So is a study's IsoFLOP or approach-1 fit (s.fits.isoflop, s.fits.approach1: kind "isoflop" or
  -- "approach1"), which plan.optimal, plan.compare and question:answer refused with Law::Make's
  -- "an IsoFLOP law needs Law::IsoFlop(budgets, values)" and "unknown law kind 'approach1'".
  local rows = {}
  for p in sweep.isoflop({ budgets = { 1e18, 1e19, 1e20 }, sizes = { 3e7, 1e8, 3e8, 1e9, 3e9 } }):each() do
    rows[#rows + 1] = { N = p.N, D = p.D, loss = fit.published.chinchilla:predict { N = p.N, D = p.D }, budget = p.budget }
  end
  local study_fit = require("scalelab.study.analysis").isoflop(rows, { bootstrap = 0 })
  t.eq(study_fit.kind, "isoflop")
  local approach1_fit = { kind = "approach1", params = study_fit.params, minima = {}, switches = {} }
  for _, f in ipairs { study_fit, approach1_fit } do
    t.raises(function() plan.optimal{ compute = 1e22, law = f } end, "plan.optimal: " .. not_a_loss_law)
    t.raises(function() plan.optimal{ compute = 1e22 }:answer(f) end, not_a_loss_law)
    t.raises(function() plan.compare{ compute = 1e22, law = f, candidates = { { name = "x", N = 1e9, D = 1e10 } } } end,
      not_a_loss_law)
  end
  -- The ways the message gives answer.
  t.near(plan.optimal{ compute = 1e22, allocation = study_fit.rule }.N, study_fit:N_opt(1e22), 1e-9)
end)

t.test("answers as records and Markdown for reports", function()
  local a = plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = datablations, gpu = "H100", gpus = 8 }
  local r = a:record()
  t.eq(r.question, a.question)
  t.eq(r.quantities[1].name, "N")
  t.eq(r.quantities[1].unit, "params")
  t.near(r.quantities[1].value, a.N, 1e-15)
  t.near(r.cost.gpu_hours, a.cost.gpu_hours, 1e-15)
  local md = a:markdown()
  t.ok(md:find("| epochs | 9.49 |", 1, true), md)
  local cmp = plan.compare{ compute = 5.76e23, law = chinchilla, candidates = { { name = "Gopher", N = 280e9, D = 300e9 } } }
  t.eq(cmp:record().rows[2].question, "Gopher")
  t.ok(cmp:markdown():find("| Gopher | 280B |", 1, true))
  -- Samples whose E lies at or above the target loss (E = 2.005 ... 2.505: 51 of them) need unbounded
  -- compute: the interval is open above. Samples below the target at any compute (A and B shrunk a
  -- millionfold: 10) have no answer: the answer, its record and its Markdown say they are left out.
  local samples = {}
  for i = 1, 100 do
    local scale = i > 90 and 1e-6 or 1
    samples[i] = { E = i <= 51 and 1.995 + 0.01 * i or 1.69, A = 406.4 * scale, B = 410.7 * scale, alpha = 0.34, beta = 0.28 }
  end
  local law = { kind = "chinchilla", E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28, samples = samples }
  local cf = plan.compute_for{ loss = 2.0, law = law }
  t.eq(cf.samples, 100)
  t.eq(cf.samples_failed, 10)
  t.eq(cf:record().samples_failed, 10)
  t.eq(cf.intervals.flops[2], math.huge)
  t.ok(cf:markdown():find("(10 without an answer, left out: the intervals are over the other 90)", 1, true), cf:markdown())
  t.ok(cf:markdown():find(" – ∞ |", 1, true), cf:markdown())
end)

-- Kaplan et al.'s overfitting bound (REFERENCE.md, their eq. 4.4): D ≳ 5e3·N^0.74. A plan from their
-- laws whose D lies below it says so, with the bound; one above it says nothing. By hand here: the
-- rule's N = 1.3e9·(C / 8.64e19)^0.73 and D = C/(6N), and for a joint law of other constants the bound
-- is the D at which L(N, D) is 2% above L(N, ∞) (eq. 4.3).
local function note_with(answer, text)
  for _, n in ipairs(answer.notes) do if n:find(text, 1, true) then return n end end
end

t.test("a Kaplan plan below the overfitting bound D ≳ 5e3·N^0.74 says so, one above it does not", function()
  local bound = function(N) return 5e3 * N ^ 0.74 end
  local head = "below Kaplan et al.'s overfitting bound D ≳ 5e3·N^0.74 (their eq. 4.4)"
  -- The compute-efficient rule at 1e22 FLOP: 41.7B parameters on 40B tokens, 0.11× the bound (361B).
  local C = 1e22
  local N = 1.3e9 * (C / 8.64e19) ^ 0.73
  local D = C / (6 * N)
  t.ok(D < 0.2 * bound(N), "by hand: the rule's D is far below the bound")
  local a = plan.optimal{ compute = C, allocation = plan.published.kaplan }
  t.near(a.N, N, 1e-9)
  local note = note_with(a, head)
  t.ok(note, tostring(a))
  t.ok(note:find(string.format("D = 40B tokens for N = 41.7B non-embedding parameters is %.2g× the bound (361B)", D / bound(N)), 1, true), note)
  t.ok(tostring(a):find("note: " .. head, 1, true), tostring(a))
  t.ok(a:markdown():find(head, 1, true), a:markdown())
  -- Compared under a law of all parameters, the row's N is the rule's models' 41.8B (its run that spends
  -- 1e22 as the law counts it: 41.5B non-embedding, Python above): the note names its 41.5B as the
  -- rule's non-embedding N (it said "N = 41.7B" below a row of 42B params).
  local cmp = plan.compare{ compute = C, law = fit.published.chinchilla,
    candidates = { K = plan.published.kaplan:with{ vocab = 50257, ctx = 1024 } } }
  t.ok(tostring(cmp):find("\n  K +41.8B ", 1), tostring(cmp))
  t.ok(tostring(cmp):find("'K': " .. head .. ": D = 39.9B tokens for N = 41.5B non-embedding parameters is", 1, true), tostring(cmp))
  -- At 1e15 FLOP the rule's D (515M tokens) is 8.5× the bound: no note.
  N = 1.3e9 * (1e15 / 8.64e19) ^ 0.73
  t.ok(1e15 / (6 * N) > 5 * bound(N), "by hand: above the bound")
  t.ok(not note_with(plan.optimal{ compute = 1e15, allocation = plan.published.kaplan }, "overfitting"))
  -- The published joint law: its compute-optimal D is always about 0.3× the bound (the stationary point
  -- puts D_c/D at α_N/α_D times (N_c/N)^(α_N/α_D), the bound (N/N_c)^(α_N/α_D)·D_c/D at 1.02^(1/α_D) − 1),
  -- at every budget: a property of the law, said once in the note on the joint law's allocation (and
  -- in the law's description), not as a note on each answer or row that would be there every time.
  -- A loss at a given N and D is below the bound or not by the user's choice: noted where it is.
  local kaplan = published("kaplan", { kind = "kaplan_ND", N_c = 6.4e13, D_c = 1.8e13, alpha_N = 0.076, alpha_D = 0.103 })
  local ratio = (1.02 ^ (1 / 0.103) - 1) / (0.076 / 0.103)
  t.near(ratio, 0.287, 0, 0.001)
  local property = string.format("Every compute-optimal run of this law, at any budget, has D at %.2f× Kaplan et al.'s "
    .. "overfitting bound", ratio)
  for _, c in ipairs { 1e15, 1e22, 1e28 } do
    local opt = plan.optimal{ compute = c, law = kaplan }
    t.ok(opt.D < bound(opt.N) and opt.D > 0.25 * bound(opt.N), "0.3× the bound")
    t.ok(not note_with(opt, head), tostring(opt))
    t.ok(note_with(opt, "Kaplan et al.'s joint L(N, D) under C = 6ND puts N_opt ∝ C^0.575"):find(property, 1, true),
      tostring(opt))
    local count = 0
    for _, n in ipairs(opt.notes) do if n:find("overfit", 1, true) then count = count + 1 end end
    t.eq(count, 1, tostring(opt))
  end
  t.ok(not note_with(plan.compute_for{ loss = 2.5, law = kaplan }, head))
  t.ok(note_with(plan.loss{ N = 1e9, D = 1e9, law = kaplan }, head))
  t.ok(not note_with(plan.loss{ N = 1e9, D = 1e12, law = kaplan }, "overfitting"))
  if fit and fit.published and fit.published.kaplan then
    t.ok(fit.published.kaplan.doc:find("has D at 0.29× the overfitting bound", 1, true), fit.published.kaplan.doc)
  end
  -- A table of the law's optima: the property once, no row by row list of the same 0.3×.
  local tab = plan.table{ params = { 1e6, 1e9 }, law = kaplan }
  t.ok(not note_with(tab, "at 1M params: D = "), tostring(tab))
  t.ok(not note_with(tab, head), tostring(tab))
  t.ok(note_with(tab, property), tostring(tab))
  -- A comparison: the law's optimum is not listed, a candidate below the bound is; one above it is not.
  local cmp = plan.compare{ compute = C, law = kaplan, candidates = { small_data = { N = 1e11 }, ample = { N = 1e9 } } }
  local listed = note_with(cmp, head)
  t.ok(listed and listed:find("at small_data: D = ", 1, true), tostring(cmp))
  t.ok(not listed:find("law's optimum", 1, true) and not listed:find("ample", 1, true), listed)
  -- The inference-aware model (not the law's optimum: smaller, on more tokens) is checked as itself.
  local inf = plan.inference{ compute = C, inference_tokens = 1e9, law = kaplan }
  t.eq(note_with(inf, head) ~= nil, inf.D < bound(inf.N), tostring(inf))
  -- A joint law of other constants: its own bound, where L(N, D) = 1.02·L(N, ∞).
  local own = { kind = "kaplan_ND", N_c = 1e12, D_c = 1e10, alpha_N = 0.1, alpha_D = 0.2 }
  local n = 1e7
  local d = own.D_c * (n / own.N_c) ^ (own.alpha_N / own.alpha_D) / (1.02 ^ (1 / own.alpha_D) - 1)
  local at_bound = plan.loss{ N = n, D = d, law = own }.loss
  t.near(at_bound / ((own.N_c / n) ^ own.alpha_N), 1.02, 1e-9)
  local below = plan.loss{ N = n, D = 0.99 * d, law = own }
  t.ok(note_with(below, "law 'kaplan_ND''s overfitting bound (Kaplan et al.'s eq. 4.3 with its constants"), tostring(below))
  t.ok(not note_with(plan.loss{ N = n, D = 1.01 * d, law = own }, "overfitting"))
  -- Its optima lie at (1.02^5 − 1)/0.5 = 0.21× its own bound, said once; a joint law whose optima
  -- are above its bound (α_N/α_D = 0.05 < 1.02^5 − 1) says nothing of overfitting.
  local own_opt = plan.optimal{ compute = 1e20, law = own }
  t.near(own_opt.D / (own.D_c * (own_opt.N / own.N_c) ^ 0.5 / (1.02 ^ 5 - 1)), (1.02 ^ 5 - 1) / 0.5, 1e-4)
  t.ok(note_with(own_opt, "has D at 0.21× its overfitting bound (Kaplan et al.'s eq. 4.3 with its constants)"), tostring(own_opt))
  t.ok(not note_with(own_opt, "below law"), tostring(own_opt))
  local rich = plan.optimal{ compute = 1e20, law = { kind = "kaplan_ND", N_c = 1e12, D_c = 1e10, alpha_N = 0.01, alpha_D = 0.2 } }
  t.ok(not tostring(rich):find("overfit", 1, true), tostring(rich))
  -- Other laws say nothing of it.
  t.ok(not note_with(plan.loss{ N = 1e9, D = 1e9, law = chinchilla }, "overfitting"))
end)

-- Muennighoff et al.'s floor of U unique tokens (REFERENCE.md's law by hand, the unrounded constants of
-- plan.published.datablations_exact): D' → U(1 + R_D*), N' → N_opt(U)(1 + R_N*).
t.test("too few unique tokens answer at their loss floor with the note, 10k as 1M do", function()
  local E, A, B = math.exp(0.6254804), math.exp(6.255414), math.exp(7.3049974)
  local alpha, R_D, R_N = 0.3526596, 15.387756, 5.309743
  local G = (alpha * A / (alpha * B)) ^ (1 / (2 * alpha))
  local function floor(U) return E + A / ((U * G) * G * (1 + R_N)) ^ alpha + B / (U * (1 + R_D)) ^ alpha end
  for _, case in ipairs { { 1e6, "1M" }, { 1e4, "10k" }, { 1e3, "1k" } } do
    local U, name = case[1], case[2]
    for _, C in ipairs { 1e20, 1e22 } do
      local a = plan.optimal{ compute = C, unique_tokens = U, law = datablations }
      t.near(a.loss, floor(U), 1e-6)
      t.ok(note_with(a, "is the floor of " .. name .. " unique tokens"), tostring(a))
      t.near(6 * a.N * a.D, C, 1e-9)
    end
  end
end)

t.test("an mfu above the 80% any run has measured is noted with its value, above 1 refused", function()
  local c = plan.cost{ flops = 1e22, mfu = 0.9 }
  t.eq(#c.notes, 1)
  t.ok(c.notes[1]:find("mfu = 0.9 (90% of peak) is above what any training run has reached", 1, true), c.notes[1])
  t.ok(tostring(c):find("\n  note: mfu = 0.9 (90% of peak)", 1, true), tostring(c))
  t.near(c.gpu_hours, 1e22 / (989e12 * 0.9) / 3600, 1e-12)   -- priced as asked
  t.eq(#plan.cost{ flops = 1e22, mfu = 0.8 }.notes, 0)
  t.eq(#plan.cost{ flops = 1e22 }.notes, 0)
  local a = plan.optimal{ compute = 1e22, law = chinchilla, gpu = "A100", mfu = 0.95 }
  t.ok(note_with(a, "mfu = 0.95 (95% of peak)"), tostring(a))
  local text = tostring(a)
  local _, count = text:gsub("mfu = 0.95", "")
  t.eq(count, 1, text)   -- said once, among the notes
  t.ok(a:markdown():find("- mfu = 0.95", 1, true), a:markdown())
  t.ok(note_with(plan.optimal{ compute = 1e22, law = chinchilla }:cost_on{ mfu = 0.85 }, "mfu = 0.85"))
  t.raises(function() plan.cost{ flops = 1e22, mfu = 1.2 } end, "mfu (model FLOP utilisation) must be in (0, 1]")
end)

t.test("budgets beyond the 1e40 FLOP planning covers are refused naming the input, not failing inside", function()
  -- Before: 'datablations law: predict needs N' (the search's bounds overflowed), an internal check of
  -- the search for plan.returns, and 'chinchilla law: predict needs a positive finite D' for plan.table.
  local beyond = "is beyond the budgets planning covers (up to 1.00e40 FLOP"
  t.raises(function() plan.optimal{ compute = 1e305, unique_tokens = 1e9, law = datablations } end,
    "plan.optimal: compute = 1.00e305 FLOP " .. beyond)
  t.raises(function() plan.optimal{ compute = 1e60, law = chinchilla } end, "plan.optimal: compute = 1.00e60 FLOP " .. beyond)
  t.raises(function() plan.inference{ compute = 1e41, inference_tokens = 1e12, law = chinchilla } end,
    "plan.inference: compute = 1.00e41 FLOP " .. beyond)
  t.raises(function() plan.compare{ compute = 1e50, law = chinchilla, candidates = { a = { N = 1e9 } } } end,
    "plan.compare: compute = 1.00e50 FLOP " .. beyond)
  t.raises(function() plan.returns{ unique_tokens = 1e9, compute = { 1e21, 1e300 }, law = datablations } end, beyond)
  t.raises(function() plan.returns{ unique_tokens = 1e300, law = datablations } end,
    "plan.returns: the default return curve for unique_tokens = 1e300")
  t.raises(function() plan.table{ params = { 1e9, 1e300 }, law = chinchilla } end,
    "plan.table: a compute-optimal run of 1e300 parameters under law 'chinchilla' needs more FLOP than a double holds")
  -- At the end of the range planning answers.
  local a = plan.optimal{ compute = 1e40, law = chinchilla }
  t.near(6 * a.N * a.D, 1e40, 1e-9)
end)

t.test("models below one parameter or token are refused and below 1000 parameters noted, in every question", function()
  -- plan.optimal already did both; plan.table answered 0.5 parameters, plan.loss 0.5 parameters on 0.1
  -- tokens, plan.compare a candidate of 0.01 parameters and an optimum of 4.79, all without a word.
  t.raises(function() plan.table{ params = { 0.5 }, law = chinchilla } end, "plan.table: every entry of params must be at least 1 (got 0.5)")
  t.raises(function() plan.table{ params = { 0.5 }, allocation = plan.published.chinchilla_approach1 } end,
    "every entry of params must be at least 1")
  t.raises(function() plan.loss{ N = 0.5, D = 1e6, law = chinchilla } end, "plan.loss: N must be at least 1 (got 0.5)")
  t.raises(function() plan.loss{ N = 1e6, D = 0.1, law = chinchilla } end, "plan.loss: D must be at least 1 (got 0.1)")
  t.raises(function() plan.compare{ compute = 1e21, law = chinchilla, candidates = { a = { N = 0.01 } } } end,
    "plan.compare: N of candidate 'a' must be at least 1")
  t.raises(function() plan.compare{ compute = 1e6, law = chinchilla, candidates = { big = { N = 1e9 } } } end,
    "plan.compare: candidate 'big' of 1B parameters would train on D = C/(6N) = 0.000167 tokens at 1.00e6 FLOP, less than one")
  t.raises(function() plan.compare{ compute = 1, law = chinchilla, candidates = { a = { N = 1, D = 1 } } } end,
    "less than one parameter")
  local small = "parameters is smaller than any language model scaling laws were measured on"
  local tab = plan.table{ params = { 500, 1e9 }, law = chinchilla }
  t.ok(note_with(tab, "N = 500 " .. small), tostring(tab))
  t.ok(note_with(plan.loss{ N = 100, D = 1e6, law = chinchilla }, "N = 100 " .. small))
  local cmp = plan.compare{ compute = 1e8, law = chinchilla, candidates = { a = { N = 200 } } }
  t.ok(note_with(cmp, "N = ") and note_with(cmp, "200"), tostring(cmp))
  t.ok(note_with(plan.inference{ loss = 100, inference_tokens = 1e3, law = chinchilla }, small))
  -- The compute for a loss whose optimum is a 201-parameter model, and a return curve on 100 unique
  -- tokens (its first rows below 1000 parameters), said nothing of it.
  local cf = plan.compute_for{ loss = 150, law = chinchilla }
  t.ok(cf.N < 1000, tostring(cf))
  t.ok(note_with(cf, small), tostring(cf))
  local ret = plan.returns{ unique_tokens = 100, law = datablations }
  t.ok(ret.rows[1].N < 1000, tostring(ret))
  t.ok(note_with(ret, "are smaller than any language model scaling laws were measured on"), tostring(ret))
  t.ok(not note_with(plan.compute_for{ loss = 2.5, law = chinchilla }, "smaller than any"))
  t.ok(not note_with(plan.returns{ unique_tokens = 25e9, law = datablations }, "smaller than any"))
  -- Models of ordinary size say nothing of it.
  t.ok(not note_with(plan.table{ params = { 1e6, 1e9 }, law = chinchilla }, "smaller than any"))
  t.ok(not note_with(plan.loss{ N = 1e6, D = 1e8, law = chinchilla }, "smaller than any"))
end)

t.test("an inference question whose budget's optimum is at the floor of its unique tokens says so", function()
  -- 1e20 FLOP on 10k unique tokens: the optimum is at the floor (53.607). The error spoke of a 'loss
  -- target 53.607' and 'more unique data', a target the user never gave.
  local m = t.raises(function()
    plan.inference{ compute = 1e20, inference_tokens = 1e12, unique_tokens = 1e4, law = datablations }
  end, "plan.inference: at 1.00e20 FLOP with 10k unique tokens the compute-optimal run is already at the floor of those "
    .. "tokens (loss 53.607")
  t.ok(m:find("give more unique tokens, a smaller compute, or a loss = target above the floor", 1, true), m)
  -- A budget well short of the floor answers as before.
  local a = plan.inference{ compute = 1e21, inference_tokens = 1e12, unique_tokens = 25e9, law = datablations }
  t.ok(a.N > 0 and a.N <= a.N_compute_optimal, tostring(a))
end)

t.test("a question declared without a law counts what it asks in words: one allocation, one model size", function()
  -- plan.compare with one candidate was "1 allocations compared at ...", the line a study's report
  -- names the question by, and its unique tokens were left out (the answer's own line says them).
  local function first_line(q) return (tostring(q):match("^[^\n]*")) end
  t.eq(first_line(plan.compare { compute = 1e21, candidates = { big = { N = 1e10, D = 1.6e10 } } }),
    "question compare: 1 allocation compared at 1.00e21 FLOP")
  t.eq(first_line(plan.compare { compute = 1e21, candidates = { a = { N = 1e9 }, b = { N = 2e9 } } }),
    "question compare: 2 allocations compared at 1.00e21 FLOP")
  t.eq(first_line(plan.compare { compute = 1e21, unique_tokens = 5e9, candidates = { a = { N = 1e9 } } }),
    "question compare: 1 allocation compared at 1.00e21 FLOP with 5B unique tokens")
  t.eq(first_line(plan.table { params = { 1e9 } }), "question table: compute-optimal FLOPs and tokens for 1 model size")
  t.eq(first_line(plan.table { params = { 1e9, 1e10 } }), "question table: compute-optimal FLOPs and tokens for 2 model sizes")
end)

t.test("a table or return curve refuses rows below one token or parameter, as plan.optimal does", function()
  -- Under Chinchilla's law a 1-parameter model's compute-optimal run sees (1/G)^(1/a) = 0.519 tokens
  -- (G = (alpha·A/(beta·B))^(1/(alpha+beta)), a = beta/(alpha+beta)): the table answered that row.
  local law = published("chinchilla", chinchilla)
  local G = (0.34 * 406.4 / (0.28 * 410.7)) ^ (1 / 0.62)
  t.near((1 / G) ^ (0.62 / 0.28), 0.519, 0.005)
  t.raises(function() plan.optimal{ compute = 6 * (1 / G) ^ (0.62 / 0.28), law = law } end, "less than one token")
  t.raises(function() plan.table{ params = { 1e9, 1 }, law = law } end, "params[2] = 1 would have 1 parameter and 0.519 tokens")
  -- The user gave model sizes, not a budget: the error says the model is too small, not "the budget".
  local message = t.raises(function() plan.table{ params = { 1 }, law = law } end,
    "less than one token; the model is far too small for any compute-optimal run")
  t.ok(not message:find("budget", 1, true), message)
  -- Two parameters see (2/G)^(1/a)/2 = 1.4 tokens: answered, with the note on tiny models.
  t.near(plan.table{ params = { 2 }, law = law }.rows[1].D, (2 / G) ^ (0.62 / 0.28) / 2, 1e-9)
  -- An allocation rule's table: N = 10·C^0.5 gives 10 parameters 1 FLOP, D = 1/60 of a token.
  t.raises(function() plan.table{ params = { 10 }, allocation = plan.allocation{ N = { k = 10, a = 0.5 } } } end,
    "params[1] = 10 would have 10 parameters and 0.0167 tokens")
  -- A return curve's rows: budgets whose data-constrained optimum has less than one parameter.
  t.raises(function() plan.returns{ unique_tokens = 25e9, compute = { 1e22, 1 }, law = datablations } end,
    "give larger budgets in compute")
end)

t.test("a return curve of few unique tokens has every row's effective FLOP", function()
  -- 100 unique tokens are seen once near 1e3 FLOP: the effective compute of the rows above, searched
  -- from 1e4 FLOP up, was '—'. The effective compute is the budget whose unlimited-data optimum
  -- reaches the row's loss: checked against the closed form of the law without repetition (R_D and
  -- R_N play no part when every token is fresh), L(C) = E + A/N^alpha + B/D^beta at N = G·(C/6)^a.
  local curve = plan.returns{ unique_tokens = 100, law = datablations }
  local p = datablations.params or datablations
  local a = p.beta / (p.alpha + p.beta)
  local G = (p.alpha * p.A / (p.beta * p.B)) ^ (1 / (p.alpha + p.beta))
  local function unlimited_loss(C)
    local N = G * (C / 6) ^ a
    return p.E + p.A / N ^ p.alpha + p.B / (C / (6 * N)) ^ p.beta
  end
  t.eq(#curve.rows, 11)
  for i, row in ipairs(curve.rows) do
    local effective = row.effective_flops
    t.ok(effective == effective and effective > 0, "row " .. i .. " has no effective FLOP:\n" .. tostring(curve))
    t.near(unlimited_loss(effective), row.loss, 1e-6)
    t.ok(effective <= row.flops * (1 + 1e-9), "row " .. i)
  end
  t.ok(curve.rows[2].effective_flops < 1e4, tostring(curve))
  t.ok(not tostring(curve):find("—", 1, true), tostring(curve))
end)

t.test("a name the published tables lack is an error naming it and the published laws, not a nil", function()
  -- plan.published.chinchilla was nil: plan.table{ law = nil } quietly returned a question without a law.
  local line = debug.getinfo(1, "l").currentline + 1
  local message = t.raises(function() return plan.table{ params = { 1e9 }, law = plan.published.chinchilla } end,
    "plan.published has no rule or law 'chinchilla': the published law chinchilla is fit.published.chinchilla. "
    .. "plan.published holds: chinchilla_approach1, datablations_exact, kaplan")
  t.ok(message:find("test_plan.lua:" .. line .. ":", 1, true), "located at the user's line " .. line .. ": " .. message)
  t.raises(function() return plan.published.chinchila_approach1 end,
    "did you mean plan.published.chinchilla_approach1?")
  t.raises(function() return plan.published.hoffmann end, "; the published laws are in fit.published: chinchilla, "
    .. "chinchilla_unrounded, datablations, epoch, kaplan, kaplan_C, kaplan_D, kaplan_N, kaplan_curve")
  t.raises(function() return fit.published.chinchila end, "fit.published has no law 'chinchila'; did you mean "
    .. "fit.published.chinchilla? fit.published holds: chinchilla, chinchilla_unrounded, datablations, epoch, kaplan, "
    .. "kaplan_C, kaplan_D, kaplan_N, kaplan_curve")
  t.raises(function() return fit.published.chinchilla_approach1 end,
    "fit.published has no law 'chinchilla_approach1': plan.published.chinchilla_approach1 is the published rule")
  -- What is there reads as before; pairs, rawget, numeric keys (ipairs) and Tab completion too.
  t.eq(fit.published.chinchilla.params.alpha, 0.34)
  t.eq(rawget(fit.published, "chinchila"), nil)
  t.eq(fit.published[1], nil)
  for _ in ipairs(plan.published) do t.ok(false, "plan.published has no list part") end
  local names = {}
  for name in pairs(plan.published) do names[#names + 1] = name end
  table.sort(names)
  t.eq(table.concat(names, " "), "chinchilla_approach1 datablations_exact kaplan")
  local repl = require "scalelab.repl"
  t.eq(table.concat(repl.complete("fit.published.kaplan_"), " "),
    "fit.published.kaplan_C fit.published.kaplan_D fit.published.kaplan_N fit.published.kaplan_curve")
  t.eq(#repl.complete("plan.published.chinchilla."), 0)
end)

-- help(plan.published) said "Muennighoff et al. with the README's unrounded constants": in scalelab's
-- help, "the README" reads as scalelab's own (which has no such constants). The constants are those of
-- the README of the authors' datablations repository: each help text that names it says whose.
t.test("help texts naming the datablations README say it is the authors' repository's, not scalelab's", function()
  local texts = {
    ["plan.published"] = t.help_text(plan.published),
    ["plan.published.datablations_exact"] = t.help_text(plan.published.datablations_exact),
    ["fit.published.datablations"] = t.help_text(fit.published.datablations),
  }
  for name, text in pairs(texts) do
    t.ok(text:find("github.com/huggingface/datablations", 1, true), name .. ": " .. text)
    t.ok(not text:find("the README's", 1, true), name .. ": " .. text)
  end
  t.ok(texts["plan.published"]:find("not scalelab's README", 1, true), texts["plan.published"])
end)

t.test("budgets under 10 FLOP print as 3.11 and 0.306 FLOP, not 3.11e0 and 3.06e-1", function()
  -- One parameter's compute-optimal run under Chinchilla's law: D = (1/G)^(1/a) = 0.519 tokens from
  -- the closed form N_opt = G·(C/6)^a, so C = 6·1·0.519 = 3.11 FLOP.
  local law = published("chinchilla", chinchilla)
  local G = (0.34 * 406.4 / (0.28 * 410.7)) ^ (1 / 0.62)
  local C = 6 * (1 / G) ^ (0.62 / 0.28)
  t.eq(string.format("%.3g", C), "3.11")
  t.raises(function() plan.table{ params = { 1 }, law = law } end, "at 3.11 FLOP the compute-optimal run")
  t.ok(tostring(plan.cost{ flops = C, gpu = "H100" }):find("^3.11 FLOP = "), tostring(plan.cost{ flops = C, gpu = "H100" }))
  t.ok(tostring(plan.cost{ flops = 0.306, gpu = "H100" }):find("^0.306 FLOP = "), tostring(plan.cost{ flops = 0.306, gpu = "H100" }))
end)

t.test("a table or return curve question gives its lists in question.inputs", function()
  -- A table question's inputs were {}: its model sizes were not among the numbers it was asked with.
  local q = plan.table{ params = { 400e6, 1e9, 10e9 } }
  t.eq(q.kind, "table")
  t.eq(#q.inputs.params, 3)
  t.eq(q.inputs.params[1], 400e6)
  t.eq(q.inputs.params[3], 10e9)
  local r = plan.returns{ unique_tokens = 25e9, compute = { 1e21, 1e22 } }
  t.eq(r.inputs.unique_tokens, 25e9)
  t.eq(#r.inputs.compute, 2)
  t.eq(r.inputs.compute[2], 1e22)
  -- Without compute = the budgets are the law's to choose: none are inputs.
  t.eq(plan.returns{ unique_tokens = 25e9 }.inputs.compute, nil)
  t.eq(plan.optimal{ compute = 1e21 }.inputs.params, nil)
end)

-- Budgets counted with attention (REFERENCE.md: Kaplan's 6N + 6·L·T·d per token, PaLM's and DeepSeek's
-- 6N + 12·L·T·d). The expected numbers come from an independent computation: the stationarity
-- condition of L(N, C/M(N)) under E + A/N^a + B/D^b, αA·N^-α = βB·D^-β·N·M'(N)/M(N) with
-- M(N) = 6N + f·(T/aspect)·(aspect·N/12)^(2/3), solved by bisection in Python (no grid, no Brent):
--   C=1e22 T=2048 aspect=64 f=6:  N=5.182124e9 D=3.044339e11 loss=2.14243072 L=47.2413 d=3023.446
--   C=1e22 T=2048 aspect=64 f=12: N=5.197612e9 D=2.881604e11 loss=2.14610268
--   C=1e20 T=8192 aspect=128 f=6: N=6.514392e8 D=1.884328e10 loss=2.64458959
--   C=1e21 T=1024 aspect=64 f=12: N=1.834383e9 D=8.414274e10 loss=2.33650865
t.test("plan.optimal plans a budget counted with attention (Kaplan's, PaLM's and DeepSeek's counts)", function()
  local cases = {
    { 1e22, { "kaplan", ctx = 2048 }, 5.182124e9, 3.044339e11, 2.14243072 },
    { 1e22, { "palm", ctx = 2048 }, 5.197612e9, 2.881604e11, 2.14610268 },
    { 1e20, { convention = "kaplan", ctx = 8192, aspect = 128 }, 6.514392e8, 1.884328e10, 2.64458959 },
    { 1e21, { "deepseek", ctx = 1024 }, 1.834383e9, 8.414274e10, 2.33650865 },
  }
  for _, c in ipairs(cases) do
    local a = plan.optimal{ compute = c[1], law = chinchilla, flops = c[2] }
    t.near(a.N, c[3], 1e-5)
    t.near(a.D, c[4], 1e-5)
    t.near(a.loss, c[5], 1e-8)
    t.eq(a.flops, c[1])
    -- The budget is spent as counted: D·M(N) = C, and 6·N·D is the smaller part of it.
    t.near(a.D * a.flops_per_token, c[1], 1e-12)
    t.near(a.flops_6ND, 6 * a.N * a.D, 1e-12)
    t.ok(a.flops_6ND < c[1])
    t.eq(a.method, "numeric")
  end
  -- The attention term is the model module's: at a shape of d/L = 64 (L = 12, d = 768, T = 1024),
  -- model.flops_per_token - 6N is 6·L·T·d, and the answer's FLOP per token at its own shape is
  -- 6N + 6·L·T·d with its L and d.
  local a = plan.optimal{ compute = 1e22, law = chinchilla, flops = { "kaplan", ctx = 2048 } }
  t.near(a.n_layer, 47.2413, 1e-5)
  t.near(a.d_model, 3023.446, 1e-5)
  t.near(a.d_model / a.n_layer, 64, 1e-12)
  t.near(12 * a.n_layer * a.d_model ^ 2, a.N, 1e-12)
  t.near(a.flops_per_token, 6 * a.N + 6 * a.n_layer * 2048 * a.d_model, 1e-12)
  if model and model.gpt then
    local m = model.gpt{ vocab = 256, ctx = 1024, d_model = 768, n_layer = 12, n_head = 12 }
    t.near(m.flops_per_token - 6 * m.non_embedding_params, 6 * 12 * 1024 * 768, 1e-12)
    t.near(m.flops_per_token_palm - 6 * m.non_embedding_params, 12 * 12 * 1024 * 768, 1e-12)
  end
  -- The answer says how its budget is counted, and the default says so too.
  t.eq(a.convention, "C = (6N + 6·L·T·d)·D (Kaplan's count with attention; T = 2048, shapes at d/L = 64)")
  t.ok(a.question:find("at 1.00e22 FLOP, counted as C = (6N + 6·L·T·d)·D", 1, true), a.question)
  t.ok(tostring(a):find("counted as C = (6N + 6·L·T·d)·D", 1, true), tostring(a))
  t.ok(not tostring(a):find("· C = (6N", 1, true), "said once: " .. tostring(a))
  t.ok(tostring(a):find("6·N·D is 94.7% of 1.00e22 FLOP", 1, true), tostring(a))
  t.ok(a:markdown():find("C = (6N + 6·L·T·d)·D", 1, true), a:markdown())
  t.eq(a:record().convention, a.convention)
  local plain = plan.optimal{ compute = 1e22, law = chinchilla }
  t.eq(plain.convention, "C = 6·N·D")
  t.ok(tostring(plain):find("· closed form · C = 6·N·D", 1, true), tostring(plain))
  t.eq(plain.question, "compute-optimal allocation at 1.00e22 FLOP")
  t.eq(plan.optimal{ compute = 1e22, law = chinchilla, flops = "6ND" }.N, plain.N)
  t.eq(plan.loss{ N = 1e9, D = 2e10, law = chinchilla }.convention, "")
  -- Every answer about a training budget says its count: the inference-aware allocation's too.
  for _, answer in ipairs { plan.inference{ compute = 1e22, inference_tokens = 1e12, law = chinchilla },
                            plan.compute_for{ loss = 2.3, law = chinchilla },
                            plan.compare{ compute = 1e22, law = chinchilla, candidates = { a = { N = 1e9 } } },
                            plan.table{ params = { 1e9 }, law = chinchilla },
                            plan.returns{ unique_tokens = 25e9, law = datablations, compute = { 1e22 } } } do
    t.eq(answer.convention, "C = 6·N·D", answer.question)
  end
  -- With every token unique the optimum moves little in N and loses tokens to attention.
  t.near(plain.N, 5.160474e9, 1e-6)   -- G·(C/6)^a, the closed form
  t.ok(a.D < plain.D)
  -- A question declared without a law carries its count, and says it.
  local q = plan.optimal{ compute = 1e21, flops = { "palm", ctx = 1024 } }
  t.eq(q.convention, "C = (6N + 12·L·T·d)·D (PaLM's and DeepSeek's count with attention; T = 1024, shapes at d/L = 64)")
  t.eq(q.inputs.ctx, 1024)
  t.eq(q.inputs.aspect, 64)
  t.ok(tostring(q):find("counted as C = (6N + 12·L·T·d)·D", 1, true), tostring(q))
  t.near(q:answer(chinchilla).N, 1.834383e9, 1e-5)
  t.eq(plan.optimal{ compute = 1e21 }.inputs.ctx, nil)
  -- Data-constrained, the same budget is spent as counted.
  local d = plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = datablations, flops = { "kaplan", ctx = 2048 } }
  t.near(d.D * d.flops_per_token, 1e22, 1e-12)
  t.near(d.epochs, d.D / 25e9, 1e-12)
  -- and it is the optimum in that count: 1% more or fewer parameters, on the tokens the budget then
  -- buys (M(N) by hand), lose more (plan.loss of those runs).
  local function M(n) return 6 * n + 6 * 2048 * (64 * n / 12) ^ (2 / 3) / 64 end
  t.near(M(d.N), d.flops_per_token, 1e-12)
  for _, f in ipairs { 1.01, 1 / 1.01 } do
    local n = d.N * f
    local other = plan.loss{ N = n, D = 1e22 / M(n), unique_tokens = 25e9, law = datablations }
    t.ok(other.loss > d.loss, string.format("N × %.3f: %.8f, not above %.8f", f, other.loss, d.loss))
  end
end)

-- The inverse, in the same count: the least compute counted with attention whose optimum reaches a loss.
-- Expected values from the same independent Python solution, bisected in ln C over the optimum's loss:
--   loss 2.3, T = 2048, f = 6:  C = 1.454204e21, N = 2.171845e9, D = 1.037680e11
--   loss 2.3, T = 2048, f = 12: C = 1.555670e21, N = 2.246275e9, D = 1.004426e11
--   loss 2.0, T = 4096, f = 6:  C = 1.196839e23, N = 1.591867e10, D = 1.162773e12
t.test("plan.compute_for answers in a count with attention, the inverse of plan.optimal in it", function()
  for _, c in ipairs {
    { 2.3, { "kaplan", ctx = 2048 }, 1.454204e21, 2.171845e9, 1.037680e11 },
    { 2.3, { "palm", ctx = 2048 }, 1.555670e21, 2.246275e9, 1.004426e11 },
    { 2.0, { "kaplan", ctx = 4096 }, 1.196839e23, 1.591867e10, 1.162773e12 },
  } do
    local a = plan.compute_for{ loss = c[1], law = chinchilla, flops = c[2] }
    t.near(a.flops, c[3], 1e-5)
    t.near(a.N, c[4], 1e-5)
    t.near(a.D, c[5], 1e-5)
    t.near(a.D * a.flops_per_token, a.flops, 1e-12)
    t.near(plan.optimal{ compute = a.flops, law = chinchilla, flops = c[2] }.loss, c[1], 1e-7)
  end
  local a = plan.compute_for{ loss = 2.3, law = chinchilla, flops = { "kaplan", ctx = 2048 } }
  t.eq(a.question, "compute to reach loss 2.3000, counted as C = (6N + 6·L·T·d)·D (Kaplan's count with attention; T = 2048, "
    .. "shapes at d/L = 64)")
  t.eq(a.convention, "C = (6N + 6·L·T·d)·D (Kaplan's count with attention; T = 2048, shapes at d/L = 64)")
  -- More compute than 6·N·D counts for the same loss.
  t.ok(a.flops > plan.compute_for{ loss = 2.3, law = chinchilla }.flops)
  t.eq(plan.compute_for{ loss = 2.3, law = chinchilla }.convention, "C = 6·N·D")
  local q = plan.compute_for{ loss = 2.3, flops = { "palm", ctx = 2048 } }
  t.eq(q.inputs.ctx, 2048)
  t.ok(q.convention:find("12·L·T·d", 1, true), q.convention)
  t.near(q:answer(chinchilla).flops, 1.555670e21, 1e-5)
  t.raises(function() plan.compute_for{ loss = 2.3, law = chinchilla, flops = "palm" } end,
    'plan.compute_for: flops = "palm" counts attention over the context: give its length')
end)

t.test("an answer from Kaplan's rule says its N is non-embedding, with or without a law", function()
  -- Without a law it printed '41.7B params' and nothing said they leave out the embeddings.
  local alone = plan.optimal{ compute = 1e22, allocation = plan.published.kaplan }
  t.eq(alone.convention, "C = 6·N·D, N non-embedding parameters (Kaplan et al.'s count: the model is larger by its embeddings)")
  t.ok(tostring(alone):find("N non-embedding parameters", 1, true), tostring(alone))
  t.ok(plan.table{ params = { 1e9 }, allocation = plan.published.kaplan }.convention:find("N non-embedding", 1, true))
  -- A rule of all parameters says 6·N·D alone.
  t.eq(plan.optimal{ compute = 1e22, allocation = plan.published.chinchilla_approach1 }.convention, "C = 6·N·D")
end)

-- Allocations compared in a count with attention. Expected values from the independent Python
-- solution (each candidate's loss written out, the optimum's compute for it bisected in that count):
--   N = 1e9, D = C/M(N):   D = 1.518351e12, loss 2.20345219, optimum needs 4.417717e21, efficiency 0.441772
--   N = 2e10, D = 1e11:    spends 1.243184e22, loss 2.15942676, optimum needs 7.880414e21, efficiency 0.633890
t.test("plan.compare compares allocations in a count with attention", function()
  local a = plan.compare{ compute = 1e22, law = chinchilla, flops = { "kaplan", ctx = 2048 },
                          candidates = { { name = "small", N = 1e9 }, { name = "given", N = 2e10, D = 1e11 } } }
  local optimum, small, given = a.rows[1], a.rows[2], a.rows[3]
  -- The optimum is plan.optimal's in the same count.
  t.near(optimum.N, 5.182124e9, 1e-5)
  t.near(optimum.efficiency, 1, 1e-12)
  t.near(small.D, 1.518351e12, 1e-6)
  t.near(small.flops, 1e22, 1e-12)
  t.near(small.loss, 2.20345219, 1e-8)
  t.near(small.compute_equivalent, 4.417717e21, 1e-5)
  t.near(small.efficiency, 0.441772, 1e-5)
  t.near(given.flops, 1.243184e22, 1e-6)
  t.near(given.loss, 2.15942676, 1e-8)
  t.near(given.compute_equivalent, 7.880414e21, 1e-5)
  t.near(given.efficiency, 0.633890, 1e-5)
  t.near(given.flops_6ND, 6 * 2e10 * 1e11, 1e-12)
  t.ok(a.question:find("allocations compared at 1.00e22 FLOP, counted as C = (6N + 6·L·T·d)·D", 1, true), a.question)
  t.ok(a.convention:find("6·L·T·d", 1, true), a.convention)
  local said
  for _, n in ipairs(a.notes) do
    if n:find("'given' uses 1.24e22 FLOP (D·M(N), counted as the budget is), not the budget 1.00e22 FLOP", 1, true) then said = true end
  end
  t.ok(said, table.concat(a.notes, "\n"))
  -- A rule among the candidates is refused in that count, naming it.
  t.raises(function()
    plan.compare{ compute = 1e22, law = chinchilla, flops = { "kaplan", ctx = 2048 },
                  candidates = { approach1 = plan.published.chinchilla_approach1 } }
  end, "plan.compare: candidate 'approach1' is the allocation rule 'chinchilla_approach1', which gives N_opt(C) for budgets counted as 6·N·D")
  local q = plan.compare{ compute = 1e22, flops = { "kaplan", ctx = 2048 }, candidates = { { name = "small", N = 1e9 } } }
  t.eq(q.inputs.ctx, 2048)
  t.ok(tostring(q):find("small (1B params, D = C/M(N))", 1, true), tostring(q))
  t.near(q:answer(chinchilla).rows[2].efficiency, 0.441772, 1e-5)
end)

-- A table of model sizes in a count with attention: each row the budget whose optimum in that count
-- has N parameters. Expected values from the stationarity condition solved for D at each N (no
-- search: αA·N^-α = βB·D^-β·N·M'(N)/M(N), C = D·M(N)), in Python:
--   f=6  T=2048: N=1e9  C=2.604192e20 D=3.954077e10 loss=2.48690692; N=1e10 C=4.293945e22 D=6.846168e11 loss=2.05113302
--   f=12 T=4096: N=1e9  C=2.585998e20 D=3.099091e10 loss=2.51817874; N=1e10 C=4.237360e22 D=5.978079e11 loss=2.05884657
t.test("plan.table gives each model size's budget in a count with attention", function()
  for _, c in ipairs {
    { { "kaplan", ctx = 2048 }, { { 1e9, 2.604192e20, 3.954077e10, 2.48690692 }, { 1e10, 4.293945e22, 6.846168e11, 2.05113302 } } },
    { { "palm", ctx = 4096 }, { { 1e9, 2.585998e20, 3.099091e10, 2.51817874 }, { 1e10, 4.237360e22, 5.978079e11, 2.05884657 } } },
  } do
    local tab = plan.table{ params = { 1e9, 1e10 }, law = chinchilla, flops = c[1] }
    for i, want in ipairs(c[2]) do
      local row = tab.rows[i]
      t.eq(row.N, want[1])
      t.near(row.flops, want[2], 1e-6)
      t.near(row.D, want[3], 1e-6)
      t.near(row.loss, want[4], 1e-8)
      t.near(row.D * row.flops_per_token, row.flops, 1e-12)
      t.near(row.flops_6ND, 6 * row.N * row.D, 1e-12)
      -- and it is plan.optimal's optimum at that budget, in that count
      t.near(plan.optimal{ compute = row.flops, law = chinchilla, flops = c[1] }.N, row.N, 1e-5)
    end
    t.eq(tab.method, "numeric")
    t.eq(tab.convention, plan.optimal{ compute = 1e22, flops = c[1] }.convention)
    t.ok(tab.question:find("per model size, counted as C = (6N + ", 1, true), tab.question)
  end
  -- In 6·N·D the table is as before (the closed form).
  local plain = plan.table{ params = { 1e9 }, law = chinchilla }
  t.eq(plain.method, "closed form")
  t.eq(plain.convention, "C = 6·N·D")
  -- A question declared without a law carries its count.
  local q = plan.table{ params = { 1e9 }, flops = { "kaplan", ctx = 2048 } }
  t.eq(q.inputs.ctx, 2048)
  t.ok(q.convention:find("6·L·T·d", 1, true), q.convention)
  t.ok(tostring(q):find("for 1 model size, counted as C = (6N + 6·L·T·d)·D", 1, true), tostring(q))
  t.near(q:answer(chinchilla).rows[1].flops, 2.604192e20, 1e-6)
  -- An allocation rule's budgets are 6·N·D: refused in another count, as plan.optimal refuses it.
  t.raises(function()
    plan.table{ params = { 1e9 }, allocation = plan.published.chinchilla_approach1, flops = { "kaplan", ctx = 2048 } }
  end, "plan.table: the allocation rule 'chinchilla_approach1' gives N_opt(C) for budgets counted as 6·N·D, as its runs "
    .. "were; a budget counted as C = (6N + 6·L·T·d)·D")
  t.raises(function() plan.table{ params = { 1e9 }, law = chinchilla, flops = { "palm" } } end,
    'plan.table: flops = "palm" counts attention over the context')
end)

-- The inference-aware allocation in a count with attention: training M(N)·D, inference M(N)/3 per token
-- (the forward pass). Expected values from Python: D(N) from the target in closed form, the total
-- minimised by golden section over ln N; the compute-optimal run by bisection on C over the optimum's
-- loss (it is compute_for's, above):
--   loss 2.3, 1e12 inference tokens: N=8.744533e8 D=3.553407e11 train=2.054818e21 inf=1.927557e21 total=3.982375e21
--                                    saving=0.349873 over N=2.171846e9 D=1.037680e11 total=6.125537e21
--   loss 2.3, 1e13 inference tokens: N=5.067872e8 D=1.373832e12 total=1.606684e22 saving=0.666438
t.test("plan.inference weighs training and inference in a count with attention", function()
  for _, c in ipairs {
    { 1e12, 8.744533e8, 3.553407e11, 2.054818e21, 1.927557e21, 3.982375e21, 0.349873 },
    { 1e13, 5.067872e8, 1.373832e12, 4.689262e21, 1.137758e22, 1.606684e22, 0.666438 },
  } do
    local a = plan.inference{ loss = 2.3, inference_tokens = c[1], law = chinchilla, flops = { "kaplan", ctx = 2048 } }
    t.near(a.N, c[2], 1e-5)
    t.near(a.D, c[3], 1e-5)
    t.near(a.flops, c[4], 1e-5)
    t.near(a.inference_flops, c[5], 1e-5)
    t.near(a.total_flops, c[6], 1e-6)
    t.near(a.saving, c[7], 1e-5)
    t.near(a.N_compute_optimal, 2.171846e9, 1e-5)
    t.near(a.D_compute_optimal, 1.037680e11, 1e-5)
    t.near(a.inference_flops, a.flops_per_token / 3 * c[1], 1e-12)
    t.near(a.flops, a.flops_per_token * a.D, 1e-12)
    t.ok(a.convention:find("6·L·T·d", 1, true), a.convention)
    t.ok(a.question:find(", counted as C = (6N + 6·L·T·d)·D", 1, true), a.question)
  end
  -- A target from a budget is the optimum's loss in the same count.
  local b = plan.inference{ compute = 1.454204e21, inference_tokens = 1e12, law = chinchilla, flops = { "kaplan", ctx = 2048 } }
  t.near(b.loss, 2.3, 1e-6)
  t.near(b.N, 8.744533e8, 1e-4)
  local q = plan.inference{ loss = 2.3, inference_tokens = 1e12, flops = { "palm", ctx = 1024 } }
  t.eq(q.inputs.ctx, 1024)
  t.ok(tostring(q):find("inference tokens, target loss 2.3000, counted as C = (6N + 12·L·T·d)·D", 1, true), tostring(q))
end)

-- The return on repeated data in a count with attention: budgets, optima and effective compute all
-- in it. Expected values from Python (Muennighoff et al.'s law with datablations_exact's constants,
-- optima by golden section over ln N, effective compute and the one-epoch budget by bisection):
--   one epoch 2.162960e20
--   C=1e22: N=6.960772e9 D=2.277836e11 loss=2.22415996 unlimited=2.19058283 effective=5.717386e21
--   C=4e22: N=1.247471e10 D=5.128154e11 loss=2.18022551 unlimited=2.12046182 effective=1.202474e22
t.test("plan.returns counts its budgets and their returns with attention", function()
  local curve = plan.returns{ unique_tokens = 25e9, law = datablations, compute = { 1e22, 4e22 },
                              flops = { "kaplan", ctx = 2048 } }
  for i, want in ipairs {
    { 1e22, 6.960772e9, 2.277836e11, 2.22415996, 2.19058283, 5.717386e21 },
    { 4e22, 1.247471e10, 5.128154e11, 2.18022551, 2.12046182, 1.202474e22 },
  } do
    local row = curve.rows[i]
    t.eq(row.flops, want[1])
    t.near(row.N, want[2], 1e-4)
    t.near(row.D, want[3], 1e-4)
    t.near(row.epochs, row.D / 25e9, 1e-12)
    t.near(row.loss, want[4], 1e-7)
    t.near(row.loss_unlimited, want[5], 1e-7)
    t.near(row.effective_flops, want[6], 1e-5)
    t.near(row["return"], want[6] / want[1], 1e-5)
    t.near(row.D * row.flops_per_token, row.flops, 1e-12)
  end
  t.near(curve.one_epoch_flops, 2.162960e20, 1e-5)
  t.ok(curve.convention:find("6·L·T·d", 1, true), curve.convention)
  t.ok(curve.question:find("unique tokens, counted as C = (6N + 6·L·T·d)·D", 1, true), curve.question)
  -- The default budgets start at that one epoch, in the count.
  local default = plan.returns{ unique_tokens = 25e9, law = datablations, flops = { "kaplan", ctx = 2048 } }
  t.near(default.rows[1].flops, 2.162960e20, 1e-5)
  t.near(default.rows[1].D, 25e9, 1e-5)
  local q = plan.returns{ unique_tokens = 25e9, flops = { "kaplan", ctx = 2048 } }
  t.eq(q.inputs.ctx, 2048)
end)

t.test("a budget counted with attention is refused where it would be mixed with 6·N·D, and bad flops = named", function()
  -- An allocation rule's N_opt(C) is fitted on budgets of 6·N·D: read at a budget counted with
  -- attention it would answer for a larger budget.
  t.raises(function()
    plan.optimal{ compute = 1e22, allocation = plan.published.chinchilla_approach1, flops = { "kaplan", ctx = 2048 } }
  end, "plan.optimal: the allocation rule 'chinchilla_approach1' gives N_opt(C) for budgets counted as 6·N·D, as its "
    .. "runs were; a budget counted as C = (6N + 6·L·T·d)·D")
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, flops = { "kaplan", ctx = 2048 }, method = "closed_form" } end,
    "plan.optimal: method = \"closed_form\" is the allocation under C = 6·N·D; a budget counted as C = (6N + 6·L·T·d)·D")
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, flops = "kaplan" } end,
    'plan.optimal: flops = "kaplan" counts attention over the context: give its length, flops = { "kaplan", ctx = 2048 }')
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, flops = { "kaplan" } } end,
    'plan.optimal: flops = "kaplan" counts attention over the context: give its length, flops = { "kaplan", ctx = 2048 }')
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, flops = "6N+attention" } end,
    'plan.optimal: flops = "6N+attention" is no FLOP convention; give "6ND"')
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, flops = { "palm", ctx = 0 } } end,
    "plan.optimal: flops.ctx must be a context length of at least 1 token (got 0)")
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, flops = { "palm", ctx = 2048, aspect = -1 } } end,
    "plan.optimal: flops.aspect must be a positive d_model / n_layer ratio (got -1)")
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, flops = { "palm", ctx = 2048, layers = 3 } } end,
    "layers")
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, flops = { ctx = 2048 } } end,
    'plan.optimal: flops = { ... } needs its convention')
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, flops = { "6ND", ctx = 2048 } } end,
    'plan.optimal: flops = "6ND" (C = 6·N·D) counts no attention')
  t.raises(function() plan.optimal{ compute = 1e22, law = chinchilla, flops = 6 } end, "flops")
end)

t.test("a comparison question gives its candidates in question.inputs, in the order of its rows", function()
  -- A compare question's inputs held its budget alone: not the allocations it compared.
  local q = plan.compare{ compute = 5.76e23, candidates = { { name = "Gopher", N = 280e9, D = 300e9 },
    Chinchilla = { N = 70e9 }, approach1 = plan.published.chinchilla_approach1 } }
  t.eq(q.kind, "compare")
  t.eq(q.inputs.compute, 5.76e23)
  local c = q.inputs.candidates
  t.eq(#c, 3)
  t.eq(c[1].name, "Gopher")
  t.eq(c[1].N, 280e9)
  t.eq(c[1].D, 300e9)
  t.eq(c[2].name, "Chinchilla")   -- named entries after the list's, in name order
  t.eq(c[2].N, 70e9)
  t.eq(c[2].D, nil)               -- D = C/(6N) at the budget: not an input
  t.eq(c[3].name, "approach1")
  t.eq(c[3].allocation.name, "chinchilla_approach1")
  t.eq(c[3].N, nil)
  -- The same order as the answer's rows (after the law's optimum).
  local a = q:answer(chinchilla)
  t.eq(a.rows[2].question, "Gopher")
  t.eq(a.rows[3].question, "Chinchilla")
  t.eq(a.rows[4].question, "approach1")
  t.eq(plan.optimal{ compute = 1e21 }.inputs.candidates, nil)
  -- The printed question names them too, on the line after its first.
  t.ok(tostring(q):find("\n  candidates: Gopher (280B params on 300B tokens); Chinchilla (70B params, D = C/(6N)); "
    .. "approach1 (allocation rule chinchilla_approach1)\n", 1, true), tostring(q))
end)

t.test("rows of a table or return curve are recorded with their question and law, as answer.rows gives them", function()
  -- answer:record()'s rows had question = "" and law = "" where no row name was given (a table of
  -- model sizes, a return curve): answer.rows[i] said "row i of <the question>" and the law.
  local tab = plan.table{ params = { 400e6, 1e9 }, law = chinchilla }
  local record = tab:record()
  t.eq(#record.rows, 2)
  for i, row in ipairs(record.rows) do
    t.eq(row.question, "row " .. i .. " of compute-optimal FLOPs and tokens per model size")
    t.eq(row.question, tab.rows[i].question)
    t.eq(row.law, tab.law)
  end
  local curve = plan.returns{ unique_tokens = 25e9, compute = { 1e21, 1e22 }, law = datablations }
  t.eq(curve:record().rows[2].question, "row 2 of return on compute spent repeating 25B unique tokens")
  t.eq(curve:record().rows[2].law, "datablations_exact")
  -- Named rows keep their names.
  local cmp = plan.compare{ compute = 5.76e23, law = chinchilla, candidates = { { name = "Gopher", N = 280e9, D = 300e9 } } }
  t.eq(cmp:record().rows[1].question, "law's optimum")
  t.eq(cmp:record().rows[2].question, "Gopher")
end)

t.test("a law given by its name says how to give the law itself", function()
  -- law = "chinchilla" was 'law must be a Law (fit.published.chinchilla, a fitted law) or a table ... (got
  -- string)', the same for a name of a published law, a misspelt one and a rule's.
  t.raises(function() return plan.optimal{ compute = 1e21, law = "chinchilla" } end,
    'plan.optimal: law = "chinchilla" is a name, not a law: give the law itself, law = fit.published.chinchilla')
  t.raises(function() return plan.optimal{ compute = 1e21, law = "epoch" } end, "law = fit.published.epoch")
  t.raises(function() return plan.optimal{ compute = 1e21, law = "kaplan" } end,
    "law = fit.published.kaplan (Kaplan et al.'s joint L(N, D)); for their compute-efficient N ∝ C^0.73, allocation = plan.published.kaplan")
  t.raises(function() return plan.optimal{ compute = 1e21, unique_tokens = 1e9, law = "datablations_exact" } end,
    "law = plan.published.datablations_exact")
  t.raises(function() return plan.table{ params = { 1e9 }, law = "chinchilla_approach1" } end,
    'plan.table: law = "chinchilla_approach1" names an allocation rule, not a law: give allocation = plan.published.chinchilla_approach1')
  t.raises(function() return plan.optimal{ compute = 1e21, law = "data_constrained" } end,
    'is a kind of law, not a law: give its parameters, law = { kind = "data_constrained", ... }, or a published law of that kind, law = fit.published.datablations')
  t.raises(function() return plan.optimal{ compute = 1e21, law = "chinchila" } end,
    "is a name, not a law; did you mean fit.published.chinchilla? Give the law itself")
  t.raises(function() return plan.optimal{ compute = 1e21, law = "datablations_exac" } end,
    "did you mean plan.published.datablations_exact?")
  t.raises(function() return plan.optimal{ compute = 1e21, law = "hoffmann" } end,
    'law = "hoffmann" is a name, not a law. Give the law itself: a published one (fit.published.NAME with NAME one of '
    .. "chinchilla, chinchilla_unrounded, datablations, epoch, kaplan, kaplan_C, kaplan_D, kaplan_N, kaplan_curve; "
    .. "plan.published.datablations_exact), a fitted law, or a table")
  t.raises(function() return plan.optimal{ compute = 1e21 }:answer("epoch") end,
    'question:answer: law = "epoch" is a name, not a law: give the law itself, law = fit.published.epoch')
end)

t.test("an mfu given as a percentage says so and gives the fraction", function()
  -- mfu = 40 (meaning 40%) was 'mfu (model FLOP utilisation) must be in (0, 1], e.g. 0.4 (got 40)'.
  t.raises(function() return plan.cost{ flops = 1e22, mfu = 40 } end,
    "plan.cost: mfu = 40 is a percentage; mfu (model FLOP utilisation) is a fraction of peak in (0, 1]: for 40% give mfu = 0.4")
  t.raises(function() return plan.optimal{ compute = 1e21, law = chinchilla, mfu = 55 } end, "for 55% give mfu = 0.55")
  -- Just above 1 is an overshoot, not 1.2%: the range error as before; above 100 no percentage either.
  t.raises(function() return plan.cost{ flops = 1e22, mfu = 1.2 } end, "mfu (model FLOP utilisation) must be in (0, 1]")
  t.raises(function() return plan.cost{ flops = 1e22, mfu = 400 } end, "mfu (model FLOP utilisation) must be in (0, 1]")
end)

-- A question echoed its inputs otherwise than its answer printed them: epochs to four digits ("at
-- 12.35 epochs" over an epochs row of 12.3), a loss target to five ("compute to reach loss 12.123" over
-- a loss of 12.1235, "2.5" over 2.5000); and the question's own summary said it apart from the answer's
-- first line, leaving out inputs the answer named (plan.loss's and compute_for's unique tokens,
-- plan.inference's target). Each input now prints as the answer's quantity of that name, in the
-- question and in its answer alike.
t.test("a question echoes each input as its answer prints that quantity, and as its summary does", function()
  local chin = published("chinchilla", chinchilla)
  local function row(a, label)  -- the answer's printed row `label`
    return tostring(a):match("\n  " .. label:gsub("%p", "%%%0") .. " +([^\n]+)")
  end
  local function first_line(q) return (tostring(q):match("^question [%w_]+: ([^\n]*)")) end
  local a = plan.optimal{ compute = 1e22, epochs = 12.345, law = datablations }
  t.eq(row(a, "epochs"), "12.3")
  t.eq(a.question, "compute-optimal allocation at 1.00e22 FLOP at 12.3 epochs")
  t.eq(row(a, "FLOP"), "1.00e22")
  t.eq(plan.optimal{ compute = 1e22, epochs = 1, law = datablations }.question,
    "compute-optimal allocation at 1.00e22 FLOP at 1 epoch")
  -- A loss target as the answer's loss row prints it: four decimals.
  local c = plan.compute_for{ loss = 2.5, law = chin }
  t.eq(c.question, "compute to reach loss 2.5000")
  t.eq(row(c, "loss"), "2.5000")
  t.eq(plan.compute_for{ loss = 12.123456, law = chin }.question, "compute to reach loss 12.1235")
  t.eq(row(plan.compute_for{ loss = 12.123456, law = chin }, "loss"), "12.1235")
  local i = plan.inference{ loss = 2.5, inference_tokens = 1e12, law = chin }
  t.eq(i.question, "inference-aware allocation for 1T inference tokens, target loss 2.5000")
  t.eq(row(i, "loss"), "2.5000")
  t.eq(row(i, "inference tokens"), "1T")
  -- N, D and unique tokens as the answer's rows.
  local l = plan.loss{ N = 1.23456e9, D = 2.5e10, unique_tokens = 5e9, law = datablations }
  t.eq(l.question, "loss of 1.23B parameters on 25B tokens (5B unique)")
  t.eq(row(l, "params"), "1.23B")
  t.eq(row(l, "tokens"), "25B")
  -- The question asked without a law says what its answer will: every input its answer names.
  for _, case in ipairs {
    { plan.optimal{ compute = 1e22, epochs = 12.345 }, datablations },
    { plan.optimal{ compute = 1e22, unique_tokens = 25e9 }, datablations },
    { plan.optimal{ compute = 5.76e23, flops = { "palm", ctx = 2048 } }, chin },
    { plan.loss{ N = 1.23456e9, D = 2.5e10, unique_tokens = 5e9 }, datablations },
    { plan.compute_for{ loss = 2.5, unique_tokens = 25e9 }, datablations },
    { plan.compute_for{ loss = 2.3, flops = { "kaplan", ctx = 2048 } }, chin },
    { plan.inference{ loss = 2.5, inference_tokens = 1e12, unique_tokens = 1e12 }, datablations },
    { plan.inference{ compute = 1e21, inference_tokens = 1e12 }, chin },
    { plan.returns{ unique_tokens = 25e9, compute = { 1e21, 1e22 } }, datablations },
  } do
    local q, law = case[1], case[2]
    t.eq(first_line(q), q:answer(law).question)
  end
  t.eq(first_line(plan.inference{ loss = 2.5, inference_tokens = 1e12, unique_tokens = 1e12 }),
    "inference-aware allocation for 1T inference tokens, target loss 2.5000 with 1T unique tokens")
end)

-- One number where a question takes a list (plan.table's params, plan.returns' compute) was refused
-- as "params must be an array of numbers (got number)", without the fix: the list of it.
t.test("one number given for a list of them is refused naming the list to write", function()
  local law = published("chinchilla", chinchilla)
  t.raises(function() return plan.table{ params = 1e9, law = law } end,
    "plan.table: params must be an array of numbers (got a number); write it as a list: params = { 1e9 }")
  t.raises(function() return plan.returns{ unique_tokens = 25e9, compute = 2.5e21, law = datablations } end,
    "plan.returns: compute must be an array of numbers (got a number); write it as a list: compute = { 2.5e21 }")
  -- Still refused, as before, where it is neither a number nor a list.
  t.raises(function() return plan.table{ params = "1e9", law = law } end,
    "plan.table: params must be an array of numbers (got string)")
end)

-- An allocation rule's N_opt and D_opt are separate fits, so 6·N·D is not the budget: the note said
-- only "6·N·D differs from the budget", also where the two print alike (Chinchilla's approach-1 rule at
-- 1e35 FLOP: "6·N·D 1.00e35" under "FLOP 1.00e35"). It says by how much. Python (mpmath) from the
-- rule's constants: 6·N·D/C - 1 = +0.212856% at 1e35, -0.464729% at 1e6.
t.test("an allocation rule's answer says by how much its 6·N·D is off the budget", function()
  local rule = plan.published.chinchilla_approach1
  local function note(a)
    for _, n in ipairs(a.notes) do if n:find("separate fits", 1, true) then return n end end
  end
  local high = plan.optimal{ compute = 1e35, allocation = rule }
  t.near(high.flops_6ND / 1e35 - 1, 0.00212856, 1e-5)
  t.eq(note(high), "the rule's N_opt and D_opt are separate fits: 6·N·D is 0.213% above the budget")
  t.ok(tostring(high):find("6·N·D         1.00e35", 1, true), tostring(high))
  local low = plan.optimal{ compute = 1e6, allocation = rule }
  t.eq(note(low), "the rule's N_opt and D_opt are separate fits: 6·N·D is 0.465% below the budget")
  -- Within 0.1% (1e22: 0.0915% below) neither the row nor the note.
  t.eq(note(plan.optimal{ compute = 1e22, allocation = rule }), nil)
end)

-- One unique token was "1 unique tokens" in the question, its notes and refusals ("the loss 1333.7021
-- is the floor of 1 unique tokens"): one token, one noun.
t.test("one unique token is named in the singular", function()
  local a = plan.optimal{ compute = 1e22, unique_tokens = 1, law = datablations }
  t.eq(a.question, "compute-optimal allocation at 1.00e22 FLOP with 1 unique token")
  local floor
  for _, n in ipairs(a.notes) do floor = floor or n:match("is the floor of 1 unique tokens?") end
  t.eq(floor, "is the floor of 1 unique token")
  t.ok(tostring(plan.compute_for{ loss = 2000, unique_tokens = 1 })
    :find("compute to reach loss 2000.0000 with 1 unique token\n", 1, true))
  t.ok(tostring(plan.compare{ compute = 1e22, unique_tokens = 1, candidates = { { N = 1e6 } } })
    :find("1 allocation compared at 1.00e22 FLOP with 1 unique token\n", 1, true))
  t.eq(plan.returns{ unique_tokens = 1, compute = { 1e10 } }:answer(datablations).question,
    "return on compute spent repeating 1 unique token")
  -- Two, and 25B, as before.
  t.eq(plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = datablations }.question,
    "compute-optimal allocation at 1.00e22 FLOP with 25B unique tokens")
end)

-- An answer's cost line printed its FLOP count otherwise than the answer's FLOP row above it ("FLOP
-- 1.00e22" over "cost: 1e22 FLOP = 116 PF-days"; a study report's "at 1.00e20 FLOP (isoflop): cost:
-- 1e20 FLOP"): it prints it as answers do.
t.test("an answer's cost line prints its FLOP as the answer's FLOP row does", function()
  local a = plan.optimal{ compute = 1e22, law = published("chinchilla", chinchilla), gpu = "H100" }
  local text = tostring(a)
  t.ok(text:find("\n  FLOP          1.00e22\n", 1, true), text)
  t.ok(text:find("\n  cost: 1.00e22 FLOP = 116 PF-days: 7.02k H100-hours", 1, true), text)
  t.eq(tostring(plan.cost{ flops = 5.76e23, gpu = "H100" }):match("^[^=]*"), "5.76e23 FLOP ")
  t.eq(tostring(plan.cost{ flops = 250, gpu = "H100" }):match("^[^=]*"), "250 FLOP ")
end)

-- plan.answer refused an entry of its list as "questions[2] is not a Question", without saying what it
-- was or how to make one: an Answer (a question asked with law =) is the usual slip.
t.test("plan.answer names what an entry that is no Question is, and how to declare one", function()
  local law = published("chinchilla", chinchilla)
  t.raises(function() return plan.answer({ plan.optimal{ compute = 1e22 }, 3 }, law) end,
    "plan.answer: questions[2] is not a Question (got number); declare one without law =, as plan.optimal{ compute = 1e21 }")
  t.raises(function() return plan.answer({ big = plan.optimal{ compute = 1e22, law = law } }, law) end,
    'plan.answer: questions["big"] is not a Question (got Answer); it was asked with law = and answered already: '
    .. "leave law out to declare a question")
end)

t.done()
