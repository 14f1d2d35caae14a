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

def LowerAttentionToLinalgPass
    : Pass<"kiln-lower-attention-to-linalg", "func::FuncOp"> {
  let summary = "kiln.attention as linalg generics, for targets without a "
                "fused attention kernel";
  let description = [{
    Lowers the tensor form of `kiln.attention` to the scaled query's
    products with the keys, the softmax's maximum, exponentials and sum
    (the mask added to the scores as they are read) and the exponentials'
    weighted sum of the values, over the sum. With a `pages` table
    (Quest), the keys and values of the listed pages are gathered first
    into contiguous f32 rows, so that the step reads those pages only;
    whether the table lists pages (rather than asking for every key) comes
    from the sizes when `kiln.select_pages` wrote it (its candidates), from
    its first entry otherwise. 4-bit keys or values are refused.

    With `fused-depth=N`, attentions with f32 keys and values and a head
    size of at most N stay fused, for a target kernel that takes them
    (CUDA's); the others are lowered.
  }];
  let options = [
    Option<"fusedDepth", "fused-depth", "int64_t", /*default=*/"0",
           "Keep attentions with f32 keys and values and at most this head "
           "size fused (0: lower every attention)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // KILN_CODEGEN_LINALG_PASSES
