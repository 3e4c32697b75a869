//===- MLIRGen.h - From checked specs to the attn dialect -------*- C++ -*-===//
//
// Emits one module per .attn file: a function per attention block that can
// stand alone (it has d_model or head_dim), and `<model>_encode` /
// `<model>_decode` functions per model, with every layer unrolled and every
// weight an attn.param named after PyTorch's state_dict. Intermediate values
// are unranked; attn-shape-inference ranks them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_MLIRGEN_MLIRGEN_H
#define ATTNC_MLIRGEN_MLIRGEN_H

#include "attnc/Frontend/Spec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace llvm {
class SourceMgr;
}

namespace attnc {

/// Builds the module for `unit`. Locations refer to the buffers of
/// `sourceMgr`. Returns null (after reporting) if the module fails to verify.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context,
                                          const CompileUnit &unit,
                                          const llvm::SourceMgr &sourceMgr);

} // namespace attnc

#endif // ATTNC_MLIRGEN_MLIRGEN_H
