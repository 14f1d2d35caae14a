// RUN: kiln-opt %s -split-input-file -verify-diagnostics -kiln-graph-session-kv-cache

// A Concat on another axis is not a cache append.
// expected-error @+1 {{no key/value cache to give the session: no output is a Concat of a 4-D past input}}
func.func @other_axis(%a: tensor<?x3x?x8xf32>, %b: tensor<?x3x?x8xf32>) -> tensor<?x3x?x8xf32> {
  %c = "onnx.Concat"(%a, %b) {axis = 3 : i64} : (tensor<?x3x?x8xf32>, tensor<?x3x?x8xf32>) -> tensor<?x3x?x8xf32>
  return %c : tensor<?x3x?x8xf32>
}

// -----

// Without a name for the present's sequence dimension the session cannot
// check the room for the new tokens.
// expected-error @+1 {{output 'present.0.key' does not name its sequence dimension}}
func.func @unnamed(%past: tensor<1x3x?x8xf32> {onnx.name = "past.0.key"}, %new: tensor<1x3x?x8xf32>)
    -> (tensor<1x3x?x8xf32> {onnx.name = "present.0.key"}) {
  %c = "onnx.Concat"(%past, %new) {axis = 2 : i64} : (tensor<1x3x?x8xf32>, tensor<1x3x?x8xf32>) -> tensor<1x3x?x8xf32>
  return %c : tensor<1x3x?x8xf32>
}

// -----

// The total length must come from an input (the attention mask).
// expected-error @+1 {{no input has the present outputs' sequence dimension 'total'}}
func.func @no_mask(%past: tensor<1x3x?x8xf32> {onnx.name = "past.0.key"}, %new: tensor<1x3x?x8xf32>)
    -> (tensor<1x3x?x8xf32> {onnx.name = "present.0.key", onnx.dim_params = ["", "", "total", ""]}) {
  %c = "onnx.Concat"(%past, %new) {axis = 2 : i64} : (tensor<1x3x?x8xf32>, tensor<1x3x?x8xf32>) -> tensor<1x3x?x8xf32>
  return %c : tensor<1x3x?x8xf32>
}
