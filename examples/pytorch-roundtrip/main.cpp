//===- main.cpp - The exported model from C++, through its .so ------------===//
//
// The second half of examples/pytorch-roundtrip: links out/libnet.so, the
// library `attnc compile --shared` built from the exported PyTorch model,
// and decodes the same source sentences through the C API
// (runtime/include/attnc/attnc.h), printing the tokens one row per line.
// run.sh checks they are the tokens Python got from the same library.
//
//   main <net.safetensors>
//
//===----------------------------------------------------------------------===//

#include "attnc/attnc.h"

#include <cstdint>
#include <cstdio>
#include <vector>

extern "C" const attnc_registry *attnc_library_registry(void);

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <net.safetensors>\n", argv[0]);
    return 2;
  }
  attnc_model *model = nullptr;
  if (attnc_model_load(attnc_library_registry(), argv[1], &model)) {
    std::fprintf(stderr, "error: %s\n", attnc_last_error());
    return 1;
  }
  // The sentences of roundtrip.py (SRC, SRC_LENGTHS).
  const int64_t batch = 2, length = 7, steps = 12;
  std::vector<int32_t> src = {5, 9, 14, 3, 22, 7, 30, 11, 4, 8, 0, 0, 0, 0};
  std::vector<int32_t> lengths = {7, 3};
  std::vector<int32_t> tokens(batch * steps);
  std::vector<int64_t> counts(batch);
  if (attnc_model_greedy_decode(model, src.data(), lengths.data(), batch,
                                length, /*bos=*/1, /*eos=*/2, steps,
                                tokens.data(), counts.data())) {
    std::fprintf(stderr, "error: %s\n", attnc_last_error());
    attnc_model_free(model);
    return 1;
  }
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < counts[b]; ++t)
      std::printf("%d%s", tokens[b * steps + t],
                  t + 1 < counts[b] ? " " : "\n");
  attnc_model_free(model);
  return 0;
}
