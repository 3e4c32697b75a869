#!/usr/bin/env python3
"""PyTorch's answers for the dates app test: for a fixed set of inputs,
the greedy-decoded tokens and the last decoder layer's cross-attention map
(averaged over heads) at every step, computed with the trained weights.

    /usr/bin/python3 examples/dates/make_goldens.py   -> dates_golden.safetensors
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
from attnc_torch import safetensors  # noqa: E402
from attnc_torch.models import Seq2Seq  # noqa: E402
import dates_data as data  # noqa: E402

INPUTS = ["22 Nov 2026", "November 22nd, 2026", "Sunday, 22 November 2026",
          "22/11/26", "2026年11月22日", "the 1st of march 1901", "31.12.2099"]


def main():
    vocab = len(data.VOCAB)
    model = Seq2Seq(128, 4, 3, 256, vocab, vocab).eval()
    model.load_safetensors(safetensors.load(os.path.join(HERE, "dates.safetensors")))
    cross = model.decoder.layers[2].multihead_attn
    out = {}
    for i, text in enumerate(INPUTS):
        src = torch.tensor([data.encode(text)])
        with torch.no_grad():
            memory = model.encode(src, None)
            tokens = torch.tensor([[data.BOS]])
            maps = []
            for _ in range(16):
                captured = []
                hook = cross.register_forward_pre_hook(lambda m, a: captured.append(a[0]))
                logits = model.decode(tokens, None, memory, None)[:, -1]
                hook.remove()
                query = captured[0][:, -1:]
                _, weights = cross(query, memory, memory, need_weights=True,
                                   average_attn_weights=True)
                best = int(logits.argmax(-1))
                if best == data.EOS:
                    break
                maps.append(weights[0, 0].numpy())
                tokens = torch.cat([tokens, torch.tensor([[best]])], dim=1)
        out[f"{i}.source"] = np.array(data.encode(text), dtype=np.int32)
        out[f"{i}.tokens"] = tokens[0, 1:].numpy().astype(np.int32)
        out[f"{i}.attention"] = np.stack(maps).astype(np.float32)
        print(text, "->", "".join(data.VOCAB[t] for t in tokens[0, 1:].tolist()))
    safetensors.save(os.path.join(HERE, "dates_golden.safetensors"), out)


if __name__ == "__main__":
    main()
