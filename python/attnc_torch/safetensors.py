"""Minimal safetensors reader and writer, so that the scripts need nothing
beyond Debian's python3-numpy. Format: 8-byte little-endian header length,
JSON header, raw little-endian data. F32 and I32 tensors are stored as they
are; an F32 tensor may be stored in fewer bytes as BF16 or F16 (rounded to
nearest even) or I8 (symmetric, a scale max|w| / 127 per row in an F32
tensor "<name>.scale"), as the attnc runtime reads them (StoredType in
runtime/include/attnc/Runtime.h). `load` returns what the runtime reads:
the f32 values reduced tensors stand for, without the scale tensors."""
import json
import struct

import numpy as np

REDUCED = ("BF16", "F16", "I8")


def _bf16_bits(array):
    """float32 -> bfloat16 bits, rounded to nearest even (finite values)."""
    bits = array.view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")


def _rows(array):
    """`array` as a matrix of its rows (dimension 0)."""
    return array.reshape(array.shape[0], int(np.prod(array.shape[1:])))


def _i8(array):
    """(q, scales): the symmetric per-row int8 form of `array`."""
    rows = _rows(array)
    largest = np.abs(rows).max(axis=1, initial=0)
    scales = np.where(largest > 0, largest / np.float32(127),
                      np.float32(1)).astype(np.float32)
    q = np.clip(np.rint(rows / scales[:, None]), -127, 127).astype(np.int8)
    return q.reshape(array.shape), scales


def _encode(name, array, dtype):
    """[(name, dtype, shape, bytes)] for one tensor stored as `dtype`."""
    if dtype in REDUCED and array.dtype != np.float32:
        raise ValueError(f"{name}: only float32 tensors are stored as {dtype}")
    if dtype == "BF16":
        return [(name, dtype, array.shape, _bf16_bits(array).tobytes())]
    if dtype == "F16":
        half = array.astype("<f2")
        if not np.isfinite(half).all():
            raise ValueError(f"{name}: values beyond F16's range (|x| < "
                             "65520) cannot be stored as F16")
        return [(name, dtype, array.shape, half.tobytes())]
    if dtype == "I8":
        if array.ndim == 0:
            raise ValueError(f"{name}: I8 needs rows to scale")
        q, scales = _i8(array)
        return [(name, dtype, array.shape, q.tobytes()),
                (name + ".scale", "F32", scales.shape,
                 scales.astype("<f4").tobytes())]
    assert array.dtype in (np.float32, np.int32), (name, array.dtype)
    stored = "F32" if array.dtype == np.float32 else "I32"
    data = array.astype("<" + array.dtype.str[1:]).tobytes()
    return [(name, stored, array.shape, data)]


def save(path, tensors, stored=None):
    """Writes `tensors` (name -> float32 or int32 array); `stored` maps
    names of float32 tensors to "BF16", "F16" or "I8"."""
    stored = stored or {}
    unknown = set(stored) - set(tensors)
    if unknown:
        raise ValueError(f"stored names tensors that are not saved: "
                         f"{sorted(unknown)}")
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        dtype = stored.get(name)
        if dtype == "I8" and name + ".scale" in tensors:
            raise ValueError(f"{name}: its I8 scales would be named "
                             f"{name}.scale, which is another tensor")
        for entry, kind, shape, data in _encode(name, array, dtype):
            header[entry] = {"dtype": kind, "shape": list(shape),
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


_RAW = {"F32": "<f4", "I32": "<i4", "BF16": "<u2", "F16": "<f2", "I8": "i1"}


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    header.pop("__metadata__", None)
    data = raw[8 + length:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=_RAW[info["dtype"]])
        if info["dtype"] == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = array.astype(
            np.int32 if info["dtype"] == "I32" else np.float32).reshape(
                info["shape"])
    for name, info in header.items():
        if info["dtype"] == "I8":
            scales = tensors.pop(name + ".scale")
            rows = _rows(tensors[name]) * scales[:, None]
            tensors[name] = rows.reshape(info["shape"])
    return tensors
