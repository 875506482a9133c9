// Byte-level BPE (Sennrich et al. 2016; GPT-2's byte-level variant): the base vocabulary is the 256
// bytes, so every byte string encodes and decodes back exactly. Text is first cut into chunks (an
// optional leading space and a run of letters, of digits or of other symbols, or a run of white
// space; at most 256 bytes), and merges never cross chunks. Training repeatedly merges the most
// frequent adjacent pair (ties broken by the smaller pair), counted over chunk types with their
// frequencies.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "data/batch_source.h"
#include "data/corpus.h"

namespace scalelab::data {

class BpeTokenizer {
 public:
  // Learns vocab − 256 merges from `texts` (fewer if the texts run out of pairs).
  static BpeTokenizer Train(const std::vector<std::string>& texts, int64_t vocab);
  // Reads a tokenizer file written by Save; throws scalelab::Error naming it if it is missing or malformed.
  static BpeTokenizer Load(const std::string& path);
  void Save(const std::string& path);  // temp file + rename; remembers the path

  std::vector<int32_t> Encode(const std::string& text) const;
  void Encode(const std::string& text, std::vector<int32_t>& out) const;
  // Throws scalelab::Error for an id outside the vocabulary.
  std::string Decode(const std::vector<int32_t>& ids) const;
  std::string TokenBytes(int32_t id) const { return bytes_.at(size_t(id)); }

  int64_t vocab() const { return int64_t(bytes_.size()); }
  const std::vector<std::pair<int32_t, int32_t>>& merges() const { return merges_; }
  const std::string& path() const { return path_; }
  std::string Summary() const;

 private:
  void Build();  // bytes_ and ranks_ from merges_
  void EncodeChunk(const std::string& chunk, std::vector<int32_t>& out) const;
  std::vector<std::pair<int32_t, int32_t>> merges_;  // merge i makes token 256 + i
  std::unordered_map<uint64_t, int32_t> ranks_;      // (a, b) → merge index
  std::vector<std::string> bytes_;
  std::string path_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

// Cuts text into BPE chunks (exposed for tests): their concatenation is the text.
std::vector<std::string> BpeChunks(const std::string& text);

struct BpeOptions {
  int64_t vocab = 0;                       // > 256
  std::string out;                         // the BPE corpus file; "" → beside the source corpus
  int64_t max_train_bytes = int64_t{64} << 20;  // training text budget (training documents in order)
  double validation = 0.01;                // documents never used to train the tokenizer
  void Validate() const;
};

// Trains a BPE on the training split of a byte-level corpus and re-encodes every document with it
// (document boundaries kept, so the validation split is the same). The tokenizer is saved beside
// the new corpus as "<corpus>.tokenizer". An existing corpus file at the output path is reused only
// if it was made from the same inputs (the source's name, contents checksum and counts, vocab,
// validation and max_train_bytes, recorded in its metadata); else it is trained again and
// overwritten, with a line in `notes` saying why.
Corpus TrainBpeCorpus(const Corpus& source, const BpeOptions& options, std::vector<std::string>* notes = nullptr);

// The corpus's BPE tokenizer (tokenizer "bpe:<file>"), or nullptr for other tokenizers. A relative
// <file> is found beside the corpus file (data.bpe names it so), else, for corpora made before
// that, from the current folder; neither is an error naming both.
std::shared_ptr<const BpeTokenizer> CorpusTokenizer(const Corpus& corpus);
// The path CorpusTokenizer loads ("" for other tokenizers).
std::string CorpusTokenizerFile(const Corpus& corpus);
// What a corpus's ids are (BatchSource::vocabulary(), for trainers to compare training and held-out
// data): data "corpus <name>", its tokenizer label, and an identity that corpora of one tokenizer
// share: the label for bytes, gpt2 and llama3 ids (whatever the vocab), the label and vocab for
// synthetic ids, a hash of the vocab and merges for a BPE, and ""
// where it cannot tell (an unknown tokenizer, a BPE file not found).
BatchSource::Vocabulary CorpusVocabulary(const Corpus& corpus);
// Text ↔ ids with the corpus's tokenizer (bytes or BPE); other tokenizers are an error.
std::string DecodeTokens(const Corpus& corpus, const std::vector<int32_t>& ids);
std::vector<int32_t> EncodeText(const Corpus& corpus, const std::string& text);

}  // namespace scalelab::data
