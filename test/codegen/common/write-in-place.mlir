// RUN: kiln-opt %s -kiln-write-in-place | FileCheck %s
// RUN: kiln-opt %s -kiln-write-in-place -one-shot-bufferize="bufferize-function-boundaries" -canonicalize -cse -canonicalize | FileCheck %s --check-prefix=BUFFERS

// A decoder's present cache: per layer the past and the new rows are
// concatenated (the layer reads the result), then the layers' results are
// stacked. Each layer's concatenation starts from its own empty tensor,
// which becomes its slice of the stack, the stacking insertions move up to
// just after each layer's last read of its result, and the unit-dimension
// reshapes fold away.
// CHECK-LABEL: func.func @stack_of_concats
// CHECK: %[[STACK:.*]] = tensor.empty() : tensor<2x1x12x5x8xf32>
// CHECK: %[[SLOT0:.*]] = tensor.extract_slice %[[STACK]][0, 0, 0, 0, 0] [1, 1, 12, 5, 8] [1, 1, 1, 1, 1] : tensor<2x1x12x5x8xf32> to tensor<1x12x5x8xf32>
// CHECK: %[[PAST0:.*]] = tensor.insert_slice %arg0 into %[[SLOT0]]
// CHECK: %[[LAYER0:.*]] = tensor.insert_slice %arg1 into %[[PAST0]]
// CHECK: linalg.exp ins(%[[LAYER0]]
// CHECK: %[[STACKED0:.*]] = tensor.insert_slice %[[LAYER0]] into %[[STACK]][0, 0, 0, 0, 0] [1, 1, 12, 5, 8]
// CHECK: %[[SLOT1:.*]] = tensor.extract_slice %[[STACKED0]][1, 0, 0, 0, 0]
// CHECK-NOT: tensor.expand_shape
// The only copies left are the inputs' (past and new rows) into the stack.
// BUFFERS-LABEL: func.func @stack_of_concats
// BUFFERS-COUNT-4: memref.copy %arg
// BUFFERS-NOT: memref.copy
func.func @stack_of_concats(%p0: tensor<1x12x4x8xf32>, %n0: tensor<1x12x1x8xf32>, %p1: tensor<1x12x4x8xf32>, %n1: tensor<1x12x1x8xf32>) -> (tensor<2x1x12x5x8xf32>, tensor<1x12x5x8xf32>, tensor<1x12x5x8xf32>) {
  %e = tensor.empty() : tensor<1x12x5x8xf32>
  %a0 = tensor.insert_slice %p0 into %e[0, 0, 0, 0] [1, 12, 4, 8] [1, 1, 1, 1] : tensor<1x12x4x8xf32> into tensor<1x12x5x8xf32>
  %c0 = tensor.insert_slice %n0 into %a0[0, 0, 4, 0] [1, 12, 1, 8] [1, 1, 1, 1] : tensor<1x12x1x8xf32> into tensor<1x12x5x8xf32>
  %r0 = linalg.exp ins(%c0 : tensor<1x12x5x8xf32>) outs(%e : tensor<1x12x5x8xf32>) -> tensor<1x12x5x8xf32>
  %a1 = tensor.insert_slice %p1 into %e[0, 0, 0, 0] [1, 12, 4, 8] [1, 1, 1, 1] : tensor<1x12x4x8xf32> into tensor<1x12x5x8xf32>
  %c1 = tensor.insert_slice %n1 into %a1[0, 0, 4, 0] [1, 12, 1, 8] [1, 1, 1, 1] : tensor<1x12x1x8xf32> into tensor<1x12x5x8xf32>
  %r1 = linalg.exp ins(%c1 : tensor<1x12x5x8xf32>) outs(%e : tensor<1x12x5x8xf32>) -> tensor<1x12x5x8xf32>
  %x0 = tensor.expand_shape %c0 [[0, 1], [2], [3], [4]] output_shape [1, 1, 12, 5, 8] : tensor<1x12x5x8xf32> into tensor<1x1x12x5x8xf32>
  %x1 = tensor.expand_shape %c1 [[0, 1], [2], [3], [4]] output_shape [1, 1, 12, 5, 8] : tensor<1x12x5x8xf32> into tensor<1x1x12x5x8xf32>
  %s = tensor.empty() : tensor<2x1x12x5x8xf32>
  %s0 = tensor.insert_slice %x0 into %s[0, 0, 0, 0, 0] [1, 1, 12, 5, 8] [1, 1, 1, 1, 1] : tensor<1x1x12x5x8xf32> into tensor<2x1x12x5x8xf32>
  %s1 = tensor.insert_slice %x1 into %s0[1, 0, 0, 0, 0] [1, 1, 12, 5, 8] [1, 1, 1, 1, 1] : tensor<1x1x12x5x8xf32> into tensor<2x1x12x5x8xf32>
  return %s1, %r0, %r1 : tensor<2x1x12x5x8xf32>, tensor<1x12x5x8xf32>, tensor<1x12x5x8xf32>
}

// The same, each layer reading its result through a reshape (as the fused
// attention does): a stacking insertion placed before that read would be
// a write under it, and bufferization would build each layer's result out
// of place and copy it into the stack.
// CHECK-LABEL: func.func @stack_read_through_reshape
// CHECK: %[[LAYER0:.*]] = tensor.insert_slice %arg1
// CHECK: %[[VIEW0:.*]] = tensor.collapse_shape %[[LAYER0]]
// CHECK: linalg.exp ins(%[[VIEW0]]
// CHECK: tensor.insert_slice %[[LAYER0]] into
// BUFFERS-LABEL: func.func @stack_read_through_reshape
// BUFFERS-COUNT-4: memref.copy %arg
// BUFFERS-NOT: memref.copy
func.func @stack_read_through_reshape(%p0: tensor<1x12x4x8xf32>, %n0: tensor<1x12x1x8xf32>, %p1: tensor<1x12x4x8xf32>, %n1: tensor<1x12x1x8xf32>) -> (tensor<2x1x12x5x8xf32>, tensor<12x5x8xf32>, tensor<12x5x8xf32>) {
  %e = tensor.empty() : tensor<1x12x5x8xf32>
  %o = tensor.empty() : tensor<12x5x8xf32>
  %a0 = tensor.insert_slice %p0 into %e[0, 0, 0, 0] [1, 12, 4, 8] [1, 1, 1, 1] : tensor<1x12x4x8xf32> into tensor<1x12x5x8xf32>
  %c0 = tensor.insert_slice %n0 into %a0[0, 0, 4, 0] [1, 12, 1, 8] [1, 1, 1, 1] : tensor<1x12x1x8xf32> into tensor<1x12x5x8xf32>
  %v0 = tensor.collapse_shape %c0 [[0, 1], [2], [3]] : tensor<1x12x5x8xf32> into tensor<12x5x8xf32>
  %r0 = linalg.exp ins(%v0 : tensor<12x5x8xf32>) outs(%o : tensor<12x5x8xf32>) -> tensor<12x5x8xf32>
  %a1 = tensor.insert_slice %p1 into %e[0, 0, 0, 0] [1, 12, 4, 8] [1, 1, 1, 1] : tensor<1x12x4x8xf32> into tensor<1x12x5x8xf32>
  %c1 = tensor.insert_slice %n1 into %a1[0, 0, 4, 0] [1, 12, 1, 8] [1, 1, 1, 1] : tensor<1x12x1x8xf32> into tensor<1x12x5x8xf32>
  %v1 = tensor.collapse_shape %c1 [[0, 1], [2], [3]] : tensor<1x12x5x8xf32> into tensor<12x5x8xf32>
  %r1 = linalg.exp ins(%v1 : tensor<12x5x8xf32>) outs(%o : tensor<12x5x8xf32>) -> tensor<12x5x8xf32>
  %x0 = tensor.expand_shape %c0 [[0, 1], [2], [3], [4]] output_shape [1, 1, 12, 5, 8] : tensor<1x12x5x8xf32> into tensor<1x1x12x5x8xf32>
  %x1 = tensor.expand_shape %c1 [[0, 1], [2], [3], [4]] output_shape [1, 1, 12, 5, 8] : tensor<1x12x5x8xf32> into tensor<1x1x12x5x8xf32>
  %s = tensor.empty() : tensor<2x1x12x5x8xf32>
  %s0 = tensor.insert_slice %x0 into %s[0, 0, 0, 0, 0] [1, 1, 12, 5, 8] [1, 1, 1, 1, 1] : tensor<1x1x12x5x8xf32> into tensor<2x1x12x5x8xf32>
  %s1 = tensor.insert_slice %x1 into %s0[1, 0, 0, 0, 0] [1, 1, 12, 5, 8] [1, 1, 1, 1, 1] : tensor<1x1x12x5x8xf32> into tensor<2x1x12x5x8xf32>
  return %s1, %r0, %r1 : tensor<2x1x12x5x8xf32>, tensor<12x5x8xf32>, tensor<12x5x8xf32>
}
