//===- PredicateGen.cpp - Mask predicates to arith ops --------------------===//
//
// A direct recursive translation of the mask's expression tree: integers
// become `index` values, conditions `i1`; a constant is a condition where
// its context wants one (an operand of `&&`, `||`, xor, or compared with a
// condition). `!c` arrives as `c xor true`, unary minus as `0 - x`; min and
// max are arith.minsi and arith.maxsi. The recursion keeps its frames small,
// so the deepest tree the parser allows fits on the stack, sanitizers
// included.
//
//===----------------------------------------------------------------------===//

#include "PredicateGen.h"
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Lowering/MaskClassification.h"

#include "llvm/Support/Compiler.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;
using namespace attnc;
using kernels::Predicate;

namespace {

class PredicateBuilder {
public:
  PredicateBuilder(OpBuilder &builder, Location at, Block &block)
      : b(builder), at(at), block(block) {}

  /// Recurses over the tree. Only this function is on the stack once per
  /// level, so it holds nothing but operand values: the op builders, whose
  /// frames are large (above all under the sanitizers), are kept out of line
  /// below. The parser bounds the depth (kMaxExpressionTerms).
  Value build(const Predicate &p, bool wantCondition) {
    if (p.operands.empty())
      return leaf(p, wantCondition);
    if (p.operands.size() != 2)
      llvm::report_fatal_error("a mask predicate holds a score operation");
    bool conditions = operandsAreConditions(p);
    Value lhs = build(*p.operands[0], conditions);
    Value rhs = build(*p.operands[1], conditions);
    return binary(p.op, lhs, rhs);
  }

private:
  static bool operandsAreConditions(const Predicate &p) {
    using Op = Predicate::Op;
    if (p.op == Op::And || p.op == Op::Or || p.op == Op::Xor)
      return true;
    return (p.op == Op::Eq || p.op == Op::Ne) &&
           (kernels::isCondition(*p.operands[0]) ||
            kernels::isCondition(*p.operands[1]));
  }

  LLVM_ATTRIBUTE_NOINLINE Value leaf(const Predicate &p, bool wantCondition) {
    if (p.op == Predicate::Op::Var)
      return block.getArgument(unsigned(p.value));
    if (p.op != Predicate::Op::Const)
      llvm::report_fatal_error("a mask predicate holds a score operation");
    if (wantCondition)
      return b.create<arith::ConstantIntOp>(at, p.value != 0, 1);
    return b.create<arith::ConstantIndexOp>(at, p.value);
  }

  LLVM_ATTRIBUTE_NOINLINE Value binary(Predicate::Op op, Value lhs, Value rhs) {
    using Op = Predicate::Op;
    using Pred = arith::CmpIPredicate;
    switch (op) {
    case Op::Add:
      return b.create<arith::AddIOp>(at, lhs, rhs);
    case Op::Sub:
      return b.create<arith::SubIOp>(at, lhs, rhs);
    case Op::Mul:
      return b.create<arith::MulIOp>(at, lhs, rhs);
    case Op::Div:
      return b.create<arith::DivSIOp>(at, lhs, rhs);
    case Op::Rem:
      return b.create<arith::RemSIOp>(at, lhs, rhs);
    case Op::Min:
      return b.create<arith::MinSIOp>(at, lhs, rhs);
    case Op::Max:
      return b.create<arith::MaxSIOp>(at, lhs, rhs);
    case Op::And:
      return b.create<arith::AndIOp>(at, lhs, rhs);
    case Op::Or:
      return b.create<arith::OrIOp>(at, lhs, rhs);
    case Op::Xor:
      return b.create<arith::XOrIOp>(at, lhs, rhs);
    case Op::Eq:
      return b.create<arith::CmpIOp>(at, Pred::eq, lhs, rhs);
    case Op::Ne:
      return b.create<arith::CmpIOp>(at, Pred::ne, lhs, rhs);
    case Op::Lt:
      return b.create<arith::CmpIOp>(at, Pred::slt, lhs, rhs);
    case Op::Le:
      return b.create<arith::CmpIOp>(at, Pred::sle, lhs, rhs);
    case Op::Gt:
      return b.create<arith::CmpIOp>(at, Pred::sgt, lhs, rhs);
    case Op::Ge:
      return b.create<arith::CmpIOp>(at, Pred::sge, lhs, rhs);
    default:
      break;
    }
    llvm::report_fatal_error("a mask predicate holds a score operation");
  }

  OpBuilder &b;
  Location at;
  Block &block;
};

} // namespace

void attnc::generatePredicate(OpBuilder &builder, Region &region,
                              const Predicate &mask, Location at) {
  OpBuilder::InsertionGuard guard(builder);
  Type index = builder.getIndexType();
  Block *block = builder.createBlock(&region, {}, {index, index, index, index},
                                     {at, at, at, at});
  PredicateBuilder gen(builder, at, *block);
  Value keep = gen.build(mask, /*wantCondition=*/true);
  builder.create<attn::YieldOp>(at, keep);
}
