#!/usr/bin/env python3
"""The 6+6 transformer of examples/transformer, attnc against PyTorch 1.13.

    scripts/bench.sh transformer [rounds]

One process per thread count (PyTorch reads its threading environment at
import): PyTorch gets its best configuration (OMP_WAIT_POLICY=PASSIVE and
OPENBLAS_NUM_THREADS equal to the thread count; without them libgomp's
spinning workers and OpenBLAS's own threads oversubscribe the cores). Both
implementations load the same safetensors weights and run in the same
process, alternating case by case in every round, each timed call after a
0.2 s pause and an untimed call; the tables give medians.

Cases (batch 1, d_model 512, 8 heads, FFN 2048, vocabulary 1000):
  forward  encoder on 128 source tokens + decoder on 128 target tokens
  decode   32 greedy steps after encoding (attnc: KV cache; PyTorch: the
           usual loop, which decodes the whole prefix again every step)
Outputs are cross-checked: forward logits within 1e-3, identical tokens.

On a GPU (scripts/gpu-check.sh): --device cuda runs PyTorch on the GPU in
fp32 (TF32 off) and --lib names libattnc_cuda_bench.so, the same model
compiled for CUDA with the device-resident runtime; every timed call ends
with the results on the host (attnc copies them back, PyTorch is
synchronized). A --weights file that does not exist is written first from
a seeded random initialisation.
"""
import argparse
import ctypes
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--device", default="cpu", help="PyTorch's device")
    args = parser.parse_args()

    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import numpy as np
    import torch
    sys.path.insert(0, os.path.join(HERE, "..", "python"))
    from attnc_torch import safetensors
    from attnc_torch.models import Seq2Seq

    torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if not os.path.exists(args.weights):
        torch.manual_seed(0)
        fresh = Seq2Seq(512, 8, 6, 2048, 1000, 1000)
        safetensors.save(args.weights, {name: value.numpy() for name, value
                                        in fresh.state_dict().items()})
    model = Seq2Seq(512, 8, 6, 2048, 1000, 1000).eval()
    model.load_safetensors(safetensors.load(args.weights))
    device = torch.device(args.device)
    model = model.to(device)

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()

    lib = ctypes.CDLL(args.lib)
    lib.attnc_bench_registry.restype = ctypes.c_void_p
    lib.attnc_last_error.restype = ctypes.c_char_p
    handle = ctypes.c_void_p()

    def check(status):
        if status != 0:
            raise RuntimeError(lib.attnc_last_error().decode())

    # The registry also holds the model's reduced-precision variants: only
    # the f32 one is prepared.
    check(lib.attnc_model_load_model(ctypes.c_void_p(lib.attnc_bench_registry(b"transformer")),
                                     args.weights.encode(), b"transformer",
                                     ctypes.byref(handle)))
    check(lib.attnc_set_threads(args.threads))

    length, steps, vocab = 128, 32, 1000
    rng = np.random.default_rng(7)
    src = rng.integers(3, vocab, size=(1, length)).astype(np.int32)
    tgt = rng.integers(3, vocab, size=(1, length)).astype(np.int32)
    lengths = np.array([length], dtype=np.int32)
    memory = np.zeros((1, length, 512), dtype=np.float32)
    logits = np.zeros((1, length, vocab), dtype=np.float32)
    tokens = np.zeros((1, steps), dtype=np.int32)
    counts = np.zeros(1, dtype=np.int64)

    def run(function, inputs, outputs):
        names = [n.encode() for n, _ in inputs]
        arrays = [a for _, a in inputs]
        n = len(arrays)
        shapes = [np.array(a.shape, dtype=np.int64) for a in arrays]
        out_names = [n_.encode() for n_, _ in outputs]
        out_arrays = [a for _, a in outputs]
        out_shapes = np.zeros((len(outputs), 4), dtype=np.int64)
        check(lib.attnc_model_run(
            handle, function.encode(), n,
            (ctypes.c_char_p * n)(*names),
            (ctypes.c_int * n)(*[1 if a.dtype == np.int32 else 0 for a in arrays]),
            (ctypes.c_int * n)(*[a.ndim for a in arrays]),
            (ctypes.POINTER(ctypes.c_int64) * n)(*[s.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)) for s in shapes]),
            (ctypes.c_void_p * n)(*[a.ctypes.data for a in arrays]),
            len(outputs), (ctypes.c_char_p * len(outputs))(*out_names),
            (ctypes.POINTER(ctypes.c_float) * len(outputs))(*[a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for a in out_arrays]),
            (ctypes.c_int64 * len(outputs))(*[a.size for a in out_arrays]),
            out_shapes.ctypes.data_as(ctypes.POINTER(ctypes.c_int64 * 4))))

    def attnc_forward():
        run("transformer_encode", [("src_tokens", src), ("src_lengths", lengths)],
            [("memory", memory)])
        run("transformer_decode", [("tgt_tokens", tgt), ("tgt_lengths", lengths),
                                   ("memory", memory), ("src_lengths", lengths)],
            [("logits", logits)])

    def attnc_decode():
        check(lib.attnc_model_greedy_decode(
            handle, src.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
            lengths.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
            ctypes.c_int64(1), ctypes.c_int64(length), 1, -1, ctypes.c_int64(steps),
            tokens.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
            counts.ctypes.data_as(ctypes.POINTER(ctypes.c_int64))))

    torch_src = torch.from_numpy(src.astype(np.int64)).to(device)
    torch_tgt = torch.from_numpy(tgt.astype(np.int64)).to(device)
    torch_out = {}

    def torch_forward():
        with torch.no_grad():
            torch_out["logits"] = model.decode(torch_tgt, None, model.encode(torch_src), None)
        synchronize()

    def torch_decode():
        with torch.no_grad():
            torch_out["tokens"] = model.greedy(torch_src, None, 1, -1, steps)
        synchronize()

    cases = [("forward", attnc_forward, torch_forward), ("decode 32 steps", attnc_decode, torch_decode)]
    times = {(c, impl): [] for c, _, _ in cases for impl in ("attnc", "PyTorch")}
    for c, a, t in cases:  # warm-up
        a()
        t()
    for _ in range(args.rounds):
        for c, a, t in cases:
            for impl, f in (("attnc", a), ("PyTorch", t)):
                # OpenBLAS's threads spin ~0.1 s after PyTorch's GEMMs: let
                # them stop, then bring this implementation back to its
                # steady state with an untimed call (as bench/compare does).
                time.sleep(0.2)
                f()
                start = time.perf_counter()
                f()
                times[(c, impl)].append(time.perf_counter() - start)

    logits_error = float(np.abs(logits - torch_out["logits"].cpu().numpy()).max())
    same_tokens = bool((tokens == torch_out["tokens"].cpu().numpy()).all())
    where = (torch.cuda.get_device_name(device) if device.type == "cuda" else
             f"{args.threads} thread{'s' if args.threads > 1 else ''}")
    print(f"\n## {where} (median of {args.rounds} rounds)\n")
    print("| case | attnc ms | PyTorch ms | speedup |\n|---|---:|---:|---:|")
    for c, _, _ in cases:
        a = statistics.median(times[(c, "attnc")]) * 1e3
        t = statistics.median(times[(c, "PyTorch")]) * 1e3
        print(f"| {c} | {a:.1f} | {t:.1f} | {t / a:.2f}x |")
    print(f"\nchecks: forward logits max |attnc - PyTorch| = {logits_error:.2e}; "
          f"greedy tokens identical: {same_tokens}")
    if logits_error > 1e-3 or not same_tokens:
        sys.exit("outputs differ")


if __name__ == "__main__":
    main()
