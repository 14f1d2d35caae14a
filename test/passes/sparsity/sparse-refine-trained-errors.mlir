// RUN: kiln-opt %s -split-input-file -kiln-sparsity-sparse-refine="low-height=16 low-width=32 fraction=0.25 refiner=refiner" -verify-diagnostics

// A refiner with a node that has no sparse form.
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x4x32x64xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x1x1xf32>} : () -> tensor<4x3x1x1xf32>
  %y = "onnx.Conv"(%x, %w) : (tensor<1x3x32x64xf32>, tensor<4x3x1x1xf32>) -> tensor<1x4x32x64xf32>
  return %y : tensor<1x4x32x64xf32>
}

func.func @refiner(%x: tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32> {
  // expected-error @+1 {{a sparse network cannot run MaxPool (only convolutions, BatchNormalization, Concat of channels and elementwise ops act on sites alone)}}
  %p = "onnx.MaxPool"(%x) {kernel_shape = [3, 3], pads = [1, 1, 1, 1], resultSegmentSizes = array<i32: 1, 0>} : (tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32>
  return %p : tensor<1x3x?x?xf32>
}

// -----

// A stride-1 Conv that would move the grid.
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x4x32x64xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x1x1xf32>} : () -> tensor<4x3x1x1xf32>
  %y = "onnx.Conv"(%x, %w) : (tensor<1x3x32x64xf32>, tensor<4x3x1x1xf32>) -> tensor<1x4x32x64xf32>
  return %y : tensor<1x4x32x64xf32>
}

func.func @refiner(%x: tensor<1x3x?x?xf32>) -> tensor<1x4x?x?xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32>
  // expected-error @+1 {{a sparse network's Conv of stride 1 computes at its input's sites: it needs an odd kernel padded by half of it each side, not 3x3 with pads 0, 0, 0, 0}}
  %y = "onnx.Conv"(%x, %w) : (tensor<1x3x?x?xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x?x?xf32>
  return %y : tensor<1x4x?x?xf32>
}

// -----

// A ConvTranspose with no strided Conv before it.
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x4x32x64xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x1x1xf32>} : () -> tensor<4x3x1x1xf32>
  %y = "onnx.Conv"(%x, %w) : (tensor<1x3x32x64xf32>, tensor<4x3x1x1xf32>) -> tensor<1x4x32x64xf32>
  return %y : tensor<1x4x32x64xf32>
}

func.func @refiner(%x: tensor<1x3x?x?xf32>) -> tensor<1x4x?x?xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<3x4x2x2xf32>} : () -> tensor<3x4x2x2xf32>
  // expected-error @+1 {{a sparse network's ConvTranspose must return to the sites a strided Conv of its stride 2x2 left}}
  %y = "onnx.ConvTranspose"(%x, %w) {strides = [2, 2]} : (tensor<1x3x?x?xf32>, tensor<3x4x2x2xf32>) -> tensor<1x4x?x?xf32>
  return %y : tensor<1x4x?x?xf32>
}

// -----

// A strided Conv that does not halve the grid.
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x4x32x64xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x1x1xf32>} : () -> tensor<4x3x1x1xf32>
  %y = "onnx.Conv"(%x, %w) : (tensor<1x3x32x64xf32>, tensor<4x3x1x1xf32>) -> tensor<1x4x32x64xf32>
  return %y : tensor<1x4x32x64xf32>
}

func.func @refiner(%x: tensor<1x3x?x?xf32>) -> tensor<1x4x?x?xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32>
  // expected-error @+1 {{a sparse network's strided Conv must divide its grid of 32x64 by its stride 2x2 (it gives 15x31)}}
  %y = "onnx.Conv"(%x, %w) {strides = [2, 2]} : (tensor<1x3x?x?xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x?x?xf32>
  return %y : tensor<1x4x?x?xf32>
}

// -----

// A grouped (depthwise) Conv.
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x3x32x64xf32> {
  return %x : tensor<1x3x32x64xf32>
}

func.func @refiner(%x: tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<3x1x3x3xf32>} : () -> tensor<3x1x3x3xf32>
  // expected-error @+1 {{a sparse network's Conv must not be grouped (group 3)}}
  %y = "onnx.Conv"(%x, %w) {group = 3 : i64, pads = [1, 1, 1, 1]} : (tensor<1x3x?x?xf32>, tensor<3x1x3x3xf32>) -> tensor<1x3x?x?xf32>
  return %y : tensor<1x3x?x?xf32>
}

// -----

// A constant that varies across pixels.
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x3x32x64xf32> {
  return %x : tensor<1x3x32x64xf32>
}

func.func @refiner(%x: tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32> {
  %c = "onnx.Constant"() {value = dense<0.5> : tensor<1x3x2x2xf32>} : () -> tensor<1x3x2x2xf32>
  // expected-error @+1 {{a sparse network's Add takes a tensor that is neither computed at the sites nor a constant of one value per channel}}
  %y = "onnx.Add"(%x, %c) : (tensor<1x3x?x?xf32>, tensor<1x3x2x2xf32>) -> tensor<1x3x?x?xf32>
  return %y : tensor<1x3x?x?xf32>
}

// -----

// Logits of another class count.
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x4x32x64xf32> {
  %w = "onnx.Constant"() {value = dense<0.5> : tensor<4x3x1x1xf32>} : () -> tensor<4x3x1x1xf32>
  %y = "onnx.Conv"(%x, %w) : (tensor<1x3x32x64xf32>, tensor<4x3x1x1xf32>) -> tensor<1x4x32x64xf32>
  return %y : tensor<1x4x32x64xf32>
}

// expected-error @+1 {{SparseRefine's refiner gives 3 logits a pixel where the model gives 4}}
func.func @refiner(%x: tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32> {
  %y = "onnx.Relu"(%x) : (tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32>
  return %y : tensor<1x3x?x?xf32>
}

// -----

// A refiner of three inputs.
func.func @main(%x: tensor<1x3x32x64xf32>) -> tensor<1x3x32x64xf32> {
  return %x : tensor<1x3x32x64xf32>
}

// expected-error @+1 {{SparseRefine's refiner takes one or two inputs (the image, and the upsampled logits) and gives one output, not '(tensor<1x3x?x?xf32>, tensor<1x3x?x?xf32>, tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32>'}}
func.func @refiner(%x: tensor<1x3x?x?xf32>, %y: tensor<1x3x?x?xf32>, %z: tensor<1x3x?x?xf32>) -> tensor<1x3x?x?xf32> {
  return %x : tensor<1x3x?x?xf32>
}
