//===- attnc.cpp - The attnc compiler driver ------------------------------===//
//
// attnc [compile] <input.attn|input.mlir> [--emit=<stage>] [-o <out>]
//
// Runs the pipeline up to the requested stage of the ordered ladder
//   ast < mlir < mlir-opt
// and prints that stage. `.mlir` input enters at the mlir stage. Every
// problem with the input is reported with its location and makes attnc exit
// with status 1; attnc never aborts on bad input.
//
//===----------------------------------------------------------------------===//

#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Frontend/Parser.h"
#include "attnc/Frontend/Sema.h"
#include "attnc/MLIRGen/MLIRGen.h"
#include "attnc/Transforms/Passes.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <cstring>

namespace cl = llvm::cl;
using namespace attnc;

namespace {

enum class Stage { AST, MLIR, MLIROpt };

cl::OptionCategory category("attnc options");

cl::opt<std::string> inputFilename(cl::Positional,
                                   cl::desc("<input .attn or .mlir file>"),
                                   cl::init("-"), cl::cat(category));

cl::opt<std::string> outputFilename("o",
                                    cl::desc("Output file (default: stdout)"),
                                    cl::value_desc("file"), cl::init("-"),
                                    cl::cat(category));

cl::opt<Stage> emit(
    "emit", cl::desc("The pipeline stage to stop at and print"),
    cl::init(Stage::MLIROpt),
    cl::values(clEnumValN(Stage::AST, "ast", "the parsed syntax tree"),
               clEnumValN(Stage::MLIR, "mlir", "attn IR straight from MLIRGen"),
               clEnumValN(Stage::MLIROpt, "mlir-opt",
                          "attn IR after the default pipeline (default)")),
    cl::cat(category));

cl::list<std::string> targets(
    "target", cl::CommaSeparated,
    cl::desc("Targets to generate for, overriding the file's target line: "
             "host, x86_64_avx2, x86_64_avx512, arm64, cuda, or a Halide "
             "target string"),
    cl::value_desc("target,..."), cl::cat(category));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "attnc") << message << "\n";
  return 1;
}

/// Overrides the module's target list with --target, if given.
int applyTargetOverride(mlir::ModuleOp module) {
  if (targets.empty())
    return 0;
  mlir::Builder builder(module.getContext());
  llvm::SmallVector<mlir::Attribute> attrs;
  for (const std::string &name : targets) {
    std::string halide = halideTargetFor(name).str();
    if (halide.empty() && name.find('-') == std::string::npos)
      return fail("unknown target '" + name + "'; expected " +
                  knownTargetNames() + ", or a Halide target string");
    attrs.push_back(builder.getStringAttr(halide.empty() ? name : halide));
  }
  module->setAttr("attn.targets", builder.getArrayAttr(attrs));
  return 0;
}

int run(int argc, char **argv) {
  // `attnc compile ...` is the same as `attnc ...`.
  std::vector<char *> args(argv, argv + argc);
  if (args.size() > 1 && std::strcmp(args[1], "compile") == 0)
    args.erase(args.begin() + 1);

  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "attnc " ATTNC_VERSION " (MLIR 14, Halide 14)\n";
  });
  cl::HideUnrelatedOptions(category);
  if (!cl::ParseCommandLineOptions(
          int(args.size()), args.data(),
          "attnc: an ahead-of-time compiler for attention\n\n"
          "  attnc [compile] model.attn [--emit=ast|mlir|mlir-opt] [-o out]\n",
          &llvm::errs()))
    return 1;

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputFilename, &error);
  if (!input)
    return fail(error);
  bool isMLIR = llvm::StringRef(inputFilename).endswith(".mlir");
  if (isMLIR && emit == Stage::AST)
    return fail("--emit=ast needs a .attn input; '" + inputFilename +
                "' is MLIR");

  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  mlir::MLIRContext context;
  context.getOrLoadDialect<attn::AttnDialect>();
  context.getOrLoadDialect<mlir::arith::ArithmeticDialect>();
  context.getOrLoadDialect<mlir::StandardOpsDialect>();
  mlir::SourceMgrDiagnosticHandler diagnosticHandler(sourceMgr, &context);

  auto output = mlir::openOutputFile(outputFilename, &error);
  if (!output)
    return fail(error);

  mlir::OwningOpRef<mlir::ModuleOp> module;
  if (isMLIR) {
    module = mlir::parseSourceFile(sourceMgr, &context);
    if (!module)
      return 1;
  } else {
    Diagnostics diags(sourceMgr, llvm::errs());
    std::unique_ptr<Module> ast = parseModule(sourceMgr.getMainFileID(), diags);
    if (!ast)
      return 1;
    if (emit == Stage::AST) {
      dumpAST(*ast, sourceMgr, output->os());
      output->keep();
      return 0;
    }
    std::unique_ptr<CompileUnit> unit = analyze(*ast, diags);
    if (!unit)
      return 1;
    module = mlirGen(context, *unit, sourceMgr);
    if (!module)
      return 1;
  }
  if (int status = applyTargetOverride(*module))
    return status;

  if (emit >= Stage::MLIROpt) {
    mlir::PassManager pm(&context);
    mlir::applyPassManagerCLOptions(pm);
    buildDefaultPipeline(pm);
    if (mlir::failed(pm.run(*module)))
      return 1;
  }
  module->print(output->os());
  output->os() << "\n";
  output->keep();
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  return run(argc, argv);
}
