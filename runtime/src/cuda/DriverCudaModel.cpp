//===- DriverCudaModel.cpp - CUDA packages on a GPU -----------------------===//
//
// Talks to the CUDA driver API through dlopen("libcuda.so.1"), so the
// runtime builds and runs without CUDA, and says why a CUDA package cannot
// run where there is no driver or no GPU. The weights are uploaded once per
// loaded model; each session has its own stream, workspace and device
// copies of the inputs and outputs.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/cuda/CudaModel.h"

#include "runtime/src/BufferCache.h"
#include "runtime/src/cuda/HostSteps.h"

#include <algorithm>

#include <dlfcn.h>
#include <mutex>

using namespace kiln;
using namespace kiln::runtime;
using package::SectionKind;

namespace {

// The few driver API types and entry points used, as cuda.h declares them.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;

struct DriverApi {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
};

/// Loads the driver once per process; null with `error` set if it cannot.
const DriverApi *driverApi(std::string &error) {
  static std::once_flag once;
  static DriverApi api;
  static std::string loadError;
  static bool loaded = false;
  std::call_once(once, [] {
    void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char *why = dlerror();
      loadError = std::string("the NVIDIA driver (libcuda.so.1) is not "
                              "installed on this machine") +
                  (why ? std::string(" (") + why + ")" : "");
      return;
    }
    bool complete = true;
    auto bind = [&](auto &function, const char *name) {
      function = reinterpret_cast<std::remove_reference_t<decltype(function)>>(
          dlsym(library, name));
      complete &= function != nullptr;
    };
    bind(api.cuInit, "cuInit");
    bind(api.cuDeviceGetCount, "cuDeviceGetCount");
    bind(api.cuDeviceGet, "cuDeviceGet");
    bind(api.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    bind(api.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    bind(api.cuCtxSetCurrent, "cuCtxSetCurrent");
    bind(api.cuModuleLoadData, "cuModuleLoadData");
    bind(api.cuModuleUnload, "cuModuleUnload");
    bind(api.cuModuleGetFunction, "cuModuleGetFunction");
    bind(api.cuMemAlloc, "cuMemAlloc_v2");
    bind(api.cuMemFree, "cuMemFree_v2");
    bind(api.cuMemcpyHtoD, "cuMemcpyHtoD_v2");
    bind(api.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
    bind(api.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
    bind(api.cuStreamCreate, "cuStreamCreate");
    bind(api.cuStreamDestroy, "cuStreamDestroy_v2");
    bind(api.cuStreamSynchronize, "cuStreamSynchronize");
    bind(api.cuLaunchKernel, "cuLaunchKernel");
    bind(api.cuGetErrorString, "cuGetErrorString");
    if (!complete) {
      loadError = "the NVIDIA driver (libcuda.so.1) lacks entry points this "
                  "runtime needs; update the driver";
      return;
    }
    loaded = true;
  });
  if (!loaded) {
    error = loadError;
    return nullptr;
  }
  return &api;
}

class DriverCudaModel;

struct DriverSession : CudaSessionState {
  ~DriverSession() override;
  const DriverApi *api = nullptr;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  CUdeviceptr workspace = 0;
  std::vector<CUdeviceptr> inputs, outputs;
  /// The key/value cache's length and caches, allocated at the first run.
  CUdeviceptr cacheLength = 0;
  std::vector<CUdeviceptr> cacheStates;
};

class DriverCudaModel : public CudaModel {
public:
  ~DriverCudaModel() override {
    if (!api)
      return;
    api->cuCtxSetCurrent(context);
    if (weights)
      api->cuMemFree(weights);
    if (module)
      api->cuModuleUnload(module);
    if (context)
      api->cuDevicePrimaryCtxRelease(device);
  }

  /// A failed driver call as a status naming what was being done.
  kiln_status_t check(CUresult result, const char *what) const {
    if (result == CUDA_SUCCESS)
      return nullptr;
    const char *text = nullptr;
    if (api->cuGetErrorString(result, &text) != CUDA_SUCCESS || !text)
      text = "unknown error";
    return makeStatus(KILN_STATUS_INTERNAL, std::string("CUDA: ") + what +
                                                " failed: " + text + " (" +
                                                std::to_string(result) + ")");
  }

  kiln_status_t
  createSession(std::unique_ptr<CudaSessionState> &out_state) override {
    auto state = std::make_unique<DriverSession>();
    state->api = api;
    state->context = context;
    KILN_RETURN_IF_ERROR(check(api->cuCtxSetCurrent(context), "cuCtxSetCurrent"));
    KILN_RETURN_IF_ERROR(
        check(api->cuStreamCreate(&state->stream, 0), "creating a stream"));
    auto allocate = [&](uint64_t bytes, CUdeviceptr &pointer) {
      return check(api->cuMemAlloc(&pointer, bytes ? bytes : 1),
                   "allocating device memory");
    };
    KILN_RETURN_IF_ERROR(allocate(workspaceBytes, state->workspace));
    for (uint64_t bytes : inputBytes)
      KILN_RETURN_IF_ERROR(allocate(bytes, state->inputs.emplace_back()));
    for (uint64_t bytes : outputBytes)
      KILN_RETURN_IF_ERROR(allocate(bytes, state->outputs.emplace_back()));
    out_state = std::move(state);
    return nullptr;
  }

  bool sizedAtRunTime() const override { return !schedule.steps.empty(); }

  /// The device buffers of the session's cache, after the inputs: its
  /// length, copied in each run, and the caches, allocated at the first.
  kiln_status_t cacheBuffers(DriverSession &session,
                             const CudaSessionCache &cache,
                             std::vector<CUdeviceptr> &buffers) const {
    if (!session.cacheLength) {
      KILN_RETURN_IF_ERROR(check(api->cuMemAlloc(&session.cacheLength, 8),
                                 "allocating the key/value cache"));
      for (size_t i = 0; i < cache.states.size(); ++i) {
        CUdeviceptr state = 0;
        KILN_RETURN_IF_ERROR(check(
            api->cuMemAlloc(&state, std::max<uint64_t>(cache.stateBytes[i], 1)),
            "allocating the key/value cache"));
        session.cacheStates.push_back(state);
      }
    }
    KILN_RETURN_IF_ERROR(
        check(api->cuMemcpyHtoDAsync(session.cacheLength, cache.length, 8,
                                     session.stream),
              "copying the cached length to the GPU"));
    buffers.push_back(session.cacheLength);
    buffers.insert(buffers.end(), session.cacheStates.begin(),
                   session.cacheStates.end());
    return nullptr;
  }

  kiln_status_t run(CudaSessionState &state,
                    const std::vector<const void *> &inputs,
                    const std::vector<std::vector<int64_t>> &inputShapes,
                    const CudaSessionCache *cache, std::vector<void *> &outputs,
                    std::vector<std::vector<int64_t>> &outputShapes,
                    ThreadTeam *) override {
    auto &session = static_cast<DriverSession &>(state);
    KILN_RETURN_IF_ERROR(check(api->cuCtxSetCurrent(context), "cuCtxSetCurrent"));
    std::vector<CUdeviceptr> cached;
    if (cache)
      KILN_RETURN_IF_ERROR(cacheBuffers(session, *cache, cached));
    if (!schedule.steps.empty())
      return runSteps(session, inputs, inputShapes, cached, outputs,
                      outputShapes);
    for (size_t i = 0; i < inputs.size(); ++i)
      KILN_RETURN_IF_ERROR(check(
          api->cuMemcpyHtoDAsync(session.inputs[i], inputs[i], inputBytes[i],
                                 session.stream),
          "copying an input to the GPU"));
    std::vector<CUdeviceptr> regions = {weights, session.workspace};
    regions.insert(regions.end(), session.inputs.begin(), session.inputs.end());
    regions.insert(regions.end(), cached.begin(), cached.end());
    regions.insert(regions.end(), session.outputs.begin(),
                   session.outputs.end());
    std::vector<void *> params;
    for (CUdeviceptr &region : regions)
      params.push_back(&region);
    for (const package::CudaLaunchInfo &launch : schedule.launches)
      KILN_RETURN_IF_ERROR(launchKernel(launch.kernel, launch.grid,
                                        params.data(), session.stream));
    for (size_t i = 0; i < outputs.size(); ++i)
      KILN_RETURN_IF_ERROR(check(
          api->cuMemcpyDtoHAsync(outputs[i], session.outputs[i],
                                 outputBytes[i], session.stream),
          "copying an output from the GPU"));
    return check(api->cuStreamSynchronize(session.stream), "running the model");
  }

  kiln_status_t launchKernel(uint32_t index, const uint32_t (&grid)[3],
                             void **params, CUstream stream) const {
    const package::CudaKernelInfo &kernel = schedule.kernels[index];
    CUresult launched =
        api->cuLaunchKernel(functions[index], grid[0], grid[1], grid[2],
                            kernel.blockThreads, 1, 1, 0, stream, params,
                            nullptr);
    if (launched == CUDA_SUCCESS)
      return nullptr;
    std::string what = "launching " + kernel.name;
    if (!kernel.origin.empty())
      what += " for " + kernel.origin;
    return check(launched, what.c_str());
  }

  /// A schedule with host steps: the inputs are copied to buffers of this
  /// run's sizes, and the outputs back from the buffers the steps allocate.
  kiln_status_t runSteps(DriverSession &session,
                         const std::vector<const void *> &inputs,
                         const std::vector<std::vector<int64_t>> &inputShapes,
                         const std::vector<CUdeviceptr> &cached,
                         std::vector<void *> &outputs,
                         std::vector<std::vector<int64_t>> &outputShapes) {
    struct Device : HostStepDevice {
      Device(const DriverCudaModel &model, CUstream stream, size_t outputs)
          : model(model), stream(stream), outputs(outputs, 0),
            outputBytes(outputs, 0) {}
      ~Device() override {
        for (CUdeviceptr pointer : owned)
          model.api->cuMemFree(pointer);
      }
      kiln_status_t allocate(uint64_t bytes, uint64_t &pointer) override {
        CUdeviceptr buffer = 0;
        KILN_RETURN_IF_ERROR(model.check(
            model.api->cuMemAlloc(&buffer, bytes ? bytes : 1),
            "allocating device memory"));
        pointer = buffer;
        return nullptr;
      }
      void release(uint64_t pointer) override {
        // The stream may still use it: wait first.
        model.api->cuStreamSynchronize(stream);
        model.api->cuMemFree(pointer);
      }
      kiln_status_t allocateOutput(uint32_t output, uint64_t bytes,
                                   uint64_t &pointer) override {
        KILN_RETURN_IF_ERROR(allocate(bytes, pointer));
        owned.push_back(pointer);
        outputs[output] = pointer;
        outputBytes[output] = bytes;
        return nullptr;
      }
      kiln_status_t launch(uint32_t kernel, const uint32_t (&grid)[3],
                           void **params) override {
        return model.launchKernel(kernel, grid, params, stream);
      }
      kiln_status_t read(uint64_t pointer, uint64_t bytes,
                         void *host) override {
        KILN_RETURN_IF_ERROR(model.check(
            model.api->cuMemcpyDtoHAsync(host, pointer, bytes, stream),
            "reading a size the kernels computed"));
        return model.check(model.api->cuStreamSynchronize(stream),
                           "reading a size the kernels computed");
      }
      const DriverCudaModel &model;
      CUstream stream;
      std::vector<CUdeviceptr> outputs, owned;
      std::vector<uint64_t> outputBytes;
    } device(*this, session.stream, outputs.size());

    std::vector<uint64_t> roots = {weights, session.workspace};
    for (size_t i = 0; i < inputs.size(); ++i) {
      uint64_t bytes = inputElementBytes[i];
      for (int64_t size : inputShapes[i])
        bytes *= uint64_t(size);
      uint64_t pointer = 0;
      KILN_RETURN_IF_ERROR(device.allocate(bytes, pointer));
      device.owned.push_back(pointer);
      roots.push_back(pointer);
      if (bytes)
        KILN_RETURN_IF_ERROR(check(api->cuMemcpyHtoDAsync(pointer, inputs[i],
                                                          bytes, session.stream),
                                   "copying an input to the GPU"));
    }
    roots.insert(roots.end(), cached.begin(), cached.end());
    KILN_RETURN_IF_ERROR(runHostSteps(schedule, roots, inputShapes,
                                      outputs.size(), device, outputShapes));
    outputs.assign(outputs.size(), nullptr);
    kiln_status_t status = nullptr;
    for (size_t i = 0; i < outputs.size() && !status; ++i) {
      outputs[i] = allocateBuffer(std::max<uint64_t>(device.outputBytes[i], 1));
      if (!outputs[i])
        status = makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED, "out of memory");
      else if (device.outputBytes[i])
        status = check(api->cuMemcpyDtoHAsync(outputs[i], device.outputs[i],
                                              device.outputBytes[i],
                                              session.stream),
                       "copying an output from the GPU");
    }
    if (!status)
      status = check(api->cuStreamSynchronize(session.stream),
                     "running the model");
    if (status)
      for (void *&output : outputs) {
        releaseBuffer(output);
        output = nullptr;
      }
    return status;
  }

  const DriverApi *api = nullptr;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUmodule module = nullptr;
  CUdeviceptr weights = 0;
  package::CudaSchedule schedule;
  std::vector<CUfunction> functions;
  uint64_t workspaceBytes = 0;
  std::vector<uint64_t> inputBytes, outputBytes;
  /// Bytes per element of each input, for inputs sized at run time.
  std::vector<uint64_t> inputElementBytes;
};

DriverSession::~DriverSession() {
  if (!api)
    return;
  api->cuCtxSetCurrent(context);
  if (stream)
    api->cuStreamDestroy(stream);
  for (CUdeviceptr pointer : inputs)
    api->cuMemFree(pointer);
  for (CUdeviceptr pointer : outputs)
    api->cuMemFree(pointer);
  if (cacheLength)
    api->cuMemFree(cacheLength);
  for (CUdeviceptr pointer : cacheStates)
    api->cuMemFree(pointer);
  if (workspace)
    api->cuMemFree(workspace);
}

} // namespace

kiln_status_t
kiln::runtime::loadDriverCudaModel(const package::MappedPackage &package,
                                   const std::string &path, int ordinal,
                                   std::unique_ptr<CudaModel> &out_model) {
  auto unavailable = [&](const std::string &why) {
    return makeStatus(KILN_STATUS_UNAVAILABLE,
                      path + ": cannot run a CUDA package here: " + why +
                          " (--device=cuda-emu runs it on the CPU through "
                          "Kiln's SIMT emulator)");
  };
  uint64_t size = 0;
  const uint8_t *fatbin = package.section(SectionKind::CudaFatbin, size);
  if (!fatbin)
    return unavailable("the package has no GPU code (it was compiled with "
                       "--cuda-arch=none)");
  std::string error;
  const DriverApi *api = driverApi(error);
  if (!api)
    return unavailable(error);
  CUresult initialized = api->cuInit(0);
  int count = 0;
  if (initialized == CUDA_ERROR_NO_DEVICE ||
      (initialized == CUDA_SUCCESS &&
       (api->cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0)))
    return unavailable("no CUDA GPU found");
  auto model = std::make_unique<DriverCudaModel>();
  model->api = api;
  KILN_RETURN_IF_ERROR(model->check(initialized, "cuInit"));
  if (ordinal < 0 || ordinal >= count)
    return unavailable("there is no GPU " + std::to_string(ordinal) +
                       " (this machine has " + std::to_string(count) + ")");

  const uint8_t *scheduleBytes = package.section(SectionKind::CudaSchedule, size);
  if (!scheduleBytes ||
      !package::parseCudaSchedule(scheduleBytes, size, model->schedule, error))
    return makeStatus(KILN_STATUS_DATA_LOSS,
                      path + ": " +
                          (scheduleBytes ? error
                                         : "the package has no CUDA schedule"));
  KILN_RETURN_IF_ERROR(
      model->check(api->cuDeviceGet(&model->device, ordinal), "cuDeviceGet"));
  KILN_RETURN_IF_ERROR(model->check(
      api->cuDevicePrimaryCtxRetain(&model->context, model->device),
      "creating a context"));
  KILN_RETURN_IF_ERROR(
      model->check(api->cuCtxSetCurrent(model->context), "cuCtxSetCurrent"));
  KILN_RETURN_IF_ERROR(model->check(
      api->cuModuleLoadData(&model->module, fatbin),
      "loading the kernels (is the GPU one of the package's architectures?)"));
  for (const package::CudaKernelInfo &kernel : model->schedule.kernels)
    KILN_RETURN_IF_ERROR(model->check(
        api->cuModuleGetFunction(&model->functions.emplace_back(),
                                 model->module, kernel.name.c_str()),
        "finding a kernel"));
  uint64_t weightsBytes = 0;
  const uint8_t *weights = package.section(SectionKind::Weights, weightsBytes);
  KILN_RETURN_IF_ERROR(model->check(
      api->cuMemAlloc(&model->weights, weightsBytes ? weightsBytes : 1),
      "allocating device memory for the weights"));
  if (weightsBytes)
    KILN_RETURN_IF_ERROR(model->check(
        api->cuMemcpyHtoD(model->weights, weights, weightsBytes),
        "uploading the weights"));
  model->workspaceBytes = package.manifest().workspaceBytes;
  model->inputBytes = tensorBytes(package.manifest().inputs);
  model->outputBytes = tensorBytes(package.manifest().outputs);
  for (const package::TensorSignature &input : package.manifest().inputs)
    model->inputElementBytes.push_back(
        kiln_dtype_size(static_cast<kiln_dtype_t>(input.dtype)));
  out_model = std::move(model);
  return nullptr;
}
