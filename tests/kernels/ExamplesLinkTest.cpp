//===- ExamplesLinkTest.cpp - Every example's kernels link and run --------===//
//
// Links the attnc output of every example (kernels, Halide runtime,
// registry) and nothing of libHalide or LLVM (NoHalideOrLLVM checks the
// binary itself). Each kernel's Halide metadata must match its manifest
// signature, and each kernel must run on small inputs made from that
// signature and return finite outputs.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include "HalideRuntime.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <map>

extern "C" const attnc_registry transformer_registry__host; // examples/
extern "C" const attnc_registry example_decoder_gqa_registry__host;
extern "C" const attnc_registry example_cross_attention_registry__host;
extern "C" const attnc_registry example_sliding_alibi_registry__host;
extern "C" const attnc_registry example_bahdanau_registry__host;
extern "C" const attnc_registry example_prefix_lm_registry__host;

using namespace attnc;
using namespace attnc::test;

namespace {

const attnc_registry *const kRegistries[] = {
    &transformer_registry__host,
    &example_decoder_gqa_registry__host,
    &example_cross_attention_registry__host,
    &example_sliding_alibi_registry__host,
    &example_bahdanau_registry__host,
    &example_prefix_lm_registry__host};

/// Small values for the dynamic dimensions of a signature.
const std::map<std::string, int64_t> kSizes = {
    {"rows", 3}, {"batch", 2}, {"length", 4}, {"q_len", 5}, {"kv_len", 6}};

TEST(Examples, EveryKernelMatchesItsSignatureAndRuns) {
  int kernels = 0;
  for (const attnc_registry *registry : kRegistries) {
    KernelSet set(*registry);
    for (const auto &[name, spec] : set.specs()) {
      std::vector<kernels::ArgumentSig> signature = spec.signature();
      for (int e = 0; e < registry->num_entries; ++e) {
        const attnc_kernel_entry &entry = registry->entries[e];
        if (name != entry.kernel)
          continue;
        SCOPED_TRACE(entry.symbol);
        ++kernels;
        const halide_filter_metadata_t *metadata = entry.metadata();
        ASSERT_EQ(size_t(metadata->num_arguments), signature.size());
        std::vector<std::vector<float>> f32;
        std::vector<std::vector<int32_t>> i32;
        std::vector<std::vector<uint8_t>> narrow;
        std::vector<TensorArg> inputs, outputs;
        std::vector<int32_t> scalars;
        f32.reserve(signature.size());
        i32.reserve(signature.size());
        narrow.reserve(signature.size());
        for (size_t i = 0; i < signature.size(); ++i) {
          const kernels::ArgumentSig &arg = signature[i];
          EXPECT_STREQ(metadata->arguments[i].name, arg.name.c_str());
          if (arg.kind == kernels::ArgumentSig::Kind::Scalar) {
            scalars.push_back(0);
            continue;
          }
          EXPECT_EQ(metadata->arguments[i].dimensions, int(arg.dims.size()));
          std::vector<int64_t> shape;
          int64_t size = 1;
          for (const kernels::Dim &dim : arg.dims) {
            shape.push_back(dim.extent >= 0 ? dim.extent
                                            : kSizes.at(dim.symbol));
            size *= shape.back();
          }
          TensorArg tensor;
          tensor.shape = shape;
          if (arg.dtype == "i32") {
            // Token ids and key lengths: 1 is valid for both.
            i32.emplace_back(size, 1);
            tensor.i32 = i32.back().data();
          } else if (arg.dtype != "f32") {
            // A linear weight in bf16, f16 or int8 (zero bits: 0 in each).
            narrow.emplace_back(size_t(size) * 2, 0);
            tensor.narrow = narrow.back().data();
            tensor.narrowType =
                arg.dtype == "i8"     ? halide_type_t(halide_type_int, 8)
                : arg.dtype == "bf16" ? halide_type_t(halide_type_bfloat, 16)
                                      : halide_type_t(halide_type_float, 16);
          } else {
            f32.push_back(arg.kind == kernels::ArgumentSig::Kind::Output
                              ? std::vector<float>(size, NAN)
                              : randomTensor(size, uint32_t(i)));
            tensor.f32 = f32.back().data();
          }
          (arg.kind == kernels::ArgumentSig::Kind::Output ? outputs : inputs)
              .push_back(tensor);
        }
        ASSERT_EQ(KernelSet::call(entry, inputs, scalars, outputs), 0)
            << lastHalideError();
        for (const TensorArg &output : outputs) {
          int64_t size = 1;
          for (int64_t d : output.shape)
            size *= d;
          for (int64_t i = 0; i < size; ++i)
            ASSERT_TRUE(std::isfinite(output.f32[i])) << "element " << i;
        }
      }
    }
  }
  EXPECT_GT(kernels, 40);
}

} // namespace
