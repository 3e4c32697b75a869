//===- KernelHarness.cpp - Call generated kernels from tests --------------===//

#include "KernelHarness.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <stdexcept>

using namespace attnc;
using namespace attnc::test;

namespace {

std::string lastError;

/// Halide's default handler aborts; record the message instead, so that a
/// rejected call returns its error code to the test.
void recordError(void *, const char *message) { lastError = message; }

const bool installed = [] {
  halide_set_error_handler(recordError);
  return true;
}();

} // namespace

const std::string &attnc::test::lastHalideError() { return lastError; }

KernelSet::KernelSet(const attnc_registry &registry) : registry(registry) {
  nlohmann::json manifest = nlohmann::json::parse(registry.manifest_json);
  for (const auto &[name, info] : manifest.at("kernels").items())
    all.emplace_back(name,
                     kernels::KernelSpec::fromJSON(info.at("spec").dump()));
}

const attnc_kernel_entry *KernelSet::find(const std::string &kernel,
                                          const std::string &shapeClass) const {
  for (int i = 0; i < registry.num_entries; ++i) {
    const attnc_kernel_entry &entry = registry.entries[i];
    if (kernel == entry.kernel && shapeClass == entry.shape_class)
      return &entry;
  }
  return nullptr;
}

namespace {

/// A halide_buffer_t over a dense row-major tensor (Halide lists dimensions
/// innermost first).
halide_buffer_t wrap(const TensorArg &arg,
                     std::vector<halide_dimension_t> &dims) {
  size_t rank = arg.shape.size();
  dims.resize(rank);
  int64_t stride = 1;
  for (size_t i = 0; i < rank; ++i) {
    size_t outer = rank - 1 - i; // PyTorch index of Halide dimension i.
    bool broadcast = outer < arg.broadcast.size() && arg.broadcast[outer];
    dims[i] = halide_dimension_t(0, int32_t(arg.shape[outer]),
                                 broadcast ? 0 : int32_t(stride));
    if (!broadcast)
      stride *= i == 0 && arg.rowStride ? arg.rowStride : arg.shape[outer];
  }
  halide_buffer_t buffer = {};
  if (arg.narrow) {
    buffer.host = static_cast<uint8_t *>(arg.narrow);
    buffer.type = arg.narrowType;
  } else {
    buffer.host = arg.f32 ? reinterpret_cast<uint8_t *>(arg.f32)
                          : reinterpret_cast<uint8_t *>(arg.i32);
    buffer.type = arg.f32 ? halide_type_t(halide_type_float, 32)
                          : halide_type_t(halide_type_int, 32);
  }
  buffer.dimensions = int32_t(rank);
  buffer.dim = dims.data();
  return buffer;
}

} // namespace

int KernelSet::call(const attnc_kernel_entry &entry,
                    const std::vector<TensorArg> &inputs,
                    const std::vector<int32_t> &scalars,
                    const std::vector<TensorArg> &outputs) {
  size_t count = inputs.size() + outputs.size();
  std::vector<std::vector<halide_dimension_t>> dims(count);
  std::vector<halide_buffer_t> buffers(count);
  std::vector<void *> args;
  size_t next = 0;
  for (const TensorArg &arg : inputs) {
    buffers[next] = wrap(arg, dims[next]);
    buffers[next].set_host_dirty(true); // GPU kernels copy it over first
    args.push_back(&buffers[next++]);
  }
  std::vector<int32_t> scalarValues = scalars;
  for (int32_t &value : scalarValues)
    args.push_back(&value);
  for (const TensorArg &arg : outputs) {
    buffers[next] = wrap(arg, dims[next]);
    args.push_back(&buffers[next++]);
  }
  int status = entry.argv(args.data());
  // GPU kernels: outputs back to the host, device allocations freed.
  for (size_t i = inputs.size(); i < count && status == 0; ++i)
    if (buffers[i].device)
      status = halide_copy_to_host(nullptr, &buffers[i]);
  for (halide_buffer_t &buffer : buffers)
    if (buffer.device)
      halide_device_free(nullptr, &buffer);
  return status;
}

double attnc::test::relativeError(const std::vector<float> &actual,
                                  const std::vector<float> &expected) {
  if (actual.size() != expected.size())
    return INFINITY;
  double scale = 1e-6, error = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (!std::isfinite(actual[i]))
      return INFINITY;
    scale = std::max(scale, double(std::fabs(expected[i])));
    error = std::max(error, double(std::fabs(actual[i] - expected[i])));
  }
  return error / scale;
}

std::vector<float> attnc::test::randomTensor(size_t size, uint32_t seed,
                                             float lo, float hi) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> distribution(lo, hi);
  std::vector<float> values(size);
  for (float &value : values)
    value = distribution(generator);
  return values;
}
