//===- Parser.cpp - Recursive-descent parser for .attn --------------------===//
//
// One function per grammar rule of docs/dsl.md. Expressions use the usual
// precedence: `&` (mask intersection) < `||` < `&&` < comparisons < `+ -` <
// `* / %` < unary; `[a, b]` is a list. Sema decides where each may appear.
// Nesting is bounded so that adversarial input cannot exhaust the stack, and
// so is the size of each top-level expression (kMaxExpressionTerms operands
// and operators): a flat chain such as `1 + 1 + ...` builds a tree as deep as
// it is long, and every later recursive walk (Sema, MLIRGen, the AST dump,
// the destructors) then stays within that bound. The parser stops at the
// limit, so a partly built tree is bounded too.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/Parser.h"
#include "attnc/Frontend/Lexer.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace attnc;

namespace {

constexpr int kMaxNesting = 200;

class Parser {
public:
  Parser(llvm::StringRef buffer, Diagnostics &diags)
      : lexer(buffer), diags(diags) {
    advance();
  }

  std::unique_ptr<Module> parseModule(llvm::StringRef fileName);

private:
  // Token handling.
  void advance() { tok = lexer.next(); }
  /// The token after the current one, without consuming anything.
  Token peek() const {
    Lexer copy = lexer;
    return copy.next();
  }
  bool failed() const { return hadError; }
  bool fail(llvm::SMLoc loc, const llvm::Twine &message) {
    if (!hadError)
      diags.error(loc, message);
    hadError = true;
    return false;
  }
  /// Reports the current token as unexpected; lexer errors speak for
  /// themselves.
  bool failExpected(const llvm::Twine &what) {
    if (tok.is(TokenKind::Error))
      return fail(tok.loc(), tok.stringValue);
    std::string found = tok.is(TokenKind::Eof) ? std::string("end of file")
                                               : "'" + tok.text.str() + "'";
    return fail(tok.loc(), "expected " + what + ", found " + found);
  }
  bool expect(TokenKind kind, const llvm::Twine &context) {
    if (tok.is(kind)) {
      advance();
      return true;
    }
    return failExpected(spell(kind) + " " + context);
  }

  // Grammar rules.
  bool parseDecl(Module &module);
  bool parseConst(Decl &decl);
  bool parseTarget(Decl &decl);
  bool parseDtype(Decl &decl);
  bool parseBlock(Decl &decl, BlockKind kind);
  bool parseField(Field &field);
  /// Parses the whole value of a constant or a field, counting its terms.
  ExprPtr parseTopLevelExpr();
  /// Counts one operand or operator at the current token; fails past
  /// kMaxExpressionTerms.
  bool addTerm();
  ExprPtr parseExpr();
  ExprPtr parseIntersect();
  ExprPtr parseOr();
  ExprPtr parseAnd();
  ExprPtr parseComparison();
  ExprPtr parseAdditive();
  ExprPtr parseMultiplicative();
  ExprPtr parseUnary();
  ExprPtr parsePrimary();
  ExprPtr parseCall(Token name);

  Lexer lexer;
  Diagnostics &diags;
  Token tok;
  bool hadError = false;
  int depth = 0;
  unsigned terms = 0; ///< Operands and operators of the current expression.
};

/// Counts nesting for the duration of one recursive rule.
struct DepthGuard {
  explicit DepthGuard(int &depth) : depth(depth) { ++depth; }
  ~DepthGuard() { --depth; }
  int &depth;
};

} // namespace

std::unique_ptr<Module> Parser::parseModule(llvm::StringRef fileName) {
  auto module = std::make_unique<Module>();
  module->fileName = fileName.str();
  while (!tok.is(TokenKind::Eof)) {
    if (!parseDecl(*module))
      return nullptr;
  }
  return module;
}

bool Parser::parseDecl(Module &module) {
  Decl decl;
  decl.loc = tok.loc();
  switch (tok.kind) {
  case TokenKind::KwConst:
    decl.kind = Decl::Kind::Const;
    advance();
    if (!parseConst(decl))
      return false;
    break;
  case TokenKind::KwTarget:
    decl.kind = Decl::Kind::Target;
    advance();
    if (!parseTarget(decl))
      return false;
    break;
  case TokenKind::KwDtype:
    decl.kind = Decl::Kind::Dtype;
    advance();
    if (!parseDtype(decl))
      return false;
    break;
  case TokenKind::KwAttention:
  case TokenKind::KwEncoderLayer:
  case TokenKind::KwDecoderLayer:
  case TokenKind::KwModel: {
    BlockKind kind =
        tok.is(TokenKind::KwAttention)      ? BlockKind::Attention
        : tok.is(TokenKind::KwEncoderLayer) ? BlockKind::EncoderLayer
        : tok.is(TokenKind::KwDecoderLayer) ? BlockKind::DecoderLayer
                                            : BlockKind::Model;
    decl.kind = Decl::Kind::Block;
    advance();
    if (!parseBlock(decl, kind))
      return false;
    break;
  }
  default:
    return failExpected("a declaration (const, target, dtype, attention, "
                        "encoder_layer, decoder_layer or model)");
  }
  module.decls.push_back(std::move(decl));
  return true;
}

bool Parser::parseConst(Decl &decl) {
  if (!tok.is(TokenKind::Identifier))
    return failExpected("a constant name after 'const'");
  decl.name = tok.text.str();
  decl.nameLoc = tok.loc();
  advance();
  if (!expect(TokenKind::Assign, "after the constant's name"))
    return false;
  decl.value = parseTopLevelExpr();
  if (!decl.value)
    return false;
  return expect(TokenKind::Semicolon, "after the constant's value");
}

bool Parser::parseTarget(Decl &decl) {
  do {
    if (!tok.is(TokenKind::Identifier) && !tok.is(TokenKind::String))
      return failExpected("a target name or a quoted Halide target string");
    TargetItem item;
    item.isRawString = tok.is(TokenKind::String);
    item.text = item.isRawString ? tok.stringValue : tok.text.str();
    item.loc = tok.loc();
    decl.targets.push_back(std::move(item));
    advance();
    if (!tok.is(TokenKind::Comma))
      break;
    advance();
  } while (true);
  return expect(TokenKind::Semicolon, "after the target list");
}

bool Parser::parseDtype(Decl &decl) {
  if (!tok.is(TokenKind::Identifier))
    return failExpected("an element type (f32) after 'dtype'");
  decl.name = tok.text.str();
  decl.nameLoc = tok.loc();
  advance();
  return expect(TokenKind::Semicolon, "after the element type");
}

bool Parser::parseBlock(Decl &decl, BlockKind kind) {
  decl.blockKind = kind;
  if (!tok.is(TokenKind::Identifier))
    return failExpected("a name after '" + spell(kind) + "'");
  decl.name = tok.text.str();
  decl.nameLoc = tok.loc();
  advance();
  if (!expect(TokenKind::LBrace, "to open the body of '" + decl.name + "'"))
    return false;
  while (!tok.is(TokenKind::RBrace)) {
    if (tok.is(TokenKind::Eof))
      return fail(tok.loc(), "expected '}' to close '" + decl.name +
                                 "'; the file ended inside it");
    Field field;
    if (!parseField(field))
      return false;
    decl.fields.push_back(std::move(field));
  }
  advance();
  return true;
}

bool Parser::parseField(Field &field) {
  if (!tok.is(TokenKind::Identifier))
    return failExpected("a field name");
  field.name = tok.text.str();
  field.loc = tok.loc();
  advance();
  if (!expect(TokenKind::Assign, "after field '" + field.name + "'"))
    return false;
  field.value = parseTopLevelExpr();
  if (!field.value)
    return false;
  return expect(TokenKind::Semicolon,
                "after the value of field '" + field.name + "'");
}

ExprPtr Parser::parseTopLevelExpr() {
  terms = 0;
  return parseExpr();
}

bool Parser::addTerm() {
  if (++terms <= kMaxExpressionTerms)
    return true;
  return fail(tok.loc(), "expression has more than " +
                             llvm::Twine(kMaxExpressionTerms) +
                             " terms (operands and operators), the most "
                             "attnc accepts; split it with constants");
}

ExprPtr Parser::parseExpr() {
  DepthGuard guard(depth);
  if (depth > kMaxNesting) {
    fail(tok.loc(), "expression is nested too deeply");
    return nullptr;
  }
  return parseIntersect();
}

ExprPtr Parser::parseIntersect() {
  ExprPtr lhs = parseOr();
  while (lhs && tok.is(TokenKind::Amp)) {
    llvm::SMLoc loc = tok.loc();
    if (!addTerm())
      return nullptr;
    advance();
    ExprPtr rhs = parseOr();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, BinaryExpr::Op::Intersect,
                                       std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseOr() {
  ExprPtr lhs = parseAnd();
  while (lhs && tok.is(TokenKind::PipePipe)) {
    llvm::SMLoc loc = tok.loc();
    if (!addTerm())
      return nullptr;
    advance();
    ExprPtr rhs = parseAnd();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, BinaryExpr::Op::Or, std::move(lhs),
                                       std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseAnd() {
  ExprPtr lhs = parseComparison();
  while (lhs && tok.is(TokenKind::AmpAmp)) {
    llvm::SMLoc loc = tok.loc();
    if (!addTerm())
      return nullptr;
    advance();
    ExprPtr rhs = parseComparison();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, BinaryExpr::Op::And, std::move(lhs),
                                       std::move(rhs));
  }
  return lhs;
}

static bool comparisonOp(TokenKind kind, BinaryExpr::Op &op) {
  switch (kind) {
  case TokenKind::EqEq:
    op = BinaryExpr::Op::Eq;
    return true;
  case TokenKind::NotEq:
    op = BinaryExpr::Op::Ne;
    return true;
  case TokenKind::Less:
    op = BinaryExpr::Op::Lt;
    return true;
  case TokenKind::LessEq:
    op = BinaryExpr::Op::Le;
    return true;
  case TokenKind::Greater:
    op = BinaryExpr::Op::Gt;
    return true;
  case TokenKind::GreaterEq:
    op = BinaryExpr::Op::Ge;
    return true;
  default:
    return false;
  }
}

ExprPtr Parser::parseComparison() {
  ExprPtr lhs = parseAdditive();
  BinaryExpr::Op op;
  if (!lhs || !comparisonOp(tok.kind, op))
    return lhs;
  llvm::SMLoc loc = tok.loc();
  if (!addTerm())
    return nullptr;
  advance();
  ExprPtr rhs = parseAdditive();
  if (!rhs)
    return nullptr;
  BinaryExpr::Op chained;
  if (comparisonOp(tok.kind, chained)) {
    fail(tok.loc(), "comparisons do not chain; combine them with '&&'");
    return nullptr;
  }
  return std::make_unique<BinaryExpr>(loc, op, std::move(lhs), std::move(rhs));
}

ExprPtr Parser::parseAdditive() {
  ExprPtr lhs = parseMultiplicative();
  while (lhs && (tok.is(TokenKind::Plus) || tok.is(TokenKind::Minus))) {
    auto op =
        tok.is(TokenKind::Plus) ? BinaryExpr::Op::Add : BinaryExpr::Op::Sub;
    llvm::SMLoc loc = tok.loc();
    if (!addTerm())
      return nullptr;
    advance();
    ExprPtr rhs = parseMultiplicative();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, op, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseMultiplicative() {
  ExprPtr lhs = parseUnary();
  while (lhs && (tok.is(TokenKind::Star) || tok.is(TokenKind::Slash) ||
                 tok.is(TokenKind::Percent))) {
    auto op = tok.is(TokenKind::Star)    ? BinaryExpr::Op::Mul
              : tok.is(TokenKind::Slash) ? BinaryExpr::Op::Div
                                         : BinaryExpr::Op::Rem;
    llvm::SMLoc loc = tok.loc();
    if (!addTerm())
      return nullptr;
    advance();
    ExprPtr rhs = parseUnary();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, op, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseUnary() {
  if (tok.is(TokenKind::Minus) || tok.is(TokenKind::Bang)) {
    DepthGuard guard(depth);
    if (depth > kMaxNesting) {
      fail(tok.loc(), "expression is nested too deeply");
      return nullptr;
    }
    auto op =
        tok.is(TokenKind::Minus) ? UnaryExpr::Op::Neg : UnaryExpr::Op::Not;
    llvm::SMLoc loc = tok.loc();
    if (!addTerm())
      return nullptr;
    advance();
    ExprPtr operand = parseUnary();
    if (!operand)
      return nullptr;
    return std::make_unique<UnaryExpr>(loc, op, std::move(operand));
  }
  return parsePrimary();
}

ExprPtr Parser::parsePrimary() {
  Token t = tok;
  // Parentheses add no node; every other primary is one term.
  if (!t.is(TokenKind::LParen) && !addTerm())
    return nullptr;
  switch (t.kind) {
  case TokenKind::Integer:
    advance();
    return std::make_unique<IntExpr>(t.loc(), t.intValue);
  case TokenKind::Float:
    advance();
    return std::make_unique<FloatExpr>(t.loc(), t.floatValue);
  case TokenKind::String:
    advance();
    return std::make_unique<StringExpr>(t.loc(), t.stringValue);
  case TokenKind::KwTrue:
  case TokenKind::KwFalse:
    advance();
    return std::make_unique<BoolExpr>(t.loc(), t.is(TokenKind::KwTrue));
  case TokenKind::Identifier:
    advance();
    if (tok.is(TokenKind::LParen))
      return parseCall(t);
    return std::make_unique<NameExpr>(t.loc(), t.text.str());
  case TokenKind::LBracket: {
    advance();
    std::vector<ExprPtr> items;
    while (!tok.is(TokenKind::RBracket)) {
      ExprPtr item = parseExpr();
      if (!item)
        return nullptr;
      items.push_back(std::move(item));
      if (!tok.is(TokenKind::Comma))
        break;
      advance();
    }
    if (!expect(TokenKind::RBracket, "to close the list"))
      return nullptr;
    return std::make_unique<ListExpr>(t.loc(), std::move(items));
  }
  case TokenKind::LParen: {
    advance();
    ExprPtr inner = parseExpr();
    if (!inner)
      return nullptr;
    if (!expect(TokenKind::RParen, "to close the parenthesis"))
      return nullptr;
    return inner;
  }
  default:
    failExpected("a value");
    return nullptr;
  }
}

ExprPtr Parser::parseCall(Token name) {
  advance(); // '('
  std::vector<CallArg> args;
  if (!tok.is(TokenKind::RParen)) {
    do {
      CallArg arg;
      arg.loc = tok.loc();
      // `name = value` is a named argument; anything else is positional.
      if (tok.is(TokenKind::Identifier) && peek().is(TokenKind::Assign)) {
        arg.name = tok.text.str();
        advance();
        advance();
      }
      arg.value = parseExpr();
      if (!arg.value)
        return nullptr;
      args.push_back(std::move(arg));
      if (!tok.is(TokenKind::Comma))
        break;
      advance();
    } while (true);
  }
  if (!expect(TokenKind::RParen,
              "to close the arguments of '" + name.text + "'"))
    return nullptr;
  ExprPtr body;
  if (tok.is(TokenKind::LBrace)) {
    advance();
    body = parseExpr();
    if (!body)
      return nullptr;
    if (!expect(TokenKind::RBrace, "to close the body of '" + name.text + "'"))
      return nullptr;
  }
  return std::make_unique<CallExpr>(name.loc(), name.text.str(),
                                    std::move(args), std::move(body));
}

std::unique_ptr<Module> attnc::parseModule(unsigned bufferId,
                                           Diagnostics &diags) {
  const llvm::MemoryBuffer *buffer =
      diags.getSourceMgr().getMemoryBuffer(bufferId);
  Parser parser(buffer->getBuffer(), diags);
  return parser.parseModule(buffer->getBufferIdentifier());
}
