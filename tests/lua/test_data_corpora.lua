-- Corpora from Lua: text files, llm.c shards, BPE, the GCIDE dictionary, and their errors.
-- ctest points SCALELAB_CACHE at the build folder, so nothing is written into the home folder.
local t = require "scalelab.test"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "/texts/sub'"))
local function write(name, bytes)
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(bytes)
  f:close()
  return dir .. "/" .. name
end

local words = { "the", "cat", "sat", "on", "a", "mat", "and", "then", "ran", "far" }
for i = 1, 30 do
  local parts = {}
  for j = 1, 60 do parts[j] = words[(i * 7 + j * j) % #words + 1] end
  write(string.format("texts/sub/doc%02d.txt", i), table.concat(parts, " ") .. ".\n")
end
write("texts/first.txt", "caf\xc3\xa9 \xff bytes\n")

t.test("data.files reads folders as byte documents and prints itself", function()
  local c = data.files{ dir .. "/texts", name = "texts" }
  t.eq(c.documents, 31)
  t.eq(c.vocab, 256)
  t.eq(c.tokenizer_name, "bytes")
  t.eq(c:text(1), "caf\xc3\xa9 \xff bytes\n")
  t.eq(c:decode(c:encode("x\0y\xff")), "x\0y\xff")
  local text = tostring(c)
  for _, part in ipairs{ "corpus texts", "documents", "vocab 256", "text files " .. dir .. "/texts" } do
    t.ok(text:find(part, 1, true), "missing '" .. part .. "' in " .. text)
  end
  local again = data.files(dir .. "/texts", { name = "texts" })
  t.eq(again.path, c.path)  -- cached by the inputs
end)

t.test("a CRLF or lone CR line ending reads as LF, as help(data.files) says, and the corpus's source counts them", function()
  local windows = write("crlf.txt", "one\r\ntwo\r\n\r\nthree\r\n")
  local c = data.files{ windows, documents = "line", out = dir .. "/crlf.tok" }
  t.eq(c:text(1), "one\n")
  t.eq(c:text(3), "three\n")
  t.ok(c.source:find("4 CRLF line endings of 1 file read as LF", 1, true), c.source)
  local mac = data.files{ write("cr.txt", "one\rtwo\r"), documents = "file", out = dir .. "/cr.tok" }
  t.eq(mac:text(1), "one\ntwo\n")
  t.ok(mac.source:find("2 lone CR line endings (old Mac OS) of 1 file read as LF", 1, true), mac.source)
  local help = t.help_text(data.files):gsub("%s+", " ")
  t.ok(help:find("a CRLF line ending (Windows') and a lone CR (old Mac OS; one that ends a file too) are each read as " ..
                 "one LF in every mode", 1, true), help)
end)

t.test("decoding an id outside the vocabulary names corpus:decode or tokenizer:decode", function()
  -- They were "decode: token 1 is 300, not a byte" and "bpe: token 1 is 300, ...", of no method called.
  local bytes = data.files{ dir .. "/texts", name = "texts" }
  t.raises(function() bytes:decode{ 97, 300 } end, "corpus:decode(tokens): token 1 is 300, not a byte")
  local b = data.bpe{ corpus = bytes, vocab = 260, out = dir .. "/decode.bpe.tok" }
  local message = t.raises(function() b:decode{ 97, 9999 } end, "corpus:decode(tokens): token 1 is 9999, outside the vocabulary [0, 260)")
  t.ok(not message:find("bpe:", 1, true), message)
  t.raises(function() b.tokenizer:decode{ 97, -1 } end, "tokenizer:decode(tokens)[2] is not a token id")
  t.raises(function() b.tokenizer:decode{ 97, 9999 } end, "tokenizer:decode(tokens): token 1 is 9999, outside the vocabulary [0, 260)")
  -- A position that is not whole was Lua's "bad argument #1 to 'token' (number has no integer representation)".
  t.raises(function() b.tokenizer:token(97.5) end,
    "tokenizer:token(id): id must be a whole number, a token id from 0 to 259 (got 97.5); e.g. tokenizer:token(65)")
end)

t.test("a nil among data.files's or data.tokens_bin's paths is an error naming its place", function()
  -- data.files{ a, nil, b } (a variable not set) read a alone, without a word: #t stopped at the nil.
  local a, b = dir .. "/texts/first.txt", dir .. "/texts/sub/doc01.txt"
  local unset
  t.raises(function() data.files{ a, unset, b } end,
           "data.files: path 2 is nil (a variable not set?); give the name of a file or folder, or leave it out of the list")
  t.raises(function() data.files{ unset, b } end, "data.files: path 1 is nil")
  t.raises(function() data.files{ a, paths = { b, unset, a } } end, "data.files: path 3 is nil")
  t.raises(function() data.tokens_bin{ a, unset, b } end, "data.tokens_bin: path 2 is nil (a variable not set?); give the name of a shard")
  -- A nil after the last path loses nothing: the list is what comes before it.
  t.eq(data.files{ a, b, unset, out = dir .. "/trailing_nil.tok" }.documents, 2)
end)

t.test("a second argument's options join the first's, after a path or a table of paths", function()
  local a, b = dir .. "/texts/first.txt", dir .. "/texts/sub/doc01.txt"
  -- After a table they were ignored: one document per file, not per line.
  local lines = data.files({ a, b }, { documents = "line", out = dir .. "/opts_lines.tok" })
  t.ok(lines.source:find("one document per line", 1, true), lines.source)
  -- After a path, paths = replaced it: b alone.
  local both = data.files(a, { paths = { b }, out = dir .. "/opts_paths.tok" })
  t.eq(both.documents, 2)
  t.ok(both.source:find("text files " .. a .. ", " .. b, 1, true), both.source)
  t.raises(function() data.files({ a, out = dir .. "/x.tok" }, { out = dir .. "/y.tok" }) end,
           "data.files: out = is given twice, in the first argument and in the options; give it once")
  t.raises(function() data.files(a, { b }) end, "data.files: the options (second argument) take named keys only")
  t.raises(function() data.tokens_bin({ a }, 5) end, "data.tokens_bin: options must be a table")
end)

t.test("data.files takes paths = { ... }, alone or after positional paths, in order", function()
  local a = write("paths_a.txt", "first file\n")
  local b = write("paths_b.txt", "second file\n")
  local c = write("paths_c.txt", "third file\n")
  local listed = data.files{ paths = { a, b, c }, out = dir .. "/paths_listed.corpus" }
  t.eq(listed.documents, 3)
  t.eq(listed:text(1), "first file\n")
  t.eq(listed:text(2), "second file\n")
  t.eq(listed:text(3), "third file\n")
  local mixed = data.files{ a, paths = { b, c }, out = dir .. "/paths_mixed.corpus" }
  t.eq(mixed.documents, 3)
  t.eq(mixed:text(1), "first file\n")
  t.eq(mixed:text(3), "third file\n")
end)

t.test("a corpus of few documents: the held-out share far above validation is warned of once", function()
  -- 3 files of 1000 bytes: validation = 0.01 holds out one whole file, a third of the tokens, silently.
  local run_dir = t.script(t.scratch("data-few-documents"), [[
for i = 1, 3 do
  local f = assert(io.open("doc" .. i .. ".txt", "wb"))
  for j = 1, 100 do f:write(string.format("%c%08d\n", 96 + i, j)) end  -- 300 lines, no two the same
  f:close()
end
local three = data.files{ "doc1.txt", "doc2.txt", "doc3.txt", name = "three", out = "three.tok" }
local s = data.sampler{ corpus = three, tokens = 64, seq_len = 16, batch = 4 }
s:held_out()
data.held_out{ corpus = three, seq_len = 16, batch = 4 }
local split = three:split()
print("split", split.validation_documents, split.validation_tokens, split.train_tokens)
local lines = data.files{ "doc1.txt", "doc2.txt", "doc3.txt", documents = "line", name = "lines", out = "lines.tok" }
data.sampler{ corpus = lines, tokens = 64, seq_len = 16, batch = 4 }
]])
  local code, out, err = t.run(run_dir, "s.lua")
  t.eq(code, 0, out)
  t.ok(out:find("split\t1\t1000\t2000", 1, true), out)  -- the split itself is as it was
  local warning = "data.sampler: warning: corpus three: validation = 0.01 holds out 1 of 3 documents, 33.3% of its "
    .. "tokens (1k of 3k), not 1%: the split holds out whole documents; cut the corpus into more of them "
    .. "(documents = \"paragraph\" or \"line\" in data.files, a smaller document_tokens in data.synthetic), or "
    .. "give it more documents"
  t.ok(err:find(warning, 1, true), err)
  local _, count = err:gsub("warning:", "")
  t.eq(count, 1, err)  -- once, not again for its held-out sources nor for 300 one-line documents
end)

t.test("data.bpe trains a tokenizer saved beside the corpus; encode/decode round-trips", function()
  local c = data.files{ dir .. "/texts", name = "texts" }
  local b = data.bpe{ corpus = c, vocab = 300 }
  t.eq(b.documents, c.documents)
  -- Ten words run out of pairs before 300: the corpus's vocab is the tokenizer's, and it says so.
  t.eq(b.vocab, b.tokenizer.vocab)
  t.ok(b.vocab < 300)
  t.ok(b.source:find("the tokenizer stopped at vocab " .. b.vocab .. " of the 300 asked", 1, true), b.source)
  t.ok(b.tokens < c.tokens / 2, "BPE should compress")
  local tok = b.tokenizer
  -- Beside the corpus, named by what it was trained from (a retrain writes a new one beside the old).
  t.ok(tok.path:find("%.%x%x%x%x%x%x%x%x%.tokenizer$"), tok.path)
  t.eq(tok.path:gsub("%.%x+%.tokenizer$", ".tok"), b.path)
  for _, s in ipairs{ "the cat sat on the mat", "caf\xc3\xa9 \xff\0 unusual", "", "   spaces   " } do
    t.eq(tok:decode(tok:encode(s)), s)
    t.eq(b:decode(b:encode(s)), s)
  end
  for d = 1, b.documents do t.eq(b:text(d), c:text(d)) end
  local s = data.sampler{ corpus = b, tokens = 300, seq_len = 10, batch = 3 }
  for _, row in ipairs(s:next_batch()) do
    for _, id in ipairs(row) do t.ok(id >= 0 and id < b.vocab) end
  end
  t.raises(function() data.bpe{ corpus = b, vocab = 400 } end, "trains on a byte-level corpus")
end)

t.test("data.bpe trains again when the source text changes, or vocab or validation do", function()
  local text = write("st.txt", "aaaa bbbb aaaa bbbb\n")
  local src = data.files{ text, out = dir .. "/st.corpus" }
  local b = data.bpe{ corpus = src, vocab = 260, validation = 0 }
  t.eq(b:text(1), "aaaa bbbb aaaa bbbb\n")
  write("st.txt", "xyzw qrst xyzw qrst\n")  -- same size, other text
  src = data.files{ text, out = dir .. "/st.corpus" }
  t.eq(src:text(1), "xyzw qrst xyzw qrst\n")
  b = data.bpe{ corpus = src, vocab = 260, validation = 0 }
  t.eq(b:text(1), "xyzw qrst xyzw qrst\n")

  local c = data.files{ dir .. "/texts", name = "texts" }
  local v = data.bpe{ corpus = c, vocab = 270, out = dir .. "/vv.tok" }
  t.eq(v.vocab, 270)
  -- (The 30 doc files are 10 texts, 3 copies each: they train, and the one other file is held out.)
  v = data.bpe{ corpus = c, vocab = 278, out = dir .. "/vv.tok" }
  t.eq(v.vocab, 278)
  t.eq(v.tokenizer.vocab, 278)
  -- validation = 0.5 at the same out: the tokenizer of the other half's training split, as a fresh one.
  local function tokens(corpus)
    local list = {}
    for id = 256, corpus.tokenizer.vocab - 1 do list[#list + 1] = corpus.tokenizer:token(id) end
    return table.concat(list, "|")
  end
  local before = tokens(v)
  local v_text = v:text(1)
  local h = data.bpe{ corpus = c, vocab = 280, out = dir .. "/vv.tok", validation = 0.5 }
  -- The corpus object made before the retrain still decodes its own tokens (its tokenizer's file is
  -- not overwritten: the new one has another name).
  t.eq(v:text(1), v_text)
  t.eq(v_text, c:text(1))
  local fresh = data.bpe{ corpus = c, vocab = 280, out = dir .. "/fresh.tok", validation = 0.5 }
  t.eq(tokens(h), tokens(fresh))
  t.ok(tokens(h) ~= before, "validation = 0.5 should train on fewer documents")
end)

t.test("data.tokens_bin imports llm.c shards", function()
  local header = { string.pack("<i4i4i4", 20240520, 1, 6) }
  local path = write("shard.bin", header[1] .. string.rep("\0", 1024 - 12) ..
                     string.pack("<I2I2I2I2I2I2", 50256, 1, 2, 50256, 3, 4))
  local c = data.tokens_bin(path)
  t.eq(c.vocab, 50257)
  t.eq(c.tokens, 6)
  t.eq(c.documents, 2)
  t.eq(c.tokenizer_name, "gpt2")
  t.eq(table.concat(c:document(2), ","), "50256,3,4")
  local bad = write("bad.bin", string.pack("<i4i4i4", 20240520, 1, 2) .. string.rep("\0", 1024 - 12) ..
                    string.pack("<I2I2", 7, 60000))
  t.raises(function() data.tokens_bin(bad) end, "is 60000, outside the vocabulary [0, 50257)")
  t.raises(function() data.tokens_bin(write("text.bin", string.rep("hello ", 300))) end,
           "not an llm.c token shard")
  t.raises(function() data.tokens_bin("") end, 'data.tokens_bin: path 1 of 1 is blank (""); give the name of a shard')
end)

t.test("data.tokens_bin with a vocab that does not hold GPT-2's end-of-text says each file is one document", function()
  -- nanoGPT's shakespeare_char: 65 characters, no end-of-text; eot left out was GPT-2's 50256, unsaid.
  local chars = write("chars.bin", string.pack("<I2I2I2I2I2", 1, 2, 0, 3, 64))
  local c = data.tokens_bin(chars, { format = "nanogpt", vocab = 65, out = dir .. "/chars.tok" })
  t.eq(c.documents, 1)
  t.ok(c.source:find("vocab = 65 does not hold GPT-2's (50256), so each file is one document; give eot = ", 1, true), c.source)
  t.eq(data.tokens_bin(chars, { format = "nanogpt", vocab = 65, eot = 0, out = dir .. "/chars0.tok" }).documents, 2)
end)

t.test("data.tokens_bin reads nanoGPT's meta.pkl beside a character-level train.bin for its vocab", function()
  -- prepare.py's folder: train.bin of ids below 41 (the top ids of the 65 do not occur) and meta.pkl.
  -- meta.pkl was not read: the vocab was GPT-2's 50257.
  assert(os.execute("mkdir -p '" .. dir .. "/shakespeare_char'"))
  local meta = assert(io.open(os.getenv("SCALELAB_TEST_DATA") .. "/nanogpt/shakespeare-p4.pkl", "rb")):read("a")
  write("shakespeare_char/meta.pkl", meta)
  local ids = {}
  for i = 1, 400 do ids[i] = string.pack("<I2", i * 7 % 41) end
  local train = write("shakespeare_char/train.bin", table.concat(ids))
  local c = data.tokens_bin(train, { format = "nanogpt", out = dir .. "/shakespeare_char.tok" })
  t.eq(c.vocab, 65)
  t.eq(c.tokens, 400)
  t.eq(c.tokenizer_name, "unknown")
  t.ok(c.source:find("vocab_size 65 of '" .. dir .. "/shakespeare_char/meta.pkl'", 1, true), c.source)
  t.eq(data.tokens_bin(train, { format = "nanogpt", vocab = 80, out = dir .. "/given.tok" }).vocab, 80)
  local help = t.help_text(data.tokens_bin):gsub("%s+", " ")
  t.ok(help:find("vocab left out is the vocab_size of the meta.pkl", 1, true), help)
end)

t.test("corrupted and missing files are clear errors", function()
  local c = data.files{ dir .. "/texts", name = "texts" }
  local copy = dir .. "/copy.tok"
  c:save(copy)
  t.eq(data.open(copy).tokens, c.tokens)
  local f = assert(io.open(copy, "r+b"))
  f:seek("end", -5)
  f:write("!")
  f:close()
  t.raises(function() data.open(copy) end, "data checksum mismatch")
  t.raises(function() data.files{ dir .. "/nope.txt" } end, "cannot read '" .. dir .. "/nope.txt'")
  t.raises(function() data.files{ dir .. "/texts", paths = { "  " } } end, 'data.files: path 2 of 2 is blank ("  ")')
  t.raises(function() data.files("") end, 'data.files: path 1 of 1 is blank ("")')
  t.raises(function() data.corpus(dir .. "/nope.tok") end, "unknown corpus")
  assert(os.execute("mkdir -p '" .. dir .. "/empty'"))
  t.raises(function() data.files{ dir .. "/empty" } end, "empty corpus")
end)

t.test("a blank out = or save path is refused, and no file of that name is written", function()
  -- out = "  " wrote the corpus to a file named two spaces in the working folder.
  local a = dir .. "/texts/first.txt"
  t.raises(function() data.files(a, { out = "  " }) end,
           'data.files: out = "  " is blank; give the path of a corpus file, or leave out = out to keep the corpus in the cache folder')
  t.raises(function() data.synthetic{ kind = "markov", vocab = 8, support = 4, tokens = 1000, out = "\t" } end,
           'data.synthetic: out = "\t" is blank')
  local c = data.files(a, { out = dir .. "/blank_save.tok" })
  t.raises(function() c:save(" ") end, 'corpus:save: path = " " is blank; give the path of a corpus file')
  for _, name in ipairs{ "  ", "\t", " " } do t.eq(io.open(name, "rb"), nil) end
end)

t.test("out = a file that is no corpus is refused and the file is left as it was", function()
  -- A text, a script: out = a typo replaced it with the corpus, without a word.
  local notes = write("notes.md", "my notes\n")
  local c = data.files{ dir .. "/texts", name = "texts" }
  local function unchanged()
    local f = assert(io.open(notes, "rb"))
    local text = f:read("a")
    f:close()
    t.eq(text, "my notes\n")
  end
  local said = 'out = "' .. notes .. '" is a file that is not a scalelab corpus'
  t.raises(function() data.files{ dir .. "/texts/first.txt", out = notes } end, said)
  unchanged()
  t.raises(function() data.synthetic{ kind = "markov", tokens = 1000, out = notes } end, said)
  unchanged()
  t.raises(function() data.bpe{ corpus = c, vocab = 260, out = notes } end, said)
  unchanged()
  t.raises(function() c:save(notes) end, 'path = "' .. notes .. '" is a file that is not a scalelab corpus')
  unchanged()
  -- A corpus file, or an empty file, is replaced as asked.
  local corpus = dir .. "/replaced.tok"
  c:save(corpus)
  t.eq(data.files{ dir .. "/texts/first.txt", out = corpus }.documents, 1)
  t.eq(data.files{ dir .. "/texts/first.txt", out = write("empty.tok", "") }.documents, 1)
end)

t.test("data.corpus 'gcide' prepares the dictionary (a prefix here) with its licence", function()
  local probe = io.open("/usr/share/dictd/gcide.dict.dz", "rb")
  if not probe then t.skip("dict-gcide is not installed (bash setup.sh)") end
  probe:close()
  local c = data.corpus("gcide", { max_documents = 400 })
  t.eq(c.documents, 400)
  t.ok(c.license:find("GPL", 1, true))
  t.ok(tostring(c):find("Collaborative International Dictionary", 1, true))
  t.ok(not c:text(200):find("[1913 Webster]", 1, true))
  local s = data.sampler{ corpus = c, unique_tokens = 20000, tokens = 80000, seq_len = 128, batch = 4 }
  local by_path = data.sampler{ corpus = c.path, unique_tokens = 20000, tokens = 80000, seq_len = 128, batch = 4 }
  t.eq(table.concat(by_path:next_batch()[1], ","), table.concat(s:next_batch()[1], ","))
  s = data.sampler{ corpus = c, unique_tokens = 20000, tokens = 80000, seq_len = 128, batch = 4 }
  local rows = s:next_batch()
  t.eq(#rows[1], 129)
  t.near(s:stats().planned_epochs, (80000 // 512 * 512) / (20000 // 128 * 128), 1e-12)
end)

t.test("data.files names a corpus read from \".\" or \"..\" after the folder it is", function()
  -- data.files{ "." } named its corpus ".", where any other folder gives its own name.
  t.eq(data.files{ dir .. "/texts/sub/.", out = dir .. "/dot.tok" }.name, "sub")
  t.eq(data.files{ dir .. "/texts/sub/./", out = dir .. "/dot_slash.tok" }.name, "sub")
  t.eq(data.files{ dir .. "/texts/sub/..", out = dir .. "/dotdot.tok" }.name, "texts")
  write("dot.lua", 'print("name=" .. data.files{ "." }.name)')
  local code, out = t.run(dir .. "/texts/sub", "'" .. dir .. "/dot.lua'")
  t.eq(code, 0, out)
  t.ok(out:find("name=sub\n", 1, true), out)
end)

t.test("data.tokens_bin refuses vocab = 0 and an eot below -1, which it took as left out", function()
  -- vocab = 0 read the ids as GPT-2's 50257, and eot = -2 split at GPT-2's end-of-text, without a word.
  local ids = {}
  for i = 1, 100 do ids[i] = string.pack("<I2", i * 7 % 41) end
  local path = write("sentinel.bin", table.concat(ids))
  t.raises(function() data.tokens_bin(path, { format = "nanogpt", vocab = 0 }) end,
    "data.tokens_bin: vocab must be positive (got 0); give the vocabulary size of the tokenizer that made the ids, or "
    .. "leave vocab out for the vocab_size of the meta.pkl beside the file, else GPT-2's 50257")
  t.raises(function() data.tokens_bin(path, { format = "nanogpt", vocab = 41, eot = -2 }) end,
    "data.tokens_bin: eot must be a token id (0 or more), or -1 for none: each shard one document (got -2); leave it "
    .. "out for the end-of-text of the shards' tokenizer")
  t.raises(function() data.tokens_bin{ path, format = "llmc", vocab = -3 } end,
    "vocab must be positive (got -3); give the vocabulary size of the tokenizer that made the ids, or leave vocab out "
    .. "for the tokenizer the shards' header names (GPT-2's 50257, LLaMA 3's 128256)")
  t.eq(data.tokens_bin(path, { format = "nanogpt", vocab = 41, eot = -1, out = dir .. "/sentinel.tok" }).documents, 1)
end)

t.test("a nanoGPT file of 32- or 64-bit ids is refused, naming what it holds and the fix", function()
  -- Read 2 bytes a token, np.uint32 ids went in as every other token 0, without a word.
  local wide, wider, narrow = {}, {}, {}
  for i = 1, 100 do
    wide[i] = string.pack("<I4", i * 7 % 41 + 1)
    wider[i] = string.pack("<i8", i * 7 % 41 + 1)
    narrow[i] = string.pack("<I2", (i * 7 % 41 + 1) * (i % 2))  -- uint16 ids, every second one 0 but the last
  end
  local u32 = write("u32.bin", table.concat(wide))
  t.raises(function() data.tokens_bin(u32, { format = "nanogpt", vocab = 65 }) end,
    "data.tokens_bin: '" .. u32 .. "' does not hold nanoGPT's uint16 ids: read 2 bytes a token, every second of its "
    .. "first 200 ids is 0, as the upper bytes of 32-bit ids (np.uint32, np.int32) below 65536 are; write the ids as "
    .. "uint16 (np.array(ids, dtype=np.uint16).tofile(path), as nanoGPT's prepare.py does), or, for ids of 65536 and "
    .. "more, as an llm.c shard of LLaMA-3's layout (uint32 ids)")
  local i64 = write("i64.bin", table.concat(wider))
  t.raises(function() data.tokens_bin(i64, { format = "nanogpt", vocab = 65 }) end,
    "every second, third and fourth of its first 400 ids is 0, as the upper bytes of 64-bit ids (np.int64, np.uint64)")
  -- uint16 ids with a 0 at every second place but one are read as they are.
  narrow[100] = string.pack("<I2", 5)
  local ok = write("u16.bin", table.concat(narrow))
  t.eq(data.tokens_bin(ok, { format = "nanogpt", vocab = 65, out = dir .. "/u16.tok" }).tokens, 100)
end)

t.test("data.files on a folder of no files names the call and the fix", function()
  -- It said "empty corpus: no files found in <folder>", of no call, and nothing of what to give.
  assert(os.execute("mkdir -p '" .. dir .. "/no-files'"))
  t.raises(function() data.files{ dir .. "/no-files" } end,
    "data.files: empty corpus: no files found in " .. dir .. "/no-files; give a folder that holds text files, or the "
    .. "files themselves")
end)

os.execute("rm -rf '" .. dir .. "'")

t.done()
