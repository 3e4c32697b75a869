"""attnc's fused attention on a GPU next to PyTorch's on the same GPU.

    python3 bench/gpu_compare.py ATTNC_BENCH_OUTPUT [--reps N]

Reads the lines `attnc[schedule] D=.. L=.. causal=.. <ms> ms ...` that
attnc-cuda-attention-bench printed, times
torch.nn.functional.scaled_dot_product_attention in fp32 on the same shapes
(B=1, H=16, [B, H, L, D] tensors on the GPU, PyTorch's own choice of
backend, 3 warm-ups, median of N calls timed with CUDA events), and prints
one markdown table. Useful FLOPs: 4 H L^2 D, half of that when causal.
scripts/gpu-check.sh runs it.
"""

import argparse
import re
import statistics

import torch
import torch.nn.functional as F

HEADS = 16
LINE = re.compile(
    r"attnc\[(\w+)\] D=(\d+) L=(\d+) causal=(\d) (?:([\d.]+) ms|(FAILED.*))")


def sdpa_ms(d, length, causal, reps):
    q, k, v = (torch.randn(1, HEADS, length, d, device="cuda") for _ in range(3))

    def run():
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    for _ in range(3):
        run()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        run()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("attnc_output")
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    print(f"# {torch.cuda.get_device_name(0)}; torch {torch.__version__}; "
          f"TF32 matmul {torch.backends.cuda.matmul.allow_tf32}")
    print("| attnc schedule | D | L | causal | attnc ms | attnc TFLOP/s | "
          "PyTorch SDPA ms | SDPA TFLOP/s | attnc / SDPA time |")
    print("|---|---:|---:|:---:|---:|---:|---:|---:|---:|")
    sdpa = {}  # (d, length, causal) -> ms, timed once per shape
    for line in open(args.attnc_output):
        m = LINE.match(line.strip())
        if not m:
            continue
        variant, d, length, causal = m[1], int(m[2]), int(m[3]), m[4] == "1"
        flops = 4.0 * HEADS * length * length * d * (0.5 if causal else 1.0)
        key = (d, length, causal)
        if key not in sdpa:
            sdpa[key] = sdpa_ms(d, length, causal, args.reps)
        theirs = sdpa[key]
        if m[6]:
            ours = f"{m[6]} | |"
            ratio = ""
        else:
            ms = float(m[5])
            ours = f"{ms:.3f} | {flops / ms * 1e-9:.2f}"
            ratio = f"{ms / theirs:.2f}x"
        print(f"| {variant} | {d} | {length} | {'yes' if causal else 'no'} | "
              f"{ours} | {theirs:.3f} | {flops / theirs * 1e-9:.2f} | {ratio} |",
              flush=True)


if __name__ == "__main__":
    main()
