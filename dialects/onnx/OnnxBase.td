//===- OnnxBase.td - the onnx dialect and its hand-written ops -*- tablegen -*-===//
//
// The dialect mirrors the ONNX default domain: one op per operator, generated
// into OnnxOps.td. Only the region terminator is written by hand.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_ONNX_BASE
#define KILN_ONNX_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def Onnx_Dialect : Dialect {
  let name = "onnx";
  let summary = "The ONNX operator set, one op per operator of the default domain";
  let description = [{
    Ops carry the ONNX operator's inputs as operands (absent optional inputs
    are empty operand segments), its outputs as results, its attributes with
    the schema's defaults, and its graph attributes as single-block regions
    ended by `onnx.Yield`.
  }];
  let cppNamespace = "::mlir::kiln::onnx";
  let hasConstantMaterializer = 1;
}

class ONNX_Op<string mnemonic, list<Trait> traits = []>
    : Op<Onnx_Dialect, mnemonic, traits>;

def ONNX_YieldOp : ONNX_Op<"Yield", [Pure, Terminator, ReturnLike]> {
  let summary = "Returns the outputs of an If, Loop or Scan body graph";
  let arguments = (ins Variadic<AnyType>:$operands);
  // SingleBlockImplicitTerminator builds the terminator with no operands.
  let builders = [OpBuilder<(ins), [{}]>];
  let assemblyFormat = "attr-dict ($operands^ `:` type($operands))?";
}

#endif // KILN_ONNX_BASE
