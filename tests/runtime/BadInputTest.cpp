//===- BadInputTest.cpp - Every bad input is a clear error ----------------===//
//
// Missing or misshaped tensors, corrupt and truncated weights files, a
// model/weights mismatch, sequences longer than max_len, token ids outside
// the vocabulary, and wrongly shaped inputs each throw attnc::Error whose
// text names the tensor and the shapes; none crashes. Malformed safetensors
// headers (huge or overflowing shapes, fractional numbers, overlapping or
// gapped byte ranges, non-finite values) are written by small helpers here,
// and each is refused before anything is allocated.
//
//===----------------------------------------------------------------------===//

#include "ErrorText.h"
#include "TempFile.h"
#include "attnc/Runtime.h"
#include "attnc/attnc.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include <sys/resource.h>

extern "C" const attnc_registry tiny_registry__host;
extern "C" const attnc_registry attention_registry__host;
extern "C" const attnc_registry tiny_weights_registry__host;

using namespace attnc;
using attnc::test::errorOf;
using attnc::test::tempPath;

namespace {

const std::string kWeights = ATTNC_GOLDEN_DIR "/tiny.safetensors";

/// The golden weights with `edit` applied, saved to a temporary file.
template <class F>
std::string editedWeights(const std::string &name, F &&edit) {
  Weights weights = Weights::load(kWeights);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const std::string &n : weights.names())
    tensors.emplace_back(n, weights.get(n));
  edit(tensors);
  std::string path = tempPath(name);
  Weights::save(path, tensors);
  return path;
}

std::string fileBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

/// A safetensors file: the 8-byte length of `header`, `header`, `data`.
std::string safetensors(const std::string &header, const std::string &data) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[i] = char(uint64_t(header.size()) >> (8 * i) & 0xff);
  return bytes + header + data;
}

/// Writes a safetensors file with `header` and `data` to a temporary path.
std::string writeSafetensors(const std::string &name, const std::string &header,
                             const std::string &data = "") {
  std::string path = tempPath(name);
  writeBytes(path, safetensors(header, data));
  return path;
}

/// `count` F32 ones, as raw little-endian bytes.
std::string ones(size_t count) {
  std::string bytes(count * 4, '\0');
  const float one = 1.0f;
  for (size_t i = 0; i < count; ++i)
    std::memcpy(&bytes[i * 4], &one, 4);
  return bytes;
}

/// A header entry: "name":{"dtype":...,"shape":...,"data_offsets":...}.
std::string entry(const std::string &name, const std::string &shape,
                  const std::string &offsets,
                  const std::string &dtype = "F32") {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":" + offsets + "}";
}

/// The error loading a safetensors file with `header` and `data` gives.
std::string loadError(const std::string &name, const std::string &header,
                      const std::string &data = "") {
  std::string path = writeSafetensors(name, header, data);
  return errorOf([&] { Weights::load(path); });
}

/// The process's peak resident memory, in KiB.
long peakResidentKiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

Model &tiny() {
  static Model m = Model::load(tiny_registry__host, Weights::load(kWeights));
  return m;
}

TEST(BadInput, MissingWeightsFile) {
  EXPECT_EQ(errorOf([] { Weights::load("/nonexistent/w.safetensors"); }),
            "weights file '/nonexistent/w.safetensors': cannot be opened");
}

TEST(BadInput, MissingTensor) {
  std::string path = editedWeights("missing.safetensors", [](auto &tensors) {
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                                 [](auto &t) {
                                   return t.first ==
                                          "decoder.layers.1.linear2.bias";
                                 }),
                  tensors.end());
  });
  EXPECT_EQ(
      errorOf([&] { Model::load(tiny_registry__host, Weights::load(path)); }),
      "weights file '" + path +
          "' has no tensor 'decoder.layers.1.linear2.bias', which model "
          "'tiny' needs as f32 [64]");
}

TEST(BadInput, MisshapedTensor) {
  std::string path = editedWeights("misshaped.safetensors", [](auto &tensors) {
    for (auto &t : tensors)
      if (t.first == "encoder.layers.0.linear1.weight")
        t.second = Tensor(DType::F32, {128, 63});
  });
  EXPECT_EQ(
      errorOf([&] { Model::load(tiny_registry__host, Weights::load(path)); }),
      "tensor 'encoder.layers.0.linear1.weight' in weights file '" + path +
          "' is f32 [128, 63], but model 'tiny' needs f32 [128, 64]");
}

TEST(BadInput, WeightsOfAnotherModel) {
  // A d_model 32 model's embedding table: the first tensor checked differs.
  std::string path = editedWeights("other.safetensors", [](auto &tensors) {
    for (auto &t : tensors)
      if (t.first == "src_embed.weight")
        t.second = Tensor(DType::F32, {20, 32});
  });
  EXPECT_NE(
      errorOf([&] { Model::load(tiny_registry__host, Weights::load(path)); })
          .find("tensor 'src_embed.weight' in weights file '" + path +
                "' is f32 [20, 32], but model 'tiny' needs f32 [20, 64]"),
      std::string::npos);
}

TEST(BadInput, UnknownModelName) {
  // Model::load's optional model name must be one of the registry's.
  EXPECT_EQ(errorOf([] {
              Model::load(tiny_registry__host, Weights::load(kWeights),
                          "tiny_bf16");
            }),
            "registry 'tiny' has no model 'tiny_bf16'; it has tiny");
  Model named =
      Model::load(tiny_registry__host, Weights::load(kWeights), "tiny");
  EXPECT_EQ(named.functions(),
            (std::vector<std::string>{"tiny_decode", "tiny_encode"}));
}

TEST(BadInput, TruncatedWeightsFile) {
  std::string bytes = fileBytes(kWeights);
  std::string path = tempPath("truncated.safetensors");
  writeBytes(path, bytes.substr(0, bytes.size() - 1000));
  EXPECT_NE(
      errorOf([&] { Weights::load(path); }).find("of the data, which has only"),
      std::string::npos);
  writeBytes(path, bytes.substr(0, 5));
  EXPECT_EQ(
      errorOf([&] { Weights::load(path); }),
      "weights file '" + path +
          "': is truncated: 5 bytes, fewer than the 8-byte header length");
  writeBytes(path, bytes.substr(0, 100));
  EXPECT_NE(errorOf([&] {
              Weights::load(path);
            }).find("is truncated or corrupt: its header claims"),
            std::string::npos);
}

TEST(BadInput, CorruptWeightsFile) {
  std::string bytes = fileBytes(kWeights);
  std::string path = tempPath("corrupt.safetensors");
  bytes[bytes.find(':')] = '#'; // The header's first key/value separator.
  writeBytes(path, bytes);
  EXPECT_NE(
      errorOf([&] { Weights::load(path); }).find("has a corrupt JSON header"),
      std::string::npos);
}

TEST(BadInput, UnsupportedDtype) {
  std::string header =
      R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})";
  std::string bytes(8, '\0');
  bytes[0] = char(header.size());
  std::string path = tempPath("f64.safetensors");
  writeBytes(path, bytes + header + std::string(16, '\0'));
  EXPECT_EQ(errorOf([&] { Weights::load(path); }),
            "weights file '" + path +
                "': tensor 'w' has dtype F64; attnc reads F32, I32, BF16, F16 "
                "and I8");
}

TEST(BadInput, HeaderIsCheckedBeforeAllocating) {
  // An 85-byte file whose tensor claims 1 GiB: refused as truncated without
  // allocating (and zero-filling) that gibibyte first.
  long before = peakResidentKiB();
  std::string path = writeSafetensors(
      "claims_1gib.safetensors",
      "{" + entry("w", "[16384,16384]", "[0,1073741824]") + "}", ones(1));
  EXPECT_EQ(errorOf([&] { Weights::load(path); }),
            "weights file '" + path +
                "': tensor 'w' ends at byte 1073741824 of the data, which has "
                "only 4: the file is truncated");
  EXPECT_LT(peakResidentKiB() - before, 256L << 10)
      << "loading an 85-byte file raised the peak resident memory by GiBs";
}

TEST(BadInput, HugeShapeIsAnErrorNotBadAlloc) {
  // 2^40 elements (std::bad_alloc before) and 2^62 (std::length_error).
  EXPECT_NE(loadError("huge.safetensors",
                      "{" + entry("w", "[1048576,1048576]", "[0,4]") + "}",
                      ones(1))
                .find("tensor 'w' has shape [1048576,1048576], more elements "
                      "than attnc's limit of 2147483648 per tensor"),
            std::string::npos);
  EXPECT_NE(
      loadError("huger.safetensors",
                "{" + entry("w", "[2147483648,2147483648]", "[0,4]") + "}",
                ones(1))
          .find("tensor 'w' has shape [2147483648,2147483648], more "
                "elements than attnc's limit"),
      std::string::npos);
}

TEST(BadInput, ShapeProductOverflow) {
  // 2^64 elements wrapped to 0 in int64: the tensor loaded as empty.
  EXPECT_NE(
      loadError("overflow.safetensors",
                "{" + entry("w", "[65536,65536,65536,65536]", "[0,0]") + "}")
          .find("tensor 'w' has shape [65536,65536,65536,65536], more "
                "elements than attnc's limit"),
      std::string::npos);
  EXPECT_EQ(errorOf([] {
              Tensor(DType::F32, {65536, 65536, 65536, 65536});
            }),
            "shape [65536, 65536, 65536, 65536] has more elements than a "
            "tensor can hold");
  EXPECT_EQ(errorOf([] {
              Tensor::view(DType::F32, {1L << 62, 4}, nullptr);
            }),
            "shape [4611686018427387904, 4] has more elements than a tensor "
            "can hold");
  // Empty, however large the other dimensions.
  EXPECT_EQ(Tensor(DType::F32, {1L << 62, 4, 0}).numel(), 0);
}

TEST(BadInput, FractionalDimension) {
  // Read as 128 before, giving a [128] tensor.
  EXPECT_EQ(loadError("fraction.safetensors",
                      "{" + entry("w", "[128.7]", "[0,512]") + "}", ones(128)),
            "weights file '" + tempPath("fraction.safetensors") +
                "': tensor 'w' has shape [128.7], whose dimension 128.7 is "
                "not a non-negative integer");
  EXPECT_NE(
      loadError("negative.safetensors", "{" + entry("w", "[-4]", "[0,0]") + "}")
          .find("whose dimension -4 is not a non-negative integer"),
      std::string::npos);
}

TEST(BadInput, FractionalOffsets) {
  EXPECT_EQ(loadError("offsets.safetensors",
                      "{" + entry("w", "[4]", "[0.5,16.5]") + "}", ones(4)),
            "weights file '" + tempPath("offsets.safetensors") +
                "': tensor 'w' has data_offsets [0.5,16.5], which are not two "
                "non-negative integers");
}

TEST(BadInput, OverlappingTensors) {
  // Both loaded before, sharing bytes 8 to 16.
  EXPECT_EQ(loadError("overlap.safetensors",
                      "{" + entry("a", "[4]", "[0,16]") + "," +
                          entry("b", "[4]", "[8,24]") + "}",
                      ones(6)),
            "weights file '" + tempPath("overlap.safetensors") +
                "': tensor 'b' (bytes [8, 24) of the data) overlaps tensor "
                "'a' (bytes [0, 16))");
  EXPECT_NE(loadError("same.safetensors",
                      "{" + entry("a", "[4]", "[0,16]") + "," +
                          entry("b", "[2,2]", "[0,16]") + "}",
                      ones(4))
                .find("tensor 'b' (bytes [0, 16) of the data) overlaps tensor "
                      "'a'"),
            std::string::npos);
}

TEST(BadInput, TensorsMustTileTheData) {
  std::string a = entry("a", "[4]", "[0,16]");
  EXPECT_NE(loadError("hole.safetensors",
                      "{" + a + "," + entry("b", "[4]", "[20,36]") + "}",
                      ones(9))
                .find("tensor 'b' begins at byte 20 of the data, leaving "
                      "bytes [16, 20) unused"),
            std::string::npos);
  EXPECT_NE(loadError("late.safetensors",
                      "{" + entry("a", "[4]", "[4,20]") + "}", ones(5))
                .find("tensor 'a' begins at byte 4 of the data, leaving bytes "
                      "[0, 4) unused"),
            std::string::npos);
  EXPECT_NE(loadError("trailing.safetensors", "{" + a + "}", ones(5))
                .find("has 4 bytes of data after the last tensor ('a')"),
            std::string::npos);
  EXPECT_NE(loadError("empty.safetensors", "{}", ones(1))
                .find("has 4 bytes of data after the last tensor:"),
            std::string::npos);
}

TEST(BadInput, DuplicateTensorName) {
  // JSON parsers keep the last duplicate; the first one's bytes would be
  // silently ignored.
  std::string a = entry("a", "[4]", "[0,16]");
  EXPECT_EQ(
      loadError("duplicate.safetensors", "{" + a + "," + a + "}", ones(4)),
      "weights file '" + tempPath("duplicate.safetensors") +
          "': tensor 'a' appears twice in the header");
}

TEST(BadInput, MalformedHeaderEntries) {
  struct Case {
    std::string header, error;
  };
  std::vector<Case> cases = {
      {" {}", "has a header that does not begin with '{'"},
      {"{\"a\":4}", "tensor 'a' has a header entry that is not a JSON object"},
      {"{\"a\":{\"shape\":[],\"data_offsets\":[0,4]}}",
       "tensor 'a' has no dtype string"},
      {"{" + entry("a", "\"4\"", "[0,16]") + "}",
       "tensor 'a' has no shape array"},
      {"{" + entry("a", "[\"4\"]", "[0,16]") + "}",
       "whose dimension \"4\" is not a non-negative integer"},
      {"{" + entry("a", "[4e0]", "[0,16]") + "}",
       "whose dimension 4.0 is not a non-negative integer"},
      {"{" + entry("a", "[4]", "[0,16,32]") + "}",
       "tensor 'a' has no data_offsets pair [begin, end]"},
      {"{" + entry("a", "[4]", "[-16,0]") + "}",
       "which are not two non-negative integers"},
      {"{" + entry("a", "[4]", "[16,0]") + "}",
       "has data_offsets [16,0] that end before they begin"},
      {"{" + entry("a", "[4]", "[0,18446744073709551616]") + "}",
       "which are not two non-negative integers"},
      {"{" + entry("a", "[3]", "[0,16]") + "}",
       "tensor 'a' of shape [3] needs 12 bytes, but its data_offsets span 16"},
      {"{\"__metadata__\":{\"format\":4}," + entry("a", "[4]", "[0,16]") + "}",
       "has a __metadata__ value for 'format' that is not a string"},
  };
  for (const Case &c : cases)
    EXPECT_NE(
        loadError("malformed.safetensors", c.header, ones(4)).find(c.error),
        std::string::npos)
        << c.header << " gives "
        << loadError("malformed.safetensors", c.header, ones(4));
}

TEST(BadInput, NonFiniteWeights) {
  // NaN or Inf in a weight gave finite, wrong outputs and no error.
  std::string path = editedWeights("nan.safetensors", [](auto &tensors) {
    for (auto &t : tensors)
      if (t.first == "encoder.layers.0.linear1.weight")
        t.second.f32Data()[3 * 64 + 5] =
            std::numeric_limits<float>::quiet_NaN();
  });
  EXPECT_EQ(errorOf([&] { Weights::load(path); }),
            "weights file '" + path +
                "': tensor 'encoder.layers.0.linear1.weight' holds NaN at [3, "
                "5]; weights must be finite");
  path = editedWeights("inf.safetensors", [](auto &tensors) {
    for (auto &t : tensors)
      if (t.first == "decoder.layers.1.self_attn.in_proj_weight")
        t.second.f32Data()[64] = -std::numeric_limits<float>::infinity();
  });
  EXPECT_EQ(errorOf([&] { Weights::load(path); }),
            "weights file '" + path +
                "': tensor 'decoder.layers.1.self_attn.in_proj_weight' holds "
                "-Inf at [1, 0]; weights must be finite");
}

TEST(BadInput, ValidEdgeCasesLoad) {
  // Empty and 0-rank tensors, I32, metadata, and space padding are valid.
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}," +
                       entry("empty", "[0,3]", "[4,4]") + "," +
                       entry("scalar", "[]", "[0,4]") + "," +
                       entry("ids", "[2]", "[4,12]", "I32") + "}   ";
  std::string path = writeSafetensors("edge.safetensors", header, ones(3));
  Weights weights = Weights::load(path);
  EXPECT_EQ(weights.names(),
            (std::vector<std::string>{"empty", "ids", "scalar"}));
  EXPECT_EQ(weights.get("empty").numel(), 0);
  EXPECT_EQ(weights.get("scalar").f32Data()[0], 1.0f);
  EXPECT_EQ(weights.get("ids").i32Data()[1], 0x3f800000);
}

TEST(BadInput, ParseReadsMemoryLikeLoad) {
  Weights fromFile = Weights::load(kWeights);
  Weights fromMemory = Weights::parse("in memory", fileBytes(kWeights));
  ASSERT_EQ(fromMemory.names(), fromFile.names());
  for (const std::string &name : fromFile.names()) {
    const Tensor &a = fromFile.get(name), &b = fromMemory.get(name);
    ASSERT_EQ(a.describe(), b.describe()) << name;
    EXPECT_EQ(std::memcmp(a.f32Data(), b.f32Data(), size_t(a.numel()) * 4), 0)
        << name;
  }
  EXPECT_EQ(fromMemory.path(), "in memory");
  EXPECT_EQ(errorOf([] {
              Weights::parse(
                  "buffer",
                  safetensors("{" + entry("w", "[128.7]", "[0,512]") + "}",
                              ones(128)));
            }),
            "weights file 'buffer': tensor 'w' has shape [128.7], whose "
            "dimension 128.7 is not a non-negative integer");
}

TEST(BadInput, SequenceLongerThanMaxLen) {
  Tensor tokens(DType::I32, {1, 65});
  EXPECT_EQ(errorOf([&] {
              tiny().run("tiny_encode",
                         {{"src_tokens", tokens},
                          {"src_lengths", Tensor::i32({1}, {65})}});
            }),
            "input 'src_tokens' of tiny_encode holds 65 positions, more than "
            "the model's max_len of 64");
}

TEST(BadInput, TokenOutsideTheVocabulary) {
  EXPECT_EQ(errorOf([&] {
              tiny().run("tiny_encode",
                         {{"src_tokens", Tensor::i32({1, 3}, {4, 20, 5})},
                          {"src_lengths", Tensor::i32({1}, {3})}});
            }),
            "input 'src_tokens' holds token id 20 at [0, 1], outside the "
            "vocabulary [0, 20)");
}

TEST(BadInput, MisshapedInput) {
  EXPECT_EQ(errorOf([&] {
              tiny().run("tiny_decode",
                         {{"tgt_tokens", Tensor::i32({1, 2}, {1, 4})},
                          {"tgt_lengths", Tensor::i32({1}, {2})},
                          {"memory", Tensor(DType::F32, {1, 3, 32})},
                          {"src_lengths", Tensor::i32({1}, {3})}});
            }),
            "input 'memory' of tiny_decode is f32 [1, 3, 32], expected f32 "
            "[?, ?, 64] (? is any size)");
  EXPECT_EQ(errorOf([&] {
              tiny().run(
                  "tiny_encode",
                  {{"src_tokens", Tensor::i32({2, 3}, {4, 4, 4, 4, 4, 4})},
                   {"src_lengths", Tensor::i32({3}, {3, 3, 3})}});
            }),
            "input 'src_lengths' of tiny_encode is i32 [3], but 'src_tokens' "
            "has batch 2");
  EXPECT_EQ(errorOf([&] {
              tiny().run("tiny_encode",
                         {{"src_tokens", Tensor::i32({1, 2}, {4, 4})},
                          {"src_lengths", Tensor::i32({1}, {3})}});
            }),
            "input 'src_lengths' gives sequence 0 length 3, outside [0, 2] for "
            "i32 [1, 2]");
}

TEST(BadInput, KeyLengthsLongerThanTheKeys) {
  // A stand-alone attention block (tests/kernels/attention.attn): its
  // kv_lengths must fit the keys it is given, or the kernel would read
  // past them.
  std::string path = tempPath("bad_kv_lengths.st");
  Weights::save(path, syntheticWeights(attention_registry__host));
  Model model = Model::load(attention_registry__host, Weights::load(path));
  Tensor q(DType::F32, {2, 3, 4 * 80}), kv(DType::F32, {2, 5, 80});
  auto errorWithLengths = [&](std::vector<int32_t> lengths) {
    return errorOf([&] {
      model.run("padded_gqa4_d80", {{"query", q},
                                    {"key", kv},
                                    {"value", kv},
                                    {"kv_lengths", Tensor::i32({2}, lengths)}});
    });
  };
  EXPECT_EQ(errorWithLengths({5, 6}),
            "input 'kv_lengths' gives sequence 1 length 6, outside [0, 5] for "
            "f32 [2, 5, 80]");
  EXPECT_EQ(errorWithLengths({5, 0}), "");
}

TEST(BadInput, KeysAndValuesOfDifferentLengths) {
  std::string path = tempPath("bad_kv_pairs.st");
  Weights::save(path, syntheticWeights(attention_registry__host));
  Model model = Model::load(attention_registry__host, Weights::load(path));
  Tensor q(DType::F32, {2, 3, 4 * 80}), k(DType::F32, {2, 5, 80}),
      v(DType::F32, {2, 4, 80});
  EXPECT_EQ(errorOf([&] {
              model.run("padded_gqa4_d80",
                        {{"query", q},
                         {"key", k},
                         {"value", v},
                         {"kv_lengths", Tensor::i32({2}, {5, 4})}});
            }),
            "input 'value' holds 4 positions (f32 [2, 4, 80]), but 'key' "
            "holds 5 (f32 [2, 5, 80]); keys and values pair up");
}

TEST(BadInput, MissingOrUnknownInput) {
  EXPECT_EQ(
      errorOf([&] {
        tiny().run("tiny_encode", {{"src_tokens", Tensor::i32({1, 1}, {4})}});
      }),
      "function tiny_encode needs input 'src_lengths' (i32 [?])");
  EXPECT_EQ(errorOf([&] {
              tiny().run("tiny_encode",
                         {{"src_tokens", Tensor::i32({1, 1}, {4})},
                          {"src_lengths", Tensor::i32({1}, {1})},
                          {"source", Tensor::i32({1}, {1})}});
            }),
            "function tiny_encode has no input 'source'; its inputs are "
            "src_tokens, src_lengths");
  EXPECT_EQ(errorOf([&] { tiny().run("tiny_forward", {}); }),
            "model 'tiny' has no function 'tiny_forward'; it has tiny_decode, "
            "tiny_encode");
}

TEST(BadInput, DecodeOptions) {
  DecodeOptions options;
  options.maxSteps = 65;
  EXPECT_EQ(errorOf([&] {
              tiny().greedyDecode(Tensor::i32({1, 1}, {4}),
                                  Tensor::i32({1}, {1}), options);
            }),
            "maxSteps 65 exceeds the model's max_len of 64");
  options.maxSteps = 4;
  options.collect = {"attention"};
  EXPECT_EQ(errorOf([&] {
              tiny().greedyDecode(Tensor::i32({1, 1}, {4}),
                                  Tensor::i32({1}, {1}), options);
            }),
            "function tiny_decode has no output 'attention' to collect");
}

TEST(BadInput, Prompts) {
  auto decodeWith = [](std::vector<std::vector<int32_t>> prompts,
                       int64_t maxSteps = 4) {
    DecodeOptions options;
    options.maxSteps = maxSteps;
    options.prompts = std::move(prompts);
    return errorOf([&] {
      tiny().greedyDecode(Tensor::i32({2, 1}, {4, 5}), Tensor::i32({2}, {1, 1}),
                          options);
    });
  };
  EXPECT_EQ(decodeWith({{1}}),
            "options.prompts holds 1 sequences, but the batch has 2");
  EXPECT_EQ(decodeWith({{1}, {}}), "options.prompts[1] is empty; a prompt "
                                   "holds at least one token");
  EXPECT_EQ(decodeWith({{1, 3}, {1, 20}}),
            "options.prompts[1][1] is token id 20, outside the vocabulary "
            "[0, 20)");
  EXPECT_EQ(decodeWith({{1, 3, 4}, {1}}, 63),
            "the longest prompt (3 tokens) minus one plus maxSteps 65 exceeds "
            "the model's max_len of 64");
  EXPECT_EQ(decodeWith({{1, 3}, {1}}, 63), "");
  DecodeOptions options;
  options.prompts = {{1}};
  EXPECT_EQ(errorOf([&] { tiny().generate(options); }),
            "model 'tiny' has an encoder: greedyDecode needs its source tokens "
            "(generate is for decoder-only models)");
  EXPECT_EQ(errorOf([&] { tiny().generate(DecodeOptions()); }),
            "generate needs options.prompts: one prompt (at least one token) "
            "per sequence");
}

TEST(BadInput, CApiReportsInsteadOfThrowing) {
  attnc_model *model = nullptr;
  EXPECT_NE(attnc_model_load(&tiny_registry__host, "/nonexistent", &model), 0);
  EXPECT_STREQ(attnc_last_error(),
               "weights file '/nonexistent': cannot be opened");
  ASSERT_EQ(attnc_model_load(&tiny_registry__host, kWeights.c_str(), &model), 0)
      << attnc_last_error();
  int32_t src[] = {4, 99}, lengths[] = {2}, tokens[4];
  int64_t counts[1];
  EXPECT_NE(attnc_model_greedy_decode(model, src, lengths, 1, 2, 1, 2, 4,
                                      tokens, counts),
            0);
  EXPECT_STREQ(attnc_last_error(), "input 'src_tokens' holds token id 99 at "
                                   "[0, 1], outside the vocabulary [0, 20)");
  src[1] = 5;
  EXPECT_EQ(attnc_model_greedy_decode(model, src, lengths, 1, 2, 1, 2, 4,
                                      tokens, counts),
            0)
      << attnc_last_error();
  EXPECT_GE(counts[0], 1);
  attnc_model_free(model);
}

/// attnc_model_run of tiny_encode on the tokens {4, 7, 5}.
int runTinyEncode(attnc_model *model, int numOutputs,
                  const char *const *outNames, float *const *out,
                  const int64_t *capacity, int64_t (*outShapes)[4]) {
  static const char *inNames[] = {"src_tokens", "src_lengths"};
  static const int dtypes[] = {1, 1}, ranks[] = {2, 1};
  static const int64_t tokensShape[] = {1, 3}, lengthsShape[] = {1};
  static const int64_t *shapes[] = {tokensShape, lengthsShape};
  static const int32_t tokens[] = {4, 7, 5}, lengths[] = {3};
  static const void *data[] = {tokens, lengths};
  return attnc_model_run(model, "tiny_encode", 2, inNames, dtypes, ranks,
                         shapes, data, numOutputs, outNames, out, capacity,
                         outShapes);
}

TEST(BadInput, RunIntoTheCallersBuffers) {
  // runInto (and the C API's run, which uses it) writes outputs straight
  // into the caller's memory: the same values as run, checked sizes.
  std::map<std::string, Tensor> inputs = {
      {"src_tokens", Tensor::i32({1, 3}, {4, 7, 5})},
      {"src_lengths", Tensor::i32({1}, {3})}};
  Tensor expected = tiny().run("tiny_encode", inputs).at("memory");
  std::vector<float> memory(size_t(expected.numel()) + 1, -7.0f);
  std::map<std::string, Model::OutputBuffer> outputs = {
      {"memory", {memory.data(), int64_t(memory.size()), {}}}};
  tiny().runInto("tiny_encode", inputs, outputs);
  EXPECT_EQ(outputs.at("memory").shape, expected.shape());
  for (int64_t i = 0; i < expected.numel(); ++i)
    ASSERT_EQ(memory[size_t(i)], expected.f32Data()[i]) << "element " << i;
  EXPECT_EQ(memory.back(), -7.0f); // Nothing past the output.
  EXPECT_EQ(inputs.at("src_tokens").i32Data()[1], 7); // Inputs only read.

  outputs = {{"memory", {memory.data(), expected.numel() - 1, {}}}};
  EXPECT_EQ(errorOf([&] { tiny().runInto("tiny_encode", inputs, outputs); }),
            "output 'memory' of tiny_encode is [1, 3, 64] (192 elements), "
            "larger than its buffer of 191");
  outputs = {{"logits", {memory.data(), int64_t(memory.size()), {}}}};
  EXPECT_EQ(errorOf([&] { tiny().runInto("tiny_encode", inputs, outputs); }),
            "function tiny_encode has no output 'logits'");

  attnc_model *model = nullptr;
  ASSERT_EQ(attnc_model_load(&tiny_registry__host, kWeights.c_str(), &model), 0)
      << attnc_last_error();
  const char *outNames[] = {"memory"};
  float *out[] = {memory.data()};
  int64_t capacity[] = {expected.numel() - 1}, outShapes[1][4];
  EXPECT_NE(runTinyEncode(model, 1, outNames, out, capacity, outShapes), 0);
  EXPECT_STREQ(attnc_last_error(), "output 'memory' of tiny_encode is [1, 3, "
                                   "64] (192 elements), larger than its "
                                   "buffer of 191");
  capacity[0] = expected.numel();
  std::fill(memory.begin(), memory.end(), 0.0f);
  ASSERT_EQ(runTinyEncode(model, 1, outNames, out, capacity, outShapes), 0)
      << attnc_last_error();
  EXPECT_EQ(std::vector<int64_t>(outShapes[0], outShapes[0] + 4),
            (std::vector<int64_t>{1, 3, 64, 0}));
  EXPECT_EQ(memory[5], expected.f32Data()[5]);
  attnc_model_free(model);
}

TEST(BadInput, RunIntoABufferThatIsAlsoAnInput) {
  // Kernels write runInto's outputs in place, except into a buffer that
  // overlaps an input: there the output must still equal run's. Here the
  // keys and values are the start of the output buffer, which batch 0's
  // output would overwrite before batch 1 reads them.
  std::string path = tempPath("run_into_alias.st");
  Weights::save(path, syntheticWeights(attention_registry__host));
  Model model = Model::load(attention_registry__host, Weights::load(path));
  const size_t queries = 2 * 3 * 320, keys = 2 * 5 * 80;
  std::vector<float> q(queries), kv(keys);
  for (size_t i = 0; i < q.size(); ++i)
    q[i] = float(int(i * 7 % 19) - 9) / 9.0f;
  for (size_t i = 0; i < kv.size(); ++i)
    kv[i] = float(int(i * 5 % 17) - 8) / 8.0f;
  auto inputs = [&](float *keysAndValues) {
    return std::map<std::string, Tensor>{
        {"query", Tensor::view(DType::F32, {2, 3, 320}, q.data())},
        {"key", Tensor::view(DType::F32, {2, 5, 80}, keysAndValues)},
        {"value", Tensor::view(DType::F32, {2, 5, 80}, keysAndValues)},
        {"kv_lengths", Tensor::i32({2}, {5, 4})}};
  };
  Tensor expected =
      model.run("padded_gqa4_d80", inputs(kv.data())).at("output");
  ASSERT_EQ(expected.numel(), int64_t(queries));
  std::vector<float> separate(queries, 0.0f), shared(queries, 0.0f);
  std::copy(kv.begin(), kv.end(), shared.begin());
  std::map<std::string, Model::OutputBuffer> outputs = {
      {"output", {separate.data(), int64_t(queries), {}}}};
  model.runInto("padded_gqa4_d80", inputs(kv.data()), outputs);
  outputs = {{"output", {shared.data(), int64_t(queries), {}}}};
  model.runInto("padded_gqa4_d80", inputs(shared.data()), outputs);
  for (size_t i = 0; i < queries; ++i) {
    ASSERT_EQ(separate[i], expected.f32Data()[i]) << "element " << i;
    ASSERT_EQ(shared[i], expected.f32Data()[i]) << "element " << i;
  }
}

TEST(BadInput, RunWithoutKeys) {
  // Zero keys: an empty tensor, whose data pointer may be null. The runtime
  // refuses it, naming the input, through run and runInto alike (a kernel
  // given a null buffer would take it for a Halide bounds query: nothing
  // computed, no error, the caller's buffer left as it was; given a real
  // one, it failed with Halide's "Input buffer key is accessed at 0").
  std::string path = tempPath("run_without_keys.st");
  Weights::save(path, syntheticWeights(attention_registry__host));
  Model model = Model::load(attention_registry__host, Weights::load(path));
  std::vector<float> q(2 * 3 * 320, 0.5f), out(q.size(), -7.0f);
  std::map<std::string, Tensor> inputs = {
      {"query", Tensor::view(DType::F32, {2, 3, 320}, q.data())},
      {"key", Tensor(DType::F32, {2, 0, 80})},
      {"value", Tensor(DType::F32, {2, 0, 80})},
      {"kv_lengths", Tensor::i32({2}, {0, 0})}};
  std::map<std::string, Model::OutputBuffer> outputs = {
      {"output", {out.data(), int64_t(out.size()), {}}}};
  const std::string expected =
      "input 'key' of padded_gqa4_d80 holds no positions (f32 [2, 0, 80]); "
      "attention needs at least one key (give sequences without keys a "
      "length of 0 instead)";
  EXPECT_EQ(errorOf([&] { model.runInto("padded_gqa4_d80", inputs, outputs); }),
            expected);
  EXPECT_EQ(errorOf([&] { model.run("padded_gqa4_d80", inputs); }), expected);
  EXPECT_EQ(out[0], -7.0f); // Nothing written.
  // A decoder's cross-attention over an encoder output of no positions.
  EXPECT_EQ(errorOf([&] {
              tiny().run("tiny_decode",
                         {{"tgt_tokens", Tensor::i32({1, 2}, {1, 4})},
                          {"tgt_lengths", Tensor::i32({1}, {2})},
                          {"memory", Tensor(DType::F32, {1, 0, 64})},
                          {"src_lengths", Tensor::i32({1}, {0})}});
            }),
            "input 'memory' of tiny_decode holds no positions (f32 [1, 0, "
            "64]); attention needs at least one key (give sequences without "
            "keys a length of 0 instead)");
}

TEST(BadInput, CApiOutputNamedTwice) {
  attnc_model *model = nullptr;
  ASSERT_EQ(attnc_model_load(&tiny_registry__host, kWeights.c_str(), &model), 0)
      << attnc_last_error();
  const char *outNames[] = {"memory", "memory"};
  std::vector<float> a(192), b(192);
  float *out[] = {a.data(), b.data()};
  int64_t capacity[] = {192, 192}, outShapes[2][4];
  EXPECT_NE(runTinyEncode(model, 2, outNames, out, capacity, outShapes), 0);
  EXPECT_STREQ(attnc_last_error(), "output 'memory' is named twice");
  attnc_model_free(model);
}

TEST(BadInput, CApiLoadsOneModelOfARegistry) {
  // tiny_weights holds three models: greedy decoding needs one named.
  attnc_model *all = nullptr, *one = nullptr;
  ASSERT_EQ(
      attnc_model_load(&tiny_weights_registry__host, kWeights.c_str(), &all), 0)
      << attnc_last_error();
  int32_t src[] = {4, 5}, lengths[] = {2}, tokens[4];
  int64_t counts[1];
  EXPECT_NE(attnc_model_greedy_decode(all, src, lengths, 1, 2, 1, 2, 4, tokens,
                                      counts),
            0);
  EXPECT_STREQ(attnc_last_error(),
               "registry 'tiny_weights' has several models; name one");
  attnc_model_free(all);
  EXPECT_NE(attnc_model_load_model(&tiny_weights_registry__host,
                                   kWeights.c_str(), "tiny_int4", &one),
            0);
  EXPECT_STREQ(attnc_last_error(),
               "registry 'tiny_weights' has no model 'tiny_int4'; it has "
               "tiny_bf16, tiny_f16, tiny_int8");
  ASSERT_EQ(attnc_model_load_model(&tiny_weights_registry__host,
                                   kWeights.c_str(), "tiny_int8", &one),
            0)
      << attnc_last_error();
  EXPECT_EQ(attnc_model_greedy_decode(one, src, lengths, 1, 2, 1, 2, 4, tokens,
                                      counts),
            0)
      << attnc_last_error();
  EXPECT_GE(counts[0], 1);
  attnc_model_free(one);
}

} // namespace
