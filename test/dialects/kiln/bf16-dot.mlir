// RUN: kiln-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @dot
// CHECK: kiln.bf16_dot %arg0, %arg1, %arg2 : vector<16xbf16> into vector<8xf32>
func.func @dot(%acc: vector<8xf32>, %a: vector<16xbf16>, %b: vector<16xbf16>) -> vector<8xf32> {
  %r = kiln.bf16_dot %acc, %a, %b : vector<16xbf16> into vector<8xf32>
  return %r : vector<8xf32>
}

// -----

func.func @lanes(%acc: vector<2xf32>, %a: vector<4xbf16>, %b: vector<4xbf16>) -> vector<2xf32> {
  // expected-error@+1 {{takes 4, 8 or 16 f32 lanes, not 2}}
  %r = kiln.bf16_dot %acc, %a, %b : vector<4xbf16> into vector<2xf32>
  return %r : vector<2xf32>
}

// -----

func.func @pairs(%acc: vector<8xf32>, %a: vector<8xbf16>, %b: vector<8xbf16>) -> vector<8xf32> {
  // expected-error@+1 {{needs 16 bf16 values (two per lane)}}
  %r = kiln.bf16_dot %acc, %a, %b : vector<8xbf16> into vector<8xf32>
  return %r : vector<8xf32>
}
