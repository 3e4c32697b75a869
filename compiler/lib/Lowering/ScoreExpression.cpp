//===- ScoreExpression.cpp - Expression trees as text, and their walks ----===//
//
// The names of the expression-tree ops (shared by canonical() and JSON), the
// parser of canonical()'s text (how the attn.attention op carries its score:
// the `score_fn` attribute), and the two walks the front end and the
// kernels share: whether a tree uses an op, and a score modifier applied to
// the score the ones before it made (substituteScore).
//
//===----------------------------------------------------------------------===//

#include "KernelSpecFields.h"
#include "attnc/Lowering/KernelSpec.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

using namespace attnc::kernels;

namespace {

const auto &kOpNames = fields::kPredicateOps;
constexpr int kNumOps = int(std::size(fields::kPredicateOps));
const auto &kVars = fields::kPredicateVars;

using Node = std::shared_ptr<const Predicate>;

Node node(Predicate::Op op, std::vector<Node> operands, int64_t value = 0,
          double number = 0) {
  auto p = std::make_shared<Predicate>();
  p->op = op;
  p->operands = std::move(operands);
  p->value = value;
  p->number = number;
  return p;
}

class TextParser {
public:
  explicit TextParser(const std::string &text) : text(text) {}

  Node parseAll() {
    Node result = parseNode(0);
    skipSpace();
    if (pos != text.size())
      fail("trailing text");
    return result;
  }

private:
  [[noreturn]] void fail(const std::string &what) {
    throw std::invalid_argument("malformed expression '" + text + "': " + what +
                                " at offset " + std::to_string(pos));
  }
  void skipSpace() {
    while (pos < text.size() && std::isspace((unsigned char)text[pos]))
      ++pos;
  }
  std::string word() {
    skipSpace();
    size_t start = pos;
    while (pos < text.size() && text[pos] != '(' && text[pos] != ')' &&
           !std::isspace((unsigned char)text[pos]))
      ++pos;
    if (start == pos)
      fail("expected a word");
    return text.substr(start, pos - start);
  }
  Node parseNode(int depth) {
    if (depth > 1000)
      fail("too deep");
    skipSpace();
    if (pos < text.size() && text[pos] == '(') {
      ++pos;
      std::string name = word();
      int op = 2;
      while (op < kNumOps && name != kOpNames[op])
        ++op;
      if (op == kNumOps)
        fail("unknown op '" + name + "'");
      if (Predicate::Op(op) == Predicate::Op::Float) {
        std::string number = word();
        char *end = nullptr;
        double value = std::strtod(number.c_str(), &end);
        if (*end)
          fail("bad float '" + number + "'");
        expect(')');
        return node(Predicate::Op::Float, {}, 0, value);
      }
      std::vector<Node> operands;
      for (skipSpace(); pos < text.size() && text[pos] != ')'; skipSpace())
        operands.push_back(parseNode(depth + 1));
      expect(')');
      return node(Predicate::Op(op), std::move(operands));
    }
    std::string leaf = word();
    for (int i = 0; i < 5; ++i)
      if (leaf == kVars[i])
        return node(Predicate::Op::Var, {}, i);
    char *end = nullptr;
    long long value = std::strtoll(leaf.c_str(), &end, 10);
    if (*end)
      fail("bad leaf '" + leaf + "'");
    return node(Predicate::Op::Const, {}, value);
  }
  void expect(char c) {
    skipSpace();
    if (pos >= text.size() || text[pos] != c)
      fail(std::string("expected '") + c + "'");
    ++pos;
  }

  const std::string &text;
  size_t pos = 0;
};

} // namespace

const char *attnc::kernels::predicateOpName(Predicate::Op op) {
  int i = int(op);
  return i >= 0 && i < kNumOps ? kOpNames[i] : "?";
}

std::vector<int64_t> attnc::kernels::t5BucketThresholds(int64_t numBuckets,
                                                        int64_t maxDistance,
                                                        bool bidirectional) {
  const int64_t n = bidirectional ? numBuckets / 2 : numBuckets;
  const int64_t maxExact = n / 2;
  // HuggingFace's large-distance bucket, in f32 as PyTorch computes it
  // (the divisor is a Python float, applied in f32).
  auto large = [&](int64_t rel) {
    float ratio = std::log(float(rel) / float(maxExact));
    float range = float(std::log(double(maxDistance) / double(maxExact)));
    return std::min<int64_t>(
        maxExact + int64_t(ratio / range * float(n - maxExact)), n - 1);
  };
  std::vector<int64_t> thresholds;
  for (int64_t bucket = maxExact + 1; bucket < n; ++bucket) {
    // The smallest rel whose bucket is at least `bucket`; large() is
    // monotone and reaches n - 1 by max_distance.
    int64_t lo = maxExact, hi = std::max(maxDistance, maxExact + 1);
    while (large(hi) < bucket && hi < (int64_t(1) << 31))
      hi *= 2;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (large(mid) >= bucket)
        hi = mid;
      else
        lo = mid + 1;
    }
    thresholds.push_back(lo);
  }
  return thresholds;
}

std::shared_ptr<const Predicate> Predicate::parse(const std::string &text) {
  return TextParser(text).parseAll();
}

bool Predicate::uses(Op wanted) const {
  if (op == wanted)
    return true;
  for (const auto &operand : operands)
    if (operand->uses(wanted))
      return true;
  return false;
}

std::shared_ptr<const Predicate>
attnc::kernels::substituteScore(const Predicate &fn,
                                std::shared_ptr<const Predicate> s) {
  if (fn.op == Predicate::Op::Var && fn.value == 4)
    return s;
  auto copy = std::make_shared<Predicate>(fn);
  for (auto &operand : copy->operands)
    operand = substituteScore(*operand, s);
  return copy;
}
