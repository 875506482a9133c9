-- A small test harness for Lua test scripts (tests/lua) and for users' own checks of their studies.
--   local t = require "scalelab.test"
--   t.test("parameter count", function()
--     t.eq(model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }.n_layer, 2)
--     t.near(math.pi, 3.14159, 1e-5)           -- relative tolerance
--     t.raises(function() error("bad N") end, "bad N")
--   end)
--   t.done()  -- prints "N passed, M failed" and exits 1 on any failure
local pretty = require("scalelab.pretty").format

local test = { passed = 0, failed = 0, skipped = 0 }

local function fail(message, level)
  error(message, (level or 1) + 2)
end

function test.ok(condition, message)
  if not condition then fail(message or "expected a true value") end
end

function test.eq(actual, expected, message)
  if actual ~= expected then
    fail((message and message .. ": " or "") ..
      "expected " .. pretty(expected) .. ", got " .. pretty(actual))
  end
end

-- |actual − expected| ≤ rel·|expected| (+ abs, default 0).
function test.near(actual, expected, rel, abs)
  rel, abs = rel or 1e-9, abs or 0
  if type(actual) ~= "number" or math.abs(actual - expected) > rel * math.abs(expected) + abs then
    fail(string.format("expected %.10g within relative %g, got %s", expected, rel, tostring(actual)))
  end
end

-- Calls fn and expects an error whose message contains `pattern` (plain text, not a Lua pattern).
function test.raises(fn, pattern)
  local ok, message = pcall(fn)
  if ok then fail("expected an error containing '" .. pattern .. "', got none") end
  message = tostring(message)
  if not message:find(pattern, 1, true) then
    fail("expected an error containing '" .. pattern .. "', got: " .. message)
  end
  return message
end

-- Registers and runs one named test now; a failure is reported with its traceback and counted.
function test.test(name, fn)
  local ok, message = xpcall(fn, function(m) return debug.traceback(tostring(m), 2) end)
  if ok then
    test.passed = test.passed + 1
    print("ok      " .. name)
  elseif type(message) == "string" and message:find("^SKIP: ") then
    test.skipped = test.skipped + 1
    print("skipped " .. name .. " (" .. message:sub(7):match("^[^\n]*") .. ")")
  else
    test.failed = test.failed + 1
    print("FAILED  " .. name .. "\n" .. message)
  end
end

-- Inside a test: stop it and count it as skipped, saying why.
function test.skip(reason)
  error("SKIP: " .. reason, 0)
end

function test.done()
  local line = string.format("%d passed, %d failed", test.passed, test.failed)
  if test.skipped > 0 then line = line .. string.format(", %d skipped", test.skipped) end
  print(line)
  os.exit(test.failed == 0 and 0 or 1)
end

return test
