-- Pretty printing for the REPL and for reports: tables with depth and length limits, cycles marked,
-- bound objects as their one-line summaries (__tostring).
local pretty = {}

local DEFAULTS = { depth = 3, length = 30, width = 100, indent = "  " }

local KEYWORDS = {}
for word in ([[and break do else elseif end false for function goto if in local nil not or repeat
  return then true until while]]):gmatch("%a+") do KEYWORDS[word] = true end

local function is_identifier(key)
  return type(key) == "string" and key:match("^[%a_][%w_]*$") ~= nil and not KEYWORDS[key]
end

-- text with each byte that is no part of valid UTF-8 replaced by replace(byte); valid characters,
-- multibyte ones included, stay as they are.
function pretty.replace_invalid_utf8(text, replace)
  if utf8.len(text) then return text end
  local out, i = {}, 1
  while i <= #text do
    local b = text:byte(i)
    local length = b < 0x80 and 1 or b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC0 and 2 or 0
    local piece = length > 0 and text:sub(i, i + length - 1) or ""
    if length > 0 and #piece == length and utf8.len(piece) then
      out[#out + 1] = piece
      i = i + length
    else
      out[#out + 1] = replace(b)
      i = i + 1
    end
  end
  return table.concat(out)
end

-- A string as a Lua literal on one line: "a\nb" (string.format's %q would break the line).
local ESCAPES = { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
-- Bytes that are no part of valid UTF-8 as decimal escapes ("\255"), so that the literal reads back
-- as the same string.
local function escape_invalid_utf8(text)
  return pretty.replace_invalid_utf8(text, function(b) return string.format("\\%03d", b) end)
end

-- The C1 control characters U+0080..U+009F (valid UTF-8, C2 80..C2 9F) as "\u{9B}": some terminals
-- act on them (U+009B as ESC [) rather than show them.
function pretty.escape_c1(text)
  return (text:gsub("\194([\128-\159])", function(c) return string.format("\\u{%X}", c:byte()) end))
end
local escape_c1 = pretty.escape_c1

local function quoted(text)
  local escaped = text:gsub('[%c"\\]', function(c) return ESCAPES[c] or string.format("\\%03d", c:byte()) end)
  return '"' .. escape_invalid_utf8(escape_c1(escaped)) .. '"'
end

-- The name of a value's type for messages: its metatable's __name (bound objects: "Law",
-- "Store"), else its Lua type.
local function type_name(value)
  local meta = getmetatable(value)
  if type(meta) == "table" and type(rawget(meta, "__name")) == "string" then return rawget(meta, "__name") end
  return type(value)
end

-- A short placeholder for a value whose metamethod raised: "<Law: __tostring failed: boom>". The
-- message loses its "file:line: " prefix and anything after its first line, and is cut to 80 characters.
local function failed(value, what, message)
  local text = tostring(message):gsub("^[^\n]-:%d+: ", ""):match("^[^\n]*")
  if #text > 80 then text = text:sub(1, 77) .. "..." end
  return string.format("<%s: %s failed: %s>", type_name(value), what, text)
end

-- tostring(value), or the placeholder when its __tostring raises (or returns no string).
local function safe_tostring(value)
  local ok, text = pcall(tostring, value)
  if ok and type(text) == "string" then return text end
  return failed(value, "__tostring", ok and ("it returned " .. type(text)) or text)
end

-- A string shown bare (a value alone, as the REPL prints text a function returned: a summary, a
-- report) keeps its line breaks, tabs and valid UTF-8, but not what a terminal acts on rather than
-- shows: the other control characters (the ESC of an ANSI sequence, which recoloured the terminal or
-- moved its cursor; \r, which overwrote the line; backspace; the bell), the C1 controls (escape_c1)
-- and bytes that are no part of valid UTF-8 show as a Lua literal writes them ("\027[31m", "\r",
-- "\u{9B}", "\255"). print(s) writes the string as it is.
local BARE_ESCAPES = { ["\r"] = "\\r", ["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f", ["\v"] = "\\v" }
local function bare(text)
  local shown = text:gsub("[%z\1-\8\11-\31\127]", function(c) return BARE_ESCAPES[c] or string.format("\\%03d", c:byte()) end)
  return escape_invalid_utf8(escape_c1(shown))
end

-- The names users call the library's functions by (and the standard library's), built once per
-- pretty.format call that shows a function: by name, a function the library wraps (data.sampler,
-- whose Lua wrapper is shared by data.lua's functions) showed as that wrapper's file and line, and a
-- built-in one as "builtin", neither saying which function it was. Best first: a module's function
-- as the module's global names it (data.sampler, plot.formats.count), a class's method as
-- Class:method (Sampler:next_batch, Study:curves), then the standard library's (string.format,
-- print), then the head of its documentation ("s:each() -> ..." names s:each).
local names  -- function -> name, for the format call in progress (nil: not built yet)

local function identifier(key)
  return type(key) == "string" and key:match("^[%a_][%w_]*$") ~= nil
end

local function library_names()
  local best, rank = {}, {}
  local function add(fn, name, priority)
    local old = rank[fn]
    if old == nil or priority < old or (priority == old and (#name < #best[fn] or (#name == #best[fn] and name < best[fn]))) then
      best[fn], rank[fn] = name, priority
    end
  end
  local function is_class(t)
    return type(rawget(t, "__name")) == "string" and rawget(t, "__index") == t
  end
  local seen = {}
  local function walk(t, prefix, depth)
    if seen[t] then return end
    seen[t] = true
    for key, value in next, t do
      if identifier(key) then
        if type(value) == "function" then
          if is_class(t) then add(value, rawget(t, "__name") .. ":" .. key, 2)
          else add(value, prefix .. "." .. key, 1) end
        elseif type(value) == "table" and depth < 3 then
          walk(value, prefix .. "." .. key, depth + 1)
        end
      end
    end
  end
  local loaded = package.loaded
  local scalelab = loaded["scalelab"]
  for _, module in ipairs(type(scalelab) == "table" and scalelab.modules or {}) do
    if type(loaded["scalelab." .. module]) == "table" then walk(loaded["scalelab." .. module], module, 1) end
  end
  for _, global in ipairs { "pretty", "doc" } do
    if type(rawget(_G, global)) == "function" then add(rawget(_G, global), global, 1) end
  end
  -- The bound classes' methods: their metatables are in the registry as "scalelab.Sampler".
  for key, meta in next, debug.getregistry() do
    if type(key) == "string" and key:find("^scalelab%.[%a_][%w_]*$") and type(meta) == "table"
        and type(rawget(meta, "__methods")) == "table" then
      for method, fn in next, rawget(meta, "__methods") do
        if identifier(method) and type(fn) == "function" then add(fn, key:sub(10) .. ":" .. method, 2) end
      end
    end
  end
  -- The standard library, as Lua's tracebacks name it: package.loaded's modules and the globals.
  for module, t in next, loaded do
    if type(module) == "string" and type(t) == "table" and module ~= "_G" and not module:find("^scalelab") then
      for key, fn in next, t do
        if identifier(key) and type(fn) == "function" then add(fn, module .. "." .. key, 3) end
      end
    end
  end
  for key, fn in next, _G do
    if identifier(key) and type(fn) == "function" then add(fn, key, 3) end
  end
  local ok, docs = pcall(function() return require("scalelab.native.core").docs() end)
  for fn, text in next, ok and type(docs) == "table" and docs or {} do
    local head = type(fn) == "function" and type(text) == "string" and text:match("^([%a_][%w_]*[.:][%a_][%w_.:]*)%s*[%({\"]")
    if head then add(fn, head, 4) end
  end
  return best
end

local library_source = require("scalelab.native.core").library_source

-- "function: data.sampler" for a function of the library (or a built-in one) that has a name, else
-- where a Lua function was defined ("function: stdin:3", the user's own), or "function: builtin".
local format_function
function format_function(fn)
  local info = debug.getinfo(fn, "S")
  if info.what == "C" or library_source(info.source) then
    names = names or library_names()
    if names[fn] then return "function: " .. names[fn] end
  end
  if info.what == "C" then
    -- A library function written in Lua that is called through a C function (core.keep_caller, such
    -- as the one study "x" returns) and has no name: shown as the function it calls.
    local _, inner = debug.getupvalue(fn, 1)
    local inner_info = type(inner) == "function" and debug.getinfo(inner, "S")
    if inner_info and inner_info.what == "Lua" and library_source(inner_info.source) then return format_function(inner) end
    return "function: builtin"
  end
  return string.format("function: %s:%d", info.short_src, info.linedefined)
end

local function format_scalar(value, quote)
  local kind = type(value)
  if kind == "string" then
    return quote and quoted(value) or bare(value)
  elseif kind == "number" then
    -- NaN as the tool prints it elsewhere (reports, tables, messages): "nan". Lua's tostring gives
    -- the C library's text, "-nan" for 0/0 on x86 (its sign bit set), "nan" for -(0/0): the sign of
    -- a NaN means nothing, and a diverged loss showed as "-nan" here and "nan" in the run's report.
    if value ~= value then return "nan" end
    if math.type(value) == "float" and value == math.floor(value) and math.abs(value) < 1e15 then
      return string.format("%.1f", value)
    end
    return tostring(value)
  elseif kind == "function" then
    return format_function(value)
  end
  return safe_tostring(value)  -- nil, booleans, userdata with __tostring, threads
end

-- The order keys are shown in: numbers, then strings, then the rest (by their text).
local RANK = { number = 1, string = 2 }
local function key_before(a, b)
  local ra, rb = RANK[type(a)] or 3, RANK[type(b)] or 3
  if ra ~= rb then return ra < rb end
  if ra <= 2 then return a < b end
  return safe_tostring(a) < safe_tostring(b)
end

-- The first `limit` of `list` in key_before's order. Sorting a table of a million keys to show 30
-- took seconds: past a few times `limit`, the first ones are kept in a short sorted list instead.
local function first_keys(list, limit)
  if #list <= 4 * limit then
    table.sort(list, key_before)
    return list
  end
  local first = {}
  for _, k in ipairs(list) do
    if #first < limit or (#first > 0 and key_before(k, first[#first])) then
      local at = #first + 1
      while at > 1 and key_before(k, first[at - 1]) do at = at - 1 end
      table.insert(first, at, k)
      first[limit + 1] = nil
    end
  end
  return first
end

-- A table's entries: n (its length, the array part shown first), the number of its other keys, the
-- first `limit` of them in a stable order (key_before), and the values its pairs gave. Returns nil
-- and the message when __len or __pairs raises. Of the array part only the values shown are kept: a
-- copy of every key and value (a table of 1e7 numbers took 512 MB and 1.3 s to show its first 30,
-- and one of 1e8 could end the session out of memory) is made of the other keys alone.
local function entries(t, limit)
  local got, n = pcall(function() return #t end)
  if not got then return nil, nil, nil, nil, failed(t, "__len", n) end
  if math.type(n) ~= "integer" or n < 0 then n = 0 end
  local values, others = {}, {}
  local ok, message = pcall(function()
    for k, v in pairs(t) do
      if math.type(k) == "integer" and k >= 1 and k <= n then
        if k <= limit then values[k] = v end
      else
        others[#others + 1] = k
        values[k] = v
      end
    end
  end)
  if not ok then return nil, nil, nil, nil, failed(t, "__pairs", message) end
  -- The array part: values pairs did not give (a proxy's __index) are read by indexing, as far as
  -- they are shown (a __len of a billion reads no more).
  for i = 1, math.min(n, limit) do
    if values[i] == nil then
      local read, v = pcall(function() return t[i] end)
      if read then values[i] = v end
    end
  end
  return n, #others, first_keys(others, limit), values
end

-- A multi-line text's later lines moved to start at `by`: their common leading blanks are replaced
-- by it (their own deeper indentation stays), and trailing blanks are dropped.
local function indent_lines(text, by)
  text = text:gsub("[ \t]+\n", "\n"):gsub("[ \t]+$", "")
  local first, rest = text:match("^([^\n]*)\n(.*)$")
  local common
  for line in (rest .. "\n"):gmatch("([^\n]*)\n") do
    if line:find("%S") then
      local lead = #line:match("^ *")
      common = common and math.min(common, lead) or lead
    end
  end
  common = common or 0
  local lines = {}
  for line in (rest .. "\n"):gmatch("([^\n]*)\n") do
    lines[#lines + 1] = line:find("%S") and (by .. line:sub(common + 1)) or ""
  end
  return first .. "\n" .. table.concat(lines, "\n")
end

-- Whether format_value lays `value` out itself over several lines (a plain table, indented by
-- its level), rather than taking its text from __tostring.
local function laid_out(value)
  if type(value) ~= "table" then return false end
  local meta = getmetatable(value)
  return not (type(meta) == "table" and rawget(meta, "__tostring"))
end

-- `lead`: the width of what precedes the value on its first line ("key = "), 0 when nothing does.
local function format_value(value, options, level, seen, indent, lead)
  if type(value) ~= "table" then return format_scalar(value, level > 0) end
  local meta = getmetatable(value)
  -- An object with a summary shows as it; one that marks __show_fields (a study's run) only in a
  -- table, and with its fields where it is the value shown.
  if type(meta) == "table" and rawget(meta, "__tostring") and not (level == 0 and rawget(meta, "__show_fields")) then
    return safe_tostring(value)
  end
  if seen[value] then return "<cycle>" end
  local n, other_count, keys, values, problem = entries(value, options.length)
  if problem then return problem end
  local count = n + other_count
  if count == 0 then return "{}" end
  if level >= options.depth then return string.format("{...%d %s}", count, count == 1 and "item" or "items") end
  seen[value] = true
  local items = {}
  local shown = 0
  local inner = indent .. options.indent
  -- A value printed on several lines (an object's summary) has its later lines indented under its
  -- key, and no comma after its last line: the next key's dedent ends it.
  local multi = {}
  local function add(text, item)
    shown = shown + 1
    if text:find("\n") and not laid_out(item) then
      multi[#items + 1] = true
      text = indent_lines(text, inner .. options.indent)
    end
    items[#items + 1] = text
  end
  for i = 1, n do
    if shown >= options.length then break end
    add(format_value(values[i], options, level + 1, seen, inner), values[i])
  end
  for _, k in ipairs(keys) do
    if shown >= options.length then break end
    local key = is_identifier(k) and k or ("[" .. format_scalar(k, true) .. "]")
    add(key .. " = " .. format_value(values[k], options, level + 1, seen, inner, #key + 3), values[k])
  end
  if count > shown then items[#items + 1] = string.format("...(%d more)", count - shown) end
  seen[value] = nil
  local one_line = "{" .. table.concat(items, ", ") .. "}"
  if #one_line + #indent + (lead or 0) <= options.width and not one_line:find("\n") then return one_line end
  -- An object's summary has a line of its own (a study's runs, one a line).
  local summaries = false
  for i = 1, math.min(n, options.length) do
    local item_meta = type(values[i]) == "table" and getmetatable(values[i])
    if type(item_meta) == "table" and rawget(item_meta, "__tostring") then summaries = true break end
  end
  if other_count == 0 and not one_line:find("\n") and not summaries then
    -- An array of short values: as many to a line as fit, rather than one per line.
    local pieces = {}
    for i, item in ipairs(items) do pieces[i] = item .. (i < #items and "," or "") end
    local lines = require("scalelab.help").fill(pieces, options.width - #inner)
    return "{\n" .. inner .. table.concat(lines, "\n" .. inner) .. "\n" .. indent .. "}"
  end
  local out = {}
  for i, item in ipairs(items) do
    out[#out + 1] = inner .. item .. ((i < #items and not multi[i]) and "," or "")
  end
  return "{\n" .. table.concat(out, "\n") .. "\n" .. indent .. "}"
end

-- The columns text shown in the terminal may take: $COLUMNS where it is set (bash keeps it a shell
-- variable, unexported, so programs mostly find it unset), else the width of the terminal standard
-- output is, else 100 (a file or a pipe).
function pretty.columns()
  local columns = tonumber(os.getenv("COLUMNS") or "")
  if columns and columns >= 1 then return math.floor(columns) end
  local ok, native = pcall(require, "scalelab.native.study")
  local width = ok and native.columns("stdout") or 0
  return width > 0 and width or 100
end

-- What each option is, for the error that refuses a bad one.
local OPTION_WHAT = { depth = "levels of nested tables shown", length = "entries shown of each table",
                      width = "characters of a line" }

-- pretty.format(value [, { depth = 3, length = 30, width = 100, indent = "  " }]) -> string
-- Options are checked: a width of "x" failed inside the layout ("attempt to compare number with
-- string"), options = 5 in pairs ("bad argument #1 to 'for iterator'"), and a length of 1.5 showed
-- the second entry as nil ({1, nil, ...(1 more)}).
function pretty.format(value, options)
  if options ~= nil and type(options) ~= "table" then
    error("pretty(value, options): options must be a table such as { depth = 3, length = 30, width = 100 } (got "
      .. type(options) .. ")", 2)
  end
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(options or {}) do
    if DEFAULTS[k] == nil then
      -- Named from DEFAULTS: the list left out indent, which is taken.
      local valid = {}
      for name in pairs(DEFAULTS) do valid[#valid + 1] = name end
      table.sort(valid)
      error("pretty(value, options): unknown option '" .. tostring(k) .. "' (valid: " .. table.concat(valid, ", ") .. ")", 2)
    end
    local whole = type(v) == "number" and v >= 0 and (v == math.floor(v) or v == math.huge)
    if k == "indent" then whole = type(v) == "string" end
    if not whole then
      error(string.format("pretty(value, options): %s must be %s (got %s)", k,
        k == "indent" and "a string" or ("a whole number of " .. OPTION_WHAT[k] .. ", 0 or more, or math.huge for all"),
        type(v) == "string" and string.format("%q", v) or tostring(v)), 2)
    end
    o[k] = v
  end
  names = nil  -- built again for this call, when it shows a function: the modules may have changed
  return format_value(value, o, 0, {}, "")
end

return pretty
