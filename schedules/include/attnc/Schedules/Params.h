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
};

/// The knobs of a family ("linear", "attention", ...); empty if unknown.
const std::vector<Knob> &knobsOf(const std::string &family);

/// The classes of targets that have their own defaults.
enum class TargetClass { X86AVX2, X86AVX512, ARM64, CUDA, Generic };

/// "x86-avx2", "x86-avx512", "arm64", "cuda", "generic".
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

} // namespace schedules
} // namespace attnc

#endif // ATTNC_SCHEDULES_PARAMS_H
