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
// a reference can use exactly the same numbers. `usesBF16DotProduct` says
// where a kernel also rounds its input to bf16 (AVX-512 BF16's dot
// product), so a reference can do the same.
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

/// Whether the linear kernel of `spec` for `shapeClass`, compiled for the
/// Halide target `halideTarget` (its full string), multiplies with AVX-512
/// BF16's pairwise dot product (vdpbf16ps, twice the multiply-adds of an
/// f32 FMA per instruction): bf16 weights and f32 activations, a CPU target
/// with avx512_sapphirerapids, and the "gemm" class (its "" variant; the
/// "gemv" class, which memory bounds, keeps f32 products). Such a kernel
/// rounds its input to bf16 (nearest even) before it multiplies, as
/// PyTorch's bf16 matmul does; sums stay f32.
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
