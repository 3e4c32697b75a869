//===- MaskPredicate.cpp - Built-in mask terms as predicates --------------===//
//
// `causal` and `window(n)` are definitions in terms of the predicate
// language: k <= q, and q - k < n && k - q < n. The attention algorithm and
// its block classification see only the joined predicate, so built-in and
// user-written masks take one path, and a mask written as a predicate is as
// fast as its built-in spelling.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/MaskClassification.h"

using namespace attnc::kernels;

namespace {

using Node = std::shared_ptr<const Predicate>;

Node make(Predicate::Op op, std::vector<Node> operands, int64_t value = 0) {
  auto node = std::make_shared<Predicate>();
  node->op = op;
  node->value = value;
  node->operands = std::move(operands);
  return node;
}

Node variable(int index) { return make(Predicate::Op::Var, {}, index); }
Node constant(int64_t value) { return make(Predicate::Op::Const, {}, value); }

Node both(Node a, Node b) {
  if (!a)
    return b;
  return make(Predicate::Op::And, {std::move(a), std::move(b)});
}

} // namespace

std::shared_ptr<const Predicate>
attnc::kernels::maskPredicate(const AttentionSpec &spec) {
  using Op = Predicate::Op;
  Node q = variable(2), k = variable(3), mask;
  if (spec.causal)
    mask = make(Op::Le, {k, q});
  if (spec.window) {
    Node w = constant(spec.window);
    mask = both(mask, make(Op::Lt, {make(Op::Sub, {q, k}), w}));
    mask = both(mask, make(Op::Lt, {make(Op::Sub, {k, q}), w}));
  }
  if (spec.predicate)
    mask = both(mask, spec.predicate);
  return mask;
}
