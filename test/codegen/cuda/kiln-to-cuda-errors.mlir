// What the kernel emitter cannot translate is an error on the op.
// RUN: kiln-translate --kiln-to-cuda %s -split-input-file -verify-diagnostics

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %count: memref<1xi64>) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %loaded = memref.load %count[%c0] : memref<1xi64>
  %n = arith.index_cast %loaded : i64 to index
  %one = arith.constant 1.0 : f32
  %out = memref.alloc() : memref<4xf32>
  // expected-error@+1 {{CUDA code generation needs static shapes (a loop bound is only known at run time)}}
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %one, %out[%i] : memref<4xf32>
    scf.reduce
  }
  return %out : memref<4xf32>
}

// -----

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %out = memref.alloc() : memref<4xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    // expected-error@+1 {{CUDA code generation does not support the constant dense<1.000000e+00> : vector<4xf32>}}
    %v = arith.constant dense<1.0> : vector<4xf32>
    %e = vector.extract %v[0] : f32 from vector<4xf32>
    memref.store %e, %out[%i] : memref<4xf32>
    scf.reduce
  }
  return %out : memref<4xf32>
}

// -----

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}) -> memref<4xf32> {
  // expected-error@+1 {{CUDA code generation needs every intermediate buffer in the memory plan (static shapes)}}
  %scratch = memref.alloc() : memref<4xf32>
  %out = memref.alloc() : memref<4xf32>
  return %out : memref<4xf32>
}

// -----

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %x: memref<4xf32>) -> memref<4xf32> {
  // expected-error@+1 {{CUDA code generation needs result 0 in a buffer of its own with a static shape}}
  return %x : memref<4xf32>
}
