// RUN: kiln-opt %s -split-input-file -kiln-graph-decompose-llm-ops -verify-diagnostics

func.func @no_heads(%q: tensor<2x3x16xf32>, %k: tensor<2x5x16xf32>, %v: tensor<2x5x16xf32>) -> tensor<2x3x16xf32> {
  // expected-error@+1 {{'onnx.Attention' op cannot be compiled: 3-D inputs need q_num_heads and kv_num_heads}}
  %y = "onnx.Attention"(%q, %k, %v) {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>, resultSegmentSizes = array<i32: 1, 0, 0, 0>} : (tensor<2x3x16xf32>, tensor<2x5x16xf32>, tensor<2x5x16xf32>) -> tensor<2x3x16xf32>
  return %y : tensor<2x3x16xf32>
}

// -----

func.func @dynamic_length(%q: tensor<1x4x?x8xf32>, %k: tensor<1x4x?x8xf32>, %v: tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32> {
  // expected-error@+1 {{'onnx.Attention' op cannot be compiled: the head counts, sequence lengths and head size must be static}}
  %y = "onnx.Attention"(%q, %k, %v) {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>, resultSegmentSizes = array<i32: 1, 0, 0, 0>} : (tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32>) -> tensor<1x4x?x8xf32>
  return %y : tensor<1x4x?x8xf32>
}

// -----

func.func @groups(%q: tensor<1x4x2x8xf32>, %k: tensor<1x3x2x8xf32>, %v: tensor<1x3x2x8xf32>) -> tensor<1x4x2x8xf32> {
  // expected-error@+1 {{the KV heads (3) must divide the query heads (4)}}
  %y = "onnx.Attention"(%q, %k, %v) {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>, resultSegmentSizes = array<i32: 1, 0, 0, 0>} : (tensor<1x4x2x8xf32>, tensor<1x3x2x8xf32>, tensor<1x3x2x8xf32>) -> tensor<1x4x2x8xf32>
  return %y : tensor<1x4x2x8xf32>
}

// -----

func.func @long_mask(%q: tensor<1x2x2x8xf32>, %k: tensor<1x2x3x8xf32>, %v: tensor<1x2x3x8xf32>, %m: tensor<2x5xi1>) -> tensor<1x2x2x8xf32> {
  // expected-error@+1 {{attn_mask covers 5 keys, more than the 3 there are}}
  %y = "onnx.Attention"(%q, %k, %v, %m) {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0>, resultSegmentSizes = array<i32: 1, 0, 0, 0>} : (tensor<1x2x2x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<2x5xi1>) -> tensor<1x2x2x8xf32>
  return %y : tensor<1x2x2x8xf32>
}

// -----

func.func @mode(%q: tensor<1x2x2x8xf32>, %k: tensor<1x2x3x8xf32>, %v: tensor<1x2x3x8xf32>) -> (tensor<1x2x2x8xf32>, tensor<1x2x2x3xf32>) {
  // expected-error@+1 {{qk_matmul_output_mode 7 is not 0 to 3}}
  %y, %qk = "onnx.Attention"(%q, %k, %v) {qk_matmul_output_mode = 7 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>, resultSegmentSizes = array<i32: 1, 0, 0, 1>} : (tensor<1x2x2x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) -> (tensor<1x2x2x8xf32>, tensor<1x2x2x3xf32>)
  return %y, %qk : tensor<1x2x2x8xf32>, tensor<1x2x2x3xf32>
}

// -----

func.func @rms_axis(%x: tensor<2x5xf32>, %s: tensor<5xf32>) -> tensor<2x5xf32> {
  // expected-error@+1 {{'onnx.RMSNormalization' op cannot be compiled: axis 2 is outside the input's rank 2}}
  %y = "onnx.RMSNormalization"(%x, %s) {axis = 2 : i64} : (tensor<2x5xf32>, tensor<5xf32>) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

func.func @rms_stash(%x: tensor<2x5xf32>, %s: tensor<5xf32>) -> tensor<2x5xf32> {
  // expected-error@+1 {{stash_type 7 is not a float type}}
  %y = "onnx.RMSNormalization"(%x, %s) {stash_type = 7 : i64} : (tensor<2x5xf32>, tensor<5xf32>) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

func.func @rotary_heads(%x: tensor<1x3x16xf32>, %cos: tensor<10x4xf32>, %sin: tensor<10x4xf32>) -> tensor<1x3x16xf32> {
  // expected-error@+1 {{'onnx.RotaryEmbedding' op cannot be compiled: a 3-D input needs num_heads}}
  %y = "onnx.RotaryEmbedding"(%x, %cos, %sin) : (tensor<1x3x16xf32>, tensor<10x4xf32>, tensor<10x4xf32>) -> tensor<1x3x16xf32>
  return %y : tensor<1x3x16xf32>
}

// -----

func.func @rotary_dim(%x: tensor<1x2x3x8xf32>, %cos: tensor<10x4xf32>, %sin: tensor<10x4xf32>) -> tensor<1x2x3x8xf32> {
  // expected-error@+1 {{rotary_embedding_dim 5 must be even and at most the head size 8}}
  %y = "onnx.RotaryEmbedding"(%x, %cos, %sin) {rotary_embedding_dim = 5 : i64} : (tensor<1x2x3x8xf32>, tensor<10x4xf32>, tensor<10x4xf32>) -> tensor<1x2x3x8xf32>
  return %y : tensor<1x2x3x8xf32>
}
