//===- OpsetNormalizer.h - older operator versions in the newest form -*- C++ -*-===//
//
// The dialect has one op per operator, in the newest schema. Older opsets
// passed some operands as attributes (Split, Squeeze, Unsqueeze, Reduce*
// axes; Slice, Pad, Clip, TopK, Dropout), used operators since replaced
// (Upsample, Scatter) or gave the same operator other semantics (Softmax
// before 13). The normalizer rewrites each node into the newest form before
// the op is built, so everything after import sees one form per op.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_COMPILER_IMPORT_OPSETNORMALIZER_H
#define KILN_COMPILER_IMPORT_OPSETNORMALIZER_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OperationSupport.h"

#include <optional>
#include <string>

namespace mlir::kiln::onnx {

/// A node on its way into the dialect: the operator, its inputs (null for
/// an absent optional input) and its attributes as MLIR attributes.
struct NodeForm {
  std::string opType;
  SmallVector<Value> inputs;
  NamedAttrList attributes;
  /// Set when the operator must see its input flattened to 2-D at this axis
  /// and its result reshaped back (Softmax, LogSoftmax, Hardmax before 13).
  std::optional<int64_t> coerceTo2DAt;
};

/// Rewrites `form`, an operator at `version` of its schema, into the newest
/// form, creating any constants it needs with `builder` at `loc`. On
/// failure, `error` says why.
LogicalResult normalizeToNewestOpset(NodeForm &form, int version,
                                     OpBuilder &builder, Location loc,
                                     std::string &error);

} // namespace mlir::kiln::onnx

#endif // KILN_COMPILER_IMPORT_OPSETNORMALIZER_H
