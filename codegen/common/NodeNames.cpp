//===- NodeNames.cpp - the ONNX nodes behind generated code ---------------===//

#include "codegen/common/NodeNames.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;

std::string mlir::kiln::nodeNamesOf(ArrayRef<Operation *> ops) {
  llvm::SetVector<StringRef> nodes;
  for (Operation *op : ops)
    op->walk([&](Operation *nested) {
      nested->getLoc()->walk([&](Location location) {
        if (auto named = dyn_cast<NameLoc>(location))
          nodes.insert(named.getName().strref());
        return WalkResult::advance();
      });
    });
  std::string names;
  for (StringRef node : nodes) {
    if (names.size() > 200) {
      names += ", ...";
      break;
    }
    names += (names.empty() ? "" : ", ") + node.str();
  }
  return names;
}
