//===- AttnBase.td - The attn dialect and its attributes ---*- tablegen -*-===//
//
// The dialect definition and the enum attributes that describe an attention
// variant as data: scoring, score modifiers, empty-row policy, probabilities
// output, activations, linear weight storage and positional encodings.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_BASE
#define ATTN_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::attnc::attn";
  let summary = "Attention variants and transformer layers";
  let description = [{
    The `attn` dialect describes attention and the transformer layers around
    it at tensor level, with value semantics. One generic `attn.attention` op
    carries every variant as attributes (scoring, masks, score modifiers,
    head grouping) plus an optional mask-predicate region; the other ops are
    the layers a transformer needs: linear, layer norm, activation, residual
    add, embedding, softmax, and the slicing and concatenation that the
    projection-fusion pass introduces. Weights are named `attn.param`s bound
    by the runtime. Batch and sequence lengths are dynamic (`?`); model
    widths are static.
  }];
  let dependentDialects = ["::mlir::arith::ArithmeticDialect"];
  let emitAccessorPrefix = kEmitAccessorPrefix_Prefixed;
  let useDefaultAttributePrinterParser = 1;
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

class Attn_Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::attnc::attn";
  let genSpecializedAttr = 0;
}

class Attn_EnumAttr<I32EnumAttr enumInfo, string mnemonic>
    : EnumAttr<Attn_Dialect, enumInfo, mnemonic> {
  let assemblyFormat = "`<` $value `>`";
}

def Attn_Activation : Attn_Enum<"Activation", "activation function", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"ReLU", 1, "relu">,
    I32EnumAttrCase<"GELU", 2, "gelu">]>;
def Attn_ActivationAttr : Attn_EnumAttr<Attn_Activation, "activation">;

def Attn_WeightType : Attn_Enum<"WeightType",
    "how a linear layer stores its weight", [
    I32EnumAttrCase<"F32", 0, "f32">,
    I32EnumAttrCase<"BF16", 1, "bf16">,
    I32EnumAttrCase<"F16", 2, "f16">,
    I32EnumAttrCase<"I8", 3, "i8">]>;
def Attn_WeightTypeAttr : Attn_EnumAttr<Attn_WeightType, "weights">;

def Attn_Scoring : Attn_Enum<"Scoring", "attention scoring function", [
    I32EnumAttrCase<"Dot", 0, "dot">,
    I32EnumAttrCase<"Additive", 1, "additive">]>;
def Attn_ScoringAttr : Attn_EnumAttr<Attn_Scoring, "scoring">;

def Attn_EmptyRows : Attn_Enum<"EmptyRows",
    "output of a query row whose keys are all masked", [
    I32EnumAttrCase<"Zero", 0, "zero">,
    I32EnumAttrCase<"Uniform", 1, "uniform">]>;
def Attn_EmptyRowsAttr : Attn_EnumAttr<Attn_EmptyRows, "empty_rows">;

def Attn_Probs : Attn_Enum<"Probs", "attention probabilities output", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"PerHead", 1, "per_head">,
    I32EnumAttrCase<"HeadMean", 2, "head_mean">]>;
def Attn_ProbsAttr : Attn_EnumAttr<Attn_Probs, "probs">;

def Attn_Positions : Attn_Enum<"Positions", "positional encoding", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Sinusoidal", 1, "sinusoidal">,
    I32EnumAttrCase<"Learned", 2, "learned">]>;
def Attn_PositionsAttr : Attn_EnumAttr<Attn_Positions, "positions">;

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

// Activations are f32 or bf16 (`dtype bf16`); weights (attn.param) are f32.
def Attn_FloatTensor : TensorOf<[F32, BF16]>;
def Attn_IndexTensor : TensorOf<[I32]>;

#endif // ATTN_BASE
