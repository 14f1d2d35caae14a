// RUN: kiln-opt %s -kiln-cpu-prepare-entry-point -convert-func-to-llvm -kiln-cpu-pack-entry-point | FileCheck %s

// kiln_entry(args) loads args[0] (results), args[1] (weights) and args[2]
// (the input) and calls the C interface; it is the only symbol visible
// outside the object.

// CHECK-LABEL: llvm.func internal @kiln_model(
// CHECK-LABEL: llvm.func internal @_mlir_ciface_kiln_model(
// CHECK-LABEL: llvm.func @kiln_entry(
// CHECK-SAME: %[[ARGS:.*]]: !llvm.ptr)
// CHECK: %[[S0:.*]] = llvm.getelementptr %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[P0:.*]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[S1:.*]] = llvm.getelementptr %[[ARGS]][1]
// CHECK: %[[P1:.*]] = llvm.load %[[S1]]
// CHECK: %[[S2:.*]] = llvm.getelementptr %[[ARGS]][2]
// CHECK: %[[P2:.*]] = llvm.load %[[S2]]
// CHECK: llvm.call @_mlir_ciface_kiln_model(%[[P0]], %[[P1]], %[[P2]])
// CHECK: llvm.return
func.func @main(%w: memref<?xi8>, %x: memref<4xf32>) -> memref<4xf32> {
  return %x : memref<4xf32>
}

