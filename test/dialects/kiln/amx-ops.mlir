// RUN: kiln-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @tiles
// CHECK: kiln.amx_configure
// CHECK: kiln.amx_zero 0
// CHECK: kiln.amx_load 4, %arg0[%arg2], %arg3 : memref<?xbf16>
// CHECK: kiln.amx_dot 0, 4, 6
// CHECK: kiln.amx_dot 1, 4, 7 {u8s8}
// CHECK: kiln.amx_store 0, %arg1[%arg2], %arg3 : memref<?xf32>
// CHECK: kiln.amx_release
func.func @tiles(%a: memref<?xbf16>, %c: memref<?xf32>, %at: index, %stride: index) {
  kiln.amx_configure
  kiln.amx_zero 0
  kiln.amx_load 4, %a[%at], %stride : memref<?xbf16>
  kiln.amx_dot 0, 4, 6
  kiln.amx_dot 1, 4, 7 {u8s8}
  kiln.amx_store 0, %c[%at], %stride : memref<?xf32>
  kiln.amx_release
  return
}

// -----

func.func @no_such_tile() {
  // expected-error@+1 {{the tile 8 is not one of the 8 tiles (0 to 7)}}
  kiln.amx_zero 8
  return
}

// -----

func.func @load_tile(%a: memref<?xbf16>, %at: index) {
  // expected-error@+1 {{the tile 9 is not one of the 8 tiles (0 to 7)}}
  kiln.amx_load 9, %a[%at], %at : memref<?xbf16>
  return
}

// -----

func.func @store_tile(%a: memref<?xf32>, %at: index) {
  // expected-error@+1 {{the tile 12 is not one of the 8 tiles (0 to 7)}}
  kiln.amx_store 12, %a[%at], %at : memref<?xf32>
  return
}

// -----

func.func @dot_tile() {
  // expected-error@+1 {{the rhs tile 8 is not one of the 8 tiles (0 to 7)}}
  kiln.amx_dot 0, 4, 8
  return
}

// -----

func.func @same_tiles() {
  // expected-error@+1 {{multiplies three different tiles, not 0, 4 and 0}}
  kiln.amx_dot 0, 4, 0
  return
}

// -----

func.func @negative_tile() {
  // expected-error@+1 {{attribute 'tile' failed to satisfy constraint}}
  kiln.amx_zero -1
  return
}

// -----

func.func @two_dimensions(%a: memref<4x4xbf16>, %at: index) {
  // expected-error@+1 {{must be 1D memref of bfloat16 type or 32-bit float or 8-bit signless integer or 32-bit signless integer values}}
  kiln.amx_load 0, %a[%at], %at : memref<4x4xbf16>
  return
}
