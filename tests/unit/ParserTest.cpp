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

/// `const x = 1 + 1 + ...;` with `operands` ones: 2 * operands - 1 terms.
std::string flatChain(size_t operands, const std::string &tail = ";") {
  std::string text = "const x = 1";
  for (size_t i = 1; i < operands; ++i)
    text += " + 1";
  return text + tail;
}

TEST(Parser, ExpressionsHoldAtMostTheirLimitOfTerms) {
  Snippet ok(flatChain(kMaxExpressionTerms / 2) + "\nconst y = -1 - 1;");
  EXPECT_TRUE(ok.parse()) << ok.output();
  // The limit is per expression, not per file.
  Snippet twice(flatChain(kMaxExpressionTerms / 2) + "\n" +
                flatChain(kMaxExpressionTerms / 2));
  EXPECT_TRUE(twice.parse()) << twice.output();
  Snippet over(flatChain(kMaxExpressionTerms / 2 + 1));
  EXPECT_FALSE(over.parse());
  // The 1001st term is the last '1', at column 11 + 4 * 500.
  EXPECT_EQ(over.firstLine(),
            "test.attn:1:2011: error: expression has more than 1000 terms "
            "(operands and operators), the most attnc accepts; split it with "
            "constants");
}

TEST(Parser, AHugeChainWithASyntaxErrorFreesCleanly) {
  // Once built a 600,000-deep tree whose recursive destructors overflowed
  // the stack; the parser now stops at the limit.
  Snippet snippet(flatChain(300000, " +;"));
  EXPECT_FALSE(snippet.parse());
  EXPECT_NE(snippet.firstLine().find("expression has more than 1000 terms"),
            std::string::npos)
      << snippet.firstLine();
}

TEST(Parser, LongLinesAreQuotedAsAWindowOnCharacterBoundaries) {
  // 300 two-byte characters in a string, then a bad character; the window
  // starts inside a character and must move to the next one.
  std::string accents;
  for (int i = 0; i < 300; ++i)
    accents += "\xc3\xa9";
  Snippet snippet("const x = \"" + accents + "\"  $ 1;");
  EXPECT_FALSE(snippet.parse());
  std::string out = snippet.output();
  size_t quoted = out.find('\n') + 1;
  size_t caret = out.find('\n', quoted) + 1;
  std::string line = out.substr(quoted, caret - quoted - 1);
  std::string caretLine = out.substr(caret, out.find('\n', caret) - caret);
  EXPECT_EQ(out.substr(0, quoted - 1),
            "test.attn:1:615: error: unexpected character '$'");
  // The window is cut on a character boundary after "...", holds the bad
  // character and the rest of the (short) tail, and is at most 120 bytes.
  ASSERT_EQ(line.substr(0, 3), "...");
  EXPECT_NE(static_cast<unsigned char>(line[3]) & 0xC0, 0x80u);
  EXPECT_LE(line.size(), 3u + Diagnostics::kMaxQuotedColumns);
  EXPECT_EQ(line.substr(line.size() - 7), "\"  $ 1;");
  // The caret is under the '$': three columns for "...", then one per
  // character.
  size_t columns = 3;
  for (size_t i = 3; i < line.size() - 4; ++i)
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80)
      ++columns;
  EXPECT_EQ(caretLine, std::string(columns, ' ') + "^");
}

TEST(Parser, EmptyFileIsAnEmptyModule) {
  Snippet snippet("# nothing but a comment\n");
  std::unique_ptr<Module> module = snippet.parse();
  ASSERT_TRUE(module);
  EXPECT_TRUE(module->decls.empty());
}

} // namespace
