// Each op that cannot be lowered is named, with the reason.
// RUN: kiln-opt %s -split-input-file -kiln-lower-onnx-to-linalg -verify-diagnostics

func.func @no_lowering(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error@+1 {{'onnx.MaxRoiPool' op cannot be lowered to linalg for the CPU: there is no lowering for this operator yet}}
  %0 = "onnx.MaxRoiPool"(%x, %x) <{pooled_shape = [1, 1]}> : (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @unranked(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.Relu' op cannot be lowered to linalg for the CPU: the rank of its result is unknown}}
  %0 = "onnx.Relu"(%x) : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @unsigned_4_bits(%x: tensor<4xui4>) -> tensor<4xf32> {
  // expected-error@+1 {{'onnx.Cast' op cannot be lowered to linalg for the CPU: element type 'ui4' is not lowered yet}}
  %0 = "onnx.Cast"(%x) {to = 1 : i64} : (tensor<4xui4>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @bad_broadcast(%x: tensor<3xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'onnx.Add' op cannot be lowered to linalg for the CPU: operand dimension 3 does not broadcast to 4}}
  %0 = "onnx.Add"(%x, %y) : (tensor<3xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @matmul_unsigned(%a: tensor<2x3xui32>, %b: tensor<3x2xui32>) -> tensor<2x2xui32> {
  // expected-error@+1 {{'onnx.MatMul' op cannot be lowered to linalg for the CPU: its element type is not lowered yet}}
  %0 = "onnx.MatMul"(%a, %b) : (tensor<2x3xui32>, tensor<3x2xui32>) -> tensor<2x2xui32>
  return %0 : tensor<2x2xui32>
}

// -----

func.func @matmul_unranked(%a: tensor<*xf32>, %b: tensor<3x2xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.MatMul' op cannot be lowered to linalg for the CPU: the rank of its result is unknown}}
  %0 = "onnx.MatMul"(%a, %b) : (tensor<*xf32>, tensor<3x2xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @squeeze_symbolic_axis(%x: tensor<?x4xf32>) -> tensor<4xf32> {
  %a = "onnx.Constant"() {value = dense<0> : tensor<1xi64>} : () -> tensor<1xi64>
  // expected-error@+1 {{'onnx.Squeeze' op cannot be lowered to linalg for the CPU: its axis 0 is not a static unit dimension}}
  %0 = "onnx.Squeeze"(%x, %a) : (tensor<?x4xf32>, tensor<1xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @unsqueeze_runtime_axes(%x: tensor<?x4xf32>, %a: tensor<1xi64>) -> tensor<?x1x4xf32> {
  // expected-error@+1 {{'onnx.Unsqueeze' op cannot be lowered to linalg for the CPU: its axes must be constants within its rank}}
  %0 = "onnx.Unsqueeze"(%x, %a) : (tensor<?x4xf32>, tensor<1xi64>) -> tensor<?x1x4xf32>
  return %0 : tensor<?x1x4xf32>
}

// -----

func.func @hardmax_dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error@+1 {{'onnx.Hardmax' op cannot be lowered to linalg for the CPU: its shapes must be static for now}}
  %0 = "onnx.Hardmax"(%x) : (tensor<?xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @conv_dynamic_channels(%x: tensor<1x?x4x4xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error@+1 {{'onnx.Conv' op cannot be lowered to linalg for the CPU: its channel count must be static}}
  %0 = "onnx.Conv"(%x, %w) : (tensor<1x?x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

func.func @conv_dynamic_weight(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x?x3xf32>) -> tensor<1x1x?x2xf32> {
  // expected-error@+1 {{'onnx.Conv' op cannot be lowered to linalg for the CPU: its weights and bias must have static shapes}}
  %0 = "onnx.Conv"(%x, %w) : (tensor<1x1x4x4xf32>, tensor<1x1x?x3xf32>) -> tensor<1x1x?x2xf32>
  return %0 : tensor<1x1x?x2xf32>
}

// -----

// Over a symbolic extent the padding must not depend on it.
func.func @maxpool_symbolic_ceil(%x: tensor<1x1x?x?xf32>) -> tensor<1x1x?x?xf32> {
  // expected-error@+1 {{'onnx.MaxPool' op cannot be lowered to linalg for the CPU: ceil_mode over a symbolic dimension is not lowered yet}}
  %0 = "onnx.MaxPool"(%x) <{kernel_shape = [2, 2], strides = [2, 2], ceil_mode = 1 : i64}> : (tensor<1x1x?x?xf32>) -> tensor<1x1x?x?xf32>
  return %0 : tensor<1x1x?x?xf32>
}

// -----

func.func @conv_symbolic_same_stride(%x: tensor<1x1x?x?xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<1x1x?x?xf32> {
  // expected-error@+1 {{'onnx.Conv' op cannot be lowered to linalg for the CPU: auto_pad SAME_UPPER with a stride over a symbolic dimension is not lowered yet}}
  %0 = "onnx.Conv"(%x, %w) <{auto_pad = "SAME_UPPER", strides = [2, 2]}> : (tensor<1x1x?x?xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x?x?xf32>
  return %0 : tensor<1x1x?x?xf32>
}

// -----

func.func @maxpool_indices(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xi64> {
  // expected-error@+1 {{'onnx.MaxPool' op cannot be lowered to linalg for the CPU: its Indices output is not lowered yet}}
  %0:2 = "onnx.MaxPool"(%x) <{kernel_shape = [2, 2], strides = [2, 2]}> : (tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
  return %0#1 : tensor<1x1x2x2xi64>
}

// -----

func.func @reduce_runtime_axes(%x: tensor<2x3xf32>, %axes: tensor<1xi64>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.ReduceSum' op cannot be lowered to linalg for the CPU: its shapes must be static for now}}
  %0 = "onnx.ReduceSum"(%x, %axes) : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reduce_axes_not_constant(%x: tensor<2x3xf32>, %axes: tensor<1xi64>) -> tensor<2x1xf32> {
  // expected-error@+1 {{'onnx.ReduceSum' op cannot be lowered to linalg for the CPU: its axes must be constant}}
  %0 = "onnx.ReduceSum"(%x, %axes) : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

func.func @batch_norm_training(%x: tensor<1x3x4x4xf32>, %s: tensor<3xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error@+1 {{'onnx.BatchNormalization' op cannot be lowered to linalg for the CPU: training mode is not lowered}}
  %0 = "onnx.BatchNormalization"(%x, %s, %s, %s, %s) <{training_mode = 1 : i64, resultSegmentSizes = array<i32: 1, 0, 0>}> : (tensor<1x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x4x4xf32>
  return %0 : tensor<1x3x4x4xf32>
}

// -----

func.func @slice_unknown_count(%x: tensor<6xf32>, %s: tensor<?xi64>) -> tensor<?xf32> {
  // expected-error@+1 {{'onnx.Slice' op cannot be lowered to linalg for the CPU: its starts must be a vector of known length}}
  %0 = "onnx.Slice"(%x, %s, %s) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}> : (tensor<6xf32>, tensor<?xi64>, tensor<?xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @resize_antialias(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  %s = "onnx.Constant"() <{value = dense<[1.0, 1.0, 0.5, 0.5]> : tensor<4xf32>}> : () -> tensor<4xf32>
  // expected-error@+1 {{'onnx.Resize' op cannot be lowered to linalg for the CPU: antialias is not lowered yet}}
  %0 = "onnx.Resize"(%x, %s) <{antialias = 1 : i64, mode = "linear", operandSegmentSizes = array<i32: 1, 0, 1, 0>}> : (tensor<1x1x4x4xf32>, tensor<4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

func.func @dropout_training(%x: tensor<4xf32>, %t: tensor<i1>) -> tensor<4xf32> {
  // expected-error@+1 {{'onnx.Dropout' op cannot be lowered to linalg for the CPU: training mode (random masks) is not lowered}}
  %0, %m = "onnx.Dropout"(%x, %t) <{operandSegmentSizes = array<i32: 1, 0, 1>}> : (tensor<4xf32>, tensor<i1>) -> (tensor<4xf32>, tensor<4xi1>)
  return %0 : tensor<4xf32>
}

// -----

func.func @loss_dynamic(%x: tensor<?x3xf32>, %t: tensor<?xi64>) -> tensor<f32> {
  // expected-error@+1 {{'onnx.NegativeLogLikelihoodLoss' op cannot be lowered to linalg for the CPU: its shapes must be static for now}}
  %0 = "onnx.NegativeLogLikelihoodLoss"(%x, %t) <{reduction = "mean"}> : (tensor<?x3xf32>, tensor<?xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @conv_transpose_channels(%x: tensor<1x2x3x3xf32>, %w: tensor<3x3x3x3xf32>) -> tensor<1x3x5x5xf32> {
  // expected-error@+1 {{'onnx.ConvTranspose' op cannot be lowered to linalg for the CPU: its channels do not match its weight and group}}
  %0 = "onnx.ConvTranspose"(%x, %w) <{group = 1 : i64}> : (tensor<1x2x3x3xf32>, tensor<3x3x3x3xf32>) -> tensor<1x3x5x5xf32>
  return %0 : tensor<1x3x5x5xf32>
}

// -----

func.func @pad_reflect_too_far(%x: tensor<2x3xf32>) -> tensor<2x9xf32> {
  %p = "onnx.Constant"() <{value = dense<[0, 3, 0, 3]> : tensor<4xi64>}> : () -> tensor<4xi64>
  // expected-error@+1 {{'onnx.Pad' op cannot be lowered to linalg for the CPU: its pads are too large for reflect mode}}
  %0 = "onnx.Pad"(%x, %p) <{mode = "reflect", operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<2x9xf32>
  return %0 : tensor<2x9xf32>
}

// -----

func.func @pad_mode(%x: tensor<2x3xf32>) -> tensor<2x5xf32> {
  %p = "onnx.Constant"() <{value = dense<[0, 1, 0, 1]> : tensor<4xi64>}> : () -> tensor<4xi64>
  // expected-error@+1 {{'onnx.Pad' op cannot be lowered to linalg for the CPU: mode 'mirror' is not lowered}}
  %0 = "onnx.Pad"(%x, %p) <{mode = "mirror", operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @pad_negative(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %p = "onnx.Constant"() <{value = dense<[0, -1, 0, 0]> : tensor<4xi64>}> : () -> tensor<4xi64>
  // expected-error@+1 {{'onnx.Pad' op cannot be lowered to linalg for the CPU: negative pads (cropping) are not lowered yet}}
  %0 = "onnx.Pad"(%x, %p) <{mode = "constant", operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// Found by the mutation fuzzer: bad attributes and types are refused, not
// lowered into out-of-range accesses.
func.func @one_hot_axis(%i: tensor<2x2xf32>, %d: tensor<f32>, %v: tensor<2xf32>) -> tensor<2x10x2xf32> {
  // expected-error@+1 {{'onnx.OneHot' op cannot be lowered to linalg for the CPU: its axis is out of range}}
  %0 = "onnx.OneHot"(%i, %d, %v) <{axis = -5 : i64}> : (tensor<2x2xf32>, tensor<f32>, tensor<2xf32>) -> tensor<2x10x2xf32>
  return %0 : tensor<2x10x2xf32>
}

// -----

func.func @split_outputs(%x: tensor<2x3xf32>) -> tensor<i64> {
  // expected-error@+1 {{'onnx.Split' op cannot be lowered to linalg for the CPU: its outputs do not match its input}}
  %0 = "onnx.Split"(%x) <{axis = 0 : i64}> : (tensor<2x3xf32>) -> tensor<i64>
  return %0 : tensor<i64>
}

// -----

func.func @resize_axes(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %s = "onnx.Constant"() <{value = dense<[2.0, 2.0]> : tensor<2xf32>}> : () -> tensor<2xf32>
  // expected-error@+1 {{'onnx.Resize' op cannot be lowered to linalg for the CPU: its axes are out of range or repeated}}
  %0 = "onnx.Resize"(%x, %s) <{axes = [2, 7], mode = "nearest", operandSegmentSizes = array<i32: 1, 0, 1, 0>}> : (tensor<1x1x2x2xf32>, tensor<2xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

func.func @dequantize_computed_4_bits(%q: tensor<4xui4>, %s: tensor<f32>) -> tensor<4xf32> {
  // expected-error@+1 {{'kiln.dequantize' op cannot be lowered to linalg for the CPU: dequantizing computed integers of fewer than 8 bits is not lowered yet}}
  %w = kiln.dequantize %q scale %s : tensor<4xui4>, tensor<f32> -> tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @quantize_4_bits(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xui4> {
  // expected-error@+1 {{'kiln.quantize' op cannot be lowered to linalg for the CPU: quantizing to fewer than 8 bits is not lowered yet}}
  %q = kiln.quantize %x scale %s : tensor<4xf32>, tensor<f32> -> tensor<4xui4>
  return %q : tensor<4xui4>
}

// -----

func.func @matmul_integer_zero_point(%a: tensor<2x3xui8>, %b: tensor<3x4xi8>, %za: tensor<3xui8>) -> tensor<2x4xi32> {
  // expected-error@+1 {{'onnx.MatMulInteger' op cannot be lowered to linalg for the CPU: its a_zero_point is neither per tensor nor along the dimension it may follow}}
  %y = "onnx.MatMulInteger"(%a, %b, %za) {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<2x3xui8>, tensor<3x4xi8>, tensor<3xui8>) -> tensor<2x4xi32>
  return %y : tensor<2x4xi32>
}

// -----

func.func @matmul_integer_vector(%a: tensor<3xui8>, %b: tensor<3x4xi8>) -> tensor<4xi32> {
  // expected-error@+1 {{'onnx.MatMulInteger' op cannot be lowered to linalg for the CPU: its operands need a rank of 2 or more (1-D products are not lowered yet)}}
  %y = "onnx.MatMulInteger"(%a, %b) {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<3xui8>, tensor<3x4xi8>) -> tensor<4xi32>
  return %y : tensor<4xi32>
}

// -----

func.func @quantize_float8(%x: tensor<6xf32>, %s: tensor<f32>) -> tensor<6xf8E4M3FN> {
  // expected-error@+1 {{'onnx.QuantizeLinear' op cannot be lowered to linalg for the CPU: 8-bit float types are not lowered yet}}
  %f = "onnx.QuantizeLinear"(%x, %s) {output_dtype = 17 : i64} : (tensor<6xf32>, tensor<f32>) -> tensor<6xf8E4M3FN>
  return %f : tensor<6xf8E4M3FN>
}
