//===- Program.h - The manifest's program, parsed ---------------*- C++ -*-===//
//
// Private to the runtime. A registry's manifest lists kernels (spec,
// generated functions per shape class) and, per function of the module, its
// values and steps. This is that, as C++ structures, checked against the
// registry's entries.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_RUNTIME_PROGRAM_H
#define ATTNC_RUNTIME_PROGRAM_H

#include "DeviceMemory.h"
#include "attnc/Lowering/KernelSpec.h"
#include "attnc/Runtime.h"

#include <map>
#include <string>
#include <vector>

namespace attnc::runtime {

struct ValueInfo {
  DType dtype = DType::F32;
  bool bf16 = false; ///< A float activation stored as bf16 (Storage::bf16).
  std::vector<int64_t> shape; ///< -1 where dynamic.
};

struct Step {
  std::string op; ///< "param", "slice", "concat", "linear", "attention", ...
  std::vector<int> operands, results;
  std::string kernel;                     ///< For kernel steps.
  std::string paramName;                  ///< For "param".
  int64_t axis = 0, offset = 0, size = 0; ///< For "slice" / "concat".
  std::string loc;                        ///< "model.attn:12:3", for messages.

  /// "attention at model.attn:12:3".
  std::string describe() const {
    return op + (loc.empty() ? "" : " at " + loc);
  }
};

struct Function {
  std::string name;
  std::string kind;  ///< "attention", "encode", "decode", or "" (unknown).
  std::string model; ///< For "encode" / "decode": the model's name.
  std::vector<std::pair<std::string, int>> inputs, outputs;
  /// Per input and output, what it means ("src_tokens", "memory", "logits",
  /// ...; docs/manifest.md), or "" when the manifest gives none.
  std::vector<std::string> inputRoles, outputRoles;
  std::vector<ValueInfo> values;
  std::vector<Step> steps;
  int64_t maxLen = 0; ///< 0: unbounded.

  /// The name of the input with `role`, or "" if none has it.
  std::string inputWithRole(const std::string &role) const {
    for (size_t i = 0; i < inputs.size(); ++i)
      if (inputRoles[i] == role)
        return inputs[i].first;
    return "";
  }
  /// The name of the output with `role`, or "" if none has it.
  std::string outputWithRole(const std::string &role) const {
    for (size_t i = 0; i < outputs.size(); ++i)
      if (outputRoles[i] == role)
        return outputs[i].first;
    return "";
  }
};

/// One kernel and its generated functions, most specific shape class first.
struct Kernel {
  std::string name;
  kernels::KernelSpec spec;
  /// spec.signature(), built once at load: every call walks it.
  std::vector<kernels::ArgumentSig> signature;
  std::vector<const attnc_kernel_entry *> entries;
};

struct Program {
  std::string unit;
  DeviceTarget device; ///< Where the kernels run (GPU targets).
  std::map<std::string, Function> functions;
  std::map<std::string, Kernel> kernels;
};

/// Parses and checks a registry's manifest.
Program parseProgram(const attnc_registry &registry);

} // namespace attnc::runtime

#endif // ATTNC_RUNTIME_PROGRAM_H
