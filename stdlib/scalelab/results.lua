-- scalelab results FILE.db [options]: lists the runs of a results store, or exports them.
local native_store = require "scalelab.native.store"
local core = require "scalelab.native.core"
local native_study = require "scalelab.native.study"
local checks = require "scalelab.study.checks"

local results = {}

results.usage = [[
usage: scalelab results FILE.db [options]
Lists the studies and runs of a results store (read-only: the store is never modified, and no file
is left beside it; a store in a folder you cannot write is read as it is).
Options (each at most once; --option VALUE or --option=VALUE):
  --study NAME     only this study
  --status S       only runs with this status (planned, running, done, failed, diverged, interrupted)
  --csv PATH       write the runs as CSV (pandas.read_csv reads it as it is); PATH ends in .csv,
                   or is - for standard output
  --json PATH      write the runs as JSON records (pandas.read_json); PATH ends in .json, or is -
  --curves PATH    write the loss curves, one row per point (step, tokens, train_loss, eval_loss);
                   PATH ends in .csv or .json
  -h, --help       this help
The runs' columns: study and hash (together the run's key), ordinal, label, status, attempts; params
(all parameters, Chinchilla's N) and non_embedding_params (Kaplan's N); tokens (D, training tokens),
unique_tokens (U, empty for a run whose every token is new) and epochs (D / U, empty likewise);
flops (6·N·D, in FLOP, with the N the study's fits count: params, or non_embedding_params where it
says params = "non_embedding"); loss (the held-out cross-entropy, in nats per token); wall_seconds;
created_at, started_at and finished_at (Unix time, in seconds); script_hash, scalelab_version,
worker, error (why a run failed); then the run's configuration (model_d_model, lr, batch, ...;
config_ before a key named like a column above or beginning config_ or result_: a study's
config_tokens is its tokens again, config_unique_tokens the U it asked for, of which unique_tokens
is what its runs saw in whole sequences) and what its backend reported (result_ before a name
taken or beginning config_ or result_; no two keys share a column): the trainer's result_flops and flops_kaplan
are D·(6N + 6·L·T·d) FLOP (Kaplan's convention, N non-embedding, T the rows' length), flops_palm
D·(6N + 12·L·T·d) (PaLM's), flops_per_second result_flops per second of training (FLOP/s) and
tokens_per_second the training tokens per second (both empty for a simulated run, which measures
no speed); curve_points_merged, where a backend reported several curve points on one optimizer
step, how many were merged into the point already there. The curves' columns: study and hash (the
run's key), step (the optimizer step), tokens, train_loss and eval_loss (nats per token), and
seconds and lr where recorded. A value a run lacks (or a NaN) is an empty field in CSV and null in
JSON; an infinity is inf or -inf in CSV, null in JSON; a NUL character in a text (a name, an
error) is U+FFFD in CSV (where readers stop at it) and \u0000 in JSON.
A reader that stops early (scalelab results FILE.db | head) ends it quietly, as it ends cat: the
store is closed first, and the exit status is that of a closed pipe (141 under set -o pipefail).
]]

-- A mistake in the command line: reported with the usage, exit status 2.
local Usage = {}
local function usage_error(message)
  error(setmetatable({ message = message }, Usage), 0)
end

local STATUSES = { "planned", "running", "done", "failed", "diverged", "interrupted" }
local OPTIONS = { "--study", "--status", "--csv", "--json", "--curves", "--help" }

local function ends_with(text, suffix) return text:sub(-#suffix) == suffix end

-- Writing what results prints. A write that fails raises Closed: the caller closes the store before
-- it goes on, so that no file (FILE.db-shm, FILE.db-wal) is left beside the store whatever happens
-- to the output. The program ignores SIGPIPE while results runs (runtime/host/main.cpp), so a reader
-- that went away (| head) is a failed write here (errno EPIPE), not the end of the process.
local Closed = {}
local EPIPE = 32  -- Linux, the BSDs and macOS alike
results.CLOSED_PIPE = 141  -- the status of a process ended by SIGPIPE, as the shell reports it

local function write(stream, ...)
  local ok, message, code = stream:write(...)
  if ok then return end
  -- Standard error carries only what the store holds and where exports went: a failure there other
  -- than a closed pipe (2>&- closed it) leaves the results themselves to be written.
  if stream == io.stderr and code ~= EPIPE then return end
  error(setmetatable({ message = message, code = code, stream = stream }, Closed), 0)
end
local function out(text) write(io.stdout, text, "\n") end

-- What each option's value is, for "--csv needs ...".
local NEEDS = {
  study = "a study's name (--study NAME)",
  status = "a status: one of " .. table.concat(STATUSES, ", "),
  csv = "a path ending in .csv, or - for standard output (--csv runs.csv)",
  json = "a path ending in .json, or - for standard output (--json runs.json)",
  curves = "a path ending in .csv or .json (--curves curves.csv)",
}

-- " (for example --csv runs.csv)": `v` with extension `ext` in place of its own, or a file in `v`
-- when it names a folder ("--csv=/tmp/", "--csv .").
local function for_example(option, v, ext)
  local example
  if ends_with(v, "/") or v == "." or v == ".." then
    return " (a file in that folder, for example " .. option .. " " .. (ends_with(v, "/") and v or v .. "/") .. "runs" .. ext .. ")"
  end
  example = v:gsub("%.[^./]*$", "")
  if example == "" or ends_with(example, "/") then example = example .. "runs" end
  return " (for example " .. option .. " " .. example .. ext .. ")"
end

-- The checks of each option's value: nil when good, else what is wrong and how to fix it.
local CHECK = {
  status = function(v)
    for _, s in ipairs(STATUSES) do if s == v then return nil end end
    local close = checks.closest(v, STATUSES)
    return "--status '" .. v .. "' is not a status; " .. (close and ("did you mean '" .. close .. "'? ") or "")
      .. "use one of " .. table.concat(STATUSES, ", ")
  end,
  csv = function(v)
    if v == "-" or ends_with(v, ".csv") then return nil end
    return "--csv '" .. v .. "' must end in .csv" .. for_example("--csv", v, ".csv")
      .. ", or be - for standard output; --json writes JSON"
  end,
  json = function(v)
    if v == "-" or ends_with(v, ".json") then return nil end
    return "--json '" .. v .. "' must end in .json" .. for_example("--json", v, ".json") .. ", or be - for standard output"
  end,
  curves = function(v)
    if v == "-" then
      return "--curves needs a file ending in .csv or .json (it writes one of the two by the name); "
        .. "standard output is for --csv - or --json -"
    end
    if ends_with(v, ".csv") or ends_with(v, ".json") then
      return nil
    end
    return "--curves '" .. v .. "' must end in .csv or .json" .. for_example("--curves", v, ".csv")
  end,
}

local function parse(args)
  local options = {}
  local i = 1
  while args[i] do
    local a = args[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    -- The value of option `key`: inline (--csv=x.csv) or the next argument (--csv x.csv); never
    -- empty, nor the next option (--csv --json x.json forgot the value of --csv).
    local function value(key)
      local v = inline
      if not v then
        v = args[i + 1]
        if v == nil or (v:sub(1, 2) == "--" and #v > 2) then
          usage_error(name .. " needs " .. NEEDS[key] .. (v and ("; got the option '" .. v .. "'") or ""))
        end
        i = i + 1
      end
      if v == "" then usage_error(name .. " needs " .. NEEDS[key] .. "; got an empty value") end
      return v
    end
    local function set(key)
      local v = value(key)
      if options[key] ~= nil then
        usage_error(name .. " is given twice ('" .. options[key] .. "' and '" .. v .. "'); give it once")
      end
      local problem = CHECK[key] and CHECK[key](v)
      if problem then usage_error(problem) end
      options[key] = v
    end
    if name == "-h" or name == "--help" then
      if inline then usage_error(name .. " takes no value (got '" .. a .. "')") end
      options.help = true
    elseif name == "--study" then set("study")
    elseif name == "--status" then set("status")
    elseif name == "--csv" then set("csv")
    elseif name == "--json" then set("json")
    elseif name == "--curves" then set("curves")
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      local suggestion = checks.closest(name, OPTIONS)
      usage_error("unknown option '" .. name .. "'" .. (suggestion and ("; did you mean '" .. suggestion .. "'?") or ""))
    elseif not options.path then options.path = a
    else usage_error("one store at a time (got '" .. options.path .. "' and '" .. a .. "')")
    end
    i = i + 1
  end
  -- Two exports to one place: the second would overwrite (or, on standard output, run into) the first.
  -- Paths are compared as written out from the working folder, with . and .. resolved (a symbolic
  -- link to the same file is not seen through).
  local function place(path)
    if path == "-" then return "-" end
    local full = path:sub(1, 1) == "/" and path or ((os.getenv("PWD") or ".") .. "/" .. path)
    local parts = {}
    for part in full:gmatch("[^/]+") do
      if part == ".." then parts[#parts] = nil elseif part ~= "." then parts[#parts + 1] = part end
    end
    return "/" .. table.concat(parts, "/")
  end
  local given = {}
  for _, key in ipairs { "csv", "json", "curves" } do
    local path = options[key]
    local at = path and place(path)
    if at and given[at] then
      usage_error(path == "-" and string.format("--%s - and --%s - both write to standard output; give one of them a file",
          given[at].key, key)
        or string.format("--%s '%s' and --%s '%s' are the same file; give each its own", given[at].key, given[at].path,
          key, path))
    end
    if at then given[at] = { key = key, path = path } end
  end
  return options
end

-- A name as printed on a line of the listing, its control characters escaped (checks.printable).
local printable = checks.printable

local function cell(x, format)
  if x == nil then return "" end
  return format(x)
end

-- A run's time: a simulated run's is the draw's, a fraction of a millisecond that measures nothing
-- ("0.117 ms"), which the listing now calls "simulated", as the study's report does.
local function time_cell(r)
  local kind = type(r.config) == "table" and r.config.backend_kind  -- the store's flattened configuration
  if require("scalelab.study.backends").simulates(kind) then return "simulated" end
  return cell(r.wall_seconds, core.format_duration)
end

-- Whether a scalelab runs a study on the store at `path` now: while one does, it holds the lock on
-- the file beside the store (study/workers.cpp's FileLock). The pid the file names says nothing:
-- a killed process leaves it there, its number may since be another process's, and a live study of
-- another user cannot be signalled to ask. Read only: results tries the lock and keeps nothing.
local function store_in_use(path)
  return native_study.lock_held(native_study.store_lock_path(path))
end

-- A run's configuration as dotted keys and printed values: { ["backend.noise"] = "0.005", ... }.
local function flatten(value, prefix, into)
  into = into or {}
  if type(value) == "table" then
    for k, v in pairs(value) do flatten(v, prefix and (prefix .. "." .. tostring(k)) or tostring(k), into) end
  elseif prefix then
    -- Floats as the fewest digits that read back the same: two plans that differ past the sixth
    -- digit must not look alike.
    local text = value
    if math.type(value) == "float" then
      for digits = 6, 17 do
        text = string.format("%." .. digits .. "g", value)
        if tonumber(text) == value then break end
      end
    end
    into[prefix] = tostring(text)
  end
  return into
end

-- For the runs that share a row number (the same point of different versions of a plan: another
-- backend noise, learning rate, ...), what tells each apart: "backend.noise=0.005" by run hash.
local function differences(runs)
  local by_ordinal = {}
  for _, r in ipairs(runs) do
    local key = tostring(r.ordinal) .. "\0" .. tostring(r.label)
    by_ordinal[key] = by_ordinal[key] or {}
    table.insert(by_ordinal[key], r)
  end
  local out = {}
  for _, group in pairs(by_ordinal) do
    if #group > 1 then
      local flat, keys = {}, {}
      for i, r in ipairs(group) do
        flat[i] = flatten(type(r.config) == "table" and r.config or {})
        for k in pairs(flat[i]) do keys[k] = true end
      end
      local differing = {}
      for k in pairs(keys) do
        for i = 2, #group do
          if flat[i][k] ~= flat[1][k] then differing[#differing + 1] = k break end
        end
      end
      table.sort(differing)
      for i, r in ipairs(group) do
        local parts = {}
        for _, k in ipairs(differing) do parts[#parts + 1] = k .. "=" .. (flat[i][k] or "none") end
        out[r.hash] = table.concat(parts, " ")
      end
    end
  end
  return out
end

-- Which N the FLOPs column's 6·N·D counts: a study's runs carry C = 6·N·D with the N its fits count
-- (all parameters unless it says params = "non_embedding"), which the store keeps only in C itself.
local function flops_count(runs)
  local counts = {}
  for _, r in ipairs(runs) do
    local N = type(r.flops) == "number" and type(r.tokens) == "number" and r.tokens > 0 and r.flops / (6 * r.tokens)
    local function near(x) return type(x) == "number" and N and math.abs(N - x) <= 1e-9 * x end
    counts[near(r.params) and "N (all)" or near(r.non_embedding_params) and "N (non-emb.)" or "?"] = true
  end
  local only = next(counts)
  if only and only ~= "?" and next(counts, only) == nil then return only end
  return "the N the study counts (params = \"all\" or \"non_embedding\")"
end

-- Prints the runs of the store as a table, with both parameter counts, each labelled: N in a
-- study's labels, fits and questions counts every parameter unless the study says
-- params = "non_embedding", so an unlabelled N would be ambiguous. Line by line, a study's runs at a
-- time: a reader that stops early (| head) stops it at the next line.
function results.list(store, filter)
  for _, s in ipairs(store:studies()) do
    if not filter.study or filter.study == s.name then
      -- A study declared in the REPL, or in a script read from standard input, kept no script: its
      -- hash is that of no text at all, which would read as a script's.
      local script = (s.script_path or "") == "" and "no script (declared in the REPL or read from standard input)"
        or string.format("script %s (sha256 %s)", printable(s.script_path), (s.script_hash or ""):sub(1, 12))
      out(string.format("study %s: %s, scalelab %s", printable(s.name), script, printable(s.scalelab_version or "?")))
      local runs = store:runs { study = s.name, status = filter.status }
      -- Unique tokens U and epochs where a listed run has U (a data-constrained sweep, a corpus
      -- repeated), as the study's report gives them: otherwise runs of the same N and D (U = 1B for 2
      -- epochs, U = 2B for 1) print alike but for their loss and hash.
      local repeats = false
      for _, r in ipairs(runs) do repeats = repeats or r.unique_tokens ~= nil end
      local line = "  %4s  %-11s %-9s %-12s %-9s " .. (repeats and "%-9s %-7s " or "") .. "%-9s %-9s %-9s %s"  -- status: up to "interrupted"
      local function row(first, ...)
        local cells = { first, ... }
        if not repeats then table.remove(cells, 6) table.remove(cells, 6) end
        return string.format(line, table.unpack(cells, 1, repeats and 11 or 9))
      end
      out(row("#", "status", "N (all)", "N (non-emb.)", "D", "U", "epochs", "FLOPs", "loss", "time", "hash"))
      -- Runs made by an earlier version of the script are marked, so that a changed study's rows are
      -- told apart: the store keeps them all; the current script reuses the runs whose configuration
      -- it still plans and leaves the others out of its report.
      local earlier, running, left_out = 0, 0, 0
      local differs = differences(runs)
      -- The runs the study's last run planned (its spec's plan; a store written before it recorded
      -- them has none): the others, of another sweep or other arguments, are marked "-". The "*" of
      -- an earlier script says neither (a run of it may be reused; the same script run with other
      -- arguments leaves runs out unmarked), though the study's note pointed at it for them.
      local plan
      local plan_text = type(s.spec) == "string" and s.spec:match('"plan":%[([^%]]*)%]')
      if plan_text then
        plan = {}
        for hash in plan_text:gmatch('"(%x+)"') do plan[hash] = true end
      end
      for _, r in ipairs(runs) do
        local old = (r.script_hash or "") ~= "" and (s.script_hash or "") ~= "" and r.script_hash ~= s.script_hash
        if old then earlier = earlier + 1 end
        local out_of_plan = plan ~= nil and not plan[r.hash]
        if out_of_plan then left_out = left_out + 1 end
        if r.status == "running" then running = running + 1 end
        out(row(r.ordinal .. (old and "*" or "") .. (out_of_plan and "-" or ""), r.status,
          cell(r.params, core.format_count), cell(r.non_embedding_params, core.format_count),
          cell(r.tokens, core.format_count), cell(r.unique_tokens, core.format_count),
          r.unique_tokens and cell(r.epochs, core.format_ratio) or "1",
          cell(r.flops, core.format_flops),
          cell(r.loss, function(x) return string.format("%.4f", x) end),
          time_cell(r), r.hash:sub(1, 12))
          .. (differs[r.hash] and differs[r.hash] ~= "" and ("  " .. differs[r.hash]) or ""))
      end
      out(string.format("  %s; N (all): every parameter (Chinchilla's count, studies' default); "
        .. "N (non-emb.): without the embeddings (Kaplan's); FLOPs: 6·N·D with %s%s", core.format_counted(#runs, "run"),
        flops_count(runs), repeats and "; U: the unique tokens a run repeats, epochs: D / U (1 for a run without U: every token new)" or ""))
      if next(differs) then
        out("  rows that share a number are the same point of plans that differ: after the hash, what tells them apart")
      end
      if earlier > 0 then
        out(string.format("  *: %s made by an earlier version of the script (not sha256 %s); the current script "
          .. "reuses those whose configuration it still plans, and its report leaves the others out (--csv "
          .. "and --json give each run's script_hash)",
          core.format_counted(earlier, "run"), (s.script_hash or ""):sub(1, 12)))
      end
      if left_out > 0 then
        out(string.format("  -: %s that the study's last run did not plan (another sweep, or its script run with "
          .. "other arguments): kept in the store, left out of its fits and report", core.format_counted(left_out, "run")))
      end
      -- A study killed or crashed (or its machine) leaves the runs it was training marked running.
      if running > 0 and not store_in_use(store.path) then
        out(string.format("  running: %s marked so, but no scalelab is running a study on this store now: the one "
          .. "training %s stopped without finishing (killed, crashed); run its script again to resume %s",
          core.format_counted(running, "run"), running == 1 and "it" or "them", running == 1 and "it" or "them"))
      end
    end
  end
end

-- A runtime failure (not a usage mistake): its message without scalelab's internal file:line.
-- (Standard error may be closed too: then nothing is said, and the status tells.)
local function failure(message)
  io.stderr:write("scalelab results: ", checks.plain(message), "\n")
  return 1
end

-- What results does with an open store: lists or exports; returns the exit status.
local function read_store(store, options)
  local filter = { study = options.study, status = options.status }
  -- A study the store lacks: the closest named (store:check_study, as store:export checks study =).
  if filter.study then
    local known, why = pcall(store.check_study, store, filter.study)
    if not known then return failure(why) end
  end
  -- With --csv - or --json -, standard output carries that export alone (for a pipe to pandas).
  local to_stdout = options.csv == "-" or options.json == "-"
  local say = to_stdout and function(text) write(io.stderr, text, "\n") end or out
  say(tostring(store))
  local text
  local exported, why = pcall(function()
    if options.csv == "-" then text = store:text("runs_csv", filter)
    elseif options.csv then say("runs: " .. store:export(options.csv, filter)) end
    if options.json == "-" then text = store:text("runs_json", filter)
    elseif options.json then say("runs: " .. store:export(options.json, filter)) end
    if options.curves then
      say("curves: " .. store:export(options.curves, { what = "curves", study = filter.study, status = filter.status }))
    end
  end)
  if not exported then
    if getmetatable(why) == Closed then error(why, 0) end
    return failure(why)
  end
  if text then write(io.stdout, text) end
  if not (options.csv or options.json or options.curves) then results.list(store, filter) end
  return 0
end

local function run(args)
  local options = parse(args)
  if options.help then
    write(io.stdout, results.usage)
    return 0
  end
  if not options.path then usage_error("which store? give the path of a study's .db file") end
  local probe = io.open(options.path, "rb")
  if not probe then usage_error("no results store at '" .. options.path .. "' (no such file)") end
  probe:close()
  local ok, store = pcall(native_store.open, options.path, { read_only = true })
  if not ok then return failure(store) end
  -- The store is closed before anything else happens, whatever stopped the reading: a closed
  -- output, a failed export, an error.
  local read, status = pcall(read_store, store, options)
  store:close()
  if not read then
    if getmetatable(status) == Closed then error(status, 0) end
    -- The store failed mid-read (a row no scalelab writes, a page damaged past the check at open):
    -- said in one line as any failure to read it, not as an internal error with its traceback.
    return failure(status)
  end
  return status
end

-- scalelab results ARGS: returns the exit status (0; 1 when the store cannot be read or the output
-- cannot be written; 2 on bad usage, with the usage; results.CLOSED_PIPE when the reader of its
-- output went away: the program then ends as SIGPIPE ends it, quietly).
function results.main(args)
  local ok, status = pcall(function()
    local status = run(args or {})
    -- What is still buffered goes out now (the store is closed by now), while a failure can be told.
    local flushed, message, code = io.stdout:flush()
    if not flushed then error(setmetatable({ message = message, code = code, stream = io.stdout }, Closed), 0) end
    return status
  end)
  if ok then return status end
  if getmetatable(status) == Usage then
    io.stderr:write("scalelab results: ", status.message, "\n", results.usage)
    return 2
  end
  if getmetatable(status) == Closed then
    if status.code == EPIPE then return results.CLOSED_PIPE end
    return failure("cannot write " .. (status.stream == io.stderr and "standard error" or "standard output")
      .. ": " .. tostring(status.message))
  end
  error(status, 0)
end

return results
