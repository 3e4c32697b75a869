//===- LayerKernelTest.cpp - Row-wise kernels against the reference -------===//
//
// Every linear, layer norm, softmax, embedding and add kernel of
// layers.attn, in every shape class, at row counts 1, 3, 7, 64 and 129,
// against tests/reference. Tolerance: relative error (see KernelHarness.h)
// below 1e-4.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"
#include "attnc/Lowering/LinearWeights.h"
#include "attnc/Reference/Reference.h"

#include "gtest/gtest.h"

#include <set>
#include <type_traits>
#include <variant>

// The registries under test: the host builds, or GPU builds of the same
// files in attnc-{cuda,opencl}-reference-tests (tests/CMakeLists.txt).
#ifndef ATTNC_LAYERS_REGISTRY
#define ATTNC_LAYERS_REGISTRY layers_registry__host
#endif
extern "C" const attnc_registry ATTNC_LAYERS_REGISTRY;
// Host builds also test weights.attn: linear weights in fewer bytes.
#ifdef ATTNC_WEIGHTS_REGISTRY
extern "C" const attnc_registry ATTNC_WEIGHTS_REGISTRY;
#endif

using namespace attnc;
using namespace attnc::kernels;
using namespace attnc::test;

namespace {

// 129 and 300: more than one row block of the linear family's GEMM
// schedule (block_m 32 to 128 on the CPU targets), the last shifted inward.
const int64_t kRows[] = {1, 3, 7, 64, 129, 300};
constexpr double kTolerance = 1e-4;

KernelSet &kernelSet() {
  static KernelSet set(ATTNC_LAYERS_REGISTRY);
  return set;
}

#ifdef ATTNC_WEIGHTS_REGISTRY
KernelSet &weightsKernelSet() {
  static KernelSet set(ATTNC_WEIGHTS_REGISTRY);
  return set;
}
#endif

/// Runs `check` for every shape class of every kernel of one family (of
/// `set`, by default layers.attn's).
template <class Spec, class Check>
int forEachKernel(Check check, KernelSet &set = kernelSet()) {
  int count = 0;
  for (const auto &[name, spec] : set.specs()) {
    auto *family = std::get_if<Spec>(&spec.family);
    if (!family)
      continue;
    for (const char *shapeClass : {"", "gemv", "gemv1"}) {
      const attnc_kernel_entry *entry = set.find(name, shapeClass);
      if (!entry)
        continue;
      SCOPED_TRACE(entry->symbol);
      if constexpr (std::is_invocable_v<Check, const Spec &,
                                        const attnc_kernel_entry &>)
        check(*family, *entry);
      else
        check(*family, *entry,
              usesBF16DotProduct(*family, spec.dtype, set.halideTarget(),
                                 entry->shape_class));
      ++count;
    }
  }
  return count;
}

/// The Halide type of a linear kernel's weight.
halide_type_t storedType(WeightType type) {
  switch (type) {
  case WeightType::F32:
    break;
  case WeightType::BF16:
    return halide_type_t(halide_type_bfloat, 16);
  case WeightType::F16:
    return halide_type_t(halide_type_float, 16);
  case WeightType::I8:
    return halide_type_t(halide_type_int, 8);
  }
  return halide_type_t(halide_type_float, 32);
}

/// Checks a linear kernel at every row count. Weights stored as bf16, f16
/// or int8 are compared with a reference that computes with exactly the
/// weights they hold (dequantizeLinearWeight), and where the kernel rounds
/// its input to bf16 (`roundsInput`, usesBF16DotProduct) with the input so
/// rounded, so the tolerance stays f32's.
/// `w` replaces the random weight where given, and every input element is
/// multiplied by `inputScale`.
void checkLinear(const LinearSpec &s, const attnc_kernel_entry &entry,
                 bool roundsInput, std::vector<float> w = {},
                 float inputScale = 1.0f) {
  if (w.empty())
    w = randomTensor(s.out * s.in, 2);
  // 0xff bytes: NaN in f32, bf16 and f16, so unwritten padding shows.
  std::vector<uint8_t> packed(size_t(packedLinearElements(s.out, s.in)) *
                                  weightTypeBytes(s.weights),
                              0xff);
  std::vector<float> scales(s.out, NAN);
  packLinearWeight(w.data(), s.out, s.in, s.weights, packed.data(),
                   scales.data());
  std::vector<float> held = dequantizeLinearWeight(w, s.out, s.in, s.weights);
  std::vector<float> b = randomTensor(s.out, 3);
  for (int64_t rows : kRows) {
    std::vector<float> x = randomTensor(rows * s.in, 1);
    for (float &v : x)
      v *= inputScale;
    std::vector<float> y(rows * s.out, NAN);
    TensorArg weight{nullptr, nullptr, {s.panels(), s.in, kLinearPanelWidth}};
    weight.narrow = packed.data();
    weight.narrowType = storedType(s.weights);
    std::vector<TensorArg> inputs = {{x.data(), nullptr, {rows, s.in}}, weight};
    if (s.weights == WeightType::I8)
      inputs.push_back({scales.data(), nullptr, {s.out}});
    if (s.bias)
      inputs.push_back({b.data(), nullptr, {s.out}});
    ASSERT_EQ(KernelSet::call(entry, inputs, {},
                              {{y.data(), nullptr, {rows, s.out}}}),
              0)
        << lastHalideError();
    std::vector<float> seen = x;
    if (roundsInput)
      for (float &v : seen)
        v = bfloat16ToFloat(floatToBFloat16(v));
    EXPECT_LT(relativeError(y, reference::linear(s, seen, rows, held, b)),
              kTolerance)
        << "rows " << rows;
  }
}

TEST(LayerKernels, Linear) {
  int count = forEachKernel<LinearSpec>(
      [](const LinearSpec &s, const attnc_kernel_entry &entry,
         bool roundsInput) { checkLinear(s, entry, roundsInput); });
  // linear1/linear2 of both layers, q/k/v, out_proj, the generator, with
  // their gemv variants.
  EXPECT_GE(count, 10);
}

#ifdef ATTNC_WEIGHTS_REGISTRY
TEST(LayerKernels, LinearWeightsInFewerBytes) {
  std::set<WeightType> types;
  int count = forEachKernel<LinearSpec>(
      [&](const LinearSpec &s, const attnc_kernel_entry &entry,
          bool roundsInput) {
        types.insert(s.weights);
        checkLinear(s, entry, roundsInput);
      },
      weightsKernelSet());
  EXPECT_GE(count, 10);
  // weights.attn: bf16 (model bf16_weights), f16 and int8 (mixed_weights).
  EXPECT_EQ(types, (std::set<WeightType>{WeightType::BF16, WeightType::F16,
                                         WeightType::I8}));
}

/// f16 weights: the "gemv" class multiplies the half's bits as an f32
/// 2^112 too small against input rows scaled up to match
/// (LinearProduct::ScaledHalves). Subnormal halves, the largest halves, and
/// inputs up to 2^60 (where scaling every row by 2^112 would overflow) must
/// give the products of the widened weights.
TEST(LayerKernels, HalfWeightsAtEveryMagnitude) {
  int count = 0;
  for (const auto &[name, spec] : weightsKernelSet().specs()) {
    auto *s = std::get_if<LinearSpec>(&spec.family);
    if (!s || s->weights != WeightType::F16)
      continue;
    std::vector<float> w = randomTensor(s->out * s->in, 5);
    // Every third weight a subnormal half (2^-24 .. 2^-15), every seventh
    // near the largest half.
    for (size_t i = 0; i < w.size(); ++i) {
      if (i % 3 == 0)
        w[i] *= 0x1p-15f;
      else if (i % 7 == 0)
        w[i] *= 60000.0f;
    }
    for (const char *shapeClass : {"", "gemv", "gemv1"}) {
      const attnc_kernel_entry *entry =
          weightsKernelSet().find(name, shapeClass);
      if (!entry && std::string(shapeClass) == "gemv1")
        continue; // Only targets whose defaults set gemv1_panels have it.
      ASSERT_NE(entry, nullptr) << name << " " << shapeClass;
      for (float inputScale : {1.0f, 0x1p20f, 0x1p60f}) {
        SCOPED_TRACE(std::string(entry->symbol) + " inputs times " +
                     std::to_string(inputScale));
        checkLinear(*s, *entry, false, w, inputScale);
      }
      ++count;
    }
  }
  EXPECT_GE(count, 2);
}

TEST(LayerKernels, WeightsOfAnotherTypeAreRejected) {
  for (const auto &[name, spec] : weightsKernelSet().specs()) {
    auto *s = std::get_if<LinearSpec>(&spec.family);
    if (!s || s->weights != WeightType::BF16)
      continue;
    const attnc_kernel_entry *entry = weightsKernelSet().find(name);
    std::vector<float> x(3 * s->in), b(s->out), y(3 * s->out),
        w(s->panels() * s->in * kLinearPanelWidth);
    std::vector<TensorArg> inputs = {
        {x.data(), nullptr, {3, s->in}},
        {w.data(), nullptr, {s->panels(), s->in, kLinearPanelWidth}}};
    if (s->bias)
      inputs.push_back({b.data(), nullptr, {s->out}});
    // f32 panels where the kernel reads bf16 ones.
    EXPECT_NE(
        KernelSet::call(*entry, inputs, {}, {{y.data(), nullptr, {3, s->out}}}),
        0);
    EXPECT_NE(lastHalideError().find("weight"), std::string::npos)
        << lastHalideError();
    return;
  }
  FAIL() << "no linear kernel with bf16 weights";
}
#endif

TEST(LayerKernels, LayerNorm) {
  int count = forEachKernel<LayerNormSpec>([](const LayerNormSpec &s,
                                              const attnc_kernel_entry &entry) {
    std::vector<float> gamma = randomTensor(s.width, 4, 0.5f, 1.5f);
    std::vector<float> beta = randomTensor(s.width, 5);
    for (int64_t rows : kRows) {
      // An offset mean checks that the variance is computed centered.
      std::vector<float> x = randomTensor(rows * s.width, 6, 99.0f, 101.0f);
      std::vector<float> r = randomTensor(rows * s.width, 7);
      std::vector<float> y(rows * s.width, NAN);
      std::vector<TensorArg> inputs = {{x.data(), nullptr, {rows, s.width}}};
      if (s.residual)
        inputs.push_back({r.data(), nullptr, {rows, s.width}});
      inputs.push_back({gamma.data(), nullptr, {s.width}});
      inputs.push_back({beta.data(), nullptr, {s.width}});
      ASSERT_EQ(KernelSet::call(entry, inputs, {},
                                {{y.data(), nullptr, {rows, s.width}}}),
                0);
      std::vector<float> expected = reference::layerNorm(
          s, x, s.residual ? &r : nullptr, rows, gamma, beta);
      EXPECT_LT(relativeError(y, expected), kTolerance) << "rows " << rows;
    }
  });
  EXPECT_GE(count, 2); // with and without a residual
}

TEST(LayerKernels, Softmax) {
  int count = forEachKernel<SoftmaxSpec>([](const SoftmaxSpec &s,
                                            const attnc_kernel_entry &entry) {
    for (int64_t rows : kRows) {
      // Logits of magnitude 1e4 must not overflow.
      std::vector<float> x = randomTensor(rows * s.width, 8, -1e4f, 1e4f);
      std::vector<float> y(rows * s.width, NAN);
      ASSERT_EQ(KernelSet::call(entry, {{x.data(), nullptr, {rows, s.width}}},
                                {}, {{y.data(), nullptr, {rows, s.width}}}),
                0);
      EXPECT_LT(relativeError(y, reference::softmax(s, x, rows)), kTolerance)
          << "rows " << rows;
    }
  });
  EXPECT_EQ(count, 1);
}

TEST(LayerKernels, Embedding) {
  int count = forEachKernel<EmbeddingSpec>([](const EmbeddingSpec &s,
                                              const attnc_kernel_entry &entry) {
    std::vector<float> table = randomTensor(s.vocab * s.width, 9);
    std::vector<float> positions = randomTensor(s.positionRows * s.width, 11);
    for (auto [batch, length, offset] :
         {std::tuple<int64_t, int64_t, int32_t>{1, 1, 0},
          {2, 7, 0},
          {3, 64, 5},
          {1, 1, 1000}}) {
      std::vector<int32_t> tokens(batch * length);
      for (size_t i = 0; i < tokens.size(); ++i)
        tokens[i] = int32_t((i * 7 + 3) % s.vocab);
      std::vector<float> y(batch * length * s.width, NAN);
      std::vector<TensorArg> inputs = {
          {nullptr, tokens.data(), {batch, length}},
          {table.data(), nullptr, {s.vocab, s.width}}};
      if (s.positionRows)
        inputs.push_back(
            {positions.data(), nullptr, {s.positionRows, s.width}});
      ASSERT_EQ(
          KernelSet::call(entry, inputs, {offset},
                          {{y.data(), nullptr, {batch, length, s.width}}}),
          0);
      EXPECT_LT(
          relativeError(y, reference::embedding(s, tokens, batch, length, table,
                                                offset, &positions)),
          kTolerance)
          << batch << "x" << length << " from position " << offset;
    }
  });
  // Sinusoidal, learned and no positions, and no positions with a vocabulary
  // narrower than a vector (narrow_output).
  EXPECT_EQ(count, 4);
}

TEST(LayerKernels, Add) {
  int count = forEachKernel<AddSpec>(
      [](const AddSpec &s, const attnc_kernel_entry &entry) {
        for (int64_t rows : kRows) {
          std::vector<float> a = randomTensor(rows * s.width, 10);
          std::vector<float> b = randomTensor(rows * s.width, 11);
          std::vector<float> y(rows * s.width, NAN);
          ASSERT_EQ(KernelSet::call(entry,
                                    {{a.data(), nullptr, {rows, s.width}},
                                     {b.data(), nullptr, {rows, s.width}}},
                                    {}, {{y.data(), nullptr, {rows, s.width}}}),
                    0);
          std::vector<float> expected(a.size());
          for (size_t i = 0; i < a.size(); ++i)
            expected[i] = a[i] + b[i];
          EXPECT_LT(relativeError(y, expected), kTolerance);
        }
      });
  EXPECT_EQ(count, 1);
}

TEST(LayerKernels, WrongShapesAreRejected) {
  for (const auto &[name, spec] : kernelSet().specs()) {
    auto *s = std::get_if<LinearSpec>(&spec.family);
    if (!s || !s->bias || s->weights != WeightType::F32)
      continue;
    const attnc_kernel_entry *entry = kernelSet().find(name);
    std::vector<float> x(3 * (s->in + 1)), b(s->out), y(3 * s->out),
        w(s->panels() * s->in * kLinearPanelWidth);
    std::vector<int64_t> packedShape = {s->panels(), s->in, kLinearPanelWidth};
    // An input one column too wide: Halide's own checks refuse it.
    EXPECT_NE(KernelSet::call(*entry,
                              {{x.data(), nullptr, {3, s->in + 1}},
                               {w.data(), nullptr, packedShape},
                               {b.data(), nullptr, {s->out}}},
                              {}, {{y.data(), nullptr, {3, s->out}}}),
              0);
    EXPECT_NE(lastHalideError().find("input"), std::string::npos)
        << lastHalideError();
    // A weight in PyTorch's [out, in] layout instead of packed panels.
    EXPECT_NE(KernelSet::call(*entry,
                              {{x.data(), nullptr, {3, s->in}},
                               {w.data(), nullptr, {s->out, s->in}},
                               {b.data(), nullptr, {s->out}}},
                              {}, {{y.data(), nullptr, {3, s->out}}}),
              0);
    EXPECT_NE(lastHalideError().find("weight"), std::string::npos)
        << lastHalideError();
    return;
  }
  FAIL() << "no linear kernel with a bias";
}

} // namespace
