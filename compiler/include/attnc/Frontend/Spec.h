//===- Spec.h - Checked meaning of a .attn file -----------------*- C++ -*-===//
//
// Sema turns the untyped AST into these specs: every constant folded, every
// field checked and defaulted, every reference resolved. MLIRGen reads only
// specs, never raw AST, except the body of a mask predicate, which it lowers
// to `arith` ops in the attention op's mask region.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_SPEC_H
#define ATTNC_FRONTEND_SPEC_H

#include "attnc/Frontend/AST.h"
#include "attnc/Lowering/KernelSpec.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attnc {

/// The largest sizes Sema accepts (docs/dsl.md, Limits). Kernels index with
/// Halide's 32-bit integers, and a Halide buffer holds less than 2^31 bytes,
/// so every static extent, and every weight tensor in f32, stays below that.
namespace limits {
/// heads and kv_heads.
constexpr int64_t kMaxHeads = 4096;
/// d_model, head_dim, additive dim, and heads * head_dim.
constexpr int64_t kMaxWidth = 65536;
/// The feed-forward width.
constexpr int64_t kMaxFeedForward = 262144;
/// src_vocab and tgt_vocab.
constexpr int64_t kMaxVocab = int64_t(1) << 24;
/// max_len.
constexpr int64_t kMaxLen = int64_t(1) << 20;
/// The arguments of named mask terms, like window(n): below 2^30, as every
/// integer in a predicate.
constexpr int64_t kMaxMaskParameter = (int64_t(1) << 30) - 1;
/// Every integer a predicate computes with at compile time (literals,
/// constants and constant subexpressions) has a magnitude below this, so
/// that adding one to an index below 2^30 cannot overflow 32 bits.
constexpr int64_t kPredicateMagnitude = int64_t(1) << 30;
/// Elements of one weight tensor: fewer than this, so 4-byte elements fit in
/// Halide's 2 GiB buffers.
constexpr int64_t kMaxTensorElements = int64_t(1) << 29;
} // namespace limits

/// The element type of activations, the tensors kernels pass each other:
/// f32, or bf16 on CPU targets (`dtype bf16`), whose kernels still compute
/// in f32. Weights stay f32 (linear weights may be stored in fewer bytes:
/// LayerSpec's WeightType).
enum class ElementType { F32, BF16 };
enum class Scoring { Dot, Additive };
enum class Activation { None, ReLU, GELU };
enum class NormPlacement { Pre, Post };
enum class EmptyRowPolicy { Zero, Uniform };
enum class ProbsOutput { None, PerHead, HeadMean };
enum class AttentionSource { Unspecified, Self, Cross };
enum class Positions { None, Sinusoidal, Learned };
enum class ModelOutput { Logits, Probs };

/// A code-generation target: the name the user wrote and the Halide target
/// string it stands for.
struct TargetSpec {
  std::string name;
  std::string halideTarget;
  llvm::SMLoc loc;
  bool isRawString = false; ///< Written as a quoted Halide target string.
};

/// The intersection of every mask term of an attention block.
struct MaskSpec {
  bool keyPadding = false;
  /// Packed sequences: keep segment_ids[b, q] == segment_ids[b, k].
  bool segments = false;
  llvm::SMLoc segmentsLoc;
  /// Every other term (the prelude's named ones like causal and window(n),
  /// and the user's predicates) as one expression tree over (b, h, q, k),
  /// joined by `&&`; null when there is none.
  std::shared_ptr<const kernels::Predicate> predicate;
  /// The first named term that relates positions of one sequence
  /// ("causal"), which a cross-attention may not have; empty if none.
  std::string sameSequenceTerm;
};

/// An `attention` block: one variant of multi-head attention.
struct AttentionSpec {
  std::string name;
  llvm::SMLoc loc;
  AttentionSource source = AttentionSource::Unspecified;
  int64_t heads = 0;
  int64_t kvHeads = 0;
  int64_t headDim = 0; ///< 0: d_model / heads, resolved where it is used.
  int64_t dModel = 0;  ///< 0: no projections unless a layer provides them.
  /// Widths of the key and value inputs of a stand-alone cross-attention
  /// with projections (nn.MultiheadAttention's kdim, vdim); 0: d_model.
  int64_t keyInputDim = 0, valueInputDim = 0;
  llvm::SMLoc inputDimLoc; ///< Where kdim or vdim was written.
  Scoring scoring = Scoring::Dot;
  std::optional<double> scale; ///< Dot only; default 1/sqrt(head_dim).
  int64_t additiveDim = 0;     ///< Additive only; 0 means head_dim.
  MaskSpec mask;
  /// Every score modifier, in order (the prelude's named ones like
  /// softcap(c) and alibi, then the user's `score(s, b, h, q, k) { body }`),
  /// as one expression tree over the score s; or null.
  std::shared_ptr<const kernels::Predicate> scoreFn;
  /// Whether the user wrote a score function: it reads scoreTensors
  /// (`tensors = [...]`).
  bool hasScoreFunction = false;
  std::vector<kernels::ScoreTensor> scoreTensors;
  EmptyRowPolicy emptyRows = EmptyRowPolicy::Zero;
  ProbsOutput probs = ProbsOutput::None;
  bool projectionBias = true;

  /// The width of the key (value) input: kdim (vdim), else d_model.
  int64_t keyWidth() const { return keyInputDim ? keyInputDim : dModel; }
  int64_t valueWidth() const { return valueInputDim ? valueInputDim : dModel; }
  /// Whether keys and values come as two inputs (kdim != vdim).
  bool separateKeyValue() const { return keyWidth() != valueWidth(); }

  /// Whether the score reads the run-time bias tensor (`bias`).
  bool readsBias() const {
    return scoreFn && scoreFn->uses(kernels::Predicate::Op::BiasAt);
  }
};

/// `ffn(dim, activation, bias = true)`.
struct FeedForwardSpec {
  int64_t dim = 0;
  Activation activation = Activation::ReLU;
  bool bias = true;
};

/// An `encoder_layer` or `decoder_layer` block.
struct LayerSpec {
  std::string name;
  llvm::SMLoc loc;
  bool isDecoder = false;
  const AttentionSpec *selfAttention = nullptr;
  const AttentionSpec *crossAttention = nullptr; ///< Decoder only; optional.
  FeedForwardSpec feedForward;
  NormPlacement norm = NormPlacement::Post;
  double normEps = 1e-5;
  /// How this layer's linear weights are stored; unset: the model's.
  std::optional<kernels::WeightType> weights;
};

/// `layer * count` in a model.
struct StackSpec {
  const LayerSpec *layer = nullptr;
  int64_t count = 0;
  llvm::SMLoc loc;
};

/// A `model` block: embeddings, an encoder and/or a decoder stack, and the
/// projection to the target vocabulary.
struct ModelSpec {
  std::string name;
  llvm::SMLoc loc;
  int64_t dModel = 0;
  int64_t srcVocab = 0;
  int64_t tgtVocab = 0;
  int64_t maxLen = 1024;
  Positions positions = Positions::Sinusoidal;
  double embedScale = 1.0;
  std::optional<StackSpec> encoder;
  std::optional<StackSpec> decoder;
  bool finalNorm = true;
  bool outputBias = true;
  ModelOutput output = ModelOutput::Logits;
  /// How linear weights are stored (`weights = ...`), where a layer does
  /// not say otherwise; also the output projection's.
  kernels::WeightType weights = kernels::WeightType::F32;
};

/// Everything a .attn file asks for, checked.
struct CompileUnit {
  std::string name; ///< The file's stem; prefixes kernel names.
  std::vector<TargetSpec> targets;
  ElementType dtype = ElementType::F32;
  std::map<std::string, int64_t> intConstants; ///< For predicate bodies.
  std::vector<std::unique_ptr<AttentionSpec>> attentions;
  std::vector<std::unique_ptr<LayerSpec>> layers;
  std::vector<std::unique_ptr<ModelSpec>> models;
};

/// Head dimension of `attention` inside a model of width `dModel`.
inline int64_t resolvedHeadDim(const AttentionSpec &attention, int64_t dModel) {
  if (attention.headDim)
    return attention.headDim;
  return dModel / attention.heads;
}

/// The Halide target string of a known target name, or empty if unknown.
llvm::StringRef halideTargetFor(llvm::StringRef name);

/// Names accepted on a `target` line, comma-separated, for messages.
llvm::StringRef knownTargetNames();

} // namespace attnc

#endif // ATTNC_FRONTEND_SPEC_H
