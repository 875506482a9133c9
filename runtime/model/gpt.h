// The GPT-2-style decoder that scalelab trains: its shape, its parameter counts and its FLOPs.
//
// Parameter counting (Kaplan et al. 2020; ../shared/REFERENCE.md):
//   token embedding  V·d      (tied with the output projection: counted once)
//   positions        T·d      (learned)
//   per block        12d² + 13d with d_ff = 4d; in general 4d² + 2·d·d_ff + 9d + d_ff
//                    (attention qkv 3d²+3d, projection d²+d, MLP d·ff+ff and ff·d+d, two LayerNorms 4d)
//   final LayerNorm  2d
// non_embedding_params() = params() − V·d − T·d (Kaplan's N); params() is Chinchilla's N.
//
// Training FLOPs per token, two conventions, both with N = non-embedding parameters:
//   Kaplan:        6N + 6·L·T·d   (the causal half of attention's score and value products)
//   PaLM/nanoGPT:  6N + 12·L·T·d  (the full T×T products)
// Neither counts the output logits (2·V·d per token forward); hardware_flops_per_token() does, for
// MFU: 6·(N + V·d) + 12·L·T·d. T is the length of the rows trained on: ctx unless a run's rows are
// shorter (`seq_len`), when attention's products are that much smaller.
#pragma once

#include <cstdint>
#include <string>

namespace scalelab::model {

enum class FlopConvention { Kaplan, PaLM };

struct GptConfig {
  int64_t vocab = 0;    // V
  int64_t ctx = 0;      // T, the context length
  int64_t d_model = 0;  // d
  int64_t n_layer = 0;  // L
  int64_t n_head = 0;
  int64_t d_ff = 0;     // 0 means 4·d_model

  // Throws scalelab::Error naming the offending field (non-positive size, n_head not dividing
  // d_model, ...). Fills d_ff with its default.
  void Validate();

  int64_t ff() const { return d_ff > 0 ? d_ff : 4 * d_model; }
  int64_t head_dim() const { return d_model / n_head; }

  int64_t block_params() const;
  int64_t embedding_params() const;       // V·d + T·d
  int64_t non_embedding_params() const;   // Kaplan's N
  int64_t params() const;                 // everything, the output tied to the token embedding

  // seq_len: the rows' length, 1 to ctx; 0 means ctx.
  double flops_per_token(FlopConvention convention = FlopConvention::Kaplan, int64_t seq_len = 0) const;
  double hardware_flops_per_token(int64_t seq_len = 0) const;

  // "GPT(L=12, d=768, heads=12, ff=3072, ctx=1024, vocab=50257; 124M params, 85.1M non-embedding)"
  std::string Summary() const;
};

// How shape_for turns a parameter target into a shape.
struct ShapeOptions {
  double params = 0;            // target non-embedding N
  double aspect = 64;           // d_model / n_layer (Kaplan found 20 to 200 all fine)
  bool chinchilla = false;      // use the Chinchilla shapes of ../shared/REFERENCE.md instead
  int64_t head_dim = 0;         // 0: 64 for d_model >= 256, else 32 (but at least 2 heads)
  int64_t vocab = 256;
  int64_t ctx = 256;
};

// A shape for options.params non-embedding parameters: of the shapes within 5% of it (or within
// 2% of the nearest, where none is that near), the one whose d_model / n_layer is nearest the
// aspect (in log); with chinchilla = true, the table's shape nearest in N. Throws for non-positive
// targets and, with chinchilla = true, for a target outside the table's range.
GptConfig shape_for(const ShapeOptions& options);

}  // namespace scalelab::model
