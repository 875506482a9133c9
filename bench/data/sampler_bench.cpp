// Throughput of the repetition sampler on one core, from a memory-mapped corpus, beside memcpy of
// the same bytes. Usage: bench_data_sampler <corpus.tok> [seconds per figure]
// Prints one line per figure: name, token ids delivered per second, GB/s written (int32 ids for
// the sampler; the copied bytes for memcpy).
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "data/corpus.h"
#include "data/rng.h"
#include "data/sampler.h"

using namespace scalelab::data;
namespace {

// CPU time of this thread: the figures are per core even when the machine is shared.
double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}
struct Timer {
  double start = cpu_seconds();
  double elapsed() const { return cpu_seconds() - start; }
};

void report(const char* name, double ids, double seconds, double bytes_per_id) {
  std::printf("%-44s %10.1f M tokens/s %8.2f GB/s\n", name, ids / seconds / 1e6, ids * bytes_per_id / seconds / 1e9);
}

void bench_sampler(const Corpus& corpus, const char* name, int64_t T, int64_t B, double budget) {
  SamplerOptions o;
  o.seq_len = T;
  o.batch = B;
  o.unique_tokens = std::min<int64_t>(20000000, Split::Make(corpus, o.validation).train_tokens - 1);
  o.tokens = int64_t(1) << 40;  // never exhausted here
  o.seed = 1;
  RepetitionSampler sampler(corpus, o);
  std::vector<int32_t> batch(size_t(B * (T + 1)));
  int64_t checksum = 0;
  for (int i = 0; i < 20; ++i) sampler.NextBatch(batch.data());  // warm the mapping
  Timer timer;
  int64_t batches = 0;
  while (timer.elapsed() < budget) {
    for (int i = 0; i < 16; ++i, ++batches) {
      sampler.NextBatch(batch.data());
      checksum += batch[size_t(i)];
    }
  }
  double s = timer.elapsed();
  report(name, double(batches * B * (T + 1)), s, 4.0);
  if (checksum == 42) std::printf(" ");
}

// memcpy of the same rows: B random windows of T + 1 tokens of the corpus's width per batch.
void bench_memcpy(const Corpus& corpus, const char* name, int64_t T, int64_t B, double budget, bool int32_output) {
  const int width = int32_output ? 4 : corpus.token_bytes();
  std::vector<uint8_t> source;
  const uint8_t* base = static_cast<const uint8_t*>(corpus.raw_tokens());
  if (int32_output) {  // a pre-widened copy: memcpy then moves exactly the sampler's output bytes
    source.resize(size_t(corpus.tokens()) * 4);
    std::vector<int32_t> tmp = corpus.Tokens(0, corpus.tokens());
    std::memcpy(source.data(), tmp.data(), source.size());
    base = source.data();
  }
  std::vector<uint8_t> out(size_t(B * (T + 1) * width));
  Rng rng(1);
  Timer timer;
  int64_t batches = 0;
  while (timer.elapsed() < budget) {
    for (int i = 0; i < 16; ++i, ++batches)
      for (int64_t b = 0; b < B; ++b) {
        int64_t at = int64_t(rng.below(uint64_t(corpus.tokens() - T - 1)));
        std::memcpy(out.data() + b * (T + 1) * width, base + at * width, size_t((T + 1) * width));
      }
  }
  double s = timer.elapsed();
  report(name, double(batches * B * (T + 1)), s, double(width));
  if (out[7] == 42 && out[9] == 43) std::printf(" ");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s corpus.tok [seconds]\n", argv[0]);
    return 2;
  }
  const double budget = argc > 2 ? std::atof(argv[2]) : 1.5;
  Corpus bytes = Corpus::Open(argv[1]);
  // A uint16 copy of the same tokens (GPT-2-sized vocabulary), as a BPE or llm.c corpus would be.
  CorpusWriter wide(50257, bytes.metadata());
  for (int64_t d = 0; d < bytes.documents(); ++d)
    wide.AddDocument(bytes.Tokens(bytes.document_begin(d), bytes.document_end(d) - bytes.document_begin(d)));
  std::string wide_path = std::string(argv[1]) + ".u16.tok";
  Corpus words = wide.Write(wide_path);
  std::printf("corpus: %s, %lld tokens, %lld documents\n", argv[1], (long long)bytes.tokens(), (long long)bytes.documents());
  std::printf("u16 copy: %s\n", wide_path.c_str());
  const int64_t T = 1024, B = 32;
  bench_sampler(bytes, "ours: sampler, uint8 corpus, T=1024 B=32", T, B, budget);
  bench_sampler(words, "ours: sampler, uint16 corpus, T=1024 B=32", T, B, budget);
  bench_sampler(bytes, "ours: sampler, uint8 corpus, T=128 B=256", 128, 256, budget);
  bench_memcpy(bytes, "peer: memcpy of the uint8 rows (no widening)", T, B, budget, false);
  bench_memcpy(words, "peer: memcpy of the uint16 rows (no widening)", T, B, budget, false);
  bench_memcpy(bytes, "peer: memcpy of int32 rows (pre-widened copy)", T, B, budget, true);
  return 0;
}
