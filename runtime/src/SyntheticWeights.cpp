//===- SyntheticWeights.cpp - The weights a model needs, and made-up ones -===//
//
// For demos and benchmarks that need a model of realistic size without a
// trained checkpoint: the shapes come from the registry's program, the
// values from a 64-bit linear congruential generator, so every run and
// every machine gets the same model.
//
//===----------------------------------------------------------------------===//

#include "Program.h"

#include <cmath>
#include <set>

using namespace attnc;
using namespace attnc::runtime;

std::vector<std::pair<std::string, std::vector<int64_t>>>
attnc::requiredWeights(const attnc_registry &registry) {
  Program program = parseProgram(registry);
  std::vector<std::pair<std::string, std::vector<int64_t>>> weights;
  std::set<std::string> seen;
  for (const auto &[name, function] : program.functions)
    for (const Step &step : function.steps)
      if (step.op == "param" && seen.insert(step.paramName).second)
        weights.emplace_back(step.paramName,
                             function.values[step.results[0]].shape);
  return weights;
}

std::vector<std::pair<std::string, Tensor>>
attnc::syntheticWeights(const attnc_registry &registry, uint64_t seed) {
  uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  auto uniform = [&] { // [-1, 1)
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return float(double(state >> 11) / double(1ull << 52) - 1.0);
  };
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto &[name, shape] : requiredWeights(registry)) {
    Tensor tensor(DType::F32, shape);
    float *data = tensor.f32Data();
    bool isNormGain =
        shape.size() == 1 && name.find("norm") != std::string::npos &&
        name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
    float scale =
        shape.size() >= 2 ? 1.0f / std::sqrt(float(shape.back())) : 0.02f;
    for (int64_t i = 0; i < tensor.numel(); ++i)
      data[i] = isNormGain ? 1.0f + 0.1f * uniform() : scale * uniform();
    tensors.emplace_back(name, std::move(tensor));
  }
  return tensors;
}
