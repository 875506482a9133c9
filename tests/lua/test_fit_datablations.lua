-- The data-constrained law of Muennighoff et al. 2023 on their 182 fitted runs (tests/data/README.md).
local t = require "scalelab.test"

local obs = fit.read_csv(os.getenv("SCALELAB_TEST_DATA") .. "/datablations_parametric_fit_182pts.csv",
  { N = "params_N", D = "tokens_D", U = "unique_tokens_U", loss = "c4_val_loss", run = "run_name" })

t.test("the published law reproduces the paper's R² on its runs", function()
  local law = fit.published.datablations
  local L, mean = obs.loss, 0
  for i = 1, #L do mean = mean + L[i] / #L end
  local ss_res, ss_tot = 0, 0
  local N, D, U = obs.N, obs.D, obs.U
  for i = 1, #L do
    local p = law:predict{ N = N[i], D = D[i], U = U[i] }
    ss_res = ss_res + (p - L[i]) ^ 2
    ss_tot = ss_tot + (L[i] - mean) ^ 2
  end
  t.near(1 - ss_res / ss_tot, 0.772, 0.003)
end)

t.test("R_D*, R_N* fitted with the published base law frozen", function()
  local law = fit.data_constrained(obs, { base = fit.published.datablations, free = { "R_D", "R_N" }, bootstrap = 30 })
  t.eq(law.params.E, fit.published.datablations.params.E)   -- the base law stays frozen
  t.eq(law.params.alpha, 0.3526596)
  t.ok(law.objective <= fit.objective(fit.published.datablations, obs) * (1 + 1e-9))
  t.ok(law.r2_loss > 0.77 and law.r2_loss < 0.80, "R² " .. law.r2_loss)
  -- The data leave R_D* nearly unconstrained above ~6; the published values lie inside the intervals.
  t.ok(law.intervals.R_D[1] <= 15.39 and 15.39 <= law.intervals.R_D[2])
  t.ok(law.intervals.R_N[1] <= 5.31 and 5.31 <= law.intervals.R_N[2])
  t.ok(tostring(law):find("R_N"))
end)

t.test("reading the CSV with a wrong mapping names the file's columns", function()
  t.raises(function()
    fit.read_csv(os.getenv("SCALELAB_TEST_DATA") .. "/datablations_parametric_fit_182pts.csv", { N = "params", loss = "c4_val_loss" })
  end, "no column 'params'")
end)

t.done()
