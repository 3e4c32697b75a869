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

/// Representative shapes of one shape class: the timed one per length
/// (gemv: 1 and 8 rows).
std::vector<Shape> timedShapes(const k::KernelSpec &spec,
                               const std::string &shapeClass,
                               const std::vector<TuneLength> &lengths) {
  // The gemv class at one sequence's decoding step and at a batch of 8
  // sentences' (its row tiles), whatever the sequence lengths.
  if (shapeClass == "gemv")
    return {{{"rows", 1}}, {{"rows", 8}}};
  std::vector<Shape> shapes;
  bool attention = std::holds_alternative<k::AttentionSpec>(spec.family);
  bool embedding = std::holds_alternative<k::EmbeddingSpec>(spec.family);
  for (const TuneLength &length : lengths) {
    int64_t keys = length.keys > 0 ? length.keys : length.rows;
    if (attention)
      shapes.push_back({{"batch", 1},
                        {"q_len", shapeClass == "decode" ? 1 : length.rows},
                        {"kv_len", keys}});
    else if (embedding)
      shapes.push_back({{"batch", 1}, {"length", length.rows}});
    else
      shapes.push_back({{"rows", length.rows}});
  }
  return shapes;
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

std::optional<TuneLength>
attnc::schedules::parseTuneLength(const std::string &text) {
  auto number = [](const std::string &digits) -> int64_t {
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      return 0;
    return std::stoll(digits);
  };
  size_t colon = text.find(':');
  TuneLength length{number(text.substr(0, colon)), 0};
  if (colon != std::string::npos)
    length.keys = number(text.substr(colon + 1));
  if (length.rows <= 0 || (colon != std::string::npos && length.keys <= 0))
    return std::nullopt;
  return length;
}

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

  // One search per (kernel, shape class), every candidate timed at every
  // length after one compile; each search gets an equal share of the budget.
  struct Job {
    const k::KernelSpec *spec;
    std::string shapeClass;
  };
  std::vector<Job> work;
  for (const k::KernelSpec &spec : kernels) {
    ScheduleParams defaults = defaultParamsFor(spec, classify(target));
    for (const ShapeClass &shape : shapeClassesOf(spec.familyName(), defaults))
      // The short class is a default length bucket: the search's own length
      // buckets (Plan.cpp) take its place in a tuned plan.
      if (shape.algorithm != "short" &&
          (options.variants.empty() ||
           std::count(options.variants.begin(), options.variants.end(),
                      shape.algorithm.empty() ? "general" : shape.algorithm)))
        work.push_back({&spec, shape.algorithm});
  }
  auto start = Clock::now();
  std::vector<TuneSummary> summaries;
  for (size_t w = 0; w < work.size(); ++w) {
    const k::KernelSpec &spec = *work[w].spec;
    const std::string &shapeClass = work[w].shapeClass;
    std::string family = spec.familyName();
    ScheduleParams defaults = defaultParamsFor(spec, classify(target));
    std::vector<Shape> shapes = timedShapes(spec, shapeClass, options.lengths);
    // What attnc compile runs without tuning: the defaults, and at the
    // lengths the default short class serves, the general algorithm with
    // its tiles (a length bucket must beat that, Plan.cpp). Both are timed
    // first and confirmed like the finalists.
    std::vector<ScheduleParams> bases = {defaults};
    std::vector<bool> shortServes(shapes.size(), false);
    for (const ShapeClass &shape : shapeClassesOf(family, defaults))
      if (shape.algorithm == "short" && shapeClass.empty()) {
        ScheduleParams shortTiles = withShortTiles(defaults);
        if (!(shortTiles == defaults))
          bases.push_back(shortTiles);
        for (size_t h = 0; h < shapes.size(); ++h)
          shortServes[h] =
              extentOf(shape.dimension, shapes[h]) <= shape.maxExtent;
      }
    double elapsed =
        std::chrono::duration<double>(Clock::now() - start).count();
    double share = (options.budgetSeconds - elapsed) / double(work.size() - w);
    auto deadline =
        Clock::now() + std::chrono::milliseconds(int64_t(share * 1000));
    std::string label =
        spec.name() + (shapeClass.empty() ? "" : " " + shapeClass);
    int tried = 0, failed = 0;
    // The budget is kept, not overrun by a batch: the next batch starts
    // only if one as long as the last still ends before the deadline.
    // Two batches of it are kept for the confirmation at the end.
    Clock::duration lastBatch{0};
    auto roomForABatch = [&] {
      return Clock::now() + 3 * lastBatch < deadline;
    };

    // This search's database entry for `set` at `shape`, or null.
    auto known = [&](const ScheduleParams &set,
                     const Shape &shape) -> Measurement * {
      return db.find(spec.canonical(), targetText, machine,
                     describeShape(shape), shapeClass, set);
    };

    // Times of parameter sets at every shape (infinity where a shape
    // failed), from the database or measured now: one candidate per set
    // with the shapes not yet in the database.
    auto evaluate = [&](const std::vector<ScheduleParams> &sets) {
      std::vector<Candidate> todo;
      for (const ScheduleParams &set : sets) {
        Candidate c{spec, shapeClass, set, {}};
        for (const Shape &shape : shapes)
          if (!known(set, shape))
            c.timed.push_back(shape);
        if (!c.timed.empty())
          todo.push_back(c);
      }
      auto batchStart = Clock::now();
      std::vector<Outcome> outcomes =
          measure(todo, options.target, options.jobs, options.threads,
                  options.timeoutSeconds);
      if (!todo.empty())
        lastBatch = Clock::now() - batchStart;
      for (size_t i = 0; i < todo.size(); ++i) {
        const Outcome &o = outcomes[i];
        for (size_t h = 0; h < todo[i].timed.size(); ++h) {
          bool ok = o.status == "ok" && h < o.milliseconds.size();
          db.add({spec.canonical(), spec.name(), targetText, machine,
                  describeShape(todo[i].timed[h]), shapeClass, todo[i].params,
                  ok ? o.status : (o.status == "ok" ? "failed" : o.status),
                  ok ? o.milliseconds[h] : 0, o.detail});
        }
        tried += 1;
        failed += o.status != "ok";
      }
      if (!todo.empty())
        db.save(options.dbPath); // after every batch: resumable
      std::vector<std::vector<double>> times;
      for (const ScheduleParams &set : sets) {
        times.emplace_back();
        for (const Shape &shape : shapes) {
          const Measurement *m = known(set, shape);
          times.back().push_back(m && m->status == "ok" ? m->milliseconds
                                                        : INFINITY);
        }
      }
      return times;
    };

    // A set's score: the geometric mean of its time over the default's at
    // each shape, so that short and long lengths count alike. Infinite if
    // the set failed anywhere; where the defaults failed, the time itself
    // stands in for the ratio (finite beats failed).
    std::vector<double> defaultTimes;
    auto score = [&](const std::vector<double> &times) {
      double logSum = 0;
      for (size_t h = 0; h < times.size(); ++h) {
        if (!std::isfinite(times[h]))
          return double(INFINITY);
        double base = std::isfinite(defaultTimes[h]) ? defaultTimes[h] : 1.0;
        logSum += std::log(times[h] / base);
      }
      return std::exp(logSum / double(times.size()));
    };
    struct Member {
      double score;
      ScheduleParams params;
      std::vector<double> times;
    };
    std::vector<Member> population;
    std::vector<const Knob *> tunable;
    for (const Knob &knob : knobsOf(family))
      if (knobBelongs(knob.name, shapeClass) && knob.candidates.size() > 1)
        tunable.push_back(&knob);

    auto byScore = [](const Member &a, const Member &b) {
      return a.score < b.score;
    };
    // The confirmation: one timing of a configuration is fast or slow
    // partly by chance, and a default timed slow once makes anything look
    // better. The finalists (the best overall and the fastest at each
    // length) and the bases are timed once more, side by side; the
    // database keeps the bases' faster time and each finalist's slower
    // one, so attnc compile picks a finalist only for a gain seen twice.
    auto confirm = [&](std::vector<Member> &members) {
      std::sort(members.begin(), members.end(), byScore);
      std::vector<ScheduleParams> finalists;
      auto consider = [&](const ScheduleParams &p) {
        if (std::find(bases.begin(), bases.end(), p) == bases.end() &&
            finalists.size() < 2 * options.jobs - 1 &&
            std::find(finalists.begin(), finalists.end(), p) == finalists.end())
          finalists.push_back(p);
      };
      if (std::isfinite(members.front().score))
        consider(members.front().params);
      for (size_t h = 0; h < shapes.size(); ++h) {
        auto fastest = std::min_element(members.begin(), members.end(),
                                        [&](const auto &a, const auto &b) {
                                          return a.times[h] < b.times[h];
                                        });
        if (std::isfinite(fastest->times[h]))
          consider(fastest->params);
      }
      auto confirmedEverywhere = [&](const ScheduleParams &p) {
        for (const Shape &shape : shapes) {
          const Measurement *m = known(p, shape);
          if (!m || !m->confirmed)
            return false;
        }
        return true;
      };
      if (finalists.empty() ||
          (std::all_of(bases.begin(), bases.end(), confirmedEverywhere) &&
           std::all_of(finalists.begin(), finalists.end(),
                       confirmedEverywhere)))
        return; // Nothing new to confirm (a resumed run).
      std::vector<Candidate> again;
      for (const ScheduleParams &p : bases)
        again.push_back({spec, shapeClass, p, shapes});
      for (const ScheduleParams &p : finalists)
        again.push_back({spec, shapeClass, p, shapes});
      std::vector<Outcome> outcomes =
          measure(again, options.target, options.jobs, options.threads,
                  options.timeoutSeconds);
      for (size_t i = 0; i < again.size(); ++i)
        for (size_t h = 0; h < shapes.size(); ++h) {
          Measurement *m = known(again[i].params, shapes[h]);
          if (!m || m->status != "ok")
            continue;
          bool ok =
              outcomes[i].status == "ok" && h < outcomes[i].milliseconds.size();
          double now = ok ? outcomes[i].milliseconds[h] : INFINITY;
          if (i < bases.size())
            m->milliseconds = std::min(m->milliseconds, now);
          else if (ok)
            m->milliseconds = std::max(m->milliseconds, now);
          else
            m->status = outcomes[i].status; // Failed when timed again.
          m->confirmed = true;
        }
      db.save(options.dbPath);
      for (Member &member : members)
        for (size_t h = 0; h < shapes.size(); ++h)
          if (const Measurement *m = known(member.params, shapes[h]))
            member.times[h] = m->status == "ok" ? m->milliseconds : INFINITY;
      for (const Member &member : members)
        if (member.params == defaults)
          defaultTimes = member.times;
      for (Member &member : members)
        member.score = score(member.times);
    };

    // The opening: the defaults, Halide's autoscheduler where the family
    // offers it, then every value of the structural knobs alone, from the
    // defaults. Timed `jobs` at a time with the defaults in the first batch,
    // so that no compile slot idles while the defaults compile.
    std::set<std::string> seen;
    std::vector<ScheduleParams> opening;
    auto open = [&](const ScheduleParams &set) {
      if (seen.insert(set.toJSON()).second)
        opening.push_back(set);
    };
    for (const ScheduleParams &base : bases)
      open(base);
    for (const Knob &knob : knobsOf(family))
      if (knob.name == "autoschedule" && shapeClass.empty()) {
        ScheduleParams seeded = defaults;
        seeded.set("autoschedule", 1);
        open(seeded);
      }
    for (const Knob *knob : tunable)
      if (knob->sweptFirst)
        for (int64_t value : knob->candidates) {
          ScheduleParams set = defaults;
          set.set(knob->name, value);
          open(set);
        }
    for (size_t at = 0; at < opening.size() && (at == 0 || roomForABatch());
         at += options.jobs) {
      std::vector<ScheduleParams> batch(
          opening.begin() + at,
          opening.begin() + std::min(opening.size(), at + options.jobs));
      std::vector<std::vector<double>> times = evaluate(batch);
      if (at == 0)
        defaultTimes = times[0]; // Before any score.
      for (size_t i = 0; i < batch.size(); ++i)
        population.push_back({score(times[i]), batch[i], times[i]});
    }
    int stale = 0;
    while (roomForABatch() && !tunable.empty() && stale < 8) {
      std::sort(population.begin(), population.end(), byScore);
      size_t parents = std::min<size_t>(3, population.size());
      std::vector<ScheduleParams> children;
      for (int attempt = 0; attempt < 40 && children.size() < options.jobs;
           ++attempt) {
        ScheduleParams child = population[random() % parents].params;
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
      std::vector<std::vector<double>> times = evaluate(children);
      double bestBefore = population.front().score;
      for (size_t i = 0; i < children.size(); ++i)
        population.push_back({score(times[i]), children[i], times[i]});
      std::sort(population.begin(), population.end(), byScore);
      stale = population.front().score < bestBefore * 0.995 ? 0 : stale + 1;
      if (options.progressBar) {
        double left =
            options.budgetSeconds -
            std::chrono::duration<double>(Clock::now() - start).count();
        std::fprintf(stderr,
                     "\r\033[K[%zu/%zu] %s: %d tried, best %.2fx the "
                     "default (geometric mean over lengths), %s left",
                     w + 1, work.size(), label.c_str(), tried,
                     1.0 / population.front().score,
                     formatTime(std::max(0.0, left)).c_str());
        std::fflush(stderr);
      }
    }
    confirm(population);
    if (options.progressBar)
      std::fprintf(stderr, "\r\033[K");
    log("[" + std::to_string(w + 1) + "/" + std::to_string(work.size()) + "] " +
        label + ": " + std::to_string(tried) + " measured, " +
        std::to_string(failed) + " failed");
    // One row per length: what runs without tuning against the fastest at
    // that length (the general schedule and the length buckets attnc
    // compile derives come from the same measurements).
    const Member *shortBase = nullptr;
    for (const Member &m : population)
      if (bases.size() > 1 && m.params == bases.back())
        shortBase = &m;
    for (size_t h = 0; h < shapes.size(); ++h) {
      double untuned =
          shortServes[h] && shortBase ? shortBase->times[h] : defaultTimes[h];
      TuneSummary summary{spec.name(), shapeClass, describeShape(shapes[h]),
                          untuned,     INFINITY,   tried,
                          failed};
      for (const Member &m : population) {
        const Measurement *entry = known(m.params, shapes[h]);
        if (entry && db.choosable(*entry))
          summary.bestMs = std::min(summary.bestMs, m.times[h]);
      }
      summaries.push_back(summary);
    }
  }
  return summaries;
}

std::vector<RecheckRow>
attnc::schedules::recheck(const std::vector<k::KernelSpec> &kernels,
                          const TuneOptions &options, int rounds) {
  TuningDB db = TuningDB::load(options.dbPath);
  std::string machine = machineFingerprint();
  Halide::Target target = options.target == "host"
                              ? Halide::get_host_target()
                              : Halide::Target(options.target);
  std::vector<RecheckRow> rows;
  for (const k::KernelSpec &spec : kernels) {
    std::string family = spec.familyName();
    ScheduleParams defaults = defaultParamsFor(spec, classify(target));
    KernelPlan plan = tunedPlan(db, spec.canonical(), family,
                                target.to_string(), machine, defaults)
                          .first;
    KernelPlan untuned = defaultPlan(family, defaults);
    for (const Shape &shape : timedShapes(spec, "", options.lengths)) {
      // The function a call of this shape runs: the first whose bound it
      // meets (the general one has none).
      auto runs = [&](const KernelPlan &functions) -> const Variant * {
        for (const Variant &v : functions)
          if (v.shape.dimension.empty() ||
              (extentOf(v.shape.dimension, shape) >= 0 &&
               extentOf(v.shape.dimension, shape) <= v.shape.maxExtent))
            return &v;
        return &functions.back();
      };
      const Variant *chosen = runs(plan), *byDefault = runs(untuned);
      auto lengthVariant = [](const Variant *v) {
        return v->shape.algorithm.empty() || v->shape.algorithm == "short";
      };
      if (!lengthVariant(chosen) || !lengthVariant(byDefault))
        continue; // A decode or GEMV call: not what this compares.
      Candidate base{
          spec, byDefault->shape.algorithm, byDefault->params, {shape}};
      Candidate tuned{spec, chosen->shape.algorithm, chosen->params, {shape}};
      std::vector<Candidate> alternating;
      for (int r = 0; r < rounds; ++r) {
        alternating.push_back(base);
        alternating.push_back(tuned);
      }
      std::vector<Outcome> outcomes =
          measure(alternating, options.target, options.jobs, options.threads,
                  options.timeoutSeconds);
      // The same parameters as the defaults: the row shows the noise.
      RecheckRow row{
          spec.name(), describeShape(shape),
          (chosen->shape.name.empty() ? "general" : chosen->shape.name) +
              (chosen->params == byDefault->params &&
                       chosen->shape.algorithm == byDefault->shape.algorithm
                   ? " (the defaults)"
                   : "")};
      std::vector<double> times[2];
      for (size_t i = 0; i < outcomes.size(); ++i) {
        if (outcomes[i].status == "ok" && !outcomes[i].milliseconds.empty())
          times[i % 2].push_back(outcomes[i].milliseconds[0]);
        else
          row.failed += 1;
      }
      auto median = [](std::vector<double> &t) {
        if (t.empty())
          return double(INFINITY);
        std::sort(t.begin(), t.end());
        return t[t.size() / 2];
      };
      row.defaultMs = median(times[0]);
      row.tunedMs = median(times[1]);
      rows.push_back(row);
      if (options.log)
        options.log(row.kernel + " " + row.shape + ": default " +
                    formatMs(row.defaultMs) + ", " + row.variant + " " +
                    formatMs(row.tunedMs));
    }
  }
  return rows;
}
