#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <sys/stat.h>
#include <sys/wait.h>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/corpus.h"
#include "data/import.h"
#include "data/rng.h"
#include "data/sampler.h"
#include "data/synthetic.h"

using namespace scalelab;
using namespace scalelab::data;

namespace {

std::string temp_path(const std::string& name) {
  return "/tmp/scalelab_test_data_" + std::to_string(::getpid()) + "_" + name;
}

// A corpus whose token at position p is p itself (vocab = tokens): every delivered token names
// the position it came from. Document lengths vary from 1 to 300.
Corpus position_corpus(int64_t tokens, uint64_t seed = 7) {
  CorpusMetadata m;
  m.name = "positions";
  CorpusWriter writer(tokens, m);
  Rng rng(seed);
  int64_t at = 0;
  while (at < tokens) {
    int64_t n = std::min<int64_t>(tokens - at, 1 + int64_t(rng.below(300)));
    std::vector<int32_t> doc(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) doc[size_t(i)] = int32_t(at + i);
    writer.AddDocument(doc);
    at += n;
  }
  return writer.Finish();
}

std::vector<int32_t> drain(RepetitionSampler& sampler) {
  std::vector<int32_t> all, batch;
  while (!sampler.exhausted()) {
    sampler.next_batch(batch);
    all.insert(all.end(), batch.begin(), batch.end());
  }
  return all;
}

void flip_byte(const std::string& path, long offset) {
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  REQUIRE(f);
  std::fseek(f, offset, offset < 0 ? SEEK_END : SEEK_SET);
  int c = std::fgetc(f);
  std::fseek(f, offset, offset < 0 ? SEEK_END : SEEK_SET);
  std::fputc(c ^ 0x5A, f);
  std::fclose(f);
}

}  // namespace

TEST_CASE("corpus files round-trip at every token width") {
  for (int64_t vocab : {200, 256, 5000, 65536, 100000}) {
    CorpusMetadata m;
    m.name = "round trip";
    m.source = "test\nwith a newline and a \\ backslash";
    m.tokenizer = "bytes";
    m.license = "CC0";
    m.entropy_per_token = 1.2345678901234567;
    m.extra["note"] = "kept";
    CorpusWriter writer(vocab, m);
    Rng rng{static_cast<uint64_t>(vocab)};
    std::vector<std::vector<int32_t>> docs;
    for (int d = 0; d < 50; ++d) {
      std::vector<int32_t> doc(1 + rng.below(100));
      for (auto& t : doc) t = int32_t(rng.below(uint64_t(vocab)));
      doc[0] = int32_t(vocab - 1);
      writer.AddDocument(doc);
      docs.push_back(doc);
    }
    std::string path = temp_path("roundtrip.tok");
    Corpus written = writer.Write(path);
    Corpus c = Corpus::Open(path);
    CHECK(c.vocab() == vocab);
    CHECK(c.token_bytes() == token_bytes_for_vocab(vocab));
    CHECK(c.documents() == 50);
    CHECK(c.metadata().source == m.source);
    CHECK(c.metadata().license == "CC0");
    CHECK(c.metadata().extra.at("note") == "kept");
    CHECK(c.metadata().entropy_per_token == m.entropy_per_token);
    for (int d = 0; d < 50; ++d) {
      int64_t b = c.document_begin(d), e = c.document_end(d);
      CHECK(c.Tokens(b, e - b) == docs[size_t(d)]);
    }
    CHECK(c.Tokens(c.tokens() - 1, 1).size() == 1);
    CHECK_THROWS_WITH(c.Tokens(c.tokens() - 1, 2), Catch::Contains("outside the corpus's"));
    // Save of an opened corpus writes the same bytes back.
    std::string copy = temp_path("copy.tok");
    c.Save(copy);
    Corpus again = Corpus::Open(copy);
    CHECK(again.Tokens(0, again.tokens()) == c.Tokens(0, c.tokens()));
    std::remove(path.c_str());
    std::remove(copy.c_str());
  }
}

TEST_CASE("corrupted, truncated, missing and foreign corpus files are clear errors") {
  CorpusWriter writer(256, CorpusMetadata{});
  writer.AddBytes("hello world, this is a corpus");
  writer.AddBytes("and a second document");
  std::string path = temp_path("corrupt.tok");
  writer.Write(path);
  CHECK_NOTHROW(Corpus::Open(path));

  flip_byte(path, 130);  // a token
  CHECK_THROWS_WITH(Corpus::Open(path), Catch::Contains("data checksum mismatch"));
  CHECK_NOTHROW(Corpus::Open(path, OpenOptions{false}));  // the header is still fine
  flip_byte(path, 130);
  flip_byte(path, -3);  // the metadata at the end
  CHECK_THROWS_WITH(Corpus::Open(path), Catch::Contains("data checksum mismatch"));
  flip_byte(path, -3);
  flip_byte(path, 30);  // the vocabulary field
  CHECK_THROWS_WITH(Corpus::Open(path), Catch::Contains("corrupted header"));
  flip_byte(path, 30);
  std::ofstream(path, std::ios::binary | std::ios::app) << '\0';  // a byte after the metadata
  CHECK_THROWS_WITH(Corpus::Open(path), Catch::Contains("corrupted header or is truncated"));
  REQUIRE(::truncate(path.c_str(), 200) == 0);
  CHECK_THROWS_WITH(Corpus::Open(path), Catch::Contains("truncated"));
  {
    std::ofstream out(path);
    out << "this is plain text, long enough to have a header's worth of bytes in it, but not a corpus at all. "
           "not a corpus at all. not a corpus at all.";
  }
  CHECK_THROWS_WITH(Corpus::Open(path), Catch::Contains("not a scalelab corpus (wrong magic bytes); import text with data.files, "
                                                        "llm.c shards with data.tokens_bin"));
  // A text shorter than the header was told its size alone, not how to read it.
  std::ofstream(path, std::ios::trunc) << "a short note\n";
  CHECK_THROWS_WITH(Corpus::Open(path), Catch::Equals("'" + path + "' is not a scalelab corpus: 13 bytes, shorter than the "
                                                      "128-byte header; import text with data.files, llm.c shards with "
                                                      "data.tokens_bin"));
  std::remove(path.c_str());
  CHECK_THROWS_WITH(Corpus::Open(path), Catch::Contains("cannot open corpus file '" + path));

  // Files whose checksums are right but whose contents no writer makes: a token equal to the
  // vocabulary (ids are [0, vocab)), and an empty document (starts must increase strictly).
  const uint8_t tokens[] = {0, 1, 4, 2, 5};
  const int64_t one_document[] = {0, 5};
  WriteCorpusFile(path, 5, 1, CorpusMetadata{}, tokens, 5, one_document, 1);
  CHECK_THROWS_WITH(Corpus::Open(path), Catch::Contains("token 4 is 5, beyond the vocabulary of 5"));
  const int64_t empty_document[] = {0, 2, 2, 4};
  WriteCorpusFile(path, 6, 1, CorpusMetadata{}, tokens, 4, empty_document, 3);
  CHECK_THROWS_WITH(Corpus::Open(path), Catch::Contains("corrupted document table"));
  const int64_t three_documents[] = {0, 2, 3, 4};
  WriteCorpusFile(path, 6, 1, CorpusMetadata{}, tokens, 4, three_documents, 3);
  CHECK(Corpus::Open(path).documents() == 3);  // the control: the same file with no empty document
  std::remove(path.c_str());
}

TEST_CASE("a folder or a named pipe is said not to be a corpus file, and opening a pipe does not wait") {
  const std::string folder = temp_path("folder.tok");
  REQUIRE(::mkdir(folder.c_str(), 0755) == 0);
  CHECK_THROWS_WITH(Corpus::Open(folder), Catch::Contains("'" + folder + "' is a folder, not a corpus file"));  // was "No such device"
  ::rmdir(folder.c_str());
  // A named pipe: opening it waited for a writer. The open runs in a child, which the test ends if it waits.
  const std::string pipe = temp_path("pipe.tok");
  REQUIRE(::mkfifo(pipe.c_str(), 0644) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::alarm(5);
    try {
      Corpus::Open(pipe);
    } catch (const Error& e) {
      ::_exit(std::string(e.what()).find("is not a regular file, not a corpus file") != std::string::npos ? 0 : 2);
    }
    ::_exit(3);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  std::remove(pipe.c_str());
  CHECK(WIFEXITED(status));  // not killed by its alarm
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a streaming writer writes the same file as an in-memory one, and nothing if unfinished") {
  CorpusMetadata m;
  m.name = "stream";
  CorpusWriter memory(60000, m);
  std::string path = temp_path("stream.tok"), copy = temp_path("memory.tok");
  {
    CorpusWriter stream(60000, m, path);
    Rng rng(3);
    std::vector<int32_t> doc;
    while (stream.tokens() < 6000000) {  // 12 MB: past the 8 MB flush threshold
      doc.resize(1 + rng.below(5000));
      for (auto& t : doc) t = int32_t(rng.below(60000));
      stream.AddDocument(doc);
      memory.AddDocument(doc);
    }
    Corpus s = stream.Finish();
    Corpus c = memory.Write(copy);
    Corpus verified = Corpus::Open(path);  // checksum recomputed over the whole file
    CHECK(verified.tokens() == c.tokens());
    CHECK(verified.documents() == c.documents());
    CHECK(verified.Tokens(0, verified.tokens()) == c.Tokens(0, c.tokens()));
  }
  std::ifstream a(path, std::ios::binary), b(copy, std::ios::binary);
  std::string x((std::istreambuf_iterator<char>(a)), {}), y((std::istreambuf_iterator<char>(b)), {});
  CHECK(x == y);  // byte-identical files
  std::remove(path.c_str());
  std::remove(copy.c_str());
  {
    CorpusWriter unfinished(256, m, path);
    unfinished.AddBytes("interrupted before Finish");
  }
  struct stat st;
  CHECK(::stat(path.c_str(), &st) != 0);
  CHECK(::stat((path + ".tmp." + std::to_string(::getpid())).c_str(), &st) != 0);
}

TEST_CASE("ExtendDocument appends to the last document, and starts one when there is none") {
  CorpusWriter writer(10, CorpusMetadata{});
  const int32_t a[] = {1, 2}, b[] = {3}, c[] = {4, 5, 6};
  writer.ExtendDocument(a, 2);  // no document yet: this one starts the first
  CHECK(writer.documents() == 1);
  writer.ExtendDocument(b, 1);
  writer.AddDocument(c, 3);
  writer.ExtendDocument(b, 1);
  CHECK(writer.documents() == 2);
  Corpus corpus = writer.Finish();
  REQUIRE(corpus.documents() == 2);
  CHECK(corpus.Tokens(corpus.document_begin(0), corpus.document_end(0)) == std::vector<int32_t>{1, 2, 3});
  CHECK(corpus.Tokens(corpus.document_begin(1), 4) == std::vector<int32_t>{4, 5, 6, 3});
  // ExtendBytes does the same with bytes (an importer streams a long line through it).
  CorpusWriter bytes(256, CorpusMetadata{});
  bytes.ExtendBytes("ab");  // no document yet: this one starts the first
  bytes.ExtendBytes("");
  bytes.ExtendBytes("c");
  bytes.AddBytes("d");
  bytes.ExtendBytes("e");
  const Corpus text = bytes.Finish();
  REQUIRE(text.documents() == 2);
  CHECK(text.Tokens(0, text.document_end(0)) == std::vector<int32_t>{'a', 'b', 'c'});
  CHECK(text.Tokens(text.document_begin(1), 2) == std::vector<int32_t>{'d', 'e'});
}

TEST_CASE("token ids beyond the vocabulary and empty corpora are rejected") {
  CorpusWriter writer(100, CorpusMetadata{});
  std::vector<int32_t> bad{1, 2, 100};
  CHECK_THROWS_WITH(writer.AddDocument(bad, "shard.bin"), Catch::Contains("shard.bin: token 2 is 100, outside the vocabulary [0, 100)"));
  CorpusMetadata m;
  m.source = "folder /nothing";
  CorpusWriter empty(256, m);
  CHECK_THROWS_WITH(empty.Finish(), Catch::Contains("empty corpus: folder /nothing"));
}

TEST_CASE("the validation split is disjoint, complete, deterministic and nested in its fraction") {
  Corpus c = position_corpus(100000);
  Split a = Split::Make(c, 0.05), b = Split::Make(c, 0.05), big = Split::Make(c, 0.2);
  CHECK(a.validation == b.validation);
  std::set<int64_t> val(a.validation.begin(), a.validation.end());
  for (int64_t d : a.train) CHECK(val.count(d) == 0);
  CHECK(int64_t(a.train.size() + a.validation.size()) == c.documents());
  CHECK(a.validation.size() == size_t(std::ceil(0.05 * double(c.documents()))));
  std::set<int64_t> bigval(big.validation.begin(), big.validation.end());
  for (int64_t d : a.validation) CHECK(bigval.count(d) == 1);
  CHECK(a.train_tokens + a.validation_tokens == c.tokens());

  CorpusWriter one(256, CorpusMetadata{});
  one.AddBytes("a single document");
  Corpus single = one.Finish();
  CHECK_THROWS_WITH(Split::Make(single, 0.01), Catch::Contains("validation split needs at least 2"));
  CHECK(Split::Make(single, 0).train.size() == 1);

  // The fix named is the one of the importer that made the corpus (documents = "paragraph" was named
  // to a synthetic corpus of one document and to llm.c shards, where it is no option).
  auto one_document = [](const std::string& tokenizer) {
    CorpusMetadata m;
    m.name = "one";
    m.tokenizer = tokenizer;
    CorpusWriter writer(256, m);
    writer.AddDocument(std::vector<int32_t>(4000, 7));
    return writer.Finish();
  };
  CHECK_THROWS_WITH(Split::Make(one_document("bytes"), 0.01),
                    Catch::Contains("at least 2: import it with more documents (documents = \"paragraph\" or \"line\" in "
                                    "data.files), or set validation = 0"));
  CHECK_THROWS_WITH(Split::Make(one_document("synthetic"), 0.01),
                    Catch::Contains("at least 2: make it with a document_tokens below its 4000 tokens (data.synthetic{ ..., "
                                    "document_tokens = 512 }), or set validation = 0"));
  CHECK_THROWS_WITH(Split::Make(one_document("gpt2"), 0.01),
                    Catch::Contains("at least 2: import it split at its end-of-text token (eot = its id in data.tokens_bin), "
                                    "or from more shards with eot = -1 (each shard one document), or set validation = 0"));
  MarkovOptions o;
  o.vocab = 16;
  o.support = 8;
  const Corpus synthetic = MarkovSource(o).Generate(4000, 4096, 1);  // the default document_tokens: one document
  CHECK_THROWS_WITH(Split::Make(synthetic, 0.01), Catch::Contains("document_tokens below its 4000 tokens"));
}

TEST_CASE("Feistel permutations are bijections with exact inverses") {
  for (int64_t n : {1, 2, 3, 5, 16, 17, 1000, 4097}) {
    Permutation p(n, uint64_t(n) * 31);
    std::vector<int> hit(size_t(n), 0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t j = p(i);
      REQUIRE(j >= 0);
      REQUIRE(j < n);
      hit[size_t(j)]++;
      CHECK(p.inverse(j) == i);
    }
    for (int h : hit) CHECK(h == 1);
  }
  // Different keys give different orders.
  Permutation p(1000, 1), q(1000, 2);
  int same = 0;
  for (int64_t i = 0; i < 1000; ++i) same += p(i) == q(i);
  CHECK(same < 20);
}

TEST_CASE("each epoch's shuffle is fresh: a window's position is uniform across epochs") {
  // Window 0's position over 4000 epochs of 50 windows: a chi-square test of uniformity, and
  // consecutive epochs' positions uncorrelated.
  Corpus c = position_corpus(20000);
  SamplerOptions o;
  o.unique_tokens = 50 * 64;
  o.tokens = int64_t(50) * 64 * 4000;
  o.seq_len = 64;
  o.batch = 50;
  RepetitionSampler s(c, o);
  std::vector<double> count(50, 0.0);
  std::vector<double> position;
  for (int64_t e = 0; e < 4000; ++e)
    for (int64_t i = 0; i < 50; ++i)
      if (s.window_of_row(e * 50 + i) == 0) {
        count[size_t(i)] += 1;
        position.push_back(double(i));
      }
  REQUIRE(position.size() == 4000);
  double chi2 = 0;
  for (double k : count) chi2 += (k - 80.0) * (k - 80.0) / 80.0;
  INFO("chi2 " << chi2);
  CHECK(chi2 < 90);  // 49 degrees of freedom: P(chi2 > 90) ≈ 3e-4
  double mean = 24.5, sxy = 0, sxx = 0;
  for (size_t e = 0; e + 1 < position.size(); ++e) {
    sxy += (position[e] - mean) * (position[e + 1] - mean);
    sxx += (position[e] - mean) * (position[e] - mean);
  }
  CHECK(std::abs(sxy / sxx) < 0.07);  // ~4.4 standard errors of 1/sqrt(4000)
}

TEST_CASE("smaller unique subsets are nested inside larger ones and never touch validation") {
  Corpus c = position_corpus(200000);
  Split split = Split::Make(c, 0.01);
  std::set<int32_t> validation;
  for (int64_t d : split.validation)
    for (int64_t p = c.document_begin(d); p < c.document_end(d); ++p) validation.insert(int32_t(p));

  std::vector<std::set<int32_t>> seen;
  for (int64_t U : {5000, 20000, 80000, 190000}) {
    SamplerOptions o;
    o.unique_tokens = U;
    o.tokens = 100000;
    o.seq_len = 64;
    o.batch = 4;
    o.seed = uint64_t(U);  // the shuffles differ; the order (order_seed) is shared
    o.order_seed = 3;
    RepetitionSampler s(c, o);
    std::vector<int32_t> all = drain(s);
    std::set<int32_t> tokens(all.begin(), all.end());
    std::set<int32_t> subset;
    for (int64_t p = 0; p < s.unique_stream().size(); ++p) subset.insert(int32_t(s.unique_stream().CorpusOffset(p)));
    for (int32_t t : tokens) REQUIRE(validation.count(t) == 0);
    for (int32_t t : tokens) REQUIRE(subset.count(t) == 1);
    // Every token this run trained on lies in every larger run's subset.
    for (const auto& smaller : seen)
      for (int32_t t : smaller) REQUIRE(subset.count(t) == 1);
    seen.push_back(tokens);
  }
  // The unique stream of the smaller U is literally a prefix of the larger's.
  SamplerOptions small, large;
  small.unique_tokens = 5000;
  large.unique_tokens = 80000;
  small.tokens = large.tokens = 10000;
  small.seq_len = large.seq_len = 64;
  small.order_seed = large.order_seed = 3;
  RepetitionSampler a(c, small), b(c, large);
  for (int64_t p = 0; p < a.unique_stream().size(); ++p)
    REQUIRE(a.unique_stream().CorpusOffset(p) == b.unique_stream().CorpusOffset(p));
}

TEST_CASE("epochs and repetition counts are exact, fractional last epoch included") {
  Corpus c = position_corpus(50000);
  SamplerOptions o;
  o.unique_tokens = 6400;   // N = 100 windows of 64
  o.tokens = 3 * 6400 + 37 * 64 * 1 + 50;  // 3 full epochs and a fraction; rounds down to whole batches
  o.seq_len = 64;
  o.batch = 8;
  o.seed = 11;
  RepetitionSampler s(c, o);
  SamplerStats before = s.stats();
  CHECK(before.windows == 100);
  CHECK(before.epoch_tokens == 6400);
  CHECK(before.planned_tokens == (o.tokens / (8 * 64)) * 8 * 64);
  CHECK(before.repetitions == std::vector<int64_t>{6400});

  // Count how often each position was a target, from the delivered tokens themselves.
  std::map<int32_t, int64_t> count;
  std::vector<int32_t> batch;
  int64_t rows = 0;
  while (!s.exhausted()) {
    s.next_batch(batch);
    for (int64_t r = 0; r < 8; ++r, ++rows) {
      for (int64_t i = 1; i <= 64; ++i) count[batch[size_t(r * 65 + i)]]++;
      // Consecutive tokens in a window are consecutive stream positions.
      int64_t w = s.window_of_row(rows);
      CHECK(batch[size_t(r * 65)] == int32_t(s.unique_stream().CorpusOffset(w * 64)));
    }
  }
  SamplerStats st = s.stats();
  CHECK(st.tokens == st.planned_tokens);
  CHECK(st.tokens == rows * 64);
  CHECK(st.epochs == Approx(double(rows) / 100.0));
  CHECK(st.full_epochs == rows / 100);
  std::vector<int64_t> histogram(st.repetitions.size(), 0);
  for (int64_t p = 1; p <= 6400; ++p) {
    int32_t id = int32_t(s.unique_stream().CorpusOffset(p));
    int64_t k = count.count(id) ? count[id] : 0;
    REQUIRE(k == s.times_seen(p));
    REQUIRE(size_t(k) < histogram.size());
    histogram[size_t(k)]++;
  }
  CHECK(histogram == st.repetitions);
  int64_t total = 0;
  for (auto& [id, k] : count) total += k;
  CHECK(total == st.tokens);  // no target position outside the unique subset
  CHECK_THROWS_WITH(s.next_batch(batch), Catch::Contains("sampler exhausted"));
}

TEST_CASE("U = D is plain fresh sampling: no position repeats") {
  Corpus c = position_corpus(100000);
  SamplerOptions o;
  o.tokens = 50000;  // unique_tokens left 0: U = D
  o.seq_len = 100;
  o.batch = 7;
  RepetitionSampler s(c, o);
  std::vector<int32_t> all = drain(s);
  std::map<int32_t, int> targets;
  for (size_t r = 0; r < all.size() / 101; ++r)
    for (size_t i = 1; i <= 100; ++i) REQUIRE(++targets[all[r * 101 + i]] == 1);
  SamplerStats st = s.stats();
  CHECK(st.epochs <= 1.0);
  CHECK(st.repetitions.size() == 2);
  CHECK(st.repetitions[1] == st.tokens);
}

TEST_CASE("samplers are deterministic and resume bitwise from a saved state") {
  MarkovOptions mo;
  mo.vocab = 64;
  mo.order = 1;
  mo.support = 8;
  Corpus c = MarkovSource(mo).Generate(60000, 500, 1);
  SamplerOptions o;
  o.unique_tokens = 10000;
  o.tokens = 40000;
  o.seq_len = 32;
  o.batch = 5;
  o.seed = 9;
  RepetitionSampler a(c, o), b(c, o);
  std::vector<int32_t> x, y;
  std::string saved;
  std::vector<std::vector<int32_t>> rest;
  for (int i = 0; i < 60; ++i) {
    a.next_batch(x);
    b.next_batch(y);
    REQUIRE(x == y);
  }
  saved = a.state();
  while (!a.exhausted()) {
    a.next_batch(x);
    rest.push_back(x);
  }
  RepetitionSampler resumed(c, o);
  resumed.restore(saved);
  CHECK(resumed.stats().rows == 300);
  for (const auto& expected : rest) {
    resumed.next_batch(y);
    REQUIRE(y == expected);
  }
  // Another seed shuffles differently; another sampler's state is refused.
  SamplerOptions other = o;
  other.seed = 10;
  RepetitionSampler c2(c, other), a2(c, o);
  c2.next_batch(x);
  a2.next_batch(y);
  CHECK(x != y);
  CHECK_THROWS_WITH(c2.restore(saved), Catch::Contains("with seed = 9, and this sampler has seed = 10; restore it "
                                                       "into a sampler of seed = 9"));
  CHECK_THROWS_WITH(c2.restore("nonsense"), Catch::Contains("not a state saved by one"));

  // A state names the sequences it shuffles. One saved before it did (no " windows=") restores where
  // the earlier rule, floor(min(U, split − 1) / T), cut as many as this sampler; where it cut more
  // (U > D: now as many as the run's rows) it is refused, not resumed into another shuffle.
  CHECK(saved.find(" windows=312") != std::string::npos);  // floor(10000 / 32)
  const std::string before = saved.substr(0, saved.find(" windows="));
  RepetitionSampler old_state(c, o);
  old_state.restore(before);
  CHECK(old_state.stats().rows == 300);
  SamplerOptions fresh = o;
  fresh.unique_tokens = 30000;
  fresh.tokens = 20000;  // 125 batches of 5 rows: 625 sequences of the 937 U holds
  RepetitionSampler f(c, fresh), g(c, fresh);
  f.next_batch(x);
  const std::string fresh_state = f.state();
  CHECK(fresh_state.find(" windows=625") != std::string::npos);
  g.restore(fresh_state);
  CHECK_THROWS_WITH(g.restore(fresh_state.substr(0, fresh_state.find(" windows="))),
                    Catch::Contains("it was saved cutting the unique stream into 937 sequences, and this one cuts it "
                                    "into 625") && Catch::Contains("resume = false"));
}

TEST_CASE("sampler input errors name the sizes and the fix") {
  Corpus c = position_corpus(10000);
  SamplerOptions o;
  o.tokens = 100000;
  o.unique_tokens = 20000;
  o.seq_len = 64;
  try {
    RepetitionSampler s(c, o);
    FAIL("expected an error");
  } catch (const Error& e) {
    std::string m = e.what();
    CHECK_THAT(m, Catch::Contains("unique_tokens U = 20000"));
    CHECK_THAT(m, Catch::Contains("training split of corpus positions"));
    Split split = Split::Make(c, 0.01);
    CHECK_THAT(m, Catch::Contains(std::to_string(split.train_tokens) + " tokens"));
  }
  o.unique_tokens = SamplerOptions::kAllTokens;  // the whole training split, repeated
  {
    RepetitionSampler all(c, o);
    Split split = Split::Make(c, 0.01);
    CHECK(all.stats().unique_tokens_asked == split.train_tokens);
    CHECK(all.stats().windows == (split.train_tokens - 1) / 64);
    CHECK(all.stats().unique_tokens == all.stats().windows * 64);  // in use: whole sequences
    CHECK(all.stats().planned_epochs > 9);
  }
  o.unique_tokens = -2;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("unique_tokens must be"));
  o.unique_tokens = 10;
  CHECK_THROWS_WITH(RepetitionSampler(c, o), Catch::Contains("no whole sequence"));
  {
    // A split shorter than one sequence: no U helps, "all" or the whole split.
    CorpusMetadata m;
    m.name = "small";
    CorpusWriter writer(256, m);
    for (int d = 0; d < 10; ++d) writer.AddDocument(std::vector<int32_t>(10, d));
    Corpus small = writer.Finish();
    SamplerOptions s;
    s.tokens = 1000;
    s.seq_len = 99;
    s.batch = 1;
    s.validation = 0.1;  // 90 tokens to train on
    const Split split = Split::Make(small, s.validation);
    const std::string said = "the training split of corpus small has " + std::to_string(split.train_tokens) +
                             " tokens (" + std::to_string(split.validation_tokens) +
                             " more are held out for validation), fewer than one sequence of seq_len + 1 = 100 "
                             "tokens; lower seq_len, or use a larger corpus";
    for (int64_t u : {SamplerOptions::kAllTokens, split.train_tokens}) {
      s.unique_tokens = u;
      INFO("unique_tokens " << u);
      CHECK_THROWS_WITH(RepetitionSampler(small, s), Catch::Contains(said));
    }
  }
  o.unique_tokens = 0;
  o.tokens = 100;
  CHECK_THROWS_WITH(RepetitionSampler(c, o), Catch::Contains("less than one batch"));
  o.seq_len = 0;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("seq_len must be a positive"));
}

TEST_CASE("a batch of batch·seq_len tokens beyond 2^63 is refused, not planned with its overflowed product") {
  // batch = seq_len = 2^32: the product wrapped to 0 and the planned batches were divided by it (SIGFPE).
  Corpus c = position_corpus(10000);
  SamplerOptions o;
  o.tokens = int64_t{1} << 62;
  o.unique_tokens = SamplerOptions::kAllTokens;
  o.seq_len = int64_t{1} << 32;
  o.batch = int64_t{1} << 32;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("is less than one batch of batch·seq_len = 1.845e+19 tokens"));
  CHECK(RepetitionSampler::UniqueWindows(1000, 1000, o.tokens, o.seq_len, o.batch) == 0);
  // A product that wraps negative passed the check and planned a negative number of rows.
  o.seq_len = int64_t{1} << 33;
  o.batch = (int64_t{1} << 30) + 1;
  CHECK_THROWS_WITH(o.Validate(), Catch::Contains("less than one batch"));
  // Near the limit, what fits is still planned exactly: floor(D / (B·T))·B rows.
  o.tokens = 9'000'000'000'000'000'000;
  o.seq_len = 1000;
  o.batch = 3'000'000'000'000'000;
  CHECK_NOTHROW(o.Validate());
  CHECK(RepetitionSampler::UniqueWindows(o.tokens + 1, o.tokens + 1, o.tokens, o.seq_len, o.batch) == 3 * o.batch);
}

TEST_CASE("the held-out source covers only validation documents, deterministically, and rewinds") {
  Corpus c = position_corpus(100000);
  HeldOutOptions ho;
  ho.seq_len = 32;
  ho.batch = 4;
  ho.validation = 0.05;
  HeldOutSource h(c, ho);
  Split split = Split::Make(c, 0.05);
  std::set<int32_t> validation;
  for (int64_t d : split.validation)
    for (int64_t p = c.document_begin(d); p < c.document_end(d); ++p) validation.insert(int32_t(p));
  CHECK(h.tokens() == split.validation_tokens);
  std::string start = h.state();
  std::vector<std::vector<int32_t>> first;
  std::vector<int32_t> b;
  for (int64_t i = 0; i < h.batches_per_pass(); ++i) {
    h.next_batch(b);
    for (int32_t t : b) REQUIRE(validation.count(t) == 1);
    first.push_back(b);
  }
  h.restore(start);
  for (const auto& expected : first) {
    h.next_batch(b);
    REQUIRE(b == expected);
  }
  h.Rewind();
  h.next_batch(b);
  CHECK(b == first[0]);
}

TEST_CASE("a held-out batch of more ids than can be counted is refused, not written past its buffer") {
  // batch = 2^62 rows of 4 ids: the buffer was sized by the product, wrapped to 0 (a segfault).
  Corpus c = position_corpus(100000);
  HeldOutOptions o;
  o.seq_len = 3;
  o.batch = int64_t{1} << 62;
  CHECK_THROWS_WITH(HeldOutSource(c, o), Catch::Contains("batch = 4611686018427387904 rows of seq_len + 1 = 4 token ids") &&
                                             Catch::Contains("lower batch"));
  // The largest batch that can be counted is taken; one pass is one batch.
  o.batch = std::numeric_limits<int64_t>::max() / 4;
  HeldOutSource h(c, o);
  CHECK(h.batches_per_pass() == 1);
}

namespace {
// A default-like order-2 chain over 64 tokens (16 successors a state).
MarkovSource order2_chain() {
  MarkovOptions o;
  o.vocab = 64;
  o.order = 2;
  o.support = 16;
  o.seed = 5;
  return MarkovSource(o);
}
}  // namespace

TEST_CASE("Markov source: exact entropy rate matches empirical estimates from long samples") {
  SECTION("log-likelihood of a long sample (default-like chain, order 2)") {
    const MarkovSource src = order2_chain();
    const int64_t n = 2000000;
    std::vector<int32_t> x = src.Sample(n, 42);
    int64_t state = x[0] * 64 + x[1];
    double nll = 0, nll2 = 0;
    for (int64_t t = 2; t < n; ++t) {
      double l = -std::log(src.probability(state, x[size_t(t)]));
      nll += l;
      nll2 += l * l;
      state = src.next_state(state, x[size_t(t)]);
    }
    double m = nll / double(n - 2), sd = std::sqrt(nll2 / double(n - 2) - m * m) / std::sqrt(double(n - 2));
    INFO("empirical " << m << " ± " << sd << ", exact " << src.entropy_per_token());
    CHECK(std::abs(m - src.entropy_per_token()) < 6 * sd);
    CHECK(src.entropy_per_token() > 0.5);
    CHECK(src.entropy_per_token() < std::log(64.0));
  }
  SECTION("plug-in conditional entropy from transition counts (small chain)") {
    MarkovOptions o;
    o.vocab = 6;
    o.order = 1;
    o.support = 4;
    o.zipf = 1.5;
    o.spread = 1.0;
    o.epsilon = 0.05;
    o.seed = 3;
    MarkovSource src(o);
    const int64_t n = 3000000;
    std::vector<int32_t> x = src.Sample(n, 7);
    double counts[6][6] = {};
    for (int64_t t = 1; t < n; ++t) counts[x[size_t(t - 1)]][x[size_t(t)]] += 1;
    double h = 0;
    for (auto& row : counts) {
      double total = 0;
      for (double c : row) total += c;
      for (double c : row)
        if (c > 0) h -= c / double(n - 1) * std::log(c / total);
    }
    // Empirical state frequencies against the stationary distribution too.
    for (int s = 0; s < 6; ++s) {
      double f = 0;
      for (double c : counts[s]) f += c;
      CHECK(f / double(n - 1) == Approx(src.stationary()[size_t(s)]).margin(0.003));
    }
    CHECK(h == Approx(src.entropy_per_token()).margin(0.004));
  }
  SECTION("the same seed gives the same source and sample; another seed another") {
    MarkovOptions o;
    o.vocab = 32;
    o.order = 2;
    o.support = 8;
    MarkovSource a(o), b(o);
    CHECK(a.entropy_per_token() == b.entropy_per_token());
    CHECK(a.Sample(1000, 1) == b.Sample(1000, 1));
    o.seed = 1;
    MarkovSource c(o);
    CHECK(c.entropy_per_token() != a.entropy_per_token());
  }
  SECTION("a corpus streamed to a file equals the in-memory one, documents cut as asked") {
    MarkovOptions o;
    o.vocab = 300;
    o.order = 1;
    MarkovSource src(o);
    std::string path = temp_path("markov.tok");
    Corpus a = src.Generate(10007, 1000, 4), b = src.Generate(10007, 1000, 4, path);
    CHECK(a.documents() == 11);
    CHECK(a.document_end(10) - a.document_begin(10) == 7);
    CHECK(a.Tokens(0, a.tokens()) == b.Tokens(0, b.tokens()));
    CHECK(a.Tokens(0, a.tokens()) == src.Sample(10007, 4));
    CHECK(Corpus::Open(path).metadata().entropy_per_token == src.entropy_per_token());
    std::remove(path.c_str());
  }
  SECTION("invalid options name the field") {
    MarkovOptions o;
    o.vocab = 256;
    o.order = 4;
    CHECK_THROWS_WITH(o.Validate(), Catch::Contains("lower vocab, order or support"));
    o.order = 1;
    o.support = 300;
    CHECK_THROWS_WITH(o.Validate(), Catch::Contains("support must be in [1, vocab = 256]"));
  }
}

// What help(data.synthetic) says: a sampler shuffles documents, so a markov document's first `order`
// tokens follow another's, and the source's own probabilities score the rows above the entropy rate
// by about order/document_tokens of the targets times their lost context.
TEST_CASE("Markov source: a sampler's rows score above the entropy rate by the share of document starts") {
  const MarkovSource src = order2_chain();
  auto excess = [&](int64_t document_tokens) {
    SamplerOptions so;
    so.tokens = 1000000;
    so.unique_tokens = SamplerOptions::kAllTokens;
    so.seq_len = 64;
    so.batch = 8;
    RepetitionSampler s(src.Generate(1000000, document_tokens, 1), so);
    std::vector<int32_t> b;
    double nll = 0;
    int64_t n = 0;
    while (!s.exhausted()) {
      s.next_batch(b);
      for (int64_t r = 0; r < so.batch; ++r) {
        const int32_t* row = b.data() + r * (so.seq_len + 1);
        int64_t state = row[0] * 64 + row[1];  // the targets after the first `order` have their whole context in the row
        for (int64_t t = 2; t <= so.seq_len; ++t, ++n) {
          nll -= std::log(src.probability(state, row[t]));
          state = src.next_state(state, row[t]);
        }
      }
    }
    return nll / double(n) - src.entropy_per_token();
  };
  const double long_documents = excess(4096), short_documents = excess(64);
  INFO("excess at 4096 tokens a document " << long_documents << ", at 64 " << short_documents);
  CHECK(std::abs(long_documents) < 0.01);
  CHECK(short_documents > 0.05);
  CHECK(short_documents < 0.15);
}

TEST_CASE("Markov source: its stationary distribution solves pi P = pi and its entropy rate is -sum pi p log p, at orders 1 to 3") {
  // The definitions, from the transition probabilities alone: state s goes to next_state(s, t) with
  // probability(s, t). A large floor ε, whose share of each next state follows the mass of the
  // states that lead there (at order 1 every state leads everywhere; from order 2 on, only those
  // ending in the same k − 1 tokens).
  for (int order : {1, 2, 3}) {
    INFO("order " << order);
    MarkovOptions o;
    o.vocab = 4;
    o.order = order;
    o.support = 3;
    o.profiles = 3;
    o.epsilon = 0.2;
    MarkovSource src(o);
    const int64_t states = int64_t(std::pow(4.0, order));
    REQUIRE(src.states() == states);
    const std::vector<double>& pi = src.stationary();
    std::vector<double> next(size_t(states), 0.0);
    double total = 0, h = 0, worst_row = 0;
    for (int64_t s = 0; s < states; ++s) {
      total += pi[size_t(s)];
      double row = 0;
      for (int32_t t = 0; t < 4; ++t) {
        const double p = src.probability(s, t);
        row += p;
        next[size_t(src.next_state(s, t))] += pi[size_t(s)] * p;
        h -= pi[size_t(s)] * p * std::log(p);
      }
      worst_row = std::max(worst_row, std::abs(row - 1));
    }
    CHECK(worst_row < 1e-12);
    CHECK(total == Approx(1.0).epsilon(1e-12));
    double worst = 0;
    for (int64_t s = 0; s < states; ++s) worst = std::max(worst, std::abs(next[size_t(s)] - pi[size_t(s)]));
    CHECK(worst < 1e-12);
    CHECK(src.entropy_per_token() == Approx(h).epsilon(1e-10));
  }
}

TEST_CASE("Markov source: the states' Zipf exponents are the profiles' levels, evenly spaced over [zipf - spread, zipf + spread]") {
  // Read back from the probabilities: the successor of rank r has (1 − ε)·(r + 1)^(−a)/Σ plus the
  // floor ε/V, so with q_r = p_r − ε/V, a = log(q_0/q_1)/log 2 = log(q_0/q_3)/log 4.
  for (int profiles : {4, 1}) {
    INFO(profiles << " profiles");
    MarkovOptions o;
    o.vocab = 64;
    o.order = 1;
    o.support = 8;
    o.profiles = profiles;  // zipf 1.2 ± 0.5, epsilon 0.01
    MarkovSource src(o);
    std::vector<double> levels;
    for (int k = 0; k < profiles; ++k)
      levels.push_back(profiles == 1 ? o.zipf : o.zipf - o.spread + 2 * o.spread * k / (profiles - 1));
    std::vector<int> seen(size_t(profiles), 0);
    for (int64_t s = 0; s < src.states(); ++s) {
      std::vector<double> q;
      for (int32_t t = 0; t < o.vocab; ++t) q.push_back(src.probability(s, t) - o.epsilon / double(o.vocab));
      std::sort(q.rbegin(), q.rend());
      const double a = std::log(q[0] / q[1]) / std::log(2.0);
      INFO("state " << s << ": exponent " << a);
      CHECK(std::log(q[0] / q[3]) / std::log(4.0) == Approx(a).epsilon(1e-9));
      CHECK(std::abs(q[size_t(o.support)]) < 1e-15);  // exactly `support` successors
      const auto level = std::find_if(levels.begin(), levels.end(), [&](double x) { return std::abs(x - a) < 1e-9; });
      CHECK(level != levels.end());
      if (level != levels.end()) ++seen[size_t(level - levels.begin())];
    }
    for (int k = 0; k < profiles; ++k) {
      INFO("level " << levels[size_t(k)]);
      CHECK(seen[size_t(k)] > 0);  // 64 states draw every one of the levels
    }
  }
}

TEST_CASE("grammar source: strings parse back to their derivation and the entropy rate is exact") {
  GrammarOptions o;
  o.vocab = 64;
  o.nonterminals = 24;
  o.seed = 2;
  GrammarSource g(o);
  CHECK(g.spectral_radius() < 0.97);
  CHECK(g.spectral_radius() > 0.3);
  Rng rng(99);
  std::vector<int32_t> stream;
  double logp = 0, logp2 = 0;
  int64_t sentences = 0;
  std::vector<double> lengths;
  while (stream.size() < 1500000) {
    size_t before = stream.size();
    double l = g.SampleSentence(rng, stream);
    logp += l;
    logp2 += l * l;
    lengths.push_back(double(stream.size() - before));
    ++sentences;
  }
  // The parser recovers the same log-probability from the tokens alone: the grammar is unambiguous.
  int64_t parsed = 0;
  CHECK(g.LogProbability(stream, &parsed) == Approx(logp).epsilon(1e-9));
  CHECK(parsed == sentences);
  // Ratio estimator of H(sentence) / E[length], with a delta-method standard error.
  double n = double(sentences), mean_h = -logp / n, mean_l = double(stream.size()) / n;
  double var_h = logp2 / n - mean_h * mean_h, var_l = 0, cov = 0;
  (void)cov;
  for (double len : lengths) var_l += (len - mean_l) * (len - mean_l);
  var_l /= n;
  double rate = mean_h / mean_l;
  double se = rate * std::sqrt((var_h / (mean_h * mean_h) + var_l / (mean_l * mean_l)) / n);
  INFO("empirical " << rate << " ± " << se << ", exact " << g.entropy_per_token() << "; mean length "
                    << mean_l << " vs " << g.mean_sentence_tokens());
  CHECK(std::abs(rate - g.entropy_per_token()) < 6 * se);
  CHECK(mean_l == Approx(g.mean_sentence_tokens()).epsilon(0.05));
  CHECK(-logp / n == Approx(g.entropy_per_sentence()).epsilon(0.05));

  Corpus c = g.Generate(100000, 1000, 1);
  CHECK(c.tokens() == 100000);
  CHECK(c.metadata().entropy_per_token == g.entropy_per_token());
  CHECK_THROWS_WITH(g.LogProbability({int32_t(o.vocab - 1), 0, 0, 0, 0}), Catch::Contains("grammar"));
}

// ---- importers ----------------------------------------------------------------------------------

#include <sys/stat.h>

#include "data/bpe.h"
#include "data/import.h"

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char pattern[] = "/tmp/scalelab_data_XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string file(const std::string& name, const std::string& text) const {
    std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

// SCALELAB_CACHE set to `path` while it lives, as it was after.
struct CacheFolder {
  std::string saved;
  bool had;
  explicit CacheFolder(const std::string& path) {
    const char* cache = std::getenv("SCALELAB_CACHE");
    had = cache != nullptr;
    saved = had ? cache : "";
    ::setenv("SCALELAB_CACHE", path.c_str(), 1);
  }
  ~CacheFolder() {
    if (had) ::setenv("SCALELAB_CACHE", saved.c_str(), 1);
    else ::unsetenv("SCALELAB_CACHE");
  }
};

std::string llmc_shard(const TempDir& dir, const std::string& name, const std::vector<uint32_t>& tokens, int magic,
                       int version, int64_t claimed = -1) {
  std::string bytes(1024, '\0');
  int32_t header[256] = {};
  header[0] = magic;
  header[1] = version;
  header[2] = int32_t(claimed >= 0 ? claimed : int64_t(tokens.size()));
  std::memcpy(&bytes[0], header, sizeof header);
  for (uint32_t t : tokens) {
    if (version == 1) {
      uint16_t x = uint16_t(t);
      bytes.append(reinterpret_cast<const char*>(&x), 2);
    } else {
      bytes.append(reinterpret_cast<const char*>(&t), 4);
    }
  }
  return dir.file(name, bytes);
}

}  // namespace

// A folder of text often holds other files (a build, a database): a file with a NUL byte in its first
// 8 KiB, found in a folder, is left out, and the corpus says so; one named itself is read as asked.
TEST_CASE("binary files, links to nothing and named pipes found in a folder are left out of a text import, named ones read or refused") {
  TempDir dir;
  ::mkdir((dir.path + "/notes").c_str(), 0755);
  dir.file("notes/a.txt", "text\n");
  std::string binary = dir.file("notes/b.db", std::string("SQLite format 3\0\x01\x02", 18));
  TextImportOptions o;
  o.paths = {dir.path + "/notes"};
  o.out = dir.path + "/notes.tok";
  Corpus c = ImportText(o);
  CHECK(c.documents() == 1);
  CHECK(c.tokens() == 5);  // "text\n"
  CHECK_THAT(c.metadata().source, Catch::Contains("(1 file, one document per file; 1 binary file in the folders left out, "
                                                  "such as " + binary + ")"));
  o.paths = {dir.path + "/notes", binary};
  o.out = dir.path + "/named.tok";
  CHECK(ImportText(o).documents() == 2);
  // A link to nothing or a named pipe in the folder failed the whole import ("cannot read
  // 'notes/old.txt': No such file or directory"); named, they are errors.
  const std::string dangling = dir.path + "/notes/old.txt", pipe = dir.path + "/notes/pipe";
  REQUIRE(::symlink("gone.txt", dangling.c_str()) == 0);
  REQUIRE(::mkfifo(pipe.c_str(), 0644) == 0);
  o.paths = {dir.path + "/notes"};
  o.out = dir.path + "/others.tok";
  Corpus others = ImportText(o);
  CHECK(others.tokens() == 5);
  CHECK_THAT(others.metadata().source, Catch::Contains("(1 file, one document per file; 1 binary file in the folders left out, "
                                                       "such as " + binary + "; 2 links to nothing or special files in the "
                                                       "folders left out, such as " + dangling + ")"));
  o.paths = {dangling};
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("cannot read '" + dangling + "': No such file or directory"));
  o.paths = {pipe};
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("'" + pipe + "' is neither a file nor a folder"));
  ::remove((dir.path + "/notes/a.txt").c_str());
  o.paths = {dir.path + "/notes"};
  o.out = dir.path + "/none.tok";
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("no text files found in " + dir.path + "/notes (1 binary file left out") &&
                                       Catch::Contains("name a file itself to read it anyway") &&
                                       Catch::Contains("(2 links to nothing or special files left out, such as " + dangling + ")"));
}

// A file reached twice (a folder and a file in it, the same file twice) is one document: two copies of
// one text could be split between the held-out and the training documents.
TEST_CASE("a file named twice or beside its folder is read once") {
  TempDir dir;
  ::mkdir((dir.path + "/books").c_str(), 0755);
  const std::string a = dir.file("books/a.txt", "first book\n");
  dir.file("books/b.txt", "second book\n");
  TextImportOptions o;
  o.paths = {dir.path + "/books", a, a};
  o.out = dir.path + "/books.tok";
  Corpus c = ImportText(o);
  CHECK(c.documents() == 2);
  CHECK(c.tokens() == 11 + 12);
  CHECK_THAT(c.metadata().source, Catch::Contains("(2 files, one document per file; 2 files named more than once read once)"));
  o.paths = {a, dir.path + "/books/../books/a.txt"};
  o.out = dir.path + "/a.tok";
  CHECK(ImportText(o).documents() == 1);
  // A link to a folder already read (here to the parent: a loop) is not followed again.
  ::mkdir((dir.path + "/books/more").c_str(), 0755);
  dir.file("books/more/c.txt", "third book\n");
  REQUIRE(::symlink("..", (dir.path + "/books/more/up").c_str()) == 0);
  o.paths = {dir.path + "/books"};
  o.out = dir.path + "/linked.tok";
  Corpus linked = ImportText(o);
  CHECK(linked.documents() == 3);
  CHECK(linked.tokens() == 11 + 12 + 11);
}

// A pattern is expanded as a shell would (no shell stands between a script and data.files), in
// sorted order; matched binary files are left out as in a folder, and a pattern matching nothing is
// an error naming it.
TEST_CASE("data.files expands file name patterns") {
  TempDir dir;
  ::mkdir((dir.path + "/books").c_str(), 0755);
  dir.file("books/b.txt", "second\n");
  dir.file("books/a.txt", "first\n");
  dir.file("books/c.md", "notes\n");
  dir.file("books/d.txt", std::string("bin\0ary\n", 8));
  TextImportOptions o;
  o.paths = {dir.path + "/books/*.txt"};
  o.out = dir.path + "/books.tok";
  Corpus c = ImportText(o);
  REQUIRE(c.documents() == 2);
  CHECK(DecodeTokens(c, c.Tokens(0, c.tokens())) == "first\nsecond\n");
  CHECK_THAT(c.metadata().source, Catch::Contains("1 binary file in the folders left out"));
  CHECK(c.metadata().name == "books");  // the pattern's folder, not "*"
  o.paths = {dir.path + "/books/*.rst"};
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("no file or folder matches '" + dir.path + "/books/*.rst'"));
  o.paths = {dir.path + "/missing/*.txt"};
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("no file or folder matches '" + dir.path + "/missing/*.txt'"));
}

namespace {
// AddressSanitizer keeps freed memory resident (its quarantine): resident sets measure it, not the code.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// The process's resident set (VmRSS) or its peak (VmHWM) in bytes, from /proc/self/status.
int64_t status_bytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size() + 1, key + ":") == 0) return std::atoll(line.c_str() + key.size() + 1) * 1024;
  return -1;
}

// Runs `import` in a child process, so that its peak resident set is the import's alone: whether it made
// at least `tokens` tokens and grew the resident set by less than 40 MiB (what it grew by is on stderr if not).
bool imports_in_little_memory(const std::function<Corpus()>& import, int64_t tokens) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int code = 2;
    try {
      const int64_t before = status_bytes("VmRSS");
      const Corpus c = import();
      const int64_t grew = status_bytes("VmHWM") - before;
      code = c.tokens() >= tokens && (grew < (int64_t{40} << 20) || kAddressSanitizer) ? 0 : 1;
      if (code) std::fprintf(stderr, "import of %lld tokens grew the resident set by %lld bytes\n", (long long)c.tokens(), (long long)grew);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
    }
    std::_Exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// imports_in_little_memory for the text file `path` read one document per `documents` into `out`.
bool text_imports_in_little_memory(const std::string& path, const char* documents, const std::string& out, int64_t tokens) {
  return imports_in_little_memory(
      [&] {
        TextImportOptions o;
        o.paths = {path};
        o.documents = documents;
        o.out = out;
        return ImportText(o);
      },
      tokens);
}
}  // namespace

// A large text file is read in blocks: memory grows by a block and the writer's buffer, not by the
// file's size (the whole file read as text, then copied into a stream of it or into tokens, took
// two to three times its size).
TEST_CASE("importing a large text file takes memory by the block and not by the file") {
  TempDir dir;
  const int64_t size = int64_t{64} << 20;
  {
    std::ofstream out(dir.path + "/big.txt", std::ios::binary);
    std::string paragraph;
    for (int i = 0; i < 20; ++i) paragraph += "a line of a long book, with words in it " + std::to_string(i) + "\n";
    paragraph += "\n";
    for (int64_t written = 0; written < size; written += int64_t(paragraph.size())) out << paragraph;
  }
  for (const char* documents : {"file", "paragraph"}) {
    INFO(documents);
    CHECK(text_imports_in_little_memory(dir.path + "/big.txt", documents, dir.path + "/big-" + documents + ".tok", size / 10 * 9));
  }
}

// A paragraph or line was held whole, four times over (the line, the line with its newline, the
// paragraph, the writer's copy): a text of one 64 MiB line took ~256 MiB. Its bytes go to the writer
// as they come now, and the documents are those of the whole line at once.
TEST_CASE("a huge line imports by paragraph or by line in little memory") {
  TempDir dir;
  const int64_t size = int64_t{64} << 20;
  std::string line(size_t(size), 'x');
  for (size_t i = 0; i < line.size(); i += 4099) line[i] = char('a' + i % 26);
  line[size_t(size / 2)] = ' ';
  // A blank line of spaces, a tab and a CR ends the first paragraph; the long line has leading
  // blanks (kept) and spans the reader's blocks; the last line has no newline.
  const std::string text = "first paragraph\n \t\r\n  " + line + "\n\n\nlast";
  const std::string path = dir.file("long.txt", text);
  line.clear();
  line.shrink_to_fit();
  for (const char* documents : {"paragraph", "line"}) {
    INFO(documents);
    const std::string out = dir.path + "/long-" + documents + ".tok";
    CHECK(text_imports_in_little_memory(path, documents, out, size));
    const Corpus c = Corpus::Open(out);
    REQUIRE(c.documents() == 3);
    CHECK(DecodeTokens(c, c.Tokens(0, c.document_end(0))) == "first paragraph\n");
    CHECK(c.document_end(1) - c.document_begin(1) == size + 3);  // "  ", the line, "\n"
    CHECK(DecodeTokens(c, c.Tokens(c.document_begin(1), 3)) == "  a");
    CHECK(DecodeTokens(c, c.Tokens(c.document_begin(1) + 2 + 4099 * 1000, 2)) == std::string(1, char('a' + 4099 * 1000 % 26)) + "x");
    CHECK(DecodeTokens(c, c.Tokens(c.document_end(1) - 2, 2)) == "x\n");
    CHECK(DecodeTokens(c, c.Tokens(c.document_begin(2), 5)) == "last\n");
    CHECK(c.tokens() == int64_t(text.size()) - 4 - 2 + 1);  // less the blank lines' bytes, plus the last line's newline
  }
}

// A line of blanks alone (spaces and tabs) waited in memory whole, to be written if text came
// after it: a blank line of 64 MiB took 128 MiB, in a mode that otherwise streams. What waits now is
// where the blanks lie in the file; blanks that text follows are read again from there, byte for byte.
TEST_CASE("a huge line of blanks imports by paragraph or by line in little memory") {
  TempDir dir;
  const int64_t size = int64_t{64} << 20;
  std::string blanks(size_t(size), ' ');
  for (size_t i = 0; i < blanks.size(); i += 4099) blanks[i] = '\t';  // a CR would end the line
  // A blank line of 64 MiB between two paragraphs, then 64 MiB of blanks before a line's text.
  const std::string path = dir.file("blank.txt", "first\n" + blanks + "\nsecond\n\n" + blanks + "third\n");
  for (const char* documents : {"paragraph", "line"}) {
    INFO(documents);
    const std::string out = dir.path + "/blank-" + documents + ".tok";
    CHECK(text_imports_in_little_memory(path, documents, out, size));
    const Corpus c = Corpus::Open(out);
    REQUIRE(c.documents() == 3);
    CHECK(DecodeTokens(c, c.Tokens(0, c.document_end(0))) == "first\n");
    CHECK(DecodeTokens(c, c.Tokens(c.document_begin(1), c.document_end(1) - c.document_begin(1))) == "second\n");
    // The blanks before "third" are the line's, every byte as in the file.
    const int64_t begin = c.document_begin(2);
    REQUIRE(c.document_end(2) - begin == size + 6);
    int64_t differ = 0;
    for (int64_t i = 0; i < size; ++i) differ += c.token(begin + i) != uint8_t(blanks[size_t(i)]) ? 1 : 0;
    CHECK(differ == 0);
    CHECK(DecodeTokens(c, c.Tokens(begin + size, 6)) == "third\n");
  }
}

// The blanks before a line's text that came in an earlier block are read again from the file. A file
// rewritten in place at the same size while it was imported gave other bytes there, which went into
// the corpus unseen; they are checked to be blanks still, and the import fails naming the file.
TEST_CASE("blanks read again from a file that changed while it was read fail the import\, naming the file") {
  TempDir dir;
  // Whatever blanks the reader took first, the file now holds text at bytes 6-7 and ends at byte 11.
  const std::string path = dir.file("changed.txt", "ab \t\r xy \r\t");
  const int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  std::vector<char> buffer(2);  // two bytes at a time: the check covers every buffer, not the first
  std::string got;
  const auto put = [&](std::string_view bytes) { got += bytes; };
  // Blanks still: handed on byte for byte, across buffers.
  ReadBlanksAgain("data.files", path, fd, 2, 4, buffer, put);
  CHECK(got == " \t\r ");
  got.clear();
  ReadBlanksAgain("data.files", path, fd, 8, 3, buffer, put);
  CHECK(got == " \r\t");
  // Text where the blanks were.
  got.clear();
  CHECK_THROWS_WITH(ReadBlanksAgain("data.files", path, fd, 2, 8, buffer, put),
                    Catch::Contains("data.files: '" + path + "' changed while it was read: byte 6 was a space, tab or CR") &&
                        Catch::Contains("import it again"));
  CHECK(got == " \t\r ");  // the blanks before the text, none of it
  // The file ends before the blanks do.
  CHECK_THROWS_WITH(ReadBlanksAgain("data.files", path, fd, 8, 6, buffer, put),
                    Catch::Contains("'" + path + "' changed while it was read: it ended at byte 11") &&
                        Catch::Contains("import it again"));
  ::close(fd);
}

// A UTF-8 byte-order mark at a file's start (Windows' editors save one) was kept: 3 tokens at the
// start of the file's first document, and in paragraph mode, before a blank line, a document of its own.
TEST_CASE("a UTF-8 byte-order mark at a file's start is left out of the text, and the source says so") {
  TempDir dir;
  const std::string bom = "\xEF\xBB\xBF";
  const std::string marked = dir.file("marked.txt", bom + "\r\n\r\nHello\r\n\r\nWorld " + bom + "inside");
  const std::string plain = dir.file("plain.txt", "plain\n");
  auto texts = [](const Corpus& corpus) {
    std::vector<std::string> out;
    for (int64_t d = 0; d < corpus.documents(); ++d)
      out.push_back(DecodeTokens(corpus, corpus.Tokens(corpus.document_begin(d), corpus.document_end(d) - corpus.document_begin(d))));
    return out;
  };
  TextImportOptions o;
  o.paths = {marked, plain};
  o.documents = "paragraph";
  o.out = dir.path + "/paragraph.tok";
  Corpus c = ImportText(o);
  // Only the mark that begins the file: one inside the text is text.
  CHECK(texts(c) == std::vector<std::string>{"Hello\n", "World " + bom + "inside\n", "plain\n"});
  CHECK_THAT(c.metadata().source, Catch::EndsWith("(2 files, one document per paragraph; the UTF-8 byte-order mark that "
                                                  "began 1 file left out; 4 CRLF line endings of 1 file read as LF)"));
  o.documents = "file";
  o.out = dir.path + "/file.tok";
  CHECK(texts(ImportText(o)) == std::vector<std::string>{"\n\nHello\n\nWorld " + bom + "inside", "plain\n"});
  o.documents = "line";
  o.out = dir.path + "/line.tok";
  CHECK(texts(ImportText(o)).front() == "Hello\n");
  // A file of the mark alone holds no text; without a mark the source says nothing of one.
  o.paths = {dir.file("mark.txt", bom)};
  o.out = dir.path + "/mark.tok";
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("empty corpus") && Catch::Contains("is empty (0 bytes, but for a UTF-8 byte-order mark); give files with text"));
  o.paths = {plain};
  o.out = dir.path + "/plain.tok";
  CHECK_THAT(ImportText(o).metadata().source, !Catch::Contains("byte-order mark"));
}

// A CR before a LF (a Windows text's line ending) was kept: the same text saved on Windows and
// elsewhere gave other tokens, a line document ended "\r\n" or "\n" by where the file was saved, and
// the paragraph and line modes, which end each line with a "\n" of their own, kept the CR before it.
// It is read as a LF in every mode, also where the reader's 1 MiB block ends between the CR and the LF;
// a lone CR is text and stays (at the file's end too); the source counts the line endings read so.
TEST_CASE("CRLF and lone CR line endings import as LF in every mode\, and the source says so") {
  TempDir dir;
  auto texts = [](const Corpus& corpus) {
    std::vector<std::string> out;
    for (int64_t d = 0; d < corpus.documents(); ++d)
      out.push_back(DecodeTokens(corpus, corpus.Tokens(corpus.document_begin(d), corpus.document_end(d) - corpus.document_begin(d))));
    return out;
  };
  // One text saved with Windows', old Mac OS's and Unix's line endings, and with a mix of them: the
  // same tokens, as Python's universal newlines read them. A lone CR was text: the Mac text was one line.
  const std::string windows = dir.file("windows.txt", "one\r\ntwo\r\nstill two\r\n\r\nthree\r\nfour");
  const std::string mac = dir.file("mac.txt", "one\rtwo\rstill two\r\rthree\rfour");
  const std::string mixed = dir.file("mixed.txt", "one\ntwo\rstill two\r\n\rthree\r\nfour");
  const std::string unix_text = dir.file("unix.txt", "one\ntwo\nstill two\n\nthree\nfour");
  TextImportOptions o;
  const std::map<std::string, std::vector<std::string>> expected = {
      {"file", {"one\ntwo\nstill two\n\nthree\nfour"}},
      {"paragraph", {"one\ntwo\nstill two\n", "three\nfour\n"}},
      {"line", {"one\n", "two\n", "still two\n", "three\n", "four\n"}}};
  const std::vector<std::pair<std::string, std::string>> files = {
      {windows, "; 5 CRLF line endings of 1 file read as LF)"},
      {mac, "; 5 lone CR line endings (old Mac OS) of 1 file read as LF)"},
      {mixed, "; 2 CRLF line endings and 2 lone CR line endings of 1 file read as LF)"},
      {unix_text, ""}};
  for (const auto& [documents, want] : expected) {
    for (const auto& [path, said] : files) {
      INFO(documents << " " << path);
      o.documents = documents;
      o.paths = {path};
      o.out = path + "-" + documents + ".tok";
      const Corpus c = ImportText(o);
      CHECK(texts(c) == want);
      if (said.empty()) CHECK_THAT(c.metadata().source, !Catch::Contains("CR"));
      else CHECK_THAT(c.metadata().source, Catch::EndsWith(said));
    }
  }
  // A CR that ends a file ends its last line, in every mode. It was "x\r" by file and "x\r\n" by line
  // or paragraph: a CRLF, which the reader reads as LF elsewhere.
  for (const char* documents : {"file", "paragraph", "line"}) {
    INFO(documents);
    o.documents = documents;
    o.paths = {dir.file("tail.txt", "x\r")};
    o.out = dir.path + "/tail-" + documents + ".tok";
    const Corpus c = ImportText(o);
    CHECK(texts(c) == std::vector<std::string>{"x\n"});
    CHECK_THAT(c.metadata().source, Catch::EndsWith("; 1 lone CR line ending (old Mac OS) of 1 file read as LF)"));
  }
  // A CR that ends the reader's first block, and its LF the next block's first byte; a lone CR there.
  const size_t block = size_t{1} << 20;
  for (const char after : {'\n', 'x'}) {
    INFO("after the CR: " << int(after));
    std::string text(block - 1, 'a');
    text += '\r';
    text += after;
    text += "end\r\n";
    const std::string path = dir.file(after == '\n' ? "split-crlf.txt" : "split-cr.txt", text);
    for (const char* documents : {"file", "paragraph", "line"}) {
      INFO(documents);
      o.documents = documents;
      o.paths = {path};
      o.out = dir.path + "/split-" + (after == '\n' ? "crlf-" : "cr-") + documents + ".tok";
      const Corpus c = ImportText(o);
      const std::string head(block - 1, 'a');
      const std::string second = after == '\n' ? "end\n" : "xend\n";
      const std::vector<std::string> want = std::string(documents) == "line" ? std::vector<std::string>{head + "\n", second}
                                                                             : std::vector<std::string>{head + "\n" + second};
      CHECK(texts(c) == want);
      CHECK_THAT(c.metadata().source, Catch::EndsWith(after == '\n' ? "; 2 CRLF line endings of 1 file read as LF)"
                                                                      : "; 1 CRLF line ending and 1 lone CR line ending of 1 file read as LF)"));
    }
  }
  // A line of blanks ended by a CR that ends the block: a blank line, before the text of the next.
  std::string blanks(block - 1, ' ');
  const std::string path = dir.file("blank-cr.txt", "first\n" + blanks.substr(6) + "\rtext\r\n");
  o.documents = "line";
  o.paths = {path};
  o.out = dir.path + "/blank-cr.tok";
  CHECK(texts(ImportText(o)) == std::vector<std::string>{"first\n", "text\n"});
  // Leading blanks that go on into the next block before the line's text: kept (read again from the file).
  const std::string long_blanks = dir.file("long-blanks.txt", "first\n" + blanks + "  text\r\n");
  o.paths = {long_blanks};
  o.out = dir.path + "/long-blanks.tok";
  CHECK(texts(ImportText(o)) == std::vector<std::string>{"first\n", blanks + "  text\n"});
}

namespace {
// The split as it was made before copies went together, independently of the library: a partial
// Fisher–Yates shuffle of n documents by the split's fixed seed ("SPLIT"), its first `held` held out.
std::vector<int64_t> split_before_copies(int64_t n, int64_t held) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Rng rng(0x53504C4954ull);
  for (int64_t i = 0; i < held; ++i) std::swap(order[size_t(i)], order[size_t(i + int64_t(rng.below(uint64_t(n - i))))]);
  std::vector<int64_t> before(order.begin(), order.begin() + held);
  std::sort(before.begin(), before.end());
  return before;
}
}  // namespace

TEST_CASE("a text in two files is held out or trained on\, never both") {
  // 300 files: 200 texts, the first 100 of them saved twice (a copy in another folder). The split was
  // of documents one by one, and held out one copy of a text while the sampler trained on the other.
  TempDir dir;
  ::mkdir((dir.path + "/a").c_str(), 0755);
  ::mkdir((dir.path + "/b").c_str(), 0755);
  auto text = [](int i) { return "text number " + std::to_string(i) + (i % 2 ? " odd\n" : " even\n"); };
  for (int i = 0; i < 200; ++i) dir.file("a/" + std::to_string(1000 + i) + ".txt", text(i));
  for (int i = 0; i < 100; ++i) dir.file("b/" + std::to_string(1000 + i) + ".txt", text(i));
  TextImportOptions o;
  o.paths = {dir.path + "/a", dir.path + "/b"};
  o.out = dir.path + "/copies.tok";
  const Corpus c = ImportText(o);
  REQUIRE(c.documents() == 300);
  CHECK(c.copies().copies == 100);
  CHECK(c.copies().members.size() == 100);
  auto doc = [&](int64_t d) { return DecodeTokens(c, c.Tokens(c.document_begin(d), c.document_end(d) - c.document_begin(d))); };
  for (double validation : {0.01, 0.1, 0.3}) {
    INFO("validation = " << validation);
    const Split split = Split::Make(c, validation);
    std::set<std::string> held;
    for (int64_t d : split.validation) held.insert(doc(d));
    int64_t leaked = 0;
    for (int64_t d : split.train) leaked += int64_t(held.count(doc(d)));
    CHECK(leaked == 0);
    CHECK(int64_t(split.train.size() + split.validation.size()) == 300);
    CHECK(split.validation.size() >= size_t(std::ceil(validation * 300)));
    CHECK(split.validation.size() <= size_t(std::ceil(validation * 300)) + 1);  // a group of 2 may pass the count by 1
    CHECK(split.copies == int64_t(split.validation.size() - held.size()));
    CHECK(split.copies > 0);
    CHECK(split.train_tokens + split.validation_tokens == c.tokens());
    // Nested in the fraction, as before.
    const Split larger = Split::Make(c, validation + 0.1);
    std::set<int64_t> bigger(larger.validation.begin(), larger.validation.end());
    for (int64_t d : split.validation) CHECK(bigger.count(d) == 1);
  }
  // The held-out source says how many of its documents are copies.
  HeldOutOptions h;
  h.seq_len = 4;
  h.batch = 1;
  h.validation = 0.1;
  CHECK_THAT(HeldOutSource(c, h).Summary(), Catch::Contains("of them exact copies of others, held out with them"));

  // Documents of one length and other bytes are no copies; a corpus without copies splits as it did
  // (the first ceil(validation·n) documents of the fixed order).
  CorpusWriter same_length(256, CorpusMetadata{});
  for (int i = 0; i < 50; ++i) same_length.AddBytes("doc " + std::to_string(10 + i));
  const Corpus distinct = same_length.Finish();
  CHECK(distinct.copies().copies == 0);
  CHECK(distinct.copies().group.empty());
  CHECK(Split::Make(distinct, 0.1).validation == split_before_copies(50, 5));
  CHECK(Split::Make(distinct, 0.1).copies == 0);

  // Copies of one text alone (a toy corpus): nothing can be held out unseen. Held out document by
  // document, as before, with a warning.
  CorpusMetadata m;
  m.name = "echo";
  CorpusWriter echo(256, m);
  for (int i = 0; i < 5; ++i) echo.AddBytes("the same text\n");
  const Split echo_split = Split::Make(echo.Finish(), 0.1);
  CHECK(echo_split.validation.size() == 1);
  CHECK(echo_split.train.size() == 4);
  CHECK_THAT(echo_split.warning,
                    Catch::StartsWith("corpus echo: every one of its 5 documents is an exact copy of another (1 text in all), "
                                  "and a text is held out only with all its copies, at most 2 of them, leaving a document "
                                  "to train on: none can be, so its held-out documents are copies of training ones, and its "
                                  "held-out loss is of text the model trains on; give it documents of other texts, or set "
                                  "validation = 0"));
  // A text in many copies (here a line in 40 of 100 documents: more than 2, and 0.1% of the documents)
  // stays in training, all of it; texts of two copies go to one side together.
  CorpusMetadata bytes_meta;
  bytes_meta.tokenizer = "bytes";
  CorpusWriter common(256, bytes_meta);
  for (int i = 0; i < 100; ++i) common.AddBytes(i % 5 < 2 ? std::string("yes\n") : "line " + std::to_string(i % 50) + "\n");
  const Corpus common_corpus = common.Finish();
  CHECK(common_corpus.copies().members.size() == 31);  // "yes", and 30 lines twice
  // 40 of 100 documents of a text that stays in training: the held-out lines are the rarer ones, said.
  CHECK(Split::Make(common_corpus, 0.1).warning ==
        "corpus (unnamed): 40 of its 100 documents (40%) are copies of 1 common text (more than 2 copies each), which stay in "
        "training so that no held-out text is trained on: the held-out documents are of the rarer texts alone, and the "
        "held-out loss is of them, not of a random sample of the documents; give it longer documents (documents = "
        "\"paragraph\" or \"file\" in "
        "data.files), or hold out other data (eval_data)");
  // The 300 files of which 100 are copies of others (2 each) are no common texts: no warning.
  CHECK(Split::Make(c, 0.1).warning.empty());
  for (double validation : {0.1, 0.3, 0.5}) {
    INFO("validation = " << validation);
    const Split split = Split::Make(common_corpus, validation);
    for (int64_t d : split.validation) CHECK(DecodeTokens(common_corpus, common_corpus.Tokens(common_corpus.document_begin(d), 4)) != "yes\n");
    std::set<std::string> held;
    for (int64_t d : split.validation)
      held.insert(DecodeTokens(common_corpus, common_corpus.Tokens(common_corpus.document_begin(d), common_corpus.document_end(d) - common_corpus.document_begin(d))));
    for (int64_t d : split.train)
      CHECK(held.count(DecodeTokens(common_corpus, common_corpus.Tokens(common_corpus.document_begin(d), common_corpus.document_end(d) - common_corpus.document_begin(d)))) == 0);
    CHECK(split.validation.size() >= size_t(std::ceil(validation * 100)));
    CHECK(split.validation.size() <= size_t(std::ceil(validation * 100)) + 1);
  }
  // One text copied twice and one other: the copies are on one side, and training keeps a document.
  CorpusWriter mostly(256, CorpusMetadata{});
  for (int i = 0; i < 2; ++i) mostly.AddBytes("again\n");
  mostly.AddBytes("once\n");
  const Corpus mostly_corpus = mostly.Finish();
  for (double validation : {0.1, 0.5, 0.9}) {
    INFO("validation = " << validation);
    const Split split = Split::Make(mostly_corpus, validation);
    CHECK(!split.train.empty());
    CHECK(!split.validation.empty());
    CHECK(std::count(split.validation.begin(), split.validation.end(), 0) == std::count(split.validation.begin(), split.validation.end(), 1));
  }
}

// A sampler's or held-out source's state records the split of its corpus's documents: the split of a
// corpus with copies changed on 2026-11-25 (copies go to one side), and a state saved before went on,
// restored, with other training and held-out documents, since it recorded the corpus and the options.
TEST_CASE("a saved state records its split: another split is refused\, and one that records none is checked against the earlier rule") {
  // 120 documents of distinct texts, and the same with its last 40 copies of its first 40.
  auto make = [](bool copies) {
    CorpusMetadata m;
    m.name = copies ? "copies" : "distinct";
    CorpusWriter w(256, m);
    for (int d = 0; d < 120; ++d) w.AddBytes("text number " + std::to_string(copies && d >= 80 ? d - 80 : d) + " of a few\n");
    return w.Finish();
  };
  const Corpus copies = make(true), distinct = make(false);
  REQUIRE(copies.copies().copies == 40);
  REQUIRE(distinct.copies().copies == 0);
  // The earlier rule, independently: the first ceil(0.1 · 120) = 12 documents of its order.
  const std::vector<int64_t> before = split_before_copies(120, 12);
  CHECK(Split::ValidationBeforeCopies(copies, 0.1) == before);
  CHECK(Split::ValidationBeforeCopies(distinct, 0.1) == before);
  CHECK(Split::Make(distinct, 0.1).validation == before);
  CHECK(Split::Make(copies, 0.1).validation != before);  // the copies moved it
  CHECK(Split::ValidationBeforeCopies(copies, 0).empty());

  SamplerOptions o;
  o.tokens = 4 * 4 * 16;
  o.seq_len = 16;
  o.batch = 4;
  o.validation = 0.1;
  HeldOutOptions h{16, 4, 0.1};
  for (const Corpus* corpus : {&copies, &distinct}) {
    INFO(corpus->metadata().name);
    RepetitionSampler saving(*corpus, o);
    std::vector<int32_t> tokens;
    saving.next_batch(tokens);
    HeldOutSource held_saving(*corpus, h);
    held_saving.next_batch(tokens);
    const std::string state = saving.state(), held_state = held_saving.state();
    const std::string print = state.substr(state.find(" split=") + 7, 16);
    CHECK(held_state.substr(held_state.find(" split=") + 7, 16) == print);  // one split, one print
    // The state's split, replaced by `split`.
    auto with_split = [](const std::string& saved, const std::string& split) {
      const size_t at = saved.find(" split=") + 7;
      return saved.substr(0, at) + split + saved.substr(at + 16);
    };
    // The same split: restored, with nothing to say.
    RepetitionSampler s(*corpus, o);
    s.restore(state);
    CHECK(s.stats().rows == 4);
    CHECK(s.restore_note().empty());
    HeldOutSource held(*corpus, h);
    held.restore(held_state);
    CHECK(held.restore_note().empty());
    // Another split of the same corpus and options: refused, the sampler where it was.
    const std::string other = print[0] == '0' ? "1" + print.substr(1) : "0" + print.substr(1);
    RepetitionSampler fresh(*corpus, o);
    CHECK_THROWS_WITH(fresh.restore(with_split(state, other)),
                      Catch::StartsWith("cannot restore this sampler from its saved state: it was saved on another split "
                                        "of corpus " + corpus->metadata().name + " into training and held-out documents "
                                        "(split " + other + ", this sampler's " + print + ", holding out ") &&
                          Catch::Contains("start the run again on this split (delete its checkpoint, or resume = false), "
                                          "or resume it with the scalelab that saved it"));
    CHECK(fresh.stats().rows == 0);
    CHECK_THROWS_WITH(held.restore(with_split(held_state, other)),
                      Catch::StartsWith("cannot restore this held-out source from its saved state: it was saved on "
                                        "another split"));
    // A state saved before states recorded the split: taken; where the earlier rule's split is this one
    // (no copies) it is checked, else the note says it could not be.
    const std::string unsplit = state.substr(0, state.find(" split="));
    RepetitionSampler old(*corpus, o);
    old.restore(unsplit);
    CHECK(old.stats().rows == 4);
    HeldOutSource old_held(*corpus, h);
    old_held.restore(held_state.substr(0, held_state.find(" split=")));
    if (corpus == &distinct) {
      CHECK(old.restore_note().empty());
      CHECK(old_held.restore_note().empty());
    } else {
      CHECK_THAT(old.restore_note(),
                 Catch::StartsWith("the saved state records no split of corpus copies (saved before states did), so it "
                                   "could not be checked: this scalelab keeps exact copies of a text on one side (since "
                                   "2026-11-25), and holds out ") &&
                     Catch::Contains("held-out documents other than the earlier rule's; if the state was saved before "
                                     "that, the rest of the run trains and measures on another split: start the run "
                                     "again (resume = false, or delete its checkpoint) for a run of one split"));
      CHECK(old_held.restore_note() == old.restore_note());
      // A later restore of a state that records it says nothing again.
      old.restore(state);
      CHECK(old.restore_note().empty());
    }
  }
}

TEST_CASE("text files and folders import as byte documents") {
  TempDir dir;
  ::mkdir((dir.path + "/books").c_str(), 0755);
  dir.file("books/b.txt", "second file\n\nwith two paragraphs\n");
  dir.file("books/a.txt", "first file, caf\xc3\xa9\n");
  dir.file("books/.hidden", "skipped");
  std::string single = dir.file("one.txt", "line one\nline two\n\n\nline three\n");

  TextImportOptions o;
  o.paths = {dir.path + "/books", single};
  o.out = dir.path + "/files.tok";
  Corpus c = ImportText(o);
  REQUIRE(c.documents() == 3);
  CHECK(c.vocab() == 256);
  CHECK(c.token_bytes() == 1);
  CHECK(DecodeTokens(c, c.Tokens(c.document_begin(0), c.document_end(0))) == "first file, caf\xc3\xa9\n");
  CHECK(c.token(c.document_end(0) - 2) == 0xa9);  // bytes ≥ 0x80 stay unsigned
  CHECK(c.metadata().tokenizer == "bytes");
  CHECK(Corpus::Open(o.out).tokens() == c.tokens());
  CHECK(DecodeTokens(c, {0, 255}) == std::string("\0\xff", 2));
  CHECK_THROWS_WITH(DecodeTokens(c, {97, 256}), Catch::Contains("token 1 is 256, not a byte"));

  // Each document's text: a paragraph keeps its lines' newlines, a line keeps its own.
  auto texts = [](const Corpus& corpus) {
    std::vector<std::string> out;
    for (int64_t d = 0; d < corpus.documents(); ++d)
      out.push_back(DecodeTokens(corpus, corpus.Tokens(corpus.document_begin(d), corpus.document_end(d) - corpus.document_begin(d))));
    return out;
  };
  o.documents = "paragraph";
  o.out = dir.path + "/paragraphs.tok";
  CHECK(texts(ImportText(o)) == std::vector<std::string>{"first file, caf\xc3\xa9\n", "second file\n", "with two paragraphs\n",
                                                         "line one\nline two\n", "line three\n"});
  o.documents = "line";
  o.out = dir.path + "/lines.tok";
  CHECK(texts(ImportText(o)) == std::vector<std::string>{"first file, caf\xc3\xa9\n", "second file\n", "with two paragraphs\n",
                                                         "line one\n", "line two\n", "line three\n"});
  // A corpus is named after its first path's file name up to the first dot; a dot file keeps its name.
  o.paths = {dir.file(".notes", "hidden but named\n")};
  o.out = dir.path + "/notes.tok";
  CHECK(ImportText(o).metadata().name == ".notes");
  o.paths = {single};
  CHECK(ImportText(o).metadata().name == "one");
  // Names made safe for a file name: no folders, no spaces, no hidden files.
  CHECK(safe_file_name("my corpus/v2") == "my_corpus_v2");
  CHECK(safe_file_name(".notes") == "_notes");
  CHECK(safe_file_name("") == "corpus");
  o.paths = {dir.path + "/books", single};
  // Imported into the cache (no out): one file each for its documents, file or line.
  const char* cache = std::getenv("SCALELAB_CACHE");
  const std::string saved = cache ? cache : "";
  ::setenv("SCALELAB_CACHE", (dir.path + "/cache").c_str(), 1);
  o.out.clear();
  o.documents = "file";
  const Corpus by_file = ImportText(o);
  o.documents = "line";
  const Corpus by_line = ImportText(o);
  CHECK(by_file.documents() == 3);
  CHECK(by_line.documents() == 6);
  CHECK(by_file.path() != by_line.path());
  if (cache) ::setenv("SCALELAB_CACHE", saved.c_str(), 1);
  else ::unsetenv("SCALELAB_CACHE");
  o.out = dir.path + "/files.tok";

  o.paths = {dir.path + "/missing.txt"};
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("cannot read '" + dir.path + "/missing.txt'"));
  // A blank name is refused as one, by its place in the list (it was "cannot read ''").
  o.paths = {""};
  CHECK_THROWS_WITH(ImportText(o), Catch::Equals("data.files: path 1 of 1 is blank (\"\"); give the name of a file or folder"));
  o.paths = {single};
  o.name = " ";  // named the corpus " "
  CHECK_THROWS_WITH(ImportText(o), Catch::Equals("data.files: name = \" \" is blank; give the corpus a name, or leave name = out "
                                                 "to name it after the first path"));
  o.name.clear();
  o.paths = {single, "   "};
  CHECK_THROWS_WITH(ImportText(o), Catch::Equals("data.files: path 2 of 2 is blank (\"   \"); give the name of a file or "
                                                 "folder, or leave it out of the list"));
  ::mkdir((dir.path + "/empty").c_str(), 0755);
  o.paths = {dir.path + "/empty"};
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("empty corpus: no files found"));
  // A file of blank lines alone was "empty corpus: ... has no tokens", as of a file with nothing in
  // it: which it is, and why, is said now, by paragraph and by line.
  dir.file("blank.txt", "\n\n \t \r\n");
  o.paths = {dir.path + "/blank.txt"};
  o.documents = "paragraph";
  CHECK_THROWS_WITH(ImportText(o), Catch::Equals("empty corpus: every line of text files " + dir.path + "/blank.txt (1 file, "
                                                 "one document per paragraph) is blank (7 bytes of spaces, tabs, CRs and "
                                                 "newlines alone), and a blank line is no document's text; give files with text"));
  o.documents = "line";
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("every line of text files " + dir.path + "/blank.txt (1 file, one document "
                                                   "per line) is blank"));
  // A file with nothing in it has no line to be blank.
  // It was the writer's "empty corpus: ... has no tokens", naming neither data.files nor what to give.
  o.paths = {dir.file("nothing.txt", "")};
  CHECK_THROWS_WITH(ImportText(o), Catch::Equals("data.files: empty corpus: text files " + dir.path + "/nothing.txt (1 file, "
                                                 "one document per line) is empty (0 bytes); give files with text"));
  o.paths = {dir.path + "/nothing.txt", dir.file("nothing2.txt", "")};
  o.documents = "file";
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("(2 files, one document per file) are all empty (0 bytes); give files with text"));
  o.documents = "line";
  o.documents = "sentence";
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("documents must be") && !Catch::Contains("did you mean"));
  for (const char* near : {"paragraphs", "lines", "files"}) {
    o.documents = near;
    CHECK_THROWS_WITH(ImportText(o), Catch::EndsWith(str("(got \"", near, "\"); did you mean \"",
                                                         std::string(near).substr(0, std::strlen(near) - 1), "\"?")));
  }
}

// Shards of no tokens failed with the corpus writer's "empty corpus: llm.c token shards a.bin has no
// tokens", naming neither data.tokens_bin nor what to give.
TEST_CASE("token shards of no tokens are refused naming data.tokens_bin and the fix") {
  TempDir dir;
  TokensBinOptions o;
  o.paths = {llmc_shard(dir, "empty.bin", {}, 20240520, 1)};
  o.out = dir.path + "/empty.tok";
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Equals("data.tokens_bin: empty corpus: llm.c token shards " + o.paths[0] +
                                                      " holds no tokens (a header of 0 tokens); give shards with tokens"));
  o.paths.push_back(llmc_shard(dir, "empty2.bin", {}, 20240520, 1));
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains(" hold no tokens (a header of 0 tokens each); give shards with tokens"));
  o.format = "nanogpt";
  o.paths = {dir.file("nothing.bin", "")};
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::StartsWith("data.tokens_bin: empty corpus: nanoGPT token file ") &&
                                            Catch::EndsWith(" holds no tokens (0 bytes); give shards with tokens"));
}

// A folder given to data.tokens_bin was "error reading 'dir': Is a directory", which named no file to
// give; a named pipe was opened and read, waiting for a writer.
// A path that is not there was "cannot read 'books/a.txt': No such file or directory": a script run
// from another folder reads its relative paths from there, which nothing said.
TEST_CASE("a path that is not there says to check it\, and a relative one names the folder it is read from") {
  TempDir dir;
  const std::string here = std::filesystem::current_path().string();
  TextImportOptions text;
  text.paths = {"no-such-folder/a.txt"};
  text.out = dir.path + "/x.tok";
  CHECK_THROWS_WITH(ImportText(text), Catch::Equals("data.files: cannot read 'no-such-folder/a.txt': No such file or directory; "
                                                    "check the path (a relative path is read from the current folder, " + here + ")"));
  text.paths = {dir.path + "/a.txt"};
  CHECK_THROWS_WITH(ImportText(text), Catch::Equals("data.files: cannot read '" + dir.path + "/a.txt': No such file or directory; "
                                                    "check the path"));
  TokensBinOptions bin;
  bin.format = "nanogpt";
  bin.paths = {"no-such-folder/train.bin"};
  bin.out = dir.path + "/y.tok";
  CHECK_THROWS_WITH(ImportTokensBin(bin), Catch::Equals("data.tokens_bin: cannot read 'no-such-folder/train.bin': No such file or "
                                                        "directory; check the path (a relative path is read from the current "
                                                        "folder, " + here + ")"));
}

TEST_CASE("a folder or a named pipe given as a token file is refused\, naming what to give") {
  TempDir dir;
  ::mkdir((dir.path + "/shakespeare_char").c_str(), 0755);
  TokensBinOptions o;
  o.format = "nanogpt";
  o.paths = {dir.path + "/shakespeare_char/"};
  o.out = dir.path + "/x.tok";
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Equals("data.tokens_bin: '" + dir.path + "/shakespeare_char/' is a folder; give a "
                                                      "token file in it: nanoGPT's prepare.py writes train.bin (the text to train "
                                                      "on) and val.bin there, so data.tokens_bin(\"" + dir.path +
                                                      "/shakespeare_char/train.bin\", { format = \"nanogpt\" }) (the vocab_size of "
                                                      "a meta.pkl beside it is the vocab)"));
  o.format = "llmc";
  o.paths = {dir.path + "/shakespeare_char"};
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Equals("data.tokens_bin: '" + dir.path + "/shakespeare_char' is a folder; give its "
                                                      "shards, such as \"" + dir.path + "/shakespeare_char/*.bin\" (a pattern "
                                                      "reads the files it matches, in sorted order)"));
  const std::string pipe = dir.path + "/pipe.bin";
  REQUIRE(::mkfifo(pipe.c_str(), 0600) == 0);
  o.paths = {pipe};
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Equals("data.tokens_bin: '" + pipe + "' is not a file (a named pipe, a socket or a "
                                                      "device); give a token file"));
}

// A nanoGPT token file of an odd number of bytes was "has an odd number of bytes; not a uint16 token
// file": neither how many nor what to do.
TEST_CASE("a nanoGPT token file of an odd number of bytes is refused with its size and what to do") {
  TempDir dir;
  TokensBinOptions o;
  o.format = "nanogpt";
  o.out = dir.path + "/x.tok";
  o.paths = {dir.file("train.bin", std::string(2001, 'a'))};
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Equals("data.tokens_bin: '" + o.paths[0] + "' is 2001 bytes, an odd number, where "
                                                      "a nanoGPT token file holds 2 bytes a token (uint16): it is cut short or is "
                                                      "no token file; write it again (nanoGPT's prepare.py), or give the token "
                                                      "file meant"));
}

TEST_CASE("llm.c and nanoGPT token shards import with documents split at end-of-text") {
  TempDir dir;
  std::string a = llmc_shard(dir, "a.bin", {50256, 10, 11, 12, 50256, 20, 21}, 20240520, 1);
  std::string b = llmc_shard(dir, "b.bin", {30, 50256, 40, 41}, 20240520, 1);
  TokensBinOptions o;
  o.paths = {a, b};
  o.out = dir.path + "/gpt2.tok";
  Corpus c = ImportTokensBin(o);
  CHECK(c.vocab() == 50257);
  CHECK(c.token_bytes() == 2);
  CHECK(c.metadata().tokenizer == "gpt2");
  CHECK(c.tokens() == 11);
  REQUIRE(c.documents() == 3);  // [EOT 10 11 12] [EOT 20 21 | 30] [EOT 40 41]: a document goes on across shards
  CHECK(c.Tokens(c.document_begin(1), 4) == std::vector<int32_t>{50256, 20, 21, 30});
  CHECK(c.document_end(1) == c.document_begin(1) + 4);

  std::string llama = llmc_shard(dir, "l.bin", {128000, 5, 128255, 128000, 7}, 20240801, 7);
  o.paths = {llama};
  o.out = dir.path + "/llama.tok";
  Corpus l = ImportTokensBin(o);
  CHECK(l.vocab() == 128256);
  CHECK(l.token_bytes() == 4);
  CHECK(l.documents() == 2);
  CHECK(l.metadata().tokenizer == "llama3");

  // A pattern reads the shards it matches in sorted order (llm.c's fineweb_train_000001.bin, ...).
  o.paths = {dir.path + "/[ab].bin"};
  o.out = dir.path + "/pattern.tok";
  const Corpus matched = ImportTokensBin(o);
  CHECK(matched.Tokens(0, matched.tokens()) == c.Tokens(0, c.tokens()));
  CHECK(matched.documents() == c.documents());
  CHECK_THAT(matched.metadata().source, Catch::Contains("llm.c token shards " + dir.path + "/[ab].bin (2 shards)"));
  o.paths = {dir.path + "/z*.bin"};
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("no file or folder matches '" + dir.path + "/z*.bin'"));

  // A shard named twice, or beside a pattern that matches it, is read once: its documents twice
  // over were a copy the held-out split could hold out while the sampler trained on the other.
  o.paths = {a, b, a, dir.path + "/[ab].bin"};
  o.out = dir.path + "/twice.tok";
  const Corpus twice = ImportTokensBin(o);
  CHECK(twice.Tokens(0, twice.tokens()) == c.Tokens(0, c.tokens()));
  CHECK(twice.documents() == c.documents());
  CHECK_THAT(twice.metadata().source, Catch::Contains("(2 shards; 3 shards named more than once read once)"));

  o.paths = {a, llama};
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("share a tokenizer"));
  o.paths = {a, llmc_shard(dir, "bad.bin", {1, 2, 60000}, 20240520, 1)};
  o.out = dir.path + "/failed.tok";
  // It was the writer's "token 2 is 60000, outside the vocabulary [0, 50257)", with no word of what to give.
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("bad.bin': token 2 is 60000, outside the vocabulary [0, 50257) of GPT-2's "
                                                        "tokenizer, which the shard's header names: the shard is corrupted or "
                                                        "holds another tokenizer's ids; give vocab = that tokenizer's size (more "
                                                        "than 60000)"));
  o.vocab = 3;
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("a.bin': token 0 is 50256, outside the vocabulary [0, 3) of vocab = 3; "
                                                        "give vocab = the shards' tokenizer's size (more than 50256), or leave "
                                                        "vocab out for GPT-2's 50257"));
  o.vocab = 0;
  struct stat st;
  CHECK(::stat(o.out.c_str(), &st) != 0);  // a failed import leaves no corpus file behind
  o.paths = {llmc_shard(dir, "short.bin", {1, 2, 3}, 20240520, 1, 5)};
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("the header says 5 tokens"));
  o.paths = {llmc_shard(dir, "magic.bin", {1, 2, 3}, 1234, 1)};
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("not an llm.c token shard (magic 1234"));
  o.paths = {dir.path + "/nothing.bin"};
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("cannot read '" + dir.path + "/nothing.bin'"));
  o.paths = {a};
  o.name = "\t";
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("data.tokens_bin: name = \"\t\" is blank"));
  o.name.clear();
  o.paths = {a, "\t"};  // a blank name was "cannot read '\t'"
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Equals("data.tokens_bin: path 2 of 2 is blank (\"\t\"); give the name of a "
                                                      "shard, or leave it out of the list"));

  // nanoGPT: headerless uint16, the end-of-text appended to each document (its prepare.py), so a
  // document ends after each one: [1 2 eot] [3 4 eot] [5].
  std::vector<uint16_t> raw{1, 2, 50256, 3, 4, 50256, 5};
  o.paths = {dir.file("train.bin", std::string(reinterpret_cast<const char*>(raw.data()), raw.size() * 2))};
  o.format = "nanogpt";
  o.out = dir.path + "/nano.tok";
  Corpus n = ImportTokensBin(o);
  CHECK(n.tokens() == 7);
  REQUIRE(n.documents() == 3);
  CHECK(n.document_end(0) == 3);
  CHECK(n.document_end(1) == 6);

  // An eot outside the vocabulary is no token: the shard was one document, without a word.
  o.eot = 70000;
  o.out = dir.path + "/eot.tok";
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("eot = 70000 is outside the vocabulary [0, 50257) of the shards' "
                                                        "tokenizer") &&
                                            Catch::Contains("eot = -1 for none"));
  o.vocab = 60000;
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("eot = 70000 is outside the vocabulary [0, 60000)") &&
                                            Catch::Contains("or a larger vocab"));
  CHECK(::stat(o.out.c_str(), &st) != 0);
  o.eot = 4;  // inside it: split after each 4 ([1 2 50256 3 4] [50256 5])
  CHECK(ImportTokensBin(o).documents() == 2);

  // The other format's file: the error says it is one and which format reads it.
  o.vocab = 0;
  o.eot = -2;
  o.out = dir.path + "/wrong.tok";
  o.paths = {a};  // llm.c's, read as nanoGPT's: its header was tokens 55432 ..., "outside the vocabulary"
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("is an llm.c token shard (its header has magic 20240520, version 1 "
                                                        "and 7 tokens)") &&
                                            Catch::Contains("leave format out (format = \"llmc\")"));
  o.paths = {llama};
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("is an llm.c token shard (its header has magic 20240801, version 7"));
  o.format = "llmc";  // nanoGPT's, read as llm.c's
  o.paths = {dir.path + "/train.bin"};
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("shorter than llm.c's 1024-byte header; for a headerless nanoGPT "
                                                        "train.bin pass format = \"nanogpt\""));
  CHECK(::stat(o.out.c_str(), &st) != 0);
}

// llm.c cuts its shards at a fixed token count (data_common.py's shard_size), wherever a document
// stands: the rest of it begins the next shard, with no end-of-text before it. It was a document of
// its own, its first part another, and the held-out split could train on one half and hold out the other.
TEST_CASE("a document that goes on across a shard boundary is one document to the split and the sampler") {
  TempDir dir;
  const int32_t E = 50256;
  // [E 1 2] [E 3 4 | 5 6] [E 7 8 | 9 | (none)] [E 10], the last shard but one holding no end-of-text at all.
  const std::vector<std::string> shards{llmc_shard(dir, "s0.bin", {50256, 1, 2, 50256, 3, 4}, 20240520, 1),
                                        llmc_shard(dir, "s1.bin", {5, 6, 50256, 7, 8}, 20240520, 1),
                                        llmc_shard(dir, "s2.bin", {9}, 20240520, 1),
                                        llmc_shard(dir, "s3.bin", {50256, 10}, 20240520, 1)};
  TokensBinOptions o;
  o.paths = shards;
  o.out = dir.path + "/across.tok";
  const Corpus c = ImportTokensBin(o);
  auto documents = [](const Corpus& corpus) {
    std::vector<std::vector<int32_t>> out;
    for (int64_t d = 0; d < corpus.documents(); ++d)
      out.push_back(corpus.Tokens(corpus.document_begin(d), corpus.document_end(d) - corpus.document_begin(d)));
    return out;
  };
  CHECK(documents(c) == std::vector<std::vector<int32_t>>{{E, 1, 2}, {E, 3, 4, 5, 6}, {E, 7, 8, 9}, {E, 10}});
  // The held-out split holds out whole documents, so both halves of one fall on the same side.
  for (double validation : {0.25, 0.5, 0.75}) {
    const Split split = Split::Make(c, validation);
    CHECK(split.validation.size() == size_t(std::ceil(validation * 4)));
    CHECK(split.train_tokens + split.validation_tokens == 14);
  }
  // The sampler's unique stream puts documents in a shuffled order: each comes whole, never its
  // tail after another document.
  for (int64_t seed = 0; seed < 12; ++seed) {
    SamplerOptions so;
    so.unique_tokens = SamplerOptions::kAllTokens;
    so.tokens = 13;  // all 14 tokens: 13 windows of seq_len 1 and the token after each
    so.seq_len = 1;
    so.batch = 1;
    so.validation = 0;
    so.order_seed = seed;
    const RepetitionSampler sampler(c, so);
    const DocumentStream& stream = sampler.unique_stream();
    std::vector<int32_t> all(size_t(stream.size()));
    stream.Copy(0, stream.size(), all.data());
    REQUIRE(all.size() == 14);
    auto from = [&](size_t i, size_t n) {
      return std::vector<int32_t>(all.begin() + long(i), all.begin() + long(std::min(all.size(), i + n)));
    };
    for (size_t i = 0; i < all.size(); ++i) {
      INFO("order_seed " << seed << ", stream position " << i);
      if (all[i] == 3) CHECK(from(i, 4) == std::vector<int32_t>{3, 4, 5, 6});
      if (all[i] == 7) CHECK(from(i, 3) == std::vector<int32_t>{7, 8, 9});
    }
  }
  // A shard that ends with an end-of-text ends with the first token of a document whose rest is in
  // the next shard: [E 1 2] [E | 3 4].
  o.paths = {llmc_shard(dir, "e0.bin", {50256, 1, 2, 50256}, 20240520, 1), llmc_shard(dir, "e1.bin", {3, 4}, 20240520, 1)};
  o.out = dir.path + "/ends_with_eot.tok";
  CHECK(documents(ImportTokensBin(o)) == std::vector<std::vector<int32_t>>{{E, 1, 2}, {E, 3, 4}});
  o.paths = shards;
  // Without an end-of-text (eot = -1) there is nothing to go on from: each shard is one document.
  o.eot = -1;
  o.out = dir.path + "/none.tok";
  CHECK(ImportTokensBin(o).documents() == 4);
  // Shards holding no end-of-text are one document now, so "more shards" alone gives no split: the
  // advice says eot = -1, and following it splits.
  o.paths = {shards[2], llmc_shard(dir, "s4.bin", {11, 12}, 20240520, 1)};
  o.eot = -2;
  o.out = dir.path + "/no_eot.tok";
  CHECK_THROWS_WITH(Split::Make(ImportTokensBin(o), 0.01), Catch::Contains("or from more shards with eot = -1 (each shard one document)"));
  o.eot = -1;
  o.out = dir.path + "/no_eot_none.tok";
  CHECK(Split::Make(ImportTokensBin(o), 0.01).validation.size() == 1);
  // nanoGPT's files are one stream too: a document not ended by its end-of-text goes on in the next file.
  auto nano = [&](const std::string& name, const std::vector<uint16_t>& ids) {
    return dir.file(name, std::string(reinterpret_cast<const char*>(ids.data()), ids.size() * 2));
  };
  o.paths = {nano("n0.bin", {1, 2, 50256, 3}), nano("n1.bin", {4, 50256, 5})};
  o.format = "nanogpt";
  o.eot = -2;
  o.out = dir.path + "/nano.tok";
  CHECK(documents(ImportTokensBin(o)) == std::vector<std::vector<int32_t>>{{1, 2, E}, {3, 4, E}, {5}});
}

// Several end-of-text tokens in a row (E E E) made a document of each: documents of an end-of-text
// alone, counted as documents, which the held-out split held out as such (half the documents of
// [E E E 1 2 E 3] were a lone E). A run of them is one boundary now; its tokens stay in the stream,
// with the document the run begins (llm.c) or ends (nanoGPT).
TEST_CASE("a run of end-of-text tokens is one boundary between documents, not documents of an end-of-text alone") {
  TempDir dir;
  const int32_t E = 50256;
  auto documents = [](const Corpus& corpus) {
    std::vector<std::vector<int32_t>> out;
    for (int64_t d = 0; d < corpus.documents(); ++d)
      out.push_back(corpus.Tokens(corpus.document_begin(d), corpus.document_end(d) - corpus.document_begin(d)));
    return out;
  };
  TokensBinOptions o;
  // llm.c: each document begins with its end-of-text; a run before the first text begins the first
  // document, one after the last ends the last; a run cut by a shard's end is one run.
  o.paths = {llmc_shard(dir, "a.bin", {50256, 50256, 50256, 1, 2, 50256, 3, 50256}, 20240520, 1),
             llmc_shard(dir, "b.bin", {50256, 4, 50256, 50256}, 20240520, 1)};
  o.out = dir.path + "/llmc.tok";
  const Corpus c = ImportTokensBin(o);
  CHECK(c.tokens() == 12);
  CHECK(documents(c) == std::vector<std::vector<int32_t>>{{E, E, E, 1, 2}, {E, 3}, {E, E, 4, E, E}});
  // The split counts 3 documents, and holds out whole ones with text in them.
  const Split split = Split::Make(c, 0.5);
  CHECK(split.validation.size() + split.train.size() == 3);
  CHECK(split.validation.size() == 2);
  CHECK(split.train_tokens + split.validation_tokens == 12);
  // nanoGPT: each document ends with its end-of-text; a run after a text ends it.
  auto nano = [&](const std::string& name, const std::vector<uint16_t>& ids) {
    return dir.file(name, std::string(reinterpret_cast<const char*>(ids.data()), ids.size() * 2));
  };
  o.paths = {nano("n0.bin", {50256, 50256, 1, 50256, 50256}), nano("n1.bin", {50256, 2, 50256, 3})};
  o.format = "nanogpt";
  o.out = dir.path + "/nano.tok";
  CHECK(documents(ImportTokensBin(o)) == std::vector<std::vector<int32_t>>{{E, E, 1, E, E, E}, {2, E}, {3}});
  // End-of-text tokens alone are one document of them all: the tokens stay, and no document is empty.
  o.paths = {nano("eots.bin", {50256, 50256, 50256})};
  o.out = dir.path + "/eots.tok";
  CHECK(documents(ImportTokensBin(o)) == std::vector<std::vector<int32_t>>{{E, E, E}});
  o.paths = {llmc_shard(dir, "eots.bin", {50256, 50256, 50256}, 20240520, 1)};
  o.format = "llmc";
  o.out = dir.path + "/eots-llmc.tok";
  CHECK(documents(ImportTokensBin(o)) == std::vector<std::vector<int32_t>>{{E, E, E}});
}

// nanoGPT's shakespeare_char is 65 characters with no end-of-text: eot left out was GPT-2's 50256,
// which no token of vocab 65 can be, so each file was one document and the corpus said nothing of it.
TEST_CASE("eot left out with a vocab that does not hold the tokenizer's end-of-text says so and names eot =") {
  TempDir dir;
  auto nano = [&](const std::string& name, const std::vector<uint16_t>& ids) {
    return dir.file(name, std::string(reinterpret_cast<const char*>(ids.data()), ids.size() * 2));
  };
  TokensBinOptions o;
  o.paths = {nano("train.bin", {1, 2, 0, 3, 64}), nano("more.bin", {5, 0, 6})};
  o.format = "nanogpt";
  o.vocab = 65;
  o.out = dir.path + "/chars.tok";
  std::vector<std::string> notes;
  const Corpus c = ImportTokensBin(o, &notes);
  CHECK(c.documents() == 2);  // one per file
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::Contains("vocab = 65 does not hold GPT-2's (50256), so each file is one document") &&
                           Catch::Contains("give eot = the end-of-text id") && Catch::Contains("eot = -1 to say there is none"));
  CHECK_THAT(c.metadata().source, Catch::Contains(notes[0]));
  // From the cache (no out =) too, the note is given each time.
  const char* cache = std::getenv("SCALELAB_CACHE");
  const std::string saved = cache ? cache : "";
  ::setenv("SCALELAB_CACHE", (dir.path + "/cache").c_str(), 1);
  o.out.clear();
  for (int time = 0; time < 2; ++time) {
    notes.clear();
    CHECK(ImportTokensBin(o, &notes).documents() == 2);
    CHECK(notes.size() == 1);
  }
  if (cache) ::setenv("SCALELAB_CACHE", saved.c_str(), 1);
  else ::unsetenv("SCALELAB_CACHE");
  // Named, it splits, and there is no note; eot = -1 says there is none, and no note either.
  o.out = dir.path + "/split.tok";
  o.eot = 0;
  notes.clear();
  CHECK(ImportTokensBin(o, &notes).documents() == 3);  // [1 2 0] [3 64 5 0] [6]
  o.eot = -1;
  o.out = dir.path + "/none.tok";
  CHECK(ImportTokensBin(o, &notes).documents() == 2);
  CHECK(notes.empty());
  // LLaMA-3 shards with a vocab below 128000 say LLaMA 3's.
  o.paths = {llmc_shard(dir, "l.bin", {1, 2, 3}, 20240801, 7)};
  o.format = "llmc";
  o.eot = -2;
  o.vocab = 1000;
  o.out = dir.path + "/llama.tok";
  CHECK(ImportTokensBin(o, &notes).documents() == 1);
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::Contains("vocab = 1000 does not hold LLaMA 3's (128000), so each shard is one document"));
  // From the cache too: its tokenizer is "unknown" (a vocab below LLaMA 3's), and the cached corpus's
  // note said GPT-2's (50256) for vocab = 1000, and nothing for vocab = 100000 (which holds 50256).
  for (const int64_t vocab : {int64_t{1000}, int64_t{100000}}) {
    INFO(vocab);
    const CacheFolder cached(dir.path + "/cache-llama");
    o.vocab = vocab;
    o.out.clear();
    for (int time = 0; time < 2; ++time) {
      INFO("import " << time + 1);
      notes.clear();
      const Corpus l = ImportTokensBin(o, &notes);
      CHECK(l.metadata().tokenizer == "unknown");
      REQUIRE(notes.size() == 1);
      CHECK_THAT(notes[0], Catch::Contains("vocab = " + std::to_string(vocab) + " does not hold LLaMA 3's (128000)"));
    }
  }
  // A vocab that holds it keeps the tokenizer's end-of-text, without a note.
  notes.clear();
  o.paths = {llmc_shard(dir, "g.bin", {1, 50256, 3}, 20240520, 1)};
  o.vocab = 50304;  // GPT-2's padded to a multiple of 64, as llm.c's models do
  o.out = dir.path + "/padded.tok";
  CHECK(ImportTokensBin(o, &notes).documents() == 2);
  CHECK(notes.empty());
}

// A token file of a vocab smaller than GPT-2's, given (vocab = 65) or plain from its ids (none above
// 255, nanoGPT's shakespeare_char with vocab left out), was labelled "gpt2": ids of another tokenizer
// that the corpus said were GPT-2's. Its tokenizer is "unknown" now, and the source (and a note) says why.
// nanoGPT's character-level sets keep their vocabulary in meta.pkl beside train.bin and val.bin. It
// was not read: vocab left out, a shakespeare_char train.bin was a corpus of GPT-2's 50257 ids.
TEST_CASE("nanoGPT's meta.pkl gives a token file its vocab\, read without running pickle code") {
  const std::string fixtures = std::string(SCALELAB_TEST_DATA) + "/nanogpt/";
  for (const char* protocol : {"2", "3", "4", "5"}) {
    INFO("protocol " << protocol);
    CHECK(ReadMetaVocabSize("t", fixtures + "shakespeare-p" + protocol + ".pkl") == 65);
    CHECK(ReadMetaVocabSize("t", fixtures + "wide-p" + protocol + ".pkl") == 300);
  }
  const std::string fix = "; give vocab = the vocabulary size of the tokenizer that made the ids (nanoGPT's prepare.py prints it)";
  CHECK_THROWS_WITH(ReadMetaVocabSize("data.tokens_bin", fixtures + "object.pkl"),
                    Catch::Equals("data.tokens_bin: '" + fixtures + "object.pkl' is not a meta.pkl that scalelab reads "
                                  "(nanoGPT's pickle of a dict of vocab_size, itos and stoi): it holds opcode 0x93 "
                                  "(STACK_GLOBAL: a class or function), which scalelab does not read, as it never runs pickle "
                                  "code (at byte 65)" + fix));
  TempDir dir;
  auto bytes = [](std::initializer_list<int> b) {
    std::string s;
    for (int x : b) s += char(x);
    return s;
  };
  // Hand-made pickles: what pickle.dump writes for { 'vocab_size': n } (protocol 2), and the ways one can be wrong.
  const std::string vocab_key = bytes({0x8c, 10}) + "vocab_size";
  auto dict_of = [&](const std::string& value) { return bytes({0x80, 2, '}', 'q', 0, '(', }) + vocab_key + value + "u."; };
  CHECK(ReadMetaVocabSize("t", dir.file("int.pkl", dict_of(bytes({'M', 0x01, 0x01})))) == 257);
  CHECK(ReadMetaVocabSize("t", dir.file("long.pkl", dict_of(bytes({0x8a, 2, 0x00, 0x01})))) == 256);
  CHECK(ReadMetaVocabSize("t", dir.file("setitem.pkl", bytes({0x80, 3, '}'}) + vocab_key + bytes({'K', 9, 's', '.'}))) == 9);
  CHECK(ReadMetaVocabSize("t", dir.file("dict.pkl", bytes({0x80, 2, '('}) + vocab_key + bytes({'K', 7, 'd', '.'}))) == 7);
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"", "it is empty"},
      {"(dp0\nS'vocab_size'\np1\nI65\ns.", "it does not begin with a pickle protocol 2-5 header (PROTO); protocols 0 and 1 are not read"},
      {bytes({0x80, 6, '}', '.'}), "pickle protocol 6, where 2 to 5 are read (at byte 0)"},
      {dict_of(bytes({'K', 65})).substr(0, 20), "it ends early (at byte 20)"},
      {dict_of(bytes({'G', 0x40, 0x50, 0x40, 0, 0, 0, 0, 0})), "it holds opcode 0x47 (BINFLOAT: a float), which scalelab does not read"},
      {dict_of(bytes({0x8c, 2}) + "65"), "its vocab_size is not an int"},
      {dict_of(bytes({'J', 0xff, 0xff, 0xff, 0xff})), "says vocab_size -1, outside [1, 65536]"},
      {dict_of(bytes({'J', 0x01, 0x00, 0x01, 0x00})), "says vocab_size 65537, outside [1, 65536]"},
      {bytes({0x80, 4, '}', '.'}), "its dict has no 'vocab_size'"},
      {bytes({0x80, 4, 'K', 65, '.'}), "it holds no dict"},
      {bytes({0x80, 4, 'h', 3, '.'}), "memo 3 is read before it is written (at byte 2)"},
      {bytes({0x80, 4, '}', '.', '.'}), "bytes follow the pickle's STOP (at byte 4)"},
      {bytes({0x80, 4, 'c'}) + "os\nsystem\n(S'true'\ntR.", "it holds opcode 0x63 (GLOBAL: a class or function)"}};
  for (size_t i = 0; i < refused.size(); ++i) {
    INFO(refused[i].second);
    const std::string path = dir.file("bad" + std::to_string(i) + ".pkl", refused[i].first);
    CHECK_THROWS_WITH(ReadMetaVocabSize("data.tokens_bin", path),
                      Catch::StartsWith("data.tokens_bin: '" + path + "' ") && Catch::Contains(refused[i].second) &&
                          Catch::EndsWith(fix));
  }

  // Every cut of a real meta.pkl is refused as ending early, and bytes changed at random give a
  // vocab_size or an error, never a crash (the reader trusts no length or memo index it reads).
  {
    std::ifstream in(fixtures + "shakespeare-p2.pkl", std::ios::binary);
    const std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(whole.size() > 900);
    int ended = 0;
    for (size_t n = 2; n < whole.size(); ++n) {
      try {
        ReadMetaVocabSize("t", dir.file("cut.pkl", whole.substr(0, n)));
      } catch (const Error& e) {
        ended += std::string(e.what()).find("it ends early") != std::string::npos ? 1 : 0;
      }
    }
    CHECK(ended == int(whole.size()) - 2);
    Rng rng(11);
    int read = 0, refused = 0;
    for (int trial = 0; trial < 500; ++trial) {
      std::string changed = whole;
      for (int k = 0; k < 3; ++k) changed[size_t(rng.below(changed.size()))] = char(rng.below(256));
      try {
        read += ReadMetaVocabSize("t", dir.file("changed.pkl", changed)) > 0 ? 1 : 0;
      } catch (const Error&) {
        ++refused;
      }
    }
    CHECK(read + refused == 500);
    CHECK(refused > 0);
  }
  // A folder as prepare.py leaves it: train.bin, val.bin and meta.pkl. The largest ids do not occur
  // in train.bin (40 of 65 at most): the vocab is meta.pkl's 65, neither GPT-2's 50257 nor 41.
  ::mkdir((dir.path + "/shakespeare_char").c_str(), 0755);
  {
    std::ifstream in(fixtures + "shakespeare-p4.pkl", std::ios::binary);
    std::ofstream(dir.path + "/shakespeare_char/meta.pkl", std::ios::binary) << in.rdbuf();
  }
  std::vector<uint16_t> ids;
  for (int i = 0; i < 400; ++i) ids.push_back(uint16_t(i * 7 % 41));
  const std::string train = dir.file("shakespeare_char/train.bin", std::string(reinterpret_cast<const char*>(ids.data()), ids.size() * 2));
  TokensBinOptions o;
  o.format = "nanogpt";
  o.paths = {train};
  o.out = dir.path + "/chars.tok";
  std::vector<std::string> notes;
  const Corpus c = ImportTokensBin(o, &notes);
  CHECK(c.vocab() == 65);
  CHECK(c.tokens() == 400);
  CHECK(c.metadata().tokenizer == "unknown");
  const std::string meta = dir.path + "/shakespeare_char/meta.pkl";
  CHECK_THAT(c.metadata().source, Catch::Contains("token ids of an unknown tokenizer: vocab_size 65 of '" + meta +
                                                  "' is smaller than GPT-2's 50257"));
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::StartsWith("no end-of-text token: vocab_size 65 of '" + meta + "' does not hold GPT-2's (50256)"));
  // A vocab given is used as it is; meta.pkl is not read (a broken one neither).
  o.vocab = 100;
  o.out = dir.path + "/given.tok";
  CHECK(ImportTokensBin(o).vocab() == 100);
  // An id at or above meta.pkl's vocab_size: the file and meta.pkl disagree.
  ids[7] = 65;
  const std::string wrong = dir.file("shakespeare_char/wrong.bin", std::string(reinterpret_cast<const char*>(ids.data()), ids.size() * 2));
  o.vocab = 0;
  o.paths = {wrong};
  o.out = dir.path + "/wrong.tok";
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Equals("data.tokens_bin: '" + wrong + "': token 7 is 65, outside the vocabulary "
                                                      "[0, 65) of vocab_size 65 of '" + meta + "': the file and its meta.pkl "
                                                      "disagree; give vocab = the size of the tokenizer that made the file (more than 65)"));
  // A meta.pkl that is not a plain dict: refused, naming it and vocab =.
  dir.file("shakespeare_char/meta.pkl", bytes({0x80, 4, 'c'}) + "os\nsystem\n(S'true'\ntR.");
  o.paths = {train};
  o.out = dir.path + "/object.tok";
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::StartsWith("data.tokens_bin: '" + meta + "' is not a meta.pkl that scalelab reads") &&
                                            Catch::EndsWith(fix));
}

TEST_CASE("a token file of a vocab smaller than the tokenizer's is not labelled gpt2 or llama3") {
  TempDir dir;
  auto nano = [&](const std::string& name, const std::vector<uint16_t>& ids) {
    return dir.file(name, std::string(reinterpret_cast<const char*>(ids.data()), ids.size() * 2));
  };
  TokensBinOptions o;
  o.format = "nanogpt";
  o.paths = {nano("chars.bin", {1, 2, 0, 3, 64})};
  o.vocab = 65;
  o.out = dir.path + "/chars.tok";
  std::vector<std::string> notes;
  Corpus c = ImportTokensBin(o, &notes);
  CHECK(c.metadata().tokenizer == "unknown");
  CHECK_THAT(c.metadata().source, Catch::Contains("token ids of an unknown tokenizer: vocab = 65 is smaller than GPT-2's 50257"));
  CHECK_THAT(c.Summary(), Catch::Contains("vocab 65 (unknown)"));
  // One document (no end-of-text in vocab 65): the split's advice is a token file's, as for gpt2.
  CHECK_THROWS_WITH(Split::Make(c, 0.01), Catch::Contains("import it split at its end-of-text token (eot = its id in "
                                                          "data.tokens_bin)"));
  // Left out, the vocab is GPT-2's, but ids no larger than a byte's are not GPT-2 text: said so, with the fix.
  o.vocab = 0;
  o.out = dir.path + "/bytes.tok";
  notes.clear();
  c = ImportTokensBin(o, &notes);
  CHECK(c.vocab() == 50257);
  CHECK(c.metadata().tokenizer == "unknown");
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::Contains("the largest token id is 64, where GPT-2 text has ids far beyond 255") &&
                           Catch::Contains("give vocab = the tokenizer's size (nanoGPT's prepare.py writes it as vocab_size to a "
                                          "meta.pkl, read where it lies beside the file, and none does here)"));
  CHECK_THAT(c.metadata().source, Catch::Contains(notes[0]));
  // From the cache (no out =) the note is given again.
  {
    const CacheFolder cache(dir.path + "/cache");
    o.out.clear();
    for (int time = 0; time < 2; ++time) {
      notes.clear();
      CHECK(ImportTokensBin(o, &notes).metadata().tokenizer == "unknown");
      CHECK(notes.size() == 1);
    }
  }
  // GPT-2 ids (one above 255), or GPT-2's vocab padded (50304), are GPT-2's, without a note.
  o.paths = {nano("gpt2.bin", {1, 2, 50256, 464, 3})};
  o.out = dir.path + "/gpt2.tok";
  notes.clear();
  CHECK(ImportTokensBin(o, &notes).metadata().tokenizer == "gpt2");
  o.vocab = 50304;
  o.out = dir.path + "/padded.tok";
  CHECK(ImportTokensBin(o, &notes).metadata().tokenizer == "gpt2");
  CHECK(notes.empty());
  // An llm.c shard's header names its tokenizer: ids below 256 are still GPT-2's, but not a vocab below it.
  o.format = "llmc";
  o.vocab = 0;
  o.paths = {llmc_shard(dir, "g.bin", {50256, 1, 2}, 20240520, 1)};
  o.out = dir.path + "/llmc.tok";
  CHECK(ImportTokensBin(o, &notes).metadata().tokenizer == "gpt2");
  o.vocab = 256;
  o.eot = -1;
  o.paths = {llmc_shard(dir, "g2.bin", {255, 1, 2}, 20240520, 1)};
  o.out = dir.path + "/llmc256.tok";
  CHECK(ImportTokensBin(o, &notes).metadata().tokenizer == "unknown");
  o.vocab = 1000;
  o.eot = -2;
  o.paths = {llmc_shard(dir, "l.bin", {1, 2, 3}, 20240801, 7)};
  o.out = dir.path + "/llama.tok";
  c = ImportTokensBin(o, &notes);
  CHECK(c.metadata().tokenizer == "unknown");
  CHECK_THAT(c.metadata().source, Catch::Contains("vocab = 1000 is smaller than LLaMA 3's 128256"));
}

// vocab = 2^40 was "vocabulary size 1099511627776 is beyond 2^31 token ids", naming neither the
// function nor the fix, and vocab = 2^31 over a uint16 file made a corpus of 4-byte tokens whose ids
// can be no larger than 65535, for a model of 2^31 embeddings.
TEST_CASE("a vocab beyond what the token file's ids can be is refused, naming it and the fix") {
  TempDir dir;
  const std::vector<uint16_t> ids{1, 2, 50256, 3};
  TokensBinOptions o;
  o.paths = {dir.file("train.bin", std::string(reinterpret_cast<const char*>(ids.data()), ids.size() * 2))};
  o.format = "nanogpt";
  o.out = dir.path + "/big.tok";
  o.vocab = int64_t{1} << 40;
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::StartsWith("data.tokens_bin: vocab = 1099511627776 is beyond the 2^31 token "
                                                          "ids a corpus holds; give the shards' tokenizer's vocabulary size"));
  o.vocab = int64_t{1} << 31;
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("data.tokens_bin: vocab = 2147483648 is larger than the 65536 ids that "
                                                        "the uint16 tokens of '" + o.paths[0] + "' can be"));
  o.paths = {llmc_shard(dir, "g.bin", {50256, 1, 2}, 20240520, 1)};
  o.format = "llmc";
  o.vocab = 65537;
  CHECK_THROWS_WITH(ImportTokensBin(o), Catch::Contains("vocab = 65537 is larger than the 65536 ids"));
  struct stat st;
  CHECK(::stat(o.out.c_str(), &st) != 0);
  o.vocab = 65536;  // every uint16 id
  CHECK(ImportTokensBin(o).vocab() == 65536);
  // LLaMA 3's uint32 ids go up to 2^31.
  o.paths = {llmc_shard(dir, "l.bin", {128000, 5, 6}, 20240801, 7)};
  o.vocab = 200000;
  o.out = dir.path + "/llama.tok";
  CHECK(ImportTokensBin(o).vocab() == 200000);
}

TEST_CASE("token shards import by the block: memory stays small, and documents go on across blocks") {
  // The whole shard was held as bytes and again as int32 tokens: three times its size (a nanoGPT
  // OpenWebText train.bin of 17 GB asked for 51 GB).
  TempDir dir;
  const int64_t count = int64_t{32} << 20;  // 64 MiB of uint16
  const int64_t block = int64_t{1} << 20;   // the importer's block, to put end-of-texts at its edges
  std::vector<uint16_t> ids(static_cast<size_t>(count));
  Rng rng(3);
  for (auto& t : ids) t = uint16_t(rng.below(50256));
  std::vector<int64_t> eots;
  for (int64_t p = 700; p < count; p += 700 + int64_t(rng.below(5000))) eots.push_back(p);
  for (int64_t p : {block - 1, block, 2 * block + 1, 3 * block - 1}) eots.push_back(p);
  std::sort(eots.begin(), eots.end());
  eots.erase(std::unique(eots.begin(), eots.end()), eots.end());
  for (int64_t p : eots) ids[size_t(p)] = 50256;
  const std::string raw(reinterpret_cast<const char*>(ids.data()), ids.size() * 2);
  const std::string nano = dir.file("train.bin", raw);
  std::string header(1024, '\0');
  const int32_t head[3] = {20240520, 1, int32_t(count)};
  std::memcpy(&header[0], head, sizeof head);
  const std::string shard = dir.file("shard.bin", header + raw);
  for (const char* format : {"nanogpt", "llmc"}) {
    INFO(format);
    const std::string out = dir.path + "/" + format + ".tok";
    CHECK(imports_in_little_memory(
        [&] {
          TokensBinOptions o;
          o.paths = {std::string(format) == "nanogpt" ? nano : shard};
          o.format = format;
          o.out = out;
          return ImportTokensBin(o);
        },
        count));
    // The documents are those of the whole shard at once: nanoGPT's end after each end-of-text,
    // llm.c's start at each (but the first token), wherever the blocks are cut; a run of them (the
    // two at the first block's edge) is one boundary, after its last or at its first.
    const Corpus c = Corpus::Open(out);
    std::vector<int64_t> starts{0};
    for (size_t k = 0; k < eots.size(); ++k) {
      const int64_t p = eots[k];
      const bool first = k == 0 || eots[k - 1] != p - 1, last = k + 1 == eots.size() || eots[k + 1] != p + 1;
      const int64_t start = std::string(format) == "nanogpt" ? (last ? p + 1 : -1) : (first ? p : -1);
      if (start > 0 && start < count) starts.push_back(start);
    }
    CHECK(std::vector<int64_t>(c.document_starts(), c.document_starts() + c.documents()) == starts);
    CHECK(c.Tokens(block - 2, 4) == std::vector<int32_t>{ids[size_t(block - 2)], 50256, 50256, ids[size_t(block + 1)]});
  }
}

TEST_CASE("GCIDE markup is stripped to plain text") {
  std::string raw =
      "Affect \\Af*fect\"\\, v. t. [imp. & p. p. {Affected}; p. pr. & vb.\n"
      "   n. {Affecting}.] [L. affectus; cf. F. affect[`e].]\n"
      "   1. To act upon; to produce an effect or change upon.\n"
      "      [1913 Webster]\n"
      "\n"
      "            As might affect the earth with cold heat. --Milton.\n"
      "      [1913 Webster]\n";
  std::string text = GcideEntryText(raw);
  CHECK(text ==
        "Affect, v. t. [imp. & p. p. Affected; p. pr. & vb. n. Affecting.] [L. affectus; cf. F. affecte.] 1. To act "
        "upon; to produce an effect or change upon.\n"
        "As might affect the earth with cold heat. --Milton.\n");
  // Accent codes of up to five letters ([thorn], [imac]) become their letters; a line that only
  // begins and ends with a bracket is text, not a source tag.
  CHECK(GcideEntryText("Wor[thorn]y \\Wor\"[thorn]y\\, a. [imac]n [cced]\n[Obs.] Used by [Shak.]\n[Century Dict.]\n") ==
        "Worthy, a. in [cced] [Obs.] Used by [Shak.]\n");
}

TEST_CASE("a dictd index gives each entry's offset and length in base64 digits (A = 0, B = 1, ..., / = 63)") {
  TempDir dir;
  // A dictionary of three entries: 70 bytes of the dictionary's own description at 0, an entry of
  // 65 bytes at 70 = 1·64 + 6 ("BG", length "BB"), one of 10 bytes at 135 = 2·64 + 7 ("CH", "K").
  const std::string about(70, '#');
  const std::string abacus = "Abacus \\Ab\"a*cus\\, n. A frame with sliding beads.\n[1913 Webster]\n";
  const std::string zed = "Zed, n. Z\n";
  REQUIRE(abacus.size() == 65);
  GcideOptions o;
  o.dict = dir.file("tiny.dict", about + abacus + zed);  // zlib reads a file that is not compressed as it is
  o.index = dir.file("tiny.index", "00-database-info\tA\tBG\nabacus\tBG\tBB\nzed\tCH\tK\n");
  o.out = dir.path + "/tiny.tok";
  Corpus c = PrepareGcide(o);
  REQUIRE(c.documents() == 2);
  CHECK(DecodeTokens(c, c.Tokens(0, c.document_end(0))) == "Abacus, n. A frame with sliding beads.\n");
  CHECK(DecodeTokens(c, c.Tokens(c.document_begin(1), c.document_end(1) - c.document_begin(1))) == "Zed, n. Z\n");
  // An entry past the end of the dictionary is an error naming it.
  o.index = dir.file("bad.index", "zed\tCH\tL\n");
  o.refresh = true;
  CHECK_THROWS_WITH(PrepareGcide(o), Catch::Contains("has an entry outside the dictionary: zed"));
}

TEST_CASE("the GCIDE corpus is prepared from dict-gcide, cached, and split for validation") {
  struct stat st;
  if (::stat("/usr/share/dictd/gcide.dict.dz", &st) != 0) {
    WARN("dict-gcide is not installed (bash setup.sh installs it); skipping");
    return;
  }
  TempDir dir;
  GcideOptions o;
  o.out = dir.path + "/gcide.tok";
  Corpus c = PrepareGcide(o);  // the whole dictionary: about half a second
  CHECK(c.documents() > 120000);
  CHECK(c.tokens() > 25000000);
  CHECK(c.metadata().license.find("GPL") != std::string::npos);
  for (int64_t d : {int64_t(0), c.documents() / 2, c.documents() - 1}) {
    std::vector<int32_t> t = c.Tokens(c.document_begin(d), c.document_end(d) - c.document_begin(d));
    std::string text(t.begin(), t.end());
    CHECK(text.find("[1913 Webster]") == std::string::npos);
    CHECK(text.find('{') == std::string::npos);
    CHECK(text.find('\\') == std::string::npos);
  }
  // The licence header of the dictionary is not a document.
  std::vector<int32_t> all = c.Tokens(0, std::min<int64_t>(c.tokens(), 2000000));
  CHECK(std::string(all.begin(), all.end()).find("GNU General Public License") == std::string::npos);
  struct stat before;
  ::stat(o.out.c_str(), &before);
  Corpus again = PrepareGcide(o);  // cached: the file is reused
  struct stat after;
  ::stat(o.out.c_str(), &after);
  CHECK(before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
  CHECK(again.tokens() == c.tokens());
  // A prefix.
  GcideOptions p;
  p.out = dir.path + "/prefix.tok";
  p.max_documents = 500;
  Corpus prefix = PrepareGcide(p);
  CHECK(prefix.documents() == 500);
  CHECK(prefix.Tokens(0, 1000) == c.Tokens(0, 1000));
  // A missing dictionary is a clear error.
  GcideOptions missing;
  missing.dict = dir.path + "/none.dict.dz";
  missing.out = dir.path + "/none.tok";
  CHECK_THROWS_WITH(PrepareGcide(missing), Catch::Contains("dict-gcide"));
}

TEST_CASE("BPE chunks, trains deterministically and round-trips any bytes exactly") {
  std::string text = "The cat sat on the mat.  The cat ate 12345 rats!\n\tTabs\xff\xfe and caf\xc3\xa9 ";
  std::string joined;
  for (const auto& chunk : BpeChunks(text)) joined += chunk;
  CHECK(joined == text);
  CHECK(BpeChunks("a cat")[1] == " cat");
  // A run of one class is cut into chunks of at most 256 bytes, the space that opens one included.
  std::vector<size_t> sizes;
  for (const auto& chunk : BpeChunks(std::string(600, 'a') + " " + std::string(300, '7'))) sizes.push_back(chunk.size());
  CHECK(sizes == std::vector<size_t>{256, 256, 88, 256, 45});

  std::vector<std::string> texts;
  Rng rng(1);
  const char* words[] = {"the", "cat", "sat", "on", "mat", "dog", "ate", "rat", "and", "then"};
  for (int d = 0; d < 200; ++d) {
    std::string doc;
    for (int w = 0; w < 50; ++w) doc += std::string(w ? " " : "") + words[rng.below(10)];
    texts.push_back(doc + ".\n");
  }
  BpeTokenizer a = BpeTokenizer::Train(texts, 300), b = BpeTokenizer::Train(texts, 300);
  CHECK(a.merges() == b.merges());
  CHECK(a.vocab() <= 300);
  CHECK(a.vocab() > 270);
  // Frequent words become single tokens.
  CHECK(a.Encode(" the").size() == 1);
  for (const std::string& s : {text, texts[0], std::string(), std::string(1000, ' '), std::string("\0\x01\x80", 3)}) {
    std::vector<int32_t> ids = a.Encode(s);
    CHECK(a.Decode(ids) == s);
  }
  CHECK(a.Encode(texts[3]).size() < texts[3].size() / 2);
  CHECK_THROWS_WITH(a.Decode({5, 300}), Catch::Contains("outside the vocabulary"));
  CHECK_THROWS_WITH(BpeTokenizer::Train(texts, 256), Catch::Contains("larger than the 256 bytes"));

  TempDir dir;
  std::string path = dir.path + "/t.tokenizer";
  a.Save(path);
  BpeTokenizer loaded = BpeTokenizer::Load(path);
  CHECK(loaded.merges() == a.merges());
  CHECK(loaded.Encode(text) == a.Encode(text));
  std::ofstream(path) << "garbage";
  CHECK_THROWS_WITH(BpeTokenizer::Load(path), Catch::Contains("not a scalelab BPE tokenizer"));
}

TEST_CASE("BPE merges the most frequent pair, ties to the smaller pair, counting pairs again after each merge") {
  using Merges = std::vector<std::pair<int32_t, int32_t>>;
  // Each text one chunk. The pairs: (a,b) 5 + 3 = 8, (b,c) 5 + 2 = 7, (d,e) 6. Merging (a,b) into 256
  // leaves (b,c) 2 (only in "bc"), so (d,e) 6 comes next, then (256,c) 5, then (b,c) 2; then every
  // chunk is one token and training stops at vocab 260, short of the 300 asked.
  std::vector<std::string> texts;
  for (auto [text, copies] : std::vector<std::pair<std::string, int>>{{"abc", 5}, {"ab", 3}, {"bc", 2}, {"de", 6}})
    texts.insert(texts.end(), size_t(copies), text);
  BpeTokenizer t = BpeTokenizer::Train(texts, 300);
  CHECK(t.merges() == Merges{{'a', 'b'}, {'d', 'e'}, {256, 'c'}, {'b', 'c'}});
  CHECK(t.vocab() == 260);
  CHECK(t.Encode("abc") == std::vector<int32_t>{258});
  // Ties: the pair with the smaller first token, then the smaller second.
  CHECK(BpeTokenizer::Train({"xy", "ac", "ab"}, 259).merges() == Merges{{'a', 'b'}, {'a', 'c'}, {'x', 'y'}});
}

TEST_CASE("a BPE tokenizer file's merges apply in their order, and a merge of a token not yet made is corrupt") {
  TempDir dir;
  // Merge 0 makes "bc" (256), merge 1 "ab" (257): "abc" is a + bc, though "ab" comes first in it.
  std::string path = dir.file("hand.tokenizer", "scalelab-bpe v1\nvocab 258\nmerges 2\n98 99\n97 98\n");
  BpeTokenizer t = BpeTokenizer::Load(path);
  CHECK(t.Encode("abc") == std::vector<int32_t>{'a', 256});
  CHECK(t.Encode("abab") == std::vector<int32_t>{257, 257});
  CHECK(t.Decode({'a', 256, 257}) == "abcab");
  // Merge i may join only bytes and the tokens of merges before it (ids below 256 + i).
  dir.file("self.tokenizer", "scalelab-bpe v1\nvocab 258\nmerges 2\n98 99\n257 97\n");
  CHECK_THROWS_WITH(BpeTokenizer::Load(dir.path + "/self.tokenizer"), Catch::Contains("corrupted at merge 1"));
  dir.file("ahead.tokenizer", "scalelab-bpe v1\nvocab 258\nmerges 2\n256 97\n98 99\n");
  CHECK_THROWS_WITH(BpeTokenizer::Load(dir.path + "/ahead.tokenizer"), Catch::Contains("corrupted at merge 0"));
}

TEST_CASE("a BPE corpus keeps documents, never trains on validation, and decodes back to the bytes") {
  TempDir dir;
  CorpusMetadata m;
  m.name = "words";
  m.tokenizer = "bytes";
  // The split of documents that are no copies of each other depends only on their number: find a
  // validation slot first, and put text there that appears nowhere else.
  CorpusWriter probe(256, m);
  for (int d = 0; d < 401; ++d) probe.AddBytes(std::to_string(d));
  const int64_t held = Split::Make(probe.Finish(), 0.01).validation.at(0);
  CorpusWriter w(256, m);
  Rng rng(5);
  const char* words[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
  for (int d = 0; d < 401; ++d) {
    std::string doc;
    for (int i = 0; i < 40; ++i) doc += std::string(i ? " " : "") + words[rng.below(8)];
    w.AddBytes(d == held ? "qqqqqqqqqqqqqqqqqqqqqqqqqqqq qqqqqqqqqqqqqqqqqqqqqqqq qqqqqqqqqqqq\n" : doc + "\n");
  }
  Corpus bytes = w.Write(dir.path + "/words.tok");
  BpeOptions o;
  o.vocab = 400;
  Corpus bpe = TrainBpeCorpus(bytes, o);
  CHECK(bpe.path() == dir.path + "/words.bpe400.tok");
  CHECK(bpe.documents() == bytes.documents());
  CHECK(bpe.tokens() < bytes.tokens() / 3);
  auto tok = CorpusTokenizer(bpe);
  REQUIRE(tok);
  CHECK(bpe.vocab() == tok->vocab());
  // Beside the corpus, named by the inputs it was trained from.
  CHECK(tok->path().rfind(dir.path + "/words.bpe400.", 0) == 0);
  CHECK(tok->path().size() == (dir.path + "/words.bpe400.12345678.tokenizer").size());
  CHECK(bpe.metadata().tokenizer == "bpe:" + tok->path().substr(dir.path.size() + 1));
  for (int64_t d = 0; d < bpe.documents(); d += 37) {
    std::vector<int32_t> ids = bpe.Tokens(bpe.document_begin(d), bpe.document_end(d) - bpe.document_begin(d));
    std::vector<int32_t> raw = bytes.Tokens(bytes.document_begin(d), bytes.document_end(d) - bytes.document_begin(d));
    CHECK(DecodeTokens(bpe, ids) == DecodeTokens(bytes, raw));
  }
  // The split is the same; no merge was learned from validation-only text.
  Split sb = Split::Make(bytes, 0.01), sp = Split::Make(bpe, 0.01);
  CHECK(sb.validation == sp.validation);
  for (int32_t id = 256; id < tok->vocab(); ++id) REQUIRE(tok->TokenBytes(id).find('q') == std::string::npos);
  // Control: the same corpus with validation = 0 does learn merges of q.
  BpeOptions all = o;
  all.validation = 0;
  all.out = dir.path + "/all.tok";
  auto control = CorpusTokenizer(TrainBpeCorpus(bytes, all));
  bool q = false;
  for (int32_t id = 256; id < control->vocab(); ++id) q = q || control->TokenBytes(id).find("qq") != std::string::npos;
  CHECK(q);
  // Reused from the cache the second time.
  CHECK(TrainBpeCorpus(bytes, o).path() == bpe.path());
  o.vocab = 100;
  CHECK_THROWS_WITH(TrainBpeCorpus(bytes, o), Catch::Contains("larger than the 256 bytes"));
  o.vocab = 400;
  CHECK_THROWS_WITH(TrainBpeCorpus(bpe, o), Catch::Contains("trains on a byte-level corpus"));
}

// A byte corpus of `documents` lines of random lowercase words (plenty of pairs to merge): the
// same seed gives the same text; another seed gives other text of the same document lengths.
Corpus random_words(const std::string& path, uint64_t seed, int documents = 60) {
  CorpusMetadata m;
  m.name = "random";
  m.tokenizer = "bytes";
  CorpusWriter w(256, m);
  Rng rng(seed);
  for (int d = 0; d < documents; ++d) {
    std::string doc;
    for (int i = 0; i < 30; ++i) {
      doc += i ? " " : "";
      for (int k = 0; k < 5; ++k) doc += char('a' + rng.below(6 + uint64_t(k)));
    }
    w.AddBytes(doc + "\n");
  }
  return w.Write(path);
}

std::string all_text(const Corpus& c) {
  std::string text;
  for (int64_t d = 0; d < c.documents(); ++d)
    text += DecodeTokens(c, c.Tokens(c.document_begin(d), c.document_end(d) - c.document_begin(d)));
  return text;
}

bool mentions(const std::vector<std::string>& notes, const std::string& what) {
  for (const auto& n : notes)
    if (n.find(what) != std::string::npos) return true;
  return false;
}

// A corpus file is renamed onto out when complete: an out that is one of the inputs would replace the
// user's text, shard or source corpus with the new corpus. It is refused, and the input is kept.
TEST_CASE("out = one of the inputs is refused and the input is left as it was") {
  TempDir dir;
  const std::string text = "words to keep\n";
  const std::string notes = dir.file("notes.txt", text);
  auto contents = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  TextImportOptions o;
  o.paths = {notes};
  o.out = notes;
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("out = '" + notes + "' is one of the files to read") &&
                                       Catch::Contains("give out = another path"));
  o.paths = {dir.path};
  o.out = dir.path + "/./notes.txt";
  CHECK_THROWS_WITH(ImportText(o), Catch::Contains("is one of the files to read"));
  CHECK(contents(notes) == text);

  const std::string shard = llmc_shard(dir, "a.bin", {50256, 10, 11}, 20240520, 1);
  const std::string shard_bytes = contents(shard);
  TokensBinOptions t;
  t.paths = {shard};
  t.out = shard;
  CHECK_THROWS_WITH(ImportTokensBin(t), Catch::Contains("is one of the shards to read"));
  CHECK(contents(shard) == shard_bytes);

  Corpus source = random_words(dir.path + "/src.tok", 1);
  const std::string source_bytes = contents(source.path());
  BpeOptions b;
  b.vocab = 300;
  b.out = source.path();
  CHECK_THROWS_WITH(TrainBpeCorpus(source, b), Catch::Contains("is the source corpus's own file"));
  CHECK(contents(source.path()) == source_bytes);
}

// data.bpe trains on the documents outside its validation fraction; splits nest in their fraction, so
// a sampler or held-out source with a larger one would hold out (and score on) text the tokenizer
// learned from. It is refused; the same or a smaller fraction is fine.
TEST_CASE("a sampler over a BPE corpus refuses a validation that holds out the tokenizer's training text") {
  TempDir dir;
  Corpus source = random_words(dir.path + "/src.tok", 3, 400);
  BpeOptions b;
  b.vocab = 300;
  b.validation = 0.01;
  Corpus bpe = TrainBpeCorpus(source, b);
  SamplerOptions o;
  o.tokens = 1024;
  o.seq_len = 16;
  o.batch = 4;
  o.validation = 0.05;
  CHECK_THROWS_WITH(RepetitionSampler(bpe, o), Catch::Contains("data.sampler: validation = 0.05 holds out documents that "
                                                               "the BPE tokenizer of corpus random-bpe300 was trained on") &&
                                                   Catch::Contains("data.bpe used validation = 0.01"));
  HeldOutOptions h;
  h.seq_len = 16;
  h.validation = 0.05;
  CHECK_THROWS_WITH(HeldOutSource(bpe, h), Catch::Contains("held-out source: validation = 0.05 holds out documents"));
  o.validation = 0.01;
  CHECK_NOTHROW(RepetitionSampler(bpe, o));
  o.validation = 0.002;  // the same one document of 400
  CHECK_NOTHROW(RepetitionSampler(bpe, o));
  o.validation = 0.05;
  CHECK_NOTHROW(RepetitionSampler(source, o));  // a byte corpus has no tokenizer to have seen it
}

TEST_CASE("a BPE corpus file is reused only for the same source contents, vocab, validation and budget, its tokenizer read once") {
  TempDir dir;
  Corpus first = random_words(dir.path + "/src.tok", 1);
  BpeOptions o;
  o.vocab = 300;
  o.out = dir.path + "/src.bpe";
  std::vector<std::string> notes;
  Corpus a = TrainBpeCorpus(first, o, &notes);
  CHECK(notes.empty());
  CHECK(all_text(a) == all_text(first));
  // The same inputs: reused, with no note.
  const Corpus reused = TrainBpeCorpus(first, o, &notes);
  CHECK(notes.empty());
  // Its tokenizer is read from its file once while the file is unchanged (corpus:text(i), decode and
  // encode read and parsed the whole file on every call), for any object over the corpus file.
  const auto tokenizer = CorpusTokenizer(a);
  CHECK(CorpusTokenizer(a) == tokenizer);
  CHECK(CorpusTokenizer(reused) == tokenizer);
  BpeTokenizer::Load(tokenizer->path()).Save(tokenizer->path());  // written again: a new inode and time
  CHECK(CorpusTokenizer(a) != tokenizer);
  CHECK(CorpusTokenizer(a)->merges() == tokenizer->merges());

  // Other text of the same size, name, tokens and documents: trained again, not the old tokens.
  Corpus second = random_words(dir.path + "/src.tok", 2);
  REQUIRE(second.tokens() == first.tokens());
  REQUIRE(second.documents() == first.documents());
  REQUIRE(all_text(second) != all_text(first));
  Corpus b = TrainBpeCorpus(second, o, &notes);
  CHECK(all_text(b) == all_text(second));
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::Contains("src.bpe") && Catch::Contains("source_checksum") &&
                           Catch::Contains("training again and overwriting it"));

  // Another vocab at the same out: that vocab, not the old one.
  notes.clear();
  o.vocab = 320;
  Corpus c = TrainBpeCorpus(second, o, &notes);
  CHECK(c.vocab() == 320);
  CHECK(CorpusTokenizer(c)->vocab() == 320);
  CHECK(mentions(notes, "vocab_asked 300 → 320"));

  // Another validation fraction: the tokenizer must not have seen the validation documents.
  notes.clear();
  o.validation = 0.5;
  Corpus v = TrainBpeCorpus(second, o, &notes);
  CHECK(mentions(notes, "validation 0.01 → 0.5"));
  CHECK(v.metadata().extra.at("bpe_validation") == "0.5");
  Split split = Split::Make(second, 0.5);
  std::vector<std::string> train;
  for (int64_t d : split.train)
    train.push_back(DecodeTokens(second, second.Tokens(second.document_begin(d), second.document_end(d) - second.document_begin(d))));
  CHECK(CorpusTokenizer(v)->merges() == BpeTokenizer::Train(train, 320).merges());

  // Another training budget.
  notes.clear();
  o.max_train_bytes = 1000;
  TrainBpeCorpus(second, o, &notes);
  CHECK(mentions(notes, "max_train_bytes"));

  // A corpus file of an older scalelab (no record of the source's contents) is trained again.
  notes.clear();
  CorpusMetadata old = v.metadata();
  old.extra.clear();
  old.extra["bpe_source"] = "random:1:2:3";
  CorpusWriter w(v.vocab(), old);
  w.AddDocument(v.Tokens(0, v.tokens()));
  w.Write(dir.path + "/src.bpe");
  CHECK(all_text(TrainBpeCorpus(second, o, &notes)) == all_text(second));
  CHECK(mentions(notes, "older scalelab"));
}

TEST_CASE("a BPE corpus finds its tokenizer beside it from any folder, and older corpora still decode") {
  TempDir dir;
  Corpus words = random_words(dir.path + "/words.tok", 3);
  const std::string text = all_text(words);
  char here[4096];
  REQUIRE(::getcwd(here, sizeof here));
  REQUIRE(::mkdir((dir.path + "/sub").c_str(), 0755) == 0);
  BpeOptions o;
  o.vocab = 300;
  o.out = "sub/rel.tok";  // relative to the folder data.bpe runs in
  REQUIRE(::chdir(dir.path.c_str()) == 0);
  Corpus made = TrainBpeCorpus(words, o);
  // The tokenizer's file is named by the training's inputs: rel.<8 hex digits>.tokenizer.
  const std::string name = made.metadata().tokenizer.substr(4);
  CHECK(made.metadata().tokenizer.rfind("bpe:rel.", 0) == 0);
  CHECK(name.size() == std::string("rel.12345678.tokenizer").size());
  CHECK(name.compare(name.size() - 10, 10, ".tokenizer") == 0);
  CHECK(all_text(made) == text);
  REQUIRE(::chdir((dir.path + "/sub").c_str()) == 0);
  CHECK(all_text(Corpus::Open("rel.tok")) == text);
  REQUIRE(::chdir("/") == 0);
  Corpus far = Corpus::Open(dir.path + "/sub/rel.tok");
  CHECK(all_text(far) == text);
  CHECK(CorpusTokenizer(far)->path() == dir.path + "/sub/" + name);
  // Saved to another folder, the copy names the tokenizer by its absolute path.
  far.Save(dir.path + "/copy.tok");
  Corpus copy = Corpus::Open(dir.path + "/copy.tok");
  CHECK(copy.metadata().tokenizer == "bpe:" + dir.path + "/sub/" + name);
  CHECK(all_text(copy) == text);
  // Saved beside it, the copy names it as the corpus does, from its own folder.
  far.Save(dir.path + "/sub/beside.tok");
  CHECK(Corpus::Open(dir.path + "/sub/beside.tok").metadata().tokenizer == "bpe:" + name);

  // A corpus made before: its tokenizer named from the folder data.bpe ran in.
  CorpusMetadata old = made.metadata();
  old.tokenizer = "bpe:sub/" + name;
  CorpusWriter w(made.vocab(), old);
  for (int64_t d = 0; d < made.documents(); ++d)
    w.AddDocument(made.Tokens(made.document_begin(d), made.document_end(d) - made.document_begin(d)));
  w.Write(dir.path + "/sub/old.tok");
  REQUIRE(::chdir(dir.path.c_str()) == 0);
  CHECK(all_text(Corpus::Open("sub/old.tok")) == text);
  REQUIRE(::chdir("/") == 0);
  CHECK_THROWS_WITH(all_text(Corpus::Open(dir.path + "/sub/old.tok")),
                    Catch::Contains("'sub/" + name + "'") && Catch::Contains(dir.path + "/sub/sub/" + name) &&
                        Catch::Contains("put the tokenizer file beside the corpus file"));
  REQUIRE(::chdir(here) == 0);
}

TEST_CASE("a BPE corpus's vocab is its tokenizer's when the text runs out of pairs, and says so") {
  TempDir dir;
  CorpusMetadata m;
  m.name = "few";
  m.tokenizer = "bytes";
  CorpusWriter w(256, m);
  for (int d = 0; d < 20; ++d) w.AddBytes("the cat sat on the mat\n");
  Corpus bytes = w.Write(dir.path + "/few.tok");
  BpeOptions o;
  o.vocab = 400;
  o.validation = 0;
  std::vector<std::string> notes;
  Corpus bpe = TrainBpeCorpus(bytes, o, &notes);
  const int64_t got = CorpusTokenizer(bpe)->vocab();
  REQUIRE(got < 400);
  CHECK(bpe.vocab() == got);
  CHECK(bpe.token_bytes() == 2);
  const std::string stopped = "the tokenizer stopped at vocab " + std::to_string(got) + " of the 400 asked";
  CHECK_THAT(bpe.metadata().source, Catch::Contains(stopped) && Catch::Contains("has no more pairs to merge"));
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::Contains(stopped) && Catch::Contains("corpus.vocab is " + std::to_string(got)) &&
                           Catch::Contains("give more text"));
  CHECK(all_text(bpe) == all_text(bytes));
  // Reused as it is (asked for the same 400).
  notes.clear();
  Corpus again = TrainBpeCorpus(bytes, o, &notes);
  CHECK(notes.empty());
  CHECK(again.vocab() == got);
  // Cut short by max_train_bytes: the note says so.
  o.max_train_bytes = 10;
  o.out = dir.path + "/cut.tok";
  TrainBpeCorpus(bytes, o, &notes);
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::Contains("cut at max_train_bytes") && Catch::Contains("a larger max_train_bytes"));
  // The budget is of the training text in all: here the first document's 9 bytes, so no merge has c or d.
  CorpusMetadata named = m;
  named.name = "two";
  CorpusWriter two(256, named);
  two.AddBytes("abababab\n");
  two.AddBytes("cdcdcdcd\n");
  Corpus pair = two.Write(dir.path + "/two.tok");
  BpeOptions first;
  first.vocab = 300;
  first.validation = 0;
  first.max_train_bytes = 9;
  auto tokenizer = CorpusTokenizer(TrainBpeCorpus(pair, first));
  REQUIRE(tokenizer->vocab() > 256);
  for (int32_t id = 256; id < tokenizer->vocab(); ++id)
    CHECK(tokenizer->TokenBytes(id).find_first_of("cd") == std::string::npos);
}

TEST_CASE("a sampler tells the trainer how many batches it still plans to give") {
  MarkovOptions mo;
  mo.vocab = 64;
  mo.order = 1;
  mo.support = 8;
  Corpus c = MarkovSource(mo).Generate(60000, 500, 1);
  SamplerOptions o;
  o.tokens = 20000;  // floor(20000 / (5·32)) = 125 batches
  o.seq_len = 32;
  o.batch = 5;
  RepetitionSampler s(c, o);
  CHECK(s.remaining_batches() == 125);
  std::vector<int32_t> x;
  for (int i = 0; i < 25; ++i) s.next_batch(x);
  CHECK(s.remaining_batches() == 100);
  const std::string saved = s.state();
  while (!s.exhausted()) s.next_batch(x);
  CHECK(s.remaining_batches() == 0);
  s.restore(saved);
  CHECK(s.remaining_batches() == 100);
  HeldOutSource held(c, {32, 5, 0.01});
  CHECK(held.remaining_batches() == -1);  // it cycles: never exhausted
}

TEST_CASE("a synthetic corpus too large for memory is refused before any token is generated") {
  MarkovOptions mo;
  mo.vocab = 64;
  mo.seed = 1;
  try {
    MarkovSource(mo).Generate(int64_t(1e15), 4096, 1);
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK_THAT(m, Catch::Contains("tokens = 1000000000000000"));
    CHECK_THAT(m, Catch::Contains("PB of memory"));
    CHECK_THAT(m, Catch::Contains("are available"));
    CHECK_THAT(m, Catch::Contains("out = "));
  }
  GrammarOptions go;
  CHECK_THROWS_WITH(GrammarSource(go).Generate(int64_t(1e15), 4096, 1), Catch::Contains("of memory"));
}

TEST_CASE("data.corpus of a path that is not there says there is no such file, naming it") {
  for (const std::string path : {"/nonexist/file.txt", "nodir/run.tok", "missing.txt"}) {
    INFO(path);
    CHECK_THROWS_WITH(NamedCorpus(path), Catch::Contains("unknown corpus '" + path + "': there is no such file") &&
                                             Catch::Contains("check the path") && !Catch::Contains("Known names"));
  }
  // A name (no folder, no extension) that is not known: the known names, after a full stop.
  CHECK_THROWS_WITH(NamedCorpus("wikitext"), Catch::Contains("unknown corpus 'wikitext'. Known names: gcide"));
  CHECK_THROWS_WITH(NamedCorpus("gcid"), Catch::Contains("unknown corpus 'gcid'; did you mean 'gcide'? Known names"));
  // A blank name is said to be blank (it was "unknown corpus ''", as if misspelt).
  for (const std::string blank : {"", "  ", "\t"})
    CHECK_THROWS_WITH(NamedCorpus(blank), Catch::Equals("data.corpus: the name is blank (\"" + blank + "\"); give a known name "
                                                        "(gcide) or the path of a corpus file"));

  // A corpus file is read whole: max_documents (or refresh) has nothing to act on, and was ignored
  // (max_documents = 10 gave all 40 documents).
  const std::string path = temp_path("named.tok");
  position_corpus(10000).Save(path);
  CHECK(NamedCorpus(path).tokens() == 10000);
  NamedCorpusOptions first;
  first.max_documents = 10;
  CHECK_THROWS_WITH(NamedCorpus(path, first), Catch::Contains("data.corpus: max_documents = 10 prepares a named corpus (gcide); '" +
                                                              path + "' is a corpus file, read whole as it is: leave it out"));
  NamedCorpusOptions again;
  again.refresh = true;
  CHECK_THROWS_WITH(NamedCorpus(path, again), Catch::Contains("data.corpus: refresh = true prepares a named corpus"));
  std::remove(path.c_str());
}

TEST_CASE("a sampler's state is refused by a sampler over another corpus of the same name, size and documents") {
  const Corpus a = position_corpus(10000);
  // The same documents, name and vocabulary; one token differs.
  CorpusMetadata m;
  m.name = "positions";
  CorpusWriter writer(a.vocab(), m);
  for (int64_t d = 0; d < a.documents(); ++d) {
    std::vector<int32_t> doc = a.Tokens(a.document_begin(d), a.document_end(d) - a.document_begin(d));
    for (int32_t& token : doc)
      if (token == 5000) token = 4999;
    writer.AddDocument(doc);
  }
  const Corpus b = writer.Finish();
  REQUIRE(b.tokens() == a.tokens());
  REQUIRE(b.documents() == a.documents());
  CHECK(b.checksum() != a.checksum());
  SamplerOptions o;
  o.tokens = 4000;
  o.seq_len = 16;
  o.batch = 5;
  RepetitionSampler sa(a, o), sb(b, o);
  std::vector<int32_t> x;
  for (int i = 0; i < 7; ++i) sa.next_batch(x);
  const std::string saved = sa.state();
  CHECK_THROWS_WITH(sb.restore(saved), Catch::StartsWith("cannot restore this sampler from its saved state: it was saved "
                                                         "over corpus positions (10000 tokens in ") &&
                                           Catch::Contains("of the same name, size and source but other tokens (its files "
                                                           "changed since, or it was made again otherwise); restore it into "
                                                           "a sampler over the corpus it was saved with"));
  CHECK(sb.stats().rows == 0);
  HeldOutSource ha(a, {16, 5, 0.01}), hb(b, {16, 5, 0.01});
  CHECK_THROWS_WITH(hb.restore(ha.state()), Catch::Contains("restore it into a held-out source over the corpus it was "
                                                            "saved with"));
  // The same corpus saved to a file and opened (verified, or not) has the same checksum: its
  // samplers take the state.
  const std::string path = temp_path("checksum.tok");
  a.Save(path);
  for (const bool verify : {true, false}) {
    const Corpus file = Corpus::Open(path, OpenOptions{verify});
    CHECK(file.checksum() == a.checksum());
    RepetitionSampler sf(file, o);
    sf.restore(saved);
    CHECK(sf.stats().rows == 35);
  }
  std::remove(path.c_str());
  // A v1 state (an earlier scalelab's: no corpus checksum) is checked as it was then, and restores.
  uint64_t h = mix64(uint64_t(a.tokens()));
  h = mix64(h ^ uint64_t(a.documents()));
  h = mix64(h ^ uint64_t(a.vocab()));
  for (char c : std::string("positions")) h = mix64(h ^ uint64_t(uint8_t(c)));
  for (uint64_t v : {uint64_t(o.unique_tokens), uint64_t(o.tokens), uint64_t(o.seq_len), uint64_t(o.batch), o.seed,
                     o.document_order_seed(), uint64_t(std::llround(o.validation * 1e12))})
    h = mix64(h ^ v);
  char v1[128];
  std::snprintf(v1, sizeof v1, "repetition-sampler v1 rows=35 fingerprint=%016llx", static_cast<unsigned long long>(h));
  RepetitionSampler old(a, o);
  old.restore(v1);
  CHECK(old.stats().rows == 35);
  SamplerOptions other = o;
  other.seed = 3;
  RepetitionSampler old_other(a, other);
  CHECK_THROWS_WITH(old_other.restore(v1), Catch::Contains("another corpus or other options"));
}
