//===- FourBitProducts.h - products by 4-bit weights in groups --*- C++ -*-===//
//
// `out[..., n] += x[..., k] * ((q[k, n] - z[k / G, n]) * s[k / G, n])` as
// one linalg.generic that reads the 4-bit weights packed, so that no
// dequantized copy of them is ever written: the targets' contraction
// kernels recognize the form (matchFourBitProduct) and dequantize in
// registers, and anything else runs it as the loops it is.
//
// Its inputs, in order:
//   activations  x, any rank >= 1 ending in K;
//   nibbles      [N, K / 2] bytes: byte j of row n holds k = 2j in its low
//                nibble and k = 2j + 1 in its high one (unsigned, 0-15);
//   shifts       the constant [0, 4]: where element k's nibble sits, by
//                k mod 2 (read through the map, so the body stays
//                arithmetic);
//   scales       [K / G, N] f32, f16 or bf16 (bytes in the integer form);
//   zeros        [K / G, N] bytes, the zero points (0-15; in the integer
//                form, each times its scale).
//
// The integer form may instead hold its weights in the order of the INT8
// tensor cores' B fragments (FourBitOrder::Fragments, QServe's
// compute-aware order; N, K and G multiples of 32): nibbles
// [N/32, K/32, 8, 4, 2, 2, 4], so that lane 4r + c of a warp finds the
// fragments of a 32 x 32 tile's four n8 blocks and k32 in 16 consecutive
// bytes: byte 8h + 4a + e holds in its low nibble n = 8a + r, k = 16h +
// 4c + e, and in its high one the same k at n + 16 (shift by (n mod 32)
// floordiv 16); scales and zeros [K/G, N/32, 8, 4], so that the lane's
// four columns 8a + r (a = 0..3) are four consecutive bytes.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_COMMON_FOURBITPRODUCTS_H
#define KILN_CODEGEN_COMMON_FOURBITPRODUCTS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace mlir::kiln {

/// The positions of the product's inputs.
enum FourBitInput : unsigned {
  kFourBitActivations,
  kFourBitNibbles,
  kFourBitShifts,
  kFourBitScales,
  kFourBitZeros,
  kFourBitInputCount
};

/// The product of `activations` by the 4-bit weights `nibbles` (with their
/// `scales` and `zeros`, groups of `groupSize` along K), accumulated into
/// `init` (of `activations`' shape with N for K). Every dimension but the
/// last of `activations` is a parallel loop, then n, then k.
Value buildFourBitProduct(OpBuilder &b, Location loc, Value activations,
                          Value nibbles, Value scales, Value zeros,
                          int64_t groupSize, Value init);

/// How the integer form's nibbles, scales and zeros are laid out.
enum class FourBitOrder { Rows, Fragments };

/// The integer form, W4A8's (QServe's order: subtraction after
/// multiplication): `out[..., n] += x[..., k] * w[k, n]` in i32 with
/// `x` signed bytes, `w = q * s - zs` computed in bytes, `scales` [K / G, N]
/// the second level's integer scales s (1 to 16) and `scaledZeros` the
/// products z * s modulo 256, both bytes. The weights' progressive
/// quantization keeps every w within [-119, 119], so the byte arithmetic's
/// wrapping cancels.
Value buildFourBitIntegerProduct(OpBuilder &b, Location loc, Value activations,
                                 Value nibbles, Value scales, Value scaledZeros,
                                 int64_t groupSize, Value init,
                                 FourBitOrder order = FourBitOrder::Rows);

/// What a target needs to know of a four-bit product.
struct FourBitProduct {
  int64_t groupSize = 0;
  /// The loops of n and k.
  unsigned nLoop = 0, kLoop = 0;
  /// Whether it is the integer form.
  bool integer = false;
  FourBitOrder order = FourBitOrder::Rows;
};

/// `op`'s group size and loops if it is a form buildFourBitProduct or
/// buildFourBitIntegerProduct makes.
std::optional<FourBitProduct> matchFourBitProduct(linalg::LinalgOp op);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_COMMON_FOURBITPRODUCTS_H
