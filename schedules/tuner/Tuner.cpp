//===- Tuner.cpp - Search schedule parameters on this machine -------------===//

#include "attnc/Schedules/Tuner.h"
#include "Measure.h"
#include "attnc/Schedules/Schedules.h"

#include "Halide.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <variant>

using namespace attnc;
using namespace attnc::schedules;
namespace k = attnc::kernels;

namespace {

using Clock = std::chrono::steady_clock;

/// The knobs a shape class tunes: those of its algorithm, except whether
/// to run in parallel at all.
bool knobBelongs(const std::string &knob, const std::string &shapeClass) {
  return knobOfAlgorithm(knob, shapeClass) && knob != "parallel";
}

/// Representative shapes of one shape class: the timed one per length,
/// and a small odd one for the check.
std::vector<Shape> timedShapes(const k::KernelSpec &spec,
                               const std::string &shapeClass,
                               const std::vector<int64_t> &lengths) {
  std::vector<Shape> shapes;
  bool attention = std::holds_alternative<k::AttentionSpec>(spec.family);
  bool embedding = std::holds_alternative<k::EmbeddingSpec>(spec.family);
  for (int64_t length : lengths) {
    if (attention)
      shapes.push_back({{"batch", 1},
                        {"q_len", shapeClass == "decode" ? 1 : length},
                        {"kv_len", length}});
    else if (embedding)
      shapes.push_back({{"batch", 1}, {"length", length}});
    else
      shapes.push_back({{"rows", shapeClass == "gemv" ? 1 : length}});
    if (shapeClass == "gemv")
      break; // One row is one row, whatever the sequence length.
  }
  return shapes;
}

Shape checkedShape(const k::KernelSpec &spec, const std::string &shapeClass) {
  if (std::holds_alternative<k::AttentionSpec>(spec.family))
    return {{"batch", 2},
            {"q_len", shapeClass == "decode" ? 3 : 67},
            {"kv_len", 77}};
  if (std::holds_alternative<k::EmbeddingSpec>(spec.family))
    return {{"batch", 2}, {"length", 9}};
  return {{"rows", shapeClass == "gemv" ? 3 : 37}};
}

std::string formatTime(double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%d:%02d", int(seconds) / 60,
                int(seconds) % 60);
  return text;
}

/// "0.412 ms" or "87.3 us".
std::string formatMs(double milliseconds) {
  char text[32];
  if (milliseconds < 1)
    std::snprintf(text, sizeof(text), "%.1f us", milliseconds * 1000);
  else
    std::snprintf(text, sizeof(text), "%.3f ms", milliseconds);
  return text;
}

} // namespace

std::vector<TuneSummary>
attnc::schedules::tune(const std::vector<k::KernelSpec> &kernels,
                       const TuneOptions &options) {
  TuningDB db = TuningDB::load(options.dbPath);
  std::string machine = machineFingerprint();
  Halide::Target target = options.target == "host"
                              ? Halide::get_host_target()
                              : Halide::Target(options.target);
  std::string targetText = target.to_string();
  std::mt19937_64 random(options.seed);
  auto log = [&](const std::string &line) {
    if (options.log)
      options.log(line);
  };

  // One search per (kernel, shape class), and for the general algorithm of
  // families with length buckets one per length, so that each length can
  // find its own winner. Every search and every cross-check of a kernel's
  // winners gets an equal share of the budget.
  struct Job {
    const k::KernelSpec *spec;
    std::string shapeClass;
    std::vector<int64_t> lengths;
    bool crossCheck =
        false; ///< Measure the kernel's length winners at every length.
  };
  std::vector<Job> work;
  for (const k::KernelSpec &spec : kernels) {
    ScheduleParams defaults =
        defaultParams(spec.familyName(), classify(target));
    for (const ShapeClass &shape :
         shapeClassesOf(spec.familyName(), defaults)) {
      bool buckets = shape.algorithm.empty() && options.lengths.size() > 1 &&
                     !bucketDimensionOf(spec.familyName()).empty();
      if (!buckets) {
        work.push_back({&spec, shape.algorithm, options.lengths});
        continue;
      }
      for (int64_t length : options.lengths)
        work.push_back({&spec, shape.algorithm, {length}});
      work.push_back({&spec, shape.algorithm, options.lengths, true});
    }
  }
  auto start = Clock::now();
  std::vector<TuneSummary> summaries;
  std::vector<ScheduleParams> winners; // of the kernel being tuned
  for (size_t w = 0; w < work.size(); ++w) {
    const k::KernelSpec &spec = *work[w].spec;
    const std::string &shapeClass = work[w].shapeClass;
    std::string family = spec.familyName();
    ScheduleParams defaults = defaultParams(family, classify(target));
    std::vector<Shape> shapes = timedShapes(spec, shapeClass, work[w].lengths);
    Shape checked = checkedShape(spec, shapeClass);
    double elapsed =
        std::chrono::duration<double>(Clock::now() - start).count();
    double share = (options.budgetSeconds - elapsed) / double(work.size() - w);
    auto deadline =
        Clock::now() + std::chrono::milliseconds(int64_t(share * 1000));

    std::string label =
        spec.name() + (shapeClass.empty() ? "" : " " + shapeClass);
    TuneSummary summary{spec.name(), shapeClass, "", 0, 0, 0, 0};
    if (work[w].lengths.size() == 1 && shapes.size() == 1)
      summary.shape = describeShape(shapes[0]);
    // Measures a batch of parameter sets on every timed shape; returns the
    // total time per set (infinity if any shape failed).
    auto evaluate = [&](const std::vector<ScheduleParams> &sets) {
      std::vector<Candidate> todo;
      for (size_t s = 0; s < sets.size(); ++s)
        for (size_t h = 0; h < shapes.size(); ++h)
          if (!db.find(spec.canonical(), targetText, machine,
                       describeShape(shapes[h]), shapeClass, sets[s]))
            todo.push_back({spec, shapeClass, sets[s], shapes[h], checked});
      std::vector<Outcome> outcomes =
          measure(todo, options.target, options.jobs, options.threads,
                  options.timeoutSeconds);
      for (size_t i = 0; i < todo.size(); ++i) {
        Measurement m{spec.canonical(),
                      spec.name(),
                      targetText,
                      machine,
                      describeShape(todo[i].timed),
                      shapeClass,
                      todo[i].params,
                      outcomes[i].status,
                      outcomes[i].milliseconds,
                      outcomes[i].detail};
        db.add(m);
        summary.tried += 1;
        summary.failed += outcomes[i].status != "ok";
      }
      if (!todo.empty())
        db.save(options.dbPath); // after every batch: resumable
      std::vector<double> totals(sets.size(), 0.0);
      for (size_t s = 0; s < sets.size(); ++s)
        for (const Shape &shape : shapes) {
          const Measurement *m =
              db.find(spec.canonical(), targetText, machine,
                      describeShape(shape), shapeClass, sets[s]);
          totals[s] += m && m->status == "ok" ? m->milliseconds : INFINITY;
        }
      return totals;
    };

    if (work[w].crossCheck) {
      // Each length's winner at every length: what attnc compile needs to
      // choose one general schedule and the buckets that beat it.
      std::vector<double> times = evaluate(winners);
      summary.defaultMs = evaluate({defaults})[0];
      summary.bestMs = *std::min_element(times.begin(), times.end());
      summary.shape = "all lengths";
      log("[" + std::to_string(w + 1) + "/" + std::to_string(work.size()) +
          "] " + label + ": length winners cross-checked, " +
          std::to_string(summary.tried) + " measured");
      summaries.push_back(summary);
      winners.clear();
      continue;
    }

    double defaultTime = evaluate({defaults})[0];
    summary.defaultMs = defaultTime;
    std::vector<std::pair<double, ScheduleParams>> population = {
        {defaultTime, defaults}};
    // Seed with Halide's autoscheduler where the family offers it.
    for (const Knob &knob : knobsOf(family))
      if (knob.name == "autoschedule" && shapeClass.empty()) {
        ScheduleParams seeded = defaults;
        seeded.set("autoschedule", 1);
        population.push_back({evaluate({seeded})[0], seeded});
      }
    std::vector<const Knob *> tunable;
    for (const Knob &knob : knobsOf(family))
      if (knobBelongs(knob.name, shapeClass) && knob.candidates.size() > 1)
        tunable.push_back(&knob);

    auto byTime = [](const auto &a, const auto &b) {
      return a.first < b.first;
    };
    std::set<std::string> seen;
    for (const auto &entry : population)
      seen.insert(entry.second.toJSON());
    int stale = 0;
    while (Clock::now() < deadline && !tunable.empty() && stale < 8) {
      std::sort(population.begin(), population.end(), byTime);
      size_t parents = std::min<size_t>(3, population.size());
      std::vector<ScheduleParams> children;
      for (int attempt = 0; attempt < 40 && children.size() < options.jobs;
           ++attempt) {
        ScheduleParams child = population[random() % parents].second;
        int mutations = 1 + int(random() % 2);
        for (int m = 0; m < mutations; ++m) {
          const Knob &knob = *tunable[random() % tunable.size()];
          child.set(knob.name,
                    knob.candidates[random() % knob.candidates.size()]);
        }
        if (seen.insert(child.toJSON()).second)
          children.push_back(child);
      }
      if (children.empty())
        break; // Nothing new nearby.
      std::vector<double> times = evaluate(children);
      double bestBefore = population.front().first;
      for (size_t i = 0; i < children.size(); ++i)
        population.push_back({times[i], children[i]});
      std::sort(population.begin(), population.end(), byTime);
      stale = population.front().first < bestBefore * 0.995 ? 0 : stale + 1;
      if (options.progressBar) {
        double left =
            options.budgetSeconds -
            std::chrono::duration<double>(Clock::now() - start).count();
        std::fprintf(stderr,
                     "\r\033[K[%zu/%zu] %s%s: %d tried, best %s (%.2fx "
                     "the default), %s left",
                     w + 1, work.size(), label.c_str(),
                     summary.shape.empty() ? "" : (" " + summary.shape).c_str(),
                     summary.tried, formatMs(population.front().first).c_str(),
                     defaultTime / population.front().first,
                     formatTime(std::max(0.0, left)).c_str());
        std::fflush(stderr);
      }
    }
    std::sort(population.begin(), population.end(), byTime);
    summary.bestMs = population.front().first;
    if (std::isfinite(summary.bestMs) &&
        std::find(winners.begin(), winners.end(), population.front().second) ==
            winners.end())
      winners.push_back(population.front().second);
    if (options.progressBar)
      std::fprintf(stderr, "\r\033[K");
    log("[" + std::to_string(w + 1) + "/" + std::to_string(work.size()) + "] " +
        label + (summary.shape.empty() ? "" : " " + summary.shape) + ": " +
        std::to_string(summary.tried) + " measured, " +
        std::to_string(summary.failed) + " failed");
    summaries.push_back(summary);
    // Winners are kept for the cross-check of this kernel and shape class.
    if (w + 1 == work.size() || work[w + 1].spec != &spec ||
        work[w + 1].shapeClass != shapeClass)
      winners.clear();
  }
  return summaries;
}
