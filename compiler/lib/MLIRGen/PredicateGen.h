//===- PredicateGen.h - Mask predicates to arith ops ------------*- C++ -*-===//
//
// Private to lib/MLIRGen: fills an attention op's mask region from the body
// of `predicate(b, h, q, k) { ... }`.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LIB_MLIRGEN_PREDICATEGEN_H
#define ATTNC_LIB_MLIRGEN_PREDICATEGEN_H

#include "attnc/Frontend/Spec.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

namespace attnc {

/// Builds one block with four index arguments in `region`, computes the
/// predicate with arith ops (integer division and remainder truncate toward
/// zero, as in C), and ends it with attn.yield. Sema has checked the body.
void generatePredicate(mlir::OpBuilder &builder, mlir::Region &region,
                       const CallExpr &predicate, const CompileUnit &unit,
                       llvm::function_ref<mlir::Location(llvm::SMLoc)> locate);

} // namespace attnc

#endif // ATTNC_LIB_MLIRGEN_PREDICATEGEN_H
