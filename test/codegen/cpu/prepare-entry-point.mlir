// RUN: kiln-opt %s -split-input-file -verify-diagnostics -kiln-cpu-prepare-entry-point | FileCheck %s

// @main becomes @kiln_model with a C interface and without its ONNX
// argument and result attributes.

// CHECK-LABEL: func.func @kiln_model(
// CHECK-SAME: %{{.*}}: memref<?xi8>, %{{.*}}: memref<4xf32>) -> memref<4xf32>
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK-NOT: onnx.name
func.func @main(%w: memref<?xi8> {kiln.weights}, %x: memref<4xf32> {onnx.name = "x"}) -> (memref<4xf32> {onnx.name = "y"}) {
  return %x : memref<4xf32>
}

// -----

// expected-error@below {{the model has no outputs}}
func.func @main(%w: memref<?xi8>) {
  return
}

// -----

// expected-error@below {{the model has no function @main to compile}}
module {
}

// -----

// expected-error@below {{the symbol @kiln_model is already defined}}
module {
  func.func @main(%w: memref<?xi8>) -> memref<?xi8> {
    return %w : memref<?xi8>
  }
  func.func private @kiln_model()
}
