-- Review findings in fit, plan and model, as a user meets them from Lua: a custom fit that crashed
-- with Ceres's log text on stderr, effective data above the data, overflowing parameter counts,
-- degenerate fits printed as exact, and unclear messages.
local t = require "scalelab.test"
local native = require "scalelab.native.study"

local exe = native.executable()

-- Runs `scalelab -e code` in its own process; returns the exit code, stdout and stderr.
local function run(code)
  local err = os.tmpname()
  local pipe = assert(io.popen(string.format("'%s' -e '%s' 2>'%s'", exe, code, err), "r"))
  local out = pipe:read("a")
  local _, _, status = pipe:close()
  local f = assert(io.open(err, "rb"))
  local stderr = f:read("a")
  f:close()
  os.remove(err)
  return status, out, stderr
end

t.test("fit.custom on 3 rows fits, without a crash or solver log text", function()
  local code, out, err = run(
    'o=fit.observations{N={1e6,2e6,4e6},D={1e8,1e8,1e8},loss={3,2.9,2.8}} ' ..
    'print(fit.custom{params={a={1}},predict=function(p,x) return p.a*x.N end,inputs={"N"},data=o})')
  t.eq(code, 0, err)
  t.ok(out:find("custom fit", 1, true), out)
  t.ok(not err:find("InitGoogleLogging", 1, true), err)
  t.ok(not err:find("Jacobian", 1, true), err)
  t.eq(err, "")
end)

t.test("a custom law that never evaluates is a clear Lua error", function()
  local o = fit.observations{ N = { 1e6, 2e6, 4e6 }, D = { 1e8, 1e8, 1e8 }, loss = { 3, 2.9, 2.8 } }
  t.raises(function()
    fit.custom{ params = { a = { 1 } }, predict = function(p, x) return -p.a end, inputs = { "N" }, data = o }
  end, "no start gave a finite objective")
end)

t.test("effective N and D never exceed N and D, however large R*", function()
  local l = plan.published.datablations_exact:with{ R_N = 1e16, R_D = 1e16 }
  local e = fit.effective{ N = 15e9, D = 110e9, U = 25e9, law = l }
  t.ok(e.N <= 15e9 and e.N > 15e9 * (1 - 1e-9), string.format("N' = %.17g", e.N))
  t.ok(e.D <= 110e9 and e.D > 110e9 * (1 - 1e-9), string.format("D' = %.17g", e.D))
end)

t.test("parameter counts that overflow 64 bits are errors naming the field", function()
  t.raises(function() model.gpt{ vocab = 2^40, ctx = 2^20, d_model = 2^20, n_layer = 2^20, n_head = 2 } end,
           "n_layer = 1048576 is too large")
  t.raises(function() model.shape_for{ params = 1e30 } end, "largest target supported")
end)

t.test("a fit to identical losses says what the data cannot determine", function()
  local N, D, L = {}, {}, {}
  for _, n in ipairs{ 1e7, 3e7, 1e8, 3e8 } do
    for _, d in ipairs{ 1e9, 1e10, 1e11 } do N[#N + 1], D[#D + 1], L[#L + 1] = n, d, 2.5 end
  end
  local law = fit.chinchilla(fit.observations{ N = N, D = D, loss = L },
    { grid = { E = { 0, 1 }, A = { 5, 10 }, B = { 5, 10 }, alpha = { 0.3, 1 }, beta = { 0.3, 1 } } })
  local text = tostring(law)
  t.ok(not text:find("nan"), text)
  t.ok(text:find("cannot determine", 1, true), text)
  t.ok(#law.undetermined > 0, text)
end)

t.test("fit.power_law states its real minimum, 2 points", function()
  t.raises(function() fit.power_law{ x = { 1e20 }, y = { 1e9 } } end, "needs at least 2 points")
  local p = fit.power_law{ x = { 1e20, 1e22 }, y = { 1e9, 1e10 } }
  t.near(p.params.a, 0.5, 1e-9)
end)

t.test("a wrong argument names the function and the type in the user's words", function()
  local m = t.raises(function() fit.chinchilla(5) end, "fit.chinchilla: argument #1 must be Observations")
  t.ok(m:find("fit.observations", 1, true), m)
  t.ok(m:find("got number", 1, true), m)
end)

t.test("plan answers name the law used, and refuse budgets too small for a model", function()
  local a = plan.optimal{ compute = 1e21, law = fit.published.epoch }
  t.ok(tostring(a):find("law: epoch", 1, true), tostring(a))
  t.raises(function() plan.optimal{ compute = 1, law = fit.published.chinchilla } end, "less than one parameter")
  -- One unique token: the answer is the floor of that data, and says so (the data, not the law's form).
  local m = tostring(plan.optimal{ compute = 1e22, unique_tokens = 1, law = plan.published.datablations_exact })
  t.ok(m:find("is the floor of 1 unique token (", 1, true), m)
  t.ok(not m:find("does it depend on both N and D", 1, true), m)
end)

t.test("a fit with too few runs says how many its free parameters need and how to need fewer", function()
  local c = fit.published.chinchilla
  local rows = {}
  for _, n in ipairs { 1e7, 1e8, 1e9 } do rows[#rows + 1] = { N = n, D = 20 * n, loss = c:predict{ N = n, D = 20 * n } } end
  t.raises(function() fit.chinchilla(rows) end, "chinchilla fit needs at least 6 observations for its 5 free parameters")
  t.raises(function() fit.chinchilla(rows) end, "got 3: add runs, or fit fewer parameters (hold some at given values with free =")
  -- Holding three of them, the two left need 3 runs: these.
  local law = fit.chinchilla(rows, { free = { "A", "alpha" }, init = { E = 1.69, B = 410.7, beta = 0.28 } })
  t.near(law.params.alpha, 0.34, 1e-6)
end)

t.done()
