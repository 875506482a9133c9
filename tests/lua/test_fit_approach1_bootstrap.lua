-- The calibration of fit.approach1's bootstrap intervals: many simulated approach-1 studies of a known
-- law (Chinchilla's published fit, whose compute-optimal exponent a = beta/(alpha + beta) = 0.4516),
-- one training curve per size of 80 points from 1e8 to 1e12 tokens, each point with 0.5% relative
-- noise (evaluation) and each run with an offset of 0.2% that it keeps along its curve (its seed),
-- each fitted with bootstrap = 100. A 95% interval should hold the true a in about 95% of the studies.
local t = require "scalelab.test"
local _, gauss, reseed = require "portable_random"()  -- the same studies everywhere

local truth = fit.published.chinchilla
local a_true = truth:allocation(1e20).a

-- `studies` studies of `sizes` sizes log-spaced from 1M to 100B: how many intervals held the true a,
-- how many studies had none, how many left out their own a, the fraction of resamples kept, and the
-- mean width of the intervals over 3.92 times the standard deviation of a over the studies.
local function simulate(sizes, studies, seed)
  reseed(seed)
  local held, none, outside, kept, width, as = 0, 0, 0, 0, 0, {}
  for study = 1, studies do
    local runs = {}
    for i = 0, sizes - 1 do
      local N, offset, curve = 1e6 * 1e5 ^ (i / (sizes - 1)), 0.002 * gauss(), {}
      for j = 0, 79 do
        local D = 1e8 * 1e4 ^ (j / 79)
        curve[#curve + 1] = { tokens = D, eval_loss = truth:predict { N = N, D = D } * (1 + offset + 0.005 * gauss()) }
      end
      runs[#runs + 1] = { N = N, curve = curve }
    end
    local r = fit.approach1(runs, { bootstrap = 100, seed = study })
    as[#as + 1] = r.a
    kept = kept + #(r.samples or {}) / 100
    local iv = r.intervals and r.intervals.a
    if not iv then
      none = none + 1
    else
      if iv[1] <= a_true and a_true <= iv[2] then held = held + 1 end
      if r.a < iv[1] or r.a > iv[2] then outside = outside + 1 end
      width = width + (iv[2] - iv[1]) / studies
    end
  end
  local mean, var = 0, 0
  for _, a in ipairs(as) do mean = mean + a / #as end
  for _, a in ipairs(as) do var = var + (a - mean) ^ 2 / (#as - 1) end
  return held / studies, none, outside, kept / studies, width / (3.92 * math.sqrt(var))
end

-- Measured with 300 studies a design and bootstrap = 200 (the commit that made the bootstrap
-- residual lists them): redrawing each run's curve about its smoothed curve, every run kept, held the
-- truth in 96.7% (8 sizes), 99.0% (12), 97.3% (16) and 99.3% (24) of these studies, keeping 96.6-100%
-- of resamples. Drawing whole runs with replacement, as fit.approach1 did before, kept 22% of
-- resamples with 8 sizes (draws that lost sizes lost switches, and those kept were the draws that
-- lost fewest) and held the truth in 44.7%, its intervals 0.39 times as wide as the spread of a.
-- Here (100 studies, bootstrap = 100): held 0.960, kept 0.948, width 2.0 times the spread; before,
-- held 0.380, 30 studies without intervals, kept 0.179, width 0.39 times the spread.
t.test("fit.approach1's 95% bootstrap interval holds the true exponent in about 95% of simulated 8-size studies", function()
  local held, none, outside, kept, ratio = simulate(8, 100, 2024)
  local what = string.format("8 sizes: held %.3f, no intervals %d, own a outside %d, kept %.3f, width/spread %.2f",
    held, none, outside, kept, ratio)
  t.ok(held >= 0.9 and held <= 0.99, what)
  t.ok(none <= 2, what)
  t.ok(outside <= 2, what)
  t.ok(kept >= 0.9, what)
  t.ok(ratio >= 0.8, what)  -- not narrower than the spread it stands for
end)

t.done()
