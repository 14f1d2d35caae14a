// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-packed-conv -canonicalize | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-cpu-lower-packed-conv=vector-bits=256 -canonicalize | FileCheck %s --check-prefix=AVX2

// A 4-bit filter: 32 filters a tile (two 16-lane vectors), groups of 32
// of the 64 channels. Per group the tile's scales and zero points load
// once, as f16 widened to f32, and become scale and -scale * zero; per
// channel one load of 16 bytes widens to 32-bit words whose low and high
// nibbles are the two vectors' integers, each one multiply-add from its
// weight. (Five pixels are fewer than a tile's rows: one at a time.)
// CHECK-LABEL: func.func @int4
// CHECK: scf.for {{.*}} = %c0 to %c2 step %c1 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>)
// CHECK: %[[S0:.*]] = arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// CHECK: %[[Z0:.*]] = arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// CHECK: %[[SZ0:.*]] = arith.mulf %[[S0]], %[[Z0]] : vector<16xf32>
// CHECK: %[[N0:.*]] = arith.negf %[[SZ0]] : vector<16xf32>
// CHECK: %[[S1:.*]] = arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// CHECK: %[[N1:.*]] = arith.negf
// CHECK: scf.for
// CHECK: %[[BYTES:.*]] = vector.load {{.*}} : memref<2048xi8>, vector<16xi8>
// CHECK: %[[WORDS:.*]] = arith.extui %[[BYTES]] : vector<16xi8> to vector<16xi32>
// CHECK: %[[LOW:.*]] = arith.andi %[[WORDS]]
// CHECK: %[[HIGH:.*]] = arith.shrui %[[WORDS]]
// CHECK: %[[LF:.*]] = arith.sitofp %[[LOW]] : vector<16xi32> to vector<16xf32>
// CHECK: %[[W0:.*]] = vector.fma %[[LF]], %[[S0]], %[[N0]] : vector<16xf32>
// CHECK: %[[HF:.*]] = arith.sitofp %[[HIGH]] : vector<16xi32> to vector<16xf32>
// CHECK: %[[W1:.*]] = vector.fma %[[HF]], %[[S1]], %[[N1]] : vector<16xf32>
// CHECK: vector.fma %{{.*}}, %[[W0]], %{{.*}} : vector<16xf32>
// CHECK: vector.fma %{{.*}}, %[[W1]], %{{.*}} : vector<16xf32>
// AVX2-LABEL: func.func @int4
// AVX2: vector.load {{.*}} : memref<2048xi8>, vector<8xi8>
// AVX2: arith.extui {{.*}} : vector<8xi8> to vector<8xi32>
func.func @int4(%x: memref<1x1x5x64xf32>, %w: memref<2x1x1x64x16xi8>, %s: memref<2x2x2x32xf16>, %b: memref<64xf32>, %y: memref<1x1x5x50xf32>) {
  kiln.packed_conv2d %x, %w scales %s, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, group_size = 32 : i64, strides = array<i64: 1, 1>} : memref<1x1x5x64xf32>, memref<2x1x1x64x16xi8> scales memref<2x2x2x32xf16>, memref<64xf32> into memref<1x1x5x50xf32>
  return
}
