// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// Per tensor to signed bytes: x / scale rounded half to even, saturated
// to [-128, 127] in f32, then one conversion.
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$TENSOR:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @per_tensor
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$TENSOR]], #[[$ID]]]
// CHECK-SAME: ins(%arg0, %arg1 : tensor<3x?xf32>, tensor<f32>)
// CHECK: ^bb0(%[[X:.*]]: f32, %[[S:.*]]: f32, %{{.*}}: i8):
// CHECK: %[[D:.*]] = arith.divf %[[X]], %[[S]] : f32
// CHECK: %[[R:.*]] = math.roundeven %[[D]] : f32
// CHECK: %[[LOW:.*]] = arith.maximumf %[[R]], %{{.*}} : f32
// CHECK: %[[HIGH:.*]] = arith.minimumf %[[LOW]], %{{.*}} : f32
// CHECK: arith.fptosi %[[HIGH]] : f32 to i8
func.func @per_tensor(%x: tensor<3x?xf32>, %s: tensor<f32>) -> tensor<3x?xi8> {
  %q = kiln.quantize %x scale %s : tensor<3x?xf32>, tensor<f32> -> tensor<3x?xi8>
  return %q : tensor<3x?xi8>
}

// -----

// Per axis with zero points: each element reads its channel's scale and
// zero point, which is added before the saturation.
// CHECK-DAG: #[[$AXIS:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @per_axis
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$AXIS]], #[[$AXIS]], #{{.*}}]
// CHECK: ^bb0(%[[X:.*]]: f32, %[[S:.*]]: f32, %[[Z:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[R:.*]] = math.roundeven
// CHECK: %[[ZF:.*]] = arith.sitofp %[[Z]] : i8 to f32
// CHECK: arith.addf %[[R]], %[[ZF]] : f32
func.func @per_axis(%x: tensor<3x4xf32>, %s: tensor<4xf32>, %z: tensor<4xi8>) -> tensor<3x4xi8> {
  %q = kiln.quantize %x scale %s zero_point %z {axis = 1 : i64} : tensor<3x4xf32>, tensor<4xf32>, tensor<4xi8> -> tensor<3x4xi8>
  return %q : tensor<3x4xi8>
}
