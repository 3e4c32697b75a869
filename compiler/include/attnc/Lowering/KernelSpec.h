//===- KernelSpec.h - What one generated kernel computes --------*- C++ -*-===//
//
// A kernel spec is the static part of one op: the family and every attribute
// and static size that changes the generated code. Dynamic sizes (batch,
// lengths, rows) are run-time arguments, so one spec serves every shape.
// Specs are plain data, with no MLIR or Halide types: the lowering builds
// them from ops, the tuner and the tests build them directly, and
// `canonical()` (hashed into the kernel name) identifies them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LOWERING_KERNELSPEC_H
#define ATTNC_LOWERING_KERNELSPEC_H

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace attnc {
namespace kernels {

/// The element type of a kernel's activations (its inputs and outputs that
/// are not weights): f32, or bf16 stored and f32 computed. Weights, biases,
/// norms' gamma and beta and score tensors are f32 whatever the dtype.
enum class DType { F32, BF16 };
enum class Activation { None, ReLU, GELU };
/// How a linear layer stores its weight: f32, or in
/// fewer bytes (bf16, f16, or int8 with one f32 scale per output feature,
/// symmetric), converted to f32 in registers; the arithmetic is f32.
enum class WeightType { F32, BF16, F16, I8 };

/// An expression tree over (batch, head, query, key): a mask predicate
/// (integers and conditions), or a score function, which also sees the score
/// `s` and computes on floats. Integer operands of a float operation convert
/// implicitly; Div and Rem on integers truncate, as in C.
struct Predicate {
  enum class Op {
    Var,   ///< index 0..4: batch, head, query, key, and s (score functions)
    Const, ///< integer or boolean constant
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Min,
    Max, ///< integers (Div/Rem truncate)
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge, ///< integers to condition
    And,
    Or,
    Xor, ///< conditions
    // Score functions only (docs/dsl.md, Score functions):
    Float, ///< the float constant `number`
    Abs,
    Tanh,
    Exp,
    Log,
    Sqrt,       ///< one operand; Abs keeps integers integer
    Select,     ///< (condition, then, else)
    Tensor,     ///< operands: the Const slot in scoreTensors, then the indices
    T5Bucket,   ///< (k - q, Const num_buckets, Const max_distance, Const
                ///< bidirectional): T5's relative position bucket, in f32
    AlibiSlope, ///< (h, Const heads): ALiBi's slope of head h
    BiasAt,     ///< no operands: the bias tensor at (b, h, q, k)
  };
  Op op = Op::Const;
  int64_t value = 0; ///< Var: the index; Const: the value.
  double number = 0; ///< Float: the value.
  std::vector<std::shared_ptr<const Predicate>> operands;

  /// A stable textual form, e.g. "(or (le k q) (lt k 16))"; floats print as
  /// "(float 0.5)".
  std::string canonical() const;
  /// Parses canonical()'s output; throws std::invalid_argument.
  static std::shared_ptr<const Predicate> parse(const std::string &text);
  /// Whether `op` occurs anywhere in the tree.
  bool uses(Op op) const;
};

/// `fn` with every use of the score s (Var 4) replaced by `s`: a score
/// modifier applied to what the modifiers before it made.
std::shared_ptr<const Predicate>
substituteScore(const Predicate &fn, std::shared_ptr<const Predicate> s);

/// The name of `op` in canonical() and JSON ("add", "t5_bucket", ...).
const char *predicateOpName(Predicate::Op op);

/// The T5Bucket op as integer thresholds: for k - q (or its magnitude,
/// bidirectional) at or above the exact range [0, n / 2), with n the
/// buckets of one direction, the bucket is n / 2 plus the number of
/// thresholds it reaches. Found by bisection on HuggingFace's f32 formula,
/// so kernels compare integers instead of taking a logarithm per score,
/// and fast-math flags cannot move a bucket edge.
std::vector<int64_t> t5BucketThresholds(int64_t numBuckets, int64_t maxDistance,
                                        bool bidirectional);

/// A run-time tensor a score function reads, with its static shape.
struct ScoreTensor {
  std::string name;
  std::vector<int64_t> shape;
};

/// Output features per panel of a packed linear weight.
constexpr int64_t kLinearPanelWidth = 16;

/// y = act(x W^T + b) with x: [rows, in] and W: [out, in] (PyTorch layout).
/// Kernels take W packed in panels (packLinearWeight): [panels, in, 16],
/// output feature o of input i at [o / 16, i, o % 16], the last panel padded
/// with zeros. Reading one panel is then one contiguous stream that yields
/// 16 outputs at a time, which is what both the GEMM's staged panels and a
/// decoding GEMV want; PyTorch's layout makes the GEMM transpose on every
/// call and the GEMV read many short rows at once. With `weights` other than
/// F32 the panels hold that type (LinearWeights.h), and I8 kernels also take
/// `weight_scale` ([out] f32): y = act(scale * (x Q^T) + b).
struct LinearSpec {
  int64_t in = 0, out = 0;
  bool bias = true;
  Activation activation = Activation::None;
  WeightType weights = WeightType::F32;

  int64_t panels() const {
    return (out + kLinearPanelWidth - 1) / kLinearPanelWidth;
  }
};

/// The name of a weight type in kernel specs and signatures: "f32",
/// "bf16", "f16", "i8".
const char *weightTypeName(WeightType type);

/// y = layer_norm(x + residual) * gamma + beta over the innermost `width`.
struct LayerNormSpec {
  int64_t width = 0;
  bool residual = false;
  double epsilon = 1e-5;
};

/// Numerically stable softmax over the innermost `width`.
struct SoftmaxSpec {
  int64_t width = 0;
};

/// y = table[token] * scale + the position (token index + offset) as a
/// sinusoid, as a row of a learned table (positionRows > 0), or not at all.
struct EmbeddingSpec {
  int64_t vocab = 0, width = 0;
  double scale = 1.0;
  bool sinusoidal = true;
  /// Rows of the learned position table (the model's max_len); 0: none.
  int64_t positionRows = 0;
};

/// Elementwise a + b over [rows, width].
struct AddSpec {
  int64_t width = 0;
};

enum class EmptyRows { Zero, Uniform };
enum class Probs { None, PerHead, HeadMean };

/// Fused multi-head attention over q: [batch, q_len, heads * headDim],
/// k: [batch, kv_len, kvHeads * headDim], v: [batch, kv_len, kvHeads *
/// valueDim]. See the attn.attention op for the semantics.
struct AttentionSpec {
  int64_t heads = 1, kvHeads = 1, headDim = 64, valueDim = 64;
  bool additive = false; ///< Bahdanau scoring with a [heads, headDim] weight.
  double scale = 0.125;  ///< Dot scoring only.
  bool keyPadding = false;
  /// Packed sequences: query position p sees key k only when
  /// segment_ids[b, p] == segment_ids[b, k] (a run-time [batch, kv_len]
  /// tensor); blocks of other segments are skipped.
  bool segments = false;
  /// The mask over (b, h, q, k), every term of the language (causal,
  /// window(n), the user's predicates) joined by `&&`; null: no mask but
  /// key padding and segments.
  std::shared_ptr<const Predicate> predicate;
  EmptyRows emptyRows = EmptyRows::Zero;
  Probs probs = Probs::None;
  /// Every score modifier of the language (softcap, alibi, bias, the
  /// user's score function) as one expression over the score (Var 4) and
  /// the indices; or null. It reads scoreTensors, kernel inputs after the
  /// others (docs/kernels.md), and, where it uses BiasAt, the bias input.
  std::shared_ptr<const Predicate> scoreFn;
  std::vector<ScoreTensor> scoreTensors;

  /// Whether the kernel takes the bias input (the score reads BiasAt).
  bool readsBias() const {
    return scoreFn && scoreFn->uses(Predicate::Op::BiasAt);
  }
};

/// One dimension of a kernel argument: a static extent or a symbol that
/// stays dynamic ("rows", "batch", "q_len", "kv_len", ...).
struct Dim {
  int64_t extent = -1; ///< -1 when dynamic.
  std::string symbol;  ///< Set when dynamic.
};

/// One argument of a generated kernel function, in PyTorch order
/// (outermost dimension first).
struct ArgumentSig {
  std::string name;
  enum class Kind { Input, Scalar, Output } kind = Kind::Input;
  std::string dtype; ///< "f32", "bf16", "i32", or a weight type.
  std::vector<Dim> dims;
};

using FamilySpec = std::variant<LinearSpec, LayerNormSpec, SoftmaxSpec,
                                EmbeddingSpec, AddSpec, AttentionSpec>;

/// One kernel: its family spec and element type.
struct KernelSpec {
  FamilySpec family;
  DType dtype = DType::F32;

  /// "linear", "attention", ... (the schedule and tuning key).
  std::string familyName() const;
  /// The family, then every required field and every field that differs
  /// from its default, in a stable order (KernelSpecFields.h); equal specs
  /// have equal strings, and a new field with a default changes none.
  std::string canonical() const;
  /// `<family>_<readable sizes and flags>_<dtype>_<8 hex digits of
  /// canonical()>`, a C identifier (see docs/kernels.md for the grammar).
  std::string name() const;
  /// The generated function's arguments: inputs in the op's operand order,
  /// then scalars, then outputs.
  std::vector<ArgumentSig> signature() const;

  /// The fields canonical() shows, as a JSON object (what manifest.json
  /// stores per kernel).
  std::string toJSON() const;
  /// Parses toJSON()'s output; an absent field with a default takes it.
  /// Throws std::invalid_argument, naming the field and the value, on bad
  /// input: an unknown key, family, enum name or predicate op, a missing
  /// required field, a wrong type.
  static KernelSpec fromJSON(const std::string &json);
};

} // namespace kernels
} // namespace attnc

#endif // ATTNC_LOWERING_KERNELSPEC_H
