-- The teaching demo scripts/repetition.lua: runs drawn from Muennighoff et al.'s data-constrained law,
-- fitted back, and "with C FLOP and U unique tokens, what N, how many epochs, what loss?" answered.
-- Its numbers are checked against the law written out here from the paper's formulas
-- (/work/shared/REFERENCE.md), not against the planner the demo calls.
local t = require "scalelab.test"

local source = assert(os.getenv("SCALELAB_SOURCE_DIR"), "SCALELAB_SOURCE_DIR is not set (run through ctest)")
local script = source .. "/scripts/repetition.lua"

-- Muennighoff et al.'s law from the paper's formulas, and its optimum at C FLOP with U unique tokens.
local datablations = require "datablations_law"
local TRUTH, loss, optimum = datablations.TRUTH, datablations.loss, datablations.optimum

-- "2.07B" -> 2.07e9 (format_count's suffixes).
local SUFFIX = { [""] = 1, k = 1e3, K = 1e3, M = 1e6, B = 1e9, T = 1e12, P = 1e15 }
local function number(text)
  local value, suffix = text:match("^(%-?[%d.]+e?[+%-]?%d*)(%a?)$")
  local scale = SUFFIX[suffix or ""]
  return value and scale and tonumber(value) and tonumber(value) * scale
end
-- "1.95B [1.64B, 2.46B]" -> 1.95e9, { 1.64e9, 2.46e9 } (percentages without their %).
local function with_interval(cell)
  cell = cell:gsub("%%", "")
  local v, lo, hi = cell:match("^(%S+) %[(%S+), (%S+)%]$")
  if v then return number(v), { number(lo), number(hi) } end
  return number(cell)
end
-- The cells of the table row whose first cell is `first`.
local function row(out, first)
  for line in out:gmatch("[^\n]+") do
    if line:sub(1, #first + 4) == "| " .. first .. " |" then
      local cells = {}
      for cell in line:sub(2):gmatch(" ([^|]-) |") do cells[#cells + 1] = cell end
      return cells
    end
  end
end

local function run(dir, args)
  return t.run(dir, "'" .. script .. "' " .. (args or ""))
end

local dir = t.scratch("repetition-demo")
local code, out = run(dir)

t.test("the demo runs with its defaults and says what it shows", function()
  t.eq(code, 0, out)
  t.ok(out:find("== Repeated data: with 1e21 FLOP and 5B unique tokens, what N, how many epochs, what loss? ==", 1, true), out)
  t.ok(out:find("210 runs drawn from Muennighoff et al.'s data-constrained law with 0.5% noise on each loss: 5 "
    .. "unique-token budgets (1B to 100B), 1 to 64 epochs, 6 sizes (10M to 3B), 6e16 to 1.1e23 FLOP.", 1, true), out)
  for _, part in ipairs { "-- 1. ", "-- 2. ", "-- 3. ", "-- 4. " } do t.ok(out:find(part, 1, true), part .. " in\n" .. out) end
end)

t.test("every fitted parameter's interval holds the true law's value, and the truth printed is the paper's", function()
  local printed = { E = 1.869, A = 520.8, B = 1488, alpha = 0.3527, beta = 0.3527, ["R_D*"] = 15.39, ["R_N*"] = 5.31 }
  local names = { E = "E", A = "A", B = "B", alpha = "alpha", beta = "beta", ["R_D*"] = "R_D", ["R_N*"] = "R_N" }
  for label, shown in pairs(printed) do
    local cells = row(out, label)
    t.ok(cells and #cells == 4, label .. " row in\n" .. out)
    t.near(number(cells[2]), shown, 1e-9)
    local value, iv = with_interval(cells[3])
    t.ok(value and iv and iv[1] <= TRUTH[names[label]] and TRUTH[names[label]] <= iv[2] and iv[1] <= value
      and value <= iv[2], label .. ": " .. cells[3])
    t.eq(cells[4], "yes")
  end
  -- R_D* and R_N* themselves close to the truth: within 15% and 25% (0.5% noise, 210 runs).
  t.near(with_interval(row(out, "R_D*")[3]), TRUTH.R_D, 0.15)
  t.near(with_interval(row(out, "R_N*")[3]), TRUTH.R_N, 0.25)
end)

t.test("the worth of repeated tokens is the law's, and the fit's intervals hold it", function()
  for _, e in ipairs { 2, 4, 16, 64 } do
    local cells = row(out, tostring(e))
    t.ok(cells and #cells == 5, e .. " epochs in\n" .. out)
    local worth = (1 + TRUTH.R_D * (1 - math.exp(-(e - 1) / TRUTH.R_D))) / e
    t.near(number((cells[2]:gsub("%%", ""))) / 100, worth, 0, 0.0006)
    -- The last epoch: what the e-th pass adds to D' (U·R_D*·(e^(-(e-2)/R_D*) - e^(-(e-1)/R_D*))), over
    -- U; not e^(-(e-1)/R_D*), the worth of the last token read (93.7% at 2 epochs, against 96.8%).
    local last = TRUTH.R_D * (math.exp(-(e - 2) / TRUTH.R_D) - math.exp(-(e - 1) / TRUTH.R_D))
    t.near(number((cells[4]:gsub("%%", ""))) / 100, last, 0, 0.0006)
    local _, last_iv = with_interval(cells[5])
    t.ok(last_iv[1] / 100 <= last and last <= last_iv[2] / 100, e .. " epochs, the last: " .. cells[5])
    local _, iv = with_interval(cells[3])
    t.ok(iv[1] / 100 <= worth and worth <= iv[2] / 100, e .. " epochs: " .. cells[3])
  end
  -- 4 epochs: 93.1% of fresh data; the half-life of a repetition's worth, R_D*·ln 2 = 10.7.
  local text = out:gsub("%s+", " ")  -- the sentences, however their lines break
  t.ok(text:find("Four epochs are worth 93.1% of as many fresh tokens", 1, true), out)
  t.ok(text:find("a repeated token's worth falls to half 10.7 repetitions in (R_D*·ln 2)", 1, true), out)
  -- At 64 epochs the last epoch adds 1.72% of a fresh one (its last token read, 1.67%).
  t.ok(text:find("At 64 epochs the whole is worth 25.2% and the last epoch 1.72%", 1, true), out)
end)

t.test("the question's answer: the true optimum, the fit's interval holding it, and the Chinchilla fit's error", function()
  local exact = optimum(1e21, 5e9)
  local truth = row(out, "the true law")
  t.ok(truth and #truth == 6, out)
  t.near(number(truth[2]), exact.N, 0.005)
  t.near(number(truth[3]), exact.D, 0.005)
  t.near(number(truth[4]), exact.epochs, 0.005)
  t.near(number(truth[5]), exact.loss, 0, 6e-5)
  -- The fit's answer: each interval holds the true value, and its plan scores within 0.001 of the optimum.
  local fitted = row(out, "data-constrained fit")
  for i, key in ipairs { "N", "D", "epochs", "loss" } do
    local _, iv = with_interval(fitted[i + 1])
    t.ok(iv and iv[1] <= exact[key] and exact[key] <= iv[2], key .. ": " .. fitted[i + 1] .. " vs " .. exact[key])
  end
  local N, D = with_interval(fitted[2]), with_interval(fitted[3])
  t.near(number(fitted[6]), loss(N, D, 5e9), 0, 2e-4)
  t.ok(number(fitted[6]) - exact.loss < 1e-3, fitted[6])
  -- The plain Chinchilla fit: its plan's true loss, which it underestimates at 16 epochs.
  local plain = row(out, "Chinchilla fit (repeats as new)")
  local pN, pD, predicted = with_interval(plain[2]), with_interval(plain[3]), with_interval(plain[5])
  t.near(number(plain[6]), loss(pN, pD, 5e9), 0, 2e-3)
  t.ok(predicted < number(plain[6]) - 0.02, "the Chinchilla fit predicts too low a loss: " .. table.concat(plain, " | "))
  t.ok(out:find(string.format("the 5B-token limit costs %.4f nats", exact.loss - optimum(1e21, 1e15).loss), 1, true), out)
  -- The fit's cost of the limit, with its own interval (the answer's limit_cost), holds the true cost.
  local said = out:match("%(the data%-constrained fit says ([^%)]+)%)")
  local fit_cost, cost_iv = with_interval(said or "")
  local true_cost = exact.loss - optimum(1e21, 1e15).loss
  t.ok(fit_cost and cost_iv and cost_iv[1] <= true_cost and true_cost <= cost_iv[2], tostring(said) .. " vs " .. true_cost)
end)

t.test("less and less unique data: the cost of the limit grows, as the law says, inside the fit's intervals", function()
  local fresh = optimum(1e21, 1e15)
  local previous = -1
  for k = 0, 5 do
    local U = fresh.D / 2 ^ k
    local exact = optimum(1e21, U)
    local cells
    for line in out:gmatch("[^\n]+") do
      local first = line:match("^| (%S+) |")
      if first and number(first) and math.abs(number(first) / U - 1) < 0.005 and select(2, line:gsub("|", "")) == 9 then
        cells = {}
        for cell in line:sub(2):gmatch(" ([^|]-) |") do cells[#cells + 1] = cell end
      end
    end
    t.ok(cells, "a row for U = " .. U .. " in\n" .. out)
    t.near(number(cells[2]), exact.epochs, 0.005)
    t.near(number(cells[4]), exact.N, 0.005)
    local gap = exact.loss - fresh.loss
    t.near(number(cells[6]), gap, 0, 6e-5)
    local _, iv = with_interval(cells[7])
    t.ok(iv and iv[1] - 1e-4 <= gap and gap <= iv[2] + 1e-4, "U " .. U .. ": " .. cells[7] .. " vs " .. gap)
    t.ok(gap > previous, "the cost grows as U shrinks")
    previous = gap
  end
end)

t.test("a second run in the same folder reuses the store and prints the same", function()
  local again_code, again = run(dir)
  t.eq(again_code, 0, again)
  t.ok(again == out, out .. "\n----\n" .. again)
  local dry_code, dry = run(dir, "--dry-run")
  t.eq(dry_code, 0, dry)
  t.ok(dry:find("total: 210 runs (0 to simulate)", 1, true), dry)
  t.ok(not dry:find("| parameter |", 1, true), dry)
end)

t.test("its own arguments ask another question of the same runs: Muennighoff et al.'s 1e22 FLOP, 25B tokens", function()
  local c, o = run(dir, "-- compute=1e22 unique_tokens=25e9")
  t.eq(c, 0, o)
  t.ok(o:find("== Repeated data: with 1e22 FLOP and 25B unique tokens", 1, true), o)
  -- The paper's check: about 7.0B parameters on 237B tokens, 9.5 epochs.
  local truth = row(o, "the true law")
  t.near(number(truth[2]), 7.03e9, 0.01)
  t.near(number(truth[3]), 237e9, 0.01)
  t.near(number(truth[4]), 9.49, 0.01)
  local dry_code, dry = run(dir, "--dry-run -- compute=1e22 unique_tokens=25e9")
  t.eq(dry_code, 0, dry)
  t.ok(dry:find("total: 210 runs (0 to simulate)", 1, true), dry)
  -- More noise draws the runs anew (beside the others in the store): R_D*'s interval widens.
  local noisy_code, noisy = run(dir, "-- noise=0.02")
  t.eq(noisy_code, 0, noisy)
  t.ok(noisy:find("with 2% noise on each loss", 1, true), noisy)
  local _, iv = with_interval(row(noisy, "R_D*")[3])
  local _, iv_default = with_interval(row(out, "R_D*")[3])
  t.ok(iv[2] - iv[1] > 2 * (iv_default[2] - iv_default[1]), row(noisy, "R_D*")[3] .. " vs " .. row(out, "R_D*")[3])
end)

-- The question far beyond the sweep: 1e26 FLOP with 100M unique tokens, about 1.5e8 epochs.
local far_code, far = run(dir, "-- compute=1e26 unique_tokens=1e8")

t.test("far beyond the sweep (1e26 FLOP, 100M unique tokens): epochs and tokens print in the one rule", function()
  t.eq(far_code, 0, far)
  -- Epochs printed as printf's "1.49e+08" and tokens as "14.9P": now 1.49e8 and 1.49e16, as FLOPs print.
  t.ok(not far:find("e+", 1, true), far)
  local truth = row(far, "the true law")
  t.ok(truth and #truth == 6, far)
  t.ok(truth[3]:match("^%d%.?%d*e1%d$"), "D in scientific form: " .. truth[3])
  t.ok(truth[4]:match("^%d%.?%d*e%d$"), "epochs in scientific form: " .. truth[4])
  -- The epochs are D / U of the plan printed (three digits each), and that far beyond 64.
  t.near(number(truth[4]), number(truth[3]) / 1e8, 0.01)
  t.ok(number(truth[4]) > 1e6, truth[4])
  local fitted = row(far, "data-constrained fit")
  t.ok(fitted[4]:match("^%d%.?%d*e%d %[%d%.?%d*e%d, %d%.?%d*e%d%]$"), "the fit's epochs and interval: " .. fitted[4])
end)

t.test("far beyond the sweep: the fit's answer says how far beyond its runs' 64 epochs it reads the law", function()
  t.eq(far_code, 0, far)
  -- The table showed 1.4e8 epochs from a law fitted on at most 64 without a word; the answer's note
  -- (how far beyond the runs fitted) was never printed.
  local fitted = row(far, "data-constrained fit")
  local note = far:match("Note %(the data%-constrained fit%): beyond the 210 runs fitted: [^\n]*")
  t.ok(note, "the fit's extrapolation note in\n" .. far)
  local factor = note and note:match("epochs (%S+)× the largest %(64%)")
  t.ok(factor, tostring(note))
  -- The factor is the fit's epochs over the runs' largest, 64.
  t.near(number(factor or "0"), number(fitted[4]:match("^%S+")) / 64, 0.05)
  -- The default question lies inside the runs: no such note.
  t.ok(not out:find("beyond the 210 runs fitted", 1, true), out)
end)

t.test("--help says what the demo is and names its own arguments, and draws nothing", function()
  for _, option in ipairs { "--help", "-h" } do
    local c, o = run(t.scratch("repetition-help"), option)
    t.eq(c, 0, o)
    t.ok(o:find("usage: scalelab scripts/repetition.lua [--dry-run | -n] [--jobs N | -j N] [--quiet | -q] "
      .. "[-- compute=C unique_tokens=U noise=x]", 1, true), o)
    for _, name in ipairs { "-- compute=C ", "-- unique_tokens=U ", "-- noise=x ", "default 1e21", "default 5e9", "default 0.005", "from 0 to 0.05" } do
      t.ok(o:find(name, 1, true), name .. " in\n" .. o)
    end
    t.ok(not o:find("| parameter |", 1, true) and not o:find("total:", 1, true), o)
  end
end)

t.test("bad arguments are refused with status 2, the usage and what was wrong", function()
  for _, case in ipairs {
    { "-- lots", "after -- give compute=C, unique_tokens=U or noise=x (got lots)" },
    { "-- epochs=4", "after -- give compute=C, unique_tokens=U or noise=x (got epochs=4)" },
    { "-- noise=0.5", "noise must be a number from 0 to 0.05 (got noise=0.5)" },
    { "-- compute=big", "compute must be a number from 1e18 to 1e26 (got compute=big)" },
    { "-- unique_tokens=1e3", "unique_tokens must be a number from 1e8 to 1e14 (got unique_tokens=1e3)" },
    { "-- compute=1e21 compute=1e22", "compute is given twice (compute=1e21 and compute=1e22)" },
    { "--frobnicate", "unknown option '--frobnicate'" },
  } do
    local c, o = run(t.scratch("repetition-bad"), case[1])
    t.eq(c, 2, case[1] .. ":\n" .. o)
    t.ok(o:find("usage: scalelab", 1, true), o)
    t.ok(o:find(case[2], 1, true), case[2] .. " in\n" .. o)
    t.ok(not o:find("| parameter |", 1, true), o)
  end
end)

t.done()
