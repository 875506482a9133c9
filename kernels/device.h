// What CUDA device this process can use, asked without ever throwing: "no driver" and "no GPU" are
// answers (available = false, with the reason), so that backend = "auto" can fall back to the CPU.
#pragma once

#include <cstdint>
#include <string>

namespace scalelab::cuda {

struct DeviceInfo {
  bool available = false;
  std::string reason;  // why not, when !available ("no CUDA driver", "no CUDA GPU", ...)
  int index = 0;
  std::string name;    // "NVIDIA H100 80GB HBM3"
  int major = 0, minor = 0;
  int multiprocessors = 0;
  int64_t memory_bytes = 0;
  double peak_bf16_flops = 0;  // dense bf16 tensor-core peak (datasheet, or estimated)
  bool peak_from_datasheet = false;
  int runtime_version = 0, driver_version = 0;

  // "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB, bf16 peak 989 TFLOP/s)"
  std::string Summary() const;
};

DeviceInfo device_info(int device = 0);

// Throws scalelab::Error with the reason and the fix when there is no usable device.
void require_device(int device = 0);

}  // namespace scalelab::cuda
