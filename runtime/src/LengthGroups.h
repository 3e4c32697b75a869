//===- LengthGroups.h - A batch's sequences in groups of similar length --*- C++
//-*-===//
//
// Private to the runtime. A batch of sentences padded to its longest one
// spends the encoder's work on padding: serving 16 sentences of 8 to 64
// tokens, about half of the positions. Encoding the batch in groups, each
// padded only to its own longest sentence, computes fewer positions but
// makes more kernel calls. groupByLength picks the groups that minimize
// positions computed plus a fixed cost per group (dynamic programming over
// the lengths in sorted order: the best groups are runs of that order).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_RUNTIME_LENGTHGROUPS_H
#define ATTNC_RUNTIME_LENGTHGROUPS_H

#include <cstdint>
#include <vector>

namespace attnc::runtime {

/// What one more encoder call costs, in padded positions computed. The 6+6
/// model's encoder with 2 threads on the AVX-512 EPYC of
/// docs/performance.md: 3.3 ms for 1 x 8 tokens, 11.9 for 1 x 64, 35 for 4 x
/// 64, 118 for 16 x 64; about 0.11 ms a position, and calls of a few hundred
/// positions pay 3 to 7 ms more than that.
constexpr int64_t kEncoderCallCost = 40;

/// Sequences encoded together, padded to `length`, their longest.
struct LengthGroup {
  std::vector<int64_t> rows; ///< Indices into the batch, shortest first.
  int64_t length = 0;
};

/// The batch's rows (`lengths[i]` tokens in row i) in groups that minimize
/// the sum over groups of rows * length + callCost; shortest group first,
/// every row in exactly one group. One group when nothing is gained.
std::vector<LengthGroup> groupByLength(const std::vector<int64_t> &lengths,
                                       int64_t callCost = kEncoderCallCost);

} // namespace attnc::runtime

#endif // ATTNC_RUNTIME_LENGTHGROUPS_H
