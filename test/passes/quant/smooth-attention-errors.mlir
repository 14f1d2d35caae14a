// RUN: kiln-opt %s -split-input-file -kiln-quant-smooth-attention -verify-diagnostics


// A cache whose written rows carry a bias (a constant added after the
// projection) is left alone: the bias would need the same scaling.
// expected-warning@+1 {{nothing to smooth: no session key cache is written from a key projection with calibration statistics and read by a product with a query projection}}
func.func @biased(%x: tensor<2x4xf32>, %state: tensor<1x1x8x4xf32> {kiln.kv_cache_state = {past = "past.key", present = "present.key"}}) -> tensor<1x1x2x2xf32> {
  %w = "onnx.Constant"() {value = dense<1.0> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %b = "onnx.Constant"() {value = dense<0.5> : tensor<4xf32>} : () -> tensor<4xf32>
  %k = "onnx.MatMul"(%x, %w) {kiln.activation_stats = {abs_max = dense<1.0> : tensor<4xf32>, abs_mean = dense<0.25> : tensor<4xf32>, samples = dense<[[1.0, 0.0, 0.0, 0.0]]> : tensor<1x4xf32>}} : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %kb = "onnx.Add"(%k, %b) : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %kshape = "onnx.Constant"() {value = dense<[1, 1, 2, 4]> : tensor<4xi64>} : () -> tensor<4xi64>
  %kr = "onnx.Reshape"(%kb, %kshape) : (tensor<2x4xf32>, tensor<4xi64>) -> tensor<1x1x2x4xf32>
  %updated = tensor.insert_slice %kr into %state[0, 0, 0, 0] [1, 1, 2, 4] [1, 1, 1, 1] : tensor<1x1x2x4xf32> into tensor<1x1x8x4xf32>
  %keys = tensor.extract_slice %updated[0, 0, 0, 0] [1, 1, 2, 4] [1, 1, 1, 1] : tensor<1x1x8x4xf32> to tensor<1x1x2x4xf32>
  %kt = "onnx.Transpose"(%keys) {perm = [0, 1, 3, 2]} : (tensor<1x1x2x4xf32>) -> tensor<1x1x4x2xf32>
  %scores = "onnx.MatMul"(%kr, %kt) : (tensor<1x1x2x4xf32>, tensor<1x1x4x2xf32>) -> tensor<1x1x2x2xf32>
  return %scores : tensor<1x1x2x2xf32>
}
