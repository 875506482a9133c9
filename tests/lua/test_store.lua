-- The store module's Lua entry points: what store.open accepts and how it refuses the rest.
local t = require "scalelab.test"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

t.test("store.open takes a file name and nothing else", function()
  -- A number would be turned into a file named "5" in the working directory.
  t.raises(function() store.open(5) end, "path must be the database file's name as a string")
  t.raises(function() store.open() end, "got no value")
  t.raises(function() store.open({}) end, "got table")
  local s = store.open(dir .. "/runs.db")
  t.eq(s.read_only, false)
  s:close()
end)

t.test("store.open's options are checked in the names the user wrote", function()
  t.raises(function() store.open(dir .. "/runs.db", { busy_timeout = -1 }) end,
           "busy_timeout must be a finite number of seconds")
  -- Beyond an int of milliseconds: it was cast to int regardless (undefined behaviour).
  t.raises(function() store.open(dir .. "/runs.db", { busy_timeout = 1e12 }) end,
           "busy_timeout must be at most 2147483 seconds (about 24 days")
  store.open(dir .. "/runs.db", { busy_timeout = 2147483 }):close()
  t.raises(function() store.open(dir .. "/runs.db", { read_only = true, create = true }) end,
           "read_only and create cannot both be set")
end)

t.test("store.open makes a new store's folder, and only with create", function()
  t.raises(function() store.open(dir .. "/absent/runs.db", { create = false }) end, "no such file")
  local s = store.open(dir .. "/new/folder/runs.db")
  s:close()
  t.ok(io.open(dir .. "/new/folder/runs.db", "rb") ~= nil, "the store file exists")
  -- A path through a plain file is an error naming the store and why.
  local blocker = io.open(dir .. "/plain", "w")
  blocker:close()
  t.raises(function() store.open(dir .. "/plain/sub/runs.db") end, "plain/sub/runs.db': Not a directory")
end)

t.test("a store held in a <close> variable is closed as its block ends, by an error or not", function()
  local kept
  do
    local s <close> = store.open(dir .. "/closing.db")
    kept = s
    t.eq(#s:runs(), 0)
  end
  t.raises(function() kept:runs() end, "is closed")
  local ok = pcall(function()
    local s <close> = store.open(dir .. "/closing.db")
    kept = s
    error("stop")
  end)
  t.eq(ok, false)
  t.raises(function() kept:runs() end, "is closed")
end)

t.test("store:export and store:text refuse a study the store lacks, as scalelab results --study does, and write nothing", function()
  -- s:export(path, { study = "nope" }) wrote a file of the header alone, as for a study that ran no run.
  local s = store.open(dir .. "/studies.db")
  s:record_study { name = "other" }
  s:plan_runs { { study = "other", hash = "h", config_json = "{}" } }
  local path = dir .. "/studies.db"
  t.raises(function() s:export(dir .. "/nope.csv", { study = "Othr" }) end,
           "store:export: no study 'Othr' in " .. path .. "; did you mean 'other'? its studies: other")
  t.raises(function() s:export(dir .. "/nope.json", { what = "curves", study = "zzzzzz" }) end,
           "store:export: no study 'zzzzzz' in " .. path .. "; its studies: other")
  t.eq(io.open(dir .. "/nope.csv", "rb"), nil, "a file was written")
  t.eq(io.open(dir .. "/nope.json", "rb"), nil, "a file was written")
  t.raises(function() s:text("runs_csv", { study = "othe" }) end, "store:text: no study 'othe' in " .. path
    .. "; did you mean 'other'?")
  t.raises(function() s:check_study("nope") end, "no study 'nope' in " .. path .. "; its studies: other")
  -- Located at the caller's line, as the native methods' errors are.
  t.raises(function() s:export(dir .. "/nope.csv", { study = "nope" }) end, "test_store.lua:")
  -- The studies it holds: exported as before.
  s:check_study("other")
  t.eq(s:export(dir .. "/other.csv", { study = "other" }), dir .. "/other.csv")
  t.ok(t.read_file(dir .. "/other.csv"):find("\nother,h,", 1, true), t.read_file(dir .. "/other.csv"))
  t.ok(s:text("runs_json", { study = "other" }):find('"other"', 1, true))
  t.raises(function() s:export(dir .. "/nope.csv", { study = 5 }) end, "study")
  s:close()
  local empty = store.open(dir .. "/empty.db")
  t.raises(function() empty:export(dir .. "/nope.csv", { study = "x" }) end, "no study 'x' in " .. dir
    .. "/empty.db; it holds no studies")
  empty:close()
end)

t.test("store.open, store:export, train's checkpoint = and plot's paths refuse a path under ~, as a study's store = does", function()
  -- store.open("~/x.db") made a folder named '~' in the current one and the store in it: only a
  -- shell expands ~. Run in a folder of its own, which must be left as it was.
  local here = dir .. "/tilde"
  assert(os.execute("mkdir -p '" .. here .. "'"))
  t.write_file(here .. "/s.lua", [[
local function try(f) local ok, message = pcall(f); print(ok and "accepted" or message) end
try(function() store.open("~/x.db") end)
try(function() store.open("~") end)
local s = store.open("kept.db")
try(function() s:export("~/runs.csv") end)
s:close()
local function source()
  local src = { vocab = 32, seq_len = 16, batch = 2 }
  function src:next_batch() local out = {} for i = 1, 2 * 17 do out[i] = i % 32 end return out end
  function src:state() return "0" end
  function src:restore() end
  function src:held_out() return source() end
  return src
end
local src = source()
try(function()
  train.run{ model = model.gpt{ vocab = 32, ctx = 16, d_model = 32, n_layer = 1, n_head = 2 }, data = src, steps = 1,
             checkpoint = "~/ck/run.ckpt" }
end)
try(function() plot.study_figures{ dir = "~/figs", runs = {} } end)
try(function() plot.figure{}:save("~/loss.svg") end)
]])
  local code, out = t.run(here, "s.lua")
  t.eq(code, 0, out)
  local fix = ": ~ is not the home folder in a Lua string (only a shell expands it), and this would make a folder "
    .. "named '~' in the current one; write "
  for _, said in ipairs {
      'store.open: "~/x.db"' .. fix .. 'os.getenv("HOME") .. "/x.db", or "./~/x.db" for a folder that is named ~',
      'store.open: "~"' .. fix .. 'os.getenv("HOME"), or "./~" for a folder that is named ~',
      'store:export: "~/runs.csv"' .. fix .. 'os.getenv("HOME") .. "/runs.csv", or "./~/runs.csv"',
      'train.run: checkpoint = "~/ck/run.ckpt"' .. fix .. 'checkpoint = os.getenv("HOME") .. "/ck/run.ckpt", or "./~/ck/run.ckpt"',
      'plot.study_figures: dir = "~/figs"' .. fix .. 'dir = os.getenv("HOME") .. "/figs", or "./~/figs"',
      'figure:save: "~/loss.svg"' .. fix .. 'os.getenv("HOME") .. "/loss.svg", or "./~/loss.svg"' } do
    t.ok(out:find(said, 1, true), said .. "\n" .. out)
  end
  t.ok(not out:find("accepted", 1, true), out)
  t.eq(io.open(here .. "/~", "rb"), nil, "a folder named ~ was made")
  os.execute("rm -rf '" .. here .. "/~'")
  -- Not the home folder, and not the shell's form: taken as it is.
  local s = store.open(here .. "/a~b.db")
  s:close()
end)

t.test("a configuration key or metric named like an export's column keeps a column of its own, prefixed", function()
  -- A configuration key named like a fixed column (status, loss, tokens, unique_tokens, ...) was left
  -- out of the runs export as if it were the headline number, and a study's unique_tokens, the U it
  -- asked for, was lost behind the U its runs saw; a metric result_x and a metric x could share a column.
  local s = store.open(dir .. "/columns.db")
  s:record_study { name = "c" }
  s:plan_runs { { study = "c", hash = "h", config_json = "{}", tokens = 1000, unique_tokens = 960,
                  config = { tokens = 1000, unique_tokens = 1000, status = "tuned", loss = "mse", lr = 0.1,
                             config_lr = 1, result_x = 2 } } }
  s:finish_run { study = "c", hash = "h", loss = 3.5,
                 metrics = { lr = 7, loss = 3.4, result_lr = 8, config_lr = 9, tokens_per_second = 5 } }
  local csv = s:text("runs_csv")
  local lines = {}
  for line in csv:gmatch("[^\n]+") do lines[#lines + 1] = line end
  t.eq(#lines, 2, csv)
  local header, values, row, seen = {}, {}, {}, {}
  for field in (lines[1] .. ","):gmatch("([^,]*),") do header[#header + 1] = field end
  for field in (lines[2] .. ","):gmatch("([^,]*),") do values[#values + 1] = field end
  t.eq(#header, #values, csv)
  for i, name in ipairs(header) do
    t.ok(not seen[name], "the column " .. name .. " twice: " .. lines[1])
    seen[name] = true
    row[name] = values[i]
  end
  local expected = {
    status = "done", loss = "3.5", tokens = "1000", unique_tokens = "960",
    config_status = "tuned", config_loss = "mse", config_tokens = "1000", config_unique_tokens = "1000",
    lr = "0.1", config_config_lr = "1", config_result_x = "2",
    result_lr = "7", result_loss = "3.4", result_result_lr = "8", result_config_lr = "9", tokens_per_second = "5",
  }
  for name, value in pairs(expected) do t.eq(row[name], value, name .. " in\n" .. csv) end
  -- Every key of the run, each in its own column: the 21 fixed ones, 7 configuration keys, 5 metrics.
  t.eq(#header, 21 + 7 + 5, lines[1])
  local json = s:text("runs_json")
  for _, said in ipairs { '"status": "done"', '"config_status": "tuned"', '"loss": 3.5', '"config_loss": "mse"',
                          '"result_loss": 3.4', '"unique_tokens": 960', '"config_unique_tokens": 1000',
                          '"result_result_lr": 8', '"config_config_lr": 1' } do
    t.ok(json:find(said, 1, true), said .. " in\n" .. json)
  end
  s:close()
end)

t.test("store:runs refuses a study the store lacks and a status that is none; a known study without runs gives {}", function()
  -- s:runs{ study = "nope" } gave {}: a typo read as "no runs". status = "" gave every run.
  local s = store.open(dir .. "/filters.db")
  local path = dir .. "/filters.db"
  s:record_study { name = "isoflop" }
  s:record_study { name = "empty" }
  s:plan_runs { { study = "isoflop", hash = "h", config_json = "{}" } }
  t.raises(function() s:runs { study = "isoflp" } end,
           "store:runs: no study 'isoflp' in " .. path .. "; did you mean 'isoflop'? its studies: isoflop, empty")
  t.raises(function() s:runs { study = "" } end, "store:runs: no study '' in " .. path)
  t.raises(function() s:runs { study = "nope" } end, "test_store.lua:")  -- at the caller's line
  t.raises(function() s:runs { status = "dnoe" } end, "store:runs: status 'dnoe' is not a run status; did you mean "
    .. "'done'? use one of planned, running, done, failed, diverged, interrupted")
  t.raises(function() s:runs { status = "" } end, "store:runs: status '' is not a run status")
  t.raises(function() s:runs { study = "isoflop", status = "Done" } end, "did you mean 'done'?")
  t.raises(function() s:export(dir .. "/x.csv", { status = "finished" }) end, "store:export: status 'finished' is not a run status")
  t.raises(function() s:text("runs_json", { status = "x" }) end, "store:text: status 'x' is not a run status")
  t.eq(io.open(dir .. "/x.csv", "rb"), nil, "a file was written")
  -- Known studies and statuses: their runs, none where they have none.
  t.eq(#s:runs { study = "empty" }, 0)
  t.eq(#s:runs { study = "isoflop", status = "failed" }, 0)
  t.eq(#s:runs { study = "isoflop", status = "planned" }, 1)
  t.eq(#s:runs(), 1)
  t.raises(function() s:runs { study = 5 } end, "store:runs: study must be a string (got number)")
  s:close()
end)

t.test("store:curve refuses a study or run the store lacks; a run without a curve gives {}", function()
  -- s:curve("isoflp", hash) or a hash mistyped gave {}, as a run that recorded no curve does.
  local s = store.open(dir .. "/curves.db")
  local path = dir .. "/curves.db"
  s:record_study { name = "isoflop" }
  s:plan_runs { { study = "isoflop", hash = "abc", config_json = "{}" }, { study = "isoflop", hash = "def", config_json = "{}" } }
  s:finish_run { study = "isoflop", hash = "abc", loss = 3, curve = { { step = 1, tokens = 64, train_loss = 4 } } }
  t.eq(#s:curve("isoflop", "abc"), 1)
  t.eq(#s:curve("isoflop", "def"), 0)  -- planned: no curve yet
  t.raises(function() s:curve("isoflp", "abc") end,
           "store:curve: no study 'isoflp' in " .. path .. "; did you mean 'isoflop'? its studies: isoflop")
  t.raises(function() s:curve("isoflop", "abd") end, "store:curve: study 'isoflop' has no run 'abd' in " .. path
    .. " (s:runs{ study = \"isoflop\" } lists its runs, each with its hash)")
  t.raises(function() s:curve("isoflop", "abd") end, "test_store.lua:")  -- at the caller's line
  t.raises(function() s:curve("isoflop") end, "store:curve(study, hash): study and hash must be strings")
  s:close()
end)

t.test("store:export and store:text without a path or format say which, at the caller's line", function()
  -- s:export() said "stdlib/scalelab/store.lua:55: bad argument #2 to 'native_method' (string expected, got nil)".
  local s = store.open(dir .. "/args.db")
  t.raises(function() s:export() end, "test_store.lua:")
  t.raises(function() s:export() end, "store:export(path [, { what =, study =, status = }]): path must be the file to "
    .. "write, ending in .csv or .json, as a string (got no value)")
  t.raises(function() s:export(nil, { what = "curves" }) end, "path must be the file to write")
  t.raises(function() s:text() end, "test_store.lua:")
  t.raises(function() s:text(nil, {}) end, "store:text(format [, { study =, status = }]): format must be runs_csv, "
    .. "runs_json, curves_csv or curves_json, as a string (got nil)")
  t.eq(s:text("runs_csv"):sub(1, 11), "study,hash,")
  s:close()
end)

t.test("store:run refuses a study the store lacks; a run the study lacks is nil", function()
  -- s:run("isoflp", hash) gave nil, as a run the study lacks does: a typo read as "no such run".
  local s = store.open(dir .. "/run.db")
  local path = dir .. "/run.db"
  s:record_study { name = "isoflop" }
  s:plan_runs { { study = "isoflop", hash = "abc", config_json = "{}" } }
  t.eq(s:run("isoflop", "abc").status, "planned")
  t.eq(s:run("isoflop", "abd"), nil)
  t.raises(function() s:run("isoflp", "abc") end,
           "store:run: no study 'isoflp' in " .. path .. "; did you mean 'isoflop'? its studies: isoflop")
  t.raises(function() s:run("isoflp", "abc") end, "test_store.lua:")
  t.raises(function() s:run("isoflop") end, "store:run(study, hash): study and hash must be strings")
  s:close()
end)

t.test("store:record_study again with its name alone keeps the study's script, version and spec", function()
  -- s:record_study{ name = "t5" } on a study the store held set its version to "" (scalelab results
  -- showed "scalelab ?") and its script to the empty one.
  local s = store.open(dir .. "/again.db")
  local text = "study 't5' { }"
  local hash = s:record_study { name = "t5", script_path = "t5.lua", script_text = text, scalelab_version = "1.2.3",
                                spec = "{\"runs\":4}" }
  t.eq(hash, store.sha256(text))
  local before = s:studies()[1]
  t.eq(s:record_study { name = "t5" }, hash)
  local after = s:studies()[1]
  t.eq(after.scalelab_version, "1.2.3")
  t.eq(after.script_path, "t5.lua")
  t.eq(after.script_hash, hash)
  t.eq(after.spec, "{\"runs\":4}")
  t.eq(after.created_at, before.created_at)
  -- A field given replaces the stored one; the others are kept.
  t.eq(s:record_study { name = "t5", scalelab_version = "1.2.4" }, hash)
  t.eq(s:studies()[1].scalelab_version, "1.2.4")
  t.eq(s:studies()[1].script_path, "t5.lua")
  local edited = s:record_study { name = "t5", script_text = "study 't5' { -- edited }" }
  t.eq(edited, store.sha256("study 't5' { -- edited }"))
  t.eq(s:studies()[1].script_hash, edited)
  -- A new study recorded by name alone: no script, no version, as before.
  t.eq(s:record_study { name = "bare" }, store.sha256(""))
  t.eq(s:studies()[2].scalelab_version, nil)
  s:close()
end)

t.test("store:runs names a misspelt option before a study the store lacks", function()
  local s = store.open(dir .. "/options.db")
  s:record_study { name = "t5" }
  t.raises(function() s:runs { study = "missing", statsu = "done" } end,
           "store:runs: unknown key 'statsu'; did you mean 'status'? (valid keys: study, status)")
  t.raises(function() s:text("runs_csv", { stduy = "missing" }) end, "store:text: unknown key 'stduy'; did you mean 'study'?")
  t.raises(function() s:export(dir .. "/o.csv", { study = "missing", wat = "curves" }) end,
           "store:export: unknown key 'wat'; did you mean 'what'?")
  t.eq(io.open(dir .. "/o.csv", "rb"), nil, "a file was written")
  -- Known keys: the study is still checked.
  t.raises(function() s:runs { study = "missing", status = "done" } end, "store:runs: no study 'missing'")
  s:close()
end)

t.test("store:reset_run of a run the store lacks names the method and how to list the runs", function()
  -- It said "results store: study 't5' has no run nohash", naming neither.
  local s = store.open(dir .. "/reset.db")
  local path = dir .. "/reset.db"
  s:record_study { name = "t5" }
  s:plan_runs { { study = "t5", hash = "abc", config_json = "{}" } }
  s:finish_run { study = "t5", hash = "abc", loss = 3 }
  t.raises(function() s:reset_run("t5", "nohash") end, "store:reset_run: study 't5' has no run 'nohash' in " .. path
    .. " (s:runs{ study = \"t5\" } lists its runs, each with its hash)")
  t.raises(function() s:reset_run("t5", "nohash") end, "test_store.lua:")  -- at the caller's line
  t.raises(function() s:reset_run("t6", "abc") end, "store:reset_run: no study 't6' in " .. path
    .. "; did you mean 't5'? its studies: t5")
  t.raises(function() s:reset_run("t5") end, "store:reset_run(study, hash): study and hash must be strings")
  t.eq(s:run("t5", "abc").status, "done")
  s:reset_run("t5", "abc")
  t.eq(s:run("t5", "abc").status, "planned")
  s:close()
  t.raises(function() s:reset_run("t5", "abc") end, "store:reset_run: the results store '" .. path .. "' is closed")
end)

os.execute("rm -rf " .. dir)
t.done()
