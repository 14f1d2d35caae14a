// kiln.attention on buffers: a launch of kiln::cuda::attention with each
// operand's address arithmetic, here keys and values read in place from a
// session cache's rows ([1, 64, 16] of which the first T are filled), the
// mask shared by the heads, Quest's page table, and sizes known at run
// time: the grid is a block per head and tile of 4 query rows.
// RUN: kiln-translate --kiln-to-cuda %s | FileCheck %s

// CHECK: #include "kiln/cuda/attention.h"
// CHECK-LABEL: void kiln_kernel_0(
// CHECK: args.query = {buffer2, 0, (16 * size[[S:[0-9]+]]), 16, 1};
// CHECK-NEXT: args.output = {buffer{{[0-9]+}}, 0, (16 * size[[S]]), 16, 1};
// CHECK-NEXT: args.keys = {buffer3, 0, 1024, 16, 1};
// CHECK-NEXT: args.values = {buffer4, 0, 1024, 16, 1};
// CHECK-NEXT: args.mask = {buffer5, 0, ((size[[T:[0-9]+]]) * size[[SM:[0-9]+]]), (size[[T]]), 1};
// CHECK-NEXT: args.maskHeads = 1;
// CHECK-NEXT: args.maskRows = size[[SM]];
// CHECK-NEXT: args.pages = buffer6;
// CHECK-NEXT: args.pageOffset = 0;
// CHECK-NEXT: args.pageHead = 4;
// CHECK-NEXT: args.pageSlot = 1;
// CHECK-NEXT: args.slots = 4;
// CHECK-NEXT: args.pageSize = 16;
// CHECK-NEXT: args.heads = 1;
// CHECK-NEXT: args.rows = size[[S]];
// CHECK-NEXT: args.keyCount = size[[T]];
// CHECK-NEXT: args.scale = kiln::cuda::bitsFloat(1048576000u);
// CHECK-NEXT: kiln::cuda::attention<16>(args);
// CHECK: //   s[[S]] = dimension 1 of input 0
// CHECK: //   s[[TILES:[0-9]+]] = s[[S]] ceildiv 4 (i64)
// CHECK-NEXT: //   kiln_kernel_0<<<(s[[TILES]], 1, 1)>>>
func.func @main(%weights: memref<?xi8> {kiln.weights}, %workspace: memref<?xi8> {kiln.workspace}, %q: memref<1x?x16xf32>, %kc: memref<1x64x16xf32>, %vc: memref<1x64x16xf32>, %mask: memref<1x?x?xf32>, %pages: memref<1x4xi32>) -> memref<1x?x16xf32> {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %s = memref.dim %q, %c1 : memref<1x?x16xf32>
  %t = memref.dim %mask, %c2 : memref<1x?x?xf32>
  %k = memref.subview %kc[0, 0, 0] [1, %t, 16] [1, 1, 1] : memref<1x64x16xf32> to memref<1x?x16xf32, strided<[1024, 16, 1]>>
  %v = memref.subview %vc[0, 0, 0] [1, %t, 16] [1, 1, 1] : memref<1x64x16xf32> to memref<1x?x16xf32, strided<[1024, 16, 1]>>
  %out = memref.alloc(%s) : memref<1x?x16xf32>
  kiln.attention %q, %k, %v mask %mask pages %pages into %out {scale = 0.25 : f32, key_rows, page_size = 16 : i64} : memref<1x?x16xf32>, memref<1x?x16xf32, strided<[1024, 16, 1]>>, memref<1x?x16xf32, strided<[1024, 16, 1]>> mask memref<1x?x?xf32> pages memref<1x4xi32> into memref<1x?x16xf32>
  return %out : memref<1x?x16xf32>
}
