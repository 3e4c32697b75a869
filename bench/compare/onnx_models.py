"""ONNX graphs of one attention call for ONNX Runtime, built with python3-onnx.

Three ways ONNX Runtime runs attention on a CPU, each a one-node graph over
[batch, length, heads * head_dim] tensors (the layout attnc and PyTorch use):

  mha        com.microsoft.MultiHeadAttention (unidirectional=1 for causal)
  gqa        com.microsoft.GroupQueryAttention (always causal; K/V heads may
             be fewer; without a past cache: seqlens_k = L - 1)
  attention  the standard ONNX Attention op of opset 23 (is_causal)

Debian's python3-onnx (1.12) predates opset 23; onnx.helper builds the node
all the same (it does not check schemas), and ONNX Runtime 1.30 checks it.
"""
import onnx
from onnx import TensorProto, helper


def _model(node, inputs, outputs, opset):
    graph = helper.make_graph([node], "attention", inputs, outputs)
    imports = [helper.make_opsetid("", opset)]
    if node.domain == "com.microsoft":
        imports.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=imports)
    model.ir_version = 10 if opset >= 21 else 8
    return model


def _tensor(name, width, dtype=TensorProto.FLOAT, shape=None):
    return helper.make_tensor_value_info(
        name, dtype, shape if shape is not None else ["batch", name + "_len", width])


def build(kind, heads, kv_heads, head_dim, causal):
    """The ModelProto of one attention call; inputs named as the worker feeds them."""
    qw, kw = heads * head_dim, kv_heads * head_dim
    q, k, v = _tensor("query", qw), _tensor("key", kw), _tensor("value", kw)
    out = _tensor("output", qw)
    scale = 1.0 / head_dim ** 0.5
    if kind == "mha":
        assert heads == kv_heads, "MultiHeadAttention has no grouped heads"
        node = helper.make_node("MultiHeadAttention", ["query", "key", "value"], ["output"],
                                domain="com.microsoft", num_heads=heads, scale=scale,
                                unidirectional=int(causal))
        return _model(node, [q, k, v], [out], 17)
    if kind == "gqa":
        assert causal, "GroupQueryAttention is causal"
        seqlens = _tensor("seqlens_k", 0, TensorProto.INT32, ["batch"])
        total = _tensor("total_sequence_length", 0, TensorProto.INT32, [])
        node = helper.make_node(
            "GroupQueryAttention",
            ["query", "key", "value", "", "", "seqlens_k", "total_sequence_length"],
            ["output", "present_key", "present_value"], domain="com.microsoft",
            num_heads=heads, kv_num_heads=kv_heads, scale=scale)
        present = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
                   for n in ("present_key", "present_value")]
        return _model(node, [q, k, v, seqlens, total], [out] + present, 17)
    if kind == "attention":
        node = helper.make_node("Attention", ["query", "key", "value"], ["output"],
                                q_num_heads=heads, kv_num_heads=kv_heads,
                                is_causal=int(causal), scale=scale)
        return _model(node, [q, k, v], [out], 23)
    raise ValueError(kind)


def save(kind, heads, kv_heads, head_dim, causal, path):
    onnx.save(build(kind, heads, kv_heads, head_dim, causal), path)
    return path
