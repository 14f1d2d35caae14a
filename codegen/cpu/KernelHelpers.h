//===- KernelHelpers.h - what the kernel lowerings share --------*- C++ -*-===//

#ifndef KILN_CODEGEN_CPU_KERNELHELPERS_H
#define KILN_CODEGEN_CPU_KERNELHELPERS_H

#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::kiln {

/// What every kernel emitter builds with: index constants and arithmetic
/// at the kernel's location. A kernel's symbolic extents (a batch, an
/// image's height and width) are index values read from its buffers; the
/// value-by-value arithmetic folds where both sides are constants, so a
/// static kernel's code stays what it was.
struct KernelEmitterBase {
  KernelEmitterBase(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value index(int64_t value) {
    return b.create<arith::ConstantIndexOp>(loc, value);
  }
  Value add(Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y); }
  Value sub(Value x, int64_t y) {
    return b.create<arith::SubIOp>(loc, x, index(y));
  }
  Value mul(Value x, int64_t y) {
    return b.create<arith::MulIOp>(loc, x, index(y));
  }
  /// Folding arithmetic on extents.
  Value times(Value x, Value y) {
    return b.createOrFold<arith::MulIOp>(loc, x, y);
  }
  Value plus(Value x, Value y) {
    return b.createOrFold<arith::AddIOp>(loc, x, y);
  }
  Value dividedBy(Value x, Value y) {
    return b.createOrFold<arith::DivUIOp>(loc, x, y);
  }
  Value remainder(Value x, Value y) {
    return b.createOrFold<arith::RemUIOp>(loc, x, y);
  }
  /// Dimension `d` of the memref `buffer`: a constant where it is static.
  Value extent(Value buffer, int64_t d) {
    auto type = cast<MemRefType>(buffer.getType());
    if (!type.isDynamicDim(d))
      return index(type.getDimSize(d));
    return b.create<memref::DimOp>(loc, buffer, d);
  }

  OpBuilder &b;
  Location loc;
};

/// A kernel emitter of scalar loops over buffers: loads, stores, i32
/// counters and loops whose bodies a callback builds.
struct ScalarEmitter : KernelEmitterBase {
  using KernelEmitterBase::KernelEmitterBase;

  Value i32(int64_t value) {
    return b.create<arith::ConstantIntOp>(loc, value, 32);
  }
  Value toIndex(Value value) {
    return b.create<arith::IndexCastOp>(loc, b.getIndexType(), value);
  }
  Value toI32(Value value) {
    return b.create<arith::IndexCastOp>(loc, b.getI32Type(), value);
  }
  Value load(Value buffer, ValueRange indices) {
    return b.create<memref::LoadOp>(loc, buffer, indices);
  }
  void store(Value value, Value buffer, ValueRange indices) {
    b.create<memref::StoreOp>(loc, value, buffer, indices);
  }
  /// A loop from `from` to `to` whose body `body` builds.
  void loop(Value from, Value to, function_ref<void(Value)> body) {
    b.create<scf::ForOp>(loc, from, to, index(1), ValueRange{},
                         [&](OpBuilder &, Location, Value i, ValueRange) {
                           body(i);
                           b.create<scf::YieldOp>(loc);
                         });
  }
};

/// `activation` applied to the float vector `x` (clip bounds for Clip).
Value applyActivation(OpBuilder &b, Location loc, Value x,
                      Activation activation, float clipMin, float clipMax);

/// Marks a kernel's `scf.parallel` as worth the session's threads, which
/// kiln-cpu-select-parallel-loops then keeps, when the kernel does at least
/// about 128 K operations (`operations`; a fork and join costs a few
/// thousand cycles). A count of loop iterations would misjudge a
/// microkernel, whose innermost step is dozens of vector operations.
void markThreaded(scf::ParallelOp loop, int64_t operations);

/// Vector accumulators a register-blocked kernel keeps beside its operand
/// vectors and broadcasts: 24 of AVX-512's 32 registers, 12 of AVX2's 16.
inline int64_t accumulatorBudget(int64_t vectorBits) {
  return vectorBits >= 512 ? 24 : 12;
}

/// Fails, with an error on `scope`, unless `vectorBits` is 256 or 512 (the
/// widths the kernels are written for).
LogicalResult checkVectorBits(Operation *scope, int64_t vectorBits);

/// The OpTy kernel ops under `scope` in their memref form, collected before
/// any is lowered, so that rewriting them does not disturb the walk.
template <typename OpTy>
SmallVector<OpTy> bufferForms(Operation *scope) {
  SmallVector<OpTy> ops;
  scope->walk([&](OpTy op) {
    if (isa<MemRefType>(op->getOperand(0).getType()))
      ops.push_back(op);
  });
  return ops;
}

/// `buffer` as a 1-D memref over the same elements, for index arithmetic
/// the kernels control. A view with strides is copied first (freed after
/// the op at `b`'s insertion point, which the kernel's code precedes).
Value flattenBuffer(OpBuilder &b, Location loc, Value buffer);

/// Stores the f32 vector `value` at `buffer[index]` (1-D), rounded to bf16
/// first when the buffer holds bf16, under `mask` when there is one.
void storeVector(OpBuilder &b, Location loc, Value value, Value buffer,
                 Value index, Value mask = {});

/// Values k..k+L (`lanes`) of row [i, j] of `buffer`'s 4-bit rows of
/// `depth` values as kiln.pack_kv4 writes them (L / 2 bytes of nibbles,
/// low first, then the row's f16 scale and zero point at byte D / 2), as an
/// f32 vector: (q - z) * s, the floats kiln.unpack_kv4 gives.
Value loadFourBitValues(OpBuilder &b, Location loc, Value buffer, Value i,
                        Value j, Value k, int64_t lanes, int64_t depth);

/// `count` copies of `value` of type `element` (f32 unless given; or an
/// integer type) as
/// a memref<?xelement>: a constant global of the module around `anchor`,
/// shared by every kernel that reads padding from it.
Value paddingFloats(OpBuilder &b, Operation *anchor, int64_t count,
                    Type element = {}, double value = 0.0);

/// The element the padded kernels read for one window position: `buffer`
/// at `offset`, or the zeros when the position is in the padding.
struct PaddedSource {
  Value buffer, offset;
};

/// `inside ? {data, offset} : {zeros, zeroOffset}`, data and zeros
/// memref<?xf32> (or of another, same element type).
PaddedSource selectPadded(OpBuilder &b, Location loc, Value inside, Value data,
                          Value offset, Value zeros, Value zeroOffset);

/// Whether `0 <= value < bound`, for signed index `value`.
Value isWithin(OpBuilder &b, Location loc, Value value, int64_t bound);
Value isWithin(OpBuilder &b, Location loc, Value value, Value bound);

/// An estimate of a kernel's operations for markThreaded: `perElement`
/// times the product of `extents`, or, when one is symbolic, enough to
/// thread (the sizes users run are large).
int64_t operationsOf(ArrayRef<Value> extents, int64_t perElement);

} // namespace mlir::kiln

#endif // KILN_CODEGEN_CPU_KERNELHELPERS_H
