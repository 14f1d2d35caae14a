//===- Gemm.cpp - contractions that run as tiled GEMM kernels -------------===//

#include "codegen/cuda/Gemm.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::kiln::cuda;

namespace {
/// Below this many multiply-adds the per-element kernel is as good.
constexpr int64_t kMinGemmWork = 4096;
/// The grid's y and z extents are limited to this.
constexpr int64_t kMaxGridYZ = 65535;
} // namespace

std::optional<GemmPrecision>
mlir::kiln::cuda::parseGemmPrecision(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<GemmPrecision>>(name)
      .Case("fp32", GemmPrecision::Fp32)
      .Case("tf32", GemmPrecision::Tf32)
      .Case("fp16", GemmPrecision::Fp16)
      .Case("bf16", GemmPrecision::Bf16)
      .Default(std::nullopt);
}

int64_t GemmShape::batch() const {
  int64_t count = 1;
  for (unsigned loop : batchLoops)
    count *= loopSizes[loop];
  return count;
}

namespace {

/// The operand's element offset from constant indices and its stride along
/// each loop, from its static layout and indexing map.
std::optional<GemmShape::Layout> layoutOf(linalg::LinalgOp op,
                                          OpOperand &operand) {
  auto type = cast<MemRefType>(operand.get().getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return std::nullopt;
  GemmShape::Layout layout;
  layout.loops.assign(op.getNumLoops(), 0);
  AffineMap map = op.getMatchingIndexingMap(&operand);
  for (auto [position, expr] : llvm::enumerate(map.getResults())) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr))
      layout.loops[dim.getPosition()] += strides[position];
    else if (auto constant = dyn_cast<AffineConstantExpr>(expr))
      layout.offset += constant.getValue() * strides[position];
    else
      return std::nullopt;
  }
  return layout;
}

/// Folds `loops` into one dimension: ordered outermost first (by the first
/// layout's strides), each loop's stride must be the next one's times its
/// size in every layout. Returns the size and sets each layout's stride.
std::optional<int64_t> collapse(SmallVector<unsigned> loops,
                                ArrayRef<int64_t> sizes,
                                ArrayRef<GemmShape::Layout *> layouts,
                                int64_t GemmShape::Layout::*stride) {
  llvm::sort(loops, [&](unsigned x, unsigned y) {
    return layouts[0]->loops[x] > layouts[0]->loops[y];
  });
  int64_t size = 1;
  for (size_t i = 0; i < loops.size(); ++i) {
    size *= sizes[loops[i]];
    if (i + 1 == loops.size())
      continue;
    for (GemmShape::Layout *layout : layouts)
      if (layout->loops[loops[i]] !=
          layout->loops[loops[i + 1]] * sizes[loops[i + 1]])
        return std::nullopt;
  }
  for (GemmShape::Layout *layout : layouts)
    layout->*stride = layout->loops[loops.back()];
  return size;
}

} // namespace

std::optional<GemmShape> mlir::kiln::cuda::matchGemm(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.empty() || dims->n.empty() ||
      dims->k.size() != 1)
    return std::nullopt;
  Type element;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.hasStaticShape())
      return std::nullopt;
    Type current = type.getElementType();
    if (!current.isF32() && !current.isF16() && !current.isBF16())
      return std::nullopt;
    if (element && element != current)
      return std::nullopt;
    element = current;
  }
  GemmShape shape;
  shape.loopSizes = op.getStaticLoopRanges();
  if (llvm::any_of(shape.loopSizes, ShapedType::isDynamic))
    return std::nullopt;
  std::optional<GemmShape::Layout> a =
      layoutOf(op, *op.getDpsInputOperand(0));
  std::optional<GemmShape::Layout> b =
      layoutOf(op, *op.getDpsInputOperand(1));
  std::optional<GemmShape::Layout> c = layoutOf(op, *op.getDpsInitOperand(0));
  if (!a || !b || !c)
    return std::nullopt;
  shape.a = *a;
  shape.b = *b;
  shape.c = *c;
  std::optional<int64_t> m =
      collapse(SmallVector<unsigned>(dims->m.begin(), dims->m.end()),
               shape.loopSizes, {&shape.c, &shape.a}, &GemmShape::Layout::m);
  std::optional<int64_t> n =
      collapse(SmallVector<unsigned>(dims->n.begin(), dims->n.end()),
               shape.loopSizes, {&shape.c, &shape.b}, &GemmShape::Layout::n);
  if (!m || !n)
    return std::nullopt;
  shape.m = *m;
  shape.n = *n;
  shape.k = shape.loopSizes[dims->k[0]];
  shape.a.k = shape.a.loops[dims->k[0]];
  shape.b.k = shape.b.loops[dims->k[0]];
  shape.batchLoops.assign(dims->batch.begin(), dims->batch.end());
  if (shape.m * shape.n * shape.k < kMinGemmWork ||
      shape.batch() > kMaxGridYZ || (shape.m + 63) / 64 > kMaxGridYZ)
    return std::nullopt;
  return shape;
}
