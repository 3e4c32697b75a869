/*===- BenchApi.c - attnc's benchmark models for ctypes --------------------===
 *
 * Linked into libattnc_bench.so with the runtime (whole, so that its C API
 * is exported) and the kernels of the benchmark models, so that the Python
 * benchmarks (bench/transformer_bench.py, bench/compare/) can drive attnc
 * next to PyTorch in one process:
 *   "transformer"  examples/transformer, the 6+6 encoder-decoder
 *   "transformer_bf16_activations"  the same with bf16 activations
 *   "layer"        bench/layer.attn, the same with 1+1 layers
 *   "attention"    bench/attention.attn, the attention-only functions, with
 *                 the schedules tuned in bench/tuning/attention.json
 * With ATTNC_BENCH_GPU_TRANSFORMER (libattnc_{cuda,opencl}_bench.so): only
 * "transformer", from that registry, the 6+6 model compiled for the GPU
 * (bench/transformer_bench.py --device cuda; scripts/gpu-check.sh).
 *
 *===----------------------------------------------------------------------===*/

#include "attnc/registry.h"

#include <string.h>

#ifdef ATTNC_BENCH_GPU_TRANSFORMER
extern const attnc_registry ATTNC_BENCH_GPU_TRANSFORMER;

const attnc_registry *attnc_bench_registry(const char *name) {
  return strcmp(name, "transformer") == 0 ? &ATTNC_BENCH_GPU_TRANSFORMER : 0;
}
#else
extern const attnc_registry transformer_registry__host;
extern const attnc_registry transformer_bf16_activations_registry__host;
extern const attnc_registry bench_layer_registry__host;
extern const attnc_registry bench_attention_tuned_registry__host;

/* The registry of a benchmark model, or NULL for an unknown name. */
const attnc_registry *attnc_bench_registry(const char *name) {
  if (strcmp(name, "transformer") == 0)
    return &transformer_registry__host;
  if (strcmp(name, "transformer_bf16_activations") == 0)
    return &transformer_bf16_activations_registry__host;
  if (strcmp(name, "layer") == 0)
    return &bench_layer_registry__host;
  if (strcmp(name, "attention") == 0)
    return &bench_attention_tuned_registry__host;
  return 0;
}
#endif
