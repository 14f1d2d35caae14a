// RUN: kiln-opt %s -split-input-file -kiln-layout-pack-contractions | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-layout-pack-contractions=vector-bits=256 | FileCheck %s --check-prefix=AVX2

// A padded, strided Conv: the input goes channels-last (the padding stays
// an attribute: the kernel reads zeros there), the filter is packed
// [F/F0, KH, KW, C, F0] with F0 = 32 (24 filters pad to 32 in tiles of 16
// or 32 lanes; the wider wins), and the result comes back as NCHW. AVX2
// packs them in one tile of 24 (three 8-lane vectors).
// CHECK-LABEL: func.func @conv
// CHECK-DAG: %[[W:.*]] = "onnx.Constant"() <{value = dense_resource<{{.*}}> : tensor<1x3x3x8x32xf32>}>
// CHECK-DAG: %[[B:.*]] = "onnx.Constant"() <{value = dense_resource<{{.*}}> : tensor<32xf32>}>
// CHECK: %[[NHWC:.*]] = "onnx.Transpose"(%arg0) <{perm = [0, 2, 3, 1]}> : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<1x4x4x24xf32>
// CHECK: %[[Y:.*]] = kiln.packed_conv2d %[[NHWC]], %[[W]], %[[B]] into %[[INIT]] {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
// CHECK: "onnx.Transpose"(%[[Y]]) <{perm = [0, 3, 1, 2]}> : (tensor<1x4x4x24xf32>) -> tensor<1x24x4x4xf32>
// AVX2-LABEL: func.func @conv
// AVX2: tensor<1x3x3x8x24xf32>
func.func @conv(%x: tensor<1x8x8x8xf32>) -> tensor<1x24x4x4xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<24x8x3x3xf32>} : () -> tensor<24x8x3x3xf32>
  %b = "onnx.Constant"() {value = dense<0.25> : tensor<24xf32>} : () -> tensor<24xf32>
  %y = "onnx.Conv"(%x, %w, %b) {pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x8x8x8xf32>, tensor<24x8x3x3xf32>, tensor<24xf32>) -> tensor<1x24x4x4xf32>
  return %y : tensor<1x24x4x4xf32>
}

// -----

// An image's three channels: the input is padded in memory instead, so
// that the kernel can run each window row's KW * C values as one loop.
// CHECK-LABEL: func.func @image
// CHECK: %[[NHWC:.*]] = "onnx.Transpose"(%arg0)
// CHECK: %[[PAD:.*]] = tensor.pad %[[NHWC]] low[0, 3, 3, 0] high[0, 3, 3, 0]
// CHECK: kiln.packed_conv2d %[[PAD]], {{.*}} {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<1x22x22x3xf32>
func.func @image(%x: tensor<1x3x16x16xf32>) -> tensor<1x16x8x8xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<16x3x7x7xf32>} : () -> tensor<16x3x7x7xf32>
  %y = "onnx.Conv"(%x, %w) {pads = [3, 3, 3, 3], strides = [2, 2]} : (tensor<1x3x16x16xf32>, tensor<16x3x7x7xf32>) -> tensor<1x16x8x8xf32>
  return %y : tensor<1x16x8x8xf32>
}

// -----

// A batched MatMul with a constant right operand: a 1x1 convolution over
// the image [1, B, S, K] of its rows; 100 filters take tiles of 16 on
// AVX-512 (112 padded).
// CHECK-LABEL: func.func @matmul
// CHECK: %[[I:.*]] = tensor.expand_shape %arg0 {{\[\[}}0, 1], [2], [3]] output_shape [1, 2, 5, 33] : tensor<2x5x33xf32> into tensor<1x2x5x33xf32>
// CHECK: %[[Y:.*]] = kiln.packed_conv2d %[[I]], %{{.*}}, %{{.*}} into %{{.*}} {{.*}} : tensor<1x2x5x33xf32>, tensor<7x1x1x33x16xf32>, tensor<112xf32> into tensor<1x2x5x100xf32>
// CHECK: tensor.collapse_shape %[[Y]] {{\[\[}}0, 1], [2], [3]] : tensor<1x2x5x100xf32> into tensor<2x5x100xf32>
func.func @matmul(%a: tensor<2x5x33xf32>) -> tensor<2x5x100xf32> {
  %b = "onnx.Constant"() {value = dense<1.0> : tensor<33x100xf32>} : () -> tensor<33x100xf32>
  %y = "onnx.MatMul"(%a, %b) : (tensor<2x5x33xf32>, tensor<33x100xf32>) -> tensor<2x5x100xf32>
  return %y : tensor<2x5x100xf32>
}

// -----

// Gemm with transB: alpha and beta fold into the packed weights and bias.
// CHECK-LABEL: func.func @gemm
// CHECK: kiln.packed_conv2d {{.*}} : tensor<1x1x4x3xf32>, tensor<1x1x1x3x16xf32>, tensor<16xf32> into tensor<1x1x4x5xf32>
func.func @gemm(%a: tensor<4x3xf32>) -> tensor<4x5xf32> {
  %b = "onnx.Constant"() {value = dense<1.0> : tensor<5x3xf32>} : () -> tensor<5x3xf32>
  %c = "onnx.Constant"() {value = dense<1.0> : tensor<5xf32>} : () -> tensor<5xf32>
  %y = "onnx.Gemm"(%a, %b, %c) {alpha = 0.5 : f32, beta = 2.0 : f32, transB = 1 : i64} : (tensor<4x3xf32>, tensor<5x3xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// Gemm over rows of a symbolic count (a Linear layer on the sites of a
// sparse network): packed the same way.
// CHECK-LABEL: func.func @gemm_symbolic_rows
// CHECK: kiln.packed_conv2d {{.*}} : tensor<1x1x?x3xf32>, tensor<1x1x1x3x16xf32>, tensor<16xf32> into tensor<1x1x?x5xf32>
func.func @gemm_symbolic_rows(%a: tensor<?x3xf32>) -> tensor<?x5xf32> {
  %b = "onnx.Constant"() {value = dense<1.0> : tensor<5x3xf32>} : () -> tensor<5x3xf32>
  %c = "onnx.Constant"() {value = dense<1.0> : tensor<5xf32>} : () -> tensor<5xf32>
  %y = "onnx.Gemm"(%a, %b, %c) {transB = 1 : i64} : (tensor<?x3xf32>, tensor<5x3xf32>, tensor<5xf32>) -> tensor<?x5xf32>
  return %y : tensor<?x5xf32>
}

// -----

// 192 outputs: in tiles of 64 filters (four 16-lane vectors) there would
// be three, which a one-row product (a decoder's step) splits 2:1
// between two threads; a matrix product takes four tiles of 48 instead.
// A convolution (whose pixels share the work) keeps three of 64. With
// 8 lanes (three vectors a tile at most), eight tiles of 24 are even
// already.
// CHECK-LABEL: func.func @even_tiles
// CHECK: kiln.packed_conv2d {{.*}} : tensor<1x?x?x64xf32>, tensor<4x1x1x64x48xf32>, tensor<192xf32> into tensor<1x?x?x192xf32>
// CHECK: kiln.packed_conv2d {{.*}} : tensor<1x4x4x64xf32>, tensor<3x1x1x64x64xf32>, tensor<192xf32> into tensor<1x4x4x192xf32>
// AVX2-LABEL: func.func @even_tiles
// AVX2: kiln.packed_conv2d {{.*}} : tensor<1x?x?x64xf32>, tensor<8x1x1x64x24xf32>, tensor<192xf32> into tensor<1x?x?x192xf32>
func.func @even_tiles(%a: tensor<?x?x64xf32>, %x: tensor<1x64x4x4xf32>) -> (tensor<?x?x192xf32>, tensor<1x192x4x4xf32>) {
  %b = "onnx.Constant"() {value = dense<1.0> : tensor<64x192xf32>} : () -> tensor<64x192xf32>
  %y = "onnx.MatMul"(%a, %b) : (tensor<?x?x64xf32>, tensor<64x192xf32>) -> tensor<?x?x192xf32>
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<192x64x1x1xf32>} : () -> tensor<192x64x1x1xf32>
  %z = "onnx.Conv"(%x, %w) : (tensor<1x64x4x4xf32>, tensor<192x64x1x1xf32>) -> tensor<1x192x4x4xf32>
  return %y, %z : tensor<?x?x192xf32>, tensor<1x192x4x4xf32>
}

// -----

// A depthwise Conv (one filter per channel): the filter goes [KH, KW, C].
// CHECK-LABEL: func.func @depthwise
// CHECK: %[[W:.*]] = "onnx.Constant"() <{value = dense_resource<{{.*}}> : tensor<3x3x4xf32>}>
// CHECK: %[[NHWC:.*]] = "onnx.Transpose"(%arg0) <{perm = [0, 2, 3, 1]}>
// CHECK: %[[Y:.*]] = kiln.depthwise_conv2d %[[NHWC]], %[[W]], %{{.*}} into %{{.*}} {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x5x5x4xf32>, tensor<3x3x4xf32>, tensor<4xf32> into tensor<1x3x3x4xf32>
// CHECK: "onnx.Transpose"(%[[Y]]) <{perm = [0, 3, 1, 2]}>
func.func @depthwise(%x: tensor<1x4x5x5xf32>) -> tensor<1x4x3x3xf32> {
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<4x1x3x3xf32>} : () -> tensor<4x1x3x3xf32>
  %z = "onnx.Conv"(%x, %w) {group = 4 : i64, pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x4x5x5xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %z : tensor<1x4x3x3xf32>
}

// -----

// An LLM's projection over symbolic batch and sequence: the rows stay an
// image [1, B, S, K] whose symbolic extents the kernel reads.
// CHECK-LABEL: func.func @matmul_symbolic
// CHECK-DAG: %[[B:.*]] = tensor.dim %arg0, %c0
// CHECK-DAG: %[[S:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[I:.*]] = tensor.expand_shape %arg0 {{\[\[}}0, 1], [2], [3]] output_shape [1, %[[B]], %[[S]], 64] : tensor<?x?x64xf32> into tensor<1x?x?x64xf32>
// CHECK: %[[Y:.*]] = kiln.packed_conv2d %[[I]], {{.*}} : tensor<1x?x?x64xf32>, tensor<1x1x1x64x32xf32>, tensor<32xf32> into tensor<1x?x?x32xf32>
// CHECK: tensor.collapse_shape %[[Y]] {{\[\[}}0, 1], [2], [3]] : tensor<1x?x?x32xf32> into tensor<?x?x32xf32>
func.func @matmul_symbolic(%a: tensor<?x?x64xf32>) -> tensor<?x?x32xf32> {
  %b = "onnx.Constant"() {value = dense<1.0> : tensor<64x32xf32>} : () -> tensor<64x32xf32>
  %y = "onnx.MatMul"(%a, %b) : (tensor<?x?x64xf32>, tensor<64x32xf32>) -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// -----

// Not packed: a weight computed at run time, grouped (not depthwise)
// convolutions, and symbolic rows of more than four dimensions stay for
// the generic lowering.
// CHECK-LABEL: func.func @unchanged
// CHECK-NOT: kiln.
// CHECK: onnx.MatMul
// CHECK: onnx.Conv
// CHECK: onnx.MatMul
func.func @unchanged(%a: tensor<4x3xf32>, %b: tensor<3x5xf32>, %x: tensor<1x4x5x5xf32>, %e: tensor<2x?x2x2x2x3xf32>) -> (tensor<4x5xf32>, tensor<1x4x5x5xf32>, tensor<2x?x2x2x2x5xf32>) {
  %y = "onnx.MatMul"(%a, %b) : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<4x2x1x1xf32>} : () -> tensor<4x2x1x1xf32>
  %z = "onnx.Conv"(%x, %w) {group = 2 : i64} : (tensor<1x4x5x5xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x5x5xf32>
  %c = "onnx.Constant"() {value = dense<1.0> : tensor<3x5xf32>} : () -> tensor<3x5xf32>
  %u = "onnx.MatMul"(%e, %c) : (tensor<2x?x2x2x2x3xf32>, tensor<3x5xf32>) -> tensor<2x?x2x2x2x5xf32>
  return %y, %z, %u : tensor<4x5xf32>, tensor<1x4x5x5xf32>, tensor<2x?x2x2x2x5xf32>
}

// -----

// Rows whose length is symbolic (an LLM's attention heads reshaped to
// [B, S, -1]) take the weight's K, which MatMul requires, and pack.
// CHECK-LABEL: func.func @matmul_symbolic_k
// CHECK: %[[A:.*]] = tensor.cast %arg0 : tensor<?x?x?xf32> to tensor<?x?x64xf32>
// CHECK: tensor.expand_shape %[[A]]
// CHECK: kiln.packed_conv2d {{.*}} : tensor<1x?x?x64xf32>, tensor<1x1x1x64x32xf32>, tensor<32xf32> into tensor<1x?x?x32xf32>
// CHECK-NOT: onnx.MatMul
func.func @matmul_symbolic_k(%a: tensor<?x?x?xf32>) -> tensor<?x?x32xf32> {
  %b = "onnx.Constant"() {value = dense<1.0> : tensor<64x32xf32>} : () -> tensor<64x32xf32>
  %y = "onnx.MatMul"(%a, %b) : (tensor<?x?x?xf32>, tensor<64x32xf32>) -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// -----

// An image of symbolic batch, height and width packs like a static one;
// the result's extents are computed from the channels-last input's.
// CHECK-LABEL: func.func @conv_symbolic
// CHECK: %[[NHWC:.*]] = "onnx.Transpose"(%arg0) <{perm = [0, 2, 3, 1]}> : (tensor<?x8x?x?xf32>) -> tensor<?x?x?x8xf32>
// CHECK: %[[N:.*]] = tensor.dim %[[NHWC]], %c0
// CHECK: %[[H:.*]] = tensor.dim %[[NHWC]], %c1
// CHECK: arith.floordivsi
// CHECK: %[[INIT:.*]] = tensor.empty(%[[N]], %{{.*}}, %{{.*}}) : tensor<?x?x?x16xf32>
// CHECK: kiln.packed_conv2d %[[NHWC]], %{{.*}}, %{{.*}} into %[[INIT]] {{.*}} : tensor<?x?x?x8xf32>, tensor<1x3x3x8x16xf32>, tensor<16xf32> into tensor<?x?x?x16xf32>
// CHECK: "onnx.Transpose"(%{{.*}}) <{perm = [0, 3, 1, 2]}> : (tensor<?x?x?x16xf32>) -> tensor<?x16x?x?xf32>
func.func @conv_symbolic(%x: tensor<?x8x?x?xf32>) -> tensor<?x16x?x?xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<16x8x3x3xf32>} : () -> tensor<16x8x3x3xf32>
  %y = "onnx.Conv"(%x, %w) {pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<?x8x?x?xf32>, tensor<16x8x3x3xf32>) -> tensor<?x16x?x?xf32>
  return %y : tensor<?x16x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @depthwise_symbolic
// CHECK: kiln.depthwise_conv2d {{.*}} : tensor<1x?x?x8xf32>, tensor<3x3x8xf32>, tensor<8xf32> into tensor<1x?x?x8xf32>
// SAME padding with a stride over a symbolic extent depends on it: the
// Conv stays for the generic lowering to report.
// CHECK-LABEL: func.func @same_strided_symbolic
// CHECK: "onnx.Conv"
func.func @depthwise_symbolic(%x: tensor<1x8x?x?xf32>) -> tensor<1x8x?x?xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<8x1x3x3xf32>} : () -> tensor<8x1x3x3xf32>
  %y = "onnx.Conv"(%x, %w) {group = 8 : i64, pads = [1, 1, 1, 1]} : (tensor<1x8x?x?xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x?x?xf32>
  return %y : tensor<1x8x?x?xf32>
}
func.func @same_strided_symbolic(%x: tensor<1x8x?x?xf32>) -> tensor<1x8x?x?xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<8x8x3x3xf32>} : () -> tensor<8x8x3x3xf32>
  %y = "onnx.Conv"(%x, %w) {auto_pad = "SAME_UPPER", strides = [2, 2]} : (tensor<1x8x?x?xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x?x?xf32>
  return %y : tensor<1x8x?x?xf32>
}

// -----

// A large window (3 x 3 x 320 values): 64 filters would make a filter
// panel of 720 KB, more than the 640 KB that keeps two panels (the one read
// and the next, prefetched) in L2; tiles of 32 filters make it 360 KB.
// AVX2 tiles take at most three vectors (24 filters; the microkernel's
// accumulators, filter vectors and broadcast in 16 registers): 64 filters
// are four tiles of 16, which 24 would pad to 72.
// CHECK-LABEL: func.func @large_panel
// CHECK: tensor<2x3x3x320x32xf32>
// AVX2-LABEL: func.func @large_panel
// AVX2: tensor<4x3x3x320x16xf32>
func.func @large_panel(%x: tensor<1x320x7x7xf32>) -> tensor<1x64x7x7xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<64x320x3x3xf32>} : () -> tensor<64x320x3x3xf32>
  %y = "onnx.Conv"(%x, %w) {pads = [1, 1, 1, 1]} : (tensor<1x320x7x7xf32>, tensor<64x320x3x3xf32>) -> tensor<1x64x7x7xf32>
  return %y : tensor<1x64x7x7xf32>
}
