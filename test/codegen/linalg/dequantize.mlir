// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// Groups of 2 input channels: each element reads its group's scale and
// zero point through d0 floordiv 2. The unsigned 4-bit constants are read
// as signless ones (tensor.bitcast: the same bits), widened with zero
// extension.
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$GROUP:.*]] = affine_map<(d0, d1) -> (d0 floordiv 2, d1)>
// CHECK-LABEL: func.func @groups
// CHECK-DAG: %[[QU:.*]] = arith.constant dense<{{\[\[}}15, 0], [1, 2], [3, 4], [5, 6]]> : tensor<4x2xui4>
// CHECK-DAG: %[[ZU:.*]] = arith.constant dense<{{\[\[}}1, 2], [3, 4]]> : tensor<2x2xui4>
// CHECK-DAG: %[[Q:.*]] = tensor.bitcast %[[QU]] : tensor<4x2xui4> to tensor<4x2xi4>
// CHECK-DAG: %[[Z:.*]] = tensor.bitcast %[[ZU]] : tensor<2x2xui4> to tensor<2x2xi4>
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$GROUP]], #[[$GROUP]], #[[$ID]]]
// CHECK-SAME: ins(%[[Q]], %arg0, %[[Z]] : tensor<4x2xi4>, tensor<2x2xf16>, tensor<2x2xi4>)
// CHECK: ^bb0(%[[QV:.*]]: i4, %[[S:.*]]: f16, %[[ZV:.*]]: i4, %{{.*}}: f32):
// CHECK: %[[QW:.*]] = arith.extui %[[QV]] : i4 to i32
// CHECK: %[[ZW:.*]] = arith.extui %[[ZV]] : i4 to i32
// CHECK: %[[D:.*]] = arith.subi %[[QW]], %[[ZW]] : i32
// CHECK: %[[F:.*]] = arith.sitofp %[[D]] : i32 to f32
// CHECK: %[[SF:.*]] = arith.extf %[[S]] : f16 to f32
// CHECK: arith.mulf %[[F]], %[[SF]] : f32
func.func @groups(%s: tensor<2x2xf16>) -> tensor<4x2xf32> {
  %q = "onnx.Constant"() {value = dense<[[15, 0], [1, 2], [3, 4], [5, 6]]> : tensor<4x2xui4>} : () -> tensor<4x2xui4>
  %z = "onnx.Constant"() {value = dense<[[1, 2], [3, 4]]> : tensor<2x2xui4>} : () -> tensor<2x2xui4>
  %w = kiln.dequantize %q scale %s zero_point %z {group_size = 2 : i64} : tensor<4x2xui4>, tensor<2x2xf16>, tensor<2x2xui4> -> tensor<4x2xf32>
  return %w : tensor<4x2xf32>
}

// -----

// Signless (signed) integers computed at run time, per axis without a zero
// point: sign extension.
// CHECK-LABEL: func.func @per_axis
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$AXIS:.*]], #{{.*}}]
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK-NOT: arith.subi
// CHECK: arith.sitofp
func.func @per_axis(%q: tensor<3x8xi8>, %s: tensor<8xf32>) -> tensor<3x8xf32> {
  %w = kiln.dequantize %q scale %s {axis = 1 : i64} : tensor<3x8xi8>, tensor<8xf32> -> tensor<3x8xf32>
  return %w : tensor<3x8xf32>
}
