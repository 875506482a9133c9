-- help(x): the documentation of a module, function or object; doc(value, text) documents a value.
local native = require "scalelab.native.core"

local M = {}

-- The depth of open brackets at the end of s: > 0 while a parenthesis, bracket or brace is open.
local function open_brackets(s)
  local depth = 0
  for c in s:gmatch("[%(%)%[%]{}]") do
    depth = depth + ((c == "(" or c == "[" or c == "{") and 1 or -1)
  end
  return depth
end

-- The first sentence of s: up to the first ". " before a capital letter outside brackets, or all of s.
local function first_sentence(s)
  local depth = 0
  for i = 1, #s do
    local c = s:sub(i, i)
    if c == "(" or c == "[" or c == "{" then depth = depth + 1
    elseif c == ")" or c == "]" or c == "}" then depth = depth - 1
    elseif c == "." and depth <= 0 and s:sub(i + 1, i + 2):match("^ %u") then return s:sub(1, i) end
  end
  return s
end

-- A listing's entry for a documented value: the text's first line, with the lines that continue it
-- joined on (indented lines of a signature too long for one line, a sentence broken after "and",
-- "where", a comma or a colon, and an open parenthesis), up to the end of its first sentence, so
-- that no listing stops mid-signature, mid-sentence or mid-parenthesis.
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
    local continues = line:find("^%s+%S") or broken(out) or open_brackets(out) > 0
        or (line:find("^%l") and not out:find("[.!?]%s*$"))  -- "and evaluation loss ..." goes on the sentence
    if not continues then break end
    out = out:gsub("%s+$", "") .. " " .. line:match("^%s*(.-)%s*$")
  end
  return first_sentence(out)
end
M.first_line = first_line

-- The width listings wrap to: the terminal's (pretty.columns: $COLUMNS, else the terminal's width,
-- else 100), and no narrower than 60. It was $COLUMNS alone, which programs mostly do not see, so
-- listings wrapped at 100 on a narrower terminal, which wrapped each long line again.
local function width()
  return math.max(require("scalelab.pretty").columns(), 60)
end

-- text wrapped at spaces to lines of at most `room` characters (a longer word stays whole). A
-- line never starts with "=", a closing bracket or a comma: "law =" and "... }" stay together.
-- Pieces of text as lines of at most `room` characters, one space between pieces on a line (a piece
-- longer than room has a line to itself).
local function fill(pieces, room)
  local lines, line = {}, ""
  for _, piece in ipairs(pieces) do
    if line ~= "" and #line + 1 + #piece > room then
      lines[#lines + 1] = line
      line = piece
    else
      line = line == "" and piece or (line .. " " .. piece)
    end
  end
  lines[#lines + 1] = line
  return lines
end
M.fill = fill

-- text's words, each that starts with "=", a closing bracket or a comma joined to the one before.
local function words(text)
  local out = {}
  for word in text:gmatch("%S+") do
    if #out > 0 and word:find("^[=}%]),;|]") then out[#out] = out[#out] .. " " .. word
    else out[#out + 1] = word end
  end
  return out
end

local function wrap(text, room)
  return fill(words(text), room)
end
M.wrap = wrap

function M.doc(value, text)
  if type(text) ~= "string" then error("doc(value, text): text must be a string", 2) end
  return native.document(value, text)
end

local function lookup(value)
  return native.docs()[value]
end

-- A line of a doc text written as it is to be shown, not prose to reflow: code and signatures
-- indented by spaces, list items ("- ", "* ", "1. ") and table rows ("|").
local function kept_line(line)
  return line:find("^%s") or line:find("^[-*|]") or line:find("^%d+[.)]%s") or line:find("^```")
end

-- A signature: a call of a library function or method with what it takes ("data.sampler{ corpus =,
-- ...", "f:line{ x =, y = [, label =] },").
local function signature(line)
  return line:find("^[%a_][%w_]*[.:][%a_][%w_.:]*%s*[{(]") ~= nil
end

-- Whether a text opens with a signature laid over several lines (its later lines indented, or
-- going on after an open parenthesis, or one with its result: "-> Corpus"), which its head keeps
-- apart from the text after it.
local function has_head(text)
  local first, second = text:match("^([^\n]*)\n?([^\n]*)")
  return signature(first) and (first:find("->", 1, true) ~= nil or second:find("^[%s(]") ~= nil)
end

-- Whether `line` starts a new line of its paragraph rather than going on `previous` (the line
-- before it): after a signature or heading that ends without punctuation ("data.files{...} ->
-- Corpus", then "Byte-level tokens ..."), at a labelled section ("Fields: ...", "Methods: ..."), and
-- in a list of signatures a line each (plot.figure's "f:points{ ... },", "f:line{ ... },").
local function starts_line(previous, line, head)
  if not previous:find("[.,;:!?]$") and (line:find("^%u%l") or (head and line:find("^%u"))) then return true end
  if line:find("^%u%a*:%s") then return true end
  return signature(line) and line:find("[})][,;]$") ~= nil and previous:find("[})][,;]$") ~= nil
end

-- The pieces of a paragraph to wrap: words, with each optional part of a signature ("[, seq_len =
-- 256]", "[, label =, width =] }") and quoted value ('top right') kept whole, but for a piece wider
-- than `room`, which goes back to its words.
local function paragraph_pieces(text, room)
  local pieces, depth, quoted = {}, 0, false
  for word in text:gmatch("%S+") do
    if #pieces > 0 and (depth > 0 or quoted or word:find("^[=}%]),;|]")) then pieces[#pieces] = pieces[#pieces] .. " " .. word
    else pieces[#pieces + 1] = word end
    local _, opened = word:gsub("%[", "")
    local _, closed = word:gsub("%]", "")
    local _, quotes = word:gsub("'", "")
    depth = math.max(depth + opened - closed, 0)
    -- A quote opens at a word's start ('top), not in one (the law's), and closes anywhere (right'|).
    if quotes % 2 == 1 and (quoted or word:find("^[|=]?'")) then quoted = not quoted end
  end
  local fitted = {}
  for _, piece in ipairs(pieces) do
    if #piece <= room then fitted[#fitted + 1] = piece
    else for _, word in ipairs(words(piece)) do fitted[#fitted + 1] = word end end
  end
  return fitted
end

-- A line wider than `room` as lines of at most `room` characters: its continuation lines indented
-- to the line's own indentation, or to its column of text after a wide gap
-- ("  fit.chinchilla(obs, opts)        L = E + ...").
local function hang_wrap(line, room, out)
  local lead = #line:match("^%s*")
  local gap = line:find("%S%s%s+%S")
  local hang = lead
  if gap and gap < 60 then hang = #line:match("^.-%S%s%s+") end
  local lines = wrap(line:sub(hang + 1), math.max(room - hang, 20))
  out[#out + 1] = line:sub(1, hang) .. lines[1]
  for i = 2, #lines do out[#out + 1] = string.rep(" ", hang) .. lines[i] end
end

-- A doc text as the lines help prints at `room` columns: each paragraph of prose (lines from the
-- margin, up to a blank line or a kept line) reflowed to the width, as one text's line breaks were
-- made for no terminal in particular ("doc(value, text) documents your own" / "values for help.");
-- code, lists and tables (kept_line, and whatever lies inside ``` fences) as written, those but
-- tables and fenced code wrapped only where over 20 columns wider than the width. A text that
-- opens with a signature over several lines keeps it apart, its later lines indented by 2.
local function reflow(text, room)
  -- The text's head: the signature it opens with, and the indented lines that go on with it.
  local out, paragraph, previous, fenced, head = {}, nil, nil, false, has_head(text)
  local function flush()
    if paragraph and head then
      -- A signature too long for a line goes on indented, as the texts write its later lines.
      local lines = fill(paragraph_pieces(paragraph, room), room)
      out[#out + 1] = lines[1]
      if #lines > 1 then
        local rest = table.concat(lines, " ", 2)
        for _, line in ipairs(fill(paragraph_pieces(rest, room - 2), room - 2)) do out[#out + 1] = "  " .. line end
      end
    elseif paragraph then
      for _, line in ipairs(fill(paragraph_pieces(paragraph, room), room)) do out[#out + 1] = line end
    end
    if paragraph then paragraph, head = nil, false end
  end
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = line:gsub("%s+$", "")
    if line:find("^```") then
      flush()
      fenced = not fenced
      out[#out + 1] = line
    elseif fenced or line:find("^|") then
      out[#out + 1] = line
    elseif line == "" then
      flush()
      out[#out + 1] = ""
    elseif head and paragraph and line:find("^ ") then
      paragraph = paragraph .. " " .. line:match("^%s*(.-)$")
    elseif kept_line(line) then
      flush()
      -- As written; only one far wider than the terminal is wrapped (a hand-laid table of entries
      -- and their text, as fit's, reads best whole at a few columns over).
      if #line <= room + 20 then out[#out + 1] = line else hang_wrap(line, room, out) end
    elseif paragraph and not starts_line(previous, line, head) then
      paragraph = paragraph .. " " .. line
    else
      flush()
      paragraph = line
    end
    previous = line
  end
  flush()
  return out
end
M.reflow = reflow

local function print_text(text)
  for _, line in ipairs(reflow(text, width())) do print(line) end
end

-- Prints "  name   summary" per entry, the summary wrapped under itself (never cut).
local function list(title, entries, summarize)
  if #entries == 0 then return end
  table.sort(entries, function(a, b) return a[1] < b[1] end)
  if title then print(title) end
  local indent = string.rep(" ", 27)
  for _, entry in ipairs(entries) do
    local lines = wrap((summarize or first_line)(entry[2]), width() - #indent)
    local name = string.format("  %-24s ", entry[1])
    if #name > #indent then print((name:gsub("%s+$", ""))); name = indent end
    print(name .. lines[1])
    for i = 2, #lines do print(indent .. lines[i]) end
  end
end

-- A module's number as the library writes numbers (core.format_number's exponent form: 8.64e19,
-- 1e-5, not tostring's 8.64e+19 and 1e-05), every digit kept: the value is read back as it is.
local function number_text(v)
  return (tostring(v):gsub("e%+", "e"):gsub("e(%-?)0+(%d)", "e%1%2"))
end

-- A module's entry in help()'s list: its summary (scalelab.summaries) or its documentation's first
-- sentence, cut at a word to one line.
local function module_summary(name, text)
  local summary = require("scalelab").summaries[name] or first_sentence(first_line(text))
  local room = width() - 27
  if #summary > room then
    summary = summary:sub(1, room - 4):gsub("%s+%S*$", "") .. " ..."
  end
  return summary
end

-- The value a name such as "plot" or "fit.chinchilla" holds (globals, then scalelab.<name>), or nil.
local function resolve(name)
  local value = _G
  for part in name:gmatch("[^.:]+") do
    if type(value) ~= "table" and type(value) ~= "userdata" then return nil end
    local ok, next_value = pcall(function() return value[part] end)
    if not ok or next_value == nil then value = nil break end
    value = next_value
  end
  if value == nil then
    local ok, module = pcall(require, "scalelab." .. name)
    if ok then value = module end
  end
  return value
end

-- The names `owner` has that a user may type (its string keys but the metamethods), sorted.
local function api_names(owner)
  local names = {}
  for name in pairs(owner) do
    if type(name) == "string" and not name:find("^__") then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

-- The user's function and line that called help (the first frame above it outside the library and
-- not a C function: help is called through its global's __call, and tests call it through pcall).
local function caller()
  local library_source = native.library_source
  for level = 3, 64 do
    local info = debug.getinfo(level, "fSl")
    if not info then return nil end
    if info.what ~= "C" and not library_source(info.source) then return info.func, info.currentline end
  end
end

-- What help(nil) says: which name the nil came from when the user's line read a name that a module
-- or class lacks (scalelab.missing notes each such read, with where it was made), with the name
-- meant; else how to get that said (the name in quotes, which help can read).
local function nil_text(func, line)
  local key, owner, label, kind = require("scalelab.missing").read_here(func, line)
  if key and type(owner) == "table" then
    local suggestion = native.closest_name(key, api_names(owner))
    if kind == "module" then
      return string.format("help: no value (nil) given: %s has no '%s'%s; help(%s) lists what it has", label, key,
        suggestion and ("; did you mean '" .. label .. "." .. suggestion .. "'?") or "", label)
    end
    return string.format("help: no value (nil) given: %s has no '%s'%s", label, key,
      suggestion and ("; did you mean '" .. suggestion .. "'?") or ("; help(x) of " .. label .. " x lists what it has"))
  end
  return "help: no value (nil) given: the name holds nothing (a typo, or a variable not yet set?); the name in " ..
    "quotes says which name was meant (help(\"fit.chinchila\") for fit.chinchila); help() lists the modules"
end

function M.help(...)
  local value = ...
  if select("#", ...) == 0 then
    print("scalelab " .. native.version .. ": scaling-law studies in Lua.")
    print("help(x) documents a module, function or object: help(plot), help(fit.chinchilla), help(f) for a figure f.")
    print("Modules:")
    local entries = {}
    for _, name in ipairs(require("scalelab").modules) do
      entries[#entries + 1] = { name, name }
    end
    list(nil, entries, function(name) return module_summary(name, lookup(_G[name]) or "") end)
    print("In the REPL: Tab completes, Ctrl-C interrupts, Ctrl-D leaves.")
    return
  end
  if value == nil then
    print(nil_text(caller()))
    return
  end
  local kind = type(value)
  if kind == "string" then
    local named = value:match("^%s*([%a_][%w_.:]*)%s*$") and resolve(value:match("^%s*(.-)%s*$"))
    if named ~= nil and type(named) ~= "string" then return M.help(named) end
    -- "train.rnu": the name meant among train's; "plott": among the modules.
    local owner_name, last = value:match("^%s*([%a_][%w_.:]*)[.:]([%a_][%w_]*)%s*$")
    local owner = owner_name and resolve(owner_name)
    if type(owner) == "table" then
      local suggestion = native.closest_name(last, api_names(owner))
      print(string.format("help: %s has no '%s'%s; help(%s) lists what it has", owner_name, last,
        suggestion and ("; did you mean '" .. owner_name .. "." .. suggestion .. "'?") or "", owner_name))
      return
    end
    local names = {}
    for _, name in ipairs(require("scalelab").modules) do names[#names + 1] = name end
    local suggestion = native.closest_name(value, names)
    print(string.format("help: no module or global named '%s'%s; help() lists the modules, help(x) documents a value x",
      value, suggestion and ("; did you mean '" .. suggestion .. "'?") or ""))
    return
  end
  if kind == "userdata" or (kind == "table" and getmetatable(value) and getmetatable(value).__methods) then
    local meta = getmetatable(value)
    print(tostring(value))
    if lookup(meta) then print_text(lookup(meta)) end
    local properties, methods = {}, {}
    for name, getter in pairs(meta.__properties or {}) do properties[#properties + 1] = { name, lookup(getter) } end
    for name, method in pairs(meta.__methods or {}) do methods[#methods + 1] = { ":" .. name, lookup(method) } end
    list("Fields:", properties)
    list("Methods:", methods)
  elseif kind == "table" then
    -- An object made in Lua (a Study, say) is documented by its metatable, and its methods live there.
    local meta = getmetatable(value)
    local class = type(meta) == "table" and meta or nil
    if class and not lookup(value) then print(tostring(value)) end
    print_text(lookup(value) or (class and lookup(class)) or "(a table with no documentation)")
    -- Its functions, and its documented tables and objects (plan.published, plan.gpus, fit.published,
    -- plot.config, study.default_hyper, study.Study) and numbers (plan.PF_DAY): the listing named the
    -- functions alone, and nothing in help(plan) said that plan.published or plan.gpus were there.
    local functions, methods, tables, numbers = {}, {}, {}, {}
    for name, v in pairs(value) do
      -- Not its metamethods: help(study.Study) listed __tostring among a study's functions.
      local api = type(name) == "string" and not name:find("^__")
      if api and type(v) == "function" then functions[#functions + 1] = { name, lookup(v) or "" }
      elseif api and (type(v) == "table" or type(v) == "userdata") and lookup(v) then
        tables[#tables + 1] = { name, lookup(v) }
      elseif api and math.type(v) then numbers[#numbers + 1] = { name, number_text(v) }
      end
    end
    -- The methods along the whole __index chain, as Tab completes them: a class's own, then those it
    -- inherits (a study's approach-1 fit has :optimal from the IsoFLOP fit's class), the nearest first.
    local index, listed = class and class.__index, {}
    for _ = 1, 8 do
      if type(index) ~= "table" or index == value then break end
      for name, v in pairs(index) do
        if type(v) == "function" and type(name) == "string" and not name:find("^__") and not listed[name] then
          listed[name] = true
          methods[#methods + 1] = { ":" .. name, lookup(v) or "" }
        end
      end
      local meta_of_index = getmetatable(index)
      index = type(meta_of_index) == "table" and rawget(meta_of_index, "__index") or nil
    end
    list("Functions:", functions)
    list("Tables:", tables)
    list("Numbers:", numbers, function(text) return text end)
    list("Methods:", methods)
  elseif kind == "function" then
    local text = lookup(value)
    if text then
      print_text(text)
    else
      local info = debug.getinfo(value, "S")
      print(info.what == "C" and "(a built-in function with no documentation)"
        or string.format("(no documentation; defined at %s:%d)", info.short_src, info.linedefined))
    end
  else
    print(string.format("(a %s: %s)", kind, tostring(value)))
  end
end

M.doc(M.help, [[help([x]) prints the documentation of x: a module (its functions, documented tables and
numbers), a function, or an object (its fields and methods); help() alone lists the modules. doc(value, text) documents your own
values for help.]])
M.doc(M.doc, "doc(value, text) -> value: documents a table or function of your own, for help(value)")

return M
