//===- TempFile.h - Temporary files no other test process shares -*- C++
//-*-===//
//
// ctest runs the runtime tests in parallel, one process per test, and runs
// each test twice (plain and sanitized): two processes writing the same
// temporary weights file while a third maps it read a truncated tensor.
// tempPath puts the process id in every name, so each process has its own,
// and removes the files when the process exits.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TESTS_RUNTIME_TEMPFILE_H
#define ATTNC_TESTS_RUNTIME_TEMPFILE_H

#include "gtest/gtest.h"

#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

namespace attnc::test {

/// A path in gtest's temporary directory for `name`, private to this
/// process; the file is removed when the process exits.
inline std::string tempPath(const std::string &name) {
  struct RemovedAtExit {
    std::vector<std::string> paths;
    ~RemovedAtExit() {
      for (const std::string &path : paths)
        std::remove(path.c_str());
    }
  };
  static RemovedAtExit files;
  std::string path =
      ::testing::TempDir() + "/attnc_" + std::to_string(getpid()) + "_" + name;
  files.paths.push_back(path);
  return path;
}

} // namespace attnc::test

#endif // ATTNC_TESTS_RUNTIME_TEMPFILE_H
