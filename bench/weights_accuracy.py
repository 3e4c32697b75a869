#!/usr/bin/env python3
"""Accuracy of the 6+6 transformer of examples/transformer with its linear
weights stored as f32, bf16, f16 and int8 (models transformer,
transformer_bf16, ... of model.attn, all reading the same f32 weights file)
against PyTorch's Seq2Seq on that file: for each weight type, the max and
mean absolute logit error of the teacher-forced forward pass (batch 1, 128
source and 128 target tokens, fixed seed ids) against PyTorch in f32 and
against the same module cast to bf16 (itself a row too, against f32), and
how many of 32 greedy decoding steps after encoding the source give PyTorch
f32's tokens. attnc runs through the C API of build/bench/libattnc_bench.so;
a weights file that does not exist is first written by build/bin/transformer
(as scripts/bench.sh does). About 20 s on two cores, half of it PyTorch's
bf16 forward pass.

    /usr/bin/python3 bench/weights_accuracy.py [--json out.json]
"""
import argparse
import ctypes
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

# examples/transformer/model.attn: weight type -> model name.
MODELS = {"f32": "transformer", "bf16": "transformer_bf16",
          "f16": "transformer_f16", "int8": "transformer_int8"}
D_MODEL, HEADS, LAYERS, FFN, VOCAB = 512, 8, 6, 2048, 1000
LENGTH, STEPS, SEED = 128, 32, 7
BOS, EOS = 1, -1  # EOS -1 is never produced: every step runs


class CastSeq2Seq(Seq2Seq):
    """Seq2Seq whose embeddings come out in the weights' dtype: its
    sinusoidal positions are f32, which would promote a bf16 module's
    embeddings (and so every layer's input) to f32."""

    def embed(self, table, tokens):
        return super().embed(table, tokens).to(table.weight.dtype)


class Attnc:
    """The C API of libattnc_bench.so through ctypes, one model at a time."""

    def __init__(self, lib_path):
        self.lib = ctypes.CDLL(lib_path)
        self.lib.attnc_bench_registry.restype = ctypes.c_void_p
        self.lib.attnc_last_error.restype = ctypes.c_char_p
        self.check(self.lib.attnc_set_threads(THREADS))
        self.registry = ctypes.c_void_p(self.lib.attnc_bench_registry(b"transformer"))
        self.handle = None

    def check(self, status):
        if status != 0:
            raise RuntimeError("attnc: " + self.lib.attnc_last_error().decode())

    def load(self, weights, model):
        """Prepares `model` of the registry, freeing the one before."""
        if self.handle:
            self.lib.attnc_model_free(self.handle)
        self.handle = ctypes.c_void_p()
        self.check(self.lib.attnc_model_load_model(
            self.registry, weights.encode(), model.encode(), ctypes.byref(self.handle)))

    def run(self, function, inputs, outputs):
        """Runs `function` on (name, numpy array) inputs, writing the
        (name, f32 numpy array) outputs in place."""
        n, m = len(inputs), len(outputs)
        arrays = [a for _, a in inputs]
        shapes = [np.array(a.shape, dtype=np.int64) for a in arrays]
        out_shapes = np.zeros((m, 4), dtype=np.int64)
        self.check(self.lib.attnc_model_run(
            self.handle, function.encode(), n,
            (ctypes.c_char_p * n)(*[k.encode() for k, _ in inputs]),
            (ctypes.c_int * n)(*[1 if a.dtype == np.int32 else 0 for a in arrays]),
            (ctypes.c_int * n)(*[a.ndim for a in arrays]),
            (ctypes.POINTER(ctypes.c_int64) * n)(
                *[s.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)) for s in shapes]),
            (ctypes.c_void_p * n)(*[a.ctypes.data for a in arrays]),
            m, (ctypes.c_char_p * m)(*[k.encode() for k, _ in outputs]),
            (ctypes.POINTER(ctypes.c_float) * m)(
                *[a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for _, a in outputs]),
            (ctypes.c_int64 * m)(*[a.size for _, a in outputs]),
            out_shapes.ctypes.data_as(ctypes.POINTER(ctypes.c_int64 * 4))))

    def forward(self, model, src, tgt):
        """Teacher-forced logits [1, LENGTH, VOCAB]: encode, then decode."""
        lengths = np.array([LENGTH], dtype=np.int32)
        memory = np.zeros((1, LENGTH, D_MODEL), dtype=np.float32)
        logits = np.zeros((1, LENGTH, VOCAB), dtype=np.float32)
        self.run(model + "_encode", [("src_tokens", src), ("src_lengths", lengths)],
                 [("memory", memory)])
        self.run(model + "_decode", [("tgt_tokens", tgt), ("tgt_lengths", lengths),
                                     ("memory", memory), ("src_lengths", lengths)],
                 [("logits", logits)])
        return logits

    def greedy(self, src):
        """STEPS greedy tokens [1, STEPS] after encoding `src` (KV cache)."""
        lengths = np.array([LENGTH], dtype=np.int32)
        tokens = np.zeros((1, STEPS), dtype=np.int32)
        counts = np.zeros(1, dtype=np.int64)
        i32 = ctypes.POINTER(ctypes.c_int32)
        self.check(self.lib.attnc_model_greedy_decode(
            self.handle, src.ctypes.data_as(i32), lengths.ctypes.data_as(i32),
            ctypes.c_int64(1), ctypes.c_int64(LENGTH), BOS, EOS, ctypes.c_int64(STEPS),
            tokens.ctypes.data_as(i32), counts.ctypes.data_as(ctypes.POINTER(ctypes.c_int64))))
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
    attnc = Attnc(os.path.join(args.build, "bench", "libattnc_bench.so"))
    for dtype, name in MODELS.items():
        attnc.load(args.weights, name)
        logits = attnc.forward(name, src, tgt)
        rows.append(dict(name="attnc " + dtype, vs_f32=errors(logits, ref_f32),
                         vs_bf16=errors(logits, ref_bf16),
                         greedy=agreement(attnc.greedy(src), ref_tokens)))
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
