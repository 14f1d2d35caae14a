// RUN: kiln-opt %s --kiln-cpu-lowering-pipeline | FileCheck %s

// From linalg on tensors to the LLVM dialect. The two elementwise ops (two
// kernels, each with its FLOP count) work in place in one buffer, the
// result's, which the memory plan places in the workspace (the runtime
// hands it out as session memory): nothing is allocated per run; one entry
// point is exported. Each kernel's loops are a function of their own,
// called from the model's function and kept apart from it (noinline).

// CHECK: kiln.dynamic_buffers = 0 : i64, kiln.kernels = [{flops = 64 : i64, name = "linalg.add"}, {flops = 64 : i64, name = "linalg.mul"}], kiln.weights = {{.*}}, kiln.workspace_bytes = 256 : i64
// CHECK-NOT: linalg.
// CHECK-NOT: memref.
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.func internal @main_kernel_0({{.*}}) attributes {passthrough = ["noinline"]
// CHECK: llvm.fadd
// CHECK: llvm.func internal @main_kernel_1({{.*}}) attributes {passthrough = ["noinline"]
// CHECK: llvm.fmul
// CHECK: llvm.func internal @kiln_model(
// CHECK: llvm.call @kiln_kernel_begin
// CHECK: llvm.call @main_kernel_0(
// CHECK: llvm.call @kiln_kernel_end
// CHECK: llvm.call @main_kernel_1(
// CHECK-NOT: llvm.call @malloc
// CHECK: llvm.func internal @_mlir_ciface_kiln_model(
// CHECK: llvm.func @kiln_entry(%{{.*}}: !llvm.ptr)
module {
  func.func @main(%x: tensor<64xf32>) -> tensor<64xf32> {
    %w = arith.constant dense<2.0> : tensor<64xf32>
    %empty = tensor.empty() : tensor<64xf32>
    %sum = linalg.add ins(%x, %w : tensor<64xf32>, tensor<64xf32>) outs(%empty : tensor<64xf32>) -> tensor<64xf32>
    %empty2 = tensor.empty() : tensor<64xf32>
    %product = linalg.mul ins(%sum, %sum : tensor<64xf32>, tensor<64xf32>) outs(%empty2 : tensor<64xf32>) -> tensor<64xf32>
    return %product : tensor<64xf32>
  }
}
