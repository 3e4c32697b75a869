//===- Pipeline.cpp - The default attn graph pipeline ---------------------===//
//
// One place that says which passes run, in which order, for every driver.
//
//===----------------------------------------------------------------------===//

#include "attnc/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void attnc::buildDefaultPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<FuncOp>(createShapeInferencePass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<FuncOp>(createFuseProjectionsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void attnc::registerAttnPipelines() {
  PassPipelineRegistration<>(
      "attn-default-pipeline",
      "Canonicalize, infer shapes, fuse projections, canonicalize, CSE",
      [](OpPassManager &pm) { buildDefaultPipeline(pm); });
}
