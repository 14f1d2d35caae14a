//===- OnnxSchema.h - what the importer knows of each ONNX operator -*- C++ -*-===//
//
// The table is generated with the dialect (dialects/onnx/OnnxSchemas.inc) so
// that the importer and the ops agree on inputs, outputs and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_IMPORT_ONNXSCHEMA_H
#define KILN_COMPILER_IMPORT_ONNXSCHEMA_H

#include "llvm/ADT/StringRef.h"

#include <vector>

namespace mlir::kiln::onnx {

enum class Param { Single, Optional, Variadic };

enum class AttrKind {
  Float, Int, String, Tensor, SparseTensor, TypeProto, Floats, Ints, Strings,
  Tensors, Graph, Graphs
};

struct ParamInfo {
  const char *name;
  Param kind;
  /// The input whose element type this one shares, or -1.
  int sameElementTypeAs;
  /// The ONNX element type name when only one is allowed, else "".
  const char *onlyElementType;
};

struct AttrInfo {
  const char *name;
  AttrKind kind;
};

struct OpSchemaInfo {
  const char *name;
  /// Every opset in which the operator changed, ascending.
  std::vector<int> versions;
  std::vector<ParamInfo> inputs;
  std::vector<ParamInfo> outputs;
  /// Sorted by name, the order of the op's regions among graph attributes.
  std::vector<AttrInfo> attributes;

  /// The version of the operator in force at `opset`, or 0 if the operator
  /// did not exist yet.
  int versionAt(int64_t opset) const;
  const AttrInfo *findAttribute(llvm::StringRef attrName) const;
};

/// The newest default-domain opset the dialect was generated from.
int64_t newestOpset();

/// The schema of a default-domain operator, or null when the dialect has no
/// such op.
const OpSchemaInfo *lookupOpSchema(llvm::StringRef opType);

/// A human-readable name of an attribute kind ("an int", "a list of floats").
llvm::StringRef describeAttrKind(AttrKind kind);

} // namespace mlir::kiln::onnx

#endif // KILN_COMPILER_IMPORT_ONNXSCHEMA_H
