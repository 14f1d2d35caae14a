//===- LowerInt8Dot.cpp - kiln-cpu-lower-int8-dot -------------------------===//
//
// The integer microkernels' dot product of byte quads: vpdpbusd through
// its LLVM intrinsic where the CPU has it; otherwise vpmaddubsw and
// vpmaddwd for narrow (7-bit) filters, and for any others two vpmaddwd on
// the bytes widened to 16 bits (half the narrow path's products per
// instruction, none saturating).
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPULOWERINT8DOTPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The intrinsic for `lanes` i32 accumulators (the verifier allows 4, 8, 16).
StringRef intrinsicFor(int64_t lanes) {
  switch (lanes) {
  case 16:
    return "llvm.x86.avx512.vpdpbusd.512";
  case 8:
    return "llvm.x86.avx512.vpdpbusd.256";
  default:
    return "llvm.x86.avx512.vpdpbusd.128";
  }
}

Value lowerToIntrinsic(OpBuilder &b, Int8DotOp dot) {
  Location loc = dot.getLoc();
  VectorType words = dot.getType();
  Value lhs = b.create<vector::BitCastOp>(loc, words, dot.getLhs());
  Value rhs = b.create<vector::BitCastOp>(loc, words, dot.getRhs());
  return b
      .create<LLVM::CallIntrinsicOp>(
          loc, words, b.getStringAttr(intrinsicFor(words.getNumElements())),
          ValueRange{dot.getAccumulator(), lhs, rhs})
      .getResult(0);
}

/// vpmaddubsw (pairs of u8 x s8 products summed to i16, saturating) then
/// vpmaddwd by ones (the pairs' sums added to quads in i32): exact when
/// the rhs is narrow, as the op promises.
Value lowerToPairSums(OpBuilder &b, Int8DotOp dot) {
  Location loc = dot.getLoc();
  int64_t lanes = dot.getType().getNumElements();
  StringRef pairs = lanes == 16  ? "llvm.x86.avx512.pmaddubs.w.512"
                    : lanes == 8 ? "llvm.x86.avx2.pmadd.ub.sw"
                                 : "llvm.x86.ssse3.pmadd.ub.sw.128";
  StringRef quads = lanes == 16  ? "llvm.x86.avx512.pmaddw.d.512"
                    : lanes == 8 ? "llvm.x86.avx2.pmadd.wd"
                                 : "llvm.x86.sse2.pmadd.wd";
  auto halves = VectorType::get({2 * lanes}, b.getI16Type());
  Value sums =
      b.create<LLVM::CallIntrinsicOp>(loc, halves, b.getStringAttr(pairs),
                                      ValueRange{dot.getLhs(), dot.getRhs()})
          .getResult(0);
  Value ones = b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(halves, b.getI16IntegerAttr(1)));
  Value quadSums = b.create<LLVM::CallIntrinsicOp>(loc, dot.getType(),
                                                   b.getStringAttr(quads),
                                                   ValueRange{sums, ones})
                       .getResult(0);
  return b.create<arith::AddIOp>(loc, dot.getAccumulator(), quadSums);
}

/// Full-range filters without vpdpbusd: each quad's first two bytes and
/// its last two, as 16-bit words (u8 zero-extended, s8 sign-extended),
/// each pair of products summed into i32 by vpmaddwd, exactly.
Value lowerToWordPairs(OpBuilder &b, Int8DotOp dot) {
  Location loc = dot.getLoc();
  int64_t lanes = dot.getType().getNumElements();
  StringRef pairs = lanes == 16  ? "llvm.x86.avx512.pmaddw.d.512"
                    : lanes == 8 ? "llvm.x86.avx2.pmadd.wd"
                                 : "llvm.x86.sse2.pmadd.wd";
  auto words = VectorType::get({2 * lanes}, b.getI16Type());
  auto halfBytes = VectorType::get({2 * lanes}, b.getI8Type());
  // Byte pairs (b0, b1) of every quad, or (b2, b3), as 16-bit words.
  auto half = [&](Value bytes, int64_t which, bool isUnsigned) -> Value {
    Value asWords = b.create<vector::BitCastOp>(loc, words, bytes);
    SmallVector<int64_t> mask;
    for (int64_t i = 0; i < lanes; ++i)
      mask.push_back(2 * i + which);
    Value picked = b.create<vector::ShuffleOp>(loc, asWords, asWords, mask);
    Value pairBytes = b.create<vector::BitCastOp>(loc, halfBytes, picked);
    if (isUnsigned)
      return b.create<arith::ExtUIOp>(loc, words, pairBytes);
    return b.create<arith::ExtSIOp>(loc, words, pairBytes);
  };
  Value sum = dot.getAccumulator();
  for (int64_t which = 0; which < 2; ++which) {
    Value products =
        b.create<LLVM::CallIntrinsicOp>(
             loc, dot.getType(), b.getStringAttr(pairs),
             ValueRange{half(dot.getLhs(), which, /*isUnsigned=*/true),
                        half(dot.getRhs(), which, /*isUnsigned=*/false)})
            .getResult(0);
    sum = b.create<arith::AddIOp>(loc, sum, products);
  }
  return sum;
}

struct CpuLowerInt8DotPass
    : kiln::impl::CpuLowerInt8DotPassBase<CpuLowerInt8DotPass> {
  using Base::Base;

  void runOnOperation() override {
    getOperation()->walk([&](Int8DotOp dot) {
      OpBuilder b(dot);
      dot.replaceAllUsesWith(vnni                 ? lowerToIntrinsic(b, dot)
                             : dot.getNarrowRhs() ? lowerToPairSums(b, dot)
                                                  : lowerToWordPairs(b, dot));
      dot.erase();
    });
  }
};

} // namespace
