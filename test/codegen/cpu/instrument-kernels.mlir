// RUN: kiln-opt %s -kiln-cpu-instrument-kernels | FileCheck %s

// Each kernel of @main is bracketed by the profiler's calls with its index;
// the module lists the kernels with the ONNX nodes their locations name and
// their FLOPs: 2 * 8 * 8 * 4 for the packed convolution, two per element
// for the fused add and ReLU, none for the copy.
// CHECK: module attributes {kiln.kernels = [{flops = 512 : i64, name = "conv"}, {flops = 128 : i64, name = "bias, relu"}, {flops = 0 : i64, name = "memref.copy"}]}
// CHECK: func.func private @kiln_kernel_begin(i32)
// CHECK: func.func private @kiln_kernel_end(i32)
// CHECK-LABEL: func.func @main
// CHECK: %[[K0:.*]] = arith.constant 0 : i32
// CHECK-NEXT: call @kiln_kernel_begin(%[[K0]])
// CHECK-NEXT: kiln.packed_conv2d
// CHECK-NEXT: call @kiln_kernel_end(%[[K0]])
// CHECK: %[[K1:.*]] = arith.constant 1 : i32
// CHECK-NEXT: call @kiln_kernel_begin(%[[K1]])
// CHECK-NEXT: linalg.generic
// CHECK: call @kiln_kernel_end(%[[K1]])
// CHECK: call @kiln_kernel_begin
// CHECK-NEXT: memref.copy
// CHECK-NEXT: call @kiln_kernel_end
#map = affine_map<(d0) -> (d0)>
module {
  func.func @main(%x: memref<1x1x8x4xf32>, %w: memref<1x1x1x4x8xf32>, %b: memref<8xf32>, %y: memref<1x1x8x8xf32>, %v: memref<64xf32>, %out: memref<64xf32>) {
    kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x8x4xf32>, memref<1x1x1x4x8xf32>, memref<8xf32> into memref<1x1x8x8xf32> loc("conv")
    linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]} ins(%v : memref<64xf32>) outs(%out : memref<64xf32>) {
    ^bb0(%in: f32, %o: f32):
      %s = arith.addf %in, %in : f32 loc("bias")
      %r = arith.maximumf %s, %s : f32 loc("relu")
      linalg.yield %r : f32
    } loc(fused["bias", "relu"])
    memref.copy %v, %out : memref<64xf32> to memref<64xf32>
    return
  }
}
