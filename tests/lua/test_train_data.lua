-- train.run on the data module's sources: a synthetic Markov corpus with a known entropy rate,
-- the repetition sampler, and its held-out split (used by default).
local t = require "scalelab.test"

local corpus = data.synthetic{ kind = "markov", vocab = 32, order = 1, seed = 3, tokens = 400000 }
local gpt = model.gpt{ vocab = 32, ctx = 32, d_model = 32, n_layer = 2, n_head = 2 }

t.test("a model trained on a Markov corpus approaches its entropy rate on held-out text", function()
  local H = corpus.entropy_per_token
  t.ok(H and H > 0.3 and H < math.log(32) - 0.3, "entropy rate " .. tostring(H))
  local sampler = data.sampler{ corpus = corpus, tokens = 300000, seq_len = 32, batch = 16, seed = 1 }
  local r = train.run{ model = gpt, data = sampler, tokens = 300000, lr = 3e-3, threads = 1,
                       eval_tokens = 16384 }
  t.eq(r.status, "done")
  t.ok(r.loss ~= nil, "held-out loss from sampler:held_out()")
  t.near(r.curve[1].eval_loss, math.log(32), 0.03)
  t.ok(r.loss < 1.05 * H, string.format("held-out %.4f vs entropy %.4f", r.loss, H))
  t.ok(r.loss > 0.97 * H, string.format("held-out %.4f vs entropy %.4f", r.loss, H))
end)

t.test("without tokens or steps, train.run trains on what the sampler plans to deliver", function()
  local sampler = data.sampler{ corpus = corpus, tokens = 16 * 32 * 5, seq_len = 32, batch = 16 }
  local r = train.run{ model = gpt, data = sampler, threads = 1, eval_tokens = 512 }
  t.eq(r.tokens, 16 * 32 * 5)
  t.eq(sampler:stats().tokens, 16 * 32 * 5)
end)

t.test("training past the sampler's planned tokens is a clear error", function()
  local sampler = data.sampler{ corpus = corpus, tokens = 16 * 32 * 4, seq_len = 32, batch = 16 }
  t.raises(function() train.run{ model = gpt, data = sampler, steps = 10, threads = 1 } end, "")
end)

t.done()
