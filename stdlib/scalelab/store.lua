-- store: the results store of studies (runtime/store/store.h, bindings/store.cpp).
--   local s = store.open "isoflop-demo.db"          -- refuses foreign or corrupted files, untouched
--   for _, run in ipairs(s:runs{ status = "done" }) do print(run.label, run.loss) end
--   s:export "runs.csv"; s:export("curves.json", { what = "curves" })   -- pandas reads both as they are
local native = require "scalelab.native.store"
local core = require "scalelab.native.core"
local checks = require "scalelab.study.checks"

local methods = debug.getregistry()["scalelab.Store"].__methods

-- Why the store `s` holds no study `name` (the closest named, and the studies it holds), or nil
-- when it holds it. The one check of a study name given to read a store: scalelab results --study,
-- s:check_study, and the study = of s:export and s:text.
local function missing_study(s, name)
  local names = {}
  for _, study in ipairs(s:studies()) do
    if study.name == name then return nil end
    names[#names + 1] = study.name
  end
  local close = checks.closest(name, names)
  for i, known in ipairs(names) do names[i] = checks.printable(known) end
  return string.format("no study '%s' in %s; %s%s", checks.printable(name), s.path,
    close and ("did you mean '" .. checks.printable(close) .. "'? ") or "",
    #names == 0 and "it holds no studies" or ("its studies: " .. table.concat(names, ", ")))
end

-- Each function added to the class is called through a C function, as the native methods are: an
-- error names the user's line (checks.keep_callers).
local function method(name, fn, doc)
  local kept = core.keep_caller(fn)
  core.document(kept, doc)
  methods[name] = kept
end

method("check_study", function(s, name)
  if type(name) ~= "string" then
    checks.error_at_user("store:check_study(name): name must be a study's name as a string (got " .. type(name) .. ")")
  end
  local message = missing_study(s, name)
  if message then checks.error_at_user(message) end
end, "store:check_study(name): fails unless the store holds a study of that name, naming the closest and the "
  .. "studies it holds (as store:export and store:text do for study =)")

-- s:export(path, { study = "nope" }) wrote a file of the header alone, as for a study that ran no
-- run: a study the store lacks is refused, as `scalelab results --study` refuses it, before any file
-- is written. A study = that is no string is left to the native method's error.
for _, name in ipairs { "export", "text" } do
  local native_method = methods[name]
  method(name, function(s, first, filter, ...)
    if type(filter) == "table" and type(rawget(filter, "study")) == "string" then
      -- A store that cannot list its studies (closed) gets the native method's own error.
      local listed, message = pcall(missing_study, s, filter.study)
      if listed and message then checks.error_at_user("store:" .. name .. ": " .. message) end
    end
    return native_method(s, first, filter, ...)
  end, core.docs()[native_method] .. "; a study = the store lacks is refused, naming the closest (store:check_study)")
end

return native
