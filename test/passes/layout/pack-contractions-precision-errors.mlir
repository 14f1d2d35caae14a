// RUN: kiln-opt %s -kiln-layout-pack-contractions=precision=f16 -verify-diagnostics

// expected-error@+1 {{precision must be f32 or bf16, not 'f16'}}
func.func @main(%a: tensor<4x3xf32>) -> tensor<4x3xf32> {
  return %a : tensor<4x3xf32>
}
