// Checking every CUDA runtime and cuBLASLt call: a failure throws scalelab::SystemError whose message
// names the call, the file and the line, and the library's own description of the error, so that it
// reaches the Lua boundary as "kernels/gpt_cuda.cu:123: cudaMalloc(...) failed: out of memory".
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <initializer_list>

#include "core/error.h"

namespace scalelab::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file,
                                     int line);

// A device pointer that a kernel reads or writes `bytes` at a time (16-byte vector loads,
// cp.async), checked on the host before the launch.
struct Aligned {
  const void* pointer;  // null: not used by this call, not checked
  size_t bytes;
  const char* name;
};
// Throws scalelab::Error naming `what` and the first misaligned pointer, instead of a fault.
void require_aligned(const char* what, std::initializer_list<Aligned> pointers);

}  // namespace scalelab::cuda

#define SCALELAB_CUDA(call)                                                                  \
  do {                                                                                       \
    const cudaError_t scalelab_status_ = (call);                                             \
    if (scalelab_status_ != cudaSuccess)                                                     \
      ::scalelab::cuda::throw_cuda_error(scalelab_status_, #call, __FILE__, __LINE__);       \
  } while (0)

#define SCALELAB_CUBLAS(call)                                                                \
  do {                                                                                       \
    const cublasStatus_t scalelab_status_ = (call);                                          \
    if (scalelab_status_ != CUBLAS_STATUS_SUCCESS)                                           \
      ::scalelab::cuda::throw_cublas_error(scalelab_status_, #call, __FILE__, __LINE__);     \
  } while (0)

// After a kernel launch: launch-configuration errors show up here (cudaGetLastError), execution
// errors at the next synchronising call, which is checked too.
#define SCALELAB_CUDA_LAUNCHED() SCALELAB_CUDA(cudaGetLastError())
