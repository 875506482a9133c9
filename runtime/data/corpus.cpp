#include "data/corpus.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <numeric>
#include <sstream>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/units.h"
#include "data/bpe.h"
#include "data/rng.h"

namespace scalelab::data {

namespace {

constexpr char kMagic[8] = {'S', 'C', 'L', 'C', 'O', 'R', 'P', '1'};
constexpr uint32_t kVersion = 2;
constexpr int64_t kHeaderBytes = 128;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t token_bytes;
  int64_t vocab;
  int64_t tokens;
  int64_t documents;
  int64_t meta_offset;
  int64_t meta_bytes;
  int64_t starts_offset;
  int64_t tokens_offset;
  uint32_t data_crc;
  uint8_t reserved[kHeaderBytes - 8 - 4 - 4 - 7 * 8 - 4 - 4];
  uint32_t header_crc;  // CRC-32 of the 124 bytes before it
};
static_assert(sizeof(Header) == kHeaderBytes, "header layout");

int64_t align64(int64_t x) { return (x + 63) / 64 * 64; }

// Sections in file order: header, tokens (at 128, so aligned for every width), document starts
// (64-aligned), metadata. Tokens come first so a writer can stream them.
Header make_header(int64_t vocab, int width, int64_t tokens, int64_t documents, int64_t meta_bytes) {
  Header h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.token_bytes = static_cast<uint32_t>(width);
  h.vocab = vocab;
  h.tokens = tokens;
  h.documents = documents;
  h.tokens_offset = kHeaderBytes;
  h.starts_offset = align64(h.tokens_offset + tokens * width);
  h.meta_offset = h.starts_offset + (documents + 1) * 8;
  h.meta_bytes = meta_bytes;
  return h;
}

uint32_t crc(uint32_t running, const void* data, int64_t bytes) {
  return static_cast<uint32_t>(crc32_z(running, static_cast<const Bytef*>(data), static_cast<z_size_t>(bytes)));
}

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string unescape(const std::string& value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) {
      ++i;
      out += value[i] == 'n' ? '\n' : value[i];
    } else {
      out += value[i];
    }
  }
  return out;
}

std::string encode_metadata(const CorpusMetadata& m) {
  std::ostringstream out;
  out.precision(17);
  auto line = [&](const std::string& key, const std::string& value) {
    out << key << '=' << escape(value) << '\n';
  };
  line("name", m.name);
  line("source", m.source);
  line("tokenizer", m.tokenizer);
  line("license", m.license);
  if (!std::isnan(m.entropy_per_token)) {
    std::ostringstream number;
    number.precision(17);
    number << m.entropy_per_token;
    line("entropy_per_token", number.str());
  }
  for (const auto& [key, value] : m.extra) line(key, value);
  return out.str();
}

CorpusMetadata decode_metadata(const std::string& text) {
  CorpusMetadata m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = unescape(line.substr(eq + 1));
    if (key == "name") m.name = value;
    else if (key == "source") m.source = value;
    else if (key == "tokenizer") m.tokenizer = value;
    else if (key == "license") m.license = value;
    else if (key == "entropy_per_token") m.entropy_per_token = std::strtod(value.c_str(), nullptr);
    else m.extra[key] = value;
  }
  return m;
}

template <class T>
void widen(const T* in, int64_t count, int32_t* out) {
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<int32_t>(in[i]);
}

template <class T>
int64_t first_out_of_vocab(const T* tokens, int64_t count, int64_t vocab) {
  // Branch-free max in blocks, then locate the culprit only if there is one.
  const int64_t block = 1 << 16;
  for (int64_t b = 0; b < count; b += block) {
    int64_t n = std::min(block, count - b);
    T largest = 0;
    for (int64_t i = 0; i < n; ++i) largest = tokens[b + i] > largest ? tokens[b + i] : largest;
    if (static_cast<int64_t>(largest) >= vocab) {
      for (int64_t i = 0; i < n; ++i)
        if (static_cast<int64_t>(tokens[b + i]) >= vocab) return b + i;
    }
  }
  return -1;
}

int64_t out_of_vocab(const void* tokens, int width, int64_t count, int64_t vocab) {
  switch (width) {
    case 1: return first_out_of_vocab(static_cast<const uint8_t*>(tokens), count, vocab);
    case 2: return first_out_of_vocab(static_cast<const uint16_t*>(tokens), count, vocab);
    default: return first_out_of_vocab(static_cast<const uint32_t*>(tokens), count, vocab);
  }
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

int token_bytes_for_vocab(int64_t vocab) {
  if (vocab <= 0) fail("vocabulary size must be positive (got ", vocab, ")");
  if (vocab <= 256) return 1;
  if (vocab <= 65536) return 2;
  if (vocab <= (int64_t{1} << 31)) return 4;
  fail("vocabulary size ", vocab, " is beyond 2^31 token ids");
}

struct Corpus::Storage {
  int64_t vocab = 0;
  int64_t tokens = 0;
  int64_t documents = 0;
  int width = 1;
  CorpusMetadata metadata;
  std::string path;
  // Mapped file, or owned memory.
  void* map = nullptr;
  size_t map_bytes = 0;
  std::vector<uint8_t> owned_tokens;
  std::vector<int64_t> owned_starts;
  const void* token_data = nullptr;
  const int64_t* starts = nullptr;
  // Corpus::checksum(), set once.
  mutable std::once_flag checksum_once;
  mutable uint32_t checksum = 0;
  // Corpus::copies(), set once.
  mutable std::once_flag copies_once;
  mutable Corpus::Copies copies;

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (map) munmap(map, map_bytes);
  }
};

Corpus::Corpus(std::shared_ptr<const Storage> storage)
    : storage_(std::move(storage)),
      tokens_(storage_->token_data),
      starts_(storage_->starts),
      width_(storage_->width) {}

int64_t Corpus::vocab() const { return storage_->vocab; }
int64_t Corpus::tokens() const { return storage_->tokens; }
int64_t Corpus::documents() const { return storage_->documents; }
int Corpus::token_bytes() const { return width_; }
const CorpusMetadata& Corpus::metadata() const { return storage_->metadata; }
const std::string& Corpus::path() const { return storage_->path; }

uint32_t Corpus::checksum() const {
  std::call_once(storage_->checksum_once, [this] {
    const uint32_t c = crc(0, starts_, (documents() + 1) * 8);
    storage_->checksum = crc(c, tokens_, tokens() * width_);
  });
  return storage_->checksum;
}

const Corpus::Copies& Corpus::copies() const {
  std::call_once(storage_->copies_once, [this] {
    Copies& out = storage_->copies;
    out = Copies{};  // a pass that Ctrl-C stopped left a part, and call_once runs it again
    const int64_t n = documents();
    // Only documents of a length that another shares can be copies: order them by length, then by
    // a hash of their bytes, so that copies are neighbours; tokens are compared to tell them apart.
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    auto length = [&](int64_t d) { return starts_[d + 1] - starts_[d]; };
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return length(a) < length(b); });
    const auto* bytes = static_cast<const unsigned char*>(tokens_);
    auto same = [&](int64_t a, int64_t b) {
      return std::memcmp(bytes + starts_[a] * width_, bytes + starts_[b] * width_, size_t(length(a) * width_)) == 0;
    };
    std::vector<std::pair<uint64_t, int64_t>> run;  // (hash, document) of one length
    for (size_t i = 0; i < order.size();) {
      size_t j = i + 1;
      while (j < order.size() && length(order[j]) == length(order[i])) ++j;
      if (j - i >= 2) {
        run.clear();
        for (size_t k = i; k < j; ++k) {
          if ((k & 0xFFF) == 0) check_interrupt();
          const int64_t d = order[k];
          const unsigned char* p = bytes + starts_[d] * width_;
          const size_t size = size_t(length(d) * width_);
          uint64_t h = mix64(size);
          size_t at = 0;
          for (; at + 8 <= size; at += 8) {
            uint64_t word;
            std::memcpy(&word, p + at, 8);
            h = mix64(h ^ word);
          }
          uint64_t tail = 0;
          std::memcpy(&tail, p + at, size - at);
          run.push_back({mix64(h ^ tail), d});
        }
        std::sort(run.begin(), run.end());
        for (size_t a = 0; a < run.size();) {
          size_t b = a + 1;
          while (b < run.size() && run[b].first == run[a].first) ++b;
          // Documents of one hash: each joins the first earlier one of its tokens (a collision of
          // two texts stays two groups).
          std::vector<std::vector<int64_t>> texts;
          for (size_t k = a; k < b; ++k) {
            const int64_t d = run[k].second;
            auto it = std::find_if(texts.begin(), texts.end(), [&](const std::vector<int64_t>& t) { return same(t[0], d); });
            if (it == texts.end()) texts.push_back({d});
            else it->push_back(d);
          }
          for (auto& t : texts)
            if (t.size() >= 2) out.members.push_back(std::move(t));
          a = b;
        }
      }
      i = j;
    }
    if (out.members.empty()) return;
    std::sort(out.members.begin(), out.members.end());  // members ascending (by document): groups by their first
    out.group.assign(size_t(n), -1);
    for (size_t g = 0; g < out.members.size(); ++g) {
      for (const int64_t d : out.members[g]) out.group[size_t(d)] = int64_t(g);
      out.copies += int64_t(out.members[g].size()) - 1;
    }
  });
  return storage_->copies;
}

int32_t Corpus::token(int64_t i) const {
  switch (width_) {
    case 1: return static_cast<const uint8_t*>(tokens_)[i];
    case 2: return static_cast<const uint16_t*>(tokens_)[i];
    default: return static_cast<int32_t>(static_cast<const uint32_t*>(tokens_)[i]);
  }
}

void Corpus::CopyTokens(int64_t begin, int64_t count, int32_t* out) const {
  switch (width_) {
    case 1: widen(static_cast<const uint8_t*>(tokens_) + begin, count, out); break;
    case 2: widen(static_cast<const uint16_t*>(tokens_) + begin, count, out); break;
    default: widen(static_cast<const uint32_t*>(tokens_) + begin, count, out); break;
  }
}

std::vector<int32_t> Corpus::Tokens(int64_t begin, int64_t count) const {
  if (begin < 0 || count < 0 || begin + count > tokens())
    fail("tokens [", begin, ", ", begin + count, ") are outside the corpus's ", tokens(), " tokens");
  std::vector<int32_t> out(static_cast<size_t>(count));
  CopyTokens(begin, count, out.data());
  return out;
}

std::string Corpus::Summary() const {
  if (empty()) return "corpus (empty)";
  const CorpusMetadata& m = metadata();
  std::string text = str("corpus ", m.name.empty() ? "(unnamed)" : m.name, ": ", format_count(double(tokens())),
                         " tokens in ", format_counted(double(documents()), "document"), ", vocab ", vocab());
  if (!m.tokenizer.empty()) text += str(" (", m.tokenizer, ")");
  if (!std::isnan(m.entropy_per_token))
    text += str(", entropy ", format_significant(m.entropy_per_token, 5), " nats/token");
  if (!m.source.empty()) text += str("; source: ", m.source);
  if (!m.license.empty()) text += str("; license: ", m.license);
  if (!path().empty()) text += str("; file ", path());
  return text;
}

void Corpus::Save(const std::string& path) const {
  CorpusMetadata m = metadata();
  // A BPE tokenizer named from this corpus file's folder: saved elsewhere, name it by its absolute
  // path so the new file still finds it.
  auto folder = [](const std::string& p) { size_t s = p.rfind('/'); return s == std::string::npos ? std::string() : p.substr(0, s); };
  if (m.tokenizer.compare(0, 4, "bpe:") == 0 && m.tokenizer.compare(4, 1, "/") != 0 && !this->path().empty() &&
      folder(path) != folder(this->path())) {
    std::string file;
    try {
      file = CorpusTokenizerFile(*this);
    } catch (const Error&) {
      // not found: saved as it is, and the copy reports it when decoding, as this corpus does
    }
    if (char* absolute = file.empty() ? nullptr : ::realpath(file.c_str(), nullptr)) {
      m.tokenizer = str("bpe:", absolute);
      std::free(absolute);
    }
  }
  WriteCorpusFile(path, vocab(), width_, m, tokens_, tokens(), starts_, documents());
}

Corpus Corpus::Open(const std::string& path, const OpenOptions& options) {
  // O_NONBLOCK: opening a named pipe waited for a writer that never came (a hang); for a file it is nothing.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail("cannot open corpus file '", path, "': ", errno_text());
  struct stat st;
  if (fstat(fd, &st) != 0) {
    std::string why = errno_text();
    ::close(fd);
    fail("cannot read corpus file '", path, "': ", why);
  }
  // A folder was "cannot map corpus file: No such device".
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("'", path, "' is ", S_ISDIR(st.st_mode) ? "a folder" : "not a regular file", ", not a corpus file; give the path of a "
         "corpus file (one that data.files, data.tokens_bin, data.synthetic{ out = }, data.bpe or corpus:save wrote)");
  }
  const int64_t size = st.st_size;
  if (size < kHeaderBytes) {
    ::close(fd);
    // A short text (a file of notes given as a corpus) was told only its size, not how to read it.
    fail("'", path, "' is not a scalelab corpus: ", size, " bytes, shorter than the ", kHeaderBytes,
         "-byte header; import text with data.files, llm.c shards with data.tokens_bin");
  }
  void* map = mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
  std::string map_error = map == MAP_FAILED ? errno_text() : "";
  ::close(fd);
  if (map == MAP_FAILED) fail("cannot map corpus file '", path, "': ", map_error);

  auto storage = std::make_shared<Storage>();
  storage->map = map;
  storage->map_bytes = static_cast<size_t>(size);
  storage->path = path;
  const auto* base = static_cast<const uint8_t*>(map);
  Header h;
  std::memcpy(&h, base, sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0)
    fail("'", path, "' is not a scalelab corpus (wrong magic bytes); import text with data.files, "
         "llm.c shards with data.tokens_bin");
  if (crc(0, &h, kHeaderBytes - 4) != h.header_crc)
    fail("corpus file '", path, "' has a corrupted header (header checksum mismatch); prepare it again");
  if (h.version != kVersion)
    fail("corpus file '", path, "' has format version ", h.version, "; this scalelab reads version ", kVersion);
  if (h.token_bytes != 1 && h.token_bytes != 2 && h.token_bytes != 4)
    fail("corpus file '", path, "' has a corrupted header (token width ", h.token_bytes, ")");
  if (h.vocab <= 0 || h.tokens < 0 || h.documents < 0 ||
      token_bytes_for_vocab(h.vocab) != static_cast<int>(h.token_bytes) || h.tokens_offset != kHeaderBytes ||
      h.starts_offset % 8 != 0 || h.starts_offset < h.tokens_offset + h.tokens * int64_t(h.token_bytes) ||
      h.meta_offset < h.starts_offset + (h.documents + 1) * 8 || h.meta_bytes < 0 ||
      h.meta_offset + h.meta_bytes != size)
    fail("corpus file '", path, "' has a corrupted header or is truncated (", size,
         " bytes on disk for ", h.tokens, " tokens of ", h.token_bytes, " bytes)");
  storage->vocab = h.vocab;
  storage->tokens = h.tokens;
  storage->documents = h.documents;
  storage->width = static_cast<int>(h.token_bytes);
  storage->metadata = decode_metadata(
      std::string(reinterpret_cast<const char*>(base + h.meta_offset), static_cast<size_t>(h.meta_bytes)));
  storage->starts = reinterpret_cast<const int64_t*>(base + h.starts_offset);
  storage->token_data = base + h.tokens_offset;

  const int64_t* starts = storage->starts;
  bool ok = starts[0] == 0 && starts[h.documents] == h.tokens;
  for (int64_t i = 0; ok && i < h.documents; ++i) ok = starts[i] < starts[i + 1];
  if (!ok) fail("corpus file '", path, "' has a corrupted document table; prepare it again");

  if (options.verify) {
    // The data CRC is of metadata ‖ starts ‖ tokens; the part after the metadata is checksum()'s.
    const int64_t content_bytes = (h.documents + 1) * 8 + h.tokens * h.token_bytes;
    uint32_t content = crc(0, starts, (h.documents + 1) * 8);
    content = crc(content, storage->token_data, h.tokens * h.token_bytes);
    const uint32_t c = static_cast<uint32_t>(
        crc32_combine(crc(0, base + h.meta_offset, h.meta_bytes), content, static_cast<z_off_t>(content_bytes)));
    std::call_once(storage->checksum_once, [&] { storage->checksum = content; });
    if (c != h.data_crc)
      fail("corpus file '", path, "' is corrupted (data checksum mismatch); prepare it again");
    int64_t bad = out_of_vocab(storage->token_data, storage->width, h.tokens, h.vocab);
    if (bad >= 0) {
      Corpus view(storage);
      fail("corpus file '", path, "': token ", bad, " is ", view.token(bad), ", beyond the vocabulary of ",
           h.vocab);
    }
  }
  return Corpus(std::move(storage));
}

bool has_corpus_magic(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char magic[sizeof kMagic];
  const bool same = std::fread(magic, 1, sizeof magic, f) == sizeof magic && std::memcmp(magic, kMagic, sizeof magic) == 0;
  std::fclose(f);
  return same;
}

std::string safe_file_name(const std::string& name) {
  std::string out = name.empty() ? std::string("corpus") : name;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  if (out[0] == '.') out[0] = '_';
  return out;
}

void make_dirs(const std::string& dir) {
  if (dir.empty()) return;
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
      fail("cannot create folder '", partial, "': ", errno_text());
  }
}

std::string cache_dir() {
  if (const char* c = std::getenv("SCALELAB_CACHE"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/scalelab";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/scalelab";
  fail("no cache folder: set SCALELAB_CACHE (or XDG_CACHE_HOME or HOME)");
}

namespace {

std::string temp_name(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos) make_dirs(path.substr(0, slash));
  return str(path, ".tmp.", ::getpid());
}

// Writes the sections after the tokens and the header, closes and renames. Removes the temp file
// and throws on failure.
void finish_file(FILE* f, const std::string& temp, const std::string& path, Header h, const std::string& meta,
                 const int64_t* starts, uint32_t tokens_crc) {
  static const char zeros[64] = {};
  const int64_t at = h.tokens_offset + h.tokens * int64_t(h.token_bytes);
  const int64_t starts_bytes = (h.documents + 1) * 8;
  bool ok = std::fwrite(zeros, 1, size_t(h.starts_offset - at), f) == size_t(h.starts_offset - at);
  ok = ok && std::fwrite(starts, 8, size_t(h.documents + 1), f) == size_t(h.documents + 1);
  ok = ok && std::fwrite(meta.data(), 1, meta.size(), f) == meta.size();
  // CRC of metadata ‖ starts ‖ tokens.
  uint32_t c = crc(0, meta.data(), int64_t(meta.size()));
  c = crc(c, starts, starts_bytes);
  h.data_crc = static_cast<uint32_t>(crc32_combine(c, tokens_crc, static_cast<z_off_t>(h.tokens * int64_t(h.token_bytes))));
  h.header_crc = crc(0, &h, kHeaderBytes - 4);
  ok = ok && std::fseek(f, 0, SEEK_SET) == 0 && std::fwrite(&h, sizeof h, 1, f) == 1;
  ok = std::fflush(f) == 0 && ok;
  std::string why = errno_text();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    std::remove(temp.c_str());
    fail("cannot write corpus file '", temp, "': ", why);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    why = errno_text();
    std::remove(temp.c_str());
    fail("cannot rename '", temp, "' onto '", path, "': ", why);
  }
}

FILE* open_temp(const std::string& temp) {
  FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) fail("cannot write corpus file '", temp, "': ", errno_text());
  Header placeholder;
  std::memset(&placeholder, 0, sizeof placeholder);  // no magic until the end: never looks valid
  if (std::fwrite(&placeholder, sizeof placeholder, 1, f) != 1) {
    std::string why = errno_text();
    std::fclose(f);
    std::remove(temp.c_str());
    fail("cannot write corpus file '", temp, "': ", why);
  }
  return f;
}

}  // namespace

void WriteCorpusFile(const std::string& path, int64_t vocab, int width, const CorpusMetadata& metadata,
                     const void* tokens, int64_t tokens_count, const int64_t* starts, int64_t documents) {
  const std::string meta = encode_metadata(metadata);
  const std::string temp = temp_name(path);
  FILE* f = open_temp(temp);
  if (std::fwrite(tokens, size_t(width), size_t(tokens_count), f) != size_t(tokens_count)) {
    std::string why = errno_text();
    std::fclose(f);
    std::remove(temp.c_str());
    fail("cannot write corpus file '", temp, "': ", why);
  }
  finish_file(f, temp, path, make_header(vocab, width, tokens_count, documents, int64_t(meta.size())), meta, starts,
              crc(0, tokens, tokens_count * width));
}

// ---- CorpusWriter -------------------------------------------------------------------------------

CorpusWriter::CorpusWriter(int64_t vocab, CorpusMetadata metadata)
    : vocab_(vocab), width_(token_bytes_for_vocab(vocab)), metadata_(std::move(metadata)) {}

CorpusWriter::CorpusWriter(int64_t vocab, CorpusMetadata metadata, std::string path)
    : CorpusWriter(vocab, std::move(metadata)) {
  path_ = std::move(path);
  temp_ = temp_name(path_);
  file_ = open_temp(temp_);
}

CorpusWriter::~CorpusWriter() {
  if (file_) {  // never finished: leave nothing behind
    std::fclose(file_);
    std::remove(temp_.c_str());
  }
}

int64_t CorpusWriter::tokens() const { return flushed_ + static_cast<int64_t>(bytes_.size()) / width_; }

void CorpusWriter::Flush() {
  if (!file_ || bytes_.empty()) return;
  if (std::fwrite(bytes_.data(), 1, bytes_.size(), file_) != bytes_.size())
    fail("cannot write corpus file '", temp_, "': ", errno_text());
  tokens_crc_ = crc(tokens_crc_, bytes_.data(), int64_t(bytes_.size()));
  flushed_ += int64_t(bytes_.size()) / width_;
  bytes_.clear();
}

void CorpusWriter::Append(const int32_t* tokens, int64_t count, const std::string& what) {
  for (int64_t i = 0; i < count; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab_)
      fail(what, ": token ", i, " is ", tokens[i], ", outside the vocabulary [0, ", vocab_, ")");
  if (file_ && bytes_.size() >= (size_t{8} << 20)) Flush();
  size_t at = bytes_.size();
  bytes_.resize(at + size_t(count) * size_t(width_));
  uint8_t* out = bytes_.data() + at;
  for (int64_t i = 0; i < count; ++i) {
    uint32_t v = static_cast<uint32_t>(tokens[i]);
    if (width_ == 1) out[i] = static_cast<uint8_t>(v);
    else if (width_ == 2) { uint16_t x = static_cast<uint16_t>(v); std::memcpy(out + 2 * i, &x, 2); }
    else std::memcpy(out + 4 * i, &v, 4);
  }
}

void CorpusWriter::AddDocument(const int32_t* tokens, int64_t count, const std::string& what) {
  if (count <= 0) return;
  Append(tokens, count, what);
  starts_.push_back(this->tokens());
}

void CorpusWriter::ExtendDocument(const int32_t* tokens, int64_t count, const std::string& what) {
  if (count <= 0) return;
  if (documents() == 0) return AddDocument(tokens, count, what);
  Append(tokens, count, what);
  starts_.back() = this->tokens();
}

void CorpusWriter::AddBytes(std::string_view text) {
  if (text.empty()) return;
  AppendBytes(text);
  starts_.push_back(tokens());
}

void CorpusWriter::ExtendBytes(std::string_view text) {
  if (text.empty()) return;
  if (documents() == 0) return AddBytes(text);
  AppendBytes(text);
  starts_.back() = tokens();
}

void CorpusWriter::AppendBytes(std::string_view text) {
  if (vocab_ < 256) fail("a byte-level document needs a vocabulary of at least 256 (this corpus has ", vocab_, ")");
  if (file_ && bytes_.size() >= (size_t{8} << 20)) Flush();
  size_t at = bytes_.size();
  bytes_.resize(at + text.size() * size_t(width_));
  for (size_t i = 0; i < text.size(); ++i) {
    uint32_t v = static_cast<unsigned char>(text[i]);
    if (width_ == 1) bytes_[at + i] = static_cast<uint8_t>(v);
    else if (width_ == 2) { uint16_t x = static_cast<uint16_t>(v); std::memcpy(&bytes_[at + 2 * i], &x, 2); }
    else std::memcpy(&bytes_[at + 4 * i], &v, 4);
  }
}

void CorpusWriter::CheckNotEmpty() const {
  if (tokens() == 0)
    fail("empty corpus", metadata_.source.empty() ? std::string() : ": " + metadata_.source,
         " has no tokens");
}

Corpus CorpusWriter::Finish() {
  CheckNotEmpty();
  if (file_) {
    Flush();
    const std::string meta = encode_metadata(metadata_);
    FILE* f = file_;
    file_ = nullptr;  // finish_file closes it (and removes the temp file on failure)
    finish_file(f, temp_, path_, make_header(vocab_, width_, flushed_, documents(), int64_t(meta.size())), meta,
                starts_.data(), tokens_crc_);
    starts_.assign(1, 0);
    return Corpus::Open(path_, OpenOptions{false});
  }
  auto storage = std::make_shared<Corpus::Storage>();
  storage->vocab = vocab_;
  storage->width = width_;
  storage->tokens = tokens();
  storage->documents = documents();
  storage->metadata = metadata_;
  storage->owned_tokens = std::move(bytes_);
  storage->owned_starts = std::move(starts_);
  storage->token_data = storage->owned_tokens.data();
  storage->starts = storage->owned_starts.data();
  bytes_.clear();
  starts_.assign(1, 0);
  return Corpus(std::move(storage));
}

Corpus CorpusWriter::Write(const std::string& path) {
  if (file_) fail("CorpusWriter::Write: this writer streams to '", path_, "'; call Finish()");
  CheckNotEmpty();
  WriteCorpusFile(path, vocab_, width_, metadata_, bytes_.data(), tokens(), starts_.data(), documents());
  bytes_.clear();
  starts_.assign(1, 0);
  return Corpus::Open(path, OpenOptions{false});
}

}  // namespace scalelab::data
