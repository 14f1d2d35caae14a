// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg | FileCheck %s

// Packing: each row's minimum and maximum in one reduction; its s =
// (max - min) / 15 (1 for a constant row) and z = -min / s, both rounded
// to f16, once per row; then one generic over the bytes: bytes below D/2
// hold the nibbles of elements 2j (low) and 2j + 1 (high), round(x / s +
// z) clamped to [0, 15]; the last four the f16 bits of s then z, low byte
// first.
// CHECK-LABEL: func.func @pack
// CHECK: %[[R:.*]]:2 = linalg.reduce ins(%arg0, %arg0 : tensor<?x4xf32>, tensor<?x4xf32>)
// CHECK: arith.minimumf
// CHECK: arith.maximumf
// CHECK: %[[P:.*]]:2 = linalg.generic {{.*}} ins(%[[R]]#0, %[[R]]#1 : tensor<?xf32>, tensor<?xf32>)
// CHECK: %[[SPAN:.*]] = arith.subf
// CHECK: arith.divf %[[SPAN]]
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: arith.negf
// CHECK: linalg.yield
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x6xi8>)
// CHECK: %[[ROW:.*]] = linalg.index 0
// CHECK: %[[J:.*]] = linalg.index 1
// CHECK: tensor.extract %[[P]]#0[%[[ROW]]]
// CHECK: tensor.extract %[[P]]#1[%[[ROW]]]
// CHECK-NOT: arith.negf
// CHECK: math.roundeven
// CHECK: arith.fptoui %{{.*}} : f32 to i8
// CHECK: arith.shli
// CHECK: arith.ori
// CHECK: arith.bitcast %{{.*}} : f16 to i16
// CHECK: arith.shrui
// CHECK: arith.trunci %{{.*}} : i16 to i8
// CHECK: linalg.yield
func.func @pack(%x: tensor<?x4xf32>) -> tensor<?x6xi8> {
  %p = kiln.pack_kv4 %x : tensor<?x4xf32> -> tensor<?x6xi8>
  return %p : tensor<?x6xi8>
}

// -----

// Unpacking: one generic over the values, each reading its byte (j / 2,
// shifted by 4 (j % 2)) and its row's f16 scale and zero point from bytes
// D/2 .. D/2 + 3: (q - z) s.
// CHECK-LABEL: func.func @unpack
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x?x4xf32>)
// CHECK-DAG: arith.bitcast %{{.*}} : i16 to f16
// CHECK-DAG: arith.andi
// CHECK-DAG: arith.uitofp
// CHECK-DAG: %[[D:.*]] = arith.subf
// CHECK: arith.mulf %[[D]]
// CHECK: linalg.yield
func.func @unpack(%p: tensor<2x?x6xi8>) -> tensor<2x?x4xf32> {
  %y = kiln.unpack_kv4 %p : tensor<2x?x6xi8> -> tensor<2x?x4xf32>
  return %y : tensor<2x?x4xf32>
}
