// RUN: kiln-opt %s -split-input-file -kiln-quant-integer-products | FileCheck %s

// A MatMul of an activation quantized with scale 0.5 and zero point 3 by
// bytes with column scales [1, 2, 0.5]: the integer product of the bytes,
// less 3 times each column's sum ([5, 3, -3] -> [15, 9, -9]), in f32
// times 0.5 * [1, 2, 0.5].
// CHECK-LABEL: func.func @matmul
// CHECK-DAG: %[[M:.*]] = "onnx.Constant"() <{value = dense_resource<product_multipliers> : tensor<3xf32>}>
// CHECK-DAG: %[[C:.*]] = "onnx.Constant"() <{value = dense_resource<product_compensation> : tensor<3xi32>}>
// CHECK-DAG: %[[W:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}1, -2, 3], [4, 5, -6]]> : tensor<2x3xi8>}>
// CHECK: %[[Q:.*]] = kiln.quantize %arg0 scale %{{.*}} zero_point %{{.*}} : tensor<5x2xf32>, tensor<f32>, tensor<i8> -> tensor<5x2xi8>
// CHECK: %[[ACC:.*]] = "onnx.MatMulInteger"(%[[Q]], %[[W]]) <{operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (tensor<5x2xi8>, tensor<2x3xi8>) -> tensor<5x3xi32>
// CHECK: %[[SUB:.*]] = "onnx.Sub"(%[[ACC]], %[[C]])
// CHECK: %[[F:.*]] = "onnx.Cast"(%[[SUB]]) {{.*}} -> tensor<5x3xf32>
// CHECK: %[[Y:.*]] = "onnx.Mul"(%[[F]], %[[M]])
// CHECK: return %[[Y]]
// CHECK-NOT: kiln.dequantize
// CHECK-DAG: product_multipliers: "0x400000000000003F0000803F0000803E"
// CHECK-DAG: product_compensation: "0x400000000F00000009000000F7FFFFFF"
func.func @matmul(%x: tensor<5x2xf32>) -> tensor<5x3xf32> {
  %s = "onnx.Constant"() {value = dense<5.000000e-01> : tensor<f32>} : () -> tensor<f32>
  %z = "onnx.Constant"() {value = dense<3> : tensor<i8>} : () -> tensor<i8>
  %q = kiln.quantize %x scale %s zero_point %z : tensor<5x2xf32>, tensor<f32>, tensor<i8> -> tensor<5x2xi8>
  %a = kiln.dequantize %q scale %s zero_point %z : tensor<5x2xi8>, tensor<f32>, tensor<i8> -> tensor<5x2xf32>
  %wq = "onnx.Constant"() {value = dense<[[1, -2, 3], [4, 5, -6]]> : tensor<2x3xi8>} : () -> tensor<2x3xi8>
  %ws = "onnx.Constant"() {value = dense<[1.0, 2.0, 0.5]> : tensor<3xf32>} : () -> tensor<3xf32>
  %w = kiln.dequantize %wq scale %ws {axis = 1 : i64} : tensor<2x3xi8>, tensor<3xf32> -> tensor<2x3xf32>
  %y = "onnx.MatMul"(%a, %w) : (tensor<5x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  return %y : tensor<5x3xf32>
}

// -----

// One scale per row at run time (SmoothQuant's dynamic activations): no
// zero point, the column scales alone, then the rows' scales.
// CHECK-LABEL: func.func @matmul_rows
// CHECK: %[[Q:.*]] = kiln.quantize %arg0 scale %arg1 {axis = 1 : i64, group_size = 2 : i64}
// CHECK: %[[ACC:.*]] = "onnx.MatMulInteger"(%[[Q]], %{{.*}})
// CHECK-NOT: onnx.Sub
// CHECK: %[[F:.*]] = "onnx.Cast"(%[[ACC]])
// CHECK: %[[COLUMNS:.*]] = "onnx.Mul"(%[[F]], %{{.*}})
// CHECK: %[[Y:.*]] = "onnx.Mul"(%[[COLUMNS]], %arg1) : (tensor<5x3xf32>, tensor<5x1xf32>) -> tensor<5x3xf32>
// CHECK: return %[[Y]]
func.func @matmul_rows(%x: tensor<5x2xf32>, %s: tensor<5x1xf32>) -> tensor<5x3xf32> {
  %q = kiln.quantize %x scale %s {axis = 1 : i64, group_size = 2 : i64} : tensor<5x2xf32>, tensor<5x1xf32> -> tensor<5x2xi8>
  %a = kiln.dequantize %q scale %s {axis = 1 : i64, group_size = 2 : i64} : tensor<5x2xi8>, tensor<5x1xf32> -> tensor<5x2xf32>
  %wq = "onnx.Constant"() {value = dense<[[1, -2, 3], [4, 5, -6]]> : tensor<2x3xi8>} : () -> tensor<2x3xi8>
  %ws = "onnx.Constant"() {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
  %w = kiln.dequantize %wq scale %ws : tensor<2x3xi8>, tensor<f32> -> tensor<2x3xf32>
  %y = "onnx.MatMul"(%a, %w) : (tensor<5x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  return %y : tensor<5x3xf32>
}

// -----

// A padded Conv of an input with zero point -5 (scale 2) by two 2x2
// filters with scales [0.25, 4] and a bias: the bytes padded with -5,
// which then stands for 0 everywhere, the unpadded integer convolution
// less -5 times each filter's sum ([10, -4] -> [-50, 20]), times
// 2 * [0.25, 4] per channel, plus the bias.
// CHECK-LABEL: func.func @conv
// CHECK-DAG: %[[PADS:.*]] = "onnx.Constant"() <{value = dense<[0, 0, 1, 1, 0, 0, 1, 1]> : tensor<8xi64>}>
// CHECK-DAG: %[[FILL:.*]] = "onnx.Constant"() <{value = dense<-5> : tensor<i8>}>
// CHECK: %[[Q:.*]] = kiln.quantize %arg0
// CHECK: %[[P:.*]] = "onnx.Pad"(%[[Q]], %[[PADS]], %[[FILL]]) <{mode = "constant", operandSegmentSizes = array<i32: 1, 1, 1, 0>}> : (tensor<1x1x4x4xi8>, tensor<8xi64>, tensor<i8>) -> tensor<1x1x6x6xi8>
// CHECK: %[[ACC:.*]] = "onnx.ConvInteger"(%[[P]], %{{.*}}) <{auto_pad = "NOTSET", group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (tensor<1x1x6x6xi8>, tensor<2x1x2x2xi8>) -> tensor<1x2x5x5xi32>
// CHECK: %[[SUB:.*]] = "onnx.Sub"(%[[ACC]], %{{.*}}) : (tensor<1x2x5x5xi32>, tensor<2x1x1xi32>)
// CHECK: %[[F:.*]] = "onnx.Cast"(%[[SUB]])
// CHECK: %[[S:.*]] = "onnx.Mul"(%[[F]], %{{.*}}) : (tensor<1x2x5x5xf32>, tensor<2x1x1xf32>)
// CHECK: %[[Y:.*]] = "onnx.Add"(%[[S]], %{{.*}}) : (tensor<1x2x5x5xf32>, tensor<2x1x1xf32>)
// CHECK: return %[[Y]]
// CHECK-DAG: conv_multipliers: "0x400000000000003F00000041"
// CHECK-DAG: conv_compensation: "0x40000000CEFFFFFF14000000"
// CHECK-DAG: conv_bias: "0x400000000000803F000080BF"
func.func @conv(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x5x5xf32> {
  %s = "onnx.Constant"() {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
  %z = "onnx.Constant"() {value = dense<-5> : tensor<i8>} : () -> tensor<i8>
  %q = kiln.quantize %x scale %s zero_point %z : tensor<1x1x4x4xf32>, tensor<f32>, tensor<i8> -> tensor<1x1x4x4xi8>
  %a = kiln.dequantize %q scale %s zero_point %z : tensor<1x1x4x4xi8>, tensor<f32>, tensor<i8> -> tensor<1x1x4x4xf32>
  %wq = "onnx.Constant"() {value = dense<[[[[1, 2], [3, 4]]], [[[-1, -1], [-1, -1]]]]> : tensor<2x1x2x2xi8>} : () -> tensor<2x1x2x2xi8>
  %ws = "onnx.Constant"() {value = dense<[0.25, 4.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %w = kiln.dequantize %wq scale %ws : tensor<2x1x2x2xi8>, tensor<2xf32> -> tensor<2x1x2x2xf32>
  %b = "onnx.Constant"() {value = dense<[1.0, -1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = "onnx.Conv"(%a, %w, %b) {pads = [1, 1, 1, 1]} : (tensor<1x1x4x4xf32>, tensor<2x1x2x2xf32>, tensor<2xf32>) -> tensor<1x2x5x5xf32> loc("conv")
  return %y : tensor<1x2x5x5xf32>
}

// -----

// Padding placed at run time (auto_pad) reads the zero point as the
// convolution's own.
// CHECK-LABEL: func.func @conv_auto_pad
// CHECK-NOT: onnx.Pad
// CHECK: "onnx.ConvInteger"(%{{.*}}, %{{.*}}, %{{.*}}) <{auto_pad = "SAME_UPPER", group = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0>}>
// CHECK-NOT: onnx.Sub
func.func @conv_auto_pad(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %s = "onnx.Constant"() {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
  %z = "onnx.Constant"() {value = dense<-5> : tensor<i8>} : () -> tensor<i8>
  %q = kiln.quantize %x scale %s zero_point %z : tensor<1x1x4x4xf32>, tensor<f32>, tensor<i8> -> tensor<1x1x4x4xi8>
  %a = kiln.dequantize %q scale %s zero_point %z : tensor<1x1x4x4xi8>, tensor<f32>, tensor<i8> -> tensor<1x1x4x4xf32>
  %wq = "onnx.Constant"() {value = dense<1> : tensor<2x1x2x2xi8>} : () -> tensor<2x1x2x2xi8>
  %ws = "onnx.Constant"() {value = dense<[0.25, 4.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %w = kiln.dequantize %wq scale %ws : tensor<2x1x2x2xi8>, tensor<2xf32> -> tensor<2x1x2x2xf32>
  %y = "onnx.Conv"(%a, %w) {auto_pad = "SAME_UPPER"} : (tensor<1x1x4x4xf32>, tensor<2x1x2x2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Weights whose scales are not per output channel, or float activations,
// stay as they are.
// CHECK-LABEL: func.func @untouched
// CHECK-NOT: MatMulInteger
// CHECK: "onnx.MatMul"
// CHECK: "onnx.MatMul"
func.func @untouched(%x: tensor<5x2xf32>) -> (tensor<5x3xf32>, tensor<5x3xf32>) {
  %s = "onnx.Constant"() {value = dense<5.000000e-01> : tensor<f32>} : () -> tensor<f32>
  %q = kiln.quantize %x scale %s : tensor<5x2xf32>, tensor<f32> -> tensor<5x2xi8>
  %a = kiln.dequantize %q scale %s : tensor<5x2xi8>, tensor<f32> -> tensor<5x2xf32>
  %wq = "onnx.Constant"() {value = dense<[[1, -2, 3], [4, 5, -6]]> : tensor<2x3xi8>} : () -> tensor<2x3xi8>
  %rs = "onnx.Constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %rows = kiln.dequantize %wq scale %rs {axis = 0 : i64} : tensor<2x3xi8>, tensor<2xf32> -> tensor<2x3xf32>
  %y = "onnx.MatMul"(%a, %rows) : (tensor<5x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  %w = kiln.dequantize %wq scale %s : tensor<2x3xi8>, tensor<f32> -> tensor<2x3xf32>
  %f = "onnx.MatMul"(%x, %w) : (tensor<5x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  return %y, %f : tensor<5x3xf32>, tensor<5x3xf32>
}
