//===- PredicateGen.h - Mask predicates to arith ops ------------*- C++ -*-===//
//
// Private to lib/MLIRGen: fills an attention op's mask region from the
// block's mask, the expression tree Sema built from its terms.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LIB_MLIRGEN_PREDICATEGEN_H
#define ATTNC_LIB_MLIRGEN_PREDICATEGEN_H

#include "attnc/Lowering/KernelSpec.h"

#include "mlir/IR/Builders.h"

namespace attnc {

/// Builds one block with four index arguments (b, h, q, k) in `region`,
/// computes `mask` with arith ops (integer division and remainder truncate
/// toward zero, as in C), and ends it with attn.yield. Sema has checked the
/// tree: integer and condition operations only, typed consistently.
void generatePredicate(mlir::OpBuilder &builder, mlir::Region &region,
                       const kernels::Predicate &mask, mlir::Location at);

} // namespace attnc

#endif // ATTNC_LIB_MLIRGEN_PREDICATEGEN_H
