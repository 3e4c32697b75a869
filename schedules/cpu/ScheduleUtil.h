//===- ScheduleUtil.h - Helpers shared by the CPU schedules -----*- C++ -*-===//

#ifndef ATTNC_SCHEDULES_CPU_SCHEDULEUTIL_H
#define ATTNC_SCHEDULES_CPU_SCHEDULEUTIL_H

#include <algorithm>
#include <cstdint>

namespace attnc::schedules {

/// The tile to use along a static extent `limit`: `want` rounded down to a
/// multiple of `quantum` (at least one quantum), or the whole extent when it
/// is smaller than a quantum.
inline int fitTile(int64_t want, int64_t limit, int64_t quantum) {
  if (limit <= quantum)
    return int(limit);
  int64_t tile = std::min(want, limit);
  tile = std::max<int64_t>(quantum, tile / quantum * quantum);
  return int(tile);
}

} // namespace attnc::schedules

#endif // ATTNC_SCHEDULES_CPU_SCHEDULEUTIL_H
