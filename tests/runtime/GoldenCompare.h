//===- GoldenCompare.h - Runtime outputs against golden data ----*- C++ -*-===//
//
// What the golden tests share: where tests/golden is, the error measure
// (the largest absolute difference between two [batch, rows, ...] tensors
// over the rows that hold tokens; rows >= lengths[b] are padding and
// skipped), and PyTorch's greedy tokens of one sequence.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TESTS_RUNTIME_GOLDENCOMPARE_H
#define ATTNC_TESTS_RUNTIME_GOLDENCOMPARE_H

#include "attnc/Runtime.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace attnc::test {

/// A file of tests/golden; the environment's ATTNC_GOLDEN_DIR, where set,
/// overrides the build's (scripts/gpu-check.sh runs the tests elsewhere).
inline std::string goldenFile(const std::string &name) {
  const char *dir = std::getenv("ATTNC_GOLDEN_DIR");
  return std::string(dir ? dir : ATTNC_GOLDEN_DIR) + "/" + name;
}

/// Sequence `b` of PyTorch's greedy tokens `greedy` ([batch, steps], eos
/// repeated after the end), up to and including the first `eos`.
inline std::vector<int32_t> greedyTokens(const Tensor &greedy, int64_t b,
                                         int32_t eos = 2) {
  int64_t steps = greedy.shape()[1];
  std::vector<int32_t> tokens;
  for (int64_t t = 0; t < steps; ++t) {
    tokens.push_back(greedy.i32Data()[b * steps + t]);
    if (tokens.back() == eos)
      break;
  }
  return tokens;
}

/// Max |actual - expected| over the valid rows; infinity (and a test
/// failure) when the shapes differ.
inline double maxValidError(const Tensor &actual, const Tensor &expected,
                            const Tensor &lengths) {
  EXPECT_EQ(actual.shape(), expected.shape());
  if (actual.shape() != expected.shape())
    return INFINITY;
  int64_t batch = actual.shape()[0], rows = actual.shape()[1];
  int64_t inner = actual.numel() / std::max<int64_t>(1, batch * rows);
  double error = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t r = 0; r < lengths.i32Data()[b]; ++r)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t at = (b * rows + r) * inner + i;
        error = std::max(error, double(std::fabs(actual.f32Data()[at] -
                                                 expected.f32Data()[at])));
      }
  return error;
}

} // namespace attnc::test

#endif // ATTNC_TESTS_RUNTIME_GOLDENCOMPARE_H
