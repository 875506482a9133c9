#include <catch2/catch.hpp>

#include <cmath>

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
