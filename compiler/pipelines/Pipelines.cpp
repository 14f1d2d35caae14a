//===- Pipelines.cpp - the stages of `kiln compile` -----------------------===//

#include "compiler/pipelines/Pipelines.h"

#include "codegen/common/Passes.h"
#include "codegen/cpu/Passes.h"
#include "codegen/cuda/Passes.h"
#include "codegen/linalg/Passes.h"
#include "dialects/kiln/KilnOps.h"
#include "passes/graph/Passes.h"
#include "passes/layout/Passes.h"
#include "passes/quant/Passes.h"
#include "passes/sparsity/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::kiln::buildGraphPipeline(OpPassManager &pm) {
  OpPassManager &function = pm.nest<func::FuncOp>();
  addGraphSizingPasses(function);
  // Opset 23's LLM operators as plain subgraphs, which shape inference then
  // sizes.
  function.addPass(createGraphDecomposeLlmOpsPass());
  function.addPass(createGraphInferShapesPass());
  function.addPass(createCanonicalizerPass());
  function.addPass(createGraphGroupedQueryHeadsPass());
  function.addPass(createGraphInferShapesPass());
  function.addPass(createCanonicalizerPass());
  // Quantized graphs (onnxruntime's QDQ form) in Kiln's quantization ops.
  function.addPass(createGraphQuantizeLinearPass());
}

void mlir::kiln::buildLinalgPipeline(OpPassManager &pm) {
  buildGraphPipeline(pm);
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(createLowerOnnxToLinalgPass());
  function.addPass(createCanonicalizerPass());
  function.addPass(createCSEPass());
}

void mlir::kiln::addQuantizationPasses(OpPassManager &function,
                                       const QuantizationOptions &options) {
  if (options.quantize == "w4a16") {
    if (options.quantizeMethod == "awq") {
      QuantAwqPassOptions awq;
      awq.groupSize = options.groupSize;
      awq.exclude = options.quantizeExclude;
      awq.rounding = options.weightRounding;
      function.addPass(createQuantAwqPass(awq));
    }
    QuantWeightsPassOptions quantization;
    quantization.groupSize = options.groupSize;
    quantization.exclude = options.quantizeExclude;
    function.addPass(createQuantWeightsPass(quantization));
  }
  if (options.quantize == "w8a8") {
    QuantSmoothQuantPassOptions smoothQuant;
    smoothQuant.alpha = options.smoothAlpha;
    smoothQuant.grid = options.smoothAlphaGrid;
    smoothQuant.narrowWeights = options.narrowWeights;
    smoothQuant.dynamic = options.dynamicActivations;
    smoothQuant.smooth = options.quantizeMethod == "smoothquant";
    smoothQuant.exclude = options.quantizeExclude;
    function.addPass(createQuantSmoothQuantPass(smoothQuant));
  }
  if (options.quantize == "w4a8kv4" && options.quantizeMethod == "qoq" &&
      options.smoothAttentionAlpha > 0) {
    QuantSmoothAttentionPassOptions smoothAttention;
    smoothAttention.alpha = options.smoothAttentionAlpha;
    function.addPass(createQuantSmoothAttentionPass(smoothAttention));
  }
  // Before QoQ, which takes the statistics away.
  if (options.quantize == "w4a8kv4" && options.quantizeMethod == "qoq" &&
      options.centerKeys) {
    QuantCenterKeysPassOptions centering;
    centering.warn = options.centerKeysAsked;
    function.addPass(createQuantCenterKeysPass(centering));
  }
  if (options.quantize == "w4a8" || options.quantize == "w4a8kv4") {
    QuantQoqPassOptions qoq;
    qoq.groupSize = options.groupSize;
    qoq.search = options.quantizeMethod == "qoq";
    qoq.rounding = options.weightRounding;
    qoq.exclude = options.quantizeExclude;
    function.addPass(createQuantQoqPass(qoq));
  }
  // After the weights' quantization: the rotation stays FP32.
  if (options.quantize == "w4a8kv4" && options.rotateKeys) {
    QuantRotateKeysPassOptions rotation;
    rotation.warn = options.rotateKeysAsked;
    function.addPass(createQuantRotateKeysPass(rotation));
  }
}

void mlir::kiln::addSessionKvCachePass(OpPassManager &function,
                                       const SessionCacheOptions &options,
                                       llvm::StringRef elementType) {
  if (options.kvCacheCapacity <= 0)
    return;
  GraphSessionKvCachePassOptions cache;
  cache.capacity = options.kvCacheCapacity;
  cache.page = options.kvCachePage;
  cache.elementType = elementType.str();
  function.addPass(createGraphSessionKvCachePass(cache));
  function.addPass(createCanonicalizerPass());
}

void mlir::kiln::addQuestPass(OpPassManager &function,
                              const SessionCacheOptions &options) {
  if (options.kvCacheCapacity <= 0 || options.questBudget <= 0)
    return;
  SparsityQuestPassOptions quest;
  quest.budget = options.questBudget;
  quest.page = options.questPage;
  quest.denseLayers = options.questDenseLayers;
  quest.keepFirst = options.questKeepFirstPage;
  quest.warn = options.questWarn;
  function.addPass(createSparsityQuestPass(quest));
}

void mlir::kiln::addSparseRefinePass(OpPassManager &pm,
                                     const SparseRefineOptions &options) {
  if (options.refineLowHeight <= 0)
    return;
  SparsitySparseRefinePassOptions refine;
  refine.lowHeight = options.refineLowHeight;
  refine.lowWidth = options.refineLowWidth;
  refine.threshold = options.refineThreshold;
  refine.fraction = options.refineFraction;
  refine.tile = options.refineTile;
  refine.halo = options.refineHalo;
  refine.maxTiles = options.refineMaxTiles;
  refine.refiner = options.refineRefiner;
  refine.ensembler = options.refineEnsembler;
  pm.addPass(createSparsitySparseRefinePass(refine));
}

void mlir::kiln::buildCpuGraphPipeline(OpPassManager &pm,
                                       const CpuPipelineOptions &options) {
  addSparseRefinePass(pm, options);
  buildGraphPipeline(pm);
  OpPassManager &function = pm.nest<func::FuncOp>();
  // Keys and values are the attention's operands: under bf16 the cache
  // holds them rounded as the contractions' operands are. QoQ's KV4 holds
  // them in 4 bits.
  addSessionKvCachePass(function, options,
                        options.quantize == "w4a8kv4" ? "kv4"
                        : options.precision == "bf16" ? "bf16"
                                                      : "f32");
  function.addPass(createGraphFoldBatchNormPass());
  addQuantizationPasses(function, options);
  function.addPass(createGraphMergeSiblingProductsPass());
  LayoutPackContractionsPassOptions packing;
  packing.vectorBits = options.vectorBits;
  packing.precision = options.precision;
  // bf16 pairs without vdpbf16ps or AMX split into two f32 multiply-adds,
  // slower than f32 (ResNet-50 1.5x on Zen 3): such CPUs keep the filters
  // alone bf16, for their bytes.
  packing.bf16Activations = options.bf16Dot || options.amx;
  function.addPass(createLayoutPackContractionsPass(packing));
  function.addPass(createLayoutPoolsChannelsLastPass());
  function.addPass(createLayoutPropagateTransposesPass());
  function.addPass(createGraphFuseEpiloguesPass());
  function.addPass(createGraphFuseAttentionPass());
  addQuestPass(function, options);
  function.addPass(createCpuAttendPastPass());
  function.addPass(createGraphRowKernelsPass());
  function.addPass(createGraphLinearResizePass());
  function.addPass(createCanonicalizerPass());
  function.addPass(createCSEPass());
}

void mlir::kiln::buildCpuLinalgPipeline(OpPassManager &pm,
                                        const CpuPipelineOptions &options) {
  buildCpuGraphPipeline(pm, options);
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(createLowerOnnxToLinalgPass());
  function.addPass(createCanonicalizerPass());
  function.addPass(createCSEPass());
}

void mlir::kiln::buildBufferizationPipeline(OpPassManager &pm,
                                             bool planResults, bool fuseMoves) {
  // Unsigned tensors as the signless ones bufferization handles (the
  // signature, which keeps them, is described before this).
  pm.addPass(createSignlessIntegersPass());
  // Elementwise chains (a Conv's bias, BN and ReLU) become one loop nest,
  // so their intermediates never reach memory.
  OpPassManager &fusion = pm.nest<func::FuncOp>();
  FuseElementwisePassOptions fusing;
  fusing.fuseMoves = fuseMoves;
  fusion.addPass(createFuseElementwisePass(fusing));
  fusion.addPass(createCanonicalizerPass());
  fusion.addPass(createCSEPass());

  // Pieces of a Concat are written where the Concat puts them (a stack of
  // per-layer caches included), not written and then copied.
  fusion.addPass(createWriteInPlacePass());

  bufferization::OneShotBufferizationOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
  // Ownership-based deallocation: every intermediate is freed, and every
  // returned buffer is owned by the caller (the runtime frees it).
  bufferization::buildBufferDeallocationPipeline(
      pm, bufferization::BufferDeallocationPipelineOptions());
  pm.addPass(createBufferizationToMemRefPass());
  pm.addPass(createExternalizeWeightsPass());
  PlanMemoryPassOptions planning;
  planning.planResults = planResults;
  pm.addPass(createPlanMemoryPass(planning));
}

void mlir::kiln::buildCpuLoweringPipeline(OpPassManager &pm,
                                          const CpuPipelineOptions &options) {
  buildBufferizationPipeline(pm, /*planResults=*/true);
  pm.addPass(createCpuInstrumentKernelsPass());
  OpPassManager &function = pm.nest<func::FuncOp>();
  CpuLowerPackedConvPassOptions microkernels;
  microkernels.vectorBits = options.vectorBits;
  microkernels.bf16Dot = options.bf16Dot;
  microkernels.amx = options.amx;
  function.addPass(createCpuLowerPackedConvPass(microkernels));
  CpuLowerDepthwiseConvPassOptions depthwise;
  depthwise.vectorBits = options.vectorBits;
  function.addPass(createCpuLowerDepthwiseConvPass(depthwise));
  CpuLowerAttentionPassOptions attention;
  attention.vectorBits = options.vectorBits;
  CpuLowerPageSelectionPassOptions pageSelection;
  pageSelection.vectorBits = options.vectorBits;
  function.addPass(createCpuLowerPageSelectionPass(pageSelection));
  function.addPass(createLowerSparseRefinePass());
  function.addPass(createLowerSparseConvolutionPass());
  function.addPass(createCpuLowerAttentionPass(attention));
  CpuLowerRowKernelsPassOptions rows;
  rows.vectorBits = options.vectorBits;
  function.addPass(createCpuLowerRowKernelsPass(rows));
  function.addPass(createCpuLowerResizeLinearPass());
  // Arithmetic on bf16 values (models whose tensors are bf16) computes in
  // f32: LLVM would otherwise round each result back with a libgcc call
  // (__truncsfbf2) on CPUs without AVX512_BF16, which a package linked
  // into an application may not find. Before the canonicalizer, which
  // would make the padded kernels' branches between bf16 buffers selects
  // that the emulation mistakes for arithmetic.
  arith::ArithEmulateUnsupportedFloatsOptions emulation;
  std::string bf16Name = "bf16";
  emulation.sourceTypeStrs = ArrayRef<std::string>(bf16Name);
  function.addPass(arith::createArithEmulateUnsupportedFloats(emulation));
  function.addPass(math::createMathLegalizeToF32());
  // A decode step's past key/value caches copied into the present ones:
  // the threads share chunks of 16 KB, a few microseconds each, written
  // with non-temporal stores (the next step reads them back).
  LowerStridedCopiesPassOptions stridedCopies;
  stridedCopies.chunkBytes = 16384;
  stridedCopies.streamingStores = true;
  function.addPass(createLowerStridedCopiesPass(stridedCopies));
  function.addPass(createLinalgGeneralizeNamedOpsPass());
  function.addPass(createCpuOrderLoopsPass());
  function.addPass(createConvertLinalgToParallelLoopsPass());
  function.addPass(createCanonicalizerPass());
  // The outer loop of each large nest runs on the session's threads, as an
  // OpenMP worksharing loop (the runtime implements the few OpenMP entry
  // points the lowering calls).
  function.addPass(createCpuSelectParallelLoopsPass());
  // exp, erf, tanh, ... as polynomials, so that their loops vectorize.
  function.addPass(createCpuApproximateMathPass());

  pm.addPass(createCpuOutlineKernelsPass());
  pm.addPass(createCpuPrepareEntryPointPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  // Drops the memref.alloca_scope the OpenMP conversion wraps loop bodies
  // in (they hold no allocas), which the CFG lowering cannot keep.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createCpuLowerBf16DotPass());
  pm.addPass(createCpuLowerAmxPass());
  CpuLowerInt8DotPassOptions int8Dot;
  int8Dot.vnni = options.vnni;
  pm.addPass(createCpuLowerInt8DotPass(int8Dot));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  CpuTruncateToBf16PassOptions truncation;
  truncation.convertInstruction = options.bf16Dot;
  pm.addPass(createCpuTruncateToBf16Pass(truncation));
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  // LLVM intrinsics where LLVM has them, libm calls for the rest.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createCpuBf16MaskedStoresPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCpuPackEntryPointPass());
}

void mlir::kiln::buildCpuPipeline(OpPassManager &pm,
                                  const CpuPipelineOptions &options) {
  buildCpuLinalgPipeline(pm, options);
  buildCpuLoweringPipeline(pm, options);
}

void mlir::kiln::buildCudaGraphPipeline(OpPassManager &pm,
                                        const CudaPipelineOptions &options) {
  addSparseRefinePass(pm, options);
  buildGraphPipeline(pm);
  OpPassManager &function = pm.nest<func::FuncOp>();
  addSessionKvCachePass(function, options, "f32");
  if (!options.quantize.empty()) {
    function.addPass(createGraphFoldBatchNormPass());
    addQuantizationPasses(function, options);
  }
  // Attention as one kernel (kiln/cuda/attention.h), which Quest rewrites
  // to read the pages it selects.
  function.addPass(createGraphFuseAttentionPass());
  addQuestPass(function, options);
  // Quantized products, Kiln's or the model's own QDQ pairs: no packed
  // layouts here, the INT8 tensor-core GEMMs read the bytes.
  function.addPass(createQuantIntegerProductsPass());
  function.addPass(createCanonicalizerPass());
}

void mlir::kiln::buildCudaLinalgPipeline(OpPassManager &pm,
                                         const CudaPipelineOptions &options) {
  buildCudaGraphPipeline(pm, options);
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(createLowerOnnxToLinalgPass());
  LowerAttentionToLinalgPassOptions attention;
  attention.fusedDepth = kMostFusedAttentionDepth;
  function.addPass(createLowerAttentionToLinalgPass(attention));
  function.addPass(createCanonicalizerPass());
  function.addPass(createCSEPass());
}

void mlir::kiln::buildCudaLoweringPipeline(OpPassManager &pm) {
  // Matrix-vector products' weights row by row, for the warp per output.
  pm.nest<func::FuncOp>().addPass(createCudaTransposeVectorWeightsPass());
  // A transposed key cache is read in place by the product that uses it.
  buildBufferizationPipeline(pm, /*planResults=*/false, /*fuseMoves=*/true);
  // Parallel dimensions become scf.parallel (one GPU thread each), the
  // reductions stay sequential loops inside; GEMMs stay linalg ops for
  // the emitter's tiled kernels.
  OpPassManager &function = pm.nest<func::FuncOp>();
  // Sizes known only at run time are computed on the host: reshapes
  // become views with explicit sizes, and the exporters' shape arithmetic
  // (scalar loops once lowered) is forwarded into arithmetic on the
  // inputs' dimensions instead of scalars stored to device memory.
  function.addPass(memref::createExpandOpsPass());
  LowerSparseRefinePassOptions refine;
  refine.interleave = true;
  function.addPass(createLowerSparseRefinePass(refine));
  function.addPass(createLowerSparseConvolutionPass());
  function.addPass(createLowerPageSelectionPass());
  function.addPass(createLowerStridedCopiesPass());
  function.addPass(createLinalgGeneralizeNamedOpsPass());
  function.addPass(createCudaLowerToLoopsPass());
  function.addPass(createLowerAffinePass());
  function.addPass(createForwardScalarStoresPass());
  function.addPass(createCanonicalizerPass());
  function.addPass(createCSEPass());
}

void mlir::kiln::buildCudaPipeline(OpPassManager &pm) {
  buildCudaLinalgPipeline(pm, CudaPipelineOptions());
  buildCudaLoweringPipeline(pm);
}

void mlir::kiln::registerPipelineDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<KilnDialect>();
  registerKilnBufferizationModels(registry);
}

namespace {
/// The CPU pipelines' options on kiln-opt's command line.
struct CpuPipelineFlags : PassPipelineOptions<CpuPipelineFlags> {
  Option<int64_t> vectorBits{
      *this, "vector-bits",
      llvm::cl::desc("Width of the vector registers: 512 (AVX-512) or 256 "
                     "(AVX2)"),
      llvm::cl::init(512)};
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("Operands of the packed contractions: f32 or bf16"),
      llvm::cl::init("f32")};
  Option<bool> bf16Dot{
      *this, "bf16-dot",
      llvm::cl::desc("Whether the CPU has AVX512_BF16's vdpbf16ps"),
      llvm::cl::init(false)};
  Option<bool> amx{
      *this, "amx",
      llvm::cl::desc("Whether the CPU has AMX tiles with BF16 dot products"),
      llvm::cl::init(false)};
  Option<bool> vnni{
      *this, "vnni",
      llvm::cl::desc("Whether the CPU has vpdpbusd (AVX512_VNNI, AVX-VNNI)"),
      llvm::cl::init(false)};

  kiln::CpuPipelineOptions pipelineOptions() const {
    kiln::CpuPipelineOptions result;
    result.vectorBits = vectorBits;
    result.precision = precision;
    result.bf16Dot = bf16Dot;
    result.amx = amx;
    result.vnni = vnni;
    return result;
  }
};

/// Registers `build` as a CPU pipeline taking CpuPipelineFlags.
void registerCpuPipeline(StringRef name, StringRef description,
                         void (*build)(OpPassManager &,
                                       const kiln::CpuPipelineOptions &)) {
  PassPipelineRegistration<CpuPipelineFlags>(
      name, description,
      [build](OpPassManager &pm, const CpuPipelineFlags &flags) {
        build(pm, flags.pipelineOptions());
      });
}
} // namespace

void mlir::kiln::registerPipelines() {
  registerKilnGraphPasses();
  registerKilnLayoutPasses();
  registerKilnQuantPasses();
  registerKilnSparsityPasses();
  registerKilnCodegenLinalgPasses();
  registerKilnCodegenCommonPasses();
  registerKilnCodegenCpuPasses();
  registerKilnCodegenCudaPasses();
  registerCpuPipeline(
      "kiln-cpu-graph-pipeline",
      "The graph stage for the CPU: packed contractions on channels-last "
      "data with fused epilogues",
      buildCpuGraphPipeline);
  registerCpuPipeline(
      "kiln-cpu-linalg-pipeline",
      "The tensor stage for the CPU: the CPU graph stage, then onnx lowered "
      "to linalg",
      buildCpuLinalgPipeline);
  registerCpuPipeline(
      "kiln-cpu-pipeline",
      "The CPU stage: the tensor stage, then bufferization and the "
      "lowering to the LLVM dialect",
      buildCpuPipeline);
  registerCpuPipeline(
      "kiln-cpu-lowering-pipeline",
      "From linalg on tensors to the LLVM dialect with the entry point "
      "kiln_entry",
      buildCpuLoweringPipeline);
  PassPipelineRegistration<>(
      "kiln-cuda-pipeline",
      "The CUDA stage up to the kernel emitter: the tensor stage, then "
      "bufferization and loops",
      buildCudaPipeline);
  PassPipelineRegistration<>(
      "kiln-cuda-lowering-pipeline",
      "From linalg on tensors to the planned loop nests that kiln-translate "
      "--kiln-to-cuda turns into CUDA C++",
      buildCudaLoweringPipeline);
  PassPipelineRegistration<>(
      "kiln-linalg-pipeline",
      "The tensor stage: the graph stage, then onnx lowered to linalg",
      buildLinalgPipeline);
  PassPipelineRegistration<>(
      "kiln-graph-pipeline",
      "The graph stage: fold constants and canonicalize the onnx dialect",
      buildGraphPipeline);
}
