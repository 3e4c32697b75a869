//===- attn-opt.cpp - mlir-opt with the attn dialect and passes -----------===//
//
// The pass-testing driver: MLIR's standard opt main with the attn dialect,
// arith and std registered, plus the attn passes, the default pipeline and
// MLIR's generic transforms (canonicalize, cse).
//
//===----------------------------------------------------------------------===//

#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Transforms/Passes.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/Dialect.h"
#include "mlir/Support/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  attnc::registerAttnPasses();
  attnc::registerAttnPipelines();

  mlir::DialectRegistry registry;
  registry.insert<attnc::attn::AttnDialect, mlir::arith::ArithmeticDialect,
                  mlir::StandardOpsDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "attn optimizer driver\n", registry));
}
