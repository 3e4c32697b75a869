//===- attnc.cpp - The attnc compiler driver ------------------------------===//
//
// attnc [compile] <input.attn|input.mlir> [--emit=<stage>] [-o <out>]
//
// Runs the pipeline up to the requested stage of the ordered ladder
//   ast < mlir < mlir-opt < halide-stmt < asm < lib
// and prints or writes that stage. `attnc compile` defaults to lib (objects,
// headers, runtime and manifest in the -o folder); plain `attnc` to
// mlir-opt. `.mlir` input enters at the mlir stage. Every problem with the
// input is reported with its location and makes attnc exit with status 1;
// attnc never aborts on bad input.
//
//===----------------------------------------------------------------------===//

#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Frontend/Parser.h"
#include "attnc/Frontend/Sema.h"
#include "attnc/Lowering/Emit.h"
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

#include <cctype>
#include <cstring>

namespace cl = llvm::cl;
using namespace attnc;

namespace {

enum class Stage { AST, MLIR, MLIROpt, HalideStmt, Assembly, Lib };

cl::OptionCategory category("attnc options");

cl::opt<std::string> inputFilename(cl::Positional,
                                   cl::desc("<input .attn or .mlir file>"),
                                   cl::init("-"), cl::cat(category));

cl::opt<std::string> outputFilename("o",
                                    cl::desc("Output file (default: stdout)"),
                                    cl::value_desc("file"), cl::init("-"),
                                    cl::cat(category));

cl::opt<Stage> emit(
    "emit", cl::desc("The pipeline stage to stop at and print or write"),
    cl::values(
        clEnumValN(Stage::AST, "ast", "the parsed syntax tree"),
        clEnumValN(Stage::MLIR, "mlir", "attn IR straight from MLIRGen"),
        clEnumValN(Stage::MLIROpt, "mlir-opt",
                   "attn IR after the default pipeline (default of attnc)"),
        clEnumValN(Stage::HalideStmt, "halide-stmt",
                   "Halide IR of every kernel, first target"),
        clEnumValN(Stage::Assembly, "asm",
                   "assembly of every kernel, first target"),
        clEnumValN(Stage::Lib, "lib",
                   "kernel objects, headers, Halide runtime and manifest.json "
                   "in the -o folder (default of attnc compile)")),
    cl::cat(category));

cl::opt<std::string>
    unitName("unit",
             cl::desc("Name of the unit, which prefixes every generated symbol "
                      "(default: the input file's stem)"),
             cl::value_desc("identifier"), cl::cat(category));

cl::opt<unsigned> jobs("jobs",
                       cl::desc("Kernels compiled at once (default: one per "
                                "core)"),
                       cl::init(0), cl::cat(category));

cl::opt<bool> keepStmt("stmt",
                       cl::desc("With --emit=lib, also write <kernel>.stmt"),
                       cl::cat(category));
cl::opt<bool> keepAssembly("asm",
                           cl::desc("With --emit=lib, also write <kernel>.s"),
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
  // `attnc compile ...` is `attnc --emit=lib ...` unless --emit says more.
  std::vector<char *> args(argv, argv + argc);
  bool compileCommand = args.size() > 1 && std::strcmp(args[1], "compile") == 0;
  if (compileCommand)
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
          "  attnc compile model.attn [--target=...] -o out/   kernels + "
          "manifest\n"
          "  attnc model.attn [--emit=ast|mlir|mlir-opt|halide-stmt|asm]\n",
          &llvm::errs()))
    return 1;
  if (emit.getNumOccurrences() == 0)
    emit = compileCommand ? Stage::Lib : Stage::MLIROpt;
  if (emit == Stage::Lib && outputFilename == "-")
    return fail("--emit=lib writes a folder; name it with -o");

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

  std::unique_ptr<llvm::ToolOutputFile> output;
  if (emit != Stage::Lib) {
    output = mlir::openOutputFile(outputFilename, &error);
    if (!output)
      return fail(error);
  }

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
  if (!unitName.empty()) {
    bool valid = !std::isdigit(static_cast<unsigned char>(unitName[0]));
    for (char c : unitName)
      valid =
          valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!valid)
      return fail("--unit must be a C identifier, got '" + unitName + "'");
    module->setName(unitName);
  }

  auto printModule = [&] {
    module->print(output->os());
    output->os() << "\n";
    output->keep();
    return 0;
  };
  if (emit == Stage::MLIR)
    return printModule();
  mlir::PassManager pm(&context);
  mlir::applyPassManagerCLOptions(pm);
  buildDefaultPipeline(pm);
  if (mlir::failed(pm.run(*module)))
    return 1;
  if (emit == Stage::MLIROpt)
    return printModule();
  if (emit == Stage::HalideStmt || emit == Stage::Assembly) {
    if (mlir::failed(emitForReview(*module,
                                   emit == Stage::HalideStmt
                                       ? ReviewOutput::Stmt
                                       : ReviewOutput::Assembly,
                                   output->os())))
      return 1;
    output->keep();
    return 0;
  }
  EmitOptions options;
  options.outputDir = outputFilename;
  options.emitStmt = keepStmt;
  options.emitAssembly = keepAssembly;
  options.jobs = jobs;
  options.progress = [](const std::string &line) {
    llvm::errs() << "attnc: " << line << "\n";
  };
  return mlir::failed(emitLibraries(*module, options)) ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  return run(argc, argv);
}
