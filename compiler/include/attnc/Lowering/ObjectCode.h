//===- ObjectCode.h - Halide modules to files, no AVX512-FP16 -*- C++ -*-===//
//
// Halide 14 documents its avx512_sapphirerapids target feature as the
// Cannonlake features plus AVX512-VNNI and AVX512-BF16, and `host` has it on
// every CPU with those (AMD Zen 4 and 5 too). But it hands LLVM the CPU
// "sapphirerapids", whose model also has AVX512-FP16, so LLVM may pick FP16
// instructions (`vmovw` for a 16-bit scalar load) that Zen does not have: a
// kernel that dies with SIGILL on the machine it was compiled for. These
// functions compile through Halide's LLVM module and add "-avx512fp16" to
// the CPU features it asks LLVM for, so the feature means what Halide says.
// Everything else is Halide's own Module::compile.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LOWERING_OBJECTCODE_H
#define ATTNC_LOWERING_OBJECTCODE_H

#include "Halide.h"

#include <map>
#include <string>

namespace llvm {
class Module;
} // namespace llvm

namespace attnc {

/// Writes `outputs` (object, assembly, header, stmt, ...) of `module`.
void compileHalideModule(
    const Halide::Module &module,
    const std::map<Halide::OutputFileType, std::string> &outputs);

/// Halide's runtime for `target`, as compile_standalone_runtime writes it.
void compileHalideRuntime(const std::string &objectPath,
                          const Halide::Target &target);

/// Adds "-avx512fp16" to the CPU features of an LLVM module Halide made for
/// an x86 target with avx512_sapphirerapids; other modules are unchanged.
/// Returns whether it changed the module.
bool withoutAVX512FP16(llvm::Module &module);

} // namespace attnc

#endif // ATTNC_LOWERING_OBJECTCODE_H
