-- The Lua half of the REPL (runtime/host/repl.cpp): how values are shown and how Tab completes.
local pretty = require "scalelab.pretty"

local repl = {}

-- Whether `value` can be called: a function, or a value whose metatable has __call (a callable table
-- an object holds, which Tab after ':' left out).
local function callable(value)
  if type(value) == "function" then return true end
  local meta = getmetatable(value)
  return type(meta) == "table" and rawget(meta, "__call") ~= nil
end

-- The line that shows the values an expression returned: each pretty-printed to the terminal's width
-- (a table's lines were 100 wide whatever the terminal's), separated by tabs as print does.
function repl.text(...)
  local n = select("#", ...)
  local parts = {}
  local options = { width = pretty.columns() }
  for i = 1, n do parts[i] = pretty.format((select(i, ...)), options) end
  return table.concat(parts, "\t")
end

-- Writes `text` and a line break to standard output: how the REPL shows values where a line left print
-- something that cannot be called (print = nil), as every value shown then failed, "attempt to call a
-- nil value (global 'print')" with this file's frames in its traceback.
function repl.write(text)
  io.write(text, "\n")
end

-- Prints each value an expression returned (repl.text) through the global print, as lua.c shows values
-- (a print of the user's that logs sees them too), or with repl.write where print cannot be called.
-- The REPL itself calls print from C (repl.cpp's show_values), so that an error that print raises
-- names no position of this file: print = error, then 1, said "stdlib/scalelab/repl.lua:26: 1".
function repl.show(...)
  local text = repl.text(...)
  -- The global print itself: the library's print falls back on Lua's own where it cannot be called.
  local global_print = _G.print
  if callable(global_print) then
    global_print(text)
  else
    repl.write(text)
  end
end

local KEYWORDS = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
  "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}

-- The fields of `value` visible through indexing: its own keys (tables), then along the __index
-- chain of its metatable, and the methods and properties of bound objects (__methods, __properties).
local function fields(value, out, depth)
  out = out or {}
  depth = depth or 0
  if depth > 8 then return out end
  if type(value) == "table" then
    for k, v in pairs(value) do
      if type(k) == "string" and k:match("^[%a_][%w_]*$") then out[k] = out[k] or v end
    end
  end
  local meta = getmetatable(value)
  if type(meta) == "table" then
    for _, extra in ipairs({ "__methods", "__properties" }) do
      if type(meta[extra]) == "table" then
        for k, v in pairs(meta[extra]) do
          if out[k] == nil then out[k] = extra == "__methods" and v or true end
        end
      end
    end
    if type(meta.__index) == "table" then fields(meta.__index, out, depth + 1) end
  end
  return out
end

-- Whether Lua source `text` ends inside a string ("...", '...', [[...]], [==[...]==]) or a comment
-- (-- to the line's end, --[[...]]): where a word typed is text, not a name to complete.
local function ends_in_text(text)
  local i = 1
  while true do
    local at = text:find("[\"'%-%[]", i)
    if not at then return false end
    local c = text:sub(at, at)
    local level = text:match("^%[(=*)%[", c == "-" and at + 2 or at)
    if c == "-" and text:sub(at + 1, at + 1) ~= "-" then
      i = at + 1
    elseif level and (c == "[" or c == "-") then  -- a long string, or a long comment
      local open = c == "-" and at + 2 or at
      local close = text:find("]" .. level .. "]", open + #level + 2, true)
      if not close then return true end
      i = close + #level + 2
    elseif c == "-" then  -- a comment to the line's end
      local newline = text:find("\n", at + 2, true)
      if not newline then return true end
      i = newline + 1
    elseif c == "[" then
      i = at + 1
    else  -- a quoted string, its escapes skipped ("\" and a line break goes on to the next line)
      local j = at + 1
      while true do
        local d = text:find("[\\\n" .. c .. "]", j)
        if not d then return true end
        local e = text:sub(d, d)
        if e ~= "\\" then i = d + 1 break end
        if d == #text then return true end
        j = d + 2
      end
    end
  end
end

-- Completes the word under the cursor: "mod", "mod.fi", "obj:me", "a.b.c". Returns full words.
-- `before`, when given, is the text before the word (the entry's earlier lines too): inside a
-- string or a comment there is nothing to complete (Tab in print("string.fo offered string.format).
function repl.complete(text, before)
  if type(before) == "string" and ends_in_text(before) then return {} end
  local head, separator, partial = text:match("^(.-)([.:]?)([%w_]*)$")
  if not head then return {} end
  local candidates = {}
  local base
  if separator == "" then
    base = _G
    for _, word in ipairs(KEYWORDS) do candidates[word] = true end
  else
    -- ".da" alone: the word began after something readline breaks words at ("x[1].da", "f().da"),
    -- an index or a call this cannot evaluate; no candidates rather than the globals.
    if head == "" then return {} end
    base = _G
    for name in head:gmatch("[^.:]+") do
      if not name:match("^[%a_][%w_]*$") then return {} end
      local ok, next_value = pcall(function() return base[name] end)
      if not ok or next_value == nil then return {} end
      base = next_value
    end
    if type(base) ~= "table" and type(base) ~= "userdata" and type(base) ~= "string" then return {} end
    -- A string has methods (s:upper()) and no fields: "name." of one (law.name.) offered the string
    -- library as fields (law.name.upper, a function, not the name's upper case).
    if type(base) == "string" and separator == "." then return {} end
  end
  for name, value in pairs(fields(base)) do
    if separator ~= ":" or callable(value) then candidates[name] = true end
  end
  local matches = {}
  for name in pairs(candidates) do
    if name:sub(1, #partial) == partial and not name:match("^__") then
      matches[#matches + 1] = head .. separator .. name
    end
  end
  table.sort(matches)
  return matches
end

return repl
