//===- SemaFields.cpp - Reading the fields of one block -------------------===//
//
// FieldSet rejects unknown fields (with a did-you-mean) and repeated ones,
// then offers typed readers. Each reader reports a wrong value at the
// value's own location, naming the field and what it expects.
//
//===----------------------------------------------------------------------===//

#include "SemaImpl.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Casting.h"

using namespace attnc;
using namespace attnc::sema;

std::string sema::suggest(llvm::StringRef name,
                          llvm::ArrayRef<llvm::StringRef> candidates) {
  llvm::StringRef best;
  unsigned bestDistance = 3; // Suggest only near misses.
  for (llvm::StringRef candidate : candidates) {
    unsigned distance = name.edit_distance(candidate, true, bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best.empty() ? "" : "; did you mean '" + best.str() + "'?";
}

std::string sema::joinChoices(llvm::ArrayRef<llvm::StringRef> choices) {
  std::string text;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i)
      text += i + 1 == choices.size() ? " or " : ", ";
    text += choices[i].str();
  }
  return text;
}

std::string sema::describeBlock(BlockKind kind) {
  bool vowel = kind == BlockKind::Attention || kind == BlockKind::EncoderLayer;
  return (vowel ? "an " : "a ") + spell(kind).str() + " block";
}

FieldSet::FieldSet(SemaContext &ctx, const Decl &decl,
                   llvm::ArrayRef<llvm::StringRef> allowed)
    : ctx(ctx), decl(decl) {
  for (const Field &field : decl.fields) {
    if (!llvm::is_contained(allowed, field.name)) {
      ctx.diags.error(field.loc, "unknown field '" + field.name + "' in " +
                                     spell(decl.blockKind) + " '" + decl.name +
                                     "'" + suggest(field.name, allowed));
      failed = true;
      continue;
    }
    auto inserted = fields.try_emplace(field.name, &field);
    if (!inserted.second) {
      ctx.diags.error(field.loc, "field '" + field.name + "' is set twice");
      ctx.diags.note(inserted.first->second->loc, "first set here");
      failed = true;
    }
  }
}

const Field *FieldSet::get(llvm::StringRef name) const {
  auto it = fields.find(name);
  return it == fields.end() ? nullptr : it->second;
}

const Field *FieldSet::require(llvm::StringRef name) {
  if (const Field *field = get(name))
    return field;
  ctx.diags.error(decl.nameLoc, spell(decl.blockKind) + " '" + decl.name +
                                    "' needs field '" + name + "'");
  failed = true;
  return nullptr;
}

std::optional<Value> FieldSet::evaluate(const Field &field) {
  std::optional<Value> value = ctx.evaluate(*field.value);
  if (!value)
    failed = true;
  return value;
}

std::optional<int64_t> FieldSet::positiveInt(const Field &field, int64_t max) {
  std::optional<Value> value = evaluate(field);
  if (!value)
    return std::nullopt;
  if (value->kind != Value::Kind::Int || value->i <= 0) {
    ctx.diags.error(field.value->getLoc(),
                    "field '" + field.name +
                        "' must be a positive integer, got " +
                        value->describe());
    failed = true;
    return std::nullopt;
  }
  if (value->i > max) {
    ctx.diags.error(field.value->getLoc(),
                    "field '" + field.name + "' must be at most " +
                        std::to_string(max) + ", got " + value->describe() +
                        "; see Limits in docs/dsl.md");
    failed = true;
    return std::nullopt;
  }
  return value->i;
}

std::optional<double> FieldSet::positiveNumber(const Field &field) {
  std::optional<Value> value = evaluate(field);
  if (!value)
    return std::nullopt;
  if (value->kind == Value::Kind::Bool || !(value->asDouble() > 0)) {
    ctx.diags.error(field.value->getLoc(),
                    "field '" + field.name +
                        "' must be a positive number, got " +
                        value->describe());
    failed = true;
    return std::nullopt;
  }
  return value->asDouble();
}

std::optional<bool> FieldSet::boolean(const Field &field) {
  std::optional<Value> value = evaluate(field);
  if (!value)
    return std::nullopt;
  if (value->kind != Value::Kind::Bool) {
    ctx.diags.error(field.value->getLoc(), "field '" + field.name +
                                               "' must be true or false, got " +
                                               value->describe());
    failed = true;
    return std::nullopt;
  }
  return value->b;
}

std::optional<size_t>
FieldSet::keyword(const Field &field, llvm::ArrayRef<llvm::StringRef> choices) {
  return keyword(*field.value, "field '" + field.name + "'", choices);
}

std::optional<size_t>
FieldSet::keyword(const Expr &expr, llvm::StringRef what,
                  llvm::ArrayRef<llvm::StringRef> choices) {
  if (auto *name = llvm::dyn_cast<NameExpr>(&expr)) {
    for (size_t i = 0; i < choices.size(); ++i)
      if (choices[i] == name->name)
        return i;
    ctx.diags.error(expr.getLoc(), "unknown value '" + name->name + "' for " +
                                       what + "; expected " +
                                       joinChoices(choices) +
                                       suggest(name->name, choices));
  } else {
    ctx.diags.error(expr.getLoc(), what + " expects " + joinChoices(choices));
  }
  failed = true;
  return std::nullopt;
}
