// A token corpus: one array of token ids split into documents, memory-mapped from scalelab's one
// corpus file format, or held in memory (synthetic sources).
//
// File format (little-endian, version 2):
//   [0, 128)        header: magic "SCLCORP1", version, token width (1, 2 or 4 bytes, chosen by the
//                   vocabulary: ≤ 256 → uint8, ≤ 65536 → uint16, else uint32), vocabulary size,
//                   token and document counts, section offsets, CRC-32 of metadata ‖ document
//                   starts ‖ tokens, and CRC-32 of the header itself in its last 4 bytes.
//   tokens          uint8/uint16/uint32[tokens] at offset 128.
//   document starts int64[documents + 1], 64-byte aligned: document i is tokens [start[i], start[i+1]).
//   metadata        "key=value" lines (name, source, tokenizer, license, entropy_per_token, ...),
//                   with '\n' and '\\' escaped in values; it ends the file.
// A corpus is written to "<path>.tmp.<pid>" (its header zeroed until the end) and renamed onto
// <path> only when complete, so an interrupted preparation never leaves a file that looks valid.
// Tokens come first so importers stream them to disk: memory stays at 8 bytes per document.
#pragma once

#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace scalelab::data {

struct CorpusMetadata {
  std::string name;       // short name: "gcide", "markov", a file's stem
  std::string source;     // where the tokens came from (files, package, generator and its options)
  std::string tokenizer;  // "bytes", "bpe:<tokenizer file>", "gpt2", "llama3", "synthetic", "unknown"
  std::string license;    // the text's licence, when known
  // The source's exact entropy rate in nats per token (synthetic sources); NaN when unknown.
  double entropy_per_token = std::numeric_limits<double>::quiet_NaN();
  std::map<std::string, std::string> extra;  // anything else, kept verbatim
};

// Token width in bytes for a vocabulary: 1 (≤ 256), 2 (≤ 65536) or 4.
int token_bytes_for_vocab(int64_t vocab);

struct OpenOptions {
  // Recompute the data CRC-32 and check every token id against the vocabulary (one pass over the
  // file, ~ms per 10 MB). The header's own CRC and the document table are always checked.
  bool verify = true;
};

class Corpus {
 public:
  Corpus() = default;  // empty; every accessor but empty() is invalid on it

  // Maps a corpus file. Throws scalelab::Error naming the file for a missing or unreadable file,
  // a wrong magic or version, a corrupted header or checksum, or token ids beyond the vocabulary.
  static Corpus Open(const std::string& path, const OpenOptions& options = {});

  bool empty() const { return storage_ == nullptr; }
  int64_t vocab() const;
  int64_t tokens() const;
  int64_t documents() const;
  int token_bytes() const;
  const CorpusMetadata& metadata() const;
  const std::string& path() const;  // "" for an in-memory corpus
  // CRC-32 of what the corpus holds: its document starts (int64) then its tokens (token_bytes()
  // each), not its metadata. Computed once per corpus (Open with verify computes it on the way);
  // samplers put it in their saved states, so a state of another corpus is refused.
  uint32_t checksum() const;

  // The corpus's exact copies: documents of the same tokens (the same bytes of a byte-level corpus,
  // a text in two files). Computed once per corpus, on first use, hashing only documents whose length
  // another document shares, and comparing tokens where hashes agree (no hash collision groups two
  // texts). The split keeps each group of copies on one side (Split::Make).
  struct Copies {
    std::vector<int64_t> group;                 // per document: its group in `members`, −1 for a text of its own; empty: no copies
    std::vector<std::vector<int64_t>> members;  // each group's documents, ascending (2 or more)
    int64_t copies = 0;                         // documents that copy an earlier one: Σ (group size − 1)
  };
  const Copies& copies() const;

  // Document i is tokens [document_begin(i), document_end(i)).
  int64_t document_begin(int64_t i) const { return starts_[i]; }
  int64_t document_end(int64_t i) const { return starts_[i + 1]; }
  const int64_t* document_starts() const { return starts_; }  // documents() + 1 entries

  int32_t token(int64_t i) const;
  // Copies tokens [begin, begin + count) into out, widened to int32.
  void CopyTokens(int64_t begin, int64_t count, int32_t* out) const;
  std::vector<int32_t> Tokens(int64_t begin, int64_t count) const;
  const void* raw_tokens() const { return tokens_; }

  // Writes this corpus to `path` in the file format (temp file + rename). A BPE tokenizer named from
  // this corpus file's folder is named by its absolute path in a copy saved to another folder.
  void Save(const std::string& path) const;

  // "corpus gcide: 39.2M tokens in 126k documents, vocab 256 (bytes), source ..."
  std::string Summary() const;

  struct Storage;

 private:
  friend class CorpusWriter;
  explicit Corpus(std::shared_ptr<const Storage> storage);
  std::shared_ptr<const Storage> storage_;
  const void* tokens_ = nullptr;
  const int64_t* starts_ = nullptr;
  int width_ = 0;
};

// Builds a corpus document by document, in memory, then either keeps it in memory (Finish) or
// writes it to a file and maps it (Write).
class CorpusWriter {
 public:
  // In memory: Finish() keeps the corpus in memory, Write(path) writes and maps it.
  CorpusWriter(int64_t vocab, CorpusMetadata metadata);
  // Streaming to `path`: tokens go to "<path>.tmp.<pid>" as they come; Finish() completes and
  // renames it and maps the result. A writer destroyed unfinished removes its temp file.
  CorpusWriter(int64_t vocab, CorpusMetadata metadata, std::string path);
  ~CorpusWriter();
  CorpusWriter(const CorpusWriter&) = delete;
  CorpusWriter& operator=(const CorpusWriter&) = delete;

  // Appends one document. Throws scalelab::Error for an id outside [0, vocab), naming it, its
  // position and `what` (the input being imported). Empty documents are skipped.
  void AddDocument(const int32_t* tokens, int64_t count, const std::string& what = "document");
  void AddDocument(const std::vector<int32_t>& tokens, const std::string& what = "document") {
    AddDocument(tokens.data(), static_cast<int64_t>(tokens.size()), what);
  }
  // A byte-level document (vocabulary ≥ 256): each byte is one token.
  void AddBytes(std::string_view text);
  // Appends bytes to the current last document (a new one if none), as ExtendDocument does tokens:
  // an importer streams a long document through it in pieces.
  void ExtendBytes(std::string_view text);
  // Appends to the current last document instead of starting a new one (a new one if none).
  void ExtendDocument(const int32_t* tokens, int64_t count, const std::string& what = "document");

  int64_t tokens() const;
  int64_t documents() const { return static_cast<int64_t>(starts_.size()) - 1; }
  CorpusMetadata& metadata() { return metadata_; }

  // Throws scalelab::Error if the corpus has no tokens ("empty corpus: <source>").
  Corpus Finish();
  Corpus Write(const std::string& path);  // in-memory writers only; maps the written file

 private:
  void CheckNotEmpty() const;
  void Append(const int32_t* tokens, int64_t count, const std::string& what);
  void AppendBytes(std::string_view text);
  void Flush();
  int64_t vocab_;
  int width_;
  CorpusMetadata metadata_;
  std::vector<uint8_t> bytes_;  // tokens not yet on disk, width_ bytes each
  std::vector<int64_t> starts_{0};
  // Streaming
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
  int64_t flushed_ = 0;
  uint32_t tokens_crc_ = 0;
};

// Writes a corpus file from its parts (temp file + rename). Used by CorpusWriter and Corpus::Save.
void WriteCorpusFile(const std::string& path, int64_t vocab, int width, const CorpusMetadata& metadata,
                     const void* tokens, int64_t tokens_count, const int64_t* starts, int64_t documents);

// Whether the file at `path` begins as a corpus file does (its magic bytes, whatever its version or
// state): what may be overwritten by a new corpus at that path. False for a missing or unreadable file.
bool has_corpus_magic(const std::string& path);

// The folder where prepared corpora are cached: $SCALELAB_CACHE, else $XDG_CACHE_HOME/scalelab,
// else ~/.cache/scalelab. Created on demand by the functions that write into it.
std::string cache_dir();
// `name` with every character but letters, digits, '.', '-' and '_' replaced by '_' (for cache files).
std::string safe_file_name(const std::string& name);
// Creates `dir` and its parents; throws scalelab::Error naming it on failure.
void make_dirs(const std::string& dir);

}  // namespace scalelab::data
