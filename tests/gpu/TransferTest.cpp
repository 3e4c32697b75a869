//===- TransferTest.cpp - What a GPU model copies between host and device -===//
//
// A model on a GPU target uploads its weights once at load and keeps every
// intermediate value and its key/value cache on the device, so one greedy
// decoding step moves only the new token ids (and the target lengths the
// masks read, one int32 per sequence each) in and the logits out. Counted
// by the runtime (attnc::deviceTransfers()) on the tiny golden model; runs
// in attnc-{cuda,opencl}-golden-tests next to GoldenTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "attnc/Runtime.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <string>

extern "C" const attnc_registry ATTNC_GOLDEN_REGISTRY;

using namespace attnc;

namespace {

std::string goldenDir() {
  const char *dir = std::getenv("ATTNC_GOLDEN_DIR");
  return dir ? dir : ATTNC_GOLDEN_DIR;
}

DeviceTransfers operator-(const DeviceTransfers &a, const DeviceTransfers &b) {
  DeviceTransfers d;
  d.toDeviceCalls = a.toDeviceCalls - b.toDeviceCalls;
  d.toDeviceBytes = a.toDeviceBytes - b.toDeviceBytes;
  d.toHostCalls = a.toHostCalls - b.toHostCalls;
  d.toHostBytes = a.toHostBytes - b.toHostBytes;
  return d;
}

} // namespace

TEST(DeviceResident, WeightsGoUpOnceAndADecodeStepMovesOnlyTokensAndLogits) {
  Weights weights = Weights::load(goldenDir() + "/tiny.safetensors");
  DeviceTransfers start = deviceTransfers();
  Model model = Model::load(ATTNC_GOLDEN_REGISTRY, weights);
  DeviceTransfers load = deviceTransfers() - start;
  EXPECT_EQ(load.toDeviceCalls, 1) << "the weights, in one block";
  EXPECT_GT(load.toDeviceBytes, 100000);
  EXPECT_EQ(load.toHostCalls, 0);

  const int64_t batch = 2, vocab = 20; // tests/golden/tiny.attn
  Tensor src = Tensor::i32({batch, 6}, {3, 4, 5, 6, 7, 2, 8, 9, 10, 2, 0, 0});
  Tensor srcLengths = Tensor::i32({batch}, {6, 4});
  // steps[n]: the transfers of a whole greedy decode of n steps (eos = -1:
  // no sequence ends early).
  DeviceTransfers steps[4];
  for (int64_t n = 1; n <= 3; ++n) {
    DecodeOptions options;
    options.eos = -1;
    options.maxSteps = n;
    DeviceTransfers before = deviceTransfers();
    DecodeResult result = model.greedyDecode(src, srcLengths, options);
    steps[n] = deviceTransfers() - before;
    ASSERT_EQ(result.tokens[0].size(), size_t(n));
  }
  // Encoding and the decoder's fixed inputs: source tokens and lengths in
  // (the encoder's memory stays on the device); the first step's logits out.
  EXPECT_LE(steps[1].toDeviceCalls, 5);
  EXPECT_EQ(steps[1].toHostCalls, 1);
  EXPECT_EQ(steps[1].toHostBytes, batch * vocab * 4);
  for (int64_t n = 2; n <= 3; ++n) {
    SCOPED_TRACE("step " + std::to_string(n - 1));
    DeviceTransfers step = steps[n] - steps[n - 1];
    EXPECT_EQ(step.toDeviceCalls, 2) << "token ids and target lengths";
    EXPECT_EQ(step.toDeviceBytes, 2 * batch * 4);
    EXPECT_EQ(step.toHostCalls, 1) << "the logits";
    EXPECT_EQ(step.toHostBytes, batch * vocab * 4);
  }
}
