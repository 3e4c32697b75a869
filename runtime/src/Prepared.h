//===- Prepared.h - What load computes about one function -------*- C++ -*-===//
//
// Private to the runtime. Model::load evaluates every value of a function
// that depends only on the weights (params, and the slices and
// concatenations fusion put on them) once, packs the linear weights, and
// records where each remaining value is last used, so that runs and
// decoding sessions (DecodeSession.h) start from these values and return
// buffers to the pool as soon as they can.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_RUNTIME_PREPARED_H
#define ATTNC_RUNTIME_PREPARED_H

#include "Executor.h"

#include <vector>

namespace attnc::runtime {

/// What load computes about one function.
struct Prepared {
  const Function *function = nullptr;
  std::vector<Storage> statics; ///< Defined for static values.
  /// Per value: its packed form, where the value is a linear's weight.
  std::vector<PackedLinear> packedWeights;
  std::vector<bool> atLoad; ///< Per value: computed at load.
  std::vector<int> lastUse; ///< Step index; INT_MAX for outputs.

  /// The operands of `step` from `values`, a linear's weight packed (and
  /// followed by its scales, for int8).
  std::vector<Storage> operandsOf(const Step &step,
                                  const std::vector<Storage> &values) const {
    std::vector<Storage> operands;
    for (int operand : step.operands)
      operands.push_back(values[operand]);
    if (step.op != "linear")
      return operands;
    const PackedLinear &packed = packedWeights[step.operands.at(1)];
    if (packed.weight.defined())
      operands[1] = packed.weight;
    if (packed.scale.defined())
      operands.insert(operands.begin() + 2, packed.scale);
    return operands;
  }
};

} // namespace attnc::runtime

#endif // ATTNC_RUNTIME_PREPARED_H
