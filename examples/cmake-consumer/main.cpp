//===- main.cpp - An application built against an installed attnc --------===//
//
// Runs the causal grouped-query attention of model.attn through the attnc
// runtime on random inputs, and checks it against a plain double-precision
// loop written here. Prints the largest error; exits 1 if it exceeds 1e-4.
//
//===----------------------------------------------------------------------===//

#include "attnc/Runtime.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <vector>

extern "C" const attnc_registry consumer_kernels_registry__host;

namespace {

constexpr int64_t kHeads = 4, kKvHeads = 2, kHeadDim = 16;

/// Causal grouped-query attention, [batch, length, heads * head_dim].
std::vector<double> reference(const std::vector<float> &q,
                              const std::vector<float> &k,
                              const std::vector<float> &v, int64_t batch,
                              int64_t length) {
  const int64_t qWidth = kHeads * kHeadDim, kvWidth = kKvHeads * kHeadDim;
  std::vector<double> out(size_t(batch * length * qWidth), 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < kHeads; ++h) {
      int64_t g = h / (kHeads / kKvHeads);
      for (int64_t i = 0; i < length; ++i) {
        std::vector<double> scores(size_t(i + 1));
        double top = -INFINITY, sum = 0;
        for (int64_t j = 0; j <= i; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < kHeadDim; ++d)
            dot +=
                double(
                    q[size_t((b * length + i) * qWidth + h * kHeadDim + d)]) *
                k[size_t((b * length + j) * kvWidth + g * kHeadDim + d)];
          scores[size_t(j)] = dot / std::sqrt(double(kHeadDim));
          top = std::max(top, scores[size_t(j)]);
        }
        for (double &s : scores)
          sum += s = std::exp(s - top);
        for (int64_t j = 0; j <= i; ++j)
          for (int64_t d = 0; d < kHeadDim; ++d)
            out[size_t((b * length + i) * qWidth + h * kHeadDim + d)] +=
                scores[size_t(j)] / sum *
                v[size_t((b * length + j) * kvWidth + g * kHeadDim + d)];
      }
    }
  return out;
}

std::vector<float> random(size_t count, std::mt19937 &gen) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float &x : values)
    x = uniform(gen);
  return values;
}

} // namespace

int main() {
  try {
    attnc::Model model =
        attnc::Model::load(consumer_kernels_registry__host, attnc::Weights());
    const int64_t batch = 2, length = 37;
    std::mt19937 gen(7);
    std::vector<float> q =
        random(size_t(batch * length * kHeads * kHeadDim), gen);
    std::vector<float> k =
        random(size_t(batch * length * kKvHeads * kHeadDim), gen);
    std::vector<float> v =
        random(size_t(batch * length * kKvHeads * kHeadDim), gen);
    std::map<std::string, attnc::Tensor> outputs = model.run(
        "causal_gqa",
        {{"query", attnc::Tensor::f32({batch, length, kHeads * kHeadDim}, q)},
         {"key", attnc::Tensor::f32({batch, length, kKvHeads * kHeadDim}, k)},
         {"value",
          attnc::Tensor::f32({batch, length, kKvHeads * kHeadDim}, v)}});
    const attnc::Tensor &output = outputs.at("output");
    std::vector<double> expected = reference(q, k, v, batch, length);
    if (output.numel() != int64_t(expected.size())) {
      std::printf("FAIL: output is %s\n", output.describe().c_str());
      return 1;
    }
    double worst = 0;
    for (size_t i = 0; i < expected.size(); ++i)
      worst = std::max(worst, std::fabs(output.f32Data()[i] - expected[i]));
    std::printf("causal_gqa on %s: max abs error %.2e against a double loop\n",
                output.describe().c_str(), worst);
    if (!(worst <= 1e-4)) {
      std::printf("FAIL: error above 1e-4\n");
      return 1;
    }
    std::printf("OK\n");
    return 0;
  } catch (const attnc::Error &e) {
    std::printf("FAIL: %s\n", e.what());
    return 1;
  }
}
