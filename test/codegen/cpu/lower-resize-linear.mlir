// RUN: kiln-opt %s -kiln-cpu-lower-resize-linear | FileCheck %s

// A task per output row of every plane (2 * 3 * 4); each row reads its two
// source rows and weight, each element its two columns and weight, then
// blends four values with three fused multiply-adds.
// CHECK-LABEL: func.func @resize
// CHECK: scf.parallel (%[[ROW:.*]]) = (%{{.*}}) to (%c24{{.*}}) step
// CHECK: memref.load %arg1
// CHECK: memref.load %arg2
// CHECK: scf.for
// CHECK: memref.load %arg3
// CHECK: memref.load %arg4
// CHECK-COUNT-3: math.fma
// CHECK: memref.store
func.func @resize(%x: memref<2x3x5x7xf32>, %r: memref<8xi32>, %rw: memref<4xf32>, %c: memref<18xi32>, %cw: memref<9xf32>, %y: memref<2x3x4x9xf32>) {
  kiln.resize_linear %x, %r, %rw, %c, %cw into %y : memref<2x3x5x7xf32>, memref<8xi32>, memref<4xf32>, memref<18xi32>, memref<9xf32> into memref<2x3x4x9xf32>
  return
}
