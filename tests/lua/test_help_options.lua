-- help(f) says what f takes: the keys a library function accepts (its unknown-key error lists them)
-- are each named and explained in its help.
local t = require "scalelab.test"

local docs = require("scalelab.native.core").docs()

-- The keys a call's unknown-key error lists: "(valid keys: a, b)" or plot's "(valid: a, b)".
local function accepted(code)
  local ok, err = pcall(assert(load(code)))
  t.ok(not ok, code .. " raised no error")
  local list = tostring(err):match("unknown key 'zzz' %(valid keys: ([^)]*)%)")
    or tostring(err):match("unknown argument 'zzz' %(valid: ([^)]*)%)")
  t.ok(list, code .. ": the error lists the valid keys: " .. tostring(err))
  local keys = {}
  for key in list:gmatch("[%w_]+") do keys[#keys + 1] = key end
  return keys
end

-- A study's keys are listed in one sentence, each with what it is in parentheses: "seed (the runs'
-- seed, ...)". A key named bare (", jobs, executor, seed,") left the user to guess what it takes.
t.test("help(study.study) says what each key of a study is", function()
  local text = docs[study.study]
  local unexplained = {}
  for _, key in ipairs(accepted("study 'x' { zzz = 1 }")) do
    if not (text:find("%f[%w_]" .. key .. "%s+%(") or text:find("%f[%w_]" .. key .. " or [%w_]+%s+%(")) then
      unexplained[#unexplained + 1] = key
    end
  end
  t.eq(table.concat(unexplained, ", "), "", "keys named without what they are")
end)

t.done()
