#include "model/layout.h"

#include "core/error.h"

namespace scalelab::model {

ParameterLayout::ParameterLayout(const GptConfig& c) {
  const int64_t V = c.vocab, T = c.ctx, d = c.d_model, L = c.n_layer, f = c.ff();
  const int64_t sizes[kParamKinds] = {V * d,     T * d,     L * d, L * d,     L * 3 * d * d,
                                      L * 3 * d, L * d * d, L * d, L * d,     L * d,
                                      L * f * d, L * f,     L * d * f, L * d, d, d};
  int64_t at = 0;
  for (int i = 0; i < kParamKinds; ++i) {
    size[i] = sizes[i];
    offset[i] = at;
    at += sizes[i];
  }
  total = at;
  SCALELAB_CHECK(total == c.params());
}

const char* param_name(Param p) {
  static const char* const names[kParamKinds] = {
      "wte",  "wpe",  "ln1_w", "ln1_b", "qkv_w",    "qkv_b",    "attproj_w", "attproj_b",
      "ln2_w", "ln2_b", "fc_w", "fc_b", "fcproj_w", "fcproj_b", "lnf_w",     "lnf_b"};
  return names[static_cast<int>(p)];
}

bool param_decays(Param p) {
  switch (p) {
    case Param::Wte: case Param::Wpe: case Param::QkvW: case Param::AttProjW: case Param::FcW:
    case Param::FcProjW:
      return true;
    default:
      return false;
  }
}

bool param_is_residual_projection(Param p) { return p == Param::AttProjW || p == Param::FcProjW; }

}  // namespace scalelab::model
