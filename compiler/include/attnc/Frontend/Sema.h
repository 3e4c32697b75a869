//===- Sema.h - Checks a .attn AST and builds its specs ---------*- C++ -*-===//
//
// Sema folds constants, checks every field of every block against its rules,
// applies defaults, and resolves references between blocks. It reports every
// independent error it finds, each at the location of the offending text,
// and returns null if there was any.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_SEMA_H
#define ATTNC_FRONTEND_SEMA_H

#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Diagnostics.h"
#include "attnc/Frontend/Spec.h"

#include <memory>

namespace attnc {

/// Checks `module`. The returned unit points into `module`, which must
/// outlive it.
std::unique_ptr<CompileUnit> analyze(const Module &module, Diagnostics &diags);

} // namespace attnc

#endif // ATTNC_FRONTEND_SEMA_H
