//===- Indexing.cpp - Gather and Slice to linalg/tensor -------------------===//
//
// Gather reads data at run-time indices: one linalg.generic over the result
// whose body extracts data[outer..., index, inner...] (negative indices
// count from the end, as ONNX says). Slice with constant starts, ends, axes
// and positive steps on a static input is one tensor.extract_slice, with
// ONNX's clamping done at compile time; otherwise the clamping happens at
// run time and a linalg.generic reads the strided elements. GatherElements reads
// data[i with axis replaced by indices[i]] for every position i of indices.
// Trilu keeps the elements on one side of the k-th diagonal of the last two
// dimensions and zeroes the rest.
//
//===----------------------------------------------------------------------===//

#include "codegen/linalg/LinalgBuilders.h"
#include "codegen/linalg/OnnxToLinalg.h"
#include "codegen/linalg/Passes.h"

#include "dialects/onnx/OnnxConstants.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Gather of one constant, in-range index: a slice, which bufferizes to a
/// view of the data instead of a copy (a decoder's per-layer cache).
Value sliceForConstantIndex(PatternRewriter &rewriter, onnx::GatherOp op) {
  auto dataType = cast<RankedTensorType>(op.getData().getType());
  auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
  std::optional<SmallVector<int64_t>> index =
      onnx::getConstantInts(op.getIndices());
  if (!dataType.hasStaticShape() || indicesType.getRank() > 1 || !index ||
      index->size() != 1)
    return {};
  auto axis = static_cast<int64_t>(op.getAxis());
  if (axis < 0)
    axis += dataType.getRank();
  int64_t extent = dataType.getDimSize(axis);
  int64_t at = (*index)[0] < 0 ? (*index)[0] + extent : (*index)[0];
  if (at < 0 || at >= extent)
    return {};
  SmallVector<int64_t> offsets(dataType.getRank(), 0);
  SmallVector<int64_t> sizes(dataType.getShape());
  SmallVector<int64_t> strides(dataType.getRank(), 1);
  offsets[axis] = at;
  sizes[axis] = 1;
  // A scalar index drops the axis: the rank-reducing form of the slice.
  return rewriter.create<tensor::ExtractSliceOp>(
      op.getLoc(), cast<RankedTensorType>(op.getType()), op.getData(),
      ValueRange{}, ValueRange{}, ValueRange{},
      rewriter.getDenseI64ArrayAttr(offsets), rewriter.getDenseI64ArrayAttr(sizes),
      rewriter.getDenseI64ArrayAttr(strides));
}

struct LowerGather : OpRewritePattern<onnx::GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GatherOp op,
                                PatternRewriter &rewriter) const override {
    if (checkIndexingLowering(op))
      return failure();
    if (Value slice = sliceForConstantIndex(rewriter, op)) {
      rewriter.replaceOp(op, slice);
      return success();
    }
    Location loc = op.getLoc();
    MLIRContext *context = getContext();
    Value data = op.getData(), indices = op.getIndices();
    auto dataType = cast<RankedTensorType>(data.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += dataType.getRank();
    int64_t indexRank = indicesType.getRank();
    int64_t rank = resultType.getRank();

    SmallVector<Value> sizes;
    for (int64_t i = 0; i < rank; ++i) {
      if (!resultType.isDynamicDim(i))
        continue;
      if (i < axis)
        sizes.push_back(rewriter.create<tensor::DimOp>(loc, data, i));
      else if (i < axis + indexRank)
        sizes.push_back(rewriter.create<tensor::DimOp>(loc, indices, i - axis));
      else
        sizes.push_back(
            rewriter.create<tensor::DimOp>(loc, data, i - indexRank + 1));
    }
    Value empty = rewriter.create<tensor::EmptyOp>(
        loc, resultType.getShape(), resultType.getElementType(), sizes);
    SmallVector<AffineExpr> indexExprs;
    for (int64_t i = 0; i < indexRank; ++i)
      indexExprs.push_back(getAffineDimExpr(axis + i, context));
    Value extent = rewriter.create<tensor::DimOp>(loc, data, axis);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, resultType, indices, empty,
        ArrayRef{AffineMap::get(rank, 0, indexExprs, context),
                 rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value index = dimensionIndex(b, l, args[0], extent);
          SmallVector<Value> at;
          for (int64_t i = 0; i < axis; ++i)
            at.push_back(b.create<linalg::IndexOp>(l, i));
          at.push_back(index);
          for (int64_t i = axis + indexRank; i < rank; ++i)
            at.push_back(b.create<linalg::IndexOp>(l, i));
          b.create<linalg::YieldOp>(
              l, b.create<tensor::ExtractOp>(l, data, at).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

struct LowerGatherElements : OpRewritePattern<onnx::GatherElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GatherElementsOp op,
                                PatternRewriter &rewriter) const override {
    if (checkIndexingLowering(op))
      return failure();
    Location loc = op.getLoc();
    Value data = op.getData(), indices = op.getIndices();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = resultType.getRank();
    int64_t axis = (int64_t)op.getAxis();
    if (axis < 0)
      axis += rank;
    Value empty = rewriter.create<tensor::EmptyOp>(
        loc, resultType.getShape(), resultType.getElementType(),
        dynamicSizesOf(rewriter, loc, indices));
    Value extent = rewriter.create<tensor::DimOp>(loc, data, axis);
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, resultType, indices, empty, ArrayRef{identity, identity},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> at;
          for (int64_t i = 0; i < rank; ++i)
            at.push_back(i == axis ? dimensionIndex(b, l, args[0], extent)
                                   : b.create<linalg::IndexOp>(l, i).getResult());
          b.create<linalg::YieldOp>(
              l, b.create<tensor::ExtractOp>(l, data, at).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

struct LowerGatherND : OpRewritePattern<onnx::GatherNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::GatherNDOp op,
                                PatternRewriter &rewriter) const override {
    if (checkIndexingLowering(op))
      return failure();
    Location loc = op.getLoc();
    Value data = op.getData(), indices = op.getIndices();
    auto dataType = cast<RankedTensorType>(data.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = resultType.getRank();
    int64_t batch = (int64_t)op.getBatchDims();
    int64_t tuple = indicesType.getShape().back();
    int64_t outer = indicesType.getRank() - 1;
    // out[i..., j...] = data[i[:batch]..., indices[i..., :]..., j...]
    Value result = generateTensor(
        rewriter, loc, resultType, {},
        [&](OpBuilder &b, Location l) -> Value {
          SmallVector<Value> outerIndex, at;
          for (int64_t i = 0; i < outer; ++i)
            outerIndex.push_back(b.create<linalg::IndexOp>(l, i));
          for (int64_t i = 0; i < batch; ++i)
            at.push_back(outerIndex[i]);
          SmallVector<Value> read = outerIndex;
          read.push_back(Value());
          for (int64_t k = 0; k < tuple; ++k) {
            read.back() = b.create<arith::ConstantIndexOp>(l, k);
            Value index = b.create<tensor::ExtractOp>(l, indices, read);
            Value extent = b.create<arith::ConstantIndexOp>(
                l, dataType.getDimSize(batch + k));
            at.push_back(dimensionIndex(b, l, index, extent));
          }
          for (int64_t i = outer; i < rank; ++i)
            at.push_back(b.create<linalg::IndexOp>(l, i));
          return b.create<tensor::ExtractOp>(l, data, at);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerTrilu : OpRewritePattern<onnx::TriluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::TriluOp op,
                                PatternRewriter &rewriter) const override {
    if (checkIndexingLowering(op))
      return failure();
    Location loc = op.getLoc();
    Value input = op.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    int64_t rank = type.getRank();
    Value k = rewriter.create<arith::ConstantIntOp>(loc, 0, 64);
    if (Value given = op.getK()) {
      auto kType = cast<RankedTensorType>(given.getType());
      SmallVector<Value> zeros(kType.getRank(),
                               rewriter.create<arith::ConstantIndexOp>(loc, 0));
      k = rewriter.create<tensor::ExtractOp>(loc, given, zeros);
    }
    bool upper = op.getUpper() != 0;
    Value empty = rewriter.create<tensor::EmptyOp>(
        loc, type.getShape(), type.getElementType(),
        dynamicSizesOf(rewriter, loc, input));
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, input, empty, ArrayRef{identity, identity},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          auto position = [&](int64_t dim) {
            return b.create<arith::IndexCastOp>(
                l, b.getI64Type(), b.create<linalg::IndexOp>(l, dim));
          };
          // Above the k-th diagonal: column - row >= k.
          Value offset = b.create<arith::SubIOp>(l, position(rank - 1),
                                                 position(rank - 2));
          Value keep = b.create<arith::CmpIOp>(
              l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
              offset, k);
          Value zero = b.create<arith::ConstantOp>(
              l, b.getZeroAttr(type.getElementType()));
          b.create<linalg::YieldOp>(
              l, b.create<arith::SelectOp>(l, keep, args[0], zero).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// Static offsets, sizes and strides of a Slice, or nullopt.
struct SliceWindow {
  SmallVector<int64_t> offsets, sizes, strides;
};

std::optional<SliceWindow> sliceWindow(onnx::SliceOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getData().getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  auto starts = onnx::getConstantInts(op.getStarts());
  auto ends = onnx::getConstantInts(op.getEnds());
  if (!starts || !ends || starts->size() != ends->size())
    return std::nullopt;
  int64_t rank = type.getRank();
  SmallVector<int64_t> axes, steps(starts->size(), 1);
  if (op.getAxes()) {
    auto given = onnx::getConstantInts(op.getAxes());
    if (!given || given->size() != starts->size())
      return std::nullopt;
    axes = *given;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(i);
  }
  if (op.getSteps()) {
    auto given = onnx::getConstantInts(op.getSteps());
    if (!given || given->size() != starts->size())
      return std::nullopt;
    steps = *given;
  }
  SliceWindow window;
  window.offsets.assign(rank, 0);
  window.sizes.assign(type.getShape().begin(), type.getShape().end());
  window.strides.assign(rank, 1);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t axis = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (axis < 0 || axis >= rank || steps[i] <= 0)
      return std::nullopt;
    int64_t dim = type.getDimSize(axis);
    // ONNX clamps starts to [0, dim] and ends to [0, dim] for positive steps.
    auto clampIndex = [&](int64_t v) {
      if (v < 0)
        v += dim;
      return std::clamp<int64_t>(v, 0, dim);
    };
    int64_t start = clampIndex((*starts)[i]), end = clampIndex((*ends)[i]);
    window.offsets[axis] = start;
    window.sizes[axis] =
        end > start ? (end - start + steps[i] - 1) / steps[i] : 0;
    window.strides[axis] = steps[i];
  }
  return window;
}

/// How many axes a Slice slices (the length of its starts), when known.
std::optional<int64_t> sliceCount(onnx::SliceOp op) {
  auto starts = dyn_cast<RankedTensorType>(op.getStarts().getType());
  if (!starts || starts.getRank() != 1 || starts.isDynamicDim(0))
    return std::nullopt;
  return starts.getDimSize(0);
}

/// Slice with run-time starts, ends, axes or steps (negative steps too):
/// the bounds are found and clamped as ONNX says at run time, and one
/// linalg.generic reads data[start + i * step] along each axis.
Value lowerRuntimeSlice(OpBuilder &b, Location loc, onnx::SliceOp op) {
  Value data = op.getData();
  auto resultType = cast<RankedTensorType>(op.getType());
  int64_t rank = resultType.getRank();
  int64_t count = *sliceCount(op);
  std::optional<SmallVector<int64_t>> constantAxes;
  if (op.getAxes())
    constantAxes = onnx::getConstantInts(op.getAxes());
  else
    constantAxes = llvm::to_vector(llvm::seq<int64_t>(0, count));
  auto i64 = [&](int64_t v) -> Value {
    return b.create<arith::ConstantIntOp>(loc, v, 64);
  };
  auto read = [&](Value vector, int64_t k) -> Value {
    Value at = b.create<arith::ConstantIndexOp>(loc, k);
    Value value = b.create<tensor::ExtractOp>(loc, vector, at);
    return value.getType().isInteger(64)
               ? value
               : b.create<arith::ExtSIOp>(loc, b.getI64Type(), value);
  };
  auto clamp = [&](Value v, Value low, Value high) -> Value {
    return b.create<arith::MaxSIOp>(loc, b.create<arith::MinSIOp>(loc, v, high),
                                    low);
  };
  auto select = [&](Value c, Value x, Value y) -> Value {
    return b.create<arith::SelectOp>(loc, c, x, y);
  };
  Value zero = i64(0);
  SmallVector<Value> starts(rank), steps(rank), extents(rank), sizes(rank);
  for (int64_t d = 0; d < rank; ++d) {
    Value dim = b.create<arith::IndexCastOp>(
        loc, b.getI64Type(), b.create<tensor::DimOp>(loc, data, d));
    extents[d] = dim;
    // The entry of starts/ends/steps for this axis, if any: the last match
    // wins (ONNX forbids repeats).
    Value start = zero, end = dim, step = i64(1);
    for (int64_t k = 0; k < count; ++k) {
      Value matches;
      if (constantAxes) {
        int64_t axis = (*constantAxes)[k];
        if ((axis < 0 ? axis + rank : axis) != d)
          continue;
        matches = b.create<arith::ConstantIntOp>(loc, 1, 1);
      } else {
        Value axis = read(op.getAxes(), k);
        Value negative =
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, axis, zero);
        axis = select(negative, b.create<arith::AddIOp>(loc, axis, i64(rank)),
                      axis);
        matches = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, axis,
                                          i64(d));
      }
      start = select(matches, read(op.getStarts(), k), start);
      end = select(matches, read(op.getEnds(), k), end);
      if (op.getSteps())
        step = select(matches, read(op.getSteps(), k), step);
    }
    auto wrap = [&](Value v) -> Value {
      Value negative =
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, v, zero);
      return select(negative, b.create<arith::AddIOp>(loc, v, dim), v);
    };
    start = wrap(start);
    end = wrap(end);
    Value forward =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, step, zero);
    Value last = b.create<arith::SubIOp>(loc, dim, i64(1));
    start = select(forward, clamp(start, zero, dim), clamp(start, zero, last));
    end = select(forward, clamp(end, zero, dim), clamp(end, i64(-1), last));
    // ceil((end - start) / step), at least 0, for either sign of step; a
    // zero step (invalid) reads one element rather than divide by zero.
    Value isZero =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, step, zero);
    step = select(isZero, i64(1), step);
    Value size = b.create<arith::CeilDivSIOp>(
        loc, b.create<arith::SubIOp>(loc, end, start), step);
    sizes[d] = b.create<arith::MaxSIOp>(loc, size, zero);
    starts[d] = start;
    steps[d] = step;
  }
  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0; i < rank; ++i)
    if (resultType.isDynamicDim(i))
      dynamicSizes.push_back(
          b.create<arith::IndexCastOp>(loc, b.getIndexType(), sizes[i]));
  Value generic = generateTensor(
      b, loc, resultType, dynamicSizes,
      [&](OpBuilder &nb, Location l) -> Value {
        SmallVector<Value> at;
        for (int64_t i = 0; i < rank; ++i) {
          Value index = nb.create<arith::IndexCastOp>(
              l, nb.getI64Type(), nb.create<linalg::IndexOp>(l, i));
          Value source = nb.create<arith::AddIOp>(
              l, starts[i], nb.create<arith::MulIOp>(l, index, steps[i]));
          // Stay inside data even if the result type promised more.
          Value last = nb.create<arith::SubIOp>(
              l, extents[i], nb.create<arith::ConstantIntOp>(l, 1, 64));
          source = nb.create<arith::MaxSIOp>(
              l, nb.create<arith::MinSIOp>(l, source, last),
              nb.create<arith::ConstantIntOp>(l, 0, 64));
          at.push_back(
              nb.create<arith::IndexCastOp>(l, nb.getIndexType(), source));
        }
        return nb.create<tensor::ExtractOp>(l, data, at).getResult();
      });
  return generic;
}

struct LowerSlice : OpRewritePattern<onnx::SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(onnx::SliceOp op,
                                PatternRewriter &rewriter) const override {
    if (checkIndexingLowering(op))
      return failure();
    std::optional<SliceWindow> constant = sliceWindow(op);
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!constant || resultType.getShape() != ArrayRef(constant->sizes)) {
      rewriter.replaceOp(op, lowerRuntimeSlice(rewriter, op.getLoc(), op));
      return success();
    }
    SliceWindow window = *constant;
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, cast<RankedTensorType>(op.getType()), op.getData(), ValueRange{},
        ValueRange{}, ValueRange{}, rewriter.getDenseI64ArrayAttr(window.offsets),
        rewriter.getDenseI64ArrayAttr(window.sizes),
        rewriter.getDenseI64ArrayAttr(window.strides));
    return success();
  }
};

} // namespace

std::optional<std::string> mlir::kiln::checkIndexingLowering(Operation *op) {
  if (auto gather = dyn_cast<onnx::GatherElementsOp>(op)) {
    auto data = dyn_cast<RankedTensorType>(gather.getData().getType());
    auto indices = dyn_cast<RankedTensorType>(gather.getIndices().getType());
    auto result = dyn_cast<RankedTensorType>(gather.getType());
    if (!data || !indices || !result)
      return std::string("the ranks of its operands and result must be known");
    if (data.getRank() != indices.getRank() ||
        result.getRank() != data.getRank() || data.getRank() == 0)
      return std::string("its data, indices and result must share a rank");
    int64_t axis = (int64_t)gather.getAxis();
    if (axis < -data.getRank() || axis >= data.getRank())
      return std::string("its axis is out of range");
    if (result.getElementType() != data.getElementType() ||
        !indices.getElementType().isSignlessInteger())
      return std::string("its element types do not fit");
    return std::nullopt;
  }
  if (auto gather = dyn_cast<onnx::GatherNDOp>(op)) {
    auto data = dyn_cast<RankedTensorType>(gather.getData().getType());
    auto indices = dyn_cast<RankedTensorType>(gather.getIndices().getType());
    auto result = dyn_cast<RankedTensorType>(gather.getType());
    if (!data || !indices || !result || !data.hasStaticShape() ||
        !indices.hasStaticShape() || !result.hasStaticShape())
      return std::string("its shapes must be static for now");
    int64_t batch = (int64_t)gather.getBatchDims();
    int64_t tuple = indices.getRank() ? indices.getShape().back() : 0;
    if (indices.getRank() < 1 || tuple < 1 || batch + tuple > data.getRank() ||
        result.getRank() != indices.getRank() - 1 + data.getRank() - batch -
                                 tuple ||
        llvm::is_contained(data.getShape(), 0))
      return std::string("its indices do not fit its data");
    return std::nullopt;
  }
  if (auto trilu = dyn_cast<onnx::TriluOp>(op)) {
    auto type = dyn_cast<RankedTensorType>(trilu.getInput().getType());
    if (!type || type.getRank() < 2)
      return std::string("its input needs a known rank of 2 or more");
    if (trilu.getType() != type)
      return std::string("its result type differs from its input type");
    if (Value k = trilu.getK()) {
      auto kType = dyn_cast<RankedTensorType>(k.getType());
      if (!kType || kType.getNumElements() != 1 ||
          !kType.getElementType().isInteger(64))
        return std::string("its k must be one int64");
    }
    return std::nullopt;
  }
  if (auto gather = dyn_cast<onnx::GatherOp>(op)) {
    auto data = dyn_cast<RankedTensorType>(gather.getData().getType());
    auto indices = dyn_cast<RankedTensorType>(gather.getIndices().getType());
    auto result = dyn_cast<RankedTensorType>(gather.getType());
    if (!data || !indices || !result)
      return std::string("the ranks of its operands and result must be known");
    if (result.getRank() != data.getRank() + indices.getRank() - 1)
      return std::string("its result rank does not follow Gather");
    if (result.getElementType() != data.getElementType())
      return std::string("its data and result differ in element type");
    return std::nullopt;
  }
  if (auto slice = dyn_cast<onnx::SliceOp>(op)) {
    auto data = dyn_cast<RankedTensorType>(slice.getData().getType());
    auto result = dyn_cast<RankedTensorType>(slice.getType());
    if (!data || !result || data.getRank() != result.getRank())
      return std::string("the ranks of its data and result must be known");
    if (!sliceCount(slice))
      return std::string("its starts must be a vector of known length");
    for (Value bound : {slice.getEnds(), slice.getSteps(), slice.getAxes()}) {
      auto type = bound ? dyn_cast<RankedTensorType>(bound.getType())
                        : RankedTensorType();
      if (bound && (!type || type.getShape() !=
                                 cast<RankedTensorType>(
                                     slice.getStarts().getType())
                                     .getShape()))
        return std::string("its ends, axes and steps must match its starts");
    }
    return std::nullopt;
  }
  return std::string();
}

void mlir::kiln::populateIndexingLowering(RewritePatternSet &patterns) {
  patterns.add<LowerGather, LowerGatherElements, LowerGatherND, LowerSlice,
               LowerTrilu>(patterns.getContext());
}
