//===- GoldenCompare.h - Runtime outputs against golden data ----*- C++ -*-===//
//
// The error measure of the golden tests: the largest absolute difference
// between two [batch, rows, ...] tensors over the rows that hold tokens
// (rows >= lengths[b] are padding and skipped).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TESTS_RUNTIME_GOLDENCOMPARE_H
#define ATTNC_TESTS_RUNTIME_GOLDENCOMPARE_H

#include "attnc/Runtime.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>

namespace attnc::test {

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
