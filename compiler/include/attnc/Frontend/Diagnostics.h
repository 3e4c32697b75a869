//===- Diagnostics.h - Located messages for the front end -------*- C++ -*-===//
//
// Every front-end message has the form `file:line:col: error: message`
// (columns count bytes, as in clang), followed by the source line and a caret
// under the offending character; unlike llvm::SourceMgr, the caret is kept on
// lines with non-ASCII text. The engine counts errors so drivers can exit
// with status 1.
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
             const llvm::Twine &message);

  const llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
  unsigned errors = 0;
};

} // namespace attnc

#endif // ATTNC_FRONTEND_DIAGNOSTICS_H
