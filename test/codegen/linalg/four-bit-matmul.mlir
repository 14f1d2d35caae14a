// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// A MatMul by 4-bit constant weights in groups along K becomes one product
// that reads them packed: the [K, N] = [4, 2] integers as [N, K / 2]
// bytes, k = 2j in byte j's low nibble and 2j + 1 in its high one (column
// 0: 15, 1, 3, 5 -> 0x1F, 0x53; column 1: 0, 2, 4, 6 -> 0x20, 0x64), the
// zero points as bytes; each element's nibble is `(byte >> shift) & 15`
// with the shift read through k mod 2. No dequantized matrix is written.
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$NIBBLES:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 2)>
// CHECK-DAG: #[[$SHIFT:.*]] = affine_map<(d0, d1, d2) -> (d2 mod 2)>
// CHECK-DAG: #[[$GROUP:.*]] = affine_map<(d0, d1, d2) -> (d2 floordiv 2, d1)>
// CHECK-DAG: #[[$Y:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @unsigned_groups
// CHECK-DAG: %[[MASK:.*]] = arith.constant 15 : i8
// CHECK-DAG: %[[SHIFTS:.*]] = arith.constant dense<[0, 4]> : tensor<2xi8>
// CHECK-DAG: %[[Q:.*]] = arith.constant dense_resource<nibbles> : tensor<2x2xi8>
// CHECK-DAG: %[[Z:.*]] = arith.constant dense_resource<zero_points> : tensor<2x2xi8>
// CHECK-DAG: %[[ROWS:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[INIT:.*]] = linalg.fill {{.*}} -> tensor<?x2xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$X]], #[[$NIBBLES]], #[[$SHIFT]], #[[$GROUP]], #[[$GROUP]], #[[$Y]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%arg0, %[[Q]], %[[SHIFTS]], %arg1, %[[Z]] : tensor<?x4xf32>, tensor<2x2xi8>, tensor<2xi8>, tensor<2x2xf16>, tensor<2x2xi8>) outs(%[[INIT]] : tensor<?x2xf32>)
// CHECK: ^bb0(%[[XV:.*]]: f32, %[[BYTE:.*]]: i8, %[[SHIFT:.*]]: i8, %[[S:.*]]: f16, %[[ZV:.*]]: i8, %[[ACC:.*]]: f32):
// CHECK: %[[SHIFTED:.*]] = arith.shrui %[[BYTE]], %[[SHIFT]] : i8
// CHECK: %[[NIBBLE:.*]] = arith.andi %[[SHIFTED]], %[[MASK]] : i8
// CHECK: %[[D:.*]] = arith.subi %[[NIBBLE]], %[[ZV]] : i8
// CHECK: %[[F:.*]] = arith.sitofp %[[D]] : i8 to f32
// CHECK: %[[SF:.*]] = arith.extf %[[S]] : f16 to f32
// CHECK: %[[W:.*]] = arith.mulf %[[F]], %[[SF]] : f32
// CHECK: %[[P:.*]] = arith.mulf %[[XV]], %[[W]] : f32
// CHECK: arith.addf %[[ACC]], %[[P]] : f32
// CHECK-NOT: linalg.matmul
// CHECK: nibbles: "0x400000001F532064"
// CHECK: zero_points: "0x4000000001020304"
func.func @unsigned_groups(%x: tensor<?x4xf32>, %s: tensor<2x2xf16>) -> tensor<?x2xf32> {
  %q = "onnx.Constant"() {value = dense<[[15, 0], [1, 2], [3, 4], [5, 6]]> : tensor<4x2xui4>} : () -> tensor<4x2xui4>
  %z = "onnx.Constant"() {value = dense<[[1, 2], [3, 4]]> : tensor<2x2xui4>} : () -> tensor<2x2xui4>
  %w = kiln.dequantize %q scale %s zero_point %z {group_size = 2 : i64} : tensor<4x2xui4>, tensor<2x2xf16>, tensor<2x2xui4> -> tensor<4x2xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Signed integers (no zero point) become unsigned ones with zero points
// of 8: column 0 [-8, -1, 1, 3] -> 0, 7, 9, 11 -> 0x70, 0xB9; column 1
// [7, 0, 2, -3] -> 15, 8, 10, 5 -> 0x8F, 0x5A. Batched rows keep their
// dimensions; f32 scales are read as they are.
// CHECK-LABEL: func.func @signed_without_zero_point
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK-SAME: tensor<2x3x4xf32>, tensor<2x2xi8>, tensor<2xi8>, tensor<1x2xf32>, tensor<1x2xi8>
// CHECK-NOT: arith.extf
// CHECK: linalg.yield
// CHECK: nibbles: "0x4000000070B98F5A"
// CHECK: zero_points: "0x400000000808"
func.func @signed_without_zero_point(%x: tensor<2x3x4xf32>, %s: tensor<1x2xf32>) -> tensor<2x3x2xf32> {
  %q = "onnx.Constant"() {value = dense<[[-8, 7], [-1, 0], [1, 2], [3, -3]]> : tensor<4x2xi4>} : () -> tensor<4x2xi4>
  %w = kiln.dequantize %q scale %s {group_size = 4 : i64} : tensor<4x2xi4>, tensor<1x2xf32> -> tensor<4x2xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<2x3x4xf32>, tensor<4x2xf32>) -> tensor<2x3x2xf32>
  return %y : tensor<2x3x2xf32>
}

// -----

// An odd K cannot be paired into bytes: the dequantization and the
// product are lowered apart.
// CHECK-LABEL: func.func @odd_channels
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %arg1, %{{.*}} : tensor<3x2xi4>, tensor<1x2xf16>, tensor<1x2xi4>)
// CHECK: linalg.matmul
func.func @odd_channels(%x: tensor<5x3xf32>, %s: tensor<1x2xf16>) -> tensor<5x2xf32> {
  %q = "onnx.Constant"() {value = dense<[[1, 2], [3, 4], [5, 6]]> : tensor<3x2xui4>} : () -> tensor<3x2xui4>
  %z = "onnx.Constant"() {value = dense<[[1, 2]]> : tensor<1x2xui4>} : () -> tensor<1x2xui4>
  %w = kiln.dequantize %q scale %s zero_point %z {group_size = 3 : i64} : tensor<3x2xui4>, tensor<1x2xf16>, tensor<1x2xui4> -> tensor<3x2xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}

// -----

// Rows whose last size is known only at run time (after a symbolic
// reshape) are cast to the weights' K.
// CHECK-LABEL: func.func @rows_of_unknown_size
// CHECK: %[[ROWS:.*]] = tensor.cast %arg0 : tensor<?x?xf32> to tensor<?x4xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[ROWS]], {{.*}} : tensor<?x4xf32>,
func.func @rows_of_unknown_size(%x: tensor<?x?xf32>, %s: tensor<1x2xf16>) -> tensor<?x2xf32> {
  %q = "onnx.Constant"() {value = dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xui4>} : () -> tensor<4x2xui4>
  %w = kiln.dequantize %q scale %s {group_size = 4 : i64} : tensor<4x2xui4>, tensor<1x2xf16> -> tensor<4x2xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<?x?xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// W4A8: rows of signed bytes with a scale each (their kiln.dequantize) by
// 4-bit weights whose group scales are small integers become the integer
// product of the bytes (i32), each weight `q * s - z * s` computed in
// bytes (the scales as bytes [2, 1, 1, 3]; the zero points times them,
// [1 * 2, 2 * 1, 3 * 1, 4 * 3] = [2, 2, 3, 12]), then each row's sums
// times its scale.
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$ROW:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @integer_rows
// CHECK-DAG: %[[S:.*]] = arith.constant dense_resource<group_scales> : tensor<2x2xi8>
// CHECK-DAG: %[[ZS:.*]] = arith.constant dense_resource<scaled_zero_points> : tensor<2x2xi8>
// CHECK: %[[SUMS:.*]] = linalg.generic
// CHECK-SAME: ins(%arg0, %{{.*}}, %{{.*}}, %[[S]], %[[ZS]] : tensor<3x4xi8>, tensor<2x2xi8>, tensor<2xi8>, tensor<2x2xi8>, tensor<2x2xi8>) outs(%{{.*}} : tensor<3x2xi32>)
// CHECK: ^bb0(%[[XV:.*]]: i8, %[[BYTE:.*]]: i8, %[[SHIFT:.*]]: i8, %[[SV:.*]]: i8, %[[ZV:.*]]: i8, %[[ACC:.*]]: i32):
// CHECK: %[[NIBBLE:.*]] = arith.andi
// CHECK: %[[SCALED:.*]] = arith.muli %[[NIBBLE]], %[[SV]] : i8
// CHECK: %[[W:.*]] = arith.subi %[[SCALED]], %[[ZV]] : i8
// CHECK: %[[XW:.*]] = arith.extsi %[[XV]] : i8 to i32
// CHECK: %[[WW:.*]] = arith.extsi %[[W]] : i8 to i32
// CHECK: %[[P:.*]] = arith.muli %[[XW]], %[[WW]] : i32
// CHECK: arith.addi %[[ACC]], %[[P]] : i32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$ROW]], #{{.*}}]
// CHECK-SAME: ins(%[[SUMS]], %arg1 : tensor<3x2xi32>, tensor<3x1xf32>)
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: group_scales: "0x4000000002010103"
// CHECK: scaled_zero_points: "0x400000000202030C"
func.func @integer_rows(%x: tensor<3x4xi8>, %r: tensor<3x1xf32>) -> tensor<3x2xf32> {
  %rows = kiln.dequantize %x scale %r {axis = 1 : i64, group_size = 4 : i64} : tensor<3x4xi8>, tensor<3x1xf32> -> tensor<3x4xf32>
  %q = "onnx.Constant"() {value = dense<[[15, 0], [1, 2], [3, 4], [5, 6]]> : tensor<4x2xui4>} : () -> tensor<4x2xui4>
  %z = "onnx.Constant"() {value = dense<[[1, 2], [3, 4]]> : tensor<2x2xui4>} : () -> tensor<2x2xui4>
  %s = "onnx.Constant"() {value = dense<[[2.0, 1.0], [1.0, 3.0]]> : tensor<2x2xf16>} : () -> tensor<2x2xf16>
  %w = kiln.dequantize %q scale %s zero_point %z {group_size = 2 : i64} : tensor<4x2xui4>, tensor<2x2xf16>, tensor<2x2xui4> -> tensor<4x2xf32>
  %y = "onnx.MatMul"(%rows, %w) : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A scale that is no small integer keeps the float product.
// CHECK-LABEL: func.func @fractional_group_scale
// CHECK-NOT: group_scales
// CHECK: arith.sitofp {{.*}} : i8 to f32
// CHECK: arith.extf
func.func @fractional_group_scale(%x: tensor<3x4xi8>, %r: tensor<3x1xf32>) -> tensor<3x2xf32> {
  %rows = kiln.dequantize %x scale %r {axis = 1 : i64, group_size = 4 : i64} : tensor<3x4xi8>, tensor<3x1xf32> -> tensor<3x4xf32>
  %q = "onnx.Constant"() {value = dense<[[15, 0], [1, 2], [3, 4], [5, 6]]> : tensor<4x2xui4>} : () -> tensor<4x2xui4>
  %s = "onnx.Constant"() {value = dense<[[2.5, 1.0]]> : tensor<1x2xf16>} : () -> tensor<1x2xf16>
  %w = kiln.dequantize %q scale %s {group_size = 4 : i64} : tensor<4x2xui4>, tensor<1x2xf16> -> tensor<4x2xf32>
  %y = "onnx.MatMul"(%rows, %w) : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// With N, K and the groups multiples of 32 the integer form's weights take
// the INT8 tensor cores' fragment order (FourBitProducts.h): the nibbles
// [N/32, K/32, 8, 4, 2, 2, 4], lane 4r + c's 16 bytes of a 32 x 32 tile
// holding k = 16h + 4c + e of columns 8a + r (low nibble) and 8a + r + 16
// (high); the groups [K/G, N/32, 8, 4], columns 8a + r at 4r + a. Here q is
// k mod 16, so lane 0's bytes are 0x00, 0x11, 0x22, 0x33 (e = 0-3) for
// each (h, a), lane 1's 0x44 to 0x77; the scale of column n is 1 + n mod
// 16, so the first lane's four are columns 0, 8, 16 and 24: 1, 9, 1, 9,
// then columns 1, 9, 17, 25: 2, 10, 2, 10.
// CHECK-DAG: #[[$FRAGMENTS:.*]] = affine_map<(d0, d1, d2) -> (d1 floordiv 32, d2 floordiv 32, d1 mod 8, (d2 mod 16) floordiv 4, (d2 mod 32) floordiv 16, (d1 mod 16) floordiv 8, d2 mod 4)>
// CHECK-DAG: #[[$HALF:.*]] = affine_map<(d0, d1, d2) -> ((d1 mod 32) floordiv 16)>
// CHECK-DAG: #[[$GROUPS:.*]] = affine_map<(d0, d1, d2) -> (d2 floordiv 32, d1 floordiv 32, d1 mod 8, (d1 mod 32) floordiv 8)>
// CHECK-LABEL: func.func @fragment_order
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$FRAGMENTS]], #[[$HALF]], #[[$GROUPS]], #[[$GROUPS]], #{{.*}}]
// CHECK-SAME: tensor<2x32xi8>, tensor<1x1x8x4x2x2x4xi8>, tensor<2xi8>, tensor<1x1x8x4xi8>, tensor<1x1x8x4xi8>
// CHECK: nibble_fragments: "0x400000000011223300112233001122330011223344556677445566774455667744556677
// CHECK: group_scales: "0x4000000001090109020A020A
func.func @fragment_order(%x: tensor<2x32xi8>, %r: tensor<2x1xf32>) -> tensor<2x32xf32> {
  %rows = kiln.dequantize %x scale %r {axis = 1 : i64, group_size = 32 : i64} : tensor<2x32xi8>, tensor<2x1xf32> -> tensor<2x32xf32>
  %q = "onnx.Constant"() {value = dense<[[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5], [6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6], [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7], [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8], [9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9], [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10], [11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13], [14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14], [15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5], [6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6], [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7], [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8], [9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9], [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10], [11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13], [14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14], [15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15]]> : tensor<32x32xui4>} : () -> tensor<32x32xui4>
  %z = "onnx.Constant"() {value = dense<8> : tensor<1x32xui4>} : () -> tensor<1x32xui4>
  %s = "onnx.Constant"() {value = dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]]> : tensor<1x32xf16>} : () -> tensor<1x32xf16>
  %w = kiln.dequantize %q scale %s zero_point %z {group_size = 32 : i64} : tensor<32x32xui4>, tensor<1x32xf16>, tensor<1x32xui4> -> tensor<32x32xf32>
  %y = "onnx.MatMul"(%rows, %w) : (tensor<2x32xf32>, tensor<32x32xf32>) -> tensor<2x32xf32>
  return %y : tensor<2x32xf32>
}
