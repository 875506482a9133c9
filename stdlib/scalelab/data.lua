-- data: token corpora, synthetic sources with known entropy, BPE, and the repetition sampler
-- (runtime/data, bindings/data.cpp).
--
--   local c = data.corpus "gcide"          -- GCIDE dictionary (GPL-2.0-or-later), byte tokens, cached
--   local s = data.sampler{ corpus = c, unique_tokens = 10e6, tokens = 40e6, seq_len = 256, batch = 8 }
--   local rows = s:next_batch()            -- 8 rows of 257 token ids
--   print(s:stats().epochs)                -- exact accounting
--   local m = data.synthetic{ kind = "markov", vocab = 64, order = 2, tokens = 1e6 }
--   print(m.entropy_per_token)             -- nats per token: the irreducible loss (with unlimited context)
--   local b = data.bpe{ corpus = c, vocab = 2048 }
--
-- Corpora: data.corpus(name or file), data.files{...}, data.tokens_bin(path), data.synthetic{...},
-- data.bpe{...}. Every corpus holds out a validation split of documents (1% by default) that no
-- sampler trains on; data.held_out{...} or sampler:held_out() reads it.
local native = require "scalelab.native.data"
local document = require("scalelab.native.core").document

local data = {}
for name, value in pairs(native) do data[name] = value end

-- Wraps a Lua-side function so that its errors (its own and the native call's) point at the
-- user's line, not at this file: the first frame outside the library (called through the C function
-- that init.lua puts before the module's functions, error(message, 2) named no line).
local error_at_user = require("scalelab.study.checks").error_at_user
local function forward(fn)
  return function(...)
    local results = table.pack(pcall(fn, ...))
    if results[1] then return table.unpack(results, 2, results.n) end
    local message = results[2]
    if type(message) ~= "string" then error(message, 2) end
    -- This file's own errors are re-raised at the caller's line. A native function's errors
    -- already name the user's line (the bindings skip the library's frames): keep it, once.
    local own, mine = message:gsub("^[^\n]-data%.lua:%d+: ", "", 1)
    if mine > 0 or not message:find("^[^\n]-:%d+: ") then error_at_user(own) end
    error(message, 0)
  end
end

-- The entries 1..n of a list, n its largest integer key: a nil among them (a variable not set) is
-- an error naming its place (`first` is the list's place in the whole). `#list` and ipairs stopped
-- at it, or not, as the table happened to be stored: data.files{ "a.txt", nil, "b.txt" } read
-- a.txt alone, without a word.
local function entries(fname, list, first, kind)
  local n = 0
  for k in pairs(list) do
    if math.type(k) == "integer" and k > n then n = k end
  end
  local out = {}
  for i = 1, n do
    if list[i] == nil then
      error(string.format("%s: path %d is nil (a variable not set?); give the name of %s, or leave it out of the list",
                          fname, first + i - 1, kind), 0)
    end
    out[i] = list[i]
  end
  return out
end

-- Positional paths (and a lone string) become the `paths` list of the native call. The options of
-- a second argument join those of the first, whether it is a path or a table: they were ignored
-- after a table (data.files({ "a.txt" }, { documents = "line" }) read one document per file), and
-- after a path their paths = replaced the path (data.files("a.txt", { paths = { "b.txt" } }) read
-- b.txt alone).
local function with_paths(fname, kind, args, options)
  if type(args) == "string" then
    args = { args }
  elseif type(args) ~= "table" then
    -- A library object by its type's name ("got userdata" said nothing of what was passed).
    local mt = getmetatable(args)
    local name = type(mt) == "table" and rawget(mt, "__name") or nil
    error(fname .. " expects a path or a table of paths and options, got " .. (type(name) == "string" and name or type(args)), 0)
  end
  if options ~= nil then
    if type(options) ~= "table" then error(fname .. ": options must be a table", 0) end
    local merged = {}
    for k, v in pairs(args) do merged[k] = v end
    for k, v in pairs(options) do
      if type(k) == "number" then
        error(fname .. ": the options (second argument) take named keys only; give every path in the first, "
              .. "as " .. fname .. "{ \"a\", \"b\", ... }, or in paths = { ... }", 0)
      end
      if merged[k] ~= nil then
        error(fname .. ": " .. tostring(k) .. " = is given twice, in the first argument and in the options; give it once", 0)
      end
      merged[k] = v
    end
    args = merged
  end
  local t = { paths = entries(fname, args, 1, kind) }
  for k, v in pairs(args) do
    if type(k) ~= "number" and k ~= "paths" then t[k] = v end
  end
  -- paths = { ... } follows the positional paths, in its own order (the native call checks each).
  if type(args.paths) == "table" then
    for _, p in ipairs(entries(fname, args.paths, #t.paths + 1, kind)) do t.paths[#t.paths + 1] = p end
  elseif args.paths ~= nil then
    t.paths[#t.paths + 1] = args.paths
  end
  return t
end

-- corpus = "gcide" (a name or a corpus file) is accepted wherever a corpus is.
local function named_corpus(fname, args)
  if type(args) == "table" and type(args.corpus) == "string" then
    local copy = {}
    for k, v in pairs(args) do copy[k] = v end
    -- Its errors named neither the function nor corpus = ("'x' is not a scalelab corpus (wrong magic bytes)").
    local ok, corpus = pcall(native.corpus, args.corpus)
    if not ok then
      error(string.format("%s: corpus = \"%s\": %s", fname, args.corpus, require("scalelab.study.checks").plain(corpus)), 0)
    end
    copy.corpus = corpus
    return copy
  end
  return args
end
for _, name in ipairs{ "sampler", "held_out", "bpe" } do
  local fn = native[name]
  data[name] = forward(function(args) return fn(named_corpus("data." .. name, args)) end)
end

data.files = forward(function(args, options)
  return native.files(with_paths("data.files", "a file or folder", args, options))
end)
document(data.files, [[
data.files{ "notes.txt", "books/", documents = "file" | "paragraph" | "line", out =, name = } -> Corpus
Byte-level tokens (vocabulary 256) of text files; folders are read recursively in sorted order,
leaving out binary files found in them (a NUL byte in the first 8 KiB), links to nothing and special
files (named pipes, sockets); the corpus's source says how many.
A pattern ("books/*.txt", "ch?/*.md") reads what it matches, in sorted order, as a folder's files.
Bytes are kept as they are, with two exceptions the corpus's source counts: a UTF-8 byte-order mark at
a file's start is left out, and a CRLF line ending (Windows') and a lone CR (old Mac OS; one that
ends a file too) are each read as one LF in every mode, as Python's universal newlines read a text
(nanoGPT's prepare.py, for one), so a text gives the same tokens wherever it was saved. By paragraph
or line, each line ends with a LF (the last too) and blank lines (spaces and tabs) are no document's text.
A file or folder reached twice (named twice, beside its folder, or through a link) is read once.
Two files of the same bytes (a copy) are two documents, as are two paragraphs or lines of the same
bytes, but the validation split keeps such exact copies on one side (see data.sampler).
The corpus file is cached (by the inputs' names, sizes and modification times) unless out = is given.
out = (here, in data.tokens_bin, data.synthetic and data.bpe, and corpus:save's path) replaces a corpus
file there, never another file: a text or script at that path is an error, left as it was.
data.files("one.txt") works too, and options may come as a second argument after a path or a list of
paths: data.files({ "a.txt", "b.txt" }, { documents = "line" }).]])

data.tokens_bin = forward(function(args, options)
  return native.tokens_bin(with_paths("data.tokens_bin", "a shard", args, options))
end)
document(data.tokens_bin, [[
data.tokens_bin(path [, { format =, vocab =, eot =, out =, name = }]) or data.tokens_bin{ path1, path2, ... [, format =, ...] }
(or paths = { path1, ... }) -> Corpus
Imports llm.c token shards (256 int32 header: magic 20240520 version 1 = GPT-2 uint16 tokens, or
magic 20240801 version 7 = LLaMA-3 uint32 tokens, then the token count; e.g. FineWeb or TinyStories
from llm.c's dev/data scripts) or,
with format = "nanogpt", nanoGPT's headerless uint16 train.bin. For those, vocab left out is the
vocab_size of the meta.pkl that nanoGPT's prepare.py writes beside a character-level set's files
(shakespeare_char: 65), else GPT-2's 50257; meta.pkl is read as data (the dict of ints and strings
that pickle.dump writes, protocols 2 to 5), never run: anything else in it is an error that says to
give vocab = instead, and a vocab = given is used as it is, meta.pkl unread. Documents are split at the
end-of-text token (50256 for GPT-2, 128000 for LLaMA 3; eot = -1 for none): before it in llm.c's
shards, which begin each document with it, after it in nanoGPT's, which append it to each. A vocab =
that does not hold it (nanoGPT's shakespeare_char, vocab = 65) has no end-of-text unless eot = names
one: each shard is then one document, and a note on stderr says so.
corpus.tokenizer_name is "gpt2" (or "llama3") only where the vocab holds that tokenizer's: a smaller
vocab =, or a nanoGPT file with no id above 255 and vocab left out (a note says so), is "unknown",
another tokenizer's ids.
A document goes on across shards until its end-of-text (llm.c cuts shards at a fixed token count).
A run of end-of-text tokens (E E E) is one boundary, not documents of an end-of-text alone: its
tokens stay, with the document the run begins (llm.c) or ends (nanoGPT).
A pattern ("fineweb10B/fineweb_train_*.bin") reads the shards it matches, in sorted order; a shard
reached twice (named twice, or beside a pattern that matches it) is read once.]])

document(data.corpus, [[
data.corpus(name [, { max_documents =, refresh = }]) -> Corpus
"gcide": the GNU Collaborative International Dictionary of English 0.48 (GPL-2.0-or-later; Debian
package dict-gcide, installed by setup.sh): markup stripped to plain text, one document per entry,
byte tokens. Prepared once into the cache folder ($SCALELAB_CACHE, else $XDG_CACHE_HOME/scalelab,
else ~/.cache/scalelab). max_documents = n prepares only the first n entries. Any other name is read
as the path of a corpus file, whole (max_documents and refresh are for gcide only).]])

document(data.synthetic, [[
data.synthetic{ kind = "markov" | "grammar", seed =, tokens = 1e6, document_tokens = 4096 [, stream_seed = seed]
                [, out = file], ... } -> Corpus
A synthetic corpus whose exact entropy rate (nats per token) is corpus.entropy_per_token. seed fixes
the source (its transition tables or grammar), stream_seed the sample drawn from it; out = writes it
to a corpus file as it is generated (for corpora larger than memory). A corpus that cannot fit (in
memory, or on disk with out =) is refused before any token is generated, with the bytes it needs.
Samplers shuffle documents, so a markov document's first `order` tokens follow another document's:
the source's own probabilities score a sampler's rows above entropy_per_token (measured, order 2,
vocab 64, seq_len 64: +0.002 nats at document_tokens = 4096, +0.01 at 512, +0.08 at 64, +0.25 at 40),
and a study's fitted E is above it the same way; keep its documents long. A grammar's documents are
whole independent sentences and lose nothing.
markov:  vocab = 256, order = 2, support = 32, zipf = 1.2, spread = 0.5, profiles = 32, epsilon = 0.01
         a random order-k Markov chain; each state gives Zipf weights (r+1)^-a to `support` random
         successors (a per state in zipf ± spread), plus a uniform floor epsilon/vocab; the rate is
         computed from the exact stationary distribution.
grammar: vocab = 256, nonterminals = 48, min_rules = 2, max_rules = 12, max_body = 4, zipf = 1.0,
         branching = 0.9: a random unambiguous (simple-deterministic) probabilistic grammar; the rate
         is H(sentence) / E[sentence length] from the expected rule counts.]])

document(data.sampler, [[
data.sampler{ corpus =, tokens = D [, unique_tokens = U] [, seq_len = 256] [, batch = 8] [, seed = 0]
              [, order_seed = seed] [, validation = 0.01] } -> Sampler
The repetition sampler of data-constrained studies: the unique subset is the first U tokens of one
fixed order of the training documents (order_seed), so smaller U is a subset of larger U; it is cut
into floor(U / seq_len) sequences (each also needs the token after it) that are reshuffled every
epoch (seed); floor(D / (batch·seq_len)) batches are planned, so epochs = D / U in use, with an exact
fractional last epoch. U >= D: fresh data, the first D tokens of that order (so fresh runs nest with
repeated ones); U omitted: the same, refused when the split cannot hold D without repeating;
unique_tokens = "all": the whole training split, repeated as D requires. sampler:next_batch(),
sampler:stats(), sampler:state()/restore(s), sampler:held_out(). A state (and so a checkpoint)
records the data it was saved on (the corpus and the options) and the split of the documents: one
of other data is refused, naming what it was saved on, what differs and what to give; one of another
split too (the copies rule below moved the split of a corpus with copies on 2026-11-25), and one
saved before states recorded it is taken, with a warning where the earlier rule's split is not this one.
validation holds out ceil(validation × documents) whole documents (1 at least). Exact copies
(documents of the same tokens: the same bytes of a text in two files, of two lines) are on one side:
a text of a few copies (2, or 0.1% of the documents) is held out with all of them, one of more stays
in training, so that no text is held out and trained on (where such texts are over 5% of the documents,
stderr warns that the held-out ones are of the rarer texts); corpus:split() counts the copies held out.
(A corpus of copies alone, one text repeated, can hold out no unseen text: its documents are held out
one by one, and stderr warns that its held-out loss is of trained text.) A corpus of few
documents holds out far more of its tokens than asked, which stderr warns of once (documents =
"paragraph" or "line" in data.files, a smaller document_tokens in data.synthetic, or more
documents bring it near the fraction).
Fields: tokens (D as asked), planned_tokens (D rounded down to whole batches), unique_tokens (U in
use: the U asked, = tokens when left out, the split's size for "all", in whole sequences and at most
the run's rows; stats() also gives unique_tokens_asked), seq_len, batch, seed, order_seed, vocab.]])

document(data.bpe, [[
data.bpe{ corpus =, vocab = [, out =] [, max_train_bytes = 64 MiB] [, validation = 0.01] } -> Corpus
Trains a byte-level BPE with `vocab` tokens on the corpus's training split (validation documents are
never seen; validation = 0 trains on every document, for a one-document corpus) and re-encodes every document; the tokenizer is saved beside the new corpus file
(its name without .tok, then 8 hex digits of the training inputs: notes.bpe300.a8a6e4a6.tokenizer beside
notes.bpe300.tok; found from any folder) and is corpus.tokenizer. Encoding and decoding round-trip any bytes exactly.
A text with fewer pairs to merge stops the tokenizer short: corpus.vocab is the tokenizer's vocab, and corpus.source
says so. An existing out file (default: beside the source corpus) is reused only if made from the same source
contents, vocab, validation and max_train_bytes; else it is trained again and overwritten, with a note.
A sampler or held-out source over it with a larger validation than data.bpe's is refused: it would hold
out text the tokenizer was trained on.]])

document(data.held_out, [[
data.held_out{ corpus = [, seq_len = 256] [, batch = 8] [, validation = 0.01] } -> HeldOut
Deterministic batches over the validation documents; held:rewind() restarts; held.batches_per_pass.
Its validation must be the training sampler's (sampler:held_out() takes it from there): another
fraction holds out documents the sampler trains on, which train.run refuses.]])

document(data.open, "data.open(path [, { verify = true }]) -> Corpus: maps a corpus file, checking its checksum")
document(data.tokenizer, "data.tokenizer(path) -> Tokenizer: loads a BPE tokenizer file")

document(data, [[
data: corpora (data.corpus, data.files, data.tokens_bin, data.synthetic, data.bpe), samplers
(data.sampler, data.held_out). help(data.sampler) and friends say more.]])

return data
