#include "model/huge_pages.h"

#include <sys/mman.h>

#include <cstdlib>

namespace scalelab::model {

void* huge_page_alloc(size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  if (bytes == 0) bytes = 1;
  if (bytes < kHugePage) {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return p;
  }
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
  if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  madvise(p, rounded, MADV_HUGEPAGE);  // advice: where the kernel declines, ordinary pages
#endif
  return p;
}

}  // namespace scalelab::model
