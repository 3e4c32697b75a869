#!/usr/bin/env python3
"""The PyTorch side of examples/pytorch-roundtrip (run.sh runs it twice).

    roundtrip.py build <dir>      a seeded Seq2Seq (python/attnc_torch/models.py:
                                  nn.Transformer with src_embed, tgt_embed,
                                  generator), saved whole as <dir>/model.pt
    roundtrip.py compare <dir>    loads <dir>/out/libnet.so with python/attnc,
                                  checks encoder output and logits against
                                  PyTorch (1e-4) and greedy tokens (exact),
                                  writes the tokens to <dir>/tokens.txt for
                                  the C++ program to match
"""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
from attnc_torch.models import Seq2Seq  # noqa: E402

D_MODEL, HEADS, LAYERS, FFN, VOCAB = 64, 4, 2, 128, 40
BOS, EOS, STEPS = 1, 2, 12
SRC = [[5, 9, 14, 3, 22, 7, 30], [11, 4, 8, 0, 0, 0, 0]]
SRC_LENGTHS = [7, 3]


def build(folder):
    torch.manual_seed(2026)
    model = Seq2Seq(D_MODEL, HEADS, LAYERS, FFN, VOCAB, VOCAB).eval()
    os.makedirs(folder, exist_ok=True)
    torch.save(model, os.path.join(folder, "model.pt"))
    print(f"built a {LAYERS}+{LAYERS}-layer Seq2Seq (d_model {D_MODEL}) in "
          f"{folder}/model.pt")


def compare(folder):
    import attnc
    model = torch.load(os.path.join(folder, "model.pt"))
    compiled = attnc.Model.load(os.path.join(folder, "out"),
                                os.path.join(folder, "model", "net.safetensors"))
    src = torch.tensor(SRC)
    pad = torch.arange(src.shape[1])[None] >= torch.tensor(SRC_LENGTHS)[:, None]
    with torch.no_grad():
        memory = model.encode(src, pad)
        tgt = torch.tensor([[BOS, 6, 7, 8], [BOS, 9, 10, 11]])
        logits = model.decode(tgt, None, memory, pad)
        start = time.perf_counter()
        want = model.greedy(src, pad, BOS, EOS, STEPS)
        torch_ms = (time.perf_counter() - start) * 1e3
    got_memory = compiled.run("net_encode", src_tokens=SRC,
                              src_lengths=SRC_LENGTHS)["memory"]
    got_logits = compiled.run("net_decode", tgt_tokens=tgt.numpy(),
                              tgt_lengths=[4, 4], memory=got_memory,
                              src_lengths=SRC_LENGTHS)["logits"]
    error = max(np.abs(got_memory[b, :n] - memory[b, :n].numpy()).max()
                for b, n in enumerate(SRC_LENGTHS))
    logit_error = np.abs(got_logits - logits.numpy()).max()
    start = time.perf_counter()
    tokens = compiled.greedy_decode(SRC, SRC_LENGTHS, BOS, EOS, STEPS)
    attnc_ms = (time.perf_counter() - start) * 1e3
    # PyTorch pads finished rows with eos; attnc stops each row at eos.
    expected = [row[:row.index(EOS) + 1] if EOS in row else row
                for row in want.tolist()]
    print(f"encoder output: max |attnc - PyTorch| = {error:.2e}")
    print(f"decoder logits: max |attnc - PyTorch| = {logit_error:.2e}")
    print(f"greedy ({STEPS} steps): PyTorch {torch_ms:.1f} ms, attnc "
          f"{attnc_ms:.1f} ms")
    for row in tokens:
        print("tokens:", " ".join(str(t) for t in row))
    with open(os.path.join(folder, "tokens.txt"), "w") as f:
        for row in tokens:
            f.write(" ".join(str(t) for t in row) + "\n")
    ok = error < 1e-4 and logit_error < 1e-4 and \
        [list(map(int, r)) for r in tokens] == expected
    print("matches PyTorch" if ok else f"MISMATCH: PyTorch tokens {expected}")
    return 0 if ok else 1


if __name__ == "__main__":
    command, folder = sys.argv[1], sys.argv[2]
    sys.exit(build(folder) if command == "build" else compare(folder))
