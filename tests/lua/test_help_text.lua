-- What help prints about its argument: help(nil) after a mistyped name, and doc texts reflowed to
-- the terminal's width.
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


t.test("help reflows each paragraph of a doc text to the width: no sentence broken onto a short line", function()
  local help = require "scalelab.help"
  local docs = require("scalelab.native.core").docs()
  -- help(help) broke its last sentence onto a line of its own: "doc(value, text) documents your own" /
  -- "values for help.", as the text's line breaks were made for no width in particular.
  t.eq(table.concat(help.reflow(docs[help.help], 100), "\n"),
    "help([x]) prints the documentation of x: a module (its functions, documented tables and numbers), a\n"
    .. "function, or an object (its fields and methods); help() alone lists the modules. doc(value, text)\n"
    .. "documents your own values for help.")
  -- help prints what reflow gives at the terminal's width (100 where there is no terminal, 60 at least).
  local width = math.max(require("scalelab.pretty").columns(), 60)
  t.eq(t.help_text(help.help), table.concat(help.reflow(docs[help.help], width), "\n"))
  if width == 100 then  -- no terminal, no $COLUMNS: what help printed, "values for help." on a line of its own
    t.eq(select(2, t.help_text(help.help):gsub("\n", "")), 2, t.help_text(help.help))
    t.ok(not t.help_text(help.help):find("\nvalues for help.", 1, true))
  end
  -- At a narrow width too, every line of prose fits, and none but a paragraph's last is short.
  local lines = help.reflow(docs[help.help], 60)
  for i, line in ipairs(lines) do
    t.ok(#line <= 60, line)
    if i < #lines then t.ok(#line > 45, "a short line: " .. line) end
  end
  -- Every documented text: its prose lines fit 80 columns (a word longer than that aside); lines
  -- laid out by hand (indented, lists, tables) are kept, up to 20 columns over.
  for value, text in pairs(docs) do
    for _, line in ipairs(help.reflow(text, 80)) do
      if line:find("^[%s|-]") then t.ok(#line <= 100, line)
      else t.ok(#line <= 80 or not line:find(" "), "wider than 80: " .. line) end
    end
  end
end)

t.test("reflow keeps code, lists, tables and fenced blocks as written, and a signature head apart", function()
  local reflow = require("scalelab.help").reflow
  -- Lines kept as they are, between paragraphs that are reflowed.
  local kept = table.concat({
    "Fields: a, b.",
    "",
    "  code(x)   stays as it is",
    "- a list item",
    "  that goes on",
    "| a | table |",
    "```",
    "long code line in a fence that is wider than the width stays as it is, whatever the width is",
    "```",
  }, "\n")
  local text = "f.thing{ a =, b = [, c = 1] [, d = 2]\n         [, e = 3] } -> Thing\n"
    .. "Makes a thing of a and b; this\nsentence goes on here.\n" .. kept .. "\nA last paragraph\nof prose."
  t.eq(table.concat(reflow(text, 40), "\n"), "f.thing{ a =, b = [, c = 1] [, d = 2]\n  [, e = 3] } -> Thing\n"
    .. "Makes a thing of a and b; this sentence\ngoes on here.\n" .. kept .. "\nA last paragraph of prose.")
end)

t.done()
