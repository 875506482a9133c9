-- A portable generator for the simulated studies of the bootstrap calibration tests (an LCG, and
-- Box-Muller normals from it), so that the studies are the same everywhere.
-- local uniform, gauss, reseed = require "portable_random"()
return function()
  local state = 0
  local function uniform()
    state = (state * 1103515245 + 12345) % 2147483648
    return (state + 0.5) / 2147483648
  end
  local function gauss() return math.sqrt(-2 * math.log(uniform())) * math.cos(2 * math.pi * uniform()) end
  return uniform, gauss, function(seed) state = seed end
end
