//===- Storage.h - Values at run time, and their buffers --------*- C++ -*-===//
//
// Private to the runtime. A Storage is a strided view into a pooled block
// of 4-byte words (f32, i32, or two bf16 activations each): slices of a fused
// projection are views of its output, never copies. The pool hands out blocks
// that no value holds any more, so once a function has run at its largest
// shapes it allocates nothing. On a GPU target a block also has a copy in
// device memory (DeviceMemory.h): host code reaches elements through
// hostRead/hostWrite, which keep the two copies coherent.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_RUNTIME_STORAGE_H
#define ATTNC_RUNTIME_STORAGE_H

#include "DeviceMemory.h"
#include "LargeAllocator.h"
#include "attnc/Runtime.h"

#include "HalideRuntime.h"

#include <memory>
#include <mutex>
#include <vector>

namespace attnc::runtime {

/// A block of 4-byte elements (f32 or i32): its own, or borrowed from a
/// Tensor that outlives it (weights while a model is prepared).
struct Block {
  std::vector<uint32_t, LargeAllocator<uint32_t>> elements;
  uint32_t *borrowed = nullptr;
  size_t borrowedSize = 0;
  DeviceState device;

  Block() = default;
  Block(const Block &) = delete;
  Block &operator=(const Block &) = delete;
  ~Block() { device::release(*this); }

  uint32_t *base() { return borrowed ? borrowed : elements.data(); }
  size_t size() const { return borrowed ? borrowedSize : elements.size(); }
};

/// Reuses blocks that nothing references any more.
class BufferPool {
public:
  /// A block of at least `count` elements that no value holds.
  std::shared_ptr<Block> acquire(size_t count);

private:
  std::vector<std::shared_ptr<Block>> blocks;
};

/// A value: a strided view into a block.
struct Storage {
  std::shared_ptr<Block> block;
  size_t offset = 0; ///< In elements (4-byte words for `narrow` weights).
  DType dtype = DType::F32;
  /// A float value stored as bf16, as a `dtype bf16` function's
  /// activations are: 2-byte elements, which offset, shape and strides
  /// count; copyTo and toTensor widen it to f32. Host targets only (the
  /// program refuses bf16 on a GPU target).
  bool bf16 = false;
  std::vector<int64_t> shape;   ///< Outermost first.
  std::vector<int64_t> strides; ///< In elements, outermost first.
  /// Packed linear weights stored in fewer bytes (bf16, f16, i8): their
  /// element type, which kernels see instead of dtype's; shape and strides
  /// count those elements, offset stays in 4-byte units, and the value is
  /// dense and never sliced or copied. Zero bits otherwise.
  halide_type_t narrow = halide_type_t(halide_type_float, 0);

  /// The element type kernels see.
  halide_type_t elementType() const;

  /// The bytes of one element kernels see.
  size_t elementBytes() const { return elementType().bytes(); }
  /// The first element's offset in its block, in bytes.
  size_t byteOffset() const { return offset * (bf16 ? 2 : 4); }

  bool defined() const { return bool(block); }
  int64_t numel() const;
  /// The elements of a shape.
  static int64_t count(const std::vector<int64_t> &shape);
  /// The first element's host address, for identity and buffer setup; its
  /// contents may be stale on a GPU target (use hostRead/hostWrite).
  void *address() const {
    return reinterpret_cast<char *>(block->base()) + byteOffset();
  }
  /// The first element, the host copy made current.
  const void *hostRead() const;
  /// The first element, the host copy made current and the view marked as
  /// written there.
  void *hostWrite() const;
  /// One past the last 4-byte word the view reaches, relative to its block.
  size_t end() const;
  bool dense() const;

  /// A dense value in a new or pooled block (bf16: see the field).
  static Storage allocate(BufferPool &pool, DType dtype,
                          std::vector<int64_t> shape, bool bf16 = false);
  /// A dense value at element `offset` of `block`, which must hold it.
  static Storage inBlock(std::shared_ptr<Block> block, size_t offset,
                         DType dtype, std::vector<int64_t> shape);
  /// A dense copy of a tensor; with `bf16`, an f32 tensor rounded to bf16
  /// (nearest even).
  static Storage copyOf(BufferPool &pool, const Tensor &tensor,
                        bool bf16 = false);
  /// A dense view of a tensor's elements, without copying; the tensor must
  /// outlive the view and every view derived from it.
  static Storage borrow(const Tensor &tensor);
  /// A dense value in the caller's memory at `data` (host only), which must
  /// hold it and outlive every view of it.
  static Storage wrap(void *data, DType dtype, std::vector<int64_t> shape);
  /// [offset, offset + size) of dimension `axis`, without copying.
  Storage slice(int64_t axis, int64_t from, int64_t size) const;
  /// Dimensions [0, count) of dimension `axis` (a prefix), without copying.
  Storage prefix(int64_t axis, int64_t count) const;
  /// A dense copy.
  Storage copy(BufferPool &pool) const;
  /// Copies `source` (same shape and element type) into this view.
  void assign(const Storage &source);
  /// Copies the elements, densely and outermost first, to `target`, which
  /// holds numel() 4-byte elements (bf16 values widened to f32).
  void copyTo(void *target) const;
  /// A new tensor holding a copy.
  Tensor toTensor() const;
  /// The halide_buffer_t of this value with `rank` dimensions, merging
  /// leading dimensions when the value has more (the runtime views
  /// [batch, length, width] as [batch * length, width]). Returns false if
  /// they cannot be merged without a copy.
  bool toHalide(int rank, halide_buffer_t &buffer,
                std::vector<halide_dimension_t> &dims) const;
};

/// Halide errors of kernel calls (the runtime installs a handler that
/// records them instead of aborting).
std::string takeHalideError();

/// A tensor's first element (f32 or i32).
const void *elementsOf(const Tensor &tensor);

} // namespace attnc::runtime

#endif // ATTNC_RUNTIME_STORAGE_H
