//===- Storage.cpp - Values at run time, and their buffers ----------------===//

#include "Storage.h"
#include "attnc/Lowering/LinearWeights.h"

#include <cstring>
#include <functional>

using namespace attnc;
using namespace attnc::runtime;

std::shared_ptr<Block> BufferPool::acquire(size_t count) {
  std::shared_ptr<Block> best;
  for (const std::shared_ptr<Block> &block : blocks)
    if (block.use_count() == 1 && block->elements.size() >= count &&
        (!best || block->elements.size() < best->elements.size()))
      best = block;
  if (best) {
    // Nothing holds its contents any more: neither copy is newer.
    best->device.hostStale = false;
    best->device.staleBegin = best->device.staleEnd = 0;
    return best;
  }
  // Nothing free is large enough: grow a free block, or add one.
  for (std::shared_ptr<Block> &block : blocks)
    if (block.use_count() == 1) {
      device::release(*block);
      block->elements.assign(count, 0u);
      return block;
    }
  blocks.push_back(std::make_shared<Block>());
  blocks.back()->elements.assign(count, 0u);
  return blocks.back();
}

const void *Storage::hostRead() const {
  device::makeHostCurrent(*block);
  return address();
}

void *Storage::hostWrite() const {
  device::makeHostCurrent(*block);
  device::hostWritten(*block, byteOffset() / 4, end());
  return address();
}

size_t Storage::end() const {
  int64_t last = 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0)
      return byteOffset() / 4;
    last += (shape[i] - 1) * strides[i];
  }
  size_t bytes = (size_t(last) + 1) * elementBytes();
  return (byteOffset() + bytes + 3) / 4;
}

halide_type_t Storage::elementType() const {
  if (narrow.bits)
    return narrow;
  if (bf16)
    return halide_type_t(halide_type_bfloat, 16);
  return dtype == DType::F32 ? halide_type_t(halide_type_float, 32)
                             : halide_type_t(halide_type_int, 32);
}

int64_t Storage::count(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t Storage::numel() const { return count(shape); }

const void *attnc::runtime::elementsOf(const Tensor &tensor) {
  return tensor.dtype() == DType::F32
             ? static_cast<const void *>(tensor.f32Data())
             : static_cast<const void *>(tensor.i32Data());
}

bool Storage::dense() const {
  int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] > 1 && strides[i] != expected)
      return false;
    expected *= shape[i];
  }
  return true;
}

static std::vector<int64_t> denseStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

Storage Storage::allocate(BufferPool &pool, DType dtype,
                          std::vector<int64_t> shape, bool bf16) {
  Storage s;
  s.dtype = dtype;
  s.bf16 = bf16;
  s.shape = std::move(shape);
  s.strides = denseStrides(s.shape);
  size_t bytes = size_t(std::max<int64_t>(s.numel(), 1)) * s.elementBytes();
  s.block = pool.acquire((bytes + 3) / 4);
  return s;
}

Storage Storage::inBlock(std::shared_ptr<Block> block, size_t offset,
                         DType dtype, std::vector<int64_t> shape) {
  Storage s;
  s.block = std::move(block);
  s.offset = offset;
  s.dtype = dtype;
  s.shape = std::move(shape);
  s.strides = denseStrides(s.shape);
  return s;
}

Storage Storage::copyOf(BufferPool &pool, const Tensor &tensor, bool bf16) {
  bf16 = bf16 && tensor.dtype() == DType::F32;
  Storage s = allocate(pool, tensor.dtype(), tensor.shape(), bf16);
  if (!tensor.numel())
    return s;
  if (!bf16) {
    std::memcpy(s.hostWrite(), elementsOf(tensor), size_t(tensor.numel()) * 4);
    return s;
  }
  uint16_t *to = static_cast<uint16_t *>(s.hostWrite());
  const float *from = tensor.f32Data();
  for (int64_t i = 0; i < tensor.numel(); ++i)
    to[i] = kernels::floatToBFloat16(from[i]);
  return s;
}

Storage Storage::wrap(void *data, DType dtype, std::vector<int64_t> shape) {
  auto block = std::make_shared<Block>();
  block->borrowed = static_cast<uint32_t *>(data);
  block->borrowedSize = size_t(std::max<int64_t>(count(shape), 1));
  // The memory's contents are on the host only.
  device::hostWritten(*block, 0, block->borrowedSize);
  return inBlock(std::move(block), 0, dtype, std::move(shape));
}

Storage Storage::borrow(const Tensor &tensor) {
  // Views only read: kernels take their inputs as const buffers.
  return wrap(const_cast<void *>(elementsOf(tensor)), tensor.dtype(),
              tensor.shape());
}

Storage Storage::slice(int64_t axis, int64_t from, int64_t size) const {
  Storage s = *this;
  s.offset += size_t(from * strides[axis]);
  s.shape[axis] = size;
  return s;
}

Storage Storage::prefix(int64_t axis, int64_t count) const {
  return slice(axis, 0, count);
}

/// Calls `visit(destinationOffset, sourceOffset)` for every element.
static void forEach(const std::vector<int64_t> &shape,
                    const std::vector<int64_t> &a,
                    const std::vector<int64_t> &b,
                    const std::function<void(int64_t, int64_t)> &visit) {
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t d : shape)
    if (d == 0)
      return;
  while (true) {
    int64_t offsetA = 0, offsetB = 0;
    for (size_t i = 0; i < shape.size(); ++i) {
      offsetA += index[i] * a[i];
      offsetB += index[i] * b[i];
    }
    visit(offsetA, offsetB);
    size_t i = shape.size();
    while (i-- > 0) {
      if (++index[i] < shape[i])
        break;
      index[i] = 0;
      if (i == 0)
        return;
    }
    if (shape.empty())
      return;
  }
}

void Storage::assign(const Storage &source) {
  size_t bytes = elementBytes();
  if (bytes != source.elementBytes())
    throw Error("internal error: copying " +
                std::to_string(source.elementBytes()) +
                "-byte elements into a view of " + std::to_string(bytes) +
                "-byte ones");
  if (device::copyOnDevice(*this, source))
    return;
  char *to = static_cast<char *>(hostWrite());
  const char *from = static_cast<const char *>(source.hostRead());
  if (dense() && source.dense()) {
    std::memcpy(to, from, size_t(numel()) * bytes);
    return;
  }
  // Rows of the innermost dimension are contiguous in both.
  if (!shape.empty() && strides.back() == 1 && source.strides.back() == 1) {
    std::vector<int64_t> outer(shape.begin(), shape.end() - 1);
    std::vector<int64_t> outerTo(strides.begin(), strides.end() - 1);
    std::vector<int64_t> outerFrom(source.strides.begin(),
                                   source.strides.end() - 1);
    size_t row = size_t(shape.back()) * bytes;
    forEach(outer, outerTo, outerFrom, [&](int64_t a, int64_t b) {
      std::memcpy(to + a * bytes, from + b * bytes, row);
    });
    return;
  }
  forEach(shape, strides, source.strides, [&](int64_t a, int64_t b) {
    std::memcpy(to + a * bytes, from + b * bytes, bytes);
  });
}

Storage Storage::copy(BufferPool &pool) const {
  Storage s = allocate(pool, dtype, shape, bf16);
  s.assign(*this);
  return s;
}

void Storage::copyTo(void *target) const {
  uint32_t *to = static_cast<uint32_t *>(target);
  if (bf16) { // Host only; widening is exact.
    if (!numel())
      return;
    const uint16_t *from = static_cast<const uint16_t *>(hostRead());
    float *widened = static_cast<float *>(target);
    forEach(shape, denseStrides(shape), strides, [&](int64_t a, int64_t b) {
      widened[a] = kernels::bfloat16ToFloat(from[b]);
    });
    return;
  }
  // From the device, just this view, where it is newest there.
  if (!numel() || device::downloadView(*this, to))
    return;
  const uint32_t *from = static_cast<const uint32_t *>(hostRead());
  if (dense()) {
    std::memmove(to, from, size_t(numel()) * 4); // `to` may overlap.
    return;
  }
  std::vector<int64_t> strides = denseStrides(shape);
  forEach(shape, strides, this->strides,
          [&](int64_t a, int64_t b) { to[a] = from[b]; });
}

Tensor Storage::toTensor() const {
  Tensor tensor(dtype, shape);
  copyTo(dtype == DType::F32 ? static_cast<void *>(tensor.f32Data())
                             : static_cast<void *>(tensor.i32Data()));
  return tensor;
}

bool Storage::toHalide(int rank, halide_buffer_t &buffer,
                       std::vector<halide_dimension_t> &dims) const {
  std::vector<int64_t> s = shape, st = strides;
  // Merge leading dimensions until the rank fits.
  while (int(s.size()) > rank) {
    if (s[0] > 1 && s[1] > 1 && st[0] != st[1] * s[1])
      return false;
    int64_t stride = s[1] > 1 ? st[1] : st[0];
    s[1] *= s[0];
    st[1] = stride;
    s.erase(s.begin());
    st.erase(st.begin());
  }
  dims.assign(size_t(rank), halide_dimension_t());
  for (int i = 0; i < rank; ++i) {
    size_t outer = size_t(rank - 1 - i);
    dims[size_t(i)] =
        halide_dimension_t(0, int32_t(s[outer]), int32_t(st[outer]));
  }
  buffer = halide_buffer_t();
  buffer.host = reinterpret_cast<uint8_t *>(address());
  buffer.type = elementType();
  buffer.dimensions = rank;
  buffer.dim = dims.data();
  return true;
}
