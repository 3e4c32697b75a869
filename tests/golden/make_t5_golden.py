#!/usr/bin/env python3
"""Writes the PyTorch golden data of the score-function test.

    /usr/bin/python3 tests/golden/make_t5_golden.py   (PyTorch 1.13, Debian)

t5.attn's model written in plain PyTorch, independently of attnc: token
embeddings (no positions), two pre-norm encoder layers whose self-attention
is T5's (no 1/sqrt(d) scaling, no projection biases, a learned bias per
head and relative position bucket, the bucket computed by HuggingFace's
T5Attention._relative_position_bucket, copied below), a bias-free ReLU
feed-forward, and a final layer norm. Seed 1234. Writes:

  t5.safetensors        the weights, under the names attnc's model binds
  t5_cases.safetensors  per case: tokens, lengths and the encoder output

Padded keys are masked; padded query rows are not compared.
"""
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
from attnc_torch import safetensors as safetensors_io  # noqa: E402

D, HEADS, FFN, VOCAB, LAYERS = 64, 4, 128, 50, 2
BUCKETS, MAX_DISTANCE, EPS = 32, 128, 1e-6


def relative_position_bucket(relative_position, bidirectional=True,
                             num_buckets=32, max_distance=128):
    """HuggingFace transformers, T5Attention._relative_position_bucket."""
    relative_buckets = 0
    if bidirectional:
        num_buckets //= 2
        relative_buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position,
                                       torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    relative_position_if_large = max_exact + (
        torch.log(relative_position.float() / max_exact)
        / math.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    ).to(torch.long)
    relative_position_if_large = torch.min(
        relative_position_if_large,
        torch.full_like(relative_position_if_large, num_buckets - 1))
    relative_buckets += torch.where(is_small, relative_position,
                                    relative_position_if_large)
    return relative_buckets


def weights(rng):
    def uniform(*shape, scale):
        return rng.uniform(-scale, scale, size=shape).astype(np.float32)
    w = {"src_embed.weight": rng.normal(size=(VOCAB, D)).astype(np.float32)}
    for i in range(LAYERS):
        p = f"encoder.layers.{i}."
        w[p + "self_attn.in_proj_weight"] = uniform(3 * D, D, scale=D ** -0.5)
        w[p + "self_attn.out_proj.weight"] = uniform(D, D, scale=D ** -0.5)
        w[p + "self_attn.relative_attention_bias"] = rng.normal(
            size=(HEADS, BUCKETS)).astype(np.float32)
        w[p + "linear1.weight"] = uniform(FFN, D, scale=D ** -0.5)
        w[p + "linear2.weight"] = uniform(D, FFN, scale=FFN ** -0.5)
        for norm in ("norm1", "norm2"):
            w[p + norm + ".weight"] = (1 + 0.1 * rng.normal(size=D)).astype(
                np.float32)
            w[p + norm + ".bias"] = (0.1 * rng.normal(size=D)).astype(
                np.float32)
    w["encoder.norm.weight"] = (1 + 0.1 * rng.normal(size=D)).astype(
        np.float32)
    w["encoder.norm.bias"] = (0.1 * rng.normal(size=D)).astype(np.float32)
    return w


def attention(x, w, p, lengths):
    B, L, _ = x.shape
    qkv = x @ w[p + "in_proj_weight"].T
    q, k, v = (t.reshape(B, L, HEADS, D // HEADS).transpose(1, 2)
               for t in qkv.split(D, dim=-1))
    scores = q @ k.transpose(-1, -2)  # T5: no 1 / sqrt(d)
    position = torch.arange(L)
    bucket = relative_position_bucket(position[None, :] - position[:, None],
                                      True, BUCKETS, MAX_DISTANCE)  # k - q
    bias = w[p + "relative_attention_bias"][:, bucket]  # [H, Lq, Lk]
    scores = scores + bias[None]
    padded = torch.arange(L)[None, :] >= lengths[:, None]
    scores = scores.masked_fill(padded[:, None, None, :], float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    out = out.transpose(1, 2).reshape(B, L, D)
    return out @ w[p + "out_proj.weight"].T


def encode(w, tokens, lengths):
    def norm(x, name):
        return torch.nn.functional.layer_norm(
            x, (D,), w[name + ".weight"], w[name + ".bias"], EPS)
    x = w["src_embed.weight"][tokens]
    for i in range(LAYERS):
        p = f"encoder.layers.{i}."
        x = x + attention(norm(x, p + "norm1"), w, p + "self_attn.", lengths)
        h = torch.relu(norm(x, p + "norm2") @ w[p + "linear1.weight"].T)
        x = x + h @ w[p + "linear2.weight"].T
    return norm(x, "encoder.norm")


def main():
    rng = np.random.default_rng(1234)
    w = weights(rng)
    safetensors_io.save(os.path.join(HERE, "t5.safetensors"), w)
    tw = {name: torch.from_numpy(value) for name, value in w.items()}

    # Distances past max_distance (the last bucket) and at the edges of
    # the logarithmic buckets (16, 32, 64) all occur in the long case.
    cases = {"two_padded": [40, 23], "one_token": [1], "long": [300]}
    out = {}
    with torch.no_grad():
        for name, lengths in cases.items():
            L = max(lengths)
            tokens = torch.from_numpy(
                rng.integers(0, VOCAB, size=(len(lengths), L)))
            lengths_t = torch.tensor(lengths)
            memory = encode(tw, tokens, lengths_t)
            out[f"{name}.src_tokens"] = tokens.numpy().astype(np.int32)
            out[f"{name}.src_lengths"] = np.array(lengths, dtype=np.int32)
            out[f"{name}.memory"] = memory.numpy().astype(np.float32)
    # The buckets themselves, for the test of attnc's t5_bucket: k - q from
    # -300 to 300.
    rel = torch.arange(-300, 301)
    out["buckets.bidirectional"] = relative_position_bucket(
        rel, True, BUCKETS, MAX_DISTANCE).numpy().astype(np.int32)
    out["buckets.causal"] = relative_position_bucket(
        rel, False, BUCKETS, MAX_DISTANCE).numpy().astype(np.int32)
    safetensors_io.save(os.path.join(HERE, "t5_cases.safetensors"), out)
    print("wrote", len(w), "weights and", len(out), "golden tensors")


if __name__ == "__main__":
    main()
