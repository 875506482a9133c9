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

t.test("a run longer than the sampler's plan is refused before step 1, losing nothing", function()
  local sampler = data.sampler{ corpus = corpus, tokens = 20000, seq_len = 32, batch = 16 }  -- 39 batches
  t.raises(function() train.run{ model = gpt, data = sampler, steps = 40, threads = 1 } end,
    "needs 20480 tokens (40 steps of 16 × 32) but the sampler has only 19968 (39 batches) left")
  t.raises(function() train.run{ model = gpt, data = sampler, tokens = 1e9, threads = 1 } end,
    "train on at most tokens = 19968")
  t.raises(function() train.run{ model = gpt, data = sampler, tokens = 1e9, threads = 1 } end,
    "data.sampler{ tokens = 1000000000, ... }")
  t.raises(function() train.run{ model = gpt, data = sampler, batch = 8000, steps = 1, threads = 1 } end,
    "batch = 8000 rows takes 500 of the sampler's batches of 16 rows per optimizer step, but the sampler has only 39")
  t.eq(sampler:stats().tokens, 0)  -- nothing was drawn
  local r = train.run{ model = gpt, data = sampler, tokens = 19968, threads = 1, eval_tokens = 512 }
  t.eq(r.status, "done")
  t.eq(r.tokens, 19968)
end)

t.test("resuming a finished run from its checkpoint gives the run back, with its own speed", function()
  local path = os.tmpname()
  os.remove(path)
  local function run()
    local sampler = data.sampler{ corpus = corpus, tokens = 16 * 32 * 6, seq_len = 32, batch = 16 }
    return train.run{ model = gpt, data = sampler, threads = 1, eval_tokens = 512, checkpoint = path }
  end
  local first = run()
  local again = run()  -- the sampler is restored to its end: nothing left to draw, nothing needed
  os.remove(path)
  t.eq(again.status, "done")
  t.eq(again.tokens, first.tokens)
  t.eq(again.loss, first.loss)
  t.near(again.tokens_per_second, first.tokens_per_second, 1e-9)
  t.ok(again.wall_seconds >= first.wall_seconds)
end)

t.test("eval_data split with another validation than the sampler's is refused: it held out trained documents", function()
  local s = data.sampler{ corpus = corpus, unique_tokens = "all", tokens = 20000, seq_len = 32, batch = 16 }
  local other = data.held_out{ corpus = corpus, seq_len = 32, batch = 16, validation = 0.05 }
  t.raises(function() train.run{ model = gpt, data = s, eval_data = other, steps = 1 } end,
    "train.run: eval_data holds out validation = 0.05 of the corpus, but data trains on all but validation = 0.01 of it: ")
  t.raises(function() train.run{ model = gpt, data = s, eval_data = other, steps = 1 } end,
    "held-out documents are trained on; give eval_data = data:held_out()")
  -- The same fraction, or the sampler's own held_out(), trains.
  local same = data.held_out{ corpus = corpus, seq_len = 32, batch = 16, validation = 0.01 }
  t.eq(train.run{ model = gpt, data = s, eval_data = same, steps = 1, threads = 1 }.status, "done")
end)

-- Held-out data of another vocabulary or tokenizer than the training data's was evaluated: a byte
-- corpus trained and scored on GPT-2 token ids gave a held-out loss that meant nothing.
t.test("held-out data of another vocabulary or tokenizer than the training data's is refused, naming both", function()
  local dir = t.scratch("train-data-vocab")
  -- 200 GPT-2 documents of 40 tokens (nanoGPT's layout: each ends with the end-of-text, 50256).
  local ids = {}
  for d = 1, 200 do
    for i = 1, 39 do ids[#ids + 1] = string.pack("<I2", 256 + (d * 7 + i * 13) % 50000) end
    ids[#ids + 1] = string.pack("<I2", 50256)
  end
  t.write_file(dir .. "/gpt2.bin", table.concat(ids))
  local gpt2 = data.tokens_bin{ dir .. "/gpt2.bin", format = "nanogpt", out = dir .. "/gpt2.tok" }
  t.eq(gpt2.tokenizer_name, "gpt2")
  local lines = {}
  for i = 1, 400 do lines[#lines + 1] = "line " .. i .. " of a text of bytes, long enough for a row" end
  t.write_file(dir .. "/text.txt", table.concat(lines, "\n") .. "\n")
  local bytes = data.files{ dir .. "/text.txt", documents = "line", out = dir .. "/text.tok" }
  local on_bytes = data.sampler{ corpus = bytes, tokens = 16 * 32, seq_len = 32, batch = 16 }
  local wide = model.gpt{ vocab = 50257, ctx = 32, d_model = 16, n_layer = 1, n_head = 2 }
  local message = t.raises(function()
    train.run{ model = wide, data = on_bytes, eval_data = data.held_out{ corpus = gpt2, seq_len = 32, batch = 16 },
               steps = 1, threads = 1, progress = false }
  end, "the held-out data's token ids are not the training data's: data is corpus text (vocab 256, tokenizer bytes) "
    .. "and eval_data is corpus gpt2 (vocab 50257, tokenizer gpt2), so the held-out loss would score ids of another "
    .. "vocabulary and mean nothing; evaluate on held-out data of the training data's tokenizer and vocabulary")
  t.ok(message:find("leave eval_data out (the training data's own held-out split, data:held_out()), or give a held-out "
    .. "source over a corpus made with the same tokenizer and vocab", 1, true), message)
  -- A sampler that holds nothing out has no held-out split to leave eval_data out for.
  message = t.raises(function()
    train.run{ model = wide, data = data.sampler{ corpus = bytes, tokens = 16 * 32, seq_len = 32, batch = 16, validation = 0 },
               eval_data = data.held_out{ corpus = gpt2, seq_len = 32, batch = 16 }, steps = 1, threads = 1, progress = false }
  end, "evaluate on held-out data of the training data's tokenizer and vocabulary: give eval_data = a held-out source "
    .. "over a corpus made with the same tokenizer and vocab")
  t.ok(not message:find("held_out()", 1, true), message)
  t.eq(on_bytes:stats().tokens, 0)  -- refused before the first step
  -- The same vocabulary of another tokenizer: synthetic ids scored on bytes.
  local markov = data.synthetic{ kind = "markov", vocab = 256, order = 1, seed = 2, tokens = 40000, document_tokens = 400 }
  local bytes_model = model.gpt{ vocab = 256, ctx = 32, d_model = 16, n_layer = 1, n_head = 2 }
  t.raises(function()
    train.run{ model = bytes_model, data = data.sampler{ corpus = markov, tokens = 16 * 32, seq_len = 32, batch = 16 },
               eval_data = data.held_out{ corpus = bytes, seq_len = 32, batch = 16 }, steps = 1, threads = 1, progress = false }
  end, "data is corpus markov (vocab 256, tokenizer synthetic) and eval_data is corpus text (vocab 256, tokenizer bytes), "
    .. "so the held-out loss would score ids of another tokenizer and mean nothing")
  -- Another corpus of the same tokenizer and vocabulary is held-out data of another text: it trains.
  t.write_file(dir .. "/other.txt", string.rep("another text of bytes, held out from another source\n", 300))
  local other = data.files{ dir .. "/other.txt", documents = "line", out = dir .. "/other.tok" }
  t.eq(train.run{ model = bytes_model, data = data.sampler{ corpus = bytes, tokens = 16 * 32, seq_len = 32, batch = 16 },
                  eval_data = data.held_out{ corpus = other, seq_len = 32, batch = 16 }, steps = 1, threads = 1,
                  eval_tokens = 512, progress = false }.status, "done")
end)

-- GPT-2 token files imported with GPT-2's vocab padded (vocab = 50304, nanoGPT's and llm.c's model
-- size) and without (50257) hold the same ids: held-out data of one under a model trained on the
-- other was refused as "ids of another vocabulary", though both say tokenizer gpt2.
t.test("held-out GPT-2 ids of a padded vocab, or of GPT-2's own, evaluate under a model trained on the other", function()
  local dir = t.scratch("train-data-padded")
  local function file(name, seed)
    local ids = {}
    for d = 1, 100 do
      for i = 1, 39 do ids[#ids + 1] = string.pack("<I2", 256 + (d * seed + i * 13) % 50000) end
      ids[#ids + 1] = string.pack("<I2", 50256)
    end
    t.write_file(dir .. "/" .. name .. ".bin", table.concat(ids))
    return dir .. "/" .. name .. ".bin"
  end
  local train_bin, val_bin = file("train", 7), file("val", 11)
  local padded = data.tokens_bin{ train_bin, format = "nanogpt", vocab = 50304, out = dir .. "/train.tok" }
  local plain = data.tokens_bin{ val_bin, format = "nanogpt", out = dir .. "/val.tok" }
  t.eq(padded.tokenizer_name, "gpt2")
  t.eq(plain.tokenizer_name, "gpt2")
  t.eq(padded.vocab, 50304)
  t.eq(plain.vocab, 50257)
  local m = model.gpt{ vocab = 50304, ctx = 32, d_model = 8, n_layer = 1, n_head = 2 }
  local function run(train_corpus, held)
    return train.run{ model = m, data = data.sampler{ corpus = train_corpus, tokens = 4 * 32, seq_len = 32, batch = 4 },
                      eval_data = data.held_out{ corpus = held, seq_len = 32, batch = 4 }, steps = 1, threads = 1,
                      eval_tokens = 128, progress = false }
  end
  t.eq(run(padded, plain).status, "done")
  t.eq(run(plain, padded).status, "done")
  -- A padded vocab of a synthetic source is still another vocabulary: its ids are another process's.
  local m64 = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 2, tokens = 20000, document_tokens = 400 }
  local m32 = data.synthetic{ kind = "markov", vocab = 32, order = 1, seed = 2, tokens = 20000, document_tokens = 400 }
  t.raises(function()
    train.run{ model = model.gpt{ vocab = 64, ctx = 32, d_model = 8, n_layer = 1, n_head = 2 },
               data = data.sampler{ corpus = m64, tokens = 4 * 32, seq_len = 32, batch = 4 },
               eval_data = data.held_out{ corpus = m32, seq_len = 32, batch = 4 }, steps = 1, threads = 1, progress = false }
  end, "so the held-out loss would score ids of another vocabulary")
end)

t.test("held-out data encoded by a BPE of other merges is refused; the same merges in another file evaluate", function()
  local dir = t.scratch("train-data-bpe")
  local function text(name, words)
    local lines = {}
    for i = 1, 300 do
      local line = {}
      for j = 1, 12 do line[j] = words[(i * 7 + j * j) % #words + 1] end
      lines[i] = table.concat(line, " ")
    end
    t.write_file(dir .. "/" .. name .. ".txt", table.concat(lines, "\n") .. "\n")
    return data.files{ dir .. "/" .. name .. ".txt", documents = "line", out = dir .. "/" .. name .. ".tok" }
  end
  local a = text("a", { "the", "cat", "sat", "on", "mat", "with", "a", "hat", "and", "bat" })
  local b = text("b", { "zorb", "quix", "vlem", "ptarg", "wux", "ghyll", "fnord", "kyzz", "jorp", "mlek" })
  local bpe_a = data.bpe{ corpus = a, vocab = 270, out = dir .. "/a.bpe.tok" }
  local bpe_b = data.bpe{ corpus = b, vocab = 270, out = dir .. "/b.bpe.tok" }
  local again = data.bpe{ corpus = a, vocab = 270, out = dir .. "/again.bpe.tok" }
  t.eq(bpe_a.vocab, 270)
  t.eq(bpe_b.vocab, 270)
  t.ok(bpe_a.tokenizer_name ~= again.tokenizer_name, "another file: " .. again.tokenizer_name)
  local m = model.gpt{ vocab = 270, ctx = 32, d_model = 16, n_layer = 1, n_head = 2 }
  local function run(held)
    return train.run{ model = m, data = data.sampler{ corpus = bpe_a, tokens = 16 * 32, seq_len = 32, batch = 16 },
                      eval_data = data.held_out{ corpus = held, seq_len = 32, batch = 16 }, steps = 1, threads = 1,
                      eval_tokens = 512, progress = false }
  end
  t.raises(function() run(bpe_b) end, "(vocab 270, tokenizer " .. bpe_b.tokenizer_name .. "), so the held-out loss "
    .. "would score ids of another tokenizer")
  t.eq(run(again).status, "done")
end)

t.test("data = a corpus says how to make a sampler from it", function()
  t.raises(function() train.run{ model = gpt, data = corpus, tokens = 1e4 } end,
    "train.run: data: expected a batch source, got a corpus (markov): make a sampler from it, data.sampler{ corpus = c")
end)

t.test("sampler fields give the numbers in use, never a sentinel", function()
  local fresh = data.sampler{ corpus = corpus, tokens = 20000, seq_len = 32, batch = 16, seed = 4 }
  t.eq(fresh.unique_tokens, 39 * 16 * 32)  -- left out: U = tokens, as many whole sequences as the run's rows
  t.eq(fresh.planned_tokens, 39 * 16 * 32)
  t.eq(fresh.order_seed, 4)               -- left out: = seed
  local all = data.sampler{ corpus = corpus, tokens = 20000, unique_tokens = "all", seq_len = 32, batch = 16 }
  t.eq(all.unique_tokens, 39 * 16 * 32)  -- the split, but no more than the run's rows (D < the split: fresh)
  t.eq(data.sampler{ corpus = corpus, tokens = 1e6, unique_tokens = "all", seq_len = 32, batch = 16 }.unique_tokens,
    (corpus:split().train_tokens - 1) // 32 * 32)  -- the split in whole sequences
  t.raises(function() data.sampler{ corpus = corpus, tokens = 20000, unique_tokens = 0 } end,
    "unique_tokens (U) must be >= 1 token or \"all\" (got 0)")
  t.raises(function() data.sampler{ corpus = corpus, tokens = 1e20 } end,
    "tokens = 1e20 is beyond the largest count scalelab handles")
  t.raises(function() data.sampler{ corpus = corpus, tokens = 20000, seed = -1 } end,
    "seed (the shuffle seed) must be >= 0 (got -1)")
  t.raises(function() data.sampler{ corpus = corpus, tokens = 20000, batch = 0 } end, "batch (B, rows per batch) must be >= 1")
end)

t.test("a run on repeated data reports its unique tokens and epochs, and its summary says how often", function()
  -- U = 96 windows of 32 tokens, D = 20 batches of 16 × 32: 10240 / 3072 = 3.33 epochs.
  local repeated = data.sampler{ corpus = corpus, unique_tokens = 3072, tokens = 10240, seq_len = 32, batch = 16 }
  local r = train.run{ model = gpt, data = repeated, threads = 1, eval_tokens = 512, progress = false }
  t.eq(r.tokens, 10240)
  t.eq(r.unique_tokens, 3072)
  t.near(r.epochs, 10240 / 3072, 1e-12)
  t.eq(r.epochs, repeated:stats().epochs)
  t.ok(tostring(r):find(" after 10.2k tokens, 3.33 epochs of 3.07k unique tokens, ", 1, true), tostring(r))
  t.ok(pretty(r):find("3.33 epochs of 3.07k unique tokens", 1, true), pretty(r))  -- the REPL's print
  -- help(r) lists them, from the result's documentation and its fields'.
  local docs, meta = require("scalelab.native.core").docs(), getmetatable(r)
  t.ok(docs[meta]:find("tokens, unique_tokens, epochs,", 1, true), docs[meta])
  t.ok(docs[meta.__properties.unique_tokens]:find("U, the unique tokens", 1, true))
  t.ok(docs[meta.__properties.epochs]:find("tokens / unique_tokens", 1, true))
  -- Fresh data (one epoch) says nothing of repetition; a simulated run reads no data: no U, no epochs.
  local fresh = data.sampler{ corpus = corpus, tokens = 16 * 32 * 4, seq_len = 32, batch = 16 }
  local once = train.run{ model = gpt, data = fresh, threads = 1, eval_tokens = 512, progress = false }
  t.eq(once.unique_tokens, 16 * 32 * 4)
  t.eq(once.epochs, 1.0)
  t.ok(not tostring(once):find("epochs", 1, true), tostring(once))
  local sim = train.simulate{ model = gpt, tokens = 10240, batch = 16, seq_len = 32,
    data = data.sampler{ corpus = corpus, unique_tokens = 3072, tokens = 10240, seq_len = 32, batch = 16 } }
  t.eq(sim.unique_tokens, nil)
  t.eq(sim.epochs, nil)
  t.ok(not tostring(sim):find("epochs", 1, true), tostring(sim))
end)

t.test("data's counts share train's checks and messages (one Args::count)", function()
  t.raises(function() data.sampler{ corpus = corpus } end, "data.sampler: missing required key 'tokens' (D, the training tokens planned)")
  t.raises(function() data.sampler{ corpus = corpus, tokens = 2.5e4 / 3 } end,
    "data.sampler: tokens (D, the training tokens planned) must be a whole number (got 8333.33")
  t.raises(function() data.sampler{ corpus = corpus, tokens = 20000, batch = 0 } end,
    "data.sampler: batch (B, rows per batch) must be >= 1 (got 0); leave it out for the default")
  t.raises(function() data.sampler{ corpus = corpus, tokens = 20000, seq_len = 1e19 } end,
    "data.sampler: seq_len = 1e19 is beyond the largest count scalelab handles (9.2e18)")
  t.raises(function() data.sampler{ corpus = corpus, tokens = "many" } end, "data.sampler: tokens must be a number (got string)")
  t.eq(data.sampler{ corpus = corpus, tokens = 2e4, seq_len = 32, batch = 16 }.planned_tokens, 39 * 16 * 32)  -- 2e4 is whole
  -- train's token counts drop a fraction (a computed budget); its other counts do not.
  local sampler = data.sampler{ corpus = corpus, tokens = 20000, seq_len = 32, batch = 16 }
  t.raises(function() train.run{ model = gpt, data = sampler, steps = 1.5 } end, "train.run: steps (optimizer steps) must be a whole number (got 1.5)")
end)

t.test("a synthetic corpus that cannot fit is refused at once, with the bytes", function()
  t.raises(function() data.synthetic{ kind = "markov", vocab = 64, seed = 1, tokens = 1e15 } end, "PB of memory")
  t.raises(function() data.synthetic{ kind = "markov", vocab = 64, seed = -1 } end,
    "seed (the source's seed) must be >= 0")
end)

t.test("data.bpe takes validation = 0, its own advice for a one-document corpus", function()
  local text, out = os.tmpname(), os.tmpname()
  local f = assert(io.open(text, "w"))
  f:write(string.rep("the cat sat on the mat. ", 200))
  f:close()
  local one = data.files{ text, out = out .. ".corpus" }
  t.eq(one.documents, 1)
  t.raises(function() data.bpe{ corpus = one, vocab = 280, out = out .. ".bpe" } end, "or set validation = 0")
  local b = data.bpe{ corpus = one, vocab = 280, out = out .. ".bpe", validation = 0 }
  t.eq(b.vocab, b.tokenizer.vocab)  -- the text runs out of pairs before 280
  t.ok(b.source:find("stopped at vocab " .. b.vocab .. " of the 280 asked", 1, true), b.source)
  t.eq(b:text(1), string.rep("the cat sat on the mat. ", 200))
  for _, p in ipairs{ text, out, out .. ".corpus", out .. ".bpe", out .. ".bpe.tokenizer" } do os.remove(p) end
end)

t.test("a held-out split smaller than the default evaluation is evaluated once, every sequence weighted equally", function()
  -- 40 documents of 500 tokens: the held-out split is a document or so, a few sequences of 32.
  local small = data.synthetic{ kind = "markov", vocab = 32, order = 1, seed = 3, tokens = 20000, document_tokens = 500 }
  local function run(held_batch)
    local held = data.held_out{ corpus = small, seq_len = 32, batch = held_batch }
    local sampler = data.sampler{ corpus = small, tokens = 16 * 32 * 4, seq_len = 32, batch = 16, seed = 1 }
    return train.run{ model = gpt, data = sampler, eval_data = held, threads = 1 }
  end
  local windows = data.held_out{ corpus = small, seq_len = 32, batch = 8 }.windows
  t.ok(windows < 16 * 8 and windows % 8 ~= 0,
    "the split's " .. windows .. " sequences are fewer than the default 16 batches of 8 and end partway into a batch")
  -- One batch of all the split's sequences: its mean is the equally weighted loss (without the fix, 16
  -- copies of the same batch: the same mean).
  local whole = run(windows)
  local r = run(8)  -- 16 batches of 8 went round the split, counting its first sequences once more than the rest
  t.eq(r.status, "done")
  t.near(r.curve[1].eval_loss, whole.curve[1].eval_loss, 1e-12)
  t.near(r.loss, whole.loss, 1e-12)
  t.ok(r.loss ~= whole.curve[1].eval_loss, "the model trained between the two evaluations")
  local note = "each evaluation reads every held-out sequence once, each weighted equally"
  local count, at = 0, 1
  while true do
    local _, last = (r.note or ""):find(note, at, true)
    if not last then break end
    count, at = count + 1, last + 1
  end
  t.eq(count, 1, "the note, once: " .. tostring(r.note))
  t.ok(r.note:find(windows .. " sequences of 32 tokens", 1, true), r.note)
end)

t.test("an eval_tokens of more than a small held-out split reads every sequence once, each weighted equally", function()
  -- 40 documents of 500 tokens: a held-out split of 15 sequences of 32, two batches of 8 a pass.
  local small = data.synthetic{ kind = "markov", vocab = 32, order = 1, seed = 3, tokens = 20000, document_tokens = 500 }
  local function run(held_batch, eval_tokens)
    local held = data.held_out{ corpus = small, seq_len = 32, batch = held_batch }
    local sampler = data.sampler{ corpus = small, tokens = 16 * 32 * 4, seq_len = 32, batch = 16, seed = 1 }
    return train.run{ model = gpt, data = sampler, eval_data = held, threads = 1, eval_tokens = eval_tokens }
  end
  local windows = data.held_out{ corpus = small, seq_len = 32, batch = 8 }.windows
  t.eq(windows, 15)
  -- The equally weighted loss: one batch of all the split's sequences, read once.
  local whole = run(windows, windows * 32)
  t.ok(not (whole.note or ""):find("held-out", 1, true), tostring(whole.note))
  local note = "each evaluation reads every held-out sequence once, each weighted equally"
  -- 3 batches of 8 (24 rows: the first 9 sequences twice), 1.5 passes, and 16 passes of 2 batches
  -- (the most taken): each reads the 15 sequences once, and says so.
  for _, eval_tokens in ipairs { 3 * 8 * 32, 720, 16 * 2 * 8 * 32 } do
    local r = run(8, eval_tokens)
    t.eq(r.status, "done")
    -- Without the fix, 3 batches of 8 gave 3.48620 against 3.48322 for the split read once.
    t.ok(math.abs(r.curve[1].eval_loss - whole.curve[1].eval_loss) <= 1e-12 * whole.curve[1].eval_loss,
      string.format("eval_tokens = %d: initial held-out loss %.9g, the split read once %.9g", eval_tokens,
        r.curve[1].eval_loss, whole.curve[1].eval_loss))
    t.near(r.loss, whole.loss, 1e-12)
    t.ok((r.note or ""):find("eval_tokens = " .. eval_tokens .. " asks for more than the held-out data holds, "
      .. "15 sequences of 32 tokens (480 tokens): " .. note, 1, true), tostring(r.note))
  end
  -- 470 tokens rounds up to 2 batches (16 rows): the split once, what was asked for, without a note.
  local r = run(8, 470)
  t.near(r.loss, whole.loss, 1e-12)
  t.ok(not (r.note or ""):find("held-out", 1, true), tostring(r.note))
  -- Past 16 passes: refused, naming the split and the bound.
  t.raises(function() run(8, 16 * 2 * 8 * 32 + 1) end,
    "the held-out data holds 15 sequences of 32 tokens (480 tokens, 2 batches) and then repeats them")
  t.raises(function() run(8, 16 * 2 * 8 * 32 + 1) end,
    "Give eval_tokens <= 480 (the whole split; up to 8192, 16 passes of 2 batches, reads it once too)")
  -- The passes as ratios print (format_ratio): 1e7 tokens were "2.08e+04 passes", printf's form.
  t.raises(function() run(8, 1e7) end, "and then repeats them: that is 2.08e4 passes over the same tokens")
  t.raises(function() run(8, 16 * 2 * 8 * 32 + 1) end, "and then repeats them: that is 17.1 passes over the same tokens")
end)


t.test("a checkpoint resumed on other data says what it was trained on, what differs and the fix, losing nothing", function()
  -- It said "cannot restore this repetition-sampler from a state saved by a repetition-sampler with
  -- another corpus or other options (fingerprint 3b2a565d5c946251, expected 868968eec4e8c75d)",
  -- whatever differed, and nothing of what the checkpoint was trained on.
  local path = os.tmpname()
  os.remove(path)
  local function run(options, stop)
    local sampler = data.sampler{ corpus = options.corpus or corpus, tokens = options.sampler_tokens or 16 * 32 * 6,
                                  seq_len = 32, batch = 16, validation = options.validation }
    return train.run{ model = gpt, data = sampler, tokens = 16 * 32 * 6, threads = 1, eval_tokens = 512,
                      eval_data = options.eval_data, checkpoint = path,
                      progress = stop and function(p) if p.step == 2 then error("stop", 0) end end or nil }
  end
  t.raises(function() run({}, true) end, "stop")
  local f = io.open(path, "rb")
  local made = f:read("a")
  f:close()
  local function unchanged()
    local g = io.open(path, "rb")
    t.eq(g:read("a") == made, true)
    g:close()
  end
  local documents = corpus.documents
  local start_over = "; to start over on this data, delete the checkpoint " .. path ..
                     " or pass resume = false (the checkpoint is left as it is until then)"
  -- Another validation: another split of the same corpus.
  local message = t.raises(function() run{ validation = 0.05 } end,
    "checkpoint " .. path .. " was made on other data than this run's: it was trained on corpus markov (400000 " ..
    "tokens in " .. documents .. " documents, vocab 32; markov(vocab=32, order=1,")
  t.ok(message:find(" with validation = 0.01 (" .. corpus:split(0.01).validation_documents .. " of its " .. documents ..
                    " documents held out), and this run's data has validation = 0.05 (" ..
                    corpus:split(0.05).validation_documents .. " of its " .. documents .. " documents held out): " ..
                    "another split of the corpus's documents into training and held-out ones, so the rest of the run " ..
                    "would train and measure on other documents. To resume it, make the sampler with validation = 0.01" ..
                    start_over, 1, true), message)
  unchanged()
  -- Another corpus: each named, with its source.
  local other = data.synthetic{ kind = "markov", vocab = 32, order = 1, seed = 4, tokens = 400000 }
  message = t.raises(function() run{ corpus = other } end, "seed=3), stream seed 3), and this run's data reads corpus " ..
                     "markov (400000 tokens in " .. documents .. " documents, vocab 32; markov(vocab=32, order=1, ")
  t.ok(message:find("seed=4), stream seed 4). To resume it, make the sampler over the corpus it was made on" ..
                    start_over, 1, true), message)
  unchanged()
  -- Other options of the sampler: named, with the values the checkpoint was made with.
  message = t.raises(function() run{ sampler_tokens = 16 * 32 * 8 } end,
                     " with tokens = 3072, and this run's data has tokens = 4096. To resume it, make the sampler with " ..
                     "tokens = 3072" .. start_over)
  unchanged()
  -- Other held-out data (eval_data over another corpus): its own refusal, as precise.
  message = t.raises(function() run{ eval_data = data.held_out{ corpus = other, seq_len = 32, batch = 16 } } end,
                     "checkpoint " .. path .. " was made with other held-out data than this run's: its evaluations read " ..
                     "corpus markov (400000 tokens in " .. documents .. " documents, vocab 32; markov(vocab=32, order=1,")
  t.ok(message:find("and this run's held-out data (eval_data, or the data's own held_out()) reads corpus markov", 1, true),
       message)
  t.ok(message:find("To resume it, make the held-out source over the corpus it was made on" .. start_over, 1, true), message)
  unchanged()
  -- A checkpoint of an earlier scalelab, whose states record the options only as a hash: this run's
  -- are said, and that which differ cannot be.
  local legacy = made
  for _, kind in ipairs { "repetition-sampler v2", "held-out v2" } do
    local at = legacy:find(kind, 1, true)
    local size = string.unpack("<I8", legacy, at - 8)
    local state = legacy:sub(at, at + size - 1):gsub(" about=.*", "")
    legacy = legacy:sub(1, at - 9) .. string.pack("<I8", #state) .. state .. legacy:sub(at + size)
  end
  f = io.open(path, "wb")
  f:write(legacy)
  f:close()
  message = t.raises(function() run{ validation = 0.05 } end,
    "tokens in " .. documents .. " documents, vocab 32; markov(vocab=32, order=1,")
  t.ok(message:find("), with other options than this sampler's (its state, saved by an earlier scalelab, records them "
                    .. "only as a hash, so which differ cannot be said), and this run's data has validation = 0.05 (", 1,
                    true), message)
  t.ok(message:find("tokens = 3072, seed = 0, order_seed left out (= seed), seq_len = 32, batch = 16. To resume it, make "
                    .. "the sampler with the options it was made with" .. start_over, 1, true), message)
  f = io.open(path, "wb")
  f:write(made)
  f:close()
  -- The same data resumes the run, which ends as it would have.
  local resumed = run{}
  os.remove(path)
  local whole = run{}
  os.remove(path)
  t.eq(resumed.status, "done")
  t.eq(resumed.loss, whole.loss)
end)

t.done()
