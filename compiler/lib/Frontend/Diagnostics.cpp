//===- Diagnostics.cpp - Located messages for the front end ---------------===//
//
// Prints `file:line:col: kind: message`, the source line, and a caret whose
// indentation counts characters, not bytes, so that it lines up under
// UTF-8 text too (tabs are kept as tabs so they line up in any terminal).
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/Diagnostics.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace attnc;

void Diagnostics::print(llvm::SMLoc loc, llvm::SourceMgr::DiagKind kind,
                        const llvm::Twine &message) {
  const char *label = kind == llvm::SourceMgr::DK_Error     ? "error"
                      : kind == llvm::SourceMgr::DK_Warning ? "warning"
                                                            : "note";
  unsigned buffer = loc.isValid() ? sourceMgr.FindBufferContainingLoc(loc) : 0;
  if (!buffer) {
    os << label << ": " << message << "\n";
    return;
  }
  const llvm::MemoryBuffer *mem = sourceMgr.getMemoryBuffer(buffer);
  auto lineCol = sourceMgr.getLineAndColumn(loc, buffer);
  os << mem->getBufferIdentifier() << ":" << lineCol.first << ":"
     << lineCol.second << ": " << label << ": " << message << "\n";

  const char *begin = mem->getBufferStart(), *end = mem->getBufferEnd();
  const char *lineStart = loc.getPointer();
  while (lineStart > begin && lineStart[-1] != '\n' && lineStart[-1] != '\r')
    --lineStart;
  const char *lineEnd = loc.getPointer();
  while (lineEnd < end && *lineEnd != '\n' && *lineEnd != '\r')
    ++lineEnd;
  os << llvm::StringRef(lineStart, lineEnd - lineStart) << "\n";
  for (const char *p = lineStart; p < loc.getPointer(); ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    if ((c & 0xC0) == 0x80)
      continue; // A UTF-8 continuation byte adds no column.
    os << (c == '\t' ? '\t' : ' ');
  }
  os << "^\n";
}
