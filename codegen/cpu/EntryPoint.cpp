//===- EntryPoint.cpp - the model's entry point in the object code --------===//
//
// The runtime calls one symbol with one signature whatever the model:
// `void kiln_entry(void **args)`, where args[0] points at the results'
// memref descriptors, args[1] at the weights section's descriptor, args[2]
// at the workspace's and args[3 + i] at input i's. A descriptor is MLIR's
// strided memref layout: allocated pointer, aligned pointer, offset, sizes,
// strides.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_CPUPREPAREENTRYPOINTPASS
#define GEN_PASS_DEF_CPUPACKENTRYPOINTPASS
#include "codegen/cpu/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct CpuPrepareEntryPointPass
    : kiln::impl::CpuPrepareEntryPointPassBase<CpuPrepareEntryPointPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp main = lookupModelFunction(module);
    if (!main)
      return signalPassFailure();
    if (main.getNumResults() == 0) {
      main.emitError("the model has no outputs");
      return signalPassFailure();
    }
    if (module.lookupSymbol(kModelFunctionName)) {
      module.emitError() << "the symbol @" << kModelFunctionName
                         << " is already defined";
      return signalPassFailure();
    }
    main.setSymName(kModelFunctionName);
    // The ONNX names are in the package's manifest; LLVM has no use for
    // them.
    main.removeArgAttrsAttr();
    main.removeResAttrsAttr();
    main->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                  UnitAttr::get(&getContext()));
  }
};

struct CpuPackEntryPointPass
    : kiln::impl::CpuPackEntryPointPassBase<CpuPackEntryPointPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string wrapperName = ("_mlir_ciface_" + kModelFunctionName).str();
    auto wrapper = module.lookupSymbol<LLVM::LLVMFuncOp>(wrapperName);
    if (!wrapper) {
      module.emitError() << "no @" << wrapperName
                         << " to wrap; run kiln-cpu-prepare-entry-point "
                            "before the lowering to LLVM";
      return signalPassFailure();
    }

    // Only the entry point is visible outside the object: a model linked
    // into an application must not clash with its symbols.
    for (auto function : module.getOps<LLVM::LLVMFuncOp>())
      if (!function.isExternal())
        function.setLinkage(LLVM::Linkage::Internal);
    for (auto global : module.getOps<LLVM::GlobalOp>())
      global.setLinkage(LLVM::Linkage::Internal);

    Location loc = wrapper.getLoc();
    OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
    auto pointerType = LLVM::LLVMPointerType::get(&getContext());
    auto entry = builder.create<LLVM::LLVMFuncOp>(
        loc, kEntryPointName,
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(&getContext()),
                                    {pointerType}));
    Block *body = entry.addEntryBlock(builder);
    builder.setInsertionPointToStart(body);
    SmallVector<Value> arguments;
    for (auto [index, type] :
         llvm::enumerate(wrapper.getFunctionType().getParams())) {
      if (!isa<LLVM::LLVMPointerType>(type)) {
        wrapper.emitError("the entry point takes a non-pointer argument");
        return signalPassFailure();
      }
      Value slot = builder.create<LLVM::GEPOp>(
          loc, pointerType, pointerType, body->getArgument(0),
          ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(index)});
      arguments.push_back(builder.create<LLVM::LoadOp>(loc, pointerType, slot));
    }
    builder.create<LLVM::CallOp>(loc, wrapper, arguments);
    builder.create<LLVM::ReturnOp>(loc, ValueRange{});
  }
};

} // namespace
