//===- Executor.cpp - One step of a program -------------------------------===//

#include "Executor.h"
#include "attnc/Lowering/LinearWeights.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <variant>

using namespace attnc;
using namespace attnc::runtime;
namespace k = attnc::kernels;

namespace {

std::mutex errorMutex;
std::string lastHalideError;

/// Halide's default handler aborts the process; record the message instead
/// so the failing call returns its error code and becomes an attnc::Error.
void recordHalideError(void *, const char *message) {
  std::lock_guard<std::mutex> lock(errorMutex);
  lastHalideError = message;
}

const bool handlerInstalled = [] {
  halide_set_error_handler(recordHalideError);
  return true;
}();

/// ATTNC_PROFILE=1: time every kernel call (GPU kernels to completion) and
/// print a table and the host/device transfers at exit.
struct Profile {
  bool enabled = std::getenv("ATTNC_PROFILE") != nullptr;
  std::map<std::string, std::pair<int64_t, double>> calls; ///< count, ms
  ~Profile() {
    if (!enabled || calls.empty())
      return;
    double total = 0;
    for (const auto &entry : calls)
      total += entry.second.second;
    std::fprintf(stderr, "attnc profile: %.2f ms in kernels\n", total);
    DeviceTransfers moved = deviceTransfers();
    if (moved.toDeviceCalls || moved.toHostCalls)
      std::fprintf(stderr,
                   "  transfers: %lld to the device (%lld bytes), %lld to the "
                   "host (%lld bytes)\n",
                   (long long)moved.toDeviceCalls,
                   (long long)moved.toDeviceBytes, (long long)moved.toHostCalls,
                   (long long)moved.toHostBytes);
    for (const auto &[symbol, entry] : calls)
      std::fprintf(stderr, "  %9.3f ms %5.1f%% %6lld calls  %s\n", entry.second,
                   100 * entry.second / total, (long long)entry.first,
                   symbol.c_str());
  }
};
Profile profile;

std::vector<int64_t> replaceLast(std::vector<int64_t> shape, int64_t last) {
  shape.back() = last;
  return shape;
}

/// The result shapes of a kernel step.
std::vector<std::vector<int64_t>> resultShapes(const k::KernelSpec &spec,
                                               const std::vector<Storage> &in) {
  const std::vector<int64_t> &first = in.at(0).shape;
  if (auto *s = std::get_if<k::LinearSpec>(&spec.family))
    return {replaceLast(first, s->out)};
  if (auto *s = std::get_if<k::EmbeddingSpec>(&spec.family)) {
    std::vector<int64_t> shape = first;
    shape.push_back(s->width);
    return {shape};
  }
  if (auto *s = std::get_if<k::AttentionSpec>(&spec.family)) {
    int64_t batch = first[0], qLen = first[1], kvLen = in.at(1).shape[1];
    std::vector<std::vector<int64_t>> shapes = {
        {batch, qLen, s->heads * s->valueDim}};
    if (s->probs == k::Probs::PerHead)
      shapes.push_back({batch, s->heads, qLen, kvLen});
    if (s->probs == k::Probs::HeadMean)
      shapes.push_back({batch, qLen, kvLen});
    return shapes;
  }
  return {first}; // layernorm, softmax, add
}

/// The entry to call: the first shape class whose bound the call meets.
const attnc_kernel_entry &pickEntry(const Kernel &kernel,
                                    const std::vector<Storage> &operands) {
  for (const attnc_kernel_entry *entry : kernel.entries) {
    if (!entry->shape_class[0])
      return *entry;
    if (std::strcmp(entry->dimension, "q_len") == 0) {
      if (operands.at(0).shape.at(1) <= entry->max_extent)
        return *entry;
      continue;
    }
    if (std::strcmp(entry->dimension, "length") == 0) { // max(q_len, kv_len)
      if (std::max(operands.at(0).shape.at(1), operands.at(1).shape.at(1)) <=
          entry->max_extent)
        return *entry;
      continue;
    }
    if (std::strcmp(entry->dimension, "rows") == 0) {
      const std::vector<int64_t> &shape = operands.at(0).shape;
      int64_t rows = 1;
      for (size_t i = 0; i + 1 < shape.size(); ++i)
        rows *= shape[i];
      if (rows <= entry->max_extent)
        return *entry;
    }
  }
  return *kernel.entries.back();
}

/// The attention bias `bias` ([batch or 1, heads or 1, q_len, kv_len]) as
/// a view over every batch and head, with stride 0 where it broadcasts
/// (docs/dsl.md). Any other shape is an Error naming the step.
Storage broadcastBias(const Step &step, Storage bias,
                      const std::vector<int64_t> &want) {
  bool ok = bias.shape.size() == 4;
  for (size_t axis = 0; ok && axis < 4; ++axis)
    ok = bias.shape[axis] == want[axis] || (axis < 2 && bias.shape[axis] == 1);
  if (!ok)
    throw Error(step.describe() + ": its bias is " + shapeString(bias.shape) +
                ", expected [" + std::to_string(want[0]) + " or 1, " +
                std::to_string(want[1]) + " or 1, " + std::to_string(want[2]) +
                ", " + std::to_string(want[3]) +
                "] (batch and heads may be 1)");
  for (size_t axis = 0; axis < 2; ++axis)
    if (bias.shape[axis] != want[axis]) {
      bias.shape[axis] = want[axis];
      bias.strides[axis] = 0;
    }
  return bias;
}

std::vector<Storage> concat(const Step &step,
                            const std::vector<Storage> &operands,
                            BufferPool &pool) {
  std::vector<int64_t> shape = operands.at(0).shape;
  int64_t axis = step.axis;
  shape[axis] = 0;
  for (const Storage &operand : operands)
    shape[axis] += operand.shape[axis];
  Storage result =
      Storage::allocate(pool, operands[0].dtype, shape, operands[0].bf16);
  int64_t at = 0;
  for (const Storage &operand : operands) {
    result.slice(axis, at, operand.shape[axis]).assign(operand);
    at += operand.shape[axis];
  }
  return {result};
}

} // namespace

/// The element type of a linear kernel's weight.
static halide_type_t storedType(const k::LinearSpec &spec) {
  switch (spec.weights) {
  case k::WeightType::F32:
    break;
  case k::WeightType::BF16:
    return halide_type_t(halide_type_bfloat, 16);
  case k::WeightType::F16:
    return halide_type_t(halide_type_float, 16);
  case k::WeightType::I8:
    return halide_type_t(halide_type_int, 8);
  }
  return halide_type_t(halide_type_float, 32);
}

/// `elements` rounded up to a multiple of `alignment`.
static size_t aligned(size_t elements, size_t alignment) {
  return (elements + alignment - 1) / alignment * alignment;
}

/// The 4-byte elements of the panels of a PackedLinear, aligned.
static size_t panelsSize(const k::LinearSpec &spec, size_t alignment) {
  size_t bytes = size_t(k::packedLinearElements(spec.out, spec.in)) *
                 k::weightTypeBytes(spec.weights);
  return aligned((bytes + 3) / 4, alignment);
}

size_t attnc::runtime::packedLinearSize(const k::LinearSpec &spec,
                                        size_t alignment) {
  size_t size = panelsSize(spec, alignment);
  if (spec.weights == k::WeightType::I8)
    size += aligned(size_t(spec.out), alignment);
  return size;
}

PackedLinear attnc::runtime::packLinearWeightAt(const k::LinearSpec &spec,
                                                const Storage &weight,
                                                std::shared_ptr<Block> block,
                                                size_t offset, size_t alignment,
                                                BufferPool &scratch) {
  if (weight.shape != std::vector<int64_t>{spec.out, spec.in})
    throw Error("a linear layer of " + std::to_string(spec.in) + " to " +
                std::to_string(spec.out) + " features got a weight of " +
                shapeString(weight.shape));
  Storage dense = weight.dense() ? weight : weight.copy(scratch);
  std::vector<int64_t> shape = {spec.panels(), spec.in, k::kLinearPanelWidth};
  PackedLinear packed;
  packed.weight = Storage::inBlock(block, offset, DType::F32, shape);
  if (spec.weights != k::WeightType::F32)
    packed.weight.narrow = storedType(spec);
  if (spec.weights == k::WeightType::I8)
    packed.scale = Storage::inBlock(block, offset + panelsSize(spec, alignment),
                                    DType::F32, {spec.out});
  k::packLinearWeight(static_cast<const float *>(dense.hostRead()), spec.out,
                      spec.in, spec.weights, packed.weight.hostWrite(),
                      packed.scale.defined()
                          ? static_cast<float *>(packed.scale.hostWrite())
                          : nullptr);
  return packed;
}

std::vector<Storage>
attnc::runtime::executeStep(const Program &program, const Step &step,
                            const std::vector<Storage> &operands,
                            const CallContext &context, BufferPool &pool,
                            const std::vector<ResultMemory> &into) {
  if (step.op == "slice")
    return {operands.at(0).slice(step.axis, step.offset, step.size)};
  if (step.op == "concat")
    return concat(step, operands, pool);
  if (step.kernel.empty())
    throw Error("cannot execute " + step.describe() + ": no kernel");

  const Kernel &kernel = program.kernels.at(step.kernel);
  if (auto *linear = std::get_if<k::LinearSpec>(&kernel.spec.family))
    if (operands.at(1).shape.size() == 2) {
      std::shared_ptr<Block> block =
          pool.acquire(packedLinearSize(*linear, 16));
      PackedLinear packed =
          packLinearWeightAt(*linear, operands[1], block, 0, 16, pool);
      std::vector<Storage> withPacked = operands;
      withPacked[1] = packed.weight;
      if (packed.scale.defined())
        withPacked.insert(withPacked.begin() + 2, packed.scale);
      return executeStep(program, step, withPacked, context, pool, into);
    }
  const std::vector<k::ArgumentSig> &signature = kernel.signature;
  std::vector<std::vector<int64_t>> shapes =
      resultShapes(kernel.spec, operands);
  // Outputs are f32, or bf16 activations; only f32 ones can be written
  // straight into the caller's memory.
  std::vector<bool> outputBF16;
  for (const k::ArgumentSig &arg : signature)
    if (arg.kind == k::ArgumentSig::Kind::Output)
      outputBF16.push_back(arg.dtype == "bf16");
  std::vector<Storage> results;
  for (size_t i = 0; i < shapes.size(); ++i) {
    bool bf16 = outputBF16.at(i);
    int64_t numel = Storage::count(shapes[i]);
    if (i < into.size() && into[i].data && !program.device.interface && !bf16 &&
        numel > 0 && numel <= into[i].capacity)
      results.push_back(Storage::wrap(into[i].data, DType::F32, shapes[i]));
    else
      results.push_back(Storage::allocate(pool, DType::F32, shapes[i], bf16));
  }

  const DeviceTarget &device = program.device;
  size_t count = signature.size();
  std::vector<halide_buffer_t> buffers(count);
  std::vector<std::vector<halide_dimension_t>> dims(count);
  std::vector<int32_t> scalars(count);
  std::vector<Storage> dense(count); // Copies of operands that cannot merge.
  std::vector<Storage> values(count);
  std::vector<void *> args(count);
  // Device views are crops that must be released, whatever happens.
  struct ReleaseViews {
    std::vector<halide_buffer_t> &buffers;
    ~ReleaseViews() {
      for (halide_buffer_t &buffer : buffers)
        device::releaseView(buffer);
    }
  } releaseViews{buffers};
  size_t nextInput = 0, nextOutput = 0;
  for (size_t i = 0; i < count; ++i) {
    const k::ArgumentSig &arg = signature[i];
    if (arg.kind == k::ArgumentSig::Kind::Scalar) {
      scalars[i] =
          arg.name == "q_offset" ? context.qOffset : context.positionOffset;
      args[i] = &scalars[i];
      continue;
    }
    bool isOutput = arg.kind == k::ArgumentSig::Kind::Output;
    Storage value =
        isOutput ? results.at(nextOutput++) : operands.at(nextInput++);
    // (Packed weights carry their own type, `narrow`.)
    if (!isOutput && !value.narrow.bits && value.bf16 != (arg.dtype == "bf16"))
      throw Error("internal error: " + step.describe() + " passes " +
                  (value.bf16 ? "bf16" : "f32") + " " +
                  shapeString(value.shape) + " as '" + arg.name +
                  "', which kernel " + kernel.name + " takes as " + arg.dtype);
    if (auto *attention = std::get_if<k::AttentionSpec>(&kernel.spec.family))
      if (arg.name == "bias")
        value = broadcastBias(step, value,
                              {operands.at(0).shape.at(0), attention->heads,
                               operands.at(0).shape.at(1),
                               operands.at(1).shape.at(1)});
    int rank = int(arg.dims.size());
    if (!value.toHalide(rank, buffers[i], dims[i])) {
      dense[i] = value.copy(pool);
      value = dense[i];
      value.toHalide(rank, buffers[i], dims[i]);
    }
    if (device.interface) {
      // On the device: a view of the block's device copy, made current.
      device::makeDeviceCurrent(*value.block, device.interface);
      if (!device::viewOnDevice(value, device, buffers[i])) {
        dense[i] = value.copy(pool); // Misaligned for the device: copy.
        value = dense[i];
        value.toHalide(rank, buffers[i], dims[i]);
        device::makeDeviceCurrent(*value.block, device.interface);
        device::viewOnDevice(value, device, buffers[i]);
      }
    } else if (isOutput) {
      value.hostWrite();
    } else {
      value.hostRead();
    }
    values[i] = value;
    args[i] = &buffers[i];
  }
  const attnc_kernel_entry &entry = pickEntry(kernel, operands);
  std::vector<bool> deviceDirtyBefore(count);
  for (size_t i = 0; i < count; ++i)
    deviceDirtyBefore[i] = values[i].defined() && buffers[i].device_dirty();
  auto start = std::chrono::steady_clock::now();
  int status = entry.argv(args.data());
  if (profile.enabled) {
    if (device.interface && status == 0)
      status = halide_device_sync(nullptr, &buffers[count - 1]);
    auto &slot = profile.calls[entry.symbol];
    slot.first += 1;
    slot.second += std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  }
  // GPU kernels leave their outputs on the device, where the next kernel
  // reads them: nothing is copied back until the host reads it.
  for (size_t i = 0; i < count && device.interface && status == 0; ++i)
    if (values[i].defined()) // Not a scalar.
      device::afterKernel(values[i], buffers[i],
                          signature[i].kind == k::ArgumentSig::Kind::Output,
                          deviceDirtyBefore[i]);
  if (status != 0) {
    std::lock_guard<std::mutex> lock(errorMutex);
    throw Error("kernel " + std::string(entry.symbol) + " (" + step.describe() +
                ") failed: " + lastHalideError);
  }
  return results;
}

std::string attnc::runtime::takeHalideError() {
  std::lock_guard<std::mutex> lock(errorMutex);
  std::string message = std::move(lastHalideError);
  lastHalideError.clear();
  return message;
}
