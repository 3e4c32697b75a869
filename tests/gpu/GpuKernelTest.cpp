//===- GpuKernelTest.cpp - Every kernel on a GPU target against the CPU ---===//
//
// tests/kernels/{attention,layers}.attn compiled for a GPU target (CUDA, or
// OpenCL with ATTNC_GPU_API_OPENCL) and for the host: every function of
// every kernel (general, decode, gemv variants) runs on the GPU on random
// inputs at odd sizes and must match the CPU kernel on the same inputs
// within 1e-4 relative error (max |gpu - cpu| / max |cpu|; the CPU kernels
// are themselves checked against the plain-loop reference by
// attnc-kernel-tests). The registries are ATTNC_GPU_ATTENTION_REGISTRY and
// ATTNC_GPU_LAYERS_REGISTRY. Without a device: [SKIP], exit code 77.
//
//===----------------------------------------------------------------------===//

#include "../kernels/KernelHarness.h"
#include "GpuDevice.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

extern "C" const attnc_registry attention_registry__host;
extern "C" const attnc_registry layers_registry__host;
extern "C" const attnc_registry ATTNC_GPU_ATTENTION_REGISTRY;
extern "C" const attnc_registry ATTNC_GPU_LAYERS_REGISTRY;

using namespace attnc;
using namespace attnc::test;

namespace {

/// Odd sizes, so that no tile divides them.
const std::map<std::string, int64_t> kSizes = {
    {"rows", 37}, {"batch", 2}, {"length", 9}, {"q_len", 67}, {"kv_len", 77}};

const attnc_kernel_entry *sameEntry(const attnc_registry &registry,
                                    const attnc_kernel_entry &like) {
  for (int i = 0; i < registry.num_entries; ++i)
    if (std::strcmp(registry.entries[i].kernel, like.kernel) == 0 &&
        std::strcmp(registry.entries[i].shape_class, like.shape_class) == 0)
      return &registry.entries[i];
  return nullptr;
}

void compareAll(const attnc_registry &gpu, const attnc_registry &cpu) {
  // ATTNC_GPU_TEST_ONLY=<part of a symbol> runs just the matching kernels.
  const char *only = std::getenv("ATTNC_GPU_TEST_ONLY");
  KernelSet set(gpu);
  int compared = 0;
  for (const auto &[name, spec] : set.specs()) {
    std::vector<kernels::ArgumentSig> signature = spec.signature();
    for (int e = 0; e < gpu.num_entries; ++e) {
      const attnc_kernel_entry &entry = gpu.entries[e];
      if (name != entry.kernel || (only && !std::strstr(entry.symbol, only)))
        continue;
      SCOPED_TRACE(entry.symbol);
      std::printf("%s\n", entry.symbol); // Names the kernel if one crashes.
      std::fflush(stdout);
      const attnc_kernel_entry *reference = sameEntry(cpu, entry);
      ASSERT_NE(reference, nullptr);
      std::vector<std::vector<float>> f32;
      std::vector<std::vector<int32_t>> i32;
      f32.reserve(2 * signature.size());
      i32.reserve(signature.size());
      std::vector<TensorArg> inputs, gpuOut, cpuOut;
      std::vector<int32_t> scalars;
      for (size_t i = 0; i < signature.size(); ++i) {
        const kernels::ArgumentSig &arg = signature[i];
        if (arg.kind == kernels::ArgumentSig::Kind::Scalar) {
          scalars.push_back(0);
          continue;
        }
        std::vector<int64_t> shape;
        int64_t size = 1;
        for (const kernels::Dim &dim : arg.dims) {
          shape.push_back(dim.extent >= 0 ? dim.extent : kSizes.at(dim.symbol));
          size *= shape.back();
        }
        TensorArg tensor;
        tensor.shape = shape;
        if (arg.dtype == "i32") {
          i32.emplace_back(size_t(size));
          for (int64_t v = 0; v < size; ++v) // valid ids and key lengths
            i32.back()[size_t(v)] = int32_t(1 + v % 5);
          tensor.i32 = i32.back().data();
          inputs.push_back(tensor);
        } else if (arg.kind == kernels::ArgumentSig::Kind::Output) {
          f32.emplace_back(size_t(size), NAN);
          tensor.f32 = f32.back().data();
          gpuOut.push_back(tensor);
          f32.emplace_back(size_t(size), NAN);
          tensor.f32 = f32.back().data();
          cpuOut.push_back(tensor);
        } else {
          f32.push_back(randomTensor(size_t(size), uint32_t(i + 1)));
          tensor.f32 = f32.back().data();
          inputs.push_back(tensor);
        }
      }
      ASSERT_EQ(KernelSet::call(*reference, inputs, scalars, cpuOut), 0)
          << lastHalideError();
      ASSERT_EQ(KernelSet::call(entry, inputs, scalars, gpuOut), 0)
          << lastHalideError();
      for (size_t o = 0; o < gpuOut.size(); ++o) {
        size_t size = 1;
        for (int64_t d : gpuOut[o].shape)
          size *= size_t(d);
        std::vector<float> got(gpuOut[o].f32, gpuOut[o].f32 + size),
            want(cpuOut[o].f32, cpuOut[o].f32 + size);
        EXPECT_LE(relativeError(got, want), 1e-4) << "output " << o;
      }
      ++compared;
    }
  }
  if (!only)
    EXPECT_GT(compared, 0);
}

TEST(Gpu, AttentionKernelsMatchTheCpu) {
  compareAll(ATTNC_GPU_ATTENTION_REGISTRY, attention_registry__host);
}

TEST(Gpu, LayerKernelsMatchTheCpu) {
  compareAll(ATTNC_GPU_LAYERS_REGISTRY, layers_registry__host);
}

} // namespace

int main(int argc, char **argv) {
  std::string why = whyNoGpuDevice();
  if (!why.empty()) {
    std::printf("[SKIP] %s kernel tests: %s\n", kGpuApi, why.c_str());
    return kSkipCode;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
