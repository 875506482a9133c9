-- scalelab's Lua library, loaded when the program starts. It makes the modules users need all the
-- time globals (model, data, train, fit, plan, study, plot, as each exists) and adds help().
local native = require "scalelab.native.core"

local scalelab = {
  version = native.version,
  -- The modules that become globals, in load order. A module joins this list when it lands.
  modules = { "model", "data", "train", "fit", "plan", "plot", "store", "sweep", "study" },
  -- help()'s one-line summary of each module (a module without one shows its documentation's
  -- first sentence).
  summaries = {
    model = "GPT shapes, parameter and FLOP counts: model.gpt, model.shape_for",
    data = "corpora, tokenizers and samplers of training batches",
    train = "training GPTs from scratch; simulated runs from a law",
    fit = "scaling laws fitted to runs (Chinchilla, Kaplan, IsoFLOP, ...)",
    plan = "questions answered with a law: optimal size, loss, cost, data",
    plot = "the standard scaling-law figures, drawn by gnuplot",
    store = "the results store of studies (SQLite): runs, curves, export",
    sweep = "sweeps of runs: grid, IsoFLOP, data-constrained, combinators",
    study = "scaling studies: sweep, train, fit, answer, report",
  },
}

-- A module's functions written in Lua are called through a C function, as its functions written in
-- C are, so that an error in a tail call of one names the user's line (checks.keep_callers).
local keep_callers = require("scalelab.study.checks").keep_callers
local missing = require "scalelab.missing"
-- A mistyped function (train.rnu{...}) is an error that names the one meant (scalelab.missing).
-- A module's own tables of functions (plot.formats) are modules too: wrapped alike, as their
-- functions are called alike (plot.formats.count(n)); they were left as they were, so that
-- plot.formats.cont(n) said only "attempt to call a nil value (field 'cont')", and `return
-- plot.formats.count(x)` ending a user's function lost the user's line from its errors. Tables with
-- a metatable (classes, fit.published) and tables holding anything but functions (study.default_hyper,
-- plot.config) are not such modules.
local function functions_only(t)
  if getmetatable(t) ~= nil or next(t) == nil then return false end
  for key, value in pairs(t) do
    if type(key) ~= "string" or type(value) ~= "function" then return false end
  end
  return true
end
local function wrap_module(module, label)
  for key, value in pairs(module) do
    if type(key) == "string" and type(value) == "table" and functions_only(value) then
      wrap_module(value, label .. "." .. key)
    end
  end
  return missing.note_misses(keep_callers(module), label, "module")
end
for _, name in ipairs(scalelab.modules) do
  _G[name] = wrap_module(require("scalelab." .. name), name)
end

-- Modules a script requires are kept as read, for the workers of its studies (scalelab.study.modules).
require("scalelab.study.modules").install()

local help = require "scalelab.help"
-- help is called (help(), help(fit)); typed alone at the prompt it says so, as Python's does, rather
-- than showing a function's address.
_G.help = setmetatable({}, {
  __name = "help",
  __call = function(_, ...) return help.help(...) end,
  __tostring = function()
    return "help() lists the modules; help(x) documents a module, function or object: help(plot), help(fit.chinchilla)"
  end,
})
help.doc(_G.help, require("scalelab.native.core").docs()[help.help])
_G.doc = help.doc
_G.pretty = require("scalelab.pretty").format
help.doc(_G.pretty, "pretty(value [, { depth = 3, length = 30, width = 100, indent = \"  \" }]) -> text: the value as the REPL prints "
  .. "it: tables nested to depth levels and their first length entries (\"...(N more)\" says what is left out), in "
  .. "lines of width characters, each level indented by indent (two spaces), objects as their summaries. "
  .. "print(pretty(t, { length = math.huge, depth = math.huge })) shows all of t.")

return scalelab
