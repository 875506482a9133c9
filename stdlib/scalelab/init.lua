-- scalelab's Lua library, loaded when the program starts. It makes the modules users need all the
-- time globals (model, data, train, fit, plan, study, plot, as each exists) and adds help().
local native = require "scalelab.native.core"

local scalelab = {
  version = native.version,
  -- The modules that become globals, in load order. A module joins this list when it lands.
  modules = { "model", "data", "train", "fit", "plan", "plot", "store", "sweep", "study" },
}

for _, name in ipairs(scalelab.modules) do
  _G[name] = require("scalelab." .. name)
end

local help = require "scalelab.help"
_G.help = help.help
_G.doc = help.doc
_G.pretty = require("scalelab.pretty").format

return scalelab
