//===- Bf16AsIntegers.cpp - bf16 values the x86 backend never converts ----===//
//
// On a CPU without AVX512_BF16, LLVM's x86 backend holds bf16 vectors as
// f32 and converts back with a libgcc call per element (__truncsfbf2,
// which the package may not even link) wherever an operation other than
// a plain load or store touches them. Two such places are kept integer:
// - f32 -> bf16 rounding (kiln-cpu-truncate-to-bf16). Upstream's
//   expansion picks the NaN result with a select on the rounded halves,
//   which LLVM folds with the bitcast into a select of bf16 vectors; here
//   the select is on the rounding bias, an integer, and a NaN's quiet bit
//   is or'ed in. A CPU with AVX512_BF16 converts whole vectors with
//   vcvtneps2bf16 instead.
// - masked stores of bf16 vectors (kiln-cpu-bf16-masked-stores), which
//   store the same bits as 16-bit integers.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPUTRUNCATETOBF16PASS
#define GEN_PASS_DEF_CPUBF16MASKEDSTORESPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// `type` (a scalar or a vector) with `element` as its element type.
Type withElement(Type type, Type element) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.clone(element);
  return element;
}

struct TruncateToBf16 : OpRewritePattern<arith::TruncFOp> {
  TruncateToBf16(MLIRContext *context, bool convertInstruction)
      : OpRewritePattern(context), convertInstruction(convertInstruction) {}

  LogicalResult matchAndRewrite(arith::TruncFOp op,
                                PatternRewriter &rewriter) const override {
    Type source = op.getIn().getType(), result = op.getType();
    if (!getElementTypeOrSelf(source).isF32() ||
        !getElementTypeOrSelf(result).isBF16())
      return failure();
    Location loc = op.getLoc();
    auto vector = dyn_cast<VectorType>(source);
    if (convertInstruction && vector && vector.getRank() == 1 &&
        (vector.getNumElements() == 16 || vector.getNumElements() == 8)) {
      rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
          op, result,
          rewriter.getStringAttr(vector.getNumElements() == 16
                                     ? "llvm.x86.avx512bf16.cvtneps2bf16.512"
                                     : "llvm.x86.avx512bf16.cvtneps2bf16.256"),
          ValueRange{op.getIn()});
      return success();
    }
    Type i32 = withElement(source, rewriter.getI32Type());
    Type i16 = withElement(source, rewriter.getI16Type());
    auto constant = [&](int64_t value) -> Value {
      return rewriter.create<arith::ConstantOp>(
          loc, i32,
          isa<VectorType>(i32)
              ? cast<TypedAttr>(DenseElementsAttr::get(
                    cast<ShapedType>(i32),
                    rewriter.getI32IntegerAttr(value).getValue()))
              : cast<TypedAttr>(rewriter.getI32IntegerAttr(value)));
    };
    Value bits = rewriter.create<arith::BitcastOp>(loc, i32, op.getIn());
    // Round to nearest even: add 0x7fff plus the kept half's lowest bit.
    Value lowestKept = rewriter.create<arith::AndIOp>(
        loc, rewriter.create<arith::ShRUIOp>(loc, bits, constant(16)),
        constant(1));
    Value bias =
        rewriter.create<arith::AddIOp>(loc, lowestKept, constant(0x7fff));
    // A NaN is not rounded (that could carry it into the sign or make it
    // an infinity): its high half, made quiet.
    Value isNaN = rewriter.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO,
                                                 op.getIn(), op.getIn());
    bias = rewriter.create<arith::SelectOp>(loc, isNaN, constant(0), bias);
    Value high = rewriter.create<arith::ShRUIOp>(
        loc, rewriter.create<arith::AddIOp>(loc, bits, bias), constant(16));
    Value quietBit = rewriter.create<arith::SelectOp>(
        loc, isNaN, constant(0x40), constant(0));
    Value halves = rewriter.create<arith::TruncIOp>(
        loc, i16, rewriter.create<arith::OrIOp>(loc, high, quietBit));
    rewriter.replaceOpWithNewOp<arith::BitcastOp>(op, result, halves);
    return success();
  }

  bool convertInstruction;
};

struct CpuTruncateToBf16Pass
    : kiln::impl::CpuTruncateToBf16PassBase<CpuTruncateToBf16Pass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<TruncateToBf16>(&getContext(), convertInstruction);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

struct CpuBf16MaskedStoresPass
    : kiln::impl::CpuBf16MaskedStoresPassBase<CpuBf16MaskedStoresPass> {
  void runOnOperation() override {
    getOperation()->walk([](LLVM::MaskedStoreOp store) {
      auto type = dyn_cast<VectorType>(store.getValue().getType());
      if (!type || !type.getElementType().isBF16())
        return;
      OpBuilder b(store);
      Value halves = b.create<LLVM::BitcastOp>(
          store.getLoc(), type.clone(b.getI16Type()), store.getValue());
      store.getValueMutable().assign(halves);
    });
  }
};

} // namespace
