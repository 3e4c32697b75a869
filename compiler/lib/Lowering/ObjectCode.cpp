//===- ObjectCode.cpp - Halide pipelines to files, CPU features pinned ----===//
//
// See ObjectCode.h: native outputs go through Halide's LLVM module, whose
// "halide_mattrs" module flag (the features Halide's make_target_machine
// passes to LLVM) gains "-avx512fp16"; every other output is Halide's.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/ObjectCode.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

using Halide::OutputFileType;

bool attnc::withoutAVX512FP16(llvm::Module &module) {
  auto *features = llvm::dyn_cast_or_null<llvm::MDString>(
      module.getModuleFlag("halide_mattrs"));
  if (!features)
    return false;
  std::string text = features->getString().str();
  // The features Halide 14 adds for avx512_sapphirerapids.
  if (text.find("+avx512bf16") == std::string::npos ||
      text.find("-avx512fp16") != std::string::npos)
    return false;
  module.setModuleFlag(
      llvm::Module::Warning, "halide_mattrs",
      llvm::MDString::get(module.getContext(), text + ",-avx512fp16"));
  return true;
}

void attnc::compileHalideModule(
    const Halide::Module &module,
    const std::map<OutputFileType, std::string> &outputs) {
  std::map<OutputFileType, std::string> native, rest;
  for (const auto &[type, path] : outputs)
    (type == OutputFileType::object || type == OutputFileType::assembly
         ? native
         : rest)[type] = path;
  // Submodules (Hexagon offload) take Halide's own path.
  if (native.empty() || !module.submodules().empty()) {
    module.compile(outputs);
    return;
  }
  if (!rest.empty())
    module.compile(rest);
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> code =
      Halide::compile_module_to_llvm_module(module, context);
  withoutAVX512FP16(*code);
  for (const auto &[type, path] : native) {
    std::unique_ptr<llvm::raw_fd_ostream> out =
        Halide::make_raw_fd_ostream(path);
    if (type == OutputFileType::object)
      Halide::compile_llvm_module_to_object(*code, *out);
    else
      Halide::compile_llvm_module_to_assembly(*code, *out);
  }
}

void attnc::compileHalideRuntime(const std::string &objectPath,
                                 const Halide::Target &target) {
  Halide::Module runtime("standalone_runtime",
                         target.without_feature(Halide::Target::NoRuntime)
                             .without_feature(Halide::Target::JIT));
  compileHalideModule(runtime, {{OutputFileType::object, objectPath}});
}
