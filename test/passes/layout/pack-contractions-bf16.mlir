// RUN: kiln-opt %s -split-input-file -kiln-layout-pack-contractions=precision=bf16 | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-layout-pack-contractions="precision=bf16 bf16-activations=false" | FileCheck %s --check-prefix=WEIGHTS

// BF16 pairs adjacent channels: the filter is [F/F0, KH, KW, C/2, F0, 2],
// rounded to the nearest bf16 with ties to even. K = 3 is odd, so the
// packed K is 4 with a zero channel, and the cast input is padded to
// match. The blob (after its 4-byte alignment header) starts with filter
// 0's pair (1.00390625 -> 0x3F80, the tie rounding down to even; 3.0 ->
// 0x4040), then filter 1's (2.0 -> 0x4000; 1.01171875 -> 0x3F82, the tie
// rounding up to even), little-endian; the bias stays f32.
// CHECK-LABEL: func.func @matmul
// CHECK-DAG: %[[B:.*]] = "onnx.Constant"() <{value = dense_resource<[[BIAS:.*]]> : tensor<16xf32>}>
// CHECK-DAG: %[[W:.*]] = "onnx.Constant"() <{value = dense_resource<[[FILTER:.*]]> : tensor<1x1x1x2x16x2xbf16>}>
// CHECK: %[[CAST:.*]] = "onnx.Cast"(%{{.*}}) <{round_mode = "up", saturate = 1 : i64, to = 16 : i64}> : (tensor<1x1x5x3xf32>) -> tensor<1x1x5x3xbf16>
// CHECK: %[[PAD:.*]] = tensor.pad %[[CAST]] low[0, 0, 0, 0] high[0, 0, 0, 1]
// CHECK: tensor<1x1x5x3xbf16> to tensor<1x1x5x4xbf16>
// CHECK: kiln.packed_conv2d %[[PAD]], %[[W]], %[[B]] into %{{.*}} : tensor<1x1x5x4xbf16>, tensor<1x1x1x2x16x2xbf16>, tensor<16xf32> into tensor<1x1x5x2xf32>
// CHECK: [[FILTER]]: "0x40000000803F40400040823F0000
func.func @matmul(%x: tensor<5x3xf32>) -> tensor<5x2xf32> {
  %w = "onnx.Constant"() {value = dense<[[1.00390625, 2.0], [3.0, 1.01171875], [5.0, 6.0]]> : tensor<3x2xf32>} : () -> tensor<3x2xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}

// -----

// A padded Conv with even channels: the NHWC input is cast, nothing is
// copied for the padding (the kernel reads zeros there).
// CHECK-LABEL: func.func @conv
// CHECK: %[[NHWC:.*]] = "onnx.Transpose"(%arg0) <{perm = [0, 2, 3, 1]}>
// CHECK: %[[CAST:.*]] = "onnx.Cast"(%[[NHWC]]) {{.*}} -> tensor<1x8x8x8xbf16>
// CHECK-NOT: tensor.pad
// CHECK: kiln.packed_conv2d %[[CAST]], {{.*}} pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<1x8x8x8xbf16>, tensor<1x3x3x4x32x2xbf16>, tensor<32xf32> into tensor<1x4x4x24xf32>
func.func @conv(%x: tensor<1x8x8x8xf32>) -> tensor<1x24x4x4xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<24x8x3x3xf32>} : () -> tensor<24x8x3x3xf32>
  %b = "onnx.Constant"() {value = dense<0.25> : tensor<24xf32>} : () -> tensor<24xf32>
  %y = "onnx.Conv"(%x, %w, %b) {pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x8x8x8xf32>, tensor<24x8x3x3xf32>, tensor<24xf32>) -> tensor<1x24x4x4xf32>
  return %y : tensor<1x24x4x4xf32>
}

// -----

// An image: one pad in memory, spatial and the fourth (zero) channel.
// CHECK-LABEL: func.func @image
// CHECK: %[[CAST:.*]] = "onnx.Cast"
// CHECK: %[[PAD:.*]] = tensor.pad %[[CAST]] low[0, 3, 3, 0] high[0, 3, 3, 1]
// CHECK: kiln.packed_conv2d %[[PAD]], {{.*}} : tensor<1x22x22x4xbf16>, tensor<1x7x7x2x16x2xbf16>, tensor<16xf32> into tensor<1x8x8x16xf32>
func.func @image(%x: tensor<1x3x16x16xf32>) -> tensor<1x16x8x8xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<16x3x7x7xf32>} : () -> tensor<16x3x7x7xf32>
  %y = "onnx.Conv"(%x, %w) {pads = [3, 3, 3, 3], strides = [2, 2]} : (tensor<1x3x16x16xf32>, tensor<16x3x7x7xf32>) -> tensor<1x16x8x8xf32>
  return %y : tensor<1x16x8x8xf32>
}

// -----

// Depthwise convolutions read a bf16 input, with f32 filters and
// arithmetic.
// CHECK-LABEL: func.func @depthwise
// CHECK: %[[CAST:.*]] = "onnx.Cast"({{.*}}) {{.*}} -> tensor<1x8x8x8xbf16>
// CHECK: kiln.depthwise_conv2d %[[CAST]], {{.*}} : tensor<1x8x8x8xbf16>, tensor<3x3x8xf32>, tensor<8xf32> into tensor<1x8x8x8xf32>
func.func @depthwise(%x: tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<8x1x3x3xf32>} : () -> tensor<8x1x3x3xf32>
  %y = "onnx.Conv"(%x, %w) {group = 8 : i64, pads = [1, 1, 1, 1]} : (tensor<1x8x8x8xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x8x8xf32>
  return %y : tensor<1x8x8x8xf32>
}

// -----

// With bf16-activations=false (a CPU without BF16 arithmetic) the filter
// alone is bf16, in the f32 layout [F/F0, KH, KW, C, F0] (no zero channel
// for K = 3); the input is not cast.
// WEIGHTS-LABEL: func.func @weights_only
// WEIGHTS: "onnx.Constant"() <{value = dense_resource<{{.*}}> : tensor<1x1x1x3x16xbf16>}>
// WEIGHTS-NOT: onnx.Cast
// WEIGHTS: kiln.packed_conv2d {{.*}} : tensor<1x1x5x3xf32>, tensor<1x1x1x3x16xbf16>, tensor<16xf32> into tensor<1x1x5x2xf32>
func.func @weights_only(%x: tensor<5x3xf32>) -> tensor<5x2xf32> {
  %w = "onnx.Constant"() {value = dense<[[1.00390625, 2.0], [3.0, 1.01171875], [5.0, 6.0]]> : tensor<3x2xf32>} : () -> tensor<3x2xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}
