// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// Broadcasting: trailing alignment, size-1 dimensions read at index 0.
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$ROW:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[$ONE:.*]] = affine_map<(d0, d1, d2) -> (0, d1, d2)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK-SAME: (%[[A:.*]]: tensor<2x3x4xf32>, %[[B:.*]]: tensor<4xf32>, %[[C:.*]]: tensor<1x3x4xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ONE]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[A]], %[[B]], %[[C]] : tensor<2x3x4xf32>, tensor<4xf32>, tensor<1x3x4xf32>) outs(%[[E]] : tensor<2x3x4xf32>)
// CHECK: ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32, %[[Z:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[S:.*]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK: %[[T:.*]] = arith.addf %[[S]], %[[Z]] : f32
// CHECK: linalg.yield %[[T]] : f32
func.func @add_broadcast(%a: tensor<2x3x4xf32>, %b: tensor<4xf32>, %c: tensor<1x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = "onnx.Sum"(%a, %b, %c) : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<1x3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Dynamic dimensions take their size from an operand that spans them.
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: (%[[A:.*]]: tensor<?x8xf32>
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[D:.*]] = tensor.dim %[[A]], %[[C0]] : tensor<?x8xf32>
// CHECK: tensor.empty(%[[D]]) : tensor<?x8xf32>
// CHECK: arith.mulf
func.func @dynamic(%a: tensor<?x8xf32>, %s: tensor<f32>) -> tensor<?x8xf32> {
  %0 = "onnx.Mul"(%a, %s) : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Integer arithmetic: truncating division, Python-style Mod by default.
// CHECK-LABEL: func.func @integers
// CHECK: arith.divsi
// CHECK: arith.remsi
// CHECK: arith.select
// CHECK: arith.maxsi
func.func @integers(%a: tensor<4xi32>, %b: tensor<4xi32>) -> (tensor<4xi32>, tensor<4xi32>, tensor<4xi32>) {
  %0 = "onnx.Div"(%a, %b) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %1 = "onnx.Mod"(%a, %b) <{fmod = 0 : i64}> : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %2 = "onnx.Relu"(%a) : (tensor<4xi32>) -> tensor<4xi32>
  return %0, %1, %2 : tensor<4xi32>, tensor<4xi32>, tensor<4xi32>
}

// -----

// Comparisons give i1; Where selects.
// CHECK-LABEL: func.func @compare_select
// CHECK: arith.cmpf oge
// CHECK-SAME: f32
// CHECK: -> tensor<4xi1>
// CHECK: arith.select
func.func @compare_select(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %c = "onnx.GreaterOrEqual"(%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %0 = "onnx.Where"(%c, %a, %b) : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Activations are their formulas.
// CHECK-LABEL: func.func @activations
// CHECK: math.erf
// CHECK: math.tanh
// CHECK: arith.minimumf
// CHECK: arith.maximumf
// CHECK: math.expm1
func.func @activations(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %0 = "onnx.Gelu"(%x) <{approximate = "none"}> : (tensor<8xf32>) -> tensor<8xf32>
  %1 = "onnx.Gelu"(%x) <{approximate = "tanh"}> : (tensor<8xf32>) -> tensor<8xf32>
  %2 = "onnx.HardSwish"(%x) : (tensor<8xf32>) -> tensor<8xf32>
  %3 = "onnx.Elu"(%x) <{alpha = 1.0 : f32}> : (tensor<8xf32>) -> tensor<8xf32>
  return %0, %1, %2, %3 : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// Casts follow ONNX: to bool is "not zero", from bool is 0 or 1.
// CHECK-LABEL: func.func @casts
// CHECK: arith.cmpf une
// CHECK: arith.uitofp
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK: arith.extsi {{.*}} : i32 to i64
func.func @casts(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xf16>, tensor<4xi64>) {
  %b = "onnx.Cast"(%x) <{to = 9 : i64}> : (tensor<4xf32>) -> tensor<4xi1>
  %f = "onnx.Cast"(%b) <{to = 1 : i64}> : (tensor<4xi1>) -> tensor<4xf32>
  %h = "onnx.Cast"(%x) <{to = 10 : i64}> : (tensor<4xf32>) -> tensor<4xf16>
  %l = "onnx.Cast"(%i) <{to = 7 : i64}> : (tensor<4xi32>) -> tensor<4xi64>
  return %f, %h, %l : tensor<4xf32>, tensor<4xf16>, tensor<4xi64>
}

// -----

// Clip with only a maximum; absent bounds are not read.
// CHECK-LABEL: func.func @clip_max
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<4xf32>, tensor<f32>)
// CHECK-NOT: arith.maximumf
// CHECK: arith.minimumf
func.func @clip_max(%x: tensor<4xf32>, %hi: tensor<f32>) -> tensor<4xf32> {
  %0 = "onnx.Clip"(%x, %hi) <{operandSegmentSizes = array<i32: 1, 0, 1>}> : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Constants become arith constants; weights stay blobs.
// CHECK-LABEL: func.func @constants
// CHECK: arith.constant dense_resource<w> : tensor<2xf32>
// CHECK: arith.constant dense<1.000000e+00> : tensor<2xf32>
func.func @constants() -> (tensor<2xf32>, tensor<2xf32>) {
  %w = "onnx.Constant"() <{value = dense_resource<w> : tensor<2xf32>}> : () -> tensor<2xf32>
  %c = "onnx.Constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  return %w, %c : tensor<2xf32>, tensor<2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F00000040"
    }
  }
#-}

// -----

// Shrink: x + bias below -lambd, x - bias above lambd, else 0.
// CHECK-LABEL: func.func @shrink
// CHECK: arith.constant -1.500000e+00 : f32
// CHECK: arith.cmpf olt
// CHECK: arith.select
// CHECK: arith.select
func.func @shrink(%arg0: tensor<4xf32>) -> (tensor<4xf32>) {
  %0 = "onnx.Shrink"(%arg0) <{bias = 5.000000e-01 : f32, lambd = 1.500000e+00 : f32}> : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Integer Div and Mod never trap: a zero divisor (and -1, which traps on
// INT_MIN) is replaced by 1 and the result selected.
// CHECK-LABEL: func.func @int_div
// CHECK: arith.cmpi eq
// CHECK: arith.cmpi eq
// CHECK: arith.ori
// CHECK: arith.select
// CHECK: arith.divsi
func.func @int_div(%x: tensor<4xi32>, %y: tensor<4xi32>) -> tensor<4xi32> {
  %0 = "onnx.Div"(%x, %y) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// Float Mod without fmod follows the divisor's sign, as Python does.
// CHECK-LABEL: func.func @float_mod
// CHECK: arith.remf
// CHECK: arith.cmpf one
// CHECK: arith.xori
// CHECK: arith.addf
func.func @float_mod(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "onnx.Mod"(%x, %y) <{fmod = 0 : i64}> : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
