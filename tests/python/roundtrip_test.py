"""PyTorch -> attnc_torch.export -> attnc compile --shared -> python/attnc,
checked against PyTorch itself (the independent reference).

Ten randomly configured models (seeded: encoder-only, decoder-only and
encoder-decoder; pre- and post-norm; relu and gelu; batch_first or not;
biases on and off; sinusoidal, learned or no positions; several widths,
heads and eps), a model with a different positional table per side, and
stand-alone nn.MultiheadAttention blocks (also with kdim and vdim). For batch 2 with padding, outputs must match
PyTorch within 1e-4 at every valid position, attention maps too, and greedy
tokens exactly. Runs under ctest as python-roundtrip with $ATTNC naming the
compiler; exits 77 ([SKIP]) where torch is missing."""
import atexit
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest
from re import escape as re_escape

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
try:
    import torch
    from torch import nn
except ImportError:
    print("[SKIP] torch is not installed for", sys.executable)
    sys.exit(77)
import numpy as np  # noqa: E402

import attnc  # noqa: E402
from attnc_torch import safetensors  # noqa: E402
from attnc_torch.export import export  # noqa: E402
from attnc_torch.inspect_modules import sinusoidal_table  # noqa: E402

ATTNC = os.environ.get("ATTNC", os.path.join(HERE, "..", "..", "build",
                                             "bin", "attnc"))
TOLERANCE = 1e-4
BOS, EOS = 1, 2
WORK = tempfile.mkdtemp(prefix="attnc-roundtrip-")
if not os.environ.get("ATTNC_KEEP_WORK"):  # set it to inspect the files
    atexit.register(shutil.rmtree, WORK, ignore_errors=True)


def compile_shared(attn_path):
    """Compiles next to the export: attnc compile replaces its -o folder."""
    stem = os.path.splitext(os.path.basename(attn_path))[0]
    folder = os.path.join(os.path.dirname(attn_path), "compiled")
    subprocess.run([ATTNC, "compile", attn_path, "--shared", "-o", folder],
                   check=True, stderr=subprocess.DEVNULL)
    return attnc.Model(os.path.join(folder, f"lib{stem}.so"),
                       os.path.join(os.path.dirname(attn_path),
                                    f"{stem}.safetensors"))


def random_config(seed):
    """A model configuration drawn from `seed`; kinds cycle so that each
    appears at least three times in ten."""
    rng = random.Random(seed)
    heads = rng.choice([1, 2, 4])
    return dict(
        seed=seed,
        kind=["encoder-decoder", "decoder-only", "encoder-only"][seed % 3],
        heads=heads, d_model=heads * rng.choice([4, 8, 12]),
        ffn=rng.choice([16, 24, 40]), layers=rng.choice([1, 2]),
        norm_first=seed % 2 == 1, activation=["relu", "gelu"][(seed // 2) % 2],
        batch_first=rng.random() < 0.5, eps=rng.choice([1e-5, 1e-6, 1e-3]),
        attn_bias=rng.random() < 0.7, ffn_bias=rng.random() < 0.7,
        generator_bias=rng.random() < 0.7, final_norm=rng.random() < 0.7,
        positions=rng.choice(["sinusoidal", None, "learned"]),
        scale=rng.choice([1.0, 2.5]), vocab=rng.choice([13, 21]))


def without_biases(layer, cfg):
    """Biases off as PyTorch 2's bias=False would leave them."""
    if not cfg["attn_bias"]:
        for name in ("self_attn", "multihead_attn"):
            old = getattr(layer, name, None)
            if old is not None:
                setattr(layer, name, nn.MultiheadAttention(
                    cfg["d_model"], cfg["heads"], bias=False,
                    batch_first=cfg["batch_first"]))
    if not cfg["ffn_bias"]:
        layer.linear1.bias = None
        layer.linear2.bias = None
    return layer


def build(cfg):
    torch.manual_seed(cfg["seed"])
    d, kind = cfg["d_model"], cfg["kind"]
    args = dict(d_model=d, nhead=cfg["heads"], dim_feedforward=cfg["ffn"],
                dropout=0.1, activation=cfg["activation"],
                layer_norm_eps=cfg["eps"], batch_first=cfg["batch_first"],
                norm_first=cfg["norm_first"])
    final = (lambda: nn.LayerNorm(d, eps=cfg["eps"])) if cfg["final_norm"] \
        else (lambda: None)
    enc_layer = without_biases(nn.TransformerEncoderLayer(**args), cfg)
    encoder = nn.TransformerEncoder(enc_layer, cfg["layers"], norm=final())
    parts = {"src_embed": nn.Embedding(cfg["vocab"], d)}
    if kind == "encoder-decoder":
        dec_layer = without_biases(nn.TransformerDecoderLayer(**args), cfg)
        decoder = nn.TransformerDecoder(dec_layer, cfg["layers"],
                                        norm=final())
        module = nn.Transformer(d, cfg["heads"], custom_encoder=encoder,
                                custom_decoder=decoder,
                                batch_first=cfg["batch_first"])
        parts["tgt_embed"] = nn.Embedding(cfg["vocab"] + 3, d)
    else:
        module = encoder
    if kind != "encoder-only":
        vocab = cfg["vocab"] + (3 if kind == "encoder-decoder" else 0)
        parts["generator"] = nn.Linear(d, vocab, bias=cfg["generator_bias"])
    for part in parts.values():
        part.eval()
    if "learned" in (cfg["positions"], cfg.get("tgt_positions")):
        # One learned table (nn.Embedding, 80 rows) that both sides add.
        table = nn.Embedding(80, d)
        cfg["tables"] = {"src": table, "tgt": table}
    return module.eval(), parts


def embed(table, tokens, cfg, side="src"):
    """Token embedding times the scale plus the side's positions:
    cfg[side + "_positions"] if set, else cfg["positions"]."""
    x = table(tokens) * cfg["scale"]
    kind = cfg.get(side + "_positions", cfg["positions"])
    length = tokens.shape[1]
    if kind == "sinusoidal":
        x = x + torch.tensor(sinusoidal_table(length, cfg["d_model"]),
                             dtype=torch.float32)
    elif kind == "learned":
        x = x + cfg["tables"][side].weight[:length]
    return x


def pad_mask(lengths, length):
    return torch.arange(length)[None, :] >= torch.tensor(lengths)[:, None]


def causal(length):
    return torch.triu(torch.full((length, length), float("-inf")), 1)


class Reference:
    """The PyTorch computation the exported model must reproduce."""

    def __init__(self, module, parts, cfg):
        self.m, self.p, self.cfg = module, parts, cfg
        self.bf = cfg["batch_first"]

    def _io(self, x):
        return x if self.bf else x.transpose(0, 1)

    def encode(self, src, src_lengths, causal_mask=False):
        encoder = self.m.encoder if isinstance(self.m, nn.Transformer) \
            else self.m
        x = embed(self.p["src_embed"], src, self.cfg)
        mask = causal(src.shape[1]) if causal_mask else None
        y = encoder(self._io(x), mask=mask,
                    src_key_padding_mask=pad_mask(src_lengths, src.shape[1]))
        return self._io(y)

    def decode(self, tgt, tgt_lengths, memory, src_lengths):
        y = self.m.decoder(
            self._io(embed(self.p["tgt_embed"], tgt, self.cfg, "tgt")),
            self._io(memory), tgt_mask=causal(tgt.shape[1]),
            tgt_key_padding_mask=pad_mask(tgt_lengths, tgt.shape[1]),
            memory_key_padding_mask=pad_mask(src_lengths, memory.shape[1]))
        return self.p["generator"](self._io(y))

    def decoder_only(self, tokens, lengths):
        return self.p["generator"](self.encode(tokens, lengths, True))

    def greedy(self, src, src_lengths, steps):
        memory = self.encode(src, src_lengths)
        tokens = torch.full((src.shape[0], 1), BOS)
        return self._greedy(lambda t: self.decode(
            t, [t.shape[1]] * t.shape[0], memory, src_lengths), tokens, steps)

    def generate(self, prompt, steps):
        return self._greedy(lambda t: self.decoder_only(
            t, [t.shape[1]] * t.shape[0]), prompt, steps)

    @staticmethod
    def _greedy(step, tokens, steps):
        done = torch.zeros(tokens.shape[0], dtype=torch.bool)
        out = [[] for _ in range(tokens.shape[0])]
        for _ in range(steps):
            best = step(tokens)[:, -1].argmax(-1)
            for b in range(tokens.shape[0]):
                if not done[b]:
                    out[b].append(int(best[b]))
            done |= best == EOS
            tokens = torch.cat([tokens, best[:, None]], 1)
            if done.all():
                break
        return out


def rounds_bf16_inputs(halide_target):
    """Whether bf16 linear kernels compiled for `halide_target` round their
    input to bf16 (AVX-512 BF16 CPUs): kernels::usesBF16DotProduct's rule
    for the GEMM function, which the C++ tests call directly."""
    features = halide_target.split("-")
    gpu = {"cuda", "opencl", "metal", "d3d12compute", "openglcompute"}
    return "avx512_sapphirerapids" in features and not gpu & set(features)


def assert_valid_rows_close(test, got, want, lengths, what):
    for b, n in enumerate(lengths):
        error = np.abs(got[b, :n] - want[b, :n].numpy()).max()
        test.assertLess(error, TOLERANCE, f"{what}, sequence {b}")


class RoundTrip(unittest.TestCase):
    def check_model(self, seed):
        cfg = random_config(seed)
        module, parts = build(cfg)
        ref = Reference(module, parts, cfg)
        stem = f"m{seed}"
        positions = cfg["tables"]["src"] if cfg["positions"] == "learned" \
            else cfg["positions"]
        export(module, os.path.join(WORK, stem, stem),
               positions=positions, embed_scale=cfg["scale"],
               mask="causal" if cfg["kind"] == "decoder-only" else None,
               max_len=64, **parts)
        model = compile_shared(os.path.join(WORK, stem, f"{stem}.attn"))
        rng = np.random.default_rng(seed)
        src_lengths, tgt_lengths = [7, 4], [5, 3]
        src = torch.tensor(rng.integers(3, cfg["vocab"], size=(2, 7)))
        tgt = torch.tensor(rng.integers(3, cfg["vocab"], size=(2, 5)))
        tgt[:, 0] = BOS
        with torch.no_grad():
            if cfg["kind"] == "decoder-only":
                out = model.run(f"{stem}_decode", tgt_tokens=src.numpy(),
                                tgt_lengths=src_lengths)
                assert_valid_rows_close(self, out["logits"],
                                        ref.decoder_only(src, src_lengths),
                                        src_lengths, f"{cfg} logits")
                prompt = src[:, :2]
                got = model.generate(prompt.numpy(), eos=EOS, max_steps=6)
                want = ref.generate(prompt, 6)
                self.assertEqual([list(g) for g in got], want, str(cfg))
                # Prompts of different lengths through the cache: each
                # sequence as PyTorch generates from its prompt alone.
                got = model.generate(src.numpy(), prompt_lengths=[4, 1],
                                     eos=EOS, max_steps=5)
                for b, n in enumerate([4, 1]):
                    self.assertEqual(list(got[b]),
                                     ref.generate(src[b:b + 1, :n], 5)[0],
                                     f"{cfg} prompt {b} of {n} tokens")
                with self.assertRaisesRegex(attnc.Error, re_escape(
                        "options.prompts[0][1] is token id 999, outside "
                        "the vocabulary")):
                    model.generate(np.array([[1, 999]]), max_steps=2)
                with self.assertRaisesRegex(attnc.Error, re_escape(
                        "the longest prompt (7 tokens) minus one plus "
                        "maxSteps 66 exceeds the model's max_len of 64")):
                    model.generate(src.numpy(), max_steps=60)
                return
            memory = model.run(f"{stem}_encode", src_tokens=src.numpy(),
                               src_lengths=src_lengths)["memory"]
            want_memory = ref.encode(src, src_lengths)
            assert_valid_rows_close(self, memory, want_memory, src_lengths,
                                    f"{cfg} memory")
            if cfg["kind"] == "encoder-only":
                return
            logits = model.run(f"{stem}_decode", tgt_tokens=tgt.numpy(),
                               tgt_lengths=tgt_lengths, memory=memory,
                               src_lengths=src_lengths)["logits"]
            want = ref.decode(tgt, tgt_lengths, want_memory, src_lengths)
            assert_valid_rows_close(self, logits, want, tgt_lengths,
                                    f"{cfg} logits")
            got = model.greedy_decode(src.numpy(), src_lengths, bos=BOS,
                                      eos=EOS, max_steps=8)
            self.assertEqual([list(g) for g in got],
                             ref.greedy(src, src_lengths, 8), str(cfg))

    def test_position_table_per_side(self):
        """src: a learned nn.Embedding; tgt: sinusoidal. attnc has one
        positions kind per model, so both become learned tables; the
        model must still compute what PyTorch does, and decode greedily."""
        cfg = dict(random_config(4), kind="encoder-decoder",
                   positions="learned", tgt_positions="sinusoidal",
                   d_model=16, heads=2)
        module, parts = build(cfg)
        ref = Reference(module, parts, cfg)
        export(module, os.path.join(WORK, "sides", "sides"),
               src_positions=cfg["tables"]["src"],
               tgt_positions="sinusoidal", embed_scale=cfg["scale"],
               max_len=40, **parts)
        with open(os.path.join(WORK, "sides", "sides.attn")) as f:
            text = f.read()
        self.assertIn("positions = learned;", text)
        self.assertIn("max_len = 40;", text)
        model = compile_shared(os.path.join(WORK, "sides", "sides.attn"))
        rng = np.random.default_rng(4)
        src_lengths, tgt_lengths = [7, 4], [5, 3]
        src = torch.tensor(rng.integers(3, cfg["vocab"], size=(2, 7)))
        tgt = torch.tensor(rng.integers(3, cfg["vocab"], size=(2, 5)))
        with torch.no_grad():
            memory = model.run("sides_encode", src_tokens=src.numpy(),
                               src_lengths=src_lengths)["memory"]
            want_memory = ref.encode(src, src_lengths)
            assert_valid_rows_close(self, memory, want_memory, src_lengths,
                                    "memory")
            logits = model.run("sides_decode", tgt_tokens=tgt.numpy(),
                               tgt_lengths=tgt_lengths, memory=memory,
                               src_lengths=src_lengths)["logits"]
            assert_valid_rows_close(
                self, logits, ref.decode(tgt, tgt_lengths, want_memory,
                                         src_lengths), tgt_lengths, "logits")
            got = model.greedy_decode(src.numpy(), src_lengths, bos=BOS,
                                      eos=EOS, max_steps=8)
            self.assertEqual([list(g) for g in got],
                             ref.greedy(src, src_lengths, 8))

    def test_bf16_weights(self):
        """export(weights="bf16") compiles a model whose linear weights are
        bf16 and writes them so (BF16 in the safetensors file): its logits
        stay near PyTorch's f32 ones (within bf16's rounding, far from
        exact) and match PyTorch running with the same rounded linear
        weights."""
        cfg = dict(random_config(0), kind="encoder-decoder",
                   positions="sinusoidal", d_model=16, heads=2)
        module, parts = build(cfg)
        ref = Reference(module, parts, cfg)
        folder = os.path.join(WORK, "bf16")
        export(module, os.path.join(folder, "bf16"), positions="sinusoidal",
               embed_scale=cfg["scale"], max_len=40, weights="bf16", **parts)
        with open(os.path.join(folder, "bf16.attn")) as f:
            self.assertIn("weights = bf16;", f.read())
        # The file stores the linear weights as BF16, the rest as F32.
        with open(os.path.join(folder, "bf16.safetensors"), "rb") as f:
            length = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(length))
        dtypes = {name: info["dtype"] for name, info in header.items()}
        self.assertEqual(dtypes["generator.weight"], "BF16")
        self.assertEqual(dtypes["encoder.layers.0.linear1.weight"], "BF16")
        self.assertEqual(
            dtypes["decoder.layers.0.multihead_attn.in_proj_weight"], "BF16")
        self.assertEqual(dtypes["encoder.layers.0.norm1.weight"], "F32")
        model = compile_shared(os.path.join(folder, "bf16.attn"))
        rng = np.random.default_rng(5)
        src_lengths, tgt_lengths = [7, 4], [5, 3]
        src = torch.tensor(rng.integers(3, cfg["vocab"], size=(2, 7)))
        tgt = torch.tensor(rng.integers(3, cfg["vocab"], size=(2, 5)))
        memory = model.run("bf16_encode", src_tokens=src.numpy(),
                           src_lengths=src_lengths)["memory"]
        logits = model.run("bf16_decode", tgt_tokens=tgt.numpy(),
                           tgt_lengths=tgt_lengths, memory=memory,
                           src_lengths=src_lengths)["logits"]
        with torch.no_grad():
            want = ref.decode(tgt, tgt_lengths, ref.encode(src, src_lengths),
                              src_lengths)
            # PyTorch with every linear weight rounded through bf16.
            for m in [module] + list(parts.values()):
                for sub in m.modules():
                    if isinstance(sub, nn.Linear):
                        sub.weight.copy_(sub.weight.bfloat16().float())
                    if isinstance(sub, nn.MultiheadAttention):
                        for w in (sub.in_proj_weight, sub.q_proj_weight,
                                  sub.k_proj_weight, sub.v_proj_weight):
                            if w is not None:
                                w.copy_(w.bfloat16().float())
            rounded = Reference(module, parts, cfg).decode(
                tgt, tgt_lengths, Reference(module, parts, cfg).encode(
                    src, src_lengths), src_lengths)
        for b, n in enumerate(tgt_lengths):
            off = np.abs(logits[b, :n] - want[b, :n].numpy()).max()
            self.assertLess(off, 0.05, f"sequence {b} against f32")
            self.assertGreater(off, TOLERANCE, f"sequence {b}: not rounded?")
        if rounds_bf16_inputs(model.halide_target):
            # Its GEMMs (every call here has more than 4 rows) also round
            # their inputs to bf16, which the reference does not: measured
            # 4.3e-3 against it on 2026-12-02.
            for b, n in enumerate(tgt_lengths):
                off = np.abs(logits[b, :n] - rounded[b, :n].numpy()).max()
                self.assertLess(off, 0.01, f"sequence {b} against bf16")
        else:
            assert_valid_rows_close(self, logits, rounded, tgt_lengths,
                                    "logits against PyTorch with bf16 weights")

    def test_weights_file_types(self):
        """The weights file stores linear weights as the model does: F16
        exactly as torch rounds them, I8 with a scale per row and within
        half a step of each weight; store_f32 keeps F32. No compile: the
        runtime's reading of each type is tested in StoredTypesTest.cpp."""
        cfg = dict(random_config(0), kind="encoder-decoder",
                   positions="sinusoidal", d_model=16, heads=2)
        module, parts = build(cfg)
        name = "encoder.layers.0.linear1.weight"
        want = module.encoder.layers[0].linear1.weight.detach().numpy()
        folder = os.path.join(WORK, "types")
        for weights, store_f32, dtype in (("f16", False, "F16"),
                                          ("int8", False, "I8"),
                                          ("int8", True, "F32")):
            path = os.path.join(folder, f"{weights}_{store_f32}")
            export(module, path, positions="sinusoidal",
                   embed_scale=cfg["scale"], max_len=40, weights=weights,
                   store_f32=store_f32, **parts)
            with open(path + ".safetensors", "rb") as f:
                header = json.loads(f.read(int.from_bytes(f.read(8),
                                                          "little")))
            self.assertEqual(header[name]["dtype"], dtype)
            self.assertEqual(header["generator.weight"]["dtype"], dtype)
            self.assertEqual(header["tgt_embed.weight"]["dtype"], "F32")
            got = safetensors.load(path + ".safetensors")
            self.assertNotIn(name + ".scale", got)
            if dtype == "F16":
                np.testing.assert_array_equal(
                    got[name], want.astype(np.float16).astype(np.float32))
            elif dtype == "I8":
                self.assertEqual(header[name + ".scale"]["shape"],
                                 [want.shape[0]])
                step = np.abs(want).max(axis=1, keepdims=True) / 127
                self.assertTrue((np.abs(got[name] - want) <=
                                 step * 0.5001).all())
                self.assertFalse(np.array_equal(got[name], want))
            else:
                np.testing.assert_array_equal(got[name], want)

    def test_generate_without_causal_mask(self):
        """A decoder-only model exported without mask="causal" cannot be
        decoded through the cache; generate runs the whole prefix instead,
        as PyTorch does here."""
        cfg = dict(random_config(1), kind="decoder-only",
                   positions="sinusoidal")
        module, parts = build(cfg)
        ref = Reference(module, parts, cfg)
        export(module, os.path.join(WORK, "bidir", "bidir"),
               positions="sinusoidal", embed_scale=cfg["scale"], max_len=64,
               **parts)
        model = compile_shared(os.path.join(WORK, "bidir", "bidir.attn"))
        prompt = torch.tensor([[BOS, 5, 6], [BOS, 7, 8]])
        got = model.generate(prompt.numpy(), eos=EOS, max_steps=4)
        with torch.no_grad():
            want = ref._greedy(lambda t: ref.p["generator"](ref.encode(
                t, [t.shape[1]] * t.shape[0])), prompt, 4)
        self.assertEqual([list(g) for g in got], want)

    def test_cross_attention_kdim_vdim(self):
        """nn.MultiheadAttention(kdim, vdim): the function takes key and
        value (kdim != vdim) or memory (kdim == vdim != embed_dim)."""
        for kdim, vdim in ((6, 10), (6, 6)):
            torch.manual_seed(kdim + vdim)
            mha = nn.MultiheadAttention(16, 2, kdim=kdim, vdim=vdim,
                                        batch_first=True).eval()
            stem = f"kv{kdim}x{vdim}"
            export(mha, os.path.join(WORK, stem, stem), cross=True)
            model = compile_shared(os.path.join(WORK, stem, f"{stem}.attn"))
            x, lengths = torch.randn(2, 5, 16), [6, 3]
            key, value = torch.randn(2, 6, kdim), torch.randn(2, 6, vdim)
            inputs = {"x": x.numpy(), "kv_lengths": lengths}
            if kdim == vdim:
                value = key
                inputs["memory"] = key.numpy()
            else:
                inputs.update(key=key.numpy(), value=value.numpy())
            out = model.run(stem, inputs)["output"]
            with torch.no_grad():
                want = mha(x, key, value, key_padding_mask=pad_mask(
                    lengths, 6), need_weights=False)[0]
            assert_valid_rows_close(self, out, want, [5, 5], stem)
            with self.assertRaisesRegex(attnc.Error, "'kv_lengths' gives "
                                        "sequence 0 length 7, outside"):
                model.run(stem, dict(inputs, kv_lengths=[7, 3]))

    def check_attention(self, cross, probs):
        torch.manual_seed(7 + cross)
        mha = nn.MultiheadAttention(24, 3, batch_first=True).eval()
        stem = "cross" if cross else "self"
        export(mha, os.path.join(WORK, stem, stem), cross=cross,
               probs=probs, mask=None if cross else "causal")
        model = compile_shared(os.path.join(WORK, stem, f"{stem}.attn"))
        x = torch.randn(2, 5, 24)
        kv = torch.randn(2, 6, 24) if cross else x
        lengths = [6, 3] if cross else [5, 2]
        inputs = {"x": x.numpy(), "kv_lengths": lengths}
        if cross:
            inputs["memory"] = kv.numpy()
        out = model.run(stem, inputs)
        with torch.no_grad():
            want, maps = mha(x, kv, kv, key_padding_mask=pad_mask(
                lengths, kv.shape[1]), need_weights=True,
                attn_mask=None if cross else causal(5) == float("-inf"),
                average_attn_weights=probs == "head_mean")
        # Self-attention: query rows past a sequence's length are padding.
        rows = [5, 5] if cross else lengths
        assert_valid_rows_close(self, out["output"], want, rows, "output")
        got = out["probs"]
        self.assertEqual(got.shape, tuple(maps.shape))
        if probs == "per_head":  # [batch, heads, q, k]: rows are axis 2
            got, maps = got.transpose(0, 2, 1, 3), maps.transpose(1, 2)
        assert_valid_rows_close(self, got, maps, rows, "probs")

    def test_decoder_layer_with_named_encoder_layer(self):
        """Single layers (not stacks), sequence-first, pre-norm gelu: an
        nn.TransformerDecoderLayer exported with encoder= its encoder."""
        torch.manual_seed(11)
        d, vocab = 16, 17
        enc = nn.TransformerEncoderLayer(d, 4, 24, norm_first=True).eval()
        dec = nn.TransformerDecoderLayer(d, 4, 24, norm_first=True,
                                         activation="gelu").eval()
        src_embed, tgt_embed = nn.Embedding(vocab, d), nn.Embedding(vocab, d)
        generator = nn.Linear(d, vocab)
        export(dec, os.path.join(WORK, "layers", "layers"), encoder=enc,
               src_embed=src_embed, tgt_embed=tgt_embed, generator=generator,
               positions="sinusoidal", max_len=32)
        model = compile_shared(os.path.join(WORK, "layers", "layers.attn"))
        cfg = {"scale": 1.0, "positions": "sinusoidal", "d_model": d}
        rng = np.random.default_rng(11)
        src_lengths, tgt_lengths = [6, 2], [4, 3]
        src = torch.tensor(rng.integers(3, vocab, size=(2, 6)))
        tgt = torch.tensor(rng.integers(3, vocab, size=(2, 4)))
        with torch.no_grad():
            spad = pad_mask(src_lengths, 6)
            memory = enc(embed(src_embed, src, cfg).transpose(0, 1),
                         src_key_padding_mask=spad)
            logits = generator(dec(
                embed(tgt_embed, tgt, cfg).transpose(0, 1), memory,
                tgt_mask=causal(4), tgt_key_padding_mask=pad_mask(
                    tgt_lengths, 4), memory_key_padding_mask=spad))
        got_memory = model.run("layers_encode", src_tokens=src.numpy(),
                               src_lengths=src_lengths)["memory"]
        assert_valid_rows_close(self, got_memory, memory.transpose(0, 1),
                                src_lengths, "memory")
        got = model.run("layers_decode", tgt_tokens=tgt.numpy(),
                        tgt_lengths=tgt_lengths, memory=got_memory,
                        src_lengths=src_lengths)["logits"]
        assert_valid_rows_close(self, got, logits.transpose(0, 1),
                                tgt_lengths, "logits")

    def test_greedy_decode_with_cross_attention_maps(self):
        """probs="head_mean": greedy tokens and, per step, every decoder
        layer's cross-attention map, against PyTorch's need_weights maps
        over the same tokens."""
        cfg = dict(random_config(3), kind="encoder-decoder", positions=None,
                   heads=4, d_model=16, layers=2, batch_first=True)
        module, parts = build(cfg)
        ref = Reference(module, parts, cfg)
        export(module, os.path.join(WORK, "maps", "maps"), probs="head_mean",
               embed_scale=cfg["scale"], max_len=64, **parts)
        model = compile_shared(os.path.join(WORK, "maps", "maps.attn"))
        rng = np.random.default_rng(3)
        src_lengths = [6, 4]
        src = torch.tensor(rng.integers(3, cfg["vocab"], size=(2, 6)))
        tokens, probs = model.greedy_decode(src.numpy(), src_lengths,
                                            bos=BOS, eos=EOS, max_steps=6,
                                            return_probs=True)
        with torch.no_grad():
            want = ref.greedy(src, src_lengths, 6)
            self.assertEqual([list(t) for t in tokens], want)
            counts = [len(t) for t in tokens]
            tgt = torch.full((2, max(counts)), BOS)
            for b, row in enumerate(want):
                tgt[b, 1:len(row)] = torch.tensor(row[:-1], dtype=torch.long)
            captured = []
            hooks = [layer.multihead_attn.register_forward_pre_hook(
                lambda m, args: captured.append((m, args[0], args[1])))
                for layer in module.decoder.layers]
            memory = ref.encode(src, src_lengths)
            ref.decode(tgt, counts, memory, src_lengths)
            for hook in hooks:
                hook.remove()
            self.assertEqual(len(captured), len(module.decoder.layers))
            self.assertEqual(len(probs), 2 * len(captured))  # self, cross
            pad = pad_mask(src_lengths, src.shape[1])
            for i, (mha, q, kv) in enumerate(captured):
                maps = mha(q, kv, kv, key_padding_mask=pad,
                           need_weights=True)[1]
                name = f"decoder.layers.{i}.multihead_attn.probs"
                assert_valid_rows_close(self, probs[name], maps, counts, name)

    def test_self_attention_with_maps(self):
        self.check_attention(False, "head_mean")

    def test_cross_attention_per_head_maps(self):
        self.check_attention(True, "per_head")

    def test_runtime_errors_reach_python(self):
        torch.manual_seed(0)
        mha = nn.MultiheadAttention(8, 2, batch_first=True).eval()
        export(mha, os.path.join(WORK, "err", "err"))
        model = compile_shared(os.path.join(WORK, "err", "err.attn"))
        with self.assertRaisesRegex(attnc.Error, "missing input 'kv_lengths'"):
            model.run("err", x=np.zeros((1, 3, 8), np.float32))
        with self.assertRaisesRegex(attnc.Error, re_escape(
                "input 'x' of err is f32 [1, 3, 7], expected f32 [?, ?, 8]")):
            model.run("err", x=np.zeros((1, 3, 7), np.float32),
                      kv_lengths=[3])
        with self.assertRaisesRegex(attnc.Error, "weights file .*none.*cannot be opened"):
            attnc.Model(model.library_path, os.path.join(WORK, "none"))
        with self.assertRaisesRegex(attnc.Error, re_escape(
                "registry 'err' has no model 'nope'; it has none")):
            attnc.Model(model.library_path,
                        os.path.join(WORK, "err", "err.safetensors"), model="nope")


for _seed in range(10):
    setattr(RoundTrip, f"test_model_{_seed}",
            lambda self, s=_seed: self.check_model(s))


if __name__ == "__main__":
    unittest.main(verbosity=2)
