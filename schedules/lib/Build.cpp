//===- Build.cpp - A kernel spec, scheduled, as a Halide pipeline ---------===//

#include "attnc/Schedules/Build.h"
#include "attnc/Schedules/Schedules.h"

#include <variant>

using namespace Halide;
using namespace attnc::kernels;

namespace attnc::schedules {

namespace {

template <class A> BuiltKernel finish(A &algorithm) {
  BuiltKernel built;
  built.pipeline = Pipeline(algorithm.outputs);
  built.arguments = algorithm.arguments;
  for (Func &output : algorithm.outputs)
    built.outputNames.push_back(output.name());
  return built;
}

} // namespace

BuiltKernel buildKernel(const KernelSpec &spec, const ScheduleParams &params,
                        const Target &target, const std::string &shapeClass) {
  if (auto *s = std::get_if<LinearSpec>(&spec.family)) {
    LinearAlgorithm a = buildLinear(*s, spec.dtype);
    scheduleLinear(a, params, target, shapeClass);
    return finish(a);
  }
  if (auto *s = std::get_if<LayerNormSpec>(&spec.family)) {
    LayerNormAlgorithm a = buildLayerNorm(*s, spec.dtype);
    scheduleLayerNorm(a, params, target);
    return finish(a);
  }
  if (auto *s = std::get_if<SoftmaxSpec>(&spec.family)) {
    SoftmaxAlgorithm a = buildSoftmax(*s, spec.dtype);
    scheduleSoftmax(a, params, target);
    return finish(a);
  }
  if (auto *s = std::get_if<EmbeddingSpec>(&spec.family)) {
    EmbeddingAlgorithm a = buildEmbedding(*s, spec.dtype);
    scheduleEmbedding(a, params, target);
    return finish(a);
  }
  if (auto *s = std::get_if<AddSpec>(&spec.family)) {
    AddAlgorithm a = buildAdd(*s, spec.dtype);
    scheduleAdd(a, params, target);
    return finish(a);
  }
  if (auto *s = std::get_if<AttentionSpec>(&spec.family)) {
    // The decode class (a few query rows per call) takes small query tiles
    // and narrower vectors, so a single row does not compute a whole tile,
    // and no dense V copy, which pays off across many queries, not one.
    ScheduleParams effective = params;
    if (shapeClass == "decode") {
      effective.set("q_tile", params.get("decode_q_tile"));
      effective.set("vector", params.get("decode_vector"));
      effective.set("s_reg_q", params.get("decode_q_tile"));
      effective.set("pv_reg_q", params.get("decode_q_tile"));
      effective.set("copy_v", 0);
    }
    AttentionAlgorithm a =
        buildAttention(*s, spec.dtype, int(effective.get("q_tile")),
                       int(effective.get("k_block")));
    scheduleAttention(a, effective, target);
    return finish(a);
  }
  throw std::invalid_argument("no kernel builder for family " +
                              spec.familyName());
}

} // namespace attnc::schedules
