// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv=bf16-dot=true | FileCheck %s --check-prefix=DOT
// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv | FileCheck %s --check-prefix=SPLIT
// RUN: kiln-opt %s -kiln-cpu-lower-packed-conv=bf16-dot=true -kiln-cpu-lower-bf16-dot | FileCheck %s --check-prefix=INTRINSIC

// BF16 operands step over channel pairs: 6 channels are 3 pairs per tap,
// each tap's pairs a loop. A pixel's pair is one 32-bit word, broadcast;
// the filter's 16 filters x 2 channels are one 32-value load. Padding
// reads bf16 zeros.
// DOT-LABEL: func.func @bf16
// DOT: memref.get_global @kiln_zeros_6_bf16 : memref<6xbf16>
// DOT: scf.for %{{.*}} = %{{.*}} to %c9{{(_[0-9]+)?}} step
// DOT: scf.for %{{.*}} = %{{.*}} to %c3{{(_[0-9]+)?}} step
// DOT: vector.load {{.*}} : memref<864xbf16>, vector<32xbf16>
// DOT: %[[PAIR:.*]] = vector.load {{.*}} : memref<?xbf16>, vector<2xbf16>
// DOT: %[[WORDS:.*]] = vector.bitcast %[[PAIR]] : vector<2xbf16> to vector<1xi32>
// DOT: %[[WORD:.*]] = vector.extract %[[WORDS]][0] : i32 from vector<1xi32>
// DOT: %[[SPLAT:.*]] = vector.broadcast %[[WORD]] : i32 to vector<16xi32>
// DOT: %[[BROADCAST:.*]] = vector.bitcast %[[SPLAT]] : vector<16xi32> to vector<32xbf16>
// DOT: kiln.bf16_dot %{{.*}}, %[[BROADCAST]], %{{.*}} : vector<32xbf16> into vector<16xf32>
// DOT-NOT: vector.fma
// DOT: vector.maskedstore

// Without vdpbf16ps, each pair splits into its f32 halves: the even
// channel is the word's low half shifted up, the odd its high half
// masked; two multiply-adds per filter vector.
// SPLIT-LABEL: func.func @bf16
// SPLIT: %[[W:.*]] = vector.load {{.*}} : memref<864xbf16>, vector<32xbf16>
// SPLIT: %[[WW:.*]] = vector.bitcast %[[W]] : vector<32xbf16> to vector<16xi32>
// SPLIT: arith.shli %[[WW]], %{{.*}} : vector<16xi32>
// SPLIT: arith.andi %[[WW]], %{{.*}} : vector<16xi32>
// SPLIT: %[[WORD:.*]] = vector.extract
// SPLIT: %[[LOW:.*]] = arith.shli %[[WORD]], %{{.*}} : i32
// SPLIT: %[[HIGH:.*]] = arith.andi %[[WORD]], %{{.*}} : i32
// SPLIT: %[[EVEN:.*]] = arith.bitcast %[[LOW]] : i32 to f32
// SPLIT: %[[ODD:.*]] = arith.bitcast %[[HIGH]] : i32 to f32
// SPLIT: vector.fma
// SPLIT-NEXT: vector.fma
// SPLIT-NOT: kiln.bf16_dot

// INTRINSIC-LABEL: func.func @bf16
// INTRINSIC-NOT: kiln.bf16_dot
// INTRINSIC: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xf32>, vector<32xbf16>, vector<32xbf16>) -> vector<16xf32>
func.func @bf16(%x: memref<1x4x5x6xbf16>, %w: memref<1x3x3x3x16x2xbf16>,
                %b: memref<16xf32>, %y: memref<1x4x5x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : memref<1x4x5x6xbf16>, memref<1x3x3x3x16x2xbf16>, memref<16xf32> into memref<1x4x5x16xf32>
  return
}

// A bf16 result: the epilogue rounds the f32 sums before the masked store.
// DOT-LABEL: func.func @bf16_result
// DOT: %[[SUM:.*]] = arith.maximumf
// DOT: %[[ROUNDED:.*]] = arith.truncf %[[SUM]] : vector<16xf32> to vector<16xbf16>
// DOT: vector.maskedstore %{{.*}}[%{{.*}}], %{{.*}}, %[[ROUNDED]] : memref<128xbf16>, vector<16xi1>, vector<16xbf16>
func.func @bf16_result(%x: memref<1x1x8x6xbf16>, %w: memref<1x1x1x3x16x2xbf16>,
                       %b: memref<16xf32>, %y: memref<1x1x8x16xbf16>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<relu>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x8x6xbf16>, memref<1x1x1x3x16x2xbf16>, memref<16xf32> into memref<1x1x8x16xbf16>
  return
}

// One pixel (a decode step's product): the 5 channel pairs' two halves
// accumulate in two sets of chains, pairs i and i + 2 a step (the fifth
// after the loop, into the first set), the sets summed at the end. Each
// step prefetches each half's filter 2 KB (1,024 values) ahead into L2,
// one cache line (a step's 32 values) each.
// DOT-LABEL: func.func @one_pixel
// DOT: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// DOT: scf.for %{{.*}} = %{{.*}} to %c2{{(_[0-9]+)?}} step %{{.*}} iter_args(%[[A:.*]] = %{{.*}}, %[[B:.*]] = %[[ZERO]]) -> (vector<16xf32>, vector<16xf32>)
// DOT: arith.constant 1024 : index
// DOT: memref.prefetch %{{.*}}, read, locality<2>, data : memref<160xbf16>
// DOT: arith.constant 1024 : index
// DOT: memref.prefetch %{{.*}}, read, locality<2>, data : memref<160xbf16>
// DOT-NOT: memref.prefetch
// DOT: kiln.bf16_dot %[[A]]
// DOT: kiln.bf16_dot %[[B]]
// DOT: scf.yield
// DOT: kiln.bf16_dot
// DOT: arith.addf
// DOT: vector.maskedstore
func.func @one_pixel(%x: memref<1x1x1x10xbf16>, %w: memref<1x1x1x5x16x2xbf16>,
                     %b: memref<16xf32>, %y: memref<1x1x1x16xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x1x10xbf16>, memref<1x1x1x5x16x2xbf16>, memref<16xf32> into memref<1x1x1x16xf32>
  return
}

// A bf16 filter in the f32 layout with an f32 input (CPUs without BF16
// arithmetic): f32 steps, each filter vector loaded as 16 bf16 values and
// widened to f32 before the multiply-adds; the input is broadcast as f32.
// DOT-LABEL: func.func @bf16_filter
// DOT: %[[W:.*]] = vector.load {{.*}} : memref<96xbf16>, vector<16xbf16>
// DOT: %[[WIDE:.*]] = arith.extf %[[W]] : vector<16xbf16> to vector<16xf32>
// DOT: vector.broadcast %{{.*}} : f32 to vector<16xf32>
// DOT: vector.fma %{{.*}}, %[[WIDE]], %{{.*}} : vector<16xf32>
// DOT-NOT: kiln.bf16_dot
// DOT: vector.maskedstore
func.func @bf16_filter(%x: memref<1x1x8x6xf32>, %w: memref<1x1x1x6x16xbf16>,
                       %b: memref<16xf32>, %y: memref<1x1x8x10xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x8x6xf32>, memref<1x1x1x6x16xbf16>, memref<16xf32> into memref<1x1x8x10xf32>
  return
}

// The same with one pixel (a decode step's product on AVX2 with BF16
// weights): the 6 channels' two halves take a set of FMA chains each,
// channels i and i + 3 a step, the sets summed at the end.
// DOT-LABEL: func.func @bf16_filter_one_pixel
// DOT: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<16xf32>
// DOT: scf.for %{{.*}} = %{{.*}} to %c3{{(_[0-9]+)?}} step %{{.*}} iter_args(%[[A:.*]] = %{{.*}}, %[[B:.*]] = %[[ZERO]]) -> (vector<16xf32>, vector<16xf32>)
// DOT: arith.extf
// DOT: vector.fma %{{.*}}, %{{.*}}, %[[A]]
// DOT: arith.extf
// DOT: vector.fma %{{.*}}, %{{.*}}, %[[B]]
// DOT: scf.yield
// DOT: arith.addf
// DOT: vector.maskedstore
func.func @bf16_filter_one_pixel(%x: memref<1x1x1x6xf32>, %w: memref<1x1x1x6x16xbf16>,
                                 %b: memref<16xf32>, %y: memref<1x1x1x10xf32>) {
  kiln.packed_conv2d %x, %w, %b into %y {activation = #kiln.activation<none>, dilations = array<i64: 1, 1>, strides = array<i64: 1, 1>} : memref<1x1x1x6xf32>, memref<1x1x1x6x16xbf16>, memref<16xf32> into memref<1x1x1x10xf32>
  return
}
