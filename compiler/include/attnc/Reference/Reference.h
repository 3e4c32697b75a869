//===- Reference.h - Plain-loop references for every kernel family -*- C++
//-*-===//
//
// The definition of what each kernel computes, written as the most direct
// loops, with double accumulation, from the op semantics in docs/dsl.md and
// the attn dialect, and not from the Halide algorithms. The kernel tests
// and the tuner (which checks every candidate) compare against it.
// Tensors are dense row-major (PyTorch layout), outermost dimension first.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_REFERENCE_REFERENCE_H
#define ATTNC_REFERENCE_REFERENCE_H

#include "attnc/Lowering/KernelSpec.h"

#include <cstdint>
#include <vector>

namespace attnc::reference {

using Tensor = std::vector<float>;

/// y[m, n] = act(sum_k x[m, k] * w[n, k] + b[n]).
Tensor linear(const kernels::LinearSpec &spec, const Tensor &x, int64_t rows,
              const Tensor &w, const Tensor &b);

/// y = layer_norm(x + residual) * gamma + beta, per row.
Tensor layerNorm(const kernels::LayerNormSpec &spec, const Tensor &x,
                 const Tensor *residual, int64_t rows, const Tensor &gamma,
                 const Tensor &beta);

/// Softmax of each row.
Tensor softmax(const kernels::SoftmaxSpec &spec, const Tensor &x, int64_t rows);

/// y[b, t, :] = table[tokens[b, t]] * scale + pe(t + offset), pe a sinusoid
/// or, with spec.positionRows, positionTable[t + offset] ([rows, width]).
Tensor embedding(const kernels::EmbeddingSpec &spec,
                 const std::vector<int32_t> &tokens, int64_t batch,
                 int64_t length, const Tensor &table, int32_t offset,
                 const Tensor *positionTable = nullptr);

/// Inputs of attention beyond q, k, v.
struct AttentionExtras {
  std::vector<int32_t> kvLengths; ///< Per batch, if key padding.
  /// [batch, kv_len], if segments; query row i is in the segment of
  /// position min(i + qOffset, kv_len - 1).
  std::vector<int32_t> segmentIds;
  Tensor bias; ///< [batch or 1, heads or 1, q_len, kv_len], if bias.
  /// The bias's batch and head extents; 0 means batch and heads. An extent
  /// of 1 broadcasts, as docs/dsl.md allows.
  int64_t biasBatch = 0, biasHeads = 0;
  Tensor scoreWeight; ///< [heads, head_dim], if additive.
  /// The score function's tensors, row-major, in spec.scoreTensors order.
  std::vector<Tensor> scoreTensors;
};

/// The outputs of attention.
struct AttentionResult {
  Tensor output; ///< [batch, q_len, heads * value_dim]
  Tensor probs;  ///< [batch, heads, q_len, kv_len] or [batch, q_len, kv_len]
  double maxAbsLogit = 0; ///< Largest |score| after modifiers (natural log).
};

/// Multi-head attention as defined by the attn.attention op, computed the
/// plain way: all scores, softmax, weighted sum. Query row i is at position
/// i + qOffset for masks and ALiBi.
AttentionResult attention(const kernels::AttentionSpec &spec, const Tensor &q,
                          const Tensor &k, const Tensor &v, int64_t batch,
                          int64_t qLen, int64_t kvLen,
                          const AttentionExtras &extras, int64_t qOffset = 0);

/// ALiBi slope of head `h` of `heads` (the paper's recipe, also for head
/// counts that are not powers of two).
double alibiSlope(int64_t h, int64_t heads);

/// T5's relative position bucket of rel = k - q (HuggingFace's
/// T5Attention._relative_position_bucket, in f32 as it computes).
int64_t t5Bucket(int64_t rel, int64_t numBuckets, int64_t maxDistance,
                 bool bidirectional);

/// Evaluates a score expression at (b, h, q, k) with score `s`, in double;
/// integer / and % truncate. Reads `tensors` (clamping indices into range),
/// and `bias` where the expression reads the bias tensor; ALiBi's slopes
/// are computed here from their definition.
double evaluateScore(const kernels::Predicate &fn,
                     const std::vector<kernels::ScoreTensor> &shapes,
                     const std::vector<Tensor> &tensors, int64_t b, int64_t h,
                     int64_t q, int64_t k, double s, double bias = 0);

/// Evaluates a mask predicate at (b, h, q, k), C semantics for / and %.
int64_t evaluate(const kernels::Predicate &predicate, int64_t b, int64_t h,
                 int64_t q, int64_t k);

} // namespace attnc::reference

#endif // ATTNC_REFERENCE_REFERENCE_H
