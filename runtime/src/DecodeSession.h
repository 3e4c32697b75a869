//===- DecodeSession.h - A decode function, one step at a time --*- C++ -*-===//
//
// Private to the runtime. Greedy decoding runs a model's decode function
// once per generated token. A session splits the function's values into
// those that depend only on the weights (prepared at load), those that
// depend only on the encoder's memory (invariant: computed once, when the
// session starts) and those that depend on the target tokens (per step).
// Every attention whose keys and values are per step keeps them in a cache
// of `capacity` positions and attends over the positions so far with
// q_offset = t.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_RUNTIME_DECODESESSION_H
#define ATTNC_RUNTIME_DECODESESSION_H

#include "Prepared.h"

#include <map>
#include <string>
#include <vector>

namespace attnc::runtime {

/// A decode function, ready to run one step at a time.
class DecodeSession {
public:
  /// `fixed`: the inputs that stay the same for every step (the encoder's
  /// memory, where the encoder left it, and the source lengths).
  /// `sourceLengths`: each sequence's source length where the function
  /// never lets a padded source position reach its outputs (else empty).
  DecodeSession(const Program &program, const Prepared &prepared,
                BufferPool &pool, const std::map<std::string, Storage> &fixed,
                int64_t batch, int64_t capacity,
                std::vector<int64_t> sourceLengths = {});

  /// Runs step t on `tokens` ([batch, 1]); returns the function's outputs.
  std::map<std::string, Storage> step(const Tensor &tokens, int64_t t);

private:
  enum class ValueClass { Static, Invariant, PerStep };

  struct Cache {
    Storage keys, values;
  };

  void classify(const std::map<std::string, Storage> &fixed);
  void execute(const Step &step, const CallContext &context);

  /// A linear step on the memory ([batch, src_len, in]) computed over each
  /// sequence's real positions only, its padded rows zeros: the memory's
  /// projections for cross-attention, which a padded batch of short
  /// sources would otherwise spend most of on padding. False (nothing
  /// done) where that does not apply.
  bool projectRealPositions(const Step &step,
                            const std::vector<Storage> &operands,
                            const CallContext &context,
                            std::vector<Storage> &results);

  const Program &program;
  const Function &f;
  const Prepared &prepared;
  BufferPool &pool;
  int64_t batch, capacity;
  std::vector<int64_t> sourceLengths;
  std::vector<ValueClass> classes;
  std::vector<Storage> values; ///< Static and invariant values.
  std::map<size_t, Cache> caches;
};

} // namespace attnc::runtime

#endif // ATTNC_RUNTIME_DECODESESSION_H
