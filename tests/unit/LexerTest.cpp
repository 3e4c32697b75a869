//===- LexerTest.cpp - Tokens of the .attn language -----------------------===//

#include "attnc/Frontend/Lexer.h"

#include "gtest/gtest.h"

#include <vector>

using namespace attnc;

namespace {

std::vector<Token> lexAll(llvm::StringRef text) {
  Lexer lexer(text);
  std::vector<Token> tokens;
  do {
    tokens.push_back(lexer.next());
  } while (!tokens.back().is(TokenKind::Eof) &&
           !tokens.back().is(TokenKind::Error));
  return tokens;
}

std::vector<TokenKind> kinds(llvm::StringRef text) {
  std::vector<TokenKind> result;
  for (const Token &tok : lexAll(text))
    result.push_back(tok.kind);
  return result;
}

TEST(Lexer, KeywordsAndIdentifiers) {
  EXPECT_EQ(kinds("const target dtype attention encoder_layer decoder_layer "
                  "model true false heads _x9"),
            (std::vector<TokenKind>{
                TokenKind::KwConst, TokenKind::KwTarget, TokenKind::KwDtype,
                TokenKind::KwAttention, TokenKind::KwEncoderLayer,
                TokenKind::KwDecoderLayer, TokenKind::KwModel,
                TokenKind::KwTrue, TokenKind::KwFalse, TokenKind::Identifier,
                TokenKind::Identifier, TokenKind::Eof}));
}

TEST(Lexer, OperatorsPreferTheLongestMatch) {
  EXPECT_EQ(kinds("& && || ! != == = < <= > >= [ ] { } ( ) , ; + - * / %"),
            (std::vector<TokenKind>{
                TokenKind::Amp,       TokenKind::AmpAmp,    TokenKind::PipePipe,
                TokenKind::Bang,      TokenKind::NotEq,     TokenKind::EqEq,
                TokenKind::Assign,    TokenKind::Less,      TokenKind::LessEq,
                TokenKind::Greater,   TokenKind::GreaterEq, TokenKind::LBracket,
                TokenKind::RBracket,  TokenKind::LBrace,    TokenKind::RBrace,
                TokenKind::LParen,    TokenKind::RParen,    TokenKind::Comma,
                TokenKind::Semicolon, TokenKind::Plus,      TokenKind::Minus,
                TokenKind::Star,      TokenKind::Slash,     TokenKind::Percent,
                TokenKind::Eof}));
}

TEST(Lexer, NumbersCarryTheirValues) {
  std::vector<Token> tokens = lexAll("512 0.125 1e-5 .5 2E3");
  ASSERT_EQ(tokens.size(), 6u);
  EXPECT_EQ(tokens[0].kind, TokenKind::Integer);
  EXPECT_EQ(tokens[0].intValue, 512);
  EXPECT_EQ(tokens[1].kind, TokenKind::Float);
  EXPECT_DOUBLE_EQ(tokens[1].floatValue, 0.125);
  EXPECT_DOUBLE_EQ(tokens[2].floatValue, 1e-5);
  EXPECT_DOUBLE_EQ(tokens[3].floatValue, 0.5);
  EXPECT_DOUBLE_EQ(tokens[4].floatValue, 2000.0);
}

TEST(Lexer, CommentsOfBothStylesAreSkipped) {
  EXPECT_EQ(kinds("# hash comment\nconst // slash comment\n x"),
            (std::vector<TokenKind>{TokenKind::KwConst, TokenKind::Identifier,
                                    TokenKind::Eof}));
}

TEST(Lexer, StringsDecodeEscapes) {
  std::vector<Token> tokens = lexAll(R"("x86-64-linux" "a\"b")");
  ASSERT_EQ(tokens[0].kind, TokenKind::String);
  EXPECT_EQ(tokens[0].stringValue, "x86-64-linux");
  EXPECT_EQ(tokens[1].stringValue, "a\"b");
}

TEST(Lexer, ErrorsSayWhatIsWrong) {
  struct Case {
    const char *text;
    const char *message;
  } cases[] = {
      {"$", "unexpected character '$'"},
      {"12abc", "invalid number '12abc'"},
      {"1e+", "expected digits in the exponent of a number"},
      {"99999999999999999999", "integer '99999999999999999999' does not fit "
                               "in 64 bits"},
      {"\"open", "unterminated string"},
      {"a | b", "expected '||'; a single '|' is not an operator"},
      {"\xc3\x97", "unexpected character (byte 0xC3)"},
  };
  for (const Case &c : cases) {
    std::vector<Token> tokens = lexAll(c.text);
    ASSERT_EQ(tokens.back().kind, TokenKind::Error) << c.text;
    EXPECT_EQ(tokens.back().stringValue, c.message) << c.text;
  }
}

TEST(Lexer, LocationsPointIntoTheBuffer) {
  llvm::StringRef text = "const  heads";
  std::vector<Token> tokens = lexAll(text);
  EXPECT_EQ(tokens[1].loc().getPointer(), text.data() + 7);
  EXPECT_EQ(tokens[1].text, "heads");
}

TEST(Lexer, EofRepeats) {
  Lexer lexer("x");
  EXPECT_EQ(lexer.next().kind, TokenKind::Identifier);
  EXPECT_EQ(lexer.next().kind, TokenKind::Eof);
  EXPECT_EQ(lexer.next().kind, TokenKind::Eof);
}

} // namespace
