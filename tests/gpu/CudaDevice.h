//===- CudaDevice.h - Is there a CUDA GPU to run on? ------------*- C++ -*-===//
//
// GPU tests run only where the driver (libcuda.so.1) loads and reports a
// device; elsewhere they print [SKIP] and exit with kSkipCode, which CTest
// reports as skipped (SKIP_RETURN_CODE), never as passed.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TESTS_GPU_CUDADEVICE_H
#define ATTNC_TESTS_GPU_CUDADEVICE_H

#include <dlfcn.h>

#include <string>

namespace attnc::test {

constexpr int kSkipCode = 77;

/// "" if a CUDA device is usable, else why not.
inline std::string whyNoCudaDevice() {
  void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!driver)
    return "no CUDA driver (libcuda.so.1 not found)";
  using Init = int (*)(unsigned);
  using Count = int (*)(int *);
  auto init = reinterpret_cast<Init>(dlsym(driver, "cuInit"));
  auto count = reinterpret_cast<Count>(dlsym(driver, "cuDeviceGetCount"));
  int devices = 0;
  if (!init || !count || init(0) != 0 || count(&devices) != 0 || devices == 0)
    return "the CUDA driver reports no device";
  return "";
}

} // namespace attnc::test

#endif // ATTNC_TESTS_GPU_CUDADEVICE_H
