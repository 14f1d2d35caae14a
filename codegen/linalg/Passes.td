//===- Passes.td - lowering onnx to upstream tensor dialects -*- tablegen -*-===//

#ifndef KILN_CODEGEN_LINALG_PASSES
#define KILN_CODEGEN_LINALG_PASSES

include "mlir/Pass/PassBase.td"

def LowerOnnxToLinalgPass : Pass<"kiln-lower-onnx-to-linalg", "func::FuncOp"> {
  let summary = "Lower onnx ops to linalg, tensor, arith and math";
  let description = [{
    The tensor stage of the pipeline (`kiln compile --emit=linalg`). Every
    onnx op must lower; one that cannot is reported with its name, the ONNX
    node and the reason, and the pass fails. Constants keep their payloads
    (dense_resource blobs stay blobs).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // KILN_CODEGEN_LINALG_PASSES
