//===- PredicateGen.cpp - Mask predicates to arith ops --------------------===//
//
// A direct recursive translation: integers become `index` values, conditions
// `i1`. `!c` is `c xor true`; unary minus is `0 - x`; min and max are
// arith.minsi and arith.maxsi. The recursion keeps its frames small, so the
// deepest tree the parser allows fits on the stack, sanitizers included.
//
//===----------------------------------------------------------------------===//

#include "PredicateGen.h"
#include "attnc/Dialect/Attn/AttnDialect.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/Compiler.h"

using namespace mlir;
using namespace attnc;

namespace {

class PredicateBuilder {
public:
  PredicateBuilder(OpBuilder &builder, const CompileUnit &unit,
                   llvm::function_ref<Location(llvm::SMLoc)> locate,
                   llvm::StringMap<Value> vars)
      : b(builder), unit(unit), locate(locate), vars(std::move(vars)) {}

  /// Recurses over the tree. Only this function is on the stack once per
  /// level, so it holds nothing but operand values: the op builders, whose
  /// frames are large (above all under the sanitizers), are kept out of line
  /// below. The parser bounds the depth (kMaxExpressionTerms).
  Value build(const Expr &expr) {
    if (auto *e = llvm::dyn_cast<UnaryExpr>(&expr))
      return unary(*e, build(*e->operand));
    if (auto *e = llvm::dyn_cast<CallExpr>(&expr)) {
      Value lhs = build(*e->args[0].value);
      Value rhs = build(*e->args[1].value);
      return call(*e, lhs, rhs);
    }
    if (auto *e = llvm::dyn_cast<BinaryExpr>(&expr)) {
      Value lhs = build(*e->lhs);
      Value rhs = build(*e->rhs);
      return binary(*e, lhs, rhs);
    }
    return leaf(expr);
  }

private:
  LLVM_ATTRIBUTE_NOINLINE Value leaf(const Expr &expr) {
    Location at = locate(expr.getLoc());
    if (auto *e = llvm::dyn_cast<IntExpr>(&expr))
      return b.create<arith::ConstantIndexOp>(at, e->value);
    if (auto *e = llvm::dyn_cast<BoolExpr>(&expr))
      return b.create<arith::ConstantIntOp>(at, e->value, 1);
    auto &e = llvm::cast<NameExpr>(expr);
    if (Value var = vars.lookup(e.name))
      return var;
    return b.create<arith::ConstantIndexOp>(at, unit.intConstants.at(e.name));
  }

  LLVM_ATTRIBUTE_NOINLINE Value unary(const UnaryExpr &e, Value operand) {
    Location at = locate(e.getLoc());
    if (e.op == UnaryExpr::Op::Not)
      return b.create<arith::XOrIOp>(at, operand,
                                     b.create<arith::ConstantIntOp>(at, 1, 1));
    return b.create<arith::SubIOp>(at, b.create<arith::ConstantIndexOp>(at, 0),
                                   operand);
  }

  LLVM_ATTRIBUTE_NOINLINE Value call(const CallExpr &e, Value lhs, Value rhs) {
    Location at = locate(e.getLoc());
    if (e.callee == "min")
      return b.create<arith::MinSIOp>(at, lhs, rhs);
    return b.create<arith::MaxSIOp>(at, lhs, rhs);
  }

  LLVM_ATTRIBUTE_NOINLINE Value binary(const BinaryExpr &e, Value lhs,
                                       Value rhs) {
    Location at = locate(e.getLoc());
    using Op = BinaryExpr::Op;
    using Pred = arith::CmpIPredicate;
    switch (e.op) {
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
    case Op::And:
      return b.create<arith::AndIOp>(at, lhs, rhs);
    case Op::Or:
      return b.create<arith::OrIOp>(at, lhs, rhs);
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
    case Op::Intersect:
      break;
    }
    llvm_unreachable("Sema rejects '&' in predicates");
  }

  OpBuilder &b;
  const CompileUnit &unit;
  llvm::function_ref<Location(llvm::SMLoc)> locate;
  llvm::StringMap<Value> vars;
};

} // namespace

void attnc::generatePredicate(
    OpBuilder &builder, Region &region, const CallExpr &predicate,
    const CompileUnit &unit, llvm::function_ref<Location(llvm::SMLoc)> locate) {
  OpBuilder::InsertionGuard guard(builder);
  Location at = locate(predicate.getLoc());
  Type index = builder.getIndexType();
  Block *block = builder.createBlock(&region, {}, {index, index, index, index},
                                     {at, at, at, at});
  llvm::StringMap<Value> vars;
  for (unsigned i = 0; i < 4; ++i)
    vars[llvm::cast<NameExpr>(*predicate.args[i].value).name] =
        block->getArgument(i);
  PredicateBuilder gen(builder, unit, locate, std::move(vars));
  Value keep = gen.build(*predicate.body);
  builder.create<attn::YieldOp>(at, keep);
}
