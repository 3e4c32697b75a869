//===- ShapeUtils.h - Small helpers for shape rules -------------*- C++ -*-===//
//
// Private to the dialect library: dimension queries that treat unranked
// values and dynamic sizes as "unknown", and printing of shapes for
// messages ("[?, ?, 512]").
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LIB_DIALECT_ATTN_SHAPEUTILS_H
#define ATTNC_LIB_DIALECT_ATTN_SHAPEUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <string>

namespace attnc {
namespace attn {

constexpr int64_t kUnknown = mlir::ShapedType::kDynamicSize;

/// The ranked tensor type of `v`, or null if unranked.
inline mlir::RankedTensorType rankedType(mlir::Value v) {
  return v ? v.getType().dyn_cast<mlir::RankedTensorType>() : nullptr;
}

/// Dimension `i` of `v` (negative counts from the end), or kUnknown.
inline int64_t dimOf(mlir::Value v, int64_t i) {
  auto type = rankedType(v);
  if (!type)
    return kUnknown;
  int64_t rank = type.getRank();
  if (i < 0)
    i += rank;
  if (i < 0 || i >= rank)
    return kUnknown;
  return type.getDimSize(i);
}

/// True unless both sizes are known and differ.
inline bool compatible(int64_t a, int64_t b) {
  return a == kUnknown || b == kUnknown || a == b;
}

/// The known one of two compatible sizes.
inline int64_t merge(int64_t a, int64_t b) { return a == kUnknown ? b : a; }

/// "[?, ?, 512]" or "[*]".
inline std::string shapeString(mlir::Type type) {
  auto ranked = type.dyn_cast<mlir::RankedTensorType>();
  if (!ranked)
    return "[*]";
  std::string text = "[";
  for (int64_t i = 0; i < ranked.getRank(); ++i) {
    if (i)
      text += ", ";
    int64_t d = ranked.getDimSize(i);
    text += d == kUnknown ? "?" : std::to_string(d);
  }
  return text + "]";
}

/// "?" or the number.
inline std::string dimString(int64_t d) {
  return d == kUnknown ? "?" : std::to_string(d);
}

} // namespace attn
} // namespace attnc

#endif // ATTNC_LIB_DIALECT_ATTN_SHAPEUTILS_H
