//===- IsolatedInference.h - ONNX shape inference that cannot crash us -*- C++ -*-===//

#ifndef KILN_COMPILER_IMPORT_ISOLATEDINFERENCE_H
#define KILN_COMPILER_IMPORT_ISOLATEDINFERENCE_H

#include "onnx/onnx_pb.h"

namespace mlir::kiln::onnx {

/// Runs ONNX shape inference (with data propagation) on `model`. libonnx's
/// inference functions can crash on malformed attributes (an axis of 2^31,
/// say), so it runs in a child process; if that fails in any way, `model`
/// is left as it was and false is returned. Best effort by design: a model
/// ONNX cannot infer is still imported with the types it declares.
bool inferShapesIsolated(::onnx::ModelProto &model);

} // namespace mlir::kiln::onnx

#endif // KILN_COMPILER_IMPORT_ISOLATEDINFERENCE_H
