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

// -----

// expected-error@+1 {{CUDA code generation expects only buffers as arguments of the model function}}
func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %n: index) -> memref<4xf32> {
  %out = memref.alloc() : memref<4xf32>
  return %out : memref<4xf32>
}

// -----

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %count: memref<1xindex>) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %shift = memref.load %count[%c0] : memref<1xindex>
  // expected-error@+1 {{CUDA code generation needs buffers of static size at static offsets}}
  %v = memref.view %workspace[%shift][] : memref<?xi8> to memref<4xf32>
  %out = memref.alloc() : memref<4xf32>
  memref.copy %v, %out : memref<4xf32> to memref<4xf32>
  return %out : memref<4xf32>
}

// -----

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %out = memref.alloc() : memref<4xf32>
  // expected-error@+1 {{CUDA code generation does not support parallel loops with reductions}}
  %sum = scf.parallel (%i) = (%c0) to (%c4) step (%c1) init (%zero) -> f32 {
    scf.reduce(%zero : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %out : memref<4xf32>
}

// -----

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %huge = arith.constant 1000000000000 : index
  %one = arith.constant 1.0 : f32
  %out = memref.alloc() : memref<4xf32>
  // expected-error@+1 {{CUDA code generation: the loop nest has too many iterations for one launch}}
  scf.parallel (%i) = (%c0) to (%huge) step (%c1) {
    memref.store %one, %out[%c0] : memref<4xf32>
    scf.reduce
  }
  return %out : memref<4xf32>
}

// -----

// expected-error@+1 {{CUDA code generation expects the model function to be one block}}
func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}) -> memref<4xf32> {
  %out = memref.alloc() : memref<4xf32>
  cf.br ^next
^next:
  return %out : memref<4xf32>
}

// -----

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}) -> memref<4xf32> {
  %one = arith.constant 1.0 : f32
  %out = memref.alloc() : memref<4xf32>
  // expected-error@+1 {{CUDA code generation does not support 'linalg.fill'}}
  linalg.fill ins(%one : f32) outs(%out : memref<4xf32>)
  return %out : memref<4xf32>
}

// -----

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %x: memref<128x64xf32>, %row: memref<1xindex>) -> memref<64x64xf32> {
  %c0 = arith.constant 0 : index
  %start = memref.load %row[%c0] : memref<1xindex>
  %a = memref.subview %x[%start, 0] [64, 64] [1, 1] : memref<128x64xf32> to memref<64x64xf32, strided<[64, 1], offset: ?>>
  %b = memref.view %weights[%c0][] : memref<?xi8> to memref<64x64xf32>
  %out = memref.alloc() : memref<64x64xf32>
  // expected-error@+1 {{CUDA code generation needs GEMM operands at static offsets}}
  linalg.matmul ins(%a, %b : memref<64x64xf32, strided<[64, 1], offset: ?>>, memref<64x64xf32>) outs(%out : memref<64x64xf32>)
  return %out : memref<64x64xf32>
}

// -----

func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %x: memref<4xi32>) -> memref<4xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %out = memref.alloc() : memref<4xi32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %v = memref.load %x[%i] : memref<4xi32>
    // expected-error@+1 {{CUDA code generation does not support values of type 'i33'}}
    %wide = arith.extsi %v : i32 to i33
    %back = arith.trunci %wide : i33 to i32
    memref.store %back, %out[%i] : memref<4xi32>
    scf.reduce
  }
  return %out : memref<4xi32>
}

// -----

// A constant whose blob is shorter than its type is an error, not zeros.
// expected-error@+1 {{constant 'table' holds 8 bytes; its type 'memref<4xf32>' needs 16}}
memref.global "private" constant @table : memref<4xf32> = dense_resource<short_blob>
func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %t = memref.get_global @table : memref<4xf32>
  %out = memref.alloc() : memref<4xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %v = memref.load %t[%i] : memref<4xf32>
    memref.store %v, %out[%i] : memref<4xf32>
    scf.reduce
  }
  return %out : memref<4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      short_blob: "0x040000000000803F0000803F"
    }
  }
#-}

// -----

// With sizes known only at run time, the host computes every size from the
// inputs' dimensions and the integers it reads from device memory; a size
// from a float is refused.
func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %x: memref<?xf32>) -> memref<?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %loaded = memref.load %x[%c0] : memref<?xf32>
  %count = arith.fptosi %loaded : f32 to i64
  %n = arith.index_cast %count : i64 to index
  %one = arith.constant 1.0 : f32
  // expected-error@+1 {{CUDA code generation cannot compute this size on the host (it is not arithmetic on the inputs' dimensions)}}
  %out = memref.alloc(%n) : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %one, %out[%i] : memref<?xf32>
    scf.reduce
  }
  return %out : memref<?xf32>
}

// -----

// An integer size read from device memory through a view the host cannot
// place (its offset known only to the kernels).
func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %x: memref<?xi64>) -> memref<?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %first = memref.load %x[%c0] : memref<?xi64>
  %at = arith.index_cast %first : i64 to index
  %one = arith.constant 1.0 : f32
  %cell = memref.subview %x[%at] [1] [1] : memref<?xi64> to memref<1xi64, strided<[1], offset: ?>>
  // expected-error@+1 {{CUDA code generation reads a size from device memory only through views of static layout}}
  %loaded = memref.load %cell[%c0] : memref<1xi64, strided<[1], offset: ?>>
  %n = arith.index_cast %loaded : i64 to index
  %out = memref.alloc(%n) : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %one, %out[%i] : memref<?xf32>
    scf.reduce
  }
  return %out : memref<?xf32>
}

// -----

// A bf16 cache's attention is lowered to linalg before it gets here; the
// fused kernel reads f32 keys and values only.
func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %q: memref<2x3x16xf32>, %k: memref<2x7x16xbf16>, %v: memref<2x7x16xbf16>) -> memref<2x3x16xf32> {
  %out = memref.alloc() : memref<2x3x16xf32>
  // expected-error@+1 {{'kiln.attention' op takes the fused CUDA kernel only with f32 keys and values and a head size of at most 256}}
  kiln.attention %q, %k, %v into %out {scale = 0.25 : f32, key_rows} : memref<2x3x16xf32>, memref<2x7x16xbf16>, memref<2x7x16xbf16> into memref<2x3x16xf32>
  return %out : memref<2x3x16xf32>
}

// -----

// A past cache read where it is is the CPU pipeline's alone.
func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %q: memref<2x1x16xf32>, %k: memref<2x1x16xf32>, %v: memref<2x1x16xf32>, %pk: memref<2x7x16xf32>, %pv: memref<2x7x16xf32>) -> memref<2x1x16xf32> {
  %out = memref.alloc() : memref<2x1x16xf32>
  // expected-error@+1 {{'kiln.attention' op with past keys and values has no CUDA kernel}}
  kiln.attention %q, %k, %v past %pk, %pv into %out {scale = 0.25 : f32, key_rows} : memref<2x1x16xf32>, memref<2x1x16xf32>, memref<2x1x16xf32> past memref<2x7x16xf32>, memref<2x7x16xf32> into memref<2x1x16xf32>
  return %out : memref<2x1x16xf32>
}
