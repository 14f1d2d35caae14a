//===- Gemm.cpp - multiply-accumulates that run as tiled GEMM kernels -----===//
//
// Any linalg op whose body is `acc + x * y` and whose indices are affine sums
// of the loops (matmul, batched and transposed products, convolutions with
// strides, dilations and groups) is a GEMM once each loop is sorted by the
// operands that depend on it: reduction loops are K, parallel loops only A
// depends on are M, only B depends on are N, and both are batch.
//
//===----------------------------------------------------------------------===//

#include "codegen/cuda/Gemm.h"

#include "codegen/common/FourBitProducts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringSwitch.h"

#include <limits>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::cuda;

namespace {
/// Below this many multiply-adds the per-element kernel is as good.
constexpr int64_t kMinGemmWork = 4096;
/// Narrower than this in M or N, most of a 64x64 tile would be idle (a
/// depthwise convolution, a matrix-vector product): per-element is better.
constexpr int64_t kMinGemmSide = 16;
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

int64_t GemmShape::size(ArrayRef<GemmLoop> loops) {
  int64_t count = 1;
  for (const GemmLoop &loop : loops)
    count *= loop.size;
  return count;
}

/// Whether the body is `yield out + in0 * in1` (in either order).
bool mlir::kiln::cuda::isMultiplyAccumulate(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  Value accumulator = body->getArgument(2);
  Value x = body->getArgument(0), y = body->getArgument(1);
  Operation *add = yield.getOperand(0).getDefiningOp();
  if (!add || !isa<arith::AddFOp, arith::AddIOp>(add))
    return false;
  Value lhs = add->getOperand(0), rhs = add->getOperand(1);
  if (lhs != accumulator && rhs != accumulator)
    return false;
  Operation *multiply = (lhs == accumulator ? rhs : lhs).getDefiningOp();
  bool isFloat = isa<arith::AddFOp>(add);
  if (!multiply ||
      (isFloat ? !isa<arith::MulFOp>(multiply) : !isa<arith::MulIOp>(multiply)))
    return false;
  // Integer operands may be sign-extended to the accumulator first.
  auto operandOf = [](Value factor) {
    if (auto extend = factor.getDefiningOp<arith::ExtSIOp>())
      return extend.getIn();
    return factor;
  };
  Value p = multiply->getOperand(0), q = multiply->getOperand(1);
  if (!isFloat)
    p = operandOf(p), q = operandOf(q);
  size_t expected =
      3 + (p != multiply->getOperand(0)) + (q != multiply->getOperand(1));
  return body->getOperations().size() == expected &&
         ((p == x && q == y) || (p == y && q == x));
}

namespace {

/// Adds `expr`'s coefficient of each loop, times `scale`, to `coefficients`
/// and its constant to `constant`; false unless it is an affine sum of
/// loops times constants.
bool addLinearTerms(AffineExpr expr, int64_t scale,
                    SmallVectorImpl<int64_t> &coefficients, int64_t &constant) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
    coefficients[dim.getPosition()] += scale;
    return true;
  }
  if (auto value = dyn_cast<AffineConstantExpr>(expr)) {
    constant += scale * value.getValue();
    return true;
  }
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary)
    return false;
  if (binary.getKind() == AffineExprKind::Add)
    return addLinearTerms(binary.getLHS(), scale, coefficients, constant) &&
           addLinearTerms(binary.getRHS(), scale, coefficients, constant);
  if (binary.getKind() != AffineExprKind::Mul)
    return false;
  if (auto factor = dyn_cast<AffineConstantExpr>(binary.getRHS()))
    return addLinearTerms(binary.getLHS(), scale * factor.getValue(),
                          coefficients, constant);
  if (auto factor = dyn_cast<AffineConstantExpr>(binary.getLHS()))
    return addLinearTerms(binary.getRHS(), scale * factor.getValue(),
                          coefficients, constant);
  return false;
}

/// The operand's element stride along each loop and its constant offset,
/// from its static layout and indexing map.
bool stridesOf(linalg::LinalgOp op, OpOperand &operand,
               SmallVectorImpl<int64_t> &loopStrides, int64_t &offset) {
  auto type = cast<MemRefType>(operand.get().getType());
  SmallVector<int64_t> strides;
  int64_t viewOffset;
  if (failed(getStridesAndOffset(type, strides, viewOffset)) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return false;
  loopStrides.assign(op.getNumLoops(), 0);
  offset = 0;
  AffineMap map = op.getMatchingIndexingMap(&operand);
  for (auto [position, expr] : llvm::enumerate(map.getResults())) {
    SmallVector<int64_t> coefficients(op.getNumLoops(), 0);
    int64_t constant = 0;
    if (!addLinearTerms(expr, 1, coefficients, constant))
      return false;
    for (auto [loop, coefficient] : llvm::enumerate(coefficients))
      loopStrides[loop] += coefficient * strides[position];
    offset += constant * strides[position];
  }
  return llvm::all_of(loopStrides, [](int64_t s) { return s >= 0; });
}

/// Orders `loops` outermost first by `primary`'s stride. (Loops an operand
/// walks contiguously are merged per operand where its offsets are
/// generated.)
void sortOutermostFirst(SmallVectorImpl<GemmLoop> &loops,
                        int64_t GemmLoop::*primary) {
  llvm::stable_sort(loops, [&](const GemmLoop &x, const GemmLoop &y) {
    return x.*primary > y.*primary;
  });
}

int64_t minimumStride(ArrayRef<GemmLoop> loops, int64_t GemmLoop::*stride) {
  int64_t minimum = std::numeric_limits<int64_t>::max();
  for (const GemmLoop &loop : loops)
    minimum = std::min(minimum, loop.*stride);
  return minimum;
}

/// Computes C^T = B^T A^T instead: the inputs trade places, and M and N.
void transpose(GemmShape &shape) {
  std::swap(shape.m, shape.n);
  for (auto *loops : {&shape.m, &shape.n, &shape.k, &shape.batch})
    for (GemmLoop &loop : *loops)
      std::swap(loop.a, loop.b);
  std::swap(shape.aOffset, shape.bOffset);
  shape.aInput = 1 - shape.aInput;
}

/// Whether the four-bit product's nibbles, scales and zero points are
/// each one contiguous buffer of the rank `order` gives them: row-major
/// [N, K / 2] and [K / G, N] matrices, or the fragment order's
/// [N/32, K/32, 8, 4, 2, 2, 4] and [K/G, N/32, 8, 4].
bool isFourBitLayout(linalg::LinalgOp op, FourBitOrder order) {
  bool fragments = order == FourBitOrder::Fragments;
  for (unsigned input : {kFourBitNibbles, kFourBitScales, kFourBitZeros}) {
    auto type = cast<MemRefType>(op.getDpsInputOperand(input)->get().getType());
    int64_t rank = !fragments ? 2 : input == kFourBitNibbles ? 7 : 4;
    SmallVector<int64_t> strides;
    int64_t offset;
    if (type.getRank() != rank ||
        failed(getStridesAndOffset(type, strides, offset)))
      return false;
    int64_t contiguous = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (strides[d] != contiguous)
        return false;
      contiguous *= type.getDimSize(d);
    }
  }
  return true;
}

} // namespace

std::optional<GemmShape> mlir::kiln::cuda::matchGemm(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1)
    return std::nullopt;
  std::optional<FourBitProduct> fourBit = matchFourBitProduct(op);
  if (!fourBit && (op.getNumDpsInputs() != 2 || !isMultiplyAccumulate(op)))
    return std::nullopt;
  // Floats of one type, or signed bytes into s32 (the INT8 tensor cores);
  // a four-bit product's form has f32 activations and sums.
  SmallVector<Type> elements;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.hasStaticShape())
      return std::nullopt;
    elements.push_back(type.getElementType());
  }
  bool floats = llvm::all_of(elements, [&](Type element) {
    return element == elements[0] &&
           (element.isF32() || element.isF16() || element.isBF16());
  });
  bool bytes = elements.size() == 3 && elements[0].isSignlessInteger(8) &&
               elements[1].isSignlessInteger(8) &&
               elements[2].isSignlessInteger(32);
  if (!fourBit && !floats && !bytes)
    return std::nullopt;
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  if (llvm::any_of(sizes, ShapedType::isDynamic))
    return std::nullopt;
  GemmShape shape;
  SmallVector<int64_t> a, b, c;
  if (!stridesOf(op, *op.getDpsInputOperand(0), a, shape.aOffset) ||
      !stridesOf(op, *op.getDpsInitOperand(0), c, shape.cOffset))
    return std::nullopt;
  if (fourBit) {
    if (!isFourBitLayout(op, fourBit->order))
      return std::nullopt;
    b.assign(op.getNumLoops(), 0);
    b[fourBit->nLoop] = 1;
    b[fourBit->kLoop] = sizes[fourBit->nLoop];
    shape.fourBitGroup = fourBit->groupSize;
    shape.fourBitFragments = fourBit->order == FourBitOrder::Fragments;
  } else if (!stridesOf(op, *op.getDpsInputOperand(1), b, shape.bOffset)) {
    return std::nullopt;
  }

  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned i = 0; i < op.getNumLoops(); ++i) {
    if (sizes[i] == 1)
      continue;
    GemmLoop loop{sizes[i], a[i], b[i], c[i]};
    bool reduction = iterators[i] == utils::IteratorType::reduction;
    // Every output element is written by one thread: the reduction loops
    // must not move C, and every parallel loop must.
    if (reduction != (c[i] == 0))
      return std::nullopt;
    if (reduction)
      shape.k.push_back(loop);
    else if (a[i] && !b[i])
      shape.m.push_back(loop);
    else if (b[i] && !a[i])
      shape.n.push_back(loop);
    else
      shape.batch.push_back(loop);
  }
  if (!shape.m.empty() && !shape.n.empty() &&
      minimumStride(shape.m, &GemmLoop::c) <
          minimumStride(shape.n, &GemmLoop::c))
    transpose(shape);
  sortOutermostFirst(shape.m, &GemmLoop::c);
  sortOutermostFirst(shape.n, &GemmLoop::c);
  sortOutermostFirst(shape.k, &GemmLoop::a);
  sortOutermostFirst(shape.batch, &GemmLoop::c);

  int64_t m = shape.mSize(), n = shape.nSize(), k = shape.kSize();
  // The kernel unpacks 8 k of a column at once, all in one group, from
  // the nibbles of one [N, K / 2] matrix.
  if (fourBit &&
      (shape.aInput != 0 || shape.n.size() != 1 || shape.k.size() != 1 ||
       !shape.batch.empty() || k % 8 != 0 || fourBit->groupSize % 8 != 0))
    return std::nullopt;
  if (shape.k.empty() || m < kMinGemmSide || n < kMinGemmSide ||
      m * n * k < kMinGemmWork || shape.batchSize() > kMaxGridYZ ||
      (m + 63) / 64 > kMaxGridYZ)
    return std::nullopt;
  return shape;
}
