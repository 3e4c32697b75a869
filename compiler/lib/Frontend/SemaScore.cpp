//===- SemaScore.cpp - Score functions and their tensors ------------------===//
//
// `score_mod = score(s, b, h, q, k) { body }` is checked and turned into the
// kernels' expression tree (kernels::Predicate, with the float ops) in one
// pass: the body is typed (integer, float, condition; integers convert to
// floats where they meet one), every name resolves to a parameter, a
// declared tensor (`tensors = [rel_bias(heads, 32)]`, read as
// `rel_bias(h, i)`) or a constant, and builtins are checked for arity and
// constant arguments. The tree then travels as text (its canonical form)
// in the attn.attention op's `score_fn` attribute. Mask predicates, once
// checkPredicate has passed them, become trees through the same builder
// (maskExpression).
//
//===----------------------------------------------------------------------===//

#include "SemaImpl.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Casting.h"

#include <algorithm>

using namespace attnc;
using namespace attnc::sema;
using kernels::Predicate;
using Node = std::shared_ptr<const Predicate>;

namespace {

/// Kernel argument names a tensor may not take.
const llvm::StringRef kReservedNames[] = {
    "query", "key",          "value",    "kv_lengths", "segment_ids",
    "bias",  "score_weight", "q_offset", "output",     "probs"};

Node make(Predicate::Op op, std::vector<Node> operands, int64_t value = 0,
          double number = 0) {
  auto p = std::make_shared<Predicate>();
  p->op = op;
  p->operands = std::move(operands);
  p->value = value;
  p->number = number;
  return p;
}

enum class Type { Int, Float, Bool };

struct Typed {
  Node node;
  Type type;
};

class ScoreBuilder {
public:
  ScoreBuilder(SemaContext &ctx, std::vector<std::string> vars,
               const std::vector<kernels::ScoreTensor> &tensors,
               std::vector<bool> &used, int64_t heads = 0)
      : ctx(ctx), diags(ctx.diags), vars(std::move(vars)), tensors(tensors),
        used(used), heads(heads) {}

  std::optional<Typed> build(const Expr &expr) {
    if (auto *e = llvm::dyn_cast<IntExpr>(&expr))
      return integer(e->value, e->getLoc());
    if (auto *e = llvm::dyn_cast<FloatExpr>(&expr))
      return Typed{make(Predicate::Op::Float, {}, 0, e->value), Type::Float};
    if (auto *e = llvm::dyn_cast<BoolExpr>(&expr))
      return Typed{make(Predicate::Op::Const, {}, e->value), Type::Bool};
    if (auto *e = llvm::dyn_cast<NameExpr>(&expr))
      return name(*e);
    if (auto *e = llvm::dyn_cast<UnaryExpr>(&expr))
      return unary(*e);
    if (auto *e = llvm::dyn_cast<BinaryExpr>(&expr))
      return binary(*e);
    if (auto *e = llvm::dyn_cast<CallExpr>(&expr))
      return call(*e);
    diags.error(expr.getLoc(), "this value cannot appear in a score function");
    return std::nullopt;
  }

private:
  std::optional<Typed> integer(int64_t value, llvm::SMLoc loc) {
    if (value <= -limits::kPredicateMagnitude ||
        value >= limits::kPredicateMagnitude) {
      diags.error(loc, "integer " + std::to_string(value) +
                           " is too large for a score function, which "
                           "computes indices in 32 bits; see Limits in "
                           "docs/dsl.md");
      return std::nullopt;
    }
    return Typed{make(Predicate::Op::Const, {}, value), Type::Int};
  }

  std::optional<Typed> name(const NameExpr &e) {
    for (size_t i = 0; i < vars.size(); ++i)
      if (vars[i] == e.name)
        return Typed{make(Predicate::Op::Var, {}, int64_t(i)),
                     i == 4 ? Type::Float : Type::Int};
    for (const kernels::ScoreTensor &t : tensors)
      if (t.name == e.name) {
        diags.error(e.getLoc(), "tensor '" + e.name + "' needs " +
                                    std::to_string(t.shape.size()) +
                                    " indices: " + e.name + "(...)");
        return std::nullopt;
      }
    auto folded = ctx.constants.find(e.name);
    if (folded != ctx.constants.end()) {
      const Value &v = folded->second;
      if (v.kind == Value::Kind::Int)
        return integer(v.i, e.getLoc());
      if (v.kind == Value::Kind::Float)
        return Typed{make(Predicate::Op::Float, {}, 0, v.f), Type::Float};
      return Typed{make(Predicate::Op::Const, {}, v.b), Type::Bool};
    }
    diags.error(e.getLoc(), "unknown name '" + e.name +
                                "' in score function; use its parameters, "
                                "its block's tensors or constants");
    return std::nullopt;
  }

  bool numeric(const Typed &t, llvm::SMLoc loc, const std::string &what) {
    if (t.type != Type::Bool)
      return true;
    diags.error(loc, what + " needs a number, not a condition");
    return false;
  }

  std::optional<Typed> unary(const UnaryExpr &e) {
    std::optional<Typed> x = build(*e.operand);
    if (!x)
      return std::nullopt;
    if (e.op == UnaryExpr::Op::Not) {
      if (x->type != Type::Bool) {
        diags.error(e.getLoc(), "'!' needs a condition");
        return std::nullopt;
      }
      return Typed{make(Predicate::Op::Xor,
                        {x->node, make(Predicate::Op::Const, {}, 1)}),
                   Type::Bool};
    }
    if (!numeric(*x, e.getLoc(), "'-'"))
      return std::nullopt;
    return Typed{
        make(Predicate::Op::Sub, {make(Predicate::Op::Const, {}, 0), x->node}),
        x->type};
  }

  std::optional<Typed> binary(const BinaryExpr &e) {
    using Op = BinaryExpr::Op;
    using P = Predicate::Op;
    if (e.op == Op::Intersect) {
      diags.error(e.getLoc(), "use '&&' inside a score function; '&' "
                              "intersects masks");
      return std::nullopt;
    }
    std::optional<Typed> l = build(*e.lhs);
    if (!l)
      return std::nullopt;
    std::optional<Typed> r = build(*e.rhs);
    if (!r)
      return std::nullopt;
    std::string opText = "'" + spell(e.op).str() + "'";
    Type join =
        l->type == Type::Int && r->type == Type::Int ? Type::Int : Type::Float;
    auto result = [&](P op, Type type) {
      return Typed{make(op, {l->node, r->node}), type};
    };
    switch (e.op) {
    case Op::And:
    case Op::Or:
      if (l->type != Type::Bool || r->type != Type::Bool) {
        diags.error(e.getLoc(), opText + " needs conditions on both sides");
        return std::nullopt;
      }
      return result(e.op == Op::And ? P::And : P::Or, Type::Bool);
    case Op::Eq:
    case Op::Ne:
      if ((l->type == Type::Bool) != (r->type == Type::Bool)) {
        diags.error(e.getLoc(), opText + " compares a number with a "
                                         "condition");
        return std::nullopt;
      }
      return result(e.op == Op::Eq ? P::Eq : P::Ne, Type::Bool);
    default:
      break;
    }
    if (!numeric(*l, e.lhs->getLoc(), opText) ||
        !numeric(*r, e.rhs->getLoc(), opText))
      return std::nullopt;
    switch (e.op) {
    case Op::Lt:
      return result(P::Lt, Type::Bool);
    case Op::Le:
      return result(P::Le, Type::Bool);
    case Op::Gt:
      return result(P::Gt, Type::Bool);
    case Op::Ge:
      return result(P::Ge, Type::Bool);
    case Op::Add:
      return result(P::Add, join);
    case Op::Sub:
      return result(P::Sub, join);
    case Op::Mul:
      return result(P::Mul, join);
    case Op::Div:
    case Op::Rem:
      if (e.op == Op::Rem && join != Type::Int) {
        diags.error(e.getLoc(), "'%' needs integers on both sides");
        return std::nullopt;
      }
      if (join == Type::Int && r->node->op == P::Const && r->node->value == 0) {
        diags.error(e.getLoc(), "division by zero");
        return std::nullopt;
      }
      return result(e.op == Op::Div ? P::Div : P::Rem, join);
    default:
      break;
    }
    diags.error(e.getLoc(), opText + " cannot appear in a score function");
    return std::nullopt;
  }

  /// The argument `i` of `e` as a constant integer, or an error.
  std::optional<int64_t> constantInt(const CallExpr &e, size_t i,
                                     const char *what) {
    if (!constant(e, i, what))
      return std::nullopt;
    std::optional<Value> v = ctx.evaluate(*e.args[i].value);
    if (!v)
      return std::nullopt;
    if (v->kind == Value::Kind::Bool)
      return int64_t(v->b);
    if (v->kind != Value::Kind::Int) {
      diags.error(e.args[i].value->getLoc(),
                  std::string(what) + " must be a constant integer, got " +
                      v->describe());
      return std::nullopt;
    }
    return v->i;
  }

  /// Whether argument `i` of `e` uses no parameter; else an error.
  bool constant(const CallExpr &e, size_t i, const char *what) {
    if (!usesIndex(*e.args[i].value, vars))
      return true;
    diags.error(e.args[i].value->getLoc(),
                e.callee + "'s " + what + " must be a constant");
    return false;
  }

  std::optional<Typed> t5Bucket(const CallExpr &e) {
    if (e.args.size() != 4) {
      diags.error(e.getLoc(), "t5_bucket takes four arguments: t5_bucket(k - "
                              "q, num_buckets, max_distance, bidirectional)");
      return std::nullopt;
    }
    std::optional<Typed> rel = build(*e.args[0].value);
    if (!rel)
      return std::nullopt;
    if (rel->type != Type::Int) {
      diags.error(e.args[0].value->getLoc(),
                  "t5_bucket needs an integer relative position (k - q)");
      return std::nullopt;
    }
    std::optional<int64_t> buckets = constantInt(e, 1, "num_buckets");
    std::optional<int64_t> distance = constantInt(e, 2, "max_distance");
    if (!buckets || !distance || !constant(e, 3, "bidirectional"))
      return std::nullopt;
    std::optional<Value> bidirectional = ctx.evaluate(*e.args[3].value);
    if (!bidirectional)
      return std::nullopt;
    if (bidirectional->kind != Value::Kind::Bool) {
      diags.error(e.args[3].value->getLoc(),
                  "bidirectional must be true or false, got " +
                      bidirectional->describe());
      return std::nullopt;
    }
    int64_t half = bidirectional->b ? *buckets / 2 : *buckets;
    if (*buckets < 4 || *buckets > 1024 || half / 2 < 1) {
      diags.error(e.args[1].value->getLoc(),
                  "num_buckets must be from 4 to 1024, got " +
                      std::to_string(*buckets));
      return std::nullopt;
    }
    if (*distance <= half / 2 || *distance >= limits::kPredicateMagnitude) {
      diags.error(e.args[2].value->getLoc(),
                  "max_distance must be above " + std::to_string(half / 2) +
                      " (the exact buckets) and below 2^30, got " +
                      std::to_string(*distance));
      return std::nullopt;
    }
    auto constant = [](int64_t v) { return make(Predicate::Op::Const, {}, v); };
    return Typed{make(Predicate::Op::T5Bucket,
                      {rel->node, constant(*buckets), constant(*distance),
                       constant(bidirectional->b)}),
                 Type::Int};
  }

  /// `alibi_slope(h)`, ALiBi's slope of the head, and `bias(b, h, q, k)`,
  /// the run-time bias tensor at the score's own element: each reads only
  /// its own indices, named as the function's parameters.
  std::optional<Typed> atOwnIndices(const CallExpr &e) {
    using P = Predicate::Op;
    bool alibi = e.callee == "alibi_slope";
    std::vector<std::string> want = {vars[0], vars[1], vars[2], vars[3]};
    if (alibi)
      want = {vars[1]};
    bool same = e.args.size() == want.size();
    for (size_t i = 0; same && i < want.size(); ++i) {
      auto *name = llvm::dyn_cast<NameExpr>(e.args[i].value.get());
      same = name && name->name == want[i];
    }
    if (!same || heads <= 0) {
      diags.error(e.getLoc(), alibi ? "alibi_slope reads the score's own "
                                      "head: alibi_slope(" +
                                          vars[1] + ")"
                                    : "bias reads the bias input at the "
                                      "score's own element: bias(" +
                                          vars[0] + ", " + vars[1] + ", " +
                                          vars[2] + ", " + vars[3] + ")");
      return std::nullopt;
    }
    if (alibi)
      return Typed{
          make(P::AlibiSlope, {make(P::Var, {}, 1), make(P::Const, {}, heads)}),
          Type::Float};
    return Typed{make(P::BiasAt, {}), Type::Float};
  }

  std::optional<Typed> call(const CallExpr &e) {
    using P = Predicate::Op;
    if (e.body) {
      diags.error(e.getLoc(), "a call in a score function takes no body");
      return std::nullopt;
    }
    for (const CallArg &arg : e.args)
      if (!arg.name.empty()) {
        diags.error(arg.loc, "'" + e.callee + "' takes no named arguments");
        return std::nullopt;
      }
    for (size_t slot = 0; slot < tensors.size(); ++slot) {
      if (tensors[slot].name != e.callee)
        continue;
      const std::vector<int64_t> &shape = tensors[slot].shape;
      if (e.args.size() != shape.size()) {
        diags.error(e.getLoc(), "tensor '" + e.callee + "' has " +
                                    std::to_string(shape.size()) +
                                    " dimensions, indexed with " +
                                    std::to_string(e.args.size()));
        return std::nullopt;
      }
      std::vector<Node> operands = {make(P::Const, {}, int64_t(slot))};
      for (const CallArg &arg : e.args) {
        std::optional<Typed> index = build(*arg.value);
        if (!index)
          return std::nullopt;
        if (index->type != Type::Int) {
          diags.error(arg.loc, "tensor indices must be integers");
          return std::nullopt;
        }
        operands.push_back(index->node);
      }
      used[slot] = true;
      return Typed{make(P::Tensor, std::move(operands)), Type::Float};
    }
    if (e.callee == "t5_bucket")
      return t5Bucket(e);
    if (e.callee == "alibi_slope" || e.callee == "bias")
      return atOwnIndices(e);
    static const llvm::StringRef unaryNames[] = {"abs", "tanh", "exp", "log",
                                                 "sqrt"};
    static const llvm::StringRef binaryNames[] = {"min", "max"};
    size_t arity = llvm::is_contained(unaryNames, e.callee)    ? 1
                   : llvm::is_contained(binaryNames, e.callee) ? 2
                   : e.callee == "select"                      ? 3
                                                               : 0;
    if (!arity) {
      diags.error(e.getLoc(),
                  "unknown function '" + e.callee +
                      "' in score function; expected a tensor of the block, "
                      "min, max, abs, tanh, exp, log, sqrt, select, "
                      "t5_bucket, alibi_slope or bias");
      return std::nullopt;
    }
    if (e.args.size() != arity) {
      diags.error(e.getLoc(), "'" + e.callee + "' takes " +
                                  std::to_string(arity) + " argument" +
                                  (arity == 1 ? "" : "s"));
      return std::nullopt;
    }
    std::vector<Typed> args;
    for (const CallArg &arg : e.args) {
      std::optional<Typed> t = build(*arg.value);
      if (!t)
        return std::nullopt;
      args.push_back(*t);
    }
    if (e.callee == "select") {
      if (args[0].type != Type::Bool) {
        diags.error(e.args[0].loc, "select needs a condition first");
        return std::nullopt;
      }
      if ((args[1].type == Type::Bool) != (args[2].type == Type::Bool)) {
        diags.error(e.getLoc(), "select mixes a number and a condition");
        return std::nullopt;
      }
      Type type = args[1].type == args[2].type ? args[1].type : Type::Float;
      return Typed{make(P::Select, {args[0].node, args[1].node, args[2].node}),
                   type};
    }
    for (size_t i = 0; i < args.size(); ++i)
      if (!numeric(args[i], e.args[i].loc, "'" + e.callee + "'"))
        return std::nullopt;
    if (arity == 2)
      return Typed{make(e.callee == "min" ? P::Min : P::Max,
                        {args[0].node, args[1].node}),
                   args[0].type == Type::Int && args[1].type == Type::Int
                       ? Type::Int
                       : Type::Float};
    if (e.callee == "abs")
      return Typed{make(P::Abs, {args[0].node}), args[0].type};
    P op = e.callee == "tanh"  ? P::Tanh
           : e.callee == "exp" ? P::Exp
           : e.callee == "log" ? P::Log
                               : P::Sqrt;
    return Typed{make(op, {args[0].node}), Type::Float};
  }

  SemaContext &ctx;
  Diagnostics &diags;
  std::vector<std::string> vars;
  const std::vector<kernels::ScoreTensor> &tensors;
  std::vector<bool> &used;
  int64_t heads; ///< The block's heads, for alibi_slope; 0 in masks.
};

} // namespace

bool SemaContext::readScoreTensors(const Expr &value,
                                   std::vector<kernels::ScoreTensor> &out) {
  std::vector<const Expr *> items;
  if (auto *list = llvm::dyn_cast<ListExpr>(&value)) {
    for (const ExprPtr &item : list->items)
      items.push_back(item.get());
  } else {
    items.push_back(&value);
  }
  bool ok = true;
  for (const Expr *item : items) {
    auto *call = llvm::dyn_cast<CallExpr>(item);
    if (!call || call->body || call->args.empty() || call->args.size() > 4) {
      diags.error(item->getLoc(), "a tensor is declared as name(extent, ...) "
                                  "with 1 to 4 extents: rel_bias(heads, 32)");
      ok = false;
      continue;
    }
    if (llvm::is_contained(kReservedNames, call->callee) ||
        llvm::any_of(out, [&](const kernels::ScoreTensor &t) {
          return t.name == call->callee;
        })) {
      diags.error(call->getLoc(), "tensor name '" + call->callee +
                                      "' is taken; choose another");
      ok = false;
      continue;
    }
    kernels::ScoreTensor tensor;
    tensor.name = call->callee;
    int64_t elements = 1;
    for (const CallArg &arg : call->args) {
      std::optional<Value> v = evaluate(*arg.value);
      if (!v || v->kind != Value::Kind::Int || v->i <= 0 ||
          v->i > limits::kMaxWidth || !arg.name.empty()) {
        if (v)
          diags.error(arg.value->getLoc(),
                      "a tensor extent must be an integer from 1 to 65536, "
                      "got " +
                          v->describe());
        ok = false;
        break;
      }
      tensor.shape.push_back(v->i);
      elements *= v->i;
    }
    if (tensor.shape.size() != call->args.size())
      continue;
    if (elements >= limits::kMaxTensorElements) {
      diags.error(call->getLoc(), "tensor '" + tensor.name +
                                      "' must hold fewer than 2^29 elements");
      ok = false;
      continue;
    }
    out.push_back(tensor);
  }
  return ok;
}

std::shared_ptr<const kernels::Predicate>
SemaContext::maskExpression(const CallExpr &call) {
  std::vector<std::string> vars;
  for (const CallArg &arg : call.args)
    vars.push_back(llvm::cast<NameExpr>(*arg.value).name);
  const std::vector<kernels::ScoreTensor> noTensors;
  std::vector<bool> used;
  ScoreBuilder builder(*this, vars, noTensors, used);
  std::optional<Typed> body = builder.build(*call.body);
  if (!body)
    return nullptr;
  return body->node;
}

std::shared_ptr<const kernels::Predicate>
SemaContext::scoreFunction(const CallExpr &call,
                           const std::vector<kernels::ScoreTensor> &tensors,
                           int64_t heads) {
  if (call.args.size() != 5) {
    diags.error(call.getLoc(), "score takes five names (score, batch, head, "
                               "query, key), got " +
                                   std::to_string(call.args.size()));
    return nullptr;
  }
  std::vector<std::string> vars;
  for (const CallArg &arg : call.args) {
    auto *name = llvm::dyn_cast<NameExpr>(arg.value.get());
    if (!arg.name.empty() || !name) {
      diags.error(arg.loc, "score function parameters must be plain names");
      return nullptr;
    }
    if (llvm::is_contained(vars, name->name)) {
      diags.error(arg.loc, "score function parameter '" + name->name +
                               "' is named twice");
      return nullptr;
    }
    vars.push_back(name->name);
  }
  // Parameters are ordered b, h, q, k, s in the tree; s comes first here.
  std::rotate(vars.begin(), vars.begin() + 1, vars.end());
  if (!call.body) {
    diags.error(call.getLoc(), "score function needs a body: score(s, b, h, "
                               "q, k) { s + rel_bias(h, k - q) }");
    return nullptr;
  }
  std::vector<bool> used(tensors.size(), false);
  ScoreBuilder builder(*this, vars, tensors, used, heads);
  std::optional<Typed> body = builder.build(*call.body);
  if (!body)
    return nullptr;
  if (body->type == Type::Bool) {
    diags.error(call.body->getLoc(),
                "score function body must be a number, not a condition");
    return nullptr;
  }
  for (size_t i = 0; i < tensors.size(); ++i)
    if (!used[i]) {
      diags.error(call.getLoc(), "score function does not read tensor '" +
                                     tensors[i].name + "' of its block");
      return nullptr;
    }
  return body->node;
}
