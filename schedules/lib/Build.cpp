//===- Build.cpp - A kernel spec, scheduled, as a Halide pipeline ---------===//

#include "attnc/Schedules/Build.h"
#include "attnc/Lowering/LinearWeights.h"
#include "attnc/Schedules/Schedules.h"

#include <cstdlib>
#include <variant>

using namespace Halide;
using namespace attnc::kernels;

namespace attnc::schedules {

namespace {

/// The most value dims per chunk of the attention state (Algorithms.h).
/// Compile time grows with the square of a chunk's size; each chunk beyond
/// the first costs two exp2 per query and key block. At head dim 64, 32
/// compiled a kernel's general and decode variants 1.6x faster than one
/// chunk of 64 (16: 2.3x) and ran within this VM's noise of it (16: about
/// 10% slower with 2 threads); docs/performance.md.
const int kStateChunkDims = 32;

template <class A> BuiltKernel finish(A &algorithm) {
  BuiltKernel built;
  built.pipeline = Pipeline(algorithm.outputs);
  built.arguments = algorithm.arguments;
  built.images = algorithm.images;
  built.scalars = algorithm.scalars;
  built.outputs = algorithm.outputs;
  for (Func &output : algorithm.outputs)
    built.outputNames.push_back(output.name());
  return built;
}

/// Loads Halide's Mullapudi2016 autoscheduler plugin, once.
void loadAutoscheduler() {
  static const bool loaded = [] {
    const char *path = std::getenv("ATTNC_HALIDE_AUTOSCHEDULER");
    Halide::load_plugin(path ? path
                             : "/usr/lib/x86_64-linux-gnu/halide14/"
                               "libautoschedule_mullapudi2016.so");
    return true;
  }();
  (void)loaded;
}

/// Schedules `a` with Mullapudi2016 instead of attnc's schedule, with
/// estimates of 128 rows (or batch 1 and 128 positions).
template <class A>
void autoschedule(A &a, const KernelSpec &spec, const Target &target) {
  loadAutoscheduler();
  auto extentOf = [](const Dim &d) -> int {
    if (d.extent >= 0)
      return int(d.extent);
    return d.symbol == "batch" ? 1 : 128;
  };
  size_t image = 0, output = 0;
  for (const ArgumentSig &arg : spec.signature()) {
    if (arg.kind == ArgumentSig::Kind::Scalar)
      continue;
    std::vector<int> extents;
    for (auto d = arg.dims.rbegin(); d != arg.dims.rend(); ++d)
      extents.push_back(extentOf(*d));
    if (arg.kind == ArgumentSig::Kind::Input) {
      for (size_t i = 0; i < extents.size(); ++i)
        a.images[image].dim(int(i)).set_estimate(0, extents[i]);
      ++image;
    } else {
      Region region;
      for (int e : extents)
        region.push_back(Range(0, e));
      a.outputs[output++].set_estimates(region);
    }
  }
  Pipeline(a.outputs).auto_schedule("Mullapudi2016", target,
                                    MachineParams(2, 32 * 1024 * 1024, 40));
}

/// attnc's schedule, or the autoscheduler when the parameters ask for it
/// (general variant only).
template <class A, class Schedule>
BuiltKernel scheduled(A a, const KernelSpec &spec, const ScheduleParams &params,
                      const Target &target, const std::string &shapeClass,
                      Schedule schedule) {
  if (shapeClass.empty() && params.all().count("autoschedule") &&
      params.get("autoschedule") != 0)
    autoschedule(a, spec, target);
  else
    schedule(a);
  return finish(a);
}

} // namespace

BuiltKernel buildKernel(const KernelSpec &spec, const ScheduleParams &params,
                        const Target &target, const std::string &shapeClass) {
  if (auto *s = std::get_if<LinearSpec>(&spec.family)) {
    LinearProduct form =
        linearProduct(*s, spec.dtype, target.to_string(), shapeClass);
    return scheduled(buildLinear(*s, spec.dtype, form), spec, params, target,
                     shapeClass, [&](LinearAlgorithm &a) {
                       scheduleLinear(a, params, target, shapeClass);
                     });
  }
  if (auto *s = std::get_if<LayerNormSpec>(&spec.family))
    return scheduled(
        buildLayerNorm(*s, spec.dtype), spec, params, target, shapeClass,
        [&](LayerNormAlgorithm &a) { scheduleLayerNorm(a, params, target); });
  if (auto *s = std::get_if<SoftmaxSpec>(&spec.family))
    return scheduled(
        buildSoftmax(*s, spec.dtype), spec, params, target, shapeClass,
        [&](SoftmaxAlgorithm &a) { scheduleSoftmax(a, params, target); });
  if (auto *s = std::get_if<EmbeddingSpec>(&spec.family))
    return scheduled(
        buildEmbedding(*s, spec.dtype), spec, params, target, shapeClass,
        [&](EmbeddingAlgorithm &a) { scheduleEmbedding(a, params, target); });
  if (auto *s = std::get_if<AddSpec>(&spec.family))
    return scheduled(buildAdd(*s, spec.dtype), spec, params, target, shapeClass,
                     [&](AddAlgorithm &a) { scheduleAdd(a, params, target); });
  if (auto *s = std::get_if<AttentionSpec>(&spec.family)) {
    // The decode class (a few query rows per call) takes its own query tile
    // and vector width (tiles of one row get the CPU row schedule, which
    // vectorizes along the head and value dims), and no dense V copy, which
    // pays off across many queries, not one.
    ScheduleParams effective = params;
    if (shapeClass == "decode") {
      effective.set("q_tile", params.get("decode_q_tile"));
      effective.set("vector", params.get("decode_vector"));
      effective.set("s_reg_q", params.get("decode_q_tile"));
      effective.set("pv_reg_q", params.get("decode_q_tile"));
      effective.set("copy_v", 0);
    }
    // The short class (at most short_len queries and keys) takes smaller
    // tiles: more tasks for the threads, and less of a causal diagonal
    // block computed in vain.
    if (shapeClass == "short")
      effective = withShortTiles(params);
    int qTile = int(effective.get("q_tile")),
        kBlock = int(effective.get("k_block"));
    if (target.has_gpu_feature()) {
      // The GPU schedule keeps the tile's state and one staged K and V
      // block in shared memory: stay within the 48 KiB a block gets by
      // default, first with smaller query tiles (down to what leaves room
      // for 8-key blocks), then with smaller key blocks. On an H200, larger
      // query tiles paid more than larger key blocks (docs/cuda.md).
      auto sharedBytes = [&](int tile, int block) {
        return 4 * (int64_t(tile) * (s->valueDim + 2) +
                    int64_t(block) * (s->headDim + s->valueDim));
      };
      const int64_t limit = 48 * 1024;
      while (qTile > 8 && sharedBytes(qTile, 8) > limit)
        qTile /= 2;
      while (kBlock > 8 && sharedBytes(qTile, kBlock) > limit)
        kBlock /= 2;
    }
    // GPU kernels keep the state in one chunk: with several, the OpenCL
    // kernel of the 80-dim test attention computed wrong outputs on PoCL
    // (not understood yet; docs/performance.md).
    int stateChunk =
        target.has_gpu_feature() ? int(s->valueDim) : kStateChunkDims;
    // A GPU thread computes one query: the per-tile guard would need a
    // reduction across the block's threads.
    HiddenValueGuard guard = target.has_gpu_feature()
                                 ? HiddenValueGuard::PerQuery
                                 : HiddenValueGuard::PerTile;
    // Blocks the mask cuts in sub-blocks (CPU): for tiles of many rows of
    // one query tile's size, so that a tile shorter than a key block
    // computes the causal diagonal's square rather than a whole block; for
    // decode rows of decode_masked_keys keys, so that a row reads no keys
    // past its length (a batch's padded sources). buildAttention keeps
    // whole blocks where the size does not divide k_block.
    int maskedKBlock = kBlock;
    if (!target.has_gpu_feature()) {
      if (shapeClass == "decode")
        maskedKBlock = int(effective.get("decode_masked_keys"));
      else if (effective.get("split_masked"))
        maskedKBlock = qTile;
    }
    AttentionAlgorithm a = buildAttention(*s, spec.dtype, qTile, kBlock,
                                          maskedKBlock, stateChunk, guard);
    scheduleAttention(a, effective, target);
    return finish(a);
  }
  throw std::invalid_argument("no kernel builder for family " +
                              spec.familyName());
}

} // namespace attnc::schedules
