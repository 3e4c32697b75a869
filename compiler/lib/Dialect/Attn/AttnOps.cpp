//===- AttnOps.cpp - Verifiers of the attn ops ----------------------------===//
//
// Every shape rule of the dialect, checked wherever the types are known:
// unranked operands and dynamic sizes skip the checks that need them, so IR
// straight from MLIRGen verifies too. Messages name the operand and print
// the shapes involved.
//
//===----------------------------------------------------------------------===//

#include "ShapeUtils.h"
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Lowering/KernelSpec.h"

#include <cmath>

using namespace mlir;
using namespace attnc::attn;
namespace kernels = attnc::kernels;

/// Fails with "<what> must have rank <rank>, got [..]" if `v` is ranked
/// with another rank.
static LogicalResult checkRank(Operation *op, Value v, int64_t rank,
                               StringRef what) {
  auto type = rankedType(v);
  if (type && type.getRank() != rank)
    return op->emitOpError() << what << " must have rank " << rank << ", got "
                             << shapeString(v.getType());
  return success();
}

/// Fails unless `actual` is compatible with `expected`, naming both.
static LogicalResult checkDim(Operation *op, int64_t actual, int64_t expected,
                              const Twine &message) {
  if (!compatible(actual, expected))
    return op->emitOpError() << message << " (" << dimString(actual) << " vs "
                             << dimString(expected) << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

static LogicalResult verify(ParamOp op) {
  if (op.getName().empty())
    return op.emitOpError("needs a non-empty name");
  auto type = op.getType().dyn_cast<RankedTensorType>();
  if (!type || !type.hasStaticShape())
    return op.emitOpError("must have a static shape, got ")
           << shapeString(op.getType());
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

static LogicalResult verify(LinearOp op) {
  Operation *o = op.getOperation();
  if (failed(checkRank(o, op.getWeight(), 2, "weight")) ||
      failed(checkRank(o, op.getBias(), 1, "bias")))
    return failure();
  auto input = rankedType(op.getInput());
  if (input && input.getRank() < 1)
    return op.emitOpError("input must have rank 1 or more");
  int64_t out = dimOf(op.getWeight(), 0), in = dimOf(op.getWeight(), 1);
  if (failed(checkDim(o, dimOf(op.getInput(), -1), in,
                      "input's innermost dimension must equal the weight's "
                      "in_features")))
    return failure();
  if (op.getBias() &&
      failed(checkDim(o, dimOf(op.getBias(), 0), out,
                      "bias size must equal the weight's out_features")))
    return failure();
  auto result = rankedType(op.getOutput());
  if (result && input) {
    if (result.getRank() != input.getRank())
      return op.emitOpError("result rank must equal the input rank, got ")
             << shapeString(result) << " for input " << shapeString(input);
    for (int64_t i = 0; i + 1 < input.getRank(); ++i)
      if (failed(checkDim(o, result.getDimSize(i), input.getDimSize(i),
                          "result's leading dimensions must equal the "
                          "input's")))
        return failure();
  }
  return checkDim(o, dimOf(op.getOutput(), -1), out,
                  "result's innermost dimension must equal the weight's "
                  "out_features");
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

/// Result and operands of an elementwise op must agree where known.
static LogicalResult checkSameShape(Operation *op, Value a, Value b,
                                    StringRef what) {
  auto ta = rankedType(a), tb = rankedType(b);
  if (!ta || !tb)
    return success();
  bool ok = ta.getRank() == tb.getRank();
  for (int64_t i = 0; ok && i < ta.getRank(); ++i)
    ok = compatible(ta.getDimSize(i), tb.getDimSize(i));
  if (!ok)
    return op->emitOpError() << what << " shapes differ: " << shapeString(ta)
                             << " vs " << shapeString(tb);
  return success();
}

static LogicalResult verify(ActivationOp op) {
  if (op.getKind() == Activation::None)
    return op.emitOpError("kind must be relu or gelu");
  return checkSameShape(op, op.getInput(), op.getOutput(), "input and result");
}

static LogicalResult verify(AddOp op) {
  if (failed(checkSameShape(op, op.getLhs(), op.getRhs(), "operand")))
    return failure();
  return checkSameShape(op, op.getLhs(), op.getOutput(), "operand and result");
}

static LogicalResult verify(SoftmaxOp op) {
  auto input = rankedType(op.getInput());
  if (input && input.getRank() < 1)
    return op.emitOpError("input must have rank 1 or more");
  return checkSameShape(op, op.getInput(), op.getOutput(), "input and result");
}

//===----------------------------------------------------------------------===//
// LayerNormOp
//===----------------------------------------------------------------------===//

static LogicalResult verify(LayerNormOp op) {
  Operation *o = op.getOperation();
  double eps = op.getEpsilonAttr().getValueAsDouble();
  if (!(eps > 0) || !std::isfinite(eps))
    return op.emitOpError("epsilon must be positive, got ") << eps;
  if (failed(checkRank(o, op.getGamma(), 1, "gamma")) ||
      failed(checkRank(o, op.getBeta(), 1, "beta")))
    return failure();
  int64_t width = dimOf(op.getInput(), -1);
  if (failed(checkDim(o, dimOf(op.getGamma(), 0), width,
                      "gamma size must equal the normalized dimension")) ||
      failed(checkDim(o, dimOf(op.getBeta(), 0), width,
                      "beta size must equal the normalized dimension")))
    return failure();
  if (op.getResidual() &&
      failed(checkSameShape(o, op.getInput(), op.getResidual(),
                            "input and residual")))
    return failure();
  return checkSameShape(o, op.getInput(), op.getOutput(), "input and result");
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

static LogicalResult verify(EmbeddingOp op) {
  Operation *o = op.getOperation();
  double scale = op.getScaleAttr().getValueAsDouble();
  if (!(scale > 0) || !std::isfinite(scale))
    return op.emitOpError("scale must be positive, got ") << scale;
  if (failed(checkRank(o, op.getTokens(), 2, "tokens")) ||
      failed(checkRank(o, op.getTable(), 2, "table")) ||
      failed(checkRank(o, op.getOutput(), 3, "result")))
    return failure();
  int64_t width = dimOf(op.getTable(), 1);
  if (op.getPositions() == Positions::Sinusoidal && width != kUnknown &&
      width % 2)
    return op.emitOpError("sinusoidal positions need an even width, got ")
           << width;
  bool learned = op.getPositions() == Positions::Learned;
  if (Value table = op.getPositionTable()) {
    if (!learned)
      return op.emitOpError("has a position table but positions = ")
             << stringifyPositions(op.getPositions());
    if (failed(checkRank(o, table, 2, "position table")) ||
        failed(checkDim(o, dimOf(table, 1), width,
                        "position table width must equal the table's width")))
      return failure();
    int64_t rows = rankedType(table) ? dimOf(table, 0) : kUnknown;
    if (rows == kUnknown || rows < 1)
      return op.emitOpError("position table needs a static number of rows, "
                            "at least 1, got ")
             << shapeString(table.getType());
  } else if (learned) {
    return op.emitOpError("positions = learned needs a position table operand");
  }
  if (failed(checkDim(o, dimOf(op.getOutput(), 0), dimOf(op.getTokens(), 0),
                      "result batch must equal the tokens' batch")) ||
      failed(checkDim(o, dimOf(op.getOutput(), 1), dimOf(op.getTokens(), 1),
                      "result length must equal the tokens' length")))
    return failure();
  return checkDim(o, dimOf(op.getOutput(), 2), width,
                  "result width must equal the table's width");
}

//===----------------------------------------------------------------------===//
// SliceOp and ConcatOp
//===----------------------------------------------------------------------===//

static LogicalResult verify(SliceOp op) {
  auto input = rankedType(op.getInput());
  int64_t axis = op.getAxisAttr().getInt();
  int64_t offset = op.getOffsetAttr().getInt();
  int64_t size = op.getSizeAttr().getInt();
  if (offset < 0 || size <= 0)
    return op.emitOpError("needs offset >= 0 and size > 0, got offset ")
           << offset << " and size " << size;
  if (!input)
    return success();
  if (axis < 0 || axis >= input.getRank())
    return op.emitOpError("axis ")
           << axis << " is out of range for " << shapeString(input);
  int64_t extent = input.getDimSize(axis);
  if (extent != kUnknown && offset + size > extent)
    return op.emitOpError("range [")
           << offset << ", " << offset + size << ") exceeds dimension " << axis
           << " of " << shapeString(input);
  auto result = rankedType(op.getOutput());
  if (!result)
    return success();
  if (result.getRank() != input.getRank())
    return op.emitOpError("result rank must equal the input rank");
  for (int64_t i = 0; i < input.getRank(); ++i) {
    int64_t expected = i == axis ? size : input.getDimSize(i);
    if (failed(checkDim(op, result.getDimSize(i), expected,
                        "result dimension " + Twine(i) + " is wrong")))
      return failure();
  }
  return success();
}

static LogicalResult verify(ConcatOp op) {
  if (op.getInputs().empty())
    return op.emitOpError("needs at least one input");
  int64_t axis = op.getAxisAttr().getInt();
  int64_t rank = -1, total = 0;
  for (Value input : op.getInputs()) {
    auto type = rankedType(input);
    if (!type)
      return success();
    if (rank >= 0 && type.getRank() != rank)
      return op.emitOpError("inputs must have one rank");
    rank = type.getRank();
    if (axis < 0 || axis >= rank)
      return op.emitOpError("axis ")
             << axis << " is out of range for " << shapeString(type);
    int64_t d = type.getDimSize(axis);
    total = (total == kUnknown || d == kUnknown) ? kUnknown : total + d;
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis &&
          failed(checkDim(op, type.getDimSize(i),
                          dimOf(op.getInputs().front(), i),
                          "inputs differ off the concatenation axis")))
        return failure();
  }
  return checkDim(op, dimOf(op.getOutput(), axis), total,
                  "result size along the axis must be the inputs' sum");
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

double AttentionOp::getEffectiveScale() {
  if (FloatAttr scale = getScaleAttr())
    return scale.getValueAsDouble();
  return 1.0 / std::sqrt(double(getHeadDimAttr().getInt()));
}

/// The mask region: empty, or one block (b, h, q, k: index) that ends in
/// attn.yield and uses only arith ops.
static LogicalResult verifyMaskRegion(AttentionOp op) {
  Region &region = op.getMask();
  if (region.empty())
    return success();
  if (!llvm::hasSingleElement(region))
    return op.emitOpError("mask region must have one block");
  Block &block = region.front();
  if (block.getNumArguments() != 4 ||
      llvm::any_of(block.getArgumentTypes(),
                   [](Type t) { return !t.isIndex(); }))
    return op.emitOpError("mask predicate must take four index arguments "
                          "(batch, head, query, key)");
  if (!isa<YieldOp>(block.getTerminator()))
    return op.emitOpError("mask predicate must end with attn.yield");
  for (Operation &inner : block.without_terminator())
    if (!isa<arith::ArithmeticDialect>(inner.getDialect()))
      return inner.emitOpError("is not allowed in a mask predicate; use "
                               "arith ops");
  return success();
}

/// The score function: its text parses, and its tensors are operands with
/// a static shape of the rank it indexes them with.
static LogicalResult verifyScoreFunction(AttentionOp op) {
  StringAttr text = op.getScoreFnAttr();
  size_t count = op.getScoreTensors().size();
  ArrayAttr names = op.getScoreTensorNamesAttr();
  if (!text) {
    if (count || names)
      return op.emitOpError("score_tensors and score_tensor_names need a "
                            "score_fn");
    if (op.getBias())
      return op.emitOpError("the bias operand needs a score_fn that reads "
                            "it with (bias_at)");
    return success();
  }
  if ((names ? names.size() : 0) != count)
    return op.emitOpError("needs one score_tensor_names entry per "
                          "score_tensors operand");
  std::shared_ptr<const kernels::Predicate> fn;
  try {
    fn = kernels::Predicate::parse(text.getValue().str());
  } catch (const std::invalid_argument &e) {
    return op.emitOpError("score_fn: ") << e.what();
  }
  if (fn->uses(kernels::Predicate::Op::BiasAt) != bool(op.getBias()))
    return op.emitOpError("score_fn reads (bias_at) exactly when there is "
                          "a bias operand");
  // Every tensor read names an operand, with one index per dimension;
  // ALiBi's slopes are those of this op's heads.
  SmallVector<const kernels::Predicate *> stack{fn.get()};
  while (!stack.empty()) {
    const kernels::Predicate *p = stack.pop_back_val();
    for (const auto &operand : p->operands)
      stack.push_back(operand.get());
    if (p->op == kernels::Predicate::Op::AlibiSlope &&
        (p->operands.size() != 2 ||
         p->operands[1]->value != op.getNumHeadsAttr().getInt()))
      return op.emitOpError("score_fn's alibi_slope must name the op's ")
             << op.getNumHeadsAttr().getInt() << " heads";
    if (p->op != kernels::Predicate::Op::Tensor)
      continue;
    int64_t slot = p->operands.empty() ? -1 : p->operands[0]->value;
    if (slot < 0 || size_t(slot) >= count)
      return op.emitOpError("score_fn reads tensor ")
             << slot << ", but there are " << count << " score_tensors";
    auto type =
        op.getScoreTensors()[slot].getType().dyn_cast<RankedTensorType>();
    if (type && (!type.hasStaticShape() ||
                 type.getRank() + 1 != int64_t(p->operands.size())))
      return op.emitOpError("score tensor ")
             << slot << " must have a static shape of rank "
             << p->operands.size() - 1;
  }
  return success();
}

static LogicalResult verify(AttentionOp op) {
  Operation *o = op.getOperation();
  int64_t heads = op.getNumHeadsAttr().getInt();
  int64_t kvHeads = op.getNumKvHeadsAttr().getInt();
  int64_t headDim = op.getHeadDimAttr().getInt();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0)
    return op.emitOpError("num_heads, num_kv_heads and head_dim must be "
                          "positive, got ")
           << heads << ", " << kvHeads << " and " << headDim;
  if (heads % kvHeads)
    return op.emitOpError("num_kv_heads (")
           << kvHeads << ") must divide num_heads (" << heads << ")";

  // Scoring and score modifiers.
  bool additive = op.getScoring() == Scoring::Additive;
  if (additive && op.getScaleAttr())
    return op.emitOpError("additive scoring takes no scale");
  if (FloatAttr scale = op.getScaleAttr()) {
    double s = scale.getValueAsDouble();
    if (!(s > 0) || !std::isfinite(s))
      return op.emitOpError("scale must be positive, got ") << s;
  }
  if (additive != bool(op.getScoreWeight()))
    return op.emitOpError(additive ? "additive scoring needs a score_weight "
                                     "operand"
                                   : "score_weight is only for additive "
                                     "scoring");
  if (failed(verifyScoreFunction(op)))
    return failure();

  // Operand shapes: [batch, length, heads * dim].
  for (auto [value, name] :
       {std::pair<Value, StringRef>{op.getQuery(), "query"},
        {op.getKey(), "key"},
        {op.getValue(), "value"},
        {op.getOutput(), "result"}})
    if (failed(checkRank(o, value, 3, name)))
      return failure();
  int64_t qChannels = dimOf(op.getQuery(), 2);
  if (qChannels != kUnknown && qChannels != heads * headDim)
    return op.emitOpError("query has ")
           << qChannels << " channels, but num_heads (" << heads
           << ") x head_dim (" << headDim << ") = " << heads * headDim;
  int64_t kChannels = dimOf(op.getKey(), 2);
  if (kChannels != kUnknown && kChannels != kvHeads * headDim)
    return op.emitOpError("key has ")
           << kChannels << " channels, but num_kv_heads (" << kvHeads
           << ") x head_dim (" << headDim << ") = " << kvHeads * headDim
           << "; query and key heads must have the same size";
  int64_t vChannels = dimOf(op.getValue(), 2);
  if (vChannels != kUnknown && vChannels % kvHeads)
    return op.emitOpError("value has ")
           << vChannels << " channels, which num_kv_heads (" << kvHeads
           << ") does not divide";
  int64_t batch = dimOf(op.getQuery(), 0);
  if (failed(checkDim(o, dimOf(op.getKey(), 0), batch,
                      "key batch must equal query batch")) ||
      failed(checkDim(o, dimOf(op.getValue(), 0), batch,
                      "value batch must equal query batch")) ||
      failed(checkDim(o, dimOf(op.getValue(), 1), dimOf(op.getKey(), 1),
                      "key and value lengths must be equal")))
    return failure();
  int64_t vHeadDim = vChannels == kUnknown ? kUnknown : vChannels / kvHeads;
  if (failed(checkDim(o, dimOf(op.getOutput(), 0), batch,
                      "result batch must equal query batch")) ||
      failed(checkDim(o, dimOf(op.getOutput(), 1), dimOf(op.getQuery(), 1),
                      "result length must equal query length")) ||
      failed(checkDim(o, dimOf(op.getOutput(), 2),
                      vHeadDim == kUnknown ? kUnknown : heads * vHeadDim,
                      "result channels must be num_heads x value head size")))
    return failure();

  if (Value lengths = op.getKvLengths()) {
    if (failed(checkRank(o, lengths, 1, "kv_lengths")) ||
        failed(checkDim(o, dimOf(lengths, 0), batch,
                        "kv_lengths must have one entry per batch")))
      return failure();
  }
  if (Value ids = op.getSegmentIds()) {
    if (failed(checkRank(o, ids, 2, "segment_ids")) ||
        failed(checkDim(o, dimOf(ids, 0), batch,
                        "segment_ids must have one row per batch")) ||
        failed(checkDim(o, dimOf(ids, 1), dimOf(op.getKey(), 1),
                        "segment_ids must have one entry per key")))
      return failure();
  }
  if (Value bias = op.getBias()) {
    if (failed(checkRank(o, bias, 4, "bias")))
      return failure();
    auto broadcastable = [&](int64_t d, int64_t full,
                             StringRef name) -> LogicalResult {
      if (d == 1 || compatible(d, full))
        return success();
      return op.emitOpError("bias ")
             << name << " must be 1 or " << dimString(full) << ", got " << d;
    };
    if (failed(broadcastable(dimOf(bias, 0), batch, "batch")) ||
        failed(broadcastable(dimOf(bias, 1), heads, "heads")) ||
        failed(checkDim(o, dimOf(bias, 2), dimOf(op.getQuery(), 1),
                        "bias rows must equal the query length")) ||
        failed(checkDim(o, dimOf(bias, 3), dimOf(op.getKey(), 1),
                        "bias columns must equal the key length")))
      return failure();
  }
  if (Value weight = op.getScoreWeight()) {
    if (failed(checkRank(o, weight, 2, "score_weight")) ||
        failed(checkDim(o, dimOf(weight, 0), heads,
                        "score_weight rows must equal num_heads")) ||
        failed(checkDim(o, dimOf(weight, 1), headDim,
                        "score_weight columns must equal head_dim")))
      return failure();
  }

  // The probabilities output.
  Value probs = op.getProbabilities();
  if ((op.getProbs() != Probs::None) != bool(probs))
    return op.emitOpError("a probabilities result goes with probs = per_head "
                          "or head_mean, and only then");
  if (probs) {
    bool perHead = op.getProbs() == Probs::PerHead;
    if (failed(checkRank(o, probs, perHead ? 4 : 3, "probabilities")))
      return failure();
    int64_t axis = 0;
    if (failed(checkDim(o, dimOf(probs, axis++), batch,
                        "probabilities batch must equal query batch")) ||
        (perHead && failed(checkDim(o, dimOf(probs, axis++), heads,
                                    "probabilities heads must equal "
                                    "num_heads"))) ||
        failed(checkDim(o, dimOf(probs, axis++), dimOf(op.getQuery(), 1),
                        "probabilities rows must equal the query length")) ||
        failed(checkDim(o, dimOf(probs, axis), dimOf(op.getKey(), 1),
                        "probabilities columns must equal the key length")))
      return failure();
  }
  return verifyMaskRegion(op);
}

void attnc::attn::dropDefaultAttributes(Operation *op) {
  if (auto linear = dyn_cast<LinearOp>(op)) {
    if (linear.getActivation() == Activation::None)
      op->removeAttr(linear.getActivationAttrName());
    if (linear.getWeights() == WeightType::F32)
      op->removeAttr(linear.getWeightsAttrName());
    return;
  }
  auto attention = dyn_cast<AttentionOp>(op);
  if (!attention)
    return;
  if (attention.getScoring() == Scoring::Dot)
    op->removeAttr(attention.getScoringAttrName());
  if (attention.getEmptyRows() == EmptyRows::Zero)
    op->removeAttr(attention.getEmptyRowsAttrName());
  if (attention.getProbs() == Probs::None)
    op->removeAttr(attention.getProbsAttrName());
}

#define GET_OP_CLASSES
#include "attnc/Dialect/Attn/AttnOps.cpp.inc"
