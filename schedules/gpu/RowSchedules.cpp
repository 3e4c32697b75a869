//===- RowSchedules.cpp - CUDA schedules of the row-wise families ---------===//
//
// Layer norm, softmax, embedding and add on a GPU: a thread block covers
// rows_per_task rows and `vector` columns of them (threads along the
// contiguous dimension, so loads coalesce); the per-row statistics of layer
// norm and softmax are computed once per row by one thread of the block and
// kept in shared memory. Not yet measured on a GPU (docs/cuda.md).
//
//===----------------------------------------------------------------------===//

#include "attnc/Schedules/Schedules.h"

using namespace Halide;
using namespace attnc::kernels;

namespace attnc::schedules {

/// Tiles `out` (c, m) into thread blocks; `row` is the block's row loop
/// level at which per-row statistics go, `rowThread` the thread row var.
static void rowBlocks(Func out, Var c, Var m, int64_t width,
                      const ScheduleParams &p, Var &block, Var &rowThread) {
  Var co("co"), ci("ci");
  int threads = int(std::min<int64_t>(p.get("vector"), width));
  out.split(c, co, ci, threads, TailStrategy::GuardWithIf)
      .split(m, block, rowThread, int(p.get("rows_per_task")),
             TailStrategy::GuardWithIf)
      .reorder(ci, co, rowThread, block)
      .gpu_blocks(block)
      .gpu_threads(ci, rowThread);
}

void scheduleLayerNormGpu(LayerNormAlgorithm &a, const ScheduleParams &p) {
  Var block("block"), row("row");
  rowBlocks(a.output, a.c, a.m, a.spec.width, p, block, row);
  a.sum.compute_inline();
  a.mean.compute_at(a.output, block).gpu_threads(a.m);
  a.variance.compute_at(a.output, block).gpu_threads(a.m);
}

void scheduleSoftmaxGpu(SoftmaxAlgorithm &a, const ScheduleParams &p) {
  Var block("block"), row("row");
  rowBlocks(a.output, a.c, a.m, a.spec.width, p, block, row);
  a.maximum.compute_at(a.output, block).gpu_threads(a.m);
  a.exponent.compute_inline();
  a.total.compute_at(a.output, block).gpu_threads(a.m);
}

void scheduleEmbeddingGpu(EmbeddingAlgorithm &a, const ScheduleParams &p) {
  Var block("block"), row("row"), fused("fused");
  a.output.fuse(a.t, a.b, fused);
  rowBlocks(a.output, a.c, fused, a.spec.width, p, block, row);
}

void scheduleAddGpu(AddAlgorithm &a, const ScheduleParams &p) {
  Var block("block"), row("row");
  rowBlocks(a.output, a.c, a.m, a.spec.width, p, block, row);
}

} // namespace attnc::schedules
