#!/usr/bin/env python3
"""Accuracy of the 6+6 transformer of examples/transformer with its linear
weights stored as f32, bf16, f16 and int8 (models transformer,
transformer_bf16, ... of model.attn, all reading the same f32 weights file),
and with bf16 activations (model.attn compiled with --dtype=bf16),
against PyTorch's Seq2Seq on that file: for each weight type, the max and
mean absolute logit error of the teacher-forced forward pass (batch 1, 128
source and 128 target tokens, fixed seed ids) against PyTorch in f32 and
against the same module cast to bf16 (itself a row too, against f32), and
how many of 32 greedy decoding steps after encoding the source give PyTorch
f32's tokens. attnc runs through the C API of build/bench/libattnc_bench.so
(bench/compare/attnc_capi.py);
a weights file that does not exist is first written by build/bin/transformer
(as scripts/bench.sh does). About 20 s on two cores, half of it PyTorch's
bf16 forward pass.

    /usr/bin/python3 bench/weights_accuracy.py [--json out.json]
"""
import argparse
import json
import os
import subprocess
import sys

THREADS = 2
# PyTorch reads these at import (as bench/compare/worker.py sets them).
os.environ["OMP_NUM_THREADS"] = str(THREADS)
os.environ["OPENBLAS_NUM_THREADS"] = str(THREADS)
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from attnc_torch import safetensors  # noqa: E402
from attnc_torch.models import Seq2Seq  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "bench", "compare"))
from attnc_capi import Attnc  # noqa: E402

# examples/transformer/model.attn: weight type -> model name.
MODELS = {"f32": "transformer", "bf16": "transformer_bf16",
          "f16": "transformer_f16", "int8": "transformer_int8"}
# The rows: (label, registry of libattnc_bench.so, model). The registry
# transformer_bf16_activations is model.attn compiled with --dtype=bf16.
RUNS = [(f"attnc {dtype}", "transformer", name) for dtype, name in MODELS.items()]
RUNS += [(f"attnc bf16 activations, {dtype} weights",
          "transformer_bf16_activations", MODELS[dtype])
         for dtype in ("f32", "bf16")]
D_MODEL, HEADS, LAYERS, FFN, VOCAB = 512, 8, 6, 2048, 1000
LENGTH, STEPS, SEED = 128, 32, 7
BOS, EOS = 1, -1  # EOS -1 is never produced: every step runs


class CastSeq2Seq(Seq2Seq):
    """Seq2Seq whose embeddings come out in the weights' dtype: its
    sinusoidal positions are f32, which would promote a bf16 module's
    embeddings (and so every layer's input) to f32."""

    def embed(self, table, tokens):
        return super().embed(table, tokens).to(table.weight.dtype)


def attnc_forward(attnc, model, src, tgt):
    """Teacher-forced logits [1, LENGTH, VOCAB] of `model`: encode, decode."""
    lengths = np.array([LENGTH], dtype=np.int32)
    memory = np.zeros((1, LENGTH, D_MODEL), dtype=np.float32)
    logits = np.zeros((1, LENGTH, VOCAB), dtype=np.float32)
    attnc.runner(model, model + "_encode",
                 [("src_tokens", src), ("src_lengths", lengths)], [("memory", memory)])()
    attnc.runner(model, model + "_decode",
                 [("tgt_tokens", tgt), ("tgt_lengths", lengths), ("memory", memory),
                  ("src_lengths", lengths)], [("logits", logits)])()
    return logits


def attnc_greedy(attnc, model, src):
    """STEPS greedy tokens [1, STEPS] of `model` after encoding `src`."""
    tokens = np.zeros((1, STEPS), dtype=np.int32)
    counts = np.zeros(1, dtype=np.int64)
    attnc.greedy(model, src, np.array([LENGTH], dtype=np.int32), BOS, EOS, STEPS,
                 tokens, counts)
    return tokens


def ensure_weights(build, path):
    if not os.path.exists(path):
        subprocess.run([os.path.join(build, "bin", "transformer"), "--weights", path,
                        "--steps", "1"], check=True, stdout=subprocess.DEVNULL)


def token_ids():
    """Source and target ids in [3, VOCAB), as bench/compare/worker.py draws
    them; the target (the decoder's teacher-forced input) starts with BOS."""
    rng = np.random.default_rng(SEED)
    src = rng.integers(3, VOCAB, size=(1, LENGTH)).astype(np.int32)
    tgt = rng.integers(3, VOCAB, size=(1, LENGTH)).astype(np.int32)
    tgt[0, 0] = BOS
    return src, tgt


def torch_forward(model, src, tgt):
    with torch.no_grad():
        memory = model.encode(torch.from_numpy(src.astype(np.int64)))
        logits = model.decode(torch.from_numpy(tgt.astype(np.int64)), None, memory)
    return logits.float().numpy()


def torch_greedy(model, src):
    with torch.no_grad():
        tokens = model.greedy(torch.from_numpy(src.astype(np.int64)), None, BOS, EOS, STEPS)
    return tokens.numpy()


def errors(got, reference):
    diff = np.abs(got.astype(np.float64) - reference.astype(np.float64))
    return dict(max_abs=float(diff.max()), mean_abs=float(diff.mean()))


def agreement(tokens, reference):
    """Identical tokens out of STEPS, and the first step where they differ
    (None if none does)."""
    same = tokens[0] == reference[0]
    return dict(same=int(same.sum()),
                first_divergence=None if same.all() else int(np.argmin(same)))


def measure(args):
    src, tgt = token_ids()
    weights = safetensors.load(args.weights)
    model = CastSeq2Seq(D_MODEL, HEADS, LAYERS, FFN, VOCAB, VOCAB).eval()
    model.load_safetensors(weights)
    ref_f32 = torch_forward(model, src, tgt)
    ref_tokens = torch_greedy(model, src)
    # .to() casts the module in place: the f32 runs come first.
    ref_bf16 = torch_forward(model.to(torch.bfloat16), src, tgt)

    rows = [dict(name="PyTorch bf16", vs_f32=errors(ref_bf16, ref_f32))]
    attnc = Attnc(os.path.join(args.build, "bench", "libattnc_bench.so"), THREADS)
    for label, registry, name in RUNS:
        attnc.load(registry, args.weights, model=name)
        logits = attnc_forward(attnc, name, src, tgt)
        rows.append(dict(name=label, vs_f32=errors(logits, ref_f32),
                         vs_bf16=errors(logits, ref_bf16),
                         greedy=agreement(attnc_greedy(attnc, name, src), ref_tokens)))
        attnc.free(name)
    return dict(weights=args.weights, src_len=LENGTH, tgt_len=LENGTH, steps=STEPS,
                seed=SEED, threads=THREADS, torch=torch.__version__,
                max_abs_logit=float(np.abs(ref_f32).max()),
                reference_tokens=ref_tokens[0].tolist(), rows=rows)


def cells(row):
    """A table row's cells; "-" where the row has no such measurement."""
    f32, bf16, greedy = row["vs_f32"], row.get("vs_bf16"), row.get("greedy")
    out = [row["name"], f"{f32['max_abs']:.3e}", f"{f32['mean_abs']:.3e}"]
    out += [f"{bf16['max_abs']:.3e}", f"{bf16['mean_abs']:.3e}"] if bf16 else ["-", "-"]
    if greedy:
        first = greedy["first_divergence"]
        out += [str(greedy["same"]), "-" if first is None else str(first)]
    else:
        out += ["-", "-"]
    return out


def print_table(report):
    print(f"# 6+6 transformer, batch 1: {report['src_len']} source tokens, "
          f"{report['tgt_len']} teacher-forced target tokens; "
          f"{report['steps']} greedy steps\n")
    print("| model | max abs vs PyTorch f32 | mean abs vs PyTorch f32 | "
          "max abs vs PyTorch bf16 | mean abs vs PyTorch bf16 | "
          f"greedy tokens = PyTorch f32 (of {report['steps']}) | first divergence |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in report["rows"]:
        print("| " + " | ".join(cells(row)) + " |")
    print(f"\nmax |logit| (PyTorch f32): {report['max_abs_logit']:.3f}")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--weights", help="default: BUILD/examples/transformer.safetensors")
    p.add_argument("--json", help="also write the numbers here")
    args = p.parse_args()
    args.weights = args.weights or os.path.join(args.build, "examples",
                                                "transformer.safetensors")
    torch.set_num_threads(THREADS)
    ensure_weights(args.build, args.weights)
    report = measure(args)
    print_table(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
