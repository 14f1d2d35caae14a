// RUN: kiln-opt %s -kiln-quant-qoq=alpha=2 -verify-diagnostics

// expected-error@+1 {{group-size and grid must be positive and alpha within [0, 1]}}
func.func @alpha(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
  return %x : tensor<1x64xf32>
}
