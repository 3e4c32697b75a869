/*===- registry.h - The table of kernels attnc generates -----------*- C -*-===
 *
 * For each target, `attnc compile` writes <tag>/<unit>_registry.c, which
 * defines `const attnc_registry <unit>_registry__<tag>`: every kernel
 * function (one per kernel and shape class) with its Halide argv entry point
 * and metadata, plus the manifest (kernels, specs, and the program of every
 * function) as JSON text. The runtime and the tests find kernels through it,
 * so they need neither libHalide nor the generated headers.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTNC_REGISTRY_H
#define ATTNC_REGISTRY_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct halide_filter_metadata_t;
struct halide_device_interface_t;

/** One generated function. */
typedef struct attnc_kernel_entry {
  const char *kernel;      /**< The kernel name (KernelSpec::name()). */
  const char *shape_class; /**< "" for the general variant, e.g. "gemv". */
  const char *dimension;   /**< The bounded dimension ("rows"), or "". */
  int64_t max_extent;      /**< Inclusive bound on that dimension. */
  const char *symbol;      /**< The C function name. */
  /** Halide's argv entry: inputs, scalars, then outputs, as pointers to
   *  halide_buffer_t or to the scalar value. Returns 0 or a Halide error. */
  int (*argv)(void **args);
  const struct halide_filter_metadata_t *(*metadata)(void);
} attnc_kernel_entry;

/** All the kernels of one unit for one target. */
typedef struct attnc_registry {
  const char *unit;          /**< The .attn file's stem. */
  const char *target_tag;    /**< host, avx2, avx512, arm64, cuda, ... */
  const char *halide_target; /**< The full Halide target string. */
  const attnc_kernel_entry *entries;
  int num_entries;
  const char *manifest_json; /**< manifest.json, NUL-terminated. */
  /** For GPU targets: Halide's interface to the device the kernels run on
   *  (halide_cuda_device_interface, halide_opencl_device_interface), which
   *  the runtime allocates and copies values with; NULL for CPU targets. */
  const struct halide_device_interface_t *(*device_interface)(void);
} attnc_registry;

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_REGISTRY_H */
