//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//

#ifndef KILN_COMPILER_DRIVER_NPY_H
#define KILN_COMPILER_DRIVER_NPY_H

#include "kiln/runtime.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlir::kiln {

/// A dense, C-order array.
struct NpyArray {
  kiln_dtype_t dtype = KILN_DTYPE_FLOAT32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

/// Reads a .npy file (format versions 1 to 3, little-endian or
/// byte-order-free types, C order). Fails with a one-line `error`.
bool readNpy(const std::string &path, NpyArray &array, std::string &error);

/// Parses the bytes of a .npy file; `path` names it in the error.
bool parseNpy(const std::string &bytes, const std::string &path,
              NpyArray &array, std::string &error);

/// Reads the arrays of a .npz file (what numpy.savez writes: a zip archive
/// of .npy files, stored, with or without ZIP64 records), named without
/// their ".npy". Compressed archives (numpy.savez_compressed) are refused
/// with a one-line `error` that says so.
bool readNpz(const std::string &path,
             std::vector<std::pair<std::string, NpyArray>> &arrays,
             std::string &error);

/// Writes a .npy file (format version 1). Fails with a one-line `error`,
/// e.g. for bfloat16, which NumPy has no type for.
bool writeNpy(const std::string &path, kiln_dtype_t dtype,
              const int64_t *shape, int32_t rank, const void *data,
              std::string &error);

/// NumPy has no bfloat16: `kiln run` exchanges bfloat16 tensors as float32
/// arrays. Widening is exact; narrowing rounds to nearest even (NaNs stay
/// NaN).
std::vector<uint8_t> float32ToBfloat16(const std::vector<uint8_t> &data);
std::vector<uint8_t> bfloat16ToFloat32(const void *data, size_t count);

} // namespace mlir::kiln

#endif // KILN_COMPILER_DRIVER_NPY_H
