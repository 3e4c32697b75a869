//===- DecodeSession.cpp - A decode function, one step at a time ----------===//
//
// The session's three phases: classify the function's values (static,
// invariant, per step), run the invariant steps once at construction (the
// memory's projections over each sequence's real positions where padding
// stays hidden), and run the per-step steps for each token, appending each
// self-attention's keys and values to its cache first.
//
//===----------------------------------------------------------------------===//

#include "DecodeSession.h"
#include "attnc/Lowering/MaskClassification.h"

#include <algorithm>
#include <cstring>
#include <variant>

namespace attnc::runtime {

namespace k = attnc::kernels;

DecodeSession::DecodeSession(const Program &program, const Prepared &prepared,
                             BufferPool &pool,
                             const std::map<std::string, Storage> &fixed,
                             int64_t batch, int64_t capacity,
                             std::vector<int64_t> sourceLengths)
    : program(program), f(*prepared.function), prepared(prepared), pool(pool),
      batch(batch), capacity(capacity),
      sourceLengths(std::move(sourceLengths)) {
  classify(fixed);
  values = prepared.statics;
  for (const auto &[name, value] : f.inputs)
    if (fixed.count(name))
      values[value] = fixed.at(name);
  // Everything that depends only on the memory, once.
  for (const Step &step : f.steps)
    if (classes[step.results[0]] == ValueClass::Invariant &&
        !values[step.results[0]].defined())
      execute(step, CallContext());
  for (size_t i = 0; i < f.steps.size(); ++i) {
    const Step &step = f.steps[i];
    if (step.op != "attention" ||
        classes[step.results[0]] != ValueClass::PerStep)
      continue;
    bool keysPerStep = classes[step.operands[1]] == ValueClass::PerStep;
    if (!keysPerStep)
      continue;
    auto &spec =
        std::get<k::AttentionSpec>(program.kernels.at(step.kernel).spec.family);
    if (!k::hidesLaterKeys(spec.predicate.get(), batch, spec.heads, capacity))
      throw Error("function " + f.name + ": " + step.describe() +
                  " attends to keys computed from the target tokens, and "
                  "its mask does not hide later keys (as causal does), so "
                  "it cannot be decoded one token at a time");
    Cache cache;
    bool bf16 = f.values[size_t(step.operands[1])].bf16;
    cache.keys = Storage::allocate(
        pool, DType::F32, {batch, capacity, spec.kvHeads * spec.headDim}, bf16);
    cache.values = Storage::allocate(
        pool, DType::F32, {batch, capacity, spec.kvHeads * spec.valueDim},
        bf16);
    caches[i] = cache;
  }
}

std::map<std::string, Storage> DecodeSession::step(const Tensor &tokens,
                                                   int64_t t) {
  if (t + 1 > capacity)
    throw Error("decoding step " + std::to_string(t) +
                " exceeds the cache of " + std::to_string(capacity));
  std::vector<Storage> stepValues = values;
  for (size_t i = 0; i < f.inputs.size(); ++i) {
    int value = f.inputs[i].second;
    if (classes[value] != ValueClass::PerStep)
      continue;
    if (f.inputRoles[i] == "tgt_lengths")
      stepValues[value] = Storage::copyOf(
          pool,
          Tensor::i32({batch}, std::vector<int32_t>(batch, int32_t(t + 1))));
    else if (f.inputRoles[i] == "tgt_tokens")
      stepValues[value] = Storage::copyOf(pool, tokens);
    else
      throw Error("input '" + f.inputs[i].first + "' of " + f.name +
                  " changes every decoding step but is neither the target "
                  "tokens nor their lengths (role '" +
                  f.inputRoles[i] + "')");
  }
  CallContext context;
  context.qOffset = int32_t(t);
  context.positionOffset = int32_t(t);
  for (size_t i = 0; i < f.steps.size(); ++i) {
    const Step &step = f.steps[i];
    if (classes[step.results[0]] != ValueClass::PerStep)
      continue;
    std::vector<Storage> operands = prepared.operandsOf(step, stepValues);
    auto cache = caches.find(i);
    if (cache != caches.end()) {
      // Append this step's keys and values; attend over all so far.
      cache->second.keys.slice(1, t, 1).assign(operands[1]);
      cache->second.values.slice(1, t, 1).assign(operands[2]);
      operands[1] = cache->second.keys.prefix(1, t + 1);
      operands[2] = cache->second.values.prefix(1, t + 1);
    }
    std::vector<Storage> results =
        executeStep(program, step, operands, context, pool);
    for (size_t r = 0; r < results.size(); ++r)
      stepValues[step.results[r]] = results[r];
    for (int operand : step.operands)
      if (prepared.lastUse[operand] == int(i) &&
          classes[operand] == ValueClass::PerStep)
        stepValues[operand] = Storage();
  }
  std::map<std::string, Storage> outputs;
  for (const auto &[name, value] : f.outputs)
    outputs[name] = stepValues[value];
  return outputs;
}

void DecodeSession::classify(const std::map<std::string, Storage> &fixed) {
  classes.assign(f.values.size(), ValueClass::Static);
  for (const auto &[name, value] : f.inputs)
    classes[value] =
        fixed.count(name) ? ValueClass::Invariant : ValueClass::PerStep;
  for (const Step &step : f.steps) {
    ValueClass c = ValueClass::Static;
    if (step.op != "param")
      for (int operand : step.operands)
        c = std::max(c, classes[operand]);
    for (int result : step.results)
      classes[result] = c;
  }
}

void DecodeSession::execute(const Step &step, const CallContext &context) {
  std::vector<Storage> operands = prepared.operandsOf(step, values);
  std::vector<Storage> results;
  if (!projectRealPositions(step, operands, context, results))
    results = executeStep(program, step, operands, context, pool);
  for (size_t r = 0; r < results.size(); ++r)
    values[step.results[r]] = results[r];
}

bool DecodeSession::projectRealPositions(const Step &step,
                                         const std::vector<Storage> &operands,
                                         const CallContext &context,
                                         std::vector<Storage> &results) {
  if (step.op != "linear" || sourceLengths.empty() ||
      program.device.interface || operands.empty())
    return false;
  const Storage &input = operands[0];
  if (input.shape.size() != 3 || input.shape[0] != batch || input.bf16 ||
      int64_t(sourceLengths.size()) != batch)
    return false;
  const int64_t width = input.shape[1];
  int64_t real = 0;
  for (int64_t length : sourceLengths) {
    if (length < 1 || length > width)
      return false;
    real += length;
  }
  if (real == batch * width)
    return false; // No padding: one call.
  const auto *linear =
      std::get_if<k::LinearSpec>(&program.kernels.at(step.kernel).spec.family);
  if (!linear)
    return false;
  for (const k::ArgumentSig &arg : program.kernels.at(step.kernel).signature)
    if (arg.kind == k::ArgumentSig::Kind::Output && arg.dtype != "f32")
      return false;
  const int64_t out = linear->out;
  Storage result = Storage::allocate(pool, DType::F32, {batch, width, out});
  float *data = static_cast<float *>(result.hostWrite());
  std::memset(data, 0, size_t(batch * width * out) * sizeof(float));
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t length = sourceLengths[size_t(b)];
    std::vector<Storage> sequence = operands;
    sequence[0] = input.slice(0, b, 1).prefix(1, length);
    Storage rows = result.slice(0, b, 1).prefix(1, length);
    std::vector<Storage> written =
        executeStep(program, step, sequence, context, pool,
                    {ResultMemory{data + b * width * out, length * out}});
    if (written.at(0).address() != rows.address())
      rows.assign(written[0]);
  }
  results = {result};
  return true;
}

} // namespace attnc::runtime
