// RUN: kiln-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// SparseRefine's steps for an image of 64x128 refined from 32x64 in tiles
// of 32 (16 low-resolution pixels) with a halo of 8: 2 x 4 tiles, a table
// of 1 + 2 x 8 entries, windows of 48x48.
// CHECK-LABEL: func.func @refine
// CHECK: %[[CUT:.*]] = kiln.entropy_cut %arg1 into %{{.*}} {fraction = 2.500000e-01 : f64} : tensor<1x1x32x64xf32> into tensor<1xf32> -> tensor<1xf32>
// CHECK: %[[TABLE:.*]] = kiln.refine_tiles %arg2 into %{{.*}} {tile = array<i64: 16, 16>} : tensor<1x1x32x64xi1> into tensor<17xi32> -> tensor<17xi32>
// CHECK: %[[WINDOWS:.*]] = kiln.gather_windows %arg0, %[[TABLE]] into %{{.*}} {halo = array<i64: 8, 8>, tile = array<i64: 32, 32>} : tensor<1x3x64x128xf32>, tensor<17xi32> into tensor<?x3x48x48xf32> -> tensor<?x3x48x48xf32>
// CHECK: kiln.merge_refined %arg3, %arg2, %arg4, %[[TABLE]] into %{{.*}} {halo = array<i64: 8, 8>, tile = array<i64: 32, 32>} : tensor<1x5x32x64xf32>, tensor<1x1x32x64xi1>, tensor<?x5x48x48xf32>, tensor<17xi32> into tensor<1x5x64x128xf32> -> tensor<1x5x64x128xf32>
func.func @refine(%image: tensor<1x3x64x128xf32>, %entropy: tensor<1x1x32x64xf32>, %mask: tensor<1x1x32x64xi1>, %low: tensor<1x5x32x64xf32>, %refined: tensor<?x5x48x48xf32>, %n: index) -> (tensor<1xf32>, tensor<?x3x48x48xf32>, tensor<1x5x64x128xf32>) {
  %c0 = tensor.empty() : tensor<1xf32>
  %cut = kiln.entropy_cut %entropy into %c0 {fraction = 0.25 : f64} : tensor<1x1x32x64xf32> into tensor<1xf32> -> tensor<1xf32>
  %t0 = tensor.empty() : tensor<17xi32>
  %table = kiln.refine_tiles %mask into %t0 {tile = array<i64: 16, 16>} : tensor<1x1x32x64xi1> into tensor<17xi32> -> tensor<17xi32>
  %w0 = tensor.empty(%n) : tensor<?x3x48x48xf32>
  %windows = kiln.gather_windows %image, %table into %w0 {tile = array<i64: 32, 32>, halo = array<i64: 8, 8>} : tensor<1x3x64x128xf32>, tensor<17xi32> into tensor<?x3x48x48xf32> -> tensor<?x3x48x48xf32>
  %o0 = tensor.empty() : tensor<1x5x64x128xf32>
  %out = kiln.merge_refined %low, %mask, %refined, %table into %o0 {tile = array<i64: 32, 32>, halo = array<i64: 8, 8>} : tensor<1x5x32x64xf32>, tensor<1x1x32x64xi1>, tensor<?x5x48x48xf32>, tensor<17xi32> into tensor<1x5x64x128xf32> -> tensor<1x5x64x128xf32>
  return %cut, %windows, %out : tensor<1xf32>, tensor<?x3x48x48xf32>, tensor<1x5x64x128xf32>
}

// -----

// The memref forms: no results.
// CHECK-LABEL: func.func @buffers
// CHECK: kiln.refine_tiles %arg0 into %arg1 {tile = array<i64: 5, 5>} : memref<1x1x12x12xi1> into memref<19xi32>
func.func @buffers(%mask: memref<1x1x12x12xi1>, %table: memref<19xi32>) {
  kiln.refine_tiles %mask into %table {tile = array<i64: 5, 5>} : memref<1x1x12x12xi1> into memref<19xi32>
  return
}
