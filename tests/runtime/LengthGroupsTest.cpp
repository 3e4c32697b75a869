//===- LengthGroupsTest.cpp - Encoding a batch in groups of similar length ===//
//
// groupByLength's groups (runtime/src/LengthGroups.h, private to the
// runtime) against the cost they are chosen by; and greedy decoding of the
// golden tests' model with the sources encoded in groups against the same
// batch encoded in one padded call (that path is held to PyTorch by
// GoldenTest.cpp): the same tokens, logits and cross-attention maps.
//
//===----------------------------------------------------------------------===//

#include "LengthGroups.h"
#include "GoldenCompare.h"
#include "attnc/Runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <random>
#include <set>

extern "C" const attnc_registry tiny_registry__host;
extern "C" const attnc_registry tiny_activations_registry__host;

using namespace attnc;
using runtime::groupByLength;
using runtime::LengthGroup;

namespace {

/// What groupByLength minimizes.
int64_t costOf(const std::vector<LengthGroup> &groups, int64_t callCost) {
  int64_t cost = 0;
  for (const LengthGroup &g : groups)
    cost += int64_t(g.rows.size()) * g.length + callCost;
  return cost;
}

/// Every row in exactly one group, each group padded to its longest row.
void expectPartition(const std::vector<LengthGroup> &groups,
                     const std::vector<int64_t> &lengths) {
  std::set<int64_t> seen;
  for (const LengthGroup &g : groups) {
    int64_t longest = 0;
    for (int64_t row : g.rows) {
      EXPECT_TRUE(seen.insert(row).second) << "row " << row << " twice";
      longest = std::max(longest, lengths[size_t(row)]);
    }
    EXPECT_EQ(g.length, longest);
  }
  EXPECT_EQ(seen.size(), lengths.size());
}

TEST(LengthGroups, EqualLengthsStayOneGroup) {
  std::vector<int64_t> lengths(16, 37);
  std::vector<LengthGroup> groups = groupByLength(lengths, 40);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].length, 37);
  expectPartition(groups, lengths);
}

TEST(LengthGroups, SpreadLengthsSplitWhereItPays) {
  // The serving benchmark's 16 source lengths (bench/compare, seed 20).
  std::vector<int64_t> lengths = {58, 23, 22, 34, 59, 14, 22, 37,
                                  21, 31, 27, 12, 9,  13, 45, 64};
  std::vector<LengthGroup> groups = groupByLength(lengths, 40);
  expectPartition(groups, lengths);
  // 3 groups: the 8 shortest (up to 23 tokens), 27 to 37, 45 to 64.
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].length, 23);
  EXPECT_EQ(groups[1].length, 37);
  EXPECT_EQ(groups[2].length, 64);
  EXPECT_EQ(costOf(groups, 40), 708);
  // Never worse than one padded batch, nor than a group per row.
  std::vector<LengthGroup> one = {{{}, 64}}, each;
  for (size_t i = 0; i < lengths.size(); ++i) {
    one[0].rows.push_back(int64_t(i));
    each.push_back({{int64_t(i)}, lengths[i]});
  }
  EXPECT_LE(costOf(groups, 40), costOf(one, 40));
  EXPECT_LE(costOf(groups, 40), costOf(each, 40));
  // Free calls: a group per distinct length; dear ones: one group.
  EXPECT_EQ(groupByLength(lengths, 0).size(), 15u); // 22 twice.
  EXPECT_EQ(groupByLength(lengths, 100000).size(), 1u);
}

TEST(LengthGroups, MinimalOverEveryPartitionOfASmallBatch) {
  // Exhaustive: every way to cut the sorted rows into runs.
  std::mt19937 rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<int64_t> lengths(7);
    for (int64_t &n : lengths)
      n = 1 + int64_t(rng() % 64);
    int64_t callCost = int64_t(rng() % 80);
    std::vector<int64_t> sorted = lengths;
    std::sort(sorted.begin(), sorted.end());
    int64_t best = INT64_MAX;
    for (unsigned cuts = 0; cuts < (1u << 6); ++cuts) {
      int64_t cost = 0;
      size_t from = 0;
      for (size_t end = 1; end <= 7; ++end)
        if (end == 7 || (cuts >> (end - 1)) & 1) {
          cost += int64_t(end - from) * sorted[end - 1] + callCost;
          from = end;
        }
      best = std::min(best, cost);
    }
    std::vector<LengthGroup> groups = groupByLength(lengths, callCost);
    expectPartition(groups, lengths);
    EXPECT_EQ(costOf(groups, callCost), best) << "trial " << trial;
  }
}

/// Greedy decoding of `model` with the sources in groups (and the
/// memory's projections over each source's own positions) and in one
/// padded batch: the same tokens, and logits and cross-attention maps
/// within `tolerance`.
void expectGroupsMatchOneBatch(Model &model, const std::string &name,
                               double tolerance) {
  const std::vector<int64_t> lengths = {33, 1, 60, 7, 18, 50, 3, 25, 41, 12};
  const int64_t batch = int64_t(lengths.size()), width = 60;
  ASSERT_GT(groupByLength(lengths).size(), 1u) << "the test needs groups";
  std::mt19937 rng(11);
  std::vector<int32_t> tokens(size_t(batch * width), 0), srcLengths;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < lengths[size_t(b)]; ++t)
      tokens[size_t(b * width + t)] = int32_t(3 + rng() % 17);
    srcLengths.push_back(int32_t(lengths[size_t(b)]));
  }
  Tensor src = Tensor::i32({batch, width}, tokens);
  Tensor srcLen = Tensor::i32({batch}, srcLengths);
  DecodeOptions options;
  options.maxSteps = 10;
  options.eos = -1; // Every step, for every sequence.
  options.collect = {"logits", "decoder.layers.1.multihead_attn.probs"};
  DecodeResult grouped = model.greedyDecode(src, srcLen, options, name);
  options.groupSourcesByLength = false;
  DecodeResult whole = model.greedyDecode(src, srcLen, options, name);

  EXPECT_EQ(grouped.tokens, whole.tokens);
  for (const std::string &output : options.collect) {
    SCOPED_TRACE(output);
    const std::vector<Tensor> &a = grouped.collected.at(output),
                              &b = whole.collected.at(output);
    ASSERT_EQ(a.size(), b.size());
    double worst = 0;
    for (size_t t = 0; t < a.size(); ++t) {
      ASSERT_EQ(a[t].shape(), b[t].shape());
      for (int64_t i = 0; i < a[t].numel(); ++i)
        worst = std::max(
            worst, std::fabs(double(a[t].f32Data()[i]) - b[t].f32Data()[i]));
    }
    EXPECT_LT(worst, tolerance);
  }
}

TEST(LengthGroups, GreedyDecodingInGroupsMatchesOnePaddedBatch) {
  static Model model = Model::load(
      tiny_registry__host, Weights::load(test::goldenFile("tiny.safetensors")));
  expectGroupsMatchOneBatch(model, "", 1e-4);
}

TEST(LengthGroups, GroupsOfBf16ActivationsMatchOnePaddedBatch) {
  // The memory is bf16 (2-byte elements): scattered and zeroed as such.
  static Model model =
      Model::load(tiny_activations_registry__host,
                  Weights::load(test::goldenFile("tiny.safetensors")));
  expectGroupsMatchOneBatch(model, "tiny_act", 1e-4);
}

} // namespace
