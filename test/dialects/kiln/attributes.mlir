// The attributes the code generators mark the model with verify where they
// belong, and are errors elsewhere.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// CHECK: module attributes {kiln.dynamic_buffers = 0 : i64, kiln.kernels = [{flops = 8 : i64, name = "relu"}], kiln.workspace_bytes = 64 : i64}
// CHECK: func.func @main(%{{.*}}: memref<?xi8> {kiln.weights}, %{{.*}}: memref<?xi8> {kiln.workspace}
// CHECK: {kiln.threaded}
module attributes {kiln.workspace_bytes = 64 : i64, kiln.dynamic_buffers = 0 : i64, kiln.kernels = [{name = "relu", flops = 8 : i64}]} {
  func.func @main(%w: memref<?xi8> {kiln.weights}, %s: memref<?xi8> {kiln.workspace}, %n: index) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      scf.reduce
    } {kiln.threaded}
    return
  }
}

// -----

// expected-error@+1 {{'kiln.workspace_bytes' must be a non-negative i64}}
module attributes {kiln.workspace_bytes = -1 : i64} {}

// -----

// The weights section's layout, on the module.
// CHECK: module attributes {kiln.weights = [{offset = 0 : i64, value = dense<1.000000e+00> : tensor<2xf32>}]}
module attributes {kiln.weights = [{offset = 0 : i64, value = dense<1.0> : tensor<2xf32>}]} {}

// -----

// expected-error@+1 {{each of 'kiln.weights' needs a non-negative 'offset' and elements 'value'}}
module attributes {kiln.weights = [{offset = 0 : i64}]} {}

// -----

// expected-error@+1 {{'kiln.dynamic_buffers' belongs on the module}}
func.func @f() attributes {kiln.dynamic_buffers = 0 : i64} {
  return
}

// -----

// expected-error@+1 {{each of 'kiln.kernels' needs a string 'name' and a non-negative 'flops'}}
module attributes {kiln.kernels = [{name = "relu"}]} {}

// -----

// expected-error@+1 {{unknown Kiln attribute 'kiln.workspace_size'}}
module attributes {kiln.workspace_size = 64 : i64} {}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error@+1 {{'kiln.threaded' is a unit attribute of scf.parallel}}
  scf.for %i = %c0 to %n step %c1 {
  } {kiln.threaded}
  return
}

// -----

// expected-error@+1 {{'kiln.weights' marks a memref<?xi8> argument, not 'memref<4xf32>'}}
func.func @f(%w: memref<4xf32> {kiln.weights}) {
  return
}

// -----

// expected-error@+1 {{arguments 0 and 1 are both marked 'kiln.workspace'}}
func.func @f(%a: memref<?xi8> {kiln.workspace}, %b: memref<?xi8> {kiln.workspace}) {
  return
}
