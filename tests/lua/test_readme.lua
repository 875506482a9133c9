-- The README's claims that a program can check: it opens with exactly the two commands (install,
-- build and quickstart; build and test), and its study example runs as the text around it says.
local t = require "scalelab.test"

local source = assert(os.getenv("SCALELAB_SOURCE_DIR"), "SCALELAB_SOURCE_DIR is not set (run through ctest)")
local readme = assert(t.read_file(source .. "/README.md"), "cannot read README.md")
local root = t.scratch("readme")

-- The fenced blocks of `lang` in order.
local function blocks(lang)
  local found = {}
  for body in readme:gmatch("```" .. lang .. "\n(.-)```") do found[#found + 1] = body end
  return found
end

t.test("the README opens with the two commands: setup, build and quickstart; setup, build and tests", function()
  local head = readme:sub(1, readme:find("\n## ", 1, true))
  local commands = {}
  for body in head:gmatch("```sh\n(.-)```") do commands[#commands + 1] = body end
  t.eq(#commands, 2, "two sh blocks before the first section")
  t.ok(commands[1]:find("^bash setup.sh && ") and commands[1]:find("build/scalelab scripts/quickstart.lua\n$"),
    "the first installs, builds and runs the quickstart: " .. tostring(commands[1]))
  t.ok(commands[2]:find("^bash setup.sh && ") and commands[2]:find("ctest ", 1, true),
    "the second builds and runs the tests: " .. tostring(commands[2]))
  -- .ci/run is that test command.
  local ci = t.read_file(source .. "/.ci/run") or ""
  t.ok(ci:find("ctest", 1, true), ".ci/run runs ctest")
end)

local function study_example()
  for _, body in ipairs(blocks("lua")) do
    if body:find('study "isoflop-markov"', 1, true) then return body end
  end
end

t.test("the README's study example plans the runs the text says, and trains nothing in a dry run", function()
  local body = study_example()
  t.ok(body, "the README has the isoflop-markov study example")
  local dir = t.fresh_dir(root)
  t.write_file(dir .. "/isoflop.lua", body)
  local code, out = t.run(dir, "isoflop.lua --dry-run")
  t.eq(code, 0, out)
  local claimed = tonumber(readme:match("`scalelab isoflop.lua %-%-dry%-run` lists the (%d+) planned runs"))
  t.ok(claimed, "the README says how many runs the dry run lists")
  local planned = tonumber(out:match("study isoflop%-markov: (%d+) runs planned"))
  t.eq(planned, claimed, out)
  t.ok(not out:find("warning", 1, true), "no warning in the plan:\n" .. out)
  t.eq(t.read_file(dir .. "/isoflop-markov.db"), nil, "a dry run writes no store")
end)

t.test("the README's study example runs end to end (on the simulated backend, for speed)", function()
  local body = study_example()
  t.ok(body, "the README has the isoflop-markov study example")
  -- The same study with its runs' losses drawn from a law instead of trained: Chinchilla's
  -- exponents, coefficients small enough that these tiny models stay below ln(64), where the
  -- simulated backend caps a 64-token vocabulary's loss.
  local simulated, replaced = body:gsub('study "isoflop%-markov" {\n', 'study "isoflop-markov" {\n' ..
    '  backend = { kind = "simulated", law = { E = 1.0, A = 20, B = 30, alpha = 0.34, beta = 0.28 }, noise = 0.002 },\n', 1)
  t.eq(replaced, 1, "the study line is where the test expects it")
  local dir = t.fresh_dir(root)
  t.write_file(dir .. "/isoflop.lua", simulated)
  local code, out = t.run(dir, "isoflop.lua")
  t.eq(code, 0, out)
  t.ok(out:find("IsoFLOP (approach 2): N_opt", 1, true), "the IsoFLOP fit:\n" .. out)
  t.ok(out:find("| compute-optimal allocation at 1.00e13 FLOP | isoflop |", 1, true), "the question's answer:\n" .. out)
  t.ok(t.read_file(dir .. "/isoflop-markov.report.md"), "the Markdown report beside the store")
  t.ok(t.read_file(dir .. "/isoflop-markov.report.json"), "the JSON report beside the store")
end)

t.done()
