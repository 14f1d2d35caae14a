//===- PackageWriter.h - writing .kiln packages -----------------*- C++ -*-===//

#ifndef KILN_CODEGEN_COMMON_PACKAGEWRITER_H
#define KILN_CODEGEN_COMMON_PACKAGEWRITER_H

#include "runtime/format/PackageFormat.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace mlir::kiln {

/// The signature of `function` (the model's @main at the tensor stage) in
/// the manifest's terms: names from `onnx.name`, symbolic dimension names
/// from `onnx.dim_params`. Fails after a diagnostic for an input or output
/// the runtime cannot pass (unranked, or an element type it lacks).
LogicalResult describeSignature(func::FuncOp function,
                                ::kiln::package::Manifest &manifest);

/// The bytes of the weights section described by the `kiln.weights` layout
/// of kiln-externalize-weights. Fails after a diagnostic for a value
/// it cannot lay out.
FailureOr<std::string> layOutWeights(Operation *module, ArrayAttr layout);

/// A section of code or data, as the package stores it.
struct PackageSection {
  ::kiln::package::SectionKind kind;
  llvm::StringRef bytes;
};

/// Writes a package atomically: `path` is replaced only once the whole
/// file is written. The manifest comes first, then `sections` (each on a
/// page boundary), then the weights (which may be empty).
LogicalResult writePackage(llvm::StringRef path,
                           const ::kiln::package::Manifest &manifest,
                           llvm::ArrayRef<PackageSection> sections,
                           llvm::StringRef weights, std::string &error);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_COMMON_PACKAGEWRITER_H
