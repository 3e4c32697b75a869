/*===- attnc.h - The runtime's C API --------------------------------*- C -*-===
 *
 * For languages other than C++. Every function returns 0 on success; on
 * failure it returns nonzero and attnc_last_error() says why (the same text
 * as attnc::Error, naming the tensor and the shapes).
 *
 *   attnc_model *model;
 *   if (attnc_model_load(&transformer_registry__host, "w.safetensors", &model))
 *     fprintf(stderr, "%s\n", attnc_last_error());
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTNC_H
#define ATTNC_H

#include "attnc/registry.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct attnc_model attnc_model;

/** The message of the last failure on this thread. */
const char *attnc_last_error(void);

/** Loads the weights at `path` and binds them to a registry's program
 *  (every model it holds; greedy decoding needs a registry of one model). */
int attnc_model_load(const attnc_registry *registry, const char *path,
                     attnc_model **model);
/** The same for the one model `model_name` of the registry (the .attn
 *  file's `model` name); only its weights are prepared. */
int attnc_model_load_model(const attnc_registry *registry, const char *path,
                           const char *model_name, attnc_model **model);
void attnc_model_free(attnc_model *model);

/** Threads the kernels may use (process-wide). */
int attnc_set_threads(int threads);

/** Runs `function` with f32 or i32 inputs given by name, shape and data.
 *  `dtypes[i]` is 0 for f32, 1 for i32; the inputs are read in place
 *  during the call and not kept. Outputs are written into the caller's
 *  buffers of `output_capacity[i]` elements (by the kernels that compute
 *  them, where a buffer overlaps no input); their shapes (up to 4
 *  dimensions) are written to `output_shapes[i]`. */
int attnc_model_run(attnc_model *model, const char *function, int num_inputs,
                    const char *const *input_names, const int *dtypes,
                    const int *ranks, const int64_t *const *shapes,
                    const void *const *data, int num_outputs,
                    const char *const *output_names, float *const *outputs,
                    const int64_t *output_capacity,
                    int64_t (*output_shapes)[4]);

/** Greedy decoding of an encoder-decoder model. `src_tokens` is
 *  [batch, src_len], `src_lengths` [batch]. Writes up to `max_steps` tokens
 *  per sequence into `tokens` ([batch, max_steps], padded with eos) and the
 *  number generated per sequence into `counts` [batch]. */
int attnc_model_greedy_decode(attnc_model *model, const int32_t *src_tokens,
                              const int32_t *src_lengths, int64_t batch,
                              int64_t src_len, int32_t bos, int32_t eos,
                              int64_t max_steps, int32_t *tokens,
                              int64_t *counts);

/** Greedy decoding of a decoder-only model with the key/value cache.
 *  `prompt` is [batch, prompt_len]; sequence b starts from its first
 *  `prompt_lengths[b]` tokens (1 to prompt_len). Writes up to `max_steps`
 *  generated tokens per sequence into `tokens` ([batch, max_steps], padded
 *  with eos) and their number into `counts` [batch]. */
int attnc_model_generate(attnc_model *model, const int32_t *prompt,
                         const int32_t *prompt_lengths, int64_t batch,
                         int64_t prompt_len, int32_t eos, int64_t max_steps,
                         int32_t *tokens, int64_t *counts);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_H */
