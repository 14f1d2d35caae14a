// RUN: kiln-opt %s -kiln-layout-pack-contractions=vector-bits=1024 -verify-diagnostics

// expected-error@+1 {{vector-bits must be 256 or 512, not 1024}}
func.func @main(%a: tensor<4x3xf32>) -> tensor<4x3xf32> {
  return %a : tensor<4x3xf32>
}
