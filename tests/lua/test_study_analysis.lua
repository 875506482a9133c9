-- The study's own analyses (study/analysis.lua): what their summaries say about the bootstrap.
local t = require "scalelab.test"
local analysis = require "scalelab.study.analysis"

-- Three budgets of three sizes each, with each budget's minimum in the middle: a resample that
-- draws a budget's middle run zero times has no minimum inside its sizes and is left out.
local function runs()
  local obs = {}
  for _, C in ipairs { 6e14, 6e15, 6e16 } do
    local middle = math.sqrt(C / 6 / 20)  -- 20 tokens per parameter
    for i, f in ipairs { 0.25, 1, 4 } do
      local N = middle * f
      obs[#obs + 1] = { N = N, D = C / (6 * N), budget = C, loss = 2 + 0.1 * math.log(f) ^ 2 - 0.05 * math.log10(C) + 0.01 * i }
    end
  end
  return obs
end

t.test("the IsoFLOP summary says how many bootstrap resamples were drawn, kept, and why the rest were left out", function()
  local law = analysis.isoflop(runs(), { bootstrap = 200, seed = 1 })
  t.eq(law.bootstrap_drawn, 200)
  t.ok(law.bootstrap >= 20 and law.bootstrap < 200, "some resamples are left out here: " .. law.bootstrap)
  local summary = law:summary()
  t.ok(summary:find(string.format(", %d of 200 bootstrap resamples (95%% intervals; the other %d put fewer budgets' minima inside their sizes",
    law.bootstrap, 200 - law.bootstrap), 1, true), summary)
  -- All kept: the plain count, no "of".
  law.bootstrap_drawn = law.bootstrap
  t.ok(law:summary():find(string.format(", %d bootstrap resamples (95%% intervals)", law.bootstrap), 1, true), law:summary())
end)

t.done()
