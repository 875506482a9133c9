// The repetition sampler of data-constrained studies (Muennighoff et al. 2023), and the held-out
// source over the validation split.
//
// Split. A corpus's documents are divided once into training and validation by a fixed seeded
//   permutation of document indices (independent of every sampler seed): the first
//   ceil(validation·documents) documents of it are held out. No sampler trains on them. Exact copies
//   (documents of the same tokens) are on one side only: a held-out text's copies are held out with it.
//
// Unique subset. The training documents are put in one fixed order by `order_seed`; the unique
//   stream is their concatenation cut after U + 1 tokens (U = unique_tokens). A smaller U is a prefix
//   of a larger U's stream: runs with less data see a subset of the data of runs with more.
//
// Sequences. The unique stream is cut into N = floor(min(U, training split − 1) / T) windows of
//   T + 1 tokens with stride T (window w holds stream tokens [wT, wT + T]); the T targets of window w
//   are stream positions wT + 1 … wT + T, so every position 1 … N·T is a target exactly once per
//   epoch. A run of fewer rows than that (U > D) takes the first of them, as many as its rows: its
//   data is then the first D tokens of the stream, a subset of every larger U's and a superset of
//   every smaller U's (fresh-data runs nest with repeated ones).
//
// Epochs. Row r of the run is window perm_e(r mod N) of epoch e = floor(r / N), where perm_e is a
//   fresh pseudo-random permutation of the N windows for every epoch (a keyed Feistel network with
//   cycle walking, seeded by `seed` and e: O(1) memory, random access, so resuming is instant).
//   The run plans floor(D / (B·T)) batches of B rows (D = tokens); a fractional last epoch simply
//   stops part-way through its permutation, and accounting is exact. U ≥ D is plain fresh-data
//   sampling: one epoch, no position repeated; with U left out (U = D) a run that the split cannot
//   hold without repeating a sequence is refused.
//
// From C++ (a trainer):
//   data::Corpus corpus = data::NamedCorpus("gcide");      // or MarkovSource(o).Generate(...)
//   data::SamplerOptions o;
//   o.unique_tokens = 10'000'000;  o.tokens = 40'000'000;  o.seq_len = 256;  o.batch = 32;
//   data::RepetitionSampler train(corpus, o);               // o.Validate() runs inside
//   data::HeldOutSource val(corpus, {o.seq_len, o.batch, o.validation});
//   std::vector<int32_t> tokens;
//   while (!train.exhausted()) train.next_batch(tokens);   // B rows of T + 1 ids
//   std::string checkpoint = train.state();                 // restore(checkpoint) resumes bitwise
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/batch_source.h"
#include "data/corpus.h"

namespace scalelab::data {

// The training/validation division of a corpus's documents.
struct Split {
  std::vector<int64_t> train;       // document indices, ascending
  std::vector<int64_t> validation;  // document indices, ascending
  int64_t train_tokens = 0;
  int64_t validation_tokens = 0;
  // Held-out documents that are exact copies of another held-out one (Corpus::copies): each text is
  // on one side only, all its copies with it. 0 in a corpus without copies.
  int64_t copies = 0;
  // Set when the held-out documents hold far more of the tokens than `validation` asks (more than
  // twice the fraction and over 5% of them: whole documents of a corpus of few), naming the numbers
  // and the fix; "" otherwise. The split is what it is (runs' identities depend on it): this says so.
  std::string warning;

  // Throws scalelab::Error if validation is not in [0, 1), or if it is positive and the corpus has
  // fewer than 2 documents (naming the corpus and the fix).
  static Split Make(const Corpus& corpus, double validation);

  // A hash of which documents are held out (of how many): the saved states of samplers and held-out
  // sources carry it (" split=<hex>"), so that a state saved on another split (the same corpus and
  // options split by an earlier rule: exact copies were held out one by one before 2026-11-25) is
  // refused instead of going on with other training and held-out documents.
  uint64_t Fingerprint() const;
  // The held-out documents (ascending) of the rule before exact copies were kept on one side: the
  // first ceil(validation·documents) of the fixed order. Where they are this split's (a corpus
  // without copies), a state saved before states carried the split is of this split.
  static std::vector<int64_t> ValidationBeforeCopies(const Corpus& corpus, double validation);
};

struct SamplerOptions {
  static constexpr int64_t kAllTokens = -1;
  int64_t unique_tokens = 0;  // U; 0 means U = tokens (fresh data, one epoch at most);
                              // kAllTokens: the whole training split
  int64_t tokens = 0;         // D, total training tokens (targets) planned
  int64_t seq_len = 256;      // T
  int64_t batch = 8;          // B
  uint64_t seed = 0;          // the per-epoch shuffles
  int64_t order_seed = -1;    // the document order (the nested subsets); −1 means = seed
  double validation = 0.01;   // fraction of documents held out

  // Throws scalelab::Error naming the field: positive tokens, seq_len, batch; unique_tokens ≥ 0;
  // tokens ≥ batch·seq_len (one batch at least); validation in [0, 1).
  void Validate() const;
  uint64_t document_order_seed() const { return order_seed < 0 ? seed : uint64_t(order_seed); }
};

// Exact accounting of what a sampler has delivered.
struct SamplerStats {
  int64_t rows = 0;             // rows delivered
  int64_t steps = 0;            // batches delivered
  int64_t tokens = 0;           // target tokens delivered: rows·T
  int64_t planned_tokens = 0;   // floor(D / (B·T))·B·T
  int64_t planned_steps = 0;
  int64_t unique_tokens = 0;    // U in use: N·T (U as asked cut to whole windows, and to the run's rows)
  int64_t unique_tokens_asked = 0;  // U as asked (D when left out; the split's size for "all")
  int64_t epoch_tokens = 0;     // N·T: distinct target positions, each seen once per epoch
  int64_t windows = 0;          // N
  int64_t documents = 0;        // training documents touched by the unique stream (last one cut)
  double epochs = 0;            // tokens / epoch_tokens, exact up to rounding of the division
  int64_t full_epochs = 0;
  // repetitions[k] = number of distinct target positions seen exactly k times so far.
  std::vector<int64_t> repetitions;
  double planned_epochs = 0;

  std::string BriefReport() const;
};

// Concatenation of a list of documents of a corpus, with random access by stream position.
class DocumentStream {
 public:
  DocumentStream() = default;
  // The first `limit` tokens (all if limit < 0) of the documents `order`, concatenated.
  DocumentStream(Corpus corpus, const std::vector<int64_t>& order, int64_t limit);
  int64_t size() const { return size_; }
  int64_t documents() const { return int64_t(begin_.size()); }
  // Copies stream tokens [position, position + count) into out.
  void Copy(int64_t position, int64_t count, int32_t* out) const;
  // Precomputes the piece where each window of `stride` tokens starts (4 bytes per window), so
  // CopyWindow needs no search: the sampler's hot path.
  void IndexWindows(int64_t stride, int64_t windows);
  // Copies stream tokens [w·stride, w·stride + count) into out (after IndexWindows).
  void CopyWindow(int64_t w, int64_t count, int32_t* out) const;
  // Asks the CPU to start loading window w's first tokens (after IndexWindows).
  void PrefetchWindow(int64_t w) const;
  // The corpus offset of stream position p.
  int64_t CorpusOffset(int64_t position) const;
  const Corpus& corpus() const { return corpus_; }

 private:
  Corpus corpus_;
  std::vector<int64_t> begin_;   // corpus offset of each piece
  std::vector<int64_t> cum_;     // stream offset of each piece, plus the total at the end
  int64_t size_ = 0;
  int64_t stride_ = 0;
  std::vector<uint32_t> window_piece_;
  void CopyFrom(size_t piece, int64_t position, int64_t count, int32_t* out) const;
};

// A keyed pseudo-random permutation of [0, n): 6-round Feistel network with cycle walking.
class Permutation {
 public:
  Permutation(int64_t n, uint64_t key);
  int64_t operator()(int64_t i) const;
  int64_t inverse(int64_t j) const;
  int64_t size() const { return n_; }

 private:
  uint64_t Round(uint64_t x, int round) const;
  int64_t n_;
  int half_bits_;
  uint64_t half_mask_;
  uint64_t keys_[6];
};

class RepetitionSampler : public BatchSource {
 public:
  // Throws scalelab::Error for invalid options, an empty training split, or U larger than the
  // training split (the message gives both sizes).
  RepetitionSampler(Corpus corpus, const SamplerOptions& options);

  int64_t vocab() const override { return corpus_.vocab(); }
  int64_t seq_len() const override { return options_.seq_len; }
  int64_t batch() const override { return options_.batch; }
  void next_batch(std::vector<int32_t>& tokens) override;
  int64_t remaining_batches() const override { return (planned_rows_ - rows_) / options_.batch; }
  Vocabulary vocabulary() const override;
  std::string state() const override;
  void restore(const std::string& state) override;
  std::string restore_note() const override { return restore_note_; }

  // N, the windows of T targets a sampler of these options cuts its unique stream into (see above):
  // what its U in use is, N·T. The study plans with it before any sampler exists.
  static int64_t UniqueWindows(int64_t unique_tokens, int64_t train_tokens, int64_t tokens, int64_t seq_len,
                               int64_t batch);

  // Fills `tokens` (B·(T+1) entries, already sized) without reallocating: the fast path.
  void NextBatch(int32_t* tokens);

  const SamplerOptions& options() const { return options_; }
  const Split& split() const { return split_; }
  const Corpus& corpus() const { return corpus_; }
  const DocumentStream& unique_stream() const { return stream_; }
  SamplerStats stats() const;
  bool exhausted() const { return rows_ >= planned_rows_; }
  // Times target position p (1 ≤ p ≤ N·T of the unique stream) has been delivered so far.
  int64_t times_seen(int64_t position) const;
  // The unique-stream window delivered as row r (r < planned rows).
  int64_t window_of_row(int64_t row) const;
  // "sampler over gcide: U = 10M unique tokens, D = 40M (4 epochs), T = 256, B = 8, seed 0; ..."
  std::string Summary() const;
  // What its state says of its data (" about=", last): the corpus and the options, as key and value.
  std::vector<std::pair<std::string, std::string>> About() const;

 private:
  // The hash a saved state carries: of the corpus (its contents too, unless for a v1 state) and options.
  uint64_t Fingerprint(bool with_contents) const;
  Corpus corpus_;
  SamplerOptions options_;
  Split split_;
  DocumentStream stream_;
  int64_t windows_ = 0;       // N
  int64_t planned_rows_ = 0;
  int64_t rows_ = 0;          // delivered
  int64_t epoch_ = -1;        // epoch of perm_
  Permutation perm_{1, 0};
  std::vector<int64_t> windows_of_batch_;
  uint64_t split_print_ = 0;  // split_.Fingerprint(), in every state()
  std::string restore_note_;
};

struct HeldOutOptions {
  int64_t seq_len = 256;
  int64_t batch = 8;
  double validation = 0.01;  // must match the training samplers' (the default does)
  void Validate() const;
};

// Deterministic batches over the validation split: its documents in index order, concatenated,
// cut into windows of T + 1 with stride T, delivered in order and cycling back to the start.
// restore(initial_state()) or Rewind() starts a new evaluation pass from the same batches.
class HeldOutSource : public BatchSource {
 public:
  HeldOutSource(Corpus corpus, const HeldOutOptions& options);

  int64_t vocab() const override { return corpus_.vocab(); }
  int64_t seq_len() const override { return options_.seq_len; }
  int64_t batch() const override { return options_.batch; }
  void next_batch(std::vector<int32_t>& tokens) override;
  Vocabulary vocabulary() const override;
  std::string state() const override;
  void restore(const std::string& state) override;
  std::string restore_note() const override { return restore_note_; }
  void NextBatch(int32_t* tokens);
  void Rewind() { rows_ = 0; }

  int64_t windows() const { return windows_; }                  // rows in one full pass
  int64_t tokens() const { return stream_.size(); }             // validation tokens
  int64_t batches_per_pass() const override { return (windows_ + options_.batch - 1) / options_.batch; }
  int64_t rows_per_pass() const override { return windows_; }
  const Split& split() const { return split_; }
  const Corpus& corpus() const { return corpus_; }
  const HeldOutOptions& options() const { return options_; }
  std::string Summary() const;
  // What its state says of its data (" about=", last): the corpus and the options, as key and value.
  std::vector<std::pair<std::string, std::string>> About() const;

 private:
  uint64_t Fingerprint(bool with_contents) const;  // as RepetitionSampler's
  Corpus corpus_;
  HeldOutOptions options_;
  Split split_;
  DocumentStream stream_;
  int64_t windows_ = 0;
  int64_t rows_ = 0;
  uint64_t split_print_ = 0;  // split_.Fingerprint(), in every state()
  std::string restore_note_;
};

}  // namespace scalelab::data
