//===- ScoreFunctionTest.cpp - Score functions from Sema to the spec ------===//
//
// Sema's tree of a score function, its canonical text and parse round trip,
// the JSON and canonical forms of a spec with and without one (without,
// nothing is printed, so existing kernels keep their names), the
// built-ins written as one expression, and the kernels' integer
// thresholds for T5's bucket against the reference's direct f32 formula.
//
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"
#include "attnc/Lowering/KernelSpec.h"
#include "attnc/Reference/Reference.h"

#include "gtest/gtest.h"

using namespace attnc;
using namespace attnc::test;

namespace {

TEST(ScoreFunction, SemaBuildsTheTree) {
  Snippet snippet(R"(
const buckets = 32;
attention a {
  heads = 4; head_dim = 16;
  tensors = [rel(4, buckets)];
  score_mod = [alibi, score(x, bb, hh, qq, kk) {
    -x / 2.0 + rel(hh, t5_bucket(kk - qq, buckets, 128, true)) * (qq % 2)
  }];
}
)");
  auto unit = snippet.analyze();
  ASSERT_TRUE(unit) << snippet.output();
  const AttentionSpec &a = *unit->attentions.at(0);
  ASSERT_TRUE(a.scoreFn);
  EXPECT_EQ(a.scoreFn->canonical(),
            "(add (div (sub 0 (sub s (mul (alibi_slope h 4) (abs (sub q "
            "k))))) (float 2)) (mul (tensor 0 h (t5_bucket (sub k q) 32 128 "
            "1)) (rem q 2)))");
  ASSERT_EQ(a.scoreTensors.size(), 1u);
  EXPECT_EQ(a.scoreTensors[0].name, "rel");
  EXPECT_EQ(a.scoreTensors[0].shape, (std::vector<int64_t>{4, 32}));
}

TEST(ScoreFunction, CanonicalTextParsesBack) {
  std::string text = "(add (select (and (lt k q) (xor (eq h 0) 1)) (tanh s) "
                     "(float -0.25)) (tensor 1 (t5_bucket (sub k q) 16 64 0) "
                     "(abs (div b -3))))";
  EXPECT_EQ(kernels::Predicate::parse(text)->canonical(), text);
  EXPECT_THROW(kernels::Predicate::parse("(add s"), std::invalid_argument);
  EXPECT_THROW(kernels::Predicate::parse("(nosuch s)"), std::invalid_argument);
  EXPECT_THROW(kernels::Predicate::parse("s s"), std::invalid_argument);
}

kernels::KernelSpec t5Spec() {
  kernels::AttentionSpec a;
  a.heads = a.kvHeads = 4;
  a.headDim = a.valueDim = 16;
  a.scale = 1.0;
  a.scoreFn = kernels::Predicate::parse(
      "(add s (tensor 0 h (t5_bucket (sub k q) 32 128 1)))");
  a.scoreTensors = {{"rel", {4, 32}}};
  return {a, kernels::DType::F32};
}

TEST(ScoreFunction, SpecTextAndJSON) {
  kernels::KernelSpec spec = t5Spec();
  std::string canonical = spec.canonical();
  EXPECT_NE(canonical.find(" score_fn=(add s (tensor 0 h (t5_bucket (sub k "
                           "q) 32 128 1))) score_tensors=rel:4:32"),
            std::string::npos)
      << canonical;
  EXPECT_NE(spec.name().find("_scorefn_"), std::string::npos);
  kernels::KernelSpec back = kernels::KernelSpec::fromJSON(spec.toJSON());
  EXPECT_EQ(back.canonical(), canonical);
  std::vector<kernels::ArgumentSig> args = spec.signature();
  ASSERT_GE(args.size(), 5u);
  EXPECT_EQ(args[3].name, "rel") << "after query, key, value";
  ASSERT_EQ(args[3].dims.size(), 2u);
  EXPECT_EQ(args[3].dims[1].extent, 32);

  // Without a score function nothing is printed: names stay as they were.
  kernels::AttentionSpec plain = std::get<kernels::AttentionSpec>(spec.family);
  plain.scoreFn = nullptr;
  plain.scoreTensors.clear();
  kernels::KernelSpec plainSpec{plain, kernels::DType::F32};
  EXPECT_EQ(plainSpec.canonical().find("score_fn"), std::string::npos);
  EXPECT_EQ(plainSpec.toJSON().find("score_fn"), std::string::npos);
  EXPECT_EQ(kernels::KernelSpec::fromJSON(plainSpec.toJSON()).canonical(),
            plainSpec.canonical());
}

TEST(ScoreFunction, T5ThresholdsGiveTheReferenceBuckets) {
  for (int64_t buckets : {4, 8, 32, 64, 128, 1024})
    for (int64_t distance : {int64_t(64), int64_t(128), int64_t(1000)})
      for (bool bidirectional : {true, false}) {
        int64_t n = bidirectional ? buckets / 2 : buckets;
        if (distance <= n / 2)
          continue;
        std::vector<int64_t> thresholds =
            kernels::t5BucketThresholds(buckets, distance, bidirectional);
        ASSERT_EQ(int64_t(thresholds.size()), n - n / 2 - 1);
        for (int64_t rel = -3 * distance; rel <= 3 * distance; ++rel) {
          int64_t bucket = 0, r = rel;
          if (bidirectional) {
            bucket = rel > 0 ? n : 0;
            r = std::llabs(rel);
          } else {
            r = rel < 0 ? -rel : 0;
          }
          if (r < n / 2) {
            bucket += r;
          } else {
            bucket += n / 2;
            for (int64_t t : thresholds)
              bucket += r >= t;
          }
          ASSERT_EQ(bucket,
                    reference::t5Bucket(rel, buckets, distance, bidirectional))
              << "rel " << rel << " buckets " << buckets << " distance "
              << distance << " bidirectional " << bidirectional;
        }
      }
}

} // namespace
