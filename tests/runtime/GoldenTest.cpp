//===- GoldenTest.cpp - The runtime against PyTorch's nn.Transformer ------===//
//
// tests/golden/make_goldens.py wrote a small nn.Transformer's weights and,
// for three cases (batch 2 and 3 with padding, and a single token), its
// encoder output, decoder logits, head-mean cross-attention maps and
// greedy-decoded tokens. The runtime must match every valid (unpadded)
// position within 1e-4 max abs error, and produce identical tokens.
//
//===----------------------------------------------------------------------===//

#include "GoldenCompare.h"
#include "attnc/Runtime.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdlib>
#include <string>

// The registry under test: the host build, or (ATTNC_GOLDEN_REGISTRY) a GPU
// build of the same model in attnc-{cuda,opencl}-golden-tests.
#ifndef ATTNC_GOLDEN_REGISTRY
#define ATTNC_GOLDEN_REGISTRY tiny_registry__host
#endif
extern "C" const attnc_registry ATTNC_GOLDEN_REGISTRY;

using namespace attnc;

namespace {

constexpr double kTolerance = 1e-4;
const char *const kCases[] = {"two_padded", "one_token", "three_long"};

const Weights &cases() {
  static Weights w = Weights::load(test::goldenFile("tiny_cases.safetensors"));
  return w;
}

Model &model() {
  static Model m =
      Model::load(ATTNC_GOLDEN_REGISTRY,
                  Weights::load(test::goldenFile("tiny.safetensors")));
  return m;
}

const Tensor &golden(const std::string &name) { return cases().get(name); }

TEST(Golden, EncoderOutput) {
  for (std::string c : kCases) {
    SCOPED_TRACE(c);
    auto out = model().run("tiny_encode",
                           {{"src_tokens", golden(c + ".src_tokens")},
                            {"src_lengths", golden(c + ".src_lengths")}});
    EXPECT_LT(test::maxValidError(out.at("memory"), golden(c + ".memory"),
                                  golden(c + ".src_lengths")),
              kTolerance);
  }
}

TEST(Golden, DecoderOutputAndCrossAttention) {
  for (std::string c : kCases) {
    SCOPED_TRACE(c);
    auto out = model().run("tiny_decode",
                           {{"tgt_tokens", golden(c + ".tgt_tokens")},
                            {"tgt_lengths", golden(c + ".tgt_lengths")},
                            {"memory", golden(c + ".memory")},
                            {"src_lengths", golden(c + ".src_lengths")}});
    EXPECT_LT(test::maxValidError(out.at("logits"), golden(c + ".logits"),
                                  golden(c + ".tgt_lengths")),
              kTolerance);
    for (int layer = 0; layer < 2; ++layer)
      EXPECT_LT(test::maxValidError(
                    out.at("decoder.layers." + std::to_string(layer) +
                           ".multihead_attn.probs"),
                    golden(c + ".cross_probs." + std::to_string(layer)),
                    golden(c + ".tgt_lengths")),
                kTolerance)
          << "layer " << layer;
  }
}

TEST(Golden, FullModel) {
  for (std::string c : kCases) {
    SCOPED_TRACE(c);
    auto encoded = model().run("tiny_encode",
                               {{"src_tokens", golden(c + ".src_tokens")},
                                {"src_lengths", golden(c + ".src_lengths")}});
    auto out = model().run("tiny_decode",
                           {{"tgt_tokens", golden(c + ".tgt_tokens")},
                            {"tgt_lengths", golden(c + ".tgt_lengths")},
                            {"memory", encoded.at("memory")},
                            {"src_lengths", golden(c + ".src_lengths")}});
    EXPECT_LT(test::maxValidError(out.at("logits"), golden(c + ".logits"),
                                  golden(c + ".tgt_lengths")),
              kTolerance);
  }
}

TEST(Golden, GreedyDecodingWithTheCacheGivesPyTorchsTokens) {
  for (std::string c : kCases) {
    SCOPED_TRACE(c);
    const Tensor &expected =
        golden(c + ".greedy"); // [batch, steps], eos-padded
    DecodeOptions options;
    options.bos = 1;
    options.eos = 2;
    options.maxSteps = 12;
    DecodeResult result = model().greedyDecode(
        golden(c + ".src_tokens"), golden(c + ".src_lengths"), options);
    int64_t batch = expected.shape()[0];
    ASSERT_EQ(int64_t(result.tokens.size()), batch);
    for (int64_t b = 0; b < batch; ++b)
      EXPECT_EQ(result.tokens[size_t(b)], test::greedyTokens(expected, b))
          << "sequence " << b;
  }
}

TEST(Golden, ForcedPrefixesOfDifferentLengthsContinueAsPyTorchDid) {
  // Sequence b is forced through bos and its first b + 1 PyTorch tokens
  // (DecodeOptions::prompts, fed through the cache one per step); from
  // there the cache must generate PyTorch's remaining tokens.
  for (std::string c : kCases) {
    SCOPED_TRACE(c);
    const Tensor &expected = golden(c + ".greedy"); // [batch, steps]
    int64_t batch = expected.shape()[0];
    DecodeOptions options;
    options.maxSteps = 8;
    std::vector<std::vector<int32_t>> want{size_t(batch)};
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<int32_t> tokens = test::greedyTokens(expected, b);
      size_t forced = std::min(size_t(b + 1), tokens.size() - 1);
      std::vector<int32_t> prompt = {1};
      prompt.insert(prompt.end(), tokens.begin(), tokens.begin() + forced);
      options.prompts.push_back(prompt);
      want[size_t(b)].assign(tokens.begin() + forced, tokens.end());
      if (want[size_t(b)].size() > size_t(options.maxSteps))
        want[size_t(b)].resize(size_t(options.maxSteps));
    }
    DecodeResult result = model().greedyDecode(
        golden(c + ".src_tokens"), golden(c + ".src_lengths"), options);
    for (int64_t b = 0; b < batch; ++b)
      EXPECT_EQ(result.tokens[size_t(b)], want[size_t(b)]) << "sequence " << b;
  }
}

TEST(Golden, DecodingStepByStepMatchesTheWholeSequence) {
  // The cached step path and the whole-sequence path agree on the
  // cross-attention maps of the greedy tokens.
  const std::string c = "two_padded";
  DecodeOptions options;
  options.maxSteps = 6;
  options.collect = {"decoder.layers.1.multihead_attn.probs", "logits"};
  DecodeResult result = model().greedyDecode(
      golden(c + ".src_tokens"), golden(c + ".src_lengths"), options);
  const auto &steps = result.collected.at("logits");
  ASSERT_EQ(steps.size(), 6u);
  // Rebuild the target prefix every sequence saw and run it whole.
  int64_t batch = 2, T = int64_t(steps.size());
  std::vector<int32_t> tgt(size_t(batch * T));
  for (int64_t b = 0; b < batch; ++b) {
    tgt[size_t(b * T)] = 1;
    for (int64_t t = 1; t < T; ++t) {
      const std::vector<int32_t> &row = result.tokens[size_t(b)];
      tgt[size_t(b * T + t)] =
          t - 1 < int64_t(row.size()) ? row[size_t(t - 1)] : 2;
    }
  }
  auto encoded =
      model().run("tiny_encode", {{"src_tokens", golden(c + ".src_tokens")},
                                  {"src_lengths", golden(c + ".src_lengths")}});
  auto whole = model().run(
      "tiny_decode",
      {{"tgt_tokens", Tensor::i32({batch, T}, tgt)},
       {"tgt_lengths", Tensor::i32({batch}, {int32_t(T), int32_t(T)})},
       {"memory", encoded.at("memory")},
       {"src_lengths", golden(c + ".src_lengths")}});
  const Tensor &logits = whole.at("logits");
  int64_t vocab = logits.shape()[2];
  double error = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t v = 0; v < vocab; ++v)
        error = std::max(
            error,
            double(std::fabs(steps[size_t(t)].f32Data()[b * vocab + v] -
                             logits.f32Data()[(b * T + t) * vocab + v])));
  EXPECT_LT(error, kTolerance);
}

} // namespace
