// RUN: kiln-opt %s -kiln-cpu-outline-kernels | FileCheck %s

// Each top-level loop nest of @main (the scf.if choosing a parallel or a
// serial copy included) becomes a private noinline function called where it
// was; what the nest captures (buffers, sizes) becomes arguments, constants
// are copied in instead; ops without regions stay.
// CHECK: func.func private @main_kernel_0(%{{.*}}: memref<?xf32>, %{{.*}}: index) attributes {passthrough = ["noinline"]}
// CHECK-NEXT: arith.constant 1.0
// CHECK-NEXT: arith.constant 0 : index
// CHECK-NEXT: arith.constant 1 : index
// CHECK-NEXT: scf.for
// CHECK: func.func private @main_kernel_1(%{{.*}}: memref<?xf32>, %{{.*}}: index, %{{.*}}: i1) attributes {passthrough = ["noinline"]}
// CHECK: scf.if
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[A:.*]]: memref<?xf32>, %[[N:.*]]: index, %[[FLAG:.*]]: i1)
// CHECK: call @main_kernel_0({{.*}}%[[A]]{{.*}}%[[N]]
// CHECK-NEXT: memref.store
// CHECK-NEXT: call @main_kernel_1({{.*}}%[[A]]{{.*}}%[[N]]{{.*}}%[[FLAG]])
// CHECK-NEXT: return
func.func @main(%a: memref<?xf32>, %n: index, %flag: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    memref.store %one, %a[%i] : memref<?xf32>
  }
  memref.store %one, %a[%c0] : memref<?xf32>
  scf.if %flag {
    scf.for %i = %c0 to %n step %c1 {
      memref.store %one, %a[%i] : memref<?xf32>
    }
  }
  return
}
