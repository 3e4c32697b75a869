//===- ErrorText.h - The message a runtime call fails with ------*- C++ -*-===//
//
// The runtime tests check refusals by their words (the tensor, the shape,
// the file): errorOf runs a body and returns what the attnc::Error it threw
// says, or "" when it threw nothing.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TESTS_RUNTIME_ERRORTEXT_H
#define ATTNC_TESTS_RUNTIME_ERRORTEXT_H

#include "attnc/Runtime.h"

#include <string>

namespace attnc::test {

template <class F> std::string errorOf(F &&body) {
  try {
    body();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace attnc::test

#endif // ATTNC_TESTS_RUNTIME_ERRORTEXT_H
