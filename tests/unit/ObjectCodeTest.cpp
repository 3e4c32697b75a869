//===- ObjectCodeTest.cpp - No AVX512-FP16 in avx512_sapphirerapids code --===//
//
// Halide 14 compiles avx512_sapphirerapids for LLVM's "sapphirerapids" CPU,
// which lets LLVM use AVX512-FP16 instructions that AMD Zen 4 and 5 (which
// have that Halide feature) lack. A pipeline that loads 16-bit values one by
// one shows it: Halide's own Module::compile emits `vmovw`; attnc's
// compileHalideModule must not emit any FP16 instruction.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/ObjectCode.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include "gtest/gtest.h"

#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace {

const char *kSapphireRapids =
    "x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-"
    "avx512_skylake-f16c-fma-sse41-no_runtime";

/// A gather of f16 weights: each lane loads one 16-bit value.
Halide::Module gatherOfHalves(const Halide::Target &target) {
  using namespace Halide;
  ImageParam x(Float(32), 1, "x"), w(Float(16), 3, "w");
  Var n("n");
  RDom k(0, 256);
  Func product("product"), out("out");
  product(n) = 0.0f;
  product(n) += x(k) * cast<float>(w(n % 16, k, n / 16));
  out(n) = product(n);
  out.vectorize(n, 16);
  return out.compile_to_module({x, w}, "gather_of_halves", target);
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The AVX512-FP16 instructions in `assembly`: vmovw, and those on packed
/// or scalar halves (mnemonics ending in ph or sh, but for F16C's
/// vcvtps2ph).
int fp16Instructions(const std::string &assembly) {
  static const std::regex fp16(R"(\n\s*(vmovw|v(?!cvtps2ph)[a-z0-9]+[ps]h)\s)");
  return int(std::distance(
      std::sregex_iterator(assembly.begin(), assembly.end(), fp16),
      std::sregex_iterator()));
}

std::string temporaryPath(const char *name) {
  return ::testing::TempDir() + name + std::to_string(getpid()) + ".s";
}

TEST(ObjectCode, SapphireRapidsCodeHasNoFP16Instructions) {
  Halide::Module module = gatherOfHalves(Halide::Target(kSapphireRapids));
  std::string halides = temporaryPath("halide_"),
              ours = temporaryPath("attnc_");
  module.compile({{Halide::OutputFileType::assembly, halides}});
  attnc::compileHalideModule(module,
                             {{Halide::OutputFileType::assembly, ours}});
  // The hazard is real with this Halide and LLVM: without the fix, FP16.
  EXPECT_GT(fp16Instructions(readFile(halides)), 0);
  std::string assembly = readFile(ours);
  EXPECT_NE(assembly.find("gather_of_halves"), std::string::npos);
  EXPECT_EQ(fp16Instructions(assembly), 0);
  std::remove(halides.c_str());
  std::remove(ours.c_str());
}

TEST(ObjectCode, OtherTargetsKeepTheirFeatures) {
  Halide::Module module = gatherOfHalves(Halide::Target(
      "x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41-no_runtime"));
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> code =
      Halide::compile_module_to_llvm_module(module, context);
  EXPECT_FALSE(attnc::withoutAVX512FP16(*code));
  Halide::Module sapphire = gatherOfHalves(Halide::Target(kSapphireRapids));
  code = Halide::compile_module_to_llvm_module(sapphire, context);
  EXPECT_TRUE(attnc::withoutAVX512FP16(*code));
  EXPECT_FALSE(attnc::withoutAVX512FP16(*code)); // Once is enough.
}

} // namespace
