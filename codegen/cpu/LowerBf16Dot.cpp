//===- LowerBf16Dot.cpp - kiln-cpu-lower-bf16-dot -------------------------===//
//
// The one x86 instruction the microkernels need that MLIR's x86vector
// dialect lacks: vdpbf16ps, reached through its LLVM intrinsic.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPULOWERBF16DOTPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The intrinsic for `lanes` f32 accumulators (the verifier allows 4, 8, 16).
StringRef intrinsicFor(int64_t lanes) {
  switch (lanes) {
  case 16:
    return "llvm.x86.avx512bf16.dpbf16ps.512";
  case 8:
    return "llvm.x86.avx512bf16.dpbf16ps.256";
  default:
    return "llvm.x86.avx512bf16.dpbf16ps.128";
  }
}

struct CpuLowerBf16DotPass
    : kiln::impl::CpuLowerBf16DotPassBase<CpuLowerBf16DotPass> {
  void runOnOperation() override {
    getOperation()->walk([](Bf16DotOp dot) {
      OpBuilder b(dot);
      auto call = b.create<LLVM::CallIntrinsicOp>(
          dot.getLoc(), dot.getType(),
          b.getStringAttr(intrinsicFor(dot.getType().getNumElements())),
          ValueRange{dot.getAccumulator(), dot.getLhs(), dot.getRhs()});
      dot.replaceAllUsesWith(call.getResult(0));
      dot.erase();
    });
  }
};

} // namespace
