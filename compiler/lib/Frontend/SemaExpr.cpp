//===- SemaExpr.cpp - Constant folding and predicate checking -------------===//
//
// Constants are integers, floats or booleans. Integer arithmetic is checked
// for overflow and division by zero; an integer mixed with a float becomes a
// float. The builtins are sqrt, min and max. A mask predicate is checked, not
// folded: its four index names are integers at run time, and it must yield a
// boolean. The parts of a predicate that use no index are folded, though,
// because the kernels compute predicates in 32-bit integers: every integer
// folded there must stay below 2^30 in magnitude, and a constant divisor
// must not be zero. A body that uses no index at all is folded whole.
//
//===----------------------------------------------------------------------===//

#include "SemaImpl.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Casting.h"

#include <cmath>
#include <cstdio>

using namespace attnc;
using namespace attnc::sema;

std::string Value::describe() const {
  switch (kind) {
  case Kind::Int:
    return "integer " + std::to_string(i);
  case Kind::Float: {
    char text[64];
    std::snprintf(text, sizeof(text), "number %g", f);
    return text;
  }
  case Kind::Bool:
    return b ? "true" : "false";
  }
  return "value";
}

std::optional<Value> SemaContext::evaluate(const Expr &expr) {
  std::optional<Value> value = evaluateNode(expr);
  if (!value || !predicateRange || value->kind != Value::Kind::Int)
    return value;
  if (value->i > -limits::kPredicateMagnitude &&
      value->i < limits::kPredicateMagnitude)
    return value;
  diags.error(expr.getLoc(),
              "integer " + std::to_string(value->i) +
                  " is too large for a predicate, which computes in 32 bits; "
                  "its constants must be below 2^30 (1073741824) in "
                  "magnitude");
  return std::nullopt;
}

std::optional<Value> SemaContext::evaluateNode(const Expr &expr) {
  if (auto *e = llvm::dyn_cast<IntExpr>(&expr))
    return Value::ofInt(e->value);
  if (auto *e = llvm::dyn_cast<FloatExpr>(&expr))
    return Value::ofFloat(e->value);
  if (auto *e = llvm::dyn_cast<BoolExpr>(&expr))
    return Value::ofBool(e->value);
  if (auto *e = llvm::dyn_cast<NameExpr>(&expr)) {
    auto folded = constants.find(e->name);
    if (folded != constants.end())
      return folded->second;
    auto symbol = symbols.find(e->name);
    if (symbol == symbols.end()) {
      diags.error(e->getLoc(), "unknown constant '" + e->name + "'");
    } else if (symbol->second.kind == Symbol::Kind::Const) {
      diags.error(e->getLoc(),
                  "constant '" + e->name + "' is used before its definition");
      diags.note(symbol->second.decl->nameLoc,
                 "'" + e->name + "' is defined here");
    } else {
      diags.error(e->getLoc(),
                  "'" + e->name + "' is " +
                      describeBlock(symbol->second.decl->blockKind) +
                      ", not a constant");
    }
    return std::nullopt;
  }
  if (auto *e = llvm::dyn_cast<StringExpr>(&expr)) {
    diags.error(e->getLoc(), "a string is not a constant value");
    return std::nullopt;
  }
  if (auto *e = llvm::dyn_cast<ListExpr>(&expr)) {
    diags.error(e->getLoc(), "a list is not a constant value");
    return std::nullopt;
  }
  if (auto *e = llvm::dyn_cast<UnaryExpr>(&expr)) {
    std::optional<Value> operand = evaluate(*e->operand);
    if (!operand)
      return std::nullopt;
    if (e->op == UnaryExpr::Op::Not) {
      if (operand->kind != Value::Kind::Bool) {
        diags.error(e->getLoc(),
                    "'!' needs a boolean, got " + operand->describe());
        return std::nullopt;
      }
      return Value::ofBool(!operand->b);
    }
    if (operand->kind == Value::Kind::Bool) {
      diags.error(e->getLoc(),
                  "'-' needs a number, got " + operand->describe());
      return std::nullopt;
    }
    if (operand->kind == Value::Kind::Float)
      return Value::ofFloat(-operand->f);
    if (operand->i == INT64_MIN) {
      diags.error(e->getLoc(), "integer overflow in negation");
      return std::nullopt;
    }
    return Value::ofInt(-operand->i);
  }
  if (auto *e = llvm::dyn_cast<BinaryExpr>(&expr))
    return evaluateBinary(*e);
  return evaluateCall(*llvm::cast<CallExpr>(&expr));
}

std::optional<Value> SemaContext::evaluateBinary(const BinaryExpr &expr) {
  using Op = BinaryExpr::Op;
  if (expr.op == Op::Intersect) {
    diags.error(expr.getLoc(),
                "'&' intersects masks and is only allowed in 'mask'");
    return std::nullopt;
  }
  std::optional<Value> lhs = evaluate(*expr.lhs);
  if (!lhs)
    return std::nullopt;
  std::optional<Value> rhs = evaluate(*expr.rhs);
  if (!rhs)
    return std::nullopt;
  std::string opText = "'" + spell(expr.op).str() + "'";

  if (expr.op == Op::And || expr.op == Op::Or) {
    if (lhs->kind != Value::Kind::Bool || rhs->kind != Value::Kind::Bool) {
      diags.error(expr.getLoc(), opText + " needs booleans, got " +
                                     lhs->describe() + " and " +
                                     rhs->describe());
      return std::nullopt;
    }
    return Value::ofBool(expr.op == Op::And ? lhs->b && rhs->b
                                            : lhs->b || rhs->b);
  }
  if (lhs->kind == Value::Kind::Bool || rhs->kind == Value::Kind::Bool) {
    if ((expr.op == Op::Eq || expr.op == Op::Ne) && lhs->kind == rhs->kind)
      return Value::ofBool((lhs->b == rhs->b) == (expr.op == Op::Eq));
    diags.error(expr.getLoc(), opText + " needs numbers, got " +
                                   lhs->describe() + " and " + rhs->describe());
    return std::nullopt;
  }

  bool isFloat =
      lhs->kind == Value::Kind::Float || rhs->kind == Value::Kind::Float;
  switch (expr.op) {
  case Op::Eq:
  case Op::Ne:
  case Op::Lt:
  case Op::Le:
  case Op::Gt:
  case Op::Ge: {
    double a = lhs->asDouble(), b = rhs->asDouble();
    if (!isFloat) {
      int64_t x = lhs->i, y = rhs->i;
      bool r = expr.op == Op::Eq   ? x == y
               : expr.op == Op::Ne ? x != y
               : expr.op == Op::Lt ? x < y
               : expr.op == Op::Le ? x <= y
               : expr.op == Op::Gt ? x > y
                                   : x >= y;
      return Value::ofBool(r);
    }
    bool r = expr.op == Op::Eq   ? a == b
             : expr.op == Op::Ne ? a != b
             : expr.op == Op::Lt ? a < b
             : expr.op == Op::Le ? a <= b
             : expr.op == Op::Gt ? a > b
                                 : a >= b;
    return Value::ofBool(r);
  }
  default:
    break;
  }

  if (isFloat) {
    double a = lhs->asDouble(), b = rhs->asDouble();
    double r = 0;
    switch (expr.op) {
    case Op::Add:
      r = a + b;
      break;
    case Op::Sub:
      r = a - b;
      break;
    case Op::Mul:
      r = a * b;
      break;
    case Op::Div:
      if (b == 0) {
        diags.error(expr.getLoc(), "division by zero");
        return std::nullopt;
      }
      r = a / b;
      break;
    default:
      diags.error(expr.getLoc(), opText + " needs integers");
      return std::nullopt;
    }
    if (!std::isfinite(r)) {
      diags.error(expr.getLoc(), "result is not a finite number");
      return std::nullopt;
    }
    return Value::ofFloat(r);
  }

  int64_t a = lhs->i, b = rhs->i, r = 0;
  bool overflow = false;
  switch (expr.op) {
  case Op::Add:
    overflow = __builtin_add_overflow(a, b, &r);
    break;
  case Op::Sub:
    overflow = __builtin_sub_overflow(a, b, &r);
    break;
  case Op::Mul:
    overflow = __builtin_mul_overflow(a, b, &r);
    break;
  case Op::Div:
  case Op::Rem:
    if (b == 0) {
      diags.error(expr.getLoc(), expr.op == Op::Div ? "division by zero"
                                                    : "remainder by zero");
      return std::nullopt;
    }
    overflow = a == INT64_MIN && b == -1;
    if (!overflow)
      r = expr.op == Op::Div ? a / b : a % b;
    break;
  default:
    break;
  }
  if (overflow) {
    diags.error(expr.getLoc(), "integer overflow in " + opText);
    return std::nullopt;
  }
  return Value::ofInt(r);
}

std::optional<Value> SemaContext::evaluateCall(const CallExpr &expr) {
  static const llvm::StringRef builtins[] = {"sqrt", "min", "max"};
  if (!llvm::is_contained(builtins, expr.callee)) {
    diags.error(expr.getLoc(), "unknown function '" + expr.callee +
                                   "' in a constant expression; expected " +
                                   joinChoices(builtins));
    return std::nullopt;
  }
  size_t arity = expr.callee == "sqrt" ? 1 : 2;
  if (expr.args.size() != arity || expr.body) {
    diags.error(expr.getLoc(), "'" + expr.callee + "' takes " +
                                   std::to_string(arity) + " argument" +
                                   (arity == 1 ? "" : "s"));
    return std::nullopt;
  }
  std::vector<Value> args;
  for (const CallArg &arg : expr.args) {
    if (!arg.name.empty()) {
      diags.error(arg.loc, "'" + expr.callee + "' takes no named arguments");
      return std::nullopt;
    }
    std::optional<Value> v = evaluate(*arg.value);
    if (!v)
      return std::nullopt;
    if (v->kind == Value::Kind::Bool) {
      diags.error(arg.value->getLoc(),
                  "'" + expr.callee + "' needs numbers, got " + v->describe());
      return std::nullopt;
    }
    args.push_back(*v);
  }
  if (expr.callee == "sqrt") {
    if (args[0].asDouble() < 0) {
      diags.error(expr.getLoc(), "sqrt of a negative number");
      return std::nullopt;
    }
    return Value::ofFloat(std::sqrt(args[0].asDouble()));
  }
  bool isMin = expr.callee == "min";
  if (args[0].kind == Value::Kind::Int && args[1].kind == Value::Kind::Int)
    return Value::ofInt(isMin ? std::min(args[0].i, args[1].i)
                              : std::max(args[0].i, args[1].i));
  double a = args[0].asDouble(), b = args[1].asDouble();
  return Value::ofFloat(isMin ? std::min(a, b) : std::max(a, b));
}

//===----------------------------------------------------------------------===//
// Mask predicates
//===----------------------------------------------------------------------===//

bool attnc::sema::usesIndex(const Expr &expr,
                            llvm::ArrayRef<std::string> vars) {
  if (auto *e = llvm::dyn_cast<NameExpr>(&expr))
    return llvm::is_contained(vars, e->name);
  if (auto *e = llvm::dyn_cast<UnaryExpr>(&expr))
    return usesIndex(*e->operand, vars);
  if (auto *e = llvm::dyn_cast<BinaryExpr>(&expr))
    return usesIndex(*e->lhs, vars) || usesIndex(*e->rhs, vars);
  if (auto *e = llvm::dyn_cast<CallExpr>(&expr))
    return llvm::any_of(e->args, [&](const CallArg &arg) {
      return usesIndex(*arg.value, vars);
    });
  return false;
}

std::optional<Value> SemaContext::evaluateInPredicate(const Expr &expr) {
  bool saved = predicateRange;
  predicateRange = true;
  std::optional<Value> value = evaluate(expr);
  predicateRange = saved;
  return value;
}

bool SemaContext::checkPredicateConstants(const Expr &expr,
                                          llvm::ArrayRef<std::string> vars) {
  if (!usesIndex(expr, vars))
    return evaluateInPredicate(expr).has_value();
  if (auto *e = llvm::dyn_cast<UnaryExpr>(&expr))
    return checkPredicateConstants(*e->operand, vars);
  if (auto *e = llvm::dyn_cast<CallExpr>(&expr))
    return llvm::all_of(e->args, [&](const CallArg &arg) {
      return checkPredicateConstants(*arg.value, vars);
    });
  auto *e = llvm::dyn_cast<BinaryExpr>(&expr);
  if (!e)
    return true;
  if (!checkPredicateConstants(*e->lhs, vars) ||
      !checkPredicateConstants(*e->rhs, vars))
    return false;
  bool divides = e->op == BinaryExpr::Op::Div || e->op == BinaryExpr::Op::Rem;
  if (!divides || usesIndex(*e->rhs, vars))
    return true;
  // A constant divisor: folded and checked above; now it must not be 0.
  std::optional<Value> divisor = evaluateInPredicate(*e->rhs);
  if (!divisor)
    return false;
  if (divisor->kind == Value::Kind::Int && divisor->i == 0) {
    diags.error(e->getLoc(), "division by zero");
    return false;
  }
  return true;
}

SemaContext::PredicateCheck SemaContext::checkPredicate(const CallExpr &call) {
  constexpr PredicateCheck invalid = PredicateCheck::Invalid;
  if (call.args.size() != 4) {
    diags.error(call.getLoc(),
                "predicate takes four index names (batch, head, query, key), "
                "got " +
                    std::to_string(call.args.size()));
    return invalid;
  }
  std::vector<std::string> vars;
  for (const CallArg &arg : call.args) {
    auto *name = llvm::dyn_cast<NameExpr>(arg.value.get());
    if (!arg.name.empty() || !name) {
      diags.error(arg.loc, "predicate parameters must be plain names");
      return invalid;
    }
    if (llvm::is_contained(vars, name->name)) {
      diags.error(arg.loc,
                  "predicate parameter '" + name->name + "' is named twice");
      return invalid;
    }
    vars.push_back(name->name);
  }
  if (!call.body) {
    diags.error(call.getLoc(),
                "predicate needs a body: predicate(b, h, q, k) { k <= q }");
    return invalid;
  }
  std::optional<PredType> type = checkPredicateExpr(*call.body, vars);
  if (!type)
    return invalid;
  if (*type != PredType::Bool) {
    diags.error(call.body->getLoc(),
                "predicate body must be a condition, not an integer");
    return invalid;
  }
  if (!checkPredicateConstants(*call.body, vars))
    return invalid;
  if (usesIndex(*call.body, vars))
    return PredicateCheck::Varies;
  std::optional<Value> always = evaluateInPredicate(*call.body);
  if (!always)
    return invalid;
  if (!always->b) {
    diags.error(call.body->getLoc(),
                "predicate is always false: every key is masked");
    return invalid;
  }
  return PredicateCheck::AlwaysTrue;
}

std::optional<SemaContext::PredType>
SemaContext::checkPredicateExpr(const Expr &expr,
                                llvm::ArrayRef<std::string> vars) {
  if (llvm::isa<IntExpr>(expr))
    return PredType::Int;
  if (llvm::isa<BoolExpr>(expr))
    return PredType::Bool;
  if (auto *e = llvm::dyn_cast<NameExpr>(&expr)) {
    if (llvm::is_contained(vars, e->name))
      return PredType::Int;
    auto folded = constants.find(e->name);
    if (folded != constants.end() && folded->second.kind == Value::Kind::Int)
      return PredType::Int;
    if (folded != constants.end()) {
      diags.error(e->getLoc(),
                  "predicates compute on integers; constant '" + e->name +
                      "' is " +
                      (folded->second.kind == Value::Kind::Bool ? "a boolean"
                                                                : "a float"));
      return std::nullopt;
    }
    diags.error(e->getLoc(), "unknown name '" + e->name +
                                 "' in predicate; use its parameters or "
                                 "integer constants");
    return std::nullopt;
  }
  if (llvm::isa<FloatExpr>(expr)) {
    diags.error(expr.getLoc(), "predicates compute on integers, not floats");
    return std::nullopt;
  }
  if (auto *e = llvm::dyn_cast<UnaryExpr>(&expr)) {
    std::optional<PredType> t = checkPredicateExpr(*e->operand, vars);
    if (!t)
      return std::nullopt;
    PredType want =
        e->op == UnaryExpr::Op::Not ? PredType::Bool : PredType::Int;
    if (*t != want) {
      diags.error(e->getLoc(), e->op == UnaryExpr::Op::Not
                                   ? "'!' needs a condition"
                                   : "'-' needs an integer");
      return std::nullopt;
    }
    return want;
  }
  if (auto *e = llvm::dyn_cast<BinaryExpr>(&expr)) {
    using Op = BinaryExpr::Op;
    if (e->op == Op::Intersect) {
      diags.error(e->getLoc(), "use '&&' inside a predicate; '&' intersects "
                               "masks");
      return std::nullopt;
    }
    std::optional<PredType> l = checkPredicateExpr(*e->lhs, vars);
    if (!l)
      return std::nullopt;
    std::optional<PredType> r = checkPredicateExpr(*e->rhs, vars);
    if (!r)
      return std::nullopt;
    std::string opText = "'" + spell(e->op).str() + "'";
    switch (e->op) {
    case Op::And:
    case Op::Or:
      if (*l != PredType::Bool || *r != PredType::Bool) {
        diags.error(e->getLoc(), opText + " needs conditions on both sides");
        return std::nullopt;
      }
      return PredType::Bool;
    case Op::Eq:
    case Op::Ne:
      if (*l != *r) {
        diags.error(e->getLoc(), opText + " compares an integer with a "
                                          "condition");
        return std::nullopt;
      }
      return PredType::Bool;
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge:
      if (*l != PredType::Int || *r != PredType::Int) {
        diags.error(e->getLoc(), opText + " needs integers on both sides");
        return std::nullopt;
      }
      return PredType::Bool;
    default:
      if (*l != PredType::Int || *r != PredType::Int) {
        diags.error(e->getLoc(), opText + " needs integers on both sides");
        return std::nullopt;
      }
      return PredType::Int;
    }
  }
  if (auto *e = llvm::dyn_cast<CallExpr>(&expr)) {
    if ((e->callee != "min" && e->callee != "max") || e->args.size() != 2 ||
        e->body) {
      diags.error(e->getLoc(), "only min(a, b) and max(a, b) may be called "
                               "in a predicate");
      return std::nullopt;
    }
    for (const CallArg &arg : e->args) {
      std::optional<PredType> t = checkPredicateExpr(*arg.value, vars);
      if (!t)
        return std::nullopt;
      if (*t != PredType::Int || !arg.name.empty()) {
        diags.error(arg.loc, "'" + e->callee + "' needs integer arguments");
        return std::nullopt;
      }
    }
    return PredType::Int;
  }
  diags.error(expr.getLoc(), "this value cannot appear in a predicate");
  return std::nullopt;
}

const Decl *SemaContext::lookupBlock(const Expr &expr, BlockKind kind,
                                     llvm::StringRef fieldName) {
  auto *name = llvm::dyn_cast<NameExpr>(&expr);
  if (!name) {
    diags.error(expr.getLoc(), "field '" + fieldName +
                                   "' expects the name of " +
                                   describeBlock(kind));
    return nullptr;
  }
  auto symbol = symbols.find(name->name);
  if (symbol == symbols.end()) {
    diags.error(name->getLoc(),
                "unknown " + spell(kind) + " '" + name->name + "'");
    return nullptr;
  }
  const Decl *decl = symbol->second.decl;
  if (symbol->second.kind != Symbol::Kind::Block || decl->blockKind != kind) {
    std::string what = symbol->second.kind == Symbol::Kind::Const
                           ? std::string("a constant")
                           : describeBlock(decl->blockKind);
    diags.error(name->getLoc(), "'" + name->name + "' is " + what +
                                    ", but field '" + fieldName + "' expects " +
                                    describeBlock(kind));
    diags.note(decl->nameLoc, "'" + name->name + "' is defined here");
    return nullptr;
  }
  return decl;
}
