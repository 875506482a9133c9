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

-- Files and this program, for tests that run scalelab as a user does (a script in its own
-- process, its exit status and output).

-- The file's bytes, or nil when it cannot be read.
function test.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

function test.write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- A scratch folder for one test script, made now and new: /tmp/scalelab-test-<name>-<pid>, or that
-- name with -2, -3, ... after it where a folder has it already. test.done() removes it when every
-- test passed, and keeps it, saying where, when one failed. Process ids come round again (pid_max
-- is 32768 on many machines, cycled in minutes while builds and tests run), so an earlier script of
-- this id may have left its folder (kept for inspection): taking that folder ran this script's
-- tests among the earlier one's files, and the clean-up of the kept folder removed this script's
-- stores and checkpoints while its studies ran ("results store ... was deleted").
local scratch_dirs = {}
function test.scratch(name)
  local base = string.format("/tmp/scalelab-test-%s-%d", name, require("scalelab.native.study").getpid())
  for n = 1, 100 do
    local dir = n == 1 and base or base .. "-" .. n
    -- mkdir(1) without -p fails where the folder exists: the folder taken is one this script made.
    if os.execute("mkdir '" .. dir .. "' 2>/dev/null") then
      scratch_dirs[#scratch_dirs + 1] = dir
      return dir
    end
  end
  error("test.scratch: " .. base .. " and its 99 numbered variants exist already (or /tmp cannot be written): "
    .. "remove the scratch folders that failed test scripts kept there", 2)
end

-- A new folder for one test: root/1, then root/2, ... (one more per call with the same root;
-- folders and parents made as needed), so that each test's files stay apart from the others'.
local fresh_dirs = {}
function test.fresh_dir(root)
  local n = (fresh_dirs[root] or 0) + 1
  fresh_dirs[root] = n
  local dir = root .. "/" .. n
  require("scalelab.native.study").make_dirs(dir)
  return dir
end

-- A new folder (test.fresh_dir(root)) holding one script, `name` (default "s.lua"), with `body`.
function test.script(root, body, name)
  local dir = test.fresh_dir(root)
  test.write_file(dir .. "/" .. (name or "s.lua"), body)
  return dir
end

-- Runs this scalelab program in folder `dir` with the command-line arguments `args` (a string,
-- quoted as the shell needs) and the environment variables in `env`; returns its exit status,
-- its output (standard output, then standard error) and its standard error alone.
function test.run(dir, args, env)
  local exe = require("scalelab.native.study").executable()
  local prefix = ""
  for k, v in pairs(env or {}) do prefix = prefix .. k .. "='" .. v .. "' " end
  local err_path = os.tmpname()
  local command = string.format("cd '%s' && %s'%s' %s 2>'%s'", dir, prefix, exe, args or "", err_path)
  local pipe = assert(io.popen(command, "r"))
  local output = pipe:read("a")
  local _, _, code = pipe:close()
  local err = test.read_file(err_path) or ""
  os.remove(err_path)
  return code, output .. err, err
end

-- The runs stored in the results store at `path`, by hash (read-only); {} when it cannot be opened
-- (not made yet, or locked mid-write by the study under test).
function test.stored_runs(path)
  local ok, store = pcall(require("scalelab.native.store").open, path, { read_only = true })
  if not ok then return {} end
  local runs = {}
  for _, r in ipairs(store:runs()) do runs[r.hash] = r end
  store:close()
  return runs
end

-- A strict JSON reader, for tests that check what scalelab writes for other programs: the value of
-- `text` (objects and arrays as tables, arrays marked with the metatable test.JSON_ARRAY, null as
-- test.JSON_NULL), or an error naming the byte where the text is not JSON as RFC 8259 has it
-- (valid UTF-8, no raw control characters in strings, no NaN or Infinity, nothing after the value).
test.JSON_ARRAY, test.JSON_NULL = { __name = "JSON array" }, setmetatable({}, { __name = "JSON null" })
function test.json(text)
  if not utf8.len(text) then
    local _, at = utf8.len(text)
    error(string.format("not JSON: byte %d is no part of valid UTF-8", at), 2)
  end
  local at = 1
  local function fail(what) error(string.format("not JSON at byte %d (%q): %s", at, text:sub(at, at + 20), what), 0) end
  local function space() at = text:find("[^ \t\r\n]", at) or #text + 1 end
  local value
  local function str()
    local out = {}
    at = at + 1
    while true do
      local c = text:sub(at, at)
      if c == "" then fail("a string not closed") end
      if c == '"' then at = at + 1 return table.concat(out) end
      if c:byte() < 0x20 then fail("a raw control character in a string") end
      if c == "\\" then
        local e = text:sub(at + 1, at + 1)
        local simple = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
        if simple[e] then out[#out + 1], at = simple[e], at + 2
        elseif e == "u" and text:sub(at + 2, at + 5):match("^%x%x%x%x$") then
          out[#out + 1], at = utf8.char(tonumber(text:sub(at + 2, at + 5), 16)), at + 6
        else fail("a bad escape") end
      else
        out[#out + 1], at = c, at + 1
      end
    end
  end
  function value()
    space()
    local c = text:sub(at, at)
    -- The members of an object or the items of an array, up to `close`.
    local function members(out, close, member)
      at = at + 1
      space()
      if text:sub(at, at) == close then at = at + 1 return out end
      while true do
        member(out)
        space()
        local next_c = text:sub(at, at)
        if next_c == close then at = at + 1 return out end
        if next_c ~= "," then fail("no ',' or '" .. close .. "'") end
        at = at + 1
      end
    end
    if c == "{" then
      return members({}, "}", function(out)
        space()
        if text:sub(at, at) ~= '"' then fail("an object key that is not a string") end
        local key = str()
        space()
        if text:sub(at, at) ~= ":" then fail("no ':' after a key") end
        at = at + 1
        out[key] = value()
      end)
    elseif c == "[" then
      return members(setmetatable({}, test.JSON_ARRAY), "]", function(out) out[#out + 1] = value() end)
    elseif c == '"' then
      return str()
    end
    for word, v in pairs { ["true"] = true, ["false"] = false, null = test.JSON_NULL } do
      if text:sub(at, at + #word - 1) == word then at = at + #word return v end
    end
    local number = text:match("^-?%d[%d.eE+-]*", at) or fail("not a value")
    local int, rest = number:match("^-?(%d+)(.*)$")
    local fraction = rest == "" or rest:match("^%.%d+$") or rest:match("^[eE][-+]?%d+$") or rest:match("^%.%d+[eE][-+]?%d+$")
    if (#int > 1 and int:sub(1, 1) == "0") or not fraction then fail("a bad number") end
    at = at + #number
    return tonumber(number)
  end
  local ok, result = pcall(value)
  if ok then
    space()
    if at <= #text then ok, result = pcall(fail, "more after the value") end
  end
  if not ok then error(result, 2) end
  return result
end

-- What help(...) prints, as one string (its lines joined by "\n"); an error in help is raised.
function test.help_text(...)
  local printed, saved = {}, print
  print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring(select(i, ...)) end
    printed[#printed + 1] = table.concat(parts, "\t")
  end
  local ok, err = pcall(help, ...)
  print = saved
  if not ok then error(err, 2) end
  return table.concat(printed, "\n")
end

function test.done()
  for _, dir in ipairs(scratch_dirs) do
    if test.failed == 0 then os.execute("rm -rf '" .. dir .. "'")
    else print("scratch files kept for inspection: " .. dir) end
  end
  local line = string.format("%d passed, %d failed", test.passed, test.failed)
  if test.skipped > 0 then line = line .. string.format(", %d skipped", test.skipped) end
  print(line)
  os.exit(test.failed == 0 and 0 or 1)
end

return test
