// RUN: kiln-opt %s -kiln-lower-page-selection -verify-diagnostics

// 4-bit key rows: the CPU's lowering dequantizes them; this one does not.
func.func @four_bit_keys(%k: memref<2x64x12xi8>, %b: memref<2x8x16xf32>, %from: index, %to: index) {
  // expected-error @+1 {{'kiln.page_bounds' op has 4-bit key rows, which only the CPU's page selection reads}}
  kiln.page_bounds %k rows %from to %to into %b {page_size = 16 : i64} : memref<2x64x12xi8> into memref<2x8x16xf32>
  return
}
