//===- AttentionSchedule.cpp - CPU schedule of fused attention ------------===//
//
// One parallel task per (query tile, head, batch), grabbed dynamically from
// Halide's thread pool; with heads_inner = 0 consecutive tasks are the next
// query tiles of the same head, so both threads sweep the same K/V (shared
// L3). Inside a task: the transposed Q tile and the state live on the
// stack; each key block computes its Funcs at the block loop, below the
// stage's block-class predicate, so skipped blocks cost nothing:
//
//   S = Q K^T    register tile s_reg_q (queries, vectorized) x s_reg_k
//                (keys, broadcast): on AVX2 2 x 6 = 12 ymm accumulators
//   max, exp2, sum  vectorized over queries
//   P V          register tile pv_reg_q x pv_reg_d, accumulated over the keys
//   merge        into the state, one chunk of value dims at a time (a loop
//                over the chunks, not unrolled: compile time)
//
// copy_v (default on) stages a dense V block, which avoids L1 set conflicts
// of rows strided by the packed QKV width; in masked blocks the staged rows
// of keys that no query of the tile sees are zeros (HiddenValueGuard::
// PerTile, computed by a vectorized pass over the tile's rows), so P V
// needs no select. When the probabilities are an
// output too, the state is computed for all tiles first (both outputs read
// it), then the probabilities row by row.
//
// Query tiles of one row (the decode shape class: one new token per call)
// have no queries to vectorize over; their blocks vectorize along the head
// and value dims instead (scheduleRowBlock):
//
//   S = q K^T    per key, decode_vector partial sums along the head dim
//                (rfactor) and one horizontal sum; keys decode_key_unroll
//                at a time so the partial sums stay in registers
//   max, sum     partial maxima and sums in vector lanes, then across them
//   exp2         vectorized over the block's keys
//   P V          the row's Dv accumulators in registers, vectorized over
//                the value dims, accumulated over the keys
//
// Row schedule measured (x86-avx512 defaults, this repository's AVX-512
// EPYC, 1 thread, H=8 D=64, one query, JIT): 5.4 us against 128 keys and
// 2.5 us against 32, where 8-row tiles vectorized over queries took 27.8
// and 16.4 us. In the 6+6 model's 2-thread greedy decode the decode
// attention went from 8.4 to 4.4 ms of about 95.
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

namespace {

/// A reduction split into vector lanes of partial results: `partial`
/// reduces over `outer` with `lane` innermost; the reduced Func then sums
/// (or maxes) the lanes over `inner`.
struct LaneReduction {
  Func partial;
  Var lane;
  RVar outer, inner;
};

/// Splits the reduction of `f` over `r` into `lanes` vector lanes of partial
/// results (rfactor, computed at `at`) and one horizontal reduction across
/// them.
LaneReduction reduceInLanes(Func f, RVar r, int lanes, LoopLevel at,
                            const std::string &name) {
  LaneReduction split{Func(), Var(name + "_lane"), RVar(name + "_ro"),
                      RVar(name + "_ri")};
  split.partial = f.update()
                      .split(r, split.outer, split.inner, lanes)
                      .rfactor(split.inner, split.lane);
  std::vector<Var> storage = {split.lane};
  for (const Var &v : f.args())
    storage.push_back(v);
  split.partial.compute_at(at).reorder_storage(storage).vectorize(split.lane);
  split.partial.update().vectorize(split.lane);
  f.update().atomic().vectorize(split.inner);
  return split;
}

/// The largest power of two at most `want` that divides `extent` (1 if none).
int lanesDividing(int64_t want, int64_t extent) {
  int lanes = 1;
  while (lanes * 2 <= want && extent % (lanes * 2) == 0)
    lanes *= 2;
  return lanes;
}

/// Which keys of a masked block some query of the tile sees
/// (HiddenValueGuard::PerTile): keys in vector lanes, a pass over the rows.
void scheduleKeySeen(AttentionAlgorithm::Block &block, Var j, LoopLevel level,
                     int lanes) {
  if (!block.keySeen.defined())
    return;
  block.keySeen.compute_at(level).vectorize(j, lanes,
                                            TailStrategy::GuardWithIf);
  block.keySeen.update()
      .reorder(j, block.seenRows.x)
      .vectorize(j, lanes, TailStrategy::GuardWithIf);
}

/// The Funcs of one key block for query tiles of many rows: register tiles
/// with the queries in vector lanes.
void scheduleTileBlock(AttentionAlgorithm &a, AttentionAlgorithm::Block &block,
                       const ScheduleParams &p, LoopLevel level, int vec) {
  const int Dv = int(a.spec.valueDim), D = int(a.spec.headDim);
  const int Tq = a.qTile, Tk = block.keys;
  const int sRegQ = fitTile(p.get("s_reg_q"), Tq, vec);
  const int sRegK = int(std::min<int64_t>(p.get("s_reg_k"), Tk));
  const int pvRegQ = fitTile(p.get("pv_reg_q"), Tq, vec);
  const int pvRegD = int(std::min<int64_t>(p.get("pv_reg_d"), Dv));
  Var &qi = a.qi, &d = a.d, &j = a.j;
  if (p.get("copy_k"))
    block.keyBlock.compute_at(level).vectorize(d, std::min(vec, D),
                                               TailStrategy::GuardWithIf);
  // The staged V block; in masked blocks, with the unseen keys' rows zeroed.
  Func values = block.seenValue.defined() ? block.seenValue : block.valueBlock;
  if (p.get("copy_v"))
    values.compute_at(level).vectorize(d, std::min(vec, Dv),
                                       TailStrategy::GuardWithIf);
  scheduleKeySeen(block, j, level, vec);

  // S = Q K^T: a register tile of sRegQ queries x sRegK keys.
  Var sqo(block.name + "_sqo"), sjo(block.name + "_sjo"),
      sqi(block.name + "_sqi"), sji(block.name + "_sji");
  block.score.compute_at(level)
      .tile(qi, j, sqo, sjo, sqi, sji, sRegQ, sRegK, TailStrategy::ShiftInwards)
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
    scoreUpdate.split(block.rd.x, rdo, rdi, int(p.get("d_unroll"))).unroll(rdi);
  }

  // Block max, exp2 and sum, vectorized over queries.
  int softmaxSpan = fitTile(vec * p.get("softmax_unroll"), Tq, vec);
  Var bqo(block.name + "_bqo"), bqi(block.name + "_bqi");
  RVar rj = block.rj.x;
  for (Func f : {block.blockMax, block.blockSum}) {
    f.compute_at(level).vectorize(qi, vec);
    f.update()
        .split(qi, bqo, bqi, softmaxSpan)
        .reorder(bqi, rj, bqo)
        .vectorize(bqi, vec)
        .unroll(bqi);
  }
  block.p.compute_at(level).vectorize(qi, vec);

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
  block.pvSum.compute_at(block.pv, pqo).vectorize(qi, vec).unroll(qi).unroll(d);
  Stage pvUpdate = block.pvSum.update();
  pvUpdate.reorder(qi, d, rj).vectorize(qi, vec).unroll(qi).unroll(d);
  if (p.get("k_unroll") > 1 && Tk % p.get("k_unroll") == 0) {
    RVar rjo(block.name + "_rjo"), rji(block.name + "_rji");
    pvUpdate.split(rj, rjo, rji, int(p.get("k_unroll"))).unroll(rji);
  }
}

/// The Funcs of one key block for a query tile of one row: vectorized over
/// the head dim (scores), the block's keys (softmax) and the value dims (P V).
void scheduleRowBlock(AttentionAlgorithm &a, AttentionAlgorithm::Block &block,
                      const ScheduleParams &p, LoopLevel level) {
  const int Dv = int(a.spec.valueDim), D = int(a.spec.headDim);
  const int Tk = block.keys;
  const int64_t vector = p.get("vector");
  const int dLanes = lanesDividing(vector, D),
            kLanes = lanesDividing(vector, Tk);
  const int vLanes = int(std::min<int64_t>(vector, Dv));
  const int keyUnroll = lanesDividing(p.get("decode_key_unroll"), Tk);
  Var &d = a.d, &j = a.j;
  const std::string &name = block.name;

  // S = q K^T: keyUnroll keys at a time, dLanes partial sums each, in
  // registers (computed per group of keys, unrolled).
  block.score.compute_at(level).vectorize(j, kLanes);
  block.scoreSum.compute_at(level);
  for (Func f : {block.scoreSum, block.pvSum})
    f.bound_storage(a.kb, 1).bound_storage(a.qt, 1);
  if (dLanes > 1) {
    Var jo(name + "_jo"), ji(name + "_ji");
    LaneReduction s = reduceInLanes(block.scoreSum, block.rd.x, dLanes,
                                    LoopLevel(block.scoreSum, jo), name + "_s");
    block.scoreSum.update()
        .split(j, jo, ji, keyUnroll)
        .reorder(s.inner, ji, jo);
    s.partial.unroll(j);
    s.partial.update().reorder(s.lane, j, s.outer).unroll(j);
  }

  // Block max, exp2 and sum over the keys.
  block.blockMax.compute_at(level);
  block.blockSum.compute_at(level);
  if (kLanes > 1) {
    reduceInLanes(block.blockMax, block.rj.x, kLanes, level, name + "_m");
    reduceInLanes(block.blockSum, block.rj.x, kLanes, level, name + "_l");
  }
  block.p.compute_at(level).vectorize(j, kLanes);
  scheduleKeySeen(block, j, level, kLanes);

  // P V: the row's Dv accumulators, value dims in vector lanes.
  block.pv.compute_at(level).vectorize(d, vLanes, TailStrategy::GuardWithIf);
  block.pvSum.compute_at(level).vectorize(d, vLanes, TailStrategy::GuardWithIf);
  block.pvSum.update()
      .reorder(d, block.rj.x)
      .vectorize(d, vLanes, TailStrategy::GuardWithIf)
      .unroll(d);
  if (p.get("k_unroll") > 1 && Tk % p.get("k_unroll") == 0) {
    RVar rjo(name + "_rjo"), rji(name + "_rji");
    block.pvSum.update()
        .split(block.rj.x, rjo, rji, int(p.get("k_unroll")))
        .unroll(rji);
  }
}

} // namespace

void scheduleAttentionCpu(AttentionAlgorithm &a, const ScheduleParams &p) {
  const AttentionSpec &spec = a.spec;
  const int Dv = int(spec.valueDim), D = int(spec.headDim);
  const int Tq = a.qTile;
  const bool rows = Tq == 1;
  const int lanes = int(p.get("vector")); // along keys or dims
  const int vec = fitTile(lanes, Tq, 1);  // along queries
  const int dLanes = rows ? lanesDividing(lanes, D) : vec;
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
  if (p.get("transpose_tiles") && !rows && Dv % vec == 0) {
    Var dco("dco"), dcv("dcv"), qo2("qo2"), qv2("qv2");
    a.output.split(dc, dco, dcv, vec)
        .split(qii, qo2, qv2, vec, TailStrategy::GuardWithIf)
        .reorder(dcv, qv2, dco, qo2)
        .vectorize(dcv)
        .vectorize(qv2);
  } else {
    a.output.vectorize(dc, std::min(rows ? lanes : vec, Dv),
                       TailStrategy::GuardWithIf);
  }
  if (parallel)
    a.output.parallel(tile);

  // ---- Per-tile Funcs, on the stack (bound_storage: bounds inference
  // cannot prove that a guarded query split touches one tile). ----
  // With one-row tiles there are no queries to vectorize over; the
  // transposed query row is vectorized along the head dim instead.
  auto overQueries = [&](Func f) {
    if (!rows)
      f.vectorize(qi, vec);
  };
  a.finished.compute_at(a.output, tile).bound_storage(a.qt, 1);
  overQueries(a.finished);
  Var dco("dco"), dci("dci");
  a.finished.split(d, dco, dci, a.chunkDims, TailStrategy::GuardWithIf)
      .unroll(dci); // One state chunk per dco.
  if (a.chunks > 1)
    a.state.bound(a.vc, 0, a.chunks);
  if (a.valueMean.defined())
    a.valueMean.compute_root();    // Rare (empty_rows = uniform) and cheap.
  if (a.querySegments.defined()) { // Packed sequences: one pass over ids.
    a.querySegments.compute_root();
    a.keySegments.compute_root();
  }
  if (withProbs) {
    // Both outputs read the state: compute it for every tile first.
    a.qTiled.compute_root();
    a.state.compute_root();
  } else {
    a.qTiled.compute_at(a.output, tile).bound_storage(a.qt, 1);
    a.state.compute_at(a.output, tile).bound_storage(a.qt, 1);
  }
  overQueries(a.state);
  if (rows)
    a.qTiled.vectorize(d, dLanes);
  else
    a.qTiled.vectorize(qi, vec);

  for (AttentionAlgorithm::Block &block : a.blocks) {
    RVar r = block.blocks.x;
    Var qo(block.name + "_qo"), qv(block.name + "_qv");
    Stage update = a.state.update(block.stage);
    update.split(qi, qo, qv, Tq);
    if (a.chunks > 1) // The block's Funcs at qo, outside the chunk loop.
      update.reorder(qv, a.vc, qo, r, a.qt, a.h, a.b);
    else
      update.reorder(qv, qo, r, a.qt, a.h, a.b);
    if (!rows)
      update.vectorize(qv, vec);
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
    if (rows)
      scheduleRowBlock(a, block, p, level);
    else
      scheduleTileBlock(a, block, p, level, vec);
  }

  // ---- Probabilities: row by row, keys vectorized. ----
  if (withProbs) {
    Var &k = a.k, &h = a.h;
    Var row("probs_row");
    RVar rd = a.probsD.x;
    if (spec.probs == Probs::PerHead) {
      a.probs.fuse(q, h, row).parallel(row).vectorize(
          k, lanes, TailStrategy::GuardWithIf);
      a.probsScore.compute_at(a.probs, row)
          .vectorize(k, lanes, TailStrategy::GuardWithIf);
      a.probsScore.update().reorder(k, rd).vectorize(k, lanes,
                                                     TailStrategy::GuardWithIf);
      a.probsMax.compute_at(a.probs, row);
      a.probsSum.compute_at(a.probs, row);
    } else {
      a.probs.parallel(q).vectorize(k, lanes, TailStrategy::GuardWithIf);
      a.probsTotal.compute_at(a.probs, q)
          .vectorize(k, lanes, TailStrategy::GuardWithIf);
      a.probsTotal.update().vectorize(k, lanes, TailStrategy::GuardWithIf);
      a.probsScore.compute_at(a.probs, q)
          .vectorize(k, lanes, TailStrategy::GuardWithIf);
      a.probsScore.update().reorder(k, rd).vectorize(k, lanes,
                                                     TailStrategy::GuardWithIf);
      a.probsMax.compute_at(a.probs, q);
      a.probsSum.compute_at(a.probs, q);
    }
  }
}

} // namespace attnc::schedules
