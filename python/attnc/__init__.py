"""attnc from Python: load a model compiled with `attnc compile model.attn
--shared -o out/`, run its functions on numpy arrays, decode greedily.
ctypes over the runtime's C API; needs only numpy (docs/python.md).

    import attnc
    model = attnc.Model.load("out", "model/net.safetensors")  # out/libnet.so
    memory = model.run("net_encode", src_tokens=src, src_lengths=lens)["memory"]
    tokens = model.greedy_decode(src, lens, bos=1, eos=2, max_steps=32)
"""
from ._capi import Error
from .model import Function, Model

__all__ = ["Error", "Function", "Model"]
