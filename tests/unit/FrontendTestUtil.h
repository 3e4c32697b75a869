//===- FrontendTestUtil.h - Parse and analyze strings in tests --*- C++ -*-===//
//
// Holds a SourceMgr with one buffer and captures the diagnostics text, so a
// test can parse or analyze a snippet and assert on the exact message.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TESTS_UNIT_FRONTENDTESTUTIL_H
#define ATTNC_TESTS_UNIT_FRONTENDTESTUTIL_H

#include "attnc/Frontend/Parser.h"
#include "attnc/Frontend/Sema.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <memory>
#include <string>

namespace attnc::test {

/// One snippet of .attn source with its diagnostics.
class Snippet {
public:
  explicit Snippet(const std::string &text)
      : stream(messages), diags(sourceMgr, stream) {
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(text, "test.attn"), llvm::SMLoc());
  }

  std::unique_ptr<Module> parse() {
    return parseModule(sourceMgr.getMainFileID(), diags);
  }

  /// Parses and analyzes; keeps the AST alive for the returned unit.
  std::unique_ptr<CompileUnit> analyze() {
    ast = parse();
    if (!ast)
      return nullptr;
    return attnc::analyze(*ast, diags);
  }

  /// Everything reported so far.
  std::string output() {
    stream.flush();
    return messages;
  }

  /// The first line reported, e.g. "test.attn:2:3: error: ...".
  std::string firstLine() {
    std::string all = output();
    return all.substr(0, all.find('\n'));
  }

private:
  std::string messages;
  llvm::raw_string_ostream stream;
  llvm::SourceMgr sourceMgr;
  Diagnostics diags;
  std::unique_ptr<Module> ast;
};

} // namespace attnc::test

#endif // ATTNC_TESTS_UNIT_FRONTENDTESTUTIL_H
