//===- Runtime.h - Execute attnc-generated models ---------------*- C++ -*-===//
//
// The runtime that applications link. It needs only the kernels attnc
// generated (through their registry) and Halide's runtime: no libHalide,
// LLVM or MLIR. A model is prepared once from a registry and a weights file
// (weights checked and bound, weight-only steps such as packed-projection
// slices evaluated, buffers pooled) and then run many times:
//
//   attnc::Weights weights = attnc::Weights::load("model.safetensors");
//   attnc::Model model = attnc::Model::load(transformer_registry__host,
//   weights); attnc::Tensor memory = model.run("transformer_encode",
//   {...})["memory"]; attnc::DecodeResult out = model.greedyDecode(src,
//   srcLengths, options);
//
// Every problem with an input (missing or misshaped tensors, bad token ids,
// sequences longer than the model's max_len, a corrupt weights file) throws
// attnc::Error naming the tensor and the shapes; nothing aborts.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_RUNTIME_H
#define ATTNC_RUNTIME_H

#include "attnc/registry.h"

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace attnc {

/// Every error the runtime reports.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class DType { F32, I32 };

/// "f32" or "i32".
const char *dtypeName(DType dtype);

/// How a tensor is stored in a weights file. F32 and I32 tensors are read
/// as they are. The reduced types hold f32 weights in fewer bytes and are
/// read as the f32 values they stand for: BF16 and F16 exactly, I8 as
/// q * scale with one F32 scale per row (dimension 0) in a tensor named
/// "<name>.scale" (symmetric: written with scale = max |w| / 127). A model
/// takes a reduced tensor where it stores the weight as f32 or as the same
/// type, and refuses it where a layer stores it as another reduced type
/// (docs/runtime.md, "Weights files").
enum class StoredType { F32, I32, BF16, F16, I8 };

/// The safetensors name: "F32", "I32", "BF16", "F16" or "I8".
const char *storedTypeName(StoredType type);

/// "[2, 7, 64]".
std::string shapeString(const std::vector<int64_t> &shape);

/// A dense, row-major tensor. Copies share their data.
class Tensor {
public:
  Tensor() = default;
  /// A zero-filled tensor.
  Tensor(DType dtype, std::vector<int64_t> shape);
  static Tensor f32(std::vector<int64_t> shape,
                    const std::vector<float> &values);
  static Tensor i32(std::vector<int64_t> shape,
                    const std::vector<int32_t> &values);
  /// A tensor over the caller's dense, row-major `data`, without copying;
  /// the caller keeps `data` alive and unchanged while the tensor is used.
  static Tensor view(DType dtype, std::vector<int64_t> shape, void *data);

  DType dtype() const { return type; }
  const std::vector<int64_t> &shape() const { return dims; }
  int64_t numel() const;
  float *f32Data();
  const float *f32Data() const;
  int32_t *i32Data();
  const int32_t *i32Data() const;
  /// "f32 [2, 7, 64]".
  std::string describe() const;

private:
  DType type = DType::F32;
  std::vector<int64_t> dims;
  std::shared_ptr<void> owner;  ///< Keeps the elements alive; null for views.
  uint32_t *elements = nullptr; ///< 4-byte elements.
  int64_t count = 0;
};

/// A safetensors file (https://github.com/huggingface/safetensors format:
/// 8-byte little-endian header length, JSON header, raw data), read whole
/// and checked: the whole header (every tensor's dtype, shape and byte range,
/// and that the tensors tile the data) before anything is allocated, then
/// every value read as f32 (NaN and Inf are refused). BF16, F16 and I8
/// tensors are held as the f32 values they stand for (see StoredType); an
/// I8 tensor's scales are part of it, not a tensor of their own.
/// docs/runtime.md lists the checks.
class Weights {
public:
  /// Reads and checks `path`; throws Error naming the file and the tensor.
  static Weights load(const std::string &path);

  /// Checks and reads a safetensors file held in memory, exactly as load
  /// does; `name` stands for the file in messages and path().
  static Weights parse(const std::string &name, std::string_view bytes);

  /// Writes f32 and i32 tensors to `path` in the same format, each f32
  /// tensor named in `storedAs` in that type instead: BF16 and F16 rounded
  /// to nearest even (F16 refuses values beyond its range), I8 with a scale
  /// per row written as "<name>.scale" (see StoredType).
  static void save(const std::string &path,
                   const std::vector<std::pair<std::string, Tensor>> &tensors,
                   const std::map<std::string, StoredType> &storedAs = {});

  bool contains(const std::string &name) const;
  /// The tensor; throws Error if absent.
  const Tensor &get(const std::string &name) const;
  /// How the file stores tensor `name`; throws Error if absent.
  StoredType storedType(const std::string &name) const;
  std::vector<std::string> names() const;
  const std::string &path() const { return file; }

private:
  std::string file;
  std::map<std::string, Tensor> tensors;
  std::map<std::string, StoredType> stored;
};

/// The weights a registry's program binds: name and shape of every tensor.
std::vector<std::pair<std::string, std::vector<int64_t>>>
requiredWeights(const attnc_registry &registry);

/// Deterministic weights for a registry, for demos and benchmarks: matrices
/// uniform in +-1/sqrt(fan_in) (as nn.Linear's default), layer-norm gains
/// 1 and biases small, from a fixed pseudo-random sequence.
std::vector<std::pair<std::string, Tensor>>
syntheticWeights(const attnc_registry &registry, uint64_t seed = 1);

/// Copies between host and device memory since the process started, on GPU
/// targets (all zero on CPU targets). A model uploads its weights once at
/// load and keeps every intermediate value and its key/value cache on the
/// device: a run copies its inputs in and the outputs the caller reads out.
/// ATTNC_PROFILE=1 prints these at exit.
struct DeviceTransfers {
  int64_t toDeviceCalls = 0, toDeviceBytes = 0;
  int64_t toHostCalls = 0, toHostBytes = 0;
};
DeviceTransfers deviceTransfers();

/// Options of greedy decoding.
struct DecodeOptions {
  int32_t bos = 1; ///< The first target token of every sequence.
  int32_t eos = 2; ///< Decoding of a sequence stops after it.
  /// Tokens generated at most per sequence (after its prompt, if any).
  int64_t maxSteps = 64;
  /// Per sequence, the target tokens decoding starts from instead of bos
  /// (a decoder-only model's prompt, or a forced prefix of an
  /// encoder-decoder's output); empty: bos alone. Prompts may differ in
  /// length; each is fed through the key/value cache one token per step
  /// before that sequence generates, so the longest prompt plus maxSteps
  /// must fit the model's max_len + 1.
  std::vector<std::vector<int32_t>> prompts;
  /// Further outputs of the decode function to keep for every step, e.g.
  /// "decoder.layers.1.multihead_attn.probs" for cross-attention maps.
  std::vector<std::string> collect;
  /// Skip the sources' padding where the model's masks hide it: encode the
  /// sources in groups of similar length, each padded only to its own
  /// longest (fewer padded positions computed, more kernel calls), and
  /// project the encoder's memory for cross-attention over each source's
  /// own positions (docs/runtime.md); the tokens are the same. false: the
  /// whole padded batch in one call each.
  bool groupSourcesByLength = true;
};

/// The result of greedy decoding.
struct DecodeResult {
  /// Per sequence: the generated tokens, without bos or the prompt, ending
  /// with eos unless maxSteps ran out first.
  std::vector<std::vector<int32_t>> tokens;
  /// Per collected output: one tensor per step, [batch, 1, ...] (prompt
  /// steps included).
  std::map<std::string, std::vector<Tensor>> collected;
};

/// A prepared model: the program of every function in a registry, with its
/// weights bound.
class Model {
public:
  /// Binds `weights` to `registry`'s program. Throws Error for a missing
  /// tensor, a tensor whose shape or dtype differs from the model's, or a
  /// registry whose kernels do not match its manifest. The model keeps its
  /// own copy of what it needs: `weights` may be freed afterwards. With
  /// `model` set, only that model's functions are prepared and runnable
  /// (a registry may hold variants of one model, e.g. one per `weights`
  /// type, that read the same weights file); otherwise every function.
  static Model load(const attnc_registry &registry, const Weights &weights,
                    const std::string &model = "");

  /// The threads the kernels may use (the runtime's thread pool,
  /// process-wide; docs/runtime.md).
  static void setThreads(int threads);

  /// The functions of the model, e.g. "transformer_encode".
  std::vector<std::string> functions() const;
  /// The inputs a function takes, in order.
  std::vector<std::string> inputNames(const std::string &function) const;
  /// The outputs a function returns, in order.
  std::vector<std::string> outputNames(const std::string &function) const;
  /// The longest sequence a function accepts (its model's max_len).
  int64_t maxLength(const std::string &function) const;
  /// Bytes the prepared weights take (linear weights as their kernels
  /// store them: f32, bf16, f16, or int8 and its scales).
  size_t weightBytes() const;

  /// Runs a function on whole sequences. Every input of the function must be
  /// given, with its shape and dtype; outputs are returned by name.
  std::map<std::string, Tensor>
  run(const std::string &function, const std::map<std::string, Tensor> &inputs);

  /// The caller's memory for one output of runInto.
  struct OutputBuffer {
    float *data = nullptr; ///< Receives the output, dense, outermost first.
    int64_t capacity = 0;  ///< Elements `data` holds.
    std::vector<int64_t> shape; ///< Set by runInto: the output's shape.
  };
  /// As run, but writes each output named in `outputs` into the caller's
  /// memory: the kernel that computes it writes it there, unless the
  /// buffer overlaps an input (then it is copied there at the end); no
  /// allocation once the model has run at these shapes. Output buffers
  /// must not overlap each other. Outputs not named are dropped. Throws
  /// Error for an unknown output, one that is not f32, or a buffer smaller
  /// than it.
  void runInto(const std::string &function,
               const std::map<std::string, Tensor> &inputs,
               std::map<std::string, OutputBuffer> &outputs);

  /// Greedy decoding of an encoder-decoder model (its functions of kind
  /// "encode" and "decode" in the manifest, docs/manifest.md; the model's
  /// name may be omitted if there is one):
  /// encodes `srcTokens` [batch, src_len] with `srcLengths` [batch] once,
  /// computes the cross-attention keys and values of the memory once, then
  /// decodes one token per step against a key/value cache.
  DecodeResult greedyDecode(const Tensor &srcTokens, const Tensor &srcLengths,
                            const DecodeOptions &options,
                            const std::string &model = "");

  /// Greedy decoding of a decoder-only model (a "decode" function that
  /// reads no memory) from options.prompts, one per sequence, with the same
  /// key/value cache: linear, not quadratic, in the generated length.
  DecodeResult generate(const DecodeOptions &options,
                        const std::string &model = "");

  ~Model();
  Model(Model &&) noexcept;
  Model &operator=(Model &&) noexcept;

private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace attnc

#endif // ATTNC_RUNTIME_H
