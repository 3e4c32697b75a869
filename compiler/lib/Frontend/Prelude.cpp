//===- Prelude.cpp - Named masks and score modifiers, in .attn ------------===//
//
// The rows of the prelude and their expansion. A definition is parsed and
// checked by the same parser and checkers as a user's `predicate(b, h, q,
// k) { ... }` or `score(s, b, h, q, k) { ... }`, in a source buffer of its
// own, with each parameter bound as a constant; so a term means exactly
// what its body would mean written by hand, and compiles to the same
// kernel.
//
//===----------------------------------------------------------------------===//

#include "Prelude.h"
#include "SemaImpl.h"

#include "attnc/Frontend/Parser.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace attnc;
using namespace attnc::sema;

llvm::ArrayRef<PreludeTerm> attnc::sema::maskTerms() {
  static const PreludeTerm terms[] = {
      {"causal", {}, "", "causal", "k <= q", /*sameSequence=*/true},
      {"window", {"n"}, "size", "window(128)", "q - k < n && k - q < n"},
  };
  return terms;
}

llvm::ArrayRef<PreludeTerm> attnc::sema::scoreTerms() {
  static const PreludeTerm terms[] = {
      {"softcap", {"c"}, "cap", "softcap(30.0)", "c * tanh(s / c)"},
      {"alibi", {}, "", "alibi", "s - alibi_slope(h) * abs(q - k)"},
      {"bias", {}, "", "bias", "s + bias(b, h, q, k)"},
  };
  return terms;
}

const PreludeTerm *attnc::sema::findTerm(llvm::ArrayRef<PreludeTerm> terms,
                                         llvm::StringRef name) {
  for (const PreludeTerm &term : terms)
    if (name == term.name)
      return &term;
  return nullptr;
}

namespace {

/// Parses `field = head { body }` in a buffer of its own, binds the
/// parameters, and builds the tree with `build`; null with `error` set if
/// the definition does not compile.
template <class Bind, class Build>
std::shared_ptr<const kernels::Predicate>
expand(const PreludeTerm &term, const char *field, const char *head, Bind bind,
       Build build, std::string &error) {
  std::string messages;
  llvm::raw_string_ostream os(messages);
  llvm::SourceMgr sources;
  Diagnostics diags(sources, os);
  std::string text = std::string("attention prelude {\n  ") + field + " = " +
                     head + " { " + term.body + " };\n}\n";
  unsigned buffer = sources.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, std::string("<prelude ") +
                                                     term.name + ">"),
      llvm::SMLoc());
  std::unique_ptr<Module> module = parseModule(buffer, diags);
  std::shared_ptr<const kernels::Predicate> tree;
  if (module && module->decls.size() == 1 &&
      module->decls[0].fields.size() == 1) {
    SemaContext ctx(diags);
    bind(ctx);
    if (auto *call =
            llvm::dyn_cast<CallExpr>(module->decls[0].fields[0].value.get()))
      tree = build(ctx, *call);
  }
  if (!tree)
    error = "the prelude's definition of '" + std::string(term.name) +
            "' does not compile (a defect of attnc): " + os.str();
  return tree;
}

} // namespace

std::shared_ptr<const kernels::Predicate>
attnc::sema::expandMaskTerm(const PreludeTerm &term,
                            llvm::ArrayRef<int64_t> arguments,
                            std::string &error) {
  auto bind = [&](SemaContext &ctx) {
    for (size_t i = 0; i < term.params.size() && i < arguments.size(); ++i)
      ctx.constants[term.params[i]] = Value::ofInt(arguments[i]);
  };
  auto build = [&](SemaContext &ctx, const CallExpr &call) {
    std::shared_ptr<const kernels::Predicate> tree;
    if (arguments.size() == term.params.size() &&
        ctx.checkPredicate(call) == SemaContext::PredicateCheck::Varies)
      tree = ctx.maskExpression(call);
    return tree;
  };
  return expand(term, "mask", "predicate(b, h, q, k)", bind, build, error);
}

std::shared_ptr<const kernels::Predicate>
attnc::sema::expandScoreTerm(const PreludeTerm &term,
                             llvm::ArrayRef<double> arguments, int64_t heads,
                             std::string &error) {
  auto bind = [&](SemaContext &ctx) {
    for (size_t i = 0; i < term.params.size() && i < arguments.size(); ++i)
      ctx.constants[term.params[i]] = Value::ofFloat(arguments[i]);
  };
  auto build = [&](SemaContext &ctx, const CallExpr &call) {
    std::shared_ptr<const kernels::Predicate> tree;
    if (arguments.size() == term.params.size())
      tree = ctx.scoreFunction(call, {}, heads);
    return tree;
  };
  return expand(term, "score_mod", "score(s, b, h, q, k)", bind, build, error);
}
