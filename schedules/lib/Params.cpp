//===- Params.cpp - Knobs, defaults and their JSON form -------------------===//
//
// The knob lists below are the search space of the tuner; defaults.json
// (embedded at build time as kDefaultsJSON) holds the values the schedules
// start from on each target class, with the machine and speed they were
// measured on.
//
//===----------------------------------------------------------------------===//

#include "attnc/Schedules/Params.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

using namespace attnc::schedules;
using nlohmann::json;

namespace attnc::schedules {
extern const char *const kDefaultsJSON; // DefaultsData.cpp, generated.
}

namespace {

const std::vector<Knob> kRowKnobs = {
    {"vector", "vector width in elements", {4, 8, 16}},
    {"rows_per_task",
     "rows each parallel task processes",
     {1, 4, 16, 64},
     true},
    {"autoschedule", "1: Halide's Mullapudi2016 autoscheduler instead", {0, 1}},
};

const std::map<std::string, std::vector<Knob>> &allKnobs() {
  static const std::map<std::string, std::vector<Knob>> knobs = {
      {"linear",
       {
           {"vector", "vector width in floats", {4, 8, 16}},
           {"tile_n",
            "register tile: output columns (a multiple of vector)",
            {8, 16, 24, 32, 48, 64}},
           {"tile_m", "register tile: output rows", {1, 2, 3, 4, 6, 8}},
           {"block_n",
            "cache block: weight columns staged per parallel task",
            {32, 64, 96, 128, 192, 256, 512}},
           {"block_m",
            "cache block: most rows sharing one weight panel (rows split into "
            "equal blocks)",
            {16, 32, 64, 128, 256}},
           {"gemv_rows",
            "at or below this many rows, use the GEMV schedule",
            {0, 1, 2, 4, 8, 16}},
           {"gemv_block_n",
            "GEMV: output columns per parallel task",
            {16, 32, 64, 128, 256}},
           {"gemv_panels",
            "GEMV (CPU): 16-column weight panels streamed side by side",
            {1, 2, 4, 8}},
           {"gemv_tile_m",
            "GEMV (CPU): rows per register tile over the streamed panels",
            {1, 2, 4, 8}},
           {"gemv_unroll_k", "GEMV (GPU): reduction steps unrolled", {1, 2, 4}},
           {"gemv1_block_n",
            "one-row GEMV (batch-1 decoding): output columns per parallel "
            "task",
            {64, 128, 256}},
           {"gemv1_panels",
            "one-row GEMV (weights narrower than f32): panels side by side; "
            "0: no function of its own (one row takes the GEMV's)",
            {0, 4, 8}},
           {"parallel", "1: split the work across threads", {0, 1}},
           {"autoschedule",
            "1: Halide's Mullapudi2016 autoscheduler instead (general variant)",
            {0, 1}},
       }},
      {"attention",
       {
           {"q_tile",
            "queries per tile (a multiple of vector)",
            {16, 32, 64, 128},
            true},
           {"k_block",
            "keys per block of the online softmax",
            {16, 32, 64, 128},
            true},
           {"vector", "vector width in floats", {4, 8, 16}},
           {"s_reg_q",
            "S = Q K^T register tile: queries (vectorized)",
            {8, 16, 24, 32}},
           {"s_reg_k",
            "S = Q K^T register tile: keys (broadcast)",
            {2, 4, 6, 8}},
           {"pv_reg_q",
            "P V register tile: queries (vectorized)",
            {8, 16, 24, 32}},
           {"pv_reg_d",
            "P V register tile: value dims (broadcast)",
            {2, 4, 6, 8}},
           {"d_unroll", "unroll of the head-dim reduction of S", {1, 2, 4}},
           {"k_unroll", "unroll of the key reduction of P V", {1, 2, 4}},
           {"softmax_unroll", "query vectors per max/exp/sum step", {1, 2}},
           {"copy_k", "1: stage each K block densely", {0, 1}},
           {"copy_v", "1: stage each V block densely", {0, 1}},
           {"prefetch_kv",
            "prefetch K/V this many blocks ahead (0: off)",
            {0, 1, 2}},
           {"split_masked",
            "1: key blocks the mask cuts are computed in sub-blocks of "
            "q_tile keys (CPU, q_tile < k_block), skipping those no query "
            "of the tile sees",
            {0, 1}},
           {"heads_inner",
            "1: consecutive tasks are heads, 0: query tiles",
            {0, 1}},
           {"transpose_tiles",
            "1: store the output in vector x vector blocks",
            {0, 1}},
           {"parallel", "1: split the work across threads", {0, 1}},
           {"decode_q_len",
            "at or below this many query rows, use the decode variant (0: "
            "none)",
            {0, 1, 4, 8}},
           {"decode_q_tile", "decode variant: queries per tile", {1, 4, 8}},
           {"decode_vector", "decode variant: vector width", {4, 8, 16}},
           {"decode_key_unroll",
            "decode variant with one-row tiles: keys scored at a time",
            {1, 2, 4, 8}},
           {"decode_masked_keys",
            "decode variant (CPU): key blocks the mask or a row's length "
            "cuts are computed in sub-blocks of this many keys, skipping "
            "those the row does not see (0 or k_block: whole blocks)",
            {0, 16, 32}},
           {"short_len",
            "at or below this many queries and keys, use the short variant "
            "(0: none)",
            {0, 128, 256}},
           {"short_q_tile", "short variant: queries per tile", {16, 32, 64}},
           {"short_k_block", "short variant: keys per block", {32, 64}},
       }},
      {"layernorm", kRowKnobs},
      {"softmax", kRowKnobs},
      {"embedding", kRowKnobs},
      {"add", kRowKnobs},
  };
  return knobs;
}

const json &defaults() {
  static const json parsed = json::parse(kDefaultsJSON);
  return parsed;
}

} // namespace

const std::vector<Knob> &attnc::schedules::knobsOf(const std::string &family) {
  static const std::vector<Knob> none;
  auto it = allKnobs().find(family);
  return it == allKnobs().end() ? none : it->second;
}

const char *attnc::schedules::targetClassName(TargetClass targetClass) {
  switch (targetClass) {
  case TargetClass::X86AVX2:
    return "x86-avx2";
  case TargetClass::X86AVX512:
    return "x86-avx512";
  case TargetClass::ARM64:
    return "arm64";
  case TargetClass::CUDA:
    return "cuda";
  case TargetClass::OpenCL:
    return "opencl";
  case TargetClass::Generic:
    return "generic";
  }
  return "generic";
}

int64_t ScheduleParams::get(const std::string &knob) const {
  auto it = values.find(knob);
  if (it == values.end())
    throw std::out_of_range("schedule parameter '" + knob + "' of " + family +
                            " is not set");
  return it->second;
}

std::string ScheduleParams::toJSON() const {
  json object = json::object();
  for (const auto &[name, value] : values)
    object[name] = value;
  return object.dump();
}

ScheduleParams ScheduleParams::fromJSON(const std::string &family,
                                        const std::string &text) {
  json object = json::parse(text);
  if (!object.is_object())
    throw std::invalid_argument("schedule parameters of " + family +
                                " must be a JSON object");
  ScheduleParams params(family, {});
  const std::vector<Knob> &knobs = knobsOf(family);
  for (const auto &[name, value] : object.items()) {
    bool known = false;
    for (const Knob &knob : knobs)
      known |= knob.name == name;
    if (!known)
      throw std::invalid_argument("unknown schedule parameter '" + name +
                                  "' for " + family);
    if (!value.is_number_integer())
      throw std::invalid_argument("schedule parameter '" + name + "' of " +
                                  family + " must be an integer");
    params.set(name, value.get<int64_t>());
  }
  return params;
}

ScheduleParams attnc::schedules::defaultParams(const std::string &family,
                                               TargetClass targetClass) {
  const json &all = defaults();
  // A class without its own values for a family takes its "_base" class's
  // (opencl takes cuda's), else the generic ones.
  std::string className = targetClassName(targetClass);
  for (int hops = 0;
       hops < 4 && all.contains(className) &&
       !all[className].contains(family) && all[className].contains("_base");
       ++hops)
    className = all[className]["_base"].get<std::string>();
  if (!all.contains(className) || !all[className].contains(family))
    className = "generic";
  ScheduleParams params(family, {});
  for (const auto &[name, value] : all[className][family].items())
    if (name[0] != '_') // "_comment" and friends
      params.set(name, value.get<int64_t>());
  for (const Knob &knob : knobsOf(family))
    params.get(knob.name); // Throws if defaults.json misses a knob.
  return params;
}
