//===- AttnShapeInference.cpp - Result shapes from operand shapes ---------===//
//
// The ShapeInference interface of each op. The attn-shape-inference pass
// calls inferShapes only once every operand is ranked; dimensions stay
// dynamic where the operands leave them unknown. Consistency is the
// verifier's job, which runs after the pass.
//
//===----------------------------------------------------------------------===//

#include "ShapeUtils.h"
#include "attnc/Dialect/Attn/AttnDialect.h"

using namespace mlir;
using namespace attnc::attn;

/// Sets `result` to a ranked tensor of `shape` and `elementType`.
static LogicalResult setShape(Value result, ArrayRef<int64_t> shape,
                              Type elementType) {
  result.setType(RankedTensorType::get(shape, elementType));
  return success();
}

static Type elementOf(Value v) {
  return v.getType().cast<ShapedType>().getElementType();
}

LogicalResult LinearOp::inferShapes() {
  auto input = rankedType(getInput());
  SmallVector<int64_t> shape(input.getShape().begin(), input.getShape().end());
  if (shape.empty())
    return emitOpError("input must have rank 1 or more");
  shape.back() = dimOf(getWeight(), 0);
  return setShape(getOutput(), shape, input.getElementType());
}

LogicalResult ActivationOp::inferShapes() {
  getOutput().setType(getInput().getType());
  return success();
}

LogicalResult SoftmaxOp::inferShapes() {
  getOutput().setType(getInput().getType());
  return success();
}

LogicalResult AddOp::inferShapes() {
  auto lhs = rankedType(getLhs()), rhs = rankedType(getRhs());
  if (lhs.getRank() != rhs.getRank())
    return emitOpError("operand ranks differ: ")
           << shapeString(lhs) << " vs " << shapeString(rhs);
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < lhs.getRank(); ++i)
    shape.push_back(merge(lhs.getDimSize(i), rhs.getDimSize(i)));
  return setShape(getOutput(), shape, lhs.getElementType());
}

LogicalResult LayerNormOp::inferShapes() {
  getOutput().setType(getInput().getType());
  return success();
}

LogicalResult EmbeddingOp::inferShapes() {
  // The table is a weight (f32); the result keeps the activations' type.
  return setShape(
      getOutput(),
      {dimOf(getTokens(), 0), dimOf(getTokens(), 1), dimOf(getTable(), 1)},
      elementOf(getOutput()));
}

LogicalResult SliceOp::inferShapes() {
  auto input = rankedType(getInput());
  int64_t axis = getAxisAttr().getInt();
  if (axis < 0 || axis >= input.getRank())
    return emitOpError("axis ")
           << axis << " is out of range for " << shapeString(input);
  SmallVector<int64_t> shape(input.getShape().begin(), input.getShape().end());
  shape[axis] = getSizeAttr().getInt();
  return setShape(getOutput(), shape, input.getElementType());
}

LogicalResult ConcatOp::inferShapes() {
  auto first = rankedType(getInputs().front());
  int64_t axis = getAxisAttr().getInt();
  if (axis < 0 || axis >= first.getRank())
    return emitOpError("axis ")
           << axis << " is out of range for " << shapeString(first);
  SmallVector<int64_t> shape(first.getShape().begin(), first.getShape().end());
  shape[axis] = 0;
  for (Value input : getInputs()) {
    int64_t d = dimOf(input, axis);
    shape[axis] =
        (shape[axis] == kUnknown || d == kUnknown) ? kUnknown : shape[axis] + d;
  }
  return setShape(getOutput(), shape, first.getElementType());
}

LogicalResult AttentionOp::inferShapes() {
  int64_t heads = getNumHeadsAttr().getInt();
  int64_t kvHeads = getNumKvHeadsAttr().getInt();
  if (kvHeads <= 0)
    return emitOpError("num_kv_heads must be positive");
  int64_t batch = dimOf(getQuery(), 0), qLen = dimOf(getQuery(), 1);
  int64_t kvLen = dimOf(getKey(), 1);
  int64_t vChannels = dimOf(getValue(), 2);
  int64_t channels =
      vChannels == kUnknown ? kUnknown : heads * (vChannels / kvHeads);
  Type element = elementOf(getQuery());
  (void)setShape(getOutput(), {batch, qLen, channels}, element);
  if (Value probs = getProbabilities()) {
    if (getProbs() == Probs::PerHead)
      return setShape(probs, {batch, heads, qLen, kvLen}, element);
    return setShape(probs, {batch, qLen, kvLen}, element);
  }
  return success();
}
