//===- GroupQuantization.cpp - weights to integers in groups --------------===//

#include "passes/quant/GroupQuantization.h"

#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"
#include "passes/quant/WeightProducts.h"

#include "llvm/ADT/APFloat.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::quant;

uint16_t quant::toF16Bits(float value) {
  llvm::APFloat half(value);
  bool lost;
  half.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
               &lost);
  return uint16_t(half.bitcastToAPInt().getZExtValue());
}

float quant::fromF16Bits(uint16_t bits) {
  llvm::APFloat half(llvm::APFloat::IEEEhalf(), llvm::APInt(16, bits));
  bool lost;
  half.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven,
               &lost);
  return half.convertToFloat();
}

quant::GroupParameters quant::groupParametersOf(const float *values,
                                                int64_t count, int64_t stride,
                                                int bits) {
  float top = float((1 << bits) - 1);
  float low = values[0], high = low;
  for (int64_t i = 1; i < count; ++i) {
    low = std::min(low, values[i * stride]);
    high = std::max(high, values[i * stride]);
  }
  uint16_t scaleBits = toF16Bits(std::max((high - low) / top, 1e-5f));
  float scale = fromF16Bits(scaleBits);
  return {scaleBits, scale, std::clamp(std::nearbyint(-low / scale), 0.0f, top),
          top};
}

void quant::quantizeGroup(const float *values, int64_t count, int64_t stride,
                          int bits, uint8_t *q, uint16_t &scaleBits,
                          uint8_t &zeroPoint) {
  GroupParameters p = groupParametersOf(values, count, stride, bits);
  scaleBits = p.scaleBits;
  zeroPoint = uint8_t(p.zero);
  for (int64_t i = 0; i < count; ++i)
    q[i * stride] = uint8_t(p.level(values[i * stride]));
}

void quant::fakeQuantizeGroup(const float *values, int64_t count,
                              int64_t stride, int bits, float *out) {
  // No integers kept: the clipping search calls this per group, channel
  // and candidate.
  GroupParameters p = groupParametersOf(values, count, stride, bits);
  for (int64_t i = 0; i < count; ++i)
    out[i * stride] = p.value(p.level(values[i * stride]));
}

GroupQuantized quant::quantizeGroups(ArrayRef<float> weight, int64_t k,
                                     int64_t n, int64_t groupSize, int bits) {
  assert(k % groupSize == 0 && int64_t(weight.size()) == k * n);
  GroupQuantized q;
  q.k = k;
  q.n = n;
  q.groupSize = groupSize;
  q.bits = bits;
  q.values.resize(k * n);
  int64_t groups = k / groupSize;
  q.scales.resize(groups * n);
  q.zeros.resize(groups * n);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t j = 0; j < n; ++j)
      quantizeGroup(weight.data() + g * groupSize * n + j, groupSize, n, bits,
                    q.values.data() + g * groupSize * n + j,
                    q.scales[g * n + j], q.zeros[g * n + j]);
  return q;
}

std::vector<float> quant::dequantize(const GroupQuantized &q) {
  std::vector<float> weight(q.k * q.n);
  for (int64_t i = 0; i < q.k; ++i)
    for (int64_t j = 0; j < q.n; ++j) {
      int64_t group = (i / q.groupSize) * q.n + j;
      weight[i * q.n + j] =
          (float(q.values[i * q.n + j]) - float(q.zeros[group])) *
          fromF16Bits(q.scales[group]);
    }
  return weight;
}

namespace {

Value rawConstant(OpBuilder &builder, Location loc, RankedTensorType type,
                  const void *data, size_t bytes) {
  auto attr = DenseElementsAttr::getFromRawBuffer(
      type, ArrayRef<char>(static_cast<const char *>(data), bytes));
  return onnx::createConstant(builder, loc, attr);
}

} // namespace

Value quant::createDequantize(OpBuilder &builder, Location loc,
                              const GroupQuantized &q) {
  Type integer = builder.getIntegerType(q.bits, /*isSigned=*/false);
  auto valuesType = RankedTensorType::get({q.k, q.n}, integer);
  auto groupsType = RankedTensorType::get({q.k / q.groupSize, q.n}, integer);
  Value values =
      rawConstant(builder, loc, valuesType, q.values.data(), q.values.size());
  Value scales =
      rawConstant(builder, loc, groupsType.clone(builder.getF16Type()),
                  q.scales.data(), 2 * q.scales.size());
  Value zeros =
      rawConstant(builder, loc, groupsType, q.zeros.data(), q.zeros.size());
  return builder.create<DequantizeOp>(
      loc, RankedTensorType::get({q.k, q.n}, builder.getF32Type()), values,
      scales, zeros, /*axis=*/0, q.groupSize);
}

void quant::replaceWeight(Operation *product, const GroupQuantized &q) {
  OpBuilder builder(product);
  Value weight = product->getOperand(1);
  product->setOperand(1, createDequantize(builder, weight.getLoc(), q));
  // Two 4-bit values a byte once packed; an f16 scale and a 4-bit zero
  // point per group.
  int64_t groups = (q.k / q.groupSize) * q.n;
  recordQuantizedWeight(product, 4 * q.k * q.n,
                        q.k * q.n / 2 + 2 * groups + (groups + 1) / 2);
}
