// RUN: kiln-opt %s -split-input-file -kiln-layout-pack-contractions=vector-bits=256 | FileCheck %s

// W4A8: rows quantized to signed bytes with a scale each, by 4-bit
// weights whose group scales are integers (QoQ's), become the integer
// packed contraction on the bytes, then the rows' scales. On AVX2 (8
// lanes) 16 filters are one tile of two vectors: each channel quad is 32
// bytes, byte 4i + j holding channel j of filter i in its low nibble and
// of filter 8 + i in its high one. Channels 0-3 have q = f (bytes 0x80 x
// 4, 0x91 x 4, ..., 0xF7 x 4), channels 4-7 q = 15 - f (0x7F x 4, ...,
// 0x08 x 4). Per group and filter, i32 rows follow: the scale 2, the zero
// point 3 in each byte (0x03030303), and the starting sum -128 * sum(q -
// z): group 0 (q = f) -512 * (f - 3), so 1536 (0x600) for filter 0, 1024,
// 512, 0, -512 (0xFFFFFE00); group 1 (q = 15 - f) -512 * (12 - f), so
// -6144 (0xFFFFE800) for filter 0. Little-endian, after each blob's
// 4-byte alignment header.
// CHECK-LABEL: func.func @rows
// CHECK-DAG: %[[B:.*]] = "onnx.Constant"() <{value = dense_resource<{{.*}}> : tensor<16xf32>}>
// CHECK-DAG: %[[S:.*]] = "onnx.Constant"() <{value = dense_resource<[[SCALES:.*]]> : tensor<1x2x3x16xi32>}>
// CHECK-DAG: %[[W:.*]] = "onnx.Constant"() <{value = dense_resource<[[FILTER:.*]]> : tensor<1x1x1x2x8x4xi8>}>
// CHECK: %[[Q:.*]] = kiln.quantize %arg0 scale %arg1 {axis = 1 : i64, group_size = 8 : i64} : tensor<3x8xf32>, tensor<3x1xf32> -> tensor<3x8xi8>
// CHECK: %[[X:.*]] = tensor.expand_shape %[[Q]]
// CHECK: %[[Y:.*]] = kiln.packed_conv2d %[[X]], %[[W]] scales %[[S]], %[[B]] into %{{.*}} {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 4 : i64, narrow_filter, strides = array<i64: 1, 1>} : tensor<1x1x3x8xi8>, tensor<1x1x1x2x8x4xi8> scales tensor<1x2x3x16xi32>, tensor<16xf32> into tensor<1x1x3x16xf32>
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[Y]]
// CHECK: "onnx.Mul"(%[[ROWS]], %arg1)
// CHECK: [[SCALES]]: "0x4000000002000000020000000200000002000000020000000200000002000000020000000200000002000000020000000200000002000000020000000200000002000000030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030006000000040000000200000000000000FEFFFF{{.*}}020000000200000002000000020000000200000002000000020000000200000002000000020000000200000002000000020000000200000002000000020000000303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030303030300E8FFFF
// CHECK: [[FILTER]]: "0x400000008080808091919191A2A2A2A2B3B3B3B3C4C4C4C4D5D5D5D5E6E6E6E6F7F7F7F77F7F7F7F6E6E6E6E5D5D5D5D4C4C4C4C3B3B3B3B2A2A2A2A1919191908080808"
func.func @rows(%x: tensor<3x8xf32>, %rs: tensor<3x1xf32>) -> tensor<3x16xf32> {
  %xq = kiln.quantize %x scale %rs {axis = 1 : i64, group_size = 8 : i64} : tensor<3x8xf32>, tensor<3x1xf32> -> tensor<3x8xi8>
  %xd = kiln.dequantize %xq scale %rs {axis = 1 : i64, group_size = 8 : i64} : tensor<3x8xi8>, tensor<3x1xf32> -> tensor<3x8xf32>
  %q = "onnx.Constant"() {value = dense<[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0], [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0], [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0], [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]> : tensor<8x16xui4>} : () -> tensor<8x16xui4>
  %s = "onnx.Constant"() {value = dense<2.0> : tensor<2x16xf16>} : () -> tensor<2x16xf16>
  %z = "onnx.Constant"() {value = dense<3> : tensor<2x16xui4>} : () -> tensor<2x16xui4>
  %w = kiln.dequantize %q scale %s zero_point %z {group_size = 4 : i64} : tensor<8x16xui4>, tensor<2x16xf16>, tensor<2x16xui4> -> tensor<8x16xf32>
  %y = "onnx.MatMul"(%xd, %w) : (tensor<3x8xf32>, tensor<8x16xf32>) -> tensor<3x16xf32>
  return %y : tensor<3x16xf32>
}

// -----

// One static scale (0.5) and zero point (-4) for the whole input: the
// starting sums take the zero point too, -(128 - 4) * sum(q - z) (q = 3
// and z = 1: 4 * 2 per group, so -992 = 0xFFFFFC20), and the product is
// multiplied by the input's scale after.
// CHECK-LABEL: func.func @per_tensor
// CHECK: %[[SCALE:.*]] = "onnx.Constant"() <{value = dense<5.000000e-01> : tensor<f32>}>
// CHECK: kiln.packed_conv2d {{.*}} group_size = 4 : i64, narrow_filter{{.*}} : tensor<1x1x2x8xi8>, tensor<1x1x1x2x8x4xi8> scales tensor<1x2x3x16xi32>
// CHECK: "onnx.Mul"(%{{.*}}, %[[SCALE]])
// CHECK: 20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF20FCFFFF
func.func @per_tensor(%x: tensor<2x8xf32>) -> tensor<2x16xf32> {
  %scale = "onnx.Constant"() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %zero = "onnx.Constant"() {value = dense<-4> : tensor<i8>} : () -> tensor<i8>
  %xq = kiln.quantize %x scale %scale zero_point %zero : tensor<2x8xf32>, tensor<f32>, tensor<i8> -> tensor<2x8xi8>
  %xd = kiln.dequantize %xq scale %scale zero_point %zero : tensor<2x8xi8>, tensor<f32>, tensor<i8> -> tensor<2x8xf32>
  %q = "onnx.Constant"() {value = dense<3> : tensor<8x16xui4>} : () -> tensor<8x16xui4>
  %s = "onnx.Constant"() {value = dense<1.0> : tensor<2x16xf16>} : () -> tensor<2x16xf16>
  %z = "onnx.Constant"() {value = dense<1> : tensor<2x16xui4>} : () -> tensor<2x16xui4>
  %w = kiln.dequantize %q scale %s zero_point %z {group_size = 4 : i64} : tensor<8x16xui4>, tensor<2x16xf16>, tensor<2x16xui4> -> tensor<8x16xf32>
  %y = "onnx.MatMul"(%xd, %w) : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// Group scales that are not integers (AWQ's) leave the product to the
// 4-bit filter on f32 rows: the integer kernel would not be exact.
// CHECK-LABEL: func.func @float_scales
// CHECK: kiln.packed_conv2d {{.*}} : tensor<1x1x3x8xf32>, tensor<1x1x1x8x8xi8> scales tensor<1x2x2x16xf16>
func.func @float_scales(%x: tensor<3x8xf32>, %rs: tensor<3x1xf32>) -> tensor<3x16xf32> {
  %xq = kiln.quantize %x scale %rs {axis = 1 : i64, group_size = 8 : i64} : tensor<3x8xf32>, tensor<3x1xf32> -> tensor<3x8xi8>
  %xd = kiln.dequantize %xq scale %rs {axis = 1 : i64, group_size = 8 : i64} : tensor<3x8xi8>, tensor<3x1xf32> -> tensor<3x8xf32>
  %q = "onnx.Constant"() {value = dense<3> : tensor<8x16xui4>} : () -> tensor<8x16xui4>
  %s = "onnx.Constant"() {value = dense<0.5> : tensor<2x16xf16>} : () -> tensor<2x16xf16>
  %z = "onnx.Constant"() {value = dense<1> : tensor<2x16xui4>} : () -> tensor<2x16xui4>
  %w = kiln.dequantize %q scale %s zero_point %z {group_size = 4 : i64} : tensor<8x16xui4>, tensor<2x16xf16>, tensor<2x16xui4> -> tensor<8x16xf32>
  %y = "onnx.MatMul"(%xd, %w) : (tensor<3x8xf32>, tensor<8x16xf32>) -> tensor<3x16xf32>
  return %y : tensor<3x16xf32>
}
