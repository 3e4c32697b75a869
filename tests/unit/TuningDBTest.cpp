//===- TuningDBTest.cpp - The tuning database and the plans it yields -----===//
//
// Save/load/merge of the JSON database, its errors, and tunedPlan: which
// parameters attnc compile picks and when it adds a length bucket. The
// measurements are made up, so every decision is known in advance. Also
// the lengths `attnc tune --lengths` takes.
//
//===----------------------------------------------------------------------===//

#include "attnc/Schedules/TuningDB.h"
#include "attnc/Schedules/Schedules.h"
#include "attnc/Schedules/Tuner.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace attnc::schedules;

namespace {

const char *kTarget = "x86-64-linux-avx-avx2-f16c-fma-sse41";
const char *kMachine = "Test CPU | avx2 | 2 cores";

ScheduleParams layerNorm(int64_t rowsPerTask, int64_t vector = 8) {
  return ScheduleParams("layernorm", {{"vector", vector},
                                      {"rows_per_task", rowsPerTask},
                                      {"autoschedule", 0}});
}

Measurement at(int64_t rows, const ScheduleParams &params, double ms,
               std::string status = "ok") {
  return {"layernorm d=64",
          "layernorm_64",
          kTarget,
          kMachine,
          "rows=" + std::to_string(rows),
          "",
          params,
          status,
          ms,
          ""};
}

std::string tempPath(const std::string &name) {
  return "/tmp/attnc-tuningdb-test-" + std::to_string(getpid()) + "-" + name;
}

TEST(TuningDB, SaveLoadRoundTripAndMergeIsAUnion) {
  TuningDB db;
  db.add(at(16, layerNorm(4), 0.5));
  db.add(at(16, layerNorm(64), 0.0, "timeout"));
  std::string path = tempPath("a.json");
  db.save(path);
  TuningDB loaded = TuningDB::load(path);
  ASSERT_EQ(loaded.all().size(), 2u);
  EXPECT_EQ(loaded.all()[0].params, layerNorm(4));
  EXPECT_DOUBLE_EQ(loaded.all()[0].milliseconds, 0.5);
  EXPECT_EQ(loaded.all()[1].status, "timeout");

  TuningDB other;
  other.add(at(16, layerNorm(4), 0.7)); // same key: kept once
  other.add(at(512, layerNorm(4), 3.0));
  loaded.merge(other);
  EXPECT_EQ(loaded.all().size(), 3u);
  std::remove(path.c_str());
}

TEST(TuningDB, AMissingFileIsEmptyAndACorruptOneIsAnErrorNamingIt) {
  EXPECT_TRUE(TuningDB::load(tempPath("absent.json")).all().empty());
  std::string path = tempPath("corrupt.json");
  std::ofstream(path) << "{\"format\": \"attnc-tuning-db\", \"entries\": [";
  try {
    TuningDB::load(path);
    FAIL() << "a truncated database loaded";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(TunedPlan, NoMeasurementsMeansTheDefaults) {
  auto [plan, tuned] = tunedPlan(TuningDB(), "layernorm d=64", "layernorm",
                                 kTarget, kMachine, layerNorm(4));
  EXPECT_FALSE(tuned);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].params, layerNorm(4));
}

TEST(TunedPlan, GeneralIsBestOverAllLengthsAndABucketWinsWhereItPays) {
  TuningDB db;
  // rows_per_task 64 wins in total (long inputs dominate); 1 is 2x faster
  // at 16 rows; at 128 rows the two are within 5%, so no bucket there.
  db.add(at(16, layerNorm(64), 0.020));
  db.add(at(128, layerNorm(64), 0.100));
  db.add(at(1024, layerNorm(64), 1.000));
  db.add(at(16, layerNorm(1), 0.010));
  db.add(at(128, layerNorm(1), 0.098));
  db.add(at(1024, layerNorm(1), 2.000));
  db.add(at(16, layerNorm(4), 0.030, "wrong")); // never chosen
  auto [plan, tuned] = tunedPlan(db, "layernorm d=64", "layernorm", kTarget,
                                 kMachine, layerNorm(4));
  EXPECT_TRUE(tuned);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].shape.name, "upto45"); // sqrt(16 * 128)
  EXPECT_EQ(plan[0].shape.dimension, "rows");
  EXPECT_EQ(plan[0].shape.maxExtent, 45);
  EXPECT_EQ(plan[0].params, layerNorm(1));
  EXPECT_EQ(plan[1].shape.name, "");
  EXPECT_EQ(plan[1].params, layerNorm(64));
}

TEST(TunedPlan, OnlyParametersMeasuredAtEveryLengthCanBeGeneral) {
  TuningDB db;
  db.add(at(16, layerNorm(64), 0.020));
  db.add(at(1024, layerNorm(64), 1.000));
  db.add(at(1024, layerNorm(8), 0.500)); // faster, but never run at 16 rows
  auto [plan, tuned] = tunedPlan(db, "layernorm d=64", "layernorm", kTarget,
                                 kMachine, layerNorm(4));
  EXPECT_TRUE(tuned);
  EXPECT_EQ(plan.back().params, layerNorm(64));
}

TEST(TunedPlan, AnotherMachinesMeasurementsServeWhenThisOneHasNone) {
  TuningDB db;
  Measurement m = at(16, layerNorm(32), 0.02);
  m.machine = "Other CPU | avx2 | 8 cores";
  db.add(m);
  auto [plan, tuned] = tunedPlan(db, "layernorm d=64", "layernorm", kTarget,
                                 kMachine, layerNorm(4));
  EXPECT_TRUE(tuned);
  EXPECT_EQ(plan.back().params, layerNorm(32));
  // Another target's measurements never do.
  auto [other, otherTuned] = tunedPlan(db, "layernorm d=64", "layernorm",
                                       "arm-64-linux", kMachine, layerNorm(4));
  EXPECT_FALSE(otherTuned);
}

TEST(TuneLengths, RowsOrQueriesColonKeys) {
  std::optional<TuneLength> self = parseTuneLength("128");
  ASSERT_TRUE(self);
  EXPECT_EQ(self->rows, 128);
  EXPECT_EQ(self->keys, 0);
  std::optional<TuneLength> cross = parseTuneLength("50:700");
  ASSERT_TRUE(cross);
  EXPECT_EQ(cross->rows, 50);
  EXPECT_EQ(cross->keys, 700);
  for (const char *bad : {"", "0", "-3", "12a", "50:", ":700", "50:0", "50:7:7",
                          "1e3", "99999999999999999999"})
    EXPECT_FALSE(parseTuneLength(bad)) << "'" << bad << "'";
}

TEST(TunedPlan, OnceConfirmedOnlyConfirmedEntriesAreChosen) {
  // rows_per_task 1 was timed once, fast by chance; 64 and the defaults (4)
  // were timed again beside each other at the end of the search.
  auto confirmed = [](Measurement m) {
    m.confirmed = true;
    return m;
  };
  TuningDB db;
  db.add(confirmed(at(16, layerNorm(4), 0.030)));
  db.add(confirmed(at(1024, layerNorm(4), 1.500)));
  db.add(confirmed(at(16, layerNorm(64), 0.020)));
  db.add(confirmed(at(1024, layerNorm(64), 1.000)));
  db.add(at(16, layerNorm(1), 0.005));
  db.add(at(1024, layerNorm(1), 0.500));
  auto [plan, tuned] = tunedPlan(db, "layernorm d=64", "layernorm", kTarget,
                                 kMachine, layerNorm(4));
  EXPECT_TRUE(tuned);
  ASSERT_EQ(plan.size(), 1u); // No bucket for the unconfirmed winner at 16.
  EXPECT_EQ(plan.back().params, layerNorm(64));
  EXPECT_FALSE(db.choosable(db.all()[4]));
  EXPECT_TRUE(db.choosable(db.all()[0]));

  // The flag survives a save and a load.
  std::string path = tempPath("confirmed.json");
  db.save(path);
  TuningDB loaded = TuningDB::load(path);
  std::remove(path.c_str());
  ASSERT_EQ(loaded.all().size(), 6u);
  EXPECT_TRUE(loaded.all()[0].confirmed);
  EXPECT_FALSE(loaded.all()[4].confirmed);
}

TEST(TunedPlan, ABucketNeverTakesOverALengthWhereItIsSlower) {
  // At 128 rows, rows_per_task 1 is 2x faster than the general 64; at 16
  // rows, which no bucket of its own claims (64 is best there), it is
  // slower. A bucket "upto362" would run it at 16 rows: not allowed, and
  // rows_per_task 16, faster at 128 and no slower at 16, takes its place.
  TuningDB db;
  db.add(at(16, layerNorm(64), 0.020));
  db.add(at(128, layerNorm(64), 0.200));
  db.add(at(1024, layerNorm(64), 1.000));
  db.add(at(16, layerNorm(1), 0.040));
  db.add(at(128, layerNorm(1), 0.100));
  db.add(at(1024, layerNorm(1), 3.000));
  auto [plan, tuned] = tunedPlan(db, "layernorm d=64", "layernorm", kTarget,
                                 kMachine, layerNorm(4));
  ASSERT_EQ(plan.size(), 1u); // Only the general schedule.
  EXPECT_EQ(plan.back().params, layerNorm(64));

  db.add(at(16, layerNorm(16), 0.020));
  db.add(at(128, layerNorm(16), 0.150));
  db.add(at(1024, layerNorm(16), 2.000));
  auto [safer, again] = tunedPlan(db, "layernorm d=64", "layernorm", kTarget,
                                  kMachine, layerNorm(4));
  ASSERT_EQ(safer.size(), 2u);
  EXPECT_EQ(safer[0].shape.maxExtent, 362); // sqrt(128 * 1024)
  EXPECT_EQ(safer[0].params, layerNorm(16));
  EXPECT_EQ(safer[1].params, layerNorm(64));
}

std::vector<std::string> namesOf(const KernelPlan &plan) {
  std::vector<std::string> names;
  for (const Variant &v : plan)
    names.push_back(v.shape.name);
  return names;
}

TEST(ShapeClasses, ShortAttentionIsBoundedByTheLongerOfQueriesAndKeys) {
  ScheduleParams cpu = defaultParams("attention", TargetClass::X86AVX2);
  std::vector<ShapeClass> classes = shapeClassesOf("attention", cpu);
  ASSERT_EQ(classes.size(), 3u); // decode, short, general
  EXPECT_EQ(classes[1].name, "short");
  EXPECT_EQ(classes[1].dimension, "length");
  EXPECT_EQ(classes[1].maxExtent, cpu.get("short_len"));
  // Cross-attention of 128 queries over 1024 keys is not short.
  std::map<std::string, int64_t> cross = {
      {"batch", 1}, {"q_len", 128}, {"kv_len", 1024}};
  EXPECT_EQ(extentOf("length", cross), 1024);
  EXPECT_EQ(extentOf("q_len", cross), 128);
  EXPECT_EQ(extentOf("rows", cross), -1);
  // GPU classes have no short variant.
  ScheduleParams gpu = defaultParams("attention", TargetClass::CUDA);
  EXPECT_EQ(shapeClassesOf("attention", gpu).size(), 2u);
}

TEST(ShapeClasses, OneRowGemvForNarrowWeightsOnly) {
  namespace k = attnc::kernels;
  auto linear = [](k::WeightType weights) {
    return k::KernelSpec{
        k::LinearSpec{512, 512, true, k::Activation::None, weights}};
  };
  auto plan = [&](k::WeightType weights, TargetClass target) {
    return defaultPlan("linear", defaultParamsFor(linear(weights), target));
  };
  KernelPlan bf16 = plan(k::WeightType::BF16, TargetClass::X86AVX512);
  ASSERT_EQ(namesOf(bf16), (std::vector<std::string>{"gemv1", "gemv", ""}));
  EXPECT_EQ(bf16[0].shape.dimension, "rows");
  EXPECT_EQ(bf16[0].shape.maxExtent, 1);
  EXPECT_EQ(bf16[0].shape.algorithm, "gemv");
  EXPECT_EQ(bf16[0].params.get("gemv_block_n"),
            bf16[0].params.get("gemv1_block_n"));
  EXPECT_EQ(bf16[0].params.get("gemv_panels"),
            bf16[0].params.get("gemv1_panels"));
  EXPECT_NE(bf16[0].params.get("gemv_panels"),
            bf16[1].params.get("gemv_panels"));
  // f32 weights, and targets whose defaults leave gemv1_panels at 0: one
  // row takes the GEMV.
  EXPECT_EQ(namesOf(plan(k::WeightType::F32, TargetClass::X86AVX512)),
            (std::vector<std::string>{"gemv", ""}));
  EXPECT_EQ(namesOf(plan(k::WeightType::I8, TargetClass::CUDA)),
            (std::vector<std::string>{"gemv", ""}));
  // No search varies the gemv1 knobs: they belong to no class.
  EXPECT_FALSE(knobOfAlgorithm("gemv1_panels", "gemv"));
  EXPECT_FALSE(knobOfAlgorithm("gemv1_panels", ""));
}

/// A measurement of the attention kernel "attention k" at `length`
/// queries and keys.
Measurement timed(int64_t length, const ScheduleParams &params, double ms) {
  std::string n = std::to_string(length);
  return {"attention k",
          "attention_k",
          kTarget,
          kMachine,
          "batch=1 kv_len=" + n + " q_len=" + n,
          "",
          params,
          "ok",
          ms,
          ""};
}

TEST(TunedPlan, MeasuredLengthBucketsReplaceTheDefaultShortBucket) {
  ScheduleParams defaults = defaultParams("attention", TargetClass::X86AVX2);
  ScheduleParams small = defaults;
  small.set("q_tile", 16);
  TuningDB db;
  db.add(timed(64, defaults, 1.0));
  db.add(timed(1024, defaults, 10.0));
  db.add(timed(64, small, 1.2)); // No bucket: the short one stays.
  db.add(timed(1024, small, 20.0));
  auto [plan, tuned] =
      tunedPlan(db, "attention k", "attention", kTarget, kMachine, defaults);
  EXPECT_TRUE(tuned);
  EXPECT_EQ(namesOf(plan), (std::vector<std::string>{"decode", "short", ""}));

  // 0.5 ms against the general schedule's 1.0 at 64 tokens, but what runs
  // there untuned is the short class, never measured: no evidence.
  db.add(timed(64, small, 0.5));
  auto [unproven, once] =
      tunedPlan(db, "attention k", "attention", kTarget, kMachine, defaults);
  EXPECT_EQ(namesOf(unproven),
            (std::vector<std::string>{"decode", "short", ""}));

  // Measured 5% slower than the short class's tiles: still no bucket.
  ScheduleParams shortTiles = withShortTiles(defaults);
  db.add(timed(64, shortTiles, 0.48));
  auto [slower, twice] =
      tunedPlan(db, "attention k", "attention", kTarget, kMachine, defaults);
  EXPECT_EQ(namesOf(slower), (std::vector<std::string>{"decode", "short", ""}));

  // Faster by more than 5%: a bucket up to 256 tokens, the short class's
  // bound, which leaves it nothing to serve.
  db.add(timed(64, shortTiles, 0.6));
  auto [bucketed, again] =
      tunedPlan(db, "attention k", "attention", kTarget, kMachine, defaults);
  EXPECT_EQ(namesOf(bucketed),
            (std::vector<std::string>{"decode", "upto256", ""}));
  EXPECT_EQ(bucketed[1].params.get("q_tile"), 16);
}

TEST(TunedPlan, ShortClassServesTheLengthsBucketsLeave) {
  ScheduleParams defaults = defaultParams("attention", TargetClass::X86AVX2);
  ScheduleParams small = defaults, shortTiles = withShortTiles(defaults);
  small.set("q_tile", 16);
  TuningDB db;
  db.add(timed(512, defaults, 10.0));
  db.add(timed(512, shortTiles, 12.0));
  db.add(timed(512, small, 20.0));
  db.add(timed(64, defaults, 1.0));
  db.add(timed(64, shortTiles, 0.8));
  db.add(timed(64, small, 0.5));
  // Bounded at sqrt(64 * 512) = 181 queries: the short class keeps 182 to
  // 256 tokens, and comes after the bucket in dispatch order.
  auto [plan, tuned] =
      tunedPlan(db, "attention k", "attention", kTarget, kMachine, defaults);
  EXPECT_EQ(namesOf(plan),
            (std::vector<std::string>{"decode", "upto181", "short", ""}));
}

} // namespace
