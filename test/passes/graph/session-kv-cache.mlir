// RUN: kiln-opt %s -kiln-graph-session-kv-cache="max-context=40 page=16" | FileCheck %s
// RUN: kiln-opt %s -kiln-graph-session-kv-cache="max-context=40 page=16 element-type=bf16" | FileCheck %s --check-prefix=BF16
// RUN: kiln-opt %s -kiln-graph-session-kv-cache="max-context=40 page=16 element-type=kv4" | FileCheck %s --check-prefix=KV4

// One layer's keys: present = Concat(past, new) becomes a write of the new
// rows into a 48-token cache (40 rounded up to pages of 16) at the cached
// length, and a view of the filled prefix; the past input's Shape reads the
// prefix before the run. The past input and present output leave the
// signature; the length and the cache follow the public inputs. The one
// other symbolic dimension of the inputs counts the new tokens (the
// session checks that the total is the cached plus them).
// CHECK-LABEL: func.func @decoder
// CHECK-SAME: (%[[X:.*]]: tensor<?x?xi64> {onnx.dim_params = ["batch_size", "total_sequence_length"], onnx.name = "attention_mask"},
// CHECK-SAME: %[[NEW:.*]]: tensor<?x3x?x8xf32> {onnx.dim_params = ["batch_size", "", "sequence_length", ""], onnx.name = "new"},
// CHECK-SAME: %[[LEN:.*]]: tensor<i64> {kiln.kv_cache_length},
// CHECK-SAME: %[[CACHE:.*]]: tensor<1x3x48x8xf32> {kiln.kv_cache_state = {past = "past_key_values.0.key", present = "present.0.key"}})
// CHECK-SAME: -> (tensor<4xi64> {onnx.name = "past_shape"}, tensor<?x3x?x8xf32> {onnx.name = "keys"})
// CHECK-SAME: attributes {kiln.kv_cache = {batch_dim = "batch_size", capacity = 48 : i64, new_dim = "sequence_length", page = 16 : i64, past_dim = "past_sequence_length", total_dim = "total_sequence_length"}}
// CHECK: %[[N:.*]] = tensor.extract %[[LEN]][]
// CHECK: %[[L:.*]] = arith.index_cast %[[N]]
// CHECK: %[[PAST:.*]] = tensor.extract_slice %[[CACHE]][0, 0, 0, 0] [1, 3, %[[L]], 8] [1, 1, 1, 1]
// CHECK: "onnx.Shape"
// CHECK: %[[ROWS:.*]] = tensor.cast %[[NEW]] : tensor<?x3x?x8xf32> to tensor<1x3x?x8xf32>
// CHECK: %[[S:.*]] = tensor.dim %[[ROWS]], %{{.*}}
// CHECK: %[[ROOM:.*]] = arith.subi %{{.*}}, %[[L]]
// CHECK: %[[W:.*]] = arith.minui %[[S]], %[[ROOM]]
// CHECK: %[[FIT:.*]] = tensor.extract_slice %[[ROWS]][0, 0, 0, 0] [1, 3, %[[W]], 8]
// CHECK: %[[UPDATED:.*]] = tensor.insert_slice %[[FIT]] into %[[CACHE]][0, 0, %[[L]], 0] [1, 3, %[[W]], 8]
// CHECK: %[[T:.*]] = arith.addi %[[L]], %[[W]]
// CHECK: %[[VIEW:.*]] = tensor.extract_slice %[[UPDATED]][0, 0, 0, 0] [1, 3, %[[T]], 8]
// CHECK: %[[KEYS:.*]] = "onnx.Identity"
// CHECK-NOT: onnx.Concat
// CHECK: return %{{.*}}, %[[KEYS]]
func.func @decoder(%mask: tensor<?x?xi64> {onnx.name = "attention_mask", onnx.dim_params = ["batch_size", "total_sequence_length"]},
                   %past: tensor<?x3x?x8xf32> {onnx.name = "past_key_values.0.key", onnx.dim_params = ["batch_size", "", "past_sequence_length", ""]},
                   %new: tensor<?x3x?x8xf32> {onnx.name = "new", onnx.dim_params = ["batch_size", "", "sequence_length", ""]})
    -> (tensor<4xi64> {onnx.name = "past_shape"},
        tensor<?x3x?x8xf32> {onnx.name = "present.0.key", onnx.dim_params = ["batch_size", "", "total_sequence_length", ""]},
        tensor<?x3x?x8xf32> {onnx.name = "keys"}) {
  %shape = "onnx.Shape"(%past) : (tensor<?x3x?x8xf32>) -> tensor<4xi64>
  %present = "onnx.Concat"(%past, %new) {axis = 2 : i64} : (tensor<?x3x?x8xf32>, tensor<?x3x?x8xf32>) -> tensor<?x3x?x8xf32>
  %keys = "onnx.Identity"(%present) : (tensor<?x3x?x8xf32>) -> tensor<?x3x?x8xf32>
  return %shape, %present, %keys : tensor<4xi64>, tensor<?x3x?x8xf32>, tensor<?x3x?x8xf32>
}

// Held in bf16: the cache argument is bf16, the new rows are rounded as
// they are written, and the views are widened back for their users (the
// past's Shape, the present's readers).
// BF16-LABEL: func.func @decoder
// BF16-SAME: %[[CACHE:[a-z0-9]*]]: tensor<1x3x48x8xbf16> {kiln.kv_cache_state
// BF16: %[[PAST:.*]] = tensor.extract_slice %[[CACHE]]{{.*}} to tensor<1x3x?x8xbf16>
// BF16: %[[PAST_AS:.*]] = tensor.cast %[[PAST]] : tensor<1x3x?x8xbf16> to tensor<?x3x?x8xbf16>
// BF16: %[[PAST_WIDE:.*]] = "onnx.Cast"(%[[PAST_AS]]) <{{.*}}to = 1 : i64}> : (tensor<?x3x?x8xbf16>) -> tensor<?x3x?x8xf32>
// BF16: "onnx.Shape"(%[[PAST_WIDE]])
// BF16: %[[FIT:.*]] = tensor.extract_slice %{{.*}} to tensor<1x3x?x8xf32>
// BF16: %[[ROUNDED:.*]] = "onnx.Cast"(%[[FIT]]) <{{.*}}to = 16 : i64}> : (tensor<1x3x?x8xf32>) -> tensor<1x3x?x8xbf16>
// BF16: %[[UPDATED:.*]] = tensor.insert_slice %[[ROUNDED]] into %[[CACHE]]
// BF16: %[[VIEW:.*]] = tensor.extract_slice %[[UPDATED]]{{.*}} to tensor<1x3x?x8xbf16>
// BF16: %[[VIEW_AS:.*]] = tensor.cast %[[VIEW]] : tensor<1x3x?x8xbf16> to tensor<?x3x?x8xbf16>
// BF16: %[[PRESENT:.*]] = "onnx.Cast"(%[[VIEW_AS]]) <{{.*}}to = 1 : i64}> : (tensor<?x3x?x8xbf16>) -> tensor<?x3x?x8xf32>
// BF16: "onnx.Identity"(%[[PRESENT]])

// Held in 4 bits: the cache argument holds rows of D/2 + 4 bytes (8 values:
// 4 bytes of nibbles, 4 of f16 scale and zero point), the new rows are
// packed as they are written and the views unpacked for their users.
// KV4-LABEL: func.func @decoder
// KV4-SAME: %[[CACHE:[a-z0-9]*]]: tensor<1x3x48x8xi8> {kiln.kv_cache_state
// KV4: %[[PAST:.*]] = tensor.extract_slice %[[CACHE]]{{.*}} to tensor<1x3x?x8xi8>
// KV4: %[[PAST_F32:.*]] = kiln.unpack_kv4 %[[PAST]] : tensor<1x3x?x8xi8> -> tensor<1x3x?x8xf32>
// KV4: %[[PAST_AS:.*]] = tensor.cast %[[PAST_F32]] : tensor<1x3x?x8xf32> to tensor<?x3x?x8xf32>
// KV4: "onnx.Shape"(%[[PAST_AS]])
// KV4: %[[FIT:.*]] = tensor.extract_slice %{{.*}} to tensor<1x3x?x8xf32>
// KV4: %[[PACKED:.*]] = kiln.pack_kv4 %[[FIT]] : tensor<1x3x?x8xf32> -> tensor<1x3x?x8xi8>
// KV4: %[[UPDATED:.*]] = tensor.insert_slice %[[PACKED]] into %[[CACHE]]
// KV4: %[[VIEW:.*]] = tensor.extract_slice %[[UPDATED]]{{.*}} to tensor<1x3x?x8xi8>
// KV4: %[[PRESENT:.*]] = kiln.unpack_kv4 %[[VIEW]] : tensor<1x3x?x8xi8> -> tensor<1x3x?x8xf32>
// KV4: %[[PRESENT_AS:.*]] = tensor.cast %[[PRESENT]] : tensor<1x3x?x8xf32> to tensor<?x3x?x8xf32>
// KV4: "onnx.Identity"(%[[PRESENT_AS]])
