//===- AttentionSchedule.cpp - CUDA schedule of fused attention -----------===//
//
// One thread block per (query tile, head, batch), one thread per query of
// the tile (q_tile threads). The state of each query (Dv accumulators, the
// running max and sum: one chunk, see Build.cpp) lives in shared memory next
// to its thread. For each key block of a stage, the block's threads first
// stage K and V of the block in shared memory (copy_k, copy_v), then every
// thread computes its own query's scores, block max, exp2, sum and P V in
// registers and folds them into its state. The stages' block classes (full,
// masked) guard each block here too, so no thread block computes a block its
// mask hides. The probabilities output, when asked for, is computed per (key,
// query) by its own kernel.
//
// Not yet measured on a GPU: no GPU was available while it was written
// (docs/cuda.md says how to run the CUDA tests and benchmark on one).
//
//===----------------------------------------------------------------------===//

#include "attnc/Schedules/Schedules.h"

using namespace Halide;
using namespace attnc::kernels;

namespace attnc::schedules {

void scheduleAttentionGpu(AttentionAlgorithm &a, const ScheduleParams &p) {
  const AttentionSpec &spec = a.spec;
  const int Dv = int(spec.valueDim);
  const int Tq = a.qTile;
  const bool withProbs = spec.probs != Probs::None;
  Var &c = a.c, &q = a.q, &b = a.b, &qi = a.qi, &d = a.d, &j = a.j;

  // ---- The output: a thread block per (query tile, head, batch). ----
  Var hc("hc"), dc("dc"), qto("qto"), qii("qii");
  a.output.split(c, hc, dc, Dv)
      .split(q, qto, qii, Tq, TailStrategy::GuardWithIf)
      .reorder(dc, qii, qto, hc, b)
      .gpu_blocks(qto, hc, b)
      .gpu_threads(qii);
  a.finished.compute_inline();
  a.qTiled.compute_inline();
  if (a.valueMean.defined())
    a.valueMean.compute_root().gpu_blocks(a.h, a.b).gpu_threads(d);
  if (a.querySegments.defined()) { // Packed sequences: one pass over ids.
    a.querySegments.compute_root().gpu_single_thread();
    a.keySegments.compute_root().gpu_single_thread();
  }
  if (withProbs) {
    // Both outputs read the state: compute it for every tile first.
    a.state.compute_root().gpu_blocks(a.qt, a.h, a.b).gpu_threads(qi);
  } else {
    a.state.compute_at(a.output, qto).gpu_threads(qi);
  }

  for (AttentionAlgorithm::Block &block : a.blocks) {
    RVar r = block.blocks.x;
    Var qv(block.name + "_qv"), qo(block.name + "_qo");
    Stage update = a.state.update(block.stage);
    update.split(qi, qo, qv, Tq).reorder(qv, qo, r, a.qt, a.h, a.b);
    if (withProbs)
      update.gpu_blocks(a.qt, a.h, a.b);
    update.gpu_threads(qv);
    LoopLevel perBlock(a.state, r), perQuery(a.state, qv);

    boundToOneKeyBlock(a, block);
    // The per-query sums too: otherwise the masked stage's clamped key rows
    // leave their size symbolic, and Halide 14 moves them from registers to
    // a global buffer that it sizes for the query threads but indexes by the
    // whole thread block (wider when key staging uses k_block threads),
    // writing past its end.
    for (Func f : {block.scoreSum, block.pvSum})
      f.bound_storage(a.kb, 1).bound_storage(a.qt, 1);
    // K and V of the key block, staged in shared memory by the tile's
    // threads, Tq keys at a time (guarded where the block has fewer keys):
    // every loop of the kernel then spans exactly the Tq threads. With more
    // threads for staging than queries, Halide 14 sizes per-thread scratch
    // for the queries' threads but indexes it by the block's, and writes
    // out of bounds.
    Var jo(block.name + "_jo"), ji(block.name + "_ji");
    if (p.get("copy_k"))
      block.keyBlock.compute_at(perBlock)
          .split(j, jo, ji, Tq, TailStrategy::GuardWithIf)
          .gpu_threads(ji);
    if (p.get("copy_v"))
      block.valueBlock.compute_at(perBlock)
          .split(j, jo, ji, Tq, TailStrategy::GuardWithIf)
          .gpu_threads(ji);
    // Everything else: one query per thread, in registers.
    for (Func f : {block.score, block.blockMax, block.p, block.blockSum,
                   block.pv, block.scoreSum, block.pvSum})
      f.compute_at(perQuery);
  }

  if (withProbs) {
    Var &k = a.k, &h = a.h;
    Var ko("probs_ko"), ki("probs_ki");
    if (spec.probs == Probs::PerHead)
      a.probs.split(k, ko, ki, Tq, TailStrategy::GuardWithIf)
          .reorder(ki, ko, q, h)
          .gpu_blocks(q, h)
          .gpu_threads(ki);
    else
      a.probs.split(k, ko, ki, Tq, TailStrategy::GuardWithIf)
          .reorder(ki, ko, q)
          .gpu_blocks(q)
          .gpu_threads(ki);
    // The recomputed scores, whole rows, and their max and sum per row.
    Var qo("probs_qo"), qi2("probs_qi");
    a.probsScore.compute_root()
        .split(q, qo, qi2, Tq, TailStrategy::GuardWithIf)
        .gpu_blocks(qo, h, a.b)
        .gpu_threads(qi2);
    a.probsScore.update()
        .split(q, qo, qi2, Tq, TailStrategy::GuardWithIf)
        .gpu_blocks(qo, h, a.b)
        .gpu_threads(qi2);
    for (Func f : {a.probsMax, a.probsSum}) {
      f.compute_root()
          .split(q, qo, qi2, Tq, TailStrategy::GuardWithIf)
          .gpu_blocks(qo, h, a.b)
          .gpu_threads(qi2);
      f.update()
          .split(q, qo, qi2, Tq, TailStrategy::GuardWithIf)
          .gpu_blocks(qo, h, a.b)
          .gpu_threads(qi2);
    }
    if (a.probsTotal.defined())
      a.probsTotal.compute_at(a.probs, ki);
  }
}

} // namespace attnc::schedules
