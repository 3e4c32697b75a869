//===- RandomAttentionTest.cpp - Random configurations vs the reference ---===//
//
// make_random_attention.py draws attention configurations (masks with
// predicates that divide negative values, score modifiers in any order,
// head counts that are not powers of two, GQA, empty-row policies,
// probabilities) and writes them twice: as random_attention.attn, which
// attnc compiles at build time, and as random_attention.json. This test
// rebuilds each configuration from the JSON alone (never from the compiled
// manifest's spec) and checks the block's kernel, found through the
// manifest's function of the same name, against the double-precision
// reference on the shapes the JSON lists: lengths 1 to 1000, unequal key
// lengths, decode offsets, inputs scaled up to 30. Masked value rows hold
// NaN, as padded and stale cache rows may, and must not reach any output.
// Tolerance as in AttentionKernelTest.cpp: 1e-4 relative, or 2 * FLT_EPSILON
// * max |logit| for large logits (what any fp32 implementation carries).
// One pinned case is also held to PyTorch's own float32 error on the same
// inputs (golden data from tests/golden/make_attention_accuracy.py).
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"
#include "attnc/Reference/Reference.h"
#include "attnc/Runtime.h"

#include "gtest/gtest.h"
#include <nlohmann/json.hpp>

#include <cfloat>
#include <cmath>
#include <fstream>

extern "C" const attnc_registry random_attention_registry__host;

using namespace attnc;
using namespace attnc::kernels;
using namespace attnc::test;
using nlohmann::json;

namespace {

/// A predicate tree from the generator's JSON: [op, operands...].
std::shared_ptr<const Predicate> predicateFrom(const json &node) {
  using Op = Predicate::Op;
  static const std::map<std::string, Op> ops = {
      {"var", Op::Var}, {"const", Op::Const}, {"add", Op::Add},
      {"sub", Op::Sub}, {"mul", Op::Mul},     {"div", Op::Div},
      {"rem", Op::Rem}, {"min", Op::Min},     {"max", Op::Max},
      {"eq", Op::Eq},   {"ne", Op::Ne},       {"lt", Op::Lt},
      {"le", Op::Le},   {"gt", Op::Gt},       {"ge", Op::Ge},
      {"and", Op::And}, {"or", Op::Or},       {"xor", Op::Xor}};
  auto p = std::make_shared<Predicate>();
  p->op = ops.at(node[0].get<std::string>());
  if (p->op == Op::Var || p->op == Op::Const)
    p->value = node[1].get<int64_t>();
  else
    p->operands = {predicateFrom(node[1]), predicateFrom(node[2])};
  return p;
}

/// The configuration as docs/dsl.md defines it, from the JSON.
AttentionSpec specFrom(const json &block) {
  AttentionSpec s;
  s.heads = block["heads"];
  s.kvHeads = block["kv_heads"];
  s.headDim = s.valueDim = block["head_dim"];
  s.scale = block["scale"].is_null() ? 1.0 / std::sqrt(double(s.headDim))
                                     : block["scale"].get<double>();
  s.keyPadding = block["key_padding"];
  // The named terms as docs/dsl.md defines them, joined in the order the
  // generator writes them (causal & window(n) & predicate).
  auto join = [&](std::shared_ptr<const Predicate> term) {
    if (!s.predicate) {
      s.predicate = std::move(term);
      return;
    }
    auto both = std::make_shared<Predicate>();
    both->op = Predicate::Op::And;
    both->operands = {s.predicate, std::move(term)};
    s.predicate = std::move(both);
  };
  if (block["causal"])
    join(Predicate::parse("(le k q)"));
  if (int64_t w = block["window"])
    join(Predicate::parse("(and (lt (sub q k) " + std::to_string(w) +
                          ") (lt (sub k q) " + std::to_string(w) + "))"));
  if (!block["predicate"].is_null())
    join(predicateFrom(block["predicate"]));
  // The score modifiers as docs/dsl.md defines them, each applied to the
  // score the ones before it made.
  for (const std::string mod : block["score_mods"]) {
    std::string cap = "(float " + block["softcap"].dump() + ")";
    std::string term =
        mod == "softcap" ? "(mul " + cap + " (tanh (div s " + cap + ")))"
        : mod == "alibi" ? "(sub s (mul (alibi_slope h " +
                               std::to_string(s.heads) + ") (abs (sub q k))))"
                         : "(add s (bias_at))";
    auto tree = Predicate::parse(term);
    s.scoreFn = s.scoreFn ? substituteScore(*tree, s.scoreFn) : tree;
  }
  s.emptyRows =
      block["empty_rows"] == "uniform" ? EmptyRows::Uniform : EmptyRows::Zero;
  s.probs = block["probs"] == "per_head"    ? Probs::PerHead
            : block["probs"] == "head_mean" ? Probs::HeadMean
                                            : Probs::None;
  return s;
}

/// The kernel behind function `name` of the registry's manifest.
std::string kernelOfFunction(const attnc_registry &registry,
                             const std::string &name) {
  json manifest = json::parse(registry.manifest_json);
  for (const json &function : manifest["functions"])
    if (function["name"] == name)
      return function["steps"][0]["kernel"];
  return "";
}

/// Whether key `j` of sequence `b` is hidden from every query of the call.
bool hiddenFromAll(const AttentionSpec &s, const reference::AttentionExtras &x,
                   int64_t b, int64_t h, int64_t j, int64_t qLen,
                   int64_t qOffset) {
  for (int64_t i = 0; i < qLen; ++i) {
    int64_t position = i + qOffset;
    bool keep =
        !(s.keyPadding && j >= x.kvLengths[b]) &&
        !(s.predicate && !reference::evaluate(*s.predicate, b, h, position, j));
    if (keep)
      return false;
  }
  return true;
}

void checkShape(const AttentionSpec &s, const attnc_kernel_entry &entry,
                const json &shape) {
  const int64_t B = shape["batch"], Lq = shape["q_len"], Lk = shape["kv_len"];
  const int32_t qOffset = shape["q_offset"];
  const float mag = shape["magnitude"];
  const uint32_t seed = shape["seed"];
  const int64_t qW = s.heads * s.headDim, kW = s.kvHeads * s.headDim,
                vW = s.kvHeads * s.valueDim;
  std::vector<float> q = randomTensor(B * Lq * qW, seed, -mag, mag);
  std::vector<float> k = randomTensor(B * Lk * kW, seed + 1, -mag, mag);
  std::vector<float> v = randomTensor(B * Lk * vW, seed + 2);
  reference::AttentionExtras extras;
  extras.kvLengths = shape["kv_lengths"].get<std::vector<int32_t>>();
  if (s.readsBias()) {
    extras.bias = randomTensor(B * s.heads * Lq * Lk, seed + 3, -2, 2);
    for (float &x : extras.bias) // Very negative logits, still finite.
      x += shape["bias_offset"].get<float>();
  }
  // Values of keys that no query may see are NaN (unless a row with no
  // visible key averages every value: empty_rows = uniform).
  if (s.emptyRows == EmptyRows::Zero)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t kvh = 0; kvh < s.kvHeads; ++kvh)
        for (int64_t j = 0; j < Lk; ++j) {
          int64_t group = s.heads / s.kvHeads;
          bool hidden = true;
          for (int64_t h = kvh * group; hidden && h < (kvh + 1) * group; ++h)
            hidden = hiddenFromAll(s, extras, b, h, j, Lq, qOffset);
          if (hidden)
            std::fill_n(&v[(b * Lk + j) * vW + kvh * s.valueDim], s.valueDim,
                        NAN);
        }
  reference::AttentionResult expected =
      reference::attention(s, q, k, v, B, Lq, Lk, extras, qOffset);

  std::vector<TensorArg> inputs = {{q.data(), nullptr, {B, Lq, qW}},
                                   {k.data(), nullptr, {B, Lk, kW}},
                                   {v.data(), nullptr, {B, Lk, vW}}};
  if (s.keyPadding)
    inputs.push_back({nullptr, extras.kvLengths.data(), {B}});
  if (s.readsBias())
    inputs.push_back({extras.bias.data(), nullptr, {B, s.heads, Lq, Lk}});
  std::vector<float> out(B * Lq * s.heads * s.valueDim, NAN);
  std::vector<TensorArg> outputs = {
      {out.data(), nullptr, {B, Lq, s.heads * s.valueDim}}};
  std::vector<float> probs(expected.probs.size(), NAN);
  if (s.probs == Probs::PerHead)
    outputs.push_back({probs.data(), nullptr, {B, s.heads, Lq, Lk}});
  if (s.probs == Probs::HeadMean)
    outputs.push_back({probs.data(), nullptr, {B, Lq, Lk}});

  ASSERT_EQ(KernelSet::call(entry, inputs, {qOffset}, outputs), 0)
      << lastHalideError();
  double tolerance = std::max(1e-4, 2.0 * FLT_EPSILON * expected.maxAbsLogit);
  EXPECT_LT(relativeError(out, expected.output), tolerance)
      << "max |logit| " << expected.maxAbsLogit;
  if (s.probs == Probs::None)
    return;
  EXPECT_LT(relativeError(probs, expected.probs), tolerance) << "probs";
  // Each row with a visible key sums to 1 to float rounding, whatever the
  // size of the logits.
  for (int64_t row = 0; row * Lk < int64_t(probs.size()); ++row) {
    double sum = 0, expectedSum = 0;
    for (int64_t j = 0; j < Lk; ++j) {
      sum += probs[row * Lk + j];
      expectedSum += expected.probs[row * Lk + j];
    }
    EXPECT_NEAR(sum, expectedSum, 4e-6 * std::sqrt(double(Lk)))
        << "probabilities of row " << row;
  }
}

TEST(RandomAttention, EveryDrawnConfigurationMatchesTheReference) {
  std::ifstream in(ATTNC_RANDOM_ATTENTION_JSON);
  ASSERT_TRUE(in) << ATTNC_RANDOM_ATTENTION_JSON;
  json config = json::parse(in);
  KernelSet set(random_attention_registry__host);
  int checked = 0;
  for (const json &block : config["blocks"]) {
    std::string name = block["name"];
    AttentionSpec spec = specFrom(block);
    std::string kernel =
        kernelOfFunction(random_attention_registry__host, name);
    ASSERT_FALSE(kernel.empty()) << "no function " << name;
    for (const char *shapeClass : {"", "decode", "short"}) {
      const attnc_kernel_entry *entry = set.find(kernel, shapeClass);
      if (!entry)
        continue;
      for (const json &shape : block["shapes"]) {
        SCOPED_TRACE(name + " (" + entry->symbol + ") " + shape.dump());
        checkShape(spec, *entry, shape);
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, int(config["blocks"].size()) * 3);
}

std::vector<float> valuesOf(const Weights &golden, const std::string &name) {
  const Tensor &t = golden.get(name);
  return std::vector<float>(t.f32Data(), t.f32Data() + t.numel());
}

double maxAbsError(const std::vector<float> &a, const std::vector<float> &b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
  return worst;
}

TEST(RandomAttention, LargeScoresAsAccurateAsPyTorchFloat32) {
  // Logits near 1e3: within twice the error of PyTorch's float32 softmax
  // attention, against PyTorch's float64 result.
  Weights golden =
      Weights::load(ATTNC_GOLDEN_DIR "/attention_accuracy.safetensors");
  std::vector<float> q = valuesOf(golden, "query"), k = valuesOf(golden, "key"),
                     v = valuesOf(golden, "value");
  const std::vector<int64_t> shape = golden.get("query").shape();
  const int64_t L = shape[1], D = shape[2];
  std::vector<float> out(L * D, NAN), probs(L * L, NAN);
  KernelSet set(random_attention_registry__host);
  const attnc_kernel_entry *entry = set.find(
      kernelOfFunction(random_attention_registry__host, "e_probs_large"));
  ASSERT_NE(entry, nullptr);
  ASSERT_EQ(KernelSet::call(*entry,
                            {{q.data(), nullptr, {1, L, D}},
                             {k.data(), nullptr, {1, L, D}},
                             {v.data(), nullptr, {1, L, D}}},
                            {0},
                            {{out.data(), nullptr, {1, L, D}},
                             {probs.data(), nullptr, {1, 1, L, L}}}),
            0)
      << lastHalideError();
  double torchOutput = golden.get("torch_f32_output_error").f32Data()[0];
  double torchProbs = golden.get("torch_f32_probs_error").f32Data()[0];
  EXPECT_LE(maxAbsError(out, valuesOf(golden, "output")), 2 * torchOutput);
  EXPECT_LE(maxAbsError(probs, valuesOf(golden, "probs")), 2 * torchProbs);
}

} // namespace
