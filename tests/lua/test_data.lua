-- The data module from Lua: synthetic sources, samplers, stats, state, held-out batches, errors.
local t = require "scalelab.test"

local markov = data.synthetic{ kind = "markov", vocab = 64, order = 2, support = 16, tokens = 300000,
                               document_tokens = 1000, seed = 3 }

t.test("a synthetic corpus prints its tokens, documents, vocabulary and source", function()
  local text = tostring(markov)
  for _, part in ipairs{ "300k tokens", "300 documents", "vocab 64", "markov(vocab=64, order=2",
                         "entropy" } do
    t.ok(text:find(part, 1, true), "missing '" .. part .. "' in " .. text)
  end
  t.eq(markov.tokens, 300000)
  t.eq(markov.documents, 300)
  t.eq(markov.vocab, 64)
  t.ok(markov.entropy_per_token > 0.5 and markov.entropy_per_token < math.log(64))
  t.eq(markov.tokenizer, nil)
  t.eq(markov.tokenizer_name, "synthetic")
  -- Text of a corpus of ids alone says where its ids are.
  t.raises(function() markov:text(1) end, 'corpus markov has tokenizer "synthetic", which scalelab cannot decode to text '
    .. "(only bytes and BPE); its token ids are what it holds: corpus:document(i) and corpus:read(first, count) give them")
end)

t.test("help says a markov source's short documents keep a sampler's rows above its entropy rate", function()
  -- Documents are shuffled: each one's first `order` tokens follow another's (measured: +0.08 nats at 64 tokens).
  local text = t.help_text(data.synthetic):gsub("%s+", " ")
  t.ok(text:find("a markov document's first `order` tokens follow another document's", 1, true), text)
  t.ok(text:find("+0.08 at 64, +0.25 at 40), and a study's fitted E is above it the same way; keep its documents long", 1, true), text)
  t.ok(t.help_text(markov):gsub("%s+", " "):find("for a markov source, for documents of document_tokens", 1, true))
end)

t.test("markov and grammar sources are deterministic from their seed", function()
  local again = data.synthetic{ kind = "markov", vocab = 64, order = 2, support = 16, tokens = 300000,
                                document_tokens = 1000, seed = 3 }
  t.eq(again.entropy_per_token, markov.entropy_per_token)
  t.eq(table.concat(again:read(1, 500), ","), table.concat(markov:read(1, 500), ","))
  local g1 = data.synthetic{ kind = "grammar", vocab = 64, tokens = 20000, seed = 1 }
  local g2 = data.synthetic{ kind = "grammar", vocab = 64, tokens = 20000, seed = 1 }
  local g3 = data.synthetic{ kind = "grammar", vocab = 64, tokens = 20000, seed = 2 }
  t.eq(g1.entropy_per_token, g2.entropy_per_token)
  t.ok(g1.entropy_per_token ~= g3.entropy_per_token)
  t.eq(g1.tokens, 20000)
end)

t.test("sampler: batches, exact stats over a fractional last epoch, and the U = D case", function()
  local s = data.sampler{ corpus = markov, unique_tokens = 6400, tokens = 6400 * 2 + 64 * 4 * 3,
                          seq_len = 64, batch = 4, seed = 1 }
  local rows = s:next_batch()
  t.eq(#rows, 4)
  t.eq(#rows[1], 65)
  local st = s:stats()
  t.eq(st.tokens, 256)
  t.eq(st.windows, 100)
  t.eq(st.repetitions[1], 256)
  t.eq(st.repetitions[0], 6400 - 256)
  while not s.exhausted do s:next_batch() end
  st = s:stats()
  t.eq(st.tokens, st.planned_tokens)
  t.eq(st.rows, 212)                        -- 2 epochs of 100 rows and 12 more
  t.eq(st.full_epochs, 2)
  t.near(st.epochs, 2.12, 1e-12)
  t.eq(st.repetitions[3], 12 * 64)
  t.eq(st.repetitions[2], 88 * 64)
  t.raises(function() s:next_batch() end, "sampler exhausted")

  local fresh = data.sampler{ corpus = markov, tokens = 64 * 4 * 10, seq_len = 64, batch = 4 }
  while not fresh.exhausted do fresh:next_batch() end
  t.eq(fresh:stats().repetitions[1], 64 * 4 * 10)
  t.eq(fresh:stats().repetitions[2], nil)
end)

t.test("sampler state and restore continue bitwise", function()
  local opts = { corpus = markov, unique_tokens = 20000, tokens = 60000, seq_len = 32, batch = 3, seed = 5 }
  local a = data.sampler(opts)
  for _ = 1, 17 do a:next_batch() end
  local saved = a:state()
  local expected = a:next_batch()
  local b = data.sampler(opts)
  b:restore(saved)
  local got = b:next_batch()
  for r = 1, 3 do t.eq(table.concat(got[r], ","), table.concat(expected[r], ",")) end
  t.raises(function() data.sampler{ corpus = markov, tokens = 60000, seq_len = 32, batch = 3 }:restore(saved) end,
           "and this sampler has unique_tokens left out (U = tokens, fresh data), seed = 0; restore it into a sampler "
           .. "of unique_tokens = 20000, seed = 5")
  -- Another kind of source's state is no sampler's, whatever data it says it was saved on.
  t.raises(function() b:restore(a:held_out():state()) end, "cannot restore a repetition-sampler from 'held-out v2 ")
  t.raises(function() a:held_out():restore(saved) end, "cannot restore a held-out from 'repetition-sampler v2 ")
end)

t.test("a sampler state whose rows are not whole batches is refused, naming it, and the sampler goes on", function()
  local opts = { corpus = markov, tokens = 60000, seq_len = 32, batch = 4, seed = 5 }
  local s = data.sampler(opts)
  local bad = s:state():gsub("rows=0", "rows=3")
  t.raises(function() s:restore(bad) end, "cannot restore the sampler from '" .. bad:gsub(" about=.*", "")
    .. "': its rows = 3 is not a whole number of batches of 4 rows")
  t.eq(s:stats().tokens, 0)  -- nothing lost: still at its start
  t.eq(table.concat(s:next_batch()[1], ","), table.concat(data.sampler(opts):next_batch()[1], ","))
end)

t.test("nested subsets: every sequence a smaller U trains on is in a larger U's subset", function()
  -- Same order_seed and seq_len: the smaller unique stream is a prefix of the larger, so its
  -- sequences are among the larger run's sequences (one full epoch of it lists them all).
  local small = data.sampler{ corpus = markov, unique_tokens = 5000, tokens = 20000, seq_len = 50, batch = 2,
                              order_seed = 7, seed = 1 }
  local large = data.sampler{ corpus = markov, unique_tokens = 50000, tokens = 50000, seq_len = 50, batch = 2,
                              order_seed = 7, seed = 2 }
  local in_large = {}
  while not large.exhausted do
    for _, row in ipairs(large:next_batch()) do in_large[table.concat(row, ",")] = true end
  end
  local other = data.sampler{ corpus = markov, unique_tokens = 5000, tokens = 20000, seq_len = 50, batch = 2,
                              order_seed = 8, seed = 1 }
  local outside = 0
  while not small.exhausted do
    for _, row in ipairs(small:next_batch()) do t.ok(in_large[table.concat(row, ",")], "sequence not nested") end
    for _, row in ipairs(other:next_batch()) do if not in_large[table.concat(row, ",")] then outside = outside + 1 end end
  end
  t.ok(outside > 0, "another document order should give another subset")
end)

-- A run of fewer rows than its U holds sequences (fresh data: U left out, or U > D) took a random
-- choice of them, so it did not hold the data of a run repeating a smaller U: 64 of 156 sequences
-- were missing for U = 30k, D = 25k. It takes the first ones now, so nesting holds across all runs.
t.test("fresh-data runs (U left out, or U > D) nest with runs repeating a smaller U", function()
  local function rows_of(options)
    options.corpus, options.seq_len, options.batch, options.order_seed = markov, 64, 4, 7
    local s, seen, n = data.sampler(options), {}, 0
    while not s.exhausted do
      for _, row in ipairs(s:next_batch()) do
        local key = table.concat(row, ",")
        if not seen[key] then n = n + 1 end
        seen[key] = true
      end
    end
    return seen, n, s
  end
  local repeated, count = rows_of { unique_tokens = 10000, tokens = 40000, seed = 1 }
  t.eq(count, 10000 // 64)
  for _, options in ipairs { { tokens = 25000, seed = 2 }, { unique_tokens = 30000, tokens = 25000, seed = 3 },
                             { unique_tokens = "all", tokens = 25000, seed = 4 } } do
    local fresh, n, s = rows_of(options)
    t.eq(n, 25000 // 256 * 4, "one epoch, no sequence twice")
    t.eq(s.unique_tokens, 25000 // 256 * 4 * 64)
    local missing = 0
    for key in pairs(repeated) do if not fresh[key] then missing = missing + 1 end end
    t.eq(missing, 0)
  end
  -- U in use, and U asked, when they differ: whole sequences of seq_len.
  local odd = data.sampler{ corpus = markov, unique_tokens = 100, tokens = 1000, seq_len = 64, batch = 4 }
  t.eq(odd.unique_tokens, 64)
  t.eq(odd:stats().unique_tokens_asked, 100)
  t.ok(tostring(odd):find("U = 64 unique tokens (100 asked: whole sequences of 64), D = 768 tokens (12 epochs)", 1, true),
    tostring(odd))
  -- Where three digits print them alike, in full.
  local near = data.sampler{ corpus = markov, tokens = 20000, seq_len = 64, batch = 4 }
  t.ok(tostring(near):find("U = 19968 unique tokens (20000 asked: whole sequences of 64, as many as the run's rows)", 1, true),
    tostring(near))
end)

t.test("fresh data that the split holds only by repeating a sequence is refused", function()
  -- 4096 training tokens hold 63 sequences of 64 targets (each needs the token after it): a fresh run
  -- of 64 rows repeated one, and said 1.016 epochs.
  local small = data.synthetic{ kind = "markov", vocab = 64, order = 1, seed = 1, tokens = 8192 }
  local split = small:split().train_tokens
  t.raises(function() data.sampler{ corpus = small, tokens = split, seq_len = 64, batch = 4 } end,
    "sampler: tokens = " .. split .. " of fresh data (no unique_tokens) needs " .. split // 64 .. " sequences of 64 "
    .. "targets, but the training split of corpus markov (" .. split .. " tokens) holds " .. (split - 1) // 64)
  t.raises(function() data.sampler{ corpus = small, tokens = split, seq_len = 64, batch = 4 } end,
    "so one would be repeated; give tokens <= " .. ((split - 1) // 64 // 4 * 4 * 64) .. ", or unique_tokens = \"all\"")
  -- A split of fewer fresh sequences than one batch: the fix is a smaller batch ("give tokens <= 0" was none).
  t.raises(function() data.sampler{ corpus = small, tokens = split, seq_len = split // 2, batch = 2 } end,
    "holds 1 (each also needs the token after it), so one would be repeated; give batch <= 1 (not one batch of 2 fits), "
    .. "or unique_tokens = \"all\" to repeat the split")
  -- Repetition asked for is given: the whole split, 1.016 epochs of it.
  local all = data.sampler{ corpus = small, tokens = split, unique_tokens = "all", seq_len = 64, batch = 4 }
  t.ok(all:stats().planned_epochs > 1, tostring(all))
end)

t.test("sampler:held_out of a sampler that holds nothing out says so", function()
  -- It said "held-out source: validation must be a fraction of documents in (0, 1) (got 0)", an option
  -- the call has not got.
  local s = data.sampler{ corpus = markov, tokens = 1024, seq_len = 64, batch = 4, validation = 0 }
  t.raises(function() s:held_out() end, "sampler:held_out: this sampler holds no documents out (validation = 0, it "
    .. "trains on all of them), so it has no held-out split; make it with validation > 0")
end)

t.test("a held-out state whose rows are beyond counting is refused, naming it, and the source goes on", function()
  local h = data.held_out{ corpus = markov, seq_len = 32, batch = 2 }
  local first = h:next_batch()
  h:rewind()
  local bad = h:state():gsub("rows=0", "rows=9223372036854775807")
  t.raises(function() h:restore(bad) end, "cannot restore this held-out source from '" .. bad:gsub(" about=.*", "")
    .. "': its rows = 9223372036854775807 is beyond the 4611686018427387903 rows a held-out source can count")
  t.eq(table.concat(h:next_batch()[1], ","), table.concat(first[1], ","))  -- nothing lost
end)

t.test("held-out batches are deterministic and rewind", function()
  local s = data.sampler{ corpus = markov, tokens = 10000, seq_len = 32, batch = 2 }
  local h = s:held_out()
  t.eq(h.seq_len, 32)
  t.ok(h.batches_per_pass >= 1)
  local first = h:next_batch()
  h:next_batch()
  h:rewind()
  t.eq(table.concat(h:next_batch()[1], ","), table.concat(first[1], ","))
  local h2 = data.held_out{ corpus = markov, seq_len = 32, batch = 2 }
  t.eq(table.concat(h2:next_batch()[2], ","), table.concat(first[2], ","))
end)

-- tokens beyond the split, unique_tokens left out, was "unique_tokens U = 1000000 is larger than the
-- training split ...; lower unique_tokens (it defaults to tokens)": a key not given, and no number that fits.
t.test("fresh data beyond the training split names tokens, the tokens that fit and the epochs of repeating it", function()
  local small = data.synthetic{ kind = "markov", vocab = 16, seed = 1, tokens = 20000, document_tokens = 500 }
  t.eq(small:split().train_tokens, 19500)  -- 39 of 40 documents of 500
  local message = t.raises(function() data.sampler{ corpus = small, tokens = 1e6, seq_len = 32, batch = 4 } end,
    "data.sampler: tokens = 1000000 (1M) of fresh data (unique_tokens left out: no token seen twice) is more than the "
    .. "training split of corpus markov holds: 19500 tokens (19.5k) in 39 documents (500 more are held out for validation); "
    .. "give tokens <= 19456 (whole batches of 4 sequences of 32, each also needing the token after it), "
    .. "unique_tokens = \"all\" to repeat the split (about 51.3 epochs), or a larger corpus")
  t.ok(not message:find("lower unique_tokens", 1, true), message)
  -- The tokens it names fit; unique_tokens = "all" repeats the split as it says.
  t.eq(data.sampler{ corpus = small, tokens = 19456, seq_len = 32, batch = 4 }.planned_tokens, 19456)
  t.near(data.sampler{ corpus = small, tokens = 1e6, seq_len = 32, batch = 4, unique_tokens = "all" }:stats().planned_epochs,
    1e6 // 128 * 128 / (609 * 32), 1e-12)
  t.raises(function() data.sampler{ corpus = small, tokens = 1e6, seq_len = 4096, batch = 8 } end,
    "give batch <= 4 (not one batch of 8 sequences of 4096 fits)")
  -- unique_tokens given beyond the split keeps its own message.
  t.raises(function() data.sampler{ corpus = small, tokens = 1e6, unique_tokens = 1e5, seq_len = 32, batch = 4 } end,
    "data.sampler: unique_tokens U = 100000 (100k) is larger than the training split of corpus markov")
end)

t.test("bad input gives clear errors", function()
  t.raises(function() data.sampler{ corpus = markov, unique_tokens = 1e9, tokens = 1e9, seq_len = 64 } end,
           "is larger than the training split of corpus markov")
  local all = data.sampler{ corpus = markov, unique_tokens = "all", tokens = 1e6, seq_len = 64 }
  t.eq(all:stats().unique_tokens_asked, markov:split().train_tokens)
  t.eq(all:stats().unique_tokens, (markov:split().train_tokens - 1) // 64 * 64)  -- in use: whole sequences
  t.raises(function() data.sampler{ corpus = markov, unique_tokens = "most", tokens = 1e6 } end, "or \"all\"")
  t.raises(function() data.sampler{ corpus = markov, tokens = 1e6, seq_len = 64, bacth = 4 } end,
           "did you mean 'batch'")
  t.raises(function() data.synthetic{ kind = "markof" } end, "did you mean \"markov\"")
  t.raises(function() data.synthetic{ kind = "markov", vocab = 256, order = 4 } end, "lower vocab, order or support")
  t.raises(function() data.corpus "gcied" end, "did you mean 'gcide'")
  t.raises(function() data.open "/nonexistent/corpus.tok" end, "cannot open corpus file '/nonexistent/corpus.tok'")
  t.raises(function() data.sampler{ corpus = 5, tokens = 100 } end, "data.sampler: corpus: expected a corpus")
  -- A missing corpus is named as one, with the function ("expected a corpus ..., got nil" named neither).
  t.raises(function() data.sampler{ tokens = 100 } end, "data.sampler: missing required key 'corpus': give corpus = ")
  t.raises(function() data.held_out{ seq_len = 16 } end, "data.held_out: missing required key 'corpus'")
  t.raises(function() data.bpe{ vocab = 300 } end, "data.bpe: missing required key 'corpus'")
  -- Errors name the caller's line, not the library's.
  local message = t.raises(function() data.files(5) end, "expects a path")
  t.ok(message:find("test_data.lua:", 1, true), message)
  message = t.raises(function() data.sampler{ corpus = markov, tokens = 1e6, sede = 1 } end, "did you mean 'seed'")
  t.ok(message:find("test_data.lua:", 1, true), message)
end)

t.test("a native error through data's Lua wrappers names the user's line once", function()
  -- As a user's script sees it: the program's own report of the error, on its stderr.
  local path = os.tmpname()
  t.write_file(path, 'local c = data.synthetic{ kind = "markov", vocab = 16, seed = 1, tokens = 5000, document_tokens = 5000 }\n'
    .. 'data.sampler{ corpus = c, tokens = 1000, seq_len = 32, batch = 2 }\n')
  local _, _, err = t.run("/tmp", "'" .. path .. "'")
  os.remove(path)
  local first = err:match("^[^\n]*")
  t.ok(first:find("a validation split needs at least 2", 1, true), output)
  local _, locations = first:gsub(":2: ", "")
  t.eq(locations, 1, first)
end)

t.test("option errors name the function called, and one batch or epoch is singular", function()
  t.raises(function() data.synthetic{ kind = "markov", vocab = 1 } end,
    'data.synthetic{ kind = "markov" }: vocab must be in [2, 2^31] (got 1)')
  t.raises(function() data.synthetic{ kind = "grammar", vocab = 16, max_body = 100 } end,
    'data.synthetic{ kind = "grammar" }: max_body must be in [0, 64] (got 100)')
  local c = data.synthetic{ kind = "markov", vocab = 16, tokens = 20000 }
  t.raises(function() data.sampler{ corpus = c, seq_len = 8, batch = 2, tokens = 1000, validation = 1 } end,
    "data.sampler: validation must be a fraction of documents in [0, 1) (got 1)")
  -- corpus:split(1) said the same without naming corpus:split, or what to give.
  for _, v in ipairs{ 1, -0.5, 0 / 0 } do
    local message = t.raises(function() c:split(v) end, "corpus:split(validation): validation must be a fraction of documents "
      .. "in [0, 1) (got ")
    t.ok(message:find("); give the share of documents to hold out (0.01, the default, holds out 1%), or 0 for none", 1, true),
      message)
  end
  t.eq(c:split(0).validation_documents, 0)
  -- data.held_out's validation and sampler:held_out's seq_len and batch were refused by "held-out source: ...",
  -- of no function called.
  for _, v in ipairs{ 0, 1 } do
    local message = t.raises(function() data.held_out{ corpus = c, validation = v } end,
      "data.held_out: validation must be a fraction of documents in (0, 1) (got " .. v .. "): the share of")
    t.ok(not message:find("held-out source", 1, true), message)
  end
  local sampler = data.sampler{ corpus = c, seq_len = 8, batch = 2, tokens = 160 }
  t.raises(function() sampler:held_out{ seq_len = 0 } end, "sampler:held_out: seq_len (T, tokens per row) must be >= 1 (got 0)")
  t.raises(function() sampler:held_out{ batch = -1 } end, "sampler:held_out: batch (B, rows per batch) must be >= 1 (got -1)")
  -- A held-out split too short for a row: "held-out source: ... raise validation or lower seq_len", of an option
  -- sampler:held_out has not got.
  local message = t.raises(function() sampler:held_out{ seq_len = 100000 } end, "sampler:held_out: the validation split of corpus ")
  t.ok(message:find("make the sampler with a larger validation or lower seq_len", 1, true), message)
  t.ok(not message:find("held-out source", 1, true), message)
  t.raises(function() data.held_out{ corpus = c, seq_len = 100000 } end,
    "data.held_out: the validation split of corpus markov has ")
  -- data.bpe{ validation = 1 } said "validation must be a fraction of documents in [0, 1) (got 1)", of no function.
  local dir = t.scratch("data-bpe-validation")
  t.write_file(dir .. "/a.txt", "one two three\n\nfour five six\n")
  local text = data.files{ dir .. "/a.txt", documents = "paragraph", out = dir .. "/a.tok" }
  for _, v in ipairs{ 1, -0.5 } do
    local message = t.raises(function() data.bpe{ corpus = text, vocab = 260, validation = v, out = dir .. "/b.tok" } end,
      "data.bpe: validation must be a fraction of documents in [0, 1) (got ")
    t.ok(message:find("give 0 to train on every document", 1, true), message)
  end
  t.raises(function() data.sampler{ corpus = c, seq_len = 8, batch = 2, tokens = 10 } end,
    "data.sampler: tokens = 10 is less than one batch")
  -- One epoch of its unique tokens: "1 epoch", not "1 epochs".
  local s = data.sampler{ corpus = c, seq_len = 8, batch = 2, tokens = 160, unique_tokens = 160 }
  for _ = 1, 10 do s:next_batch() end
  local report = s:stats().report
  t.ok(report:find(" 1 epoch over 160 unique tokens", 1, true), report)
end)


t.test("data.tokenizer's errors are its own, and a tokenizer name given for a file says what it takes", function()
  -- They began "bpe:", the words of data.bpe, which the script did not call.
  local ok, message = pcall(data.tokenizer, "bytes")
  t.ok(not ok)
  message = tostring(message)
  t.ok(message:find("data.tokenizer: cannot read tokenizer file 'bytes'", 1, true), message)
  t.ok(message:find("\"bytes\" is the name of a corpus's tokenizer", 1, true), message)
  t.ok(not message:find("bpe:", 1, true), message)
  local dir = t.scratch("data-tokenizer")
  t.write_file(dir .. "/not.tokenizer", "hello")
  ok, message = pcall(data.tokenizer, dir .. "/not.tokenizer")
  t.ok(not ok)
  t.ok(tostring(message):find("data.tokenizer: '" .. dir .. "/not.tokenizer' is not a scalelab BPE tokenizer file", 1,
    true), tostring(message))
  -- A missing file, or another file, says which file to give.
  local fix = "; give the path of a tokenizer file that data.bpe saved (beside its corpus, as "
    .. "notes.bpe300.<8 hex digits>.tokenizer beside notes.bpe300.tok), or take a BPE corpus's own, corpus.tokenizer"
  t.raises(function() data.tokenizer(dir .. "/none.tokenizer") end,
    "data.tokenizer: cannot read tokenizer file '" .. dir .. "/none.tokenizer': No such file or directory" .. fix)
  t.raises(function() data.tokenizer(dir .. "/not.tokenizer") end, "is not a scalelab BPE tokenizer file" .. fix)
end)

t.done()
