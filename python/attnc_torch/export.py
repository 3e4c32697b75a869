"""Export a PyTorch transformer to attnc: a .attn file and its weights.

    attnc_torch.export(module, "out/model", src_embed=..., generator=...)
    python3 -m attnc_torch.export model.pt -o out/model [--generator NAME ...]

write out/model.attn and out/model.safetensors (weights under the names
MLIRGen gives them) for nn.Transformer, nn.TransformerEncoder,
nn.TransformerDecoder (with its encoder), their layers, and
nn.MultiheadAttention. Embeddings, positional encoding and the output
projection are the caller's (modules or attribute paths in `module`) when
the module does not have them under attnc's names (src_embed, tgt_embed,
generator). What .attn cannot express raises ExportError naming the module
path and the attribute (inspect_modules.py); nothing is approximated.
Then `attnc compile out/model.attn --shared -o out/` builds the library
that python/attnc loads (docs/python.md)."""
import argparse
import math
import os
import sys

import numpy as np
import torch
from torch import nn

from . import safetensors
from .inspect_modules import (ExportError, Tensors, check_no_active_dropout,
                              read_attention, read_embedding, read_generator,
                              read_mask, read_positions, read_stack,
                              scale_text, sinusoidal_table)

__all__ = ["export", "ExportError", "main"]

KEYWORDS = {"const", "target", "dtype", "attention", "encoder_layer",
            "decoder_layer", "model", "true", "false",
            # The names export gives its own blocks and constants.
            "d_model", "enc_self", "enc_layer", "dec_self", "dec_cross",
            "dec_layer"}


def _identifier(text):
    return text.isidentifier() and text.isascii() and text not in KEYWORDS


def _resolve(module, part, name):
    """A caller-named part: a module, or a dotted attribute path in module
    (a submodule, or for tables also a parameter or buffer)."""
    if part is None or isinstance(part, nn.Module):
        return part, name
    if isinstance(part, str):
        for get in (module.get_submodule, module.get_parameter,
                    module.get_buffer):
            try:
                return get(part), part
            except AttributeError:
                pass
        raise ExportError(part, "__name__", f"'{part}' names no submodule, "
                          "parameter or buffer of the exported "
                          f"{type(module).__name__}")
    if torch.is_tensor(part) or isinstance(part, np.ndarray):
        return part, name
    raise TypeError(f"{name}: expected a module or an attribute path, got "
                    f"{type(part).__name__}")


def _own(module, name):
    sub = getattr(module, name, None)
    return sub if isinstance(sub, nn.Module) else None


# ---------------------------------------------------------------------------
# .attn text
# ---------------------------------------------------------------------------

def _attention_block(name, spec, probs):
    fields = []
    if spec.cross:
        fields.append("source = cross;")
    fields.append(f"heads = {spec.heads};")
    if spec.kdim:
        fields.append(f"kdim = {spec.kdim};")
    if spec.vdim:
        fields.append(f"vdim = {spec.vdim};")
    fields.append("mask = causal & key_padding;" if spec.causal
                  else "mask = key_padding;")
    if not spec.bias:
        fields.append("bias = false;")
    if probs:
        fields.append(f"probs = {probs};")
    return f"attention {name} {{ " + " ".join(fields) + " }"


def _layer_block(kind, name, spec, self_name, cross_name):
    ffn = f"ffn({spec.width}, {spec.activation}" + \
        ("" if spec.ffn_bias else ", bias = false") + ")"
    lines = [f"{kind} {name} {{", f"  self_attention = {self_name};"]
    if cross_name:
        lines.append(f"  cross_attention = {cross_name};")
    lines += [f"  feed_forward = {ffn};", f"  norm = {spec.norm};",
              f"  norm_eps = {scale_text(spec.eps)};", "}"]
    return "\n".join(lines)


def _model_text(header, name, d_model, encoder, decoder, fields, probs):
    """encoder/decoder: (LayerSpec, count) or None."""
    blocks = [header, f"const d_model = {d_model};"]
    stacks = []
    if encoder:
        spec, count = encoder
        blocks.append(_attention_block("enc_self", spec.attention, probs))
        blocks.append(_layer_block("encoder_layer", "enc_layer", spec,
                                   "enc_self", None))
        stacks.append(f"encoder = enc_layer * {count};")
    if decoder:
        spec, count = decoder
        blocks.append(_attention_block("dec_self", spec.attention, probs))
        if spec.cross:
            blocks.append(_attention_block("dec_cross", spec.cross, probs))
        blocks.append(_layer_block("decoder_layer", "dec_layer", spec,
                                   "dec_self",
                                   "dec_cross" if spec.cross else None))
        stacks.append(f"decoder = dec_layer * {count};")
    body = ["  d_model = d_model;"] + [f"  {f}" for f in fields] + \
        [f"  {s}" for s in stacks]
    blocks.append(f"model {name} {{\n" + "\n".join(body) + "\n}")
    return "\n\n".join(blocks) + "\n"


def _header(module):
    return (f"# Exported by attnc_torch.export from {type(module).__name__} "
            f"(PyTorch {torch.__version__}).\n# Every function takes and "
            "returns batch-first tensors.")


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

def _model_fields(src_vocab, tgt_vocab, max_len, positions, embed_scale,
                  final_norm, output_bias, output, weights):
    fields = []
    if src_vocab:
        fields.append(f"src_vocab = {src_vocab};")
    if tgt_vocab:
        fields.append(f"tgt_vocab = {tgt_vocab};")
    fields += [f"max_len = {max_len};", f"positions = {positions};",
               f"embed_scale = {scale_text(embed_scale)};",
               f"final_norm = {'true' if final_norm else 'false'};"]
    if tgt_vocab:
        fields += [f"output_bias = {'true' if output_bias else 'false'};",
                   f"output = {output};"]
    if weights != "f32":
        fields.append(f"weights = {weights};")
    return fields


def _check_final_norms(norms, paths):
    present = [eps is not None for eps in norms]
    if len(set(present)) > 1:
        missing = paths[present.index(False)]
        raise ExportError(missing, "norm", "one stack has a final layer norm "
                          "and the other none; attnc's final_norm applies to "
                          "both stacks or neither")
    return present[0]


def _export_model(module, out, name, parts, opts):
    """Encoder-decoder, encoder-only or decoder-only model."""
    encoder, decoder = parts["encoder"], parts["decoder"]
    enc_path, dec_path = parts["encoder_path"], parts["decoder_path"]
    generator, gen_path = _resolve(module, opts["generator"] or
                                   _own(module, "generator"), "generator")
    enc_spec = dec_spec = None
    norms, norm_paths = [], []
    if decoder is None and generator is not None:
        # A stack of encoder layers with an output projection is attnc's
        # decoder without cross-attention (a decoder-only model); causal
        # or not, as its mask says.
        causal = read_mask(opts["mask"], enc_path, "mask", True)
        spec, count, eps = read_stack(encoder, enc_path, "decoder.", out,
                                      causal)
        dec_spec, decoder_only = (spec, count), True
        norms, norm_paths = [eps], [enc_path]
        embed_part, embed_name = opts["embed"] or opts["tgt_embed"] or \
            opts["src_embed"] or _own(module, "tgt_embed") or \
            _own(module, "src_embed"), "embed"
    else:
        decoder_only = False
        if encoder is not None:
            causal = read_mask(opts["src_mask"] if decoder is not None
                               else opts["mask"], enc_path, "src_mask", True)
            spec, count, eps = read_stack(encoder, enc_path, "encoder.", out,
                                          causal)
            enc_spec = (spec, count)
            norms.append(eps)
            norm_paths.append(enc_path)
        if decoder is not None:
            causal = read_mask(opts["tgt_mask"], dec_path, "tgt_mask", True)
            read_mask(opts["memory_mask"], dec_path, "memory_mask", False)
            spec, count, eps = read_stack(decoder, dec_path, "decoder.", out,
                                          causal)
            dec_spec = (spec, count)
            norms.append(eps)
            norm_paths.append(dec_path)
    d_model = (enc_spec or dec_spec)[0].d_model
    final_norm = _check_final_norms(norms, norm_paths)

    src_vocab = tgt_vocab = 0
    if enc_spec:
        src, src_path = _resolve(module, opts["src_embed"] or opts["embed"]
                                 or _own(module, "src_embed"), "src_embed")
        if src is None:
            raise ExportError(enc_path, "src_embed", "attnc models start from "
                              "token ids: pass src_embed (an nn.Embedding or "
                              "its attribute path)")
        src_vocab = read_embedding(src, src_path, d_model, "src_embed.weight",
                                   out)
    output_bias = True
    if dec_spec:
        if decoder_only:
            tgt, tgt_path = _resolve(module, embed_part, embed_name)
        else:
            tgt, tgt_path = _resolve(module, opts["tgt_embed"] or
                                     _own(module, "tgt_embed"), "tgt_embed")
        if tgt is None:
            raise ExportError(dec_path or enc_path, "tgt_embed", "attnc "
                              "models start from token ids: pass the target "
                              "embedding (an nn.Embedding or its path)")
        tgt_vocab = read_embedding(tgt, tgt_path, d_model, "tgt_embed.weight",
                                   out)
        if generator is None:
            raise ExportError(dec_path, "generator", "an attnc decoder ends "
                              "in a projection to the vocabulary: pass "
                              "generator (an nn.Linear or its path)")
        check_no_active_dropout(generator, gen_path)
        vocab, output_bias = read_generator(generator, gen_path, d_model, out)
        if vocab != tgt_vocab:
            raise ExportError(gen_path, "out_features", f"{vocab} differs "
                              f"from the target vocabulary {tgt_vocab}")

    sides = [side for side, spec in (("src", enc_spec), ("tgt", dec_spec))
             if spec]
    kind, max_len = _positions(module, sides, d_model, opts, out)
    fields = _model_fields(src_vocab, tgt_vocab, max_len, kind,
                           opts["embed_scale"], final_norm, output_bias,
                           opts["output"], opts["weights"])
    return _model_text(_header(module), name, d_model, enc_spec, dec_spec,
                       fields, opts["probs"])


def _positions(module, sides, d_model, opts, out):
    """The model's positions field and max_len; writes the learned tables.

    Each side ("src", "tgt") takes opts[side + "_positions"], else
    opts["positions"]. attnc has one kind per model: when either side's
    table is learned, or the sides differ, both get a table of max_len rows
    (a sinusoidal side its sinusoid, a side without positions zeros), which
    computes what PyTorch does."""
    for side in ("src", "tgt"):
        if opts[side + "_positions"] is not None and side not in sides:
            raise ExportError(side + "_positions", "positions", "the exported "
                              f"model has no {side} side (a decoder-only "
                              "model's embedding is the tgt side); use "
                              "positions=")
    read = {}
    for side in sides:
        own = opts[side + "_positions"]
        part, path = (own, side + "_positions") if own is not None \
            else (opts["positions"], "positions")
        if isinstance(part, str) and part == "learned":
            raise ExportError(path, "positions", "'learned' needs the table "
                              "itself: pass the nn.Embedding, the module "
                              "holding it, its attribute path or a tensor")
        named = part is None or (isinstance(part, str) and
                                 part in ("none", "sinusoidal"))
        if not named:
            part, path = _resolve(module, part, path)
        read[side] = (path,) + read_positions(part, path, d_model)
    rows = [r for _, _, r, _ in read.values() if r]
    max_len = opts["max_len"] or (min(rows) if rows else 1024)
    for path, _, table_rows, _ in read.values():
        if table_rows and max_len > table_rows:
            raise ExportError(path, "max_len", f"max_len {max_len} exceeds "
                              f"the positional table's {table_rows} rows")
    kinds = {kind for _, kind, _, _ in read.values()}
    if len(kinds) == 1 and kinds != {"learned"}:
        return kinds.pop(), max_len
    for side, (_, kind, _, table) in read.items():
        if kind == "learned":
            table = table[:max_len]
        elif kind == "sinusoidal":
            table = sinusoidal_table(max_len, d_model)
        else:
            table = np.zeros((max_len, d_model))
        out.put(f"{side}_pos_embed.weight", table)
    return "learned", max_len


def _export_attention(module, out, name, opts):
    d_model = module.embed_dim
    cross = bool(opts["cross"])
    causal = read_mask(opts["mask"], "", "attn_mask", not cross)
    spec = read_attention(module, "", d_model, causal, cross, out, name + ".",
                          standalone=True)
    block = _attention_block(name, spec, opts["probs"])
    block = block.replace(" { ", f" {{ d_model = {d_model}; ", 1)
    return f"{_header(module)}\n\n{block}\n"


def _parts(module, opts):
    """The encoder and decoder stacks of `module` with their paths."""
    enc_types = (nn.TransformerEncoder, nn.TransformerEncoderLayer)
    dec_types = (nn.TransformerDecoder, nn.TransformerDecoderLayer)
    if isinstance(module, nn.Transformer):
        return {"encoder": module.encoder, "encoder_path": "encoder",
                "decoder": module.decoder, "decoder_path": "decoder"}
    if isinstance(module, enc_types):
        return {"encoder": module, "encoder_path": "",
                "decoder": None, "decoder_path": None}
    if isinstance(module, dec_types):
        encoder, enc_path = _resolve(module, opts["encoder"], "encoder")
        if not isinstance(encoder, enc_types):
            raise ExportError("", "encoder", "an nn.TransformerDecoder's "
                              "cross-attention reads an encoder's memory: "
                              "pass encoder (an nn.TransformerEncoder); for a "
                              "decoder-only model export an "
                              "nn.TransformerEncoder with mask='causal' and a "
                              "generator")
        return {"encoder": encoder, "encoder_path": enc_path,
                "decoder": module, "decoder_path": ""}
    raise ExportError("", "__class__", f"{type(module).__name__} is not an "
                      "exportable module (nn.Transformer, nn.Transformer"
                      "Encoder/Decoder and their layers, "
                      "nn.MultiheadAttention, or a subclass of them)")


def export(module, path, *, embed=None, src_embed=None, tgt_embed=None,
           generator=None, positions=None, src_positions=None,
           tgt_positions=None, embed_scale=1.0, max_len=None,
           mask=None, src_mask=None, tgt_mask="causal", memory_mask=None,
           encoder=None, cross=False, probs=None, output="logits",
           weights="f32", store_f32=False, name=None):
    """Writes `path`.attn and `path`.safetensors for `module`.

    module       nn.Transformer, nn.TransformerEncoder(Layer),
                 nn.TransformerDecoder(Layer) (with `encoder`), or
                 nn.MultiheadAttention; a subclass may hold its embeddings
                 and output projection as src_embed, tgt_embed, generator.
    src_embed, tgt_embed, embed, generator, encoder, positions
                 modules, or dotted attribute paths inside `module`.
    positions    None, "sinusoidal", or the positional table to add: an
                 nn.Embedding, a module holding one table (buffer or
                 parameter), or a tensor [positions, d_model]. A table equal
                 to attnc's sinusoid is exported as `positions = sinusoidal`,
                 any other as `positions = learned` (the first max_len rows).
    src_positions, tgt_positions
                 the same, for one side only (default: positions).
    embed_scale  embeddings are multiplied by it (e.g. math.sqrt(d_model)).
    mask         the self-attention mask of an encoder stack or of
                 nn.MultiheadAttention: None or "causal" (or a mask tensor
                 equal to one of them). An encoder stack with a generator is
                 exported as a decoder-only model.
    src_mask, tgt_mask, memory_mask   nn.Transformer's masks, likewise.
    cross        nn.MultiheadAttention: keys and values from a second input.
    probs        None, "head_mean" or "per_head": every attention block also
                 returns its attention probabilities.
    output       "logits" or "probs" (softmax over the vocabulary).
    weights      how the compiled model stores its linear weights: "f32",
                 "bf16", "f16" or "int8" (`weights` in docs/dsl.md; CPU
                 targets only). The safetensors file stores them so too
                 (BF16, F16, or I8 with a scale per row: 1/2 or about 1/4
                 of the bytes); the other tensors stay F32. Models only,
                 not nn.MultiheadAttention.
    store_f32    write every tensor as F32 whatever `weights` says: one
                 file for models compiled with different `weights`
                 (`attnc compile --weights=...`); the runtime rounds when
                 it loads.
    name         the model's (or attention function's) name in the .attn.

    Returns the paths of the two files written. Padding is always
    expressed by lengths inputs (mask = key_padding)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"export: expected an nn.Module, got "
                        f"{type(module).__name__}")
    if probs not in (None, "head_mean", "per_head"):
        raise ValueError(f"probs must be None, 'head_mean' or 'per_head', "
                         f"got {probs!r}")
    if output not in ("logits", "probs"):
        raise ValueError(f"output must be 'logits' or 'probs', got {output!r}")
    if weights not in ("f32", "bf16", "f16", "int8"):
        raise ValueError(f"weights must be 'f32', 'bf16', 'f16' or 'int8', "
                         f"got {weights!r}")
    if weights != "f32" and isinstance(module, nn.MultiheadAttention):
        raise ValueError("weights: a stand-alone attention block keeps f32 "
                         "weights; reduced-precision weights are a model's "
                         "(export the layers around it)")
    stem = os.path.basename(path)
    if name is None:
        default = "mha" if isinstance(module, nn.MultiheadAttention) else "net"
        name = stem if _identifier(stem) else default
    if not _identifier(name):
        raise ValueError(f"name {name!r} is not a .attn identifier")
    if not (stem.isidentifier() and stem.isascii()):
        raise ValueError(f"the file name {stem!r} becomes the C symbol prefix "
                         "of the compiled unit and must be an identifier")
    check_no_active_dropout(module, "")
    opts = dict(embed=embed, src_embed=src_embed, tgt_embed=tgt_embed,
                generator=generator, positions=positions,
                src_positions=src_positions, tgt_positions=tgt_positions,
                embed_scale=float(embed_scale), max_len=max_len, mask=mask,
                src_mask=src_mask, tgt_mask=tgt_mask, memory_mask=memory_mask,
                encoder=encoder, cross=cross, probs=probs, output=output,
                weights=weights)
    for part in ("embed", "src_embed", "tgt_embed", "encoder", "generator"):
        resolved, where = _resolve(module, opts[part], part)
        if isinstance(resolved, nn.Module):
            check_no_active_dropout(resolved, where)
    out = Tensors()
    with torch.no_grad():
        if isinstance(module, nn.MultiheadAttention):
            text = _export_attention(module, out, name, opts)
        else:
            text = _export_model(module, out, name, _parts(module, opts), opts)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    attn_path, weights_path = path + ".attn", path + ".safetensors"
    with open(attn_path, "w") as f:
        f.write(text)
    stored = {"bf16": "BF16", "f16": "F16", "int8": "I8"}.get(weights)
    if store_f32 or stored is None:
        safetensors.save(weights_path, out.items)
    else:
        safetensors.save(weights_path, out.items,
                         {name: stored for name in out.linear})
    return attn_path, weights_path


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m attnc_torch.export",
        description="Export a pickled PyTorch transformer (torch.save(model)) "
                    "to <out>.attn and <out>.safetensors.")
    parser.add_argument("model", help="a file written by torch.save(module)")
    parser.add_argument("-o", "--output", required=True,
                        help="output path without extension, e.g. out/model")
    for part in ("embed", "src-embed", "tgt-embed", "generator", "encoder"):
        parser.add_argument(f"--{part}", metavar="ATTR",
                            help=f"attribute path of the {part} module")
    parser.add_argument("--positions", default=None,
                        help="'sinusoidal', 'none' or the attribute path of a "
                             "positional table (nn.Embedding, a module "
                             "holding one table)")
    for side in ("src", "tgt"):
        parser.add_argument(f"--{side}-positions", default=None,
                            help=f"the same, for the {side} side only")
    parser.add_argument("--embed-scale", default="1.0",
                        help="a number, or 'sqrt' for sqrt(d_model)")
    parser.add_argument("--max-len", type=int)
    for m in ("mask", "src-mask", "memory-mask"):
        parser.add_argument(f"--{m}", choices=["none", "causal"],
                            default="none")
    parser.add_argument("--tgt-mask", choices=["none", "causal"],
                        default="causal")
    parser.add_argument("--cross", action="store_true")
    parser.add_argument("--probs", choices=["head_mean", "per_head"])
    parser.add_argument("--output-kind", choices=["logits", "probs"],
                        default="logits")
    parser.add_argument("--weights", choices=["f32", "bf16", "f16", "int8"],
                        default="f32",
                        help="how the compiled model (and the weights file) "
                             "store linear weights")
    parser.add_argument("--store-f32", action="store_true",
                        help="write the weights file in f32 whatever "
                             "--weights says")
    parser.add_argument("--name")
    args = parser.parse_args(argv)
    module = torch.load(args.model, map_location="cpu")
    if isinstance(module, dict):
        parser.error(f"{args.model} holds a state_dict; export needs the "
                     "module itself (torch.save(model), not "
                     "model.state_dict())")
    if args.embed_scale == "sqrt":
        d_model = getattr(module, "d_model", None) or \
            getattr(module, "embed_dim", None)
        if d_model is None:
            parser.error("--embed-scale sqrt: the module has no d_model")
        scale = math.sqrt(d_model)
    else:
        scale = float(args.embed_scale)
    positions = args.positions if args.positions != "none" else None
    side_positions = {side: getattr(args, f"{side}_positions")
                      for side in ("src", "tgt")}
    try:
        files = export(module, args.output, embed=args.embed,
                       src_embed=args.src_embed, tgt_embed=args.tgt_embed,
                       generator=args.generator, encoder=args.encoder,
                       positions=positions,
                       src_positions=side_positions["src"],
                       tgt_positions=side_positions["tgt"], embed_scale=scale,
                       max_len=args.max_len, mask=args.mask,
                       src_mask=args.src_mask, tgt_mask=args.tgt_mask,
                       memory_mask=args.memory_mask, cross=args.cross,
                       probs=args.probs, output=args.output_kind,
                       weights=args.weights, store_f32=args.store_f32,
                       name=args.name)
    except ExportError as e:
        print(f"attnc_torch.export: error: {e}", file=sys.stderr)
        return 1
    for f in files:
        print(f"wrote {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
