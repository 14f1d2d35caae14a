// RUN: kiln-opt %s -split-input-file -kiln-sparsity-sparse-refine="low-height=16 low-width=32 fraction=0.25 tile=16 halo=8" -verify-diagnostics
// RUN: not kiln-opt %s -split-input-file -kiln-sparsity-sparse-refine="low-height=10 low-width=32 fraction=0.25" 2>&1 | FileCheck %s --check-prefix=DIVIDE
// RUN: not kiln-opt %s -split-input-file -kiln-sparsity-sparse-refine="low-height=16 low-width=32 tile=16" 2>&1 | FileCheck %s --check-prefix=CHOICE
// RUN: not kiln-opt %s -split-input-file -kiln-sparsity-sparse-refine="low-height=16 low-width=32 fraction=0.5 tile=16 halo=16" 2>&1 | FileCheck %s --check-prefix=FIT

// DIVIDE: error: SparseRefine's low resolution 10x32 does not divide the image's 32x64 into a lower one
// CHOICE: error: SparseRefine needs either a threshold (not negative) or a fraction in [0, 1] of pixels to refine
// FIT: error: SparseRefine's tiles of 16 pixels with a halo of 16 must be whole low-resolution pixels of 2x2 and their windows fit in the image of 32x64

// A classifier's scores are not per-pixel logits.
// expected-error @+1 {{SparseRefine refines per-pixel logits [1, K, H, W] of the input's resolution; at 16x32 the model gives tensor<1x4xf32> (not per-pixel, or sized by constants fixed at export)}}
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x4xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32>
  %y = "onnx.Conv"(%x, %w) {pads = [1, 1, 1, 1]} : (tensor<1x3x32x64xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x32x64xf32>
  %p = "onnx.GlobalAveragePool"(%y) : (tensor<1x4x32x64xf32>) -> tensor<1x4x1x1xf32>
  %s = "onnx.Constant"() {value = dense<[1, 4]> : tensor<2xi64>} : () -> tensor<2xi64>
  %r = "onnx.Reshape"(%p, %s) : (tensor<1x4x1x1xf32>, tensor<2xi64>) -> tensor<1x4xf32>
  return %r : tensor<1x4xf32>
}

// -----

// Logits resized to constant sizes stay at the full resolution.
// expected-error @+1 {{at 16x32 the model gives tensor<1x4x32x64xf32>}}
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x4x32x64xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x2x2xf32>} : () -> tensor<4x3x2x2xf32>
  %y = "onnx.Conv"(%x, %w) {strides = [2, 2]} : (tensor<1x3x32x64xf32>, tensor<4x3x2x2xf32>) -> tensor<1x4x16x32xf32>
  %sizes = "onnx.Constant"() {value = dense<[1, 4, 32, 64]> : tensor<4xi64>} : () -> tensor<4xi64>
  %r = "onnx.Resize"(%y, %sizes) {mode = "nearest", operandSegmentSizes = array<i32: 1, 0, 0, 1>} : (tensor<1x4x16x32xf32>, tensor<4xi64>) -> tensor<1x4x32x64xf32>
  return %r : tensor<1x4x32x64xf32>
}

// -----

// expected-error @+1 {{SparseRefine takes a model of one image [1, C, H, W] of static shape and one output, not '(tensor<1x3x?x64xf32>) -> tensor<1x4x?x64xf32>'}}
func.func @main(%x: tensor<1x3x?x64xf32>) -> tensor<1x4x?x64xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x1x1xf32>} : () -> tensor<4x3x1x1xf32>
  %y = "onnx.Conv"(%x, %w) : (tensor<1x3x?x64xf32>, tensor<4x3x1x1xf32>) -> tensor<1x4x?x64xf32>
  return %y : tensor<1x4x?x64xf32>
}
