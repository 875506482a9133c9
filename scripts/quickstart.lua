-- quickstart: the model sizes of a scaling sweep, from 1M to 1B non-embedding parameters.
-- For each target size: the shape scalelab picks (d_model/n_layer = 64), its parameter counts in
-- Kaplan's convention (non-embedding) and Chinchilla's (all), the training FLOPs per token in both
-- conventions, and what training it on 20 tokens per parameter costs (C = 6·N·D).
--   scalelab scripts/quickstart.lua [vocab] [ctx]
local core = require "scalelab.native.core"
local vocab = tonumber(arg and arg[1]) or 50304
local ctx = tonumber(arg and arg[2]) or 1024

print(string.format("Model sizes for a sweep (vocab %d, ctx %d, aspect d/L = 64)\n", vocab, ctx))
local header = string.format("%-8s %-28s %10s %10s %12s %12s %10s %10s",
  "target", "shape (L, d, heads)", "N non-emb", "N total", "FLOP/tok K", "FLOP/tok P", "D=20N", "C=6ND")
print(header)
print(string.rep("-", #header))
for exponent = 6, 9, 0.5 do
  local target = 10 ^ exponent
  local m = model.shape_for{ params = target, vocab = vocab, ctx = ctx }
  local n = m.non_embedding_params
  local tokens = 20.0 * m.params  -- float: 6·N·D overflows 64-bit integers past ~1e18
  print(string.format("%-8s %-28s %10s %10s %12s %12s %10s %10s",
    core.format_count(target),
    string.format("L=%d d=%d h=%d", m.n_layer, m.d_model, m.n_head),
    core.format_count(n), core.format_count(m.params),
    core.format_flops(m.flops_per_token), core.format_flops(m.flops_per_token_palm),
    core.format_count(tokens), core.format_flops(6 * m.params * tokens)))
end
print("\nK: Kaplan convention 6N + 6·L·T·d; P: PaLM/nanoGPT 6N + 12·L·T·d (N non-embedding).")
print("D = 20N is Chinchilla's rule of thumb for compute-optimal tokens (N counting all parameters).")
