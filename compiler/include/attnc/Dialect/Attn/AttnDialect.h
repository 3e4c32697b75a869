//===- AttnDialect.h - The attn dialect -------------------------*- C++ -*-===//
//
// Includes everything a user of the dialect needs: the dialect class, its
// enums and attributes, the shape-inference interface, and the ops.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_DIALECT_ATTN_ATTNDIALECT_H
#define ATTNC_DIALECT_ATTN_ATTNDIALECT_H

#include "mlir/Dialect/Arithmetic/IR/Arithmetic.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "attnc/Dialect/Attn/AttnDialect.h.inc"
#include "attnc/Dialect/Attn/AttnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "attnc/Dialect/Attn/AttnAttrs.h.inc"

#include "attnc/Dialect/Attn/ShapeInferenceInterface.h.inc"

#define GET_OP_CLASSES
#include "attnc/Dialect/Attn/AttnOps.h.inc"

namespace attnc {
namespace attn {

/// Removes attributes that hold their ODS default (a linear's `none`
/// activation; an attention's dot scoring, zero empty-row policy, no
/// probabilities, no score modifiers), so printed IR shows only choices.
void dropDefaultAttributes(mlir::Operation *op);

} // namespace attn
} // namespace attnc

#endif // ATTNC_DIALECT_ATTN_ATTNDIALECT_H
