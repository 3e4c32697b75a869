//===- KernelHarness.h - Call generated kernels from tests ------*- C++ -*-===//
//
// Finds kernels in an attnc registry (no libHalide involved), wraps dense
// row-major tensors as halide_buffer_t, calls a kernel's argv entry, and
// compares results with a reference. Error metric, used by every kernel
// test: max |actual - expected| / max(max |expected|, 1e-6), i.e. the
// largest error relative to the largest reference magnitude.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TESTS_KERNELS_KERNELHARNESS_H
#define ATTNC_TESTS_KERNELS_KERNELHARNESS_H

#include "attnc/Lowering/KernelSpec.h"
#include "attnc/registry.h"

#include "HalideBuffer.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace attnc::test {

/// A tensor argument: dense row-major data and its PyTorch shape.
struct TensorArg {
  float *f32 = nullptr;
  int32_t *i32 = nullptr;
  std::vector<int64_t> shape; ///< Outermost first.
  /// A view whose outermost dimensions have stride 0 (broadcast), counted
  /// from the outside, e.g. {true, false, ...} for a batch-broadcast bias.
  std::vector<bool> broadcast;
  /// Elements between consecutive rows (second-innermost dimension), when
  /// the tensor is a view into a wider one; 0: dense.
  int64_t rowStride = 0;
  /// Instead of f32 or i32: data of another element type (a linear weight
  /// stored as bf16, f16 or int8).
  void *narrow = nullptr;
  halide_type_t narrowType;
};

/// The kernels of one registry.
class KernelSet {
public:
  explicit KernelSet(const attnc_registry &registry);

  /// Every kernel spec in the manifest, by name.
  const std::vector<std::pair<std::string, kernels::KernelSpec>> &
  specs() const {
    return all;
  }

  /// The entry of `kernel` for `shapeClass` ("" is the general one), or
  /// null.
  const attnc_kernel_entry *find(const std::string &kernel,
                                 const std::string &shapeClass = "") const;

  /// The full Halide target string the kernels were compiled for.
  const char *halideTarget() const { return registry.halide_target; }

  /// Calls an entry with inputs, then scalars, then outputs. Returns the
  /// kernel's status (0 on success).
  static int call(const attnc_kernel_entry &entry,
                  const std::vector<TensorArg> &inputs,
                  const std::vector<int32_t> &scalars,
                  const std::vector<TensorArg> &outputs);

private:
  const attnc_registry &registry;
  std::vector<std::pair<std::string, kernels::KernelSpec>> all;
};

/// The last message Halide's runtime reported (the harness installs an error
/// handler that records instead of aborting).
const std::string &lastHalideError();

/// max |a - e| / max(max |e|, 1e-6); also fails on any non-finite value.
double relativeError(const std::vector<float> &actual,
                     const std::vector<float> &expected);

/// Uniform values in [lo, hi), deterministic per seed.
std::vector<float> randomTensor(size_t size, uint32_t seed, float lo = -1.0f,
                                float hi = 1.0f);

} // namespace attnc::test

#endif // ATTNC_TESTS_KERNELS_KERNELHARNESS_H
