local figure = require "scalelab.plot.figure"
return figure
