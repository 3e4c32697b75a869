//===- RowSchedules.cpp - CPU schedules of the row-wise families ----------===//
//
// Layer norm, softmax, embedding and add are bandwidth-bound and cheap next
// to the GEMMs around them: rows_per_task rows per parallel task, the
// innermost dimension vectorized, per-row statistics computed at the row.
//
//===----------------------------------------------------------------------===//

#include "ScheduleUtil.h"
#include "attnc/Schedules/Schedules.h"

using namespace Halide;
using namespace attnc::kernels;

namespace attnc::schedules {

/// Splits rows into parallel tasks and vectorizes the row.
static void rowTasks(Func out, Var c, Var m, int64_t width,
                     const ScheduleParams &p, Var &rowInTask) {
  Var task("task");
  int vec = fitTile(p.get("vector"), width, 1);
  out.split(m, task, rowInTask, int(p.get("rows_per_task")),
            TailStrategy::GuardWithIf)
      .parallel(task)
      .vectorize(c, vec, TailStrategy::GuardWithIf);
}

void scheduleLayerNormCpu(LayerNormAlgorithm &a, const ScheduleParams &p) {
  Var row("row");
  rowTasks(a.output, a.c, a.m, a.spec.width, p, row);
  int vec = fitTile(p.get("vector"), a.spec.width, 1);
  a.sum.compute_at(a.output, row)
      .vectorize(a.c, vec, TailStrategy::GuardWithIf);
  // Each row statistic sums vec lanes of partial sums (a chain of
  // width / vec vector adds), then the lanes, instead of one chain of
  // width scalar adds, whose latency bounded the kernel.
  for (Func statistic : {a.mean, a.variance}) {
    statistic.compute_at(a.output, row);
    if (vec == 1 || a.spec.width % vec != 0)
      continue;
    RVar chunk(statistic.name() + "_chunk"), lane(statistic.name() + "_lane");
    Var u(statistic.name() + "_u");
    Func partial =
        statistic.update().split(a.r, chunk, lane, vec).rfactor(lane, u);
    partial.compute_at(a.output, row).vectorize(u);
    partial.update().vectorize(u);
  }
}

void scheduleSoftmaxCpu(SoftmaxAlgorithm &a, const ScheduleParams &p) {
  Var row("row");
  rowTasks(a.output, a.c, a.m, a.spec.width, p, row);
  int vec = fitTile(p.get("vector"), a.spec.width, 1);
  a.maximum.compute_at(a.output, row);
  a.exponent.compute_at(a.output, row)
      .vectorize(a.c, vec, TailStrategy::GuardWithIf);
  a.total.compute_at(a.output, row);
}

void scheduleEmbeddingCpu(EmbeddingAlgorithm &a, const ScheduleParams &p) {
  Var row("row"), fused("fused");
  a.output.fuse(a.t, a.b, fused);
  rowTasks(a.output, a.c, fused, a.spec.width, p, row);
  // The sinusoid's frequencies once per call, not once per row.
  if (a.frequency.defined())
    a.frequency.compute_root().vectorize(
        a.c, fitTile(p.get("vector"), a.spec.width, 1),
        TailStrategy::GuardWithIf);
}

void scheduleAddCpu(AddAlgorithm &a, const ScheduleParams &p) {
  Var row("row");
  rowTasks(a.output, a.c, a.m, a.spec.width, p, row);
}

void scheduleLinearCpu(LinearAlgorithm &a, const ScheduleParams &p,
                       const std::string &shapeClass);

} // namespace attnc::schedules
