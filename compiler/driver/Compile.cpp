//===- Compile.cpp - `kiln compile` ---------------------------------------===//
//
//   kiln compile MODEL.onnx [--emit=STAGE] [-o FILE] [--cpu=CPU] ...
//
// Imports the model, runs the pipeline to the requested stage and writes
// that stage: MLIR text, LLVM IR, an object file or (by default) a .kiln
// package. Every error is one line on stderr naming the model and, where
// there is one, the ONNX node.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Calibration.h"
#include "compiler/driver/Commands.h"

#include "codegen/common/PackageWriter.h"
#include "codegen/common/Passes.h"
#include "codegen/cpu/ObjectEmitter.h"
#include "codegen/cpu/SharedObjectLinker.h"
#include "codegen/cuda/CudaToolchain.h"
#include "codegen/cuda/KernelEmitter.h"
#include "compiler/import/OnnxImporter.h"
#include "compiler/pipelines/Pipelines.h"
#include "dialects/kiln/KilnAttributes.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>

using namespace mlir;
using namespace mlir::kiln;
namespace cl = llvm::cl;

cl::SubCommand mlir::kiln::compileCommand(
    "compile", "Compile an ONNX model into a .kiln package (or print a "
               "stage of the pipeline)");
cl::OptionCategory mlir::kiln::compileCategory("kiln compile options");

namespace {

/// The functions --refiner and --ensembler import into the model's module.
constexpr llvm::StringLiteral kRefinerFunction = "sparse_refiner";
constexpr llvm::StringLiteral kEnsemblerFunction = "sparse_ensembler";

cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                               cl::desc("<model.onnx>"),
                               cl::sub(compileCommand),
                               cl::cat(compileCategory));

cl::opt<std::string> outputPath(
    "o",
    cl::desc("Output file ('-' for stdout); by default MODEL.kiln for "
             "packages, MODEL.o for objects, stdout for text"),
    cl::value_desc("file"), cl::sub(compileCommand), cl::cat(compileCategory));

enum class Stage { Onnx, Graph, Linalg, Llvm, Obj, Cuda, Package };
cl::opt<Stage> emitStage(
    "emit", cl::desc("What to write"),
    cl::values(clEnumValN(Stage::Onnx, "onnx",
                          "the onnx dialect as imported: one op per node"),
               clEnumValN(Stage::Graph, "graph",
                          "after constant folding, canonicalization and "
                          "shape refinement"),
               clEnumValN(Stage::Linalg, "linalg",
                          "onnx lowered to linalg, tensor, arith and math"),
               clEnumValN(Stage::Llvm, "llvm",
                          "the optimized LLVM IR of the CPU code"),
               clEnumValN(Stage::Obj, "obj",
                          "the CPU code as an ELF object (entry point "
                          "kiln_entry; weights are passed in)"),
               clEnumValN(Stage::Cuda, "cuda",
                          "the generated CUDA C++ (with --target=cuda)"),
               clEnumValN(Stage::Package, "package",
                          "a .kiln package: manifest, code and weights "
                          "(the default)")),
    cl::init(Stage::Package), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> cpuName(
    "cpu",
    cl::desc("The x86-64 CPU to generate code for: 'native' (this machine, "
             "the default) or an LLVM CPU name such as x86-64-v3, "
             "skylake-avx512 or znver4"),
    cl::value_desc("name"), cl::init("native"), cl::sub(compileCommand),
    cl::cat(compileCategory));

enum class Target { Cpu, Cuda };
cl::opt<Target> target(
    "target", cl::desc("What the package runs on"),
    cl::values(clEnumValN(Target::Cpu, "cpu", "x86-64 CPUs (the default)"),
               clEnumValN(Target::Cuda, "cuda",
                          "NVIDIA GPUs, through generated CUDA kernels "
                          "(which Kiln's SIMT emulator also runs)")),
    cl::init(Target::Cpu), cl::sub(compileCommand), cl::cat(compileCategory));

cl::opt<std::string> cudaArchitectures(
    "cuda-arch",
    cl::desc("With --target=cuda: the GPU architectures to compile SASS "
             "for, comma-separated (PTX is added for the newest); 'none' "
             "builds for the emulator only, without nvcc"),
    cl::value_desc("sm_XX,..."), cl::init("sm_80,sm_86,sm_89,sm_90"),
    cl::sub(compileCommand), cl::cat(compileCategory));

cl::opt<std::string> cudaPrecision(
    "cuda-precision",
    cl::desc("With --target=cuda: how matrix products multiply: 'fp32' "
             "(the default) on the CUDA cores, or on tensor cores with "
             "'tf32', 'fp16' or 'bf16' operands (FP32 accumulation); "
             "everything else computes in FP32"),
    cl::value_desc("fp32|tf32|fp16|bf16"), cl::init("fp32"),
    cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> precision(
    "precision",
    cl::desc("For the CPU: the operands of convolutions and matrix products "
             "with constant weights: 'fp32' (the default) or 'bf16' (bf16 "
             "weights and inputs, FP32 accumulation, with AVX512_BF16's "
             "vdpbf16ps or AMX; on other CPUs bf16 weights alone, widened "
             "to FP32 as they load); everything else computes in FP32"),
    cl::value_desc("fp32|bf16"), cl::init("fp32"), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> kvCache(
    "kv-cache",
    cl::desc("For a decoder with past/present key-value inputs and outputs: "
             "'graph' (the default) keeps them as the model declares them; "
             "'session' gives the cache to the session, which appends each "
             "run's keys and values in place (see --max-context)"),
    cl::value_desc("graph|session"), cl::init("graph"),
    cl::sub(compileCommand), cl::cat(compileCategory));

cl::opt<int64_t> maxContext(
    "max-context",
    cl::desc("With --kv-cache=session: the tokens the cache holds (default "
             "4096; rounded up to whole pages)"),
    cl::value_desc("N"), cl::init(4096), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<int64_t> kvPage(
    "kv-page",
    cl::desc("With --kv-cache=session: tokens per page of the cache "
             "(default 16)"),
    cl::value_desc("N"), cl::init(16), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<int64_t> questBudget(
    "quest-budget",
    cl::desc("With --kv-cache=session: Quest's sparse decode attention, each "
             "step reading about this many cached tokens (whole pages: the "
             "current one and those whose keys can score highest) instead "
             "of all of them; prefill, and contexts within the budget, stay "
             "dense (0, the default: off)"),
    cl::value_desc("TOKENS"), cl::init(0), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<int64_t> questPage(
    "quest-page",
    cl::desc("With --quest-budget: tokens per page Quest bounds and selects "
             "(a multiple of 16; default 16)"),
    cl::value_desc("N"), cl::init(16), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<int64_t> questDenseLayers(
    "quest-dense-layers",
    cl::desc("With --quest-budget: the first attention layers, which stay "
             "dense (default 2)"),
    cl::value_desc("N"), cl::init(2), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<bool> questKeepFirstPage(
    "quest-keep-first-page",
    cl::desc("With --quest-budget: the first page (where decoders keep their "
             "attention sink) is always among the pages a step attends to"),
    cl::init(false), cl::sub(compileCommand), cl::cat(compileCategory));

cl::list<std::string> dimValues(
    "dim",
    cl::desc("Compile a symbolic input dimension (an ONNX dim_param) at "
             "this size; repeat for each"),
    cl::value_desc("NAME=SIZE"), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> sparseRefine(
    "sparse-refine",
    cl::desc("SparseRefine for a segmentation model of one image input and "
             "per-pixel logits: run it at this lower resolution (dividing the "
             "image's), and at full resolution only on the tiles holding "
             "uncertain pixels (--refine-threshold or --refine-fraction), "
             "whose logits replace the upsampled ones there"),
    cl::value_desc("HEIGHTxWIDTH"), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<double> refineThreshold(
    "refine-threshold",
    cl::desc("With --sparse-refine: refine the pixels whose entropy (over "
             "the low-resolution logits' softmax) exceeds this"),
    cl::value_desc("T"), cl::init(-1), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<double> refineFraction(
    "refine-fraction",
    cl::desc("With --sparse-refine: refine this fraction of the pixels, the "
             "most uncertain (default 0.1 without --refine-threshold)"),
    cl::value_desc("F"), cl::init(-1), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<int64_t> refineTile(
    "refine-tile",
    cl::desc("With --sparse-refine: the side of the tiles re-run at full "
             "resolution, in pixels (default 128; a multiple of the model's "
             "output stride)"),
    cl::value_desc("N"), cl::init(128), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<int64_t> refineHalo(
    "refine-halo",
    cl::desc("With --sparse-refine: the pixels of context each side of a "
             "tile (default 32; a multiple of the model's output stride)"),
    cl::value_desc("N"), cl::init(32), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<int64_t> refineTiles(
    "refine-tiles",
    cl::desc("With --sparse-refine: re-run at most this many tiles, those "
             "with the most selected pixels (default 0: every tile holding "
             "one), which bounds a run's time"),
    cl::value_desc("N"), cl::init(0), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> refinerPath(
    "refiner",
    cl::desc("With --sparse-refine: refine the uncertain pixels with this "
             "trained refiner (an ONNX convolutional network of the image, "
             "and optionally the upsampled logits, to logits) run sparsely "
             "on them, instead of re-running the model on tiles"),
    cl::value_desc("refiner.onnx"), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> ensemblerPath(
    "ensembler",
    cl::desc("With --refiner: blend the low-resolution and the refined logits "
             "of each refined pixel with this trained ensembler (an ONNX "
             "model of the two, rows [n, K], to logits [n, K]); without it "
             "the refined logits replace the others"),
    cl::value_desc("ensembler.onnx"), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> quantize(
    "quantize",
    cl::desc("For the CPU: quantize the matrix products with constant "
             "weights: 'w4a16' (unsigned 4-bit weights in groups of "
             "--group-size input channels with f16 scales and zero points; "
             "activations stay FP32), 'w8a8' (signed 8-bit weights per "
             "output channel and 8-bit activations with one scale per "
             "tensor from calibration, integer arithmetic), 'w4a8' "
             "(QoQ's progressive 4-bit weights: 8-bit integers per output "
             "channel, then 4-bit groups of them with integer scales; 8-bit "
             "activations with one scale per row at run time) or 'w4a8kv4' "
             "(that, and the session's key/value cache in 4 bits per value "
             "with an f16 scale and zero point per token and head; needs "
             "--kv-cache=session)"),
    cl::value_desc("w4a16|w8a8|w4a8|w4a8kv4"), cl::init(""),
    cl::sub(compileCommand), cl::cat(compileCategory));

cl::opt<int64_t> groupSize(
    "group-size",
    cl::desc("With --quantize: input channels per group of one scale and "
             "zero point (default 128); it must divide every quantized "
             "product's input channels"),
    cl::value_desc("G"), cl::init(128), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::list<std::string> quantizeExclude(
    "quantize-exclude",
    cl::desc("With --quantize: ONNX node names of products to keep in "
             "floating point, comma-separated"),
    cl::value_desc("NODE,..."), cl::CommaSeparated, cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> quantizeMethod(
    "quantize-method",
    cl::desc("With --quantize: for w4a16 'awq' (the default: "
             "activation-aware scales and clipping searched on calibration "
             "data, then round to nearest), for w8a8 'smoothquant' (the "
             "default: activation outliers smoothed into the weights), for "
             "w4a8 'qoq' (the default: the down projection smoothed and the "
             "clipping searched on calibration data), or 'rtn' (round to "
             "nearest alone; w4a16 and w4a8 then need no calibration)"),
    cl::value_desc("awq|smoothquant|qoq|rtn"), cl::init(""),
    cl::sub(compileCommand), cl::cat(compileCategory));

cl::opt<std::string> smoothAlpha(
    "smooth-alpha",
    cl::desc("With --quantize=w8a8: SmoothQuant's migration strength, from "
             "0 (nothing moves into the weights) to 1 (default 0.5), or "
             "'auto': searched per layer on the calibration rows"),
    cl::value_desc("A|auto"), cl::init("0.5"), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> smoothAttention(
    "smooth-attention",
    cl::desc("With --quantize=w4a8kv4 (qoq): SmoothAttention's strength, "
             "key channels divided by max|K|^A and the queries' multiplied, "
             "before the 4-bit key cache; 0 (the default) leaves the keys as "
             "they are"),
    cl::value_desc("A"), cl::init("0"), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<bool> rotateKeys(
    "rotate-keys",
    cl::desc("With --quantize=w4a8kv4: keys and queries multiplied by a "
             "Hadamard matrix after RoPE, before the 4-bit key cache "
             "(scores unchanged, each key's range narrower; the default, "
             "--rotate-keys=false to keep the keys as they are)"),
    cl::init(true), cl::sub(compileCommand), cl::cat(compileCategory));

cl::opt<bool> centerKeys(
    "center-keys",
    cl::desc("With --quantize=w4a8kv4 (qoq): each head's mean key over the "
             "calibration rows subtracted before the 4-bit key cache "
             "(scores shifted alike, so the attention is unchanged; each "
             "key's range narrower; the default, --center-keys=false to "
             "keep the keys as they are)"),
    cl::init(true), cl::sub(compileCommand), cl::cat(compileCategory));

cl::opt<std::string> weightRounding(
    "weight-rounding",
    cl::desc("With --quantize=w4a16 (awq), w4a8 or w4a8kv4 (qoq): how the "
             "scaled and clipped weights become 4-bit integers, 'nearest' "
             "(the default) or 'gptq' "
             "(one input channel at a time, each channel's rounding error "
             "compensated on the later ones through the Gram matrix of the "
             "calibration inputs, which calibration then gathers)"),
    cl::value_desc("nearest|gptq"), cl::init("nearest"),
    cl::sub(compileCommand), cl::cat(compileCategory));

cl::opt<std::string> activations(
    "activations",
    cl::desc("With --quantize=w8a8: the matrix products' activation scales, "
             "'static' (one per tensor from calibration, the default) or "
             "'dynamic' (one per row, computed at run time; convolutions "
             "stay static)"),
    cl::value_desc("static|dynamic"), cl::init("static"),
    cl::sub(compileCommand), cl::cat(compileCategory));

cl::opt<std::string> weightLevels(
    "weight-levels",
    cl::desc("With --quantize=w8a8: the weights' integers, [-127, 127] "
             "('127') or [-63, 63] ('63', which CPUs without VNNI multiply "
             "with vpmaddubsw; 8-bit weights take a slower exact path "
             "there); 'auto' (the default) picks by the target CPU"),
    cl::value_desc("auto|127|63"), cl::init("auto"), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> calibrationDir(
    "calibration",
    cl::desc("With --quantize: a directory of calibration samples, one "
             ".npz file (numpy.savez) per run holding every model input by "
             "name"),
    cl::value_desc("DIR"), cl::init(""), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> calibrationText(
    "calibration-text",
    cl::desc("With --quantize, for a decoder: calibration samples made from "
             "this text's tokens (with --tokenizer), in windows of "
             "--calibration-window tokens"),
    cl::value_desc("FILE"), cl::init(""), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> calibrationTokenizer(
    "tokenizer",
    cl::desc("With --calibration-text: the GGUF file whose tokenizer reads "
             "the text"),
    cl::value_desc("model.gguf"), cl::init(""), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<int64_t> calibrationSamples(
    "calibration-samples",
    cl::desc("With --quantize: the calibration samples to run (0, the "
             "default: every file of --calibration, or every whole window "
             "of --calibration-text)"),
    cl::value_desc("N"), cl::init(0), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<int64_t> calibrationWindow(
    "calibration-window",
    cl::desc("With --calibration-text: tokens per sample (default 512)"),
    cl::value_desc("N"), cl::init(512), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<int64_t> calibrationRows(
    "calibration-rows",
    cl::desc("With --quantize: rows of each product's input (tokens, "
             "pixels) kept from calibration for the searches (default 256, "
             "spread over the samples)"),
    cl::value_desc("N"), cl::init(256), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<std::string> calibrationCache(
    "calibration-cache",
    cl::desc("With --quantize: reuse the calibration statistics saved in "
             "FILE, or, when FILE does not exist yet, calibrate and save them "
             "there (for another --quantize-method or --group-size of the "
             "same model)"),
    cl::value_desc("FILE"), cl::init(""), cl::sub(compileCommand),
    cl::cat(compileCategory));

cl::opt<bool> timing("timing",
                     cl::desc("Print the time spent in each stage and pass"),
                     cl::init(false), cl::sub(compileCommand),
                     cl::cat(compileCategory));

cl::opt<bool> printLocations(
    "print-locations",
    cl::desc("Print each op's location (the ONNX node name)"),
    cl::init(false), cl::sub(compileCommand), cl::cat(compileCategory));

cl::opt<bool> elideWeights(
    "elide-weights",
    cl::desc("Print weights larger than 64 bytes as elided placeholders "
             "(readable, but not parseable again)"),
    cl::init(false), cl::sub(compileCommand), cl::cat(compileCategory));

cl::opt<bool> noShapeInference(
    "no-shape-inference",
    cl::desc("Import with only the types the model declares"),
    cl::init(false), cl::sub(compileCommand), cl::cat(compileCategory));

/// Where a diagnostic points, for the one-line message.
std::string describeLocation(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return "node '" + name.getName().str() + "': ";
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return file.getLine() ? file.getFilename().str() + ":" +
                                std::to_string(file.getLine()) + ": "
                          : "";
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (isa<NameLoc>(inner))
        return describeLocation(inner);
  return "";
}

/// The file being imported when it is not the model (a trained refiner's).
std::string importing;

/// The file a diagnostic is about: the one whose nodes `loc` names (a
/// trained refiner's are marked with it), the one being imported, or the
/// model.
std::string sourceOf(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return sourceOf(name.getChildLoc());
  if (auto file = dyn_cast<FileLineColLoc>(loc); file && !file.getLine())
    return file.getFilename().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (std::string source = sourceOf(inner); source != modelPath)
        return source;
  return importing.empty() ? modelPath.getValue() : importing;
}

/// The output path: as given, or derived from the model's name.
std::string resolveOutputPath() {
  if (!outputPath.empty())
    return outputPath;
  if (emitStage != Stage::Package && emitStage != Stage::Obj)
    return "-";
  llvm::SmallString<128> path(llvm::sys::path::filename(modelPath));
  llvm::sys::path::replace_extension(path,
                                     emitStage == Stage::Obj ? "o" : "kiln");
  // Packages only: `--emit=cuda` prints to stdout like the other text.
  return path.str().str();
}

/// Writes `bytes` to `path` ("-" for stdout), keeping an existing file
/// untouched on failure.
bool writeOutput(llvm::StringRef path, llvm::StringRef bytes) {
  std::string errorMessage;
  auto output = openOutputFile(path, &errorMessage);
  if (!output) {
    llvm::errs() << "kiln: error: " << errorMessage << "\n";
    return false;
  }
  output->os() << bytes;
  output->keep();
  return true;
}

/// Runs the pipeline `build` makes, timed as `name`.
LogicalResult runPipeline(ModuleOp module, TimingScope &rootTiming,
                          StringRef name,
                          function_ref<void(OpPassManager &)> build) {
  PassManager pm(module.getContext());
  TimingScope pipelineTiming = rootTiming.nest(name);
  pm.enableTiming(pipelineTiming);
  build(pm);
  return pm.run(module);
}

/// The method a quantization scheme takes unless told otherwise.
std::string defaultQuantizationMethod() {
  if (quantize == "w8a8")
    return "smoothquant";
  return quantize == "w4a8" || quantize == "w4a8kv4" ? "qoq" : "awq";
}

/// The quantization method: the one asked for, or the default of the
/// scheme.
std::string quantizationMethod() {
  if (!quantizeMethod.empty())
    return quantizeMethod;
  return defaultQuantizationMethod();
}

/// The quantization the options ask for; W8A8 weights in [-63, 63] by
/// default where `narrowByDefault` (CPUs without VNNI).
QuantizationOptions quantizationOptions(bool narrowByDefault) {
  QuantizationOptions options;
  options.narrowWeights =
      weightLevels == "auto" ? narrowByDefault : weightLevels == "63";
  options.dynamicActivations = activations == "dynamic";
  options.quantize = quantize;
  options.quantizeMethod = quantizationMethod();
  // (--smooth-alpha is checked before any pipeline runs.)
  if (smoothAlpha == "auto")
    options.smoothAlphaGrid = 20;
  else
    llvm::StringRef(smoothAlpha).getAsDouble(options.smoothAlpha);
  // (--smooth-attention is checked before any pipeline runs.)
  llvm::StringRef(smoothAttention).getAsDouble(options.smoothAttentionAlpha);
  options.rotateKeys = rotateKeys;
  options.rotateKeysAsked = rotateKeys.getNumOccurrences() > 0;
  options.centerKeys = centerKeys;
  options.centerKeysAsked = centerKeys.getNumOccurrences() > 0;
  options.weightRounding = weightRounding;
  options.groupSize = groupSize;
  options.quantizeExclude.assign(quantizeExclude.begin(),
                                 quantizeExclude.end());
  return options;
}

/// SparseRefine's settings from the command line (none without
/// --sparse-refine; checked before any pipeline runs).
SparseRefineOptions sparseRefineOptions() {
  SparseRefineOptions options;
  if (sparseRefine.empty())
    return options;
  auto [height, width] = llvm::StringRef(sparseRefine).split('x');
  height.getAsInteger(10, options.refineLowHeight);
  width.getAsInteger(10, options.refineLowWidth);
  options.refineThreshold = refineThreshold;
  options.refineFraction =
      refineThreshold < 0 && refineFraction < 0 ? 0.1 : refineFraction;
  options.refineTile = refineTile;
  options.refineHalo = refineHalo;
  options.refineMaxTiles = refineTiles;
  if (!refinerPath.empty())
    options.refineRefiner = kRefinerFunction;
  if (!ensemblerPath.empty())
    options.refineEnsembler = kEnsemblerFunction;
  return options;
}

/// The session cache's settings from the command line, with Quest's (none
/// without --kv-cache=session).
SessionCacheOptions sessionCacheOptions() {
  SessionCacheOptions options;
  if (kvCache == "session") {
    options.kvCacheCapacity = maxContext;
    options.kvCachePage = kvPage;
    options.questBudget = questBudget;
    options.questPage = questPage;
    options.questDenseLayers = questDenseLayers;
    options.questKeepFirstPage = questKeepFirstPage;
    options.questWarn = true;
  }
  return options;
}

/// The cache's settings, as the package's manifest records them.
void recordSessionCache(::kiln::package::Manifest &manifest) {
  manifest.compileOptions.push_back({"kv-cache", kvCache});
  if (kvCache != "session")
    return;
  manifest.compileOptions.push_back(
      {"max-context", std::to_string(maxContext)});
  manifest.compileOptions.push_back({"kv-page", std::to_string(kvPage)});
  if (questBudget <= 0)
    return;
  manifest.compileOptions.push_back(
      {"quest-budget", std::to_string(questBudget)});
  manifest.compileOptions.push_back({"quest-page", std::to_string(questPage)});
  manifest.compileOptions.push_back(
      {"quest-dense-layers", std::to_string(questDenseLayers)});
  manifest.compileOptions.push_back(
      {"quest-keep-first-page", questKeepFirstPage ? "true" : "false"});
}

/// The CPU pipelines' view of `target`: its vector width and its bf16 and
/// int8 dot products, with the precision and quantization asked for.
CpuPipelineOptions cpuOptionsFor(const CpuTarget &target) {
  CpuPipelineOptions options;
  std::vector<std::string> features = target.requiredFeatures();
  options.vectorBits =
      llvm::is_contained(features, "avx512f") ? 512 : 256;
  options.precision = precision == "bf16" ? "bf16" : "f32";
  options.bf16Dot = llvm::is_contained(features, "avx512bf16");
  options.amx = llvm::is_contained(features, "amx-tile") &&
                llvm::is_contained(features, "amx-bf16");
  // vpdpbusd: AVX512_VNNI on either width, or AVX-VNNI's 256-bit form.
  options.vnni =
      llvm::is_contained(features, "avx512vnni") ||
      (options.vectorBits == 256 && llvm::is_contained(features, "avxvnni"));
  static_cast<QuantizationOptions &>(options) =
      quantizationOptions(/*narrowByDefault=*/!options.vnni);
  static_cast<SparseRefineOptions &>(options) = sparseRefineOptions();
  static_cast<SessionCacheOptions &>(options) = sessionCacheOptions();
  return options;
}

/// The CUDA pipelines' options: the quantization (W8A8 weights in
/// [-127, 127]: the tensor cores multiply bytes exactly), SparseRefine and
/// the session's cache.
CudaPipelineOptions cudaOptions() {
  CudaPipelineOptions options;
  static_cast<QuantizationOptions &>(options) =
      quantizationOptions(/*narrowByDefault=*/false);
  static_cast<SparseRefineOptions &>(options) = sparseRefineOptions();
  static_cast<SessionCacheOptions &>(options) = sessionCacheOptions();
  return options;
}

/// SparseRefine's settings, as the package's manifest records them (none
/// without --sparse-refine).
void recordSparseRefine(::kiln::package::Manifest &manifest,
                        const SparseRefineOptions &options) {
  if (options.refineLowHeight <= 0)
    return;
  manifest.compileOptions.push_back({"sparse-refine", sparseRefine});
  if (options.refineThreshold >= 0)
    manifest.compileOptions.push_back(
        {"refine-threshold",
         llvm::formatv("{0}", llvm::format("%g", double(refineThreshold)))
             .str()});
  else
    manifest.compileOptions.push_back(
        {"refine-fraction",
         llvm::formatv("{0}", llvm::format("%g", options.refineFraction))
             .str()});
  if (!refinerPath.empty()) {
    manifest.compileOptions.push_back(
        {"refiner", llvm::sys::path::filename(refinerPath).str()});
    if (!ensemblerPath.empty())
      manifest.compileOptions.push_back(
          {"ensembler", llvm::sys::path::filename(ensemblerPath).str()});
  } else {
    manifest.compileOptions.push_back(
        {"refine-tile", std::to_string(refineTile)});
    manifest.compileOptions.push_back(
        {"refine-halo", std::to_string(refineHalo)});
    if (refineTiles > 0)
      manifest.compileOptions.push_back(
          {"refine-tiles", std::to_string(refineTiles)});
  }
}

/// The quantization settings of `options`, as the package's manifest
/// records them (none without --quantize).
void recordQuantization(::kiln::package::Manifest &manifest,
                        const QuantizationOptions &options) {
  if (quantize.empty())
    return;
  manifest.compileOptions.push_back({"quantize", quantize});
  manifest.compileOptions.push_back({"quantize-method", quantizationMethod()});
  if (quantize != "w8a8")
    manifest.compileOptions.push_back(
        {"group-size", std::to_string(groupSize)});
  if (quantize == "w8a8") {
    manifest.compileOptions.push_back({"activations", activations});
    manifest.compileOptions.push_back(
        {"weight-levels", options.narrowWeights ? "63" : "127"});
  }
  if (quantize == "w4a8kv4" && quantizationMethod() == "qoq")
    manifest.compileOptions.push_back({"smooth-attention", smoothAttention});
  if (quantize == "w4a8kv4")
    manifest.compileOptions.push_back(
        {"rotate-keys", rotateKeys ? "true" : "false"});
  if (quantize == "w4a8kv4" && quantizationMethod() == "qoq")
    manifest.compileOptions.push_back(
        {"center-keys", centerKeys ? "true" : "false"});
  if (quantizationMethod() == "awq" || quantizationMethod() == "qoq")
    manifest.compileOptions.push_back({"weight-rounding", weightRounding});
  if (quantize == "w8a8" && quantizationMethod() == "smoothquant")
    manifest.compileOptions.push_back({"smooth-alpha", smoothAlpha});
  if (!quantizeExclude.empty())
    manifest.compileOptions.push_back(
        {"quantize-exclude", llvm::join(quantizeExclude, ",")});
}

/// The inputs' symbolic dimensions named by --dim made static: each
/// input's type, and its names (`onnx.dim_params`) but the ones left; the
/// graph's shape inference carries the sizes on.
LogicalResult bindDimensions(ModuleOp module) {
  if (dimValues.empty())
    return success();
  std::map<std::string, int64_t> sizes;
  for (const std::string &text : dimValues) {
    auto [name, value] = llvm::StringRef(text).split('=');
    int64_t size = 0;
    if (name.empty() || value.getAsInteger(10, size) || size < 1) {
      llvm::errs() << "kiln: error: --dim " << text
                   << ": expected NAME=SIZE with a positive size\n";
      return failure();
    }
    sizes[name.str()] = size;
  }
  auto main = module.lookupSymbol<func::FuncOp>("main");
  std::set<std::string> bound;
  for (unsigned index = 0; main && index < main.getNumArguments(); ++index) {
    auto names = main.getArgAttrOfType<ArrayAttr>(index, "onnx.dim_params");
    auto type = dyn_cast<RankedTensorType>(main.getArgumentTypes()[index]);
    if (!names || !type || int64_t(names.size()) != type.getRank())
      continue;
    SmallVector<int64_t> shape(type.getShape());
    SmallVector<Attribute> left;
    for (auto [dim, name] : llvm::zip(shape, names)) {
      std::string text = cast<StringAttr>(name).str();
      auto found = sizes.find(text);
      if (found != sizes.end() && ShapedType::isDynamic(dim)) {
        dim = found->second;
        bound.insert(text);
        text.clear();
      }
      left.push_back(StringAttr::get(module.getContext(), text));
    }
    main.getArgument(index).setType(type.clone(shape));
    main.setArgAttr(index, "onnx.dim_params",
                    ArrayAttr::get(module.getContext(), left));
  }
  for (auto &[name, size] : sizes)
    if (!bound.count(name)) {
      llvm::errs() << "kiln: error: --dim " << name << "=" << size
                   << ": no input of " << modelPath
                   << " has a symbolic dimension of that name\n";
      return failure();
    }
  main.setType(FunctionType::get(module.getContext(),
                                 main.getBody().getArgumentTypes(),
                                 main.getResultTypes()));
  return success();
}

/// The trained refiner and ensembler of --refiner and --ensembler, imported
/// beside the model as the functions SparseRefine's pass takes.
LogicalResult addTrainedRefiner(ModuleOp module) {
  std::pair<const std::string *, StringRef> networks[] = {
      {&refinerPath.getValue(), kRefinerFunction},
      {&ensemblerPath.getValue(), kEnsemblerFunction}};
  for (auto [path, name] : networks) {
    if (path->empty())
      continue;
    importing = *path;
    OwningOpRef<ModuleOp> network =
        onnx::importOnnxModel(*module.getContext(), *path);
    importing.clear();
    if (!network)
      return failure();
    auto main = network->lookupSymbol<func::FuncOp>("main");
    // Its nodes' diagnostics name its file.
    auto file = FileLineColLoc::get(module.getContext(), *path, 0, 0);
    main->setLoc(file);
    main.walk([&](Operation *op) {
      if (auto name = dyn_cast<NameLoc>(op->getLoc()))
        op->setLoc(NameLoc::get(name.getName(), file));
    });
    main->remove();
    main.setName(name);
    main.setPrivate();
    module.push_back(main);
  }
  return success();
}

/// The tensor stage `build` builds, with the manifest's signature taken
/// from it.
LogicalResult lowerToLinalg(ModuleOp module, TimingScope &rootTiming,
                            ::kiln::package::Manifest &manifest,
                            function_ref<void(OpPassManager &)> build) {
  if (failed(runPipeline(module, rootTiming, "pipeline (to linalg)", build)))
    return failure();
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return failure();
  if (auto weights = main->getAttrOfType<ArrayAttr>(kQuantizedWeightsAttrName))
    for (auto weight : weights.getAsRange<DictionaryAttr>())
      manifest.quantizedWeights.push_back(
          {weight.getAs<StringAttr>("node").str(),
           uint64_t(weight.getAs<IntegerAttr>("float_bytes").getInt()),
           uint64_t(weight.getAs<IntegerAttr>("bytes").getInt())});
  return describeSignature(main, manifest);
}

/// Moves the memory plan's sizes and the weights (as the weights section)
/// from the module's attributes into `manifest` and `weights`.
LogicalResult takeMemoryPlan(ModuleOp module, TimingScope &rootTiming,
                             bool layOut, ::kiln::package::Manifest &manifest,
                             std::string &weights) {
  if (auto layout = module->getAttrOfType<ArrayAttr>(kWeightsAttrName)) {
    if (layOut) {
      TimingScope weightsTiming = rootTiming.nest("lay out weights");
      FailureOr<std::string> section = layOutWeights(module, layout);
      if (failed(section))
        return failure();
      weights = std::move(*section);
    }
    module->removeAttr(kWeightsAttrName);
  }
  if (auto bytes = module->getAttrOfType<IntegerAttr>(kWorkspaceBytesAttrName))
    manifest.workspaceBytes = bytes.getInt();
  if (auto count = module->getAttrOfType<IntegerAttr>(kDynamicBuffersAttrName))
    manifest.dynamicBuffers = count.getInt();
  if (auto kernels = module->getAttrOfType<ArrayAttr>(kKernelsAttrName))
    for (auto kernel : kernels.getAsRange<DictionaryAttr>())
      manifest.kernels.push_back(
          {kernel.getAs<StringAttr>("name").str(),
           uint64_t(kernel.getAs<IntegerAttr>("flops").getInt())});
  module->removeAttr(kKernelsAttrName);
  module->removeAttr(kWorkspaceBytesAttrName);
  module->removeAttr(kDynamicBuffersAttrName);
  return success();
}

int compileForCpu(ModuleOp module, TimingScope &rootTiming,
                  const std::string &path, bool forCalibration = false);

/// Whether the options ask for calibration data: AWQ's search, SmoothQuant
/// (its smoothing), and static W8A8 activations (their scales).
bool needsCalibration() {
  if (quantize.empty())
    return false;
  if (quantize == "w8a8")
    return quantizationMethod() == "smoothquant" || activations == "static";
  return quantizationMethod() != "rtn";
}

/// The graph stage, then calibration: `module` runs over the samples the
/// options give, and its weight products gain their activations'
/// statistics.
LogicalResult calibrateModule(ModuleOp module, TimingScope &rootTiming) {
  if (failed(runPipeline(module, rootTiming, "pipeline (graph)",
                         buildGraphPipeline)))
    return failure();
  TimingScope calibrationTiming = rootTiming.nest("calibration");
  std::string error;
  auto fail = [&]() {
    llvm::errs() << "kiln: error: " << modelPath << ": calibration: " << error
                 << "\n";
    return failure();
  };
  if (!calibrationCache.empty() && llvm::sys::fs::exists(calibrationCache)) {
    if (!loadCalibration(module, calibrationCache, error))
      return fail();
    // GPTQ's rounding needs every row's Gram matrix, which a cache saved
    // without it lacks (the sampled rows alone would do worse, quietly).
    bool gramMissing = false;
    if (weightRounding == "gptq")
      module.walk([&](onnx::MatMulOp op) {
        if (auto stats =
                op->getAttrOfType<DictionaryAttr>(kActivationStatsAttrName))
          gramMissing |= !stats.get("gram");
      });
    if (gramMissing) {
      error = calibrationCache +
              " holds no Gram matrices, which --weight-rounding=gptq needs: "
              "calibrate again into a new cache";
      return fail();
    }
    return success();
  }
  std::vector<CalibrationSample> samples;
  bool read = calibrationDir.empty()
                  ? calibrationSamplesFromText(
                        module, calibrationText, calibrationTokenizer,
                        calibrationWindow, calibrationSamples, samples, error)
                  : readCalibrationSamples(calibrationDir, calibrationSamples,
                                           samples, error);
  auto compile = [&](ModuleOp tapped, const std::string &package) {
    return success(compileForCpu(tapped, calibrationTiming, package,
                                 /*forCalibration=*/true) == 0);
  };
  if (!read || failed(calibrate(module, samples, compile, calibrationRows,
                                /*gram=*/weightRounding == "gptq",
                                /*threads=*/0, error)))
    return fail();
  if (!calibrationCache.empty() &&
      !saveCalibration(module, calibrationCache, error))
    return fail();
  return success();
}

/// The module through the CPU pipeline, then as LLVM IR, object code or a
/// package. With `forCalibration`, a floating-point package of the plain
/// graph whatever the options say, to run in process.
int compileForCpu(ModuleOp module, TimingScope &rootTiming,
                  const std::string &path, bool forCalibration) {
  auto fail = [](const std::string &message) {
    llvm::errs() << "kiln: error: " << modelPath << ": " << message << "\n";
    return 1;
  };
  std::string error;
  std::unique_ptr<CpuTarget> target = createCpuTarget(cpuName, error);
  if (!target)
    return fail(error);

  ::kiln::package::Manifest manifest;
  CpuPipelineOptions cpuOptions = cpuOptionsFor(*target);
  // Without vdpbf16ps or AMX a bf16 pair costs two f32 multiply-adds and
  // the shifts that split it: the pipeline keeps the weights alone bf16
  // (half their bytes) and the arithmetic f32. Said once, since it is not
  // quite what was asked.
  if (!forCalibration && cpuOptions.precision == "bf16" &&
      !cpuOptions.bf16Dot && !cpuOptions.amx)
    llvm::errs() << "kiln: note: " << modelPath
                 << ": --precision=bf16 for a CPU without AVX512_BF16 ('"
                 << cpuName
                 << "'): the weights are bf16, the activations and the "
                    "arithmetic f32 (bf16 pairs would be slower than fp32 "
                    "there)\n";
  Stage stage = emitStage;
  if (forCalibration) {
    cpuOptions.quantize.clear();
    cpuOptions.kvCacheCapacity = 0;
    cpuOptions.precision = "f32";
    stage = Stage::Package;
  } else if (needsCalibration() &&
             failed(calibrateModule(module, rootTiming))) {
    return 1;
  }
  if (failed(
          lowerToLinalg(module, rootTiming, manifest, [&](OpPassManager &pm) {
            buildCpuLinalgPipeline(pm, cpuOptions);
          })))
    return 1;
  if (failed(runPipeline(module, rootTiming, "pipeline (CPU lowering)",
                         [&](OpPassManager &pm) {
                           buildCpuLoweringPipeline(pm, cpuOptions);
                         })))
    return 1;

  std::string weights;
  if (failed(takeMemoryPlan(module, rootTiming, stage == Stage::Package,
                            manifest, weights)))
    return 1;

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule;
  {
    TimingScope llvmTiming = rootTiming.nest("LLVM optimization");
    llvmModule = translateAndOptimize(module, llvmContext, *target);
    if (!llvmModule)
      return 1;
  }
  if (stage == Stage::Llvm) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    return writeOutput(path, text) ? 0 : 1;
  }

  std::string object;
  {
    TimingScope objectTiming = rootTiming.nest("LLVM code generation");
    llvm::SmallString<0> buffer;
    llvm::raw_svector_ostream os(buffer);
    if (!emitObject(*llvmModule, *target, os, error))
      return fail(error);
    object = buffer.str().str();
  }
  if (stage == Stage::Obj)
    return writeOutput(path, object) ? 0 : 1;

  TimingScope packageTiming = rootTiming.nest("link and package");
  std::optional<std::string> code = linkSharedObject(object, error);
  if (!code)
    return fail(error);
  manifest.producer = "kiln " KILN_VERSION;
  if (auto name = module->getAttrOfType<StringAttr>("onnx.graph_name"))
    manifest.modelName = name.str();
  manifest.target = "cpu";
  manifest.triple = target->triple;
  manifest.cpu = target->cpu;
  manifest.cpuFeatures = target->requiredFeatures();
  manifest.compileOptions = {
      {"cpu", cpuName},
      {"precision", precision},
      {"shape-inference", noShapeInference ? "off" : "on"}};
  recordSessionCache(manifest);
  recordSparseRefine(manifest, cpuOptions);
  recordQuantization(manifest, cpuOptions);
  manifest.weightsBytes = weights.size();
  if (path == "-")
    return fail("a package is binary; give an output file with -o");
  if (failed(writePackage(path, manifest,
                          {{::kiln::package::SectionKind::CpuCode, *code}},
                          weights, error)))
    return fail(error);
  return 0;
}

/// The module through the CUDA pipeline, then as CUDA C++ or a package
/// holding the fatbin, the emulator's build of the same kernels, their
/// schedule and the source.
int compileForCuda(ModuleOp module, TimingScope &rootTiming,
                   const std::string &path) {
  auto fail = [](const std::string &message) {
    llvm::errs() << "kiln: error: " << modelPath << ": " << message << "\n";
    return 1;
  };
  if (emitStage == Stage::Llvm || emitStage == Stage::Obj)
    return fail("--emit=llvm and --emit=obj are CPU stages; with "
                "--target=cuda use --emit=cuda or a package");
  std::optional<cuda::GemmPrecision> precision =
      cuda::parseGemmPrecision(cudaPrecision);
  if (!precision)
    return fail("--cuda-precision='" + cudaPrecision +
                "': choose fp32, tf32, fp16 or bf16");
  std::string error, nvcc;
  std::vector<std::string> archs;
  if (emitStage == Stage::Package && cudaArchitectures != "none") {
    std::optional<std::string> found = cuda::findNvcc(error);
    if (!found)
      return fail(error);
    nvcc = *found;
    auto parsed = cuda::parseArchitectures(cudaArchitectures, nvcc, error);
    if (!parsed)
      return fail(error);
    archs = *parsed;
  }

  if (needsCalibration() && failed(calibrateModule(module, rootTiming)))
    return 1;
  CudaPipelineOptions options = cudaOptions();
  ::kiln::package::Manifest manifest;
  if (failed(
          lowerToLinalg(module, rootTiming, manifest, [&](OpPassManager &pm) {
            buildCudaLinalgPipeline(pm, options);
          })))
    return 1;
  if (failed(runPipeline(module, rootTiming, "pipeline (CUDA lowering)",
                         buildCudaLoweringPipeline)))
    return 1;
  std::string weights;
  if (failed(takeMemoryPlan(module, rootTiming, emitStage == Stage::Package,
                            manifest, weights)))
    return 1;

  FailureOr<cuda::CudaProgram> program;
  {
    TimingScope emitTiming = rootTiming.nest("CUDA kernel emission");
    program = cuda::emitCudaProgram(module, *precision);
    if (failed(program))
      return 1;
  }
  // Static shapes: every buffer is in the workspace or an output the
  // runtime allocates. Otherwise the host steps allocate the rest.
  manifest.dynamicBuffers = uint32_t(llvm::count_if(
      program->steps, [](const ::kiln::package::CudaHostStep &step) {
        return step.op == ::kiln::package::CudaHostOp::Alloc;
      }));
  if (emitStage == Stage::Cuda)
    return writeOutput(path, program->source) ? 0 : 1;
  if (emitStage != Stage::Package)
    return fail("this stage is not available with --target=cuda");

  ::kiln::package::CudaSchedule schedule;
  schedule.architectures = archs;
  schedule.precision = cudaPrecision;
  for (const cuda::CudaKernel &kernel : program->kernels) {
    ::kiln::package::CudaKernelInfo info;
    info.name = kernel.name;
    info.blockThreads = kernel.blockThreads;
    info.cooperative = kernel.cooperative;
    info.origin = kernel.origin;
    schedule.kernels.push_back(info);
  }
  for (const cuda::CudaLaunch &launch : program->launches) {
    ::kiln::package::CudaLaunchInfo info;
    info.kernel = launch.kernel;
    std::copy(std::begin(launch.grid), std::end(launch.grid), info.grid);
    schedule.launches.push_back(info);
  }
  schedule.slotCount = program->slotCount;
  schedule.steps = program->steps;
  std::string fatbin;
  if (!archs.empty()) {
    TimingScope nvccTiming = rootTiming.nest("nvcc");
    std::optional<cuda::Fatbin> built =
        cuda::compileFatbin(*program, nvcc, archs, error);
    if (!built)
      return fail(error);
    fatbin = std::move(built->bytes);
    for (auto [info, resources] :
         llvm::zip(schedule.kernels, built->resources))
      info.resources = resources;
  }
  std::optional<std::string> emulator;
  {
    TimingScope emulatorTiming = rootTiming.nest("emulator build");
    emulator = cuda::buildEmulatorLibrary(*program, error);
    if (!emulator)
      return fail(error);
  }

  manifest.producer = "kiln " KILN_VERSION;
  if (auto name = module->getAttrOfType<StringAttr>("onnx.graph_name"))
    manifest.modelName = name.str();
  manifest.target = "cuda";
  manifest.triple = "nvptx64-nvidia-cuda";
  manifest.compileOptions = {
      {"target", "cuda"},
      {"cuda-arch", cudaArchitectures},
      {"cuda-precision", cudaPrecision},
      {"shape-inference", noShapeInference ? "off" : "on"}};
  recordSessionCache(manifest);
  recordSparseRefine(manifest, options);
  recordQuantization(manifest, options);
  manifest.weightsBytes = weights.size();
  if (path == "-")
    return fail("a package is binary; give an output file with -o");
  std::string scheduleBytes = ::kiln::package::serializeCudaSchedule(schedule);
  std::vector<PackageSection> sections;
  if (!fatbin.empty())
    sections.push_back({::kiln::package::SectionKind::CudaFatbin, fatbin});
  sections.push_back({::kiln::package::SectionKind::CudaEmulator, *emulator});
  sections.push_back(
      {::kiln::package::SectionKind::CudaSchedule, scheduleBytes});
  sections.push_back(
      {::kiln::package::SectionKind::CudaSource, program->source});
  if (failed(writePackage(path, manifest, sections, weights, error)))
    return fail(error);
  return 0;
}

int compile() {
  MLIRContext context;
  DialectRegistry registry;
  registerPipelineDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadDialect<onnx::OnnxDialect, func::FuncDialect>();
  context.printOpOnDiagnostic(false);
  context.printStackTraceOnDiagnostic(false);
  ScopedDiagnosticHandler handler(&context, [](Diagnostic &diag) {
    const char *severity = diag.getSeverity() == DiagnosticSeverity::Error
                               ? "error"
                           : diag.getSeverity() == DiagnosticSeverity::Warning
                               ? "warning"
                               : "note";
    // One line per diagnostic, whatever the names in the model contain.
    std::string line = sourceOf(diag.getLocation()) + ": " +
                       describeLocation(diag.getLocation()) + diag.str();
    std::replace_if(
        line.begin(), line.end(),
        [](char c) {
          auto byte = static_cast<unsigned char>(c);
          return byte < 0x20 || byte == 0x7f;
        },
        ' ');
    llvm::errs() << "kiln: " << severity << ": " << line << "\n";
    return success();
  });

  DefaultTimingManager timingManager;
  timingManager.setEnabled(timing);
  TimingScope rootTiming = timingManager.getRootScope();

  if (precision != "fp32" && precision != "bf16") {
    llvm::errs() << "kiln: error: --precision='" << precision
                 << "': choose fp32 or bf16\n";
    return 1;
  }
  bool forCuda = target == Target::Cuda || emitStage == Stage::Cuda;
  if (kvCache != "graph" && kvCache != "session") {
    llvm::errs() << "kiln: error: --kv-cache='" << kvCache
                 << "': choose graph or session\n";
    return 1;
  }
  if (kvCache == "session" && (maxContext <= 0 || kvPage <= 0 ||
                               maxContext > (int64_t(1) << 24))) {
    llvm::errs() << "kiln: error: --max-context and --kv-page must be "
                    "positive (and the context at most 16M tokens), not "
                 << maxContext << " and " << kvPage << "\n";
    return 1;
  }
  if (forCuda && kvCache == "session" && !quantize.empty()) {
    llvm::errs() << "kiln: error: --kv-cache=session with --target=cuda "
                    "holds the cache in f32: not yet with --quantize\n";
    return 1;
  }
  if (!quantize.empty() && quantize != "w4a16" && quantize != "w8a8" &&
      quantize != "w4a8" && quantize != "w4a8kv4") {
    llvm::errs() << "kiln: error: --quantize='" << quantize
                 << "': choose w4a16, w8a8, w4a8 or w4a8kv4\n";
    return 1;
  }
  if (quantize == "w4a8kv4" && kvCache != "session") {
    llvm::errs() << "kiln: error: --quantize=w4a8kv4 holds the session's "
                    "key/value cache in 4 bits: add --kv-cache=session (or "
                    "quantize with w4a8)\n";
    return 1;
  }
  if (questBudget.getNumOccurrences() || questPage.getNumOccurrences() ||
      questDenseLayers.getNumOccurrences() ||
      questKeepFirstPage.getNumOccurrences()) {
    if (kvCache != "session") {
      llvm::errs() << "kiln: error: Quest selects pages of the session's key "
                      "cache: --quest-budget takes --kv-cache=session\n";
      return 1;
    }
    if (questPage < 16 || questPage % 16) {
      llvm::errs() << "kiln: error: --quest-page=" << questPage
                   << ": a page is a positive multiple of 16 tokens\n";
      return 1;
    }
    if (questBudget < questPage) {
      llvm::errs() << "kiln: error: --quest-budget=" << questBudget
                   << " is less than one page of " << questPage << " tokens\n";
      return 1;
    }
    if (questDenseLayers < 0) {
      llvm::errs() << "kiln: error: --quest-dense-layers=" << questDenseLayers
                   << " cannot be negative\n";
      return 1;
    }
  }
  if (!sparseRefine.empty() || refineThreshold.getNumOccurrences() ||
      refineFraction.getNumOccurrences() || refineTile.getNumOccurrences() ||
      refineHalo.getNumOccurrences() || refineTiles.getNumOccurrences() ||
      refinerPath.getNumOccurrences() || ensemblerPath.getNumOccurrences()) {
    auto [height, width] = llvm::StringRef(sparseRefine).split('x');
    int64_t rows = 0, columns = 0;
    if (height.getAsInteger(10, rows) || width.getAsInteger(10, columns) ||
        rows < 1 || columns < 1) {
      llvm::errs() << "kiln: error: --sparse-refine='" << sparseRefine
                   << "': give the low resolution as HEIGHTxWIDTH, e.g. "
                      "512x1024\n";
      return 1;
    }
    if (refineThreshold.getNumOccurrences() &&
        refineFraction.getNumOccurrences()) {
      llvm::errs() << "kiln: error: --refine-threshold and --refine-fraction "
                      "both choose the pixels to refine: give one\n";
      return 1;
    }
    if ((refineThreshold.getNumOccurrences() && !(refineThreshold >= 0)) ||
        (refineFraction.getNumOccurrences() &&
         !(refineFraction >= 0 && refineFraction <= 1))) {
      llvm::errs() << "kiln: error: --refine-threshold must not be negative "
                      "and --refine-fraction must be within [0, 1]\n";
      return 1;
    }
    if (!ensemblerPath.empty() && refinerPath.empty()) {
      llvm::errs() << "kiln: error: --ensembler blends a trained refiner's "
                      "logits: give --refiner too\n";
      return 1;
    }
    if (!refinerPath.empty() &&
        (refineTile.getNumOccurrences() || refineHalo.getNumOccurrences() ||
         refineTiles.getNumOccurrences())) {
      llvm::errs() << "kiln: error: --refine-tile, --refine-halo and "
                      "--refine-tiles size the tiles the model is re-run on; "
                      "--refiner runs on the pixels alone\n";
      return 1;
    }
    if (refineTile < 1 || refineHalo < 0 || refineTiles < 0) {
      llvm::errs() << "kiln: error: --refine-tile must be positive, "
                      "--refine-halo and --refine-tiles not negative\n";
      return 1;
    }
    if (!quantize.empty() || kvCache == "session") {
      llvm::errs() << "kiln: error: --sparse-refine is not yet available "
                      "with --quantize or --kv-cache=session\n";
      return 1;
    }
  }
  if (centerKeys.getNumOccurrences() && centerKeys &&
      (quantize != "w4a8kv4" || quantizationMethod() != "qoq")) {
    llvm::errs() << "kiln: error: --center-keys centers the keys of a 4-bit "
                    "key cache from calibration: it takes --quantize=w4a8kv4 "
                    "with --quantize-method=qoq\n";
    return 1;
  }
  if (weightRounding != "nearest" && weightRounding != "gptq") {
    llvm::errs() << "kiln: error: --weight-rounding='" << weightRounding
                 << "': choose nearest or gptq\n";
    return 1;
  }
  if (weightRounding == "gptq" &&
      !((quantize == "w4a16" && quantizationMethod() == "awq") ||
        ((quantize == "w4a8" || quantize == "w4a8kv4") &&
         quantizationMethod() == "qoq"))) {
    llvm::errs() << "kiln: error: --weight-rounding=gptq rounds 4-bit "
                    "weights from calibration: it takes --quantize=w4a16 "
                    "with awq, or w4a8 or w4a8kv4 with qoq\n";
    return 1;
  }
  if (rotateKeys.getNumOccurrences() && rotateKeys && quantize != "w4a8kv4") {
    llvm::errs() << "kiln: error: --rotate-keys rotates the keys of a 4-bit "
                    "key cache: it takes --quantize=w4a8kv4\n";
    return 1;
  }
  std::string method = quantizationMethod();
  if (!quantize.empty() && method != "rtn" &&
      method != defaultQuantizationMethod()) {
    llvm::errs() << "kiln: error: --quantize-method='" << method
                 << "': with --quantize=" << quantize << " choose "
                 << defaultQuantizationMethod() << " or rtn\n";
    return 1;
  }
  if (activations != "static" && activations != "dynamic") {
    llvm::errs() << "kiln: error: --activations='" << activations
                 << "': choose static or dynamic\n";
    return 1;
  }
  if (weightLevels != "auto" && weightLevels != "127" && weightLevels != "63") {
    llvm::errs() << "kiln: error: --weight-levels='" << weightLevels
                 << "': choose auto, 127 or 63\n";
    return 1;
  }
  double attentionAlpha = 0;
  if (llvm::StringRef(smoothAttention).getAsDouble(attentionAlpha) ||
      !(attentionAlpha >= 0 && attentionAlpha <= 1)) {
    llvm::errs() << "kiln: error: --smooth-attention='" << smoothAttention
                 << "': give a number within [0, 1]\n";
    return 1;
  }
  double alpha = 0;
  if (smoothAlpha != "auto" &&
      (llvm::StringRef(smoothAlpha).getAsDouble(alpha) ||
       !(alpha >= 0 && alpha <= 1))) {
    llvm::errs() << "kiln: error: --smooth-alpha='" << smoothAlpha
                 << "': give a number within [0, 1] or auto\n";
    return 1;
  }
  bool cached =
      !calibrationCache.empty() && llvm::sys::fs::exists(calibrationCache);
  if (needsCalibration() && !cached &&
      calibrationDir.empty() == calibrationText.empty()) {
    llvm::errs() << "kiln: error: --quantize=" << quantize << " with " << method
                 << " needs calibration data: --calibration DIR or "
                    "--calibration-text FILE --tokenizer GGUF"
                 << (quantize != "w8a8"
                         ? " (or --quantize-method=rtn, which needs none)"
                         : " (or --quantize-method=rtn "
                           "--activations=dynamic, which needs none)")
                 << "\n";
    return 1;
  }
  if (needsCalibration() && !calibrationText.empty() &&
      calibrationTokenizer.empty()) {
    llvm::errs() << "kiln: error: --calibration-text needs --tokenizer "
                    "GGUF to read it\n";
    return 1;
  }
  if (calibrationSamples < 0 || calibrationWindow < 2 || calibrationRows < 1) {
    llvm::errs() << "kiln: error: --calibration-samples must not be "
                    "negative, --calibration-window must be at least 2 and "
                    "--calibration-rows positive\n";
    return 1;
  }
  if (groupSize < 1) {
    llvm::errs() << "kiln: error: --group-size must be positive, not "
                 << groupSize << "\n";
    return 1;
  }
  if (forCuda && precision != "fp32") {
    llvm::errs() << "kiln: error: --precision is the CPU's; CUDA packages "
                    "take --cuda-precision\n";
    return 1;
  }

  OwningOpRef<ModuleOp> module;
  {
    TimingScope importTiming = rootTiming.nest("import (ONNX to onnx dialect)");
    onnx::ImportOptions options;
    options.inferShapes = !noShapeInference;
    module = onnx::importOnnxModel(context, modelPath, options);
  }
  if (!module)
    return 1;

  if (failed(bindDimensions(*module)) || failed(addTrainedRefiner(*module)))
    return 1;

  std::string path = resolveOutputPath();
  // --emit=cuda asks for the CUDA target by itself.
  if ((target == Target::Cuda && emitStage >= Stage::Llvm) ||
      emitStage == Stage::Cuda)
    return compileForCuda(*module, rootTiming, path);
  if (emitStage >= Stage::Llvm)
    return compileForCpu(*module, rootTiming, path);

  if (emitStage != Stage::Onnx) {
    // The graph and tensor stages of the CPU are the target's: packed
    // layouts sized for its vectors.
    std::optional<CpuPipelineOptions> cpu;
    if (target == Target::Cpu) {
      std::string error;
      std::unique_ptr<CpuTarget> cpuTarget = createCpuTarget(cpuName, error);
      if (!cpuTarget) {
        llvm::errs() << "kiln: error: " << modelPath << ": " << error << "\n";
        return 1;
      }
      cpu = cpuOptionsFor(*cpuTarget);
    }
    if (needsCalibration() && failed(calibrateModule(*module, rootTiming)))
      return 1;
    CudaPipelineOptions cuda = cudaOptions();
    PassManager pm(&context);
    TimingScope pipelineTiming = rootTiming.nest("pipeline");
    pm.enableTiming(pipelineTiming);
    if (emitStage == Stage::Graph && cpu)
      buildCpuGraphPipeline(pm, *cpu);
    else if (emitStage == Stage::Graph)
      buildCudaGraphPipeline(pm, cuda);
    else if (cpu)
      buildCpuLinalgPipeline(pm, *cpu);
    else
      buildCudaLinalgPipeline(pm, cuda);
    if (failed(pm.run(*module)))
      return 1;
  }

  std::string errorMessage;
  auto output = openOutputFile(path, &errorMessage);
  if (!output) {
    llvm::errs() << "kiln: error: " << errorMessage << "\n";
    return 1;
  }
  {
    TimingScope printTiming = rootTiming.nest("print");
    OpPrintingFlags flags;
    if (printLocations)
      flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
    if (elideWeights) {
      flags.elideLargeElementsAttrs(16);
      flags.elideLargeResourceString(64);
    }
    module->print(output->os(), flags);
  }
  output->keep();
  return 0;
}

} // namespace

int mlir::kiln::runCompileCommand() { return compile(); }
