//===- AST.h - Syntax tree of the .attn language ----------------*- C++ -*-===//
//
// The parser's output: a faithful, untyped record of the file. Declarations
// are constants, target and dtype lines, and blocks (attention, layers,
// models) made of `field = value;` entries. Values are expressions; what a
// field may hold is decided later by Sema, which reports errors at the
// locations kept here. The AST only dumps; it has no semantics of its own.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_AST_H
#define ATTNC_FRONTEND_AST_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
}

namespace attnc {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// Base of all expressions; LLVM-style RTTI through `kind`.
class Expr {
public:
  enum class Kind { Int, Float, Bool, Name, String, List, Unary, Binary, Call };

  Expr(Kind kind, llvm::SMLoc loc) : kind(kind), loc(loc) {}
  virtual ~Expr() = default;

  Kind getKind() const { return kind; }
  llvm::SMLoc getLoc() const { return loc; }

private:
  Kind kind;
  llvm::SMLoc loc;
};

using ExprPtr = std::unique_ptr<Expr>;

/// An integer literal such as `512`.
class IntExpr : public Expr {
public:
  IntExpr(llvm::SMLoc loc, int64_t value)
      : Expr(Kind::Int, loc), value(value) {}
  int64_t value;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Int; }
};

/// A floating-point literal such as `1e-5`.
class FloatExpr : public Expr {
public:
  FloatExpr(llvm::SMLoc loc, double value)
      : Expr(Kind::Float, loc), value(value) {}
  double value;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Float; }
};

/// `true` or `false`.
class BoolExpr : public Expr {
public:
  BoolExpr(llvm::SMLoc loc, bool value) : Expr(Kind::Bool, loc), value(value) {}
  bool value;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Bool; }
};

/// A bare identifier: a constant, a declared block, or a keyword value such as
/// `causal` or `relu`.
class NameExpr : public Expr {
public:
  NameExpr(llvm::SMLoc loc, std::string name)
      : Expr(Kind::Name, loc), name(std::move(name)) {}
  std::string name;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Name; }
};

/// A double-quoted string, e.g. a raw Halide target string.
class StringExpr : public Expr {
public:
  StringExpr(llvm::SMLoc loc, std::string value)
      : Expr(Kind::String, loc), value(std::move(value)) {}
  std::string value;
  static bool classof(const Expr *e) { return e->getKind() == Kind::String; }
};

/// `[a, b, ...]`, e.g. an ordered list of score modifiers.
class ListExpr : public Expr {
public:
  ListExpr(llvm::SMLoc loc, std::vector<ExprPtr> items)
      : Expr(Kind::List, loc), items(std::move(items)) {}
  std::vector<ExprPtr> items;
  static bool classof(const Expr *e) { return e->getKind() == Kind::List; }
};

/// `-x` or `!x`.
class UnaryExpr : public Expr {
public:
  enum class Op { Neg, Not };
  UnaryExpr(llvm::SMLoc loc, Op op, ExprPtr operand)
      : Expr(Kind::Unary, loc), op(op), operand(std::move(operand)) {}
  Op op;
  ExprPtr operand;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Unary; }
};

/// A binary operation; `loc` is the operator's location.
class BinaryExpr : public Expr {
public:
  enum class Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Intersect ///< `&`, which intersects masks: `causal & window(128)`.
  };
  BinaryExpr(llvm::SMLoc loc, Op op, ExprPtr lhs, ExprPtr rhs)
      : Expr(Kind::Binary, loc), op(op), lhs(std::move(lhs)),
        rhs(std::move(rhs)) {}
  Op op;
  ExprPtr lhs, rhs;
  static bool classof(const Expr *e) { return e->getKind() == Kind::Binary; }
};

/// Spelling of a binary operator, e.g. "<=".
llvm::StringRef spell(BinaryExpr::Op op);

/// One argument of a call, positional or `name = value`.
struct CallArg {
  std::string name; ///< Empty for a positional argument.
  llvm::SMLoc loc;
  ExprPtr value;
};

/// `callee(args...)`, optionally followed by a `{ expr }` body, as in
/// `predicate(b, h, q, k) { k <= q }`.
class CallExpr : public Expr {
public:
  CallExpr(llvm::SMLoc loc, std::string callee, std::vector<CallArg> args,
           ExprPtr body)
      : Expr(Kind::Call, loc), callee(std::move(callee)), args(std::move(args)),
        body(std::move(body)) {}
  std::string callee;
  std::vector<CallArg> args;
  ExprPtr body; ///< Null unless the call has a `{ ... }` body.
  static bool classof(const Expr *e) { return e->getKind() == Kind::Call; }
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

/// `name = value;` inside a block.
struct Field {
  std::string name;
  llvm::SMLoc loc;
  ExprPtr value;
};

/// The kinds of `{ ... }` blocks.
enum class BlockKind { Attention, EncoderLayer, DecoderLayer, Model };

/// Keyword that introduces a block kind, e.g. "encoder_layer".
llvm::StringRef spell(BlockKind kind);

/// One item of a `target` line: a known name or a raw Halide target string.
struct TargetItem {
  std::string text;
  bool isRawString = false;
  llvm::SMLoc loc;
};

/// A top-level declaration.
struct Decl {
  enum class Kind { Const, Target, Dtype, Block };
  Kind kind;
  llvm::SMLoc loc;  ///< The introducing keyword.
  std::string name; ///< Const and block name; dtype name for Dtype.
  llvm::SMLoc nameLoc;
  ExprPtr value;                              ///< Const only.
  std::vector<TargetItem> targets;            ///< Target only.
  BlockKind blockKind = BlockKind::Attention; ///< Block only.
  std::vector<Field> fields;                  ///< Block only.
};

/// A parsed file.
struct Module {
  std::string fileName;
  std::vector<Decl> decls;
};

/// Prints the tree, one node a line, with line:col locations. This is the
/// format `attnc --emit=ast` shows and the lit tests check.
void dumpAST(const Module &module, const llvm::SourceMgr &sourceMgr,
             llvm::raw_ostream &os);

} // namespace attnc

#endif // ATTNC_FRONTEND_AST_H
