//===- LinearWeights.h - Linear weights in the layout kernels read -*- C++ -*-//
//
// A linear kernel reads its weight packed in 16-column panels (see
// LinearSpec) and stored as its spec's WeightType. These functions turn a
// PyTorch [out, in] f32 weight into that form: the runtime calls them once
// when it prepares a model, the tests and the tuner to feed kernels. The
// conversions round to nearest, ties to even (as PyTorch's .to(bfloat16) and
// .half() do); int8 is symmetric per output feature: scale = max |w| / 127
// over the feature's row, q = round(w / scale), and an all-zero row gets
// scale 1. `dequantize` gives back the f32 weight a kernel computes with, so
// a reference can use exactly the same numbers. `linearProduct` says how a
// kernel multiplies, and `usesBF16DotProduct` where it also rounds its
// input to bf16 (AVX-512 BF16's dot product), so a reference can do the
// same.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LOWERING_LINEARWEIGHTS_H
#define ATTNC_LOWERING_LINEARWEIGHTS_H

#include "attnc/Lowering/KernelSpec.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnc {
namespace kernels {

/// Bytes of one stored weight element.
size_t weightTypeBytes(WeightType type);

/// Elements of the packed weight: ceil(out / 16) * in * 16.
int64_t packedLinearElements(int64_t out, int64_t in);

/// Packs `weight` ([out, in], dense) into `packed` (packedLinearElements
/// elements of `type`; the last panel's padding is zero). For I8, `scales`
/// receives `out` scales; otherwise it is not touched and may be null.
void packLinearWeight(const float *weight, int64_t out, int64_t in,
                      WeightType type, void *packed, float *scales);

/// The f32 weight ([out, in]) a kernel computes with after `weight` was
/// stored as `type`: rounded to bf16 or f16, or q * scale for I8.
std::vector<float> dequantizeLinearWeight(const std::vector<float> &weight,
                                          int64_t out, int64_t in,
                                          WeightType type);

/// How a linear kernel multiplies (linearProduct picks it; Algorithms.h
/// has the math of each form).
enum class LinearProduct {
  /// Every weight widened to f32, f32 products: the default.
  Widened,
  /// AVX-512 BF16's pairwise dot product (vdpbf16ps, twice the
  /// multiply-adds of an f32 FMA per instruction) over bf16 weights (or
  /// int8 ones, which bf16 holds exactly) and the input rounded to bf16
  /// (nearest even), as PyTorch's bf16 matmul does; sums stay f32.
  BF16Pairs,
  /// f16 weights as their bits shifted into an f32 (the weight times
  /// 2^-112) against input rows scaled up by a power of two: Widened's
  /// products and sums, exactly, in 3 operations per weight vector.
  ScaledHalves,
};

/// The form of the linear kernel of `spec` for `shapeClass`, compiled for
/// the Halide target `halideTarget` (its full string). On CPU targets:
/// bf16 and int8 weights in the "gemm" class (its ""
/// variant) on a target with avx512_sapphirerapids take BF16Pairs (the
/// "gemv" class, which memory bounds, keeps f32 products); f16 weights in the
/// "gemv" class, where widening each weight costs more than reading it,
/// take ScaledHalves (the "gemm" class widens each staged weight once for
/// many rows). Everything else, and every GPU target, is Widened.
LinearProduct linearProduct(const LinearSpec &spec, DType dtype,
                            const std::string &halideTarget,
                            const std::string &shapeClass);

/// linearProduct(...) == BF16Pairs: the kernel rounds its input to bf16
/// before it multiplies (bf16 activations are already), so a reference
/// must too.
bool usesBF16DotProduct(const LinearSpec &spec, DType dtype,
                        const std::string &halideTarget,
                        const std::string &shapeClass);

/// Round to nearest even; NaN stays NaN, too large becomes infinity.
uint16_t floatToBFloat16(float value);
uint16_t floatToFloat16(float value);
float bfloat16ToFloat(uint16_t bits);
float float16ToFloat(uint16_t bits);

} // namespace kernels
} // namespace attnc

#endif // ATTNC_LOWERING_LINEARWEIGHTS_H
