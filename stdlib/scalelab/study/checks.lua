-- Checking the tables users write in study scripts: unknown keys (with the closest valid key),
-- wrong types (naming the key and the expected type), each reported at the script's file:line.
local checks = {}

-- The candidate closest to `name`, or nil when none is close: core's closest_name (core/error.h),
-- the one "did you mean" rule of Lua and C++ alike.
checks.closest = require("scalelab.native.core").closest_name

-- A name as printed in a message or on a line of a listing: a control character (a line break, a
-- carriage return, a terminal's escape) written as \n, \r, \t or \xHH, a C1 control (U+0080..U+009F,
-- which some terminals act on as ESC sequences: U+009B is ESC [) as \u{9B}, and a byte that is no part
-- of valid UTF-8 (a raw 0x9B, which such a terminal takes for the same) as \xHH, so that it neither
-- breaks the line nor moves the cursor over what was printed. Valid UTF-8 text ("é", "·") stays as is.
local ESCAPES = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local pretty = require "scalelab.pretty"
local function hex_escape(byte) return string.format("\\x%02x", byte) end
function checks.printable(text)
  local shown = tostring(text):gsub("[%c\127]", function(c) return ESCAPES[c] or hex_escape(c:byte()) end)
  return (pretty.replace_invalid_utf8(pretty.escape_c1(shown), hex_escape))
end

-- True for frames of scalelab's own Lua library and of C functions: the native bindings' rule
-- (core.library_source), so that Lua and C++ errors point at the same line.
local library_source = require("scalelab.native.core").library_source
function checks.in_library(info)
  return info.what == "C" or library_source(info.source or "")
end
local in_library = checks.in_library

-- Has each function of `t` (a module, a class's methods) that the library wrote in Lua called
-- through a C function from now on (core.keep_caller), its documentation with it; returns t.
-- `return sweep.grid{...}` ending a user's function is a tail call: the user's frame gave way to the
-- Lua function's, and an error about the call's arguments, located at the first frame outside the
-- library, named the line that called the user's function (or one further up). A C function runs
-- above the frame that tail-calls it, which keeps its line. Metamethods (__tostring) stay as they are.
local core = require "scalelab.native.core"
function checks.keep_callers(t)
  local docs = core.docs()
  for key, value in pairs(t) do
    if type(key) == "string" and not key:find("^__") and type(value) == "function" then
      local info = debug.getinfo(value, "S")
      if info.what == "Lua" and library_source(info.source) then
        local kept = core.keep_caller(value)
        if docs[value] ~= nil then core.document(kept, docs[value]) end
        t[key] = kept
      end
    end
  end
  return t
end

-- pcall for the library's steps that may fail without stopping the rest (a fit, an answer, a figure,
-- a bootstrap resample): an error caught while Ctrl-C or SIGTERM is pending is that interruption (or
-- came of it) and is raised again, so that the script stops as the user asked, rather than going on
-- with the step recorded as failed ("not fitted: interrupted!").
local interrupt_pending = core.interrupt_pending
local function unless_interrupted(ok, ...)
  if not ok and interrupt_pending() then error((...), 0) end
  return ok, ...
end
function checks.pcall(fn, ...)
  return unless_interrupted(pcall(fn, ...))
end

-- The position in the user's script of the call being checked: the first Lua frame from `level`
-- levels above the caller of where() upwards that is not part of scalelab's own library.
function checks.where(level)
  level = (level or 1) + 1
  while true do
    local info = debug.getinfo(level, "Sl")
    if not info then return nil end
    if not in_library(info) and info.currentline > 0 then
      return { source = info.source, short_src = info.short_src, line = info.currentline, what = info.what }
    end
    level = level + 1
  end
end

local source_cache = {}
local function source_lines(where)
  -- An entry typed at the REPL's prompt: its text as compiled (the REPL keeps the running entry's in
  -- the registry, runtime/host/repl.cpp), for a call in its main chunk (a function that an earlier
  -- entry defined has other lines). A bad key of a table typed over several lines was located at
  -- the call's first line ("stdin:1:") where a script's is located at the key's.
  if where and where.source == "=stdin" and where.what == "main" then
    local text = debug.getregistry()["scalelab.repl_entry"]
    if type(text) ~= "string" then return nil end
    local lines = {}
    for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    return lines
  end
  if not where or where.source:sub(1, 1) ~= "@" then return nil end
  local path = where.source:sub(2)
  if source_cache[path] == nil then
    local lines, file = {}, io.open(path, "r")
    if file then
      for line in file:lines() do lines[#lines + 1] = line end
      file:close()
    end
    source_cache[path] = lines
  end
  return source_cache[path]
end

-- The last line of the table constructor that opens on line `first` (its braces counted outside
-- strings and comments), or nil when no brace opens there: the call's argument is a variable.
local function table_end(lines, first)
  local depth, opened = 0, false
  for i = first, math.min(#lines, first + 400) do
    local text, at = lines[i], 1
    while at <= #text do
      local c = text:sub(at, at)
      if c == "-" and text:sub(at + 1, at + 1) == "-" then break end
      if c == '"' or c == "'" then
        local close = at + 1
        while close <= #text and text:sub(close, close) ~= c do
          close = close + (text:sub(close, close) == "\\" and 2 or 1)
        end
        at = close
      elseif c == "{" then
        depth, opened = depth + 1, true
      elseif c == "}" then
        depth = depth - 1
      end
      at = at + 1
    end
    if not opened then return nil end
    if depth <= 0 then return i end
  end
  return math.min(#lines, first + 400)
end

-- The line of `key =` in the table written at the call on where.line (after the line of each key in
-- `path` first, for nested keys), or where.line when it cannot be found. Only that table's lines are
-- searched: a study of a table built elsewhere, study "x" (spec), was located at the next `key =`
-- of the script below it, another study's or function's.
function checks.key_line(where, path)
  local lines = source_lines(where)
  local line = where.line
  local last = lines and table_end(lines, line)
  if not last then return line end
  for _, key in ipairs(path) do
    local pattern = "%f[%w_]" .. key:gsub("%p", "%%%0") .. "%s*="
    for i = line, last do
      if lines[i]:find(pattern) then
        line = i
        break
      end
    end
  end
  return line
end

-- Raises `message` located at the user's line (the first frame outside scalelab's library), however
-- deep the library's own calls (and tail calls, which leave no frame to count) go: for functions
-- whose every error is about their caller's arguments. It takes error's arguments, but no level is
-- needed: local error = checks.error_at_user.
function checks.error_at_user(message)
  local where = checks.where(2)
  if where and type(message) == "string" then message = where.short_src .. ":" .. where.line .. ": " .. message end
  error(message, 0)
end

-- An error as a reader (of a report, of a command's output) should see it: the first line, without
-- the file:line prefixes that locate code ("stdlib/scalelab/study/analysis.lua:528: ", "[string
-- \"...\"]:3: ", "(command line):1: "), which say nothing about what the reader wrote.
function checks.plain(message)
  local text = tostring(message):match("^[^\n]*")
  local previous
  repeat
    previous = text
    text = text:gsub("^[%w_./%-]+%.lua:%d+: ", ""):gsub("^%[string [^%]]*%]:%d+: ", ""):gsub("^%(command line%):%d+: ", "")
  until text == previous
  return text
end

-- Raises `message` located at where (a checks.where result), refined to the line of the key path.
function checks.fail(where, message, path)
  if where then
    local line = path and checks.key_line(where, path) or where.line
    error(where.short_src .. ":" .. line .. ": " .. message, 0)
  end
  error(message, 0)
end

local function sorted_keys(valid)
  local names = {}
  for name in pairs(valid) do names[#names + 1] = name end
  table.sort(names)
  return names
end

-- What to write for a sweep given as a plain table: "got a table" left open what was wrong with
-- sweep = sweep.log(1e5, 1e7, 4) (values of one key, not runs), a list of points, or { N =, D = }.
local function sweep_hint(value)
  if type(value) ~= "table" or getmetatable(value) ~= nil then return "" end
  if type(value[1]) == "number" then
    return string.format(": a list of %d numbers, such as sweep.log and sweep.linear give, holds the values of one "
      .. "key, not runs; make the runs of them, sweep.grid{ N = sweep.log(...), D = { ... } } or sweep.isoflop{ "
      .. "budgets = { ... }, sizes = sweep.log(...) }", #value)
  end
  if type(value[1]) == "table" then
    return ": a list of points is a sweep once written sweep.list{ { N = ..., D = ... }, ... }"
  end
  if value.N ~= nil and (value.D ~= nil or value.tokens_per_param ~= nil) then
    return ": every N with every D is sweep.grid{ N = { ... }, D = { ... } }"
  end
  return ""
end

-- Checks the table `t` against `valid` = { key = "number" | "string" | {"table", "function"} | ... }
-- ("any" accepts everything; "integer" a whole number; "sweep" a sweep; "positive" a number > 0).
-- `what` names the table in messages ("study", "sweep.isoflop"), `prefix` is the key path of
-- nested tables for locating them.
function checks.table(t, valid, what, where, prefix)
  prefix = prefix or {}
  local names = sorted_keys(valid)
  for key, value in pairs(t) do
    if type(key) ~= "string" then
      checks.fail(where, what .. ": entries are named (key = value); found a positional value " .. tostring(value), prefix)
    end
    local expected = valid[key]
    local path = { table.unpack(prefix) }
    path[#path + 1] = key
    if expected == nil then
      local suggestion = checks.closest(key, names)
      checks.fail(where, string.format("%s: unknown key '%s'%s (valid keys: %s)", what, key,
        suggestion and ("; did you mean '" .. suggestion .. "'?") or "", table.concat(names, ", ")), path)
    end
    if not checks.is(value, expected) then
      -- A number in quotes (D = "1e9"): say how to write it, as the C++ bindings do.
      local as_number = type(value) == "string" and tonumber(value)
      local hint = as_number and checks.is(as_number, expected)
        and string.format("; write it without quotes: %s = %s", key, value:match("^%s*(.-)%s*$")) or ""
      if expected == "sweep" then hint = hint .. sweep_hint(value) end
      -- A whole number out of range is named by its value (measured_speed = 0 said "got an integer").
      local got = math.type(value) == "integer" and tostring(value) or checks.type_name(value)
      checks.fail(where, string.format("%s: %s must be %s (got %s)%s", what, key, checks.describe(expected), got, hint),
        path)
    end
  end
end

-- Why `list` is not a list (nil when it is): a key that is not a position (a name, 0, 1.5), or a nil
-- among its entries. `#list` and ipairs stop at a nil, or not, as the table happens to be stored: a
-- variable not set in { small, medium, large } left out every entry after it, without a word.
-- `what` names the list in the message ("sweep.grid: N").
function checks.list_problem(list, what)
  local n, count = 0, 0
  for k in pairs(list) do
    if math.type(k) ~= "integer" or k < 1 then
      return string.format("%s is a list, found the key %s: write the values in braces without names, { 1e6, 2e6 }",
        what, type(k) == "string" and ("'" .. k .. "'") or tostring(k))
    end
    if k > n then n = k end
    count = count + 1
  end
  if count == n then return nil end
  for i = 1, n do
    if list[i] == nil then
      return string.format("%s[%d] is nil (a variable not set?), with values after it: give a value there, or leave "
        .. "it out of the list", what, i)
    end
  end
end

function checks.type_name(value)
  local kind = type(value)
  if kind == "number" then return math.type(value) == "integer" and "an integer" or "a number " .. tostring(value) end
  local function article(name) return (name:match("^[AEIOaeio]") and "an " or "a ") .. name end  -- a userdata
  if kind == "table" and getmetatable(value) and getmetatable(value).__name then
    return article(getmetatable(value).__name)
  end
  if kind == "userdata" then
    local mt = getmetatable(value)
    return article(mt and mt.__name or "userdata")
  end
  return ({ string = "a string", table = "a table", ["function"] = "a function", boolean = "a boolean" })[kind] or kind
end

-- What checks.is(v, "count") accepts, for messages: the store keeps numbers as doubles.
checks.count_range = "a whole number from 0 to 2^53 - 1 = 9007199254740991 (the store keeps numbers as doubles, "
  .. "which hold whole numbers exactly only below 2^53)"

local descriptions = {
  number = "a number", positive = "a positive number", integer = "a whole number", count = checks.count_range,
  string = "a string", table = "a table", ["function"] = "a function", boolean = "true or false",
  sweep = "a sweep (sweep.grid{...}, sweep.isoflop{...}, ...)", any = "any value", userdata = "an object",
  list = "a list", number_or_list = "a number or a list of numbers",
}

function checks.describe(expected)
  if type(expected) == "table" then
    local parts = {}
    for i, e in ipairs(expected) do parts[i] = descriptions[e] or e end
    return table.concat(parts, " or ")
  end
  return descriptions[expected] or expected
end

function checks.is(value, expected)
  if type(expected) == "table" then
    for _, e in ipairs(expected) do
      if checks.is(value, e) then return true end
    end
    return false
  end
  if expected == "any" then return true end
  if expected == "positive" then return type(value) == "number" and value > 0 and value < math.huge end
  if expected == "integer" then return math.type(value) == "integer" or (type(value) == "number" and value == math.floor(value)) end
  -- A count, seed or step number: a whole number >= 0 that a double holds exactly.
  if expected == "count" then return type(value) == "number" and value == math.floor(value) and value >= 0 and value < 2 ^ 53 end
  if expected == "sweep" then return type(value) == "table" and getmetatable(value) and getmetatable(value).__name == "Sweep" end
  if expected == "list" then return type(value) == "table" and (#value > 0 or next(value) == nil) end
  if expected == "number_or_list" then return type(value) == "number" or type(value) == "table" end
  return type(value) == expected
end

return checks
