//===- BiasBroadcastTest.cpp - A score bias of batch or heads 1 -----------===//
//
// docs/dsl.md lets the `bias` score modifier's tensor have batch and heads
// 1, broadcast over the others. The runtime must accept such a tensor (and
// still refuse other extents), and the kernel must broadcast it: checked
// through Model::run on the `bias_probs` block of tests/kernels/
// attention.attn against the double-precision reference.
//
//===----------------------------------------------------------------------===//

#include "TempFile.h"
#include "attnc/Reference/Reference.h"
#include "attnc/Runtime.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

extern "C" const attnc_registry attention_registry__host;

using namespace attnc;

namespace {

constexpr int64_t kHeads = 4, kHeadDim = 32; // bias_probs in attention.attn

Tensor randomF32(std::vector<int64_t> shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  Tensor t(DType::F32, shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.f32Data()[i] = uniform(rng);
  return t;
}

/// The attention.attn model; its additive block needs a weight, which the
/// bias block does not read.
Model &attentionModel() {
  static Model model = [] {
    std::string path = test::tempPath("bias_broadcast.st");
    Weights::save(path, syntheticWeights(attention_registry__host));
    return Model::load(attention_registry__host, Weights::load(path));
  }();
  return model;
}

std::vector<float> values(const Tensor &t) {
  return std::vector<float>(t.f32Data(), t.f32Data() + t.numel());
}

double maxDifference(const Tensor &actual, const std::vector<float> &want) {
  double worst = 0;
  for (int64_t i = 0; i < actual.numel(); ++i)
    worst = std::max(worst, std::fabs(double(actual.f32Data()[i]) - want[i]));
  return worst;
}

class BiasBroadcast
    : public ::testing::TestWithParam<std::pair<int64_t, int64_t>> {};

TEST_P(BiasBroadcast, MatchesTheReference) {
  auto [biasBatch, biasHeads] = GetParam();
  const int64_t B = 3, L = 19, W = kHeads * kHeadDim;
  Model &model = attentionModel();
  Tensor q = randomF32({B, L, W}, 1), k = randomF32({B, L, W}, 2),
         v = randomF32({B, L, W}, 3);
  Tensor bias = randomF32({biasBatch, biasHeads, L, L}, 4);
  std::map<std::string, Tensor> out = model.run(
      "bias_probs", {{"query", q}, {"key", k}, {"value", v}, {"bias", bias}});

  kernels::AttentionSpec spec;
  spec.heads = spec.kvHeads = kHeads;
  spec.headDim = spec.valueDim = kHeadDim;
  spec.scale = 1.0 / std::sqrt(double(kHeadDim));
  spec.scoreFn = kernels::Predicate::parse("(add s (bias_at))");
  spec.probs = kernels::Probs::PerHead;
  reference::AttentionExtras extras;
  extras.bias = values(bias);
  extras.biasBatch = biasBatch;
  extras.biasHeads = biasHeads;
  reference::AttentionResult want = reference::attention(
      spec, values(q), values(k), values(v), B, L, L, extras);
  EXPECT_LT(maxDifference(out.at("output"), want.output), 1e-5);
  EXPECT_LT(maxDifference(out.at("probs"), want.probs), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(BatchAndHeads, BiasBroadcast,
                         ::testing::Values(std::make_pair(3, 4),
                                           std::make_pair(1, 4),
                                           std::make_pair(3, 1),
                                           std::make_pair(1, 1)));

TEST(BiasBroadcast, OtherExtentsAreRefused) {
  const int64_t B = 3, L = 5, W = kHeads * kHeadDim;
  Model &model = attentionModel();
  Tensor q = randomF32({B, L, W}, 1);
  for (std::vector<int64_t> shape :
       {std::vector<int64_t>{2, kHeads, L, L}, {B, 2, L, L}, {B, kHeads, L, 4}})
    try {
      model.run("bias_probs", {{"query", q},
                               {"key", q},
                               {"value", q},
                               {"bias", randomF32(shape, 5)}});
      ADD_FAILURE() << "bias of shape " << shapeString(shape) << " accepted";
    } catch (const Error &e) {
      EXPECT_NE(std::string(e.what()).find("bias"), std::string::npos)
          << e.what();
    }
}

} // namespace
