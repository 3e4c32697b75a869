//===- SemaImpl.h - Shared state of the Sema files --------------*- C++ -*-===//
//
// Private to lib/Frontend. SemaContext owns the symbol tables and the
// constant evaluator (SemaExpr.cpp); FieldSet reads and checks the fields of
// one block (SemaFields.cpp); Sema.cpp walks the declarations.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LIB_FRONTEND_SEMAIMPL_H
#define ATTNC_LIB_FRONTEND_SEMAIMPL_H

#include "attnc/Frontend/Diagnostics.h"
#include "attnc/Frontend/Spec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"

#include <optional>
#include <set>

namespace attnc {
namespace sema {

/// A folded constant.
struct Value {
  enum class Kind { Int, Float, Bool } kind = Kind::Int;
  int64_t i = 0;
  double f = 0;
  bool b = false;

  static Value ofInt(int64_t v) { return {Kind::Int, v, 0, false}; }
  static Value ofFloat(double v) { return {Kind::Float, 0, v, false}; }
  static Value ofBool(bool v) { return {Kind::Bool, 0, 0, v}; }
  double asDouble() const { return kind == Kind::Int ? double(i) : f; }
  /// "integer 3", "number 2.5", "true", for messages.
  std::string describe() const;
};

/// What a top-level name denotes.
struct Symbol {
  enum class Kind { Const, Block } kind;
  const Decl *decl;
};

/// Symbol tables and the constant evaluator.
class SemaContext {
public:
  explicit SemaContext(Diagnostics &diags) : diags(diags) {}

  /// Folds a constant expression. Reports and returns nullopt on error.
  std::optional<Value> evaluate(const Expr &expr);

  /// What checkPredicate found.
  enum class PredicateCheck {
    Invalid,   ///< An error was reported.
    Varies,    ///< The body depends on the indices.
    AlwaysTrue ///< The body is constant and true: it masks nothing.
  };

  /// Checks the body of `predicate(b, h, q, k) { body }`: its types, its
  /// constant parts (in range, no division by zero) and, if it uses no
  /// index, its value. A body that is always false is an error.
  PredicateCheck checkPredicate(const CallExpr &call);

  /// The expression tree of `predicate(b, h, q, k) { body }`, which
  /// checkPredicate has found valid and varying (SemaScore.cpp).
  std::shared_ptr<const kernels::Predicate>
  maskExpression(const CallExpr &call);

  /// Reads `tensors = [name(extent, ...), ...]` (SemaScore.cpp).
  bool readScoreTensors(const Expr &value,
                        std::vector<kernels::ScoreTensor> &out);
  /// Checks `score(s, b, h, q, k) { body }` against the block's tensors and
  /// builds its expression tree; null after an error (SemaScore.cpp).
  std::shared_ptr<const kernels::Predicate>
  scoreFunction(const CallExpr &call,
                const std::vector<kernels::ScoreTensor> &tensors,
                int64_t heads);

  /// The declaration a block name refers to, with a located error if `expr`
  /// is not the name of a block of kind `kind`.
  const Decl *lookupBlock(const Expr &expr, BlockKind kind,
                          llvm::StringRef fieldName);

  Diagnostics &diags;
  llvm::StringMap<Symbol> symbols;
  llvm::StringMap<Value> constants; ///< Folded so far, in file order.
  llvm::StringMap<AttentionSpec *> attentions;
  llvm::StringMap<LayerSpec *> layers;
  std::set<std::string> poisoned; ///< Blocks that failed; no cascades.

private:
  std::optional<Value> evaluateNode(const Expr &expr);
  std::optional<Value> evaluateBinary(const BinaryExpr &expr);
  std::optional<Value> evaluateCall(const CallExpr &expr);
  enum class PredType { Int, Bool };
  std::optional<PredType> checkPredicateExpr(const Expr &expr,
                                             llvm::ArrayRef<std::string> vars);
  /// Folds every part of a well-typed predicate expression that uses no
  /// index, checking the range of each integer and every constant divisor.
  bool checkPredicateConstants(const Expr &expr,
                               llvm::ArrayRef<std::string> vars);
  /// Folds a constant part of a predicate with the range check on.
  std::optional<Value> evaluateInPredicate(const Expr &expr);

  /// While folding inside a predicate: every integer result must have a
  /// magnitude below limits::kPredicateMagnitude.
  bool predicateRange = false;
};

/// True if `expr` mentions one of the predicate's index names `vars`.
bool usesIndex(const Expr &expr, llvm::ArrayRef<std::string> vars);

/// The fields of one block, checked for unknown and repeated names, with
/// typed readers that report errors at the value's location.
class FieldSet {
public:
  FieldSet(SemaContext &ctx, const Decl &decl,
           llvm::ArrayRef<llvm::StringRef> allowed);

  bool ok() const { return !failed; }
  const Field *get(llvm::StringRef name) const;
  /// Reports that a required field is missing, at the block's name.
  const Field *require(llvm::StringRef name);

  /// The field as an integer from 1 to `max`; the error names the limit.
  std::optional<int64_t> positiveInt(const Field &field, int64_t max);
  std::optional<double> positiveNumber(const Field &field);
  std::optional<bool> boolean(const Field &field);
  /// Index into `choices` of the keyword the field names.
  std::optional<size_t> keyword(const Field &field,
                                llvm::ArrayRef<llvm::StringRef> choices);
  /// Same, for an arbitrary expression (list items, call arguments).
  std::optional<size_t> keyword(const Expr &expr, llvm::StringRef what,
                                llvm::ArrayRef<llvm::StringRef> choices);

  /// Marks the block as failed after a caller-side error.
  void fail() { failed = true; }
  SemaContext &ctx;
  const Decl &decl;

private:
  std::optional<Value> evaluate(const Field &field);
  llvm::StringMap<const Field *> fields;
  bool failed = false;
};

/// "; did you mean 'heads'?" for a near miss among `candidates`, else "".
std::string suggest(llvm::StringRef name,
                    llvm::ArrayRef<llvm::StringRef> candidates);

/// "an attention block", "a model block", ...
std::string describeBlock(BlockKind kind);

/// "a, b or c".
std::string joinChoices(llvm::ArrayRef<llvm::StringRef> choices);

} // namespace sema
} // namespace attnc

#endif // ATTNC_LIB_FRONTEND_SEMAIMPL_H
