// RUN: kiln-opt %s --kiln-cuda-lowering-pipeline | FileCheck %s
// RUN: kiln-opt %s --kiln-cuda-lowering-pipeline | kiln-translate --kiln-to-cuda | FileCheck %s --check-prefix=SOURCE

// From linalg on tensors to the loop nests the CUDA emitter takes: the
// shared bufferization and memory plan, then the reduction's parallel
// dimension as scf.parallel (one GPU thread each) with the reduction a
// sequential loop inside, and no affine ops left.

// CHECK-LABEL: func.func @main(
// CHECK-SAME: {kiln.weights}
// CHECK-SAME: {kiln.workspace}
// CHECK-NOT: linalg.
// CHECK-NOT: affine.
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: arith.addf
// CHECK: return

// SOURCE: void kiln_kernel_0(
// SOURCE: void kiln_kernel_1(
// SOURCE: for (int64_t
// SOURCE: //   kiln_kernel_0<<<1, 32>>>
// SOURCE: //   kiln_kernel_1<<<1, 32>>>
module {
  func.func @main(%x: tensor<4x8xf32>) -> tensor<4xf32> {
    %zero = arith.constant 0.0 : f32
    %empty = tensor.empty() : tensor<4xf32>
    %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<4xf32>) -> tensor<4xf32>
    %sum = linalg.reduce ins(%x : tensor<4x8xf32>) outs(%init : tensor<4xf32>) dimensions = [1]
      (%in: f32, %acc: f32) {
        %s = arith.addf %in, %acc : f32
        linalg.yield %s : f32
      }
    return %sum : tensor<4xf32>
  }
}
