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

/// Parses buffer `bufferId` of the diagnostics' source manager.
std::unique_ptr<Module> parseModule(unsigned bufferId, Diagnostics &diags);

} // namespace attnc

#endif // ATTNC_FRONTEND_PARSER_H
