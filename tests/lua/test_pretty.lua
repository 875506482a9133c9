-- pretty(value, options): its options are checked, with an error that names the option, what it
-- takes and the value given, at the caller's line. A width of "x" failed inside the layout ("attempt
-- to compare number with string"), options = 5 in pairs ("bad argument #1 to 'for iterator'"), and a
-- length of 1.5 showed the second entry as nil.
local t = require "scalelab.test"

-- The error of pretty(value, options), raised at this file's line.
local function refused(value, options)
  local ok, err = pcall(function() local s = pretty(value, options); return s end)  -- no tail call: a line to name
  t.ok(not ok, "pretty(..., " .. tostring(options) .. ") raised no error")
  err = tostring(err)
  t.ok(err:find("test_pretty.lua:%d+: pretty%(value, options%): "), "the error names the caller's line and pretty: " .. err)
  return err
end

t.test("a bad option value is refused, naming the option, what it takes and the value", function()
  for _, case in ipairs {
    { { width = "x" }, 'width must be a whole number of characters of a line, 0 or more, or math.huge for all (got "x")' },
    { { depth = -1 }, "depth must be a whole number of levels of nested tables shown, 0 or more, or math.huge for all (got -1)" },
    { { depth = 0.5 }, "depth must be a whole number" },
    { { length = 1.5 }, "length must be a whole number of entries shown of each table, 0 or more, or math.huge for all (got 1.5)" },
    { { width = 0 / 0 }, "width must be a whole number" },
    { { width = -math.huge }, "width must be a whole number" },
  } do
    local err = refused({ 1, 2, 3 }, case[1])
    t.ok(err:find(case[2], 1, true), err)
  end
end)

t.test("options that are no table, and an unknown option, are refused, listing the valid ones", function()
  t.ok(refused({ 1 }, 5):find("options must be a table such as { depth = 3, length = 30, width = 100 } (got number)", 1, true))
  t.ok(refused({ 1 }, "wide"):find("(got string)", 1, true))
  t.ok(refused({ 1 }, { widht = 3 }):find("unknown option 'widht' (valid: depth, indent, length, width)", 1, true))
end)

-- indent is an option it takes (its levels' indentation), and checks; the list of valid options left
-- it out, and its help did not name it.
t.test("indent is taken, checked, and named among the valid options and in help", function()
  t.eq(pretty({ a = { 1, 2 }, b = { 3, 4 } }, { width = 14, indent = "    " }), "{\n    a = {1, 2},\n    b = {3, 4}\n}")
  t.ok(refused({ 1 }, { indent = 3 }):find("indent must be a string (got 3)", 1, true))
  local text = require("scalelab.native.core").docs()[pretty]
  t.ok(text:find("indent = \"  \"", 1, true), text)
end)

t.test("the options it takes still work: whole numbers, floats that are whole, math.huge and 0", function()
  t.eq(pretty({ 1, 2, 3 }, { length = 1 }), "{1, ...(2 more)}")
  t.eq(pretty({ 1, 2, 3 }, { length = 2.0 }), "{1, 2, ...(1 more)}")
  t.eq(pretty({ { { 1 } } }, { depth = 1 }), "{{...1 item}}")
  t.eq(pretty({ 1, 2 }, { length = math.huge, depth = math.huge }), "{1, 2}")
  t.eq(pretty({ 1, 2 }, { length = 0 }), "{...(2 more)}")
  t.eq(pretty({ 1, 2 }, nil), "{1, 2}")
  t.eq(pretty({ 1, 2 }, {}), "{1, 2}")
end)

-- NaN prints as the tool prints it elsewhere (format_number, a run's report): "nan", whatever its sign
-- bit. 0/0 showed as "-nan" (the C library's text on x86) and -(0/0) as "nan".
t.test("NaN prints as nan, alone and in a table, and infinities as inf", function()
  local nan = 0 / 0
  t.eq(pretty(nan), "nan")
  t.eq(pretty(-nan), "nan")
  t.eq(pretty({ nan, loss = -nan }), "{nan, loss = nan}")
  t.eq(pretty({ 1 / 0, -1 / 0 }), "{inf, -inf}")
end)

t.test("a study's runs print a line each (number, label, status, loss); one alone shows its fields", function()
  -- s.runs in the REPL printed every run's whole table (about 40 lines a run, with its config and
  -- metrics): a page a run for a study of 20 runs and more.
  local dir = t.fresh_dir(t.scratch("pretty-runs"))
  local saved_arg = arg
  arg = { [0] = "s.lua" }
  local ok, s = pcall(function()
    return study "pretty-runs" { backend = { kind = "simulated", law = fit.published.chinchilla },
      sweep = sweep.isoflop { budgets = { 1e17, 1e18, 1e19 }, sizes = sweep.log(3e7, 3e8, 7) },
      store = dir .. "/runs.db", quiet = true, report = false }
  end)
  arg = saved_arg
  if not ok then error(s, 0) end
  t.eq(#s.runs, 21)
  local text = pretty(s.runs)
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  t.eq(#lines, 23, text)  -- the braces and a line a run
  for i, r in ipairs(s.runs) do
    local expected = string.format("run %d (%s): done, loss %.4f", i, r.label, r.loss)
    t.eq(tostring(r), expected)
    t.eq(lines[i + 1], "  " .. expected .. (i < #s.runs and "," or ""))
  end
  t.ok(lines[2]:find("^  run 1 %(N=29.9M D=558M C=1e17%): done, loss %d%.%d%d%d%d,$"), lines[2])
  -- A run alone (s.runs[1], pretty(s.runs[1])) shows its fields, and scripts read them as before.
  local one = pretty(s.runs[1])
  t.ok(one:find("hash = \"" .. s.runs[1].hash .. "\"", 1, true), one)
  t.ok(one:find("\n  label = \"N=29.9M D=558M C=1e17\",", 1, true), one)
  t.eq(type(s.runs[1].loss), "number")
  t.eq(s.runs[3].status, "done")
  local count = 0
  for _, r in ipairs(s.runs) do count = count + (r.status == "done" and 1 or 0) end
  t.eq(count, 21)
  -- A planned run (a dry run's) says so.
  local planned = setmetatable({ ordinal = 4, label = "N=1M D=20M" }, getmetatable(s.runs[1]))
  t.eq(tostring(planned), "run 4 (N=1M D=20M): planned")
  t.eq(tostring(setmetatable({ ordinal = 5, label = "x", status = "diverged" }, getmetatable(s.runs[1]))),
    "run 5 (x): diverged")
  -- help on a run says what its fields are.
  t.ok(t.help_text(s.runs[1]):find("A study's run (s.runs[i])", 1, true))
end)

t.done()
