-- For the harness test in tests/CMakeLists.txt: a failed check in a script that never calls
-- t.done(). scalelab exits 0 here, and run_lua_test.sh must fail it.
local t = require "scalelab.test"
t.test("a check that fails", function() t.eq(1, 2) end)
