-- The planning demo script runs and prints the reproduced numbers.
local t = require "scalelab.test"

t.test("scripts/planning.lua runs", function()
  local lines = {}
  local print_ = print
  print = function(...) local parts = {} for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end lines[#lines + 1] = table.concat(parts, "\t") end
  local ok, err = pcall(dofile, os.getenv("SCALELAB_SOURCE_DIR") .. "/scripts/planning.lua")
  print = print_
  t.ok(ok, tostring(err))
  local text = table.concat(lines, "\n")
  for _, s in ipairs { "205.1B", "216.2T", "Gopher", "2.2256", "7.03B", "237B", "9.49", "H100-hours" } do
    t.ok(text:find(s, 1, true), "the demo prints " .. s)
  end
end)

t.done()
