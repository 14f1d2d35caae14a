// RUN: kiln-opt %s -kiln-sparsity-sparse-refine="low-height=16 low-width=32 fraction=0.25 refiner=refiner ensembler=ensembler" | FileCheck %s

// A per-pixel classifier (a 3x3 Conv to 4 classes) of a 32x64 image from
// 16x32, refined by a trained U-Net of one level (a 3x3 submanifold Conv,
// a 2x2 stride-2 Conv down, BatchNormalization and ReLU there, a 2x2
// ConvTranspose up, the skip concatenated and a 1x1 Conv to the classes)
// on the 25% most uncertain pixels, blended by an ensembler of the
// upsampled and refined logits. The U-Net takes the image and the
// upsampled logits.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[IMAGE:.*]]: tensor<1x3x32x64xf32>) -> tensor<1x4x32x64xf32>
// CHECK: %[[LOW:.*]] = "onnx.Conv"(%{{.*}}) {{.*}} -> tensor<1x4x16x32xf32>
// CHECK: %[[MASK:.*]] = "onnx.GreaterOrEqual"
// The sites: every full-resolution pixel of a selected one.
// CHECK: %[[SITES:.*]] = kiln.list_sites %[[MASK]] into %{{.*}} {scale = array<i64: 2, 2>} : tensor<1x1x16x32xi1> into tensor<2049xi32>
// CHECK: %[[COUNT:.*]] = tensor.extract %[[SITES]][%{{.*}}] : tensor<2049xi32>
// CHECK: %[[N:.*]] = arith.index_cast %[[COUNT]] : i32 to index
// CHECK: %[[PIXELS:.*]] = kiln.gather_sites %[[IMAGE]], %[[SITES]] into %{{.*}} {scale = array<i64: 1, 1>} : tensor<1x3x32x64xf32>, tensor<2049xi32> into tensor<?x3xf32>
// CHECK: %[[UPSAMPLED:.*]] = kiln.gather_sites %[[LOW]], %[[SITES]] into %{{.*}} {scale = array<i64: 2, 2>} : tensor<1x4x16x32xf32>, tensor<2049xi32> into tensor<?x4xf32>
// The 3x3 Conv on the 7 channels, a submanifold one: the input's sites.
// CHECK: %[[INPUT:.*]] = "onnx.Concat"(%[[PIXELS]], %[[UPSAMPLED]]) <{axis = 1 : i64}> : (tensor<?x3xf32>, tensor<?x4xf32>) -> tensor<?x7xf32>
// CHECK: %[[SAME:.*]] = kiln.kernel_map %[[SITES]], %[[SITES]] into %{{.*}} {input_grid = array<i64: 32, 64>, kernel = array<i64: 3, 3>, output_grid = array<i64: 32, 64>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>}
// CHECK: %[[COLUMNS:.*]] = kiln.sparse_im2col %[[INPUT]], %[[SAME]] into %{{.*}} : tensor<?x7xf32>, tensor<?x9xi32> into tensor<?x63xf32>
// CHECK: %[[PRODUCT:.*]] = "onnx.MatMul"(%[[COLUMNS]], %{{.*}}) : (tensor<?x63xf32>, tensor<63x8xf32>) -> tensor<?x8xf32>
// CHECK: %[[SKIP:.*]] = "onnx.Relu"
// The stride-2 Conv: onto the coarse sites.
// CHECK: %[[COARSE:.*]] = kiln.coarse_sites %[[SITES]] into %{{.*}} {grid = array<i64: 32, 64>, stride = array<i64: 2, 2>} : tensor<2049xi32> into tensor<513xi32>
// CHECK: %[[DOWN:.*]] = kiln.kernel_map %[[SITES]], %[[COARSE]] into %{{.*}} {input_grid = array<i64: 32, 64>, kernel = array<i64: 2, 2>, output_grid = array<i64: 16, 32>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>}
// CHECK: kiln.sparse_im2col %[[SKIP]], %[[DOWN]] into %{{.*}} : tensor<?x8xf32>, tensor<?x4xi32> into tensor<?x32xf32>
// CHECK: "onnx.MatMul"(%{{.*}}, %{{.*}}) : (tensor<?x32xf32>, tensor<32x16xf32>) -> tensor<?x16xf32>
// The BatchNormalization as a scale and shift per channel.
// CHECK: "onnx.Mul"(%{{.*}}, %{{.*}}) : (tensor<?x16xf32>, tensor<1x16xf32>) -> tensor<?x16xf32>
// CHECK: "onnx.Add"(%{{.*}}, %{{.*}}) : (tensor<?x16xf32>, tensor<1x16xf32>) -> tensor<?x16xf32>
// CHECK: %[[DEEP:.*]] = "onnx.Relu"
// The ConvTranspose: every coarse row times the 4 offsets' filters, and
// back onto the fine sites.
// CHECK: %[[PRODUCTS:.*]] = "onnx.MatMul"(%[[DEEP]], %{{.*}}) : (tensor<?x16xf32>, tensor<16x32xf32>) -> tensor<?x32xf32>
// CHECK: %[[UP:.*]] = kiln.kernel_map %[[COARSE]], %[[SITES]] into %{{.*}} {input_grid = array<i64: 16, 32>, kernel = array<i64: 2, 2>, output_grid = array<i64: 32, 64>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>, transposed}
// CHECK: %[[SUMS:.*]] = kiln.sparse_col2im %[[PRODUCTS]], %[[UP]] into %{{.*}} : tensor<?x32xf32>, tensor<?x4xi32> into tensor<?x8xf32>
// CHECK: "onnx.Concat"(%[[SKIP]], %{{.*}}) <{axis = 1 : i64}> : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
// A 1x1 Conv is a MatMul of the rows.
// CHECK: %[[REFINED:.*]] = "onnx.Add"(%{{.*}}, %{{.*}}) : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
// The ensembler's blend.
// CHECK: "onnx.Sigmoid"
// CHECK: %[[BLENDED:.*]] = "onnx.Add"
// CHECK: %[[EVERYWHERE:.*]] = "onnx.Resize"(%[[LOW]], %{{.*}}) <{{{.*}}coordinate_transformation_mode = "asymmetric"{{.*}}mode = "nearest", nearest_mode = "floor"{{.*}}}>
// CHECK: %[[OUT:.*]] = kiln.scatter_sites %[[BLENDED]], %[[SITES]] into %[[EVERYWHERE]] : tensor<?x4xf32>, tensor<2049xi32> into tensor<1x4x32x64xf32>
// CHECK: return %[[OUT]]
// CHECK-NOT: func.func
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x4x32x64xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32>
  %b = "onnx.Constant"() {value = dense<0.25> : tensor<4xf32>} : () -> tensor<4xf32>
  %y = "onnx.Conv"(%x, %w, %b) {pads = [1, 1, 1, 1]} : (tensor<1x3x32x64xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x32x64xf32>
  return %y : tensor<1x4x32x64xf32>
}

func.func @refiner(%x: tensor<1x3x?x?xf32>, %l: tensor<1x4x?x?xf32>) -> tensor<1x4x?x?xf32> {
  %in = "onnx.Concat"(%x, %l) {axis = 1 : i64} : (tensor<1x3x?x?xf32>, tensor<1x4x?x?xf32>) -> tensor<1x7x?x?xf32>
  %w0 = "onnx.Constant"() {value = dense<0.1> : tensor<8x7x3x3xf32>} : () -> tensor<8x7x3x3xf32>
  %c0 = "onnx.Conv"(%in, %w0) {pads = [1, 1, 1, 1]} : (tensor<1x7x?x?xf32>, tensor<8x7x3x3xf32>) -> tensor<1x8x?x?xf32>
  %r0 = "onnx.Relu"(%c0) : (tensor<1x8x?x?xf32>) -> tensor<1x8x?x?xf32>
  %w1 = "onnx.Constant"() {value = dense<0.2> : tensor<16x8x2x2xf32>} : () -> tensor<16x8x2x2xf32>
  %c1 = "onnx.Conv"(%r0, %w1) {strides = [2, 2]} : (tensor<1x8x?x?xf32>, tensor<16x8x2x2xf32>) -> tensor<1x16x?x?xf32>
  %s = "onnx.Constant"() {value = dense<2.0> : tensor<16xf32>} : () -> tensor<16xf32>
  %t = "onnx.Constant"() {value = dense<0.5> : tensor<16xf32>} : () -> tensor<16xf32>
  %m = "onnx.Constant"() {value = dense<0.1> : tensor<16xf32>} : () -> tensor<16xf32>
  %v = "onnx.Constant"() {value = dense<4.0> : tensor<16xf32>} : () -> tensor<16xf32>
  %n = "onnx.BatchNormalization"(%c1, %s, %t, %m, %v) {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>, resultSegmentSizes = array<i32: 1, 0, 0>} : (tensor<1x16x?x?xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<1x16x?x?xf32>
  %r1 = "onnx.Relu"(%n) : (tensor<1x16x?x?xf32>) -> tensor<1x16x?x?xf32>
  %w2 = "onnx.Constant"() {value = dense<0.3> : tensor<16x8x2x2xf32>} : () -> tensor<16x8x2x2xf32>
  %u = "onnx.ConvTranspose"(%r1, %w2) {strides = [2, 2]} : (tensor<1x16x?x?xf32>, tensor<16x8x2x2xf32>) -> tensor<1x8x?x?xf32>
  %j = "onnx.Concat"(%r0, %u) {axis = 1 : i64} : (tensor<1x8x?x?xf32>, tensor<1x8x?x?xf32>) -> tensor<1x16x?x?xf32>
  %w3 = "onnx.Constant"() {value = dense<0.4> : tensor<4x16x1x1xf32>} : () -> tensor<4x16x1x1xf32>
  %b3 = "onnx.Constant"() {value = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %o = "onnx.Conv"(%j, %w3, %b3) : (tensor<1x16x?x?xf32>, tensor<4x16x1x1xf32>, tensor<4xf32>) -> tensor<1x4x?x?xf32>
  return %o : tensor<1x4x?x?xf32>
}

func.func @ensembler(%low: tensor<?x4xf32>, %refined: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %d = "onnx.Sub"(%refined, %low) : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %g = "onnx.Sigmoid"(%d) : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %p = "onnx.Mul"(%g, %d) : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %y = "onnx.Add"(%low, %p) : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
