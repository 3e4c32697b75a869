//===- CApi.cpp - The runtime's C API -------------------------------------===//

#include "attnc/Runtime.h"
#include "attnc/attnc.h"

#include <cstring>
#include <memory>

using namespace attnc;

struct attnc_model {
  std::unique_ptr<Model> model;
};

namespace {

thread_local std::string lastError;

template <class F> int guarded(F &&body) {
  try {
    body();
    lastError.clear();
    return 0;
  } catch (const std::exception &e) {
    lastError = e.what();
    return 1;
  }
}

} // namespace

extern "C" const char *attnc_last_error(void) { return lastError.c_str(); }

extern "C" int attnc_model_load(const attnc_registry *registry,
                                const char *path, attnc_model **model) {
  return guarded([&] {
    if (!registry || !path || !model)
      throw Error("attnc_model_load: null argument");
    Weights weights = Weights::load(path);
    *model = new attnc_model{
        std::make_unique<Model>(Model::load(*registry, weights))};
  });
}

extern "C" int attnc_model_load_model(const attnc_registry *registry,
                                      const char *path, const char *model_name,
                                      attnc_model **model) {
  return guarded([&] {
    if (!registry || !path || !model_name || !model)
      throw Error("attnc_model_load_model: null argument");
    Weights weights = Weights::load(path);
    *model = new attnc_model{
        std::make_unique<Model>(Model::load(*registry, weights, model_name))};
  });
}

extern "C" void attnc_model_free(attnc_model *model) { delete model; }

extern "C" int attnc_set_threads(int threads) {
  return guarded([&] { Model::setThreads(threads); });
}

extern "C" int
attnc_model_run(attnc_model *model, const char *function, int num_inputs,
                const char *const *input_names, const int *dtypes,
                const int *ranks, const int64_t *const *shapes,
                const void *const *data, int num_outputs,
                const char *const *output_names, float *const *outputs,
                const int64_t *output_capacity, int64_t (*output_shapes)[4]) {
  return guarded([&] {
    if (!model || !function)
      throw Error("attnc_model_run: null argument");
    std::map<std::string, Tensor> inputs;
    for (int i = 0; i < num_inputs; ++i) {
      std::vector<int64_t> shape(shapes[i], shapes[i] + ranks[i]);
      // Views of the caller's arrays: the run reads them in place.
      inputs.emplace(input_names[i],
                     Tensor::view(dtypes[i] ? DType::I32 : DType::F32, shape,
                                  const_cast<void *>(data[i])));
    }
    std::map<std::string, Model::OutputBuffer> buffers;
    for (int i = 0; i < num_outputs; ++i)
      if (!buffers
               .emplace(output_names[i],
                        Model::OutputBuffer{outputs[i], output_capacity[i], {}})
               .second)
        throw Error(std::string("output '") + output_names[i] +
                    "' is named twice");
    model->model->runInto(function, inputs, buffers);
    for (int i = 0; i < num_outputs; ++i) {
      const std::vector<int64_t> &shape = buffers.at(output_names[i]).shape;
      if (shape.size() > 4)
        throw Error(std::string("output '") + output_names[i] + "' has " +
                    std::to_string(shape.size()) +
                    " dimensions; the C API returns at most 4");
      for (size_t d = 0; d < 4; ++d)
        output_shapes[i][d] = d < shape.size() ? shape[d] : 0;
    }
  });
}

namespace {
/// Copies each sequence's tokens into [batch, max_steps], padded with eos.
void writeTokens(const DecodeResult &result, int64_t batch, int64_t maxSteps,
                 int32_t eos, int32_t *tokens, int64_t *counts) {
  for (int64_t b = 0; b < batch; ++b) {
    const std::vector<int32_t> &row = result.tokens[size_t(b)];
    counts[b] = int64_t(row.size());
    for (int64_t t = 0; t < maxSteps; ++t)
      tokens[b * maxSteps + t] = t < int64_t(row.size()) ? row[size_t(t)] : eos;
  }
}
} // namespace

extern "C" int attnc_model_generate(attnc_model *model, const int32_t *prompt,
                                    const int32_t *prompt_lengths,
                                    int64_t batch, int64_t prompt_len,
                                    int32_t eos, int64_t max_steps,
                                    int32_t *tokens, int64_t *counts) {
  return guarded([&] {
    if (!model || !prompt || !prompt_lengths || !tokens || !counts)
      throw Error("attnc_model_generate: null argument");
    DecodeOptions options;
    options.eos = eos;
    options.maxSteps = max_steps;
    for (int64_t b = 0; b < batch; ++b) {
      if (prompt_lengths[b] < 1 || prompt_lengths[b] > prompt_len)
        throw Error("attnc_model_generate: prompt_lengths[" +
                    std::to_string(b) + "] is " +
                    std::to_string(prompt_lengths[b]) + ", outside [1, " +
                    std::to_string(prompt_len) + "]");
      const int32_t *row = prompt + b * prompt_len;
      options.prompts.emplace_back(row, row + prompt_lengths[b]);
    }
    writeTokens(model->model->generate(options), batch, max_steps, eos, tokens,
                counts);
  });
}

extern "C" int
attnc_model_greedy_decode(attnc_model *model, const int32_t *src_tokens,
                          const int32_t *src_lengths, int64_t batch,
                          int64_t src_len, int32_t bos, int32_t eos,
                          int64_t max_steps, int32_t *tokens, int64_t *counts) {
  return guarded([&] {
    if (!model || !src_tokens || !src_lengths || !tokens || !counts)
      throw Error("attnc_model_greedy_decode: null argument");
    Tensor src = Tensor::i32(
        {batch, src_len},
        std::vector<int32_t>(src_tokens, src_tokens + batch * src_len));
    Tensor lengths = Tensor::i32(
        {batch}, std::vector<int32_t>(src_lengths, src_lengths + batch));
    DecodeOptions options;
    options.bos = bos;
    options.eos = eos;
    options.maxSteps = max_steps;
    writeTokens(model->model->greedyDecode(src, lengths, options), batch,
                max_steps, eos, tokens, counts);
  });
}
