//===- HostMath.h - dense arithmetic the searches run on the host -*- C++
//-*-===//
//
// The quantization searches evaluate candidates by the output error of a
// layer on calibration rows: products of a few hundred rows by a weight,
// many times over. Plain loops the host compiler vectorizes, in clones for
// AVX-512, AVX2 and the baseline, picked when the compiler starts.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_HOSTMATH_H
#define KILN_PASSES_QUANT_HOSTMATH_H

#include <cstdint>

namespace mlir::kiln::quant {

/// c[m, n] = a[m, k] * b[k, n], all row-major f32.
void multiply(const float *a, const float *b, float *c, int64_t m, int64_t k,
              int64_t n);

/// The sum of squared differences of `x` and `y` (`count` each), in double.
double squaredDistance(const float *x, const float *y, int64_t count);

} // namespace mlir::kiln::quant

#endif // KILN_PASSES_QUANT_HOSTMATH_H
