-- scalelab.test, the harness the Lua test scripts run on: what it gives a test script to work in.
local t = require "scalelab.test"
local native = require "scalelab.native.study"

t.test("a scratch folder is new even where an earlier script of this process id left its own", function()
  -- Process ids come round again within minutes on a busy machine (pid_max 32768), and a script
  -- whose test failed keeps its scratch folder. The scratch folder was /tmp/scalelab-test-<name>-<pid>,
  -- taken as found: the tests ran among the earlier script's files, and removing the kept folder
  -- removed the running script's stores while its studies wrote them.
  local left = string.format("/tmp/scalelab-test-harness-left-%d", native.getpid())
  os.execute("rm -rf '" .. left .. "'")
  native.make_dirs(left .. "/1")
  t.write_file(left .. "/1/trained.db", "an earlier script's store")
  local dir = t.scratch("harness-left")
  t.ok(dir ~= left, "a folder other than the one left: " .. dir)
  t.eq(dir:sub(1, #left), left, "named as the scratch folders are, for who looks in /tmp")
  local listing = io.popen("ls -A '" .. dir .. "'")
  t.eq(listing:read("a"), "", "the scratch folder is empty")
  listing:close()
  t.eq(t.fresh_dir(dir), dir .. "/1")
  t.eq(t.read_file(dir .. "/1/trained.db"), nil, "nothing of the earlier script's files")
  -- The folder left is not this script's: it stays as it was.
  t.eq(t.read_file(left .. "/1/trained.db"), "an earlier script's store")
  -- Another folder of the same name in this script is new too.
  local again = t.scratch("harness-left")
  t.ok(again ~= dir and again ~= left, again)
  os.execute("rm -rf '" .. left .. "'")
end)

t.done()
