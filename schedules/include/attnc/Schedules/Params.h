//===- Params.h - Schedule parameters as data -------------------*- C++ -*-===//
//
// Every tunable choice of every schedule is a named integer knob: tile
// sizes, vector widths, unroll factors, parallel splits, compute_at levels
// (as an index into the levels the schedule offers). Each family declares
// its knobs and the values a tuner may try; defaults per target class live
// in schedules/defaults.json, compiled into the library; a tuning database
// may override them. Schedules read only ScheduleParams, so changing a
// schedule never needs a code edit.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_SCHEDULES_PARAMS_H
#define ATTNC_SCHEDULES_PARAMS_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attnc {
namespace schedules {

/// One tunable choice of a family's schedule.
struct Knob {
  std::string name;
  std::string doc;
  std::vector<int64_t> candidates; ///< Values the tuner may try.
  /// A choice of structure (a tile shape, the work per task) whose best
  /// value depends most on the shape: the tuner tries each of its values
  /// alone, from the defaults, before it searches at random.
  bool sweptFirst = false;
};

/// The knobs of a family ("linear", "attention", ...); empty if unknown.
const std::vector<Knob> &knobsOf(const std::string &family);

/// The classes of targets that have their own defaults.
enum class TargetClass { X86AVX2, X86AVX512, ARM64, CUDA, OpenCL, Generic };

/// "x86-avx2", "x86-avx512", "arm64", "cuda", "opencl", "generic".
const char *targetClassName(TargetClass targetClass);

/// Values of a family's knobs.
class ScheduleParams {
public:
  ScheduleParams() = default;
  ScheduleParams(std::string family, std::map<std::string, int64_t> values)
      : family(std::move(family)), values(std::move(values)) {}

  /// The value of `knob`; throws std::out_of_range naming the knob if unset.
  int64_t get(const std::string &knob) const;
  void set(const std::string &knob, int64_t value) { values[knob] = value; }
  const std::map<std::string, int64_t> &all() const { return values; }
  const std::string &familyName() const { return family; }

  /// {"tile_n": 24, ...}, stable key order.
  std::string toJSON() const;
  /// Parses toJSON()'s output for `family`; unknown knobs are an error.
  static ScheduleParams fromJSON(const std::string &family,
                                 const std::string &json);

  bool operator==(const ScheduleParams &other) const {
    return family == other.family && values == other.values;
  }

private:
  std::string family;
  std::map<std::string, int64_t> values;
};

/// The defaults of `family` for `targetClass` (from defaults.json).
ScheduleParams defaultParams(const std::string &family,
                             TargetClass targetClass);

/// A variant of a kernel, compiled as a function of its own, that is tuned
/// for a bounded extent of one dynamic dimension. Every variant computes
/// the same thing for any shape; the runtime picks the first one whose
/// bound the call satisfies.
struct ShapeClass {
  std::string name; ///< Function-name suffix; "" for the general one.
  /// "rows", "q_len", "length" (the longer of q_len and kv_len: short
  /// self-attention, not a few queries over many keys), or "" for the
  /// general one.
  std::string dimension;
  int64_t maxExtent = 0; ///< Inclusive bound (unused for the general one).
  /// The algorithm variant buildKernel builds: "" (the general algorithm),
  /// "gemv", "decode" or "short" (the general one with the short_* tiles). A
  /// length bucket ("upto512") is the general algorithm with parameters tuned
  /// for its lengths.
  std::string algorithm;
};

/// The shape classes of `family` under `params`, most specific first and
/// the general one last.
std::vector<ShapeClass> shapeClassesOf(const std::string &family,
                                       const ScheduleParams &params);

/// Whether `knob` is read by the algorithm variant `algorithm`: "gemv_*"
/// knobs by gemv, "decode_*" knobs by decode, "short_*" knobs by short, all
/// others by the general algorithm (""); the variants also read the
/// general knobs they do not replace. "gemv1_*" knobs belong to no class's
/// algorithm (defaultPlan reads them), so no search varies them.
bool knobOfAlgorithm(const std::string &knob, const std::string &algorithm);

/// The extent of a call's `shape` (dimension name -> extent) along a shape
/// class's `dimension`; -1 if the shape lacks it. The runtime's dispatch
/// (runtime/src/Executor.cpp) computes the same.
int64_t extentOf(const std::string &dimension,
                 const std::map<std::string, int64_t> &shape);

/// `params` as the general algorithm runs them for the "short" class: its
/// query tile and key block replaced by short_q_tile and short_k_block.
ScheduleParams withShortTiles(ScheduleParams params);

/// The dimension a family's length buckets bound ("q_len", "rows"), or ""
/// for families that have none.
std::string bucketDimensionOf(const std::string &family);

/// One function to compile for a kernel: its shape class and parameters.
struct Variant {
  ShapeClass shape;
  ScheduleParams params;
};

/// The functions of one kernel, in dispatch order: the first variant whose
/// bound a call meets runs it; the general one is last.
using KernelPlan = std::vector<Variant>;

/// Every shape class of `family` with the same parameters; for linear,
/// where gemv1_panels > 0 (defaultParamsFor), also "gemv1" (rows <= 1)
/// before "gemv": the GEMV algorithm with gemv1_block_n and gemv1_panels.
KernelPlan defaultPlan(const std::string &family, const ScheduleParams &params);

} // namespace schedules
} // namespace attnc

#endif // ATTNC_SCHEDULES_PARAMS_H
