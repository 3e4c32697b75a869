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

    def test_reduced_weights_on_an_attention_block(self):
        mha = nn.MultiheadAttention(D, HEADS, batch_first=True).eval()
        self.accepts(mha)
        with self.assertRaises(ValueError):
            export(mha, self.path(), weights="bf16")
        with self.assertRaises(ValueError):
            export(transformer(), self.path(), weights="int4", **parts())
        self.accepts(transformer(), weights="int8", **parts())

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

    def test_kdim_on_self_attention(self):
        self.accepts(nn.MultiheadAttention(D, HEADS, kdim=4, vdim=D).eval(),
                     cross=True)
        self.refuses("<module>", "kdim", "export with cross=True",
                     nn.MultiheadAttention(D, HEADS, kdim=4, vdim=D).eval())

    def test_vdim_inside_a_layer(self):
        model = transformer()
        self.accepts(model, **parts())
        model.decoder.layers[0].multihead_attn = nn.MultiheadAttention(
            D, HEADS, vdim=6, batch_first=True).eval()
        self.refuses("decoder.layers.0.multihead_attn", "vdim",
                     "inside a layer keys and values are d_model wide",
                     model, **parts())

    def test_add_bias_kv(self):
        self.refuses("<module>", "bias_k", "add_bias_kv",
                     nn.MultiheadAttention(D, HEADS, add_bias_kv=True).eval())

    def test_add_zero_attn(self):
        self.refuses("<module>", "add_zero_attn", "add_zero_attn",
                     nn.MultiheadAttention(D, HEADS,
                                           add_zero_attn=True).eval())

    def test_positional_table_too_short(self):
        self.accepts(encoder(), positions=nn.Embedding(32, D), max_len=32,
                     **parts(False))
        self.refuses("positions", "max_len", "max_len 64 exceeds the "
                     "positional table's 32 rows", encoder(),
                     positions=nn.Embedding(32, D), max_len=64,
                     **parts(False))
        self.refuses("src_positions", "max_len", "exceeds", encoder(),
                     src_positions=nn.Embedding(32, D), max_len=64,
                     **parts(False))

    def test_positional_table_of_another_width(self):
        self.refuses("positions", "weight", "is not [positions, d_model 8]",
                     encoder(), positions=nn.Embedding(32, D + 1),
                     **parts(False))

    def test_positional_embedding_max_norm(self):
        self.refuses("positions", "max_norm", "renormalised at lookup",
                     encoder(), positions=nn.Embedding(32, D, max_norm=1.0),
                     **parts(False))

    def test_positional_module_with_two_tables(self):
        class Positions(nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("pe", torch.zeros(32, D))
                self.scale = nn.Parameter(torch.ones(1))
        self.refuses("positions", "__class__", "exactly one table",
                     encoder(), positions=Positions(), **parts(False))

    def test_positions_named_learned(self):
        self.refuses("positions", "positions", "'learned' needs the table "
                     "itself", encoder(), positions="learned", **parts(False))

    def test_positions_for_a_side_the_model_lacks(self):
        self.refuses("tgt_positions", "positions", "has no tgt side",
                     encoder(), tgt_positions="sinusoidal", **parts(False))

    def test_positional_table_by_attribute_path(self):
        """Not a refusal: a parameter named by its path (GPT style)."""
        model = encoder()
        model.pos = nn.Parameter(torch.randn(32, D))
        path = self.path()
        export(model, path, positions="pos", **parts(False))
        with open(path + ".attn") as f:
            self.assertIn("positions = learned;", f.read())
        self.refuses("nope", "__name__", "names no submodule, parameter or "
                     "buffer", model, positions="nope", **parts(False))

    def test_positional_tables_sinusoidal_or_learned(self):
        """Not a refusal: a buffer equal to attnc's sinusoid is exported as
        positions = sinusoidal (computed); any other table, here the
        [sin..., cos...] halves layout, as positions = learned (stored)."""
        class Positions(nn.Module):
            def __init__(self, table):
                super().__init__()
                self.register_buffer("pe", torch.tensor(table,
                                                        dtype=torch.float32))
        good = sinusoidal_table(32, D)
        halves = good.copy()
        halves[:, :D // 2], halves[:, D // 2:] = good[:, 0::2], good[:, 1::2]
        for table, kind in ((good, "sinusoidal"), (halves, "learned")):
            path = self.path()
            export(encoder(), path, positions=Positions(table),
                   **parts(False))
            with open(path + ".attn") as f:
                self.assertIn(f"positions = {kind};", f.read())

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
