//===- Package.h - a .kiln file mapped into memory and checked --*- C++ -*-===//

#ifndef KILN_RUNTIME_PACKAGE_H
#define KILN_RUNTIME_PACKAGE_H

#include "runtime/src/PackageFormat.h"
#include "runtime/src/Status.h"

#include <memory>

namespace kiln::runtime {

/// A package file mapped read-only, with its header, section table,
/// checksums and manifest verified. Sections are used in place.
class MappedPackage {
public:
  /// Maps and checks `path`. Fails with KILN_STATUS_NOT_FOUND,
  /// KILN_STATUS_DATA_LOSS (truncated, corrupt, not a package) or
  /// KILN_STATUS_UNIMPLEMENTED (another format version).
  static kiln_status_t open(const std::string &path,
                            std::unique_ptr<MappedPackage> &out_package);
  ~MappedPackage();

  const package::Manifest &manifest() const { return manifest_; }
  const std::vector<package::SectionEntry> &sections() const {
    return sections_;
  }
  uint64_t fileSize() const { return size_; }
  /// The bytes of the first section of `kind`, or null with size 0.
  const uint8_t *section(package::SectionKind kind, uint64_t &size) const;

private:
  MappedPackage() = default;
  kiln_status_t check(const std::string &path);

  const uint8_t *base_ = nullptr;
  uint64_t size_ = 0;
  std::vector<package::SectionEntry> sections_;
  package::Manifest manifest_;
};

} // namespace kiln::runtime

#endif // KILN_RUNTIME_PACKAGE_H
