//===- MaskClassification.h - Which key blocks a mask hides -----*- C++ -*-===//
//
// Interval arithmetic over a mask predicate. Given a range for each of its
// indices (batch, head, a query tile's positions, a key block's positions)
// it says whether the predicate can be true and whether it can be false
// somewhere on that rectangle: a block where it cannot be true is skipped,
// one where it cannot be false runs without the mask. Each operator's
// result range holds every value the operator can produce there, so
// "cannot" is never claimed wrongly; the answer is exact for the masks made
// of monotone terms compared once (causal, windows, block-diagonal on
// aligned tiles, prefix-LM), and merely conservative ("partial") otherwise.
//
// The code is written once over an arithmetic `A`: `ExactArithmetic` below
// computes on int64_t (tests check it against brute force), and the
// attention algorithm instantiates it with Halide expressions, so the
// kernel evaluates a few integer operations per (tile, block) pair at run
// time, where lengths and the decode offset are known.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LOWERING_MASKCLASSIFICATION_H
#define ATTNC_LOWERING_MASKCLASSIFICATION_H

#include "attnc/Lowering/KernelSpec.h"

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>

namespace attnc {
namespace kernels {

/// Whether `p` yields a condition rather than an integer.
inline bool isCondition(const Predicate &p) {
  using Op = Predicate::Op;
  switch (p.op) {
  case Op::Eq:
  case Op::Ne:
  case Op::Lt:
  case Op::Le:
  case Op::Gt:
  case Op::Ge:
  case Op::And:
  case Op::Or:
  case Op::Xor:
    return true;
  default:
    return false;
  }
}

/// Plain int64_t arithmetic, C semantics (truncating / and %, x / 0 = 0).
struct ExactArithmetic {
  using Int = int64_t;
  using Bool = bool;
  static Int constant(int64_t value) { return value; }
  static Bool truth(bool value) { return value; }
  static Int min(Int a, Int b) { return std::min(a, b); }
  static Int max(Int a, Int b) { return std::max(a, b); }
  static Int select(Bool c, Int a, Int b) { return c ? a : b; }
  static Int div(Int a, int64_t c) { return c == 0 ? 0 : a / c; }
  static Int rem(Int a, int64_t c) { return c == 0 ? 0 : a % c; }
};

/// The values an integer subexpression can take: [lo, hi] when `bounded`.
/// `bits` bounds their magnitude (< 2^bits) at compile time; a range that
/// might overflow 64-bit arithmetic is treated as unbounded.
template <class A> struct IntRange {
  typename A::Int lo, hi;
  bool bounded = true;
  int bits = 0;
  std::optional<int64_t> constant; ///< Known when the tree is a constant.

  static IntRange of(typename A::Int lo, typename A::Int hi, int bits) {
    return {lo, hi, bits <= 62, bits, std::nullopt};
  }
  static IntRange unbounded() {
    return {A::constant(0), A::constant(0), false, 64, std::nullopt};
  }
};

/// Whether a condition can hold, and whether it can fail, on the rectangle.
template <class A> struct Truth { typename A::Bool canBeTrue, canBeFalse; };

/// Classifies a predicate over index ranges (batch, head, query, key).
template <class A> class MaskClassifier {
public:
  using Int = typename A::Int;
  using Bool = typename A::Bool;
  using Range = IntRange<A>;

  explicit MaskClassifier(std::array<Range, 4> indices)
      : indices(std::move(indices)) {}

  Truth<A> truth(const Predicate &p) const {
    using Op = Predicate::Op;
    if (!isCondition(p))
      return nonzero(range(p));
    const Predicate &x = *p.operands[0], &y = *p.operands[1];
    switch (p.op) {
    case Op::And: {
      Truth<A> a = truth(x), b = truth(y);
      return {a.canBeTrue && b.canBeTrue, a.canBeFalse || b.canBeFalse};
    }
    case Op::Or: {
      Truth<A> a = truth(x), b = truth(y);
      return {a.canBeTrue || b.canBeTrue, a.canBeFalse && b.canBeFalse};
    }
    case Op::Xor:
      return differ(truth(x), truth(y));
    case Op::Eq:
    case Op::Ne: {
      Truth<A> same = isCondition(x) || isCondition(y)
                          ? negate(differ(truth(x), truth(y)))
                          : equal(range(x), range(y));
      return p.op == Op::Eq ? same : negate(same);
    }
    case Op::Lt:
      return less(range(x), range(y), /*orEqual=*/false);
    case Op::Le:
      return less(range(x), range(y), /*orEqual=*/true);
    case Op::Gt:
      return less(range(y), range(x), /*orEqual=*/false);
    case Op::Ge:
      return less(range(y), range(x), /*orEqual=*/true);
    default:
      throw std::invalid_argument("bad predicate");
    }
  }

  Range range(const Predicate &p) const {
    using Op = Predicate::Op;
    if (isCondition(p)) { // A condition used as an integer: 0 or 1.
      Truth<A> t = truth(p);
      return Range::of(A::select(t.canBeFalse, A::constant(0), A::constant(1)),
                       A::select(t.canBeTrue, A::constant(1), A::constant(0)),
                       1);
    }
    if (p.op == Op::Var) {
      if (p.value < 0 || p.value > 3)
        throw std::invalid_argument("bad predicate variable");
      return indices[p.value];
    }
    if (p.op == Op::Const) {
      Range r = Range::of(A::constant(p.value), A::constant(p.value),
                          bitsOf(p.value));
      r.constant = p.value;
      return r;
    }
    Range x = range(*p.operands[0]), y = range(*p.operands[1]);
    if (x.constant && y.constant) { // Folded, as the kernel's Halide would.
      int64_t value = fold(p.op, *x.constant, *y.constant);
      Range r =
          Range::of(A::constant(value), A::constant(value), bitsOf(value));
      r.constant = value;
      return r;
    }
    if (p.op == Op::Div && y.constant)
      return divide(x, *y.constant);
    if (p.op == Op::Rem && y.constant)
      return remainder(x, *y.constant);
    if (p.op == Op::Div || p.op == Op::Rem) {
      // |x / y| <= |x| and |x % y| <= |x| for any y (and x / 0 = 0).
      if (!x.bounded)
        return Range::unbounded();
      Int m = A::max(A::constant(0) - x.lo, x.hi);
      return Range::of(A::constant(0) - m, m, x.bits);
    }
    if (!x.bounded || !y.bounded)
      return Range::unbounded();
    int bits = std::max(x.bits, y.bits) + 1;
    switch (p.op) {
    case Op::Add:
      return Range::of(x.lo + y.lo, x.hi + y.hi, bits);
    case Op::Sub:
      return Range::of(x.lo - y.hi, x.hi - y.lo, bits);
    case Op::Min:
      return Range::of(A::min(x.lo, y.lo), A::min(x.hi, y.hi), bits - 1);
    case Op::Max:
      return Range::of(A::max(x.lo, y.lo), A::max(x.hi, y.hi), bits - 1);
    case Op::Mul: {
      bits = x.bits + y.bits;
      if (bits > 62)
        return Range::unbounded();
      if (y.constant)
        return scale(x, *y.constant, bits);
      if (x.constant)
        return scale(y, *x.constant, bits);
      Int a = x.lo * y.lo, b = x.lo * y.hi, c = x.hi * y.lo, d = x.hi * y.hi;
      return Range::of(A::min(A::min(a, b), A::min(c, d)),
                       A::max(A::max(a, b), A::max(c, d)), bits);
    }
    default:
      throw std::invalid_argument("bad predicate");
    }
  }

private:
  std::array<Range, 4> indices;

  static int bitsOf(int64_t value) {
    uint64_t magnitude = value < 0 ? uint64_t(0) - uint64_t(value) : value;
    int bits = 1;
    while (bits < 64 && (magnitude >> bits) != 0)
      ++bits;
    return bits;
  }

  static int64_t fold(Predicate::Op op, int64_t x, int64_t y) {
    using Op = Predicate::Op;
    switch (op) {
    case Op::Add:
      return x + y;
    case Op::Sub:
      return x - y;
    case Op::Mul:
      return x * y;
    case Op::Div:
      return y == 0 ? 0 : x / y;
    case Op::Rem:
      return y == 0 ? 0 : x % y;
    case Op::Min:
      return std::min(x, y);
    case Op::Max:
      return std::max(x, y);
    default:
      throw std::invalid_argument("bad predicate");
    }
  }

  static Range scale(const Range &x, int64_t c, int bits) {
    Int k = A::constant(c);
    return c >= 0 ? Range::of(x.lo * k, x.hi * k, bits)
                  : Range::of(x.hi * k, x.lo * k, bits);
  }

  /// Truncating division is monotone: increasing for c > 0, decreasing for
  /// c < 0.
  static Range divide(const Range &x, int64_t c) {
    if (c == 0)
      return Range::of(A::constant(0), A::constant(0), 1);
    if (!x.bounded)
      return Range::unbounded();
    return c > 0 ? Range::of(A::div(x.lo, c), A::div(x.hi, c), x.bits)
                 : Range::of(A::div(x.hi, c), A::div(x.lo, c), x.bits);
  }

  /// C's remainder by a constant: it has the sign of x and magnitude below
  /// |c|, and increases with x inside one period of one sign.
  static Range remainder(const Range &x, int64_t c) {
    if (c == 0)
      return Range::of(A::constant(0), A::constant(0), 1);
    int64_t m = c < 0 ? -c : c;
    int bits = bitsOf(m);
    Int top = A::constant(m - 1), bottom = A::constant(1 - m),
        zero = A::constant(0);
    if (!x.bounded)
      return Range::of(bottom, top, bits);
    Int rlo = A::rem(x.lo, c), rhi = A::rem(x.hi, c);
    Bool sameSign = x.lo >= zero || x.hi <= zero;
    Bool onePeriod = sameSign && x.hi - x.lo < A::constant(m) && rlo <= rhi;
    Int lo = A::select(x.lo >= zero, zero, A::max(x.lo, bottom));
    Int hi = A::select(x.hi <= zero, zero, A::min(x.hi, top));
    return Range::of(A::select(onePeriod, rlo, lo),
                     A::select(onePeriod, rhi, hi), bits);
  }

  static Truth<A> nonzero(const Range &r) {
    if (!r.bounded)
      return {A::truth(true), A::truth(true)};
    Int zero = A::constant(0);
    return {r.lo != zero || r.hi != zero, r.lo <= zero && r.hi >= zero};
  }

  static Truth<A> negate(const Truth<A> &t) {
    return {t.canBeFalse, t.canBeTrue};
  }

  static Truth<A> differ(const Truth<A> &a, const Truth<A> &b) {
    return {(a.canBeTrue && b.canBeFalse) || (a.canBeFalse && b.canBeTrue),
            (a.canBeTrue && b.canBeTrue) || (a.canBeFalse && b.canBeFalse)};
  }

  static Truth<A> equal(const Range &x, const Range &y) {
    if (!x.bounded || !y.bounded)
      return {A::truth(true), A::truth(true)};
    Bool single = x.lo == x.hi && y.lo == y.hi && x.lo == y.lo;
    return {x.lo <= y.hi && y.lo <= x.hi, !single};
  }

  /// x < y (or x <= y).
  static Truth<A> less(const Range &x, const Range &y, bool orEqual) {
    if (!x.bounded || !y.bounded)
      return {A::truth(true), A::truth(true)};
    if (orEqual)
      return {x.lo <= y.hi, x.hi > y.lo};
    return {x.lo < y.hi, x.hi >= y.lo};
  }
};

/// Whether `mask` provably hides every later key from each query position
/// below `positions` (b < batch, h < heads): then a step of greedy decoding,
/// which sees only the keys computed so far, computes what the whole
/// sequence would. Proved position by position by the classifier, so it is
/// exact for causal and conservative (false) when unsure; null hides
/// nothing.
inline bool hidesLaterKeys(const Predicate *mask, int64_t batch, int64_t heads,
                           int64_t positions) {
  if (!mask)
    return false;
  using Range = IntRange<ExactArithmetic>;
  for (int64_t t = 0; t + 1 < positions; ++t) {
    MaskClassifier<ExactArithmetic> classifier(
        {Range::of(0, std::max<int64_t>(batch - 1, 0), 32),
         Range::of(0, std::max<int64_t>(heads - 1, 0), 32), Range::of(t, t, 32),
         Range::of(t + 1, positions - 1, 32)});
    if (classifier.truth(*mask).canBeTrue)
      return false;
  }
  return true;
}

} // namespace kernels
} // namespace attnc

#endif // ATTNC_LOWERING_MASKCLASSIFICATION_H
