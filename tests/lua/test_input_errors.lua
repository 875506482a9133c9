-- Errors a user meets from Lua, end to end: each names the input and the fix, and comes before any
-- work. (The C++ tests check the same refusals in depth; these check what reaches a script.)
local t = require "scalelab.test"

local corpus = data.synthetic{ kind = "markov", vocab = 32, order = 1, seed = 3, tokens = 100000 }
local gpt = model.gpt{ vocab = 32, ctx = 32, d_model = 32, n_layer = 1, n_head = 2 }

t.test("an integer too large for a number says so, with the range", function()
  t.raises(function() model.gpt{ vocab = 64, ctx = 32, d_model = 1e18, n_layer = 1, n_head = 1 } end,
    "model.gpt: d_model = 1e18 is too large: give an integer in [-9007199254740992, 9007199254740992]")
  t.raises(function() model.gpt{ vocab = 64, ctx = 32, d_model = 32, n_layer = 2.5, n_head = 1 } end,
    "n_layer must be an integer (got 2.5)")
  local message = t.raises(function() model.gpt{ vocab = 64, ctx = 32, d_model = 1e9, n_layer = 1, n_head = 1 } end,
    "d_model = 1000000000 is too large")
  t.ok(not message:find("d_model = 4000000000 is too large", 1, true), message)
end)

t.test("an allocation that fails names the function and what to ask for less of", function()
  -- AddressSanitizer's operator new ends the program on an impossible size; it never throws bad_alloc.
  if os.getenv("SCALELAB_SANITIZED") == "1" then t.skip("AddressSanitizer stops the program instead of failing the allocation") end
  -- 1e12 rows of 33 tokens: no machine has the memory, whatever its overcommit.
  local held = data.held_out { corpus = corpus, seq_len = 32, batch = 1e12 }
  t.raises(function() held:next_batch() end,
    "next_batch: out of memory: what was asked for needs more memory than this machine (or the process's limit, "
    .. "ulimit -v) gives; ask for less: a smaller batch, seq_len, model or data")
end)

t.test("a sampler that holds out nothing (validation = 0) says to give eval_data, before the first step", function()
  local sampler = data.sampler{ corpus = corpus, tokens = 16 * 32 * 4, seq_len = 32, batch = 16, validation = 0 }
  local message = t.raises(function() train.run{ model = gpt, data = sampler, threads = 1, progress = false } end,
    "train.run: data gives no held-out split to evaluate on (the sampler was made with validation = 0)")
  t.ok(message:find("give eval_data = a held-out source, or make the sampler with validation > 0", 1, true), message)
  t.eq(sampler:stats().tokens, 0)
  -- With eval_data of another corpus it trains; the same corpus's held-out documents are its
  -- training data here, which is refused.
  local other = data.sampler{ corpus = corpus, tokens = 16 * 32 * 4, seq_len = 32, batch = 16 }
  t.raises(function() train.run{ model = gpt, data = sampler, eval_data = other:held_out(), threads = 1 } end,
    "held-out documents are trained on; evaluate on held-out data of another corpus, or make the sampler with validation > 0")
  local elsewhere = data.synthetic{ kind = "markov", vocab = 32, order = 1, seed = 5, tokens = 20000 }
  local r = train.run{ model = gpt, data = sampler, threads = 1, progress = false,
                       eval_data = data.sampler{ corpus = elsewhere, tokens = 512, seq_len = 32, batch = 16 }:held_out() }
  t.eq(r.status, "done")
  -- Any other reason the held-out split cannot serve is passed on as it is.
  local long = data.sampler{ corpus = corpus, tokens = 4096 * 2, seq_len = 4096, batch = 1, validation = 0.02 }
  local wide = model.gpt{ vocab = 32, ctx = 4096, d_model = 32, n_layer = 1, n_head = 2 }
  message = t.raises(function() train.run{ model = wide, data = long, threads = 1, progress = false } end,
    "fewer than one sequence of seq_len + 1")
  t.ok(not message:find("validation > 0", 1, true), message)
end)

t.test("a checkpoint path that names a folder (a trailing /) is refused before anything is made", function()
  local dir = t.scratch("input-errors-folder")
  local sampler = data.sampler{ corpus = corpus, tokens = 16 * 32 * 4, seq_len = 32, batch = 16 }
  t.raises(function()
    train.run{ model = gpt, data = sampler, threads = 1, progress = false, checkpoint = dir .. "/ck1/" }
  end, "train.run: checkpoint = \"" .. dir .. "/ck1/\" names a folder; give the path of a file in it")
  t.eq(io.open(dir .. "/ck1"), nil)
end)

t.test("a huge eval_tokens on a sampler's held-out split is refused before the first step", function()
  local sampler = data.sampler{ corpus = corpus, tokens = 16 * 32 * 4, seq_len = 32, batch = 16 }
  local message = t.raises(function()
    train.run{ model = gpt, data = sampler, threads = 1, progress = false, eval_tokens = 1e12 }
  end, "eval_tokens = 1000000000000 asks each evaluation for")
  t.ok(message:find("Give eval_tokens <= ", 1, true), message)
  t.eq(sampler:stats().tokens, 0)
end)

t.test("a checkpoint in a folder that does not exist yet is saved there (the folder is made first)", function()
  local dir = t.scratch("input-errors")
  local path = dir .. "/nodir/ck.bin"
  local sampler = data.sampler{ corpus = corpus, tokens = 16 * 32 * 4, seq_len = 32, batch = 16 }
  local r = train.run{ model = gpt, data = sampler, threads = 1, progress = false, eval_tokens = 512, checkpoint = path }
  t.eq(r.status, "done")
  t.ok(io.open(path, "rb") ~= nil, "the checkpoint " .. path .. " was written")
  -- Under a file no folder can be made: refused before a batch is drawn.
  t.write_file(dir .. "/plain", "x")
  local again = data.sampler{ corpus = corpus, tokens = 16 * 32 * 4, seq_len = 32, batch = 16 }
  t.raises(function()
    train.run{ model = gpt, data = again, threads = 1, progress = false, checkpoint = dir .. "/plain/sub/ck.bin" }
  end, "give a checkpoint path in a folder you can write")
  t.eq(again:stats().tokens, 0)
  -- A file that is not a checkpoint: named, with the fix, and left alone.
  t.write_file(dir .. "/notes.txt", "not a checkpoint\n")
  t.raises(function()
    train.run{ model = gpt, data = again, threads = 1, progress = false, checkpoint = dir .. "/notes.txt" }
  end, "is not a scalelab checkpoint but some other file; give another checkpoint path")
  t.eq(t.read_file(dir .. "/notes.txt"), "not a checkpoint\n")
end)

t.test("data.corpus of a missing path says there is no such file", function()
  t.raises(function() data.corpus "/nonexist/file.txt" end,
    "unknown corpus '/nonexist/file.txt': there is no such file")
  t.raises(function() data.corpus "nosuchcorpus" end, "unknown corpus 'nosuchcorpus'. Known names: gcide")
end)

t.test("data.corpus \"gcide\" with a negative max_documents names the call and the fix", function()
  -- It said "gcide: max_documents must be ≥ 0 (got -5)", naming neither data.corpus nor what to give.
  t.raises(function() data.corpus("gcide", { max_documents = -5 }) end,
    "data.corpus(\"gcide\"): max_documents must be ≥ 0 (got -5): give the number of entries to prepare, or 0 (or "
    .. "leave it out) for all of them")
end)

t.test("resuming a checkpoint on another corpus of the same name and size is refused, with the fix", function()
  local dir = t.scratch("input-errors-corpus")
  local path = dir .. "/run.ckpt"
  local other = data.synthetic{ kind = "markov", vocab = 32, order = 1, seed = 4, tokens = 100000 }
  t.eq(other.tokens, corpus.tokens)  -- and the same name and documents: only the contents differ
  t.eq(other.documents, corpus.documents)
  local function run(source)
    local sampler = data.sampler{ corpus = source, tokens = 16 * 32 * 4, seq_len = 32, batch = 16 }
    return train.run{ model = gpt, data = sampler, threads = 1, progress = false, eval_tokens = 512, checkpoint = path }
  end
  t.eq(run(corpus).status, "done")
  local message = t.raises(function() run(other) end, "was made on other data than this run's")
  t.ok(message:find("and this run's data reads corpus markov (100000 tokens", 1, true), message)
  t.ok(message:find("of the same name, size and source but other tokens", 1, true) == nil, message)  -- seed=4 shows
  t.ok(message:find("To resume it, make the sampler over the corpus it was made on; to start over on this data, "
                    .. "delete the checkpoint " .. path .. " or pass resume = false", 1, true), message)
  t.eq(run(corpus).status, "done")  -- its own corpus resumes it
end)

t.test("corpus:read at a first token near 2^63 is refused, not read outside the corpus", function()
  -- first - 1 + count overflowed to a negative number and passed the bounds check: a segfault.
  t.raises(function() corpus:read(math.maxinteger, 10) end,
    "corpus:read(9223372036854775807, 10): tokens 9223372036854775807..")
  t.raises(function() corpus:read(corpus.tokens, 2) end, "are outside the corpus's 1..100000")
  t.eq(#corpus:read(corpus.tokens, 1), 1)
  t.eq(#corpus:read(1, corpus.tokens), corpus.tokens)
end)

t.test("corpus:document and corpus:text outside the documents name the method and the numbering", function()
  -- It was "document 0 is outside the corpus's 1..N", of no method called.
  local n = corpus.documents
  t.raises(function() corpus:document(0) end, "corpus:document(0): document 0 is outside the corpus's documents 1.." .. n
    .. " (numbered from 1, as Lua counts); give 1 <= i <= " .. n .. " (corpus.documents)")
  t.raises(function() corpus:text(n + 1) end, "corpus:text(" .. (n + 1) .. "): document " .. (n + 1) .. " is outside")
  t.eq(#corpus:document(n) > 0, true)
end)

t.test("a positional number that is not whole names the method, what it counts and an example", function()
  -- They were Lua's own: "bad argument #1 to 'document' (number has no integer representation)".
  local n = corpus.documents
  for _, case in ipairs {
    { function() return corpus:document(1.5) end, "corpus:document(i): i must be a whole number, a document's number "
      .. "from 1 to " .. n .. " (corpus.documents) (got 1.5); e.g. corpus:document(1)" },
    { function() return corpus:text("x") end, "corpus:text(i): i must be a whole number, a document's number from 1 to "
      .. n .. " (corpus.documents) (got string); e.g. corpus:text(1)" },
    { function() return corpus:document() end, "corpus:document(i): i must be a whole number, a document's number" },
    { function() return corpus:read(1.5, 10) end, "corpus:read(first, count): first must be a whole number, the position "
      .. "of the first token to read, from 1 to 100000 (got 1.5); e.g. corpus:read(1, 100)" },
    { function() return corpus:read(1, 1e30) end, "corpus:read(first, count): count must be a whole number, how many "
      .. "tokens to read (1 if left out) (got 1e30)" },
    { function() return data.sampler { corpus = corpus, tokens = 4096, seq_len = 32, batch = 16 }:times_seen(0.5) end,
      "sampler:times_seen(p): p must be a whole number, a target position of the unique stream, from 1 (got 0.5); "
      .. "e.g. sampler:times_seen(1)" },
  } do
    local message = t.raises(case[1], case[2])
    t.ok(not message:find("bad argument", 1, true), message)
    t.ok(message:match("^[^ ]*test_input_errors%.lua:%d+: "), message)  -- at the caller's line
  end
  -- Whole numbers still read as before, a float of a whole value and a number in a string too.
  t.eq(table.concat(corpus:document(2.0), " "), table.concat(corpus:document(2), " "))
  t.eq(corpus:read("3", 2)[2], corpus:read(4, 1)[1])
  t.eq(#corpus:read(1), 1)
end)

t.test("a tiny number is refused (or formatted) by its name, not with a C++ exception's \"stod\"", function()
  local message = t.raises(function() model.shape_for{ params = 1e-300 } end,
    "model.shape_for: params = 1e-300 is below the smallest shape")
  t.ok(not message:find("stod", 1, true), message)
  t.raises(function() plan.loss{ N = 1e-300, D = 1e10, law = fit.published.chinchilla } end,
    "plan.loss: N must be at least 1 (got 1e-300)")
  t.ok(tostring(plan.cost{ flops = 1e-300 }):find("1.00e-300 FLOP", 1, true))  -- as answers print a FLOP count
  t.ok(tostring(sweep.grid{ N = { 1e-300 }, D = { 1e6 } }):find("N=1e-300", 1, true))
end)

t.test("model.shape_for with an aspect near 0 is refused at once, naming the aspect that works", function()
  -- aspect = 1e-9 searched some 66 million depths: a minute, then out of memory.
  local start = os.clock()
  t.raises(function() model.shape_for{ params = 1e6, aspect = 1e-9 } end,
    "model.shape_for: aspect = 1e-9 (d_model / n_layer) would give about 43.7M layers for 1M parameters, "
    .. "more than the 100k searched; give aspect >= 9.13e-6")
  t.raises(function() model.shape_for{ params = 1e6, aspect = 1e-300 } end, "give aspect >= 9.13e-6")
  t.ok(os.clock() - start < 5, "refused in " .. (os.clock() - start) .. " s")
  t.eq(model.shape_for{ params = 1e18, aspect = 10 }.n_layer, 94112)
end)

t.test("a study that trains refuses data that is no corpus before any run, rather than failing every run", function()
  local dir = t.scratch("input-errors-study-data")
  for _, bad in ipairs{ { 0, "an integer" }, { { 1, 2 }, "a table" }, { fit.published.chinchilla, "a Law" } } do
    t.raises(function()
      study.study("bad-data") {
        backend = "cpu", data = bad[1], models = { aspect = 16, ctx = 16, vocab = 32 },
        sweep = sweep.grid{ N = { 3e4 }, D = { 2e4 } }, store = dir .. "/s.db", report = false, quiet = true,
      }
    end, "study: data must be a corpus (data.synthetic{...}, data.corpus \"gcide\", data.files{...}), a corpus's "
      .. "name or file, or a function(run) returning a sampler (got " .. bad[2] .. ")")
  end
  t.eq(io.open(dir .. "/s.db"), nil)
end)

t.test("a study of a table built elsewhere is located at its call, not at a later line that sets the same key", function()
  local dir = t.scratch("input-errors-key-line")
  t.write_file(dir .. "/s.lua", table.concat({
    'local spec = { backend = "bogus", models = { aspect = 16, ctx = 16, vocab = 32 },',
    '  sweep = sweep.grid{ N = { 3e4 }, D = { 1e6 } }, store = "' .. dir .. '/s.db", report = false, quiet = true }',
    'study "elsewhere" (spec)',
    'local other = {',
    '  backend = "simulated",  -- another table\'s key: the error named this line',
    '}',
  }, "\n"))
  t.raises(function() dofile(dir .. "/s.lua") end, dir .. "/s.lua:3: study: backend: \"bogus\" is not a backend")
  -- A table written at the call is still located at the key's own line, past a brace in a comment.
  t.write_file(dir .. "/k.lua", table.concat({
    'study "here" {',
    '  models = { aspect = 16, ctx = 16, vocab = 32 },  -- a { in a comment',
    '  backend = "bogus",',
    '  sweep = sweep.grid{ N = { 3e4 }, D = { 1e6 } }, store = "' .. dir .. '/k.db", report = false, quiet = true }',
  }, "\n"))
  t.raises(function() dofile(dir .. "/k.lua") end, dir .. "/k.lua:3: study: backend: \"bogus\" is not a backend")
end)

t.test("fit.kaplan with a form that is not a string names form and its values", function()
  local obs = fit.observations{ N = { 1e6, 2e6, 4e6, 8e6 }, D = { 1e8, 2e8, 1e8, 3e8 }, loss = { 3.1, 2.9, 2.95, 2.7 } }
  -- It said "bad argument #-1 to 'f' (string expected, got table)".
  t.raises(function() fit.kaplan(obs, { form = {} }) end,
    'fit.kaplan: form must be "N", "D", "C", "ND" or "curve" (got table); leave it out to choose from the observations\' columns')
  t.raises(function() fit.kaplan(obs, { form = "" }) end, 'fit.kaplan: form must be "N", "D", "C", "ND" or "curve" (got "")')
  t.eq(fit.kaplan(obs, { form = "N" }).kind, "kaplan_N")
end)

t.test("out = a folder is refused before the corpus is made, naming out and a file in it", function()
  local dir = t.scratch("input-errors-out-folder")
  -- It failed only after generating (or training a BPE), as "cannot rename '<dir>.tmp.<pid>' onto '<dir>'".
  t.raises(function() data.synthetic{ kind = "markov", vocab = 32, order = 1, seed = 1, tokens = 1000, out = dir } end,
    'data.synthetic: out = "' .. dir .. '" names a folder; give the path of a corpus file in it (out = "' .. dir .. '/corpus.tok")')
  t.raises(function() data.synthetic{ kind = "markov", vocab = 32, order = 1, seed = 1, tokens = 1000, out = dir .. "/new/" } end,
    'out = "' .. dir .. '/new/" names a folder')
  t.write_file(dir .. "/notes.txt", "some text to tokenize\n")
  local text = data.files{ dir .. "/notes.txt", out = dir .. "/notes.tok" }
  t.raises(function() data.bpe{ corpus = text, vocab = 260, validation = 0, out = dir } end, 'data.bpe: out = "' .. dir .. '" names a folder')
  t.raises(function() data.files{ dir .. "/notes.txt", out = dir } end, 'data.files: out = "' .. dir .. '" names a folder')
  t.raises(function() text:save(dir) end, 'corpus:save: path = "' .. dir .. '" names a folder; give the path of a corpus file in it')
  t.raises(function() text:save("") end, 'corpus:save(path): give the path of a corpus file (got "")')
end)

t.test("study.plan_runs, study.pythia_lr and study.count_words name a bad argument", function()
  -- They failed inside study.lua ("attempt to index a number value (local 's')"), or, for
  -- count_words, read anything but "all" as "non_embedding".
  t.raises(function() study.plan_runs(5) end,
    'study.plan_runs(s): s must be a declared Study (s = study "name" { ... }), got an integer')
  t.raises(function() study.pythia_lr{ params = -1 } end,
    "study.pythia_lr(run): run.params must be a positive number of parameters (got -1)")
  t.raises(function() study.pythia_lr() end, "study.pythia_lr(run): run.params must be a positive number")
  t.raises(function() study.count_words("bogus") end,
    'study.count_words(count): count must be "all" or "non_embedding" (got "bogus")')
  t.eq(study.pythia_lr{ params = 70e6 }, 1e-3)
end)

t.test("a held-out method called with a dot names a held-out source and the colon", function()
  local held = data.sampler{ corpus = corpus, tokens = 16 * 32 * 4, seq_len = 32, batch = 16 }:held_out()
  t.raises(function() held.next_batch() end, "held:next_batch: argument #1 must be a held-out source, got nothing; "
    .. "call the method with a colon: held:next_batch(...), not held.next_batch(...)")
end)

t.test("data's argument errors say what they got: a table, a Law, not \"nothing\" or \"userdata\"", function()
  t.raises(function() data.synthetic{ kind = {} } end, 'data.synthetic: kind must be "markov" or "grammar" (got table)')
  t.raises(function() data.sampler{ corpus = fit.published.chinchilla, tokens = 1000 } end,
    "data.sampler: corpus: expected a corpus (from data.corpus, data.files, data.tokens_bin, data.synthetic or data.bpe), got Law")
  t.raises(function() data.unique_windows(1000, {}, 4096, 16, 16) end,
    "data.unique_windows: train_tokens (argument 2) must be a whole number >= 1 (got table)")
end)

t.test("model.shape_for with an aspect too large for any shape names the aspect and the fix", function()
  -- It said only "found no shape near 1M parameters".
  t.raises(function() model.shape_for{ params = 1e6, aspect = 1e308 } end,
    "model.shape_for: found no shape near 1M parameters at aspect = 1e308 (d_model / n_layer), at any target up to "
    .. "1e18; give a smaller aspect (Kaplan found 20 to 200 all fine), or an exact shape with model.gpt{...}")
end)

t.test("a study that trains refuses a corpus name or file that is not there before any run", function()
  local dir = t.scratch("input-errors-study-data-name")
  local function declare(data_value)
    return study.study("bad-data-name") {
      backend = "cpu", data = data_value, models = { aspect = 16, ctx = 16, vocab = 32 },
      sweep = sweep.grid{ N = { 3e4 }, D = { 2e4 } }, store = dir .. "/s.db", report = false, quiet = true,
    }
  end
  t.raises(function() declare("gcdie") end, "study: data = \"gcdie\": data.corpus: unknown corpus 'gcdie'; did you mean 'gcide'?")
  t.raises(function() declare(dir .. "/missing.tok") end,
    "study: data = \"" .. dir .. "/missing.tok\": data.corpus: unknown corpus '" .. dir .. "/missing.tok': there is no such file")
  t.eq(io.open(dir .. "/s.db"), nil)
end)

t.test("an integer option beyond a C++ int is refused, not wrapped round to another value", function()
  local obs = fit.observations{ N = { 1e6, 2e6, 4e6, 8e6, 1e7, 3e7 }, D = { 1e8, 2e8, 1e8, 3e8, 5e8, 1e9 },
                                loss = { 3.1, 2.9, 2.95, 2.7, 2.6, 2.4 } }
  -- bootstrap = 2^32 ran no resamples, seed = 2^32 + 1 was seed 1, order = 2^32 + 1 was order 1.
  t.raises(function() fit.chinchilla(obs, { bootstrap = 2^32 }) end,
    "fit.chinchilla: bootstrap = 4294967296 is outside [-2147483648, 2147483647]")
  t.raises(function() fit.chinchilla(obs, { seed = 2^32 + 1 }) end, "fit.chinchilla: seed = 4294967297 is outside [0, 4294967295]")
  t.raises(function() fit.power_law{ x = { 1, 2, 3, 4 }, y = { 2, 4, 6, 9 }, seed = -1 } end,
    "fit.power_law: seed = -1 is outside [0, 4294967295]")
  t.raises(function() data.synthetic{ kind = "markov", vocab = 32, order = 2^32 + 1, seed = 1, tokens = 1000 } end,
    "data.synthetic: order = 4294967297 is outside [-2147483648, 2147483647]")
  t.raises(function() plan.optimal{ compute = 1e21, law = fit.published.chinchilla, method = "numeric", grid = 2^32 + 2 } end,
    "plan.optimal: grid = 4294967298 is outside")
  t.raises(function() train.run{ model = gpt, backend = "simulated", tokens = 1e5, batch = 16, seq_len = 16, threads = 2^32 } end,
    "train.run: threads must be in [0, 4096] (got 4294967296; 0: all cores)")
end)

t.test("the executor's kill refuses a pid that a pid_t cannot hold, before any signal", function()
  -- 2^32 + 1 narrowed to a 32-bit pid_t is 1 (init): it must be refused, not sent SIGTERM.
  local native = require "scalelab.native.study"
  t.raises(function() native.kill(2^32 + 1) end, "kill: pid must be a process id, 1..2147483647 (got 4294967297)")
  t.raises(function() native.kill(math.maxinteger) end, "kill: pid must be a process id")
  t.raises(function() native.kill(0) end, "kill: pid must be a process id")
  t.raises(function() native.kill(native.getpid(), 2^32 + 15) end, "kill: signal must be 0..64 (got 4294967311)")
  -- Signal 0 asks only whether the process exists: this one does.
  t.eq(native.kill(native.getpid(), 0), true)
end)

t.test("relative_path gives a path it cannot resolve as written, rather than failing the report that mentions it", function()
  -- A component longer than a file name may be makes the filesystem's status call fail (ENAMETOOLONG).
  local native = require "scalelab.native.study"
  local long = "/tmp/" .. string.rep("a", 300) .. "/x.db"
  t.eq(native.relative_path(long, "/tmp"), string.rep("a", 300) .. "/x.db")
  t.eq(native.relative_path("/tmp/x/./y.db", "/tmp"), "x/y.db")
end)

t.test("fit.data_constrained's base = that is not a law names base and the fix, and the study's \"single_epoch\"", function()
  -- Runs drawn from the published law: two U, fresh and repeated, three sizes.
  local rows = {}
  for p in sweep.data_constrained { unique_tokens = { 1e8, 1e9 }, epochs = { 1, 4, 16 }, sizes = { 1e7, 1e8, 1e9 } }:each() do
    rows[#rows + 1] = { N = p.N, D = p.D, U = p.U, loss = fit.published.datablations:predict { N = p.N, D = p.D, U = p.U } }
  end
  -- It said "fit.data_constrained: argument #3 must be a scaling law, got string".
  local message = t.raises(function() fit.data_constrained(rows, { base = "single_epoch" }) end,
    "fit.data_constrained: base must be a law with E, A, B, alpha, beta (got string \"single_epoch\", a study's option: "
    .. "fits = { data_constrained = { base = \"single_epoch\" } }); give a published one (base = fit.published.datablations) "
    .. "or fit.chinchilla of the runs that saw their data once (base = fit.chinchilla(single_epoch_runs)), or leave base "
    .. "out to fit all seven parameters")
  t.ok(not message:find("argument #", 1, true), message)
  t.raises(function() fit.data_constrained(rows, { base = 3 }) end,
    "fit.data_constrained: base must be a law with E, A, B, alpha, beta (got number); give a published one")
  -- A law works as before: the five held, R_D and R_N fitted.
  local law = fit.data_constrained(rows, { base = fit.published.datablations, threads = 1 })
  t.near(law.params.R_D, fit.published.datablations.params.R_D, 1e-3)
  t.near(law.params.R_N, fit.published.datablations.params.R_N, 1e-3)
end)

-- Found by an adversarial sweep of every library function (session 24): each below was accepted, or
-- refused by an error that named neither the function nor the input.

t.test("an allocation rule's N_at, D_at and flops_for_params refuse 0, negative and non-finite inputs", function()
  local rule = plan.allocation { N = { k = 0.1, a = 0.5 } }
  -- They returned NaN, 0 or inf as if they were answers (rule:N_at(-1) was nan).
  t.raises(function() return rule:N_at(-1) end,
    "rule:N_at(C): C, the compute in FLOP (e.g. 1e21), must be a positive finite number (got -1)")
  t.raises(function() return rule:D_at(0) end, "rule:D_at(C): C, the compute in FLOP (e.g. 1e21), must be a positive finite number (got 0)")
  t.raises(function() return rule:N_at(0 / 0) end, "rule:N_at(C): C, the compute in FLOP (e.g. 1e21), must be a positive finite number")
  t.raises(function() return rule:flops_for_params(math.huge) end,
    "rule:flops_for_params(N): N, the parameters (e.g. 1e9), must be a positive finite number (got inf)")
  -- A valid input is answered as before: N = k·C^a, D = C/(6N), and the inverse.
  t.near(rule:N_at(1e20), 0.1 * 1e10, 1e-12)
  t.near(rule:D_at(1e20), 1e20 / (6 * 1e9), 1e-12)
  t.near(rule:flops_for_params(1e9), 1e20, 1e-9)
end)

t.test("law:allocation(C) refuses an infinite C", function()
  -- It printed "N_opt inf params, D_opt inf tokens".
  t.raises(function() return fit.published.chinchilla:allocation(math.huge) end,
    "law:allocation(C): C must be positive finite FLOP (got inf)")
  t.raises(function() return fit.published.chinchilla:allocation(-1) end, "law:allocation(C): C must be positive finite FLOP (got -1)")
  t.ok(fit.published.chinchilla:allocation(1e21).N_opt > 0)
end)

t.test("fit.effective refuses counts that are not positive", function()
  local law = fit.published.datablations
  -- N = -1 gave N' = -1; U = 0 gave D' = 0; U = -1 gave D' = inf.
  t.raises(function() return fit.effective { N = -1, D = 1e10, U = 1e9, law = law } end,
    "fit.effective: N (parameters) must be positive (got -1)")
  t.raises(function() return fit.effective { N = 1e9, D = 1e10, U = 0, law = law } end,
    "fit.effective: U (unique tokens) must be positive (got 0)")
  t.raises(function() return fit.effective { N = 1e9, D = 0, U = 1e9, law = law } end,
    "fit.effective: D (training tokens) must be positive (got 0)")
  -- Fresh data (U = D) is worth itself: D' = D.
  t.near(fit.effective { N = 1e9, D = 1e10, U = 1e10, law = law }.D, 1e10, 1e-12)
end)

t.test("law:with refuses a non-finite value and names itself for an unknown parameter", function()
  local law = fit.published.chinchilla
  -- E = 0/0 made a law whose every loss was NaN; E = math.huge one of infinite losses.
  t.raises(function() return law:with { E = 0 / 0 } end, "law:with.E must be a finite number (got ")
  t.raises(function() return law:with { beta = math.huge } end, "law:with.beta must be a finite number (got inf)")
  t.raises(function() return fit.law_of("chinchilla", { A = -math.huge }) end, "fit.law_of.A must be a finite number (got -inf)")
  -- It said "chinchilla law has no parameter 'Ee' ...", naming no function.
  t.raises(function() return law:with { Ee = 1 } end, "law:with: chinchilla law has no parameter 'Ee'; did you mean 'E'?")
  t.near(law:with { E = 1.5 }:predict { N = 1e9, D = 2e10 } - law:predict { N = 1e9, D = 2e10 }, 1.5 - law.params.E, 1e-9)
end)

t.test("plan's questions refuse fewer than one unique token", function()
  local law = fit.published.datablations
  -- plan.returns{ unique_tokens = 1e-200 } failed with "search.cpp:66: internal check failed"; plan.optimal
  -- with 1e-300 unique tokens answered a loss of 8e108.
  t.raises(function() return plan.returns { unique_tokens = 1e-200, law = law } end,
    "plan.returns: unique_tokens must be at least 1 (got 1e-200)")
  t.raises(function() return plan.optimal { compute = 1e21, unique_tokens = 1e-300, law = law } end,
    "plan.optimal: unique_tokens must be at least 1 (got 1e-300)")
  t.raises(function() return plan.inference { loss = 2.5, inference_tokens = 1e12, unique_tokens = 0.5, law = law } end,
    "plan.inference: unique_tokens must be at least 1 (got 0.5)")
  t.ok(plan.optimal { compute = 1e21, unique_tokens = 1e9, law = law }.N > 0)
end)

t.test("setting a field of a library object says it is read-only and names the field", function()
  local corpus = data.synthetic { kind = "markov", vocab = 32, order = 1, seed = 3, tokens = 5000 }
  -- It said "attempt to index a Corpus value (local 'corpus')".
  t.raises(function() corpus.name = "mine" end,
    "Corpus.name cannot be set: a Corpus's fields are read-only (make a new Corpus with what you want changed)")
  t.raises(function() fit.published.chinchilla.my_label = "x" end,
    "Law has no field 'my_label' to set; a Law's fields are read-only: keep values of your own in a table of your own")
  local message = t.raises(function() fit.published.chinchilla.parms = {} end, "did you mean 'params'? (it is read-only)")
  t.ok(message:find("test_input_errors.lua:", 1, true), message)  -- the line of the assignment
  -- A model keeps its own message, which says how to make the changed one.
  t.raises(function() model.gpt { vocab = 32, ctx = 16, d_model = 16, n_layer = 1, n_head = 2 }.vocab = 64 end,
    "a model is read-only: vocab cannot be set on it")
  t.eq(corpus.vocab, 32)
end)

t.test("plot.curves' eval must be true or false", function()
  local run = train.simulate { model = gpt, steps = 10, batch = 4, seq_len = 16 }
  -- eval = 0 (a number, true in Lua) drew the evaluation points.
  t.raises(function() return plot.curves(run, { eval = 0 }) end,
    "plot.curves: eval must be true or false, whether to draw the evaluation loss (got 0)")
  t.raises(function() return plot.curves(run, { eval = "no" }) end, "(got \"no\")")
  t.ok(plot.curves(run, { eval = false }))
end)

t.test("fit.observations refuses a column of no values rather than leaving it out", function()
  -- N = {} made observations without N, and the fit then said they lack N.
  t.raises(function() return fit.observations { N = {}, D = { 1e8, 2e8 }, loss = { 4, 3.8 } } end,
    "fit.observations: N = {} has no values: give one per run, or leave N out")
  t.raises(function() return fit.observations { N = { n1 = 1e6 }, D = { 1e8 }, loss = { 4 } } end,
    "fit.observations: N must be an array of numbers, one per run, found the key 'n1': write the values in braces "
    .. "without names, N = { 1e6, 2e6 }")
  t.raises(function() return fit.observations { N = { 1e6 }, D = { 1e8 }, loss = {} } end, "loss = {} has no values")
  t.eq(#fit.observations { N = { 1e6, 2e6 }, D = { 1e8, 2e8 }, loss = { 4, 3.8 } }, 2)
end)

t.test("a law that is a sweep or of an unknown kind is refused naming the function and law", function()
  local s = sweep.grid { N = { 1e6, 2e6 }, D = { 1e8 } }
  -- Both said "unknown law kind 'grid'" (a sweep's kind), naming neither the function nor law =.
  t.raises(function() return plan.loss { N = 1e9, D = 1e10, law = s } end,
    "plan.loss: law must be a Law (fit.published.chinchilla, a fitted law) or a table { kind = \"chinchilla\", E = ..., ... } (got Sweep)")
  t.raises(function() return plan.loss { N = 1e9, D = 1e10, law = { kind = "chinchila", E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 } } end,
    "plan.loss: law.kind: unknown law kind 'chinchila'; did you mean 'chinchilla'?")
  t.raises(function() return fit.law_of("chinchila") end, "fit.law_of: unknown law kind 'chinchila'; did you mean 'chinchilla'?")
  t.near(plan.loss { N = 1e9, D = 1e10, law = { kind = "chinchilla", E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28 } }.loss,
    fit.published.chinchilla:predict { N = 1e9, D = 1e10 }, 1e-3)
end)

t.test("fit.table of an answer says it needs a law", function()
  -- An Answer has names too: it failed inside with "Answer has no field 'params'".
  local answer = plan.optimal { compute = 1e21, law = fit.published.chinchilla }
  t.raises(function() return fit.table(answer) end,
    "fit.table(law): law must be a fitted or published law (fit.chinchilla(obs), fit.published.chinchilla), got Answer")
  t.near(fit.table(fit.published.chinchilla).E.value, fit.published.chinchilla.params.E, 1e-12)
end)

t.test("a closed store's methods name themselves and how to open it again, and its rows are kept", function()
  local path = t.scratch("input-errors-closed") .. "/closed.db"
  study.study "closed" { sweep = sweep.grid { N = { 1e6, 2e6 }, D = { 1e7 } }, backend = "simulated", store = path,
                         report = false, quiet = true, fits = {}, model = { vocab = 64, ctx = 64 } }
  local s = store.open(path)
  local hash = s:runs { study = "closed" }[1].hash
  s:close()
  -- Each said only "results store '...' is closed".
  local fix = "the results store '" .. path .. "' is closed (store:close() was called, or the block of its <close> "
    .. "variable ended); open it again: store.open(\"" .. path .. "\")"
  t.raises(function() return s:runs { study = "closed" } end, "store:runs: " .. fix)
  t.raises(function() return s:studies() end, "store:studies: " .. fix)
  t.raises(function() return s:curve("closed", hash) end, "store:curve: " .. fix)
  t.raises(function() return s:reset_run("closed", hash) end, "store:reset_run: " .. fix)
  t.raises(function() return s:export(path .. ".csv") end, "store:export: " .. fix)
  t.raises(function() return s.schema_version end, "store.schema_version: " .. fix)
  t.eq(s.path, path)
  -- Nothing was lost: opened again, the store has both runs.
  t.eq(#store.open(path):runs { study = "closed" }, 2)
end)

t.test("an empty store path is refused naming the function or the study's store =", function()
  -- Both said "results store: the path is empty".
  t.raises(function() return store.open("") end,
    "store.open(path): path is empty; give the database file's name, such as \"runs.db\"")
  t.raises(function()
    study.study "empty-store" { sweep = sweep.grid { N = { 1e6, 2e6 }, D = { 1e7 } }, backend = "simulated", store = "",
                                report = false, quiet = true, fits = {} }
  end, "study \"empty-store\": store = \"\" names no file: give the store's path, store = \"empty-store.db\" (the default when store is left out)")
end)

t.test("a Study's methods called with a dot say to use a colon", function()
  local s = study.study "dotted" { sweep = sweep.grid { N = { 1e6, 2e6 }, D = { 1e7 } }, backend = "simulated",
                                   store = t.scratch("input-errors-dotted") .. "/dotted.db", report = false, quiet = true,
                                   fits = {}, model = { vocab = 64, ctx = 64 } }
  -- Each failed inside the library: "study.lua:...: attempt to index a nil value (local 'self')".
  t.raises(function() return s.observations() end, "s:observations(): call it with a colon, s:observations(), on a Study (got nil)")
  t.raises(function() return s.curves() end, "s:curves(): call it with a colon, s:curves(), on a Study (got nil)")
  t.raises(function() return s.report({}) end, "s:report(): call it with a colon, s:report(), on a Study (got a table)")
  local message = t.raises(function() return s.observations() end, "test_input_errors.lua:")  -- the line of the call
  t.ok(not message:find("stdlib/", 1, true), message)
  t.eq(#s:observations(), 2)
end)

t.test("a figure's series methods called with a dot say to use a colon", function()
  local f = plot.figure { title = "dots" }
  -- It said "figure:points: expected a table of named arguments, got nil": the table was taken for the figure.
  t.raises(function() return f.points { x = { 1 }, y = { 1 } } end,
    "figure:points: call it with a colon, f:points{ ... }, on a figure (got table)")
  t.raises(function() return f.hline { y = 1 } end, "figure:hline: call it with a colon, f:hline{ ... }, on a figure (got table)")
  t.eq(#f:points { x = { 1 }, y = { 1 } }.series, 1)
end)

t.test("a corpus given by name or path that cannot be opened names the function and corpus =", function()
  local dir = t.scratch("input-errors-corpus-name")
  t.write_file(dir .. "/notes.txt", "plain text, not a corpus file\n")
  -- It said only "'.../notes.txt' is not a scalelab corpus (wrong magic bytes); ...".
  t.raises(function() return data.sampler { corpus = dir .. "/notes.txt", tokens = 100 } end,
    "data.sampler: corpus = \"" .. dir .. "/notes.txt\": '" .. dir .. "/notes.txt' is not a scalelab corpus")
  t.raises(function() return data.held_out { corpus = dir .. "/none.tok" } end,
    "data.held_out: corpus = \"" .. dir .. "/none.tok\": data.corpus: unknown corpus")
end)

t.test("train.simulate with an argument after its table takes the table and leaves that argument alone", function()
  local options = { model = gpt, steps = 10, batch = 4, seq_len = 16 }
  -- train.simulate(options, nil) failed with "attempt to index a nil value", naming nothing; a table after
  -- the options was written into (it got the options and backend = "simulated").
  t.eq(train.simulate(options, nil).status, "done")
  local other = {}
  t.eq(train.simulate(options, other).status, "done")
  t.eq(next(other), nil)
  t.eq(options.backend, nil)
end)

-- Each case { fn, text }: fn raises an error containing text, with no number in printf's exponent form.
local function raise_without_printf_exponents(cases)
  for _, case in ipairs(cases) do
    local message = t.raises(case[1], case[2])
    t.ok(not message:find("e[+-]0") and not message:find("e%+"), message)
  end
end

-- A number a message echoes is written as the tool writes numbers (core.format_number: 1e-5, -1e22, as
-- the Lua library's messages write them), not with printf's exponent form: plan's refusals said
-- "(got 1e-05)" and "(got -1e+22)", the trainer's "lr must be a positive number (got -1e-05)".
t.test("refusals echo numbers without printf's exponent form: 1e-5 and -1e22, not 1e-05 and -1e+22", function()
  local chinchilla, datablations = fit.published.chinchilla, fit.published.datablations
  local cases = {
    { function() return plan.optimal { compute = -1e22, law = chinchilla } end,
      "plan.optimal: compute must be positive and finite (got -1e22)" },
    { function() return plan.optimal { compute = 1e22, unique_tokens = 1e-5, law = datablations } end,
      "plan.optimal: unique_tokens must be at least 1 (got 1e-5)" },
    { function() return plan.compute_for { loss = 1e-5, law = chinchilla } end,
      "plan.compute_for: loss target 1e-5 is at or below the law's irreducible loss E = 1.69" },
    { function() return plan.inference { compute = 1e22, law = chinchilla, inference_tokens = -1e-5 } end,
      "plan.inference: inference_tokens must be zero or positive (got -1e-5)" },
    { function() return plan.optimal { compute = 1e22, law = chinchilla, flops = { "palm", ctx = 1e-5 } } end,
      "flops.ctx must be a context length of at least 1 token (got 1e-5)" },
    { function() return plan.cost { flops = -1e22 } end, "plan.cost: flops must be positive and finite (got -1e22)" },
    { function() return plan.cost { flops = 1e22, gpu = "H100", mfu = -1e-5 } end,
      "mfu (model FLOP utilisation) must be in (0, 1], e.g. 0.4 (got -1e-5)" },
    { function() return plan.published.kaplan:N_at(-1e22) end, "must be a positive finite number (got -1e22)" },
    -- An allocation rule's power laws (k and a of its N_opt or D_opt law): "(got k = -1e-05, a = 0.5)".
    { function() return plan.allocation { N = { k = -1e-5, a = 0.5 } } end,
      "allocation rule 'custom': its N_opt law needs k > 0 and a > 0 (got k = -1e-5, a = 0.5)" },
    { function() return plan.allocation { N = { k = 0.1, a = 0.5 }, D = { k = 1.7, a = -2.5e-7 } } end,
      "its D_opt law needs k > 0 and a > 0 (got k = 1.7, a = -2.5e-7)" },
    { function() return model.shape_for { params = -1e-5 } end,
      "model.shape_for: params must be a positive number of non-embedding parameters (got -1e-5)" },
    { function() return train.run { model = gpt, data = data.sampler { corpus = corpus, tokens = 16 * 32, seq_len = 32,
        batch = 16 }, lr = -1e-5, threads = 1, progress = false } end, "train.run: lr must be a positive number (got -1e-5)" },
    { function() return data.sampler { corpus = corpus, tokens = 2e4, seq_len = 2.5e20 } end,
      "data.sampler: seq_len = 2.5e20 is beyond the largest count" },
  }
  raise_without_printf_exponents(cases)
end)

-- fit's and the trainer's alike: they were left with printf's form ("law:interval: level must be in (0, 1),
-- got 1e+22", the count-overflow refusals' "1.02e+20 tokens", law(...)'s hint "law:predict{ N = 2.01455e+07,
-- D = 8.27315e+09 }", code to copy, which 2.01455e7 is too).
t.test("fit's and the trainer's messages echo numbers as the tool writes them: 1e-5 and -1e22", function()
  local chinchilla, datablations = fit.published.chinchilla, fit.published.datablations
  local obs = fit.observations { N = { 1e7, 1e8, 1e9, 1e7, 1e8, 1e9 }, D = { 1e9, 1e9, 1e9, 1e10, 1e10, 1e10 },
    loss = { 4, 3.5, 3.2, 3.4, 3, 2.8 } }
  local cases = {
    { function() return chinchilla:interval("E", 1e22) end, "law:interval: level must be in (0, 1), got 1e22" },
    { function() return fit.interval({ 1, 2, 3 }, -1e-5) end, "fit.interval: level must be in (0, 1), got -1e-5" },
    { function() return chinchilla:allocation(-1e22) end, "law:allocation(C): C must be positive finite FLOP (got -1e22)" },
    { function() return fit.effective { N = -1e-5, D = 1e9, U = 1e9, law = datablations } end,
      "fit.effective: N (parameters) must be positive (got -1e-5)" },
    { function() return chinchilla(2.01455e7, 8.27315e9) end, "law:predict{ N = 2.01455e7, D = 8.27315e9 }" },
    { function() return fit.objective(chinchilla, obs, -1e-5) end, "must be positive, or false for least squares (got -1e-5)" },
    { function() return fit.chinchilla(obs, { bounds = { E = { 1e-5, 1e-6 } } }) end,
      "bounds for E are empty (1e-5 to 1e-6)" },
    { function() return fit.chinchilla(obs, { init = { E = -1e-5 } }) end,
      "chinchilla fit: parameter E = -1e-5 must be positive" },
    { function() return fit.chinchilla(obs, { starts = { { E = -1e-5, A = 400, B = 400, alpha = 0.3, beta = 0.3 } } }) end,
      "chinchilla fit: start 1: E = -1e-5 must be positive" },
    { function() return fit.observations { N = { -1e-5, 1 }, loss = { 1, 2 } } end,
      "observations: row 1, column N = -1e-5 must be positive and finite" },
    { function() return chinchilla:predict { N = -1e22, D = 1e9 } end, "predict needs a positive finite N (got -1e22)" },
    { function() return chinchilla:with { alpha = -1e-5 }:allocation(1e22) end, "has alpha = -1e-5; the allocation" },
    { function() return train.simulate { model = gpt, steps = 1e17, batch = 64, seq_len = 16 } end,
      "1024 tokens is 1.02e20 tokens, beyond the largest count" },
    { function() return train.simulate { model = gpt, steps = 1, batch = 1e18, seq_len = 16 } end,
      "= 1.6e19 tokens per step is beyond the largest count" },
  }
  raise_without_printf_exponents(cases)
end)

-- The simulated backend's law (train.simulate's law =, a study's backend.law) echoed its values with the
-- stream's form beside the trainer's converted checks: "law.A must be >= 0 (got -1e-05)", "law.noise
-- must be in [0, 1) (got 1e+20)", and ln(vocab) to ten digits ("4.158883083").
t.test("the simulated backend's law checks echo numbers as the tool writes them", function()
  local function sim(law)
    return train.simulate { model = gpt, tokens = 1e5, batch = 8, seq_len = 16, law = law }
  end
  local ok = { E = 1, A = 10, B = 50, alpha = 0.3, beta = 0.3 }
  local function with(key, value)
    local law = {}
    for k, v in pairs(ok) do law[k] = v end
    law[key] = value
    return law
  end
  for _, case in ipairs {
    { with("A", -1e-5), "law.A must be >= 0 (got -1e-5)" },
    { with("B", -2.5e-7), "law.B must be >= 0 (got -2.5e-7)" },
    { with("alpha", -1e-7), "law.alpha must be > 0 (got -1e-7)" },
    { with("beta", -3e-6), "law.beta must be > 0 (got -3e-6)" },
    { with("noise", 1e20), "law.noise must be in [0, 1) (got 1e20)" },
    { with("E", 1e300), "law.E (the irreducible loss) must be in [0, ln(vocab) = 3.466) nats per token (got 1e300)" },
  } do
    local message = t.raises(function() return sim(case[1]) end, case[2])
    t.ok(not message:find("e[+-]0") and not message:find("e%+"), message)
  end
end)

t.done()
