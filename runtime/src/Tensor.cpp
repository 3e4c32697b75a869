//===- Tensor.cpp - Dense row-major tensors -------------------------------===//

#include "LargeAllocator.h"
#include "attnc/Runtime.h"

#include <cstring>

using namespace attnc;

const char *attnc::dtypeName(DType dtype) {
  return dtype == DType::F32 ? "f32" : "i32";
}

std::string attnc::shapeString(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

static int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      throw Error("negative dimension in shape " + shapeString(shape));
    n *= d;
  }
  return n;
}

Tensor::Tensor(DType dtype, std::vector<int64_t> shape)
    : type(dtype), dims(std::move(shape)), count(product(dims)) {
  auto storage = std::make_shared<
      std::vector<uint32_t, runtime::LargeAllocator<uint32_t>>>(size_t(count),
                                                                0u);
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
