-- plot.figure: a figure made of series (points, lines, bands, error bars), rendered by gnuplot.
--
--   local f = plot.figure{ title = "Loss against compute", xlabel = "compute C (FLOP)", ylabel = "loss",
--                          xlog = true, ylog = true, xformat = "flops" }
--   f:points{ x = C, y = loss, z = N, label = "runs" }   -- z: colour from the colour scale
--   f:line{ x = C, y = fitted, label = "fit", color = "black", dash = "dashed" }
--   f:band{ x = C, low = lo, high = hi, label = "95% interval" }
--   f:save "loss.svg"      -- also loss.gp (the gnuplot script) and loss.dat (its data)
--   f:show()               -- a window when there is a display, else a text rendering
--
-- Figures are plain Lua values: building one needs no gnuplot; only save and show run it.
local native = require "scalelab.native.plot"
local core = require "scalelab.native.core"

-- Every error these functions raise is about their caller's arguments: it is located at the user's
-- line (the first frame outside scalelab's library), however deep the library's own calls go. The
-- level arguments below are kept for reading only.
local error = require("scalelab.study.checks").error_at_user
local type_name = require("scalelab.study.checks").type_name

local M = {}

-- Settings shared by every figure; change them in a script or the REPL.
M.config = {
  program = nil,    -- the gnuplot program (nil: $SCALELAB_GNUPLOT, else gnuplot on PATH)
  timeout = 60,     -- seconds before a gnuplot run is stopped
  width = 900,      -- pixels (SVG, PNG); PDF uses width/120 inches
  height = 620,
  font = "Helvetica",
  font_size = 13,
}

-- The base font size of the terminal being written (titles, legends and labels scale from it),
-- and the canvas size in pixels (panels place themselves on it).
local active = { size = M.config.font_size, width = M.config.width, height = M.config.height }

M.colors = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
             "#7f7f7f", "#bcbd22" }
-- Viridis without its palest yellow, which vanishes on white.
M.palette = { "#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39" }

local markers = { circle = 7, square = 5, triangle = 9, diamond = 13, down = 11, pentagon = 15,
                  cross = 2, plus = 1, star = 3, ["open circle"] = 6, ["open square"] = 4,
                  ["open triangle"] = 8, ["open diamond"] = 12 }
local dashes = { solid = 1, dashed = 2, dotted = 3, dashdot = 4, ["long dashed"] = "(20,8)" }
local legend_places = { ["top right"] = "top right", ["top left"] = "top left",
                        ["bottom right"] = "bottom right", ["bottom left"] = "bottom left",
                        ["outside"] = "outside right top", ["below"] = "below center horizontal",
                        ["center right"] = "center right", ["center left"] = "center left" }

-- ---- argument checking ----------------------------------------------------------------------

local function names_of(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- core's "did you mean" rule (core/error.h), as every other unknown name gets.
local closest = core.closest_name

-- Raises a clear error for keys of `args` not in `allowed` (a set), suggesting the nearest one.
function M.check_keys(where, args, allowed, level)
  if type(args) ~= "table" then
    -- A library object by its type's name ("got userdata" said nothing of what was passed).
    local mt = getmetatable(args)
    local name = type(mt) == "table" and rawget(mt, "__name") or nil
    error(where .. ": expected a table of named arguments, got " .. (type(name) == "string" and name or type(args)),
      (level or 2) + 1)
  end
  for key in pairs(args) do
    if type(key) == "string" and not allowed[key] then
      local suggestion = closest(key, names_of(allowed))
      error(string.format("%s: unknown argument '%s'%s (valid: %s)", where, key,
        suggestion and ("; did you mean '" .. suggestion .. "'?") or "", table.concat(names_of(allowed), ", ")),
        (level or 2) + 1)
    end
  end
end

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

local function numbers(where, name, values, level)
  if type(values) ~= "table" then
    error(string.format("%s: %s must be an array of numbers, got %s", where, name, type(values)), level + 1)
  end
  local out = {}
  for i = 1, #values do
    local v = values[i]
    if type(v) ~= "number" then
      error(string.format("%s: %s[%d] is %s, not a number", where, name, i, tostring(v)), level + 1)
    end
    out[i] = v
  end
  return out
end

-- ---- number formats for tick labels ---------------------------------------------------------

local function is_finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end

-- The values an option takes, checked where it is given: a wrong one failed only at f:save, inside
-- this file ("attempt to concatenate a table value", "bad argument #2 to 'format'"), naming no
-- option, or was ignored (xrange = "0:10").
local option_kinds = {
  text = { "a string", function(v) return type(v) == "string" or type(v) == "number" end },
  flag = { "true or false", function(v) return type(v) == "boolean" end },
  positive = { "a positive number", function(v) return is_finite(v) and v > 0 end },
  fraction = { "a number from 0 to 1", function(v) return is_finite(v) and v >= 0 and v <= 1 end },
  nonnegative = { "a number >= 0", function(v) return is_finite(v) and v >= 0 end },
  count = { "a whole number >= 1", function(v) return is_finite(v) and v >= 1 and v == math.floor(v) end },
  range = { "{lo, hi}, two numbers", function(v)
    return type(v) == "table" and #v == 2 and is_finite(v[1]) and is_finite(v[2]) end },
}

local function check_options(where, spec, kinds, level)
  for key, kind in pairs(kinds) do
    local value = spec[key]
    local says, valid = option_kinds[kind][1], option_kinds[kind][2]
    if value ~= nil and not valid(value) then
      local got = type(value) == "string" and string.format("%q", value) or
        (type(value) == "number" and tostring(value) or type_name(value))
      error(string.format("%s: %s must be %s (got %s)", where, key, says, got), level + 1)
    end
  end
end
M.is_finite = is_finite

local function trim_zeros(s)
  if s:find("%.") then s = s:gsub("0+$", ""):gsub("%.$", "") end
  return s
end

-- "nan", "inf", "-inf": what every format labels a value that is not finite, as count does. power
-- said "-nan×10^{nan}" for NaN and "-nan×10^{inf}" for infinity; number and percent "-nan", "-nan%".
local function non_finite_label(v)
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
end

-- "10^{18}", "3×10^{18}", "-10^{18}": enhanced-text powers of ten, the mantissa to `digits`
-- significant digits (3 unless given). The mantissa and exponent are read from %e, which rounds the
-- mantissa first: the arithmetic it replaces labelled -1e21 "-1×10^{21}" (+1e21 is "10^{21}"), 9.996e21
-- "10×10^{21}", 1.004e21 "1×10^{21}", and a subnormal such as 5e-324 "inf×10^{-324}" (10^-324 is 0).
-- `shift` adds to the exponent: percent labels v·100 as v's mantissa at 10^(e+2), which v·100 itself
-- overflows for v above 1.8e306.
local function power_label(v, digits, shift)
  local special = non_finite_label(v)
  if special then return special end
  if v == 0 then return "0" end
  digits = digits or 3
  local mantissa, exponent = string.format("%." .. (digits - 1) .. "e", v):match("^(%-?[%d.]+)e([-+]%d+)$")
  local e = tonumber(exponent) + (shift or 0)
  local sign = v < 0 and "-" or ""
  mantissa = trim_zeros(mantissa:gsub("^%-", ""))
  if mantissa == "1" then return sign .. "10^{" .. e .. "}" end
  -- From 0.01 to 9999 plainly: `digits` significant digits, at least three decimals (0.125, 12.5).
  if e >= -2 and e <= 3 and not shift then
    local decimals = math.max(3, digits - 1 - e)
    return sign .. trim_zeros(string.format("%." .. decimals .. "f", math.abs(v)))
  end
  return sign .. mantissa .. "×10^{" .. e .. "}"
end

local formats = {
  count = function(v) return v == 0 and "0" or core.format_count(v) end,  -- -0.0 was "-0"
  flops = function(v) return power_label(v) end,
  power = function(v) return power_label(v) end,
  -- To 4 significant digits, in the exponent form too (it took power's 3 there: 12345678 -> 1.23×10^{7}).
  number = function(v)
    local special = non_finite_label(v)
    if special then return special end
    if v == 0 then return "0" end  -- -0.0 too, which %g writes "-0"
    local s = string.format("%.4g", v)
    if s:find("e") then return power_label(v, 4) end
    return s
  end,
  -- A value that rounds to 0% is "0%", not "-0%" (-1e-9 was "-0%"); from a million percent up, a power
  -- of ten ("10^{23}%", where 1e21 was "99999999999999991611392%" and 1e308 "inf%").
  percent = function(v)
    local special = non_finite_label(v)
    if special then return special end
    if math.abs(v) >= 1e4 then return power_label(v, 3, 2) .. "%" end
    local label = trim_zeros(string.format("%.2f", v * 100))
    return (label == "-0" and "0" or label) .. "%"
  end,
}
-- Each checks its value: given another, it failed inside this file, in library terms ("figure.lua:146:
-- bad argument #1 to 'format_count'", "attempt to perform arithmetic on a nil value (local 'v')"),
-- or labelled a number in quotes where the others refused it (percent("0.5") -> "50%").
for _, name in ipairs({ "count", "flops", "power", "number", "percent" }) do
  local format = formats[name]
  formats[name] = function(v)
    if type(v) ~= "number" then
      local got = v == nil and "nothing" or type_name(v)
      if type(v) == "string" then
        got = string.format("the string %q", v) ..
          (tonumber(v) and ": write the number without quotes" or "")
      end
      error(string.format("plot.formats.%s(v): v must be a number, the value to label, such as %s (got %s)", name,
        name == "percent" and "0.25" or "7.02e9", got), 2)
    end
    return format(v)
  end
end
M.formats = formats

local function formatter(where, format)
  if format == nil then return formats.number end
  if type(format) == "function" then return format end
  if formats[format] then return formats[format] end
  error(string.format("%s: unknown format '%s' (use count, flops, power, number, percent or a function)",
    where, tostring(format)), 4)
end

-- ---- ticks ----------------------------------------------------------------------------------

local function nice_step(span, target)
  local raw = span / target
  local e = math.floor(math.log(raw, 10))
  local base = 10 ^ e
  for _, m in ipairs({ 1, 2, 2.5, 5, 10 }) do
    if m * base >= raw then return m * base end
  end
  return 10 * base
end

-- The most ticks one axis gets: a bound on the tick loop, which a range narrower than the floats
-- can step through (a span of a few ulps: a step below one ulp of v, so v + step == v) would
-- otherwise never end.
local max_ticks = 100

-- Ticks when no step fits the range (lo == hi, or a span of a few ulps): its ends, or one tick where
-- their labels are the same.
local function end_ticks(lo, hi, fmt)
  if not (is_finite(lo) and is_finite(hi) and lo <= hi) then return {} end
  local ticks = { { lo, fmt(lo), false } }
  if hi > lo and fmt(hi) ~= ticks[1][2] then ticks[2] = { hi, fmt(hi), false } end
  return ticks
end

-- Ticks for an axis: { {value, label, minor} ... }.
function M.ticks(lo, hi, log, format)
  -- Checked here: a bad format or a missing bound failed further down, inside this file ("attempt to
  -- call a nil value (local 'fmt')", "attempt to perform arithmetic on a nil value (local 'hi')").
  local fmt = formatter("plot.ticks(lo, hi, log, format): format", format)
  if type(lo) ~= "number" or type(hi) ~= "number" then
    error(string.format("plot.ticks(lo, hi, log, format): lo and hi must be numbers (got %s, %s)",
      tostring(lo), tostring(hi)))
  end
  local ticks = {}
  if log then
    -- log10(0) is -inf and log10(inf) is inf: the decade loops below would never end.
    if not (is_finite(lo) and is_finite(hi) and lo > 0 and hi > 0) then
      error(string.format("plot.ticks: a log axis needs positive finite bounds, not {%s, %s}", tostring(lo), tostring(hi)))
    end
    local span = math.log(hi / lo, 10)
    local first, last = math.ceil(math.log(lo, 10) - 1e-9), math.floor(math.log(hi, 10) + 1e-9)
    if last - first + 1 >= 2 then
      local step = math.max(1, math.ceil((last - first + 1) / 8))
      for e = first - 1, last + 1 do
        local v = 10 ^ e
        if (e - first) % step == 0 and v >= lo * (1 - 1e-9) and v <= hi * (1 + 1e-9) then
          ticks[#ticks + 1] = { v, fmt(v), false }
        end
        if step == 1 then
          for m = 2, 9 do
            local w = m * v
            if w >= lo and w <= hi then ticks[#ticks + 1] = { w, "", true } end
          end
        end
      end
      -- Fewer than three labelled decades: label 2× and 5× too, so the axis can be read.
      if last - first + 1 <= 2 and step == 1 then
        for _, t in ipairs(ticks) do
          local m = t[1] / 10 ^ math.floor(math.log(t[1], 10) + 1e-9)
          if math.abs(m - 2) < 1e-6 or math.abs(m - 5) < 1e-6 then t[2], t[3] = fmt(t[1]), false end
        end
      end
      return ticks
    end
    -- Less than two decades: mantissa ticks such as 2, 3, 4, 5 or 1, 1.5, 2.
    local sets = { { 1, 2, 5 }, { 1, 2, 3, 5 }, { 1, 1.5, 2, 3, 4, 5, 6, 8 },
                   { 1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9 } }
    for _, mantissas in ipairs(sets) do
      ticks = {}
      for e = math.floor(math.log(lo, 10)) - 1, math.ceil(math.log(hi, 10)) do
        for _, m in ipairs(mantissas) do
          local v = m * 10 ^ e
          if v >= lo * (1 - 1e-9) and v <= hi * (1 + 1e-9) then ticks[#ticks + 1] = { v, fmt(v), false } end
        end
      end
      if #ticks >= 5 then break end
    end
    if #ticks < 3 then  -- a very narrow range: linear ticks
      return M.ticks(lo, hi, false, format)
    end
    if span > 0 then
      table.sort(ticks, function(a, b) return a[1] < b[1] end)
      -- Too many labels: drop every other one.
      while #ticks > 9 do
        local kept = {}
        for i = 1, #ticks, 2 do kept[#kept + 1] = ticks[i] end
        ticks = kept
      end
    end
    return ticks
  end
  local step = nice_step(hi - lo, 6)
  -- A step of 0 (lo == hi), below one ulp of the range's values, or far below its span: no ticks
  -- can be stepped through it.
  if not (step > 0 and step < math.huge) or (hi - lo) / step > max_ticks then return end_ticks(lo, hi, fmt) end
  local v = math.ceil(lo / step - 1e-9) * step
  while v <= hi + step * 1e-9 do
    local value = math.abs(v) < step * 1e-9 and 0 or v
    ticks[#ticks + 1] = { value, fmt(value), false }
    local following = v + step
    if not (following > v) or #ticks >= max_ticks then return end_ticks(lo, hi, fmt) end
    v = following
  end
  return ticks
end

-- ---- figures --------------------------------------------------------------------------------

local Figure = {}
Figure.__index = Figure
M.Figure = Figure
-- A mistyped method (f:pionts{...}) is an error that names the one meant.
require("scalelab.missing").note_misses(Figure, "a figure", "class")

-- The machinery of figures and panels (ranges, data blocks, the gnuplot body) is kept out of their
-- metatables, so that f: offers (Tab in the REPL) and help(f) lists only what users call:
-- internal[getmetatable(f)] = { data_blocks = function(f), body = function(f, data, first, framed) }.
local internal = {}

local figure_keys = set { "title", "xlabel", "ylabel", "xlog", "ylog", "xrange", "yrange", "xformat",
  "yformat", "colorbar", "legend", "width", "height", "grid", "legend_font_size", "headroom" }
local colorbar_keys = set { "label", "log", "range", "format" }

-- plot.figure{ title =, xlabel =, ylabel =, xlog = false, ylog = false, xrange = {lo, hi},
--   yrange =, xformat = "number"|"count"|"flops"|"power"|"percent"|function, yformat =,
--   colorbar = { label =, log =, range =, format = }, legend = "top right"|"outside"|false|...,
--   width =, height =, grid = true, headroom = (a fraction of the y span left empty above the
--   data, for the legend) }
function M.figure(spec)
  spec = spec or {}
  M.check_keys("plot.figure", spec, figure_keys)
  check_options("plot.figure", spec, { title = "text", xlabel = "text", ylabel = "text", xlog = "flag", ylog = "flag",
    xrange = "range", yrange = "range", width = "positive", height = "positive", grid = "flag",
    legend_font_size = "positive", headroom = "nonnegative" }, 2)
  if spec.colorbar ~= nil then
    M.check_keys("plot.figure colorbar", spec.colorbar, colorbar_keys)
    check_options("plot.figure colorbar", spec.colorbar, { label = "text", log = "flag", range = "range" }, 2)
  end
  if spec.legend ~= nil and spec.legend ~= false and not legend_places[spec.legend] then
    error("plot.figure: legend must be false or one of: " .. table.concat(names_of(legend_places), ", ") ..
      " (got '" .. tostring(spec.legend) .. "')", 2)
  end
  local f = setmetatable({ series = {}, labels = {}, rules = {} }, Figure)
  for k, v in pairs(spec) do f[k] = v end
  if f.legend == nil then f.legend = "top right" end
  if f.grid == nil then f.grid = true end
  formatter("plot.figure xformat", f.xformat)
  formatter("plot.figure yformat", f.yformat)
  return f
end

local series_options = { label = "text", color = "text", size = "positive", width = "positive", opacity = "fraction" }

local function add_series(f, kind, where, spec, allowed, level)
  M.check_keys(where, spec, allowed, level + 1)
  check_options(where, spec, series_options, level + 1)
  local s = { kind = kind }
  for k, v in pairs(spec) do s[k] = v end
  s.x = numbers(where, "x", spec.x, level + 1)
  for _, name in ipairs({ "y", "low", "high" }) do
    if allowed[name] and name ~= "z" then
      if spec[name] == nil then error(where .. ": " .. name .. " is required", level + 1) end
      s[name] = numbers(where, name, spec[name], level + 1)
      if #s[name] ~= #s.x then
        error(string.format("%s: x has %d values but %s has %d", where, #s.x, name, #s[name]), level + 1)
      end
    end
  end
  if type(spec.z) == "table" then
    s.z = numbers(where, "z", spec.z, level + 1)
    if #s.z ~= #s.x then error(string.format("%s: x has %d values but z has %d", where, #s.x, #s.z), level + 1) end
  elseif spec.z ~= nil and type(spec.z) ~= "number" then
    error(where .. ": z must be a number (one colour from the colour scale) or an array of numbers", level + 1)
  end
  if spec.marker ~= nil and not markers[spec.marker] then
    error(where .. ": unknown marker '" .. tostring(spec.marker) .. "' (use " ..
      table.concat(names_of(markers), ", ") .. ")", level + 1)
  end
  if spec.dash ~= nil and not dashes[spec.dash] then
    error(where .. ": unknown dash '" .. tostring(spec.dash) .. "' (use " .. table.concat(names_of(dashes), ", ") .. ")",
      level + 1)
  end
  f.series[#f.series + 1] = s
  return f
end

-- A series method called with a dot (f.points{ x =, y = }) took the table for the figure and said "expected a
-- table of named arguments, got nil": said, naming the method and the colon.
local function check_figure(self, method, level)
  if getmetatable(self) ~= Figure then
    local mt = getmetatable(self)
    local got = type(mt) == "table" and type(rawget(mt, "__name")) == "string" and rawget(mt, "__name") or type(self)
    error(string.format("figure:%s: call it with a colon, f:%s{ ... }, on a figure (got %s)", method, method, got),
      level + 1)
  end
end

local style = { "label", "color", "z", "legend_only" }
local function keys(list)
  local s = set(list)
  for _, k in ipairs(style) do s[k] = true end
  return s
end

-- f:points{ x =, y =, label =, color =, z = (array: colours from the colour scale; number: one
--   colour from it), marker = "circle"|"square"|..., size = 1 }
function Figure:points(spec)
  check_figure(self, "points", 2)
  return add_series(self, "points", "figure:points", spec, keys { "x", "y", "marker", "size" }, 2)
end

-- f:line{ x =, y =, label =, color =, z = (one colour from the colour scale), width = 2,
--   dash = "solid"|"dashed"|"dotted"|"dashdot", marker = (points on the line too), size = }
function Figure:line(spec)
  check_figure(self, "line", 2)
  return add_series(self, "line", "figure:line", spec, keys { "x", "y", "width", "dash", "marker", "size" }, 2)
end

-- f:band{ x =, low =, high =, label =, color =, z =, opacity = 0.2 }: a shaded interval.
function Figure:band(spec)
  check_figure(self, "band", 2)
  return add_series(self, "band", "figure:band", spec, keys { "x", "low", "high", "opacity" }, 2)
end

-- f:errorbars{ x =, y =, low =, high =, label =, color =, marker =, size = }: points with vertical bars.
function Figure:errorbars(spec)
  check_figure(self, "errorbars", 2)
  return add_series(self, "errorbars", "figure:errorbars", spec, keys { "x", "y", "low", "high", "marker", "size" }, 2)
end

-- f:text{ x =, y =, text =, align = "left"|"center"|"right", color =, size =, offset = {dx, dy} (characters) }
function Figure:text(spec)
  check_figure(self, "text", 2)
  M.check_keys("figure:text", spec, set { "x", "y", "text", "align", "color", "size", "offset" })
  check_options("figure:text", spec, series_options, 2)
  if type(spec.x) ~= "number" or type(spec.y) ~= "number" or type(spec.text) ~= "string" then
    error("figure:text: needs x and y numbers and a text string", 2)
  end
  self.labels[#self.labels + 1] = spec
  return self
end

-- f:vline{ x =, color =, dash = "dashed", label = } and f:hline{ y =, ... }: a rule across the plot.
function Figure:vline(spec)
  check_figure(self, "vline", 2)
  M.check_keys("figure:vline", spec, set { "x", "color", "dash", "label", "width" })
  check_options("figure:vline", spec, series_options, 2)
  if type(spec.x) ~= "number" then error("figure:vline: x must be a number", 2) end
  self.rules[#self.rules + 1] = { axis = "x", at = spec.x, color = spec.color, dash = spec.dash, label = spec.label,
                                  width = spec.width }
  return self
end

function Figure:hline(spec)
  check_figure(self, "hline", 2)
  M.check_keys("figure:hline", spec, set { "y", "color", "dash", "label", "width" })
  check_options("figure:hline", spec, series_options, 2)
  if type(spec.y) ~= "number" then error("figure:hline: y must be a number", 2) end
  self.rules[#self.rules + 1] = { axis = "y", at = spec.y, color = spec.color, dash = spec.dash, label = spec.label,
                                  width = spec.width }
  return self
end

-- ---- ranges ---------------------------------------------------------------------------------

-- A range narrower than this, relative to its magnitude, is as good as a single value: values
-- a few ulps apart (losses all capped at ln 256) would otherwise get a range no step of ticks can
-- advance through, and are padded as if they were equal.
local min_relative_span = 1e-9

local function narrow(lo, hi, log)
  if log then return hi / lo - 1 <= min_relative_span end
  return hi - lo <= min_relative_span * math.max(math.abs(lo), math.abs(hi))
end

local function widen(lo, hi, log, pad)
  pad = pad or 0.04
  if log then
    if narrow(lo, hi, true) then return lo / 2, hi * 2 end
    local span = math.log(hi / lo)
    return lo * math.exp(-pad * span), hi * math.exp(pad * span)
  end
  if narrow(lo, hi, false) then
    local m = math.max(math.abs(lo), math.abs(hi))
    local d = m == 0 and 1 or m * 0.1
    return lo - d, hi + d
  end
  local d = (hi - lo) * pad
  return lo - d, hi + d
end

local function series_name(s, i)
  return string.format("series %d (%s%s)", i, s.kind, s.label and (" '" .. s.label .. "'") or "")
end

-- The axis ranges the figure will use: { x = {lo, hi}, y = {lo, hi}, cb = {lo, hi} or nil }
-- (require("scalelab.plot.figure").ranges(f)).
function M.ranges(self)
  -- band: the y extent of the bands (shaded intervals), which widen the y range only so far (below).
  local bounds = { x = { math.huge, -math.huge }, y = { math.huge, -math.huge }, cb = { math.huge, -math.huge },
                   band = { math.huge, -math.huge } }
  local function take(axis, v, log, s, i, what)
    if not is_finite(v) then return end
    if log and v <= 0 then
      error(string.format("plot: %s has %s = %g, which a log axis cannot show (drop it, or use %slog = false)",
        series_name(s, i), what, v, axis), 4)
    end
    local b = bounds[axis]
    if v < b[1] then b[1] = v end
    if v > b[2] then b[2] = v end
  end
  local cblog = self.colorbar and self.colorbar.log
  for i, s in ipairs(self.series) do
    if not s.legend_only then
      for j = 1, #s.x do
        local finite = is_finite(s.x[j]) and (s.y == nil or is_finite(s.y[j]))
        if finite then
          take("x", s.x[j], self.xlog, s, i, "x")
          if s.y then take("y", s.y[j], self.ylog, s, i, "y") end
          local into = s.kind == "band" and "band" or "y"
          if s.low then take(into, s.low[j], self.ylog, s, i, "low") end
          if s.high then take(into, s.high[j], self.ylog, s, i, "high") end
        end
      end
    end
    if type(s.z) == "table" then
      for j = 1, #s.z do take("cb", s.z[j], cblog, s, i, "z") end
    elseif type(s.z) == "number" then
      take("cb", s.z, cblog, s, i, "z")
    end
  end
  for _, r in ipairs(self.rules) do
    take(r.axis, r.at, self[r.axis .. "log"], { kind = r.axis == "x" and "vline" or "hline", label = r.label }, 0, r.axis)
  end
  -- A band widens the y range by at most the span of the rest of the data on either side (a decade
  -- at least on a log axis): the bootstrap band of a loosely determined fit can run over twenty
  -- decades, and the data and the fitted line would be squeezed into a sliver of the panel. Such a
  -- band runs off the panel's edge, which shows it is wider than the panel.
  local y, band = bounds.y, bounds.band
  if band[1] <= band[2] then
    if y[1] > y[2] then
      y[1], y[2] = band[1], band[2]
    elseif self.ylog then
      local reach = math.max(y[2] / y[1], 10)
      y[1], y[2] = math.min(y[1], math.max(band[1], y[1] / reach)), math.max(y[2], math.min(band[2], y[2] * reach))
    else
      local reach = y[2] - y[1]
      if reach <= 0 then reach = math.max(math.abs(y[1]), 1) end
      y[1], y[2] = math.min(y[1], math.max(band[1], y[1] - reach)), math.max(y[2], math.min(band[2], y[2] + reach))
    end
  end
  local out = {}
  for _, axis in ipairs({ "x", "y" }) do
    local b = bounds[axis]
    local given = self[axis .. "range"]
    local log = self[axis .. "log"]
    local lo, hi
    if b[1] > b[2] then lo, hi = log and 0.1 or 0, log and 10 or 1 else lo, hi = widen(b[1], b[2], log) end
    if axis == "y" and self.headroom and b[1] <= b[2] then
      -- Room above the data for the legend: a fraction of the data's span (log span on log axes).
      if log then hi = hi * (b[2] / b[1]) ^ self.headroom else hi = hi + (b[2] - b[1]) * self.headroom end
    end
    if given then
      lo, hi = given[1] or lo, given[2] or hi
      if log and (lo <= 0 or hi <= 0) then
        error(string.format("plot: %srange {%g, %g} must be positive on a log axis", axis, lo, hi), 3)
      end
      if not (lo < hi) then error(string.format("plot: %srange {%g, %g} must be increasing", axis, lo, hi), 3) end
    end
    out[axis] = { lo, hi }
  end
  if bounds.cb[1] <= bounds.cb[2] then
    local lo, hi = bounds.cb[1], bounds.cb[2]
    if narrow(lo, hi, cblog) then lo, hi = widen(lo, hi, cblog) end
    if self.colorbar and self.colorbar.range then
      lo, hi = self.colorbar.range[1], self.colorbar.range[2]
    else
      lo, hi = M.snap_colorbar(lo, hi, cblog, formatter("plot", self.colorbar and self.colorbar.format))
    end
    out.cb = { lo, hi }
  end
  return out
end

-- How near an end of the colour scale (a fraction of its span, log span on a log scale) a labelled
-- tick must be for that end to be read off the bar: a labelled tick just outside the data's range
-- takes the range out to it, and an end with none this near is labelled with its own value.
local colorbar_reach = 0.08

-- The colour range out to the labelled ticks just beyond the data's extremes (lo, hi): budgets of
-- 1e17 to 1e20 FLOP come out as 1e17 to 9.99999998e19, whose top tick 10^{20} would fall outside
-- the bar and leave the largest budget unlabelled.
function M.snap_colorbar(lo, hi, log, fmt)
  if not (is_finite(lo) and is_finite(hi) and lo < hi) or (log and lo <= 0) then return lo, hi end
  local span = log and math.log(hi / lo) or hi - lo
  local wlo = log and lo * math.exp(-colorbar_reach * span) or lo - colorbar_reach * span
  local whi = log and hi * math.exp(colorbar_reach * span) or hi + colorbar_reach * span
  local new_lo, new_hi = lo, hi
  for _, t in ipairs(M.ticks(wlo, whi, log, fmt)) do
    if not t[3] and t[2] ~= "" then
      if t[1] < lo and t[1] >= wlo and (new_lo == lo or t[1] > new_lo) then new_lo = t[1] end
      if t[1] > hi and t[1] <= whi and (new_hi == hi or t[1] < new_hi) then new_hi = t[1] end
    end
  end
  return new_lo, new_hi
end

-- The colour bar's ticks over {lo, hi}, with an end that has no labelled tick near it (within
-- colorbar_reach of the span) labelled with its own value: the bar then reads from its smallest
-- value to its largest (a sweep of 8M to 2.1B parameters shows 2.1B at the top, not only 1B).
function M.colorbar_ticks(lo, hi, log, fmt)
  local ticks = M.ticks(lo, hi, log, fmt)
  if not (is_finite(lo) and is_finite(hi) and lo < hi) or (log and lo <= 0) then return ticks end
  local function position(v) return log and math.log(v / lo) / math.log(hi / lo) or (v - lo) / (hi - lo) end
  local near_lo, near_hi = false, false
  for _, t in ipairs(ticks) do
    if not t[3] and t[2] ~= "" then
      if position(t[1]) <= colorbar_reach then near_lo = true end
      if position(t[1]) >= 1 - colorbar_reach then near_hi = true end
    end
  end
  if not near_lo then table.insert(ticks, 1, { lo, fmt(lo), false }) end
  if not near_hi then ticks[#ticks + 1] = { hi, fmt(hi), false } end
  return ticks
end

-- ---- gnuplot script -------------------------------------------------------------------------

-- Text shown literally in enhanced-text mode (run names with _ or ^): plot.escape("run_12").
function M.escape(text)
  return (tostring(text):gsub("[_%^@&~{}\\]", "\\%0"))
end

local function quote(s)
  return "'" .. tostring(s):gsub("'", "''"):gsub("\r?\n", "\\n"):gsub("\r", "\\n") .. "'"
end
M.quote = quote

-- Enhanced text as plain text, for the dumb terminal, which shows markup as it is ("10^{18}",
-- "N_{opt}", "run\\_12"): a group after ^ or _ loses its braces ("10^18", "N_opt"), or gets
-- parentheses where it is more than one word or number ("e^(−(E−1)/R_D*)"); an escaped character is
-- itself; a font group ({/Symbol a}) and a plain group ({ab}) are their text.
-- (require("scalelab.plot.figure").plain(text))
function M.plain(text)
  text = tostring(text)
  local out, i, n = {}, 1, #text
  local function group(from)  -- the text inside the braces opening at `from`, and the index after them
    local depth, j = 0, from
    while j <= n do
      local c = text:sub(j, j)
      if c == "\\" then j = j + 1
      elseif c == "{" then depth = depth + 1
      elseif c == "}" then
        depth = depth - 1
        if depth == 0 then return text:sub(from + 1, j - 1), j + 1 end
      end
      j = j + 1
    end
    return nil
  end
  while i <= n do
    local c = text:sub(i, i)
    if c == "\\" and i < n then
      out[#out + 1] = text:sub(i + 1, i + 1)
      i = i + 2
    elseif (c == "^" or c == "_") and text:sub(i + 1, i + 1) == "{" and group(i + 1) then
      local inner, after = group(i + 1)
      inner = M.plain(inner)
      local simple = inner:gsub("\u{2212}", "-"):match("^[%-+]?[%w%.]+$")
      out[#out + 1] = c .. (simple and inner or "(" .. inner .. ")")
      i = after
    elseif c == "{" and group(i) then
      local inner, after = group(i)
      out[#out + 1] = M.plain((inner:gsub("^/[^%s]*%s?", "")))
      i = after
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  return table.concat(out)
end

-- A title or label as a quoted string of the script, shown as text: each byte that is no part of
-- valid UTF-8 becomes U+FFFD and each control character but a line break a space, as gnuplot writes
-- them into the SVG as they are, where an XML reader (a browser) refuses the whole file for one.
-- On the dumb terminal, plain text (M.plain).
local function text(s)
  if active.dumb then s = M.plain(s) end
  local shown = require("scalelab.pretty").replace_invalid_utf8(tostring(s), function() return "\u{FFFD}" end)
  return quote((shown:gsub("[%z\1-\8\11-\31]", " ")))
end

-- A title or label in a comment of the script, on the comment's one line: a line break in it would
-- end the comment, and gnuplot would read the rest as a command (or as data, in a data block).
local function one_line(text)
  return (tostring(text):gsub("[\r\n]+", " "))
end

local function num(v)
  if not is_finite(v) then return "NaN" end
  return string.format("%.10g", v)
end

local function color_spec(s, index)
  if type(s.z) == "number" then return "lc palette cb " .. num(s.z) end
  if type(s.z) == "table" then return "lc palette" end
  local c = s.color or M.colors[(index - 1) % #M.colors + 1]
  return "lc rgb " .. quote(c)
end

-- The data of the figure: one block per series (gnuplot's index), each with a header comment.
local function figure_data_blocks(self)
  local blocks = {}
  for i, s in ipairs(self.series) do
    if not s.legend_only then
      local lines = { string.format("# series %d: %s%s", #blocks, s.kind, s.label and (" '" .. one_line(s.label) .. "'") or "") }
      local columns
      if s.kind == "band" then columns = { "x", "low", "high" }
      elseif s.kind == "errorbars" then columns = { "x", "y", "low", "high" }
      else columns = { "x", "y" } end
      if type(s.z) == "table" then columns[#columns + 1] = "z" end
      lines[#lines + 1] = "# " .. table.concat(columns, " ")
      for j = 1, #s.x do
        local row = {}
        for c, name in ipairs(columns) do row[c] = num(s[name][j]) end
        lines[#lines + 1] = table.concat(row, " ")
      end
      s.block = #blocks
      blocks[#blocks + 1] = table.concat(lines, "\n")
    end
    s.index = i
  end
  return blocks
end

-- The width of a tick label in characters as it is drawn: enhanced-text markup left out, and
-- super- and subscripts (^{19}, _{opt}) counted at their smaller size.
function M.label_width(text)
  local small = 0
  local plain = text:gsub("[%^_]{([^}]*)}", function(inner) small = small + utf8.len(inner) return "" end)
  plain = plain:gsub("[%^_](.)", function(c) small = small + 1 return "" end):gsub("\\", "")
  return (utf8.len(plain) or #plain) + 0.7 * small
end

-- The layout right of the plot of a figure with a colour bar, in pixels of the canvas, from the
-- plot's right edge: the colour box, its tick labels (as wide as the widest of `ticks` is drawn),
-- and the label, rotated, right of them. room: how much the right margin must hold, so that the
-- label always stands inside the canvas and clear of the tick labels however wide they are.
-- (require("scalelab.plot.figure").colorbar_layout(ticks, label [, em]); em: the font size in
-- pixels of the canvas.)
function M.colorbar_layout(ticks, label, em)
  em = em or active.em or active.size
  local widest, char = 0, 0.62
  for _, t in ipairs(ticks) do
    widest = math.max(widest, active.dumb and (utf8.len(t[2]) or #t[2]) or M.label_width(t[2]))
  end
  if active.dumb then char = 1 end
  local layout = {}
  layout.box_from = 1.5 * em                       -- the gap between the plot and the colour box
  layout.box_to = layout.box_from + 1.6 * em        -- the colour box
  layout.ticks_from = layout.box_to + 1.3 * em      -- tick marks, then the tick labels
  -- Helvetica's digits are 0.56 em wide, M 0.83: 0.62 em a character errs on the wide side.
  layout.ticks_to = layout.ticks_from + widest * char * em
  if label and active.dumb then
    -- Text cannot turn on the dumb terminal: the label stands above the colour box instead.
    layout.label_at, layout.above = layout.box_from, true
    layout.room = math.max(layout.ticks_to, layout.box_from + (utf8.len(label) or #label) * em) + em
  elseif label then
    -- The middle of the label's line (gnuplot centres a centred label's glyphs on its position):
    -- rotated, its glyphs reach about 0.55 em to either side.
    layout.label_at = layout.ticks_to + 0.8 * em + 0.55 * em
    layout.room = layout.label_at + 0.55 * em + 0.6 * em
  else
    layout.room = layout.ticks_to + 0.6 * em
  end
  return layout
end

-- The colour bar's ticks and layout of a figure, or nil when it has no colour bar.
local function colorbar_of(self, r)
  r = r or M.ranges(self)
  if not r.cb then return nil end
  local cb = self.colorbar or {}
  local ticks = M.colorbar_ticks(r.cb[1], r.cb[2], cb.log, formatter("plot", cb.format))
  return ticks, M.colorbar_layout(ticks, cb.label)
end

local function tics_command(axis, ticks)
  local entries = {}
  for _, t in ipairs(ticks) do
    -- gnuplot reads explicit tic labels as formats: a literal % is written %%.
    local label = active.dumb and M.plain(t[2]) or t[2]
    entries[#entries + 1] = string.format("%s %s%s", quote(label:gsub("%%", "%%%%")), num(t[1]), t[3] and " 1" or "")
  end
  return string.format("set %stics (%s)", axis, table.concat(entries, ", "))
end

-- The gnuplot commands that set up the axes and draw the series; `data` names the data source
-- ("$data" or "'name.dat'"), `first_block` the index of this figure's first block in it.
-- `framed`: the figure is a panel whose margins panels_body has set; `right` is then the x of its
-- plot's right edge in pixels of the canvas.
local function figure_body(self, data, first_block, framed, right)
  local r = M.ranges(self)
  local fs = active.size
  local out = {}
  local function add(...) out[#out + 1] = string.format(...) end
  add("# ---- %s", one_line(self.title or "figure"))
  if self.title then add("set title %s font ',%d'", text(self.title), fs + 2) end
  add("set border 3 lw 1 lc rgb '#444444'")
  add("set tics nomirror out scale 0.8,0.4")
  if self.grid then add("set grid xtics ytics lw 1 lc rgb '#dedede'") end
  for _, axis in ipairs({ "x", "y" }) do
    local log = self[axis .. "log"]
    if log then add("set logscale %s 10", axis) end
    add("set %srange [%s:%s]", axis, num(r[axis][1]), num(r[axis][2]))
    add("%s", tics_command(axis, M.ticks(r[axis][1], r[axis][2], log, formatter("plot", self[axis .. "format"]))))
    if self[axis .. "label"] then add("set %slabel %s", axis, text(self[axis .. "label"])) end
  end
  if r.cb then
    local cb = self.colorbar or {}
    add("set palette defined (%s)", (function()
      local p = {}
      for i, c in ipairs(M.palette) do p[i] = string.format("%d %s", i - 1, quote(c)) end
      return table.concat(p, ", ")
    end)())
    if cb.log then add("set logscale cb 10") end
    add("set cbrange [%s:%s]", num(r.cb[1]), num(r.cb[2]))
    local cbticks, layout = colorbar_of(self, r)
    add("%s", tics_command("cb", cbticks))
    -- The right margin holds the colour box, its tick labels and the label, placed in pixels from
    -- the plot's right edge: gnuplot's own cblabel goes by its estimate of the tick labels' width
    -- (too narrow for "2×10^{19}") and may leave the canvas.
    if not framed then
      right = active.width - layout.room
      add("set rmargin at screen %s", num(right / active.width))
    end
    add("set colorbox vertical user origin screen %s, graph 0 size screen %s, graph 1",
      num((right + layout.box_from) / active.width), num((layout.box_to - layout.box_from) / active.width))
    if cb.label and layout.above then
      add("set label %d %s at screen %s, graph 1 left offset 0,1 front", #self.labels + 1, text(cb.label),
        num((right + layout.label_at) / active.width))
    elseif cb.label then
      add("set label %d %s at screen %s, graph 0.5 center rotate by 90 font ',%d' front", #self.labels + 1,
        text(cb.label), num((right + layout.label_at) / active.width), fs)
    end
  else
    add("unset colorbox")
  end
  -- The legend's entries: the labelled series and rules. With none, gnuplot still draws the key's
  -- empty box (a grey bar in the corner, which in a text rendering covers the point there).
  local entries = 0
  for _, s in ipairs(self.series) do if s.label then entries = entries + 1 end end
  for _, rule in ipairs(self.rules) do if rule.label then entries = entries + 1 end end
  if entries == 0 then
    add("unset key")
  elseif self.legend == "below" and not framed then
    -- Below the x axis label, in one column: gnuplot's own "key below" overprints the label. The
    -- bottom margin makes room for the entries (about 1.5 font sizes each) and the axis label.
    local key_px = (entries + 0.8) * 1.5 * (self.legend_font_size or fs)
    add("set bmargin at screen %s", num(math.min(0.6, (key_px + 4.6 * fs + 8) / active.height)))
    add("set key at screen %s, screen %s center bottom vertical Left reverse opaque box lc rgb '#bbbbbb' samplen 2.5 " ..
      "spacing 1.1 width 1 font ',%d'", r.cb and "0.45" or "0.5", num(6 / active.height), self.legend_font_size or fs)
  elseif self.legend then
    add("set key %s Left reverse opaque box lc rgb '#bbbbbb' samplen 2.5 spacing 1.1 width 1 font ',%d'",
      legend_places[self.legend], self.legend_font_size or fs)
  else
    add("unset key")
  end
  if #self.labels > 0 then add("set style textbox opaque fc rgb 'white' noborder margins 2,1") end
  for i, l in ipairs(self.labels) do
    add("set label %d %s at %s,%s %s offset character %s,%s tc rgb %s font ',%d' boxed front", i, text(l.text), num(l.x),
      num(l.y), l.align or "left", num(l.offset and l.offset[1] or 0), num(l.offset and l.offset[2] or 0),
      quote(l.color or "#222222"), l.size or (fs - 1))
  end
  for i, rule in ipairs(self.rules) do
    local from = rule.axis == "x" and string.format("first %s, graph 0 to first %s, graph 1", num(rule.at), num(rule.at))
        or string.format("graph 0, first %s to graph 1, first %s", num(rule.at), num(rule.at))
    add("set arrow %d from %s nohead dt %s lw %s lc rgb %s back", i, from, tostring(dashes[rule.dash or "dashed"]),
      num(rule.width or 1.2), quote(rule.color or "#777777"))
  end
  local elements = {}
  -- Bands first so that lines and points are drawn over them.
  local order = {}
  for _, s in ipairs(self.series) do if s.kind == "band" then order[#order + 1] = s end end
  for _, s in ipairs(self.series) do if s.kind ~= "band" then order[#order + 1] = s end end
  for _, rule in ipairs(self.rules) do
    if rule.label then
      elements[#elements + 1] = string.format("keyentry with lines dt %s lw %s lc rgb %s title %s",
        tostring(dashes[rule.dash or "dashed"]), num(rule.width or 1.2), quote(rule.color or "#777777"), text(rule.label))
    end
  end
  for _, s in ipairs(order) do
    local source = s.legend_only and "keyentry" or string.format("%s index %d", data, first_block + s.block)
    local title = s.label and ("title " .. text(s.label)) or "notitle"
    local color = color_spec(s, s.index)
    local using, with
    local zcol = type(s.z) == "table"
    if s.kind == "points" then
      using = zcol and "1:2:3" or "1:2"
      with = string.format("points pt %d ps %s %s", markers[s.marker or "circle"], num(s.size or 1.1), color)
    elseif s.kind == "line" then
      using = "1:2"
      with = string.format("%s lw %s dt %s %s", s.marker and "linespoints" or "lines", num(s.width or 2),
        tostring(dashes[s.dash or "solid"]), color)
      if s.marker then with = with .. string.format(" pt %d ps %s", markers[s.marker], num(s.size or 1)) end
    elseif s.kind == "band" then
      using = "1:2:3"
      local fill = type(s.z) == "number" and ("fc palette cb " .. num(s.z))
          or ("fc rgb " .. quote(s.color or M.colors[(s.index - 1) % #M.colors + 1]))
      with = string.format("filledcurves %s fs transparent solid %s noborder", fill, num(s.opacity or 0.2))
    else
      using = zcol and "1:2:3:4:5" or "1:2:3:4"
      with = string.format("yerrorbars pt %d ps %s lw 1.2 %s", markers[s.marker or "circle"], num(s.size or 1), color)
    end
    if s.legend_only then
      elements[#elements + 1] = string.format("keyentry with %s %s", with, title)
    else
      elements[#elements + 1] = string.format("%s using %s with %s %s", source, using, with, title)
    end
  end
  if #elements == 0 then
    error("plot: the figure" .. (self.title and (" '" .. self.title .. "'") or "") ..
      " has no series to draw; add some with :points{}, :line{} or :band{}", 3)
  end
  add("plot %s", table.concat(elements, ", \\\n     "))
  return table.concat(out, "\n")
end

-- ---- terminals and output -------------------------------------------------------------------

local function options()
  return { program = M.config.program, timeout = M.config.timeout }
end

local function has_terminal(name)
  for _, t in ipairs(native.terminals(options())) do
    if t == name then return true end
  end
  return false
end

local function terminal_for(path, width, height)
  local ext = (path:match("%.([%w]+)$") or ""):lower()
  active.width, active.height, active.size = width, height, M.config.font_size
  -- em: the font size in pixels of the canvas (the layout of the colour bar goes by it).
  active.em, active.dumb = M.config.font_size, nil
  local font = string.format("%s,%d", M.config.font, M.config.font_size)
  if ext == "svg" then
    return string.format("set terminal svg size %d,%d dynamic enhanced font %s background rgb 'white'", width, height,
      quote(font))
  elseif ext == "png" then
    if has_terminal("pngcairo") then
      active.size = math.floor(M.config.font_size * 0.8 + 0.5)
      active.em = active.size * 1.25  -- cairo draws a point as 1.25 pixels (90 dpi)
      return string.format("set terminal pngcairo size %d,%d enhanced font %s background rgb 'white'", width, height,
        quote(string.format("%s,%d", M.config.font, math.floor(M.config.font_size * 0.8 + 0.5))))
    end
    return string.format("set terminal png size %d,%d enhanced font %s", width, height, quote(font))
  elseif ext == "pdf" then
    if not has_terminal("pdfcairo") then
      error("figure:save: PDF needs gnuplot's pdfcairo terminal, which this gnuplot lacks; save as .svg or .png " ..
        "(Debian's gnuplot-nox has pdfcairo)", 4)
    end
    active.size = math.floor(M.config.font_size * 0.75 + 0.5)
    active.em = active.size * 120 / 72  -- a canvas pixel is 1/120 inch, a point 1/72
    return string.format("set terminal pdfcairo size %gin,%gin enhanced pointscale 0.6 font %s", width / 120, height / 120,
      quote(string.format("%s,%d", M.config.font, math.floor(M.config.font_size * 0.75 + 0.5))))
  end
  -- Said as figure:save, the function the user called (the only one that asks): it said "plot:".
  error(string.format("figure:save: cannot tell the format of '%s' from its extension; use .svg, .png or .pdf "
    .. "(such as '%s.svg')", path, (path:gsub("%.[%w]+$", ""))), 4)
end

-- A renderable thing: a Figure or a Panels (plot.panels). Both provide body(data, first) and
-- data_blocks(); this gives them script/save/show.
local Render = {}
M.Render = Render


local function header(self, terminal, output)
  local lines = { "# scalelab " .. core.version .. ": " .. one_line(self.title or "figure"),
                  "set encoding utf8" }
  if terminal then lines[#lines + 1] = terminal end
  if output then lines[#lines + 1] = "set output " .. quote(output) end
  return table.concat(lines, "\n")
end

local function inline(blocks)
  if #blocks == 0 then return "" end
  return "$data << EOD\n" .. table.concat(blocks, "\n\n\n") .. "\nEOD\n"
end

-- The whole gnuplot script of a figure or panels (require("scalelab.plot.figure").script(f)).
-- opts: terminal (a `set terminal` line), output (path), data (a file name to read the data from
-- instead of an inline datablock).
function M.script(self, opts)
  opts = opts or {}
  local impl = internal[getmetatable(self)]
  local blocks = impl.data_blocks(self)
  local source = opts.data and quote(opts.data) or "$data"
  local parts = { header(self, opts.terminal, opts.output) }
  if not opts.data then parts[#parts + 1] = inline(blocks) end
  parts[#parts + 1] = impl.body(self, source, 0)
  if opts.output then parts[#parts + 1] = "unset output" end
  return table.concat(parts, "\n") .. "\n"
end

local function write(path, text)
  local file, message = io.open(path, "w")
  if not file then error("figure:save: cannot write " .. tostring(message), 0) end
  file:write(text)
  file:close()
end

-- The message refusing a path that holds a control character ("where: what 'a\nb' holds a control
-- character (\n); name the noun without ..."), control characters shown as \n, \t, \27; nil if none.
function M.control_character(where, what, path, noun)
  local control = path:match("[%z\1-\31\127]")
  if not control then return nil end
  local shown = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
  local function show(c) return shown[c] or ("\\" .. c:byte()) end
  return string.format("%s: %s '%s' holds a control character (%s); name the %s without line breaks, tabs or "
    .. "other control characters", where, what, path:gsub("[%z\1-\31\127]", show), show(control), noun)
end

-- f:save(path [, { width =, height =, script = true }]) -> f. Writes the figure (.svg, .png or
-- .pdf by the extension), and beside it NAME.gp (the gnuplot script, which reads NAME.dat) and
-- NAME.dat (the data, one block per series), so it can be restyled with `gnuplot NAME.gp`.
function Render.save(self, path, opts)
  opts = opts or {}
  M.check_keys("figure:save", opts, set { "width", "height", "script" })
  if type(path) ~= "string" or path == "" then error("figure:save: expects a file name such as 'loss.svg'", 2) end
  -- gnuplot's `set output` takes the path on one line, and a quoted string cannot hold a line break:
  -- the figure went to another name than the script and data beside it.
  local refused = M.control_character("figure:save", "the path", path, "file") or core.unexpanded_home("figure:save:", "", path)
  if refused then error(refused, 2) end
  local width, height = opts.width or self.width or M.config.width, opts.height or self.height or M.config.height
  local stem = path:gsub("%.[%w]+$", "")
  local dir, base = stem:match("^(.*/)([^/]*)$")
  dir, base = dir or "", base or stem
  -- Errors are raised at the caller's line, without the positions inside this library.
  local function clean(message) return (tostring(message):gsub("^[^\n]-:%d+: ", "")) end
  -- Everything is composed before any file is written: a figure that cannot be drawn (a negative
  -- value on a log axis, no series) leaves no partial .dat or .gp behind.
  local function compose(terminal, ext)
    local ok, texts = pcall(function()
      local data = table.concat(internal[getmetatable(self)].data_blocks(self), "\n\n\n") .. "\n"
      local restyle = "# Restyle: edit this file and run `gnuplot " .. base .. ".gp` in this folder.\n"
      local gp = restyle .. M.script(self, { terminal = terminal, output = base .. "." .. ext, data = base .. ".dat" })
      return { data = data, gp = gp, inline = terminal and M.script(self, { terminal = terminal, output = path }) }
    end)
    if not ok then error(clean(texts), 3) end
    return texts
  end
  local function save_script_and_data(texts)
    local ok, message = pcall(function()
      write(stem .. ".dat", texts.data)
      local written, why = pcall(write, stem .. ".gp", texts.gp)
      if not written then
        os.remove(stem .. ".dat")
        error(why, 0)
      end
    end)
    if not ok then error(clean(message), 3) end
  end
  local ext = path:match("%.([%w]+)$") or ""
  local found, missing = pcall(native.find_gnuplot, options())
  if not found then
    -- A missing gnuplot still lets the script and data be written, so nothing is lost.
    missing = clean(missing)
    if opts.script ~= false then
      save_script_and_data(compose(nil, ext ~= "" and ext or "svg"))
      missing = missing .. string.format(" The data and script were saved as %s.dat and %s.gp.", stem, stem)
    end
    error(missing, 2)
  end
  local ok, terminal = pcall(terminal_for, path, width, height)
  if not ok then error(clean(terminal), 2) end
  local texts = compose(terminal, ext)
  -- What the figure says it saved is what was saved, once all of it was: a failure on the way (a
  -- folder that is not there, gnuplot's error) leaves the record of the last save that worked.
  if opts.script ~= false then save_script_and_data(texts) end
  local ran, result = pcall(native.gnuplot, texts.inline, options())
  if not ran then
    -- The figure file gnuplot began is no figure; the script and data stay, to see what failed.
    os.remove(path)
    error(clean(result) .. (opts.script ~= false and ("\n(the script that failed is " .. stem .. ".gp)") or ""), 2)
  end
  self.saved = { path }
  if opts.script ~= false then self.saved[2], self.saved[3] = stem .. ".gp", stem .. ".dat" end
  self.warnings = result.warnings
  return self
end

local interactive = { "qt", "wxt", "x11", "aqua" }

-- f:show(): opens a window when there is a display and gnuplot has a window terminal; otherwise
-- says why and draws the figure as text in the terminal.
function Render.show(self)
  active.width, active.height, active.size = self.width or M.config.width, self.height or M.config.height,
      M.config.font_size
  active.em, active.dumb = 11 * 1.25, nil
  local display = os.getenv("DISPLAY") or os.getenv("WAYLAND_DISPLAY")
  local window
  for _, t in ipairs(interactive) do
    if has_terminal(t) then window = t break end
  end
  if display and display ~= "" and window then
    local script = M.script(self, { terminal = string.format("set terminal %s size %d,%d enhanced font %s", window,
      self.width or M.config.width, self.height or M.config.height, quote(M.config.font .. ",11")) })
    native.gnuplot(M.script(self, { terminal = "set terminal dumb" }), options())  -- surfaces errors here
    native.spawn(script, { program = M.config.program, arguments = { "-persist" } })
    return self
  end
  local why = (not display or display == "") and "there is no display (DISPLAY is not set)"
      or "this gnuplot has no window terminal (gnuplot-nox; install gnuplot-qt for windows)"
  -- The terminal's width (one column spare: a line that fills the last column wraps on some
  -- terminals); it was $COLUMNS or 100, and a 100-column figure on a narrower terminal wrapped every row.
  local columns = math.max(require("scalelab.pretty").columns() - 1, 40)
  local rows = tonumber(os.getenv("LINES") or "") or 34
  -- Text on the dumb terminal: a character a cell, markup as plain text (M.plain: 10^{19} as
  -- 10^19), without the form feed gnuplot writes before each page (a "^L" or a blank page where
  -- it went to a file, a pipe or a pager), and ending its last line.
  active.em, active.dumb = active.width / columns, true
  local script = M.script(self, { terminal = string.format("set terminal dumb size %d,%d", columns, rows - 2) })
  active.dumb = nil
  local result = native.gnuplot(script, options())
  local rendering = result.output:gsub("\f", "")
  io.write(rendering, rendering:sub(-1) == "\n" and "" or "\n")
  print("plot: no window: " .. why .. ". Above is a text rendering; :save 'name.svg' (or .png, .pdf) writes a file.")
  return self
end

function Render.tostring(self, kind)
  local count = {}
  local n, empty = 0, 0
  local function tally(f)
    local before = n
    for _, s in ipairs(f.series) do
      if not s.legend_only then count[s.kind] = (count[s.kind] or 0) + 1; n = n + 1 end
    end
    if n == before then empty = empty + 1 end
  end
  if self.panels then for _, p in ipairs(self.panels) do tally(p) end else tally(self) end
  local kinds = {}
  local nouns = { points = { "set of points", "sets of points" }, line = { "line", "lines" }, band = { "band", "bands" },
                  errorbars = { "set of error bars", "sets of error bars" } }
  for k, c in pairs(count) do kinds[#kinds + 1] = c .. " " .. (nouns[k] and nouns[k][c == 1 and 1 or 2] or k) end
  table.sort(kinds)
  -- What it holds: its series by kind, or that it has none ("0 series ()" said nothing); panels say
  -- how many figures they are, and how many of them are empty.
  local held = n == 0 and "no series" or string.format("%d series (%s)", n, table.concat(kinds, ", "))
  if self.panels then
    local figures = #self.panels
    local noun = figures == 1 and "figure" or "figures"
    if n == 0 then
      held = string.format("%d empty %s (no series)", figures, noun)
    else
      held = string.format("%d %s%s, %s", figures, noun, empty > 0 and string.format(" (%d empty)", empty) or "", held)
    end
  elseif n == 0 then
    held = "empty (no series)"
  end
  local text = string.format("%s%s: %s", kind, self.title and (" '" .. self.title .. "'") or "", held)
  if self.saved then text = text .. "; saved " .. table.concat(self.saved, ", ") end
  if self.warnings and #self.warnings > 0 then
    text = text .. string.format("; %d gnuplot warning(s): %s", #self.warnings, self.warnings[1])
  end
  return text
end

Figure.save, Figure.show = Render.save, Render.show
internal[Figure] = { data_blocks = figure_data_blocks, body = figure_body }
Figure.__tostring = function(self) return Render.tostring(self, "figure") end

-- ---- panels ---------------------------------------------------------------------------------

local Panels = {}
Panels.__index = Panels
M.Panels = Panels
require("scalelab.missing").note_misses(Panels, "panels", "class")

-- plot.panels{ figure1, figure2, ..., columns = 2, title =, width =, height = }: figures side by
-- side (gnuplot's multiplot), saved and shown as one.
function M.panels(spec)
  M.check_keys("plot.panels", spec, set { "columns", "title", "width", "height" })
  check_options("plot.panels", spec, { columns = "count", title = "text", width = "positive", height = "positive" }, 2)
  local p = setmetatable({ panels = {}, columns = spec.columns, title = spec.title }, Panels)
  for i, f in ipairs(spec) do
    if getmetatable(f) ~= Figure then error(string.format("plot.panels: entry %d is not a plot.figure", i), 2) end
    p.panels[i] = f
  end
  if #p.panels == 0 then error("plot.panels: give at least one figure", 2) end
  p.columns = p.columns or #p.panels
  local rows = math.ceil(#p.panels / p.columns)
  p.width = spec.width or math.floor(M.config.width * math.min(p.columns, 2) * 0.8)
  p.height = spec.height or math.floor(M.config.height * rows * (p.columns > 1 and 0.95 or 1))
  return p
end

local function panels_data_blocks(self)
  local all = {}
  for _, f in ipairs(self.panels) do
    for _, b in ipairs(figure_data_blocks(f)) do all[#all + 1] = b end
  end
  return all
end

local function panels_body(self, data, first)
  local rows = math.ceil(#self.panels / self.columns)
  local W, H = active.width, active.height
  local title_px = self.title and 2.6 * active.size or 0
  local out = { "set multiplot" .. (self.title and (" title " .. text(self.title) ..
    string.format(" font ',%d'", active.size + 2)) or "") }
  local offset = first
  for i, f in ipairs(self.panels) do
    figure_data_blocks(f)
    local count = 0
    for _, s in ipairs(f.series) do if not s.legend_only then count = count + 1 end end
    local column, row = (i - 1) % self.columns, (i - 1) // self.columns
    local x0, x1 = column * W / self.columns, (column + 1) * W / self.columns
    local y0 = title_px + row * (H - title_px) / rows
    local y1 = y0 + (H - title_px) / rows
    local _, colorbar = colorbar_of(f)
    local right = x1 - (colorbar and colorbar.room or 2.5 * active.size)
    out[#out + 1] = "reset"
    out[#out + 1] = string.format("set lmargin at screen %s\nset rmargin at screen %s", num((x0 + 8.5 * active.size) / W),
      num(right / W))
    out[#out + 1] = string.format("set tmargin at screen %s\nset bmargin at screen %s",
      num(1 - (y0 + (f.title and 3 or 1.5) * active.size) / H), num(1 - (y1 - 6 * active.size) / H))
    out[#out + 1] = figure_body(f, data, offset, true, right)
    offset = offset + count
  end
  out[#out + 1] = "unset multiplot"
  return table.concat(out, "\n")
end

Panels.save, Panels.show = Render.save, Render.show
internal[Panels] = { data_blocks = panels_data_blocks, body = panels_body }
Panels.__tostring = function(self) return Render.tostring(self, "panels") end

-- ---- documentation: help(f) lists these methods, Tab on f: offers them -------------------------

local function document_methods(meta, docs)
  meta.__methods = {}
  for name, text in pairs(docs) do
    meta.__methods[name] = meta[name]
    core.document(meta[name], text)
  end
end

local SAVE = "save(path [, { width =, height =, script = true }]) -> self: writes the figure as .svg, .png or .pdf (by\n" ..
  "the extension), and beside it NAME.gp (the gnuplot script) and NAME.dat (its data) to restyle with gnuplot NAME.gp"
local SHOW = "show() -> self: a window when there is a display and a window terminal, else a text rendering here"
document_methods(Figure, {
  points = "points{ x =, y = [, label =, color =, z =, marker = 'circle', size = 1.1] } -> self: a scatter of points;\n" ..
    "z (an array) colours each point from the colour scale, a number gives the whole series one colour from it",
  line = "line{ x =, y = [, label =, color =, z =, width = 2, dash = 'solid'|'dashed'|'dotted'|'dashdot', marker =] } -> self",
  band = "band{ x =, low =, high = [, label =, color =, z =, opacity = 0.2] } -> self: a shaded interval",
  errorbars = "errorbars{ x =, y =, low =, high = [, label =, color =, marker =, size =] } -> self: points with vertical bars",
  text = "text{ x =, y =, text = [, align = 'left'|'center'|'right', color =, size =, offset = {dx, dy}] } -> self:\n" ..
    "a label at data coordinates (offset in characters)",
  vline = "vline{ x = [, color =, dash = 'dashed', label =, width =] } -> self: a vertical rule across the plot",
  hline = "hline{ y = [, color =, dash = 'dashed', label =, width =] } -> self: a horizontal rule across the plot",
  save = SAVE,
  show = SHOW,
})
core.document(Figure, "A figure: series drawn by gnuplot (plot.figure{...}, or one of the standard figures).\n" ..
  "Add series with its methods; f:save 'name.svg' writes it. Its settings (title, xlabel, xlog, ...) are fields.")
document_methods(Panels, { save = SAVE, show = SHOW })
core.document(Panels, "Figures side by side (plot.panels{...}, plot.allocation, plot.data_constrained, plot.residuals),\n" ..
  "saved and shown as one; p.panels holds the figures.")
-- Methods called through a C function, as the module's functions are (init.lua): an error of one
-- that ends a user's function (return f:save "x.svg") names the user's line (checks.keep_callers).
require("scalelab.study.checks").keep_callers(Figure)
require("scalelab.study.checks").keep_callers(Panels)

return M
