// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// A grouped, padded 2-D convolution: pad, groups as a dimension, bias as
// the accumulator's start, one contraction, collapse back.
// CHECK-DAG: #[[$IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6, d4 * 2 + d7)>
// CHECK-DAG: #[[$W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-DAG: #[[$OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func.func @conv_grouped
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8x8xf32>, %[[W:.*]]: tensor<6x2x3x3xf32>, %[[B:.*]]: tensor<6xf32>)
// CHECK: %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: %[[GX:.*]] = tensor.expand_shape %[[P]] {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 10, 10]
// CHECK: %[[GW:.*]] = tensor.expand_shape %[[W]] {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 3, 2, 3, 3]
// CHECK: %[[GB:.*]] = tensor.expand_shape %[[B]] {{\[}}[0, 1]] output_shape [2, 3]
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[GB]] : tensor<2x3xf32>)
// CHECK: %[[C:.*]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$W]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[GX]], %[[GW]] : tensor<1x2x2x10x10xf32>, tensor<2x3x2x3x3xf32>) outs(%[[INIT]] : tensor<1x2x3x4x4xf32>)
// CHECK: tensor.collapse_shape %[[C]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x3x4x4xf32> into tensor<1x6x4x4xf32>
func.func @conv_grouped(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>) -> tensor<1x6x4x4xf32> {
  %0 = "onnx.Conv"(%x, %w, %b) <{group = 2 : i64, pads = [1, 1, 1, 1], strides = [2, 2]}> : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
  return %0 : tensor<1x6x4x4xf32>
}

// -----

// SAME_UPPER puts the odd padding at the end.
// CHECK-LABEL: func.func @conv_same_upper
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 1, 1]
func.func @conv_same_upper(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %0 = "onnx.Conv"(%x, %w) <{auto_pad = "SAME_UPPER"}> : (tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// MaxPool pads with -inf and takes the maximum over a window operand.
// CHECK-LABEL: func.func @maxpool
// CHECK: %[[NEG:.*]] = arith.constant 0xFF800000 : f32
// CHECK: tensor.pad {{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[NEG]]
// CHECK: %[[WINDOW:.*]] = tensor.empty() : tensor<3x3xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[WINDOW]] : tensor<1x3x10x10xf32>, tensor<3x3xf32>)
// CHECK: arith.maximumf
func.func @maxpool(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  %0 = "onnx.MaxPool"(%x) <{kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]}> : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

// Symbolic batch, height and width: the padding stays static, and each
// output extent is computed from the padded input's, (padded - window) /
// stride + 1, never below zero.
// CHECK-LABEL: func.func @conv_symbolic
// CHECK: %[[PADDED:.*]] = tensor.pad %arg0 low[0, 0, 1, 0] high[0, 0, 1, 0]
// CHECK: } : tensor<?x2x?x?xf32> to tensor<?x2x?x?xf32>
// CHECK: tensor.expand_shape %[[PADDED]]
// CHECK: %[[H:.*]] = tensor.dim %[[PADDED]], %c2
// CHECK-NEXT: %[[HS:.*]] = arith.subi %[[H]], %c3
// CHECK: %[[HD:.*]] = arith.floordivsi %[[HS]], %c2
// CHECK: %[[HO:.*]] = arith.addi %[[HD]], %c1
// CHECK: %[[HM:.*]] = arith.maxsi %[[HO]], %c0
// CHECK: tensor.empty(%{{.*}}, %[[HM]], %{{.*}}) : tensor<?x1x4x?x?xf32>
// CHECK: linalg.generic
// CHECK: tensor.collapse_shape {{.*}} into tensor<?x4x?x?xf32>
func.func @conv_symbolic(%x: tensor<?x2x?x?xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<?x4x?x?xf32> {
  %0 = "onnx.Conv"(%x, %w) <{pads = [1, 0, 1, 0], strides = [2, 1]}> : (tensor<?x2x?x?xf32>, tensor<4x2x3x3xf32>) -> tensor<?x4x?x?xf32>
  return %0 : tensor<?x4x?x?xf32>
}

// -----

// A global average over symbolic extents: the window's shape operand takes
// them, and the divisor is their product, converted at run time.
// CHECK-LABEL: func.func @global_average_symbolic
// CHECK: %[[H:.*]] = tensor.dim %arg0, %c2
// CHECK: %[[W:.*]] = tensor.dim %arg0, %c3
// CHECK: %[[COUNT:.*]] = arith.muli %[[H]], %[[W]]
// CHECK: tensor.empty(%[[H]], %[[W]]) : tensor<?x?xf32>
// CHECK: %[[WIDE:.*]] = arith.index_castui %[[COUNT]] : index to i64
// CHECK: %[[DIVISOR:.*]] = arith.uitofp %[[WIDE]] : i64 to f32
// CHECK: arith.divf %{{.*}}, %[[DIVISOR]]
func.func @global_average_symbolic(%x: tensor<1x3x?x?xf32>) -> tensor<1x3x1x1xf32> {
  %0 = "onnx.GlobalAveragePool"(%x) : (tensor<1x3x?x?xf32>) -> tensor<1x3x1x1xf32>
  return %0 : tensor<1x3x1x1xf32>
}

// -----

// MaxPool over a symbolic image, padded with -inf.
// CHECK-LABEL: func.func @max_pool_symbolic
// CHECK: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: arith.floordivsi
// CHECK: arith.maximumf
func.func @max_pool_symbolic(%x: tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32> {
  %0 = "onnx.MaxPool"(%x) <{kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]}> : (tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32>
  return %0 : tensor<1x3x?x?xf32>
}
