#include "data/bpe.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <queue>
#include <sstream>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/units.h"
#include "data/rng.h"
#include "data/sampler.h"

namespace scalelab::data {

namespace {

constexpr size_t kMaxChunk = 256;

uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

int byte_class(unsigned char c) {
  if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') return 0;
  if (std::isalpha(c) || c >= 0x80) return 1;
  if (std::isdigit(c)) return 2;
  return 3;
}

template <class F>
void for_each_chunk(const std::string& text, F&& f) {
  size_t i = 0, n = text.size();
  while (i < n) {
    size_t start = i;
    int c = byte_class(uint8_t(text[i]));
    if (c == 0) {
      // White space; a single space just before a non-space opens the next chunk instead.
      size_t j = i;
      while (j < n && byte_class(uint8_t(text[j])) == 0) ++j;
      size_t end = j;
      if (j < n && text[j - 1] == ' ') end = j - 1;
      if (end == i) {  // just " " + word
        ++i;
        int w = i < n ? byte_class(uint8_t(text[i])) : 0;
        while (i < n && byte_class(uint8_t(text[i])) == w && w != 0 && i - start < kMaxChunk) ++i;
      } else {
        i = std::min(end, start + kMaxChunk);
      }
    } else {
      while (i < n && byte_class(uint8_t(text[i])) == c && i - start < kMaxChunk) ++i;
    }
    f(start, i - start);
  }
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::vector<std::string> BpeChunks(const std::string& text) {
  std::vector<std::string> out;
  for_each_chunk(text, [&](size_t at, size_t n) { out.push_back(text.substr(at, n)); });
  return out;
}

void BpeTokenizer::Build() {
  bytes_.clear();
  ranks_.clear();
  for (int b = 0; b < 256; ++b) bytes_.push_back(std::string(1, char(b)));
  for (size_t i = 0; i < merges_.size(); ++i) {
    auto [a, b] = merges_[i];
    bytes_.push_back(bytes_[size_t(a)] + bytes_[size_t(b)]);
    ranks_[pair_key(a, b)] = int32_t(i);
  }
  cache_.clear();
}

BpeTokenizer BpeTokenizer::Train(const std::vector<std::string>& texts, int64_t vocab) {
  if (vocab <= 256) fail("bpe: vocab must be larger than the 256 bytes (got ", vocab, ")");
  if (vocab > (int64_t{1} << 24)) fail("bpe: vocab must be at most 2^24 (got ", vocab, ")");
  // Chunk types and their frequencies.
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& text : texts) {
    check_interrupt();
    for_each_chunk(text, [&](size_t at, size_t n) { ++counts[text.substr(at, n)]; });
  }
  // Deterministic word order (sorted chunk text).
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end());
  counts.clear();
  std::vector<std::vector<int32_t>> words(sorted.size());
  std::vector<int64_t> freq(sorted.size());
  for (size_t w = 0; w < sorted.size(); ++w) {
    for (unsigned char c : sorted[w].first) words[w].push_back(c);
    freq[w] = sorted[w].second;
  }
  sorted.clear();

  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<int32_t>> where;
  for (size_t w = 0; w < words.size(); ++w)
    for (size_t i = 0; i + 1 < words[w].size(); ++i) {
      uint64_t k = pair_key(words[w][i], words[w][i + 1]);
      pair_count[k] += freq[w];
      where[k].push_back(int32_t(w));
    }
  // Max-heap on (count, −key): the most frequent pair, ties to the smaller pair.
  using Entry = std::pair<int64_t, uint64_t>;
  auto less = [](const Entry& x, const Entry& y) {
    return x.first != y.first ? x.first < y.first : x.second > y.second;
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(less)> heap(less);
  for (const auto& [k, c] : pair_count) heap.push({c, k});

  BpeTokenizer t;
  const int64_t merges = vocab - 256;
  std::unordered_map<uint64_t, int64_t> changed;
  while (int64_t(t.merges_.size()) < merges && !heap.empty()) {
    auto [count, key] = heap.top();
    heap.pop();
    auto it = pair_count.find(key);
    if (it == pair_count.end() || it->second != count || count <= 0) continue;  // stale
    if (t.merges_.size() % 256 == 0) check_interrupt();
    const int32_t a = int32_t(key >> 32), b = int32_t(key & 0xFFFFFFFFu);
    const int32_t made = int32_t(256 + t.merges_.size());
    t.merges_.push_back({a, b});
    std::vector<int32_t> list = std::move(where[key]);
    where.erase(key);
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    changed.clear();
    for (int32_t w : list) {
      std::vector<int32_t>& s = words[size_t(w)];
      bool present = false;
      for (size_t i = 0; i + 1 < s.size() && !present; ++i) present = s[i] == a && s[i + 1] == b;
      if (!present) continue;
      const int64_t f = freq[size_t(w)];
      for (size_t i = 0; i + 1 < s.size(); ++i) changed[pair_key(s[i], s[i + 1])] -= f;
      std::vector<int32_t> merged;
      merged.reserve(s.size());
      for (size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          merged.push_back(made);
          ++i;
        } else {
          merged.push_back(s[i]);
        }
      }
      s.swap(merged);
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        uint64_t k = pair_key(s[i], s[i + 1]);
        changed[k] += f;
        if (s[i] == made || s[i + 1] == made) where[k].push_back(w);
      }
    }
    for (const auto& [k, delta] : changed) {
      if (delta == 0) continue;
      int64_t& c = pair_count[k];
      c += delta;
      if (c > 0) heap.push({c, k});
      else pair_count.erase(k);
    }
    pair_count.erase(key);
  }
  t.Build();
  return t;
}

void BpeTokenizer::EncodeChunk(const std::string& chunk, std::vector<int32_t>& out) const {
  auto hit = cache_.find(chunk);
  if (hit != cache_.end()) {
    out.insert(out.end(), hit->second.begin(), hit->second.end());
    return;
  }
  std::vector<int32_t> s;
  for (unsigned char c : chunk) s.push_back(c);
  for (;;) {
    int32_t best = INT32_MAX;
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      auto r = ranks_.find(pair_key(s[i], s[i + 1]));
      if (r != ranks_.end()) best = std::min(best, r->second);
    }
    if (best == INT32_MAX) break;
    const auto [a, b] = merges_[size_t(best)];
    std::vector<int32_t> merged;
    merged.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
        merged.push_back(256 + best);
        ++i;
      } else {
        merged.push_back(s[i]);
      }
    }
    s.swap(merged);
  }
  out.insert(out.end(), s.begin(), s.end());
  if (cache_.size() < (size_t{1} << 20)) cache_.emplace(chunk, std::move(s));
}

void BpeTokenizer::Encode(const std::string& text, std::vector<int32_t>& out) const {
  for_each_chunk(text, [&](size_t at, size_t n) { EncodeChunk(text.substr(at, n), out); });
}

std::vector<int32_t> BpeTokenizer::Encode(const std::string& text) const {
  std::vector<int32_t> out;
  Encode(text, out);
  return out;
}

std::string BpeTokenizer::Decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab())
      fail("bpe: token ", i, " is ", ids[i], ", outside the vocabulary [0, ", vocab(), ")");
    out += bytes_[size_t(ids[i])];
  }
  return out;
}

void BpeTokenizer::Save(const std::string& path) {
  std::string temp = str(path, ".tmp.", ::getpid());
  {
    std::ofstream out(temp, std::ios::binary);
    if (!out) fail("bpe: cannot write '", temp, "': ", errno_text());
    out << "scalelab-bpe v1\nvocab " << vocab() << "\nmerges " << merges_.size() << "\n";
    for (auto [a, b] : merges_) out << a << ' ' << b << '\n';
    out.flush();
    if (!out) fail("bpe: cannot write '", temp, "'");
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::string why = errno_text();
    std::remove(temp.c_str());
    fail("bpe: cannot rename '", temp, "' onto '", path, "': ", why);
  }
  path_ = path;
}

BpeTokenizer BpeTokenizer::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("bpe: cannot read tokenizer file '", path, "': ", errno_text());
  std::string magic, version, word;
  int64_t vocab = 0, merges = 0;
  in >> magic >> version >> word >> vocab;
  if (magic != "scalelab-bpe" || version != "v1" || word != "vocab")
    fail("bpe: '", path, "' is not a scalelab BPE tokenizer file");
  in >> word >> merges;
  if (word != "merges" || merges != vocab - 256 || merges < 0)
    fail("bpe: tokenizer file '", path, "' is corrupted (vocab ", vocab, ", merges ", merges, ")");
  BpeTokenizer t;
  for (int64_t i = 0; i < merges; ++i) {
    int64_t a = -1, b = -1;
    in >> a >> b;
    if (!in || a < 0 || b < 0 || a >= 256 + i || b >= 256 + i)
      fail("bpe: tokenizer file '", path, "' is corrupted at merge ", i);
    t.merges_.push_back({int32_t(a), int32_t(b)});
  }
  t.Build();
  t.path_ = path;
  return t;
}

std::string BpeTokenizer::Summary() const {
  return str("BPE tokenizer: vocab ", vocab(), " (256 bytes + ", merges_.size(), " merges)",
             path_.empty() ? std::string() : "; file " + path_);
}

void BpeOptions::Validate() const {
  if (vocab <= 256) fail("data.bpe: vocab must be larger than the 256 bytes (got ", vocab, ")");
  if (vocab > 65536 * 16) fail("data.bpe: vocab must be at most 1048576 (got ", vocab, ")");
  if (max_train_bytes < 1) fail("data.bpe: max_train_bytes must be positive (got ", max_train_bytes, ")");
  // Was Split::Make's "validation must be a fraction of documents in [0, 1) (got 1)", naming neither
  // data.bpe nor the option (and only after the source was read); NaN passed on to the split.
  if (!(validation >= 0 && validation < 1))
    fail("data.bpe: validation must be a fraction of documents in [0, 1) (got ", validation,
         "): the share of the corpus's documents the tokenizer never sees, as the samplers' validation holds out "
         "(0.01, the default, holds out 1%); give 0 to train on every document");
}

namespace {
std::string without_extension(const std::string& path) {
  size_t slash = path.rfind('/'), dot = path.rfind('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) return path.substr(0, dot);
  return path;
}
std::string folder_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : slash == 0 ? "/" : path.substr(0, slash);
}
std::string file_name_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
}  // namespace

namespace {
// What a BPE corpus is made from: every input its tokens depend on, as metadata "extra" entries.
// A BPE corpus file is reused only when all of them match.
std::vector<std::pair<std::string, std::string>> bpe_inputs(const Corpus& source, const BpeOptions& options) {
  char crc[16], validation[32];
  std::snprintf(crc, sizeof crc, "%08x", unsigned(source.checksum()));
  std::snprintf(validation, sizeof validation, "%.15g", options.validation);  // exact, and 0.1 reads "0.1"
  if (std::strtod(validation, nullptr) != options.validation)
    std::snprintf(validation, sizeof validation, "%.17g", options.validation);
  return {{"bpe_source_name", source.metadata().name},
          {"bpe_source_checksum", crc},
          {"bpe_source_tokens", str(source.tokens())},
          {"bpe_source_documents", str(source.documents())},
          {"bpe_vocab_asked", str(options.vocab)},
          {"bpe_validation", validation},
          {"bpe_max_train_bytes", str(options.max_train_bytes)}};
}

// The reason an existing BPE corpus file cannot be reused for these inputs, or "" if it can.
std::string stale_reason(const Corpus& c, const std::vector<std::pair<std::string, std::string>>& inputs) {
  const auto& extra = c.metadata().extra;
  if (extra.count("bpe_source_checksum") == 0)
    return "it was made by an older scalelab that did not record the source's contents";
  std::string differ;
  for (const auto& [key, value] : inputs) {
    auto k = extra.find(key);
    std::string was = k == extra.end() ? "none" : k->second;
    if (was != value) differ += str(differ.empty() ? "" : ", ", key.substr(4), " ", was, " → ", value);
  }
  return differ.empty() ? "" : "it was made from other inputs (" + differ + ")";
}
}  // namespace

Corpus TrainBpeCorpus(const Corpus& source, const BpeOptions& options, std::vector<std::string>* notes) {
  options.Validate();
  const CorpusMetadata& sm = source.metadata();
  if (sm.tokenizer != "bytes" || source.vocab() != 256)
    fail("data.bpe: corpus ", sm.name, " has tokenizer \"", sm.tokenizer, "\" and vocab ", source.vocab(),
         "; a BPE trains on a byte-level corpus (data.corpus \"gcide\", data.files{...})");
  std::string out = options.out;
  if (out.empty()) {
    std::string base = source.path().empty() ? cache_dir() + "/corpora/" + safe_file_name(sm.name) : without_extension(source.path());
    out = str(base, ".bpe", options.vocab, ".tok");
  }
  if (struct stat out_st, source_st; !source.path().empty() && ::stat(out.c_str(), &out_st) == 0 &&
      ::stat(source.path().c_str(), &source_st) == 0 && out_st.st_dev == source_st.st_dev && out_st.st_ino == source_st.st_ino)
    fail("data.bpe: out = '", out, "' is the source corpus's own file, and writing the BPE corpus there would replace "
         "it; give out = another path (or leave it out: '", without_extension(out), ".bpe", options.vocab, ".tok')");
  const auto inputs = bpe_inputs(source, options);
  // The tokenizer's file is named by its inputs: a retrain at the same out writes a new one beside
  // the old, so a corpus object still open on the old file keeps decoding its own tokens.
  uint64_t key = 1469598103934665603ull;  // FNV-1a over the inputs
  for (const auto& [name, value] : inputs)
    for (const char ch : name + "=" + value + ";") key = (key ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
  char key_text[9];
  std::snprintf(key_text, sizeof key_text, "%08x", static_cast<unsigned>(key ^ (key >> 32)));
  const std::string tokenizer_path = without_extension(out) + "." + key_text + ".tokenizer";
  auto note = [&](const std::string& text) {
    if (notes) notes->push_back(text);
  };
  if (std::ifstream(out).good()) {
    std::string why;
    try {
      Corpus c = Corpus::Open(out);
      why = stale_reason(c, inputs);
      if (why.empty()) {
        auto tokenizer = CorpusTokenizer(c);
        if (tokenizer && tokenizer->vocab() == c.vocab()) return c;
        why = str("its tokenizer file does not match it (vocab ", tokenizer ? tokenizer->vocab() : 0, ", corpus vocab ", c.vocab(), ")");
      }
    } catch (const Error& e) {
      why = str("it could not be used: ", e.what());
    }
    note(str("'", out, "' is not the BPE corpus asked for: ", why, "; training again and overwriting it"));
  }
  Split split = Split::Make(source, options.validation);
  std::vector<std::string> texts;
  int64_t budget = options.max_train_bytes;
  for (int64_t d : split.train) {
    if (budget <= 0) break;
    int64_t n = std::min(source.document_end(d) - source.document_begin(d), budget);
    std::vector<int32_t> ids = source.Tokens(source.document_begin(d), n);
    texts.emplace_back(ids.begin(), ids.end());
    budget -= n;
  }
  int64_t train_bytes = 0;
  for (const auto& t : texts) train_bytes += int64_t(t.size());
  const int64_t train_documents = int64_t(texts.size());
  const bool cut = train_bytes < split.train_tokens;
  BpeTokenizer tokenizer = BpeTokenizer::Train(texts, options.vocab);
  texts.clear();
  size_t slash = tokenizer_path.rfind('/');
  if (slash != std::string::npos) make_dirs(tokenizer_path.substr(0, slash));
  tokenizer.Save(tokenizer_path);

  CorpusMetadata m;
  m.name = str(sm.name, "-bpe", options.vocab);
  // Named from the corpus file's folder (both are in it), so the corpus decodes from any folder.
  m.tokenizer = "bpe:" + file_name_of(tokenizer_path);
  // Training stops early when every chunk of the training text is one token: the corpus's vocab is
  // the tokenizer's (models are sized from it), and the description says why it is not the one asked.
  const int64_t vocab = tokenizer.vocab();
  std::string stopped;
  if (vocab < options.vocab) {
    stopped = str("the tokenizer stopped at vocab ", vocab, " of the ", options.vocab, " asked: its training text (",
                  format_bytes(double(train_bytes)), " of ", format_counted(double(train_documents), "training document"),
                  cut ? ", cut at max_train_bytes" : "", ") has no more pairs to merge");
    note(str(stopped, "; corpus.vocab is ", vocab, ". For a larger vocabulary, give more text",
             cut ? " or a larger max_train_bytes" : ""));
  }
  m.source = str("BPE (vocab ", vocab, ", trained on the training split", stopped.empty() ? "" : "; " + stopped, ") of ",
                 sm.source.empty() ? sm.name : sm.source);
  m.license = sm.license;
  for (const auto& [key, value] : inputs) m.extra[key] = value;
  CorpusWriter writer(vocab, m, out);
  std::vector<int32_t> ids;
  for (int64_t d = 0; d < source.documents(); ++d) {
    if ((d & 0x3FF) == 0) check_interrupt();
    std::vector<int32_t> bytes = source.Tokens(source.document_begin(d), source.document_end(d) - source.document_begin(d));
    ids.clear();
    tokenizer.Encode(std::string(bytes.begin(), bytes.end()), ids);
    writer.AddDocument(ids, str("document ", d));
  }
  SCALELAB_CHECK(writer.documents() == source.documents());
  return writer.Finish();
}

std::string CorpusTokenizerFile(const Corpus& corpus) {
  const std::string& t = corpus.metadata().tokenizer;
  if (t.compare(0, 4, "bpe:") != 0) return "";
  const std::string file = t.substr(4);
  if (file.empty() || file[0] == '/' || corpus.path().empty()) return file;
  const std::string folder = folder_of(corpus.path());
  const std::string beside = folder.empty() ? file : folder + "/" + file;
  if (is_file(beside)) return beside;
  // Corpora made before the tokenizer was named from the corpus's folder named it from the folder
  // data.bpe ran in: still readable from there.
  if (is_file(file)) return file;
  fail("corpus ", corpus.metadata().name, " ('", corpus.path(), "') is encoded with the BPE tokenizer file '", file,
       "', which is neither beside it ('", beside, "') nor in the current folder: put the tokenizer file beside "
       "the corpus file, or make the corpus again with data.bpe");
}

std::shared_ptr<const BpeTokenizer> CorpusTokenizer(const Corpus& corpus) {
  const std::string file = CorpusTokenizerFile(corpus);
  if (file.empty() && corpus.metadata().tokenizer.compare(0, 4, "bpe:") != 0) return nullptr;
  // Loaded once a thread while the file is the same (its device, inode, size and modification time):
  // corpus:text(i), decode and encode each read and parsed the whole tokenizer file again (1 ms a call
  // at vocab 8000, 45 times the decoding). A thread's own copy: encoding fills the tokenizer's cache.
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) return std::make_shared<const BpeTokenizer>(BpeTokenizer::Load(file));
  struct Loaded {
    std::string file;
    dev_t device;
    ino_t inode;
    off_t size;
    int64_t modified;
    std::shared_ptr<const BpeTokenizer> tokenizer;
  };
  thread_local std::vector<Loaded> loaded;
  const int64_t modified = int64_t(st.st_mtim.tv_sec) * 1000000000 + int64_t(st.st_mtim.tv_nsec);
  for (const Loaded& l : loaded)
    if (l.file == file && l.device == st.st_dev && l.inode == st.st_ino && l.size == st.st_size && l.modified == modified)
      return l.tokenizer;
  auto tokenizer = std::make_shared<const BpeTokenizer>(BpeTokenizer::Load(file));
  if (loaded.size() >= 8) loaded.erase(loaded.begin());  // the oldest: a few tokenizers in use at once
  loaded.push_back({file, st.st_dev, st.st_ino, st.st_size, modified, tokenizer});
  return tokenizer;
}

BatchSource::Vocabulary CorpusVocabulary(const Corpus& corpus) {
  BatchSource::Vocabulary v;
  const CorpusMetadata& m = corpus.metadata();
  v.data = str("corpus ", m.name.empty() ? std::string("(unnamed)") : m.name);
  v.tokenizer = m.tokenizer;
  if (m.tokenizer == "bytes" || m.tokenizer == "gpt2" || m.tokenizer == "llama3") {
    v.identity = m.tokenizer;  // the same ids whatever the vocab (GPT-2's padded to 50304 is GPT-2's)
  } else if (m.tokenizer == "synthetic") {
    v.identity = str("synthetic of vocab ", corpus.vocab());  // ids of as many symbols
  } else if (m.tokenizer.compare(0, 4, "bpe:") == 0) {
    try {
      const auto bpe = CorpusTokenizer(corpus);
      uint64_t h = mix64(uint64_t(bpe->vocab()));
      for (const auto& [a, b] : bpe->merges()) h = mix64(h ^ (uint64_t(uint32_t(a)) << 32 | uint32_t(b)));
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
      v.identity = str("bpe ", hex);
    } catch (const Error&) {
      // its file not found: what the ids are cannot be told
    }
  }
  return v;
}

std::string DecodeTokens(const Corpus& corpus, const std::vector<int32_t>& ids) {
  const std::string& t = corpus.metadata().tokenizer;
  if (t == "bytes") {
    std::string out;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || ids[i] > 255) fail("decode: token ", i, " is ", ids[i], ", not a byte");
      out += char(ids[i]);
    }
    return out;
  }
  if (auto bpe = CorpusTokenizer(corpus)) return bpe->Decode(ids);
  // Was without a word of what can be read instead: corpus:text(i) of a synthetic corpus is a dead end.
  fail("corpus ", corpus.metadata().name, " has tokenizer \"", t, "\", which scalelab cannot decode to text (only bytes "
       "and BPE); its token ids are what it holds: corpus:document(i) and corpus:read(first, count) give them");
}

std::vector<int32_t> EncodeText(const Corpus& corpus, const std::string& text) {
  const std::string& t = corpus.metadata().tokenizer;
  if (t == "bytes") {
    std::vector<int32_t> ids;
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  }
  if (auto bpe = CorpusTokenizer(corpus)) return bpe->Encode(text);
  fail("corpus ", corpus.metadata().name, " has tokenizer \"", t, "\", which scalelab cannot encode with (only bytes and BPE)");
}

}  // namespace scalelab::data
