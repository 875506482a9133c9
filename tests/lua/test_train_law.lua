-- The simulated backend's law given as a Law object (fit.published.chinchilla, a fitted
-- fit.chinchilla law), the same as its values in a table; a law of another form refused naming it;
-- errors naming the function the user called (train.simulate or train.run).
local t = require "scalelab.test"

local gpt = model.gpt{ vocab = 64, ctx = 16, d_model = 32, n_layer = 1, n_head = 2 }
-- A law for this tiny model's scale (below ln(64) everywhere the run goes).
local SMALL = { E = 1.0, A = 10, B = 50, alpha = 0.3, beta = 0.3 }

local function sim(extra)
  local config = { model = gpt, tokens = 1e6, batch = 8, seq_len = 16 }
  for k, v in pairs(extra) do config[k] = v end
  return train.simulate(config)
end

local function values(law, noise)
  local p = law.params
  return { E = p.E, A = p.A, B = p.B, alpha = p.alpha, beta = p.beta, noise = noise }
end

t.test("train.simulate draws from a published Law as from its values in a table", function()
  local law = fit.published.chinchilla
  local big = model.gpt{ vocab = 50257, ctx = 256, d_model = 512, n_layer = 8, n_head = 8 }
  local a = train.simulate{ model = big, tokens = 1e9, batch = 8, seq_len = 256, law = law, noise = 0.01 }
  local b = train.simulate{ model = big, tokens = 1e9, batch = 8, seq_len = 256, law = values(law, 0.01) }
  t.eq(a.loss, b.loss)
  t.eq(a.train_loss, b.train_loss)
  local clean = train.simulate{ model = big, tokens = 1e9, batch = 8, seq_len = 256, law = law, noise = 0 }
  t.near(clean.loss, law:predict { N = big.params, D = clean.tokens }, 1e-9)
  -- train.run on the simulated backend takes it too, and a law:with{...} of the same form.
  local r = train.run{ model = gpt, tokens = 1e6, batch = 8, seq_len = 16, backend = "simulated",
                       law = law:with(SMALL), noise = 0, progress = false }
  t.near(r.loss, SMALL.E + SMALL.A / gpt.params ^ SMALL.alpha + SMALL.B / r.tokens ^ SMALL.beta, 1e-9)
end)

t.test("train.simulate draws from a just-fitted Chinchilla law", function()
  local N, D, loss = {}, {}, {}
  for _, n in ipairs { 1e7, 3e7, 1e8, 3e8 } do
    for _, d in ipairs { 1e9, 3e9, 1e10 } do
      N[#N + 1], D[#D + 1] = n, d
      loss[#loss + 1] = SMALL.E + SMALL.A / n ^ SMALL.alpha + SMALL.B / d ^ SMALL.beta
    end
  end
  local fitted = fit.chinchilla(fit.observations { N = N, D = D, loss = loss })
  t.ok(fitted.fitted)
  local a = sim { law = fitted, noise = 0 }
  local b = sim { law = values(fitted, 0) }
  t.eq(a.loss, b.loss)
  t.near(a.loss, SMALL.E + SMALL.A / gpt.params ^ SMALL.alpha + SMALL.B / a.tokens ^ SMALL.beta, 1e-4)
end)

t.test("a law of another form is refused naming its form and what is accepted", function()
  local message = t.raises(function() sim { law = fit.published.kaplan } end,
    "train.simulate: law must be a table { E =, A =, B =, alpha =, beta = [, noise =] } or a law of the Chinchilla form")
  t.ok(message:find("law 'kaplan' has the kaplan_ND form", 1, true), message)
  t.ok(not message:find("train.run", 1, true), message)
  message = t.raises(function() sim { law = fit.published.datablations } end, "has the data_constrained form")
  t.ok(message:find("a study simulates a data-constrained law", 1, true), message)
  t.raises(function() sim { law = fit.published.kaplan_C } end, "law 'kaplan_C' has the kaplan_C form")
  t.raises(function() sim { law = "chinchilla" } end, "train.simulate: law must be a table")
  -- fit.isoflop's result (a table) is named as what it is, not by its first unknown key.
  local N, D, L = {}, {}, {}
  for _, C in ipairs { 1e18, 1e19, 1e20 } do
    for _, n in ipairs { 1e8, 3e8, 1e9, 3e9 } do
      N[#N + 1], D[#D + 1] = n, C / (6 * n)
      L[#L + 1] = fit.published.chinchilla:predict { N = n, D = C / (6 * n) }
    end
  end
  local iso = fit.isoflop(fit.observations { N = N, D = D, loss = L })
  message = t.raises(function() sim { law = iso } end, "train.simulate: law must be a table")
  t.ok(message:find("this is an IsoFLOP result (fit.isoflop", 1, true), message)
  t.raises(function()
    train.run{ model = gpt, tokens = 1e6, batch = 8, seq_len = 16, backend = "simulated", law = 5 }
  end, "train.run: law must be a table")
end)

t.test("train.simulate's errors name train.simulate", function()
  t.raises(function() sim { steps = 10 } end, "train.simulate: give one of tokens (training tokens D) and steps")
  t.raises(function() sim { law = { E = 1, Q = 2 } } end, "train.simulate: law")
  t.raises(function() sim { lawn = 1 } end, "train.simulate")
  t.raises(function() sim { threads = 5000 } end, "train.simulate: threads must be in [0, 4096]")
  t.raises(function() sim { law = { E = 1, A = 1, B = 1, alpha = 1, beta = 1, noise = 0 }, noise = 0.1 } end,
    "train.simulate: noise is given twice")
  -- noise, like law, is for the simulated backend only.
  t.raises(function() train.run{ model = gpt, steps = 1, batch = 1, seq_len = 16, backend = "cpu", noise = 0.1 } end,
    "noise applies only to the simulated backend")
end)

t.done()
