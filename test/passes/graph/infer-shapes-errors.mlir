// RUN: kiln-opt %s -split-input-file -kiln-graph-infer-shapes -verify-diagnostics

// A declared shape the operands contradict is an error, not a truncation.
func.func @relu(%x: tensor<1x5xf32>) -> tensor<1x4xf32> {
  // expected-error@+1 {{'onnx.Relu' op result #0 is declared [1,4], but its operands make it [1,5]}}
  %y = "onnx.Relu"(%x) : (tensor<1x5xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

func.func @matmul(%a: tensor<2x3xf32>, %b: tensor<3x7xf32>) -> tensor<2x?x1xf32> {
  // expected-error@+1 {{'onnx.MatMul' op result #0 is declared [2,?,1], but its operands make it [2,7]}}
  %y = "onnx.MatMul"(%a, %b) : (tensor<2x3xf32>, tensor<3x7xf32>) -> tensor<2x?x1xf32>
  return %y : tensor<2x?x1xf32>
}
