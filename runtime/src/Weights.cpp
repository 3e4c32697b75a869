//===- Weights.cpp - Safetensors files, read and written ------------------===//
//
// The format: an 8-byte little-endian header length N, N bytes of JSON
// mapping each tensor name to {dtype, shape, data_offsets: [begin, end]}
// (offsets into the data that follows), and an optional "__metadata__"
// entry. A file and a buffer in memory go through one code path: the whole
// header is checked first (every entry's dtype, shape and byte range, that
// the byte ranges tile the data exactly, as the format requires, and that
// every I8 tensor has its row scales), and only then is anything allocated
// and read. BF16, F16 and I8 tensors become the f32 values they stand for
// (StoredType in Runtime.h), and every f32 value is then checked for NaN and
// Inf. Every problem is an Error naming the file and the tensor;
// docs/runtime.md lists the checks.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/LinearWeights.h"
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
namespace k = attnc::kernels;

namespace {

/// The largest header accepted, as in the reference implementation: larger
/// ones are not weights files, and parsing them would only cost memory.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

/// The most elements one tensor may hold (8 GiB of F32). Keeps every size
/// computation far from overflow and within Halide's 32-bit extents.
constexpr uint64_t kMaxElements = uint64_t(1) << 31;

/// Bytes per element as the file stores it.
uint64_t elementBytes(StoredType type) {
  switch (type) {
  case StoredType::F32:
  case StoredType::I32:
    return 4;
  case StoredType::BF16:
  case StoredType::F16:
    return 2;
  case StoredType::I8:
    return 1;
  }
  return 4;
}

/// The name of the tensor holding I8 tensor `name`'s row scales.
std::string scaleName(const std::string &name) { return name + ".scale"; }

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
  StoredType stored;
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

StoredType checkDtype(const std::string &path, const std::string &name,
                      const json &info) {
  auto it = info.find("dtype");
  if (it == info.end() || !it->is_string())
    failTensor(path, name, "has no dtype string");
  const std::string &dtype = it->get_ref<const std::string &>();
  for (StoredType type : {StoredType::F32, StoredType::I32, StoredType::BF16,
                          StoredType::F16, StoredType::I8})
    if (dtype == storedTypeName(type))
      return type;
  failTensor(path, name,
             "has dtype " + dtype + "; attnc reads F32, I32, BF16, F16 and I8");
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
  uint64_t expected = elementCount(entry.shape) * elementBytes(entry.stored);
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

/// Checks that every I8 tensor has rows and an F32 scale per row.
void checkScales(const std::string &path, const std::vector<Entry> &entries) {
  std::map<std::string, const Entry *> byName;
  for (const Entry &entry : entries)
    byName[entry.name] = &entry;
  for (const Entry &entry : entries) {
    if (entry.stored != StoredType::I8)
      continue;
    if (entry.shape.empty())
      failTensor(path, entry.name,
                 "is I8 without dimensions; an I8 tensor has a scale per row "
                 "(dimension 0)");
    std::vector<int64_t> rows{entry.shape[0]};
    auto it = byName.find(scaleName(entry.name));
    if (it == byName.end())
      failTensor(path, entry.name,
                 "is I8, but the file has no tensor '" + scaleName(entry.name) +
                     "' (F32 " + shapeString(rows) + ") with its row scales");
    const Entry &scale = *it->second;
    if (scale.stored != StoredType::F32 || scale.shape != rows)
      failTensor(path, scale.name,
                 "holds the row scales of I8 tensor '" + entry.name +
                     "' of shape " + shapeString(entry.shape) +
                     " and must be F32 " + shapeString(rows) + ", but is " +
                     storedTypeName(scale.stored) + " " +
                     shapeString(scale.shape));
  }
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

/// Reads `entry`'s bytes as `count` elements of type T.
template <typename T>
std::vector<T> readRaw(const std::string &path, const Entry &entry,
                       ByteSource &source, uint64_t dataStart, int64_t count) {
  std::vector<T> raw(static_cast<size_t>(count));
  if (count && !source.read(dataStart + entry.begin, entry.end - entry.begin,
                            raw.data()))
    failTensor(path, entry.name, "cannot be read");
  return raw;
}

/// Allocates and reads one checked tensor: F32 and I32 as they are, BF16
/// and F16 widened to f32, I8 as f32 integers still to be scaled.
Tensor readTensor(const std::string &path, const Entry &entry,
                  ByteSource &source, uint64_t dataStart) {
  if (entry.stored == StoredType::F32 || entry.stored == StoredType::I32) {
    DType dtype = entry.stored == StoredType::F32 ? DType::F32 : DType::I32;
    Tensor tensor(dtype, entry.shape);
    void *target = dtype == DType::F32 ? static_cast<void *>(tensor.f32Data())
                                       : static_cast<void *>(tensor.i32Data());
    uint64_t count = entry.end - entry.begin;
    if (count && !source.read(dataStart + entry.begin, count, target))
      failTensor(path, entry.name, "cannot be read");
    return tensor;
  }
  Tensor tensor(DType::F32, entry.shape);
  float *values = tensor.f32Data();
  const int64_t count = tensor.numel();
  if (entry.stored == StoredType::I8) {
    std::vector<int8_t> raw =
        readRaw<int8_t>(path, entry, source, dataStart, count);
    std::copy(raw.begin(), raw.end(), values);
    return tensor;
  }
  std::vector<uint16_t> raw =
      readRaw<uint16_t>(path, entry, source, dataStart, count);
  float (*widen)(uint16_t) =
      entry.stored == StoredType::BF16 ? k::bfloat16ToFloat : k::float16ToFloat;
  std::transform(raw.begin(), raw.end(), values, widen);
  return tensor;
}

/// Multiplies each row of the I8 tensor `entry` (read as integers) by its
/// scale, which must be positive.
void applyScales(const std::string &path, const Entry &entry, Tensor &tensor,
                 const Tensor &scales) {
  const int64_t rows = entry.shape[0];
  const int64_t columns = rows ? tensor.numel() / rows : 0;
  float *values = tensor.f32Data();
  for (int64_t row = 0; row < rows; ++row) {
    float scale = scales.f32Data()[row];
    if (!(scale > 0.0f))
      failTensor(path, scaleName(entry.name),
                 "holds " + std::to_string(scale) + " at [" +
                     std::to_string(row) + "]; the scales of I8 tensor '" +
                     entry.name + "' must be positive");
    for (int64_t column = 0; column < columns; ++column)
      values[row * columns + column] *= scale;
  }
}

/// The one reader behind load and parse: checks the whole header, then
/// allocates and reads the tensors in file order, as f32 where they stand
/// for f32 values.
void readTensors(const std::string &path, ByteSource &source,
                 std::map<std::string, Tensor> &tensors,
                 std::map<std::string, StoredType> &stored) {
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
  checkScales(path, entries);
  for (const Entry &entry : entries) {
    tensors.emplace(entry.name, readTensor(path, entry, source, dataStart));
    stored.emplace(entry.name, entry.stored);
  }
  for (const Entry &entry : entries)
    if (entry.stored != StoredType::I32 && entry.stored != StoredType::I8)
      checkFinite(path, entry, tensors.at(entry.name));
  // The scales are part of their I8 tensor, not tensors of their own.
  for (const Entry &entry : entries)
    if (entry.stored == StoredType::I8) {
      applyScales(path, entry, tensors.at(entry.name),
                  tensors.at(scaleName(entry.name)));
      checkFinite(path, entry, tensors.at(entry.name));
    }
  for (const Entry &entry : entries)
    if (entry.stored == StoredType::I8) {
      tensors.erase(scaleName(entry.name));
      stored.erase(scaleName(entry.name));
    }
}

} // namespace

Weights Weights::load(const std::string &path) {
  FileSource source(path);
  Weights weights;
  weights.file = path;
  readTensors(path, source, weights.tensors, weights.stored);
  return weights;
}

Weights Weights::parse(const std::string &name, std::string_view bytes) {
  MemorySource source(bytes);
  Weights weights;
  weights.file = name;
  readTensors(name, source, weights.tensors, weights.stored);
  return weights;
}

namespace {

/// One tensor as a file stores it.
struct Encoded {
  std::string name;
  StoredType type;
  std::vector<int64_t> shape;
  std::vector<char> bytes;
};

template <typename T> std::vector<char> bytesOf(const T *values, size_t count) {
  const char *begin = reinterpret_cast<const char *>(values);
  return std::vector<char>(begin, begin + count * sizeof(T));
}

/// `tensor` as `type`; an I8 tensor comes with its row scales.
std::vector<Encoded> encode(const std::string &path, const std::string &name,
                            const Tensor &tensor, StoredType type) {
  const size_t count = size_t(tensor.numel());
  if (type == StoredType::F32 || type == StoredType::I32) {
    if ((type == StoredType::F32) != (tensor.dtype() == DType::F32))
      throw Error("cannot write tensor '" + name + "' (" + tensor.describe() +
                  ") to '" + path + "' as " + storedTypeName(type));
    return {{name, type, tensor.shape(),
             type == StoredType::F32 ? bytesOf(tensor.f32Data(), count)
                                     : bytesOf(tensor.i32Data(), count)}};
  }
  if (tensor.dtype() != DType::F32)
    throw Error("cannot write tensor '" + name + "' (" + tensor.describe() +
                ") to '" + path + "' as " + storedTypeName(type) +
                ": only f32 tensors are stored in fewer bytes");
  const float *values = tensor.f32Data();
  if (type == StoredType::BF16 || type == StoredType::F16) {
    std::vector<uint16_t> rounded(count);
    for (size_t i = 0; i < count; ++i) {
      rounded[i] = type == StoredType::BF16 ? k::floatToBFloat16(values[i])
                                            : k::floatToFloat16(values[i]);
      if (type == StoredType::F16 && (rounded[i] & 0x7c00u) == 0x7c00u)
        throw Error("cannot write tensor '" + name + "' to '" + path +
                    "' as F16: it holds " + std::to_string(values[i]) + " at " +
                    indexString(tensor.shape(), i) +
                    ", beyond F16's range (|x| < 65520)");
    }
    return {{name, type, tensor.shape(), bytesOf(rounded.data(), count)}};
  }
  if (tensor.shape().empty())
    throw Error("cannot write tensor '" + name + "' to '" + path +
                "' as I8: it has no rows to scale");
  // The quantizer of the int8 linear kernels, through their packing:
  // panels of kLinearPanelWidth rows, read back row by row.
  const int64_t rows = tensor.shape()[0];
  const int64_t columns = rows ? int64_t(count) / rows : 0;
  const int64_t width = k::kLinearPanelWidth;
  std::vector<int8_t> packed(size_t(k::packedLinearElements(rows, columns)));
  std::vector<float> scales(static_cast<size_t>(rows));
  k::packLinearWeight(values, rows, columns, k::WeightType::I8, packed.data(),
                      scales.data());
  std::vector<int8_t> quantized(count);
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t column = 0; column < columns; ++column)
      quantized[size_t(row * columns + column)] = packed[size_t(
          (row / width * columns + column) * width + row % width)];
  return {{name, type, tensor.shape(), bytesOf(quantized.data(), count)},
          {scaleName(name),
           StoredType::F32,
           {rows},
           bytesOf(scales.data(), scales.size())}};
}

} // namespace

void Weights::save(const std::string &path,
                   const std::vector<std::pair<std::string, Tensor>> &tensors,
                   const std::map<std::string, StoredType> &storedAs) {
  std::vector<Encoded> encoded;
  std::set<std::string> names;
  for (const auto &[name, tensor] : tensors)
    names.insert(name);
  for (const auto &[name, type] : storedAs)
    if (!names.count(name))
      throw Error("cannot write '" + path + "': storedAs names tensor '" +
                  name + "', which is not among the tensors");
  for (const auto &[name, tensor] : tensors) {
    auto it = storedAs.find(name);
    StoredType type = it != storedAs.end()           ? it->second
                      : tensor.dtype() == DType::F32 ? StoredType::F32
                                                     : StoredType::I32;
    if (type == StoredType::I8 && names.count(scaleName(name)))
      throw Error("cannot write tensor '" + name + "' to '" + path +
                  "' as I8: its scales would be named '" + scaleName(name) +
                  "', which is another tensor's name");
    for (Encoded &one : encode(path, name, tensor, type))
      encoded.push_back(std::move(one));
  }
  json header = json::object();
  uint64_t offset = 0;
  for (const Encoded &one : encoded) {
    header[one.name] = {{"dtype", storedTypeName(one.type)},
                        {"shape", one.shape},
                        {"data_offsets", {offset, offset + one.bytes.size()}}};
    offset += one.bytes.size();
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
  for (const Encoded &one : encoded)
    out.write(one.bytes.data(), std::streamsize(one.bytes.size()));
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

StoredType Weights::storedType(const std::string &name) const {
  auto it = stored.find(name);
  if (it == stored.end())
    throw Error("weights file '" + file + "' has no tensor '" + name + "'");
  return it->second;
}

std::vector<std::string> Weights::names() const {
  std::vector<std::string> all;
  for (const auto &entry : tensors)
    all.push_back(entry.first);
  return all;
}
