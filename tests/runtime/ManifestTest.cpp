//===- ManifestTest.cpp - The runtime reads versions and roles ------------===//
//
// The runtime must refuse a manifest of another format or version with an
// error that names the registry and both versions, and must take what a
// function and an argument mean from the kinds and roles in the manifest,
// not from their names: with every function, input and output of the tiny
// model renamed, greedy decoding gives the same tokens and the lengths
// checks still find their sequences. The manifests are edited copies of the
// tiny registry's own.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/Manifest.h"
#include "attnc/Runtime.h"

#include "gtest/gtest.h"
#include <nlohmann/json.hpp>

extern "C" const attnc_registry tiny_registry__host;

using namespace attnc;
using nlohmann::json;

namespace {

const std::string kWeights = ATTNC_GOLDEN_DIR "/tiny.safetensors";

/// The tiny registry with its manifest replaced by `edit(manifest)`; the
/// text lives in `storage`.
template <class F> attnc_registry edited(std::string &storage, F &&edit) {
  json manifest = json::parse(tiny_registry__host.manifest_json);
  edit(manifest);
  storage = manifest.dump();
  attnc_registry registry = tiny_registry__host;
  registry.manifest_json = storage.c_str();
  return registry;
}

std::string loadError(const attnc_registry &registry) {
  try {
    Model::load(registry, Weights::load(kWeights));
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

TEST(Manifest, ThisVersionIsWritten) {
  json manifest = json::parse(tiny_registry__host.manifest_json);
  EXPECT_EQ(manifest.at("format"), kManifestFormat);
  EXPECT_EQ(manifest.at("version"), kManifestVersion);
}

TEST(Manifest, AnotherVersionIsRefused) {
  std::string text;
  std::string error = loadError(
      edited(text, [](json &m) { m["version"] = kManifestVersion - 1; }));
  EXPECT_EQ(error, "the manifest (manifest.json) of registry 'tiny' has "
                   "version " +
                       std::to_string(kManifestVersion - 1) +
                       ", but this runtime reads version " +
                       std::to_string(kManifestVersion) +
                       "; compile the .attn file again with the attnc of "
                       "this runtime");
  error = loadError(edited(text, [](json &m) { m.erase("version"); }));
  EXPECT_NE(error.find("registry 'tiny' has no version"), std::string::npos)
      << error;
  error = loadError(edited(text, [](json &m) { m["format"] = "other"; }));
  EXPECT_NE(error.find("is not an attnc manifest"), std::string::npos) << error;
}

/// Every function, input and output name prefixed with "renamed_".
void renameEverything(json &manifest) {
  for (json &function : manifest.at("functions")) {
    function["name"] = "renamed_" + function["name"].get<std::string>();
    for (const char *ports : {"inputs", "outputs"})
      for (json &port : function.at(ports))
        port["name"] = "renamed_" + port["name"].get<std::string>();
  }
}

TEST(Manifest, RolesNotNamesDecide) {
  std::string text;
  Model renamed =
      Model::load(edited(text, renameEverything), Weights::load(kWeights));
  Model original = Model::load(tiny_registry__host, Weights::load(kWeights));
  Tensor src = Tensor::i32({2, 3}, {4, 5, 6, 7, 8, 0});
  Tensor lengths = Tensor::i32({2}, {3, 2});
  DecodeOptions options;
  options.maxSteps = 6;
  DecodeResult a = original.greedyDecode(src, lengths, options);
  DecodeResult b = renamed.greedyDecode(src, lengths, options);
  EXPECT_EQ(a.tokens, b.tokens);
  ASSERT_FALSE(a.tokens[0].empty());

  // The lengths check finds the sequence by role.
  std::string error;
  try {
    renamed.run("renamed_tiny_encode",
                {{"renamed_src_tokens", src},
                 {"renamed_src_lengths", Tensor::i32({2}, {3, 4})}});
  } catch (const Error &e) {
    error = e.what();
  }
  EXPECT_EQ(error, "input 'renamed_src_lengths' gives sequence 1 length 4, "
                   "outside [0, 3] for i32 [2, 3]");
}

TEST(Manifest, WithoutKindsThereIsNoDecoder) {
  std::string text;
  Model model = Model::load(edited(text,
                                   [](json &m) {
                                     for (json &f : m.at("functions"))
                                       f.erase("kind");
                                   }),
                            Weights::load(kWeights));
  std::string error;
  try {
    model.greedyDecode(Tensor::i32({1, 1}, {4}), Tensor::i32({1}, {1}),
                       DecodeOptions());
  } catch (const Error &e) {
    error = e.what();
  }
  EXPECT_EQ(error, "registry 'tiny' has no decoder");
}

} // namespace
