-- model: GPT shapes, parameter counts and FLOPs (runtime/model/gpt.h, bindings/model.cpp).
--   model.gpt{ vocab = 50257, ctx = 1024, d_model = 768, n_layer = 12, n_head = 12 }.params
--   --> 124439808
--   model.shape_for{ params = 10e6 }  -- a shape of about 10M non-embedding parameters
return require "scalelab.native.model"
