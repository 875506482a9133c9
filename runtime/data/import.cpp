#include "data/import.h"

#include <dirent.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/paths.h"
#include "core/units.h"
#include "data/rng.h"

namespace scalelab::data {

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string stem(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
  size_t dot = base.find('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

// The name of a corpus read from `path`: stem(path), but for "." or ".." (".", "books/..", "./*.txt"'s
// folder) the name of the folder it is, as for any other folder ("" for the root).
std::string corpus_name(const std::string& path) {
  const std::string name = stem(path);
  if (name != "." && name != "..") return name;
  std::error_code error;
  const std::filesystem::path real = std::filesystem::weakly_canonical(path, error);
  return error ? name : stem(real.string());
}

std::string hex(uint64_t x) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(x));
  return buffer;
}

// What a line may begin with and stay blank: spaces, tabs and CRs (a CRLF file's blank line is "\r").
constexpr std::string_view kLineBlanks = " \t\r";

// Hash of the inputs' names, sizes and modification times: the cache key of an import.
struct InputHash {
  uint64_t h = 0x1A2B3C4D;
  void add(const std::string& s) {
    for (char c : s) h = mix64(h ^ uint64_t(uint8_t(c)));
    h = mix64(h ^ 0xFF);
  }
  void add(uint64_t x) { h = mix64(h ^ x); }
  void add_file(const std::string& path, const struct stat& st) {
    add(path);
    add(uint64_t(st.st_size));
    add(uint64_t(st.st_mtim.tv_sec) * 1000000000ull + uint64_t(st.st_mtim.tv_nsec));
  }
};

struct stat stat_or_fail(const std::string& what, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    fail(what, ": cannot read '", path, "': ", std::strerror(error), missing_path_fix(path, error));
  }
  return st;
}

// Whether a file looks binary: a NUL byte in its first 8 KiB (as grep and git decide).
bool looks_binary(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;  // reading it fails later, with its reason
  char head[8192];
  const size_t n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  return std::memchr(head, '\0', n) != nullptr;
}

// The files at `path`: the file itself, or a folder's files, recursively in sorted order. A binary
// file found in a folder (an executable, a database, an image beside the text) goes to `binary`
// instead; one named itself is read as asked. What a folder holds that is no file to read, a link
// to nothing or a special file (a named pipe, a socket), goes to `others`; named itself it is an
// error (one in a folder failed the whole import). A folder already listed (reached again through
// a link, such as a link to its parent) is not listed again: `folders` holds those listed.
void list_files(const std::string& what, const std::string& path, std::vector<std::string>& out,
                std::vector<std::string>& binary, std::vector<std::string>& others,
                std::set<std::pair<dev_t, ino_t>>& folders, bool named = true) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    struct stat link;
    if (!named && error == ENOENT && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
      others.push_back(path);
      return;
    }
    fail(what, ": cannot read '", path, "': ", std::strerror(error), missing_path_fix(path, error));
  }
  if (S_ISREG(st.st_mode)) {
    if (!named && looks_binary(path)) binary.push_back(path);
    else out.push_back(path);
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (!named) {
      others.push_back(path);
      return;
    }
    fail(what, ": '", path, "' is neither a file nor a folder");
  }
  if (!folders.insert({st.st_dev, st.st_ino}).second) return;
  DIR* dir = ::opendir(path.c_str());
  if (!dir) fail(what, ": cannot read folder '", path, "': ", errno_text());
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  std::string prefix = path.back() == '/' ? path : path + "/";
  for (const auto& n : names) list_files(what, prefix + n, out, binary, others, folders, false);
}

// What a pattern ("books/*.txt") that is not itself a file's name matches, in sorted order; nothing
// (std::nullopt) for a path that is no pattern. Matching nothing is an error naming the pattern.
std::optional<std::vector<std::string>> pattern_matches(const std::string& what, const std::string& p) {
  struct stat st;
  if (p.find_first_of("*?[") == std::string::npos || ::stat(p.c_str(), &st) == 0) return std::nullopt;
  glob_t matches;
  // A folder of the pattern that is not there matches nothing; one that cannot be read is an error.
  const int status = ::glob(p.c_str(), 0, [](const char*, int error) { return error != ENOENT && error != ENOTDIR ? 1 : 0; },
                            &matches);
  std::vector<std::string> found;
  if (status == 0)
    for (size_t i = 0; i < matches.gl_pathc; ++i) found.push_back(matches.gl_pathv[i]);
  ::globfree(&matches);
  if (status == GLOB_NOMATCH || (status == 0 && found.empty()))
    fail(what, ": no file or folder matches '", p, "'; check the pattern, or name the files");
  if (status != 0) fail(what, ": cannot read the folders of the pattern '", p, "': ", errno_text());
  return found;
}

// Whether a name is empty or only spaces, tabs, CRs and newlines.
bool blank(const std::string& text) { return text.find_first_not_of(" \t\r\n") == std::string::npos; }

// A blank name (a variable left empty) was "cannot read '': No such file or directory", which named
// neither the entry nor that it was blank: refused as blank, by its place in the list.
void refuse_blank_names(const std::string& what, const std::vector<std::string>& paths, const std::string& kind) {
  for (size_t i = 0; i < paths.size(); ++i)
    if (blank(paths[i]))
      fail(what, ": path ", i + 1, " of ", paths.size(), " is blank (\"", paths[i], "\"); give the name of ", kind,
           paths.size() > 1 ? ", or leave it out of the list" : "");
}

// name = "  " (a variable of spaces) named the corpus "  " and its cache file "..-__-..."; "" is name = left out.
void refuse_blank_corpus_name(const std::string& what, const std::string& name) {
  if (!name.empty() && blank(name))
    fail(what, ": name = \"", name, "\" is blank; give the corpus a name, or leave name = out to name it after the first path");
}

// A cached corpus if it is there and valid; else an empty Corpus.
Corpus cached(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Corpus();
  try {
    return Corpus::Open(path);
  } catch (const Error&) {
    return Corpus();  // corrupted or stale: prepare again
  }
}

}  // namespace

// ---- text ---------------------------------------------------------------------------------------

void TextImportOptions::Validate() const {
  if (paths.empty()) fail("data.files: give at least one file or folder");
  refuse_blank_names("data.files", paths, "a file or folder");
  refuse_blank_corpus_name("data.files", name);
  // A near miss ("paragraphs", "lines") was refused without the name meant.
  if (documents != "file" && documents != "paragraph" && documents != "line") {
    const std::string meant = closest_name(documents, {"file", "paragraph", "line"});
    fail("data.files: documents must be \"file\", \"paragraph\" or \"line\" (got \"", documents, "\")",
         meant.empty() ? "" : "; did you mean \"" + meant + "\"?");
  }
}

Corpus ImportText(const TextImportOptions& options) {
  options.Validate();
  const std::string what = "data.files";
  std::vector<std::string> files, binary, others;
  std::set<std::pair<dev_t, ino_t>> folders;
  for (const auto& p : options.paths) {
    // A pattern ("books/*.txt"): the files and folders it matches; a binary file among them is left
    // out, as in a folder.
    if (std::optional<std::vector<std::string>> found = pattern_matches(what, p)) {
      for (const auto& f : *found) list_files(what, f, files, binary, others, folders, false);
      continue;
    }
    list_files(what, p, files, binary, others, folders);
  }
  // A file reached twice (named twice, or named beside its folder) is read once, where it first
  // comes: a second copy would be a second document with the same text, which the held-out split
  // could hold out while the sampler trains on the first.
  std::set<std::pair<dev_t, ino_t>> seen;
  std::vector<std::string> unique;
  int64_t repeated = 0;
  InputHash key;
  key.add(options.documents);
  key.add(std::string("a UTF-8 byte-order mark at a file's start left out"));  // earlier caches kept it
  key.add(std::string("CRLF line endings read as LF"));  // earlier caches kept the CR
  key.add(std::string("a lone CR read as LF"));          // earlier caches kept it as text
  for (const auto& f : files) {
    const struct stat st = stat_or_fail(what, f);
    if (!seen.insert({st.st_dev, st.st_ino}).second) {
      ++repeated;
      continue;
    }
    unique.push_back(f);
    key.add_file(f, st);
  }
  files.swap(unique);
  binary.erase(std::remove_if(binary.begin(), binary.end(),
                              [&](const std::string& b) {
                                struct stat st;
                                return ::stat(b.c_str(), &st) == 0 && seen.count({st.st_dev, st.st_ino}) > 0;
                              }),
               binary.end());
  // The corpus file is renamed onto out when complete: out = one of the texts would replace it.
  if (struct stat st; !options.out.empty() && ::stat(options.out.c_str(), &st) == 0 && seen.count({st.st_dev, st.st_ino}))
    fail(what, ": out = '", options.out, "' is one of the files to read, and writing the corpus there would replace "
         "the text; give out = another path (such as '", options.out, ".tok')");
  std::string name = options.name;
  if (name.empty()) {
    // A pattern is named after its folder ("books/*.txt" is "books"), not its wildcard.
    std::string first = options.paths[0];
    struct stat st;
    if (const size_t wild = first.find_first_of("*?["); wild != std::string::npos && ::stat(first.c_str(), &st) != 0) {
      const size_t slash = first.rfind('/', wild);
      first = slash == std::string::npos || slash == 0 ? "" : first.substr(0, slash);
    }
    name = first.empty() ? "files" : corpus_name(first);
    if (name.empty()) name = "files";
  }
  std::string out = options.out.empty() ? cache_dir() + "/corpora/files-" + safe_file_name(name) + "-" + hex(key.h) + ".tok" : options.out;
  if (options.out.empty())
    if (Corpus c = cached(out); !c.empty()) return c;

  CorpusMetadata m;
  m.name = name;
  m.tokenizer = "bytes";
  std::string listed;
  for (const auto& p : options.paths) listed += (listed.empty() ? "" : ", ") + p;
  m.source = str("text files ", listed, " (", format_counted(double(files.size()), "file"), ", one document per ", options.documents,
                 binary.empty() ? "" : str("; ", format_counted(double(binary.size()), "binary file"), " in the folders left out, such as ", binary[0]),
                 others.empty() ? "" : str("; ", format_counted(int64_t(others.size()), "link to nothing or special file",
                                                                "links to nothing or special files"),
                                           " in the folders left out, such as ", others[0]),
                 repeated == 0 ? "" : str("; ", format_counted(double(repeated), "file"), " named more than once read once"),
                 ")");
  if (files.empty())
    fail("data.files: empty corpus: no ", binary.empty() ? "" : "text ", "files found in ", listed,
         binary.empty() ? "" : str(" (", format_counted(double(binary.size()), "binary file"), " left out, such as ", binary[0],
                                   "; name a file itself to read it anyway)"),
         others.empty() ? "" : str(" (", format_counted(int64_t(others.size()), "link to nothing or special file",
                                                        "links to nothing or special files"), " left out, such as ", others[0], ")"),
         "; give a folder that holds text files, or the files themselves");
  CorpusWriter writer(256, m, out);
  // Each file is read in blocks, and its bytes go to the writer as they come, so memory stays at a
  // block whatever the size of the file, its paragraphs or its lines: a whole file held as text, then
  // as a stream of it, then as tokens took three times a large file's size, and a paragraph or line
  // held whole (as the line, the line with its newline, the paragraph, and the writer's copy) four
  // times a long one's. Only a line's leading spaces, tabs and CRs wait, until the line shows text
  // (it is a line of the document) or ends (a blank line: the end of a paragraph); what waits is
  // where they lie in the file, not the bytes: a line of blanks alone was held whole (a blank line
  // of 64 MiB took 128 MiB), and the blanks before a line's text are read again from the file.
  const bool by_file = options.documents == "file", by_line = options.documents == "line";
  std::vector<char> block(size_t{1} << 20), again;
  int64_t marked = 0;  // files that began with a UTF-8 byte-order mark
  // Line endings are read as Python reads a text file (universal newlines, which nanoGPT's and most
  // tokenizers' preparation scripts use): LF, CRLF (Windows) and a lone CR (old Mac OS) each end a
  // line, as one LF, in every mode. A CRLF's CR was kept, so that a text saved on Windows and the same
  // text saved elsewhere were other tokens (every line 1 byte longer, a CR the model had to predict). A
  // lone CR was kept as text: an old Mac text was one line (one document by line, its "lines" never
  // split), and a lone CR that ended a file became "\r\n" by line or paragraph (the mode's own LF after
  // it) but "\r" by file, the CRLF this reader reads as LF elsewhere.
  int64_t crlf = 0;        // CRLFs read as LF
  int64_t lone_cr = 0;     // lone CRs read as LF
  int64_t crlf_files = 0;  // files that had either
  int64_t read = 0;    // bytes read, the marks left out
  for (const auto& f : files) {
    check_interrupt();
    std::FILE* in = std::fopen(f.c_str(), "rb");
    if (!in) fail(what, ": cannot read '", f, "': ", errno_text());
    bool open = false;  // this file's document is in progress: the next bytes extend it
    int64_t block_at = 0;  // the file offset of block[0]
    int64_t blanks_at = 0, blanks = 0;  // the line's leading blanks: their offset and count
    bool text = false;  // the line has shown text
    bool held_cr = false;  // the block in hand ended with a CR, its line ended: a CRLF if the next begins with a LF
    const int64_t crlf_before = crlf + lone_cr;
    auto put = [&](std::string_view bytes) {
      if (bytes.empty()) return;
      if (open) writer.ExtendBytes(bytes);
      else writer.AddBytes(bytes);
      open = true;
    };
    // The waiting blanks, once their line shows text. Those of the block in hand are in the bytes
    // taken with the text; these came in earlier blocks, and are read again from the file.
    auto put_blanks = [&] {
      if (blanks == 0) return;
      again.resize(block.size());
      ReadBlanksAgain(what, f, fileno(in), blanks_at, blanks, again, put);
      blanks = 0;
    };
    // Bytes of the current line (no newline among them), at file offset `at`.
    auto take = [&](std::string_view bytes, int64_t at) {
      if (!text) {
        const size_t first = bytes.find_first_not_of(kLineBlanks);
        if (blanks == 0) blanks_at = at;
        if (first == std::string_view::npos) {
          blanks += int64_t(bytes.size());
          return;
        }
        text = true;
        put_blanks();
      }
      put(bytes);
    };
    auto end_line = [&] {
      if (text) put("\n");
      if (by_line || !text) open = false;  // a line is a document; a blank line ends a paragraph
      blanks = 0;
      text = false;
    };
    try {
      size_t n;
      for (; (n = std::fread(block.data(), 1, block.size(), in)) > 0; block_at += int64_t(n)) {
        check_interrupt();
        // A UTF-8 byte-order mark begins many a text saved on Windows: it marks the encoding, not
        // text, and was kept as 3 tokens at the start of the file's first document (in paragraph
        // mode a document of its own where a blank line followed it).
        const size_t skip = block_at == 0 && n >= 3 && std::memcmp(block.data(), "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        marked += skip > 0 ? 1 : 0;
        read += int64_t(n - skip);
        // The CR that ended the last block: a CRLF's if this block begins with its LF, which was read
        // with it; else a lone CR. Its line ended there.
        size_t from = skip;
        if (held_cr) {
          held_cr = false;
          if (block[from] == '\n') {
            ++crlf;
            ++from;
          } else {
            ++lone_cr;
          }
        }
        while (from < n) {
          // The next line ending: a LF, or a CR (with the LF after it, where one follows).
          const char* stop = std::find_if(block.data() + from, block.data() + n, [](char c) { return c == '\n' || c == '\r'; });
          const size_t end = size_t(stop - block.data());
          if (by_file) put(std::string_view(block.data() + from, end - from));
          else take(std::string_view(block.data() + from, end - from), block_at + int64_t(from));
          if (end == n) break;
          from = end + 1;
          if (block[end] == '\r') {
            if (from == n) held_cr = true;  // counted with the next block's first byte
            else if (block[from] == '\n') {
              ++crlf;
              ++from;
            } else {
              ++lone_cr;
            }
          }
          if (by_file) put("\n");
          else end_line();
        }
      }
      if (std::ferror(in)) fail(what, ": error reading '", f, "': ", errno_text());
    } catch (...) {
      std::fclose(in);
      throw;
    }
    std::fclose(in);
    lone_cr += held_cr ? 1 : 0;  // the file's last byte: a lone CR, its line ended
    if (text) end_line();  // a last line without its newline
    crlf_files += crlf + lone_cr > crlf_before ? 1 : 0;
  }
  if (marked > 0) {  // said in the source's parenthesis, with the files left out
    std::string& source = writer.metadata().source;
    source.insert(source.size() - 1, str("; the UTF-8 byte-order mark that began ", format_counted(double(marked), "file"),
                                         " left out"));
  }
  // No byte read: every file empty. That was the writer's "empty corpus: <source> has no tokens",
  // naming neither data.files nor why, nor what to give.
  if (read == 0)
    fail(what, ": empty corpus: ", writer.metadata().source, files.size() == 1 ? " is empty" : " are all empty",
         marked > 0 ? " (0 bytes, but for a UTF-8 byte-order mark)" : " (0 bytes)", "; give files with text");
  // Bytes read and no token written: one document per paragraph or line keeps no blank line, so
  // every line was blank. That was "empty corpus: ... has no tokens", as of files with nothing in them.
  if (read > 0 && writer.tokens() == 0)
    fail("empty corpus: every line of ", writer.metadata().source, " is blank (", format_counted(double(read), "byte"),
         " of spaces, tabs, CRs and newlines alone), and a blank line is no document's text; give files with text");
  if (crlf + lone_cr > 0) {  // after the blank-file error, which it would not help
    std::string& source = writer.metadata().source;
    const std::string endings =
        crlf == 0 ? format_counted(lone_cr, "lone CR line ending (old Mac OS)", "lone CR line endings (old Mac OS)")
        : lone_cr == 0 ? format_counted(crlf, "CRLF line ending", "CRLF line endings")
                       : str(format_counted(crlf, "CRLF line ending", "CRLF line endings"), " and ",
                             format_counted(lone_cr, "lone CR line ending", "lone CR line endings"));
    source.insert(source.size() - 1, str("; ", endings, " of ", format_counted(double(crlf_files), "file"), " read as LF"));
  }
  return writer.Finish();
}

void ReadBlanksAgain(const std::string& what, const std::string& file, int fd, int64_t offset, int64_t count,
                     std::vector<char>& buffer, const std::function<void(std::string_view)>& put) {
  if (buffer.empty()) buffer.resize(size_t{1} << 20);
  for (int64_t done = 0; done < count;) {
    const ssize_t got = ::pread(fd, buffer.data(), size_t(std::min<int64_t>(count - done, int64_t(buffer.size()))),
                                off_t(offset + done));
    if (got < 0) fail(what, ": error reading '", file, "' again at byte ", offset + done, ": ", errno_text());
    // The bytes were a line's leading blanks when first read; a file rewritten in place since (same
    // size, so the cache key could not tell) would give others, put in the corpus unseen.
    if (got == 0)
      fail(what, ": '", file, "' changed while it was read: it ended at byte ", offset + done, ", where ", count - done,
           " more of the blanks read at bytes ", offset, "-", offset + count - 1, " were; import it again");
    const std::string_view bytes(buffer.data(), size_t(got));
    if (const size_t other = bytes.find_first_not_of(kLineBlanks); other != std::string_view::npos)
      fail(what, ": '", file, "' changed while it was read: byte ", offset + done + int64_t(other),
           " was a space, tab or CR and is now another byte; import it again");
    put(bytes);
    done += got;
  }
}

// ---- llm.c / nanoGPT shards ---------------------------------------------------------------------

void TokensBinOptions::Validate() const {
  if (paths.empty()) fail("data.tokens_bin: give at least one shard");
  refuse_blank_names("data.tokens_bin", paths, "a shard");
  refuse_blank_corpus_name("data.tokens_bin", name);
  if (format != "llmc" && format != "nanogpt")
    fail("data.tokens_bin: format must be \"llmc\" (header magic 20240520) or \"nanogpt\" (headerless uint16), got \"",
         format, "\"");
  if (vocab < 0) fail("data.tokens_bin: vocab must be positive (got ", vocab, ")");
  // Was "vocabulary size 1099511627776 is beyond 2^31 token ids", naming neither the function nor the fix.
  if (vocab > (int64_t{1} << 31))
    fail("data.tokens_bin: vocab = ", vocab, " is beyond the 2^31 token ids a corpus holds; give the shards' "
         "tokenizer's vocabulary size (50257 for GPT-2, 128256 for LLaMA 3), or leave vocab out for theirs");
  if (eot < -2) fail("data.tokens_bin: eot must be a token id, −1 for none or left out (got ", eot, ")");
}

Corpus ImportTokensBin(const TokensBinOptions& given, std::vector<std::string>* notes) {
  given.Validate();
  const std::string what = "data.tokens_bin";
  // The vocab asked: given, or (nanoGPT's files, vocab left out) the vocab_size of a meta.pkl beside
  // them; `vocab_named` says which, for messages and notes.
  int64_t vocab_in = given.vocab;
  std::string vocab_named = str("vocab = ", given.vocab);
  // eot left out with a vocab that does not hold the tokenizer's end-of-text (nanoGPT's
  // shakespeare_char: 65 characters, none of them an end-of-text): the tokens are another
  // tokenizer's, with no end-of-text known, so each shard is one document. That was so before, but
  // unsaid: the corpus said "gpt2" and nothing of its documents. The note says it and names eot =.
  auto no_eot_note = [&](int version) -> std::string {
    const int64_t tokenizer_eot = version == 2 ? 128000 : 50256;
    if (given.eot != -2 || vocab_in <= 0 || vocab_in > tokenizer_eot) return "";
    const char* shard = given.format == "nanogpt" ? "file" : "shard";
    return str("no end-of-text token: ", vocab_named, " does not hold ", version == 2 ? "LLaMA 3" : "GPT-2",
               "'s (", tokenizer_eot, "), so each ", shard, " is one document; give eot = the end-of-text id of the ",
               shard, "s' tokenizer to split them into documents, or eot = -1 to say there is none");
  };
  // What the ids are: the tokenizer the layout names (llm.c's header: GPT-2 or LLaMA 3; nanoGPT's
  // files: GPT-2, its prepare.py's) only where the vocab holds it. A smaller vocab given, or a nanoGPT
  // file with no id above a byte's, is another tokenizer's ids (nanoGPT's shakespeare_char, 65
  // characters): the corpus said "gpt2" of them, which they are not, and its tokenizer is "unknown" now.
  auto small_vocab_text = [&](int version) {
    return str("token ids of an unknown tokenizer: ", vocab_named, " is smaller than ",
               version == 2 ? "LLaMA 3's 128256" : "GPT-2's 50257");
  };
  auto small_ids_note = [&](const std::string& largest) {
    return str("the largest token id is ", largest, ", where GPT-2 text has ids far beyond 255: these are another "
               "tokenizer's ids (nanoGPT's shakespeare_char has 65 characters), so the corpus's tokenizer is \"unknown\", "
               "not \"gpt2\"; give vocab = the tokenizer's size (nanoGPT's prepare.py writes it as vocab_size to a meta.pkl, "
               "read where it lies beside the file, and none does here) for a model of "
               "that vocabulary rather than GPT-2's 50257");
  };
  auto noted = [&](Corpus c, int version) {
    if (const std::string note = no_eot_note(version); !note.empty() && notes) notes->push_back(note);
    const auto largest = c.metadata().extra.find("largest_id");
    if (largest != c.metadata().extra.end() && notes) notes->push_back(small_ids_note(largest->second));
    return c;
  };
  // A pattern ("fineweb10B/fineweb_train_*.bin", llm.c's shards) reads the shards it matches in
  // sorted order; it was "cannot read '...*.bin': No such file or directory".
  TokensBinOptions options = given;
  options.paths.clear();
  for (const auto& p : given.paths) {
    if (std::optional<std::vector<std::string>> found = pattern_matches(what, p))
      options.paths.insert(options.paths.end(), found->begin(), found->end());
    else
      options.paths.push_back(p);
  }
  // nanoGPT's character-level sets (data/shakespeare_char) hold their vocabulary in a meta.pkl beside
  // train.bin and val.bin, as train.py reads it. It was not read: the vocab was GPT-2's 50257 for 65
  // characters (a model of 50257 outputs, its loss of another vocabulary). A vocab given is used as it is.
  if (options.format == "nanogpt" && given.vocab == 0) {
    std::string meta_found;
    for (const auto& p : options.paths) {
      const size_t slash = p.rfind('/');
      const std::string meta = (slash == std::string::npos ? std::string() : p.substr(0, slash + 1)) + "meta.pkl";
      struct stat st;
      if (meta == meta_found || ::stat(meta.c_str(), &st) != 0) continue;
      const int64_t v = ReadMetaVocabSize(what, meta);
      if (!meta_found.empty() && v != vocab_in)
        fail(what, ": '", meta_found, "' says vocab_size ", vocab_in, " and '", meta, "' says ", v, ": the files are of two "
             "tokenizers; import them apart, or give vocab = the size of the one tokenizer that made them all");
      vocab_in = v;
      meta_found = meta;
    }
    if (!meta_found.empty()) {
      options.vocab = vocab_in;
      vocab_named = str("vocab_size ", vocab_in, " of '", meta_found, "'");
    }
  }
  InputHash key;
  key.add(options.format);
  if (options.format == "nanogpt") key.add(std::string("documents end after end-of-text"));  // earlier caches cut before it
  key.add(std::string("documents go on across shards"));  // earlier caches cut them at each shard's end
  key.add(std::string("a run of end-of-text tokens is one boundary"));  // earlier caches made a document of each
  key.add(std::string("tokenizer unknown where the vocab or ids are not GPT-2's"));  // earlier caches said "gpt2"
  key.add(std::string("the shards' layout recorded"));  // earlier caches of "unknown" LLaMA 3 shards lacked it
  key.add(uint64_t(options.vocab));
  key.add(uint64_t(options.eot));
  struct stat out_st;
  const bool out_exists = !options.out.empty() && ::stat(options.out.c_str(), &out_st) == 0;
  // A shard reached twice (named twice, or named beside a pattern that matches it) is read once,
  // where it first comes, as data.files reads a file: its documents twice over were a copy that the
  // held-out split could hold out while the sampler trained on the other.
  std::set<std::pair<dev_t, ino_t>> seen;
  std::vector<std::string> unique;
  int64_t repeated = 0;
  for (const auto& p : options.paths) {
    const struct stat st = stat_or_fail(what, p);
    // A folder was "error reading 'dir': Is a directory", and a named pipe waited for a writer: the
    // token files are named, each, or matched by a pattern.
    if (S_ISDIR(st.st_mode)) {
      const std::string folder = p.size() > 1 && p.back() == '/' ? p.substr(0, p.size() - 1) : p;
      if (options.format == "nanogpt")
        fail(what, ": '", p, "' is a folder; give a token file in it: nanoGPT's prepare.py writes train.bin (the text to "
             "train on) and val.bin there, so data.tokens_bin(\"", folder, "/train.bin\", { format = \"nanogpt\" }) (the "
             "vocab_size of a meta.pkl beside it is the vocab)");
      fail(what, ": '", p, "' is a folder; give its shards, such as \"", folder, "/*.bin\" (a pattern reads the files it "
           "matches, in sorted order)");
    }
    if (!S_ISREG(st.st_mode))
      fail(what, ": '", p, "' is not a file (a named pipe, a socket or a device); give a token file");
    if (out_exists && st.st_dev == out_st.st_dev && st.st_ino == out_st.st_ino)
      fail(what, ": out = '", options.out, "' is one of the shards to read, and writing the corpus there would "
           "replace it; give out = another path (such as '", options.out, ".tok')");
    if (!seen.insert({st.st_dev, st.st_ino}).second) {
      ++repeated;
      continue;
    }
    unique.push_back(p);
    key.add_file(p, st);
  }
  options.paths.swap(unique);
  std::string name = options.name.empty() ? stem(options.paths[0]) : options.name;
  std::string out = options.out.empty() ? cache_dir() + "/corpora/bin-" + safe_file_name(name) + "-" + hex(key.h) + ".tok" : options.out;
  if (options.out.empty())
    if (Corpus c = cached(out); !c.empty()) {
      // The layout, not the tokenizer, says whose end-of-text the note names: LLaMA 3 shards of a
      // smaller vocab are "unknown", and their note said GPT-2's (50256), or nothing where the vocab held it.
      const auto layout = c.metadata().extra.find("shard_layout");
      return noted(c, layout != c.metadata().extra.end() && layout->second == "llama3" ? 2 : 1);
    }

  int version = 0;
  std::optional<CorpusWriter> writer;
  std::string listed;
  for (const auto& p : given.paths) listed += (listed.empty() ? "" : ", ") + p;
  if (options.paths.size() + size_t(repeated) != given.paths.size() || repeated > 0)
    listed += str(" (", format_counted(double(options.paths.size()), "shard"),
                  repeated == 0 ? "" : str("; ", format_counted(double(repeated), "shard"), " named more than once read once"), ")");
  int64_t eot = -1;
  int64_t corpus_vocab = 0;  // the corpus's vocab, once the first shard names the layout
  // Each shard is read in blocks of tokens, so memory stays at a block whatever its size: the whole
  // shard held as bytes and then as int32 tokens took three times its size (a nanoGPT OpenWebText
  // train.bin of 17 GB asked for 51 GB).
  constexpr int64_t kBlockTokens = int64_t{1} << 20;
  std::vector<unsigned char> raw;
  std::vector<int32_t> tokens;
  // A document in progress: the next tokens extend it. It goes on across shards as across blocks:
  // llm.c's shards are cut at a fixed token count (data_common.py's shard_size), wherever a document
  // stands, and nanoGPT's tokens are one stream, so only an end-of-text ends a document, not a
  // shard's end; split there, one document was two, and the held-out split could hold out its half.
  // With no end-of-text (eot = -1) each shard is one document.
  bool open = false;
  int64_t largest = -1;  // the largest token id read
  bool text = false;    // tokens other than the end-of-text were written: a run waiting goes between documents
  int64_t waiting = 0;  // end-of-text tokens of a run not yet written (see below)
  std::vector<int32_t> eots;
  auto put_waiting = [&] {
    if (waiting > 0 && eots.empty()) eots.assign(4096, int32_t(eot));
    while (waiting > 0) {
      const int64_t n = std::min<int64_t>(waiting, int64_t(eots.size()));
      if (open) writer->ExtendDocument(eots.data(), n, what);
      else writer->AddDocument(eots.data(), n, what);
      open = true;
      waiting -= n;
    }
  };
  for (const auto& path : options.paths) {
    check_interrupt();
    if (eot < 0) open = false;
    std::FILE* in = std::fopen(path.c_str(), "rb");
    if (!in) fail(what, ": cannot read '", path, "': ", errno_text());
    struct InFile {
      std::FILE* f;
      ~InFile() { std::fclose(f); }
    } closer{in};
    struct stat st;
    if (::fstat(fileno(in), &st) != 0) fail(what, ": cannot read '", path, "': ", errno_text());
    const int64_t size = int64_t(st.st_size);
    // Reads exactly n bytes into raw, or fails naming the file (it changed while read).
    auto read_bytes = [&](int64_t n) {
      raw.resize(size_t(n));
      if (n > 0 && std::fread(raw.data(), 1, size_t(n), in) != size_t(n))
        fail(what, ": error reading '", path, "': ", std::ferror(in) ? errno_text() : std::string("it ended early (did it change?)"));
    };
    int width = 2;
    int64_t count = 0;
    if (options.format == "nanogpt") {
      // An llm.c shard read as nanoGPT's headerless uint16: its header's ints became tokens (20240520 → 55432),
      // and the error blamed them on the vocabulary.
      if (size >= 1024) {
        int32_t head[3];
        read_bytes(sizeof head);
        std::memcpy(head, raw.data(), sizeof head);
        const int shard_width = head[0] == 20240520 && head[1] == 1 ? 2 : head[0] == 20240801 && head[1] == 7 ? 4 : 0;
        if (shard_width > 0 && head[2] >= 0 && size == 1024 + int64_t(head[2]) * shard_width)
          fail(what, ": '", path, "' is an llm.c token shard (its header has magic ", head[0], ", version ", head[1], " and ",
               head[2], " tokens), not a headerless nanoGPT file; leave format out (format = \"llmc\") to read it");
        std::rewind(in);
      }
      // Was "has an odd number of bytes; not a uint16 token file": neither how many nor what to do.
      if (size % 2 != 0)
        fail(what, ": '", path, "' is ", size, " bytes, an odd number, where a nanoGPT token file holds 2 bytes a token "
             "(uint16): it is cut short or is no token file; write it again (nanoGPT's prepare.py), or give the token file "
             "meant");
      count = size / 2;
      version = 1;
    } else {
      int32_t header[256];
      if (size < int64_t(sizeof header))
        fail(what, ": '", path, "' is ", size, " bytes, shorter than llm.c's 1024-byte header; for a headerless "
             "nanoGPT train.bin pass format = \"nanogpt\"");
      read_bytes(sizeof header);
      std::memcpy(header, raw.data(), sizeof header);
      // llm.c's dev/data/data_common.py: GPT-2 shards are magic 20240520, version 1, uint16 tokens;
      // LLaMA-3 shards are magic 20240801, version 7, uint32 tokens. header[2] is the token count.
      int kind = 0;
      if (header[0] == 20240520 && header[1] == 1) kind = 1;
      else if (header[0] == 20240801 && header[1] == 7) kind = 2;
      else if (header[0] == 20240520 || header[0] == 20240801)
        fail(what, ": '", path, "' has llm.c magic ", header[0], " with unknown version ", header[1],
             "; known are 20240520 version 1 (GPT-2, uint16) and 20240801 version 7 (LLaMA 3, uint32)");
      else
        fail(what, ": '", path, "' is not an llm.c token shard (magic ", header[0],
             ", expected 20240520 or 20240801); for a headerless nanoGPT train.bin pass format = \"nanogpt\"");
      if (version != 0 && version != kind)
        fail(what, ": '", path, "' uses the ", kind == 1 ? "GPT-2" : "LLaMA-3", " layout but earlier shards do not; "
             "shards of one corpus share a tokenizer");
      version = kind;
      width = version == 1 ? 2 : 4;
      count = header[2];
      if (count < 0 || size != 1024 + count * width)
        fail(what, ": '", path, "': the header says ", count, " tokens of ", width, " bytes but the file holds ",
             size - 1024, " bytes after the header (truncated or corrupted)");
    }
    if (!writer) {
      const int64_t vocab = options.vocab > 0 ? options.vocab : version == 2 ? 128256 : 50257;
      corpus_vocab = vocab;
      // uint16 ids are below 65536: a larger vocab (2^31) was taken, a corpus of ids no file holds,
      // stored 4 bytes a token, for a model whose embedding no machine has.
      if (width == 2 && vocab > 65536)
        fail(what, ": vocab = ", vocab, " is larger than the 65536 ids that the uint16 tokens of '", path, "' can be; give "
             "the shards' tokenizer's vocabulary size (50257 for GPT-2), or leave vocab out for GPT-2's");
      const std::string note = no_eot_note(version);
      eot = options.eot != -2 ? options.eot : !note.empty() ? -1 : version == 2 ? 128000 : 50256;
      // An eot no token can be split nothing: each shard was one document, without a word.
      if (options.eot >= vocab)
        fail(what, ": eot = ", options.eot, " is outside the vocabulary [0, ", vocab, ")",
             given.vocab > 0 ? "" : options.vocab > 0 ? " of " + vocab_named : " of the shards' tokenizer",
             ", so no token is the end-of-text and no shard would be split into documents; give the end-of-text id of "
             "the shards' tokenizer, eot = -1 for none (each shard one document)",
             given.vocab > 0 ? ", or a larger vocab" : ", or vocab = the tokenizer's size");
      CorpusMetadata m;
      m.name = name;
      const bool small = options.vocab > 0 && options.vocab < (version == 2 ? 128256 : 50257);
      m.tokenizer = small ? "unknown" : version == 2 ? "llama3" : "gpt2";
      m.extra["shard_layout"] = version == 2 ? "llama3" : "gpt2";  // the tokenizer the layout names
      m.source = str(options.format == "llmc" ? "llm.c token shards " : "nanoGPT token file ", listed,
                     small ? "; " + small_vocab_text(version) : given.vocab == 0 && options.vocab > 0 ? "; the vocab is the " + vocab_named : "",
                     note.empty() ? "" : "; " + note);
      writer.emplace(vocab, m, out);
    }
    const std::string where = str(what, ": '", path, "'");
    // Where the end-of-text token stands: llm.c's shards begin each document with it (a document
    // starts at each one, but the shard's first); nanoGPT's prepare.py appends it to each (a
    // document ends after each one). A document in progress at a block's end goes on in the next.
    // A run of end-of-text tokens (E E E) is one boundary, not documents of an end-of-text alone
    // (they were counted as documents, and the split held them out as such): the run stays in the
    // stream, with the document it begins (llm.c) or ends (nanoGPT); a run before the first text
    // begins the first document, and one after the last text ends the last. What the run goes with
    // is known only at the next text, so its tokens wait, counted, until then.
    const bool eot_ends = options.format == "nanogpt";
    int64_t at = 0;     // the shard's tokens before this block
    auto take = [&](size_t begin, size_t end) {
      if (end <= begin) return;
      const std::string from = str(where, " from token ", at + int64_t(begin));
      if (open) writer->ExtendDocument(tokens.data() + begin, int64_t(end - begin), from);
      else writer->AddDocument(tokens.data() + begin, int64_t(end - begin), from);
      open = true;
    };
    // Text (tokens other than the end-of-text), after the run waiting before it.
    auto take_text = [&](size_t begin, size_t end) {
      if (end <= begin) return;
      if (waiting > 0) {
        if (open && text && !eot_ends) open = false;  // llm.c: the run begins the next document
        put_waiting();
        if (eot_ends && text) open = false;           // nanoGPT: it ended the one before
      }
      take(begin, end);
      text = true;
    };
    for (; at < count; at += int64_t(tokens.size())) {
      check_interrupt();
      const int64_t n = std::min(kBlockTokens, count - at);
      read_bytes(n * width);
      tokens.resize(size_t(n));
      for (int64_t i = 0; i < n; ++i) {
        if (width == 2) {
          uint16_t t;
          std::memcpy(&t, raw.data() + 2 * i, 2);
          tokens[size_t(i)] = t;
        } else {
          uint32_t t;
          std::memcpy(&t, raw.data() + 4 * i, 4);
          if (t > uint32_t(INT32_MAX)) fail(what, ": '", path, "': token ", at + i, " is ", t, ", beyond 2^31");
          tokens[size_t(i)] = int32_t(t);
        }
      }
      // Ids of 32 or 64 bits (np.uint32, np.int64) read as nanoGPT's uint16: the upper bytes of every id
      // below 65536 read as ids of 0, every second id (or three in four), and the corpus went on to
      // train on them without a word. Told from the first block of a file: a uint16 stream of text does
      // not hold 0 at every second id of 64 or more.
      if (options.format == "nanogpt" && at == 0 && n >= 64) {
        bool every_second = true, three_in_four = true, any = false;
        for (int64_t i = 0; i < n && every_second; ++i) {
          if (tokens[size_t(i)] == 0) continue;
          if (i % 2 == 1) every_second = false;
          if (i % 4 != 0) three_in_four = false;
          any = true;
        }
        if (every_second && any)
          fail(what, ": '", path, "' does not hold nanoGPT's uint16 ids: read 2 bytes a token, every ",
               three_in_four ? "second, third and fourth" : "second", " of its first ", n, " ids is 0, as the upper bytes of ",
               three_in_four ? "64-bit ids (np.int64, np.uint64)" : "32-bit ids (np.uint32, np.int32)",
               " below 65536 are; write the ids as uint16 (np.array(ids, dtype=np.uint16).tofile(path), as nanoGPT's "
               "prepare.py does), or, for ids of 65536 and more, as an llm.c shard of LLaMA-3's layout (uint32 ids)");
      }
      for (const int32_t t : tokens) largest = std::max<int64_t>(largest, t);
      // An id outside the vocabulary was the writer's "token 0 is 50256, outside the vocabulary [0, 3)",
      // with no word of the vocab = that made it so or of what to give.
      if (largest >= corpus_vocab) {
        const size_t i = size_t(std::find_if(tokens.begin(), tokens.end(), [&](int32_t t) { return t >= corpus_vocab; }) -
                                tokens.begin());
        if (i < tokens.size())
          fail(what, ": '", path, "': token ", at + int64_t(i), " is ", tokens[i], ", outside the vocabulary [0, ", corpus_vocab,
               ")", given.vocab == 0 && options.vocab > 0
                        ? str(" of ", vocab_named, ": the file and its meta.pkl disagree; give vocab = the size of the tokenizer "
                              "that made the file (more than ", tokens[i], ")")
                    : options.vocab > 0
                        ? str(" of vocab = ", options.vocab, "; give vocab = the shards' tokenizer's size (more than ", tokens[i],
                              "), or leave vocab out for ", version == 2 ? "LLaMA 3's 128256" : "GPT-2's 50257")
                        : str(" of ", version == 2 ? "LLaMA 3's" : "GPT-2's", " tokenizer, which the ",
                              options.format == "nanogpt" ? "file's format" : "shard's header", " names: the ",
                              options.format == "nanogpt" ? "file" : "shard",
                              " is corrupted or holds another tokenizer's ids; give vocab = that tokenizer's size (more than ",
                              tokens[i], ")"));
      }
      if (eot < 0) {
        take(0, tokens.size());
        continue;
      }
      size_t begin = 0;
      for (size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i] != eot) continue;
        take_text(begin, i);
        ++waiting;
        begin = i + 1;
      }
      take_text(begin, tokens.size());
    }
  }
  put_waiting();  // a run after the last text ends the last document
  // Shards of no tokens: that was the writer's "empty corpus: llm.c token shards a.bin has no tokens",
  // naming neither data.tokens_bin nor what to give.
  if (writer->tokens() == 0)
    fail(what, ": empty corpus: ", writer->metadata().source, options.paths.size() == 1 ? " holds" : " hold",
         " no tokens (", options.format == "nanogpt" ? "0 bytes" : "a header of 0 tokens", options.paths.size() == 1 ? "" : " each",
         "); give shards with tokens");
  if (options.format == "nanogpt" && options.vocab <= 0 && largest < 256 && writer->tokens() > 0) {
    CorpusMetadata& m = writer->metadata();
    m.tokenizer = "unknown";
    m.extra["largest_id"] = str(largest);
    m.source += "; " + small_ids_note(str(largest));
  }
  return noted(writer->Finish(), version);
}

// ---- nanoGPT's meta.pkl -------------------------------------------------------------------------

namespace {

// A value of the pickle subset read: an int, a str, a dict, or the stack's mark.
struct PickleValue {
  enum Kind { kInt, kStr, kDict, kMark } kind = kMark;
  int64_t number = 0;
  std::shared_ptr<const std::string> text;  // shared: the memo hands a str out again without a copy
  std::shared_ptr<std::vector<std::pair<PickleValue, PickleValue>>> dict;
};

// The name of an opcode this reader refuses, for its error (pickletools' names).
std::string pickle_opcode_name(unsigned char op) {
  static const std::map<unsigned char, const char*> names = {
      {'c', "GLOBAL: a class or function"}, {0x93, "STACK_GLOBAL: a class or function"}, {'R', "REDUCE: a call"},
      {'b', "BUILD: an object's state"}, {0x81, "NEWOBJ: an object"}, {0x92, "NEWOBJ_EX: an object"}, {'i', "INST: an object"},
      {'o', "OBJ: an object"}, {0x82, "EXT1: a class"}, {0x83, "EXT2: a class"}, {0x84, "EXT4: a class"},
      {'P', "PERSID"}, {'Q', "BINPERSID"}, {']', "EMPTY_LIST: a list"}, {')', "EMPTY_TUPLE: a tuple"}, {'t', "TUPLE"},
      {0x85, "TUPLE1"}, {0x86, "TUPLE2"}, {0x87, "TUPLE3"}, {'l', "LIST"}, {'a', "APPEND"}, {'e', "APPENDS"},
      {'N', "NONE"}, {0x88, "NEWTRUE"}, {0x89, "NEWFALSE"}, {'G', "BINFLOAT: a float"}, {'F', "FLOAT: a float"},
      {'C', "SHORT_BINBYTES: bytes"}, {'B', "BINBYTES: bytes"}, {'U', "SHORT_BINSTRING: a Python 2 str"},
      {'T', "BINSTRING: a Python 2 str"}, {'I', "INT (protocol 0)"}, {'L', "LONG (protocol 0)"}, {'S', "STRING (protocol 0)"},
      {'V', "UNICODE (protocol 0)"}, {'p', "PUT (protocol 0)"}, {'g', "GET (protocol 0)"}, {0x8b, "LONG4: a huge int"},
      {0x8f, "EMPTY_SET: a set"}, {0x90, "ADDITEMS"}, {0x91, "FROZENSET"}, {0x96, "BYTEARRAY8"}, {0x97, "NEXT_BUFFER"},
      {0x98, "READONLY_BUFFER"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"}};
  const auto it = names.find(op);
  char code[8];
  std::snprintf(code, sizeof code, "0x%02x", op);
  return it == names.end() ? str("opcode ", code) : str("opcode ", code, " (", it->second, ")");
}

}  // namespace

int64_t ReadMetaVocabSize(const std::string& what, const std::string& path) {
  const std::string fix = "; give vocab = the vocabulary size of the tokenizer that made the ids (nanoGPT's prepare.py prints it)";
  // A meta.pkl is a few kB (a BPE's itos and stoi a few MB): a larger file is no such dict.
  const struct stat st = stat_or_fail(what, path);
  if (st.st_size > (int64_t{64} << 20))
    fail(what, ": '", path, "' is ", format_bytes(double(st.st_size)), ", not a meta.pkl of nanoGPT (a dict of vocab_size, "
         "itos and stoi, a few kB)", fix);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(what, ": cannot read '", path, "': ", errno_text(), fix);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(what, ": error reading '", path, "'", fix);
  auto bad = [&](size_t at, const std::string& why) -> PickleValue {
    fail(what, ": '", path, "' is not a meta.pkl that scalelab reads (nanoGPT's pickle of a dict of vocab_size, itos and "
         "stoi): ", why, at == std::string::npos ? std::string() : str(" (at byte ", at, ")"), fix);
  };
  size_t at = 0;
  auto need = [&](size_t n) {
    if (bytes.size() - at < n) bad(at, "it ends early");
  };
  auto unsigned_le = [&](size_t n) {
    need(n);
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) x |= uint64_t(uint8_t(bytes[at + i])) << (8 * i);
    at += n;
    return x;
  };
  std::vector<PickleValue> stack;
  std::map<uint64_t, PickleValue> memo;
  auto top = [&](size_t op_at) -> PickleValue& {
    if (stack.empty() || stack.back().kind == PickleValue::kMark) bad(op_at, "an opcode finds no value on the stack");
    return stack.back();
  };
  // The items since the last mark, in pairs, into `dict`; the mark popped.
  auto set_items = [&](size_t op_at, PickleValue& dict, size_t mark) {
    if ((stack.size() - mark - 1) % 2 != 0) bad(op_at, "a dict's items are not key, value pairs");
    for (size_t i = mark + 1; i < stack.size(); i += 2) {
      if (stack[i].kind != PickleValue::kInt && stack[i].kind != PickleValue::kStr) bad(op_at, "a dict's key is not an int or str");
      if (stack[i + 1].kind == PickleValue::kMark) bad(op_at, "a dict's value is a MARK");
      dict.dict->push_back({stack[i], stack[i + 1]});
    }
    stack.resize(mark);
  };
  auto last_mark = [&](size_t op_at) {
    for (size_t i = stack.size(); i-- > 0;)
      if (stack[i].kind == PickleValue::kMark) return i;
    return size_t(bad(op_at, "SETITEMS or DICT finds no MARK").number);
  };
  if (bytes.size() < 2 || uint8_t(bytes[0]) != 0x80)
    bad(std::string::npos, bytes.empty() ? "it is empty" : "it does not begin with a pickle protocol 2-5 header (PROTO); protocols 0 and 1 are not read");
  std::optional<PickleValue> result;
  while (!result) {
    need(1);
    const size_t op_at = at;
    const unsigned char op = uint8_t(bytes[at++]);
    switch (op) {
      case 0x80: {  // PROTO
        const uint64_t protocol = unsigned_le(1);
        if (op_at != 0 || protocol < 2 || protocol > 5) bad(op_at, str("pickle protocol ", protocol, ", where 2 to 5 are read"));
        break;
      }
      case 0x95: unsigned_le(8); break;  // FRAME: a length the reader needs not
      case '}': {                          // EMPTY_DICT
        PickleValue d;
        d.kind = PickleValue::kDict;
        d.dict = std::make_shared<std::vector<std::pair<PickleValue, PickleValue>>>();
        stack.push_back(d);
        break;
      }
      case '(': stack.push_back(PickleValue{}); break;  // MARK
      case 0x8c: case 'X': case 0x8d: {                 // SHORT_BINUNICODE, BINUNICODE, BINUNICODE8
        const uint64_t n = unsigned_le(op == 0x8c ? 1 : op == 'X' ? 4 : 8);
        if (n > bytes.size() - at) bad(op_at, "it ends early, within a string");
        PickleValue v;
        v.kind = PickleValue::kStr;
        v.text = std::make_shared<const std::string>(bytes.substr(at, size_t(n)));
        at += size_t(n);
        stack.push_back(std::move(v));
        break;
      }
      case 'K': case 'M': case 'J': {  // BININT1, BININT2, BININT (signed)
        PickleValue v;
        v.kind = PickleValue::kInt;
        const uint64_t x = unsigned_le(op == 'K' ? 1 : op == 'M' ? 2 : 4);
        v.number = op == 'J' ? int64_t(int32_t(uint32_t(x))) : int64_t(x);
        stack.push_back(v);
        break;
      }
      case 0x8a: {  // LONG1: a little-endian two's complement int of n bytes (8 at most read)
        const uint64_t n = unsigned_le(1);
        if (n > 8) bad(op_at, "an int beyond 64 bits");
        PickleValue v;
        v.kind = PickleValue::kInt;
        const uint64_t x = unsigned_le(size_t(n));
        v.number = n == 0 ? 0 : n == 8 ? int64_t(x) : (x >> (8 * n - 1)) & 1 ? int64_t(x | (~uint64_t{0} << (8 * n))) : int64_t(x);
        stack.push_back(v);
        break;
      }
      case 0x94: memo[memo.size()] = top(op_at); break;  // MEMOIZE
      case 'q': case 'r': {                              // BINPUT, LONG_BINPUT
        const uint64_t key = unsigned_le(op == 'q' ? 1 : 4);
        memo[key] = top(op_at);
        break;
      }
      case 'h': case 'j': {  // BINGET, LONG_BINGET
        const uint64_t key = unsigned_le(op == 'h' ? 1 : 4);
        const auto it = memo.find(key);
        if (it == memo.end()) bad(op_at, str("memo ", key, " is read before it is written"));
        stack.push_back(it->second);
        break;
      }
      case 's': {  // SETITEM
        if (stack.size() < 3 || stack[stack.size() - 3].kind != PickleValue::kDict) bad(op_at, "SETITEM finds no dict");
        const size_t mark = stack.size() - 3;
        stack.insert(stack.begin() + std::ptrdiff_t(mark + 1), PickleValue{});  // as if marked
        set_items(op_at, stack[mark], mark + 1);
        break;
      }
      case 'u': {  // SETITEMS
        const size_t mark = last_mark(op_at);
        if (mark == 0 || stack[mark - 1].kind != PickleValue::kDict) bad(op_at, "SETITEMS finds no dict");
        set_items(op_at, stack[mark - 1], mark);
        break;
      }
      case 'd': {  // DICT
        const size_t mark = last_mark(op_at);
        PickleValue d;
        d.kind = PickleValue::kDict;
        d.dict = std::make_shared<std::vector<std::pair<PickleValue, PickleValue>>>();
        set_items(op_at, d, mark);
        stack.push_back(d);
        break;
      }
      case '.':  // STOP
        if (stack.size() != 1) bad(op_at, "the pickle does not end with one value");
        result = stack.back();
        break;
      default:
        bad(op_at, str("it holds ", pickle_opcode_name(op), ", which scalelab does not read, as it never runs pickle code"));
    }
  }
  if (result->kind != PickleValue::kDict) bad(std::string::npos, "it holds no dict");
  if (at != bytes.size()) bad(at, "bytes follow the pickle's STOP");
  for (const auto& [key, value] : *result->dict) {
    if (key.kind != PickleValue::kStr || *key.text != "vocab_size") continue;
    if (value.kind != PickleValue::kInt) bad(std::string::npos, "its vocab_size is not an int");
    if (value.number < 1 || value.number > 65536)
      fail(what, ": '", path, "' says vocab_size ", value.number, ", outside [1, 65536] (the ids of nanoGPT's uint16 files)", fix);
    return value.number;
  }
  bad(std::string::npos, "its dict has no 'vocab_size'");
  return 0;
}

// ---- GCIDE --------------------------------------------------------------------------------------

namespace {

int64_t dictd_base64(const std::string& s) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  int64_t value = 0;
  for (char c : s) {
    size_t digit = alphabet.find(c);
    if (digit == std::string::npos) return -1;
    value = value * 64 + int64_t(digit);
  }
  return value;
}

// The letters of a GCIDE accent code such as [=a], ['e], [i^], [ae], [imac]; "" if it is none.
std::string accent_letters(const std::string& code) {
  static const char* const names[][2] = {{"ae", "ae"}, {"oe", "oe"}, {"AE", "AE"}, {"OE", "OE"}, {"imac", "i"},
                                         {"aum", "a"}, {"eth", "th"}, {"thorn", "th"}, {"edh", "th"}, {"ng", "ng"}};
  for (const auto& n : names)
    if (code == n[0]) return n[1];
  auto letters = [](const std::string& s) {
    return !s.empty() && s.size() <= 2 && std::all_of(s.begin(), s.end(), [](char c) { return std::isalpha(uint8_t(c)); });
  };
  static const std::string marks = "=.'\"~^`-,";
  if (code.size() >= 2 && marks.find(code[0]) != std::string::npos && letters(code.substr(1))) return code.substr(1);
  if (code.size() >= 2 && marks.find(code.back()) != std::string::npos && letters(code.substr(0, code.size() - 1)))
    return code.substr(0, code.size() - 1);
  return "";
}

std::string clean_line(const std::string& line) {
  std::string out;
  out.reserve(line.size());
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\\') {  // pronunciation \Af*fect"\ : dropped
      size_t close = line.find('\\', i + 1);
      if (close != std::string::npos) {
        i = close;
        while (!out.empty() && out.back() == ' ' && i + 1 < line.size() && line[i + 1] == ',') out.pop_back();
      }
      continue;
    }
    if (c == '{' || c == '}') continue;
    if (c == '[') {
      size_t close = line.find(']', i + 1);
      if (close != std::string::npos && close - i - 1 <= 5) {
        std::string letters = accent_letters(line.substr(i + 1, close - i - 1));
        if (!letters.empty()) {
          out += letters;
          i = close;
          continue;
        }
      }
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string GcideEntryText(const std::string& raw) {
  std::string text, paragraph;
  std::istringstream in(raw);
  std::string line;
  auto flush = [&] {
    if (!paragraph.empty()) text += paragraph + "\n";
    paragraph.clear();
  };
  while (std::getline(in, line)) {
    std::string t = clean_line(line);
    if (t.empty()) {
      flush();
      continue;
    }
    // A line that is one bracketed source tag ("[1913 Webster]", "[WordNet 1.5 +PJC]") is dropped.
    if (t.front() == '[' && t.back() == ']' && t.find(']') == t.size() - 1) continue;
    if (!paragraph.empty()) paragraph += ' ';
    paragraph += t;
  }
  flush();
  return text;
}

Corpus PrepareGcide(const GcideOptions& options) {
  if (options.max_documents < 0)
    fail("data.corpus(\"gcide\"): max_documents must be ≥ 0 (got ", options.max_documents,
         "): give the number of entries to prepare, or 0 (or leave it out) for all of them");
  std::string out = options.out;
  if (out.empty())
    out = cache_dir() + "/corpora/" +
          (options.max_documents > 0 ? str("gcide-first", options.max_documents, ".tok") : std::string("gcide.tok"));
  if (!options.refresh)
    if (Corpus c = cached(out); !c.empty()) return c;

  struct stat st;
  if (::stat(options.dict.c_str(), &st) != 0 || ::stat(options.index.c_str(), &st) != 0)
    fail("corpus gcide needs Debian's dict-gcide package: '", options.dict, "' or '", options.index,
         "' is missing; install it with `sudo bash setup.sh` (or apt-get install dict-gcide)");
  gzFile gz = gzopen(options.dict.c_str(), "rb");
  if (!gz) fail("gcide: cannot open '", options.dict, "': ", errno_text());
  gzbuffer(gz, 1 << 20);
  std::string raw;
  std::vector<char> chunk(1 << 22);
  for (;;) {
    int n = gzread(gz, chunk.data(), unsigned(chunk.size()));
    if (n < 0) {
      int code = 0;
      std::string message = gzerror(gz, &code);
      gzclose(gz);
      fail("gcide: cannot decompress '", options.dict, "': ", message);
    }
    if (n == 0) break;
    raw.append(chunk.data(), size_t(n));
  }
  gzclose(gz);

  std::ifstream index(options.index);
  if (!index) fail("gcide: cannot read '", options.index, "': ", errno_text());
  std::set<std::pair<int64_t, int64_t>> entries, skip;
  std::string line;
  while (std::getline(index, line)) {
    size_t a = line.find('\t'), b = line.find('\t', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    int64_t offset = dictd_base64(line.substr(a + 1, b - a - 1)), length = dictd_base64(line.substr(b + 1));
    if (offset < 0 || length <= 0 || offset + length > int64_t(raw.size()))
      fail("gcide: '", options.index, "' has an entry outside the dictionary: ", line);
    // The 00-database-* entries are the dictionary's own description and licence, not entries.
    (line.compare(0, 3, "00-") == 0 ? skip : entries).insert({offset, length});
  }
  CorpusMetadata m;
  m.name = options.max_documents > 0 ? str("gcide-first", options.max_documents) : "gcide";
  m.tokenizer = "bytes";
  m.source = str("GNU Collaborative International Dictionary of English 0.48 (Debian dict-gcide, ", options.dict,
                 "): markup stripped to plain text, one document per entry");
  m.license = "GPL-2.0-or-later (GCIDE, from Webster's Revised Unabridged Dictionary 1913 and WordNet 1.5)";
  CorpusWriter writer(256, m, out);
  int64_t added = 0;
  for (const auto& e : entries) {
    if (skip.count(e)) continue;
    if (options.max_documents > 0 && added >= options.max_documents) break;
    if ((added & 0xFFF) == 0) check_interrupt();
    std::string text = GcideEntryText(raw.substr(size_t(e.first), size_t(e.second)));
    if (text.empty()) continue;
    writer.AddBytes(text);
    ++added;
  }
  return writer.Finish();
}

Corpus NamedCorpus(const std::string& name, const NamedCorpusOptions& options) {
  // A blank name (a variable left empty) was "unknown corpus ''" beside the known names, as if misspelt.
  if (blank(name))
    fail("data.corpus: the name is blank (\"", name, "\"); give a known name (gcide) or the path of a corpus file");
  if (name == "gcide") {
    GcideOptions g;
    g.max_documents = options.max_documents;
    g.refresh = options.refresh;
    return PrepareGcide(g);
  }
  struct stat st;
  if (::stat(name.c_str(), &st) == 0) {
    // Options of a preparation have none to act on in a corpus file: max_documents = 10 read all of it.
    if (options.max_documents > 0 || options.refresh)
      fail("data.corpus: ", options.max_documents > 0 ? str("max_documents = ", options.max_documents) : std::string("refresh = true"),
           " prepares a named corpus (gcide); '", name, "' is a corpus file, read whole as it is: leave it out",
           options.max_documents > 0 ? ", or make a corpus of fewer documents (data.files, data.synthetic{ tokens = }) and open that"
                                     : "");
    return Corpus::Open(name);
  }
  const int stat_errno = errno;
  // A path (a folder in it, or a file extension) is a file that is not there, not a misspelt name.
  if (name.find('/') != std::string::npos || !std::filesystem::path(name).extension().empty())
    fail("data.corpus: unknown corpus '", name, "': there is no such file (", std::strerror(stat_errno),
         "); check the path, or give a known name (gcide). A corpus file comes from data.files{...} (text) or "
         "data.tokens_bin(...) (llm.c shards), and corpus:save(path)");
  std::string suggestion = closest_name(name, {"gcide"});
  fail("data.corpus: unknown corpus '", name, "'", suggestion.empty() ? "." : "; did you mean 'gcide'?",
       " Known names: gcide (the GNU Collaborative International Dictionary of English); or give the path of a "
       "corpus file; import text with data.files{...} and llm.c shards with data.tokens_bin(...)");
}

}  // namespace scalelab::data
