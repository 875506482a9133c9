-- Ctrl-C (SIGINT) after a study's runs are done, while it fits, answers and draws: the script stops
-- there (exit status 130) and says its runs are kept, as it stops when Ctrl-C comes during training.
-- The library's protected steps (a fit that may fail, an answer, a figure) used to take the
-- interruption for one more failure: "not answered: interrupted!" in the report, and the script
-- went on to its end with status 0. The signal comes from inside the step itself (the process sends
-- it to itself, or a stand-in gnuplot to its parent), so the tests do not depend on timing.
local t = require "scalelab.test"

local root = t.scratch("study-interrupt")

-- A stand-in gnuplot that sends SIGINT to scalelab (its parent) and then waits to be stopped.
local fake_gnuplot = root .. "/gnuplot-ctrl-c"
t.write_file(fake_gnuplot, "#!/bin/sh\nkill -INT $PPID\nexec sleep 30\n")
assert(os.execute("chmod +x '" .. fake_gnuplot .. "'"))

-- Runs s.lua in dir, which Ctrl-C stops at `went_on`, a line it prints only if it goes on past it;
-- returns its output and standard error.
local function stopped(dir, went_on, env)
  local code, output, err = t.run(dir, "s.lua", env)
  t.eq(code, 130, "status 130 (Ctrl-C):\n" .. output)
  t.ok(not output:find(went_on, 1, true), "the script stopped there:\n" .. output)
  return output, err
end

-- Nine simulated runs, enough for a Chinchilla fit; `question` is Lua code for the questions list.
local function study_script(question, before)
  return (before or "") .. [[
local s = study "stopped" {
  sweep = sweep.grid { N = { 1e7, 3e7, 1e8 }, D = { 1e9, 3e9, 1e10 } },
  backend = "simulated",
  fits = { "chinchilla" },
  questions = { ]] .. question .. [[ },
  quiet = true,
}
print("the script went on after the study")
]]
end

t.test("Ctrl-C while a study answers its questions stops the script with status 130 and keeps its runs", function()
  -- A question of the user's own whose answer is where Ctrl-C lands (the process signals itself),
  -- unless CALM is set: then it answers, and the second run fits and reports.
  local dir = t.script(root, study_script("asked", [[
local getpid = require("scalelab.native.study").getpid
asked = { answer = function(q, law)
  if not os.getenv("CALM") then
    io.popen("kill -INT " .. getpid()):close()
    for i = 1, 1e6 do local _ = i end  -- the interruption is raised here, at the next instruction
  end
  return plan.optimal { compute = 1e21, law = law }
end }
]]))
  local _, err = stopped(dir, "the script went on")
  t.ok(err:find("study stopped: interrupted while fitting and reporting; its 9 runs finished are kept in stopped.db",
    1, true), "the study says it was interrupted and where its runs are:\n" .. err)
  t.eq(t.read_file(dir .. "/stopped.report.md"), nil, "no report that records the interruption as an answer")
  local done = 0
  for _, r in pairs(t.stored_runs(dir .. "/stopped.db")) do if r.status == "done" then done = done + 1 end end
  t.eq(done, 9, "the runs are kept")
  -- The next run trains nothing, fits and reports.
  local code, output = t.run(dir, "s.lua", { CALM = "1" })
  t.eq(code, 0, output)
  t.ok(output:find("the script went on", 1, true), output)
  local report = t.read_file(dir .. "/stopped.report.md") or ""
  t.ok(not report:find("interrupted", 1, true), "the report answers the question:\n" .. report)
end)

t.test("Ctrl-C while a study draws its figures stops the script with status 130", function()
  if not plot.available() then t.skip("gnuplot is not installed (setup.sh installs gnuplot-nox)") end
  local dir = t.script(root, study_script("plan.optimal { compute = 1e21 }",
    "plot.config.program = '" .. fake_gnuplot .. "'\n"))
  local _, err = stopped(dir, "the script went on")
  t.ok(err:find("interrupted while fitting and reporting", 1, true), err)
  local report = t.read_file(dir .. "/stopped.report.md") or ""
  t.ok(not report:find("interrupted", 1, true), "no figure skipped as 'interrupted!':\n" .. report)
end)

t.test("Ctrl-C while plot.study_figures runs gnuplot stops the script instead of skipping the figure", function()
  if not plot.available() then t.skip("gnuplot is not installed (setup.sh installs gnuplot-nox)") end
  local dir = t.script(root, "plot.config.program = '" .. fake_gnuplot .. [['
local runs = {}
for i, N in ipairs { 1e7, 3e7, 1e8 } do runs[i] = { N = N, D = 1e9, loss = 4 - i / 10 } end
local written, skipped = plot.study_figures { dir = "figures", runs = runs }
print("went on: " .. #written .. " written, " .. #skipped .. " skipped")
]])
  stopped(dir, "went on")
end)

t.done()
