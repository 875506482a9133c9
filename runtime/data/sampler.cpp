#include "data/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/units.h"
#include "data/bpe.h"
#include "data/rng.h"

namespace scalelab::data {

namespace {

constexpr uint64_t kSplitSeed = 0x53504C4954ull;  // "SPLIT": the same split for every sampler
constexpr uint64_t kOrderKey = 0x4F52444552ull;   // "ORDER"
constexpr uint64_t kEpochKey = 0x45504F4348ull;   // "EPOCH"

std::string corpus_name(const Corpus& corpus) {
  return corpus.metadata().name.empty() ? std::string("(unnamed)") : corpus.metadata().name;
}

// A BPE corpus's tokenizer was trained on the documents outside its own validation fraction
// (data.bpe's validation). Splits nest in their fraction, so a larger fraction holds out documents the
// tokenizer learned from: its held-out loss would not be of unseen text.
void check_tokenizer_split(const Corpus& corpus, double validation, const char* what) {
  const auto& extra = corpus.metadata().extra;
  auto trained = extra.find("bpe_validation");
  if (trained == extra.end()) return;
  const double tokenizer_validation = std::strtod(trained->second.c_str(), nullptr);
  if (Split::Make(corpus, validation).validation.size() <= Split::Make(corpus, tokenizer_validation).validation.size())
    return;
  fail(what, ": validation = ", validation, " holds out documents that the BPE tokenizer of corpus ", corpus_name(corpus),
       " was trained on (data.bpe used validation = ", trained->second, "); use validation = ", trained->second,
       " here, or make the BPE corpus with data.bpe{ ..., validation = ", validation, " }");
}

uint64_t epoch_key(uint64_t seed, int64_t epoch) { return mix64(mix64(seed ^ kEpochKey) + uint64_t(epoch)); }

// A short hash of what determines a source's batches, so restore() refuses another source's state:
// the corpus's size, documents, vocabulary and name and (from state v2) its contents' checksum.
uint64_t corpus_fingerprint(const Corpus& corpus, bool with_contents = true) {
  uint64_t h = mix64(uint64_t(corpus.tokens()));
  h = mix64(h ^ uint64_t(corpus.documents()));
  h = mix64(h ^ uint64_t(corpus.vocab()));
  for (char c : corpus.metadata().name) h = mix64(h ^ uint64_t(uint8_t(c)));
  if (with_contents) h = mix64(h ^ uint64_t(corpus.checksum()));
  return h;
}

std::string hex(uint64_t x) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(x));
  return buffer;
}

// A source's saved state: "<kind> v2 rows=<n> corpus=<hex> fingerprint=<hex>", the corpus's
// fingerprint and that of the corpus and the options together.
std::string make_state(const std::string& kind, int64_t rows, const Corpus& corpus, uint64_t fingerprint) {
  return str(kind, " v2 rows=", rows, " corpus=", hex(corpus_fingerprint(corpus)), " fingerprint=", hex(fingerprint));
}

// Parses a state make_state wrote, or a v1 state ("<kind> v1 rows=<n> fingerprint=<hex>", written
// before the corpus's contents were part of the fingerprint), which is checked as it was then:
// `legacy` is this source's v1 fingerprint. Returns the rows.
int64_t parse_state(const std::string& state, const std::string& kind, const Corpus& corpus, uint64_t fingerprint,
                    uint64_t legacy) {
  char name[64] = {};
  long long rows = -1;
  char corpus_print[64] = {};
  char print[64] = {};
  std::string expected = hex(fingerprint);
  if (std::sscanf(state.c_str(), "%63s v2 rows=%lld corpus=%63s fingerprint=%63s", name, &rows, corpus_print,
                  print) == 4 &&
      kind == name && rows >= 0) {
    const std::string mine = hex(corpus_fingerprint(corpus));
    if (mine != corpus_print)
      fail("cannot restore this ", kind, " from its saved state: the state is of another corpus than this one (",
           corpus_name(corpus), ", ", corpus.tokens(), " tokens in ", corpus.documents(), " documents, vocab ",
           corpus.vocab(), "): their tokens, documents, size or name differ (corpus fingerprint ", corpus_print,
           ", this corpus's ", mine, "); restore it into a ", kind, " over the corpus it was saved with");
  } else if (std::sscanf(state.c_str(), "%63s v1 rows=%lld fingerprint=%63s", name, &rows, print) == 3 &&
             kind == name && rows >= 0) {
    expected = hex(legacy);
  } else {
    fail("cannot restore a ", kind, " from '", state.substr(0, 80), "': not a state saved by one");
  }
  if (expected != print)
    fail("cannot restore this ", kind, " from a state saved by a ", kind,
         " with another corpus or other options (fingerprint ", print, ", expected ", expected, ")");
  return rows;
}

// The first `held` documents (ascending) of the split's fixed order of n: a partial Fisher–Yates
// shuffle. Held out as they are, they were the split before exact copies were kept on one side.
std::vector<int64_t> first_of_split_order(int64_t n, int64_t held) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Rng rng(kSplitSeed);
  for (int64_t i = 0; i < held; ++i)
    std::swap(order[size_t(i)], order[size_t(i + int64_t(rng.below(uint64_t(n - i))))]);
  order.resize(size_t(held));
  std::sort(order.begin(), order.end());
  return order;
}

// The documents validation holds out of n (Split::Make refuses a positive one of fewer than 2).
int64_t held_documents(int64_t n, double validation) {
  return validation > 0 && n >= 2 ? std::clamp<int64_t>(int64_t(std::ceil(validation * double(n))), 1, n - 1) : 0;
}

// A saved state's split (" split=<hex>", from Split::Fingerprint), checked against `split`, the one
// of this source's corpus and options (which parse_state has checked are the state's): another is
// refused, naming what differs and the fix. A state saved before states carried it is taken, and
// the returned note says where its split could not be checked ("" where it could).
std::string check_split(const std::string& state, const std::string& kind, const Corpus& corpus, const Split& split,
                        double validation) {
  const std::string mine = hex(split.Fingerprint());
  const size_t at = state.find(" split=");
  if (at != std::string::npos) {
    char print[64] = {};
    if (std::sscanf(state.c_str() + at, " split=%63s", print) != 1 || mine != print) {
      const std::string why =
          str("a scalelab that split it by another rule saved it (before 2026-11-25, exact copies of a text were held "
              "out one by one; this corpus has ", format_counted(double(corpus.copies().copies), "such copy", "such copies"),
              "), and the rest of the run would train and measure on other documents");
      const std::string made_on =
          str("corpus ", corpus_name(corpus), " (", corpus.tokens(), " tokens in ", corpus.documents(),
              " documents) at validation = ", validation, ", split into training and held-out documents by another rule (split ",
              print, ")");
      throw OtherDataError(
          str("cannot restore this ", kind, " from its saved state: it was saved on another split of corpus ",
              corpus_name(corpus), " into training and held-out documents (split ", print, ", this ", kind, "'s ", mine,
              ", holding out ", format_counted(double(split.validation.size()), "document"), " at validation = ", validation,
              "), though of the same corpus and options: ", why, "; start the run again on this split (delete its "
              "checkpoint, or resume = false), or resume it with the scalelab that saved it"),
          made_on,
          str("has split ", mine, " of the same corpus and options, holding out ",
              format_counted(double(split.validation.size()), "document"), ": ", why),
          "use the scalelab that saved it", true);
    }
    return "";
  }
  const std::vector<int64_t> before = Split::ValidationBeforeCopies(corpus, validation);
  if (before == split.validation) return "";
  int64_t moved = 0;
  for (const int64_t d : split.validation)
    if (!std::binary_search(before.begin(), before.end(), d)) ++moved;
  return str("the saved state records no split of corpus ", corpus_name(corpus),
             " (saved before states did), so it could not be checked: this scalelab keeps exact copies of a text on "
             "one side (since 2026-11-25), and holds out ", moved, " of its ", split.validation.size(),
             " held-out documents other than the earlier rule's; if the state was saved before that, the rest of the "
             "run trains and measures on another split: start the run again (resume = false, or delete its "
             "checkpoint) for a run of one split");
}

// ---- What a state says of its data -------------------------------------------------------------

// A state's last field, " about=", says what data saved it: "key=value" parts joined by '|' (the
// corpus, its size and source, and the options its batches depend on), so that a refusal of another
// source's state names what differs and what the state was saved on: the fingerprints alone said
// "another corpus or other options (fingerprint 3b2a..., expected 8689...)". A state saved before
// states carried it says nothing of its data, and is checked by its fingerprints as it was.
using AboutParts = std::vector<std::pair<std::string, std::string>>;

std::string about_value(std::string value) {
  for (char& c : value)
    if (c == '|') c = '/';
    else if (c == '\n' || c == '\r') c = ' ';
  return value;
}

AboutParts corpus_about(const Corpus& corpus) {
  std::string source = corpus.metadata().source;
  if (source.size() > 240) {  // cut at a character's start, not inside a UTF-8 sequence
    size_t cut = 237;
    while (cut > 0 && (static_cast<unsigned char>(source[cut]) & 0xC0) == 0x80) --cut;
    source = source.substr(0, cut) + "...";
  }
  return {{"corpus", corpus_name(corpus)}, {"corpus_tokens", str(corpus.tokens())},
          {"documents", str(corpus.documents())}, {"vocab", str(corpus.vocab())}, {"source", source}};
}

std::string write_about(const AboutParts& about) {
  std::string out = " about=";
  for (size_t i = 0; i < about.size(); ++i)
    out += (i ? "|" : "") + about[i].first + "=" + about_value(about[i].second);
  return out;
}

// A state's about= parts; none where it has none.
AboutParts read_about(const std::string& state) {
  AboutParts about;
  const size_t at = state.find(" about=");
  if (at == std::string::npos) return about;
  const std::string text = state.substr(at + 7);
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('|', start);
    if (end == std::string::npos) end = text.size();
    const std::string part = text.substr(start, end - start);
    const size_t equals = part.find('=');
    if (equals != std::string::npos) about.emplace_back(part.substr(0, equals), part.substr(equals + 1));
    start = end + 1;
  }
  return about;
}

// A state as a refusal quotes it: its position, without what it says of its data (its about=).
std::string quoted_position(const std::string& state) { return state.substr(0, state.find(" about=")).substr(0, 160); }

std::string about_get(const AboutParts& about, const std::string& key) {
  for (const auto& [k, v] : about)
    if (k == key) return v;
  return "";
}

// "corpus markov (40000 tokens in 79 documents, vocab 16; markov(vocab=16, ...), stream seed 3)"
std::string describe_corpus(const AboutParts& about) {
  const std::string source = about_get(about, "source");
  return str("corpus ", about_get(about, "corpus"), " (", about_get(about, "corpus_tokens"), " tokens in ",
             about_get(about, "documents"), " documents, vocab ", about_get(about, "vocab"),
             source.empty() ? "" : "; " + source, ")");
}

// An option as the state or this source has it: "validation = 0.1 (8 documents held out)",
// "unique_tokens left out (fresh data)".
std::string describe_option(const AboutParts& about, const std::string& key) {
  const std::string value = about_get(about, key);
  if (key == "unique_tokens" && value.empty()) return "unique_tokens left out (U = tokens, fresh data)";
  if (key == "order_seed" && value.empty()) return "order_seed left out (= seed)";
  if (key == "validation")
    return str("validation = ", value, " (", about_get(about, "held_out"), " of its ", about_get(about, "documents"),
               " documents held out)");
  return str(key, " = ", value);
}

// Refuses `state` where its about= says that other data saved it than `mine` describes: another
// corpus (its print, `mine_print`, differs: its tokens too), or other values of `options`. `kind`
// names the source ("sampler", "held-out source"), `saved_by` the state's first word that such a
// source writes ("repetition-sampler", "held-out"). A state that says nothing of its data, the same as
// `mine`, or another kind of source's, passes: parse_state and check_split check it as before.
// A state an earlier scalelab saved (v2, no about=) of this corpus but another fingerprint (`mine_options`,
// of the corpus and options) records its options only as that hash: the refusal says this source's,
// and that which of them differ cannot be said.
void refuse_other_data(const std::string& state, const std::string& kind, const std::string& saved_by,
                       const AboutParts& mine, const std::string& mine_print, const std::string& mine_options,
                       const std::vector<std::string>& options) {
  if (state.rfind(saved_by + " ", 0) != 0) return;
  const AboutParts saved = read_about(state);
  char print[64] = {};
  const size_t at = state.find(" corpus=");
  if (at != std::string::npos) std::sscanf(state.c_str() + at, " corpus=%63s", print);
  if (saved.empty()) {
    char options_print[64] = {};
    const size_t options_at = state.find(" fingerprint=");
    if (at == std::string::npos || mine_print != print || options_at == std::string::npos ||
        std::sscanf(state.c_str() + options_at, " fingerprint=%63s", options_print) != 1 || mine_options == options_print)
      return;
    std::string ours;
    for (const std::string& key : options) ours += (ours.empty() ? "" : ", ") + describe_option(mine, key);
    const std::string made_on =
        str(describe_corpus(mine), ", with other options than this ", kind, "'s (its state, saved by an earlier scalelab, "
            "records them only as a hash, so which differ cannot be said)");
    throw OtherDataError(str("cannot restore this ", kind, " from its saved state: it was saved over ", made_on,
                             ", and this ", kind, " has ", ours, "; restore it into a ", kind,
                             " of the options it was saved with"),
                         made_on, "has " + ours, str("make the ", kind, " with the options it was made with"), true);
  }
  bool other_corpus = at != std::string::npos && mine_print != print;
  for (const char* key : {"corpus", "corpus_tokens", "documents", "vocab"})
    if (about_get(saved, key) != about_get(mine, key)) other_corpus = true;
  if (other_corpus) {
    const std::string made_on = describe_corpus(saved), ours = describe_corpus(mine);
    const std::string differs =
        str("reads ", ours,
            made_on == ours ? ", of the same name, size and source but other tokens (its files changed since, or it was "
                              "made again otherwise)"
                            : "");
    throw OtherDataError(str("cannot restore this ", kind, " from its saved state: it was saved over ", made_on,
                             ", and this ", kind, " ", differs, "; restore it into a ", kind,
                             " over the corpus it was saved with"),
                         made_on, differs, str("make the ", kind, " over the corpus it was made on"), false);
  }
  std::string made_on, differs, resume_with;
  bool other_split = false;
  for (const std::string& key : options) {
    if (about_get(saved, key) == about_get(mine, key)) continue;
    made_on += (made_on.empty() ? "" : ", ") + describe_option(saved, key);
    differs += (differs.empty() ? "" : ", ") + describe_option(mine, key);
    const std::string value = about_get(saved, key);
    resume_with += (resume_with.empty() ? "" : ", ") +
                   (value.empty() ? key + " left out" : str(key, " = ", value));
    if (key == "validation") other_split = true;
  }
  if (made_on.empty()) return;
  made_on = str(describe_corpus(saved), " with ", made_on);
  differs = str("has ", differs,
                other_split ? ": another split of the corpus's documents into training and held-out ones, so the rest "
                              "of the run would train and measure on other documents"
                            : "");
  throw OtherDataError(str("cannot restore this ", kind, " from its saved state: it was saved over ", made_on,
                           ", and this ", kind, " ", differs, "; restore it into a ", kind, " of ", resume_with),
                       made_on, differs, str("make the ", kind, " with ", resume_with), true);
}

}  // namespace

// ---- Split --------------------------------------------------------------------------------------

Split Split::Make(const Corpus& corpus, double validation) {
  if (!(validation >= 0 && validation < 1))
    fail("validation must be a fraction of documents in [0, 1) (got ", validation, ")");
  const int64_t n = corpus.documents();
  Split split;
  int64_t held = 0;
  if (validation > 0) {
    if (n < 2) {
      // The way to more documents is the importer's that made the corpus: documents = "paragraph" was
      // named to every corpus, a synthetic one (data.synthetic{ tokens = 4000 }: one document of the
      // default 4096) and llm.c shards too, where it is no option.
      // The document_tokens proposed is not below 512: a markov source's short documents raise the loss
      // its rows allow above entropy_per_token (order 2, vocab 64: +0.08 nats at 64 tokens, +0.25 at 40).
      const std::string& tokenizer = corpus.metadata().tokenizer;
      const std::string more =
          tokenizer == "synthetic" ? str("make it with a document_tokens below its ", corpus.tokens(), " tokens (data.synthetic{ ..., "
                                         "document_tokens = ",
                                         std::max<int64_t>(1, std::min(std::max<int64_t>(corpus.tokens() / 100, 512), corpus.tokens() / 2)),
                                         " })")
          : tokenizer == "bytes"   ? std::string("import it with more documents (documents = \"paragraph\" or \"line\" in data.files)")
          : tokenizer == "gpt2" || tokenizer == "llama3" || tokenizer == "unknown"
              ? std::string("import it split at its end-of-text token (eot = its id in data.tokens_bin), or from more shards with "
                            "eot = -1 (each shard one document)")
              : std::string("give it more documents");
      fail("corpus ", corpus_name(corpus), " has ", n, " document", n == 1 ? "" : "s", "; a validation split needs at least 2: ",
           more, ", or set validation = 0");
    }
    held = held_documents(n, validation);
  }
  // The held-out documents are the first of a fixed order (a partial Fisher–Yates shuffle, drawn as
  // far as it is needed). Exact copies (the same tokens: a text in two files) go together: held out one
  // by one, a text in two files could be held out in one and trained on in the other, and its held-out
  // loss was of text the model had learnt. A text of a few copies (at most `few`: 2, or 0.1% of the
  // documents) is held out, all its copies, where its first document comes in the order, and its other
  // documents are passed over where they come; a text of more copies (a common line, a licence in every
  // folder, a one-token document) stays in training, all of it: held out, it would take the held-out
  // documents far past the fraction, and its text away from training. A group that would leave no
  // document to train on stays in training too. A corpus without copies takes exactly the first `held`
  // documents of the order, as it always did; what is held out depends on neither `held` nor the walk's
  // end, so a larger fraction's walk goes on from a smaller's, and the splits still nest.
  static const Corpus::Copies kNone;
  const Corpus::Copies& copies = held > 0 ? corpus.copies() : kNone;
  const size_t few = size_t(std::max<int64_t>(2, (n + 999) / 1000));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::vector<bool> out(size_t(n), false);
  Rng rng(kSplitSeed);
  int64_t taken = 0;
  for (int64_t i = 0; i < n && taken < held; ++i) {
    int64_t j = i + int64_t(rng.below(uint64_t(n - i)));
    std::swap(order[size_t(i)], order[size_t(j)]);
    const int64_t d = order[size_t(i)];
    const int64_t g = copies.group.empty() ? -1 : copies.group[size_t(d)];
    if (g < 0) {
      out[size_t(d)] = true;
      ++taken;
      continue;
    }
    const std::vector<int64_t>& group = copies.members[size_t(g)];
    // A copy (its group goes where its first document does), a common text, or a group too large.
    if (group[0] != d || group.size() > few || taken + int64_t(group.size()) > n - 1) continue;
    for (const int64_t c : group) out[size_t(c)] = true;
    taken += int64_t(group.size());
    split.copies += int64_t(group.size()) - 1;
  }
  // No text of its own (every document has a copy) and no text of a few copies that leaves training
  // a document (a toy corpus of one text repeated): nothing can be held out unseen. The documents are
  // held out one by one, as they were, and the warning says the held-out loss is of text trained on.
  std::string copies_warning;
  if (held > 0 && taken == 0) {
    for (const int64_t d : first_of_split_order(n, held)) out[size_t(d)] = true;
    taken = held;
    copies_warning =
        str("corpus ", corpus_name(corpus), ": every one of its ", n, " documents is an exact copy of another (",
            format_counted(double(copies.members.size()), "text"), " in all), and a text is held out only with all its copies, "
            "at most ", few, " of them, leaving a document to train on: none can be, so its held-out documents are copies "
            "of training ones, and its held-out loss is of text the model trains on; give it documents of other texts",
            corpus.metadata().tokenizer == "synthetic" ? " (a larger document_tokens in data.synthetic)" : "",
            ", or set validation = 0");
  } else if (held > 0) {
    // Texts of many copies stay in training: where they are many of the documents (short documents,
    // lines of a few words), the held-out documents are of the rarer texts alone, and their loss is
    // not a random sample's. Said, with the numbers.
    int64_t common = 0, texts = 0;
    for (const auto& group : copies.members)
      if (group.size() > few) {
        common += int64_t(group.size());
        ++texts;
      }
    if (common > n / 20)
      copies_warning = str("corpus ", corpus_name(corpus), ": ", common, " of its ", n, " documents (",
                           format_significant(100.0 * double(common) / double(n), 3), "%) are copies of ",
                           format_counted(double(texts), "common text"), " (more than ", few, " copies each), which stay "
                           "in training so that no held-out text is trained on: the held-out documents are of the rarer "
                           "texts alone, and the held-out loss is of them, not of a random sample of the documents; give "
                           "it longer documents",
                           corpus.metadata().tokenizer == "synthetic" ? " (a larger document_tokens in data.synthetic)"
                           : corpus.metadata().tokenizer == "bytes"   ? " (documents = \"paragraph\" or \"file\" in data.files)"
                                                                      : "",
                           ", or hold out other data (eval_data)");
  }
  for (int64_t d = 0; d < n; ++d) (out[size_t(d)] ? split.validation : split.train).push_back(d);
  for (int64_t d : split.validation) split.validation_tokens += corpus.document_end(d) - corpus.document_begin(d);
  split.train_tokens = corpus.tokens() - split.validation_tokens;
  const double share = corpus.tokens() > 0 ? double(split.validation_tokens) / double(corpus.tokens()) : 0;
  if (validation > 0 && share > 2 * validation && share > 0.05)
    split.warning = str("corpus ", corpus_name(corpus), ": validation = ", validation, " holds out ", taken, " of ",
                        format_counted(double(n), "document"), ", ", format_significant(100 * share, 3),
                        "% of its tokens (", format_count(double(split.validation_tokens)), " of ",
                        format_count(double(corpus.tokens())), "), not ", format_significant(100 * validation, 3),
                        "%: the split holds out whole documents; cut the corpus into more of them (documents = "
                        "\"paragraph\" or \"line\" in data.files, a smaller document_tokens in data.synthetic), "
                        "or give it more documents");
  if (!copies_warning.empty()) split.warning = copies_warning + (split.warning.empty() ? "" : "; and " + split.warning);
  return split;
}

uint64_t Split::Fingerprint() const {
  uint64_t h = mix64(0x53504C4954ull ^ uint64_t(train.size() + validation.size()));
  for (const int64_t d : validation) h = mix64(h ^ uint64_t(d));
  return h;
}

std::vector<int64_t> Split::ValidationBeforeCopies(const Corpus& corpus, double validation) {
  return first_of_split_order(corpus.documents(), held_documents(corpus.documents(), validation));
}

// ---- DocumentStream -----------------------------------------------------------------------------

DocumentStream::DocumentStream(Corpus corpus, const std::vector<int64_t>& order, int64_t limit)
    : corpus_(std::move(corpus)) {
  cum_.push_back(0);
  for (int64_t d : order) {
    if (limit >= 0 && size_ >= limit) break;
    int64_t length = corpus_.document_end(d) - corpus_.document_begin(d);
    if (limit >= 0) length = std::min(length, limit - size_);
    begin_.push_back(corpus_.document_begin(d));
    size_ += length;
    cum_.push_back(size_);
  }
}

void DocumentStream::Copy(int64_t position, int64_t count, int32_t* out) const {
  SCALELAB_CHECK(position >= 0 && position + count <= size_);
  size_t j = size_t(std::upper_bound(cum_.begin(), cum_.end(), position) - cum_.begin()) - 1;
  CopyFrom(j, position, count, out);
}

void DocumentStream::IndexWindows(int64_t stride, int64_t windows) {
  SCALELAB_CHECK(stride >= 1 && windows >= 0);
  SCALELAB_CHECK(windows == 0 || (windows - 1) * stride < size_);
  SCALELAB_CHECK(begin_.size() < (size_t{1} << 32));
  stride_ = stride;
  window_piece_.resize(size_t(windows));
  size_t j = 0;
  for (int64_t w = 0; w < windows; ++w) {
    while (cum_[j + 1] <= w * stride) ++j;
    window_piece_[size_t(w)] = uint32_t(j);
  }
}

void DocumentStream::CopyWindow(int64_t w, int64_t count, int32_t* out) const {
  CopyFrom(window_piece_[size_t(w)], w * stride_, count, out);
}

void DocumentStream::PrefetchWindow(int64_t w) const {
  const size_t j = window_piece_[size_t(w)];
  const int width = corpus_.token_bytes();
  const char* p = static_cast<const char*>(corpus_.raw_tokens()) + (begin_[j] + w * stride_ - cum_[j]) * width;
  const int64_t bytes = std::min<int64_t>(stride_ * width, 1024);
  for (int64_t at = 0; at < bytes; at += 64) __builtin_prefetch(p + at);
}

void DocumentStream::CopyFrom(size_t j, int64_t position, int64_t count, int32_t* out) const {
  SCALELAB_CHECK(position >= 0 && position + count <= size_);
  while (count > 0) {
    int64_t offset = position - cum_[j];
    int64_t n = std::min(count, cum_[j + 1] - position);
    corpus_.CopyTokens(begin_[j] + offset, n, out);
    out += n;
    position += n;
    count -= n;
    ++j;
  }
}

int64_t DocumentStream::CorpusOffset(int64_t position) const {
  SCALELAB_CHECK(position >= 0 && position < size_);
  size_t j = size_t(std::upper_bound(cum_.begin(), cum_.end(), position) - cum_.begin()) - 1;
  return begin_[j] + position - cum_[j];
}

// ---- Permutation --------------------------------------------------------------------------------

Permutation::Permutation(int64_t n, uint64_t key) : n_(n) {
  SCALELAB_CHECK(n >= 1);
  int bits = 2;
  while ((int64_t{1} << bits) < n) bits += 2;
  half_bits_ = bits / 2;
  half_mask_ = (uint64_t{1} << half_bits_) - 1;
  for (int i = 0; i < 6; ++i) keys_[i] = mix64(key + uint64_t(i) * 0x9E3779B97F4A7C15ull);
}

uint64_t Permutation::Round(uint64_t x, int round) const { return mix64(x ^ keys_[round]) & half_mask_; }

int64_t Permutation::operator()(int64_t i) const {
  uint64_t x = uint64_t(i);
  do {
    uint64_t left = x >> half_bits_, right = x & half_mask_;
    for (int r = 0; r < 6; ++r) {
      uint64_t next = left ^ Round(right, r);
      left = right;
      right = next;
    }
    x = (left << half_bits_) | right;
  } while (x >= uint64_t(n_));
  return int64_t(x);
}

int64_t Permutation::inverse(int64_t j) const {
  uint64_t x = uint64_t(j);
  do {
    uint64_t left = x >> half_bits_, right = x & half_mask_;
    for (int r = 5; r >= 0; --r) {
      uint64_t previous = right ^ Round(left, r);
      right = left;
      left = previous;
    }
    x = (left << half_bits_) | right;
  } while (x >= uint64_t(n_));
  return int64_t(x);
}

// ---- RepetitionSampler --------------------------------------------------------------------------

void SamplerOptions::Validate() const {
  if (seq_len < 1) fail("data.sampler: seq_len must be a positive number of tokens (got ", seq_len, ")");
  if (batch < 1) fail("data.sampler: batch must be a positive number of rows (got ", batch, ")");
  if (tokens < 1) fail("data.sampler: tokens (D, the training tokens) must be positive (got ", tokens, ")");
  if (unique_tokens < kAllTokens)
    fail("data.sampler: unique_tokens must be ≥ 0 (got ", unique_tokens, "; 0 means = tokens, −1 the whole training split)");
  // tokens < batch·seq_len, without the product: it overflows for sizes near 2^63 (batch = seq_len = 2^32
  // wrapped it to 0, and the planned batches divided by it).
  if (tokens / seq_len < batch)
    fail("data.sampler: tokens = ", tokens, " is less than one batch of batch·seq_len = ",
         batch <= std::numeric_limits<int64_t>::max() / seq_len ? str(batch * seq_len)
                                                                  : format_significant(double(batch) * double(seq_len), 4),
         " tokens");
  if (!(validation >= 0 && validation < 1))
    fail("data.sampler: validation must be a fraction of documents in [0, 1) (got ", validation, ")");
}

std::string SamplerStats::BriefReport() const {
  std::string text = str(format_count(double(tokens)), " of ", format_count(double(planned_tokens)),
                         " tokens delivered (", steps, " of ", planned_steps, " steps), ",
                         format_counted(format_significant(epochs, 4), "epoch", "epochs"), " over ", format_count(double(epoch_tokens)),
                         " unique tokens; seen counts:");
  for (size_t k = 0; k < repetitions.size(); ++k)
    if (repetitions[k] > 0) text += str(" ", k, "×: ", format_count(double(repetitions[k])));
  return text;
}

RepetitionSampler::RepetitionSampler(Corpus corpus, const SamplerOptions& options)
    : corpus_(std::move(corpus)), options_(options) {
  if (corpus_.empty()) fail("data.sampler: no corpus given");
  options_.Validate();
  split_ = Split::Make(corpus_, options_.validation);
  split_print_ = split_.Fingerprint();
  check_tokenizer_split(corpus_, options_.validation, "data.sampler");
  const int64_t T = options_.seq_len;
  const int64_t U = options_.unique_tokens > 0                ? options_.unique_tokens
                    : options_.unique_tokens == SamplerOptions::kAllTokens ? split_.train_tokens
                                                          : options_.tokens;
  // Fresh data (unique_tokens left out) beyond the split was "unique_tokens U = <tokens> is larger ...;
  // lower unique_tokens (it defaults to tokens)", of a key not given, without the tokens that fit.
  const int64_t split_windows = (split_.train_tokens - 1) / T;  // fresh sequences the split holds
  if (U > split_.train_tokens && options_.unique_tokens == 0 && split_windows >= 1)
    fail("data.sampler: tokens = ", options_.tokens, " (", format_count(double(options_.tokens)),
         ") of fresh data (unique_tokens left out: no token seen twice) is more than the training split of corpus ",
         corpus_name(corpus_), " holds: ", split_.train_tokens, " tokens (", format_count(double(split_.train_tokens)), ") in ",
         format_counted(double(split_.train.size()), "document"), " (", split_.validation_tokens,
         " more are held out for validation); give ",
         split_windows >= options_.batch
             ? str("tokens <= ", split_windows / options_.batch * options_.batch * T, " (whole batches of ", options_.batch,
                   " sequences of ", T, ", each also needing the token after it)")
             : str("batch <= ", split_windows, " (not one batch of ", options_.batch, " sequences of ", T, " fits)"),
         ", unique_tokens = \"all\" to repeat the split (about ",
         format_significant(double(options_.tokens) / double(split_windows * T), 3), " epochs), or a larger corpus");
  if (U > split_.train_tokens)
    fail("data.sampler: unique_tokens U = ", U, " (", format_count(double(U)), ") is larger than the training split of corpus ",
         corpus_name(corpus_), ": ", split_.train_tokens, " tokens (", format_count(double(split_.train_tokens)),
         ") in ", format_counted(double(split_.train.size()), "document"), " (", split_.validation_tokens,
         " more are held out for validation); lower unique_tokens", options_.unique_tokens > 0 ? "" : " (it defaults to tokens)",
         ", use the whole split with unique_tokens = \"all\", or use a larger corpus");
  planned_rows_ = options_.tokens / T / options_.batch * options_.batch;  // floor(D / (B·T))·B, without B·T
  windows_ = UniqueWindows(U, split_.train_tokens, options_.tokens, T, options_.batch);
  // The split itself too short for a sequence: a larger U cannot help (it said "raise unique_tokens" to
  // unique_tokens = "all", and to a U that was the whole split).
  if (windows_ < 1 && split_.train_tokens - 1 < T)
    fail("data.sampler: the training split of corpus ", corpus_name(corpus_), " has ", split_.train_tokens, " tokens (",
         split_.validation_tokens, " more are held out for validation), fewer than one sequence of seq_len + 1 = ", T + 1,
         " tokens; lower seq_len, or use a larger corpus");
  if (windows_ < 1)
    fail("data.sampler: unique_tokens U = ", U, " holds no whole sequence of seq_len + 1 = ", T + 1,
         " tokens; raise unique_tokens or lower seq_len");
  // Fresh data (U left out) that the split holds only by repeating a sequence: every row needs the
  // token after its last target, so the split's last token is no target.
  // The split holding fewer fresh sequences than one batch: "give tokens <= 0" named no fix; a smaller batch is one.
  if (options_.unique_tokens == 0 && planned_rows_ > windows_)
    fail("data.sampler: tokens = ", options_.tokens, " of fresh data (no unique_tokens) needs ", planned_rows_,
         " sequences of ", T, " targets, but the training split of corpus ", corpus_name(corpus_), " (",
         split_.train_tokens, " tokens) holds ", windows_, " (each also needs the token after it), so one would be "
         "repeated; give ",
         windows_ >= options_.batch ? str("tokens <= ", windows_ / options_.batch * options_.batch * T)
                                    : str("batch <= ", windows_, " (not one batch of ", options_.batch, " fits)"),
         ", or unique_tokens = \"all\" to repeat the split");

  std::vector<int64_t> order = split_.train;
  Rng rng(mix64(options_.document_order_seed() ^ kOrderKey));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  stream_ = DocumentStream(corpus_, order, windows_ * T + 1);
  SCALELAB_CHECK(stream_.size() == windows_ * T + 1);
  stream_.IndexWindows(T, windows_);
  perm_ = Permutation(windows_, epoch_key(options_.seed, 0));
  epoch_ = 0;
}

int64_t RepetitionSampler::UniqueWindows(int64_t U, int64_t train_tokens, int64_t tokens, int64_t T, int64_t B) {
  const int64_t whole = std::min(U, train_tokens - 1) / T;  // the stream's last token is no window's target
  const int64_t rows = tokens / T / B * B;  // floor(D / (B·T))·B; B·T itself can overflow
  return std::min(whole, rows);
}

void RepetitionSampler::NextBatch(int32_t* out) {
  const int64_t T = options_.seq_len, B = options_.batch;
  if (rows_ + B > planned_rows_)
    fail("sampler exhausted: all ", planned_rows_ * T, " planned tokens (", planned_rows_ / B, planned_rows_ / B == 1 ? " batch" : " batches",
         ") were delivered");
  // The batch's windows first, then the copies, each prefetched a few rows ahead: the rows lie at
  // random places in the corpus, so their loads are what costs.
  windows_of_batch_.resize(size_t(B));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t row = rows_ + b, epoch = row / windows_;
    if (epoch != epoch_) {
      perm_ = Permutation(windows_, epoch_key(options_.seed, epoch));
      epoch_ = epoch;
    }
    windows_of_batch_[size_t(b)] = perm_(row - epoch * windows_);
  }
  constexpr int64_t kAhead = 4;
  for (int64_t b = 0; b < std::min(B, kAhead); ++b) stream_.PrefetchWindow(windows_of_batch_[size_t(b)]);
  for (int64_t b = 0; b < B; ++b) {
    if (b + kAhead < B) stream_.PrefetchWindow(windows_of_batch_[size_t(b + kAhead)]);
    stream_.CopyWindow(windows_of_batch_[size_t(b)], T + 1, out + b * (T + 1));
  }
  rows_ += B;
}

void RepetitionSampler::next_batch(std::vector<int32_t>& tokens) {
  tokens.resize(size_t(options_.batch * (options_.seq_len + 1)));
  NextBatch(tokens.data());
}

BatchSource::Vocabulary RepetitionSampler::vocabulary() const { return CorpusVocabulary(corpus_); }

uint64_t RepetitionSampler::Fingerprint(bool with_contents) const {
  uint64_t h = corpus_fingerprint(corpus_, with_contents);
  for (uint64_t x : {uint64_t(options_.unique_tokens), uint64_t(options_.tokens), uint64_t(options_.seq_len),
                     uint64_t(options_.batch), options_.seed, options_.document_order_seed(),
                     uint64_t(std::llround(options_.validation * 1e12))})
    h = mix64(h ^ x);
  return h;
}

// The state names the sequences the unique stream is cut into: a row's position means a row of the
// same shuffle only over as many. (States saved before it did cut floor(min(U, split − 1) / T).)
std::string RepetitionSampler::state() const {
  return make_state("repetition-sampler", rows_, corpus_, Fingerprint(true)) +
         str(" windows=", windows_, " split=", hex(split_print_)) + write_about(About());
}

std::vector<std::pair<std::string, std::string>> RepetitionSampler::About() const {
  auto about = corpus_about(corpus_);
  const int64_t U = options_.unique_tokens;
  about.insert(about.end(), {{"validation", format_round_trip(options_.validation)},
                             {"held_out", str(split_.validation.size())},
                             {"tokens", str(options_.tokens)},
                             {"unique_tokens", U == SamplerOptions::kAllTokens ? "\"all\"" : U > 0 ? str(U) : ""},
                             {"seed", str(options_.seed)},
                             {"order_seed", options_.order_seed < 0 ? std::string() : str(options_.order_seed)},
                             {"seq_len", str(options_.seq_len)},
                             {"batch", str(options_.batch)}});
  return about;
}

void RepetitionSampler::restore(const std::string& state) {
  refuse_other_data(state, "sampler", "repetition-sampler", About(), hex(corpus_fingerprint(corpus_)),
                    hex(Fingerprint(true)), {"validation", "unique_tokens", "tokens", "seed", "order_seed", "seq_len", "batch"});
  int64_t rows = parse_state(state, "repetition-sampler", corpus_, Fingerprint(true), Fingerprint(false));
  std::string note = check_split(state, "sampler", corpus_, split_, options_.validation);
  if (rows > planned_rows_) fail("cannot restore the sampler: the state is past its planned ", planned_rows_, " rows");
  // A sampler gives whole batches: a state between two is no state one saved, and would deliver rows
  // of two batches in one (its batch's windows taken from the wrong rows).
  if (rows % options_.batch != 0)
    fail("cannot restore the sampler from '", quoted_position(state), "': its rows = ", rows,
         " is not a whole number of batches of ", options_.batch, " rows, so no sampler of these options saved it; "
         "restore a state that sampler:state() saved");
  long long saved = -1;
  const size_t at = state.find(" windows=");
  if (at == std::string::npos || std::sscanf(state.c_str() + at, " windows=%lld", &saved) != 1) {
    const int64_t U = options_.unique_tokens > 0                            ? options_.unique_tokens
                      : options_.unique_tokens == SamplerOptions::kAllTokens ? split_.train_tokens
                                                                             : options_.tokens;
    saved = std::min(U, split_.train_tokens - 1) / options_.seq_len;
  }
  if (saved != windows_)
    fail("cannot restore this sampler from its saved state: it was saved cutting the unique stream into ", saved,
         " sequences, and this one cuts it into ", windows_, " (a run of fewer rows than U holds takes as many as its "
         "rows), so the rest of the run would not be the rows of the same shuffle; start the run again (resume = false, "
         "or delete its checkpoint)");
  rows_ = rows;
  restore_note_ = std::move(note);
}

int64_t RepetitionSampler::window_of_row(int64_t row) const {
  SCALELAB_CHECK(row >= 0);
  const int64_t epoch = row / windows_;
  return Permutation(windows_, epoch_key(options_.seed, epoch))(row - epoch * windows_);
}

int64_t RepetitionSampler::times_seen(int64_t position) const {
  const int64_t T = options_.seq_len;
  if (position < 1 || position > windows_ * T)
    fail("times_seen: position ", position, " is not a target position of the unique stream [1, ", windows_ * T, "]");
  const int64_t window = (position - 1) / T, full = rows_ / windows_, part = rows_ % windows_;
  if (part == 0) return full;
  return full + (Permutation(windows_, epoch_key(options_.seed, full)).inverse(window) < part ? 1 : 0);
}

SamplerStats RepetitionSampler::stats() const {
  const int64_t T = options_.seq_len;
  SamplerStats s;
  s.rows = rows_;
  s.steps = rows_ / options_.batch;
  s.tokens = rows_ * T;
  s.planned_tokens = planned_rows_ * T;
  s.planned_steps = planned_rows_ / options_.batch;
  s.unique_tokens_asked = options_.unique_tokens > 0                ? options_.unique_tokens
                          : options_.unique_tokens == SamplerOptions::kAllTokens ? split_.train_tokens
                                                                : options_.tokens;
  s.unique_tokens = windows_ * T;
  s.windows = windows_;
  s.epoch_tokens = windows_ * T;
  s.documents = stream_.documents();
  s.epochs = double(rows_) / double(windows_);
  s.planned_epochs = double(planned_rows_) / double(windows_);
  s.full_epochs = rows_ / windows_;
  const int64_t part = rows_ % windows_;
  s.repetitions.assign(size_t(s.full_epochs + (part > 0 ? 2 : 1)), 0);
  s.repetitions[size_t(s.full_epochs)] = (windows_ - part) * T;
  if (part > 0) s.repetitions[size_t(s.full_epochs + 1)] = part * T;
  return s;
}

std::string RepetitionSampler::Summary() const {
  const SamplerStats s = stats();
  // U in use and U asked, in full where three digits would print them alike ("20k (20k asked").
  const bool alike = format_count(double(s.unique_tokens_asked)) == format_count(double(s.unique_tokens));
  auto count = [&](int64_t n) { return alike ? str(n) : format_count(double(n)); };
  return str("sampler over ", corpus_name(corpus_), ": U = ", count(s.unique_tokens), " unique tokens",
             s.unique_tokens_asked != s.unique_tokens
                 ? str(" (", count(s.unique_tokens_asked), " asked: whole sequences of ", options_.seq_len,
                       s.unique_tokens_asked > s.unique_tokens && planned_rows_ == windows_ ? ", as many as the run's rows" : "",
                       ")")
                 : std::string(),
             ", D = ", format_count(double(s.planned_tokens)), " tokens (",
             format_significant(s.planned_epochs, 4), format_significant(s.planned_epochs, 4) == "1" ? " epoch" : " epochs",
             "), seq_len ", options_.seq_len, ", batch ",
             options_.batch, ", seed ", options_.seed, "; ", s.steps, " of ", s.planned_steps, " steps done");
}

// ---- HeldOutSource ------------------------------------------------------------------------------

void HeldOutOptions::Validate() const {
  if (seq_len < 1) fail("held-out source: seq_len must be positive (got ", seq_len, ")");
  if (batch < 1) fail("held-out source: batch must be positive (got ", batch, ")");
  // A batch holds batch·(seq_len + 1) ids: a count beyond 2^63 wrapped (batch = 2^62, seq_len = 3 to 0),
  // and the batch was written past the buffer sized by it.
  if (seq_len == std::numeric_limits<int64_t>::max() || batch > std::numeric_limits<int64_t>::max() / (seq_len + 1))
    fail("held-out source: batch = ", batch, " rows of seq_len + 1 = ", seq_len + 1, " token ids are ",
         format_significant(double(batch) * double(seq_len + 1), 4), " ids a batch, beyond what can be counted; lower batch");
  if (!(validation > 0 && validation < 1))
    fail("held-out source: validation must be a fraction of documents in (0, 1) (got ", validation, ")");
}

HeldOutSource::HeldOutSource(Corpus corpus, const HeldOutOptions& options)
    : corpus_(std::move(corpus)), options_(options) {
  if (corpus_.empty()) fail("held-out source: no corpus given");
  options_.Validate();
  split_ = Split::Make(corpus_, options_.validation);
  split_print_ = split_.Fingerprint();
  check_tokenizer_split(corpus_, options_.validation, "held-out source");
  stream_ = DocumentStream(corpus_, split_.validation, -1);
  windows_ = (stream_.size() - 1) / options_.seq_len;
  if (windows_ < 1)
    fail("held-out source: the validation split of corpus ", corpus_name(corpus_), " has ", stream_.size(),
         " tokens, fewer than one sequence of seq_len + 1 = ", options_.seq_len + 1,
         "; raise validation or lower seq_len");
  stream_.IndexWindows(options_.seq_len, windows_);
}

void HeldOutSource::NextBatch(int32_t* out) {
  const int64_t T = options_.seq_len;
  for (int64_t b = 0; b < options_.batch; ++b, ++rows_)
    stream_.CopyWindow(rows_ % windows_, T + 1, out + b * (T + 1));
}

void HeldOutSource::next_batch(std::vector<int32_t>& tokens) {
  tokens.resize(size_t(options_.batch * (options_.seq_len + 1)));
  NextBatch(tokens.data());
}

BatchSource::Vocabulary HeldOutSource::vocabulary() const { return CorpusVocabulary(corpus_); }

uint64_t HeldOutSource::Fingerprint(bool with_contents) const {
  uint64_t h = corpus_fingerprint(corpus_, with_contents);
  for (uint64_t x : {uint64_t(options_.seq_len), uint64_t(options_.batch), uint64_t(std::llround(options_.validation * 1e12))})
    h = mix64(h ^ x);
  return h;
}

std::string HeldOutSource::state() const {
  return make_state("held-out", rows_, corpus_, Fingerprint(true)) + str(" split=", hex(split_print_)) +
         write_about(About());
}

std::vector<std::pair<std::string, std::string>> HeldOutSource::About() const {
  auto about = corpus_about(corpus_);
  about.insert(about.end(), {{"validation", format_round_trip(options_.validation)},
                             {"held_out", str(split_.validation.size())},
                             {"seq_len", str(options_.seq_len)},
                             {"batch", str(options_.batch)}});
  return about;
}

void HeldOutSource::restore(const std::string& state) {
  refuse_other_data(state, "held-out source", "held-out", About(), hex(corpus_fingerprint(corpus_)),
                    hex(Fingerprint(true)), {"validation", "seq_len", "batch"});
  const int64_t rows = parse_state(state, "held-out", corpus_, Fingerprint(true), Fingerprint(false));
  std::string note = check_split(state, "held-out source", corpus_, split_, options_.validation);
  // The position counts every row given since the start, past the end of a pass too: no source gives
  // 2^62 rows, and a count near 2^63 would wrap at the next batch (rows=9223372036854775807 read from
  // a negative row of the split).
  constexpr int64_t kMaxRows = std::numeric_limits<int64_t>::max() / 2;
  if (rows > kMaxRows)
    fail("cannot restore this held-out source from '", quoted_position(state), "': its rows = ", rows,
         " is beyond the ", kMaxRows, " rows a held-out source can count (no source gives that many); restore a "
         "state that held:state() saved, or held:rewind() to start a pass");
  rows_ = rows;
  restore_note_ = std::move(note);
}

std::string HeldOutSource::Summary() const {
  return str("held-out source over ", corpus_name(corpus_), ": ", format_count(double(stream_.size())),
             " validation tokens in ", format_counted(double(split_.validation.size()), "document"),
             split_.copies == 0 ? "" : str(" (", split_.copies, " of them exact copies of others, held out with them)"), ", ",
             windows_, " sequences of ",
             options_.seq_len, " (", format_counted(batches_per_pass(), "batch", "batches"), " of ", options_.batch, " per pass)");
}

}  // namespace scalelab::data
