//===- Driver.h - What the attnc commands share -----------------*- C++ -*-===//
//
// attnc has three commands: compile (attnc.cpp, also the default; its
// --shared link in Shared.cpp), tune and tuning-db (Tune.cpp). They share the
// front half of the pipeline: reading .attn or .mlir, MLIRGen, the default
// pipeline.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TOOLS_ATTNC_DRIVER_H
#define ATTNC_TOOLS_ATTNC_DRIVER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/SourceMgr.h"

namespace attnc::driver {

/// Prints "attnc: error: <message>" and returns 1.
int fail(const llvm::Twine &message);

/// Reads `path` (.attn or .mlir) into a verified module after the default
/// pipeline. Reports errors (with locations) and returns null on failure.
mlir::OwningOpRef<mlir::ModuleOp>
loadOptimizedModule(const std::string &path, mlir::MLIRContext &context,
                    llvm::SourceMgr &sourceMgr);

/// Links the kernels `attnc compile` wrote into `outDir` (first target),
/// their registry and the runtime with its C API into `outDir`/lib<unit>.so
/// (Shared.cpp). `argv0` locates an installed runtime. Reports errors and
/// returns 1, else 0.
int linkSharedLibrary(const std::string &outDir, const char *argv0);

/// If the command line selected `tune` or `tuning-db`, runs it and returns
/// its exit status; otherwise returns -1.
int runTuningCommands();

} // namespace attnc::driver

#endif // ATTNC_TOOLS_ATTNC_DRIVER_H
