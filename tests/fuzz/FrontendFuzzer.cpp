//===- FrontendFuzzer.cpp - libFuzzer target for the .attn front end ------===//
//
// Feeds arbitrary bytes through everything `attnc --emit=mlir-opt` runs
// before lowering: the bytes become a source buffer, which is parsed
// (parseModule), checked (analyze), turned into the attn dialect (mlirGen),
// verified, and optimized with the default pass pipeline. Any input may be
// rejected with diagnostics (they are discarded); none may crash, abort,
// trip ASan or UBSan, or leak. Built by tests/fuzz/CMakeLists.txt with
// clang++ -fsanitize=fuzzer,address,undefined.
//
//===----------------------------------------------------------------------===//

#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Frontend/Parser.h"
#include "attnc/Frontend/Sema.h"
#include "attnc/MLIRGen/MLIRGen.h"
#include "attnc/Transforms/Passes.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

namespace {

/// The dialects attnc loads before generating a module.
void loadDialects(mlir::MLIRContext &context) {
  context.getOrLoadDialect<attnc::attn::AttnDialect>();
  context.getOrLoadDialect<mlir::arith::ArithmeticDialect>();
  context.getOrLoadDialect<mlir::StandardOpsDialect>();
}

/// Generates, verifies and optimizes the module of a checked unit, with
/// every MLIR diagnostic discarded.
void compileUnit(const attnc::CompileUnit &unit,
                 const llvm::SourceMgr &sourceMgr) {
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  loadDialects(context);
  mlir::ScopedDiagnosticHandler silence(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      attnc::mlirGen(context, unit, sourceMgr);
  if (!module || mlir::failed(mlir::verify(*module)))
    return;
  mlir::PassManager pm(&context);
  attnc::buildDefaultPipeline(pm);
  (void)pm.run(*module);
}

} // namespace

/// libFuzzer's entry point: one input, compiled as far as it is valid.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.attn"),
      llvm::SMLoc());
  attnc::Diagnostics diags(sourceMgr, llvm::nulls());
  std::unique_ptr<attnc::Module> ast =
      attnc::parseModule(sourceMgr.getMainFileID(), diags);
  if (!ast)
    return 0;
  std::unique_ptr<attnc::CompileUnit> unit = attnc::analyze(*ast, diags);
  if (!unit)
    return 0;
  compileUnit(*unit, sourceMgr);
  return 0;
}
