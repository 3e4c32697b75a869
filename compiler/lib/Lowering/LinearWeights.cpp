//===- LinearWeights.cpp - Packing and rounding linear weights ------------===//

#include "attnc/Lowering/LinearWeights.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace attnc::kernels;

namespace {

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

float floatOf(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

/// The int8 scale of one output feature: max |w| / 127, or 1 for a row of
/// zeros (any scale reproduces it).
float rowScale(const float *row, int64_t in) {
  float largest = 0.0f;
  for (int64_t i = 0; i < in; ++i)
    largest = std::max(largest, std::fabs(row[i]));
  return largest > 0.0f ? largest / 127.0f : 1.0f;
}

int8_t quantize(float value, float scale) {
  float q = std::nearbyint(value / scale);
  return int8_t(std::min(127.0f, std::max(-127.0f, q)));
}

} // namespace

uint16_t attnc::kernels::floatToBFloat16(float value) {
  uint32_t bits = bitsOf(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((bits >> 16) | 0x40u); // A quiet NaN.
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

float attnc::kernels::bfloat16ToFloat(uint16_t bits) {
  return floatOf(uint32_t(bits) << 16);
}

uint16_t attnc::kernels::floatToFloat16(float value) {
  uint32_t bits = bitsOf(value);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
  uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u)
    return sign | 0x7e00u;      // A quiet NaN.
  if (magnitude >= 0x477ff000u) // 65520 and up round to infinity.
    return sign | 0x7c00u;
  if (magnitude < 0x38800000u) { // Below 2^-14: a subnormal (or 1024 = 2^-14).
    float scaled = floatOf(magnitude) * 16777216.0f; // In units of 2^-24.
    return sign | uint16_t(std::nearbyint(scaled));
  }
  // Rebias the exponent (127 to 15) and round the 13 dropped bits to even.
  uint32_t rounded = magnitude + 0xfffu + ((magnitude >> 13) & 1u);
  return sign | uint16_t((rounded - (112u << 23)) >> 13);
}

float attnc::kernels::float16ToFloat(uint16_t bits) {
  uint32_t sign = uint32_t(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu, mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    float magnitude = float(mantissa) / 16777216.0f;
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31)
    return floatOf(sign | 0x7f800000u | (mantissa << 13));
  return floatOf(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

LinearProduct attnc::kernels::linearProduct(const LinearSpec &spec, DType dtype,
                                            const std::string &halideTarget,
                                            const std::string &shapeClass) {
  (void)dtype; // bf16 activations are rounded already; f32 ones round.
  bool bf16DotProduct = false;
  size_t start = 0;
  while (start <= halideTarget.size()) {
    size_t end = halideTarget.find('-', start);
    if (end == std::string::npos)
      end = halideTarget.size();
    std::string feature = halideTarget.substr(start, end - start);
    if (feature == "avx512_sapphirerapids")
      bf16DotProduct = true;
    // A GPU target's string also names the host's features.
    if (feature == "cuda" || feature == "opencl" || feature == "metal" ||
        feature == "d3d12compute" || feature == "openglcompute")
      return LinearProduct::Widened;
    start = end + 1;
  }
  bool bf16Exact =
      spec.weights == WeightType::BF16 || spec.weights == WeightType::I8;
  if (bf16Exact && shapeClass.empty() && bf16DotProduct)
    return LinearProduct::BF16Pairs;
  if (spec.weights == WeightType::F16 && shapeClass == "gemv")
    return LinearProduct::ScaledHalves;
  return LinearProduct::Widened;
}

bool attnc::kernels::usesBF16DotProduct(const LinearSpec &spec, DType dtype,
                                        const std::string &halideTarget,
                                        const std::string &shapeClass) {
  return linearProduct(spec, dtype, halideTarget, shapeClass) ==
         LinearProduct::BF16Pairs;
}

size_t attnc::kernels::weightTypeBytes(WeightType type) {
  switch (type) {
  case WeightType::F32:
    return 4;
  case WeightType::BF16:
  case WeightType::F16:
    return 2;
  case WeightType::I8:
    return 1;
  }
  return 4;
}

int64_t attnc::kernels::packedLinearElements(int64_t out, int64_t in) {
  return (out + kLinearPanelWidth - 1) / kLinearPanelWidth * in *
         kLinearPanelWidth;
}

void attnc::kernels::packLinearWeight(const float *weight, int64_t out,
                                      int64_t in, WeightType type, void *packed,
                                      float *scales) {
  if (type == WeightType::I8) {
    for (int64_t o = 0; o < out; ++o)
      scales[o] = rowScale(weight + o * in, in);
  }
  const int64_t width = kLinearPanelWidth;
  for (int64_t panel = 0; panel * width < out; ++panel)
    for (int64_t i = 0; i < in; ++i)
      for (int64_t lane = 0; lane < width; ++lane) {
        int64_t o = panel * width + lane;
        int64_t at = (panel * in + i) * width + lane;
        float w = o < out ? weight[o * in + i] : 0.0f;
        switch (type) {
        case WeightType::F32:
          static_cast<float *>(packed)[at] = w;
          break;
        case WeightType::BF16:
          static_cast<uint16_t *>(packed)[at] = floatToBFloat16(w);
          break;
        case WeightType::F16:
          static_cast<uint16_t *>(packed)[at] = floatToFloat16(w);
          break;
        case WeightType::I8:
          static_cast<int8_t *>(packed)[at] =
              o < out ? quantize(w, scales[o]) : int8_t(0);
          break;
        }
      }
}

std::vector<float>
attnc::kernels::dequantizeLinearWeight(const std::vector<float> &weight,
                                       int64_t out, int64_t in,
                                       WeightType type) {
  std::vector<float> result(weight.size());
  for (int64_t o = 0; o < out; ++o) {
    const float *row = weight.data() + o * in;
    float scale = type == WeightType::I8 ? rowScale(row, in) : 1.0f;
    for (int64_t i = 0; i < in; ++i) {
      float w = row[i];
      switch (type) {
      case WeightType::F32:
        break;
      case WeightType::BF16:
        w = bfloat16ToFloat(floatToBFloat16(w));
        break;
      case WeightType::F16:
        w = float16ToFloat(floatToFloat16(w));
        break;
      case WeightType::I8:
        w = float(quantize(w, scale)) * scale;
        break;
      }
      result[size_t(o * in + i)] = w;
    }
  }
  return result;
}
