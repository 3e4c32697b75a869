//===- Tensor.cpp - Dense row-major tensors -------------------------------===//
//
// Tensors own or view 4-byte elements. A shape's element count is computed
// with overflow checks, and a count whose bytes could not be addressed or
// allocated is an Error naming the shape, never a wrapped count, a
// std::bad_alloc or a std::length_error.
//
//===----------------------------------------------------------------------===//

#include "LargeAllocator.h"
#include "attnc/Runtime.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>

using namespace attnc;

const char *attnc::dtypeName(DType dtype) {
  return dtype == DType::F32 ? "f32" : "i32";
}

const char *attnc::storedTypeName(StoredType type) {
  switch (type) {
  case StoredType::F32:
    return "F32";
  case StoredType::I32:
    return "I32";
  case StoredType::BF16:
    return "BF16";
  case StoredType::F16:
    return "F16";
  case StoredType::I8:
    return "I8";
  }
  return "F32";
}

std::string attnc::shapeString(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// The most elements a tensor may have: their bytes must fit ptrdiff_t.
static constexpr int64_t kMaxElements = PTRDIFF_MAX / 4;

/// The number of elements of `shape`; throws Error for a negative dimension
/// or a count that overflows or could not be addressed.
static int64_t product(const std::vector<int64_t> &shape) {
  for (int64_t d : shape)
    if (d < 0)
      throw Error("negative dimension in shape " + shapeString(shape));
  if (std::find(shape.begin(), shape.end(), 0) != shape.end())
    return 0; // Empty, however large the other dimensions.
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n) || n > kMaxElements)
      throw Error("shape " + shapeString(shape) +
                  " has more elements than a tensor can hold");
  return n;
}

using Storage = std::vector<uint32_t, runtime::LargeAllocator<uint32_t>>;

Tensor::Tensor(DType dtype, std::vector<int64_t> shape)
    : type(dtype), dims(std::move(shape)), count(product(dims)) {
  auto failure = [&] {
    return Error("cannot allocate " + std::to_string(count * 4) +
                 " bytes for a tensor of " + describe());
  };
  std::shared_ptr<Storage> storage;
  try {
    storage = std::make_shared<Storage>(size_t(count), 0u);
  } catch (const std::bad_alloc &) {
    throw failure();
  } catch (const std::length_error &) {
    throw failure();
  }
  elements = storage->data();
  owner = std::move(storage);
}

Tensor Tensor::view(DType dtype, std::vector<int64_t> shape, void *data) {
  Tensor t;
  t.type = dtype;
  t.dims = std::move(shape);
  t.count = product(t.dims);
  if (t.count > 0 && !data)
    throw Error("tensor view of shape " + shapeString(t.dims) +
                " over a null pointer");
  t.elements = static_cast<uint32_t *>(data);
  return t;
}

Tensor Tensor::f32(std::vector<int64_t> shape,
                   const std::vector<float> &values) {
  Tensor t(DType::F32, std::move(shape));
  if (int64_t(values.size()) != t.numel())
    throw Error("tensor of shape " + shapeString(t.shape()) + " needs " +
                std::to_string(t.numel()) + " values, got " +
                std::to_string(values.size()));
  if (!values.empty()) // memcpy from an empty vector's null data is UB
    std::memcpy(t.elements, values.data(), values.size() * 4);
  return t;
}

Tensor Tensor::i32(std::vector<int64_t> shape,
                   const std::vector<int32_t> &values) {
  Tensor t(DType::I32, std::move(shape));
  if (int64_t(values.size()) != t.numel())
    throw Error("tensor of shape " + shapeString(t.shape()) + " needs " +
                std::to_string(t.numel()) + " values, got " +
                std::to_string(values.size()));
  if (!values.empty()) // memcpy from an empty vector's null data is UB
    std::memcpy(t.elements, values.data(), values.size() * 4);
  return t;
}

int64_t Tensor::numel() const { return count; }

float *Tensor::f32Data() {
  if (type != DType::F32)
    throw Error("tensor " + describe() + " is not f32");
  return reinterpret_cast<float *>(elements);
}
const float *Tensor::f32Data() const {
  return const_cast<Tensor *>(this)->f32Data();
}
int32_t *Tensor::i32Data() {
  if (type != DType::I32)
    throw Error("tensor " + describe() + " is not i32");
  return reinterpret_cast<int32_t *>(elements);
}
const int32_t *Tensor::i32Data() const {
  return const_cast<Tensor *>(this)->i32Data();
}

std::string Tensor::describe() const {
  return std::string(dtypeName(type)) + " " + shapeString(dims);
}
