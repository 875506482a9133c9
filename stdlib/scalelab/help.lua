-- help(x): the documentation of a module, function or object; doc(value, text) documents a value.
local native = require "scalelab.native.core"

local M = {}

-- A listing's line for a documented value: the text's first line, with the lines that continue it
-- joined on (indented lines of a signature too long for one line, and a sentence broken after
-- "and", "where", a comma or a colon), so that no listing stops mid-signature or mid-sentence.
local function first_line(text)
  local lines = {}
  for line in ((text or "") .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local out = lines[1] or ""
  local function broken(s)
    if s:find("[,:;(]%s*$") then return true end
    local last = s:match("(%a+)%s*$")
    return last ~= nil and ({ ["and"] = 1, ["or"] = 1, where = 1, the = 1, of = 1, a = 1, to = 1 })[last] ~= nil
  end
  for i = 2, #lines do
    local line = lines[i]
    if not line:find("%S") then break end
    if not (line:find("^%s+%S") or broken(out)) then break end
    out = out:gsub("%s+$", "") .. " " .. line:match("^%s*(.-)%s*$")
  end
  return out
end

function M.doc(value, text)
  if type(text) ~= "string" then error("doc(value, text): text must be a string", 2) end
  return native.document(value, text)
end

local function lookup(value)
  return native.docs()[value]
end

local function list(title, entries)
  if #entries == 0 then return end
  table.sort(entries, function(a, b) return a[1] < b[1] end)
  print(title)
  for _, entry in ipairs(entries) do
    print(string.format("  %-24s %s", entry[1], first_line(entry[2])))
  end
end

function M.help(value)
  if value == nil then
    print("scalelab " .. native.version .. ": scaling-law studies in Lua.")
    print("help(x) documents a module, function or object. Modules:")
    local entries = {}
    for _, name in ipairs(require("scalelab").modules) do
      entries[#entries + 1] = { name, lookup(_G[name]) or "" }
    end
    list("", entries)
    print("In the REPL: Tab completes, Ctrl-C interrupts, Ctrl-D leaves.")
    return
  end
  local kind = type(value)
  if kind == "userdata" or (kind == "table" and getmetatable(value) and getmetatable(value).__methods) then
    local meta = getmetatable(value)
    print(tostring(value))
    if lookup(meta) then print(lookup(meta)) end
    local properties, methods = {}, {}
    for name, getter in pairs(meta.__properties or {}) do properties[#properties + 1] = { name, lookup(getter) } end
    for name, method in pairs(meta.__methods or {}) do methods[#methods + 1] = { ":" .. name, lookup(method) } end
    list("Fields:", properties)
    list("Methods:", methods)
  elseif kind == "table" then
    print(lookup(value) or "(a table with no documentation)")
    local functions = {}
    for name, v in pairs(value) do
      if type(v) == "function" then functions[#functions + 1] = { name, lookup(v) or "" } end
    end
    list("Functions:", functions)
  elseif kind == "function" then
    local text = lookup(value)
    if text then
      print(text)
    else
      local info = debug.getinfo(value, "S")
      print(info.what == "C" and "(a built-in function with no documentation)"
        or string.format("(no documentation; defined at %s:%d)", info.short_src, info.linedefined))
    end
  else
    print(string.format("(a %s: %s)", kind, tostring(value)))
  end
end

M.doc(M.help, [[help([x]) prints the documentation of x: a module (its functions), a function, or an
object (its fields and methods); help() alone lists the modules. doc(value, text) documents your own
values for help.]])
M.doc(M.doc, "doc(value, text) -> value: documents a table or function of your own, for help(value)")

return M
