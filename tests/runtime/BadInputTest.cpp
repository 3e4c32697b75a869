//===- BadInputTest.cpp - Every bad input is a clear error ----------------===//
//
// Missing or misshaped tensors, corrupt and truncated weights files, a
// model/weights mismatch, sequences longer than max_len, token ids outside
// the vocabulary, and wrongly shaped inputs each throw attnc::Error whose
// text names the tensor and the shapes; none crashes.
//
//===----------------------------------------------------------------------===//

#include "attnc/Runtime.h"
#include "attnc/attnc.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <fstream>
#include <iterator>

extern "C" const attnc_registry tiny_registry__host;

using namespace attnc;

namespace {

const std::string kWeights = ATTNC_GOLDEN_DIR "/tiny.safetensors";

/// The message of the Error `body` throws ("" if it throws none).
template <class F> std::string errorOf(F &&body) {
  try {
    body();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "/attnc_" + name;
}

/// The golden weights with `edit` applied, saved to a temporary file.
template <class F>
std::string editedWeights(const std::string &name, F &&edit) {
  Weights weights = Weights::load(kWeights);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const std::string &n : weights.names())
    tensors.emplace_back(n, weights.get(n));
  edit(tensors);
  std::string path = tempPath(name);
  Weights::save(path, tensors);
  return path;
}

std::string fileBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

Model &tiny() {
  static Model m = Model::load(tiny_registry__host, Weights::load(kWeights));
  return m;
}

TEST(BadInput, MissingWeightsFile) {
  EXPECT_EQ(errorOf([] { Weights::load("/nonexistent/w.safetensors"); }),
            "weights file '/nonexistent/w.safetensors': cannot be opened");
}

TEST(BadInput, MissingTensor) {
  std::string path = editedWeights("missing.safetensors", [](auto &tensors) {
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                                 [](auto &t) {
                                   return t.first ==
                                          "decoder.layers.1.linear2.bias";
                                 }),
                  tensors.end());
  });
  EXPECT_EQ(
      errorOf([&] { Model::load(tiny_registry__host, Weights::load(path)); }),
      "weights file '" + path +
          "' has no tensor 'decoder.layers.1.linear2.bias', which model "
          "'tiny' needs as f32 [64]");
}

TEST(BadInput, MisshapedTensor) {
  std::string path = editedWeights("misshaped.safetensors", [](auto &tensors) {
    for (auto &t : tensors)
      if (t.first == "encoder.layers.0.linear1.weight")
        t.second = Tensor(DType::F32, {128, 63});
  });
  EXPECT_EQ(
      errorOf([&] { Model::load(tiny_registry__host, Weights::load(path)); }),
      "tensor 'encoder.layers.0.linear1.weight' in weights file '" + path +
          "' is f32 [128, 63], but model 'tiny' needs f32 [128, 64]");
}

TEST(BadInput, WeightsOfAnotherModel) {
  // A d_model 32 model's embedding table: the first tensor checked differs.
  std::string path = editedWeights("other.safetensors", [](auto &tensors) {
    for (auto &t : tensors)
      if (t.first == "src_embed.weight")
        t.second = Tensor(DType::F32, {20, 32});
  });
  EXPECT_NE(
      errorOf([&] { Model::load(tiny_registry__host, Weights::load(path)); })
          .find("tensor 'src_embed.weight' in weights file '" + path +
                "' is f32 [20, 32], but model 'tiny' needs f32 [20, 64]"),
      std::string::npos);
}

TEST(BadInput, TruncatedWeightsFile) {
  std::string bytes = fileBytes(kWeights);
  std::string path = tempPath("truncated.safetensors");
  writeBytes(path, bytes.substr(0, bytes.size() - 1000));
  EXPECT_NE(
      errorOf([&] { Weights::load(path); }).find("of the data, which has only"),
      std::string::npos);
  writeBytes(path, bytes.substr(0, 5));
  EXPECT_EQ(
      errorOf([&] { Weights::load(path); }),
      "weights file '" + path +
          "': is truncated: 5 bytes, fewer than the 8-byte header length");
  writeBytes(path, bytes.substr(0, 100));
  EXPECT_NE(errorOf([&] {
              Weights::load(path);
            }).find("is truncated or corrupt: its header claims"),
            std::string::npos);
}

TEST(BadInput, CorruptWeightsFile) {
  std::string bytes = fileBytes(kWeights);
  std::string path = tempPath("corrupt.safetensors");
  bytes[bytes.find(':')] = '#'; // The header's first key/value separator.
  writeBytes(path, bytes);
  EXPECT_NE(
      errorOf([&] { Weights::load(path); }).find("has a corrupt JSON header"),
      std::string::npos);
}

TEST(BadInput, UnsupportedDtype) {
  std::string header =
      R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})";
  std::string bytes(8, '\0');
  bytes[0] = char(header.size());
  std::string path = tempPath("bf16.safetensors");
  writeBytes(path, bytes + header + "\0\0\0\0");
  EXPECT_EQ(errorOf([&] { Weights::load(path); }),
            "weights file '" + path +
                "': tensor 'w' has dtype BF16; attnc reads F32 and I32");
}

TEST(BadInput, SequenceLongerThanMaxLen) {
  Tensor tokens(DType::I32, {1, 65});
  EXPECT_EQ(errorOf([&] {
              tiny().run("tiny_encode",
                         {{"src_tokens", tokens},
                          {"src_lengths", Tensor::i32({1}, {65})}});
            }),
            "input 'src_tokens' of tiny_encode holds 65 positions, more than "
            "the model's max_len of 64");
}

TEST(BadInput, TokenOutsideTheVocabulary) {
  EXPECT_EQ(errorOf([&] {
              tiny().run("tiny_encode",
                         {{"src_tokens", Tensor::i32({1, 3}, {4, 20, 5})},
                          {"src_lengths", Tensor::i32({1}, {3})}});
            }),
            "input 'src_tokens' holds token id 20 at [0, 1], outside the "
            "vocabulary [0, 20)");
}

TEST(BadInput, MisshapedInput) {
  EXPECT_EQ(errorOf([&] {
              tiny().run("tiny_decode",
                         {{"tgt_tokens", Tensor::i32({1, 2}, {1, 4})},
                          {"tgt_lengths", Tensor::i32({1}, {2})},
                          {"memory", Tensor(DType::F32, {1, 3, 32})},
                          {"src_lengths", Tensor::i32({1}, {3})}});
            }),
            "input 'memory' of tiny_decode is f32 [1, 3, 32], expected f32 "
            "[?, ?, 64] (? is any size)");
  EXPECT_EQ(errorOf([&] {
              tiny().run(
                  "tiny_encode",
                  {{"src_tokens", Tensor::i32({2, 3}, {4, 4, 4, 4, 4, 4})},
                   {"src_lengths", Tensor::i32({3}, {3, 3, 3})}});
            }),
            "input 'src_lengths' of tiny_encode is i32 [3], but 'src_tokens' "
            "has batch 2");
  EXPECT_EQ(errorOf([&] {
              tiny().run("tiny_encode",
                         {{"src_tokens", Tensor::i32({1, 2}, {4, 4})},
                          {"src_lengths", Tensor::i32({1}, {3})}});
            }),
            "input 'src_lengths' gives sequence 0 length 3, outside [0, 2] for "
            "i32 [1, 2]");
}

TEST(BadInput, MissingOrUnknownInput) {
  EXPECT_EQ(
      errorOf([&] {
        tiny().run("tiny_encode", {{"src_tokens", Tensor::i32({1, 1}, {4})}});
      }),
      "function tiny_encode needs input 'src_lengths' (i32 [?])");
  EXPECT_EQ(errorOf([&] {
              tiny().run("tiny_encode",
                         {{"src_tokens", Tensor::i32({1, 1}, {4})},
                          {"src_lengths", Tensor::i32({1}, {1})},
                          {"source", Tensor::i32({1}, {1})}});
            }),
            "function tiny_encode has no input 'source'; its inputs are "
            "src_tokens, src_lengths");
  EXPECT_EQ(errorOf([&] { tiny().run("tiny_forward", {}); }),
            "model 'tiny' has no function 'tiny_forward'; it has tiny_decode, "
            "tiny_encode");
}

TEST(BadInput, DecodeOptions) {
  DecodeOptions options;
  options.maxSteps = 65;
  EXPECT_EQ(errorOf([&] {
              tiny().greedyDecode(Tensor::i32({1, 1}, {4}),
                                  Tensor::i32({1}, {1}), options);
            }),
            "maxSteps 65 exceeds the model's max_len of 64");
  options.maxSteps = 4;
  options.collect = {"attention"};
  EXPECT_EQ(errorOf([&] {
              tiny().greedyDecode(Tensor::i32({1, 1}, {4}),
                                  Tensor::i32({1}, {1}), options);
            }),
            "function tiny_decode has no output 'attention' to collect");
}

TEST(BadInput, CApiReportsInsteadOfThrowing) {
  attnc_model *model = nullptr;
  EXPECT_NE(attnc_model_load(&tiny_registry__host, "/nonexistent", &model), 0);
  EXPECT_STREQ(attnc_last_error(),
               "weights file '/nonexistent': cannot be opened");
  ASSERT_EQ(attnc_model_load(&tiny_registry__host, kWeights.c_str(), &model), 0)
      << attnc_last_error();
  int32_t src[] = {4, 99}, lengths[] = {2}, tokens[4];
  int64_t counts[1];
  EXPECT_NE(attnc_model_greedy_decode(model, src, lengths, 1, 2, 1, 2, 4,
                                      tokens, counts),
            0);
  EXPECT_STREQ(attnc_last_error(), "input 'src_tokens' holds token id 99 at "
                                   "[0, 1], outside the vocabulary [0, 20)");
  src[1] = 5;
  EXPECT_EQ(attnc_model_greedy_decode(model, src, lengths, 1, 2, 1, 2, 4,
                                      tokens, counts),
            0)
      << attnc_last_error();
  EXPECT_GE(counts[0], 1);
  attnc_model_free(model);
}

} // namespace
