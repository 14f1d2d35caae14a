//===- LowerInt8Dot.cpp - kiln-cpu-lower-int8-dot -------------------------===//
//
// The integer microkernels' dot product of byte quads: vpdpbusd through
// its LLVM intrinsic where the CPU has it, and otherwise the same exact
// sums in generic vector code (the AVX2 fallback).
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

Value lowerToArithmetic(OpBuilder &b, Int8DotOp dot) {
  Location loc = dot.getLoc();
  int64_t lanes = dot.getType().getNumElements();
  auto wide = VectorType::get({4 * lanes}, b.getI32Type());
  Value lhs = b.create<arith::ExtUIOp>(loc, wide, dot.getLhs());
  Value rhs = b.create<arith::ExtSIOp>(loc, wide, dot.getRhs());
  Value products = b.create<arith::MulIOp>(loc, lhs, rhs);
  Value sum = dot.getAccumulator();
  for (int64_t j = 0; j < 4; ++j) {
    SmallVector<int64_t> every4th;
    for (int64_t i = 0; i < lanes; ++i)
      every4th.push_back(4 * i + j);
    Value part = b.create<vector::ShuffleOp>(loc, products, products, every4th);
    sum = b.create<arith::AddIOp>(loc, sum, part);
  }
  return sum;
}

struct CpuLowerInt8DotPass
    : kiln::impl::CpuLowerInt8DotPassBase<CpuLowerInt8DotPass> {
  using Base::Base;

  void runOnOperation() override {
    getOperation()->walk([&](Int8DotOp dot) {
      OpBuilder b(dot);
      dot.replaceAllUsesWith(vnni ? lowerToIntrinsic(b, dot)
                                  : lowerToArithmetic(b, dot));
      dot.erase();
    });
  }
};

} // namespace
