//===- GpuAttentionBench.cpp - Fused attention on a GPU, device-resident --===//
//
//   attnc-cuda-attention-bench [lengths] [reps] [variants]
//   attnc-opencl-attention-bench ...          (the same on OpenCL)
//
// B=1, H=16, D=64 and 128, fp32, self-attention, causal and not, at the
// comma-separated lengths (default 1024,2048,4096,8192,16384), median of
// reps (default 7): bench/gpu_attention.attn compiled for the GPU target,
// with the default schedule ("default") and with the schedule variants
// that bench/CMakeLists.txt compiles (--schedule values); `variants` is a
// comma-separated list of their names or "all" (default: default).
// Q, K, V and the output stay on the device: inputs are copied once,
// then each timed call is the kernel alone (launch included) followed by a
// device synchronization. Before timing, each case's output is copied back
// once and 4 of its rows are checked against a double-precision loop; a
// case whose error exceeds 1e-4 is reported as FAILED, not timed.
// Prints one line per case: "attnc[variant] D=.. L=.. causal=.. <ms> ms".
// scripts/gpu-check.sh puts these next to PyTorch's on the same GPU.
//
//===----------------------------------------------------------------------===//

#include "attnc/registry.h"

#include "HalideBuffer.h"
#include "HalideRuntime.h"
#ifdef ATTNC_GPU_API_OPENCL
#include "HalideRuntimeOpenCL.h"
#define ATTNC_DEVICE_INTERFACE halide_opencl_device_interface()
#else
#include "HalideRuntimeCuda.h"
#define ATTNC_DEVICE_INTERFACE halide_cuda_device_interface()
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

// ATTNC_BENCH_VARIANTS(X): X(name, registry) for each compiled variant,
// written by bench/CMakeLists.txt.
#include "GpuBenchVariants.h"
#define ATTNC_DECLARE(name, registry) extern "C" const attnc_registry registry;
ATTNC_BENCH_VARIANTS(ATTNC_DECLARE)

namespace {

using Halide::Runtime::Buffer;
using Clock = std::chrono::steady_clock;

constexpr int kHeads = 16;

struct Variant {
  const char *name;
  const attnc_registry &registry;
};
#define ATTNC_VARIANT(name, registry) {#name, registry},
const Variant kVariants[] = {ATTNC_BENCH_VARIANTS(ATTNC_VARIANT)};

std::vector<std::string> splitList(const std::string &text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    items.push_back(item);
  return items;
}

/// The general function of the kernel with head dim `d` and `causal`
/// (bench/gpu_attention.attn has one kernel of each kind).
const attnc_kernel_entry *findKernel(const attnc_registry &registry, int d,
                                     bool causal) {
  std::string prefix = "attention_h16kv16d" + std::to_string(d) + "_";
  for (int i = 0; i < registry.num_entries; ++i) {
    const attnc_kernel_entry &entry = registry.entries[i];
    std::string name = entry.kernel;
    if (name.rfind(prefix, 0) == 0 && !entry.shape_class[0] &&
        (name.find("_mask_") != std::string::npos) == causal)
      return &entry;
  }
  return nullptr;
}

Buffer<float> randomBuffer(int width, int length, unsigned seed) {
  Buffer<float> buffer(width, length, 1);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  buffer.for_each_value([&](float &v) { v = uniform(rng); });
  buffer.set_host_dirty(); // else copy_to_device allocates but copies nothing
  return buffer;
}

/// Largest |out - reference| / max |reference| over 4 query rows, computed
/// in double with the kernels' default scale 1/sqrt(d).
double checkRows(const Buffer<float> &q, const Buffer<float> &k,
                 const Buffer<float> &v, const Buffer<float> &out, int d,
                 bool causal) {
  const int length = q.dim(1).extent();
  double worst = 0, largest = 1e-6;
  for (int row : {0, 1, length / 2, length - 1}) {
    for (int h = 0; h < kHeads; ++h) {
      int keys = causal ? row + 1 : length;
      std::vector<double> score(size_t(keys), 0.0);
      double top = -INFINITY;
      for (int j = 0; j < keys; ++j) {
        for (int c = 0; c < d; ++c)
          score[size_t(j)] += double(q(h * d + c, row, 0)) * k(h * d + c, j, 0);
        score[size_t(j)] /= std::sqrt(double(d));
        top = std::max(top, score[size_t(j)]);
      }
      double sum = 0;
      for (double &s : score)
        sum += (s = std::exp(s - top));
      for (int c = 0; c < d; ++c) {
        double expected = 0;
        for (int j = 0; j < keys; ++j)
          expected += score[size_t(j)] * v(h * d + c, j, 0);
        expected /= sum;
        largest = std::max(largest, std::fabs(expected));
        worst = std::max(worst, std::fabs(expected - out(h * d + c, row, 0)));
      }
    }
  }
  return worst / largest;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int> lengths;
  for (const std::string &item :
       splitList(argc > 1 ? argv[1] : "1024,2048,4096,8192,16384"))
    lengths.push_back(std::atoi(item.c_str()));
  const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
  std::vector<const Variant *> variants;
  for (const std::string &name : splitList(argc > 3 ? argv[3] : "default"))
    for (const Variant &variant : kVariants)
      if (name == "all" || name == variant.name)
        variants.push_back(&variant);
  if (variants.empty()) {
    std::printf("FAILED: no such variant; compiled:");
    for (const Variant &variant : kVariants)
      std::printf(" %s", variant.name);
    std::printf("\n");
    return 1;
  }
  const halide_device_interface_t *device = ATTNC_DEVICE_INTERFACE;
  int failures = 0;
  std::printf("# attnc %s, %s, B=1 H=%d fp32, device-resident, median of %d\n",
              kVariants[0].registry.target_tag,
              kVariants[0].registry.halide_target, kHeads, reps);
  for (int d : {64, 128}) {
    for (int length : lengths) {
      Buffer<float> q = randomBuffer(kHeads * d, length, 1),
                    k = randomBuffer(kHeads * d, length, 2),
                    v = randomBuffer(kHeads * d, length, 3);
      Buffer<float> out(kHeads * d, length, 1);
      for (Buffer<float> *b : {&q, &k, &v})
        if (b->copy_to_device(device) != 0) {
          std::printf("FAILED: copying inputs to the device\n");
          return 1;
        }
      if (out.device_malloc(device) != 0) {
        std::printf("FAILED: allocating the output on the device\n");
        return 1;
      }
      for (const Variant *variant : variants) {
        for (bool causal : {false, true}) {
          const attnc_kernel_entry *entry =
              findKernel(variant->registry, d, causal);
          if (!entry) {
            std::printf("FAILED: no kernel for D=%d causal=%d\n", d, causal);
            return 1;
          }
          int32_t offset = 0;
          void *args[] = {q.raw_buffer(), k.raw_buffer(), v.raw_buffer(),
                          &offset, out.raw_buffer()};
          auto call = [&] {
            int status = entry->argv(args);
            if (status == 0)
              status = halide_device_sync(nullptr, out.raw_buffer());
            return status;
          };
          char label[128];
          std::snprintf(label, sizeof label, "attnc[%s] D=%d L=%d causal=%d",
                        variant->name, d, length, int(causal));
          if (call() != 0) {
            std::printf("%s FAILED: the kernel returned an error\n", label);
            ++failures;
            continue;
          }
          out.copy_to_host();
          double error = checkRows(q, k, v, out, d, causal);
          if (!(error <= 1e-4)) {
            std::printf("%s FAILED: error %.3g against the reference\n", label,
                        error);
            ++failures;
            continue;
          }
          std::vector<double> ms;
          for (int r = 0; r < reps; ++r) {
            auto start = Clock::now();
            call();
            ms.push_back(
                std::chrono::duration<double, std::milli>(Clock::now() - start)
                    .count());
          }
          double flops =
              4.0 * kHeads * double(length) * length * d * (causal ? 0.5 : 1.0);
          std::printf("%s %.3f ms %.3g TFLOP/s (error %.1e)\n", label,
                      median(ms), flops / median(ms) * 1e-9, error);
          std::fflush(stdout);
        }
      }
    }
  }
  return failures ? 1 : 0;
}
