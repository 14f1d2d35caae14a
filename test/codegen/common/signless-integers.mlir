// RUN: kiln-opt %s -kiln-signless-integers | FileCheck %s

// Every unsigned type becomes signless, in the signature, the ops and the
// constants; the bitcasts between the two become identities and go.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[A:.*]]: tensor<4xi8>) -> (tensor<4xi8>, tensor<2xi16>)
// CHECK-NOT: tensor.bitcast
// CHECK-NOT: ui
// CHECK: %[[C:.*]] = arith.constant dense<[1, -1]> : tensor<2xi16>
// CHECK: %[[G:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<4xi8>)
// CHECK: return %[[G]], %[[C]] : tensor<4xi8>, tensor<2xi16>
func.func @main(%a: tensor<4xui8>) -> (tensor<4xui8>, tensor<2xui16>) {
  %c = "arith.constant"() {value = dense<[1, 65535]> : tensor<2xui16>} : () -> tensor<2xui16>
  %s = tensor.bitcast %a : tensor<4xui8> to tensor<4xi8>
  %e = tensor.empty() : tensor<4xi8>
  %g = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%s : tensor<4xi8>) outs(%e : tensor<4xi8>) {
  ^bb0(%x: i8, %o: i8):
    %y = arith.addi %x, %x : i8
    linalg.yield %y : i8
  } -> tensor<4xi8>
  %r = tensor.bitcast %g : tensor<4xi8> to tensor<4xui8>
  return %r, %c : tensor<4xui8>, tensor<2xui16>
}
