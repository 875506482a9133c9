-- The standard figures of a scaling study, built on plot.figure.
--
-- Inputs are duck-typed so that runs from a study's results store, fitted laws from the fit module
-- and published laws all work:
--   runs   an array of tables with N (parameters), D (tokens), C (FLOPs; default 6·N·D), loss, and
--          optionally unique_tokens, epochs (default D / unique_tokens) and curve (an array of
--          { tokens =, loss = [, eval_loss =] }). A table with a `runs` array is taken as its runs.
--   law    anything with law:predict{ N =, D = [, unique_tokens =] } -> loss, optionally law.params
--          (named parameters, used in the legend), law.intervals and law.samples.
--   power law (allocation) law.params.k and law.params.a (N_opt = k·C^a), or law:predict{ C = };
--          optional law.intervals.a = { lo, hi } and law.samples = { { k =, a = }, ... }.
local F = require "scalelab.plot.figure"
local native_fit = require "scalelab.native.fit"
local core = require "scalelab.native.core"

-- Every error these functions raise is about their caller's arguments: it is located at the user's
-- line (the first frame outside scalelab's library), however deep the library's own calls go. The
-- level arguments below are kept for reading only.
local error = require("scalelab.study.checks").error_at_user

local M = {}

-- ---- duck typing ------------------------------------------------------------------------------

-- obj[key], or nil when obj is not indexable or refuses the key (bound objects raise on unknown fields).
local function get(obj, key)
  local t = type(obj)
  if t ~= "table" and t ~= "userdata" then return nil end
  local ok, value = pcall(function() return obj[key] end)
  if ok then return value end
  return nil
end

local function first(obj, ...)
  for _, key in ipairs({ ... }) do
    local v = get(obj, key)
    if v ~= nil then return v end
  end
  return nil
end

-- An interval in any of the spellings { lo, hi }, { lo =, hi = }, { low =, high = }, { lower =, upper = }.
local function interval(value)
  if type(value) ~= "table" and type(value) ~= "userdata" then return nil end
  local lo = first(value, 1, "lo", "low", "lower")
  local hi = first(value, 2, "hi", "high", "upper")
  if type(lo) == "number" and type(hi) == "number" then return lo, hi end
  return nil
end
M.interval = interval

local function positive(where, what, v)
  if type(v) ~= "number" or not (v > 0) or not F.is_finite(v) then
    error(string.format("%s: %s must be a positive number (got %s)", where, what, tostring(v)), 4)
  end
  return v
end

-- The runs as plain records { N, D, C, loss, unique_tokens, epochs, curve, id }.
function M.runs(where, runs)
  if type(runs) ~= "table" and type(runs) ~= "userdata" then
    error(where .. ": expected an array of runs (tables with N, D, loss), got " .. type(runs), 3)
  end
  local list = runs
  if get(runs, 1) == nil and get(runs, "runs") ~= nil then
    list = get(runs, "runs")
    if type(list) == "function" then list = list(runs) end
  end
  -- An object that holds no runs (a law given where the runs go) is named, not "no runs to plot".
  local meta = getmetatable(runs)
  if list == runs and get(runs, 1) == nil and type(meta) == "table" and type(meta.__name) == "string" then
    error(string.format("%s: expected the runs to plot (a study, a store, s:observations(), or a list of "
      .. "{ N =, D =, loss = }), got %s", where, meta.__name), 3)
  end
  local out = {}
  for i = 1, math.huge do
    local r = get(list, i)
    if r == nil then break end
    local status = get(r, "status")
    if status ~= nil and status ~= "done" then goto continue end  -- planned, running or failed runs of a store
    local what = string.format("run %d", i)
    local N = first(r, "N", "params")
    local D = first(r, "D", "tokens")
    local C = first(r, "C", "compute", "flops")
    local loss = first(r, "loss", "final_loss")
    if N == nil then error(string.format("%s: %s has no N (parameters)", where, what), 3) end
    if loss == nil then error(string.format("%s: %s has no loss", where, what), 3) end
    positive(where, what .. " N", N)
    positive(where, what .. " loss", loss)
    if D ~= nil then positive(where, what .. " D", D) end
    if C == nil and D ~= nil then C = 6 * N * D end
    if D == nil and C ~= nil then D = C / (6 * N) end
    if C == nil then error(string.format("%s: %s has neither D (tokens) nor C (FLOPs)", where, what), 3) end
    positive(where, what .. " C", C)
    local U = first(r, "unique_tokens", "U")
    local epochs = first(r, "epochs")
    if epochs == nil and U ~= nil then epochs = D / U end
    if U == nil and epochs ~= nil then U = D / epochs end
    -- What the run says of its sweep: the budget of an IsoFLOP sweep's run (a study's runs and
    -- observations carry it as .budget, the results store's as .config.budget), and whether it
    -- comes from a study at all (a store's or a study's runs have .config, observations .hash; runs
    -- read here already say of_study: plot.study_figures passed its runs, read once, to plot.isoflop,
    -- which read them again without their hash, and so drew a data-constrained study's runs that
    -- share a compute by chance as IsoFLOP curves).
    local config = get(r, "config")
    local budget = first(r, "budget") or get(config, "budget")
    out[#out + 1] = { N = N, D = D, C = C, loss = loss, unique_tokens = U, epochs = epochs, curve = get(r, "curve"),
                      id = first(r, "id", "name", "hash"), budget = type(budget) == "number" and budget or nil,
                      of_study = get(r, "of_study") == true or type(config) == "table"
                        or type(get(r, "hash")) == "string" }
    ::continue::
  end
  if #out == 0 then error(where .. ": no runs to plot", 3) end
  return out
end

-- law -> function(N, D [, U]) -> loss.
function M.predictor(where, law)
  if type(law) == "function" then
    return function(N, D, U) return law { N = N, D = D, unique_tokens = U } end
  end
  if get(law, "predict") == nil then
    error(where .. ": the law must have a predict method, law:predict{ N =, D = } (got " .. type(law) .. ")", 3)
  end
  -- Unique tokens are passed as unique_tokens, or as U to a law that names them so (the fit
  -- module's laws read { N =, D =, U = } and reject other keys).
  local key = "unique_tokens"
  return function(N, D, U)
    local v
    if U == nil then
      v = law:predict { N = N, D = D }
    elseif key == "unique_tokens" then
      local ok, result = pcall(function() return law:predict { N = N, D = D, unique_tokens = U } end)
      if ok then v = result
      else
        key = "U"
        v = law:predict { N = N, D = D, U = U }
      end
    else
      v = law:predict { N = N, D = D, U = U }
    end
    if type(v) ~= "number" then v = first(v, "loss", 1) end
    return v
  end
end

local chinchilla_n_opt  -- defined with the allocation figure

local function fmt(v, digits) return F.formats.number(tonumber(string.format("%." .. (digits or 3) .. "g", v))) end

-- A legend entry for a law: its name and its parameters in one short line.
function M.law_label(law, default)
  local label = first(law, "label")
  if type(label) == "string" then return label end
  local params = get(law, "params")
  local name = first(law, "name", "kind")
  -- A law's name is shown as it is spelled: labels are enhanced text, where the _ of
  -- "data_constrained" or "chinchilla_unrounded" would make a subscript of the next letter.
  local text = type(name) == "string" and F.escape(name) or default
  local E, A, B, alpha, beta = get(params, "E"), get(params, "A"), get(params, "B"), get(params, "alpha"), get(params, "beta")
  if E and A and B and alpha and beta then
    text = string.format("%s: L = %s + %s/N^{%s} + %s/D^{%s}", text, fmt(E), fmt(A), fmt(alpha, 2), fmt(B), fmt(beta, 2))
  end
  local RD = get(params, "R_D")
  if RD then text = text .. string.format(", R_{D}* = %s", fmt(RD)) end
  return text
end

-- The compute-optimal N and loss of a law at compute C (D = C/6N), by a grid over log N refined
-- by golden section. U: unique tokens for data-constrained laws.
function M.optimum(predict, C, U)
  local lo, hi = math.log(10), math.log(C / 60)
  if hi <= lo then hi = lo + 1 end
  local function loss(x) local N = math.exp(x); return predict(N, C / (6 * N), U) end
  local steps = 96
  local best_i, best = 0, math.huge
  local values = {}
  for i = 0, steps do
    local v = loss(lo + (hi - lo) * i / steps)
    values[i] = v
    if F.is_finite(v) and v < best then best, best_i = v, i end
  end
  local a = lo + (hi - lo) * math.max(0, best_i - 1) / steps
  local b = lo + (hi - lo) * math.min(steps, best_i + 1) / steps
  local g = (math.sqrt(5) - 1) / 2
  local x1, x2 = b - g * (b - a), a + g * (b - a)
  local f1, f2 = loss(x1), loss(x2)
  for _ = 1, 40 do
    if f1 < f2 then b, x2, f2 = x2, x1, f1; x1 = b - g * (b - a); f1 = loss(x1)
    else a, x1, f1 = x1, x2, f2; x2 = a + g * (b - a); f2 = loss(x2) end
  end
  local x = (a + b) / 2
  return math.exp(x), loss(x)
end

local function logspace(lo, hi, n)
  local out = {}
  for i = 0, n - 1 do out[#out + 1] = math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * i / (n - 1)) end
  return out
end
M.logspace = logspace

-- The legend's word for the dashed stretches of fitted_line: in full where the legend has room (below
-- the plot), short in a corner (the allocation panels', whose width would cover the smaller minima).
M.extrapolated_label = "dashed: extrapolated beyond the runs"
M.extrapolated_short = "dashed: extrapolated"

-- Draws a fitted curve value(C) over [lo, hi] on figure f: solid over the compute the data covers,
-- [data_lo, data_hi], and dashed beyond it (a law drawn solid out to a question's budget, 100 or
-- 1000 times the largest run, reads as measured). The solid stretch carries style.label; each
-- stretch has about n points (in proportion to its width in decades) and they meet at the data's
-- ends. With no data range (nil), or one covering [lo, hi], it is one solid line over logspace(lo, hi, n).
-- Adds a legend entry, style.extrapolated or M.extrapolated_label, when a stretch is dashed; returns
-- whether one is.
function M.fitted_line(f, value, lo, hi, data_lo, data_hi, n, style)
  local function stretch(a, b, dash, label)
    if not (b > a) then return false end
    local count = math.max(2, math.floor(n * math.log(b / a) / math.log(hi / lo) + 0.5))
    if a == lo and b == hi then count = n end
    local x, y = {}, {}
    local Cs = logspace(a, b, count)
    Cs[1], Cs[#Cs] = a, b  -- exactly: the stretches meet at the data's ends
    for _, C in ipairs(Cs) do
      local v = value(C)
      if F.is_finite(v) then x[#x + 1], y[#y + 1] = C, v end
    end
    if #x == 0 then return false end
    f:line { x = x, y = y, color = style.color, width = style.width, dash = dash, label = label }
    return dash == "dashed"
  end
  if not (data_lo and data_hi) then
    stretch(lo, hi, nil, style.label)
    return false
  end
  local a, b = math.max(lo, data_lo), math.min(hi, data_hi)
  if not (b > a) then a, b = lo, lo end  -- the data lie outside the drawn range: all of it is extrapolated
  stretch(a, b, nil, style.label)
  local dashed = stretch(lo, a, "dashed", not (b > a) and style.label or nil)
  dashed = stretch(b, hi, "dashed", not (b > a) and not dashed and style.label or nil) or dashed
  if dashed then
    f:line { x = { 1 }, y = { 1 }, color = style.color, width = style.width, dash = "dashed",
             label = style.extrapolated or M.extrapolated_label, legend_only = true }
  end
  return dashed
end

-- The number of model sizes (distinct within 2%) among runs.
function M.sizes(runs)
  local Ns = {}
  for _, r in ipairs(runs) do
    local new = true
    for _, N in ipairs(Ns) do if math.abs(math.log(r.N / N)) < 0.02 then new = false break end end
    if new then Ns[#Ns + 1] = r.N end
  end
  return #Ns
end

-- Runs grouped by compute budget (within 2%), sorted by budget; each group { C =, runs = {...} }.
function M.budgets(runs, tolerance)
  tolerance = tolerance or 0.02
  local sorted = {}
  for i, r in ipairs(runs) do sorted[i] = r end
  table.sort(sorted, function(a, b) return a.C < b.C end)
  local groups = {}
  for _, r in ipairs(sorted) do
    local g = groups[#groups]
    if g and r.C <= g.first * (1 + tolerance) then
      g.runs[#g.runs + 1] = r
    else
      groups[#groups + 1] = { first = r.C, runs = { r } }
    end
  end
  for _, g in ipairs(groups) do
    local s = 0
    for _, r in ipairs(g.runs) do s = s + math.log(r.C) end
    g.C = math.exp(s / #g.runs)
  end
  return groups
end

local function quantile(sorted, q)
  local pos = 1 + (#sorted - 1) * q
  local i = math.floor(pos)
  local frac = pos - i
  if i >= #sorted or sorted[i] == sorted[i + 1] then return sorted[i] end  -- equal ends: no inf - inf
  return sorted[i] + frac * (sorted[i + 1] - sorted[i])
end

-- The 95% interval of bootstrap values (2.5% and 97.5% quantiles), or nil when fewer than two are
-- numbers. A sample whose parameters give no value (NaN: a negative exponent's root, 0/0) is left
-- out: NaN has no order, and sorting it with the others left the band's values in a different
-- order at each compute (a band that zigzags over twenty decades).
local function interval95(values)
  local kept = {}
  for _, v in ipairs(values) do if v == v then kept[#kept + 1] = v end end
  if #kept < 2 then return nil end
  table.sort(kept)
  return quantile(kept, 0.025), quantile(kept, 0.975)
end
M.interval95 = interval95

-- A question's budget: a number of FLOPs, or a planning question or answer that carries one: a
-- Question declared without a law (plan.optimal{ compute = 1e21 }) in .inputs.compute (it was
-- refused, having no .compute), an Answer in .flops, a table { compute = } as .compute.
local function compute_of(where, value)
  if value == nil or type(value) == "number" then
    if value ~= nil then positive(where, "compute", value) end
    return value
  end
  local C = first(value, "compute", "C", "flops")
  if C == nil then C = get(get(value, "inputs"), "compute") end
  if type(C) ~= "number" then
    error(where .. ": compute must be a number of FLOPs or a planning question with .compute", 3)
  end
  return positive(where, "compute", C)
end

local function check(where, opts, keys)
  local allowed = {}
  for _, k in ipairs(keys) do allowed[k] = true end
  F.check_keys(where, opts or {}, allowed, 3)
  return opts or {}
end

-- ---- 1. loss against compute ----------------------------------------------------------------

-- plot.loss_compute(runs [, law] [, { compute =, title =, curves = true, frontier = true }]):
-- every run's loss against its compute, coloured by N (with its training curve when the run has
-- one), the compute-efficient frontier (the lowest loss reached at each compute), and the law's
-- compute-optimal loss L*(C), extended to `compute` (a planning question's budget): solid over the
-- runs' compute, dashed beyond it.
function M.loss_compute(runs, law, opts)
  opts = check("plot.loss_compute", opts, { "compute", "title", "curves", "frontier", "label" })
  opts.compute = compute_of("plot.loss_compute", opts.compute)
  -- `compute` is where the law's compute-optimal loss is extended to and its value marked: without
  -- a law there is nothing to extend, and ignoring it left the caller's question silently undrawn.
  if opts.compute and not law then
    error(string.format("plot.loss_compute: compute = %s is the budget the law's compute-optimal loss is " ..
      "extended to, and no law was given: pass the law, plot.loss_compute(runs, law, { compute = %s }) " ..
      "(a fitted law such as a study's s.fits.parametric, or fit.published.chinchilla), or leave compute out",
      core.format_number(opts.compute, 6), core.format_number(opts.compute, 6)), 2)
  end
  local rs = M.runs("plot.loss_compute", runs)
  -- The legend goes below the plot: training curves start high across the whole compute range
  -- and the law runs on to the question's budget, so no corner inside is reliably empty.
  local f = F.figure { title = opts.title or "Loss against compute", xlabel = "training compute C (FLOP)",
    ylabel = "loss (nats/token)", xlog = true, ylog = true, xformat = "flops",
    colorbar = { label = "parameters N", log = true, format = "count" }, legend = "below" }
  local envelope = {}
  local any_curve = false
  if opts.curves ~= false then
    for _, r in ipairs(rs) do
      if type(r.curve) == "table" and #r.curve > 0 then
        local x, y = {}, {}
        for _, p in ipairs(r.curve) do
          local tokens, loss = first(p, "tokens", "D"), first(p, "loss", "train_loss")
          if tokens and loss and tokens > 0 and loss > 0 then
            x[#x + 1], y[#y + 1] = r.C * tokens / r.D, loss
            envelope[#envelope + 1] = { x[#x], loss }
          end
        end
        if #x > 0 then
          f:line { x = x, y = y, z = r.N, width = 1 }
          any_curve = true
        end
      end
    end
  end
  local x, y, z = {}, {}, {}
  for i, r in ipairs(rs) do
    x[i], y[i], z[i] = r.C, r.loss, r.N
    envelope[#envelope + 1] = { r.C, r.loss }
  end
  if any_curve then f:line { x = { 1 }, y = { 1 }, color = "#888888", width = 1, label = "training curves", legend_only = true } end
  f:points { x = x, y = y, z = z, label = "runs (final loss)", size = 1.2 }
  if opts.frontier ~= false then
    -- Sorted by compute, then loss: at a compute shared by several runs only the lowest counts.
    table.sort(envelope, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
    local fx, fy, best = {}, {}, math.huge
    for _, p in ipairs(envelope) do
      if p[2] < best and p[1] ~= fx[#fx] then
        best = p[2]
        fx[#fx + 1], fy[#fy + 1] = p[1], p[2]
      end
    end
    f:line { x = fx, y = fy, color = "#222222", width = 2.5, label = "compute-efficient frontier" }
  end
  local Cmin, Cmax = math.huge, 0
  for _, r in ipairs(rs) do Cmin, Cmax = math.min(Cmin, r.C), math.max(Cmax, r.C) end
  if law then
    -- L*(C): the law's compute-optimal loss; a law of compute alone (Kaplan's L(C)) is used as is.
    local predict = M.predictor("plot.loss_compute", law)
    local of_compute = not pcall(predict, 1e8, 1e10)
    local function best(C)
      if of_compute then
        local v = law:predict { C = C }
        if type(v) ~= "number" then v = first(v, "loss", 1) end
        return nil, v
      end
      return M.optimum(predict, C)
    end
    local hi = math.max(Cmax, opts.compute or 0)
    local Cs = logspace(Cmin, hi, 60)
    -- A bootstrapped Chinchilla-form law: the 95% band of L*(C) over its samples (closed form).
    local samples = first(law, "samples", "bootstrap")
    if not of_compute and type(samples) == "table" and #samples > 1 then
      local low, high = {}, {}
      for i, C in ipairs(Cs) do
        local values = {}
        for _, sample in ipairs(samples) do
          local p = get(sample, "params") or sample
          local n_opt = chinchilla_n_opt(p)
          if n_opt then
            local N = n_opt(C)
            local D = C / (6 * N)
            values[#values + 1] = p.E + p.A / N ^ p.alpha + p.B / D ^ p.beta
          end
        end
        low[i], high[i] = interval95(values)
        if not low[i] then low = nil break end
      end
      if low then f:band { x = Cs, low = low, high = high, color = "#d62728", opacity = 0.18, label = "95% bootstrap band" } end
    end
    -- Solid over the runs' compute, dashed on to the question's budget.
    M.fitted_line(f, function(C) return select(2, best(C)) end, Cmin, hi, Cmin, Cmax, 60, { color = "#d62728",
      width = 2.5, label = opts.label or (M.law_label(law, "fitted law") .. (of_compute and "" or " (compute-optimal)")) })
    if opts.compute then
      local N, L = best(opts.compute)
      f:vline { x = opts.compute, color = "#d62728", dash = "dotted", label = "question: " .. F.formats.flops(opts.compute) .. " FLOP" }
      f:points { x = { opts.compute }, y = { L }, color = "#d62728", marker = "diamond", size = 2 }
      f:text { x = opts.compute, y = L, text = N and string.format("L = %.3f at N = %s", L, F.formats.count(N))
                 or string.format("L = %.3f", L), align = "right", offset = { -1.5, 0.8 } }
    end
  end
  return f
end

-- ---- 2. IsoFLOP curves ----------------------------------------------------------------------

-- Fits loss = c0 + c1·x + c2·x², x = ln N, to one budget's points { {N, loss}, ... } by least squares:
-- fit.isoflop's parabola (runtime/fit/isoflop.h). Returns { c0, c1, c2 }, or nil for fewer than 3
-- distinct sizes.
local function fit_parabola(points, C)
  local N, loss, budget = {}, {}, {}
  for i, p in ipairs(points) do N[i], loss[i], budget[i] = p[1], p[2], C end
  local ok, iso = pcall(native_fit.isoflop, native_fit.observations { N = N, loss = loss }, { budget = budget })
  if not ok then
    if tostring(iso):find("no budget has runs of 3 or more distinct sizes", 1, true) then return nil end
    error(iso, 0)
  end
  return iso.curves[1].coefficients
end

local function parabola_entry(fit, C)
  -- The fit module's IsoFLOP result: budgets = {C_1, ...} and a law whose params are k2_i, k1_i,
  -- k0_i (loss = k2_i·ln²N + k1_i·ln N + k0_i), as result.parabolas or the fit itself.
  local budgets = first(fit, "budgets") or first(get(fit, "parabolas"), "budgets")
  local params = get(get(fit, "parabolas"), "params") or get(fit, "params")
  if type(get(budgets, 1)) == "number" and get(params, "k2_1") then
    for i = 1, math.huge do
      local b = get(budgets, i)
      if b == nil then break end
      if math.abs(math.log(b / C)) < 0.03 then
        return { C = b, coefficients = { get(params, "k0_" .. i), get(params, "k1_" .. i), get(params, "k2_" .. i) } }
      end
    end
    return nil
  end
  local list = first(fit, "budgets", "parabolas", "curves", "fits", "minima")  -- minima: a study's IsoFLOP fit
  if list == nil then return nil end
  for i = 1, math.huge do
    local e = get(list, i)
    if e == nil then break end
    local c = first(e, "C", "compute", "flops")
    if c and math.abs(math.log(c / C)) < 0.03 then return e end
  end
  return nil
end

-- For one budget: a curve function(N) -> loss and its minimum, from (in this order) the budget's
-- entry in an IsoFLOP fit, a parametric law, or a parabola fitted here to the budget's runs.
local function isoflop_curve(where, fit, group)
  local C = group.C
  local entry = fit and parabola_entry(fit, C)
  if entry then
    local predict = get(entry, "predict")
    local coef = first(entry, "coefficients", "coef")
    local N_opt, L_min = first(entry, "N_opt", "N"), first(entry, "loss_min", "L_min", "loss")
    local curve
    if type(predict) == "function" then
      curve = function(N) local v = predict(entry, N); if type(v) ~= "number" then v = predict(N) end; return v end
    elseif coef then
      local c0, c1, c2 = get(coef, 1), get(coef, 2), get(coef, 3)
      curve = function(N) local x = math.log(N); return c0 + c1 * x + c2 * x * x end
      if not N_opt and c2 > 0 then N_opt = math.exp(-c1 / (2 * c2)); L_min = curve(N_opt) end
    elseif first(entry, "a", "c2") and first(entry, "b", "c1") then
      local c2, c1, c0 = first(entry, "a", "c2"), first(entry, "b", "c1"), first(entry, "c", "c0")
      curve = function(N) local x = math.log(N); return c0 + c1 * x + c2 * x * x end
      if not N_opt and c2 > 0 then N_opt = math.exp(-c1 / (2 * c2)); L_min = curve(N_opt) end
    elseif N_opt and L_min and first(entry, "curvature") then
      local k = first(entry, "curvature")
      curve = function(N) local x = math.log(N / N_opt); return L_min + k * x * x end
    end
    if curve then return curve, N_opt, L_min or (N_opt and curve(N_opt)), "fitted parabola" end
  end
  if fit and get(fit, "predict") and not first(fit, "budgets", "parabolas", "curves", "fits")
      and not get(get(fit, "params"), "k2_1") then
    local predict = M.predictor(where, fit)
    local N_opt, L_min = M.optimum(predict, C)
    return function(N) return predict(N, C / (6 * N)) end, N_opt, L_min, M.law_label(fit, "law")
  end
  local points = {}
  for _, r in ipairs(group.runs) do points[#points + 1] = { r.N, r.loss } end
  if #points < 3 then return nil end
  local c = fit_parabola(points, C)
  if not c then return nil end
  local curve = function(N) local x = math.log(N); return c[1] + c[2] * x + c[3] * x * x end
  local N_opt, L_min
  if c[3] > 0 then N_opt = math.exp(-c[2] / (2 * c[3])); L_min = curve(N_opt) end
  return curve, N_opt, L_min, "parabola in log N (fitted here)"
end

-- Why runs of a study are no IsoFLOP sweep, or nil: runs that come from a study (a results store's,
-- a study's runs or observations) and of which none has a compute budget are of another sweep (a
-- grid, say), whose runs may share a compute by chance: they make no IsoFLOP curves.
function M.not_isoflop(rs)
  local of_study, budgeted = 0, 0
  for _, r in ipairs(rs) do
    if r.of_study then of_study = of_study + 1 end
    if r.budget then budgeted = budgeted + 1 end
  end
  if of_study == 0 or budgeted > 0 then return nil end
  return string.format("these runs are no IsoFLOP sweep: they come from a study, and none of the %d has a compute " ..
    "budget (the runs of a sweep.isoflop carry one, as .budget, or .config.budget when read from a results store); " ..
    "a grid's runs that happen to share a compute are no IsoFLOP curve", #rs)
end

-- The IsoFLOP minima: { { C =, N =, D =, loss = }, ... } per budget, from the same sources as
-- plot.isoflop (an IsoFLOP fit, a law, or parabolas fitted here). Runs of a study's other sweeps
-- (M.not_isoflop) have none.
function M.isoflop_minima(runs, fit)
  local rs = M.runs("plot.isoflop_minima", runs)
  local minima = {}
  if M.not_isoflop(rs) then return minima end
  for _, g in ipairs(M.budgets(rs)) do
    local _, N, L = isoflop_curve("plot.isoflop_minima", fit, g)
    if N then minima[#minima + 1] = { C = g.C, N = N, D = g.C / (6 * N), loss = L } end
  end
  return minima
end

-- plot.isoflop(runs [, fit] [, { title = }]): loss against N at each compute budget (Chinchilla
-- figure 3, left), coloured by budget, with a curve per budget and its minimum. `fit` is an
-- IsoFLOP fit (per-budget parabolas: a list in fit.budgets/parabolas/curves/fits whose entries
-- have C and either coefficients = {c0, c1, c2} of loss = c0 + c1·ln N + c2·ln² N, or N_opt,
-- loss_min and curvature, or a predict(N) function), or a parametric law (its IsoFLOP curves
-- L(N, C/6N)), or nil (parabolas in ln N are fitted here to each budget's runs). Runs of no
-- IsoFLOP sweep are refused: no budget with two sizes or more, or a study's runs with no budget.
function M.isoflop(runs, fit, opts)
  opts = check("plot.isoflop", opts, { "title" })
  if fit ~= nil and type(fit) ~= "table" and type(fit) ~= "userdata" then
    error("plot.isoflop: the fit must be an IsoFLOP fit (fit.isoflop's result, a study's s.fits.isoflop) or a law "
      .. "of the loss (fit.published.chinchilla, fit.chinchilla(...)), or nil to fit a parabola per budget here (got "
      .. type(fit) .. ")", 2)
  end
  local rs = M.runs("plot.isoflop", runs)
  local not_isoflop = M.not_isoflop(rs)
  if not_isoflop then
    error("plot.isoflop: " .. not_isoflop .. ". plot.loss_compute draws runs at any compute", 2)
  end
  local groups = M.budgets(rs)
  local profiled = 0
  for _, g in ipairs(groups) do if M.sizes(g.runs) >= 2 then profiled = profiled + 1 end end
  if profiled == 0 then
    error(string.format("plot.isoflop: these runs are no IsoFLOP sweep: no compute budget has runs of two model " ..
      "sizes or more (%s at %s); IsoFLOP curves need several sizes per budget (sweep.isoflop). " ..
      "plot.loss_compute draws runs at any compute", #rs == 1 and "1 run" or (#rs .. " runs"),
      #groups == 1 and "1 budget" or (#groups .. " different budgets")), 2)
  end
  local f = F.figure { title = opts.title or "IsoFLOP curves", xlabel = "parameters N", ylabel = "final loss (nats/token)",
    xlog = true, xformat = "count", colorbar = { label = "compute C (FLOP)", log = true, format = "flops" },
    legend = "top right", headroom = 0.22 }
  local mx, my = {}, {}
  local curve_label
  for _, g in ipairs(groups) do
    local x, y = {}, {}
    local lo, hi = math.huge, 0
    for i, r in ipairs(g.runs) do
      x[i], y[i] = r.N, r.loss
      lo, hi = math.min(lo, r.N), math.max(hi, r.N)
    end
    f:points { x = x, y = y, z = g.C, size = 1.2 }
    local curve, N_opt, L_min, label = isoflop_curve("plot.isoflop", fit, g)
    if curve then
      curve_label = curve_label or label
      local cx, cy = {}, {}
      local a, b = lo / 1.4, hi * 1.4
      if N_opt and N_opt > 0 then a, b = math.min(a, N_opt / 1.4), math.max(b, N_opt * 1.4) end
      for _, N in ipairs(logspace(a, b, 50)) do
        local v = curve(N)
        if F.is_finite(v) then cx[#cx + 1], cy[#cy + 1] = N, v end
      end
      if #cx > 1 then f:line { x = cx, y = cy, z = g.C, width = 1.8 } end
      if N_opt and L_min then mx[#mx + 1], my[#my + 1] = N_opt, L_min end
    end
  end
  f:points { x = { 1 }, y = { 1 }, color = "#666666", label = "runs", legend_only = true, size = 1.2 }
  if curve_label then
    f:line { x = { 1 }, y = { 1 }, color = "#666666", width = 1.8, label = curve_label, legend_only = true }
  end
  if #mx > 0 then
    f:line { x = mx, y = my, color = "#333333", width = 1, dash = "dotted" }
    f:points { x = mx, y = my, color = "#000000", marker = "diamond", size = 1.6, label = "minimum: N_{opt}(C)" }
  end
  f.minima = {}
  for i = 1, #mx do f.minima[i] = { N = mx[i], loss = my[i] } end
  return f
end

-- ---- 3. allocation: N_opt and D_opt against compute ----------------------------------------

-- A power law C -> value from an allocation law object, or nil.
local function power_law(where, law)
  if law == nil then return nil end
  local params = get(law, "params") or law
  local k = first(params, "k", "coefficient")
  local a = first(params, "a", "exponent")
  local pl = { law = law }
  if type(k) == "number" and type(a) == "number" then
    pl.k, pl.a = k, a
    pl.predict = function(C) return k * C ^ a end
  elseif get(law, "predict") then
    pl.predict = function(C)
      local v = law:predict { C = C }
      if type(v) ~= "number" then v = first(v, "N", "D", 1) end
      return v
    end
  else
    error(where .. ": an allocation law needs params k and a (value = k·C^a) or a predict{ C = } method", 4)
  end
  local intervals = get(law, "intervals")
  local lo, hi = interval(first(intervals, "a", "exponent"))
  if lo then pl.a_interval = { lo, hi } end
  local samples = first(law, "samples", "bootstrap")
  if type(samples) == "table" and #samples > 1 then pl.samples = samples end
  return pl
end

-- The pointwise 95% band of a power law at each C: from bootstrap samples when the law has them,
-- else from the exponent's interval pivoted at C_pivot (the middle of the fitted compute range,
-- where the law is best determined).
local function power_band(pl, Cs, C_pivot)
  if pl.samples then
    local low, high = {}, {}
    for i, C in ipairs(Cs) do
      local values = {}
      for _, s in ipairs(pl.samples) do
        local k, a = first(get(s, "params") or s, "k"), first(get(s, "params") or s, "a")
        if k and a then values[#values + 1] = k * C ^ a end
      end
      low[i], high[i] = interval95(values)
      if not low[i] then return nil end
    end
    return low, high, "95% bootstrap band"
  end
  if pl.a_interval and C_pivot then
    local pivot = pl.predict(C_pivot)
    local low, high = {}, {}
    for i, C in ipairs(Cs) do
      local u = pivot * (C / C_pivot) ^ pl.a_interval[1]
      local v = pivot * (C / C_pivot) ^ pl.a_interval[2]
      low[i], high[i] = math.min(u, v), math.max(u, v)
    end
    return low, high, "interval of the exponent"
  end
  return nil
end

-- Least-squares power law through points { {C, value} }.
local function fit_power(points)
  local n, sx, sy, sxx, sxy = #points, 0, 0, 0, 0
  for _, p in ipairs(points) do
    local x, y = math.log(p[1]), math.log(p[2])
    sx, sy, sxx, sxy = sx + x, sy + y, sxx + x * x, sxy + x * y
  end
  local a = (n * sxy - sx * sy) / (n * sxx - sx * sx)
  local k = math.exp((sy - a * sx) / n)
  return { k = k, a = a, predict = function(C) return k * C ^ a end }
end

-- Compute-optimal N of a parametric law with Chinchilla's named parameters, in closed form.
function chinchilla_n_opt(params)
  local E, A, B, alpha, beta = first(params, "E"), first(params, "A"), first(params, "B"), first(params, "alpha"),
      first(params, "beta")
  if not (E and A and B and alpha and beta) then return nil end
  local G = (alpha * A / (beta * B)) ^ (1 / (alpha + beta))
  local a = beta / (alpha + beta)
  return function(C) return G * (C / 6) ^ a end
end

-- plot.allocation{ minima =, runs =, isoflop =, N_opt =, D_opt =, law =, compute =, title =, reference = }:
-- compute-optimal parameters and tokens against compute (Chinchilla figure 3, middle and right),
-- two panels, with the fitted power laws and their interval bands extended to `compute` (the
-- planning question's budget, marked with the predicted N_opt and D_opt); the laws are drawn solid
-- over the compute the minima and runs cover, dashed beyond it (M.fitted_line).
--   minima   { { C =, N =, D = }, ... } (also accepts N_opt/D_opt/compute spellings), or computed
--            from runs (+ isoflop fit) as plot.isoflop does.
--   N_opt, D_opt   allocation power laws (params k, a); D_opt defaults to C/(6·N_opt).
--   law      a parametric law instead (its compute-optimal allocation; closed form for Chinchilla's
--            parameters, with a band from law.samples when present).
--   If neither N_opt nor law is given, a power law is fitted here to the minima.
--   reference = true adds Chinchilla's published allocation (approach 3) for comparison.
function M.allocation(spec)
  spec = check("plot.allocation", spec, { "minima", "runs", "isoflop", "N_opt", "D_opt", "law", "compute", "title",
    "reference" })
  local where = "plot.allocation"
  spec.compute = compute_of(where, spec.compute)
  local minima = {}
  local minima_label = "IsoFLOP minima"
  if spec.minima then
    for i = 1, math.huge do
      local m = get(spec.minima, i)
      if m == nil then break end
      local C = first(m, "C", "compute", "flops")
      local N = first(m, "N", "N_opt", "params")
      local D = first(m, "D", "D_opt", "tokens")
      positive(where, string.format("minima[%d].C", i), C)
      positive(where, string.format("minima[%d].N", i), N)
      minima[#minima + 1] = { C = C, N = N, D = D or C / (6 * N) }
      if get(m, "N_before") ~= nil then minima_label = "approach 1 switches" end
    end
  elseif type(get(spec.isoflop, "N_opt")) == "table" and type(get(spec.isoflop, "budgets")) == "table"
      and type(get(get(spec.isoflop, "budgets"), 1)) == "number" then
    -- The fit module's IsoFLOP result: budgets, N_opt, D_opt arrays.
    local iso = spec.isoflop
    for i = 1, math.huge do
      local C, N = get(get(iso, "budgets"), i), get(get(iso, "N_opt"), i)
      if C == nil or N == nil then break end
      if N == N and N > 0 and N < math.huge then  -- NaN where a budget's parabola has no minimum
        minima[#minima + 1] = { C = C, N = N, D = get(get(iso, "D_opt"), i) or C / (6 * N) }
      end
    end
  elseif spec.runs then
    minima = M.isoflop_minima(spec.runs, spec.isoflop)
  end
  local n_law = power_law(where, spec.N_opt or (not spec.law and first(spec.isoflop, "N_law")) or nil)
  local d_law = power_law(where, spec.D_opt or (not spec.law and first(spec.isoflop, "D_law")) or nil)
  local n_label, d_label = "fitted N_{opt} = k·C^{a}", "fitted D_{opt} = k'·C^{b}"
  local law_samples
  if not n_law and spec.law then
    local closed = chinchilla_n_opt(get(spec.law, "params"))
    if closed then
      n_law = { predict = closed }
    else
      local predict = M.predictor(where, spec.law)
      n_law = { predict = function(C) return (M.optimum(predict, C)) end }
    end
    -- A law of Chinchilla's form by its name and the allocation it implies: its loss formula, as long
    -- as the panel is wide, pushed the bottom-right legend over the smallest minima. (Other laws'
    -- optimum is found numerically: no exponent to name.)
    local p = get(spec.law, "params")
    local alpha, beta = get(p, "alpha"), get(p, "beta")
    local label, name = first(spec.law, "label"), first(spec.law, "name", "kind")
    -- A label is the caller's enhanced text; a name is shown as it is spelled (M.law_label).
    name = (type(label) == "string" and label) or (type(name) == "string" and F.escape(name)) or "law"
    if closed and alpha and beta and alpha + beta > 0 then
      n_label = string.format("%s: N_{opt} ∝ C^{%.3f}", name, beta / (alpha + beta))
    else
      n_label = M.law_label(spec.law, "law")
    end
    local samples = first(spec.law, "samples", "bootstrap")
    if type(samples) == "table" and #samples > 1 and chinchilla_n_opt(get(samples[1], "params") or samples[1]) then
      law_samples = samples
    end
  end
  if not n_law then
    if #minima < 2 then
      error(where .. ": give N_opt (a power law), law, or at least two minima (or IsoFLOP runs) to fit one to", 2)
    end
    local points = {}
    for _, m in ipairs(minima) do points[#points + 1] = { m.C, m.N } end
    n_law = fit_power(points)
    n_label = string.format("N_{opt} ∝ C^{%.3f} (fitted here)", n_law.a)
  end
  if not d_law and minima[1] and not n_law.k and not spec.law and #minima >= 2 then
    local points = {}
    for _, m in ipairs(minima) do points[#points + 1] = { m.C, m.D } end
    d_law = fit_power(points)
    d_label = string.format("D_{opt} ∝ C^{%.3f} (fitted here)", d_law.a)
  end
  if n_law.a and n_label:find("k·C") then n_label = string.format("N_{opt} = %s·C^{%.3f}", fmt(n_law.k), n_law.a) end
  if d_law and d_law.a and d_label:find("k'·C") then d_label = string.format("D_{opt} = %s·C^{%.3f}", fmt(d_law.k), d_law.a) end

  local Cmin, Cmax = math.huge, 0
  for _, m in ipairs(minima) do Cmin, Cmax = math.min(Cmin, m.C), math.max(Cmax, m.C) end
  if spec.compute then positive(where, "compute", spec.compute) end
  -- The compute the data cover (the minima's budgets, and the runs'), over which the fitted laws are
  -- drawn solid; dashed beyond. A law given with no minima or runs has no such range: drawn solid.
  local data_lo, data_hi
  if #minima > 0 then data_lo, data_hi = Cmin, Cmax end
  if spec.runs then
    for _, r in ipairs(M.runs(where, spec.runs)) do
      data_lo, data_hi = math.min(data_lo or r.C, r.C), math.max(data_hi or r.C, r.C)
    end
  end
  if Cmin == math.huge and data_lo then Cmin, Cmax = data_lo, data_hi end  -- runs with no IsoFLOP minima
  if Cmin == math.huge then
    if not spec.compute then error(where .. ": give minima, runs or compute so the figure has a compute range", 2) end
    Cmin, Cmax = spec.compute / 1e4, spec.compute
  end
  local C_pivot = math.sqrt(Cmin * Cmax)
  local lo, hi = Cmin / 2, math.max(Cmax * 2, (spec.compute or 0) * 1.5)
  local Cs = logspace(lo, hi, 60)

  local function panel(title, ylabel, law, label, which)
    -- N_opt and D_opt rise with compute: the lower right is empty, and the question's value
    -- (labelled to the left of its point at the top right) stays clear of the legend.
    local f = F.figure { title = title, xlabel = "training compute C (FLOP)", ylabel = ylabel, xlog = true, ylog = true,
      xformat = "flops", yformat = "count", legend = "bottom right" }
    local low, high, band_label = power_band(law, Cs, C_pivot)
    if not low and law_samples then
      low, high = {}, {}
      for i, C in ipairs(Cs) do
        local values = {}
        for _, s in ipairs(law_samples) do
          local N = chinchilla_n_opt(get(s, "params") or s)(C)
          values[#values + 1] = which == "N" and N or C / (6 * N)
        end
        low[i], high[i] = interval95(values)
        if not low[i] then low = nil break end
      end
      band_label = low and "95% bootstrap band" or nil
    end
    if low then f:band { x = Cs, low = low, high = high, color = "#1f77b4", opacity = 0.22, label = band_label } end
    -- Solid over the data's compute, dashed on to the question's budget: an extrapolation.
    M.fitted_line(f, law.predict, lo, hi, data_lo, data_hi, 60, { color = "#1f77b4", width = 2.5, label = label,
      extrapolated = M.extrapolated_short })
    if spec.reference then
      local chinchilla = chinchilla_n_opt { E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 }
      local ry = {}
      for i, C in ipairs(Cs) do local N = chinchilla(C); ry[i] = which == "N" and N or C / (6 * N) end
      -- Dash-dotted: dashed is the fitted law's extrapolation.
      f:line { x = Cs, y = ry, color = "#888888", width = 1.5, dash = "dashdot", label = "Chinchilla (published, approach 3)" }
    end
    if #minima > 0 then
      local mx, my = {}, {}
      for i, m in ipairs(minima) do mx[i], my[i] = m.C, which == "N" and m.N or m.D end
      f:points { x = mx, y = my, color = "#000000", marker = "diamond", size = 1.5, label = minima_label }
    end
    if spec.compute then
      local v = law.predict(spec.compute)
      local text = (which == "N" and "N_{opt} = " or "D_{opt} = ") .. F.formats.count(v)
      if low then
        local ql, qh = power_band(law, { spec.compute }, C_pivot)
        if not ql and law_samples then
          local values = {}
          for _, s in ipairs(law_samples) do
            local N = chinchilla_n_opt(get(s, "params") or s)(spec.compute)
            values[#values + 1] = which == "N" and N or spec.compute / (6 * N)
          end
          local l, h = interval95(values)
          if l then ql, qh = { l }, { h } end
        end
        if ql then text = text .. string.format(" [%s, %s]", F.formats.count(ql[1]), F.formats.count(qh[1])) end
      end
      f:vline { x = spec.compute, color = "#d62728", dash = "dotted", label = "question: " .. F.formats.flops(spec.compute) .. " FLOP" }
      f:points { x = { spec.compute }, y = { v }, color = "#d62728", marker = "circle", size = 1.8 }
      f:text { x = spec.compute, y = v, text = text, align = "right", offset = { -1.2, -0.1 } }
    end
    return f
  end

  local n_panel = panel("Compute-optimal parameters", "parameters N_{opt}", n_law, n_label, "N")
  local d_source = d_law
  if not d_source then
    local band_source = n_law
    d_source = { predict = function(C) return C / (6 * n_law.predict(C)) end }
    if band_source.samples then
      d_source.samples = {}
      for i, s in ipairs(band_source.samples) do
        local p = get(s, "params") or s
        d_source.samples[i] = { k = 1 / (6 * p.k), a = 1 - p.a }
      end
    elseif band_source.a_interval then
      d_source.k, d_source.a = n_law.k and 1 / (6 * n_law.k), n_law.a and 1 - n_law.a
      d_source.a_interval = { 1 - band_source.a_interval[2], 1 - band_source.a_interval[1] }
    end
    d_label = n_law.a and string.format("D_{opt} = C/(6·N_{opt}) ∝ C^{%.3f}", 1 - n_law.a) or "D_{opt} = C/(6·N_{opt})"
  end
  local d_panel = panel("Compute-optimal tokens", "tokens D_{opt}", d_source, d_label, "D")
  return F.panels { n_panel, d_panel, title = spec.title or "Compute-optimal allocation" }
end

-- ---- 4. data-constrained scaling ------------------------------------------------------------

-- The markers and dashes that tell unique data U_D apart in the data-constrained figure, smallest U_D first.
M.U_markers = { "circle", "square", "triangle", "diamond", "down", "pentagon" }
M.U_dashes = { "solid", "dashed", "dotted", "dashdot", "long dashed" }

-- Published R_D* of Muennighoff et al. (used when the law carries none).
M.published_R_D = 15.39

-- Where R_D* comes from, for the legend: "given" (opts.R_D or a modified published law), "fitted"
-- (a fitted law, or a law with intervals or bootstrap samples), "published" (fit.published's).
local function R_D_source(law, given)
  if given then return "given" end
  local fitted = get(law, "fitted")
  local name = first(law, "name")
  if fitted == true then return "fitted" end
  if fitted == false then
    return (type(name) == "string" and name:find("modified", 1, true)) and "given" or "published"
  end
  if first(law, "intervals", "samples", "bootstrap") then return "fitted" end
  return "the law's"
end
M.R_D_source = R_D_source

-- plot.data_constrained(runs [, law] [, { R_D =, title = }]): two panels after Muennighoff et al.:
-- loss against epochs, and the return on repeated data: what U unique tokens seen for E epochs
-- are worth, D'/U = 1 + R_D*(1 − e^{−(E−1)/R_D*}), against new data. The left panel follows the
-- sweep: runs that share a model size and a number of tokens (Muennighoff's figure 3: fixed
-- compute, the epochs traded against unique data) are drawn per N and D, coloured by compute,
-- with the law's loss L(N, D, D/E); runs of a sweep.data_constrained (fixed N and unique data U_D,
-- more epochs costing more compute) per model size and U_D, coloured by N, with the law's loss
-- L(N, E·U_D, U_D); where there are several U_D, each has its own marker and dash, named in the legend.
function M.data_constrained(runs, law, opts)
  opts = check("plot.data_constrained", opts, { "R_D", "title", "max_epochs" })
  local rs = M.runs("plot.data_constrained", runs)
  for i, r in ipairs(rs) do
    if not r.epochs then
      error(string.format("plot.data_constrained: run %d has neither epochs nor unique_tokens", i), 2)
    end
  end
  local max_epochs = opts.max_epochs or 1
  for _, r in ipairs(rs) do max_epochs = math.max(max_epochs, r.epochs * 1.3) end
  local predict = law and M.predictor("plot.data_constrained", law)

  -- Runs grouped by model size and one other quantity (each within 2%), sorted by N then that
  -- quantity: { { N =, [key] =, runs = {...} }, ... }.
  local function sets_by(key)
    local sets, sorted = {}, {}
    for i, r in ipairs(rs) do sorted[i] = r end
    table.sort(sorted, function(a, b) return a.N < b.N or (a.N == b.N and a[key] < b[key]) end)
    for _, r in ipairs(sorted) do
      local found
      for _, set in ipairs(sets) do
        if math.abs(math.log(r.N / set.N)) < 0.02 and math.abs(math.log(r[key] / set[key])) < 0.02 then found = set break end
      end
      if not found then found = { N = r.N, [key] = r[key], runs = {} }; sets[#sets + 1] = found end
      found.runs[#found.runs + 1] = r
    end
    return sets
  end
  local function in_shared(sets)
    local n = 0
    for _, set in ipairs(sets) do if #set.runs > 1 then n = n + #set.runs end end
    return n
  end
  -- Fixed compute (one N and D, the epochs traded against unique data) when most runs share their
  -- N and D with another run, and more than share their N and U_D; else fixed N and U_D (a
  -- sweep.data_constrained, whose runs share a compute only by chance: N = 2e7 on 1e9 tokens and
  -- N = 1e8 on 2e8 do, and are no set the law can draw one line for).
  local at_compute, at_unique = sets_by("D"), sets_by("unique_tokens")
  local shared = in_shared(at_compute)
  local fixed_compute = shared * 2 > #rs and shared > in_shared(at_unique)
  local left
  -- One set of runs (a budget, or a model size with its unique data) coloured by z: its points, and
  -- the law's loss at each number of epochs (loss_at(epochs)), or a line through the points.
  -- style: { marker =, dash = } of the set's points and line (nil: circles, solid).
  local function draw_set(x, y, z, loss_at, style)
    style = style or {}
    left:points { x = x, y = y, z = z, size = 1.2, marker = style.marker }
    if predict then
      local lx, ly = {}, {}
      for _, e in ipairs(logspace(1, max_epochs, 40)) do
        local v = loss_at(e)
        if F.is_finite(v) then lx[#lx + 1], ly[#ly + 1] = e, v end
      end
      left:line { x = lx, y = ly, z = z, width = 1.8, dash = style.dash }
    elseif #x > 1 then
      left:line { x = x, y = y, z = z, width = 1, dash = style.dash }
    end
  end
  local per_U  -- the unique data of each style, when sets of one N differ in U_D: { { U =, marker =, dash = }, ... }
  if fixed_compute then
    left = F.figure { title = "Loss against epochs at fixed compute", xlabel = "epochs over the unique data",
      ylabel = "final loss (nats/token)", xlog = true, xformat = "number",
      colorbar = { label = "compute C (FLOP)", log = true, format = "flops" }, legend = "top left" }
    for _, set in ipairs(at_compute) do
      table.sort(set.runs, function(a, b) return a.epochs < b.epochs end)
      local x, y = {}, {}
      local logC = 0
      for i, r in ipairs(set.runs) do x[i], y[i] = r.epochs, r.loss; logC = logC + math.log(r.C) end
      draw_set(x, y, math.exp(logC / #set.runs), function(e) return predict(set.N, set.D, set.D / e) end)
    end
  else
    local sets = at_unique
    for _, set in ipairs(sets) do set.U = set.unique_tokens end
    local one_U = true
    for _, set in ipairs(sets) do if math.abs(math.log(set.U / sets[1].U)) >= 0.02 then one_U = false end end
    local title = one_U and string.format("Loss against epochs: fixed N, U_{D} = %s unique tokens", F.formats.count(sets[1].U))
        or "Loss against epochs at fixed N and unique data U_{D}"
    left = F.figure { title = title, xlabel = "epochs over the unique data", ylabel = "final loss (nats/token)",
      xlog = true, xformat = "number", colorbar = { label = "parameters N", log = true, format = "count" },
      legend = "top right" }
    -- Sets of one N at several U_D share the colour of N: each U_D gets a marker and a dash, named
    -- in the legend, so that they can be told apart.
    if not one_U then
      per_U = {}
      local Us = {}
      for _, set in ipairs(sets) do
        local known = false
        for _, U in ipairs(Us) do if math.abs(math.log(set.U / U)) < 0.02 then known = true end end
        if not known then Us[#Us + 1] = set.U end
      end
      table.sort(Us)
      for i, U in ipairs(Us) do
        per_U[i] = { U = U, marker = M.U_markers[(i - 1) % #M.U_markers + 1], dash = M.U_dashes[(i - 1) % #M.U_dashes + 1] }
      end
    end
    local function style_of(U)
      for _, s in ipairs(per_U or {}) do if math.abs(math.log(U / s.U)) < 0.02 then return s end end
    end
    for _, set in ipairs(sets) do
      table.sort(set.runs, function(a, b) return a.epochs < b.epochs end)
      local x, y = {}, {}
      for i, r in ipairs(set.runs) do x[i], y[i] = r.epochs, r.loss end
      draw_set(x, y, set.N, function(e) return predict(set.N, set.U * e, set.U) end, style_of(set.U))
    end
  end
  if per_U then
    for _, s in ipairs(per_U) do
      left:line { x = { 1 }, y = { 1 }, color = "#666666", width = predict and 1.8 or 1, dash = s.dash, marker = s.marker,
                  size = 1.2, label = string.format("U_{D} = %s: runs and %s", F.formats.count(s.U),
                    predict and "law" or "line through them"), legend_only = true }
    end
  else
    left:points { x = { 1 }, y = { 1 }, color = "#666666", label = "runs", legend_only = true }
    if predict then
      left:line { x = { 1 }, y = { 1 }, color = "#666666", width = 1.8,
                  label = fixed_compute and "law, same N and D" or "law, same N and U_{D}", legend_only = true }
    end
  end

  local params = law and get(law, "params")
  local law_R = first(params, "R_D", "R_D_star", "RD")
  local R = opts.R_D or law_R or M.published_R_D
  local R_source = (opts.R_D or law_R) and R_D_source(law, opts.R_D ~= nil) or "published"
  local right = F.figure { title = "Return on repeated data", xlabel = "epochs E over U_D unique tokens",
    ylabel = "effective data D'/U_D", xlog = true, ylog = true, xformat = "number", yformat = "number",
    legend = "top left" }
  -- Out to 128 epochs at least (or twice the runs' most): the 16-epoch point's label, written to its
  -- right, ran past the panel's edge when the axis ended at 64.
  local E = logspace(1, math.max(128, 2 * max_epochs), 60)
  -- 1 - exp(-x) without cancellation for small x (R* in the millions or more makes x tiny; Lua has
  -- no expm1): the series to x^3 where its next term is below double precision.
  local function one_minus_exp_neg(x)
    if math.abs(x) < 1e-5 then return x * (1 - x / 2 * (1 - x / 3)) end
    return 1 - math.exp(-x)
  end
  local function worth(e, r) return 1 + r * one_minus_exp_neg((e - 1) / r) end
  local ideal, value = {}, {}
  for i, e in ipairs(E) do ideal[i], value[i] = e, worth(e, R) end
  local lo, hi = interval(first(get(law, "intervals"), "R_D", "R_D_star"))
  if lo then
    local bl, bh = {}, {}
    for i, e in ipairs(E) do bl[i], bh[i] = worth(e, lo), worth(e, hi) end
    right:band { x = E, low = bl, high = bh, color = "#1f77b4", label = "95% interval of R_{D}*" }
  end
  right:line { x = E, y = ideal, color = "#888888", dash = "dashed", width = 1.5, label = "as good as new data" }
  right:line { x = E, y = value, color = "#1f77b4", width = 2.5,
               label = string.format("repeated data, R_{D}* = %s (%s)", fmt(R), R_source) }
  for _, e in ipairs({ 4, 16 }) do
    local w = worth(e, R)
    right:points { x = { e }, y = { w }, color = "#d62728", size = 1.5 }
    right:text { x = e, y = w, text = string.format("%d epochs: worth %.1f (%d%%)", e, w, math.floor(100 * w / e + 0.5)),
                 align = "left", offset = { 0.8, -0.9 } }
  end
  return F.panels { left, right, title = opts.title or "Data-constrained scaling" }
end

-- ---- 5. residuals ---------------------------------------------------------------------------

-- plot.residuals(runs, law [, { title = }]): the fit's log residuals ln(loss) − ln(predicted)
-- against compute, coloured by N, with ±1 RMSE shaded; and observed against predicted loss.
function M.residuals(runs, law, opts)
  opts = check("plot.residuals", opts, { "title" })
  local rs = M.runs("plot.residuals", runs)
  local predict = M.predictor("plot.residuals", law)
  local x, res, z, obs, pred = {}, {}, {}, {}, {}
  local ss, mean = 0, 0
  for i, r in ipairs(rs) do
    local p = predict(r.N, r.D, r.unique_tokens)
    if not (type(p) == "number" and p > 0) then
      error(string.format("plot.residuals: the law predicts %s for run %d (N = %g, D = %g)", tostring(p), i, r.N, r.D), 2)
    end
    x[i], z[i], obs[i], pred[i] = r.C, r.N, r.loss, p
    res[i] = math.log(r.loss) - math.log(p)
    ss = ss + res[i] ^ 2
    mean = mean + math.log(r.loss)
  end
  mean = mean / #rs
  local st = 0
  for _, r in ipairs(rs) do st = st + (math.log(r.loss) - mean) ^ 2 end
  local rmse = math.sqrt(ss / #rs)
  local r2 = st > 0 and 1 - ss / st or 1
  local left = F.figure { title = "Residuals against compute", xlabel = "training compute C (FLOP)",
    ylabel = "relative residual  ln(loss / predicted)", xlog = true, xformat = "flops", yformat = "percent",
    colorbar = { label = "parameters N", log = true, format = "count" } }
  local Cmin, Cmax = math.huge, 0
  for _, c in ipairs(x) do Cmin, Cmax = math.min(Cmin, c), math.max(Cmax, c) end
  left:band { x = { Cmin / 1.2, Cmax * 1.2 }, low = { -rmse, -rmse }, high = { rmse, rmse }, color = "#888888", opacity = 0.18,
              label = string.format("±RMSE = %.2g%%", 100 * rmse) }
  left:hline { y = 0, color = "#444444", dash = "solid", width = 1 }
  left:points { x = x, y = res, z = z, label = "runs", size = 1.2 }
  local right = F.figure { title = "Observed against predicted", xlabel = "predicted loss (nats/token)",
    ylabel = "observed loss (nats/token)",
    xlog = true, ylog = true, legend = "top left" }
  local lo, hi = math.huge, 0
  for i = 1, #obs do lo, hi = math.min(lo, obs[i], pred[i]), math.max(hi, obs[i], pred[i]) end
  right:line { x = { lo, hi }, y = { lo, hi }, color = "#888888", dash = "dashed", width = 1.5, label = "perfect fit" }
  right:points { x = pred, y = obs, color = "#1f77b4", size = 1.2,
                 label = string.format("runs: R^2 (log) = %.4f", r2) }
  local p = F.panels { left, right, title = opts.title or (M.law_label(law, "fit") .. ": residuals") }
  p.rmse, p.r2 = rmse, r2
  return p
end

-- ---- 6. training curves ---------------------------------------------------------------------

-- plot.curves(run_or_runs [, { x = "tokens"|"compute", eval = true, title = }]): training loss
-- (lines) and evaluation loss (points) against tokens or compute, for one run or all of them;
-- up to six runs get a legend, more are coloured by N.
function M.curves(runs, opts)
  opts = check("plot.curves", opts, { "x", "eval", "title" })
  -- eval = 0 or "no" drew the evaluation points, as any value but false did.
  if opts.eval ~= nil and type(opts.eval) ~= "boolean" then
    error("plot.curves: eval must be true or false, whether to draw the evaluation loss (got " ..
      (type(opts.eval) == "string" and string.format("%q", opts.eval) or type(opts.eval) == "number" and tostring(opts.eval)
       or type(opts.eval)) .. ")", 2)
  end
  -- One run: a table, or train.run's result (a RunResult object).
  local single = (type(runs) == "table" or type(runs) == "userdata") and get(runs, "curve") ~= nil
  local rs = M.runs("plot.curves", single and { runs } or runs)
  local with_curves = {}
  for _, r in ipairs(rs) do
    if type(r.curve) == "table" and #r.curve > 0 then with_curves[#with_curves + 1] = r end
  end
  if #with_curves == 0 then
    error("plot.curves: none of the runs has a curve (an array of { tokens =, loss = }). The runs that an opened " ..
      "store's s:runs{...} lists carry no curves: read each with s:curve(run.study, run.hash) from the same store " ..
      "and set run.curve to it, e.g. s = store.open(path); runs = s:runs{ study = name }; " ..
      "for _, r in ipairs(runs) do r.curve = s:curve(r.study, r.hash) end", 2)
  end
  local x_compute = opts.x == "compute"
  if opts.x ~= nil and opts.x ~= "tokens" and opts.x ~= "compute" then
    error("plot.curves: x must be \"tokens\" or \"compute\" (got " .. tostring(opts.x) .. ")", 2)
  end
  local few = #with_curves <= 6
  local title = opts.title
  if not title then
    if #with_curves == 1 then
      local r = with_curves[1]
      title = string.format("Training curve: N = %s, D = %s", F.formats.count(r.N), F.formats.count(r.D))
      if r.epochs and r.epochs > 1.01 then title = title .. ", " .. core.format_ratio(r.epochs) .. " epochs" end
    else
      title = "Training curves"
    end
  end
  -- The legend goes below: small models' curves level off high at the right, where a corner legend
  -- would cover them.
  local f = F.figure { title = title, xlabel = x_compute and "training compute (FLOP)" or "tokens seen",
    ylabel = "loss (nats/token)", xlog = true, ylog = true, xformat = x_compute and "flops" or "count",
    colorbar = (not few) and { label = "parameters N", log = true, format = "count" } or nil, legend = "below" }
  table.sort(with_curves, function(a, b) return a.N < b.N end)
  local any_eval = false
  for i, r in ipairs(with_curves) do
    local tx, ty, ex, ey = {}, {}, {}, {}
    for _, p in ipairs(r.curve) do
      local tokens = first(p, "tokens", "D")
      if tokens and tokens > 0 then
        local xv = x_compute and 6 * r.N * tokens or tokens
        local loss = first(p, "loss", "train_loss")
        if loss and loss > 0 then tx[#tx + 1], ty[#ty + 1] = xv, loss end
        local eval = first(p, "eval_loss", "val_loss")
        if eval and eval > 0 and opts.eval ~= false then ex[#ex + 1], ey[#ey + 1] = xv, eval end
      end
    end
    local color = few and F.colors[(i - 1) % #F.colors + 1] or nil
    local z = (not few) and r.N or nil
    local name = #with_curves == 1 and "training loss" or
        string.format("N = %s, D = %s", F.formats.count(r.N), F.formats.count(r.D))
    if #tx > 0 then f:line { x = tx, y = ty, color = color, z = z, width = few and 1.8 or 1.2, label = few and name or nil } end
    if #ex > 0 then
      any_eval = true
      f:points { x = ex, y = ey, color = #with_curves == 1 and "#d62728" or color, z = z, size = 0.9, marker = "circle",
                 label = #with_curves == 1 and "evaluation loss" or nil }
    end
  end
  if not few then
    f:line { x = { 1 }, y = { 1 }, color = "#666666", width = 1.2, label = "training loss (lines)", legend_only = true }
  end
  if #with_curves > 1 and any_eval then
    f:points { x = { 1 }, y = { 1 }, color = "#666666", label = "evaluation loss (points)", legend_only = true }
  end
  return f
end

return M
