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
  .. "studies it holds (as store:runs, store:export and store:text do for study =)")

local STATUSES = { "planned", "running", "done", "failed", "diverged", "interrupted" }

-- Why `filter` (of s:runs, s:export, s:text) selects nothing because of a mistake, or nil: a study the
-- store lacks (s:runs{ study = "nope" } gave {}, as for a study that ran no run, and s:export a file
-- of the header alone), or a status that is none ("dnoe", "Done" or "", which gave every run). A
-- study or status that is no string is left to the native method's error, and so is a filter with a
-- key the method does not take (`keys`): s:runs{ study = "missing", statsu = "done" } named the
-- missing study, not the misspelt key (did you mean 'status'?) that the native method names.
local function filter_mistake(s, filter, keys)
  if type(filter) ~= "table" then return nil end
  for key in pairs(filter) do
    if not keys[key] then return nil end
  end
  local status = rawget(filter, "status")
  if type(status) == "string" then
    local known = false
    for _, name in ipairs(STATUSES) do known = known or name == status end
    if not known then
      local close = checks.closest(status, STATUSES)
      return string.format("status '%s' is not a run status; %suse one of %s", checks.printable(status),
        close and ("did you mean '" .. close .. "'? ") or "", table.concat(STATUSES, ", "))
    end
  end
  local study = rawget(filter, "study")
  if type(study) == "string" then
    -- A store that cannot list its studies (closed) gets the native method's own error.
    local listed, message = pcall(missing_study, s, study)
    if listed then return message end
  end
  return nil
end

-- s:runs(filter), s:export(path, filter), s:text(format, filter): a filter that names no study of the
-- store, or no status, is refused before anything is read or written, as `scalelab results --study`
-- and --status refuse them; a known study without runs (of that status) still gives none.
local FILTER_KEYS = { study = true, status = true }
local EXPORT_KEYS = { what = true, study = true, status = true }
for name, at in pairs { runs = 1, export = 2, text = 2 } do
  local native_method = methods[name]
  local keys = name == "export" and EXPORT_KEYS or FILTER_KEYS
  method(name, function(s, ...)
    local message = filter_mistake(s, (select(at, ...)), keys)
    if message then checks.error_at_user("store:" .. name .. ": " .. message) end
    return native_method(s, ...)
  end, core.docs()[native_method] .. "; a study = the store lacks (naming the closest: store:check_study) or a "
    .. "status = that is none is refused")
end

-- The study and hash of s:run and s:curve: both strings, else an error naming both.
local function check_run_key(name, study, hash)
  if type(study) ~= "string" or type(hash) ~= "string" then
    checks.error_at_user(string.format("store:%s(study, hash): study and hash must be strings, a study's name and one "
      .. "of its runs' hash (got %s and %s)", name, type(study), type(hash)))
  end
end

-- s:run(study, hash) of a study the store lacks gave nil, as for a run the study lacks: a mistyped
-- study name read as "no such run". A run the study lacks is still nil.
local native_run = methods.run
method("run", function(s, study, hash, ...)
  check_run_key("run", study, hash)
  local r = native_run(s, study, hash, ...)
  local message = r == nil and missing_study(s, study)
  if message then checks.error_at_user("store:run: " .. message) end
  return r
end, core.docs()[native_run] .. " (nil for a run the study lacks); a study the store lacks is refused, naming the closest")

-- Why the store `s` has no run `hash` of `study` (naming a study it lacks as missing_study does, and
-- how to list a study's runs), or nil when it has. A store that cannot be read (closed) gives nil:
-- the method's own call names that.
local function missing_run(s, study, hash)
  local read, r = pcall(native_run, s, study, hash)
  if not read or r then return nil end
  return missing_study(s, study) or string.format("study '%s' has no run '%s' in %s (s:runs{ study = \"%s\" } lists "
    .. "its runs, each with its hash)", checks.printable(study), checks.printable(hash), s.path, checks.printable(study))
end

-- s:curve(study, hash) of a run the store lacks gave {}, as for a run that recorded no curve.
local native_curve = methods.curve
method("curve", function(s, study, hash, ...)
  check_run_key("curve", study, hash)
  local points = native_curve(s, study, hash, ...)
  local message = #points == 0 and missing_run(s, study, hash)
  if message then checks.error_at_user("store:curve: " .. message) end
  return points
end, core.docs()[native_curve] .. "; a study or run the store lacks is refused (a run without a curve gives {})")

-- s:reset_run(study, hash) of a run the store lacks said "results store: study 't5' has no run nohash",
-- naming neither the method nor how to find a run's hash.
local native_reset_run = methods.reset_run
method("reset_run", function(s, study, hash, ...)
  check_run_key("reset_run", study, hash)
  local message = missing_run(s, study, hash)
  if message then checks.error_at_user("store:reset_run: " .. message) end
  return native_reset_run(s, study, hash, ...)
end, core.docs()[native_reset_run] .. "; a study or run the store lacks is refused, naming how to list its runs")

return native
