//===- LargeAllocator.h - Element storage backed by huge pages --*- C++ -*-===//
//
// Private to the runtime. The allocator of every tensor's and every pooled
// block's elements. Allocations of 2 MiB and more are 2 MiB-aligned and, on
// Linux, advised as transparent huge pages (madvise MADV_HUGEPAGE, which
// Debian's default THP mode "madvise" waits for): the first touch of fresh
// memory then faults once per 2 MiB instead of once per 4 KiB. Loading the
// 176 MB 6+6 transformer touches its weights twice (file into tensors,
// tensors into the model's storage); in the VM this was measured in, page
// faults were most of that time (see docs/runtime.md). Smaller allocations
// go to malloc unchanged.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_RUNTIME_LARGEALLOCATOR_H
#define ATTNC_RUNTIME_LARGEALLOCATOR_H

#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace attnc::runtime {

/// Bytes from which an allocation is aligned and advised as huge pages.
constexpr size_t kHugePageBytes = size_t(2) << 20;

/// malloc, or for large sizes 2 MiB-aligned memory advised as huge pages.
/// Freed with std::free. Throws std::bad_alloc.
inline void *allocateLarge(size_t bytes) {
  void *memory = nullptr;
  if (bytes >= kHugePageBytes) {
    size_t rounded =
        (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    memory = std::aligned_alloc(kHugePageBytes, rounded);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (memory)
      (void)madvise(memory, rounded, MADV_HUGEPAGE); // Advice only.
#endif
  } else {
    memory = std::malloc(bytes ? bytes : 1);
  }
  if (!memory)
    throw std::bad_alloc();
  return memory;
}

/// A standard allocator over allocateLarge, for std::vector.
template <class T> struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <class U> LargeAllocator(const LargeAllocator<U> &) {}
  T *allocate(size_t count) {
    return static_cast<T *>(allocateLarge(count * sizeof(T)));
  }
  void deallocate(T *memory, size_t) { std::free(memory); }
  template <class U> bool operator==(const LargeAllocator<U> &) const {
    return true;
  }
  template <class U> bool operator!=(const LargeAllocator<U> &) const {
    return false;
  }
};

} // namespace attnc::runtime

#endif // ATTNC_RUNTIME_LARGEALLOCATOR_H
