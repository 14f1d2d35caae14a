// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @concat_axis(%a: tensor<2x3xf32>) -> tensor<4x3xf32> {
  // expected-error@+1 {{'onnx.Concat' op axis 2 is out of range for rank 2}}
  %0 = "onnx.Concat"(%a, %a) <{axis = 2 : i64}> : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @concat_empty() -> tensor<4x3xf32> {
  // expected-error@+1 {{'onnx.Concat' op needs at least one input}}
  %0 = "onnx.Concat"() <{axis = 0 : i64}> : () -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @transpose_not_permutation(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error@+1 {{'onnx.Transpose' op perm is not a permutation of 0..1}}
  %0 = "onnx.Transpose"(%a) <{perm = [1, 1]}> : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @transpose_rank(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error@+1 {{'onnx.Transpose' op perm has 3 entries but the input has rank 2}}
  %0 = "onnx.Transpose"(%a) <{perm = [1, 0, 2]}> : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @softmax_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'onnx.Softmax' op axis -3 is out of range for rank 2}}
  %0 = "onnx.Softmax"(%a) <{axis = -3 : i64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @log_softmax_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'onnx.LogSoftmax' op axis 2 is out of range for rank 2}}
  %0 = "onnx.LogSoftmax"(%a) <{axis = 2 : i64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @hardmax_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'onnx.Hardmax' op axis 7 is out of range for rank 2}}
  %0 = "onnx.Hardmax"(%a) <{axis = 7 : i64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @flatten_axis(%a: tensor<2x3xf32>) -> tensor<6x1xf32> {
  // expected-error@+1 {{'onnx.Flatten' op axis 3 is out of range for rank 2}}
  %0 = "onnx.Flatten"(%a) <{axis = 3 : i64}> : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return %0 : tensor<6x1xf32>
}

// -----

func.func @gather_axis(%a: tensor<2x3xf32>, %i: tensor<2xi64>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'onnx.Gather' op axis -4 is out of range for rank 2}}
  %0 = "onnx.Gather"(%a, %i) <{axis = -4 : i64}> : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @conv_auto_pad(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.Conv' op auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, not 'SIDEWAYS'}}
  %0 = "onnx.Conv"(%x, %w) <{auto_pad = "SIDEWAYS"}> : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_groups(%x: tensor<1x4x4x4xf32>, %w: tensor<2x3x3x3xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.Conv' op input has 4 channels but weight expects 3 per group x 1 groups}}
  %0 = "onnx.Conv"(%x, %w) : (tensor<1x4x4x4xf32>, tensor<2x3x3x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_group_zero(%x: tensor<1x4x4x4xf32>, %w: tensor<2x4x3x3xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.Conv' op group must be positive, got 0}}
  %0 = "onnx.Conv"(%x, %w) <{group = 0 : i64}> : (tensor<1x4x4x4xf32>, tensor<2x4x3x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_strides(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.Conv' op strides values must be positive, got 0}}
  %0 = "onnx.Conv"(%x, %w) <{strides = [1, 0]}> : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_pads_count(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.Conv' op pads has 2 values, expected 4}}
  %0 = "onnx.Conv"(%x, %w) <{pads = [1, 1]}> : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_rank(%x: tensor<4x4xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.Conv' op expects an input of rank 3 or more (N, C, spatial...), got rank 2}}
  %0 = "onnx.Conv"(%x, %w) : (tensor<4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @conv_transpose_group(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.ConvTranspose' op group must be positive, got -1}}
  %0 = "onnx.ConvTranspose"(%x, %w) <{group = -1 : i64}> : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @maxpool_kernel(%x: tensor<1x1x4x4xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.MaxPool' op kernel_shape values must be positive, got 0}}
  %0 = "onnx.MaxPool"(%x) <{kernel_shape = [0, 2]}> : (tensor<1x1x4x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @maxpool_storage_order(%x: tensor<1x1x4x4xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.MaxPool' op storage_order must be 0 (row major) or 1 (column major)}}
  %0 = "onnx.MaxPool"(%x) <{kernel_shape = [2, 2], storage_order = 2 : i64}> : (tensor<1x1x4x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @averagepool_auto_pad(%x: tensor<1x1x4x4xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.AveragePool' op auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, not 'same'}}
  %0 = "onnx.AveragePool"(%x) <{auto_pad = "same", kernel_shape = [2, 2]}> : (tensor<1x1x4x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @cast_to(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error@+1 {{'onnx.Cast' op 'to' = 8 is not a tensor element type Kiln supports}}
  %0 = "onnx.Cast"(%x) <{to = 8 : i64}> : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @reshape_two_minus_ones(%x: tensor<6xf32>) -> tensor<*xf32> {
  %s = "onnx.Constant"() <{value = dense<[-1, -1]> : tensor<2xi64>}> : () -> tensor<2xi64>
  // expected-error@+1 {{'onnx.Reshape' op shape may contain at most one -1}}
  %0 = "onnx.Reshape"(%x, %s) : (tensor<6xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_negative(%x: tensor<6xf32>) -> tensor<*xf32> {
  %s = "onnx.Constant"() <{value = dense<[-2, 3]> : tensor<2xi64>}> : () -> tensor<2xi64>
  // expected-error@+1 {{'onnx.Reshape' op shape entries must be -1 or more}}
  %0 = "onnx.Reshape"(%x, %s) : (tensor<6xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_allowzero(%x: tensor<6xf32>, %s: tensor<2xi64>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.Reshape' op allowzero must be 0 or 1}}
  %0 = "onnx.Reshape"(%x, %s) <{allowzero = 3 : i64}> : (tensor<6xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @squeeze_axis_twice(%x: tensor<1x1xf32>) -> tensor<f32> {
  %a = "onnx.Constant"() <{value = dense<[0, -2]> : tensor<2xi64>}> : () -> tensor<2xi64>
  // expected-error@+1 {{'onnx.Squeeze' op axis -2 appears twice}}
  %0 = "onnx.Squeeze"(%x, %a) : (tensor<1x1xf32>, tensor<2xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @unsqueeze_axis_range(%x: tensor<3xf32>) -> tensor<*xf32> {
  %a = "onnx.Constant"() <{value = dense<[2]> : tensor<1xi64>}> : () -> tensor<1xi64>
  // expected-error@+1 {{'onnx.Unsqueeze' op axis 2 is out of range for rank 2}}
  %0 = "onnx.Unsqueeze"(%x, %a) : (tensor<3xf32>, tensor<1xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @constant_two_values() -> tensor<f32> {
  // expected-error@+1 {{'onnx.Constant' op needs exactly one value attribute, got 2}}
  %0 = "onnx.Constant"() <{value = dense<1.0> : tensor<f32>, value_float = 1.0 : f32}> : () -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @constant_type() -> tensor<2xf32> {
  // expected-error@+1 {{'onnx.Constant' op value type 'tensor<f32>' does not match result type 'tensor<2xf32>'}}
  %0 = "onnx.Constant"() <{value = dense<1.0> : tensor<f32>}> : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @split_both(%x: tensor<4xf32>, %s: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error@+1 {{'onnx.Split' op takes either the 'split' input or the num_outputs attribute, not both}}
  %0:2 = "onnx.Split"(%x, %s) <{num_outputs = 2 : i64}> : (tensor<4xf32>, tensor<2xi64>) -> (tensor<2xf32>, tensor<2xf32>)
  return %0#0 : tensor<2xf32>
}

// -----

func.func @split_num_outputs(%x: tensor<4xf32>) -> tensor<2xf32> {
  // expected-error@+1 {{'onnx.Split' op num_outputs = 3 but the op has 2 results}}
  %0:2 = "onnx.Split"(%x) <{num_outputs = 3 : i64}> : (tensor<4xf32>) -> (tensor<2xf32>, tensor<2xf32>)
  return %0#0 : tensor<2xf32>
}

// -----

func.func @split_sizes(%x: tensor<4xf32>) -> tensor<2xf32> {
  %s = "onnx.Constant"() <{value = dense<[1, 1, 2]> : tensor<3xi64>}> : () -> tensor<3xi64>
  // expected-error@+1 {{'onnx.Split' op 'split' has 3 sizes for 2 results}}
  %0:2 = "onnx.Split"(%x, %s) : (tensor<4xf32>, tensor<3xi64>) -> (tensor<2xf32>, tensor<2xf32>)
  return %0#0 : tensor<2xf32>
}

// -----

func.func @gemm_rank(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.Gemm' op A and B must be matrices, got rank 3}}
  %0 = "onnx.Gemm"(%a, %b) : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gemm_trans(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.Gemm' op transA and transB must be 0 or 1}}
  %0 = "onnx.Gemm"(%a, %b) <{transA = 2 : i64}> : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @element_types(%a: tensor<2xf32>, %b: tensor<2xf16>) -> tensor<2xf32> {
  // expected-error@+1 {{'onnx.Add' op failed to verify that all of {A, B, C} have same element type}}
  %0 = "onnx.Add"(%a, %b) : (tensor<2xf32>, tensor<2xf16>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @required_attribute(%a: tensor<2x3xf32>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.Concat' op requires attribute 'axis'}}
  %0 = "onnx.Concat"(%a) : (tensor<2x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @layer_norm_axis(%x: tensor<2x3xf32>, %s: tensor<3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'onnx.LayerNormalization' op axis 2147483648 is out of range for rank 2}}
  %0 = "onnx.LayerNormalization"(%x, %s) <{axis = 2147483648 : i64, resultSegmentSizes = array<i32: 1, 0, 0>}> : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @argmax_axis(%x: tensor<2x3xf32>) -> tensor<*xi64> {
  // expected-error@+1 {{'onnx.ArgMax' op axis 2 is out of range for rank 2}}
  %0 = "onnx.ArgMax"(%x) <{axis = 2 : i64}> : (tensor<2x3xf32>) -> tensor<*xi64>
  return %0 : tensor<*xi64>
}

// -----

func.func @argmin_axis(%x: tensor<2x3xf32>) -> tensor<*xi64> {
  // expected-error@+1 {{'onnx.ArgMin' op axis -3 is out of range for rank 2}}
  %0 = "onnx.ArgMin"(%x) <{axis = -3 : i64}> : (tensor<2x3xf32>) -> tensor<*xi64>
  return %0 : tensor<*xi64>
}

// -----

func.func @gather_elements_axis(%x: tensor<2x3xf32>, %i: tensor<2x3xi64>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'onnx.GatherElements' op axis 5 is out of range for rank 2}}
  %0 = "onnx.GatherElements"(%x, %i) <{axis = 5 : i64}> : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scatter_elements_axis(%x: tensor<2x3xf32>, %i: tensor<2x3xi64>) -> tensor<2x3xf32> {
  // expected-error@+1 {{'onnx.ScatterElements' op axis 2 is out of range for rank 2}}
  %0 = "onnx.ScatterElements"(%x, %i, %x) <{axis = 2 : i64}> : (tensor<2x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @topk_axis(%x: tensor<2x3xf32>, %k: tensor<1xi64>) -> tensor<*xf32> {
  // expected-error@+1 {{'onnx.TopK' op axis 2 is out of range for rank 2}}
  %0:2 = "onnx.TopK"(%x, %k) <{axis = 2 : i64}> : (tensor<2x3xf32>, tensor<1xi64>) -> (tensor<*xf32>, tensor<*xi64>)
  return %0#0 : tensor<*xf32>
}
