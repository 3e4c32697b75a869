//===- GoldenTest.cpp - The dates app against PyTorch's greedy decode ----===//
//
// dates_golden.safetensors (make_goldens.py) holds, for a fixed set of
// inputs, PyTorch's greedy-decoded tokens and the last decoder layer's
// cross-attention map (averaged over heads) at every step, computed with
// the committed weights. DateTranslator must produce the same tokens and
// maps within 1e-4.
//
//===----------------------------------------------------------------------===//

#include "DateTranslator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

// The registry under test: the host build, or (ATTNC_DATES_REGISTRY) a GPU
// build of the same model in attnc-{cuda,opencl}-golden-tests.
#ifndef ATTNC_DATES_REGISTRY
#define ATTNC_DATES_REGISTRY dates_registry__host
#endif
extern "C" const attnc_registry ATTNC_DATES_REGISTRY;

namespace {

// The environment's ATTNC_DATES_DIR, where set, overrides the build's
// (scripts/gpu-check.sh runs these tests on another machine).
const std::string kDir = std::getenv("ATTNC_DATES_DIR")
                             ? std::getenv("ATTNC_DATES_DIR")
                             : ATTNC_DATES_DIR;

const char *const kInputs[] = {
    "22 Nov 2026", "November 22nd, 2026", "Sunday, 22 November 2026",
    "22/11/26",    "2026年11月22日",      "the 1st of march 1901",
    "31.12.2099"};

TEST(DatesGolden, TokensAndAttentionMatchPyTorch) {
  dates::DateTranslator translator(ATTNC_DATES_REGISTRY, kDir + "/vocab.json",
                                   kDir + "/dates.safetensors");
  attnc::Weights golden =
      attnc::Weights::load(kDir + "/dates_golden.safetensors");
  int index = 0;
  for (const char *input : kInputs) {
    SCOPED_TRACE(input);
    std::string prefix = std::to_string(index++) + ".";
    const attnc::Tensor &source = golden.get(prefix + "source");
    std::vector<int32_t> encoded = translator.encode(input, nullptr);
    ASSERT_EQ(encoded, std::vector<int32_t>(source.i32Data(),
                                            source.i32Data() + source.numel()));

    dates::Translation t = translator.translate(input);
    const attnc::Tensor &tokens = golden.get(prefix + "tokens");
    const attnc::Tensor &maps = golden.get(prefix + "attention");
    // Neither list holds the final eos.
    ASSERT_EQ(t.tokens.size(), size_t(tokens.numel()));
    for (size_t i = 0; i < t.tokens.size(); ++i)
      EXPECT_EQ(t.tokens[i], tokens.i32Data()[i]) << "step " << i;
    ASSERT_EQ(maps.shape(), (std::vector<int64_t>{int64_t(t.tokens.size()),
                                                  int64_t(encoded.size())}));
    double worst = 0;
    for (size_t i = 0; i < t.attention.size(); ++i)
      for (size_t j = 0; j < encoded.size(); ++j)
        worst =
            std::max(worst, std::fabs(double(t.attention[i][j]) -
                                      maps.f32Data()[i * encoded.size() + j]));
    EXPECT_LE(worst, 1e-4);
  }
}

TEST(DatesGolden, BadLinesAreRejectedWithAReason) {
  dates::DateTranslator translator(ATTNC_DATES_REGISTRY, kDir + "/vocab.json",
                                   kDir + "/dates.safetensors");
  auto messageOf = [&](const std::string &line) {
    try {
      translator.translate(line);
    } catch (const attnc::Error &error) {
      return std::string(error.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(messageOf(""), "the line is empty");
  EXPECT_EQ(messageOf("22 Nov 2026 \xF0\x9F\x99\x82"),
            "'\xF0\x9F\x99\x82' (U+1F642) is not a character the model knows");
  EXPECT_EQ(messageOf(std::string(41, '1')),
            "41 characters, more than the 40 the model accepts");
  EXPECT_EQ(messageOf("\xC3"), "byte 1 is not valid UTF-8");
  // The translator still works after rejecting lines.
  EXPECT_EQ(translator.translate("22 Nov 2026").text, "2026-11-22");
}

} // namespace
