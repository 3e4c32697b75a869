//===- Sema.cpp - Checks a .attn AST and builds its specs -----------------===//
//
// Order of work: collect every top-level name (rejecting redefinitions),
// fold the constants in file order, read the target and dtype lines, then
// analyze attention blocks, layers and models, each kind after the kinds it
// may reference, so a block may be used before the line that defines it. A
// block that fails is remembered, and references to it report nothing more.
// Sizes are checked against limits:: (Spec.h), alone and where they combine
// into one tensor, so that no kernel meets an extent Halide cannot index.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/Sema.h"
#include "Prelude.h"
#include "SemaImpl.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/Path.h"

#include "Halide.h"

#include <cctype>
#include <cmath>

using namespace attnc;
using namespace attnc::sema;

llvm::StringRef attnc::halideTargetFor(llvm::StringRef name) {
  return llvm::StringSwitch<llvm::StringRef>(name)
      .Case("host", "host")
      .Case("x86_64_avx2", "x86-64-linux-avx-avx2-f16c-fma-sse41")
      .Case("x86_64_avx512",
            "x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41")
      .Case("arm64", "arm-64-linux")
      .Case("cuda", "host-cuda-cuda_capability_80")
      .Case("opencl", "host-opencl")
      .Default("");
}

llvm::StringRef attnc::knownTargetNames() {
  return "host, x86_64_avx2, x86_64_avx512, arm64, cuda or opencl";
}

namespace {

const llvm::StringRef kAttentionFields[] = {
    "source",  "heads",   "kv_heads",  "head_dim",   "d_model",
    "scoring", "mask",    "score_mod", "empty_rows", "probs",
    "bias",    "tensors", "kdim",      "vdim"};
const llvm::StringRef kEncoderLayerFields[] = {"self_attention", "feed_forward",
                                               "norm", "norm_eps", "weights"};
const llvm::StringRef kDecoderLayerFields[] = {
    "self_attention", "cross_attention", "feed_forward",
    "norm",           "norm_eps",        "weights"};
const llvm::StringRef kModelFields[] = {
    "d_model",    "src_vocab",   "tgt_vocab", "max_len",
    "positions",  "embed_scale", "encoder",   "decoder",
    "final_norm", "output_bias", "output",    "weights"};

/// `weights = f32 | bf16 | f16 | int8`, in kernels::WeightType's order.
const llvm::StringRef kWeightTypeNames[] = {"f32", "bf16", "f16", "int8"};

class Sema {
public:
  explicit Sema(Diagnostics &diags) : ctx(diags), diags(diags) {}

  std::unique_ptr<CompileUnit> run(const Module &module);

private:
  void collectSymbols(const Module &module);
  void foldConstants(const Module &module);
  void readTargetsAndDtype(const Module &module);
  /// The first GPU target of the unit's list, or null.
  const TargetSpec *firstGpuTarget() const;
  void checkWeightsTargets(FieldSet &fields, const Field &field,
                           kernels::WeightType type);
  void analyzeAttention(const Decl &decl);
  void analyzeLayer(const Decl &decl);
  void analyzeModel(const Decl &decl);

  // Attention field helpers.
  void readScoring(FieldSet &fields, const Field &field, AttentionSpec &spec);
  void readMask(FieldSet &fields, const Field &field, MaskSpec &mask);
  /// The arguments of a use of a named term, their number and form checked
  /// against its row and each folded, with its location; empty for a name.
  std::optional<std::vector<std::pair<Value, llvm::SMLoc>>>
  readTermArguments(const PreludeTerm &term, const Expr &item);
  /// The arguments of a use of a named score modifier, checked against it.
  std::optional<std::vector<double>> readScoreArguments(const PreludeTerm &term,
                                                        const Expr &item);
  /// The arguments of a use of a named mask term, checked against it.
  std::optional<std::vector<int64_t>> readMaskArguments(const PreludeTerm &term,
                                                        const Expr &item);
  void readScoreMods(FieldSet &fields, const Field &field, AttentionSpec &spec);
  // Layer and model helpers.
  const AttentionSpec *readAttentionRef(FieldSet &fields, const Field &field);
  void readFeedForward(FieldSet &fields, const Field &field,
                       FeedForwardSpec &spec);
  std::optional<StackSpec> readStack(FieldSet &fields, const Field &field,
                                     BlockKind layerKind);
  void checkAttentionInModel(FieldSet &fields, const AttentionSpec &attention,
                             const ModelSpec &model);
  void checkModelTensors(FieldSet &fields, const ModelSpec &model);
  /// Reports, at `loc`, a weight tensor of `elements` f32 values too large
  /// for one Halide buffer; `what` names it. Returns false after an error.
  bool checkTensorSize(FieldSet &fields, llvm::SMLoc loc,
                       const std::string &what, int64_t elements);
  /// Checks the Q/K/V projections of `attention` at width `dModel`.
  bool checkProjections(FieldSet &fields, llvm::SMLoc loc,
                        const AttentionSpec &attention, int64_t dModel);

  SemaContext ctx;
  Diagnostics &diags;
  std::unique_ptr<CompileUnit> unit;
  std::set<const LayerSpec *> usedLayers;
};

} // namespace

std::unique_ptr<CompileUnit> Sema::run(const Module &module) {
  unit = std::make_unique<CompileUnit>();
  std::string stem = llvm::sys::path::stem(module.fileName).str();
  for (char &c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  unit->name = stem.empty() || std::isdigit(static_cast<unsigned char>(stem[0]))
                   ? "m_" + stem
                   : stem;

  collectSymbols(module);
  foldConstants(module);
  readTargetsAndDtype(module);
  for (BlockKind kind : {BlockKind::Attention, BlockKind::EncoderLayer,
                         BlockKind::DecoderLayer, BlockKind::Model}) {
    for (const Decl &decl : module.decls) {
      if (decl.kind != Decl::Kind::Block || decl.blockKind != kind)
        continue;
      if (kind == BlockKind::Attention)
        analyzeAttention(decl);
      else if (kind == BlockKind::Model)
        analyzeModel(decl);
      else
        analyzeLayer(decl);
    }
  }
  for (const auto &layer : unit->layers)
    if (!diags.errorCount() && !usedLayers.count(layer.get()))
      diags.warning(layer->loc,
                    (layer->isDecoder ? "decoder_layer '" : "encoder_layer '") +
                        layer->name + "' is not used by any model");
  if (diags.errorCount())
    return nullptr;
  for (const auto &entry : ctx.constants)
    if (entry.second.kind == Value::Kind::Int)
      unit->intConstants[entry.first().str()] = entry.second.i;
  return std::move(unit);
}

void Sema::collectSymbols(const Module &module) {
  for (const Decl &decl : module.decls) {
    if (decl.kind != Decl::Kind::Const && decl.kind != Decl::Kind::Block)
      continue;
    Symbol symbol{decl.kind == Decl::Kind::Const ? Symbol::Kind::Const
                                                 : Symbol::Kind::Block,
                  &decl};
    auto inserted = ctx.symbols.try_emplace(decl.name, symbol);
    if (!inserted.second) {
      diags.error(decl.nameLoc, "redefinition of '" + decl.name + "'");
      diags.note(inserted.first->second.decl->nameLoc,
                 "previous definition is here");
    }
  }
}

void Sema::foldConstants(const Module &module) {
  for (const Decl &decl : module.decls) {
    if (decl.kind != Decl::Kind::Const)
      continue;
    // A redefinition was reported already; fold only the first.
    if (ctx.symbols.lookup(decl.name).decl != &decl)
      continue;
    if (std::optional<Value> value = ctx.evaluate(*decl.value))
      ctx.constants[decl.name] = *value;
    else
      ctx.poisoned.insert(decl.name);
  }
}

void Sema::readTargetsAndDtype(const Module &module) {
  const Decl *dtypeDecl = nullptr;
  bool sawTarget = false;
  for (const Decl &decl : module.decls) {
    if (decl.kind == Decl::Kind::Target) {
      sawTarget = true;
      for (const TargetItem &item : decl.targets) {
        TargetSpec target{item.text, item.text, item.loc, item.isRawString};
        if (!item.isRawString) {
          target.halideTarget = halideTargetFor(item.text).str();
          if (target.halideTarget.empty()) {
            static const llvm::StringRef names[] = {
                "host",  "x86_64_avx2", "x86_64_avx512",
                "arm64", "cuda",        "opencl"};
            diags.error(item.loc, "unknown target '" + item.text +
                                      "'; expected " + knownTargetNames() +
                                      ", or a quoted Halide target string" +
                                      suggest(item.text, names));
            continue;
          }
        } else if (item.text.empty()) {
          diags.error(item.loc, "empty target string");
          continue;
        } else if (!Halide::Target::validate_target_string(item.text)) {
          diags.error(item.loc, "'" + item.text +
                                    "' is not a valid Halide target string");
          continue;
        }
        bool repeated = false;
        for (const TargetSpec &seen : unit->targets)
          if (seen.name == target.name) {
            diags.error(item.loc, "target '" + item.text + "' is listed twice");
            diags.note(seen.loc, "first listed here");
            repeated = true;
          }
        if (!repeated)
          unit->targets.push_back(std::move(target));
      }
    } else if (decl.kind == Decl::Kind::Dtype) {
      if (dtypeDecl) {
        diags.error(decl.loc, "dtype is declared twice");
        diags.note(dtypeDecl->loc, "first declared here");
        continue;
      }
      dtypeDecl = &decl;
      if (decl.name == "f32") {
        unit->dtype = ElementType::F32;
      } else if (decl.name == "bf16") {
        unit->dtype = ElementType::BF16;
      } else if (decl.name == "f16") {
        diags.error(decl.nameLoc,
                    "dtype f16 is not supported: activations are f32 or "
                    "bf16; to store linear weights in f16, write 'weights = "
                    "f16;' in the model");
      } else {
        static const llvm::StringRef dtypes[] = {"f32", "bf16"};
        diags.error(decl.nameLoc, "unknown dtype '" + decl.name +
                                      "'; expected f32 or bf16" +
                                      suggest(decl.name, dtypes));
      }
    }
  }
  if (!sawTarget)
    unit->targets.push_back({"host", "host", llvm::SMLoc(), false});
  // bf16 activations run on CPU targets only (the GPU schedules have not
  // been tried with them); `attnc compile` checks the targets of --target.
  const TargetSpec *gpu = firstGpuTarget();
  if (unit->dtype != ElementType::BF16 || !gpu)
    return;
  diags.error(dtypeDecl->nameLoc,
              "dtype bf16 runs on CPU targets only, and target '" + gpu->name +
                  "' is a GPU; use dtype f32 for GPU targets");
  if (gpu->loc.isValid())
    diags.note(gpu->loc, "target '" + gpu->name + "' is listed here");
}

const TargetSpec *Sema::firstGpuTarget() const {
  for (const TargetSpec &target : unit->targets) {
    llvm::StringRef halide = target.halideTarget;
    if (halide.contains("cuda") || halide.contains("opencl") ||
        halide.contains("metal"))
      return &target;
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Attention blocks
//===----------------------------------------------------------------------===//

void Sema::analyzeAttention(const Decl &decl) {
  FieldSet fields(ctx, decl, kAttentionFields);
  auto spec = std::make_unique<AttentionSpec>();
  spec->name = decl.name;
  spec->loc = decl.nameLoc;

  if (const Field *f = fields.require("heads"))
    spec->heads = fields.positiveInt(*f, limits::kMaxHeads).value_or(0);
  spec->kvHeads = spec->heads;
  if (const Field *f = fields.get("kv_heads")) {
    spec->kvHeads = fields.positiveInt(*f, limits::kMaxHeads).value_or(0);
    if (spec->heads && spec->kvHeads && spec->heads % spec->kvHeads) {
      diags.error(f->value->getLoc(), "kv_heads (" +
                                          std::to_string(spec->kvHeads) +
                                          ") must divide heads (" +
                                          std::to_string(spec->heads) + ")");
      fields.fail();
    }
  }
  if (const Field *f = fields.get("head_dim")) {
    spec->headDim = fields.positiveInt(*f, limits::kMaxWidth).value_or(0);
    if (spec->headDim && spec->heads * spec->headDim > limits::kMaxWidth) {
      diags.error(f->value->getLoc(),
                  "heads * head_dim (" +
                      std::to_string(spec->heads * spec->headDim) +
                      ") must be at most " + std::to_string(limits::kMaxWidth) +
                      "; see Limits in docs/dsl.md");
      fields.fail();
    }
  }
  if (const Field *f = fields.get("d_model")) {
    spec->dModel = fields.positiveInt(*f, limits::kMaxWidth).value_or(0);
    if (spec->dModel && spec->heads && !spec->headDim &&
        spec->dModel % spec->heads) {
      diags.error(f->value->getLoc(),
                  "d_model (" + std::to_string(spec->dModel) +
                      ") is not divisible by heads (" +
                      std::to_string(spec->heads) +
                      "); set head_dim to choose the head size");
      fields.fail();
    }
  }
  if (const Field *f = fields.get("source")) {
    if (auto i = fields.keyword(*f, {"self", "cross"}))
      spec->source = *i == 0 ? AttentionSource::Self : AttentionSource::Cross;
  }
  for (auto [name, width] : {std::pair{"kdim", &spec->keyInputDim},
                             std::pair{"vdim", &spec->valueInputDim}}) {
    const Field *f = fields.get(name);
    if (!f)
      continue;
    *width = fields.positiveInt(*f, limits::kMaxWidth).value_or(0);
    if (!spec->inputDimLoc.isValid())
      spec->inputDimLoc = f->loc;
    if (spec->source != AttentionSource::Cross || !fields.get("d_model")) {
      diags.error(f->loc, std::string(name) +
                              " is the width of a cross-attention's key or "
                              "value input; it needs source = cross and "
                              "d_model (the projections that read it)");
      fields.fail();
    }
  }
  if (const Field *f = fields.get("scoring"))
    readScoring(fields, *f, *spec);
  if (const Field *f = fields.get("mask")) {
    readMask(fields, *f, spec->mask);
    if (spec->mask.segments && spec->source == AttentionSource::Cross) {
      diags.error(spec->mask.segmentsLoc,
                  "mask 'segments' compares the segment of a query with "
                  "that of a key in one packed sequence; it has no meaning "
                  "with source = cross");
      fields.fail();
    }
  }
  bool tensorsOk = true;
  if (const Field *f = fields.get("tensors"))
    if (!(tensorsOk = ctx.readScoreTensors(*f->value, spec->scoreTensors)))
      fields.fail();
  // Without its tensors a score function would only repeat their errors.
  if (const Field *f = fields.get("score_mod"); f && tensorsOk)
    readScoreMods(fields, *f, *spec);
  if (const Field *f = fields.get("tensors"))
    if (fields.ok() && !spec->hasScoreFunction) {
      diags.error(f->value->getLoc(), "tensors are read only by a score "
                                      "function: score_mod = score(s, b, h, "
                                      "q, k) { ... }");
      fields.fail();
    }
  if (const Field *f = fields.get("empty_rows")) {
    if (auto i = fields.keyword(*f, {"zero", "uniform"}))
      spec->emptyRows =
          *i == 0 ? EmptyRowPolicy::Zero : EmptyRowPolicy::Uniform;
  }
  if (const Field *f = fields.get("probs")) {
    if (auto i = fields.keyword(*f, {"none", "per_head", "head_mean"}))
      spec->probs = static_cast<ProbsOutput>(*i);
  }
  if (const Field *f = fields.get("bias"))
    spec->projectionBias = fields.boolean(*f).value_or(true);
  if (fields.ok() && spec->dModel)
    checkProjections(fields, fields.get("d_model")->value->getLoc(), *spec,
                     spec->dModel);

  if (!fields.ok()) {
    ctx.poisoned.insert(decl.name);
    return;
  }
  ctx.attentions[decl.name] = spec.get();
  unit->attentions.push_back(std::move(spec));
}

void Sema::readScoring(FieldSet &fields, const Field &field,
                       AttentionSpec &spec) {
  static const llvm::StringRef kinds[] = {"dot", "additive"};
  const Expr &value = *field.value;
  auto *call = llvm::dyn_cast<CallExpr>(&value);
  if (!call) {
    if (auto i = fields.keyword(value, "field 'scoring'", kinds))
      spec.scoring = *i == 0 ? Scoring::Dot : Scoring::Additive;
    return;
  }
  if (call->callee != "dot" && call->callee != "additive") {
    diags.error(call->getLoc(), "unknown scoring '" + call->callee +
                                    "'; expected dot or additive" +
                                    suggest(call->callee, kinds));
    fields.fail();
    return;
  }
  bool isDot = call->callee == "dot";
  spec.scoring = isDot ? Scoring::Dot : Scoring::Additive;
  llvm::StringRef param = isDot ? "scale" : "dim";
  if (call->body) {
    diags.error(call->body->getLoc(), "'" + call->callee + "' takes no body");
    fields.fail();
  }
  for (const CallArg &arg : call->args) {
    if (!isDot && arg.name == "scale") {
      diags.error(arg.loc, "additive scoring takes no scale; its scores are "
                           "w . tanh(q + k), and its only argument is dim");
      fields.fail();
      return;
    }
    if (arg.name != param) {
      diags.error(arg.loc, "'" + call->callee + "' takes one named argument, " +
                               param + " = ...");
      fields.fail();
      return;
    }
    std::optional<Value> v = ctx.evaluate(*arg.value);
    if (!v) {
      fields.fail();
      return;
    }
    if (isDot) {
      if (v->kind == Value::Kind::Bool || !(v->asDouble() > 0)) {
        diags.error(arg.value->getLoc(),
                    "scale must be a positive number, got " + v->describe());
        fields.fail();
        return;
      }
      spec.scale = v->asDouble();
    } else {
      if (v->kind != Value::Kind::Int || v->i <= 0) {
        diags.error(arg.value->getLoc(),
                    "dim must be a positive integer, got " + v->describe());
        fields.fail();
        return;
      }
      if (v->i > limits::kMaxWidth ||
          (spec.heads && spec.heads * v->i > limits::kMaxWidth)) {
        diags.error(arg.value->getLoc(), "dim * heads must be at most " +
                                             std::to_string(limits::kMaxWidth) +
                                             ", got " + v->describe() +
                                             "; see Limits in docs/dsl.md");
        fields.fail();
        return;
      }
      spec.additiveDim = v->i;
    }
  }
}

/// Flattens `a & b & c` into its terms.
static void flattenIntersection(const Expr &expr,
                                std::vector<const Expr *> &terms) {
  if (auto *binary = llvm::dyn_cast<BinaryExpr>(&expr))
    if (binary->op == BinaryExpr::Op::Intersect) {
      flattenIntersection(*binary->lhs, terms);
      flattenIntersection(*binary->rhs, terms);
      return;
    }
  terms.push_back(&expr);
}

void Sema::readMask(FieldSet &fields, const Field &field, MaskSpec &mask) {
  // The terms with a syntax of their own; the named ones are the prelude's.
  static const llvm::StringRef syntax[] = {"none", "key_padding", "segments",
                                           "predicate"};
  std::vector<llvm::StringRef> known(std::begin(syntax), std::end(syntax));
  std::string expected = "none, key_padding, segments, ";
  for (const PreludeTerm &term : maskTerms()) {
    known.push_back(term.name);
    expected += term.name;
    for (size_t i = 0; i < term.params.size(); ++i)
      expected += std::string(i ? ", " : "(") + term.params[i] +
                  (i + 1 == term.params.size() ? ")" : "");
    expected += ", ";
  }
  expected += "or predicate(b, h, q, k) { ... }";
  auto join = [&](std::shared_ptr<const kernels::Predicate> term) {
    if (!mask.predicate) {
      mask.predicate = std::move(term);
      return;
    }
    auto both = std::make_shared<kernels::Predicate>();
    both->op = kernels::Predicate::Op::And;
    both->operands = {mask.predicate, std::move(term)};
    mask.predicate = std::move(both);
  };

  std::vector<const Expr *> items;
  flattenIntersection(*field.value, items);
  std::set<std::string> seen;
  for (const Expr *item : items) {
    std::string kind;
    if (auto *name = llvm::dyn_cast<NameExpr>(item))
      kind = name->name;
    else if (auto *call = llvm::dyn_cast<CallExpr>(item))
      kind = call->callee;
    const PreludeTerm *term = findTerm(maskTerms(), kind);
    bool takesArguments =
        kind == "predicate" || (term && !term->params.empty());
    if (kind.empty() || !llvm::is_contained(known, kind) ||
        llvm::isa<CallExpr>(item) != takesArguments) {
      diags.error(item->getLoc(),
                  "unknown mask" + (kind.empty() ? "" : " '" + kind + "'") +
                      "; expected " + expected +
                      (kind.empty() ? "" : suggest(kind, known)));
      fields.fail();
      continue;
    }
    // Predicates may be many, each a term of its own; a name once is enough.
    if (kind != "predicate" && !seen.insert(kind).second) {
      diags.error(item->getLoc(), "mask '" + kind + "' appears twice");
      fields.fail();
      continue;
    }
    if (kind == "none") {
      if (items.size() > 1) {
        diags.error(item->getLoc(), "mask 'none' cannot be combined with "
                                    "other masks");
        fields.fail();
      }
    } else if (kind == "key_padding") {
      mask.keyPadding = true;
    } else if (kind == "segments") {
      mask.segments = true;
      mask.segmentsLoc = item->getLoc();
    } else if (kind == "predicate") {
      auto *call = llvm::cast<CallExpr>(item);
      SemaContext::PredicateCheck check = ctx.checkPredicate(*call);
      if (check == SemaContext::PredicateCheck::Invalid) {
        fields.fail();
        continue;
      }
      // A predicate that always holds keeps every key: no mask term.
      if (check == SemaContext::PredicateCheck::AlwaysTrue)
        continue;
      std::shared_ptr<const kernels::Predicate> tree =
          ctx.maskExpression(*call);
      if (!tree) {
        fields.fail();
        continue;
      }
      join(std::move(tree));
    } else {
      std::optional<std::vector<int64_t>> arguments =
          readMaskArguments(*term, *item);
      if (!arguments) {
        fields.fail();
        continue;
      }
      std::string error;
      std::shared_ptr<const kernels::Predicate> tree =
          expandMaskTerm(*term, *arguments, error);
      if (!tree) {
        diags.error(item->getLoc(), error);
        fields.fail();
        continue;
      }
      join(std::move(tree));
      if (term->sameSequence && mask.sameSequenceTerm.empty())
        mask.sameSequenceTerm = term->name;
    }
  }
}

std::optional<std::vector<std::pair<Value, llvm::SMLoc>>>
Sema::readTermArguments(const PreludeTerm &term, const Expr &item) {
  std::vector<std::pair<Value, llvm::SMLoc>> values;
  auto *call = llvm::dyn_cast<CallExpr>(&item);
  if (!call)
    return values;
  bool plain = llvm::all_of(
      call->args, [](const CallArg &arg) { return arg.name.empty(); });
  if (call->args.size() != term.params.size() || !plain || call->body) {
    diags.error(call->getLoc(),
                std::string(term.name) + " takes " +
                    (term.params.size() == 1
                         ? "one " + std::string(term.argumentNoun)
                         : std::to_string(term.params.size()) + " " +
                               term.argumentNoun + "s") +
                    ": " + term.example);
    return std::nullopt;
  }
  for (const CallArg &arg : call->args) {
    std::optional<Value> v = ctx.evaluate(*arg.value);
    if (!v)
      return std::nullopt;
    values.emplace_back(*v, arg.value->getLoc());
  }
  return values;
}

std::optional<std::vector<int64_t>>
Sema::readMaskArguments(const PreludeTerm &term, const Expr &item) {
  auto values = readTermArguments(term, item);
  if (!values)
    return std::nullopt;
  std::vector<int64_t> arguments;
  std::string what = std::string(term.name) + " " + term.argumentNoun;
  for (const auto &[v, loc] : *values) {
    if (v.kind != Value::Kind::Int || v.i <= 0) {
      diags.error(loc,
                  what + " must be a positive integer, got " + v.describe());
      return std::nullopt;
    }
    if (v.i > limits::kMaxMaskParameter) {
      diags.error(loc, what + " must be below 2^30 (1073741824), got " +
                           v.describe() + "; see Limits in docs/dsl.md");
      return std::nullopt;
    }
    arguments.push_back(v.i);
  }
  return arguments;
}

void Sema::readScoreMods(FieldSet &fields, const Field &field,
                         AttentionSpec &spec) {
  std::vector<llvm::StringRef> known = {"none", "score"};
  std::string expected;
  for (const PreludeTerm &term : scoreTerms()) {
    known.push_back(term.name);
    expected +=
        std::string(term.params.empty() ? term.name : term.example) + ", ";
  }
  expected += "none or score(s, b, h, q, k) { ... }";
  std::vector<const Expr *> items;
  if (auto *list = llvm::dyn_cast<ListExpr>(field.value.get())) {
    for (const ExprPtr &item : list->items)
      items.push_back(item.get());
  } else {
    items.push_back(field.value.get());
  }
  // The score so far, s itself at first; each modifier is applied to what
  // the ones before it made.
  std::shared_ptr<const kernels::Predicate> score;
  auto apply = [&](std::shared_ptr<const kernels::Predicate> term) {
    score = score ? kernels::substituteScore(*term, score) : std::move(term);
  };
  std::set<std::string> seen;
  for (const Expr *item : items) {
    std::string kind;
    if (auto *name = llvm::dyn_cast<NameExpr>(item))
      kind = name->name;
    else if (auto *call = llvm::dyn_cast<CallExpr>(item))
      kind = call->callee;
    const PreludeTerm *term = findTerm(scoreTerms(), kind);
    bool takesArguments = kind == "score" || (term && !term->params.empty());
    if (kind.empty() || !llvm::is_contained(known, kind) ||
        llvm::isa<CallExpr>(item) != takesArguments) {
      if (term && !term->params.empty())
        diags.error(item->getLoc(), kind + " needs its " + term->argumentNoun +
                                        ": " + term->example);
      else
        diags.error(item->getLoc(),
                    "unknown score modifier" +
                        (kind.empty() ? "" : " '" + kind + "'") +
                        "; expected " + expected +
                        (kind.empty() ? "" : suggest(kind, known)));
      fields.fail();
      continue;
    }
    if (kind == "none") {
      if (items.size() > 1) {
        diags.error(item->getLoc(), "score modifier 'none' cannot be "
                                    "combined with others");
        fields.fail();
      }
      continue;
    }
    if (kind == "score") {
      if (item != items.back()) {
        diags.error(item->getLoc(), "a score function must be the last score "
                                    "modifier; it sees the score the others "
                                    "made");
        fields.fail();
        continue;
      }
      std::shared_ptr<const kernels::Predicate> fn = ctx.scoreFunction(
          *llvm::cast<CallExpr>(item), spec.scoreTensors, spec.heads);
      if (!fn) {
        fields.fail();
        continue;
      }
      spec.hasScoreFunction = true;
      apply(std::move(fn));
      continue;
    }
    if (!seen.insert(kind).second) {
      diags.error(item->getLoc(), "score modifier appears twice");
      fields.fail();
      continue;
    }
    std::optional<std::vector<double>> arguments =
        readScoreArguments(*term, *item);
    if (!arguments) {
      fields.fail();
      continue;
    }
    std::string error;
    std::shared_ptr<const kernels::Predicate> tree =
        expandScoreTerm(*term, *arguments, spec.heads, error);
    if (!tree) {
      diags.error(item->getLoc(), error);
      fields.fail();
      continue;
    }
    apply(std::move(tree));
  }
  spec.scoreFn = std::move(score);
}

std::optional<std::vector<double>>
Sema::readScoreArguments(const PreludeTerm &term, const Expr &item) {
  auto values = readTermArguments(term, item);
  if (!values)
    return std::nullopt;
  std::vector<double> arguments;
  for (const auto &[v, loc] : *values) {
    if (v.kind == Value::Kind::Bool || !(v.asDouble() > 0) ||
        !std::isfinite(v.asDouble())) {
      diags.error(loc, std::string(term.name) +
                           " must be a positive number, got " + v.describe());
      return std::nullopt;
    }
    arguments.push_back(v.asDouble());
  }
  return arguments;
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

const AttentionSpec *Sema::readAttentionRef(FieldSet &fields,
                                            const Field &field) {
  const Decl *decl =
      ctx.lookupBlock(*field.value, BlockKind::Attention, field.name);
  if (!decl) {
    fields.fail();
    return nullptr;
  }
  if (ctx.poisoned.count(decl->name)) {
    fields.fail();
    return nullptr;
  }
  return ctx.attentions.lookup(decl->name);
}

void Sema::readFeedForward(FieldSet &fields, const Field &field,
                           FeedForwardSpec &spec) {
  auto *call = llvm::dyn_cast<CallExpr>(field.value.get());
  if (!call || call->callee != "ffn" || call->body) {
    diags.error(field.value->getLoc(),
                "feed_forward expects ffn(dim, relu|gelu[, bias = false])");
    fields.fail();
    return;
  }
  size_t positional = 0;
  for (const CallArg &arg : call->args) {
    if (arg.name.empty()) {
      if (positional == 0) {
        std::optional<Value> v = ctx.evaluate(*arg.value);
        if (!v || v->kind != Value::Kind::Int || v->i <= 0) {
          if (v)
            diags.error(arg.value->getLoc(),
                        "ffn dim must be a positive integer, got " +
                            v->describe());
          fields.fail();
          return;
        }
        if (v->i > limits::kMaxFeedForward) {
          diags.error(arg.value->getLoc(),
                      "ffn dim must be at most " +
                          std::to_string(limits::kMaxFeedForward) + ", got " +
                          v->describe() + "; see Limits in docs/dsl.md");
          fields.fail();
          return;
        }
        spec.dim = v->i;
      } else if (positional == 1) {
        auto i =
            fields.keyword(*arg.value, "the ffn activation", {"relu", "gelu"});
        if (!i)
          return;
        spec.activation = *i == 0 ? Activation::ReLU : Activation::GELU;
      } else {
        diags.error(arg.loc, "ffn takes at most two positional arguments");
        fields.fail();
        return;
      }
      ++positional;
    } else if (arg.name == "bias") {
      std::optional<Value> v = ctx.evaluate(*arg.value);
      if (!v || v->kind != Value::Kind::Bool) {
        if (v)
          diags.error(arg.value->getLoc(),
                      "ffn bias must be true or false, got " + v->describe());
        fields.fail();
        return;
      }
      spec.bias = v->b;
    } else {
      diags.error(arg.loc,
                  "unknown ffn argument '" + arg.name + "'; expected bias");
      fields.fail();
      return;
    }
  }
  if (positional < 2) {
    diags.error(call->getLoc(),
                "ffn needs its width and activation: ffn(2048, relu)");
    fields.fail();
  }
}

void Sema::analyzeLayer(const Decl &decl) {
  bool isDecoder = decl.blockKind == BlockKind::DecoderLayer;
  FieldSet fields(ctx, decl,
                  isDecoder
                      ? llvm::ArrayRef<llvm::StringRef>(kDecoderLayerFields)
                      : llvm::ArrayRef<llvm::StringRef>(kEncoderLayerFields));
  auto spec = std::make_unique<LayerSpec>();
  spec->name = decl.name;
  spec->loc = decl.nameLoc;
  spec->isDecoder = isDecoder;

  if (const Field *f = fields.require("self_attention")) {
    spec->selfAttention = readAttentionRef(fields, *f);
    if (spec->selfAttention &&
        spec->selfAttention->source == AttentionSource::Cross) {
      diags.error(f->value->getLoc(), "attention '" +
                                          spec->selfAttention->name +
                                          "' has source = cross and cannot be "
                                          "a self_attention");
      diags.note(spec->selfAttention->loc, "declared here");
      fields.fail();
    }
  }
  if (const Field *f = fields.get("cross_attention")) {
    spec->crossAttention = readAttentionRef(fields, *f);
    if (spec->crossAttention &&
        spec->crossAttention->source == AttentionSource::Self) {
      diags.error(f->value->getLoc(), "attention '" +
                                          spec->crossAttention->name +
                                          "' has source = self and cannot be "
                                          "a cross_attention");
      diags.note(spec->crossAttention->loc, "declared here");
      fields.fail();
    }
    if (spec->crossAttention &&
        !spec->crossAttention->mask.sameSequenceTerm.empty()) {
      const std::string &term = spec->crossAttention->mask.sameSequenceTerm;
      diags.error(f->value->getLoc(),
                  "cross_attention '" + spec->crossAttention->name + "' is " +
                      term +
                      "; queries and keys come from different sequences, so "
                      "a " +
                      term + " mask has no meaning there");
      fields.fail();
    }
  }
  // What an attention block may have on its own but not inside a layer.
  auto refuse = [&](const AttentionSpec &attention, const std::string &why,
                    llvm::SMLoc where, const char *note) {
    diags.error(decl.nameLoc, "attention '" + attention.name + "' " + why);
    diags.note(where, note);
    fields.fail();
  };
  for (const AttentionSpec *attention :
       {spec->selfAttention, spec->crossAttention}) {
    if (attention && attention->inputDimLoc.isValid())
      refuse(*attention,
             "sets kdim or vdim; inside a layer keys and values are d_model "
             "wide (the encoder's output or the layer's input)",
             attention->inputDimLoc, "set here");
    if (attention && attention->mask.segments)
      refuse(*attention,
             "has mask 'segments', which layers do not take yet: its segment "
             "ids are an argument of the attention block's own function",
             attention->loc, "declared here");
  }
  if (const Field *f = fields.require("feed_forward"))
    readFeedForward(fields, *f, spec->feedForward);
  if (const Field *f = fields.get("norm")) {
    if (auto i = fields.keyword(*f, {"pre", "post"}))
      spec->norm = *i == 0 ? NormPlacement::Pre : NormPlacement::Post;
  }
  if (const Field *f = fields.get("norm_eps"))
    spec->normEps = fields.positiveNumber(*f).value_or(1e-5);
  if (const Field *f = fields.get("weights")) {
    if (auto i = fields.keyword(*f, kWeightTypeNames)) {
      spec->weights = static_cast<kernels::WeightType>(*i);
      checkWeightsTargets(fields, *f, *spec->weights);
    }
  }

  if (!fields.ok()) {
    ctx.poisoned.insert(decl.name);
    return;
  }
  ctx.layers[decl.name] = spec.get();
  unit->layers.push_back(std::move(spec));
}

/// Linear weights stored in fewer bytes run on CPU targets only (the GPU
/// schedules have not been tried with them); `attnc compile` checks the
/// targets of --target too.
void Sema::checkWeightsTargets(FieldSet &fields, const Field &field,
                               kernels::WeightType type) {
  const TargetSpec *gpu = firstGpuTarget();
  if (type == kernels::WeightType::F32 || !gpu)
    return;
  diags.error(field.value->getLoc(),
              "weights = " + kWeightTypeNames[size_t(type)].str() +
                  " runs on CPU targets only, and target '" + gpu->name +
                  "' is a GPU; use f32 weights for GPU targets");
  if (gpu->loc.isValid())
    diags.note(gpu->loc, "target '" + gpu->name + "' is listed here");
  fields.fail();
}

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

std::optional<StackSpec> Sema::readStack(FieldSet &fields, const Field &field,
                                         BlockKind layerKind) {
  const Expr *layerExpr = field.value.get();
  const Expr *countExpr = nullptr;
  if (auto *binary = llvm::dyn_cast<BinaryExpr>(field.value.get()))
    if (binary->op == BinaryExpr::Op::Mul) {
      layerExpr = binary->lhs.get();
      countExpr = binary->rhs.get();
    }
  StackSpec stack;
  stack.loc = field.value->getLoc();
  stack.count = 1;
  const Decl *decl = ctx.lookupBlock(*layerExpr, layerKind, field.name);
  if (!decl || ctx.poisoned.count(decl->name)) {
    fields.fail();
    return std::nullopt;
  }
  stack.layer = ctx.layers.lookup(decl->name);
  if (countExpr) {
    std::optional<Value> v = ctx.evaluate(*countExpr);
    if (!v || v->kind != Value::Kind::Int || v->i <= 0 || v->i > 1000) {
      if (v)
        diags.error(countExpr->getLoc(),
                    "layer count must be an integer from 1 to 1000, got " +
                        v->describe());
      fields.fail();
      return std::nullopt;
    }
    stack.count = v->i;
  }
  usedLayers.insert(stack.layer);
  return stack;
}

void Sema::checkAttentionInModel(FieldSet &fields,
                                 const AttentionSpec &attention,
                                 const ModelSpec &model) {
  const Field *dModelField = fields.get("d_model");
  llvm::SMLoc where = dModelField ? dModelField->value->getLoc() : model.loc;
  if (attention.dModel && attention.dModel != model.dModel) {
    diags.error(where, "model '" + model.name + "' has d_model " +
                           std::to_string(model.dModel) + ", but attention '" +
                           attention.name + "' declares d_model " +
                           std::to_string(attention.dModel));
    diags.note(attention.loc,
               "attention '" + attention.name + "' is declared here");
    fields.fail();
  } else if (!attention.headDim && model.dModel % attention.heads) {
    diags.error(where, "d_model (" + std::to_string(model.dModel) +
                           ") of model '" + model.name +
                           "' is not divisible by heads (" +
                           std::to_string(attention.heads) +
                           ") of attention '" + attention.name + "'");
    diags.note(attention.loc, "set head_dim in attention '" + attention.name +
                                  "' to choose the head size");
    fields.fail();
  } else if (!attention.dModel) {
    checkProjections(fields, where, attention, model.dModel);
  }
}

bool Sema::checkTensorSize(FieldSet &fields, llvm::SMLoc loc,
                           const std::string &what, int64_t elements) {
  if (elements < limits::kMaxTensorElements)
    return true;
  diags.error(loc, what + " has " + std::to_string(elements) +
                       " elements; one tensor must have fewer than 2^29 "
                       "(536870912), so that it fits in a Halide buffer; see "
                       "Limits in docs/dsl.md");
  fields.fail();
  return false;
}

bool Sema::checkProjections(FieldSet &fields, llvm::SMLoc loc,
                            const AttentionSpec &attention, int64_t dModel) {
  int64_t headDim = resolvedHeadDim(attention, dModel);
  int64_t rows = (attention.heads + 2 * attention.kvHeads) * headDim;
  if (!checkTensorSize(fields, loc,
                       "the Q/K/V projection of attention '" + attention.name +
                           "' ((heads + 2 * kv_heads) * " +
                           "head_dim * d_model)",
                       rows * dModel))
    return false;
  int64_t dim = attention.scoring == Scoring::Additive && attention.additiveDim
                    ? attention.additiveDim
                    : headDim;
  if (attention.keyInputDim &&
      !checkTensorSize(fields, attention.inputDimLoc,
                       "the key projection of attention '" + attention.name +
                           "' (kv_heads * head_dim, or additive dim, * kdim)",
                       attention.kvHeads * dim * attention.keyInputDim))
    return false;
  if (attention.valueInputDim &&
      !checkTensorSize(fields, attention.inputDimLoc,
                       "the value projection of attention '" + attention.name +
                           "' (kv_heads * head_dim * vdim)",
                       attention.kvHeads * headDim * attention.valueInputDim))
    return false;
  if (attention.scoring != Scoring::Additive)
    return true;
  return checkTensorSize(fields, loc,
                         "the additive projections of attention '" +
                             attention.name +
                             "' ((heads + kv_heads) * dim * d_model)",
                         (attention.heads + attention.kvHeads) * dim * dModel);
}

void Sema::checkModelTensors(FieldSet &fields, const ModelSpec &model) {
  llvm::SMLoc where = fields.get("d_model")->value->getLoc();
  auto check = [&](const char *field, const std::string &what,
                   int64_t elements) {
    const Field *f = fields.get(field);
    checkTensorSize(fields, f ? f->value->getLoc() : where, what, elements);
  };
  if (model.srcVocab)
    check("src_vocab", "src_vocab * d_model", model.srcVocab * model.dModel);
  if (model.tgtVocab)
    check("tgt_vocab", "tgt_vocab * d_model", model.tgtVocab * model.dModel);
  check("max_len", "max_len * d_model", model.maxLen * model.dModel);
  for (const std::optional<StackSpec> *stack : {&model.encoder, &model.decoder})
    if (*stack && (*stack)->layer)
      checkTensorSize(fields, where,
                      "the feed-forward weight of layer '" +
                          (*stack)->layer->name + "' (ffn dim * d_model)",
                      (*stack)->layer->feedForward.dim * model.dModel);
}

void Sema::analyzeModel(const Decl &decl) {
  FieldSet fields(ctx, decl, kModelFields);
  auto spec = std::make_unique<ModelSpec>();
  spec->name = decl.name;
  spec->loc = decl.nameLoc;

  if (const Field *f = fields.require("d_model"))
    spec->dModel = fields.positiveInt(*f, limits::kMaxWidth).value_or(0);
  const Field *encoderField = fields.get("encoder");
  const Field *decoderField = fields.get("decoder");
  if (encoderField)
    spec->encoder = readStack(fields, *encoderField, BlockKind::EncoderLayer);
  if (decoderField)
    spec->decoder = readStack(fields, *decoderField, BlockKind::DecoderLayer);
  if (!encoderField && !decoderField) {
    diags.error(decl.nameLoc, "model '" + decl.name +
                                  "' needs an encoder, a decoder, or both");
    fields.fail();
  }
  if (encoderField) {
    if (const Field *f = fields.require("src_vocab"))
      spec->srcVocab = fields.positiveInt(*f, limits::kMaxVocab).value_or(0);
  } else if (const Field *f = fields.get("src_vocab")) {
    diags.error(f->loc, "src_vocab has no use in a model without an encoder");
    fields.fail();
  }
  if (decoderField) {
    if (const Field *f = fields.require("tgt_vocab"))
      spec->tgtVocab = fields.positiveInt(*f, limits::kMaxVocab).value_or(0);
  } else if (const Field *f = fields.get("tgt_vocab")) {
    diags.error(f->loc, "tgt_vocab has no use in a model without a decoder");
    fields.fail();
  }
  if (const Field *f = fields.get("max_len"))
    spec->maxLen = fields.positiveInt(*f, limits::kMaxLen).value_or(1);
  if (const Field *f = fields.get("positions")) {
    if (auto i = fields.keyword(*f, {"none", "sinusoidal", "learned"}))
      spec->positions = static_cast<Positions>(*i); // in the enum's order
  }
  if (const Field *f = fields.get("embed_scale"))
    spec->embedScale = fields.positiveNumber(*f).value_or(1.0);
  if (const Field *f = fields.get("final_norm"))
    spec->finalNorm = fields.boolean(*f).value_or(true);
  if (const Field *f = fields.get("output_bias"))
    spec->outputBias = fields.boolean(*f).value_or(true);
  if (const Field *f = fields.get("output")) {
    if (auto i = fields.keyword(*f, {"logits", "probs"}))
      spec->output = *i == 0 ? ModelOutput::Logits : ModelOutput::Probs;
  }
  if (const Field *f = fields.get("weights")) {
    if (auto i = fields.keyword(*f, kWeightTypeNames)) {
      spec->weights = static_cast<kernels::WeightType>(*i);
      checkWeightsTargets(fields, *f, spec->weights);
    }
  }

  if (spec->dModel && spec->positions == Positions::Sinusoidal &&
      spec->dModel % 2) {
    diags.error(fields.get("d_model")->value->getLoc(),
                "sinusoidal positions need an even d_model, got " +
                    std::to_string(spec->dModel));
    fields.fail();
  }
  if (spec->decoder && spec->decoder->layer) {
    const LayerSpec &layer = *spec->decoder->layer;
    if (spec->encoder && !layer.crossAttention) {
      diags.error(decoderField->value->getLoc(),
                  "decoder_layer '" + layer.name +
                      "' has no cross_attention, so it cannot read the "
                      "encoder of model '" +
                      decl.name + "'");
      fields.fail();
    } else if (!encoderField && layer.crossAttention) {
      diags.error(decoderField->value->getLoc(),
                  "decoder_layer '" + layer.name +
                      "' has a cross_attention, but model '" + decl.name +
                      "' has no encoder for it to read");
      fields.fail();
    }
  }
  if (spec->dModel && fields.ok()) {
    for (const std::optional<StackSpec> *stack :
         {&spec->encoder, &spec->decoder}) {
      if (!*stack)
        continue;
      const LayerSpec &layer = *(*stack)->layer;
      for (const AttentionSpec *attention :
           {layer.selfAttention, layer.crossAttention})
        if (attention)
          checkAttentionInModel(fields, *attention, *spec);
    }
  }
  if (spec->dModel && fields.ok())
    checkModelTensors(fields, *spec);
  if (!fields.ok())
    return;
  unit->models.push_back(std::move(spec));
}

std::unique_ptr<CompileUnit> attnc::analyze(const Module &module,
                                            Diagnostics &diags) {
  return Sema(diags).run(module);
}
