//===- AttentionAlgorithm.cpp - Fused attention as a Halide algorithm -----===//
//
// Online-softmax attention that never materializes the q_len x kv_len score
// matrix (unless the probabilities are asked for as an output):
//
// * Queries come in tiles of qTile; `qTiled` holds a tile transposed
//   (queries innermost, so they vectorize) and pre-scaled by scale * log2(e),
//   so scores live in the log2 domain and exp becomes exp2. With score
//   modifiers, which are defined on natural-log scores, the log2(e) factor
//   is applied after them instead.
// * Keys come in blocks of kBlock. For each block: scores S (a reduction
//   over the head dimension; for additive scoring w . tanh(q + k)), score
//   modifiers, the mask (only in masked stages), the block max, P =
//   exp2(S - max), its sum, and P V.
// * `state` is one Tuple per query and chunk of the value dims (at most
//   stateChunk dims): the chunk's accumulators, the running max m and the
//   running sum l (the same in every chunk). Each update stage folds its
//   blocks in with a split-K style merge (m' = max(m, bm); acc' = acc *
//   2^(m - m') + pv * 2^(bm - m')). The block Funcs use the block's own max
//   because a Func computed inside state's update cannot read state. Chunks
//   keep the Tuple small whatever Dv is: Halide compiles a Tuple of n values
//   as n buffers, and some of its passes cost buffers x statement size.
// * Two update stages: "full" blocks, which every query of the tile sees
//   entirely (no mask code at all), and "masked" blocks, which apply the
//   elementwise mask. Built-in masks (causal, window) reach the kernel as
//   predicates (the front end's prelude, Prelude.cpp); each (tile,
//   block) pair is classified at run time by
//   interval arithmetic over the predicate and the key length
//   (MaskClassification.h), and each stage's RDom is `where`-restricted to
//   its class, so blocks the mask hides entirely are never computed. The
//   masked stage may take a block in sub-blocks of maskedKBlock keys and
//   skip those the mask hides from the whole tile: with 32-query tiles and
//   64-key blocks, the causal diagonal then costs a 32 x 32 triangle's
//   square instead of a 32 x 64 rectangle.
// * Masked scores are a true minus infinity, while running and block maxima
//   start at the lowest finite float, so any finite logit normalizes however
//   small it is, and exp2 (which clamps its input at -127) never sees
//   -inf - -inf. A masked key's V (padding, a stale cache row) may hold NaN
//   or Inf and must not reach a row that cannot see it (0 * NaN = NaN): in
//   masked stages P V either adds a key's value only where the query's
//   probability is nonzero (HiddenValueGuard::PerQuery) or reads V with the
//   rows of the keys no query of the tile sees zeroed (PerTile).
//   Rows with no visible key have l = 0 and output zeros (or the mean of V
//   under empty_rows = uniform).
// * Probabilities, when asked for, are a softmax of their own over the
//   recomputed score row (its own max and sum), so each row sums to 1 to
//   float rounding however the recomputed scores round.
//
// Exponentials use exp2 by range reduction and a degree-6 polynomial of 2^f
// on [-0.5, 0.5] (relative error about 1e-7).
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/Algorithms.h"
#include "attnc/Lowering/MaskClassification.h"

#include <cmath>
#include <limits>
#include <stdexcept>

using namespace Halide;
using namespace attnc::kernels;

namespace {

/// Score of a masked key.
const float kMinusInfinity = -std::numeric_limits<float>::infinity();
/// Start of every running maximum: below any finite score.
const float kLowestScore = std::numeric_limits<float>::lowest();
const float kLog2E = 1.4426950408889634f;

/// 2^x for x <= 0 (clamped at -127, which gives exactly 0).
Expr exp2Polynomial(Expr x) {
  x = max(x, -127.0f);
  Expr n = round(x);
  Expr f = x - n; // [-0.5, 0.5]
  const int degree = 6;
  std::vector<float> coefficients(degree + 1);
  double term = 1.0;
  for (int i = 0; i <= degree; ++i) {
    coefficients[i] = float(term); // (ln 2)^i / i!
    term *= std::log(2.0) / double(i + 1);
  }
  Expr p = coefficients[degree];
  for (int i = degree - 1; i >= 0; --i)
    p = p * f + coefficients[i];
  return p * reinterpret(Float(32), (cast<int>(n) + 127) << 23);
}

/// ALiBi slopes of `heads` heads (Press et al., also for head counts that
/// are not powers of two).
std::vector<float> alibiSlopes(int64_t heads) {
  auto powerOfTwo = [](int64_t n) {
    std::vector<float> slopes;
    for (int64_t i = 1; i <= n; ++i)
      slopes.push_back(float(std::pow(2.0, -8.0 * double(i) / double(n))));
    return slopes;
  };
  int64_t n = 1;
  while (n * 2 <= heads)
    n *= 2;
  std::vector<float> slopes = powerOfTwo(n);
  std::vector<float> extra = powerOfTwo(2 * n);
  for (int64_t i = 0; int64_t(slopes.size()) < heads; i += 2)
    slopes.push_back(extra[i]);
  return slopes;
}

/// x / y truncated toward zero, as in C, for any y (Halide's own integer
/// division rounds toward minus infinity for y > 0 and up for y < 0, and
/// Halide 14's div_round_to_zero gives wrong results for divisors that are
/// not powers of two). x / 0 is 0, as Halide defines it.
Expr truncatingDiv(Expr x, Expr y) {
  Expr adjust = select(x < 0 && x % y != 0, select(y > 0, 1, -1), 0);
  return select(y == 0, 0, x / y + adjust);
}

/// x % y with the sign of x, as in C: x == (x / y) * y + x % y with the
/// truncating division above. x % 0 is 0.
Expr truncatingRem(Expr x, Expr y) {
  Expr euclidean = x % y; // in [0, |y|)
  return select(y == 0, 0,
                select(x < 0 && euclidean != 0, euclidean - abs(y), euclidean));
}

/// A mask predicate as a Halide expression: a condition when `wantBool`
/// (constants carry no type, so the context decides what `1` is), else an
/// int32. `/` and `%` truncate, as in C.
Expr predicateExpr(const Predicate &p, const std::vector<Expr> &vars,
                   bool wantBool) {
  using Op = Predicate::Op;
  auto asBool = [](Expr e) { return e.type().is_bool() ? e : e != 0; };
  if (p.op == Op::Var)
    return wantBool ? vars[p.value] != 0 : vars[p.value];
  if (p.op == Op::Const)
    return wantBool ? cast(Bool(), Expr(int32_t(p.value != 0)))
                    : Expr(int32_t(p.value));
  bool logical = p.op == Op::And || p.op == Op::Or || p.op == Op::Xor;
  bool boolOperands =
      logical || ((p.op == Op::Eq || p.op == Op::Ne) &&
                  (isCondition(*p.operands[0]) || isCondition(*p.operands[1])));
  Expr x = predicateExpr(*p.operands[0], vars, boolOperands);
  Expr y = predicateExpr(*p.operands[1], vars, boolOperands);
  Expr result;
  switch (p.op) {
  case Op::Add:
    result = x + y;
    break;
  case Op::Sub:
    result = x - y;
    break;
  case Op::Mul:
    result = x * y;
    break;
  case Op::Div:
    result = truncatingDiv(x, y);
    break;
  case Op::Rem:
    result = truncatingRem(x, y);
    break;
  case Op::Min:
    result = min(x, y);
    break;
  case Op::Max:
    result = max(x, y);
    break;
  case Op::Eq:
    result = x == y;
    break;
  case Op::Ne:
    result = x != y;
    break;
  case Op::Lt:
    result = x < y;
    break;
  case Op::Le:
    result = x <= y;
    break;
  case Op::Gt:
    result = x > y;
    break;
  case Op::Ge:
    result = x >= y;
    break;
  case Op::And:
    result = x && y;
    break;
  case Op::Or:
    result = x || y;
    break;
  case Op::Xor:
    result = x != y;
    break;
  default:
    throw std::invalid_argument("bad predicate");
  }
  if (wantBool)
    return asBool(result);
  return result.type().is_bool() ? select(result, 1, 0) : result;
}

/// Block classification's arithmetic on Halide expressions: 64-bit
/// integers, so that ranges of 32-bit predicates cannot overflow.
struct HalideArithmetic {
  using Int = Expr;
  using Bool = Expr;
  static Expr constant(int64_t value) { return Expr(value); }
  static Expr truth(bool value) {
    return cast(Halide::Bool(), Expr(int32_t(value)));
  }
  static Expr min(Expr a, Expr b) { return Halide::min(a, b); }
  static Expr max(Expr a, Expr b) { return Halide::max(a, b); }
  static Expr select(Expr c, Expr a, Expr b) { return Halide::select(c, a, b); }
  /// C's truncating a / c and a % c for a constant c != 0.
  static Expr div(Expr a, int64_t c) {
    Expr divisor(c), zero(int64_t(0));
    return Halide::select(a < zero, zero - (zero - a) / divisor, a / divisor);
  }
  static Expr rem(Expr a, int64_t c) { return a - div(a, c) * Expr(c); }
};

/// The range [lo, hi] of a 32-bit index, for block classification.
IntRange<HalideArithmetic> indexRange(Expr lo, Expr hi) {
  return IntRange<HalideArithmetic>::of(cast<int64_t>(lo), cast<int64_t>(hi),
                                        32);
}

//===----------------------------------------------------------------------===//
// Score modifiers: one expression tree (AttentionSpec::scoreFn)
//===----------------------------------------------------------------------===//

/// What a score expression reads at one (batch, head, query, key) element.
struct ScoreContext {
  std::vector<Expr> vars; ///< b, h, query position, key, s
  Expr bias;              ///< The built-in bias at this element, if any.
  const std::vector<ImageParam> *tensors = nullptr; ///< scoreTensors
  const std::vector<float> *slopes = nullptr;       ///< ALiBi, if any
};

Expr asFloat(Expr e) {
  if (e.type().is_bool())
    return select(e, 1.0f, 0.0f);
  // The int32 of an absolute value (uint32 in Halide) converts directly:
  // alibi's float(|q - k|) stays the expression it always was.
  if (const auto *c = e.as<Halide::Internal::Cast>())
    if (c->type == Int(32) && c->value.type() == UInt(32))
      return cast<float>(c->value);
  return e.type().is_float() ? e : cast<float>(e);
}
Expr asInt(Expr e) {
  if (e.type().is_bool())
    return select(e, 1, 0);
  return e.type().is_float() ? cast<int>(e) : e;
}
Expr asBool(Expr e) { return e.type().is_bool() ? e : e != 0; }

/// T5's relative position bucket of `rel` = k - q, as HuggingFace's
/// T5Attention._relative_position_bucket computes it, by integer thresholds
/// (t5BucketThresholds) instead of a logarithm per score.
Expr t5Bucket(Expr rel, int numBuckets, int maxDistance, bool bidirectional) {
  Expr bucket = 0;
  int n = numBuckets;
  if (bidirectional) {
    n /= 2;
    bucket = select(rel > 0, n, 0);
    rel = cast<int>(abs(rel));
  } else {
    rel = -min(rel, 0);
  }
  const int maxExact = n / 2;
  Expr large = maxExact;
  for (int64_t threshold :
       t5BucketThresholds(numBuckets, maxDistance, bidirectional))
    large += select(rel >= int(threshold), 1, 0);
  return bucket + select(rel < maxExact, rel, large);
}

/// A score expression as a Halide Expr of its natural type: Int(32) for
/// integers, Bool for conditions, Float(32) for scores. Integers meeting a
/// float convert; integer / and % truncate, as in C.
Expr scoreValue(const Predicate &p, const ScoreContext &ctx) {
  using Op = Predicate::Op;
  switch (p.op) {
  case Op::Var:
    return ctx.vars.at(p.value);
  case Op::Const:
    return Expr(int32_t(p.value));
  case Op::Float:
    return Expr(float(p.number));
  case Op::BiasAt:
    return ctx.bias;
  case Op::AlibiSlope: {
    std::vector<Expr> slopes(ctx.slopes->begin(), ctx.slopes->end());
    return slopes.size() == 1 ? slopes[0]
                              : mux(scoreValue(*p.operands[0], ctx), slopes);
  }
  case Op::T5Bucket:
    return t5Bucket(asInt(scoreValue(*p.operands[0], ctx)),
                    int(p.operands[1]->value), int(p.operands[2]->value),
                    p.operands[3]->value != 0);
  case Op::Tensor: {
    const ImageParam &tensor = ctx.tensors->at(p.operands[0]->value);
    int rank = tensor.dimensions();
    std::vector<Expr> at(rank);
    for (int i = 0; i < rank; ++i) // Indices outermost first; Halide's last.
      at[rank - 1 - i] = clamp(asInt(scoreValue(*p.operands[i + 1], ctx)), 0,
                               tensor.dim(rank - 1 - i).extent() - 1);
    return asFloat(tensor(at));
  }
  case Op::Abs: {
    Expr x = scoreValue(*p.operands[0], ctx);
    return x.type().is_float() ? abs(x) : cast<int>(abs(asInt(x)));
  }
  case Op::Tanh:
    return tanh(asFloat(scoreValue(*p.operands[0], ctx)));
  case Op::Exp:
    return exp(asFloat(scoreValue(*p.operands[0], ctx)));
  case Op::Log:
    return log(asFloat(scoreValue(*p.operands[0], ctx)));
  case Op::Sqrt:
    return sqrt(asFloat(scoreValue(*p.operands[0], ctx)));
  case Op::Select: {
    Expr c = asBool(scoreValue(*p.operands[0], ctx));
    Expr x = scoreValue(*p.operands[1], ctx);
    Expr y = scoreValue(*p.operands[2], ctx);
    if (x.type().is_float() || y.type().is_float())
      return select(c, asFloat(x), asFloat(y));
    if (x.type().is_bool() && y.type().is_bool())
      return select(c, x, y);
    return select(c, asInt(x), asInt(y));
  }
  default:
    break;
  }
  Expr x = scoreValue(*p.operands[0], ctx);
  Expr y = scoreValue(*p.operands[1], ctx);
  if (p.op == Op::And || p.op == Op::Or || p.op == Op::Xor) {
    x = asBool(x);
    y = asBool(y);
    return p.op == Op::And ? x && y : p.op == Op::Or ? x || y : x != y;
  }
  bool isFloat = x.type().is_float() || y.type().is_float();
  bool isBool = x.type().is_bool() && y.type().is_bool();
  if (isFloat) {
    x = asFloat(x);
    y = asFloat(y);
  } else if (!isBool) {
    x = asInt(x);
    y = asInt(y);
  }
  switch (p.op) {
  case Op::Add:
    return x + y;
  case Op::Sub:
    return x - y;
  case Op::Mul:
    return x * y;
  case Op::Div:
    return isFloat ? x / y : truncatingDiv(x, y);
  case Op::Rem:
    return isFloat ? x - y * trunc(x / y) : truncatingRem(x, y);
  case Op::Min:
    return min(x, y);
  case Op::Max:
    return max(x, y);
  case Op::Eq:
    return x == y;
  case Op::Ne:
    return x != y;
  case Op::Lt:
    return x < y;
  case Op::Le:
    return x <= y;
  case Op::Gt:
    return x > y;
  case Op::Ge:
    return x >= y;
  default:
    throw std::invalid_argument("bad score expression");
  }
}

/// The modified score of one element (natural-log domain): `mods` is the
/// spec's scoreFn, every modifier of the language in one tree. The same
/// function serves the blocks and the probabilities.
Expr applyScoreMods(const Predicate &mods, Expr s, ScoreContext ctx) {
  ctx.vars.push_back(s);
  return asFloat(scoreValue(mods, ctx));
}

} // namespace

AttentionAlgorithm attnc::kernels::buildAttention(const AttentionSpec &spec,
                                                  DType dtype, int qTile,
                                                  int kBlock, int maskedKBlock,
                                                  int stateChunk,
                                                  HiddenValueGuard guard) {
  AttentionAlgorithm a;
  a.spec = spec;
  a.qTile = qTile;
  a.kBlock = kBlock;
  // Sub-blocks of masked blocks: a divisor of kBlock; not with segments,
  // whose per-block ranges (keySegments) are over whole blocks.
  if (maskedKBlock <= 0 || maskedKBlock > kBlock || kBlock % maskedKBlock ||
      spec.segments)
    maskedKBlock = kBlock;
  const int H = int(spec.heads), D = int(spec.headDim), Dv = int(spec.valueDim);
  const StateChunking chunking = stateChunking(Dv, stateChunk);
  a.chunks = chunking.chunks;
  a.chunkDims = chunking.chunkDims;
  const int Kc = a.chunkDims;
  if (spec.kvHeads <= 0 || H % spec.kvHeads)
    throw std::invalid_argument("kv_heads must divide heads");
  const int group = H / int(spec.kvHeads);
  const int Tq = qTile;
  const bool additive = spec.additive;
  const std::shared_ptr<const Predicate> &scoreMods = spec.scoreFn;
  const bool mods = bool(scoreMods);
  Type type = halideType(dtype);

  // ---- Inputs: [batch, length, heads * dim], channel stride 1. ----
  a.query = ImageParam(type, 3, "query");
  a.key = ImageParam(type, 3, "key");
  a.value = ImageParam(type, 3, "value");
  a.query.dim(0).set_bounds(0, H * D).set_stride(1);
  a.key.dim(0).set_bounds(0, int(spec.kvHeads) * D).set_stride(1);
  a.value.dim(0).set_bounds(0, int(spec.kvHeads) * Dv).set_stride(1);
  for (ImageParam *param : {&a.query, &a.key, &a.value}) {
    param->dim(1).set_min(0);
    param->dim(2).set_min(0);
  }
  a.addInput(a.query);
  a.addInput(a.key);
  a.addInput(a.value);
  if (spec.keyPadding) {
    a.kvLengths = ImageParam(Int(32), 1, "kv_lengths");
    a.kvLengths.dim(0).set_min(0);
    a.addInput(a.kvLengths);
  }
  if (spec.segments) {
    a.segmentIds = ImageParam(Int(32), 2, "segment_ids"); // (position, b)
    a.segmentIds.dim(0).set_min(0);
    a.segmentIds.dim(1).set_min(0);
    a.addInput(a.segmentIds);
  }
  if (spec.readsBias()) {
    a.bias = ImageParam(type, 4, "bias"); // (k, q, h, b)
    for (int i = 0; i < 4; ++i)
      a.bias.dim(i).set_min(0);
    a.addInput(a.bias);
  }
  if (additive) {
    a.scoreWeight = ImageParam(Float(32), 2, "score_weight"); // (d, h)
    a.scoreWeight.dim(0).set_bounds(0, D);
    a.scoreWeight.dim(1).set_bounds(0, H);
    a.addInput(a.scoreWeight);
  }
  for (const ScoreTensor &tensor : spec.scoreTensors) {
    ImageParam param(Float(32), int(tensor.shape.size()), tensor.name);
    int rank = int(tensor.shape.size());
    for (int i = 0; i < rank; ++i)
      param.dim(i).set_bounds(0, int(tensor.shape[rank - 1 - i]));
    if (rank > 0)
      param.dim(0).set_stride(1);
    a.scoreTensors.push_back(param);
    a.addInput(param);
  }
  a.addScalar(a.qOffset);
  Expr offset = a.qOffset;

  Var &c = a.c, &q = a.q, &b = a.b, &h = a.h, &qi = a.qi, &qt = a.qt, &d = a.d,
      &j = a.j, &kb = a.kb;
  Expr qLen = a.query.dim(1).extent();
  Expr kvLen = a.key.dim(1).extent();
  auto f32 = [](Expr e) { return cast<float>(e); };

  auto visibleKeys = [&](Expr batch) -> Expr {
    return spec.keyPadding ? clamp(a.kvLengths(batch), 0, kvLen) : kvLen;
  };
  // The segment of a position (packed sequences), and the range of
  // segments in each query tile and each key block.
  auto segmentAt = [&](Expr position, Expr batch) -> Expr {
    Expr last = a.segmentIds.dim(0).extent() - 1;
    return a.segmentIds(clamp(position, 0, last), batch);
  };
  if (spec.segments) {
    RDom rows(0, Tq, "tile_rows"), keys(0, kBlock, "block_keys");
    Expr row = min(qt * Tq + rows, qLen - 1) + offset;
    a.querySegments = Func("query_segments");
    a.querySegments(qt, b) =
        Tuple(minimum(segmentAt(row, b)), maximum(segmentAt(row, b)));
    Expr key = min(kb * kBlock + keys, kvLen - 1);
    a.keySegments = Func("key_segments");
    a.keySegments(kb, b) =
        Tuple(minimum(segmentAt(key, b)), maximum(segmentAt(key, b)));
  }
  // Every mask term of the language (causal, window, the user's own), as
  // one predicate.
  const std::shared_ptr<const Predicate> &mask = spec.predicate;
  // The elementwise mask, evaluated only in masked stages.
  auto visible = [&](Expr qq, Expr kk, Expr batch, Expr head) -> Expr {
    Expr keep = kk < visibleKeys(batch);
    if (spec.segments)
      keep = keep && segmentAt(qq, batch) == segmentAt(kk, batch);
    if (mask)
      keep = keep && predicateExpr(*mask, {batch, head, qq, kk},
                                   /*wantBool=*/true);
    return keep;
  };
  // Whether some key of block kb (of `size` keys) is visible to some query
  // of tile qt, and whether some is hidden from some query: interval
  // arithmetic over the mask (MaskClassification.h), a few integer
  // operations per block.
  auto classify = [&](Expr kb, int size) -> Truth<HalideArithmetic> {
    Expr qLo = qt * Tq + offset, qHi = min(qt * Tq + Tq, qLen) - 1 + offset;
    Expr kLo = kb * size, kHi = kb * size + (size - 1), keys = visibleKeys(b);
    Truth<HalideArithmetic> t{kLo < keys, kHi >= keys};
    if (mask) {
      MaskClassifier<HalideArithmetic> classifier(
          {indexRange(b, b), indexRange(h, h), indexRange(qLo, qHi),
           indexRange(kLo, kHi)});
      Truth<HalideArithmetic> m = classifier.truth(*mask);
      t = {t.canBeTrue && m.canBeTrue, t.canBeFalse || m.canBeFalse};
    }
    if (spec.segments) {
      Tuple tile = a.querySegments(qt, b), block = a.keySegments(kb, b);
      Expr overlap = tile[0] <= block[1] && block[0] <= tile[1];
      Expr oneSegment =
          tile[0] == tile[1] && block[0] == block[1] && tile[0] == block[0];
      t = {t.canBeTrue && overlap, t.canBeFalse || !oneSegment};
    }
    return t;
  };

  // ---- The query tile, transposed and pre-scaled. ----
  float queryScale =
      additive ? 1.0f : float(spec.scale) * (mods ? 1.0f : kLog2E);
  Expr qRow = min(qt * Tq + qi, qLen - 1);
  a.qTiled = Func("q_tiled");
  a.qTiled(qi, d, qt, h, b) = f32(a.query(h * D + d, qRow, b)) * queryScale;

  // ---- The online-softmax state, one Tuple per chunk of value dims. ----
  // One chunk has no chunk dimension: state(qi, qt, h, b), as Halide's GPU
  // back end needs (an extra dimension of extent 1 made the OpenCL kernel of
  // an 80-dim attention wrong on PoCL).
  Var &vc = a.vc;
  auto stateArgs = [&](Expr chunk) -> std::vector<Expr> {
    if (a.chunks == 1)
      return {qi, qt, h, b};
    return {qi, chunk, qt, h, b};
  };
  std::vector<Var> statePure = {qi, vc, qt, h, b};
  if (a.chunks == 1)
    statePure = {qi, qt, h, b};
  a.state = Func("state");
  {
    std::vector<Expr> init(Kc, 0.0f);
    init.push_back(kLowestScore);
    init.push_back(0.0f);
    a.state(statePure) = Tuple(init);
  }

  // Two update stages: blocks every query of the tile sees entirely, with
  // no mask code, and blocks the mask cuts. Hidden blocks are in neither.
  struct StageKind {
    const char *name;
    bool masked;
  };
  const StageKind stages[] = {{"full", false}, {"masked", true}};

  std::vector<float> slopes = mods && scoreMods->uses(Predicate::Op::AlibiSlope)
                                  ? alibiSlopes(spec.heads)
                                  : std::vector<float>();
  const Expr kvHead = h / group;
  // What the score modifiers read at query position `position` (row
  // `queryRow` of q and bias) and key `key` (row `keyRow` of k and bias).
  auto scoreContext = [&](Expr position, Expr key, Expr queryRow, Expr keyRow) {
    ScoreContext context;
    context.vars = {b, h, position, key};
    if (spec.readsBias())
      context.bias = f32(a.bias(keyRow, queryRow, h, b));
    context.tensors = &a.scoreTensors;
    context.slopes = &slopes;
    return context;
  };
  for (int stage = 0; stage < 2; ++stage) {
    const StageKind &range = stages[stage];
    AttentionAlgorithm::Block block;
    block.name = range.name;
    block.masked = range.masked;
    block.stage = stage;
    // Full blocks have kBlock keys; a block the mask cuts is computed in
    // sub-blocks of maskedKBlock keys (all of it when they are equal), and
    // sub-blocks that no query of the tile sees are skipped.
    const int Tk = range.masked ? maskedKBlock : kBlock;
    block.keys = Tk;
    block.blocks =
        RDom(0, (kvLen + Tk - 1) / Tk, std::string("r_") + range.name);
    Expr sub = block.blocks.x;
    Expr parent = Tk == kBlock ? sub : sub / (kBlock / Tk);
    Truth<HalideArithmetic> whole = classify(parent, kBlock);
    if (range.masked)
      block.blocks.where(whole.canBeFalse && classify(sub, Tk).canBeTrue);
    else
      block.blocks.where(!whole.canBeFalse);
    auto F = [&](const char *name) {
      return Func(std::string(range.name) + "_" + name);
    };
    block.keyBlock = F("k");
    block.valueBlock = F("v");
    block.scoreSum = F("score_sum");
    block.score = F("score");
    block.blockMax = F("block_max");
    block.p = F("p");
    block.blockSum = F("block_sum");
    block.pvSum = F("pv_sum");
    block.pv = F("pv");
    block.rd = RDom(0, D, std::string("rd_") + range.name);
    block.rj = RDom(0, Tk, std::string("rj_") + range.name);

    Expr key = kb * Tk + j;
    // Unmasked blocks are in range by construction; the promise only informs
    // bounds inference. Masked blocks may run past the end and clamp.
    Expr keyRow = range.masked ? clamp(key, 0, kvLen - 1)
                               : unsafe_promise_clamped(key, 0, kvLen - 1);
    Expr queryRow = min(qt * Tq + qi, qLen - 1); // into q and bias
    Expr queryIndex = qt * Tq + qi + offset;     // position, for masks
    block.keyBlock(d, j, kb, h, b) = f32(a.key(kvHead * D + d, keyRow, b));
    block.valueBlock(d, j, kb, h, b) = f32(a.value(kvHead * Dv + d, keyRow, b));

    block.scoreSum(qi, j, qt, kb, h, b) = 0.0f;
    RVar rd = block.rd.x;
    if (additive)
      block.scoreSum(qi, j, qt, kb, h, b) +=
          f32(a.scoreWeight(rd, h)) *
          tanh(a.qTiled(qi, rd, qt, h, b) + block.keyBlock(rd, j, kb, h, b));
    else
      block.scoreSum(qi, j, qt, kb, h, b) +=
          a.qTiled(qi, rd, qt, h, b) * block.keyBlock(rd, j, kb, h, b);
    Expr s = block.scoreSum(qi, j, qt, kb, h, b);
    if (mods || additive) {
      // Natural-log scores: modifiers in order, then to log2.
      if (mods) // Positions of rows past q_len do not matter: clamped.
        s = applyScoreMods(
            *scoreMods, s,
            scoreContext(queryRow + offset, key, queryRow, keyRow));
      s *= kLog2E;
    }
    Expr keep = visible(queryIndex, key, b, h);
    block.score(qi, j, qt, kb, h, b) =
        range.masked ? select(keep, s, kMinusInfinity) : s;

    RVar rj = block.rj.x;
    block.blockMax(qi, qt, kb, h, b) = kLowestScore;
    block.blockMax(qi, qt, kb, h, b) = max(block.blockMax(qi, qt, kb, h, b),
                                           block.score(qi, rj, qt, kb, h, b));
    Expr e = exp2Polynomial(block.score(qi, j, qt, kb, h, b) -
                            block.blockMax(qi, qt, kb, h, b));
    block.p(qi, j, qt, kb, h, b) = range.masked ? select(keep, e, 0.0f) : e;
    block.blockSum(qi, qt, kb, h, b) = 0.0f;
    block.blockSum(qi, qt, kb, h, b) += block.p(qi, rj, qt, kb, h, b);
    block.pvSum(qi, d, qt, kb, h, b) = 0.0f;
    Expr pj = block.p(qi, rj, qt, kb, h, b);
    Expr vj = block.valueBlock(d, rj, kb, h, b);
    if (range.masked && guard == HiddenValueGuard::PerTile) {
      // Rows past q_len (the last tile's padding) see nothing.
      block.seenRows = RDom(0, Tq, std::string("seen_rows_") + range.name);
      Expr row = qt * Tq + block.seenRows.x;
      block.keySeen = F("key_seen");
      block.keySeen(j, qt, kb, h, b) = cast(Bool(), Expr(0));
      block.keySeen(j, qt, kb, h, b) =
          block.keySeen(j, qt, kb, h, b) ||
          (row < qLen && visible(row + offset, key, b, h));
      block.seenValue = F("seen_value");
      block.seenValue(d, j, qt, kb, h, b) =
          select(block.keySeen(j, qt, kb, h, b),
                 block.valueBlock(d, j, kb, h, b), 0.0f);
      vj = block.seenValue(d, rj, qt, kb, h, b);
    }
    Expr sum = block.pvSum(qi, d, qt, kb, h, b) + pj * vj;
    block.pvSum(qi, d, qt, kb, h, b) =
        range.masked && guard == HiddenValueGuard::PerQuery
            ? select(pj == 0.0f, block.pvSum(qi, d, qt, kb, h, b), sum)
            : sum;
    block.pv(qi, d, qt, kb, h, b) = block.pvSum(qi, d, qt, kb, h, b);

    // Merge this block into the state, chunk by chunk (each chunk rescales
    // with its own copy of m and l: two exp2 per chunk).
    RVar r = block.blocks.x;
    Tuple old = a.state(stateArgs(vc));
    Expr m = old[Kc], l = old[Kc + 1];
    Expr bm = block.blockMax(qi, qt, r, h, b);
    Expr newMax = max(m, bm);
    Expr alpha = exp2Polynomial(m - newMax), beta = exp2Polynomial(bm - newMax);
    std::vector<Expr> merged;
    for (int i = 0; i < Kc; ++i) {
      Expr dim = a.chunks == 1 ? Expr(i) : vc * Kc + i;
      if (a.chunks * Kc != Dv) // The last chunk's spare slots repeat Dv - 1.
        dim = min(dim, Dv - 1);
      merged.push_back(old[i] * alpha + block.pv(qi, dim, qt, r, h, b) * beta);
    }
    merged.push_back(newMax);
    merged.push_back(l * alpha + block.blockSum(qi, qt, r, h, b) * beta);
    a.state(stateArgs(vc)) = Tuple(merged);
    a.blocks.push_back(block);
  }

  // ---- Normalize; rows with no visible key follow the policy. ----
  // Value dim d is slot d % Kc of chunk d / Kc (no division for one chunk).
  Expr chunk = a.chunks == 1 ? Expr(0) : d / Kc;
  Expr slot = a.chunks == 1 ? Expr(d) : d % Kc;
  Tuple final = a.state(stateArgs(chunk));
  Expr l = final[Kc + 1];
  std::vector<Expr> accumulators;
  for (int i = 0; i < Kc; ++i)
    accumulators.push_back(final[i]);
  Expr empty = 0.0f;
  if (spec.emptyRows == EmptyRows::Uniform) {
    RDom all(0, kvLen, "all_keys");
    a.valueMean = Func("value_mean");
    a.valueMean(d, h, b) = 0.0f;
    a.valueMean(d, h, b) += f32(a.value(kvHead * Dv + d, all, b)) / f32(kvLen);
    empty = a.valueMean(d, h, b);
  }
  a.finished = Func("finished");
  a.finished(qi, d, qt, h, b) =
      select(l > 0.0f, mux(slot, accumulators) / l, empty);
  a.output = Func("output");
  a.output(c, q, b) = cast(type, a.finished(q % Tq, c % Dv, q / Tq, c / Dv, b));
  a.output.output_buffer().dim(0).set_bounds(0, H * Dv);
  a.output.output_buffer().dim(1).set_min(0);
  a.output.output_buffer().dim(2).set_min(0);
  a.outputs = {a.output};

  // ---- Probabilities, from the final row max and sum. ----
  if (spec.probs != Probs::None) {
    Var &k = a.k;
    a.probsD = RDom(0, D, "probs_d");
    RVar rd = a.probsD.x;
    Func &score = a.probsScore;
    score = Func("probs_score");
    score(k, q, h, b) = 0.0f;
    Expr qv = f32(a.query(h * D + rd, q, b)) * queryScale;
    Expr kv = f32(a.key(kvHead * D + rd, k, b));
    if (additive)
      score(k, q, h, b) += f32(a.scoreWeight(rd, h)) * tanh(qv + kv);
    else
      score(k, q, h, b) += qv * kv;
    Expr s = score(k, q, h, b);
    if (mods || additive) {
      if (mods)
        s = applyScoreMods(*scoreMods, s, scoreContext(q + offset, k, q, k));
      s *= kLog2E;
    }
    a.probsLogit = Func("probs_logit");
    a.probsLogit(k, q, h, b) = s;
    // A softmax of the recomputed row, with its own max and sum.
    Expr keep = visible(q + offset, k, b, h);
    a.probsKeys = RDom(0, kvLen, "probs_keys");
    RVar rk = a.probsKeys.x;
    Expr keepR = visible(q + offset, rk, b, h);
    a.probsMax = Func("probs_max");
    a.probsMax(q, h, b) = kLowestScore;
    Expr logitR = a.probsLogit(rk, q, h, b);
    a.probsMax(q, h, b) =
        max(a.probsMax(q, h, b), select(keepR, logitR, kLowestScore));
    a.probsSum = Func("probs_sum");
    a.probsSum(q, h, b) = 0.0f;
    a.probsSum(q, h, b) +=
        select(keepR, exp2Polynomial(logitR - a.probsMax(q, h, b)), 0.0f);
    Expr rowMax = a.probsMax(q, h, b), rowSum = a.probsSum(q, h, b);
    Expr uniform =
        spec.emptyRows == EmptyRows::Uniform ? 1.0f / f32(kvLen) : Expr(0.0f);
    a.headProbs = Func("head_probs");
    a.headProbs(k, q, h, b) = select(
        rowSum > 0.0f,
        select(keep, exp2Polynomial(a.probsLogit(k, q, h, b) - rowMax) / rowSum,
               0.0f),
        uniform);
    a.probs = Func("probs");
    if (spec.probs == Probs::PerHead) {
      a.probs(k, q, h, b) = cast(type, a.headProbs(k, q, h, b));
    } else {
      a.probsHeads = RDom(0, H, "heads");
      a.probsTotal = Func("probs_total");
      a.probsTotal(k, q, b) = 0.0f;
      a.probsTotal(k, q, b) += a.headProbs(k, q, a.probsHeads.x, b);
      a.probs(k, q, b) = cast(type, a.probsTotal(k, q, b) / float(H));
    }
    a.outputs.push_back(a.probs);
  }
  return a;
}
