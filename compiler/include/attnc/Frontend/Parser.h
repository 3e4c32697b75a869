//===- Parser.h - Recursive-descent parser for .attn ------------*- C++ -*-===//
//
// Parses one buffer into an AST. The grammar is in docs/dsl.md. The parser
// stops at the first syntax error, reports it with its location, and returns
// null; it never throws and never aborts on malformed input.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_PARSER_H
#define ATTNC_FRONTEND_PARSER_H

#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Diagnostics.h"

#include <memory>

namespace attnc {

/// Most operands and operators in the value of one constant or field. It
/// bounds the depth of every expression tree, and so every recursive walk
/// over one (documented under Limits in docs/dsl.md).
constexpr unsigned kMaxExpressionTerms = 1000;

/// Parses buffer `bufferId` of the diagnostics' source manager.
std::unique_ptr<Module> parseModule(unsigned bufferId, Diagnostics &diags);

} // namespace attnc

#endif // ATTNC_FRONTEND_PARSER_H
