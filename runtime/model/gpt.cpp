#include "model/gpt.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/units.h"

namespace scalelab::model {

void GptConfig::Validate() {
  const struct { const char* name; int64_t value; } sizes[] = {
      {"vocab", vocab}, {"ctx", ctx}, {"d_model", d_model}, {"n_layer", n_layer}, {"n_head", n_head}};
  for (const auto& size : sizes)
    if (size.value <= 0) fail(size.name, " must be a positive integer (got ", size.value, ")");
  if (d_ff < 0) fail("d_ff must be a positive integer (got ", d_ff, "), or left out for 4·d_model");
  if (d_model % n_head != 0) {
    // The divisor of d_model nearest the n_head asked for (the larger of two as near), and heads
    // 64 wide (GPT-2's) where d_model allows them.
    int64_t nearest = 1;
    auto consider = [&](int64_t h) {
      if (std::llabs(h - n_head) < std::llabs(nearest - n_head) ||
          (std::llabs(h - n_head) == std::llabs(nearest - n_head) && h > nearest))
        nearest = h;
    };
    for (int64_t h = 1; h <= d_model / h; ++h)
      if (d_model % h == 0) {
        consider(h);
        consider(d_model / h);
      }
    const bool wide = d_model % 64 == 0 && d_model / 64 != nearest;
    fail("d_model (", d_model, ") must be divisible by n_head (", n_head, "); for example n_head = ", nearest,
         " (the divisor of ", d_model, " nearest ", n_head, ")",
         wide ? str(", or n_head = ", d_model / 64, " for heads 64 wide") : std::string());
  }
  // Every count below is int64 arithmetic (signed overflow is undefined behaviour): check each
  // product and sum of params() once here, naming the field that carries it past the limit, so that
  // block_params(), embedding_params(), non_embedding_params() and params() never overflow.
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max();
  auto too_large = [&](const char* field, int64_t value, const std::string& what) {
    fail(field, " = ", value, " is too large: ", what, " would exceed ", kLimit,
         " (2^63 - 1, the largest 64-bit count); use a smaller ", field);
  };
  auto mul = [&](int64_t a, int64_t b, const char* field, int64_t value, const std::string& what) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) too_large(field, value, what);
    return r;
  };
  auto add = [&](int64_t a, int64_t b, const char* field, int64_t value, const std::string& what) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) too_large(field, value, what);
    return r;
  };
  const int64_t d = d_model;
  const int64_t f = d_ff > 0 ? d_ff : mul(4, d, "d_model", d, "the default d_ff = 4·d_model");
  const std::string block = "the parameters per block (4·d² + 2·d·d_ff + 9·d + d_ff)";
  // The terms in d_ff name d_ff when it was given, else d_model (whose value sets the default d_ff).
  const char* field_f = d_ff > 0 ? "d_ff" : "d_model";
  const int64_t value_f = d_ff > 0 ? f : d;
  const std::string block_f =
      d_ff > 0 ? block : str("the parameters per block (4·d² + 2·d·d_ff + 9·d + d_ff, with the default d_ff = 4·d_model = ",
                             f, ")");
  int64_t per_block = mul(mul(4, d, "d_model", d, block), d, "d_model", d, block);
  per_block = add(per_block, mul(mul(2, d, "d_model", d, block), f, field_f, value_f, block_f), field_f, value_f, block_f);
  per_block = add(per_block, mul(9, d, "d_model", d, block), "d_model", d, block);
  per_block = add(per_block, f, field_f, value_f, block_f);
  const char* body = "the non-embedding parameters (n_layer · per-block + 2·d_model)";
  const int64_t non_embedding = add(mul(n_layer, per_block, "n_layer", n_layer, body), 2 * d, "n_layer", n_layer, body);
  const char* tokens = "the token embedding parameters (vocab · d_model)";
  const char* positions = "the position embedding parameters (ctx · d_model)";
  const char* total = "the total parameter count";
  const int64_t embedding = add(mul(vocab, d, "vocab", vocab, tokens), mul(ctx, d, "ctx", ctx, positions), "ctx",
                                ctx, positions);
  if (embedding >= non_embedding)
    add(embedding, non_embedding, vocab >= ctx ? "vocab" : "ctx", std::max(vocab, ctx), total);
  else
    add(embedding, non_embedding, "n_layer", n_layer, total);
  if (d_ff == 0) d_ff = f;
}

int64_t GptConfig::block_params() const {
  const int64_t d = d_model, f = ff();
  return 4 * d * d + 2 * d * f + 9 * d + f;
}

int64_t GptConfig::embedding_params() const { return vocab * d_model + ctx * d_model; }

int64_t GptConfig::non_embedding_params() const { return n_layer * block_params() + 2 * d_model; }

int64_t GptConfig::params() const { return embedding_params() + non_embedding_params(); }

double GptConfig::flops_per_token(FlopConvention convention, int64_t seq_len) const {
  const double n = static_cast<double>(non_embedding_params());
  const double attention = static_cast<double>(n_layer) * (seq_len > 0 ? seq_len : ctx) * d_model;
  return 6 * n + (convention == FlopConvention::Kaplan ? 6 : 12) * attention;
}

double GptConfig::hardware_flops_per_token(int64_t seq_len) const {
  const double n = static_cast<double>(non_embedding_params() + vocab * d_model);
  return 6 * n + 12.0 * n_layer * (seq_len > 0 ? seq_len : ctx) * d_model;
}

std::string GptConfig::Summary() const {
  return str("GPT(L=", n_layer, ", d=", d_model, ", heads=", n_head, ", ff=", ff(), ", ctx=", ctx,
             ", vocab=", vocab, "; ", format_count(params()), " params, ",
             format_count(non_embedding_params()), " non-embedding)");
}

namespace {

struct ChinchillaShape { int64_t d_model, d_ff, n_head, n_layer; };
// ../shared/REFERENCE.md, "Small-model training settings": the Chinchilla shapes (d, ff, heads, layers).
const ChinchillaShape kChinchillaShapes[] = {
    {128, 512, 4, 3}, {512, 2048, 8, 8}, {768, 3072, 12, 12}, {1024, 4096, 16, 16}};

GptConfig make(int64_t d, int64_t f, int64_t h, int64_t l, const ShapeOptions& o) {
  GptConfig c;
  c.vocab = o.vocab;
  c.ctx = o.ctx;
  c.d_model = d;
  c.d_ff = f;
  c.n_head = h;
  c.n_layer = l;
  c.Validate();
  return c;
}

// The heads' width for a model `d` wide: head_dim when given, else 64 from 256 wide and 32 below,
// halved (down to 8) until there are at least two heads.
int64_t heads_width(int64_t head_dim, double d) {
  int64_t head = head_dim > 0 ? head_dim : (d >= 256 ? 64 : 32);
  while (head > 8 && d / static_cast<double>(head) < 2) head /= 2;
  return head;
}

bool search_aspect(const ShapeOptions& o, double log_target, GptConfig* out);

// The numeric-aspect search visits every depth from half to twice L ≈ (N / (12·aspect²))^(1/3): an
// aspect near 0 (1e-9) asked for tens of millions of depths, and ran a minute before running out
// of memory. Deeper than this is no shape anyone trains (1e18 parameters at aspect 64 is 27k layers).
constexpr double kMaxLayers = 1e5;
double layers_guess(double params, double aspect) { return std::cbrt(params / (12 * aspect * aspect)); }

}  // namespace

GptConfig shape_for(const ShapeOptions& o) {
  if (!(o.params > 0) || !std::isfinite(o.params))
    fail("model.shape_for: params must be a positive number of non-embedding parameters (got ", format_number(o.params, 6), ")");
  // Parameter counts are int64: a target this far below the limit (9.2e18) keeps every shape the
  // search considers (within a factor 2 of the target, plus its embeddings) representable.
  constexpr double kMaxParams = 1e18;
  if (o.params > kMaxParams)
    fail("model.shape_for: params = ", format_number(o.params, 3), " is above the largest target supported, ",
         format_number(kMaxParams, 3), " non-embedding parameters (parameter counts are 64-bit integers)");
  if (o.vocab <= 0 || o.ctx <= 0) fail("model.shape_for: vocab and ctx must be positive");
  // The search multiplies the head size by small counts: keep it far from the int64 limit.
  constexpr int64_t kMaxHeadDim = int64_t{1} << 30;
  if (o.head_dim < 0 || o.head_dim > kMaxHeadDim)
    fail("model.shape_for: head_dim = ", o.head_dim, " must be between 1 and ", kMaxHeadDim, " (or 0 for the default)");
  const double log_target = std::log(o.params);
  GptConfig best;
  double best_error = std::numeric_limits<double>::infinity();
  auto consider = [&](const GptConfig& c) {
    double error = std::fabs(std::log(static_cast<double>(c.non_embedding_params())) - log_target);
    if (error < best_error) {
      best_error = error;
      best = c;
    }
  };
  if (o.chinchilla) {
    for (const auto& s : kChinchillaShapes) consider(make(s.d_model, s.d_ff, s.n_head, s.n_layer, o));
    const double lo = static_cast<double>(make(128, 512, 4, 3, o).non_embedding_params());
    const double hi = static_cast<double>(make(1024, 4096, 16, 16, o).non_embedding_params());
    if (o.params < lo / 2 || o.params > hi * 2)
      fail("model.shape_for: aspect = \"chinchilla\" has shapes from ", format_count(lo), " to ",
           format_count(hi), " non-embedding parameters; ", format_count(o.params),
           " is outside; use a numeric aspect (d_model / n_layer) instead");
    return best;
  }
  if (!(o.aspect > 0)) fail("model.shape_for: aspect (d_model / n_layer) must be positive (got ", format_number(o.aspect, 6), ")");
  if (!(layers_guess(o.params, o.aspect) <= kMaxLayers))
    fail("model.shape_for: aspect = ", format_number(o.aspect, 3), " (d_model / n_layer) would give about ",
         format_count(layers_guess(o.params, o.aspect)), " layers for ", format_count(o.params),
         " parameters, more than the ", format_count(kMaxLayers), " searched; give aspect >= ",
         format_number(std::sqrt(o.params / (12 * kMaxLayers * kMaxLayers * kMaxLayers)), 3),
         " (Kaplan found 20 to 200 all fine), or an exact shape with model.gpt{...}");
  GptConfig found;
  if (search_aspect(o, log_target, &found)) return found;
  // Below the smallest shape near the aspect (one layer a few heads wide): name the smallest target
  // that has one, and its shape (vocab and ctx as asked), rather than only "no shape".
  for (double target = o.params * 1.25; target <= kMaxParams; target *= 1.25) {
    ShapeOptions larger = o;
    larger.params = target;
    if (!search_aspect(larger, std::log(target), &found)) continue;
    const int64_t n = found.non_embedding_params();
    fail("model.shape_for: params = ", format_count(o.params), " is below the smallest shape of aspect ",
         format_number(o.aspect, 3), " (d_model / n_layer): the smallest is ", found.Summary(),
         " (model.shape_for{ params = ", n, " }); give params >= ", n,
         ", a smaller aspect, or an exact shape with model.gpt{...}");
  }
  // An aspect so large that no depth is near it at any target (1e308): say which input and the fix.
  fail("model.shape_for: found no shape near ", format_count(o.params), " parameters at aspect = ",
       format_number(o.aspect, 3), " (d_model / n_layer), at any target up to ", format_count(kMaxParams),
       "; give a smaller aspect (Kaplan found 20 to 200 all fine), or an exact shape with model.gpt{...}");
}

namespace {

// The numeric-aspect search of shape_for: false when no shape is near the aspect (a target too small).
bool search_aspect(const ShapeOptions& o, double log_target, GptConfig* out) {
  // N ≈ 12·L·d² with d = aspect·L gives L ≈ (N / (12·aspect²))^(1/3); search around it.
  const double layers = layers_guess(o.params, o.aspect);
  if (!(layers <= kMaxLayers)) return false;
  const int64_t l_lo = std::max<int64_t>(1, static_cast<int64_t>(std::floor(layers / 2)));
  const int64_t l_hi = std::max<int64_t>(2, static_cast<int64_t>(std::ceil(layers * 2)));
  // The candidates: for each depth, the widths (in whole heads) that bring N near the target.
  struct Candidate {
    GptConfig config;
    double n_error, aspect_error;  // |ln N − ln target|, |ln(d/L) − ln aspect|
  };
  std::vector<Candidate> candidates;
  bool any_depth_in_band = false;
  for (int64_t l = l_lo; l <= l_hi; ++l) {
    const double d_target = std::sqrt(o.params / (12.0 * l));
    // A depth whose target width is outside the aspect's factor of 2 still offers the shapes of its
    // own aspect inside it: skipping the depth left 1e5 at aspect 16 on 4×48, 12% under the target,
    // beside 2×64 (d/L 32, twice the aspect) 0.1% over it.
    const double ratio = d_target / l;
    const bool depth_in_band = ratio >= o.aspect / 2 && ratio <= o.aspect * 2;
    any_depth_in_band = any_depth_in_band || depth_in_band;
    // The widths step by whole heads of the target's width; each shape's heads then follow from its
    // own width alone, so that one (L, d) is one shape whichever target reached it (the heads of
    // the target's width gave 32 wide 4 heads for one target and 2 for the next).
    int64_t head = heads_width(o.head_dim, d_target);
    for (int64_t k = std::max<int64_t>(1, static_cast<int64_t>(d_target / head) - 1);
         k <= static_cast<int64_t>(d_target / head) + 2; ++k) {
      const int64_t d = k * head;
      const double aspect = static_cast<double>(d) / static_cast<double>(l);
      if (!depth_in_band && (aspect < o.aspect / 2 || aspect > o.aspect * 2)) continue;
      int64_t own = heads_width(o.head_dim, static_cast<double>(d));
      while (d % own != 0) own /= 2;
      GptConfig c = make(d, 4 * d, d / own, l, o);
      candidates.push_back({c, std::fabs(std::log(static_cast<double>(c.non_embedding_params())) - log_target),
                            std::fabs(std::log(static_cast<double>(c.d_model) / static_cast<double>(l) / o.aspect))});
    }
  }
  // (Only where some depth's target width is near the aspect: below that, the smallest shape is named.)
  if (candidates.empty() || !any_depth_in_band) return false;
  // Of the shapes within 5% of the target N (or within 2% of the nearest, where none is that near),
  // the one nearest the aspect: ranking on N alone let d/L land anywhere from half to twice the
  // aspect (at aspect 64, 1e9 took d/L 33.5 over a d/L-64 shape 3% under the target). The runs' own
  // N is what a fit uses, so a few percent off the target costs nothing, while a sweep of mixed
  // shapes adds their effect on the loss to the law's residuals. (Where the heads' width leaves no
  // shape near the aspect within 5%, as at 3e7, d/L still strays.)
  double nearest = std::numeric_limits<double>::infinity();
  for (const Candidate& c : candidates) nearest = std::min(nearest, c.n_error);
  const double tolerance = std::max(std::log(1.05), nearest + std::log(1.02));
  const Candidate* chosen = nullptr;
  for (const Candidate& c : candidates) {
    if (c.n_error > tolerance) continue;
    if (!chosen || c.aspect_error < chosen->aspect_error ||
        (c.aspect_error == chosen->aspect_error && c.n_error < chosen->n_error))
      chosen = &c;
  }
  *out = chosen->config;
  return true;
}

}  // namespace

}  // namespace scalelab::model
