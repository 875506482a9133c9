-- Names that a module or a class of the library does not have. Reading one gives nil, as any missing
-- field does (a script may test `if fit.published then`), but the miss is noted, so that the error
-- it leads to ("attempt to call a nil value (field 'rnu')" for train.rnu{...}) can say which name
-- was meant: the host's message handler (runtime/host/host.cpp) adds "did you mean 'train.run'?".
-- Tables a user picks an entry from by name (fit.published) refuse a name they lack instead
-- (refuse_misses): there a nil would be taken for "nothing given".
local M = {}

-- The last miss, in the registry where the message handler reads it: key (the name), owner (the
-- table that lacks it), label (how the user writes the owner: "train", "a Sweep") and kind
-- ("module" or "class"), and where it was read: reader (the function that read it) and line (its
-- line then), so that help(fit.chinchila), which receives only the nil, can tell that the nil is
-- that read's (M.read_here). One table, rewritten at each miss.
local last = {}
debug.getregistry()["scalelab.missing"] = last

-- The metatable of `owner`, given an empty one when it has none.
local function metatable_of(owner)
  local meta = getmetatable(owner)
  if meta == nil then
    meta = {}
    setmetatable(owner, meta)
  end
  return meta
end

-- Gives `owner` (a module table, or a class that is its objects' __index) an __index that notes each
-- name it lacks. Returns owner.
function M.note_misses(owner, label, kind)
  local meta = metatable_of(owner)
  meta.__index = function(_, key)
    if type(key) == "string" then
      last.key, last.owner, last.label, last.kind = key, owner, label, kind
      local info = debug.getinfo(2, "fl")
      last.reader, last.line = info and info.func, info and info.currentline
    end
    return nil
  end
  return owner
end

-- The last miss when it was read by `func` at `line` (the user's function and line that called
-- help) and is still the most recent: its key, owner, label and kind; else nil. The record is
-- forgotten once taken, so a later call on that line (a loop) is not told of it again. A nil that
-- came from elsewhere on the same line (help(x) after t = fit.foo, both on one line) is told of
-- the name that line did read, which holds nothing either.
function M.read_here(func, line)
  if last.key == nil or last.reader ~= func or last.line ~= line or func == nil then return nil end
  local key, owner, label, kind = last.key, last.owner, last.label, last.kind
  last.key, last.reader, last.line = nil, nil, nil
  return key, owner, label, kind
end

-- The names of `entries` (string keys, sorted), read with pairs: what a refusal lists.
function M.names(entries)
  local names = {}
  for name in pairs(entries) do
    if type(name) == "string" then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

-- Gives `owner`, a table of named entries that a user picks from by name (fit.published,
-- plan.published), an __index that refuses a name it lacks: reading one is an error at the user's
-- line that names it, the closest name and the names there are, where a nil went on to be taken for
-- "nothing given" (plan.table{ law = plan.published.chinchilla } answered with no law). `label` is
-- how the user writes owner ("fit.published"), `what` what its entries are ("law"). `elsewhere`,
-- when given, is a function of the name that returns text on where else to look, and true when that
-- text names the entry meant (no closest name is offered then). Only names are refused: t[1],
-- ipairs and names beginning "__" read nil. pairs, next and rawget see the entries as before: code that asks whether a
-- name is there uses rawget(owner, name). Returns owner.
function M.refuse_misses(owner, label, what, elsewhere)
  local meta = metatable_of(owner)
  meta.__index = function(_, key)
    -- Protocol names (__name, __doc) that generic code may probe on any table read nil too.
    if type(key) ~= "string" or key:find("^__") then return nil end
    local checks = require "scalelab.study.checks"
    local names = M.names(owner)
    local text, found
    if elsewhere then text, found = elsewhere(key) end
    local suggestion = checks.closest(key, names)
    local message = string.format("%s has no %s '%s'", label, what, key)
    if found then
      message = message .. ": " .. text .. "."
    elseif suggestion then
      message = message .. "; did you mean " .. label .. "." .. suggestion .. "?"
    else
      message = message .. "."
    end
    message = message .. " " .. label .. " holds: " .. table.concat(names, ", ")
    if text and not found then message = message .. "; " .. text end
    checks.error_at_user(message)
  end
  return owner
end

return M
