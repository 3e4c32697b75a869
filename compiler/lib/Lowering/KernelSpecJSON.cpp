//===- KernelSpecJSON.cpp - Kernel specs to and from JSON -----------------===//
//
// The manifest stores each kernel's spec as a JSON object, so that the
// runtime and the tests can rebuild the spec (for input checks and for the
// reference implementation) without the compiler. Both directions visit the
// field table of KernelSpecFields.h: a field at its default is not written
// and, when absent, reads as its default; an unknown key, enum name or
// predicate op is an error that names the field and the value, never a quiet
// default, so a spec from a newer compiler cannot run as another kernel.
// Predicates are nested arrays: ["or", ["le", "k", "q"], ["lt", "k", 16]].
//
//===----------------------------------------------------------------------===//

#include "KernelSpecFields.h"
#include "attnc/Lowering/KernelSpec.h"

#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>

using namespace attnc::kernels;
using nlohmann::json;

namespace {

json predicateToJSON(const Predicate &p) {
  if (p.op == Predicate::Op::Var)
    return fields::nameOf(p.value, fields::kPredicateVars);
  if (p.op == Predicate::Op::Const)
    return p.value;
  if (p.op == Predicate::Op::Float)
    return json::array({"float", p.number});
  json node = json::array({fields::nameOf(p.op, fields::kPredicateOps)});
  for (const auto &operand : p.operands)
    node.push_back(predicateToJSON(*operand));
  return node;
}

/// The index of `name` in `names`, or an error naming `what` and the value.
template <size_t N>
size_t indexOf(const std::string &name, const char *const (&names)[N],
               const std::string &what) {
  for (size_t i = 0; i < N; ++i)
    if (name == names[i])
      return i;
  throw std::invalid_argument("unknown " + what + " '" + name +
                              "' in kernel spec");
}

std::shared_ptr<const Predicate> predicateFromJSON(const json &node) {
  auto p = std::make_shared<Predicate>();
  if (node.is_string()) {
    p->op = Predicate::Op::Var;
    p->value = int64_t(indexOf(node.get<std::string>(), fields::kPredicateVars,
                               "predicate variable"));
    return p;
  }
  if (node.is_number_integer()) {
    p->value = node.get<int64_t>();
    return p;
  }
  if (node.is_boolean()) {
    p->value = node.get<bool>();
    return p;
  }
  if (!node.is_array() || node.empty() || !node[0].is_string())
    throw std::invalid_argument("malformed predicate in kernel spec: " +
                                node.dump());
  std::string op = node[0];
  size_t index = indexOf(op, fields::kPredicateOps, "predicate op");
  if (index < 2) // "var" and "const" are leaves, not ops.
    throw std::invalid_argument("unknown predicate op '" + op +
                                "' in kernel spec");
  p->op = Predicate::Op(index);
  if (p->op == Predicate::Op::Float) {
    if (node.size() != 2 || !node[1].is_number())
      throw std::invalid_argument("malformed float in kernel spec: " +
                                  node.dump());
    p->number = node[1].get<double>();
    return p;
  }
  int arity = fields::predicateArity(p->op);
  if (arity >= 0 ? node.size() != size_t(arity) + 1 : node.size() < 2)
    throw std::invalid_argument(
        "predicate op '" + op + "' needs " +
        (arity >= 0 ? std::to_string(arity) : std::string("1 or more")) +
        " operands in kernel spec: " + node.dump());
  for (size_t i = 1; i < node.size(); ++i)
    p->operands.push_back(predicateFromJSON(node[i]));
  return p;
}

/// Writes every required field and every field that differs from its
/// default.
struct Writer {
  json &j;

  template <class T> void required(const char *key, T value) { j[key] = value; }
  template <class T> void optional(const char *key, T value, T byDefault) {
    if (value != byDefault)
      j[key] = value;
  }
  template <class E, size_t N>
  void named(const char *key, E value, E byDefault,
             const char *const (&names)[N]) {
    if (value != byDefault)
      j[key] = fields::nameOf(value, names);
  }
  void predicate(const char *key,
                 const std::shared_ptr<const Predicate> &value) {
    if (value)
      j[key] = predicateToJSON(*value);
  }
  void tensors(const char *key, const std::vector<ScoreTensor> &values) {
    if (values.empty())
      return;
    json list = json::array();
    for (const ScoreTensor &t : values)
      list.push_back({{"name", t.name}, {"shape", t.shape}});
    j[key] = list;
  }
};

/// Reads the fields back: required ones must be present, absent optional
/// ones keep their default; records every key it read so that the caller
/// can reject the rest.
struct Reader {
  const json &j;
  std::set<std::string> read;

  /// The value of `key` as T, with the field named in any type error.
  template <class T> T get(const char *key) {
    read.insert(key);
    try {
      return j.at(key).get<T>();
    } catch (const json::exception &e) {
      throw std::invalid_argument(std::string("kernel spec field '") + key +
                                  "': " + e.what());
    }
  }
  void required(const char *key, int64_t &field) { field = get<int64_t>(key); }
  void required(const char *key, double &field) { field = get<double>(key); }
  template <class T> void optional(const char *key, T &field, const T &) {
    if (j.contains(key))
      field = get<T>(key);
  }
  template <class E, size_t N>
  void named(const char *key, E &field, E, const char *const (&names)[N]) {
    if (j.contains(key))
      field = E(indexOf(get<std::string>(key), names, key));
  }
  void predicate(const char *key, std::shared_ptr<const Predicate> &field) {
    read.insert(key);
    if (j.contains(key) && !j.at(key).is_null())
      field = predicateFromJSON(j.at(key));
  }
  void tensors(const char *key, std::vector<ScoreTensor> &field) {
    if (!j.contains(key))
      return;
    read.insert(key);
    try {
      for (const json &t : j.at(key))
        field.push_back({t.at("name").get<std::string>(),
                         t.at("shape").get<std::vector<int64_t>>()});
    } catch (const json::exception &e) {
      throw std::invalid_argument(std::string("kernel spec field '") + key +
                                  "': " + e.what());
    }
  }
};

} // namespace

std::string KernelSpec::toJSON() const {
  json j = {{"family", familyName()}};
  Writer writer{j};
  KernelSpec copy = *this;
  fields::visit(writer, copy);
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
  if (!j.is_object())
    throw std::invalid_argument("kernel spec is not a JSON object: " + text);
  Reader reader{j, {"family"}};
  std::string family = reader.get<std::string>("family");
  KernelSpec spec;
  if (family == "linear")
    spec.family = LinearSpec{};
  else if (family == "layernorm")
    spec.family = LayerNormSpec{};
  else if (family == "softmax")
    spec.family = SoftmaxSpec{};
  else if (family == "embedding")
    spec.family = EmbeddingSpec{};
  else if (family == "add")
    spec.family = AddSpec{};
  else if (family == "attention")
    spec.family = AttentionSpec{};
  else
    throw std::invalid_argument("unknown family '" + family +
                                "' in kernel spec");
  fields::visit(reader, spec);
  for (const auto &item : j.items())
    if (!reader.read.count(item.key()))
      throw std::invalid_argument("unknown field '" + item.key() + "' in " +
                                  family + " kernel spec");
  return spec;
}
