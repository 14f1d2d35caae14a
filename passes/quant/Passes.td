//===- Passes.td - quantization passes ---------------------*- tablegen -*-===//
//
// Target-neutral rewrites of the graph stage that trade precision for
// bytes: weights (and later activations and the KV cache) in integers,
// as `kiln.dequantize` of integer constants that the layout passes pack
// and the kernels dequantize in registers.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_QUANT_PASSES
#define KILN_PASSES_QUANT_PASSES

include "mlir/Pass/PassBase.td"

def QuantWeightsPass : Pass<"kiln-quant-weights", "func::FuncOp"> {
  let summary = "Constant weights of matrix products to 4-bit groups";
  let description = [{
    Rewrites the constant right operand W [K, N] of each f32 `onnx.MatMul`
    into `kiln.dequantize` of unsigned 4-bit integers in groups of
    `group-size` input channels per output channel, round to nearest
    (ALGORITHMS.md §2, without AWQ's search):

    ```
    scale = max((max - min) / 15, 1e-5)       (then rounded to f16)
    zero  = clamp(round(-min / scale), 0, 15)
    q     = clamp(round(w / scale) + zero, 0, 15)
    ```

    with min and max over the group's values. Scales are f16 (each q is
    computed with the rounded scale) and zero points 4-bit,
    so that a group of 64 costs 32 bytes of integers and, once packed, 4 of
    parameters.
    Products whose K the group size does not divide are an error naming
    the node (choose a divisor, or exclude the node); nodes named in
    `exclude` stay f32. With nothing to quantize the pass warns and
    leaves the function as it is.
  }];
  let options = [
    Option<"groupSize", "group-size", "int64_t", "128",
           "Input channels per group of one scale and zero point">,
    ListOption<"exclude", "exclude", "std::string",
               "ONNX node names of products to keep in f32">,
  ];
  let dependentDialects = ["::mlir::kiln::KilnDialect",
                           "::mlir::kiln::onnx::OnnxDialect"];
}

#endif // KILN_PASSES_QUANT_PASSES
