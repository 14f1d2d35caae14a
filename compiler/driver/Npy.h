//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//

#ifndef KILN_COMPILER_DRIVER_NPY_H
#define KILN_COMPILER_DRIVER_NPY_H

#include "kiln/runtime.h"

#include <cstdint>
#include <string>
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
