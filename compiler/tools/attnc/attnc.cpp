//===- attnc.cpp - The attnc compiler driver ------------------------------===//
//
// attnc [compile] <input.attn|input.mlir> [--emit=<stage>] [-o <out>]
// attnc tune ... / attnc tuning-db ...            (Tune.cpp)
//
// Compile runs the pipeline up to the requested stage of the ordered ladder
//   ast < mlir < mlir-opt < halide-stmt < asm < lib
// and prints or writes that stage. `attnc compile` defaults to lib (objects,
// headers, runtime and manifest in the -o folder; with --shared, also one
// .so holding them, the runtime and its C API); plain `attnc` to
// mlir-opt. `.mlir` input enters at the mlir stage. Every problem with the
// input is reported with its location and makes attnc exit with status 1;
// attnc never aborts on bad input. Inputs larger than kMaxInputBytes are
// refused after reading at most one byte more, so a device or a pipe without
// end cannot exhaust memory.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Frontend/Parser.h"
#include "attnc/Frontend/Sema.h"
#include "attnc/Lowering/Emit.h"
#include "attnc/MLIRGen/MLIRGen.h"
#include "attnc/Schedules/Schedules.h"
#include "attnc/Schedules/TuningDB.h"
#include "attnc/Transforms/Passes.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/AsmState.h"
#include "mlir/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include "Halide.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <set>

namespace cl = llvm::cl;
using namespace attnc;

namespace {

enum class Stage { AST, MLIR, MLIROpt, HalideStmt, Assembly, Lib };

/// Largest input file attnc reads, .attn or .mlir (docs/dsl.md, Limits).
constexpr size_t kMaxInputBytes = size_t(16) << 20;

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

cl::list<std::string> targets(
    "target", cl::CommaSeparated,
    cl::desc(
        "Targets to generate for, overriding the file's target line: "
        "host, x86_64_avx2, x86_64_avx512, arm64, cuda, opencl, or a Halide "
        "target string"),
    cl::value_desc("target,..."), cl::cat(category));

cl::opt<std::string> weightsOverride(
    "weights",
    cl::desc("Store every linear layer's weight as f32, bf16, f16 or int8, "
             "overriding the file's `weights` fields (bf16, f16 and int8: "
             "CPU targets only)"),
    cl::value_desc("type"), cl::cat(category));

cl::opt<std::string> dtypeOverride(
    "dtype",
    cl::desc("Store activations as f32 or bf16, overriding the file's dtype "
             "line (bf16: CPU targets only)"),
    cl::value_desc("type"), cl::cat(category));

cl::opt<std::string>
    unitName("unit",
             cl::desc("Name of the unit, which prefixes every generated symbol "
                      "(default: the input file's stem)"),
             cl::value_desc("identifier"), cl::cat(category));

cl::opt<std::string> tuningDb(
    "tuning-db",
    cl::desc("Use the best parameters measured by attnc tune (kernels it "
             "lacks get the defaults)"),
    cl::value_desc("tuning.json"), cl::cat(category));

cl::list<std::string> scheduleOverrides(
    "schedule", cl::CommaSeparated,
    cl::desc("Schedule parameters that replace the defaults and the tuning "
             "database's, for every kernel of a family (knobs: "
             "schedules/lib/Params.cpp)"),
    cl::value_desc("family.knob=value,..."), cl::cat(category));

cl::opt<unsigned> jobs("jobs",
                       cl::desc("Kernels compiled at once (default: one per "
                                "core)"),
                       cl::init(0), cl::cat(category));

cl::opt<bool> keepStmt("stmt",
                       cl::desc("With --emit=lib, also write <kernel>.stmt"),
                       cl::cat(category));
cl::opt<bool> sharedLibrary(
    "shared",
    cl::desc("With --emit=lib, also link the first target's kernels, the "
             "runtime and its C API into <out>/lib<unit>.so"),
    cl::cat(category));
const char *argv0 = "attnc";
cl::opt<bool> keepAssembly("asm",
                           cl::desc("With --emit=lib, also write <kernel>.s"),
                           cl::cat(category));

/// Overrides the module's target list with --target, if given.
int applyTargetOverride(mlir::ModuleOp module) {
  if (targets.empty())
    return 0;
  mlir::Builder builder(module.getContext());
  llvm::SmallVector<mlir::Attribute> attrs;
  for (const std::string &name : targets) {
    std::string halide = halideTargetFor(name).str();
    if (halide.empty() && name.find('-') == std::string::npos)
      return driver::fail("unknown target '" + name + "'; expected " +
                          knownTargetNames() + ", or a Halide target string");
    attrs.push_back(builder.getStringAttr(halide.empty() ? name : halide));
  }
  module->setAttr("attn.targets", builder.getArrayAttr(attrs));
  return 0;
}

/// Overrides every attn.linear's weight type with --weights, if given.
int applyWeightsOverride(mlir::ModuleOp module) {
  if (weightsOverride.empty())
    return 0;
  std::string name = weightsOverride == "int8" ? std::string("i8")
                                               : weightsOverride.getValue();
  llvm::Optional<attn::WeightType> type = attn::symbolizeWeightType(name);
  if (!type || weightsOverride == "i8")
    return driver::fail("unknown --weights '" + weightsOverride +
                        "'; expected f32, bf16, f16 or int8");
  module.walk([&](attn::LinearOp op) {
    op.setWeightsAttr(attn::WeightTypeAttr::get(module.getContext(), *type));
    attn::dropDefaultAttributes(op);
  });
  return 0;
}

/// Checks every Halide target string of the module (from --target, or from
/// a .mlir input), so that a bad one is reported before any work.
int checkTargets(mlir::ModuleOp module) {
  auto list = module->getAttrOfType<mlir::ArrayAttr>("attn.targets");
  if (!list)
    return 0;
  for (mlir::Attribute attr : list) {
    auto text = attr.dyn_cast<mlir::StringAttr>();
    if (!text)
      return driver::fail("attn.targets must hold strings");
    std::string target = text.getValue().str();
    if (target != "host" && !Halide::Target::validate_target_string(target))
      return driver::fail("'" + target +
                          "' is not a valid Halide target string");
  }
  return 0;
}

/// Checks that -o can name the output folder of --emit=lib.
/// Whether the existing file `file` lies inside the existing folder
/// `folder` (at any depth), comparing real paths.
bool isInside(const std::string &file, const std::string &folder) {
  llvm::SmallString<256> realFolder, realFile;
  if (llvm::sys::fs::real_path(folder, realFolder) ||
      llvm::sys::fs::real_path(file, realFile))
    return false;
  for (llvm::StringRef parent = llvm::sys::path::parent_path(realFile);
       !parent.empty(); parent = llvm::sys::path::parent_path(parent))
    if (parent == realFolder)
      return true;
  return false;
}

int checkOutputFolder(const std::string &path,
                      const std::vector<std::string> &inputs) {
  if (llvm::sys::fs::exists(path) && !llvm::sys::fs::is_directory(path))
    return driver::fail("'" + path +
                        "' exists and is not a folder; attnc compile writes "
                        "a folder of kernels there");
  // The folder is replaced whole: never with an input inside it.
  for (const std::string &input : inputs)
    if (!input.empty() && isInside(input, path))
      return driver::fail("the output folder '" + path + "' holds the input '" +
                          input +
                          "'; attnc compile replaces that folder whole, so "
                          "choose another -o");
  return 0;
}

void loadDialects(mlir::MLIRContext &context) {
  context.getOrLoadDialect<attn::AttnDialect>();
  context.getOrLoadDialect<mlir::arith::ArithmeticDialect>();
  context.getOrLoadDialect<mlir::StandardOpsDialect>();
}

/// Reads all of `file` if it holds at most kMaxInputBytes; reads one byte
/// more to tell. Reports errors and returns false.
bool readBounded(llvm::sys::fs::file_t file, const std::string &path,
                 std::string &data) {
  constexpr size_t kChunk = size_t(1) << 16;
  size_t size = 0;
  while (size <= kMaxInputBytes) {
    size_t want = std::min(kChunk, kMaxInputBytes + 1 - size);
    data.resize(size + want);
    llvm::Expected<size_t> got = llvm::sys::fs::readNativeFile(
        file, llvm::MutableArrayRef<char>(&data[size], want));
    if (!got) {
      driver::fail("cannot read '" + path +
                   "': " + llvm::toString(got.takeError()));
      return false;
    }
    if (*got == 0)
      break;
    size += *got;
  }
  data.resize(size);
  if (size > kMaxInputBytes) {
    driver::fail("'" + path + "' is larger than 16 MiB, the most attnc reads");
    return false;
  }
  return true;
}

/// Reads `path` ("-" is stdin) into a buffer named after it, refusing
/// inputs larger than kMaxInputBytes. Reports errors and returns null.
std::unique_ptr<llvm::MemoryBuffer> readInputFile(const std::string &path) {
  bool isStdin = path == "-";
  llvm::sys::fs::file_t file = llvm::sys::fs::getStdinHandle();
  if (!isStdin) {
    llvm::Expected<llvm::sys::fs::file_t> opened =
        llvm::sys::fs::openNativeFileForRead(path);
    if (!opened) {
      driver::fail("cannot open input file '" + path +
                   "': " + llvm::toString(opened.takeError()));
      return nullptr;
    }
    file = *opened;
  }
  std::string data;
  bool ok = readBounded(file, path, data);
  if (!isStdin)
    llvm::sys::fs::closeFile(file);
  if (!ok)
    return nullptr;
  return llvm::MemoryBuffer::getMemBufferCopy(data, isStdin ? "<stdin>" : path);
}

/// Reads `path` into a module before any pass; for .attn, runs the front
/// end. With `astOut`, stops after parsing and hands the AST over.
mlir::OwningOpRef<mlir::ModuleOp> readModule(const std::string &path,
                                             mlir::MLIRContext &context,
                                             llvm::SourceMgr &sourceMgr,
                                             std::unique_ptr<Module> *astOut) {
  std::unique_ptr<llvm::MemoryBuffer> input = readInputFile(path);
  if (!input)
    return nullptr;
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  loadDialects(context);
  if (llvm::StringRef(path).endswith(".mlir")) {
    if (!dtypeOverride.empty()) {
      driver::fail("--dtype applies to .attn files; an .mlir file's types "
                   "are its own");
      return nullptr;
    }
    return mlir::parseSourceFile(sourceMgr, &context);
  }
  Diagnostics diags(sourceMgr, llvm::errs());
  std::unique_ptr<Module> ast = parseModule(sourceMgr.getMainFileID(), diags);
  if (!ast)
    return nullptr;
  if (astOut) {
    *astOut = std::move(ast);
    return nullptr;
  }
  std::unique_ptr<CompileUnit> unit = analyze(*ast, diags);
  if (!unit)
    return nullptr;
  if (dtypeOverride == "f32" || dtypeOverride == "bf16") {
    unit->dtype =
        dtypeOverride == "bf16" ? ElementType::BF16 : ElementType::F32;
  } else if (!dtypeOverride.empty()) {
    driver::fail("unknown --dtype '" + dtypeOverride +
                 "'; expected f32 or bf16");
    return nullptr;
  }
  return mlirGen(context, *unit, sourceMgr);
}

mlir::LogicalResult optimize(mlir::ModuleOp module) {
  mlir::PassManager pm(module.getContext());
  mlir::applyPassManagerCLOptions(pm);
  buildDefaultPipeline(pm);
  return pm.run(module);
}

/// --schedule's values: family -> knob -> value.
using Overrides = std::map<std::string, std::map<std::string, int64_t>>;

/// Parses --schedule; an error names the bad item.
llvm::Expected<Overrides> parseOverrides() {
  Overrides overrides;
  for (const std::string &item : scheduleOverrides) {
    auto bad = [&](const std::string &why) {
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--schedule=" + item + ": " + why);
    };
    size_t dot = item.find('.'), equals = item.find('=');
    if (dot == std::string::npos || equals == std::string::npos || equals < dot)
      return bad("expected family.knob=value");
    std::string family = item.substr(0, dot),
                knob = item.substr(dot + 1, equals - dot - 1);
    const std::vector<schedules::Knob> &knobs = schedules::knobsOf(family);
    if (knobs.empty())
      return bad("no kernel family '" + family + "'");
    if (std::none_of(knobs.begin(), knobs.end(),
                     [&](const schedules::Knob &k) { return k.name == knob; }))
      return bad("family " + family + " has no knob '" + knob + "'");
    llvm::StringRef text = llvm::StringRef(item).drop_front(equals + 1);
    int64_t value;
    if (text.getAsInteger(10, value))
      return bad("'" + text.str() + "' is not an integer");
    overrides[family][knob] = value;
  }
  return overrides;
}

void applyOverrides(const Overrides &overrides, const std::string &family,
                    schedules::ScheduleParams &params) {
  auto it = overrides.find(family);
  if (it != overrides.end())
    for (const auto &[knob, value] : it->second)
      params.set(knob, value);
}

/// Plans from the tuning database (may be null) when it has measurements
/// for a kernel, else the defaults, with a notice; --schedule's values
/// replace both.
ParamsLookup lookupIn(std::shared_ptr<schedules::TuningDB> db,
                      Overrides overrides) {
  std::string machine = schedules::machineFingerprint();
  return [db, machine, overrides](const kernels::KernelSpec &spec,
                                  const std::string &targetText) {
    Halide::Target target = targetText == "host" ? Halide::get_host_target()
                                                 : Halide::Target(targetText);
    std::string family = spec.familyName();
    schedules::ScheduleParams defaults =
        schedules::defaultParamsFor(spec, schedules::classify(target));
    applyOverrides(overrides, family, defaults);
    if (!db)
      return std::make_pair(schedules::defaultPlan(family, defaults), false);
    auto [plan, tuned] = schedules::tunedPlan(
        *db, spec.canonical(), family, target.to_string(), machine, defaults);
    for (schedules::Variant &variant : plan)
      applyOverrides(overrides, family, variant.params);
    if (!tuned)
      llvm::errs() << "attnc: no tuned parameters for " << spec.name() << " on "
                   << target.to_string() << "; using the defaults\n";
    size_t buckets = std::count_if(plan.begin(), plan.end(), [](auto &v) {
      return v.shape.name.rfind("upto", 0) == 0;
    });
    if (buckets)
      llvm::errs() << "attnc: " << spec.name() << " gets " << buckets
                   << " length bucket(s) that beat its untuned plan\n";
    return std::make_pair(plan, tuned);
  };
}

int runCompile(bool compileCommand) {
  if (emit.getNumOccurrences() == 0)
    emit = compileCommand ? Stage::Lib : Stage::MLIROpt;
  if (sharedLibrary && emit != Stage::Lib)
    return driver::fail("--shared needs --emit=lib (attnc compile)");
  if (emit == Stage::Lib && outputFilename == "-")
    return driver::fail("--emit=lib writes a folder; name it with -o");
  if (emit == Stage::Lib)
    if (int status = checkOutputFolder(outputFilename,
                                       {inputFilename, tuningDb.getValue()}))
      return status;
  bool isMLIR = llvm::StringRef(inputFilename).endswith(".mlir");
  if (isMLIR && emit == Stage::AST)
    return driver::fail("--emit=ast needs a .attn input; '" + inputFilename +
                        "' is MLIR");

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output;
  if (emit != Stage::Lib) {
    output = mlir::openOutputFile(outputFilename, &error);
    if (!output)
      return driver::fail(error);
  }
  llvm::SourceMgr sourceMgr;
  mlir::MLIRContext context;
  mlir::SourceMgrDiagnosticHandler diagnosticHandler(sourceMgr, &context);
  if (emit == Stage::AST) {
    std::unique_ptr<Module> ast;
    readModule(inputFilename, context, sourceMgr, &ast);
    if (!ast)
      return 1;
    dumpAST(*ast, sourceMgr, output->os());
    output->keep();
    return 0;
  }
  mlir::OwningOpRef<mlir::ModuleOp> module =
      readModule(inputFilename, context, sourceMgr, nullptr);
  if (!module)
    return 1;
  if (int status = applyTargetOverride(*module))
    return status;
  if (int status = applyWeightsOverride(*module))
    return status;
  if (int status = checkTargets(*module))
    return status;
  if (!unitName.empty()) {
    bool valid = !std::isdigit(static_cast<unsigned char>(unitName[0]));
    for (char c : unitName)
      valid =
          valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!valid)
      return driver::fail("--unit must be a C identifier, got '" + unitName +
                          "'");
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
  if (mlir::failed(optimize(*module)))
    return 1;
  if (emit == Stage::MLIROpt)
    return printModule();
  // Errors from here on are about kernels and name them; printing the whole
  // module under each would bury them.
  context.printOpOnDiagnostic(false);
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
  llvm::Expected<Overrides> overrides = parseOverrides();
  if (!overrides)
    return driver::fail(llvm::toString(overrides.takeError()));
  std::shared_ptr<schedules::TuningDB> db;
  if (!tuningDb.empty()) {
    try {
      db = std::make_shared<schedules::TuningDB>(
          schedules::TuningDB::load(tuningDb));
    } catch (const std::exception &e) {
      return driver::fail(e.what());
    }
  }
  if (db || !overrides->empty())
    options.params = lookupIn(db, std::move(*overrides));
  if (mlir::failed(emitLibraries(*module, options)))
    return 1;
  return sharedLibrary ? driver::linkSharedLibrary(outputFilename, argv0) : 0;
}

} // namespace

int attnc::driver::fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "attnc") << message << "\n";
  return 1;
}

mlir::OwningOpRef<mlir::ModuleOp>
attnc::driver::loadOptimizedModule(const std::string &path,
                                   mlir::MLIRContext &context,
                                   llvm::SourceMgr &sourceMgr) {
  static mlir::SourceMgrDiagnosticHandler *handler = nullptr;
  handler = new mlir::SourceMgrDiagnosticHandler(sourceMgr, &context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      readModule(path, context, sourceMgr, nullptr);
  if (!module || mlir::failed(optimize(*module)))
    return nullptr;
  return module;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  argv0 = argv[0];
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
          "  attnc compile model.attn --shared -o out/   also "
          "out/lib<unit>.so\n"
          "  attnc model.attn [--emit=ast|mlir|mlir-opt|halide-stmt|asm]\n"
          "  attnc tune model.attn [--budget=300]   measure schedules here\n"
          "  attnc tuning-db merge|show ...\n",
          &llvm::errs()))
    return 1;
  int status = driver::runTuningCommands();
  if (status >= 0)
    return status;
  return runCompile(compileCommand);
}
