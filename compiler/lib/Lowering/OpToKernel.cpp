//===- OpToKernel.cpp - The kernel spec of each attn op -------------------===//
//
// Reads static sizes from the (ranked) types and variant attributes from the
// ops. The attention mask region becomes a kernels::Predicate tree; arith
// ops other than the integer and boolean ones MLIRGen produces are
// rejected with a located error.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/OpToKernel.h"
#include "attnc/Dialect/Attn/AttnDialect.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace attnc;
namespace k = attnc::kernels;

namespace {

/// The static innermost size of `value`, or an error at `op`.
FailureOr<int64_t> staticWidth(Operation *op, Value value, StringRef what) {
  auto type = value.getType().dyn_cast<RankedTensorType>();
  if (!type || type.getRank() == 0 ||
      type.getShape().back() == ShapedType::kDynamicSize) {
    op->emitOpError() << "cannot be lowered: the " << what
                      << " needs a static innermost size";
    return failure();
  }
  return type.getShape().back();
}

FailureOr<k::DType> dtypeOf(Operation *op, Value value) {
  Type element = value.getType().cast<ShapedType>().getElementType();
  if (element.isF32())
    return k::DType::F32;
  if (element.isBF16())
    return k::DType::BF16;
  op->emitOpError() << "cannot be lowered: unsupported element type "
                    << element;
  return failure();
}

k::Activation activationOf(attn::Activation activation) {
  switch (activation) {
  case attn::Activation::None:
    return k::Activation::None;
  case attn::Activation::ReLU:
    return k::Activation::ReLU;
  case attn::Activation::GELU:
    return k::Activation::GELU;
  }
  return k::Activation::None;
}

k::WeightType weightTypeOf(attn::WeightType type) {
  switch (type) {
  case attn::WeightType::F32:
    return k::WeightType::F32;
  case attn::WeightType::BF16:
    return k::WeightType::BF16;
  case attn::WeightType::F16:
    return k::WeightType::F16;
  case attn::WeightType::I8:
    return k::WeightType::I8;
  }
  return k::WeightType::F32;
}

/// Translates the mask region into a predicate tree.
FailureOr<std::shared_ptr<const k::Predicate>>
predicateOf(attn::AttentionOp op) {
  Block &block = op.getMask().front();
  llvm::DenseMap<Value, std::shared_ptr<const k::Predicate>> trees;
  for (unsigned i = 0; i < 4; ++i) {
    auto var = std::make_shared<k::Predicate>();
    var->op = k::Predicate::Op::Var;
    var->value = i;
    trees[block.getArgument(i)] = var;
  }
  for (Operation &inner : block) {
    if (auto yield = dyn_cast<attn::YieldOp>(inner))
      return trees.lookup(yield.getKeep());
    auto node = std::make_shared<k::Predicate>();
    if (auto constant = dyn_cast<arith::ConstantOp>(inner)) {
      auto value = constant.getValue().dyn_cast<IntegerAttr>();
      if (!value) {
        inner.emitOpError("is not an integer or boolean constant");
        return failure();
      }
      node->op = k::Predicate::Op::Const;
      node->value = value.getType().isInteger(1)
                        ? int64_t(value.getValue().getBoolValue())
                        : value.getInt();
      trees[inner.getResult(0)] = node;
      continue;
    }
    using P = k::Predicate::Op;
    std::optional<P> kind =
        llvm::TypeSwitch<Operation *, std::optional<P>>(&inner)
            .Case([](arith::AddIOp) { return P::Add; })
            .Case([](arith::SubIOp) { return P::Sub; })
            .Case([](arith::MulIOp) { return P::Mul; })
            .Case([](arith::DivSIOp) { return P::Div; })
            .Case([](arith::RemSIOp) { return P::Rem; })
            .Case([](arith::MinSIOp) { return P::Min; })
            .Case([](arith::MaxSIOp) { return P::Max; })
            .Case([](arith::AndIOp) { return P::And; })
            .Case([](arith::OrIOp) { return P::Or; })
            .Case([](arith::XOrIOp) { return P::Xor; })
            .Case([](arith::CmpIOp cmp) -> std::optional<P> {
              switch (cmp.getPredicate()) {
              case arith::CmpIPredicate::eq:
                return P::Eq;
              case arith::CmpIPredicate::ne:
                return P::Ne;
              case arith::CmpIPredicate::slt:
                return P::Lt;
              case arith::CmpIPredicate::sle:
                return P::Le;
              case arith::CmpIPredicate::sgt:
                return P::Gt;
              case arith::CmpIPredicate::sge:
                return P::Ge;
              default:
                return std::nullopt;
              }
            })
            .Default([](Operation *) { return std::nullopt; });
    if (!kind) {
      inner.emitOpError("cannot be lowered inside a mask predicate");
      return failure();
    }
    node->op = *kind;
    for (Value operand : inner.getOperands())
      node->operands.push_back(trees.lookup(operand));
    trees[inner.getResult(0)] = node;
  }
  op.emitOpError("mask predicate has no attn.yield");
  return failure();
}

FailureOr<k::AttentionSpec> attentionSpecOf(attn::AttentionOp op) {
  k::AttentionSpec spec;
  spec.heads = op.getNumHeadsAttr().getInt();
  spec.kvHeads = op.getNumKvHeadsAttr().getInt();
  spec.headDim = op.getHeadDimAttr().getInt();
  FailureOr<int64_t> vChannels = staticWidth(op, op.getValue(), "value");
  if (failed(vChannels))
    return failure();
  spec.valueDim = *vChannels / spec.kvHeads;
  spec.additive = op.getScoring() == attn::Scoring::Additive;
  spec.scale = spec.additive ? 0.0 : op.getEffectiveScale();
  spec.keyPadding = bool(op.getKvLengths());
  spec.segments = bool(op.getSegmentIds());
  if (op.hasMaskPredicate()) {
    FailureOr<std::shared_ptr<const k::Predicate>> predicate = predicateOf(op);
    if (failed(predicate))
      return failure();
    spec.predicate = *predicate;
  }
  if (StringAttr scoreFn = op.getScoreFnAttr()) {
    try {
      spec.scoreFn = k::Predicate::parse(scoreFn.getValue().str());
    } catch (const std::invalid_argument &e) {
      op.emitOpError("score_fn: ") << e.what();
      return failure();
    }
    ArrayAttr names = op.getScoreTensorNamesAttr();
    for (auto [value, name] :
         llvm::zip(op.getScoreTensors(),
                   names ? names.getValue() : llvm::ArrayRef<Attribute>())) {
      auto type = value.getType().dyn_cast<RankedTensorType>();
      if (!type || !type.hasStaticShape()) {
        op.emitOpError("cannot be lowered: score tensor '")
            << name.cast<StringAttr>().getValue() << "' needs a static shape";
        return failure();
      }
      spec.scoreTensors.push_back(
          {name.cast<StringAttr>().getValue().str(),
           std::vector<int64_t>(type.getShape().begin(),
                                type.getShape().end())});
    }
  }
  spec.emptyRows = op.getEmptyRows() == attn::EmptyRows::Uniform
                       ? k::EmptyRows::Uniform
                       : k::EmptyRows::Zero;
  spec.probs = op.getProbs() == attn::Probs::PerHead    ? k::Probs::PerHead
               : op.getProbs() == attn::Probs::HeadMean ? k::Probs::HeadMean
                                                        : k::Probs::None;
  return spec;
}

} // namespace

FailureOr<std::optional<k::KernelSpec>> attnc::kernelSpecOf(Operation *op) {
  if (isa<attn::ParamOp, attn::SliceOp, attn::ConcatOp>(op))
    return std::optional<k::KernelSpec>();
  if (op->getNumResults() == 0 || !op->getResult(0).getType().isa<ShapedType>())
    return std::optional<k::KernelSpec>();
  FailureOr<k::DType> dtype = dtypeOf(op, op->getResult(0));
  if (failed(dtype))
    return failure();
  k::KernelSpec spec;
  spec.dtype = *dtype;

  auto width = [&](Value v, StringRef what) {
    return staticWidth(op, v, what);
  };
  if (auto linear = dyn_cast<attn::LinearOp>(op)) {
    FailureOr<int64_t> in = width(linear.getInput(), "input");
    FailureOr<int64_t> out = width(linear.getOutput(), "result");
    if (failed(in) || failed(out))
      return failure();
    spec.family = k::LinearSpec{*in, *out, bool(linear.getBias()),
                                activationOf(linear.getActivation()),
                                weightTypeOf(linear.getWeights())};
  } else if (auto norm = dyn_cast<attn::LayerNormOp>(op)) {
    FailureOr<int64_t> w = width(norm.getInput(), "input");
    if (failed(w))
      return failure();
    spec.family = k::LayerNormSpec{*w, bool(norm.getResidual()),
                                   norm.getEpsilonAttr().getValueAsDouble()};
  } else if (auto softmax = dyn_cast<attn::SoftmaxOp>(op)) {
    FailureOr<int64_t> w = width(softmax.getInput(), "input");
    if (failed(w))
      return failure();
    spec.family = k::SoftmaxSpec{*w};
  } else if (auto add = dyn_cast<attn::AddOp>(op)) {
    FailureOr<int64_t> w = width(add.getLhs(), "operand");
    if (failed(w))
      return failure();
    spec.family = k::AddSpec{*w};
  } else if (auto embedding = dyn_cast<attn::EmbeddingOp>(op)) {
    auto table = embedding.getTable().getType().cast<RankedTensorType>();
    k::EmbeddingSpec e{table.getDimSize(0), table.getDimSize(1),
                       embedding.getScaleAttr().getValueAsDouble(),
                       embedding.getPositions() == attn::Positions::Sinusoidal};
    if (Value positions = embedding.getPositionTable())
      e.positionRows =
          positions.getType().cast<RankedTensorType>().getDimSize(0);
    spec.family = e;
  } else if (auto attention = dyn_cast<attn::AttentionOp>(op)) {
    FailureOr<k::AttentionSpec> a = attentionSpecOf(attention);
    if (failed(a))
      return failure();
    spec.family = *a;
  } else if (isa<attn::ActivationOp>(op)) {
    op->emitOpError("cannot be lowered on its own; canonicalization fuses it "
                    "into the linear before it (run the default pipeline)");
    return failure();
  } else {
    op->emitOpError("has no kernel family");
    return failure();
  }
  return std::optional<k::KernelSpec>(spec);
}
