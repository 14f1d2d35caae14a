//===- GgufMetadata.cpp - the key/value metadata of a GGUF file -----------===//

#include "compiler/llm/GgufMetadata.h"

#include <cstring>
#include <fstream>

using namespace kiln::llm;

namespace {

/// GGUF's value types.
enum GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};

/// Little-endian reads from the file, bounded by its size.
class Reader {
public:
  Reader(std::ifstream &file, uint64_t size) : file(file), remaining(size) {}

  bool bytes(void *out, uint64_t count) {
    if (count > remaining || !file.read(static_cast<char *>(out), count))
      return false;
    remaining -= count;
    return true;
  }
  template <typename T> bool scalar(T &out) { return bytes(&out, sizeof(T)); }
  bool string(std::string &out) {
    uint64_t length;
    if (!scalar(length) || length > remaining)
      return false;
    out.resize(length);
    return bytes(out.data(), length);
  }
  /// One value of `type` into `value` (an array element when `element`).
  bool value(uint32_t type, GgufValue &value, bool element) {
    int64_t integer = 0;
    double real = 0;
    switch (type) {
    case U8: {
      uint8_t v;
      if (!scalar(v))
        return false;
      integer = v;
      break;
    }
    case I8: {
      int8_t v;
      if (!scalar(v))
        return false;
      integer = v;
      break;
    }
    case U16: {
      uint16_t v;
      if (!scalar(v))
        return false;
      integer = v;
      break;
    }
    case I16: {
      int16_t v;
      if (!scalar(v))
        return false;
      integer = v;
      break;
    }
    case U32: {
      uint32_t v;
      if (!scalar(v))
        return false;
      integer = v;
      break;
    }
    case I32: {
      int32_t v;
      if (!scalar(v))
        return false;
      integer = v;
      break;
    }
    case Bool: {
      uint8_t v;
      if (!scalar(v) || v > 1)
        return false;
      integer = v;
      break;
    }
    case U64: {
      uint64_t v;
      if (!scalar(v))
        return false;
      integer = int64_t(v);
      break;
    }
    case I64: {
      int64_t v;
      if (!scalar(v))
        return false;
      integer = v;
      break;
    }
    case F32: {
      float v;
      if (!scalar(v))
        return false;
      real = v;
      break;
    }
    case F64: {
      double v;
      if (!scalar(v))
        return false;
      real = v;
      break;
    }
    case String: {
      std::string text;
      if (!string(text))
        return false;
      if (element)
        value.strings.push_back(std::move(text));
      else
        value.string = std::move(text);
      return true;
    }
    default:
      return false;
    }
    if (type == F32 || type == F64) {
      if (!element)
        value.real = real;
      return true; // Arrays of floats are read and not kept.
    }
    if (element)
      value.integers.push_back(integer);
    else
      value.integer = integer;
    return true;
  }

private:
  std::ifstream &file;
  uint64_t remaining;
};

} // namespace

std::optional<GgufMetadata> GgufMetadata::read(const std::string &path,
                                               std::string &error) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) {
    error = path + ": cannot open the file";
    return std::nullopt;
  }
  uint64_t size = static_cast<uint64_t>(file.tellg());
  file.seekg(0);
  Reader reader(file, size);
  char magic[4];
  uint32_t version = 0;
  uint64_t tensorCount = 0, keyCount = 0;
  if (!reader.bytes(magic, 4) || std::memcmp(magic, "GGUF", 4) != 0) {
    error = path + ": not a GGUF file";
    return std::nullopt;
  }
  if (!reader.scalar(version) || (version != 2 && version != 3)) {
    error = path + ": GGUF version " + std::to_string(version) +
            " (Kiln reads versions 2 and 3)";
    return std::nullopt;
  }
  if (!reader.scalar(tensorCount) || !reader.scalar(keyCount) ||
      keyCount > size / 12) {
    error = path + ": the GGUF header is truncated or corrupt";
    return std::nullopt;
  }
  GgufMetadata metadata;
  for (uint64_t i = 0; i < keyCount; ++i) {
    std::string key;
    uint32_t type = 0;
    GgufValue value;
    bool ok = reader.string(key) && reader.scalar(type);
    if (ok && type == Array) {
      uint32_t elementType = 0;
      uint64_t count = 0;
      ok = reader.scalar(elementType) && reader.scalar(count) &&
           elementType != Array && count <= size;
      for (uint64_t j = 0; ok && j < count; ++j)
        ok = reader.value(elementType, value, /*element=*/true);
    } else if (ok) {
      ok = reader.value(type, value, /*element=*/false);
    }
    if (!ok) {
      error = path + ": the GGUF metadata is truncated or corrupt" +
              (key.empty() ? "" : " at '" + key + "'");
      return std::nullopt;
    }
    metadata.values[key] = std::move(value);
  }
  return metadata;
}

const GgufValue *GgufMetadata::find(const std::string &key) const {
  auto found = values.find(key);
  return found == values.end() ? nullptr : &found->second;
}

std::string GgufMetadata::string(const std::string &key,
                                 const std::string &fallback) const {
  const GgufValue *value = find(key);
  return value && value->string ? *value->string : fallback;
}

std::optional<int64_t> GgufMetadata::integer(const std::string &key) const {
  const GgufValue *value = find(key);
  return value ? value->integer : std::nullopt;
}
