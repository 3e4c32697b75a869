//===- PassDetail.h - Generated pass base classes ---------------*- C++ -*-===//
//
// Private to lib/Transforms: the TableGen'd base classes of the passes.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LIB_TRANSFORMS_PASSDETAIL_H
#define ATTNC_LIB_TRANSFORMS_PASSDETAIL_H

#include "attnc/Dialect/Attn/AttnDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace attnc {

#define GEN_PASS_CLASSES
#include "attnc/Transforms/Passes.h.inc"

} // namespace attnc

#endif // ATTNC_LIB_TRANSFORMS_PASSDETAIL_H
