// RUN: kiln-opt %s -split-input-file -kiln-quant-smoothquant -verify-diagnostics
// RUN: not kiln-opt %s -kiln-quant-smoothquant="alpha=1.5" 2>&1 | FileCheck %s --check-prefix=ALPHA

// ALPHA: error: alpha must be within [0, 1], not 1.5

// Without statistics (no calibration) nothing is quantized, with a
// warning, and the function stays as it was.
// expected-warning@+1 {{nothing to quantize: no matrix product or convolution with a constant f32 weight has calibration statistics (the function stays in floating point)}}
func.func @no_stats(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %w = "onnx.Constant"() {value = dense<[[1.0], [-1.0]]> : tensor<2x1xf32>} : () -> tensor<2x1xf32>
  %y = "onnx.MatMul"(%x, %w) : (tensor<3x2xf32>, tensor<2x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}
