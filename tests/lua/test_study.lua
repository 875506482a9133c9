-- Studies end to end, each in its own scalelab process as a user runs them: the simulated backend
-- recovers the law it was given; a sweep killed with SIGKILL and rerun finishes without recomputing
-- a finished run and with the results of an uninterrupted sweep; DSL mistakes point at the script's
-- file:line; foreign and corrupted stores are refused untouched; dry runs train nothing.
local t = require "scalelab.test"
local native = require "scalelab.native.study"
local native_store = require "scalelab.native.store"

local exe = native.executable()
local root = t.scratch("study")

local read, write = t.read_file, t.write_file

local function exists(path) return read(path) ~= nil end

-- Runs `scalelab script args` in `dir` with extra environment; returns exit code and output.
local function scalelab(dir, script, args, env)
  local code, output = t.run(dir, script .. " " .. (args or ""), env)
  return code, output
end

-- The simulated law: Chinchilla's exponents, coefficients scaled so that these tiny models' losses
-- stay below ln(256) (the trainer's simulated backend caps the loss at ln(vocab)).
local LAW = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 }

t.test("an IsoFLOP study on the simulated backend recovers the allocation of the law it was given", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/recover.lua", [[
local s = study "recover" {
  model = { aspect = 32, vocab = 256, ctx = 64 },
  sweep = sweep.isoflop{ budgets = { 1e14, 1e15, 1e16, 1e17 }, points = 9, ratio = { 2, 200 } },
  backend = { kind = "simulated", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 }, noise = 0.002 },
  fits = { isoflop = { bootstrap = 300 }, chinchilla = { bootstrap = 20 } },
  questions = { plan.optimal{ compute = 1e19 } },
}
local law = s.fits.isoflop
local iv = law.intervals
print(string.format("RESULT a=%.6f lo=%.6f hi=%.6f", law.params.a, iv.a[1], iv.a[2]))
local answer = s.answers[1].answer
print(string.format("ANSWER N=%.6g lo=%.6g hi=%.6g D=%.6g", answer.N, answer.intervals.N[1], answer.intervals.N[2], answer.D))
]])
  local code, out = scalelab(dir, "recover.lua")
  t.eq(code, 0, out)
  local a, lo, hi = out:match("RESULT a=([%d.]+) lo=([%d.]+) hi=([%d.]+)")
  a, lo, hi = tonumber(a), tonumber(lo), tonumber(hi)
  local truth = LAW.beta / (LAW.alpha + LAW.beta)  -- 0.4516: N_opt ∝ C^(β/(α+β))
  t.ok(a and math.abs(a - truth) < 0.03, "fitted a = " .. tostring(a) .. ", truth " .. truth)
  t.ok(lo <= truth and truth <= hi, string.format("truth %.4f outside the interval [%.4f, %.4f]", truth, lo, hi))
  -- The planning question beyond the sweep: the law's own compute-optimal N at 1e19 FLOP.
  local N, Nlo, Nhi = out:match("ANSWER N=(%S+) lo=(%S+) hi=(%S+)")
  N, Nlo, Nhi = tonumber(N), tonumber(Nlo), tonumber(Nhi)
  local G = (LAW.alpha * LAW.A / (LAW.beta * LAW.B)) ^ (1 / (LAW.alpha + LAW.beta))
  local N_true = G * (1e19 / 6) ^ truth
  t.ok(Nlo <= N_true and N_true <= Nhi, string.format("true N_opt %.4g outside [%.4g, %.4g]", N_true, Nlo, Nhi))
  t.ok(math.abs(math.log(N / N_true)) < 0.25, string.format("N_opt %.4g vs true %.4g", N, N_true))
  -- The report is written beside the store, in Markdown and JSON.
  local md = read(dir .. "/recover.report.md")
  t.ok(md and md:find("IsoFLOP profiles", 1, true), "Markdown report")
  t.ok(md:find("compute-optimal allocation at 1.00e19 FLOP", 1, true), "the question in the report")
  t.ok(md:find("No loss from isoflop: this fits N_opt and D_opt against C, not a law of the loss", 1, true),
    "the empty loss cell is explained")
  local report = read(dir .. "/recover.report.json")
  t.ok(report and report:find('"study": "recover"', 1, true), "JSON report")
  -- One shape for intervals ([lo, hi]), one name for an answer's budget (flops), lists as arrays.
  t.ok(report:find('"a": %[%s*[%d.]+,%s*[%d.]+%s*%]'), report)
  t.ok(report:find('"alpha": %[%s*[%d.]+,%s*[%d.]+%s*%]'), report)  -- the chinchilla fit's, as the isoflop's
  t.ok(not report:find('"level"', 1, true) and not report:find('"1":', 1, true), report)
  t.ok(report:find('"flops": 1e%+19') and not report:find('"compute":', 1, true), report)
  t.ok(report:find('"figures": %['), report)
  -- A rerun trains nothing: every run is already in the store.
  local store = native_store.open(dir .. "/recover.db", { read_only = true })
  local before = {}
  for _, r in ipairs(store:runs()) do before[r.hash] = r.finished_at end
  store:close()
  local code2, out2 = scalelab(dir, "recover.lua")
  t.eq(code2, 0, out2)
  t.ok(out2:find("36 done, 0 to simulate", 1, true), out2:sub(1, 300))
  store = native_store.open(dir .. "/recover.db", { read_only = true })
  for _, r in ipairs(store:runs()) do
    t.eq(r.finished_at, before[r.hash])
    t.eq(r.attempts, 1)
  end
  store:close()
end)

t.test("a data-constrained study recovers R_D* and R_N* and answers a question with limited unique data", function()
  -- Runs over unique-token budgets × epochs × sizes, simulated from a data-constrained law (the
  -- Chinchilla base law with R_D* = 15, R_N* = 5); the study fits it by Muennighoff et al.'s two
  -- steps (base law on the single-epoch runs, then R_D*, R_N*), and answers "with 1e19 FLOP and
  -- 100M unique tokens, what N, how many epochs?". Chinchilla's A and B are divided by 4: its own put
  -- these sizes at 6 to 12 nats, above ln(256) = 5.55, where the simulation caps every loss (a uniform
  -- guess, which no model starts above); scaling both leaves N_opt and the answer as they were.
  local dir = t.fresh_dir(root)
  write(dir .. "/dc.lua", [[
local truth = { E = 1.69, A = 101.6, B = 102.7, alpha = 0.34, beta = 0.28, R_D = 15, R_N = 5 }
local s = study "dc" {
  model = { aspect = 32, vocab = 256, ctx = 64 },
  sweep = sweep.data_constrained{ unique_tokens = sweep.log(1e7, 1e9, 5), epochs = { 1, 3, 10, 30, 100 },
                                  N = sweep.log(3e5, 3e7, 5) },
  backend = { kind = "simulated", law = truth, noise = 0.002 },
  fits = { data_constrained = { base = "single_epoch", bootstrap = 100 } },
  questions = { plan.optimal{ compute = 1e19, unique_tokens = 1e8 } },
}
local law = s.fits.data_constrained
-- The base law is held in the fit and refitted in each resample: its parameters have intervals.
print("HELD " .. tostring(law.intervals.E ~= nil and law.intervals.E[2] > law.intervals.E[1]) .. " "
  .. tostring(tostring(law):find("(held here, refitted in each resample)", 1, true) ~= nil))
print(string.format("RESULT R_D=%.6g %.6g %.6g R_N=%.6g %.6g %.6g r2=%.6f", law.params.R_D, law.intervals.R_D[1],
  law.intervals.R_D[2], law.params.R_N, law.intervals.R_N[1], law.intervals.R_N[2], law.r2))
local answer = s.answers[1].answer
local exact = plan.optimal{ compute = 1e19, unique_tokens = 1e8, law = fit.published.datablations:with(truth) }
print(string.format("ANSWER N=%.6g lo=%.6g hi=%.6g epochs=%.6g TRUE N=%.6g epochs=%.6g", answer.N, answer.intervals.N[1],
  answer.intervals.N[2], answer.epochs, exact.N, exact.epochs))
]])
  local code, out = scalelab(dir, "dc.lua")
  t.eq(code, 0, out)
  t.ok(out:find("HELD true true", 1, true), out)
  local R_D, R_D_lo, R_D_hi, R_N, R_N_lo, R_N_hi, r2 =
    out:match("RESULT R_D=(%S+) (%S+) (%S+) R_N=(%S+) (%S+) (%S+) r2=(%S+)")
  R_D, R_N, r2 = tonumber(R_D), tonumber(R_N), tonumber(r2)
  t.ok(R_D and math.abs(R_D / 15 - 1) < 0.1, "R_D* = " .. tostring(R_D) .. ", truth 15\n" .. out:sub(-2000))
  t.ok(R_N and math.abs(R_N / 5 - 1) < 0.15, "R_N* = " .. tostring(R_N) .. ", truth 5")
  t.ok(tonumber(R_D_lo) < R_D and R_D < tonumber(R_D_hi), "R_D*'s interval holds its estimate")
  t.ok(tonumber(R_N_lo) < R_N and R_N < tonumber(R_N_hi), "R_N*'s interval holds its estimate")
  t.ok(r2 > 0.999, "R² " .. tostring(r2))
  -- The question beyond the sweep, against the exact answer of the true law.
  local N, lo, hi, epochs, N_true, epochs_true = out:match("ANSWER N=(%S+) lo=(%S+) hi=(%S+) epochs=(%S+) TRUE N=(%S+) epochs=(%S+)")
  N, lo, hi, epochs, N_true, epochs_true = tonumber(N), tonumber(lo), tonumber(hi), tonumber(epochs), tonumber(N_true), tonumber(epochs_true)
  t.ok(N and math.abs(math.log(N / N_true)) < 0.25, string.format("N %.4g vs true %.4g", N or 0, N_true or 0))
  t.ok(lo < N and N < hi, "the answer's interval holds it")
  -- The bootstrap refits the base law on every resample too (two stages), so the interval carries
  -- its uncertainty and holds the truth; the second step alone held the base fixed.
  t.ok(lo < N_true and N_true < hi, string.format("the true N %.4g in [%.4g, %.4g]", N_true, lo, hi))
  t.ok(math.abs(math.log(epochs / epochs_true)) < 0.25, string.format("epochs %.4g vs true %.4g", epochs, epochs_true))
  -- The report names the procedure and the question.
  local md = read(dir .. "/dc.report.md")
  t.ok(md and md:find("single-epoch runs without excess parameters", 1, true), "the report names the procedure")
  t.ok(md:find("two-stage bootstrap resamples (the base law refitted on each", 1, true), "the report names the bootstrap")
  t.ok(md:find("100M unique tokens", 1, true), "the question in the report")
end)

t.test("a data-constrained fit with an unknown base is refused, naming the choices", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/bad_base.lua", [[
study "bad_base" {
  model = { aspect = 32, vocab = 256, ctx = 64 },
  sweep = sweep.data_constrained{ unique_tokens = { 1e7, 1e8 }, epochs = { 1, 4 }, N = { 1e6, 3e6 } },
  backend = { kind = "simulated", law = { E = 1.69, A = 101.6, B = 102.7, alpha = 0.34, beta = 0.28, R_D = 15, R_N = 5 } },
  fits = { data_constrained = { base = "one_epoch" } },
}
]])
  local code, out = scalelab(dir, "bad_base.lua")
  t.ok(out:find('base = "one_epoch" is not a base', 1, true), out)
  t.ok(out:find("single_epoch", 1, true), out)
end)

t.test("too few single-epoch runs for base = \"single_epoch\": the report counts what there is and what to add", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/few.lua", [[
study "few" {
  model = { aspect = 32, vocab = 256, ctx = 64 },
  sweep = sweep.data_constrained{ unique_tokens = { 1e7, 1e8 }, epochs = { 1, 4 }, N = { 1e6, 3e6, 1e7 } },
  backend = { kind = "simulated", law = { E = 1.69, A = 101.6, B = 102.7, alpha = 0.34, beta = 0.28, R_D = 15, R_N = 5 } },
  fits = { data_constrained = { base = "single_epoch" } },
}
]])
  -- The fit asked for is not fitted: the study reports, then the program ends with status 3.
  local code, out = scalelab(dir, "few.lua")
  t.eq(code, 3, out)
  local report = read(dir .. "/few.report.md")
  -- Runs that repeat data: the runs table has their unique tokens and epochs.
  t.ok(report:find("| # | N (non-emb.) | N (all) | D | U | epochs | C (6ND) | loss | time | status |", 1, true), report)
  t.ok(report:find("| 100M | 10M | 10 |", 1, true) or report:find("| 40M | 10M | 4 |", 1, true), report)
  -- The JSON report's runs give their epochs beside D and U (named as in the CSV export), D / U.
  local json = read(dir .. "/few.report.json")
  local runs = json:match('"runs": (%b[])')
  t.ok(runs, json)
  local repeated = 0
  for run in runs:gmatch("%b{}") do
    local D, U, epochs = tonumber(run:match('"D": ([^,\n]+)')), tonumber(run:match('"U": ([^,\n]+)')),
      tonumber(run:match('"epochs": ([^,\n]+)'))
    t.ok(D and U and epochs, run)
    t.near(epochs, D / U, 1e-9)
    if epochs > 3.9 then repeated = repeated + 1 end
  end
  t.eq(repeated, 6, runs)  -- epochs = 4: both U, three sizes
  t.ok(report:find("needs at least 8 single-epoch runs over 3 sizes and 2 token counts; the finished runs have "
    .. "6 single-epoch runs over 3 sizes and 2 token counts (give the sweep more sizes or unique-token counts at "
    .. "epochs = 1", 1, true), report)
end)

-- Muennighoff et al.'s law at GPT-2's vocabulary: most single-epoch runs of these sizes have excess
-- parameters (N above N_opt(U)). The filter kept all 15 when fewer than 8 passed, fitted the base
-- law on them, and said they had none: R_D* 6.0 [4.7, 7.0] against 15.4.
t.test("base = \"single_epoch\" with too few runs free of excess parameters is refused, not fitted on the others", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/excess.lua", [[
study "excess" {
  models = { aspect = 64, vocab = 50304, ctx = 2048 },
  sweep = sweep.data_constrained{ unique_tokens = { 1e8, 1e9, 1e10 }, epochs = { 1, 2, 4, 8 }, sizes = sweep.log(5e7, 3e9, 5) },
  backend = { kind = "simulated", noise = 0.003,
              law = { E = 1.869, A = 520.8, B = 1487.7, alpha = 0.3527, beta = 0.3527, R_D = 15.39, R_N = 5.31 } },
  fits = { data_constrained = { base = "single_epoch" } },
}
]])
  local code, out = scalelab(dir, "excess.lua")
  t.eq(code, 3, out)
  t.ok(out:find("scalelab: study excess: data_constrained was not fitted: ", 1, true), out)
  local report = read(dir .. "/excess.report.md")
  t.ok(report:find("of the 15 single-epoch runs are without excess parameters (N <= N_opt(U) of the base law fitted "
    .. "to them); the base law needs 8 such runs", 1, true), report)
  t.ok(not report:find("R_D*, R_N* on", 1, true), report)
end)

t.test("approach 1 (the lower envelope of the training curves) brackets the law's allocation exponent", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/a1.lua", [[
local s = study "a1" {
  model = { aspect = 32, vocab = 256, ctx = 64 },
  sweep = sweep.grid{ N = sweep.log(1e5, 3e7, 12), D = { 3e9 } },
  backend = { kind = "law", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 }, noise = 0.001, points = 60 },
  fits = { "approach1" },
}
local law = s.fits.approach1
print(string.format("RESULT a=%.6f lo=%.6f hi=%.6f", law.params.a, law.intervals.a[1], law.intervals.a[2]))
-- The same fit from the REPL: the study's runs with their curves.
local runs = s:curves()
print(string.format("DIRECT a=%.6f runs=%d curve=%d", fit.approach1(runs).a, #runs, #runs[1].curve))
-- Curve points count whole tokens (3e9 / 60 per point), the last one all of D.
local whole = true
for _, r in ipairs(runs) do
  for _, p in ipairs(r.curve) do whole = whole and p.tokens == math.floor(p.tokens) end
end
print("WHOLE " .. tostring(whole) .. " LAST " .. tostring(runs[1].curve[60].tokens == runs[1].D))
]])
  local code, out = scalelab(dir, "a1.lua")
  t.eq(code, 0, out)
  local a, lo, hi = out:match("RESULT a=([%d.]+) lo=([%d.]+) hi=([%d.]+)")
  a, lo, hi = tonumber(a), tonumber(lo), tonumber(hi)
  t.ok(out:find(string.format("DIRECT a=%.6f runs=12 curve=60", a), 1, true), out)
  t.ok(out:find("WHOLE true LAST true", 1, true), out)
  -- The JSON report carries the switches the law goes through.
  local json = read(dir .. "/a1.report.json")
  t.ok(json and json:find('"switches": [', 1, true) and json:find('"frontier_sizes": ', 1, true), json)
  local truth = LAW.beta / (LAW.alpha + LAW.beta)
  t.ok(a and lo <= truth and truth <= hi, string.format("truth %.4f outside [%s, %s] (a = %s)", truth, lo, hi, a))
  t.ok(math.abs(a - truth) < 0.03, "a = " .. a)
end)

t.test("approach 1 on too few sizes says why it fits nothing, and the study still reports", function()
  -- Five sizes 4.2x apart, one curve each: the frontier changes size only where nothing brackets it.
  local dir = t.fresh_dir(root)
  write(dir .. "/a5.lua", [[
study "a5" {
  model = { aspect = 32, vocab = 256, ctx = 64 },
  sweep = sweep.grid{ N = sweep.log(1e5, 3e7, 5), D = { 3e9 } },
  backend = { kind = "law", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 }, noise = 0.001, points = 60 },
  fits = { "approach1" },
  quiet = true,
}
]])
  local code, out = scalelab(dir, "a5.lua")
  t.eq(code, 3, out)
  t.ok(out:find("scalelab: study a5: approach1 was not fitted: ", 1, true), out)
  local md = read(dir .. "/a5.report.md")
  t.ok(md and md:find("Not fitted: approach1: %d sizes are on the frontier, but it never passes from one to another"), md)
end)

t.test("a study that leaves a question unanswered exits 3 after its reports, its last line saying which and why", function()
  -- It exited 0, as if answered: a script in CI or a pipeline could not learn it. The script goes on
  -- after the study (a later study runs, the script prints), and the program ends with status 3.
  local dir = t.fresh_dir(root)
  write(dir .. "/one.lua", [[
local s = study "one" {
  model = { aspect = 32, vocab = 256, ctx = 64 },
  sweep = sweep.isoflop{ budgets = { 1e14 }, points = 5 },
  backend = { kind = "simulated", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 } },
  fits = { "isoflop" },
  questions = { plan.optimal{ compute = 1e19 } },
  quiet = true,
}
if not s.dry_run then print("UNANSWERED " .. #s.unanswered .. " UNFITTED " .. #s.unfitted) end
local ok = study "two" {
  model = { aspect = 32, vocab = 256, ctx = 64 },
  sweep = sweep.isoflop{ budgets = { 1e14, 1e15 }, points = 5 },
  backend = { kind = "simulated", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 } },
  fits = { isoflop = { bootstrap = 0 } },
  questions = { plan.optimal{ compute = 1e19 } },
  quiet = true,
}
if not ok.dry_run then print("TWO " .. #ok.unanswered .. " " .. #ok.unfitted .. " " .. #ok.answers) end
if os.getenv("ACCEPT") then os.exit(0) end
]])
  local code, out, err = t.run(dir, "one.lua")
  t.eq(code, 3, out)
  t.ok(out:find("UNANSWERED 1 UNFITTED 1", 1, true), out)
  t.ok(out:find("TWO 0 0 1", 1, true), out)
  local last = err:match("([^\n]*)\n?$")
  t.eq(last, "scalelab: study one: the question \"compute-optimal allocation at 1.00e19 FLOP\" went unanswered (isoflop "
    .. "was not fitted: the power law N_opt ∝ C^a goes through the minima of two budgets or more; the runs have one "
    .. "budget (1e14): give the sweep more budgets); its runs are kept in one.db, its report in one.report.md and "
    .. "one.report.json (exit status 3)", err)
  -- Only the study that left it is said.
  t.ok(not err:find("scalelab: study two:", 1, true), err)
  -- Its runs and reports are written; the JSON report lists what was left.
  local stored = 0
  for _, r in pairs(t.stored_runs(dir .. "/one.db")) do stored = stored + (r.status == "done" and 1 or 0) end
  t.eq(stored, 5)
  local report = t.json(read(dir .. "/one.report.json"))
  t.eq(#report.unanswered, 1)
  t.eq(report.unanswered[1].question, "compute-optimal allocation at 1.00e19 FLOP")
  t.ok(report.unanswered[1].why:find("^isoflop was not fitted: the power law"), report.unanswered[1].why)
  t.eq(report.not_fitted[1].fit, "isoflop")
  -- Nothing left undone: the keys are there, empty (they were left out, a reader's d["unanswered"] failing).
  local two = t.json(read(dir .. "/two.report.json"))
  t.eq(#two.unanswered, 0)
  t.eq(#two.not_fitted, 0)
  t.ok(read(dir .. "/one.report.md"), "the Markdown report is written")
  -- Run again, it trains nothing and says the same; a script that expects it ends with os.exit(0).
  code, out = t.run(dir, "one.lua")
  t.eq(code, 3, out)
  code, out = t.run(dir, "one.lua", { ACCEPT = "1" })
  t.eq(code, 0, out)
  -- A dry run answers nothing and leaves nothing unanswered: 0.
  code, out = t.run(dir, "one.lua --dry-run")
  t.eq(code, 0, out)
  -- The same script through standard input ends the same way; in the REPL (-i) the session ends 0.
  code, out = t.run(dir, "- < one.lua")
  t.eq(code, 3, out)
  code, out = t.run(dir, "-i one.lua < /dev/null")
  t.eq(code, 0, out)
end)

t.test("with fits left out, a default fit that fails ends the study 3 only where a question goes unanswered", function()
  -- A grid's defaults are chinchilla and approach1; two runs fit neither. Nothing was asked: 0.
  local dir = t.fresh_dir(root)
  local script = [[
study "none" {
  model = { aspect = 32, vocab = 256, ctx = 64 },
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e8, 3e8 } },
  backend = { kind = "simulated", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 } },
  quiet = true,
  QUESTIONS
}
]]
  write(dir .. "/none.lua", (script:gsub("QUESTIONS", "")))
  local code, out, err = t.run(dir, "none.lua")
  t.eq(code, 0, out)
  t.ok(t.json(read(dir .. "/none.report.json")).fits.chinchilla.error, out)
  -- A question that no default fit answers: 3, saying why each was not fitted.
  write(dir .. "/none.lua", (script:gsub("QUESTIONS", "questions = { plan.optimal{ compute = 1e15 } },")))
  code, out, err = t.run(dir, "none.lua")
  t.eq(code, 3, out)
  t.ok(err:find("scalelab: study none: the question \"compute-optimal allocation at 1.00e15 FLOP\" went unanswered "
    .. "(chinchilla was not fitted: ", 1, true), err)
  t.ok(err:find("; approach1 was not fitted: ", 1, true), err)
end)

-- A sweep whose runs take a while: 10 runs of 10 points, 25 ms each.
local SLOW = [[
study "slow" {
  model = { aspect = 32, vocab = 256, ctx = 64 },
  sweep = sweep.isoflop{ budgets = { 1e13, 1e14 }, points = 5 },
  backend = { kind = "law", noise = 0.01, points = 10, seconds_per_point = 0.025 },
  store = os.getenv("STORE"),
  jobs = tonumber(os.getenv("JOBS")),
  fits = {},  -- about the runs, not their fit: with 5 sizes a budget one of these parabolas has no minimum
}
]]

local snapshot = t.stored_runs

local function count(runs, status)
  local n = 0
  for _, r in pairs(runs) do n = n + (r.status == status and 1 or 0) end
  return n
end

local function kill_and_rerun(jobs, whole_group)
  local dir = t.fresh_dir(root)
  write(dir .. "/slow.lua", SLOW)
  -- The reference: the same sweep, uninterrupted.
  local code, out = scalelab(dir, "slow.lua", "", { STORE = "reference.db", JOBS = "1" })
  t.eq(code, 0, "the uninterrupted sweep failed:\n" .. out:sub(-1500))
  local reference = snapshot(dir .. "/reference.db")
  t.eq(count(reference, "done"), 10)

  -- Start the sweep, kill -9 it once a few runs are done, then rerun it. The sweep runs in its own
  -- process group (setsid). `whole_group` kills the group at once, as a crash of the machine's session
  -- would; otherwise only the executor is killed and its workers must notice and stop by themselves
  -- (they watch a lifeline pipe: PR_SET_PDEATHSIG alone is not enough, since some kernels, this
  -- project's sandboxes among them, do not send it when the parent is SIGKILLed).
  local pid = native.spawn { argv = { "/bin/sh", "-c", string.format("cd '%s' && exec setsid '%s' slow.lua", dir, exe) },
                             env = { "STORE=killed.db", "JOBS=" .. jobs }, log = dir .. "/killed.log" }
  local at_kill
  -- Kill at a moment when at least 3 runs are done and one is in flight with a few points
  -- checkpointed (the law backend writes its point count to the checkpoint file every 25 ms; a run
  -- takes about 10): waiting a fixed time instead races with the runs finishing and the next workers
  -- starting up. At most 5 points, so that the run is still in flight (≥ 100 ms left) at the kill
  -- even on a loaded machine.
  local function ready_to_kill()
    local ok, store = pcall(native_store.open, dir .. "/killed.db", { read_only = true })
    if not ok then return false end
    local done, in_flight = 0, false
    for _, r in ipairs(store:runs()) do
      if r.status == "done" then done = done + 1 end
      local path = r.checkpoint and (r.checkpoint:sub(1, 1) == "/" and r.checkpoint or dir .. "/" .. r.checkpoint)
      local written = r.status == "running" and path and tonumber((read(path) or ""):match("%d+"))
      if written and written >= 2 and written <= 5 then in_flight = true end
    end
    store:close()
    return done >= 3 and in_flight
  end
  local deadline = native.clock() + 20
  while native.clock() < deadline and not ready_to_kill() do native.sleep(0.005) end
  -- The executor's worker processes at the moment of the kill: its children, as the kernel lists
  -- them (one read, so that the kill still comes while the run seen above is in flight).
  local function children_of(parent)
    local out = {}
    for child in (read(string.format("/proc/%d/task/%d/children", parent, parent)) or ""):gmatch("%d+") do
      out[#out + 1] = child
    end
    return out
  end
  local workers = jobs > 1 and children_of(pid) or {}
  if whole_group then
    os.execute("kill -9 -" .. pid)  -- the whole process group (dash's kill takes no "--")
  else
    native.kill(pid, 9)  -- the executor alone
  end
  native.wait(true)
  -- Every worker must be gone within a few seconds.
  local function alive(worker_pid)
    local stat = read("/proc/" .. worker_pid .. "/stat")
    return stat ~= nil and stat:match("^%d+ %b() (%a)") ~= "Z"
  end
  if jobs > 1 then t.ok(#workers >= 1, "the executor had worker processes when it was killed") end
  local gone_by = native.clock() + 5
  for _, worker_pid in ipairs(workers) do
    while alive(worker_pid) and native.clock() < gone_by do native.sleep(0.01) end
    t.ok(not alive(worker_pid), "worker pid " .. worker_pid .. " still runs 5 s after its executor was killed")
  end
  native.sleep(0.05)
  at_kill = snapshot(dir .. "/killed.db")
  local done_at_kill = count(at_kill, "done")
  t.ok(done_at_kill >= 3 and done_at_kill < 9, "runs done when killed: " .. done_at_kill)
  t.ok(count(at_kill, "running") >= 1, string.format("a run was in flight when killed (%d done, %d running, %d planned)\n%s",
    done_at_kill, count(at_kill, "running"), count(at_kill, "planned"), read(dir .. "/killed.log") or ""))

  local code2, out2 = scalelab(dir, "slow.lua", "", { STORE = "killed.db", JOBS = tostring(jobs) })
  t.eq(code2, 0, out2)
  t.ok(out2:find(string.format("%d done, %d to simulate", done_at_kill, 10 - done_at_kill), 1, true), out2:sub(1, 200))
  local after = snapshot(dir .. "/killed.db")
  t.eq(count(after, "done"), 10)
  local resumed = 0
  for hash, r in pairs(after) do
    t.ok(reference[hash], "the rerun planned the same runs")
    t.near(r.loss, reference[hash].loss, 1e-12)   -- the same results as the uninterrupted sweep
    if at_kill[hash] and at_kill[hash].status == "done" then
      -- Not recomputed: the same attempt, finished at the same moment.
      t.eq(r.attempts, 1)
      t.eq(r.finished_at, at_kill[hash].finished_at)
    end
    if at_kill[hash] and at_kill[hash].status == "running" then
      t.eq(r.attempts, 2)
      if r.metrics.resumed_from and r.metrics.resumed_from > 0 then resumed = resumed + 1 end
    end
    local curve = native_store.open(dir .. "/killed.db", { read_only = true })
    t.eq(#curve:curve("slow", hash), 10)
    curve:close()
  end
  t.ok(resumed >= 1, "an interrupted run resumed from its checkpoint")
end

t.test("kill -9 in the middle of a serial sweep, then rerun: nothing finished is recomputed", function()
  kill_and_rerun(1, true)
end)

t.test("kill -9 of a parallel sweep's executor alone: its 2 workers stop, and a rerun recomputes nothing", function()
  kill_and_rerun(2, false)
end)

t.test("a study goes on starting its workers when its program's file is replaced mid-sweep (a rebuild)", function()
  local dir = t.fresh_dir(root)
  t.ok(os.execute(string.format("cp '%s' '%s/sl'", exe, dir)), "copy the program")
  write(dir .. "/w.lua", string.format([[
study "w" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5, 8e5, 1.6e6, 3.2e6 }, D = { 1e7 } },
  backend = { kind = "law", points = 10, seconds_per_point = 0.05 },
  store = "%s/w.db",
  jobs = 2,
  fits = {},
}
print("FINISHED")
]], dir))
  local pid = native.spawn { argv = { dir .. "/sl", dir .. "/w.lua" }, log = dir .. "/w.log" }
  -- Once the first two runs are done (two at a time, each half a second), replace the file (a new
  -- inode, as a rebuild's linker writes it): the program running the study now reads as
  -- "<path> (deleted)", and the last two runs are still to start.
  local deadline = native.clock() + 60
  while not (read(dir .. "/w.log") or ""):find("%(2 of 6 done") and native.clock() < deadline do native.sleep(0.02) end
  t.ok(os.execute(string.format("cp '%s/sl' '%s/sl.new' && mv '%s/sl.new' '%s/sl'", dir, dir, dir, dir)), "replace it")
  local _, code = native.wait(true)
  local log = read(dir .. "/w.log") or ""
  t.eq(code, 0, log)
  t.ok(log:find("FINISHED", 1, true), log)
  t.ok(not log:find("cannot start worker", 1, true), log)
  local store = native_store.open(dir .. "/w.db", { read_only = true })
  for _, r in ipairs(store:runs()) do t.eq(r.status, "done", log) end
  store:close()
  t.eq(pid > 0, true)
end)

t.test("a custom executor trains the runs through the worker command the executor interface gives it", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/custom.lua", [[
local native = require "scalelab.native.study"
local seen = 0
-- A one-at-a-time executor written against the interface, as a cluster executor would be: it runs
-- batch.command(run) somewhere, then hands the exit status to batch.collect.
local one_by_one = {
  execute = function(self, batch)
    for _, run in ipairs(batch.runs) do
      local command = batch.command(run)
      batch.started(run, "custom")
      local pid = native.spawn { argv = command.argv, env = command.env, log = command.log }
      local _, code, signal = native.wait(true)
      batch.finished(run, batch.collect(run, code, signal))
      seen = seen + 1
    end
  end,
}
local s = study "custom" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5 }, D = { 1e7 } },
  backend = { kind = "law", points = 4 },
  executor = one_by_one,
  fits = {},
}
print("SEEN " .. seen)
for _, r in ipairs(s.runs) do print("RUN " .. r.status .. " " .. tostring(r.worker)) end
]])
  local code, out = scalelab(dir, "custom.lua")
  t.eq(code, 0, out)
  t.ok(out:find("SEEN 3", 1, true), out)
  local store = native_store.open(dir .. "/custom.db", { read_only = true })
  local runs = store:runs()
  t.eq(#runs, 3)
  for _, r in ipairs(runs) do
    t.eq(r.status, "done")
    t.ok(r.worker:find("^pid %d+"), "recorded by the worker process: " .. tostring(r.worker))
  end
  store:close()
  -- A finished run's worker log goes with it: nothing is left in the checkpoints folder.
  local listing = assert(io.popen("ls -A '" .. dir .. "/custom.checkpoints'"))
  t.eq(listing:read("a"), "")
  listing:close()
end)

-- Runs a script with a mistake; returns its output, which must be an error.
local function mistake(body)
  local dir = t.fresh_dir(root)
  write(dir .. "/bad.lua", body)
  local code, out = scalelab(dir, "bad.lua")
  t.ok(code ~= 0, "the script should fail:\n" .. out)
  t.ok(not exists(dir .. "/bad.db"), "no store is created for a mistaken study")
  return out
end

t.test("DSL mistakes name the key and point at the script's file:line", function()
  local out = mistake([[
study "bad" {
  model = { aspect = 32 },
  sweeep = sweep.isoflop{ budgets = { 1e13 } },
}
]])
  t.ok(out:find("bad.lua:3: study: unknown key 'sweeep'; did you mean 'sweep'?", 1, true), out)

  out = mistake([[
study "bad" {
  sweep = sweep.isoflop{ budgets = { 1e13 } },

  jobs = "two",
}
]])
  t.ok(out:find("bad.lua:4: study: jobs must be a whole number (got a string)", 1, true), out)

  out = mistake([[
study "bad" {
  sweep = sweep.filter(sweep.grid{ N = { 1e5 }, D = { 1e7 } },
                       function(p) return p.N > 1e9 end),
}
]])
  t.ok(out:find("bad.lua:2: study \"bad\": the sweep is empty", 1, true), out)
  -- It names the function that made no points, where, and why.
  t.ok(out:find("the sweep is empty (no runs to train): sweep.filter at bad.lua:2 kept no point of its grid sweep "
    .. "(1 point; its function returned false or nil for every one)", 1, true), out)

  out = mistake([[
local budgets = { 1e13, 1e14 }
study "bad" {
  sweep = sweep.isoflop{ budget = budgets },
}
]])
  t.ok(out:find("bad.lua:3: sweep.isoflop: unknown key 'budget'; did you mean 'budgets'?", 1, true), out)

  out = mistake([[
study "bad" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  hyper = {
    lrr = 1e-3,
  },
}
]])
  t.ok(out:find("bad.lua:4: study: hyper: unknown key 'lrr'; did you mean 'lr'?", 1, true), out)

  out = mistake([[
study "bad" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  model = { aspect = "wide" },
}
]])
  t.ok(out:find("bad.lua:3: study: model.aspect must be a number", 1, true), out)

  out = mistake([[
study "bad" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  fits = { "isoflp" },
}
]])
  t.ok(out:find("bad.lua:3: study: fits: unknown fit 'isoflp'; did you mean 'isoflop'?", 1, true), out)

  out = mistake([[
study "bad" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },
  backend = { kind = "simulated", law = { E = 1.7 } },
}
]])
  t.ok(out:find("bad.lua:3: study: backend.law.A must be a number", 1, true), out)
end)

t.test("a foreign or corrupted store is refused with a clear message and left untouched", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/s.lua", [[
study "s" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = "simulated",
  store = os.getenv("STORE"),
  fits = {},
}
]])
  write(dir .. "/notes.db", "my notes: not a database\n")
  local code, out = scalelab(dir, "s.lua", "", { STORE = "notes.db" })
  t.ok(code ~= 0)
  t.ok(out:find("'notes.db' is not a scalelab results store: it is not an SQLite database", 1, true), out)
  t.eq(read(dir .. "/notes.db"), "my notes: not a database\n")

  -- A real store, then damaged.
  code, out = scalelab(dir, "s.lua", "", { STORE = "good.db" })
  t.eq(code, 0, out)
  local bytes = read(dir .. "/good.db")
  t.ok(#bytes >= 4096 * 3, "store size " .. #bytes)
  local damaged = bytes:sub(1, 4096) .. string.rep("\xA5", #bytes - 4096)
  write(dir .. "/good.db", damaged)
  code, out = scalelab(dir, "s.lua", "", { STORE = "good.db" })
  t.ok(code ~= 0)
  t.ok(out:find("results store 'good.db' is corrupted", 1, true), out)
  t.eq(read(dir .. "/good.db"), damaged)
  code, out = scalelab(dir, "results", "good.db")
end)

t.test("--dry-run prints each planned run and the totals, and trains nothing", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/plan.lua", [[
study "plan" {
  data = data.synthetic{ kind = "markov", vocab = 256, order = 1, seed = 1, tokens = 5e5 },
  model = { aspect = 32, vocab = 256, ctx = 64 },
  sweep = sweep.data_constrained{ unique_tokens = { 1e5, 4e5 }, epochs = { 1, 4 }, N = { 1e5, 4e5 } },
  backend = "cpu",
}
]])
  local code, out = scalelab(dir, "plan.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("study plan: 8 runs planned, backend cpu", 1, true), out)
  t.ok(out:find("total: 8 runs (8 to train)", 1, true), out)
  t.ok(out:find("FLOP/s for backend cpu", 1, true), out)
  t.ok(out:find(" 4 ", 1, true), "epochs column")
  -- Runs repeat data: U (unique tokens) beside D and epochs, a count as D is; D = 399k is U = 100k
  -- for 4 epochs (3.99: 4 epochs of U cut to whole sequences, in whole steps rounded down) or U = 400k for 1 (399k of it, each token once).
  t.ok(out:find("  D         U         epochs    lr ", 1, true), out)
  t.ok(out:find("%s399k%s+100k%s+3%.99%s"), out)
  t.ok(out:find("%s399k%s+399k%s+1%s"), out)
  t.ok(not exists(dir .. "/plan.db"), "a dry run writes no store")
  -- No run repeats data: no U column.
  write(dir .. "/fresh.lua",
    (read(dir .. "/plan.lua"):gsub("sweep = [^\n]*", "sweep = sweep.grid{ N = { 1e5 }, D = { 1e5, 4e5 } },")))
  code, out = scalelab(dir, "fresh.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("  D         epochs    lr ", 1, true), out)
end)

-- A folder holding `name`.lua, a study of three runs simulated by the law backend, named `name`,
-- whose report = os.getenv("REPORT").
local function study_with_report_from_env(name)
  return t.script(root, string.format([[
study "%s" {
  sweep = sweep.grid{ N = { 1e5, 2e5, 4e5 }, D = { 1e7 } },
  backend = { kind = "law", law = { E = 1.8, A = 80, B = 150, alpha = 0.34, beta = 0.28 } },
  report = os.getenv("REPORT"),
  fits = {},
  quiet = true,
}
]], name), name .. ".lua")
end

t.test("a report given as a folder goes in it, named after the store, not as hidden files", function()
  -- report = "out/" wrote out/.report.md, out/.report.json and out/.figures (files named by their
  -- suffixes alone, which ls does not show); report = "." wrote ..report.md beside the script.
  local dir = study_with_report_from_env("foldered")
  for _, case in ipairs { { "out/", "out/foldered" }, { "deep/er//", "deep/er/foldered" }, { ".", "foldered" } } do
    local code, out = t.run(dir, "foldered.lua", { REPORT = case[1] })
    t.eq(code, 0, out)
    t.ok(read(dir .. "/" .. case[2] .. ".report.md"), case[1] .. ": " .. out)
    t.ok(read(dir .. "/" .. case[2] .. ".report.json"), case[1] .. ": " .. out)
    local listing = io.popen("ls -A '" .. dir .. "' '" .. dir .. "/" .. (case[2]:match("^(.*)/") or ".") .. "'"):read("a")
    t.ok(not listing:find("\n%.%.?report", 1) and not listing:find("\n%.%.?figures"), listing)
  end
  -- The Markdown report names the store from its own folder.
  t.ok(read(dir .. "/out/foldered.report.md"):find("store: `../foldered.db`", 1, true))
end)

t.test("a report given by the name of one of its files is written under that name, not a doubled one", function()
  -- report = "summary.report.md" wrote summary.report.report.md, and "summary.json" summary.json.report.md.
  local dir = study_with_report_from_env("named")
  for _, name in ipairs { "a.report.md", "b.report.json", "c.md", "d.json", "e" } do
    local code, out = t.run(dir, "named.lua", { REPORT = name })
    t.eq(code, 0, out)
    local stem = name:match("^(%a)")
    t.ok(read(dir .. "/" .. stem .. ".report.md") and read(dir .. "/" .. stem .. ".report.json"), name .. ": " .. out)
  end
  local listing = io.popen("ls '" .. dir .. "'"):read("a")
  t.ok(not listing:find("report.report", 1, true) and not listing:find("json.report", 1, true)
    and not listing:find("md.report", 1, true), listing)
end)

t.test("scalelab results lists runs and exports CSV and JSON", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/r.lua", [[
study "r" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7, 2e7 } },
  backend = "simulated",
  fits = {},
}
]])
  local code, out = scalelab(dir, "r.lua")
  t.eq(code, 0, out)
  code, out = scalelab(dir, "results", "r.db")
  t.eq(code, 0, out)
  t.ok(out:find("study r: script r.lua", 1, true), out)
  t.ok(out:find("4 runs", 1, true), out)
  t.ok(not out:find("rows that share a number", 1, true), out)  -- one plan: no row shares its number
  t.ok(not out:find("epochs", 1, true), out)  -- no run repeats data: no U or epochs columns
  code, out = scalelab(dir, "results", "r.db --csv runs.csv --json runs.json --curves curves.csv")
  t.eq(code, 0, out)
  local csv = read(dir .. "/runs.csv")
  t.ok(csv:find("^study,hash,ordinal,label,status,attempts,params,non_embedding_params,tokens"), csv:sub(1, 200))
  local lines = 0
  for _ in csv:gmatch("\n") do lines = lines + 1 end
  t.eq(lines, 5)
  t.ok(read(dir .. "/runs.json"):find('"status": "done"', 1, true))
  t.ok(read(dir .. "/curves.csv"):find("^study,hash,step,tokens,train_loss,eval_loss"))
  code, out = scalelab(dir, "results", "missing.db")
  t.ok(code ~= 0 and out:find("no results store at 'missing.db'", 1, true), out)
  -- The same plan with another noise: its runs are new ones at the same row numbers, and the table
  -- says what tells the two apart (the rows looked the same but for their losses).
  write(dir .. "/r.lua", (read(dir .. "/r.lua"):gsub('backend = "simulated"', 'backend = { kind = "simulated", noise = 0.02 }')))
  code, out = scalelab(dir, "r.lua")
  t.eq(code, 0, out)
  code, out = scalelab(dir, "results", "r.db")
  t.eq(code, 0, out)
  t.ok(out:find("8 runs", 1, true), out)
  local tagged, left_out = 0, 0
  for line in out:gmatch("[^\n]+") do
    -- The runs of the first noise, which the study's last run did not plan, end their number with "-".
    if line:find("^%s+%d+%*?%-%s+done") then left_out = left_out + 1 end
    if line:find("^%s+%d+%*?%-?%s+done") then
      t.ok(line:find("%x%x%x%x%x%x%x%x%x%x%x%x  backend_noise=0%.02 ") or line:find("%x%x%x%x%x%x%x%x%x%x%x%x  backend_noise=0 "), line)
      tagged = tagged + 1
    end
  end
  t.eq(tagged, 8)
  t.eq(left_out, 4, out)
  t.ok(out:find("rows that share a number are the same point of plans that differ", 1, true), out)
end)

t.test("scalelab results tells data-constrained runs of the same N and D apart by their U and epochs", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/dc.lua", [[
study "dc" {
  sweep = sweep.data_constrained{ unique_tokens = { 1e9, 2e9 }, epochs = { 1, 2, 4 }, sizes = { 1e8 } },
  backend = "simulated",
  fits = {},
}
]])
  local code, out = scalelab(dir, "dc.lua", "-q")
  t.eq(code, 0, out)
  code, out = scalelab(dir, "results", "dc.db")
  t.eq(code, 0, out)
  local header = out:match("\n(%s+#%s+status[^\n]*)")
  t.ok(header and header:find("D         U         epochs  FLOPs", 1, true), out)
  -- D = 2B is U = 1B for 2 epochs, or U = 2B for 1: two rows, told apart by their U and epochs.
  local rows = {}
  for line in out:gmatch("[^\n]+") do
    if line:find("^%s+%d+%s+done") then
      rows[#rows + 1] = line
      -- Aligned: every column starts where its header does.
      for _, column in ipairs { "U", "epochs", "FLOPs", "loss", "hash" } do
        local at = header:find("%f[%S]" .. column .. "%f[%s\0]")
        t.ok(line:sub(at - 1, at - 1) == " " and line:sub(at, at) ~= " ", column .. " misaligned:\n" .. header .. "\n" .. line)
      end
    end
  end
  t.eq(#rows, 6, out)
  local function row(D, U, epochs)
    for _, line in ipairs(rows) do
      if line:find("%s" .. D .. "%s+" .. U .. "%s+" .. epochs .. "%s") then return line end
    end
  end
  t.ok(row("2B", "1B", "2"), out)
  t.ok(row("2B", "2B", "1"), out)
  t.ok(row("8B", "2B", "4"), out)
  t.ok(out:find("U: the unique tokens a run repeats, epochs: D / U", 1, true), out)
end)

t.test("the reports name the backend asked for and the device it resolved to, the Markdown and the JSON alike", function()
  -- The JSON report's backend gave the device ("kind": "cpu") where the Markdown said `auto`: a reader
  -- of one could not tell what the other meant. Both now say the backend asked for and the device.
  local device = require("scalelab.study.backends").device("auto")
  local dir = t.fresh_dir(root)
  local script = [[
study "dev" {
  data = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 1, tokens = 40000 },
  model = { aspect = 16, vocab = 64, ctx = 32 },
  sweep = sweep.grid{ N = { 2e4 }, D = { 4096 } },
  backend = BACKEND,
  fits = {},
  quiet = true,
}
]]
  write(dir .. "/dev.lua", (script:gsub("BACKEND", '"auto"')))
  local code, out = scalelab(dir, "dev.lua", "--jobs 1")
  t.eq(code, 0, out)
  local md, report = read(dir .. "/dev.report.md"), t.json(read(dir .. "/dev.report.json"))
  t.ok(md:find(string.format("- store: `dev.db`, backend `auto` (resolved to `%s` on this machine)", device), 1, true), md)
  t.eq(report.backend.requested, "auto")
  t.eq(report.backend.device, device)
  -- kind: the device the runs are stored under, as before.
  t.eq(report.backend.kind, device)
  -- The dry run's plan says it too.
  code, out = scalelab(dir, "dev.lua", "--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find(string.format("study dev: 1 run planned, backend auto (resolved to %s on this machine), store dev.db",
    device), 1, true), out)
  -- The line that starts the training says it too: it named only "backend auto".
  write(dir .. "/dev.lua", (script:gsub("BACKEND", '"auto"'):gsub("quiet = true", "quiet = false")))
  t.ok(os.remove(dir .. "/dev.db"))
  code, out = scalelab(dir, "dev.lua", "--jobs 1")
  t.eq(code, 0, out)
  t.ok(out:find(string.format("(1 at a time, backend auto (resolved to %s on this machine)); store dev.db", device),
    1, true), out)
  -- Asked for by its device, the backend is that name alone in both.
  write(dir .. "/dev.lua", (script:gsub("BACKEND", '"' .. device .. '"')))
  code, out = scalelab(dir, "dev.lua", "--jobs 1")
  t.eq(code, 0, out)
  md, report = read(dir .. "/dev.report.md"), t.json(read(dir .. "/dev.report.json"))
  t.ok(md:find(string.format("- store: `dev.db`, backend `%s`\n", device), 1, true), md)
  t.eq(report.backend.requested, device)
  t.eq(report.backend.device, device)
  -- A simulated backend computes on no device: requested and kind, no device.
  write(dir .. "/dev.lua", (script:gsub("BACKEND", '"simulated"')))
  code, out = scalelab(dir, "dev.lua")
  t.eq(code, 0, out)
  md, report = read(dir .. "/dev.report.md"), t.json(read(dir .. "/dev.report.json"))
  t.ok(md:find("- store: `dev.db`, backend `simulated`\n", 1, true), md)
  t.eq(report.backend.requested, "simulated")
  t.eq(report.backend.kind, "simulated")
  t.eq(report.backend.device, nil)
end)

t.test("a study whose held-out split is smaller than the default evaluation says once that its runs read it whole", function()
  local dir = t.fresh_dir(root)
  local script = [[
study "held" {
  data = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 1, tokens = TOKENS, document_tokens = 500 },
  model = { aspect = 16, vocab = 64, ctx = 32 },
  sweep = sweep.grid{ N = { 2e4, 4e4 }, D = { 8192 } },
  backend = "cpu",
}
]]
  write(dir .. "/held.lua", (script:gsub("TOKENS", "40000")))  -- one held-out document: 15 sequences of 32
  local code, out = scalelab(dir, "held.lua", "--jobs 1 --quiet")
  t.eq(code, 0, out)
  local note = "the held-out split holds 15 sequences of 32 tokens, fewer than the default evaluation's 16 batches"
  local first = out:find(note, 1, true)
  t.ok(first, out)
  t.ok(not out:find(note, first + 1, true), "said once: " .. out)
  t.ok(out:find("all 2 runs evaluate every held-out sequence once, each weighted equally", 1, true), out)
  -- A held-out split of many batches: the default evaluation as it was, and no note.
  local big = t.fresh_dir(root)
  write(big .. "/held.lua", (script:gsub("TOKENS", "400000")))  -- 8 documents: 124 sequences
  code, out = scalelab(big, "held.lua", "--jobs 1 --quiet")
  t.eq(code, 0, out)
  t.ok(not out:find("held-out split holds", 1, true), out)
end)

t.test("a study's small-split note covers every run to train, and is not said when none is left to train", function()
  local dir = t.fresh_dir(root)
  local script = [[
study "held" {
  data = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 1, tokens = 40000, document_tokens = 500 },
  model = { aspect = 16, vocab = 64, ctx = 32 },
  sweep = sweep.grid{ N = { NS }, D = { 8192 } },
  hyper = { batch = function(run) return run.N > 3e4 and 6 or 4 end },
  backend = "cpu",
}
]]
  local function with(ns) return (script:gsub("NS", ns)) end
  -- Two runs of batches 4 and 6: the note gives both sizes (it said "16 batches of 4 × 32" for both).
  write(dir .. "/held.lua", with("2e4, 4e4"))
  local code, out = scalelab(dir, "held.lua", "--jobs 1 --quiet")
  t.eq(code, 0, out)
  t.ok(out:find("the held-out split holds 15 sequences of 32 tokens, fewer than the default evaluation's 16 batches "
    .. "of 4 to 6 × 32: all 2 runs evaluate every held-out sequence once", 1, true), out)
  -- Run again, every run done: nothing will be evaluated, and nothing is said.
  code, out = scalelab(dir, "held.lua", "--jobs 1 --quiet")
  t.eq(code, 0, out)
  t.ok(not out:find("held-out split holds", 1, true), out)
  -- A third point: only the run to train is counted.
  write(dir .. "/held.lua", with("2e4, 4e4, 6e4"))
  code, out = scalelab(dir, "held.lua", "--jobs 1 --quiet")
  t.eq(code, 0, out)
  t.ok(out:find("16 batches of 6 × 32: the run to train evaluates every held-out sequence once", 1, true), out)
  -- Runs whose eval_tokens ask for more than the split read it once too, and the note says so.
  local asked = t.fresh_dir(root)
  write(asked .. "/held.lua", (with("2e4, 4e4"):gsub('backend = "cpu",', 'backend = "cpu", eval = { tokens = 1000 },')))
  code, out = scalelab(asked, "held.lua", "--jobs 1 --quiet")
  t.eq(code, 0, out)
  t.ok(out:find("the held-out split holds 15 sequences of 32 tokens, fewer than eval_tokens = 1000: all 2 runs "
    .. "evaluate every held-out sequence once", 1, true), out)
end)

t.test("the small-split note names the runs that resume an earlier version's checkpoint, which go on going round the split", function()
  -- It said that every run to train reads the split once, while a run resuming a checkpoint of an
  -- earlier scalelab (whose evaluations went round the split) goes on measuring as that one did.
  local executor = require "scalelab.study.executor"
  local dir = t.fresh_dir(root)
  local s = { spec = { data = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 1, tokens = 40000,
                                                document_tokens = 500 } },
              backend_kind = "cpu", checkpoint_dir = dir }
  s.runs = { { hash = "a", ordinal = 1, batch = 4, shape = { ctx = 32 } },
             { hash = "b", ordinal = 2, batch = 4, shape = { ctx = 32 } } }
  local function checkpoint(hash, measure)
    local print = "GPT(L=1, d=16); backend cpu; batch 4 x 32; steps 64; seed 1" .. (measure and "; held-out " .. measure or "")
    t.write_file(dir .. "/" .. hash .. ".ckpt", string.pack("=s8s8", "scalelab-checkpoint-3", print) .. "rest")
  end
  local note = executor.held_out_note(s, s.runs)
  t.ok(note:find("16 batches of 4 × 32: all 2 runs evaluate every held-out sequence once", 1, true), note)
  -- This version's checkpoint (the split read whole) resumes reading it once.
  checkpoint("a", "4 x 4 x 32, 15 rows")
  t.eq(executor.held_out_note(s, s.runs), note)
  -- An earlier version's, going round the 15 sequences in 16 batches of 4.
  checkpoint("a", "16 x 4 x 32")
  note = executor.held_out_note(s, s.runs)
  t.ok(note:find("16 batches of 4 × 32: 1 of the 2 runs evaluates every held-out sequence once, each weighted "
    .. "equally, but run 1 resumes a checkpoint of an earlier scalelab whose evaluations went round the split rather "
    .. "than reading it once, and goes on measuring so, for a curve measured alike (remove its checkpoint in " .. dir
    .. " to train it again reading it once)", 1, true), note)
  -- A version that recorded no held-out measure went round it too; so both runs.
  checkpoint("b", nil)
  note = executor.held_out_note(s, s.runs)
  t.ok(note:find("16 batches of 4 × 32: runs 1 and 2 resume a checkpoint of an earlier scalelab", 1, true), note)
  t.ok(not note:find("evaluates every held-out sequence once", 1, true), note)
end)

t.done()
