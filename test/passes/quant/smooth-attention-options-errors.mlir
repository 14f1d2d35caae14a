// RUN: kiln-opt %s -kiln-quant-smooth-attention=alpha=2 -verify-diagnostics

// expected-error@+1 {{alpha must be within [0, 1], not 2}}
func.func @alpha(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
  return %x : tensor<1x64xf32>
}
