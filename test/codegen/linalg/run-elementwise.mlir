// The lowered elementwise ops compute the right numbers: the tensor stage's
// output runs through upstream MLIR's reference lowering on the CPU.
// Expected values come from a float64 Python reference (math module),
// rounded to float32 and printed to 6 significant digits, so the check's
// tolerance is the last printed digit (relative error below about 1e-5).
// RUN: kiln-opt %s --kiln-linalg-pipeline | %run-on-cpu | FileCheck %s

func.func @unary(%x: tensor<6xf32>) -> (tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) {
  %0 = "onnx.Gelu"(%x) <{approximate = "none"}> : (tensor<6xf32>) -> tensor<6xf32>
  %1 = "onnx.Gelu"(%x) <{approximate = "tanh"}> : (tensor<6xf32>) -> tensor<6xf32>
  %2 = "onnx.Sigmoid"(%x) : (tensor<6xf32>) -> tensor<6xf32>
  %3 = "onnx.Tanh"(%x) : (tensor<6xf32>) -> tensor<6xf32>
  %4 = "onnx.HardSwish"(%x) : (tensor<6xf32>) -> tensor<6xf32>
  %5 = "onnx.Elu"(%x) <{alpha = 1.0 : f32}> : (tensor<6xf32>) -> tensor<6xf32>
  %6 = "onnx.Selu"(%x) : (tensor<6xf32>) -> tensor<6xf32>
  %7 = "onnx.Softplus"(%x) : (tensor<6xf32>) -> tensor<6xf32>
  %8 = "onnx.LeakyRelu"(%x) <{alpha = 0.1 : f32}> : (tensor<6xf32>) -> tensor<6xf32>
  %9 = "onnx.Erf"(%x) : (tensor<6xf32>) -> tensor<6xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9 : tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>
}

// Broadcasting a row over a matrix, division, and Pow with |x|.
func.func @binary(%m: tensor<2x3xf32>, %row: tensor<3xf32>, %x: tensor<6xf32>, %y: tensor<6xf32>) -> (tensor<2x3xf32>, tensor<6xf32>, tensor<6xf32>) {
  %0 = "onnx.Sub"(%m, %row) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = "onnx.Div"(%x, %y) : (tensor<6xf32>, tensor<6xf32>) -> tensor<6xf32>
  %a = "onnx.Abs"(%x) : (tensor<6xf32>) -> tensor<6xf32>
  %2 = "onnx.Pow"(%a, %y) : (tensor<6xf32>, tensor<6xf32>) -> tensor<6xf32>
  return %0, %1, %2 : tensor<2x3xf32>, tensor<6xf32>, tensor<6xf32>
}

// Integer Div truncates; Mod takes the divisor's sign (fmod = 0) or the
// dividend's (fmod = 1); Cast from float truncates toward zero.
func.func @integers(%a: tensor<4xi32>, %b: tensor<4xi32>, %f: tensor<4xf32>) -> (tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>) {
  %0 = "onnx.Div"(%a, %b) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %1 = "onnx.Mod"(%a, %b) <{fmod = 0 : i64}> : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %2 = "onnx.Mod"(%a, %b) <{fmod = 1 : i64}> : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  %3 = "onnx.Cast"(%f) <{to = 6 : i64}> : (tensor<4xf32>) -> tensor<4xi32>
  return %0, %1, %2, %3 : tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>
}

func.func private @printMemrefF32(tensor<*xf32>)
func.func private @printMemrefI32(tensor<*xi32>)

func.func @print6(%t: tensor<6xf32>) {
  %u = tensor.cast %t : tensor<6xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func @print4i(%t: tensor<4xi32>) {
  %u = tensor.cast %t : tensor<4xi32> to tensor<*xi32>
  call @printMemrefI32(%u) : (tensor<*xi32>) -> ()
  return
}

func.func @main() {
  %x = arith.constant dense<[-3.0, -1.0, -0.5, 0.0, 0.5, 2.0]> : tensor<6xf32>
  %y = arith.constant dense<[2.0, 4.0, -8.0, 1.0, 0.25, 3.0]> : tensor<6xf32>
  %u:10 = call @unary(%x) : (tensor<6xf32>) -> (tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>)
  // CHECK: [-0.00404969, -0.158655, -0.154269, 0, 0.345731, 1.9545]
  call @print6(%u#0) : (tensor<6xf32>) -> ()
  // At -3, 1 + tanh(...) cancels in float32: 4 significant digits there.
  // CHECK: [-0.003637{{[0-9]+}}, -0.158808, -0.154286, 0, 0.345714, 1.9546]
  call @print6(%u#1) : (tensor<6xf32>) -> ()
  // CHECK: [0.0474259, 0.268941, 0.377541, 0.5, 0.622459, 0.880797]
  call @print6(%u#2) : (tensor<6xf32>) -> ()
  // CHECK: [-0.995055, -0.761594, -0.462117, 0, 0.462117, 0.964028]
  call @print6(%u#3) : (tensor<6xf32>) -> ()
  // CHECK: [-0, -0.333333, -0.208333, 0, 0.291667, 1.66667]
  call @print6(%u#4) : (tensor<6xf32>) -> ()
  // CHECK: [-0.950213, -0.632121, -0.393469, 0, 0.5, 2]
  call @print6(%u#5) : (tensor<6xf32>) -> ()
  // CHECK: [-1.67057, -1.11133, -0.691758, 0, 0.525351, 2.1014]
  call @print6(%u#6) : (tensor<6xf32>) -> ()
  // CHECK: [0.0485874, 0.313262, 0.474077, 0.693147, 0.974077, 2.12693]
  call @print6(%u#7) : (tensor<6xf32>) -> ()
  // CHECK: [-0.3, -0.1, -0.05, 0, 0.5, 2]
  call @print6(%u#8) : (tensor<6xf32>) -> ()
  // CHECK: [-0.999978, -0.842701, -0.5205, 0, 0.5205, 0.995322]
  call @print6(%u#9) : (tensor<6xf32>) -> ()

  %m = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %row = arith.constant dense<[0.5, 1.0, 1.5]> : tensor<3xf32>
  %b:3 = call @binary(%m, %row, %x, %y) : (tensor<2x3xf32>, tensor<3xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<2x3xf32>, tensor<6xf32>, tensor<6xf32>)
  %bm = tensor.cast %b#0 : tensor<2x3xf32> to tensor<*xf32>
  // CHECK: {{\[}}[0.5, 1, 1.5],
  // CHECK-NEXT: [3.5, 4, 4.5]]
  call @printMemrefF32(%bm) : (tensor<*xf32>) -> ()
  // CHECK: [-1.5, -0.25, 0.0625, 0, 2, 0.666667]
  call @print6(%b#1) : (tensor<6xf32>) -> ()
  // CHECK: [9, 1, 256, 0, 0.840896, 8]
  call @print6(%b#2) : (tensor<6xf32>) -> ()

  %ia = arith.constant dense<[7, -7, 7, -7]> : tensor<4xi32>
  %ib = arith.constant dense<[2, 2, -2, -2]> : tensor<4xi32>
  %if = arith.constant dense<[2.7, -2.7, 0.4, -0.4]> : tensor<4xf32>
  %i:4 = call @integers(%ia, %ib, %if) : (tensor<4xi32>, tensor<4xi32>, tensor<4xf32>) -> (tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>)
  // CHECK: [3, -3, -3, 3]
  call @print4i(%i#0) : (tensor<4xi32>) -> ()
  // CHECK: [1, 1, -1, -1]
  call @print4i(%i#1) : (tensor<4xi32>) -> ()
  // CHECK: [1, -1, 1, -1]
  call @print4i(%i#2) : (tensor<4xi32>) -> ()
  // CHECK: [2, -2, 0, 0]
  call @print4i(%i#3) : (tensor<4xi32>) -> ()
  return
}
