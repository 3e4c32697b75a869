#!/usr/bin/env python3
"""Trains the dates model of model.attn with PyTorch 1.13 (CPU) and writes
dates.safetensors and vocab.json next to this file.

    /usr/bin/python3 examples/dates/train.py [--steps 2400] [--minutes 30] [--seed 2026]

Training data: dates_data.generate() with seed --seed (fresh examples every
step); held out: 1000 examples with seed 7, never trained on. Stops when the
held-out exact match reaches 99.7% or the time is up, and reports the final
greedy exact-match accuracy on the held-out set.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
from attnc_torch import safetensors  # noqa: E402
from attnc_torch.models import Seq2Seq  # noqa: E402
import dates_data as data  # noqa: E402

D_MODEL, HEADS, LAYERS, FFN = 128, 4, 3, 256
TARGET_LEN = 10  # "YYYY-MM-DD"


def batch_tensors(pairs):
    sources = [data.encode(text) for text, _ in pairs]
    length = max(len(s) for s in sources)
    src = torch.full((len(pairs), length), data.PAD, dtype=torch.long)
    for i, s in enumerate(sources):
        src[i, :len(s)] = torch.tensor(s)
    lengths = torch.tensor([len(s) for s in sources])
    pad = torch.arange(length)[None, :] >= lengths[:, None]
    targets = torch.tensor([data.encode(iso) + [data.EOS] for _, iso in pairs])
    decoder_in = torch.cat([torch.full((len(pairs), 1), data.BOS), targets[:, :-1]], dim=1)
    return src, pad, decoder_in, targets


def accuracy(model, pairs):
    src, pad, _, targets = batch_tensors(pairs)
    with torch.no_grad():
        out = model.greedy(src, pad, data.BOS, data.EOS, TARGET_LEN + 1)
    if out.shape[1] < targets.shape[1]:  # every sequence ended early
        out = torch.cat([out, torch.full((out.shape[0], targets.shape[1] - out.shape[1]), data.EOS)], 1)
    return (out == targets).all(dim=1).float().mean().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--steps", type=int, default=2400)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    vocab = len(data.VOCAB)
    model = Seq2Seq(D_MODEL, HEADS, LAYERS, FFN, vocab, vocab)
    # Embeddings are scaled by sqrt(d_model); start them at std d_model^-1/2
    # so that the sinusoidal positions are not drowned out.
    for table in (model.src_embed, model.tgt_embed):
        nn.init.normal_(table.weight, std=D_MODEL ** -0.5)
    held_out = data.generate(1000, seed=7)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98))
    warmup, total = 200, args.steps
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, 0.5 * (1 + math.cos(math.pi * min(s, total) / total))))
    loss_fn = nn.CrossEntropyLoss()
    start, step = time.time(), 0
    rng_seed = args.seed
    while time.time() - start < args.minutes * 60 and step < total:
        model.train()
        src, pad, decoder_in, targets = batch_tensors(data.generate(128, seed=rng_seed * 100003 + step))
        logits = model.decode(decoder_in, None, model.encode(src, pad), pad)
        loss = loss_fn(logits.reshape(-1, vocab), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        step += 1
        if step % 250 == 0:
            model.eval()
            acc = accuracy(model, held_out)
            print(f"step {step} loss {loss.item():.4f} held-out exact match {acc:.4f} "
                  f"({time.time() - start:.0f} s)", flush=True)
            if acc >= 0.997:
                break
    model.eval()
    acc = accuracy(model, held_out)
    print(f"final: {step} steps, {time.time() - start:.0f} s, held-out exact match "
          f"{acc:.4f} on {len(held_out)} dates", flush=True)
    weights = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    safetensors.save(os.path.join(HERE, "dates.safetensors"), weights)
    with open(os.path.join(HERE, "vocab.json"), "w") as f:
        json.dump({"tokens": data.VOCAB, "pad": data.PAD, "bos": data.BOS,
                   "eos": data.EOS, "unk": data.UNK, "max_source": data.MAX_SOURCE}, f,
                  ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
