//===- MappedPackage.cpp - a .kiln file mapped into memory and checked ----===//

#include "runtime/format/MappedPackage.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln::package;
using Kind = OpenError::Kind;

std::unique_ptr<MappedPackage> MappedPackage::open(const std::string &path,
                                                   OpenError &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = {errno == ENOENT ? Kind::NotFound : Kind::Unreadable,
             path + ": cannot open: " + std::strerror(errno)};
    return nullptr;
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    error = {Kind::Unreadable, path + ": not a regular file"};
    return nullptr;
  }
  std::unique_ptr<MappedPackage> package(new MappedPackage());
  package->size_ = static_cast<uint64_t>(info.st_size);
  if (package->size_ >= sizeof(FileHeader)) {
    void *mapped =
        mmap(nullptr, package->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
      ::close(fd);
      error = {Kind::OutOfMemory,
               path + ": cannot map: " + std::strerror(errno)};
      return nullptr;
    }
    package->base_ = static_cast<const uint8_t *>(mapped);
  }
  ::close(fd);
  if (!package->check(path, error))
    return nullptr;
  return package;
}

MappedPackage::~MappedPackage() {
  if (base_)
    munmap(const_cast<uint8_t *>(base_), size_);
}

bool MappedPackage::check(const std::string &path, OpenError &error) {
  auto fail = [&](Kind kind, const std::string &why) {
    error = {kind, path + ": " + why};
    return false;
  };
  FileHeader header;
  if (!base_)
    return fail(Kind::Corrupt,
                "not a Kiln package (too short for a header)");
  std::memcpy(&header, base_, sizeof(header));
  if (std::memcmp(header.magic, kMagic, sizeof(header.magic)) != 0)
    return fail(Kind::Corrupt, "not a Kiln package (bad magic)");
  if (header.formatVersion != kFormatVersion)
    return fail(Kind::OtherVersion,
                "package format version " +
                    std::to_string(header.formatVersion) +
                    "; this runtime reads version " +
                    std::to_string(kFormatVersion) +
                    " (recompile the model with a matching kiln)");
  uint32_t headerCrc = header.headerCrc;
  header.headerCrc = 0;
  if (crc32c(&header, sizeof(header)) != headerCrc)
    return fail(Kind::Corrupt, "the package header is corrupt");
  if (header.fileSize != size_)
    return fail(Kind::Corrupt,
                size_ < header.fileSize
                    ? "the package is truncated (" + std::to_string(size_) +
                          " of " + std::to_string(header.fileSize) + " bytes)"
                    : "the package has " +
                          std::to_string(size_ - header.fileSize) +
                          " unexpected trailing bytes");

  uint64_t tableBytes = uint64_t(header.sectionCount) * sizeof(SectionEntry);
  if (header.sectionCount > 1024 ||
      sizeof(header) + tableBytes > size_)
    return fail(Kind::Corrupt, "the section table is out of bounds");
  const uint8_t *table = base_ + sizeof(header);
  if (crc32c(table, tableBytes) != header.tableCrc)
    return fail(Kind::Corrupt, "the section table is corrupt");
  sections_.resize(header.sectionCount);
  std::memcpy(sections_.data(), table, tableBytes);

  for (const SectionEntry &entry : sections_) {
    std::string name = sectionKindName(entry.kind);
    if (entry.offset > size_ || entry.size > size_ - entry.offset)
      return fail(Kind::Corrupt,
                  "the " + name + " section is out of bounds");
    if (crc32c(base_ + entry.offset, entry.size) != entry.crc)
      return fail(Kind::Corrupt,
                  "the " + name + " section is corrupt (checksum mismatch)");
  }

  uint64_t manifestSize = 0;
  const uint8_t *manifest = section(SectionKind::Manifest, manifestSize);
  if (!manifest)
    return fail(Kind::Corrupt, "the package has no manifest");
  std::string why;
  if (!parseManifest(manifest, manifestSize, manifest_, why))
    return fail(Kind::Corrupt, why);
  return true;
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
