// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv | FileCheck %s
// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv -kiln-cpu-lower-int8-dot=vnni=true | FileCheck %s --check-prefix=VNNI
// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv -kiln-cpu-lower-int8-dot | FileCheck %s --check-prefix=WIDEN
// RUN: sed -e 's/pads = array/narrow_filter, pads = array/' %s | kiln-opt -kiln-cpu-lower-packed-conv -kiln-cpu-lower-int8-dot | FileCheck %s --check-prefix=NARROW

// 8-bit integers step over channel quads: 8 channels are 2 quads per tap,
// each tap's quads a loop. A pixel's quad is one 32-bit word with its top
// bits flipped (x + 128, the unsigned bytes vpdpbusd takes), broadcast;
// the filter's 16 filters x 4 channels are one 64-byte load. Padding
// reads integer zeros. The epilogue subtracts the compensation (in i32)
// and scales to f32 before the bias.
// CHECK-LABEL: func.func @int8
// CHECK: memref.get_global @kiln_zeros_8_8 : memref<8xi8>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c9{{(_[0-9]+)?}} step
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2{{(_[0-9]+)?}} step
// CHECK: vector.load {{.*}} : memref<2304xi8>, vector<64xi8>
// CHECK: %[[QUAD:.*]] = vector.load {{.*}} : memref<?xi8>, vector<4xi8>
// CHECK: %[[WORDS:.*]] = vector.bitcast %[[QUAD]] : vector<4xi8> to vector<1xi32>
// CHECK: %[[WORD:.*]] = vector.extract %[[WORDS]][0] : i32 from vector<1xi32>
// CHECK: %[[FLIPPED:.*]] = arith.xori %[[WORD]], %c-2139062144_i32 : i32
// CHECK: %[[SPLAT:.*]] = vector.broadcast %[[FLIPPED]] : i32 to vector<16xi32>
// CHECK: %[[BYTES:.*]] = vector.bitcast %[[SPLAT]] : vector<16xi32> to vector<64xi8>
// CHECK: kiln.int8_dot %{{.*}}, %[[BYTES]], %{{.*}} : vector<64xi8> into vector<16xi32>
// CHECK: %[[SCALE:.*]] = vector.load %{{.*}} : memref<64xf32>, vector<16xf32>
// CHECK: %[[COMP:.*]] = vector.load %{{.*}} : memref<64xf32>, vector<16xf32>
// CHECK: %[[COMPI:.*]] = arith.fptosi %[[COMP]] : vector<16xf32> to vector<16xi32>
// CHECK: %[[SUMS:.*]] = arith.subi %{{.*}}, %[[COMPI]] : vector<16xi32>
// CHECK: %[[F:.*]] = arith.sitofp %[[SUMS]] : vector<16xi32> to vector<16xf32>
// CHECK: arith.mulf %[[F]], %[[SCALE]] : vector<16xf32>
// CHECK: vector.maskedstore

// With VNNI, vpdpbusd on the bytes as i32 words; without it, each quad's
// first and last byte pairs as 16-bit words (the pixel's zero-extended,
// the filter's sign-extended), and vpmaddwd on each.
// VNNI-LABEL: func.func @int8
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"({{.*}}) : (vector<16xi32>, vector<16xi32>, vector<16xi32>) -> vector<16xi32>
// WIDEN-LABEL: func.func @int8
// WIDEN: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30] : vector<32xi16>
// WIDEN: arith.extui {{.*}} : vector<32xi8> to vector<32xi16>
// WIDEN: arith.extsi {{.*}} : vector<32xi8> to vector<32xi16>
// WIDEN: llvm.call_intrinsic "llvm.x86.avx512.pmaddw.d.512"({{.*}}) : (vector<32xi16>, vector<32xi16>) -> vector<16xi32>
// WIDEN: vector.shuffle {{.*}} [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31] : vector<32xi16>
// WIDEN: llvm.call_intrinsic "llvm.x86.avx512.pmaddw.d.512"
// WIDEN-NOT: vpdpbusd
//
// A narrow filter (every value within [-64, 64]) and no vpdpbusd: pairs of
// products summed in i16 (vpmaddubsw, which cannot saturate then), pairs
// of pairs in i32 (vpmaddwd by ones), added to the accumulator.
// NARROW-LABEL: func.func @int8
// NARROW: %[[PAIRS:.*]] = llvm.call_intrinsic "llvm.x86.avx512.pmaddubs.w.512"({{.*}}) : (vector<64xi8>, vector<64xi8>) -> vector<32xi16>
// NARROW: %[[QUADS:.*]] = llvm.call_intrinsic "llvm.x86.avx512.pmaddw.d.512"(%[[PAIRS]], %{{.*}}) : (vector<32xi16>, vector<32xi16>) -> vector<16xi32>
// NARROW: arith.addi %{{.*}}, %[[QUADS]] : vector<16xi32>
func.func @int8(%x: memref<1x4x4x8xi8>, %w: memref<2x3x3x2x16x4xi8>, %s: memref<2x2x16xf32>, %b: memref<32xf32>, %y: memref<1x4x4x20xf32>) {
  kiln.packed_conv2d %x, %w scales %s, %b into %y {activation = #kiln.activation<relu>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : memref<1x4x4x8xi8>, memref<2x3x3x2x16x4xi8> scales memref<2x2x16xf32>, memref<32xf32> into memref<1x4x4x20xf32>
  return
}
