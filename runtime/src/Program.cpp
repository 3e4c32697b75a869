//===- Program.cpp - The manifest's program, parsed -----------------------===//

#include "Program.h"
#include "attnc/Lowering/Manifest.h"

#include <nlohmann/json.hpp>

using namespace attnc;
using namespace attnc::runtime;
using nlohmann::json;

Program attnc::runtime::parseProgram(const attnc_registry &registry) {
  Program program;
  if (registry.device_interface) {
    program.device.interface = registry.device_interface();
    // OpenCL passes a view at an offset as a sub-buffer, whose origin
    // devices want aligned to CL_DEVICE_MEM_BASE_ADDR_ALIGN: 4096 bits on
    // NVIDIA, 1024 on PoCL. CUDA takes any element offset.
    if (std::string(registry.halide_target).find("opencl") != std::string::npos)
      program.device.viewAlignment = 512;
  }
  json manifest;
  try {
    manifest = json::parse(registry.manifest_json);
  } catch (const json::exception &e) {
    throw Error(std::string("registry '") + registry.unit +
                "' has a corrupt manifest: " + e.what());
  }
  // The version first: a manifest of another version may mean other things
  // by the same fields.
  std::string where =
      std::string("the manifest (manifest.json) of registry '") +
      registry.unit + "'";
  if (!manifest.is_object() || manifest.value("format", "") != kManifestFormat)
    throw Error(where + " is not an attnc manifest: its format is not '" +
                kManifestFormat + "'");
  if (!manifest.contains("version") || !manifest["version"].is_number_integer())
    throw Error(where + " has no version; this runtime reads version " +
                std::to_string(kManifestVersion));
  int version = manifest["version"];
  if (version != kManifestVersion)
    throw Error(
        where + " has version " + std::to_string(version) +
        ", but this runtime reads version " + std::to_string(kManifestVersion) +
        "; compile the .attn file again with the attnc of this runtime");
  try {
    program.unit = manifest.at("unit");
    for (const auto &[name, info] : manifest.at("kernels").items()) {
      Kernel kernel;
      kernel.name = name;
      kernel.spec = kernels::KernelSpec::fromJSON(info.at("spec").dump());
      kernel.signature = kernel.spec.signature();
      // General variant last, so the first match of a call wins.
      for (int i = 0; i < registry.num_entries; ++i)
        if (name == registry.entries[i].kernel &&
            registry.entries[i].shape_class[0])
          kernel.entries.push_back(&registry.entries[i]);
      for (int i = 0; i < registry.num_entries; ++i)
        if (name == registry.entries[i].kernel &&
            !registry.entries[i].shape_class[0])
          kernel.entries.push_back(&registry.entries[i]);
      if (kernel.entries.empty() || kernel.entries.back()->shape_class[0])
        throw Error("registry '" + std::string(registry.unit) +
                    "' lacks the general function of kernel " + name);
      program.kernels.emplace(name, std::move(kernel));
    }
    for (const json &f : manifest.at("functions")) {
      Function function;
      function.name = f.at("name");
      function.maxLen = f.value("max_len", int64_t(0));
      function.kind = f.value("kind", "");
      function.model = f.value("model", "");
      for (const json &v : f.at("values")) {
        ValueInfo value;
        std::string dtype = v.at("dtype");
        if (dtype != "f32" && dtype != "i32" && dtype != "bf16")
          throw Error("function " + function.name + " uses dtype " + dtype +
                      ", which this runtime does not execute");
        if (dtype == "bf16" && program.device.interface)
          throw Error("function " + function.name +
                      " has bf16 activations, which this runtime executes "
                      "on the host only, and registry '" +
                      registry.unit + "' is for a GPU");
        value.dtype = dtype == "i32" ? DType::I32 : DType::F32;
        value.bf16 = dtype == "bf16";
        value.shape = v.at("shape").get<std::vector<int64_t>>();
        function.values.push_back(value);
      }
      for (const json &input : f.at("inputs")) {
        function.inputs.emplace_back(input.at("name"), input.at("value"));
        function.inputRoles.push_back(input.value("role", ""));
      }
      for (const json &output : f.at("outputs")) {
        function.outputs.emplace_back(output.at("name"), output.at("value"));
        function.outputRoles.push_back(output.value("role", ""));
      }
      for (const json &s : f.at("steps")) {
        Step step;
        step.op = s.at("op");
        step.operands = s.at("operands").get<std::vector<int>>();
        step.results = s.at("results").get<std::vector<int>>();
        step.kernel = s.value("kernel", "");
        step.paramName = s.value("name", "");
        step.loc = s.value("loc", "");
        if (s.contains("slice")) {
          step.axis = s["slice"].at("axis");
          step.offset = s["slice"].at("offset");
          step.size = s["slice"].at("size");
        }
        if (s.contains("axis"))
          step.axis = s["axis"];
        if (!step.kernel.empty() && !program.kernels.count(step.kernel))
          throw Error("function " + function.name + " calls kernel " +
                      step.kernel + ", which registry '" + registry.unit +
                      "' lacks");
        function.steps.push_back(std::move(step));
      }
      program.functions.emplace(function.name, std::move(function));
    }
  } catch (const json::exception &e) {
    throw Error(std::string("registry '") + registry.unit +
                "' has a malformed manifest: " + e.what());
  } catch (const std::invalid_argument &e) {
    throw Error(std::string("registry '") + registry.unit +
                "' has a malformed kernel spec: " + e.what());
  }
  return program;
}
