//===- MLIRGen.cpp - From checked specs to the attn dialect ---------------===//
//
// Walks the CompileUnit and builds functions with an OpBuilder. Layers are
// unrolled: each instance gets its own attn.param weights, named like
// PyTorch's nn.Transformer state_dict ("encoder.layers.3.linear1.weight").
// Multi-head attention whose shapes match nn.MultiheadAttention reads Q, K
// and V as slices of the packed `in_proj_weight`; other variants
// (grouped-query, additive, head_dim * heads != d_model) use separate
// q_proj / k_proj / v_proj weights. Results of ops are unranked; the default
// pipeline infers shapes and fuses what can be fused.
//
//===----------------------------------------------------------------------===//

#include "attnc/MLIRGen/MLIRGen.h"
#include "PredicateGen.h"
#include "attnc/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>

using namespace mlir;
using namespace attnc;

namespace {

constexpr int64_t kUnknownDim = ShapedType::kDynamicSize;

/// The result of a multi-head attention: its output and, if the variant
/// asks for them, its probabilities.
struct AttentionResult {
  Value output;
  Value probs;
};

class MLIRGenImpl {
public:
  MLIRGenImpl(MLIRContext &context, const CompileUnit &unit,
              const llvm::SourceMgr &sourceMgr)
      : builder(&context), unit(unit), sourceMgr(sourceMgr) {
    element = unit.dtype == attnc::ElementType::BF16 ? builder.getBF16Type()
                                                     : builder.getF32Type();
  }

  OwningOpRef<ModuleOp> generate();

private:
  // Locations and types.
  Location loc(llvm::SMLoc where);
  Type unranked() { return UnrankedTensorType::get(element); }
  RankedTensorType tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, element);
  }
  RankedTensorType indexTensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getI32Type());
  }

  // Layer building blocks.
  Value param(const std::string &name, ArrayRef<int64_t> shape, Location at);
  Value sliceRows(Value weight, int64_t offset, int64_t size, Location at);
  Value linear(Value input, Value weight, Value bias, Location at);
  Value linearParams(Value input, const std::string &prefix, int64_t out,
                     int64_t in, bool bias, Location at);
  Value layerNorm(Value input, const std::string &prefix, int64_t width,
                  double eps, Location at);
  Value add(Value a, Value b, Location at);
  Value feedForward(Value input, const std::string &prefix,
                    const FeedForwardSpec &spec, int64_t dModel, Location at);
  AttentionResult multiHead(const std::string &prefix,
                            const AttentionSpec &spec, int64_t dModel,
                            Value queries, Value keys, Value values,
                            Value kvLengths, Value bias,
                            Value segmentIds = Value());
  AttentionResult core(const std::string &prefix, const AttentionSpec &spec,
                       int64_t headDim, Value q, Value k, Value v,
                       Value kvLengths, Value bias, Value scoreWeight,
                       Value segmentIds = Value());

  // Layers and models.
  Value encoderLayer(const std::string &prefix, const LayerSpec &layer,
                     int64_t dModel, Value x, Value lengths,
                     SmallVectorImpl<Value> &probs);
  Value decoderLayer(const std::string &prefix, const LayerSpec &layer,
                     int64_t dModel, Value x, Value lengths, Value memory,
                     Value memoryLengths, SmallVectorImpl<Value> &probs);
  void emitAttentionFunction(const AttentionSpec &spec);
  void emitModel(const ModelSpec &model);

  /// Starts a function of `kind` ("attention", "encode", "decode"); each
  /// argument has a name (for people) and a role (what the runtime reads:
  /// docs/manifest.md). Returns the function, its entry block started.
  FuncOp beginFunction(const std::string &name, StringRef kind,
                       ArrayRef<Type> inputs, ArrayRef<std::string> argNames,
                       ArrayRef<std::string> argRoles, Location at);
  void endFunction(FuncOp function, ArrayRef<Value> results,
                   ArrayRef<std::string> resultNames,
                   ArrayRef<std::string> resultRoles, Location at);

  OpBuilder builder;
  const CompileUnit &unit;
  const llvm::SourceMgr &sourceMgr;
  ModuleOp module;
  Type element;
  /// How the linear ops built now store their weights (a model's or a
  /// layer's `weights`).
  attn::WeightType weightType = attn::WeightType::F32;
  /// Names of the probabilities results collected while building a model.
  std::vector<std::string> probNames;
};

} // namespace

namespace {

attn::WeightType weightTypeFor(kernels::WeightType type) {
  switch (type) {
  case kernels::WeightType::F32:
    return attn::WeightType::F32;
  case kernels::WeightType::BF16:
    return attn::WeightType::BF16;
  case kernels::WeightType::F16:
    return attn::WeightType::F16;
  case kernels::WeightType::I8:
    return attn::WeightType::I8;
  }
  return attn::WeightType::F32;
}

} // namespace

Location MLIRGenImpl::loc(llvm::SMLoc where) {
  if (!where.isValid())
    return builder.getUnknownLoc();
  unsigned buffer = sourceMgr.FindBufferContainingLoc(where);
  auto lineCol = sourceMgr.getLineAndColumn(where, buffer);
  return FileLineColLoc::get(
      builder.getContext(),
      sourceMgr.getMemoryBuffer(buffer)->getBufferIdentifier(), lineCol.first,
      lineCol.second);
}

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

Value MLIRGenImpl::param(const std::string &name, ArrayRef<int64_t> shape,
                         Location at) {
  // Weights are f32 whatever the activations' type.
  return builder.create<attn::ParamOp>(
      at, RankedTensorType::get(shape, builder.getF32Type()),
      builder.getStringAttr(name));
}

Value MLIRGenImpl::sliceRows(Value weight, int64_t offset, int64_t size,
                             Location at) {
  auto type = weight.getType().cast<RankedTensorType>();
  SmallVector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  shape[0] = size;
  return builder.create<attn::SliceOp>(
      at, RankedTensorType::get(shape, type.getElementType()), weight,
      builder.getI64IntegerAttr(0), builder.getI64IntegerAttr(offset),
      builder.getI64IntegerAttr(size));
}

Value MLIRGenImpl::linear(Value input, Value weight, Value bias, Location at) {
  auto op = builder.create<attn::LinearOp>(
      at, unranked(), input, weight, bias,
      attn::ActivationAttr::get(builder.getContext(), attn::Activation::None),
      attn::WeightTypeAttr::get(builder.getContext(), weightType));
  attn::dropDefaultAttributes(op);
  return op;
}

Value MLIRGenImpl::linearParams(Value input, const std::string &prefix,
                                int64_t out, int64_t in, bool bias,
                                Location at) {
  Value weight = param(prefix + "weight", {out, in}, at);
  Value b = bias ? param(prefix + "bias", {out}, at) : Value();
  return linear(input, weight, b, at);
}

Value MLIRGenImpl::layerNorm(Value input, const std::string &prefix,
                             int64_t width, double eps, Location at) {
  Value gamma = param(prefix + "weight", {width}, at);
  Value beta = param(prefix + "bias", {width}, at);
  return builder.create<attn::LayerNormOp>(at, unranked(), input, Value(),
                                           gamma, beta,
                                           builder.getF64FloatAttr(eps));
}

Value MLIRGenImpl::add(Value a, Value b, Location at) {
  return builder.create<attn::AddOp>(at, unranked(), a, b);
}

Value MLIRGenImpl::feedForward(Value input, const std::string &prefix,
                               const FeedForwardSpec &spec, int64_t dModel,
                               Location at) {
  Value hidden =
      linearParams(input, prefix + "linear1.", spec.dim, dModel, spec.bias, at);
  auto kind = spec.activation == Activation::GELU ? attn::Activation::GELU
                                                  : attn::Activation::ReLU;
  hidden = builder.create<attn::ActivationOp>(
      at, unranked(), hidden,
      attn::ActivationAttr::get(builder.getContext(), kind));
  return linearParams(hidden, prefix + "linear2.", dModel, spec.dim, spec.bias,
                      at);
}

AttentionResult MLIRGenImpl::core(const std::string &prefix,
                                  const AttentionSpec &spec, int64_t headDim,
                                  Value q, Value k, Value v, Value kvLengths,
                                  Value bias, Value scoreWeight,
                                  Value segmentIds) {
  Location at = loc(spec.loc);
  MLIRContext *ctx = builder.getContext();
  bool additive = spec.scoring == Scoring::Additive;
  int64_t scoreDim = additive && spec.additiveDim ? spec.additiveDim : headDim;

  FloatAttr scale;
  if (!additive)
    scale = builder.getF64FloatAttr(
        spec.scale.value_or(1.0 / std::sqrt(double(headDim))));
  attn::Probs probsMode =
      spec.probs == ProbsOutput::PerHead    ? attn::Probs::PerHead
      : spec.probs == ProbsOutput::HeadMean ? attn::Probs::HeadMean
                                            : attn::Probs::None;

  // A score function's tensors are weights named `<prefix><tensor>`.
  SmallVector<Value> scoreTensors;
  SmallVector<StringRef> scoreTensorNames;
  for (const kernels::ScoreTensor &tensor : spec.scoreTensors) {
    scoreTensors.push_back(param(prefix + tensor.name, tensor.shape, at));
    scoreTensorNames.push_back(tensor.name);
  }
  StringAttr scoreFn = spec.scoreFn
                           ? builder.getStringAttr(spec.scoreFn->canonical())
                           : StringAttr();
  ArrayAttr names = scoreTensorNames.empty()
                        ? ArrayAttr()
                        : builder.getStrArrayAttr(scoreTensorNames);

  Type probsType = probsMode == attn::Probs::None ? Type() : unranked();
  auto op = builder.create<attn::AttentionOp>(
      at, unranked(), probsType, q, k, v, kvLengths, segmentIds, bias,
      scoreWeight, scoreTensors, builder.getI64IntegerAttr(spec.heads),
      builder.getI64IntegerAttr(spec.kvHeads),
      builder.getI64IntegerAttr(scoreDim),
      attn::ScoringAttr::get(ctx, additive ? attn::Scoring::Additive
                                           : attn::Scoring::Dot),
      scale,
      attn::EmptyRowsAttr::get(ctx, spec.emptyRows == EmptyRowPolicy::Uniform
                                        ? attn::EmptyRows::Uniform
                                        : attn::EmptyRows::Zero),
      attn::ProbsAttr::get(ctx, probsMode), scoreFn, names);
  attn::dropDefaultAttributes(op);
  if (spec.mask.predicate)
    generatePredicate(builder, op.getMask(), *spec.mask.predicate, at);
  return {op.getOutput(), op.getProbabilities()};
}

AttentionResult
MLIRGenImpl::multiHead(const std::string &prefix, const AttentionSpec &spec,
                       int64_t dModel, Value queries, Value keys, Value values,
                       Value kvLengths, Value bias, Value segmentIds) {
  Location at = loc(spec.loc);
  int64_t headDim = resolvedHeadDim(spec, dModel);
  bool additive = spec.scoring == Scoring::Additive;
  int64_t scoreDim = additive && spec.additiveDim ? spec.additiveDim : headDim;
  int64_t qWidth = spec.heads * scoreDim, kWidth = spec.kvHeads * scoreDim;
  int64_t vWidth = spec.kvHeads * headDim, outWidth = spec.heads * headDim;
  // Keys and values are d_model wide but in a stand-alone cross-attention
  // with kdim or vdim.
  int64_t keyIn = spec.keyInputDim ? spec.keyInputDim : dModel;
  int64_t valueIn = spec.valueInputDim ? spec.valueInputDim : dModel;
  bool packed = !additive && spec.kvHeads == spec.heads && qWidth == dModel &&
                keyIn == dModel && valueIn == dModel;

  Value q, k, v;
  if (packed) {
    // nn.MultiheadAttention: one [3 * d, d] weight and [3 * d] bias.
    Value w = param(prefix + "in_proj_weight", {3 * dModel, dModel}, at);
    Value b = spec.projectionBias
                  ? param(prefix + "in_proj_bias", {3 * dModel}, at)
                  : Value();
    auto project = [&](Value input, int64_t part) {
      Value bias = b ? sliceRows(b, part * dModel, dModel, at) : Value();
      return linear(input, sliceRows(w, part * dModel, dModel, at), bias, at);
    };
    q = project(queries, 0);
    k = project(keys, 1);
    v = project(values, 2);
  } else {
    q = linearParams(queries, prefix + "q_proj.", qWidth, dModel,
                     spec.projectionBias, at);
    k = linearParams(keys, prefix + "k_proj.", kWidth, keyIn,
                     spec.projectionBias, at);
    v = linearParams(values, prefix + "v_proj.", vWidth, valueIn,
                     spec.projectionBias, at);
  }
  Value scoreWeight =
      additive ? param(prefix + "score_weight", {spec.heads, scoreDim}, at)
               : Value();
  AttentionResult result = core(prefix, spec, headDim, q, k, v, kvLengths, bias,
                                scoreWeight, segmentIds);
  result.output = linearParams(result.output, prefix + "out_proj.", dModel,
                               outWidth, spec.projectionBias, at);
  return result;
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

Value MLIRGenImpl::encoderLayer(const std::string &prefix,
                                const LayerSpec &layer, int64_t dModel, Value x,
                                Value lengths, SmallVectorImpl<Value> &probs) {
  Location at = loc(layer.loc);
  const AttentionSpec &self = *layer.selfAttention;
  Value selfLengths = self.mask.keyPadding ? lengths : Value();
  auto attend = [&](Value input) {
    AttentionResult r = multiHead(prefix + "self_attn.", self, dModel, input,
                                  input, input, selfLengths, Value());
    if (r.probs) {
      probs.push_back(r.probs);
      probNames.push_back(prefix + "self_attn.probs");
    }
    return r.output;
  };
  double eps = layer.normEps;
  if (layer.norm == NormPlacement::Pre) {
    x = add(x, attend(layerNorm(x, prefix + "norm1.", dModel, eps, at)), at);
    return add(x,
               feedForward(layerNorm(x, prefix + "norm2.", dModel, eps, at),
                           prefix, layer.feedForward, dModel, at),
               at);
  }
  x = layerNorm(add(x, attend(x), at), prefix + "norm1.", dModel, eps, at);
  return layerNorm(
      add(x, feedForward(x, prefix, layer.feedForward, dModel, at), at),
      prefix + "norm2.", dModel, eps, at);
}

Value MLIRGenImpl::decoderLayer(const std::string &prefix,
                                const LayerSpec &layer, int64_t dModel, Value x,
                                Value lengths, Value memory,
                                Value memoryLengths,
                                SmallVectorImpl<Value> &probs) {
  Location at = loc(layer.loc);
  double eps = layer.normEps;
  auto collect = [&](AttentionResult r, const std::string &name) {
    if (r.probs) {
      probs.push_back(r.probs);
      probNames.push_back(name);
    }
    return r.output;
  };
  const AttentionSpec &self = *layer.selfAttention;
  auto selfAttend = [&](Value input) {
    return collect(multiHead(prefix + "self_attn.", self, dModel, input, input,
                             input, self.mask.keyPadding ? lengths : Value(),
                             Value()),
                   prefix + "self_attn.probs");
  };
  auto crossAttend = [&](Value input) {
    const AttentionSpec &cross = *layer.crossAttention;
    return collect(multiHead(prefix + "multihead_attn.", cross, dModel, input,
                             memory, memory,
                             cross.mask.keyPadding ? memoryLengths : Value(),
                             Value()),
                   prefix + "multihead_attn.probs");
  };
  auto ffn = [&](Value input) {
    return feedForward(input, prefix, layer.feedForward, dModel, at);
  };
  // norm1 guards self-attention; norm2 cross-attention (if any); the last
  // norm the feed-forward block, as in nn.TransformerDecoderLayer.
  std::string ffnNorm = layer.crossAttention ? "norm3." : "norm2.";
  if (layer.norm == NormPlacement::Pre) {
    x = add(x, selfAttend(layerNorm(x, prefix + "norm1.", dModel, eps, at)),
            at);
    if (layer.crossAttention)
      x = add(x, crossAttend(layerNorm(x, prefix + "norm2.", dModel, eps, at)),
              at);
    return add(x, ffn(layerNorm(x, prefix + ffnNorm, dModel, eps, at)), at);
  }
  x = layerNorm(add(x, selfAttend(x), at), prefix + "norm1.", dModel, eps, at);
  if (layer.crossAttention)
    x = layerNorm(add(x, crossAttend(x), at), prefix + "norm2.", dModel, eps,
                  at);
  return layerNorm(add(x, ffn(x), at), prefix + ffnNorm, dModel, eps, at);
}

//===----------------------------------------------------------------------===//
// Functions
//===----------------------------------------------------------------------===//

/// The strings as an array attribute.
static ArrayAttr stringArray(OpBuilder &builder,
                             ArrayRef<std::string> strings) {
  SmallVector<Attribute> attrs;
  for (const std::string &text : strings)
    attrs.push_back(builder.getStringAttr(text));
  return builder.getArrayAttr(attrs);
}

FuncOp MLIRGenImpl::beginFunction(const std::string &name, StringRef kind,
                                  ArrayRef<Type> inputs,
                                  ArrayRef<std::string> argNames,
                                  ArrayRef<std::string> argRoles, Location at) {
  assert(argNames.size() == inputs.size() && argRoles.size() == inputs.size());
  builder.setInsertionPointToEnd(module.getBody());
  auto function =
      builder.create<FuncOp>(at, name, builder.getFunctionType(inputs, {}));
  function->setAttr("attn.function_kind", builder.getStringAttr(kind));
  function->setAttr("attn.arg_names", stringArray(builder, argNames));
  function->setAttr("attn.arg_roles", stringArray(builder, argRoles));
  builder.setInsertionPointToStart(function.addEntryBlock());
  return function;
}

void MLIRGenImpl::endFunction(FuncOp function, ArrayRef<Value> results,
                              ArrayRef<std::string> resultNames,
                              ArrayRef<std::string> resultRoles, Location at) {
  assert(resultNames.size() == results.size() &&
         resultRoles.size() == results.size());
  builder.create<ReturnOp>(at, results);
  SmallVector<Type> types;
  for (Value v : results)
    types.push_back(v.getType());
  function.setType(
      builder.getFunctionType(function.getType().getInputs(), types));
  function->setAttr("attn.result_names", stringArray(builder, resultNames));
  function->setAttr("attn.result_roles", stringArray(builder, resultRoles));
}

void MLIRGenImpl::emitAttentionFunction(const AttentionSpec &spec) {
  Location at = loc(spec.loc);
  bool withProjections = spec.dModel != 0;
  int64_t headDim =
      withProjections ? resolvedHeadDim(spec, spec.dModel) : spec.headDim;
  bool additive = spec.scoring == Scoring::Additive;
  int64_t scoreDim = additive && spec.additiveDim ? spec.additiveDim : headDim;
  bool cross = spec.source == AttentionSource::Cross;

  SmallVector<Type> inputs;
  std::vector<std::string> names;
  if (withProjections) {
    inputs.push_back(tensor({kUnknownDim, kUnknownDim, spec.dModel}));
    names.push_back("x");
    if (cross && spec.separateKeyValue()) {
      // nn.MultiheadAttention's kdim != vdim: keys and values differ.
      inputs.push_back(tensor({kUnknownDim, kUnknownDim, spec.keyWidth()}));
      inputs.push_back(tensor({kUnknownDim, kUnknownDim, spec.valueWidth()}));
      names.insert(names.end(), {"key", "value"});
    } else if (cross) {
      inputs.push_back(tensor({kUnknownDim, kUnknownDim, spec.keyWidth()}));
      names.push_back("memory");
    }
  } else {
    inputs.push_back(tensor({kUnknownDim, kUnknownDim, spec.heads * scoreDim}));
    inputs.push_back(
        tensor({kUnknownDim, kUnknownDim, spec.kvHeads * scoreDim}));
    inputs.push_back(
        tensor({kUnknownDim, kUnknownDim, spec.kvHeads * headDim}));
    names.insert(names.end(), {"query", "key", "value"});
  }
  if (spec.mask.keyPadding) {
    inputs.push_back(indexTensor({kUnknownDim}));
    names.push_back("kv_lengths");
  }
  if (spec.mask.segments) {
    inputs.push_back(indexTensor({kUnknownDim, kUnknownDim}));
    names.push_back("segment_ids");
  }
  if (spec.readsBias()) {
    inputs.push_back(
        tensor({kUnknownDim, kUnknownDim, kUnknownDim, kUnknownDim}));
    names.push_back("bias");
  }

  // Every argument's name is its role, but for the input sequence.
  std::vector<std::string> roles = names;
  if (withProjections)
    roles[0] = "input";
  FuncOp function =
      beginFunction(spec.name, "attention", inputs, names, roles, at);
  Block &entry = function.front();
  unsigned next = 0;
  AttentionResult result;
  if (withProjections) {
    Value x = entry.getArgument(next++);
    Value keys = cross ? entry.getArgument(next++) : x;
    Value values =
        cross && spec.separateKeyValue() ? entry.getArgument(next++) : keys;
    Value lengths = spec.mask.keyPadding ? entry.getArgument(next++) : Value();
    Value ids = spec.mask.segments ? entry.getArgument(next++) : Value();
    Value bias = spec.readsBias() ? entry.getArgument(next++) : Value();
    result = multiHead(spec.name + ".", spec, spec.dModel, x, keys, values,
                       lengths, bias, ids);
  } else {
    Value q = entry.getArgument(0), k = entry.getArgument(1),
          v = entry.getArgument(2);
    next = 3;
    Value lengths = spec.mask.keyPadding ? entry.getArgument(next++) : Value();
    Value ids = spec.mask.segments ? entry.getArgument(next++) : Value();
    Value bias = spec.readsBias() ? entry.getArgument(next++) : Value();
    Value scoreWeight = additive ? param(spec.name + ".score_weight",
                                         {spec.heads, scoreDim}, at)
                                 : Value();
    result = core(spec.name + ".", spec, headDim, q, k, v, lengths, bias,
                  scoreWeight, ids);
  }
  SmallVector<Value> results{result.output};
  std::vector<std::string> resultNames{"output"}, resultRoles{"output"};
  if (result.probs) {
    results.push_back(result.probs);
    resultNames.push_back("probs");
    resultRoles.push_back("attention_probs");
  }
  endFunction(function, results, resultNames, resultRoles, at);
}

void MLIRGenImpl::emitModel(const ModelSpec &model) {
  Location at = loc(model.loc);
  int64_t d = model.dModel;
  auto tokens = indexTensor({kUnknownDim, kUnknownDim});
  auto lengths = indexTensor({kUnknownDim});
  auto positions =
      model.positions == Positions::Sinusoidal ? attn::Positions::Sinusoidal
      : model.positions == Positions::Learned  ? attn::Positions::Learned
                                               : attn::Positions::None;
  // `side` is "src" or "tgt": weights <side>_embed.weight and, for learned
  // positions, <side>_pos_embed.weight ([max_len, d_model]).
  auto embed = [&](Value ids, const std::string &side, int64_t vocab) {
    Value table = param(side + "_embed.weight", {vocab, d}, at);
    Value positionTable =
        positions == attn::Positions::Learned
            ? param(side + "_pos_embed.weight", {model.maxLen, d}, at)
            : Value();
    return builder.create<attn::EmbeddingOp>(
        at, unranked(), ids, table, positionTable,
        builder.getF64FloatAttr(model.embedScale),
        attn::PositionsAttr::get(builder.getContext(), positions));
  };

  if (model.encoder) {
    const LayerSpec &layer = *model.encoder->layer;
    std::vector<std::string> args{"src_tokens", "src_lengths"};
    FuncOp function = beginFunction(model.name + "_encode", "encode",
                                    {tokens, lengths}, args, args, at);
    function->setAttr("attn.model", builder.getStringAttr(model.name));
    function->setAttr("attn.max_len", builder.getI64IntegerAttr(model.maxLen));
    probNames.clear();
    SmallVector<Value> probs;
    Value x = embed(function.getArgument(0), "src", model.srcVocab);
    weightType = weightTypeFor(layer.weights.value_or(model.weights));
    for (int64_t i = 0; i < model.encoder->count; ++i)
      x = encoderLayer("encoder.layers." + std::to_string(i) + ".", layer, d, x,
                       function.getArgument(1), probs);
    if (model.finalNorm)
      x = layerNorm(x, "encoder.norm.", d, layer.normEps, at);
    SmallVector<Value> results{x};
    results.append(probs.begin(), probs.end());
    std::vector<std::string> names{"memory"};
    names.insert(names.end(), probNames.begin(), probNames.end());
    std::vector<std::string> roles(names.size(), "attention_probs");
    roles[0] = "memory";
    endFunction(function, results, names, roles, at);
  }

  if (model.decoder) {
    const LayerSpec &layer = *model.decoder->layer;
    SmallVector<Type> inputs{tokens, lengths};
    std::vector<std::string> names{"tgt_tokens", "tgt_lengths"};
    if (model.encoder) {
      inputs.push_back(tensor({kUnknownDim, kUnknownDim, d}));
      inputs.push_back(lengths);
      names.insert(names.end(), {"memory", "src_lengths"});
    }
    FuncOp function = beginFunction(model.name + "_decode", "decode", inputs,
                                    names, names, at);
    function->setAttr("attn.model", builder.getStringAttr(model.name));
    function->setAttr("attn.max_len", builder.getI64IntegerAttr(model.maxLen));
    probNames.clear();
    SmallVector<Value> probs;
    Value memory = model.encoder ? function.getArgument(2) : Value();
    Value memoryLengths = model.encoder ? function.getArgument(3) : Value();
    Value y = embed(function.getArgument(0), "tgt", model.tgtVocab);
    weightType = weightTypeFor(layer.weights.value_or(model.weights));
    for (int64_t i = 0; i < model.decoder->count; ++i)
      y = decoderLayer("decoder.layers." + std::to_string(i) + ".", layer, d, y,
                       function.getArgument(1), memory, memoryLengths, probs);
    if (model.finalNorm)
      y = layerNorm(y, "decoder.norm.", d, layer.normEps, at);
    weightType = weightTypeFor(model.weights);
    Value logits =
        linearParams(y, "generator.", model.tgtVocab, d, model.outputBias, at);
    std::vector<std::string> resultNames{"logits"};
    if (model.output == ModelOutput::Probs) {
      logits = builder.create<attn::SoftmaxOp>(at, unranked(), logits);
      resultNames[0] = "probs";
    }
    SmallVector<Value> results{logits};
    results.append(probs.begin(), probs.end());
    resultNames.insert(resultNames.end(), probNames.begin(), probNames.end());
    std::vector<std::string> resultRoles(resultNames.size(), "attention_probs");
    resultRoles[0] =
        model.output == ModelOutput::Probs ? "token_probs" : "logits";
    endFunction(function, results, resultNames, resultRoles, at);
  }
  weightType = attn::WeightType::F32;
}

OwningOpRef<ModuleOp> MLIRGenImpl::generate() {
  module = ModuleOp::create(builder.getUnknownLoc(), StringRef(unit.name));
  SmallVector<Attribute> targets;
  for (const TargetSpec &target : unit.targets)
    targets.push_back(builder.getStringAttr(target.halideTarget));
  module->setAttr("attn.targets", builder.getArrayAttr(targets));
  module->setAttr("attn.dtype", TypeAttr::get(element));

  for (const auto &attention : unit.attentions)
    if (attention->dModel || attention->headDim)
      emitAttentionFunction(*attention);
  for (const auto &model : unit.models)
    emitModel(*model);

  if (failed(verify(module))) {
    module->erase();
    return nullptr;
  }
  return module;
}

OwningOpRef<ModuleOp> attnc::mlirGen(MLIRContext &context,
                                     const CompileUnit &unit,
                                     const llvm::SourceMgr &sourceMgr) {
  context.getOrLoadDialect<attn::AttnDialect>();
  context.getOrLoadDialect<arith::ArithmeticDialect>();
  context.getOrLoadDialect<StandardOpsDialect>();
  return MLIRGenImpl(context, unit, sourceMgr).generate();
}
