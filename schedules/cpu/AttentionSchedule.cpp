//===- AttentionSchedule.cpp - CPU schedule of fused attention ------------===//
//
// One parallel task per (query tile, head, batch), grabbed dynamically from
// Halide's thread pool; with heads_inner = 0 consecutive tasks are the next
// query tiles of the same head, so both threads sweep the same K/V (shared
// L3). Inside a task: the transposed Q tile, the block ranges and the state
// live on the stack; each key block computes its Funcs at the block loop,
// below the stage's range predicate, so skipped blocks cost nothing:
//
//   S = Q K^T    register tile s_reg_q (queries, vectorized) x s_reg_k
//                (keys, broadcast): on AVX2 2 x 6 = 12 ymm accumulators
//   max, exp2, sum  vectorized over queries
//   P V          register tile pv_reg_q x pv_reg_d, accumulated over the keys
//   merge        into the Dv + 2 state vectors
//
// copy_v (default on) stages a dense V block, which avoids L1 set conflicts
// of rows strided by the packed QKV width. When the probabilities are an
// output too, the state is computed for all tiles first (both outputs read
// it), then the probabilities row by row.
//
// Measured (x86-avx2 defaults, AMD EPYC Zen 3, B=1 H=8 D=64, packed QKV):
// 2 threads: 80-82% of the same run's OpenBLAS sgemm GFLOP/s non-causal for
// L >= 1024, 74-80% causal (useful FLOPs); 1 thread: 76-78% and 70-76%.
// See docs/performance.md.
//
//===----------------------------------------------------------------------===//

#include "ScheduleUtil.h"
#include "attnc/Schedules/Schedules.h"

using namespace Halide;
using namespace attnc::kernels;

namespace attnc::schedules {

void scheduleAttentionCpu(AttentionAlgorithm &a, const ScheduleParams &p) {
  const AttentionSpec &spec = a.spec;
  const int Dv = int(spec.valueDim), D = int(spec.headDim);
  const int Tq = a.qTile, Tk = a.kBlock;
  const int vec = fitTile(p.get("vector"), Tq, 1);
  const int sRegQ = fitTile(p.get("s_reg_q"), Tq, vec);
  const int sRegK = int(std::min<int64_t>(p.get("s_reg_k"), Tk));
  const int pvRegQ = fitTile(p.get("pv_reg_q"), Tq, vec);
  const int pvRegD = int(std::min<int64_t>(p.get("pv_reg_d"), Dv));
  const bool parallel = p.get("parallel") != 0;
  const bool withProbs = spec.probs != Probs::None;
  Var &c = a.c, &q = a.q, &b = a.b, &qi = a.qi, &d = a.d, &j = a.j;

  // ---- The output: one task per (query tile, head, batch). ----
  Var hc("hc"), dc("dc"), qto("qto"), qii("qii"), t1("t1"), tile("tile");
  a.output.split(c, hc, dc, Dv)
      .split(q, qto, qii, Tq, TailStrategy::GuardWithIf)
      .reorder(dc, qii, hc, qto, b);
  if (p.get("heads_inner"))
    a.output.fuse(hc, qto, t1);
  else
    a.output.reorder(qto, hc).fuse(qto, hc, t1);
  a.output.fuse(t1, b, tile);
  if (p.get("transpose_tiles") && Dv % vec == 0) {
    Var dco("dco"), dcv("dcv"), qo2("qo2"), qv2("qv2");
    a.output.split(dc, dco, dcv, vec)
        .split(qii, qo2, qv2, vec, TailStrategy::GuardWithIf)
        .reorder(dcv, qv2, dco, qo2)
        .vectorize(dcv)
        .vectorize(qv2);
  } else {
    a.output.vectorize(dc, std::min(vec, Dv), TailStrategy::GuardWithIf);
  }
  if (parallel)
    a.output.parallel(tile);

  // ---- Per-tile Funcs, on the stack (bound_storage: bounds inference
  // cannot prove that a guarded query split touches one tile). ----
  a.finished.compute_at(a.output, tile)
      .bound_storage(a.qt, 1)
      .vectorize(qi, vec)
      .unroll(d);
  if (a.valueMean.defined())
    a.valueMean.compute_root(); // Rare (empty_rows = uniform) and cheap.
  if (withProbs) {
    // Both outputs read the state: compute it for every tile first.
    a.qTiled.compute_root().vectorize(qi, vec);
    a.ranges.compute_root();
    a.state.compute_root().vectorize(qi, vec);
  } else {
    a.qTiled.compute_at(a.output, tile)
        .bound_storage(a.qt, 1)
        .vectorize(qi, vec);
    a.ranges.compute_at(a.output, tile).bound_storage(a.qt, 1);
    a.state.compute_at(a.output, tile)
        .bound_storage(a.qt, 1)
        .vectorize(qi, vec);
  }

  for (AttentionAlgorithm::Block &block : a.blocks) {
    RVar r = block.blocks.x;
    Var qo(block.name + "_qo"), qv(block.name + "_qv");
    Stage update = a.state.update(block.stage);
    update.split(qi, qo, qv, Tq)
        .reorder(qv, qo, r, a.qt, a.h, a.b)
        .vectorize(qv, vec);
    if (withProbs && parallel) {
      Var task(block.name + "_task");
      update.fuse(a.qt, a.h, task).parallel(task);
    }
    if (p.get("prefetch_kv") > 0) {
      update.prefetch(a.key, r, r, int(p.get("prefetch_kv")));
      update.prefetch(a.value, r, r, int(p.get("prefetch_kv")));
    }
    LoopLevel level(a.state, qo);

    boundToOneKeyBlock(a, block);
    if (p.get("copy_k"))
      block.keyBlock.compute_at(level).vectorize(d, std::min(vec, D),
                                                 TailStrategy::GuardWithIf);
    if (p.get("copy_v"))
      block.valueBlock.compute_at(level).vectorize(d, std::min(vec, Dv),
                                                   TailStrategy::GuardWithIf);

    // S = Q K^T: a register tile of sRegQ queries x sRegK keys.
    Var sqo(block.name + "_sqo"), sjo(block.name + "_sjo"),
        sqi(block.name + "_sqi"), sji(block.name + "_sji");
    block.score.compute_at(level)
        .tile(qi, j, sqo, sjo, sqi, sji, sRegQ, sRegK,
              TailStrategy::ShiftInwards)
        .reorder(sqi, sji, sqo, sjo)
        .vectorize(sqi, vec)
        .unroll(sqi)
        .unroll(sji);
    block.scoreSum.compute_at(block.score, sqo)
        .vectorize(qi, vec)
        .unroll(qi)
        .unroll(j);
    Stage scoreUpdate = block.scoreSum.update();
    scoreUpdate.reorder(qi, j, block.rd.x)
        .vectorize(qi, vec)
        .unroll(qi)
        .unroll(j);
    if (p.get("d_unroll") > 1 && D % p.get("d_unroll") == 0) {
      RVar rdo(block.name + "_rdo"), rdi(block.name + "_rdi");
      scoreUpdate.split(block.rd.x, rdo, rdi, int(p.get("d_unroll")))
          .unroll(rdi);
    }

    // Block max, exp2 and sum, vectorized over queries.
    int softmaxSpan = fitTile(vec * p.get("softmax_unroll"), Tq, vec);
    Var bqo(block.name + "_bqo"), bqi(block.name + "_bqi");
    RVar rj = block.rj.x;
    block.blockMax.compute_at(level).vectorize(qi, vec);
    block.blockMax.update()
        .split(qi, bqo, bqi, softmaxSpan)
        .reorder(bqi, rj, bqo)
        .vectorize(bqi, vec)
        .unroll(bqi);
    block.p.compute_at(level).vectorize(qi, vec);
    block.blockSum.compute_at(level).vectorize(qi, vec);
    block.blockSum.update()
        .split(qi, bqo, bqi, softmaxSpan)
        .reorder(bqi, rj, bqo)
        .vectorize(bqi, vec)
        .unroll(bqi);

    // P V: a register tile of pvRegQ queries x pvRegD value dims.
    Var pqo(block.name + "_pqo"), pdo(block.name + "_pdo"),
        pqi(block.name + "_pqi"), pdi(block.name + "_pdi");
    block.pv.compute_at(level)
        .tile(qi, d, pqo, pdo, pqi, pdi, pvRegQ, pvRegD,
              TailStrategy::ShiftInwards)
        .reorder(pqi, pdi, pqo, pdo)
        .vectorize(pqi, vec)
        .unroll(pqi)
        .unroll(pdi);
    block.pvSum.compute_at(block.pv, pqo)
        .vectorize(qi, vec)
        .unroll(qi)
        .unroll(d);
    Stage pvUpdate = block.pvSum.update();
    pvUpdate.reorder(qi, d, rj).vectorize(qi, vec).unroll(qi).unroll(d);
    if (p.get("k_unroll") > 1 && Tk % p.get("k_unroll") == 0) {
      RVar rjo(block.name + "_rjo"), rji(block.name + "_rji");
      pvUpdate.split(rj, rjo, rji, int(p.get("k_unroll"))).unroll(rji);
    }
  }

  // ---- Probabilities: row by row, keys vectorized. ----
  if (withProbs) {
    Var &k = a.k, &h = a.h;
    Var row("probs_row");
    RVar rd = a.probsD.x;
    if (spec.probs == Probs::PerHead) {
      a.probs.fuse(q, h, row).parallel(row).vectorize(
          k, vec, TailStrategy::GuardWithIf);
      a.probsScore.compute_at(a.probs, row)
          .vectorize(k, vec, TailStrategy::GuardWithIf);
      a.probsScore.update().reorder(k, rd).vectorize(k, vec,
                                                     TailStrategy::GuardWithIf);
    } else {
      a.probs.parallel(q).vectorize(k, vec, TailStrategy::GuardWithIf);
      a.probsTotal.compute_at(a.probs, q)
          .vectorize(k, vec, TailStrategy::GuardWithIf);
      a.probsTotal.update().vectorize(k, vec, TailStrategy::GuardWithIf);
      a.probsScore.compute_at(a.probs, q)
          .vectorize(k, vec, TailStrategy::GuardWithIf);
      a.probsScore.update().reorder(k, rd).vectorize(k, vec,
                                                     TailStrategy::GuardWithIf);
    }
  }
}

} // namespace attnc::schedules
