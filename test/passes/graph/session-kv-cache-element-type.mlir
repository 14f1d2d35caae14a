// RUN: kiln-opt %s -verify-diagnostics -kiln-graph-session-kv-cache="element-type=f16"

// The cache is held in f32, bf16 or 4-bit rows only.
// expected-error @+1 {{the session cache's element type is f32, bf16 or kv4, not 'f16'}}
func.func @decoder(%past: tensor<1x3x?x8xf32> {onnx.name = "past.0.key"}, %new: tensor<1x3x?x8xf32>)
    -> (tensor<1x3x?x8xf32> {onnx.name = "present.0.key"}) {
  %c = "onnx.Concat"(%past, %new) {axis = 2 : i64} : (tensor<1x3x?x8xf32>, tensor<1x3x?x8xf32>) -> tensor<1x3x?x8xf32>
  return %c : tensor<1x3x?x8xf32>
}
