//===- GpuTestMain.cpp - main() of the GPU test binaries ------------------===//
//
// The GoogleTest main of tests compiled a second time against a GPU build
// of their kernels (CUDA, or OpenCL with ATTNC_GPU_API_OPENCL): the golden
// models (attnc-{cuda,opencl}-golden-tests) and the kernel matrix against
// the double-precision reference (attnc-{cuda,opencl}-reference-tests).
// Without a device: [SKIP], exit code 77, before any test runs.
//
//===----------------------------------------------------------------------===//

#include "GpuDevice.h"

#include "gtest/gtest.h"

#include <cstdio>

int main(int argc, char **argv) {
  std::string why = attnc::test::whyNoGpuDevice();
  if (!why.empty()) {
    std::printf("[SKIP] %s tests: %s\n", attnc::test::kGpuApi, why.c_str());
    return attnc::test::kSkipCode;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
