//===- AttnOps.td - Operations of the attn dialect ---------*- tablegen -*-===//
//
// One banner-separated def per op. Shape rules live in each op's verifier
// (AttnOps.cpp); result shapes in its inferShapes (ShapeInference.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_OPS
#define ATTN_OPS

include "attnc/Dialect/Attn/AttnBase.td"
include "attnc/Dialect/Attn/ShapeInferenceInterface.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

def Attn_ParamOp : Attn_Op<"param", [NoSideEffect]> {
  let summary = "a named weight tensor, bound by the runtime";
  let description = [{
    A model weight, looked up by name in the weights file when the runtime
    prepares the model. Names follow PyTorch's `state_dict` keys. The type is
    fully static.

    ```mlir
    %w = attn.param "encoder.layers.0.linear1.weight" : tensor<2048x512xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let verifier = [{ return ::verify(*this); }];
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

def Attn_LinearOp : Attn_Op<"linear", [NoSideEffect,
    DeclareOpInterfaceMethods<ShapeInferenceOpInterface>]> {
  let summary = "y = act(x W^T + b) over the innermost dimension";
  let description = [{
    A fully connected layer as in PyTorch's `nn.Linear`: the weight is
    `[out, in]`, the optional bias `[out]`, and the activation is applied to
    the result (`none` by default; canonicalization folds a following
    `attn.activation` into it). `weights` says how the kernel stores the
    weight: `f32` (the default) or, in fewer bytes, `bf16`, `f16` or `i8`
    (symmetric, one scale per output feature), converted from the f32
    weight when the runtime prepares the model; the arithmetic stays f32.

    ```mlir
    %y = attn.linear %x, %w, %b {activation = #attn.activation<relu>,
                                 weights = #attn.weights<bf16>}
        : (tensor<?x?x512xf32>, tensor<2048x512xf32>, tensor<2048xf32>)
        -> tensor<?x?x2048xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$input, Attn_FloatTensor:$weight,
                       Optional<Attn_FloatTensor>:$bias,
                       DefaultValuedAttr<Attn_ActivationAttr,
                         "::attnc::attn::Activation::None">:$activation,
                       DefaultValuedAttr<Attn_WeightTypeAttr,
                         "::attnc::attn::WeightType::F32">:$weights);
  let results = (outs Attn_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let verifier = [{ return ::verify(*this); }];
}

//===----------------------------------------------------------------------===//
// ActivationOp
//===----------------------------------------------------------------------===//

def Attn_ActivationOp : Attn_Op<"activation", [NoSideEffect,
    SameOperandsAndResultElementType,
    DeclareOpInterfaceMethods<ShapeInferenceOpInterface>]> {
  let summary = "elementwise ReLU or GELU";
  let description = [{
    Applies an activation to every element. GELU is the exact, erf-based one
    (PyTorch's default).

    ```mlir
    %y = attn.activation %x {kind = #attn.activation<gelu>} : tensor<?x?x2048xf32> -> tensor<?x?x2048xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$input, Attn_ActivationAttr:$kind);
  let results = (outs Attn_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let verifier = [{ return ::verify(*this); }];
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// AddOp
//===----------------------------------------------------------------------===//

def Attn_AddOp : Attn_Op<"add", [NoSideEffect, Commutative,
    SameOperandsAndResultElementType,
    DeclareOpInterfaceMethods<ShapeInferenceOpInterface>]> {
  let summary = "elementwise sum of two tensors of one shape (residual add)";
  let description = [{
    ```mlir
    %s = attn.add %x, %y : (tensor<?x?x512xf32>, tensor<?x?x512xf32>) -> tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$lhs, Attn_FloatTensor:$rhs);
  let results = (outs Attn_FloatTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let verifier = [{ return ::verify(*this); }];
}

//===----------------------------------------------------------------------===//
// LayerNormOp
//===----------------------------------------------------------------------===//

def Attn_LayerNormOp : Attn_Op<"layer_norm", [NoSideEffect,
    DeclareOpInterfaceMethods<ShapeInferenceOpInterface>]> {
  let summary = "layer normalization of (input + residual) over the innermost dimension";
  let description = [{
    `y = (s - mean(s)) / sqrt(var(s) + epsilon) * gamma + beta` with
    `s = input + residual`, the residual being optional. Canonicalization
    folds an `attn.add` feeding the input into the residual operand.

    ```mlir
    %y = attn.layer_norm %x residual %r, %gamma, %beta {epsilon = 1.0e-05 : f64}
        : (tensor<?x?x512xf32>, tensor<?x?x512xf32>, tensor<512xf32>, tensor<512xf32>)
        -> tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$input,
                       Optional<Attn_FloatTensor>:$residual,
                       Attn_FloatTensor:$gamma, Attn_FloatTensor:$beta,
                       F64Attr:$epsilon);
  let results = (outs Attn_FloatTensor:$output);
  let assemblyFormat = [{
    $input (`residual` $residual^)? `,` $gamma `,` $beta attr-dict `:`
    functional-type(operands, results)
  }];
  let verifier = [{ return ::verify(*this); }];
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// SoftmaxOp
//===----------------------------------------------------------------------===//

def Attn_SoftmaxOp : Attn_Op<"softmax", [NoSideEffect,
    SameOperandsAndResultElementType,
    DeclareOpInterfaceMethods<ShapeInferenceOpInterface>]> {
  let summary = "softmax over the innermost dimension";
  let description = [{
    Numerically stable softmax (the row maximum is subtracted first), e.g.
    turning logits into probabilities.

    ```mlir
    %p = attn.softmax %logits : tensor<?x?x1000xf32> -> tensor<?x?x1000xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$input);
  let results = (outs Attn_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let verifier = [{ return ::verify(*this); }];
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

def Attn_EmbeddingOp : Attn_Op<"embedding", [NoSideEffect,
    DeclareOpInterfaceMethods<ShapeInferenceOpInterface>]> {
  let summary = "token embedding times a scale, plus positional encoding";
  let description = [{
    `y[b, t, :] = table[tokens[b, t], :] * scale + pe(t)` where `pe` is the
    sinusoidal encoding of "Attention Is All You Need", a row of the learned
    `position_table` (`positions = learned`, one row per position up to the
    model's max_len), or zero. Token ids outside the table are a runtime
    error.

    ```mlir
    %x = attn.embedding %tokens, %table {positions = #attn.positions<sinusoidal>, scale = 22.627 : f64}
        : (tensor<?x?xi32>, tensor<1000x512xf32>) -> tensor<?x?x512xf32>
    %y = attn.embedding %tokens, %table, %pos {positions = #attn.positions<learned>, scale = 1.0 : f64}
        : (tensor<?x?xi32>, tensor<1000x512xf32>, tensor<1024x512xf32>) -> tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins Attn_IndexTensor:$tokens, Attn_FloatTensor:$table,
                       Optional<Attn_FloatTensor>:$position_table,
                       F64Attr:$scale, Attn_PositionsAttr:$positions);
  let results = (outs Attn_FloatTensor:$output);
  let assemblyFormat = [{
    $tokens `,` $table (`,` $position_table^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let verifier = [{ return ::verify(*this); }];
}

//===----------------------------------------------------------------------===//
// SliceOp
//===----------------------------------------------------------------------===//

def Attn_SliceOp : Attn_Op<"slice", [NoSideEffect,
    DeclareOpInterfaceMethods<ShapeInferenceOpInterface>]> {
  let summary = "a contiguous range of one dimension";
  let description = [{
    Selects `[offset, offset + size)` along `axis`. On activations the
    runtime makes it a view, not a copy; on weights it is evaluated once at
    prepare time.

    ```mlir
    %q = attn.slice %qkv {axis = 2 : i64, offset = 0 : i64, size = 512 : i64}
        : tensor<?x?x1536xf32> -> tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$input, I64Attr:$axis, I64Attr:$offset,
                       I64Attr:$size);
  let results = (outs Attn_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let verifier = [{ return ::verify(*this); }];
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

def Attn_ConcatOp : Attn_Op<"concat", [NoSideEffect,
    DeclareOpInterfaceMethods<ShapeInferenceOpInterface>]> {
  let summary = "joins tensors along one dimension";
  let description = [{
    Introduced by projection fusion to stack weights and biases; the runtime
    evaluates it once when it prepares a model. Canonicalization turns a
    concatenation of adjacent slices of one tensor back into that tensor.

    ```mlir
    %w = attn.concat %wq, %wk, %wv {axis = 0 : i64}
        : (tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x512xf32>)
        -> tensor<1536x512xf32>
    ```
  }];
  let arguments = (ins Variadic<Attn_FloatTensor>:$inputs, I64Attr:$axis);
  let results = (outs Attn_FloatTensor:$output);
  let assemblyFormat = [{
    $inputs attr-dict `:` functional-type($inputs, results)
  }];
  let verifier = [{ return ::verify(*this); }];
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

def Attn_AttentionOp : Attn_Op<"attention", [NoSideEffect,
    AttrSizedOperandSegments, IsolatedFromAbove,
    DeclareOpInterfaceMethods<ShapeInferenceOpInterface>]> {
  let summary = "multi-head attention core: every variant as data";
  let description = [{
    `out = softmax(mask(mods(score(q, k)))) v` for each batch and query head,
    over already-projected tensors laid out `[batch, length, heads * dim]`.

    - Heads: `num_heads` query heads share `num_kv_heads` key/value heads
      (grouped-query; `num_kv_heads = 1` is multi-query). Query head `h`
      reads key/value head `h / (num_heads / num_kv_heads)`.
    - Scoring: `dot` is `scale * q.k` (`scale` defaults to 1/sqrt(head_dim));
      `additive` is Bahdanau's `w . tanh(q + k)` with the `score_weight`
      operand `w: [num_heads, head_dim]` (q and k already projected).
    - Score modifiers: `score_fn`, one expression over the score `s` and
      the indices `b h q k` in the kernels' canonical text (`(add s (tensor
      0 h (t5_bucket (sub k q) 32 128 1)))`), reading the `score_tensors`
      operands (static shapes), named by `score_tensor_names`, and, where
      it uses `(bias_at)`, the `bias` operand (`[batch or 1, heads or 1,
      q_len, kv_len]`). The language's named modifiers arrive here as parts
      of it: softcap(c) is `(mul (float c) (tanh (div s (float c))))`, alibi
      `(sub s (mul (alibi_slope h H) (abs (sub q k))))`, bias `(add s
      (bias_at))` (docs/dsl.md, Score functions).
    - Masks, intersected: key padding (k < kv_lengths[b], with the
      `kv_lengths` operand), packed sequences (segment_ids[b, q] ==
      segment_ids[b, k], with the `segment_ids` operand `[batch, kv_len]`),
      and the optional `mask` region, a predicate over (batch, head, q, k)
      indices. The language's mask terms (`causal`, `window(n)`, the user's
      predicates) all arrive here as that one region: causal is
      `arith.cmpi sle, %k, %q`.
    - `empty_rows`: a query row whose keys are all masked outputs zeros
      (`zero`, the default) or the mean of all values (`uniform`); never NaN.
    - `probs`: also return the probabilities, `[batch, heads, q_len, kv_len]`
      (`per_head`) or averaged over heads `[batch, q_len, kv_len]`.

    ```mlir
    %o = attn.attention %q, %k, %v lengths(%len) {
        head_dim = 64 : i64, num_heads = 8 : i64, num_kv_heads = 2 : i64,
        scale = 1.250000e-01 : f64, scoring = #attn.scoring<dot>}
        : (tensor<?x?x512xf32>, tensor<?x?x128xf32>, tensor<?x?x128xf32>, tensor<?xi32>)
        -> tensor<?x?x512xf32>
    ```

    A predicate mask (prefix-LM: the first 16 keys are visible to all):

    ```mlir
    %o = attn.attention %q, %k, %v {...} ({
    ^bb0(%b: index, %h: index, %qi: index, %ki: index):
      %c16 = arith.constant 16 : index
      %causal = arith.cmpi sle, %ki, %qi : index
      %prefix = arith.cmpi slt, %ki, %c16 : index
      %keep = arith.ori %causal, %prefix : i1
      attn.yield %keep : i1
    }) : ...
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$query, Attn_FloatTensor:$key,
                       Attn_FloatTensor:$value,
                       Optional<Attn_IndexTensor>:$kv_lengths,
                       Optional<Attn_IndexTensor>:$segment_ids,
                       Optional<Attn_FloatTensor>:$bias,
                       Optional<Attn_FloatTensor>:$score_weight,
                       Variadic<Attn_FloatTensor>:$score_tensors,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim,
                       DefaultValuedAttr<Attn_ScoringAttr,
                         "::attnc::attn::Scoring::Dot">:$scoring,
                       OptionalAttr<F64Attr>:$scale,
                       DefaultValuedAttr<Attn_EmptyRowsAttr,
                         "::attnc::attn::EmptyRows::Zero">:$empty_rows,
                       DefaultValuedAttr<Attn_ProbsAttr,
                         "::attnc::attn::Probs::None">:$probs,
                       OptionalAttr<StrAttr>:$score_fn,
                       OptionalAttr<StrArrayAttr>:$score_tensor_names);
  let results = (outs Attn_FloatTensor:$output,
                      Optional<Attn_FloatTensor>:$probabilities);
  let regions = (region AnyRegion:$mask);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`lengths` `(` $kv_lengths^ `)`)?
    (`segments` `(` $segment_ids^ `)`)?
    (`bias` `(` $bias^ `)`)? (`score_weight` `(` $score_weight^ `)`)?
    (`score_tensors` `(` $score_tensors^ `)`)?
    attr-dict-with-keyword ($mask^)? `:` functional-type(operands, results)
  }];
  let verifier = [{ return ::verify(*this); }];
  let extraClassDeclaration = [{
    /// The scale applied to dot-product scores.
    double getEffectiveScale();
    /// Whether the mask region holds a predicate.
    bool hasMaskPredicate() { return !getMask().empty(); }
  }];
}

//===----------------------------------------------------------------------===//
// YieldOp
//===----------------------------------------------------------------------===//

def Attn_YieldOp : Attn_Op<"yield", [NoSideEffect, Terminator,
    HasParent<"AttentionOp">]> {
  let summary = "ends a mask predicate with its i1 result";
  let description = [{
    ```mlir
    attn.yield %keep : i1
    ```
  }];
  let arguments = (ins I1:$keep);
  let assemblyFormat = "$keep attr-dict `:` type($keep)";
}

#endif // ATTN_OPS
