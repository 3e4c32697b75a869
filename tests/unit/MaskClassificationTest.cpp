//===- MaskClassificationTest.cpp - Block classes against brute force -----===//
//
// The block classification of MaskClassification.h decides which (query
// tile, key block) pairs a kernel skips and which it computes without the
// mask, so a wrong "cannot be true" drops visible keys and a wrong "cannot
// be false" shows hidden ones. These tests evaluate each predicate at every
// point of each rectangle with the reference's own evaluator and require:
// exact classes for the masks attnc promises to skip exactly (causal,
// windows, block-diagonal on aligned tiles, prefix-LM, their
// intersections), and never a wrong "cannot" for thousands of random
// predicates over every operator.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/MaskClassification.h"
#include "attnc/Reference/Reference.h"

#include <gtest/gtest.h>

#include <random>

using namespace attnc;
using namespace attnc::kernels;

namespace {

using Node = std::shared_ptr<const Predicate>;
using Op = Predicate::Op;

Node make(Op op, std::vector<Node> operands, int64_t value = 0) {
  auto node = std::make_shared<Predicate>();
  node->op = op;
  node->value = value;
  node->operands = std::move(operands);
  return node;
}
Node var(int index) { return make(Op::Var, {}, index); }
Node num(int64_t value) { return make(Op::Const, {}, value); }
Node op(Op o, Node x, Node y) { return make(o, {x, y}); }
const Node B = var(0), H = var(1), Q = var(2), K = var(3);

struct Rectangle {
  int64_t b, h, qLo, qHi, kLo, kHi;
};

struct BruteForce {
  bool anyTrue = false, anyFalse = false;
};

BruteForce bruteForce(const Predicate &p, const Rectangle &r) {
  BruteForce result;
  for (int64_t q = r.qLo; q <= r.qHi; ++q)
    for (int64_t k = r.kLo; k <= r.kHi; ++k) {
      bool value = reference::evaluate(p, r.b, r.h, q, k) != 0;
      result.anyTrue |= value;
      result.anyFalse |= !value;
    }
  return result;
}

Truth<ExactArithmetic> classify(const Predicate &p, const Rectangle &r) {
  using Range = IntRange<ExactArithmetic>;
  MaskClassifier<ExactArithmetic> classifier(
      {Range::of(r.b, r.b, 32), Range::of(r.h, r.h, 32),
       Range::of(r.qLo, r.qHi, 32), Range::of(r.kLo, r.kHi, 32)});
  return classifier.truth(p);
}

std::string describe(const Predicate &p, const Rectangle &r) {
  return p.canonical() + " on b=" + std::to_string(r.b) +
         " h=" + std::to_string(r.h) + " q=[" + std::to_string(r.qLo) + ", " +
         std::to_string(r.qHi) + "] k=[" + std::to_string(r.kLo) + ", " +
         std::to_string(r.kHi) + "]";
}

/// Every aligned (tile, block) pair of a 0..length square, with a few
/// decode-style offsets of the query positions.
std::vector<Rectangle> alignedRectangles(int64_t tile, int64_t block,
                                         int64_t length) {
  std::vector<Rectangle> all;
  for (int64_t offset : {int64_t(0), tile * 3})
    for (int64_t q = 0; q < length; q += tile)
      for (int64_t k = 0; k < length + offset; k += block)
        all.push_back(
            {0, 1, q + offset, q + offset + tile - 1, k, k + block - 1});
  return all;
}

void expectExact(const Node &mask, int64_t tile, int64_t block) {
  for (const Rectangle &r : alignedRectangles(tile, block, 96)) {
    BruteForce truth = bruteForce(*mask, r);
    Truth<ExactArithmetic> c = classify(*mask, r);
    EXPECT_EQ(c.canBeTrue, truth.anyTrue) << describe(*mask, r);
    EXPECT_EQ(c.canBeFalse, truth.anyFalse) << describe(*mask, r);
  }
}

TEST(MaskClassification, CausalIsExact) {
  expectExact(op(Op::Le, K, Q), 8, 8);
  expectExact(op(Op::Le, K, Q), 4, 16);
  expectExact(op(Op::Ge, Q, K), 16, 4);
}

TEST(MaskClassification, DecodingNeedsLaterKeysHidden) {
  // What the runtime asks before it decodes one token at a time.
  Node causal = op(Op::Le, K, Q);
  Node window = op(Op::And, op(Op::Lt, op(Op::Sub, Q, K), num(4)),
                   op(Op::Lt, op(Op::Sub, K, Q), num(4)));
  EXPECT_TRUE(hidesLaterKeys(causal.get(), 2, 8, 100));
  EXPECT_TRUE(hidesLaterKeys(op(Op::And, causal, window).get(), 2, 8, 100));
  EXPECT_TRUE(
      hidesLaterKeys(op(Op::Lt, K, op(Op::Add, Q, num(1))).get(), 1, 1, 50));
  EXPECT_FALSE(hidesLaterKeys(nullptr, 1, 1, 10));
  EXPECT_FALSE(hidesLaterKeys(window.get(), 1, 1, 10));
  EXPECT_FALSE(
      hidesLaterKeys(op(Op::Or, op(Op::Lt, K, num(4)), causal).get(), 1, 1, 10))
      << "prefix-LM shows the prefix to earlier queries";
  // Later keys shown at one position only, and for one head only.
  EXPECT_FALSE(hidesLaterKeys(op(Op::Or, causal, op(Op::Eq, Q, num(37))).get(),
                              1, 1, 64));
  EXPECT_TRUE(hidesLaterKeys(op(Op::Or, causal, op(Op::Eq, Q, num(37))).get(),
                             1, 1, 37))
      << "position 37 is never decoded with a capacity of 37";
  EXPECT_FALSE(hidesLaterKeys(op(Op::Or, causal, op(Op::Eq, H, num(7))).get(),
                              1, 8, 16));
}

TEST(MaskClassification, WindowsAreExact) {
  for (int64_t w : {1, 3, 8, 17}) {
    Node window = op(Op::And, op(Op::Lt, op(Op::Sub, Q, K), num(w)),
                     op(Op::Lt, op(Op::Sub, K, Q), num(w)));
    expectExact(window, 8, 8);
    expectExact(op(Op::And, window, op(Op::Le, K, Q)), 4, 8);
  }
}

TEST(MaskClassification, BlockDiagonalIsExactOnAlignedTiles) {
  Node diagonal = op(Op::Eq, op(Op::Div, Q, num(16)), op(Op::Div, K, num(16)));
  expectExact(diagonal, 8, 8);
  expectExact(diagonal, 16, 4);
  expectExact(op(Op::And, diagonal, op(Op::Le, K, Q)), 4, 8);
}

TEST(MaskClassification, PrefixLmIsExact) {
  for (int64_t prefix : {0, 5, 16, 40}) {
    Node prefixLm = op(Op::Or, op(Op::Lt, K, num(prefix)), op(Op::Le, K, Q));
    expectExact(prefixLm, 8, 8);
    expectExact(prefixLm, 4, 16);
  }
}

TEST(MaskClassification, HeadAndBatchTermsAreExact) {
  // Every head sees a different window; batch 1 sees nothing.
  Node mask = op(Op::And, op(Op::Lt, op(Op::Sub, Q, K), op(Op::Add, H, num(2))),
                 op(Op::Ne, B, num(1)));
  for (int64_t b : {0, 1})
    for (int64_t h : {0, 3, 9})
      for (Rectangle r : alignedRectangles(8, 8, 64)) {
        r.b = b;
        r.h = h;
        BruteForce truth = bruteForce(*mask, r);
        Truth<ExactArithmetic> c = classify(*mask, r);
        EXPECT_EQ(c.canBeTrue, truth.anyTrue) << describe(*mask, r);
        EXPECT_EQ(c.canBeFalse, truth.anyFalse) << describe(*mask, r);
      }
}

/// A random well-typed predicate (as Sema admits them: conditions and
/// integers never mix) over every operator, integer subtrees of at most
/// `depth` levels.
class RandomPredicates {
public:
  explicit RandomPredicates(uint32_t seed) : random(seed) {}

  Node condition(int depth) {
    static const Op logical[] = {Op::And, Op::Or, Op::Xor, Op::Eq, Op::Ne};
    static const Op comparisons[] = {Op::Eq, Op::Ne, Op::Lt,
                                     Op::Le, Op::Gt, Op::Ge};
    if (depth > 0 && pick(3) == 0)
      return op(logical[pick(5)], condition(depth - 1), condition(depth - 1));
    if (pick(16) == 0) // `true` or `false`, as `!c` lowers to c ^ true.
      return num(pick(2));
    return op(comparisons[pick(6)], integer(depth), integer(depth));
  }

  Node integer(int depth) {
    static const Op arithmetic[] = {Op::Add, Op::Sub, Op::Mul, Op::Div,
                                    Op::Rem, Op::Min, Op::Max};
    int choice = depth > 0 ? pick(10) : pick(4);
    if (choice < 2)
      return var(pick(4));
    if (choice == 2)
      return num(int64_t(pick(41)) - 20);
    if (choice == 3)
      return var(2 + pick(2));
    Op o = arithmetic[pick(7)];
    // Constant divisors mostly, sometimes an index (which may be zero).
    Node rhs = (o == Op::Div || o == Op::Rem) && pick(3) != 0
                   ? num(int64_t(pick(23)) - 11)
                   : integer(depth - 1);
    return op(o, integer(depth - 1), rhs);
  }

  Rectangle rectangle() {
    int64_t qLo = pick(48), kLo = pick(48);
    return {int64_t(pick(3)), int64_t(pick(5)), qLo, qLo + pick(12), kLo,
            kLo + pick(12)};
  }

private:
  std::mt19937 random;
  int pick(int n) { return int(random() % uint32_t(n)); }
};

TEST(MaskClassification, RandomPredicatesAreNeverMisclassified) {
  RandomPredicates generate(20261130);
  int cases = 0, exact = 0;
  for (int i = 0; i < 3000; ++i) {
    Node mask = generate.condition(3);
    for (int j = 0; j < 8; ++j) {
      Rectangle r = generate.rectangle();
      BruteForce truth = bruteForce(*mask, r);
      Truth<ExactArithmetic> c = classify(*mask, r);
      // "Cannot be true" and "cannot be false" must be right.
      if (!c.canBeTrue)
        ASSERT_FALSE(truth.anyTrue) << describe(*mask, r);
      if (!c.canBeFalse)
        ASSERT_FALSE(truth.anyFalse) << describe(*mask, r);
      ++cases;
      exact += c.canBeTrue == truth.anyTrue && c.canBeFalse == truth.anyFalse;
    }
  }
  // Most random rectangles are classified exactly too; far fewer would
  // mean the arithmetic gave up (unbounded) where it need not.
  EXPECT_GT(exact, cases / 2);
  std::printf("exact on %d of %d random (predicate, rectangle) pairs\n", exact,
              cases);
}

TEST(MaskClassification, OverflowingProductsAreUnknown) {
  // q * k * q * k can exceed 64 bits: neither class may be claimed.
  Node product = op(Op::Mul, op(Op::Mul, Q, K), op(Op::Mul, Q, K));
  Node huge = op(Op::Gt, op(Op::Mul, product, product), num(0));
  Rectangle r{0, 0, 1 << 20, (1 << 20) + 3, 1 << 20, (1 << 20) + 3};
  Truth<ExactArithmetic> c = classify(*huge, r);
  EXPECT_TRUE(c.canBeTrue);
  EXPECT_TRUE(c.canBeFalse);
}

} // namespace
