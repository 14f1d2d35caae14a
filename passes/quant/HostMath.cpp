//===- HostMath.cpp - dense arithmetic the searches run on the host -------===//

#include "passes/quant/HostMath.h"

using namespace mlir::kiln;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KILN_HOST_CLONES                                                       \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KILN_HOST_CLONES
#endif

namespace {

/// Rows and columns of c one register block accumulates: 4 x 32 floats
/// (eight AVX-512 registers, sixteen AVX2 ones).
constexpr int64_t kBlockRows = 4, kBlockColumns = 32;

/// c[rows, columns] block at (i0, j0), full size, accumulated over all of k.
template <int64_t Rows>
inline void multiplyBlock(const float *a, const float *b, float *c, int64_t i0,
                          int64_t j0, int64_t k, int64_t n) {
  float acc[Rows][kBlockColumns] = {};
  for (int64_t p = 0; p < k; ++p) {
    const float *w = b + p * n + j0;
    for (int64_t r = 0; r < Rows; ++r) {
      float x = a[(i0 + r) * k + p];
      for (int64_t j = 0; j < kBlockColumns; ++j)
        acc[r][j] += x * w[j];
    }
  }
  for (int64_t r = 0; r < Rows; ++r)
    for (int64_t j = 0; j < kBlockColumns; ++j)
      c[(i0 + r) * n + j0 + j] = acc[r][j];
}

} // namespace

KILN_HOST_CLONES
void quant::multiply(const float *a, const float *b, float *c, int64_t m,
                     int64_t k, int64_t n) {
  int64_t fullColumns = n / kBlockColumns * kBlockColumns;
  int64_t fullRows = m / kBlockRows * kBlockRows;
  for (int64_t j0 = 0; j0 < fullColumns; j0 += kBlockColumns) {
    for (int64_t i0 = 0; i0 < fullRows; i0 += kBlockRows)
      multiplyBlock<kBlockRows>(a, b, c, i0, j0, k, n);
    for (int64_t i0 = fullRows; i0 < m; ++i0)
      multiplyBlock<1>(a, b, c, i0, j0, k, n);
  }
  // The columns past the last whole block, one at a time.
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = fullColumns; j < n; ++j) {
      float sum = 0;
      for (int64_t p = 0; p < k; ++p)
        sum += a[i * k + p] * b[p * n + j];
      c[i * n + j] = sum;
    }
}

KILN_HOST_CLONES
double quant::squaredDistance(const float *x, const float *y, int64_t count) {
  double sum = 0;
  for (int64_t i = 0; i < count; ++i) {
    double d = double(x[i]) - double(y[i]);
    sum += d * d;
  }
  return sum;
}
