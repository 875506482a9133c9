-- sweep: the sets of runs a study trains. A sweep holds a list of points (s.points; s:each() iterates
-- them, #s counts them; s[i] is not a point); each point is a table of named values: N (target
-- parameters, counted as the study counts them: all by default, non-embedding under params =
-- "non_embedding"), D (training tokens), U (unique tokens),
-- budget (training FLOPs C, for IsoFLOP sweeps), epochs, seed, and any hyperparameter or value of
-- your own (lr, batch, ...), which the study's rules and the run's configuration see.
--
--   sweep.grid{ N = sweep.log(1e5, 1e7, 5), D = sweep.log(1e6, 1e8, 5) }      Chinchilla approach 1
--   sweep.isoflop{ budgets = {1e13, 3e13, 1e14}, points = 5 }                  approach 2: D = C/6N
--   sweep.data_constrained{ unique_tokens = {1e6, 4e6}, epochs = {1, 4, 16}, N = {1e5, 1e6} }
--   sweep.list{ { N = 1e6, D = 2e7 }, { N = 4e6, D = 8e7 } }
--   sweep.product(a, b), sweep.zip(a, b), sweep.filter(s, fn), sweep.seeds(s, 3), sweep.values{ lr = {...} }
local checks = require "scalelab.study.checks"
local doc = require("scalelab.native.core").document

local sweep = {}

local Sweep = { __name = "Sweep" }
Sweep.__index = Sweep
-- A mistyped method (s:mapp()) is an error that names the one meant.
require("scalelab.missing").note_misses(Sweep, "a Sweep", "class")

local function new(kind, points, info)
  local s = setmetatable({ kind = kind, points = points }, Sweep)
  for k, v in pairs(info or {}) do s[k] = v end
  return s
end

function Sweep.__len(s) return #s.points end

-- Where a sweep function was called, for the reason a sweep is empty: " at s.lua:5", or "".
local function at_text(at)
  return at and at.short_src and (" at " .. at.short_src .. ":" .. tostring(at.line)) or ""
end

-- Why a sweep of no points has none, as empty_reason: which function made it, where, and why (a
-- study refusing an empty sweep said only "check its filters and lists", not which one). A part
-- that was empty already is named with its own reason.
local function emptied(s, reason)
  if #s.points == 0 and s.empty_reason == nil then s.empty_reason = reason end
  return s
end
local function own_reason(s)
  return s.empty_reason and (": " .. s.empty_reason) or ""
end

function Sweep:each(...)
  -- s.each() (a dot for the colon) failed at the first point, inside this file.
  if getmetatable(self) ~= Sweep then
    checks.error_at_user("sweep:each(): call it with a colon, s:each(), on a sweep (got " .. checks.type_name(self) .. ")")
  end
  -- s:each(function(p) ... end) returned the iterator and called the function on no point, silently.
  if select("#", ...) > 0 then
    checks.error_at_user("sweep:each() takes no arguments (got " .. checks.type_name((...)) .. "): it returns an "
      .. "iterator, for point in s:each() do ... end")
  end
  local i = 0
  return function()
    i = i + 1
    return self.points[i]
  end
end

local function format_value(v)
  if type(v) == "number" then
    if v ~= math.floor(v) or math.abs(v) >= 1e4 then
      return require("scalelab.native.core").format_count(v)
    end
    return tostring(math.tointeger(v) or v)
  end
  return tostring(v)
end

function sweep.describe_point(p)
  if type(p) ~= "table" then  -- it failed inside this file, "bad argument #1 to 'for iterator'"
    checks.error_at_user("sweep.describe_point(point): point must be a table such as { N = 1e6, D = 2e7 } (got "
      .. checks.type_name(p) .. ")")
  end
  local keys = {}
  for k in pairs(p) do keys[#keys + 1] = k end
  local order = { N = 1, D = 2, U = 3, epochs = 4, budget = 5, seed = 6 }
  table.sort(keys, function(a, b)
    local oa, ob = order[a] or 99, order[b] or 99
    if oa ~= ob then return oa < ob end
    return a < b
  end)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = p[k]
    if k == "budget" and type(v) == "number" then
      parts[#parts + 1] = "C=" .. require("scalelab.native.core").format_flops(v)
    elseif type(v) ~= "table" and type(v) ~= "function" then
      parts[#parts + 1] = k .. "=" .. format_value(v)
    end
  end
  return table.concat(parts, " ")
end

function Sweep:__tostring()
  local lines = { string.format("Sweep(%s: %s)", self.kind, require("scalelab.native.core").format_counted(#self.points, "point")) }
  if self.empty_reason then lines[1] = lines[1] .. ": " .. self.empty_reason end
  for i = 1, math.min(#self.points, 8) do lines[#lines + 1] = "  " .. sweep.describe_point(self.points[i]) end
  if #self.points > 8 then lines[#lines + 1] = string.format("  ... %d more", #self.points - 8) end
  return table.concat(lines, "\n")
end

-- ---- Helpers --------------------------------------------------------------------------------------

local function where() return checks.where(1) end  -- the script line that called the constructor (library frames skipped)

local function numbers(value, what, at, positive)
  if type(value) == "number" then value = { value } end
  if type(value) ~= "table" then checks.fail(at, what .. " must be a number or a list of numbers (got " .. checks.type_name(value) .. ")") end
  local problem = checks.list_problem(value, what)
  if problem then checks.fail(at, problem) end
  for i, v in ipairs(value) do
    if type(v) ~= "number" or v ~= v then
      -- A number in quotes ({ 1e10, "3e10" }): say which and how to write it, as for a single value.
      local hint = type(v) == "string" and tonumber(v) and string.format("; write it without quotes: %s[%d] = %s",
        what:match(":%s*(.*)$") or what, i, v:match("^%s*(.-)%s*$")) or ""
      checks.fail(at, string.format("%s[%d] must be a number (got %s)%s", what, i, checks.type_name(v), hint))
    end
    if positive and not (v > 0 and v < math.huge) then
      checks.fail(at, string.format("%s[%d] must be positive and finite (got %s)", what, i, tostring(v)))
    end
  end
  if #value == 0 then checks.fail(at, what .. " is empty: a sweep needs at least one value") end
  return value
end

-- a * b for the positive values of a sweep, without wrapping: integers whose product leaves the
-- 64-bit range are multiplied as doubles (a study then refuses a D it cannot count: study.lua).
local function times(a, b)
  local exact = a * b
  local float = (a + 0.0) * b
  if math.type(exact) == "integer" and math.abs(float) >= 2 ^ 63 then return float end
  return exact
end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

-- The most values sweep.log and sweep.linear make: no study trains more runs than this, and a
-- larger n is a slip (sweep.log(1, 10, 1e9)) that would otherwise hang building the list.
sweep.max_values = 10000

-- The n of sweep.log and sweep.linear: a whole number from 1 to sweep.max_values, as an integer.
local function value_count(at, fname, n)
  if type(n) ~= "number" or n ~= math.floor(n) or n < 1 then
    checks.fail(at, fname .. "(lo, hi, n): n must be a whole number >= 1 (got " .. tostring(n) .. ")")
  end
  if n > sweep.max_values then
    checks.fail(at, string.format("%s(lo, hi, n): n = %s values is more than a sweep can train (at most %d); "
      .. "did you swap the arguments? %s(lo, hi, n) takes the ends first", fname, string.format("%.10g", n), sweep.max_values, fname))
  end
  return math.tointeger(n)
end

-- n values from lo to hi, evenly spaced in log (both ends included).
function sweep.log(lo, hi, n)
  local at = checks.where(2)
  if type(lo) ~= "number" or type(hi) ~= "number" or not (lo > 0 and hi > 0) or lo == math.huge or hi == math.huge then
    checks.fail(at, string.format("sweep.log(lo, hi, n): lo and hi must be positive finite numbers (got %s, %s)",
      tostring(lo), tostring(hi)))
  end
  n = value_count(at, "sweep.log", n)
  if n == 1 then return { lo } end
  local out = {}
  for i = 0, n - 1 do out[i + 1] = math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * i / (n - 1)) end
  out[n] = hi
  return out
end

-- n values from lo to hi, evenly spaced.
function sweep.linear(lo, hi, n)
  local at = checks.where(2)
  local function finite(x) return type(x) == "number" and x == x and x ~= math.huge and x ~= -math.huge end
  if not (finite(lo) and finite(hi)) then
    checks.fail(at, string.format("sweep.linear(lo, hi, n): lo and hi must be finite numbers (got %s, %s)", tostring(lo),
      tostring(hi)))
  end
  n = value_count(at, "sweep.linear", n)
  if n == 1 then return { lo } end
  local out = {}
  -- In doubles: whole-number ends near 2^63 would wrap (the same values below 2^53).
  for i = 0, n - 1 do out[i + 1] = lo + (hi + 0.0 - lo) * i / (n - 1) end
  return out
end

-- ---- Sweeps -----------------------------------------------------------------------------------------

-- Chinchilla approach 1: every N with every D (or every tokens-per-parameter ratio).
function sweep.grid(options)
  local at = where()
  if type(options) ~= "table" then checks.fail(at, "sweep.grid expects a table: sweep.grid{ N = {...}, D = {...} }") end
  checks.table(options, { N = "number_or_list", D = "number_or_list", tokens_per_param = "number_or_list" }, "sweep.grid", at)
  if options.N == nil then checks.fail(at, "sweep.grid: N is required (the model sizes)") end
  if (options.D == nil) == (options.tokens_per_param == nil) then
    checks.fail(at, "sweep.grid: give D (token counts) or tokens_per_param (D = ratio·N), one of the two")
  end
  local Ns = numbers(options.N, "sweep.grid: N", at, true)
  local points = {}
  if options.D then
    local Ds = numbers(options.D, "sweep.grid: D", at, true)
    for _, N in ipairs(Ns) do
      for _, D in ipairs(Ds) do points[#points + 1] = { N = N, D = D } end
    end
  else
    local ratios = numbers(options.tokens_per_param, "sweep.grid: tokens_per_param", at, true)
    for _, N in ipairs(Ns) do
      -- D of the target N; a study trains on r times its model's N (study.lua).
      for _, r in ipairs(ratios) do points[#points + 1] = { N = N, D = times(r, N), tokens_per_param = r } end
    end
  end
  return new("grid", points)
end

-- Chinchilla approach 2: at each budget C, several N with D = C / (6N). The sizes are a list, a
-- function of C, or (by default) `points` sizes spaced in log so that D/N runs over `ratio`.
function sweep.isoflop(options)
  local at = where()
  if type(options) ~= "table" then checks.fail(at, "sweep.isoflop expects a table: sweep.isoflop{ budgets = {...} }") end
  checks.table(options, { budgets = "number_or_list", N = { "number_or_list", "function" },
                          sizes = { "number_or_list", "function" }, points = "integer", ratio = "table" }, "sweep.isoflop", at)
  -- The sizes' key as the user wrote it, for errors that name an element (sizes[2]).
  local sizes_key = options.sizes ~= nil and "sizes" or "N"
  if options.sizes ~= nil then
    if options.N ~= nil then checks.fail(at, "sweep.isoflop: sizes and N are the same key; give one", { "sizes" }) end
    options = setmetatable({ N = options.sizes }, { __index = options })
  end
  if options.budgets == nil then checks.fail(at, "sweep.isoflop: budgets is required (training FLOPs C of each IsoFLOP curve)") end
  local budgets = numbers(options.budgets, "sweep.isoflop: budgets", at, true)
  if options.N and (options.points or options.ratio) then
    checks.fail(at, "sweep.isoflop: give N (the sizes), or points and ratio (sizes from tokens per parameter), not both", { "points" })
  end
  local n = options.points or 5
  if type(n) ~= "number" or n < 2 or n ~= math.floor(n) or n > sweep.max_values then
    checks.fail(at, string.format("sweep.isoflop: points must be a whole number of sizes per budget from 2 to %d (got %s)",
      sweep.max_values, tostring(n)), { "points" })
  end
  local ratio = options.ratio or { 4, 100 }
  if #ratio ~= 2 or type(ratio[1]) ~= "number" or type(ratio[2]) ~= "number" or not (ratio[1] > 0 and ratio[2] > ratio[1])
      or ratio[2] == math.huge then
    checks.fail(at, "sweep.isoflop: ratio must be {lo, hi} tokens per parameter with 0 < lo < hi, both finite", { "ratio" })
  end
  local points = {}
  for _, C in ipairs(budgets) do
    local sizes
    if type(options.N) == "function" then
      -- The budget as a budget ("sizes(1e12)"), not as Lua prints a float ("sizes(1000000000000.0)").
      sizes = numbers(options.N(C), "sweep.isoflop: " .. sizes_key .. "(" .. require("scalelab.native.core").format_flops(C)
        .. ")", at, true)
    elseif options.N then
      sizes = numbers(options.N, "sweep.isoflop: " .. sizes_key, at, true)
    else
      -- D/N = r with D = C/(6N) gives N = sqrt(C / (6r)).
      sizes = sweep.log(math.sqrt(C / (6 * ratio[2])), math.sqrt(C / (6 * ratio[1])), n)
    end
    for _, N in ipairs(sizes) do points[#points + 1] = { N = N, D = C / times(6, N), budget = C } end
  end
  return new("isoflop", points, { budgets = budgets })
end

-- Data-constrained (Muennighoff et al.): unique-token budgets × epochs × sizes, D = U·epochs. Runs
-- with a smaller U train on a prefix of the data of runs with a larger U (the sampler's nesting).
function sweep.data_constrained(options)
  local at = where()
  if type(options) ~= "table" then checks.fail(at, "sweep.data_constrained expects a table") end
  checks.table(options, { unique_tokens = "number_or_list", epochs = "number_or_list", N = "number_or_list",
                          sizes = "number_or_list" }, "sweep.data_constrained", at)
  -- The sizes' key as the user wrote it, for errors that name an element (sizes[2]).
  local sizes_key = options.sizes ~= nil and "sizes" or "N"
  if options.sizes ~= nil then
    if options.N ~= nil then checks.fail(at, "sweep.data_constrained: sizes and N are the same key; give one", { "sizes" }) end
    options = setmetatable({ N = options.sizes }, { __index = options })
  end
  for _, key in ipairs { "unique_tokens", "epochs", "N" } do
    if options[key] == nil then checks.fail(at, "sweep.data_constrained: " .. key .. " is required") end
  end
  local Us = numbers(options.unique_tokens, "sweep.data_constrained: unique_tokens", at, true)
  local epochs = numbers(options.epochs, "sweep.data_constrained: epochs", at, true)
  local Ns = numbers(options.N, "sweep.data_constrained: N", at, true)
  local points = {}
  for _, U in ipairs(Us) do
    for _, e in ipairs(epochs) do
      for _, N in ipairs(Ns) do points[#points + 1] = { N = N, U = U, epochs = e, D = times(U, e) } end
    end
  end
  return new("data_constrained", points)
end

-- An explicit list of points.
function sweep.list(points)
  local at = where()
  if type(points) ~= "table" then checks.fail(at, "sweep.list expects a list of points: sweep.list{ { N = 1e6, D = 2e7 }, ... }") end
  for k in pairs(points) do
    if math.type(k) ~= "integer" then checks.fail(at, "sweep.list: expects a list of points, found key '" .. tostring(k) .. "'") end
  end
  local problem = checks.list_problem(points, "sweep.list: points")
  if problem then checks.fail(at, problem) end
  local out = {}
  for i, p in ipairs(points) do
    if type(p) ~= "table" then checks.fail(at, string.format("sweep.list: point %d must be a table (got %s)", i, checks.type_name(p))) end
    out[i] = copy(p)
  end
  return emptied(new("list", out), "sweep.list" .. at_text(at) .. " was given no points")
end

-- Every combination of named values: sweep.values{ lr = {1e-3, 3e-3}, batch = {8, 16} }.
function sweep.values(options)
  local at = where()
  if type(options) ~= "table" then checks.fail(at, "sweep.values expects a table of key = list") end
  local keys = {}
  for k in pairs(options) do
    if type(k) ~= "string" then checks.fail(at, "sweep.values: keys must be names") end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local points = { {} }
  for _, k in ipairs(keys) do
    local values = options[k]
    if type(values) ~= "table" then values = { values } end
    local problem = checks.list_problem(values, "sweep.values: " .. k)
    if problem then checks.fail(at, problem) end
    if #values == 0 then checks.fail(at, "sweep.values: " .. k .. " is empty") end
    local next_points = {}
    for _, p in ipairs(points) do
      for _, v in ipairs(values) do
        local q = copy(p)
        q[k] = v
        next_points[#next_points + 1] = q
      end
    end
    points = next_points
  end
  return new("values", points)
end

local function as_sweep(s, at, what)
  if getmetatable(s) == Sweep then return s end
  if type(s) == "table" then
    if #s > 0 then return sweep.list(s) end
    local ok, result = pcall(sweep.values, s)
    if ok then return result end
  end
  checks.fail(at, what .. " must be a sweep (got " .. checks.type_name(s) .. ")")
end

local function merge(a, b, at, what)
  local out = copy(a)
  for k, v in pairs(b) do
    if out[k] ~= nil and out[k] ~= v then
      checks.fail(at, string.format("%s: both sweeps set '%s' (%s and %s); rename one or use sweep.filter", what, k,
        tostring(out[k]), tostring(v)))
    end
    out[k] = v
  end
  return out
end

-- Every point of the first sweep combined with every point of the next ones.
function sweep.product(...)
  local at = where()
  -- Counted with select("#"), not #{...}: a nil argument (a misspelled variable) is an error, where
  -- ipairs stopped at it and left out every sweep after it.
  local parts = table.pack(...)
  if parts.n == 0 then checks.fail(at, "sweep.product needs at least one sweep") end
  local points = { {} }
  local empty_reason
  for i = 1, parts.n do
    local s = as_sweep(parts[i], at, "sweep.product: argument " .. i)
    if #s.points == 0 and not empty_reason then
      empty_reason = string.format("sweep.product%s: its argument %d (kind %s) has no points%s", at_text(at), i,
        s.kind, own_reason(s))
    end
    local next_points = {}
    for _, p in ipairs(points) do
      for _, q in ipairs(s.points) do next_points[#next_points + 1] = merge(p, q, at, "sweep.product") end
    end
    points = next_points
  end
  -- The product is a sweep of the kind of its first part that is one of models and data (isoflop,
  -- grid, ...), not of sweep.values (hyperparameters), whichever order they come in.
  local kind_of = as_sweep(parts[1], at, "sweep.product: argument 1")
  for i = 1, parts.n do
    local s = as_sweep(parts[i], at, "sweep.product: argument " .. i)
    if s.kind ~= "values" then kind_of = s break end
  end
  return emptied(new(kind_of.kind, points, { budgets = kind_of.budgets }), empty_reason)
end

-- Point i of each sweep combined; the sweeps must have the same length.
function sweep.zip(...)
  local at = where()
  local parts = table.pack(...)  -- as sweep.product's: a nil argument is an error, not the end
  if parts.n == 0 then checks.fail(at, "sweep.zip needs at least one sweep") end
  local sweeps = {}
  for i = 1, parts.n do sweeps[i] = as_sweep(parts[i], at, "sweep.zip: argument " .. i) end
  local n = #sweeps[1].points
  for i, s in ipairs(sweeps) do
    if #s.points ~= n then
      checks.fail(at, string.format("sweep.zip: sweep 1 has %d points but sweep %d has %d; zip needs equal lengths", n, i, #s.points))
    end
  end
  local points = {}
  for j = 1, n do
    local p = {}
    for _, s in ipairs(sweeps) do p = merge(p, s.points[j], at, "sweep.zip") end
    points[j] = p
  end
  return emptied(new(sweeps[1].kind, points, { budgets = sweeps[1].budgets }), string.format("sweep.zip%s: its sweeps "
    .. "have no points%s", at_text(at), own_reason(sweeps[1])))
end

-- The points for which keep(point) is true.
function sweep.filter(s, keep)
  local at = where()
  s = as_sweep(s, at, "sweep.filter: the first argument")
  if type(keep) ~= "function" then checks.fail(at, "sweep.filter(s, keep): keep must be a function of a point") end
  local points = {}
  for _, p in ipairs(s.points) do
    if keep(p) then points[#points + 1] = copy(p) end
  end
  local reason = #s.points == 0 and string.format("sweep.filter%s: its sweep has no points%s", at_text(at), own_reason(s))
    or string.format("sweep.filter%s kept no point of its %s sweep (%s; its function returned false or nil for "
      .. "every one)", at_text(at), s.kind, require("scalelab.native.core").format_counted(#s.points, "point"))
  return emptied(new(s.kind, points, { budgets = s.budgets }), reason)
end

-- Each point once per seed: seeds is a count (seeds 1..n) or a list of seeds.
function sweep.seeds(s, seeds)
  local at = where()
  s = as_sweep(s, at, "sweep.seeds: the first argument")
  if type(seeds) == "number" then
    if not (seeds >= 1) or seeds ~= math.floor(seeds) or seeds > sweep.max_values then
      checks.fail(at, string.format("sweep.seeds(s, n): n must be a whole number from 1 to %d (got %s)", sweep.max_values,
        tostring(seeds)))
    end
    local list = {}
    for i = 1, seeds do list[i] = i end
    seeds = list
  end
  if type(seeds) ~= "table" or #seeds == 0 then checks.fail(at, "sweep.seeds(s, seeds): seeds must be a count or a non-empty list") end
  local problem = checks.list_problem(seeds, "sweep.seeds(s, seeds): seeds")
  if problem then checks.fail(at, problem) end
  for i, seed in ipairs(seeds) do
    if not checks.is(seed, "count") then
      checks.fail(at, string.format("sweep.seeds(s, seeds): seeds[%d] must be %s (got %s)", i, checks.count_range,
        tostring(seed)))
    end
  end
  local points = {}
  for _, p in ipairs(s.points) do
    for _, seed in ipairs(seeds) do
      local q = copy(p)
      q.seed = seed
      points[#points + 1] = q
    end
  end
  return emptied(new(s.kind, points, { budgets = s.budgets }), string.format("sweep.seeds%s: its sweep has no points%s",
    at_text(at), own_reason(s)))
end

Sweep.filter = sweep.filter
Sweep.seeds = sweep.seeds
sweep.is_sweep = function(s) return getmetatable(s) == Sweep end

doc(Sweep, "A sweep: its points (s.points, a list of tables such as { N = 1e6, D = 2e7 }), its kind (grid, isoflop, ...); "
  .. "#s counts the points and s:each() iterates them (s[i] and ipairs(s) do not: use s.points[i]).")
doc(Sweep.each, "s:each() -> an iterator over the sweep's points: for point in s:each() do ... end")

doc(sweep, "Sweeps: sweep.grid, sweep.isoflop, sweep.data_constrained, sweep.list, sweep.values; combinators "
  .. "sweep.product, sweep.zip, sweep.filter, sweep.seeds; spacing sweep.log(lo, hi, n), sweep.linear(lo, hi, n).")
doc(sweep.grid, "sweep.grid{ N = {...}, D = {...} | tokens_per_param = {...} } -> every N with every D (Chinchilla approach 1)")
doc(sweep.isoflop, "sweep.isoflop{ budgets = {C...}, sizes (or N) = {...} | function(C) | points = 5, ratio = {4, 100} } -> at each C, "
  .. "sizes N with D = C/(6N) (Chinchilla approach 2); by default `points` sizes with D/N spread over `ratio`")
doc(sweep.data_constrained, "sweep.data_constrained{ unique_tokens = {U...}, epochs = {...}, sizes (or N) = {...} } -> D = U·epochs; "
  .. "smaller U are prefixes of larger ones (nested subsets); epochs from 1 (a run of fewer than 1 sees its D tokens "
  .. "once, and counts U = D)")
doc(sweep.list, "sweep.list{ { N =, D = [, ...] }, ... } -> exactly these points")
doc(sweep.values, "sweep.values{ lr = {...}, ... } -> every combination of the named values (combine with sweep.product)")
doc(sweep.product, "sweep.product(a, b, ...) -> every combination of points; a key set by two sweeps is an error")
doc(sweep.zip, "sweep.zip(a, b, ...) -> point i of each, merged; equal lengths required")
doc(sweep.filter, "sweep.filter(s, function(point) return keep end) -> the kept points")
doc(sweep.seeds, "sweep.seeds(s, n | {seeds...}) -> each point once per seed")
doc(sweep.log, "sweep.log(lo, hi, n) -> n values from lo to hi evenly spaced in log (n at most sweep.max_values = 10000)")
doc(sweep.linear, "sweep.linear(lo, hi, n) -> n evenly spaced values (n at most sweep.max_values)")
doc(sweep.describe_point, "sweep.describe_point(point) -> 'N=1.2M D=24M C=1.7e14 ...': a point as one line (N, D, U, epochs, budget, seed first)")
doc(sweep.is_sweep, "sweep.is_sweep(value) -> true when value is a sweep (made by sweep.grid, sweep.isoflop, ...)")
-- Methods called through a C function, as the module's functions are (init.lua): an error of one
-- that ends a user's function (return s:filter(...)) names the user's line (checks.keep_callers).
checks.keep_callers(Sweep)

return sweep
