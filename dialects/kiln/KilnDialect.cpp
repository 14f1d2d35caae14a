//===- KilnDialect.cpp - the kiln dialect, its attributes and verifiers ---===//

#include "dialects/kiln/KernelForms.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::kiln;

#include "dialects/kiln/KilnDialect.cpp.inc"
#include "dialects/kiln/KilnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/kiln/KilnAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "dialects/kiln/KilnOps.cpp.inc"

void KilnDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/kiln/KilnAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/kiln/KilnOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// PackedConv2DOp
//===----------------------------------------------------------------------===//

namespace {

/// The window arithmetic of every windowed kernel op: NHWC input and init,
/// two positive strides and dilations, four non-negative pads (top, left,
/// bottom, right) or none, and a window that fits the padded input (where
/// the extents are static; symbolic ones are the kernel's to read).
LogicalResult verifyWindowGeometry(Operation *op, ShapedType input,
                                   ShapedType init, ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> dilations,
                                   ArrayRef<int64_t> pads, int64_t kernelH,
                                   int64_t kernelW) {
  if (input.getRank() != 4 || init.getRank() != 4)
    return op->emitOpError("input and init must be 4-D (NHWC)");
  if (strides.size() != 2 || dilations.size() != 2 ||
      llvm::any_of(strides, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d < 1; }))
    return op->emitOpError("needs two positive strides and dilations");
  if ((!pads.empty() && pads.size() != 4) ||
      llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return op->emitOpError("pads must be four non-negative sizes (top, left, "
                           "bottom, right)");
  SmallVector<int64_t> padding(pads);
  padding.resize(4, 0);
  ArrayRef<int64_t> in = input.getShape(), out = init.getShape();
  if (!ShapedType::isDynamic(out[0]) && !ShapedType::isDynamic(in[0]) &&
      out[0] != in[0])
    return op->emitOpError("batch of init (")
           << out[0] << ") differs from the input's (" << in[0] << ")";
  int64_t kernel[2] = {kernelH, kernelW};
  for (int axis = 0; axis < 2; ++axis) {
    if (ShapedType::isDynamic(out[axis + 1]) ||
        ShapedType::isDynamic(in[axis + 1]))
      continue;
    int64_t span = (out[axis + 1] - 1) * strides[axis] +
                   (kernel[axis] - 1) * dilations[axis] + 1;
    int64_t padded = in[axis + 1] + padding[axis] + padding[axis + 2];
    if (out[axis + 1] < 1 || span > padded)
      return op->emitOpError("output dimension ")
             << axis + 1 << " (" << out[axis + 1]
             << ") does not fit the padded input (" << padded << ")";
  }
  return success();
}

/// The operand types a convolution takes: f32, or bf16 for input and
/// filter or the input only; a 4-bit filter (bytes of two) with an f32
/// input; 8-bit integer input and filter.
enum class OperandTypes {
  InputAndFilter,
  Input,
  Bf16Filter,
  Int4Filter,
  Int8Operands
};

/// What the convolution ops check: the form, static NHWC data of the
/// `types` allowed, an f32 or bf16 result, the window geometry,
/// the clip bounds.
template <typename OpTy>
LogicalResult verifyWindowOp(OpTy op, int64_t filterRank,
                             StringRef filterLayout, int64_t kernelH,
                             int64_t kernelW, OperandTypes types) {
  auto input = cast<ShapedType>(op.getInput().getType());
  auto filter = cast<ShapedType>(op.getFilter().getType());
  auto bias = cast<ShapedType>(op.getBias().getType());
  auto init = cast<ShapedType>(op.getInit().getType());
  if (failed(
          verifyKernelForm(op, op->getOperands(), op.getInit(), op.getInput())))
    return failure();
  if (input.getRank() != 4 || init.getRank() != 4)
    return op.emitOpError("input and init must be 4-D (NHWC)");
  if (filter.getRank() != filterRank)
    return op.emitOpError("filter must be laid out as ") << filterLayout;
  if (bias.getRank() != 1)
    return op.emitOpError("bias must be 1-D");
  Type element = input.getElementType();
  bool inputOk = element.isF32() || element.isBF16();
  if (types == OperandTypes::InputAndFilter &&
      (!inputOk || filter.getElementType() != element ||
       !bias.getElementType().isF32()))
    return op.emitOpError("takes f32 or bf16 input and filter (of one type) "
                          "and an f32 bias");
  if (types == OperandTypes::Bf16Filter &&
      (!element.isF32() || !bias.getElementType().isF32()))
    return op.emitOpError("with a bf16 filter in the f32 layout takes an f32 "
                          "input and bias");
  if (types == OperandTypes::Int4Filter &&
      (!element.isF32() || !filter.getElementType().isInteger(8) ||
       !bias.getElementType().isF32()))
    return op.emitOpError("with a 4-bit filter takes an f32 input, an i8 "
                          "filter (two 4-bit values a byte) and an f32 bias");
  if (types == OperandTypes::Int8Operands && !bias.getElementType().isF32())
    return op.emitOpError("with an i8 input takes an f32 bias");
  if (types == OperandTypes::Input &&
      (!inputOk || !filter.getElementType().isF32() ||
       !bias.getElementType().isF32()))
    return op.emitOpError("takes an f32 or bf16 input and an f32 filter and "
                          "bias");
  if (!init.getElementType().isF32() && !init.getElementType().isBF16())
    return op.emitOpError("writes f32 or bf16");
  if (failed(verifyWindowGeometry(op, input, init, op.getStrides(),
                                  op.getDilations(), op.getPads(), kernelH,
                                  kernelW)))
    return failure();
  if (op.getActivation() == Activation::Clip &&
      !(op.getClipMin() <= op.getClipMax()))
    return op.emitOpError("clip_min must not exceed clip_max");
  return success();
}

/// The 8-bit filter's own rules: i8, with f32 scales and compensations
/// [tiles, 2, F0]; with a group_size (W4A8's 4-bit filter): pointwise,
/// groups of whole channel quads that divide the channels, and i32 scales,
/// zero points and starting sums [tiles, C / group_size, 3, F0].
LogicalResult verifyInt8Filter(PackedConv2DOp op) {
  auto filter = cast<ShapedType>(op.getFilter().getType());
  if (!filter.getElementType().isInteger(8))
    return op.emitOpError("with an i8 input takes an i8 filter");
  if (int64_t(op.getGroupSize()) < 0)
    return op.emitOpError("group_size must not be negative");
  if (!op.getFilterScales())
    return op.emitOpError("with an i8 input needs filter_scales");
  auto scales = cast<ShapedType>(op.getFilterScales().getType());
  int64_t tile = op.getFilterTile();
  if (op.isInt8Int4()) {
    int64_t channels = 4 * filter.getDimSize(3);
    int64_t group = op.getGroupSize();
    if (filter.getDimSize(1) != 1 || filter.getDimSize(2) != 1)
      return op.emitOpError("with a 4-bit filter must be pointwise (1x1)");
    if (group % 4 || channels % group)
      return op.emitOpError("group_size (")
             << group << ") must be a multiple of 4 that divides the "
             << channels << " input channels";
    SmallVector<int64_t> expected = {filter.getDimSize(0), channels / group, 3,
                                     tile};
    if (scales.getShape() != ArrayRef<int64_t>(expected) ||
        !scales.getElementType().isInteger(32))
      return op.emitOpError("filter_scales must be i32 [")
             << expected[0] << ", " << expected[1] << ", 3, " << tile
             << "]: a scale, zero point and starting sum per group and filter";
    return success();
  }
  SmallVector<int64_t> expected = {filter.getDimSize(0), 2, tile};
  if (scales.getShape() != ArrayRef<int64_t>(expected) ||
      !scales.getElementType().isF32())
    return op.emitOpError("filter_scales must be f32 [")
           << expected[0] << ", 2, " << expected[2]
           << "]: a scale and a compensation per filter";
  return success();
}

/// The 4-bit filter's own rules: pointwise, groups that divide the
/// channels, scales and zero points [tiles, C / group_size, 2, F0] in f16.
LogicalResult verifyInt4Filter(PackedConv2DOp op) {
  auto filter = cast<ShapedType>(op.getFilter().getType());
  auto scales = cast<ShapedType>(op.getFilterScales().getType());
  int64_t channels = filter.getDimSize(3), tile = op.getFilterTile();
  int64_t group = op.getGroupSize();
  if (filter.getDimSize(1) != 1 || filter.getDimSize(2) != 1)
    return op.emitOpError("with a 4-bit filter must be pointwise (1x1)");
  if (group < 1 || channels % group)
    return op.emitOpError("group_size (")
           << group << ") must divide the " << channels << " input channels";
  SmallVector<int64_t> expected = {filter.getDimSize(0), channels / group, 2,
                                   tile};
  if (scales.getShape() != ArrayRef<int64_t>(expected) ||
      !scales.getElementType().isF16())
    return op.emitOpError("filter_scales must be f16 [")
           << expected[0] << ", " << expected[1] << ", 2, " << tile
           << "]: a scale and a zero point per group and filter";
  return success();
}

} // namespace

LogicalResult PackedConv2DOp::verify() {
  auto filterType = cast<ShapedType>(getFilter().getType());
  // A bf16 input pairs channels in a bf16 filter; an f32 input may meet a
  // bf16 filter in the f32 layout.
  bool bf16 = isBf16(), bf16Filter = isBf16Filter();
  bool int4 = isInt4(), int8 = isInt8();
  StringRef layout = bf16           ? "[F/F0, KH, KW, C/2, F0, 2]"
                     : isInt8Int4() ? "[F/F0, 1, 1, C/4, F0/2, 4]"
                     : int8         ? "[F/F0, KH, KW, C/4, F0, 4]"
                     : int4         ? "[F/F0, 1, 1, C, F0/2]"
                                    : "[F/F0, KH, KW, C, F0]";
  int64_t rank = bf16 || int8 ? 6 : 5;
  if (filterType.getRank() != rank || (bf16 && filterType.getDimSize(5) != 2) ||
      (int8 && filterType.getDimSize(5) != 4))
    return emitOpError("filter must be laid out as ") << layout;
  if (int8 && failed(verifyInt8Filter(*this)))
    return failure();
  if (failed(verifyWindowOp(*this, rank, layout, filterType.getDimSize(1),
                            filterType.getDimSize(2),
                            int8         ? OperandTypes::Int8Operands
                            : int4       ? OperandTypes::Int4Filter
                            : bf16Filter ? OperandTypes::Bf16Filter
                                         : OperandTypes::InputAndFilter)))
    return failure();
  if (int4 && failed(verifyInt4Filter(*this)))
    return failure();
  if (!int4 && !int8 && getGroupSize() != 0)
    return emitOpError("has a group_size but no filter_scales");
  if (!int8 && getNarrowFilter())
    return emitOpError("narrow_filter is for 8-bit integer filters");
  ArrayRef<int64_t> in = cast<ShapedType>(getInput().getType()).getShape(),
                    w = filterType.getShape(),
                    out = cast<ShapedType>(getInit().getType()).getShape();
  int64_t tile = getFilterTile();
  auto bias = cast<ShapedType>(getBias().getType());
  if (getAccumulate() &&
      !cast<ShapedType>(getInit().getType()).getElementType().isF32())
    return emitOpError("accumulates into f32 only");
  int64_t filterChannels = bf16 ? 2 * w[3] : int8 ? 4 * w[3] : w[3];
  if (filterChannels != in[3])
    return emitOpError("filter has ")
           << filterChannels << " input channels, the input " << in[3];
  if (out[3] > w[0] * tile || out[3] <= (w[0] - 1) * tile)
    return emitOpError("init has ") << out[3] << " channels, the filter packs "
                                    << w[0] << " tiles of " << tile;
  if (bias.getDimSize(0) != w[0] * tile)
    return emitOpError("bias must have ") << w[0] * tile << " elements";
  return success();
}

void PackedConv2DOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), getAccumulate(), effects);
}

//===----------------------------------------------------------------------===//
// DepthwiseConv2DOp
//===----------------------------------------------------------------------===//

LogicalResult DepthwiseConv2DOp::verify() {
  auto filterType = cast<ShapedType>(getFilter().getType());
  if (filterType.getRank() != 3)
    return emitOpError("filter must be laid out as [KH, KW, C]");
  if (failed(verifyWindowOp(*this, 3, "[KH, KW, C]", filterType.getDimSize(0),
                            filterType.getDimSize(1), OperandTypes::Input)))
    return failure();
  int64_t channels = cast<ShapedType>(getInput().getType()).getDimSize(3);
  if (filterType.getDimSize(2) != channels ||
      cast<ShapedType>(getInit().getType()).getDimSize(3) != channels ||
      cast<ShapedType>(getBias().getType()).getDimSize(0) != channels)
    return emitOpError("input, filter, bias and init must all have ")
           << channels << " channels";
  return success();
}

void DepthwiseConv2DOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

//===----------------------------------------------------------------------===//
// Row kernels: LayerNormOp, SoftmaxOp and RowAbsMaxOp
//===----------------------------------------------------------------------===//

namespace {

/// One form, static f32 shapes, and an init shaped like the input.
/// `symbolic`: sizes may be known only at run time (a softmax's).
/// What the row kernels check: one form, f32 data (static unless
/// `symbolic`), and an init of the input's shape, or with
/// `reducesRows` of its shape with 1 for the row.
LogicalResult verifyRowOp(Operation *op, Value input, Value init,
                          bool symbolic = false, bool reducesRows = false) {
  auto inputType = cast<ShapedType>(input.getType());
  auto initType = cast<ShapedType>(init.getType());
  bool tensors = isa<RankedTensorType>(inputType);
  for (Value operand : op->getOperands())
    if (isa<RankedTensorType>(operand.getType()) != tensors)
      return op->emitOpError("takes all tensors or all memrefs");
  if (tensors != (op->getNumResults() == 1))
    return op->emitOpError("has one result on tensors and none on memrefs");
  for (Value operand : op->getOperands()) {
    auto type = cast<ShapedType>(operand.getType());
    if ((!symbolic && !type.hasStaticShape()) || !type.getElementType().isF32())
      return op->emitOpError(symbolic ? "needs f32 shapes"
                                      : "needs static f32 shapes");
  }
  SmallVector<int64_t> expected(inputType.getShape());
  if (reducesRows && !expected.empty())
    expected.back() = 1;
  if (inputType.getRank() < 1 || initType.getShape() != ArrayRef(expected))
    return op->emitOpError(reducesRows
                               ? "init must have the input's shape with 1 for "
                                 "the innermost size"
                               : "init must have the input's shape");
  if (tensors && op->getResult(0).getType() != initType)
    return op->emitOpError("result type must be the init's type");
  return success();
}

} // namespace

LogicalResult LayerNormOp::verify() {
  if (failed(verifyRowOp(*this, getInput(), getInit())))
    return failure();
  int64_t row = cast<ShapedType>(getInput().getType()).getShape().back();
  for (Value operand : {getScale(), getBias()})
    if (cast<ShapedType>(operand.getType()).getShape() !=
        ArrayRef<int64_t>{row})
      return emitOpError("scale and bias must have the row's ")
             << row << " elements";
  if (!(getEpsilon().convertToFloat() >= 0.0f))
    return emitOpError("epsilon must not be negative");
  return success();
}

void LayerNormOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

LogicalResult SoftmaxOp::verify() {
  return verifyRowOp(*this, getInput(), getInit(), /*symbolic=*/true);
}

void SoftmaxOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

LogicalResult RowAbsMaxOp::verify() {
  return verifyRowOp(*this, getInput(), getInit(), /*symbolic=*/true,
                     /*reducesRows=*/true);
}

void RowAbsMaxOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

//===----------------------------------------------------------------------===//
// ResizeLinearOp
//===----------------------------------------------------------------------===//

LogicalResult ResizeLinearOp::verify() {
  auto input = cast<ShapedType>(getInput().getType());
  auto init = cast<ShapedType>(getInit().getType());
  bool tensors = isa<RankedTensorType>(input);
  for (Value operand : getOperation()->getOperands()) {
    auto type = cast<ShapedType>(operand.getType());
    if (isa<RankedTensorType>(type) != tensors)
      return emitOpError("takes all tensors or all memrefs");
  }
  // The batch, height and width (and with them the tables) may be
  // symbolic; the channels may not.
  for (ShapedType type : {input, init})
    if (type.getRank() == 4 && type.isDynamicDim(1))
      return emitOpError("needs static channels");
  if (tensors != (getNumResults() == 1))
    return emitOpError("has one result on tensors and none on memrefs");
  if (!input.getElementType().isF32() ||
      init.getElementType() != input.getElementType())
    return emitOpError("resizes f32 only");
  if (input.getRank() != 4 || init.getRank() != 4 ||
      input.getShape().take_front(2) != init.getShape().take_front(2))
    return emitOpError("resizes the last two dimensions of 4-D data");
  auto table = [&](Value value, int64_t length, Type element) {
    auto type = cast<ShapedType>(value.getType());
    return type.getRank() == 1 && type.getElementType() == element &&
           (ShapedType::isDynamic(length) || type.isDynamicDim(0) ||
            type.getDimSize(0) == length);
  };
  auto twice = [](int64_t length) {
    return ShapedType::isDynamic(length) ? length : 2 * length;
  };
  Builder b(getContext());
  int64_t height = init.getDimSize(2), width = init.getDimSize(3);
  if (!table(getRows(), twice(height), b.getI32Type()) ||
      !table(getColumns(), twice(width), b.getI32Type()))
    return emitOpError("rows and columns must be i32 tables of two source "
                       "positions per output row and column");
  if (!table(getRowWeights(), height, b.getF32Type()) ||
      !table(getColumnWeights(), width, b.getF32Type()))
    return emitOpError("row and column weights must be f32 tables of one "
                       "weight per output row and column");
  return success();
}

void ResizeLinearOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

//===----------------------------------------------------------------------===//
// Bf16DotOp
//===----------------------------------------------------------------------===//

LogicalResult Bf16DotOp::verify() {
  int64_t lanes = getResult().getType().getNumElements();
  if (lanes != 4 && lanes != 8 && lanes != 16)
    return emitOpError("takes 4, 8 or 16 f32 lanes, not ") << lanes;
  if (getLhs().getType().getNumElements() != 2 * lanes)
    return emitOpError("needs ") << 2 * lanes << " bf16 values (two per lane)";
  return success();
}

LogicalResult Int8DotOp::verify() {
  int64_t lanes = getResult().getType().getNumElements();
  if (lanes != 4 && lanes != 8 && lanes != 16)
    return emitOpError("takes 4, 8 or 16 i32 lanes, not ") << lanes;
  if (getLhs().getType().getNumElements() != 4 * lanes)
    return emitOpError("needs ") << 4 * lanes << " bytes (four per lane)";
  return success();
}

//===----------------------------------------------------------------------===//
// MaxPool2DOp
//===----------------------------------------------------------------------===//

LogicalResult MaxPool2DOp::verify() {
  if (failed(verifyKernelForm(*this, getOperands(), getInit(), getInput())))
    return failure();
  auto input = cast<ShapedType>(getInput().getType());
  auto init = cast<ShapedType>(getInit().getType());
  if (!input.getElementType().isF32() ||
      init.getElementType() != input.getElementType())
    return emitOpError("takes and writes f32");
  if (getKernel().size() != 2 ||
      llvm::any_of(getKernel(), [](int64_t k) { return k < 1; }))
    return emitOpError("needs two positive kernel sizes");
  if (failed(verifyWindowGeometry(*this, input, init, getStrides(),
                                  getDilations(), getPads(), getKernel()[0],
                                  getKernel()[1])))
    return failure();
  if (input.getDimSize(3) != init.getDimSize(3))
    return emitOpError("input and init must have the same channels");
  return success();
}

void MaxPool2DOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  // G, S and T may be symbolic; D is not (the kernel's vectors span it).
  if (failed(verifyKernelForm(*this, getOperands(), getInit(),
                              /*image=*/{}, /*anySymbolic=*/true)))
    return failure();
  auto shapeOf = [](Value value) {
    return cast<ShapedType>(value.getType()).getShape();
  };
  // Keys and values may be bf16 (a cache held in bf16) or 4-bit rows (i8:
  // QoQ's KV4 cache); the rest is f32.
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (getPages() && &operand == &getPagesMutable()[0])
      continue;
    auto type = cast<ShapedType>(operand.get().getType());
    Type element = type.getElementType();
    bool widened = &operand == &getKeysMutable() ||
                   &operand == &getValuesMutable() ||
                   (getPastKeys() && &operand == &getPastKeysMutable()[0]) ||
                   (getPastValues() && &operand == &getPastValuesMutable()[0]);
    if (type.getRank() != 3 ||
        !(element.isF32() ||
          (widened && (element.isBF16() || element.isInteger(8)))))
      return emitOpError("takes 3-D f32 query, mask and init, and f32, bf16 "
                         "or 4-bit (i8 rows) keys and values");
  }
  if (getKeysType().isInteger(8) && !getKeyRows())
    return emitOpError("takes 4-bit keys as rows (key_rows)");
  // Two extents agree unless both are known and differ.
  auto differ = [](int64_t a, int64_t b) {
    return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
  };
  ArrayRef<int64_t> q = shapeOf(getQuery()), k = shapeOf(getKeys()),
                    v = shapeOf(getValues()), out = shapeOf(getInit());
  if (ShapedType::isDynamic(q[2]))
    return emitOpError("needs a static head size D");
  if (differ(k[0], q[0]) || differ(v[0], q[0]) || differ(out[0], q[0]))
    return emitOpError("query, keys, values and init must have the same "
                       "heads (")
           << q[0] << ")";
  // A row of D 4-bit values is D / 2 bytes, then its f16 scale and zero
  // point.
  auto depthOf = [&](Value value, int64_t extent) {
    bool packed =
        cast<ShapedType>(value.getType()).getElementType().isInteger(8);
    return packed && !ShapedType::isDynamic(extent) ? (extent - 4) * 2 : extent;
  };
  int64_t keyDepth = depthOf(getKeys(), k[getKeyDepthDim()]),
          positions = k[getKeyPositionsDim()];
  if (keyDepth != q[2] || depthOf(getValues(), v[2]) != q[2] || out[2] != q[2])
    return emitOpError(getKeyRows() ? "keys must be [G, T, D]"
                                    : "keys must be [G, D, T]")
           << " and values [G, T, D] (D / 2 + 4 bytes in 4 bits) with the "
              "query's D ("
           << q[2] << ")";
  if (differ(v[1], positions))
    return emitOpError("keys have ")
           << positions << " positions, values " << v[1];
  if (differ(out[1], q[1]))
    return emitOpError("init must have the query's ") << q[1] << " rows";
  // The positions the mask's columns count: the past's, then the keys'.
  int64_t allPositions = positions;
  if (hasPast() != static_cast<bool>(getPastValues()))
    return emitOpError("takes past keys and past values together");
  if (hasPast()) {
    if (!getKeyRows() || getPages())
      return emitOpError("reads past keys as rows (key_rows), without pages");
    ArrayRef<int64_t> pk = shapeOf(getPastKeys()),
                      pv = shapeOf(getPastValues());
    Type valuesType = getElementTypeOrSelf(getValues().getType());
    if (getElementTypeOrSelf(getPastKeys().getType()) != getKeysType() ||
        getElementTypeOrSelf(getPastValues().getType()) != valuesType ||
        getKeysType().isInteger(8) || valuesType.isInteger(8))
      return emitOpError("takes past keys and values of the keys' and "
                         "values' element types, f32 or bf16");
    if (differ(pk[0], q[0]) || differ(pv[0], q[0]) || pk[2] != q[2] ||
        pv[2] != q[2] || differ(pk[1], pv[1]))
      return emitOpError("past keys and values must be [G, T0, D] with the "
                         "query's G and D");
    allPositions =
        ShapedType::isDynamic(pk[1]) || ShapedType::isDynamic(positions)
            ? ShapedType::kDynamic
            : pk[1] + positions;
  }
  if (Value pages = getPages()) {
    auto table = cast<ShapedType>(pages.getType());
    if (!getKeyRows() || !getPageSize() || *getPageSize() < 1)
      return emitOpError("reads pages of keys as rows (key_rows) with a "
                         "positive page_size");
    if (table.getRank() != 2 || !table.getElementType().isInteger(32) ||
        differ(table.getDimSize(0), q[0]) || table.isDynamicDim(1) ||
        table.getDimSize(1) < 1)
      return emitOpError("takes a pages table [G, K] of i32, K static and "
                         "positive, not ")
             << table;
  } else if (getPageSize()) {
    return emitOpError("has a page_size but no pages table");
  }
  if (Value mask = getMask()) {
    ArrayRef<int64_t> m = shapeOf(mask);
    if (differ(m[2], allPositions))
      return emitOpError("the mask has ")
             << m[2] << " columns for " << allPositions << " keys";
    if (!ShapedType::isDynamic(m[0]) && !ShapedType::isDynamic(q[0]) &&
        (m[0] < 1 || q[0] % m[0]))
      return emitOpError("the mask's ")
             << m[0] << " heads do not divide the " << q[0] << " heads";
    if (!ShapedType::isDynamic(m[1]) && !ShapedType::isDynamic(q[1]) &&
        (m[1] < 1 || q[1] % m[1]))
      return emitOpError("the mask's ")
             << m[1] << " rows do not divide the query's " << q[1];
  }
  return success();
}

void AttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, getInitMutable(), /*readsInit=*/false, effects);
}
