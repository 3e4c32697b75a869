//===- Algorithms.h - The Halide algorithm of each kernel family -*- C++
//-*-===//
//
// Each build function turns a kernel spec into Halide Funcs: the math only,
// no schedule. The returned struct exposes the input parameters (in the
// order of the generated function's arguments), the output, and every
// intermediate Func, Var and RDom a schedule (schedules/) may place.
//
// Dimensions are listed innermost first, as Halide does: a PyTorch tensor
// [rows, width] is `x(c, row)`. Row-wise kernels take 2-D buffers; the
// runtime views [batch, length, width] activations as [batch * length,
// width]. Arithmetic is in f32 whatever the storage type.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LOWERING_ALGORITHMS_H
#define ATTNC_LOWERING_ALGORITHMS_H

#include "attnc/Lowering/KernelSpec.h"
#include "attnc/Lowering/LinearWeights.h"

#include "Halide.h"

#include <vector>

namespace attnc {
namespace kernels {

/// The Halide type of a storage dtype.
Halide::Type halideType(DType dtype);

/// What every family's algorithm provides to the emitter and the tuner.
struct Algorithm {
  std::vector<Halide::Argument> arguments; ///< Inputs, in call order.
  std::vector<Halide::Func> outputs;       ///< Outputs, in call order.
  /// The same inputs as parameter objects, for JIT runs: buffers in order,
  /// and the int32 scalars in order (they follow the buffers).
  std::vector<Halide::ImageParam> images;
  std::vector<Halide::Param<int32_t>> scalars;

  void addInput(const Halide::ImageParam &image) {
    arguments.push_back(image);
    images.push_back(image);
  }
  void addScalar(const Halide::Param<int32_t> &scalar) {
    arguments.push_back(scalar);
    scalars.push_back(scalar);
  }
};

/// y(n, m) = act(sum_k x(k, m) * W(n, k) + bias(n)), with W packed in
/// panels: W(n, k) = weight(n % 16, k, n / 16) (see LinearSpec), stored as
/// spec.weights; int8 multiplies the sum by weight_scale(n). `form`
/// (linearProduct, LinearWeights.h) says how the product multiplies:
///
/// - Widened: product(n, m) += x(k, m) * weights(n, k), `weights` the
///   weight in f32.
/// - BF16Pairs: the product runs over pairs of k instead: product(n, m) +=
///   W(n, 2 kp + j) * bf16(x(2 kp + j, m)) over kPairs = (j, kp), both
///   factors bf16 (an int8 weight converts exactly), so that a schedule
///   vectorizing j (atomic) inside 16 lanes of n gets Halide's vdpbf16ps.
///   weightPairs and inputPairs, the two factors in that order of dims, are
///   inline unless a schedule stages them; `weights` is unused.
/// - ScaledHalves (f16 weights): `weights` is W(n, k) * 2^-112, the half's
///   bits shifted to where an f32's go (exact for every finite half,
///   subnormal ones included), and product(n, m) += scaledInput(k, m) *
///   weights(n, k) with scaledInput = x * inputScale(m), inputScale(m) =
///   2^(112 - d) and d >= 0 the least that keeps the row's largest
///   |x| * 2^(112 - d) below 2^127 (0 unless some |x| >= 2^15); the sum is
///   multiplied by 2^d. The powers of two make every product and sum that
///   of Widened times 2^-d, exactly, while neither leaves f32's normal
///   range. inputPeak(lane, m), the largest |x(k, m)| over k = lane mod 16,
///   and inputScale are inline unless a schedule stages them (the reduction
///   of inputPeak belongs before the reduction over k).
struct LinearAlgorithm : Algorithm {
  Halide::ImageParam input, weight, weightScale, bias;
  Halide::Func weights; ///< (n, kv): W(n, kv) in f32; inline unless staged.
  /// (kv, m): a bf16 input as f32 (Widened form, bf16 activations only;
  /// undefined for f32 ones); inline unless staged.
  Halide::Func widenedInput;
  Halide::Func product; ///< (n, m): the reduction over k, no bias.
  Halide::Func output;  ///< (n, m): the activation of product.
  Halide::Var n{"n"}, m{"m"}, kv{"kv"};
  Halide::RDom k;
  LinearProduct form = LinearProduct::Widened;
  Halide::Func weightPairs; ///< (j, n, kp): W(n, 2 kp + j) (int8: q), bf16.
  Halide::Func inputPairs;  ///< (j, kp, m): x(2 kp + j, m) rounded to bf16.
  Halide::Var j{"j"}, kp{"kp"};
  Halide::RDom kPairs;      ///< (j in [0, 2), kp in [0, ceil(in / 2)))
  Halide::Func inputPeak;   ///< (lane, m): max |x(k, m)|, k = lane mod 16.
  Halide::Func inputScale;  ///< (m): 2^(112 - d).
  Halide::Func scaledInput; ///< (kv, m): x(kv, m) * inputScale(m).
  Halide::Var lane{"lane"};
  LinearSpec spec;
};
LinearAlgorithm buildLinear(const LinearSpec &spec, DType dtype,
                            LinearProduct form = LinearProduct::Widened);

/// y(c, m) = (s - mean) * rsqrt(var + eps) * gamma(c) + beta(c), s = x + r.
struct LayerNormAlgorithm : Algorithm {
  Halide::ImageParam input, residual, gamma, beta;
  Halide::Func sum;      ///< (c, m): input plus residual, in f32.
  Halide::Func mean;     ///< (m)
  Halide::Func variance; ///< (m)
  Halide::Func output;   ///< (c, m)
  Halide::Var c{"c"}, m{"m"};
  Halide::RDom r;
  LayerNormSpec spec;
};
LayerNormAlgorithm buildLayerNorm(const LayerNormSpec &spec, DType dtype);

/// y(c, m) = exp(x(c, m) - max_c x) / sum_c exp(...).
struct SoftmaxAlgorithm : Algorithm {
  Halide::ImageParam input;
  Halide::Func maximum, exponent, total, output;
  Halide::Var c{"c"}, m{"m"};
  Halide::RDom r;
  SoftmaxSpec spec;
};
SoftmaxAlgorithm buildSoftmax(const SoftmaxSpec &spec, DType dtype);

/// y(c, t, b) = table(c, tokens(t, b)) * scale + pe(c, t + position_offset),
/// pe a sinusoid or a row of position_table (learned). Token ids and
/// positions are clamped into their tables; the runtime rejects bad ids and
/// sequences longer than max_len first.
struct EmbeddingAlgorithm : Algorithm {
  Halide::ImageParam tokens, table, positionTable;
  Halide::Param<int32_t> positionOffset{"position_offset"};
  /// The sinusoid's frequency of column c (defined where spec.sinusoidal).
  Halide::Func frequency;
  Halide::Func output;
  Halide::Var c{"c"}, t{"t"}, b{"b"};
  EmbeddingSpec spec;
};
EmbeddingAlgorithm buildEmbedding(const EmbeddingSpec &spec, DType dtype);

/// y(c, m) = a(c, m) + b(c, m).
struct AddAlgorithm : Algorithm {
  Halide::ImageParam lhs, rhs;
  Halide::Func output;
  Halide::Var c{"c"}, m{"m"};
  AddSpec spec;
};
AddAlgorithm buildAdd(const AddSpec &spec, DType dtype);

/// Fused ("flash-style") attention: see AttentionAlgorithm.cpp. The
/// algorithm is written over explicit query tiles (q = qt * qTile + qi) and
/// key blocks (k = kb * kBlock + j), which is what lets each tile visit only
/// the key blocks its mask leaves visible; qTile and kBlock therefore come
/// from the schedule parameters.
///
/// The online-softmax state is split along the value dims into chunks of at
/// most `stateChunk` dims (see stateChunking): the state's Tuple holds one
/// chunk's accumulators plus its own copy of the running max and sum, and a
/// pure chunk dimension `vc` spans the chunks. A Tuple of Dv + 2 values made
/// compile time grow with the square of Dv (docs/performance.md).
struct AttentionAlgorithm : Algorithm {
  Halide::ImageParam query, key, value, kvLengths, segmentIds, bias,
      scoreWeight;
  /// The score function's tensors (spec.scoreTensors), the last inputs.
  std::vector<Halide::ImageParam> scoreTensors;
  /// The position of query row 0 (masks and ALiBi see row i at position
  /// i + q_offset): 0 for whole sequences, t when decoding step t against
  /// a cache of t + 1 keys.
  Halide::Param<int32_t> qOffset{"q_offset"};
  int qTile = 64, kBlock = 64;
  /// The state's chunks along the value dims and the dims in each (the last
  /// chunk's spare slots, if chunks * chunkDims > Dv, repeat dim Dv - 1).
  int chunks = 1, chunkDims = 64;

  Halide::Func qTiled; ///< (qi, d, qt, h, b): Q transposed and pre-scaled.
  /// (qi, vc, qt, h, b): Tuple(acc_0..acc_{chunkDims-1}, m, l) of value
  /// chunk vc; every chunk of a query holds the same m and l.
  Halide::Func state;
  /// (qt, b) and (kb, b): Tuple(min, max) of the segment ids of a query
  /// tile and of a key block (segments only).
  Halide::Func querySegments, keySegments;
  Halide::Func valueMean;  ///< (d, h, b): mean of V, for empty_rows uniform.
  Halide::Func finished;   ///< (qi, d, qt, h, b): normalized output tile.
  Halide::Func output;     ///< (c, q, b)
  Halide::Func probs;      ///< (k, q, h, b) per head, or (k, q, b) head mean.
  Halide::Func headProbs;  ///< (k, q, h, b), the per-head probabilities.
  Halide::Func probsScore; ///< (k, q, h, b): the recomputed scores.
  Halide::Func probsLogit; ///< (k, q, h, b): modified, log2 domain.
  Halide::Func probsMax;   ///< (q, h, b): max visible logit of the row.
  Halide::Func probsSum;   ///< (q, h, b): sum of exp2(logit - max).
  Halide::Func probsTotal; ///< (k, q, b): sum over heads (head_mean only).
  Halide::RDom probsD, probsHeads, probsKeys;

  /// The Funcs of one key block, one set per update stage of `state`.
  struct Block {
    std::string name;
    bool masked = false;
    int stage = 0;       ///< state.update(stage) folds these in.
    int keys = 64;       ///< Keys per block of this stage (rj's extent).
    Halide::RDom blocks; ///< Over key blocks, restricted to the stage.
    Halide::RDom rd, rj; ///< Head-dim and in-block key reductions.
    Halide::Func keyBlock, valueBlock; ///< (d, j, kb, h, b) staged K / V.
    /// Masked blocks under HiddenValueGuard::PerTile only: (j, qt, kb, h,
    /// b) whether some query of the tile sees key j (a reduction over
    /// `seenRows`), and (d, j, qt, kb, h, b) V with the rows of the keys
    /// none sees zeroed, which P V reads instead of valueBlock.
    Halide::Func keySeen, seenValue;
    Halide::RDom seenRows;
    Halide::Func scoreSum; ///< (qi, j, qt, kb, h, b): the reduction of S.
    Halide::Func score;    ///< Scores (log2 domain), masked if masked.
    Halide::Func blockMax; ///< (qi, qt, kb, h, b)
    Halide::Func p;        ///< exp2(score - blockMax), 0 where masked.
    Halide::Func blockSum; ///< sum_j p
    Halide::Func pvSum;    ///< (qi, d, qt, kb, h, b): the reduction of P V.
    Halide::Func pv;
  };
  std::vector<Block> blocks;

  Halide::Var c{"c"}, q{"q"}, b{"b"}, h{"h"}, qi{"qi"}, qt{"qt"}, d{"d"},
      j{"j"}, kb{"kb"}, k{"k"}, vc{"vc"};
  AttentionSpec spec;
};

/// How the state of `valueDim` value dims splits into chunks of at most
/// `maxChunkDims`: as few chunks as possible, of equal size, and chunks that
/// divide valueDim exactly if up to twice as many do (80 = 4 x 20 rather
/// than 3 x 27 with a spare slot).
struct StateChunking {
  int chunks, chunkDims;
};
inline StateChunking stateChunking(int64_t valueDim, int64_t maxChunkDims) {
  int64_t cap = maxChunkDims < 1 ? 1 : maxChunkDims;
  int64_t fewest = (valueDim + cap - 1) / cap;
  for (int64_t chunks = fewest; chunks <= 2 * fewest && chunks <= valueDim;
       ++chunks)
    if (valueDim % chunks == 0)
      return {int(chunks), int(valueDim / chunks)};
  return {int(fewest), int((valueDim + fewest - 1) / fewest)};
}

/// How a masked key block keeps the value row of a key that a query cannot
/// see (a padded key or a stale cache row, which may hold NaN or Inf) out of
/// that query's output, where 0 * NaN would be NaN.
enum class HiddenValueGuard {
  /// P V adds a value only where the query's probability is nonzero: exact
  /// for every query, at one select per multiply-add. GPU kernels, which
  /// compute one query per thread.
  PerQuery,
  /// The value rows of the keys that no query of the tile sees are zeroed
  /// once per block, before P V: one select per value instead of one per
  /// multiply-add (causal attention at 128 tokens 1.1-1.3x faster on an
  /// AVX2 machine, docs/performance.md). A non-finite value row that some
  /// query of the tile sees may reach the tile's other queries. CPU kernels.
  PerTile,
};

/// `maskedKBlock` (a divisor of kBlock; kBlock or 0: no split) is the size
/// of the sub-blocks in which blocks the mask cuts are computed, skipping
/// those the mask hides from the whole query tile (not with segments).
AttentionAlgorithm buildAttention(const AttentionSpec &spec, DType dtype,
                                  int qTile, int kBlock, int maskedKBlock,
                                  int stateChunk, HiddenValueGuard guard);

} // namespace kernels
} // namespace attnc

#endif // ATTNC_LOWERING_ALGORITHMS_H
