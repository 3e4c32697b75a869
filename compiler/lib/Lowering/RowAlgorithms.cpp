//===- RowAlgorithms.cpp - Linear, layer norm, softmax, embedding, add ----===//
//
// The algorithms of the kernel families that work row by row. Each one also
// declares the static sizes of its inputs (set_bounds), so Halide checks
// every buffer the caller passes and the schedules can rely on them.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/Algorithms.h"

#include <cmath>

using namespace Halide;
using namespace attnc::kernels;

Type attnc::kernels::halideType(DType dtype) {
  return dtype == DType::BF16 ? BFloat(16) : Float(32);
}

namespace {

/// Declares that dimension `dim` of `param` is [0, extent).
void fixExtent(ImageParam &param, int dim, int64_t extent) {
  param.dim(dim).set_bounds(0, int(extent));
}

/// sin(angle) where `quarterTurns` is 0 and cos(angle) = sin(angle + pi/2)
/// where it is 1, with vector arithmetic only: Halide 14's sin and cos call
/// the scalar libm functions, which made the sinusoidal embedding 7% of an
/// encoder layer. The angle is reduced to r in [-pi/4, pi/4] by the nearest
/// multiple q of pi/2 (pi/2 split in two floats, so that q * pi/2 loses no
/// bits for angles up to a few thousand), then sin(r) or cos(r) by their
/// Taylor series (truncation below 2e-9 there), chosen and signed by the
/// quadrant q + quarterTurns.
Expr sinusoid(Expr angle, Expr quarterTurns) {
  const double halfPi = 1.57079632679489661923;
  const float halfPiHigh = 1.5703125f; // 201 / 128: q * halfPiHigh is exact
  const float halfPiLow = float(halfPi - double(halfPiHigh));
  Expr q = round(angle * float(1.0 / halfPi));
  Expr r = (angle - q * halfPiHigh) - q * halfPiLow;
  Expr r2 = r * r;
  Expr sinR =
      r * (1.0f + r2 * (-1.0f / 6 + r2 * (1.0f / 120 + r2 * (-1.0f / 5040 +
                                                             r2 / 362880.0f))));
  Expr cosR =
      1.0f + r2 * (-0.5f + r2 * (1.0f / 24 +
                                 r2 * (-1.0f / 720 +
                                       r2 * (1.0f / 40320 - r2 / 3628800.0f))));
  Expr quadrant = (cast<int>(q) + quarterTurns) & 3;
  Expr magnitude = select((quadrant & 1) == 0, sinR, cosR);
  return select(quadrant >= 2, -magnitude, magnitude);
}

/// The Halide type a linear weight is stored in.
Type weightType(WeightType weights) {
  switch (weights) {
  case WeightType::F32:
    return Float(32);
  case WeightType::BF16:
    return BFloat(16);
  case WeightType::F16:
    return Float(16);
  case WeightType::I8:
    return Int(8);
  }
  return Float(32);
}

/// An f16 value as f32, exact for every finite half (Halide 14 emulates the
/// conversion in 13 vector operations even where F16C could do it in one).
/// A normal half's exponent and mantissa, shifted to where an f32's go, need
/// only the exponent bias moved (15 -> 127) by an integer add; a subnormal
/// half (or zero) is its 10-bit mantissa times 2^-24. An infinity or NaN
/// becomes a large finite value, which weights never are (the loader
/// refuses NaN and Inf, and only |w| >= 65520 rounds to an f16 infinity).
Expr halfToFloat(Expr half) {
  Expr bits = cast<uint32_t>(reinterpret<uint16_t>(half));
  Expr sign = (bits & Expr(uint32_t(0x8000u))) << 16;
  Expr magnitude = bits & Expr(uint32_t(0x7fffu));
  Expr rebiased = (magnitude << 13) + Expr(uint32_t(112u << 23));
  Expr normal = reinterpret<float>(sign | rebiased);
  Expr small = cast<float>(magnitude) * 0x1p-24f;
  Expr subnormal = reinterpret<float>(sign | reinterpret<uint32_t>(small));
  return select(magnitude < Expr(uint32_t(0x400u)), subnormal, normal);
}

/// An f16 value times 2^-112 as f32, exactly, in 3 vector operations: the
/// half sign-extended to 32 bits and shifted left by 13 has its exponent
/// and mantissa where an f32's go (an exponent 112 too small, subnormal
/// halves included) and its sign in bit 31; the mask clears the sign's
/// copies in bits 28-30. Scaling it back by 2^112 next to the product let
/// LLVM reassociate that multiply past the dot product, whose partial
/// products then fell below f32's normal range (as slow as f32 weights on
/// this machine); ScaledHalves scales the input row instead.
Expr halfBitsTimes2PowMinus112(Expr half) {
  Expr bits = reinterpret<uint32_t>(cast<int32_t>(reinterpret<int16_t>(half)));
  return reinterpret<float>((bits << 13) & Expr(uint32_t(0x8fffffffu)));
}

/// 2^e as f32, for an integer e in [-126, 127].
Expr powerOfTwo(Expr e) {
  return reinterpret<float>(cast<uint32_t>(e + 127) << 23);
}

/// Declares that dimension 0 of `param` is dense (stride 1).
void denseRows(ImageParam &param) { param.dim(0).set_stride(1); }

/// Declares that `output` rows are `width` wide, so that what a schedule
/// stores per row has a static size (on the stack, where a dynamic size
/// called halide_malloc once per row).
void fixOutputWidth(Func &output, int64_t width) {
  output.output_buffer().dim(0).set_bounds(0, int(width));
}

Expr activate(Expr x, Activation activation) {
  switch (activation) {
  case Activation::None:
    return x;
  case Activation::ReLU:
    return max(x, 0.0f);
  case Activation::GELU:
    return 0.5f * x * (1.0f + erf(x * float(M_SQRT1_2)));
  }
  return x;
}

} // namespace

LinearAlgorithm attnc::kernels::buildLinear(const LinearSpec &spec, DType dtype,
                                            LinearProduct form) {
  LinearAlgorithm a;
  a.spec = spec;
  a.form = form;
  Type type = halideType(dtype);
  a.input = ImageParam(type, 2, "input");
  fixExtent(a.input, 0, spec.in);
  denseRows(a.input);
  // Packed in panels (see LinearSpec): (lane, k, panel), fully dense, so
  // every offset into it is known at compile time.
  const int width = int(kLinearPanelWidth);
  a.weight = ImageParam(weightType(spec.weights), 3, "weight");
  fixExtent(a.weight, 0, width);
  fixExtent(a.weight, 1, spec.in);
  fixExtent(a.weight, 2, spec.panels());
  denseRows(a.weight);
  a.weight.dim(1).set_stride(width);
  a.weight.dim(2).set_stride(int(spec.in) * width);
  a.k = RDom(0, int(spec.in), "k");
  a.addInput(a.input);
  a.addInput(a.weight);
  if (spec.weights == WeightType::I8) {
    a.weightScale = ImageParam(Float(32), 1, "weight_scale");
    fixExtent(a.weightScale, 0, spec.out);
    a.addInput(a.weightScale);
  }

  // Schedules compute whole panels or groups of them, past `out`; the
  // clamp keeps Halide's bounds inference (which cannot tell that a
  // shifted-inward tile starts on a panel) inside the buffer, and is
  // hoisted out of every loop over k. The bias, which has only `out`
  // entries, is added after the product.
  Expr panel = min(a.n / width, int(spec.panels()) - 1);
  a.weights = Func("weights");
  Expr stored = a.weight(a.n % width, a.kv, panel);
  a.product = Func("product");
  a.product(a.n, a.m) = 0.0f;
  Expr sumScale = 1.0f; // ScaledHalves: 2^d
  if (form == LinearProduct::BF16Pairs) {
    // k = 2 kp + j; an odd `in` pads the last pair with a zero on both sides.
    const int in = int(spec.in);
    Expr k = 2 * a.kp + a.j;
    Expr inside = k < in, clamped = min(k, in - 1);
    Expr zero = cast(BFloat(16), 0.0f);
    // bf16 holds every int8 exactly (8 significant bits); the int8 scale
    // multiplies the sum below.
    auto asBF16 = [&](Expr w) {
      return w.type().is_bfloat() ? w : cast(BFloat(16), cast<float>(w));
    };
    a.weightPairs = Func("weight_pairs");
    a.weightPairs(a.j, a.n, a.kp) =
        asBF16(in % 2 ? select(inside, a.weight(a.n % width, clamped, panel),
                               cast(a.weight.type(), 0))
                      : a.weight(a.n % width, k, panel));
    a.inputPairs = Func("input_pairs");
    Expr x = cast(BFloat(16), a.input(in % 2 ? clamped : k, a.m));
    a.inputPairs(a.j, a.kp, a.m) = in % 2 ? select(inside, x, zero) : x;
    a.kPairs = RDom(0, 2, 0, (in + 1) / 2, "k_pairs");
    RVar j = a.kPairs.x, kp = a.kPairs.y;
    a.product(a.n, a.m) += cast<float>(a.weightPairs(j, a.n, kp)) *
                           cast<float>(a.inputPairs(j, kp, a.m));
  } else if (form == LinearProduct::ScaledHalves) {
    // The row's largest |x| (16 lanes, then across them; clamped reads
    // repeat the last element, which a maximum does not mind), its
    // exponent e (floor(log2), from the bits), and d = clamp(e - 14, 0,
    // 112): |x| < 2^(e + 1), so |x| * 2^(112 - d) < 2^127.
    const int in = int(spec.in);
    RDom chunk(0, (in + width - 1) / width, "chunk");
    a.inputPeak = Func("input_peak");
    a.inputPeak(a.lane, a.m) = 0.0f;
    a.inputPeak(a.lane, a.m) = max(
        a.inputPeak(a.lane, a.m),
        abs(cast<float>(a.input(min(chunk * width + a.lane, in - 1), a.m))));
    RDom lanes(0, width, "lanes");
    Expr peak = maximum(a.inputPeak(lanes, a.m));
    Expr exponent = cast<int32_t>(reinterpret<uint32_t>(peak) >> 23) - 127;
    Expr d = clamp(exponent - 14, 0, 112);
    a.inputScale = Func("input_scale");
    a.inputScale(a.m) = Tuple(powerOfTwo(112 - d), powerOfTwo(d));
    a.scaledInput = Func("scaled_input");
    a.scaledInput(a.kv, a.m) =
        cast<float>(a.input(a.kv, a.m)) * a.inputScale(a.m)[0];
    a.weights(a.n, a.kv) = halfBitsTimes2PowMinus112(stored);
    a.product(a.n, a.m) += a.scaledInput(a.k, a.m) * a.weights(a.n, a.k);
    sumScale = a.inputScale(a.m)[1];
  } else {
    a.weights(a.n, a.kv) = spec.weights == WeightType::F16
                               ? halfToFloat(stored)
                               : cast<float>(stored);
    Expr x = a.input(a.k, a.m);
    if (type != Float(32)) {
      a.widenedInput = Func("widened_input");
      a.widenedInput(a.kv, a.m) = cast<float>(a.input(a.kv, a.m));
      x = a.widenedInput(a.k, a.m);
    }
    a.product(a.n, a.m) += x * a.weights(a.n, a.k);
  }
  Expr sum = a.product(a.n, a.m) * sumScale;
  if (spec.weights == WeightType::I8)
    sum *= a.weightScale(a.n);
  if (spec.bias) {
    a.bias = ImageParam(Float(32), 1, "bias");
    fixExtent(a.bias, 0, spec.out);
    a.addInput(a.bias);
    sum += cast<float>(a.bias(a.n));
  }

  a.output = Func("output");
  a.output(a.n, a.m) = cast(type, activate(sum, spec.activation));
  a.outputs = {a.output};
  return a;
}

LayerNormAlgorithm attnc::kernels::buildLayerNorm(const LayerNormSpec &spec,
                                                  DType dtype) {
  LayerNormAlgorithm a;
  a.spec = spec;
  Type type = halideType(dtype);
  int64_t width = spec.width;
  a.input = ImageParam(type, 2, "input");
  fixExtent(a.input, 0, width);
  denseRows(a.input);
  a.addInput(a.input);
  a.sum = Func("sum");
  if (spec.residual) {
    a.residual = ImageParam(type, 2, "residual");
    fixExtent(a.residual, 0, width);
    denseRows(a.residual);
    a.addInput(a.residual);
    a.sum(a.c, a.m) =
        cast<float>(a.input(a.c, a.m)) + cast<float>(a.residual(a.c, a.m));
  } else {
    a.sum(a.c, a.m) = cast<float>(a.input(a.c, a.m));
  }
  a.gamma = ImageParam(Float(32), 1, "gamma");
  a.beta = ImageParam(Float(32), 1, "beta");
  fixExtent(a.gamma, 0, width);
  fixExtent(a.beta, 0, width);
  a.addInput(a.gamma);
  a.addInput(a.beta);

  a.r = RDom(0, int(width), "r");
  float inverseWidth = 1.0f / float(width);
  a.mean = Func("mean");
  a.mean(a.m) = 0.0f;
  a.mean(a.m) += a.sum(a.r, a.m) * inverseWidth;
  a.variance = Func("variance");
  a.variance(a.m) = 0.0f;
  Expr centered = a.sum(a.r, a.m) - a.mean(a.m);
  a.variance(a.m) += centered * centered * inverseWidth;

  a.output = Func("output");
  // One reciprocal per row (a division per element cost more than the rest
  // of the row's arithmetic).
  Expr inverseDeviation = 1.0f / sqrt(a.variance(a.m) + float(spec.epsilon));
  Expr normalized = (a.sum(a.c, a.m) - a.mean(a.m)) * inverseDeviation;
  a.output(a.c, a.m) = cast(type, normalized * cast<float>(a.gamma(a.c)) +
                                      cast<float>(a.beta(a.c)));
  fixOutputWidth(a.output, a.spec.width);
  a.outputs = {a.output};
  return a;
}

SoftmaxAlgorithm attnc::kernels::buildSoftmax(const SoftmaxSpec &spec,
                                              DType dtype) {
  SoftmaxAlgorithm a;
  a.spec = spec;
  Type type = halideType(dtype);
  a.input = ImageParam(type, 2, "input");
  fixExtent(a.input, 0, spec.width);
  denseRows(a.input);
  a.addInput(a.input);
  a.r = RDom(0, int(spec.width), "r");
  a.maximum = Func("maximum");
  a.maximum(a.m) = Float(32).min();
  a.maximum(a.m) = max(a.maximum(a.m), cast<float>(a.input(a.r, a.m)));
  a.exponent = Func("exponent");
  a.exponent(a.c, a.m) = exp(cast<float>(a.input(a.c, a.m)) - a.maximum(a.m));
  a.total = Func("total");
  a.total(a.m) = 0.0f;
  a.total(a.m) += a.exponent(a.r, a.m);
  a.output = Func("output");
  a.output(a.c, a.m) = cast(type, a.exponent(a.c, a.m) / a.total(a.m));
  fixOutputWidth(a.output, a.spec.width);
  a.outputs = {a.output};
  return a;
}

EmbeddingAlgorithm attnc::kernels::buildEmbedding(const EmbeddingSpec &spec,
                                                  DType dtype) {
  EmbeddingAlgorithm a;
  a.spec = spec;
  Type type = halideType(dtype);
  a.tokens = ImageParam(Int(32), 2, "tokens");
  a.table = ImageParam(Float(32), 2, "table");
  fixExtent(a.table, 0, spec.width);
  fixExtent(a.table, 1, spec.vocab);
  denseRows(a.table);
  a.addInput(a.tokens);
  a.addInput(a.table);
  if (spec.positionRows) {
    a.positionTable = ImageParam(Float(32), 2, "position_table");
    fixExtent(a.positionTable, 0, spec.width);
    fixExtent(a.positionTable, 1, spec.positionRows);
    denseRows(a.positionTable);
    a.addInput(a.positionTable);
  }
  a.addScalar(a.positionOffset);

  Expr token = clamp(a.tokens(a.t, a.b), 0, int(spec.vocab) - 1);
  Expr value = cast<float>(a.table(a.c, token)) * float(spec.scale);
  if (spec.sinusoidal) {
    // pe(pos, 2i) = sin(pos / 10000^(2i/d)), pe(pos, 2i+1) = cos(...).
    a.frequency = Func("frequency");
    a.frequency(a.c) = exp(cast<float>(a.c / 2) *
                           (-2.0f * std::log(10000.0f) / float(spec.width)));
    Expr angle = cast<float>(a.t + a.positionOffset) * a.frequency(a.c);
    value += sinusoid(angle, a.c % 2);
  }
  if (spec.positionRows) {
    Expr row = clamp(a.t + a.positionOffset, 0, int(spec.positionRows) - 1);
    value += cast<float>(a.positionTable(a.c, row));
  }
  a.output = Func("output");
  a.output(a.c, a.t, a.b) = cast(type, value);
  fixOutputWidth(a.output, a.spec.width);
  a.outputs = {a.output};
  return a;
}

AddAlgorithm attnc::kernels::buildAdd(const AddSpec &spec, DType dtype) {
  AddAlgorithm a;
  a.spec = spec;
  Type type = halideType(dtype);
  a.lhs = ImageParam(type, 2, "lhs");
  a.rhs = ImageParam(type, 2, "rhs");
  fixExtent(a.lhs, 0, spec.width);
  fixExtent(a.rhs, 0, spec.width);
  denseRows(a.lhs);
  denseRows(a.rhs);
  a.addInput(a.lhs);
  a.addInput(a.rhs);
  a.output = Func("output");
  a.output(a.c, a.m) =
      cast(type, cast<float>(a.lhs(a.c, a.m)) + cast<float>(a.rhs(a.c, a.m)));
  fixOutputWidth(a.output, a.spec.width);
  a.outputs = {a.output};
  return a;
}
