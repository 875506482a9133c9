-- The README's main job, scripts/quickstart.lua, end to end at a small compute budget (the budget file
-- the script keeps beside its store fixes it, so no calibration runs): real CPU training of the
-- IsoFLOP sweep, the fits, the planning answers, the report; then a rerun that trains nothing.
local t = require "scalelab.test"
local native = require "scalelab.native.study"

local source = assert(os.getenv("SCALELAB_SOURCE_DIR"), "SCALELAB_SOURCE_DIR is not set (run through ctest)")
local script = source .. "/scripts/quickstart.lua"
local dir = t.scratch("quickstart")

local read = t.read_file

local function quickstart(args, where)
  local code, output = t.run(where or dir, "'" .. script .. "' " .. (args or ""), { SCALELAB_QUICKSTART_STORE = "qs.db" })
  return code, output
end

-- Its options, before any work and in a folder of their own, with no budget file: --help and a bad
-- option neither build the data nor calibrate (nothing is printed before the usage) nor leave a
-- file; a dry run calibrates, times the plan by the measured speed and saves nothing.
-- Returns the exit status, the output and the files left: the budget file and the store (nil: none).
local function in_fresh_folder(option)
  local fresh = t.fresh_dir(dir .. "/options")
  local code, out = quickstart(option, fresh)
  return code, out, read(fresh .. "/qs.budget"), read(fresh .. "/qs.db")
end

t.test("--help says what the quickstart does and how it is run, at once, and leaves nothing behind", function()
  for _, option in ipairs { "--help", "-h" } do
    local code, out, budget, store = in_fresh_folder(option)
    t.eq(code, 0, out)
    t.ok(out:find("^A complete scaling study on this machine: an IsoFLOP sweep"),
      option .. " says what the script does first, with no work before it:\n" .. out)
    t.ok(out:find("\nusage: scalelab scripts/quickstart.lua [--dry-run | -n] [--jobs N | -j N] [--quiet | -q]\n", 1, true),
      "its own usage, with no arguments after --:\n" .. out)
    t.ok(out:find("--dry-run, -n", 1, true), out)
    t.ok(out:find("SCALELAB_QUICKSTART_STORE", 1, true) and out:find("SCALELAB_QUICKSTART_SECONDS", 1, true),
      "the environment variables it reads:\n" .. out)
    t.ok(not out:find("calibration:", 1, true) and not out:find("data:", 1, true), out)
    t.eq(budget, nil, option .. " writes no budget file")
    t.eq(store, nil, option .. " makes no store")
  end
end)

t.test("an unknown option exits 2 with the usage, before any work", function()
  local code, out, budget = in_fresh_folder("--dryrun")
  t.eq(code, 2, out)
  t.ok(out:find("unknown option '--dryrun'; did you mean '--dry-run'?", 1, true), out)
  -- The quickstart's own usage (it printed the generic study one, SCRIPT.lua).
  t.ok(out:find("usage: scalelab scripts/quickstart.lua [--dry-run | -n] ", 1, true), out)
  t.ok(not out:find("calibration:", 1, true), out)
  t.eq(budget, nil, "no budget file")
end)

t.test("an argument after -- exits 2 with the usage, before any work: the quickstart takes none", function()
  local code, out, budget = in_fresh_folder("-- 1e12")
  t.eq(code, 2, out)
  t.ok(out:find("quickstart.lua takes no arguments of its own (got -- 1e12)", 1, true), out)
  t.ok(out:find("usage: scalelab scripts/quickstart.lua ", 1, true), out)
  t.ok(not out:find("calibration:", 1, true) and not out:find("data:", 1, true), out)
  t.eq(budget, nil, "no budget file")
end)

-- The seconds of a printed duration ("850 ms", "67 s", "4.71 min").
local function seconds_of(text)
  local value, unit = text:match("^(%S+) (%S+)$")
  local scale = { ms = 1e-3, s = 1, min = 60, h = 3600, d = 86400 }
  return tonumber(value) and scale[unit] and tonumber(value) * scale[unit]
end

t.test("-n is --dry-run: it times the plan by the calibration and saves no budget", function()
  for _, option in ipairs { "-n", "--dry-run" } do
    local code, out, budget, store = in_fresh_folder(option)
    t.eq(code, 0, out)
    t.ok(out:find("calibration: ", 1, true), out)
    local estimate = out:match("total: %d+ runs %(%d+ to train%), %S+ FLOP, estimated (.-) on ")
    t.ok(out:find("FLOP/s for backend auto, given by the script: measured_speed)", 1, true), out)
    t.ok(not out:find("(assumed ", 1, true), out)
    -- The budget was chosen so that the calibration puts the sweep within the target (150 s) with a
    -- margin of 1.5: the estimate, by the same measurement, is within 100 s (whole steps add a
    -- little), unless the machine measured too slow for a sweep whose every budget has three sizes,
    -- which it then trains for longer, saying so.
    local target = tonumber(os.getenv("SCALELAB_QUICKSTART_SECONDS") or "") or 150
    local seconds = estimate and seconds_of(estimate)
    t.ok(seconds and (seconds <= 1.1 * target / 1.5 or out:find("quickstart: this machine trains too slowly", 1, true)),
      "estimated " .. tostring(estimate) .. ":\n" .. out)
    t.eq(budget, nil, option .. " saves no budget")
    t.eq(store, nil, option .. " makes no store")
  end
end)

-- A machine too slow for the time target (here a target of 1 s) chose a top budget whose lowest
-- budgets' sizes all fell below the smallest model and merged: an IsoFLOP study of two budgets, the
-- other two left out. It now trains the smallest sweep whose every budget has three sizes, for
-- longer, and says so and how long.
t.test("a machine too slow for the time target plans the smallest sweep whose every budget has three sizes, saying so", function()
  local fresh = t.fresh_dir(dir .. "/slow")
  local code, out = t.run(fresh, "'" .. script .. "' --dry-run", { SCALELAB_QUICKSTART_STORE = "qs.db", SCALELAB_QUICKSTART_SECONDS = "1" })
  t.eq(code, 0, out)
  local wanted, chosen, time = out:match("within it the top budget would be (%S+) FLOP, [^\n]* top budget (%S+) FLOP, about (.-) of training")
  t.ok(wanted, "the dry run says the machine is too slow for the target, and what it trains instead:\n" .. out)
  t.ok(tonumber(chosen) > tonumber(wanted), out)
  t.ok(out:find("quickstart: dry run: top budget " .. chosen .. " FLOP,", 1, true), out)
  t.ok(not out:find("distinct model size", 1, true), "no budget left with fewer than three sizes:\n" .. out)
  -- Every budget of the plan has three sizes or more: its table's rows by their FLOPs column.
  local sizes = {}
  for line in out:gmatch("[^\n]+") do
    local flops = line:match("^%s+%d+%s.-(%S+)%s+[%d.]+ %a+%s+new$")
    if flops then sizes[flops] = (sizes[flops] or 0) + 1 end
  end
  local budgets = 0
  for flops, count in pairs(sizes) do
    budgets = budgets + 1
    t.ok(count >= 3, "the budget " .. flops .. " has " .. count .. " sizes:\n" .. out)
  end
  t.eq(budgets, 4, "four budgets:\n" .. out)
  -- The time it says is about the dry run's estimate, by the same measurement (the estimate counts
  -- each run once where sizes merged, and whole steps).
  local estimate = seconds_of(out:match("total: %d+ runs %(%d+ to train%), %S+ FLOP, estimated (.-) on ") or "")
  t.ok(estimate and seconds_of(time) and math.abs(seconds_of(time) / estimate - 1) < 0.5, time .. " against the estimate:\n" .. out)
  t.eq(read(fresh .. "/qs.budget"), nil, "a dry run saves no budget")
end)

-- A top budget of 4.6e10 FLOP: four budgets from 1.7e9, about 15 s of training on 2 cores.
native.write_file(dir .. "/qs.budget", "4.6415888336127775e10\n")

t.test("the quickstart trains its IsoFLOP sweep, fits, and answers the planning question", function()
  local code, out = quickstart()
  t.eq(code, 0, out:sub(-3000))
  t.ok(out:find("entropy 0.74219 nats/token", 1, true), "the data line names the source's entropy")
  local runs = tonumber(out:match("study quickstart: (%d+) runs, 0 done"))
  t.ok(runs and runs >= 8, "runs planned: " .. tostring(runs))
  t.ok(not out:find("Not fitted", 1, true), "every fit was made:\n" .. out:sub(-3000))
  -- The IsoFLOP analysis uses its budgets' minima; the answers come with intervals.
  t.ok(out:find("IsoFLOP (approach 2): N_opt", 1, true), "IsoFLOP analysis")
  for _, law in ipairs { "chinchilla", "isoflop" } do
    -- N counts what the study's N counts (params = "non_embedding"), and the sentence says so.
    local N, lo, hi = out:match("the " .. law .. " fit says: train N = (%S+) non%-embedding parameters %(95%%: (%S+) to (%S+)%)")
    t.ok(N and lo and hi, "the " .. law .. " answer with its interval, in non-embedding parameters")
  end
  -- The chinchilla answer, 100 times beyond the compute fitted, is followed by its notes (it read as
  -- a finding whatever the fit was: on a slow machine, with parameters the fit could not determine).
  t.ok(out:find("the chinchilla fit says: train N = [^\n]*\n  note: "), out:sub(-3000))
  t.ok(out:find("\n  note: beyond the %d+ runs fitted: [^\n]*compute 100× the largest"), out:sub(-3000))
  -- The free fit's E is compared with the true entropy, and the verdict matches the numbers printed.
  local lo, hi, truth = out:match("Fitted irreducible loss E = %S+ %(95%%: (%S+) to (%S+)%); the grammar's true entropy is (%S+) nats/token")
  lo, hi, truth = tonumber(lo), tonumber(hi), tonumber(truth)
  t.ok(lo and hi and truth, "the fitted E with its interval and the true entropy")
  if lo and hi and truth then
    if truth >= lo and truth <= hi then
      t.ok(out:find("The interval contains the true entropy.", 1, true), "the verdict: contains")
    else
      local by = tonumber(out:match("The interval misses the true entropy by (%S+) nats[,.]"))
      t.ok(by and math.abs(by - math.max(lo - truth, truth - hi)) < 2e-3, "the verdict: misses, by the printed gap")
    end
  end
  -- The entropy rate is the floor of a model with unlimited context; these models see at most 64
  -- tokens (a row's first targets fewer), so it is a lower bound on their floor, as the text says
  -- (it called the rate "the floor", and put any fitted E above it down to the law's form).
  t.ok(out:find("nats/token, the floor of a model with unlimited context. These models see at most 64 tokens, and a "
    .. "row's first targets fewer, so their own floor lies above it: the entropy is a lower bound on the E these runs "
    .. "can show.", 1, true), out:sub(-3000))
  t.ok(out:find("The same law with E held at the known entropy (0.742, a lower bound on these models' floor):", 1, true),
    out:sub(-3000))
  if lo and truth and lo > truth then
    t.ok(out:find("nats, above it, where part of the gap is these models' floor lying above the entropy.", 1, true), out:sub(-3000))
  elseif hi and truth and hi < truth then
    t.ok(out:find("nats, below it, and so below any floor these models can reach.", 1, true), out:sub(-3000))
  end
  t.ok(out:find("With E known, at 4.6e12 FLOP: train N = %S+ non%-embedding parameters %(95%%: "),
    "the answer with E held at the entropy, in non-embedding parameters")
  t.ok(out:find("(held)", 1, true), "E is held in the second fit")
  local md = read(dir .. "/qs.report.md")
  t.ok(md and md:find("compute-optimal allocation at 4.64e12 FLOP", 1, true), "the Markdown report holds the question")
  t.ok(read(dir .. "/qs.report.json"), "the JSON report")
  -- A rerun trains nothing.
  local code2, out2 = quickstart()
  t.eq(code2, 0, out2:sub(-2000))
  t.ok(out2:find(string.format("study quickstart: %d runs, %d done, 0 to train", runs, runs), 1, true), out2:sub(1, 400))
end)

t.test("--dry-run plans the same sweep and trains nothing", function()
  local code, out = quickstart("--dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("total: ", 1, true), out)
  t.eq(read(dir .. "/qs.budget"), "4.6415888336127775e10\n", "the saved budget is kept as it was")
end)

t.done()
