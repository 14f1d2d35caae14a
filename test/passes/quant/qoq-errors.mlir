// RUN: kiln-opt %s -split-input-file -kiln-quant-qoq=group-size=64 -verify-diagnostics

func.func @group_divides(%x: tensor<1x96xf32>) -> tensor<1x2xf32> {
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<96x2xf32>} : () -> tensor<96x2xf32>
  // expected-error@+1 {{group size 64 does not divide the 96 input channels of this product (choose a divisor of 96, or exclude the node)}}
  %y = "onnx.MatMul"(%x, %w) : (tensor<1x96xf32>, tensor<96x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// expected-warning@+1 {{nothing to quantize: no matrix product has a constant f32 weight (the function stays in floating point)}}
func.func @nothing(%x: tensor<1x64xf32>, %v: tensor<64x2xf32>) -> tensor<1x2xf32> {
  %y = "onnx.MatMul"(%x, %v) : (tensor<1x64xf32>, tensor<64x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
