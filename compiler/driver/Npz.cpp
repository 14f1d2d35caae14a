//===- Npz.cpp - NumPy .npz archives --------------------------------------===//
//
// A .npz file is a zip archive of .npy files. numpy.savez stores them
// uncompressed and, writing through zipfile with force_zip64, puts the
// sizes in ZIP64 extra fields: the archive is read from its central
// directory (the end-of-central-directory record, ZIP64 when its counts or
// offset overflow), each entry's data found after its local header.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Npy.h"

#include <cstring>
#include <fstream>
#include <iterator>

using namespace mlir::kiln;

namespace {

/// Little-endian reads that fail past the end.
struct Reader {
  const std::string &bytes;
  bool ok = true;

  uint64_t read(uint64_t at, unsigned size) {
    if (at + size > bytes.size() || at + size < at) {
      ok = false;
      return 0;
    }
    uint64_t value = 0;
    for (unsigned i = 0; i < size; ++i)
      value |= uint64_t(uint8_t(bytes[at + i])) << (8 * i);
    return value;
  }
};

constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr uint32_t kDirectoryEntry = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;

} // namespace

bool mlir::kiln::readNpz(const std::string &path,
                         std::vector<std::pair<std::string, NpyArray>> &arrays,
                         std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::string bytes((std::istreambuf_iterator<char>(file)),
                    std::istreambuf_iterator<char>());
  auto fail = [&](const std::string &why) {
    error = path + ": " + why;
    return false;
  };
  Reader in{bytes};

  // The end-of-central-directory record: the last 22 bytes unless a
  // comment (up to 64 KB) follows it.
  if (bytes.size() < 22)
    return fail("not a .npz file (too short for a zip archive)");
  uint64_t end = bytes.size() - 22;
  uint64_t lowest = bytes.size() > 22 + 65535 ? bytes.size() - 22 - 65535 : 0;
  while (in.read(end, 4) != kEndOfDirectory) {
    if (end == lowest)
      return fail("not a .npz file (no zip directory)");
    --end;
  }
  uint64_t entries = in.read(end + 10, 2);
  uint64_t directory = in.read(end + 16, 4);
  if (entries == 0xFFFF || directory == 0xFFFFFFFF) {
    if (end < 20 || in.read(end - 20, 4) != kZip64Locator)
      return fail("a ZIP64 archive without its locator");
    uint64_t record = in.read(end - 12, 8);
    if (in.read(record, 4) != kZip64EndOfDirectory)
      return fail("a ZIP64 archive without its directory record");
    entries = in.read(record + 32, 8);
    directory = in.read(record + 48, 8);
  }
  if (!in.ok)
    return fail("the zip directory is truncated");

  arrays.clear();
  uint64_t at = directory;
  for (uint64_t i = 0; i < entries; ++i) {
    if (in.read(at, 4) != kDirectoryEntry)
      return fail("the zip directory is malformed");
    uint64_t method = in.read(at + 10, 2);
    uint64_t compressed = in.read(at + 20, 4);
    uint64_t size = in.read(at + 24, 4);
    uint64_t nameLength = in.read(at + 28, 2);
    uint64_t extraLength = in.read(at + 30, 2);
    uint64_t commentLength = in.read(at + 32, 2);
    uint64_t local = in.read(at + 42, 4);
    if (!in.ok || at + 46 + nameLength > bytes.size())
      return fail("the zip directory is truncated");
    std::string name = bytes.substr(at + 46, nameLength);
    // ZIP64: the fields that overflowed, in this order, in extra 0x0001.
    uint64_t extra = at + 46 + nameLength, extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      uint64_t id = in.read(extra, 2), length = in.read(extra + 2, 2);
      uint64_t field = extra + 4;
      if (id == 1) {
        for (uint64_t *value : {&size, &compressed, &local})
          if (*value == 0xFFFFFFFF) {
            *value = in.read(field, 8);
            field += 8;
          }
      }
      extra += 4 + length;
    }
    at = extraEnd + commentLength;
    if (!in.ok)
      return fail("the zip directory is truncated");
    if (method != 0)
      return fail("'" + name +
                  "' is compressed; Kiln reads the stored .npz files that "
                  "numpy.savez writes (not numpy.savez_compressed)");
    if (in.read(local, 4) != kLocalHeader)
      return fail("'" + name + "' has no local header");
    uint64_t data =
        local + 30 + in.read(local + 26, 2) + in.read(local + 28, 2);
    if (!in.ok || data + size > bytes.size() || size != compressed)
      return fail("'" + name + "' is truncated");
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
      name.resize(name.size() - 4);
    NpyArray array;
    if (!parseNpy(bytes.substr(data, size), path + ": '" + name + "'", array,
                  error))
      return false;
    arrays.emplace_back(name, std::move(array));
  }
  return true;
}
