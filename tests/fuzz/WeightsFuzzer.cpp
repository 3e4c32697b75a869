//===- WeightsFuzzer.cpp - libFuzzer target for the weights loader --------===//
//
// Feeds arbitrary bytes to attnc::Weights::parse, the in-memory entry point
// that shares every check with Weights::load. The only acceptable outcomes
// are a loaded set of tensors (each of which is then read end to end) or an
// attnc::Error; any other exception, a crash, an ASan or UBSan report, a
// leak, or an allocation larger than the input allows is a bug. Built by
// tests/fuzz/CMakeLists.txt with clang++ -fsanitize=fuzzer,address,undefined.
//
//===----------------------------------------------------------------------===//

#include "attnc/Runtime.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

/// Reads every element of `tensor`, so ASan sees any short allocation.
uint32_t touch(const attnc::Tensor &tensor) {
  const uint32_t *words =
      tensor.dtype() == attnc::DType::F32
          ? reinterpret_cast<const uint32_t *>(tensor.f32Data())
          : reinterpret_cast<const uint32_t *>(tensor.i32Data());
  uint32_t sum = 0;
  for (int64_t i = 0; i < tensor.numel(); ++i)
    sum += words[i];
  return sum;
}

} // namespace

/// libFuzzer's entry point: one input, parsed as a safetensors file.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  try {
    attnc::Weights weights = attnc::Weights::parse("fuzz.safetensors", bytes);
    volatile uint32_t sink = 0;
    for (const std::string &name : weights.names())
      sink = sink + touch(weights.get(name));
  } catch (const attnc::Error &) {
    // A refused input: the expected outcome for almost every input.
  }
  return 0;
}
