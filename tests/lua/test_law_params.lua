-- law.params is a read-only view of a law's values: an assignment into it, which changed nothing (the
-- table was a copy), is an error that says how to get the changed law; reading it (indexing, pairs,
-- printing, json, passing it where a law's values are read) works as a table's.
local t = require "scalelab.test"
local json = require "scalelab.study.json"
local pretty = require "scalelab.pretty"

t.test("assigning into law.params is refused, naming law:with", function()
  local law = fit.published.chinchilla
  local message = t.raises(function() law.params.E = 2 end,
    "law.params.E = 2: law.params is read-only")
  t.ok(message:find("write law:with{ E = 2 }", 1, true), message)
  t.raises(function() local p = law.params; p.alpha = 0.3 end, "law:with{ alpha = 0.3 }")
  -- A key that is no parameter is refused too (it would have changed nothing either).
  t.raises(function() law.params.F = 1 end, "law.params is read-only")
  t.eq(law.params.E, 1.69)
  -- The way the message names gives the changed law; the original stays as it was.
  t.eq(law:with { E = 2 }.params.E, 2)
  t.eq(law.params.E, 1.69)
  -- A fitted law alike.
  local N, D, L = {}, {}, {}
  for _, n in ipairs { 1e7, 3e7, 1e8, 3e8, 1e9 } do
    for _, r in ipairs { 2, 5, 10, 20, 50 } do
      N[#N + 1], D[#D + 1], L[#L + 1] = n, r * n, law:predict { N = n, D = r * n }
    end
  end
  local fitted = fit.chinchilla(fit.observations { N = N, D = D, loss = L })
  t.raises(function() fitted.params.beta = 0.3 end, "law:with{ beta = 0.3 }")
end)

t.test("law.params reads as a table: indexing, pairs, printing, json and where a law's values are read", function()
  local law = fit.published.epoch
  local p = law.params
  t.eq(p.E, 1.82)
  t.eq(p.beta, 0.366)
  t.eq(p.nothing, nil)
  local seen = {}
  for name, value in pairs(p) do seen[#seen + 1] = name .. "=" .. string.format("%g", value) end
  table.sort(seen)
  t.eq(table.concat(seen, " "), "A=482 B=2085 E=1.82 alpha=0.348 beta=0.366")
  t.eq(json.encode(p), '{"A":482,"B":2085,"E":1.82,"alpha":0.348,"beta":0.366}')
  local shown = pretty.format(p)
  t.ok(shown:find("E = 1.82", 1, true) and shown:find("B = 2085", 1, true), shown)
  -- Read with lua_next in C++: law:with, fit.law_of, a law given as a table to plan.
  local moved = fit.published.chinchilla:with(law.params)
  t.eq(moved.params.B, 2085)
  t.eq(fit.law_of("chinchilla", law.params).params.alpha, 0.348)
  local by_table = plan.optimal { compute = 1e21, law = law.params }
  local by_law = plan.optimal { compute = 1e21, law = law }
  t.near(by_table.N, by_law.N, 1e-12)
end)

-- law.samples and law.intervals are read-only views too, sharing law.params' way: an assignment into
-- them (or into one sample or interval) changed nothing, and is refused saying what gives the law wanted.
local function bootstrapped()
  local law = fit.published.chinchilla
  local N, D, L = {}, {}, {}
  for _, n in ipairs { 1e7, 3e7, 1e8, 3e8, 1e9 } do
    for k, r in ipairs { 2, 5, 10, 20, 50 } do
      N[#N + 1], D[#D + 1] = n, r * n
      L[#L + 1] = law:predict { N = n, D = r * n } * (1 + 0.01 * math.sin(#N * 1.7 + k))
    end
  end
  return fit.chinchilla(fit.observations { N = N, D = D, loss = L }, { bootstrap = 20 })
end

t.test("assigning into law.samples or law.intervals is refused, naming law:with_samples and law:interval", function()
  local law = bootstrapped()
  local alpha = law.samples[3].alpha
  local message = t.raises(function() law.samples[3].alpha = 0.5 end, "law.samples[3].alpha = 0.5: law.samples is read-only")
  t.ok(message:find("law:with_samples(samples)", 1, true), message)
  t.eq(law.samples[3].alpha, alpha)
  t.raises(function() law.samples[21] = { alpha = 0.5 } end, "law.samples[21] = ...: law.samples is read-only")
  t.raises(function() table.insert(law.samples, {}) end, "law.samples is read-only")
  local lo = law.intervals.alpha[1]
  message = t.raises(function() law.intervals.alpha = { 0.1, 0.2 } end, "law.intervals.alpha = ...: law.intervals is read-only")
  t.ok(message:find("law:interval(name, level) gives another level", 1, true), message)
  t.raises(function() law.intervals.alpha[1] = 0.3 end, "law.intervals.alpha[1] = 0.3: law.intervals is read-only")
  t.raises(function() law.intervals.a = { 0, 1 } end, "law.intervals.a = ...")
  t.eq(law.intervals.alpha[1], lo)
end)

t.test("law.samples and law.intervals read as tables: length, ipairs, pairs, json, printing and law:with_samples", function()
  local law = bootstrapped()
  local samples = law.samples
  t.eq(#samples, 20)
  local n = 0
  for i, sample in ipairs(samples) do
    n = n + 1
    t.near(sample.beta, law:sample(i).params.beta, 0)
  end
  t.eq(n, 20)
  local keys = {}
  for name in pairs(samples[1]) do keys[#keys + 1] = name end
  table.sort(keys)
  t.eq(table.concat(keys, " "), "A B E alpha beta")
  t.ok(json.encode(samples):match("^%[{\"A\":"), json.encode(samples))
  local iv = law.intervals
  t.eq(#iv.alpha, 2)
  t.eq(iv.alpha.level, 0.95)
  t.eq(json.encode(iv.alpha), json.encode { iv.alpha[1], iv.alpha[2], level = 0.95 })
  t.ok(pretty.format(iv):find("alpha = ", 1, true), pretty.format(iv))
  t.ok(pretty.format(samples):find("beta = ", 1, true), pretty.format(samples))
  t.eq(fit.table(law).alpha.interval[2], iv.alpha[2])
  -- The samples given back, as they are: the same law and intervals.
  local again = law:with_samples(samples)
  t.eq(#again.samples, 20)
  t.eq(again.intervals.beta[1], iv.beta[1])
end)

-- Reading law.samples made its view again, a view of every sample, at each read: a loop over
-- law.samples[i] took O(n) a read, O(n^2) in all (with 2000 samples, 4 million views). The view is
-- made once per law and kept: the same view (and the same view of each sample) at every read, still
-- read-only, each law its own.
t.test("law.samples is made once per law: every read gives the same read-only view", function()
  local base = fit.published.chinchilla
  local list = {}
  for i = 1, 2000 do
    list[i] = { E = 1.69 + i * 1e-5, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 }
  end
  local law = base:with_samples(list)
  t.ok(rawequal(law.samples, law.samples), "the same view at each read")
  t.ok(rawequal(law.samples[1234], law.samples[1234]), "the same view of a sample at each read")
  local sum = 0
  for i = 1, #law.samples do sum = sum + law.samples[i].E end
  local expected = 0
  for i = 1, 2000 do expected = expected + list[i].E end
  t.near(sum, expected, 1e-12)
  t.eq(law.samples[2000].E, list[2000].E)
  -- Still read-only, the view kept as the one given out.
  t.raises(function() law.samples[5] = {} end, "law.samples[5] = ...: law.samples is read-only")
  t.raises(function() law.samples[5].E = 2 end, "law.samples[5].E = 2: law.samples is read-only")
  t.eq(law.samples[5].E, list[5].E)
  -- Another law, another view: law:with_samples' law reads its own samples.
  local other = law:with_samples { { E = 2, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 },
                                   { E = 3, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 } }
  t.eq(#other.samples, 2)
  t.eq(other.samples[2].E, 3)
  t.ok(not rawequal(other.samples, law.samples), "each law its own view")
  t.eq(#law.samples, 2000)
  -- A law with none: an empty view, as before.
  t.eq(#base.samples, 0)
end)

-- law.intervals was made again at every read: every parameter's percentile interval over all the
-- samples, and a and b from a closed-form allocation of every sample, so that a loop reading
-- law.intervals.alpha redid the bootstrap summary each time. It is made once per law and kept, as
-- law.samples is: the same read-only view (and the same view of each interval) at every read; a law
-- with other samples (law:with_samples) has its own, of its own samples.
t.test("law.intervals is made once per law: every read gives the same read-only view", function()
  local base = fit.published.chinchilla
  local list = {}
  for i = 1, 200 do
    list[i] = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.30 + i * 1e-4, beta = 0.28 }
  end
  local law = base:with_samples(list)
  t.eq(base.intervals, nil)
  local iv = law.intervals
  t.ok(rawequal(iv, law.intervals), "the same view at each read")
  t.ok(rawequal(iv.alpha, law.intervals.alpha), "the same view of an interval at each read")
  t.ok(rawequal(iv.a, law.intervals.a), "the same view of the allocation exponent's interval at each read")
  t.ok(iv.alpha[1] > 0.30 and iv.alpha[1] < iv.alpha[2] and iv.alpha[2] < 0.32, pretty.format(iv.alpha))
  t.raises(function() law.intervals.alpha = { 0, 1 } end, "law.intervals.alpha = ...: law.intervals is read-only")
  t.raises(function() law.intervals.alpha[1] = 0 end, "law.intervals.alpha[1] = 0: law.intervals is read-only")
  -- Another law, its own intervals, of its own samples; the first law's unchanged.
  local shifted = {}
  for i = 1, 200 do
    shifted[i] = { E = 1.69, A = 406.4, B = 410.7, alpha = 0.40 + i * 1e-4, beta = 0.28 }
  end
  local other = law:with_samples(shifted)
  t.ok(not rawequal(other.intervals, law.intervals), "each law its own view")
  t.ok(other.intervals.alpha[1] > 0.40, pretty.format(other.intervals.alpha))
  t.near(other.intervals.alpha[1] - law.intervals.alpha[1], 0.10, 1e-12)
  t.ok(rawequal(iv, law.intervals), "the first law's view kept")
end)

t.done()
