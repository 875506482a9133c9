-- Names that a module or a class of the library does not have. Reading one gives nil, as any missing
-- field does (a script may test `if fit.published then`), but the miss is noted, so that the error
-- it leads to ("attempt to call a nil value (field 'rnu')" for train.rnu{...}) can say which name
-- was meant: the host's message handler (runtime/host/host.cpp) adds "did you mean 'train.run'?".
local M = {}

-- The last miss, in the registry where the message handler reads it: key (the name), owner (the
-- table that lacks it), label (how the user writes the owner: "train", "a Sweep") and kind
-- ("module" or "class"). One table, rewritten at each miss: a miss allocates nothing.
local last = {}
debug.getregistry()["scalelab.missing"] = last

-- Gives `owner` (a module table, or a class that is its objects' __index) an __index that notes each
-- name it lacks. Returns owner.
function M.note_misses(owner, label, kind)
  local meta = getmetatable(owner)
  if meta == nil then
    meta = {}
    setmetatable(owner, meta)
  end
  meta.__index = function(_, key)
    if type(key) == "string" then
      last.key, last.owner, last.label, last.kind = key, owner, label, kind
    end
    return nil
  end
  return owner
end

return M
