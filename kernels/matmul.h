// Matrix products through cuBLASLt: bf16 operands, fp32 accumulation, fp32 or bf16 output, with
// the bias and GELU epilogues fused where the library offers them (and the same result by separate
// kernels where it does not). Row-major, in the CPU reference's terms:
//   D[M][N] = alpha·op(A)·op(B) (+ beta·D), op(A) M×K (A stored K×M when trans_a),
//   op(B) K×N (B stored N×K when trans_b).
// Algorithms are chosen once per shape by cuBLASLt's heuristic, from those that split K without
// in-place (output-buffer) reduction, and cached, so a run always uses the same algorithm for the
// same product: the results are bitwise reproducible on the same GPU and library.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <memory>
#include <tuple>

#include "kernels/ops.h"

namespace scalelab::cuda {

enum class Epilogue {
  None,
  Bias,      // D = A·B + bias (bias has N entries, the type of D)
  GeluBias,  // aux = A·B + bias, D = gelu(aux)          (bf16 D and aux)
  DGelu,     // D = (A·B) ⊙ gelu'(aux)                   (bf16 D and aux)
};

struct MatmulShape {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  cudaDataType d_type = CUDA_R_32F;
  Epilogue epilogue = Epilogue::None;
  float beta = 0.0f;  // 0 overwrites D, 1 accumulates into it
  int align_a = 0, align_b = 0, align_d = 0, align_bias = 0, align_aux = 0;

  bool operator<(const MatmulShape& o) const {
    return std::tie(trans_a, trans_b, m, n, k, d_type, epilogue, beta, align_a, align_b, align_d,
                    align_bias, align_aux) <
           std::tie(o.trans_a, o.trans_b, o.m, o.n, o.k, o.d_type, o.epilogue, o.beta, o.align_a,
                    o.align_b, o.align_d, o.align_bias, o.align_aux);
  }
};

class Matmul {
 public:
  // `fuse_epilogues` = false computes bias and GELU by separate kernels (for tests and as the
  // reference for the fused path).
  explicit Matmul(cudaStream_t stream, bool fuse_epilogues = true);
  ~Matmul();
  Matmul(const Matmul&) = delete;
  Matmul& operator=(const Matmul&) = delete;

  // d is float* for CUDA_R_32F, bf16* for CUDA_R_16BF. bias: const float* for fp32 D, const bf16*
  // for bf16 D. aux: bf16, row-major M×N (the pre-GELU activations).
  void run(void* d, cudaDataType d_type, const bf16* a, bool trans_a, const bf16* b, bool trans_b,
           int64_t m, int64_t n, int64_t k, float alpha = 1.0f, float beta = 0.0f,
           Epilogue epilogue = Epilogue::None, const void* bias = nullptr, bf16* aux = nullptr);

  // How many distinct products were planned, and how many fell back from a fused epilogue to
  // separate kernels (for the run's report and tests).
  int planned() const { return static_cast<int>(plans_.size()); }
  int fallbacks() const { return fallbacks_; }

 private:
  struct Plan;
  std::shared_ptr<Plan> plan(const MatmulShape& shape, const void* bias, const void* aux);

  cudaStream_t stream_;
  bool fuse_;
  cublasLtHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  std::map<MatmulShape, std::shared_ptr<Plan>> plans_;
  int fallbacks_ = 0;
};

}  // namespace scalelab::cuda
