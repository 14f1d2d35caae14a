//===- LoopEmitter.h - kernels written as scf loops -------------*- C++ -*-===//
//
// What the lowerings of Kiln's kernel ops to plain scf loops over buffers
// share, whichever target then runs the loops (the CPU's threads and
// vectors, or CUDA's one thread per parallel iteration): index arithmetic,
// scalar loads, stores and loops, and the marking of the parallel loops
// worth the CPU session's threads.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_COMMON_LOOPEMITTER_H
#define KILN_CODEGEN_COMMON_LOOPEMITTER_H

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
  Value f32(float value) {
    return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(value));
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
  /// A loop from `from` to `to` by `step` carrying `initial`, `body`
  /// giving the next values from the induction variable and the current
  /// ones: the last values.
  ValueRange fold(Value from, Value to, Value step, ValueRange initial,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    return b
        .create<scf::ForOp>(
            loc, from, to, step, initial,
            [&](OpBuilder &, Location, Value i, ValueRange carried) {
              b.create<scf::YieldOp>(loc, body(i, carried));
            })
        .getResults();
  }
  ValueRange fold(Value from, Value to, ValueRange initial,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    return fold(from, to, index(1), initial, body);
  }
  /// A parallel loop over [0, `extents`), its body built by `body` from
  /// the induction variables.
  void parallel(ValueRange extents, function_ref<void(ValueRange)> body) {
    SmallVector<Value> zeros(extents.size(), index(0)),
        ones(extents.size(), index(1));
    auto loop = b.create<scf::ParallelOp>(loc, zeros, extents, ones);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVars());
  }
};

/// Marks a kernel's `scf.parallel` as worth the session's threads, which
/// kiln-cpu-select-parallel-loops then keeps, when the kernel does at least
/// about 128 K operations (`operations`; a fork and join costs a few
/// thousand cycles). A count of loop iterations would misjudge a
/// microkernel, whose innermost step is dozens of vector operations.
void markThreaded(scf::ParallelOp loop, int64_t operations);

/// An estimate of a kernel's operations for markThreaded: `perElement`
/// times the product of `extents`, or, when one is symbolic, enough to
/// thread (the sizes users run are large).
int64_t operationsOf(ArrayRef<Value> extents, int64_t perElement);

/// The OpTy kernel ops under `scope` in their memref form, collected before
/// any is lowered, so that rewriting them does not disturb the walk.
template <typename OpTy> SmallVector<OpTy> bufferForms(Operation *scope) {
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

} // namespace mlir::kiln

#endif // KILN_CODEGEN_COMMON_LOOPEMITTER_H
