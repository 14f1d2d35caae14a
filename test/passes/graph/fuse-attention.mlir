// RUN: kiln-opt %s -split-input-file -kiln-graph-fuse-attention | FileCheck %s

// BERT's attention: Q . Kt / sqrt(D) -> Softmax -> . V over [B, H, S, D],
// one kernel on the heads collapsed to [B * H, ...], the scale 1/8.
// CHECK-LABEL: func.func @bert
// CHECK: %[[Q:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2], [3]] : tensor<1x12x128x64xf32> into tensor<12x128x64xf32>
// CHECK: %[[K:.*]] = tensor.collapse_shape %arg1 {{.*}} into tensor<12x64x128xf32>
// CHECK: %[[V:.*]] = tensor.collapse_shape %arg2 {{.*}} into tensor<12x128x64xf32>
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<12x128x64xf32>
// CHECK: %[[Y:.*]] = kiln.attention %[[Q]], %[[K]], %[[V]] into %[[INIT]] {scale = 1.250000e-01 : f32}
// CHECK: %[[R:.*]] = tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2], [3]] output_shape [1, 12, 128, 64] : tensor<12x128x64xf32> into tensor<1x12x128x64xf32>
// CHECK-NOT: onnx.
// CHECK: return %[[R]]
func.func @bert(%q: tensor<1x12x128x64xf32>, %kt: tensor<1x12x64x128xf32>, %v: tensor<1x12x128x64xf32>) -> tensor<1x12x128x64xf32> {
  %s = "onnx.MatMul"(%q, %kt) : (tensor<1x12x128x64xf32>, tensor<1x12x64x128xf32>) -> tensor<1x12x128x128xf32>
  %c = "onnx.Constant"() {value = dense<8.0> : tensor<f32>} : () -> tensor<f32>
  %d = "onnx.Div"(%s, %c) : (tensor<1x12x128x128xf32>, tensor<f32>) -> tensor<1x12x128x128xf32>
  %p = "onnx.Softmax"(%d) {axis = -1 : i64} : (tensor<1x12x128x128xf32>) -> tensor<1x12x128x128xf32>
  %y = "onnx.MatMul"(%p, %v) : (tensor<1x12x128x128xf32>, tensor<1x12x128x64xf32>) -> tensor<1x12x128x64xf32>
  return %y : tensor<1x12x128x64xf32>
}

// -----

// ViT scales Q beforehand: no scale here, 3-D heads as they are.
// CHECK-LABEL: func.func @vit
// CHECK: kiln.attention %arg0, %arg1, %arg2 into %{{.*}} {scale = 1.000000e+00 : f32} : tensor<12x197x64xf32>, tensor<12x64x197xf32>, tensor<12x197x64xf32>
func.func @vit(%q: tensor<12x197x64xf32>, %kt: tensor<12x64x197xf32>, %v: tensor<12x197x64xf32>) -> tensor<12x197x64xf32> {
  %s = "onnx.MatMul"(%q, %kt) : (tensor<12x197x64xf32>, tensor<12x64x197xf32>) -> tensor<12x197x197xf32>
  %p = "onnx.Softmax"(%s) {axis = 2 : i64} : (tensor<12x197x197xf32>) -> tensor<12x197x197xf32>
  %y = "onnx.MatMul"(%p, %v) : (tensor<12x197x197xf32>, tensor<12x197x64xf32>) -> tensor<12x197x64xf32>
  return %y : tensor<12x197x64xf32>
}

// -----

// Not fused: the probabilities used elsewhere, a softmax over another
// axis, a broadcast of K across heads, a head size not a multiple of 4.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: kiln.attention
func.func @kept(%q: tensor<2x4x8xf32>, %kt: tensor<2x8x5xf32>, %v: tensor<2x5x8xf32>, %k1: tensor<1x8x5xf32>, %q6: tensor<2x4x6xf32>, %k6: tensor<2x6x5xf32>, %v6: tensor<2x5x6xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x5xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x6xf32>) {
  %s = "onnx.MatMul"(%q, %kt) : (tensor<2x4x8xf32>, tensor<2x8x5xf32>) -> tensor<2x4x5xf32>
  %p = "onnx.Softmax"(%s) {axis = -1 : i64} : (tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
  %y = "onnx.MatMul"(%p, %v) : (tensor<2x4x5xf32>, tensor<2x5x8xf32>) -> tensor<2x4x8xf32>
  %s2 = "onnx.MatMul"(%q, %kt) : (tensor<2x4x8xf32>, tensor<2x8x5xf32>) -> tensor<2x4x5xf32>
  %p2 = "onnx.Softmax"(%s2) {axis = 1 : i64} : (tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
  %y2 = "onnx.MatMul"(%p2, %v) : (tensor<2x4x5xf32>, tensor<2x5x8xf32>) -> tensor<2x4x8xf32>
  %s3 = "onnx.MatMul"(%q, %k1) : (tensor<2x4x8xf32>, tensor<1x8x5xf32>) -> tensor<2x4x5xf32>
  %p3 = "onnx.Softmax"(%s3) {axis = -1 : i64} : (tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
  %y3 = "onnx.MatMul"(%p3, %v) : (tensor<2x4x5xf32>, tensor<2x5x8xf32>) -> tensor<2x4x8xf32>
  %s4 = "onnx.MatMul"(%q6, %k6) : (tensor<2x4x6xf32>, tensor<2x6x5xf32>) -> tensor<2x4x5xf32>
  %p4 = "onnx.Softmax"(%s4) {axis = -1 : i64} : (tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
  %y4 = "onnx.MatMul"(%p4, %v6) : (tensor<2x4x5xf32>, tensor<2x5x6xf32>) -> tensor<2x4x6xf32>
  return %y, %p, %y2, %y3, %y4 : tensor<2x4x8xf32>, tensor<2x4x5xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x6xf32>
}

// -----

// GPT-2's decode step: the keys are the cache's rows [B, H, T, D], which
// the exporter transposes for Q . Kt; the kernel reads the rows instead,
// and the Transpose is left without a use.
// CHECK-LABEL: func.func @decode
// CHECK: %[[K:.*]] = tensor.collapse_shape %arg1 {{.*}} : tensor<1x12x513x64xf32> into tensor<12x513x64xf32>
// CHECK: kiln.attention %{{.*}}, %[[K]], %{{.*}} into %{{.*}} {key_rows, scale = 1.250000e-01 : f32} : tensor<12x1x64xf32>, tensor<12x513x64xf32>, tensor<12x513x64xf32>
func.func @decode(%q: tensor<1x12x1x64xf32>, %k: tensor<1x12x513x64xf32>, %v: tensor<1x12x513x64xf32>) -> tensor<1x12x1x64xf32> {
  %kt = "onnx.Transpose"(%k) {perm = [0, 1, 3, 2]} : (tensor<1x12x513x64xf32>) -> tensor<1x12x64x513xf32>
  %s = "onnx.MatMul"(%q, %kt) : (tensor<1x12x1x64xf32>, tensor<1x12x64x513xf32>) -> tensor<1x12x1x513xf32>
  %c = "onnx.Constant"() {value = dense<8.0> : tensor<f32>} : () -> tensor<f32>
  %d = "onnx.Div"(%s, %c) : (tensor<1x12x1x513xf32>, tensor<f32>) -> tensor<1x12x1x513xf32>
  %p = "onnx.Softmax"(%d) {axis = -1 : i64} : (tensor<1x12x1x513xf32>) -> tensor<1x12x1x513xf32>
  %y = "onnx.MatMul"(%p, %v) : (tensor<1x12x1x513xf32>, tensor<1x12x513x64xf32>) -> tensor<1x12x1x64xf32>
  return %y : tensor<1x12x1x64xf32>
}

// -----

// A cache held in bf16 reaches the product widened by a Cast: the kernel
// reads the bf16 rows, and the Casts are left without a use.
// CHECK-LABEL: func.func @bf16_cache
// CHECK-NOT: onnx.Cast
// CHECK: %[[K:.*]] = tensor.collapse_shape %arg1 {{.*}} : tensor<1x3x?x64xbf16> into tensor<3x?x64xbf16>
// CHECK: %[[V:.*]] = tensor.collapse_shape %arg2 {{.*}} : tensor<1x3x?x64xbf16> into tensor<3x?x64xbf16>
// CHECK: kiln.attention %{{.*}}, %[[K]], %[[V]] into %{{.*}} {key_rows, scale = 1.250000e-01 : f32} : tensor<3x1x64xf32>, tensor<3x?x64xbf16>, tensor<3x?x64xbf16>
func.func @bf16_cache(%q: tensor<1x3x1x64xf32>, %kh: tensor<1x3x?x64xbf16>, %vh: tensor<1x3x?x64xbf16>) -> tensor<1x3x1x64xf32> {
  %k = "onnx.Cast"(%kh) <{to = 1 : i64}> : (tensor<1x3x?x64xbf16>) -> tensor<1x3x?x64xf32>
  %v = "onnx.Cast"(%vh) <{to = 1 : i64}> : (tensor<1x3x?x64xbf16>) -> tensor<1x3x?x64xf32>
  %kt = "onnx.Transpose"(%k) {perm = [0, 1, 3, 2]} : (tensor<1x3x?x64xf32>) -> tensor<1x3x64x?xf32>
  %s = "onnx.MatMul"(%q, %kt) : (tensor<1x3x1x64xf32>, tensor<1x3x64x?xf32>) -> tensor<1x3x1x?xf32>
  %c = "onnx.Constant"() {value = dense<8.0> : tensor<f32>} : () -> tensor<f32>
  %d = "onnx.Div"(%s, %c) : (tensor<1x3x1x?xf32>, tensor<f32>) -> tensor<1x3x1x?xf32>
  %p = "onnx.Softmax"(%d) {axis = -1 : i64} : (tensor<1x3x1x?xf32>) -> tensor<1x3x1x?xf32>
  %y = "onnx.MatMul"(%p, %v) : (tensor<1x3x1x?xf32>, tensor<1x3x?x64xf32>) -> tensor<1x3x1x64xf32>
  return %y : tensor<1x3x1x64xf32>
}

// -----

// A 4-bit cache (QoQ's KV4) reaches the product through kiln.unpack_kv4:
// the kernel reads the packed rows (64 values in 36 bytes) as keys and
// values, and the unpacking is left without a use.
// CHECK-LABEL: func.func @kv4_cache
// CHECK-NOT: kiln.unpack_kv4
// CHECK: %[[K:.*]] = tensor.collapse_shape %arg1 {{.*}} : tensor<1x3x?x36xi8> into tensor<3x?x36xi8>
// CHECK: %[[V:.*]] = tensor.collapse_shape %arg2 {{.*}} : tensor<1x3x?x36xi8> into tensor<3x?x36xi8>
// CHECK: kiln.attention %{{.*}}, %[[K]], %[[V]] into %{{.*}} {key_rows, scale = 1.250000e-01 : f32} : tensor<3x1x64xf32>, tensor<3x?x36xi8>, tensor<3x?x36xi8>
func.func @kv4_cache(%q: tensor<1x3x1x64xf32>, %kp: tensor<1x3x?x36xi8>, %vp: tensor<1x3x?x36xi8>) -> tensor<1x3x1x64xf32> {
  %k = kiln.unpack_kv4 %kp : tensor<1x3x?x36xi8> -> tensor<1x3x?x64xf32>
  %v = kiln.unpack_kv4 %vp : tensor<1x3x?x36xi8> -> tensor<1x3x?x64xf32>
  %kt = "onnx.Transpose"(%k) {perm = [0, 1, 3, 2]} : (tensor<1x3x?x64xf32>) -> tensor<1x3x64x?xf32>
  %s = "onnx.MatMul"(%q, %kt) : (tensor<1x3x1x64xf32>, tensor<1x3x64x?xf32>) -> tensor<1x3x1x?xf32>
  %c = "onnx.Constant"() {value = dense<8.0> : tensor<f32>} : () -> tensor<f32>
  %d = "onnx.Div"(%s, %c) : (tensor<1x3x1x?xf32>, tensor<f32>) -> tensor<1x3x1x?xf32>
  %p = "onnx.Softmax"(%d) {axis = -1 : i64} : (tensor<1x3x1x?xf32>) -> tensor<1x3x1x?xf32>
  %y = "onnx.MatMul"(%p, %v) : (tensor<1x3x1x?xf32>, tensor<1x3x?x64xf32>) -> tensor<1x3x1x64xf32>
  return %y : tensor<1x3x1x64xf32>
}

// -----

// Any other permutation of the keys stays: the kernel takes them as the
// Transpose leaves them.
// CHECK-LABEL: func.func @other_permutation
// CHECK: onnx.Transpose
// CHECK: kiln.attention %{{.*}} {scale = 1.000000e+00 : f32}
func.func @other_permutation(%q: tensor<2x3x5x8xf32>, %k: tensor<2x5x3x8xf32>, %v: tensor<2x3x5x8xf32>) -> tensor<2x3x5x8xf32> {
  %kt = "onnx.Transpose"(%k) {perm = [0, 2, 3, 1]} : (tensor<2x5x3x8xf32>) -> tensor<2x3x8x5xf32>
  %s = "onnx.MatMul"(%q, %kt) : (tensor<2x3x5x8xf32>, tensor<2x3x8x5xf32>) -> tensor<2x3x5x5xf32>
  %p = "onnx.Softmax"(%s) {axis = -1 : i64} : (tensor<2x3x5x5xf32>) -> tensor<2x3x5x5xf32>
  %y = "onnx.MatMul"(%p, %v) : (tensor<2x3x5x5xf32>, tensor<2x3x5x8xf32>) -> tensor<2x3x5x8xf32>
  return %y : tensor<2x3x5x8xf32>
}

// -----

// A grouped-query decoder over a cache, as kiln-graph-grouped-query-heads
// leaves it: the 9 query heads stacked as 3 x S rows of the 3 key/value
// heads ([0, 3, -1, 0]), the scores regrouped to the query heads for the
// scale, the causal mask [B, 1, S, T] and the softmax, then back; batch,
// rows and keys known at run time. One kernel on the stacked rows, the
// mask as [B, S, T], the keys read as the cache's rows.
// CHECK-LABEL: func.func @grouped_masked
// CHECK-DAG: %[[Q:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2], [3]] : tensor<?x3x?x64xf32> into tensor<?x?x64xf32>
// CHECK-DAG: %[[K:.*]] = tensor.collapse_shape %arg1 {{.*}} : tensor<?x3x?x64xf32> into tensor<?x?x64xf32>
// CHECK-DAG: %[[M:.*]] = tensor.collapse_shape %arg3 {{.*}} : tensor<?x1x?x?xf32> into tensor<?x?x?xf32>
// CHECK: %[[Y:.*]] = kiln.attention %[[Q]], %[[K]], %{{.*}} mask %[[M]] into %{{.*}} {key_rows, scale = 1.250000e-01 : f32} : tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32> mask tensor<?x?x?xf32> into tensor<?x?x64xf32>
// CHECK: tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2], [3]] output_shape [%{{.*}}, 3, %{{.*}}, 64] : tensor<?x?x64xf32> into tensor<?x3x?x64xf32>
// CHECK-NOT: onnx.Softmax
func.func @grouped_masked(%q: tensor<?x3x?x64xf32>, %k: tensor<?x3x?x64xf32>, %v: tensor<?x3x?x64xf32>, %mask: tensor<?x1x?x?xf32>) -> tensor<?x3x?x64xf32> {
  %to_query = "onnx.Constant"() {value = dense<[0, 9, -1, 0]> : tensor<4xi64>} : () -> tensor<4xi64>
  %to_kv = "onnx.Constant"() {value = dense<[0, 3, -1, 0]> : tensor<4xi64>} : () -> tensor<4xi64>
  %kt = "onnx.Transpose"(%k) {perm = [0, 1, 3, 2]} : (tensor<?x3x?x64xf32>) -> tensor<?x3x64x?xf32>
  %s = "onnx.MatMul"(%q, %kt) : (tensor<?x3x?x64xf32>, tensor<?x3x64x?xf32>) -> tensor<?x3x?x?xf32>
  %s9 = "onnx.Reshape"(%s, %to_query) {allowzero = 0 : i64} : (tensor<?x3x?x?xf32>, tensor<4xi64>) -> tensor<?x9x?x?xf32>
  %c = "onnx.Constant"() {value = dense<8.0> : tensor<f32>} : () -> tensor<f32>
  %d = "onnx.Div"(%s9, %c) : (tensor<?x9x?x?xf32>, tensor<f32>) -> tensor<?x9x?x?xf32>
  %a = "onnx.Add"(%d, %mask) : (tensor<?x9x?x?xf32>, tensor<?x1x?x?xf32>) -> tensor<?x9x?x?xf32>
  %p = "onnx.Softmax"(%a) {axis = -1 : i64} : (tensor<?x9x?x?xf32>) -> tensor<?x9x?x?xf32>
  %p3 = "onnx.Reshape"(%p, %to_kv) {allowzero = 0 : i64} : (tensor<?x9x?x?xf32>, tensor<4xi64>) -> tensor<?x3x?x?xf32>
  %y = "onnx.MatMul"(%p3, %v) : (tensor<?x3x?x?xf32>, tensor<?x3x?x64xf32>) -> tensor<?x3x?x64xf32>
  return %y : tensor<?x3x?x64xf32>
}

// -----

// Not fused: a mask per query head cannot be shared by the stacked rows of
// grouped heads; a mask that broadcasts over the keys; symbolic keys that
// are not rows (the kernel's vectors along T need T at compile time).
// CHECK-LABEL: func.func @masks_kept
// CHECK-NOT: kiln.attention
func.func @masks_kept(%q: tensor<1x3x?x64xf32>, %k: tensor<1x3x?x64xf32>, %v: tensor<1x3x?x64xf32>, %per_head: tensor<1x9x?x?xf32>, %q2: tensor<2x4x8xf32>, %kt2: tensor<2x8x5xf32>, %v2: tensor<2x5x8xf32>, %column: tensor<2x4x1xf32>, %kt3: tensor<2x8x?xf32>, %v3: tensor<2x?x8xf32>) -> (tensor<1x3x?x64xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %to_query = "onnx.Constant"() {value = dense<[0, 9, -1, 0]> : tensor<4xi64>} : () -> tensor<4xi64>
  %to_kv = "onnx.Constant"() {value = dense<[0, 3, -1, 0]> : tensor<4xi64>} : () -> tensor<4xi64>
  %kt = "onnx.Transpose"(%k) {perm = [0, 1, 3, 2]} : (tensor<1x3x?x64xf32>) -> tensor<1x3x64x?xf32>
  %s = "onnx.MatMul"(%q, %kt) : (tensor<1x3x?x64xf32>, tensor<1x3x64x?xf32>) -> tensor<1x3x?x?xf32>
  %s9 = "onnx.Reshape"(%s, %to_query) {allowzero = 0 : i64} : (tensor<1x3x?x?xf32>, tensor<4xi64>) -> tensor<1x9x?x?xf32>
  %a = "onnx.Add"(%s9, %per_head) : (tensor<1x9x?x?xf32>, tensor<1x9x?x?xf32>) -> tensor<1x9x?x?xf32>
  %p = "onnx.Softmax"(%a) {axis = -1 : i64} : (tensor<1x9x?x?xf32>) -> tensor<1x9x?x?xf32>
  %p3 = "onnx.Reshape"(%p, %to_kv) {allowzero = 0 : i64} : (tensor<1x9x?x?xf32>, tensor<4xi64>) -> tensor<1x3x?x?xf32>
  %y = "onnx.MatMul"(%p3, %v) : (tensor<1x3x?x?xf32>, tensor<1x3x?x64xf32>) -> tensor<1x3x?x64xf32>
  %s2 = "onnx.MatMul"(%q2, %kt2) : (tensor<2x4x8xf32>, tensor<2x8x5xf32>) -> tensor<2x4x5xf32>
  %a2 = "onnx.Add"(%s2, %column) : (tensor<2x4x5xf32>, tensor<2x4x1xf32>) -> tensor<2x4x5xf32>
  %p2 = "onnx.Softmax"(%a2) {axis = -1 : i64} : (tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
  %y2 = "onnx.MatMul"(%p2, %v2) : (tensor<2x4x5xf32>, tensor<2x5x8xf32>) -> tensor<2x4x8xf32>
  %s3 = "onnx.MatMul"(%q2, %kt3) : (tensor<2x4x8xf32>, tensor<2x8x?xf32>) -> tensor<2x4x?xf32>
  %p4 = "onnx.Softmax"(%s3) {axis = -1 : i64} : (tensor<2x4x?xf32>) -> tensor<2x4x?xf32>
  %y3 = "onnx.MatMul"(%p4, %v3) : (tensor<2x4x?xf32>, tensor<2x?x8xf32>) -> tensor<2x4x8xf32>
  return %y, %y2, %y3 : tensor<1x3x?x64xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// -----

// A decode step's grouped heads whose regrouped probabilities shape
// inference left with symbolic rows ([1, 3, ?, ?], though the query has
// 3): the result takes the query's extents and is cast to the product's
// type (building the expand to the less known type crashed).
// CHECK-LABEL: func.func @rows_better_known
// CHECK: %[[Y:.*]] = kiln.attention {{.*}} : tensor<3x3x64xf32>, tensor<3x?x64xf32>, tensor<3x?x64xf32> mask tensor<1x1x?xf32> into tensor<3x3x64xf32>
// CHECK: %[[E:.*]] = tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2], [3]] output_shape [1, 3, 3, 64] : tensor<3x3x64xf32> into tensor<1x3x3x64xf32>
// CHECK: tensor.cast %[[E]] : tensor<1x3x3x64xf32> to tensor<1x3x?x64xf32>
func.func @rows_better_known(%q: tensor<1x9x1x64xf32>, %mask: tensor<1x1x1x?xf32>, %k: tensor<1x3x?x64xf32>, %v: tensor<1x3x?x64xf32>) -> tensor<1x9x1x64xf32> {
  %to_query = "onnx.Constant"() <{value = dense<[0, 9, -1, 0]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %root = "onnx.Constant"() <{value = dense<8.0> : tensor<f32>}> : () -> tensor<f32>
  %to_kv = "onnx.Constant"() <{value = dense<[0, 3, -1, 0]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %q3 = "onnx.Reshape"(%q, %to_kv) <{allowzero = 0 : i64}> : (tensor<1x9x1x64xf32>, tensor<4xi64>) -> tensor<1x3x3x64xf32>
  %kt = "onnx.Transpose"(%k) <{perm = [0, 1, 3, 2]}> : (tensor<1x3x?x64xf32>) -> tensor<1x3x64x?xf32>
  %s3 = "onnx.MatMul"(%q3, %kt) : (tensor<1x3x3x64xf32>, tensor<1x3x64x?xf32>) -> tensor<1x3x3x?xf32>
  %s = "onnx.Reshape"(%s3, %to_query) <{allowzero = 0 : i64}> : (tensor<1x3x3x?xf32>, tensor<4xi64>) -> tensor<1x9x1x?xf32>
  %d = "onnx.Div"(%s, %root) : (tensor<1x9x1x?xf32>, tensor<f32>) -> tensor<1x9x1x?xf32>
  %a = "onnx.Add"(%d, %mask) : (tensor<1x9x1x?xf32>, tensor<1x1x1x?xf32>) -> tensor<1x9x1x?xf32>
  %p = "onnx.Softmax"(%a) <{axis = -1 : i64}> : (tensor<1x9x1x?xf32>) -> tensor<1x9x1x?xf32>
  %p3 = "onnx.Reshape"(%p, %to_kv) <{allowzero = 0 : i64}> : (tensor<1x9x1x?xf32>, tensor<4xi64>) -> tensor<1x3x?x?xf32>
  %y3 = "onnx.MatMul"(%p3, %v) : (tensor<1x3x?x?xf32>, tensor<1x3x?x64xf32>) -> tensor<1x3x?x64xf32>
  %y = "onnx.Reshape"(%y3, %to_query) <{allowzero = 0 : i64}> : (tensor<1x3x?x64xf32>, tensor<4xi64>) -> tensor<1x9x1x64xf32>
  return %y : tensor<1x9x1x64xf32>
}
