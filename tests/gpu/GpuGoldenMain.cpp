//===- GpuGoldenMain.cpp - The runtime's golden tests on a GPU target -----===//
//
// tests/runtime/GoldenTest.cpp, compiled a second time against a GPU build
// of tests/golden/tiny.attn (CUDA, or OpenCL with ATTNC_GPU_API_OPENCL):
// encoder, decoder, full model and greedy decoding against PyTorch's
// outputs, with every kernel on the GPU. Without a device: [SKIP], exit
// code 77.
//
//===----------------------------------------------------------------------===//

#include "GpuDevice.h"

#include "gtest/gtest.h"

#include <cstdio>

int main(int argc, char **argv) {
  std::string why = attnc::test::whyNoGpuDevice();
  if (!why.empty()) {
    std::printf("[SKIP] %s golden tests: %s\n", attnc::test::kGpuApi,
                why.c_str());
    return attnc::test::kSkipCode;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
