// The contract between data and trainers: a source of training (or held-out) batches.
// Samplers (runtime/data) implement it; trainers (runtime/train, kernels/) consume it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace scalelab::data {

// restore()'s refusal of a state that other data saved (another corpus, other options, another split
// of the documents), where the state says what its data was: what() is the whole refusal, as
// sampler:restore(s) says it; the parts let a trainer say it of its checkpoint.
class OtherDataError : public Error {
 public:
  OtherDataError(const std::string& message, std::string made_on, std::string differs, std::string resume_with,
                 bool same_corpus)
      : Error(message), made_on(std::move(made_on)), differs(std::move(differs)), resume_with(std::move(resume_with)),
        same_corpus(same_corpus) {}
  std::string made_on;      // the data the state was saved on: "corpus markov (40k tokens in 79 documents, ...) ..."
  std::string differs;      // how this source's differs: "has validation = 0.2 (16 of its 79 documents held out)"
  std::string resume_with;  // what to do for a source to take the state: "make the sampler with validation = 0.1"
  bool same_corpus;         // the same corpus, other options or another split of its documents
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;

  virtual int64_t vocab() const = 0;
  virtual int64_t seq_len() const = 0;  // T: inputs per row
  virtual int64_t batch() const = 0;    // B: rows per batch

  // Fills `tokens` with B rows of T + 1 token ids each (row-major, size B·(T+1)): a row's inputs
  // are its first T tokens and its targets the last T. Throws scalelab::Error when the source is
  // exhausted (a sampler never is before its planned tokens).
  virtual void next_batch(std::vector<int32_t>& tokens) = 0;
  // How many more batches next_batch() will give before it is exhausted; -1 when it never is or
  // cannot tell. Trainers check it before the first step, so a run too long for its sampler is
  // refused up front instead of failing once the sampler is used up.
  virtual int64_t remaining_batches() const { return -1; }
  // For a source that cycles (a held-out source): how many batches one pass over its data takes,
  // after which it gives the same batches again; -1 when it does not cycle or cannot tell. Trainers
  // refuse an evaluation that would go round the same data many times over.
  virtual int64_t batches_per_pass() const { return -1; }
  // For a source that cycles: how many distinct rows one pass gives (a pass's last batch may end
  // partway and its other rows start the next pass); -1: batches_per_pass() × batch(). Trainers
  // evaluate a held-out split smaller than their default evaluation over these rows once.
  virtual int64_t rows_per_pass() const { return -1; }

  // What the ids are, where the source knows it, so that trainers refuse held-out data whose ids are
  // not the training data's (bytes scored against GPT-2 tokens): `data` names the data ("corpus
  // gcide"), `tokenizer` the tokenizer that made the ids ("bytes", "gpt2", "bpe:<file>", ...), and
  // `identity` is the same for two sources of the same tokenizer (a BPE's by its merges), whose
  // ids are then the same whatever their vocab (GPT-2's padded to 50304 is GPT-2's), and "" when
  // the source cannot tell (a source written in Lua, a corpus of an unknown tokenizer): then the
  // vocab alone is compared.
  struct Vocabulary {
    std::string data, tokenizer, identity;
  };
  virtual Vocabulary vocabulary() const { return {}; }

  // The position, serialised, for checkpoints; restore() continues bitwise identically from it.
  // A held-out source is rewound to its initial state before each evaluation the same way.
  virtual std::string state() const = 0;
  virtual void restore(const std::string& state) = 0;
  // What the last restore() took but could not check, said to the user ("" when it checked all): a
  // sampler's state saved before states recorded the split of the corpus's documents.
  virtual std::string restore_note() const { return ""; }
};

}  // namespace scalelab::data
