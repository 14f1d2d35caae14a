// RUN: kiln-opt %s -kiln-sparsity-quest="budget=48 page=16 dense-layers=1" | FileCheck %s
// RUN: kiln-opt %s -kiln-sparsity-quest="budget=48 page=16 dense-layers=2 warn" -verify-diagnostics | FileCheck %s --check-prefix=DENSE
// RUN: kiln-opt %s -kiln-sparsity-quest="budget=48 page=16 dense-layers=1 keep-first-page" | FileCheck %s --check-prefix=FIRST

// FIRST: kiln.select_pages %{{.*}} candidates %{{.*}} into %{{.*}} {keep_first} : tensor<2x4xf32> into tensor<2x3xi32>

// Two layers' attention over session key caches of 2 heads, 64 tokens of
// D = 16 (after kiln-graph-session-kv-cache and kiln-graph-fuse-attention).
// The first stays dense; the second gets its page bounds as one more
// session state ([1, 2, 2 x 4 pages, 16] bf16), updated for the rows written,
// and a decode step (one new row) over more than 3 pages scores the pages
// before the current one, keeps 2 of them and the current one, and
// attends to those.
// CHECK-LABEL: func.func @decoder
// CHECK-SAME: %[[CACHE1:[a-z0-9]*]]: tensor<1x2x64x16xf32> {kiln.kv_cache_state = {past = "past.1.key", present = "present.1.key"}}
// CHECK-SAME: %[[BOUNDS:[a-z0-9]*]]: tensor<1x2x8x16xbf16> {kiln.kv_cache_state = {page_bounds = 16 : i64, past = "past.1.key", present = "present.1.key"}})
// CHECK: kiln.attention
// CHECK-NOT: pages
// CHECK-SAME: -> tensor<2x?x16xf32>
// CHECK: %[[WRITE:.*]] = tensor.insert_slice %{{.*}} into %[[CACHE1]][0, 0, %[[FROM:.*]], 0] [1, 2, %[[NEW:.*]], 16]
// CHECK: %[[STATE:.*]] = tensor.collapse_shape %[[BOUNDS]] {{\[}}[0, 1], [2], [3]]
// CHECK: %[[KEYS:.*]] = tensor.collapse_shape %[[WRITE]] {{\[}}[0, 1], [2], [3]]
// CHECK: %[[UPDATED:.*]] = kiln.page_bounds %[[KEYS]] rows %[[FROM]] to %[[TO:.*]] into %[[STATE]] {page_size = 16 : i64} : tensor<2x64x16xf32> into tensor<2x8x16xbf16>
// CHECK: %[[SPANNED:.*]] = arith.divui
// CHECK: %[[DECODE:.*]] = arith.cmpi eq, %[[NEW]], %c1
// CHECK: %[[OVER:.*]] = arith.cmpi ugt, %[[SPANNED]], %c3
// CHECK: %[[BEFORE:.*]] = arith.subi %[[SPANNED]], %c1
// CHECK: %[[BOTH:.*]] = arith.andi %[[DECODE]], %[[OVER]]
// CHECK: %[[CANDIDATES:.*]] = arith.select %[[BOTH]], %[[BEFORE]], %c0
// CHECK: %[[SCORES:.*]] = kiln.page_scores %{{.*}}, %[[UPDATED]] pages %[[CANDIDATES]] into %{{.*}} : tensor<2x?x16xf32>, tensor<2x8x16xbf16> into tensor<2x4xf32>
// CHECK: %[[TABLE:.*]] = kiln.select_pages %[[SCORES]] candidates %[[CANDIDATES]] into %{{.*}} : tensor<2x4xf32> into tensor<2x3xi32>
// CHECK: kiln.attention {{.*}} pages %[[TABLE]] into {{.*}} {key_rows, page_size = 16 : i64, scale = 2.500000e-01 : f32}
//
// With both layers dense, nothing changes, and a warning says so.
// DENSE-LABEL: func.func @decoder
// DENSE-NOT: kiln.page_bounds
// DENSE-NOT: pages
// expected-warning @+1 {{Quest has no decode attention to make sparse: 2 attention(s) over the session's key cache, and the first 2 stay dense}}
func.func @decoder(%q0: tensor<2x?x16xf32>, %q1: tensor<2x?x16xf32>,
                   %new0: tensor<1x2x?x16xf32>, %new1: tensor<1x2x?x16xf32>,
                   %length: tensor<i64> {kiln.kv_cache_length},
                   %cache0: tensor<1x2x64x16xf32> {kiln.kv_cache_state = {past = "past.0.key", present = "present.0.key"}},
                   %cache1: tensor<1x2x64x16xf32> {kiln.kv_cache_state = {past = "past.1.key", present = "present.1.key"}})
    -> (tensor<2x?x16xf32>, tensor<2x?x16xf32>)
    attributes {kiln.kv_cache = {batch_dim = "", capacity = 64 : i64, page = 16 : i64, past_dim = "past", total_dim = "total"}} {
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %n = tensor.extract %length[] : tensor<i64>
  %from = arith.index_cast %n : i64 to index
  %rows = tensor.dim %new0, %c2 : tensor<1x2x?x16xf32>
  %room = arith.subi %c64, %from : index
  %written = arith.minui %rows, %room : index
  %to = arith.addi %from, %written : index
  %w0 = tensor.insert_slice %new0 into %cache0[0, 0, %from, 0] [1, 2, %written, 16] [1, 1, 1, 1] : tensor<1x2x?x16xf32> into tensor<1x2x64x16xf32>
  %v0 = tensor.extract_slice %w0[0, 0, 0, 0] [1, 2, %to, 16] [1, 1, 1, 1] : tensor<1x2x64x16xf32> to tensor<1x2x?x16xf32>
  %k0 = tensor.collapse_shape %v0 [[0, 1], [2], [3]] : tensor<1x2x?x16xf32> into tensor<2x?x16xf32>
  %r0 = tensor.dim %q0, %c2 : tensor<2x?x16xf32>
  %e0 = tensor.empty(%r0) : tensor<2x?x16xf32>
  %y0 = kiln.attention %q0, %k0, %k0 into %e0 {key_rows, scale = 0.25 : f32} : tensor<2x?x16xf32>, tensor<2x?x16xf32>, tensor<2x?x16xf32> into tensor<2x?x16xf32> -> tensor<2x?x16xf32>
  %w1 = tensor.insert_slice %new1 into %cache1[0, 0, %from, 0] [1, 2, %written, 16] [1, 1, 1, 1] : tensor<1x2x?x16xf32> into tensor<1x2x64x16xf32>
  %v1 = tensor.extract_slice %w1[0, 0, 0, 0] [1, 2, %to, 16] [1, 1, 1, 1] : tensor<1x2x64x16xf32> to tensor<1x2x?x16xf32>
  %k1 = tensor.collapse_shape %v1 [[0, 1], [2], [3]] : tensor<1x2x?x16xf32> into tensor<2x?x16xf32>
  %y1 = kiln.attention %q1, %k1, %k1 into %e0 {key_rows, scale = 0.25 : f32} : tensor<2x?x16xf32>, tensor<2x?x16xf32>, tensor<2x?x16xf32> into tensor<2x?x16xf32> -> tensor<2x?x16xf32>
  return %y0, %y1 : tensor<2x?x16xf32>, tensor<2x?x16xf32>
}
