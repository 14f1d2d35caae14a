// RUN: kiln-opt %s -kiln-lower-attention-to-linalg -split-input-file -verify-diagnostics

// QoQ's 4-bit cache rows: only the CPU's fused kernel dequantizes them.
func.func @four_bit_rows(%q: tensor<2x3x16xf32>, %k: tensor<2x?x12xi8>, %v: tensor<2x?x12xi8>, %o: tensor<2x3x16xf32>) -> tensor<2x3x16xf32> {
  // expected-error @+1 {{'kiln.attention' op has 4-bit keys or values, which only the CPU's attention kernel reads}}
  %r = kiln.attention %q, %k, %v into %o {scale = 0.25 : f32, key_rows} : tensor<2x3x16xf32>, tensor<2x?x12xi8>, tensor<2x?x12xi8> into tensor<2x3x16xf32> -> tensor<2x3x16xf32>
  return %r : tensor<2x3x16xf32>
}

// -----

// A past cache read where it is: only the CPU's fused kernel takes one.
func.func @past(%q: tensor<2x1x16xf32>, %k: tensor<2x1x16xbf16>, %v: tensor<2x1x16xbf16>, %pk: tensor<2x?x16xbf16>, %pv: tensor<2x?x16xbf16>, %o: tensor<2x1x16xf32>) -> tensor<2x1x16xf32> {
  // expected-error @+1 {{'kiln.attention' op with past keys and values, which only the CPU's attention kernel reads}}
  %r = kiln.attention %q, %k, %v past %pk, %pv into %o {scale = 0.25 : f32, key_rows} : tensor<2x1x16xf32>, tensor<2x1x16xbf16>, tensor<2x1x16xbf16> past tensor<2x?x16xbf16>, tensor<2x?x16xbf16> into tensor<2x1x16xf32> -> tensor<2x1x16xf32>
  return %r : tensor<2x1x16xf32>
}
