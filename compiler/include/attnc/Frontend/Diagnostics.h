//===- Diagnostics.h - Located messages for the front end -------*- C++ -*-===//
//
// Every front-end message is printed through llvm::SourceMgr, which gives the
// `file:line:col: error: message` form followed by the source line and a
// caret. The engine counts errors so drivers can exit with status 1.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_DIAGNOSTICS_H
#define ATTNC_FRONTEND_DIAGNOSTICS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace attnc {

/// Reports located errors, warnings and notes about one source manager.
class Diagnostics {
public:
  Diagnostics(const llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os)
      : sourceMgr(sourceMgr), os(os) {}

  void error(llvm::SMLoc loc, const llvm::Twine &message) {
    ++errors;
    print(loc, llvm::SourceMgr::DK_Error, message);
  }
  void warning(llvm::SMLoc loc, const llvm::Twine &message) {
    print(loc, llvm::SourceMgr::DK_Warning, message);
  }
  void note(llvm::SMLoc loc, const llvm::Twine &message) {
    print(loc, llvm::SourceMgr::DK_Note, message);
  }

  unsigned errorCount() const { return errors; }
  const llvm::SourceMgr &getSourceMgr() const { return sourceMgr; }

private:
  void print(llvm::SMLoc loc, llvm::SourceMgr::DiagKind kind,
             const llvm::Twine &message) {
    sourceMgr.PrintMessage(os, loc, kind, message);
  }

  const llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
  unsigned errors = 0;
};

} // namespace attnc

#endif // ATTNC_FRONTEND_DIAGNOSTICS_H
