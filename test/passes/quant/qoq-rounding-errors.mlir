// RUN: kiln-opt %s -kiln-quant-qoq=rounding=stochastic -verify-diagnostics

// expected-error@+1 {{rounding must be 'nearest' or 'gptq', not 'stochastic'}}
func.func @rounding(%x: tensor<1x64xf32>) -> tensor<1x64xf32> {
  return %x : tensor<1x64xf32>
}
