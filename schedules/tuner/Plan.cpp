//===- Plan.cpp - From measurements to the functions of a kernel ----------===//
//
// attnc compile asks, per kernel, which functions to emit and with which
// parameters. This is where the tuning database's measurements turn into
// that answer: the best general schedule, the gemv/decode variants, and the
// length buckets that beat, where they were measured, what the untuned plan
// runs there (the general schedule, or the default short class's tiles at
// the lengths it serves). Buckets come before the short class, which stays
// for the lengths they leave to it.
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

/// Length buckets of the general algorithm: see tunedPlan. `shortTiles`:
/// the general algorithm as the default short class runs it, which serves
/// shapes of at most `shortLength` queries and keys (0: no short class).
std::vector<Variant>
lengthBuckets(const TuningDB &db, const std::string &kernel,
              const std::string &family, const std::string &target,
              const std::string &machine, const ScheduleParams &general,
              const ScheduleParams &shortTiles, int64_t shortLength) {
  std::string dimension = bucketDimensionOf(family);
  if (dimension.empty())
    return {};
  // extent -> params -> median, from this machine if it measured any; and
  // whether the short class serves the shape measured at that extent.
  std::map<int64_t, std::map<std::string, std::pair<double, ScheduleParams>>>
      times;
  std::map<int64_t, bool> shortServes;
  for (bool sameMachine : {true, false}) {
    for (const Measurement &m : db.all())
      if (m.kernel == kernel && m.target == target && m.shapeClass.empty() &&
          db.choosable(m) && (!sameMachine || m.machine == machine)) {
        int64_t extent = extentIn(m.shape, dimension);
        if (extent <= 0)
          continue;
        times[extent][generalKey(m.params)] = {m.milliseconds, m.params};
        int64_t length =
            std::max(extentIn(m.shape, "q_len"), extentIn(m.shape, "kv_len"));
        shortServes[extent] = length > 0 && length <= shortLength;
      }
    if (!times.empty())
      break;
  }
  std::vector<int64_t> extents;
  for (const auto &entry : times)
    extents.push_back(entry.first);
  std::vector<Variant> buckets;
  std::string generalChoice = generalKey(general),
              shortChoice = generalKey(shortTiles);
  // What the plan without buckets runs at an extent, and its time there;
  // null where that was not measured (no evidence).
  auto untunedTime = [&](int64_t extent) -> const double * {
    const auto &at = times[extent];
    auto found = at.find(shortServes[extent] ? shortChoice : generalChoice);
    return found == at.end() ? nullptr : &found->second.first;
  };
  // A bucket serves every length up to its bound that no earlier bucket
  // does: from extents[uncovered] on. Its parameters must be faster by 5%
  // than the untuned plan at its own extent and no slower at each earlier
  // extent it takes over (a 16-query tile that wins at 77 queries can lose
  // at 50 queries over 700 keys).
  size_t uncovered = 0;
  for (size_t i = 0; i + 1 < extents.size(); ++i) {
    const auto &atExtent = times[extents[i]];
    const double *baseline = untunedTime(extents[i]);
    if (!baseline)
      continue;
    auto safeBelow = [&](const std::string &key) {
      for (size_t e = uncovered; e < i; ++e) {
        const auto &at = times[extents[e]];
        auto mine = at.find(key);
        const double *theirs = untunedTime(extents[e]);
        if (mine == at.end() || !theirs || mine->second.first > *theirs)
          return false;
      }
      return true;
    };
    const std::pair<double, ScheduleParams> *fastest = nullptr;
    for (const auto &[key, timed] : atExtent)
      if (timed.first * 1.05 <= *baseline &&
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
    auto shortClass = std::find_if(plan.begin(), plan.end(), [](auto &v) {
      return v.shape.algorithm == "short";
    });
    int64_t shortLength =
        shortClass == plan.end() ? 0 : shortClass->shape.maxExtent;
    std::vector<Variant> buckets = lengthBuckets(
        db, kernel, family, target, machine, params,
        shortLength ? withShortTiles(defaults) : defaults, shortLength);
    // Buckets run before the short class (the general one is last); one
    // that reaches its bound leaves it nothing to serve.
    if (!buckets.empty() && buckets.back().shape.maxExtent >= shortLength &&
        shortClass != plan.end())
      plan.erase(shortClass);
    auto at = std::find_if(plan.begin(), plan.end(), [](auto &v) {
      return v.shape.algorithm == "short" || v.shape.dimension.empty();
    });
    plan.insert(at, buckets.begin(), buckets.end());
  }
  return {plan, tuned};
}
