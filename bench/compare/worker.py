#!/usr/bin/env python3
"""One thread count of bench/compare (run.py starts one worker per count).

PyTorch reads its threading environment at import, so each thread count
gets a fresh process. In it: attnc through its C API (ctypes, the shared
library bench/BenchApi.c builds), PyTorch 1.13, and ONNX Runtime in a Node
child (ort_server.mjs) started with the same thread count. Every round runs
every implementation of a case once, each after a short pause and 20 ms
of untimed calls, then the next case; the JSON written to --out holds
every timing, the CPU time other processes used during each
implementation's timings, and each output's error against the reference.
"""
import argparse
import ctypes
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
H, D = 8, 64
W = H * D


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", required=True, help="libattnc_bench.so")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--rounds", type=int, default=11)
    p.add_argument("--work", required=True, help="scratch folder")
    p.add_argument("--transformer-weights", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--quick", action="store_true", help="fewer cases, for a smoke run")
    p.add_argument("--cases", default="attention,layers,serving",
                   help="comma-separated groups to run (of attention, layers, serving)")
    return p.parse_args()


args = parse_args()
CASES = set(args.cases.split(","))
# PyTorch's best configuration (see docs/performance.md): libgomp's workers
# must not spin, and OpenBLAS must not add threads of its own.
os.environ["OMP_NUM_THREADS"] = str(args.threads)
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
from attnc_torch import safetensors  # noqa: E402
from attnc_torch.models import Seq2Seq  # noqa: E402
import onnx_models  # noqa: E402
from attnc_capi import Attnc  # noqa: E402

torch.set_num_threads(args.threads)
torch.set_flush_denormal(True)
HZ = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- CPU time


def busy_seconds():
    """CPU time all processes spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / HZ


def process_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


class Meter:
    """CPU seconds that processes other than this one and its ONNX Runtime
    child used. /proc counts in clock ticks (10 ms), so only sums over many
    timings mean anything; run.py flags a case whose sum is large."""

    def __init__(self, child_pid):
        self.pids = [os.getpid(), child_pid]

    def read(self):
        return busy_seconds(), sum(process_seconds(p) for p in self.pids)


# ---------------------------------------------------------------- attnc


# ---------------------------------------------------------------- ONNX Runtime


class OrtServer:
    def __init__(self, threads):
        self.threads = threads
        self.proc = subprocess.Popen(["node", os.path.join(HERE, "ort_server.mjs")],
                                     cwd=HERE, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.next_id = 0
        with open(os.path.join(HERE, "node_modules", "onnxruntime-node", "package.json")) as f:
            self.version = json.load(f)["version"]

    def request(self, **message):
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        if not reply.pop("ok"):
            raise RuntimeError("ONNX Runtime: " + reply["error"])
        return reply

    def session(self, model_path, inputs):
        """inputs: name -> (numpy array, file path). Returns the session id."""
        self.next_id += 1
        spec = {}
        for name, (array, path) in inputs.items():
            array.tofile(path)
            spec[name] = {"file": path, "dims": list(array.shape),
                          "type": "int32" if array.dtype == np.int32 else "float32"}
        self.request(op="load", id=self.next_id, model=model_path, threads=self.threads,
                     inputs=spec)
        return self.next_id

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


# ---------------------------------------------------------------- attention


def attention_cases(quick):
    lengths = [128, 1024] if quick else [128, 512, 1024, 2048, 4096]
    cases = []
    for causal in (False, True):
        for L in lengths:
            cases.append(dict(name=f"{'causal' if causal else 'full'} L={L}", lq=L, lk=L,
                              causal=causal, kv_heads=H, group="self-" + ("causal" if causal else "full")))
    cases.append(dict(name="cross Lq=128 Lk=1024", lq=128, lk=1024, causal=False, kv_heads=H,
                      group="cross"))
    for L in ([512] if quick else [512, 2048]):
        cases.append(dict(name=f"GQA causal kv=2 L={L}", lq=L, lk=L, causal=True, kv_heads=2,
                          group="gqa"))
    return cases


def reference_attention(q, k, v, causal, kv_heads):
    """float64, one head at a time: the independent reference."""
    lq, lk = q.shape[1], k.shape[1]
    qd = torch.from_numpy(q[0]).double().view(lq, H, D)
    kd = torch.from_numpy(k[0]).double().view(lk, kv_heads, D)
    vd = torch.from_numpy(v[0]).double().view(lk, kv_heads, D)
    out = torch.empty(lq, H, D, dtype=torch.float64)
    mask = torch.ones(lq, lk, dtype=torch.bool).triu(1) if causal else None
    for h in range(H):
        g = h // (H // kv_heads)
        s = qd[:, h] @ kd[:, g].T / D ** 0.5
        if mask is not None:
            s = s.masked_fill(mask, float("-inf"))
        out[:, h] = torch.softmax(s, -1) @ vd[:, g]
    return out.reshape(1, lq, W).numpy()


def torch_attention(q, k, v, causal, kv_heads, sdpa):
    """[1, L, H*D] in and out, as the other implementations; the layout
    changes are part of what is timed."""
    lq, lk = q.shape[1], k.shape[1]
    qt = q.view(1, lq, H, D).transpose(1, 2)
    kt = k.view(1, lk, kv_heads, D).transpose(1, 2)
    vt = v.view(1, lk, kv_heads, D).transpose(1, 2)
    if kv_heads != H:
        kt = kt.repeat_interleave(H // kv_heads, dim=1)
        vt = vt.repeat_interleave(H // kv_heads, dim=1)
    if sdpa:
        out, _ = torch.nn.functional._scaled_dot_product_attention(
            qt, kt, vt, None, 0.0, False, causal)
    else:
        s = qt @ kt.transpose(-1, -2) * (1.0 / D ** 0.5)
        if causal:
            s = s + torch.full((lq, lk), float("-inf")).triu(1)
        out = torch.softmax(s, -1) @ vt
    return out.transpose(1, 2).reshape(1, lq, W)


def setup_attention(case, attnc, ort, work):
    """{implementation: (run, result)}: run() times nothing itself; result()
    returns the last output as numpy. Also the reference output."""
    rng = np.random.default_rng(case["lq"] * 31 + case["lk"] + case["kv_heads"])
    kw = case["kv_heads"] * D
    q = rng.uniform(-1, 1, (1, case["lq"], W)).astype(np.float32)
    k = rng.uniform(-1, 1, (1, case["lk"], kw)).astype(np.float32)
    v = rng.uniform(-1, 1, (1, case["lk"], kw)).astype(np.float32)
    causal, kv = case["causal"], case["kv_heads"]
    impls = {}

    function = "gqa_causal" if kv != H else ("causal" if causal else "full")
    attnc_out = np.zeros((1, case["lq"], W), dtype=np.float32)
    impls["attnc"] = (attnc.runner("attention", function,
                                   [("query", q), ("key", k), ("value", v)],
                                   [("output", attnc_out)]), lambda: attnc_out)

    tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
    for label, sdpa in (("PyTorch matmul-softmax", False), ("PyTorch SDPA", True)):
        holder = {}

        def run(sdpa=sdpa, holder=holder):
            with torch.no_grad():
                holder["out"] = torch_attention(tq, tk, tv, causal, kv, sdpa)
        impls[label] = (run, lambda holder=holder: holder["out"].numpy())

    kinds = ["attention"]
    if kv == H:
        kinds.append("mha")
    if causal and case["lq"] == case["lk"]:
        kinds.append("gqa")
    labels = {"mha": "ORT MultiHeadAttention", "gqa": "ORT GroupQueryAttention",
              "attention": "ORT Attention (opset 23)"}
    tag = case["name"].replace(" ", "_").replace("=", "")
    for kind in kinds:
        model = onnx_models.save(kind, H, kv, D, causal, os.path.join(work, f"{kind}_{tag}.onnx"))
        inputs = {"query": (q, os.path.join(work, f"{tag}_q.bin")),
                  "key": (k, os.path.join(work, f"{tag}_k.bin")),
                  "value": (v, os.path.join(work, f"{tag}_v.bin"))}
        if kind == "gqa":
            inputs["seqlens_k"] = (np.array([case["lk"] - 1], dtype=np.int32),
                                   os.path.join(work, f"{tag}_seqlens.bin"))
            inputs["total_sequence_length"] = (np.array(case["lk"], dtype=np.int32),
                                               os.path.join(work, f"{tag}_total.bin"))
        try:
            sid = ort.session(model, inputs)
        except RuntimeError as error:
            print(f"  {labels[kind]} unavailable for {case['name']}: {error}", file=sys.stderr)
            continue
        dump = os.path.join(work, f"{kind}_{tag}_out.bin")

        def result(sid=sid, dump=dump, lq=case["lq"]):
            ort.request(op="dump", id=sid, file=dump)
            return np.fromfile(dump, dtype=np.float32).reshape(1, lq, W)
        impls[labels[kind]] = (("ort", sid), result)
    return impls, reference_attention(q, k, v, causal, kv)


# ---------------------------------------------------------------- layers


def layer_weights(work):
    """The 1+1-layer model's weights: PyTorch's own initialization, seed 0,
    saved for attnc (names as nn.Transformer's state_dict)."""
    path = os.path.join(work, "layer.safetensors")
    torch.manual_seed(0)
    model = Seq2Seq(512, 8, 1, 2048, 1000, 1000).eval()
    safetensors.save(path, {k: v.numpy() for k, v in model.state_dict().items()})
    return path, model


big_torch = None


def load_transformer(attnc):
    """The 6+6 model in attnc and in PyTorch (big_torch), once: the layers and
    serving groups both use it, and either may run alone (--cases)."""
    global big_torch
    if big_torch is not None:
        return
    attnc.load("transformer", args.transformer_weights, model="transformer")
    big_torch = Seq2Seq(512, 8, 6, 2048, 1000, 1000).eval()
    big_torch.load_safetensors(safetensors.load(args.transformer_weights))


def setup_layers(attnc, quick):
    """(name, {impl: (run, result)}, tolerance) per layer case."""
    layer_path, layer_torch = layer_weights(args.work)
    attnc.load("layer", layer_path)
    load_transformer(attnc)

    L, vocab, steps = 128, 1000, 32
    rng = np.random.default_rng(7)
    src = rng.integers(3, vocab, size=(1, L)).astype(np.int32)
    tgt = rng.integers(3, vocab, size=(1, L)).astype(np.int32)
    lengths = np.array([L], dtype=np.int32)
    tsrc, ttgt = torch.from_numpy(src.astype(np.int64)), torch.from_numpy(tgt.astype(np.int64))
    cases = []

    def attnc_pair(model, prefix):
        memory = np.zeros((1, L, 512), dtype=np.float32)
        logits = np.zeros((1, L, vocab), dtype=np.float32)
        encode = attnc.runner(model, prefix + "_encode",
                              [("src_tokens", src), ("src_lengths", lengths)], [("memory", memory)])
        decode = attnc.runner(model, prefix + "_decode",
                              [("tgt_tokens", tgt), ("tgt_lengths", lengths), ("memory", memory),
                               ("src_lengths", lengths)], [("logits", logits)])
        return memory, logits, encode, decode

    memory1, logits1, enc1, dec1 = attnc_pair("layer", "layer")
    enc1()  # the decoder layer case reads this memory
    with torch.no_grad():
        tmem1 = layer_torch.encode(tsrc)
    out = {}

    def t_enc1():
        with torch.no_grad():
            out["enc1"] = layer_torch.encode(tsrc)

    def t_dec1():
        with torch.no_grad():
            out["dec1"] = layer_torch.decode(ttgt, None, tmem1)
    cases.append(("encoder layer (L=128, with embedding)",
                  {"attnc": (enc1, lambda: memory1.copy()),
                   "PyTorch": (t_enc1, lambda: out["enc1"].numpy())}, 1e-3))
    cases.append(("decoder layer (L=128, with embedding and vocabulary projection)",
                  {"attnc": (dec1, lambda: logits1.copy()),
                   "PyTorch": (t_dec1, lambda: out["dec1"].numpy())}, 1e-3))
    if quick:
        return cases

    memory6, logits6, enc6, dec6 = attnc_pair("transformer", "transformer")

    def a_forward():
        enc6()
        dec6()

    def t_forward():
        with torch.no_grad():
            out["fwd"] = big_torch.decode(ttgt, None, big_torch.encode(tsrc))
    cases.append(("6+6 transformer forward (src = tgt = 128)",
                  {"attnc": (a_forward, lambda: logits6.copy()),
                   "PyTorch": (t_forward, lambda: out["fwd"].numpy())}, 1e-3))

    tokens = np.zeros((1, steps), dtype=np.int32)
    counts = np.zeros(1, dtype=np.int64)

    def a_decode():
        attnc.greedy("transformer", src, lengths, 1, -1, steps, tokens, counts)

    def t_decode():
        with torch.no_grad():
            out["tokens"] = big_torch.greedy(tsrc, None, 1, -1, steps)

    def t_decode_cached():
        with torch.no_grad():
            out["tokens_cached"] = big_torch.greedy_cached(tsrc, None, 1, -1, steps)
    cases.append(("6+6 transformer, 32 greedy decode steps",
                  {"attnc": (a_decode, lambda: tokens.astype(np.float32).copy()),
                   "PyTorch": (t_decode, lambda: out["tokens"].numpy().astype(np.float32)),
                   "PyTorch, KV cache": (t_decode_cached,
                                         lambda: out["tokens_cached"].numpy().astype(np.float32))},
                  0.0))
    return cases + weight_type_cases(attnc, src, lengths, steps, t_decode_cached, out)


def weight_type_cases(attnc, src, lengths, steps, t_decode_cached, out):
    """The 32 decode steps with the 6+6 model's linear weights in bf16, f16
    and int8 (models transformer_bf16, ... of examples/transformer/model.attn,
    converted at load from the same f32 file), against PyTorch's fastest
    decode here: f32 with a key/value cache (PyTorch 1.13 on this CPU has no
    faster bf16 or f16 Linear, and its dynamic int8 quantization does not
    reach the cached decoder's F.linear calls). Tokens must be PyTorch f32's."""
    cases = []
    for dtype in ("bf16", "f16", "int8"):
        model = "transformer_" + dtype
        attnc.load("transformer", args.transformer_weights, model=model)
        tokens = np.zeros((1, steps), dtype=np.int32)
        counts = np.zeros(1, dtype=np.int64)

        def a_decode(model=model, tokens=tokens, counts=counts):
            attnc.greedy(model, src, lengths, 1, -1, steps, tokens, counts)
        cases.append((f"6+6 transformer, 32 greedy decode steps, {dtype} weights",
                      {"attnc": (a_decode, lambda tokens=tokens: tokens.astype(np.float32)),
                       "PyTorch, KV cache": (t_decode_cached, lambda: out["tokens_cached"].numpy()
                                             .astype(np.float32))},
                      0.0))
    return cases


SERVING = dict(sentences=16, min_len=8, max_len=64, max_new=64, bos=1, eos=2, seed=20)


def setup_serving(attnc):
    """Serving: SERVING's sentences (lengths drawn uniformly from min_len to
    max_len, fixed seed) encoded as one padded batch and greedy-decoded to
    end-of-sequence or max_new tokens, with the 6+6 model. PyTorch decodes
    with a key/value cache (Seq2Seq.greedy_cached): nn.Transformer's own
    way, the whole prefix again at every step, takes about 15 s per call
    here. Returns (name, impls, tolerance, tokens): outputs are the tokens,
    padded with eos."""
    load_transformer(attnc)
    s = SERVING
    rng = np.random.default_rng(s["seed"])
    lengths = rng.integers(s["min_len"], s["max_len"] + 1, size=s["sentences"]).astype(np.int32)
    src = np.zeros((s["sentences"], s["max_len"]), dtype=np.int32)
    for b, length in enumerate(lengths):
        src[b, :length] = rng.integers(3, 1000, size=length)
    tokens = np.zeros((s["sentences"], s["max_new"]), dtype=np.int32)
    counts = np.zeros(s["sentences"], dtype=np.int64)

    def a_serve():
        attnc.greedy("transformer", src, lengths, s["bos"], s["eos"], s["max_new"], tokens,
                     counts)

    def a_tokens():
        padded = np.full_like(tokens, s["eos"])
        for b, count in enumerate(counts):
            padded[b, :count] = tokens[b, :count]
        return padded.astype(np.float32)

    tsrc = torch.from_numpy(src.astype(np.int64))
    tpad = torch.from_numpy(np.arange(s["max_len"])[None, :] >= lengths[:, None])
    out = {}

    def t_serve():
        with torch.no_grad():
            out["tokens"] = big_torch.greedy_cached(tsrc, tpad, s["bos"], s["eos"], s["max_new"])

    def t_tokens():
        got = out["tokens"].numpy()
        padded = np.full((s["sentences"], s["max_new"]), s["eos"], dtype=np.int64)
        padded[:, :got.shape[1]] = got
        return padded.astype(np.float32)

    name = (f"6+6 serving: {s['sentences']} sentences of {s['min_len']}-{s['max_len']} tokens, "
            f"greedy to end-of-sequence or {s['max_new']} tokens")
    return name, {"attnc": (a_serve, a_tokens), "PyTorch, KV cache": (t_serve, t_tokens)}, 0.0, \
        lambda: int(counts.sum())


# ---------------------------------------------------------------- timing


# Before every timed call: a pause, then untimed calls of the same
# implementation for WARM_S. OpenBLAS's worker threads (PyTorch's GEMMs, in
# this process) keep spinning for about 0.1 s after a call: without the
# pause, whoever runs next shares the two cores with them (attnc's 32 decode
# steps measured 20% slower right after a PyTorch matmul than after a 0.2 s
# pause). After a pause, though, the cores take milliseconds of work to come
# back to speed (threads asleep, caches cold, and on the 2026-12-01 EPYC VM
# more than that: attnc's L=128 attention with 2 threads took 0.49 ms in a
# tight loop, 1.05 ms after a pause and 5 ms of untimed calls, 0.56 ms
# after 20 ms, 1.2 ms after one call); the untimed calls bring every
# implementation back to its steady state.
SETTLE_S = 0.2
WARM_S = 0.02


def warm(f):
    """Untimed calls of f for at least WARM_S (at least one)."""
    start = time.perf_counter()
    f()
    while time.perf_counter() - start < WARM_S:
        f()


def time_cases(cases, ort, meter, rounds):
    """cases: (name, impls) with impls {label: (run, result)}. Interleaved:
    every round runs each implementation of a case once, each after a
    SETTLE_S pause and WARM_S of untimed calls."""
    results = []
    for name, impls in cases:
        runs = {}
        for label, (run, _) in impls.items():
            if isinstance(run, tuple):
                sid = run[1]
                runs[label] = lambda sid=sid: ort.request(op="run", id=sid)["ms"] / 1e3
            else:
                def timed(run=run):
                    start = time.perf_counter()
                    run()
                    return time.perf_counter() - start
                runs[label] = timed
        for f in runs.values():  # warm-up
            f()
        times = {label: [] for label in runs}
        other = {label: 0.0 for label in runs}
        wall = {label: 0.0 for label in runs}
        for _ in range(rounds):
            for label, f in runs.items():
                time.sleep(SETTLE_S)
                warm(f)
                busy0, own0 = meter.read()
                start = time.perf_counter()
                times[label].append(f())
                wall[label] += time.perf_counter() - start
                busy1, own1 = meter.read()
                other[label] += max(0.0, (busy1 - busy0) - (own1 - own0))
        results.append(dict(name=name, times=times, other_cpu_s=other, wall_s=wall))
        print(f"  {name}: " + ", ".join(
            f"{label} {sorted(t)[len(t) // 2] * 1e3:.3f} ms" for label, t in times.items()),
            file=sys.stderr, flush=True)
    return results


def sgemm_roof(threads, rounds):
    """OpenBLAS sgemm GFLOP/s (N = 1024 and 2048, the better), Debian's
    libopenblas through ctypes, timed in this process like the others."""
    blas = ctypes.CDLL("libopenblas.so.0")
    blas.openblas_set_num_threads(threads)
    blas.openblas_get_config.restype = ctypes.c_char_p
    best = {}
    for n in (1024, 2048):
        a = np.random.default_rng(n).uniform(-1, 1, (n, n)).astype(np.float32)
        b = np.random.default_rng(n + 1).uniform(-1, 1, (n, n)).astype(np.float32)
        c = np.zeros((n, n), dtype=np.float32)
        ptr = lambda x: x.ctypes.data_as(ctypes.POINTER(ctypes.c_float))  # noqa: E731
        args_ = (101, 111, 111, n, n, n, ctypes.c_float(1.0), ptr(a), n, ptr(b), n,
                 ctypes.c_float(0.0), ptr(c), n)
        blas.cblas_sgemm(*args_)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            blas.cblas_sgemm(*args_)
            times.append(time.perf_counter() - start)
        best[n] = 2.0 * n ** 3 / sorted(times)[len(times) // 2] * 1e-9
    return dict(gflops=max(best.values()), by_n=best,
                config=blas.openblas_get_config().decode())


def check_against(timed, impls, reference, tolerance):
    """Each implementation's max abs error against `reference`'s output."""
    ref = impls[reference][1]().astype(np.float64)
    timed["errors"], timed["checksums"] = {}, {}
    for label, (_, result) in impls.items():
        got = result().astype(np.float64)
        timed["errors"][label] = float(np.abs(got - ref).max())
        timed["checksums"][label] = float(got.sum())
    timed["reference_checksum"] = float(ref.sum())
    timed["tolerance"] = tolerance


def main():
    os.makedirs(args.work, exist_ok=True)
    attnc = Attnc(args.lib, args.threads)
    empty = os.path.join(args.work, "empty.safetensors")
    safetensors.save(empty, {})
    attnc.load("attention", empty)
    ort = OrtServer(args.threads)
    meter = Meter(ort.proc.pid)
    report = dict(threads=args.threads, rounds=args.rounds, torch=torch.__version__,
                  attention=[], layers=[])
    report["roof"] = sgemm_roof(args.threads, args.rounds)

    print(f"[{args.threads} thread(s)] attention", file=sys.stderr, flush=True)
    for case in attention_cases(args.quick) if "attention" in CASES else []:
        impls, expected = setup_attention(case, attnc, ort, args.work)
        [timed] = time_cases([(case["name"], impls)], ort, meter, args.rounds)
        timed["errors"] = {}
        timed["checksums"] = {}
        for label, (_, result) in impls.items():
            got = result().astype(np.float64)
            timed["errors"][label] = float(np.abs(got - expected).max())
            timed["checksums"][label] = float(got.sum())
        timed["reference_checksum"] = float(expected.sum())
        timed["flops"] = 4.0 * H * case["lq"] * case["lk"] * D / (2 if case["causal"] else 1)
        timed.update(group=case["group"], lq=case["lq"], causal=case["causal"],
                     kv_heads=case["kv_heads"], tolerance=1e-4)
        report["attention"].append(timed)
    report["ort"] = ort.version

    print(f"[{args.threads} thread(s)] layers", file=sys.stderr, flush=True)
    for name, impls, tolerance in setup_layers(attnc, args.quick) if "layers" in CASES else []:
        [timed] = time_cases([(name, impls)], ort, meter, args.rounds)
        check_against(timed, impls, "PyTorch" if "PyTorch" in impls else "PyTorch, KV cache",
                      tolerance)
        report["layers"].append(timed)
    if not args.quick and "serving" in CASES:
        print(f"[{args.threads} thread(s)] serving", file=sys.stderr, flush=True)
        name, impls, tolerance, generated = setup_serving(attnc)
        [timed] = time_cases([(name, impls)], ort, meter, args.rounds)
        check_against(timed, impls, "PyTorch, KV cache", tolerance)
        timed.update(SERVING, tokens=generated())
        report["serving"] = [timed]
    ort.close()
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
