#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <tuple>

#include "core/error.h"
#include "model/gpt.h"

using namespace scalelab;
using model::GptConfig;

namespace {
GptConfig gpt2() {
  GptConfig c;
  c.vocab = 50257;
  c.ctx = 1024;
  c.d_model = 768;
  c.n_layer = 12;
  c.n_head = 12;
  c.Validate();
  return c;
}
}  // namespace

TEST_CASE("GPT-2 124M parameter counts match the hand count") {
  GptConfig c = gpt2();
  // wte 50257·768 + wpe 1024·768 + 12 blocks·(12·768² + 13·768) + final LayerNorm 2·768
  CHECK(c.params() == 124439808);
  CHECK(c.embedding_params() == 50257 * 768 + 1024 * 768);
  CHECK(c.non_embedding_params() == 12 * (12 * 768 * 768 + 13 * 768) + 2 * 768);
  CHECK(c.d_ff == 3072);
}

TEST_CASE("FLOPs per token follow the Kaplan and PaLM conventions") {
  GptConfig c = gpt2();
  const double n = 85056000;
  CHECK(c.flops_per_token(model::FlopConvention::Kaplan) == Approx(6 * n + 6.0 * 12 * 1024 * 768));
  CHECK(c.flops_per_token(model::FlopConvention::PaLM) == Approx(6 * n + 12.0 * 12 * 1024 * 768));
  CHECK(c.hardware_flops_per_token() == Approx(6 * (n + 50257.0 * 768) + 12.0 * 12 * 1024 * 768));
  // On rows of 256 tokens (seq_len < ctx), attention's products are a quarter as long.
  CHECK(c.flops_per_token(model::FlopConvention::Kaplan, 256) == Approx(6 * n + 6.0 * 12 * 256 * 768));
  CHECK(c.flops_per_token(model::FlopConvention::PaLM, 256) == Approx(6 * n + 12.0 * 12 * 256 * 768));
  CHECK(c.hardware_flops_per_token(256) == Approx(6 * (n + 50257.0 * 768) + 12.0 * 12 * 256 * 768));
}

TEST_CASE("a custom d_ff changes the block count accordingly") {
  GptConfig c;
  c.vocab = 256; c.ctx = 64; c.d_model = 64; c.n_layer = 2; c.n_head = 4; c.d_ff = 100;
  c.Validate();
  // attention 4d²+4d, MLP d·ff+ff + ff·d+d, LayerNorms 4d
  CHECK(c.block_params() == 4 * 64 * 64 + 4 * 64 + 64 * 100 + 100 + 100 * 64 + 64 + 4 * 64);
}

TEST_CASE("invalid shapes are errors that name the field") {
  GptConfig c = gpt2();
  c.n_head = 7;
  CHECK_THROWS_WITH(c.Validate(), Catch::Contains("d_model (768) must be divisible by n_head (7)"));
  // The suggestion is the nearest divisor (6 and 8 are as near: the larger), and 64-wide heads.
  CHECK_THROWS_WITH(c.Validate(), Catch::Contains("for example n_head = 8 (the divisor of 768 nearest 7), "
                                                  "or n_head = 12 for heads 64 wide"));
  c.d_model = 130;
  c.n_head = 3;
  CHECK_THROWS_WITH(c.Validate(), Catch::EndsWith("for example n_head = 2 (the divisor of 130 nearest 3)"));
  c = gpt2();
  c.n_layer = 0;
  CHECK_THROWS_WITH(c.Validate(), Catch::Contains("n_layer must be a positive integer"));
}

TEST_CASE("shape_for lands near the target with the requested aspect") {
  for (double target : {1e6, 1e7, 1e8, 1e9}) {
    model::ShapeOptions o;
    o.params = target;
    GptConfig c = model::shape_for(o);
    INFO("target " << target << " got " << c.Summary());
    CHECK(std::fabs(std::log(c.non_embedding_params() / target)) < 0.25);
    double aspect = static_cast<double>(c.d_model) / c.n_layer;
    CHECK(aspect > 32);
    CHECK(aspect < 128);
    CHECK(c.d_model % c.n_head == 0);
  }
}

// The heads followed the target's width, not the shape's: targets 1e4 and 3.16e4 (aspect 32) both
// built 1 layer 32 wide, with 4 heads and with 2, so a sweep trained the same model twice as two
// runs. One (L, d) is one shape now: heads of 32 below 256 wide and 64 from there, at least two.
TEST_CASE("shape_for gives one head count per depth and width, whichever target reached them") {
  std::map<std::tuple<int64_t, int64_t, double, int64_t>, int64_t> heads;
  for (double aspect : {16.0, 32.0, 64.0, 128.0})
    for (int64_t vocab : {256, 50257})
      for (int i = 0; i <= 120; ++i) {
        model::ShapeOptions o;
        o.params = std::pow(10.0, 4 + i * 6.0 / 120);
        o.aspect = aspect;
        o.vocab = vocab;
        o.ctx = 256;
        GptConfig c;
        try {
          c = model::shape_for(o);
        } catch (const Error&) {
          continue;  // no shape of this aspect so small
        }
        INFO("target " << o.params << ", aspect " << aspect << ": " << c.Summary());
        const auto key = std::make_tuple(c.n_layer, c.d_model, aspect, vocab);
        const auto [at, fresh] = heads.emplace(key, c.n_head);
        CHECK(at->second == c.n_head);
        int64_t width = c.d_model >= 256 ? 64 : (c.d_model >= 64 ? 32 : c.d_model >= 32 ? 16 : 8);
        while (c.d_model % width != 0) width /= 2;
        CHECK(c.d_model / c.n_head == width);
      }
}

TEST_CASE("shape_for keeps the aspect across a sweep's sizes, a few percent off the target N at most") {
  // Ranked on N alone, 1e9 landed on L = 42, d = 1408 (d/L = 33.5 for an aspect of 64) because its
  // N was 0.1% nearer than L = 27, d = 1728 (d/L = 64, N 3% under).
  for (double target : {1e6, 3.2e6, 1e7, 3.2e7, 1e8, 3e8, 1e9, 3e9, 1e10}) {
    model::ShapeOptions o;
    o.params = target;
    GptConfig c = model::shape_for(o);
    INFO("target " << target << " got " << c.Summary());
    CHECK(std::fabs(std::log(c.non_embedding_params() / target)) < std::log(1.08));
    const double aspect = static_cast<double>(c.d_model) / c.n_layer;
    if (target >= 3e8) CHECK(std::fabs(std::log(aspect / 64)) < std::log(1.1));
  }
  model::ShapeOptions o;
  o.params = 1e9;
  o.aspect = 128;
  GptConfig wide = model::shape_for(o);
  CHECK(static_cast<double>(wide.d_model) / wide.n_layer == Approx(128).epsilon(0.1));
}

// The search skipped every depth whose target width sqrt(N / 12L) gave d/L outside the aspect's
// factor of 2, and with it that depth's shapes inside the band: 1e5 at aspect 16 got 4×48 (113k,
// 13% over) beside 2×64 (d/L 32, 100096: 0.1% over), and 79520 at aspect 32 got 2×64 (100k, 26%
// over) beside 3×48 (d/L 16, 84.9k: 7% over), against the documented "within 5% where one is".
TEST_CASE("shape_for considers each depth's shapes inside the aspect's band\, not only its target width's") {
  struct Case { double params, aspect, tolerance; };
  for (const Case& k : {Case{1e5, 16, 1.05}, Case{79520, 32, 1.08}}) {
    model::ShapeOptions o;
    o.params = k.params;
    o.aspect = k.aspect;
    GptConfig c = model::shape_for(o);
    INFO("target " << k.params << " at aspect " << k.aspect << " got " << c.Summary());
    CHECK(std::fabs(std::log(c.non_embedding_params() / k.params)) < std::log(k.tolerance));
    const double aspect = static_cast<double>(c.d_model) / c.n_layer;
    CHECK(aspect >= k.aspect / 2);
    CHECK(aspect <= k.aspect * 2);
  }
  // Below the smallest shape of the aspect it still names that shape rather than pick one far off.
  model::ShapeOptions tiny;
  tiny.params = 1e4;
  CHECK_THROWS_WITH(model::shape_for(tiny), Catch::Contains("is below the smallest shape of aspect 64"));
}

// The same against an independent enumeration, over three decades and four aspects: before the fix
// 116 of 1756 such targets (1e3 to 1e8, aspects 8 to 256) missed the stated tolerance.
TEST_CASE("shape_for is within 5% of the target\, or 2% of the nearest whole-head shape of d/L within a factor 2") {
  auto count = [](int64_t l, int64_t d) { return l * (12 * d * d + 13 * d) + 2 * d; };
  for (double aspect : {16.0, 32.0, 64.0, 128.0})
    for (int i = 0; i <= 36; ++i) {
      model::ShapeOptions o;
      o.params = std::pow(10.0, 4 + i / 12.0);
      o.aspect = aspect;
      GptConfig got;
      try {
        got = model::shape_for(o);
      } catch (const Error&) {
        continue;  // below the smallest shape of this aspect
      }
      double nearest = 1e300;
      const auto depths = static_cast<int64_t>(4 * std::cbrt(o.params / (12 * aspect * aspect))) + 2;
      for (int64_t l = 1; l <= depths; ++l)
        for (int64_t d = 8; d <= 2 * aspect * l; d += 8) {
          int64_t width = d >= 256 ? 64 : 32;  // the default heads' width, at least two heads
          while (width > 8 && d < 2 * width) width /= 2;
          if (d >= aspect / 2 * l && d % width == 0)
            nearest = std::min(nearest, std::fabs(std::log(count(l, d) / o.params)));
        }
      INFO("target " << o.params << ", aspect " << aspect << ": " << got.Summary());
      CHECK(std::fabs(std::log(got.non_embedding_params() / o.params)) <=
            std::max(std::log(1.05), nearest + std::log(1.02)) + 1e-12);
    }
}

TEST_CASE("shape_for with the Chinchilla table snaps to its shapes") {
  model::ShapeOptions o;
  o.chinchilla = true;
  o.params = 85e6;  // 117M total in Chinchilla's count; 85M non-embedding
  GptConfig c = model::shape_for(o);
  CHECK(c.d_model == 768);
  CHECK(c.n_layer == 12);
  o.params = 1e12;
  CHECK_THROWS_WITH(model::shape_for(o), Catch::Contains("outside"));
  o.chinchilla = false;
  o.params = -1;
  CHECK_THROWS_WITH(model::shape_for(o), Catch::Contains("params must be a positive"));
}

// Review finding: sizes whose parameter count passes 2^63 overflowed int64 (undefined behaviour;
// model.gpt printed "-3.46e+03P params"). Validate names the field that carries the count past the
// limit; the largest representable shapes still validate and count exactly.
TEST_CASE("shapes whose parameter count overflows int64 are errors naming the field and the limit") {
  GptConfig c;
  c.vocab = int64_t{1} << 40;
  c.ctx = int64_t{1} << 20;
  c.d_model = int64_t{1} << 20;
  c.n_layer = int64_t{1} << 20;
  c.n_head = 2;
  CHECK_THROWS_WITH(c.Validate(), Catch::Contains("n_layer = 1048576 is too large") &&
                                      Catch::Contains("9223372036854775807"));
  c.n_layer = 1;
  c.vocab = int64_t{1} << 50;  // V·d = 2^70
  CHECK_THROWS_WITH(c.Validate(), Catch::Contains("vocab = ") && Catch::Contains("token embedding"));
  c.vocab = 256;
  c.d_model = int64_t{1} << 62;  // 4·d (the default d_ff) overflows
  c.n_head = 1;
  CHECK_THROWS_WITH(c.Validate(), Catch::Contains("d_model = ") && Catch::Contains("too large"));
  c.d_model = int64_t{1} << 30;
  c.d_ff = int64_t{1} << 40;   // 2·d·d_ff = 2^71
  CHECK_THROWS_WITH(c.Validate(), Catch::Contains("d_ff = ") && Catch::Contains("parameters per block"));
  // Near the limit but inside: d = 2^28, L = 2: 4d² = 2^58, 2·d·4d = 2^59; per block 3·2^58 + 13·2^28.
  GptConfig big;
  big.vocab = 1024;
  big.ctx = 1024;
  big.d_model = int64_t{1} << 28;
  big.n_layer = 2;
  big.n_head = 1;
  REQUIRE_NOTHROW(big.Validate());
  const double d = std::ldexp(1.0, 28);
  CHECK(static_cast<double>(big.params()) == 2 * (12 * d * d + 13 * d) + 2 * d + 2048 * d);
  CHECK(big.params() > 0);
}

TEST_CASE("shape_for refuses targets whose shapes would overflow the parameter count") {
  model::ShapeOptions o;
  o.params = 1e30;
  CHECK_THROWS_WITH(model::shape_for(o), Catch::Contains("params = ") && Catch::Contains("largest target supported"));
  o.params = 1e9;
  o.head_dim = int64_t{1} << 62;  // k·head_dim would overflow in the search
  CHECK_THROWS_WITH(model::shape_for(o), Catch::Contains("head_dim = ") && Catch::Contains("must be between 1 and"));
  o.head_dim = 0;
  o.params = 1e18;
  GptConfig c = model::shape_for(o);
  CHECK(c.non_embedding_params() > 0);
  CHECK(std::fabs(std::log(static_cast<double>(c.non_embedding_params()) / 1e18)) < std::log(1.5));
}

TEST_CASE("a d_model too large for its default d_ff is reported under d_model, with d_model's value") {
  // model.gpt{ vocab = 64, ctx = 32, d_model = 1e9, n_layer = 1, n_head = 1 }: 2·d·d_ff with the
  // default d_ff = 4e9 passes 2^63. It once said "d_model = 4000000000", d_ff's value.
  GptConfig c;
  c.vocab = 64;
  c.ctx = 32;
  c.d_model = 1'000'000'000;
  c.n_layer = 1;
  c.n_head = 1;
  CHECK_THROWS_WITH(c.Validate(), Catch::Contains("d_model = 1000000000 is too large") &&
                                      Catch::Contains("with the default d_ff = 4·d_model = 4000000000") &&
                                      !Catch::Contains("d_model = 4000000000 is too large"));
  c.d_ff = 4'000'000'000;  // the same d_ff given: named as d_ff, with its value
  CHECK_THROWS_WITH(c.Validate(), Catch::Contains("d_ff = 4000000000 is too large") &&
                                      !Catch::Contains("default d_ff"));
}
