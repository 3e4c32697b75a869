//===- Prelude.h - Named masks and score modifiers, in .attn ----*- C++ -*-===//
//
// Private to lib/Frontend. The named mask terms (`causal`, `window(n)`) and
// score modifiers (`softcap(c)`, `alibi`, `bias`) are definitions written
// in the language itself: the body of a `predicate(b, h, q, k) { ... }` or
// a `score(s, b, h, q, k) { ... }`, in which the term's parameters appear
// by name. Sema checks a use's arguments against its row and expands it
// into the same expression tree a user's predicate or score function
// becomes, so nothing below the front end knows these names, and every
// term is compiled as its definition would be. A new term is one row in
// Prelude.cpp, its tests, and its line in docs/dsl.md.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LIB_FRONTEND_PRELUDE_H
#define ATTNC_LIB_FRONTEND_PRELUDE_H

#include "attnc/Lowering/KernelSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>
#include <vector>

namespace attnc {
namespace sema {

/// One named term of the prelude.
struct PreludeTerm {
  const char *name;
  /// Parameters, by name in `body`. A mask's are positive integers below
  /// 2^30 (limits::kMaxMaskParameter); a score modifier's positive numbers.
  std::vector<const char *> params;
  /// What an argument is called in messages ("size"), and a use to show.
  const char *argumentNoun;
  const char *example;
  /// The definition: a predicate body over b, h, q, k (masks) or a score
  /// function body over s, b, h, q, k (score modifiers), and the parameters.
  const char *body;
  /// Masks only: whether it relates positions of one sequence (causal),
  /// which makes no sense in cross-attention, where Sema refuses it.
  bool sameSequence = false;
};

/// Every named mask term and every named score modifier, in the order
/// messages list them.
llvm::ArrayRef<PreludeTerm> maskTerms();
llvm::ArrayRef<PreludeTerm> scoreTerms();

/// The term called `name` in `terms`, or null.
const PreludeTerm *findTerm(llvm::ArrayRef<PreludeTerm> terms,
                            llvm::StringRef name);

/// `term` with its parameters bound to `arguments` (checked by the caller),
/// as an expression tree: a mask over (b, h, q, k) (Vars 0 to 3), or a
/// score over s (Var 4) for an attention of `heads` heads. Parses and
/// checks the definition with the front end's own parser and checkers; an
/// error there is a defect of the prelude, which `error` then describes.
std::shared_ptr<const kernels::Predicate>
expandMaskTerm(const PreludeTerm &term, llvm::ArrayRef<int64_t> arguments,
               std::string &error);
std::shared_ptr<const kernels::Predicate>
expandScoreTerm(const PreludeTerm &term, llvm::ArrayRef<double> arguments,
                int64_t heads, std::string &error);

} // namespace sema
} // namespace attnc

#endif // ATTNC_LIB_FRONTEND_PRELUDE_H
