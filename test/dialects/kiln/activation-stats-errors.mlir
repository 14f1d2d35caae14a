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

// -----

// The mean of the rows a cache receives has the output's channels.
func.func @cache_mean_channels(%x: tensor<2x4xf32>, %w: tensor<4x2xf32>) -> tensor<2x2xf32> {
  // expected-error@+1 {{and optionally f32 [N] 'cache_mean', N its output's last extent}}
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<1.0> : tensor<4xf32>, abs_mean = dense<1.0> : tensor<4xf32>, cache_mean = dense<1.0> : tensor<4xf32>, samples = dense<1.0> : tensor<2x4xf32>}} : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// A cache mean of the output's channels verifies.
func.func @cache_mean(%x: tensor<2x4xf32>, %w: tensor<4x2xf32>) -> tensor<2x2xf32> {
  %y = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<1.0> : tensor<4xf32>, abs_mean = dense<1.0> : tensor<4xf32>, cache_mean = dense<1.0> : tensor<2xf32>, samples = dense<1.0> : tensor<2x4xf32>}} : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
