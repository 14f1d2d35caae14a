//===- ObjectEmitter.cpp - LLVM dialect to optimized host object code -----===//

#include "codegen/cpu/ObjectEmitter.h"

#include "runtime/format/ParallelAbi.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Extensions the runtime checks before it runs a package (see
/// runtime/src/CpuFeatures.cpp); the names are LLVM's.
constexpr llvm::StringLiteral kCheckedFeatures[] = {
    "sse4.2",     "avx",        "avx2",       "fma",      "f16c",
    "bmi2",       "avx512f",    "avx512dq",   "avx512bw", "avx512vl",
    "avx512vnni", "avx512bf16", "avx512fp16", "avxvnni",  "amx-tile",
    "amx-bf16",   "amx-int8"};

/// Turns every call to an OpenMP runtime entry point (and to malloc and
/// free) into an indirect call through the exported table the runtime fills
/// (runtime/format/ParallelAbi.h), so the code links no OpenMP library. Fails, naming it, on an entry point
/// the runtime does not provide.
bool bindParallelRuntime(llvm::Module &module, std::string &error) {
  namespace abi = ::kiln::parallel_abi;
  llvm::LLVMContext &context = module.getContext();
  auto *pointer = llvm::PointerType::getUnqual(context);
  auto *tableType = llvm::ArrayType::get(pointer, abi::kFunctionCount);
  auto *table = new llvm::GlobalVariable(
      module, tableType, /*isConstant=*/false, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantAggregateZero::get(tableType), abi::kTableSymbol);
  table->setVisibility(llvm::GlobalValue::DefaultVisibility);
  // The buffers the code allocates at run time come from the runtime's
  // cache, already mapped, instead of fresh pages from malloc.
  for (auto [libc, entry] : {std::pair{"malloc", abi::kAllocate},
                             std::pair{"free", abi::kRelease}})
    if (llvm::Function *function = module.getFunction(libc);
        function && function->isDeclaration())
      function->setName(entry);
  for (llvm::Function &function : llvm::make_early_inc_range(module)) {
    if (!function.isDeclaration() ||
        llvm::none_of(abi::kPrefixes, [&](const char *prefix) {
          return function.getName().starts_with(prefix);
        }))
      continue;
    const auto *found = llvm::find(abi::kFunctions, function.getName());
    if (found == std::end(abi::kFunctions)) {
      error = "the code calls the runtime entry point " +
              function.getName().str() + ", which the runtime lacks";
      return false;
    }
    unsigned slot = found - std::begin(abi::kFunctions);
    for (llvm::User *user : llvm::make_early_inc_range(function.users())) {
      auto *call = llvm::dyn_cast<llvm::CallInst>(user);
      if (!call || call->getCalledOperand() != &function) {
        error = "the code takes the address of " + function.getName().str();
        return false;
      }
      llvm::IRBuilder<> builder(call);
      llvm::Value *entry = builder.CreateConstInBoundsGEP2_32(tableType, table,
                                                              0, slot);
      llvm::Value *target = builder.CreateLoad(pointer, entry);
      call->setCalledOperand(target);
    }
    function.eraseFromParent();
  }
  return true;
}

} // namespace

std::vector<std::string> CpuTarget::requiredFeatures() const {
  std::vector<std::string> required;
  const llvm::MCSubtargetInfo *subtarget = machine->getMCSubtargetInfo();
  for (llvm::StringRef feature : kCheckedFeatures)
    if (subtarget->checkFeatures(("+" + feature).str()))
      required.push_back(feature.str());
  return required;
}

std::unique_ptr<CpuTarget> mlir::kiln::createCpuTarget(llvm::StringRef cpu,
                                                       std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  auto target = std::make_unique<CpuTarget>();
  target->triple = llvm::sys::getDefaultTargetTriple();
  if (cpu == "native") {
    target->cpu = llvm::sys::getHostCPUName().str();
    std::vector<std::string> features;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features.push_back((feature.second ? "+" : "-") + feature.first().str());
    llvm::sort(features);
    target->features = llvm::join(features, ",");
  } else {
    target->cpu = cpu.str();
  }

  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(target->triple, error);
  if (!llvmTarget)
    return nullptr;
  {
    // LLVM warns on stderr, rather than fails, for an unknown CPU name.
    std::unique_ptr<llvm::MCSubtargetInfo> probe(
        llvmTarget->createMCSubtargetInfo(target->triple, "", ""));
    if (!probe->isCPUStringValid(target->cpu)) {
      error = "unknown CPU '" + target->cpu +
              "'; use 'native' or an x86-64 CPU name such as x86-64-v3, "
              "skylake-avx512 or znver4";
      return nullptr;
    }
    // A 32-bit x86 CPU (i386, pentium4) cannot run x86-64 code, which is
    // what packages hold: LLVM would abort on it.
    std::unique_ptr<llvm::MCSubtargetInfo> chosen(
        llvmTarget->createMCSubtargetInfo(target->triple, target->cpu,
                                          target->features));
    if (!chosen->checkFeatures("+64bit")) {
      error = "CPU '" + target->cpu +
              "' cannot run x86-64 code; use 'native' or an x86-64 CPU name "
              "such as x86-64, x86-64-v3, skylake-avx512 or znver4";
      return nullptr;
    }
  }
  llvm::TargetOptions options;
  target->machine.reset(llvmTarget->createTargetMachine(
      target->triple, target->cpu, target->features, options,
      llvm::Reloc::PIC_, llvm::CodeModel::Small,
      llvm::CodeGenOptLevel::Aggressive));
  if (!target->machine) {
    error = "LLVM cannot generate code for " + target->triple;
    return nullptr;
  }
  return target;
}

std::unique_ptr<llvm::Module>
mlir::kiln::translateAndOptimize(ModuleOp module, llvm::LLVMContext &context,
                                 const CpuTarget &target) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);

  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, context, "kiln_model");
  if (!llvmModule) {
    module.emitError("the translation to LLVM IR failed");
    return nullptr;
  }
  std::string error;
  if (!bindParallelRuntime(*llvmModule, error)) {
    module.emitError(error);
    return nullptr;
  }
  llvmModule->setTargetTriple(target.triple);
  llvmModule->setDataLayout(target.machine->createDataLayout());
  for (llvm::Function &function : *llvmModule) {
    if (function.isDeclaration())
      continue;
    // Nothing compares the kernels' addresses, so identical ones (and the
    // parallel regions they pass to the runtime) may be merged.
    if (function.hasLocalLinkage())
      function.setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    function.addFnAttr("target-cpu", target.cpu);
    if (!target.features.empty())
      function.addFnAttr("target-features", target.features);
  }

  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager sccs;
  llvm::ModuleAnalysisManager modules;
  // Kernels of the same shape (a decoder's layers) become one function:
  // the code a run executes stays small enough to stay in cache while
  // the weights stream through it.
  llvm::PipelineTuningOptions tuning;
  tuning.MergeFunctions = true;
  llvm::PassBuilder builder(target.machine.get(), tuning);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(sccs);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, sccs, modules);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3)
      .run(*llvmModule, modules);
  return llvmModule;
}

bool mlir::kiln::emitObject(llvm::Module &module, const CpuTarget &target,
                            llvm::raw_pwrite_stream &os, std::string &error) {
  llvm::legacy::PassManager passes;
  if (target.machine->addPassesToEmitFile(passes, os, nullptr,
                                          llvm::CodeGenFileType::ObjectFile)) {
    error = "LLVM cannot emit an object file for " + target.triple;
    return false;
  }
  passes.run(module);
  return true;
}
