//===- Session.cpp - running a model --------------------------------------===//

#include "runtime/src/BufferCache.h"
#include "runtime/src/Model.h"
#include "runtime/src/TeamPool.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <thread>

using namespace kiln;
using namespace kiln::runtime;

namespace {

/// The workspace holds buffers aligned for AVX-512 loads.
constexpr size_t kWorkspaceAlignment = 64;

/// "[2,3]"; a run-time dimension prints as its name, or "?".
std::string formatShape(const int64_t *shape, int64_t rank,
                        const char *const *dimNames = nullptr) {
  std::string text = "[";
  for (int64_t i = 0; i < rank; ++i) {
    text += i ? "," : "";
    if (shape[i] >= 0)
      text += std::to_string(shape[i]);
    else
      text += dimNames && dimNames[i] ? dimNames[i] : "?";
  }
  return text + "]";
}

std::string count(size_t n, const char *noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string listNames(const std::vector<kiln_tensor_info_t> &infos) {
  std::string list;
  for (const kiln_tensor_info_t &info : infos)
    list += (list.empty() ? "'" : ", '") + std::string(info.name) + "'";
  return list;
}

int64_t elementCount(const int64_t *shape, int32_t rank) {
  int64_t count = 1;
  for (int32_t i = 0; i < rank; ++i)
    count *= shape[i];
  return count;
}

/// MLIR's strided memref descriptor of a dense row-major buffer: allocated
/// pointer, aligned pointer, offset, sizes, strides, each 8 bytes.
void appendDescriptor(std::vector<int64_t> &words, const void *data,
                      const int64_t *shape, int32_t rank) {
  auto pointer = static_cast<int64_t>(reinterpret_cast<intptr_t>(data));
  words.push_back(pointer);
  words.push_back(pointer);
  words.push_back(0);
  words.insert(words.end(), shape, shape + rank);
  int64_t stride = 1;
  std::vector<int64_t> strides(rank);
  for (int32_t i = rank - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= shape[i];
  }
  words.insert(words.end(), strides.begin(), strides.end());
}

/// Named dimension -> (its value, the input or output that fixed it).
using DimensionValues = std::map<std::string, std::pair<int64_t, std::string>>;

/// Puts each given input in model order, checking names, element types,
/// shapes and that every named dimension has one value (into `dims`).
kiln_status_t bindInputs(const kiln_model_t *model,
                         const kiln_tensor_t *inputs, size_t given,
                         std::vector<const kiln_tensor_t *> &bound,
                         DimensionValues &dims) {
  const std::vector<kiln_tensor_info_t> &infos = model->inputs.infos;
  if (given != infos.size())
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      count(given, "input") + " given; the model takes " +
                          std::to_string(infos.size()) +
                          (infos.empty() ? "" : " (" + listNames(infos) + ")"));
  if (given && !inputs)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT, "inputs is NULL");
  bound.assign(infos.size(), nullptr);
  for (size_t i = 0; i < given; ++i) {
    size_t index = i;
    if (inputs[i].name) {
      index = infos.size();
      for (size_t j = 0; j < infos.size(); ++j)
        if (std::strcmp(infos[j].name, inputs[i].name) == 0)
          index = j;
      if (index == infos.size())
        return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                          std::string("the model has no input named '") +
                              inputs[i].name + "' (its inputs: " +
                              listNames(infos) + ")");
    }
    if (bound[index])
      return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                        std::string("input '") + infos[index].name +
                            "' is given twice");
    bound[index] = &inputs[i];
  }

  for (size_t index = 0; index < infos.size(); ++index) {
    const kiln_tensor_info_t &info = infos[index];
    const kiln_tensor_t &tensor = *bound[index];
    std::string name = std::string("input '") + info.name + "'";
    if (tensor.dtype != info.dtype)
      return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                        name + " has element type " +
                            kiln_dtype_name(tensor.dtype) +
                            "; the model expects " +
                            kiln_dtype_name(info.dtype));
    bool shapeOk = tensor.rank == info.rank && (tensor.shape || !tensor.rank);
    for (int32_t d = 0; shapeOk && d < info.rank; ++d)
      shapeOk = tensor.shape[d] >= 0 &&
                (info.shape[d] < 0 || tensor.shape[d] == info.shape[d]);
    if (!shapeOk)
      return makeStatus(
          KILN_STATUS_INVALID_ARGUMENT,
          name + " has shape " +
              (tensor.shape || !tensor.rank
                   ? formatShape(tensor.shape, tensor.rank)
                   : std::string("(null)")) +
              "; the model expects " +
              formatShape(info.shape, info.rank, info.dim_names));
    for (int32_t d = 0; d < info.rank; ++d) {
      if (!info.dim_names[d])
        continue;
      auto [it, inserted] = dims.try_emplace(info.dim_names[d],
                                             tensor.shape[d], name);
      if (!inserted && it->second.first != tensor.shape[d])
        return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                          name + " has dimension " + std::to_string(d) +
                              " ('" + info.dim_names[d] + "') of " +
                              std::to_string(tensor.shape[d]) + ", but " +
                              it->second.second + " set it to " +
                              std::to_string(it->second.first));
    }
    uint64_t bytes = uint64_t(elementCount(tensor.shape, tensor.rank)) *
                     kiln_dtype_size(info.dtype);
    if (tensor.byte_size < bytes || (bytes && !tensor.data))
      return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                        name + " has " + std::to_string(tensor.byte_size) +
                            " bytes of data; its shape needs " +
                            std::to_string(bytes));
  }
  return nullptr;
}

/// A result the code returned: a buffer it allocated, now the runtime's.
struct Result {
  /// The buffer to free, or null for results in the session's workspace.
  void *allocated;
  const uint8_t *data;
  std::vector<int64_t> shape;
};

/// Checks that a result has the shape its output declares: its static
/// sizes, and its named dimensions the values the inputs (or an earlier
/// output) gave them. A model whose declared shape its operators do not
/// produce is an error, never a truncated or padded result.
kiln_status_t checkDeclaredShape(const kiln_tensor_info_t &info,
                                 const Result &result, DimensionValues &dims) {
  std::string name = std::string("output '") + info.name + "'";
  for (int32_t d = 0; d < info.rank; ++d) {
    int64_t size = result.shape[d];
    if (info.shape[d] >= 0 && size != info.shape[d])
      return makeStatus(KILN_STATUS_INTERNAL,
                        name + " has dimension " + std::to_string(d) + " of " +
                            std::to_string(size) + ", but the model declares " +
                            std::to_string(info.shape[d]));
    if (info.shape[d] >= 0 || !info.dim_names[d])
      continue;
    auto [it, inserted] = dims.try_emplace(info.dim_names[d], size, name);
    if (!inserted && it->second.first != size)
      return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                        name + " has dimension " + std::to_string(d) + " ('" +
                            info.dim_names[d] + "') of " +
                            std::to_string(size) + ", but " +
                            it->second.second + " set it to " +
                            std::to_string(it->second.first) +
                            ": the model's declared shape is not what its "
                            "operators produce");
  }
  return nullptr;
}

/// Checks a caller-provided output against the result, before any copy.
kiln_status_t checkOutput(const kiln_tensor_info_t &info,
                          const kiln_tensor_t &output, const Result &result,
                          uint64_t bytes) {
  std::string name = std::string("output '") + info.name + "'";
  if (output.dtype != info.dtype)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      name + " is given as " + kiln_dtype_name(output.dtype) +
                          "; the model produces " +
                          kiln_dtype_name(info.dtype));
  bool shapeOk = output.rank == info.rank && (output.shape || !output.rank);
  for (int32_t d = 0; shapeOk && d < info.rank; ++d)
    shapeOk = output.shape[d] == result.shape[d];
  if (!shapeOk)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      name + " is given with shape " +
                          (output.shape || !output.rank
                               ? formatShape(output.shape, output.rank)
                               : std::string("(null)")) +
                          "; this run produces " +
                          formatShape(result.shape.data(), info.rank));
  if (output.byte_size < bytes)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      name + " has room for " +
                          std::to_string(output.byte_size) +
                          " bytes; this run produces " + std::to_string(bytes));
  return nullptr;
}

/// Frees the results' buffers except `kept`; the code may return one buffer
/// for two outputs, so each is freed once.
void freeUnkept(const std::vector<Result> &produced,
                const std::vector<void *> &kept) {
  std::vector<void *> freed(kept);
  for (const Result &result : produced)
    if (std::find(freed.begin(), freed.end(), result.allocated) ==
        freed.end()) {
      releaseBuffer(result.allocated);
      freed.push_back(result.allocated);
    }
}

void releaseOwnedOutputs(kiln_session_t *session) {
  for (void *buffer : session->ownedOutputs)
    releaseBuffer(buffer);
  session->ownedOutputs.clear();
  session->ownedShapes.clear();
}

/// A CUDA model whose sizes are known only at run time: the model
/// allocates the results, which are checked against the declared shapes and
/// then copied to the caller's buffers or handed out.
kiln_status_t
runCudaSizedAtRunTime(kiln_session_t *session,
                      const std::vector<const void *> &inputData,
                      const std::vector<std::vector<int64_t>> &inputShapes,
                      const CudaSessionCache *cache, DimensionValues &dims,
                      kiln_tensor_t *outputs, ThreadTeam *team) {
  const kiln_model_t *model = session->model;
  const std::vector<kiln_tensor_info_t> &outputInfos = model->outputs.infos;
  std::vector<void *> buffers(outputInfos.size(), nullptr);
  std::vector<std::vector<int64_t>> shapes;
  KILN_RETURN_IF_ERROR(model->cuda->run(*session->cuda, inputData, inputShapes,
                                        cache, buffers, shapes, team));
  std::vector<Result> produced(outputInfos.size());
  std::vector<uint64_t> bytes(outputInfos.size());
  kiln_status_t status = nullptr;
  for (size_t i = 0; i < outputInfos.size() && !status; ++i) {
    produced[i] = {buffers[i], static_cast<const uint8_t *>(buffers[i]),
                   shapes[i]};
    bytes[i] = kiln_dtype_size(outputInfos[i].dtype);
    for (int64_t size : shapes[i])
      bytes[i] *= uint64_t(size);
    if (shapes[i].size() != size_t(outputInfos[i].rank))
      status = makeStatus(KILN_STATUS_INTERNAL,
                          std::string("output '") + outputInfos[i].name +
                              "' has the wrong rank");
    if (!status)
      status = checkDeclaredShape(outputInfos[i], produced[i], dims);
    if (!status && outputs[i].data)
      status = checkOutput(outputInfos[i], outputs[i], produced[i], bytes[i]);
  }
  if (status) {
    freeUnkept(produced, {});
    return status;
  }
  std::vector<void *> kept;
  session->ownedShapes.resize(outputInfos.size());
  for (size_t i = 0; i < outputInfos.size(); ++i) {
    if (outputs[i].data) {
      std::memcpy(outputs[i].data, buffers[i], bytes[i]);
      continue;
    }
    kept.push_back(buffers[i]);
    session->ownedShapes[i] = shapes[i];
    outputs[i].dtype = outputInfos[i].dtype;
    outputs[i].rank = outputInfos[i].rank;
    outputs[i].shape = session->ownedShapes[i].data();
    outputs[i].data = buffers[i];
    outputs[i].byte_size = bytes[i];
  }
  freeUnkept(produced, kept);
  session->ownedOutputs = kept;
  return nullptr;
}

/// A CUDA model: with static shapes each output's size is known before the
/// run; results land in the caller's buffers or in ones the session owns.
kiln_status_t runCuda(kiln_session_t *session,
                      const std::vector<const kiln_tensor_t *> &bound,
                      DimensionValues &dims, kiln_tensor_t *outputs) {
  const kiln_model_t *model = session->model;
  const std::vector<kiln_tensor_info_t> &outputInfos = model->outputs.infos;
  if (!session->cuda)
    KILN_RETURN_IF_ERROR(model->cuda->createSession(session->cuda));
  TeamLease team = borrowTeam(session->threads);
  std::vector<const void *> inputData;
  std::vector<std::vector<int64_t>> inputShapes;
  for (const kiln_tensor_t *input : bound) {
    inputData.push_back(input->data);
    inputShapes.emplace_back(input->shape, input->shape + input->rank);
  }
  // The session's cache (prepareCache allocated its host buffers): the
  // length, then the caches, after the inputs.
  const package::SessionCache &sessionCache = model->manifest().cache;
  CudaSessionCache cacheArguments;
  cacheArguments.length = &session->cacheLength;
  if (sessionCache.capacity)
    inputShapes.emplace_back();
  for (size_t i = 0; i < sessionCache.states.size(); ++i) {
    const package::CacheState &state = sessionCache.states[i];
    cacheArguments.states.push_back(session->caches[i].get());
    inputShapes.push_back(state.shape);
    cacheArguments.stateBytes.push_back(
        uint64_t(
            elementCount(state.shape.data(), int32_t(state.shape.size()))) *
        kiln_dtype_size(kiln_dtype_t(state.dtype)));
  }
  const CudaSessionCache *cache =
      sessionCache.capacity ? &cacheArguments : nullptr;
  if (model->cuda->sizedAtRunTime())
    return runCudaSizedAtRunTime(session, inputData, inputShapes, cache, dims,
                                 outputs, team.get());

  std::vector<uint64_t> bytes = tensorBytes(model->manifest().outputs);
  std::vector<Result> expected(outputInfos.size());
  for (size_t i = 0; i < outputInfos.size(); ++i) {
    expected[i].shape.assign(outputInfos[i].shape,
                             outputInfos[i].shape + outputInfos[i].rank);
    if (outputs[i].data)
      KILN_RETURN_IF_ERROR(
          checkOutput(outputInfos[i], outputs[i], expected[i], bytes[i]));
  }
  std::vector<void *> destinations(outputInfos.size());
  std::vector<void *> owned;
  for (size_t i = 0; i < outputInfos.size(); ++i) {
    destinations[i] = outputs[i].data;
    if (destinations[i])
      continue;
    destinations[i] = allocateBuffer(bytes[i]);
    if (!destinations[i]) {
      for (void *buffer : owned)
        releaseBuffer(buffer);
      return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    owned.push_back(destinations[i]);
  }
  std::vector<std::vector<int64_t>> shapes;
  if (kiln_status_t status =
          model->cuda->run(*session->cuda, inputData, inputShapes, cache,
                           destinations, shapes, team.get())) {
    for (void *buffer : owned)
      releaseBuffer(buffer);
    return status;
  }
  session->ownedOutputs = owned;
  session->ownedShapes.resize(outputInfos.size());
  for (size_t i = 0; i < outputInfos.size(); ++i) {
    if (outputs[i].data)
      continue;
    session->ownedShapes[i] = expected[i].shape;
    outputs[i].dtype = outputInfos[i].dtype;
    outputs[i].rank = outputInfos[i].rank;
    outputs[i].shape = session->ownedShapes[i].data();
    outputs[i].data = destinations[i];
    outputs[i].byte_size = bytes[i];
  }
  return nullptr;
}

/// Binds the dimensions a session cache fixes before the inputs are
/// checked against them: the batch (1) and the cached length.
void bindCacheDimensions(const kiln_session_t *session, DimensionValues &dims) {
  const package::SessionCache &cache = session->model->manifest().cache;
  if (!cache.batchDim.empty())
    dims[cache.batchDim] = {1, "the session's key/value cache"};
  if (!cache.pastDim.empty())
    dims[cache.pastDim] = {session->cacheLength,
                           "the session's key/value cache"};
}

/// The cached plus new tokens of this run, checked against the cache's
/// length and room; allocates the caches at the first run.
kiln_status_t prepareCache(kiln_session_t *session, const DimensionValues &dims,
                           int64_t &total) {
  const package::SessionCache &cache = session->model->manifest().cache;
  auto found = dims.find(cache.totalDim);
  if (found == dims.end())
    return makeStatus(KILN_STATUS_INTERNAL,
                      "no input sets '" + cache.totalDim +
                          "', the cached plus new tokens");
  total = found->second.first;
  int64_t cached = session->cacheLength;
  if (total <= cached)
    return makeStatus(
        KILN_STATUS_INVALID_ARGUMENT,
        found->second.second + " sets '" + cache.totalDim + "' to " +
            std::to_string(total) + ", but the session's cache holds " +
            std::to_string(cached) +
            " tokens: it must be the cached plus the new tokens");
  // The graph appends as many tokens as the new ones; the session counts
  // total - cached: they must agree, or the cache and the mask would not.
  if (auto fresh = dims.find(cache.newDim);
      !cache.newDim.empty() && fresh != dims.end() &&
      total != cached + fresh->second.first)
    return makeStatus(
        KILN_STATUS_INVALID_ARGUMENT,
        found->second.second + " sets '" + cache.totalDim + "' to " +
            std::to_string(total) + ", but the session's cache holds " +
            std::to_string(cached) + " tokens and " + fresh->second.second +
            " brings " + std::to_string(fresh->second.first) + " new ('" +
            cache.newDim + "'): it must be the cached plus the new tokens");
  if (total > cache.capacity)
    return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                      "the key/value cache is full: " + std::to_string(cached) +
                          " cached + " + std::to_string(total - cached) +
                          " new tokens exceed its capacity of " +
                          std::to_string(cache.capacity) +
                          " (compile with a larger --max-context)");
  if (!session->caches.empty())
    return nullptr;
  for (const package::CacheState &state : cache.states) {
    size_t bytes = kiln_dtype_size(kiln_dtype_t(state.dtype));
    for (int64_t dim : state.shape)
      bytes *= size_t(dim);
    bytes = (bytes + kWorkspaceAlignment - 1) / kWorkspaceAlignment *
            kWorkspaceAlignment;
    session->caches.emplace_back(
        static_cast<uint8_t *>(std::aligned_alloc(kWorkspaceAlignment, bytes)));
    if (!session->caches.back()) {
      session->caches.clear();
      return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                        "cannot allocate the " + std::to_string(bytes) +
                            "-byte key/value cache '" + state.past + "'");
    }
  }
  return nullptr;
}

kiln_status_t run(kiln_session_t *session, const kiln_tensor_t *inputs,
                  size_t inputCount, kiln_tensor_t *outputs,
                  size_t outputCount) {
  if (!session)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT, "session is NULL");
  const kiln_model_t *model = session->model;
  const std::vector<kiln_tensor_info_t> &outputInfos = model->outputs.infos;
  if (outputCount != outputInfos.size() || (outputCount && !outputs))
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      count(outputCount, "output") +
                          " given; the model has " +
                          std::to_string(outputInfos.size()) + " (" +
                          listNames(outputInfos) + ")");
  std::vector<const kiln_tensor_t *> bound;
  DimensionValues dims;
  const package::SessionCache &cache = model->manifest().cache;
  if (cache.capacity)
    bindCacheDimensions(session, dims);
  KILN_RETURN_IF_ERROR(bindInputs(model, inputs, inputCount, bound, dims));
  int64_t cacheTotal = 0;
  if (cache.capacity)
    KILN_RETURN_IF_ERROR(prepareCache(session, dims, cacheTotal));
  releaseOwnedOutputs(session);
  if (model->cuda) {
    KILN_RETURN_IF_ERROR(runCuda(session, bound, dims, outputs));
    if (cache.capacity)
      session->cacheLength = cacheTotal;
    return nullptr;
  }

  // args: the results' descriptors, the weights, the workspace, then the
  // inputs.
  size_t resultWords = 0;
  for (const kiln_tensor_info_t &info : outputInfos)
    resultWords += 3 + 2 * size_t(info.rank);
  std::vector<int64_t> results(resultWords, 0);
  int64_t weightsShape = static_cast<int64_t>(model->weightsBytes);
  int64_t workspaceShape =
      static_cast<int64_t>(model->manifest().workspaceBytes);
  if (workspaceShape && !session->workspace) {
    session->workspace.reset(static_cast<uint8_t *>(std::aligned_alloc(
        kWorkspaceAlignment,
        (size_t(workspaceShape) + kWorkspaceAlignment - 1) /
            kWorkspaceAlignment * kWorkspaceAlignment)));
    if (!session->workspace)
      return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                        "cannot allocate the " +
                            std::to_string(workspaceShape) +
                            "-byte workspace");
  }
  std::vector<std::vector<int64_t>> descriptors(2 + bound.size());
  appendDescriptor(descriptors[0], model->weights, &weightsShape, 1);
  appendDescriptor(descriptors[1], session->workspace.get(), &workspaceShape,
                   1);
  for (size_t i = 0; i < bound.size(); ++i)
    appendDescriptor(descriptors[2 + i], bound[i]->data, bound[i]->shape,
                     bound[i]->rank);
  // A session cache's arguments follow the inputs: its length, then the
  // caches.
  int64_t cachedTokens = session->cacheLength;
  if (cache.capacity) {
    descriptors.emplace_back();
    appendDescriptor(descriptors.back(), &cachedTokens, nullptr, 0);
    for (size_t i = 0; i < cache.states.size(); ++i) {
      descriptors.emplace_back();
      appendDescriptor(descriptors.back(), session->caches[i].get(),
                       cache.states[i].shape.data(),
                       int32_t(cache.states[i].shape.size()));
    }
  }
  std::vector<void *> args{results.data()};
  for (std::vector<int64_t> &descriptor : descriptors)
    args.push_back(descriptor.data());
  {
    TeamLease team = borrowTeam(session->threads);
    ScopedTeam scope(team.get());
    ScopedProfile profile(session->profiling ? &session->events : nullptr);
    model->executable->entryPoint()(args.data());
  }

  std::vector<Result> produced;
  const int64_t *word = results.data();
  for (const kiln_tensor_info_t &info : outputInfos) {
    Result result;
    result.allocated = reinterpret_cast<void *>(word[0]);
    // Results the memory plan placed in the workspace are the session's.
    if (result.allocated == session->workspace.get())
      result.allocated = nullptr;
    result.data = reinterpret_cast<const uint8_t *>(word[1]) +
                  word[2] * int64_t(kiln_dtype_size(info.dtype));
    result.shape.assign(word + 3, word + 3 + info.rank);
    word += 3 + 2 * info.rank;
    produced.push_back(std::move(result));
  }
  kiln_status_t status = nullptr;
  for (size_t i = 0; i < produced.size() && !status; ++i)
    status = checkDeclaredShape(outputInfos[i], produced[i], dims);
  for (size_t i = 0; i < produced.size() && !status; ++i)
    if (outputs[i].data)
      status = checkOutput(outputInfos[i], outputs[i], produced[i],
                           uint64_t(elementCount(produced[i].shape.data(),
                                                 outputInfos[i].rank)) *
                               kiln_dtype_size(outputInfos[i].dtype));
  if (status) {
    freeUnkept(produced, {});
    return status;
  }
  if (cache.capacity)
    session->cacheLength = cacheTotal;

  session->ownedShapes.resize(produced.size());
  for (size_t i = 0; i < produced.size(); ++i) {
    const kiln_tensor_info_t &info = outputInfos[i];
    uint64_t bytes =
        uint64_t(elementCount(produced[i].shape.data(), info.rank)) *
        kiln_dtype_size(info.dtype);
    if (outputs[i].data) {
      std::memcpy(outputs[i].data, produced[i].data, bytes);
      continue;
    }
    session->ownedShapes[i] = produced[i].shape;
    outputs[i].dtype = info.dtype;
    outputs[i].rank = info.rank;
    outputs[i].shape = session->ownedShapes[i].data();
    outputs[i].data = const_cast<uint8_t *>(produced[i].data);
    outputs[i].byte_size = bytes;
  }
  std::vector<void *> kept;
  for (size_t i = 0; i < produced.size(); ++i)
    if (outputs[i].data == produced[i].data && produced[i].allocated &&
        std::find(kept.begin(), kept.end(), produced[i].allocated) ==
            kept.end())
      kept.push_back(produced[i].allocated);
  session->ownedOutputs = kept;
  freeUnkept(produced, kept);
  return nullptr;
}

} // namespace

extern "C" kiln_status_t kiln_session_create(kiln_model_t *model,
                                             const kiln_session_options_t *options,
                                             kiln_session_t **out_session) {
  if (!model || !out_session)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      "kiln_session_create: model and out_session are "
                      "required");
  int32_t threads = options ? options->threads : 0;
  if (threads < 0)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      "threads must be 0 (all cores) or positive, not " +
                          std::to_string(threads));
  auto *session = new (std::nothrow) kiln_session_s();
  if (!session)
    return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  session->threads =
      threads ? threads
              : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  kiln_model_retain(model);
  session->model = model;
  *out_session = session;
  return nullptr;
}

extern "C" void kiln_session_retain(kiln_session_t *session) {
  if (session)
    session->references.fetch_add(1, std::memory_order_relaxed);
}

extern "C" void kiln_session_release(kiln_session_t *session) {
  if (!session ||
      session->references.fetch_sub(1, std::memory_order_acq_rel) != 1)
    return;
  releaseOwnedOutputs(session);
  // The device state before the model that made it.
  session->cuda.reset();
  kiln_model_release(session->model);
  delete session;
}

extern "C" kiln_status_t kiln_session_run(kiln_session_t *session,
                                          const kiln_tensor_t *inputs,
                                          size_t input_count,
                                          kiln_tensor_t *outputs,
                                          size_t output_count) {
  try {
    return run(session, inputs, input_count, outputs, output_count);
  } catch (const std::bad_alloc &) {
    return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  } catch (...) {
    return makeStatus(KILN_STATUS_INTERNAL, "unexpected error in a run");
  }
}

extern "C" void kiln_session_release_outputs(kiln_session_t *session) {
  if (session)
    releaseOwnedOutputs(session);
}

extern "C" int64_t kiln_model_cache_capacity(const kiln_model_t *model) {
  return model ? model->manifest().cache.capacity : 0;
}

extern "C" kiln_status_t kiln_session_cache_length(const kiln_session_t *session,
                                                   int64_t *out_length) {
  if (!session || !out_length)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      "the session and out_length must be non-NULL");
  *out_length = session->cacheLength;
  return nullptr;
}

extern "C" kiln_status_t kiln_session_truncate_cache(kiln_session_t *session,
                                                     int64_t length) {
  if (!session)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT, "the session is NULL");
  if (!session->model->manifest().cache.capacity)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      "the package has no session cache (compile it with "
                      "--kv-cache=session)");
  if (length < 0 || length > session->cacheLength)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      "cannot keep " + std::to_string(length) +
                          " tokens of a cache that holds " +
                          std::to_string(session->cacheLength));
  session->cacheLength = length;
  return nullptr;
}

extern "C" kiln_status_t kiln_session_reset(kiln_session_t *session) {
  // A session without a cache has no state to forget.
  if (session && !session->model->manifest().cache.capacity)
    return nullptr;
  return kiln_session_truncate_cache(session, 0);
}

extern "C" kiln_status_t kiln_session_set_profiling(kiln_session_t *session,
                                                   int enabled) {
  if (!session)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT, "the session is NULL");
  session->profiling = enabled != 0;
  session->events.clear();
  return nullptr;
}

extern "C" kiln_status_t
kiln_session_profile(kiln_session_t *session,
                     const kiln_profile_event_t **out_events,
                     size_t *out_count) {
  if (!session || !out_events || !out_count)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      "the session and both out parameters must be non-NULL");
  const std::vector<package::KernelInfo> &kernels =
      session->model->manifest().kernels;
  session->publicEvents.clear();
  for (const KernelEvent &event : session->events) {
    if (event.kernel < 0 || size_t(event.kernel) >= kernels.size())
      return makeStatus(KILN_STATUS_DATA_LOSS,
                        "the code reported kernel " +
                            std::to_string(event.kernel) +
                            ", which the manifest does not list");
    const package::KernelInfo &kernel = kernels[event.kernel];
    session->publicEvents.push_back({kernel.name.c_str(), kernel.flops,
                                     event.startNs, event.durationNs});
  }
  *out_events = session->publicEvents.data();
  *out_count = session->publicEvents.size();
  return nullptr;
}
