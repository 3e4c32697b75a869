//===- Plan.cpp - From measurements to the functions of a kernel ----------===//
//
// attnc compile asks, per kernel, which functions to emit and with which
// parameters. This is where the tuning database's measurements turn into
// that answer: the best general schedule, the gemv/decode variants, and the
// length buckets that beat the general schedule where they were measured
// (which replace the default bucket for short inputs).
//
//===----------------------------------------------------------------------===//

#include "attnc/Schedules/TuningDB.h"

#include <algorithm>
#include <cmath>
#include <map>

using namespace attnc::schedules;

namespace {

/// The value of `dimension` in a shape such as "batch=1 kv_len=512
/// q_len=512"; -1 if absent.
int64_t extentIn(const std::string &shape, const std::string &dimension) {
  std::string key = dimension + "=";
  for (size_t at = shape.find(key); at != std::string::npos;
       at = shape.find(key, at + 1))
    if (at == 0 || shape[at - 1] == ' ')
      return std::atoll(shape.c_str() + at + key.size());
  return -1;
}

/// The general algorithm's knobs of `params` over `base`.
ScheduleParams withGeneralKnobs(ScheduleParams base,
                                const ScheduleParams &params) {
  for (const auto &[knob, value] : params.all())
    if (knobOfAlgorithm(knob, ""))
      base.set(knob, value);
  return base;
}

/// The general algorithm's knobs of `params`, as a key.
std::string generalKey(const ScheduleParams &params) {
  return withGeneralKnobs(ScheduleParams(params.familyName(), {}), params)
      .toJSON();
}

/// Length buckets of the general algorithm: see tunedPlan.
std::vector<Variant>
lengthBuckets(const TuningDB &db, const std::string &kernel,
              const std::string &family, const std::string &target,
              const std::string &machine, const ScheduleParams &general) {
  std::string dimension = bucketDimensionOf(family);
  if (dimension.empty())
    return {};
  // extent -> params -> median, from this machine if it measured any.
  std::map<int64_t, std::map<std::string, std::pair<double, ScheduleParams>>>
      times;
  for (bool sameMachine : {true, false}) {
    for (const Measurement &m : db.all())
      if (m.kernel == kernel && m.target == target && m.shapeClass.empty() &&
          db.choosable(m) && (!sameMachine || m.machine == machine)) {
        int64_t extent = extentIn(m.shape, dimension);
        if (extent > 0)
          times[extent][generalKey(m.params)] = {m.milliseconds, m.params};
      }
    if (!times.empty())
      break;
  }
  std::vector<int64_t> extents;
  for (const auto &entry : times)
    extents.push_back(entry.first);
  std::vector<Variant> buckets;
  std::string generalChoice = generalKey(general);
  // A bucket serves every length up to its bound that no earlier bucket
  // does: from extents[uncovered] on. Its parameters must be faster by 5% at
  // its own extent and no slower than the general schedule at each earlier
  // extent it takes over (a 16-query tile that wins at 77 queries can lose
  // at 50 queries over 700 keys).
  size_t uncovered = 0;
  for (size_t i = 0; i + 1 < extents.size(); ++i) {
    const auto &atExtent = times[extents[i]];
    auto generalTime = atExtent.find(generalChoice);
    if (generalTime == atExtent.end())
      continue; // The general choice was not measured here: no evidence.
    auto safeBelow = [&](const std::string &key) {
      for (size_t e = uncovered; e < i; ++e) {
        const auto &at = times[extents[e]];
        auto mine = at.find(key), theirs = at.find(generalChoice);
        if (mine == at.end() || theirs == at.end() ||
            mine->second.first > theirs->second.first)
          return false;
      }
      return true;
    };
    const std::pair<double, ScheduleParams> *fastest = nullptr;
    for (const auto &[key, timed] : atExtent)
      if (timed.first * 1.05 <= generalTime->second.first &&
          (!fastest || timed.first < fastest->first) && safeBelow(key))
        fastest = &timed;
    if (!fastest)
      continue;
    ScheduleParams params = withGeneralKnobs(general, fastest->second);
    int64_t bound =
        int64_t(std::sqrt(double(extents[i]) * double(extents[i + 1])));
    uncovered = i + 1;
    if (!buckets.empty() && buckets.back().params == params) {
      buckets.back().shape.maxExtent = bound; // Same winner: widen it.
      buckets.back().shape.name = "upto" + std::to_string(bound);
      continue;
    }
    buckets.push_back(
        {{"upto" + std::to_string(bound), dimension, bound, ""}, params});
  }
  return buckets;
}

} // namespace

std::pair<KernelPlan, bool> attnc::schedules::tunedPlan(
    const TuningDB &db, const std::string &kernel, const std::string &family,
    const std::string &target, const std::string &machine,
    const ScheduleParams &defaults) {
  ScheduleParams params = defaults;
  bool tuned = false;
  for (const ShapeClass &shape : shapeClassesOf(family, defaults)) {
    std::optional<ScheduleParams> best =
        db.best(kernel, target, machine, shape.algorithm);
    if (!best)
      continue;
    tuned = true;
    for (const auto &[knob, value] : best->all())
      if (knobOfAlgorithm(knob, shape.algorithm))
        params.set(knob, value);
  }
  KernelPlan plan = defaultPlan(family, params);
  if (tuned) {
    std::vector<Variant> buckets =
        lengthBuckets(db, kernel, family, target, machine, params);
    // Measured length buckets replace the default one for short inputs,
    // which would otherwise serve their lengths first.
    if (!buckets.empty())
      plan.erase(std::remove_if(plan.begin(), plan.end(),
                                [](const Variant &v) {
                                  return v.shape.algorithm == "short";
                                }),
                 plan.end());
    plan.insert(plan.end() - 1, buckets.begin(), buckets.end());
  }
  return {plan, tuned};
}
