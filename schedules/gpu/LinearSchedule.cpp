//===- LinearSchedule.cpp - CUDA schedules of the linear family -----------===//
//
// "gemm": a thread block computes a (block_n * tile_n) x (block_m * tile_m)
// tile of the output with block_n x block_m threads; each thread keeps a
// tile_n x tile_m register tile and reduces over the whole input width.
// Output columns are the fastest thread dimension, so the stores coalesce.
// "gemv" (rows <= gemv_rows): gemv_block_n threads per block, one output
// column each, reducing over the input width in registers.
// Not yet measured on a GPU (docs/cuda.md).
//
//===----------------------------------------------------------------------===//

#include "attnc/Schedules/Schedules.h"

using namespace Halide;
using namespace attnc::kernels;

namespace attnc::schedules {

void scheduleLinearGpu(LinearAlgorithm &a, const ScheduleParams &p,
                       const std::string &shapeClass) {
  Func out = a.output, prod = a.product;
  Var n = a.n, m = a.m;
  const int64_t columns = a.spec.out;
  if (shapeClass == "gemv") {
    // One thread per output column (and row), gemv_unroll_k-way unrolled
    // reduction; weights are read along the reduction by each thread.
    Var no("no"), ni("ni");
    out.split(n, no, ni, int(std::min<int64_t>(p.get("gemv_block_n"), columns)),
              TailStrategy::GuardWithIf)
        .reorder(ni, m, no)
        .gpu_blocks(no)
        .gpu_threads(ni);
    prod.compute_at(out, ni);
    if (p.get("gemv_unroll_k") > 1 && a.spec.in % p.get("gemv_unroll_k") == 0) {
      RVar ko("ko"), ki("ki");
      prod.update()
          .split(a.k.x, ko, ki, int(p.get("gemv_unroll_k")))
          .unroll(ki);
    }
    return;
  }
  int threadsN = int(p.get("block_n")), threadsM = int(p.get("block_m"));
  int tileN = int(p.get("tile_n")), tileM = int(p.get("tile_m"));
  Var no("no"), mo("mo"), ni("ni"), mi("mi"), tx("tx"), ty("ty"), rn("rn"),
      rm("rm");
  TailStrategy columnTail = columns >= threadsN * tileN
                                ? TailStrategy::ShiftInwards
                                : TailStrategy::GuardWithIf;
  out.split(n, no, ni, threadsN * tileN, columnTail)
      .split(m, mo, mi, threadsM * tileM, TailStrategy::GuardWithIf)
      .split(ni, tx, rn, tileN)
      .split(mi, ty, rm, tileM)
      .reorder(rn, rm, tx, ty, no, mo)
      .gpu_blocks(no, mo)
      .gpu_threads(tx, ty)
      .unroll(rn)
      .unroll(rm);
  prod.compute_at(out, tx).unroll(n).unroll(m);
  prod.update().reorder(n, m, a.k.x).unroll(n).unroll(m);
}

} // namespace attnc::schedules
