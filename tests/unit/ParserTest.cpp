//===- ParserTest.cpp - Recursive-descent parser for .attn ----------------===//

#include "FrontendTestUtil.h"

#include "llvm/Support/Casting.h"
#include "gtest/gtest.h"

using namespace attnc;
using attnc::test::Snippet;

namespace {

/// The value of the only constant of `source`.
const Expr &constValue(Snippet &snippet, std::unique_ptr<Module> &module) {
  module = snippet.parse();
  EXPECT_TRUE(module) << snippet.output();
  return *module->decls.at(0).value;
}

/// Renders an expression with full parentheses, to check its shape.
std::string render(const Expr &expr) {
  if (auto *e = llvm::dyn_cast<IntExpr>(&expr))
    return std::to_string(e->value);
  if (auto *e = llvm::dyn_cast<NameExpr>(&expr))
    return e->name;
  if (auto *e = llvm::dyn_cast<UnaryExpr>(&expr))
    return std::string(e->op == UnaryExpr::Op::Neg ? "-" : "!") +
           render(*e->operand);
  if (auto *e = llvm::dyn_cast<BinaryExpr>(&expr))
    return "(" + render(*e->lhs) + " " + spell(e->op).str() + " " +
           render(*e->rhs) + ")";
  if (auto *e = llvm::dyn_cast<CallExpr>(&expr)) {
    std::string text = e->callee + "(";
    for (size_t i = 0; i < e->args.size(); ++i)
      text += (i ? ", " : "") +
              (e->args[i].name.empty() ? "" : e->args[i].name + "=") +
              render(*e->args[i].value);
    return text + ")" + (e->body ? "{" + render(*e->body) + "}" : "");
  }
  if (auto *e = llvm::dyn_cast<ListExpr>(&expr)) {
    std::string text = "[";
    for (size_t i = 0; i < e->items.size(); ++i)
      text += (i ? ", " : "") + render(*e->items[i]);
    return text + "]";
  }
  return "?";
}

std::string parseConst(const std::string &expr) {
  Snippet snippet("const x = " + expr + ";");
  std::unique_ptr<Module> module;
  return render(constValue(snippet, module));
}

TEST(Parser, ArithmeticPrecedence) {
  EXPECT_EQ(parseConst("1 + 2 * 3 - 4"), "((1 + (2 * 3)) - 4)");
  EXPECT_EQ(parseConst("(1 + 2) * 3 % 4"), "(((1 + 2) * 3) % 4)");
  EXPECT_EQ(parseConst("-a / -b"), "(-a / -b)");
}

TEST(Parser, LogicalPrecedence) {
  EXPECT_EQ(parseConst("a < b || c == d && !e"),
            "((a < b) || ((c == d) && !e))");
}

TEST(Parser, IntersectionBindsLoosest) {
  EXPECT_EQ(parseConst("causal & window(4 * 2) & key_padding"),
            "((causal & window((4 * 2))) & key_padding)");
}

TEST(Parser, CallsListsAndBodies) {
  EXPECT_EQ(parseConst("ffn(d * 4, gelu, bias = false)"),
            "ffn((d * 4), gelu, bias=?)");
  EXPECT_EQ(parseConst("[softcap(30), alibi]"), "[softcap(30), alibi]");
  EXPECT_EQ(parseConst("predicate(b, h, q, k) { k <= q || k < 16 }"),
            "predicate(b, h, q, k){((k <= q) || (k < 16))}");
}

TEST(Parser, BlocksKeepFieldsInOrder) {
  Snippet snippet("attention a {\n  heads = 8;\n  mask = causal;\n}\n"
                  "model m { d_model = 64; }");
  std::unique_ptr<Module> module = snippet.parse();
  ASSERT_TRUE(module) << snippet.output();
  ASSERT_EQ(module->decls.size(), 2u);
  const Decl &attention = module->decls[0];
  EXPECT_EQ(attention.kind, Decl::Kind::Block);
  EXPECT_EQ(attention.blockKind, BlockKind::Attention);
  EXPECT_EQ(attention.name, "a");
  ASSERT_EQ(attention.fields.size(), 2u);
  EXPECT_EQ(attention.fields[0].name, "heads");
  EXPECT_EQ(attention.fields[1].name, "mask");
  EXPECT_EQ(module->decls[1].blockKind, BlockKind::Model);
}

TEST(Parser, TargetsTakeNamesAndStrings) {
  Snippet snippet("target host, \"arm-64-linux\";");
  std::unique_ptr<Module> module = snippet.parse();
  ASSERT_TRUE(module);
  const Decl &decl = module->decls[0];
  ASSERT_EQ(decl.targets.size(), 2u);
  EXPECT_FALSE(decl.targets[0].isRawString);
  EXPECT_EQ(decl.targets[1].text, "arm-64-linux");
  EXPECT_TRUE(decl.targets[1].isRawString);
}

TEST(Parser, ReportsTheFirstErrorWithItsLocation) {
  Snippet snippet("const x = 3\nconst y = 4;");
  EXPECT_FALSE(snippet.parse());
  EXPECT_EQ(snippet.output(),
            "test.attn:2:1: error: expected ';' after the constant's value, "
            "found 'const'\nconst y = 4;\n^\n");
}

TEST(Parser, CaretCountsCharactersNotBytes) {
  Snippet snippet("# \xc3\xa9t\xc3\xa9\nconst \xc3\xa9 = 1;");
  EXPECT_FALSE(snippet.parse());
  // The error is at byte column 7 but character column 7 too; the caret
  // lines up under the two-byte character.
  EXPECT_EQ(snippet.output(), "test.attn:2:7: error: unexpected character "
                              "(byte 0xC3)\nconst \xc3\xa9 = 1;\n      ^\n");
}

TEST(Parser, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '(');
  Snippet snippet("const x = " + deep + "1;");
  EXPECT_FALSE(snippet.parse());
  EXPECT_NE(snippet.firstLine().find("error: expression is nested too deeply"),
            std::string::npos);
}

TEST(Parser, EmptyFileIsAnEmptyModule) {
  Snippet snippet("# nothing but a comment\n");
  std::unique_ptr<Module> module = snippet.parse();
  ASSERT_TRUE(module);
  EXPECT_TRUE(module->decls.empty());
}

} // namespace
