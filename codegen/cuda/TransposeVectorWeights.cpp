//===- TransposeVectorWeights.cpp - kiln-cuda-transpose-vector-weights ----===//
//
// A decoder step multiplies one row of activations by each weight matrix:
// y[n] = sum_k x[k] * W[k, n]. The CUDA code gives each output a warp whose
// lanes split k; with W stored as exported, [K, N], neighbouring lanes read
// elements N apart. Storing W transposed, [N, K], at compile time makes
// each warp's reads one contiguous row.
//
//===----------------------------------------------------------------------===//

#include "codegen/cuda/Gemm.h"
#include "codegen/cuda/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

namespace mlir::kiln {
#define GEN_PASS_DEF_CUDATRANSPOSEVECTORWEIGHTSPASS
#include "codegen/cuda/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Narrower than this, the GEMM kernels leave a product to the warps
/// (codegen/cuda/Gemm.cpp's kMinGemmSide).
constexpr int64_t kMinGemmRows = 16;

/// A constant's f32 values, read in place.
std::optional<std::vector<float>> constantFloats(arith::ConstantOp constant) {
  auto type = dyn_cast<RankedTensorType>(constant.getType());
  if (!type || !type.getElementType().isF32() || !type.hasStaticShape())
    return std::nullopt;
  size_t count = size_t(type.getNumElements());
  if (auto dense = dyn_cast<DenseFPElementsAttr>(constant.getValue())) {
    std::vector<float> values;
    values.reserve(count);
    for (const APFloat &value : dense.getValues<APFloat>())
      values.push_back(value.convertToFloat());
    return values;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue());
  AsmResourceBlob *blob =
      resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob || blob->getData().size() != count * sizeof(float))
    return std::nullopt;
  std::vector<float> values(count);
  std::memcpy(values.data(), blob->getData().data(), count * sizeof(float));
  return values;
}

/// The rows of the product the weight at `weightInput` does not index: the
/// extents of the parallel loops only the other input has, or nothing when
/// one is known only at run time.
std::optional<int64_t> rowsOf(linalg::GenericOp op, unsigned weightInput) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  AffineMap weightMap = op.getIndexingMapsArray()[weightInput];
  int64_t rows = 1;
  for (auto [loop, iterator] : llvm::enumerate(op.getIteratorTypesArray())) {
    if (iterator != utils::IteratorType::parallel ||
        weightMap.isFunctionOfDim(loop))
      continue;
    if (ShapedType::isDynamic(ranges[loop]))
      return std::nullopt;
    rows *= ranges[loop];
  }
  return rows;
}

void transposeWeights(linalg::GenericOp op) {
  for (unsigned input = 0; input < 2; ++input) {
    auto constant =
        op.getDpsInputOperand(input)->get().getDefiningOp<arith::ConstantOp>();
    AffineMap map = op.getIndexingMapsArray()[input];
    if (!constant || map.getNumResults() != 2)
      continue;
    auto k = dyn_cast<AffineDimExpr>(map.getResult(0));
    auto n = dyn_cast<AffineDimExpr>(map.getResult(1));
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    if (!k || !n ||
        iterators[k.getPosition()] != utils::IteratorType::reduction ||
        iterators[n.getPosition()] != utils::IteratorType::parallel)
      continue;
    std::optional<int64_t> rows = rowsOf(op, input);
    if (rows && *rows >= kMinGemmRows)
      continue;
    std::optional<std::vector<float>> values = constantFloats(constant);
    if (!values)
      continue;
    auto type = cast<RankedTensorType>(constant.getType());
    int64_t kSize = type.getDimSize(0), nSize = type.getDimSize(1);
    std::vector<float> transposed(values->size());
    for (int64_t kk = 0; kk < kSize; ++kk)
      for (int64_t nn = 0; nn < nSize; ++nn)
        transposed[nn * kSize + kk] = (*values)[kk * nSize + nn];
    auto transposedType =
        RankedTensorType::get({nSize, kSize}, type.getElementType());
    auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        {reinterpret_cast<const char *>(transposed.data()),
         transposed.size() * sizeof(float)},
        64);
    OpBuilder builder(op);
    Value weight = builder.create<arith::ConstantOp>(
        constant.getLoc(),
        DenseResourceElementsAttr::get(transposedType, "transposed_weight",
                                       std::move(blob)));
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    maps[input] = AffineMap::get(map.getNumDims(), 0, {n, k}, op.getContext());
    op.setIndexingMapsAttr(builder.getAffineMapArrayAttr(maps));
    op.getDpsInputOperand(input)->set(weight);
    if (constant->use_empty())
      constant->erase();
    return;
  }
}

struct CudaTransposeVectorWeightsPass
    : kiln::impl::CudaTransposeVectorWeightsPassBase<
          CudaTransposeVectorWeightsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> products;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.hasPureTensorSemantics() && op.getNumDpsInputs() == 2 &&
          cuda::isMultiplyAccumulate(op))
        products.push_back(op);
    });
    for (linalg::GenericOp op : products)
      transposeWeights(op);
  }
};

} // namespace
