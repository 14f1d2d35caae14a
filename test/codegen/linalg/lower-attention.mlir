// RUN: kiln-opt %s -split-input-file -kiln-lower-attention-to-linalg -canonicalize -cse | FileCheck %s

// Quest's pages, the table written by kiln.select_pages: the sizes say
// whether it lists pages (more candidates than its 4 slots), and then how
// many keys they hold (3 full pages and the cache's last, T - its start).
// The listed pages' keys and values gathered into rows; the scaled
// query's products with them; the softmax with the mask (its one head
// shared, its 3 rows, read at each key's cache position) added as the
// maximum and the exponentials read the scores; the exponentials' product
// with the values over their sum, into the attention's init.
// CHECK-LABEL: func.func @select_pages_table
// CHECK: %[[TABLE:.*]] = kiln.select_pages
// CHECK: %[[T:.*]] = tensor.dim %arg1, %c1
// CHECK: %[[LISTS:.*]] = arith.cmpi uge, %arg5, %c4
// CHECK: %[[BEFORE:.*]] = arith.subi %[[T]], %c1
// CHECK: %[[LAST:.*]] = arith.divui %[[BEFORE]], %c16
// CHECK: %[[START:.*]] = arith.muli %[[LAST]], %c16
// CHECK: %[[TAIL:.*]] = arith.subi %[[T]], %[[START]]
// CHECK: %[[LISTED:.*]] = arith.addi %[[TAIL]], %c48
// CHECK: %[[L:.*]] = arith.select %[[LISTS]], %[[LISTED]], %[[T]]
// CHECK: %[[ROWS:.*]] = tensor.empty(%[[L]]) : tensor<2x?x16xf32>
// CHECK: %[[KEYS:.*]] = linalg.generic {{.*}} outs(%[[ROWS]] : tensor<2x?x16xf32>)
// CHECK: %[[HEAD:.*]] = linalg.index 0
// CHECK: %[[KEY:.*]] = linalg.index 1
// CHECK: %[[CHANNEL:.*]] = linalg.index 2
// CHECK: %[[SLOT:.*]] = arith.divui %[[KEY]], %c16
// CHECK: %[[CLAMPED:.*]] = arith.minui %[[SLOT]], %c3
// CHECK: %[[PAGE:.*]] = tensor.extract %[[TABLE]][%[[HEAD]], %[[CLAMPED]]]
// CHECK: %[[SELECTED:.*]] = arith.select %[[LISTS]], %{{.*}}, %[[KEY]]
// CHECK: tensor.extract %arg1[%[[HEAD]], %[[SELECTED]], %[[CHANNEL]]]
// CHECK: %[[VALUES:.*]] = linalg.generic
// CHECK: tensor.extract %arg2
// CHECK: %[[SCALED:.*]] = linalg.generic {{.*}} ins(%arg0
// CHECK: arith.mulf %{{.*}}, %cst
// CHECK: %[[SCORES:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[SCALED]], %[[KEYS]] : tensor<2x3x16xf32>, tensor<2x?x16xf32>) outs(%{{.*}} : tensor<2x3x?xf32>)
// CHECK: %[[MAXIMA:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[SCORES]] : tensor<2x3x?xf32>)
// CHECK: %[[MASKHEAD:.*]] = arith.divui %{{.*}}, %c2
// CHECK: %[[MASKROW:.*]] = arith.remui %{{.*}}, %c3
// CHECK: %[[MASKED:.*]] = tensor.extract %arg3[%[[MASKHEAD]], %[[MASKROW]], %{{.*}}]
// CHECK: %[[LOGIT:.*]] = arith.addf %{{.*}}, %[[MASKED]]
// CHECK: arith.maximumf %{{.*}}, %[[LOGIT]]
// CHECK: %[[EXPONENTIALS:.*]] = linalg.generic {{.*}} ins(%[[SCORES]], %[[MAXIMA]]
// CHECK: tensor.extract %arg3
// CHECK: math.exp
// CHECK: %[[SUMS:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[EXPONENTIALS]]
// CHECK: %[[WEIGHTED:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[EXPONENTIALS]], %[[VALUES]]
// CHECK: %[[RESULT:.*]] = linalg.generic {{.*}} ins(%[[WEIGHTED]], %[[SUMS]] : {{.*}}) outs(%arg6 : tensor<2x3x16xf32>)
// CHECK: arith.divf
// CHECK: return %[[RESULT]]
func.func @select_pages_table(%q: tensor<2x3x16xf32>, %k: tensor<2x?x16xf32>, %v: tensor<2x?x16xf32>, %m: tensor<1x3x?xf32>, %s: tensor<2x8xf32>, %n: index, %o: tensor<2x3x16xf32>) -> tensor<2x3x16xf32> {
  %e = tensor.empty() : tensor<2x4xi32>
  %t = kiln.select_pages %s candidates %n into %e : tensor<2x8xf32> into tensor<2x4xi32> -> tensor<2x4xi32>
  %r = kiln.attention %q, %k, %v mask %m pages %t into %o {scale = 0.25 : f32, key_rows, page_size = 16 : i64} : tensor<2x3x16xf32>, tensor<2x?x16xf32>, tensor<2x?x16xf32> mask tensor<1x3x?xf32> pages tensor<2x4xi32> into tensor<2x3x16xf32> -> tensor<2x3x16xf32>
  return %r : tensor<2x3x16xf32>
}

// -----

// Any other table says whether it lists pages in its first entry (-1:
// every key).
// CHECK-LABEL: func.func @table_argument
// CHECK: %[[FIRST:.*]] = tensor.extract %arg3[%c0, %c0] : tensor<2x4xi32>
// CHECK: %[[LISTS:.*]] = arith.cmpi sge, %[[FIRST]], %c0_i32
// CHECK: arith.select %[[LISTS]]
func.func @table_argument(%q: tensor<2x3x16xf32>, %k: tensor<2x?x16xf32>, %v: tensor<2x?x16xf32>, %t: tensor<2x4xi32>, %o: tensor<2x3x16xf32>) -> tensor<2x3x16xf32> {
  %r = kiln.attention %q, %k, %v pages %t into %o {scale = 0.25 : f32, key_rows, page_size = 16 : i64} : tensor<2x3x16xf32>, tensor<2x?x16xf32>, tensor<2x?x16xf32> pages tensor<2x4xi32> into tensor<2x3x16xf32> -> tensor<2x3x16xf32>
  return %r : tensor<2x3x16xf32>
}

// -----

// Without pages nothing is gathered: transposed keys [G, D, T] read in
// place, bf16 values widened as the product reads them, every extent
// symbolic but D.
// CHECK-LABEL: func.func @dense
// CHECK-NOT: tensor.extract
// CHECK: %[[T:.*]] = tensor.dim %arg1, %c2 : tensor<?x16x?xf32>
// CHECK: %[[SCALED:.*]] = linalg.generic
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[TRANSPOSED:.*]], #{{.*}}], {{.*}} ins(%[[SCALED]], %arg1 : tensor<?x?x16xf32>, tensor<?x16x?xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %arg2 : tensor<?x?x?xf32>, tensor<?x?x16xbf16>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
func.func @dense(%q: tensor<?x?x16xf32>, %k: tensor<?x16x?xf32>, %v: tensor<?x?x16xbf16>, %o: tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  %r = kiln.attention %q, %k, %v into %o {scale = 0.25 : f32} : tensor<?x?x16xf32>, tensor<?x16x?xf32>, tensor<?x?x16xbf16> into tensor<?x?x16xf32> -> tensor<?x?x16xf32>
  return %r : tensor<?x?x16xf32>
}
