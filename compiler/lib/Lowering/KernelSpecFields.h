//===- KernelSpecFields.h - One table of every kernel spec field -*- C++
//-*-===//
//
// Every field of every family spec, once, as one line: its name (in
// canonical() and in the JSON), and whether it is required (a size, always
// written) or has a default (written only when it differs from the value the
// spec struct initializes it to, as MLIR elides default attributes). The
// canonical text, toJSON() and fromJSON() are visitors over these lists, so
// adding a field with a default is one line here and changes no existing
// kernel name, manifest or tuning-database key. Enum values are spelled by
// the name tables below, indexed by the enum's value; a reader rejects any
// name that is not in the table.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LOWERING_KERNELSPECFIELDS_H
#define ATTNC_LOWERING_KERNELSPECFIELDS_H

#include "attnc/Lowering/KernelSpec.h"

#include <iterator>

namespace attnc {
namespace kernels {
namespace fields {

inline const char *const kDTypes[] = {"f32", "bf16"};
inline const char *const kActivations[] = {"none", "relu", "gelu"};
/// WeightType, in enum order.
inline const char *const kWeightTypes[] = {"f32", "bf16", "f16", "i8"};
inline const char *const kScoring[] = {"dot",
                                       "additive"}; // AttentionSpec::additive
inline const char *const kEmptyRows[] = {"zero", "uniform"};
inline const char *const kProbs[] = {"none", "per_head", "head_mean"};
/// Expression-tree ops (Predicate::Op), in enum order.
inline const char *const kPredicateOps[] = {
    "var",    "const",  "add",       "sub",         "mul",    "div",
    "rem",    "min",    "max",       "eq",          "ne",     "lt",
    "le",     "gt",     "ge",        "and",         "or",     "xor",
    "float",  "abs",    "tanh",      "exp",         "log",    "sqrt",
    "select", "tensor", "t5_bucket", "alibi_slope", "bias_at"};
static_assert(std::size(kPredicateOps) == size_t(Predicate::Op::BiasAt) + 1,
              "one name per op");
/// Var indices: batch, head, query, key, and the score (score functions).
inline const char *const kPredicateVars[] = {"b", "h", "q", "k", "s"};

/// The number of operands of `op`, or -1 when it takes one or more
/// (Tensor: its slot, then one index per dimension).
inline int predicateArity(Predicate::Op op) {
  using Op = Predicate::Op;
  switch (op) {
  case Op::Var:
  case Op::Const:
  case Op::Float:
  case Op::BiasAt:
    return 0;
  case Op::Abs:
  case Op::Tanh:
  case Op::Exp:
  case Op::Log:
  case Op::Sqrt:
    return 1;
  case Op::Select:
    return 3;
  case Op::T5Bucket:
    return 4;
  case Op::Tensor:
    return -1;
  default:
    return 2;
  }
}

/// The name of enum value `value` in `names`, or "?" when out of range.
template <class E, size_t N>
const char *nameOf(E value, const char *const (&names)[N]) {
  size_t i = size_t(value);
  return i < N ? names[i] : "?";
}

// A visitor V provides:
//   required(key, int64_t &) / required(key, double &)
//   optional(key, T &field, const T &defaultValue)     bool, int64_t, double
//   named(key, E &field, E defaultValue, names)        an enum (or bool)
//   predicate(key, std::shared_ptr<const Predicate> &) default: none
//   tensors(key, std::vector<ScoreTensor> &)           default: empty
// Keys appear in canonical() in this order.

template <class V> void visit(V &v, LinearSpec &s) {
  const LinearSpec d;
  v.required("in", s.in);
  v.required("out", s.out);
  v.optional("bias", s.bias, d.bias);
  v.named("activation", s.activation, d.activation, kActivations);
  v.named("weights", s.weights, d.weights, kWeightTypes);
}

template <class V> void visit(V &v, LayerNormSpec &s) {
  const LayerNormSpec d;
  v.required("width", s.width);
  v.optional("residual", s.residual, d.residual);
  v.optional("epsilon", s.epsilon, d.epsilon);
}

template <class V> void visit(V &v, SoftmaxSpec &s) {
  v.required("width", s.width);
}

template <class V> void visit(V &v, EmbeddingSpec &s) {
  const EmbeddingSpec d;
  v.required("vocab", s.vocab);
  v.required("width", s.width);
  v.optional("scale", s.scale, d.scale);
  v.optional("sinusoidal", s.sinusoidal, d.sinusoidal);
  v.optional("position_rows", s.positionRows, d.positionRows);
}

template <class V> void visit(V &v, AddSpec &s) {
  v.required("width", s.width);
}

template <class V> void visit(V &v, AttentionSpec &s) {
  const AttentionSpec d;
  v.required("heads", s.heads);
  v.required("kv_heads", s.kvHeads);
  v.required("head_dim", s.headDim);
  v.required("value_dim", s.valueDim);
  v.named("scoring", s.additive, d.additive, kScoring);
  if (!s.additive) // Additive scoring has no scale.
    v.required("scale", s.scale);
  v.optional("key_padding", s.keyPadding, d.keyPadding);
  v.optional("segments", s.segments, d.segments);
  v.predicate("predicate", s.predicate);
  v.named("empty_rows", s.emptyRows, d.emptyRows, kEmptyRows);
  v.named("probs", s.probs, d.probs, kProbs);
  v.predicate("score_fn", s.scoreFn);
  v.tensors("score_tensors", s.scoreTensors);
}

/// The dtype, then the family's fields.
template <class V> void visit(V &v, KernelSpec &k) {
  v.named("dtype", k.dtype, DType::F32, kDTypes);
  std::visit([&](auto &family) { visit(v, family); }, k.family);
}

} // namespace fields
} // namespace kernels
} // namespace attnc

#endif // ATTNC_LOWERING_KERNELSPECFIELDS_H
