//===- ASTDump.cpp - Textual dump of the .attn syntax tree ----------------===//
//
// One node per line, indented by depth, each with its `@line:col` location.
// This is what `attnc --emit=ast` prints and what the lit tests check, so the
// format changes only with the tests.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/AST.h"

#include "llvm/Support/Casting.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/SourceMgr.h"

using namespace attnc;

llvm::StringRef attnc::spell(BinaryExpr::Op op) {
  switch (op) {
  case BinaryExpr::Op::Add:
    return "+";
  case BinaryExpr::Op::Sub:
    return "-";
  case BinaryExpr::Op::Mul:
    return "*";
  case BinaryExpr::Op::Div:
    return "/";
  case BinaryExpr::Op::Rem:
    return "%";
  case BinaryExpr::Op::Eq:
    return "==";
  case BinaryExpr::Op::Ne:
    return "!=";
  case BinaryExpr::Op::Lt:
    return "<";
  case BinaryExpr::Op::Le:
    return "<=";
  case BinaryExpr::Op::Gt:
    return ">";
  case BinaryExpr::Op::Ge:
    return ">=";
  case BinaryExpr::Op::And:
    return "&&";
  case BinaryExpr::Op::Or:
    return "||";
  case BinaryExpr::Op::Intersect:
    return "&";
  }
  return "?";
}

llvm::StringRef attnc::spell(BlockKind kind) {
  switch (kind) {
  case BlockKind::Attention:
    return "attention";
  case BlockKind::EncoderLayer:
    return "encoder_layer";
  case BlockKind::DecoderLayer:
    return "decoder_layer";
  case BlockKind::Model:
    return "model";
  }
  return "block";
}

namespace {

class ASTDumper {
public:
  ASTDumper(const llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os)
      : sourceMgr(sourceMgr), os(os) {}

  void dump(const Module &module) {
    os << "Module \"" << module.fileName << "\"\n";
    for (const Decl &decl : module.decls)
      dump(decl, 1);
  }

private:
  llvm::raw_ostream &line(int depth) {
    os.indent(2 * depth);
    return os;
  }
  void loc(llvm::SMLoc where) {
    auto lineCol = sourceMgr.getLineAndColumn(where);
    os << " @" << lineCol.first << ":" << lineCol.second << "\n";
  }

  void dump(const Decl &decl, int depth) {
    switch (decl.kind) {
    case Decl::Kind::Const:
      line(depth) << "Const " << decl.name;
      loc(decl.nameLoc);
      dump(*decl.value, depth + 1);
      return;
    case Decl::Kind::Target:
      line(depth) << "Target";
      loc(decl.loc);
      for (const TargetItem &item : decl.targets) {
        if (item.isRawString)
          line(depth + 1) << "\"" << item.text << "\"";
        else
          line(depth + 1) << item.text;
        loc(item.loc);
      }
      return;
    case Decl::Kind::Dtype:
      line(depth) << "Dtype " << decl.name;
      loc(decl.nameLoc);
      return;
    case Decl::Kind::Block:
      line(depth) << spell(decl.blockKind) << " " << decl.name;
      loc(decl.nameLoc);
      for (const Field &field : decl.fields) {
        line(depth + 1) << "Field " << field.name;
        loc(field.loc);
        dump(*field.value, depth + 2);
      }
      return;
    }
  }

  void dump(const Expr &expr, int depth) {
    if (auto *e = llvm::dyn_cast<IntExpr>(&expr)) {
      line(depth) << "Int " << e->value;
    } else if (auto *e = llvm::dyn_cast<FloatExpr>(&expr)) {
      line(depth) << "Float " << llvm::format("%g", e->value);
    } else if (auto *e = llvm::dyn_cast<BoolExpr>(&expr)) {
      line(depth) << "Bool " << (e->value ? "true" : "false");
    } else if (auto *e = llvm::dyn_cast<NameExpr>(&expr)) {
      line(depth) << "Name " << e->name;
    } else if (auto *e = llvm::dyn_cast<StringExpr>(&expr)) {
      line(depth) << "String \"" << e->value << "\"";
    } else if (auto *e = llvm::dyn_cast<ListExpr>(&expr)) {
      line(depth) << "List";
      loc(expr.getLoc());
      for (const ExprPtr &item : e->items)
        dump(*item, depth + 1);
      return;
    } else if (auto *e = llvm::dyn_cast<UnaryExpr>(&expr)) {
      line(depth) << "Unary " << (e->op == UnaryExpr::Op::Neg ? "-" : "!");
      loc(expr.getLoc());
      dump(*e->operand, depth + 1);
      return;
    } else if (auto *e = llvm::dyn_cast<BinaryExpr>(&expr)) {
      line(depth) << "Binary " << spell(e->op);
      loc(expr.getLoc());
      dump(*e->lhs, depth + 1);
      dump(*e->rhs, depth + 1);
      return;
    } else if (auto *e = llvm::dyn_cast<CallExpr>(&expr)) {
      line(depth) << "Call " << e->callee;
      loc(expr.getLoc());
      for (const CallArg &arg : e->args) {
        if (arg.name.empty()) {
          dump(*arg.value, depth + 1);
          continue;
        }
        line(depth + 1) << "Arg " << arg.name;
        loc(arg.loc);
        dump(*arg.value, depth + 2);
      }
      if (e->body) {
        line(depth + 1) << "Body\n";
        dump(*e->body, depth + 2);
      }
      return;
    }
    loc(expr.getLoc());
  }

  const llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
};

} // namespace

void attnc::dumpAST(const Module &module, const llvm::SourceMgr &sourceMgr,
                    llvm::raw_ostream &os) {
  ASTDumper(sourceMgr, os).dump(module);
}
