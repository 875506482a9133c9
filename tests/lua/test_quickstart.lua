-- The README's main job, scripts/quickstart.lua, end to end at a small compute budget (the budget file
-- the script keeps beside its store fixes it, so no calibration runs): real CPU training of the
-- IsoFLOP sweep, the fits, the planning answers, the report; then a rerun that trains nothing.
local t = require "scalelab.test"
local native = require "scalelab.native.study"

local source = assert(os.getenv("SCALELAB_SOURCE_DIR"), "SCALELAB_SOURCE_DIR is not set (run through ctest)")
local script = source .. "/scripts/quickstart.lua"
local dir = t.scratch("quickstart")

local read = t.read_file

local function quickstart(args)
  local code, output = t.run(dir, "'" .. script .. "' " .. (args or ""), { SCALELAB_QUICKSTART_STORE = "qs.db" })
  return code, output
end

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
    local N, lo, hi = out:match("the " .. law .. " fit says: train N = (%S+) parameters %(95%%: (%S+) to (%S+)%)")
    t.ok(N and lo and hi, "the " .. law .. " answer with its interval")
  end
  -- The free fit's E is compared with the true entropy, and the verdict matches the numbers printed.
  local lo, hi, truth = out:match("Fitted irreducible loss E = %S+ %(95%%: (%S+) to (%S+)%); the grammar's true entropy is (%S+) nats/token")
  lo, hi, truth = tonumber(lo), tonumber(hi), tonumber(truth)
  t.ok(lo and hi and truth, "the fitted E with its interval and the true entropy")
  if lo and hi and truth then
    if truth >= lo and truth <= hi then
      t.ok(out:find("The interval contains the true entropy.", 1, true), "the verdict: contains")
    else
      local by = tonumber(out:match("The interval misses the true entropy by (%S+) nats%."))
      t.ok(by and math.abs(by - math.max(lo - truth, truth - hi)) < 2e-3, "the verdict: misses, by the printed gap")
    end
  end
  t.ok(out:find("With E known, at 4.6e12 FLOP: train N = ", 1, true), "the answer with E held at the entropy")
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
end)

t.done()
