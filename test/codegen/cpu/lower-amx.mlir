// RUN: kiln-opt %s -kiln-cpu-lower-amx | FileCheck %s

// Each op becomes its intrinsic on tiles named by immediates; a buffer
// becomes its aligned pointer plus (offset + index) * element bytes, and
// the stride bytes. The configuration is a constant of the module: palette
// 1, every tile 64 bytes ("@\00" little-endian) by 16 rows ("\10").
// CHECK: llvm.mlir.global internal constant @kiln_amx_tile_config("\01\00{{(\\00)*}}@\00@\00@\00@\00@\00@\00@\00@\00{{(\\00)*}}\10\10\10\10\10\10\10\10{{(\\00)*}}")
// CHECK-LABEL: func.func @tiles
// CHECK: %[[CONFIG:.*]] = llvm.mlir.addressof @kiln_amx_tile_config
// CHECK: llvm.call_intrinsic "llvm.x86.ldtilecfg"(%[[CONFIG]])
// CHECK: %[[ZERO:.*]] = llvm.mlir.constant(0 : i8) : i8
// CHECK: llvm.call_intrinsic "llvm.x86.tilezero"(%[[ZERO]]) : (i8) -> ()
// CHECK: %[[BASE:.*]], %[[OFFSET:.*]], %{{.*}}, %{{.*}} = memref.extract_strided_metadata %arg0
// CHECK: %[[POINTER:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK: %[[TWO:.*]] = arith.constant 2 : index
// CHECK: %[[ELEMENT:.*]] = arith.addi %[[OFFSET]], %arg2
// CHECK: %[[BYTES:.*]] = arith.muli %[[ELEMENT]], %[[TWO]]
// CHECK: %[[AT:.*]] = arith.addi %[[POINTER]], %[[BYTES]]
// CHECK: %[[WORD:.*]] = arith.index_cast %[[AT]] : index to i64
// CHECK: %[[PTR:.*]] = llvm.inttoptr %[[WORD]] : i64 to !llvm.ptr
// CHECK: %[[STRIDE:.*]] = arith.muli %arg3, %[[TWO]]
// CHECK: %[[STRIDE64:.*]] = arith.index_cast %[[STRIDE]] : index to i64
// CHECK: %[[FOUR:.*]] = llvm.mlir.constant(4 : i8) : i8
// CHECK: llvm.call_intrinsic "llvm.x86.tileloadd64"(%[[FOUR]], %[[PTR]], %[[STRIDE64]]) : (i8, !llvm.ptr, i64) -> ()
// CHECK: llvm.call_intrinsic "llvm.x86.tdpbf16ps"
// CHECK: llvm.call_intrinsic "llvm.x86.tdpbusd"
// CHECK: arith.constant 4 : index
// CHECK: llvm.call_intrinsic "llvm.x86.tilestored64"
// CHECK: llvm.call_intrinsic "llvm.x86.tilerelease"() : () -> ()
// CHECK-NOT: kiln.amx
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

// The configuration is shared by every kernel of the module.
// CHECK-LABEL: func.func @again
// CHECK: llvm.mlir.addressof @kiln_amx_tile_config
func.func @again() {
  kiln.amx_configure
  return
}
