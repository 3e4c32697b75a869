//===- Emit.h - Ahead-of-time kernels, runtime and manifest -----*- C++ -*-===//
//
// `attnc compile` writes, for an optimized module:
//
//   <out>/manifest.json              kernels, their arguments, targets,
//                                    schedule parameters, and the program
//                                    (every function's steps) for the runtime
//   <out>/<tag>/<kernel>.{o,h}       one library per kernel and shape class
//   <out>/<tag>/halide_runtime.o     Halide's runtime, once per target
//   <out>/<tag>/lib<unit>_kernels.a  all of the above objects in one archive
//   <out>/<tag>/<unit>_registry.c    every kernel's entry points and the
//                                    manifest, for code that links the
//                                    kernels (runtime/include/attnc/registry.h)
//
// <tag> names the target (host, avx2, avx512, arm64, cuda, ...). Kernel
// function names follow docs/kernels.md. The folder is written whole or not
// at all: into <out>.tmp-<pid>, renamed onto <out> once complete (replacing
// an older <out>), and removed if anything fails.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LOWERING_EMIT_H
#define ATTNC_LOWERING_EMIT_H

#include "attnc/Lowering/KernelSpec.h"
#include "attnc/Schedules/Params.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <functional>
#include <string>
#include <vector>

namespace attnc {

/// Where a kernel's functions and their schedule parameters come from: the
/// tuning database when it has entries (possibly with length buckets), else
/// the defaults. Returns the plan and whether it was tuned.
using ParamsLookup = std::function<std::pair<schedules::KernelPlan, bool>(
    const kernels::KernelSpec &, const std::string &halideTarget)>;

struct EmitOptions {
  std::string outputDir;
  bool emitStmt = false;     ///< Also write <kernel>.stmt (Halide IR).
  bool emitAssembly = false; ///< Also write <kernel>.s.
  ParamsLookup params;       ///< Null: the defaults.
  /// Kernels compiled at once, each in a child process (Halide names its
  /// Funcs uniquely per process, and a Halide crash stays in the child).
  /// 0: one per core.
  unsigned jobs = 0;
  /// Reports progress ("[3/20] attention_... for avx2"); may be null.
  std::function<void(const std::string &)> progress;
};

/// The tag of a Halide target string: host, avx2, avx512, arm64, cuda, or
/// the string itself made into an identifier.
std::string targetTag(const std::string &halideTarget);

/// The C function name of a kernel compiled for a target and shape class.
std::string kernelFunctionName(const std::string &unit,
                               const kernels::KernelSpec &spec,
                               const std::string &shapeClass,
                               const std::string &tag);

/// Compiles every kernel of `module` for every target in its `attn.targets`
/// and writes the outputs above. Reports errors (at ops, or Halide's own
/// messages) and fails if anything cannot be compiled, leaving no output
/// folder behind (an existing one is kept as it was).
mlir::LogicalResult emitLibraries(mlir::ModuleOp module,
                                  const EmitOptions &options);

/// The temporary sibling folder emitLibraries writes `outputDir` into.
std::string stagingFolderFor(const std::string &outputDir);

/// Makes the complete folder `staging` the folder `outputDir`: renames it
/// there, or, if `outputDir` is a folder already, moves that aside, renames
/// `staging` in and removes the old one. On failure removes `staging`,
/// leaves `outputDir` as it was and sets `error`.
mlir::LogicalResult replaceFolder(const std::string &staging,
                                  const std::string &outputDir,
                                  std::string &error);

/// What `attnc --emit=halide-stmt|asm` prints.
enum class ReviewOutput { Stmt, Assembly };

/// Writes the Halide IR (.stmt) or the assembly of every kernel for the
/// first target, concatenated, to `os`, for review.
mlir::LogicalResult emitForReview(mlir::ModuleOp module, ReviewOutput what,
                                  llvm::raw_ostream &os);

} // namespace attnc

#endif // ATTNC_LOWERING_EMIT_H
