-- Planning questions answered with the published laws (Hoffmann et al. 2022, Besiroglu et al. 2024,
-- Muennighoff et al. 2023, Sardana et al. 2023): Chinchilla's table reproduced, and where the
-- published laws disagree with each other (which matters more for a plan than any one number).
--   scalelab scripts/planning.lua
-- It takes no options: --help (-h) prints these lines; anything else is bad usage (status 2).
local own_arg = rawget(_G, "arg")
if type(own_arg) == "table" and own_arg[1] ~= nil then
  if own_arg[1] == "--help" or own_arg[1] == "-h" then
    print("Planning questions answered with the published laws (Hoffmann et al. 2022, Besiroglu et al. 2024,\n"
      .. "Muennighoff et al. 2023, Sardana et al. 2023): Chinchilla's table reproduced, and where the published\n"
      .. "laws disagree with each other.\nusage: scalelab scripts/planning.lua   (no options)")
    os.exit(0)
  end
  io.stderr:write("scalelab: planning.lua takes no options (got ", table.concat(own_arg, " "),
    ")\nusage: scalelab scripts/planning.lua\n")
  os.exit(2)
end
local function law(name, values)
  -- fit.published.<name> when the fit module is there; the same constants as a table otherwise.
  if fit and fit.published and fit.published[name] then
    local l = fit.published[name]
    return type(l) == "function" and l() or l
  end
  return values
end
local chinchilla = law("chinchilla", { kind = "chinchilla", E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 })
local unrounded = law("chinchilla_unrounded",
  { kind = "chinchilla", E = 1.6934, A = 406.4, B = 410.7, alpha = 0.3392, beta = 0.2849 })
local epoch = law("epoch", { kind = "chinchilla", E = 1.82, A = 482, B = 2085, alpha = 0.348, beta = 0.366 })
local datablations = plan.published.datablations_exact
local format_count = require("scalelab.native.core").format_count
local approach1 = plan.published.chinchilla_approach1

print("== Chinchilla's approach-1 table (allocation rule fitted to table 3) ==")
print(plan.table{ params = { 400e6, 1e9, 10e9, 67e9, 175e9, 280e9, 520e9, 1e12, 10e12 }, allocation = approach1 })
print([[
The rule reproduces the paper's table to its printed precision on every row but one: for 67B the
paper prints 5.76e23 FLOP and 1.5T tokens, which no pair of power laws through the other rows gives
(this rule: 5.61e23 and 1.4T). 5.76e23 is Gopher's budget, the next question.]])

print("\n== Gopher's budget, 5.76e23 FLOP: the published laws' answers to one question ==")
local C = 5.76e23
local answers = {
  { "approach 1 (envelope of training curves)", plan.optimal { compute = C, allocation = approach1 } },
  { "approach 3, the paper's constants, unrounded", plan.optimal { compute = C, law = unrounded } },
  { "approach 3, the same rounded as printed", plan.optimal { compute = C, law = chinchilla } },
  { "approach 3, Epoch's refit of the same data", plan.optimal { compute = C, law = epoch } },
}
print(string.format("  %-44s %8s %8s %13s", "law", "params", "tokens", "tokens/param"))
for _, a in ipairs(answers) do
  local r = a[2]
  print(string.format("  %-44s %8s %8s %13.1f", a[1], format_count(r.N), format_count(r.D), r.D / r.N))
end
print([[
The paper's approach-3 law puts the optimum at about three fifths of the parameters of its own
approaches 1 and 2 (about 20 tokens per parameter; "70B on 1.4T" is approach 1's answer) on about
1.7 times the tokens. Its constants matter to the digit: alpha and beta rounded to the 0.34 and 0.28
the paper prints give N_opt ~ C^0.452 and 32B here, while the unrounded 0.3392 and 0.2849 give the
paper's own exponent, 0.46, and 40B. Besiroglu et al. (Epoch AI, 2024) refit the paper's data and
found the published fit does not fit it: their refit agrees with approaches 1 and 2, and its
bootstrap intervals are far wider than the paper's. Plan with the refit, or with your own runs and
their intervals (scripts/quickstart.lua), not with one published point estimate.]])

print("\n== The same budget under the refit: Gopher (280B on 300B), approach 1, Kaplan's C^0.73 ==")
-- Kaplan's rule counts non-embedding parameters, the refit all of them: the rule's models are given
-- Kaplan et al.'s shape (GPT-2's vocabulary, 1024 tokens of context), whose embeddings the law adds.
print(plan.compare{ compute = C, law = epoch,
  candidates = { { name = "Gopher", N = 280e9, D = 300e9 },
                 { name = "Chinchilla approach 1", allocation = approach1 },
                 { name = "Kaplan C^0.73", allocation = plan.published.kaplan:with{ vocab = 50257, ctx = 1024 } } } })

print("\n== Muennighoff et al.: 25B unique tokens ==")
print(plan.loss{ N = 6.34e9, D = 242e9, unique_tokens = 25e9, law = datablations })
print(plan.optimal{ compute = 1e22, unique_tokens = 25e9, law = datablations, gpu = "H100", gpus = 256 })
print(plan.returns{ unique_tokens = 25e9, law = datablations })
print([[
A 6.34B model trained for 9.7 epochs of 25B unique tokens (242B tokens: each token repeated 8.7
times after its first pass, the paper's R_D) learns as much as from 191B fresh tokens (D') and
reaches a loss of 2.2256. With 1e22 FLOP and only those 25B tokens, the optimum is a smaller model
than unlimited data would get (7.03B, not 9.22B), trained for 9.5 epochs, 0.034 nats worse. The
last table doubles the compute from the budget whose optimum sees the 25B tokens once; each
doubling buys less (marginal return: the compute it adds is worth 97% of what it would be with
unlimited data at 1.5 epochs, 68% at 4.8, 25% at 16, 6% at 35).]])

print("\n== Inference-aware (Sardana et al.): 2T inference tokens at the loss of a 1e23 FLOP run ==")
print(plan.inference{ compute = 1e23, inference_tokens = 2e12, law = chinchilla })

print("\n== A question declared before its law, answered later ==")
local q = plan.compute_for{ loss = 2.0, gpu = "A100", gpus = 1024, mfu = 0.45 }
print(q)
print(q:answer(chinchilla))
