//===- OnnxImporter.cpp - ONNX ModelProto to the onnx dialect -------------===//
//
// One func.func @main per model. Graph inputs become arguments, initializers
// onnx.Constant ops with dense_resource payloads, each node one onnx op
// located at NameLoc(node name), graph attributes single-block regions ended
// by onnx.Yield. Subgraphs see outer values directly (regions are not
// isolated), as ONNX scoping says.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/OnnxImporter.h"

#include "compiler/import/IsolatedInference.h"
#include "compiler/import/OnnxSchema.h"
#include "compiler/import/OnnxTensors.h"
#include "compiler/import/OpsetNormalizer.h"
#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/checker.h"
#include "onnx/version_converter/convert.h"

#include <exception>

using namespace mlir;
using namespace mlir::kiln::onnx;

namespace {

/// The oldest default-domain opset the importer accepts.
constexpr int64_t kOldestOpset = 1;
/// Models older than this are first upgraded by ONNX's version converter,
/// whose adapters handle the pre-7 broadcasting and legacy attributes.
constexpr int64_t kNormalizedFromOpset = 7;

/// One graph's names in scope: values made so far and initializers not yet
/// materialized.
struct Scope {
  llvm::StringMap<Value> values;
  llvm::StringMap<const ::onnx::TensorProto *> initializers;
  /// Where this graph's constants go: the top of its block.
  Block *block = nullptr;
  Block::iterator constantsEnd;
};

class Importer {
public:
  Importer(MLIRContext &context, std::string modelPath)
      : context(context), builder(&context), modelPath(std::move(modelPath)) {
    tensors.modelDirectory =
        llvm::sys::path::parent_path(this->modelPath).str();
    if (tensors.modelDirectory.empty())
      tensors.modelDirectory = ".";
  }

  OwningOpRef<ModuleOp> importModel(::onnx::ModelProto &model,
                                    const ImportOptions &options);

private:
  InFlightDiagnostic error(Location loc) { return emitError(loc); }
  InFlightDiagnostic error() { return emitError(fileLoc()); }
  Location fileLoc() {
    return FileLineColLoc::get(&context, modelPath, 0, 0);
  }

  LogicalResult checkOpsets(const ::onnx::ModelProto &model);
  void collectTypes(const ::onnx::GraphProto &graph);
  FailureOr<Type> convertType(const ::onnx::TypeProto &type, StringRef name,
                              Location loc);
  ArrayAttr dimParams(const ::onnx::TypeProto &type);

  LogicalResult importGraphBody(const ::onnx::GraphProto &graph,
                                StringRef prefix);
  FailureOr<SmallVector<const ::onnx::NodeProto *>>
  sortNodes(const ::onnx::GraphProto &graph, StringRef prefix);
  LogicalResult importNode(const ::onnx::NodeProto &node, Location loc);
  FailureOr<Attribute> convertAttribute(const ::onnx::AttributeProto &attr,
                                        const AttrInfo &info, Location loc,
                                        StringRef where);
  LogicalResult importSubgraph(const ::onnx::GraphProto &graph,
                               Region &region, Location loc,
                               StringRef prefix);
  FailureOr<Value> lookup(StringRef name, Location loc, StringRef where);
  Location nodeLoc(const ::onnx::NodeProto &node, size_t index,
                   StringRef prefix);
  void pushScope(const ::onnx::GraphProto &graph, Block *block);

  MLIRContext &context;
  OpBuilder builder;
  std::string modelPath;
  TensorContext tensors;
  int64_t opset = 0;
  llvm::StringMap<const ::onnx::TypeProto *> typeOf;
  std::vector<Scope> scopes;
};

/// The type of result `index` of an If or Loop, from what its first body
/// yields (a Loop body yields the condition first), or null.
Type yieldedType(StringRef opType, ArrayRef<std::unique_ptr<Region>> bodies,
                 size_t index) {
  if ((opType != "If" && opType != "Loop") || bodies.empty() ||
      bodies.front()->empty())
    return {};
  auto yield = dyn_cast<YieldOp>(bodies.front()->front().getTerminator());
  size_t position = index + (opType == "Loop" ? 1 : 0);
  if (!yield || position >= yield.getNumOperands())
    return {};
  Type type = yield.getOperand(position).getType();
  if (opType == "If")
    return type;
  // Loop scan outputs stack the yielded values along a new leading axis.
  return UnrankedTensorType::get(getElementTypeOrSelf(type));
}

std::string describeNode(const ::onnx::NodeProto &node) {
  return "(" + node.op_type() + ")";
}

bool isDefaultDomain(StringRef domain) {
  return domain.empty() || domain == "ai.onnx";
}

/// Whether an initializer (`isInitializer`) or an attribute's tensor is
/// kept as a blob, as weights are, rather than inline. Floats in
/// initializers are weights; the integers that shapes, axes and indices are
/// made of stay inline up to a few thousand, where folds read them (MLIR
/// cannot fold an element out of a blob), and so do an attribute's few
/// values.
bool isWeightLike(const ::onnx::TensorProto &tensor, bool isInitializer) {
  int64_t count = 1;
  for (int64_t dim : tensor.dims())
    count *= std::max<int64_t>(dim, 0);
  using Type = ::onnx::TensorProto;
  switch (tensor.data_type()) {
  case Type::INT64:
  case Type::INT32:
  case Type::INT16:
  case Type::INT8:
  case Type::UINT64:
  case Type::UINT32:
  case Type::UINT16:
  case Type::UINT8:
  case Type::BOOL:
    return count > (isInitializer ? 4096 : 16);
  default:
    return isInitializer || count > 16;
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Model-level checks and types
//===----------------------------------------------------------------------===//

LogicalResult Importer::checkOpsets(const ::onnx::ModelProto &model) {
  for (const auto &import : model.opset_import()) {
    if (!isDefaultDomain(import.domain()))
      continue;
    opset = import.version();
  }
  if (opset == 0) {
    std::string imported;
    for (const auto &import : model.opset_import())
      imported += (imported.empty() ? "" : ", ") + import.domain() + " " +
                  std::to_string(import.version());
    return error() << "the model imports no version of the default ONNX "
                      "domain (it imports: "
                   << (imported.empty() ? "nothing" : imported) << ")";
  }
  if (opset > newestOpset())
    return error() << "the model uses opset " << opset
                   << ", newer than the newest Kiln knows (" << newestOpset()
                   << ")";
  if (opset < kOldestOpset)
    return error() << "the model uses opset " << opset
                   << ", older than the oldest Kiln imports (" << kOldestOpset
                   << ")";
  return success();
}

void Importer::collectTypes(const ::onnx::GraphProto &graph) {
  auto record = [&](const ::onnx::ValueInfoProto &info) {
    // An empty TypeProto says nothing; leave the name to the fallbacks.
    if (info.has_type() &&
        info.type().value_case() != ::onnx::TypeProto::VALUE_NOT_SET)
      typeOf[info.name()] = &info.type();
  };
  for (const auto &info : graph.input())
    record(info);
  for (const auto &info : graph.value_info())
    record(info);
  for (const auto &info : graph.output())
    record(info);
  for (const auto &node : graph.node())
    for (const auto &attr : node.attribute()) {
      if (attr.has_g())
        collectTypes(attr.g());
      for (const auto &subgraph : attr.graphs())
        collectTypes(subgraph);
    }
}

FailureOr<Type> Importer::convertType(const ::onnx::TypeProto &type,
                                      StringRef name, Location loc) {
  if (!type.has_tensor_type()) {
    const char *kind = type.has_sequence_type()   ? "a sequence"
                       : type.has_map_type()      ? "a map"
                       : type.has_optional_type() ? "an optional"
                       : type.has_sparse_tensor_type()
                           ? "a sparse tensor"
                           : "no";
    return error(loc) << "value '" << name << "' has " << kind
                      << " type; Kiln supports only tensors";
  }
  const auto &tensor = type.tensor_type();
  Type element = convertElementType(&context, tensor.elem_type());
  if (!element)
    return error(loc) << "value '" << name << "' has element type "
                      << dataTypeName(tensor.elem_type())
                      << ", which Kiln does not support";
  if (!tensor.has_shape())
    return Type(UnrankedTensorType::get(element));
  SmallVector<int64_t> shape;
  for (const auto &dim : tensor.shape().dim()) {
    // A negative size is no size at all: taking it as unknown would let a
    // wrong declaration through to run time.
    if (dim.has_dim_value() && dim.dim_value() < 0)
      return error(loc) << "value '" << name << "' declares dimension "
                        << shape.size() << " as " << dim.dim_value()
                        << "; sizes must not be negative";
    shape.push_back(dim.has_dim_value() ? dim.dim_value()
                                        : ShapedType::kDynamic);
  }
  return Type(RankedTensorType::get(shape, element));
}

/// The names of symbolic dimensions ("" for the others), or null when the
/// type has none: `onnx.dim_params` keeps what `?` loses.
ArrayAttr Importer::dimParams(const ::onnx::TypeProto &type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape())
    return {};
  SmallVector<Attribute> names;
  bool any = false;
  for (const auto &dim : type.tensor_type().shape().dim()) {
    // "unk__N" are the placeholders ONNX shape inference makes up for
    // unknown dimensions; they are not the model's names.
    StringRef name = dim.has_dim_param() ? StringRef(dim.dim_param()) : "";
    if (name.starts_with("unk__"))
      name = "";
    any |= !name.empty();
    names.push_back(builder.getStringAttr(name));
  }
  return any ? builder.getArrayAttr(names) : ArrayAttr();
}

//===----------------------------------------------------------------------===//
// Graphs
//===----------------------------------------------------------------------===//

void Importer::pushScope(const ::onnx::GraphProto &graph, Block *block) {
  Scope scope;
  for (const auto &initializer : graph.initializer())
    scope.initializers[initializer.name()] = &initializer;
  scope.block = block;
  scope.constantsEnd = block->begin();
  scopes.push_back(std::move(scope));
}

FailureOr<Value> Importer::lookup(StringRef name, Location loc,
                                  StringRef where) {
  for (Scope &scope : llvm::reverse(scopes)) {
    if (Value value = scope.values.lookup(name))
      return value;
    const ::onnx::TensorProto *initializer = scope.initializers.lookup(name);
    if (!initializer)
      continue;
    // Initializers become constants at the top of their graph, on first use.
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(scope.block, scope.constantsEnd);
    TensorContext where = tensors;
    where.asResource = isWeightLike(*initializer, /*isInitializer=*/true);
    std::string message;
    FailureOr<ElementsAttr> payload =
        convertTensor(&context, *initializer, where, message);
    Location at = NameLoc::get(builder.getStringAttr(name));
    if (failed(payload))
      return error(at) << "initializer '" << name << "' " << message;
    Value constant = createConstant(builder, at, *payload);
    scope.constantsEnd = std::next(Block::iterator(constant.getDefiningOp()));
    scope.values[name] = constant;
    return constant;
  }
  return error(loc) << where << " reads '" << name
                    << "', which no node, graph input or initializer produces";
}

Location Importer::nodeLoc(const ::onnx::NodeProto &node, size_t index,
                           StringRef prefix) {
  // Unnamed nodes get a stable name from their position and operator.
  std::string name = node.name();
  if (name.empty())
    name = (prefix + node.op_type() + "_" + std::to_string(index)).str();
  return NameLoc::get(builder.getStringAttr(name));
}

FailureOr<SmallVector<const ::onnx::NodeProto *>>
Importer::sortNodes(const ::onnx::GraphProto &graph, StringRef prefix) {
  // ONNX requires topological order; sort anyway, and name a cycle if any.
  llvm::StringMap<int> producer;
  for (int i = 0; i < graph.node_size(); ++i)
    for (const std::string &output : graph.node(i).output()) {
      if (output.empty())
        continue;
      auto [it, inserted] = producer.try_emplace(output, i);
      if (!inserted)
        return error(nodeLoc(graph.node(i), i, prefix))
               << describeNode(graph.node(i)) << " produces '" << output
               << "', which node '" << graph.node(it->second).name()
               << "' already produces";
    }

  // Names a node reads, including those its subgraphs read from outside.
  std::function<void(const ::onnx::GraphProto &, llvm::StringSet<> &)>
      freeNames = [&](const ::onnx::GraphProto &subgraph,
                      llvm::StringSet<> &names) {
        llvm::StringSet<> defined;
        for (const auto &input : subgraph.input())
          defined.insert(input.name());
        for (const auto &initializer : subgraph.initializer())
          defined.insert(initializer.name());
        for (const auto &node : subgraph.node())
          for (const std::string &output : node.output())
            defined.insert(output);
        for (const auto &node : subgraph.node()) {
          llvm::StringSet<> used;
          for (const std::string &input : node.input())
            used.insert(input);
          for (const auto &attr : node.attribute()) {
            if (attr.has_g())
              freeNames(attr.g(), used);
            for (const auto &inner : attr.graphs())
              freeNames(inner, used);
          }
          for (const auto &name : used)
            if (!defined.contains(name.getKey()))
              names.insert(name.getKey());
        }
        for (const auto &output : subgraph.output())
          if (!defined.contains(output.name()))
            names.insert(output.name());
      };

  int count = graph.node_size();
  std::vector<SmallVector<int>> users(count);
  std::vector<int> pending(count, 0);
  for (int i = 0; i < count; ++i) {
    const auto &node = graph.node(i);
    llvm::StringSet<> reads;
    for (const std::string &input : node.input())
      if (!input.empty())
        reads.insert(input);
    for (const auto &attr : node.attribute()) {
      if (attr.has_g())
        freeNames(attr.g(), reads);
      for (const auto &inner : attr.graphs())
        freeNames(inner, reads);
    }
    llvm::DenseSet<int> from;
    for (const auto &name : reads) {
      auto it = producer.find(name.getKey());
      if (it != producer.end() && from.insert(it->second).second) {
        users[it->second].push_back(i);
        ++pending[i];
      }
    }
  }
  SmallVector<const ::onnx::NodeProto *> order;
  SmallVector<int> ready;
  for (int i = count - 1; i >= 0; --i)
    if (pending[i] == 0)
      ready.push_back(i);
  // Keep the file's order among ready nodes: smallest index first.
  while (!ready.empty()) {
    auto smallest = std::min_element(ready.begin(), ready.end());
    int next = *smallest;
    ready.erase(smallest);
    order.push_back(&graph.node(next));
    for (int user : users[next])
      if (--pending[user] == 0)
        ready.push_back(user);
  }
  if ((int)order.size() != count)
    for (int i = 0; i < count; ++i)
      if (pending[i] > 0)
        return error(nodeLoc(graph.node(i), i, prefix))
               << describeNode(graph.node(i))
               << " is part of a cycle in the graph";
  return order;
}

LogicalResult Importer::importGraphBody(const ::onnx::GraphProto &graph,
                                        StringRef prefix) {
  FailureOr<SmallVector<const ::onnx::NodeProto *>> order =
      sortNodes(graph, prefix);
  if (failed(order))
    return failure();
  // Locations follow the node's position in the file, not the sorted order.
  llvm::DenseMap<const ::onnx::NodeProto *, size_t> position;
  for (int i = 0; i < graph.node_size(); ++i)
    position[&graph.node(i)] = i;
  for (const ::onnx::NodeProto *node : *order)
    if (failed(importNode(*node, nodeLoc(*node, position[node], prefix))))
      return failure();
  return success();
}

LogicalResult Importer::importSubgraph(const ::onnx::GraphProto &graph,
                                       Region &region, Location loc,
                                       StringRef prefix) {
  Block *block = new Block();
  region.push_back(block);
  for (const auto &input : graph.input()) {
    if (!input.has_type())
      return error(loc) << "subgraph '" << graph.name() << "' input '"
                        << input.name() << "' has no type";
    FailureOr<Type> type = convertType(input.type(), input.name(), loc);
    if (failed(type))
      return failure();
    block->addArgument(*type, NameLoc::get(builder.getStringAttr(input.name())));
  }
  pushScope(graph, block);
  for (auto [input, argument] :
       llvm::zip(graph.input(), block->getArguments()))
    scopes.back().values[input.name()] = argument;

  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(block);
  LogicalResult result = importGraphBody(graph, prefix);
  SmallVector<Value> outputs;
  for (const auto &output : graph.output()) {
    if (failed(result))
      break;
    FailureOr<Value> value = lookup(output.name(), loc, "the subgraph output");
    if (failed(value))
      result = failure();
    else
      outputs.push_back(*value);
  }
  scopes.pop_back();
  if (failed(result))
    return failure();
  builder.setInsertionPointToEnd(block);
  builder.create<YieldOp>(loc, outputs);
  return success();
}

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

FailureOr<Attribute>
Importer::convertAttribute(const ::onnx::AttributeProto &attr,
                           const AttrInfo &info, Location loc,
                           StringRef where) {
  using A = ::onnx::AttributeProto;
  // Old writers leave `type` unset; then the populated field tells.
  A::AttributeType kind = attr.type();
  if (kind == A::UNDEFINED) {
    kind = attr.has_f()   ? A::FLOAT
           : attr.has_i() ? A::INT
           : attr.has_s() ? A::STRING
           : attr.has_t() ? A::TENSOR
           : attr.has_g() ? A::GRAPH
           : attr.floats_size() ? A::FLOATS
           : attr.ints_size()   ? A::INTS
           : attr.strings_size() ? A::STRINGS
           : attr.tensors_size() ? A::TENSORS
                                 : A::UNDEFINED;
  }
  auto mismatch = [&]() {
    return error(loc) << where << " attribute '" << attr.name()
                      << "' must be " << describeAttrKind(info.kind);
  };
  if (!attr.ref_attr_name().empty())
    return error(loc) << where << " attribute '" << attr.name()
                      << "' refers to a function attribute, which only "
                         "function bodies may do";
  auto tensorAttr = [&](const ::onnx::TensorProto &tensor)
      -> FailureOr<Attribute> {
    TensorContext where = tensors;
    // Large tensors in attributes are weights in disguise: keep them as
    // blobs like initializers; small ones stay inline and foldable.
    where.asResource = isWeightLike(tensor, /*isInitializer=*/false);
    std::string message;
    FailureOr<ElementsAttr> value =
        convertTensor(&context, tensor, where, message);
    if (failed(value))
      return error(loc) << "attribute '" << attr.name() << "' tensor "
                        << message;
    return Attribute(*value);
  };

  switch (info.kind) {
  case AttrKind::Float:
    if (kind != A::FLOAT)
      return mismatch();
    return Attribute(builder.getF32FloatAttr(attr.f()));
  case AttrKind::Int:
    if (kind != A::INT)
      return mismatch();
    return Attribute(builder.getI64IntegerAttr(attr.i()));
  case AttrKind::String:
    if (kind != A::STRING)
      return mismatch();
    return Attribute(builder.getStringAttr(attr.s()));
  case AttrKind::Floats: {
    if (kind != A::FLOATS && !(kind == A::UNDEFINED))
      return mismatch();
    SmallVector<Attribute> values;
    for (float value : attr.floats())
      values.push_back(builder.getF32FloatAttr(value));
    return Attribute(builder.getArrayAttr(values));
  }
  case AttrKind::Ints: {
    if (kind != A::INTS && !(kind == A::UNDEFINED))
      return mismatch();
    SmallVector<Attribute> values;
    for (int64_t value : attr.ints())
      values.push_back(builder.getI64IntegerAttr(value));
    return Attribute(builder.getArrayAttr(values));
  }
  case AttrKind::Strings: {
    if (kind != A::STRINGS && !(kind == A::UNDEFINED))
      return mismatch();
    SmallVector<Attribute> values;
    for (const std::string &value : attr.strings())
      values.push_back(builder.getStringAttr(value));
    return Attribute(builder.getArrayAttr(values));
  }
  case AttrKind::Tensor:
    if (kind != A::TENSOR)
      return mismatch();
    return tensorAttr(attr.t());
  case AttrKind::Tensors: {
    if (kind != A::TENSORS)
      return mismatch();
    SmallVector<Attribute> values;
    for (const auto &tensor : attr.tensors()) {
      FailureOr<Attribute> value = tensorAttr(tensor);
      if (failed(value))
        return failure();
      values.push_back(*value);
    }
    return Attribute(builder.getArrayAttr(values));
  }
  case AttrKind::TypeProto: {
    if (kind != A::TYPE_PROTO)
      return mismatch();
    FailureOr<Type> type = convertType(attr.tp(), attr.name(), loc);
    if (failed(type))
      return failure();
    return Attribute(TypeAttr::get(*type));
  }
  case AttrKind::SparseTensor:
    return error(loc) << where << " attribute '" << attr.name()
                      << "' is a sparse tensor, which Kiln does not support";
  case AttrKind::Graph:
  case AttrKind::Graphs:
    break;
  }
  return mismatch();
}

LogicalResult Importer::importNode(const ::onnx::NodeProto &node,
                                   Location loc) {
  std::string where = describeNode(node);
  if (!isDefaultDomain(node.domain()))
    return error(loc) << where << " is in domain '" << node.domain()
                      << "'; Kiln supports only the default ONNX domain";

  // Deprecated operators are imported as their replacements, whose schema
  // then describes the node.
  StringRef opType = node.op_type();
  StringRef schemaName = opType == "Upsample"  ? "Resize"
                         : opType == "Scatter" ? "ScatterElements"
                                               : opType;
  const OpSchemaInfo *schema = lookupOpSchema(schemaName);
  if (!schema)
    return error(loc) << where << " is not an ONNX operator Kiln supports";
  int version = schema->versionAt(opset);
  if (opType == "Upsample")
    version = opset >= 10 ? 0 : 9;
  if (opType == "Scatter")
    version = opset >= 11 ? 0 : 9;
  if (version == 0)
    return error(loc) << where << " is not part of opset " << opset;

  // Attributes, by the schema of the node's own version.
  NodeForm form;
  form.opType = opType.str();
  SmallVector<std::pair<const AttrInfo *, const ::onnx::GraphProto *>> graphs;
  for (const auto &attr : node.attribute()) {
    const AttrInfo *info = schema->findAttribute(attr.name());
    AttrInfo legacy{nullptr, AttrKind::Int};
    if (!info) {
      // Attributes older versions had, which the normalizer turns into
      // inputs or drops; their kind is whatever the proto says.
      static const llvm::StringMap<AttrKind> legacyKinds = {
          {"axes", AttrKind::Ints},   {"split", AttrKind::Ints},
          {"starts", AttrKind::Ints}, {"ends", AttrKind::Ints},
          {"pads", AttrKind::Ints},   {"value", AttrKind::Float},
          {"min", AttrKind::Float},   {"max", AttrKind::Float},
          {"k", AttrKind::Int},       {"ratio", AttrKind::Float},
          {"spatial", AttrKind::Int}, {"scales", AttrKind::Floats},
          {"axis", AttrKind::Int}};
      auto it = legacyKinds.find(attr.name());
      if (version == schema->versions.back() || it == legacyKinds.end())
        return error(loc) << where << " has unknown attribute '"
                          << attr.name() << "'";
      legacy = AttrInfo{it->getKey().data(), it->second};
      info = &legacy;
    }
    if (info->kind == AttrKind::Graph) {
      if (!attr.has_g())
        return error(loc) << where << " attribute '" << attr.name()
                          << "' must be a graph";
      graphs.push_back({info, &attr.g()});
      continue;
    }
    if (info->kind == AttrKind::Graphs)
      return error(loc) << where << " attribute '" << attr.name()
                        << "' is a list of graphs, which Kiln does not "
                           "support";
    FailureOr<Attribute> value = convertAttribute(attr, *info, loc, where);
    if (failed(value))
      return failure();
    form.attributes.set(attr.name(), *value);
  }

  // Inputs; "" is an absent optional input.
  for (const std::string &input : node.input()) {
    if (input.empty()) {
      form.inputs.push_back(Value());
      continue;
    }
    FailureOr<Value> value = lookup(input, loc, where);
    if (failed(value))
      return failure();
    form.inputs.push_back(*value);
  }

  std::string message;
  if (failed(normalizeToNewestOpset(form, version, builder, loc, message)))
    return error(loc) << where << " " << message;
  // A normalized node follows the newest schema of its (maybe new) operator.
  if (form.opType != schema->name)
    schema = lookupOpSchema(form.opType);
  for (const NamedAttribute &attr : form.attributes)
    if (!schema->findAttribute(attr.getName().getValue()))
      return error(loc) << where << " has attribute '"
                        << attr.getName().getValue()
                        << "', which opset " << opset << " does not define";

  if (form.coerceTo2DAt) {
    // Softmax-style operators before 13 work on the input flattened to 2-D.
    Value input = form.inputs.empty() ? Value() : form.inputs[0];
    if (!input)
      return error(loc) << where << " is missing its input";
    Type element = getElementTypeOrSelf(input.getType());
    OperationState flatten(loc, "onnx.Flatten");
    flatten.addOperands(input);
    flatten.addAttribute("axis", builder.getI64IntegerAttr(*form.coerceTo2DAt));
    auto rankedInput = dyn_cast<RankedTensorType>(input.getType());
    Type flatType = RankedTensorType::get(
        {ShapedType::kDynamic, ShapedType::kDynamic}, element);
    if (rankedInput && rankedInput.hasStaticShape()) {
      int64_t axis = *form.coerceTo2DAt;
      if (axis < 0)
        axis += rankedInput.getRank();
      int64_t outer = 1, inner = 1;
      for (int64_t i = 0; i < rankedInput.getRank(); ++i)
        (i < axis ? outer : inner) *= rankedInput.getDimSize(i);
      flatType = RankedTensorType::get({outer, inner}, element);
    }
    flatten.addTypes(flatType);
    form.inputs[0] = builder.create(flatten)->getResult(0);
  }

  // Operand segments: one input per Single/Optional parameter, the rest to
  // the trailing Variadic one.
  SmallVector<Value> operands;
  SmallVector<int32_t> operandSegments;
  size_t next = 0;
  for (size_t p = 0; p < schema->inputs.size(); ++p) {
    const ParamInfo &param = schema->inputs[p];
    if (param.kind == Param::Variadic) {
      int32_t taken = 0;
      for (; next < form.inputs.size(); ++next, ++taken) {
        if (!form.inputs[next])
          return error(loc) << where << " has an empty name among its '"
                            << param.name << "' inputs";
        operands.push_back(form.inputs[next]);
      }
      operandSegments.push_back(taken);
      continue;
    }
    Value value = next < form.inputs.size() ? form.inputs[next] : Value();
    ++next;
    if (!value && param.kind == Param::Single)
      return error(loc) << where << " is missing required input '"
                        << param.name << "'";
    operandSegments.push_back(value ? 1 : 0);
    if (value)
      operands.push_back(value);
  }
  if (next < form.inputs.size())
    return error(loc) << where << " has " << form.inputs.size()
                      << " inputs; the operator takes at most "
                      << schema->inputs.size();

  // Bodies first: a control-flow op's results take their types from them
  // when ONNX inference could not.
  SmallVector<std::unique_ptr<Region>> bodies;
  // Regions, in the order of the op's graph attributes.
  for (const AttrInfo &attr : schema->attributes) {
    if (attr.kind != AttrKind::Graph)
      continue;
    Region *region = bodies.emplace_back(std::make_unique<Region>()).get();
    auto it = llvm::find_if(graphs, [&](auto &entry) {
      return StringRef(entry.first->name) == attr.name;
    });
    if (it == graphs.end())
      return error(loc) << where << " is missing graph attribute '"
                        << attr.name << "'";
    std::string prefix =
        (cast<NameLoc>(loc).getName().getValue() + "/" + attr.name + "/")
            .str();
    if (failed(importSubgraph(*it->second, *region, loc, prefix)))
      return failure();
  }

  // Results, typed by ONNX shape inference where it knew, else by the
  // schema's element-type rules.
  SmallVector<Type> resultTypes;
  SmallVector<int32_t> resultSegments;
  SmallVector<std::string> resultNames;
  auto resultType = [&](const std::string &name,
                        const ParamInfo &param) -> FailureOr<Type> {
    // A coerced Softmax keeps the 2-D shape of its flattened input.
    if (form.coerceTo2DAt)
      return form.inputs[0].getType();
    if (const ::onnx::TypeProto *type = typeOf.lookup(name))
      return convertType(*type, name, loc);
    // If and Loop results are typed like what their bodies yield.
    if (Type type = yieldedType(form.opType, bodies, resultTypes.size()))
      return type;
    // A Constant's type is its value's.
    if (form.opType == "Constant")
      if (auto value = dyn_cast_or_null<ElementsAttr>(
              form.attributes.get("value")))
        return value.getType();
    Type element;
    if (param.sameElementTypeAs >= 0 &&
        param.sameElementTypeAs < (int)form.inputs.size() &&
        form.inputs[param.sameElementTypeAs])
      element =
          getElementTypeOrSelf(form.inputs[param.sameElementTypeAs].getType());
    else if (*param.onlyElementType)
      element = elementTypeFromName(&context, param.onlyElementType);
    else if (auto to = dyn_cast_or_null<IntegerAttr>(form.attributes.get("to")))
      element = convertElementType(&context, to.getInt());
    if (!element)
      return error(loc) << where << " output '" << name
                        << "' has no type and ONNX shape inference could "
                           "not find one";
    return Type(UnrankedTensorType::get(element));
  };
  next = 0;
  for (const ParamInfo &param : schema->outputs) {
    if (param.kind == Param::Variadic) {
      int32_t taken = 0;
      for (; next < (size_t)node.output_size(); ++next, ++taken) {
        FailureOr<Type> type = resultType(node.output(next), param);
        if (failed(type))
          return failure();
        resultTypes.push_back(*type);
        resultNames.push_back(node.output(next));
      }
      resultSegments.push_back(taken);
      continue;
    }
    bool present = next < (size_t)node.output_size() &&
                   !node.output(next).empty();
    if (!present && param.kind == Param::Single)
      return error(loc) << where << " is missing required output '"
                        << param.name << "'";
    if (present) {
      FailureOr<Type> type = resultType(node.output(next), param);
      if (failed(type))
        return failure();
      resultTypes.push_back(*type);
      resultNames.push_back(node.output(next));
    }
    resultSegments.push_back(present ? 1 : 0);
    ++next;
  }
  if (next < (size_t)node.output_size())
    return error(loc) << where << " has " << node.output_size()
                      << " outputs; the operator has at most "
                      << schema->outputs.size();

  OperationState state(loc, "onnx." + form.opType);
  state.addOperands(operands);
  state.addTypes(resultTypes);
  state.addAttributes(form.attributes);
  for (std::unique_ptr<Region> &body : bodies)
    state.addRegion(std::move(body));
  std::optional<RegisteredOperationName> opName =
      state.name.getRegisteredInfo();
  if (!opName)
    return error(loc) << where << " has no op in the onnx dialect";
  if (opName->hasTrait<OpTrait::AttrSizedOperandSegments>())
    state.addAttribute("operandSegmentSizes",
                       builder.getDenseI32ArrayAttr(operandSegments));
  if (opName->hasTrait<OpTrait::AttrSizedResultSegments>())
    state.addAttribute("resultSegmentSizes",
                       builder.getDenseI32ArrayAttr(resultSegments));
  // Spell out the schema's defaults, so the IR says what the op computes.
  opName->populateDefaultAttrs(state.attributes);

  Operation *op = builder.create(state);
  SmallVector<Value> results(op->getResults());
  if (form.coerceTo2DAt) {
    // Back to the input's shape.
    Value original = node.input(0).empty() ? Value() : *lookup(node.input(0), loc, where);
    OperationState shape(loc, "onnx.Shape");
    shape.addOperands(original);
    int64_t rank = -1;
    if (auto ranked = dyn_cast<RankedTensorType>(original.getType()))
      rank = ranked.getRank();
    shape.addTypes(RankedTensorType::get({rank < 0 ? ShapedType::kDynamic : rank},
                                         builder.getIntegerType(64)));
    OperationState reshape(loc, "onnx.Reshape");
    reshape.addOperands({results[0], builder.create(shape)->getResult(0)});
    Type declared = original.getType();
    if (const ::onnx::TypeProto *type = typeOf.lookup(node.output(0))) {
      FailureOr<Type> converted = convertType(*type, node.output(0), loc);
      if (failed(converted))
        return failure();
      declared = *converted;
    }
    reshape.addTypes(declared);
    RegisteredOperationName::lookup("onnx.Reshape", &context)
        ->populateDefaultAttrs(reshape.attributes);
    results[0] = builder.create(reshape)->getResult(0);
  }
  for (auto [name, value] : llvm::zip(resultNames, results))
    scopes.back().values[name] = value;
  return success();
}

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp> Importer::importModel(::onnx::ModelProto &model,
                                            const ImportOptions &options) {
  if (!model.has_graph())
    return (error() << "not an ONNX model: it has no graph", nullptr);
  if (model.ir_version() < 3)
    return (error() << "not an ONNX model Kiln reads: ir_version "
                    << model.ir_version() << " (Kiln reads 3 and later)",
            nullptr);
  if (failed(checkOpsets(model)))
    return nullptr;
  if (opset < kNormalizedFromOpset) {
    // The converter assumes a well-formed graph (it crashes on dangling
    // names), so ONNX's checker, which knows these old opsets, goes first.
    try {
      ::onnx::checker::check_model(model);
    } catch (const std::exception &exception) {
      std::string reason = exception.what();
      std::replace(reason.begin(), reason.end(), '\n', ' ');
      return (error() << "the opset " << opset
                      << " model is not valid ONNX: " << reason,
              nullptr);
    }
    // The checker does not look at graph outputs; the converter needs them.
    llvm::StringSet<> defined;
    for (const auto &input : model.graph().input())
      defined.insert(input.name());
    for (const auto &initializer : model.graph().initializer())
      defined.insert(initializer.name());
    for (const auto &node : model.graph().node())
      for (const std::string &output : node.output())
        defined.insert(output);
    for (const auto &output : model.graph().output())
      if (!defined.contains(output.name()))
        return (error() << "graph output '" << output.name()
                        << "' is not produced by any node, graph input or "
                           "initializer",
                nullptr);
    // The broadcasting adapters need shapes.
    inferShapesIsolated(model);
    try {
      model = ::onnx::version_conversion::ConvertVersion(model,
                                                         kNormalizedFromOpset);
    } catch (const std::exception &exception) {
      std::string reason = exception.what();
      std::replace(reason.begin(), reason.end(), '\n', ' ');
      return (error() << "cannot upgrade the opset " << opset
                      << " model to opset " << kNormalizedFromOpset << ": "
                      << reason,
              nullptr);
    }
    opset = kNormalizedFromOpset;
  }

  if (options.inferShapes)
    inferShapesIsolated(model);
  const ::onnx::GraphProto &graph = model.graph();
  collectTypes(graph);

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc());
  Builder b(&context);
  (*module)->setAttr("onnx.opset", b.getI64IntegerAttr(opset));
  (*module)->setAttr("onnx.ir_version", b.getI64IntegerAttr(model.ir_version()));
  if (!model.producer_name().empty())
    (*module)->setAttr("onnx.producer", b.getStringAttr(model.producer_name()));
  if (!graph.name().empty())
    (*module)->setAttr("onnx.graph_name", b.getStringAttr(graph.name()));

  // Graph inputs that are also initializers are constants (IR < 4 listed
  // every initializer as an input).
  llvm::StringSet<> initializerNames;
  for (const auto &initializer : graph.initializer())
    initializerNames.insert(initializer.name());
  SmallVector<const ::onnx::ValueInfoProto *> inputs;
  SmallVector<Type> inputTypes;
  for (const auto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    Location loc = NameLoc::get(b.getStringAttr(input.name()));
    if (!input.has_type())
      return (error(loc) << "graph input '" << input.name()
                         << "' has no type",
              nullptr);
    FailureOr<Type> type = convertType(input.type(), input.name(), loc);
    if (failed(type))
      return nullptr;
    inputs.push_back(&input);
    inputTypes.push_back(*type);
  }

  builder.setInsertionPointToEnd(module->getBody());
  auto function = builder.create<func::FuncOp>(
      fileLoc(), "main", b.getFunctionType(inputTypes, {}));
  Block *entry = function.addEntryBlock();
  pushScope(graph, entry);
  for (auto [index, input] : llvm::enumerate(inputs)) {
    entry->getArgument(index).setLoc(
        NameLoc::get(b.getStringAttr(input->name())));
    scopes.back().values[input->name()] = entry->getArgument(index);
    function.setArgAttr(index, "onnx.name", b.getStringAttr(input->name()));
    if (ArrayAttr dims = dimParams(input->type()))
      function.setArgAttr(index, "onnx.dim_params", dims);
  }

  builder.setInsertionPointToEnd(entry);
  if (failed(importGraphBody(graph, "")))
    return nullptr;
  SmallVector<Value> outputs;
  for (const auto &output : graph.output()) {
    const Scope &scope = scopes.back();
    if (!scope.values.count(output.name()) &&
        !scope.initializers.count(output.name()))
      return (error() << "graph output '" << output.name()
                      << "' is not produced by any node, graph input or "
                         "initializer",
              nullptr);
    FailureOr<Value> value =
        lookup(output.name(), fileLoc(), "graph output '" + output.name() + "'");
    if (failed(value))
      return nullptr;
    outputs.push_back(*value);
  }
  builder.setInsertionPointToEnd(entry);
  builder.create<func::ReturnOp>(fileLoc(), outputs);
  function.setType(b.getFunctionType(inputTypes, ValueRange(outputs).getTypes()));
  for (auto [index, output] : llvm::enumerate(graph.output())) {
    function.setResultAttr(index, "onnx.name", b.getStringAttr(output.name()));
    if (output.has_type())
      if (ArrayAttr dims = dimParams(output.type()))
        function.setResultAttr(index, "onnx.dim_params", dims);
  }
  scopes.clear();

  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp>
mlir::kiln::onnx::importOnnxModel(MLIRContext &context,
                                  const std::string &path,
                                  const ImportOptions &options) {
  context.loadDialect<OnnxDialect, func::FuncDialect>();
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(fileLoc) << "cannot read the model: "
                       << buffer.getError().message();
    return nullptr;
  }
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (bytes.empty()) {
    emitError(fileLoc) << "the file is empty, not an ONNX model";
    return nullptr;
  }
  try {
    ::onnx::ModelProto model;
    if (bytes.size() > (size_t)INT_MAX ||
        !model.ParseFromArray(bytes.data(), (int)bytes.size())) {
      emitError(fileLoc) << "not an ONNX model: the protobuf does not parse "
                            "(is the file truncated or of another format?)";
      return nullptr;
    }
    Importer importer(context, path);
    return importer.importModel(model, options);
  } catch (const std::exception &exception) {
    emitError(fileLoc) << "ONNX import failed: " << exception.what();
    return nullptr;
  }
}
