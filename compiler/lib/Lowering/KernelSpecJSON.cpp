//===- KernelSpecJSON.cpp - Kernel specs to and from JSON -----------------===//
//
// The manifest stores each kernel's spec as a JSON object, so that the
// runtime and the tests can rebuild the spec (for input checks and for the
// reference implementation) without the compiler. Predicates are nested
// arrays: ["or", ["le", "k", "q"], ["lt", "k", 16]].
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/KernelSpec.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

using namespace attnc::kernels;
using nlohmann::json;

namespace {

const char *const kVars[] = {"b", "h", "q", "k", "s"};

json predicateToJSON(const Predicate &p) {
  if (p.op == Predicate::Op::Var)
    return kVars[p.value];
  if (p.op == Predicate::Op::Const)
    return p.value;
  if (p.op == Predicate::Op::Float)
    return json::array({"float", p.number});
  json node = json::array({predicateOpName(p.op)});
  for (const auto &operand : p.operands)
    node.push_back(predicateToJSON(*operand));
  return node;
}

std::shared_ptr<const Predicate> predicateFromJSON(const json &node) {
  auto p = std::make_shared<Predicate>();
  if (node.is_string()) {
    p->op = Predicate::Op::Var;
    for (int i = 0; i < 5; ++i)
      if (node.get<std::string>() == kVars[i])
        p->value = i;
    return p;
  }
  if (node.is_number_integer()) {
    p->value = node.get<int64_t>();
    return p;
  }
  if (!node.is_array() || node.empty() || !node[0].is_string())
    throw std::invalid_argument("malformed predicate in kernel spec");
  std::string op = node[0];
  if (op == "float" && node.size() == 2 && node[1].is_number()) {
    p->op = Predicate::Op::Float;
    p->number = node[1].get<double>();
    return p;
  }
  bool known = false;
  for (int i = 2; i <= int(Predicate::Op::BiasAt); ++i)
    if (op == predicateOpName(Predicate::Op(i))) {
      p->op = Predicate::Op(i);
      known = true;
    }
  if (!known)
    throw std::invalid_argument("unknown predicate op '" + op + "'");
  for (size_t i = 1; i < node.size(); ++i)
    p->operands.push_back(predicateFromJSON(node[i]));
  return p;
}

const char *activationName(Activation a) {
  return a == Activation::ReLU   ? "relu"
         : a == Activation::GELU ? "gelu"
                                 : "none";
}
Activation activationFrom(const std::string &name) {
  return name == "relu"   ? Activation::ReLU
         : name == "gelu" ? Activation::GELU
                          : Activation::None;
}

const char *modName(ScoreMod m) {
  return m == ScoreMod::Softcap ? "softcap"
         : m == ScoreMod::Alibi ? "alibi"
                                : "bias";
}

} // namespace

std::string KernelSpec::toJSON() const {
  json j = {{"family", familyName()},
            {"dtype", dtype == DType::F16 ? "f16" : "f32"}};
  if (auto *s = std::get_if<LinearSpec>(&family)) {
    j.update({{"in", s->in},
              {"out", s->out},
              {"bias", s->bias},
              {"activation", activationName(s->activation)}});
  } else if (auto *s = std::get_if<LayerNormSpec>(&family)) {
    j.update({{"width", s->width},
              {"residual", s->residual},
              {"epsilon", s->epsilon}});
  } else if (auto *s = std::get_if<SoftmaxSpec>(&family)) {
    j["width"] = s->width;
  } else if (auto *s = std::get_if<EmbeddingSpec>(&family)) {
    j.update({{"vocab", s->vocab},
              {"width", s->width},
              {"scale", s->scale},
              {"sinusoidal", s->sinusoidal}});
  } else if (auto *s = std::get_if<AddSpec>(&family)) {
    j["width"] = s->width;
  } else if (auto *s = std::get_if<AttentionSpec>(&family)) {
    json mods = json::array();
    for (ScoreMod m : s->scoreMods)
      mods.push_back(modName(m));
    j.update({{"heads", s->heads},
              {"kv_heads", s->kvHeads},
              {"head_dim", s->headDim},
              {"value_dim", s->valueDim},
              {"scoring", s->additive ? "additive" : "dot"},
              {"scale", s->scale},
              {"causal", s->causal},
              {"window", s->window},
              {"key_padding", s->keyPadding},
              {"score_mods", mods},
              {"softcap", s->softcap},
              {"predicate",
               s->predicate ? predicateToJSON(*s->predicate) : json(nullptr)},
              {"empty_rows",
               s->emptyRows == EmptyRows::Uniform ? "uniform" : "zero"},
              {"probs", s->probs == Probs::PerHead    ? "per_head"
                        : s->probs == Probs::HeadMean ? "head_mean"
                                                      : "none"}});
    if (s->scoreFn) { // Absent by default.
      j["score_fn"] = predicateToJSON(*s->scoreFn);
      json tensors = json::array();
      for (const ScoreTensor &t : s->scoreTensors)
        tensors.push_back({{"name", t.name}, {"shape", t.shape}});
      j["score_tensors"] = tensors;
    }
  }
  return j.dump();
}

KernelSpec KernelSpec::fromJSON(const std::string &text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception &e) {
    throw std::invalid_argument(std::string("kernel spec is not JSON: ") +
                                e.what());
  }
  try {
    KernelSpec spec;
    spec.dtype = j.at("dtype") == "f16" ? DType::F16 : DType::F32;
    std::string family = j.at("family");
    if (family == "linear") {
      spec.family = LinearSpec{j.at("in"), j.at("out"), j.at("bias"),
                               activationFrom(j.at("activation"))};
    } else if (family == "layernorm") {
      spec.family =
          LayerNormSpec{j.at("width"), j.at("residual"), j.at("epsilon")};
    } else if (family == "softmax") {
      spec.family = SoftmaxSpec{j.at("width")};
    } else if (family == "embedding") {
      spec.family = EmbeddingSpec{j.at("vocab"), j.at("width"), j.at("scale"),
                                  j.at("sinusoidal")};
    } else if (family == "add") {
      spec.family = AddSpec{j.at("width")};
    } else if (family == "attention") {
      AttentionSpec a;
      a.heads = j.at("heads");
      a.kvHeads = j.at("kv_heads");
      a.headDim = j.at("head_dim");
      a.valueDim = j.at("value_dim");
      a.additive = j.at("scoring") == "additive";
      a.scale = j.at("scale");
      a.causal = j.at("causal");
      a.window = j.at("window");
      a.keyPadding = j.at("key_padding");
      for (const json &m : j.at("score_mods")) {
        std::string name = m;
        a.scoreMods.push_back(name == "softcap" ? ScoreMod::Softcap
                              : name == "alibi" ? ScoreMod::Alibi
                                                : ScoreMod::Bias);
      }
      a.softcap = j.at("softcap");
      if (!j.at("predicate").is_null())
        a.predicate = predicateFromJSON(j.at("predicate"));
      a.emptyRows = j.at("empty_rows") == "uniform" ? EmptyRows::Uniform
                                                    : EmptyRows::Zero;
      std::string probs = j.at("probs");
      a.probs = probs == "per_head"    ? Probs::PerHead
                : probs == "head_mean" ? Probs::HeadMean
                                       : Probs::None;
      if (j.contains("score_fn")) {
        a.scoreFn = predicateFromJSON(j.at("score_fn"));
        for (const json &t : j.at("score_tensors"))
          a.scoreTensors.push_back(
              {t.at("name"), t.at("shape").get<std::vector<int64_t>>()});
      }
      spec.family = a;
    } else {
      throw std::invalid_argument("unknown kernel family '" + family + "'");
    }
    return spec;
  } catch (const json::exception &e) {
    throw std::invalid_argument(std::string("malformed kernel spec: ") +
                                e.what());
  }
}
