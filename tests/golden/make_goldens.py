#!/usr/bin/env python3
"""Writes the PyTorch golden data of the runtime tests.

    /usr/bin/python3 tests/golden/make_goldens.py   (PyTorch 1.13, Debian)

Builds tiny.attn's model as torch.nn.Transformer (d_model 64, 4 heads, 2+2
layers, post-norm, ReLU, no dropout) with token embeddings scaled by
sqrt(d_model), sinusoidal positions and a generator, with seed 1234, and
writes:

  tiny.safetensors        its weights, under nn.Transformer's state_dict names
  tiny_cases.safetensors  per case: source and target tokens and lengths, the
                          encoder output, the decoder logits, the head-mean
                          cross-attention maps of each decoder layer, and
                          the greedy-decoded tokens (bos 1, eos 2)

Padded positions are masked as attnc does; PyTorch's output at padded query
rows is not meaningful (its fast path may zero them), so the tests compare
valid rows only.
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
from attnc_torch import safetensors as safetensors_io  # noqa: E402
from attnc_torch.models import Seq2Seq  # noqa: E402

D_MODEL, HEADS, LAYERS, FFN, VOCAB = 64, 4, 2, 128, 20
BOS, EOS, MAX_STEPS = 1, 2, 12


def padding_mask(lengths, length):
    return torch.arange(length)[None, :] >= torch.tensor(lengths)[:, None]


def cross_attention_maps(model, tgt, tgt_pad, memory, src_pad):
    """The head-mean cross-attention probabilities of every decoder layer."""
    captured = []
    hooks = [layer.multihead_attn.register_forward_pre_hook(
        lambda module, args: captured.append((module, args[0], args[1])))
        for layer in model.decoder.layers]
    model.decode(tgt, tgt_pad, memory, src_pad)
    for hook in hooks:
        hook.remove()
    return [module(q, k, k, key_padding_mask=src_pad, need_weights=True,
                   average_attn_weights=True)[1] for module, q, k in captured]


def main():
    torch.manual_seed(1234)
    model = Seq2Seq(D_MODEL, HEADS, LAYERS, FFN, VOCAB, VOCAB).eval()
    weights = {name: p.detach().numpy().astype(np.float32)
               for name, p in model.state_dict().items()}
    safetensors_io.save(os.path.join(HERE, "tiny.safetensors"), weights)

    rng = np.random.default_rng(1234)
    cases = {"two_padded": ([7, 4], [5, 3]), "one_token": ([1], [1]),
             "three_long": ([13, 9, 11], [9, 6, 2])}
    out = {}
    with torch.no_grad():
        for name, (src_lengths, tgt_lengths) in cases.items():
            S, T = max(src_lengths), max(tgt_lengths)
            src = torch.tensor(rng.integers(3, VOCAB, size=(len(src_lengths), S)))
            tgt = torch.tensor(rng.integers(3, VOCAB, size=(len(tgt_lengths), T)))
            tgt[:, 0] = BOS
            src_pad, tgt_pad = padding_mask(src_lengths, S), padding_mask(tgt_lengths, T)
            memory = model.encode(src, src_pad)
            logits = model.decode(tgt, tgt_pad, memory, src_pad)
            maps = cross_attention_maps(model, tgt, tgt_pad, memory, src_pad)
            out[f"{name}.src_tokens"] = src.numpy().astype(np.int32)
            out[f"{name}.src_lengths"] = np.array(src_lengths, dtype=np.int32)
            out[f"{name}.tgt_tokens"] = tgt.numpy().astype(np.int32)
            out[f"{name}.tgt_lengths"] = np.array(tgt_lengths, dtype=np.int32)
            out[f"{name}.memory"] = memory.numpy().astype(np.float32)
            out[f"{name}.logits"] = logits.numpy().astype(np.float32)
            for i, m in enumerate(maps):
                out[f"{name}.cross_probs.{i}"] = m.numpy().astype(np.float32)
            greedy = model.greedy(src, src_pad, BOS, EOS, MAX_STEPS)
            out[f"{name}.greedy"] = greedy.numpy().astype(np.int32)
    safetensors_io.save(os.path.join(HERE, "tiny_cases.safetensors"), out)
    print("wrote", len(weights), "weights and", len(out), "golden tensors")


if __name__ == "__main__":
    main()
