/*===- kiln/runtime.h - the Kiln runtime C API ------------------------------===
 *
 * Loads a `.kiln` package and runs it.
 *
 * Conventions
 *  - Every function that can fail returns a kiln_status_t; NULL means OK.
 *    A non-NULL status owns a code and a one-line message and must be freed
 *    with kiln_status_free().
 *  - Results are returned through `out_` parameters, which are written only
 *    on success.
 *  - Objects are reference counted: *_retain adds a reference, *_release
 *    drops one and frees the object with the last.
 *  - No C++ exception crosses this API.
 *
 * Thread safety
 *  - A kiln_model_t is immutable once loaded: any number of threads may
 *    query it and create sessions from it concurrently.
 *  - A kiln_session_t holds the scratch memory and thread pool of one run
 *    at a time: use each session from one thread at a time. For concurrent
 *    runs of one model, create one session per thread.
 *
 *===------------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===-- Status ------------------------------------------------------------===*/

typedef enum kiln_status_code_e {
  KILN_STATUS_OK = 0,
  KILN_STATUS_INVALID_ARGUMENT = 1, /* a wrong input name, type or shape */
  KILN_STATUS_NOT_FOUND = 2,        /* a file or a name that does not exist */
  KILN_STATUS_DATA_LOSS = 3,        /* a truncated or corrupt package */
  KILN_STATUS_UNIMPLEMENTED = 4,    /* another format version or target */
  KILN_STATUS_UNAVAILABLE = 5,      /* this machine lacks a CPU feature */
  KILN_STATUS_RESOURCE_EXHAUSTED = 6,
  KILN_STATUS_INTERNAL = 7,
} kiln_status_code_t;

typedef struct kiln_status_s *kiln_status_t;

kiln_status_code_t kiln_status_code(kiln_status_t status);
/* The message, valid until the status is freed; "" for OK. */
const char *kiln_status_message(kiln_status_t status);
void kiln_status_free(kiln_status_t status);

/*===-- Element types (numbered as ONNX's TensorProto.DataType) -----------===*/

typedef enum kiln_dtype_e {
  KILN_DTYPE_FLOAT32 = 1,
  KILN_DTYPE_UINT8 = 2,
  KILN_DTYPE_INT8 = 3,
  KILN_DTYPE_UINT16 = 4,
  KILN_DTYPE_INT16 = 5,
  KILN_DTYPE_INT32 = 6,
  KILN_DTYPE_INT64 = 7,
  KILN_DTYPE_BOOL = 9, /* one byte per element, 0 or 1 */
  KILN_DTYPE_FLOAT16 = 10,
  KILN_DTYPE_FLOAT64 = 11,
  KILN_DTYPE_UINT32 = 12,
  KILN_DTYPE_UINT64 = 13,
  KILN_DTYPE_BFLOAT16 = 16,
} kiln_dtype_t;

/* Bytes per element, or 0 for a value that is not a kiln_dtype_t. */
size_t kiln_dtype_size(kiln_dtype_t dtype);
/* "float32", "int64", ...; "unknown" for other values. */
const char *kiln_dtype_name(kiln_dtype_t dtype);

/*===-- Models ------------------------------------------------------------===*/

typedef struct kiln_model_s kiln_model_t;

/* Maps a package file and checks it: format version, checksums of every
 * section, and the CPU features its code needs. The weights stay in the
 * mapped file and are used in place. */
kiln_status_t kiln_model_load_file(const char *path, kiln_model_t **out_model);

/* Where a model runs. */
typedef enum kiln_device_e {
  /* What the package was compiled for: the CPU, or the first CUDA GPU. */
  KILN_DEVICE_DEFAULT = 0,
  KILN_DEVICE_CPU = 1,
  /* A GPU, through the CUDA driver (libcuda.so.1, loaded at run time). */
  KILN_DEVICE_CUDA = 2,
  /* A CUDA package's kernels on the CPU, through Kiln's SIMT emulator:
   * slow, for testing without a GPU. */
  KILN_DEVICE_CUDA_EMULATOR = 3,
} kiln_device_t;

typedef struct kiln_model_options_s {
  kiln_device_t device;
  /* With KILN_DEVICE_CUDA: which GPU (0 is the first). */
  int32_t cuda_device;
} kiln_model_options_t;

/* As kiln_model_load_file, on the device `options` names (NULL for the
 * defaults). A CUDA model uploads its weights to the GPU once, here; on a
 * machine without a driver or GPU it fails with KILN_STATUS_UNAVAILABLE
 * and says why. */
kiln_status_t kiln_model_load_file_with_options(
    const char *path, const kiln_model_options_t *options,
    kiln_model_t **out_model);
void kiln_model_retain(kiln_model_t *model);
void kiln_model_release(kiln_model_t *model);

/* The signature of one input or output. `shape` has `rank` entries, -1 for
 * a dimension fixed only at run time; `dim_names[i]` names such a
 * dimension (NULL when it has no name). Inputs sharing a name must agree.
 * The pointers stay valid while the model lives. */
typedef struct kiln_tensor_info_s {
  const char *name;
  kiln_dtype_t dtype;
  int32_t rank;
  const int64_t *shape;
  const char *const *dim_names;
} kiln_tensor_info_t;

size_t kiln_model_input_count(const kiln_model_t *model);
size_t kiln_model_output_count(const kiln_model_t *model);
kiln_status_t kiln_model_input_info(const kiln_model_t *model, size_t index,
                                    kiln_tensor_info_t *out_info);
kiln_status_t kiln_model_output_info(const kiln_model_t *model, size_t index,
                                     kiln_tensor_info_t *out_info);

/*===-- Sessions ----------------------------------------------------------===*/

typedef struct kiln_session_s kiln_session_t;

typedef struct kiln_session_options_s {
  /* Threads a run may use; 0 means one per core of the machine. */
  int32_t threads;
} kiln_session_options_t;

/* `options` may be NULL for the defaults. The session keeps the model. */
kiln_status_t kiln_session_create(kiln_model_t *model,
                                  const kiln_session_options_t *options,
                                  kiln_session_t **out_session);
void kiln_session_retain(kiln_session_t *session);
void kiln_session_release(kiln_session_t *session);

/* A dense, row-major tensor in memory owned by the caller. */
typedef struct kiln_tensor_s {
  /* The input's or output's name, or NULL to go by position. */
  const char *name;
  kiln_dtype_t dtype;
  int32_t rank;
  const int64_t *shape;
  void *data;
  /* Bytes available at `data`. */
  size_t byte_size;
} kiln_tensor_t;

/* Runs the model once. `inputs` gives every model input exactly once, by
 * name or, where `name` is NULL, by position; dtypes and shapes must match
 * the signature, and a named dimension must have one value throughout.
 *
 * `outputs` has kiln_model_output_count() entries, in the model's order.
 * Where an entry's `data` is non-NULL the result is written there and its
 * dtype, rank, shape and byte_size are checked first. Where `data` is NULL
 * the runtime fills in dtype, rank, shape, data and byte_size with memory
 * the session owns, valid until the session's next run or release.
 *
 * On failure no output is written (except runtime-owned ones, which are
 * then unspecified). */
kiln_status_t kiln_session_run(kiln_session_t *session,
                               const kiln_tensor_t *inputs, size_t input_count,
                               kiln_tensor_t *outputs, size_t output_count);

/* Frees the outputs the runtime allocated in the session's last run now,
 * rather than at its next run; their data pointers become invalid. For a
 * caller done with them early: a decoder that has read the last row of a
 * long prefill's logits (800 MB for 4,096 tokens of a 49,152-token
 * vocabulary) frees them as part of the prefill, not of the first decode
 * step. NULL does nothing. */
void kiln_session_release_outputs(kiln_session_t *session);

/*===-- The session's key/value cache --------------------------------------===*/

/* A decoder compiled with `kiln compile --kv-cache=session` keeps its
 * past keys and values in the session instead of taking them as inputs
 * and returning them as outputs: its past_key_values.* inputs and present.*
 * outputs are gone from its signature, and each run appends its tokens'
 * keys and values to the session's cache, in place. A run gives the new
 * tokens (input_ids, position_ids) and the attention mask over the cached
 * and new tokens together; the mask's length (the present outputs'
 * sequence dimension, e.g. total_sequence_length) must be the cache's
 * length plus the new tokens (input_ids' sequence dimension, when the
 * inputs name one: otherwise the run fails with
 * KILN_STATUS_INVALID_ARGUMENT and changes nothing). The batch is 1. Prefill
 * and decode are the same call with more or fewer tokens. A run that would
 * overflow the cache fails with KILN_STATUS_RESOURCE_EXHAUSTED and changes
 * nothing. */

/* The tokens a session's cache holds at most; 0 for a package whose cache,
 * if any, is ordinary inputs and outputs. */
int64_t kiln_model_cache_capacity(const kiln_model_t *model);

/* The tokens the session's cache holds now. */
kiln_status_t kiln_session_cache_length(const kiln_session_t *session,
                                        int64_t *out_length);

/* Keeps the first `length` cached tokens and forgets the rest, so that the
 * next run continues at that position (0 starts a new sequence). `length`
 * may not exceed the current length. */
kiln_status_t kiln_session_truncate_cache(kiln_session_t *session,
                                          int64_t length);

/* Empties the session's cache: kiln_session_truncate_cache(session, 0); for
 * a package without a session cache it does nothing. */
kiln_status_t kiln_session_reset(kiln_session_t *session);

/*===-- Profiling ---------------------------------------------------------===*/

/* One kernel of a run: a loop nest of the CPU code, named after the ONNX
 * nodes it computes (joined with ", "). `flops` is the compiler's count of
 * its floating-point operations (a multiply-add is two). */
typedef struct kiln_profile_event_s {
  const char *name;
  uint64_t flops;
  /* Nanoseconds since the run began, and the kernel's duration. */
  uint64_t start_ns;
  uint64_t duration_ns;
} kiln_profile_event_t;

/* With `enabled` nonzero, each later run of the session records one event
 * per kernel it runs, in order (CPU packages; CUDA runs record none). The
 * cost is two clock reads per kernel. */
kiln_status_t kiln_session_set_profiling(kiln_session_t *session,
                                         int enabled);

/* The events of the session's last profiled run. They stay valid until the
 * session's next run or release. */
kiln_status_t kiln_session_profile(kiln_session_t *session,
                                   const kiln_profile_event_t **out_events,
                                   size_t *out_count);

/* The FLOPs of one run as the compiler counts them (0 when it did not). */
uint64_t kiln_model_flops(const kiln_model_t *model);

/*===-- Version -----------------------------------------------------------===*/

/* The runtime's version, "major.minor.patch". */
const char *kiln_runtime_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_RUNTIME_H */
