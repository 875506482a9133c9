-- What help prints about its argument: help(nil) after a mistyped name.
local t = require "scalelab.test"

local help_text = t.help_text
local nil_message = "help: no value (nil) given: the name holds nothing"

t.test("help(fit.chinchila) names the name meant, as help(\"fit.chinchila\") does", function()
  -- It said only "no value (nil) given": Lua passes help the nil, not the expression's text. The
  -- library notes the last name a module lacked, and where it was read (function and line).
  t.eq(help_text(fit.chinchila), "help: no value (nil) given: fit has no 'chinchila'; did you mean "
    .. "'fit.chinchilla'?; help(fit) lists what it has")
  t.eq(help_text(plot.formats.cont), "help: no value (nil) given: plot.formats has no 'cont'; did you mean "
    .. "'plot.formats.count'?; help(plot.formats) lists what it has")
  t.eq(help_text(fit.zzzzzzzz), "help: no value (nil) given: fit has no 'zzzzzzzz'; help(fit) lists what it has")
  -- A method of a class: the name meant among its methods.
  t.eq(help_text(study.Study.reprot), "help: no value (nil) given: a Study has no 'reprot'; did you mean 'report'?")
  -- The message without a record says how to have the name meant named.
  t.ok(help_text(nil):find(nil_message, 1, true), help_text(nil))
  t.ok(help_text(nil):find("the name in quotes says which name was meant (help(\"fit.chinchila\") for fit.chinchila)",
    1, true), help_text(nil))
end)

t.test("help(nil) does not take a stale miss for its argument's", function()
  -- A miss read on an earlier line: the nil given is not known to be its.
  local misspelt = fit.chinchila
  t.ok(help_text(misspelt):find(nil_message, 1, true), help_text(misspelt))
  -- Read on this line, by another function (one of the user's, called here): not this line's read.
  local function read() return fit.chinchila end
  t.ok(help_text(read()):find(nil_message, 1, true))
  -- The record is taken once: the same line run again (a loop) with a nil from elsewhere is not told of it.
  local said = {}
  for i = 1, 2 do said[i] = help_text(i == 1 and fit.chinchila or nil) end
  t.ok(said[1]:find("did you mean 'fit.chinchilla'?", 1, true), said[1])
  t.ok(said[2]:find(nil_message, 1, true), said[2])
  -- A value read on this line, after the miss: still the last miss, and this line's: named.
  t.ok(help_text(fit.chinchila or nil):find("did you mean 'fit.chinchilla'?", 1, true))
end)


t.done()
