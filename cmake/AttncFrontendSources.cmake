# The compiler's sources from .attn text to optimized attn IR (lexer, parser,
# Sema, dialect, passes, MLIRGen), relative to compiler/lib: one list for
# the compiler library (compiler/lib/CMakeLists.txt) and the front-end fuzz
# target (tests/fuzz, a project of its own built with clang).
set(ATTNC_FRONTEND_SOURCES
  Frontend/ASTDump.cpp
  Frontend/Diagnostics.cpp
  Frontend/Lexer.cpp
  Frontend/Prelude.cpp
  Frontend/Parser.cpp
  Frontend/Sema.cpp
  Frontend/SemaExpr.cpp
  Frontend/SemaFields.cpp
  Frontend/SemaScore.cpp
  Dialect/Attn/AttnCanonicalize.cpp
  Dialect/Attn/AttnDialect.cpp
  Dialect/Attn/AttnOps.cpp
  Dialect/Attn/AttnShapeInference.cpp
  Transforms/FuseProjections.cpp
  Transforms/Pipeline.cpp
  Transforms/ShapeInference.cpp
  MLIRGen/MLIRGen.cpp
  MLIRGen/PredicateGen.cpp)
