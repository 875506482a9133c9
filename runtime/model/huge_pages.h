// Memory for the CPU trainer's big arrays (parameters, gradients, optimizer moments, activations,
// packed GEMM blocks) on 2 MiB transparent huge pages where the kernel offers them.
//
// The trainer streams hundreds of MiB per step, and its GEMM packers and attention walk matrices a
// row (often a page) at a time: with 4 KiB pages those walks miss the TLB. On 2 Zen 5 cores the
// largest bench config trained 3% to 14% faster on huge pages (5 alternations, bench_train, this
// allocator against plain vectors, transparent_hugepage "madvise"). Many systems give huge pages
// only to memory that asks for them with madvise: we ask.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace scalelab::model {

// At least `bytes` bytes, 64-byte aligned; from 2 MiB up, 2 MiB aligned and advised as huge pages
// (best effort: where the kernel declines, ordinary pages). Release with std::free. Throws
// std::bad_alloc when out of memory.
void* huge_page_alloc(size_t bytes);

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(huge_page_alloc(n * sizeof(T))); }
  void deallocate(T* p, size_t) { std::free(p); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const HugePageAllocator<U>&) const { return false; }
};

// A float array of the trainer: a std::vector on huge pages.
using FloatBuffer = std::vector<float, HugePageAllocator<float>>;

}  // namespace scalelab::model
