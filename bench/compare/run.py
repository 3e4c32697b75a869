#!/usr/bin/env python3
"""attnc against the libraries users would pick instead, in one run.

    scripts/bench.sh compare [--rounds N] [--threads 1,2] [--quick] [--out DIR]
                             [--cases attention,layers,serving]

Starts one worker.py per thread count (fresh process: PyTorch reads its
threading environment at import), then writes to DIR (default
bench/results/latest): report.md (tables), attention-<n>t.svg (GFLOP/s
against sequence length per implementation), layers.svg (latency bars),
and results.json (every timing). Exits non-zero if any implementation's
output disagrees with the reference beyond tolerance. `--cases` runs some
of the three groups (e.g. `--cases serving` for a quick look at one); the
headline numbers come from a run of all three.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
# A timing is disturbed when other processes used more than this share of
# a core during it, and at least MIN_OTHER_S in all: /proc/stat counts in
# 10 ms ticks, so a single tick says nothing about a sub-millisecond case.
DISTURBED = 0.10
MIN_OTHER_S = 0.05


def median_ms(times):
    return statistics.median(times) * 1e3


def cpu_model():
    flags, model = "", "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and model == "unknown CPU":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line
    return model, " avx512f " in flags + " ", os.cpu_count()


def disturbed(result, label):
    other = result["other_cpu_s"][label]
    return other >= MIN_OTHER_S and other > DISTURBED * result["wall_s"][label]


def cell(result, label, text):
    return text + (" †" if disturbed(result, label) else "")


def check_row(result):
    bad = [f"{label} {err:.1e}" for label, err in result["errors"].items()
           if err > result["tolerance"]]
    return ("✗ " + ", ".join(bad)) if bad else f"✓ (max err {max(result['errors'].values()):.1e})"


def attention_tables(run):
    roof = run["roof"]["gflops"]
    labels = []
    for r in run["attention"]:
        for label in r["times"]:
            if label not in labels:
                labels.append(label)
    out = [f"### Attention, {run['threads']} thread{'s' if run['threads'] > 1 else ''} "
           f"(sgemm roof {roof:.1f} GFLOP/s)\n",
           "Median ms (GFLOP/s, % of the sgemm roof); *ratio* = best peer's time / attnc's "
           "(above 1: attnc is faster).\n",
           "| case | " + " | ".join(labels) + " | best peer | ratio | outputs |",
           "|---|" + "---:|" * len(labels) + "---|---:|---|"]
    for r in run["attention"]:
        cells = []
        for label in labels:
            if label not in r["times"]:
                cells.append("n/a")
                continue
            ms = median_ms(r["times"][label])
            gflops = r["flops"] / (ms * 1e-3) * 1e-9
            cells.append(cell(r, label, f"{ms:.3f} ({gflops:.0f}, {100 * gflops / roof:.0f}%)"))
        peers = {l: median_ms(t) for l, t in r["times"].items() if l != "attnc"}
        best = min(peers, key=peers.get)
        ratio = peers[best] / median_ms(r["times"]["attnc"])
        out.append(f"| {r['name']} | " + " | ".join(cells) +
                   f" | {best} | {ratio:.2f}x | {check_row(r)} |")
    return "\n".join(out) + "\n"


def peer_cells(r):
    """'label ms' of each peer, and the fastest peer's label and median ms."""
    peers = {label: median_ms(t) for label, t in r["times"].items() if label != "attnc"}
    best = min(peers, key=peers.get)
    cells = "; ".join(cell(r, label, f"{label} {ms:.2f}") for label, ms in peers.items())
    return cells, best, peers[best]


def layer_table(runs):
    out = ["| case | threads | attnc ms | peers ms | attnc speedup over the best peer | outputs |",
           "|---|---:|---:|---|---:|---|"]
    for run in runs:
        for r in run["layers"]:
            a = median_ms(r["times"]["attnc"])
            peers, best, ms = peer_cells(r)
            out.append(f"| {r['name']} | {run['threads']} | {cell(r, 'attnc', f'{a:.2f}')} | "
                       f"{peers} | {ms / a:.2f}x ({best}) | {check_row(r)} |")
    return "\n".join(out) + "\n"


def serving_table(runs):
    out = ["| threads | tokens | attnc ms | attnc tokens/s | peers ms | best peer tokens/s | "
           "attnc speedup | outputs |",
           "|---:|---:|---:|---:|---|---:|---:|---|"]
    for run in runs:
        for r in run.get("serving", []):
            a = median_ms(r["times"]["attnc"])
            peers, best, ms = peer_cells(r)
            out.append(f"| {run['threads']} | {r['tokens']} | {cell(r, 'attnc', f'{a:.1f}')} | "
                       f"{r['tokens'] / a * 1e3:.0f} | {peers} | {r['tokens'] / ms * 1e3:.0f} "
                       f"({best}) | {ms / a:.2f}x | {check_row(r)} |")
    return "\n".join(out) + "\n"


def cases_of(run):
    return run["attention"] + run["layers"] + run.get("serving", [])


def not_fastest(runs):
    lines = []
    for run in runs:
        for r in cases_of(run):
            a = median_ms(r["times"]["attnc"])
            for label, times in r["times"].items():
                if label != "attnc" and median_ms(times) < a:
                    lines.append(f"- {r['name']}, {run['threads']} thread(s): {label} "
                                 f"{median_ms(times):.3f} ms vs attnc {a:.3f} ms "
                                 f"({a / median_ms(times):.2f}x slower)")
    return "\n".join(lines) if lines else "- none: attnc was the fastest in every case."


# ---------------------------------------------------------------- SVG

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]


def svg_lines(title, panels, path):
    """panels: [(subtitle, {label: [(x, y), ...]})], log2 x axis."""
    import math
    pw, ph, left, top = 420, 300, 60, 50
    width = left + len(panels) * (pw + 40) + 220
    height = top + ph + 60
    labels = []
    for _, series in panels:
        for label in series:
            if label not in labels:
                labels.append(label)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{left}" y="22" font-size="15">{title}</text>']
    for p, (subtitle, series) in enumerate(panels):
        x0 = left + p * (pw + 40)
        xs = sorted({x for pts in series.values() for x, _ in pts})
        ymax = max(y for pts in series.values() for _, y in pts) * 1.1
        lx = lambda x: x0 + (math.log2(x) - math.log2(xs[0])) / max(  # noqa: E731
            1e-9, math.log2(xs[-1]) - math.log2(xs[0])) * pw
        ly = lambda y: top + ph - y / ymax * ph  # noqa: E731
        parts.append(f'<text x="{x0}" y="{top - 8}">{subtitle}</text>')
        parts.append(f'<rect x="{x0}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
        for i in range(6):
            y = ymax * i / 5
            parts.append(f'<line x1="{x0}" x2="{x0 + pw}" y1="{ly(y):.1f}" y2="{ly(y):.1f}" stroke="#eee"/>')
            parts.append(f'<text x="{x0 - 6}" y="{ly(y) + 4:.1f}" text-anchor="end">{y:.0f}</text>')
        for x in xs:
            parts.append(f'<text x="{lx(x):.1f}" y="{top + ph + 16}" text-anchor="middle">{x}</text>')
        parts.append(f'<text x="{x0 + pw / 2}" y="{top + ph + 34}" text-anchor="middle">sequence length L</text>')
        for label, pts in series.items():
            color = COLORS[labels.index(label) % len(COLORS)]
            pts = sorted(pts)
            d = " ".join(f"{lx(x):.1f},{ly(y):.1f}" for x, y in pts)
            parts.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
            for x, y in pts:
                parts.append(f'<circle cx="{lx(x):.1f}" cy="{ly(y):.1f}" r="3" fill="{color}"/>')
    parts.append(f'<text x="12" y="{top + ph / 2}" transform="rotate(-90 12 {top + ph / 2})" '
                 f'text-anchor="middle">GFLOP/s</text>')
    lx0 = left + len(panels) * (pw + 40)
    for i, label in enumerate(labels):
        y = top + 10 + i * 20
        parts.append(f'<rect x="{lx0}" y="{y - 9}" width="14" height="10" fill="{COLORS[i % len(COLORS)]}"/>')
        parts.append(f'<text x="{lx0 + 20}" y="{y}">{label}</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def svg_bars(title, groups, path):
    """groups: [(case, [(label, ms)])]; each group scaled to its own maximum."""
    row, bar, left, width = 24, 16, 330, 760
    labels = sorted({label for _, bars in groups for label, _ in bars})
    height = 50 + sum(len(b) * row + 14 for _, b in groups) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + left + 80}" '
             f'height="{height}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="10" y="22" font-size="15">{title}</text>']
    y = 44
    for case, bars in groups:
        top = max(ms for _, ms in bars)
        parts.append(f'<text x="10" y="{y + 12}" font-weight="bold">{case}</text>')
        for label, ms in bars:
            color = COLORS[labels.index(label.split(" (")[0]) % len(COLORS)] \
                if label.split(" (")[0] in labels else COLORS[0]
            w = ms / top * width * 0.8
            parts.append(f'<text x="{left - 8}" y="{y + 12}" text-anchor="end">{label}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="{color}"/>')
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 12}">{ms:.2f} ms</text>')
            y += row
        y += 14
    parts.append(f'<text x="10" y="{height - 10}" fill="#555">Bars within a case share a scale '
                 '(the slowest is longest); shorter is faster.</text></svg>')
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def plots(runs, out):
    files = []
    for run in runs:
        if not run["attention"]:
            continue
        panels = []
        for group, title in (("self-full", "self-attention"), ("self-causal", "causal self-attention")):
            series = {}
            for r in run["attention"]:
                if r["group"] != group:
                    continue
                for label, times in r["times"].items():
                    series.setdefault(label, []).append(
                        (r["lq"], r["flops"] / (median_ms(times) * 1e-3) * 1e-9))
            if series:
                panels.append((title, series))
        name = f"attention-{run['threads']}t.svg"
        svg_lines(f"Attention B=1 H=8 D=64 fp32, {run['threads']} thread(s): GFLOP/s (higher is better)",
                  panels, os.path.join(out, name))
        files.append(name)
    groups = []
    for r in runs[0]["layers"]:
        bars = []
        for run in runs:
            match = [x for x in run["layers"] if x["name"] == r["name"]][0]
            # attnc and its PyTorch peer ("PyTorch", or "PyTorch, KV cache"
            # where decoding rows also time nn.Transformer without one).
            for label, times in match["times"].items():
                if label == "attnc" or label.startswith("PyTorch"):
                    bars.append((f"{label} ({run['threads']}t)", median_ms(times)))
        groups.append((r["name"], bars))
    if not groups:
        return files
    svg_bars("Layer latency, attnc and PyTorch, same weights (median ms)", groups,
             os.path.join(out, "layers.svg"))
    return files + ["layers.svg"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", default=os.path.join(ROOT, "build", "bench", "libattnc_bench.so"))
    p.add_argument("--transformer-weights",
                   default=os.path.join(ROOT, "build", "examples", "transformer.safetensors"))
    p.add_argument("--rounds", type=int, default=11)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--cases", default="attention,layers,serving",
                   help="comma-separated groups to run (of attention, layers, serving); "
                        "the headline runs all three")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "latest"))
    p.add_argument("--render-only", action="store_true",
                   help="rewrite the report and plots from the results-*.json in --out")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    model, avx512, cores = cpu_model()
    env = dict(os.environ)
    if avx512:
        env["OPENBLAS_CORETYPE"] = "SkylakeX"  # OpenBLAS 0.3.21 would pick AVX2 kernels
    # Page faults are expensive on this VM, and glibc returns every freed
    # buffer above its (adaptive) mmap threshold to the kernel. Keep freed
    # memory for reuse instead: PyTorch's plain attention at L=1024 drops
    # from ~300 to ~125 ms with these. Same environment for every peer.
    env.update(MALLOC_MMAP_THRESHOLD_="33554432", MALLOC_TRIM_THRESHOLD_="1073741824",
               MALLOC_TOP_PAD_="268435456")
    runs = []
    for threads in [int(t) for t in args.threads.split(",")]:
        json_path = os.path.join(args.out, f"results-{threads}t.json")
        if args.render_only:
            with open(json_path) as f:
                runs.append(json.load(f))
            continue
        cmd = ["/usr/bin/python3", os.path.join(HERE, "worker.py"), "--lib", args.lib,
               "--threads", str(threads), "--rounds", str(args.rounds),
               "--work", os.path.join(args.out, "work"),
               "--transformer-weights", args.transformer_weights, "--out", json_path]
        if args.quick:
            cmd.append("--quick")
        cmd += ["--cases", args.cases]
        subprocess.run(cmd, check=True, env=env)
        with open(json_path) as f:
            runs.append(json.load(f))

    figures = plots(runs, args.out)
    ok = all(err <= r["tolerance"] for run in runs for r in cases_of(run)
             for err in r["errors"].values())
    command = "scripts/bench.sh compare " + " ".join(
        a for a in sys.argv[1:] if a != "--render-only")
    lines = [f"# attnc against its peers ({datetime.date.today()})\n",
             f"- machine: {model}, {cores} cores{', OPENBLAS_CORETYPE=SkylakeX' if avx512 else ''}",
             f"- peers: PyTorch {runs[0]['torch']} (OMP_WAIT_POLICY=PASSIVE, OMP/OPENBLAS threads = "
             f"threads), ONNX Runtime {runs[0].get('ort')} (onnxruntime-node, intra-op threads = threads), "
             f"OpenBLAS {runs[0]['roof']['config']}",
             "- sgemm roof (OpenBLAS, the better of N = 1024 and 2048, this run): " + ", ".join(
                 f"{run['roof']['gflops']:.1f} GFLOP/s with {run['threads']} thread(s)" for run in runs),
             "- environment for all: MALLOC_MMAP_THRESHOLD_=32 MiB, MALLOC_TRIM_THRESHOLD_=1 GiB, "
             "MALLOC_TOP_PAD_=256 MiB (glibc keeps freed buffers instead of unmapping them; page "
             "faults are slow on this VM)",
             f"- {runs[0]['rounds']} timed rounds after a warm-up; every round runs all implementations "
             "of a case in turn, each timed call after a 0.2 s pause (OpenBLAS's threads spin for "
             "~0.1 s after PyTorch's GEMMs) and 20 ms of untimed calls (after a pause the cores need "
             "milliseconds of work to come back to speed); medians. † marks timings during which "
             "other processes used "
             f"more than {int(DISTURBED * 100)}% of a core and {MIN_OTHER_S} s in all (from /proc/stat, "
             "in 10 ms ticks).",
             f"- command: `{command}` (python {platform.python_version()} orchestrator)",
             f"- outputs checked against a float64 reference (attention: max abs error <= 1e-4) "
             "or PyTorch (layers: <= 1e-3, tokens identical): " + ("all agree" if ok else "**DISAGREEMENT**"),
             ""]
    for run in runs:
        if run["attention"]:
            lines.append(attention_tables(run))
    if any(run["layers"] for run in runs):
        lines += ["### Layers (batch 1, d_model 512, 8 heads, FFN 2048)\n", layer_table(runs)]
    if any(run.get("serving") for run in runs):
        sv = next(run["serving"][0] for run in runs if run.get("serving"))
        lines += [f"### Serving: the 6+6 model on {sv['sentences']} sentences\n",
                  f"Lengths drawn from {sv['min_len']} to {sv['max_len']} tokens (seed {sv['seed']}), "
                  f"encoded as one padded batch, greedy-decoded to end-of-sequence (token "
                  f"{sv['eos']}) or {sv['max_new']} tokens; tokens = tokens generated. PyTorch "
                  "decodes with a key/value cache written with the model's own modules "
                  "(python/attnc_torch/models.py, Seq2Seq.greedy_cached).\n",
                  serving_table(runs)]
    lines += ["### Where attnc is not the fastest\n", not_fastest(runs), "",
              "### Plots\n"] + [f"![{f}]({f})" for f in figures]
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}/report.md and {', '.join(figures)}")
    if not ok:
        sys.exit("some implementation's output disagrees with the reference")


if __name__ == "__main__":
    main()
