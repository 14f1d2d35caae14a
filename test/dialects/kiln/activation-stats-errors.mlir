// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @missing_samples(%x: tensor<2x4xf32>, %w: tensor<4x1xf32>) -> tensor<2x1xf32> {
  // expected-error@+1 {{'kiln.activation_stats' belongs on a product: f32 [K] 'abs_max' and 'abs_mean' (and optionally 'mean'), f32 [T, K] 'samples' (and optionally f32 [K, K] 'gram'), K its left operand's last extent}}
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<1.0> : tensor<4xf32>, abs_mean = dense<1.0> : tensor<4xf32>}} : (tensor<2x4xf32>, tensor<4x1xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

// -----

func.func @channels(%x: tensor<2x4xf32>, %w: tensor<4x1xf32>) -> tensor<2x1xf32> {
  // expected-error@+1 {{'kiln.activation_stats' belongs on a product}}
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<1.0> : tensor<3xf32>, abs_mean = dense<1.0> : tensor<3xf32>, samples = dense<1.0> : tensor<2x3xf32>}} : (tensor<2x4xf32>, tensor<4x1xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

// -----

func.func @mean_channels(%x: tensor<2x4xf32>, %w: tensor<4x1xf32>) -> tensor<2x1xf32> {
  // expected-error@+1 {{'kiln.activation_stats' belongs on a product}}
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<1.0> : tensor<4xf32>, abs_mean = dense<1.0> : tensor<4xf32>, mean = dense<1.0> : tensor<3xf32>, samples = dense<1.0> : tensor<2x4xf32>}} : (tensor<2x4xf32>, tensor<4x1xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

// -----

func.func @gram_shape(%x: tensor<2x4xf32>, %w: tensor<4x1xf32>) -> tensor<2x1xf32> {
  // expected-error@+1 {{'kiln.activation_stats' belongs on a product}}
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<1.0> : tensor<4xf32>, abs_mean = dense<1.0> : tensor<4xf32>, gram = dense<1.0> : tensor<4x3xf32>, samples = dense<1.0> : tensor<2x4xf32>}} : (tensor<2x4xf32>, tensor<4x1xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}
