//===- T5GoldenTest.cpp - A score function against PyTorch ---------------===//
//
// tests/golden/make_t5_golden.py wrote the weights of t5.attn's model, a
// T5-style encoder whose relative position bias is a score function
// (`s + relative_attention_bias(h, t5_bucket(k - q, 32, 128, true))`),
// and, from a plain PyTorch implementation with HuggingFace's bucket
// function, its encoder output for three cases (batch 2 with padding, one
// token, and 300 tokens, past max_distance). The runtime must match every
// valid position within 1e-4 max abs error; the reference's t5Bucket must
// give PyTorch's buckets for every k - q in [-300, 300].
//
//===----------------------------------------------------------------------===//

#include "GoldenCompare.h"
#include "attnc/Reference/Reference.h"
#include "attnc/Runtime.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdlib>
#include <string>

// The registry under test: the host build, or (ATTNC_T5_REGISTRY) a GPU
// build of the same model in attnc-{cuda,opencl}-golden-tests.
#ifndef ATTNC_T5_REGISTRY
#define ATTNC_T5_REGISTRY t5_registry__host
#endif
extern "C" const attnc_registry ATTNC_T5_REGISTRY;

using namespace attnc;

namespace {

constexpr double kTolerance = 1e-4;

const Weights &cases() {
  static Weights w = Weights::load(test::goldenFile("t5_cases.safetensors"));
  return w;
}

TEST(T5Golden, EncoderOutputMatchesPyTorch) {
  Model model = Model::load(ATTNC_T5_REGISTRY,
                            Weights::load(test::goldenFile("t5.safetensors")));
  for (std::string c : {"two_padded", "one_token", "long"}) {
    SCOPED_TRACE(c);
    const Tensor &lengths = cases().get(c + ".src_lengths");
    auto out =
        model.run("t5_encode", {{"src_tokens", cases().get(c + ".src_tokens")},
                                {"src_lengths", lengths}});
    EXPECT_LT(test::maxValidError(out.at("memory"), cases().get(c + ".memory"),
                                  lengths),
              kTolerance);
  }
}

TEST(T5Golden, BucketsArePyTorchs) {
  for (bool bidirectional : {true, false}) {
    const Tensor &expected =
        cases().get(bidirectional ? "buckets.bidirectional" : "buckets.causal");
    ASSERT_EQ(expected.numel(), 601);
    for (int64_t rel = -300; rel <= 300; ++rel)
      EXPECT_EQ(reference::t5Bucket(rel, 32, 128, bidirectional),
                expected.i32Data()[rel + 300])
          << "k - q = " << rel << (bidirectional ? "" : " causal");
  }
}

} // namespace
