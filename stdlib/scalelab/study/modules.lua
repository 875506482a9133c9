-- The Lua modules a study's script requires, as its study began.
--
-- A parallel study's workers each run the script again, and so require its modules again: read
-- from their files then, a module edited while the study runs (a helper that plans the sweep, sets
-- an lr) would give the workers started after the edit another plan than the study's, and fail or
-- change their runs. So every module read from a file on package.path is kept as the text it was
-- loaded from (install(), at the program's start); the executor writes the texts of those its
-- process loaded beside the store, as it does the script (write_copies), and names them to its
-- workers (SCALELAB_STUDY_MODULES); a worker loads each from that copy, under its file's own name,
-- so that messages and tracebacks are the file's. A worker that cannot read a copy (a cluster's
-- machine that does not see the store's folder), and a module that the study's process had not
-- required when the study began, are read from their files as they are.
local native_store = require "scalelab.native.store"

local modules = {}

-- name -> { path =, text = }: each module this process loaded from a file on package.path.
local loaded = {}
-- In a worker: the script the copies belong to, and name -> { path =, copy = }.
local worker_script, copies = nil, nil

local function read(path)
  local file = io.open(path, "rb")
  if not file then return nil end
  local text = file:read("a")
  file:close()
  return text
end

-- As luaL_loadfile reads a file: a byte-order mark and a first line of '#' skipped, the line's end
-- kept so that line numbers stay the file's.
local function chunk_text(text)
  if text:sub(1, 3) == "\239\187\191" then text = text:sub(4) end
  if text:sub(1, 1) == "#" then text = text:gsub("^[^\n]*", "", 1) end
  return text
end

-- The copy this worker loads `name` from, or nil (not a worker of this script, or no copy of it).
local function copy_of(name)
  local a = rawget(_G, "arg")
  if not copies or not (type(a) == "table" and a[0] == worker_script) then return nil end
  return copies[name]
end

-- A package.searchers entry put before Lua's own file searcher: finds the module's file as that
-- searcher would (package.searchpath on package.path), or a worker's copy of it, and loads it from
-- the text read, which it keeps. Where it finds no file it returns nothing, and Lua's searcher says
-- where it looked.
local function searcher(name)
  local copy = copy_of(name)
  local path, text = copy and copy.path, copy and read(copy.copy)
  if not text then
    path = package.searchpath(name, package.path)
    text = path and read(path)
  end
  if not text then return nil end
  local chunk, why = load(chunk_text(text), "@" .. path)
  if not chunk then error(string.format("error loading module '%s' from file '%s':\n\t%s", name, path, why), 0) end
  loaded[name] = { path = path, text = text }
  return chunk, path
end

-- Puts the searcher in place (once, at the program's start, before any script runs) and, in a
-- worker, reads the list of copies its executor gave.
function modules.install()
  local searchers = package.searchers
  for _, s in ipairs(searchers) do
    if s == searcher then return end
  end
  -- Lua's file searcher is the one after the preload searcher and scalelab's library's.
  table.insert(searchers, math.min(3, #searchers + 1), searcher)
  local list = os.getenv("SCALELAB_STUDY_WORKER") and os.getenv("SCALELAB_STUDY_MODULES")
  if list and list ~= "" then
    local lines = {}
    for line in (list .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    worker_script, copies = lines[1], {}
    for i = 2, #lines - 2, 3 do copies[lines[i]] = { path = lines[i + 1], copy = lines[i + 2] } end
  end
end

-- Writes a copy of each module this process loaded and still has (package.loaded) beside the
-- store, as <store>.module-<sha16>.lua. Returns the copies' paths and the value of
-- SCALELAB_STUDY_MODULES for the workers of `script_path` (nil when there is nothing to give). A
-- module whose name or path holds a line break, or whose copy cannot be written, is left out: the
-- workers read its file.
function modules.write_copies(store_path, script_path)
  local names = {}
  for name in pairs(loaded) do
    if package.loaded[name] ~= nil then names[#names + 1] = name end
  end
  table.sort(names)
  local written, lines = {}, { script_path }
  if script_path:find("\n", 1, true) then return written, nil end
  for _, name in ipairs(names) do
    local module = loaded[name]
    if not (name:find("\n", 1, true) or module.path:find("\n", 1, true)) then
      local copy = string.format("%s.module-%s.lua", store_path, native_store.sha256(module.text):sub(1, 16))
      local file = io.open(copy, "wb")
      local ok = file and file:write(module.text)
      if file and ok and file:close() then
        if not written[copy] then written[#written + 1], written[copy] = copy, true end
        lines[#lines + 1] = name
        lines[#lines + 1] = module.path
        lines[#lines + 1] = copy
      else
        if file then file:close() end
        os.remove(copy)
      end
    end
  end
  if #lines == 1 then return written, nil end
  return written, table.concat(lines, "\n")
end

return modules
