-- Muennighoff et al.'s data-constrained law written out from the paper's formulas
-- (/work/shared/REFERENCE.md), for tests to check the planner and the demos against: independent of
-- the code under test.
-- local law = require "datablations_law"
--   law.TRUTH (the published constants, unrounded), law.loss(N, D, U [, params]), law.optimum(C, U),
--   law.repetition_runs(seed, noise)
local law = {}

-- The datablations README's constants.
law.TRUTH = { E = math.exp(0.6254804), A = math.exp(6.255414), B = math.exp(7.3049974), alpha = 0.3526596,
              beta = 0.3526596, R_D = 15.387756, R_N = 5.309743 }

-- L(N, D, U): D' = U_D + U_D·R_D*·(1 − e^(−R_D/R_D*)), U_D = min(U, D), R_D = D/U_D − 1; N' likewise
-- with U_N = min(N, N_opt(U_D)), N_opt(D) = (D·G)^(β/α)·G.
function law.loss(N, D, U, p)
  p = p or law.TRUTH
  local G = (p.alpha * p.A / (p.beta * p.B)) ^ (1 / (p.alpha + p.beta))
  local U_D = math.min(U, D)
  local D_eff = U_D + U_D * p.R_D * (1 - math.exp(-(D / U_D - 1) / p.R_D))
  local U_N = math.min(N, (U_D * G) ^ (p.beta / p.alpha) * G)
  local N_eff = U_N + U_N * p.R_N * (1 - math.exp(-(N / U_N - 1) / p.R_N))
  return p.E + p.A / N_eff ^ p.alpha + p.B / D_eff ^ p.beta
end

-- The optimum of the published law at compute C (D = C/(6N)) with U unique tokens: a scan of ln N,
-- then golden sections.
function law.optimum(C, U)
  local function f(x) local N = math.exp(x) return law.loss(N, C / (6 * N), U) end
  local best, best_x = math.huge, nil
  for x = math.log(1e6), math.log(1e13), 0.01 do
    local l = f(x)
    if l < best then best, best_x = l, x end
  end
  local a, b, g = best_x - 0.01, best_x + 0.01, (math.sqrt(5) - 1) / 2
  for _ = 1, 80 do
    local c, d = b - g * (b - a), a + g * (b - a)
    if f(c) < f(d) then b = d else a = c end
  end
  local N = math.exp((a + b) / 2)
  return { N = N, D = C / (6 * N), epochs = C / (6 * N) / U, loss = f((a + b) / 2) }
end

-- Runs drawn from the published law on the sweep of scripts/repetition.lua with 4 epoch counts (5
-- unique-token budgets 1e9 to 1e11 by 1, 4, 16, 64 epochs by 6 sizes 1e7 to 3e9: 120 runs), each loss
-- times e^(noise·z), z from portable_random reseeded with `seed`: the same runs everywhere. A list of
-- { N =, D =, U =, loss = }; it has runs with up to 60 times N_opt(U) parameters, so R_N* is identified.
-- design = { unique_tokens = {...}, epochs = {...} } draws the same sizes at other U or epochs. noise may be
-- a function(N, D, U) giving each run's own sd in ln (noise that differs between runs); design.params draws
-- them from other constants (a table as law.TRUTH) instead of the published ones.
function law.repetition_runs(seed, noise, design)
  local _, gauss, reseed = require "portable_random"()
  reseed(seed)
  local obs = {}
  design = design or {}
  for _, U in ipairs(design.unique_tokens or sweep.log(1e9, 1e11, 5)) do
    for _, epochs in ipairs(design.epochs or { 1, 4, 16, 64 }) do
      for _, N in ipairs(sweep.log(1e7, 3e9, 6)) do
        local sd = type(noise) == "function" and noise(N, U * epochs, U) or noise
        local loss = law.loss(N, U * epochs, U, design.params)
        obs[#obs + 1] = { N = N, D = U * epochs, U = U, loss = loss * math.exp(sd * gauss()) }
      end
    end
  end
  return obs
end

return law
