-- plot: the standard scaling-law figures, drawn by gnuplot (Debian's gnuplot-nox).
--   plot.isoflop(runs, law):save "isoflop.svg"     -- also isoflop.gp and isoflop.dat beside it
--   plot.loss_compute(runs, law, { compute = 1e21 }):save "loss.png"
--   plot.allocation{ runs = runs, compute = 1e21 }:show()
--   local f = plot.figure{ xlog = true, ylog = true }; f:points{ x = C, y = loss }; f:save "mine.pdf"
-- Figures are values: building one needs no gnuplot; :save and :show run it.
local core = require "scalelab.native.core"
local native = require "scalelab.native.plot"
local figure = require "scalelab.plot.figure"
local figures = require "scalelab.plot.figures"
local checks = require "scalelab.study.checks"
local type_name = checks.type_name
-- Errors about the caller's arguments, at the user's line however the call came: through the C
-- function that calls the module's functions (init.lua), error(message, 2) named no line.
local error_at_user = checks.error_at_user

local plot = {
  config = figure.config,
  colors = figure.colors,
  palette = figure.palette,
  formats = figure.formats,
}

core.document(plot.config, "plot.config: settings every figure uses; change them in a script or the REPL. program "
  .. "(the gnuplot program; nil: $SCALELAB_GNUPLOT, else gnuplot on PATH), timeout (seconds before a gnuplot run "
  .. "is stopped, 60), width, height (pixels of SVG and PNG, 900 x 620; PDF uses width/120 inches), font "
  .. "(\"Helvetica\"), font_size (13).")
core.document(plot.colors, "plot.colors: the colours of a figure's series in turn, as \"#rrggbb\" (a series's "
  .. "color = overrides).")
core.document(plot.palette, "plot.palette: the colour scale of z = values and colorbars (viridis without its "
  .. "palest yellow), as \"#rrggbb\" from low to high.")
core.document(plot.formats, "plot.formats: the tick label formats that xformat =, yformat = and colorbar format = "
  .. "name: count (7.02B), flops and power (10^{21}), number (%.4g; 10^{n} form where that has an exponent), percent "
  .. "(0.25 -> 25%); each is a function(value) -> label.")
core.document(plot.formats.count, "count(v) -> '7.02B', '1.23M': v with a unit prefix (format 'count')")
core.document(plot.formats.power, "power(v) -> '10^{21}', '3.16×10^{21}': v as a power of ten (format 'power')")
core.document(plot.formats.flops, "flops(v) -> '10^{21}', '3.16×10^{21}': v as a power of ten, as power(v) (format 'flops')")
core.document(plot.formats.number, "number(v) -> '0.25', '12.5': v to 4 significant digits, as a power of ten where that "
  .. "takes an exponent (format 'number')")
core.document(plot.formats.percent, "percent(v) -> '25%' for 0.25 (format 'percent')")

local function doc(name, fn, text)
  plot[name] = fn
  core.document(fn, text)
end

doc("figure", figure.figure,
  "plot.figure{ title =, xlabel =, ylabel =, xlog =, ylog =, xrange = {lo, hi}, yrange =, xformat =, yformat =,\n" ..
  "  colorbar = { label =, log =, range = {lo, hi}, format = }, legend = 'top right'|'top left'|'bottom right'|\n" ..
  "  'bottom left'|'center right'|'center left'|'outside'|'below'|false, legend_font_size =, width =, height =,\n" ..
  "  grid = true, headroom = (a fraction of the y span left empty above the data, for the legend) } -> figure\n" ..
  "Add series with f:points{ x =, y = [, label =, color =, z =, marker =, size =, legend_only =] },\n" ..
  "f:line{ x =, y = [, label =, color =, z =, dash =, width =, marker =, size =, legend_only =] },\n" ..
  "f:band{ x =, low =, high = [, label =, color =, z =, opacity =, legend_only =] },\n" ..
  "f:errorbars{ x =, y =, low =, high = [, label =, color =, z =, marker =, size =, legend_only =] },\n" ..
  "f:text{ x =, y =, text = [, align =, color =, size =, offset = {dx, dy}] },\n" ..
  "f:vline{ x = [, label =, color =, dash =, width =] }, f:hline{ y = [, label =, color =, dash =, width =] };\n" ..
  "label is the series' legend entry; z gives colours from the colour scale; legend_only = true puts the series in\n" ..
  "the legend without drawing it. Formats: count (7.02B), flops (10^{21}), power, number, percent.\n" ..
  "f:save 'name.svg' (or .png, .pdf) writes the figure and beside it name.gp (script) and name.dat (data); f:show().")
doc("escape", figure.escape,
  "plot.escape(text) -> text that labels show literally: titles and labels are gnuplot enhanced text, where\n" ..
  "_x is a subscript, ^x a superscript and {} groups (N_{opt}, 10^{21}); escape run names such as 'run_12'")
doc("panels", figure.panels,
  "plot.panels{ fig1, fig2, ..., columns =, title =, width =, height = } -> figures side by side, saved as one")
doc("ticks", figure.ticks, "plot.ticks(lo, hi, log, format) -> { {value, label, minor}, ... }: the axis ticks a figure uses")
doc("loss_compute", figures.loss_compute,
  "plot.loss_compute(runs [, law] [, { compute =, curves = true, frontier = true, title =, label = (the law's legend\n" ..
  "  entry) }]) -> figure\n" ..
  "Loss against compute for every run (and its training curve), coloured by N; the compute-efficient frontier;\n" ..
  "the law's compute-optimal loss, extended to `compute` (Kaplan fig. 1, Chinchilla fig. 1): solid over the runs'\n" ..
  "compute, dashed beyond it (extrapolated); `compute` needs a law.")
doc("isoflop", figures.isoflop,
  "plot.isoflop(runs [, fit_or_law] [, { title = }]) -> figure\n" ..
  "Loss against N at each compute budget, coloured by budget, with each budget's parabola (from an IsoFLOP fit,\n" ..
  "a law's L(N, C/6N), or fitted here in ln N) and its minimum (Chinchilla fig. 3, left).")
doc("isoflop_minima", figures.isoflop_minima,
  "plot.isoflop_minima(runs [, fit_or_law]) -> { { C =, N =, D =, loss = }, ... }: each budget's minimum")
doc("allocation", figures.allocation,
  "plot.allocation{ minima = | runs = [, isoflop =], N_opt =, D_opt = | law =, compute =, reference =, title = } -> panels\n" ..
  "(minima: { {C =, N =}, ... }, e.g. IsoFLOP minima, or fit.approach1's .switches, drawn as approach 1's switches)\n" ..
  "N_opt and D_opt against compute with the fitted power laws and their 95% bands, extended to the question's\n" ..
  "budget `compute` (Chinchilla fig. 3, middle and right): solid over the compute of the minima and runs, dashed\n" ..
  "beyond it (extrapolated). Bands come from law.samples or law.intervals.a.")
doc("data_constrained", figures.data_constrained,
  "plot.data_constrained(runs [, law] [, { R_D =, max_epochs =, title = }]) -> panels\n" ..
  "Loss against epochs at each compute budget with the law's prediction, and the return on repeated data\n" ..
  "D'/U = 1 + R_D*(1 − e^{−(E−1)/R_D*}) against new data (Muennighoff et al. 2023).")
doc("residuals", figures.residuals,
  "plot.residuals(runs, law [, { title = }]) -> panels: log residuals against compute (±RMSE shaded) and\n" ..
  "observed against predicted loss")
doc("curves", figures.curves,
  "plot.curves(run_or_runs [, { x = 'tokens'|'compute', eval = true, title = }]) -> figure: training loss (lines)\n" ..
  "and evaluation loss (points) of one run or all runs")
doc("gnuplot", function(script)
  if type(script) ~= "string" then
    error_at_user("plot.gnuplot(script): script must be a string of gnuplot commands (got " .. type_name(script) .. ")")
  end
  -- gnuplot's print writes on its standard error, which holds its errors: set print "-" sends it to
  -- the output returned, as the script's first command (its line numbers stay the script's own).
  return native.gnuplot(script, { program = plot.config.program, timeout = plot.config.timeout,
                                  arguments = { "-e", 'set print "-"' } })
end,
  "plot.gnuplot(script) -> { output, warnings, seconds, program }: runs any gnuplot script (errors quote the line);\n" ..
  "output is what it prints: print's text (plot.gnuplot('print 1+1').output is \"2\\n\", unless the script sets\n" ..
  "print elsewhere) and what a text terminal (set terminal dumb) draws")
doc("available", function()
  local ok = pcall(native.find_gnuplot, { program = plot.config.program })
  return ok
end, "plot.available() -> true when gnuplot can be found (plot.config.program, $SCALELAB_GNUPLOT, or PATH)")

-- plot.study_figures{ dir =, runs =, law =, isoflop =, N_opt =, D_opt =, compute =, format = "svg",
-- data_constrained =, approach1 = } -> written, skipped: every standard figure the inputs allow, written into
-- dir (made if missing). `written` is the array of paths written (as before); `skipped` lists each standard figure
-- not drawn, { { name = "allocation", reason = "..." }, ... }, in the order the figures are
-- tried (loss_compute, isoflop, allocation, data_constrained, residuals, curves): what the inputs
-- do not allow, or why gnuplot could not draw it. One figure that cannot be drawn never stops the
-- others; only bad arguments (unknown keys, no runs) raise.
doc("study_figures", function(spec)
  figure.check_keys("plot.study_figures", spec, { dir = true, runs = true, law = true, isoflop = true, N_opt = true,
    D_opt = true, compute = true, format = true, data_constrained = true, approach1 = true })
  local plain = require("scalelab.study.checks").plain
  local dir = spec.dir or "."
  local ext = spec.format or "svg"
  -- Strings, checked here: anything else failed at the first figure, inside this file.
  for key, value in pairs { dir = dir, format = ext } do
    if type(value) ~= "string" then
      error_at_user("plot.study_figures: " .. key .. " must be a string (got " .. type_name(value) .. ")")
    end
  end
  -- Refused before the folder is made, as figure:save refuses each figure's path in it.
  local refused = figure.control_character("plot.study_figures", "dir =", dir, "folder")
    or core.unexpanded_home("plot.study_figures:", "dir", dir)
  if refused then error_at_user(refused) end
  local written, skipped = {}, {}
  local function skip(name, reason) skipped[#skipped + 1] = { name = name, reason = reason } end
  -- Builds the figure and saves it; a failure of either skips the figure with its reason.
  local function draw(name, build)
    local built, fig = checks.pcall(build)
    if not built then return skip(name, plain(fig)) end
    local path = dir .. "/" .. name .. "." .. ext
    local saved, message = checks.pcall(function() fig:save(path) end)
    if not saved then return skip(name, plain(message)) end
    written[#written + 1] = path
  end
  if spec.approach1 ~= nil and not (type(spec.approach1) == "table" and type(spec.approach1.switches) == "table") then
    error_at_user("plot.study_figures: approach1 must be an approach 1 fit (fit.approach1's result, or a study's " ..
      "s.fits.approach1), with its switches (got " .. type(spec.approach1) .. ")")
  end
  local runs = figures.runs("plot.study_figures", spec.runs)
  -- The folder is made, as a study makes its report's: a missing one skipped every figure ("cannot write").
  local made, why = pcall(require("scalelab.native.study").make_dirs, dir)
  if not made then error_at_user("plot.study_figures: dir = '" .. dir .. "': " .. plain(why)) end
  -- The question's budget is drawn where a law extends its compute-optimal loss to it.
  draw("loss_compute", function()
    return figures.loss_compute(runs, spec.law, { compute = spec.law and spec.compute or nil })
  end)

  local budgets = figures.budgets(runs)
  local profiled = 0  -- budgets with three model sizes or more: a parabola each
  for _, g in ipairs(budgets) do if figures.sizes(g.runs) >= 3 then profiled = profiled + 1 end end
  if profiled == 0 then
    local reason = "no compute budget has three model sizes or more (an IsoFLOP curve needs three)"
    skip("isoflop", reason)
    if spec.N_opt or spec.law or spec.approach1 then
      -- Approach 1's switches, where a study fitted it: its measured N_opt(C) beside the law's (or
      -- its own power law, when there is no other).
      local switches = spec.approach1 and spec.approach1.switches
      local N_opt = spec.N_opt or (not spec.law and spec.approach1) or nil
      -- The runs give the compute the data cover (the law is drawn solid there, dashed beyond); no
      -- budget of theirs has the sizes for an IsoFLOP minimum (minima = {}: none is sought).
      draw("allocation", function()
        return figures.allocation { runs = runs, N_opt = N_opt, D_opt = spec.D_opt, law = (not N_opt) and spec.law or nil,
          minima = switches and #switches > 0 and switches or {}, compute = spec.compute }
      end)
    else
      skip("allocation", reason .. ", and no law or N_opt was given")
    end
  else
    draw("isoflop", function() return figures.isoflop(runs, spec.isoflop or spec.law) end)
    local minima = (spec.N_opt or spec.law or spec.isoflop) and math.huge or #figures.isoflop_minima(runs)
    if minima < 2 then
      skip("allocation", string.format("N_opt(C) needs IsoFLOP minima at two budgets or more (these runs give %d), " ..
        "a law or N_opt", minima))
    else
      draw("allocation", function()
        return figures.allocation { runs = runs, isoflop = spec.isoflop, N_opt = spec.N_opt, D_opt = spec.D_opt,
          law = (not spec.N_opt) and spec.law or nil, compute = spec.compute }
      end)
    end
  end

  local repeated = false
  for _, r in ipairs(runs) do if r.epochs and r.epochs > 1.01 then repeated = true end end
  if repeated then
    draw("data_constrained", function() return figures.data_constrained(runs, spec.data_constrained or spec.law) end)
  else
    skip("data_constrained", "no run repeats its data (every run sees its tokens about once)")
  end
  -- Residuals against the parametric law, else the data-constrained one (which reads each run's U).
  local residual_law = spec.law or spec.data_constrained
  if residual_law then
    draw("residuals", function() return figures.residuals(runs, residual_law) end)
  else
    skip("residuals", "no law of the loss was fitted or given (an IsoFLOP or approach-1 fit predicts N_opt, not the loss)")
  end
  local any_curve = false
  for _, r in ipairs(runs) do if type(r.curve) == "table" and #r.curve > 0 then any_curve = true end end
  if any_curve then
    draw("curves", function() return figures.curves(runs) end)
  else
    skip("curves", "no run has a training curve")
  end
  return written, skipped
end, "plot.study_figures{ dir =, runs =, law =, isoflop =, N_opt =, D_opt =, compute =, format = 'svg',\n" ..
  "  data_constrained =, approach1 = (its switches join the allocation figure) } -> written, skipped: every standard figure the inputs allow, written into dir, made if missing (what a\n" ..
  "study writes beside its report): written = the paths; skipped = { { name =, reason = }, ... } for each figure\n" ..
  "the inputs do not allow or gnuplot could not draw. A figure that fails never stops the others.")

core.document(plot, "Scaling-law figures through gnuplot: plot.loss_compute, plot.isoflop, plot.allocation,\n" ..
  "plot.data_constrained, plot.residuals, plot.curves, and plot.figure{...} for your own. Each returns a figure\n" ..
  "with :save 'name.svg|png|pdf' (plus name.gp and name.dat to restyle) and :show(). Settings: plot.config.")
return plot
