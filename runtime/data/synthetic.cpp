#include "data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "core/error.h"
#include "core/memory.h"
#include "core/interrupt.h"
#include "core/units.h"

namespace scalelab::data {

namespace {

constexpr int64_t kMaxTransitions = int64_t{1} << 25;

// −Σ p log p over positive entries.
double entropy_of(const std::vector<double>& p) {
  double h = 0;
  for (double x : p)
    if (x > 0) h -= x * std::log(x);
  return h;
}

std::vector<double> zipf_weights(int64_t n, double exponent) {
  std::vector<double> w(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) w[size_t(r)] = std::pow(double(r + 1), -exponent);
  double total = std::accumulate(w.begin(), w.end(), 0.0);
  for (double& x : w) x /= total;
  return w;
}

std::vector<double> cumulative(const std::vector<double>& p) {
  std::vector<double> c(p.size());
  double running = 0;
  for (size_t i = 0; i < p.size(); ++i) c[i] = running += p[i];
  return c;
}

// Index of the first cumulative value above u·total.
size_t draw_from(const std::vector<double>& cdf, size_t begin, size_t count, double u) {
  const double* first = cdf.data() + begin;
  double target = u * first[count - 1];
  size_t r = static_cast<size_t>(std::upper_bound(first, first + count, target) - first);
  return std::min(r, count - 1);
}

// The start of a synthetic source's Generate: checks the sizes and opens the writer (in memory, or
// streaming to `out`) with the metadata every synthetic corpus carries.
void start_synthetic_corpus(const char* name, const std::string& description, double entropy, int64_t vocab,
                            int64_t tokens, int64_t document_tokens, uint64_t seed, const std::string& out,
                            std::optional<CorpusWriter>& writer) {
  if (tokens < 1) fail(name, ": tokens must be ≥ 1 (got ", tokens, ")");
  if (document_tokens < 1) fail(name, ": document_tokens must be ≥ 1 (got ", document_tokens, ")");
  // Refuse what cannot fit before generating any of it: in memory the tokens (width bytes each) and
  // the document starts (8 bytes each) are held; streamed, the tokens go to disk.
  const int width = token_bytes_for_vocab(vocab);
  const double token_bytes = double(tokens) * width;
  const double start_bytes = 8.0 * (double(tokens) / double(document_tokens) + 1);
  const double memory = (out.empty() ? token_bytes : 0) + start_bytes;
  const int64_t available = available_memory_bytes();
  if (available > 0 && memory > double(available))
    fail(name, ": tokens = ", tokens, " (", format_count(double(tokens)), ") needs ", format_bytes(memory),
         " of memory (", width, " byte", width == 1 ? "" : "s", " per token for vocab ", vocab,
         out.empty() ? "" : " are streamed to disk; 8 bytes per document start stay in memory",
         "), but ", format_bytes(double(available)), " are available; lower tokens",
         out.empty() ? ", or stream the corpus to a file with out = \"path\"" : " or raise document_tokens");
  if (!out.empty()) {
    const int64_t disk = available_disk_bytes(out);
    if (disk >= 0 && token_bytes > double(disk))
      fail(name, ": tokens = ", tokens, " (", format_count(double(tokens)), ") needs ", format_bytes(token_bytes),
           " of disk at ", out, ", but ", format_bytes(double(disk)), " are free there; lower tokens or write "
           "to another file system (out =)");
  }
  CorpusMetadata m;
  m.name = name;
  m.tokenizer = "synthetic";
  m.source = str(description, ", stream seed ", seed);
  m.license = "generated";
  m.entropy_per_token = entropy;
  if (out.empty()) writer.emplace(vocab, std::move(m));
  else writer.emplace(vocab, std::move(m), out);
}

}  // namespace

// ---- Markov -------------------------------------------------------------------------------------

void MarkovOptions::Validate() const {
  if (vocab < 2 || vocab > (int64_t{1} << 31)) fail("data.synthetic{ kind = \"markov\" }: vocab must be in [2, 2^31] (got ", vocab, ")");
  if (order < 0) fail("data.synthetic{ kind = \"markov\" }: order must be ≥ 0 (got ", order, ")");
  if (support < 1 || support > vocab)
    fail("data.synthetic{ kind = \"markov\" }: support must be in [1, vocab = ", vocab, "] (got ", support, ")");
  double transitions = std::pow(double(vocab), order) * double(support);
  if (transitions > double(kMaxTransitions))
    fail("data.synthetic{ kind = \"markov\" }: vocab^order · support = ", vocab, "^", order, " · ", support, " = ", format_count(transitions),
         " transitions is beyond the limit of ", format_count(double(kMaxTransitions)),
         "; lower vocab, order or support");
  if (!std::isfinite(zipf) || zipf < 0) fail("data.synthetic{ kind = \"markov\" }: zipf must be a finite exponent ≥ 0 (got ", zipf, ")");
  if (!std::isfinite(spread) || spread < 0 || zipf - spread < 0)
    fail("data.synthetic{ kind = \"markov\" }: spread must be ≥ 0 and ≤ zipf (got spread ", spread, ", zipf ", zipf, ")");
  if (profiles < 1 || profiles > 256) fail("data.synthetic{ kind = \"markov\" }: profiles must be in [1, 256] (got ", profiles, ")");
  if (!(epsilon > 0 && epsilon < 1)) fail("data.synthetic{ kind = \"markov\" }: epsilon must be in (0, 1) (got ", epsilon, ")");
}

MarkovSource::MarkovSource(const MarkovOptions& options) : options_(options) {
  options_.Validate();
  const int64_t V = options_.vocab, S = options_.support;
  const int P = options_.profiles;
  const double eps = options_.epsilon;
  for (int i = 0; i < options_.order; ++i) states_ *= V;
  Rng rng(mix64(options_.seed) ^ 0x6D61726B6F76ull);  // "markov"

  std::vector<double> profile_entropy(static_cast<size_t>(P));
  for (int p = 0; p < P; ++p) {
    double a = P == 1 ? options_.zipf : options_.zipf - options_.spread + 2 * options_.spread * p / (P - 1);
    std::vector<double> z = zipf_weights(S, a);
    std::vector<double> q(z.size());
    for (size_t r = 0; r < z.size(); ++r) q[r] = (1 - eps) * z[r] + eps / double(V);
    double floor = eps / double(V);
    profile_entropy[size_t(p)] = entropy_of(q) - double(V - S) * floor * std::log(floor);
    weight_.insert(weight_.end(), z.begin(), z.end());
    std::vector<double> c = cumulative(z);
    cdf_.insert(cdf_.end(), c.begin(), c.end());
  }

  successors_.resize(size_t(states_ * S));
  profile_.resize(size_t(states_));
  std::vector<int32_t> perm(static_cast<size_t>(V));
  std::iota(perm.begin(), perm.end(), 0);
  for (int64_t s = 0; s < states_; ++s) {
    profile_[size_t(s)] = static_cast<uint8_t>(rng.below(uint64_t(P)));
    for (int64_t r = 0; r < S; ++r) {  // partial Fisher–Yates: S distinct tokens in random order
      int64_t j = r + int64_t(rng.below(uint64_t(V - r)));
      std::swap(perm[size_t(r)], perm[size_t(j)]);
      successors_[size_t(s * S + r)] = perm[size_t(r)];
    }
  }

  // Stationary distribution by power iteration.
  stationary_.assign(size_t(states_), 1.0 / double(states_));
  if (options_.order > 0) {
    const int64_t suffixes = states_ / V;
    std::vector<double> next(static_cast<size_t>(states_)), mass(static_cast<size_t>(suffixes));
    for (iterations_ = 1;; ++iterations_) {
      if (iterations_ > 100000)
        throw SystemError("markov: the stationary distribution did not converge in 100000 iterations");
      if (iterations_ % 64 == 0) check_interrupt();
      std::fill(mass.begin(), mass.end(), 0.0);
      for (int64_t s = 0; s < states_; ++s) mass[size_t(s % suffixes)] += stationary_[size_t(s)];
      for (int64_t sigma = 0; sigma < suffixes; ++sigma) {
        double floor = eps / double(V) * mass[size_t(sigma)];
        std::fill(next.begin() + sigma * V, next.begin() + (sigma + 1) * V, floor);
      }
      for (int64_t s = 0; s < states_; ++s) {
        const double w = stationary_[size_t(s)] * (1 - eps);
        const int64_t base = (s % suffixes) * V;
        const double* z = &weight_[size_t(profile_[size_t(s)]) * size_t(S)];
        const int32_t* succ = &successors_[size_t(s * S)];
        for (int64_t r = 0; r < S; ++r) next[size_t(base + succ[r])] += w * z[r];
      }
      double total = std::accumulate(next.begin(), next.end(), 0.0), diff = 0;
      for (int64_t s = 0; s < states_; ++s) {
        next[size_t(s)] /= total;
        diff += std::abs(next[size_t(s)] - stationary_[size_t(s)]);
      }
      stationary_.swap(next);
      if (diff < 1e-13) break;
    }
  }
  entropy_ = 0;
  for (int64_t s = 0; s < states_; ++s)
    entropy_ += stationary_[size_t(s)] * profile_entropy[profile_[size_t(s)]];
  state_cdf_ = cumulative(stationary_);
}

int64_t MarkovSource::next_state(int64_t state, int32_t token) const {
  if (options_.order == 0) return 0;
  return (state % (states_ / options_.vocab)) * options_.vocab + token;
}

double MarkovSource::probability(int64_t state, int32_t token) const {
  const int64_t S = options_.support;
  double p = options_.epsilon / double(options_.vocab);
  const int32_t* succ = &successors_[size_t(state * S)];
  for (int64_t r = 0; r < S; ++r)
    if (succ[r] == token) return p + (1 - options_.epsilon) * weight_[size_t(profile_[size_t(state)]) * size_t(S) + size_t(r)];
  return p;
}

int32_t MarkovSource::Draw(int64_t state, Rng& rng) const {
  const int64_t S = options_.support;
  if (rng.uniform() < options_.epsilon) return static_cast<int32_t>(rng.below(uint64_t(options_.vocab)));
  size_t r = draw_from(cdf_, size_t(profile_[size_t(state)]) * size_t(S), size_t(S), rng.uniform());
  return successors_[size_t(state * S) + r];
}

template <class Sink>
void MarkovSource::Emit(int64_t tokens, uint64_t seed, Sink&& sink) const {
  Rng rng(mix64(seed) ^ 0x73747265616Dull);  // "stream"
  int64_t state = int64_t(draw_from(state_cdf_, 0, state_cdf_.size(), rng.uniform()));
  // The state's k tokens, oldest first, open the stream.
  std::vector<int32_t> history(static_cast<size_t>(options_.order));
  int64_t s = state;
  for (int i = options_.order - 1; i >= 0; --i) {
    history[size_t(i)] = static_cast<int32_t>(s % options_.vocab);
    s /= options_.vocab;
  }
  int64_t emitted = 0;
  for (int i = 0; i < options_.order && emitted < tokens; ++i, ++emitted) sink(history[size_t(i)]);
  for (; emitted < tokens; ++emitted) {
    if ((emitted & 0xFFFFF) == 0) check_interrupt();
    int32_t t = Draw(state, rng);
    sink(t);
    state = next_state(state, t);
  }
}

std::vector<int32_t> MarkovSource::Sample(int64_t tokens, uint64_t seed) const {
  std::vector<int32_t> out;
  out.reserve(size_t(std::max<int64_t>(tokens, 0)));
  Emit(tokens, seed, [&](int32_t t) { out.push_back(t); });
  return out;
}

std::string MarkovSource::Describe() const {
  return str("markov(vocab=", options_.vocab, ", order=", options_.order, ", support=", options_.support,
             ", zipf=", options_.zipf, "±", options_.spread, ", epsilon=", options_.epsilon, ", seed=", options_.seed,
             ")");
}

Corpus MarkovSource::Generate(int64_t tokens, int64_t document_tokens, uint64_t seed, const std::string& out) const {
  std::optional<CorpusWriter> writer;
  start_synthetic_corpus("markov", Describe(), entropy_, options_.vocab, tokens, document_tokens, seed, out, writer);
  std::vector<int32_t> document;
  document.reserve(size_t(std::min<int64_t>(document_tokens, tokens)));
  Emit(tokens, seed, [&](int32_t t) {
    document.push_back(t);
    if (int64_t(document.size()) == document_tokens) {
      writer->AddDocument(document);
      document.clear();
    }
  });
  writer->AddDocument(document);
  return writer->Finish();
}

// ---- Grammar ------------------------------------------------------------------------------------

void GrammarOptions::Validate() const {
  if (vocab < 2 || vocab > (int64_t{1} << 31)) fail("data.synthetic{ kind = \"grammar\" }: vocab must be in [2, 2^31] (got ", vocab, ")");
  if (nonterminals < 1 || nonterminals > 512) fail("data.synthetic{ kind = \"grammar\" }: nonterminals must be in [1, 512] (got ", nonterminals, ")");
  if (min_rules < 1 || max_rules < min_rules || max_rules > vocab)
    fail("data.synthetic{ kind = \"grammar\" }: need 1 ≤ min_rules ≤ max_rules ≤ vocab (got min_rules ", min_rules, ", max_rules ", max_rules,
         ", vocab ", vocab, ")");
  if (max_body < 0 || max_body > 64) fail("data.synthetic{ kind = \"grammar\" }: max_body must be in [0, 64] (got ", max_body, ")");
  if (!std::isfinite(zipf) || zipf < 0) fail("data.synthetic{ kind = \"grammar\" }: zipf must be a finite exponent ≥ 0 (got ", zipf, ")");
  if (!(branching >= 0 && branching < 0.98))
    fail("data.synthetic{ kind = \"grammar\" }: branching (mean nonterminal children) must be in [0, 0.98) (got ", branching, ")");
}

GrammarSource::GrammarSource(const GrammarOptions& options) : options_(options) {
  options_.Validate();
  const int N = options_.nonterminals;
  const int64_t V = options_.vocab;
  double q = options_.max_body > 0 ? std::min(1.0, options_.branching / (options_.max_body / 2.0)) : 0.0;
  std::vector<double> M;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 200) throw SystemError("grammar: no subcritical grammar found in 200 attempts");
    Rng rng(mix64(options_.seed) ^ (0x6772616D6D6172ull + uint64_t(attempt)));  // "grammar"
    rules_.assign(size_t(N), {});
    std::vector<int32_t> perm(static_cast<size_t>(V));
    std::iota(perm.begin(), perm.end(), 0);
    for (int A = 0; A < N; ++A) {
      int R = options_.min_rules + int(rng.below(uint64_t(options_.max_rules - options_.min_rules + 1)));
      std::vector<double> p = zipf_weights(R, options_.zipf);
      for (int r = R - 1; r > 0; --r) std::swap(p[size_t(r)], p[rng.below(uint64_t(r + 1))]);
      for (int r = 0; r < R; ++r) {
        int64_t j = r + int64_t(rng.below(uint64_t(V - r)));
        std::swap(perm[size_t(r)], perm[size_t(j)]);
        Rule rule{perm[size_t(r)], {}, p[size_t(r)]};
        int length = int(rng.below(uint64_t(options_.max_body + 1)));
        int i = 0;
        if (A == 0 && N > 1 && options_.max_body > 0) {
          // The start symbol always opens a nonterminal, so every sentence has structure.
          rule.body.push_back(-2 - int32_t(rng.below(uint64_t(N - 1))));
          length = std::max(length, 1);
          i = 1;
        }
        for (; i < length; ++i) {
          if (rng.uniform() < q) rule.body.push_back(-1 - int32_t(rng.below(uint64_t(N))));
          else rule.body.push_back(int32_t(rng.below(uint64_t(V))));
        }
        rules_[size_t(A)].push_back(std::move(rule));
      }
    }
    // Expected offspring matrix and its spectral radius (power iteration on a nonnegative matrix).
    M.assign(size_t(N) * size_t(N), 0.0);
    for (int A = 0; A < N; ++A)
      for (const Rule& rule : rules_[size_t(A)])
        for (int32_t x : rule.body)
          if (x < 0) M[size_t(A) * size_t(N) + size_t(-1 - x)] += rule.probability;
    std::vector<double> v(size_t(N), 1.0), w(static_cast<size_t>(N));
    double radius = 0;
    for (int it = 0; it < 3000; ++it) {
      std::fill(w.begin(), w.end(), 0.0);
      for (int A = 0; A < N; ++A)
        for (int B = 0; B < N; ++B) w[size_t(B)] += v[size_t(A)] * M[size_t(A) * size_t(N) + size_t(B)];
      double sv = std::accumulate(v.begin(), v.end(), 0.0), sw = std::accumulate(w.begin(), w.end(), 0.0);
      radius = sw / sv;
      if (sw == 0) break;
      for (int B = 0; B < N; ++B) v[size_t(B)] = w[size_t(B)] / sw + 1e-300;
    }
    radius_ = radius;
    if (radius_ < 0.97) break;
    q *= 0.9;
  }

  // n = e_0 (I − M)^(-1): solve (I − M)^T n = e_0 by Gaussian elimination with partial pivoting.
  std::vector<double> a(size_t(N) * size_t(N + 1), 0.0);
  auto at = [&](int i, int j) -> double& { return a[size_t(i) * size_t(N + 1) + size_t(j)]; };
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < N; ++j) at(i, j) = (i == j ? 1.0 : 0.0) - M[size_t(j) * size_t(N) + size_t(i)];
    at(i, N) = i == 0 ? 1.0 : 0.0;
  }
  for (int c = 0; c < N; ++c) {
    int pivot = c;
    for (int i = c + 1; i < N; ++i)
      if (std::abs(at(i, c)) > std::abs(at(pivot, c))) pivot = i;
    for (int j = 0; j <= N; ++j) std::swap(at(c, j), at(pivot, j));
    SCALELAB_CHECK(std::abs(at(c, c)) > 1e-300);
    for (int i = 0; i < N; ++i) {
      if (i == c || at(i, c) == 0) continue;
      double f = at(i, c) / at(c, c);
      for (int j = c; j <= N; ++j) at(i, j) -= f * at(c, j);
    }
  }
  sentence_entropy_ = 0;
  mean_length_ = 0;
  cdf_.assign(size_t(N), {});
  by_lead_.assign(size_t(N), std::vector<int32_t>(size_t(V), -1));
  for (int A = 0; A < N; ++A) {
    double n = at(A, N) / at(A, A);
    std::vector<double> p;
    double terminals = 0;
    for (size_t r = 0; r < rules_[size_t(A)].size(); ++r) {
      const Rule& rule = rules_[size_t(A)][r];
      p.push_back(rule.probability);
      int64_t t = 1;
      for (int32_t x : rule.body) t += x >= 0;
      terminals += rule.probability * double(t);
      by_lead_[size_t(A)][size_t(rule.lead)] = int32_t(r);
    }
    sentence_entropy_ += n * entropy_of(p);
    mean_length_ += n * terminals;
    cdf_[size_t(A)] = cumulative(p);
  }
  entropy_ = sentence_entropy_ / mean_length_;
}

double GrammarSource::SampleSentence(Rng& rng, std::vector<int32_t>& out) const {
  std::vector<int32_t> stack{-1};
  double logp = 0;
  size_t start = out.size();
  while (!stack.empty()) {
    int32_t x = stack.back();
    stack.pop_back();
    if (x >= 0) {
      out.push_back(x);
      continue;
    }
    const size_t A = size_t(-1 - x);
    size_t r = draw_from(cdf_[A], 0, cdf_[A].size(), rng.uniform());
    const Rule& rule = rules_[A][r];
    logp += std::log(rule.probability);
    out.push_back(rule.lead);
    for (auto it = rule.body.rbegin(); it != rule.body.rend(); ++it) stack.push_back(*it);
    if (out.size() - start > (size_t{1} << 27))
      throw SystemError("grammar: a sentence grew beyond 2^27 tokens (the grammar is nearly critical)");
  }
  return logp;
}

double GrammarSource::LogProbability(const std::vector<int32_t>& tokens, int64_t* sentences) const {
  std::vector<int32_t> stack;
  double logp = 0;
  int64_t count = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t t = tokens[i];
    if (t < 0 || t >= options_.vocab) fail("grammar: token ", i, " (", t, ") is outside the vocabulary");
    if (stack.empty()) {
      stack.push_back(-1);
      ++count;
    }
    int32_t x = stack.back();
    stack.pop_back();
    if (x >= 0) {
      if (x != t) fail("grammar: token ", i, " is ", t, " where the grammar requires ", x);
      continue;
    }
    const size_t A = size_t(-1 - x);
    int32_t r = by_lead_[A][size_t(t)];
    if (r < 0) fail("grammar: token ", i, " (", t, ") starts no rule of nonterminal ", A);
    const Rule& rule = rules_[A][size_t(r)];
    logp += std::log(rule.probability);
    for (auto it = rule.body.rbegin(); it != rule.body.rend(); ++it) stack.push_back(*it);
  }
  if (!stack.empty()) fail("grammar: the tokens end inside a sentence");
  if (sentences) *sentences = count;
  return logp;
}

Corpus GrammarSource::Generate(int64_t tokens, int64_t document_tokens, uint64_t seed, const std::string& out) const {
  std::optional<CorpusWriter> writer;
  start_synthetic_corpus("grammar", Describe(), entropy_, options_.vocab, tokens, document_tokens, seed, out, writer);
  Rng rng(mix64(seed) ^ 0x73656E74656E6365ull);  // "sentence"
  std::vector<int32_t> document;
  int64_t total = 0;
  while (total < tokens) {
    if ((total & 0xFFFF) < 64) check_interrupt();
    size_t before = document.size();
    SampleSentence(rng, document);
    total += int64_t(document.size() - before);
    if (int64_t(document.size()) >= document_tokens || total >= tokens) {
      int64_t excess = std::max<int64_t>(0, total - tokens);
      writer->AddDocument(document.data(), int64_t(document.size()) - excess);
      document.clear();
    }
  }
  return writer->Finish();
}

std::string GrammarSource::Describe() const {
  return str("grammar(vocab=", options_.vocab, ", nonterminals=", options_.nonterminals, ", rules=",
             options_.min_rules, "..", options_.max_rules, ", max_body=", options_.max_body, ", zipf=", options_.zipf,
             ", branching=", options_.branching, ", seed=", options_.seed, ")");
}

}  // namespace scalelab::data
