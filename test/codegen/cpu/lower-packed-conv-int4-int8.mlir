// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv -canonicalize | FileCheck %s
// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv=vector-bits=256 -canonicalize | FileCheck %s --check-prefix=AVX2

// W4A8: 8-bit rows by a 4-bit filter, 32 filters a tile (two 16-lane
// vectors), groups of 32 of the 64 channels (8 quads each). Per group the
// tile's i32 scales, zero points (bytes) and starting sums load once; the
// group's sums start from the latter. Per quad one 64-byte load gives the
// two vectors' nibble quads (mask, shift), each less its zero points, and
// each row's quad (top bits flipped: x + 128) is broadcast into
// kiln.int8_dot with the narrow filter. At the group's end its sums times
// its scale join the accumulators, which are exact integers converted to
// f32 before the bias. (Five pixels are fewer than a tile's rows: one at
// a time.)
// CHECK-LABEL: func.func @int4_int8
// CHECK: scf.for {{.*}} = %c0 to %c2 step %c1 iter_args(%[[ACC0:.*]] = %{{.*}}, %[[ACC1:.*]] = %{{.*}}) -> (vector<16xi32>, vector<16xi32>)
// CHECK: %[[SCALE0:.*]] = vector.load {{.*}} : memref<384xi32>, vector<16xi32>
// CHECK: %[[ZW0:.*]] = vector.load {{.*}} : memref<384xi32>, vector<16xi32>
// CHECK: %[[Z0:.*]] = vector.bitcast %[[ZW0]] : vector<16xi32> to vector<64xi8>
// CHECK: %[[START0:.*]] = vector.load {{.*}} : memref<384xi32>, vector<16xi32>
// CHECK: %[[SCALE1:.*]] = vector.load {{.*}} : memref<384xi32>, vector<16xi32>
// CHECK: %[[Z1:.*]] = vector.bitcast {{.*}} : vector<16xi32> to vector<64xi8>
// CHECK: %[[START1:.*]] = vector.load {{.*}} : memref<384xi32>, vector<16xi32>
// CHECK: %[[SUMS:.*]]:2 = scf.for {{.*}} iter_args(%[[G0:.*]] = %[[START0]], %[[G1:.*]] = %[[START1]]) -> (vector<16xi32>, vector<16xi32>)
// CHECK: %[[BYTES:.*]] = vector.load {{.*}} : memref<2048xi8>, vector<64xi8>
// CHECK: %[[LOW:.*]] = arith.andi %[[BYTES]], %{{.*}} : vector<64xi8>
// CHECK: %[[HIGH:.*]] = arith.shrui %[[BYTES]], %{{.*}} : vector<64xi8>
// CHECK: %[[W0:.*]] = arith.subi %[[LOW]], %[[Z0]] : vector<64xi8>
// CHECK: %[[W1:.*]] = arith.subi %[[HIGH]], %[[Z1]] : vector<64xi8>
// CHECK: %[[FLIPPED:.*]] = arith.xori %{{.*}}, %c-2139062144_i32 : i32
// CHECK: %[[SPLAT:.*]] = vector.broadcast %[[FLIPPED]] : i32 to vector<16xi32>
// CHECK: %[[ROW:.*]] = vector.bitcast %[[SPLAT]] : vector<16xi32> to vector<64xi8>
// CHECK: kiln.int8_dot %[[G0]], %[[ROW]], %[[W0]] {narrow_rhs} : vector<64xi8> into vector<16xi32>
// CHECK: kiln.int8_dot %[[G1]], %[[ROW]], %[[W1]] {narrow_rhs} : vector<64xi8> into vector<16xi32>
// CHECK: %[[SCALED0:.*]] = arith.muli %[[SUMS]]#0, %[[SCALE0]] : vector<16xi32>
// CHECK: arith.addi %[[ACC0]], %[[SCALED0]] : vector<16xi32>
// CHECK: %[[SCALED1:.*]] = arith.muli %[[SUMS]]#1, %[[SCALE1]] : vector<16xi32>
// CHECK: arith.addi %[[ACC1]], %[[SCALED1]] : vector<16xi32>
// CHECK: %[[F:.*]] = arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: %[[BIASED:.*]] = arith.addf %[[F]], %{{.*}} : vector<16xf32>
// CHECK: vector.maskedstore {{.*}}, %[[BIASED]]
// On AVX2 a quad of 16 filters is 32 bytes, 8 lanes a vector.
// AVX2-LABEL: func.func @int4_int8
// AVX2: vector.load {{.*}} : memref<2048xi8>, vector<32xi8>
// AVX2: kiln.int8_dot {{.*}} {narrow_rhs} : vector<32xi8> into vector<8xi32>
func.func @int4_int8(%x: memref<1x1x5x64xi8>, %w: memref<2x1x1x16x16x4xi8>, %s: memref<2x2x3x32xi32>, %b: memref<64xf32>, %y: memref<1x1x5x50xf32>) {
  kiln.packed_conv2d %x, %w scales %s, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, narrow_filter, strides = array<i64: 1, 1>} : memref<1x1x5x64xi8>, memref<2x1x1x16x16x4xi8> scales memref<2x2x3x32xi32>, memref<64xf32> into memref<1x1x5x50xf32>
  return
}
