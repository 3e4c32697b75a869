"""Minimal safetensors reader and writer (F32 and I32 only), so that the
scripts need nothing beyond Debian's python3-numpy. Format: 8-byte
little-endian header length, JSON header, raw little-endian data."""
import json
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "I32": np.int32}


def save(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        dtype = "F32" if array.dtype == np.float32 else "I32"
        assert array.dtype in (np.float32, np.int32), (name, array.dtype)
        data = array.astype("<" + array.dtype.str[1:]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(len(text) + 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    data = raw[8 + length:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"]).copy()
    return tensors
