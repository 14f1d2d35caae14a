//===- kiln/runtime.hpp - a small C++ layer over the C API ------*- C++ -*-===//
//
// Header-only: owning wrappers for models and sessions; failures become
// kiln::Error exceptions on the C++ side of the ABI.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_HPP
#define KILN_RUNTIME_HPP

#include "kiln/runtime.h"

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

class Error : public std::runtime_error {
public:
  Error(kiln_status_code_t code, const std::string &message)
      : std::runtime_error(message), code_(code) {}
  kiln_status_code_t code() const { return code_; }

private:
  kiln_status_code_t code_;
};

/// Throws kiln::Error for a failed status, freeing it.
inline void check(kiln_status_t status) {
  if (!status)
    return;
  Error error(kiln_status_code(status), kiln_status_message(status));
  kiln_status_free(status);
  throw error;
}

class Model {
public:
  static Model load(const std::string &path,
                    kiln_device_t device = KILN_DEVICE_DEFAULT,
                    int32_t cudaDevice = 0) {
    kiln_model_t *model = nullptr;
    kiln_model_options_t options = {device, cudaDevice};
    check(kiln_model_load_file_with_options(path.c_str(), &options, &model));
    return Model(model);
  }
  Model(const Model &other) : model_(other.model_) { kiln_model_retain(model_); }
  Model(Model &&other) noexcept : model_(std::exchange(other.model_, nullptr)) {}
  Model &operator=(Model other) {
    std::swap(model_, other.model_);
    return *this;
  }
  ~Model() { kiln_model_release(model_); }

  size_t inputCount() const { return kiln_model_input_count(model_); }
  size_t outputCount() const { return kiln_model_output_count(model_); }
  kiln_tensor_info_t input(size_t index) const {
    kiln_tensor_info_t info;
    check(kiln_model_input_info(model_, index, &info));
    return info;
  }
  kiln_tensor_info_t output(size_t index) const {
    kiln_tensor_info_t info;
    check(kiln_model_output_info(model_, index, &info));
    return info;
  }
  /// The compiler's count of one run's floating-point operations.
  uint64_t flops() const { return kiln_model_flops(model_); }
  /// See kiln_model_cache_capacity: 0 without a session cache.
  int64_t cacheCapacity() const { return kiln_model_cache_capacity(model_); }
  kiln_model_t *get() const { return model_; }

private:
  explicit Model(kiln_model_t *model) : model_(model) {}
  kiln_model_t *model_;
};

class Session {
public:
  /// `threads` 0 uses every core.
  explicit Session(const Model &model, int threads = 0) {
    kiln_session_options_t options{threads};
    check(kiln_session_create(model.get(), &options, &session_));
  }
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;
  Session(Session &&other) noexcept
      : session_(std::exchange(other.session_, nullptr)) {}
  ~Session() { kiln_session_release(session_); }

  /// See kiln_session_run: outputs with null `data` are filled with memory
  /// the session owns until its next run.
  void run(const std::vector<kiln_tensor_t> &inputs,
           std::vector<kiln_tensor_t> &outputs) {
    check(kiln_session_run(session_, inputs.data(), inputs.size(),
                           outputs.data(), outputs.size()));
  }
  /// See kiln_session_release_outputs: frees the last run's runtime-owned
  /// outputs now.
  void releaseOutputs() { kiln_session_release_outputs(session_); }
  /// See kiln_session_cache_length, kiln_session_truncate_cache and
  /// kiln_session_reset.
  int64_t cacheLength() const {
    int64_t length = 0;
    check(kiln_session_cache_length(session_, &length));
    return length;
  }
  void truncateCache(int64_t length) {
    check(kiln_session_truncate_cache(session_, length));
  }
  void reset() { check(kiln_session_reset(session_)); }
  /// See kiln_session_set_profiling and kiln_session_profile.
  void setProfiling(bool enabled) {
    check(kiln_session_set_profiling(session_, enabled ? 1 : 0));
  }
  std::vector<kiln_profile_event_t> profile() {
    const kiln_profile_event_t *events = nullptr;
    size_t count = 0;
    check(kiln_session_profile(session_, &events, &count));
    return std::vector<kiln_profile_event_t>(events, events + count);
  }
  kiln_session_t *get() const { return session_; }

private:
  kiln_session_t *session_ = nullptr;
};

} // namespace kiln

#endif // KILN_RUNTIME_HPP
