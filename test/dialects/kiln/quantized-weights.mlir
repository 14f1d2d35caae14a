// RUN: kiln-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// The quantization passes' note of each weight they quantized, on the
// model function, which the package's manifest keeps.
// CHECK: kiln.quantized_weights = [{bytes = 1088 : i64, float_bytes = 4096 : i64, node = "proj"}]
func.func @main() attributes {kiln.quantized_weights = [{node = "proj", float_bytes = 4096 : i64, bytes = 1088 : i64}]} {
  return
}

// -----

// expected-error@+1 {{'kiln.quantized_weights' belongs on a function: one {node, float_bytes, bytes} dictionary per quantized weight}}
func.func @missing_size() attributes {kiln.quantized_weights = [{node = "proj", float_bytes = 4096 : i64}]} {
  return
}

// -----

func.func @not_a_function(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error@+1 {{'kiln.quantized_weights' belongs on a function: one {node, float_bytes, bytes} dictionary per quantized weight}}
  %y = "onnx.Relu"(%x) {kiln.quantized_weights = []} : (tensor<2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}
