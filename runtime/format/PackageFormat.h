//===- PackageFormat.h - the layout of a .kiln file -------------*- C++ -*-===//
//
// A package is, in order:
//   FileHeader                       32 bytes at offset 0
//   SectionEntry[sectionCount]       32 bytes each
//   sections                         each at its entry's offset, aligned
//
// All integers are little-endian. Every section carries a CRC-32C of its
// bytes; the header carries one of itself and of the section table. The
// manifest section describes the model (see Manifest); the code section is
// an ELF shared object exporting `kiln_entry`; the weights section holds
// the constants the code reads in place, each 64-byte aligned.
//
// This file is shared by the compiler (which writes packages) and the
// runtime (which reads them); it uses only the C++ standard library.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_FORMAT_PACKAGEFORMAT_H
#define KILN_RUNTIME_FORMAT_PACKAGEFORMAT_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kiln::package {

/// PNG-style: a non-ASCII byte first, then line endings that text-mode
/// transfers would mangle.
inline constexpr char kMagic[8] = {'\x89', 'K', 'I', 'L', 'N', '\r', '\n',
                                   '\x1a'};
/// Bumped whenever a reader of the previous version would misread a file.
inline constexpr uint32_t kFormatVersion = 2;
/// Sections holding code or weights start on page boundaries so they can
/// be mapped and used in place.
inline constexpr uint64_t kPageAlignment = 4096;

struct FileHeader {
  char magic[8];
  uint32_t formatVersion;
  uint32_t sectionCount;
  uint64_t fileSize;
  /// CRC-32C of the section table.
  uint32_t tableCrc;
  /// CRC-32C of this header with `headerCrc` set to zero.
  uint32_t headerCrc;
};
static_assert(sizeof(FileHeader) == 32);

enum class SectionKind : uint32_t {
  Manifest = 1,
  CpuCode = 2,
  Weights = 3,
  /// nvcc's fatbin: SASS for each architecture and PTX for the newest.
  CudaFatbin = 4,
  /// The same kernels built for the SIMT emulator: an ELF shared object
  /// exporting `kiln_emu_kernels`.
  CudaEmulator = 5,
  /// The kernels and their launches (CudaSchedule).
  CudaSchedule = 6,
  /// The generated CUDA C++, for reading.
  CudaSource = 7,
};

struct SectionEntry {
  uint32_t kind;
  uint32_t reserved;
  uint64_t offset;
  uint64_t size;
  uint32_t crc;
  uint32_t reserved2;
};
static_assert(sizeof(SectionEntry) == 32);

const char *sectionKindName(uint32_t kind);

/// CRC-32C (Castagnoli), continuing from `crc` (0 to start).
uint32_t crc32c(const void *data, size_t size, uint32_t crc = 0);

/// One input or output of the model.
struct TensorSignature {
  std::string name;
  /// A kiln_dtype_t.
  uint32_t dtype = 0;
  /// -1 for a dimension known only at run time.
  std::vector<int64_t> shape;
  /// One per dimension; "" where the dimension has no name.
  std::vector<std::string> dimNames;
};

/// One kernel of the CPU code: a top-level loop nest, in the order the code
/// runs them. Profiles name each event after its kernel.
struct KernelInfo {
  /// The ONNX nodes it computes, joined with ", ".
  std::string name;
  /// Floating-point operations per run (multiply-adds count two).
  uint64_t flops = 0;
};

/// A weight the compiler quantized: the ONNX node of its product, and its
/// bytes before (f32) and after (the integers with their scales and zero
/// points, as the quantization pass wrote them).
struct QuantizedWeight {
  std::string node;
  uint64_t floatBytes = 0;
  uint64_t bytes = 0;
};

/// One key/value cache the session owns: a buffer [1, heads, capacity,
/// head_dim] that replaces a past input and a present output.
struct CacheState {
  std::string past;
  std::string present;
  /// A kiln_dtype_t.
  uint32_t dtype = 0;
  std::vector<int64_t> shape;
  /// 0 for a cache of rows; else Quest's page bounds of the keys `past`
  /// names, pages of this many tokens, a minimum and a maximum row each:
  /// [1, heads, 2 x ceil(capacity / boundsPage), head_dim].
  int64_t boundsPage = 0;
};

/// A package compiled with `--kv-cache=session`: the code takes, after the
/// model's inputs, the number of tokens cached (an int64 scalar) and then
/// each cache's buffer, into which it appends the run's keys and values.
struct SessionCache {
  /// Tokens each cache holds; 0 when the package has no session cache.
  int64_t capacity = 0;
  int64_t pageTokens = 0;
  /// The dimension the session binds to the cached length, the one it
  /// checks (cached + new tokens, carried by an input such as the attention
  /// mask), and the batch, which is 1 ("" when the model fixes it).
  std::string pastDim;
  std::string totalDim;
  std::string batchDim;
  /// The dimension of the new tokens (input_ids' sequence length): the
  /// total must be the cached plus these ("" when no input names it).
  std::string newDim;
  std::vector<CacheState> states;
};

/// What the runtime and `kiln inspect` know of a package without running
/// its code.
struct Manifest {
  std::string producer;
  std::string modelName;
  /// "cpu".
  std::string target;
  std::string triple;
  std::string cpu;
  /// Instruction-set extensions the code uses, as LLVM names them.
  std::vector<std::string> cpuFeatures;
  /// The options the package was compiled with, as `kiln compile` spells
  /// them.
  std::vector<std::pair<std::string, std::string>> compileOptions;
  uint64_t weightsBytes = 0;
  /// The scratch memory one run needs, laid out by the compiler's memory
  /// plan; allocated once per session.
  uint64_t workspaceBytes = 0;
  /// Intermediate buffers whose size depends on run-time dimensions and are
  /// allocated during a run.
  uint64_t dynamicBuffers = 0;
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;
  /// The CPU code's kernels (empty for CUDA packages).
  std::vector<KernelInfo> kernels;
  SessionCache cache;
  /// Empty unless `--quantize` quantized weights.
  std::vector<QuantizedWeight> quantizedWeights;

  uint64_t totalFlops() const {
    uint64_t total = 0;
    for (const KernelInfo &kernel : kernels)
      total += kernel.flops;
    return total;
  }
};

/// What ptxas reports for one kernel on one architecture, and the
/// theoretical occupancy that follows.
struct KernelResources {
  std::string architecture;
  uint32_t registers = 0;
  uint32_t spillStoreBytes = 0;
  uint32_t spillLoadBytes = 0;
  uint32_t stackBytes = 0;
  uint32_t sharedBytes = 0;
  /// Resident warps per SM as a percentage of the maximum.
  uint32_t occupancyPercent = 0;
};

struct CudaKernelInfo {
  std::string name;
  uint32_t blockThreads = 0;
  /// Nonzero when its threads wait for each other (the emulator then runs
  /// them as fibers).
  uint32_t cooperative = 0;
  /// The ONNX nodes it computes.
  std::string origin;
  std::vector<KernelResources> resources;
};

struct CudaLaunchInfo {
  uint32_t kernel = 0;
  uint32_t grid[3] = {1, 1, 1};
};

/// What the host does for a model whose sizes are known only at run time:
/// computes sizes into 64-bit slots, allocates buffers and launches kernels
/// with grids and arguments taken from slots. Before the first step, slot
/// 0 holds the weights, slot 1 the workspace and slot 2 + i input i (device
/// pointers).
enum class CudaHostOp : uint32_t {
  /// result = value
  Constant,
  /// result = dimension `value` of input `code`
  InputDim,
  /// result = operands[0] `code` (CudaHostArith) operands[1], an integer of
  /// `value` bits (sign-extended in its slot)
  Arith,
  /// result = operands[0] != 0 ? operands[1] : operands[2]
  Select,
  /// result = a device buffer of operands[0] bytes
  Alloc,
  /// frees the buffer in operands[0]
  Free,
  /// result = output `code`'s buffer, of operands[0] bytes
  AllocOutput,
  /// output `code` has the dimensions in operands
  OutputShape,
  /// kernel `code` on grid (operands[0], operands[1], operands[2]); its
  /// parameters are the remaining operands' slots, 8 bytes each
  Launch,
  /// result = the signed integer of `value` bytes (1, 2, 4 or 8) at byte
  /// operands[1] of the device buffer operands[0], once the kernels
  /// launched before it have finished: a size the kernels computed
  Load,
};
constexpr uint32_t kCudaHostOpCount = 10;

/// The integer operations of CudaHostOp::Arith. Unsigned ones read their
/// operands as `value`-bit unsigned integers; comparisons give 1 or 0.
enum class CudaHostArith : uint32_t {
  Add, Sub, Mul, DivS, DivU, RemS, RemU, CeilDivS, FloorDivS, MaxS, MinS,
  MaxU, MinU, And, Or, Xor, Shl, ShrS, ShrU,
  Eq, Ne, LtS, LeS, GtS, GeS, LtU, LeU, GtU, GeU,
  /// operands[0] zero-extended from `value` bits (operands[1] unused)
  ExtU,
};
constexpr uint32_t kCudaHostArithCount = 30;

struct CudaHostStep {
  CudaHostOp op = CudaHostOp::Constant;
  uint32_t code = 0;
  int64_t value = 0;
  uint32_t result = 0;
  std::vector<uint32_t> operands;
};

/// How a CUDA package runs. With static shapes every kernel takes
/// (weights, workspace, inputs..., outputs...) as device pointers and the
/// launches run in order on one stream; otherwise `steps` say what the host
/// computes, allocates and launches, in order on one stream.
struct CudaSchedule {
  /// "sm_80", ...; empty when the package was built for the emulator only.
  std::vector<std::string> architectures;
  std::string precision;
  std::vector<CudaKernelInfo> kernels;
  std::vector<CudaLaunchInfo> launches;
  uint32_t slotCount = 0;
  std::vector<CudaHostStep> steps;
};

std::string serializeManifest(const Manifest &manifest);
/// Fails with a message, never reads out of bounds.
bool parseManifest(const void *data, size_t size, Manifest &manifest,
                   std::string &error);

std::string serializeCudaSchedule(const CudaSchedule &schedule);
/// Fails with a message, never reads out of bounds; checks that every
/// launch names a kernel and every shape is possible.
bool parseCudaSchedule(const void *data, size_t size, CudaSchedule &schedule,
                       std::string &error);

} // namespace kiln::package

#endif // KILN_RUNTIME_FORMAT_PACKAGEFORMAT_H
