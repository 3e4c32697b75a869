#!/usr/bin/env python3
"""Writes the golden data of the large-score accuracy test.

    /usr/bin/python3 tests/golden/make_attention_accuracy.py   (PyTorch 1.13)

One head of attention (head_dim 64, scale 1/8, no mask, 128 queries and
keys) on queries and keys uniform in +-30 and values in +-1, so that logits
reach about 1e3, where float32 rounding of the scores dominates the error.
Writes attention_accuracy.safetensors: the inputs, the output and
probabilities computed by PyTorch in float64 (the reference), and the
largest error of PyTorch's own float32 computation against it, which is
what float32 allows. RandomAttentionTest.cpp holds attnc to it.
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
from attnc_torch import safetensors as safetensors_io  # noqa: E402

LENGTH, HEAD_DIM, MAGNITUDE = 128, 64, 30.0


def attention(q, k, v, dtype):
    q, k, v = (torch.tensor(x, dtype=dtype) for x in (q, k, v))
    probs = torch.softmax((q / np.sqrt(HEAD_DIM)) @ k.T, dim=-1)
    return (probs @ v).numpy(), probs.numpy()


def main():
    rng = np.random.default_rng(1130)
    shape = (LENGTH, HEAD_DIM)
    q = rng.uniform(-MAGNITUDE, MAGNITUDE, shape).astype(np.float32)
    k = rng.uniform(-MAGNITUDE, MAGNITUDE, shape).astype(np.float32)
    v = rng.uniform(-1, 1, shape).astype(np.float32)
    out64, probs64 = attention(q, k, v, torch.float64)
    out32, probs32 = attention(q, k, v, torch.float32)
    tensors = {
        "query": q[None], "key": k[None], "value": v[None],
        "output": out64.astype(np.float32)[None],
        "probs": probs64.astype(np.float32)[None, None],
        "torch_f32_output_error":
            np.array([np.abs(out32 - out64).max()], np.float32),
        "torch_f32_probs_error":
            np.array([np.abs(probs32 - probs64).max()], np.float32),
    }
    safetensors_io.save(os.path.join(HERE, "attention_accuracy.safetensors"),
                        tensors)
    print("PyTorch float32 errors: output %.3g, probs %.3g" %
          (tensors["torch_f32_output_error"][0],
           tensors["torch_f32_probs_error"][0]))


if __name__ == "__main__":
    main()
