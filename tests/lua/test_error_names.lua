-- Errors name the function the user called, and the fix: not a library function called on the way
-- (plan.optimal for law:N_opt, plot: for figure:save), not the same prefix twice, not a Lua error
-- from inside the library.
local t = require "scalelab.test"

local dir = t.scratch("error-names")

-- Declares `spec` as `scalelab script.lua --dry-run` would (simulated, its own store), printing nothing.
local function dry_run(name, spec)
  local saved_arg, saved_print = arg, print
  arg = { [-1] = "scalelab", [0] = name .. ".lua", "--dry-run" }
  print = function() end
  spec.backend = spec.backend or "simulated"
  spec.store = spec.store or (dir .. "/" .. name .. ".db")
  local ok, s = pcall(function() return study(name) (spec) end)
  arg, print = saved_arg, saved_print
  if not ok then error(s, 0) end
  return s
end

t.test("a model function that returns no shape is said once as study:, with the point", function()
  -- It said "study: model for sweep point 1 (N = 10.0K): study: the model function must return ...".
  local ok, message = pcall(dry_run, "nilmodel", { model = function() end, sweep = sweep.grid { N = { 1e4 }, D = { 1e6 } } })
  t.eq(ok, false)
  t.ok(message:find("study: model for sweep point 1 (N = ", 1, true), message)
  t.ok(message:find("): the model function must return a model.gpt{...} shape for N = ", 1, true), message)
  t.ok(message:find("(got nil)", 1, true), message)
  t.eq(select(2, message:gsub("study: ", "")), 1, message)
end)

t.test("the model function's refusal writes N as parameter counts print, 10k and 2.5M, not 10000.0", function()
  -- It said "shape for N = 10000.0 (got nil)" (tostring of a float) beside "(N = 10k)".
  local ok, message = pcall(dry_run, "nilmodel-N", { model = function() end, sweep = sweep.grid { N = { 1e4 }, D = { 1e6 } } })
  t.eq(ok, false)
  t.ok(message:find("(N = 10k): the model function must return a model.gpt{...} shape for N = 10k (got nil)", 1, true),
    message)
  t.ok(not message:find("10000", 1, true), message)
  ok, message = pcall(dry_run, "tablemodel-N", { model = function() return {} end,
    sweep = sweep.grid { N = { 2.5e6 }, D = { 1e8 } } })
  t.eq(ok, false)
  t.ok(message:find("shape for N = 2.5M (got a table)", 1, true), message)
end)

t.test("study.script_options refuses arguments that are not strings, naming itself", function()
  -- It failed with "study.lua:...: attempt to index a number value".
  t.raises(function() study.script_options({ 1, 2, 3 }) end,
           "study.script_options(arg): arg must be the script's arguments, a list of strings such as the global arg "
           .. "(its item 1 is an integer)")
  t.raises(function() study.script_options({ "--dry-run", {} }) end, "test_error_names.lua:")
  t.raises(function() study.script_options({ "--dry-run", {} }) end, "(its item 2 is a table)")
  t.eq(study.script_options({ "--dry-run" }).dry_run, true)
end)

t.test("figure:save of a path without a known extension names figure:save and the extensions", function()
  -- It said "plot: cannot tell the format of 'x' from its extension".
  local f = plot.figure {}
  f:points { x = { 1, 2 }, y = { 3, 4 } }
  t.raises(function() f:save(dir .. "/x") end, "figure:save: cannot tell the format of '" .. dir .. "/x' from its "
    .. "extension; use .svg, .png or .pdf (such as '" .. dir .. "/x.svg')")
  t.raises(function() f:save(dir .. "/x.bmp") end, "use .svg, .png or .pdf (such as '" .. dir .. "/x.svg')")
  t.raises(function() f:save(dir .. "/x") end, "test_error_names.lua:")
  t.eq(io.open(dir .. "/x.gp", "rb"), nil, "a script was written")
end)


t.test("law:N_opt, law:D_opt and law:optimal name themselves, not plan.optimal", function()
  -- law:N_opt(0) said "plan.optimal: compute must be positive and finite (got 0)".
  local law = fit.published.chinchilla
  for _, case in ipairs {
    { "N_opt", function() return law:N_opt(0) end, "compute must be positive and finite (got 0)" },
    { "D_opt", function() return law:D_opt(0) end, "compute must be positive and finite (got 0)" },
    { "optimal", function() return law:optimal(-1) end, "compute must be positive and finite (got -1)" },
    { "D_opt", function() return law:D_opt { compute = 1e21, epochs = 0.5 } end, "epochs must be at least 1 (got 0.5)" },
  } do
    local message = t.raises(case[2], "law:" .. case[1] .. ": " .. case[3])
    t.ok(message:match("^[^ ]*test_error_names%.lua:%d+: law:"), message)  -- at the caller's line
    t.ok(not message:find("plan.optimal", 1, true), message)
  end
  -- Its answers are plan.optimal's.
  local answer = plan.optimal { compute = 1e21, law = law }
  t.eq(law:N_opt(1e21), answer.N)
  t.eq(law:D_opt(1e21), answer.D)
end)

t.test("law:N_opt's refusal of an unknown key lists only the keys it takes, without law", function()
  -- It listed plan.optimal's keys, law among them, which law:N_opt{ law = ... } refuses, and suggested
  -- law for 'lwa'.
  local law = fit.published.chinchilla
  for _, method in ipairs { "N_opt", "D_opt", "optimal" } do
    local message = t.raises(function() return law[method](law, { foo = 1 }) end,
      "law:" .. method .. ": unknown key 'foo' (valid keys: compute, unique_tokens, epochs, allocation, method, grid, ")
    t.ok(not message:find("law,", 1, true) and not message:find(", law)", 1, true), message)
    t.ok(message:match("^[^ ]*test_error_names%.lua:%d+: law:"), message)
    message = t.raises(function() return law[method](law, { lwa = 1 }) end, "law:" .. method .. ": unknown key 'lwa'")
    t.ok(not message:find("did you mean 'law'", 1, true), message)
    t.ok(not message:find("law,", 1, true), message)
    -- A near key is still suggested.
    t.raises(function() return law[method](law, { compute = 1e21, uniqe_tokens = 1e9 }) end,
      "law:" .. method .. ": unknown key 'uniqe_tokens'; did you mean 'unique_tokens'? (valid keys: compute, ")
  end
end)

t.done()
