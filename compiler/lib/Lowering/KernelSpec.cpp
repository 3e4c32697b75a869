//===- KernelSpec.cpp - Canonical forms and names of kernel specs ---------===//
//
// canonical() lists the family, then every required field and every field
// that differs from its default (KernelSpecFields.h), in a fixed order with
// full precision: two specs produce the same string exactly when they would
// generate the same code, and a field added with a default changes no
// existing string. name() adds a readable summary in front of its FNV-1a
// hash.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/KernelSpec.h"
#include "KernelSpecFields.h"

#include <cstdio>

using namespace attnc::kernels;

namespace {

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

const char *dtypeName(DType dtype) {
  return fields::nameOf(dtype, fields::kDTypes);
}

const char *activationName(Activation activation) {
  return fields::nameOf(activation, fields::kActivations);
}

uint32_t fnv1a(const std::string &text) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

template <class... Fs> struct Overloaded : Fs... { using Fs::operator()...; };
template <class... Fs> Overloaded(Fs...) -> Overloaded<Fs...>;

} // namespace

std::string Predicate::canonical() const {
  if (op == Op::Var)
    return fields::nameOf(value, fields::kPredicateVars);
  if (op == Op::Const)
    return std::to_string(value);
  if (op == Op::Float)
    return "(float " + ::number(number) + ")";
  std::string text =
      std::string("(") + fields::nameOf(op, fields::kPredicateOps);
  for (const auto &operand : operands)
    text += " " + operand->canonical();
  return text + ")";
}

const char *attnc::kernels::weightTypeName(WeightType type) {
  return fields::nameOf(type, fields::kWeightTypes);
}

std::string KernelSpec::familyName() const {
  return std::visit(Overloaded{
                        [](const LinearSpec &) { return "linear"; },
                        [](const LayerNormSpec &) { return "layernorm"; },
                        [](const SoftmaxSpec &) { return "softmax"; },
                        [](const EmbeddingSpec &) { return "embedding"; },
                        [](const AddSpec &) { return "add"; },
                        [](const AttentionSpec &) { return "attention"; },
                    },
                    family);
}

namespace {

/// Appends " key=value" for every field of fields.h that is required or
/// differs from its default.
struct CanonicalPrinter {
  std::string &text;

  void put(const char *key, const std::string &value) {
    text += std::string(" ") + key + "=" + value;
  }
  void required(const char *key, int64_t value) {
    put(key, std::to_string(value));
  }
  void required(const char *key, double value) { put(key, number(value)); }
  void optional(const char *key, bool value, bool byDefault) {
    if (value != byDefault)
      put(key, value ? "1" : "0");
  }
  void optional(const char *key, int64_t value, int64_t byDefault) {
    if (value != byDefault)
      required(key, value);
  }
  void optional(const char *key, double value, double byDefault) {
    if (value != byDefault)
      required(key, value);
  }
  template <class E, size_t N>
  void named(const char *key, E value, E byDefault,
             const char *const (&names)[N]) {
    if (value != byDefault)
      put(key, fields::nameOf(value, names));
  }
  void predicate(const char *key,
                 const std::shared_ptr<const Predicate> &value) {
    if (value)
      put(key, value->canonical());
  }
  void tensors(const char *key, const std::vector<ScoreTensor> &values) {
    std::string list;
    for (const ScoreTensor &t : values) {
      list += (list.empty() ? "" : ",") + t.name;
      for (int64_t extent : t.shape)
        list += ":" + std::to_string(extent);
    }
    if (!values.empty())
      put(key, list);
  }
};

} // namespace

std::string KernelSpec::canonical() const {
  std::string text = familyName();
  CanonicalPrinter printer{text};
  KernelSpec copy = *this;
  fields::visit(printer, copy);
  return text;
}

std::string KernelSpec::name() const {
  std::string readable = familyName();
  std::visit(
      Overloaded{
          [&](const LinearSpec &s) {
            readable +=
                "_" + std::to_string(s.in) + "x" + std::to_string(s.out);
            if (s.bias)
              readable += "_bias";
            if (s.activation != Activation::None)
              readable += std::string("_") + activationName(s.activation);
            if (s.weights != WeightType::F32)
              readable += std::string("_w") + weightTypeName(s.weights);
          },
          [&](const LayerNormSpec &s) {
            readable += "_" + std::to_string(s.width);
            if (s.residual)
              readable += "_residual";
          },
          [&](const SoftmaxSpec &s) {
            readable += "_" + std::to_string(s.width);
          },
          [&](const EmbeddingSpec &s) {
            readable +=
                "_" + std::to_string(s.vocab) + "x" + std::to_string(s.width);
            if (s.sinusoidal)
              readable += "_sinusoidal";
            if (s.positionRows)
              readable += "_learned" + std::to_string(s.positionRows);
          },
          [&](const AddSpec &s) { readable += "_" + std::to_string(s.width); },
          [&](const AttentionSpec &s) {
            readable += "_h" + std::to_string(s.heads) + "kv" +
                        std::to_string(s.kvHeads) + "d" +
                        std::to_string(s.headDim);
            if (s.valueDim != s.headDim)
              readable += "v" + std::to_string(s.valueDim);
            if (s.additive)
              readable += "_additive";
            if (s.keyPadding)
              readable += "_padded";
            if (s.segments)
              readable += "_segments";
            if (s.predicate)
              readable += "_mask";
            if (s.scoreFn)
              readable += "_scorefn";
            if (s.probs == Probs::PerHead)
              readable += "_probs";
            if (s.probs == Probs::HeadMean)
              readable += "_meanprobs";
            if (s.emptyRows == EmptyRows::Uniform)
              readable += "_uniform";
          },
      },
      family);
  char hash[16];
  std::snprintf(hash, sizeof(hash), "%08x", fnv1a(canonical()));
  return readable + "_" + dtypeName(dtype) + "_" + hash;
}

std::vector<ArgumentSig> KernelSpec::signature() const {
  using Kind = ArgumentSig::Kind;
  std::string t = dtypeName(dtype); // Activations.
  const std::string f32 = "f32";    // Weights, whatever the activations.
  auto fixed = [](int64_t extent) { return Dim{extent, ""}; };
  auto symbolic = [](const char *symbol) { return Dim{-1, symbol}; };
  std::vector<ArgumentSig> args;
  auto add = [&](const char *name, Kind kind, std::string type,
                 std::vector<Dim> dims) {
    args.push_back({name, kind, std::move(type), std::move(dims)});
  };
  std::visit(
      Overloaded{
          [&](const LinearSpec &s) {
            add("input", Kind::Input, t, {symbolic("rows"), fixed(s.in)});
            add("weight", Kind::Input, weightTypeName(s.weights),
                {fixed(s.panels()), fixed(s.in), fixed(kLinearPanelWidth)});
            if (s.weights == WeightType::I8)
              add("weight_scale", Kind::Input, "f32", {fixed(s.out)});
            if (s.bias)
              add("bias", Kind::Input, f32, {fixed(s.out)});
            add("output", Kind::Output, t, {symbolic("rows"), fixed(s.out)});
          },
          [&](const LayerNormSpec &s) {
            add("input", Kind::Input, t, {symbolic("rows"), fixed(s.width)});
            if (s.residual)
              add("residual", Kind::Input, t,
                  {symbolic("rows"), fixed(s.width)});
            add("gamma", Kind::Input, f32, {fixed(s.width)});
            add("beta", Kind::Input, f32, {fixed(s.width)});
            add("output", Kind::Output, t, {symbolic("rows"), fixed(s.width)});
          },
          [&](const SoftmaxSpec &s) {
            add("input", Kind::Input, t, {symbolic("rows"), fixed(s.width)});
            add("output", Kind::Output, t, {symbolic("rows"), fixed(s.width)});
          },
          [&](const EmbeddingSpec &s) {
            add("tokens", Kind::Input, "i32",
                {symbolic("batch"), symbolic("length")});
            add("table", Kind::Input, f32, {fixed(s.vocab), fixed(s.width)});
            if (s.positionRows)
              add("position_table", Kind::Input, f32,
                  {fixed(s.positionRows), fixed(s.width)});
            add("position_offset", Kind::Scalar, "i32", {});
            add("output", Kind::Output, t,
                {symbolic("batch"), symbolic("length"), fixed(s.width)});
          },
          [&](const AddSpec &s) {
            add("lhs", Kind::Input, t, {symbolic("rows"), fixed(s.width)});
            add("rhs", Kind::Input, t, {symbolic("rows"), fixed(s.width)});
            add("output", Kind::Output, t, {symbolic("rows"), fixed(s.width)});
          },
          [&](const AttentionSpec &s) {
            add("query", Kind::Input, t,
                {symbolic("batch"), symbolic("q_len"),
                 fixed(s.heads * s.headDim)});
            add("key", Kind::Input, t,
                {symbolic("batch"), symbolic("kv_len"),
                 fixed(s.kvHeads * s.headDim)});
            add("value", Kind::Input, t,
                {symbolic("batch"), symbolic("kv_len"),
                 fixed(s.kvHeads * s.valueDim)});
            if (s.keyPadding)
              add("kv_lengths", Kind::Input, "i32", {symbolic("batch")});
            if (s.segments)
              add("segment_ids", Kind::Input, "i32",
                  {symbolic("batch"), symbolic("kv_len")});
            if (s.readsBias())
              add("bias", Kind::Input, t,
                  {symbolic("batch"), fixed(s.heads), symbolic("q_len"),
                   symbolic("kv_len")});
            if (s.additive)
              add("score_weight", Kind::Input, f32,
                  {fixed(s.heads), fixed(s.headDim)});
            for (const ScoreTensor &tensor : s.scoreTensors) {
              std::vector<Dim> dims;
              for (int64_t extent : tensor.shape)
                dims.push_back(fixed(extent));
              args.push_back({tensor.name, Kind::Input, f32, std::move(dims)});
            }
            add("q_offset", Kind::Scalar, "i32", {});
            add("output", Kind::Output, t,
                {symbolic("batch"), symbolic("q_len"),
                 fixed(s.heads * s.valueDim)});
            if (s.probs == Probs::PerHead)
              add("probs", Kind::Output, t,
                  {symbolic("batch"), fixed(s.heads), symbolic("q_len"),
                   symbolic("kv_len")});
            if (s.probs == Probs::HeadMean)
              add("probs", Kind::Output, t,
                  {symbolic("batch"), symbolic("q_len"), symbolic("kv_len")});
          },
      },
      family);
  return args;
}
