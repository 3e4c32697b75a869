//===- Measure.h - Time one candidate in a child process --------*- C++ -*-===//
//
// Private to the tuner. A candidate is (kernel, shape class, parameters).
// Its child process builds and JIT-compiles it once, checks it against the
// plain-loop reference on a small odd-sized shape in each input layout it
// will be timed in, reports that it is ready, waits for the parent's go,
// then times every representative shape (compiling dominates the cost of a
// candidate, so one compile serves all lengths) and exits. The parent lets
// several children compile at once but times them one by one, and kills any
// that outlives the timeout.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_SCHEDULES_TUNER_MEASURE_H
#define ATTNC_SCHEDULES_TUNER_MEASURE_H

#include "attnc/Lowering/KernelSpec.h"
#include "attnc/Schedules/Params.h"

#include <map>
#include <string>
#include <vector>

namespace attnc::schedules {

/// Values of the dynamic dimensions ("rows", "batch", "q_len", ...).
using Shape = std::map<std::string, int64_t>;

/// "batch=1 kv_len=512 q_len=512".
std::string describeShape(const Shape &shape);

/// How an attention kernel's query, key and value arrive, as the runtime
/// passes them: attn-fuse-projections computes the projections that share
/// an input as one linear layer, and attention reads its operands as column
/// slices of that result, with its row stride.
enum class InputLayout {
  Dense,          ///< Each its own tensor (a decode step's key/value cache).
  PackedKeyValue, ///< Key and value slices of one [batch, kv_len, ...] tensor.
  PackedQKV,      ///< All three slices of one tensor (self-attention).
};

/// The layout a model hands `shape` to an attention kernel of
/// `shapeClass`: the decode variant reads the dense cache; otherwise equal
/// query and key lengths mean self-attention, and others cross-attention.
/// Dense for every other family.
InputLayout layoutFor(const kernels::KernelSpec &spec,
                      const std::string &shapeClass, const Shape &shape);

/// One configuration, compiled once and timed at every shape of `timed`.
struct Candidate {
  kernels::KernelSpec spec;
  std::string shapeClass;
  ScheduleParams params;
  std::vector<Shape> timed;
};

struct Outcome {
  std::string status = "failed";    ///< ok, wrong, failed, timeout
  std::vector<double> milliseconds; ///< Per timed shape, when ok.
  std::string detail;
};

/// Measures `candidates`, compiling up to `jobs` at a time.
std::vector<Outcome> measure(const std::vector<Candidate> &candidates,
                             const std::string &target, unsigned jobs,
                             int threads, double timeoutSeconds);

} // namespace attnc::schedules

#endif // ATTNC_SCHEDULES_TUNER_MEASURE_H
