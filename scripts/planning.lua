-- Planning questions with the published laws: the numbers of REFERENCE.md, reproduced.
--   scalelab scripts/planning.lua
local function law(name, values)
  -- fit.published.<name> when the fit module is there; the same constants as a table otherwise.
  if fit and fit.published and fit.published[name] then
    local l = fit.published[name]
    return type(l) == "function" and l() or l
  end
  return values
end
local chinchilla = law("chinchilla", { kind = "chinchilla", E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 })
local datablations = plan.published.datablations_exact

print("== Chinchilla's approach-1 table (allocation rule fitted to table 3) ==")
print(plan.table{ params = { 400e6, 1e9, 10e9, 67e9, 175e9, 280e9, 520e9, 1e12, 10e12 },
                  allocation = plan.published.chinchilla_approach1 })

print("\n== Gopher's budget, 5.76e23 FLOP: Gopher (280B on 300B), approach 1, Kaplan's C^0.73 ==")
print(plan.compare{ compute = 5.76e23, law = chinchilla,
  candidates = { { name = "Gopher", N = 280e9, D = 300e9 },
                 { name = "Chinchilla approach 1", allocation = plan.published.chinchilla_approach1 },
                 { name = "Kaplan C^0.73", allocation = plan.published.kaplan } } })

print("\n== Muennighoff et al.: 25B unique tokens ==")
print(plan.loss{ N = 6.34e9, D = 242e9, unique_tokens = 25e9, law = datablations })
print(plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = datablations, gpu = "H100", gpus = 256 })
print(plan.returns{ unique_tokens = 25e9, law = datablations })

print("\n== Inference-aware (Sardana et al.): 2T inference tokens at the loss of a 1e23 FLOP run ==")
print(plan.inference{ compute = 1e23, inference_tokens = 2e12, law = chinchilla })

print("\n== A question declared before its law, answered later ==")
local q = plan.compute_for{ loss = 2.0, gpu = "A100", gpus = 1024, mfu = 0.45 }
print(q)
print(q:answer(chinchilla))
