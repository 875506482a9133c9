-- The planning demo script runs and prints the reproduced numbers.
local t = require "scalelab.test"

t.test("scripts/planning.lua takes no options: --help says what it is, anything else is bad usage", function()
  local dir = t.scratch("plan-demo")
  local script = "'" .. os.getenv("SCALELAB_SOURCE_DIR") .. "/scripts/planning.lua'"
  local code, out = t.run(dir, script .. " --help")
  t.eq(code, 0, out)
  t.ok(out:find("usage: scalelab scripts/planning.lua", 1, true) and not out:find("Gopher", 1, true), out)
  code, out = t.run(dir, script .. " --bogus")
  t.eq(code, 2, out)
  t.ok(out:find("planning.lua takes no options (got --bogus)", 1, true), out)
end)

-- What the demo prints (run once, in this process, its print captured).
local demo_text
local function demo_output()
  if demo_text then return demo_text end
  local lines = {}
  local print_ = print
  print = function(...) local parts = {} for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end lines[#lines + 1] = table.concat(parts, "\t") end
  local ok, err = pcall(dofile, os.getenv("SCALELAB_SOURCE_DIR") .. "/scripts/planning.lua")
  print = print_
  t.ok(ok, tostring(err))
  demo_text = table.concat(lines, "\n")
  return demo_text
end

t.test("scripts/planning.lua runs", function()
  local text = demo_output()
  for _, s in ipairs { "205.1B", "216.2T", "Gopher", "2.2256", "7.03B", "237B", "9.49", "H100-hours" } do
    t.ok(text:find(s, 1, true), "the demo prints " .. s)
  end
  -- 242B tokens of 25B unique: 9.68 epochs, R_D = D/U - 1 = 8.68 repetitions after the first pass
  -- (Muennighoff et al.'s R_D). The text said "repeated 9.7 times", the epochs, not the repetitions.
  local said = text:gsub("%s+", " ")
  t.ok(said:find(string.format("trained for %.1f epochs of 25B unique tokens (242B tokens: each token repeated %.1f "
    .. "times after its first pass, the paper's R_D)", 242 / 25, 242 / 25 - 1), 1, true), text)
  -- Gopher's budget under the three published answers, each against REFERENCE.md's closed form
  -- N_opt = G·(C/6)^a, D_opt = (C/6)/N_opt, a = β/(α+β), G = (αA/(βB))^(1/(α+β)).
  local function optimum(E, A, B, alpha, beta)
    local C6 = 5.76e23 / 6
    local N = (alpha * A / (beta * B)) ^ (1 / (alpha + beta)) * C6 ^ (beta / (alpha + beta))
    return N, C6 / N
  end
  local core = require "scalelab.native.core"
  local rows = {
    { "approach 3, the paper's constants, unrounded", optimum(1.6934, 406.4, 410.7, 0.3392, 0.2849) },
    { "approach 3, the same rounded as printed", optimum(1.69, 406.4, 410.7, 0.34, 0.28) },
    { "approach 3, Epoch's refit of the same data", optimum(1.82, 482, 2085, 0.348, 0.366) },
    -- (the allocation rule's constants as its documentation prints them, to 4 digits: within 1%)
    { "approach 1 (envelope of training curves)", 0.09898 * 5.76e23 ^ 0.4982, 1.674 * 5.76e23 ^ 0.5019, 0.01 },
  }
  local scale = { k = 1e3, M = 1e6, B = 1e9, T = 1e12 }
  local function value(printed)
    local number, suffix = printed:match("^([%d%.]+)(%a?)$")
    return number and tonumber(number) * (scale[suffix] or 1)
  end
  for _, row in ipairs(rows) do
    local line = text:match("\n  " .. row[1]:gsub("[%(%)%.%-]", "%%%0") .. "[^\n]*")
    t.ok(line, "the demo prints the row " .. row[1])
    if line then
      local N, D = line:match("(%S+)%s+(%S+)%s+%S+$")
      if row[4] then
        t.near(value(N), row[2], row[4])
        t.near(value(D), row[3], row[4])
      else
        t.eq(N, core.format_count(row[2]), row[1] .. ": params")
        t.eq(D, core.format_count(row[3]), row[1] .. ": tokens")
      end
    end
  end
end)

-- Its last two sections, which nothing checked: the inference-aware optimum and the compute to reach a
-- loss, against Chinchilla's printed law worked out here (REFERENCE.md): L = E + A/N^a + B/D^b, the
-- compute-optimal N = G·(C/6)^(b/(a+b)); D for a loss at N in closed form; the optimum by a scan of
-- ln N refined by golden section; the compute for a loss by bisection.
t.test("the demo's inference-aware optimum and compute for a loss are Chinchilla's law's, worked out here", function()
  local text = demo_output()
  local E, A, B, alpha, beta = 1.69, 406.4, 410.7, 0.34, 0.28
  local function loss(N, D) return E + A / N ^ alpha + B / D ^ beta end
  local function optimal_N(C) return (alpha * A / (beta * B)) ^ (1 / (alpha + beta)) * (C / 6) ^ (beta / (alpha + beta)) end
  local function section(title, next_title)
    local from = assert(text:find(title, 1, true), title)
    return text:sub(from, next_title and text:find(next_title, from, true) or #text)
  end
  local function field(block, name) return block:match("\n  " .. name:gsub("[%-%(%)%.]", "%%%0") .. "%s+(%S+)") end
  local core = require "scalelab.native.core"
  -- Inference-aware (Sardana et al.): least 6·N·D + 2·N·T, T = 2e12, at the loss of the optimum at 1e23.
  local N0 = optimal_N(1e23)
  local target = loss(N0, 1e23 / (6 * N0))
  local function D_for(N) return (B / (target - E - A / N ^ alpha)) ^ (1 / beta) end
  local function total(lnN) local N = math.exp(lnN) return 6 * N * D_for(N) + 2 * N * 2e12 end
  local best, lo_N = math.huge, math.log((A / (target - E)) ^ (1 / alpha)) + 1e-6  -- below it no D reaches the loss
  local x_best
  for i = 0, 4000 do
    local x = lo_N + (math.log(N0) - lo_N) * i / 4000
    if total(x) < best then best, x_best = total(x), x end
  end
  local a, b = x_best - 1e-3, x_best + 1e-3
  for _ = 1, 100 do
    local c, d = b - 0.618 * (b - a), a + 0.618 * (b - a)
    if total(c) < total(d) then b = d else a = c end
  end
  local N = math.exp((a + b) / 2)
  local inference = section("== Inference-aware", "== A question declared")
  t.eq(field(inference, "params"), core.format_count(N), inference)
  t.eq(field(inference, "tokens"), core.format_count(D_for(N)), inference)
  t.eq(field(inference, "loss"), string.format("%.4f", target), inference)
  t.eq(field(inference, "params, compute-optimal"), core.format_count(N0), inference)
  local saving = 1 - total(math.log(N)) / (1e23 + 2 * N0 * 2e12)
  t.eq(field(inference, "saving"), string.format("%.1f%%", 100 * saving), inference)
  -- The compute whose optimal run reaches loss 2.0, and its price on 1024 A100s at 45% MFU.
  local lo, hi = 1e20, 1e26
  for _ = 1, 200 do
    local mid = math.sqrt(lo * hi)
    if loss(optimal_N(mid), mid / (6 * optimal_N(mid))) > 2.0 then lo = mid else hi = mid end
  end
  local C = hi
  local answer = section("compute to reach loss 2.0000\n  law:")
  t.near(tonumber(field(answer, "FLOP")), C, 0.005)  -- printed to three digits: 1.11e23
  t.eq(field(answer, "params"), core.format_count(optimal_N(C)), answer)
  t.eq(field(answer, "tokens"), core.format_count(C / (6 * optimal_N(C))), answer)
  local seconds = C / (312e12 * 0.45)
  t.ok(answer:find(string.format("%.0fk A100-hours", seconds / 3600 / 1e3), 1, true), answer)
  t.ok(answer:find(string.format("%.2f d on 1024 GPUs", seconds / 1024 / 86400), 1, true), answer)
end)

t.done()
