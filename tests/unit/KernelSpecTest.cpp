//===- KernelSpecTest.cpp - Canonical text, names and JSON of kernel specs ===//
//
// Kernel names and tuning-database keys come from KernelSpec::canonical(),
// and the runtime rebuilds specs from the manifest's JSON. These tests pin
// a few canonical strings and names (the hashes were computed separately
// with scripts/rekey_tuning_db.py's FNV-1a), show that a field at its
// default is absent from the canonical text and the JSON (so adding a field
// with a default keeps every existing name and key), round-trip every family
// through JSON, check that the committed tuning database is keyed by the
// current canonical form, and that every unknown name in a spec is an error
// naming the field and the value.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/KernelSpec.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

using namespace attnc::kernels;
using nlohmann::json;

namespace {

/// The attention of bench/AttentionBench: 8 heads of 64, scale 1/8.
AttentionSpec benchAttention(bool causal) {
  AttentionSpec s;
  s.heads = s.kvHeads = 8;
  s.headDim = s.valueDim = 64;
  s.scale = 0.125;
  if (causal) // The prelude's causal (docs/dsl.md).
    s.predicate = Predicate::parse("(le k q)");
  return s;
}

std::shared_ptr<const Predicate> leaf(Predicate::Op op, int64_t value) {
  auto p = std::make_shared<Predicate>();
  p->op = op;
  p->value = value;
  return p;
}

std::shared_ptr<const Predicate> node(Predicate::Op op,
                                      std::shared_ptr<const Predicate> a,
                                      std::shared_ptr<const Predicate> b) {
  auto p = std::make_shared<Predicate>();
  p->op = op;
  p->operands = {std::move(a), std::move(b)};
  return p;
}

/// An attention spec with every field away from its default.
AttentionSpec everyAttentionField() {
  AttentionSpec s;
  s.heads = 4;
  s.kvHeads = 2;
  s.headDim = 32;
  s.valueDim = 16;
  s.scale = 0.25;
  s.keyPadding = true;
  using Op = Predicate::Op;
  s.predicate = node(Op::Or, node(Op::Le, leaf(Op::Var, 3), leaf(Op::Var, 2)),
                     node(Op::Lt, leaf(Op::Var, 3), leaf(Op::Const, 16)));
  s.emptyRows = EmptyRows::Uniform;
  s.scoreFn = Predicate::parse(
      "(add (mul (float 50) (tanh (div s (float 50)))) (bias_at))");
  s.probs = Probs::HeadMean;
  return s;
}

/// One spec per family, with and without non-default fields.
std::vector<KernelSpec> everyFamily() {
  std::vector<KernelSpec> specs = {
      {LinearSpec{256, 512, true, Activation::None}},
      {LinearSpec{7, 9, false, Activation::GELU}, DType::BF16},
      {LinearSpec{7, 9, true, Activation::ReLU}},
      {LinearSpec{7, 9, true, Activation::None, WeightType::BF16}},
      {LinearSpec{7, 9, false, Activation::ReLU, WeightType::I8}},
      {LayerNormSpec{42, false, 1e-5}},
      {LayerNormSpec{42, true, 1e-6}},
      {SoftmaxSpec{100}},
      {EmbeddingSpec{1000, 64, 1.0, true}},
      {EmbeddingSpec{1000, 64, 8.0, false}},
      {EmbeddingSpec{1000, 64, 1.0, false, 512}},
      {AddSpec{12}},
      {benchAttention(false)},
      {everyAttentionField()},
  };
  AttentionSpec additive = benchAttention(false);
  additive.additive = true;
  specs.push_back({additive});
  return specs;
}

TEST(KernelSpec, PinnedCanonicalTextAndNames) {
  KernelSpec causal{benchAttention(true)};
  // Causal is its predicate since the front end's prelude (issue 18); the
  // tuning database was rekeyed once by scripts/rekey_tuning_db.py.
  EXPECT_EQ(causal.canonical(), "attention heads=8 kv_heads=8 head_dim=64 "
                                "value_dim=64 scale=0.125 predicate=(le k q)");
  EXPECT_EQ(causal.name(), "attention_h8kv8d64_mask_f32_b85ce033");
  KernelSpec full{benchAttention(false)};
  EXPECT_EQ(full.name(), "attention_h8kv8d64_f32_d6454665");

  AttentionSpec gqa = benchAttention(true);
  gqa.kvHeads = 2;
  gqa.keyPadding = true;
  EXPECT_EQ(KernelSpec{gqa}.name(),
            "attention_h8kv2d64_padded_mask_f32_95fa8a30");

  KernelSpec linear{LinearSpec{256, 512, true, Activation::None}};
  EXPECT_EQ(linear.canonical(), "linear in=256 out=512");
  EXPECT_EQ(linear.name(), "linear_256x512_bias_f32_d49c2e0e");
  KernelSpec layerNorm{LayerNormSpec{42, false, 1e-5}};
  EXPECT_EQ(layerNorm.name(), "layernorm_42_f32_064596ed");

  EXPECT_EQ(KernelSpec{everyAttentionField()}.canonical(),
            "attention heads=4 kv_heads=2 head_dim=32 value_dim=16 scale=0.25 "
            "key_padding=1 predicate=(or (le k q) (lt k 16)) "
            "empty_rows=uniform probs=head_mean score_fn=(add (mul (float 50) "
            "(tanh (div s (float 50)))) (bias_at))");
  KernelSpec bf16{LinearSpec{7, 9, false, Activation::GELU}, DType::BF16};
  EXPECT_EQ(bf16.canonical(), "linear dtype=bf16 in=7 out=9 bias=0 "
                              "activation=gelu");
  KernelSpec int8{LinearSpec{256, 512, true, Activation::None, WeightType::I8}};
  EXPECT_EQ(int8.canonical(), "linear in=256 out=512 weights=i8");
  EXPECT_EQ(int8.name().substr(0, 28), "linear_256x512_bias_wi8_f32_");
  AttentionSpec additive = benchAttention(false);
  additive.additive = true;
  EXPECT_EQ(KernelSpec{additive}.canonical(),
            "attention heads=8 kv_heads=8 head_dim=64 value_dim=64 "
            "scoring=additive");
}

TEST(KernelSpec, DefaultValuedFieldsAreAbsent) {
  // Explicitly set to their defaults: the same text as leaving them alone.
  AttentionSpec explicitDefaults = benchAttention(false);
  explicitDefaults.keyPadding = false;
  explicitDefaults.emptyRows = EmptyRows::Zero;
  explicitDefaults.probs = Probs::None;
  KernelSpec spec{explicitDefaults};
  EXPECT_EQ(spec.canonical(), KernelSpec{benchAttention(false)}.canonical());
  for (const char *field : {"dtype", "scoring", "key_padding", "predicate",
                            "empty_rows", "probs", "score_fn"}) {
    EXPECT_EQ(spec.canonical().find(field), std::string::npos) << field;
    EXPECT_FALSE(json::parse(spec.toJSON()).contains(field)) << field;
  }
  // The same fields away from their defaults are present.
  std::string every = KernelSpec{everyAttentionField()}.canonical();
  for (const char *field :
       {"key_padding=", "predicate=", "empty_rows=", "probs=", "score_fn="})
    EXPECT_NE(every.find(field), std::string::npos) << field;
}

TEST(KernelSpec, EveryFamilyRoundTripsThroughJSON) {
  for (const KernelSpec &spec : everyFamily()) {
    KernelSpec back = KernelSpec::fromJSON(spec.toJSON());
    EXPECT_EQ(back.familyName(), spec.familyName());
    EXPECT_EQ(back.dtype, spec.dtype);
    EXPECT_EQ(back.canonical(), spec.canonical());
    EXPECT_EQ(back.name(), spec.name());
    EXPECT_EQ(back.toJSON(), spec.toJSON());
  }
  // Fields the canonical text shows only through their effect, checked
  // directly.
  AttentionSpec every = everyAttentionField();
  auto back = std::get<AttentionSpec>(
      KernelSpec::fromJSON(KernelSpec{every}.toJSON()).family);
  EXPECT_EQ(back.predicate->canonical(), every.predicate->canonical());
  EXPECT_EQ(back.probs, Probs::HeadMean);
  EXPECT_EQ(back.emptyRows, EmptyRows::Uniform);
  EXPECT_EQ(back.valueDim, 16);
}

TEST(KernelSpec, MissingDefaultedFieldsReadAsDefaults) {
  KernelSpec spec =
      KernelSpec::fromJSON(R"({"family": "linear", "in": 3, "out": 5})");
  auto linear = std::get<LinearSpec>(spec.family);
  EXPECT_TRUE(linear.bias);
  EXPECT_EQ(linear.activation, Activation::None);
  EXPECT_EQ(spec.dtype, DType::F32);
  // A required size may not be left out.
  EXPECT_THROW(KernelSpec::fromJSON(R"({"family": "linear", "in": 3})"),
               std::invalid_argument);
}

/// The message of the std::invalid_argument that parsing `text` throws.
std::string errorOf(const std::string &text) {
  try {
    KernelSpec::fromJSON(text);
  } catch (const std::invalid_argument &e) {
    return e.what();
  }
  return "(no error)";
}

TEST(KernelSpec, UnknownNamesAreErrors) {
  const std::string attention =
      R"({"family": "attention", "heads": 8, "kv_heads": 8, "head_dim": 64,
          "value_dim": 64, "scale": 0.125, )";
  struct Case {
    std::string json, field, value;
  } cases[] = {
      {R"({"family": "conv", "width": 3})", "family", "conv"},
      {R"({"family": "add", "width": 3, "dtype": "f16"})", "dtype", "f16"},
      {R"({"family": "linear", "in": 3, "out": 5, "activation": "swish"})",
       "activation", "swish"},
      {attention + R"("score_mods": ["softcap"]})", "unknown field",
       "score_mods"},
      {attention + R"("empty_rows": "nan"})", "empty_rows", "nan"},
      {attention + R"("probs": "all"})", "probs", "all"},
      {attention + R"("scoring": "cosine"})", "scoring", "cosine"},
      {attention + R"("predicate": ["pow", "q", 2]})", "predicate op", "pow"},
      {attention + R"("predicate": ["lt", "x", 2]})", "predicate variable",
       "x"},
      {attention + R"("predicate": ["var", "q", 2]})", "predicate op", "var"},
      {attention + R"("sparsity": true})", "unknown field", "sparsity"},
      {R"({"family": "add", "width": 3, "rows": 2})", "unknown field", "rows"},
  };
  for (const Case &c : cases) {
    std::string message = errorOf(c.json);
    EXPECT_NE(message.find(c.field), std::string::npos) << c.json << message;
    EXPECT_NE(message.find("'" + c.value + "'"), std::string::npos)
        << c.json << message;
  }
  // Malformed rather than unknown.
  EXPECT_THROW(KernelSpec::fromJSON("[1, 2]"), std::invalid_argument);
  EXPECT_THROW(KernelSpec::fromJSON("{"), std::invalid_argument);
  EXPECT_THROW(KernelSpec::fromJSON(attention + R"("causal": "yes"})"),
               std::invalid_argument);
  EXPECT_THROW(KernelSpec::fromJSON(attention + R"("predicate": ["lt", "q"]})"),
               std::invalid_argument);
}

TEST(KernelSpec, CommittedTuningDatabaseUsesTheCurrentKeys) {
  std::ifstream in(ATTNC_SOURCE_DIR "/bench/tuning/attention.json");
  ASSERT_TRUE(in);
  json db = json::parse(in);
  for (bool causal : {false, true}) {
    KernelSpec spec{benchAttention(causal)};
    size_t found = 0;
    for (const json &entry : db.at("entries"))
      if (entry.at("kernel") == spec.canonical()) {
        EXPECT_EQ(entry.at("name"), spec.name());
        ++found;
      }
    EXPECT_GT(found, 0u) << spec.canonical();
  }
}

} // namespace
