//===- PackageFormat.cpp - the layout of a .kiln file ---------------------===//

#include "runtime/format/PackageFormat.h"

#include <algorithm>

#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

using namespace kiln::package;

const char *kiln::package::sectionKindName(uint32_t kind) {
  switch (static_cast<SectionKind>(kind)) {
  case SectionKind::Manifest:
    return "manifest";
  case SectionKind::CpuCode:
    return "cpu-code";
  case SectionKind::Weights:
    return "weights";
  case SectionKind::CudaFatbin:
    return "cuda-fatbin";
  case SectionKind::CudaEmulator:
    return "cuda-emulator";
  case SectionKind::CudaSchedule:
    return "cuda-schedule";
  case SectionKind::CudaSource:
    return "cuda-source";
  }
  return "unknown";
}

//===----------------------------------------------------------------------===//
// CRC-32C

namespace {

struct Crc32cTable {
  uint32_t entries[256];
  Crc32cTable() {
    for (uint32_t byte = 0; byte < 256; ++byte) {
      uint32_t crc = byte;
      for (int bit = 0; bit < 8; ++bit)
        crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
      entries[byte] = crc;
    }
  }
};

uint32_t crc32cPortable(const uint8_t *bytes, size_t size, uint32_t crc) {
  static const Crc32cTable table;
  for (size_t i = 0; i < size; ++i)
    crc = table.entries[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
// Weights run to hundreds of megabytes; the SSE 4.2 instruction checks them
// at memory speed.
__attribute__((target("sse4.2"))) uint32_t
crc32cHardware(const uint8_t *bytes, size_t size, uint32_t crc) {
  uint64_t wide = crc;
  for (; size >= 8; bytes += 8, size -= 8) {
    uint64_t word;
    std::memcpy(&word, bytes, 8);
    wide = _mm_crc32_u64(wide, word);
  }
  crc = static_cast<uint32_t>(wide);
  for (; size > 0; ++bytes, --size)
    crc = _mm_crc32_u8(crc, *bytes);
  return crc;
}
#endif

} // namespace

uint32_t kiln::package::crc32c(const void *data, size_t size, uint32_t crc) {
  const auto *bytes = static_cast<const uint8_t *>(data);
  crc = ~crc;
#if defined(__x86_64__)
  static const bool hasSse42 = __builtin_cpu_supports("sse4.2");
  crc = hasSse42 ? crc32cHardware(bytes, size, crc)
                 : crc32cPortable(bytes, size, crc);
#else
  crc = crc32cPortable(bytes, size, crc);
#endif
  return ~crc;
}

//===----------------------------------------------------------------------===//
// Manifest

namespace {

/// Bumped with any change to the manifest's encoding.
// 2: the kernels and their FLOPs.
// 3: the session's key/value cache.
// 5: the quantized weights' sizes.
constexpr uint32_t kManifestVersion = 6;

class Writer {
public:
  void u32(uint32_t value) { raw(&value, sizeof(value)); }
  void u64(uint64_t value) { raw(&value, sizeof(value)); }
  void i64(int64_t value) { raw(&value, sizeof(value)); }
  void string(const std::string &value) {
    u32(static_cast<uint32_t>(value.size()));
    raw(value.data(), value.size());
  }
  void strings(const std::vector<std::string> &values) {
    u32(static_cast<uint32_t>(values.size()));
    for (const std::string &value : values)
      string(value);
  }
  void tensor(const TensorSignature &signature) {
    string(signature.name);
    u32(signature.dtype);
    u32(static_cast<uint32_t>(signature.shape.size()));
    for (int64_t dim : signature.shape)
      i64(dim);
    strings(signature.dimNames);
  }
  std::string take() { return std::move(bytes); }

private:
  void raw(const void *data, size_t size) {
    bytes.append(static_cast<const char *>(data), size);
  }
  std::string bytes;
};

/// Reads what Writer wrote; the first failure sticks and names the field.
class Reader {
public:
  Reader(const void *data, size_t size, std::string document)
      : cursor(static_cast<const char *>(data)), end(cursor + size),
        document(std::move(document)) {}

  bool u32(uint32_t &value, const char *what) { return raw(&value, 4, what); }
  bool u64(uint64_t &value, const char *what) { return raw(&value, 8, what); }
  bool i64(int64_t &value, const char *what) { return raw(&value, 8, what); }
  bool string(std::string &value, const char *what) {
    uint32_t length;
    if (!u32(length, what))
      return false;
    if (length > static_cast<size_t>(end - cursor))
      return fail(what);
    value.assign(cursor, length);
    cursor += length;
    return true;
  }
  /// A count of things that each take at least `minBytes`.
  bool count(uint32_t &value, size_t minBytes, const char *what) {
    if (!u32(value, what))
      return false;
    if (value > static_cast<size_t>(end - cursor) / minBytes)
      return fail(what);
    return true;
  }
  bool strings(std::vector<std::string> &values, const char *what) {
    uint32_t size;
    if (!count(size, 4, what))
      return false;
    values.resize(size);
    for (std::string &value : values)
      if (!string(value, what))
        return false;
    return true;
  }
  bool tensor(TensorSignature &signature) {
    uint32_t rank;
    if (!string(signature.name, "tensor name") ||
        !u32(signature.dtype, "tensor dtype") ||
        !count(rank, 8, "tensor rank"))
      return false;
    signature.shape.resize(rank);
    for (int64_t &dim : signature.shape)
      if (!i64(dim, "tensor shape"))
        return false;
    if (!strings(signature.dimNames, "dimension names"))
      return false;
    if (signature.dimNames.size() != rank)
      return fail("dimension names");
    return true;
  }
  bool atEnd() const { return cursor == end; }
  const std::string &error() const { return message; }

private:
  bool raw(void *value, size_t size, const char *what) {
    if (static_cast<size_t>(end - cursor) < size)
      return fail(what);
    std::memcpy(value, cursor, size);
    cursor += size;
    return true;
  }
  bool fail(const char *what) {
    if (message.empty())
      message = "the " + document + " is malformed at its " + what;
    return false;
  }

  const char *cursor;
  const char *end;
  std::string document;
  std::string message;
};

} // namespace

std::string kiln::package::serializeManifest(const Manifest &manifest) {
  Writer writer;
  writer.u32(kManifestVersion);
  writer.string(manifest.producer);
  writer.string(manifest.modelName);
  writer.string(manifest.target);
  writer.string(manifest.triple);
  writer.string(manifest.cpu);
  writer.strings(manifest.cpuFeatures);
  writer.u32(static_cast<uint32_t>(manifest.compileOptions.size()));
  for (const auto &[key, value] : manifest.compileOptions) {
    writer.string(key);
    writer.string(value);
  }
  writer.u64(manifest.weightsBytes);
  writer.u64(manifest.workspaceBytes);
  writer.u64(manifest.dynamicBuffers);
  for (const auto *tensors : {&manifest.inputs, &manifest.outputs}) {
    writer.u32(static_cast<uint32_t>(tensors->size()));
    for (const TensorSignature &tensor : *tensors)
      writer.tensor(tensor);
  }
  writer.u32(static_cast<uint32_t>(manifest.kernels.size()));
  for (const KernelInfo &kernel : manifest.kernels) {
    writer.string(kernel.name);
    writer.u64(kernel.flops);
  }
  const SessionCache &cache = manifest.cache;
  writer.u64(static_cast<uint64_t>(cache.capacity));
  writer.u64(static_cast<uint64_t>(cache.pageTokens));
  writer.string(cache.pastDim);
  writer.string(cache.totalDim);
  writer.string(cache.batchDim);
  writer.string(cache.newDim);
  writer.u32(static_cast<uint32_t>(cache.states.size()));
  for (const CacheState &state : cache.states) {
    writer.string(state.past);
    writer.string(state.present);
    writer.tensor({"", state.dtype, state.shape,
                   std::vector<std::string>(state.shape.size())});
    writer.u64(static_cast<uint64_t>(state.boundsPage));
  }
  writer.u32(static_cast<uint32_t>(manifest.quantizedWeights.size()));
  for (const QuantizedWeight &weight : manifest.quantizedWeights) {
    writer.string(weight.node);
    writer.u64(weight.floatBytes);
    writer.u64(weight.bytes);
  }
  return writer.take();
}

bool kiln::package::parseManifest(const void *data, size_t size,
                                  Manifest &manifest, std::string &error) {
  Reader reader(data, size, "manifest");
  uint32_t version = 0, optionCount = 0;
  bool ok = reader.u32(version, "version");
  if (ok && version != kManifestVersion) {
    error = "the manifest has version " + std::to_string(version) +
            "; this runtime reads version " + std::to_string(kManifestVersion);
    return false;
  }
  ok = ok && reader.string(manifest.producer, "producer") &&
       reader.string(manifest.modelName, "model name") &&
       reader.string(manifest.target, "target") &&
       reader.string(manifest.triple, "triple") &&
       reader.string(manifest.cpu, "cpu") &&
       reader.strings(manifest.cpuFeatures, "cpu features") &&
       reader.count(optionCount, 8, "compile options");
  if (ok) {
    manifest.compileOptions.resize(optionCount);
    for (auto &[key, value] : manifest.compileOptions)
      ok = ok && reader.string(key, "compile options") &&
           reader.string(value, "compile options");
  }
  ok = ok && reader.u64(manifest.weightsBytes, "weights size") &&
       reader.u64(manifest.workspaceBytes, "workspace size") &&
       reader.u64(manifest.dynamicBuffers, "dynamic buffer count");
  for (auto *tensors : {&manifest.inputs, &manifest.outputs}) {
    uint32_t count = 0;
    ok = ok && reader.count(count, 16, "signature");
    if (!ok)
      break;
    tensors->resize(count);
    for (TensorSignature &tensor : *tensors)
      ok = ok && reader.tensor(tensor);
  }
  uint32_t kernelCount = 0;
  ok = ok && reader.count(kernelCount, 12, "kernels");
  if (ok) {
    manifest.kernels.resize(kernelCount);
    for (KernelInfo &kernel : manifest.kernels)
      ok = ok && reader.string(kernel.name, "kernels") &&
           reader.u64(kernel.flops, "kernels");
  }
  SessionCache &cache = manifest.cache;
  uint64_t capacity = 0, pageTokens = 0;
  uint32_t stateCount = 0;
  ok = ok && reader.u64(capacity, "cache capacity") &&
       reader.u64(pageTokens, "cache page") &&
       reader.string(cache.pastDim, "cache dimensions") &&
       reader.string(cache.totalDim, "cache dimensions") &&
       reader.string(cache.batchDim, "cache dimensions") &&
       reader.string(cache.newDim, "cache dimensions") &&
       reader.count(stateCount, 16, "caches");
  if (ok) {
    cache.capacity = static_cast<int64_t>(capacity);
    cache.pageTokens = static_cast<int64_t>(pageTokens);
    cache.states.resize(stateCount);
    for (CacheState &state : cache.states) {
      TensorSignature signature;
      uint64_t boundsPage = 0;
      ok = ok && reader.string(state.past, "caches") &&
           reader.string(state.present, "caches") && reader.tensor(signature) &&
           reader.u64(boundsPage, "caches");
      if (!ok)
        break;
      state.dtype = signature.dtype;
      state.shape = signature.shape;
      bool sane = state.shape.size() == 4 && state.shape[0] == 1 &&
                  boundsPage < (uint64_t(1) << 32);
      for (int64_t dim : state.shape)
        sane = sane && dim > 0 && dim < (int64_t(1) << 32);
      state.boundsPage = static_cast<int64_t>(boundsPage);
      // Rows of the cache, or two rows of bounds per page of it.
      int64_t rows = boundsPage ? 2 * ((cache.capacity + state.boundsPage - 1) /
                                       std::max<int64_t>(state.boundsPage, 1))
                                : cache.capacity;
      if (!sane || state.shape[2] != rows) {
        error = "the manifest's cache '" + state.past + "' is not " +
                (boundsPage ? "[1, heads, 2 x pages, head_dim]"
                            : "[1, heads, capacity, head_dim]");
        return false;
      }
    }
    if (ok && (cache.capacity < 0 || cache.pageTokens < 0 ||
               (cache.capacity > 0) != !cache.states.empty() ||
               (cache.capacity > 0 &&
                (cache.pageTokens == 0 || cache.capacity % cache.pageTokens)))) {
      error = "the manifest's session cache is inconsistent";
      return false;
    }
  }
  uint32_t weightCount = 0;
  ok = ok && reader.count(weightCount, 20, "quantized weights");
  if (ok) {
    manifest.quantizedWeights.resize(weightCount);
    for (QuantizedWeight &weight : manifest.quantizedWeights)
      ok = ok && reader.string(weight.node, "quantized weights") &&
           reader.u64(weight.floatBytes, "quantized weights") &&
           reader.u64(weight.bytes, "quantized weights");
  }
  if (ok && !reader.atEnd()) {
    error = "the manifest has trailing bytes";
    return false;
  }
  if (!ok)
    error = reader.error();
  return ok;
}

//===----------------------------------------------------------------------===//
// CUDA schedule

namespace {
constexpr uint32_t kCudaScheduleVersion = 2;


/// Whether `step`'s slots, kernel and operation exist and its operands
/// are as many as its kind takes; inputs and outputs are checked against
/// the manifest when the package is run.
bool validHostStep(const CudaHostStep &step, const CudaSchedule &schedule) {
  for (uint32_t operand : step.operands)
    if (operand >= schedule.slotCount)
      return false;
  if (step.result >= schedule.slotCount)
    return false;
  size_t operands = step.operands.size();
  switch (step.op) {
  case CudaHostOp::Constant:
  case CudaHostOp::InputDim:
    return operands == 0;
  case CudaHostOp::Arith:
    return operands == 2 && step.code < kCudaHostArithCount &&
           step.value >= 1 && step.value <= 64;
  case CudaHostOp::Select:
    return operands == 3;
  case CudaHostOp::Alloc:
  case CudaHostOp::Free:
  case CudaHostOp::AllocOutput:
    return operands == 1;
  case CudaHostOp::OutputShape:
    return true;
  case CudaHostOp::Launch:
    return operands >= 3 && step.code < schedule.kernels.size();
  case CudaHostOp::Load:
    return operands == 2 && (step.value == 1 || step.value == 2 ||
                             step.value == 4 || step.value == 8);
  }
  return false;
}
} // namespace

std::string kiln::package::serializeCudaSchedule(const CudaSchedule &schedule) {
  Writer writer;
  writer.u32(kCudaScheduleVersion);
  writer.strings(schedule.architectures);
  writer.string(schedule.precision);
  writer.u32(static_cast<uint32_t>(schedule.kernels.size()));
  for (const CudaKernelInfo &kernel : schedule.kernels) {
    writer.string(kernel.name);
    writer.u32(kernel.blockThreads);
    writer.u32(kernel.cooperative);
    writer.string(kernel.origin);
    writer.u32(static_cast<uint32_t>(kernel.resources.size()));
    for (const KernelResources &resources : kernel.resources) {
      writer.string(resources.architecture);
      writer.u32(resources.registers);
      writer.u32(resources.spillStoreBytes);
      writer.u32(resources.spillLoadBytes);
      writer.u32(resources.stackBytes);
      writer.u32(resources.sharedBytes);
      writer.u32(resources.occupancyPercent);
    }
  }
  writer.u32(static_cast<uint32_t>(schedule.launches.size()));
  for (const CudaLaunchInfo &launch : schedule.launches) {
    writer.u32(launch.kernel);
    for (uint32_t size : launch.grid)
      writer.u32(size);
  }
  writer.u32(schedule.slotCount);
  writer.u32(static_cast<uint32_t>(schedule.steps.size()));
  for (const CudaHostStep &step : schedule.steps) {
    writer.u32(static_cast<uint32_t>(step.op));
    writer.u32(step.code);
    writer.i64(step.value);
    writer.u32(step.result);
    writer.u32(static_cast<uint32_t>(step.operands.size()));
    for (uint32_t operand : step.operands)
      writer.u32(operand);
  }
  return writer.take();
}

bool kiln::package::parseCudaSchedule(const void *data, size_t size,
                                      CudaSchedule &schedule,
                                      std::string &error) {
  Reader reader(data, size, "CUDA schedule");
  uint32_t version = 0, kernelCount = 0, launchCount = 0;
  bool ok = reader.u32(version, "CUDA schedule version");
  if (ok && version != kCudaScheduleVersion) {
    error = "the CUDA schedule has version " + std::to_string(version) +
            "; this runtime reads version " +
            std::to_string(kCudaScheduleVersion);
    return false;
  }
  ok = ok && reader.strings(schedule.architectures, "CUDA architectures") &&
       reader.string(schedule.precision, "CUDA precision") &&
       reader.count(kernelCount, 16, "kernel count");
  if (ok)
    schedule.kernels.resize(kernelCount);
  for (CudaKernelInfo &kernel : schedule.kernels) {
    uint32_t resourceCount = 0;
    ok = ok && reader.string(kernel.name, "kernel name") &&
         reader.u32(kernel.blockThreads, "kernel block size") &&
         reader.u32(kernel.cooperative, "kernel flags") &&
         reader.string(kernel.origin, "kernel origin") &&
         reader.count(resourceCount, 28, "kernel resources");
    if (!ok)
      break;
    kernel.resources.resize(resourceCount);
    for (KernelResources &resources : kernel.resources)
      ok = ok && reader.string(resources.architecture, "kernel resources") &&
           reader.u32(resources.registers, "kernel resources") &&
           reader.u32(resources.spillStoreBytes, "kernel resources") &&
           reader.u32(resources.spillLoadBytes, "kernel resources") &&
           reader.u32(resources.stackBytes, "kernel resources") &&
           reader.u32(resources.sharedBytes, "kernel resources") &&
           reader.u32(resources.occupancyPercent, "kernel resources");
    if (ok && (kernel.blockThreads == 0 || kernel.blockThreads > 1024)) {
      error = "the CUDA schedule gives kernel '" + kernel.name +
              "' an impossible block size";
      return false;
    }
  }
  ok = ok && reader.count(launchCount, 16, "launch count");
  if (ok)
    schedule.launches.resize(launchCount);
  for (CudaLaunchInfo &launch : schedule.launches) {
    ok = ok && reader.u32(launch.kernel, "launch") &&
         reader.u32(launch.grid[0], "launch") &&
         reader.u32(launch.grid[1], "launch") &&
         reader.u32(launch.grid[2], "launch");
    if (ok && (launch.kernel >= schedule.kernels.size() || !launch.grid[0] ||
               !launch.grid[1] || !launch.grid[2])) {
      error = "the CUDA schedule has a launch of a kernel it does not have";
      return false;
    }
  }
  uint32_t stepCount = 0;
  ok = ok && reader.u32(schedule.slotCount, "slot count") &&
       reader.count(stepCount, 24, "host step count");
  if (ok)
    schedule.steps.resize(stepCount);
  for (CudaHostStep &step : schedule.steps) {
    uint32_t op = 0, operandCount = 0;
    ok = ok && reader.u32(op, "host step") &&
         reader.u32(step.code, "host step") &&
         reader.i64(step.value, "host step") &&
         reader.u32(step.result, "host step") &&
         reader.count(operandCount, 4, "host step operands");
    if (!ok)
      break;
    step.operands.resize(operandCount);
    for (uint32_t &operand : step.operands)
      ok = ok && reader.u32(operand, "host step operand");
    if (!ok)
      break;
    if (op >= kCudaHostOpCount) {
      error = "the CUDA schedule has a host step of unknown kind " +
              std::to_string(op);
      return false;
    }
    step.op = static_cast<CudaHostOp>(op);
    if (!validHostStep(step, schedule)) {
      error = "the CUDA schedule has an invalid host step (kind " +
              std::to_string(op) + ")";
      return false;
    }
  }
  if (ok && !reader.atEnd()) {
    error = "the CUDA schedule has trailing bytes";
    return false;
  }
  if (!ok)
    error = reader.error();
  return ok;
}
