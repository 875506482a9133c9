-- Synthetic runs and small fake laws for the plot tests: shaped like the results store's runs and
-- the fit module's law objects (law:predict{ N =, D = [, unique_tokens =] }, law.params, law.intervals).
local M = {}

-- A deterministic noise in [-1, 1].
local function noise(i) return math.sin(i * 12.9898) * 0.5 + math.sin(i * 78.233) * 0.5 end

function M.chinchilla(p, name)
  p = p or { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 }
  return {
    name = name or "Chinchilla fit", params = p,
    predict = function(_, q) return p.E + p.A / q.N ^ p.alpha + p.B / q.D ^ p.beta end,
  }
end

-- Muennighoff et al.'s law, data side only (D' from U and R_D*).
function M.datablations(R_D)
  local p = { E = 1.869, A = 520.8, B = 1487.7, alpha = 0.3527, beta = 0.3527, R_D = R_D or 15.39, R_N = 5.31 }
  return {
    name = "data-constrained fit", params = p, intervals = { R_D = { 12.1, 19.8 } },
    predict = function(_, q)
      local D = q.D
      if q.unique_tokens and q.unique_tokens < q.D then
        local U = q.unique_tokens
        D = U + U * p.R_D * (1 - math.exp(-(q.D / U - 1) / p.R_D))
      end
      return p.E + p.A / q.N ^ p.alpha + p.B / D ^ p.beta
    end,
  }
end

function M.n_opt(law, C)
  local p = law.params
  local G = (p.alpha * p.A / (p.beta * p.B)) ^ (1 / (p.alpha + p.beta))
  return G * (C / 6) ^ (p.beta / (p.alpha + p.beta))
end

M.budgets = { 1e16, 3e16, 1e17, 3e17, 1e18 }

-- IsoFLOP runs: 7 sizes per budget around the law's optimum, with training curves.
function M.isoflop_runs(law, with_curves)
  law = law or M.chinchilla()
  local runs, k = {}, 0
  for _, C in ipairs(M.budgets) do
    local center = M.n_opt(law, C)
    for j = -3, 3 do
      k = k + 1
      local N = center * 2 ^ j
      local D = C / (6 * N)
      local run = { N = N, D = D, C = C, loss = law:predict { N = N, D = D } * (1 + 0.006 * noise(k)), id = "run" .. k }
      if with_curves then
        run.curve = {}
        for s = 1, 24 do
          local tokens = D * 10 ^ ((s - 24) / 10)
          local point = { tokens = tokens, loss = law:predict { N = N, D = tokens } * (1 + 0.01 * noise(k * 100 + s)) }
          if s % 4 == 0 then point.eval_loss = point.loss * 1.01 end
          run.curve[s] = point
        end
      end
      runs[#runs + 1] = run
    end
  end
  return runs
end

-- Data-constrained runs: two budgets, the compute-optimal N, 1 to 64 epochs.
function M.repeated_runs(law)
  law = law or M.datablations()
  local runs, k = {}, 0
  for _, C in ipairs({ 1e18, 1e19 }) do
    local N = M.n_opt(law, C)
    local D = C / (6 * N)
    for _, e in ipairs({ 1, 2, 4, 8, 16, 32, 64 }) do
      k = k + 1
      local U = D / e
      runs[#runs + 1] = { N = N, D = D, C = C, unique_tokens = U, epochs = e,
                          loss = law:predict { N = N, D = D, unique_tokens = U } * (1 + 0.004 * noise(k)) }
    end
  end
  return runs
end

-- An allocation power law N_opt = k·C^a with an interval on a and bootstrap samples.
function M.power_law(k, a, spread)
  local samples = {}
  for i = 1, 200 do
    local da = spread * noise(i)
    -- samples pivot near C = 1e17, as a fit to data there would
    samples[i] = { k = k * (1e17) ^ (-da), a = a + da }
  end
  return { params = { k = k, a = a }, intervals = { a = { a - spread, a + spread } }, samples = samples }
end

return M
