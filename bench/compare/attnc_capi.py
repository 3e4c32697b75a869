"""attnc's C API (runtime/include/attnc/attnc.h) on build/bench/libattnc_bench.so
through ctypes, for the Python benchmarks (bench/compare/worker.py,
bench/weights_accuracy.py): load a registry (or one model of it) by name
and build calls whose ctypes arguments are made once, outside any timing."""
import ctypes

import numpy as np


class Attnc:
    def __init__(self, lib_path, threads):
        self.lib = ctypes.CDLL(lib_path)
        self.lib.attnc_bench_registry.restype = ctypes.c_void_p
        self.lib.attnc_last_error.restype = ctypes.c_char_p
        self.check(self.lib.attnc_set_threads(threads))
        self.models = {}

    def check(self, status):
        if status != 0:
            raise RuntimeError("attnc: " + self.lib.attnc_last_error().decode())

    def load(self, name, weights, model=None):
        """Registry `name` of libattnc_bench.so, known afterwards by `model`
        or `name`; `model` prepares only that model of it (examples/transformer
        holds the 6+6 model with four weight types)."""
        handle = ctypes.c_void_p()
        registry = ctypes.c_void_p(self.lib.attnc_bench_registry(name.encode()))
        if model:
            self.check(self.lib.attnc_model_load_model(
                registry, weights.encode(), model.encode(), ctypes.byref(handle)))
        else:
            self.check(self.lib.attnc_model_load(registry, weights.encode(),
                                                 ctypes.byref(handle)))
        self.models[model or name] = handle

    def runner(self, model, function, inputs, outputs):
        """A closure that runs `function` on numpy arrays, writing `outputs`
        in place. The ctypes argument arrays are built once, outside timing."""
        lib, handle = self.lib, self.models[model]
        n, m = len(inputs), len(outputs)
        arrays = [a for _, a in inputs]
        shapes = [np.array(a.shape, dtype=np.int64) for a in arrays]
        out_arrays = [a for _, a in outputs]
        out_shapes = np.zeros((m, 4), dtype=np.int64)
        call = (handle, function.encode(), n,
                (ctypes.c_char_p * n)(*[k.encode() for k, _ in inputs]),
                (ctypes.c_int * n)(*[1 if a.dtype == np.int32 else 0 for a in arrays]),
                (ctypes.c_int * n)(*[a.ndim for a in arrays]),
                (ctypes.POINTER(ctypes.c_int64) * n)(
                    *[s.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)) for s in shapes]),
                (ctypes.c_void_p * n)(*[a.ctypes.data for a in arrays]),
                m, (ctypes.c_char_p * m)(*[k.encode() for k, _ in outputs]),
                (ctypes.POINTER(ctypes.c_float) * m)(
                    *[a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for a in out_arrays]),
                (ctypes.c_int64 * m)(*[a.size for a in out_arrays]),
                out_shapes.ctypes.data_as(ctypes.POINTER(ctypes.c_int64 * 4)))
        keep = (arrays, shapes, out_arrays, out_shapes)  # alive with the closure

        def run():
            _ = keep
            self.check(lib.attnc_model_run(*call))
        return run

    def greedy(self, model, src, lengths, bos, eos, steps, tokens, counts):
        """Greedy decoding of int32 `src` [batch, length] with `lengths`
        into `tokens` [batch, steps] and `counts` [batch] (int64)."""
        i32, i64 = ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_int64)
        self.check(self.lib.attnc_model_greedy_decode(
            self.models[model], src.ctypes.data_as(i32), lengths.ctypes.data_as(i32),
            ctypes.c_int64(src.shape[0]), ctypes.c_int64(src.shape[1]), bos, eos,
            ctypes.c_int64(steps), tokens.ctypes.data_as(i32), counts.ctypes.data_as(i64)))

    def free(self, model):
        self.lib.attnc_model_free(self.models.pop(model))
