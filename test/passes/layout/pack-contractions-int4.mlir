// RUN: kiln-opt %s -split-input-file -kiln-layout-pack-contractions=vector-bits=256 | FileCheck %s

// A MatMul by kiln.dequantize of 4-bit constants in groups becomes the
// packed contraction with the 4-bit filter, whatever the precision. On
// AVX2 (8 lanes) 16 filters are one tile of two vectors, so each input
// channel is 8 bytes: byte i holds filter i in its low nibble and filter
// 8 + i in its high one. Channel 0's q are 0..15 (bytes 0x80, 0x91, ...,
// 0xF7), channel 1's 15..0 (0x7F, 0x6E, ..., 0x08). The scales and zero
// points follow as f16 rows of the tile: 1.0 (0x3C00) and 3 (0x4200),
// little-endian after each blob's 4-byte alignment header.
// CHECK-LABEL: func.func @matmul
// CHECK-DAG: %[[W:.*]] = "onnx.Constant"() <{value = dense_resource<[[FILTER:.*]]> : tensor<1x1x1x2x8xi8>}>
// CHECK-DAG: %[[S:.*]] = "onnx.Constant"() <{value = dense_resource<[[SCALES:.*]]> : tensor<1x1x2x16xf16>}>
// CHECK-DAG: %[[B:.*]] = "onnx.Constant"() <{value = dense_resource<{{.*}}> : tensor<16xf32>}>
// CHECK: %[[X:.*]] = tensor.expand_shape %arg0
// CHECK: kiln.packed_conv2d %[[X]], %[[W]] scales %[[S]], %[[B]] into %{{.*}} {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 2 : i64, strides = array<i64: 1, 1>} : tensor<1x1x3x2xf32>, tensor<1x1x1x2x8xi8> scales tensor<1x1x2x16xf16>, tensor<16xf32> into tensor<1x1x3x16xf32>
// CHECK: [[FILTER]]: "0x400000008091A2B3C4D5E6F77F6E5D4C3B2A1908"
// CHECK: [[SCALES]]: "0x40000000003C003C003C003C003C003C003C003C003C003C003C003C003C003C003C003C0042004200420042004200420042004200420042004200420042004200420042"
func.func @matmul(%x: tensor<3x2xf32>) -> tensor<3x16xf32> {
  %q = "onnx.Constant"() {value = dense<[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]> : tensor<2x16xui4>} : () -> tensor<2x16xui4>
  %s = "onnx.Constant"() {value = dense<1.0> : tensor<1x16xf16>} : () -> tensor<1x16xf16>
  %z = "onnx.Constant"() {value = dense<3> : tensor<1x16xui4>} : () -> tensor<1x16xui4>
  %w = kiln.dequantize %q scale %s zero_point %z {group_size = 2 : i64} : tensor<2x16xui4>, tensor<1x16xf16>, tensor<1x16xui4> -> tensor<2x16xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<3x2xf32>, tensor<2x16xf32>) -> tensor<3x16xf32>
  return %y : tensor<3x16xf32>
}
