// RUN: kiln-opt %s -kiln-sparsity-sparse-refine="low-height=16 low-width=32 fraction=0.25 tile=16 halo=8" | FileCheck %s
// RUN: kiln-opt %s -kiln-sparsity-sparse-refine="low-height=16 low-width=32 threshold=0.5 tile=16 halo=8" | FileCheck %s --check-prefix=THRESHOLD

// A per-pixel classifier (a 3x3 Conv to 4 classes) of a 32x64 image,
// refined from 16x32 in tiles of 16 with a halo of 8: the image averaged
// down, the Conv at 16x32, the entropy of its softmax over the classes,
// the cut of the 25% most uncertain pixels, the 2 x 4 tiles' table, their
// 32x32 windows, the Conv on them as a batch of symbolic size, and the
// merge. The original declared 32x64 shapes are gone from the copies.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[IMAGE:.*]]: tensor<1x3x32x64xf32>) -> tensor<1x4x32x64xf32>
// CHECK: %[[SMALL:.*]] = "onnx.AveragePool"(%[[IMAGE]]) <{{{.*}}kernel_shape = [2, 2]{{.*}}strides = [2, 2]}> : (tensor<1x3x32x64xf32>) -> tensor<1x3x16x32xf32>
// CHECK: %[[LOW:.*]] = "onnx.Conv"(%[[SMALL]], %{{.*}}, %{{.*}}) {{.*}} -> tensor<1x4x16x32xf32>
// CHECK: %[[P:.*]] = "onnx.Softmax"(%[[LOW]]) <{axis = 1 : i64}>
// CHECK: "onnx.Max"(%[[P]], %{{.*}})
// CHECK: "onnx.Log"
// CHECK: "onnx.Mul"
// CHECK: "onnx.ReduceSum"
// CHECK: %[[ENTROPY:.*]] = "onnx.Neg"({{.*}}) : (tensor<1x1x16x32xf32>) -> tensor<1x1x16x32xf32>
// CHECK: %[[CUT:.*]] = kiln.entropy_cut %[[ENTROPY]] into %{{.*}} {fraction = 2.500000e-01 : f64}
// CHECK: %[[MASK:.*]] = "onnx.GreaterOrEqual"(%[[ENTROPY]], %[[CUT]]) : (tensor<1x1x16x32xf32>, tensor<1xf32>) -> tensor<1x1x16x32xi1>
// CHECK: %[[TABLE:.*]] = kiln.refine_tiles %[[MASK]] into %{{.*}} {tile = array<i64: 8, 8>} : tensor<1x1x16x32xi1> into tensor<17xi32>
// CHECK: %[[COUNT:.*]] = tensor.extract %[[TABLE]][%{{.*}}] : tensor<17xi32>
// CHECK: %[[N:.*]] = arith.index_cast %[[COUNT]] : i32 to index
// CHECK: %[[EMPTY:.*]] = tensor.empty(%[[N]]) : tensor<?x3x32x32xf32>
// CHECK: %[[WINDOWS:.*]] = kiln.gather_windows %[[IMAGE]], %[[TABLE]] into %[[EMPTY]] {halo = array<i64: 8, 8>, tile = array<i64: 16, 16>}
// CHECK: %[[REFINED:.*]] = "onnx.Conv"(%[[WINDOWS]], %{{.*}}, %{{.*}})
// CHECK: %[[OUT:.*]] = kiln.merge_refined %[[LOW]], %[[MASK]], %{{.*}}, %[[TABLE]] into %{{.*}} {halo = array<i64: 8, 8>, tile = array<i64: 16, 16>} : tensor<1x4x16x32xf32>, tensor<1x1x16x32xi1>, tensor<?x4x32x32xf32>, tensor<17xi32> into tensor<1x4x32x64xf32>
// CHECK: return %[[OUT]]
// CHECK-NOT: func.func
// CHECK-NOT: module

// THRESHOLD-NOT: kiln.entropy_cut
// THRESHOLD: %[[T:.*]] = "onnx.Constant"() <{value = dense<5.000000e-01> : tensor<f32>}>
// THRESHOLD: "onnx.Greater"(%{{.*}}, %[[T]]) : (tensor<1x1x16x32xf32>, tensor<f32>) -> tensor<1x1x16x32xi1>
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x4x32x64xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32>
  %b = "onnx.Constant"() {value = dense<0.25> : tensor<4xf32>} : () -> tensor<4xf32>
  %y = "onnx.Conv"(%x, %w, %b) {pads = [1, 1, 1, 1]} : (tensor<1x3x32x64xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x32x64xf32>
  return %y : tensor<1x4x32x64xf32>
}
