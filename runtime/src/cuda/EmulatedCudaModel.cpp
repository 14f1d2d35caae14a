//===- EmulatedCudaModel.cpp - CUDA packages on the SIMT emulator ---------===//
//
// "Device memory" is host memory here: the weights are used in place from
// the mapped package, the workspace is allocated per session, and kernels
// read the caller's inputs and write the outputs directly.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/cuda/CudaModel.h"

#include "runtime/src/BufferCache.h"
#include "runtime/src/InMemoryLibrary.h"
#include "runtime/src/cuda/Emulator.h"
#include "runtime/src/cuda/HostSteps.h"

#include <algorithm>

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

using namespace kiln;
using namespace kiln::runtime;
using package::SectionKind;

namespace {

constexpr size_t kWorkspaceAlignment = 256;

struct EmulatedSession : CudaSessionState {
  ~EmulatedSession() override { std::free(workspace); }
  unsigned char *workspace = nullptr;
};

class EmulatedCudaModel : public CudaModel {
public:
  ~EmulatedCudaModel() override {
    if (handle)
      dlclose(handle);
  }

  kiln_status_t
  createSession(std::unique_ptr<CudaSessionState> &out_state) override {
    auto state = std::make_unique<EmulatedSession>();
    if (workspaceBytes) {
      state->workspace = static_cast<unsigned char *>(std::aligned_alloc(
          kWorkspaceAlignment, (workspaceBytes + kWorkspaceAlignment - 1) /
                                   kWorkspaceAlignment * kWorkspaceAlignment));
      if (!state->workspace)
        return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                          "cannot allocate the " +
                              std::to_string(workspaceBytes) +
                              "-byte workspace");
    }
    out_state = std::move(state);
    return nullptr;
  }

  bool sizedAtRunTime() const override { return !schedule.steps.empty(); }

  kiln_status_t run(CudaSessionState &state,
                    const std::vector<const void *> &given,
                    const std::vector<std::vector<int64_t>> &inputShapes,
                    const CudaSessionCache *cache, std::vector<void *> &outputs,
                    std::vector<std::vector<int64_t>> &outputShapes,
                    ThreadTeam *team) override {
    auto &session = static_cast<EmulatedSession &>(state);
    // The session's cache, in place, after the inputs.
    std::vector<const void *> inputs = given;
    if (cache) {
      inputs.push_back(cache->length);
      inputs.insert(inputs.end(), cache->states.begin(), cache->states.end());
    }
    if (!schedule.steps.empty())
      return runSteps(session, inputs, inputShapes, outputs, outputShapes,
                      team);
    // Kernel parameters, as cuLaunchKernel takes them: pointers to each
    // parameter's value.
    std::vector<unsigned char *> regions = {
        const_cast<unsigned char *>(weights), session.workspace};
    for (const void *input : inputs)
      regions.push_back(
          const_cast<unsigned char *>(static_cast<const unsigned char *>(input)));
    for (void *output : outputs)
      regions.push_back(static_cast<unsigned char *>(output));
    std::vector<void *> params;
    for (unsigned char *&region : regions)
      params.push_back(&region);
    for (const package::CudaLaunchInfo &launch : schedule.launches)
      KILN_RETURN_IF_ERROR(
          launchKernel(launch.kernel, launch.grid, params.data(), team));
    return nullptr;
  }

  kiln_status_t launchKernel(uint32_t index, const uint32_t (&grid)[3],
                             void **params, ThreadTeam *team) const {
    const package::CudaKernelInfo &kernel = schedule.kernels[index];
    EmulatedLaunch emulated;
    emulated.entry = entries[index];
    emulated.params = params;
    std::copy(std::begin(grid), std::end(grid), emulated.grid);
    emulated.block[0] = kernel.blockThreads;
    emulated.cooperative = kernel.cooperative != 0;
    emulated.name = kernel.name.c_str();
    return launchEmulated(emulated, team);
  }

  /// A schedule with host steps: host memory stands for device memory.
  kiln_status_t runSteps(EmulatedSession &session,
                         const std::vector<const void *> &inputs,
                         const std::vector<std::vector<int64_t>> &inputShapes,
                         std::vector<void *> &outputs,
                         std::vector<std::vector<int64_t>> &outputShapes,
                         ThreadTeam *team) {
    struct HostMemory : HostStepDevice {
      HostMemory(const EmulatedCudaModel &model, std::vector<void *> &outputs,
                 ThreadTeam *team)
          : model(model), outputs(outputs), team(team) {}
      kiln_status_t allocate(uint64_t bytes, uint64_t &pointer) override {
        void *buffer = allocateBuffer(std::max<uint64_t>(bytes, 1));
        if (!buffer)
          return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                            "cannot allocate a " + std::to_string(bytes) +
                                "-byte buffer");
        pointer = reinterpret_cast<uintptr_t>(buffer);
        return nullptr;
      }
      void release(uint64_t pointer) override {
        releaseBuffer(reinterpret_cast<void *>(uintptr_t(pointer)));
      }
      kiln_status_t allocateOutput(uint32_t output, uint64_t bytes,
                                   uint64_t &pointer) override {
        void *buffer = allocateBuffer(std::max<uint64_t>(bytes, 1));
        if (!buffer)
          return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        outputs[output] = buffer;
        pointer = reinterpret_cast<uintptr_t>(buffer);
        return nullptr;
      }
      kiln_status_t launch(uint32_t kernel, const uint32_t (&grid)[3],
                           void **params) override {
        return model.launchKernel(kernel, grid, params, team);
      }
      kiln_status_t read(uint64_t pointer, uint64_t bytes,
                         void *host) override {
        // The emulator's launches have finished when they return.
        std::memcpy(host, reinterpret_cast<const void *>(uintptr_t(pointer)),
                    bytes);
        return nullptr;
      }
      const EmulatedCudaModel &model;
      std::vector<void *> &outputs;
      ThreadTeam *team;
    };
    std::vector<uint64_t> roots = {reinterpret_cast<uintptr_t>(weights),
                                   reinterpret_cast<uintptr_t>(session.workspace)};
    for (const void *input : inputs)
      roots.push_back(reinterpret_cast<uintptr_t>(input));
    outputs.assign(outputs.size(), nullptr);
    HostMemory memory(*this, outputs, team);
    kiln_status_t status = runHostSteps(schedule, roots, inputShapes,
                                        outputs.size(), memory, outputShapes);
    if (status)
      for (void *&output : outputs) {
        releaseBuffer(output);
        output = nullptr;
      }
    return status;
  }

  void *handle = nullptr;
  package::CudaSchedule schedule;
  std::vector<kiln_emu_entry> entries;
  const uint8_t *weights = nullptr;
  uint64_t workspaceBytes = 0;
};

} // namespace

kiln_status_t
kiln::runtime::loadEmulatedCudaModel(const package::MappedPackage &package,
                                     const std::string &path,
                                     std::unique_ptr<CudaModel> &out_model) {
  auto fail = [&](const std::string &message) {
    return makeStatus(KILN_STATUS_DATA_LOSS, path + ": " + message);
  };
  auto model = std::make_unique<EmulatedCudaModel>();
  uint64_t size = 0;
  const uint8_t *scheduleBytes = package.section(SectionKind::CudaSchedule, size);
  std::string error;
  if (!scheduleBytes)
    return fail("the package has no CUDA schedule");
  if (!package::parseCudaSchedule(scheduleBytes, size, model->schedule, error))
    return fail(error);
  const uint8_t *code = package.section(SectionKind::CudaEmulator, size);
  if (!code)
    return fail("the package has no build of its kernels for the emulator");
  if (kiln_status_t status = loadLibraryFromMemory(
          code, size, "the emulator's kernels", model->handle)) {
    status->message = path + ": " + status->message;
    return status;
  }
  auto *table = static_cast<const kiln_emu_entry *>(
      dlsym(model->handle, "kiln_emu_kernels"));
  auto *count = static_cast<const unsigned *>(
      dlsym(model->handle, "kiln_emu_kernel_count"));
  if (!table || !count || *count != model->schedule.kernels.size())
    return fail("the emulator's kernels do not match the CUDA schedule");
  model->entries.assign(table, table + *count);
  model->weights = package.section(SectionKind::Weights, size);
  model->workspaceBytes = package.manifest().workspaceBytes;
  out_model = std::move(model);
  return nullptr;
}

std::vector<uint64_t> kiln::runtime::tensorBytes(
    const std::vector<package::TensorSignature> &tensors) {
  std::vector<uint64_t> bytes;
  for (const package::TensorSignature &tensor : tensors) {
    uint64_t count = kiln_dtype_size(static_cast<kiln_dtype_t>(tensor.dtype));
    for (int64_t size : tensor.shape)
      count *= uint64_t(size < 0 ? 0 : size);
    bytes.push_back(count);
  }
  return bytes;
}
