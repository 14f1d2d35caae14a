// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// Unsigned operands are read as signless integers through tensor.bitcast,
// the result is bitcast back, and the ops where signedness matters are the
// unsigned ones: division traps only on zero.
// CHECK-LABEL: func.func @divide
// CHECK-SAME: (%[[A:.*]]: tensor<4xui8>, %[[B:.*]]: tensor<4xui8>) -> tensor<4xui8>
// CHECK-DAG: %[[SA:.*]] = tensor.bitcast %[[A]] : tensor<4xui8> to tensor<4xi8>
// CHECK-DAG: %[[SB:.*]] = tensor.bitcast %[[B]] : tensor<4xui8> to tensor<4xi8>
// CHECK: %[[G:.*]] = linalg.generic
// CHECK-SAME: ins(%[[SA]], %[[SB]] : tensor<4xi8>, tensor<4xi8>)
// CHECK: ^bb0(%[[X:.*]]: i8, %[[Y:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[ZERO:.*]] = arith.cmpi eq, %[[Y]]
// CHECK-NOT: arith.cmpi eq
// CHECK: %[[SAFE:.*]] = arith.select %[[ZERO]]
// CHECK: arith.divui %[[X]], %[[SAFE]] : i8
// CHECK: %[[R:.*]] = tensor.bitcast %[[G]] : tensor<4xi8> to tensor<4xui8>
// CHECK: return %[[R]]
func.func @divide(%a: tensor<4xui8>, %b: tensor<4xui8>) -> tensor<4xui8> {
  %0 = "onnx.Div"(%a, %b) : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

// CHECK-LABEL: func.func @compare_and_clamp
// CHECK: arith.cmpi ugt
// CHECK: arith.maxui
// CHECK: arith.minui
func.func @compare_and_clamp(%a: tensor<4xui16>, %b: tensor<4xui16>, %lo: tensor<ui16>, %hi: tensor<ui16>) -> (tensor<4xi1>, tensor<4xui16>) {
  %0 = "onnx.Greater"(%a, %b) : (tensor<4xui16>, tensor<4xui16>) -> tensor<4xi1>
  %1 = "onnx.Clip"(%a, %lo, %hi) {operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<4xui16>, tensor<ui16>, tensor<ui16>) -> tensor<4xui16>
  return %0, %1 : tensor<4xi1>, tensor<4xui16>
}

// -----

// Casts: zero extension and unsigned conversions from and to floats.
// CHECK-LABEL: func.func @casts
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK: arith.fptoui %{{.*}} : f32 to i8
func.func @casts(%a: tensor<4xui8>, %f: tensor<4xf32>) -> (tensor<4xi32>, tensor<4xf32>, tensor<4xui8>) {
  %0 = "onnx.Cast"(%a) {to = 6 : i64} : (tensor<4xui8>) -> tensor<4xi32>
  %1 = "onnx.Cast"(%a) {to = 1 : i64} : (tensor<4xui8>) -> tensor<4xf32>
  %2 = "onnx.Cast"(%f) {to = 2 : i64} : (tensor<4xf32>) -> tensor<4xui8>
  return %0, %1, %2 : tensor<4xi32>, tensor<4xf32>, tensor<4xui8>
}

// -----

// Right shifts: logical for unsigned integers, arithmetic for signed ones
// (an out-of-range amount keeps only the sign); out-of-range left shifts
// give 0.
// CHECK-LABEL: func.func @shifts
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[N:.*]], %{{.*}} : i8
// CHECK: %[[U:.*]] = arith.shrui %{{.*}}, %[[N]] : i8
// CHECK: arith.select %[[IN]], %[[U]]
// CHECK: %[[IN2:.*]] = arith.cmpi ult, %[[M:.*]], %{{.*}} : i8
// CHECK: %[[AMOUNT:.*]] = arith.select %[[IN2]], %[[M]]
// CHECK: arith.shrsi %{{.*}}, %[[AMOUNT]] : i8
// CHECK: %[[IN3:.*]] = arith.cmpi ult
// CHECK: %[[L:.*]] = arith.shli
// CHECK: arith.select %[[IN3]], %[[L]]
func.func @shifts(%a: tensor<3xui8>, %b: tensor<3xui8>, %c: tensor<3xi8>, %d: tensor<3xi8>) -> (tensor<3xui8>, tensor<3xi8>, tensor<3xi8>) {
  %0 = "onnx.BitShift"(%a, %b) {direction = "RIGHT"} : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
  %1 = "onnx.BitShift"(%c, %d) {direction = "RIGHT"} : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi8>
  %2 = "onnx.BitShift"(%c, %d) {direction = "LEFT"} : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi8>
  return %0, %1, %2 : tensor<3xui8>, tensor<3xi8>, tensor<3xi8>
}
