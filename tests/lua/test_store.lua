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

os.execute("rm -rf " .. dir)
t.done()
