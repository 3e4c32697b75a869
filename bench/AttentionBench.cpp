//===- AttentionBench.cpp - Fused attention against the sgemm roof --------===//
//
//   attnc-attention-bench [--only TEXT] [--calls N] [rounds] [threads...]
//                         (default: every case, 1 call, 11 rounds, 1 2)
//
// --only keeps the attention cases whose name contains TEXT (the sgemm
// roof always runs); --calls times N back-to-back attention calls per
// sample and reports the time per call, for short cases where one call is
// within the noise.
//
// B=1, H=8, D=64, fp32; self-attention L in {128, 512, 1024, 2048, 4096},
// causal and not, and cross attention Lq=128 Lk=1024, for attnc's kernels
// compiled for x86-64 AVX2 and for the host (default schedules and those
// tuned in bench/tuning/attention.json), next to OpenBLAS sgemm
// (N=1024 and 2048) in the same run. Q, K and V are slices of one packed
// [1, L, 3 * 512] tensor, as after the fused QKV projection. Every round
// runs every case once, in order, so noise from other processes hits all
// alike; tables report medians. GFLOP/s = 4 B H Lq Lk D / t, half of that
// for causal (useful FLOPs only); % sgemm is relative to the better of the
// two sgemm sizes at the same thread count.
//
//===----------------------------------------------------------------------===//

#include "../tests/kernels/KernelHarness.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

extern "C" const attnc_registry bench_attention_avx2_registry__avx2;
extern "C" const attnc_registry bench_attention_host_registry__host;
extern "C" const attnc_registry bench_attention_tuned_registry__host;
extern "C" void openblas_set_num_threads(int);
extern "C" char *openblas_get_config(void);

using namespace attnc;
using namespace attnc::test;

namespace {

struct Case {
  std::string name;
  double flops;
  std::function<void()> run;
  std::vector<double> seconds;
  int calls = 1; ///< Back-to-back calls per timed sample.
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string cpuFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model;
  bool avx512 = false, avx2 = false;
  while (std::getline(in, line)) {
    if (model.empty() && line.rfind("model name", 0) == 0)
      model = line.substr(line.find(':') + 2);
    if (line.rfind("flags", 0) == 0) {
      avx512 = line.find("avx512f") != std::string::npos;
      avx2 = line.find("avx2") != std::string::npos;
      break;
    }
  }
  return model + (avx512 ? ", AVX-512" : avx2 ? ", AVX2" : "");
}

/// The function of the attention kernel with `causal` that a call with
/// `qLen` queries and `kvLen` keys runs: as the runtime dispatches, the first
/// shape class whose bound the call meets (decode, short, tuned length
/// buckets), else the general function.
const attnc_kernel_entry &pickKernel(const attnc_registry &registry,
                                     bool causal, int64_t qLen, int64_t kvLen) {
  for (int i = 0; i < registry.num_entries; ++i) {
    const attnc_kernel_entry &entry = registry.entries[i];
    std::string name = entry.kernel;
    // bench/attention.attn's only masked kernels are causal.
    if (name.rfind("attention_h8kv8d64_", 0) != 0 ||
        (name.find("_mask_") != std::string::npos) != causal)
      continue;
    std::string dimension = entry.dimension;
    if (!entry.shape_class[0] ||
        (dimension == "q_len" && qLen <= entry.max_extent) ||
        (dimension == "length" && std::max(qLen, kvLen) <= entry.max_extent))
      return entry;
  }
  std::fprintf(stderr, "no %s kernel in %s\n", causal ? "causal" : "full",
               registry.unit);
  std::exit(1);
}

} // namespace

int main(int argc, char **argv) {
  std::string only;
  int calls = 1;
  int arg = 1;
  for (; arg + 1 < argc && argv[arg][0] == '-'; arg += 2) {
    std::string flag = argv[arg];
    if (flag == "--only")
      only = argv[arg + 1];
    else if (flag == "--calls")
      calls = std::max(1, std::atoi(argv[arg + 1]));
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[arg]);
      return 2;
    }
  }
  int rounds = arg < argc ? std::atoi(argv[arg++]) : 11;
  std::vector<int> threadCounts;
  for (; arg < argc; ++arg)
    threadCounts.push_back(std::atoi(argv[arg]));
  if (threadCounts.empty())
    threadCounts = {1, 2};
  const int64_t H = 8, D = 64, W = H * D;

  std::vector<Case> cases;
  std::vector<std::vector<float>> storage;
  storage.reserve(64);
  for (int64_t n : {1024, 2048}) {
    storage.push_back(randomTensor(n * n, 1));
    storage.push_back(randomTensor(n * n, 2));
    storage.emplace_back(n * n);
    float *a = storage[storage.size() - 3].data(),
          *b = storage[storage.size() - 2].data(), *c = storage.back().data();
    cases.push_back({"OpenBLAS sgemm N=" + std::to_string(n),
                     2.0 * n * n * n,
                     [=] {
                       cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                                   int(n), int(n), int(n), 1.0f, a, int(n), b,
                                   int(n), 0.0f, c, int(n));
                     },
                     {}});
  }
  struct Build {
    const char *label;
    const attnc_registry &registry;
  } builds[] = {{"attnc avx2", bench_attention_avx2_registry__avx2},
                {"attnc host", bench_attention_host_registry__host},
                {"attnc tuned", bench_attention_tuned_registry__host}};
  auto addAttention = [&](const Build &build, bool causal, int64_t qLen,
                          int64_t kvLen) {
    const attnc_kernel_entry &entry =
        pickKernel(build.registry, causal, qLen, kvLen);
    // Self-attention reads q, k, v from one packed tensor; cross attention
    // from two (queries, and keys and values of the memory).
    storage.push_back(randomTensor(qLen * 3 * W, 3));
    float *packed = storage.back().data();
    storage.push_back(randomTensor(kvLen * 3 * W, 4));
    float *memory = qLen == kvLen ? packed : storage.back().data();
    storage.emplace_back(qLen * W);
    float *out = storage.back().data();
    auto view = [&](float *base, int64_t offset, int64_t length) {
      TensorArg arg{base + offset, nullptr, {1, length, W}};
      arg.rowStride = 3 * W;
      return arg;
    };
    std::vector<TensorArg> inputs = {view(packed, 0, qLen),
                                     view(memory, W, kvLen),
                                     view(memory, 2 * W, kvLen)};
    std::vector<TensorArg> outputs = {{out, nullptr, {1, qLen, W}}};
    std::string name =
        std::string(build.label) + " " +
        (qLen != kvLen ? "cross Lq=" + std::to_string(qLen) +
                             " Lk=" + std::to_string(kvLen)
                       : std::string(causal ? "causal" : "full") +
                             " L=" + std::to_string(qLen));
    double flops =
        4.0 * H * double(qLen) * double(kvLen) * D / (causal ? 2 : 1);
    if (name.find(only) == std::string::npos)
      return;
    cases.push_back({name,
                     flops,
                     [=, &entry] {
                       if (KernelSet::call(entry, inputs, {0}, outputs) != 0) {
                         std::fprintf(stderr, "%s failed: %s\n", entry.symbol,
                                      lastHalideError().c_str());
                         std::exit(1);
                       }
                     },
                     {},
                     calls});
  };
  for (const Build &build : builds) {
    for (bool causal : {false, true})
      for (int64_t length : {128, 512, 1024, 2048, 4096})
        addAttention(build, causal, length, length);
    addAttention(build, false, 128, 1024);
  }

  std::printf("# Fused attention, B=1 H=8 D=64 fp32, Q/K/V packed\n"
              "# CPU: %s; OpenBLAS: %s\n# median of %d interleaved rounds"
              " (attention: %d call(s) per sample)\n",
              cpuFlags().c_str(), openblas_get_config(), rounds, calls);
  for (int threads : threadCounts) {
    openblas_set_num_threads(threads);
    halide_set_num_threads(threads);
    for (Case &c : cases) {
      c.seconds.clear();
      c.run(); // warm-up
    }
    for (int r = 0; r < rounds; ++r)
      for (Case &c : cases) {
        auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < c.calls; ++i)
          c.run();
        c.seconds.push_back(std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - start)
                                .count() /
                            c.calls);
      }
    double roof = 0;
    for (Case &c : cases)
      if (c.name.rfind("OpenBLAS", 0) == 0)
        roof = std::max(roof, c.flops / median(c.seconds) * 1e-9);
    std::printf("\n## %d thread%s (sgemm roof %.1f GFLOP/s)\n\n", threads,
                threads > 1 ? "s" : "", roof);
    std::printf("| case | median ms | GFLOP/s | %% of sgemm |\n"
                "|---|---:|---:|---:|\n");
    for (Case &c : cases) {
      double seconds = median(c.seconds), gflops = c.flops / seconds * 1e-9;
      std::printf("| %s | %.3f | %.1f | %.0f%% |\n", c.name.c_str(),
                  seconds * 1e3, gflops, 100 * gflops / roof);
    }
    // Tuned (bench/tuning/attention.json) against default schedules.
    std::printf("\n| case | default ms | tuned ms | tuned speedup |\n"
                "|---|---:|---:|---:|\n");
    for (Case &tuned : cases) {
      if (tuned.name.rfind("attnc tuned ", 0) != 0)
        continue;
      std::string shape = tuned.name.substr(12);
      for (Case &base : cases)
        if (base.name == "attnc host " + shape)
          std::printf("| %s | %.3f | %.3f | %.2fx |\n", shape.c_str(),
                      median(base.seconds) * 1e3, median(tuned.seconds) * 1e3,
                      median(base.seconds) / median(tuned.seconds));
    }
    std::fflush(stdout);
  }
  return 0;
}
