//===- Diagnostics.h - Located messages for the front end -------*- C++ -*-===//
//
// Every front-end message has the form `file:line:col: error: message`
// (columns count bytes, as in clang), followed by the source line and a caret
// under the offending character; unlike llvm::SourceMgr, the caret is kept on
// lines with non-ASCII text. A line longer than kMaxQuotedColumns is quoted
// as a window around the column, with "..." where it is cut. Each message is
// built in memory and written at once. After kMaxReportedErrors errors the
// engine prints one "too many errors; stopping" line and stays silent, but
// keeps counting, so drivers can still exit with status 1.
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
  /// Errors printed before the engine stops reporting.
  static constexpr unsigned kMaxReportedErrors = 20;
  /// Longest part of a source line quoted under a message, in bytes.
  static constexpr unsigned kMaxQuotedColumns = 120;

  Diagnostics(const llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os)
      : sourceMgr(sourceMgr), os(os) {}

  /// Reports an error, unless kMaxReportedErrors were reported already.
  void error(llvm::SMLoc loc, const llvm::Twine &message);
  /// Reports a warning, unless reporting has stopped.
  void warning(llvm::SMLoc loc, const llvm::Twine &message) {
    if (!stopped())
      print(loc, llvm::SourceMgr::DK_Warning, message);
  }
  /// Reports a note about the previous message, unless reporting has
  /// stopped.
  void note(llvm::SMLoc loc, const llvm::Twine &message) {
    if (!stopped())
      print(loc, llvm::SourceMgr::DK_Note, message);
  }

  /// Every error, reported or not.
  unsigned errorCount() const { return errors; }
  /// True once the error cap was hit; later messages are dropped.
  bool stopped() const { return errors > kMaxReportedErrors; }
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
