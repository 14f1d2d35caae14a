//===- Inspect.cpp - `kiln inspect` ---------------------------------------===//
//
//   kiln inspect MODEL.kiln [--json]
//
// Prints what a package holds without running it (so it also works on a
// machine that lacks the package's CPU features): signature, target,
// sections, memory plan and compile options.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Commands.h"

#include "runtime/src/Package.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::kiln;
using namespace kiln;
namespace cl = llvm::cl;

cl::SubCommand mlir::kiln::inspectCommand(
    "inspect", "Print the signature, target, sections and memory plan of a "
               ".kiln package");
cl::OptionCategory mlir::kiln::inspectCategory("kiln inspect options");

namespace {

cl::opt<std::string> packagePath(cl::Positional, cl::Required,
                                 cl::desc("<model.kiln>"),
                                 cl::sub(inspectCommand),
                                 cl::cat(inspectCategory));

cl::opt<bool> asJson("json", cl::desc("Print JSON"), cl::init(false),
                     cl::sub(inspectCommand), cl::cat(inspectCategory));

std::string describeTensor(const package::TensorSignature &tensor) {
  std::string text = tensor.name + ": " +
                     kiln_dtype_name(static_cast<kiln_dtype_t>(tensor.dtype)) +
                     "[";
  for (size_t d = 0; d < tensor.shape.size(); ++d) {
    text += d ? "," : "";
    if (tensor.shape[d] >= 0)
      text += std::to_string(tensor.shape[d]);
    else
      text += tensor.dimNames[d].empty() ? "?" : tensor.dimNames[d];
  }
  return text + "]";
}

llvm::json::Value tensorJson(const package::TensorSignature &tensor) {
  llvm::json::Array shape, names;
  for (size_t d = 0; d < tensor.shape.size(); ++d) {
    shape.push_back(tensor.shape[d]);
    names.push_back(tensor.dimNames[d].empty()
                        ? llvm::json::Value(nullptr)
                        : llvm::json::Value(tensor.dimNames[d]));
  }
  return llvm::json::Object{
      {"name", tensor.name},
      {"dtype", kiln_dtype_name(static_cast<kiln_dtype_t>(tensor.dtype))},
      {"shape", std::move(shape)},
      {"dim_names", std::move(names)}};
}

void printJson(const runtime::MappedPackage &package) {
  const package::Manifest &manifest = package.manifest();
  llvm::json::Array inputs, outputs, sections, features;
  for (const auto &tensor : manifest.inputs)
    inputs.push_back(tensorJson(tensor));
  for (const auto &tensor : manifest.outputs)
    outputs.push_back(tensorJson(tensor));
  for (const auto &entry : package.sections())
    sections.push_back(llvm::json::Object{
        {"kind", package::sectionKindName(entry.kind)},
        {"offset", int64_t(entry.offset)},
        {"size", int64_t(entry.size)},
        {"crc32c", int64_t(entry.crc)}});
  for (const std::string &feature : manifest.cpuFeatures)
    features.push_back(feature);
  llvm::json::Object options;
  for (const auto &[key, value] : manifest.compileOptions)
    options[key] = value;
  llvm::json::Value root = llvm::json::Object{
      {"format_version", int64_t(package::kFormatVersion)},
      {"file_size", int64_t(package.fileSize())},
      {"producer", manifest.producer},
      {"model", manifest.modelName},
      {"target", llvm::json::Object{{"kind", manifest.target},
                                    {"triple", manifest.triple},
                                    {"cpu", manifest.cpu},
                                    {"features", std::move(features)}}},
      {"inputs", std::move(inputs)},
      {"outputs", std::move(outputs)},
      {"memory_plan",
       llvm::json::Object{
           {"weights_bytes", int64_t(manifest.weightsBytes)},
           {"workspace_bytes", int64_t(manifest.workspaceBytes)},
           {"dynamic_buffers", int64_t(manifest.dynamicBuffers)}}},
      {"sections", std::move(sections)},
      {"compile_options", std::move(options)}};
  llvm::outs() << llvm::formatv("{0:2}", root) << "\n";
}

void printText(const runtime::MappedPackage &package) {
  const package::Manifest &manifest = package.manifest();
  llvm::raw_ostream &os = llvm::outs();
  os << "package: " << packagePath << " (" << package.fileSize()
     << " bytes, format version " << package::kFormatVersion << ")\n";
  os << "model: " << (manifest.modelName.empty() ? "(unnamed)"
                                                 : manifest.modelName)
     << ", produced by " << manifest.producer << "\n";
  os << "target: " << manifest.target << " " << manifest.triple << ", cpu "
     << manifest.cpu << "\n";
  os << "cpu features: ";
  for (size_t i = 0; i < manifest.cpuFeatures.size(); ++i)
    os << (i ? " " : "") << manifest.cpuFeatures[i];
  os << (manifest.cpuFeatures.empty() ? "(none)\n" : "\n");
  os << "inputs:\n";
  for (const auto &tensor : manifest.inputs)
    os << "  " << describeTensor(tensor) << "\n";
  os << "outputs:\n";
  for (const auto &tensor : manifest.outputs)
    os << "  " << describeTensor(tensor) << "\n";
  os << "memory plan: weights " << manifest.weightsBytes
     << " bytes (mapped, used in place), workspace "
     << manifest.workspaceBytes << " bytes per session, "
     << manifest.dynamicBuffers << " buffers sized at run time\n";
  os << "sections:\n";
  for (const auto &entry : package.sections())
    os << llvm::format("  %-10s offset %10llu  size %10llu  crc32c %08x\n",
                       package::sectionKindName(entry.kind),
                       (unsigned long long)entry.offset,
                       (unsigned long long)entry.size, entry.crc);
  os << "compile options:\n";
  for (const auto &[key, value] : manifest.compileOptions)
    os << "  --" << key << "=" << value << "\n";
}

} // namespace

int mlir::kiln::runInspectCommand() {
  std::unique_ptr<runtime::MappedPackage> package;
  if (kiln_status_t status = runtime::MappedPackage::open(packagePath, package)) {
    llvm::errs() << "kiln: error: " << kiln_status_message(status) << "\n";
    kiln_status_free(status);
    return 1;
  }
  if (asJson)
    printJson(*package);
  else
    printText(*package);
  return 0;
}
