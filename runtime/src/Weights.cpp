//===- Weights.cpp - Safetensors files, read and written ------------------===//
//
// The format: an 8-byte little-endian header length N, N bytes of JSON
// mapping each tensor name to {dtype, shape, data_offsets: [begin, end]}
// (offsets into the data that follows), and an optional "__metadata__"
// entry. A file and a buffer in memory go through one code path: the whole
// header is checked first (every entry's dtype, shape and byte range, then
// that the byte ranges tile the data exactly, as the format requires), and
// only then is anything allocated and read; F32 tensors are then scanned for
// NaN and Inf. Every problem is an Error naming the file and the tensor;
// docs/runtime.md lists the checks.
//
//===----------------------------------------------------------------------===//

#include "attnc/Runtime.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>

using namespace attnc;
using nlohmann::json;

namespace {

/// The largest header accepted, as in the reference implementation: larger
/// ones are not weights files, and parsing them would only cost memory.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

/// The most elements one tensor may hold (8 GiB of F32). Keeps every size
/// computation far from overflow and within Halide's 32-bit extents.
constexpr uint64_t kMaxElements = uint64_t(1) << 31;

/// Bytes of every element of the dtypes attnc reads.
constexpr uint64_t kElementBytes = 4;

[[noreturn]] void fail(const std::string &path, const std::string &message) {
  throw Error("weights file '" + path + "': " + message);
}

[[noreturn]] void failTensor(const std::string &path, const std::string &name,
                             const std::string &message) {
  fail(path, "tensor '" + name + "' " + message);
}

/// Where a weights file's bytes come from: a file on disk or memory.
class ByteSource {
public:
  virtual ~ByteSource() = default;
  /// The number of bytes.
  virtual uint64_t size() const = 0;
  /// Copies `count` bytes from `offset` (within size()) to `target`;
  /// returns false if they cannot be read.
  virtual bool read(uint64_t offset, uint64_t count, void *target) = 0;
};

/// A file, read with seeks: no copy of the whole file is made.
class FileSource : public ByteSource {
public:
  explicit FileSource(const std::string &path)
      : in(path, std::ios::binary | std::ios::ate) {
    if (!in)
      fail(path, "cannot be opened");
    bytes = uint64_t(in.tellg());
  }
  uint64_t size() const override { return bytes; }
  bool read(uint64_t offset, uint64_t count, void *target) override {
    in.seekg(std::streamoff(offset));
    return bool(in.read(static_cast<char *>(target), std::streamsize(count)));
  }

private:
  std::ifstream in;
  uint64_t bytes = 0;
};

/// Bytes the caller holds in memory.
class MemorySource : public ByteSource {
public:
  explicit MemorySource(std::string_view bytes) : bytes(bytes) {}
  uint64_t size() const override { return bytes.size(); }
  bool read(uint64_t offset, uint64_t count, void *target) override {
    if (count)
      std::memcpy(target, bytes.data() + offset, size_t(count));
    return true;
  }

private:
  std::string_view bytes;
};

/// One checked header entry.
struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin; ///< Offsets into the data, after the header.
  uint64_t end;
};

/// A JSON integer that is not negative, else nothing (floats such as 128.7
/// or 128.0, strings, and integers beyond uint64 all give nothing).
std::optional<uint64_t> unsignedInteger(const json &value) {
  if (value.is_number_unsigned())
    return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0)
    return uint64_t(value.get<int64_t>());
  return std::nullopt;
}

/// The header's length from the first 8 bytes, checked against the file.
uint64_t readHeaderLength(const std::string &path, ByteSource &source) {
  const uint64_t total = source.size();
  if (total < 8)
    fail(path, "is truncated: " + std::to_string(total) +
                   " bytes, fewer than the 8-byte header length");
  unsigned char bytes[8];
  if (!source.read(0, 8, bytes))
    fail(path, "cannot be read");
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = length << 8 | bytes[i];
  if (length > total - 8)
    fail(path, "is truncated or corrupt: its header claims " +
                   std::to_string(length) + " bytes, but only " +
                   std::to_string(total - 8) + " follow");
  if (length > kMaxHeaderBytes)
    fail(path, "has a header of " + std::to_string(length) +
                   " bytes, more than the format's limit of " +
                   std::to_string(kMaxHeaderBytes));
  return length;
}

/// Parses the header text into a JSON object, refusing duplicate names
/// (which JSON parsers would silently merge).
json parseHeader(const std::string &path, const std::string &text) {
  if (text.empty() || text[0] != '{')
    fail(path, "has a header that does not begin with '{'");
  std::string duplicate;
  std::set<std::string> names;
  json header;
  try {
    header = json::parse(text, [&](int depth, json::parse_event_t event,
                                   json &parsed) {
      if (depth == 1 && event == json::parse_event_t::key &&
          !names.insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
      return true;
    });
  } catch (const json::exception &e) {
    fail(path, std::string("has a corrupt JSON header: ") + e.what());
  }
  if (!header.is_object())
    fail(path, "has a header that is not a JSON object");
  if (!duplicate.empty())
    failTensor(path, duplicate, "appears twice in the header");
  return header;
}

/// The optional "__metadata__" entry: a map from strings to strings.
void checkMetadata(const std::string &path, const json &metadata) {
  if (!metadata.is_object())
    fail(path, "has a __metadata__ entry that is not a JSON object");
  for (const auto &[key, value] : metadata.items())
    if (!value.is_string())
      fail(path,
           "has a __metadata__ value for '" + key + "' that is not a string");
}

DType checkDtype(const std::string &path, const std::string &name,
                 const json &info) {
  auto it = info.find("dtype");
  if (it == info.end() || !it->is_string())
    failTensor(path, name, "has no dtype string");
  const std::string &dtype = it->get_ref<const std::string &>();
  if (dtype == "F32")
    return DType::F32;
  if (dtype == "I32")
    return DType::I32;
  failTensor(path, name, "has dtype " + dtype + "; attnc reads F32 and I32");
}

/// The shape, each dimension a non-negative JSON integer, with at most
/// kMaxElements elements in all.
std::vector<int64_t> checkShape(const std::string &path,
                                const std::string &name, const json &info) {
  auto it = info.find("shape");
  if (it == info.end() || !it->is_array())
    failTensor(path, name, "has no shape array");
  std::vector<int64_t> shape;
  uint64_t elements = 1;
  for (const json &dimension : *it) {
    std::optional<uint64_t> size = unsignedInteger(dimension);
    if (!size)
      failTensor(path, name,
                 "has shape " + it->dump() + ", whose dimension " +
                     dimension.dump() + " is not a non-negative integer");
    if (*size > kMaxElements)
      failTensor(path, name,
                 "has shape " + it->dump() + ", whose dimension " +
                     std::to_string(*size) + " exceeds attnc's limit of " +
                     std::to_string(kMaxElements) + " elements per tensor");
    shape.push_back(int64_t(*size));
    elements *= *size; // Both factors are at most 2^31: no overflow.
    if (elements > kMaxElements)
      failTensor(path, name,
                 "has shape " + it->dump() +
                     ", more elements than attnc's limit of " +
                     std::to_string(kMaxElements) + " per tensor");
  }
  return shape;
}

/// The number of elements of a shape checkShape accepted.
uint64_t elementCount(const std::vector<int64_t> &shape) {
  uint64_t count = 1;
  for (int64_t d : shape)
    count *= uint64_t(d);
  return count;
}

/// Checks one tensor's header entry against the data's size.
Entry checkEntry(const std::string &path, const std::string &name,
                 const json &info, uint64_t dataSize) {
  if (!info.is_object())
    failTensor(path, name, "has a header entry that is not a JSON object");
  Entry entry{name, checkDtype(path, name, info), checkShape(path, name, info),
              0, 0};
  auto it = info.find("data_offsets");
  if (it == info.end() || !it->is_array() || it->size() != 2)
    failTensor(path, name, "has no data_offsets pair [begin, end]");
  std::optional<uint64_t> begin = unsignedInteger((*it)[0]);
  std::optional<uint64_t> end = unsignedInteger((*it)[1]);
  if (!begin || !end)
    failTensor(path, name,
               "has data_offsets " + it->dump() +
                   ", which are not two non-negative integers");
  if (*begin > *end)
    failTensor(path, name,
               "has data_offsets " + it->dump() +
                   " that end before they begin");
  if (*end > dataSize)
    failTensor(path, name,
               "ends at byte " + std::to_string(*end) +
                   " of the data, which has only " + std::to_string(dataSize) +
                   ": the file is truncated");
  uint64_t expected = elementCount(entry.shape) * kElementBytes;
  if (*end - *begin != expected)
    failTensor(path, name,
               "of shape " + shapeString(entry.shape) + " needs " +
                   std::to_string(expected) +
                   " bytes, but its data_offsets span " +
                   std::to_string(*end - *begin));
  entry.begin = *begin;
  entry.end = *end;
  return entry;
}

std::string byteRange(const Entry &entry) {
  return "bytes [" + std::to_string(entry.begin) + ", " +
         std::to_string(entry.end) + ")";
}

/// Sorts `entries` by offset and checks that they tile the data exactly:
/// the first begins at 0, each begins where the one before it ends, and the
/// last ends at the end of the data (no overlaps, holes or trailing bytes).
void checkLayout(const std::string &path, std::vector<Entry> &entries,
                 uint64_t dataSize) {
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t position = 0;
  const Entry *previous = nullptr;
  for (const Entry &entry : entries) {
    if (entry.begin < position)
      failTensor(path, entry.name,
                 "(" + byteRange(entry) + " of the data) overlaps tensor '" +
                     previous->name + "' (" + byteRange(*previous) + ")");
    if (entry.begin > position)
      failTensor(path, entry.name,
                 "begins at byte " + std::to_string(entry.begin) +
                     " of the data, leaving bytes [" +
                     std::to_string(position) + ", " +
                     std::to_string(entry.begin) +
                     ") unused: the data must hold the tensors back to back");
    position = entry.end;
    previous = &entry;
  }
  if (position != dataSize)
    fail(path, "has " + std::to_string(dataSize - position) +
                   " bytes of data after the last tensor" +
                   (previous ? " ('" + previous->name + "')" : std::string()) +
                   ": the data must end where the last tensor does");
}

/// "[1, 2]": the row-major index of flat element `flat` of `shape`.
std::string indexString(const std::vector<int64_t> &shape, uint64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    index[i] = int64_t(flat % uint64_t(shape[i]));
    flat /= uint64_t(shape[i]);
  }
  return shapeString(index);
}

/// Whether any of `count` floats is NaN or Inf (all exponent bits set): a
/// branch-free pass that vectorizes, so finite weights cost one quick read.
bool anyNonFinite(const float *values, int64_t count) {
  uint32_t found = 0;
  for (int64_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &values[i], 4);
    found |= uint32_t((bits & 0x7f800000u) == 0x7f800000u);
  }
  return found != 0;
}

/// Refuses NaN and Inf in an F32 tensor: they would not fail later, only
/// give wrong outputs.
void checkFinite(const std::string &path, const Entry &entry,
                 const Tensor &tensor) {
  const float *values = tensor.f32Data();
  if (!anyNonFinite(values, tensor.numel()))
    return;
  for (int64_t i = 0; i < tensor.numel(); ++i)
    if (!std::isfinite(values[i]))
      failTensor(path, entry.name,
                 "holds " +
                     std::string(std::isnan(values[i]) ? "NaN"
                                 : values[i] > 0       ? "+Inf"
                                                       : "-Inf") +
                     " at " + indexString(entry.shape, uint64_t(i)) +
                     "; weights must be finite");
}

/// Allocates and reads one checked tensor.
Tensor readTensor(const std::string &path, const Entry &entry,
                  ByteSource &source, uint64_t dataStart) {
  Tensor tensor(entry.dtype, entry.shape);
  void *target = entry.dtype == DType::F32
                     ? static_cast<void *>(tensor.f32Data())
                     : static_cast<void *>(tensor.i32Data());
  uint64_t count = entry.end - entry.begin;
  if (count && !source.read(dataStart + entry.begin, count, target))
    failTensor(path, entry.name, "cannot be read");
  if (entry.dtype == DType::F32)
    checkFinite(path, entry, tensor);
  return tensor;
}

/// The one reader behind load and parse: checks the whole header, then
/// allocates and reads the tensors in file order.
std::map<std::string, Tensor> readTensors(const std::string &path,
                                          ByteSource &source) {
  const uint64_t headerLength = readHeaderLength(path, source);
  std::string headerText(size_t(headerLength), '\0');
  if (!source.read(8, headerLength, headerText.data()))
    fail(path, "cannot be read");
  json header = parseHeader(path, headerText);
  const uint64_t dataStart = 8 + headerLength;
  const uint64_t dataSize = source.size() - dataStart;
  std::vector<Entry> entries;
  for (const auto &[name, info] : header.items()) {
    if (name == "__metadata__")
      checkMetadata(path, info);
    else
      entries.push_back(checkEntry(path, name, info, dataSize));
  }
  checkLayout(path, entries, dataSize);
  std::map<std::string, Tensor> tensors;
  for (const Entry &entry : entries)
    tensors.emplace(entry.name, readTensor(path, entry, source, dataStart));
  return tensors;
}

} // namespace

Weights Weights::load(const std::string &path) {
  FileSource source(path);
  Weights weights;
  weights.file = path;
  weights.tensors = readTensors(path, source);
  return weights;
}

Weights Weights::parse(const std::string &name, std::string_view bytes) {
  MemorySource source(bytes);
  Weights weights;
  weights.file = name;
  weights.tensors = readTensors(name, source);
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
