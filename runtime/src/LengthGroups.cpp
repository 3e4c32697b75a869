//===- LengthGroups.cpp - A batch's sequences in groups of similar length -===//
//
// groupByLength: see LengthGroups.h. In sorted order a group that skips a
// row never costs less than one that takes it instead of a longer one, so
// the best partition is a set of consecutive runs; best[i] is the cost of
// the first i rows, O(n^2) for n rows.
//
//===----------------------------------------------------------------------===//

#include "LengthGroups.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace attnc::runtime {

std::vector<LengthGroup> groupByLength(const std::vector<int64_t> &lengths,
                                       int64_t callCost) {
  const size_t n = lengths.size();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return lengths[size_t(a)] < lengths[size_t(b)];
  });
  // best[i]: the least cost of the first i rows in order; start[i]: where
  // the last of their groups begins.
  std::vector<int64_t> best(n + 1, std::numeric_limits<int64_t>::max());
  std::vector<size_t> start(n + 1, 0);
  best[0] = 0;
  for (size_t end = 1; end <= n; ++end) {
    int64_t longest = lengths[size_t(order[end - 1])];
    for (size_t from = 0; from < end; ++from) {
      int64_t cost = best[from] + int64_t(end - from) * longest + callCost;
      if (cost < best[end]) {
        best[end] = cost;
        start[end] = from;
      }
    }
  }
  std::vector<LengthGroup> groups;
  for (size_t end = n; end > 0; end = start[end]) {
    LengthGroup group;
    group.rows.assign(order.begin() + int64_t(start[end]),
                      order.begin() + int64_t(end));
    group.length = lengths[size_t(order[end - 1])];
    groups.push_back(std::move(group));
  }
  std::reverse(groups.begin(), groups.end());
  return groups;
}

} // namespace attnc::runtime
