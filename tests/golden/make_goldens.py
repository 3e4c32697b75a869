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
import math
import os

import numpy as np
import torch
from torch import nn

import safetensors_io

HERE = os.path.dirname(os.path.abspath(__file__))
D_MODEL, HEADS, LAYERS, FFN, VOCAB = 64, 4, 2, 128, 20
BOS, EOS, MAX_STEPS = 1, 2, 12


def sinusoidal(length, width):
    position = np.arange(length, dtype=np.float64)[:, None]
    frequency = np.power(10000.0, -np.arange(0, width, 2, dtype=np.float64) / width)
    pe = np.zeros((length, width))
    pe[:, 0::2] = np.sin(position * frequency)
    pe[:, 1::2] = np.cos(position * frequency)
    return torch.tensor(pe, dtype=torch.float32)


class Seq2Seq(nn.Transformer):
    """nn.Transformer plus embeddings and a generator, so that its state_dict
    names are those attnc's MLIRGen uses."""

    def __init__(self):
        super().__init__(d_model=D_MODEL, nhead=HEADS, num_encoder_layers=LAYERS,
                         num_decoder_layers=LAYERS, dim_feedforward=FFN,
                         dropout=0.0, batch_first=True)
        self.src_embed = nn.Embedding(VOCAB, D_MODEL)
        self.tgt_embed = nn.Embedding(VOCAB, D_MODEL)
        self.generator = nn.Linear(D_MODEL, VOCAB)

    def embed(self, table, tokens):
        return table(tokens) * math.sqrt(D_MODEL) + sinusoidal(tokens.shape[1], D_MODEL)

    def encode(self, src, src_pad):
        return self.encoder(self.embed(self.src_embed, src), src_key_padding_mask=src_pad)

    def decode(self, tgt, tgt_pad, memory, src_pad):
        causal = self.generate_square_subsequent_mask(tgt.shape[1])
        y = self.decoder(self.embed(self.tgt_embed, tgt), memory, tgt_mask=causal,
                         tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
        return self.generator(y)


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


def greedy(model, src, src_pad):
    memory = model.encode(src, src_pad)
    tokens = torch.full((src.shape[0], 1), BOS, dtype=torch.long)
    finished = torch.zeros(src.shape[0], dtype=torch.bool)
    out = []
    for _ in range(MAX_STEPS):
        no_pad = torch.zeros(tokens.shape, dtype=torch.bool)
        logits = model.decode(tokens, no_pad, memory, src_pad)[:, -1]
        best = torch.where(finished, torch.full_like(tokens[:, 0], EOS), logits.argmax(-1))
        out.append(best)
        finished |= best == EOS
        tokens = torch.cat([tokens, best[:, None]], dim=1)
        if finished.all():
            break
    return torch.stack(out, dim=1)


def main():
    torch.manual_seed(1234)
    model = Seq2Seq().eval()
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
            out[f"{name}.greedy"] = greedy(model, src, src_pad).numpy().astype(np.int32)
    safetensors_io.save(os.path.join(HERE, "tiny_cases.safetensors"), out)
    print("wrote", len(weights), "weights and", len(out), "golden tensors")


if __name__ == "__main__":
    main()
