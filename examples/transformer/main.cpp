//===- main.cpp - The 6+6 transformer of model.attn, end to end -----------===//
//
//   transformer [--src-len N] [--steps N] [--batch N] [--threads N]
//               [--weights file.safetensors]
//               [--weights-dtype f32|bf16|f16|int8] [--activations f32|bf16]
//               [--repeat N]
//
// Runs the encoder-decoder of model.attn (d_model 512, 8 heads, FFN 2048,
// vocabulary 1000) with deterministic weights (written to a safetensors
// file on first use, then loaded like a real checkpoint): encodes a source
// sequence, decodes a target of the same length at once (the training-style
// forward pass), and greedy-decodes --steps tokens with the KV cache,
// printing the time of each stage and the decode rate. --weights-dtype
// picks the model of model.attn whose linear weights are stored that way
// (transformer_bf16, ...): the same weights file, converted at load.
// --activations bf16 runs the same models compiled with bf16 activations
// (examples/CMakeLists.txt compiles model.attn a second time, --dtype=bf16).
// --repeat N greedy-decodes N more times and prints each time and their
// median: a quick check of a change to the decoding path (the benchmarks in
// bench/ are the ones to quote).
//
//===----------------------------------------------------------------------===//

#include "attnc/Runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

extern "C" const attnc_registry transformer_registry__host;
extern "C" const attnc_registry transformer_bf16_activations_registry__host;

namespace {

double millisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

int main(int argc, char **argv) {
  int64_t srcLen = 128, steps = 32, batch = 1;
  int threads = 2, repeat = 0;
  std::string weightsPath = "transformer.safetensors";
  std::string weightsDtype = "f32";
  std::string activations = "f32";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--src-len")
      srcLen = std::atoll(argv[i + 1]);
    else if (flag == "--steps")
      steps = std::atoll(argv[i + 1]);
    else if (flag == "--batch")
      batch = std::atoll(argv[i + 1]);
    else if (flag == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (flag == "--weights")
      weightsPath = argv[i + 1];
    else if (flag == "--weights-dtype")
      weightsDtype = argv[i + 1];
    else if (flag == "--activations")
      activations = argv[i + 1];
    else if (flag == "--repeat")
      repeat = std::max(0, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (weightsDtype != "f32" && weightsDtype != "bf16" &&
      weightsDtype != "f16" && weightsDtype != "int8") {
    std::fprintf(stderr,
                 "unknown --weights-dtype %s; expected f32, bf16, f16 or "
                 "int8\n",
                 weightsDtype.c_str());
    return 2;
  }
  if (activations != "f32" && activations != "bf16") {
    std::fprintf(stderr, "unknown --activations %s; expected f32 or bf16\n",
                 activations.c_str());
    return 2;
  }
  const attnc_registry &registry =
      activations == "bf16" ? transformer_bf16_activations_registry__host
                            : transformer_registry__host;
  const std::string name =
      weightsDtype == "f32" ? "transformer" : "transformer_" + weightsDtype;
  try {
    auto start = std::chrono::steady_clock::now();
    if (!std::ifstream(weightsPath)) {
      attnc::Weights::save(weightsPath,
                           attnc::syntheticWeights(transformer_registry__host));
      std::printf("wrote deterministic weights to %s (%.0f ms)\n",
                  weightsPath.c_str(), millisecondsSince(start));
    }
    start = std::chrono::steady_clock::now();
    attnc::Model model =
        attnc::Model::load(registry, attnc::Weights::load(weightsPath), name);
    attnc::Model::setThreads(threads);
    std::printf("load and prepare: %.1f ms (%s, model %s, %s activations, "
                "%.1f MB of weights, %d threads)\n",
                millisecondsSince(start), weightsPath.c_str(), name.c_str(),
                activations.c_str(), double(model.weightBytes()) / 1e6,
                threads);

    std::vector<int32_t> tokens(size_t(batch * srcLen));
    for (size_t i = 0; i < tokens.size(); ++i)
      tokens[i] = int32_t(3 + (i * 37) % 997);
    attnc::Tensor src = attnc::Tensor::i32({batch, srcLen}, tokens);
    attnc::Tensor lengths = attnc::Tensor::i32(
        {batch}, std::vector<int32_t>(size_t(batch), int32_t(srcLen)));

    start = std::chrono::steady_clock::now();
    auto encoded = model.run(name + "_encode",
                             {{"src_tokens", src}, {"src_lengths", lengths}});
    std::printf("encode %lld x %lld tokens: %.2f ms\n", (long long)batch,
                (long long)srcLen, millisecondsSince(start));

    start = std::chrono::steady_clock::now();
    auto decoded =
        model.run(name + "_decode", {{"tgt_tokens", src},
                                     {"tgt_lengths", lengths},
                                     {"memory", encoded.at("memory")},
                                     {"src_lengths", lengths}});
    std::printf("decode %lld x %lld target tokens at once: %.2f ms\n",
                (long long)batch, (long long)srcLen, millisecondsSince(start));

    attnc::DecodeOptions options;
    options.bos = 1;
    options.eos = -1; // Never produced: decode every step.
    options.maxSteps = steps;
    start = std::chrono::steady_clock::now();
    attnc::DecodeResult result = model.greedyDecode(src, lengths, options);
    double ms = millisecondsSince(start);
    std::printf("greedy decode %lld steps (encoder included): %.2f ms, %.1f "
                "tokens/s per sequence\n",
                (long long)steps, ms, double(steps) / ms * 1e3);
    std::vector<double> repeats;
    for (int r = 0; r < repeat; ++r) {
      start = std::chrono::steady_clock::now();
      model.greedyDecode(src, lengths, options);
      repeats.push_back(millisecondsSince(start));
      std::printf("greedy decode, repetition %d: %.2f ms\n", r + 1,
                  repeats.back());
    }
    if (!repeats.empty()) {
      std::sort(repeats.begin(), repeats.end());
      std::printf("greedy decode, median of %d repetitions: %.2f ms\n", repeat,
                  repeats[repeats.size() / 2]);
    }
    std::printf("first tokens:");
    for (size_t i = 0; i < result.tokens[0].size() && i < 12; ++i)
      std::printf(" %d", result.tokens[0][i]);
    std::printf("\n");
  } catch (const attnc::Error &error) {
    std::fprintf(stderr, "transformer: %s\n", error.what());
    return 1;
  }
  return 0;
}
