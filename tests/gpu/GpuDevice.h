//===- GpuDevice.h - Is there a GPU to run on? ------------------*- C++ -*-===//
//
// GPU tests run only where their API's driver loads and reports a device:
// libcuda.so.1 for CUDA, an OpenCL ICD (PoCL on a machine without a GPU)
// for OpenCL. Elsewhere they print [SKIP] and exit with kSkipCode, which
// CTest reports as skipped (SKIP_RETURN_CODE), never as passed. The API is
// chosen at compile time: ATTNC_GPU_API_OPENCL, else CUDA.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_TESTS_GPU_GPUDEVICE_H
#define ATTNC_TESTS_GPU_GPUDEVICE_H

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

/// "" if an OpenCL platform with a device is usable, else why not. Halide's
/// OpenCL runtime loads the unversioned libOpenCL.so (ocl-icd-opencl-dev).
inline std::string whyNoOpenCLDevice() {
  void *icd = dlopen("libOpenCL.so", RTLD_NOW | RTLD_LOCAL);
  if (!icd)
    return "no OpenCL loader (libOpenCL.so not found; scripts/setup.sh "
           "installs ocl-icd-opencl-dev and pocl-opencl-icd)";
  using Platforms = int (*)(unsigned, void **, unsigned *);
  using Devices = int (*)(void *, unsigned long, unsigned, void **, unsigned *);
  auto platforms = reinterpret_cast<Platforms>(dlsym(icd, "clGetPlatformIDs"));
  auto devices = reinterpret_cast<Devices>(dlsym(icd, "clGetDeviceIDs"));
  void *platform = nullptr;
  unsigned numPlatforms = 0, numDevices = 0;
  const unsigned long kAllDevices = 0xFFFFFFFF; // CL_DEVICE_TYPE_ALL
  if (!platforms || !devices || platforms(1, &platform, &numPlatforms) != 0 ||
      numPlatforms == 0 ||
      devices(platform, kAllDevices, 0, nullptr, &numDevices) != 0 ||
      numDevices == 0)
    return "no OpenCL platform with a device";
  return "";
}

#ifdef ATTNC_GPU_API_OPENCL
constexpr const char *kGpuApi = "OpenCL";
inline std::string whyNoGpuDevice() { return whyNoOpenCLDevice(); }
#else
constexpr const char *kGpuApi = "CUDA";
inline std::string whyNoGpuDevice() { return whyNoCudaDevice(); }
#endif

} // namespace attnc::test

#endif // ATTNC_TESTS_GPU_GPUDEVICE_H
