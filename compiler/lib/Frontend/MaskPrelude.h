//===- MaskPrelude.h - Named mask terms, defined as predicates --*- C++ -*-===//
//
// Private to lib/Frontend. Each named mask term (`causal`, `window(n)`) is
// a definition written in the language itself: the body of a
// `predicate(b, h, q, k) { ... }` in which the term's integer parameters
// appear by name. Sema checks a use's arguments against the row and expands
// it into the same expression tree a user's predicate becomes, so nothing
// below the front end knows these names, and every term gets the block
// skipping every predicate gets. A new term is one row in MaskPrelude.cpp,
// its tests, and its line in docs/dsl.md (Masks).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LIB_FRONTEND_MASKPRELUDE_H
#define ATTNC_LIB_FRONTEND_MASKPRELUDE_H

#include "attnc/Lowering/KernelSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>
#include <vector>

namespace attnc {
namespace sema {

/// One named mask term.
struct MaskTerm {
  const char *name;
  /// Integer parameters, by name in `body`; each argument must be a positive
  /// integer below 2^30 (limits::kMaxMaskParameter).
  std::vector<const char *> params;
  /// What an argument is called in messages ("size"), and a use to show.
  const char *argumentNoun;
  const char *example;
  /// The definition: a predicate body over b, h, q, k and the parameters.
  const char *body;
  /// Whether it relates positions of one sequence (causal): such a term has
  /// no meaning in cross-attention, which Sema refuses.
  bool sameSequence;
};

/// Every named term, in the order messages list them.
llvm::ArrayRef<MaskTerm> maskTerms();

/// The term called `name`, or null.
const MaskTerm *findMaskTerm(llvm::StringRef name);

/// `term` with its parameters bound to `arguments` (checked by the caller),
/// as an expression tree over (b, h, q, k) (Vars 0 to 3). Parses and checks
/// the definition with the front end's own parser and checker; an error
/// there is a defect of the prelude, which `error` then describes.
std::shared_ptr<const kernels::Predicate>
expandMaskTerm(const MaskTerm &term, llvm::ArrayRef<int64_t> arguments,
               std::string &error);

} // namespace sema
} // namespace attnc

#endif // ATTNC_LIB_FRONTEND_MASKPRELUDE_H
