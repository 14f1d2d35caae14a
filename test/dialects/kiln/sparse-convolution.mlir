// RUN: kiln-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// A sparse U-Net's level: the sites of a 4x8 mask scaled by 2 (a grid of
// 8x16, a table of 1 + 128 entries), their coarse sites at stride 2, the
// kernel maps of a 3x3 submanifold convolution, a 2x2 stride-2 one and
// its transpose, and the gathers and scatters around the GEMMs.
// CHECK-LABEL: func.func @level
// CHECK: %[[FINE:.*]] = kiln.list_sites %arg0 into %{{.*}} {scale = array<i64: 2, 2>} : tensor<1x1x4x8xi1> into tensor<129xi32> -> tensor<129xi32>
// CHECK: %[[COARSE:.*]] = kiln.coarse_sites %[[FINE]] into %{{.*}} {grid = array<i64: 8, 16>, stride = array<i64: 2, 2>} : tensor<129xi32> into tensor<33xi32> -> tensor<33xi32>
// CHECK: kiln.kernel_map %[[FINE]], %[[FINE]] into %{{.*}} {input_grid = array<i64: 8, 16>, kernel = array<i64: 3, 3>, output_grid = array<i64: 8, 16>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>} : tensor<129xi32>, tensor<129xi32> into tensor<?x9xi32> -> tensor<?x9xi32>
// CHECK: kiln.kernel_map %[[COARSE]], %[[FINE]] into %{{.*}} {input_grid = array<i64: 4, 8>, kernel = array<i64: 2, 2>, output_grid = array<i64: 8, 16>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>, transposed} : tensor<33xi32>, tensor<129xi32> into tensor<?x4xi32> -> tensor<?x4xi32>
// CHECK: kiln.gather_sites %arg1, %[[FINE]] into %{{.*}} {scale = array<i64: 1, 1>} : tensor<1x3x8x16xf32>, tensor<129xi32> into tensor<?x3xf32> -> tensor<?x3xf32>
// CHECK: kiln.sparse_im2col %{{.*}}, %{{.*}} into %{{.*}} : tensor<?x3xf32>, tensor<?x9xi32> into tensor<?x27xf32> -> tensor<?x27xf32>
// CHECK: kiln.sparse_col2im %arg2, %{{.*}} into %{{.*}} : tensor<?x20xf32>, tensor<?x4xi32> into tensor<?x5xf32> -> tensor<?x5xf32>
// CHECK: kiln.scatter_sites %{{.*}}, %[[FINE]] into %arg3 : tensor<?x5xf32>, tensor<129xi32> into tensor<1x5x8x16xf32> -> tensor<1x5x8x16xf32>
func.func @level(%mask: tensor<1x1x4x8xi1>, %image: tensor<1x3x8x16xf32>, %products: tensor<?x20xf32>, %logits: tensor<1x5x8x16xf32>, %n: index) -> tensor<1x5x8x16xf32> {
  %t0 = tensor.empty() : tensor<129xi32>
  %fine = kiln.list_sites %mask into %t0 {scale = array<i64: 2, 2>} : tensor<1x1x4x8xi1> into tensor<129xi32> -> tensor<129xi32>
  %t1 = tensor.empty() : tensor<33xi32>
  %coarse = kiln.coarse_sites %fine into %t1 {grid = array<i64: 8, 16>, stride = array<i64: 2, 2>} : tensor<129xi32> into tensor<33xi32> -> tensor<33xi32>
  %m0 = tensor.empty(%n) : tensor<?x9xi32>
  %same = kiln.kernel_map %fine, %fine into %m0 {input_grid = array<i64: 8, 16>, output_grid = array<i64: 8, 16>, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : tensor<129xi32>, tensor<129xi32> into tensor<?x9xi32> -> tensor<?x9xi32>
  %m1 = tensor.empty(%n) : tensor<?x4xi32>
  %up = kiln.kernel_map %coarse, %fine into %m1 {input_grid = array<i64: 4, 8>, output_grid = array<i64: 8, 16>, kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, transposed} : tensor<33xi32>, tensor<129xi32> into tensor<?x4xi32> -> tensor<?x4xi32>
  %r0 = tensor.empty(%n) : tensor<?x3xf32>
  %rows = kiln.gather_sites %image, %fine into %r0 {scale = array<i64: 1, 1>} : tensor<1x3x8x16xf32>, tensor<129xi32> into tensor<?x3xf32> -> tensor<?x3xf32>
  %c0 = tensor.empty(%n) : tensor<?x27xf32>
  %columns = kiln.sparse_im2col %rows, %same into %c0 : tensor<?x3xf32>, tensor<?x9xi32> into tensor<?x27xf32> -> tensor<?x27xf32>
  %s0 = tensor.empty(%n) : tensor<?x5xf32>
  %sums = kiln.sparse_col2im %products, %up into %s0 : tensor<?x20xf32>, tensor<?x4xi32> into tensor<?x5xf32> -> tensor<?x5xf32>
  %out = kiln.scatter_sites %sums, %fine into %logits : tensor<?x5xf32>, tensor<129xi32> into tensor<1x5x8x16xf32> -> tensor<1x5x8x16xf32>
  return %out : tensor<1x5x8x16xf32>
}

// -----

// The memref forms: no results.
// CHECK-LABEL: func.func @buffers
// CHECK: kiln.coarse_sites %arg0 into %arg1 {grid = array<i64: 5, 5>, stride = array<i64: 2, 2>} : memref<26xi32> into memref<10xi32>
// CHECK: kiln.scatter_sites %arg2, %arg0 into %arg3 : memref<?x2xf32>, memref<26xi32> into memref<1x2x5x5xf32>
func.func @buffers(%fine: memref<26xi32>, %coarse: memref<10xi32>, %rows: memref<?x2xf32>, %image: memref<1x2x5x5xf32>) {
  kiln.coarse_sites %fine into %coarse {grid = array<i64: 5, 5>, stride = array<i64: 2, 2>} : memref<26xi32> into memref<10xi32>
  kiln.scatter_sites %rows, %fine into %image : memref<?x2xf32>, memref<26xi32> into memref<1x2x5x5xf32>
  return
}
