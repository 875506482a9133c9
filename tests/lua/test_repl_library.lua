-- The Lua half of the REPL: pretty printing and completion.
local t = require "scalelab.test"
local repl = require "scalelab.repl"

t.test("pretty prints scalars, arrays, records, nesting, cycles and limits", function()
  t.eq(pretty(1), "1")
  t.eq(pretty(2.0), "2.0")
  t.eq(pretty("text"), "text")
  t.eq(pretty({ "a", 1 }), '{"a", 1}')
  -- Strings in tables print as literals that read back as the same bytes: invalid UTF-8 as escapes.
  local bytes = "\195\169\255 ok\128"
  t.eq(pretty({ bytes }), '{"\195\169\\255 ok\\128"}')
  t.eq(load("return " .. pretty({ bytes }))()[1], bytes)
  t.eq(pretty({ b = 2, a = 1, [10] = true }), "{[10] = true, a = 1, b = 2}")
  t.eq(pretty({ x = { y = { z = { w = 1 } } } }), "{x = {y = {z = {...1 item}}}}")
  t.eq(pretty({ x = { y = { z = { w = 1, v = 2 } } } }), "{x = {y = {z = {...2 items}}}}")
  local cyclic = {}
  cyclic.self = cyclic
  t.eq(pretty(cyclic), "{self = <cycle>}")
  local shared = { 1 }
  t.eq(pretty({ a = shared, b = shared }), "{a = {1}, b = {1}}")  -- a table seen twice is no cycle
  local long = {}
  for i = 1, 50 do long[i] = i end
  t.ok(pretty(long):find("...(20 more)", 1, true))
  t.eq(pretty({ a = 1, b = 2, c = 3 }, { length = 2 }), "{a = 1, b = 2, ...(1 more)}")  -- named keys count too
  -- Whole floats show their ".0" below 1e15; from there on, an exponent.
  t.eq(pretty(1e15 - 1), "999999999999999.0")
  t.eq(pretty(1e15), "1e+15")
  t.eq(pretty(-1e15), "-1e+15")
  -- A nested table's width counts its indentation: {1, 2, 3} fits 10 columns alone, not indented by 2.
  t.eq(pretty({ { 1, 2, 3 } }, { width = 10 }), "{\n  {\n    1, 2,\n    3\n  }\n}")
  -- and its key: "  abc = {1, 2, 3}" is 17 columns, past 16.
  t.eq(pretty({ abc = { 1, 2, 3 } }, { width = 16 }), "{\n  abc = {\n    1, 2, 3\n  }\n}")
  local wide = {}
  for i = 1, 12 do wide["key" .. i] = string.rep("x", 10) end
  t.ok(pretty(wide):find("\n  key1 = ", 1, true), "long tables break into lines")
  t.ok(pretty(model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }):find("^GPT%("))
  t.raises(function() pretty(1, { colour = true }) end, "unknown option 'colour'")
end)

t.test("completion covers globals, fields, metatables and bound objects", function()
  local function has(list, word)
    for _, w in ipairs(list) do if w == word then return true end end
    return false
  end
  t.ok(has(repl.complete("mod"), "model"))
  t.ok(has(repl.complete("string.fo"), "string.format"))
  t.ok(has(repl.complete("model.sh"), "model.shape_for"))
  t.ok(has(repl.complete("whi"), "while"))
  -- After an index or a call (readline hands over ".da" from "x[1].da"): nothing, not the globals.
  t.eq(#repl.complete(".da"), 0)
  t.eq(#repl.complete(":na"), 0)
  cfg = model.gpt{ vocab = 256, ctx = 64, d_model = 64, n_layer = 2, n_head = 2 }
  t.ok(has(repl.complete("cfg.non"), "cfg.non_embedding_params"))
  t.ok(has(repl.complete("cfg:ta"), "cfg:table"))
  t.ok(not has(repl.complete("cfg:"), "cfg:params"), "':' offers only methods")
  local base = { inherited = 1 }
  child = setmetatable({ own = 2 }, { __index = base })
  t.ok(has(repl.complete("child.inh"), "child.inherited"))
  local s = "abc"
  -- A string: its methods after ':', and no fields after '.'.
  word = "abc"
  t.ok(has(repl.complete("word:up"), "word:upper"))
  t.eq(#repl.complete("word."), 0)
  t.eq(#repl.complete("fit.published.chinchilla.name."), 0)
  t.ok(#repl.complete("nosuchthing.x") == 0)
  t.ok(#repl.complete("cfg.nosuchfield.") == 0, "a failing index completes to nothing")
end)

t.test("completion after ':' offers callable tables (__call) as methods, and still no other fields", function()
  local function has(list, word)
    for _, w in ipairs(list) do if w == word then return true end end
    return false
  end
  holder = setmetatable({}, { __index = { run = setmetatable({}, { __call = function() return 7 end }), data = {} } })
  t.ok(has(repl.complete("holder:r"), "holder:run"), "a callable table is offered after ':'")
  t.ok(has(repl.complete("holder:"), "holder:run"))
  t.ok(not has(repl.complete("holder:"), "holder:data"), "a table without __call is not")
  t.ok(has(repl.complete("holder."), "holder.data"))
  holder = nil
end)

t.test("completion inside a string or a comment offers nothing, and after one closes it completes again", function()
  local function has(list, word)
    for _, w in ipairs(list) do if w == word then return true end end
    return false
  end
  t.ok(has(repl.complete("string.fo", "x = "), "string.format"))
  for _, before in ipairs {
    'x = "', "x = '", 'print("a" .. "', 'x = "say \\"', 'x = "line \\\n', "x = [[", "x = [==[a]]\n",
    "-- ", "f() --[[ note\n", "x = 1 --", 't["',
  } do
    t.eq(#repl.complete("string.fo", before), 0, "inside: " .. before)
  end
  for _, before in ipairs {
    'x = "a" .. ', "x = 'it''s' .. ", 'x = "\\\\" .. ', "x = [[a]] .. ", "x = [==[a]]b]==] .. ",
    "-- note\n", "--[[ a\nb ]] ", "x = a - ", "t[", "x = 'unclosed\n",
  } do
    t.ok(has(repl.complete("string.fo", before), "string.format"), "outside: " .. before)
  end
end)

-- repl.show prints through the global print, as lua.c does; a line that set print = nil made every
-- value shown fail ("attempt to call a nil value (global 'print')", the REPL's frames in its traceback).
t.test("repl.show writes to standard output where print cannot be called, and through print where it can", function()
  local saved_print, saved_write = print, io.write
  local written, printed = {}, {}
  io.write = function(...) for _, s in ipairs({ ... }) do written[#written + 1] = s end end
  print = nil
  local ok, message = pcall(repl.show, 1, { a = 2 })
  print = function(...) printed[#printed + 1] = table.concat({ ... }, "\t") end
  local ok2, message2 = pcall(repl.show, "shown")
  print, io.write = saved_print, saved_write
  t.ok(ok, tostring(message))
  t.eq(table.concat(written), "1\t{a = 2}\n")
  t.ok(ok2, tostring(message2))
  t.eq(printed[1], "shown")
end)

t.test("help lists every documented function with its whole signature", function()
  -- The listing wraps long entries onto indented lines: read them joined.
  local listing = t.help_text(data):gsub("\n  +", " ")
  -- data.sampler's signature spans two lines of its documentation; the listing joins them.
  t.ok(listing:find("[, order_seed = seed] [, validation = 0.01] } -> Sampler", 1, true), listing)
  -- A first sentence broken after "where" is not cut there.
  t.ok(t.help_text(plot):find("where _x is a subscript", 1, true))
end)

t.test("pretty: arrays of short values fill lines; strings are escaped on one line", function()
  local big = {}
  for i = 1, 200 do big[i] = i end
  local text = pretty(big)
  t.ok(text:find("\n  1, 2, 3, 4, 5, 6, 7, 8, 9, 10,", 1, true), text)
  t.ok(select(2, text:gsub("\n", "")) <= 4, "a few lines, not one per number: " .. text)
  t.ok(text:find("...(170 more)", 1, true))
  t.eq(pretty({ s = "a\nb\t\"q\"\\" }), '{s = "a\\nb\\t\\"q\\"\\\\"}')
  t.eq(pretty({ "\1" }), '{"\\001"}')
  t.eq(pretty("top\nlevel"), "top\nlevel", "a value itself prints as print would")
  -- A record still breaks one field per line, its short arrays on one line each.
  local wide = { alpha = { 1, 2, 3 } }
  for i = 1, 12 do wide["key" .. i] = string.rep("x", 10) end
  t.ok(pretty(wide):find("\n  alpha = {1, 2, 3},\n", 1, true), pretty(wide))
end)

t.test("pretty: a bare string keeps its lines and text but shows what a terminal would act on as escapes", function()
  t.eq(pretty("line 1\n\tline 2 \u{e9}\u{2192}"), "line 1\n\tline 2 \u{e9}\u{2192}", "line breaks, tabs, UTF-8 as they are")
  -- ANSI sequences (colour, clear screen, cursor moves), a carriage return, backspace, bell, NUL.
  t.eq(pretty("\27[31mred\27[0m \27[2J"), "\\027[31mred\\027[0m \\027[2J")
  t.eq(pretty("done 50%\rdone 100%\r\n"), "done 50%\\rdone 100%\\r\n")
  t.eq(pretty("a\bb\ac\0d\127"), "a\\bb\\ac\\000d\\127")
  -- C1 controls (U+009B is ESC [ to some terminals) and bytes outside UTF-8, as in a table's literals.
  t.eq(pretty("x\u{9B}31m"), "x\\u{9B}31m")
  t.eq(pretty({ "x\u{9B}31m" }), '{"x\\u{9B}31m"}')
  t.eq(load("return " .. pretty({ "x\u{9B}\u{85}y" }))()[1], "x\u{9B}\u{85}y", "the literal reads back as the string")
  t.eq(pretty("bad \255 byte"), "bad \\255 byte")
  -- The REPL shows a typed string so.
  local lines = {}
  local saved = print
  print = function(...) lines[#lines + 1] = table.concat({ ... }, "\t") end
  local ok, message = pcall(repl.show, "\27]0;title\7", "plain")
  print = saved
  assert(ok, message)
  t.eq(lines[1], "\\027]0;title\\a\tplain")
end)

t.test("pretty names the library's functions as users call them, and the user's by where they are defined", function()
  -- data.lua's functions share one Lua wrapper: each printed as that wrapper's file and line.
  t.eq(pretty(data.sampler), "function: data.sampler")
  t.eq(pretty(data.bpe), "function: data.bpe")
  local listing = pretty(data)
  t.ok(listing:find("sampler = function: data.sampler,", 1, true), listing)
  t.ok(listing:find("tokens_bin = function: data.tokens_bin", 1, true), listing)
  t.ok(not listing:find("data.lua", 1, true), listing)
  -- Built-in ones printed as "builtin": their names now, the library's and the standard library's.
  t.eq(pretty(train.run), "function: train.run")
  t.eq(pretty(model.gpt), "function: model.gpt")
  t.eq(pretty({ f = string.format }), "{f = function: string.format}")
  t.eq(pretty(print), "function: print")
  t.eq(pretty(plot.formats.count), "function: plot.formats.count")
  -- Methods, of bound classes and of the library's Lua classes.
  local corpus = data.synthetic{ kind = "markov", vocab = 8, order = 1, seed = 1, tokens = 1e4, document_tokens = 100 }
  local sampler = data.sampler{ corpus = corpus, tokens = 1000, seq_len = 8, batch = 2 }
  t.eq(pretty(sampler.next_batch), "function: Sampler:next_batch")
  t.eq(pretty(study.Study.observations), "function: Study:observations")
  -- One of the library's without a name, called through a C function: where the library defines it.
  t.ok(pretty(study "x"):find("^function: .*study%.lua:%d+$"), pretty(study "x"))
  -- The user's own functions keep their file and line, even when a module of the library holds one.
  local mine = function() end
  t.ok(pretty(mine):find("^function: .*test_repl_library%.lua:%d+$"), pretty(mine))
  data.my_helper = mine
  t.ok(pretty(data.my_helper):find("test_repl_library%.lua:%d+$"), pretty(data.my_helper))
  data.my_helper = nil
  -- The REPL shows a typed function so.
  local lines = {}
  local saved = print
  print = function(...) lines[#lines + 1] = table.concat({ ... }, "\t") end
  local ok, message = pcall(repl.show, data.files)
  print = saved
  assert(ok, message)
  t.eq(lines[1], "function: data.files")
end)

t.test("pretty: a value whose __tostring, __pairs or __len raises prints a short placeholder", function()
  local law = setmetatable({}, { __name = "Law", __tostring = function() error("no summary today") end })
  t.eq(pretty(law), "<Law: __tostring failed: no summary today>")
  t.eq(pretty({ law = law, n = 1 }), "{law = <Law: __tostring failed: no summary today>, n = 1}")
  t.eq(pretty({ [law] = 1 }), "{[<Law: __tostring failed: no summary today>] = 1}")
  local proxy = setmetatable({}, { __pairs = function() error("cannot list the fields") end })
  t.eq(pretty(proxy), "<table: __pairs failed: cannot list the fields>")
  t.eq(pretty({ p = proxy }), "{p = <table: __pairs failed: cannot list the fields>}")
  local sized = setmetatable({ 1 }, { __name = "Sized", __len = function() error("no length") end })
  t.eq(pretty(sized), "<Sized: __len failed: no length>")
  -- A long message keeps its first line, cut short.
  local long = setmetatable({}, { __tostring = function() error(string.rep("x", 200) .. "\nsecond line", 0) end })
  local text = pretty(long)
  t.ok(#text < 120 and not text:find("second line", 1, true), text)
  -- What the REPL prints for a typed value: the placeholder, no error through repl.show.
  local lines = {}
  local saved = print
  print = function(...) lines[#lines + 1] = table.concat({ ... }, "\t") end
  local ok, message = pcall(repl.show, law, proxy)
  print = saved
  assert(ok, message)
  t.eq(lines[1], "<Law: __tostring failed: no summary today>\t<table: __pairs failed: cannot list the fields>")
end)

t.test("pretty: objects with multi-line summaries in a table (fit.published) indent under their key", function()
  local text = pretty(fit.published)
  t.ok(text:find("\n  chinchilla = chinchilla (published): ", 1, true), text)
  t.ok(text:find("\n    E     = 1.69\n", 1, true), "continuation lines under the key, no trailing blanks: " .. text)
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  t.eq(lines[1], "{")
  t.eq(lines[#lines], "}")
  for i = 2, #lines - 1 do
    local line = lines[i]
    t.ok(line:find("^  "), "indented inside the braces: " .. line)
    t.ok(not line:find(",$"), "no comma after a summary's lines: " .. line)
    t.ok(not line:find("%s$"), "no trailing blanks: " .. line)
    -- A key's line, or a summary's line under it.
    t.ok(line:find("^  [%a_][%w_]* = ") or line:find("^    "), "a key or a line under one: " .. line)
  end
  -- Typed alone, a law prints its summary as it is: no line of it ends in blanks (the values of a
  -- published law were padded to 10 columns for an interval that never follows them).
  for _, name in ipairs { "chinchilla", "kaplan", "datablations" } do
    for line in (pretty(fit.published[name]) .. "\n"):gmatch("([^\n]*)\n") do
      t.ok(not line:find("%s$"), "fit.published." .. name .. ": a line ends in blanks: '" .. line .. "'")
    end
  end
  local rows = {}
  for _, N in ipairs { 1e7, 3e7, 1e8, 3e8, 1e9 } do
    for _, D in ipairs { 1e9, 3e9, 1e10, 3e10, 1e11 } do
      rows[#rows + 1] = { N = N, D = D, loss = fit.published.chinchilla:predict { N = N, D = D } * (1 + 0.003 * math.sin(N + D)) }
    end
  end
  local fitted = pretty(fit.chinchilla(rows, { threads = 1 }))
  for line in (fitted .. "\n"):gmatch("([^\n]*)\n") do t.ok(not line:find("%s$"), "a fitted law's line ends in blanks: '" .. line .. "'") end
  -- What follows a value stays aligned: the standard errors start in one column.
  local columns = {}
  for line in fitted:gmatch("[^\n]+") do
    if line:find("^  [%a_]+ += %S+ +se ") then columns[#columns + 1] = line:find(" se ", 1, true) end
  end
  t.eq(#columns, 5, fitted)
  for i = 2, #columns do t.eq(columns[i], columns[1], fitted) end
  -- Plain nested tables keep their own layout and commas.
  local wide = { nested = {} }
  for i = 1, 12 do wide.nested["k" .. i] = string.rep("y", 10) end
  wide.after = 1
  t.eq(pretty(wide):match("^{\n  after = 1,\n  nested = {\n    k1 = \"yyyyyyyyyy\",\n"), "{\n  after = 1,\n  nested = {\n    k1 = \"yyyyyyyyyy\",\n")
  t.ok(pretty(wide):find("\n    k9 = \"yyyyyyyyyy\"\n  }\n}$"), pretty(wide))
end)

t.test("pretty shows a large array's first entries without a copy of the whole array", function()
  -- Every key and value went into two tables first: 512 MB to show 30 numbers of a table of 1e7,
  -- and a table of 1e8 could end the session out of memory.
  local big = {}
  for i = 1, 1000000 do big[i] = i end
  big.label = "tokens"
  collectgarbage()
  collectgarbage("stop")
  local before = collectgarbage("count")
  local shown = pretty(big)
  local used = (collectgarbage("count") - before) / 1024
  collectgarbage("restart")
  t.ok(used < 4, string.format("MB allocated to show it: %.1f", used))
  t.ok(shown:find("^{\n  1,\n  2,\n"), shown)
  t.ok(shown:find("\n  30,\n  ...(999971 more)\n}", 1, true), shown)
  t.ok(pretty(big, { length = 1000001 }):find("\n  label = \"tokens\"\n}$"), "its other keys after the array")
  t.eq(pretty({ big }, { depth = 1 }), "{{...1000001 items}}")
  t.eq(pretty(big, { depth = 0 }), "{...1000001 items}")
end)

t.test("pretty shows a large table's first entries without reading or sorting all of it", function()
  -- A proxy whose __len says a million: each index up to it was read, to show 30.
  local reads = 0
  local proxy = setmetatable({}, { __len = function() return 1000000 end,
                                   __index = function(_, i) reads = reads + 1 return i end })
  local shown_proxy = pretty(proxy)
  t.ok(reads <= 30, "indices read: " .. reads)
  t.ok(shown_proxy:find("^{\n  1, 2, 3,"), shown_proxy)
  t.ok(shown_proxy:find("...(999970 more)", 1, true), shown_proxy)
  -- Many keys: the first 30 in order, as a full sort gives them, for a few comparisons per key
  -- (each comparison of these keys writes both as text) rather than a full sort's ~2·log2(n).
  local texts = 0
  local key_meta = { __tostring = function(k) texts = texts + 1 return k.name end }
  local many, names = {}, {}
  for i = 1, 4000 do
    local name = string.format("key%07d", (i * 7919) % 4000)
    many[setmetatable({ name = name }, key_meta)] = i
    names[#names + 1] = name
  end
  table.sort(names)
  texts = 0
  local text = pretty(many)
  t.ok(texts < 4 * 4000 * 2, "keys written as text: " .. texts)
  local shown = {}
  for name in text:gmatch("%[(key%d+)%]") do shown[#shown + 1] = name end
  t.eq(#shown, 30)
  for i = 1, 30 do t.eq(shown[i], names[i]) end
  t.ok(text:find("...(3970 more)", 1, true), text)
end)

local help_text = t.help_text

t.test("help(): one short line per module", function()
  local text = help_text()
  for line in text:gmatch("[^\n]+") do t.ok(#line <= 110, "a long line: " .. line) end
  t.ok(text:find("\n  fit  +scaling laws fitted to runs"), text)
  t.ok(text:find("\n  plot  +the standard scaling%-law figures"), text)
end)

t.test("help typed alone says how to call it, instead of a function's address", function()
  t.eq(tostring(help), "help() lists the modules; help(x) documents a module, function or object: help(plot), "
    .. "help(fit.chinchilla)")
  t.ok(pretty(help):find("help() lists the modules", 1, true), pretty(help))
  t.ok(help_text(fit.chinchilla):find("fit.chinchilla(obs", 1, true))
end)

t.test("help wraps a listing's entries rather than cutting them, and keeps parentheses whole", function()
  local text = help_text(study)
  t.ok(text:find("(shape, tokens rounded to whole steps, epochs, hyperparameters, identity", 1, true) or
       text:find("(shape, tokens rounded to whole steps, epochs, hyperparameters,", 1, true), text)
  t.ok(text:find("are s.runs).", 1, true), text)
  for line in text:gmatch("[^\n]+") do
    if line:find("^  %S") then t.ok(#line <= 100, "a long listing line: " .. line) end
  end
  t.ok(not text:find("\n%s+=", 1), "no line starts with '='")
end)

t.test("help(nil) says so; help('name') documents that module or value", function()
  t.ok(help_text(nil):find("help: no value (nil) given", 1, true))
  t.ok(help_text(rawget(_G, "nosuchthing")):find("help() lists the modules", 1, true))
  t.eq(help_text("plot"), help_text(plot))
  t.eq(help_text("fit.chinchilla"), help_text(fit.chinchilla))
  t.ok(help_text("plott"):find("no module or global named 'plott'; did you mean 'plot'?", 1, true), help_text("plott"))
  -- A mistyped function of a module: the name meant among the module's.
  t.eq(help_text("train.rnu"), "help: train has no 'rnu'; did you mean 'train.run'?; help(train) lists what it has")
  t.eq(help_text("fit.zzzzzzzz"), "help: fit has no 'zzzzzzzz'; help(fit) lists what it has")
  t.ok(help_text():find("Modules:", 1, true), "help() alone still lists the modules")
end)

t.test("every global function scalelab adds is documented: help(pretty) says how to see a whole table", function()
  -- help(pretty) said "(no documentation; defined at .../pretty.lua:228)".
  local lua_globals = {}
  for name in ([[assert collectgarbage dofile error getmetatable ipairs load loadfile next pairs pcall print
    rawequal rawget rawlen rawset require select setmetatable tonumber tostring type warn xpcall]]):gmatch("%S+") do
    lua_globals[name] = true
  end
  local checked = 0
  for name, value in pairs(_G) do
    if type(value) == "function" and not lua_globals[name] then
      local text = help_text(value)
      t.ok(not text:find("no documentation", 1, true), name .. ": " .. text)
      checked = checked + 1
    end
  end
  t.ok(checked >= 2, "doc and pretty at least")
  t.ok(help_text(pretty):find("length = math.huge", 1, true), help_text(pretty))
end)

t.test("checks.printable escapes C1 controls and bytes outside UTF-8 as it does C0 controls, and keeps UTF-8 text", function()
  -- A name in a message or a listing (a study's, a store's file name) held U+009B or a raw 0x9B,
  -- which terminals that take 8-bit controls act on as ESC [: it could still move the cursor.
  local printable = require("scalelab.study.checks").printable
  t.eq(printable("a\nb\r\t\27[31m\127"), "a\\nb\\r\\t\\x1b[31m\\x7f")
  t.eq(printable("x\194\155" .. "2J"), "x\\u{9B}2J")          -- U+009B, CSI, as UTF-8
  t.eq(printable("\194\128\194\159"), "\\u{80}\\u{9F}")      -- the C1 range's ends
  t.eq(printable("x\155" .. "2J"), "x\\x9b2J")                 -- a raw 0x9B
  t.eq(printable("\128\159\255\192\128"), "\\x80\\x9f\\xff\\xc0\\x80")  -- stray bytes, an overlong NUL
  t.eq(printable("\226\130"), "\\xe2\\x82")                   -- a character cut short
  -- Text stays text: accents, the middle dot, CJK, a no-break space (U+00A0, just past C1), emoji.
  local text = "\195\169t\195\169 \194\183 \229\144\141 \194\160 \240\159\152\128"
  t.eq(printable(text), text)
  t.eq(printable(42), "42")
  -- As a store's message shows a study name given: escaped, not as it was.
  local path = os.tmpname()
  os.remove(path)
  local s = store.open(path .. ".db")
  local ok, message = pcall(s.check_study, s, "x\194\155" .. "2J\155")
  s:close()
  os.remove(path .. ".db")
  t.eq(ok, false)
  t.ok(message:find("no study 'x\\u{9B}2J\\x9b' in ", 1, true), message)
end)

t.done()
