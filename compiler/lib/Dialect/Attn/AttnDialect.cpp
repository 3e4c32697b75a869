//===- AttnDialect.cpp - The attn dialect ---------------------------------===//
//
// Registers ops and attributes, and instantiates the TableGen'd definitions.
// Verifiers are in AttnOps.cpp, folders and canonicalization patterns in
// AttnCanonicalize.cpp, result-shape rules in AttnShapeInference.cpp.
//
//===----------------------------------------------------------------------===//

#include "attnc/Dialect/Attn/AttnDialect.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace attnc::attn;

#include "attnc/Dialect/Attn/AttnDialect.cpp.inc"
#include "attnc/Dialect/Attn/AttnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "attnc/Dialect/Attn/AttnAttrs.cpp.inc"

#include "attnc/Dialect/Attn/ShapeInferenceInterface.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "attnc/Dialect/Attn/AttnOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attnc/Dialect/Attn/AttnAttrs.cpp.inc"
      >();
}
