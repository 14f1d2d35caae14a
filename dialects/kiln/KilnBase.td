//===- KilnBase.td - the kiln dialect and its attributes ---*- tablegen -*-===//
//
// Kiln's own ops: what upstream MLIR lacks, chiefly contractions on packed
// (data-tiled) layouts with fused epilogues.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_KILN_BASE
#define KILN_KILN_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let summary = "Kiln's kernel ops and layout attributes";
  let description = [{
    Ops that upstream dialects cannot express with the performance Kiln
    needs: contractions whose weights are packed at compile time into
    tile-major layouts, with bias, activation and residual fused into the
    epilogue. Each op has tensor semantics in the graph and tensor stages
    (destination-passing style) and bufferizes to its memref form, which the
    target lowers to register-blocked microkernels.
  }];
  let cppNamespace = "::mlir::kiln";
  let useDefaultAttributePrinterParser = 1;
  // The discardable attributes of KilnAttributes.h.
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
}

def Kiln_Activation : I32EnumAttr<"Activation",
    "the activation a contraction's epilogue applies", [
  I32EnumAttrCase<"None", 0, "none">,
  I32EnumAttrCase<"Relu", 1, "relu">,
  // min(max(x, clip_min), clip_max): ReLU6 and Clip.
  I32EnumAttrCase<"Clip", 2, "clip">,
  // x * min(max(x + 3, 0), 6) / 6
  I32EnumAttrCase<"HardSwish", 3, "hardswish">,
  // 1 / (1 + exp(-x))
  I32EnumAttrCase<"Sigmoid", 4, "sigmoid">,
  // x * sigmoid(x), also called Swish
  I32EnumAttrCase<"Silu", 5, "silu">,
  // x * (1 + erf(x / sqrt(2))) / 2
  I32EnumAttrCase<"Gelu", 6, "gelu">,
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::kiln";
}

def Kiln_ActivationAttr : EnumAttr<Kiln_Dialect, Kiln_Activation, "activation"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // KILN_KILN_BASE
