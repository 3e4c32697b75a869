"""Every construct attnc_torch.export refuses, with the module path and
attribute its ExportError names (python/attnc_torch/inspect_modules.py).
Each test first exports the same model without the construct, so that the
refusal is caused by that construct alone. No compiler needed; runs under
ctest as python-export-refusals; exits 77 ([SKIP]) without torch."""
import atexit
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
try:
    import torch
    from torch import nn
except ImportError:
    print("[SKIP] torch is not installed for", sys.executable)
    sys.exit(77)

from attnc_torch.export import ExportError, export  # noqa: E402
from attnc_torch.inspect_modules import sinusoidal_table  # noqa: E402

WORK = tempfile.mkdtemp(prefix="attnc-refusals-")
if not os.environ.get("ATTNC_KEEP_WORK"):  # set it to inspect the files
    atexit.register(shutil.rmtree, WORK, ignore_errors=True)
D, HEADS, VOCAB = 8, 2, 11


def encoder(**layer_args):
    args = dict(dim_feedforward=16, dropout=0.1, batch_first=True)
    args.update(layer_args)
    return nn.TransformerEncoder(nn.TransformerEncoderLayer(D, HEADS, **args),
                                 2).eval()


def transformer():
    return nn.Transformer(D, HEADS, 1, 1, 16, dropout=0.1,
                          batch_first=True).eval()


def parts(decoder=True):
    p = {"src_embed": nn.Embedding(VOCAB, D)}
    if decoder:
        p.update(tgt_embed=nn.Embedding(VOCAB, D),
                 generator=nn.Linear(D, VOCAB))
    return p


class Refusals(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.count = 0

    def path(self):
        self.count += 1
        return os.path.join(WORK, f"{self.id().split('.')[-1]}_{self.count}")

    def refuses(self, path, attribute, text, module, **kwargs):
        with self.assertRaises(ExportError) as caught:
            export(module, self.path(), **kwargs)
        error = caught.exception
        self.assertEqual((error.path, error.attribute), (path, attribute),
                         str(error))
        self.assertIn(text, str(error))
        self.assertTrue(str(error).startswith(f"{path}.{attribute}: "))

    def accepts(self, module, **kwargs):
        export(module, self.path(), **kwargs)

    def test_dropout_in_training_mode(self):
        model = transformer()
        self.accepts(model, **parts())
        self.refuses("encoder.layers.0.self_attn", "dropout",
                     "attention dropout 0.1 is active", model.train(),
                     **parts())

    def test_dropout_module_in_training_mode(self):
        model = encoder()
        model.layers[1].dropout.train()
        self.refuses("layers.1.dropout", "p", "dropout p=0.1 is active",
                     model, **parts(False))

    def test_custom_activation(self):
        self.accepts(encoder(activation="gelu"), **parts(False))
        self.refuses("layers.0", "activation", "custom activation",
                     encoder(activation=torch.tanh), **parts(False))

    def test_tanh_gelu(self):
        self.refuses("layers.0", "activation", "custom activation",
                     encoder(activation=nn.GELU(approximate="tanh")),
                     **parts(False))

    def test_unknown_attention_mask(self):
        model = transformer()
        causal = nn.Transformer.generate_square_subsequent_mask(5)
        self.accepts(model, tgt_mask=causal, **parts())
        band = causal.clone()
        band[4, 0] = float("-inf")
        self.refuses("decoder", "tgt_mask", "unknown attention mask", model,
                     tgt_mask=band, **parts())

    def test_additive_float_mask(self):
        self.refuses("encoder", "src_mask", "adds finite values",
                     transformer(), src_mask=torch.full((4, 4), 0.5),
                     **parts())

    def test_unknown_mask_name(self):
        self.refuses("<module>", "attn_mask", "unknown attention mask 'alibi'",
                     nn.MultiheadAttention(D, HEADS).eval(), mask="alibi")

    def test_causal_cross_attention(self):
        self.refuses("decoder", "memory_mask", "causal mask on cross",
                     transformer(), memory_mask="causal", **parts())

    def test_kdim(self):
        self.accepts(nn.MultiheadAttention(D, HEADS, kdim=D, vdim=D).eval())
        self.refuses("<module>", "kdim", "kdim=4", nn.MultiheadAttention(
            D, HEADS, kdim=4, vdim=D).eval(), cross=True)

    def test_vdim(self):
        self.refuses("<module>", "vdim", "vdim=6", nn.MultiheadAttention(
            D, HEADS, vdim=6).eval(), cross=True)

    def test_add_bias_kv(self):
        self.refuses("<module>", "bias_k", "add_bias_kv",
                     nn.MultiheadAttention(D, HEADS, add_bias_kv=True).eval())

    def test_add_zero_attn(self):
        self.refuses("<module>", "add_zero_attn", "add_zero_attn",
                     nn.MultiheadAttention(D, HEADS,
                                           add_zero_attn=True).eval())

    def test_learned_positional_table(self):
        self.refuses("positions", "weight", "learned positional table",
                     encoder(), positions=nn.Embedding(32, D), **parts(False))

    def test_other_positional_table(self):
        class Positions(nn.Module):
            def __init__(self, table):
                super().__init__()
                self.register_buffer("pe", torch.tensor(table,
                                                        dtype=torch.float32))
        good = sinusoidal_table(32, D)
        self.accepts(encoder(), positions=Positions(good), **parts(False))
        # [sin..., cos...] halves instead of interleaved pairs.
        halves = good.copy()
        halves[:, :D // 2], halves[:, D // 2:] = good[:, 0::2], good[:, 1::2]
        self.refuses("positions", "pe", "not attnc's sinusoidal",
                     encoder(), positions=Positions(halves), **parts(False))

    def test_layers_configured_differently(self):
        model = encoder()
        model.layers[1].norm_first = True
        self.refuses("layers.1", "__init__", "configured differently",
                     model, **parts(False))

    def test_norm_eps_within_layer(self):
        model = encoder()
        model.layers[0].norm2.eps = 1e-3
        model.layers[1].norm2.eps = 1e-3
        self.refuses("layers.0.norm2", "eps", "different eps", model,
                     **parts(False))

    def test_final_norm_eps(self):
        model = nn.TransformerEncoder(nn.TransformerEncoderLayer(
            D, HEADS, 16, batch_first=True), 1,
            norm=nn.LayerNorm(D, eps=1e-6)).eval()
        self.refuses("norm", "eps", "final norm uses the layers' norm_eps",
                     model, **parts(False))

    def test_final_norm_on_one_stack(self):
        model = nn.Transformer(
            D, HEADS, custom_encoder=encoder(),
            custom_decoder=nn.TransformerDecoder(nn.TransformerDecoderLayer(
                D, HEADS, 16, batch_first=True), 1,
                norm=nn.LayerNorm(D))).eval()
        self.refuses("encoder", "norm", "final_norm applies to both", model,
                     **parts())

    def test_missing_embedding(self):
        self.refuses("<module>", "src_embed", "start from token ids",
                     encoder())

    def test_missing_generator(self):
        p = parts()
        del p["generator"]
        self.refuses("decoder", "generator", "projection to the vocabulary",
                     transformer(), **p)

    def test_generator_not_linear(self):
        p = parts()
        p["generator"] = nn.Sequential(nn.Linear(D, VOCAB), nn.LogSoftmax(-1))
        self.refuses("generator", "__class__", "is not nn.Linear",
                     transformer(), **p)

    def test_embedding_max_norm(self):
        p = parts()
        p["src_embed"] = nn.Embedding(VOCAB, D, max_norm=1.0)
        self.refuses("src_embed", "max_norm", "renormalised", transformer(),
                     **p)

    def test_decoder_without_encoder(self):
        self.refuses("<module>", "encoder", "reads an encoder's memory",
                     nn.TransformerDecoder(nn.TransformerDecoderLayer(
                         D, HEADS, 16), 1).eval(), **parts())

    def test_not_a_transformer(self):
        self.refuses("<module>", "__class__", "not an exportable module",
                     nn.LSTM(D, D))

    def test_output_called_model(self):
        """"model" is a .attn keyword: the unit keeps the name, the model
        block is called net."""
        path = os.path.join(WORK, "called", "model")
        export(encoder(), path, **parts(False))
        with open(path + ".attn") as f:
            self.assertIn("\nmodel net {\n", f.read())

    def test_named_part_missing(self):
        self.refuses("embedding", "__name__", "names no submodule",
                     transformer(), src_embed="embedding")


class CommandLine(unittest.TestCase):
    """python3 -m attnc_torch.export: the same refusals, as one error line
    and exit status 1; a saved state_dict is refused for what it is."""

    def run_cli(self, module, *args):
        import contextlib
        import io
        from attnc_torch.export import main
        saved = os.path.join(WORK, f"{self.id().split('.')[-1]}.pt")
        torch.save(module, saved)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), \
                contextlib.redirect_stdout(io.StringIO()):
            try:
                status = main([saved, "-o", os.path.join(WORK, "cli"),
                               *args])
            except SystemExit as e:
                status = e.code
        return status, err.getvalue()

    def test_wrong_part(self):
        status, err = self.run_cli(encoder(), "--embed", "layers.0.norm1")
        self.assertEqual(status, 1)  # a LayerNorm is no embedding
        self.assertIn("layers.0.norm1.__class__: LayerNorm is not "
                      "nn.Embedding", err)

    def test_training_mode(self):
        status, err = self.run_cli(transformer().train(), "--src-embed",
                                   "encoder.layers.0.norm1")
        self.assertEqual(status, 1)
        self.assertEqual(err, "attnc_torch.export: error: "
                         "encoder.layers.0.self_attn.dropout: attention "
                         "dropout 0.1 is active (training mode); call "
                         ".eval() before exporting\n")

    def test_state_dict(self):
        status, err = self.run_cli(transformer().state_dict())
        self.assertEqual(status, 2)
        self.assertIn("holds a state_dict", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
