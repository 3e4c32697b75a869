//===- DeviceMemory.cpp - A block's copy in GPU memory --------------------===//

#include "DeviceMemory.h"
#include "Storage.h"

#include <algorithm>
#include <atomic>
#include <vector>

using namespace attnc;
using namespace attnc::runtime;

namespace {

std::atomic<int64_t> toDeviceCalls{0}, toDeviceBytes{0}, toHostCalls{0},
    toHostBytes{0};

void countToDevice(int64_t bytes) {
  toDeviceCalls += 1;
  toDeviceBytes += bytes;
}

void countToHost(int64_t bytes) {
  toHostCalls += 1;
  toHostBytes += bytes;
}

/// Elements [begin, end) of `block` as a one-dimensional buffer over its
/// host memory and (a crop of) its device allocation, if it has one.
class Range {
public:
  Range(Block &block, size_t begin, size_t end) {
    wholeDim = halide_dimension_t(-int32_t(begin), int32_t(block.size()), 1);
    whole = halide_buffer_t();
    whole.host = reinterpret_cast<uint8_t *>(block.base());
    whole.type = halide_type_t(halide_type_uint, 32);
    whole.dimensions = 1;
    whole.dim = &wholeDim;
    whole.device = block.device.handle;
    whole.device_interface = block.device.interface;
    dim = halide_dimension_t(0, int32_t(end - begin), 1);
    buffer = whole;
    buffer.dim = &dim;
    buffer.host += begin * 4;
    if (begin == 0 && end == block.size())
      return;
    buffer.device = 0;
    buffer.device_interface = nullptr;
    if (whole.device) {
      device::check(halide_device_crop(nullptr, &whole, &buffer),
                    "cropping device memory");
      cropped = true;
    }
  }
  ~Range() {
    if (cropped)
      halide_device_release_crop(nullptr, &buffer);
  }
  Range(const Range &) = delete;
  Range &operator=(const Range &) = delete;

  halide_buffer_t buffer;

private:
  halide_dimension_t wholeDim, dim;
  halide_buffer_t whole;
  bool cropped = false;
};

/// `buffer` shaped as `view` (innermost dimension first; the view's strides,
/// or dense ones), with no memory attached yet; `dims` holds the dimensions.
void describe(const Storage &view, halide_buffer_t &buffer,
              std::vector<halide_dimension_t> &dims, bool dense) {
  size_t rank = view.shape.size();
  dims.assign(std::max<size_t>(rank, 1), halide_dimension_t(0, 1, 1));
  int64_t stride = 1;
  for (size_t i = 0; i < rank; ++i) {
    size_t axis = rank - 1 - i;
    dims[i] = halide_dimension_t(0, int32_t(view.shape[axis]),
                                 int32_t(dense ? stride : view.strides[axis]));
    stride *= view.shape[axis];
  }
  buffer = halide_buffer_t();
  buffer.type = halide_type_t(halide_type_uint, 32);
  buffer.dimensions = int32_t(dims.size());
  buffer.dim = dims.data();
}

} // namespace

DeviceTransfers attnc::deviceTransfers() {
  DeviceTransfers counts;
  counts.toDeviceCalls = toDeviceCalls;
  counts.toDeviceBytes = toDeviceBytes;
  counts.toHostCalls = toHostCalls;
  counts.toHostBytes = toHostBytes;
  return counts;
}

void device::check(int status, const char *what) {
  if (status != 0)
    throw Error(std::string("device memory: ") + what +
                " failed: " + takeHalideError());
}

void device::release(Block &block) {
  if (block.device.handle) {
    Range whole(block, 0, block.size());
    halide_device_free(nullptr, &whole.buffer);
  }
  block.device = DeviceState();
}

bool device::newestOnDevice(const Block &block) {
  return block.device.handle && block.device.hostStale;
}

void device::makeHostCurrent(Block &block) {
  DeviceState &state = block.device;
  if (!state.handle || !state.hostStale)
    return;
  Range whole(block, 0, block.size());
  whole.buffer.set_device_dirty(true);
  check(halide_copy_to_host(nullptr, &whole.buffer), "copying to the host");
  countToHost(int64_t(block.size()) * 4);
  state.hostStale = false;
}

void device::hostWritten(Block &block, size_t begin, size_t end) {
  DeviceState &state = block.device;
  if (begin >= end)
    return;
  if (!state.deviceStale()) {
    state.staleBegin = begin;
    state.staleEnd = end;
  } else {
    state.staleBegin = std::min(state.staleBegin, begin);
    state.staleEnd = std::max(state.staleEnd, end);
  }
}

void device::makeDeviceCurrent(Block &block,
                               const halide_device_interface_t *target) {
  DeviceState &state = block.device;
  if (!state.handle) {
    Range whole(block, 0, block.size());
    check(halide_device_malloc(nullptr, &whole.buffer, target),
          "allocating device memory");
    state.handle = whole.buffer.device;
    state.interface = whole.buffer.device_interface;
  }
  if (!state.deviceStale())
    return;
  // Only what the host wrote goes up.
  Range written(block, state.staleBegin, state.staleEnd);
  written.buffer.set_host_dirty(true);
  check(halide_copy_to_device(nullptr, &written.buffer, state.interface),
        "copying to the device");
  countToDevice(int64_t(state.staleEnd - state.staleBegin) * 4);
  state.staleBegin = state.staleEnd = 0;
}

namespace {

/// Sets `buffer` (describing a view of `block` at element `offset`) to a
/// device crop of the block's allocation.
void cropInto(const Block &block, size_t offset, halide_buffer_t &buffer) {
  // The same dimensions, shifted so that the crop starts at the view: its
  // unit-stride dimension (every view has one) carries the offset.
  std::vector<halide_dimension_t> dims(buffer.dim,
                                       buffer.dim + buffer.dimensions);
  int unit = -1;
  for (int i = 0; i < buffer.dimensions && unit < 0; ++i)
    if (dims[size_t(i)].stride == 1)
      unit = i;
  if (unit < 0 && offset != 0)
    throw Error("internal error: a view at offset " + std::to_string(offset) +
                " without a unit-stride dimension");
  if (unit >= 0)
    dims[size_t(unit)].min -= int32_t(offset);
  halide_buffer_t whole = buffer;
  whole.dim = dims.data();
  whole.device = block.device.handle;
  whole.device_interface = block.device.interface;
  buffer.device = 0;
  buffer.device_interface = nullptr;
  device::check(halide_device_crop(nullptr, &whole, &buffer),
                "cropping device memory");
}

} // namespace

bool device::viewOnDevice(const Storage &view, const DeviceTarget &target,
                          halide_buffer_t &buffer) {
  if ((view.offset * 4) % target.viewAlignment != 0)
    return false;
  cropInto(*view.block, view.offset, buffer);
  buffer.set_host_dirty(false);
  buffer.set_device_dirty(view.block->device.hostStale);
  return true;
}

void device::releaseView(halide_buffer_t &buffer) {
  if (buffer.device)
    halide_device_release_crop(nullptr, &buffer);
  buffer.device = 0;
  buffer.device_interface = nullptr;
}

void device::afterKernel(const Storage &view, halide_buffer_t &buffer,
                         bool output, bool deviceDirtyBefore) {
  int64_t bytes = view.numel() * 4;
  if (!output) {
    // A stage on the host read the input: Halide brought it back.
    if (deviceDirtyBefore && !buffer.device_dirty())
      countToHost(bytes);
    return;
  }
  if (buffer.host_dirty()) {
    // A stage on the host wrote the output: keep the device copy current.
    check(halide_copy_to_device(nullptr, &buffer, buffer.device_interface),
          "copying to the device");
    countToDevice(bytes);
    return;
  }
  view.block->device.hostStale = true;
}

bool device::copyOnDevice(const Storage &destination, const Storage &source) {
  DeviceState &from = source.block->device;
  if (!from.handle || from.deviceStale())
    return false;
  // Only where it saves a transfer: the source is newest on the device, or
  // the destination lives there too.
  if (!from.hostStale && !destination.block->device.handle)
    return false;
  makeDeviceCurrent(*destination.block, from.interface);
  std::vector<halide_dimension_t> fromDims, toDims;
  halide_buffer_t fromBuffer, toBuffer;
  describe(source, fromBuffer, fromDims, /*dense=*/false);
  describe(destination, toBuffer, toDims, /*dense=*/false);
  cropInto(*source.block, source.offset, fromBuffer);
  cropInto(*destination.block, destination.offset, toBuffer);
  // Device to device: no host pointers for Halide to prefer.
  fromBuffer.set_device_dirty(true);
  int status =
      halide_buffer_copy(nullptr, &fromBuffer, from.interface, &toBuffer);
  releaseView(fromBuffer);
  releaseView(toBuffer);
  check(status, "copying on the device");
  destination.block->device.hostStale = true;
  return true;
}

bool device::downloadView(const Storage &view, void *dense) {
  if (!newestOnDevice(*view.block))
    return false;
  std::vector<halide_dimension_t> fromDims, toDims;
  halide_buffer_t fromBuffer, toBuffer;
  describe(view, fromBuffer, fromDims, /*dense=*/false);
  describe(view, toBuffer, toDims, /*dense=*/true);
  cropInto(*view.block, view.offset, fromBuffer);
  fromBuffer.set_device_dirty(true);
  toBuffer.host = static_cast<uint8_t *>(dense);
  int status = halide_buffer_copy(nullptr, &fromBuffer, nullptr, &toBuffer);
  releaseView(fromBuffer);
  check(status, "copying to the host");
  countToHost(view.numel() * 4);
  return true;
}
