//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
//
// The format: "\x93NUMPY", a major and minor version byte, the header length
// (2 bytes in version 1, 4 after), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
// spaces and a newline, then the raw data.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

using namespace mlir::kiln;

namespace {

struct DTypeCode {
  kiln_dtype_t dtype;
  const char *code; // without the byte-order character
};

constexpr DTypeCode kDTypeCodes[] = {
    {KILN_DTYPE_FLOAT32, "f4"}, {KILN_DTYPE_FLOAT64, "f8"},
    {KILN_DTYPE_FLOAT16, "f2"}, {KILN_DTYPE_INT8, "i1"},
    {KILN_DTYPE_UINT8, "u1"},   {KILN_DTYPE_INT16, "i2"},
    {KILN_DTYPE_UINT16, "u2"},  {KILN_DTYPE_INT32, "i4"},
    {KILN_DTYPE_UINT32, "u4"},  {KILN_DTYPE_INT64, "i8"},
    {KILN_DTYPE_UINT64, "u8"},  {KILN_DTYPE_BOOL, "b1"},
};

/// The value of `key` in the header dict, as raw text up to the next
/// top-level comma or closing brace.
bool headerValue(const std::string &header, const std::string &key,
                 std::string &value) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return false;
  at = header.find(':', at);
  if (at == std::string::npos)
    return false;
  size_t end = ++at;
  int depth = 0;
  for (; end < header.size(); ++end) {
    char c = header[end];
    if (c == '(')
      ++depth;
    else if (c == ')')
      --depth;
    else if ((c == ',' || c == '}') && depth == 0)
      break;
  }
  value = header.substr(at, end - at);
  size_t first = value.find_first_not_of(" ");
  size_t last = value.find_last_not_of(" ");
  value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
  return true;
}

} // namespace

namespace {

bool readFile(const std::string &path, std::string &bytes, std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  bytes.assign(std::istreambuf_iterator<char>(file),
               std::istreambuf_iterator<char>());
  return true;
}

} // namespace

bool mlir::kiln::readNpy(const std::string &path, NpyArray &array,
                         std::string &error) {
  std::string bytes;
  return readFile(path, bytes, error) && parseNpy(bytes, path, array, error);
}

bool mlir::kiln::parseNpy(const std::string &bytes, const std::string &path,
                          NpyArray &array, std::string &error) {
  auto fail = [&](const std::string &why) {
    error = path + ": " + why;
    return false;
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return fail("not a .npy file");
  uint8_t major = static_cast<uint8_t>(bytes[6]);
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = uint8_t(bytes[8]) | uint8_t(bytes[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail("not a .npy file");
    uint32_t length;
    std::memcpy(&length, bytes.data() + 8, 4);
    headerLength = length;
    headerStart = 12;
  } else {
    return fail(".npy format version " + std::to_string(major) +
                " is not supported");
  }
  if (bytes.size() < headerStart + headerLength)
    return fail("the .npy header is truncated");
  std::string header = bytes.substr(headerStart, headerLength);

  std::string descr, fortran, shape;
  if (!headerValue(header, "descr", descr) ||
      !headerValue(header, "fortran_order", fortran) ||
      !headerValue(header, "shape", shape))
    return fail("the .npy header is malformed");
  if (fortran != "False")
    return fail("Fortran-order arrays are not supported (save a C-order "
                "array, e.g. with numpy.ascontiguousarray)");
  if (descr.size() < 4 || (descr.front() != '\'' && descr.front() != '"'))
    return fail("unsupported .npy element type " + descr);
  char order = descr[1];
  std::string code = descr.substr(2, descr.size() - 3);
  bool found = false;
  for (const DTypeCode &entry : kDTypeCodes)
    if (code == entry.code) {
      array.dtype = entry.dtype;
      found = true;
    }
  if (!found || (order == '>' && code.back() != '1') ||
      (order != '<' && order != '|' && order != '>' && order != '='))
    return fail("unsupported .npy element type " + descr +
                (order == '>' ? " (big-endian)" : ""));

  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    return fail("the .npy shape is malformed: " + shape);
  array.shape.clear();
  std::stringstream dims(shape.substr(1, shape.size() - 2));
  std::string dim;
  uint64_t count = 1;
  while (std::getline(dims, dim, ',')) {
    size_t first = dim.find_first_not_of(" ");
    if (first == std::string::npos)
      continue;
    char *end = nullptr;
    long long value = std::strtoll(dim.c_str() + first, &end, 10);
    if (value < 0 || (*end && *end != ' '))
      return fail("the .npy shape is malformed: " + shape);
    array.shape.push_back(value);
    count *= uint64_t(value);
  }
  uint64_t dataBytes = count * kiln_dtype_size(array.dtype);
  size_t dataStart = headerStart + headerLength;
  if (bytes.size() - dataStart != dataBytes)
    return fail("has " + std::to_string(bytes.size() - dataStart) +
                " bytes of data; its shape " + shape + " needs " +
                std::to_string(dataBytes));
  array.data.assign(bytes.begin() + dataStart, bytes.end());
  return true;
}

bool mlir::kiln::writeNpy(const std::string &path, kiln_dtype_t dtype,
                          const int64_t *shape, int32_t rank,
                          const void *data, std::string &error) {
  const char *code = nullptr;
  for (const DTypeCode &entry : kDTypeCodes)
    if (entry.dtype == dtype)
      code = entry.code;
  if (!code) {
    error = path + ": " + kiln_dtype_name(dtype) + " has no .npy type";
    return false;
  }
  std::string shapeText = "(";
  uint64_t count = 1;
  for (int32_t i = 0; i < rank; ++i) {
    shapeText += std::to_string(shape[i]) + (rank == 1 ? ",)" : "");
    if (rank != 1)
      shapeText += i + 1 < rank ? ", " : ")";
    count *= uint64_t(shape[i]);
  }
  if (rank == 0)
    shapeText = "()";
  std::string header = std::string("{'descr': '") +
                       (code[1] == '1' ? "|" : "<") + code +
                       "', 'fortran_order': False, 'shape': " + shapeText +
                       ", }";
  // Pad so that the data starts on a 64-byte boundary.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) {
    error = path + ": cannot create: " + std::strerror(errno);
    return false;
  }
  uint16_t length = static_cast<uint16_t>(header.size());
  file.write("\x93NUMPY\x01\x00", 8);
  file.put(static_cast<char>(length & 0xFF));
  file.put(static_cast<char>(length >> 8));
  file << header;
  file.write(static_cast<const char *>(data),
             static_cast<std::streamsize>(count * kiln_dtype_size(dtype)));
  if (!file.flush()) {
    error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  return true;
}

std::vector<uint8_t>
mlir::kiln::float32ToBfloat16(const std::vector<uint8_t> &data) {
  std::vector<uint8_t> out(data.size() / 2);
  for (size_t i = 0; i < data.size() / 4; ++i) {
    uint32_t bits;
    std::memcpy(&bits, data.data() + 4 * i, 4);
    uint16_t half;
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u)
      half = static_cast<uint16_t>((bits >> 16) | 0x40); // quiet NaN
    else
      half = static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    std::memcpy(out.data() + 2 * i, &half, 2);
  }
  return out;
}

std::vector<uint8_t> mlir::kiln::bfloat16ToFloat32(const void *data,
                                                   size_t count) {
  std::vector<uint8_t> out(4 * count);
  for (size_t i = 0; i < count; ++i) {
    uint16_t half;
    std::memcpy(&half, static_cast<const uint8_t *>(data) + 2 * i, 2);
    uint32_t bits = uint32_t(half) << 16;
    std::memcpy(out.data() + 4 * i, &bits, 4);
  }
  return out;
}
