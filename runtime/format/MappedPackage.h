//===- MappedPackage.h - a .kiln file mapped into memory and checked -*- C++ -*-===//
//
// What both `kiln inspect` and the runtime open a package with: the file
// mapped read-only, its header, section table, checksums and manifest
// verified, its sections used in place.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_FORMAT_MAPPEDPACKAGE_H
#define KILN_RUNTIME_FORMAT_MAPPEDPACKAGE_H

#include "runtime/format/PackageFormat.h"

#include <memory>
#include <string>

namespace kiln::package {

/// Why a package could not be opened.
struct OpenError {
  enum class Kind {
    NotFound,         // no such file
    Unreadable,       // not a regular file, or it cannot be read
    OutOfMemory,      // it cannot be mapped
    Corrupt,          // truncated, corrupt, or not a package
    OtherVersion,     // another format version
  };
  Kind kind;
  /// One line, starting with the path.
  std::string message;
};

/// A package file mapped read-only and verified.
class MappedPackage {
public:
  /// Maps and checks `path`; null with `error` set if it cannot.
  static std::unique_ptr<MappedPackage> open(const std::string &path,
                                             OpenError &error);
  ~MappedPackage();
  MappedPackage(const MappedPackage &) = delete;
  MappedPackage &operator=(const MappedPackage &) = delete;

  const Manifest &manifest() const { return manifest_; }
  const std::vector<SectionEntry> &sections() const { return sections_; }
  uint64_t fileSize() const { return size_; }
  /// The bytes of the first section of `kind`, or null with size 0.
  const uint8_t *section(SectionKind kind, uint64_t &size) const;

private:
  MappedPackage() = default;
  bool check(const std::string &path, OpenError &error);

  const uint8_t *base_ = nullptr;
  uint64_t size_ = 0;
  std::vector<SectionEntry> sections_;
  Manifest manifest_;
};

} // namespace kiln::package

#endif // KILN_RUNTIME_FORMAT_MAPPEDPACKAGE_H
