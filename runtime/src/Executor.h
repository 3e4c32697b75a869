//===- Executor.h - One step of a program -----------------------*- C++ -*-===//
//
// Private to the runtime: executes one step of a function on run-time
// values. Views (slice) cost nothing; concat copies; kernel steps compute
// their result shapes from the kernel spec, take dense result buffers from
// the pool, pick the shape class, and call the generated function through
// its registry entry.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_RUNTIME_EXECUTOR_H
#define ATTNC_RUNTIME_EXECUTOR_H

#include "Program.h"
#include "Storage.h"

namespace attnc::runtime {

/// Run-time scalars of kernel calls.
struct CallContext {
  int32_t qOffset = 0;        ///< Attention: position of query row 0.
  int32_t positionOffset = 0; ///< Embedding: position of token 0.
};

/// A linear weight as its kernel reads it (kernels::LinearSpec): packed in
/// 16-column panels of the spec's weight type ([panels, in, 16]) and, for
/// int8, the per-feature scales ([out] f32).
struct PackedLinear {
  Storage weight;
  Storage scale; ///< Int8 only.
};

/// The 4-byte elements a PackedLinear of `spec` takes in a block, each part
/// rounded up to `alignment` elements.
size_t packedLinearSize(const kernels::LinearSpec &spec, size_t alignment);
/// Packs `weight` ([out, in] f32, any strides) for `spec` into `block` from
/// element `offset`, where packedLinearSize(spec, alignment) elements are
/// free; `scratch` holds a dense copy of a strided weight.
PackedLinear packLinearWeightAt(const kernels::LinearSpec &spec,
                                const Storage &weight,
                                std::shared_ptr<Block> block, size_t offset,
                                size_t alignment, BufferPool &scratch);

/// The caller's memory a step may write one of its results to directly.
struct ResultMemory {
  float *data = nullptr;
  int64_t capacity = 0; ///< In elements.
};

/// Executes `step` on `operands`; returns its results. A linear step's
/// weight may come packed (then followed by its scale, for int8) or as
/// [out, in], then packed on every call (the model packs the weights it
/// knows at load). Result r goes to `into[r]` where that is given, the
/// result is f32 and fits, and the target is the host; otherwise to a
/// pooled block.
std::vector<Storage> executeStep(const Program &program, const Step &step,
                                 const std::vector<Storage> &operands,
                                 const CallContext &context, BufferPool &pool,
                                 const std::vector<ResultMemory> &into = {});

} // namespace attnc::runtime

#endif // ATTNC_RUNTIME_EXECUTOR_H
