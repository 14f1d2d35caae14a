//===- OnnxSchema.cpp - the generated operator table ----------------------===//

#include "compiler/import/OnnxSchema.h"

#include "llvm/ADT/StringMap.h"

using namespace mlir::kiln::onnx;

namespace {
const std::vector<OpSchemaInfo> &allSchemas() {
  static const std::vector<OpSchemaInfo> schemas = {
#include "dialects/onnx/OnnxSchemas.inc"
  };
  return schemas;
}
} // namespace

int OpSchemaInfo::versionAt(int64_t opset) const {
  int found = 0;
  for (int version : versions)
    if (version <= opset)
      found = version;
  return found;
}

const AttrInfo *OpSchemaInfo::findAttribute(llvm::StringRef attrName) const {
  for (const AttrInfo &attr : attributes)
    if (attrName == attr.name)
      return &attr;
  return nullptr;
}

int64_t mlir::kiln::onnx::newestOpset() { return KILN_ONNX_NEWEST_OPSET; }

const OpSchemaInfo *mlir::kiln::onnx::lookupOpSchema(llvm::StringRef opType) {
  static const llvm::StringMap<const OpSchemaInfo *> byName = [] {
    llvm::StringMap<const OpSchemaInfo *> map;
    for (const OpSchemaInfo &schema : allSchemas())
      map[schema.name] = &schema;
    return map;
  }();
  return byName.lookup(opType);
}

llvm::StringRef mlir::kiln::onnx::describeAttrKind(AttrKind kind) {
  switch (kind) {
  case AttrKind::Float: return "a float";
  case AttrKind::Int: return "an int";
  case AttrKind::String: return "a string";
  case AttrKind::Tensor: return "a tensor";
  case AttrKind::SparseTensor: return "a sparse tensor";
  case AttrKind::TypeProto: return "a type";
  case AttrKind::Floats: return "a list of floats";
  case AttrKind::Ints: return "a list of ints";
  case AttrKind::Strings: return "a list of strings";
  case AttrKind::Tensors: return "a list of tensors";
  case AttrKind::Graph: return "a graph";
  case AttrKind::Graphs: return "a list of graphs";
  }
  return "an attribute";
}
