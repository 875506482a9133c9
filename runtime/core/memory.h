// What the machine can give a request, so that one too big is refused up front with the bytes it
// needs and the bytes there are, instead of swapping or being killed part-way.
#pragma once

#include <cstdint>
#include <string>

namespace scalelab {

// Bytes of memory a new allocation can get now without swapping: MemAvailable of /proc/meminfo,
// else sysconf's available pages times the page size; -1 when neither is known.
int64_t available_memory_bytes();

// Bytes free to this user on the file system that holds `path` (its folder when the file does not
// exist yet); -1 when unknown.
int64_t available_disk_bytes(const std::string& path);

}  // namespace scalelab
