//===- OpToKernel.h - The kernel spec of each attn op -----------*- C++ -*-===//
//
// The bridge from IR to kernels: which ops run a kernel, and the spec of
// that kernel. Ops that are views or weight preparation (param, slice,
// concat) run none.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LOWERING_OPTOKERNEL_H
#define ATTNC_LOWERING_OPTOKERNEL_H

#include "attnc/Lowering/KernelSpec.h"

#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"

#include <optional>

namespace attnc {

/// The kernel `op` runs, or nullopt for ops that run none. Emits an error at
/// the op and returns failure if the op cannot be lowered (for example an
/// unranked or dynamic width).
mlir::FailureOr<std::optional<kernels::KernelSpec>>
kernelSpecOf(mlir::Operation *op);

} // namespace attnc

#endif // ATTNC_LOWERING_OPTOKERNEL_H
