-- The teaching demo scripts/approaches.lua: Chinchilla's three approaches on runs drawn from a
-- known law, each against the law's own allocation (a = β/(α+β) = 0.4516 for Chinchilla's law).
local t = require "scalelab.test"

local source = assert(os.getenv("SCALELAB_SOURCE_DIR"), "SCALELAB_SOURCE_DIR is not set (run through ctest)")
local script = source .. "/scripts/approaches.lua"
local TRUE_A = 0.28 / (0.34 + 0.28)

-- The table's rows: { a =, lo =, hi =, ratio = } by approach number.
local function rows(out)
  local found = {}
  for n, a, lo, hi, ratio in out:gmatch("| (%d): [^|]+| %d+ | ([%d.]+) %[([%d.]+), ([%d.]+)%] | [^|]+ | ([%d.]+) |") do
    found[tonumber(n)] = { a = tonumber(a), lo = tonumber(lo), hi = tonumber(hi), ratio = tonumber(ratio) }
  end
  return found
end

-- Runs the demo in its own folder with `args`; its output and table rows, after checking it succeeded.
local function demo(name, args)
  local code, out = t.run(t.scratch(name), "'" .. script .. "' " .. args)
  t.eq(code, 0, out)
  return out, rows(out)
end

t.test("without noise every approach finds the law's allocation", function()
  local out, r = demo("approaches-exact", "-- 0")
  t.ok(out:find("N_opt ∝ C^0.452; at 1e23 FLOP, N_opt = 14.6B", 1, true), out)
  for n = 1, 3 do
    t.ok(r[n], "row " .. n .. " in\n" .. out)
    t.near(r[n].a, TRUE_A, 0.01)
    t.near(r[n].ratio, 1, 0.06)
  end
end)

t.test("with the default noise each approach's interval holds the truth", function()
  local out, r = demo("approaches-noisy", "")
  t.ok(out:find("with 0.5% noise", 1, true), out)
  for n = 1, 3 do
    t.ok(r[n] and r[n].lo <= TRUE_A and TRUE_A <= r[n].hi, string.format("approach %d: %s", n, out))
  end
end)

t.test("a second run in the same folder reuses the stores and prints the same table", function()
  local dir = t.scratch("approaches-twice")
  local first = select(2, t.run(dir, "'" .. script .. "' -- 0.01"))
  local code, second = t.run(dir, "'" .. script .. "' -- 0.01")
  t.eq(code, 0, second)
  t.ok(#rows(first) == 3 and first == second, first .. "\n----\n" .. second)
end)

t.test("--dry-run prints the plans and fits nothing", function()
  local code, out = t.run(t.scratch("approaches-dry"), "'" .. script .. "' --dry-run")
  t.eq(code, 0, out)
  t.ok(out:find("total: 48 runs", 1, true) and out:find("total: 36 runs", 1, true), out)
  t.ok(not out:find("| approach |", 1, true), out)
end)

t.test("--help says what the demo is and names its own argument, the noise, and fits nothing", function()
  for _, option in ipairs { "--help", "-h" } do
    local code, out = t.run(t.scratch("approaches-help"), "'" .. script .. "' " .. option)
    t.eq(code, 0, out)
    t.ok(out:find("usage: scalelab scripts/approaches.lua [--dry-run | -n] [--jobs N | -j N] [--quiet | -q] [-- noise]", 1, true), out)
    t.ok(out:find("-- noise ", 1, true) and out:find("default 0.005", 1, true), out)
    t.ok(not out:find("| approach |", 1, true) and not out:find("runs planned", 1, true), out)
  end
end)

t.test("a noise that is not a number is refused, saying where it goes", function()
  for _, args in ipairs { "-- lots", "-- 0.01 more", "-- 0.5" } do
    local code, out = t.run(t.scratch("approaches-bad"), "'" .. script .. "' " .. args)
    t.eq(code, 2, out)
    -- The usage --help prints (it printed a shorter one without -n, -j and -q).
    t.ok(out:find("\nusage: scalelab scripts/approaches.lua [--dry-run | -n] [--jobs N | -j N] [--quiet | -q] [-- noise]\n", 1, true), out)
    t.ok(out:find("after -- give one number, the noise, from 0 to 0.2, e.g. -- 0.02 (got " .. args:sub(4) .. ")", 1, true), out)
  end
end)

t.test("its noise given without -- is refused with its own usage and the command that gives it", function()
  -- "scalelab scripts/approaches.lua 0.02" printed the generic study usage (SCRIPT.lua ... [-- ARGS for the script
  -- itself]), which names nothing of the demo's, and did not write the command that works.
  local code, out = t.run(t.scratch("approaches-no-dashes"), "'" .. script .. "' -j 2 0.02")
  t.eq(code, 2, out)
  t.ok(out:find("unknown option '0.02' (a study script takes options only; put the script's own arguments after --: "
    .. "scalelab " .. script .. " -j 2 -- 0.02)", 1, true), out)
  t.ok(out:find("\nusage: scalelab scripts/approaches.lua [--dry-run | -n] [--jobs N | -j N] [--quiet | -q] [-- noise]\n", 1,
    true), out)
  t.ok(not out:find("SCRIPT.lua", 1, true), out)
  -- A misspelt option of the study's is said with the demo's usage too.
  code, out = t.run(t.scratch("approaches-no-dashes"), "'" .. script .. "' --dryrun")
  t.eq(code, 2, out)
  t.ok(out:find("did you mean '--dry-run'?\nusage: scalelab scripts/approaches.lua", 1, true), out)
end)
t.done()
