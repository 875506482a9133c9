#include "kernels/matmul.h"

#include <cstdint>

#include "kernels/check.h"

namespace scalelab::cuda {

namespace {

// The largest power of two (at most 256) that divides the address: cuBLASLt's heuristic assumes
// 256-byte alignment unless told otherwise, and an algorithm chosen for more alignment than the
// pointers have would read wrongly.
int alignment(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  int a = 256;
  while (a > 1 && address % a != 0) a /= 2;
  return a;
}

cublasLtEpilogue_t lt_epilogue(Epilogue e) {
  switch (e) {
    case Epilogue::None: return CUBLASLT_EPILOGUE_DEFAULT;
    case Epilogue::Bias: return CUBLASLT_EPILOGUE_BIAS;
    case Epilogue::GeluBias: return CUBLASLT_EPILOGUE_GELU_AUX_BIAS;
    case Epilogue::DGelu: return CUBLASLT_EPILOGUE_DGELU;
  }
  return CUBLASLT_EPILOGUE_DEFAULT;
}

constexpr size_t kWorkspaceBytes = size_t{32} << 20;  // cuBLAS's recommendation for Hopper

}  // namespace

struct Matmul::Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool found = false;  // false: cuBLASLt offers no algorithm for this epilogue
  ~Plan() {
    // Destruction errors cannot be reported from a destructor; the handles are freed either way.
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (d) cublasLtMatrixLayoutDestroy(d);
    if (desc) cublasLtMatmulDescDestroy(desc);
  }
};

Matmul::Matmul(cudaStream_t stream, bool fuse_epilogues) : stream_(stream), fuse_(fuse_epilogues) {
  SCALELAB_CUBLAS(cublasLtCreate(&handle_));
  workspace_bytes_ = kWorkspaceBytes;
  const cudaError_t status = cudaMalloc(&workspace_, workspace_bytes_);
  if (status != cudaSuccess) {
    cublasLtDestroy(handle_);
    throw_cuda_error(status, "cudaMalloc(cuBLASLt workspace)", __FILE__, __LINE__);
  }
}

Matmul::~Matmul() {
  plans_.clear();
  if (workspace_) cudaFree(workspace_);
  if (handle_) cublasLtDestroy(handle_);
}

std::shared_ptr<Matmul::Plan> Matmul::plan(const MatmulShape& s, const void* bias, const void* aux) {
  auto found = plans_.find(s);
  if (found != plans_.end()) return found->second;
  auto p = std::make_shared<Plan>();
  // Row-major D = op(A)·op(B) is column-major Dᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS's first operand is our
  // B, its second our A, with m = N, n = M (see matmul.h).
  SCALELAB_CUBLAS(cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t op_first = s.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_second = s.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  SCALELAB_CUBLAS(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_first,
                                                 sizeof op_first));
  SCALELAB_CUBLAS(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_second,
                                                 sizeof op_second));
  const cublasLtEpilogue_t epilogue = lt_epilogue(s.epilogue);
  SCALELAB_CUBLAS(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                                 sizeof epilogue));
  if (bias)
    SCALELAB_CUBLAS(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                   &bias, sizeof bias));
  if (aux) {
    SCALELAB_CUBLAS(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER,
                                                   &aux, sizeof aux));
    const int64_t aux_ld = s.n;
    SCALELAB_CUBLAS(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD,
                                                   &aux_ld, sizeof aux_ld));
  }
  // Stored (column-major) shapes: first operand N×K (ld N) or, transposed, K×N (ld K); second
  // K×M (ld K) or, transposed, M×K (ld M); D N×M (ld N).
  const uint64_t m = s.n, n = s.m, k = s.k;
  if (s.trans_b)
    SCALELAB_CUBLAS(cublasLtMatrixLayoutCreate(&p->a, CUDA_R_16BF, k, m, k));
  else
    SCALELAB_CUBLAS(cublasLtMatrixLayoutCreate(&p->a, CUDA_R_16BF, m, k, m));
  if (s.trans_a)
    SCALELAB_CUBLAS(cublasLtMatrixLayoutCreate(&p->b, CUDA_R_16BF, n, k, n));
  else
    SCALELAB_CUBLAS(cublasLtMatrixLayoutCreate(&p->b, CUDA_R_16BF, k, n, k));
  SCALELAB_CUBLAS(cublasLtMatrixLayoutCreate(&p->d, s.d_type, m, n, m));

  cublasLtMatmulPreference_t pref = nullptr;
  SCALELAB_CUBLAS(cublasLtMatmulPreferenceCreate(&pref));
  struct PrefGuard {
    cublasLtMatmulPreference_t p;
    ~PrefGuard() { cublasLtMatmulPreferenceDestroy(p); }
  } guard{pref};
  SCALELAB_CUBLAS(cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace_bytes_, sizeof workspace_bytes_));
  // Split-K only with a separate reduction step (never accumulating into the output in place).
  const uint32_t schemes = CUBLASLT_REDUCTION_SCHEME_NONE | CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE |
                           CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE;
  SCALELAB_CUBLAS(cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, &schemes, sizeof schemes));
  const uint32_t align_first = static_cast<uint32_t>(s.align_b),
                 align_second = static_cast<uint32_t>(s.align_a),
                 align_d = static_cast<uint32_t>(s.align_d);
  SCALELAB_CUBLAS(cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_first, sizeof align_first));
  SCALELAB_CUBLAS(cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_second, sizeof align_second));
  SCALELAB_CUBLAS(cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_d, sizeof align_d));
  SCALELAB_CUBLAS(cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_d, sizeof align_d));

  cublasLtMatmulHeuristicResult_t result{};
  int returned = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(handle_, p->desc, p->a, p->b, p->d,
                                                                p->d, pref, 1, &result, &returned);
  if (status == CUBLAS_STATUS_SUCCESS && returned > 0) {
    p->algo = result.algo;
    p->found = true;
  } else if (s.epilogue == Epilogue::None) {
    // A plain product must always have an algorithm; a fused epilogue the library refuses (for
    // this shape, type or alignment) is computed by separate kernels instead (found = false).
    if (status != CUBLAS_STATUS_SUCCESS)
      throw_cublas_error(status, "cublasLtMatmulAlgoGetHeuristic", __FILE__, __LINE__);
    throw SystemError(str(__FILE__, ":", __LINE__, ": cuBLASLt has no algorithm for a ", s.m, "×",
                          s.k, " by ", s.k, "×", s.n, " bf16 product"));
  }
  plans_[s] = p;
  return p;
}

void Matmul::run(void* d, cudaDataType d_type, const bf16* a, bool trans_a, const bf16* b,
                 bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, float beta,
                 Epilogue epilogue, const void* bias, bf16* aux) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  SCALELAB_CHECK(d_type == CUDA_R_32F || d_type == CUDA_R_16BF);
  SCALELAB_CHECK(epilogue == Epilogue::None || epilogue == Epilogue::DGelu || bias != nullptr);
  SCALELAB_CHECK((epilogue != Epilogue::GeluBias && epilogue != Epilogue::DGelu) ||
                 (aux != nullptr && d_type == CUDA_R_16BF && beta == 0.0f));
  MatmulShape s;
  s.trans_a = trans_a;
  s.trans_b = trans_b;
  s.m = m;
  s.n = n;
  s.k = k;
  s.d_type = d_type;
  s.epilogue = epilogue;
  s.beta = beta;
  s.align_a = alignment(a);
  s.align_b = alignment(b);
  s.align_d = alignment(d);
  s.align_bias = bias ? alignment(bias) : 0;
  s.align_aux = aux ? alignment(aux) : 0;
  // cuBLASLt needs the auxiliary matrix's leading dimension to be a multiple of 8.
  const bool fusable = fuse_ && (epilogue == Epilogue::None || (n % 8 == 0));

  std::shared_ptr<Plan> p;
  if (fusable || epilogue == Epilogue::None) p = plan(s, bias, aux);
  if (p && p->found) {
    if (bias)
      SCALELAB_CUBLAS(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                     &bias, sizeof bias));
    if (aux)
      SCALELAB_CUBLAS(cublasLtMatmulDescSetAttribute(
          p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &aux, sizeof aux));
    SCALELAB_CUBLAS(cublasLtMatmul(handle_, p->desc, &alpha, b, p->a, a, p->b, &beta, d, p->d, d,
                                   p->d, &p->algo, workspace_, workspace_bytes_, stream_));
    return;
  }

  // The same result by separate kernels.
  if (epilogue != Epilogue::None && fuse_) ++fallbacks_;
  switch (epilogue) {
    case Epilogue::None:
      break;  // unreachable: a plain product always has a plan
    case Epilogue::Bias:
      run(d, d_type, a, trans_a, b, trans_b, m, n, k, alpha, beta);
      if (d_type == CUDA_R_32F)
        add_bias(static_cast<float*>(d), static_cast<const float*>(bias), m, n, stream_);
      else
        add_bias(static_cast<bf16*>(d), static_cast<const bf16*>(bias), m, n, stream_);
      break;
    case Epilogue::GeluBias:
      run(aux, CUDA_R_16BF, a, trans_a, b, trans_b, m, n, k, alpha, 0.0f);
      add_bias(aux, static_cast<const bf16*>(bias), m, n, stream_);
      gelu_forward(static_cast<bf16*>(d), aux, m * n, stream_);
      break;
    case Epilogue::DGelu:
      run(d, CUDA_R_16BF, a, trans_a, b, trans_b, m, n, k, alpha, 0.0f);
      gelu_backward(static_cast<bf16*>(d), aux, static_cast<const bf16*>(d), m * n, stream_);
      break;
  }
}

}  // namespace scalelab::cuda
