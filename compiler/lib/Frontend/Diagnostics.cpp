//===- Diagnostics.cpp - Located messages for the front end ---------------===//
//
// Prints `file:line:col: kind: message`, the source line, and a caret whose
// indentation counts characters, not bytes, so that it lines up under
// UTF-8 text too (tabs are kept as tabs so they line up in any terminal).
// Long lines are quoted as a window of at most kMaxQuotedColumns bytes
// around the column, cut on character boundaries and marked with "...".
// Each message is assembled in a string and written with one call, so an
// unbuffered stream such as llvm::errs() makes one write per message.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/Diagnostics.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace attnc;

namespace {

/// True for the second and later bytes of a UTF-8 character.
bool isContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

/// The part of [lineStart, lineEnd) to quote for a message at `at`: all of
/// it if it is short, else a window that holds `at`, on character
/// boundaries.
std::pair<const char *, const char *>
quotedWindow(const char *lineStart, const char *lineEnd, const char *at) {
  const size_t width = Diagnostics::kMaxQuotedColumns;
  if (size_t(lineEnd - lineStart) <= width)
    return {lineStart, lineEnd};
  const char *start =
      at - lineStart > ptrdiff_t(width / 2) ? at - width / 2 : lineStart;
  const char *end =
      lineEnd - start > ptrdiff_t(width) ? start + width : lineEnd;
  if (end == lineEnd)
    start = lineEnd - width;
  while (start > lineStart && start < at && isContinuation(*start))
    ++start;
  while (end < lineEnd && end > at && isContinuation(*end))
    --end;
  return {start, end};
}

/// Appends the quoted source line and the caret line for `at`.
void quoteLine(std::string &out, const char *begin, const char *end,
               const char *at) {
  const char *lineStart = at;
  while (lineStart > begin && lineStart[-1] != '\n' && lineStart[-1] != '\r')
    --lineStart;
  const char *lineEnd = at;
  while (lineEnd < end && *lineEnd != '\n' && *lineEnd != '\r')
    ++lineEnd;
  auto [start, stop] = quotedWindow(lineStart, lineEnd, at);
  const char *cutMark = "...";
  if (start > lineStart)
    out += cutMark;
  out.append(start, stop);
  if (stop < lineEnd)
    out += cutMark;
  out += '\n';
  if (start > lineStart)
    out += "   "; // Under the leading "...".
  for (const char *p = start; p < at; ++p) {
    if (isContinuation(*p))
      continue; // A UTF-8 continuation byte adds no column.
    out += *p == '\t' ? '\t' : ' ';
  }
  out += "^\n";
}

} // namespace

void Diagnostics::error(llvm::SMLoc loc, const llvm::Twine &message) {
  ++errors;
  if (errors <= kMaxReportedErrors)
    print(loc, llvm::SourceMgr::DK_Error, message);
  else if (errors == kMaxReportedErrors + 1)
    os << "error: too many errors; stopping\n";
}

void Diagnostics::print(llvm::SMLoc loc, llvm::SourceMgr::DiagKind kind,
                        const llvm::Twine &message) {
  const char *label = kind == llvm::SourceMgr::DK_Error     ? "error"
                      : kind == llvm::SourceMgr::DK_Warning ? "warning"
                                                            : "note";
  std::string text;
  llvm::raw_string_ostream line(text);
  unsigned buffer = loc.isValid() ? sourceMgr.FindBufferContainingLoc(loc) : 0;
  if (!buffer) {
    line << label << ": " << message << "\n";
    os << line.str();
    return;
  }
  const llvm::MemoryBuffer *mem = sourceMgr.getMemoryBuffer(buffer);
  auto lineCol = sourceMgr.getLineAndColumn(loc, buffer);
  line << mem->getBufferIdentifier() << ":" << lineCol.first << ":"
       << lineCol.second << ": " << label << ": " << message << "\n";
  line.flush();
  quoteLine(text, mem->getBufferStart(), mem->getBufferEnd(), loc.getPointer());
  os << text;
}
