//===- DeviceMemory.h - A block's copy in GPU memory ------------*- C++ -*-===//
//
// Private to the runtime. On a GPU target every block of values (weights,
// activations, the key/value cache) gets one device allocation the first
// time a kernel needs it, and two flags say which side holds its newest
// contents. Kernels read and write views of that allocation (Halide device
// crops); the host copy is refreshed only when the host reads it (a
// function's requested outputs, a CPU step) and the device copy only when
// the host wrote it (inputs, weights at load). Every copy between host and
// device goes through here and is counted (attnc::deviceTransfers(),
// ATTNC_PROFILE=1). On CPU targets nothing here allocates or copies.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_RUNTIME_DEVICEMEMORY_H
#define ATTNC_RUNTIME_DEVICEMEMORY_H

#include "HalideRuntime.h"

#include <cstddef>
#include <cstdint>

namespace attnc::runtime {

struct Block;
struct Storage;

/// The device side of a block.
struct DeviceState {
  const halide_device_interface_t *interface = nullptr; ///< Null: none yet.
  uint64_t handle = 0;    ///< halide_buffer_t::device of the whole block.
  bool hostStale = false; ///< The device holds newer contents.
  /// Elements [staleBegin, staleEnd) are newer on the host (written there
  /// since the last upload, or before any device allocation).
  size_t staleBegin = 0, staleEnd = 0;

  bool deviceStale() const { return staleEnd > staleBegin; }
};

/// Where kernels of a program run, and what their buffer views need.
struct DeviceTarget {
  /// Null for CPU targets.
  const halide_device_interface_t *interface = nullptr;
  /// The byte alignment a view's offset into its block must have to be
  /// passed to a kernel as it is (OpenCL creates a sub-buffer per offset
  /// view, and devices require aligned sub-buffers); others are copied.
  size_t viewAlignment = 4;
};

namespace device {

/// Frees the block's device allocation and forgets its contents (a pooled
/// block that nothing holds).
void release(Block &block);
/// The host copy of `block` made current (downloads if the device is newer).
void makeHostCurrent(Block &block);
/// Marks elements [begin, end) of `block` as written on the host (whose
/// copy must have been current).
void hostWritten(Block &block, size_t begin, size_t end);
/// The device copy of `block` allocated and made current (uploads if the
/// host is newer).
void makeDeviceCurrent(Block &block, const halide_device_interface_t *target);
/// Whether `block`'s newest contents are on the device.
bool newestOnDevice(const Block &block);

/// Sets `buffer` (already describing `view`'s host memory) to a device
/// crop of the view's block, whose device copy must be current. Returns
/// false if the view's offset is not aligned for `target` (the caller then
/// passes a dense copy). Release with releaseView.
bool viewOnDevice(const Storage &view, const DeviceTarget &target,
                  halide_buffer_t &buffer);
void releaseView(halide_buffer_t &buffer);
/// After a kernel call: records what it did to `view` through `buffer`
/// (its output written on the device, or copies Halide made itself).
/// `deviceDirtyBefore` is the buffer's device_dirty flag before the call.
void afterKernel(const Storage &view, halide_buffer_t &buffer, bool output,
                 bool deviceDirtyBefore);

/// Copies `source` into `destination` (same shape) on the device when the
/// source's newest contents are there; returns false (and copies nothing)
/// otherwise.
bool copyOnDevice(const Storage &destination, const Storage &source);
/// Copies just `view` (from the device, if that is where it is newest) into
/// `dense`, which holds view.numel() elements; returns false if the host
/// copy is current and the caller may read it directly.
bool downloadView(const Storage &view, void *dense);

/// Throws attnc::Error for a failed Halide runtime call.
void check(int status, const char *what);

} // namespace device
} // namespace attnc::runtime

#endif // ATTNC_RUNTIME_DEVICEMEMORY_H
