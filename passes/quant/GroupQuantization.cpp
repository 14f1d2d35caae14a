//===- GroupQuantization.cpp - weights to integers in groups --------------===//

#include "passes/quant/GroupQuantization.h"

#include "dialects/kiln/KilnOps.h"
#include "dialects/onnx/OnnxConstants.h"

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
  float top = float((1 << bits) - 1);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t j = 0; j < n; ++j) {
      float low = weight[g * groupSize * n + j], high = low;
      for (int64_t i = 1; i < groupSize; ++i) {
        float w = weight[(g * groupSize + i) * n + j];
        low = std::min(low, w);
        high = std::max(high, w);
      }
      uint16_t scaleBits = toF16Bits(std::max((high - low) / top, 1e-5f));
      float scale = fromF16Bits(scaleBits);
      float zero = std::clamp(std::nearbyint(-low / scale), 0.0f, top);
      q.scales[g * n + j] = scaleBits;
      q.zeros[g * n + j] = uint8_t(zero);
      for (int64_t i = 0; i < groupSize; ++i) {
        int64_t at = (g * groupSize + i) * n + j;
        q.values[at] = uint8_t(
            std::clamp(std::nearbyint(weight[at] / scale) + zero, 0.0f, top));
      }
    }
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
