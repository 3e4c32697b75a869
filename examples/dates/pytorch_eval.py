#!/usr/bin/env python3
"""The PyTorch side of the example's README table: exact match and time per
date over held_out.tsv, one date at a time (as the app does), greedy
decoding with nn.Transformer (no KV cache), on --threads threads.

    /usr/bin/python3 examples/dates/pytorch_eval.py [--threads 1]
"""
import argparse
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
from attnc_torch import safetensors  # noqa: E402
from attnc_torch.models import Seq2Seq  # noqa: E402
import dates_data as data  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    vocab = len(data.VOCAB)
    model = Seq2Seq(128, 4, 3, 256, vocab, vocab).eval()
    model.load_safetensors(safetensors.load(os.path.join(HERE, "dates.safetensors")))
    pairs = [line.rstrip("\n").split("\t") for line in open(os.path.join(HERE, "held_out.tsv"))
             if not line.startswith("#")]
    correct, seconds = 0, 0.0
    with torch.no_grad():
        for text, iso in pairs:
            src = torch.tensor([data.encode(text)])
            start = time.perf_counter()
            out = model.greedy(src, None, data.BOS, data.EOS, 16)[0].tolist()
            seconds += time.perf_counter() - start
            text_out = "".join(data.VOCAB[t] for t in out if t != data.EOS)
            correct += text_out == iso
    print(f"exact match: {correct} of {len(pairs)} ({100 * correct / len(pairs):.1f}%), "
          f"{1000 * seconds / len(pairs):.2f} ms per date")


if __name__ == "__main__":
    main()
