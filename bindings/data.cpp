// Lua module scalelab.native.data: corpora, synthetic sources, tokenizers and samplers
// (runtime/data). The Lua half is stdlib/scalelab/data.lua.
#include "bindings/data.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>

#include "bindings/binding.h"
#include "bindings/modules.h"
#include "core/units.h"
#include "data/corpus.h"
#include "data/sampler.h"
#include "data/synthetic.h"
#include "data/bpe.h"
#include "data/import.h"

namespace scalelab::lua {

struct SamplerObject {
  std::shared_ptr<data::RepetitionSampler> sampler;
  std::string Summary() const { return sampler->Summary(); }
};

struct HeldOutObject {
  std::shared_ptr<data::HeldOutSource> source;
  std::string Summary() const { return source->Summary(); }
};

struct TokenizerObject {
  std::shared_ptr<const data::BpeTokenizer> tokenizer;
  std::string Summary() const { return tokenizer->Summary(); }
};

template <>
struct TypeName<data::Corpus> {
  static constexpr const char* value = "scalelab.Corpus";
};
template <>
struct TypeName<SamplerObject> {
  static constexpr const char* value = "scalelab.Sampler";
};
template <>
struct TypeName<HeldOutObject> {
  static constexpr const char* value = "scalelab.HeldOut";
};
template <>
struct TypeName<TokenizerObject> {
  static constexpr const char* value = "scalelab.Tokenizer";
};

// The corpus file that out = (or corpus:save) names, checked before the corpus is made: a folder was
// found only at the end, after generating, importing or training a BPE, as "cannot rename
// '<folder>.tmp.<pid>' onto '<folder>': Is a directory"; a file that is no corpus (a text, a
// script: out = a typo) was replaced by the corpus. "" is out = left out.
std::string corpus_file_path(const char* function, const char* key, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  // A blank path (a variable of spaces) wrote the corpus to a file named "  " in the working folder.
  if (!path.empty() && path.find_first_not_of(" \t\r\n") == std::string::npos)
    fail(function, ": ", key, " = \"", path, "\" is blank; give the path of a corpus file",
         std::string(key) == "out" ? ", or leave out = out to keep the corpus in the cache folder" : "");
  if (!path.empty() && (path.back() == '/' || fs::is_directory(path, error)))
    fail(function, ": ", key, " = \"", path, "\" names a folder; give the path of a corpus file in it (", key, " = \"",
         (fs::path(path) / "corpus.tok").string(), "\")");
  if (!path.empty() && fs::is_regular_file(path, error) && fs::file_size(path, error) > 0 && !error &&
      !data::has_corpus_magic(path))
    fail(function, ": ", key, " = \"", path, "\" is a file that is not a scalelab corpus, and writing the corpus there "
         "would replace it; give another path (such as \"", path, ".tok\")");
  return path;
}

data::Corpus check_corpus(lua_State* L, int index, const std::string& function) {
  if (data::Corpus* c = test<data::Corpus>(L, index)) return *c;
  if (lua_isnil(L, index))
    fail(function, ": missing required key 'corpus': give corpus = data.corpus \"gcide\", data.files{...}, "
         "data.tokens_bin(...), data.synthetic{...} or data.bpe{...}");
  fail(function, ": corpus: expected a corpus (from data.corpus, data.files, data.tokens_bin, data.synthetic or data.bpe), got ",
       type_name(L, index));
}

std::shared_ptr<data::BatchSource> check_batch_source(lua_State* L, int index) {
  if (SamplerObject* s = test<SamplerObject>(L, index)) return s->sampler;
  if (HeldOutObject* h = test<HeldOutObject>(L, index)) return h->source;
  if (data::Corpus* c = test<data::Corpus>(L, index))
    fail("expected a batch source, got a corpus (", c->metadata().name.empty() ? "unnamed" : c->metadata().name,
         "): make a sampler from it, "
         "data.sampler{ corpus = c, tokens = D, seq_len = T, batch = B }, and pass that");
  std::string got = got_type(L, index);
  if (luaL_getmetafield(L, index, "__name") == LUA_TSTRING) {
    got = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  fail("expected a batch source (data.sampler{...} or sampler:held_out()), got ", got);
}

namespace {

using data::Corpus;

void push_string(lua_State* L, const std::string& s) { lua_pushlstring(L, s.data(), s.size()); }

// A split's warning (a held-out share far above the validation fraction asked), on stderr once a
// process: a study's runs and train.run's held-out source make the same split again.
// With function = nullptr the warning is only marked said: corpus:split() hands it to its caller (a
// study reports it among its plan's warnings), and the samplers of this process do not print it again.
void warn_once(const char* function, const data::Split& split) {
  static std::mutex mutex;
  static std::set<std::string> said;
  if (split.warning.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!said.insert(split.warning).second || function == nullptr) return;
  }
  std::fprintf(stderr, "%s: warning: %s\n", function, split.warning.c_str());
  std::fflush(stderr);
}

// f(), its errors that begin with `prefix` ("bpe: ", the words of the runtime) begun with `function`
// instead, the Lua call the user made; other errors (Ctrl-C too) pass through as they are.
template <class F>
auto as_called(const std::string& function, const std::string& prefix, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    const std::string why = e.what();
    if (why.rfind(prefix, 0) != 0) throw;
    fail(function, ": ", why.substr(prefix.size()));
  }
}

// A held-out source made for `function` (data.held_out, sampler:held_out): its errors began "held-out
// source: ", of no function called, and sampler:held_out's said to "raise validation", an option it has
// not got (the sampler's is).
std::shared_ptr<data::HeldOutSource> make_held_out(const std::string& function, data::Corpus corpus,
                                                   const data::HeldOutOptions& options) {
  try {
    return std::make_shared<data::HeldOutSource>(std::move(corpus), options);
  } catch (const Error& e) {
    const std::string prefix = "held-out source: ";
    std::string why = e.what();
    if (why.rfind(prefix, 0) != 0) throw;
    why = function + ": " + why.substr(prefix.size());
    const std::string raise = "raise validation";
    if (const size_t at = why.find(raise); at != std::string::npos && function == "sampler:held_out")
      why.replace(at, raise.size(), "make the sampler with a larger validation");
    fail(why);
  }
}

void push_ints(lua_State* L, const int32_t* values, int64_t count) {
  lua_createtable(L, int(count), 0);
  for (int64_t i = 0; i < count; ++i) {
    lua_pushinteger(L, values[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

std::vector<int32_t> to_ints(lua_State* L, int index, const char* what) {
  if (!lua_istable(L, index)) fail(what, " must be a table of token ids (got ", got_type(L, index), ")");
  std::vector<int32_t> out;
  lua_Integer n = luaL_len(L, index);
  out.reserve(size_t(n));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, index, i);
    int ok = 0;
    lua_Integer v = lua_tointegerx(L, -1, &ok);
    lua_pop(L, 1);
    if (!ok || v < 0 || v > INT32_MAX) fail(what, "[", i, "] is not a token id");
    out.push_back(int32_t(v));
  }
  return out;
}

// ---- corpus -------------------------------------------------------------------------------------

int open(lua_State* L) {
  std::string path = luaL_checkstring(L, 1);
  data::OpenOptions options;
  if (!lua_isnoneornil(L, 2)) {
    Args args(L, 2, "data.open", {"verify"});
    options.verify = args.boolean("verify", true);
  }
  push(L, Corpus::Open(path, options));
  return 1;
}

int corpus(lua_State* L) {
  std::string name = luaL_checkstring(L, 1);
  data::NamedCorpusOptions options;
  if (!lua_isnoneornil(L, 2)) {
    Args args(L, 2, "data.corpus", {"max_documents", "refresh"});
    options.max_documents = args.integer("max_documents", 0);
    options.refresh = args.boolean("refresh", false);
  }
  push(L, data::NamedCorpus(name, options));
  return 1;
}

int files(lua_State* L) {
  Args args(L, 1, "data.files", {"paths", "documents", "out", "name"});
  data::TextImportOptions options;
  if (args.push("paths") != LUA_TTABLE) {
    lua_pop(L, 1);
    fail("data.files: give the files and folders to read, as data.files{ \"notes.txt\", \"books/\" }");
  }
  lua_Integer n = luaL_len(L, -1);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, -1, i);
    if (!lua_isstring(L, -1)) fail("data.files: path ", i, " is not a string");
    options.paths.push_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  options.documents = args.string("documents", options.documents);
  options.out = corpus_file_path("data.files", "out", args.string("out", ""));
  options.name = args.string("name", "");
  push(L, data::ImportText(options));
  return 1;
}

int tokens_bin(lua_State* L) {
  Args args(L, 1, "data.tokens_bin", {"paths", "format", "vocab", "eot", "out", "name"});
  data::TokensBinOptions options;
  if (args.push("paths") != LUA_TTABLE) {
    lua_pop(L, 1);
    fail("data.tokens_bin: give the shard paths");
  }
  lua_Integer n = luaL_len(L, -1);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, -1, i);
    if (!lua_isstring(L, -1)) fail("data.tokens_bin: path ", i, " is not a string");
    options.paths.push_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  options.format = args.string("format", options.format);
  // vocab = 0 and eot = -2 are the runtime's "left out": given, they were taken as left out without a
  // word (vocab = 0 read the ids as GPT-2's 50257, eot = -2 split at GPT-2's end-of-text).
  if (args.has("vocab")) {
    options.vocab = args.integer("vocab");
    if (options.vocab <= 0)
      fail("data.tokens_bin: vocab must be positive (got ", options.vocab, "); give the vocabulary size of the tokenizer "
           "that made the ids, or leave vocab out for ", options.format == "nanogpt"
               ? "the vocab_size of the meta.pkl beside the file, else GPT-2's 50257"
               : "the tokenizer the shards' header names (GPT-2's 50257, LLaMA 3's 128256)");
  }
  if (args.has("eot")) {
    options.eot = args.integer("eot");
    if (options.eot < -1)
      fail("data.tokens_bin: eot must be a token id (0 or more), or -1 for none: each shard one document (got ",
           options.eot, "); leave it out for the end-of-text of the shards' tokenizer");
  }
  options.out = corpus_file_path("data.tokens_bin", "out", args.string("out", ""));
  options.name = args.string("name", "");
  std::vector<std::string> notes;
  Corpus made = data::ImportTokensBin(options, &notes);
  for (const auto& note : notes) std::fprintf(stderr, "data.tokens_bin: note: %s\n", note.c_str());
  push(L, made);
  return 1;
}

int synthetic(lua_State* L) {
  if (!lua_istable(L, 1))
    fail("data.synthetic expects a table of named arguments, like data.synthetic{ kind = \"markov\", vocab = 256, "
         "seed = 1 }; got ", got_type(L, 1));
  lua_getfield(L, 1, "kind");
  std::string kind = lua_isstring(L, -1) ? lua_tostring(L, -1) : "";
  // What kind was when it is no string: a table or a function said "got nothing".
  const std::string got = lua_isstring(L, -1) || lua_isnil(L, -1) ? "nothing" : type_name(L, -1);
  lua_pop(L, 1);
  if (kind == "markov") {
    Args args(L, 1, "data.synthetic",
              {"kind", "vocab", "order", "support", "zipf", "spread", "profiles", "epsilon", "seed", "tokens",
               "document_tokens", "stream_seed", "out"});
    data::MarkovOptions o;
    o.vocab = args.integer("vocab", o.vocab);
    o.order = args.int_value("order", o.order);
    o.support = args.integer("support", std::min<int64_t>(o.support, o.vocab));
    o.zipf = args.number("zipf", o.zipf);
    o.spread = args.number("spread", std::min(o.spread, o.zipf));
    o.profiles = args.int_value("profiles", o.profiles);
    o.epsilon = args.number("epsilon", o.epsilon);
    o.seed = uint64_t(args.count("seed", 0, 0, "the source's seed"));
    data::MarkovSource source(o);
    push(L, source.Generate(args.count("tokens", 1000000, 1, "tokens to generate"),
                            args.count("document_tokens", 4096, 1, "tokens per document"),
                            uint64_t(args.count("stream_seed", int64_t(o.seed), 0, "the stream's seed")),
                            corpus_file_path("data.synthetic", "out", args.string("out", ""))));
    return 1;
  }
  if (kind == "grammar") {
    Args args(L, 1, "data.synthetic",
              {"kind", "vocab", "nonterminals", "min_rules", "max_rules", "max_body", "zipf", "branching", "seed",
               "tokens", "document_tokens", "stream_seed", "out"});
    data::GrammarOptions o;
    o.vocab = args.integer("vocab", o.vocab);
    o.nonterminals = args.int_value("nonterminals", o.nonterminals);
    o.min_rules = args.int_value("min_rules", o.min_rules);
    o.max_rules = args.int_value("max_rules", static_cast<int>(std::min<int64_t>(o.max_rules, o.vocab)));
    o.max_body = args.int_value("max_body", o.max_body);
    o.zipf = args.number("zipf", o.zipf);
    o.branching = args.number("branching", o.branching);
    o.seed = uint64_t(args.count("seed", 0, 0, "the source's seed"));
    data::GrammarSource source(o);
    push(L, source.Generate(args.count("tokens", 1000000, 1, "tokens to generate"),
                            args.count("document_tokens", 4096, 1, "tokens per document"),
                            uint64_t(args.count("stream_seed", int64_t(o.seed), 0, "the stream's seed")),
                            corpus_file_path("data.synthetic", "out", args.string("out", ""))));
    return 1;
  }
  std::string suggestion = closest_name(kind, {"markov", "grammar"});
  fail("data.synthetic: kind must be \"markov\" or \"grammar\" (got ", kind.empty() ? got : "\"" + kind + "\"",
       ")", suggestion.empty() ? "" : "; did you mean \"" + suggestion + "\"?");
}

int bpe(lua_State* L) {
  Args args(L, 1, "data.bpe", {"corpus", "vocab", "out", "max_train_bytes", "validation"});
  args.push("corpus");
  Corpus source = check_corpus(L, -1, "data.bpe");
  lua_pop(L, 1);
  data::BpeOptions options;
  options.vocab = args.integer("vocab");
  options.out = corpus_file_path("data.bpe", "out", args.string("out", ""));
  options.max_train_bytes = args.integer("max_train_bytes", options.max_train_bytes);
  options.validation = args.number("validation", options.validation);
  std::vector<std::string> notes;
  Corpus made = data::TrainBpeCorpus(source, options, &notes);
  for (const auto& note : notes) std::fprintf(stderr, "data.bpe: note: %s\n", note.c_str());
  push(L, made);
  return 1;
}

int tokenizer(lua_State* L) {
  std::string path = luaL_checkstring(L, 1);
  std::shared_ptr<const data::BpeTokenizer> loaded;
  try {
    loaded = std::make_shared<const data::BpeTokenizer>(data::BpeTokenizer::Load(path));
  } catch (const std::exception& e) {
    // The loader's errors begin "bpe:" (data.bpe's words); here they are data.tokenizer's, and end with
    // what the function takes: a corpus's tokenizer name given for a file says so, and a path of no
    // tokenizer file (missing, or another file) says which file to give (it said nothing of it).
    std::string why = e.what();
    if (why.rfind("bpe: ", 0) == 0) why = why.substr(5);
    const bool name = path == "bytes" || path == "gpt2" || path == "llama3" || path == "synthetic" || path == "unknown";
    fail("data.tokenizer: ", why,
         name ? std::string("; \"") + path + "\" is the name of a corpus's tokenizer (corpus.tokenizer_name), not a "
                    "file: data.tokenizer loads a BPE tokenizer file that data.bpe saved (corpus.tokenizer gives a BPE "
                    "corpus's own)"
              : std::string("; give the path of a tokenizer file that data.bpe saved (beside its corpus, as "
                            "notes.bpe300.<8 hex digits>.tokenizer beside notes.bpe300.tok), or take a BPE corpus's own, "
                            "corpus.tokenizer"));
  }
  push(L, TokenizerObject{loaded});
  return 1;
}

template <class F>
int corpus_property(lua_State* L, F f) {
  f(L, check<Corpus>(L, 1));
  return 1;
}

int c_tokens(lua_State* L) {
  lua_pushinteger(L, check<Corpus>(L, 1).tokens());
  return 1;
}
int c_documents(lua_State* L) {
  lua_pushinteger(L, check<Corpus>(L, 1).documents());
  return 1;
}
int c_vocab(lua_State* L) {
  lua_pushinteger(L, check<Corpus>(L, 1).vocab());
  return 1;
}
int c_token_bytes(lua_State* L) {
  lua_pushinteger(L, check<Corpus>(L, 1).token_bytes());
  return 1;
}
template <std::string data::CorpusMetadata::*Field>
int c_meta(lua_State* L) {
  push_string(L, check<Corpus>(L, 1).metadata().*Field);
  return 1;
}
int c_path(lua_State* L) {
  push_string(L, check<Corpus>(L, 1).path());
  return 1;
}
int c_checksum(lua_State* L) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", unsigned(check<Corpus>(L, 1).checksum()));
  push_string(L, hex);
  return 1;
}
int c_entropy(lua_State* L) {
  double h = check<Corpus>(L, 1).metadata().entropy_per_token;
  if (std::isnan(h)) lua_pushnil(L);
  else lua_pushnumber(L, h);
  return 1;
}

// A method's positional whole-number argument (corpus:document(i)), named with the method and what it
// counts: luaL_checkinteger said "bad argument #1 to 'document' (number has no integer representation)",
// of no object and with no fix. A number in a string ("3") is taken, as Lua's check took it.
lua_Integer positional_integer(lua_State* L, int index, const std::string& call, const char* name, const std::string& what,
                               const std::string& example) {
  int ok = 0;
  const lua_Integer value = lua_tointegerx(L, index, &ok);
  if (ok) return value;
  const std::string got = lua_type(L, index) == LUA_TNUMBER ? format_number(lua_tonumber(L, index), 10) : got_type(L, index);
  fail(call, ": ", name, " must be a whole number, ", what, " (got ", got, "); e.g. ", example);
}

int c_read(lua_State* L) {
  const Corpus& c = check<Corpus>(L, 1);
  const std::string range = str("from 1 to ", c.tokens());
  const lua_Integer first = positional_integer(L, 2, "corpus:read(first, count)", "first",
                                               "the position of the first token to read, " + range, "corpus:read(1, 100)");
  const lua_Integer count = lua_isnoneornil(L, 3) ? 1 : positional_integer(L, 3, "corpus:read(first, count)", "count",
                                                                          "how many tokens to read (1 if left out)",
                                                                          "corpus:read(1, 100)");
  // Compared without first - 1 + count, which overflows for a first near 2^63 (math.maxinteger),
  // wrapped negative and read far outside the corpus.
  if (first < 1 || count < 0 || first > c.tokens() || count > c.tokens() - (first - 1))
    fail("corpus:read(", first, ", ", count, "): tokens ", first, "..",
         format_significant(static_cast<double>(first) + static_cast<double>(count) - 1, 20),
         " are outside the corpus's 1..", c.tokens(), "; give first >= 1 and first + count - 1 <= ", c.tokens());
  std::vector<int32_t> t = c.Tokens(first - 1, count);
  push_ints(L, t.data(), count);
  return 1;
}

// Was "document 0 is outside the corpus's 1..2", of no method called and with no word of the numbering.
int64_t check_document(lua_State* L, const Corpus& c, int index, const char* method) {
  const lua_Integer i = positional_integer(L, index, str("corpus:", method, "(i)"), "i",
                                           str("a document's number from 1 to ", c.documents(), " (corpus.documents)"),
                                           str("corpus:", method, "(1)"));
  if (i < 1 || i > c.documents())
    fail("corpus:", method, "(", i, "): document ", i, " is outside the corpus's documents 1..", c.documents(),
         " (numbered from 1, as Lua counts); give 1 <= i <= ", c.documents(), " (corpus.documents)");
  return i - 1;
}

int c_document(lua_State* L) {
  const Corpus& c = check<Corpus>(L, 1);
  int64_t d = check_document(L, c, 2, "document");
  std::vector<int32_t> t = c.Tokens(c.document_begin(d), c.document_end(d) - c.document_begin(d));
  push_ints(L, t.data(), int64_t(t.size()));
  return 1;
}

int c_text(lua_State* L) {
  const Corpus& c = check<Corpus>(L, 1);
  int64_t d = check_document(L, c, 2, "text");
  push_string(L, data::DecodeTokens(c, c.Tokens(c.document_begin(d), c.document_end(d) - c.document_begin(d))));
  return 1;
}

int c_decode(lua_State* L) {
  const Corpus& c = check<Corpus>(L, 1);
  // A byte corpus's "decode: token 1 is 300, not a byte" and a BPE corpus's "bpe: token 1 is ..." named
  // neither the method called nor the same words.
  const std::vector<int32_t> ids = to_ints(L, 2, "corpus:decode(tokens)");
  const std::string prefix = c.metadata().tokenizer == "bytes" ? "decode: " : "bpe: ";
  push_string(L, as_called("corpus:decode(tokens)", prefix, [&] { return data::DecodeTokens(c, ids); }));
  return 1;
}

int c_encode(lua_State* L) {
  const Corpus& c = check<Corpus>(L, 1);
  size_t n = 0;
  const char* s = luaL_checklstring(L, 2, &n);
  std::vector<int32_t> t = data::EncodeText(c, std::string(s, n));
  push_ints(L, t.data(), int64_t(t.size()));
  return 1;
}

int c_save(lua_State* L) {
  const Corpus& c = check<Corpus>(L, 1);
  const std::string path = corpus_file_path("corpus:save", "path", luaL_checkstring(L, 2));
  if (path.empty()) fail("corpus:save(path): give the path of a corpus file (got \"\")");
  c.Save(path);
  lua_settop(L, 1);
  return 1;
}

int c_split(lua_State* L) {
  const Corpus& c = check<Corpus>(L, 1);
  const double validation = luaL_optnumber(L, 2, 0.01);
  // Was Split::Make's "validation must be a fraction of documents in [0, 1) (got 1)", of no function.
  if (!(validation >= 0 && validation < 1))
    fail("corpus:split(validation): validation must be a fraction of documents in [0, 1) (got ", validation,
         "); give the share of documents to hold out (0.01, the default, holds out 1%), or 0 for none");
  data::Split s = data::Split::Make(c, validation);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, int64_t(s.train.size()));
  lua_setfield(L, -2, "train_documents");
  lua_pushinteger(L, int64_t(s.validation.size()));
  lua_setfield(L, -2, "validation_documents");
  lua_pushinteger(L, s.train_tokens);
  lua_setfield(L, -2, "train_tokens");
  lua_pushinteger(L, s.validation_tokens);
  lua_setfield(L, -2, "validation_tokens");
  lua_pushinteger(L, s.copies);
  lua_setfield(L, -2, "validation_copies");
  if (!s.warning.empty()) {
    push_string(L, s.warning);
    lua_setfield(L, -2, "warning");
    warn_once(nullptr, s);
  }
  return 1;
}

int c_tokenizer(lua_State* L) {
  const Corpus& c = check<Corpus>(L, 1);
  auto t = data::CorpusTokenizer(c);
  if (!t) {
    lua_pushnil(L);
    return 1;
  }
  push(L, TokenizerObject{t});
  return 1;
}

// ---- sampler ------------------------------------------------------------------------------------

int sampler(lua_State* L) {
  Args args(L, 1, "data.sampler",
            {"corpus", "unique_tokens", "tokens", "seq_len", "batch", "seed", "order_seed", "validation"});
  args.push("corpus");
  Corpus c = check_corpus(L, -1, "data.sampler");
  lua_pop(L, 1);
  data::SamplerOptions o;
  o.tokens = args.count("tokens", 1, "D, the training tokens planned");
  if (args.push("unique_tokens") == LUA_TSTRING) {
    std::string all = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (all != "all") fail("data.sampler: unique_tokens must be a number of tokens or \"all\" (got \"", all, "\")");
    o.unique_tokens = data::SamplerOptions::kAllTokens;
  } else {
    lua_pop(L, 1);
    if (args.has("unique_tokens") && !(args.number("unique_tokens", 0) >= 1))
      fail("data.sampler: unique_tokens (U) must be >= 1 token or \"all\" (got ", args.number("unique_tokens", 0),
           "); leave it out for U = tokens (fresh data)");
    o.unique_tokens = args.count("unique_tokens", 0, 1, "U, the unique tokens");
  }
  o.seq_len = args.count("seq_len", o.seq_len, 1, "T, tokens per row");
  o.batch = args.count("batch", o.batch, 1, "B, rows per batch");
  o.seed = uint64_t(args.count("seed", 0, 0, "the shuffle seed"));
  o.order_seed = args.count("order_seed", -1, 0, "the document order's seed");
  o.validation = args.number("validation", o.validation);
  auto made = std::make_shared<data::RepetitionSampler>(std::move(c), o);
  warn_once("data.sampler", made->split());
  push(L, SamplerObject{std::move(made)});
  return 1;
}

int held_out(lua_State* L) {
  Args args(L, 1, "data.held_out", {"corpus", "seq_len", "batch", "validation"});
  args.push("corpus");
  Corpus c = check_corpus(L, -1, "data.held_out");
  lua_pop(L, 1);
  data::HeldOutOptions o;
  o.seq_len = args.count("seq_len", o.seq_len, 1, "T, tokens per row");
  o.batch = args.count("batch", o.batch, 1, "B, rows per batch");
  o.validation = args.number("validation", o.validation);
  // Was the held-out source's "validation must be a fraction of documents in (0, 1) (got 0)", of no
  // function called and with no word of what to give.
  if (!(o.validation > 0 && o.validation < 1))
    fail("data.held_out: validation must be a fraction of documents in (0, 1) (got ", o.validation,
         "): the share of the corpus's documents held out, the training sampler's (0.01, the default, holds out 1%; "
         "sampler:held_out() takes its sampler's)", o.validation == 0 ? "; validation = 0 holds out no documents, so "
         "there is nothing to evaluate on" : "");
  auto made = make_held_out("data.held_out", std::move(c), o);
  warn_once("data.held_out", made->split());
  push(L, HeldOutObject{std::move(made)});
  return 1;
}

void push_batch(lua_State* L, const std::vector<int32_t>& tokens, int64_t B, int64_t T) {
  lua_createtable(L, int(B), 0);
  for (int64_t b = 0; b < B; ++b) {
    push_ints(L, tokens.data() + b * (T + 1), T + 1);
    lua_rawseti(L, -2, b + 1);
  }
}

int s_next_batch(lua_State* L) {
  auto& s = *check<SamplerObject>(L, 1).sampler;
  std::vector<int32_t> tokens;
  s.next_batch(tokens);
  push_batch(L, tokens, s.batch(), s.seq_len());
  return 1;
}

int s_stats(lua_State* L) {
  data::SamplerStats st = check<SamplerObject>(L, 1).sampler->stats();
  lua_createtable(L, 0, 16);
  set_integer(L, "rows", st.rows);
  set_integer(L, "steps", st.steps);
  set_integer(L, "tokens", st.tokens);
  set_integer(L, "planned_tokens", st.planned_tokens);
  set_integer(L, "planned_steps", st.planned_steps);
  set_integer(L, "unique_tokens", st.unique_tokens);
  set_integer(L, "unique_tokens_asked", st.unique_tokens_asked);
  set_integer(L, "epoch_tokens", st.epoch_tokens);
  set_integer(L, "windows", st.windows);
  set_integer(L, "documents", st.documents);
  set_number(L, "epochs", st.epochs);
  set_number(L, "planned_epochs", st.planned_epochs);
  set_integer(L, "full_epochs", st.full_epochs);
  lua_createtable(L, int(st.repetitions.size()), 1);
  for (size_t k = 0; k < st.repetitions.size(); ++k) {
    lua_pushinteger(L, st.repetitions[k]);
    lua_rawseti(L, -2, lua_Integer(k));
  }
  lua_setfield(L, -2, "repetitions");
  push_string(L, st.BriefReport());
  lua_setfield(L, -2, "report");
  return 1;
}

int s_state(lua_State* L) {
  push_string(L, check<SamplerObject>(L, 1).sampler->state());
  return 1;
}
// What a restore took but could not check (a state saved before states recorded the split), on stderr.
void say_restore_note(const char* function, const data::BatchSource& source) {
  const std::string note = source.restore_note();
  if (note.empty()) return;
  std::fprintf(stderr, "%s: warning: %s\n", function, note.c_str());
  std::fflush(stderr);
}

int s_restore(lua_State* L) {
  check<SamplerObject>(L, 1).sampler->restore(luaL_checkstring(L, 2));
  say_restore_note("sampler:restore", *check<SamplerObject>(L, 1).sampler);
  lua_settop(L, 1);
  return 1;
}
int s_times_seen(lua_State* L) {
  auto& s = *check<SamplerObject>(L, 1).sampler;
  lua_pushinteger(L, s.times_seen(positional_integer(L, 2, "sampler:times_seen(p)", "p",
                                                     "a target position of the unique stream, from 1",
                                                     "sampler:times_seen(1)")));
  return 1;
}
int s_held_out(lua_State* L) {
  auto& s = *check<SamplerObject>(L, 1).sampler;
  data::HeldOutOptions o;
  o.seq_len = s.seq_len();
  o.batch = s.batch();
  o.validation = s.options().validation;
  // Was "held-out source: validation must be a fraction of documents in (0, 1) (got 0)", of an option
  // this call has not got.
  if (o.validation == 0)
    fail("sampler:held_out: this sampler holds no documents out (validation = 0, it trains on all of them), so it has "
         "no held-out split; make it with validation > 0 (the default is 0.01), or evaluate on another corpus with "
         "data.held_out{ corpus = ... }");
  if (!lua_isnoneornil(L, 2)) {
    Args args(L, 2, "sampler:held_out", {"seq_len", "batch"});
    // Was the held-out source's "seq_len must be positive (got 0)", of no function called.
    o.seq_len = args.count("seq_len", o.seq_len, 1, "T, tokens per row");
    o.batch = args.count("batch", o.batch, 1, "B, rows per batch");
  }
  auto made = make_held_out("sampler:held_out", s.corpus(), o);
  warn_once("sampler:held_out", made->split());
  push(L, HeldOutObject{std::move(made)});
  return 1;
}
int s_exhausted(lua_State* L) {
  lua_pushboolean(L, check<SamplerObject>(L, 1).sampler->exhausted());
  return 1;
}
int s_corpus(lua_State* L) {
  push(L, check<SamplerObject>(L, 1).sampler->corpus());
  return 1;
}
template <int64_t data::SamplerOptions::*Field>
int s_option(lua_State* L) {
  lua_pushinteger(L, check<SamplerObject>(L, 1).sampler->options().*Field);
  return 1;
}
// unique_windows(U, train_tokens, tokens, seq_len, batch) -> N: the whole sequences a sampler of
// these options cuts its unique stream into (the study plans its runs' U in use with it).
int unique_windows(lua_State* L) {
  int64_t v[5];
  const char* names[] = {"U", "train_tokens", "tokens", "seq_len", "batch"};
  for (int i = 0; i < 5; ++i) {
    lua_Integer n = 0;
    if (!lua_isnumber(L, i + 1) || !lua_numbertointeger(std::floor(lua_tonumber(L, i + 1)), &n) ||
        double(n) != lua_tonumber(L, i + 1) || n < 1)
      fail("data.unique_windows: ", names[i], " (argument ", i + 1, ") must be a whole number >= 1 (got ",
           lua_type(L, i + 1) == LUA_TNUMBER ? format_significant(lua_tonumber(L, i + 1), 17) : type_name(L, i + 1), ")");
    v[i] = n;
  }
  lua_pushinteger(L, data::RepetitionSampler::UniqueWindows(v[0], v[1], v[2], v[3], v[4]));
  return 1;
}

// U as the sampler uses it: whole sequences of the U asked (tokens when left out, the training split's
// size for "all"), as many as the run's rows.
int s_unique_tokens(lua_State* L) {
  lua_pushinteger(L, check<SamplerObject>(L, 1).sampler->stats().unique_tokens);
  return 1;
}
int s_planned_tokens(lua_State* L) {
  lua_pushinteger(L, check<SamplerObject>(L, 1).sampler->stats().planned_tokens);
  return 1;
}
int s_order_seed(lua_State* L) {
  lua_pushinteger(L, int64_t(check<SamplerObject>(L, 1).sampler->options().document_order_seed()));
  return 1;
}
int s_seed(lua_State* L) {
  lua_pushinteger(L, int64_t(check<SamplerObject>(L, 1).sampler->options().seed));
  return 1;
}
int s_vocab(lua_State* L) {
  lua_pushinteger(L, check<SamplerObject>(L, 1).sampler->vocab());
  return 1;
}

int h_next_batch(lua_State* L) {
  auto& h = *check<HeldOutObject>(L, 1).source;
  std::vector<int32_t> tokens;
  h.next_batch(tokens);
  push_batch(L, tokens, h.batch(), h.seq_len());
  return 1;
}
int h_state(lua_State* L) {
  push_string(L, check<HeldOutObject>(L, 1).source->state());
  return 1;
}
int h_restore(lua_State* L) {
  check<HeldOutObject>(L, 1).source->restore(luaL_checkstring(L, 2));
  say_restore_note("held:restore", *check<HeldOutObject>(L, 1).source);
  lua_settop(L, 1);
  return 1;
}
int h_rewind(lua_State* L) {
  check<HeldOutObject>(L, 1).source->Rewind();
  lua_settop(L, 1);
  return 1;
}
template <int64_t (data::HeldOutSource::*Method)() const>
int h_count(lua_State* L) {
  lua_pushinteger(L, (check<HeldOutObject>(L, 1).source.get()->*Method)());
  return 1;
}

// ---- tokenizer ----------------------------------------------------------------------------------

int t_encode(lua_State* L) {
  size_t n = 0;
  const char* s = luaL_checklstring(L, 2, &n);
  std::vector<int32_t> ids = check<TokenizerObject>(L, 1).tokenizer->Encode(std::string(s, n));
  push_ints(L, ids.data(), int64_t(ids.size()));
  return 1;
}
int t_decode(lua_State* L) {
  const auto& t = *check<TokenizerObject>(L, 1).tokenizer;
  // Was "bpe: token 1 is 300, ...", the words of data.bpe, which the script did not call.
  const std::vector<int32_t> ids = to_ints(L, 2, "tokenizer:decode(tokens)");
  push_string(L, as_called("tokenizer:decode(tokens)", "bpe: ", [&] { return t.Decode(ids); }));
  return 1;
}
int t_vocab(lua_State* L) {
  lua_pushinteger(L, check<TokenizerObject>(L, 1).tokenizer->vocab());
  return 1;
}
int t_path(lua_State* L) {
  push_string(L, check<TokenizerObject>(L, 1).tokenizer->path());
  return 1;
}
int t_token(lua_State* L) {
  const auto& t = *check<TokenizerObject>(L, 1).tokenizer;
  const lua_Integer id = positional_integer(L, 2, "tokenizer:token(id)", "id",
                                            str("a token id from 0 to ", t.vocab() - 1), "tokenizer:token(65)");
  if (id < 0 || id >= t.vocab()) fail("tokenizer:token(", id, "): outside the vocabulary [0, ", t.vocab(), ")");
  push_string(L, t.TokenBytes(int32_t(id)));
  return 1;
}

}  // namespace

int open_data(lua_State* L) {
  Class<Corpus>::define(
      L,
      "A token corpus: documents of token ids, memory-mapped from a corpus file or held in memory. "
      "Properties tokens, documents, vocab, token_bytes, name, source, tokenizer, license, path, "
      "entropy_per_token (nats per token, synthetic sources only).",
      {{"read", &bound<c_read>, "corpus:read(first, count) -> token ids first..first+count-1 (1-based)"},
       {"document", &bound<c_document>, "corpus:document(i) -> the token ids of document i (1-based)"},
       {"text", &bound<c_text>, "corpus:text(i) -> document i decoded to text (byte and BPE corpora)"},
       {"decode", &bound<c_decode>, "corpus:decode(ids) -> text, with this corpus's tokenizer"},
       {"encode", &bound<c_encode>, "corpus:encode(text) -> ids, with this corpus's tokenizer"},
       {"save", &bound<c_save>, "corpus:save(path) writes the corpus file (temp file + rename)"},
       {"split", &bound<c_split>,
        "corpus:split([validation = 0.01]) -> { train_documents, validation_documents, train_tokens, "
        "validation_tokens, validation_copies [, warning] }: the held-out documents every sampler leaves out; exact copies "
        "of a text (the same tokens: a text in two files) are all on one side, and validation_copies counts the held-out "
        "documents that copy another held-out one; warning when they hold far "
        "more of the tokens than validation asks (whole documents of a corpus of few), which, handed to the caller "
        "here, data.sampler and data.held_out then do not print on stderr again in this process"}},
      {{"tokens", &bound<c_tokens>, "number of tokens"},
       {"documents", &bound<c_documents>, "number of documents"},
       {"vocab", &bound<c_vocab>, "vocabulary size"},
       {"token_bytes", &bound<c_token_bytes>, "bytes per token in the file: 1, 2 or 4"},
       {"name", &bound<c_meta<&data::CorpusMetadata::name>>, "short name"},
       {"source", &bound<c_meta<&data::CorpusMetadata::source>>, "where the tokens came from"},
       {"tokenizer", &bound<c_tokenizer>, "the BPE Tokenizer object of a BPE corpus, else nil"},
       {"tokenizer_name", &bound<c_meta<&data::CorpusMetadata::tokenizer>>,
        "\"bytes\", \"bpe:<file>\", \"gpt2\", \"llama3\", \"synthetic\" or \"unknown\" (token ids of a tokenizer "
        "scalelab does not know: a token file of a vocab smaller than GPT-2's)"},
       {"license", &bound<c_meta<&data::CorpusMetadata::license>>, "the text's license"},
       {"path", &bound<c_path>, "the corpus file (\"\" in memory)"},
       {"checksum", &bound<c_checksum>,
        "CRC-32 of the corpus's document table and tokens, 8 hex digits: what it holds, whatever its file's name"},
       {"entropy_per_token", &bound<c_entropy>,
        "exact entropy rate in nats per token (synthetic sources), else nil: the irreducible loss of a model with "
        "unlimited context, a lower bound for rows of seq_len tokens (their first targets see less context: an "
        "order-k source adds about k·(H(1-token context) − rate)/seq_len) and, for a markov source, for documents of "
        "document_tokens (a document's first k targets follow another document's tokens in the shuffled stream: "
        "help(data.synthetic))"}});

  Class<SamplerObject>::define(
      L,
      "A repetition sampler: U unique tokens (a prefix of one fixed seeded document order, so smaller U "
      "⊂ larger U), repeated over D/U epochs, each epoch a fresh shuffle of its sequences.",
      {{"next_batch", &bound<s_next_batch>, "sampler:next_batch() -> batch rows, each seq_len + 1 token ids"},
       {"stats", &bound<s_stats>,
        "sampler:stats() -> { tokens, steps, epochs, planned_tokens, epoch_tokens, repetitions = {[k] = "
        "positions seen k times}, ... }"},
       {"state", &bound<s_state>, "sampler:state() -> a string; sampler:restore(s) resumes from it bitwise"},
       {"restore", &bound<s_restore>, "sampler:restore(state) continues from a saved state"},
       {"times_seen", &bound<s_times_seen>, "sampler:times_seen(p) -> times unique-stream position p was a target"},
       {"held_out", &bound<s_held_out>,
        "sampler:held_out([{ seq_len =, batch = }]) -> the HeldOut source over this corpus's validation split"}},
      {{"exhausted", &bound<s_exhausted>, "true once every planned batch was delivered"},
       {"corpus", &bound<s_corpus>, "the corpus"},
       {"vocab", &bound<s_vocab>, "vocabulary size"},
       {"seq_len", &bound<s_option<&data::SamplerOptions::seq_len>>, "T"},
       {"batch", &bound<s_option<&data::SamplerOptions::batch>>, "B"},
       {"tokens", &bound<s_option<&data::SamplerOptions::tokens>>, "D as asked"},
       {"planned_tokens", &bound<s_planned_tokens>, "D rounded down to whole batches: what the sampler delivers"},
       {"unique_tokens", &bound<s_unique_tokens>,
        "U, the unique tokens used: the U asked (= tokens when left out; the training split's size for \"all\") in "
        "whole sequences of seq_len, as many as the run's rows"},
       {"seed", &bound<s_seed>, "the shuffle seed"},
       {"order_seed", &bound<s_order_seed>, "the document order's seed (= seed when left out)"}});

  Class<HeldOutObject>::define(
      // Its head, to ": ", is what an argument error says it wants (held.next_batch() with a dot said
      // "must be Deterministic batches over ... restarts a pass., got nothing").
      L, "A held-out source: deterministic batches over a corpus's validation split, cycling; rewind() restarts a pass.",
      {{"next_batch", &bound<h_next_batch>, "held:next_batch() -> batch rows of seq_len + 1 token ids"},
       {"state", &bound<h_state>, "held:state() -> string"},
       {"restore", &bound<h_restore>, "held:restore(state)"},
       {"rewind", &bound<h_rewind>, "held:rewind() starts again from the first batch"}},
      {{"windows", &bound<h_count<&data::HeldOutSource::windows>>, "sequences in one pass"},
       {"tokens", &bound<h_count<&data::HeldOutSource::tokens>>, "validation tokens"},
       {"batches_per_pass", &bound<h_count<&data::HeldOutSource::batches_per_pass>>, "batches covering the split once"},
       {"seq_len", &bound<h_count<&data::HeldOutSource::seq_len>>, "T"},
       {"batch", &bound<h_count<&data::HeldOutSource::batch>>, "B"}});

  Class<TokenizerObject>::define(
      L, "A byte-level BPE tokenizer: encode(text) -> ids, decode(ids) -> text, exact round trip.",
      {{"encode", &bound<t_encode>, "tokenizer:encode(text) -> ids"},
       {"decode", &bound<t_decode>, "tokenizer:decode(ids) -> text"},
       {"token", &bound<t_token>, "tokenizer:token(id) -> the bytes of one token"}},
      {{"vocab", &bound<t_vocab>, "vocabulary size"}, {"path", &bound<t_path>, "the tokenizer file"}});

  new_module(
      L, "Corpora, synthetic sources, BPE and the repetition sampler (the native half of the data module).",
      {{"open", &bound<open>, "open(path [, { verify = true }]) -> Corpus from a corpus file"},
       {"corpus", &bound<corpus>,
        "corpus(name_or_path [, { max_documents =, refresh = }]) -> Corpus: \"gcide\" (prepared and cached "
        "once) or a corpus file"},
       {"files", &bound<files>, "files{ paths = {...}, documents = \"file\"|\"paragraph\"|\"line\", out =, name = }"},
       {"tokens_bin", &bound<tokens_bin>, "tokens_bin{ paths = {...}, format = \"llmc\"|\"nanogpt\", vocab =, eot =, out = }"},
       {"synthetic", &bound<synthetic>, "synthetic{ kind = \"markov\"|\"grammar\", ... } -> Corpus with entropy_per_token"},
       {"bpe", &bound<bpe>, "bpe{ corpus =, vocab = [, out =] [, validation = 0.01] [, max_train_bytes = 64 MiB] } -> the corpus "
        "re-encoded with a BPE trained on its training split (an existing out file is reused only if made "
        "from the same source contents and options)"},
       {"tokenizer", &bound<tokenizer>, "tokenizer(path) -> Tokenizer from a saved BPE file"},
       {"sampler", &bound<sampler>,
        "sampler{ corpus =, tokens = D [, unique_tokens = U] [, seq_len = 256] [, batch = 8] [, seed = 0] "
        "[, order_seed = seed] [, validation = 0.01] } -> Sampler"},
       {"held_out", &bound<held_out>, "held_out{ corpus = [, seq_len =, batch =, validation = 0.01] } -> HeldOut"},
       {"unique_windows", &bound<unique_windows>,
        "data.unique_windows(U, train_tokens, tokens, seq_len, batch) -> the whole sequences of seq_len targets a sampler "
        "of these options trains on (its U in use is that times seq_len)"}});
  return 1;
}

}  // namespace scalelab::lua
