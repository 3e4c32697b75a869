//===- LinearWeightsTest.cpp - Packing and rounding linear weights --------===//
//
// The conversions every reduced-precision linear weight goes through, on
// every 16-bit pattern (round trips) and on the values where rounding
// decides (ties, overflow, subnormals); int8 scales and the packed layout;
// and the kernel signature of each weight type.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/LinearWeights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace attnc::kernels;

namespace {

float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

TEST(LinearWeights, EveryBFloat16AndFloat16RoundTrips) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    uint16_t b = uint16_t(bits);
    float viaBf16 = bfloat16ToFloat(b), viaF16 = float16ToFloat(b);
    if (std::isnan(viaBf16))
      EXPECT_TRUE(std::isnan(bfloat16ToFloat(floatToBFloat16(viaBf16))));
    else
      EXPECT_EQ(floatToBFloat16(viaBf16), b) << bits;
    if (std::isnan(viaF16))
      EXPECT_TRUE(std::isnan(float16ToFloat(floatToFloat16(viaF16))));
    else
      EXPECT_EQ(floatToFloat16(viaF16), b) << bits;
  }
}

TEST(LinearWeights, RoundingIsToNearestEven) {
  // bf16 keeps 8 bits of significand: 1 + 2^-8 is halfway between 1 and
  // 1 + 2^-7 and goes to the even one, 1; 1 + 3 * 2^-8 goes up.
  EXPECT_EQ(floatToBFloat16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBFloat16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(floatToBFloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(floatToBFloat16(-2.0f), 0xc000);
  EXPECT_EQ(floatToBFloat16(std::numeric_limits<float>::max()), 0x7f80);
  // f16: 11 bits; its largest finite value is 65504, and 65520 (halfway
  // to 65536) rounds to infinity.
  EXPECT_EQ(floatToFloat16(1.0f), 0x3c00);
  EXPECT_EQ(floatToFloat16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(floatToFloat16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(floatToFloat16(65504.0f), 0x7bff);
  EXPECT_EQ(floatToFloat16(65519.0f), 0x7bff);
  EXPECT_EQ(floatToFloat16(65520.0f), 0x7c00);
  EXPECT_EQ(floatToFloat16(-1e9f), 0xfc00);
  // Subnormals, in units of 2^-24: 2^-25 is a tie and goes to 0.
  EXPECT_EQ(floatToFloat16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(floatToFloat16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(floatToFloat16(3 * std::ldexp(1.0f, -25)), 0x0002);
  EXPECT_EQ(floatToFloat16(-std::ldexp(1.0f, -14)), 0x8400);
  EXPECT_EQ(floatToFloat16(std::ldexp(1023.0f, -24)), 0x03ff);
  // NaN stays NaN.
  EXPECT_TRUE(std::isnan(bfloat16ToFloat(floatToBFloat16(NAN))));
  EXPECT_TRUE(std::isnan(float16ToFloat(floatToFloat16(NAN))));
  EXPECT_TRUE(std::isnan(float16ToFloat(
      floatToFloat16(bitsToFloat(0x7f800001u))))); // A signalling NaN.
}

TEST(LinearWeights, Int8ScalesEachOutputFeature) {
  // Rows: a largest magnitude of 1.27 (scale 0.01), all zeros (scale 1),
  // and one value (it maps to 127).
  const int64_t out = 3, in = 3;
  std::vector<float> w = {0.5f, -1.27f, 0.004f, 0, 0, 0, 0, 0, -3.0f};
  std::vector<int8_t> packed(size_t(packedLinearElements(out, in)), 99);
  std::vector<float> scales(out);
  packLinearWeight(w.data(), out, in, WeightType::I8, packed.data(),
                   scales.data());
  EXPECT_FLOAT_EQ(scales[0], 0.01f);
  EXPECT_EQ(scales[1], 1.0f);
  EXPECT_FLOAT_EQ(scales[2], 3.0f / 127);
  // Panel 0, lane o, input i at (i * 16 + o).
  EXPECT_EQ(packed[0 * 16 + 0], 50);
  EXPECT_EQ(packed[1 * 16 + 0], -127);
  EXPECT_EQ(packed[2 * 16 + 0], 0); // 0.4 rounds to 0.
  EXPECT_EQ(packed[2 * 16 + 2], -127);
  EXPECT_EQ(packed[1 * 16 + 1], 0);
  for (int64_t i = 0; i < in; ++i) // Padding lanes are zero.
    for (int64_t lane = out; lane < 16; ++lane)
      EXPECT_EQ(packed[size_t(i * 16 + lane)], 0);
  std::vector<float> held = dequantizeLinearWeight(w, out, in, WeightType::I8);
  EXPECT_FLOAT_EQ(held[0], 50 * 0.01f);
  EXPECT_FLOAT_EQ(held[1], -1.27f);
  EXPECT_EQ(held[2], 0.0f);
  EXPECT_FLOAT_EQ(held[8], -3.0f);
}

TEST(LinearWeights, PackedPanelsHoldTheRoundedWeights) {
  // 17 outputs: two panels, the second with one feature and 15 zeros.
  const int64_t out = 17, in = 5;
  std::vector<float> w(size_t(out * in));
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = float(i) / 7.0f - 3.0f;
  for (WeightType type : {WeightType::F32, WeightType::BF16, WeightType::F16}) {
    std::vector<uint8_t> packed(
        size_t(packedLinearElements(out, in)) * weightTypeBytes(type), 0xff);
    packLinearWeight(w.data(), out, in, type, packed.data(), nullptr);
    std::vector<float> held = dequantizeLinearWeight(w, out, in, type);
    auto at = [&](int64_t panel, int64_t i, int64_t lane) {
      size_t index = size_t((panel * in + i) * 16 + lane);
      if (type == WeightType::F32) {
        float value;
        std::memcpy(&value, packed.data() + 4 * index, 4);
        return value;
      }
      uint16_t bits;
      std::memcpy(&bits, packed.data() + 2 * index, 2);
      return type == WeightType::BF16 ? bfloat16ToFloat(bits)
                                      : float16ToFloat(bits);
    };
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i) {
        EXPECT_EQ(at(o / 16, i, o % 16), held[size_t(o * in + i)]);
        // Half an ulp: 2^-8 (bf16) and 2^-11 (f16) of the magnitude.
        float weight = w[size_t(o * in + i)];
        double ulp = type == WeightType::F32    ? 0.0
                     : type == WeightType::BF16 ? 1.0 / 256
                                                : 1.0 / 2048;
        EXPECT_NEAR(held[size_t(o * in + i)], weight, std::fabs(weight) * ulp);
      }
    for (int64_t i = 0; i < in; ++i)
      for (int64_t lane = 1; lane < 16; ++lane)
        EXPECT_EQ(at(1, i, lane), 0.0f);
  }
}

TEST(LinearWeights, SignatureNamesTheStoredType) {
  for (auto [type, name] :
       {std::pair<WeightType, const char *>{WeightType::BF16, "bf16"},
        {WeightType::F16, "f16"},
        {WeightType::I8, "i8"}}) {
    KernelSpec spec{LinearSpec{8, 20, true, Activation::None, type}};
    std::vector<ArgumentSig> args = spec.signature();
    ASSERT_EQ(args.size(), type == WeightType::I8 ? 5u : 4u);
    EXPECT_EQ(args[1].name, "weight");
    EXPECT_EQ(args[1].dtype, name);
    EXPECT_EQ(args[1].dims[0].extent, 2); // Panels.
    if (type == WeightType::I8) {
      EXPECT_EQ(args[2].name, "weight_scale");
      EXPECT_EQ(args[2].dtype, "f32");
      EXPECT_EQ(args[2].dims[0].extent, 20);
    }
    EXPECT_EQ(args.back().dtype, "f32"); // The output.
  }
}

TEST(LinearWeights, BF16DotProductOnlyWhereTheTargetHasIt) {
  const std::string sapphire =
      "x86-64-linux-avx-avx2-avx512-avx512_cannonlake-"
      "avx512_sapphirerapids-avx512_skylake-f16c-fma-sse41";
  const std::string skylake =
      "x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41";
  LinearSpec bf16{512, 512, true, Activation::None, WeightType::BF16};
  EXPECT_TRUE(usesBF16DotProduct(bf16, DType::F32, sapphire, ""));
  // The gemv class, which memory bounds, keeps f32 products.
  EXPECT_FALSE(usesBF16DotProduct(bf16, DType::F32, sapphire, "gemv"));
  EXPECT_FALSE(usesBF16DotProduct(bf16, DType::F32, skylake, ""));
  // bf16 activations too (their input needs no rounding).
  EXPECT_TRUE(usesBF16DotProduct(bf16, DType::BF16, sapphire, ""));
  // A GPU target's string names the host's features too.
  EXPECT_FALSE(usesBF16DotProduct(bf16, DType::F32, sapphire + "-cuda", ""));
  EXPECT_FALSE(
      usesBF16DotProduct(bf16, DType::F32, sapphire + "-opencl-cl_half", ""));
  // int8 weights are exact in bf16 (their scale multiplies the sum).
  LinearSpec i8 = bf16;
  i8.weights = WeightType::I8;
  EXPECT_TRUE(usesBF16DotProduct(i8, DType::F32, sapphire, ""));
  EXPECT_FALSE(usesBF16DotProduct(i8, DType::F32, sapphire, "gemv"));
  EXPECT_FALSE(usesBF16DotProduct(i8, DType::F32, skylake, ""));
  for (WeightType other : {WeightType::F32, WeightType::F16}) {
    LinearSpec s = bf16;
    s.weights = other;
    EXPECT_FALSE(usesBF16DotProduct(s, DType::F32, sapphire, ""));
  }
}

TEST(LinearWeights, ScaledHalvesOnlyInTheCpuGemv) {
  const std::string avx2 = "x86-64-linux-avx-avx2-f16c-fma-sse41";
  LinearSpec f16{512, 2048, true, Activation::ReLU, WeightType::F16};
  EXPECT_EQ(linearProduct(f16, DType::F32, avx2, "gemv"),
            LinearProduct::ScaledHalves);
  // The gemm class widens each staged weight once for many rows.
  EXPECT_EQ(linearProduct(f16, DType::F32, avx2, ""), LinearProduct::Widened);
  EXPECT_EQ(linearProduct(f16, DType::F32, avx2 + "-cuda", "gemv"),
            LinearProduct::Widened);
  EXPECT_EQ(linearProduct(f16, DType::BF16, avx2, "gemv"),
            LinearProduct::ScaledHalves);
  for (WeightType other : {WeightType::F32, WeightType::BF16, WeightType::I8}) {
    LinearSpec s = f16;
    s.weights = other;
    EXPECT_EQ(linearProduct(s, DType::F32, avx2, "gemv"),
              LinearProduct::Widened);
  }
}

} // namespace
