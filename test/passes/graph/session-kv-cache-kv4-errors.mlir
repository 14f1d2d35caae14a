// RUN: kiln-opt %s -verify-diagnostics -kiln-graph-session-kv-cache="element-type=kv4"

// Four-bit rows pack values in pairs: an odd head size is refused.
// expected-error @+1 {{a 4-bit cache holds f32 keys and values of an even head size, not 'tensor<?x3x?x7xf32>'}}
func.func @decoder(%mask: tensor<?x?xi64> {onnx.name = "attention_mask", onnx.dim_params = ["batch_size", "total_sequence_length"]},
                   %past: tensor<?x3x?x7xf32> {onnx.name = "past_key_values.0.key", onnx.dim_params = ["batch_size", "", "past_sequence_length", ""]},
                   %new: tensor<?x3x?x7xf32> {onnx.name = "new", onnx.dim_params = ["batch_size", "", "sequence_length", ""]})
    -> (tensor<?x3x?x7xf32> {onnx.name = "present.0.key", onnx.dim_params = ["batch_size", "", "total_sequence_length", ""]}) {
  %present = "onnx.Concat"(%past, %new) {axis = 2 : i64} : (tensor<?x3x?x7xf32>, tensor<?x3x?x7xf32>) -> tensor<?x3x?x7xf32>
  return %present : tensor<?x3x?x7xf32>
}
