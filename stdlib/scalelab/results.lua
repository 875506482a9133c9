-- scalelab results FILE.db [options]: lists the runs of a results store, or exports them.
local native_store = require "scalelab.native.store"
local core = require "scalelab.native.core"
local checks = require "scalelab.study.checks"

local results = {}

results.usage = [[
usage: scalelab results FILE.db [options]
Lists the studies and runs of a results store (read-only: the file is never modified).
Options:
  --study NAME     only this study
  --status S       only runs with this status (planned, running, done, failed, diverged, interrupted)
  --csv PATH       write the runs as CSV (pandas.read_csv reads it as it is)
  --json PATH      write the runs as JSON records (pandas.read_json)
  --curves PATH    write the loss curves, one row per point (.csv or .json)
  -h, --help       this help
]]

-- A mistake in the command line: reported with the usage, exit status 2.
local Usage = {}
local function usage_error(message)
  error(setmetatable({ message = message }, Usage), 0)
end

local STATUSES = { "planned", "running", "done", "failed", "diverged", "interrupted" }

local function parse(args)
  local options = {}
  local i = 1
  while args[i] do
    local a = args[i]
    local function value()
      i = i + 1
      if not args[i] then usage_error(a .. " needs a value") end
      return args[i]
    end
    if a == "-h" or a == "--help" then options.help = true
    elseif a == "--study" then options.study = value()
    elseif a == "--status" then
      options.status = value()
      local known = false
      for _, s in ipairs(STATUSES) do known = known or s == options.status end
      if not known then
        usage_error("--status '" .. options.status .. "' is not a status; use one of " .. table.concat(STATUSES, ", "))
      end
    elseif a == "--csv" then options.csv = value()
    elseif a == "--json" then options.json = value()
    elseif a == "--curves" then options.curves = value()
    elseif a:sub(1, 1) == "-" then
      local checks = require "scalelab.study.checks"
      local suggestion = checks.closest(a, { "--study", "--status", "--csv", "--json", "--curves", "--help" })
      usage_error("unknown option '" .. a .. "'" .. (suggestion and ("; did you mean '" .. suggestion .. "'?") or ""))
    elseif not options.path then options.path = a
    else usage_error("one store at a time (got '" .. options.path .. "' and '" .. a .. "')")
    end
    i = i + 1
  end
  return options
end

local function cell(x, format)
  if x == nil then return "" end
  return format(x)
end

-- Prints the runs of the store at `path` as a table.
function results.list(store, filter)
  for _, s in ipairs(store:studies()) do
    if not filter.study or filter.study == s.name then
      print(string.format("study %s: script %s (sha256 %s), scalelab %s", s.name, s.script_path ~= "" and s.script_path or "?",
        (s.script_hash or ""):sub(1, 12), s.scalelab_version or "?"))
      local runs = store:runs { study = s.name, status = filter.status }
      print(string.format("  %4s  %-8s %-9s %-9s %-9s %-9s %-9s %-9s %s", "#", "status", "N", "params", "D", "FLOPs", "loss", "time", "hash"))
      for _, r in ipairs(runs) do
        print(string.format("  %4d  %-8s %-9s %-9s %-9s %-9s %-9s %-9s %s", r.ordinal, r.status,
          cell(r.non_embedding_params, core.format_count), cell(r.params, core.format_count),
          cell(r.tokens, core.format_count), cell(r.flops, core.format_flops),
          cell(r.loss, function(x) return string.format("%.4f", x) end),
          cell(r.wall_seconds, core.format_duration), r.hash:sub(1, 12)))
      end
      print(string.format("  %s (N: non-embedding parameters; params: all)", core.format_counted(#runs, "run")))
    end
  end
end

-- A runtime failure (not a usage mistake): its message without scalelab's internal file:line.
local function failure(message)
  io.stderr:write("scalelab results: ", checks.plain(message), "\n")
  return 1
end

local function run(args)
  local options = parse(args)
  if options.help then
    io.stdout:write(results.usage)
    return 0
  end
  if not options.path then usage_error("which store? give the path of a study's .db file") end
  local probe = io.open(options.path, "rb")
  if not probe then usage_error("no results store at '" .. options.path .. "' (no such file)") end
  probe:close()
  local ok, store = pcall(native_store.open, options.path, { read_only = true })
  if not ok then return failure(store) end
  local filter = { study = options.study, status = options.status }
  if filter.study then
    local names, found = {}, false
    for _, s in ipairs(store:studies()) do
      names[#names + 1] = s.name
      found = found or s.name == filter.study
    end
    if not found then
      store:close()
      return failure(string.format("no study '%s' in %s; %s", filter.study, options.path,
        #names == 0 and "it holds no studies" or ("its studies: " .. table.concat(names, ", "))))
    end
  end
  print(tostring(store))
  local exported, why = pcall(function()
    if options.csv then print("runs: " .. store:export(options.csv, filter)) end
    if options.json then print("runs: " .. store:export(options.json, filter)) end
    if options.curves then
      print("curves: " .. store:export(options.curves, { what = "curves", study = filter.study, status = filter.status }))
    end
  end)
  if not exported then
    store:close()
    return failure(why)
  end
  if not (options.csv or options.json or options.curves) then results.list(store, filter) end
  store:close()
  return 0
end

-- scalelab results ARGS: returns the exit status (0; 1 when the store cannot be read; 2 on bad
-- usage, with the usage).
function results.main(args)
  local ok, status = pcall(run, args or {})
  if ok then return status end
  if getmetatable(status) == Usage then
    io.stderr:write("scalelab results: ", status.message, "\n", results.usage)
    return 2
  end
  error(status, 0)
end

return results
