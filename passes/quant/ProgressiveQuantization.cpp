//===- ProgressiveQuantization.cpp - QoQ's two-level 4-bit weights --------===//

#include "passes/quant/ProgressiveQuantization.h"

#include "passes/quant/GroupQuantization.h"

#include <algorithm>
#include <cassert>
#include <cmath>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::quant;

ChannelQuantized quant::quantizeChannels(ArrayRef<float> weight, int64_t k,
                                         int64_t n, int range) {
  assert(int64_t(weight.size()) == k * n);
  ChannelQuantized level1;
  level1.k = k;
  level1.n = n;
  level1.scales.assign(n, 0.0f);
  for (int64_t i = 0; i < k * n; ++i)
    level1.scales[i % n] = std::max(level1.scales[i % n], std::fabs(weight[i]));
  for (float &scale : level1.scales)
    scale = scale > 0 ? scale / float(range) : 1.0f;
  level1.integers.resize(k * n);
  float limit = float(range);
  for (int64_t i = 0; i < k * n; ++i)
    level1.integers[i] = std::clamp(
        std::nearbyint(weight[i] / level1.scales[i % n]), -limit, limit);
  return level1;
}

GroupParameters quant::integerGroupParametersOf(const float *integers,
                                                int64_t count, int64_t stride) {
  float low = integers[0], high = low;
  for (int64_t i = 1; i < count; ++i) {
    low = std::min(low, integers[i * stride]);
    high = std::max(high, integers[i * stride]);
  }
  float scale = std::max(1.0f, std::nearbyint((high - low) / 15.0f));
  return {/*scaleBits=*/0, scale,
          std::clamp(std::nearbyint(-low / scale), 0.0f, 15.0f), 15.0f};
}

void quant::quantizeIntegerGroup(const float *integers, int64_t count,
                                 int64_t stride, uint8_t *q, uint8_t &scale,
                                 uint8_t &zero) {
  GroupParameters group = integerGroupParametersOf(integers, count, stride);
  scale = uint8_t(group.scale);
  zero = uint8_t(group.zero);
  for (int64_t i = 0; i < count; ++i)
    q[i * stride] = uint8_t(group.level(integers[i * stride]));
}

void quant::fakeQuantizeIntegerGroup(const float *integers, int64_t count,
                                     int64_t stride, float *out) {
  GroupParameters group = integerGroupParametersOf(integers, count, stride);
  for (int64_t i = 0; i < count; ++i)
    out[i * stride] = group.value(group.level(integers[i * stride]));
}

ProgressiveQuantized
quant::quantizeIntegerGroups(const ChannelQuantized &level1,
                             int64_t groupSize) {
  int64_t k = level1.k, n = level1.n;
  assert(groupSize > 0 && k % groupSize == 0);
  ProgressiveQuantized q;
  q.k = k;
  q.n = n;
  q.groupSize = groupSize;
  q.channelScales = level1.scales;
  q.values.resize(k * n);
  int64_t groups = k / groupSize;
  q.groupScales.resize(groups * n);
  q.zeros.resize(groups * n);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t j = 0; j < n; ++j)
      quantizeIntegerGroup(level1.integers.data() + g * groupSize * n + j,
                           groupSize, n,
                           q.values.data() + g * groupSize * n + j,
                           q.groupScales[g * n + j], q.zeros[g * n + j]);
  return q;
}

std::vector<float> quant::dequantize(const ProgressiveQuantized &q) {
  std::vector<float> weight(q.k * q.n);
  for (int64_t i = 0; i < q.k; ++i)
    for (int64_t j = 0; j < q.n; ++j) {
      int64_t group = (i / q.groupSize) * q.n + j;
      float integer = (float(q.values[i * q.n + j]) - float(q.zeros[group])) *
                      float(q.groupScales[group]);
      weight[i * q.n + j] = integer * q.channelScales[j];
    }
  return weight;
}

Value quant::createIntegerDequantize(OpBuilder &builder, Location loc,
                                     const ProgressiveQuantized &q) {
  // The same constants as a 4-bit weight's, the scales small integers
  // (exact in f16).
  GroupQuantized groups;
  groups.k = q.k;
  groups.n = q.n;
  groups.groupSize = q.groupSize;
  groups.values = q.values;
  groups.zeros = q.zeros;
  groups.scales.reserve(q.groupScales.size());
  for (uint8_t scale : q.groupScales)
    groups.scales.push_back(toF16Bits(float(scale)));
  return createDequantize(builder, loc, groups);
}
