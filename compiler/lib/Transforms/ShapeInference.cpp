//===- ShapeInference.cpp - The attn-shape-inference pass -----------------===//
//
// A worklist over the ops whose results are unranked: repeatedly take one
// whose operands are all ranked and ask it to infer its results (see
// AttnShapeInference.cpp). When the list stops shrinking, anything left is
// an error. Finally the function's result types follow its return values.
//
//===----------------------------------------------------------------------===//

#include "PassDetail.h"
#include "attnc/Transforms/Passes.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace attnc;

namespace {

bool isUnranked(Type type) { return type.isa<UnrankedTensorType>(); }

bool hasUnrankedResult(Operation *op) {
  return llvm::any_of(op->getResultTypes(), isUnranked);
}

bool allOperandsRanked(Operation *op) {
  return llvm::none_of(op->getOperandTypes(), isUnranked);
}

struct ShapeInferencePass : public ShapeInferenceBase<ShapeInferencePass> {
  void runOnOperation() override {
    FuncOp function = getOperation();
    llvm::SetVector<Operation *> worklist;
    function.walk([&](Operation *op) {
      if (hasUnrankedResult(op))
        worklist.insert(op);
    });

    while (!worklist.empty()) {
      auto ready = llvm::find_if(worklist, allOperandsRanked);
      if (ready == worklist.end())
        break;
      Operation *op = *ready;
      worklist.remove(op);
      auto shaped = dyn_cast<attn::ShapeInference>(op);
      if (!shaped) {
        op->emitOpError("has an unranked result and no shape rule");
        return signalPassFailure();
      }
      if (failed(shaped.inferShapes()))
        return signalPassFailure();
    }
    if (!worklist.empty()) {
      worklist.front()->emitOpError("result shape could not be inferred: an "
                                    "operand stays unranked");
      return signalPassFailure();
    }

    if (function.getBody().empty())
      return;
    Operation *terminator = function.getBody().back().getTerminator();
    function.setType(FunctionType::get(&getContext(),
                                       function.getType().getInputs(),
                                       terminator->getOperandTypes()));
  }
};

} // namespace

std::unique_ptr<Pass> attnc::createShapeInferencePass() {
  return std::make_unique<ShapeInferencePass>();
}
