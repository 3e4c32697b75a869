//===- LinearSchedule.cpp - CPU schedules of the linear family ------------===//
//
// Two shape classes, each a function of its own (the runtime picks by the
// number of rows; both are correct for any number of rows):
//
// "gemm" (the default). The output is cut into block_n x block_m blocks;
// each parallel task owns a column of blocks and first stages its block_n
// columns of the weight, transposed so output columns are contiguous
// (PyTorch's [out, in] layout has the reduction contiguous instead). Inside
// a block, each tile_n x tile_m register tile accumulates over the whole
// reduction in registers (tile_n / vector vectors x tile_m rows),
// broadcasting one input element per row and step. Fewer rows than tile_m
// take the same loops with one-row tiles.
//
// The panel transposition is a noticeable share of a 128-row GEMM, and how
// it is vectorized matters more than its size suggests (panel_transpose):
// Halide turns none of the choices into a shuffle-based transpose, but
// vector x vector tiles with the reduction unrolled (1) build each column
// vector from scalar loads and inserts, where vectorizing along the
// reduction (0) extracts every lane for a scattered store. On this
// machine's AVX-512 EPYC (2 threads, JIT, weights in cache, OpenBLAS with
// SkylakeX kernels in the same process) 1 is 1.1-1.3x faster than 0 for
// 128 x {512, 1024, 1536, 2048} x 512 and 128 x 512 x 2048, 1.0-1.5x of
// OpenBLAS (0.86-1.06x with 0); with AVX2 code 1.0-1.1x.
//
// "gemv" (rows <= gemv_rows: decoding). The weight is streamed once in its
// own layout, gemv_block_n output columns per task, gemv_unroll_n weight
// rows at a time, with the reduction split into gemv_lanes partial sums
// (rfactor) so it vectorizes along the contiguous dimension; the partial
// sums of one group of rows stay in registers (their storage is reordered
// so the lanes are contiguous, since Halide's default puts them outermost
// and turns every vector access into a gather; and the dynamic row loop is
// outside them).
//
// Rows are dynamic, columns static. Column tails shift the last tile inward
// (recomputing a few outputs) so every tile keeps its size.
//
// First measured on AMD EPYC Zen 3 (x86-avx2 defaults, panel_transpose 0, 2
// threads, shared and noisy machine): 128 x 1536 x 512 at 0.9-1.1x of OpenBLAS
// sgemm, 128 x 512 x 2048 at 0.8-0.9x. GEMV, one row, weights streamed from
// memory (x86-avx512 defaults, 2 threads): 2048 x 512 at 54 GB/s, 512 x 2048 at
// 60 GB/s, 0.99-1.05x of OpenBLAS sgemv in the same process.
//
//===----------------------------------------------------------------------===//

#include "ScheduleUtil.h"
#include "attnc/Schedules/Schedules.h"

using namespace Halide;
using namespace attnc::kernels;

namespace attnc::schedules {

/// Loops of the panel copy panel(k, col) = weight(k, col), stored with col
/// innermost. Halide emits no shuffle-based transpose for any of them; which
/// one is fastest depends on the target (see the file comment).
static void transposePanel(Func panel, Var k, Var col, int vec, int how) {
  Var ko("ko"), co("co"), ki("ki"), ci("ci");
  switch (how) {
  case 0: // Contiguous loads along k, scattered stores.
    panel.vectorize(k, vec);
    break;
  case 1: // vec x vec tiles: vectors along col, k unrolled.
    panel.tile(k, col, ko, co, ki, ci, vec, vec, TailStrategy::GuardWithIf)
        .vectorize(ci)
        .unroll(ki);
    break;
  default: // 8 x 8 tiles vectorized in both dimensions.
    panel.tile(k, col, ko, co, ki, ci, 8, 8, TailStrategy::GuardWithIf)
        .vectorize(ki)
        .vectorize(ci);
    break;
  }
}

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
  auto tiles = [&](Stage stage, int rowsPerBlock, int rowsPerTile) {
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
  tiles(out.specialize(rows >= blockM), blockM, tileM);
  tiles(out.specialize(rows >= tileM), tileM, tileM);
  tiles(out, 1, 1);

  // The accumulators of one register tile, kept in registers.
  prod.compute_at(out, nt).vectorize(n, vec).unroll(n).unroll(m);
  prod.update().reorder(n, m, a.k).vectorize(n, vec).unroll(n).unroll(m);
  // The weight panel of one column of blocks, transposed.
  Func panel = a.weight.in(prod);
  Var k = panel.args()[0], col = panel.args()[1];
  panel.compute_at(out, nb).reorder_storage(col, k);
  transposePanel(panel, k, col, vec, int(p.get("panel_transpose")));
}

static void scheduleGemv(LinearAlgorithm &a, const ScheduleParams &p) {
  Func out = a.output, prod = a.product;
  Var n = a.n, m = a.m;
  const int64_t columns = a.spec.out;
  int lanes = int(p.get("gemv_lanes"));
  int unrollN = fitTile(p.get("gemv_unroll_n"), columns, 1);
  int unrollK = int(p.get("gemv_unroll_k"));
  int blockN = fitTile(p.get("gemv_block_n"), columns, unrollN);
  bool parallel = p.get("parallel") != 0;

  Var nb("nb"), ni("ni"), u("u"), no("no"), n4("n4");
  RVar ko("ko"), ki("ki"), kk("kk");
  out.split(n, nb, ni, blockN, TailStrategy::ShiftInwards).reorder(ni, m, nb);
  if (parallel)
    out.parallel(nb);
  prod.compute_at(out, nb);
  if (a.spec.in % lanes != 0 || a.spec.in < lanes) {
    // The reduction does not split evenly: keep it scalar but streaming.
    prod.update().reorder(a.k, n, m);
    return;
  }
  // partial(u, n, m): gemv_lanes partial sums per weight row. prod sums them
  // up for gemv_unroll_n rows at a time, and partial is computed per such
  // group, lanes contiguous, so its accumulators stay in registers.
  Func partial = prod.update().split(a.k, ko, ki, lanes).rfactor(ki, u);
  // Rows (m, dynamic) outermost: inside, every index is static and the
  // accumulators can be registers.
  prod.update()
      .split(n, no, n4, unrollN, TailStrategy::RoundUp)
      .reorder(ki, n4, no, m);
  partial.compute_at(prod, no).reorder_storage(u, n, m).vectorize(u).unroll(n);
  Stage update = partial.update();
  update.reorder(u, n, m, ko).vectorize(u).unroll(n);
  if (unrollK > 1 && (a.spec.in / lanes) % unrollK == 0)
    update.split(ko, ko, kk, unrollK).reorder(u, n, kk, m, ko).unroll(kk);
}

void scheduleLinearCpu(LinearAlgorithm &a, const ScheduleParams &p,
                       const std::string &shapeClass) {
  if (shapeClass == "gemv")
    scheduleGemv(a, p);
  else
    scheduleGemm(a, p);
}

} // namespace attnc::schedules
