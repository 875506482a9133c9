// Where each parameter of a GPT lives in the one flat float array that holds them all.
//
// The order and shapes are fixed (the llm.c order), so every backend (CPU here, CUDA in kernels/)
// and every checkpoint agree on them. Tensors of the same kind from all layers are stored together:
// qkv_w is [n_layer][3d][d], layer l's slice starts at offset(QkvW) + l·(3d·d). Matrices are stored
// as [out][in] (PyTorch's nn.Linear layout), so y = x·Wᵀ + b.
//
//   kind      shape per layer     decays   init
//   wte       [V][d]              yes      N(0, 0.02)       token embedding, tied output projection
//   wpe       [T][d]              yes      N(0, 0.02)       learned positions
//   ln1_w     [d]                 no       1
//   ln1_b     [d]                 no       0
//   qkv_w     [3d][d]             yes      N(0, 0.02)       rows: q (d), k (d), v (d); heads contiguous
//   qkv_b     [3d]                no       0
//   attproj_w [d][d]              yes      N(0, 0.02/√(2L)) residual projection
//   attproj_b [d]                 no       0
//   ln2_w     [d]                 no       1
//   ln2_b     [d]                 no       0
//   fc_w      [ff][d]             yes      N(0, 0.02)
//   fc_b      [ff]                no       0
//   fcproj_w  [d][ff]             yes      N(0, 0.02/√(2L)) residual projection
//   fcproj_b  [d]                 no       0
//   lnf_w     [d]  (once)         no       1
//   lnf_b     [d]  (once)         no       0
#pragma once

#include <array>
#include <cstdint>

#include "model/gpt.h"

namespace scalelab::model {

enum class Param {
  Wte, Wpe, Ln1W, Ln1B, QkvW, QkvB, AttProjW, AttProjB, Ln2W, Ln2B, FcW, FcB, FcProjW, FcProjB,
  LnfW, LnfB
};
constexpr int kParamKinds = 16;

struct ParameterLayout {
  std::array<int64_t, kParamKinds> size{};    // floats in the tensor, all layers together
  std::array<int64_t, kParamKinds> offset{};  // first float of the tensor in the flat array
  int64_t total = 0;                          // == GptConfig::params()

  explicit ParameterLayout(const GptConfig& config);

  int64_t offset_of(Param p) const { return offset[static_cast<int>(p)]; }
  int64_t size_of(Param p) const { return size[static_cast<int>(p)]; }
};

const char* param_name(Param p);  // "wte", "qkv_w", ...
// AdamW's weight decay applies to matrices and embeddings, not to LayerNorm gains or biases.
bool param_decays(Param p);
// True for the two residual projections (attproj_w, fcproj_w) that GPT-2 initialises scaled by
// 1/√(2·n_layer).
bool param_is_residual_projection(Param p);

}  // namespace scalelab::model
