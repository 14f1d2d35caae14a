//===- device.h - the Kiln device intrinsics --------------------*- C++ -*-===//
//
// Every piece of Kiln device code — generated kernels and hand-written ones
// — includes this header and nothing else. Under nvcc the intrinsics are
// inline PTX; under a host compiler the header pulls in the SIMT emulator
// (kiln/cuda/emulator.h) and implements the same intrinsics on it, following
// the PTX ISA's fragment layouts lane by lane, so a kernel behaves the same
// on both.
//
// Intrinsics (namespace kiln::cuda):
//   toTf32                   cvt.rna.tf32.f32
//   mmaTf32 (m16n8k8)        mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
//   mmaF16, mmaBf16 (m16n8k16) mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}
//   mmaS8 (m16n8k32)         mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32
//   ldmatrixX4               ldmatrix.sync.aligned.m8n8.x4.shared.b16
//   cpAsync16, cpAsyncCommit cp.async.cg.shared.global, cp.async.commit_group
//   cpAsyncWait<N>, cpAsyncWaitAll  cp.async.wait_group, cp.async.wait_all
//                            (emulated: the copies land at the wait)
//   bytePerm                 prmt.b32 (__byte_perm)
//   subBytes                 vsub4 (__vsub4): four wrapping byte differences
//   f16/bf16 <-> float       bit-exact conversions, round to nearest even
//   Float4                   a 16-byte vector load of four floats
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CUDA_DEVICE_H
#define KILN_CUDA_DEVICE_H

#ifdef __CUDACC__
#include <cstdint>
#define KILN_DEVICE __device__ __forceinline__
#else
#include "kiln/cuda/emulator.h"
#define KILN_DEVICE inline
#endif

namespace kiln::cuda {

/// Four consecutive floats, read with one 16-byte load (ld.global.v4.f32)
/// from a 16-byte-aligned address.
struct alignas(16) Float4 {
  float x, y, z, w;
};

//===-- Scalar conversions (identical on both sides) ----------------------===//

KILN_DEVICE uint32_t floatBits(float value) {
  uint32_t bits;
  memcpy(&bits, &value, 4);
  return bits;
}

KILN_DEVICE float bitsFloat(uint32_t bits) {
  float value;
  memcpy(&value, &bits, 4);
  return value;
}

KILN_DEVICE uint64_t doubleBits(double value) {
  uint64_t bits;
  memcpy(&bits, &value, 8);
  return bits;
}

KILN_DEVICE double bitsDouble(uint64_t bits) {
  double value;
  memcpy(&value, &bits, 8);
  return value;
}

KILN_DEVICE float bf16ToFloat(uint16_t bits) {
  return bitsFloat(uint32_t(bits) << 16);
}

KILN_DEVICE uint16_t floatToBf16(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN stays a quiet NaN
    return uint16_t((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

KILN_DEVICE float f16ToFloat(uint16_t half) {
  uint32_t sign = uint32_t(half & 0x8000u) << 16;
  uint32_t exponent = (half >> 10) & 0x1fu;
  uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0x1f)
    return bitsFloat(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in float.
    float magnitude = float(mantissa) * 5.9604644775390625e-8f;
    return sign ? -magnitude : magnitude;
  }
  return bitsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

KILN_DEVICE uint16_t floatToF16(float value) {
  uint32_t bits = floatBits(value);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
  uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u)
    return uint16_t(sign | 0x7e00u);
  if (magnitude >= 0x477ff000u) // rounds to 65520 or more: infinity
    return uint16_t(sign | 0x7c00u);
  if (magnitude < 0x38800000u) {
    // Below the smallest normal half: round magnitude / 2^-24 to an integer
    // (the float addition rounds to nearest even).
    float scaled = bitsFloat(magnitude) * 16777216.0f;
    float rounded = (scaled + 8388608.0f) - 8388608.0f;
    return uint16_t(sign | uint16_t(rounded));
  }
  uint32_t rounding = 0xfffu + ((magnitude >> 13) & 1u);
  return uint16_t(sign | ((magnitude - 0x38000000u + rounding) >> 13));
}

/// Float arithmetic on 16-bit types is done in float and rounded after each
/// operation, which is exact for +, -, *, / and sqrt (float has more than
/// twice the precision plus two bits).
KILN_DEVICE float roundF16(float value) { return f16ToFloat(floatToF16(value)); }
KILN_DEVICE float roundBf16(float value) {
  return bf16ToFloat(floatToBf16(value));
}

//===-- Semantics of MLIR's arith ops that C++ lacks ----------------------===//

/// arith.maximumf / minimumf: NaN wins, and +0 is above -0.
template <typename T> KILN_DEVICE T maximumf(T a, T b) {
  if (a != a || b != b)
    return a + b;
  if (a == b)
    return signbit(a) ? b : a;
  return a > b ? a : b;
}
template <typename T> KILN_DEVICE T minimumf(T a, T b) {
  if (a != a || b != b)
    return a + b;
  if (a == b)
    return signbit(a) ? a : b;
  return a < b ? a : b;
}

/// Float to integer saturates and maps NaN to 0, as the GPU's cvt.rzi.sat
/// does (C++ leaves both undefined).
template <typename Int, typename Float> KILN_DEVICE Int floatToInt(Float value) {
  if (value != value)
    return 0;
  constexpr Int lowest = Int(Int(0) - Int(1)) < Int(0)
                             ? Int(Int(1) << (sizeof(Int) * 8 - 1))
                             : Int(0);
  constexpr Int highest = Int(~lowest);
  if (value <= Float(lowest))
    return lowest;
  if (value >= Float(highest))
    return highest;
  return Int(value);
}

template <typename Int> KILN_DEVICE Int floorDiv(Int a, Int b) {
  Int quotient = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? quotient - 1 : quotient;
}
template <typename Int> KILN_DEVICE Int ceilDiv(Int a, Int b) {
  Int quotient = a / b;
  return (a % b != 0 && ((a < 0) == (b < 0))) ? quotient + 1 : quotient;
}

/// Rounds to TF32 (10 mantissa bits), to nearest with ties away from zero.
KILN_DEVICE uint32_t toTf32(float value) {
#ifdef __CUDACC__
  uint32_t result;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(result) : "f"(value));
  return result;
#else
  uint32_t bits = floatBits(value);
  if ((bits & 0x7f800000u) == 0x7f800000u)
    return bits;
  return (bits + 0x1000u) & 0xffffe000u;
#endif
}

//===-- Tensor-core MMA ---------------------------------------------------===//
//
// D = A * B + C for one warp, A row-major and B column-major, FP32
// accumulation. Fragments as in the PTX ISA ("Matrix fragments for
// mma.m16n8k8" and "mma.m16n8k16"), with g = lane / 4 and t = lane % 4:
//   C, D (16x8 f32):  d[i] at row g + 8 * (i >= 2), column 2t + (i & 1)
//   tf32 A (16x8):    a[i] at row g + 8 * (i & 1), column t + 4 * (i >= 2)
//   tf32 B (8x8):     b[i] at row t + 4 * i, column g
//   f16 A (16x16):    half j of a (j = 0..7, two per register, low first)
//                     at row g + 8 * ((j / 2) & 1), column 2t + (j & 1) +
//                     8 * (j >= 4)
//   f16 B (16x8):     half j of b (j = 0..3) at row 2t + (j & 1) +
//                     8 * (j >= 2), column g
//   s8 A (16x32), B (32x8): the f16 layouts byte for byte, each half
//                     holding two consecutive k (low byte first); s32
//                     C and D as f32's

#ifndef __CUDACC__
namespace detail {

/// c + a * b as the tensor cores accumulate: one rounding (FP32), or
/// wrapping two's complement (s32).
inline float multiplyAdd(float a, float b, float c) { return std::fma(a, b, c); }
inline int32_t multiplyAdd(int32_t a, int32_t b, int32_t c) {
  return int32_t(uint32_t(c) + uint32_t(a) * uint32_t(b));
}

/// Gathers the whole warp's fragments, then computes this lane's four
/// accumulators. `elementA(lanes, row, k)` and `elementB(lanes, k, column)`
/// read an element from the published fragments.
template <int K, typename Acc, typename ElementA, typename ElementB>
void emulateMma(Acc (&d)[4], const uint32_t *a, int aWords, const uint32_t *b,
                int bWords, const Acc (&c)[4], ElementA elementA,
                ElementB elementB) {
  static_assert(sizeof(Acc) == 4, "accumulators are 32-bit");
  kiln_emu_thread *me = emu::self;
  uint32_t *mine = emu::slot(me, me->lane);
  memcpy(mine, a, aWords * 4);
  memcpy(mine + aWords, b, bWords * 4);
  memcpy(mine + aWords + bWords, c, 16);
  emu::syncWarp();
  me = emu::self;
  auto lanes = [me](unsigned lane) { return emu::slot(me, lane); };
  unsigned g = me->lane / 4, t = me->lane % 4;
  Acc result[4];
  for (int i = 0; i < 4; ++i) {
    int row = g + 8 * (i >= 2), column = 2 * t + (i & 1);
    Acc sum = c[i];
    for (int k = 0; k < K; ++k)
      sum = multiplyAdd(elementA(lanes, aWords, row, k),
                        elementB(lanes, aWords, k, column), sum);
    result[i] = sum;
  }
  emu::syncWarp();
  for (int i = 0; i < 4; ++i)
    d[i] = result[i];
}

/// The tensor cores read only the TF32 bits of each operand.
inline float tf32Operand(uint32_t word) { return bitsFloat(word & 0xffffe000u); }

inline uint16_t halfOf(const uint32_t *words, int j) {
  return uint16_t(words[j / 2] >> (16 * (j & 1)));
}

template <float (*Convert)(uint16_t)>
void emulateMma16(float (&d)[4], const uint32_t (&a)[4],
                  const uint32_t (&b)[2], const float (&c)[4]) {
  emulateMma<16>(
      d, a, 4, b, 2, c,
      [](auto lanes, int, int row, int k) {
        unsigned lane = (row % 8) * 4 + (k % 8) / 2;
        int j = (k & 1) + 2 * (row >= 8) + 4 * (k >= 8);
        return Convert(halfOf(lanes(lane), j));
      },
      [](auto lanes, int aWords, int k, int column) {
        unsigned lane = column * 4 + (k % 8) / 2;
        int j = (k & 1) + 2 * (k >= 8);
        return Convert(halfOf(lanes(lane) + aWords, j));
      });
}

/// Signed byte j of a fragment's registers (four per register, low first).
inline int32_t byteOf(const uint32_t *words, int j) {
  return int8_t(uint8_t(words[j / 4] >> (8 * (j & 3))));
}

} // namespace detail
#endif

KILN_DEVICE void mmaTf32(float (&d)[4], const uint32_t (&a)[4],
                         const uint32_t (&b)[2], const float (&c)[4]) {
#ifdef __CUDACC__
  asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};"
               : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
#else
  detail::emulateMma<8>(
      d, a, 4, b, 2, c,
      [](auto lanes, int, int row, int k) {
        unsigned lane = (row % 8) * 4 + k % 4;
        int i = (row >= 8) + 2 * (k >= 4);
        return detail::tf32Operand(lanes(lane)[i]);
      },
      [](auto lanes, int aWords, int k, int column) {
        unsigned lane = column * 4 + k % 4;
        return detail::tf32Operand(lanes(lane)[aWords + (k >= 4)]);
      });
#endif
}

KILN_DEVICE void mmaF16(float (&d)[4], const uint32_t (&a)[4],
                        const uint32_t (&b)[2], const float (&c)[4]) {
#ifdef __CUDACC__
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};"
               : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
#else
  detail::emulateMma16<f16ToFloat>(d, a, b, c);
#endif
}

KILN_DEVICE void mmaBf16(float (&d)[4], const uint32_t (&a)[4],
                         const uint32_t (&b)[2], const float (&c)[4]) {
#ifdef __CUDACC__
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};"
               : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), "f"(c[3]));
#else
  detail::emulateMma16<bf16ToFloat>(d, a, b, c);
#endif
}

KILN_DEVICE void mmaS8(int32_t (&d)[4], const uint32_t (&a)[4],
                       const uint32_t (&b)[2], const int32_t (&c)[4]) {
#ifdef __CUDACC__
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};"
               : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]), "r"(c[0]), "r"(c[1]), "r"(c[2]), "r"(c[3]));
#else
  // Register i of A holds row g + 8 * (i & 1), k 4t..4t+3 (+16 for i >= 2);
  // register i of B holds k 4t..4t+3 (+16 for i = 1) of column g.
  detail::emulateMma<32>(
      d, a, 4, b, 2, c,
      [](auto lanes, int, int row, int k) {
        unsigned lane = (row % 8) * 4 + (k % 16) / 4;
        int j = 4 * ((row >= 8) + 2 * (k >= 16)) + k % 4;
        return detail::byteOf(lanes(lane), j);
      },
      [](auto lanes, int aWords, int k, int column) {
        unsigned lane = column * 4 + (k % 16) / 4;
        int j = 4 * (k >= 16) + k % 4;
        return detail::byteOf(lanes(lane) + aWords, j);
      });
#endif
}

//===-- Bytes in a register -----------------------------------------------===//

/// Byte i of the result is byte `selector >> 4i & 7` of the eight bytes of
/// `low` (0-3) and `high` (4-7).
KILN_DEVICE uint32_t bytePerm(uint32_t low, uint32_t high, uint32_t selector) {
#ifdef __CUDACC__
  return __byte_perm(low, high, selector);
#else
  uint64_t bytes = uint64_t(high) << 32 | low;
  uint32_t result = 0;
  for (int i = 0; i < 4; ++i)
    result |= uint32_t(uint8_t(bytes >> (8 * ((selector >> (4 * i)) & 7))))
              << (8 * i);
  return result;
#endif
}

/// The four byte differences a - b, each modulo 256.
KILN_DEVICE uint32_t subBytes(uint32_t a, uint32_t b) {
#ifdef __CUDACC__
  return __vsub4(a, b);
#else
  uint32_t result = 0;
  for (int i = 0; i < 32; i += 8)
    result |= uint32_t(uint8_t((a >> i) - (b >> i))) << i;
  return result;
#endif
}

//===-- Shared-memory staging ---------------------------------------------===//

/// Loads four 8x8 matrices of 16-bit elements from shared memory: lane
/// 8m + r gives the address of row r of matrix m; register m of lane l
/// receives elements 2(l % 4) and 2(l % 4) + 1 of row l / 4 of matrix m.
KILN_DEVICE void ldmatrixX4(uint32_t (&r)[4], const void *row) {
#ifdef __CUDACC__
  unsigned address = unsigned(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
#else
  kiln_emu_thread *me = emu::self;
  memcpy(emu::slot(me, me->lane), &row, sizeof row);
  emu::syncWarp();
  me = emu::self;
  for (int m = 0; m < 4; ++m) {
    const unsigned char *source;
    memcpy(&source, emu::slot(me, 8 * m + me->lane / 4), sizeof source);
    memcpy(&r[m], source + 4 * (me->lane % 4), 4);
  }
  emu::syncWarp();
#endif
}

/// Copies 16 bytes from global to shared memory without staging through
/// registers; complete after a cpAsyncWait that covers its group, or
/// cpAsyncWaitAll().
KILN_DEVICE void cpAsync16(void *shared, const void *global) {
#ifdef __CUDACC__
  unsigned address = unsigned(__cvta_generic_to_shared(shared));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(address),
               "l"(global));
#else
  emu::asyncCopies->issue(shared, global);
#endif
}

/// Closes the group of the copies issued since the last commit.
KILN_DEVICE void cpAsyncCommit() {
#ifdef __CUDACC__
  asm volatile("cp.async.commit_group;");
#else
  emu::asyncCopies->commit();
#endif
}

/// Waits until at most `Pending` of the most recent committed groups are
/// still in flight (this thread's copies; a barrier publishes them).
template <unsigned Pending> KILN_DEVICE void cpAsyncWait() {
#ifdef __CUDACC__
  asm volatile("cp.async.wait_group %0;" ::"n"(Pending));
#else
  emu::asyncCopies->wait(Pending);
#endif
}

KILN_DEVICE void cpAsyncWaitAll() {
#ifdef __CUDACC__
  asm volatile("cp.async.wait_all;");
#else
  emu::asyncCopies->waitAll();
#endif
}

} // namespace kiln::cuda

#endif // KILN_CUDA_DEVICE_H
