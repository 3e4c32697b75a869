"""Reads PyTorch modules into what a .attn file can say, or refuses them.

Each reader takes a module and its dotted path in the exported model and
returns a plain description (LayerSpec, AttentionSpec) plus the module's
tensors, or raises ExportError naming the module path and the attribute
that .attn cannot express. The rule: anything whose computation would
differ from PyTorch's is refused, never approximated. A missing bias or an
affine-free layer norm is written as zeros or ones, which computes exactly
what PyTorch does. Used by export.py."""
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class ExportError(ValueError):
    """A module attnc cannot express. `path` is the module's dotted path in
    the exported model, `attribute` the attribute at fault."""

    def __init__(self, path, attribute, message):
        self.path, self.attribute = path or "<module>", attribute
        super().__init__(f"{self.path}.{attribute}: {message}")


@dataclass
class AttentionSpec:
    heads: int
    bias: bool               # False: no projection biases at all
    causal: bool = False
    cross: bool = False
    kdim: int = 0            # key / value input widths when not d_model
    vdim: int = 0


@dataclass
class LayerSpec:
    attention: AttentionSpec
    cross: AttentionSpec = None
    width: int = 0            # feed-forward width
    activation: str = "relu"
    ffn_bias: bool = True
    norm: str = "post"
    eps: float = 1e-5
    d_model: int = 0

    def key(self):
        return (self.attention, self.cross, self.width, self.activation,
                self.ffn_bias, self.norm, self.eps, self.d_model)


@dataclass
class Tensors:
    """Exported weights, by attnc name, as float32 numpy arrays; `linear`
    names those that linear layers read (stored in the model's `weights`
    type)."""
    items: dict = field(default_factory=dict)
    linear: set = field(default_factory=set)

    def put(self, name, value, linear=False):
        self.items[name] = np.ascontiguousarray(
            value.detach().cpu().numpy() if torch.is_tensor(value) else value,
            dtype=np.float32)
        if linear:
            self.linear.add(name)


def join(path, name):
    return f"{path}.{name}" if path else name


# ---------------------------------------------------------------------------
# Modes and masks
# ---------------------------------------------------------------------------

def check_no_active_dropout(module, path):
    """Dropout left on (training mode, p > 0) makes outputs random; attnc
    computes the eval-mode model only."""
    for name, sub in module.named_modules():
        where = join(path, name)
        if not sub.training:
            continue
        if isinstance(sub, nn.Dropout) and sub.p > 0:
            raise ExportError(where, "p", f"dropout p={sub.p} is active "
                              "(the module is in training mode); call "
                              ".eval() before exporting")
        if isinstance(sub, nn.MultiheadAttention) and sub.dropout > 0:
            raise ExportError(where, "dropout", f"attention dropout "
                              f"{sub.dropout} is active (training mode); "
                              "call .eval() before exporting")


def causal_pattern(length):
    return torch.triu(torch.ones(length, length, dtype=torch.bool), 1)


def read_mask(mask, path, attribute, self_attention):
    """None, "causal", or a tensor mask: returns True for causal, False for
    none; a tensor must be recognisably one of the two."""
    if mask is None or (isinstance(mask, str) and mask == "none"):
        return False
    if isinstance(mask, str):
        if mask == "causal":
            if not self_attention:
                raise ExportError(path, attribute, "a causal mask on "
                                  "cross-attention is not expressible; attnc "
                                  "masks cross-attention by key padding only")
            return True
        raise ExportError(path, attribute, f"unknown attention mask '{mask}'; "
                          "expected None, 'causal' or a mask tensor")
    if not torch.is_tensor(mask) or mask.dim() != 2:
        raise ExportError(path, attribute, "unknown attention mask (expected "
                          "None, 'causal' or a 2-D mask tensor)")
    hidden = mask if mask.dtype == torch.bool else torch.isneginf(mask)
    if mask.dtype != torch.bool:
        visible = mask[~hidden]
        if visible.numel() and bool((visible != 0).any()):
            raise ExportError(path, attribute, "unknown attention mask: a "
                              "float mask that adds finite values to scores")
    if not bool(hidden.any()):
        return False
    if self_attention and mask.shape[0] == mask.shape[1] and \
            torch.equal(hidden.cpu(), causal_pattern(mask.shape[0])):
        return True
    raise ExportError(path, attribute, "unknown attention mask: only no mask "
                      "and the causal mask (generate_square_subsequent_mask) "
                      "are expressible; padding comes from the lengths inputs")


# ---------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------

def read_attention(mha, path, d_model, causal, cross, out, prefix,
                   standalone=False):
    """nn.MultiheadAttention as an attention block, weights written under
    `prefix`: its packed projections, or q_proj/k_proj/v_proj when kdim or
    vdim differ from embed_dim (a stand-alone cross-attention only)."""
    if not isinstance(mha, nn.MultiheadAttention):
        raise ExportError(path, "__class__", f"{type(mha).__name__} is not "
                          "nn.MultiheadAttention")
    if mha.embed_dim != d_model:
        raise ExportError(path, "embed_dim", f"{mha.embed_dim} differs from "
                          f"the model width {d_model}")
    if not mha._qkv_same_embed_dim and not (standalone and cross):
        attribute = "kdim" if mha.kdim != mha.embed_dim else "vdim"
        where = ("a self-attention reads keys and values from its query "
                 "input; export with cross=True") if standalone else \
            "inside a layer keys and values are d_model wide"
        raise ExportError(path, attribute, f"kdim={mha.kdim}, vdim={mha.vdim} "
                          f"differ from embed_dim={mha.embed_dim}; {where}")
    if mha.bias_k is not None:
        raise ExportError(path, "bias_k", "add_bias_kv=True (learned key and "
                          "value rows appended) is not expressible")
    if mha.add_zero_attn:
        raise ExportError(path, "add_zero_attn", "add_zero_attn=True is not "
                          "expressible")
    biases = [mha.in_proj_bias, mha.out_proj.bias]
    bias = any(b is not None for b in biases)
    in_bias = mha.in_proj_bias if mha.in_proj_bias is not None \
        else torch.zeros(3 * d_model)
    spec = AttentionSpec(heads=mha.num_heads, bias=bias, causal=causal,
                         cross=cross)
    if mha._qkv_same_embed_dim:
        out.put(prefix + "in_proj_weight", mha.in_proj_weight, linear=True)
        if bias:
            out.put(prefix + "in_proj_bias", in_bias)
    else:
        # Separate q/k/v weights; attnc's names for them (docs/dsl.md).
        spec.kdim = mha.kdim if mha.kdim != d_model else 0
        spec.vdim = mha.vdim if mha.vdim != d_model else 0
        for i, part in enumerate("qkv"):
            out.put(f"{prefix}{part}_proj.weight",
                    getattr(mha, f"{part}_proj_weight"), linear=True)
            if bias:
                out.put(f"{prefix}{part}_proj.bias",
                        in_bias[i * d_model:(i + 1) * d_model])
    out.put(prefix + "out_proj.weight", mha.out_proj.weight, linear=True)
    if bias:
        out.put(prefix + "out_proj.bias", mha.out_proj.bias if
                mha.out_proj.bias is not None else torch.zeros(d_model))
    return spec


def read_activation(layer, path):
    act = layer.activation
    if act in (F.relu, torch.relu) or type(act) is nn.ReLU:
        return "relu"
    if act is F.gelu or (type(act) is nn.GELU and act.approximate == "none"):
        return "gelu"
    raise ExportError(path, "activation", f"custom activation {act!r}; attnc "
                      "feed-forward layers compute relu or gelu (erf)")


def read_linear(linear, path, shape, prefix, out, bias):
    if type(linear) not in (nn.Linear,) and not isinstance(linear, nn.Linear):
        raise ExportError(path, "__class__", f"{type(linear).__name__} is "
                          "not nn.Linear")
    if tuple(linear.weight.shape) != shape:
        raise ExportError(path, "weight", f"shape {tuple(linear.weight.shape)}"
                          f", expected {shape}")
    out.put(prefix + "weight", linear.weight, linear=True)
    if bias:
        out.put(prefix + "bias", linear.bias if linear.bias is not None
                else torch.zeros(shape[0]))


def read_norm(norm, path, d_model, prefix, out):
    """A LayerNorm over the last dimension; returns its eps."""
    if not isinstance(norm, nn.LayerNorm):
        raise ExportError(path, "__class__", f"{type(norm).__name__} is not "
                          "nn.LayerNorm")
    if tuple(norm.normalized_shape) != (d_model,):
        raise ExportError(path, "normalized_shape", f"{norm.normalized_shape}"
                          f"; attnc normalises over the model width {d_model}")
    weight = getattr(norm, "weight", None)
    bias = getattr(norm, "bias", None)
    out.put(prefix + "weight", weight if weight is not None
            else torch.ones(d_model))
    out.put(prefix + "bias", bias if bias is not None
            else torch.zeros(d_model))
    return float(norm.eps)


def read_layer(layer, path, prefix, out, self_causal, cross_causal=False):
    """An nn.TransformerEncoderLayer or nn.TransformerDecoderLayer."""
    decoder = isinstance(layer, nn.TransformerDecoderLayer)
    if not decoder and not isinstance(layer, nn.TransformerEncoderLayer):
        raise ExportError(path, "__class__", f"{type(layer).__name__} is "
                          "neither nn.TransformerEncoderLayer nor "
                          "nn.TransformerDecoderLayer")
    d_model = layer.self_attn.embed_dim
    spec = LayerSpec(attention=read_attention(
        layer.self_attn, join(path, "self_attn"), d_model, self_causal, False,
        out, prefix + "self_attn."), d_model=d_model)
    if decoder:
        spec.cross = read_attention(layer.multihead_attn,
                                    join(path, "multihead_attn"), d_model,
                                    cross_causal, True, out,
                                    prefix + "multihead_attn.")
    spec.activation = read_activation(layer, path)
    spec.width = layer.linear1.out_features
    spec.ffn_bias = layer.linear1.bias is not None or \
        layer.linear2.bias is not None
    read_linear(layer.linear1, join(path, "linear1"), (spec.width, d_model),
                prefix + "linear1.", out, spec.ffn_bias)
    read_linear(layer.linear2, join(path, "linear2"), (d_model, spec.width),
                prefix + "linear2.", out, spec.ffn_bias)
    spec.norm = "pre" if layer.norm_first else "post"
    names = ["norm1", "norm2"] + (["norm3"] if decoder else [])
    eps = {read_norm(getattr(layer, n), join(path, n), d_model,
                     f"{prefix}{n}.", out) for n in names}
    if len(eps) != 1:
        raise ExportError(join(path, names[-1]), "eps", f"layer norms with "
                          f"different eps {sorted(eps)} in one layer; attnc "
                          "has one norm_eps per layer")
    spec.eps = eps.pop()
    return spec


def read_stack(stack, path, prefix, out, self_causal, cross_causal=False):
    """An nn.TransformerEncoder/Decoder, or a single layer (a stack of one).
    Returns (LayerSpec, count, final norm eps or None)."""
    if isinstance(stack, (nn.TransformerEncoderLayer,
                          nn.TransformerDecoderLayer)):
        layers, norm = [stack], None
        paths = [path]
    else:
        layers, norm = list(stack.layers), stack.norm
        paths = [join(path, f"layers.{i}") for i in range(len(layers))]
    specs = [read_layer(layer, p, f"{prefix}layers.{i}.", out, self_causal,
                        cross_causal)
             for i, (layer, p) in enumerate(zip(layers, paths))]
    for spec, p in zip(specs[1:], paths[1:]):
        if spec.key() != specs[0].key():
            raise ExportError(p, "__init__", "layers configured differently "
                              "from layer 0; attnc stacks repeat one layer")
    final_eps = None
    if norm is not None:
        final_eps = read_norm(norm, join(path, "norm"), specs[0].d_model,
                              f"{prefix}norm.", out)
        if final_eps != specs[0].eps:
            raise ExportError(join(path, "norm"), "eps", f"{final_eps} differs"
                              f" from the layers' eps {specs[0].eps}; attnc's "
                              "final norm uses the layers' norm_eps")
    return specs[0], len(specs), final_eps


# ---------------------------------------------------------------------------
# Embeddings, positions, output
# ---------------------------------------------------------------------------

def read_embedding(embedding, path, d_model, name, out):
    if not isinstance(embedding, nn.Embedding):
        raise ExportError(path, "__class__", f"{type(embedding).__name__} is "
                          "not nn.Embedding")
    if embedding.max_norm is not None:
        raise ExportError(path, "max_norm", "embeddings renormalised at "
                          "lookup are not expressible")
    if embedding.embedding_dim != d_model:
        raise ExportError(path, "embedding_dim", f"{embedding.embedding_dim}"
                          f" differs from the model width {d_model}")
    out.put(name, embedding.weight)
    return embedding.num_embeddings


def sinusoidal_table(length, width):
    position = np.arange(length, dtype=np.float64)[:, None]
    frequency = np.power(10000.0, -np.arange(0, width, 2,
                                             dtype=np.float64) / width)
    table = np.zeros((length, width))
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency)
    return table


def read_positions(positions, path, d_model):
    """Returns (kind, rows, table): kind "none" or "sinusoidal" (table None,
    rows the length of a sinusoidal table given as one, else None), or
    "learned" with the [rows, d_model] float64 table to add. A table equal
    to attnc's sinusoidal one is computed, not stored; any other table
    (nn.Embedding, a parameter, a buffer, a tensor) is a learned table."""
    if positions is None or (isinstance(positions, str) and
                             positions in ("none", "sinusoidal")):
        kind = positions or "none"
        if kind == "sinusoidal" and d_model % 2:
            raise ExportError(path, "d_model", "sinusoidal positions need an "
                              f"even width, got {d_model}")
        return kind, None, None
    if isinstance(positions, str):
        raise ExportError(path, "positions", f"unknown positional encoding "
                          f"'{positions}'; expected 'sinusoidal', None, or a "
                          "module or tensor holding a table")
    if isinstance(positions, nn.Embedding):
        if positions.max_norm is not None:
            raise ExportError(path, "max_norm", "positional embeddings "
                              "renormalised at lookup are not expressible")
        attribute, table = "weight", positions.weight
    elif isinstance(positions, nn.Module):
        check_no_active_dropout(positions, path)
        tables = [(n, b) for n, b in positions.named_buffers()] + \
                 [(n, p) for n, p in positions.named_parameters()]
        if len(tables) != 1:
            raise ExportError(path, "__class__", "a positional module must "
                              "hold exactly one table (buffer or parameter), "
                              f"found {[n for n, _ in tables]}")
        attribute, table = tables[0]
    else:
        attribute, table = "positions", positions
    table = torch.as_tensor(table).detach().cpu().double()
    if table.dim() < 2 or table.shape[-1] != d_model or \
            table.numel() != table.shape[-2] * d_model:
        raise ExportError(path, attribute, f"a table of shape "
                          f"{tuple(table.shape)} is not [positions, d_model "
                          f"{d_model}] (leading dimensions of 1 allowed)")
    table = table.reshape(-1, d_model)
    if not d_model % 2 and np.allclose(
            table.numpy(), sinusoidal_table(table.shape[0], d_model),
            atol=1e-5):
        return "sinusoidal", table.shape[0], None
    return "learned", table.shape[0], table


def read_generator(generator, path, d_model, out):
    """Returns (vocabulary size, has bias)."""
    if not isinstance(generator, nn.Linear):
        raise ExportError(path, "__class__", f"{type(generator).__name__} is "
                          "not nn.Linear; attnc's output is one linear "
                          "projection (with output='probs', then softmax)")
    if generator.in_features != d_model:
        raise ExportError(path, "in_features", f"{generator.in_features} "
                          f"differs from the model width {d_model}")
    out.put("generator.weight", generator.weight, linear=True)
    if generator.bias is not None:
        out.put("generator.bias", generator.bias)
    return generator.out_features, generator.bias is not None


def scale_text(value):
    """A float as .attn text that reads back as the same double."""
    text = repr(float(value))
    if not math.isfinite(float(value)):
        raise ValueError(f"not a finite number: {value}")
    return text if any(c in text for c in ".e") else text + ".0"
