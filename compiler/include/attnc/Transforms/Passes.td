//===- Passes.td - attn graph passes -----------------------*- tablegen -*-===//
//
// The passes of the default pipeline (see docs/passes.md). Local algebra is
// not here: it lives in the ops' canonicalization patterns.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES
#define ATTN_PASSES

include "mlir/Pass/PassBase.td"

def ShapeInference : Pass<"attn-shape-inference", "::mlir::FuncOp"> {
  let summary = "Infer ranked result types from the function's arguments";
  let description = [{
    MLIRGen gives intermediate values the unranked type `tensor<*xf32>`. This
    pass visits ops in dataflow order and asks each one (through the
    ShapeInference interface) to set its result types once its operands are
    ranked, then updates the function's result types. An op whose operands
    do not fit is reported at its location; an op left unranked is an error.
  }];
  let constructor = "::attnc::createShapeInferencePass()";
}

def FuseProjections : Pass<"attn-fuse-projections", "::mlir::FuncOp"> {
  let summary = "Fuse linear projections that read the same input";
  let description = [{
    Self-attention projects one input three times (Q, K and V), and
    cross-attention projects the encoder memory twice (K and V). This pass
    replaces every group of `attn.linear` ops that read the same input, with
    the same activation, by one linear over the concatenated weights and
    biases, followed by `attn.slice` views of its result. One larger GEMM
    reads the input once and runs at a higher fraction of peak.

    Canonicalization then folds a concatenation of adjacent slices of one
    weight (PyTorch's packed `in_proj_weight`) back into that weight.
  }];
  let constructor = "::attnc::createFuseProjectionsPass()";
  let dependentDialects = ["::attnc::attn::AttnDialect"];
}

#endif // ATTN_PASSES
