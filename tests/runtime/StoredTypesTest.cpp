//===- StoredTypesTest.cpp - BF16, F16 and I8 tensors in weights files ----===//
//
// Weights files may store f32 weights in fewer bytes (StoredType): BF16
// and F16 rounded to nearest even, I8 with a scale per row. The format
// tests check values whose rounding is known by hand (ties included) and
// each malformed case's message. The model tests load the golden model's
// linear weights written in each type: the model that stores them in that
// type computes bit for bit what it computes from the f32 file (int8 up to
// its scales' last bit), the f32 model computes what the reduced model
// computes, and a model that stores them in another reduced type refuses
// the file, naming the tensor. Where the bf16 or int8 model's linear
// kernels also round their input to bf16 (AVX-512 BF16,
// usesBF16DotProduct), it is not the f32 model on rounded weights, and that
// comparison is left to WeightTypesTest's bound against PyTorch.
//
//===----------------------------------------------------------------------===//

#include "ErrorText.h"
#include "GoldenCompare.h"
#include "TempFile.h"
#include "attnc/Lowering/LinearWeights.h"
#include "attnc/Runtime.h"

#include "gtest/gtest.h"

#include <cmath>
#include <fstream>

extern "C" const attnc_registry tiny_registry__host;
extern "C" const attnc_registry tiny_weights_registry__host;

using namespace attnc;
using attnc::test::errorOf;
using attnc::test::tempPath;

namespace {

const std::string kGolden = ATTNC_GOLDEN_DIR;

/// Whether `text` contains `part` (and, if not, both).
::testing::AssertionResult contains(const std::string &text,
                                    const std::string &part) {
  if (text.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not contain \"" << part << "\"";
}

int64_t fileSize(const std::string &path) {
  return int64_t(std::ifstream(path, std::ios::binary | std::ios::ate).tellg());
}

/// Saves `values` as one tensor `w` of `shape` stored as `type`, loads it.
Weights roundTrip(const std::string &name, std::vector<int64_t> shape,
                  const std::vector<float> &values, StoredType type) {
  std::string path = tempPath(name);
  Weights::save(path, {{"w", Tensor::f32(std::move(shape), values)}},
                {{"w", type}});
  return Weights::load(path);
}

std::vector<float> valuesOf(const Tensor &tensor) {
  return std::vector<float>(tensor.f32Data(),
                            tensor.f32Data() + tensor.numel());
}

TEST(StoredTypes, BF16AndF16RoundToNearestEven) {
  // bf16 keeps 7 fraction bits (a step of 2^-7 at 1), f16 keeps 10.
  const float b = std::ldexp(1.0f, -7), h = std::ldexp(1.0f, -10);
  Weights bf16 = roundTrip(
      "bf16.safetensors", {6},
      {1.5f, -0.375f, 1 + b / 4, 1 + b * 3 / 4, 1 + b / 2, 1 + b * 3 / 2},
      StoredType::BF16);
  EXPECT_EQ(bf16.storedType("w"), StoredType::BF16);
  EXPECT_EQ(valuesOf(bf16.get("w")),
            (std::vector<float>{1.5f, -0.375f, 1, 1 + b, 1, 1 + 2 * b}));
  // 2^-24 is f16's smallest subnormal; 3 * 2^-25 is a tie between 2^-24
  // and 2 * 2^-24, which goes to the even one.
  const float tiny = std::ldexp(1.0f, -24);
  Weights f16 =
      roundTrip("f16.safetensors", {2, 3},
                {1 + h / 2, 1 + h * 3 / 4, -65504.0f, tiny, tiny * 3 / 2, 0.1f},
                StoredType::F16);
  EXPECT_EQ(f16.storedType("w"), StoredType::F16);
  EXPECT_EQ(valuesOf(f16.get("w")),
            (std::vector<float>{1, 1 + h, -65504.0f, tiny, 2 * tiny,
                                float(0.0999755859375)}));
  EXPECT_EQ(f16.get("w").shape(), (std::vector<int64_t>{2, 3}));
}

TEST(StoredTypes, I8HasAScalePerRow) {
  // Row 0: scale 1/127, 0.5 * 127 = 63.5 rounds to the even 64; row 1:
  // scale 2/127; row 2 is zeros (scale 1).
  Weights weights = roundTrip("i8.safetensors", {3, 3},
                              {0.5f, -1.0f, 0.25f, 2.0f, 0.0f, -1.0f, 0, 0, 0},
                              StoredType::I8);
  EXPECT_EQ(weights.storedType("w"), StoredType::I8);
  EXPECT_EQ(weights.names(), std::vector<std::string>{"w"});
  const float s0 = 1.0f / 127.0f, s1 = 2.0f / 127.0f;
  EXPECT_EQ(valuesOf(weights.get("w")),
            (std::vector<float>{64 * s0, -127 * s0, 32 * s0, 127 * s1, 0,
                                -64 * s1, 0, 0, 0}));
  // One byte per weight and four per row for the scales.
  std::string f32 = tempPath("i8_as_f32.safetensors");
  Weights::save(f32, {{"w", Tensor::f32({64, 64}, std::vector<float>(4096))}});
  std::string i8 = tempPath("i8_as_i8.safetensors");
  Weights::save(i8, {{"w", Tensor::f32({64, 64}, std::vector<float>(4096))}},
                {{"w", StoredType::I8}});
  EXPECT_LT(fileSize(i8) - 4096 - 64 * 4, 200);
  EXPECT_GT(fileSize(f32), 4 * 4096);
}

/// A safetensors file with `header` and `data`.
std::string writeFile(const std::string &name, const std::string &header,
                      const std::string &data) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[i] = char(uint64_t(header.size()) >> (8 * i) & 0xff);
  std::string path = tempPath(name);
  std::ofstream(path, std::ios::binary) << bytes + header + data;
  return path;
}

std::string loadError(const std::string &path) {
  return errorOf([&] { Weights::load(path); });
}

TEST(StoredTypes, MalformedReducedTensorsAreRefused) {
  std::string path =
      writeFile("noscale.safetensors",
                R"({"w":{"dtype":"I8","shape":[2,2],"data_offsets":[0,4]}})",
                std::string(4, '\1'));
  EXPECT_EQ(loadError(path), "weights file '" + path +
                                 "': tensor 'w' is I8, but the file has no "
                                 "tensor 'w.scale' (F32 [2]) with its row "
                                 "scales");
  path = writeFile("badscale.safetensors",
                   R"({"w":{"dtype":"I8","shape":[2,2],"data_offsets":[0,4]},)"
                   R"("w.scale":{"dtype":"F32","shape":[4],)"
                   R"("data_offsets":[4,20]}})",
                   std::string(20, '\1'));
  EXPECT_EQ(loadError(path),
            "weights file '" + path +
                "': tensor 'w.scale' holds the row scales of I8 tensor 'w' of "
                "shape [2, 2] and must be F32 [2], but is F32 [4]");
  path = writeFile("scalar.safetensors",
                   R"({"w":{"dtype":"I8","shape":[],"data_offsets":[0,1]}})",
                   std::string(1, '\1'));
  EXPECT_TRUE(contains(loadError(path), "tensor 'w' is I8 without dimensions"));
  // A scale of 0 (and a negative one) would hide the row's values.
  float scales[2] = {1.0f, 0.0f};
  path = writeFile("zeroscale.safetensors",
                   R"({"w":{"dtype":"I8","shape":[2,2],"data_offsets":[0,4]},)"
                   R"("w.scale":{"dtype":"F32","shape":[2],)"
                   R"("data_offsets":[4,12]}})",
                   std::string(4, '\1') +
                       std::string(reinterpret_cast<char *>(scales), 8));
  EXPECT_TRUE(contains(loadError(path),
                       "tensor 'w.scale' holds 0.000000 at [1]; the scales "
                       "of I8 tensor 'w' must be positive"));
  // A BF16 NaN (0x7fc0) is refused like an F32 one.
  path = writeFile("nan.safetensors",
                   R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})",
                   std::string("\0\0\xc0\x7f", 4));
  EXPECT_EQ(loadError(path), "weights file '" + path +
                                 "': tensor 'w' holds NaN at [1]; weights "
                                 "must be finite");
}

TEST(StoredTypes, SaveRefusesWhatItCannotStore) {
  std::string path = tempPath("refused.safetensors");
  Tensor big = Tensor::f32({2}, {1.0f, 70000.0f});
  EXPECT_EQ(errorOf([&] {
              Weights::save(path, {{"w", big}}, {{"w", StoredType::F16}});
            }),
            "cannot write tensor 'w' to '" + path +
                "' as F16: it holds 70000.000000 at [1], beyond F16's range "
                "(|x| < 65520)");
  EXPECT_TRUE(contains(errorOf([&] {
                         Weights::save(path, {{"w", big}, {"w.scale", big}},
                                       {{"w", StoredType::I8}});
                       }),
                       "its scales would be named 'w.scale', which is another "
                       "tensor's name"));
  EXPECT_TRUE(
      contains(errorOf([&] {
                 Weights::save(path, {{"w", big}}, {{"v", StoredType::BF16}});
               }),
               "storedAs names tensor 'v', which is not among the "
               "tensors"));
  EXPECT_TRUE(contains(errorOf([&] {
                         Weights::save(path, {{"w", Tensor::i32({1}, {3})}},
                                       {{"w", StoredType::BF16}});
                       }),
                       "only f32 tensors are stored in fewer bytes"));
}

//===----------------------------------------------------------------------===//
// The golden model with its linear weights stored in fewer bytes
//===----------------------------------------------------------------------===//

const Weights &goldenWeights() {
  static Weights w = Weights::load(kGolden + "/tiny.safetensors");
  return w;
}

const Weights &cases() {
  static Weights w = Weights::load(kGolden + "/tiny_cases.safetensors");
  return w;
}

/// Whether the golden model's linear layers read tensor `name` (the
/// matrices that are neither embeddings nor layer norms).
bool isLinearWeight(const std::string &name) {
  const Tensor &tensor = goldenWeights().get(name);
  return tensor.shape().size() == 2 &&
         name.find("embed") == std::string::npos &&
         name.find("norm") == std::string::npos;
}

/// The golden weights with every linear weight stored as `type`.
const Weights &storedAs(StoredType type) {
  static std::map<StoredType, Weights> files;
  auto it = files.find(type);
  if (it != files.end())
    return it->second;
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, StoredType> types;
  for (const std::string &name : goldenWeights().names()) {
    tensors.emplace_back(name, goldenWeights().get(name));
    if (isLinearWeight(name))
      types[name] = type;
  }
  EXPECT_GE(types.size(), 8u);
  std::string path =
      tempPath(std::string(storedTypeName(type)) + "_golden.safetensors");
  Weights::save(path, tensors, types);
  EXPECT_LT(fileSize(path), fileSize(kGolden + "/tiny.safetensors") * 3 / 4);
  return files.emplace(type, Weights::load(path)).first->second;
}

/// Logits of `model`'s functions `prefix`_encode and _decode on the three
/// golden cases, one after another.
std::vector<float> logits(Model &model, const std::string &prefix) {
  std::vector<float> all;
  for (std::string c : {"two_padded", "one_token", "three_long"}) {
    auto memory = model.run(prefix + "_encode",
                            {{"src_tokens", cases().get(c + ".src_tokens")},
                             {"src_lengths", cases().get(c + ".src_lengths")}});
    auto out = model.run(prefix + "_decode",
                         {{"tgt_tokens", cases().get(c + ".tgt_tokens")},
                          {"tgt_lengths", cases().get(c + ".tgt_lengths")},
                          {"memory", memory.at("memory")},
                          {"src_lengths", cases().get(c + ".src_lengths")}});
    std::vector<float> values = valuesOf(out.at("logits"));
    all.insert(all.end(), values.begin(), values.end());
  }
  return all;
}

double maxDifference(const std::vector<float> &a, const std::vector<float> &b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, double(std::fabs(a[i] - b[i])));
  return worst;
}

struct ReducedModel {
  StoredType type;
  const char *model;
  double fromFile; ///< Max difference from the f32 file's logits.
};

// bf16 and f16 are exact (the file holds the values the model rounds to);
// int8 reads q * scale and rederives the scale, which may differ in its
// last bit (the logits reach 1.5 in magnitude).
const ReducedModel kReduced[] = {{StoredType::BF16, "tiny_bf16", 0},
                                 {StoredType::F16, "tiny_f16", 0},
                                 {StoredType::I8, "tiny_int8", 1e-5}};

/// Whether tiny_weights' linear kernels with weights stored as `type`
/// round their input to bf16.
bool roundsInputs(StoredType type) {
  kernels::LinearSpec spec;
  spec.weights = type == StoredType::BF16  ? kernels::WeightType::BF16
                 : type == StoredType::F16 ? kernels::WeightType::F16
                                           : kernels::WeightType::I8;
  return kernels::usesBF16DotProduct(
      spec, kernels::DType::F32, tiny_weights_registry__host.halide_target, "");
}

TEST(StoredTypes, AModelReadsItsOwnTypeAsItWouldRoundIt) {
  Model tiny = Model::load(tiny_registry__host, goldenWeights());
  const std::vector<float> unrounded = logits(tiny, "tiny");
  for (const ReducedModel &reduced : kReduced) {
    SCOPED_TRACE(reduced.model);
    Model fromF32 = Model::load(tiny_weights_registry__host, goldenWeights(),
                                reduced.model);
    Model fromReduced = Model::load(tiny_weights_registry__host,
                                    storedAs(reduced.type), reduced.model);
    std::vector<float> want = logits(fromF32, reduced.model);
    double difference = maxDifference(logits(fromReduced, reduced.model), want);
    EXPECT_LE(difference, reduced.fromFile);
    // The f32 model computes with the values the file holds: what the
    // reduced model computes, up to the order of its sums; far below the
    // rounding of the weights themselves (0.002 to 0.04).
    Model f32 = Model::load(tiny_registry__host, storedAs(reduced.type));
    std::vector<float> widened = logits(f32, "tiny");
    if (!roundsInputs(reduced.type))
      EXPECT_LT(maxDifference(widened, want), 1e-4);
    EXPECT_GT(maxDifference(widened, unrounded), 1e-4);
  }
}

TEST(StoredTypes, AModelRefusesAnotherReducedType) {
  std::string error = errorOf([] {
    Model::load(tiny_weights_registry__host, storedAs(StoredType::BF16),
                "tiny_f16");
  });
  EXPECT_TRUE(contains(error, "is stored as BF16, but model 'tiny_f16' stores "
                              "it as f16 (linear"));
  EXPECT_TRUE(contains(error, "a BF16 tensor feeds f32 and bf16 weights only; "
                              "write it as F32 for this model"));
  EXPECT_TRUE(contains(error, "tensor '"));
  error = errorOf([] {
    Model::load(tiny_weights_registry__host, storedAs(StoredType::I8),
                "tiny_bf16");
  });
  EXPECT_TRUE(contains(error, "is stored as I8, but model 'tiny_bf16' stores "
                              "it as bf16"));
  // Every model of the registry at once: the first that stores the weight
  // as another type refuses.
  EXPECT_TRUE(contains(errorOf([] {
                         Model::load(tiny_weights_registry__host,
                                     storedAs(StoredType::F16));
                       }),
                       "is stored as F16, but model 'tiny_"));
}

} // namespace
