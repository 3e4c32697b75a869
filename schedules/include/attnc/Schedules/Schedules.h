//===- Schedules.h - Where each kernel family's loops go --------*- C++ -*-===//
//
// One apply function per kernel family. Each reads its knobs from
// ScheduleParams and dispatches on the target: CPU schedules are in
// schedules/cpu, GPU schedules in schedules/gpu. They never change what is
// computed, only how.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_SCHEDULES_SCHEDULES_H
#define ATTNC_SCHEDULES_SCHEDULES_H

#include "attnc/Lowering/Algorithms.h"
#include "attnc/Schedules/Params.h"

#include "Halide.h"

namespace attnc {
namespace schedules {

/// The defaults class of a Halide target.
TargetClass classify(const Halide::Target &target);

/// The defaults of `spec`'s family for `targetClass`, less what does not
/// pay for this kernel: the one-row GEMV (gemv1_panels) is for weights
/// narrower than f32, whose 16-column panels stream too few bytes each; f32
/// weights decoded about 8% slower with it (docs/performance.md).
ScheduleParams defaultParamsFor(const kernels::KernelSpec &spec,
                                TargetClass targetClass);

/// Tells Halide that each Func of an attention key block, computed at the
/// block loop, covers one key block of one query tile (bounds inference
/// cannot prove it through the stage ranges). Every attention schedule
/// needs this, whatever the target.
inline void boundToOneKeyBlock(kernels::AttentionAlgorithm &a,
                               kernels::AttentionAlgorithm::Block &block) {
  for (Halide::Func f :
       {block.score, block.blockMax, block.p, block.blockSum, block.pv})
    f.bound_storage(a.kb, 1).bound_storage(a.qt, 1);
  for (Halide::Func f : {block.keyBlock, block.valueBlock})
    f.bound_storage(a.kb, 1);
  for (Halide::Func f : {block.keySeen, block.seenValue})
    if (f.defined())
      f.bound_storage(a.kb, 1).bound_storage(a.qt, 1);
}

void scheduleLinear(kernels::LinearAlgorithm &a, const ScheduleParams &p,
                    const Halide::Target &target,
                    const std::string &shapeClass);
void scheduleLayerNorm(kernels::LayerNormAlgorithm &a, const ScheduleParams &p,
                       const Halide::Target &target);
void scheduleSoftmax(kernels::SoftmaxAlgorithm &a, const ScheduleParams &p,
                     const Halide::Target &target);
void scheduleEmbedding(kernels::EmbeddingAlgorithm &a, const ScheduleParams &p,
                       const Halide::Target &target);
void scheduleAdd(kernels::AddAlgorithm &a, const ScheduleParams &p,
                 const Halide::Target &target);
void scheduleAttention(kernels::AttentionAlgorithm &a, const ScheduleParams &p,
                       const Halide::Target &target);

} // namespace schedules
} // namespace attnc

#endif // ATTNC_SCHEDULES_SCHEDULES_H
