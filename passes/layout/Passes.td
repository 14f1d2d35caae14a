//===- Passes.td - layout passes ---------------------------*- tablegen -*-===//
//
// Target-neutral layout rewrites of the graph stage: packed (data-tiled)
// contractions and channels-last data between them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_LAYOUT_PASSES
#define KILN_PASSES_LAYOUT_PASSES

include "mlir/Pass/PassBase.td"

def LayoutPackContractionsPass
    : Pass<"kiln-layout-pack-contractions", "func::FuncOp"> {
  let summary = "Contractions with constant weights onto packed filters";
  let description = [{
    Rewrites each 2-D `onnx.Conv` (one group, constant filter and bias),
    `onnx.MatMul` and `onnx.Gemm` whose right operand is a constant, in
    float32 with static shapes, into `kiln.packed_conv2d`: the filter is
    packed at compile time into [ceil(F / F0), KH, KW, C, F0] (a matrix
    product is a 1x1 convolution over [1, 1, M, K]), the bias padded to
    the packed filters. Gemm's alpha and beta fold into the packed weights
    and bias. F0, the filters of a tile, is a multiple of the vector lanes
    of `vector-bits` (16 floats for AVX-512, 8 for AVX2), at most four
    vectors for AVX-512 and, for f32, three for AVX2 (whose 16 registers
    hold the microkernel's 12 accumulators, the filter vectors and a
    broadcast),
    chosen to waste the fewest padded filters. Depthwise
    convolutions (one filter per channel) become `kiln.depthwise_conv2d`
    with the filter laid out [KH, KW, C]. Convolutions take their input
    through an `onnx.Transpose` to NHWC, keep their padding as the op's
    `pads` (the kernels read zeros there; nothing is copied — but an input
    of at most four channels is padded by a `tensor.pad`, so that the
    kernel can run a window row's KW * C values as one loop), and give
    their result back through the inverse Transpose;
    kiln-layout-propagate-transposes then cancels the pairs between
    layers.

    With `precision=bf16` the packed filters are bf16 (rounded to nearest
    even), laid out [ceil(F / F0), KH, KW, C / 2, F0, 2] with adjacent
    channels paired, and each contraction's input is cast to bf16 by an
    `onnx.Cast` (and padded to an even channel count when odd); bias,
    accumulation and result stay f32. Depthwise convolutions keep f32
    filters and arithmetic but read their input cast to bf16 too (half the
    bytes of a memory-bound layer, once the producer writes bf16). With
    `bf16-activations=false` (for CPUs without BF16 arithmetic, which would
    split every pair into two f32 values) only the filters are bf16, in the
    f32 layout; inputs and products stay f32.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", "512",
           "Width of the target's vector registers (512 or 256)">,
    Option<"precision", "precision", "std::string", "\"f32\"",
           "Operands of the packed contractions: f32 or bf16">,
    Option<"bf16Activations", "bf16-activations", "bool", "true",
           "With precision=bf16: the inputs are bf16 too (false: the "
           "filters alone)">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def LayoutPoolsChannelsLastPass
    : Pass<"kiln-layout-pools-channels-last", "func::FuncOp"> {
  let summary = "2-D max pooling on channels-last data";
  let description = [{
    Rewrites each 2-D `onnx.MaxPool` in float32 with static shapes and no
    Indices output into `kiln.max_pool2d` on NHWC data, taking its input
    through an `onnx.Transpose` to NHWC and giving its result back through
    the inverse one, which kiln-layout-propagate-transposes cancels
    against the neighbouring convolutions'. `auto_pad` becomes explicit
    pads, and `ceil_mode`'s last windows more padding on the bottom and
    right (the kernel pads with negative infinity).
  }];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LayoutPropagateTransposesPass
    : Pass<"kiln-layout-propagate-transposes", "func::FuncOp"> {
  let summary = "Move Transposes down through elementwise ops and cancel them";
  let description = [{
    Moves each `onnx.Transpose` below the elementwise ops it feeds (unary
    ops; binary ops whose other operand is the same Transpose of another
    value or a small constant, which is transposed at compile time) and
    GlobalAveragePool (which becomes a ReduceMean over the spatial axes of
    the channels-last data), composes consecutive Transposes and removes
    those that do not permute. Between two channels-last convolutions the
    NCHW-to-NHWC and NHWC-to-NCHW Transposes meet and vanish.
  }];
  let dependentDialects = ["::mlir::kiln::onnx::OnnxDialect"];
}

#endif // KILN_PASSES_LAYOUT_PASSES
