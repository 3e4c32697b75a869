//===- Emit.cpp - Ahead-of-time kernels, runtime and manifest -------------===//
//
// Collects the unique kernels of a module (ops with equal specs share one),
// compiles each for every target and shape class with Halide, writes one
// standalone Halide runtime per target, and records everything the runtime
// and the build need in manifest.json, including each function's program:
// its values (with shapes, -1 where dynamic) and its steps. The output
// folder appears whole or not at all: everything is written into a
// temporary sibling folder, which replaces the output folder only once every
// file is written, and is removed on any failure.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/Emit.h"
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Lowering/KernelTable.h"
#include "attnc/Lowering/Manifest.h"
#include "attnc/Lowering/ObjectCode.h"
#include "attnc/Lowering/OpToKernel.h"
#include "attnc/Schedules/Build.h"
#include "attnc/Schedules/Schedules.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

using namespace mlir;
using namespace attnc;
using nlohmann::json;
namespace k = attnc::kernels;
namespace s = attnc::schedules;

namespace {

/// Every kernel of a module, and which op runs which.
struct KernelTable {
  std::map<std::string, k::KernelSpec> specs; ///< By name, sorted.
  llvm::DenseMap<Operation *, std::string> opKernel;
};

FailureOr<KernelTable> collectKernels(ModuleOp module) {
  KernelTable table;
  bool ok = true;
  module.walk([&](FuncOp function) {
    for (Operation &op : function.getBody().getOps()) {
      FailureOr<std::optional<k::KernelSpec>> spec = kernelSpecOf(&op);
      if (failed(spec)) {
        ok = false;
        continue;
      }
      if (!*spec)
        continue;
      std::string name = (*spec)->name();
      table.specs.emplace(name, **spec);
      table.opKernel[&op] = name;
    }
  });
  if (!ok)
    return failure();
  return table;
}

std::vector<std::string> targetsOf(ModuleOp module) {
  std::vector<std::string> targets;
  if (auto list = module->getAttrOfType<ArrayAttr>("attn.targets"))
    for (Attribute attr : list)
      targets.push_back(attr.cast<StringAttr>().getValue().str());
  if (targets.empty())
    targets.push_back("host");
  return targets;
}

FailureOr<Halide::Target> parseTarget(ModuleOp module,
                                      const std::string &text) {
  if (text == "host")
    return Halide::get_host_target();
  if (!Halide::Target::validate_target_string(text)) {
    module.emitError() << "'" << text << "' is not a valid Halide target";
    return failure();
  }
  return Halide::Target(text);
}

std::string unitName(ModuleOp module) {
  if (Optional<StringRef> name = module.getName())
    return name->str();
  return "attnc";
}

json signatureJSON(const k::KernelSpec &spec) {
  json args = json::array();
  for (const k::ArgumentSig &arg : spec.signature()) {
    json dims = json::array();
    for (const k::Dim &dim : arg.dims)
      dims.push_back(dim.extent >= 0 ? json(dim.extent) : json(dim.symbol));
    const char *kind = arg.kind == k::ArgumentSig::Kind::Input    ? "input"
                       : arg.kind == k::ArgumentSig::Kind::Scalar ? "scalar"
                                                                  : "output";
    args.push_back({{"name", arg.name},
                    {"kind", kind},
                    {"dtype", arg.dtype},
                    {"dims", dims}});
  }
  return args;
}

std::string typeName(Type element) {
  if (element.isF32())
    return "f32";
  if (element.isBF16())
    return "bf16";
  if (element.isInteger(32))
    return "i32";
  std::string text;
  llvm::raw_string_ostream os(text);
  os << element;
  return os.str();
}

std::string locationText(Location loc) {
  if (auto file = loc.dyn_cast<FileLineColLoc>())
    return (llvm::sys::path::filename(file.getFilename().getValue()) + ":" +
            llvm::Twine(file.getLine()) + ":" + llvm::Twine(file.getColumn()))
        .str();
  return "";
}

/// The program of one function, for the runtime.
json programJSON(FuncOp function, const KernelTable &table) {
  llvm::DenseMap<Value, int> ids;
  json values = json::array();
  auto define = [&](Value value) {
    int id = int(ids.size());
    ids[value] = id;
    auto type = value.getType().cast<ShapedType>();
    json shape = json::array();
    for (int64_t d : type.getShape())
      shape.push_back(d == ShapedType::kDynamicSize ? -1 : d);
    values.push_back({{"id", id},
                      {"dtype", typeName(type.getElementType())},
                      {"shape", shape}});
    return id;
  };
  json inputs = json::array(), outputs = json::array(), steps = json::array();
  // Names and roles recorded by MLIRGen; a function from a .mlir file may
  // lack them (then it has generic names and no roles).
  auto stringAt = [&](StringRef attr, unsigned i) -> std::string {
    auto list = function->getAttrOfType<ArrayAttr>(attr);
    if (!list || i >= list.size() || !list[i].isa<StringAttr>())
      return "";
    return list[i].cast<StringAttr>().getValue().str();
  };
  auto port = [&](StringRef names, StringRef roles, unsigned i,
                  const std::string &fallback, int value) {
    std::string name = stringAt(names, i);
    json entry = {{"name", name.empty() ? fallback + std::to_string(i) : name},
                  {"value", value}};
    std::string role = stringAt(roles, i);
    if (!role.empty())
      entry["role"] = role;
    return entry;
  };
  for (BlockArgument arg : function.getArguments())
    inputs.push_back(port("attn.arg_names", "attn.arg_roles",
                          arg.getArgNumber(), "arg", define(arg)));
  for (Operation &op : function.getBody().getOps()) {
    if (auto ret = dyn_cast<ReturnOp>(op)) {
      for (unsigned i = 0; i < ret.getNumOperands(); ++i)
        outputs.push_back(port("attn.result_names", "attn.result_roles", i,
                               "result", ids[ret.getOperand(i)]));
      continue;
    }
    json step = {{"op", op.getName().stripDialect().str()}};
    json operands = json::array();
    for (Value operand : op.getOperands())
      operands.push_back(ids[operand]);
    step["operands"] = operands;
    if (auto param = dyn_cast<attn::ParamOp>(op))
      step["name"] = param.getName().str();
    if (auto slice = dyn_cast<attn::SliceOp>(op))
      step["slice"] = {{"axis", slice.getAxisAttr().getInt()},
                       {"offset", slice.getOffsetAttr().getInt()},
                       {"size", slice.getSizeAttr().getInt()}};
    if (auto concat = dyn_cast<attn::ConcatOp>(op))
      step["axis"] = concat.getAxisAttr().getInt();
    auto kernel = table.opKernel.find(&op);
    if (kernel != table.opKernel.end())
      step["kernel"] = kernel->second;
    json results = json::array();
    for (Value result : op.getResults())
      results.push_back(define(result));
    step["results"] = results;
    std::string where = locationText(op.getLoc());
    if (!where.empty())
      step["loc"] = where;
    steps.push_back(step);
  }
  json program = {{"name", function.getName().str()},
                  {"inputs", inputs},
                  {"outputs", outputs},
                  {"values", values},
                  {"steps", steps}};
  if (auto maxLen = function->getAttrOfType<IntegerAttr>("attn.max_len"))
    program["max_len"] = maxLen.getInt();
  if (auto kind = function->getAttrOfType<StringAttr>("attn.function_kind"))
    program["kind"] = kind.getValue().str();
  if (auto model = function->getAttrOfType<StringAttr>("attn.model"))
    program["model"] = model.getValue().str();
  return program;
}

std::pair<s::KernelPlan, bool> planFor(const EmitOptions &options,
                                       const k::KernelSpec &spec,
                                       const std::string &halideTarget,
                                       const Halide::Target &target) {
  if (options.params)
    return options.params(spec, halideTarget);
  std::string family = spec.familyName();
  return {
      s::defaultPlan(family, s::defaultParamsFor(spec, s::classify(target))),
      false};
}

/// One kernel function to compile.
struct CompileJob {
  k::KernelSpec spec;
  s::ScheduleParams params;
  Halide::Target target;
  std::string algorithm, function;
  std::map<Halide::OutputFileType, std::string> outputs;
};

/// Builds and compiles one job in this process; returns an error or "".
std::string compileHere(const CompileJob &job) {
  try {
    s::BuiltKernel built =
        s::buildKernel(job.spec, job.params, job.target, job.algorithm);
    compileHalideModule(built.pipeline.compile_to_module(
                            built.arguments, job.function,
                            job.target.with_feature(Halide::Target::NoRuntime)),
                        job.outputs);
    return "";
  } catch (const Halide::Error &error) {
    return std::string("Halide: ") + error.what();
  } catch (const std::exception &error) {
    return error.what();
  }
}

/// Runs every job in a child process, at most `jobs` at once. Returns the
/// error of each job ("" on success).
std::vector<std::string>
compileInChildren(const std::vector<CompileJob> &all, unsigned jobs,
                  const std::function<void(const std::string &)> &progress) {
  std::vector<std::string> errors(all.size());
  std::map<pid_t, size_t> running;
  auto reap = [&] {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid <= 0)
      return;
    size_t i = running[pid];
    running.erase(pid);
    std::string path = all[i].outputs.begin()->second + ".error";
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::remove(path.c_str());
    errors[i] = text.str();
    if (errors[i].empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      errors[i] = WIFSIGNALED(status) ? "the compiler died with signal " +
                                            std::to_string(WTERMSIG(status))
                                      : "the compiler exited with status " +
                                            std::to_string(WEXITSTATUS(status));
  };
  for (size_t i = 0; i < all.size(); ++i) {
    while (running.size() >= jobs)
      reap();
    if (progress)
      progress("[" + std::to_string(i + 1) + "/" + std::to_string(all.size()) +
               "] " + all[i].function);
    llvm::outs().flush();
    llvm::errs().flush();
    pid_t pid = fork();
    if (pid == 0) {
      std::string error = compileHere(all[i]);
      if (!error.empty()) {
        std::ofstream out(all[i].outputs.begin()->second + ".error");
        out << error;
      }
      _exit(error.empty() ? 0 : 1);
    }
    if (pid < 0) {
      errors[i] = compileHere(all[i]); // No fork: compile here instead.
      continue;
    }
    running[pid] = i;
  }
  while (!running.empty())
    reap();
  return errors;
}

/// `text` as a C string literal, one source line per line of text.
std::string cString(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n\"\n    \"";
      break;
    default:
      out += c;
    }
  }
  return out + "\"";
}

/// The C source of the registry of one target (see runtime/.../registry.h).
std::string registrySource(const std::string &unit, const json &target,
                           const json &manifest, const std::string &text) {
  std::string tag = target["tag"];
  std::string decls, entries;
  int count = 0;
  for (const auto &[kernel, info] : manifest["kernels"].items()) {
    if (!info["targets"].contains(tag))
      continue;
    for (const json &function : info["targets"][tag]["functions"]) {
      std::string symbol = function["symbol"];
      decls += "extern int " + symbol + "_argv(void **args);\n";
      decls += "extern const struct halide_filter_metadata_t *" + symbol +
               "_metadata(void);\n";
      std::string shapeClass, dimension, max = "0";
      if (function.contains("shape_class")) {
        shapeClass = function["shape_class"]["name"];
        dimension = function["shape_class"]["dimension"];
        max = std::to_string(function["shape_class"]["max"].get<int64_t>());
      }
      entries += "  {\"" + kernel + "\", \"" + shapeClass + "\", \"" +
                 dimension + "\", " + max + ", \"" + symbol + "\", " + symbol +
                 "_argv, " + symbol + "_metadata},\n";
      ++count;
    }
  }
  std::string halideTarget = target["halide_target"];
  // GPU kernels: the device interface of Halide's runtime of this target.
  std::string deviceInterface = "0";
  Halide::Target parsed(halideTarget);
  for (auto [feature, name] :
       {std::pair{Halide::Target::CUDA, "halide_cuda_device_interface"},
        std::pair{Halide::Target::OpenCL, "halide_opencl_device_interface"}})
    if (parsed.has_feature(feature)) {
      deviceInterface = name;
      decls += "extern const struct halide_device_interface_t *" +
               deviceInterface + "(void);\n";
    }
  return "/* Generated by attnc for unit '" + unit + "', target " + tag +
         ". Do not edit. */\n"
         "#include \"attnc/registry.h\"\n\n" +
         decls + "\nstatic const attnc_kernel_entry entries[] = {\n" + entries +
         "  {0, 0, 0, 0, 0, 0, 0}};\n\n"
         "static const char manifest[] =\n    " +
         cString(text) +
         ";\n\n"
         "const attnc_registry " +
         unit + "_registry__" + tag + " = {\"" + unit + "\", \"" + tag +
         "\", \"" + halideTarget + "\", entries, " + std::to_string(count) +
         ", manifest, " + deviceInterface + "};\n";
}

/// Packs `objects` into the archive `path` (deterministic, GNU format).
std::string writeArchive(const std::string &path,
                         const std::vector<std::string> &objects) {
  std::vector<llvm::NewArchiveMember> members;
  for (const std::string &object : objects) {
    llvm::Expected<llvm::NewArchiveMember> member =
        llvm::NewArchiveMember::getFile(object, /*Deterministic=*/true);
    if (!member)
      return llvm::toString(member.takeError());
    members.push_back(std::move(*member));
  }
  if (llvm::Error error = llvm::writeArchive(
          path, members, /*WriteSymtab=*/true, llvm::object::Archive::K_GNU,
          /*Deterministic=*/true, /*Thin=*/false))
    return llvm::toString(std::move(error));
  return "";
}

bool writeText(const std::string &path, const std::string &text) {
  std::ofstream out(path);
  out << text;
  return bool(out);
}

} // namespace

FailureOr<std::vector<k::KernelSpec>>
attnc::collectKernelSpecs(ModuleOp module) {
  FailureOr<KernelTable> table = collectKernels(module);
  if (failed(table))
    return failure();
  std::vector<k::KernelSpec> specs;
  for (const auto &entry : table->specs)
    specs.push_back(entry.second);
  return specs;
}

std::string attnc::targetTag(const std::string &halideTarget) {
  if (halideTarget == "host")
    return "host";
  if (!Halide::Target::validate_target_string(halideTarget)) {
    std::string tag = halideTarget;
    for (char &c : tag)
      if (!isalnum(static_cast<unsigned char>(c)))
        c = '_';
    return tag;
  }
  Halide::Target target(halideTarget);
  switch (s::classify(target)) {
  case s::TargetClass::CUDA:
    return "cuda";
  case s::TargetClass::OpenCL:
    return "opencl";
  case s::TargetClass::ARM64:
    return "arm64";
  case s::TargetClass::X86AVX512:
    return "avx512";
  case s::TargetClass::X86AVX2:
    return "avx2";
  case s::TargetClass::Generic:
    break;
  }
  std::string tag = halideTarget;
  for (char &c : tag)
    if (!isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return tag;
}

std::string attnc::kernelFunctionName(const std::string &unit,
                                      const k::KernelSpec &spec,
                                      const std::string &shapeClass,
                                      const std::string &tag) {
  std::string name = unit + "_" + spec.name();
  if (!shapeClass.empty())
    name += "_" + shapeClass;
  return name + "__" + tag;
}

namespace {

/// Linear weights in fewer bytes than f32, and bf16 activations, run on
/// CPU targets only: GPU schedules have not been tried with them. (Sema
/// refuses them with a GPU on the file's target line; this catches
/// --target.)
LogicalResult checkWeightTypes(ModuleOp module, const Halide::Target &target,
                               const std::string &targetText) {
  if (!target.has_gpu_feature())
    return success();
  if (auto dtype = module->getAttrOfType<TypeAttr>("attn.dtype"))
    if (dtype.getValue().isBF16()) {
      module.emitError() << "uses bf16 activations (dtype bf16), which run "
                         << "on CPU targets only, and target '" << targetText
                         << "' is a GPU; use dtype f32 for GPU targets";
      return failure();
    }
  WalkResult walk = module.walk([&](attn::LinearOp op) {
    if (op.getWeights() == attn::WeightType::F32)
      return WalkResult::advance();
    op.emitError() << "stores its weight as "
                   << attn::stringifyWeightType(op.getWeights())
                   << ", which runs on CPU targets only, and target '"
                   << targetText << "' is a GPU; use f32 weights for GPU "
                   << "targets";
    return WalkResult::interrupt();
  });
  return failure(walk.wasInterrupted());
}

/// Writes every output of emitLibraries into the folder `outputDir`.
LogicalResult emitInto(ModuleOp module, const EmitOptions &options,
                       const std::string &outputDir) {
  FailureOr<KernelTable> table = collectKernels(module);
  if (failed(table))
    return failure();
  std::string unit = unitName(module);
  std::vector<std::string> targets = targetsOf(module);

  json manifest = {{"format", kManifestFormat},
                   {"version", kManifestVersion},
                   {"unit", unit}};
  json targetList = json::array();
  json kernels = json::object();
  for (const auto &[name, spec] : table->specs)
    kernels[name] = {{"family", spec.familyName()},
                     {"spec", json::parse(spec.toJSON())},
                     {"canonical", spec.canonical()},
                     {"arguments", signatureJSON(spec)},
                     {"targets", json::object()}};

  unsigned jobs = options.jobs
                      ? options.jobs
                      : std::max(1u, std::thread::hardware_concurrency());
  for (const std::string &targetText : targets) {
    FailureOr<Halide::Target> target = parseTarget(module, targetText);
    if (failed(target))
      return failure();
    if (failed(checkWeightTypes(module, *target, targetText)))
      return failure();
    std::string tag = targetTag(targetText);
    std::string dir = outputDir + "/" + tag;
    if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
      module.emitError() << "cannot create '" << dir << "': " << ec.message();
      return failure();
    }
    std::vector<CompileJob> work;
    std::vector<std::string> objects;
    for (const auto &[name, spec] : table->specs) {
      auto [plan, tuned] = planFor(options, spec, targetText, *target);
      json functions = json::array();
      for (const auto &[shape, params] : plan) {
        std::string function = kernelFunctionName(unit, spec, shape.name, tag);
        std::string base = dir + "/" + function;
        CompileJob job{spec,
                       params,
                       *target,
                       shape.algorithm,
                       function,
                       {{Halide::OutputFileType::object, base + ".o"},
                        {Halide::OutputFileType::c_header, base + ".h"}}};
        if (options.emitStmt)
          job.outputs[Halide::OutputFileType::stmt] = base + ".stmt";
        if (options.emitAssembly)
          job.outputs[Halide::OutputFileType::assembly] = base + ".s";
        work.push_back(std::move(job));
        objects.push_back(base + ".o");
        json entry = {{"symbol", function},
                      {"object", tag + "/" + function + ".o"},
                      {"header", tag + "/" + function + ".h"},
                      {"params", json::parse(params.toJSON())}};
        if (!shape.name.empty())
          entry["shape_class"] = {{"name", shape.name},
                                  {"dimension", shape.dimension},
                                  {"max", shape.maxExtent}};
        functions.push_back(entry);
      }
      kernels[name]["targets"][tag] = {
          {"functions", functions},
          {"params", json::parse(plan.back().params.toJSON())},
          {"tuned", tuned}};
    }
    std::vector<std::string> errors =
        compileInChildren(work, jobs, options.progress);
    bool ok = true;
    for (size_t i = 0; i < work.size(); ++i)
      if (!errors[i].empty()) {
        module.emitError() << "cannot compile kernel " << work[i].function
                           << " (" << work[i].spec.canonical() << ") for "
                           << targetText << ": " << errors[i];
        ok = false;
      }
    if (!ok)
      return failure();
    std::string runtime = dir + "/halide_runtime.o";
    try {
      compileHalideRuntime(runtime, *target);
    } catch (const Halide::Error &error) {
      module.emitError() << "Halide failed to compile its runtime for "
                         << targetText << ": " << error.what();
      return failure();
    }
    objects.push_back(runtime);
    std::string archive = dir + "/lib" + unit + "_kernels.a";
    std::string archiveError = writeArchive(archive, objects);
    if (!archiveError.empty()) {
      module.emitError() << "cannot write " << archive << ": " << archiveError;
      return failure();
    }
    targetList.push_back({{"tag", tag},
                          {"halide_target", target->to_string()},
                          {"runtime", tag + "/halide_runtime.o"},
                          {"archive", tag + "/lib" + unit + "_kernels.a"},
                          {"registry", tag + "/" + unit + "_registry.c"}});
  }
  manifest["targets"] = targetList;
  manifest["kernels"] = kernels;
  json functions = json::array();
  module.walk([&](FuncOp function) {
    functions.push_back(programJSON(function, *table));
  });
  manifest["functions"] = functions;
  std::string manifestText = manifest.dump(2) + "\n";
  if (!writeText(outputDir + "/manifest.json", manifestText)) {
    module.emitError() << "cannot write " << outputDir << "/manifest.json";
    return failure();
  }
  for (const json &target : manifest["targets"]) {
    std::string tag = target["tag"];
    std::string path = outputDir + "/" + tag + "/" + unit + "_registry.c";
    if (!writeText(path,
                   registrySource(unit, target, manifest, manifestText))) {
      module.emitError() << "cannot write " << path;
      return failure();
    }
  }
  return success();
}

} // namespace

std::string attnc::stagingFolderFor(const std::string &outputDir) {
  return outputDir + ".tmp-" + std::to_string(getpid());
}

LogicalResult attnc::replaceFolder(const std::string &staging,
                                   const std::string &outputDir,
                                   std::string &error) {
  namespace fs = llvm::sys::fs;
  auto failWith = [&](const std::string &what, std::error_code ec) {
    error = what + ": " + ec.message();
    fs::remove_directories(staging);
    return failure();
  };
  if (!fs::exists(outputDir)) {
    if (std::error_code ec = fs::rename(staging, outputDir))
      return failWith("cannot rename '" + staging + "' to '" + outputDir + "'",
                      ec);
    return success();
  }
  if (!fs::is_directory(outputDir))
    return failWith("cannot write the folder '" + outputDir + "'",
                    std::make_error_code(std::errc::not_a_directory));
  std::string old = outputDir + ".old-" + std::to_string(getpid());
  fs::remove_directories(old);
  if (std::error_code ec = fs::rename(outputDir, old))
    return failWith("cannot move '" + outputDir + "' aside", ec);
  if (std::error_code ec = fs::rename(staging, outputDir)) {
    fs::rename(old, outputDir); // Put the previous output back.
    return failWith("cannot rename '" + staging + "' to '" + outputDir + "'",
                    ec);
  }
  fs::remove_directories(old);
  return success();
}

LogicalResult attnc::emitLibraries(ModuleOp module,
                                   const EmitOptions &options) {
  // Absolute and without "." or "..", so that `-o .` or `-o out/` still
  // has a sibling to stage into.
  llvm::SmallString<256> absolute(options.outputDir);
  llvm::sys::fs::make_absolute(absolute);
  llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
  std::string outputDir = absolute.str().str();
  while (outputDir.size() > 1 && outputDir.back() == '/')
    outputDir.pop_back();
  std::string staging = stagingFolderFor(outputDir);
  llvm::sys::fs::remove_directories(staging); // A crashed run's leftovers.
  if (std::error_code ec = llvm::sys::fs::create_directories(staging)) {
    module.emitError() << "cannot create '" << staging << "': " << ec.message();
    return failure();
  }
  if (failed(emitInto(module, options, staging))) {
    llvm::sys::fs::remove_directories(staging);
    return failure();
  }
  std::string error;
  if (failed(replaceFolder(staging, outputDir, error))) {
    module.emitError() << error;
    return failure();
  }
  return success();
}

LogicalResult attnc::emitForReview(ModuleOp module, ReviewOutput what,
                                   llvm::raw_ostream &os) {
  FailureOr<KernelTable> table = collectKernels(module);
  if (failed(table))
    return failure();
  std::string targetText = targetsOf(module).front();
  FailureOr<Halide::Target> target = parseTarget(module, targetText);
  if (failed(target))
    return failure();
  std::string unit = unitName(module);
  std::string tag = targetTag(targetText);
  llvm::SmallString<128> tmp;
  auto fileType = what == ReviewOutput::Stmt ? Halide::OutputFileType::stmt
                                             : Halide::OutputFileType::assembly;
  if (llvm::sys::fs::createTemporaryFile("attnc", "review", tmp)) {
    module.emitError("cannot create a temporary file");
    return failure();
  }
  for (const auto &[name, spec] : table->specs) {
    for (const s::Variant &variant :
         s::defaultPlan(spec.familyName(),
                        s::defaultParamsFor(spec, s::classify(*target)))) {
      const s::ShapeClass &shape = variant.shape;
      std::string function = kernelFunctionName(unit, spec, shape.name, tag);
      try {
        s::BuiltKernel built =
            s::buildKernel(spec, variant.params, *target, shape.algorithm);
        compileHalideModule(
            built.pipeline.compile_to_module(
                built.arguments, function,
                target->with_feature(Halide::Target::NoRuntime)),
            {{fileType, tmp.str().str()}});
      } catch (const std::exception &error) {
        module.emitError() << "cannot lower kernel " << function << ": "
                           << error.what();
        return failure();
      }
      std::ifstream in(tmp.str().str());
      std::stringstream text;
      text << in.rdbuf();
      os << "// ===== " << function << " (" << spec.canonical() << ")\n"
         << text.str() << "\n";
    }
  }
  llvm::sys::fs::remove(tmp);
  return success();
}
