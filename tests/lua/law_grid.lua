-- Runs drawn from a law of N and D on a fixed grid (5 sizes from 1e7 to 1e9, 2 to 100 tokens per
-- parameter), each loss moved by a small deterministic wobble of relative size `wobble`: columns for
-- fit.observations{ N = N, D = D, loss = L }, for tests that fit a law and check what it gives.
-- local N, D, L = require "law_grid" (law, 0.01)
return function(law, wobble)
  local N, D, L = {}, {}, {}
  for _, n in ipairs { 1e7, 3e7, 1e8, 3e8, 1e9 } do
    for _, r in ipairs { 2, 5, 10, 20, 50, 100 } do
      N[#N + 1], D[#D + 1] = n, r * n
      L[#L + 1] = law:predict{ N = n, D = r * n } * math.exp(wobble * math.sin(#N * 12.9898))
    end
  end
  return N, D, L
end
