//===- MaskPrelude.cpp - The mask terms the language knows by name --------===//
//
// The rows of the prelude and their expansion. A definition is parsed and
// checked by the same parser and predicate checker as a user's
// `predicate(b, h, q, k) { ... }`, in a source buffer of its own, with each
// parameter bound as a constant; so a term means exactly what its body
// would mean written by hand, and compiles to the same kernel.
//
//===----------------------------------------------------------------------===//

#include "MaskPrelude.h"
#include "SemaImpl.h"

#include "attnc/Frontend/Parser.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace attnc;
using namespace attnc::sema;

llvm::ArrayRef<MaskTerm> attnc::sema::maskTerms() {
  static const MaskTerm terms[] = {
      {"causal", {}, "", "causal", "k <= q", /*sameSequence=*/true},
      {"window",
       {"n"},
       "size",
       "window(128)",
       "q - k < n && k - q < n",
       /*sameSequence=*/false},
  };
  return terms;
}

const MaskTerm *attnc::sema::findMaskTerm(llvm::StringRef name) {
  for (const MaskTerm &term : maskTerms())
    if (name == term.name)
      return &term;
  return nullptr;
}

std::shared_ptr<const kernels::Predicate>
attnc::sema::expandMaskTerm(const MaskTerm &term,
                            llvm::ArrayRef<int64_t> arguments,
                            std::string &error) {
  std::string messages;
  llvm::raw_string_ostream os(messages);
  llvm::SourceMgr sources;
  Diagnostics diags(sources, os);
  std::string text = "attention prelude {\n  mask = predicate(b, h, q, k) { " +
                     std::string(term.body) + " };\n}\n";
  unsigned buffer = sources.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, std::string("<prelude ") +
                                                     term.name + ">"),
      llvm::SMLoc());
  std::unique_ptr<Module> module = parseModule(buffer, diags);
  std::shared_ptr<const kernels::Predicate> tree;
  if (module && module->decls.size() == 1 &&
      module->decls[0].fields.size() == 1) {
    SemaContext ctx(diags);
    for (size_t i = 0; i < term.params.size() && i < arguments.size(); ++i)
      ctx.constants[term.params[i]] = Value::ofInt(arguments[i]);
    auto *call =
        llvm::dyn_cast<CallExpr>(module->decls[0].fields[0].value.get());
    if (call && arguments.size() == term.params.size() &&
        ctx.checkPredicate(*call) == SemaContext::PredicateCheck::Varies)
      tree = ctx.maskExpression(*call);
  }
  if (!tree)
    error = "the prelude's definition of mask '" + std::string(term.name) +
            "' does not compile (a defect of attnc): " + os.str();
  return tree;
}
