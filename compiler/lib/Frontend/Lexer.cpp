//===- Lexer.cpp - Tokens of the .attn language ---------------------------===//
//
// A hand-written scanner: identifiers and keywords, decimal integers (checked
// for overflow), floats with optional exponent, double-quoted strings without
// escapes other than \" and \\, operators, and comments.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>

using namespace attnc;

llvm::StringRef attnc::spell(TokenKind kind) {
  switch (kind) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Error:
    return "invalid token";
  case TokenKind::Identifier:
    return "identifier";
  case TokenKind::Integer:
    return "integer";
  case TokenKind::Float:
    return "number";
  case TokenKind::String:
    return "string";
  case TokenKind::KwConst:
    return "'const'";
  case TokenKind::KwTarget:
    return "'target'";
  case TokenKind::KwDtype:
    return "'dtype'";
  case TokenKind::KwAttention:
    return "'attention'";
  case TokenKind::KwEncoderLayer:
    return "'encoder_layer'";
  case TokenKind::KwDecoderLayer:
    return "'decoder_layer'";
  case TokenKind::KwModel:
    return "'model'";
  case TokenKind::KwTrue:
    return "'true'";
  case TokenKind::KwFalse:
    return "'false'";
  case TokenKind::LBrace:
    return "'{'";
  case TokenKind::RBrace:
    return "'}'";
  case TokenKind::LParen:
    return "'('";
  case TokenKind::RParen:
    return "')'";
  case TokenKind::LBracket:
    return "'['";
  case TokenKind::RBracket:
    return "']'";
  case TokenKind::Comma:
    return "','";
  case TokenKind::Semicolon:
    return "';'";
  case TokenKind::Assign:
    return "'='";
  case TokenKind::Plus:
    return "'+'";
  case TokenKind::Minus:
    return "'-'";
  case TokenKind::Star:
    return "'*'";
  case TokenKind::Slash:
    return "'/'";
  case TokenKind::Percent:
    return "'%'";
  case TokenKind::Amp:
    return "'&'";
  case TokenKind::AmpAmp:
    return "'&&'";
  case TokenKind::PipePipe:
    return "'||'";
  case TokenKind::Bang:
    return "'!'";
  case TokenKind::EqEq:
    return "'=='";
  case TokenKind::NotEq:
    return "'!='";
  case TokenKind::Less:
    return "'<'";
  case TokenKind::LessEq:
    return "'<='";
  case TokenKind::Greater:
    return "'>'";
  case TokenKind::GreaterEq:
    return "'>='";
  }
  return "token";
}

Lexer::Lexer(llvm::StringRef buffer) : cur(buffer.begin()), end(buffer.end()) {}

Token Lexer::make(TokenKind kind, const char *start) {
  Token tok;
  tok.kind = kind;
  tok.text = llvm::StringRef(start, cur - start);
  return tok;
}

Token Lexer::error(const char *start, const std::string &message) {
  Token tok = make(TokenKind::Error, start);
  tok.stringValue = message;
  return tok;
}

void Lexer::skipSpaceAndComments() {
  while (cur < end) {
    if (std::isspace(static_cast<unsigned char>(*cur))) {
      ++cur;
    } else if (*cur == '#' || (*cur == '/' && cur + 1 < end && cur[1] == '/')) {
      while (cur < end && *cur != '\n')
        ++cur;
    } else {
      return;
    }
  }
}

Token Lexer::next() {
  skipSpaceAndComments();
  const char *start = cur;
  if (cur >= end)
    return make(TokenKind::Eof, start);

  char c = *cur++;
  if (std::isalpha(static_cast<unsigned char>(c)) || c == '_')
    return lexIdentifier(start);
  if (std::isdigit(static_cast<unsigned char>(c)) ||
      (c == '.' && cur < end && std::isdigit(static_cast<unsigned char>(*cur))))
    return lexNumber(start);
  if (c == '"')
    return lexString(start);

  auto twoChar = [&](char second, TokenKind two, TokenKind one) {
    if (cur < end && *cur == second) {
      ++cur;
      return make(two, start);
    }
    return make(one, start);
  };
  switch (c) {
  case '{':
    return make(TokenKind::LBrace, start);
  case '}':
    return make(TokenKind::RBrace, start);
  case '(':
    return make(TokenKind::LParen, start);
  case ')':
    return make(TokenKind::RParen, start);
  case '[':
    return make(TokenKind::LBracket, start);
  case ']':
    return make(TokenKind::RBracket, start);
  case ',':
    return make(TokenKind::Comma, start);
  case ';':
    return make(TokenKind::Semicolon, start);
  case '+':
    return make(TokenKind::Plus, start);
  case '-':
    return make(TokenKind::Minus, start);
  case '*':
    return make(TokenKind::Star, start);
  case '/':
    return make(TokenKind::Slash, start);
  case '%':
    return make(TokenKind::Percent, start);
  case '=':
    return twoChar('=', TokenKind::EqEq, TokenKind::Assign);
  case '!':
    return twoChar('=', TokenKind::NotEq, TokenKind::Bang);
  case '<':
    return twoChar('=', TokenKind::LessEq, TokenKind::Less);
  case '>':
    return twoChar('=', TokenKind::GreaterEq, TokenKind::Greater);
  case '&':
    return twoChar('&', TokenKind::AmpAmp, TokenKind::Amp);
  case '|':
    if (cur < end && *cur == '|') {
      ++cur;
      return make(TokenKind::PipePipe, start);
    }
    return error(start, "expected '||'; a single '|' is not an operator");
  default:
    break;
  }
  // Swallow a whole UTF-8 sequence so the caret points at one character.
  while (cur < end && (static_cast<unsigned char>(*cur) & 0xC0) == 0x80)
    ++cur;
  if (std::isprint(static_cast<unsigned char>(c)))
    return error(start, std::string("unexpected character '") + c + "'");
  return error(start, "unexpected character (byte 0x" +
                          llvm::utohexstr(static_cast<unsigned char>(c)) + ")");
}

Token Lexer::lexIdentifier(const char *start) {
  while (cur < end &&
         (std::isalnum(static_cast<unsigned char>(*cur)) || *cur == '_'))
    ++cur;
  llvm::StringRef text(start, cur - start);
  TokenKind kind = llvm::StringSwitch<TokenKind>(text)
                       .Case("const", TokenKind::KwConst)
                       .Case("target", TokenKind::KwTarget)
                       .Case("dtype", TokenKind::KwDtype)
                       .Case("attention", TokenKind::KwAttention)
                       .Case("encoder_layer", TokenKind::KwEncoderLayer)
                       .Case("decoder_layer", TokenKind::KwDecoderLayer)
                       .Case("model", TokenKind::KwModel)
                       .Case("true", TokenKind::KwTrue)
                       .Case("false", TokenKind::KwFalse)
                       .Default(TokenKind::Identifier);
  return make(kind, start);
}

Token Lexer::lexNumber(const char *start) {
  bool isFloat = *start == '.'; // `.5`: next() consumed the point.
  auto digits = [&] {
    while (cur < end && std::isdigit(static_cast<unsigned char>(*cur)))
      ++cur;
  };
  digits();
  if (cur < end && *cur == '.') {
    isFloat = true;
    ++cur;
    digits();
  }
  if (cur < end && (*cur == 'e' || *cur == 'E')) {
    isFloat = true;
    ++cur;
    if (cur < end && (*cur == '+' || *cur == '-'))
      ++cur;
    if (cur >= end || !std::isdigit(static_cast<unsigned char>(*cur)))
      return error(start, "expected digits in the exponent of a number");
    digits();
  }
  if (cur < end &&
      (std::isalpha(static_cast<unsigned char>(*cur)) || *cur == '_')) {
    while (cur < end &&
           (std::isalnum(static_cast<unsigned char>(*cur)) || *cur == '_'))
      ++cur;
    return error(start,
                 "invalid number '" + std::string(start, cur - start) + "'");
  }
  Token tok = make(isFloat ? TokenKind::Float : TokenKind::Integer, start);
  std::string text = tok.text.str();
  errno = 0;
  if (isFloat) {
    tok.floatValue = std::strtod(text.c_str(), nullptr);
    if (errno == ERANGE)
      return error(start, "number '" + text + "' is out of range");
  } else {
    unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
    if (errno == ERANGE || value > static_cast<unsigned long long>(INT64_MAX))
      return error(start, "integer '" + text + "' does not fit in 64 bits");
    tok.intValue = static_cast<int64_t>(value);
  }
  return tok;
}

Token Lexer::lexString(const char *start) {
  std::string value;
  while (cur < end && *cur != '"' && *cur != '\n') {
    if (*cur == '\\' && cur + 1 < end && (cur[1] == '"' || cur[1] == '\\'))
      ++cur;
    value.push_back(*cur++);
  }
  if (cur >= end || *cur != '"')
    return error(start, "unterminated string");
  ++cur;
  Token tok = make(TokenKind::String, start);
  tok.stringValue = std::move(value);
  return tok;
}
