// RUN: kiln-opt %s -split-input-file -kiln-sparsity-quest="budget=8 page=16" -verify-diagnostics
// RUN: not kiln-opt %s -split-input-file -kiln-sparsity-quest="budget=64 page=24" 2>&1 | FileCheck %s --check-prefix=PAGE
// RUN: kiln-opt %s -split-input-file -kiln-sparsity-quest="budget=64 warn" 2>&1 | FileCheck %s --check-prefix=NONE

// PAGE: error: Quest's pages are a positive multiple of 16 tokens, not 24
// NONE: warning: Quest has no decode attention to make sparse: 0 attention(s) over the session's key cache, and the first 2 stay dense

// expected-error @+1 {{a Quest budget of 8 tokens is less than one page of 16}}
func.func @no_cache(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
