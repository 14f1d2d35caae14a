// RUN: kiln-opt %s -split-input-file -kiln-graph-decompose-llm-ops | FileCheck %s

// Grouped-query attention over a past cache, causal: the present caches
// are the concatenations (the replaced results keep their types), each of
// the 2 KV heads serves 3 query heads, the scores are scaled by
// 1/sqrt(8), and query i (at position 4 + i) sees keys j <= 4 + i. Rows
// whose bias allows no key get zero probabilities.
// CHECK-LABEL: func.func @gqa_causal_past
// CHECK-DAG: %[[KEYPOS:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}0, 1, 2, 3, 4, 5, 6]]> : tensor<1x7xi64>}>
// CHECK-DAG: %[[QPOS:.*]] = "onnx.Constant"() <{value = dense<{{\[\[}}4], [5], [6]]> : tensor<3x1xi64>}>
// CHECK-DAG: %[[SCALE:.*]] = "onnx.Constant"() <{value = dense<0.353553385> : tensor<f32>}>
// CHECK-DAG: %[[GROUPS:.*]] = "onnx.Constant"() <{value = dense<[0, 0, 0, 1, 1, 1]> : tensor<6xi64>}>
// CHECK-DAG: %[[NEGINF:.*]] = "onnx.Constant"() <{value = dense<0xFF800000> : tensor<f32>}>
// CHECK: %[[PK:.*]] = "onnx.Concat"(%arg3, %arg1) <{axis = 2 : i64}> : (tensor<2x2x4x8xf32>, tensor<2x2x3x8xf32>) -> tensor<2x2x7x8xf32>
// CHECK: %[[PV:.*]] = "onnx.Concat"(%arg4, %arg2) <{axis = 2 : i64}>
// CHECK: %[[K:.*]] = "onnx.Gather"(%[[PK]], %[[GROUPS]]) <{axis = 1 : i64}>
// CHECK: %[[KT:.*]] = "onnx.Transpose"(%[[K]]) <{perm = [0, 1, 3, 2]}>
// CHECK: %[[QK:.*]] = "onnx.MatMul"(%arg0, %[[KT]])
// CHECK: %[[S:.*]] = "onnx.Mul"(%[[QK]], %[[SCALE]])
// CHECK: %[[ALLOWED:.*]] = "onnx.LessOrEqual"(%[[KEYPOS]], %[[QPOS]])
// CHECK: %[[BIAS:.*]] = "onnx.Where"(%[[ALLOWED]], %{{.*}}, %[[NEGINF]])
// CHECK: %[[SB:.*]] = "onnx.Add"(%[[S]], %[[BIAS]])
// CHECK: %[[P:.*]] = "onnx.Softmax"(%[[SB]]) <{axis = -1 : i64}>
// CHECK: %[[MAX:.*]] = "onnx.ReduceMax"(%[[BIAS]]
// CHECK: %[[NONE:.*]] = "onnx.Equal"(%[[MAX]], %[[NEGINF]])
// CHECK: %[[PG:.*]] = "onnx.Where"(%[[NONE]], %{{.*}}, %[[P]])
// CHECK: %[[V:.*]] = "onnx.Gather"(%[[PV]], %[[GROUPS]]) <{axis = 1 : i64}>
// CHECK: %[[Y:.*]] = "onnx.MatMul"(%[[PG]], %[[V]]) : (tensor<*xf32>, tensor<*xf32>) -> tensor<2x6x3x8xf32>
// CHECK-NOT: onnx.Attention
// CHECK: return %[[Y]], %[[PK]], %[[PV]]
func.func @gqa_causal_past(%q: tensor<2x6x3x8xf32>, %k: tensor<2x2x3x8xf32>, %v: tensor<2x2x3x8xf32>, %pk: tensor<2x2x4x8xf32>, %pv: tensor<2x2x4x8xf32>) -> (tensor<2x6x3x8xf32>, tensor<2x2x7x8xf32>, tensor<2x2x7x8xf32>) {
  %y, %pk2, %pv2 = "onnx.Attention"(%q, %k, %v, %pk, %pv) {is_causal = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 1, 0>, resultSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<2x6x3x8xf32>, tensor<2x2x3x8xf32>, tensor<2x2x3x8xf32>, tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> (tensor<2x6x3x8xf32>, tensor<2x2x7x8xf32>, tensor<2x2x7x8xf32>)
  return %y, %pk2, %pv2 : tensor<2x6x3x8xf32>, tensor<2x2x7x8xf32>, tensor<2x2x7x8xf32>
}

// -----

// 3-D inputs in bfloat16 with a boolean mask over 4 of the 6 keys: heads
// split by Reshape and Transpose, the computation in float32, the mask
// padded with `false` and turned into 0 / -inf, a softcap, the scores
// with the bias as qk_matmul_output (mode 2), the output merged back and
// rounded to bfloat16 once.
// CHECK-LABEL: func.func @three_d_mask
// CHECK-DAG: %[[PAD:.*]] = "onnx.Constant"() <{value = dense<false> : tensor<2x1x2x2xi1>}>
// CHECK: %[[QH:.*]] = "onnx.Reshape"(%arg0, %{{.*}})
// CHECK: %[[QT:.*]] = "onnx.Transpose"(%[[QH]]) <{perm = [0, 2, 1, 3]}> : (tensor<*xbf16>) -> tensor<*xbf16>
// CHECK: %[[Q:.*]] = "onnx.Cast"(%[[QT]]) <{round_mode = "up", saturate = 1 : i64, to = 1 : i64}> : (tensor<*xbf16>) -> tensor<*xf32>
// CHECK: "onnx.Tanh"
// CHECK: %[[MASK:.*]] = "onnx.Concat"(%arg3, %[[PAD]]) <{axis = 3 : i64}>
// CHECK: "onnx.Where"(%[[MASK]]
// CHECK: %[[WITHBIAS:.*]] = "onnx.Add"
// CHECK: "onnx.Softmax"(%[[WITHBIAS]])
// CHECK: "onnx.Reshape"({{.*}} : (tensor<*xf32>, tensor<3xi64>) -> tensor<*xf32>
// CHECK: "onnx.Cast"({{.*}}) <{{{.*}}to = 16 : i64}> : (tensor<*xf32>) -> tensor<2x2x16xbf16>
// CHECK: "onnx.Cast"(%[[WITHBIAS]]) <{{{.*}}to = 16 : i64}> : (tensor<*xf32>) -> tensor<2x2x2x6xbf16>
func.func @three_d_mask(%q: tensor<2x2x16xbf16>, %k: tensor<2x6x16xbf16>, %v: tensor<2x6x16xbf16>, %m: tensor<2x1x2x4xi1>) -> (tensor<2x2x16xbf16>, tensor<2x2x2x6xbf16>) {
  %y, %qk = "onnx.Attention"(%q, %k, %v, %m) {q_num_heads = 2 : i64, kv_num_heads = 2 : i64, softcap = 2.0 : f32, qk_matmul_output_mode = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0>, resultSegmentSizes = array<i32: 1, 0, 0, 1>} : (tensor<2x2x16xbf16>, tensor<2x6x16xbf16>, tensor<2x6x16xbf16>, tensor<2x1x2x4xi1>) -> (tensor<2x2x16xbf16>, tensor<2x2x2x6xbf16>)
  return %y, %qk : tensor<2x2x16xbf16>, tensor<2x2x2x6xbf16>
}

// -----

// A sliding window (two keys back, none ahead) and a per-batch cache
// length: query i sits at nonpad[b] - 3 + i, and keys past nonpad[b] are
// padding.
// CHECK-LABEL: func.func @window_nonpad
// CHECK-DAG: "onnx.Constant"() <{value = dense<{{\[\[}}-3], [-2], [-1]]> : tensor<3x1xi64>}>
// CHECK: %[[LENGTHS:.*]] = "onnx.Reshape"(%arg3, %{{.*}}) {{.*}}-> tensor<*xi64>
// CHECK: %[[QPOS:.*]] = "onnx.Add"(%{{.*}}, %[[LENGTHS]])
// CHECK: %[[DIST:.*]] = "onnx.Sub"(%[[QPOS]], %{{.*}})
// CHECK: %[[LEFT:.*]] = "onnx.LessOrEqual"(%[[DIST]], %{{.*}})
// CHECK: %[[NEG:.*]] = "onnx.Neg"(%[[DIST]])
// CHECK: %[[RIGHT:.*]] = "onnx.LessOrEqual"(%[[NEG]], %{{.*}})
// CHECK: "onnx.And"(%[[LEFT]], %[[RIGHT]])
// CHECK: "onnx.Unsqueeze"
// CHECK: "onnx.Less"
func.func @window_nonpad(%q: tensor<2x4x3x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x8xf32>, %n: tensor<2xi64>) -> tensor<2x4x3x8xf32> {
  %y = "onnx.Attention"(%q, %k, %v, %n) {left_window_size = 2 : i64, right_window_size = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 1>, resultSegmentSizes = array<i32: 1, 0, 0, 0>} : (tensor<2x4x3x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x8xf32>, tensor<2xi64>) -> tensor<2x4x3x8xf32>
  return %y : tensor<2x4x3x8xf32>
}

// -----

// RMSNormalization over the last two axes of float16 in float32 (the
// stash type): x * (1 / sqrt(mean(x^2) + epsilon)), rounded, times scale.
// CHECK-LABEL: func.func @rms
// CHECK: %[[X:.*]] = "onnx.Cast"(%arg0) <{{{.*}}to = 1 : i64}>
// CHECK: %[[SQ:.*]] = "onnx.Mul"(%[[X]], %[[X]])
// CHECK: %[[MEAN:.*]] = "onnx.ReduceMean"(%[[SQ]], %{{.*}}) <{keepdims = 1 : i64
// CHECK: %[[EPS:.*]] = "onnx.Add"(%[[MEAN]], %{{.*}})
// CHECK: %[[RMS:.*]] = "onnx.Sqrt"(%[[EPS]])
// CHECK: %[[INV:.*]] = "onnx.Reciprocal"(%[[RMS]])
// CHECK: %[[N:.*]] = "onnx.Mul"(%[[X]], %[[INV]])
// CHECK: %[[H:.*]] = "onnx.Cast"(%[[N]]) <{{{.*}}to = 10 : i64}>
// CHECK: %[[Y:.*]] = "onnx.Mul"(%[[H]], %arg1) : (tensor<*xf16>, tensor<5x6xf16>) -> tensor<2x5x6xf16>
// CHECK: return %[[Y]]
func.func @rms(%x: tensor<2x5x6xf16>, %s: tensor<5x6xf16>) -> tensor<2x5x6xf16> {
  %y = "onnx.RMSNormalization"(%x, %s) {axis = -2 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x5x6xf16>, tensor<5x6xf16>) -> tensor<2x5x6xf16>
  return %y : tensor<2x5x6xf16>
}

// -----

// RotaryEmbedding, interleaved, on the first 4 of 8 channels of a 3-D
// input with 2 heads: even and odd channels (Slice with step 2) rotated by
// the caches gathered at the positions, paired back, the other 4 passed.
// CHECK-LABEL: func.func @rotary
// CHECK: %[[X:.*]] = "onnx.Reshape"(%arg0, %{{.*}})
// CHECK: %[[COS:.*]] = "onnx.Gather"(%arg1, %arg3) <{axis = 0 : i64}>
// CHECK: "onnx.Unsqueeze"(%[[COS]]
// CHECK: %[[EVEN:.*]] = "onnx.Slice"(%[[X]]
// CHECK: %[[ODD:.*]] = "onnx.Slice"(%[[X]]
// CHECK: "onnx.Sub"
// CHECK: "onnx.Add"
// CHECK: %[[PAIRS:.*]] = "onnx.Concat"({{.*}}) <{axis = 4 : i64}>
// CHECK: %[[ROT:.*]] = "onnx.Reshape"(%[[PAIRS]]
// CHECK: %[[REST:.*]] = "onnx.Slice"(%[[X]]
// CHECK: "onnx.Concat"(%[[ROT]], %[[REST]]) <{axis = 3 : i64}>
// CHECK: "onnx.Reshape"({{.*}} : (tensor<*xf32>, tensor<3xi64>) -> tensor<1x3x16xf32>
func.func @rotary(%x: tensor<1x3x16xf32>, %cos: tensor<10x2xf32>, %sin: tensor<10x2xf32>, %pos: tensor<1x3xi64>) -> tensor<1x3x16xf32> {
  %y = "onnx.RotaryEmbedding"(%x, %cos, %sin, %pos) {interleaved = 1 : i64, num_heads = 2 : i64, rotary_embedding_dim = 4 : i64} : (tensor<1x3x16xf32>, tensor<10x2xf32>, tensor<10x2xf32>, tensor<1x3xi64>) -> tensor<1x3x16xf32>
  return %y : tensor<1x3x16xf32>
}
