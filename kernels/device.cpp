#include "kernels/device.h"

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>

#include "core/error.h"
#include "core/units.h"
#include "kernels/check.h"

namespace scalelab::cuda {

namespace {

// Dense bf16 tensor-core peaks from the datasheets, matched on the device name.
double datasheet_peak(const std::string& name) {
  auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  if (has("H100") && has("PCIe")) return 756e12;
  if (has("H100") && has("NVL")) return 835e12;
  if (has("H100") || has("H200") || has("H800") || has("GH200")) return 989e12;
  if (has("A100") || has("A800")) return 312e12;
  if (has("L40S")) return 362e12;
  if (has("A10G") || has("A10")) return 125e12;
  if (has("L4")) return 121e12;
  return 0;
}

}  // namespace

std::string DeviceInfo::Summary() const {
  if (!available) return "no CUDA device (" + reason + ")";
  char peak[64];
  std::snprintf(peak, sizeof peak, "%.0f TFLOP/s%s", peak_bf16_flops / 1e12,
                peak_from_datasheet ? "" : " estimated");
  char memory[32];
  std::snprintf(memory, sizeof memory, "%.1f GiB", static_cast<double>(memory_bytes) / (1 << 30));
  return str(name, " (sm_", major, minor, ", ", multiprocessors, " SMs, ", memory, ", bf16 peak ",
             peak, ")");
}

DeviceInfo device_info(int device) {
  DeviceInfo info;
  info.index = device;
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    info.reason = status == cudaErrorInsufficientDriver || status == cudaErrorNoDevice
                      ? (status == cudaErrorNoDevice ? "no CUDA GPU on this machine"
                                                     : "no CUDA driver, or one too old for this build")
                      : str("CUDA is unusable here: ", cudaGetErrorString(status));
    return info;
  }
  if (count == 0) {
    info.reason = "no CUDA GPU on this machine";
    return info;
  }
  if (device < 0 || device >= count) {
    info.reason = str("device ", device, " does not exist (this machine has ", count, ")");
    return info;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
    cudaGetLastError();
    info.reason = "cudaGetDeviceProperties failed";
    return info;
  }
  info.available = true;
  info.name = prop.name;
  info.major = prop.major;
  info.minor = prop.minor;
  info.multiprocessors = prop.multiProcessorCount;
  info.memory_bytes = static_cast<int64_t>(prop.totalGlobalMem);
  cudaRuntimeGetVersion(&info.runtime_version);
  cudaDriverGetVersion(&info.driver_version);
  info.peak_bf16_flops = datasheet_peak(info.name);
  info.peak_from_datasheet = info.peak_bf16_flops > 0;
  if (!info.peak_from_datasheet) {
    // Dense bf16 FLOPs per SM per clock: 4096 on Hopper, 2048 on A100, 1024 elsewhere (estimate).
    int clock_khz = 0;
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device);
    const double per_clock = prop.major >= 9 ? 4096 : (prop.major == 8 && prop.minor == 0 ? 2048 : 1024);
    info.peak_bf16_flops = per_clock * info.multiprocessors * clock_khz * 1e3;
  }
  if (prop.major < 8)
    info.available = false, info.reason = str(info.name, " has compute capability ", prop.major, ".",
                                              prop.minor, "; the CUDA backend needs 8.0 or newer (bf16 tensor cores)");
  return info;
}

void require_device(int device) {
  const DeviceInfo info = device_info(device);
  if (!info.available)
    fail("backend \"cuda\" cannot run: ", info.reason,
         ". Use backend = \"auto\" (falls back to the CPU) or backend = \"cpu\"");
}

void require_aligned(const char* what, std::initializer_list<Aligned> pointers) {
  for (const Aligned& a : pointers)
    if (a.pointer != nullptr && reinterpret_cast<uintptr_t>(a.pointer) % a.bytes != 0)
      fail(what, ": ", a.name, " must be ", a.bytes, "-byte aligned (a cudaMalloc'd buffer or an ",
           "offset of a multiple of ", a.bytes, " bytes into one); it is at ", a.pointer);
}

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  cudaGetLastError();
  throw SystemError(str(file, ":", line, ": ", call, " failed: ", cudaGetErrorName(status), " (",
                        cudaGetErrorString(status), ")"));
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw SystemError(str(file, ":", line, ": ", call, " failed: ", cublasLtGetStatusName(status),
                        " (", cublasLtGetStatusString(status), ")"));
}

}  // namespace scalelab::cuda
