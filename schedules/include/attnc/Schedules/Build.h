//===- Build.h - A kernel spec, scheduled, as a Halide pipeline -*- C++ -*-===//
//
// The one function that turns a spec into something Halide can compile:
// build the family's algorithm, apply its schedule for the target and shape
// class, and return the pipeline with its arguments. Used by the emitter,
// the tuner and the kernel tests alike.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_SCHEDULES_BUILD_H
#define ATTNC_SCHEDULES_BUILD_H

#include "attnc/Lowering/KernelSpec.h"
#include "attnc/Schedules/Params.h"

#include "Halide.h"

#include <string>
#include <vector>

namespace attnc {
namespace schedules {

struct BuiltKernel {
  Halide::Pipeline pipeline;
  /// Inputs in call order: the op's operands, then scalar parameters.
  std::vector<Halide::Argument> arguments;
  std::vector<std::string> outputNames;
  /// The inputs as parameter objects, for JIT runs (the tuner).
  std::vector<Halide::ImageParam> images;
  std::vector<Halide::Param<int32_t>> scalars;
  std::vector<Halide::Func> outputs;
};

/// Builds and schedules `spec`. Throws Halide::CompileError (or
/// std::exception) if the schedule is invalid for the spec.
BuiltKernel buildKernel(const kernels::KernelSpec &spec,
                        const ScheduleParams &params,
                        const Halide::Target &target,
                        const std::string &shapeClass);

} // namespace schedules
} // namespace attnc

#endif // ATTNC_SCHEDULES_BUILD_H
