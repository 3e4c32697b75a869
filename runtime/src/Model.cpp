//===- Model.cpp - Prepare once, run many times ---------------------------===//
//
// Load: every value that depends only on weights (params, and the slices
// and concatenations that fusion put on them) is computed once and kept.
// Run: the remaining steps execute in order; a value's buffer returns to
// the pool after its last use (Prepared.h). Decode: encode the source
// (in groups of similar length where padding stays hidden), then run the
// decode function one token at a time (DecodeSession.h) and pick each
// sequence's next token greedily.
//
//===----------------------------------------------------------------------===//

#include "DecodeSession.h"
#include "Executor.h"
#include "LengthGroups.h"
#include "Prepared.h"
#include "ThreadPool.h"
#include "attnc/Runtime.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <tuple>
#include <variant>

using namespace attnc;
using namespace attnc::runtime;
namespace k = attnc::kernels;

namespace {

/// "[?, ?, 512]" for a declared shape with dynamic dimensions.
std::string shapePattern(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + (shape[i] < 0 ? "?" : std::to_string(shape[i]));
  return text + "]";
}

std::string describeInputs(const Function &function) {
  std::string names;
  for (const auto &[name, value] : function.inputs)
    names += (names.empty() ? "" : ", ") + name;
  return names;
}

/// The vocabulary of the embedding that reads a decode function's target
/// tokens; 0 if there is none.
int64_t decodeVocabulary(const Program &program, const Function &decode) {
  std::string tokens = decode.inputWithRole("tgt_tokens");
  for (const Step &step : decode.steps) {
    if (step.op != "embedding")
      continue;
    for (const auto &[name, value] : decode.inputs)
      if (name == tokens && value == step.operands.at(0))
        return std::get<k::EmbeddingSpec>(
                   program.kernels.at(step.kernel).spec.family)
            .vocab;
  }
  return 0;
}

} // namespace

struct Model::Impl {
  Program program;
  BufferPool pool;        ///< Activations, reused across steps and calls.
  BufferPool weightsPool; ///< Weights, held for the model's lifetime.
  size_t weightBytes = 0; ///< What keepInOneBlock kept.
  std::map<std::string, Prepared> prepared;

  const Function &function(const std::string &name) const {
    auto it = program.functions.find(name);
    if (it == program.functions.end()) {
      std::string names;
      for (const auto &entry : program.functions)
        names += (names.empty() ? "" : ", ") + entry.first;
      throw Error("model '" + program.unit + "' has no function '" + name +
                  "'; it has " + names);
    }
    return it->second;
  }

  std::map<std::string, Storage> bindWeights(const Weights &weights);
  void prepare(const Weights &weights);
  void keepInOneBlock(
      const std::map<std::string, std::vector<Storage>> &linearWeights,
      BufferPool &scratch);
  void checkInputs(const Function &function,
                   const std::map<std::string, Tensor> &inputs) const;
  /// Whether `value` is the bias operand of an attention step (its role in
  /// the kernel's signature).
  bool isAttentionBias(const Function &function, int value) const;
  /// Runs a function; its outputs stay where the kernels left them: in
  /// the caller's memory for the outputs named in `into` that a kernel
  /// computes directly (not slices or concatenations), pooled otherwise.
  std::map<std::string, Storage>
  execute(const std::string &name, const std::map<std::string, Tensor> &inputs,
          const std::map<std::string, ResultMemory> &into = {});
  std::map<std::string, Tensor>
  run(const std::string &name, const std::map<std::string, Tensor> &inputs);
  /// Whether padding positions never reach a valid position's result in
  /// `function`: every step works position by position, and every
  /// attention hides padded keys (key_padding) and reads no bias or
  /// segment ids.
  bool paddingStaysHidden(const Function &function) const;
  /// The encoder's memory output `memoryOut` for `tokens` [batch, src_len]
  /// and `lengths` [batch], computed in groups of similar length
  /// (LengthGroups.h) where that computes fewer positions; the positions
  /// past a sequence's length are zeros then. One call of the whole batch
  /// otherwise, and on GPU targets.
  Storage encodeInGroups(const Function &encode, const Function &decode,
                         const std::string &tokensIn,
                         const std::string &lengthsIn,
                         const std::string &memoryOut, const Tensor &tokens,
                         const Tensor &lengths);
};

//===----------------------------------------------------------------------===//
// Load
//===----------------------------------------------------------------------===//

/// Checks every weight the program's functions need; returns views of
/// them (borrowed: valid while `weights` is, that is, during prepare).
std::map<std::string, Storage>
Model::Impl::bindWeights(const Weights &weights) {
  std::map<std::string, Storage> params;
  std::set<std::string> seen;
  for (const auto &[name, function] : program.functions)
    for (const Step &step : function.steps) {
      if (step.op != "param" || !seen.insert(step.paramName).second)
        continue;
      const ValueInfo &info = function.values[step.results[0]];
      if (!weights.contains(step.paramName))
        throw Error("weights file '" + weights.path() + "' has no tensor '" +
                    step.paramName + "', which model '" + program.unit +
                    "' needs as f32 " + shapeString(info.shape));
      const Tensor &tensor = weights.get(step.paramName);
      if (tensor.dtype() != DType::F32 || tensor.shape() != info.shape) {
        StoredType stored = weights.storedType(step.paramName);
        std::string is = stored == StoredType::F32 || stored == StoredType::I32
                             ? tensor.describe()
                             : std::string(storedTypeName(stored)) + " " +
                                   shapeString(tensor.shape());
        throw Error("tensor '" + step.paramName + "' in weights file '" +
                    weights.path() + "' is " + is + ", but model '" +
                    program.unit + "' needs f32 " + shapeString(info.shape));
      }
      params.emplace(step.paramName, Storage::borrow(tensor));
    }
  return params;
}

namespace {

/// The weight type a BF16, F16 or I8 tensor stands for; nothing for F32
/// and I32.
std::optional<k::WeightType> reducedType(StoredType stored) {
  switch (stored) {
  case StoredType::BF16:
    return k::WeightType::BF16;
  case StoredType::F16:
    return k::WeightType::F16;
  case StoredType::I8:
    return k::WeightType::I8;
  case StoredType::F32:
  case StoredType::I32:
    break;
  }
  return std::nullopt;
}

/// Refuses a reduced-precision tensor (BF16, F16, I8) that a run-time step
/// of `function` reads as another reduced type: it feeds weights stored as
/// f32 (widened) or as its own type only (StoredType). `origins` holds the
/// params each load-time value was computed from.
void checkStoredTypes(const Program &program, const Function &function,
                      const std::vector<Storage> &statics,
                      const std::vector<std::set<std::string>> &origins,
                      const Weights &weights) {
  for (const Step &step : function.steps) {
    if (step.op == "param" || statics[step.results[0]].defined())
      continue; // Ran at load.
    for (size_t i = 0; i < step.operands.size(); ++i) {
      int operand = step.operands[i];
      if (!statics[operand].defined())
        continue;
      k::WeightType readAs = k::WeightType::F32;
      if (step.op == "linear" && i == 1)
        readAs =
            std::get<k::LinearSpec>(program.kernels.at(step.kernel).spec.family)
                .weights;
      for (const std::string &param : origins[operand]) {
        StoredType stored = weights.storedType(param);
        std::optional<k::WeightType> reduced = reducedType(stored);
        if (!reduced || readAs == k::WeightType::F32 || readAs == *reduced)
          continue;
        std::string type = storedTypeName(stored);
        throw Error("tensor '" + param + "' in weights file '" +
                    weights.path() + "' is stored as " + type +
                    ", but model '" +
                    (function.model.empty() ? program.unit : function.model) +
                    "' stores it as " + k::weightTypeName(readAs) + " (" +
                    step.describe() + "): a " + type +
                    " tensor feeds f32 and " + k::weightTypeName(*reduced) +
                    " weights only; write it as F32 for this model");
      }
    }
  }
}

} // namespace

/// Binds the weights, evaluates the steps that depend only on them, then
/// keeps just what runs read, linear weights packed (keepInOneBlock).
void Model::Impl::prepare(const Weights &weights) {
  BufferPool loading; // Freed on return: intermediate values.
  // Shared between functions.
  std::map<std::string, Storage> params = bindWeights(weights);
  // Per function and value: the raw weight of a linear step.
  std::map<std::string, std::vector<Storage>> linearWeights;
  for (const auto &[name, function] : program.functions) {
    Prepared p;
    p.function = &function;
    p.statics.resize(function.values.size());
    std::vector<Storage> &linear = linearWeights[name];
    linear.resize(function.values.size());
    std::vector<std::set<std::string>> origins(function.values.size());
    p.lastUse.assign(function.values.size(), -1);
    for (size_t i = 0; i < function.steps.size(); ++i)
      for (int operand : function.steps[i].operands)
        p.lastUse[operand] = int(i);
    for (const auto &output : function.outputs)
      p.lastUse[output.second] = INT_MAX;

    for (const Step &step : function.steps) {
      if (step.op == "param") {
        p.statics[step.results[0]] = params.at(step.paramName);
        origins[step.results[0]] = {step.paramName};
        continue;
      }
      bool allStatic = !step.operands.empty();
      for (int operand : step.operands)
        allStatic = allStatic && p.statics[operand].defined();
      if (!allStatic)
        continue;
      std::vector<Storage> operands;
      for (int operand : step.operands)
        operands.push_back(p.statics[operand]);
      std::vector<Storage> results =
          executeStep(program, step, operands, CallContext(), loading);
      for (size_t r = 0; r < results.size(); ++r) {
        p.statics[step.results[r]] =
            results[r].dense() ? results[r] : results[r].copy(loading);
        for (int operand : step.operands)
          origins[step.results[r]].insert(origins[operand].begin(),
                                          origins[operand].end());
      }
    }
    checkStoredTypes(program, function, p.statics, origins, weights);
    for (const Step &step : function.steps)
      if (step.op == "linear")
        linear[step.operands.at(1)] = p.statics[step.operands.at(1)];
    prepared.emplace(name, std::move(p));
  }
  keepInOneBlock(linearWeights, loading);
}

/// Moves every value a run reads from load into one block of the weights
/// pool, each once and at a 64-byte boundary (or the device's view
/// alignment), uploaded to the device on a GPU target: static operands of steps
/// that run as they are, linear weights (`linearWeights`) packed on the way in
/// as their kernels store them (f32, bf16, f16 or int8 and its scales).
/// One allocation (huge pages where the OS gives them, see
/// LargeAllocator.h) instead of one per tensor, no raw copy of a weight
/// that only linear layers read, and nothing borrowed from the Weights.
void Model::Impl::keepInOneBlock(
    const std::map<std::string, std::vector<Storage>> &linearWeights,
    BufferPool &scratch) {
  // A value is kept once however many steps and functions use it, and once
  // more per weight type that linear kernels store it in (-1: as it is).
  using Key =
      std::tuple<void *, std::vector<int64_t>, std::vector<int64_t>, int>;
  struct Kept {
    Storage source;
    std::optional<k::LinearSpec> pack;
    size_t offset;
  };
  std::map<Key, Kept> kept;
  std::vector<std::pair<Storage *, Key>> uses;
  std::vector<std::pair<PackedLinear *, Key>> packedUses;
  size_t total = 0;
  // In elements: 64 bytes, or what a device wants of a view's offset.
  const size_t alignment =
      std::max<size_t>(16, program.device.viewAlignment / 4);
  auto keep = [&](const Storage &source,
                  const std::optional<k::LinearSpec> &pack) {
    Key key{source.address(), source.shape, source.strides,
            pack ? int(pack->weights) : -1};
    auto [it, added] = kept.emplace(key, Kept{source, pack, total});
    if (!added)
      return key;
    if (pack) {
      total += packedLinearSize(*pack, alignment);
    } else {
      size_t numel = size_t(source.numel());
      total += (numel + alignment - 1) / alignment * alignment;
    }
    return key;
  };
  for (auto &[name, p] : prepared) {
    const Function &f = *p.function;
    const std::vector<Storage> &linear = linearWeights.at(name);
    std::vector<bool> readByRuns(f.values.size(), false);
    // The spec of the linear kernel that reads each packed weight.
    std::vector<const k::LinearSpec *> packedFor(f.values.size(), nullptr);
    for (const Step &step : f.steps) {
      if (p.statics[step.results[0]].defined())
        continue; // Ran at load.
      for (size_t i = 0; i < step.operands.size(); ++i) {
        int operand = step.operands[i];
        if (step.op == "linear" && i == 1 && linear[operand].defined()) {
          const auto &spec = std::get<k::LinearSpec>(
              program.kernels.at(step.kernel).spec.family);
          if (packedFor[operand] && packedFor[operand]->weights != spec.weights)
            throw Error(step.describe() +
                        ": its weight is also read by a linear layer that "
                        "stores it as another type");
          packedFor[operand] = &spec;
        } else {
          readByRuns[operand] = true;
        }
      }
    }
    for (const auto &output : f.outputs)
      readByRuns[output.second] = true;
    p.atLoad.assign(f.values.size(), false);
    p.packedWeights.assign(f.values.size(), PackedLinear());
    for (size_t v = 0; v < f.values.size(); ++v) {
      p.atLoad[v] = p.statics[v].defined();
      if (packedFor[v])
        packedUses.emplace_back(&p.packedWeights[v],
                                keep(linear[v], *packedFor[v]));
      if (p.statics[v].defined() && readByRuns[v])
        uses.emplace_back(&p.statics[v], keep(p.statics[v], std::nullopt));
      else
        p.statics[v] = Storage();
    }
  }
  std::shared_ptr<Block> block =
      weightsPool.acquire(std::max<size_t>(total, 1));
  weightBytes = total * 4;
  std::map<Key, PackedLinear> moved;
  for (const auto &[key, entry] : kept) {
    if (entry.pack) {
      moved.emplace(key, packLinearWeightAt(*entry.pack, entry.source, block,
                                            entry.offset, alignment, scratch));
      continue;
    }
    Storage target = Storage::inBlock(block, entry.offset, entry.source.dtype,
                                      entry.source.shape);
    target.assign(entry.source);
    moved.emplace(key, PackedLinear{target, Storage()});
  }
  for (const auto &[use, key] : uses)
    *use = moved.at(key).weight;
  for (const auto &[use, key] : packedUses)
    *use = moved.at(key);
  // On a GPU target the weights go up once, here.
  if (program.device.interface)
    device::makeDeviceCurrent(*block, program.device.interface);
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

bool Model::Impl::isAttentionBias(const Function &function, int value) const {
  for (const Step &step : function.steps) {
    if (step.op != "attention")
      continue;
    const std::vector<k::ArgumentSig> &signature =
        program.kernels.at(step.kernel).signature;
    for (size_t i = 0; i < step.operands.size() && i < signature.size(); ++i)
      if (signature[i].name == "bias" && step.operands[i] == value)
        return true;
  }
  return false;
}

void Model::Impl::checkInputs(
    const Function &function,
    const std::map<std::string, Tensor> &inputs) const {
  for (const auto &entry : inputs) {
    bool known = false;
    for (const auto &[name, value] : function.inputs)
      known |= name == entry.first;
    if (!known)
      throw Error("function " + function.name + " has no input '" +
                  entry.first + "'; its inputs are " +
                  describeInputs(function));
  }
  int64_t batch = -1;
  std::string batchFrom;
  std::map<std::string, const Tensor *> byName;
  for (const auto &[name, value] : function.inputs) {
    auto it = inputs.find(name);
    const ValueInfo &info = function.values[value];
    std::string expected =
        std::string(dtypeName(info.dtype)) + " " + shapePattern(info.shape);
    if (it == inputs.end())
      throw Error("function " + function.name + " needs input '" + name +
                  "' (" + expected + ")");
    const Tensor &tensor = it->second;
    // An attention bias may have batch and heads 1: they broadcast.
    const size_t broadcastDims = isAttentionBias(function, value) ? 2 : 0;
    bool ok = tensor.dtype() == info.dtype &&
              tensor.shape().size() == info.shape.size();
    for (size_t d = 0; ok && d < info.shape.size(); ++d)
      ok = info.shape[d] < 0 || info.shape[d] == tensor.shape()[d] ||
           (d < broadcastDims && tensor.shape()[d] == 1);
    if (!ok)
      throw Error("input '" + name + "' of " + function.name + " is " +
                  tensor.describe() + ", expected " + expected +
                  " (? is any size" +
                  (broadcastDims ? "; batch and heads may be 1" : "") + ")");
    if (broadcastDims && tensor.shape()[0] == 1) {
      // Broadcasts over the batch: no batch to agree with.
    } else if (batch < 0) {
      batch = tensor.shape()[0];
      batchFrom = name;
    } else if (tensor.shape()[0] != batch) {
      throw Error("input '" + name + "' of " + function.name + " is " +
                  tensor.describe() + ", but '" + batchFrom + "' has batch " +
                  std::to_string(batch));
    }
    if (function.maxLen && tensor.shape().size() >= 2 &&
        tensor.shape()[1] > function.maxLen)
      throw Error("input '" + name + "' of " + function.name + " holds " +
                  std::to_string(tensor.shape()[1]) +
                  " positions, more than the model's max_len of " +
                  std::to_string(function.maxLen));
    byName[name] = &tensor;
  }
  // Token ids must index their embedding table.
  for (const Step &step : function.steps) {
    if (step.op != "embedding")
      continue;
    int64_t vocab =
        std::get<k::EmbeddingSpec>(program.kernels.at(step.kernel).spec.family)
            .vocab;
    for (const auto &[name, value] : function.inputs) {
      if (value != step.operands[0])
        continue;
      const Tensor &tokens = *byName.at(name);
      const int32_t *ids = tokens.i32Data();
      for (int64_t i = 0; i < tokens.numel(); ++i)
        if (ids[i] < 0 || ids[i] >= vocab)
          throw Error(
              "input '" + name + "' holds token id " + std::to_string(ids[i]) +
              " at [" + std::to_string(i / tokens.shape()[1]) + ", " +
              std::to_string(i % tokens.shape()[1]) +
              "], outside the vocabulary [0, " + std::to_string(vocab) + ")");
    }
  }
  // Lengths must fit the sequences they describe; the manifest's roles say
  // which input is which (docs/manifest.md).
  static const std::pair<const char *, std::vector<const char *>> kLengthsOf[] =
      {{"src_lengths", {"src_tokens", "memory"}},
       {"tgt_lengths", {"tgt_tokens"}},
       {"kv_lengths", {"key", "memory", "input"}}};
  for (const auto &[lengthsRole, sequenceRoles] : kLengthsOf) {
    std::string name = function.inputWithRole(lengthsRole);
    if (name.empty())
      continue;
    const Tensor *tensor = byName.at(name);
    const Tensor *sequence = nullptr;
    for (const char *role : sequenceRoles)
      if (!sequence && !function.inputWithRole(role).empty())
        sequence = byName.at(function.inputWithRole(role));
    if (!sequence)
      continue;
    int64_t length = sequence->shape()[1];
    const int32_t *lengths = tensor->i32Data();
    for (int64_t b = 0; b < tensor->numel(); ++b)
      if (lengths[b] < 0 || lengths[b] > length)
        throw Error("input '" + name + "' gives sequence " + std::to_string(b) +
                    " length " + std::to_string(lengths[b]) + ", outside [0, " +
                    std::to_string(length) + "] for " + sequence->describe());
  }
  // Attention needs a key: the kernels read key 0 (a sequence without
  // any is spelled with lengths of 0, which the empty-row policy covers).
  for (const char *role : {"key", "memory"}) {
    std::string name = function.inputWithRole(role);
    if (name.empty())
      continue;
    const Tensor &keys = *byName.at(name);
    if (keys.shape().size() >= 2 && keys.shape()[1] == 0)
      throw Error("input '" + name + "' of " + function.name +
                  " holds no positions (" + keys.describe() +
                  "); attention needs at least one key (give sequences "
                  "without keys a length of 0 instead)");
  }
  // Keys and values pair up position by position.
  std::string keyName = function.inputWithRole("key"),
              valueName = function.inputWithRole("value");
  if (!keyName.empty() && !valueName.empty()) {
    const Tensor &key = *byName.at(keyName), &value = *byName.at(valueName);
    if (key.shape().size() >= 2 && value.shape().size() >= 2 &&
        key.shape()[1] != value.shape()[1])
      throw Error("input '" + valueName + "' holds " +
                  std::to_string(value.shape()[1]) + " positions (" +
                  value.describe() + "), but '" + keyName + "' holds " +
                  std::to_string(key.shape()[1]) + " (" + key.describe() +
                  "); keys and values pair up");
  }
}

//===----------------------------------------------------------------------===//
// Whole sequences
//===----------------------------------------------------------------------===//

std::map<std::string, Storage>
Model::Impl::execute(const std::string &name,
                     const std::map<std::string, Tensor> &inputs,
                     const std::map<std::string, ResultMemory> &into) {
  const Function &f = function(name);
  checkInputs(f, inputs);
  const Prepared &p = prepared.at(name);
  std::vector<Storage> values = p.statics;
  // On the host the caller's tensors are borrowed for this call (kernels
  // only read their inputs; outputs are copied out before it returns). An
  // empty tensor may have no address, which a kernel would take for a
  // bounds query; on a GPU pooled blocks keep their device memory. A
  // function with bf16 activations takes f32 tensors rounded to bf16.
  for (const auto &[input, value] : f.inputs) {
    const Tensor &tensor = inputs.at(input);
    bool bf16 = f.values[size_t(value)].bf16;
    bool borrow = tensor.numel() > 0 && !program.device.interface && !bf16;
    values[value] =
        borrow ? Storage::borrow(tensor) : Storage::copyOf(pool, tensor, bf16);
  }
  std::map<int, ResultMemory> intoValue;
  for (const auto &[output, value] : f.outputs)
    if (into.count(output))
      intoValue.emplace(value, into.at(output));
  for (size_t i = 0; i < f.steps.size(); ++i) {
    const Step &step = f.steps[i];
    if (p.atLoad[step.results[0]])
      continue;
    std::vector<ResultMemory> destinations(step.results.size());
    for (size_t r = 0; r < step.results.size(); ++r)
      if (intoValue.count(step.results[r]))
        destinations[r] = intoValue.at(step.results[r]);
    std::vector<Storage> results =
        executeStep(program, step, p.operandsOf(step, values), CallContext(),
                    pool, destinations);
    for (size_t r = 0; r < results.size(); ++r)
      values[step.results[r]] = results[r];
    for (int operand : step.operands)
      if (p.lastUse[operand] == int(i) && !p.atLoad[operand])
        values[operand] = Storage();
  }
  std::map<std::string, Storage> outputs;
  for (const auto &[output, value] : f.outputs)
    outputs.emplace(output, values[value]);
  return outputs;
}

std::map<std::string, Tensor>
Model::Impl::run(const std::string &name,
                 const std::map<std::string, Tensor> &inputs) {
  std::map<std::string, Tensor> outputs;
  for (const auto &[output, value] : execute(name, inputs))
    outputs.emplace(output, value.toTensor());
  return outputs;
}

//===----------------------------------------------------------------------===//
// Encoding in groups of similar length
//===----------------------------------------------------------------------===//

bool Model::Impl::paddingStaysHidden(const Function &function) const {
  static const std::set<std::string> positionwise = {
      "param",      "linear",  "activation", "add",
      "layer_norm", "softmax", "embedding"};
  // Steps on weights alone (slices of a fused weight) see no positions.
  std::vector<bool> perPosition(function.values.size(), false);
  for (const auto &input : function.inputs)
    perPosition[size_t(input.second)] = true;
  for (const Step &step : function.steps) {
    bool reads = false;
    for (int operand : step.operands)
      reads = reads || perPosition[size_t(operand)];
    for (int result : step.results)
      perPosition[size_t(result)] = reads;
    if (!reads || positionwise.count(step.op))
      continue;
    if ((step.op == "slice" || step.op == "concat") && step.axis >= 2)
      continue; // Along the features, as of the fused projections.
    if (step.op != "attention")
      return false;
    const auto *spec = std::get_if<k::AttentionSpec>(
        &program.kernels.at(step.kernel).spec.family);
    if (!spec || !spec->keyPadding || spec->segments || spec->readsBias())
      return false;
  }
  return true;
}

Storage Model::Impl::encodeInGroups(
    const Function &encode, const Function &decode, const std::string &tokensIn,
    const std::string &lengthsIn, const std::string &memoryOut,
    const Tensor &tokens, const Tensor &lengths) {
  auto whole = [&] {
    return execute(encode.name, {{tokensIn, tokens}, {lengthsIn, lengths}})
        .at(memoryOut);
  };
  const std::vector<int64_t> &shape = tokens.shape();
  if (program.device.interface || tokens.dtype() != DType::I32 ||
      lengths.dtype() != DType::I32 || shape.size() != 2 || shape[0] < 2 ||
      lengths.shape() != std::vector<int64_t>{shape[0]} ||
      !paddingStaysHidden(encode) || !paddingStaysHidden(decode))
    return whole();
  const int64_t batch = shape[0], width = shape[1];
  std::vector<int64_t> rowLengths(size_t(batch), 0);
  for (int64_t b = 0; b < batch; ++b) {
    rowLengths[size_t(b)] = lengths.i32Data()[b];
    if (rowLengths[size_t(b)] < 1 || rowLengths[size_t(b)] > width)
      return whole(); // The single call says what is wrong with it.
  }
  std::vector<LengthGroup> groups = groupByLength(rowLengths);
  if (groups.size() == 1 && groups[0].length == width)
    return whole();
  Storage memory;
  for (const LengthGroup &group : groups) {
    const int64_t rows = int64_t(group.rows.size()), length = group.length;
    std::vector<int32_t> groupTokens(static_cast<size_t>(rows * length));
    std::vector<int32_t> groupLengths(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) {
      int64_t b = group.rows[size_t(i)];
      std::memcpy(&groupTokens[size_t(i * length)],
                  tokens.i32Data() + b * width, size_t(length) * 4);
      groupLengths[size_t(i)] = int32_t(rowLengths[size_t(b)]);
    }
    Storage out = execute(encode.name,
                          {{tokensIn, Tensor::i32({rows, length}, groupTokens)},
                           {lengthsIn, Tensor::i32({rows}, groupLengths)}})
                      .at(memoryOut);
    if (out.shape.size() < 2 || out.shape[0] != rows || out.shape[1] != length)
      throw Error("internal error: " + encode.name + "'s output '" + memoryOut +
                  "' is not [batch, src_len, ...]");
    if (!memory.defined()) {
      std::vector<int64_t> full = out.shape;
      full[0] = batch;
      full[1] = width;
      memory = Storage::allocate(pool, out.dtype, full, out.bf16);
      std::memset(memory.hostWrite(), 0,
                  size_t(memory.numel()) * memory.elementBytes());
    }
    for (int64_t i = 0; i < rows; ++i)
      memory.slice(0, group.rows[size_t(i)], 1)
          .slice(1, 0, length)
          .assign(out.slice(0, i, 1));
  }
  return memory;
}

//===----------------------------------------------------------------------===//
// Model
//===----------------------------------------------------------------------===//

Model::Model(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Model::~Model() = default;
Model::Model(Model &&) noexcept = default;
Model &Model::operator=(Model &&) noexcept = default;

Model Model::load(const attnc_registry &registry, const Weights &weights,
                  const std::string &model) {
  auto impl = std::make_unique<Impl>();
  impl->program = parseProgram(registry);
  if (!model.empty()) {
    std::map<std::string, Function> &functions = impl->program.functions;
    std::set<std::string> models;
    for (const auto &[name, function] : functions)
      if (!function.model.empty())
        models.insert(function.model);
    if (!models.count(model)) {
      std::string names;
      for (const std::string &name : models)
        names += (names.empty() ? "" : ", ") + name;
      throw Error("registry '" + impl->program.unit + "' has no model '" +
                  model + "'; it has " + (names.empty() ? "none" : names));
    }
    for (auto it = functions.begin(); it != functions.end();)
      it = it->second.model == model ? std::next(it) : functions.erase(it);
  }
  impl->prepare(weights);
  return Model(std::move(impl));
}

void Model::setThreads(int threads) {
  if (threads < 1)
    throw Error("thread count must be at least 1, got " +
                std::to_string(threads));
  setPoolThreads(threads);
}

std::vector<std::string> Model::functions() const {
  std::vector<std::string> names;
  for (const auto &entry : impl->program.functions)
    names.push_back(entry.first);
  return names;
}

std::vector<std::string> Model::inputNames(const std::string &function) const {
  std::vector<std::string> names;
  for (const auto &input : impl->function(function).inputs)
    names.push_back(input.first);
  return names;
}

std::vector<std::string> Model::outputNames(const std::string &function) const {
  std::vector<std::string> names;
  for (const auto &output : impl->function(function).outputs)
    names.push_back(output.first);
  return names;
}

int64_t Model::maxLength(const std::string &function) const {
  return impl->function(function).maxLen;
}

size_t Model::weightBytes() const { return impl->weightBytes; }

std::map<std::string, Tensor>
Model::run(const std::string &function,
           const std::map<std::string, Tensor> &inputs) {
  return impl->run(function, inputs);
}

namespace {
/// Whether [a, a + aBytes) and [b, b + bBytes) share a byte.
bool overlaps(const void *a, size_t aBytes, const void *b, size_t bBytes) {
  auto x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
  return x < y + bBytes && y < x + aBytes;
}
} // namespace

void Model::runInto(const std::string &function,
                    const std::map<std::string, Tensor> &inputs,
                    std::map<std::string, OutputBuffer> &outputs) {
  // Names and types first, so that a bad request writes nothing.
  const Function &f = impl->function(function);
  for (const auto &requested : outputs) {
    const std::string &name = requested.first;
    auto output =
        std::find_if(f.outputs.begin(), f.outputs.end(),
                     [&](const auto &entry) { return entry.first == name; });
    if (output == f.outputs.end())
      throw Error("function " + function + " has no output '" + name + "'");
    if (f.values[size_t(output->second)].dtype != DType::F32)
      throw Error("output '" + name + "' of " + function +
                  " holds i32 elements; runInto writes f32 only");
  }
  // Kernels write straight into the caller's buffers, except a buffer that
  // overlaps an input (the input must stay intact while it is read): that
  // output is copied at the end.
  std::map<std::string, ResultMemory> into;
  for (const auto &[name, buffer] : outputs) {
    bool shared = false;
    for (const auto &entry : inputs) {
      const Tensor &input = entry.second;
      shared =
          shared ||
          overlaps(elementsOf(input), size_t(input.numel()) * 4, buffer.data,
                   size_t(std::max<int64_t>(buffer.capacity, 0)) * 4);
    }
    if (!shared)
      into[name] = {buffer.data, buffer.capacity};
  }
  std::map<std::string, Storage> results =
      impl->execute(function, inputs, into);
  for (auto &[name, buffer] : outputs) {
    const Storage &value = results.at(name); // Names checked above.
    if (value.numel() > buffer.capacity)
      throw Error("output '" + name + "' of " + function + " is " +
                  shapeString(value.shape) + " (" +
                  std::to_string(value.numel()) +
                  " elements), larger than its buffer of " +
                  std::to_string(buffer.capacity));
    if (value.address() != buffer.data || !value.dense())
      value.copyTo(buffer.data); // Not computed in place.
    buffer.shape = value.shape;
  }
}

DecodeResult Model::generate(const DecodeOptions &options,
                             const std::string &model) {
  if (options.prompts.empty())
    throw Error("generate needs options.prompts: one prompt (at least one "
                "token) per sequence");
  int64_t batch = int64_t(options.prompts.size());
  Tensor none = Tensor::i32({batch, 0}, {});
  return greedyDecode(
      none, Tensor::i32({batch}, std::vector<int32_t>(size_t(batch), 0)),
      options, model);
}

DecodeResult Model::greedyDecode(const Tensor &srcTokens,
                                 const Tensor &srcLengths,
                                 const DecodeOptions &options,
                                 const std::string &model) {
  // The model's functions by the kinds the manifest gives them.
  const Function *decodePtr = nullptr, *encode = nullptr;
  for (const auto &entry : impl->program.functions) {
    const Function &f = entry.second;
    if (f.kind != "decode" || (!model.empty() && f.model != model))
      continue;
    if (decodePtr)
      throw Error("registry '" + impl->program.unit +
                  "' has several models; name one");
    decodePtr = &f;
  }
  if (!decodePtr)
    throw Error("registry '" + impl->program.unit + "' has no decoder" +
                (model.empty() ? "" : " for model '" + model + "'"));
  const Function &decode = *decodePtr;
  for (const auto &entry : impl->program.functions)
    if (entry.second.kind == "encode" && entry.second.model == decode.model)
      encode = &entry.second;
  std::string logitsName = decode.outputWithRole("logits");
  if (logitsName.empty())
    logitsName = decode.outputWithRole("token_probs");
  if (logitsName.empty())
    throw Error("function " + decode.name +
                " has no output with the role 'logits' or 'token_probs'");
  if (options.maxSteps < 1)
    throw Error("maxSteps must be at least 1");
  int64_t batch = srcTokens.shape().empty() ? 0 : srcTokens.shape()[0];
  const std::vector<std::vector<int32_t>> &prompts = options.prompts;
  if (!prompts.empty() && int64_t(prompts.size()) != batch)
    throw Error("options.prompts holds " + std::to_string(prompts.size()) +
                " sequences, but the batch has " + std::to_string(batch));
  if (!encode && decode.inputWithRole("memory").size())
    throw Error("function " + decode.name +
                " reads an encoder's memory, but the registry has no encode "
                "function for model '" +
                decode.model + "'");
  if (encode && srcTokens.shape().size() == 2 && srcTokens.shape()[1] == 0)
    throw Error("model '" + decode.model +
                "' has an encoder: greedyDecode needs its source tokens "
                "(generate is for decoder-only models)");
  // The prompts' token ids, checked as run() checks token inputs.
  int64_t longestPrompt = 1;
  int64_t vocabulary = decodeVocabulary(impl->program, decode);
  for (size_t b = 0; b < prompts.size(); ++b) {
    if (prompts[b].empty())
      throw Error("options.prompts[" + std::to_string(b) +
                  "] is empty; a prompt holds at least one token");
    longestPrompt = std::max(longestPrompt, int64_t(prompts[b].size()));
    for (size_t t = 0; t < prompts[b].size(); ++t)
      if (prompts[b][t] < 0 || (vocabulary && prompts[b][t] >= vocabulary))
        throw Error(
            "options.prompts[" + std::to_string(b) + "][" + std::to_string(t) +
            "] is token id " + std::to_string(prompts[b][t]) +
            ", outside the vocabulary [0, " + std::to_string(vocabulary) + ")");
  }
  // Positions through the cache: the prompt's but its last token, then
  // one per generated token.
  int64_t positions = longestPrompt - 1 + options.maxSteps;
  if (decode.maxLen && positions > decode.maxLen)
    throw Error((longestPrompt > 1
                     ? "the longest prompt (" + std::to_string(longestPrompt) +
                           " tokens) minus one plus maxSteps "
                     : std::string("maxSteps ")) +
                std::to_string(positions) + " exceeds the model's max_len of " +
                std::to_string(decode.maxLen));
  for (const std::string &collect : options.collect) {
    bool found = false;
    for (const auto &output : decode.outputs)
      found |= output.first == collect;
    if (!found)
      throw Error("function " + decode.name + " has no output '" + collect +
                  "' to collect");
  }

  std::map<std::string, Storage> fixed;
  if (encode) {
    // Inputs and outputs by role, whatever their names.
    std::string tokensIn = encode->inputWithRole("src_tokens"),
                lengthsIn = encode->inputWithRole("src_lengths"),
                memoryOut = encode->outputWithRole("memory"),
                memoryIn = decode.inputWithRole("memory"),
                memoryLengthsIn = decode.inputWithRole("src_lengths");
    if (tokensIn.empty() || lengthsIn.empty() || memoryOut.empty() ||
        memoryIn.empty() || memoryLengthsIn.empty())
      throw Error("functions " + encode->name + " and " + decode.name +
                  " lack the roles src_tokens, src_lengths and memory that "
                  "greedy decoding needs");
    fixed[memoryIn] =
        options.groupSourcesByLength
            ? impl->encodeInGroups(*encode, decode, tokensIn, lengthsIn,
                                   memoryOut, srcTokens, srcLengths)
            : impl->execute(encode->name,
                            {{tokensIn, srcTokens}, {lengthsIn, srcLengths}})
                  .at(memoryOut);
    fixed[memoryLengthsIn] = Storage::copyOf(impl->pool, srcLengths);
  }
  // Where padded source positions never reach the logits, the memory's
  // projections skip them.
  std::vector<int64_t> sourceLengths;
  if (encode && options.groupSourcesByLength &&
      impl->paddingStaysHidden(decode) && srcLengths.dtype() == DType::I32)
    for (int64_t b = 0; b < srcLengths.numel(); ++b)
      sourceLengths.push_back(srcLengths.i32Data()[b]);
  DecodeSession session(impl->program, impl->prepared.at(decode.name),
                        impl->pool, fixed, batch, positions, sourceLengths);

  DecodeResult result;
  result.tokens.assign(size_t(batch), {});
  std::vector<int32_t> current(size_t(batch), options.bos);
  for (size_t b = 0; b < prompts.size(); ++b)
    current[b] = prompts[b][0];
  std::vector<bool> finished(size_t(batch), false);
  for (int64_t t = 0; t < positions; ++t) {
    std::map<std::string, Storage> outputs =
        session.step(Tensor::i32({batch, 1}, current), t);
    const Storage &logits = outputs.at(logitsName);
    Tensor scores = logits.toTensor(); // [batch, 1, vocab]
    int64_t vocab = scores.shape().back();
    for (int64_t b = 0; b < batch; ++b) {
      size_t i = size_t(b);
      if (!prompts.empty() && t + 1 < int64_t(prompts[i].size())) {
        current[i] = prompts[i][size_t(t) + 1]; // Still reading the prompt.
        continue;
      }
      const float *row = scores.f32Data() + b * vocab;
      int32_t best = int32_t(std::max_element(row, row + vocab) - row);
      current[i] = finished[i] ? options.eos : best;
      if (!finished[i])
        result.tokens[i].push_back(best);
      finished[i] = finished[i] || best == options.eos ||
                    int64_t(result.tokens[i].size()) == options.maxSteps;
    }
    for (const std::string &collect : options.collect)
      result.collected[collect].push_back(outputs.at(collect).toTensor());
    if (std::all_of(finished.begin(), finished.end(), [](bool f) { return f; }))
      break;
  }
  return result;
}
