//===- kiln.cpp - the Kiln command-line tool ------------------------------===//
//
//   kiln compile MODEL.onnx [--emit=onnx|graph] [-o FILE] [--timing]
//   kiln --version
//
// Every error is one line on stderr naming the model and, where there is
// one, the ONNX node; the exit code is then 1.
//
//===----------------------------------------------------------------------===//

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

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {

cl::SubCommand compileCommand("compile",
                              "Compile an ONNX model (for now: import it "
                              "and print a stage of the pipeline)");

cl::OptionCategory compileCategory("kiln compile options");

cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                               cl::desc("<model.onnx>"),
                               cl::sub(compileCommand),
                               cl::cat(compileCategory));

cl::opt<std::string> outputPath("o", cl::desc("Output file ('-' for stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::sub(compileCommand),
                                cl::cat(compileCategory));

enum class Stage { Onnx, Graph, Linalg };
cl::opt<Stage> emitStage(
    "emit", cl::desc("The pipeline stage to print"),
    cl::values(clEnumValN(Stage::Onnx, "onnx",
                          "the onnx dialect as imported: one op per node"),
               clEnumValN(Stage::Graph, "graph",
                          "after constant folding, canonicalization and "
                          "shape refinement"),
               clEnumValN(Stage::Linalg, "linalg",
                          "onnx lowered to linalg, tensor, arith and math")),
    cl::init(Stage::Onnx), cl::sub(compileCommand), cl::cat(compileCategory));

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

int compile() {
  MLIRContext context;
  context.loadDialect<kiln::onnx::OnnxDialect, func::FuncDialect>();
  context.printOpOnDiagnostic(false);
  context.printStackTraceOnDiagnostic(false);
  ScopedDiagnosticHandler handler(&context, [](Diagnostic &diag) {
    const char *severity = diag.getSeverity() == DiagnosticSeverity::Error
                               ? "error"
                           : diag.getSeverity() == DiagnosticSeverity::Warning
                               ? "warning"
                               : "note";
    std::string message = diag.str();
    std::replace(message.begin(), message.end(), '\n', ' ');
    llvm::errs() << "kiln: " << severity << ": " << modelPath << ": "
                 << describeLocation(diag.getLocation()) << message << "\n";
    return success();
  });

  DefaultTimingManager timingManager;
  timingManager.setEnabled(timing);
  TimingScope rootTiming = timingManager.getRootScope();

  OwningOpRef<ModuleOp> module;
  {
    TimingScope importTiming = rootTiming.nest("import (ONNX to onnx dialect)");
    kiln::onnx::ImportOptions options;
    options.inferShapes = !noShapeInference;
    module = kiln::onnx::importOnnxModel(context, modelPath, options);
  }
  if (!module)
    return 1;

  if (emitStage != Stage::Onnx) {
    PassManager pm(&context);
    TimingScope pipelineTiming = rootTiming.nest("pipeline");
    pm.enableTiming(pipelineTiming);
    if (emitStage == Stage::Graph)
      kiln::buildGraphPipeline(pm);
    else
      kiln::buildLinalgPipeline(pm);
    if (failed(pm.run(*module)))
      return 1;
  }

  std::string errorMessage;
  auto output = openOutputFile(outputPath, &errorMessage);
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

void printVersion(llvm::raw_ostream &os) {
  os << "kiln " << KILN_VERSION << " (built with LLVM " << LLVM_VERSION_STRING
     << ")\n";
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::SetVersionPrinter(printVersion);
  cl::HideUnrelatedOptions(compileCategory);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "Kiln: an ahead-of-time compiler for ONNX models\n\n"
          "  kiln compile MODEL.onnx [--emit=onnx|graph] [-o FILE]\n"
          "  kiln --version\n",
          &llvm::errs()))
    return 1;
  if (compileCommand)
    return compile();
  llvm::errs() << "kiln: error: no command given; try 'kiln compile --help'\n";
  return 1;
}
