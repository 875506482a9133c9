// Importers into the corpus format: text files and folders (byte tokens), llm.c / nanoGPT token
// shards, and the named corpora scalelab prepares itself (the GCIDE dictionary).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "data/corpus.h"

namespace scalelab::data {

struct TextImportOptions {
  std::vector<std::string> paths;      // files and folders (read recursively, in sorted order)
  std::string documents = "file";      // one document per "file", "paragraph" (blank-line separated) or "line"
  std::string out;                     // corpus file; "" → the cache folder, keyed by the inputs
  std::string name;                    // "" → the first path's stem
  void Validate() const;
};

// Byte-level tokens (vocabulary 256). Throws scalelab::Error for a missing or unreadable path or
// an empty result. A cached corpus whose inputs (paths, sizes, mtimes) are unchanged is reused.
Corpus ImportText(const TextImportOptions& options);

// The text reader's second look at a line's leading blanks (spaces, tabs, CRs) that text follows in a
// later block: `count` bytes at `offset` of `file` (open as `fd`), read again into `buffer` and
// handed to `put` a buffer at a time. Throws, naming the file and saying to import it again, where
// they are blanks no longer or the file ended before them: it changed while it was read. `what`
// names the caller in errors. Exposed for tests.
void ReadBlanksAgain(const std::string& what, const std::string& file, int fd, int64_t offset, int64_t count,
                     std::vector<char>& buffer, const std::function<void(std::string_view)>& put);

struct TokensBinOptions {
  std::vector<std::string> paths;  // shards, concatenated in the order given
  // "llmc": llm.c shards (dev/data/data_common.py): a 256 × int32 header (magic 20240520 and
  // version 1 → uint16 GPT-2 tokens; magic 20240801 and version 7 → uint32 LLaMA-3 tokens; then the
  // token count) followed by the tokens. "nanogpt": headerless uint16 (nanoGPT's train.bin / val.bin).
  std::string format = "llmc";
  int64_t vocab = 0;   // 0: for nanogpt the vocab_size of a meta.pkl beside the file (nanoGPT's character-level
                       // sets), else 50257 (GPT-2); 50257 for GPT-2 shards, 128256 for LLaMA-3 shards
  int64_t eot = -2;    // document separator token that starts each document; −2: the tokenizer's
                       // (50256 GPT-2, 128000 LLaMA 3), or none when a vocab given does not hold it
                       // (nanoGPT's shakespeare_char, vocab 65: no end-of-text), with a note;
                       // −1: none (each shard one document)
  std::string out;     // corpus file; "" → the cache folder
  std::string name;
  void Validate() const;
};

// `notes` gets a line when eot was left out and the vocab given does not hold the tokenizer's
// end-of-text: no token splits the shards into documents, and the line names eot = (the corpus's
// source says it too).
Corpus ImportTokensBin(const TokensBinOptions& options, std::vector<std::string>* notes = nullptr);

// The vocab_size of nanoGPT's meta.pkl (data/shakespeare_char/prepare.py: pickle.dump of
// { 'vocab_size': n, 'itos': {...}, 'stoi': {...} }). Only the data opcodes that pickle.dump writes
// for such a dict (protocols 2 to 5: dicts, ints, strings, the memo, frames) are read; no pickle code
// is run: any other opcode (a class, a call) is an error, as are a dict without an int vocab_size and
// one out of [1, 65536]. `what` names the caller in errors, which say to give vocab = instead.
int64_t ReadMetaVocabSize(const std::string& what, const std::string& path);

struct GcideOptions {
  std::string dict = "/usr/share/dictd/gcide.dict.dz";  // dict-gcide's dictzip file
  std::string index = "/usr/share/dictd/gcide.index";
  int64_t max_documents = 0;  // 0: all entries; else the first entries only (tests)
  std::string out;            // "" → <cache>/corpora/gcide.tok (or gcide-<n>.tok)
  bool refresh = false;       // prepare again even if cached
};

// The GNU Collaborative International Dictionary of English (GPL-2-or-later; Debian dict-gcide),
// markup stripped to plain text, one document per entry, byte tokens. Prepared once and cached.
Corpus PrepareGcide(const GcideOptions& options = {});
// The plain text of one GCIDE entry's raw dictd text (markup stripped), for tests.
std::string GcideEntryText(const std::string& raw);

struct NamedCorpusOptions {
  int64_t max_documents = 0;
  bool refresh = false;
};

// "gcide" → PrepareGcide; a path to a corpus file → Corpus::Open; anything else an error listing
// the known names.
Corpus NamedCorpus(const std::string& name, const NamedCorpusOptions& options = {});

}  // namespace scalelab::data
