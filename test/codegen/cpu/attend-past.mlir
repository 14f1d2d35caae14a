// RUN: kiln-opt %s -split-input-file -kiln-cpu-attend-past | FileCheck %s

// A plain decoder graph's layer: the past and the new keys and values
// concatenated into the presents it returns, which the attention reads.
// The attention takes the past and the new rows where they are; the
// concatenations stay for the presents.
// CHECK-LABEL: func.func @plain_decoder
// CHECK-SAME: (%[[Q:.*]]: tensor<3x1x64xf32>, %[[PK:.*]]: tensor<1x3x?x64xf32>, %[[PV:.*]]: tensor<1x3x?x64xf32>, %[[K:.*]]: tensor<1x3x1x64xf32>, %[[V:.*]]: tensor<1x3x1x64xf32>, %[[M:.*]]: tensor<1x1x?xf32>, %[[I:.*]]: tensor<3x1x64xf32>)
// CHECK-DAG: %[[PRESENT_K:.*]] = "onnx.Concat"(%[[PK]], %[[K]])
// CHECK-DAG: %[[PRESENT_V:.*]] = "onnx.Concat"(%[[PV]], %[[V]])
// CHECK-DAG: %[[PAST_K:.*]] = tensor.collapse_shape %[[PK]] {{\[\[}}0, 1], [2], [3]]
// CHECK-DAG: %[[NEW_K:.*]] = tensor.collapse_shape %[[K]] {{\[\[}}0, 1], [2], [3]]
// CHECK-DAG: %[[PAST_V:.*]] = tensor.collapse_shape %[[PV]] {{\[\[}}0, 1], [2], [3]]
// CHECK-DAG: %[[NEW_V:.*]] = tensor.collapse_shape %[[V]] {{\[\[}}0, 1], [2], [3]]
// CHECK: %[[Y:.*]] = kiln.attention %[[Q]], %[[NEW_K]], %[[NEW_V]] past %[[PAST_K]], %[[PAST_V]] mask %[[M]] into %[[I]] {key_rows, scale = 1.250000e-01 : f32} : tensor<3x1x64xf32>, tensor<3x1x64xf32>, tensor<3x1x64xf32> past tensor<3x?x64xf32>, tensor<3x?x64xf32> mask tensor<1x1x?xf32>
// CHECK: return %[[Y]], %[[PRESENT_K]], %[[PRESENT_V]]
func.func @plain_decoder(%q: tensor<3x1x64xf32>, %pk: tensor<1x3x?x64xf32>, %pv: tensor<1x3x?x64xf32>, %k: tensor<1x3x1x64xf32>, %v: tensor<1x3x1x64xf32>, %m: tensor<1x1x?xf32>, %i: tensor<3x1x64xf32>) -> (tensor<3x1x64xf32>, tensor<1x3x?x64xf32>, tensor<1x3x?x64xf32>) {
  %present_k = "onnx.Concat"(%pk, %k) <{axis = 2 : i64}> : (tensor<1x3x?x64xf32>, tensor<1x3x1x64xf32>) -> tensor<1x3x?x64xf32>
  %present_v = "onnx.Concat"(%pv, %v) <{axis = 2 : i64}> : (tensor<1x3x?x64xf32>, tensor<1x3x1x64xf32>) -> tensor<1x3x?x64xf32>
  %keys = tensor.collapse_shape %present_k [[0, 1], [2], [3]] : tensor<1x3x?x64xf32> into tensor<3x?x64xf32>
  %values = tensor.collapse_shape %present_v [[0, 1], [2], [3]] : tensor<1x3x?x64xf32> into tensor<3x?x64xf32>
  %y = kiln.attention %q, %keys, %values mask %m into %i {key_rows, scale = 0.125 : f32} : tensor<3x1x64xf32>, tensor<3x?x64xf32>, tensor<3x?x64xf32> mask tensor<1x1x?xf32> into tensor<3x1x64xf32> -> tensor<3x1x64xf32>
  return %y, %present_k, %present_v : tensor<3x1x64xf32>, tensor<1x3x?x64xf32>, tensor<1x3x?x64xf32>
}

// -----

// Concatenated along the heads, not the positions: not a past.
// CHECK-LABEL: func.func @heads_axis
// CHECK: kiln.attention %{{.*}}, %{{.*}}, %{{.*}} into
// CHECK-NOT: past
func.func @heads_axis(%q: tensor<4x1x64xf32>, %pk: tensor<1x2x5x64xf32>, %k: tensor<1x2x5x64xf32>, %i: tensor<4x1x64xf32>) -> tensor<4x1x64xf32> {
  %both = "onnx.Concat"(%pk, %k) <{axis = 1 : i64}> : (tensor<1x2x5x64xf32>, tensor<1x2x5x64xf32>) -> tensor<1x4x5x64xf32>
  %rows = tensor.collapse_shape %both [[0, 1], [2], [3]] : tensor<1x4x5x64xf32> into tensor<4x5x64xf32>
  %y = kiln.attention %q, %rows, %rows into %i {key_rows, scale = 0.125 : f32} : tensor<4x1x64xf32>, tensor<4x5x64xf32>, tensor<4x5x64xf32> into tensor<4x1x64xf32> -> tensor<4x1x64xf32>
  return %y : tensor<4x1x64xf32>
}

// -----

// Keys transposed [G, D, T]: the kernel reads a past as rows only.
// CHECK-LABEL: func.func @transposed_keys
// CHECK: kiln.attention %{{.*}}, %{{.*}}, %{{.*}} into
// CHECK-NOT: past
func.func @transposed_keys(%q: tensor<2x1x64xf32>, %kt: tensor<2x64x6xf32>, %pv: tensor<1x2x5x64xf32>, %v: tensor<1x2x1x64xf32>, %i: tensor<2x1x64xf32>) -> tensor<2x1x64xf32> {
  %present_v = "onnx.Concat"(%pv, %v) <{axis = 2 : i64}> : (tensor<1x2x5x64xf32>, tensor<1x2x1x64xf32>) -> tensor<1x2x6x64xf32>
  %values = tensor.collapse_shape %present_v [[0, 1], [2], [3]] : tensor<1x2x6x64xf32> into tensor<2x6x64xf32>
  %y = kiln.attention %q, %kt, %values into %i {scale = 0.125 : f32} : tensor<2x1x64xf32>, tensor<2x64x6xf32>, tensor<2x6x64xf32> into tensor<2x1x64xf32> -> tensor<2x1x64xf32>
  return %y : tensor<2x1x64xf32>
}
