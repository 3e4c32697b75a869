//===- Manifest.h - The manifest's format name and version ------*- C++ -*-===//
//
// The compiler writes manifest.json (Emit.cpp) and the runtime reads it
// (runtime/src/Program.cpp); both take the format name and version from
// here, and the runtime refuses a manifest of another version instead of
// guessing. Bump the version whenever a reader of the previous one would
// misread the new one. The schema is docs/manifest.md.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LOWERING_MANIFEST_H
#define ATTNC_LOWERING_MANIFEST_H

namespace attnc {

/// The "format" field of every manifest.
constexpr const char *kManifestFormat = "attnc-manifest";
/// The "version" field: 2 added function kinds and argument roles.
constexpr int kManifestVersion = 2;

} // namespace attnc

#endif // ATTNC_LOWERING_MANIFEST_H
