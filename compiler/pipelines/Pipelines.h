//===- Pipelines.h - the stages of `kiln compile` ---------------*- C++ -*-===//

#ifndef KILN_COMPILER_PIPELINES_PIPELINES_H
#define KILN_COMPILER_PIPELINES_PIPELINES_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace mlir::kiln {

/// The graph stage: constant folding and canonicalization of the onnx
/// dialect, so that the shape arithmetic of static models folds away.
void buildGraphPipeline(OpPassManager &pm);

/// The tensor stage: the graph stage, then every onnx op lowered to linalg,
/// tensor, arith and math.
void buildLinalgPipeline(OpPassManager &pm);

/// The quantization a compilation asks for (any target).
struct QuantizationOptions {
  /// Quantization of the weights: "" (none), "w4a16" (4-bit weights in
  /// groups of `groupSize` input channels, f32 activations), "w8a8"
  /// (8-bit weights per output channel, 8-bit activations with static
  /// scales from the calibration statistics), "w4a8" (QoQ's progressive
  /// 4-bit weights, 8-bit activations per row) or "w4a8kv4" (that, and a
  /// session cache in 4 bits); products named in `quantizeExclude` stay
  /// f32.
  std::string quantize;
  /// For w4a16 "awq" (scales and clipping from the calibration statistics
  /// on the products), for w8a8 "smoothquant" (smoothing with strength
  /// `smoothAlpha`), for w4a8 "qoq" (smoothing and clipping), or "rtn"
  /// (round to nearest alone).
  std::string quantizeMethod = "awq";
  double smoothAlpha = 0.5;
  /// With a positive grid, SmoothQuant searches each layer's alpha among
  /// 0, 1/grid, ..., 1 instead.
  int64_t smoothAlphaGrid = 0;
  /// W8A8 weights in [-63, 63] (what vpmaddubsw multiplies exactly).
  bool narrowWeights = false;
  /// W8A8 matrix products' activations with one scale per row (token),
  /// computed at run time, instead of one static scale per tensor.
  bool dynamicActivations = false;
  /// W4A8KV4 with qoq: SmoothAttention's strength before the 4-bit key
  /// cache (0: none).
  double smoothAttentionAlpha = 0;
  /// W4A8KV4: keys and queries rotated by a Hadamard matrix before the
  /// 4-bit key cache; a model with no key cache to rotate is worth a
  /// warning only when the rotation was asked for.
  bool rotateKeys = false, rotateKeysAsked = false;
  /// W4A8KV4 with qoq: each head's mean key (from calibration) subtracted
  /// before the 4-bit key cache; warned about as the rotation is.
  bool centerKeys = false, centerKeysAsked = false;
  /// W4A16 with awq: "nearest" or "gptq" (GPTQ's error-compensating
  /// rounding, from the calibration's Gram matrices).
  std::string weightRounding = "nearest";
  int64_t groupSize = 128;
  std::vector<std::string> quantizeExclude;
};

/// Adds the quantization passes `options` ask for to `function`'s pass
/// manager (target-neutral; the weight products must carry calibration
/// statistics where the method needs them).
void addQuantizationPasses(OpPassManager &function,
                           const QuantizationOptions &options);

/// SparseRefine's settings (any target): with a positive low resolution,
/// the model at that resolution, and at full resolution on the tiles (of
/// `refineTile` pixels, with `refineHalo` around) that hold pixels whose
/// entropy exceeds `refineThreshold` or, when that is negative, the
/// `refineFraction` most uncertain.
struct SparseRefineOptions {
  int64_t refineLowHeight = 0, refineLowWidth = 0;
  double refineThreshold = -1, refineFraction = -1;
  int64_t refineTile = 128, refineHalo = 32;
  /// At most this many tiles (those with the most selected pixels; 0: all).
  int64_t refineMaxTiles = 0;
  /// Or the functions of the module that are a trained refiner, run
  /// sparsely on the selected pixels, and its ensembler (both optional).
  std::string refineRefiner, refineEnsembler;
};

/// The session's key/value cache (any target): with a positive capacity
/// (tokens), the past/present key-value cache becomes the session's, in
/// pages of `kvCachePage` tokens.
struct SessionCacheOptions {
  int64_t kvCacheCapacity = 0;
  int64_t kvCachePage = 16;
  /// With a positive budget (tokens), Quest's sparse decode attention over
  /// the cache: pages of `questPage` tokens, the first `questDenseLayers`
  /// attentions dense; `questWarn` warns when there is no attention to
  /// make sparse.
  int64_t questBudget = 0;
  int64_t questPage = 16;
  int64_t questDenseLayers = 2;
  /// The first page (the attention sink) always among Quest's pages.
  bool questKeepFirstPage = false;
  bool questWarn = false;
};

/// Adds the session cache's pass (and a canonicalization after it) to
/// `function`'s pass manager when `options` ask for it, the cache held in
/// `elementType` (f32, bf16 or kv4).
void addSessionKvCachePass(OpPassManager &function,
                           const SessionCacheOptions &options,
                           llvm::StringRef elementType);

/// Adds Quest's pass when `options` ask for it; the attentions must be
/// fused (kiln.attention) before it.
void addQuestPass(OpPassManager &function, const SessionCacheOptions &options);

/// Adds SparseRefine's pass when `options` ask for it (a module pass: it
/// runs before the graph stage, on the model as imported).
void addSparseRefinePass(OpPassManager &pm, const SparseRefineOptions &options);

/// What the CPU pipelines need to know of the target, and the quantization.
struct CpuPipelineOptions : QuantizationOptions,
                            SparseRefineOptions,
                            SessionCacheOptions {
  /// Width of the vector registers: 512 (AVX-512) or 256 (AVX2); sizes the
  /// packed layouts and the microkernels.
  int64_t vectorBits = 512;
  /// Operands of the packed contractions: "f32", or "bf16" (bf16 weights
  /// and inputs, f32 accumulation; everything else stays f32).
  std::string precision = "f32";
  /// Whether the CPU has AVX512_BF16's dot product of bf16 pairs.
  bool bf16Dot = false;
  /// Whether the CPU has AMX tiles with BF16 dot products (AMX-TILE and
  /// AMX-BF16).
  bool amx = false;
  /// Whether the CPU has vpdpbusd (AVX512_VNNI or AVX-VNNI), the 8-bit
  /// integer dot product.
  bool vnni = false;
};

/// The graph stage for the CPU: the graph stage, then BatchNormalization
/// folding, packed (data-tiled) contractions on channels-last data, the
/// Transposes between them cancelled, and their epilogues fused.
void buildCpuGraphPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// The tensor stage for the CPU: the CPU graph stage, then the lowering to
/// linalg (kiln ops stay as they are).
void buildCpuLinalgPipeline(OpPassManager &pm,
                            const CpuPipelineOptions &options);

/// From the tensor stage to planned buffers, shared by the CPU and CUDA
/// targets: elementwise fusion, bufferization with deallocation, weights
/// moved to the package's weights section, the static memory plan (with
/// `planResults`, of the returned buffers too: the CPU runtime hands them
/// out as session memory).
/// `fuseMoves`: transposes and broadcasts fuse into reductions too (see
/// kiln-fuse-elementwise).
void buildBufferizationPipeline(OpPassManager &pm, bool planResults = false,
                                bool fuseMoves = false);

/// What the CUDA pipelines take: the quantization, SparseRefine, and the
/// session's key/value cache.
struct CudaPipelineOptions : QuantizationOptions,
                             SparseRefineOptions,
                             SessionCacheOptions {};

/// The graph stage for CUDA: the graph stage, then the session's cache
/// (with Quest's sparse attention), the quantization `options` ask for
/// (BatchNormalization folded first), and quantized products (those, or
/// the model's QDQ pairs) as integer products of their bytes.
void buildCudaGraphPipeline(OpPassManager &pm,
                            const CudaPipelineOptions &options);

/// The tensor stage for CUDA: its graph stage, then the lowering to linalg
/// (kiln.attention's too).
void buildCudaLinalgPipeline(OpPassManager &pm,
                             const CudaPipelineOptions &options);

/// The CUDA stage from the tensor stage on: the shared bufferization, then
/// loop nests whose parallel dimensions are scf.parallel, ready for the
/// CUDA kernel emitter (codegen/cuda/KernelEmitter.h).
void buildCudaLoweringPipeline(OpPassManager &pm);

/// The tensor stage, then the CUDA lowering.
void buildCudaPipeline(OpPassManager &pm);

/// The CPU stage from the tensor stage on: bufferization with
/// deallocation, weights moved to the package's weights section, loops, and
/// the lowering to the LLVM dialect with the packed entry point
/// `kiln_entry`. The module it produces translates to LLVM IR.
void buildCpuLoweringPipeline(OpPassManager &pm,
                              const CpuPipelineOptions &options);

/// The whole CPU pipeline: the tensor stage, then the CPU lowering.
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Registers what the pipelines need with `registry`: the upstream dialects
/// and their interface models (bufferization, deallocation, conversion to
/// LLVM) and translations.
void registerPipelineDialects(DialectRegistry &registry);

/// Registers every pipeline with the pass registry (`kiln-opt
/// --kiln-graph-pipeline`).
void registerPipelines();

} // namespace mlir::kiln

#endif // KILN_COMPILER_PIPELINES_PIPELINES_H
