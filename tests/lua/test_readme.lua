-- The README's claims that a program can check: it opens with exactly the two commands (install,
-- build and quickstart; build and test), and its study example runs as the text around it says.
local t = require "scalelab.test"

local source = assert(os.getenv("SCALELAB_SOURCE_DIR"), "SCALELAB_SOURCE_DIR is not set (run through ctest)")
local readme = assert(t.read_file(source .. "/README.md"), "cannot read README.md")
local root = t.scratch("readme")

-- The fenced blocks of `lang` in order.
local function blocks(lang)
  local found = {}
  for body in readme:gmatch("```" .. lang .. "\n(.-)```") do found[#found + 1] = body end
  return found
end

t.test("the README opens with the two commands: setup, build and quickstart; setup, build and tests", function()
  local head = readme:sub(1, readme:find("\n## ", 1, true))
  local commands = {}
  for body in head:gmatch("```sh\n(.-)```") do commands[#commands + 1] = body end
  t.eq(#commands, 2, "two sh blocks before the first section")
  t.ok(commands[1]:find("^bash setup.sh && ") and commands[1]:find("build/scalelab scripts/quickstart.lua\n$"),
    "the first installs, builds and runs the quickstart: " .. tostring(commands[1]))
  t.ok(commands[2]:find("^bash setup.sh && ") and commands[2]:find("ctest ", 1, true),
    "the second builds and runs the tests: " .. tostring(commands[2]))
  -- .ci/run is that test command.
  local ci = t.read_file(source .. "/.ci/run") or ""
  t.ok(ci:find("ctest", 1, true), ".ci/run runs ctest")
end)

-- The README's lua block that contains `text`.
local function example(text)
  for _, body in ipairs(blocks("lua")) do
    if body:find(text, 1, true) then return body end
  end
end

local function study_example() return example('study "isoflop-markov"') end

t.test("the README's study example plans the runs the text says, and trains nothing in a dry run", function()
  local body = study_example()
  t.ok(body, "the README has the isoflop-markov study example")
  local dir = t.fresh_dir(root)
  t.write_file(dir .. "/isoflop.lua", body)
  local code, out = t.run(dir, "isoflop.lua --dry-run")
  t.eq(code, 0, out)
  local claimed = tonumber(readme:match("`scalelab isoflop.lua %-%-dry%-run` lists the (%d+) planned runs"))
  t.ok(claimed, "the README says how many runs the dry run lists")
  local planned = tonumber(out:match("study isoflop%-markov: (%d+) runs planned"))
  t.eq(planned, claimed, out)
  t.ok(not out:find("warning", 1, true), "no warning in the plan:\n" .. out)
  -- Each run's shape, as the README says models = { aspect =, ctx = } makes it: d_model / n_layer
  -- near the aspect (within model.shape_for's factor of 2), the context asked, and the data's
  -- vocabulary (64: params - non-embedding params = (vocab + ctx)·d_model).
  t.ok(readme:find("`models` turns each sweep point's N into a GPT: of `model.shape_for`'s shapes of about N parameters,\n"
    .. "the one whose d_model / n_layer is nearest `aspect`, with context `ctx` and the data's vocabulary", 1, true),
    "the README says what models = { aspect =, ctx = } means")
  local aspect, ctx = tonumber(body:match("aspect = (%d+)")), tonumber(body:match("ctx = (%d+)"))
  local vocab = tonumber(body:match("vocab = (%d+)"))
  local shapes = 0
  for non_emb, params, layers, width, run_ctx in out:gmatch("\n%s+%d+%s+(%S+)%s+(%S+)%s+(%d+)×(%d+), %d+ %(ctx (%d+)%)") do
    shapes = shapes + 1
    local ratio = tonumber(width) / tonumber(layers)
    t.ok(ratio >= aspect / 2 and ratio <= aspect * 2, "d_model / n_layer = " .. ratio .. " for aspect " .. aspect)
    t.eq(tonumber(run_ctx), ctx)
    local m = model.gpt { vocab = vocab, ctx = ctx, d_model = tonumber(width), n_layer = tonumber(layers),
                          n_head = tonumber(out:match(layers .. "×" .. width .. ", (%d+)")) }
    local units = require "scalelab.native.core"
    t.eq(params, units.format_count(m.params))
    t.eq(non_emb, units.format_count(m.non_embedding_params))
  end
  t.eq(shapes, claimed, "a shape for every run:\n" .. out)
  t.eq(t.read_file(dir .. "/isoflop-markov.db"), nil, "a dry run writes no store")
end)

t.test("the README's study example runs end to end (on the simulated backend, for speed)", function()
  local body = study_example()
  t.ok(body, "the README has the isoflop-markov study example")
  -- The same study with its runs' losses drawn from a law instead of trained: Chinchilla's
  -- exponents, coefficients small enough that these tiny models stay below ln(64), where the
  -- simulated backend caps a 64-token vocabulary's loss.
  local simulated, replaced = body:gsub('study "isoflop%-markov" {\n', 'study "isoflop-markov" {\n' ..
    '  backend = { kind = "simulated", law = { E = 1.0, A = 20, B = 30, alpha = 0.34, beta = 0.28 }, noise = 0.002 },\n', 1)
  t.eq(replaced, 1, "the study line is where the test expects it")
  local dir = t.fresh_dir(root)
  t.write_file(dir .. "/isoflop.lua", simulated)
  local code, out = t.run(dir, "isoflop.lua")
  t.eq(code, 0, out)
  t.ok(out:find("IsoFLOP (approach 2): N_opt", 1, true), "the IsoFLOP fit:\n" .. out)
  t.ok(out:find("| compute-optimal allocation at 1.00e13 FLOP | isoflop |", 1, true), "the question's answer:\n" .. out)
  t.ok(t.read_file(dir .. "/isoflop-markov.report.md"), "the Markdown report beside the store")
  t.ok(t.read_file(dir .. "/isoflop-markov.report.json"), "the JSON report beside the store")
end)

-- The data-constrained law of Muennighoff et al., written out here from their paper (independent of
-- the fitter's and plan's code): the loss of N parameters on D tokens of which U are unique.
local function muennighoff(p, N, D, U)
  local G = (p.alpha * p.A / (p.beta * p.B)) ^ (1 / (p.alpha + p.beta))
  local D_eff = D
  if D > U then D_eff = U + U * p.R_D * (1 - math.exp(-(D / U - 1) / p.R_D)) end
  local U_N = math.min(N, (U * G) ^ (p.beta / p.alpha) * G)
  local N_eff = U_N + U_N * p.R_N * (1 - math.exp(-(N / U_N - 1) / p.R_N))
  return p.E + p.A / N_eff ^ p.alpha + p.B / D_eff ^ p.beta
end

-- Its compute-optimal N at C FLOP (C = 6ND) with U unique tokens, by brute force: a grid over ln N,
-- then the grid refined around its best point.
local function muennighoff_optimum(p, C, U)
  local best_loss, best_N = math.huge, nil
  local lo, hi = math.log(1e3), math.log(1e12)
  for _ = 1, 4 do
    local step = (hi - lo) / 2000
    for i = 0, 2000 do
      local N = math.exp(lo + i * step)
      local loss = muennighoff(p, N, C / (6 * N), U)
      if loss < best_loss then best_loss, best_N = loss, N end
    end
    lo, hi = math.log(best_N) - 2 * step, math.log(best_N) + 2 * step
  end
  return best_N, C / (6 * best_N), best_loss
end

t.test("the README's data-constrained study answers as the README says, and its intervals hold the law's truth", function()
  local body = example('study "epochs"')
  t.ok(body, "the README has the epochs study example")
  -- The law its backend simulates, from the example itself.
  local truth = {}
  for _, name in ipairs({ "E", "A", "B", "alpha", "beta", "R_D", "R_N" }) do
    truth[name] = tonumber(body:match("[{ ,]" .. name .. " = ([%d.e]+)"))
    t.ok(truth[name], name .. " in the example's law:\n" .. body)
  end
  -- Fresh tokens and no more parameters than they feed: Chinchilla's form.
  t.near(muennighoff(truth, 1e5, 1e9, 1e9), truth.E + truth.A / 1e5 ^ truth.alpha + truth.B / 1e9 ^ truth.beta, 1e-12)
  local C, U = tonumber(body:match("compute = ([%d.e]+)")), tonumber(body:match("unique_tokens = ([%d.e]+) }"))
  t.eq(C, 1e15)
  t.eq(U, 4e6)
  local N, D, loss = muennighoff_optimum(truth, C, U)
  -- The README's figures for the truth: N, D, epochs and loss.
  local tN, tD, tE, tL = readme:match("whose own answer%s+is ([%d.]+)M parameters on ([%d.]+)M tokens, ([%d.]+) epochs, loss ([%d.]+);")
  t.ok(tN, "the README states the law's own answer")
  t.eq(tN, string.format("%.3g", N / 1e6))
  t.eq(tD, string.format("%.3g", D / 1e6))
  t.eq(tE, string.format("%.3g", D / U))
  t.eq(tL, string.format("%.3f", loss))

  local dir = t.fresh_dir(root)
  t.write_file(dir .. "/epochs.lua", body)
  local code, out = t.run(dir, "epochs.lua")
  t.eq(code, 0, out)
  -- The report's row for the question: N, D, U, epochs, tokens/param and loss with their intervals.
  local row = out:match("| compute%-optimal allocation at 1%.00e15 FLOP with 4M unique tokens | data_constrained | ([^\n]*)")
  t.ok(row, "the question's answer in the report:\n" .. out)
  local cells = {}
  for cell in row:gmatch("([^|]*)|") do cells[#cells + 1] = cell:match("^%s*(.-)%s*$") end
  local function parse(cell)
    local units = { k = 1e3, M = 1e6, B = 1e9 }
    local function number(text)
      local value, suffix = text:match("^([%d.e+-]+)(%a?)$")
      return tonumber(value) * (units[suffix] or 1)
    end
    local v, lo, hi = cell:match("^(%S+) %[(%S+), (%S+)%]$")
    t.ok(v, "a value with its interval: " .. cell)
    return number(v), number(lo), number(hi)
  end
  local fN, fN_lo, fN_hi = parse(cells[2])
  local _, fD_lo, fD_hi = parse(cells[3])
  local fE, fE_lo, fE_hi = parse(cells[5])
  local fL, fL_lo, fL_hi = parse(cells[7])
  -- The script's last line prints s.answers[1].answer.epochs, the table's epochs.
  local printed = tonumber(out:match("\n([%d.]+)\n[^\n]*$") or out:match("^([%d.]+)\n"))
  t.ok(printed, "the script prints the answer's epochs:\n" .. out)
  t.near(printed, fE, 5e-3)
  -- The README quotes the fit's answer as the report gives it.
  local rN, rN_lo, rN_hi, rE, rE_lo, rE_hi, rL, rL_lo, rL_hi = readme:match("the fit answers ([%d.]+)M %[([%d.]+)k, ([%d.]+)M%]%s+"
    .. "parameters for ([%d.]+) %[([%d.]+), ([%d.]+)%] epochs, loss ([%d.]+) %[([%d.]+), ([%d.]+)%]")
  t.ok(rN, "the README quotes the fit's answer")
  t.near(fN, rN * 1e6, 0.02); t.near(fN_lo, rN_lo * 1e3, 0.05); t.near(fN_hi, rN_hi * 1e6, 0.05)
  t.near(fE, tonumber(rE), 0.02); t.near(fE_lo, tonumber(rE_lo), 0.05); t.near(fE_hi, tonumber(rE_hi), 0.05)
  t.near(fL, tonumber(rL), 1e-3); t.near(fL_lo, tonumber(rL_lo), 1e-3); t.near(fL_hi, tonumber(rL_hi), 1e-3)
  -- And the fit's 95% intervals hold the truth.
  t.ok(fN_lo <= N and N <= fN_hi, string.format("N's interval [%g, %g] holds the truth %g", fN_lo, fN_hi, N))
  t.ok(fD_lo <= D and D <= fD_hi, string.format("D's interval [%g, %g] holds the truth %g", fD_lo, fD_hi, D))
  t.ok(fE_lo <= D / U and D / U <= fE_hi, string.format("the epochs' interval [%g, %g] holds the truth %g", fE_lo, fE_hi, D / U))
  t.ok(fL_lo <= loss and loss <= fL_hi, string.format("the loss's interval [%g, %g] holds the truth %g", fL_lo, fL_hi, loss))
end)

-- Its dry run, which the README teaches a section before: the plan the text describes, and the
-- script ends with status 0 (it read s.answers, nil in a dry run, and so failed with status 1).
t.test("the README's data-constrained study plans its runs in a dry run and ends there with status 0", function()
  local body = example('study "epochs"')
  t.ok(body, "the README has the epochs study example")
  local dir = t.fresh_dir(root)
  t.write_file(dir .. "/epochs.lua", body)
  local code, out, err = t.run(dir, "epochs.lua --dry-run")
  t.eq(code, 0, out)
  t.eq(err, "", "nothing on standard error")
  local sizes, Us, epochs, runs = readme:match("D = U·epochs: here (%d+) sizes, (%d+) U and (%d+) epochs, (%d+) runs")
  t.ok(sizes, "the README says how many runs the sweep crosses")
  t.eq(tonumber(runs), tonumber(sizes) * tonumber(Us) * tonumber(epochs))
  t.eq(tonumber(out:match("study epochs: (%d+) runs planned")), tonumber(runs), out)
  t.eq(t.read_file(dir .. "/epochs.db"), nil, "a dry run writes no store")
end)

-- The way back from an export: the README's commands, as it writes them, on a store of a study
-- named dc (a data-constrained sweep drawn from Muennighoff et al.'s law): the export of its finished
-- runs, fit.read_csv of it (the store's runs, N all parameters, U = D for a run on fresh tokens, read
-- by a fit), store.open's runs, and scalelab -i on the script, which trains nothing again.
t.test("the README's export, fit.read_csv, store.open and -i read a stored study back", function()
  local results = readme:match("`(scalelab results dc%.db [^`]*%-%-csv runs%.csv)`")
  local read_csv = readme:match("`(fit%.read_csv%(\"runs%.csv\", {[^`]*}%))`")
  local open = readme:match("`(store%.open%(\"dc%.db\"[^`]*%))`")
  local runs = readme:match("`(:runs{[^`]*})`")
  t.ok(results and read_csv and open and runs, "the README's export, fit.read_csv, store.open and :runs calls")
  t.ok(readme:find("`scalelab -i dc.lua`", 1, true), "the README's scalelab -i")
  local dir = t.script(root, [[
s = study "dc" {
  backend = { kind = "simulated", law = fit.published.datablations, noise = 0.005 },
  models  = { aspect = 32, ctx = 256, vocab = 256 },
  sweep   = sweep.data_constrained{ unique_tokens = { 1e9, 1e10 }, epochs = { 1, 4 }, sizes = sweep.log(1e8, 1e9, 3) },
  fits    = { chinchilla = { bootstrap = 0 } },
  report  = false,
}
]], "dc.lua")
  local code, out = t.run(dir, "dc.lua")
  t.eq(code, 0, out)
  code, out = t.run(dir, (results:gsub("^scalelab ", "")))
  t.eq(code, 0, out)
  local stored = {}
  for _, r in pairs(t.stored_runs(dir .. "/dc.db")) do stored[#stored + 1] = r end
  table.sort(stored, function(a, b) return a.ordinal < b.ordinal end)
  t.eq(#stored, 12)
  local obs = assert(load("return " .. read_csv:gsub('"runs%.csv"', string.format("%q", dir .. "/runs.csv"))))()
  t.eq(obs.size, #stored)
  for i, r in ipairs(stored) do
    t.eq(obs.N[i], r.params)
    t.eq(obs.D[i], r.tokens)
    t.eq(obs.U[i], r.unique_tokens or r.tokens)
    t.eq(obs.loss[i], r.loss)
  end
  t.eq(fit.chinchilla(obs).N_counts, "all", "a fit of the export counts N as the study did")
  -- The README's C = "flops" and "flops_kaplan": each run's compute as 6·N·D, or with attention, recorded.
  t.ok(readme:find('`C = "flops"` adds each run\'s compute as 6·N·D, `"flops_kaplan"` with attention', 1, true),
    "the README's C columns")
  local mapping = read_csv:match("({.*})"):gsub("}$", ', C = "flops" }')
  local with_C = fit.read_csv(dir .. "/runs.csv", assert(load("return " .. mapping))())
  for i, r in ipairs(stored) do t.near(with_C.C[i], 6 * r.params * r.tokens, 1e-9) end
  local kaplan = fit.read_csv(dir .. "/runs.csv", assert(load("return " .. mapping:gsub('"flops"', '"flops_kaplan"')))())
  for i, r in ipairs(stored) do t.ok(kaplan.C[i] > with_C.C[i], "attention adds to 6·N·D") end
  local db = assert(load("return " .. open:gsub('"dc%.db"', string.format("%q", dir .. "/dc.db"))))()
  t.eq(#assert(load("local db = ...; return db" .. runs))(db), #stored)
  db:close()
  t.write_file(dir .. "/in.txt", "print('OBSERVATIONS', #s:observations())\n")
  code, out = t.run(dir, "-i dc.lua < in.txt")
  t.eq(code, 0, out)
  t.ok(out:find("OBSERVATIONS\t12\n"), out)
  t.ok(out:find("12 done, 0 to simulate", 1, true), "nothing drawn again:\n" .. out)
end)

-- The README's REPL sessions: its lua blocks that begin at a "> " prompt, as entries (a ">> " line
-- continues the entry above) with the lines the README shows each printing.
local function sessions()
  local found = {}
  for _, body in ipairs(blocks("lua")) do
    if body:find("^> ") then
      local entries = {}
      for line in body:gmatch("([^\n]*)\n") do
        if line:find("^> ") then entries[#entries + 1] = { code = line:sub(3), shown = {} }
        elseif line:find("^>> ") then entries[#entries].code = entries[#entries].code .. "\n" .. line:sub(4)
        else table.insert(entries[#entries].shown, line) end
      end
      found[#found + 1] = entries
    end
  end
  return found
end

-- Types the entries into the REPL itself (scalelab -i reads them from a pipe, as from a terminal but
-- without prompts), each followed by a marker; returns the exit status, what each entry printed (a
-- list of lines per entry) and standard error.
local MARK = "<<end of a README entry>>"
local function run_session(entries, edit)
  local dir = t.fresh_dir(root)
  local input = {}
  for i, entry in ipairs(entries) do
    input[#input + 1] = edit and edit(i, entry.code) or entry.code
    input[#input + 1] = 'do print("' .. MARK .. '") end'
  end
  t.write_file(dir .. "/session.txt", table.concat(input, "\n") .. "\n")
  local code, out, err = t.run(dir, "-i -e '' < session.txt", { COLUMNS = "100" })
  local printed, lines = {}, {}
  for line in out:sub(1, #out - #err):gmatch("([^\n]*)\n") do
    if line == MARK then printed[#printed + 1] = lines; lines = {} else lines[#lines + 1] = line end
  end
  return code, printed, err
end

local function session_with(text)
  for _, entries in ipairs(sessions()) do
    for _, entry in ipairs(entries) do
      if entry.code:find(text, 1, true) then return entries end
    end
  end
end

-- Runs the README's session that has an entry containing `text` (what: its name) and checks that it
-- runs without error and that every entry the README shows output for prints just that; returns
-- the session's entries and what each printed.
local function check_shown_session(text, what)
  local entries = session_with(text)
  t.ok(entries, "the README has the " .. what)
  local code, printed, err = run_session(entries)
  t.eq(code, 0, err)
  t.eq(err, "", "nothing on standard error")
  t.eq(#printed, #entries, "every entry ran")
  for i, entry in ipairs(entries) do
    if #entry.shown > 0 then
      t.eq(table.concat(printed[i], "\n"), table.concat(entry.shown, "\n"), "what '" .. entry.code .. "' prints")
    end
  end
  return entries, printed
end

t.test("the README's model session prints what the README shows", function()
  local _, printed = check_shown_session("model.gpt{ vocab = 50257", "model session")
  -- help(model), last, documents both functions.
  local help = table.concat(printed[#printed], "\n")
  t.ok(help:find("model.gpt{", 1, true) and help:find("model.shape_for{", 1, true), help)
end)

-- The laws session: what each entry prints is what the README shows, and its numbers are checked
-- against the law's formulas written out here: the loss, Chinchilla's closed-form allocation
-- (N_opt = G·(C/6)^a), the data-constrained optimum by brute force (muennighoff_optimum, above) and
-- REFERENCE's figures for it (about 7.0B parameters on 237B tokens, 9.5 epochs), and the GPU-hours.
t.test("the README's laws session prints what the README shows, and its numbers are the laws'", function()
  local entries, printed = check_shown_session("fit.published.chinchilla", "laws session")
  local shown = {}
  for i, entry in ipairs(entries) do shown[i] = table.concat(entry.shown, "\n") end
  -- Its entries without output print nothing.
  for i, entry in ipairs(entries) do
    if #entry.shown == 0 then t.eq(table.concat(printed[i], "\n"), "", "what '" .. entry.code .. "' prints") end
  end
  local function entry_with(text)
    for i, entry in ipairs(entries) do
      if entry.code:find(text, 1, true) then return shown[i], entry.code end
    end
  end
  -- The loss of 70B on 1.4T tokens: E + A/N^alpha + B/D^beta with the published constants.
  local E, A, B, alpha, beta = 1.69, 406.4, 410.7, 0.34, 0.28
  local loss = entry_with("law:predict{ N = 70e9, D = 1.4e12 }")
  t.near(tonumber(loss), E + A / 70e9 ^ alpha + B / 1.4e12 ^ beta, 1e-12)
  -- The compute-optimal N and D at 5.76e23 FLOP, in closed form.
  local function optimal_N(C, a_, b_)
    local G = (a_ * A / (b_ * B)) ^ (1 / (a_ + b_))
    return G * (C / 6) ^ (b_ / (a_ + b_))
  end
  local N = optimal_N(5.76e23, alpha, beta)
  local block = entry_with("law:optimal(5.76e23)")
  t.eq(block:match("params%s+(%S+)"), string.format("%.1fB", N / 1e9))
  t.eq(block:match("tokens%s+(%S+)"), string.format("%.2fT", 5.76e23 / (6 * N) / 1e12))
  t.eq(block:match("loss%s+(%S+)"), string.format("%.4f", E + A / N ^ alpha + B / (5.76e23 / (6 * N)) ^ beta))
  local unrounded = entry_with("alpha = 0.3392, beta = 0.2849")
  t.near(tonumber(unrounded), optimal_N(5.76e23, 0.3392, 0.2849), 1e-9)
  -- The text's figures: 32B, 40B.
  t.ok(readme:find("Gopher's budget on " .. string.format("%.0f", N / 1e9) .. "B parameters", 1, true), "32B in the text")
  t.ok(readme:find("exponents unrounded (0.3392, 0.2849 for the printed 0.34, 0.28) puts it on "
    .. string.format("%.0f", optimal_N(5.76e23, 0.3392, 0.2849) / 1e9) .. "B", 1, true),
    "40B in the text")
  -- The optimum at Gopher's budget counted as PaLM counts it (6N + 12·L·T·d per token, L and d the
  -- shape of N at d/L = 64): the root of the stationarity condition of L(N, C/M(N)),
  -- αA·N^-α·M(N) = βB·D^-β·N·M'(N) with D = C/M(N), bisected in ln N here.
  local palm = entry_with('flops = { "palm", ctx = 2048 }')
  t.ok(palm, "the laws session has an optimum counted with attention")
  local function M(n) return 6 * n + 12 * (2048 / 64) * (64 * n / 12) ^ (2 / 3) end
  local function dM(n) return 6 + 12 * (2048 / 64) * (2 / 3) * (64 / 12) ^ (2 / 3) * n ^ (-1 / 3) end
  local function stationary(n)
    local d = 5.76e23 / M(n)
    return alpha * A * n ^ -alpha * M(n) - beta * B * d ^ -beta * n * dM(n)
  end
  local lo, hi = math.log(1e9), math.log(1e12)
  for _ = 1, 200 do
    local mid = (lo + hi) / 2
    if stationary(math.exp(mid)) > 0 then lo = mid else hi = mid end
  end
  local Np = math.exp((lo + hi) / 2)
  local Dp = 5.76e23 / M(Np)
  t.eq(palm:match("params%s+(%S+)"), string.format("%.1fB", Np / 1e9))
  t.eq(palm:match("\n  tokens%s+(%S+)"), string.format("%.3gT", Dp / 1e12))
  t.eq(palm:match("\n  loss%s+(%S+)"), string.format("%.4f", E + A / Np ^ alpha + B / Dp ^ beta))
  t.ok(palm:find("C = (6N + 12·L·T·d)·D", 1, true), palm)
  -- The text's claims: fewer tokens than the 6·N·D optimum, and a rule refuses the count.
  t.ok(Dp < 5.76e23 / (6 * N), "fewer tokens counted with attention")
  t.ok(readme:find("gives N_opt(C) for budgets of 6·N·D, as its runs were counted, and refuses any other count", 1, true))
  local ok, err = pcall(plan.optimal, { compute = 5.76e23, allocation = plan.published.chinchilla_approach1,
                                        flops = { "palm", ctx = 2048 } })
  t.ok(not ok and tostring(err):find("gives N_opt(C) for budgets counted as 6·N·D", 1, true), tostring(err))
  -- The data-constrained optimum at 1e22 FLOP and 25B unique tokens, by brute force.
  local dc = entry_with("unique_tokens = 25e9")
  local Nd, Dd = muennighoff_optimum(fit.published.datablations.params, 1e22, 25e9)
  t.eq(dc:match("params%s+(%S+)"), string.format("%.2fB", Nd / 1e9))
  t.eq(dc:match("\n  tokens%s+(%S+)"), string.format("%.0fB", Dd / 1e9))
  t.eq(dc:match("epochs%s+(%S+)"), string.format("%.2f", Dd / 25e9))
  -- REFERENCE: about 7.0B parameters on 237B tokens (9.5 epochs).
  t.near(Nd, 7.0e9, 0.01)
  t.near(Dd, 237e9, 0.005)
  t.ok(readme:find(dc:match("epochs%s+(%S+)") .. " epochs over the 25B tokens, " .. dc:match("cost of the data limit%s+(0%.%d%d%d)")
    .. " nats worse", 1, true), "the text's epochs and cost of the data limit")
  -- 1e22 FLOP on H100s (989 TFLOP/s peak) at 40% MFU, and in PF-days (8.64e19 FLOP).
  local cost = entry_with("plan.cost{")
  t.eq(cost:match("= (%d+) PF%-days"), string.format("%.0f", 1e22 / 8.64e19))
  t.eq(cost:match("(%S+) H100%-hours"), string.format("%.2fk", 1e22 / (989e12 * 0.4) / 3600 / 1e3))
end)

-- The training session trains for about 30 s on 2 cores; here its train.run trains 4 steps (tokens =
-- 5000, every other option as the README gives it), so that the session's calls, the summary's form
-- and the fields it reads are checked on each test run. The README's figures for the whole run are
-- checked against what the program computes for it: its steps, tokens and FLOP (formatted as the
-- summary formats them) and the source's entropy rate. Its losses (2.699) come from the run itself.
t.test("the README's training session runs, and its summary is the one the program prints", function()
  local entries = session_with("train.run{")
  t.ok(entries, "the README has the training session")
  local run_entry
  for i, entry in ipairs(entries) do
    if entry.code:find("train.run{", 1, true) then run_entry = i end
  end
  local code, printed, err = run_session(entries, function(i, text)
    if i ~= run_entry then return text end
    local edited, n = text:gsub("tokens = 1e6, ", "tokens = 5000, ")
    t.eq(n, 1, "the run's tokens = 1e6 is where the test expects it: " .. text)
    return edited
  end)
  t.eq(code, 0, err)
  t.eq(err, "", "nothing on standard error")
  t.eq(#printed, #entries, "every entry ran")
  local shown, summary
  for i, entry in ipairs(entries) do
    if #entry.shown > 0 then
      t.eq(#entry.shown, 1, "one line shown for " .. entry.code)
      shown, summary = entry.shown[1], table.concat(printed[i], "\n")
    end
  end
  t.ok(shown, "the README shows the run's summary")
  -- The summary of the 4-step run, and the README's with its numbers in their places: loss, best,
  -- tokens, tokens asked, steps and FLOP; the time, then the speed (the README leaves it out: "...").
  local number = "[%d.]+[kMGT]?"
  local function fields_of(line, speed)
    return line:match("^done: held%-out loss (" .. number .. ") %(best (" .. number .. ")%) after (" .. number
      .. ") tokens %(tokens = (%d+) rounded down to (%d+) whole steps%), ([%de.]+) FLOP %(Kaplan's "
      .. "D·%(6N %+ 6·L·T·d%), N non%-embedding%), [%d.]+ m?s, " .. speed .. "$")
  end
  local loss, _, _, asked, steps, flops, speed = fields_of(summary, "(.*)")
  t.ok(loss, "the 4-step run's summary has the README's form:\n" .. summary)
  t.eq(asked, "5000")
  t.eq(steps, "4")
  t.ok(speed and speed:find("tokens/s", 1, true) and speed:find("FLOP/s on cpu", 1, true), summary)
  local r_loss, r_best, r_tokens, r_asked, r_steps, r_flops = fields_of(shown, "%.%.%.")
  t.ok(r_loss, "the README's summary has the program's form:\n" .. shown)
  -- The whole run's figures: 1e6 tokens in steps of 16 rows of 64 tokens, FLOP = D·flops_per_token.
  local units = require "scalelab.native.core"
  local m = model.gpt{ vocab = 64, ctx = 64, d_model = 128, n_layer = 4, n_head = 2 }
  local whole_steps = math.floor(1e6 / (16 * 64))
  t.eq(r_asked, "1000000")
  t.eq(tonumber(r_steps), whole_steps)
  t.eq(r_tokens, units.format_count(whole_steps * 16 * 64))
  t.eq(r_flops, units.format_flops(whole_steps * 16 * 64 * m.flops_per_token))
  -- The 4-step run counts its FLOP so too.
  t.eq(flops, units.format_flops(4 * 16 * 64 * m.flops_per_token))
  -- The comment's entropy rate, and a held-out loss above it.
  local rate = shown and entries[#entries].code:match("the entropy rate is ([%d.]+)")
  local src = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 3, tokens = 2e6 }
  t.eq(rate, string.format("%.3f", src.entropy_per_token))
  t.ok(tonumber(r_loss) > src.entropy_per_token and tonumber(r_best) <= tonumber(r_loss), shown)
  -- The last entry reads r.loss, r.tokens_per_second, r.flops and src.entropy_per_token: four numbers.
  local values = printed[#printed][1] or ""
  local fields = {}
  for v in values:gmatch("[^\t]+") do fields[#fields + 1] = tonumber(v) end
  t.eq(#fields, 4, "four numbers: " .. values)
  t.near(fields[1], tonumber(loss), 1e-3)
  t.near(fields[3], 4 * 16 * 64 * m.flops_per_token, 1e-9)
  t.near(fields[4], src.entropy_per_token, 1e-12)
end)

t.done()
