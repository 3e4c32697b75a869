"""ctypes declarations of attnc's C API (runtime/include/attnc/attnc.h) and
of the registry a model library exports (`attnc compile --shared` defines
attnc_library_registry()). Only this file knows C signatures; model.py
works with them."""
import ctypes
from ctypes import (POINTER, Structure, c_char_p, c_int, c_int32, c_int64,
                    c_void_p)


class Error(RuntimeError):
    """A failure reported by the attnc runtime, with its message (the text
    of attnc::Error: the tensor, the shapes, the file)."""


class Registry(Structure):
    """attnc_registry (runtime/include/attnc/registry.h)."""
    _fields_ = [("unit", c_char_p), ("target_tag", c_char_p),
                ("halide_target", c_char_p), ("entries", c_void_p),
                ("num_entries", c_int), ("manifest_json", c_char_p),
                ("device_interface", c_void_p)]


def load_library(path):
    """Opens a model library and declares the C API's signatures on it."""
    lib = ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
    try:
        lib.attnc_library_registry
    except AttributeError:
        raise Error(f"{path} has no attnc_library_registry(); build it with "
                    "attnc compile model.attn --shared -o out/") from None
    lib.attnc_library_registry.restype = POINTER(Registry)
    lib.attnc_library_registry.argtypes = []
    lib.attnc_last_error.restype = c_char_p
    lib.attnc_last_error.argtypes = []
    lib.attnc_model_load.restype = c_int
    lib.attnc_model_load.argtypes = [POINTER(Registry), c_char_p,
                                     POINTER(c_void_p)]
    lib.attnc_model_load_model.restype = c_int
    lib.attnc_model_load_model.argtypes = [POINTER(Registry), c_char_p,
                                           c_char_p, POINTER(c_void_p)]
    lib.attnc_model_free.restype = None
    lib.attnc_model_free.argtypes = [c_void_p]
    lib.attnc_set_threads.restype = c_int
    lib.attnc_set_threads.argtypes = [c_int]
    lib.attnc_model_run.restype = c_int
    lib.attnc_model_run.argtypes = [
        c_void_p, c_char_p, c_int, POINTER(c_char_p), POINTER(c_int),
        POINTER(c_int), POINTER(POINTER(c_int64)), POINTER(c_void_p), c_int,
        POINTER(c_char_p), POINTER(c_void_p), POINTER(c_int64),
        POINTER(c_int64 * 4)]
    lib.attnc_model_greedy_decode.restype = c_int
    lib.attnc_model_greedy_decode.argtypes = [
        c_void_p, POINTER(c_int32), POINTER(c_int32), c_int64, c_int64,
        c_int32, c_int32, c_int64, POINTER(c_int32), POINTER(c_int64)]
    lib.attnc_model_generate.restype = c_int
    lib.attnc_model_generate.argtypes = [
        c_void_p, POINTER(c_int32), POINTER(c_int32), c_int64, c_int64,
        c_int32, c_int64, POINTER(c_int32), POINTER(c_int64)]
    return lib


def check(lib, status):
    """Raises Error with the runtime's message if `status` is nonzero."""
    if status != 0:
        raise Error(lib.attnc_last_error().decode("utf-8", "replace"))
