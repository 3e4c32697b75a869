//===- FuseProjections.cpp - The attn-fuse-projections pass ---------------===//
//
// Groups the attn.linear ops of a block by (input, activation, bias or not,
// element type, weight storage). Each group of two or more becomes one linear
// over concatenated weights (and biases), placed after the group's last member,
// whose result each member's users read through an attn.slice. A group whose
// results are used before its last member is split into runs that can be
// fused; an unranked input is left alone (the pass runs after shape
// inference).
//
//===----------------------------------------------------------------------===//

#include "PassDetail.h"
#include "attnc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

using namespace mlir;
using namespace attnc;
using attn::LinearOp;

namespace {

/// (input, activation, has bias, element type, weight storage).
using GroupKey = std::tuple<Value, int, int, Type, int>;

/// The earliest op in `block` that uses a result of `op`, or null.
Operation *firstUser(LinearOp op) {
  Operation *first = nullptr;
  for (Operation *user : op->getUsers()) {
    Operation *inBlock = op->getBlock()->findAncestorOpInBlock(*user);
    if (inBlock && (!first || inBlock->isBeforeInBlock(first)))
      first = inBlock;
  }
  return first;
}

/// Splits a group, in program order, into runs that can be fused: a run
/// ends before a member that comes after some user of an earlier member.
/// (All six decoder layers project the same encoder memory, but layer 0
/// uses its K and V before layer 1 projects its own.)
SmallVector<SmallVector<LinearOp>> fusableRuns(ArrayRef<LinearOp> group) {
  SmallVector<SmallVector<LinearOp>> runs;
  Operation *deadline = nullptr; // Earliest user of the current run.
  for (LinearOp member : group) {
    if (runs.empty() || (deadline && deadline->isBeforeInBlock(member))) {
      runs.emplace_back();
      deadline = nullptr;
    }
    runs.back().push_back(member);
    Operation *user = firstUser(member);
    if (user && (!deadline || user->isBeforeInBlock(deadline)))
      deadline = user;
  }
  return runs;
}

void fuseRun(ArrayRef<LinearOp> group) {
  LinearOp last = group.back();
  auto inputType = last.getInput().getType().dyn_cast<RankedTensorType>();
  if (!inputType)
    return;

  OpBuilder builder(last->getContext());
  builder.setInsertionPointAfter(last);
  Location loc = builder.getFusedLoc(llvm::to_vector<4>(
      llvm::map_range(group, [](LinearOp op) { return op.getLoc(); })));

  SmallVector<Value> weights, biases;
  int64_t totalOut = 0;
  for (LinearOp member : group) {
    weights.push_back(member.getWeight());
    if (member.getBias())
      biases.push_back(member.getBias());
    totalOut += member.getWeight().getType().cast<ShapedType>().getDimSize(0);
  }
  Type element = inputType.getElementType(); // The activations'.
  Type weightElement =
      last.getWeight().getType().cast<ShapedType>().getElementType();
  int64_t inFeatures =
      last.getWeight().getType().cast<ShapedType>().getDimSize(1);
  auto axis0 = builder.getI64IntegerAttr(0);
  Value weight = builder.create<attn::ConcatOp>(
      loc, RankedTensorType::get({totalOut, inFeatures}, weightElement),
      weights, axis0);
  Value bias;
  if (!biases.empty())
    bias = builder.create<attn::ConcatOp>(
        loc, RankedTensorType::get({totalOut}, weightElement), biases, axis0);

  SmallVector<int64_t> shape(inputType.getShape().begin(),
                             inputType.getShape().end());
  shape.back() = totalOut;
  auto fused = builder.create<LinearOp>(
      loc, RankedTensorType::get(shape, element), last.getInput(), weight, bias,
      attn::ActivationAttr::get(builder.getContext(), last.getActivation()),
      attn::WeightTypeAttr::get(builder.getContext(), last.getWeights()));
  attn::dropDefaultAttributes(fused);

  int64_t axis = inputType.getRank() - 1, offset = 0;
  for (LinearOp member : group) {
    LinearOp op = member;
    int64_t size = op.getWeight().getType().cast<ShapedType>().getDimSize(0);
    Value slice = builder.create<attn::SliceOp>(
        op.getLoc(), op.getType(), fused.getResult(),
        builder.getI64IntegerAttr(axis), builder.getI64IntegerAttr(offset),
        builder.getI64IntegerAttr(size));
    offset += size;
    op.getResult().replaceAllUsesWith(slice);
    op.erase();
  }
}

struct FuseProjectionsPass : public FuseProjectionsBase<FuseProjectionsPass> {
  void runOnOperation() override {
    getOperation().walk([](Block *block) {
      llvm::MapVector<GroupKey, SmallVector<LinearOp>> groups;
      for (Operation &op : *block)
        if (auto linear = dyn_cast<LinearOp>(op)) {
          auto weightType = linear.getWeight().getType().dyn_cast<ShapedType>();
          if (!weightType || !weightType.hasStaticShape())
            continue;
          GroupKey key{linear.getInput(), int(linear.getActivation()),
                       linear.getBias() ? 1 : 0, weightType.getElementType(),
                       int(linear.getWeights())};
          groups[key].push_back(linear);
        }
      for (auto &entry : groups)
        for (ArrayRef<LinearOp> run : fusableRuns(entry.second))
          if (run.size() > 1)
            fuseRun(run);
    });
  }
};

} // namespace

std::unique_ptr<Pass> attnc::createFuseProjectionsPass() {
  return std::make_unique<FuseProjectionsPass>();
}
