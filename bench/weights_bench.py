"""Linear weights stored as f32, bf16, f16 and int8, measured in one run.

For each round, runs `transformer` (examples/transformer: the 6+6 model,
batch 1) once per weight type, in turn, so that every type sees the same
machine state; reports medians of the encoder (128 source tokens), the
training-style forward pass (encoder plus the decoder over 128 target
tokens at once) and 32 greedy decoding steps with the KV cache (with the
encoder, as the example times it, and alone: that less the run's encoder
time), with ratios to f32 from the same run,
and the prepared weights' size. With --activations, also the f32- and
bf16-weight models with bf16 activations (`transformer --activations
bf16`) in the same rounds. Then scores the dates model on its 1000
held-out dates with each weight type (`dates --eval`).

    python3 bench/weights_bench.py --build build [--rounds 7] [--threads 2]
                                   [--no-dates] [--activations]
"""
import argparse
import re
import statistics
import subprocess
import sys

TYPES = ["f32", "bf16", "f16", "int8"]
PATTERNS = {
    "weights_mb": r"([\d.]+) MB of weights",
    "encode_ms": r"encode \d+ x \d+ tokens: ([\d.]+) ms",
    "decode_ms": r"decode \d+ x \d+ target tokens at once: ([\d.]+) ms",
    "greedy_ms": r"greedy decode \d+ steps \(encoder included\): ([\d.]+) ms",
}


def run_transformer(build, config, threads, weights):
    """`config`: a weight type, or "<type>/bf16-act" for bf16 activations."""
    dtype, _, act = config.partition("/")
    out = subprocess.run(
        [f"{build}/bin/transformer", "--src-len", "128", "--steps", "32",
         "--threads", str(threads), "--weights-dtype", dtype,
         "--activations", "bf16" if act else "f32", "--weights", weights],
        check=True, capture_output=True, text=True).stdout
    values = {}
    for key, pattern in PATTERNS.items():
        match = re.search(pattern, out)
        if not match:
            sys.exit(f"transformer --weights-dtype {dtype}: no '{key}' in:\n"
                     f"{out}")
        values[key] = float(match.group(1))
    values["forward_ms"] = values["encode_ms"] + values["decode_ms"]
    # The steps alone: the greedy run less this run's own encoder timing
    # (the greedy run encodes the same 128 tokens once more).
    values["steps_ms"] = values["greedy_ms"] - values["encode_ms"]
    return values


def dates_accuracy(build, source, dtype):
    out = subprocess.run(
        [f"{build}/bin/dates", "--eval",
         f"{source}/examples/dates/held_out.tsv", "--weights-dtype", dtype],
        check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1] if out.strip() else "(no output)"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--source", default=".")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-dates", action="store_true")
    p.add_argument("--activations", action="store_true",
                   help="also f32 and bf16 weights with bf16 activations")
    args = p.parse_args()
    weights = f"{args.build}/examples/transformer.safetensors"
    configs = TYPES + (["f32/bf16-act", "bf16/bf16-act"] if args.activations
                       else [])
    runs = {t: [] for t in configs}
    for _ in range(args.rounds):
        for t in configs:
            runs[t].append(run_transformer(args.build, t, args.threads,
                                           weights))
    med = {t: {k: statistics.median(r[k] for r in runs[t])
               for k in runs[t][0]} for t in configs}
    print(f"# 6+6 transformer, batch 1, {args.threads} threads, medians of "
          f"{args.rounds} rounds (types interleaved)\n")
    print("| weights | prepared weights | encode 128 | forward 128+128 | "
          "greedy 32 (with encoder) | 32 steps alone | forward vs f32 | "
          "greedy vs f32 | steps vs f32 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    f32 = med["f32"]
    for t in configs:
        m = med[t]
        print(f"| {t} | {m['weights_mb']:.1f} MB | {m['encode_ms']:.2f} ms | "
              f"{m['forward_ms']:.2f} ms | {m['greedy_ms']:.2f} ms | "
              f"{m['steps_ms']:.2f} ms | "
              f"{f32['forward_ms'] / m['forward_ms']:.2f}x | "
              f"{f32['greedy_ms'] / m['greedy_ms']:.2f}x | "
              f"{f32['steps_ms'] / m['steps_ms']:.2f}x |")
    if args.no_dates:
        return
    print("\n# dates model, 1000 held-out dates (dates --eval)\n")
    for t in TYPES:
        print(f"- {t}: {dates_accuracy(args.build, args.source, t)}")


if __name__ == "__main__":
    main()
