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

#include "runtime/format/MappedPackage.h"
#include "kiln/runtime.h"

#include <map>
#include <optional>

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

/// The package's CUDA schedule, if it has a valid one.
std::optional<package::CudaSchedule>
cudaSchedule(const package::MappedPackage &package) {
  uint64_t size = 0;
  const uint8_t *bytes = package.section(package::SectionKind::CudaSchedule, size);
  package::CudaSchedule schedule;
  std::string error;
  if (!bytes || !package::parseCudaSchedule(bytes, size, schedule, error))
    return std::nullopt;
  return schedule;
}

/// The blocks each kernel is launched with (kernels launch once); none
/// where the host computes the grid at run time.
std::vector<std::optional<uint64_t>>
gridSizes(const package::CudaSchedule &schedule) {
  std::vector<std::optional<uint64_t>> grids(schedule.kernels.size(), 0);
  for (const package::CudaLaunchInfo &launch : schedule.launches)
    grids[launch.kernel] =
        uint64_t(launch.grid[0]) * launch.grid[1] * launch.grid[2];
  std::map<uint32_t, int64_t> constants;
  for (const package::CudaHostStep &step : schedule.steps) {
    if (step.op == package::CudaHostOp::Constant)
      constants[step.result] = step.value;
    if (step.op != package::CudaHostOp::Launch)
      continue;
    std::optional<uint64_t> blocks = 1;
    for (size_t d = 0; d < 3 && blocks; ++d) {
      auto found = constants.find(step.operands[d]);
      blocks = found == constants.end()
                   ? std::nullopt
                   : std::optional<uint64_t>(*blocks * uint64_t(found->second));
    }
    grids[step.code] = blocks;
  }
  return grids;
}

/// Launches, and host steps for a schedule sized at run time.
size_t launchCount(const package::CudaSchedule &schedule) {
  return schedule.launches.size() +
         llvm::count_if(schedule.steps, [](const package::CudaHostStep &step) {
           return step.op == package::CudaHostOp::Launch;
         });
}

llvm::json::Value cudaJson(const package::CudaSchedule &schedule) {
  llvm::json::Array kernels, architectures;
  std::vector<std::optional<uint64_t>> grids = gridSizes(schedule);
  for (const std::string &architecture : schedule.architectures)
    architectures.push_back(architecture);
  for (auto [index, kernel] : llvm::enumerate(schedule.kernels)) {
    llvm::json::Array resources;
    for (const package::KernelResources &r : kernel.resources)
      resources.push_back(llvm::json::Object{
          {"architecture", r.architecture},
          {"registers", int64_t(r.registers)},
          {"spill_store_bytes", int64_t(r.spillStoreBytes)},
          {"spill_load_bytes", int64_t(r.spillLoadBytes)},
          {"stack_bytes", int64_t(r.stackBytes)},
          {"shared_bytes", int64_t(r.sharedBytes)},
          {"occupancy_percent", int64_t(r.occupancyPercent)}});
    kernels.push_back(llvm::json::Object{
        {"name", kernel.name},
        {"block_threads", int64_t(kernel.blockThreads)},
        {"grid_blocks", grids[index] ? llvm::json::Value(int64_t(*grids[index]))
                                     : llvm::json::Value(nullptr)},
        {"cooperative", kernel.cooperative != 0},
        {"nodes", kernel.origin},
        {"resources", std::move(resources)}});
  }
  return llvm::json::Object{{"architectures", std::move(architectures)},
                            {"precision", schedule.precision},
                            {"launches", int64_t(launchCount(schedule))},
                            {"host_steps", int64_t(schedule.steps.size())},
                            {"kernels", std::move(kernels)}};
}

void printCudaText(const package::CudaSchedule &schedule,
                   llvm::raw_ostream &os) {
  os << "cuda: precision " << schedule.precision << ", "
     << schedule.kernels.size() << " kernels, " << launchCount(schedule)
     << " launches";
  if (!schedule.steps.empty())
    os << " (grids and buffers sized at run time by " << schedule.steps.size()
       << " host steps)";
  os << ", architectures ";
  for (size_t i = 0; i < schedule.architectures.size(); ++i)
    os << (i ? ", " : "") << schedule.architectures[i];
  os << (schedule.architectures.empty() ? "none (emulator only)\n" : "\n");
  os << "kernels (ptxas: registers, spill stores/loads, shared memory, "
        "theoretical occupancy):\n";
  std::vector<std::optional<uint64_t>> grids = gridSizes(schedule);
  for (auto [index, kernel] : llvm::enumerate(schedule.kernels)) {
    os << "  " << kernel.name << "  <<<"
       << (grids[index] ? std::to_string(*grids[index]) : std::string("n"))
       << ", " << kernel.blockThreads << ">>>";
    if (!kernel.origin.empty())
      os << "  " << kernel.origin;
    os << "\n";
    for (const package::KernelResources &r : kernel.resources)
      os << llvm::format("    %-6s %3u registers, spills %u/%u bytes, "
                         "%u bytes shared, occupancy %u%%\n",
                         r.architecture.c_str(), r.registers,
                         r.spillStoreBytes, r.spillLoadBytes, r.sharedBytes,
                         r.occupancyPercent);
  }
}

/// Bytes of all the session cache's buffers.
uint64_t cacheBytes(const package::SessionCache &cache) {
  uint64_t total = 0;
  for (const package::CacheState &state : cache.states) {
    uint64_t bytes = kiln_dtype_size(kiln_dtype_t(state.dtype));
    for (int64_t dim : state.shape)
      bytes *= uint64_t(dim);
    total += bytes;
  }
  return total;
}

/// SparseRefine's settings, from the compile options, in a sentence.
void printSparseRefine(const package::Manifest &manifest,
                       llvm::raw_ostream &os) {
  auto option = [&](llvm::StringRef key) -> std::string {
    for (const auto &[name, value] : manifest.compileOptions)
      if (name == key)
        return value;
    return "";
  };
  std::string low = option("sparse-refine");
  if (low.empty())
    return;
  auto selected = [&] {
    if (std::string threshold = option("refine-threshold"); !threshold.empty())
      os << "of entropy above " << threshold;
    else
      os << "among the "
         << llvm::format("%g",
                         100 * std::atof(option("refine-fraction").c_str()))
         << "% most uncertain";
  };
  os << "SparseRefine: the model at " << low;
  if (std::string refiner = option("refiner"); !refiner.empty()) {
    os << ", then the trained refiner " << refiner
       << " run sparsely on the pixels ";
    selected();
    if (std::string ensembler = option("ensembler"); !ensembler.empty())
      os << ", blended by the ensembler " << ensembler;
    os << "\n";
    return;
  }
  os << ", then at full resolution on the tiles of " << option("refine-tile")
     << " pixels (with " << option("refine-halo")
     << " of context) that hold a pixel ";
  selected();
  if (std::string tiles = option("refine-tiles"); !tiles.empty())
    os << ", at most " << tiles << " of them";
  os << "\n";
}

/// Each quantized weight's bytes before and after, and the totals.
void printQuantizedWeights(const std::vector<package::QuantizedWeight> &weights,
                           llvm::raw_ostream &os) {
  if (weights.empty())
    return;
  uint64_t before = 0, after = 0;
  for (const package::QuantizedWeight &weight : weights) {
    before += weight.floatBytes;
    after += weight.bytes;
  }
  os << llvm::formatv("quantized weights: {0}, {1} bytes as f32 -> {2} "
                      "quantized ({3:f2}x smaller)\n",
                      weights.size(), before, after,
                      after ? double(before) / double(after) : 0.0);
  for (const package::QuantizedWeight &weight : weights)
    os << llvm::formatv("  {0,-40} {1,12} -> {2,12}\n",
                        weight.node.empty() ? "(unnamed)" : weight.node,
                        weight.floatBytes, weight.bytes);
}

void printJson(const package::MappedPackage &package) {
  const package::Manifest &manifest = package.manifest();
  llvm::json::Array inputs, outputs, sections, features, kernels;
  for (const auto &tensor : manifest.inputs)
    inputs.push_back(tensorJson(tensor));
  for (const package::KernelInfo &kernel : manifest.kernels)
    kernels.push_back(llvm::json::Object{{"name", kernel.name},
                                         {"flops", int64_t(kernel.flops)}});
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
      {"compile_options", std::move(options)},
      {"flops", int64_t(manifest.totalFlops())},
      {"kernels", std::move(kernels)}};
  if (!manifest.quantizedWeights.empty()) {
    llvm::json::Array weights;
    for (const package::QuantizedWeight &weight : manifest.quantizedWeights)
      weights.push_back(
          llvm::json::Object{{"node", weight.node},
                             {"float_bytes", int64_t(weight.floatBytes)},
                             {"bytes", int64_t(weight.bytes)}});
    root.getAsObject()->try_emplace("quantized_weights", std::move(weights));
  }
  if (std::optional<package::CudaSchedule> schedule = cudaSchedule(package))
    root.getAsObject()->try_emplace("cuda", cudaJson(*schedule));
  if (const package::SessionCache &cache = manifest.cache; cache.capacity) {
    llvm::json::Array states;
    for (const package::CacheState &state : cache.states) {
      llvm::json::Array shape;
      for (int64_t dim : state.shape)
        shape.push_back(dim);
      states.push_back(llvm::json::Object{
          {"past", state.past},
          {"present", state.present},
          {"dtype", kiln_dtype_name(kiln_dtype_t(state.dtype))},
          {"shape", std::move(shape)},
          {"page_bounds", state.boundsPage}});
    }
    root.getAsObject()->try_emplace(
        "kv_cache", llvm::json::Object{{"capacity", cache.capacity},
                                       {"page_tokens", cache.pageTokens},
                                       {"past_dim", cache.pastDim},
                                       {"total_dim", cache.totalDim},
                                       {"batch_dim", cache.batchDim},
                                       {"new_dim", cache.newDim},
                                       {"bytes", int64_t(cacheBytes(cache))},
                                       {"caches", std::move(states)}});
  }
  llvm::outs() << llvm::formatv("{0:2}", root) << "\n";
}

void printText(const package::MappedPackage &package) {
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
  if (const package::SessionCache &cache = manifest.cache; cache.capacity) {
    const package::CacheState &first = cache.states.front();
    size_t bounds = llvm::count_if(
        cache.states, [](const auto &state) { return state.boundsPage > 0; });
    os << "key/value cache: the session's, " << cache.states.size() - bounds
       << " caches of " << cache.capacity << " tokens in pages of "
       << cache.pageTokens << " (" << kiln_dtype_name(kiln_dtype_t(first.dtype))
       << " [1," << first.shape[1] << "," << first.shape[2] << ","
       << first.shape[3] << "] each, " << cacheBytes(cache)
       << " bytes per session); '" << cache.pastDim << "' is the cached "
       << "length, '" << cache.totalDim << "' cached + new tokens";
    if (!cache.newDim.empty())
      os << " ('" << cache.newDim << "')";
    if (bounds)
      os << "; Quest's page bounds of " << bounds << " of the key caches";
    os << "\n";
  }
  printSparseRefine(manifest, os);
  if (!manifest.kernels.empty())
    os << "kernels: " << manifest.kernels.size() << ", "
       << llvm::format("%.4g", double(manifest.totalFlops()) / 1e9)
       << " GFLOP per run\n";
  os << "sections:\n";
  for (const auto &entry : package.sections())
    os << llvm::format("  %-13s offset %10llu  size %10llu  crc32c %08x\n",
                       package::sectionKindName(entry.kind),
                       (unsigned long long)entry.offset,
                       (unsigned long long)entry.size, entry.crc);
  os << "compile options:\n";
  for (const auto &[key, value] : manifest.compileOptions)
    os << "  --" << key << "=" << value << "\n";
  printQuantizedWeights(manifest.quantizedWeights, os);
  if (std::optional<package::CudaSchedule> schedule = cudaSchedule(package))
    printCudaText(*schedule, os);
}

} // namespace

int mlir::kiln::runInspectCommand() {
  package::OpenError error;
  std::unique_ptr<package::MappedPackage> package =
      package::MappedPackage::open(packagePath, error);
  if (!package) {
    llvm::errs() << "kiln: error: " << error.message << "\n";
    return 1;
  }
  if (asJson)
    printJson(*package);
  else
    printText(*package);
  return 0;
}
