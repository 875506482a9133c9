-- Progress of a sweep. On a terminal: a sweep bar (runs done of total, FLOPs done of total, ETA)
-- over one bar per run in flight, redrawn in place. Otherwise (a log file, a pipe, TERM=dumb): one
-- plain line when a run starts and when it ends. SCALELAB_PROGRESS=bars|lines|none forces a mode.
-- Each line names its run by its number, the # of the dry run's table and of the report's runs table
-- ("run  7 start N=..."), and a run's end says the sweep's count after it ("(3 of 20 done, ...)"): a
-- count shown as "[3/20]" on every line read as a run number, the same on two runs resumed at once.
local native = require "scalelab.native.study"
local core = require "scalelab.native.core"

local Progress = {}
Progress.__index = Progress

-- options: { runs = total runs, flops = total FLOPs, done_runs =, done_flops = (already finished),
--            work =, done_work = (the same in what the time goes with: the runs' hardware FLOPs; the
--            FLOPs when not given), out = io.stdout, terminal = nil (auto) | true | false, quiet = false }
function Progress.new(options)
  local self = setmetatable({}, Progress)
  self.out = options.out or io.stdout
  self.terminal = options.terminal
  self.quiet = options.quiet
  -- SCALELAB_PROGRESS = bars | lines | none overrides the choice made from the terminal.
  local forced = os.getenv("SCALELAB_PROGRESS")
  if forced == "bars" then self.terminal = true
  elseif forced == "lines" then self.terminal = false
  elseif forced == "none" then self.quiet = true
  end
  if self.terminal == nil then self.terminal = native.isatty("stdout") and os.getenv("TERM") ~= "dumb" end
  self.total_runs = options.runs or 0
  self.total_flops = options.flops or 0
  self.done_runs = options.done_runs or 0
  self.done_flops = options.done_flops or 0
  -- The ETA is reckoned in work, not in the FLOPs shown: a run's hardware FLOPs (output logits
  -- included) are what its time goes with, and their share of 6·N·D differs between small and large runs.
  self.total_work = options.work or self.total_flops
  self.done_work = options.done_work or self.done_flops
  self.session_work = 0
  self.start = native.clock()
  self.active = {}  -- key -> { run =, started =, fraction =, loss = }
  self.order = {}
  self.drawn = 0
  self.failed = 0
  return self
end

local function bar(fraction, width)
  fraction = math.max(0, math.min(1, fraction or 0))
  local filled = math.floor(fraction * width + 0.5)
  return string.rep("#", filled) .. string.rep(".", width - filled)
end

-- Runs that draw their losses from a law (run.simulated) take no training time: no ETA or times.
function Progress:note_run(run)
  if run.simulated then self.simulated = true end
end

function Progress:eta()
  if self.simulated then return nil end
  local elapsed = native.clock() - self.start
  if self.session_work <= 0 or elapsed <= 0 then return nil end
  local rate = self.session_work / elapsed
  local remaining = math.max(0, self.total_work - self.done_work)
  return remaining / rate
end

function Progress:sweep_line()
  local fraction = self.total_flops > 0 and self.done_flops / self.total_flops or
    (self.total_runs > 0 and self.done_runs / self.total_runs or 1)
  local eta = self:eta()
  return string.format("sweep [%s] %d/%d runs  %s/%s FLOP  %s%s", bar(fraction, 24), self.done_runs, self.total_runs,
    core.format_flops(self.done_flops), core.format_flops(self.total_flops),
    self.simulated and "simulated" or eta and ("ETA " .. core.format_duration(eta)) or "ETA ?",
    self.failed > 0 and string.format("  (%d failed)", self.failed) or "")
end

function Progress:run_line(entry)
  local elapsed = native.clock() - entry.started
  local fraction = entry.fraction
  if not fraction and entry.run.estimated_seconds and entry.run.estimated_seconds > 0 and entry.run.estimated_seconds < math.huge then
    fraction = math.min(0.99, elapsed / entry.run.estimated_seconds)
  end
  return string.format("  run %-3d [%s] %s  %s%s", entry.run.ordinal, bar(fraction or 0, 16), entry.run.label,
    entry.run.simulated and "simulated" or core.format_duration(elapsed),
    entry.loss and string.format("  loss %.4f", entry.loss) or "")
end

function Progress:clear()
  if self.terminal and self.drawn > 0 then
    self.out:write(string.format("\27[%dA", self.drawn))
    for _ = 1, self.drawn do self.out:write("\27[2K\n") end
    self.out:write(string.format("\27[%dA", self.drawn))
    self.drawn = 0
  end
end

function Progress:draw()
  if self.quiet or not self.terminal then return end
  self:clear()
  local lines = { self:sweep_line() }
  for _, key in ipairs(self.order) do
    local entry = self.active[key]
    if entry then lines[#lines + 1] = self:run_line(entry) end
  end
  local columns = native.columns("stdout")
  for _, line in ipairs(lines) do
    if columns > 0 and #line >= columns then line = line:sub(1, columns - 1) end
    self.out:write(line, "\n")
  end
  self.drawn = #lines
  self.out:flush()
end

-- Prints a line above the bars (or in the log).
function Progress:say(line)
  if self.quiet then return end
  self:clear()
  self.out:write(line, "\n")
  self:draw()
  self.out:flush()
end

-- "run  7": the run's number, padded to the width of the sweep's largest so that the labels line up.
function Progress:run_name(run)
  local width = #tostring(math.max(self.total_runs, 1))
  return string.format("run %" .. width .. "s", tostring(run.ordinal or "?"))
end

-- "3 of 20 done, 1 failed": the sweep's count, said after each run that ends.
function Progress:count()
  return string.format("%d of %d done%s", self.done_runs, self.total_runs,
    self.failed > 0 and string.format(", %d failed", self.failed) or "")
end

function Progress:started(run, worker)
  self:note_run(run)
  self.active[run.hash] = { run = run, started = native.clock() }
  self.order[#self.order + 1] = run.hash
  if not self.terminal and not self.quiet then
    self.out:write(string.format("%s %s %s%s\n", self:run_name(run), run.resuming and "resume" or "start", run.label,
      worker and (" (" .. worker .. ")") or ""))
    self.out:flush()
  end
  self:draw()
end

function Progress:update(run, fraction, loss)
  local entry = self.active[run.hash]
  if entry then
    entry.fraction, entry.loss = fraction, loss
  end
end

-- outcome: { status =, loss =, wall_seconds =, error = }
function Progress:finished(run, outcome)
  self:note_run(run)
  self.active[run.hash] = nil
  for i, key in ipairs(self.order) do
    if key == run.hash then
      table.remove(self.order, i)
      break
    end
  end
  if outcome.status == "done" or outcome.status == "diverged" then
    self.done_runs = self.done_runs + 1
    self.done_flops = self.done_flops + (run.flops or 0)
    local work = run.hardware_flops or run.flops or 0
    self.done_work = self.done_work + work
    self.session_work = self.session_work + work
  else
    self.failed = self.failed + 1
  end
  local line = string.format("%s %s %s%s%s", self:run_name(run), outcome.status, run.label,
    outcome.loss and string.format("  loss %.4f", outcome.loss) or "",
    (outcome.wall_seconds and not run.simulated) and ("  " .. core.format_duration(outcome.wall_seconds)) or "")
  if self.terminal then
    -- The sweep bar below says the FLOPs and the ETA.
    line = line .. "  (" .. self:count() .. ")"
  else
    local eta = self:eta()
    line = line .. string.format("  (%s, %s/%s FLOP%s)", self:count(), core.format_flops(self.done_flops),
      core.format_flops(self.total_flops), eta and (", ETA " .. core.format_duration(eta)) or "")
  end
  if outcome.error then line = line .. "\n    " .. outcome.error:gsub("\n", "\n    ") end
  if self.terminal then
    self:say(line)
  elseif not self.quiet then
    self.out:write(line, "\n")
    self.out:flush()
  end
end

function Progress:close()
  self:clear()
  if self.terminal and not self.quiet then
    self.out:write(self:sweep_line(), "\n")
    self.out:flush()
  end
end

return Progress
