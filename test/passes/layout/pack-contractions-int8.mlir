// RUN: kiln-opt %s -split-input-file -kiln-layout-pack-contractions=vector-bits=256 | FileCheck %s

// A MatMul of quantized activations (kiln.quantize then kiln.dequantize,
// one scale) by kiln.dequantize of an 8-bit weight with a scale per column
// becomes the integer contraction on the quantized rows. On AVX2 (8 lanes)
// the 8 filters are one tile, each input channel quad 4 bytes a filter:
// W[c][f] = (c + 1) * (f - 3), so filter 0's quad is -3, -6, -9, -12
// (FD FA F7 F4), ..., filter 7's 4, 8, 12, 16 (04 08 0C 10), after the
// blob's 4-byte alignment header. The scales hold 0.5 * 0.25 per filter.
// Every value is within [-64, 64]: the filter is narrow (vpmaddubsw
// cannot saturate on it).
// CHECK-LABEL: func.func @matmul
// CHECK-DAG: %[[W:.*]] = "onnx.Constant"() <{value = dense_resource<[[FILTER:.*]]> : tensor<1x1x1x1x8x4xi8>}>
// CHECK-DAG: %[[S:.*]] = "onnx.Constant"() <{value = dense_resource<{{.*}}> : tensor<1x2x8xf32>}>
// CHECK-DAG: %[[B:.*]] = "onnx.Constant"() <{value = dense_resource<{{.*}}> : tensor<8xf32>}>
// CHECK: %[[Q:.*]] = kiln.quantize %arg0 scale %{{.*}} : tensor<3x4xf32>, tensor<f32> -> tensor<3x4xi8>
// CHECK: %[[X:.*]] = tensor.expand_shape %[[Q]] {{.*}} : tensor<3x4xi8> into tensor<1x1x3x4xi8>
// CHECK: kiln.packed_conv2d %[[X]], %[[W]] scales %[[S]], %[[B]] into %{{.*}} {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, narrow_filter, strides = array<i64: 1, 1>} : tensor<1x1x3x4xi8>, tensor<1x1x1x1x8x4xi8> scales tensor<1x2x8xf32>, tensor<8xf32> into tensor<1x1x3x8xf32>
// CHECK: [[FILTER]]: "0x40000000FDFAF7F4FEFCFAF8FFFEFDFC00000000010203040204060803060{{9}}0C04080C10"
func.func @matmul(%x: tensor<3x4xf32>) -> tensor<3x8xf32> {
  %sx = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %q = kiln.quantize %x scale %sx : tensor<3x4xf32>, tensor<f32> -> tensor<3x4xi8>
  %a = kiln.dequantize %q scale %sx : tensor<3x4xi8>, tensor<f32> -> tensor<3x4xf32>
  %wq = "onnx.Constant"() {value = dense<[[-3, -2, -1, 0, 1, 2, 3, 4], [-6, -4, -2, 0, 2, 4, 6, 8], [-9, -6, -3, 0, 3, 6, 9, 12], [-12, -8, -4, 0, 4, 8, 12, 16]]> : tensor<4x8xi8>} : () -> tensor<4x8xi8>
  %sw = "onnx.Constant"() {value = dense<0.25> : tensor<8xf32>} : () -> tensor<8xf32>
  %w = kiln.dequantize %wq scale %sw {axis = 1 : i64} : tensor<4x8xi8>, tensor<8xf32> -> tensor<4x8xf32>
  %y = "onnx.MatMul"(%a, %w) : (tensor<3x4xf32>, tensor<4x8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// A Conv of quantized activations by an 8-bit filter with a scale per
// output channel: the activations are quantized again after the transpose
// to channels-last, and an image's three channels are padded to a quad
// (and its border in memory) with integer zeros.
// CHECK-LABEL: func.func @conv
// CHECK: %[[T:.*]] = "onnx.Transpose"(%arg0) <{perm = [0, 2, 3, 1]}>
// CHECK: %[[Q:.*]] = kiln.quantize %[[T]] scale %{{.*}} : tensor<1x5x5x3xf32>, tensor<f32> -> tensor<1x5x5x3xi8>
// CHECK: %[[P:.*]] = tensor.pad %[[Q]] low[0, 1, 1, 0] high[0, 1, 1, 1]
// CHECK: tensor.yield %c0_i8 : i8
// CHECK: kiln.packed_conv2d %[[P]], %{{.*}} scales %{{.*}}, %{{.*}} into %{{.*}} {{.*}} : tensor<1x7x7x4xi8>, tensor<1x3x3x1x8x4xi8> scales tensor<1x2x8xf32>, tensor<8xf32> into tensor<1x5x5x2xf32>
func.func @conv(%x: tensor<1x3x5x5xf32>) -> tensor<1x2x5x5xf32> {
  %sx = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %q = kiln.quantize %x scale %sx : tensor<1x3x5x5xf32>, tensor<f32> -> tensor<1x3x5x5xi8>
  %a = kiln.dequantize %q scale %sx : tensor<1x3x5x5xi8>, tensor<f32> -> tensor<1x3x5x5xf32>
  %wq = "onnx.Constant"() {value = dense<1> : tensor<2x3x3x3xi8>} : () -> tensor<2x3x3x3xi8>
  %sw = "onnx.Constant"() {value = dense<0.25> : tensor<2xf32>} : () -> tensor<2xf32>
  %w = kiln.dequantize %wq scale %sw {axis = 0 : i64} : tensor<2x3x3x3xi8>, tensor<2xf32> -> tensor<2x3x3x3xf32>
  %y = "onnx.Conv"(%a, %w) {pads = [1, 1, 1, 1]} : (tensor<1x3x5x5xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x5x5xf32>
  return %y : tensor<1x2x5x5xf32>
}

// -----

// A weight quantized per tensor takes the integer contraction, its scale
// repeated for every filter; a weight with zero points (asymmetric) does
// not: it is dequantized at compile time, for the f32 kernel.
// CHECK-LABEL: func.func @per_tensor_weight
// CHECK: kiln.packed_conv2d %{{.*}} : tensor<1x1x3x4xi8>, tensor<1x1x1x1x8x4xi8>
// CHECK: kiln.packed_conv2d %{{.*}} : tensor<1x1x3x4xf32>, tensor<1x1x1x4x8xf32>
// CHECK-NOT: kiln.dequantize %{{.*}} : tensor<4x8xi8>
func.func @per_tensor_weight(%x: tensor<3x4xf32>) -> (tensor<3x8xf32>, tensor<3x8xf32>) {
  %sx = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %q = kiln.quantize %x scale %sx : tensor<3x4xf32>, tensor<f32> -> tensor<3x4xi8>
  %a = kiln.dequantize %q scale %sx : tensor<3x4xi8>, tensor<f32> -> tensor<3x4xf32>
  %wq = "onnx.Constant"() {value = dense<1> : tensor<4x8xi8>} : () -> tensor<4x8xi8>
  %w = kiln.dequantize %wq scale %sx : tensor<4x8xi8>, tensor<f32> -> tensor<4x8xf32>
  %y = "onnx.MatMul"(%a, %w) : (tensor<3x4xf32>, tensor<4x8xf32>) -> tensor<3x8xf32>
  %zw = "onnx.Constant"() {value = dense<3> : tensor<i8>} : () -> tensor<i8>
  %v = kiln.dequantize %wq scale %sx zero_point %zw : tensor<4x8xi8>, tensor<f32>, tensor<i8> -> tensor<4x8xf32>
  %z = "onnx.MatMul"(%a, %v) : (tensor<3x4xf32>, tensor<4x8xf32>) -> tensor<3x8xf32>
  return %y, %z : tensor<3x8xf32>, tensor<3x8xf32>
}

// -----

// onnxruntime's QDQ form: unsigned activations with a zero point (138),
// one weight scale for every filter. The kernels read signed bytes: the
// same values less 128 (zero point 10), the image padded in memory with
// that zero point (the kernels pad with 0); each filter's compensation is
// (128 + 10) times the sum of its integers, 138 * 72 = 9936 (0x461B4000),
// and its scale 0.5 * 0.25 = 0.125 (0x3E000000).
// CHECK-LABEL: func.func @conv_unsigned
// CHECK-DAG: %[[PAD:.*]] = arith.constant 10 : i8
// CHECK-DAG: %[[Z:.*]] = "onnx.Constant"() <{value = dense<10> : tensor<i8>}>
// CHECK-DAG: %[[S:.*]] = "onnx.Constant"() <{value = dense_resource<[[SCALES:.*]]> : tensor<1x2x8xf32>}>
// CHECK: %[[T:.*]] = "onnx.Transpose"(%arg0) <{perm = [0, 2, 3, 1]}>
// CHECK: %[[Q:.*]] = kiln.quantize %[[T]] scale %{{.*}} zero_point %[[Z]] : tensor<1x5x5x8xf32>, tensor<f32>, tensor<i8> -> tensor<1x5x5x8xi8>
// CHECK: %[[P:.*]] = tensor.pad %[[Q]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: tensor.yield %[[PAD]] : i8
// CHECK: kiln.packed_conv2d %[[P]], %{{.*}} scales %[[S]], %{{.*}} into %{{.*}} {{.*}} : tensor<1x7x7x8xi8>
// CHECK: [[SCALES]]: "0x400000000000003E0000003E00000000000000000000000000000000000000000000000000401B4600401B46000000000000000000000000000000000000000000000000"
func.func @conv_unsigned(%x: tensor<1x8x5x5xf32>) -> tensor<1x2x5x5xf32> {
  %sx = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %zx = "onnx.Constant"() {value = dense<138> : tensor<ui8>} : () -> tensor<ui8>
  %q = kiln.quantize %x scale %sx zero_point %zx : tensor<1x8x5x5xf32>, tensor<f32>, tensor<ui8> -> tensor<1x8x5x5xui8>
  %a = kiln.dequantize %q scale %sx zero_point %zx : tensor<1x8x5x5xui8>, tensor<f32>, tensor<ui8> -> tensor<1x8x5x5xf32>
  %wq = "onnx.Constant"() {value = dense<1> : tensor<2x8x3x3xi8>} : () -> tensor<2x8x3x3xi8>
  %sw = "onnx.Constant"() {value = dense<0.25> : tensor<f32>} : () -> tensor<f32>
  %w = kiln.dequantize %wq scale %sw : tensor<2x8x3x3xi8>, tensor<f32> -> tensor<2x8x3x3xf32>
  %y = "onnx.Conv"(%a, %w) {pads = [1, 1, 1, 1]} : (tensor<1x8x5x5xf32>, tensor<2x8x3x3xf32>) -> tensor<1x2x5x5xf32>
  return %y : tensor<1x2x5x5xf32>
}

// -----

// A quantized weight no integer kernel takes (a depthwise convolution of
// floats) is dequantized at compile time for the floating-point kernel:
// 2 * 0.25 = 0.5 (0x3F000000) throughout.
// CHECK-LABEL: func.func @depthwise
// CHECK: %[[W:.*]] = "onnx.Constant"() <{value = dense_resource<[[HWC:.*]]> : tensor<3x3x8xf32>}>
// CHECK: kiln.depthwise_conv2d %{{.*}}, %[[W]]
// CHECK-NOT: kiln.dequantize
// CHECK: [[HWC]]: "0x400000000000003F0000003F
func.func @depthwise(%x: tensor<1x8x5x5xf32>) -> tensor<1x8x5x5xf32> {
  %wq = "onnx.Constant"() {value = dense<2> : tensor<8x1x3x3xi8>} : () -> tensor<8x1x3x3xi8>
  %sw = "onnx.Constant"() {value = dense<0.25> : tensor<f32>} : () -> tensor<f32>
  %w = kiln.dequantize %wq scale %sw : tensor<8x1x3x3xi8>, tensor<f32> -> tensor<8x1x3x3xf32>
  %y = "onnx.Conv"(%x, %w) {group = 8 : i64, pads = [1, 1, 1, 1]} : (tensor<1x8x5x5xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x5x5xf32>
  return %y : tensor<1x8x5x5xf32>
}
