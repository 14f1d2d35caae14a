//===- Package.cpp - a .kiln file mapped into memory and checked ----------===//

#include "runtime/src/Package.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::runtime;
using package::SectionEntry;
using package::SectionKind;

kiln_status_t MappedPackage::open(const std::string &path,
                                  std::unique_ptr<MappedPackage> &out_package) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return makeStatus(errno == ENOENT ? KILN_STATUS_NOT_FOUND
                                      : KILN_STATUS_INVALID_ARGUMENT,
                      path + ": cannot open: " + std::strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      path + ": not a regular file");
  }
  std::unique_ptr<MappedPackage> package(new MappedPackage());
  package->size_ = static_cast<uint64_t>(info.st_size);
  if (package->size_ >= sizeof(package::FileHeader)) {
    void *mapped =
        mmap(nullptr, package->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
      ::close(fd);
      return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                        path + ": cannot map: " + std::strerror(errno));
    }
    package->base_ = static_cast<const uint8_t *>(mapped);
  }
  ::close(fd);
  KILN_RETURN_IF_ERROR(package->check(path));
  out_package = std::move(package);
  return nullptr;
}

MappedPackage::~MappedPackage() {
  if (base_)
    munmap(const_cast<uint8_t *>(base_), size_);
}

kiln_status_t MappedPackage::check(const std::string &path) {
  auto fail = [&](kiln_status_code_t code, const std::string &why) {
    return makeStatus(code, path + ": " + why);
  };
  package::FileHeader header;
  if (!base_)
    return fail(KILN_STATUS_DATA_LOSS,
                "not a Kiln package (too short for a header)");
  std::memcpy(&header, base_, sizeof(header));
  if (std::memcmp(header.magic, package::kMagic, sizeof(header.magic)) != 0)
    return fail(KILN_STATUS_DATA_LOSS, "not a Kiln package (bad magic)");
  if (header.formatVersion != package::kFormatVersion)
    return fail(KILN_STATUS_UNIMPLEMENTED,
                "package format version " +
                    std::to_string(header.formatVersion) +
                    "; this runtime reads version " +
                    std::to_string(package::kFormatVersion) +
                    " (recompile the model with a matching kiln)");
  uint32_t headerCrc = header.headerCrc;
  header.headerCrc = 0;
  if (package::crc32c(&header, sizeof(header)) != headerCrc)
    return fail(KILN_STATUS_DATA_LOSS, "the package header is corrupt");
  if (header.fileSize != size_)
    return fail(KILN_STATUS_DATA_LOSS,
                size_ < header.fileSize
                    ? "the package is truncated (" + std::to_string(size_) +
                          " of " + std::to_string(header.fileSize) + " bytes)"
                    : "the package has " +
                          std::to_string(size_ - header.fileSize) +
                          " unexpected trailing bytes");

  uint64_t tableBytes = uint64_t(header.sectionCount) * sizeof(SectionEntry);
  if (header.sectionCount > 1024 ||
      sizeof(header) + tableBytes > size_)
    return fail(KILN_STATUS_DATA_LOSS, "the section table is out of bounds");
  const uint8_t *table = base_ + sizeof(header);
  if (package::crc32c(table, tableBytes) != header.tableCrc)
    return fail(KILN_STATUS_DATA_LOSS, "the section table is corrupt");
  sections_.resize(header.sectionCount);
  std::memcpy(sections_.data(), table, tableBytes);

  for (const SectionEntry &entry : sections_) {
    std::string name = package::sectionKindName(entry.kind);
    if (entry.offset > size_ || entry.size > size_ - entry.offset)
      return fail(KILN_STATUS_DATA_LOSS,
                  "the " + name + " section is out of bounds");
    if (package::crc32c(base_ + entry.offset, entry.size) != entry.crc)
      return fail(KILN_STATUS_DATA_LOSS,
                  "the " + name + " section is corrupt (checksum mismatch)");
  }

  uint64_t manifestSize = 0;
  const uint8_t *manifest = section(SectionKind::Manifest, manifestSize);
  if (!manifest)
    return fail(KILN_STATUS_DATA_LOSS, "the package has no manifest");
  std::string error;
  if (!package::parseManifest(manifest, manifestSize, manifest_, error))
    return fail(KILN_STATUS_DATA_LOSS, error);
  return nullptr;
}

const uint8_t *MappedPackage::section(SectionKind kind, uint64_t &size) const {
  for (const SectionEntry &entry : sections_)
    if (entry.kind == static_cast<uint32_t>(kind)) {
      size = entry.size;
      return base_ + entry.offset;
    }
  size = 0;
  return nullptr;
}
