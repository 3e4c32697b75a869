//===- Lexer.h - Tokens of the .attn language -------------------*- C++ -*-===//
//
// The lexer turns a .attn buffer into tokens. It never fails hard: a bad
// character becomes an Error token whose location the parser reports. Both
// `#` and `//` start a comment that runs to the end of the line. Locations are
// llvm::SMLoc pointers into the buffer owned by an llvm::SourceMgr, so every
// diagnostic can print file:line:col with the source line and a caret.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_LEXER_H
#define ATTNC_FRONTEND_LEXER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

#include <cstdint>
#include <string>

namespace attnc {

/// Every kind of token the .attn grammar uses (see docs/dsl.md).
enum class TokenKind {
  Eof,
  Error, ///< A character or literal the lexer could not read.
  Identifier,
  Integer,
  Float,
  String,
  // Keywords.
  KwConst,
  KwTarget,
  KwDtype,
  KwAttention,
  KwEncoderLayer,
  KwDecoderLayer,
  KwModel,
  KwTrue,
  KwFalse,
  // Punctuation and operators.
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Semicolon,
  Assign,    ///< =
  Plus,      ///< +
  Minus,     ///< -
  Star,      ///< *
  Slash,     ///< /
  Percent,   ///< %
  Amp,       ///< &  (mask intersection)
  AmpAmp,    ///< &&
  PipePipe,  ///< ||
  Bang,      ///< !
  EqEq,      ///< ==
  NotEq,     ///< !=
  Less,      ///< <
  LessEq,    ///< <=
  Greater,   ///< >
  GreaterEq, ///< >=
};

/// Human-readable spelling of a token kind, for "expected X" diagnostics.
llvm::StringRef spell(TokenKind kind);

/// One token: its kind, its text in the buffer, and its decoded value.
struct Token {
  TokenKind kind = TokenKind::Eof;
  llvm::StringRef text; ///< Points into the source buffer.
  int64_t intValue = 0;
  double floatValue = 0;
  std::string stringValue; ///< Decoded string literal, or the error message.

  llvm::SMLoc loc() const { return llvm::SMLoc::getFromPointer(text.data()); }
  bool is(TokenKind k) const { return kind == k; }
};

/// Produces tokens one at a time from a NUL-terminated buffer.
class Lexer {
public:
  explicit Lexer(llvm::StringRef buffer);

  /// Lexes and returns the next token; Eof forever at the end.
  Token next();

private:
  void skipSpaceAndComments();
  Token make(TokenKind kind, const char *start);
  Token error(const char *start, const std::string &message);
  Token lexNumber(const char *start);
  Token lexIdentifier(const char *start);
  Token lexString(const char *start);

  const char *cur;
  const char *end;
};

} // namespace attnc

#endif // ATTNC_FRONTEND_LEXER_H
