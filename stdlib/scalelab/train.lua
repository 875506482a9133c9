-- train: train GPTs from scratch and get the numbers scaling studies need (runtime/train/train.h,
-- bindings/train.cpp).
--   local r = train.run{ model = model.gpt{ vocab = 256, ctx = 128, d_model = 128, n_layer = 4, n_head = 4 },
--                        data = data.sampler{ corpus = data.corpus "gcide", tokens = 20e6, seq_len = 128, batch = 16 },
--                        tokens = 20e6, lr = 1e-3 }
--   print(r)                       --> done: held-out loss 1.62 (best 1.62) after 20M tokens, ...
--   r.loss, r.curve, r.tokens_per_second, r.flops
--   train.simulate{ model = ..., tokens = 1e9, batch = 32, seq_len = 256 }   -- a law plus noise, instantly
local native = require "scalelab.native.train"
local core = require "scalelab.native.core"

local train = {}
for name, value in pairs(native) do train[name] = value end

core.document(train, "Training GPTs from scratch: train.run{...}, train.simulate{...}, train.backends().")
return train
