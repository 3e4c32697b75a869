//===- Reference.cpp - Plain-loop references for every kernel family ------===//

#include "attnc/Reference/Reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace attnc;
using namespace attnc::kernels;

namespace attnc::reference {

static double activate(double x, Activation a) {
  switch (a) {
  case Activation::None:
    return x;
  case Activation::ReLU:
    return x > 0 ? x : 0;
  case Activation::GELU:
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  }
  return x;
}

Tensor linear(const LinearSpec &spec, const Tensor &x, int64_t rows,
              const Tensor &w, const Tensor &b) {
  Tensor y(rows * spec.out);
  for (int64_t m = 0; m < rows; ++m)
    for (int64_t n = 0; n < spec.out; ++n) {
      double sum = spec.bias ? b[n] : 0.0;
      for (int64_t k = 0; k < spec.in; ++k)
        sum += double(x[m * spec.in + k]) * w[n * spec.in + k];
      y[m * spec.out + n] = float(activate(sum, spec.activation));
    }
  return y;
}

Tensor layerNorm(const LayerNormSpec &spec, const Tensor &x,
                 const Tensor *residual, int64_t rows, const Tensor &gamma,
                 const Tensor &beta) {
  int64_t w = spec.width;
  Tensor y(rows * w);
  std::vector<double> s(w);
  for (int64_t m = 0; m < rows; ++m) {
    double mean = 0;
    for (int64_t c = 0; c < w; ++c) {
      s[c] = double(x[m * w + c]) + (residual ? (*residual)[m * w + c] : 0.0);
      mean += s[c];
    }
    mean /= double(w);
    double var = 0;
    for (int64_t c = 0; c < w; ++c)
      var += (s[c] - mean) * (s[c] - mean);
    var /= double(w);
    double inv = 1.0 / std::sqrt(var + spec.epsilon);
    for (int64_t c = 0; c < w; ++c)
      y[m * w + c] = float((s[c] - mean) * inv * gamma[c] + beta[c]);
  }
  return y;
}

Tensor softmax(const SoftmaxSpec &spec, const Tensor &x, int64_t rows) {
  int64_t w = spec.width;
  Tensor y(rows * w);
  for (int64_t m = 0; m < rows; ++m) {
    double top = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < w; ++c)
      top = std::max(top, double(x[m * w + c]));
    double sum = 0;
    for (int64_t c = 0; c < w; ++c)
      sum += std::exp(double(x[m * w + c]) - top);
    for (int64_t c = 0; c < w; ++c)
      y[m * w + c] = float(std::exp(double(x[m * w + c]) - top) / sum);
  }
  return y;
}

Tensor embedding(const EmbeddingSpec &spec, const std::vector<int32_t> &tokens,
                 int64_t batch, int64_t length, const Tensor &table,
                 int32_t offset, const Tensor *positionTable) {
  int64_t w = spec.width;
  Tensor y(batch * length * w);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < length; ++t) {
      int32_t token = tokens[b * length + t];
      for (int64_t c = 0; c < w; ++c) {
        double value = double(table[token * w + c]) * spec.scale;
        if (spec.sinusoidal) {
          double position = double(t + offset);
          double frequency =
              std::pow(10000.0, -double(2 * (c / 2)) / double(w));
          value += c % 2 == 0 ? std::sin(position * frequency)
                              : std::cos(position * frequency);
        }
        if (spec.positionRows) { // Clamped into the table, as the kernel.
          int64_t row =
              std::clamp<int64_t>(t + offset, 0, spec.positionRows - 1);
          value += double(positionTable->at(row * w + c));
        }
        y[(b * length + t) * w + c] = float(value);
      }
    }
  return y;
}

double alibiSlope(int64_t h, int64_t heads) {
  // Press et al.: for a power of two n, slopes are 2^(-8 i / n), i = 1..n.
  // Otherwise take the closest smaller power of two n, then every other
  // slope of 2n for the remaining heads.
  auto powerOfTwoSlopes = [](int64_t n) {
    std::vector<double> slopes;
    for (int64_t i = 1; i <= n; ++i)
      slopes.push_back(std::pow(2.0, -8.0 * double(i) / double(n)));
    return slopes;
  };
  int64_t n = 1;
  while (n * 2 <= heads)
    n *= 2;
  std::vector<double> slopes = powerOfTwoSlopes(n);
  if (n < heads) {
    std::vector<double> extra = powerOfTwoSlopes(2 * n);
    for (int64_t i = 0; int64_t(slopes.size()) < heads; i += 2)
      slopes.push_back(extra[i]);
  }
  return slopes[h];
}

int64_t evaluate(const Predicate &p, int64_t b, int64_t h, int64_t q,
                 int64_t k) {
  using Op = Predicate::Op;
  if (p.op == Op::Var) {
    int64_t vars[] = {b, h, q, k};
    return vars[p.value];
  }
  if (p.op == Op::Const)
    return p.value;
  int64_t x = evaluate(*p.operands[0], b, h, q, k);
  int64_t y = evaluate(*p.operands[1], b, h, q, k);
  switch (p.op) {
  case Op::Add:
    return x + y;
  case Op::Sub:
    return x - y;
  case Op::Mul:
    return x * y;
  case Op::Div:
    return y == 0 ? 0 : x / y;
  case Op::Rem:
    return y == 0 ? 0 : x % y;
  case Op::Min:
    return std::min(x, y);
  case Op::Max:
    return std::max(x, y);
  case Op::Eq:
    return x == y;
  case Op::Ne:
    return x != y;
  case Op::Lt:
    return x < y;
  case Op::Le:
    return x <= y;
  case Op::Gt:
    return x > y;
  case Op::Ge:
    return x >= y;
  case Op::And:
    return x && y;
  case Op::Or:
    return x || y;
  case Op::Xor:
    return (x != 0) != (y != 0);
  default:
    return 0;
  }
}

int64_t t5Bucket(int64_t rel, int64_t numBuckets, int64_t maxDistance,
                 bool bidirectional) {
  int64_t bucket = 0, n = numBuckets;
  if (bidirectional) {
    n /= 2;
    if (rel > 0)
      bucket += n;
    rel = std::llabs(rel);
  } else {
    rel = -std::min<int64_t>(rel, 0);
  }
  int64_t maxExact = n / 2;
  if (rel < maxExact)
    return bucket + rel;
  float ratio = std::log(float(rel) / float(maxExact));
  float range = float(std::log(double(maxDistance) / double(maxExact)));
  int64_t large = maxExact + int64_t(ratio / range * float(n - maxExact));
  return bucket + std::min(large, n - 1);
}

namespace {
/// A value of a score expression: integers stay exact.
struct Scalar {
  double v;
  bool isFloat;
};

Scalar score(const Predicate &p, const std::vector<ScoreTensor> &shapes,
             const std::vector<Tensor> &tensors, const int64_t vars[4],
             double s, double bias) {
  using Op = Predicate::Op;
  auto sub = [&](size_t i) {
    return score(*p.operands[i], shapes, tensors, vars, s, bias);
  };
  auto integer = [](double v) { return Scalar{v, false}; };
  switch (p.op) {
  case Op::Var:
    return p.value == 4 ? Scalar{s, true} : integer(double(vars[p.value]));
  case Op::Const:
    return integer(double(p.value));
  case Op::Float:
    return {p.number, true};
  case Op::Abs: {
    Scalar x = sub(0);
    return {std::fabs(x.v), x.isFloat};
  }
  case Op::Tanh:
    return {std::tanh(sub(0).v), true};
  case Op::Exp:
    return {std::exp(sub(0).v), true};
  case Op::Log:
    return {std::log(sub(0).v), true};
  case Op::Sqrt:
    return {std::sqrt(sub(0).v), true};
  case Op::Select: {
    Scalar x = sub(1), y = sub(2);
    Scalar r = sub(0).v != 0 ? x : y;
    return {r.v, x.isFloat || y.isFloat};
  }
  case Op::T5Bucket:
    return integer(
        double(t5Bucket(int64_t(sub(0).v), p.operands[1]->value,
                        p.operands[2]->value, p.operands[3]->value != 0)));
  case Op::Tensor: {
    size_t slot = size_t(p.operands[0]->value);
    const std::vector<int64_t> &shape = shapes.at(slot).shape;
    int64_t offset = 0;
    for (size_t i = 0; i < shape.size(); ++i) {
      int64_t index =
          std::clamp<int64_t>(int64_t(sub(i + 1).v), 0, shape[i] - 1);
      offset = offset * shape[i] + index;
    }
    return {double(tensors.at(slot)[offset]), true};
  }
  case Op::AlibiSlope:
    return {alibiSlope(int64_t(sub(0).v), p.operands[1]->value), true};
  case Op::BiasAt:
    return {bias, true};
  default:
    break;
  }
  Scalar x = sub(0), y = sub(1);
  bool isFloat = x.isFloat || y.isFloat;
  switch (p.op) {
  case Op::Add:
    return {x.v + y.v, isFloat};
  case Op::Sub:
    return {x.v - y.v, isFloat};
  case Op::Mul:
    return {x.v * y.v, isFloat};
  case Op::Div:
    if (isFloat)
      return {x.v / y.v, true};
    return integer(y.v == 0 ? 0.0 : double(int64_t(x.v) / int64_t(y.v)));
  case Op::Rem:
    if (isFloat)
      return {std::fmod(x.v, y.v), true};
    return integer(y.v == 0 ? 0.0 : double(int64_t(x.v) % int64_t(y.v)));
  case Op::Min:
    return {std::min(x.v, y.v), isFloat};
  case Op::Max:
    return {std::max(x.v, y.v), isFloat};
  case Op::Eq:
    return integer(x.v == y.v);
  case Op::Ne:
    return integer(x.v != y.v);
  case Op::Lt:
    return integer(x.v < y.v);
  case Op::Le:
    return integer(x.v <= y.v);
  case Op::Gt:
    return integer(x.v > y.v);
  case Op::Ge:
    return integer(x.v >= y.v);
  case Op::And:
    return integer(x.v != 0 && y.v != 0);
  case Op::Or:
    return integer(x.v != 0 || y.v != 0);
  case Op::Xor:
    return integer((x.v != 0) != (y.v != 0));
  default:
    return {0.0, true};
  }
}
} // namespace

double evaluateScore(const Predicate &fn,
                     const std::vector<ScoreTensor> &shapes,
                     const std::vector<Tensor> &tensors, int64_t b, int64_t h,
                     int64_t q, int64_t k, double s, double bias) {
  const int64_t vars[4] = {b, h, q, k};
  return score(fn, shapes, tensors, vars, s, bias).v;
}

AttentionResult attention(const AttentionSpec &s, const Tensor &q,
                          const Tensor &k, const Tensor &v, int64_t batch,
                          int64_t qLen, int64_t kvLen,
                          const AttentionExtras &extras, int64_t qOffset) {
  int64_t H = s.heads, D = s.headDim, Dv = s.valueDim;
  int64_t group = s.heads / s.kvHeads;
  int64_t qWidth = H * D, kWidth = s.kvHeads * D, vWidth = s.kvHeads * Dv;
  AttentionResult result;
  result.output.assign(batch * qLen * H * Dv, 0.0f);
  bool perHead = s.probs == Probs::PerHead, mean = s.probs == Probs::HeadMean;
  if (perHead)
    result.probs.assign(batch * H * qLen * kvLen, 0.0f);
  if (mean)
    result.probs.assign(batch * qLen * kvLen, 0.0f);

  const int64_t biasB = extras.biasBatch ? extras.biasBatch : batch;
  const int64_t biasH = extras.biasHeads ? extras.biasHeads : H;
  std::vector<double> scores(kvLen);
  std::vector<bool> visible(kvLen);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < H; ++h) {
      int64_t kvh = h / group;
      for (int64_t i = 0; i < qLen; ++i) {
        const float *qi = &q[(b * qLen + i) * qWidth + h * D];
        bool any = false;
        for (int64_t j = 0; j < kvLen; ++j) {
          const float *kj = &k[(b * kvLen + j) * kWidth + kvh * D];
          double score = 0;
          if (s.additive) {
            for (int64_t d = 0; d < D; ++d)
              score += double(extras.scoreWeight[h * D + d]) *
                       std::tanh(double(qi[d]) + double(kj[d]));
          } else {
            for (int64_t d = 0; d < D; ++d)
              score += double(qi[d]) * double(kj[d]);
            score *= s.scale;
          }
          int64_t position = i + qOffset;
          if (s.scoreFn) {
            double bias = 0;
            if (!extras.bias.empty())
              bias = extras.bias[((std::min(b, biasB - 1) * biasH +
                                   std::min(h, biasH - 1)) *
                                      qLen +
                                  i) *
                                     kvLen +
                                 j];
            score =
                evaluateScore(*s.scoreFn, s.scoreTensors, extras.scoreTensors,
                              b, h, position, j, score, bias);
          }
          bool keep = true;
          if (s.keyPadding)
            keep = keep && j < extras.kvLengths[b];
          if (s.segments) {
            const int32_t *ids = &extras.segmentIds[b * kvLen];
            keep = keep && ids[std::min(position, kvLen - 1)] == ids[j];
          }
          if (s.predicate)
            keep = keep && evaluate(*s.predicate, b, h, position, j) != 0;
          scores[j] = score;
          result.maxAbsLogit = std::max(result.maxAbsLogit, std::fabs(score));
          visible[j] = keep;
          any = any || keep;
        }
        // Probabilities of this row (all zero for an empty row under zero,
        // uniform over every key under uniform).
        std::vector<double> p(kvLen, 0.0);
        if (any) {
          double top = -std::numeric_limits<double>::infinity();
          for (int64_t j = 0; j < kvLen; ++j)
            if (visible[j])
              top = std::max(top, scores[j]);
          double sum = 0;
          for (int64_t j = 0; j < kvLen; ++j)
            if (visible[j])
              sum += p[j] = std::exp(scores[j] - top);
          for (double &x : p)
            x /= sum;
        } else if (s.emptyRows == EmptyRows::Uniform && kvLen > 0) {
          for (double &x : p)
            x = 1.0 / double(kvLen);
        }
        for (int64_t dv = 0; dv < Dv; ++dv) {
          double acc = 0;
          for (int64_t j = 0; j < kvLen; ++j)
            if (p[j] != 0) // A hidden key's value never counts, NaN or not.
              acc += p[j] * double(v[(b * kvLen + j) * vWidth + kvh * Dv + dv]);
          result.output[(b * qLen + i) * H * Dv + h * Dv + dv] = float(acc);
        }
        for (int64_t j = 0; j < kvLen; ++j) {
          if (perHead)
            result.probs[((b * H + h) * qLen + i) * kvLen + j] = float(p[j]);
          if (mean)
            result.probs[(b * qLen + i) * kvLen + j] += float(p[j] / double(H));
        }
      }
    }
  return result;
}

} // namespace attnc::reference
