// RUN: kiln-opt %s -split-input-file -kiln-externalize-weights | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-externalize-weights=min-bytes=1 | FileCheck %s --check-prefix=ALL

// Large constants leave the code: @main reads them from its new leading
// weights argument at 64-byte-aligned offsets; small ones stay globals.

// CHECK: module attributes {kiln.weights = [{offset = 0 : i64, value = dense<1.000000e+00> : tensor<32xf32>}, {offset = 128 : i64, value = dense<2> : tensor<3x5xi64>}]}
// CHECK-NOT: memref.global "private" constant @big
// CHECK: memref.global "private" constant @small
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[W:.*]]: memref<?xi8> {kiln.weights}, %[[X:.*]]: memref<32xf32>)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[W]][%[[C0]]][] : memref<?xi8> to memref<32xf32>
// CHECK: %[[C128:.*]] = arith.constant 128 : index
// CHECK: memref.view %[[W]][%[[C128]]][] : memref<?xi8> to memref<3x5xi64>
// CHECK: memref.get_global @small

// ALL: kiln.weights = [{offset = 0 : i64, {{.*}}}, {offset = 128 : i64, {{.*}}}, {offset = 256 : i64, value = dense<3.000000e+00> : tensor<2xf32>}]
memref.global "private" constant @big : memref<32xf32> = dense<1.0>
memref.global "private" constant @ints : memref<3x5xi64> = dense<2>
memref.global "private" constant @small : memref<2xf32> = dense<3.0>
func.func @main(%x: memref<32xf32>) -> (memref<32xf32>, memref<3x5xi64>, memref<2xf32>) {
  %0 = memref.get_global @big : memref<32xf32>
  %1 = memref.get_global @ints : memref<3x5xi64>
  %2 = memref.get_global @small : memref<2xf32>
  return %0, %1, %2 : memref<32xf32>, memref<3x5xi64>, memref<2xf32>
}

// -----

// Without weights, @main still takes the (empty) weights buffer: the
// runtime's calling convention does not depend on the model.

// CHECK: kiln.weights = []
// CHECK-LABEL: func.func @main(
// CHECK-SAME: memref<?xi8> {kiln.weights}, %{{.*}}: memref<4xf32>)
func.func @main(%x: memref<4xf32>) -> memref<4xf32> {
  return %x : memref<4xf32>
}

// -----

// Weights of the same bytes (two resource blobs of equal contents, and one
// value twice) share one place in the section.

// CHECK: kiln.weights = [{offset = 0 : i64, value = dense_resource<first> : tensor<16xf32>}, {offset = 64 : i64, value = dense<5.000000e-01> : tensor<16xf32>}]
// CHECK-LABEL: func.func @main(
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %{{.*}}[%[[C0]]][] : memref<?xi8> to memref<16xf32>
// CHECK: %[[C0B:.*]] = arith.constant 0 : index
// CHECK: memref.view %{{.*}}[%[[C0B]]][] : memref<?xi8> to memref<16xf32>
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: memref.view %{{.*}}[%[[C64]]][] : memref<?xi8> to memref<16xf32>
// CHECK: %[[C64B:.*]] = arith.constant 64 : index
// CHECK: memref.view %{{.*}}[%[[C64B]]][] : memref<?xi8> to memref<16xf32>
memref.global "private" constant @a : memref<16xf32> = dense_resource<first>
memref.global "private" constant @b : memref<16xf32> = dense_resource<second>
memref.global "private" constant @c : memref<16xf32> = dense<0.5>
memref.global "private" constant @d : memref<16xf32> = dense<0.5>
func.func @main() -> (memref<16xf32>, memref<16xf32>, memref<16xf32>, memref<16xf32>) {
  %0 = memref.get_global @a : memref<16xf32>
  %1 = memref.get_global @b : memref<16xf32>
  %2 = memref.get_global @c : memref<16xf32>
  %3 = memref.get_global @d : memref<16xf32>
  return %0, %1, %2, %3 : memref<16xf32>, memref<16xf32>, memref<16xf32>, memref<16xf32>
}

{-#
  dialect_resources: {
    builtin: {
      first: "0x040000000000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F",
      second: "0x040000000000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F"
    }
  }
#-}
