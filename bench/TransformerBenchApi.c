/*===- TransformerBenchApi.c - The transformer for ctypes ------------------===
 *
 * Linked into libattnc_transformer.so with the runtime (whole, so its C API
 * is exported) and examples/transformer's kernels, for
 * bench/transformer_bench.py to drive next to PyTorch in one process.
 *
 *===----------------------------------------------------------------------===*/

#include "attnc/registry.h"

extern const attnc_registry transformer_registry__host;

const attnc_registry *attnc_bench_transformer_registry(void) {
  return &transformer_registry__host;
}
