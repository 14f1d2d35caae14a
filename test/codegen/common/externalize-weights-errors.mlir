// RUN: kiln-opt %s -split-input-file -verify-diagnostics -kiln-externalize-weights

// expected-error@below {{the model has no function @main to compile}}
module {
  func.func @not_main() {
    return
  }
}

// -----

memref.global "private" constant @w : memref<32xf32> = dense<1.0>
func.func @main() {
  return
}
func.func @helper() -> memref<32xf32> {
  // expected-error@below {{a weight is used outside @main}}
  %0 = memref.get_global @w : memref<32xf32>
  return %0 : memref<32xf32>
}
