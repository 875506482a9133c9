-- The plot module: figure API, gnuplot output files, the standard figures on synthetic runs and
-- fake laws shaped like the fit module's, and the missing-gnuplot error.
local t = require "scalelab.test"
local fx = dofile(os.getenv("SCALELAB_TEST_DATA") .. "/plot_fixtures.lua")
-- The figures' machinery, kept out of their methods (f: offers only what users call).
local F = require "scalelab.plot.figure"

local have_gnuplot = plot.available()
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function need_gnuplot()
  if not have_gnuplot then t.skip("gnuplot is not installed (setup.sh installs gnuplot-nox)") end
end

-- A small XML well-formedness check: balanced and properly nested tags, quoted attributes, entities.
local function well_formed(text)
  local body = text:gsub("<!%-%-.-%-%->", ""):gsub("<!%[CDATA%[.-%]%]>", ""):gsub("<%?.-%?>", "")
      :gsub("<!DOCTYPE[^>]*>", "")
  local stack = {}
  local position = 1
  local root_seen = false
  while true do
    local s, e, close, name, attributes, self_closing = body:find("<(/?)([%w:_%-%.]+)(.-)(/?)>", position)
    local between = body:sub(position, (s or #body + 1) - 1)
    if between:find("<", 1, true) then return false, "stray '<' near " .. between:sub(1, 60) end
    for entity in between:gmatch("&([^;%s]*);?") do
      if not (entity:match("^#%d+$") or entity:match("^#x%x+$") or entity:match("^%a+$")) then
        return false, "bad entity &" .. entity
      end
    end
    if not s then break end
    if close == "/" then
      local top = table.remove(stack)
      if top ~= name then return false, string.format("</%s> closes <%s>", name, tostring(top)) end
    else
      local rest = attributes:gsub('%s*[%w:_%-]+%s*=%s*"[^"]*"', ""):gsub("%s*[%w:_%-]+%s*=%s*'[^']*'", "")
      if rest:find("%S") then return false, "malformed attributes in <" .. name .. attributes .. ">" end
      if self_closing ~= "/" then
        if #stack == 0 and root_seen then return false, "a second root element <" .. name .. ">" end
        root_seen = true
        stack[#stack + 1] = name
      end
    end
    position = e + 1
  end
  if #stack > 0 then return false, "unclosed <" .. stack[#stack] .. ">" end
  return root_seen, "no root element"
end

-- The distinct plot elements gnuplot drew (each curve, point set, band or legend entry).
local function curves(svg)
  local ids = {}
  local n = 0
  for id in svg:gmatch('<g id="gnuplot_plot_(%d+%a*)"') do
    if not ids[id] then ids[id] = true; n = n + 1 end
  end
  return n
end

local function plot_count(svg) -- how many separate plots (panels)
  local n = 0
  local seen = {}
  for panel in svg:gmatch('<g id="gnuplot_plot_1(%a*)"') do
    if not seen[panel] then seen[panel] = true; n = n + 1 end
  end
  return n
end

local function range_of(script, axis)
  local lo, hi = script:match("set " .. axis .. "range %[([^:]+):([^%]]+)%]")
  return tonumber(lo), tonumber(hi)
end

t.test("plot.formats given a value that is not a number name the function, what to give and the caller's line", function()
  -- They failed inside the library: "figure.lua:146: bad argument #1 to 'format_count' (number expected, got
  -- string)", "attempt to perform arithmetic on a nil value (local 'v')"; percent("0.5") labelled a string.
  for _, name in ipairs({ "count", "flops", "power", "number", "percent" }) do
    local line = debug.getinfo(1, "l").currentline + 1
    local message = t.raises(function() return plot.formats[name]("x") end,
      "plot.formats." .. name .. "(v): v must be a number, the value to label, such as ")
    t.ok(message:find('(got the string "x")', 1, true), message)
    t.ok(message:find("test_plot.lua:" .. line .. ":", 1, true), "located at the user's line " .. line .. ": " .. message)
    t.raises(function() return plot.formats[name]() end, "plot.formats." .. name .. "(v): v must be a number")
    t.raises(function() return plot.formats[name]({}) end, "(got a table)")
    t.raises(function() return plot.formats[name]("0.5") end, '(got the string "0.5": write the number without quotes)')
  end
  -- Numbers are labelled as before.
  t.eq(plot.formats.count(7.02e9), "7.02B")
  t.eq(plot.formats.flops(1e21), "10^{21}")
  t.eq(plot.formats.power(1e21), "10^{21}")
  t.eq(plot.formats.number(0.25), "0.25")
  t.eq(plot.formats.percent(0.25), "25%")
end)

t.test("plot.formats label a value that is not finite nan, inf or -inf, as count does", function()
  -- power said "-nan×10^{nan}" for NaN and "-nan×10^{inf}" for infinity; number and percent "-nan".
  local nan = 0 / 0
  for _, name in ipairs({ "count", "flops", "power", "number", "percent" }) do
    t.eq(plot.formats[name](nan), "nan", name)
    t.eq(plot.formats[name](-nan), "nan", name)
    t.eq(plot.formats[name](math.huge), "inf", name)
    t.eq(plot.formats[name](-math.huge), "-inf", name)
  end
end)

t.test("plot.formats label negatives as their positives with a sign, and zero, rounding and tiny values consistently", function()
  -- power(-1e21) was "-1×10^{21}" where power(1e21) is "10^{21}"; 9.996e21 "10×10^{21}" (the mantissa
  -- rounded after the exponent was taken); 1.004e21 "1×10^{21}"; a subnormal "inf×10^{-324}" (10^-324 is
  -- 0 in a double); percent(-1e-9) "-0%", percent(1e21) "99999999999999991611392%", percent(1e308) "inf%";
  -- number(-0.0) and count(-0.0) "-0". Expected labels checked with Python's
  -- "%.2e" (power, flops) and "%.3e" (number) of each value.
  for _, name in ipairs({ "power", "flops" }) do
    local f = plot.formats[name]
    for _, c in ipairs {
      { 1e21, "10^{21}" }, { -1e21, "-10^{21}" }, { 3.16e21, "3.16×10^{21}" }, { -3.16e21, "-3.16×10^{21}" },
      { 9.996e21, "10^{22}" }, { -9.996e21, "-10^{22}" }, { 1.004e21, "10^{21}" }, { 2.5e-7, "2.5×10^{-7}" },
      { -2.5e-7, "-2.5×10^{-7}" }, { 1e-300, "10^{-300}" }, { 5e-324, "4.94×10^{-324}" }, { -5e-324, "-4.94×10^{-324}" },
      { 1e308, "10^{308}" }, { 0, "0" }, { -0.0, "0" }, { 0.5, "0.5" }, { -0.5, "-0.5" }, { 0.0123, "0.0123" },
      { -0.0123, "-0.0123" }, { 1234.5, "1234.5" }, { -1234.5, "-1234.5" }, { 1, "10^{0}" }, { -1, "-10^{0}" },
      { 100, "10^{2}" }, { -100, "-10^{2}" },
    } do
      t.eq(f(c[1]), c[2], name .. "(" .. string.format("%.17g", c[1]) .. ")")
    end
  end
  local number = plot.formats.number
  for _, c in ipairs {
    { 0.25, "0.25" }, { -0.25, "-0.25" }, { 0, "0" }, { -0.0, "0" }, { 12345678, "1.235×10^{7}" },
    { -12345678, "-1.235×10^{7}" }, { 1e21, "10^{21}" }, { -1e21, "-10^{21}" }, { 99999999, "10^{8}" },
    { -1e-9, "-10^{-9}" }, { 1.5e-5, "1.5×10^{-5}" }, { 5e-324, "4.941×10^{-324}" }, { 1234.5, "1234" },
  } do
    t.eq(number(c[1]), c[2], "number(" .. string.format("%.17g", c[1]) .. ")")
  end
  local percent = plot.formats.percent
  for _, c in ipairs {
    { 0.25, "25%" }, { -0.25, "-25%" }, { 0, "0%" }, { -0.0, "0%" }, { 1e-9, "0%" }, { -1e-9, "0%" }, { -0.00004, "0%" },
    { -0.00006, "-0.01%" }, { 1.5, "150%" }, { 99.99, "9999%" }, { 12345, "1.23×10^{6}%" }, { 1e21, "10^{23}%" },
    { -1e21, "-10^{23}%" }, { 1e308, "10^{310}%" },
  } do
    t.eq(percent(c[1]), c[2], "percent(" .. string.format("%.17g", c[1]) .. ")")
  end
  -- count: the negative of a count is the count with a sign.
  for _, v in ipairs { 7.02e9, 1.5e3, 1e21, 0.5 } do
    t.eq(plot.formats.count(-v), "-" .. plot.formats.count(v), "count(-" .. v .. ")")
  end
  t.eq(plot.formats.count(0), "0")
  t.eq(plot.formats.count(-0.0), "0")
end)

t.test("ticks: decades on log axes in the field's units", function()
  local ticks = plot.ticks(1e17, 1e20, true, "flops")
  local labels = {}
  for _, tick in ipairs(ticks) do if not tick[3] then labels[#labels + 1] = tick[2] end end
  t.eq(table.concat(labels, " "), "10^{17} 10^{18} 10^{19} 10^{20}")
  labels = {}
  for _, tick in ipairs(plot.ticks(3e6, 2e9, true, "count")) do if not tick[3] then labels[#labels + 1] = tick[2] end end
  t.eq(table.concat(labels, " "), "10M 100M 1B")
  -- A narrow log range (a loss axis) gets readable mantissa ticks, not one decade.
  labels = {}
  for _, tick in ipairs(plot.ticks(2.3, 4.6, true)) do labels[#labels + 1] = tick[2] end
  t.eq(table.concat(labels, " "), "2.5 3 3.5 4 4.5")
  -- Twelve decades: every other decade labelled.
  local n = 0
  for _, tick in ipairs(plot.ticks(1e10, 1e22, true, "flops")) do if not tick[3] then n = n + 1 end end
  t.ok(n >= 5 and n <= 8, "labelled decades: " .. n)
  labels = {}
  for _, tick in ipairs(plot.ticks(-0.004, 0.006, false, "percent")) do labels[#labels + 1] = tick[2] end
  t.eq(table.concat(labels, " "), "-0.4% -0.2% 0% 0.2% 0.4% 0.6%")
end)

-- Values a few ulps apart (a study whose losses are all capped at ln 256) once gave an axis a range
-- no tick step could advance through: v + step == v, and the tick loop appended ticks until memory
-- ran out. These tests hang (or fail) without the minimum span in widen and the tick loop's guard.
local function next_up(x) -- the next float above a positive x
  return (string.unpack("<d", string.pack("<i8", string.unpack("<i8", string.pack("<d", x)) + 1)))
end

-- The labels of an axis's ticks in a figure's script.
local function tic_labels(script, axis)
  local tics = script:match("set " .. axis .. "tics %(([^)]*)%)")
  local labels = {}
  for label in (tics or ""):gmatch("'([^']*)'") do labels[#labels + 1] = label end
  return labels
end

local function check_ticks(ticks, lo, hi, what)
  t.ok(#ticks >= 1 and #ticks <= 100, what .. ": a bounded number of ticks (" .. #ticks .. ")")
  for _, tick in ipairs(ticks) do
    t.ok(tick[1] >= lo and tick[1] <= hi, what .. ": tick " .. string.format("%.17g", tick[1]) .. " in the range")
  end
end

t.test("ticks: a range one ulp wide ends with a bounded number of ticks", function()
  local lo, hi = 5.5451774444795614, 5.5451774444795623  -- ln 256 and the float above it
  t.eq(next_up(lo), hi)
  check_ticks(plot.ticks(lo, hi, false), lo, hi, "ln 256, 1 ulp")
  check_ticks(plot.ticks(1.0, next_up(1.0), false), 1.0, next_up(1.0), "1, 1 ulp")
  check_ticks(plot.ticks(1e12, next_up(1e12), false), 1e12, next_up(1e12), "1e12, 1 ulp")
  check_ticks(plot.ticks(-next_up(2.0), -2.0, false), -next_up(2.0), -2.0, "-2, 1 ulp")
  -- A figure of such values: its range padded like a single value's, its ticks distinct.
  local f = plot.figure {}
  f:points { x = { 1, 2 }, y = { 1.0, next_up(1.0) } }
  local r = F.ranges(f)
  t.ok(r.y[1] <= 0.95 and r.y[2] >= 1.05, string.format("y range padded: {%.17g, %.17g}", r.y[1], r.y[2]))
  local labels = tic_labels(F.script(f), "y")
  t.ok(#labels >= 3, "y tick labels: " .. table.concat(labels, " "))
  for i = 2, #labels do t.ok(labels[i] ~= labels[i - 1], "distinct y tick labels: " .. table.concat(labels, " ")) end
end)

t.test("ticks: a range of one value gets one tick at it", function()
  for _, v in ipairs({ 0, 1, -3.5, 5.5451774444795614, 1e12 }) do
    local ticks = plot.ticks(v, v, false)
    t.eq(#ticks, 1, "one tick at " .. v)
    t.eq(ticks[1][1], v)
  end
  t.eq(plot.ticks(1, 1, false)[1][2], "1")
  -- A figure whose values are all equal, on both axes: padded as before.
  local f = plot.figure {}
  f:points { x = { 3, 3 }, y = { 2, 2 } }
  local r = F.ranges(f)
  t.near(r.x[1], 2.7, 1e-12)
  t.near(r.x[2], 3.3, 1e-12)
  t.near(r.y[1], 1.8, 1e-12)
  t.near(r.y[2], 2.2, 1e-12)
end)

t.test("ticks: a tiny relative span at a large magnitude is padded like a single value", function()
  local lo, hi = 1e12, 1e12 * (1 + 1e-15)
  t.ok(hi > lo, "the values differ")
  check_ticks(plot.ticks(lo, hi, false), lo, hi, "1e12 (1 + 1e-15)")
  local f = plot.figure {}
  f:points { x = { 1, 2 }, y = { lo, hi } }
  local r = F.ranges(f)
  t.ok(r.y[1] <= 0.95e12 and r.y[2] >= 1.05e12, string.format("y range padded: {%.17g, %.17g}", r.y[1], r.y[2]))
  local labels = tic_labels(F.script(f), "y")
  t.ok(#labels >= 3, "y tick labels: " .. table.concat(labels, " "))
  for i = 2, #labels do t.ok(labels[i] ~= labels[i - 1], "distinct y tick labels: " .. table.concat(labels, " ")) end
  -- The colour scale too: z values a few ulps apart get a padded scale with distinct labels.
  local g = plot.figure { colorbar = { label = "loss" } }
  g:points { x = { 1, 2 }, y = { 1, 2 }, z = { 5.5451774444795614, 5.5451774444795623 } }
  local cb = F.ranges(g).cb
  t.ok(cb[1] <= 5.3 and cb[2] >= 5.8, string.format("colour scale padded: {%.17g, %.17g}", cb[1], cb[2]))
  labels = tic_labels(F.script(g), "cb")
  t.ok(#labels >= 3, "colour-scale tick labels: " .. table.concat(labels, " "))
end)

t.test("ticks: a log axis one ulp wide, or of one value, ends; log bounds must be positive", function()
  local lo, hi = 5.5451774444795614, 5.5451774444795623
  check_ticks(plot.ticks(lo, hi, true), lo, hi, "log, ln 256, 1 ulp")
  check_ticks(plot.ticks(1e12, next_up(1e12), true), 1e12, next_up(1e12), "log, 1e12, 1 ulp")
  check_ticks(plot.ticks(1e12, 1e12 * (1 + 1e-15), true), 1e12, 1e12 * (1 + 1e-15), "log, 1e12 (1 + 1e-15)")
  local ticks = plot.ticks(2, 2, true)
  t.eq(#ticks, 1)
  t.eq(ticks[1][1], 2)
  local f = plot.figure { ylog = true }
  f:points { x = { 1, 2 }, y = { lo, hi } }
  local r = F.ranges(f)
  t.ok(r.y[1] <= lo / 1.5 and r.y[2] >= hi * 1.5, string.format("log y range padded: {%.17g, %.17g}", r.y[1], r.y[2]))
  local labels = tic_labels(F.script(f), "y")
  t.ok(#labels >= 3, "log y tick labels: " .. table.concat(labels, " "))
  -- log10(0) and log10(inf) would make the decade loops endless: an error instead.
  t.raises(function() plot.ticks(0, 10, true) end, "a log axis needs positive finite bounds")
  t.raises(function() plot.ticks(1, math.huge, true) end, "a log axis needs positive finite bounds")
end)

t.test("figure: help documents its methods; Tab on f: offers only them", function()
  local f = plot.figure { title = "T" }
  f:points { x = { 1, 2 }, y = { 3, 4 } }
  local text = t.help_text(f)
  t.ok(not text:find("no documentation", 1, true), text)
  for _, name in ipairs({ "points", "line", "band", "errorbars", "text", "vline", "hline", "save", "show" }) do
    t.ok(text:find("\n  :" .. name .. " ", 1, true), "help(f) lists :" .. name .. "\n" .. text)
  end
  _G.f = f
  local offered = table.concat(require("scalelab.repl").complete("f:"), " ")
  _G.f = nil
  for _, internal in ipairs({ "body", "data_blocks", "ranges", "script" }) do
    t.ok(not offered:find("f:" .. internal, 1, true), "f: offers " .. internal .. ": " .. offered)
  end
  t.ok(offered:find("f:save", 1, true), offered)
  local p = plot.panels { f }
  _G.p = p
  offered = table.concat(require("scalelab.repl").complete("p:"), " ")
  _G.p = nil
  t.eq(offered, "p:save p:show")
  -- One series of each kind is counted in the singular.
  t.eq(tostring(f), "figure 'T': 1 series (1 set of points)")
  f:line { x = { 1, 2 }, y = { 3, 4 } }
  f:line { x = { 1, 2 }, y = { 3, 4 } }
  t.eq(tostring(f), "figure 'T': 3 series (1 set of points, 2 lines)")
end)

t.test("figures and panels with no series say they are empty, and panels how many figures they are", function()
  -- plot.panels{ plot.figure{}, plot.figure{} } printed "panels: 0 series ()".
  t.eq(tostring(plot.panels { plot.figure {}, plot.figure {} }), "panels: 2 empty figures (no series)")
  t.eq(tostring(plot.figure { title = "T" }), "figure 'T': empty (no series)")
  local f = plot.figure {}
  f:line { x = { 1, 2 }, y = { 3, 4 } }
  t.eq(tostring(plot.panels { f, plot.figure {}, title = "P" }), "panels 'P': 2 figures (1 empty), 1 series (1 line)")
  t.eq(tostring(plot.panels { f }), "panels: 1 figure, 1 series (1 line)")
end)

t.test("figure: ranges, validation and the script, without running gnuplot", function()
  local f = plot.figure { xlog = true, ylog = true, xformat = "flops", title = "T" }
  f:points { x = { 1e18, 1e20 }, y = { 3, 2.5 }, label = "runs" }
  local r = F.ranges(f)
  t.ok(r.x[1] < 1e18 and r.x[1] > 5e17 and r.x[2] > 1e20 and r.x[2] < 2e20, "x range padded in log space")
  t.eq(r.cb, nil)
  t.raises(function() plot.figure { xlgo = true } end, "unknown argument 'xlgo'; did you mean 'xlog'?")
  t.raises(function() f:line { x = { 1, 2 }, y = { 1 } } end, "x has 2 values but y has 1")
  t.raises(function() f:points { x = { 1 }, y = { "a" } } end, "y[1] is a, not a number")
  t.raises(function() f:line { x = { 1 }, y = { 1 }, dash = "wavy" } end, "unknown dash 'wavy'")
  local g = plot.figure { ylog = true }
  g:points { x = { 1, 2 }, y = { 1, -1 }, label = "bad" }
  t.raises(function() F.script(g) end, "series 1 (points 'bad') has y = -1, which a log axis cannot show")
  t.raises(function() F.script(plot.figure {}) end, "has no series to draw")
  local script = F.script(f)
  t.ok(script:find("$data << EOD", 1, true), "inline datablock")
  t.ok(script:find("set logscale x 10", 1, true))
  t.ok(script:find("'10^{18}' 1e+18", 1, true), "decade tick labels")
end)

t.test("figure: a figure without labels has no legend box, one with a label keeps it", function()
  -- gnuplot draws the key's box even with no entry in it: an empty grey bar in the top right corner,
  -- which in a text rendering (:show() without a display) covers the point plotted there.
  local f = plot.figure { title = "squares" }
  f:points { x = { 1, 2, 3 }, y = { 1, 4, 9 } }
  f:line { x = { 1, 3 }, y = { 1, 9 } }
  f:vline { x = 2 }
  local script = F.script(f)
  t.ok(script:find("\nunset key\n", 1, true), "no key without labels:\n" .. script)
  t.ok(not script:find("\nset key", 1, true), "no key box without labels:\n" .. script)
  for _, legend in ipairs { "top right", "below" } do
    local g = plot.figure { legend = legend }
    g:points { x = { 1, 2, 3 }, y = { 1, 4, 9 } }
    g:vline { x = 2, label = "budget" }
    local labelled = F.script(g)
    t.ok(labelled:find("\nset key", 1, true) and not labelled:find("unset key", 1, true),
      "a labelled rule keeps the legend (" .. legend .. "):\n" .. labelled)
  end
end)

t.test("save: well-formed SVG, one element per series, its script and data beside it", function()
  need_gnuplot()
  local f = plot.figure { title = "Loss & compute <test>", xlog = true, ylog = true, xformat = "flops",
    colorbar = { label = "N", log = true, format = "count" } }
  f:points { x = { 1e17, 1e18, 1e19 }, y = { 4, 3.5, 3 }, z = { 1e7, 1e8, 1e9 }, label = "runs" }
  f:line { x = { 1e17, 1e19 }, y = { 4.1, 2.9 }, label = "fit", dash = "dashed" }
  f:band { x = { 1e17, 1e19 }, low = { 3.9, 2.8 }, high = { 4.3, 3.1 }, label = "band" }
  f:vline { x = 3e18, label = "budget" }
  f:text { x = 1e18, y = 3.6, text = "a & b" }
  local path = dir .. "/basic.svg"
  t.eq(f:save(path), f)
  local svg = read(path)
  local ok, why = well_formed(svg)
  t.ok(ok, "well-formed SVG: " .. tostring(why))
  t.eq(curves(svg), 4)  -- points, line, band, and the vline's legend entry
  for _, label in ipairs({ "runs", "fit", "band", "budget" }) do
    t.ok(svg:find("<title>" .. label .. "</title>", 1, true), "legend entry " .. label)
  end
  t.ok(svg:find("10M", 1, true) and svg:find("1B", 1, true), "colour-scale ticks in counts")
  local script = read(dir .. "/basic.gp")
  local lo, hi = range_of(script, "x")
  local r = F.ranges(f)
  t.near(lo, r.x[1], 1e-8)
  t.near(hi, r.x[2], 1e-8)
  t.ok(lo < 1e17 and hi > 1e19)
  t.ok(script:find("'basic.dat' index 0", 1, true), "the saved script reads the saved data")
  t.ok(not script:find("EOD", 1, true), "no inline data in the saved script")
  local data = read(dir .. "/basic.dat")
  t.ok(data:find("# series 0: points 'runs'", 1, true))
  t.ok(data:find("1e+17 4 10000000", 1, true))
  -- Restyling without rerunning: gnuplot on the saved script in that folder redraws the figure.
  os.remove(path)
  local status = os.execute("cd " .. dir .. " && gnuplot basic.gp 2>/dev/null")
  t.ok(status, "gnuplot basic.gp")
  t.eq(curves(read(path)), 4)
end)

t.test("error bars, explicit ranges and no legend", function()
  need_gnuplot()
  local f = plot.figure { xrange = { 0, 10 }, yrange = { 1, 100 }, ylog = true, legend = false }
  f:errorbars { x = { 1, 2, 3 }, y = { 10, 20, 30 }, low = { 8, 15, 25 }, high = { 12, 26, 34 }, label = "measured" }
  f:save(dir .. "/errorbars.svg")
  local svg = read(dir .. "/errorbars.svg")
  t.ok(well_formed(svg))
  t.eq(curves(svg), 1)
  local script = read(dir .. "/errorbars.gp")
  t.eq(select(1, range_of(script, "x")), 0)
  t.eq(select(2, range_of(script, "y")), 100)
  t.ok(script:find("unset key", 1, true))
  t.ok(script:find("using 1:2:3:4 with yerrorbars", 1, true))
  t.raises(function() F.script(plot.figure { ylog = true, yrange = { 0, 1 } }:line { x = { 1 }, y = { 1 } }) end,
    "must be positive on a log axis")
end)

t.test("save: PNG and PDF by the extension; an unknown extension is a clear error", function()
  need_gnuplot()
  local f = plot.figure {}
  f:line { x = { 0, 1 }, y = { 0, 1 } }
  f:save(dir .. "/small.png", { width = 300, height = 200 })
  t.eq(read(dir .. "/small.png"):sub(1, 8), "\137PNG\r\n\26\n")
  f:save(dir .. "/small.pdf")
  t.eq(read(dir .. "/small.pdf"):sub(1, 5), "%PDF-")
  t.raises(function() f:save(dir .. "/small.bmp") end, "use .svg, .png or .pdf")
  t.raises(function() f:save(dir .. "/x.svg", { widht = 3 }) end, "did you mean 'width'?")
end)

t.test("save: a path with a line break or another control character is refused before anything is written", function()
  -- It wrote 'a<newline>b.dat' and '.gp', and gnuplot the figure to 'a\\nb.svg'.
  local f = plot.figure {}
  f:line { x = { 0, 1 }, y = { 0, 1 } }
  t.raises(function() f:save(dir .. "/ctl\nname.svg") end,
    "figure:save: the path '" .. dir .. "/ctl\\nname.svg' holds a control character (\\n); name the file without "
      .. "line breaks, tabs or other control characters")
  t.raises(function() f:save(dir .. "/ctl\tname.png") end, "holds a control character (\\t)")
  t.raises(function() f:save(dir .. "/ctl\rname.svg", { script = true }) end, "holds a control character (\\r)")
  t.raises(function() f:save(dir .. "/ctl\27name.svg") end, "holds a control character (\\27)")
  local listing = io.popen("ls -A " .. dir):read("a")
  t.ok(not listing:find("ctl", 1, true), listing)
  t.eq(f.saved, nil)
end)

t.test("a save that fails leaves no partial files behind", function()
  need_gnuplot()
  local neg = plot.figure { ylog = true }
  neg:points { x = { 1, 10, 100 }, y = { 3, 2, -1 }, label = "a" }
  t.raises(function() neg:save(dir .. "/neg.svg") end, "which a log axis cannot show")
  t.raises(function() plot.figure {}:save(dir .. "/empty.svg") end, "has no series to draw")
  for _, name in ipairs({ "neg.svg", "neg.dat", "neg.gp", "empty.svg", "empty.dat", "empty.gp" }) do
    t.ok(not exists(dir .. "/" .. name), name .. " was left behind")
  end
  -- gnuplot's own failure keeps the script and data (the message points at them), not the figure.
  local bad = plot.figure { title = "bad" }
  bad:line { x = { 1, 2 }, y = { 1, 2 } }
  bad:vline { x = 1.5, color = "nosuchcolour" }  -- gnuplot knows no such colour
  local message = t.raises(function() bad:save(dir .. "/bad.svg") end, "the script that failed is")
  t.ok(message:find("bad.gp", 1, true), message)
  t.ok(exists(dir .. "/bad.gp") and exists(dir .. "/bad.dat"))
  t.ok(not exists(dir .. "/bad.svg"), "the figure gnuplot began is removed")
  -- What a figure says it saved is its last save that worked.
  local good = plot.figure { title = "good" }
  good:line { x = { 1, 2 }, y = { 1, 2 } }
  good:save(dir .. "/good.svg")
  t.raises(function() good:save(dir .. "/no-such-folder/good.svg") end, "no-such-folder")
  t.ok(tostring(good):find("saved " .. dir .. "/good.svg", 1, true), tostring(good))
  t.ok(not tostring(good):find("no-such-folder", 1, true), tostring(good))
end)

t.test("escape: labels with enhanced-text characters shown literally", function()
  t.eq(plot.escape("run_12^a{b}"), "run\\_12\\^a\\{b\\}")
  need_gnuplot()
  local f = plot.figure {}
  f:line { x = { 1, 2 }, y = { 1, 2 }, label = plot.escape("run_12") }
  f:save(dir .. "/escape.svg")
  t.ok(read(dir .. "/escape.svg"):find("<title>run_12</title>", 1, true))
end)

t.test("save: titles and labels with line breaks, control characters, bytes not UTF-8 and <&> give well-formed SVG", function()
  need_gnuplot()
  local f = plot.figure { title = "caf\233 <b> & \"q\"\nsecond\r\nthird", xlabel = "a<b\1", ylabel = "\27[1m" }
  f:points { x = { 1, 2 }, y = { 1, 2 }, label = "runs\nof \255 & <x>" }
  f:line { x = { 1, 2 }, y = { 2, 1 }, label = "EOD\nEOD" }
  f:save(dir .. "/strings.svg")
  local svg = read(dir .. "/strings.svg")
  t.ok(utf8.len(svg), "the SVG is not UTF-8")
  t.ok(not svg:find("[%z\1-\8\11\12\14-\31]"), "a control character XML forbids")
  t.ok(well_formed(svg))
  t.ok(svg:find("caf\u{FFFD}", 1, true), svg)
end)

t.test("allocation from a parametric law matches its closed form", function()
  local law = fx.chinchilla()
  local panels = plot.allocation { law = law, compute = 5.76e23 }
  local line = panels.panels[1].series[1]
  t.eq(line.kind, "line")
  for i, C in ipairs(line.x) do t.near(line.y[i], fx.n_opt(law, C), 1e-9) end
  local text = panels.panels[1].labels[1].text
  t.ok(text:find(require("scalelab.native.core").format_count(fx.n_opt(law, 5.76e23)), 1, true), text)
  -- The legend names the law by the allocation it implies, short enough to leave the low minima clear.
  local a = law.params.beta / (law.params.alpha + law.params.beta)
  t.eq(line.label, string.format("%s: N_{opt} ∝ C^{%.3f}", law.name or law.kind, a))
  -- Approach 1's switches as the minima: labelled as such.
  local switches = { { C = 1e18, N = 2e8, N_before = 1.5e8, N_after = 2.7e8 }, { C = 1e19, N = 6e8, N_before = 4e8, N_after = 9e8 } }
  local function minima_of(panels)
    for _, s in ipairs(panels.panels[1].series) do if s.kind == "points" and s.marker == "diamond" then return s end end
  end
  local points = minima_of(plot.allocation { law = law, minima = switches, compute = 1e21 })
  t.eq(points.label, "approach 1 switches")
  t.eq(points.x[2], 1e19)
  t.eq(minima_of(plot.allocation { law = law, minima = { { C = 1e18, N = 2e8 }, { C = 1e19, N = 6e8 } } }).label,
    "IsoFLOP minima")
end)

t.test("gnuplot's own errors reach the user with the script line", function()
  need_gnuplot()
  local message = t.raises(function() plot.gnuplot("set terminal dumb\nplot nosuchthing\n") end, "undefined variable: nosuchthing")
  t.ok(message:find("script line 2", 1, true), message)
end)

t.test("plot.gnuplot returns what the script prints, as its help says", function()
  need_gnuplot()
  local help_text = require("scalelab.native.core").docs()[plot.gnuplot]
  t.ok(help_text:find("plot.gnuplot('print 1+1').output is \"2\\n\"", 1, true), help_text)
  t.eq(plot.gnuplot("print 1+1").output, "2\n")
  -- Errors keep the script's own line numbers.
  local message = t.raises(function() plot.gnuplot("print 1\nplot nosuchthing\n") end, "undefined variable: nosuchthing")
  t.ok(message:find("script line 2", 1, true), message)
end)

t.test("a missing gnuplot: a clear error naming gnuplot-nox; script and data still saved", function()
  local saved = plot.config.program
  plot.config.program = "/nonexistent/bin/gnuplot"
  local f = plot.figure { title = "no gnuplot" }
  f:line { x = { 1, 2 }, y = { 3, 4 }, label = "l" }
  local ok, message = pcall(function() f:save(dir .. "/missing.svg") end)
  plot.config.program = saved
  t.ok(not ok)
  message = tostring(message)
  t.ok(message:find("gnuplot was not found", 1, true), message)
  t.ok(message:find("gnuplot-nox", 1, true), message)
  t.ok(message:find("missing.gp", 1, true), message)
  t.ok(exists(dir .. "/missing.gp") and exists(dir .. "/missing.dat"), "script and data written")
  t.ok(not exists(dir .. "/missing.svg"))
  t.ok(F.script(f):find("plot $data index 0", 1, true), "the figure is still usable")
  plot.config.program = "/nonexistent/bin/gnuplot"
  t.eq(plot.available(), false)
  local shown = pcall(function() f:show() end)
  plot.config.program = saved
  t.eq(shown, false)
end)

t.test("show without a display draws text and says why", function()
  need_gnuplot()
  if os.getenv("DISPLAY") then t.skip("a display is present") end
  local f = plot.figure { title = "shown" }
  f:line { x = { 0, 1 }, y = { 0, 1 } }
  local written = {}
  local write, print_ = io.write, print
  io.write = function(...) for _, v in ipairs({ ... }) do written[#written + 1] = tostring(v) end end
  print = function(...) for _, v in ipairs({ ... }) do written[#written + 1] = tostring(v) end end
  local ok, err = pcall(function() f:show() end)
  io.write, print = write, print_
  t.ok(ok, tostring(err))
  local text = table.concat(written, "\n")
  t.ok(text:find("no window: there is no display", 1, true), text)
  t.ok(text:find("shown", 1, true), "the text rendering has the title")
end)

t.test("show's text rendering is plain text: no markup, no form feed", function()
  -- It printed gnuplot's enhanced-text markup as it is ("10^{18}", "L_{opt}", "run\\_12") after a
  -- form feed, shown as ^L on a dumb terminal and in a file.
  need_gnuplot()
  if os.getenv("DISPLAY") then t.skip("a display is present") end
  local f = plot.figure { title = "loss against compute", xlog = true, ylog = true, xlabel = "compute C_{train}" }
  f:line { x = { 1e18, 1e19, 1e20 }, y = { 3, 2.5, 2.2 }, label = "L_{opt} of " .. plot.escape("run_12") }
  local written = {}
  local write = io.write
  io.write = function(...) for _, v in ipairs({ ... }) do written[#written + 1] = tostring(v) end end
  local ok, err = pcall(function() f:show() end)
  io.write = write
  t.ok(ok, tostring(err))
  local text = table.concat(written)
  t.ok(not text:find("\f", 1, true), "no form feed")
  t.ok(not text:find("[%^_]{"), text)
  t.ok(not text:find("\\", 1, true), text)
  for _, shown in ipairs({ "10^18", "10^20", "L_opt of run_12", "compute C_train" }) do
    t.ok(text:find(shown, 1, true), shown .. " in\n" .. text)
  end
  t.eq(text:sub(-1), "\n")
end)

t.test("plot.figure's plain turns enhanced text into plain text", function()
  t.eq(F.plain("10^{18}"), "10^18")
  t.eq(F.plain("3×10^{−3}"), "3×10^−3")
  t.eq(F.plain("N_{opt} ∝ C^{0.500}"), "N_opt ∝ C^0.500")
  t.eq(F.plain("e^{−(E−1)/R_D*}"), "e^(−(E−1)/R_D*)")
  t.eq(F.plain(plot.escape("run_12^{x}\\")), "run_12^{x}\\")
  t.eq(F.plain("{/Symbol a}b"), "ab")
  t.eq(F.plain("x^2 {unclosed"), "x^2 {unclosed")
end)

local law = fx.chinchilla()
local runs = fx.isoflop_runs(law, true)

t.test("the compute-optimal loss and N of a law match the closed form", function()
  local predict = plot.isoflop_minima and require("scalelab.plot.figures").predictor("test", law)
  for _, C in ipairs({ 1e18, 1e21, 5.76e23 }) do
    local N, L = require("scalelab.plot.figures").optimum(predict, C)
    t.near(N, fx.n_opt(law, C), 1e-4)
    t.near(L, law:predict { N = N, D = C / (6 * N) }, 1e-12)
  end
end)

t.test("isoflop: a curve per budget and its minimum near the law's N_opt", function()
  need_gnuplot()
  local f = plot.isoflop(runs)
  f:save(dir .. "/isoflop.svg")
  local svg = read(dir .. "/isoflop.svg")
  t.ok(well_formed(svg))
  -- 5 budgets × (points + parabola) + the minima's line and markers + 2 legend entries
  t.eq(curves(svg), 5 * 2 + 2 + 2)
  t.eq(#f.minima, 5)
  for i, m in ipairs(f.minima) do
    local truth = fx.n_opt(law, fx.budgets[i])
    t.ok(math.abs(math.log(m.N / truth)) < 0.1, string.format("budget %g: minimum %g vs %g", fx.budgets[i], m.N, truth))
  end
  local with_law = plot.isoflop(runs, law)
  for i, m in ipairs(with_law.minima) do t.near(m.N, fx.n_opt(law, fx.budgets[i]), 1e-3) end
  -- An IsoFLOP fit given as per-budget coefficients (c0 + c1·ln N + c2·ln² N) is drawn as given.
  local fit = { budgets = {} }
  for i, C in ipairs(fx.budgets) do
    local x0 = math.log(fx.n_opt(law, C))
    fit.budgets[i] = { C = C, coefficients = { 3 + x0 * x0 * 0.1, -0.2 * x0, 0.1 } }
  end
  local g = plot.isoflop(runs, fit)
  for i, m in ipairs(g.minima) do t.near(m.N, fx.n_opt(law, fx.budgets[i]), 1e-9) end
  local r = F.ranges(g)
  t.ok(r.x[1] < runs[1].N and r.x[2] > runs[#runs].N, "x range covers every run")
  t.ok(r.cb[1] <= 1e16 * 1.001 and r.cb[2] >= 1e18 / 1.001, "colour scale covers the budgets")
end)

t.test("loss_compute: runs, curves, frontier and the law out to the question's budget", function()
  need_gnuplot()
  local f = plot.loss_compute(runs, law, { compute = 1e21 })
  f:save(dir .. "/loss_compute.svg")
  local svg = read(dir .. "/loss_compute.svg")
  t.ok(well_formed(svg))
  -- 35 training curves + their legend entry + runs + frontier + law (solid over the runs, dashed
  -- beyond, and the dashed stretch's legend entry) + question marker + vline entry
  t.eq(curves(svg), 35 + 1 + 1 + 1 + 3 + 1 + 1)
  local lo, hi = range_of(read(dir .. "/loss_compute.gp"), "x")
  t.ok(hi > 1e21 and lo < 1e16, "x range reaches the question's budget")
  t.ok(svg:find("compute-efficient frontier", 1, true))
  -- The frontier never rises.
  local frontier
  for _, s in ipairs(f.series) do if s.label == "compute-efficient frontier" then frontier = s end end
  for i = 2, #frontier.y do t.ok(frontier.y[i] < frontier.y[i - 1]) end
  -- A bootstrapped law adds the band of its compute-optimal loss; it contains the point estimate.
  local boot = fx.chinchilla()
  boot.samples = {}
  for i = 1, 50 do
    local d = 0.01 * math.sin(i)
    boot.samples[i] = { E = 1.69 * (1 + d), A = 406.4, B = 410.7, alpha = 0.34 + d, beta = 0.28 - d }
  end
  local g = plot.loss_compute(runs, boot)
  local band, line
  for _, s in ipairs(g.series) do
    if s.kind == "band" then band = s end
    if s.kind == "line" and s.label and s.label:find("compute%-optimal") then line = s end
  end
  t.ok(band and line, "band and law line")
  for i = 1, #band.x do t.ok(band.low[i] <= line.y[i] and line.y[i] <= band.high[i]) end
  -- A law of compute alone (Kaplan's L(C)) is drawn directly.
  local kaplan_c = { params = { C_c = 3.1e8 * 8.64e19, alpha_C = 0.05 }, predict = function(self, q)
    if not q.C then error("law:predict: this law needs C") end
    return (self.params.C_c / q.C) ^ self.params.alpha_C
  end }
  local k = plot.loss_compute(runs, kaplan_c, { compute = 1e21 })
  local last
  for _, s in ipairs(k.series) do if s.kind == "line" and s.dash == "dashed" and not s.legend_only then last = s end end
  t.eq(last.x[#last.x], 1e21)
  t.near(last.y[#last.y], (3.1e8 * 8.64e19 / 1e21) ^ 0.05, 1e-9)
  k:save(dir .. "/kaplan_c.svg")
end)

t.test("loss_compute: a question's compute without a law is refused, not ignored", function()
  -- compute is where the law's compute-optimal loss is extended to: with no law it was dropped
  -- without a word, and the figure stopped at the runs.
  t.raises(function() plot.loss_compute(runs, nil, { compute = 1e21 }) end,
    "plot.loss_compute: compute = 1e21 is the budget the law's compute-optimal loss is extended to, and no law " ..
    "was given: pass the law, plot.loss_compute(runs, law, { compute = 1e21 })")
  t.raises(function() plot.loss_compute(runs, nil, { compute = { compute = 1e23 } }) end, "and no law was given")
  t.ok(tostring(plot.loss_compute(runs)):find("^figure 'Loss against compute'"), "no compute, no law: drawn")
end)

t.test("allocation: power laws with bands, extended to the question, with their values", function()
  need_gnuplot()
  local p = law.params
  local a = p.beta / (p.alpha + p.beta)
  local N_opt = fx.power_law(fx.n_opt(law, 1), a, 0.02)
  local panels = plot.allocation { runs = runs, N_opt = N_opt, compute = 1e21, reference = true }
  panels:save(dir .. "/allocation.svg")
  local svg = read(dir .. "/allocation.svg")
  t.ok(well_formed(svg))
  t.eq(plot_count(svg), 2)
  local expected = fx.n_opt(law, 1e21)
  t.ok(svg:find("N<tspan", 1, true) or svg:find("opt", 1, true))
  local label = panels.panels[1].labels[1].text
  t.ok(label:find(require("scalelab.native.core").format_count(expected), 1, true), label)
  t.ok(label:find("%[.+, .+%]"), "the answer carries its interval: " .. label)
  local band = panels.panels[1].series[1]
  t.eq(band.kind, "band")
  for i = 1, #band.x do t.ok(band.low[i] <= band.high[i]) end
  local lo, hi = range_of(read(dir .. "/allocation.gp"), "x")
  t.ok(hi > 1e21 and lo < 1e16)
  -- Without a power law: one is fitted to the minima, and its exponent matches the law's.
  local fitted = plot.allocation { runs = runs }
  local text = fitted.panels[1].series[1].label
  local exponent = tonumber(text:match("C%^{([%d%.]+)}"))
  t.near(exponent, a, 0.03)
  t.raises(function() plot.allocation { N_opt = N_opt } end, "give minima, runs or compute")
  -- A planning question stands for its budget.
  local q = plot.allocation { runs = runs, N_opt = N_opt, compute = { compute = 1e21, law = "later" } }
  t.eq(q.panels[1].rules[1].at, 1e21)
  t.raises(function() plot.allocation { runs = runs, compute = { loss = 2 } } end, "planning question with .compute")
  -- A question as plan declares it (no law yet: its budget in .inputs) was refused, and an answer.
  local declared = plot.allocation { runs = runs, N_opt = N_opt, compute = plan.optimal { compute = 3e21 } }
  t.eq(declared.panels[1].rules[1].at, 3e21)
  local answered = plot.allocation { runs = runs, N_opt = N_opt,
                                     compute = plan.optimal { compute = 2e21, law = fit.published.chinchilla } }
  t.eq(answered.panels[1].rules[1].at, 2e21)
end)

-- The lines of a fitted law in a figure (its colour, not legend entries): { solid = {...}, dashed = {...} },
-- and the legend entry for the dashed stretches.
local function law_lines(f, color)
  local solid, dashed, entry = {}, {}, nil
  for _, s in ipairs(f.series) do
    if s.kind == "line" and s.color == color then
      if s.legend_only then
        if s.label:find("^dashed: extrapolated") then entry = s end
      elseif s.dash == "dashed" then dashed[#dashed + 1] = s
      else solid[#solid + 1] = s end
    end
  end
  return solid, dashed, entry
end

local function x_span(lines)
  local lo, hi = math.huge, 0
  for _, s in ipairs(lines) do
    for _, x in ipairs(s.x) do lo, hi = math.min(lo, x), math.max(hi, x) end
  end
  return lo, hi
end

t.test("a fitted law is drawn solid over the data's compute and dashed beyond it, as the legend says", function()
  -- The review: N_opt(C) drawn solid from the IsoFLOP budgets (1e16 to 1e18 here) out to the
  -- question's 1e21, a thousand times the largest run, read as measured.
  local p = law.params
  local N_opt = fx.power_law(fx.n_opt(law, 1), p.beta / (p.alpha + p.beta), 0.02)
  local panels = plot.allocation { runs = runs, N_opt = N_opt, compute = 1e21 }
  for i, panel in ipairs(panels.panels) do
    local solid, dashed, entry = law_lines(panel, "#1f77b4")
    t.eq(#solid, 1, "panel " .. i .. ": one solid stretch")
    local lo, hi = x_span(solid)
    t.near(lo, fx.budgets[1], 0.02)  -- solid from the smallest budget
    t.near(hi, fx.budgets[#fx.budgets], 0.02)  -- to the largest
    t.ok(solid[1].label and #solid[1].label > 0, "the solid stretch names the law")
    local dlo, dhi = x_span(dashed)
    t.ok(dhi >= 1e21, "panel " .. i .. ": dashed on to the question's budget")
    t.ok(dlo < fx.budgets[1], "panel " .. i .. ": dashed below the smallest budget")
    for _, s in ipairs(dashed) do
      t.eq(s.label, nil)
      t.ok(s.x[1] >= hi or s.x[#s.x] <= lo, "a dashed stretch lies outside the data")
    end
    t.ok(entry, "panel " .. i .. ": the legend says what dashed means")
  end
  panels:save(dir .. "/allocation_extrapolated.svg")
  local gp = read(dir .. "/allocation_extrapolated.gp")
  t.ok(gp:find("dt 2 lc rgb '#1f77b4' title 'dashed: extrapolated'", 1, true), gp)
  -- Minima alone (approach 1's switches) give the range too; a law with no data at all is drawn solid.
  local switched = plot.allocation { N_opt = N_opt, compute = 1e21, minima = { { C = 1e18, N = 2e8 }, { C = 1e19, N = 6e8 } } }
  local solid = law_lines(switched.panels[1], "#1f77b4")
  t.eq(select(2, x_span(solid)), 1e19)
  local bare = plot.allocation { law = fx.chinchilla(), compute = 1e21 }
  local bare_solid, bare_dashed, bare_entry = law_lines(bare.panels[1], "#1f77b4")
  t.eq(#bare_solid, 1)
  t.eq(#bare_dashed, 0)
  t.eq(bare_entry, nil)
  -- Chinchilla's published allocation, for comparison, is dash-dotted: dashed means extrapolated.
  local ref = plot.allocation { runs = runs, N_opt = N_opt, compute = 1e21, reference = true }
  local seen = false
  for _, s in ipairs(ref.panels[1].series) do
    if s.label == "Chinchilla (published, approach 3)" then t.eq(s.dash, "dashdot"); seen = true end
  end
  t.ok(seen, "the reference line")

  -- loss against compute: the law's compute-optimal loss, solid over the runs, dashed to 1e21.
  local Cmin, Cmax = math.huge, 0
  for _, r in ipairs(runs) do Cmin, Cmax = math.min(Cmin, r.C), math.max(Cmax, r.C) end
  local f = plot.loss_compute(runs, law, { compute = 1e21 })
  local lsolid, ldashed, lentry = law_lines(f, "#d62728")
  t.eq(#lsolid, 1)
  t.eq(select(2, x_span(lsolid)), Cmax)
  t.eq(#ldashed, 1)
  t.eq(ldashed[1].x[1], Cmax)
  t.eq(ldashed[1].x[#ldashed[1].x], 1e21)
  t.eq(lentry and lentry.label, "dashed: extrapolated beyond the runs")
  -- No question beyond the runs: nothing is extrapolated, nothing dashed.
  local g = plot.loss_compute(runs, law)
  local gsolid, gdashed, gentry = law_lines(g, "#d62728")
  t.eq(#gsolid, 1)
  t.eq(#gdashed, 0)
  t.eq(gentry, nil)
end)

t.test("data_constrained: loss against epochs and the return on repeated data", function()
  need_gnuplot()
  local dl = fx.datablations()
  local panels = plot.data_constrained(fx.repeated_runs(dl), dl)
  panels:save(dir .. "/data_constrained.svg")
  local svg = read(dir .. "/data_constrained.svg")
  t.ok(well_formed(svg))
  t.eq(plot_count(svg), 2)
  t.ok(svg:find("4 epochs: worth 3.7 (93%)", 1, true), "the 4-epoch return (Muennighoff et al.)")
  t.ok(svg:find("16 epochs: worth 10.6 (66%)", 1, true))
  -- The return panel reaches 128 epochs, so that the 16-epoch label (written to the point's right,
  -- about 0.7 of a decade long) ends inside it; at 64 it ran past the panel's edge.
  local xs = panels.panels[2].series[1].x
  t.ok(xs[#xs] >= 128, "the return panel ends at " .. xs[#xs] .. " epochs")
  t.raises(function() plot.data_constrained(runs, dl) end, "run 1 has neither epochs nor unique_tokens")
end)

t.test("data_constrained: the left panel follows the sweep; R_D* says where it comes from", function()
  local dl = fx.datablations()
  -- At fixed compute (fx.repeated_runs: two budgets, epochs traded against unique data).
  local at_compute = plot.data_constrained(fx.repeated_runs(dl), dl)
  t.eq(at_compute.panels[1].title, "Loss against epochs at fixed compute")
  -- A sweep.data_constrained: fixed N and unique data, more epochs at more compute.
  local grid = {}
  for _, N in ipairs({ 1e8, 3e8 }) do
    for _, e in ipairs({ 1, 2, 4, 8, 16 }) do
      grid[#grid + 1] = { N = N, D = 1e9 * e, unique_tokens = 1e9, loss = dl:predict { N = N, D = 1e9 * e, unique_tokens = 1e9 } }
    end
  end
  local left = plot.data_constrained(grid, dl).panels[1]
  t.eq(left.title, "Loss against epochs: fixed N, U_{D} = 1B unique tokens")
  t.eq(left.colorbar.label, "parameters N")
  local lines = {}
  for _, s in ipairs(left.series) do if s.kind == "line" and not s.legend_only then lines[#lines + 1] = s end end
  t.eq(#lines, 2, "one law line per model size")
  for i, N in ipairs({ 1e8, 3e8 }) do
    t.eq(lines[i].z, N)
    for j, e in ipairs(lines[i].x) do
      t.near(lines[i].y[j], dl:predict { N = N, D = 1e9 * e, unique_tokens = 1e9 }, 1e-12)
    end
  end
  local function R_label(panels)
    for _, s in ipairs(panels.panels[2].series) do
      if s.label and s.label:find("repeated data", 1, true) then return s.label end
    end
  end
  t.ok(R_label(plot.data_constrained(grid, dl)):find("(fitted)", 1, true), "a law with intervals is a fit")
  t.ok(R_label(plot.data_constrained(grid, fit.published.datablations)):find("R_{D}* = 15.4 (published)", 1, true),
    R_label(plot.data_constrained(grid, fit.published.datablations)))
  t.ok(R_label(plot.data_constrained(grid, dl, { R_D = 20 })):find("R_{D}* = 20 (given)", 1, true))
  t.ok(R_label(plot.data_constrained(grid)):find("(published)", 1, true), "no law: the published value")
  local fitted = { fitted = true, params = { R_D = 30 }, predict = dl.predict }
  t.ok(R_label(plot.data_constrained(grid, fitted)):find("R_{D}* = 30 (fitted)", 1, true))
end)

t.test("data_constrained: a huge R_D* makes repeated data worth new data, without cancellation", function()
  local dl = fx.datablations()
  for _, R in ipairs({ 1e6, 1e16, 1e300 }) do
    local panels = plot.data_constrained(fx.repeated_runs(dl), dl, { R_D = R })
    local line
    for _, s in ipairs(panels.panels[2].series) do
      if s.kind == "line" and s.label and s.label:find("repeated data", 1, true) then line = s end
    end
    assert(line, "the repeated-data line")
    for i, e in ipairs(line.x) do
      -- D'/U = 1 + R·(1 − exp(−(e − 1)/R)) = e − (e − 1)²/(2R) + (e − 1)³/(6R²) − ...: between
      -- e − (e − 1)²/(2R) and e. Computing 1 − exp(−x) directly gives 1 (or 2.1, ...) at R = 1e16.
      t.ok(line.y[i] <= e * (1 + 1e-12), string.format("R %g, e %g: %.17g", R, e, line.y[i]))
      t.ok(line.y[i] >= (e - (e - 1) ^ 2 / (2 * R)) * (1 - 1e-12), string.format("R %g, e %g: %.17g", R, e, line.y[i]))
    end
  end
end)

t.test("residuals: log residuals and their RMSE", function()
  need_gnuplot()
  local panels = plot.residuals(runs, law)
  panels:save(dir .. "/residuals.svg")
  t.ok(well_formed(read(dir .. "/residuals.svg")))
  t.ok(panels.rmse > 0 and panels.rmse < 0.01, "noise is 0.6%: rmse " .. panels.rmse)
  t.ok(panels.r2 > 0.99)
  t.raises(function() plot.residuals(runs, { params = {} }) end, "the law must have a predict method")
  t.raises(function() plot.residuals({ { N = 1e6, loss = 3 } }, law) end, "run 1 has neither D (tokens) nor C (FLOPs)")
end)

t.test("curves: one run, a few runs with a legend, all runs coloured by N", function()
  need_gnuplot()
  local one = plot.curves(runs[4])
  one:save(dir .. "/curve.svg")
  local svg = read(dir .. "/curve.svg")
  t.ok(well_formed(svg))
  t.eq(curves(svg), 2)
  t.ok(svg:find("<title>evaluation loss</title>", 1, true))
  local few = plot.curves { runs[1], runs[9], runs[18] }
  few:save(dir .. "/curves_few.svg")
  t.eq(curves(read(dir .. "/curves_few.svg")), 3 * 2 + 1)
  local all = plot.curves(runs, { x = "compute" })
  t.ok(F.ranges(all).cb ~= nil, "many runs: a colour scale for N")
  t.raises(function() plot.curves({ { N = 1, D = 1, loss = 1 } }) end, "none of the runs has a curve")
end)

t.test("inputs shaped like the fit module's and the results store's", function()
  need_gnuplot()
  -- A law whose predict rejects unknown keys and reads unique tokens as U (as fit's laws do).
  local dl = fx.datablations()
  local strict = { params = dl.params, predict = function(_, q)
    for k in pairs(q) do
      if k ~= "N" and k ~= "D" and k ~= "U" then error("law:predict: unknown key '" .. k .. "'") end
    end
    return dl:predict { N = q.N, D = q.D, unique_tokens = q.U }
  end }
  local panels = plot.data_constrained(fx.repeated_runs(dl), strict)
  local curve = panels.panels[1].series[2]
  t.eq(curve.kind, "line")
  t.ok(curve.y[#curve.y] > curve.y[1] + 0.1, "the law's loss rises with epochs at fixed compute")
  -- An IsoFLOP result: budgets, a law with k2_i, k1_i, k0_i, the vertices and power laws.
  local result = { budgets = {}, N_opt = {}, D_opt = {}, parabolas = { params = {} } }
  for i, C in ipairs(fx.budgets) do
    local x0 = math.log(fx.n_opt(law, C))
    result.budgets[i] = C
    result.parabolas.params["k2_" .. i], result.parabolas.params["k1_" .. i] = 0.1, -0.2 * x0
    result.parabolas.params["k0_" .. i] = 3 + 0.1 * x0 * x0
    result.N_opt[i] = fx.n_opt(law, C)
    result.D_opt[i] = C / (6 * result.N_opt[i])
  end
  local a = law.params.beta / (law.params.alpha + law.params.beta)
  result.N_law = fx.power_law(fx.n_opt(law, 1), a, 0.02)
  local f = plot.isoflop(runs, result)
  for i, m in ipairs(f.minima) do t.near(m.N, result.N_opt[i], 1e-9) end
  local alloc = plot.allocation { isoflop = result, compute = 1e21 }
  -- band, law (solid over the budgets, dashed below and beyond them, the dashed stretches' legend
  -- entry), minima, question marker (the vline is a rule)
  t.eq(#alloc.panels[1].series, 7)
  t.eq(alloc.panels[1].series[1].label, "95% bootstrap band")
  -- Runs as the results store lists them: params, tokens, flops, status; curves with train_loss.
  local stored = {}
  for i, r in ipairs(runs) do
    local points = {}
    for j, p in ipairs(r.curve) do points[j] = { tokens = p.tokens, step = j, train_loss = p.loss, eval_loss = p.eval_loss } end
    stored[i] = { params = r.N, tokens = r.D, flops = r.C, loss = r.loss, status = "done", curve = points }
  end
  stored[#stored + 1] = { params = 1e9, tokens = 1e10, flops = 6e19, status = "planned" }
  local g = plot.loss_compute({ runs = stored }, law)
  local points
  for _, s in ipairs(g.series) do if s.label == "runs (final loss)" then points = s end end
  t.eq(#points.x, #runs)  -- the planned run is left out
  plot.curves(stored):save(dir .. "/stored_curves.svg")
end)

-- "name: reason" of each skipped figure, joined.
local function skipped_names(skipped)
  local names = {}
  for _, s in ipairs(skipped) do t.ok(type(s.reason) == "string" and #s.reason > 0); names[#names + 1] = s.name end
  return table.concat(names, " ")
end

t.test("study_figures writes every figure the inputs allow", function()
  need_gnuplot()
  local paths, skipped = plot.study_figures { dir = dir, runs = runs, law = law, compute = 1e21 }
  local names = {}
  for _, p in ipairs(paths) do names[#names + 1] = p:match("([^/]+)%.svg$"); t.ok(exists(p)) end
  t.eq(table.concat(names, " "), "loss_compute isoflop allocation residuals curves")
  t.eq(skipped_names(skipped), "data_constrained")
  t.eq(skipped[1].reason, "no run repeats its data (every run sees its tokens about once)")
  -- A data-constrained study's law alone: its residuals are drawn with each run's unique tokens.
  local repeated = fx.repeated_runs()
  paths, skipped = plot.study_figures { dir = dir, runs = repeated, data_constrained = fit.published.datablations }
  names = {}
  for _, p in ipairs(paths) do names[#names + 1] = p:match("([^/]+)%.svg$") end
  t.ok(table.concat(names, " "):find("residuals", 1, true), table.concat(names, " "))
end)

-- A data-constrained study's runs (observations: a hash, U, no budget) of which three sizes share a
-- compute by chance, at 1, 4 and 16 epochs: no IsoFLOP profile. study_figures drew them as one (its
-- runs, read once, lost what told them a study's when plot.isoflop read them again).
t.test("study_figures draws no IsoFLOP curves through a data-constrained study's runs that share a compute", function()
  need_gnuplot()
  local dl = fit.published.datablations
  local repeated = {}
  for i, point in ipairs { { 1e8, 1.6e10, 1 }, { 4e8, 4e9, 4 }, { 1.6e9, 1e9, 16 }, { 1e8, 4e9, 1 }, { 4e8, 1.6e10, 4 } } do
    local N, D, epochs = point[1], point[2], point[3]
    repeated[i] = { N = N, D = D, U = D / epochs, epochs = epochs, hash = "run" .. i,
                    loss = dl:predict { N = N, D = D, U = D / epochs } }
  end
  local sub = dir .. "/repeated"
  os.execute("mkdir -p " .. sub)
  local paths, skipped = plot.study_figures { dir = sub, runs = repeated, law = fit.published.chinchilla }
  for _, p in ipairs(paths) do t.ok(not p:find("isoflop", 1, true), p) end
  local reason
  for _, s in ipairs(skipped) do if s.name == "isoflop" then reason = s.reason end end
  t.ok(reason and reason:find("these runs are no IsoFLOP sweep: they come from a study", 1, true), tostring(reason))
end)

t.test("study_figures skips, with the reason, the figures its inputs do not allow", function()
  need_gnuplot()
  -- A grid of 2 sizes × 2 token counts, no law: no IsoFLOP curves, no allocation (the review's tiny4).
  local grid = {}
  for _, N in ipairs({ 1e8, 1e9 }) do
    for _, D in ipairs({ 2e9, 2e10 }) do grid[#grid + 1] = { N = N, D = D, loss = law:predict { N = N, D = D } } end
  end
  local sub = dir .. "/grid"
  os.execute("mkdir -p " .. sub)
  local paths, skipped = plot.study_figures { dir = sub, runs = grid }
  t.eq(#paths, 1)
  t.ok(paths[1]:find("loss_compute.svg", 1, true))
  t.eq(skipped_names(skipped), "isoflop allocation data_constrained residuals curves")
  t.ok(skipped[2].reason:find("no compute budget has three model sizes or more", 1, true), skipped[2].reason)
  -- The same grid with a study's approach 1 fit: the allocation is drawn through its switches.
  local a1 = { params = { k = 0.1, a = 0.5 }, switches = { { C = 1e18, N = 1e8, N_before = 7e7, N_after = 1.4e8 },
                                                           { C = 1e20, N = 1e9, N_before = 7e8, N_after = 1.4e9 } } }
  paths, skipped = plot.study_figures { dir = sub, runs = grid, N_opt = a1, approach1 = a1 }
  t.eq(skipped_names(skipped), "isoflop data_constrained residuals curves")
  t.ok(read(sub .. "/allocation.gp"):find("approach 1 switches", 1, true))
  -- approach1 alone: its own power law (k, a) is the line, its switches the points.
  paths, skipped = plot.study_figures { dir = sub, runs = grid, approach1 = a1 }
  t.eq(skipped_names(skipped), "isoflop data_constrained residuals curves")
  t.ok(read(sub .. "/allocation.gp"):find("N_{opt} = 0.1·C^{0.500}", 1, true), read(sub .. "/allocation.gp"))
  -- A law and a question far beyond the grid: the runs' compute is where the law is drawn solid.
  paths, skipped = plot.study_figures { dir = sub, runs = grid, law = law, compute = 1e23 }
  t.ok(read(sub .. "/allocation.gp"):find("title 'dashed: extrapolated'", 1, true), read(sub .. "/allocation.gp"))
  t.ok(read(sub .. "/allocation.gp"):find("title 'question: 10^{23} FLOP'", 1, true), read(sub .. "/allocation.gp"))
  -- Without a question nothing is marked as one: the largest run's compute (1.2e20) was drawn as
  -- 'question: 1.2×10^{20} FLOP', with an N_opt and D_opt 'answer' there, for a study whose only
  -- question the allocation does not answer (one with unique_tokens) or that asked none.
  for _, given in ipairs { { law = law }, { N_opt = a1, approach1 = a1 } } do
    given.dir, given.runs = sub, grid
    paths, skipped = plot.study_figures(given)
    t.eq(skipped_names(skipped), "isoflop data_constrained" .. (given.law and " curves" or " residuals curves"))
    local script = read(sub .. "/allocation.gp")
    t.ok(not script:find("question", 1, true) and not script:find("set label %d+ '[ND]_{opt} = "), script)
  end
  t.raises(function() plot.study_figures { dir = sub, runs = grid, approach1 = 5 } end,
    "approach1 must be an approach 1 fit (fit.approach1's result, or a study's s.fits.approach1), with its switches (got number)")
  -- IsoFLOP runs without a law: the allocation is fitted to the minima; no residuals. The question's
  -- compute goes to the allocation; loss_compute, with no law to extend, is drawn without it.
  paths, skipped = plot.study_figures { dir = sub, runs = fx.isoflop_runs(law, false), compute = 1e21 }
  local names = {}
  for _, p in ipairs(paths) do names[#names + 1] = p:match("([^/]+)%.svg$") end
  t.eq(table.concat(names, " "), "loss_compute isoflop allocation")
  t.eq(skipped_names(skipped), "data_constrained residuals curves")
  -- A figure that fails (a law predicting nonsense for the residuals) does not stop the others.
  local broken = { params = law.params, predict = function(_, q) return q.N > 5e7 and -1 or law:predict(q) end }
  paths, skipped = plot.study_figures { dir = sub, runs = fx.isoflop_runs(law, false), law = broken }
  t.ok(skipped_names(skipped):find("residuals", 1, true), skipped_names(skipped))
  t.ok(#paths >= 2)
  t.raises(function() plot.study_figures { dir = sub, runs = {} } end, "no runs to plot")
end)

t.test("study_figures refuses a dir with a control character before it makes anything", function()
  -- It made the folder 'ctl<newline>figures', then figure:save refused every figure in it.
  t.raises(function() plot.study_figures { dir = dir .. "/ctl\nfigures", runs = runs } end,
    "plot.study_figures: dir = '" .. dir .. "/ctl\\nfigures' holds a control character (\\n); name the folder "
      .. "without line breaks, tabs or other control characters")
  t.raises(function() plot.study_figures { dir = dir .. "/ctl\27figures", runs = runs } end,
    "holds a control character (\\27)")
  local listing = io.popen("ls -A " .. dir):read("a")
  t.ok(not listing:find("ctl", 1, true), listing)
end)

t.test("study_figures makes its folder, as a study makes its report's", function()
  need_gnuplot()
  local sub = dir .. "/made/figures"
  local paths, skipped = plot.study_figures { dir = sub, runs = runs, law = law }
  t.eq(#paths, 5, skipped_names(skipped))
  for _, p in ipairs(paths) do t.ok(exists(p), p) end
  t.eq(skipped_names(skipped), "data_constrained")
  -- A folder that cannot be made is an error naming dir, not six skipped figures.
  t.write_file(dir .. "/a_file", "x")
  t.raises(function() plot.study_figures { dir = dir .. "/a_file/figures", runs = runs } end, "plot.study_figures: dir = ")
end)

t.test("isoflop with a fit that is no fit: a clear error", function()
  t.raises(function() plot.isoflop({ { N = 1e8, D = 1e9, loss = 3 } }, 42) end,
    "plot.isoflop: the fit must be an IsoFLOP fit (fit.isoflop's result, a study's s.fits.isoflop) or a law")
end)

t.test("isoflop on runs of no IsoFLOP sweep: a clear error", function()
  local grid = {}
  for _, N in ipairs({ 1e8, 1e9 }) do
    for _, D in ipairs({ 2e9, 3e10 }) do grid[#grid + 1] = { N = N, D = D, loss = law:predict { N = N, D = D } } end
  end
  t.raises(function() plot.isoflop(grid) end, "these runs are no IsoFLOP sweep: no compute budget has runs of two model sizes")
end)

t.test("isoflop on a grid study's runs read from its results store: a clear error; an IsoFLOP study's draw", function()
  -- A tiny simulated grid study whose runs share a compute by chance (targets 1e8 x 1.94e10 and
  -- 1e9 x 2e9 tokens: the shapes' 99.8M and 968M parameters make 1.16e19 FLOP each), and a tiny
  -- IsoFLOP study, each written to its store by scalelab.
  local root = t.scratch("plot-isoflop-store")
  local folder = t.script(root, [[
study "tinygrid" {
  backend = { kind = "simulated", law = fit.published.chinchilla },
  model = { aspect = 64 },
  sweep = sweep.grid{ N = { 1e8, 1e9 }, D = { 2e9, 1.94e10 } },
}
study "tinyiso" {
  backend = { kind = "simulated", law = fit.published.chinchilla },
  model = { aspect = 64 },
  sweep = sweep.isoflop{ budgets = { 1e18, 1e19 }, points = 3 },
}
]])
  local code, out = t.run(folder, "s.lua")
  t.eq(code, 0, out)
  local grid_store = store.open(folder .. "/tinygrid.db", { read_only = true })
  local grid = grid_store:runs { study = "tinygrid" }
  grid_store:close()
  t.eq(#grid, 4)
  t.eq(grid[1].config.budget, nil, "a grid's runs have no budget")
  -- Two runs at one compute, of two sizes: the shape alone would pass for an IsoFLOP budget.
  local groups = require("scalelab.plot.figures").budgets(require("scalelab.plot.figures").runs("test", grid))
  local shared = 0
  for _, g in ipairs(groups) do if #g.runs >= 2 then shared = shared + 1 end end
  t.eq(shared, 1, "two of the grid's runs share a compute")
  t.raises(function() plot.isoflop(grid) end, "these runs are no IsoFLOP sweep: they come from a study, and none of the 4 has a compute budget")
  t.raises(function() plot.isoflop(grid, fit.published.chinchilla) end, "plot.loss_compute draws runs at any compute")
  t.eq(#plot.isoflop_minima(grid), 0)
  t.ok(tostring(plot.loss_compute(grid)):find("^figure 'Loss against compute'"))
  -- The same runs as plain tables of N, D and loss say nothing of their sweep: drawn as given.
  local bare = {}
  for i, r in ipairs(grid) do bare[i] = { N = r.params, D = r.tokens, loss = r.loss } end
  t.ok(tostring(plot.isoflop(bare)):find("^figure 'IsoFLOP curves'"))
  -- An IsoFLOP study's runs from its store carry config.budget and draw, a curve per budget.
  local iso_store = store.open(folder .. "/tinyiso.db", { read_only = true })
  local iso = iso_store:runs { study = "tinyiso" }
  iso_store:close()
  t.eq(iso[1].config.budget ~= nil, true)
  local f = plot.isoflop(iso)
  t.eq(#f.minima, 2)
end)

t.test("layout: legends clear of the data, colour-bar labels clear of their ticks, losses in nats/token", function()
  -- loss_compute: training curves start high across the compute range: the legend goes below the
  -- axis label, with a bottom margin made for it.
  local lc = plot.loss_compute(runs, law, { compute = 1e21 })
  t.eq(lc.legend, "below")
  local script = F.script(lc)
  t.ok(script:find("set bmargin at screen 0.", 1, true), script)
  t.ok(script:find("set key at screen 0.45, screen [%d.]+ center bottom vertical"), script)
  t.ok(not script:find("set key below", 1, true))
  t.eq(lc.ylabel, "loss (nats/token)")
  -- allocation: N_opt and D_opt rise with compute; the legend sits at the empty lower right, away
  -- from the question's label at the upper right.
  local alloc = plot.allocation { runs = runs, law = law, compute = 1e21 }
  for _, panel in ipairs(alloc.panels) do
    t.eq(panel.legend, "bottom right")
    local label = panel.labels[1]
    local r = F.ranges(panel)
    t.ok(math.log(label.y / r.y[1]) / math.log(r.y[2] / r.y[1]) > 0.6, "the question's label is in the upper part")
  end
  -- Colour bar: the right margin grows with the widest tick label, which the label stands right of.
  t.near(F.label_width("2×10^{19}"), 4 + 2 * 0.7, 1e-12)
  t.eq(F.label_width("500M"), 4)
  local short = F.colorbar_layout({ { 1e18, "10^{18}" } }, "compute C (FLOP)", 13)
  local wide = F.colorbar_layout({ { 1.5e19, "1.5×10^{19}" } }, "compute C (FLOP)", 13)
  t.near(wide.room - short.room, (F.label_width("1.5×10^{19}") - F.label_width("10^{18}")) * 0.62 * 13, 1e-9)
  t.near(wide.label_at - wide.ticks_to, short.label_at - short.ticks_to, 1e-9)
  local narrow = plot.figure { colorbar = { label = "compute C (FLOP)", log = true, format = "flops" } }
  narrow:points { x = { 1, 2, 3 }, y = { 1, 2, 3 }, z = { 2e18, 1e19, 5e19 } }
  t.ok(F.script(narrow):find("set label %d+ 'compute C %(FLOP%)' at screen 0%.%d+, graph 0%.5 center rotate by 90"),
    F.script(narrow))
  for _, f in ipairs({ plot.isoflop(runs, law), plot.curves(runs), plot.data_constrained(fx.repeated_runs(), nil).panels[1] }) do
    t.ok(f.ylabel:find("(nats/token)", 1, true), f.ylabel)
  end
end)

-- Helvetica's advance widths (em) of the characters tick labels use; others count 0.6.
local HELVETICA = { ["."] = 0.278, ["×"] = 0.584, ["-"] = 0.333, [" "] = 0.278, ["%"] = 0.889, M = 0.833, B = 0.667,
                    k = 0.5, T = 0.611, G = 0.778 }
for d = 0, 9 do HELVETICA[tostring(d)] = 0.556 end

-- The texts of an SVG written by gnuplot: { x =, y =, anchor =, rotate =, text =, width = (in pixels,
-- from Helvetica's widths and each tspan's font size) }, and the SVG's width.
local function svg_texts(svg)
  local width = tonumber(svg:match('viewBox="0 0 ([%d.]+) [%d.]+"'))
  local texts = {}
  for attributes, body in svg:gmatch('<g transform="(translate%([^"]*)"([^>]*>%s*<text>.-)</text>') do
    local x, y = attributes:match("translate%(([%-%d.]+),([%-%d.]+)%)")
    local size = tonumber(body:match('font%-size="([%d.]+)"')) or 13
    local text, w = {}, 0
    for tspan_attributes, content in body:gmatch("<tspan([^>]*)>([^<]*)</tspan>") do
      local tsize = tonumber(tspan_attributes:match('font%-size="([%d.]+)"')) or size
      text[#text + 1] = content
      for _, c in utf8.codes(content) do w = w + (HELVETICA[utf8.char(c)] or 0.6) * tsize end
    end
    texts[#texts + 1] = { x = tonumber(x), y = tonumber(y), anchor = body:match('text%-anchor="(%a+)"'),
                          rotate = attributes:match("rotate%(([%-%d.]+)%)"), text = table.concat(text), width = w }
  end
  return texts, width
end

t.test("colour-bar labels stand inside the canvas, right of their widest tick label (isoflop, loss_compute, panels)", function()
  need_gnuplot()
  local law = fx.chinchilla()
  -- Budgets whose tick labels are wide: 1.5×10^{19}.
  local wide_runs = {}
  for _, C in ipairs({ 1.2e19, 3.7e19, 1.3e20 }) do
    for _, N in ipairs({ 1e8, 2e8, 4e8, 8e8, 1.6e9 }) do
      wide_runs[#wide_runs + 1] = { N = N, D = C / (6 * N), loss = law:predict { N = N, D = C / (6 * N) } }
    end
  end
  local cases = {
    { name = "isoflop", figure = plot.isoflop(wide_runs, law), label = "compute C (FLOP)" },
    { name = "loss_compute", figure = plot.loss_compute(runs, law), label = "parameters N" },
    { name = "data_constrained", figure = plot.data_constrained(fx.repeated_runs(), nil), label = "compute C (FLOP)" },
  }
  for _, case in ipairs(cases) do
    local path = dir .. "/cb_" .. case.name .. ".svg"
    case.figure:save(path)
    local texts, width = svg_texts(read(path))
    t.ok(width and width > 0, case.name .. ": the SVG's width")
    local label
    for _, text in ipairs(texts) do if text.text == case.label then label = text end end
    t.ok(label, case.name .. ": the SVG has the colour-bar label '" .. case.label .. "'")
    t.ok(label.rotate, case.name .. ": the label is turned")
    -- Turned, the label's glyphs lie within about 0.6 em either side of its x.
    t.ok(label.x + 0.6 * 13 <= width, string.format("%s: the label at x = %.1f is inside the canvas (%g wide)",
      case.name, label.x, width))
    -- The colour bar's tick labels: left-aligned texts at the label's height range, right of the
    -- plot and left of the label; none reaches the label, none leaves the canvas.
    local ticks = 0
    for _, text in ipairs(texts) do
      if text.anchor == "start" and not text.rotate and text.x > label.x - 150 and text.x < label.x and
          text.text:find("^[%d.×]+[%dMBkTG]*$") then
        ticks = ticks + 1
        t.ok(text.x + text.width + 4 <= label.x - 0.6 * 13, string.format("%s: tick label '%s' (%.1f to %.1f) clear of the label at %.1f",
          case.name, text.text, text.x, text.x + text.width, label.x))
        t.ok(text.x + text.width <= width, case.name .. ": tick label inside the canvas")
      end
    end
    t.ok(ticks >= 2, case.name .. ": found the colour bar's tick labels (" .. ticks .. ")")
  end
end)

t.test("every text of a figure, single or in panels, stands inside the canvas (the x-axis labels included)", function()
  need_gnuplot()
  local law = fx.chinchilla()
  local figures = {
    allocation = plot.allocation { law = law, compute = 1e21 },
    residuals = plot.residuals(runs, law),
    data_constrained = plot.data_constrained(fx.repeated_runs(), nil),
    loss_compute = plot.loss_compute(runs, law),
  }
  for name, figure in pairs(figures) do
    local path = dir .. "/inside_" .. name .. ".svg"
    figure:save(path)
    local svg = read(path)
    local height = tonumber(svg:match('viewBox="0 0 [%d.]+ ([%d.]+)"'))
    local texts = svg_texts(svg)
    t.ok(#texts > 0 and height, name .. ": texts and the canvas height")
    for _, text in ipairs(texts) do
      -- The baseline, plus the descenders of a 13-point font.
      t.ok(text.y + 4 <= height, string.format("%s: '%s' at y = %.1f inside the canvas (%g high)", name, text.text,
        text.y, height))
    end
  end
end)

t.test("curves on runs without curves points to an opened store's s:curve", function()
  local ok, message = pcall(plot.curves, { { N = 1e8, D = 1e9, loss = 3, hash = "abc" } })
  t.ok(not ok)
  message = tostring(message)
  t.ok(message:find("s = store.open(path)", 1, true), message)
  t.ok(message:find("s:curve(run.study, run.hash)", 1, true), message)
  t.ok(message:find("r.curve = s:curve(r.study, r.hash)", 1, true), message)
  -- The module `store` has no curve function: the hint never calls it.
  t.eq(rawget(store, "curve"), nil)
  t.ok(not message:find("store:curve", 1, true), message)
end)

t.test("a law's name is shown as it is spelled: its _ is no subscript (data_constrained, chinchilla_unrounded)", function()
  local law = fx.chinchilla(nil, "data_constrained")
  local runs = fx.isoflop_runs(law)
  local title = plot.residuals(runs, law).title
  t.ok(title:find("^data\\_constrained: L = "), title)
  local label
  for _, s in ipairs(plot.loss_compute(runs, law).series) do
    if s.label and s.label:find("constrained", 1, true) then label = s.label end
  end
  t.ok(label and label:find("^data\\_constrained: L = "), tostring(label))
  local allocation = plot.allocation { law = fx.chinchilla(nil, "chinchilla_unrounded"), compute = 1e21 }
  local n_label
  for _, s in ipairs(allocation.panels[1].series) do if s.kind == "line" then n_label = n_label or s.label end end
  t.ok(n_label:find("^chinchilla\\_unrounded: N_{opt}"), n_label)
  -- A label the caller gives is enhanced text already, kept as given.
  local labelled = fx.chinchilla(nil, "x")
  labelled.label = "L_{fit}"
  t.eq(F.escape("a_b"), "a\\_b")
  t.eq(require("scalelab.plot.figures").law_label(labelled), "L_{fit}")
end)

t.test("a colour bar reads from its smallest value to its largest: its ends are labelled", function()
  -- IsoFLOP budgets of 1e17 to 1e20 FLOP as a study's runs give them, the top one a few ulps short
  -- of 1e20: the top tick 10^{20} fell outside the colour range, and the largest budget had no label.
  local budgets = plot.figure { colorbar = { label = "compute C (FLOP)", log = true, format = "flops" } }
  budgets:points { x = { 1, 2, 3, 4 }, y = { 1, 2, 3, 4 }, z = { 9.999991547e16, 1.000000339e18, 1.000000006e19, 9.999999767e19 } }
  local cb = F.ranges(budgets).cb
  t.eq(cb[2], 1e20, "the colour range reaches the tick just above the largest budget")
  t.ok(cb[1] <= 1e17, "and the one at the smallest")
  local script = F.script(budgets)
  t.ok(script:find("'10^{20}' 1e+20", 1, true) and script:find("'10^{17}' 1e+17", 1, true), script)
  -- Model sizes of 10.03M to 1.05B (shapes round N): 10M, just below the smallest, is labelled.
  local sizes = plot.figure { colorbar = { label = "parameters N", log = true, format = "count" } }
  sizes:points { x = { 1, 2 }, y = { 1, 2 }, z = { 10028160, 1048270080 } }
  t.eq(F.ranges(sizes).cb[1], 1e7)
  t.ok(F.script(sizes):find("'10M' 10000000", 1, true), F.script(sizes))
  -- 8M to 2.12B: no labelled tick near the top (1B is a third of a decade below): the top is
  -- labelled with its value; 10M is near enough the bottom.
  local wide = plot.figure { colorbar = { label = "parameters N", log = true, format = "count" } }
  wide:points { x = { 1, 2 }, y = { 1, 2 }, z = { 8029184, 2121636608 } }
  t.eq(F.ranges(wide).cb[1], 8029184)
  t.eq(F.ranges(wide).cb[2], 2121636608)
  local wide_script = F.script(wide)
  t.ok(wide_script:find("'2.12B' 2121636608", 1, true), wide_script)
  t.ok(not wide_script:find("'8.03M'", 1, true), wide_script)
  -- One model size: the range around it ends at labelled ticks.
  local one = plot.figure { colorbar = { label = "parameters N", log = true, format = "count" } }
  one:points { x = { 1 }, y = { 1 }, z = { 98799360 } }
  t.eq(F.ranges(one).cb[2], 2e8)
  t.ok(F.script(one):find("'50M' 50000000", 1, true) and F.script(one):find("'200M' 200000000", 1, true), F.script(one))
  -- A range the caller gives is kept as given.
  local given = plot.figure { colorbar = { log = true, format = "flops", range = { 2e17, 9e19 } } }
  given:points { x = { 1, 2 }, y = { 1, 2 }, z = { 2e17, 9e19 } }
  t.eq(F.ranges(given).cb[1], 2e17)
  t.eq(F.ranges(given).cb[2], 9e19)
end)

t.test("data_constrained: a sweep.data_constrained whose runs share computes by chance is drawn per N and U_D", function()
  local dl = fx.datablations()
  -- sweep.data_constrained{ unique_tokens = { 1e8, 1e9 }, epochs = { 1, 2, 4, 8, 16, 40 }, N = { 2e7, 1e8 } }:
  -- C = 6·N·U·epochs, and N = 2e7 on 1e9 unique tokens shares its computes with N = 1e8 on 1e8
  -- (2e7·1e9·2 = 1e8·1e8·4): most runs share a budget, none shares its N and D.
  local runs = {}
  for _, U in ipairs({ 1e8, 1e9 }) do
    for _, e in ipairs({ 1, 2, 4, 8, 16, 40 }) do
      for _, N in ipairs({ 2e7, 1e8 }) do
        runs[#runs + 1] = { N = N, D = U * e, unique_tokens = U, loss = dl:predict { N = N, D = U * e, unique_tokens = U } }
      end
    end
  end
  local left = plot.data_constrained(runs, dl).panels[1]
  t.eq(left.title, "Loss against epochs at fixed N and unique data U_{D}")
  t.eq(left.colorbar.label, "parameters N")
  local lines = 0
  for _, s in ipairs(left.series) do
    if s.kind == "line" and not s.legend_only then
      lines = lines + 1
      -- Each law line is the law at its set's N and U_D (at fixed compute it was the law at a mean N).
      local N, U
      for _, candidate in ipairs({ 1e8, 1e9 }) do
        local matches = true
        for j, e in ipairs(s.x) do
          local expected = dl:predict { N = s.z, D = candidate * e, unique_tokens = candidate }
          if math.abs(expected - s.y[j]) > 1e-9 then matches = false end
        end
        if matches then N, U = s.z, candidate end
      end
      t.ok(N and U, string.format("law line %d is the law at one of the runs' N and U_D", lines))
    end
  end
  t.eq(lines, 4, "one law line per model size and unique data")
  -- Runs at fixed compute keep their figure: one N and D per budget, the epochs traded against U_D.
  t.eq(plot.data_constrained(fx.repeated_runs(dl), dl).panels[1].title, "Loss against epochs at fixed compute")
end)

t.test("data_constrained: sets of one N at several U_D, coloured alike by N, differ in marker and dash, named in the legend", function()
  -- The review: N = 2e7 at U_D = 100M and at 1B were two dark lines with dark dots, nothing to say which was which.
  local dl = fx.datablations()
  local runs = {}
  for _, U in ipairs({ 1e8, 1e9 }) do
    for _, e in ipairs({ 1, 2, 4, 8, 16 }) do
      for _, N in ipairs({ 2e7, 1e8 }) do
        runs[#runs + 1] = { N = N, D = U * e, unique_tokens = U, loss = dl:predict { N = N, D = U * e, unique_tokens = U } }
      end
    end
  end
  -- The unique data of a set, read back from its runs' points (epochs, loss) or its law line.
  local function U_of(s)
    for _, U in ipairs({ 1e8, 1e9 }) do
      if math.abs(dl:predict { N = s.z, D = U * s.x[1], unique_tokens = U } - s.y[1]) < 1e-9 then return U end
    end
  end
  for _, law in ipairs({ dl, false }) do
    local left = plot.data_constrained(runs, law or nil).panels[1]
    local style = { points = {}, line = {} }  -- U -> marker, U -> dash
    local entries = {}
    for _, s in ipairs(left.series) do
      if s.legend_only then
        entries[#entries + 1] = s
      elseif s.kind == "points" or s.kind == "line" then
        local U = U_of(s)
        t.ok(U, "each set is at one U_D")
        local value = s.kind == "points" and (s.marker or "circle") or (s.dash or "solid")
        local seen = style[s.kind][U]
        t.ok(seen == nil or seen == value, "one style per U_D")
        style[s.kind][U] = value
      end
    end
    t.ok(style.points[1e8] ~= style.points[1e9], "the two U_D have different markers")
    t.ok(style.line[1e8] ~= style.line[1e9], "the two U_D have different dashes")
    -- The legend names each U_D with its marker and dash.
    t.eq(#entries, 2)
    for i, U in ipairs({ 1e8, 1e9 }) do
      t.eq(entries[i].label, string.format("U_{D} = %s: runs and %s", U == 1e8 and "100M" or "1B",
        law and "law" or "line through them"))
      t.eq(entries[i].marker, style.points[U])
      t.eq(entries[i].dash or "solid", style.line[U])
    end
  end
  -- One U_D: circles and solid lines, as before, and the legend's runs and law.
  local one = {}
  for _, r in ipairs(runs) do if r.unique_tokens == 1e9 then one[#one + 1] = r end end
  local left = plot.data_constrained(one, dl).panels[1]
  local labels = {}
  for _, s in ipairs(left.series) do
    if s.legend_only then labels[#labels + 1] = s.label
    else t.eq(s.marker, nil); t.eq(s.dash, nil) end
  end
  t.eq(table.concat(labels, "; "), "runs; law, same N and U_{D}")
end)

t.test("a loosely fitted law's bootstrap band: samples that give no value are left out, and the band does not squeeze the data", function()
  -- A fit on a few runs: most bootstrap refits near the fit, some far off (an exponent near 0,
  -- a coefficient of 1e147), and some whose parameters give no N_opt at all (NaN).
  local p = { E = 1.7, A = 400, B = 410, alpha = 0.34, beta = 0.28 }
  local law = fx.chinchilla(p, "chinchilla")
  law.samples = {}
  for i = 1, 200 do
    local wobble = 1 + 0.05 * math.sin(i * 12.9898)
    law.samples[i] = { params = { E = 1.7, A = 400 * wobble, B = 410, alpha = 0.34 * wobble, beta = 0.28 } }
  end
  for i = 1, 6 do law.samples[i].params = { E = 0, A = 1e147, B = 18, alpha = 24, beta = 0.004 } end
  for i = 7, 60, 3 do law.samples[i].params = { E = 0, A = 12, B = 18, alpha = -0.45, beta = 0.3 } end  -- N_opt is NaN
  local allocation = plot.allocation { law = law, compute = 1e21, minima = { { C = 1e18, N = 1e8 }, { C = 1e19, N = 3e8 } } }
  local n_panel = allocation.panels[1]
  local band
  for _, s in ipairs(n_panel.series) do if s.kind == "band" then band = s end end
  t.ok(band, "the panel has its bootstrap band")
  for i = 1, #band.x do
    t.ok(band.low[i] == band.low[i] and band.high[i] == band.high[i], "no NaN in the band at " .. band.x[i])
    local fitted = fx.n_opt(law, band.x[i])
    t.ok(band.low[i] <= fitted and fitted <= band.high[i], "the band holds the fitted line at " .. band.x[i])
    if i > 1 then
      t.ok(band.low[i] >= band.low[i - 1] and band.high[i] >= band.high[i - 1], "the band rises with compute, as N_opt does")
    end
  end
  t.eq(require("scalelab.plot.figures").interval95({ 0 / 0, 3, 1, 0 / 0, 2 }), 1.05)
  -- A band over twenty decades: the y range holds the data and the line, and the band runs off the
  -- panel; not twenty decades with the data in a sliver.
  local f = plot.figure { ylog = true }
  f:band { x = { 1, 2, 3 }, low = { 1e-3, 1e-3, 1e-3 }, high = { 1e20, 1e20, 1e20 } }
  f:line { x = { 1, 2, 3 }, y = { 1e8, 2e8, 4e8 } }
  local y = F.ranges(f).y
  t.ok(y[1] > 1e6 and y[2] < 1e11, string.format("y range {%g, %g}", y[1], y[2]))
  -- A band alone sets the range; a band within the data's reach widens it as before.
  local alone = plot.figure { ylog = true }
  alone:band { x = { 1, 2 }, low = { 1, 1 }, high = { 100, 100 } }
  t.ok(F.ranges(alone).y[1] <= 1 and F.ranges(alone).y[2] >= 100)
  local near = plot.figure {}
  near:band { x = { 1, 2 }, low = { -0.02, -0.02 }, high = { 0.02, 0.02 } }
  near:points { x = { 1, 2 }, y = { -0.01, 0.01 } }
  t.ok(F.ranges(near).y[1] <= -0.02 and F.ranges(near).y[2] >= 0.02)
end)

os.execute("rm -rf " .. dir)
t.test("a figure's options of the wrong kind are refused where they are given, naming the option", function()
  -- They failed at f:save inside figure.lua ("attempt to concatenate a table value", "bad argument #2
  -- to 'format'"), or were ignored (xrange = "0:10", grid = "yes").
  t.raises(function() plot.figure{ title = {} } end, "plot.figure: title must be a string (got a table)")
  t.raises(function() plot.figure{ width = "wide" } end, 'plot.figure: width must be a positive number (got "wide")')
  t.raises(function() plot.figure{ xrange = "0:10" } end, 'plot.figure: xrange must be {lo, hi}, two numbers (got "0:10")')
  t.raises(function() plot.figure{ grid = "yes" } end, 'plot.figure: grid must be true or false (got "yes")')
  t.raises(function() plot.figure{ colorbar = { log = 1 } } end, "plot.figure colorbar: log must be true or false (got 1)")
  local f = plot.figure{ title = "t", headroom = 0.22, xrange = { 1, 10 } }
  t.raises(function() f:points{ x = { 1 }, y = { 2 }, label = {} } end, "figure:points: label must be a string (got a table)")
  t.raises(function() f:line{ x = { 1 }, y = { 2 }, width = -1 } end, "figure:line: width must be a positive number (got -1)")
  t.raises(function() f:band{ x = { 1 }, low = { 1 }, high = { 2 }, opacity = 2 } end,
    "figure:band: opacity must be a number from 0 to 1 (got 2)")
  t.raises(function() f:vline{ x = 1, color = {} } end, "figure:vline: color must be a string (got a table)")
  t.raises(function() plot.panels{ f, columns = "2" } end, 'plot.panels: columns must be a whole number >= 1 (got "2")')
  t.eq(#f.series, 0)
end)

t.test("plot.ticks, plot.gnuplot and plot.study_figures name a bad argument instead of failing inside the library", function()
  t.raises(function() plot.ticks(1, 100, true, "bogus") end, "plot.ticks(lo, hi, log, format): format: unknown format 'bogus'")
  t.raises(function() plot.ticks() end, "plot.ticks(lo, hi, log, format): lo and hi must be numbers (got nil, nil)")
  t.raises(function() plot.gnuplot({}) end, "plot.gnuplot(script): script must be a string of gnuplot commands (got a table)")
  local runs = { { N = 1e6, D = 1e7, loss = 3 } }
  t.raises(function() plot.study_figures{ dir = {}, runs = runs } end, "plot.study_figures: dir must be a string (got a table)")
  t.raises(function() plot.study_figures{ dir = "x", format = 5, runs = runs } end,
    "plot.study_figures: format must be a string (got an integer)")
  t.eq(#plot.ticks(0, 10, false, function(v) return tostring(v) end), 6)
end)

t.test("help(plot.figure) lists every option each f: method takes, and none it refuses", function()
  -- f:line's label = (its legend entry) was missing from the help, which listed only dash and width.
  local text = t.help_text(plot.figure)
  for _, method in ipairs { "points", "line", "band", "errorbars", "text", "vline", "hline" } do
    -- What the code takes: the names its error for an unknown argument lists.
    local f = plot.figure {}
    local ok, err = pcall(f[method], f, { not_an_option = 1 })
    t.ok(not ok, method)
    local valid = tostring(err):match("%(valid: ([^)]*)%)")
    t.ok(valid, tostring(err))
    -- The help's f:method{ ... } up to its closing brace (offset = {dx, dy} nests one).
    local from = text:find("f:" .. method .. "{", 1, true)
    t.ok(from, "help(plot.figure) names f:" .. method .. "\n" .. text)
    local depth, to = 0, nil
    for i = from, #text do
      local c = text:sub(i, i)
      if c == "{" then depth = depth + 1 elseif c == "}" then depth = depth - 1 end
      if depth == 0 and c == "}" then to = i break end
    end
    local documented = text:sub(from, to)
    local names = {}
    for name in valid:gmatch("[%w_]+") do
      names[name] = true
      t.ok(documented:find("[{ ,]" .. name .. " =") ~= nil, "f:" .. method .. " takes " .. name .. " =: " .. documented)
    end
    for name in documented:gmatch("([%w_]+) =") do
      t.ok(names[name], "f:" .. method .. " refuses the documented " .. name .. " =")
    end
  end
end)

t.done()
