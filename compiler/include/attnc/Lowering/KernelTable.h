//===- KernelTable.h - The kernels of a module ------------------*- C++ -*-===//
//
// The unique kernel specs of an optimized module (ops with equal specs
// share one), for the emitter and the tuner.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LOWERING_KERNELTABLE_H
#define ATTNC_LOWERING_KERNELTABLE_H

#include "attnc/Lowering/KernelSpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <vector>

namespace attnc {

/// Every kernel `module` needs, sorted by name; reports ops that cannot be
/// lowered and fails.
mlir::FailureOr<std::vector<kernels::KernelSpec>>
collectKernelSpecs(mlir::ModuleOp module);

} // namespace attnc

#endif // ATTNC_LOWERING_KERNELTABLE_H
