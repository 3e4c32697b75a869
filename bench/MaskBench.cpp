//===- MaskBench.cpp - What block classification saves, mask by mask -----===//
//
//   attnc-mask-bench [rounds] [threads...]   (default: 11 rounds, 2 threads)
//
// B=1, H=8, D=64, fp32, the kernels of bench/masks.attn on dense Q, K, V:
// built-in causal and sliding-window masks against the same masks written
// as predicates, and block-diagonal, prefix-LM and packed variable-length
// (segment) masks against unmasked attention at the same length. Every
// case's output is checked against the double-precision reference on three
// slices of query rows (first, middle, last) before timing. Rounds run every
// case once, in order, so noise hits all alike; tables report medians and
// the ratios the acceptance of issue 18 names.
//
//===----------------------------------------------------------------------===//

#include "../tests/kernels/KernelHarness.h"
#include "attnc/Reference/Reference.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <string>

extern "C" const attnc_registry bench_masks_registry__host;

using namespace attnc;
using namespace attnc::test;

namespace {

const int64_t H = 8, D = 64, W = H * D;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// The mask of a kernel spec in words, to pick kernels without names.
std::string maskOf(const kernels::AttentionSpec &s) {
  std::string text;
  auto term = [&](const std::string &t) {
    text += (text.empty() ? "" : " ") + t;
  };
  if (s.segments)
    term("segments");
  if (s.predicate)
    term(s.predicate->canonical());
  return text.empty() ? "none" : text;
}

struct Case {
  std::string name;
  std::function<void()> run;
  std::vector<double> seconds;
};

/// Segment ids of consecutive sequences of the given lengths.
std::vector<int32_t> segmentIds(const std::vector<int64_t> &lengths) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < lengths.size(); ++i)
    ids.insert(ids.end(), lengths[i], int32_t(i));
  return ids;
}

} // namespace

int main(int argc, char **argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 11;
  std::vector<int> threadCounts;
  for (int i = 2; i < argc; ++i)
    threadCounts.push_back(std::atoi(argv[i]));
  if (threadCounts.empty())
    threadCounts = {2};

  KernelSet set(bench_masks_registry__host);
  std::map<std::string,
           std::pair<const attnc_kernel_entry *, kernels::AttentionSpec>>
      kernelsByMask;
  for (const auto &[name, spec] : set.specs())
    if (auto *a = std::get_if<kernels::AttentionSpec>(&spec.family))
      kernelsByMask[maskOf(*a)] = {set.find(name), *a};

  std::vector<Case> cases;
  std::vector<std::vector<float>> storage;
  storage.reserve(256);
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(16);
  double worstError = 0;
  auto add = [&](const std::string &name, const std::string &mask, int64_t L,
                 const std::vector<int64_t> &segments = {}) {
    auto found = kernelsByMask.find(mask);
    if (found == kernelsByMask.end() || !found->second.first) {
      std::fprintf(stderr, "no kernel with mask '%s'\n", mask.c_str());
      std::exit(1);
    }
    const attnc_kernel_entry &entry = *found->second.first;
    const kernels::AttentionSpec &spec = found->second.second;
    storage.push_back(randomTensor(L * W, 11));
    float *q = storage.back().data();
    storage.push_back(randomTensor(L * W, 12));
    float *k = storage.back().data();
    storage.push_back(randomTensor(L * W, 13));
    float *v = storage.back().data();
    storage.emplace_back(L * W);
    float *out = storage.back().data();
    std::vector<TensorArg> inputs = {{q, nullptr, {1, L, W}},
                                     {k, nullptr, {1, L, W}},
                                     {v, nullptr, {1, L, W}}};
    if (spec.segments) {
      ids.push_back(segmentIds(segments));
      inputs.push_back({nullptr, ids.back().data(), {1, L}});
    }
    std::vector<TensorArg> outputs = {{out, nullptr, {1, L, W}}};
    auto call = [=, &entry] {
      if (KernelSet::call(entry, inputs, {0}, outputs) != 0) {
        std::fprintf(stderr, "%s failed: %s\n", entry.symbol,
                     lastHalideError().c_str());
        std::exit(1);
      }
    };
    // Check three slices of 16 query rows against the reference.
    call();
    reference::AttentionExtras extras;
    if (spec.segments)
      extras.segmentIds = ids.back();
    std::vector<float> keys(k, k + L * W), values(v, v + L * W);
    for (int64_t first : {int64_t(0), L / 2 - 8, L - 16}) {
      std::vector<float> rows(q + first * W, q + (first + 16) * W);
      reference::AttentionResult expected = reference::attention(
          spec, rows, keys, values, 1, 16, L, extras, first);
      std::vector<float> actual(out + first * W, out + (first + 16) * W);
      double error = relativeError(actual, expected.output);
      worstError = std::max(worstError, error);
      if (!(error < 1e-4)) {
        std::fprintf(stderr, "%s: relative error %.3g against the reference\n",
                     name.c_str(), error);
        std::exit(1);
      }
    }
    cases.push_back({name, call, {}});
  };

  for (int64_t L : {1024, 2048, 4096}) {
    std::string l = " L=" + std::to_string(L);
    add("full" + l, "none", L);
    // `causal` and `predicate(b, h, q, k) { k <= q }` are one kernel.
    add("causal" + l, "(le k q)", L);
  }
  add("sliding 512 L=4096",
      "(and (le k q) (and (lt (sub q k) 512) (lt (sub k q) 512)))", 4096);
  add("sliding 512 as predicate L=4096", "(and (le k q) (lt (sub q k) 512))",
      4096);
  add("block-diagonal 256 L=4096", "(eq (div q 256) (div k 256))", 4096);
  add("prefix-LM 512 L=2048", "(or (lt k 512) (le k q))", 2048);
  add("packed 8 x 512 L=4096", "segments", 4096, std::vector<int64_t>(8, 512));
  // 8 sequences of random lengths (fixed seed) summing to 4096, packed,
  // against the unmasked kernel run on each sequence alone.
  std::vector<int64_t> lengths;
  {
    std::mt19937 random(20261130);
    std::vector<int64_t> cuts = {0, 4096};
    while (cuts.size() < 9) {
      int64_t cut = 64 + int64_t(random() % (4096 - 127));
      if (std::find(cuts.begin(), cuts.end(), cut) == cuts.end())
        cuts.push_back(cut);
    }
    std::sort(cuts.begin(), cuts.end());
    for (size_t i = 1; i < cuts.size(); ++i)
      lengths.push_back(cuts[i] - cuts[i - 1]);
  }
  add("packed 8 random L=4096", "segments", 4096, lengths);
  {
    const attnc_kernel_entry &entry = *kernelsByMask.at("none").first;
    std::vector<std::function<void()>> calls;
    for (int64_t L : lengths) {
      storage.push_back(randomTensor(L * W, 21));
      float *x = storage.back().data();
      storage.emplace_back(L * W);
      float *out = storage.back().data();
      std::vector<TensorArg> inputs = {{x, nullptr, {1, L, W}},
                                       {x, nullptr, {1, L, W}},
                                       {x, nullptr, {1, L, W}}};
      std::vector<TensorArg> outputs = {{out, nullptr, {1, L, W}}};
      calls.push_back([=, &entry] {
        if (KernelSet::call(entry, inputs, {0}, outputs) != 0)
          std::exit(1);
      });
    }
    cases.push_back({"8 random separately, sum",
                     [calls] {
                       for (const auto &call : calls)
                         call();
                     },
                     {}});
  }

  std::printf("# Masks, B=1 H=8 D=64 fp32, dense Q/K/V; median of %d "
              "interleaved rounds\n# every output checked against the "
              "double reference on 48 rows (worst relative error %.2g)\n"
              "# random packed lengths:",
              rounds, worstError);
  for (int64_t L : lengths)
    std::printf(" %lld", (long long)L);
  std::printf("\n");
  for (int threads : threadCounts) {
    halide_set_num_threads(threads);
    for (Case &c : cases) {
      c.seconds.clear();
      c.run(); // warm-up
    }
    for (int r = 0; r < rounds; ++r)
      for (Case &c : cases) {
        auto start = std::chrono::steady_clock::now();
        c.run();
        c.seconds.push_back(std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - start)
                                .count());
      }
    std::map<std::string, double> ms;
    std::printf("\n## %d thread%s\n\n| case | median ms |\n|---|---:|\n",
                threads, threads > 1 ? "s" : "");
    for (Case &c : cases) {
      ms[c.name] = median(c.seconds) * 1e3;
      std::printf("| %s | %.3f |\n", c.name.c_str(), ms[c.name]);
    }
    std::printf("\n| ratio | value |\n|---|---:|\n");
    auto ratio = [&](const std::string &what, const std::string &a,
                     const std::string &b) {
      std::printf("| %s | %.2fx |\n", what.c_str(), ms.at(a) / ms.at(b));
    };
    // `causal` and its predicate spelling are one kernel (the prelude);
    // what causal saves over unmasked attention:
    for (const char *l : {" L=1024", " L=2048", " L=4096"})
      ratio(std::string("unmasked / causal") + l, "full" + std::string(l),
            "causal" + std::string(l));
    ratio("sliding predicate / built-in sliding, L=4096",
          "sliding 512 as predicate L=4096", "sliding 512 L=4096");
    ratio("unmasked / block-diagonal 256, L=4096", "full L=4096",
          "block-diagonal 256 L=4096");
    ratio("unmasked / prefix-LM 512, L=2048", "full L=2048",
          "prefix-LM 512 L=2048");
    ratio("unmasked / packed 8 x 512, L=4096", "full L=4096",
          "packed 8 x 512 L=4096");
    ratio("packed 8 random / their separate runs", "packed 8 random L=4096",
          "8 random separately, sum");
    std::fflush(stdout);
  }
  return 0;
}
