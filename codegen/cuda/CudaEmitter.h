//===- CudaEmitter.h - the state the CUDA emitter's parts share -*- C++ -*-===//
//
// The translation of the model function to CUDA C++ (KernelEmitter.h) is
// one CudaEmitter, whose parts live by concept: buffer views
// (BufferViews.cpp), statements (Statements.cpp), how top-level ops become
// kernels (Partitioning.cpp), the GEMM and warp-reduction kernels
// (ReductionKernels.cpp), constant globals (Constants.cpp), and the walk
// over the function (KernelEmitter.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CODEGEN_CUDA_CUDAEMITTER_H
#define KILN_CODEGEN_CUDA_CUDAEMITTER_H

#include "codegen/common/NodeNames.h"
#include "codegen/cuda/KernelEmitter.h"

#include "codegen/common/Passes.h"
#include "codegen/cuda/GemmKernel.h"
#include "codegen/cuda/HostProgram.h"
#include "codegen/cuda/Passes.h"
#include "codegen/cuda/ScalarExpressions.h"
#include "codegen/cuda/WarpReduction.h"
#include "dialects/kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Location.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cinttypes>
#include <cstdio>


namespace mlir::kiln::cuda {

/// The fused attention kernel's block: warps, and query rows per block
/// (kAttentionWarps and kAttentionRows of kiln/cuda/attention.h).
constexpr int64_t kFusedAttentionWarps = 4;
constexpr int64_t kFusedAttentionRows = 4;

/// Threads per block of the element-per-thread kernels.
constexpr int64_t kBlockThreads = 256;
constexpr int64_t kMaxGridX = 2147483647;


/// A memref value: a byte pointer, then elements of `elementType` at
/// `offset` + sum(index_i * strides[i]).
struct BufferView {
  std::string bytes;
  int64_t byteShift = 0;
  std::string offset = "0";
  SmallVector<std::string> strides;
  Type elementType;
};

/// a + b * c as a C++ expression, folded where all are literals.
std::string addProduct(const std::string &a, const std::string &b,
                       const std::string &c);

/// The byte pointer where `buffer`'s elements are counted from.
std::string basePointer(const BufferView &buffer);

/// The element of `buffer` at `indices` (C++ expressions), as an lvalue of
/// `storage` type.
std::string elementAt(const BufferView &buffer, const std::string &storage,
                      ArrayRef<std::string> indices);

/// Writes `const int64_t` variables decoding `linear` into the given loops
/// (the last varying fastest).
void decodeLoops(ArrayRef<unsigned> loops, ArrayRef<int64_t> sizes,
                 const std::string &linear, StringRef prefix,
                 SmallVectorImpl<std::string> &ivs,
                 function_ref<void(const Twine &)> line);
/// The same with sizes as C++ expressions.
void decodeLoops(ArrayRef<unsigned> loops, ArrayRef<std::string> sizes,
                 const std::string &linear, StringRef prefix,
                 SmallVectorImpl<std::string> &ivs,
                 function_ref<void(const Twine &)> line);

/// Where a kernel's parameters go in its signature until its end, when the
/// slots it uses are known.
inline constexpr llvm::StringLiteral kParametersPlaceholder =
    "/*kiln-kernel-parameters*/";

class CudaEmitter {
public:
  CudaEmitter(ModuleOp module, GemmPrecision precision)
      : module(module), precision(precision) {}
  FailureOr<CudaProgram> run();

private:
  //===-- Buffers ---------------------------------------------------------===//
  LogicalResult collectRoots(func::FuncOp main);
  FailureOr<BufferView> view(Value memref);
  FailureOr<BufferView> viewOf(Operation *op, Value result);
  LogicalResult derivedStrides(Operation *op, const BufferView &source,
                               BufferView &view);
  std::optional<uint32_t> rootSlot(Value memref);
  FailureOr<std::string> element(Value memref, ValueRange indices,
                                 Operation *op, Type &elementType);
  std::string operandOrConstant(OpFoldResult value);

  //===-- Statements ------------------------------------------------------===//
  std::string &name(Value value) { return names[value]; }
  std::string fresh(StringRef prefix) {
    return (prefix + Twine(counter++)).str();
  }
  void line(const Twine &text) {
    source.append(indent * 2, ' ');
    source += text.str();
    source += '\n';
  }
  LogicalResult emitBlock(Block &block);
  LogicalResult emitOp(Operation *op);
  LogicalResult emitFor(scf::ForOp op);
  LogicalResult emitIf(scf::IfOp op);
  LogicalResult emitWhile(scf::WhileOp op);
  LogicalResult emitNestedParallel(scf::ParallelOp op);
  LogicalResult emitCopyLoops(memref::CopyOp op);
  LogicalResult assignResults(ValueRange results, ValueRange yielded);
  FailureOr<std::string> expression(Operation *op);
  LogicalResult declareResults(Operation *op);

  //===-- Kernels ---------------------------------------------------------===//
  LogicalResult materializeOutsideValues(ArrayRef<Operation *> ops);
  std::string kernelHeader(const std::string &kernelName,
                           ArrayRef<Operation *> ops);
  std::string nextKernelName() const {
    return "kiln_kernel_" + std::to_string(program.kernels.size());
  }
  /// Opens a kernel of `total` threads, one per element: its signature,
  /// the thread's index `thread` (threads past the end return) and the
  /// values it needs from outside `op`.
  LogicalResult beginElementKernel(const std::string &kernelName,
                                   Operation *op, uint64_t total);
  LogicalResult beginElementKernel(const std::string &kernelName,
                                   Operation *op, const std::string &total);
  LogicalResult emitRunTimeParallelKernel(scf::ParallelOp op);
  void finishElementKernel(const std::string &kernelName, Operation *op,
                           uint32_t total);
  LogicalResult emitParallelKernel(scf::ParallelOp op);
  LogicalResult emitSerialKernel(ArrayRef<Operation *> ops);
  LogicalResult emitCopyKernel(memref::CopyOp op);
  LogicalResult emitGemmKernel(linalg::LinalgOp op, const GemmShape &shape);
  LogicalResult emitWarpReductionKernel(linalg::LinalgOp op,
                                        const WarpReduction &match);
  bool vectorizable(linalg::LinalgOp op, const WarpReduction &match);
  /// kiln.attention as a launch of kiln::cuda::attention (AttentionKernel.cpp).
  LogicalResult emitAttentionKernel(AttentionOp op);
  FailureOr<std::string> attentionView(Value memref, ArrayRef<unsigned> order);
  LogicalResult emitVectorReduction(linalg::LinalgOp op,
                                    const WarpReduction &match,
                                    SmallVectorImpl<std::string> &ivs,
                                    const std::string &extent);
  FailureOr<std::string> loadAt(Value memref, ArrayRef<std::string> indices,
                                Operation *op);
  FailureOr<GemmOperand> gemmOperand(linalg::LinalgOp op, OpOperand &operand);
  /// Records a kernel of `threads` threads, one per element.
  void finishKernel(const std::string &kernelName, bool cooperative,
                    ArrayRef<Operation *> ops, uint64_t threads);
  void finishKernel(const std::string &kernelName, bool cooperative,
                    ArrayRef<Operation *> ops, uint32_t blockThreads,
                    const uint32_t (&grid)[3]);
  /// With sizes at run time: a launch on a grid of slots.
  void finishKernel(const std::string &kernelName, bool cooperative,
                    ArrayRef<Operation *> ops, uint32_t blockThreads,
                    ArrayRef<uint32_t> gridSlots);
  void recordKernel(const std::string &kernelName, bool cooperative,
                    ArrayRef<Operation *> ops, uint32_t blockThreads);
  LogicalResult emitGlobals();
  void emitPrologue();

  //===-- Sizes at run time (HostValues.cpp) ------------------------------===//
  /// Translates a top-level integer op into host steps; false (and no
  /// error) when it is not arithmetic on sizes.
  bool tryHostOp(Operation *op);
  /// The slot of a top-level integer value, or an error on `user`.
  FailureOr<uint32_t> hostValue(Value value, Operation *user);
  /// Whether a top-level integer load sizes a buffer or a grid (through
  /// arithmetic), so that the host must read it from the device.
  bool sizesOnHost(memref::LoadOp load);
  /// The load as a host step reading the device, after the kernels before.
  LogicalResult hostLoad(memref::LoadOp load);
  FailureOr<uint32_t> hostDim(Value memref, unsigned axis);
  FailureOr<uint32_t> hostBytes(Value memref);
  /// A slot's name in the current kernel (a parameter), or its constant.
  std::string slotName(uint32_t slot);
  /// The C++ expression of a host value in the current kernel.
  FailureOr<std::string> hostValueName(Value value, Operation *op);
  /// A dimension of a buffer as a C++ expression in the current kernel.
  FailureOr<std::string> dimName(Value memref, unsigned axis);
  /// The strides of a row-major buffer of `memref`'s (dynamic) shape.
  FailureOr<SmallVector<std::string>> identityStrides(Value memref);
  /// The trip count of a loop dimension as a slot.
  FailureOr<uint32_t> hostTripCount(Value lower, Value upper, Value step,
                                    Operation *op);
  /// A top-level allocation as a host step (an output's as its buffer).
  LogicalResult hostBuffer(memref::AllocOp alloc);
  LogicalResult freeHostBuffer(memref::DeallocOp dealloc);
  /// The outputs' shapes, from the returned buffers' sizes.
  LogicalResult shapeOutputs(func::ReturnOp returnOp);

  ModuleOp module;
  GemmPrecision precision;
  /// Whether some size is known only at run time: the program then has
  /// host steps, and each kernel takes the slots it uses.
  bool sizedAtRunTime = false;
  std::optional<HostProgram> host;
  DenseMap<Value, uint32_t> hostSlots;
  DenseMap<Value, unsigned> inputIndex;
  /// The returned buffers, by result number.
  DenseMap<Value, unsigned> outputIndex;
  /// Slots holding buffers (the kernels' `unsigned char *` parameters).
  DenseSet<uint32_t> pointerSlots;
  /// The current kernel's parameters, in order.
  llvm::SetVector<uint32_t> kernelSlots;
  func::FuncOp main;
  CudaProgram program;
  std::string source;
  int indent = 0;
  unsigned counter = 0;
  /// Kernel parameter names, in the order every kernel takes them.
  SmallVector<std::string> parameters;
  /// The root of each buffer the model function sees: its arguments and
  /// the allocations it returns.
  DenseMap<Value, std::string> roots;
  /// Per kernel: the C++ expression or variable of each value in scope.
  DenseMap<Value, std::string> names;
  DenseMap<Value, BufferView> views;
  /// The constant globals that stay in the code, by symbol.
  llvm::MapVector<StringAttr, std::string> globals;
};

} // namespace mlir::kiln::cuda

#endif // KILN_CODEGEN_CUDA_CUDAEMITTER_H
