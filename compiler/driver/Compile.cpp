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

#include "compiler/driver/Commands.h"

#include "codegen/common/PackageWriter.h"
#include "codegen/cpu/ObjectEmitter.h"
#include "codegen/cpu/Passes.h"
#include "codegen/cpu/SharedObjectLinker.h"
#include "compiler/import/OnnxImporter.h"
#include "compiler/pipelines/Pipelines.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"

#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::kiln;
namespace cl = llvm::cl;

cl::SubCommand mlir::kiln::compileCommand(
    "compile", "Compile an ONNX model into a .kiln package (or print a "
               "stage of the pipeline)");
cl::OptionCategory mlir::kiln::compileCategory("kiln compile options");

namespace {

cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                               cl::desc("<model.onnx>"),
                               cl::sub(compileCommand),
                               cl::cat(compileCategory));

cl::opt<std::string> outputPath(
    "o",
    cl::desc("Output file ('-' for stdout); by default MODEL.kiln for "
             "packages, MODEL.o for objects, stdout for text"),
    cl::value_desc("file"), cl::sub(compileCommand), cl::cat(compileCategory));

enum class Stage { Onnx, Graph, Linalg, Llvm, Obj, Package };
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

/// The output path: as given, or derived from the model's name.
std::string resolveOutputPath() {
  if (!outputPath.empty())
    return outputPath;
  if (emitStage != Stage::Package && emitStage != Stage::Obj)
    return "-";
  llvm::SmallString<128> path(llvm::sys::path::filename(modelPath));
  llvm::sys::path::replace_extension(path,
                                     emitStage == Stage::Obj ? "o" : "kiln");
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

/// The module through the CPU pipeline, then as LLVM IR, object code or a
/// package.
int compileForCpu(ModuleOp module, TimingScope &rootTiming,
                  const std::string &path) {
  auto fail = [](const std::string &message) {
    llvm::errs() << "kiln: error: " << modelPath << ": " << message << "\n";
    return 1;
  };
  std::string error;
  std::unique_ptr<CpuTarget> target = createCpuTarget(cpuName, error);
  if (!target)
    return fail(error);

  ::kiln::package::Manifest manifest;
  {
    PassManager pm(module.getContext());
    TimingScope pipelineTiming = rootTiming.nest("pipeline (to linalg)");
    pm.enableTiming(pipelineTiming);
    buildLinalgPipeline(pm);
    if (failed(pm.run(module)))
      return 1;
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || failed(describeSignature(main, manifest)))
      return 1;
  }
  {
    PassManager pm(module.getContext());
    TimingScope pipelineTiming = rootTiming.nest("pipeline (CPU lowering)");
    pm.enableTiming(pipelineTiming);
    buildCpuLoweringPipeline(pm);
    if (failed(pm.run(module)))
      return 1;
  }

  std::string weights;
  if (auto layout = module->getAttrOfType<ArrayAttr>(kWeightsAttrName)) {
    if (emitStage == Stage::Package) {
      TimingScope weightsTiming = rootTiming.nest("lay out weights");
      FailureOr<std::string> section = layOutWeights(module, layout);
      if (failed(section))
        return 1;
      weights = std::move(*section);
    }
    module->removeAttr(kWeightsAttrName);
  }
  // The memory plan's sizes go to the manifest, not to LLVM.
  if (auto bytes = module->getAttrOfType<IntegerAttr>(kWorkspaceBytesAttrName))
    manifest.workspaceBytes = bytes.getInt();
  if (auto count = module->getAttrOfType<IntegerAttr>(kDynamicBuffersAttrName))
    manifest.dynamicBuffers = count.getInt();
  module->removeAttr(kWorkspaceBytesAttrName);
  module->removeAttr(kDynamicBuffersAttrName);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule;
  {
    TimingScope llvmTiming = rootTiming.nest("LLVM optimization");
    llvmModule = translateAndOptimize(module, llvmContext, *target);
    if (!llvmModule)
      return 1;
  }
  if (emitStage == Stage::Llvm) {
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
  if (emitStage == Stage::Obj)
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
      {"shape-inference", noShapeInference ? "off" : "on"}};
  manifest.weightsBytes = weights.size();
  if (path == "-")
    return fail("a package is binary; give an output file with -o");
  if (failed(writePackage(path, manifest, *code, weights, error)))
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
    std::string line = modelPath + ": " +
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

  OwningOpRef<ModuleOp> module;
  {
    TimingScope importTiming = rootTiming.nest("import (ONNX to onnx dialect)");
    onnx::ImportOptions options;
    options.inferShapes = !noShapeInference;
    module = onnx::importOnnxModel(context, modelPath, options);
  }
  if (!module)
    return 1;

  std::string path = resolveOutputPath();
  if (emitStage >= Stage::Llvm)
    return compileForCpu(*module, rootTiming, path);

  if (emitStage != Stage::Onnx) {
    PassManager pm(&context);
    TimingScope pipelineTiming = rootTiming.nest("pipeline");
    pm.enableTiming(pipelineTiming);
    if (emitStage == Stage::Graph)
      buildGraphPipeline(pm);
    else
      buildLinalgPipeline(pm);
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
