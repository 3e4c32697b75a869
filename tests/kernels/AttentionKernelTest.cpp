//===- AttentionKernelTest.cpp - Fused attention against the reference ----===//
//
// Every attention kernel of attention.attn (and of layers.attn) on a matrix
// of run-time shapes: self-attention at lengths 1, 7, 64, 129 and 1000
// (ATTNC_KERNEL_TEST_LONG_LENGTH replaces 1000, see shapes()),
// cross attention with q_len != kv_len, batch 3 with different key lengths
// (including 0: rows with no visible key), inputs that are channel slices
// of one packed QKV tensor, and logits of magnitude 1e4. Tolerance: relative
// error (KernelHarness.h) below 1e-4 for outputs and probabilities, or, for
// large logits, below 2 * FLT_EPSILON * max |logit|: an fp32 logit L carries
// an absolute rounding error near FLT_EPSILON * L (5e-4 at 1e4), which exp
// turns into a relative error of that size in any fp32 implementation.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"
#include "attnc/Reference/Reference.h"

#include "gtest/gtest.h"

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <variant>

// The registries under test: the host builds, or GPU builds of the same
// files in attnc-{cuda,opencl}-reference-tests (tests/CMakeLists.txt).
#ifndef ATTNC_ATTENTION_REGISTRY
#define ATTNC_ATTENTION_REGISTRY attention_registry__host
#endif
extern "C" const attnc_registry ATTNC_ATTENTION_REGISTRY;
#ifndef ATTNC_LAYERS_REGISTRY
#define ATTNC_LAYERS_REGISTRY layers_registry__host
#endif
extern "C" const attnc_registry ATTNC_LAYERS_REGISTRY;

using namespace attnc;
using namespace attnc::kernels;
using namespace attnc::test;

namespace {

constexpr double kTolerance = 1e-4;

struct Shape {
  int64_t batch, qLen, kvLen;
  std::vector<int32_t> kvLengths; ///< Empty: kvLen for every batch.
  float magnitude = 1.0f;         ///< Inputs uniform in +-magnitude.
  bool packed = false;            ///< q, k, v slices of one QKV tensor.
};

/// The longest self-attention length: 1000, or the environment's
/// ATTNC_KERNEL_TEST_LONG_LENGTH. It costs ~95% of the matrix's time, which
/// under qemu (ctest arm64-kernels, ~20x slower) is too long for every run.
int64_t longLength() {
  const char *length = std::getenv("ATTNC_KERNEL_TEST_LONG_LENGTH");
  return length ? std::atoll(length) : 1000;
}

std::vector<Shape> shapes() {
  std::vector<Shape> all;
  for (int64_t length : std::vector<int64_t>{1, 7, 64, 129, longLength()})
    all.push_back({1, length, length, {}});
  all.push_back({1, 65, 200, {}});         // cross: q_len < kv_len
  all.push_back({1, 130, 33, {}});         // cross: q_len > kv_len
  all.push_back({3, 70, 70, {70, 33, 0}}); // per-sequence lengths, one empty
  all.push_back({2, 9, 128, {}, 1.0f, true});
  return all;
}

/// Segment ids of packed sequences of uneven lengths (1 to 130 positions,
/// so some segments share a key block and some span several), a different
/// packing per batch.
std::vector<int32_t> segmentIds(int64_t batch, int64_t length) {
  static const int64_t lengths[] = {3, 1, 40, 64, 65, 7, 130, 2, 90};
  std::vector<int32_t> ids;
  for (int64_t b = 0; b < batch; ++b) {
    int32_t id = 0;
    int64_t next = b, left = lengths[next % 9];
    for (int64_t p = 0; p < length; ++p, --left) {
      if (left == 0) {
        ++id;
        left = lengths[++next % 9];
      }
      ids.push_back(id);
    }
  }
  return ids;
}

/// Runs one kernel on one shape and compares with the reference.
void check(const AttentionSpec &s, const attnc_kernel_entry &entry,
           const Shape &shape, uint32_t seed, int32_t qOffset = 0) {
  int64_t B = shape.batch, Lq = shape.qLen, Lk = shape.kvLen;
  int64_t qW = s.heads * s.headDim, kW = s.kvHeads * s.headDim,
          vW = s.kvHeads * s.valueDim;
  float mag = shape.magnitude;
  std::vector<float> q = randomTensor(B * Lq * qW, seed, -mag, mag);
  std::vector<float> k = randomTensor(B * Lk * kW, seed + 1, -mag, mag);
  std::vector<float> v = randomTensor(B * Lk * vW, seed + 2);
  reference::AttentionExtras extras;
  extras.kvLengths = shape.kvLengths;
  if (extras.kvLengths.empty())
    extras.kvLengths.assign(B, int32_t(Lk));
  if (s.readsBias())
    extras.bias = randomTensor(B * s.heads * Lq * Lk, seed + 3, -2, 2);
  if (s.additive)
    extras.scoreWeight = randomTensor(s.heads * s.headDim, seed + 4);
  if (s.segments)
    extras.segmentIds = segmentIds(B, Lk);
  for (const ScoreTensor &tensor : s.scoreTensors) {
    size_t size = 1;
    for (int64_t extent : tensor.shape)
      size *= size_t(extent);
    extras.scoreTensors.push_back(randomTensor(
        size, seed + 5 + uint32_t(extras.scoreTensors.size()), -2, 2));
  }
  reference::AttentionResult expected =
      reference::attention(s, q, k, v, B, Lq, Lk, extras, qOffset);

  // Inputs: dense, or views into one packed [B, L, qW + kW + vW] tensor.
  std::vector<float> packed;
  std::vector<TensorArg> inputs;
  if (shape.packed && Lq == Lk) {
    int64_t width = qW + kW + vW;
    packed.resize(B * Lq * width);
    for (int64_t row = 0; row < B * Lq; ++row) {
      std::copy_n(&q[row * qW], qW, &packed[row * width]);
      std::copy_n(&k[row * kW], kW, &packed[row * width + qW]);
      std::copy_n(&v[row * vW], vW, &packed[row * width + qW + kW]);
    }
    for (auto [offset, channels] :
         {std::pair<int64_t, int64_t>{0, qW}, {qW, kW}, {qW + kW, vW}}) {
      TensorArg view{packed.data() + offset, nullptr, {B, Lq, channels}};
      view.rowStride = width;
      inputs.push_back(view);
    }
  } else {
    inputs = {{q.data(), nullptr, {B, Lq, qW}},
              {k.data(), nullptr, {B, Lk, kW}},
              {v.data(), nullptr, {B, Lk, vW}}};
  }
  if (s.keyPadding)
    inputs.push_back({nullptr, extras.kvLengths.data(), {B}});
  if (s.segments)
    inputs.push_back({nullptr, extras.segmentIds.data(), {B, Lk}});
  if (s.readsBias())
    inputs.push_back({extras.bias.data(), nullptr, {B, s.heads, Lq, Lk}});
  if (s.additive)
    inputs.push_back(
        {extras.scoreWeight.data(), nullptr, {s.heads, s.headDim}});
  for (size_t i = 0; i < s.scoreTensors.size(); ++i)
    inputs.push_back(
        {extras.scoreTensors[i].data(), nullptr, s.scoreTensors[i].shape});

  std::vector<float> out(B * Lq * s.heads * s.valueDim, NAN);
  std::vector<TensorArg> outputs = {
      {out.data(), nullptr, {B, Lq, s.heads * s.valueDim}}};
  std::vector<float> probs(expected.probs.size(), NAN);
  if (s.probs == Probs::PerHead)
    outputs.push_back({probs.data(), nullptr, {B, s.heads, Lq, Lk}});
  if (s.probs == Probs::HeadMean)
    outputs.push_back({probs.data(), nullptr, {B, Lq, Lk}});

  ASSERT_EQ(KernelSet::call(entry, inputs, {qOffset}, outputs), 0)
      << lastHalideError();
  if (shape.magnitude > 1.0f)
    EXPECT_GT(expected.maxAbsLogit, 5e3) << "the test should reach 1e4";
  double tolerance =
      std::max(kTolerance, 2.0 * FLT_EPSILON * expected.maxAbsLogit);
  EXPECT_LT(relativeError(out, expected.output), tolerance)
      << "max |logit| " << expected.maxAbsLogit;
  if (s.probs != Probs::None)
    EXPECT_LT(relativeError(probs, expected.probs), tolerance) << "probs";
}

void checkRegistry(const attnc_registry &registry, int expectedKernels) {
  KernelSet set(registry);
  int count = 0;
  uint32_t seed = 100;
  for (const auto &[name, spec] : set.specs()) {
    auto *s = std::get_if<AttentionSpec>(&spec.family);
    if (!s)
      continue;
    ASSERT_NE(set.find(name), nullptr) << name;
    ++count;
    // Every shape class must be correct for every shape.
    for (const char *shapeClass : {"", "decode", "short"}) {
      const attnc_kernel_entry *entry = set.find(name, shapeClass);
      if (!entry)
        continue;
      for (const Shape &shape : shapes()) {
        SCOPED_TRACE(std::string(entry->symbol) + " batch " +
                     std::to_string(shape.batch) + " q_len " +
                     std::to_string(shape.qLen) + " kv_len " +
                     std::to_string(shape.kvLen) +
                     (shape.packed ? " packed" : ""));
        check(*s, *entry, shape, seed += 10);
      }
    }
  }
  EXPECT_EQ(count, expectedKernels);
}

TEST(AttentionKernels, EveryVariantOfTheMatrix) {
  checkRegistry(ATTNC_ATTENTION_REGISTRY, 15);
}

TEST(AttentionKernels, LayerModels) { checkRegistry(ATTNC_LAYERS_REGISTRY, 1); }

TEST(AttentionKernels, LargeLogitsStayFinite) {
  KernelSet set(ATTNC_ATTENTION_REGISTRY);
  for (const auto &[name, spec] : set.specs()) {
    auto *s = std::get_if<AttentionSpec>(&spec.family);
    if (!s || s->additive ||
        (s->scoreFn && s->scoreFn->uses(Predicate::Op::Tanh))) // softcap
      continue;
    // Inputs large enough that |q . k| * scale reaches about 1e4: the
    // largest of ~1e3 products of uniform +-m vectors is near
    // m^2 sqrt(D) (three standard deviations).
    float magnitude =
        float(std::sqrt(1.5e4 / (s->scale * std::sqrt(double(s->headDim)))));
    Shape shape{2, 33, 40, {}, magnitude};
    if (s->keyPadding)
      shape.kvLengths = {40, 17};
    SCOPED_TRACE(name);
    check(*s, *set.find(name), shape, 7);
  }
}

TEST(AttentionKernels, DecodingStepsSeeTheirPosition) {
  // One query row at position t against t + 1 cached keys, as the runtime
  // decodes with a KV cache; also a chunk of 5 rows starting at t - 4. The
  // general, decode and short variants.
  KernelSet set(ATTNC_ATTENTION_REGISTRY);
  int count = 0;
  for (const auto &[name, spec] : set.specs()) {
    auto *s = std::get_if<AttentionSpec>(&spec.family);
    if (!s)
      continue;
    ++count;
    for (const char *shapeClass : {"", "decode", "short"}) {
      const attnc_kernel_entry *entry = set.find(name, shapeClass);
      if (!entry && std::string(shapeClass) == "short")
        continue; // GPU targets have no short variant.
      ASSERT_NE(entry, nullptr) << name << " " << shapeClass;
      for (int32_t t : {0, 1, 63, 64, 200}) {
        SCOPED_TRACE(std::string(entry->symbol) + " at step " +
                     std::to_string(t));
        check(*s, *entry, {2, 1, t + 1, {}}, 300 + t, t);
        if (t >= 4)
          check(*s, *entry, {1, 5, t + 1, {}}, 400 + t, t - 4);
      }
    }
  }
  EXPECT_EQ(count, 15);
}

} // namespace
