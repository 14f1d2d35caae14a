// RUN: kiln-opt %s -kiln-cpu-lower-depthwise-conv | FileCheck %s

// Max pooling runs the depthwise loop nest: rows in parallel, blocks of
// pixels, a vector of channels per accumulator starting at negative
// infinity, a maximum per tap; the padding reads negative infinities.
// 5 channels fit one masked 16-lane vector.
// CHECK: memref.global "private" constant @kiln_lowest_5 : memref<5xf32> = dense<0xFF800000>
// CHECK-LABEL: func.func @pool
// CHECK: memref.get_global @kiln_lowest_5
// CHECK: scf.parallel
// CHECK: arith.constant dense<0xFF800000> : vector<16xf32>
// CHECK: scf.for {{.*}} iter_args
// CHECK: vector.maskedload
// CHECK: arith.maximumf
// CHECK-NOT: vector.fma
// CHECK: vector.maskedstore
func.func @pool(%x: memref<1x8x8x5xf32>, %y: memref<1x4x4x5xf32>) {
  kiln.max_pool2d %x into %y {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : memref<1x8x8x5xf32> into memref<1x4x4x5xf32>
  return
}
