// RUN: kiln-opt %s -kiln-lower-strided-copies | FileCheck %s

// A copy into a strided view becomes a linalg.copy (later loops); a copy
// between contiguous buffers stays a memref.copy (later memcpy).

// CHECK-LABEL: func.func @copies(
// CHECK-SAME: %[[A:.*]]: memref<4x4xf32>, %[[B:.*]]: memref<2x2xf32>, %[[C:.*]]: memref<2x2xf32>)
func.func @copies(%a: memref<4x4xf32>, %b: memref<2x2xf32>, %c: memref<2x2xf32>) {
  // CHECK: %[[VIEW:.*]] = memref.subview %[[A]]
  %view = memref.subview %a[1, 1] [2, 2] [1, 1] : memref<4x4xf32> to memref<2x2xf32, strided<[4, 1], offset: 5>>
  // CHECK: linalg.copy ins(%[[B]] : memref<2x2xf32>) outs(%[[VIEW]] : memref<2x2xf32, strided<[4, 1], offset: 5>>)
  memref.copy %b, %view : memref<2x2xf32> to memref<2x2xf32, strided<[4, 1], offset: 5>>
  // CHECK: memref.copy %[[B]], %[[C]] : memref<2x2xf32> to memref<2x2xf32>
  memref.copy %b, %c : memref<2x2xf32> to memref<2x2xf32>
  return
}
