//===- Dispatch.cpp - From a family and a target to its schedule ----------===//
//
// The one place that maps targets to defaults classes and families to their
// schedule functions. GPU targets get the schedules in schedules/gpu.
//
//===----------------------------------------------------------------------===//

#include "attnc/Schedules/Schedules.h"

#include <algorithm>

using namespace Halide;
using namespace attnc::kernels;

namespace attnc::schedules {

void scheduleLinearCpu(LinearAlgorithm &a, const ScheduleParams &p,
                       const std::string &shapeClass);
void scheduleLayerNormCpu(LayerNormAlgorithm &a, const ScheduleParams &p);
void scheduleSoftmaxCpu(SoftmaxAlgorithm &a, const ScheduleParams &p);
void scheduleEmbeddingCpu(EmbeddingAlgorithm &a, const ScheduleParams &p);
void scheduleAddCpu(AddAlgorithm &a, const ScheduleParams &p);
void scheduleAttentionCpu(AttentionAlgorithm &a, const ScheduleParams &p);
void scheduleLinearGpu(LinearAlgorithm &a, const ScheduleParams &p,
                       const std::string &shapeClass);
void scheduleLayerNormGpu(LayerNormAlgorithm &a, const ScheduleParams &p);
void scheduleSoftmaxGpu(SoftmaxAlgorithm &a, const ScheduleParams &p);
void scheduleEmbeddingGpu(EmbeddingAlgorithm &a, const ScheduleParams &p);
void scheduleAddGpu(AddAlgorithm &a, const ScheduleParams &p);
void scheduleAttentionGpu(AttentionAlgorithm &a, const ScheduleParams &p);

TargetClass classify(const Target &target) {
  if (target.has_feature(Target::OpenCL))
    return TargetClass::OpenCL;
  if (target.has_gpu_feature())
    return TargetClass::CUDA;
  if (target.arch == Target::ARM && target.bits == 64)
    return TargetClass::ARM64;
  if (target.arch == Target::X86 && target.has_feature(Target::AVX512))
    return TargetClass::X86AVX512;
  if (target.arch == Target::X86 && target.has_feature(Target::AVX2))
    return TargetClass::X86AVX2;
  return TargetClass::Generic;
}

ScheduleParams defaultParamsFor(const KernelSpec &spec,
                                TargetClass targetClass) {
  ScheduleParams params = defaultParams(spec.familyName(), targetClass);
  if (auto *linear = std::get_if<LinearSpec>(&spec.family))
    if (linear->weights == WeightType::F32)
      params.set("gemv1_panels", 0);
  return params;
}

std::vector<ShapeClass> shapeClassesOf(const std::string &family,
                                       const ScheduleParams &params) {
  std::vector<ShapeClass> classes;
  if (family == "linear" && params.get("gemv_rows") > 0)
    classes.push_back({"gemv", "rows", params.get("gemv_rows"), "gemv"});
  if (family == "attention" && params.get("decode_q_len") > 0)
    classes.push_back(
        {"decode", "q_len", params.get("decode_q_len"), "decode"});
  if (family == "attention" && params.get("short_len") > 0)
    classes.push_back({"short", "length", params.get("short_len"), "short"});
  classes.push_back({"", "", 0, ""});
  return classes;
}

bool knobOfAlgorithm(const std::string &knob, const std::string &algorithm) {
  // gemv1_* knobs replace the GEMV's task and panels in the one-row
  // variant that defaultPlan derives; no class is measured as "gemv1".
  for (const char *variant : {"gemv1", "gemv", "decode", "short"})
    if (knob.rfind(std::string(variant) + "_", 0) == 0)
      return algorithm == variant;
  return algorithm.empty();
}

int64_t extentOf(const std::string &dimension,
                 const std::map<std::string, int64_t> &shape) {
  auto at = [&](const char *name) -> int64_t {
    auto it = shape.find(name);
    return it == shape.end() ? -1 : it->second;
  };
  if (dimension == "length")
    return std::max(at("q_len"), at("kv_len"));
  return at(dimension.c_str());
}

ScheduleParams withShortTiles(ScheduleParams params) {
  params.set("q_tile", params.get("short_q_tile"));
  params.set("k_block", params.get("short_k_block"));
  return params;
}

std::string bucketDimensionOf(const std::string &family) {
  if (family == "attention")
    return "q_len";
  if (family == "linear" || family == "layernorm" || family == "softmax" ||
      family == "add")
    return "rows";
  return "";
}

KernelPlan defaultPlan(const std::string &family,
                       const ScheduleParams &params) {
  KernelPlan plan;
  for (const ShapeClass &shape : shapeClassesOf(family, params)) {
    // Batch-1 decoding: the GEMV with wider tasks and more panels side by
    // side, which only one row leaves registers for (docs/kernels.md).
    if (shape.algorithm == "gemv" && params.get("gemv1_panels") > 0) {
      ScheduleParams oneRow = params;
      oneRow.set("gemv_block_n", params.get("gemv1_block_n"));
      oneRow.set("gemv_panels", params.get("gemv1_panels"));
      plan.push_back({{"gemv1", "rows", 1, "gemv"}, oneRow});
    }
    plan.push_back({shape, params});
  }
  return plan;
}

void scheduleLinear(LinearAlgorithm &a, const ScheduleParams &p,
                    const Target &target, const std::string &shapeClass) {
  if (target.has_gpu_feature())
    return scheduleLinearGpu(a, p, shapeClass);
  scheduleLinearCpu(a, p, shapeClass);
}

void scheduleLayerNorm(LayerNormAlgorithm &a, const ScheduleParams &p,
                       const Target &target) {
  if (target.has_gpu_feature())
    return scheduleLayerNormGpu(a, p);
  scheduleLayerNormCpu(a, p);
}

void scheduleSoftmax(SoftmaxAlgorithm &a, const ScheduleParams &p,
                     const Target &target) {
  if (target.has_gpu_feature())
    return scheduleSoftmaxGpu(a, p);
  scheduleSoftmaxCpu(a, p);
}

void scheduleEmbedding(EmbeddingAlgorithm &a, const ScheduleParams &p,
                       const Target &target) {
  if (target.has_gpu_feature())
    return scheduleEmbeddingGpu(a, p);
  scheduleEmbeddingCpu(a, p);
}

void scheduleAdd(AddAlgorithm &a, const ScheduleParams &p,
                 const Target &target) {
  if (target.has_gpu_feature())
    return scheduleAddGpu(a, p);
  scheduleAddCpu(a, p);
}

void scheduleAttention(AttentionAlgorithm &a, const ScheduleParams &p,
                       const Target &target) {
  if (target.has_gpu_feature())
    return scheduleAttentionGpu(a, p);
  scheduleAttentionCpu(a, p);
}

} // namespace attnc::schedules
