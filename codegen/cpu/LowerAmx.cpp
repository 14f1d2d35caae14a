//===- LowerAmx.cpp - kiln-cpu-lower-amx ----------------------------------===//
//
// The kiln.amx_* ops as LLVM's intrinsics of AMX on tiles named by number
// (the forms whose tile operands are immediates). Upstream's amx dialect
// works on tile values instead, which MLIR 19 cannot carry through a loop.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Passes.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPULOWERAMXPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr StringLiteral kConfigName = "kiln_amx_tile_config";

/// ldtilecfg's 64 bytes: palette 1, then each tile's bytes per row (u16,
/// from byte 16) and rows (u8, from byte 48): 64 and 16 for all eight.
std::string tileConfiguration() {
  std::string bytes(64, '\0');
  bytes[0] = 1;
  for (int tile = 0; tile < 8; ++tile) {
    bytes[16 + 2 * tile] = 64;
    bytes[48 + tile] = 16;
  }
  return bytes;
}

/// The module's constant tile configuration, created on first use.
LLVM::GlobalOp configurationGlobal(ModuleOp module) {
  if (auto global = module.lookupSymbol<LLVM::GlobalOp>(kConfigName))
    return global;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto type = LLVM::LLVMArrayType::get(b.getI8Type(), 64);
  return b.create<LLVM::GlobalOp>(module.getLoc(), type, /*isConstant=*/true,
                                  LLVM::Linkage::Internal, kConfigName,
                                  b.getStringAttr(tileConfiguration()));
}

struct Lowering {
  Lowering(Operation *op) : b(op), loc(op->getLoc()) {}

  Value tile(int64_t number) {
    return b.create<LLVM::ConstantOp>(loc, b.getI8Type(),
                                      b.getI8IntegerAttr(number));
  }
  /// The address of `buffer[offset]` and the byte stride of `stride`
  /// elements, as the intrinsics take them.
  std::pair<Value, Value> address(Value buffer, Value offset, Value stride) {
    auto type = cast<MemRefType>(buffer.getType());
    int64_t bytes = type.getElementTypeBitWidth() / 8;
    auto metadata = b.create<memref::ExtractStridedMetadataOp>(loc, buffer);
    Value base = b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, buffer);
    Value size = b.create<arith::ConstantIndexOp>(loc, bytes);
    Value element = b.create<arith::AddIOp>(loc, metadata.getOffset(), offset);
    Value at = b.create<arith::AddIOp>(
        loc, base, b.create<arith::MulIOp>(loc, element, size));
    Value pointer = b.create<LLVM::IntToPtrOp>(
        loc, LLVM::LLVMPointerType::get(b.getContext()),
        b.create<arith::IndexCastOp>(loc, b.getI64Type(), at));
    Value byteStride = b.create<arith::IndexCastOp>(
        loc, b.getI64Type(), b.create<arith::MulIOp>(loc, stride, size));
    return {pointer, byteStride};
  }
  void call(StringRef intrinsic, ValueRange operands) {
    b.create<LLVM::CallIntrinsicOp>(loc, TypeRange{},
                                    b.getStringAttr(intrinsic), operands);
  }

  OpBuilder b;
  Location loc;
};

struct CpuLowerAmxPass : kiln::impl::CpuLowerAmxPassBase<CpuLowerAmxPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Operation *> ops;
    module.walk([&](Operation *op) {
      if (isa<AmxConfigureOp, AmxReleaseOp, AmxZeroOp, AmxLoadOp, AmxStoreOp,
              AmxDotOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      Lowering l(op);
      if (isa<AmxConfigureOp>(op)) {
        LLVM::GlobalOp global = configurationGlobal(module);
        l.call("llvm.x86.ldtilecfg",
               {l.b.create<LLVM::AddressOfOp>(l.loc, global)});
      } else if (isa<AmxReleaseOp>(op)) {
        l.call("llvm.x86.tilerelease", {});
      } else if (auto zero = dyn_cast<AmxZeroOp>(op)) {
        l.call("llvm.x86.tilezero", {l.tile(zero.getTile())});
      } else if (auto load = dyn_cast<AmxLoadOp>(op)) {
        auto [pointer, stride] =
            l.address(load.getBuffer(), load.getOffset(), load.getStride());
        l.call("llvm.x86.tileloadd64",
               {l.tile(load.getTile()), pointer, stride});
      } else if (auto store = dyn_cast<AmxStoreOp>(op)) {
        auto [pointer, stride] =
            l.address(store.getBuffer(), store.getOffset(), store.getStride());
        l.call("llvm.x86.tilestored64",
               {l.tile(store.getTile()), pointer, stride});
      } else if (auto dot = dyn_cast<AmxDotOp>(op)) {
        l.call(dot.getU8s8() ? "llvm.x86.tdpbusd" : "llvm.x86.tdpbf16ps",
               {l.tile(dot.getAccumulator()), l.tile(dot.getLhs()),
                l.tile(dot.getRhs())});
      }
      op->erase();
    }
  }
};

} // namespace
