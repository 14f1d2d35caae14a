// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// Each operand widened to i32 with its signedness, less its zero point
// (per row of A, per column of B), then an i32 matmul.
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$COLUMN:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @matmul_integer
// CHECK: %[[A:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ID]]]
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.extui
// CHECK: arith.subi
// CHECK: %[[B:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$COLUMN]], #[[$ID]]]
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.extsi
// CHECK: arith.subi
// CHECK: linalg.matmul ins(%[[A]], %[[B]] : tensor<2x3xi32>, tensor<3x4xi32>)
func.func @matmul_integer(%a: tensor<2x3xui8>, %b: tensor<3x4xi8>, %za: tensor<2xui8>, %zb: tensor<4xi8>) -> tensor<2x4xi32> {
  %y = "onnx.MatMulInteger"(%a, %b, %za, %zb) {operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<2x3xui8>, tensor<3x4xi8>, tensor<2xui8>, tensor<4xi8>) -> tensor<2x4xi32>
  return %y : tensor<2x4xi32>
}

// -----

// The filter less its per-channel zero points, the input padded with
// zeros after its zero point is taken off, an integer contraction from
// the i32 bias, and the requantization: acc * (sx * sw[f] / sy) in f64,
// rounded half to even, plus the output's zero point, saturated to 0..255.
// CHECK-DAG: #[[$SCALAR:.*]] = affine_map<(d0, d1, d2, d3) -> ()>
// CHECK-DAG: #[[$CHANNEL:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @qlinear_conv
// CHECK: tensor.pad
// CHECK: tensor.yield %c0_i32 : i32
// CHECK: arith.muli %{{.*}} : i32
// CHECK: arith.addi %{{.*}} : i32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$SCALAR]], #[[$CHANNEL]], #[[$SCALAR]], #[[$SCALAR]], #{{.*}}]
// CHECK: ^bb0(%[[ACC:.*]]: i32, %[[SX:.*]]: f32, %[[SW:.*]]: f32, %[[SY:.*]]: f32, %[[ZY:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[P:.*]] = arith.mulf %[[SX]], %[[SW]] : f32
// CHECK: %[[M:.*]] = arith.divf %[[P]], %[[SY]] : f32
// CHECK: %[[M64:.*]] = arith.extf %[[M]] : f32 to f64
// CHECK: %[[A64:.*]] = arith.sitofp %[[ACC]] : i32 to f64
// CHECK: %[[V:.*]] = arith.mulf %[[A64]], %[[M64]] : f64
// CHECK: %[[R:.*]] = math.roundeven %[[V]] : f64
// CHECK: %[[Z:.*]] = arith.uitofp %[[ZY]] : i8 to f64
// CHECK: arith.addf %[[R]], %[[Z]] : f64
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.fptoui %{{.*}} : f64 to i8
// CHECK: tensor.bitcast %{{.*}} : tensor<1x3x4x4xi8> to tensor<1x3x4x4xui8>
func.func @qlinear_conv(%x: tensor<1x2x4x4xui8>, %xs: tensor<f32>, %xz: tensor<ui8>, %w: tensor<3x2x3x3xi8>, %ws: tensor<3xf32>, %wz: tensor<3xi8>, %ys: tensor<f32>, %yz: tensor<ui8>, %bias: tensor<3xi32>) -> tensor<1x3x4x4xui8> {
  %y = "onnx.QLinearConv"(%x, %xs, %xz, %w, %ws, %wz, %ys, %yz, %bias) {pads = [1, 1, 1, 1]} : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>, tensor<3x2x3x3xi8>, tensor<3xf32>, tensor<3xi8>, tensor<f32>, tensor<ui8>, tensor<3xi32>) -> tensor<1x3x4x4xui8>
  return %y : tensor<1x3x4x4xui8>
}

// -----

// Signed bytes without zero points are read as they are: the contraction
// widens them in its body (batched here, B broadcast), no i32 copies.
// CHECK-LABEL: func.func @matmul_integer_signed_bytes
// CHECK-NOT: tensor<2x5x3xi32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<2x5x3xi8>, tensor<3x4xi8>) outs(%{{.*}} : tensor<2x5x4xi32>)
// CHECK: ^bb0(%[[X:.*]]: i8, %[[Y:.*]]: i8, %[[ACC:.*]]: i32):
// CHECK: %[[XW:.*]] = arith.extsi %[[X]] : i8 to i32
// CHECK: %[[YW:.*]] = arith.extsi %[[Y]] : i8 to i32
// CHECK: %[[P:.*]] = arith.muli %[[XW]], %[[YW]] : i32
// CHECK: arith.addi %[[ACC]], %[[P]] : i32
func.func @matmul_integer_signed_bytes(%a: tensor<2x5x3xi8>, %b: tensor<3x4xi8>) -> tensor<2x5x4xi32> {
  %y = "onnx.MatMulInteger"(%a, %b) {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<2x5x3xi8>, tensor<3x4xi8>) -> tensor<2x5x4xi32>
  return %y : tensor<2x5x4xi32>
}

// -----

// The same for a convolution: the input padded with i8 zeros, the filter
// read as bytes.
// CHECK-LABEL: func.func @conv_integer_signed_bytes
// CHECK: tensor.pad
// CHECK: tensor.yield %{{.*}} : i8
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x1x2x6x6xi8>, tensor<1x3x2x3x3xi8>)
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.muli
func.func @conv_integer_signed_bytes(%x: tensor<1x2x4x4xi8>, %w: tensor<3x2x3x3xi8>) -> tensor<1x3x4x4xi32> {
  %y = "onnx.ConvInteger"(%x, %w) {operandSegmentSizes = array<i32: 1, 1, 0, 0>, pads = [1, 1, 1, 1]} : (tensor<1x2x4x4xi8>, tensor<3x2x3x3xi8>) -> tensor<1x3x4x4xi32>
  return %y : tensor<1x3x4x4xi32>
}

// -----

// Unsigned bytes less a zero point by signed bytes (onnxruntime's
// quantize_dynamic; B's zero point a constant 0): the bytes' top bit
// flipped (a - 128, signed), their product with B's bytes, less
// (z - 128) times each column's sum of B.
// CHECK-LABEL: func.func @matmul_integer_dynamic
// CHECK: %[[SHIFTED:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<5x3xi8>) outs(%{{.*}} : tensor<5x3xi8>)
// CHECK: arith.xori %{{.*}}, %c-128_i8 : i8
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} ins(%[[SHIFTED]], %arg1 : tensor<5x3xi8>, tensor<3x4xi8>) outs(%{{.*}} : tensor<5x4xi32>)
// CHECK: %[[SUMS:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%arg1 : tensor<3x4xi8>) outs(%{{.*}} : tensor<4xi32>)
// CHECK: linalg.generic {{.*}} ins(%[[ACC]], %[[SUMS]], %{{.*}} : tensor<5x4xi32>, tensor<4xi32>, tensor<i8>)
// CHECK: %[[Z:.*]] = arith.extui %{{.*}} : i8 to i32
// CHECK: %[[SHIFT:.*]] = arith.subi %[[Z]], %c128_i32 : i32
// CHECK: %[[TERM:.*]] = arith.muli %[[SHIFT]], %{{.*}} : i32
// CHECK: arith.subi %{{.*}}, %[[TERM]] : i32
func.func @matmul_integer_dynamic(%a: tensor<5x3xui8>, %b: tensor<3x4xi8>, %za: tensor<ui8>) -> tensor<5x4xi32> {
  %zb = "onnx.Constant"() {value = dense<0> : tensor<i8>} : () -> tensor<i8>
  %y = "onnx.MatMulInteger"(%a, %b, %za, %zb) {operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<5x3xui8>, tensor<3x4xi8>, tensor<ui8>, tensor<i8>) -> tensor<5x4xi32>
  return %y : tensor<5x4xi32>
}

// -----

// Signed bytes less a zero point by signed bytes: the bytes as they are,
// less z times each column's sum of B.
// CHECK-LABEL: func.func @matmul_integer_signed_zero_point
// CHECK-NOT: arith.xori
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<5x3xi8>, tensor<3x4xi8>) outs(%{{.*}} : tensor<5x4xi32>)
// CHECK: %[[SUMS:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%arg1 : tensor<3x4xi8>)
// CHECK: linalg.generic {{.*}} ins(%[[ACC]], %[[SUMS]], %arg2 : tensor<5x4xi32>, tensor<4xi32>, tensor<i8>)
// CHECK: %[[Z:.*]] = arith.extsi %{{.*}} : i8 to i32
// CHECK-NEXT: %[[TERM:.*]] = arith.muli %[[Z]], %{{.*}} : i32
// CHECK-NEXT: arith.subi %{{.*}}, %[[TERM]] : i32
func.func @matmul_integer_signed_zero_point(%a: tensor<5x3xi8>, %b: tensor<3x4xi8>, %za: tensor<i8>) -> tensor<5x4xi32> {
  %y = "onnx.MatMulInteger"(%a, %b, %za) {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<5x3xi8>, tensor<3x4xi8>, tensor<i8>) -> tensor<5x4xi32>
  return %y : tensor<5x4xi32>
}

// -----

// Unsigned bytes less a zero point convolved with signed bytes: the bytes'
// top bit flipped, padded with the zero point's flipped byte (which then
// stands for 0 everywhere the filter reads), convolved as bytes, less the
// zero point times each filter's sum.
// CHECK-LABEL: func.func @conv_integer_zero_point
// CHECK: %[[Z:.*]] = tensor.extract %{{.*}}[] : tensor<i8>
// CHECK: %[[FLIPPED:.*]] = arith.xori %[[Z]], %c-128_i8 : i8
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x2x4x4xi8>) outs(%{{.*}} : tensor<1x2x4x4xi8>)
// CHECK: arith.xori %{{.*}}, %c-128_i8 : i8
// CHECK: tensor.pad
// CHECK: tensor.yield %[[FLIPPED]] : i8
// CHECK: %[[ACC:.*]] = tensor.collapse_shape
// CHECK: %[[SUMS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction", "reduction"]} ins(%arg1 : tensor<3x2x3x3xi8>) outs(%{{.*}} : tensor<3xi32>)
// CHECK: linalg.generic {{.*}} ins(%[[ACC]], %[[SUMS]], %{{.*}} : tensor<1x3x4x4xi32>, tensor<3xi32>, tensor<i8>)
// CHECK: %[[ZW:.*]] = arith.extui %{{.*}} : i8 to i32
// CHECK: %[[SHIFT:.*]] = arith.subi %[[ZW]], %c128_i32 : i32
// CHECK: %[[TERM:.*]] = arith.muli %[[SHIFT]], %{{.*}} : i32
// CHECK: arith.subi %{{.*}}, %[[TERM]] : i32
func.func @conv_integer_zero_point(%x: tensor<1x2x4x4xui8>, %w: tensor<3x2x3x3xi8>, %z: tensor<ui8>) -> tensor<1x3x4x4xi32> {
  %y = "onnx.ConvInteger"(%x, %w, %z) {operandSegmentSizes = array<i32: 1, 1, 1, 0>, pads = [1, 1, 1, 1]} : (tensor<1x2x4x4xui8>, tensor<3x2x3x3xi8>, tensor<ui8>) -> tensor<1x3x4x4xi32>
  return %y : tensor<1x3x4x4xi32>
}
