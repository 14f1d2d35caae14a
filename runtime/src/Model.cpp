//===- Model.cpp - loading a package --------------------------------------===//

#include "runtime/src/Model.h"

#include "runtime/src/CpuFeatures.h"

#include <new>

using namespace kiln;
using namespace kiln::runtime;
using package::SectionKind;

namespace {

/// The status code of a package that cannot be opened.
kiln_status_code_t statusOf(package::OpenError::Kind kind) {
  switch (kind) {
  case package::OpenError::Kind::NotFound:
    return KILN_STATUS_NOT_FOUND;
  case package::OpenError::Kind::Unreadable:
    return KILN_STATUS_INVALID_ARGUMENT;
  case package::OpenError::Kind::OutOfMemory:
    return KILN_STATUS_RESOURCE_EXHAUSTED;
  case package::OpenError::Kind::Corrupt:
    return KILN_STATUS_DATA_LOSS;
  case package::OpenError::Kind::OtherVersion:
    return KILN_STATUS_UNIMPLEMENTED;
  }
  return KILN_STATUS_INTERNAL;
}

void buildSignature(const std::vector<package::TensorSignature> &tensors,
                    kiln_model_s::Signature &signature) {
  signature.infos.resize(tensors.size());
  signature.dimNames.resize(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const package::TensorSignature &tensor = tensors[i];
    for (const std::string &name : tensor.dimNames)
      signature.dimNames[i].push_back(name.empty() ? nullptr : name.c_str());
    signature.infos[i] = {tensor.name.c_str(),
                          static_cast<kiln_dtype_t>(tensor.dtype),
                          static_cast<int32_t>(tensor.shape.size()),
                          tensor.shape.data(), signature.dimNames[i].data()};
  }
}

const char *deviceName(kiln_device_t device) {
  switch (device) {
  case KILN_DEVICE_CPU:
    return "cpu";
  case KILN_DEVICE_CUDA:
    return "cuda";
  case KILN_DEVICE_CUDA_EMULATOR:
    return "cuda-emu";
  default:
    return "default";
  }
}

kiln_status_t checkTarget(const std::string &path,
                          const package::Manifest &manifest) {
  if (manifest.target != "cpu")
    return makeStatus(KILN_STATUS_UNIMPLEMENTED,
                      path + ": the package is for target '" +
                          manifest.target + "'; this runtime runs 'cpu' and "
                          "'cuda'");
  std::vector<std::string> missing = missingCpuFeatures(manifest.cpuFeatures);
  if (missing.empty())
    return nullptr;
  std::string list;
  for (const std::string &feature : missing)
    list += (list.empty() ? "" : ", ") + feature;
  return makeStatus(KILN_STATUS_UNAVAILABLE,
                    path + ": the package was compiled for CPU '" +
                        manifest.cpu + "' and needs " + list +
                        ", which this machine lacks (recompile with "
                        "--cpu=native on this machine)");
}

/// A CUDA package on a GPU or on the emulator.
kiln_status_t loadCudaModel(const char *path, kiln_device_t device,
                            int32_t ordinal, kiln_model_s &model) {
  if (device == KILN_DEVICE_CPU)
    return makeStatus(KILN_STATUS_UNIMPLEMENTED,
                      std::string(path) +
                          ": the package is for target 'cuda'; run it on "
                          "device 'cuda' or 'cuda-emu' (or compile the "
                          "model with --target=cpu)");
  model.weights =
      model.package->section(SectionKind::Weights, model.weightsBytes);
  if (model.weightsBytes != model.manifest().weightsBytes)
    return makeStatus(KILN_STATUS_DATA_LOSS,
                      std::string(path) +
                          ": the weights section does not have the size the "
                          "manifest gives");
  if (device == KILN_DEVICE_CUDA_EMULATOR)
    return loadEmulatedCudaModel(*model.package, path, model.cuda);
  return loadDriverCudaModel(*model.package, path, ordinal, model.cuda);
}

kiln_status_t loadModel(const char *path, const kiln_model_options_t *options,
                        kiln_model_t **out_model) {
  if (!path || !out_model)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      "kiln_model_load_file: path and out_model are required");
  kiln_device_t device = options ? options->device : KILN_DEVICE_DEFAULT;
  if (device < KILN_DEVICE_DEFAULT || device > KILN_DEVICE_CUDA_EMULATOR)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      "unknown device " + std::to_string(int(device)));
  auto model = std::make_unique<kiln_model_s>();
  package::OpenError openError;
  model->package = package::MappedPackage::open(path, openError);
  if (!model->package)
    return makeStatus(statusOf(openError.kind), openError.message);
  const package::Manifest &manifest = model->manifest();
  if (manifest.target == "cuda") {
    KILN_RETURN_IF_ERROR(loadCudaModel(
        path, device, options ? options->cuda_device : 0, *model));
    buildSignature(manifest.inputs, model->inputs);
    buildSignature(manifest.outputs, model->outputs);
    *out_model = model.release();
    return nullptr;
  }
  KILN_RETURN_IF_ERROR(checkTarget(path, manifest));
  if (device != KILN_DEVICE_DEFAULT && device != KILN_DEVICE_CPU)
    return makeStatus(KILN_STATUS_UNIMPLEMENTED,
                      std::string(path) + ": the package is for target 'cpu'; "
                                          "it cannot run on device '" +
                          deviceName(device) +
                          "' (compile the model with --target=cuda)");

  uint64_t codeSize = 0;
  const uint8_t *code = model->package->section(SectionKind::CpuCode, codeSize);
  if (!code)
    return makeStatus(KILN_STATUS_DATA_LOSS,
                      std::string(path) + ": the package has no CPU code");
  model->weights =
      model->package->section(SectionKind::Weights, model->weightsBytes);
  if (model->weightsBytes != manifest.weightsBytes)
    return makeStatus(KILN_STATUS_DATA_LOSS,
                      std::string(path) +
                          ": the weights section does not have the size the "
                          "manifest gives");
  kiln_status_t status = CpuExecutable::load(code, codeSize, model->executable);
  if (status) {
    status->message = std::string(path) + ": " + status->message;
    return status;
  }
  buildSignature(manifest.inputs, model->inputs);
  buildSignature(manifest.outputs, model->outputs);
  *out_model = model.release();
  return nullptr;
}

kiln_status_t tensorInfo(const kiln_model_s::Signature *signature,
                         size_t index, const char *what,
                         kiln_tensor_info_t *out_info) {
  if (!signature || !out_info)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("kiln_model_") + what +
                          "_info: model and out_info are required");
  if (index >= signature->infos.size())
    return makeStatus(KILN_STATUS_NOT_FOUND,
                      std::string("the model has no ") + what + " " +
                          std::to_string(index) + " (it has " +
                          std::to_string(signature->infos.size()) + ")");
  *out_info = signature->infos[index];
  return nullptr;
}

} // namespace

extern "C" kiln_status_t kiln_model_load_file(const char *path,
                                              kiln_model_t **out_model) {
  return kiln_model_load_file_with_options(path, nullptr, out_model);
}

extern "C" kiln_status_t
kiln_model_load_file_with_options(const char *path,
                                  const kiln_model_options_t *options,
                                  kiln_model_t **out_model) {
  try {
    return loadModel(path, options, out_model);
  } catch (const std::bad_alloc &) {
    return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  } catch (...) {
    return makeStatus(KILN_STATUS_INTERNAL, "unexpected error loading a model");
  }
}

extern "C" void kiln_model_retain(kiln_model_t *model) {
  if (model)
    model->references.fetch_add(1, std::memory_order_relaxed);
}

extern "C" void kiln_model_release(kiln_model_t *model) {
  if (model && model->references.fetch_sub(1, std::memory_order_acq_rel) == 1)
    delete model;
}

extern "C" size_t kiln_model_input_count(const kiln_model_t *model) {
  return model ? model->inputs.infos.size() : 0;
}

extern "C" size_t kiln_model_output_count(const kiln_model_t *model) {
  return model ? model->outputs.infos.size() : 0;
}

extern "C" kiln_status_t kiln_model_input_info(const kiln_model_t *model,
                                               size_t index,
                                               kiln_tensor_info_t *out_info) {
  return tensorInfo(model ? &model->inputs : nullptr, index, "input",
                    out_info);
}

extern "C" kiln_status_t kiln_model_output_info(const kiln_model_t *model,
                                                size_t index,
                                                kiln_tensor_info_t *out_info) {
  return tensorInfo(model ? &model->outputs : nullptr, index, "output",
                    out_info);
}

extern "C" uint64_t kiln_model_flops(const kiln_model_t *model) {
  return model ? model->manifest().totalFlops() : 0;
}
