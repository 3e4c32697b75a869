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

/// The shape of a linear weight of shape `weight` ([out, in]) packed in
/// 16-column panels: [panels, in, 16], the layout linear kernels read (see
/// kernels::LinearSpec).
std::vector<int64_t> packedLinearShape(const std::vector<int64_t> &weight);
/// Packs `weight` into `packed` (dense, of its packedLinearShape); `scratch`
/// holds a dense copy of a strided weight.
void packLinearWeightInto(const Storage &weight, const Storage &packed,
                          BufferPool &scratch);
/// `weight` packed into a new value of `pool`.
Storage packLinearWeight(const Storage &weight, BufferPool &pool);

/// Executes `step` on `operands`; returns its results. A linear step's
/// weight may come packed or as [out, in], then packed on every call (the
/// model packs the weights it knows at load).

std::vector<Storage> executeStep(const Program &program, const Step &step,
                                 const std::vector<Storage> &operands,
                                 const CallContext &context, BufferPool &pool);

} // namespace attnc::runtime

#endif // ATTNC_RUNTIME_EXECUTOR_H
