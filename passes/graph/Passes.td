//===- Passes.td - graph-stage passes ----------------------*- tablegen -*-===//

#ifndef KILN_PASSES_GRAPH_PASSES
#define KILN_PASSES_GRAPH_PASSES

include "mlir/Pass/PassBase.td"

def GraphInferShapesPass : Pass<"kiln-graph-infer-shapes", "func::FuncOp"> {
  let summary = "Refine onnx result types with the ONNX shape rules";
  let description = [{
    Walks the function in order and gives each onnx op's results the most
    precise type its operands allow: an unranked result becomes ranked, a
    dynamic dimension static, where the ONNX shape rule of the operator and
    its constant operands (shapes, axes, pads) determine it. Known
    dimensions are never changed. The function's result types follow what
    it returns. Together with canonicalization this makes a model with
    static inputs fully static.
  }];
  let dependentDialects = ["::mlir::kiln::onnx::OnnxDialect"];
}

#endif // KILN_PASSES_GRAPH_PASSES
