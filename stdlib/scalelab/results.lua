-- scalelab results FILE.db [options]: lists the runs of a results store, or exports them.
local native_store = require "scalelab.native.store"
local core = require "scalelab.native.core"

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

local function parse(args)
  local options = {}
  local i = 1
  while args[i] do
    local a = args[i]
    local function value()
      i = i + 1
      if not args[i] then error("results: " .. a .. " needs a value\n" .. results.usage, 0) end
      return args[i]
    end
    if a == "-h" or a == "--help" then options.help = true
    elseif a == "--study" then options.study = value()
    elseif a == "--status" then options.status = value()
    elseif a == "--csv" then options.csv = value()
    elseif a == "--json" then options.json = value()
    elseif a == "--curves" then options.curves = value()
    elseif a:sub(1, 1) == "-" then error("results: unknown option '" .. a .. "'\n" .. results.usage, 0)
    elseif not options.path then options.path = a
    else error("results: one store at a time (got '" .. options.path .. "' and '" .. a .. "')", 0)
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
      print(string.format("  %d runs", #runs))
    end
  end
end

function results.main(args)
  local options = parse(args or {})
  if options.help then
    io.stdout:write(results.usage)
    return 0
  end
  if not options.path then error("results: which store?\n" .. results.usage, 0) end
  local store = native_store.open(options.path, { read_only = true })
  local filter = { study = options.study, status = options.status }
  print(tostring(store))
  if options.csv then print("runs: " .. store:export(options.csv, filter)) end
  if options.json then print("runs: " .. store:export(options.json, filter)) end
  if options.curves then
    print("curves: " .. store:export(options.curves, { what = "curves", study = filter.study, status = filter.status }))
  end
  if not (options.csv or options.json or options.curves) then results.list(store, filter) end
  store:close()
  return 0
end

return results
