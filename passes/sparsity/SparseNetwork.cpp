//===- SparseNetwork.cpp - a convolutional network run on sites -----------===//
//
// A sparse convolution computes only the outputs at its sites, from the
// inputs at theirs: a kernel map (`kiln.kernel_map`) says which input row
// each output row reads at each kernel offset, and the convolution is a
// gather of those rows side by side (`kiln.sparse_im2col`) and a MatMul
// by the filter — or, for a transposed convolution, whose input rows each
// feed several outputs, the MatMul of every input row by all the offsets'
// filters and a gather of the sums (`kiln.sparse_col2im`). The MatMuls
// are the dense pipeline's, packed and fused as any other.
//
//===----------------------------------------------------------------------===//

#include "passes/sparsity/SparseNetwork.h"

#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <map>

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// A tensor of the network in its sparse form: rows [n, C] at the sites
/// of a level.
struct SparseValue {
  Value rows;
  int level;
};

/// A grid of sites: the first the network's own; each other the coarse
/// sites of its parent's under a stride.
struct Level {
  SiteSet sites;
  int parent = -1;
  SmallVector<int64_t, 2> stride = {1, 1};
};

/// What a (transposed) convolution reads: its input's sparse form, its
/// constant filter and bias, and its geometry.
struct ConvParts {
  SparseValue input;
  std::vector<float> filter;
  std::optional<std::vector<float>> bias;
  int64_t channels, filters;
  SmallVector<int64_t> kernel, stride, pads;
};

/// The ops that act on each pixel's values alone, as they do on a row.
bool isElementwise(Operation *op) {
  static const llvm::StringSet<> names = {
      "Relu",      "LeakyRelu", "PRelu",    "Sigmoid", "Tanh", "Clip",
      "Elu",       "Selu",      "Gelu",     "Mish",    "Erf",  "HardSigmoid",
      "HardSwish", "Softplus",  "Identity", "Neg",     "Abs",  "Exp",
      "Log",       "Sqrt",      "Add",      "Sub",     "Mul",  "Div",
      "Max",       "Min",       "Pow"};
  return isa<onnx::OnnxDialect>(op->getDialect()) &&
         names.contains(op->getName().stripDialect());
}

class SparseNetworkBuilder {
public:
  SparseNetworkBuilder(OpBuilder &b, const SiteSet &sites) : b(b) {
    levels.push_back({sites});
  }

  FailureOr<Value> build(func::FuncOp network, ValueRange inputs);

private:
  LogicalResult convert(Operation *op);
  LogicalResult convert(onnx::ConvOp op);
  LogicalResult convert(onnx::ConvTransposeOp op);
  LogicalResult convert(onnx::BatchNormalizationOp op);
  LogicalResult convert(onnx::ConcatOp op);
  LogicalResult convertElementwise(Operation *op);
  /// A (transposed) convolution's input, weights and geometry, or an
  /// error at it where a sparse one cannot do what it does.
  template <typename ConvOp> FailureOr<ConvParts> read(ConvOp op);

  /// The sparse form of `value`, an operand of `user`.
  FailureOr<SparseValue> sparse(Value value, Operation *user);
  /// The level of the coarse sites of `level` under `stride`.
  int coarser(int level, ArrayRef<int64_t> stride, Location loc);
  /// The kernel map of a (transposed) convolution from the sites of level
  /// `from` to those of `to`.
  Value kernelMap(int from, int to, ArrayRef<int64_t> kernel,
                  ArrayRef<int64_t> stride, ArrayRef<int64_t> padding,
                  bool transposed, Location loc);
  /// An empty tensor [count, columns] of `element`.
  Value emptyRows(Value count, int64_t columns, Type element, Location loc) {
    return b.create<tensor::EmptyOp>(
        loc, ArrayRef<int64_t>{ShapedType::kDynamic, columns}, element,
        ValueRange{count});
  }
  static RankedTensorType rowsType(int64_t columns, Type element) {
    return RankedTensorType::get({ShapedType::kDynamic, columns}, element);
  }
  /// `rows` times the constant `matrix` [k, n] (row-major), plus `bias`
  /// [n] when there is one.
  Value multiply(Value rows, ArrayRef<float> matrix, int64_t k, int64_t n,
                 std::optional<std::vector<float>> bias, Location loc);
  /// `rows` [?, n] times `scale` plus `shift` (per column), as
  /// BatchNormalization computes.
  Value scaleAndShift(Value rows, ArrayRef<float> scale, ArrayRef<float> shift,
                      Location loc);
  /// A constant operand of an elementwise op reshaped for rows: a scalar
  /// stays, a per-channel constant becomes [1, C]; null for any other.
  Value rowConstant(Value constant, Location loc);
  Value floats(ArrayRef<int64_t> shape, ArrayRef<float> values, Location loc) {
    return onnx::createFloatConstant(
        b, loc, RankedTensorType::get(shape, b.getF32Type()), values,
        "sparse_weight_" + std::to_string(weights++));
  }

  OpBuilder &b;
  SmallVector<Level> levels;
  DenseMap<Value, SparseValue> values;
  std::map<std::tuple<int, int, SmallVector<int64_t, 7>>, Value> maps;
  int weights = 0;
};

FailureOr<Value> SparseNetworkBuilder::build(func::FuncOp network,
                                             ValueRange inputs) {
  Block &body = network.getBody().front();
  if (body.getNumArguments() != inputs.size())
    return network.emitError("the sparse network takes ")
           << inputs.size() << " inputs, not " << body.getNumArguments();
  for (auto [argument, rows] : llvm::zip(body.getArguments(), inputs))
    values[argument] = {rows, 0};
  for (Operation &op : body.without_terminator())
    if (!op.hasTrait<OpTrait::ConstantLike>() && failed(convert(&op)))
      return failure();
  Operation *terminator = body.getTerminator();
  if (terminator->getNumOperands() != 1)
    return network.emitError("the sparse network gives one output, not ")
           << terminator->getNumOperands();
  FailureOr<SparseValue> output = sparse(terminator->getOperand(0), terminator);
  if (failed(output))
    return failure();
  if (output->level != 0)
    return terminator->emitError("the sparse network's output is not at its "
                                 "input's resolution");
  return output->rows;
}

LogicalResult SparseNetworkBuilder::convert(Operation *op) {
  if (auto conv = dyn_cast<onnx::ConvOp>(op))
    return convert(conv);
  if (auto conv = dyn_cast<onnx::ConvTransposeOp>(op))
    return convert(conv);
  if (auto norm = dyn_cast<onnx::BatchNormalizationOp>(op))
    return convert(norm);
  if (auto concat = dyn_cast<onnx::ConcatOp>(op))
    return convert(concat);
  if (isElementwise(op))
    return convertElementwise(op);
  return op->emitError("a sparse network cannot run ")
         << op->getName().stripDialect()
         << " (only convolutions, BatchNormalization, Concat of channels "
            "and elementwise ops act on sites alone)";
}

FailureOr<SparseValue> SparseNetworkBuilder::sparse(Value value,
                                                    Operation *user) {
  auto found = values.find(value);
  if (found != values.end())
    return found->second;
  return user->emitError("a sparse network's ")
         << user->getName().stripDialect()
         << " takes a tensor that is not computed at the sites (a constant "
            "or a value of an op that has no sparse form)";
}

int SparseNetworkBuilder::coarser(int level, ArrayRef<int64_t> stride,
                                  Location loc) {
  for (auto [i, candidate] : llvm::enumerate(levels))
    if (candidate.parent == level && ArrayRef(candidate.stride) == stride)
      return i;
  SiteSet fine = levels[level].sites;
  int64_t height = llvm::divideCeil(fine.height, stride[0]),
          width = llvm::divideCeil(fine.width, stride[1]);
  auto tableType = RankedTensorType::get({1 + height * width}, b.getI32Type());
  Value table =
      b.create<CoarseSitesOp>(
           loc, TypeRange{tableType}, fine.table,
           b.create<tensor::EmptyOp>(loc, tableType.getShape(), b.getI32Type()),
           b.getDenseI64ArrayAttr({fine.height, fine.width}),
           b.getDenseI64ArrayAttr(stride))
          .getResult()[0];
  Value count = tableCount(b, loc, table);
  levels.push_back(
      {{table, height, width, count}, level, SmallVector<int64_t, 2>(stride)});
  return levels.size() - 1;
}

Value SparseNetworkBuilder::kernelMap(int from, int to,
                                      ArrayRef<int64_t> kernel,
                                      ArrayRef<int64_t> stride,
                                      ArrayRef<int64_t> padding,
                                      bool transposed, Location loc) {
  SmallVector<int64_t, 7> geometry = {kernel[0], kernel[1],  stride[0],
                                      stride[1], padding[0], padding[1],
                                      transposed};
  Value &map = maps[{from, to, geometry}];
  if (map)
    return map;
  const SiteSet &input = levels[from].sites, &output = levels[to].sites;
  int64_t taps = kernel[0] * kernel[1];
  map = b.create<KernelMapOp>(
             loc, TypeRange{rowsType(taps, b.getI32Type())}, input.table,
             output.table, emptyRows(output.count, taps, b.getI32Type(), loc),
             b.getDenseI64ArrayAttr({input.height, input.width}),
             b.getDenseI64ArrayAttr({output.height, output.width}),
             b.getDenseI64ArrayAttr(kernel), b.getDenseI64ArrayAttr(stride),
             b.getDenseI64ArrayAttr(padding),
             transposed ? b.getUnitAttr() : UnitAttr())
            .getResult()[0];
  return map;
}

Value SparseNetworkBuilder::multiply(Value rows, ArrayRef<float> matrix,
                                     int64_t k, int64_t n,
                                     std::optional<std::vector<float>> bias,
                                     Location loc) {
  Type f32 = b.getF32Type();
  Value product = b.create<onnx::MatMulOp>(loc, rowsType(n, f32), rows,
                                           floats({k, n}, matrix, loc));
  if (!bias)
    return product;
  return b.create<onnx::AddOp>(loc, rowsType(n, f32), product,
                               floats({n}, *bias, loc));
}

Value SparseNetworkBuilder::scaleAndShift(Value rows, ArrayRef<float> scale,
                                          ArrayRef<float> shift, Location loc) {
  int64_t n = scale.size();
  Type type = rowsType(n, b.getF32Type());
  Value scaled =
      b.create<onnx::MulOp>(loc, type, rows, floats({1, n}, scale, loc));
  return b.create<onnx::AddOp>(loc, type, scaled, floats({1, n}, shift, loc));
}

template <typename ConvOp>
FailureOr<ConvParts> SparseNetworkBuilder::read(ConvOp op) {
  StringRef name = op->getName().stripDialect();
  FailureOr<SparseValue> input = sparse(op.getX(), op);
  if (failed(input))
    return failure();
  auto filterType = cast<RankedTensorType>(op.getW().getType());
  std::optional<std::vector<float>> filter = onnx::getConstantFloats(op.getW());
  if (!filter || filterType.getRank() != 4)
    return op.emitError("a sparse network's ")
           << name << " needs a constant 4-D f32 filter";
  if (op.getGroup() != 1)
    return op.emitError("a sparse network's ")
           << name << " must not be grouped (group " << op.getGroup() << ")";
  if (llvm::any_of(onnx::intsOr(op.getDilations(), 2, 1),
                   [](int64_t d) { return d != 1; }))
    return op.emitError("a sparse network's ") << name << " must not dilate";
  if (op.getAutoPad() != "NOTSET")
    return op.emitError("a sparse network's ")
           << name << " needs explicit pads, not auto_pad " << op.getAutoPad();
  ConvParts parts{*input, std::move(*filter), std::nullopt, 0, 0, {}, {}, {}};
  // A Conv's filter is [F, C, KH, KW], a ConvTranspose's [C, F, KH, KW].
  bool transposed = isa<onnx::ConvTransposeOp>(op);
  parts.channels = filterType.getDimSize(transposed ? 0 : 1);
  parts.filters = filterType.getDimSize(transposed ? 1 : 0);
  parts.kernel = {filterType.getDimSize(2), filterType.getDimSize(3)};
  parts.stride = onnx::intsOr(op.getStrides(), 2, 1);
  parts.pads = onnx::intsOr(op.getPads(), 4, 0);
  int64_t given = cast<RankedTensorType>(input->rows.getType()).getDimSize(1);
  if (given != parts.channels)
    return op.emitError("a sparse network's ")
           << name << " of " << parts.channels << " channels takes " << given;
  if (op.getB() && !(parts.bias = onnx::getConstantFloats(op.getB())))
    return op.emitError("a sparse network's ")
           << name << " needs a constant bias";
  return parts;
}

LogicalResult SparseNetworkBuilder::convert(onnx::ConvOp op) {
  FailureOr<ConvParts> parts = read(op);
  if (failed(parts))
    return failure();
  const ConvParts &p = *parts;

  Location loc = op.getLoc();
  int output = p.input.level;
  const SiteSet grid = levels[p.input.level].sites;
  if (p.stride[0] == 1 && p.stride[1] == 1) {
    // The input's sites: the kernel centred, the grid kept.
    int64_t halfY = (p.kernel[0] - 1) / 2, halfX = (p.kernel[1] - 1) / 2;
    if (p.kernel[0] % 2 == 0 || p.kernel[1] % 2 == 0 ||
        ArrayRef(p.pads) != ArrayRef<int64_t>{halfY, halfX, halfY, halfX})
      return op.emitError("a sparse network's Conv of stride 1 computes at "
                          "its input's sites: it needs an odd kernel padded "
                          "by half of it each side, not ")
             << p.kernel[0] << "x" << p.kernel[1] << " with pads " << p.pads[0]
             << ", " << p.pads[1] << ", " << p.pads[2] << ", " << p.pads[3];
  } else {
    auto denseExtent = [&](int64_t extent, int axis) {
      return (extent + p.pads[axis] + p.pads[axis + 2] - p.kernel[axis]) /
                 p.stride[axis] +
             1;
    };
    if (grid.height % p.stride[0] || grid.width % p.stride[1] ||
        denseExtent(grid.height, 0) != grid.height / p.stride[0] ||
        denseExtent(grid.width, 1) != grid.width / p.stride[1])
      return op.emitError("a sparse network's strided Conv must divide its "
                          "grid of ")
             << grid.height << "x" << grid.width << " by its stride "
             << p.stride[0] << "x" << p.stride[1] << " (it gives "
             << denseExtent(grid.height, 0) << "x" << denseExtent(grid.width, 1)
             << ")";
    output = coarser(p.input.level, p.stride, loc);
  }

  // The filter as [KH KW C, F]: row (i KW + j) C + c, the rows the
  // gather puts side by side.
  int64_t taps = p.kernel[0] * p.kernel[1];
  std::vector<float> matrix(taps * p.channels * p.filters);
  for (int64_t f = 0; f < p.filters; ++f)
    for (int64_t c = 0; c < p.channels; ++c)
      for (int64_t k = 0; k < taps; ++k)
        matrix[(k * p.channels + c) * p.filters + f] =
            p.filter[(f * p.channels + c) * taps + k];
  Value columns = p.input.rows;
  if (taps != 1 || output != p.input.level) {
    Value map = kernelMap(p.input.level, output, p.kernel, p.stride,
                          {p.pads[0], p.pads[1]}, /*transposed=*/false, loc);
    columns = b.create<SparseIm2ColOp>(
                   loc, TypeRange{rowsType(taps * p.channels, b.getF32Type())},
                   p.input.rows, map,
                   emptyRows(levels[output].sites.count, taps * p.channels,
                             b.getF32Type(), loc))
                  .getResult()[0];
  }
  values[op.getY()] = {
      multiply(columns, matrix, taps * p.channels, p.filters, p.bias, loc),
      output};
  return success();
}

LogicalResult SparseNetworkBuilder::convert(onnx::ConvTransposeOp op) {
  FailureOr<ConvParts> parts = read(op);
  if (failed(parts))
    return failure();
  const ConvParts &p = *parts;

  // It undoes a strided Conv: back onto the finer sites its input's came
  // from, whose grid its dense output must be.
  const Level &from = levels[p.input.level];
  if (from.parent < 0 || ArrayRef(from.stride) != ArrayRef(p.stride))
    return op.emitError("a sparse network's ConvTranspose must return to the "
                        "sites a strided Conv of its stride ")
           << p.stride[0] << "x" << p.stride[1] << " left";
  const SiteSet &fine = levels[from.parent].sites;
  SmallVector<int64_t> extra = onnx::intsOr(op.getOutputPadding(), 2, 0);
  auto denseExtent = [&](int64_t extent, int axis) {
    return (extent - 1) * p.stride[axis] - p.pads[axis] - p.pads[axis + 2] +
           p.kernel[axis] + extra[axis];
  };
  int64_t height = denseExtent(from.sites.height, 0),
          width = denseExtent(from.sites.width, 1);
  if (height != fine.height || width != fine.width)
    return op.emitError("a sparse network's ConvTranspose gives ")
           << height << "x" << width << " where its sites' grid is "
           << fine.height << "x" << fine.width;

  // Every input row times the filters of all offsets, [C, KH KW F]
  // (column (i KW + j) F + f), and each output row the sum of its
  // offsets' products.
  Location loc = op.getLoc();
  int64_t taps = p.kernel[0] * p.kernel[1];
  std::vector<float> matrix(p.channels * taps * p.filters);
  for (int64_t c = 0; c < p.channels; ++c)
    for (int64_t f = 0; f < p.filters; ++f)
      for (int64_t k = 0; k < taps; ++k)
        matrix[c * taps * p.filters + k * p.filters + f] =
            p.filter[(c * p.filters + f) * taps + k];
  Value products = multiply(p.input.rows, matrix, p.channels, taps * p.filters,
                            std::nullopt, loc);
  Value map = kernelMap(p.input.level, from.parent, p.kernel, p.stride,
                        {p.pads[0], p.pads[1]}, /*transposed=*/true, loc);
  Type f32 = b.getF32Type();
  Value sums = b.create<SparseCol2ImOp>(
                    loc, TypeRange{rowsType(p.filters, f32)}, products, map,
                    emptyRows(fine.count, p.filters, f32, loc))
                   .getResult()[0];
  if (p.bias)
    sums = b.create<onnx::AddOp>(loc, rowsType(p.filters, f32), sums,
                                 floats({p.filters}, *p.bias, loc));
  values[op.getY()] = {sums, from.parent};
  return success();
}

LogicalResult SparseNetworkBuilder::convert(onnx::BatchNormalizationOp op) {
  FailureOr<SparseValue> input = sparse(op.getX(), op);
  if (failed(input))
    return failure();
  std::optional<std::vector<float>> scale =
                                        onnx::getConstantFloats(op.getScale()),
                                    shift = onnx::getConstantFloats(op.getB()),
                                    mean = onnx::getConstantFloats(
                                        op.getInputMean()),
                                    variance = onnx::getConstantFloats(
                                        op.getInputVar());
  int64_t channels =
      cast<RankedTensorType>(input->rows.getType()).getDimSize(1);
  auto fits = [&](const std::optional<std::vector<float>> &v) {
    return v && (int64_t)v->size() == channels;
  };
  if (op.getTrainingMode() || !fits(scale) || !fits(shift) || !fits(mean) ||
      !fits(variance))
    return op.emitError("a sparse network's BatchNormalization needs "
                        "inference mode and constant statistics of ")
           << channels << " channels";
  std::vector<float> factor(channels), offset(channels);
  float epsilon = op.getEpsilon().convertToFloat();
  for (int64_t c = 0; c < channels; ++c) {
    factor[c] = (*scale)[c] / std::sqrt((*variance)[c] + epsilon);
    offset[c] = (*shift)[c] - (*mean)[c] * factor[c];
  }
  values[op.getY()] = {scaleAndShift(input->rows, factor, offset, op.getLoc()),
                       input->level};
  return success();
}

LogicalResult SparseNetworkBuilder::convert(onnx::ConcatOp op) {
  int64_t rank = cast<ShapedType>(op.getType()).hasRank()
                     ? cast<ShapedType>(op.getType()).getRank()
                     : 4;
  if (op.getAxis() != 1 && op.getAxis() != 1 - rank)
    return op.emitError("a sparse network's Concat joins channels (axis 1), "
                        "not axis ")
           << op.getAxis();
  SmallVector<Value> parts;
  int level = -1;
  int64_t channels = 0;
  for (Value operand : op.getInputs()) {
    FailureOr<SparseValue> part = sparse(operand, op);
    if (failed(part))
      return failure();
    if (level >= 0 && part->level != level)
      return op.emitError("a sparse network's Concat joins tensors of "
                          "different resolutions");
    level = part->level;
    parts.push_back(part->rows);
    channels += cast<RankedTensorType>(part->rows.getType()).getDimSize(1);
  }
  values[op.getConcatResult()] = {
      b.create<onnx::ConcatOp>(op.getLoc(), rowsType(channels, b.getF32Type()),
                               parts, 1),
      level};
  return success();
}

Value SparseNetworkBuilder::rowConstant(Value constant, Location loc) {
  DenseElementsAttr elements = onnx::getConstantElements(constant);
  if (!elements)
    return {};
  ArrayRef<int64_t> shape = elements.getType().getShape();
  if (shape.empty())
    return onnx::createConstant(b, loc, elements);
  // Right-aligned with [N, C, H, W]: one value per channel at most.
  int64_t rank = shape.size();
  if (rank > 4)
    return {};
  for (int64_t d = 0; d < rank; ++d)
    if (d != rank - 3 && shape[d] != 1)
      return {};
  int64_t channels = rank >= 3 ? shape[rank - 3] : 1;
  return onnx::createConstant(b, loc,
                              elements.reshape(elements.getType().clone(
                                  ArrayRef<int64_t>{1, channels})));
}

LogicalResult SparseNetworkBuilder::convertElementwise(Operation *op) {
  if (op->getNumResults() != 1)
    return op->emitError("a sparse network's ")
           << op->getName().stripDialect() << " must have one result";
  SmallVector<Value> operands;
  int level = -1;
  int64_t channels = 1;
  for (Value operand : op->getOperands()) {
    auto found = values.find(operand);
    if (found != values.end()) {
      if (level >= 0 && found->second.level != level)
        return op->emitError("a sparse network's ")
               << op->getName().stripDialect()
               << " joins tensors of different resolutions";
      level = found->second.level;
      operands.push_back(found->second.rows);
      channels = std::max(
          channels,
          cast<RankedTensorType>(found->second.rows.getType()).getDimSize(1));
      continue;
    }
    Value constant = rowConstant(operand, op->getLoc());
    if (!constant)
      return op->emitError("a sparse network's ")
             << op->getName().stripDialect()
             << " takes a tensor that is neither computed at the sites nor a "
                "constant of one value per channel";
    operands.push_back(constant);
    if (auto type = dyn_cast<RankedTensorType>(constant.getType());
        type && type.getRank() == 2)
      channels = std::max(channels, type.getDimSize(1));
  }
  if (level < 0)
    return op->emitError("a sparse network's ")
           << op->getName().stripDialect()
           << " must take a tensor computed at the sites";
  OperationState state(
      op->getLoc(), op->getName(), operands,
      TypeRange{rowsType(channels, getElementTypeOrSelf(op->getResult(0)))},
      op->getAttrs());
  values[op->getResult(0)] = {b.create(state)->getResult(0), level};
  return success();
}

} // namespace

Value mlir::kiln::tableCount(OpBuilder &b, Location loc, Value table) {
  return b.create<arith::IndexCastOp>(
      loc, b.getIndexType(),
      b.create<tensor::ExtractOp>(
          loc, table, ValueRange{b.create<arith::ConstantIndexOp>(loc, 0)}));
}

FailureOr<Value> mlir::kiln::buildSparseNetwork(OpBuilder &b,
                                                func::FuncOp network,
                                                const SiteSet &sites,
                                                ValueRange inputs) {
  return SparseNetworkBuilder(b, sites).build(network, inputs);
}
