//===- Weights.cpp - Safetensors files, read and written ------------------===//
//
// The format: an 8-byte little-endian header length N, N bytes of JSON
// mapping each tensor name to {dtype, shape, data_offsets: [begin, end]}
// (offsets into the data that follows), and an optional "__metadata__"
// entry. Everything is checked before any tensor is used: a truncated or
// corrupt file is an Error naming the file and the tensor.
//
//===----------------------------------------------------------------------===//

#include "attnc/Runtime.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace attnc;
using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string &path, const std::string &message) {
  throw Error("weights file '" + path + "': " + message);
}

} // namespace

Weights Weights::load(const std::string &path) {
  // Reads the header, then each tensor's bytes straight into the tensor:
  // no copy of the whole file in between.
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    fail(path, "cannot be opened");
  const uint64_t fileSize = uint64_t(in.tellg());
  in.seekg(0);
  if (fileSize < 8)
    fail(path, "is truncated: " + std::to_string(fileSize) +
                   " bytes, fewer than the 8-byte header length");
  unsigned char lengthBytes[8];
  if (!in.read(reinterpret_cast<char *>(lengthBytes), 8))
    fail(path, "cannot be read");
  uint64_t headerLength = 0;
  for (int i = 7; i >= 0; --i)
    headerLength = headerLength << 8 | lengthBytes[i];
  if (headerLength > fileSize - 8)
    fail(path, "is truncated or corrupt: its header claims " +
                   std::to_string(headerLength) + " bytes, but only " +
                   std::to_string(fileSize - 8) + " follow");
  std::string headerText(size_t(headerLength), '\0');
  if (!in.read(headerText.data(), std::streamsize(headerLength)))
    fail(path, "cannot be read");
  json header;
  try {
    header = json::parse(headerText);
  } catch (const json::exception &e) {
    fail(path, std::string("has a corrupt JSON header: ") + e.what());
  }
  if (!header.is_object())
    fail(path, "has a header that is not a JSON object");
  const uint64_t dataStart = 8 + headerLength;
  const uint64_t dataSize = fileSize - dataStart;
  Weights weights;
  weights.file = path;
  for (const auto &[name, info] : header.items()) {
    if (name == "__metadata__")
      continue;
    auto where = "tensor '" + name + "' ";
    try {
      std::string dtype = info.at("dtype");
      DType type;
      if (dtype == "F32")
        type = DType::F32;
      else if (dtype == "I32")
        type = DType::I32;
      else
        fail(path, where + "has dtype " + dtype + "; attnc reads F32 and I32");
      std::vector<int64_t> shape = info.at("shape").get<std::vector<int64_t>>();
      std::vector<uint64_t> offsets =
          info.at("data_offsets").get<std::vector<uint64_t>>();
      for (int64_t d : shape)
        if (d < 0)
          fail(path, where + "has a negative dimension");
      if (offsets.size() != 2 || offsets[0] > offsets[1])
        fail(path, where + "has malformed data_offsets");
      Tensor tensor(type, shape);
      uint64_t expected = uint64_t(tensor.numel()) * 4;
      if (offsets[1] - offsets[0] != expected)
        fail(path, where + "of shape " + shapeString(shape) + " needs " +
                       std::to_string(expected) +
                       " bytes, but its data_offsets "
                       "span " +
                       std::to_string(offsets[1] - offsets[0]));
      if (offsets[1] > dataSize)
        fail(path, where + "ends at byte " + std::to_string(offsets[1]) +
                       " of the data, which has only " +
                       std::to_string(dataSize) + ": the file is truncated");
      void *target = type == DType::F32 ? static_cast<void *>(tensor.f32Data())
                                        : static_cast<void *>(tensor.i32Data());
      if (expected) {
        in.seekg(std::streamoff(dataStart + offsets[0]));
        if (!in.read(static_cast<char *>(target), std::streamsize(expected)))
          fail(path, where + "cannot be read");
      }
      weights.tensors.emplace(name, std::move(tensor));
    } catch (const json::exception &e) {
      fail(path, where + "has a malformed header entry: " + e.what());
    }
  }
  return weights;
}

void Weights::save(const std::string &path,
                   const std::vector<std::pair<std::string, Tensor>> &tensors) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto &[name, tensor] : tensors) {
    uint64_t size = uint64_t(tensor.numel()) * 4;
    header[name] = {{"dtype", tensor.dtype() == DType::F32 ? "F32" : "I32"},
                    {"shape", tensor.shape()},
                    {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string text = header.dump();
  while ((text.size() + 8) % 8)
    text += ' '; // Keep the data 8-byte aligned, as the format recommends.
  std::ofstream out(path, std::ios::binary);
  if (!out)
    throw Error("cannot write weights file '" + path + "'");
  uint64_t length = text.size();
  for (int i = 0; i < 8; ++i)
    out.put(char(length >> (8 * i) & 0xff));
  out << text;
  for (const auto &[name, tensor] : tensors) {
    const void *source = tensor.dtype() == DType::F32
                             ? static_cast<const void *>(tensor.f32Data())
                             : static_cast<const void *>(tensor.i32Data());
    out.write(static_cast<const char *>(source),
              std::streamsize(tensor.numel() * 4));
  }
  if (!out)
    throw Error("cannot write weights file '" + path + "'");
}

bool Weights::contains(const std::string &name) const {
  return tensors.count(name) != 0;
}

const Tensor &Weights::get(const std::string &name) const {
  auto it = tensors.find(name);
  if (it == tensors.end())
    throw Error("weights file '" + file + "' has no tensor '" + name + "'");
  return it->second;
}

std::vector<std::string> Weights::names() const {
  std::vector<std::string> all;
  for (const auto &entry : tensors)
    all.push_back(entry.first);
  return all;
}
