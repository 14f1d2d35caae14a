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

// -----

// To unsigned 16 bits from f16: computed in f32, saturated to [0, 65535],
// an unsigned conversion, the result read back as ui16.
// CHECK-LABEL: func.func @unsigned_16_bits
// CHECK: %[[MAX:.*]] = arith.constant 6.553500e+04 : f32
// CHECK: ^bb0(%[[X:.*]]: f16, %[[S:.*]]: f16, %[[Z:.*]]: i16, %{{.*}}: i16):
// CHECK-DAG: %[[SF:.*]] = arith.extf %[[S]] : f16 to f32
// CHECK-DAG: %[[XF:.*]] = arith.extf %[[X]] : f16 to f32
// CHECK: arith.divf %[[XF]], %[[SF]] : f32
// CHECK: arith.uitofp %[[Z]] : i16 to f32
// CHECK: arith.minimumf %{{.*}}, %[[MAX]] : f32
// CHECK: arith.fptoui %{{.*}} : f32 to i16
// CHECK: tensor.bitcast %{{.*}} : tensor<4xi16> to tensor<4xui16>
func.func @unsigned_16_bits(%x: tensor<4xf16>, %s: tensor<f16>, %z: tensor<ui16>) -> tensor<4xui16> {
  %q = kiln.quantize %x scale %s zero_point %z : tensor<4xf16>, tensor<f16>, tensor<ui16> -> tensor<4xui16>
  return %q : tensor<4xui16>
}

// -----

// DynamicQuantizeLinear: one reduction to min(x, 0) and max(x, 0), the
// scale (range / 255, 1 / 255 for an empty range) and the zero point
// (-min / scale, saturated and rounded), then every element quantized.
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[RANGE:.*]]:2 = linalg.reduce ins(%arg0, %arg0 : tensor<2x3xf32>, tensor<2x3xf32>)
// CHECK: arith.minimumf
// CHECK: arith.maximumf
// CHECK: %[[P:.*]]:3 = linalg.generic {{.*}} ins(%[[RANGE]]#0, %[[RANGE]]#1 : tensor<f32>, tensor<f32>)
// CHECK: arith.select
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: math.roundeven
// CHECK: arith.fptoui %{{.*}} : f32 to i8
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%arg0, %[[P]]#0, %[[P]]#1 : tensor<2x3xf32>, tensor<f32>, tensor<f32>)
// CHECK: math.roundeven
// CHECK: arith.fptoui %{{.*}} : f32 to i8
// CHECK-DAG: %[[YU:.*]] = tensor.bitcast %[[Y]] : tensor<2x3xi8> to tensor<2x3xui8>
// CHECK-DAG: %[[ZU:.*]] = tensor.bitcast %[[P]]#2 : tensor<i8> to tensor<ui8>
// CHECK: return %[[YU]], %[[P]]#0, %[[ZU]]
func.func @dynamic(%x: tensor<2x3xf32>) -> (tensor<2x3xui8>, tensor<f32>, tensor<ui8>) {
  %y, %s, %z = "onnx.DynamicQuantizeLinear"(%x) : (tensor<2x3xf32>) -> (tensor<2x3xui8>, tensor<f32>, tensor<ui8>)
  return %y, %s, %z : tensor<2x3xui8>, tensor<f32>, tensor<ui8>
}
