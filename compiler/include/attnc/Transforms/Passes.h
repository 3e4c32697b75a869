//===- Passes.h - attn graph passes and the default pipeline ----*- C++ -*-===//
//
// Pass constructors, their registration, and the default pipeline that
// `attnc --emit=mlir-opt` and `attn-opt --attn-default-pipeline` run:
//
//   canonicalize, attn-shape-inference, canonicalize,
//   attn-fuse-projections, canonicalize, cse
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TRANSFORMS_PASSES_H
#define ATTNC_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <memory>

namespace attnc {

std::unique_ptr<mlir::Pass> createShapeInferencePass();
std::unique_ptr<mlir::Pass> createFuseProjectionsPass();

/// Adds the default graph pipeline to `pm` (a module-level pass manager).
void buildDefaultPipeline(mlir::OpPassManager &pm);

/// Registers `attn-default-pipeline` with MLIR's registry, for attn-opt.
void registerAttnPipelines();

/// Generated: registerAttnPasses() and one register function per pass.
#define GEN_PASS_REGISTRATION
#include "attnc/Transforms/Passes.h.inc"

} // namespace attnc

#endif // ATTNC_TRANSFORMS_PASSES_H
