//===- ShapeInferenceInterface.td - Result shapes from operands -*- tablegen -*-===//
//
// MLIRGen gives intermediate values unranked types; the attn-shape-inference
// pass asks each op, in dataflow order, to compute its result types from its
// now-known operand types.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SHAPE_INFERENCE_INTERFACE
#define ATTN_SHAPE_INFERENCE_INTERFACE

include "mlir/IR/OpBase.td"

def ShapeInferenceOpInterface : OpInterface<"ShapeInference"> {
  let cppNamespace = "::attnc::attn";
  let description = [{
    An op that can compute its result types once its operands are ranked.
  }];
  let methods = [
    InterfaceMethod<[{
        Sets the result types from the operand types. Called only when every
        operand is ranked; emits an error and fails if they do not fit.
      }],
      "::mlir::LogicalResult", "inferShapes">
  ];
}

#endif // ATTN_SHAPE_INFERENCE_INTERFACE
