//===- IsolatedInference.cpp - ONNX shape inference that cannot crash us --===//
//
// The child infers, strips the initializers' payloads (the parent has
// them), and sends the model back through a pipe; the parent puts its own
// initializers back. Only type information crosses, plus small tensors.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/IsolatedInference.h"

#include "onnx/shape_inference/implementation.h"

#include <string>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mlir::kiln::onnx;

namespace {

[[noreturn]] void runChild(::onnx::ModelProto &model, int output) {
  // A crash here is expected now and then; it must not print a stack dump.
  int null = open("/dev/null", O_WRONLY);
  if (null >= 0)
    dup2(null, STDERR_FILENO);
  std::string bytes;
  try {
    ::onnx::ShapeInferenceOptions options(/*check_type=*/false,
                                          /*error_mode=*/0,
                                          /*data_prop=*/true);
    ::onnx::shape_inference::InferShapes(
        model, ::onnx::OpSchemaRegistry::Instance(), options);
    for (auto &initializer : *model.mutable_graph()->mutable_initializer()) {
      initializer.clear_raw_data();
      initializer.clear_float_data();
      initializer.clear_int32_data();
      initializer.clear_int64_data();
      initializer.clear_double_data();
      initializer.clear_uint64_data();
      initializer.clear_string_data();
    }
    if (!model.SerializeToString(&bytes))
      _exit(2);
  } catch (...) {
    _exit(2);
  }
  for (size_t written = 0; written < bytes.size();) {
    ssize_t n = write(output, bytes.data() + written, bytes.size() - written);
    if (n <= 0)
      _exit(3);
    written += n;
  }
  _exit(0);
}

} // namespace

bool mlir::kiln::onnx::inferShapesIsolated(::onnx::ModelProto &model) {
  int channel[2];
  if (pipe(channel) != 0)
    return false;
  pid_t child = fork();
  if (child < 0) {
    close(channel[0]);
    close(channel[1]);
    return false;
  }
  if (child == 0) {
    close(channel[0]);
    runChild(model, channel[1]);
  }
  close(channel[1]);
  std::string bytes;
  char buffer[1 << 16];
  for (ssize_t n; (n = read(channel[0], buffer, sizeof(buffer))) != 0;) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    bytes.append(buffer, n);
  }
  close(channel[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return false;

  ::onnx::ModelProto inferred;
  if (!inferred.ParseFromString(bytes) ||
      inferred.graph().initializer_size() != model.graph().initializer_size())
    return false;
  // Inference does not reorder initializers: give back the payloads.
  for (int i = 0; i < model.graph().initializer_size(); ++i)
    inferred.mutable_graph()->mutable_initializer(i)->Swap(
        model.mutable_graph()->mutable_initializer(i));
  model.Swap(&inferred);
  return true;
}
