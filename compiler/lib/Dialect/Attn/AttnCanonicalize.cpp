//===- AttnCanonicalize.cpp - Folders and local rewrites ------------------===//
//
// The dialect's local algebra, run by the canonicalizer:
//   slice of the whole dimension           -> its input
//   slice of a slice                       -> one slice
//   slice that matches a concat input      -> that input
//   concat of adjacent slices of one value -> one slice (then maybe the value)
//   concat of a single input               -> that input
//   activation(linear without activation)  -> linear with the activation
//   layer_norm(add(a, b)) with no residual -> layer_norm(a, residual b)
//
//===----------------------------------------------------------------------===//

#include "ShapeUtils.h"
#include "attnc/Dialect/Attn/AttnDialect.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace attnc::attn;

//===----------------------------------------------------------------------===//
// SliceOp
//===----------------------------------------------------------------------===//

OpFoldResult SliceOp::fold(ArrayRef<Attribute>) {
  int64_t axis = getAxisAttr().getInt();
  int64_t offset = getOffsetAttr().getInt();
  int64_t size = getSizeAttr().getInt();
  Value input = getInput();

  if (offset == 0 && dimOf(input, axis) == size && input.getType() == getType())
    return input;

  // slice(slice(x)) along one axis: read x directly, in place.
  if (auto inner = input.getDefiningOp<SliceOp>()) {
    if (inner.getAxisAttr().getInt() == axis) {
      getOperation()->setOperand(0, inner.getInput());
      (*this)->setAttr(
          "offset", IntegerAttr::get(getOffsetAttr().getType(),
                                     offset + inner.getOffsetAttr().getInt()));
      return getResult();
    }
  }

  // A slice that selects exactly one input of a concat is that input.
  if (auto concat = input.getDefiningOp<ConcatOp>()) {
    if (concat.getAxisAttr().getInt() != axis)
      return {};
    int64_t start = 0;
    for (Value part : concat.getInputs()) {
      int64_t extent = dimOf(part, axis);
      if (extent == kUnknown)
        return {};
      if (start == offset && extent == size && part.getType() == getType())
        return part;
      start += extent;
    }
  }
  return {};
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

namespace {

/// concat(slice(x, a..b), slice(x, b..c), ...) -> slice(x, a..c).
struct MergeAdjacentSlices : public OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    int64_t axis = op.getAxisAttr().getInt();
    Value source;
    int64_t begin = 0, next = 0;
    for (Value input : op.getInputs()) {
      auto slice = input.getDefiningOp<SliceOp>();
      if (!slice || slice.getAxisAttr().getInt() != axis)
        return failure();
      int64_t offset = slice.getOffsetAttr().getInt();
      if (!source) {
        source = slice.getInput();
        begin = offset;
      } else if (slice.getInput() != source || offset != next) {
        return failure();
      }
      next = offset + slice.getSizeAttr().getInt();
    }
    rewriter.replaceOpWithNewOp<SliceOp>(
        op, op.getType(), source, rewriter.getI64IntegerAttr(axis),
        rewriter.getI64IntegerAttr(begin),
        rewriter.getI64IntegerAttr(next - begin));
    return success();
  }
};

/// concat(x) -> x.
struct SingleInputConcat : public OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getInputs().size() != 1 ||
        op.getInputs().front().getType() != op.getType())
      return failure();
    rewriter.replaceOp(op, op.getInputs().front());
    return success();
  }
};

/// activation(linear(x, w, b)) -> linear(x, w, b) {activation}, when the
/// linear has no activation and no other user.
struct FuseActivationIntoLinear : public OpRewritePattern<ActivationOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ActivationOp op,
                                PatternRewriter &rewriter) const override {
    auto linear = op.getInput().getDefiningOp<LinearOp>();
    if (!linear || linear.getActivation() != Activation::None ||
        !linear->hasOneUse())
      return failure();
    auto fused = rewriter.create<LinearOp>(
        linear.getLoc(), op.getType(), linear.getInput(), linear.getWeight(),
        linear.getBias(), ActivationAttr::get(getContext(), op.getKind()),
        WeightTypeAttr::get(getContext(), linear.getWeights()));
    dropDefaultAttributes(fused);
    rewriter.replaceOp(op, fused.getResult());
    rewriter.eraseOp(linear);
    return success();
  }
};

/// layer_norm(add(a, b)) -> layer_norm(a, residual b), when the add has no
/// other user and the norm has no residual yet.
struct FuseResidualIntoLayerNorm : public OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LayerNormOp op,
                                PatternRewriter &rewriter) const override {
    auto add = op.getInput().getDefiningOp<AddOp>();
    if (!add || op.getResidual() || !add->hasOneUse() ||
        add.getLhs().getType() != add.getRhs().getType())
      return failure();
    rewriter.replaceOpWithNewOp<LayerNormOp>(op, op.getType(), add.getLhs(),
                                             add.getRhs(), op.getGamma(),
                                             op.getBeta(), op.getEpsilonAttr());
    rewriter.eraseOp(add);
    return success();
  }
};

} // namespace

void ConcatOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<MergeAdjacentSlices, SingleInputConcat>(context);
}

void ActivationOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                               MLIRContext *context) {
  results.add<FuseActivationIntoLinear>(context);
}

void LayerNormOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<FuseResidualIntoLayerNorm>(context);
}
