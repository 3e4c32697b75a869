//===- LinearSchedule.cpp - CPU schedules of the linear family ------------===//
//
// Two shape classes, each a function of its own (the runtime picks by the
// number of rows; both are correct for any number of rows):
//
// "gemm" (the default). The output is cut into blocks of block_n columns
// and at most block_m rows (as many equal row blocks, in whole tiles, as
// block_m allows); each parallel task owns a column of blocks and first
// stages its block_n columns of the weight, output columns contiguous: with
// the weight packed in 16-column panels (see LinearSpec) that is a plain
// copy of whole panels (aligned to 16, so it vectorizes with dense loads).
// Inside a block, each tile_n x tile_m register tile accumulates over the
// whole reduction in registers (tile_n / vector vectors x tile_m rows),
// broadcasting one input element per row and step. Fewer rows than tile_m
// take the same loops with one-row tiles. Where the algorithm multiplies
// bf16 pairs (LinearProduct::BF16Pairs: AVX-512 BF16), the same tiles
// reduce over pairs of k with one vdpbf16ps per vector and row,
// broadcasting one input pair per row and step; the staged block holds the
// weight with each pair adjacent, and each row of tiles rounds its input
// rows to bf16 once.
//
// "gemv" (rows <= gemv_rows: decoding, one row per sequence). Each task
// owns gemv_block_n output columns and streams their panels: for each input
// element, one vector of 16 weights per panel is multiplied by the broadcast
// input of each of gemv_tile_m rows and added to that row's and panel's 16
// accumulators, gemv_panels panels side by side (unrolled, independent
// accumulator chains). The weight is read as one contiguous stream per
// panel, which is what the hardware prefetcher follows best: on this
// machine's AVX-512 EPYC (1 thread, weights cold, Halide JIT) 1.3-1.7x
// faster than the same reduction over PyTorch's [out, in] layout with 8 rows
// of 16-lane partial sums (the schedule before the packing), e.g. 512 x 1536
// at 52 against 37 GB/s. Each weight vector (and its widening) serves a
// whole row tile, and the next row tile reads the task's panels from cache:
// on a Zen 5 EPYC (AVX-512, 1 thread, Halide JIT) 4-row tiles of 4 panels
// took 285 us for 16 rows of a 2048 -> 512 linear where one row at a time
// took 814 us, and no longer at 1 to 8 rows; with AVX2 (16 registers) they
// did not pay, so its default stays one row. With f16 weights
// (LinearProduct::ScaledHalves) the input rows are scaled once per call,
// before the tasks, and each weight vector costs a widening load, a shift
// and a mask: in the 6+6 decode (2 threads, ATTNC_PROFILE) its 512 x 2048
// GEMV took 1.05x bf16's time, where widening each half exactly (10
// operations) took 1.74x.
//
// One row (batch-1 decoding) of weights narrower than f32 gets a "gemv"
// function of its own where gemv1_panels is set (Dispatch.cpp,
// defaultPlan, defaultParamsFor): this schedule with gemv1_block_n columns
// per task and gemv1_panels panels side by side. A narrow panel streams
// few bytes per step (16 for int8), and a row tile of gemv_tile_m rows
// needs tile_m x panels accumulators, so the multi-row function keeps 4
// panels while one row streams 8. On the Zen 5 EPYC (AVX-512, 2 threads,
// the 6+6 model's 32 greedy steps, docs/performance.md) 128 columns of 8
// panels made bf16, f16 and int8 decoding 3-9% faster and f32 about 8%
// slower, and batch-16 decoding with 8 panels in 4-row tiles 15-20% slower.
//
// Rows are dynamic, columns static. Column tails shift the last block inward
// (recomputing a few outputs); computed regions are aligned to whole panels.
//
//===----------------------------------------------------------------------===//

#include "ScheduleUtil.h"
#include "attnc/Schedules/Schedules.h"

using namespace Halide;
using namespace attnc::kernels;

namespace attnc::schedules {

static void scheduleGemm(LinearAlgorithm &a, const ScheduleParams &p) {
  Func out = a.output, prod = a.product;
  Var n = a.n, m = a.m;
  const int64_t columns = a.spec.out;
  Expr rows = out.output_buffer().dim(1).extent();

  int vec = fitTile(p.get("vector"), columns, 1);
  int tileN = fitTile(p.get("tile_n"), columns, vec);
  int tileM = int(std::max<int64_t>(1, p.get("tile_m")));
  int blockN = fitTile(p.get("block_n"), columns, tileN);
  int blockM = int(std::max<int64_t>(tileM, p.get("block_m") / tileM * tileM));
  bool parallel = p.get("parallel") != 0;

  Var nb("nb"), mb("mb"), nt("nt"), mt("mt"), ni("ni"), mi("mi");
  // Every branch has the loops nb and nt, where the producers live.
  auto tiles = [&](Stage stage, Expr rowsPerBlock, int rowsPerTile) {
    stage
        .tile(n, m, nb, mb, n, m, blockN, rowsPerBlock,
              TailStrategy::ShiftInwards)
        .tile(n, m, nt, mt, ni, mi, tileN, rowsPerTile,
              TailStrategy::ShiftInwards)
        .vectorize(ni, vec)
        .reorder(ni, mi, nt, mt, mb, nb);
    if (rowsPerTile > 1)
      stage.unroll(mi);
    if (parallel)
      stage.parallel(nb);
  };
  // Row blocks of equal size, at most block_m rows, in whole tiles: the
  // last block shifts inward and recomputes fewer than one tile per block.
  // Blocks of exactly block_m rows made 129 rows cost 256: the 6+6
  // encoder (examples/transformer, 2 threads, Zen 5 EPYC) took 26.6-27.3
  // ms for 129 tokens against 15.1-15.7 for 128; now 17.1-17.3.
  Expr blocks = (rows + blockM - 1) / blockM;
  Expr blockRows = ((rows + blocks - 1) / blocks + tileM - 1) / tileM * tileM;
  tiles(out.specialize(rows >= blockM), blockRows, tileM);
  tiles(out.specialize(rows >= tileM), tileM, tileM);
  tiles(out, 1, 1);

  // The accumulators of one register tile, kept in registers.
  prod.compute_at(out, nt).vectorize(n, vec).unroll(n).unroll(m);
  const int width = int(kLinearPanelWidth);
  if (a.form == LinearProduct::BF16Pairs) {
    // Pairs of k: the pair (j, vectorized atomically) inside vec lanes of n
    // is one vdpbf16ps per vector and row. The weight columns of one column
    // of blocks are staged with each pair adjacent (two panel rows
    // interleaved); the tile_m input rows of one row of tiles are rounded
    // to bf16 once for all the tiles of the block that use them.
    RVar j = a.kPairs.x, kp = a.kPairs.y;
    prod.update()
        .reorder(j, n, m, kp)
        .atomic()
        .vectorize(j)
        .vectorize(n, vec)
        .unroll(n)
        .unroll(m);
    a.weightPairs.compute_at(out, nb)
        .align_bounds(n, width)
        .reorder(a.j, n, a.kp)
        .vectorize(a.j)
        .vectorize(n, width, TailStrategy::RoundUp);
    a.inputPairs.compute_at(out, mt).vectorize(a.j).vectorize(
        a.kp, vec, TailStrategy::GuardWithIf);
    return;
  }
  prod.update().reorder(n, m, a.k).vectorize(n, vec).unroll(n).unroll(m);
  // The weight columns of one column of blocks: whole panels, copied.
  a.weights.compute_at(out, nb).align_bounds(n, width).vectorize(
      n, width, TailStrategy::RoundUp);
  // bf16 activations: the tile_m input rows of one row of tiles widened
  // once, so the multiply-adds broadcast f32 as they do for f32 inputs.
  if (a.widenedInput.defined())
    a.widenedInput.compute_at(out, mt).vectorize(a.kv, vec,
                                                 TailStrategy::GuardWithIf);
}

static void scheduleGemv(LinearAlgorithm &a, const ScheduleParams &p) {
  Func out = a.output, prod = a.product;
  Var n = a.n, m = a.m;
  const int64_t columns = a.spec.out;
  Expr rows = out.output_buffer().dim(1).extent();
  const int width = int(kLinearPanelWidth);
  // Panels side by side (regions aligned to a group may reach past the
  // last panel: the algorithm clamps that read).
  const int group =
      width * int(std::min<int64_t>(
                  a.spec.panels(), std::max<int64_t>(1, p.get("gemv_panels"))));
  int blockN = fitTile(p.get("gemv_block_n"), columns, width);
  int tileM = int(std::max<int64_t>(1, p.get("gemv_tile_m")));
  bool parallel = p.get("parallel") != 0;

  Var nb("nb"), ni("ni"), no("no"), mo("mo"), mi("mi"), panel("panel"),
      lane("lane");
  // The epilogue's vectors: a panel's width, or all of a narrower output.
  const int vec = fitTile(width, blockN, 1);
  auto tiles = [&](Stage stage, int rowsPerTile) {
    stage.split(n, nb, ni, blockN, TailStrategy::ShiftInwards)
        .split(m, mo, mi, rowsPerTile, TailStrategy::ShiftInwards)
        .reorder(ni, mi, mo, nb)
        .vectorize(ni, vec);
    if (parallel)
      stage.parallel(nb);
  };
  if (tileM > 1)
    tiles(out.specialize(rows >= tileM), tileM);
  tiles(out, 1);
  // One row tile of the task's columns, its panels aligned to a group. A
  // storage extent known at compile time puts every accumulator at a fixed
  // offset, which lets LLVM keep them in registers across the reduction.
  const int storedColumns = (blockN + group - 1) / group * group + group;
  prod.compute_at(out, mo)
      .align_bounds(n, group)
      .bound_storage(n, storedColumns)
      .vectorize(n, width, TailStrategy::RoundUp);
  // Inside the reduction every index is static: tile_m x gemv_panels
  // accumulators, one broadcast input element per row and step.
  prod.update()
      .split(n, no, ni, group, TailStrategy::RoundUp)
      .split(ni, panel, lane, width)
      .reorder(lane, panel, m, a.k, no)
      .vectorize(lane)
      .unroll(panel)
      .unroll(m);
  if (a.form == LinearProduct::ScaledHalves) {
    a.inputScale.compute_root();
    a.inputPeak.compute_at(a.inputScale, m).vectorize(a.lane);
    a.inputPeak.update().vectorize(a.lane);
    a.scaledInput.compute_root().vectorize(a.kv, width,
                                           TailStrategy::GuardWithIf);
  }
}

void scheduleLinearCpu(LinearAlgorithm &a, const ScheduleParams &p,
                       const std::string &shapeClass) {
  if (shapeClass == "gemv")
    scheduleGemv(a, p);
  else
    scheduleGemm(a, p);
}

} // namespace attnc::schedules
