#!/usr/bin/env python3
"""Generates the `onnx` dialect's op definitions from the ONNX operator schemas.

Run by hand when the ONNX version changes; the output is checked in:

    python3 -m pip install onnx            # the newest schemas
    python3 dialects/onnx/gen_onnx_ops.py  # rewrites the two files below

Writes
  dialects/onnx/OnnxOps.td     one ODS op per operator of the default domain
  dialects/onnx/OnnxSchemas.inc  a C++ table the importer uses to map ONNX
                                 inputs, outputs and attributes onto the ops

Types MLIR 19 has no builtin for (string, float4e2m1, float6*, float8e8m0)
and non-tensor types (sequences, optionals, maps) are left out; an operator
that then has an input or output with no type left is not generated, and the
importer reports it as unsupported.
"""

import os
import sys

import onnx
from onnx import defs

HERE = os.path.dirname(os.path.abspath(__file__))

# ONNX tensor element type -> ODS type constraint.
ELEMENT_TYPES = {
    "float": "F32",
    "double": "F64",
    "float16": "F16",
    "bfloat16": "BF16",
    "int2": "I<2>",
    "int4": "I<4>",
    "int8": "I8",
    "int16": "I16",
    "int32": "I32",
    "int64": "I64",
    "uint2": "UI<2>",
    "uint4": "UI<4>",
    "uint8": "UI8",
    "uint16": "UI16",
    "uint32": "UI32",
    "uint64": "UI64",
    "bool": "I1",
    "complex64": "Complex<F32>",
    "complex128": "Complex<F64>",
    "float8e4m3fn": "F8E4M3FN",
    "float8e4m3fnuz": "F8E4M3FNUZ",
    "float8e5m2": "F8E5M2",
    "float8e5m2fnuz": "F8E5M2FNUZ",
}

A = defs.OpSchema.AttrType
ATTRIBUTE_TYPES = {
    A.FLOAT: "F32Attr",
    A.INT: "I64Attr",
    A.STRING: "StrAttr",
    A.TENSOR: "ElementsAttr",
    A.SPARSE_TENSOR: "ElementsAttr",
    A.TYPE_PROTO: "TypeAttr",
    A.FLOATS: "F32ArrayAttr",
    A.INTS: "I64ArrayAttr",
    A.STRINGS: "StrArrayAttr",
    A.TENSORS: "TypedArrayAttrBase<ElementsAttr, \"tensor array\">",
}
# Matches `kiln::onnx::AttrKind` in OnnxSchema.h.
ATTRIBUTE_KINDS = {
    A.FLOAT: "Float", A.INT: "Int", A.STRING: "String", A.TENSOR: "Tensor",
    A.SPARSE_TENSOR: "SparseTensor", A.TYPE_PROTO: "TypeProto",
    A.FLOATS: "Floats", A.INTS: "Ints", A.STRINGS: "Strings",
    A.TENSORS: "Tensors", A.GRAPH: "Graph", A.GRAPHS: "Graphs",
}

OPTION = defs.OpSchema.FormalParameterOption
OPTION_KIND = {OPTION.Single: "Single", OPTION.Optional: "Optional",
               OPTION.Variadic: "Variadic"}

# Operators with a hand-written verifier in OnnxVerifiers.cpp.
CUSTOM_VERIFIERS = {
    "Concat", "Transpose", "Softmax", "LogSoftmax", "Hardmax", "Flatten",
    "Gather", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "Cast",
    "Reshape", "Squeeze", "Unsqueeze", "Constant", "Split", "Gemm",
    "LayerNormalization", "ArgMax", "ArgMin", "GatherElements",
    "ScatterElements", "TopK",
}
# Operators with folders / canonicalization patterns in OnnxFolds.cpp.
FOLDERS = {"Identity", "Shape", "Size", "Constant", "Cast", "Add", "Sub", "Mul",
           "Div", "Equal", "Where"}
CANONICALIZERS = {"Reshape", "Gather", "Concat", "ConstantOfShape",
                  "Unsqueeze", "Squeeze", "Slice"}
# Operators whose results may differ per call (no `Pure` trait).
NOT_PURE = {"RandomNormal", "RandomNormalLike", "RandomUniform",
            "RandomUniformLike", "Multinomial", "Bernoulli", "Dropout",
            "If", "Loop", "Scan"}

# ODS or C++ names an ONNX name must not take.
RESERVED = {"operands", "results", "properties", "attributes", "location",
            "context", "name", "type", "default", "operation", "region",
            "regions", "body_region"}


def element_constraint(type_strs):
    """ODS TensorOf<[...]> for the tensor types among `type_strs`, or None."""
    elements = []
    for type_str in type_strs:
        if not type_str.startswith("tensor(") or not type_str.endswith(")"):
            continue
        element = ELEMENT_TYPES.get(type_str[len("tensor("):-1])
        if element and element not in elements:
            elements.append(element)
    if not elements:
        return None
    return "TensorOf<[" + ", ".join(elements) + "]>"


def parameter_constraint(schema, parameter):
    for constraint in schema.type_constraints:
        if constraint.type_param_str == parameter.type_str:
            return element_constraint(constraint.allowed_type_strs)
    return element_constraint([parameter.type_str])


def fixed_element_type(schema, parameter):
    """The ONNX element type name when `parameter` allows exactly one."""
    allowed = [parameter.type_str]
    for constraint in schema.type_constraints:
        if constraint.type_param_str == parameter.type_str:
            allowed = list(constraint.allowed_type_strs)
    tensors = [t[len("tensor("):-1] for t in allowed if t.startswith("tensor(")]
    return tensors[0] if len(tensors) == 1 else ""


def ods_name(name, taken):
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if cleaned[0].isdigit() or cleaned in RESERVED or cleaned in taken:
        cleaned = "onnx_" + cleaned
    taken.add(cleaned)
    return cleaned


def wrap(option, constraint):
    if option == OPTION.Optional:
        return f"Optional<{constraint}>"
    if option == OPTION.Variadic:
        return f"Variadic<{constraint}>"
    return constraint


def default_literal(attr):
    """The ODS default value of an attribute, or None if it has none."""
    value = attr.default_value
    if value is None or not value.name:
        return None
    kind = attr.type
    if kind == A.INT:
        return str(value.i)
    if kind == A.FLOAT:
        return repr(float(value.f))
    if kind == A.STRING:
        return value.s.decode()
    if kind == A.INTS:
        return '"{' + ", ".join(str(v) for v in value.ints) + '}"'
    if kind == A.FLOATS:
        return '"{' + ", ".join(repr(float(v)) for v in value.floats) + '}"'
    if kind == A.STRINGS:
        return '"{' + ", ".join('\\"' + v.decode() + '\\"'
                                for v in value.strings) + '}"'
    return None


def attribute_ods(attr):
    base = ATTRIBUTE_TYPES[attr.type]
    default = default_literal(attr)
    if default is not None:
        if attr.type == A.STRING:
            return f'DefaultValuedStrAttr<{base}, "{default}">'
        if attr.type in (A.INT, A.FLOAT):
            return f'DefaultValuedAttr<{base}, "{default}">'
        return f"DefaultValuedAttr<{base}, {default}>"
    if attr.required:
        return base
    return f"OptionalAttr<{base}>"


def describe(schema):
    """The first paragraph of the schema's documentation."""
    text = (schema.doc or "").strip().split("\n\n")[0]
    return text.replace("}]", "} ]")


def attribute_order(name):
    """Sorted by name, but If's then_branch region before its else_branch."""
    return ({"then_branch": 0, "else_branch": 1}.get(name, 2), name)


def generate_op(schema):
    """Returns (ods text, table entry) or None if the op has no tensor form."""
    taken = set()
    operands, results, attributes, regions = [], [], [], []
    input_kinds, output_kinds, attribute_kinds = [], [], []
    same_element_type = {}

    for attr_name, attr in sorted(schema.attributes.items(),
                                  key=lambda item: attribute_order(item[0])):
        taken.add(attr_name)
        attribute_kinds.append((attr_name, ATTRIBUTE_KINDS[attr.type]))
        if attr.type == A.GRAPH:
            regions.append(f"SizedRegion<1>:${attr_name}")
        elif attr.type == A.GRAPHS:
            regions.append(f"VariadicRegion<SizedRegion<1>>:${attr_name}")
        else:
            attributes.append(f"{attribute_ods(attr)}:${attr_name}")

    first_input_of = {}
    for index, parameter in enumerate(schema.inputs):
        # A variadic parameter is last, so its first value is at `index` too.
        first_input_of.setdefault(parameter.type_str, index)

    def parameters(formal, sink, kinds):
        for parameter in formal:
            constraint = parameter_constraint(schema, parameter)
            if constraint is None:
                return False
            name = ods_name(parameter.name, taken)
            sink.append(f"{wrap(parameter.option, constraint)}:${name}")
            # How the importer finds an element type ONNX inference left out:
            # from the input sharing the type variable, or the one type allowed.
            fixed = fixed_element_type(schema, parameter)
            kinds.append((parameter.name, OPTION_KIND[parameter.option],
                          first_input_of.get(parameter.type_str, -1), fixed))
            if parameter.option == OPTION.Single:
                same_element_type.setdefault(parameter.type_str, []).append(
                    name)
        return True

    if not parameters(schema.inputs, operands, input_kinds):
        return None
    if not parameters(schema.outputs, results, output_kinds):
        return None

    traits = []
    if schema.name not in NOT_PURE:
        traits.append("Pure")
    if schema.name == "Constant":
        traits.append("ConstantLike")
    if sum(k[1] != "Single" for k in input_kinds) > 1:
        traits.append("AttrSizedOperandSegments")
    if sum(k[1] != "Single" for k in output_kinds) > 1:
        traits.append("AttrSizedResultSegments")
    for type_str, names in sorted(same_element_type.items()):
        # A type variable shared by single parameters: their element types
        # must agree. Fixed types like tensor(int64) are checked per value.
        if len(names) > 1 and not type_str.startswith("tensor("):
            quoted = ", ".join(f'"{n}"' for n in names)
            traits.append(f"AllElementTypesMatch<[{quoted}]>")
    if regions:
        traits.append("RecursiveMemoryEffects")
        traits.append("SingleBlockImplicitTerminator<\"YieldOp\">")

    lines = [f"def ONNX_{schema.name}Op : ONNX_Op<\"{schema.name}\", "
             f"[{', '.join(traits)}]> {{"]
    lines.append(f"  let summary = \"ONNX {schema.name} "
                 f"(opset {schema.since_version})\";")
    lines.append("  let description = [{")
    lines.append(describe(schema))
    lines.append("  }];")
    arguments = operands + attributes
    lines.append("  let arguments = (ins" +
                 ("\n    " + ",\n    ".join(arguments) if arguments else "") +
                 ");")
    lines.append("  let results = (outs" +
                 ("\n    " + ",\n    ".join(results) if results else "") +
                 ");")
    if regions:
        lines.append("  let regions = (region " + ", ".join(regions) + ");")
    if schema.name in CUSTOM_VERIFIERS:
        lines.append("  let hasVerifier = 1;")
    if schema.name in FOLDERS:
        lines.append("  let hasFolder = 1;")
    if schema.name in CANONICALIZERS:
        lines.append("  let hasCanonicalizer = 1;")
    lines.append("}")

    return "\n".join(lines), (input_kinds, output_kinds, attribute_kinds)


def main():
    latest = {}
    history = {}
    for schema in defs.get_all_schemas_with_history():
        if schema.domain != "":
            continue
        history.setdefault(schema.name, set()).add(schema.since_version)
        if (schema.name not in latest or
                schema.since_version > latest[schema.name].since_version):
            latest[schema.name] = schema

    newest_opset = defs.onnx_opset_version()
    ops, table, skipped = [], [], []
    for name in sorted(latest):
        schema = latest[name]
        if schema.deprecated:
            skipped.append((name, "deprecated"))
            continue
        generated = generate_op(schema)
        if generated is None:
            skipped.append((name, "only non-tensor or unsupported types"))
            continue
        ods, (inputs, outputs, attributes) = generated
        ops.append(ods)
        versions = ", ".join(str(v) for v in sorted(history[name]))
        def params(kinds):
            return ", ".join(f'{{"{n}", Param::{k}, {src}, "{fixed}"}}'
                             for n, k, src, fixed in kinds)
        ins = params(inputs)
        outs = params(outputs)
        attrs = ", ".join(f'{{"{n}", AttrKind::{k}}}' for n, k in attributes)
        table.append(f'{{"{name}", {{{versions}}}, {{{ins}}}, {{{outs}}}, '
                     f'{{{attrs}}}}},')

    header = ("// Generated by dialects/onnx/gen_onnx_ops.py from onnx "
              f"{onnx.__version__} (opset {newest_opset}). Do not edit.\n")
    with open(os.path.join(HERE, "OnnxOps.td"), "w") as out:
        out.write(header)
        out.write("// Operators not generated:\n")
        for name, reason in skipped:
            out.write(f"//   {name}: {reason}\n")
        out.write("\n#ifndef KILN_ONNX_OPS\n#define KILN_ONNX_OPS\n\n")
        out.write('include "dialects/onnx/OnnxBase.td"\n\n')
        out.write("\n\n".join(ops))
        out.write("\n\n#endif // KILN_ONNX_OPS\n")
    with open(os.path.join(HERE, "OnnxSchemas.inc"), "w") as out:
        out.write(header)
        out.write(f"#define KILN_ONNX_NEWEST_OPSET {newest_opset}\n")
        out.write("\n".join(table))
        out.write("\n")
    print(f"{len(ops)} ops generated, {len(skipped)} skipped", file=sys.stderr)


if __name__ == "__main__":
    main()
