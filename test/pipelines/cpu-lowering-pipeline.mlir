// RUN: kiln-opt %s --kiln-cpu-lowering-pipeline | FileCheck %s

// From linalg on tensors to the LLVM dialect: the result buffer allocated,
// the result returned to the caller (who frees it), one exported entry
// point.

// CHECK-NOT: linalg.
// CHECK-NOT: memref.
// CHECK: llvm.func @malloc(i64) -> !llvm.ptr
// CHECK: llvm.func internal @kiln_model(
// CHECK: llvm.call @malloc
// CHECK: llvm.fadd
// CHECK: llvm.func internal @_mlir_ciface_kiln_model(
// CHECK: llvm.func @kiln_entry(%{{.*}}: !llvm.ptr)
module {
  func.func @main(%x: tensor<64xf32>) -> tensor<64xf32> {
    %w = arith.constant dense<2.0> : tensor<64xf32>
    %empty = tensor.empty() : tensor<64xf32>
    %sum = linalg.add ins(%x, %w : tensor<64xf32>, tensor<64xf32>) outs(%empty : tensor<64xf32>) -> tensor<64xf32>
    return %sum : tensor<64xf32>
  }
}
