//===- CudaGoldenMain.cpp - The runtime's golden tests on CUDA ------------===//
//
// tests/runtime/GoldenTest.cpp, compiled a second time against the CUDA
// build of tests/golden/tiny.attn: encoder, decoder, full model and greedy
// decoding against PyTorch's outputs, with every kernel on the GPU. Without
// a GPU: [SKIP], exit code 77.
//
//===----------------------------------------------------------------------===//

#include "CudaDevice.h"

#include "gtest/gtest.h"

#include <cstdio>

int main(int argc, char **argv) {
  std::string why = attnc::test::whyNoCudaDevice();
  if (!why.empty()) {
    std::printf("[SKIP] CUDA golden tests: %s\n", why.c_str());
    return attnc::test::kSkipCode;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
