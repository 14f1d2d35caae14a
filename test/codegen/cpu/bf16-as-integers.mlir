// RUN: kiln-opt %s -split-input-file -kiln-cpu-truncate-to-bf16 | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-cpu-bf16-masked-stores | FileCheck %s --check-prefix=STORES
// RUN: kiln-opt %s -split-input-file -kiln-cpu-truncate-to-bf16=convert-instruction=true | FileCheck %s --check-prefix=CVT

// f32 -> bf16 on vectors: the bits plus 0x7fff plus the lowest kept bit,
// the bias chosen by an integer select (none for a NaN), the high half
// with a NaN's quiet bit (0x40, chosen likewise) or'ed in, then the bits
// as bf16.
// CHECK-LABEL: func.func @vector
// CHECK: %[[BITS:.*]] = arith.bitcast %arg0 : vector<8xf32> to vector<8xi32>
// CHECK: %[[KEPT:.*]] = arith.shrui %[[BITS]], %[[C16:.*]] : vector<8xi32>
// CHECK: %[[LOW:.*]] = arith.andi %[[KEPT]], %{{.*}} : vector<8xi32>
// CHECK: %[[BIAS:.*]] = arith.addi %[[LOW]], %{{.*}} : vector<8xi32>
// CHECK: %[[NAN:.*]] = arith.cmpf uno, %arg0, %arg0 : vector<8xf32>
// CHECK: %[[CHOSEN:.*]] = arith.select %[[NAN]], %{{.*}}, %[[BIAS]] : vector<8xi1>, vector<8xi32>
// CHECK: %[[SUM:.*]] = arith.addi %[[BITS]], %[[CHOSEN]] : vector<8xi32>
// CHECK: %[[HIGH:.*]] = arith.shrui %[[SUM]], %[[C16]] : vector<8xi32>
// CHECK: %[[QUIET:.*]] = arith.select %[[NAN]], %{{.*}}, %{{.*}} : vector<8xi1>, vector<8xi32>
// CHECK: %[[OR:.*]] = arith.ori %[[HIGH]], %[[QUIET]] : vector<8xi32>
// CHECK: %[[HALVES:.*]] = arith.trunci %[[OR]] : vector<8xi32> to vector<8xi16>
// CHECK: %[[R:.*]] = arith.bitcast %[[HALVES]] : vector<8xi16> to vector<8xbf16>
// CHECK-NOT: arith.truncf
// CHECK: return %[[R]]
// On a CPU with AVX512_BF16, vectors of 8 and 16 lanes take vcvtneps2bf16
// (which flushes subnormals to zero, like the peers' bf16); others, and
// scalars, keep the integer rounding.
// CVT-LABEL: func.func @vector
// CVT: llvm.call_intrinsic "llvm.x86.avx512bf16.cvtneps2bf16.256"(%arg0) : (vector<8xf32>) -> vector<8xbf16>
// CVT-NOT: arith.truncf
// CVT-LABEL: func.func @scalar
// CVT: arith.bitcast %arg0 : f32 to i32
func.func @vector(%x: vector<8xf32>) -> vector<8xbf16> {
  %y = arith.truncf %x : vector<8xf32> to vector<8xbf16>
  return %y : vector<8xbf16>
}

// -----

// Scalars the same way; other truncations are left alone.
// CHECK-LABEL: func.func @scalar
// CHECK: arith.bitcast %arg0 : f32 to i32
// CHECK: arith.trunci %{{.*}} : i32 to i16
// CHECK: arith.bitcast %{{.*}} : i16 to bf16
// CHECK: arith.truncf %arg1 : f32 to f16
// CVT-LABEL: func.func @wide
// CVT: llvm.call_intrinsic "llvm.x86.avx512bf16.cvtneps2bf16.512"(%arg0) : (vector<16xf32>) -> vector<16xbf16>
// CVT: arith.bitcast %arg1 : vector<4xf32> to vector<4xi32>
func.func @scalar(%x: f32, %h: f32) -> (bf16, f16) {
  %y = arith.truncf %x : f32 to bf16
  %z = arith.truncf %h : f32 to f16
  return %y, %z : bf16, f16
}

// -----

func.func @wide(%x: vector<16xf32>, %n: vector<4xf32>) -> (vector<16xbf16>, vector<4xbf16>) {
  %y = arith.truncf %x : vector<16xf32> to vector<16xbf16>
  %z = arith.truncf %n : vector<4xf32> to vector<4xbf16>
  return %y, %z : vector<16xbf16>, vector<4xbf16>
}

// -----

// A masked store of bf16 lanes stores their bits as i16; f32 stays.
// STORES-LABEL: llvm.func @stores
// STORES: %[[HALVES:.*]] = llvm.bitcast %arg0 : vector<8xbf16> to vector<8xi16>
// STORES: llvm.intr.masked.store %[[HALVES]], %arg2, %arg3 {alignment = 2 : i32} : vector<8xi16>, vector<8xi1> into !llvm.ptr
// STORES: llvm.intr.masked.store %arg1, %arg2, %arg3 {alignment = 4 : i32} : vector<8xf32>, vector<8xi1> into !llvm.ptr
llvm.func @stores(%v: vector<8xbf16>, %f: vector<8xf32>, %p: !llvm.ptr, %m: vector<8xi1>) {
  llvm.intr.masked.store %v, %p, %m {alignment = 2 : i32} : vector<8xbf16>, vector<8xi1> into !llvm.ptr
  llvm.intr.masked.store %f, %p, %m {alignment = 4 : i32} : vector<8xf32>, vector<8xi1> into !llvm.ptr
  llvm.return
}
