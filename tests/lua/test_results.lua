-- `scalelab results` as a user runs it: its options (both --option VALUE and --option=VALUE, each
-- once, exports named by their extension or - for standard output), its runs table (both parameter
-- counts, labelled), its curve export (the optimizer step of each point, no always-empty column),
-- and reading without leaving files beside the store.
local t = require "scalelab.test"
local native_store = require "scalelab.native.store"

local root = t.scratch("results")
local read, write = t.read_file, t.write_file

-- Runs `scalelab ARGS` in `dir`; returns the exit status, standard output and standard error.
local function scalelab(dir, args)
  local code, both, err = t.run(dir, args)
  return code, both:sub(1, #both - #err), err
end

local function files(dir)
  local pipe = assert(io.popen("ls -A '" .. dir .. "'"))
  local names = {}
  for name in pipe:lines() do names[#names + 1] = name end
  pipe:close()
  return table.concat(names, " ")
end

-- A finished study "s" in s.db (in a folder of its own), two runs of a backend that reports its
-- curve as train.run does (tokens and losses, no step) plus the seconds of each point.
local function study_dir()
  local dir = t.fresh_dir(root)
  write(dir .. "/s.lua", [[
study "s" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = function(run)
    local curve = {}
    for k = 0, 4 do
      curve[#curve + 1] = { tokens = run.tokens * k // 4 // (run.batch * run.shape.ctx) * (run.batch * run.shape.ctx),
                            train_loss = 5 - k / 10, eval_loss = 5.1 - k / 10, seconds = k * 0.5 }
    end
    return { loss = 4.7, curve = curve }
  end,
  fits = {},
}
]])
  local code, out, err = scalelab(dir, "s.lua")
  t.eq(code, 0, out .. err)
  return dir
end

local function csv_rows(text)
  local rows, header = {}, nil
  for line in text:gmatch("[^\n]+") do
    local fields = {}
    for field in (line .. ","):gmatch("([^,]*),") do fields[#fields + 1] = field end
    if not header then
      header = fields
    else
      local row = {}
      for i, name in ipairs(header) do row[name] = fields[i] end
      rows[#rows + 1] = row
    end
  end
  return rows, header and table.concat(header, ",")
end

t.test("--curves: step is each point's optimizer step; only recorded columns", function()
  local dir = study_dir()
  local code, out, err = scalelab(dir, "results s.db --curves c.csv")
  t.eq(code, 0, out .. err)
  local rows, header = csv_rows(read(dir .. "/c.csv"))
  t.eq(header, "study,hash,step,tokens,train_loss,eval_loss,seconds")  -- no lr: the backend gave none
  local s = native_store.open(dir .. "/s.db", { read_only = true })
  local per_step = {}
  for _, r in ipairs(s:runs()) do per_step[r.hash] = r.config.batch * r.config.model_ctx end
  s:close()
  t.eq(#rows, 10)
  local steps = {}
  for _, row in ipairs(rows) do
    t.eq(tonumber(row.step), tonumber(row.tokens) // per_step[row.hash], row.tokens)
    steps[#steps + 1] = row.step
  end
  t.ok(tonumber(rows[2].step) > 2, "steps, not positions: " .. table.concat(steps, " "))
  t.eq(rows[1].step, "0")
end)

t.test("store:finish_run takes no curve point without its step", function()
  local dir = t.fresh_dir(root)
  local s = native_store.open(dir .. "/x.db")
  s:record_study { name = "x" }
  s:plan_runs { { study = "x", hash = "h", config_json = "{}" } }
  t.raises(function() s:finish_run { study = "x", hash = "h", loss = 3, curve = { { tokens = 10, train_loss = 4 } } } end,
           "curve[1].step must be the optimizer step of the point")
  -- A step past any int64 (1e30) was cast to one, undefined behaviour, and stored as whatever came out.
  for _, step in ipairs { 1e30, math.huge, 2^53 + 2, -1, 1.5 } do
    t.raises(function() s:finish_run { study = "x", hash = "h", loss = 3, curve = { { step = step, tokens = 10 } } } end,
             "curve[1].step must be the optimizer step of the point, a whole number from 0 to 2^53")
  end
  t.eq(s:run("x", "h").status, "planned")
  s:finish_run { study = "x", hash = "h", loss = 3, curve = { { step = 5, tokens = 10, train_loss = 4 } } }
  t.eq(s:curve("x", "h")[1].step, 5)
  -- Two points at one step: the second replaced the first, without a word (9 points came back as 5).
  s:plan_runs { { study = "x", hash = "h2", config_json = "{}" } }
  t.raises(function()
    s:finish_run { study = "x", hash = "h2", loss = 3, curve = { { step = 1, tokens = 10 }, { step = 1, tokens = 20 } } }
  end, "curve points 1 and 2 (at 10 and 20 tokens) both have optimizer step 1")
  t.eq(s:run("x", "h2").status, "planned")
  s:close()
end)

t.test("a curve keeps the optimizer steps recorded where the configuration's batch·model_ctx is not each step's tokens", function()
  -- Every read derived each point's step again as tokens / (batch·model_ctx): a run whose batch
  -- ramped up (2 sequences a step, then 4) read steps 5, 15, 25 for the 10, 20, 30 it recorded, and
  -- one on sequences shorter than the model's context twice its steps, two points at one step.
  local dir = t.fresh_dir(root)
  local s = native_store.open(dir .. "/ramp.db")
  s:record_study { name = "r" }
  s:plan_runs { { study = "r", hash = "ramp", config_json = "{}", config = { batch = 4, model_ctx = 64 } },
                { study = "r", hash = "short", config_json = "{}", config = { batch = 4, model_ctx = 64 } },
                { study = "r", hash = "old", config_json = "{}", config = { batch = 4, model_ctx = 64 } } }
  -- 10 steps of 2·64 tokens, then 4·64.
  s:finish_run { study = "r", hash = "ramp", loss = 3, curve = { { step = 10, tokens = 1280, train_loss = 5 },
    { step = 20, tokens = 1280 + 10 * 256, train_loss = 4 }, { step = 30, tokens = 1280 + 20 * 256, train_loss = 3.5 } } }
  -- Sequences of 32 tokens, 128 a step: steps 3 and 4 read as 384 / 256 and 512 / 256 rounded, both 2.
  s:finish_run { study = "r", hash = "short", loss = 3, curve = { { step = 0, tokens = 0, train_loss = 6 },
    { step = 3, tokens = 384, train_loss = 5 }, { step = 4, tokens = 512, train_loss = 4 } } }
  -- A store written before steps were recorded: the points' positions, read as the steps of 256 tokens.
  s:finish_run { study = "r", hash = "old", loss = 3, curve = { { step = 1, tokens = 0 }, { step = 2, tokens = 2560 },
    { step = 3, tokens = 5120 } } }
  local function steps(hash)
    local out = {}
    for i, p in ipairs(s:curve("r", hash)) do out[i] = p.step end
    return table.concat(out, " ")
  end
  t.eq(steps("ramp"), "10 20 30")
  t.eq(steps("short"), "0 3 4")
  t.eq(steps("old"), "0 10 20")
  local csv = s:text("curves_csv")
  t.ok(csv:find("\nr,ramp,20,3840,", 1, true) and csv:find("\nr,short,3,384,", 1, true)
    and csv:find("\nr,old,10,2560,", 1, true), csv)
  s:close()
end)

t.test("a backend's curve points that fall on one optimizer step are merged, said, and none is lost silently", function()
  -- Points every half step, and the held-out loss reported apart from the training loss: the store
  -- keeps one point a step, and kept the last reported at each without a word.
  local dir = t.fresh_dir(root)
  write(dir .. "/h.lua", [[
study "h" {
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e6 } },
  backend = function(run)
    local per = run.batch * run.shape.ctx
    local curve = {}
    for k = 0, 8 do curve[#curve + 1] = { tokens = k * per // 2, train_loss = 5 - k / 10 } end
    curve[#curve + 1] = { tokens = 4 * per, eval_loss = 4.5 }
    return { loss = 4.7, curve = curve }
  end,
  fits = {},
}
]])
  local code, out, err = scalelab(dir, "h.lua")
  t.eq(code, 0, out .. err)
  t.ok(err:find("reported 10 curve points on 5 optimizer steps", 1, true), err)
  local s = native_store.open(dir .. "/h.db", { read_only = true })
  local r = s:runs()[1]
  t.eq(r.status, "done")
  t.eq(r.metrics.curve_points_merged, 5)
  local curve = s:curve("h", r.hash)
  s:close()
  t.eq(#curve, 5)
  local per = r.config.batch * r.config.model_ctx
  for i, p in ipairs(curve) do
    t.eq(p.step, i - 1)
    t.eq(p.tokens, (i - 1) * per)  -- the later point of each step: the one on it
    t.near(p.train_loss, 5 - 2 * (i - 1) / 10, 1e-12)
  end
  t.eq(curve[5].eval_loss, 4.5)
  local _, help = scalelab(dir, "results --help")
  t.ok(help:find("curve_points_merged, where a backend reported several curve points on one optimizer", 1, true), help)
end)

t.test("runs made by an earlier version of the study's script are marked in the listing", function()
  local dir = study_dir()
  local code, out = scalelab(dir, "results s.db")
  t.eq(code, 0, out)
  t.ok(not out:find("earlier version", 1, true), out)
  -- The study changed (another size): its new run is the current script's, the two before are not.
  write(dir .. "/s.lua", (read(dir .. "/s.lua"):gsub("N = { 1e5, 2e5 }", "N = { 1e5, 2e5, 4e5 }")))
  local err
  code, out, err = scalelab(dir, "s.lua")
  t.eq(code, 0, out .. err)
  code, out = scalelab(dir, "results s.db")
  t.eq(code, 0, out)
  local marked = 0
  for _ in out:gmatch("\n%s+%d+%*%s") do marked = marked + 1 end
  t.ok(out:find("*: 2 runs made by an earlier version of the script", 1, true), out)
  t.eq(marked, 2, out)
end)

t.test("the runs table labels both parameter counts as the study report does", function()
  local dir = study_dir()
  local code, out, err = scalelab(dir, "results s.db")
  t.eq(code, 0, out .. err)
  t.ok(out:find("N (all)", 1, true) and out:find("N (non-emb.)", 1, true), out)
  t.ok(out:find("N (all): every parameter (Chinchilla's count", 1, true), out)
  local s = native_store.open(dir .. "/s.db", { read_only = true })
  local r = s:runs()[1]
  s:close()
  -- The row: all parameters first, then the non-embedding count.
  local format_count = require("scalelab.native.core").format_count
  local all, non = format_count(r.params), format_count(r.non_embedding_params)
  t.ok(all ~= non, all)
  -- The columns line up, whatever the status: "interrupted", the longest, fits its column.
  local header, first = out:match("\n([^\n]*N %(all%)[^\n]*)\n([^\n]*)")
  t.eq(header:find("N (all)", 1, true), first:find(all, 1, true), out)
  t.ok(#(header:match("status%s*") or "") > #"interrupted", header)
  local row = out:match("\n%s+1%s+done%s+([^\n]+)")
  t.ok(row and row:find("^" .. all:gsub("%.", "%%.") .. "%s+" .. non:gsub("%.", "%%.") .. "%s"), tostring(row))
end)

t.test("the runs table says which N its FLOPs column's 6·N·D counts", function()
  -- The column is C = 6·N·D with the N the study's fits count: a study of Kaplan's count
  -- (params = "non_embedding") gave it with non-embedding N beside both counts, unlabelled.
  local dir = study_dir()
  local code, out, err = scalelab(dir, "results s.db")
  t.eq(code, 0, out .. err)
  t.ok(out:find("FLOPs: 6·N·D with N (all)", 1, true), out)
  write(dir .. "/k.lua", (read(dir .. "/s.lua"):gsub('study "s" {', 'study "k" {\n  params = "non_embedding", store = "k.db",')))
  code, out, err = scalelab(dir, "k.lua")
  t.eq(code, 0, out .. err)
  code, out, err = scalelab(dir, "results k.db")
  t.eq(code, 0, out .. err)
  t.ok(out:find("FLOPs: 6·N·D with N (non-emb.)", 1, true), out)
  local s = native_store.open(dir .. "/k.db", { read_only = true })
  for _, r in ipairs(s:runs()) do t.near(r.flops, 6 * r.non_embedding_params * r.tokens, 1e-12) end
  s:close()
end)

t.test("a read leaves no file beside the store", function()
  local dir = study_dir()
  local before = files(dir)
  t.ok(not before:find("s.db-", 1, true), before)
  local code, out, err = scalelab(dir, "results s.db")
  t.eq(code, 0, out .. err)
  t.eq(files(dir), before)
  local s = native_store.open(dir .. "/s.db", { read_only = true })
  t.eq(#s:runs(), 2)
  s:close()
  t.eq(files(dir), before)
end)

t.test("every option takes --option=VALUE too", function()
  local dir = study_dir()
  local code, out, err = scalelab(dir, "results s.db --status=done --study=s --csv=r.csv --json=r.json --curves=c.json")
  t.eq(code, 0, out .. err)
  t.ok(read(dir .. "/r.csv"):find("^study,hash,"), "r.csv")
  t.ok(read(dir .. "/r.json"):find("^%["), "r.json")
  t.ok(read(dir .. "/c.json"):find('"step": ', 1, true), "c.json")
  code, out = scalelab(dir, "results s.db --status=planned")
  t.eq(code, 0, out)
  t.ok(out:find("0 runs", 1, true), out)
  -- --status filters the curves too: both runs are done, so none failed and no curve point is theirs.
  code, out, err = scalelab(dir, "results s.db --status failed --curves none.csv")
  t.eq(code, 0, out .. err)
  t.eq(#csv_rows(read(dir .. "/none.csv")), 0, read(dir .. "/none.csv"))
end)

t.test("an export with the wrong extension, a repeated option: exit 2 naming the option and the fix", function()
  local dir = study_dir()
  local before = files(dir)
  local code, out, err = scalelab(dir, "results s.db --csv out.txt")
  t.eq(code, 2, out .. err)
  t.ok(err:find("--csv 'out.txt' must end in .csv (for example --csv out.csv)", 1, true), err)
  t.ok(not err:find("store:export", 1, true), err)
  code, out, err = scalelab(dir, "results s.db --json=out.csv")
  t.eq(code, 2, out .. err)
  t.ok(err:find("--json 'out.csv' must end in .json (for example --json out.json)", 1, true), err)
  code, out, err = scalelab(dir, "results s.db --curves out")
  t.eq(code, 2, out .. err)
  t.ok(err:find("--curves 'out' must end in .csv or .json", 1, true), err)
  code, out, err = scalelab(dir, "results s.db --study s --study=t")
  t.eq(code, 2, out .. err)
  t.ok(err:find("--study is given twice ('s' and 't'); give it once", 1, true), err)
  code, out, err = scalelab(dir, "results s.db --csv a.csv --csv b.csv")
  t.eq(code, 2, out .. err)
  t.ok(err:find("--csv is given twice", 1, true), err)
  code, out, err = scalelab(dir, "results s.db --status=finished")
  t.eq(code, 2, out .. err)
  t.ok(err:find("--status 'finished' is not a status", 1, true), err)
  code, out, err = scalelab(dir, "results s.db --stduy=s")
  t.eq(code, 2, out .. err)
  t.ok(err:find("unknown option '--stduy'; did you mean '--study'?", 1, true), err)
  t.eq(files(dir), before)  -- nothing written
end)

t.test("--csv - and --json - write the export alone on standard output", function()
  local dir = study_dir()
  local code, out, err = scalelab(dir, "results s.db --csv -")
  t.eq(code, 0, out .. err)
  local rows = csv_rows(out)
  t.eq(#rows, 2)
  t.eq(rows[1].status, "done")
  t.ok(out:find("^study,hash,ordinal,"), out)
  t.ok(err:find("Store(", 1, true), err)  -- what the store holds, on standard error
  code, out, err = scalelab(dir, "results s.db --json - --status done")
  t.eq(code, 0, out .. err)
  t.ok(out:find("^%[\n {") and out:find('"status": "done"', 1, true), out)
  code, out, err = scalelab(dir, "results s.db --csv - --json -")
  t.eq(code, 2, out .. err)
  t.ok(err:find("both write to standard output", 1, true), err)
  code, out, err = scalelab(dir, "results s.db --curves -")
  t.eq(code, 2, out .. err)
  t.ok(err:find("--curves needs a file ending in .csv or .json", 1, true), err)
  -- Two exports to one file: refused before either is written.
  code, out, err = scalelab(dir, "results s.db --csv both.csv --curves both.csv")
  t.eq(code, 2, out .. err)
  t.ok(err:find("--csv 'both.csv' and --curves 'both.csv' are the same file; give each its own", 1, true), err)
  t.eq(read(dir .. "/both.csv"), nil)
  for _, other in ipairs { "./both.csv", "sub/../both.csv", dir .. "/both.csv" } do
    code, out, err = scalelab(dir, "results s.db --csv both.csv --curves " .. other)
    t.eq(code, 2, other .. ": " .. out .. err)
    t.ok(err:find("are the same file", 1, true), err)
  end
  t.eq(read(dir .. "/both.csv"), nil)
end)

t.test("an empty or missing option value: exit 2 saying what the option needs", function()
  local dir = study_dir()
  local before = files(dir)
  local cases = {
    { "--csv=", "--csv needs a path ending in .csv, or - for standard output (--csv runs.csv); got an empty value" },
    { "--csv ''", "--csv needs a path ending in .csv" },
    { "--json=", "--json needs a path ending in .json, or - for standard output" },
    { "--curves=", "--curves needs a path ending in .csv or .json" },
    { "--study=", "--study needs a study's name (--study NAME); got an empty value" },
    { "--study ''", "--study needs a study's name" },
    { "--status=", "--status needs a status: one of planned, running" },
    { "--csv", "--csv needs a path ending in .csv" },
    { "--csv --json r.json", "--csv needs a path ending in .csv, or - for standard output (--csv runs.csv); got the option '--json'" },
  }
  for _, case in ipairs(cases) do
    local code, out, err = scalelab(dir, "results s.db " .. case[1])
    t.eq(code, 2, case[1] .. ": " .. out .. err)
    t.ok(err:find("scalelab results: " .. case[2], 1, true), case[1] .. ": " .. err)
    t.ok(not err:find("for example --csv .csv", 1, true), err)
  end
  -- A folder or a bare extension: the example is a file, not ".csv".
  local code, _, err = scalelab(dir, "results s.db --csv=out/")
  t.eq(code, 2, err)
  t.ok(err:find("--csv 'out/' must end in .csv (a file in that folder, for example --csv out/runs.csv)", 1, true), err)
  code, _, err = scalelab(dir, "results s.db --json=.txt")
  t.eq(code, 2, err)
  t.ok(err:find("(for example --json runs.json)", 1, true), err)
  -- The folder above, "..", too.
  code, _, err = scalelab(dir, "results s.db --csv ..")
  t.eq(code, 2, err)
  t.ok(err:find("--csv '..' must end in .csv (a file in that folder, for example --csv ../runs.csv)", 1, true), err)
  t.eq(files(dir), before)
end)

-- A store of `count` planned runs, enough that the listing (about 100 bytes a run) overflows a pipe's
-- buffer (64 KiB): a reader that stops early then meets the writer before it is done.
local function big_store(count)
  local dir = t.fresh_dir(root)
  local s = native_store.open(dir .. "/big.db")
  s:record_study { name = "big" }
  local runs = {}
  for i = 1, count do
    runs[i] = { study = "big", hash = string.format("%064x", i), ordinal = i, config_json = "{}" }
  end
  s:plan_runs(runs)
  s:close()
  return dir
end

-- Runs `scalelab ARGS` into `reader` (a shell command reading standard input); returns what the
-- reader printed, scalelab's exit status and its standard error.
local function piped(dir, args, reader)
  local exe = require("scalelab.native.study").executable()
  local pipe = assert(io.popen(string.format("cd '%s' && { '%s' %s 2>err.txt; echo $? >status.txt; } | %s",
    dir, exe, args, reader)))
  local text = pipe:read("a")
  pipe:close()
  local status = tonumber((read(dir .. "/status.txt") or ""):match("%d+"))
  local err = read(dir .. "/err.txt") or ""
  os.remove(dir .. "/status.txt")
  os.remove(dir .. "/err.txt")
  return text, status, err
end

t.test("a reader that stops early (| head): no file left beside the store, a quiet end as cat's", function()
  local dir = big_store(3000)
  local before = files(dir)
  t.eq(before, "big.db")
  -- The whole listing first: it is long enough to fill the pipe.
  local text, status, err = piped(dir, "results big.db", "wc -c")
  t.eq(status, 0, err)
  t.ok(tonumber(text) > 4 * 65536, text)
  for _, args in ipairs { "results big.db", "results big.db --csv -", "results big.db --json -" } do
    text, status, err = piped(dir, args, "head -c 10")
    t.eq(#text, 10, args)
    -- Ended by SIGPIPE (128 + 13) after closing the store: nothing on standard error, no -shm or -wal.
    t.eq(status, 141, args .. ": " .. err)
    t.eq(err:gsub("^Store%([^\n]*\n", ""), "", args)
    t.eq(files(dir), before, args)
  end
  -- A write that fails for another reason is an error (status 1) that says so.
  local code, _, e = scalelab(dir, "results big.db >/dev/full")
  t.eq(code, 1, e)
  t.ok(e:find("scalelab results: cannot write standard output: ", 1, true), e)
  t.eq(files(dir), before)
end)

t.test("runs left running by a study that stopped are told apart from runs a live study trains", function()
  local dir = big_store(2)
  local s = native_store.open(dir .. "/big.db")
  s:start_run { study = "big", hash = string.format("%064x", 1), worker = "test" }
  s:close()
  -- No scalelab holds the store: the run was left running by a study that was killed.
  local code, out = scalelab(dir, "results big.db")
  t.eq(code, 0, out)
  t.ok(out:find("running: 1 run marked so, but no scalelab is running a study on this store now", 1, true), out)
  t.eq(files(dir), "big.db", "no lock file made by the read")
  -- A lock file left by a process that has ended names a pid no process has (past pid_max).
  write(dir .. "/big.db.lock", "pid 99999999\n")
  code, out = scalelab(dir, "results big.db")
  t.ok(out:find("running: 1 run marked so", 1, true), out)
  -- Nor is pid 0 a holder (kill(0, 0) would ask about this process's own group).
  write(dir .. "/big.db.lock", "pid 0\n")
  code, out = scalelab(dir, "results big.db")
  t.ok(out:find("running: 1 run marked so", 1, true), out)
  -- Nor a live process that holds no lock: the killed study's pid, since taken by another process
  -- (here init's, pid 1, which lives as long as the machine).
  write(dir .. "/big.db.lock", "pid 1\n")
  code, out = scalelab(dir, "results big.db")
  t.ok(out:find("running: 1 run marked so", 1, true), out)
  -- A study running on it: the lock held by this process, which names its pid.
  local lock = require("scalelab.native.study").lock(dir .. "/big.db.lock")
  code, out = scalelab(dir, "results big.db")
  t.eq(code, 0, out)
  t.ok(out:find("running", 1, true), out)
  t.ok(not out:find("no scalelab is running", 1, true), out)
  lock:release()
end)

t.test("--study lists that study's runs alone", function()
  local dir = big_store(2)
  local s = native_store.open(dir .. "/big.db")
  s:record_study { name = "other" }
  s:plan_runs { { study = "other", hash = string.format("%064x", 9), ordinal = 1, config_json = "{}" } }
  s:close()
  local code, out = scalelab(dir, "results big.db")
  t.eq(code, 0, out)
  t.ok(out:find("study big:", 1, true) and out:find("study other:", 1, true), out)
  code, out = scalelab(dir, "results big.db --study other")
  t.eq(code, 0, out)
  t.ok(out:find("study other:", 1, true), out)
  -- A study recorded without a script (declared in the REPL) says so, rather than "script ?" and
  -- the sha256 of no text (e3b0c44298fc...).
  t.ok(out:find("study other: no script (declared in the REPL or read from standard input), scalelab ", 1, true), out)
  t.ok(not out:find("e3b0c44298fc", 1, true), out)
  t.ok(not out:find("study big:", 1, true), out)
  t.ok(out:find("\n  1 run; ", 1, true), out)
  -- A study or status mistyped: the close one is named, not only the list to search.
  local err
  code, out, err = scalelab(dir, "results big.db --study Othr")
  t.eq(code, 1, out .. err)
  t.ok(err:find("no study 'Othr' in big.db; did you mean 'other'? its studies: big, other", 1, true), err)
  code, out, err = scalelab(dir, "results big.db --study zzzzzz")
  t.eq(code, 1, out .. err)
  t.ok(err:find("no study 'zzzzzz' in big.db; its studies: big, other", 1, true), err)
  code, out, err = scalelab(dir, "results big.db --status Done")
  t.eq(code, 2, out .. err)
  t.ok(err:find("--status 'Done' is not a status; did you mean 'done'? use one of planned,", 1, true), err)
end)

t.test("an export never replaces the store it reads, whatever the store is named", function()
  -- A store named runs.csv (or a link to it) and --csv runs.csv: "results only reads", and the store
  -- was replaced by its own export.
  local dir = study_dir()
  os.rename(dir .. "/s.db", dir .. "/runs.csv")
  local before = read(dir .. "/runs.csv")
  local code, out, err = scalelab(dir, "results runs.csv --csv ./runs.csv")
  t.eq(code, 1, out .. err)
  t.ok(err:find("'./runs.csv' is the results store 'runs.csv' itself: the export would replace it", 1, true), err)
  t.eq(read(dir .. "/runs.csv"), before)
  os.execute("ln -s runs.csv '" .. dir .. "/link.json'")
  code, out, err = scalelab(dir, "results runs.csv --curves link.json")
  t.eq(code, 1, out .. err)
  t.ok(err:find("'link.json' is the results store 'runs.csv' itself", 1, true), err)
  t.eq(read(dir .. "/runs.csv"), before)
  local s = native_store.open(dir .. "/runs.csv")
  t.raises(function() s:export(dir .. "/runs.csv") end, "itself: the export would replace it")
  t.eq(#s:runs(), 2)
  s:close()
  -- Any other path is written as before.
  code, out, err = scalelab(dir, "results runs.csv --csv r.csv")
  t.eq(code, 0, out .. err)
end)

t.test("the listing writes a name's control characters escaped: no line broken, no cursor moved", function()
  -- A study named with a line break, a carriage return and a terminal escape printed them raw: the
  -- \r moved the cursor back over the line and the escape turned the terminal red.
  local dir = t.fresh_dir(root)
  local s = native_store.open(dir .. "/c.db")
  s:record_study { name = "a\nb\rc\27[31m", script_path = "x\ty.lua", script_text = "" }
  s:close()
  local code, out, err = scalelab(dir, "results c.db")
  t.eq(code, 0, out .. err)
  t.ok(out:find("study a\\nb\\rc\\x1b[31m: script x\\ty.lua (sha256 ", 1, true), out)
  t.ok(not out:find("[\r\27\t]"), out)
  code, out, err = scalelab(dir, "results c.db --study zz")
  t.eq(code, 1, out .. err)
  t.ok(err:find("its studies: a\\nb\\rc\\x1b[31m\n", 1, true), err)
end)

t.test("--help names each column of the exports, with its units", function()
  local dir = study_dir()
  local code, help = scalelab(dir, "results --help")
  t.eq(code, 0, help)
  -- The columns every export has (a store without failed runs exports the headers alone).
  local _, runs = csv_rows(select(2, scalelab(dir, "results s.db --status failed --csv -")))
  t.eq(scalelab(dir, "results s.db --status failed --curves c.csv"), 0)
  local _, curves = csv_rows(read(dir .. "/c.csv"))
  for column in (runs .. "," .. curves .. ",seconds,lr"):gmatch("[^,]+") do
    t.ok(help:find("%f[%w_]" .. column .. "%f[^%w_]"), "--help names the column " .. column .. ":\n" .. help)
  end
  -- A configuration key named like a column (a study's tokens and unique_tokens) has config_ before it.
  for _, said in ipairs { "config_ before a key named like a column above", "config_tokens", "config_unique_tokens the U it asked for" } do
    t.ok(help:find(said, 1, true), said .. ":\n" .. help)
  end
  for _, unit in ipairs { "in FLOP", "nats per token", "Unix time, in seconds", "6·N·D" } do
    t.ok(help:find(unit, 1, true), unit .. ":\n" .. help)
  end
end)

-- RFC 4180 CSV: fields quoted with "" for a quote, holding commas and line breaks.
local function csv_records(text)
  local records, record, field, i, quoted = {}, {}, {}, 1, false
  while i <= #text do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' and text:sub(i + 1, i + 1) == '"' then field[#field + 1], i = '"', i + 1
      elseif c == '"' then quoted = false
      else field[#field + 1] = c end
    elseif c == '"' then quoted = true
    elseif c == "," then record[#record + 1], field = table.concat(field), {}
    elseif c == "\n" then
      record[#record + 1], field = table.concat(field), {}
      records[#records + 1], record = record, {}
    else field[#field + 1] = c end
    i = i + 1
  end
  return records
end

t.test("the exports are valid UTF-8 CSV and JSON whatever a study's name and a run's error hold", function()
  local dir = t.fresh_dir(root)
  -- A name in Latin-1 (café), and an error with a quote, a comma, a line break and a stray byte.
  write(dir .. "/s.lua", 'study "caf\233" {\n  sweep = sweep.grid{ N = { 1e5 }, D = { 1e7 } },\n'
    .. '  backend = function(run) error(\'bad "x", \\255 here\\nsecond line\', 0) end, fits = {},\n}\n')
  local code, out, err = scalelab(dir, "s.lua")
  t.eq(code, 1, out .. err)
  code, out, err = scalelab(dir, "results caf_.db --csv r.csv --json r.json --curves c.json")
  t.eq(code, 0, out .. err)
  for _, name in ipairs { "r.csv", "r.json", "c.json" } do t.ok(utf8.len(read(dir .. "/" .. name)), name .. " is not UTF-8") end
  local runs = t.json(read(dir .. "/r.json"))
  t.eq(#runs, 1)
  t.eq(runs[1].study, "caf\u{FFFD}")
  t.ok(runs[1].error:find('bad "x", \u{FFFD} here\nsecond line', 1, true), runs[1].error)
  t.eq(getmetatable(t.json(read(dir .. "/c.json"))), t.JSON_ARRAY)
  local records = csv_records(read(dir .. "/r.csv"))
  t.eq(#records, 2)
  local row = {}
  for i, column in ipairs(records[1]) do row[column] = records[2][i] end
  t.eq(row.study, "caf\u{FFFD}")
  t.ok(row.error:find('bad "x", \u{FFFD} here\nsecond line', 1, true), row.error)
end)

t.test("a NUL byte in a study's name, a label or an error is U+FFFD in the CSV export and \\u0000 in the JSON one", function()
  -- Written raw into the CSV, it stopped Python's csv module before 3.11 ("line contains NUL") and R's
  -- read.csv; the JSON export escapes it, which every JSON reader decodes.
  local dir = t.fresh_dir(root)
  local s = native_store.open(dir .. "/x.db")
  s:record_study { name = "a\0b" }
  s:plan_runs { { study = "a\0b", hash = "h", label = "l\0m", config_json = "{}" } }
  s:finish_run { study = "a\0b", hash = "h", status = "failed", error = "bad\0byte" }
  s:close()
  local code, out, err = scalelab(dir, "results x.db --csv r.csv --json r.json")
  t.eq(code, 0, out .. err)
  local csv, json = read(dir .. "/r.csv"), read(dir .. "/r.json")
  t.eq(csv:find("\0", 1, true), nil, "a NUL in the CSV")
  t.eq(native_store.open(dir .. "/x.db", { read_only = true }):text("runs_csv"):find("\0", 1, true), nil, "--csv -")
  local records = csv_records(csv)
  local row = {}
  for i, column in ipairs(records[1]) do row[column] = records[2][i] end
  t.eq(row.study, "a\u{FFFD}b")
  t.eq(row.label, "l\u{FFFD}m")
  t.eq(row.error, "bad\u{FFFD}byte")
  for _, escaped in ipairs { '"a\\u0000b"', '"l\\u0000m"', '"bad\\u0000byte"' } do
    t.ok(json:find(escaped, 1, true), escaped .. " in " .. json)
  end
end)

t.test("--help says which FLOP convention each of the trainer's FLOP columns counts", function()
  -- A trained run's export holds flops (6·N·D), result_flops, flops_kaplan, flops_palm and
  -- flops_per_second: four conventions' numbers, the last four unexplained.
  local code, help = scalelab(t.fresh_dir(root), "results --help")
  t.eq(code, 0, help)
  local text = help:gsub("%s+", " ")
  for _, said in ipairs { "result_flops and flops_kaplan are D·(6N + 6·L·T·d) FLOP (Kaplan's convention, N non-embedding",
                          "flops_palm D·(6N + 12·L·T·d)", "flops_per_second result_flops per second", "tokens_per_second" } do
    t.ok(text:find(said, 1, true), said .. ":\n" .. help)
  end
end)

t.test("a simulated run's speed is empty in CSV and null in JSON: it measured none", function()
  -- They exported tokens_per_second and flops_per_second 0 (the trainer's simulation), or the
  -- tokens over the milliseconds the drawing took (the study's law).
  local dir = t.fresh_dir(root)
  write(dir .. "/s.lua", [[
study "sim" { backend = "simulated", sweep = sweep.grid{ N = { 1e5 }, D = { 1e6 } }, fits = {} }
study "law" {
  backend = { kind = "law", law = { E = 1.5, A = 400, B = 400, alpha = 0.34, beta = 0.28 } },
  sweep = sweep.grid{ N = { 1e5 }, D = { 1e6 } }, fits = {},
}
]])
  local code, out, err = scalelab(dir, "s.lua")
  t.eq(code, 0, out .. err)
  for _, name in ipairs { "sim", "law" } do
    local _, csv = scalelab(dir, "results " .. name .. ".db --csv -")
    local records = csv_records(csv)
    t.eq(#records, 2, csv)
    local row = {}
    for i, column in ipairs(records[1]) do row[column] = records[2][i] end
    t.eq(row.tokens_per_second or "", "", name .. ":\n" .. csv)
    t.eq(row.flops_per_second or "", "", name .. ":\n" .. csv)
    t.ok(tonumber(row.wall_seconds), csv)  -- the time the run took is what it is
    local _, json = scalelab(dir, "results " .. name .. ".db --json -")
    local runs = t.json(json)
    -- null, or no such field where no run of the store measured a speed
    t.eq(runs[1].tokens_per_second or t.JSON_NULL, t.JSON_NULL, name .. ":\n" .. json)
    if name == "sim" then t.eq(runs[1].flops_per_second or t.JSON_NULL, t.JSON_NULL, json) end
    -- Nor do the stored runs hold a speed (0 tokens/s from the trainer's simulation, ~1e11 from the
    -- tokens over the draw's milliseconds).
    local db = store.open(dir .. "/" .. name .. ".db", { read_only = true })
    local stored = db:runs { study = name }
    db:close()
    t.eq(#stored, 1)
    t.eq(stored[1].metrics and stored[1].metrics.tokens_per_second, nil, name)
    t.eq(stored[1].metrics and stored[1].metrics.flops_per_second, nil, name)
  end
  -- A run that trained keeps its speed.
  local trained = study_dir()
  local rows = csv_rows(select(2, scalelab(trained, "results s.db --csv -")))
  t.ok(tonumber(rows[1].tokens_per_second) > 0, rows[1].tokens_per_second)
end)

-- The epochs column writes epochs by the rule of epochs and ratios (core/units.h's format_ratio: plainly up
-- to 9999), as plan's answers do, in the listing and in the study's report: 2000 epochs of 1024 unique
-- tokens. It wrote printf's 2e+03, then format_number's 2e3 beside answers' 2000.
t.test("the runs table and the report write 2000 epochs as 2000, as answers do, not 2e3 or 2e+03", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/e.lua", [[
study "e" {
  sweep = sweep.data_constrained{ unique_tokens = { 1024 }, epochs = { 2000 }, sizes = { 1e5 } },
  hyper = { batch = 16 },
  backend = function(run) return { loss = 4.7 } end,
  fits = {},
  quiet = true,
}
]])
  local code, out, err = scalelab(dir, "e.lua")
  t.eq(code, 0, out .. err)
  code, out, err = scalelab(dir, "results e.db")
  t.eq(code, 0, out .. err)
  local row = out:match("\n%s+1%s+done%s+([^\n]+)")
  t.ok(row and row:find(" 2000 ", 1, true) and not row:find("2e", 1, true), out)
  local report = read(dir .. "/e.report.md") or ""
  t.ok(report:find("| 2000 |", 1, true) and not report:find("2e+03", 1, true) and not report:find("2e3", 1, true), report)
end)

-- A damaged store read by scalelab results (read-only) was "corrupted (...); scalelab will not
-- write to it ... give the study another store path", in the words of a study writing it.
t.test("scalelab results on a damaged or foreign file says what is wrong with which file and the fix, in reading's words", function()
  local dir = t.fresh_dir(root)
  local s = native_store.open(dir .. "/whole.db")
  s:record_study { name = "w" }
  local plans = {}
  for i = 1, 200 do plans[i] = { study = "w", hash = "h" .. i, config_json = "{}", config = { note = string.rep("x", 300) } } end
  s:plan_runs(plans)
  s:close()  -- the last connection folds the write-ahead log into the file
  local bytes = read(dir .. "/whole.db")
  t.ok(#bytes > 40000, #bytes)
  write(dir .. "/cut.db", bytes:sub(1, 8192))
  local code, out, err = scalelab(dir, "results cut.db")
  t.eq(code, 1, out .. err)
  t.ok(err:find("scalelab results: results store 'cut.db' is corrupted (", 1, true), err)
  t.ok(err:find("it is truncated, holding 8192 bytes of the " .. #bytes .. " its header counts (cut short by a crash, "
    .. "a full disk or a copy that stopped), so scalelab cannot read it; it left the file untouched. Restore it from a "
    .. "copy, or check the path", 1, true), err)
  t.ok(not err:find("write", 1, true) and not err:find("study", 1, true), err)
  t.eq(read(dir .. "/cut.db"), bytes:sub(1, 8192))
  -- Pages overwritten, the length whole: corrupted, not truncated.
  write(dir .. "/garbled.db", bytes:sub(1, 4096) .. string.rep("\xA5", #bytes - 4096))
  code, out, err = scalelab(dir, "results garbled.db")
  t.eq(code, 1, out .. err)
  t.ok(err:find("results store 'garbled.db' is corrupted (", 1, true) and err:find("so scalelab cannot read it", 1, true), err)
  t.ok(not err:find("truncated", 1, true) and not err:find("write", 1, true), err)
  -- Opened to write, the same file says so, with the ways on.
  t.raises(function() native_store.open(dir .. "/cut.db") end, "results store '" .. dir .. "/cut.db' is corrupted (")
  t.raises(function() native_store.open(dir .. "/cut.db") end, "; scalelab will not write to it and left it untouched. "
    .. "Restore it from a copy, or move it aside (mv '" .. dir .. "/cut.db' '" .. dir .. "/cut.db.damaged') to start a "
    .. "new store there, or give the study another store path")
  t.eq(read(dir .. "/cut.db"), bytes:sub(1, 8192))
  -- A file that is no SQLite database at all: which, and the fix.
  write(dir .. "/notes.db", "my notes\n")
  code, out, err = scalelab(dir, "results notes.db")
  t.eq(code, 1, out .. err)
  t.ok(err:find("'notes.db' is not a scalelab results store: it is not an SQLite database (it begins \"my notes\\x0a\"). "
    .. "scalelab left it untouched; check the path: a results store is a .db file that scalelab wrote.", 1, true), err)
  t.raises(function() native_store.open(dir .. "/notes.db") end, "scalelab left it untouched; move it aside (mv '"
    .. dir .. "/notes.db' '" .. dir .. "/notes.db.moved') or give the study another store path.")
end)

-- A simulated run's time was its draw's ("0.117 ms", measuring nothing) where the study's report says
-- "simulated": the listing says so too; the export keeps the number.
t.test("the runs table calls a simulated run's time simulated, as the report does", function()
  local dir = t.fresh_dir(root)
  write(dir .. "/sim.lua", [[
study "sim" {
  sweep = sweep.grid{ N = { 1e5, 2e5 }, D = { 1e7 } },
  backend = { kind = "simulated", law = { E = 1.5, A = 20, B = 30, alpha = 0.34, beta = 0.28 } },
  fits = {},
  quiet = true,
}
]])
  local code, out, err = scalelab(dir, "sim.lua")
  t.eq(code, 0, out .. err)
  code, out, err = scalelab(dir, "results sim.db")
  t.eq(code, 0, out .. err)
  local rows = 0
  for row in out:gmatch("\n%s+%d+%s+done%s+([^\n]+)") do
    rows = rows + 1
    t.ok(row:find(" simulated ", 1, true) and not row:find(" ms ", 1, true), out)
  end
  t.eq(rows, 2, out)
  local report = read(dir .. "/sim.report.md") or ""
  t.ok(report:find("| simulated | done |", 1, true), report)
  -- The export keeps each run's wall time, a number.
  local csv = csv_rows(select(2, scalelab(dir, "results sim.db --csv -")))
  t.ok(tonumber(csv[1].wall_seconds), "wall_seconds: " .. tostring(csv[1].wall_seconds))
  -- A trained run keeps its time.
  local trained = study_dir()
  code, out = scalelab(trained, "results s.db")
  t.ok(not out:find(" simulated ", 1, true), out)
end)

t.done()
